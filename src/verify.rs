//! Full verification of a journal from its first byte: record chain, every
//! entry's canonical form, id and signatures (batched, on all cores), key
//! validity at that point, and references.
//!
//! The pipeline works in chunks of records: read and chain-check
//! sequentially, decode in parallel, apply the registry rules sequentially
//! (they depend on order), then check the chunk's signatures in parallel.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::entry::{Entry, EntryId};
use crate::journal::{Hash, JournalError, Resume, Scanner, TornTail};
use crate::ledger::SET_DIGEST_CONTEXT;
use crate::registry::Registry;
use crate::sigs::{self, SigItem};

/// Records per pipeline chunk.
const CHUNK_RECORDS: usize = 8192;

/// What a successful verification establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The ledger id.
    pub ledger: String,
    /// Number of entries.
    pub entries: u64,
    /// Number of signatures checked.
    pub signatures: u64,
    /// The registry at the end.
    pub registry: Registry,
    /// The journal chain head.
    pub head: Hash,
    /// The order-independent set digest.
    pub set_digest: Hash,
    /// The Merkle root over the journal's entries (RFC 6962 shape, blake3).
    pub merkle_root: Hash,
    /// Entries per kind.
    pub kinds: BTreeMap<String, u64>,
    /// A torn tail found at the end (only possible if the journal was not
    /// opened for writing since the crash).
    pub torn: Option<TornTail>,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {seq}{}: {what}", id.map(|i| format!(" (entry {})", i.short())).unwrap_or_default())]
pub struct Failure {
    /// Sequence number of the first bad record.
    pub seq: u64,
    /// Its entry id, when the bytes decoded far enough to have one.
    pub id: Option<EntryId>,
    /// What is wrong.
    pub what: String,
}

/// What the sequential rules pass carries from record to record.
struct RulesState {
    ledger: String,
    registry: Registry,
    seen: crate::entry::IdSet,
    referenceable: HashMap<EntryId, Entry>,
    kinds: BTreeMap<String, u64>,
}

/// Signatures to check and, for each, its record (sequence number, entry id).
type SigBatch = (Vec<SigItem>, Vec<(u64, EntryId)>);

/// Raw journal records: sequence number, record hash, entry bytes.
type Records = [(u64, Hash, Vec<u8>)];

/// Decodes a chunk (in parallel) and applies the rules in order. Returns the
/// signatures to check, their records, and the first rule failure (the
/// signatures returned are those of the records before it).
fn rules_pass(st: &mut RulesState, chunk: &Records) -> (Vec<SigItem>, Vec<(u64, EntryId)>, Option<Failure>) {
    let decoded: Vec<Result<(Entry, Vec<u8>), Failure>> = chunk
        .par_iter()
        .map(|(seq, _, bytes)| {
            let e = Entry::decode(bytes).map_err(|e| Failure { seq: *seq, id: None, what: e.to_string() })?;
            let msg = e.signing_input();
            Ok((e, msg))
        })
        .collect();
    let mut items = Vec::with_capacity(chunk.len());
    let mut owners = Vec::with_capacity(chunk.len());
    for ((seq, _, _), e) in chunk.iter().zip(decoded) {
        let (e, mut msg) = match e {
            Ok(x) => x,
            Err(f) => return (items, owners, Some(f)),
        };
        let fail = |what: String| Some(Failure { seq: *seq, id: Some(e.id()), what });
        if e.body().ledger != st.ledger {
            let what = format!("the entry belongs to ledger {:?}, the journal to {:?}", e.body().ledger, st.ledger);
            return (items, owners, fail(what));
        }
        if !st.seen.insert(e.id()) {
            return (items, owners, fail("the entry appears twice in the journal".into()));
        }
        if let Some(r) = e.body().ref_ids().find(|r| !st.seen.contains(r) || *r == e.id()) {
            let what = format!("it references entry {}, which does not come before it in the journal", r.short());
            return (items, owners, fail(what));
        }
        let keys = match crate::rules::check(&e, &st.registry, &|id| st.referenceable.get(id).cloned()) {
            Ok(k) => k,
            Err(err) => return (items, owners, fail(err.0)),
        };
        let n = e.sigs().len();
        for (i, (s, key)) in e.sigs().iter().zip(keys).enumerate() {
            let m = if i + 1 == n { std::mem::take(&mut msg) } else { msg.clone() };
            items.push(SigItem { msg: m, sig: s.sig, key });
            owners.push((*seq, e.id()));
        }
        st.registry.apply(&e, *seq);
        if crate::rules::is_referenceable(e.kind()) {
            st.referenceable.insert(e.id(), e.clone());
        }
        match st.kinds.get_mut(e.kind()) {
            Some(count) => *count += 1,
            None => {
                st.kinds.insert(e.kind().to_string(), 1);
            }
        }
    }
    (items, owners, None)
}

/// Checks signatures on all cores; names the first bad one's record.
fn check_signatures(items: &[SigItem], owners: &[(u64, EntryId)]) -> Result<u64, Failure> {
    match sigs::verify_all(items) {
        Ok(()) => Ok(items.len() as u64),
        Err(j) => Err(Failure {
            seq: owners[j].0,
            id: Some(owners[j].1),
            what: "a signature does not verify: the entry was altered after it was signed".into(),
        }),
    }
}

/// Verifies the journal at `path`; `progress` is called with the number of
/// records done after each chunk.
pub fn verify_journal(path: &Path, progress: impl FnMut(u64)) -> Result<Summary, Failure> {
    verify_journal_against(path, None, progress)
}

/// Verifies the journal at `path` and, when `acknowledged` is given (the
/// copy's recorded head, `DIR/head`), that it still holds every acknowledged
/// record: at least `acknowledged.seq` complete records, the one with that
/// sequence number ending at `acknowledged.end` with hash
/// `acknowledged.hash`. A journal truncated at a record boundary, or cut
/// inside an acknowledged record, fails. Reads only; changes nothing.
pub fn verify_journal_against(
    path: &Path,
    acknowledged: Option<Resume>,
    mut progress: impl FnMut(u64),
) -> Result<Summary, Failure> {
    fn journal_failure(e: JournalError) -> Failure {
        match e {
            JournalError::Damaged { seq, what, offset, .. } => {
                Failure { seq, id: None, what: format!("{what} (byte {offset})") }
            }
            other => Failure { seq: 0, id: None, what: other.to_string() },
        }
    }
    let mut scanner = Scanner::open(path).map_err(journal_failure)?;
    let ledger = scanner.ledger().to_string();
    let mut signatures = 0u64;
    let mut head = *blake3::hash(&crate::journal::header_bytes(&ledger)).as_bytes();
    let mut done = 0u64;
    // A reader thread scans and chain-checks records while the chunk before
    // is decoded and its signatures checked.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<(u64, Hash, Vec<u8>)>, Failure>>(2);
    let reader = std::thread::spawn(move || {
        // The Merkle tree over the journal is rebuilt as records are read.
        let mut tree = crate::merkle::CompactTree::new();
        loop {
            let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
            while chunk.len() < CHUNK_RECORDS {
                match scanner.next_record() {
                    Ok(Some((pos, bytes))) => {
                        if acknowledged.is_some_and(|a| a.seq == pos.seq && (a.hash != pos.hash || a.end != pos.end()))
                        {
                            // Hand over the records before it first, so
                            // earlier failures are still reported first.
                            if !chunk.is_empty() && tx.send(Ok(std::mem::take(&mut chunk))).is_err() {
                                return (scanner.torn(), tree.root());
                            }
                            let what = "it differs from the record this copy acknowledged at that sequence number (recorded in its head file): the journal was rewritten or replaced".to_string();
                            // The receiver may be gone after its own failure;
                            // either way the scan ends here.
                            tx.send(Err(Failure { seq: pos.seq, id: None, what })).ok();
                            return (scanner.torn(), tree.root());
                        }
                        tree.push(crate::merkle::leaf_hash(&bytes));
                        chunk.push((pos.seq, pos.hash, bytes));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(journal_failure(e)));
                        return (scanner.torn(), tree.root());
                    }
                }
            }
            let last = chunk.len() < CHUNK_RECORDS;
            if (!chunk.is_empty() && tx.send(Ok(chunk)).is_err()) || last {
                return (scanner.torn(), tree.root());
            }
        }
    });
    let mut state = RulesState {
        ledger: ledger.clone(),
        registry: Registry::default(),
        seen: Default::default(),
        referenceable: HashMap::new(),
        kinds: BTreeMap::new(),
    };
    // While the signatures of one chunk are checked (on all cores), the next
    // chunk is decoded and its rules applied: the sequential rules pass never
    // leaves a core idle. A failure in either is reported in journal order.
    let mut pending: Option<SigBatch> = None;
    for chunk in rx {
        let chunk = chunk?;
        if let Some(last) = chunk.last() {
            head = last.1;
        }
        let previous = pending.take();
        let (previous_sigs, (items, owners, failure)) = rayon::join(
            || previous.map_or(Ok(0), |(items, owners)| check_signatures(&items, &owners)),
            || rules_pass(&mut state, &chunk),
        );
        signatures += previous_sigs?;
        if let Some(f) = failure {
            check_signatures(&items, &owners)?;
            return Err(f);
        }
        done += chunk.len() as u64;
        progress(done);
        pending = Some((items, owners));
    }
    if let Some((items, owners)) = pending {
        signatures += check_signatures(&items, &owners)?;
    }
    let (torn, merkle_root) = reader.join().map_err(|_| Failure {
        seq: done + 1,
        id: None,
        what: "the journal reader thread failed".into(),
    })?;
    if let Some(a) = acknowledged.filter(|a| done < a.seq) {
        return Err(Failure {
            seq: done + 1,
            id: None,
            what: format!(
                "the journal holds {done} entries, but this copy acknowledged {} entries up to byte {} (recorded in its head file): entries are missing (the journal was truncated or replaced by an older copy). {}",
                a.seq,
                a.end,
                crate::head::RESTORE_ADVICE
            ),
        });
    }
    let RulesState { registry, seen, kinds, .. } = state;
    let mut ids: Vec<EntryId> = seen.into_iter().collect();
    ids.par_sort_unstable();
    let mut h = blake3::Hasher::new();
    h.update(SET_DIGEST_CONTEXT);
    for id in &ids {
        h.update(&id.0);
    }
    Ok(Summary {
        ledger,
        entries: done,
        signatures,
        registry,
        head,
        set_digest: *h.finalize().as_bytes(),
        merkle_root,
        kinds,
        torn,
    })
}
