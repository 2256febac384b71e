//! Full verification of a journal from its first byte: record chain, every
//! entry's canonical form, id and signatures (strict, on all cores), key
//! validity at that point, references, and every kind's rules.
//!
//! The pipeline works in chunks of records: read and chain-check
//! sequentially; decode in parallel and find each entry's signing keys
//! sequentially (they depend on order); check the chunk's signatures in
//! parallel; only then apply the kinds' rules sequentially, so unsigned
//! bytes never reach contract validation or settlement replay.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;

use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::journal::{Hash, JournalError, Resume, Scanner, TornTail};
use crate::ledger::registry::Registry;
use crate::ledger::setsum::SetSum;
use crate::ledger::sigs::{self, SigFailure, SigItem};
use crate::ledger::EntryRules;

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
    /// Void entries (signed by a key an ending entry ended without them in
    /// its causal past; `crate::ledger::liveness`), in id order. A warning, not a
    /// failure: every copy holding the same entries holds them too.
    pub void: Vec<crate::ledger::liveness::VoidEntry>,
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

/// What the first sequential pass (place and signing keys, before any
/// signature is checked) carries from record to record.
struct KeysState {
    rules: &'static dyn EntryRules,
    ledger: String,
    registry: Registry,
    seen: crate::ledger::entry::IdSet,
}

/// What the rules pass (after the signatures verified) carries from record
/// to record.
struct RulesState {
    rules: &'static dyn EntryRules,
    registry: Registry,
    referenceable: HashMap<EntryId, Entry>,
    kinds: BTreeMap<String, u64>,
}

/// A decoded entry whose signatures are to be checked, then its rules.
struct Keyed {
    seq: u64,
    entry: Entry,
    keys: Vec<VerifyingKey>,
}

/// A chunk after the first pass: its entries (up to the first failure), the
/// signatures to check and, for each, the index of its entry.
struct KeyedChunk {
    entries: Vec<Keyed>,
    items: Vec<SigItem>,
    owners: Vec<usize>,
}

/// Raw journal records: sequence number, record hash, entry bytes.
type Records = [(u64, Hash, Vec<u8>)];

/// First pass over a chunk: decodes it (in parallel), then in order checks
/// each entry's place (ledger, duplicates, references) and finds its
/// signing keys. Returns the entries before the first failure, their
/// signatures to check, and that failure.
fn keys_pass(st: &mut KeysState, chunk: &Records) -> (KeyedChunk, Option<Failure>) {
    let decoded: Vec<Result<(Entry, Vec<u8>), Failure>> = chunk
        .par_iter()
        .map(|(seq, _, bytes)| {
            let e = Entry::decode(bytes).map_err(|e| Failure { seq: *seq, id: None, what: e.to_string() })?;
            let msg = e.signing_input();
            Ok((e, msg))
        })
        .collect();
    let mut out = KeyedChunk {
        entries: Vec::with_capacity(chunk.len()),
        items: Vec::with_capacity(chunk.len()),
        owners: Vec::with_capacity(chunk.len()),
    };
    for ((seq, _, _), e) in chunk.iter().zip(decoded) {
        let (e, mut msg) = match e {
            Ok(x) => x,
            Err(f) => return (out, Some(f)),
        };
        let fail = |what: String| Some(Failure { seq: *seq, id: Some(e.id()), what });
        if e.body().ledger != st.ledger {
            let what = format!("the entry belongs to ledger {:?}, the journal to {:?}", e.body().ledger, st.ledger);
            return (out, fail(what));
        }
        if !st.seen.insert(e.id()) {
            return (out, fail("the entry appears twice in the journal".into()));
        }
        if let Some(r) = e.body().ref_ids().find(|r| !st.seen.contains(r) || *r == e.id()) {
            let what = format!("it references entry {}, which does not come before it in the journal", r.short());
            return (out, fail(what));
        }
        let keys = match st.rules.signing_keys(&e, &st.registry, crate::ledger::registry::KeyUse::Existing) {
            Ok(k) => k,
            Err(err) => return (out, fail(err.0)),
        };
        let n = e.sigs().len();
        for (i, (s, key)) in e.sigs().iter().zip(&keys).enumerate() {
            let m = if i + 1 == n { std::mem::take(&mut msg) } else { msg.clone() };
            out.items.push(SigItem { msg: m, sig: s.sig, key: *key });
            out.owners.push(out.entries.len());
        }
        st.registry.apply(&e, *seq);
        out.entries.push(Keyed { seq: *seq, entry: e, keys });
    }
    (out, None)
}

/// Second pass over a chunk: checks its signatures on all cores, then, in
/// order, the rules of the entries before the first bad signature. Returns
/// the number of signatures checked, or the first failure in journal order.
fn settle(st: &mut RulesState, chunk: KeyedChunk) -> Result<u64, Failure> {
    let KeyedChunk { entries, items, owners } = chunk;
    let (limit, bad_signature) = match sigs::verify_all(&items) {
        Ok(()) => (entries.len(), None),
        Err((j, why)) => {
            let k = &entries[owners[j]];
            let what = match why {
                SigFailure::Mismatch => "a signature does not verify: the entry was altered after it was signed".into(),
                other => sigs::refusal(other),
            };
            (owners[j], Some(Failure { seq: k.seq, id: Some(k.entry.id()), what }))
        }
    };
    for Keyed { seq, entry: e, keys } in entries.into_iter().take(limit) {
        let checked = st.rules.check_verified(
            &e,
            &keys,
            &st.registry,
            &|id| st.referenceable.get(id).cloned(),
            crate::ledger::registry::KeyUse::Existing,
        );
        if let Err(err) = checked {
            return Err(Failure { seq, id: Some(e.id()), what: err.0 });
        }
        st.registry.apply(&e, seq);
        match st.kinds.get_mut(e.kind()) {
            Some(count) => *count += 1,
            None => {
                st.kinds.insert(e.kind().to_string(), 1);
            }
        }
        if st.rules.is_referenceable(e.kind()) {
            st.referenceable.insert(e.id(), e);
        }
    }
    match bad_signature {
        Some(f) => Err(f),
        None => Ok(items.len() as u64),
    }
}

/// Verifies the journal at `path`; `progress` is called with the number of
/// records done after each chunk.
/// `rules` are the rules of entry kinds (the application's rule set).
pub fn verify_journal(
    path: &Path,
    rules: &'static dyn EntryRules,
    progress: impl FnMut(u64),
) -> Result<Summary, Failure> {
    verify_journal_against(path, None, rules, progress)
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
    rules: &'static dyn EntryRules,
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
    let mut head = *blake3::hash(&crate::ledger::journal::header_bytes(&ledger)).as_bytes();
    let mut done = 0u64;
    // A reader thread scans and chain-checks records while the chunk before
    // is decoded and its signatures checked.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<(u64, Hash, Vec<u8>)>, Failure>>(2);
    let reader = std::thread::spawn(move || {
        // The Merkle tree over the journal is rebuilt as records are read.
        let mut tree = crate::ledger::merkle::CompactTree::new();
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
                        tree.push(crate::ledger::merkle::leaf_hash(&bytes));
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
    let mut keys_state =
        KeysState { rules, ledger: ledger.clone(), registry: Registry::default(), seen: Default::default() };
    let mut rules_state =
        RulesState { rules, registry: Registry::default(), referenceable: HashMap::new(), kinds: BTreeMap::new() };
    // While the signatures and then the rules of one chunk are checked, the
    // next chunk is decoded and its signing keys found: the sequential
    // passes never leave a core idle. No entry's rules run before its
    // signatures verified, and a failure is reported in journal order.
    let mut pending: Option<KeyedChunk> = None;
    for chunk in rx {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(f) => {
                // Damage further on: the records before it come first.
                if let Some(previous) = pending.take() {
                    settle(&mut rules_state, previous)?;
                }
                return Err(f);
            }
        };
        if let Some(last) = chunk.last() {
            head = last.1;
        }
        let previous = pending.take();
        let (settled, (keyed, failure)) = rayon::join(
            || previous.map_or(Ok(0), |p| settle(&mut rules_state, p)),
            || keys_pass(&mut keys_state, &chunk),
        );
        signatures += settled?;
        if let Some(f) = failure {
            settle(&mut rules_state, keyed)?;
            return Err(f);
        }
        done += chunk.len() as u64;
        progress(done);
        pending = Some(keyed);
    }
    if let Some(last) = pending {
        signatures += settle(&mut rules_state, last)?;
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
                crate::ledger::head::RESTORE_ADVICE
            ),
        });
    }
    let RulesState { registry, kinds, .. } = rules_state;
    let KeysState { seen, registry: keys_registry, .. } = keys_state;
    debug_assert!(registry == keys_registry, "both passes apply the same entries");
    let void = if registry.any_key_ended() { void_of_journal(path, done)? } else { Vec::new() };
    // The set sum (FORMAT.md 9) of every id, in parallel (a sum: any order).
    let ids: Vec<EntryId> = seen.into_iter().collect();
    let set_sum = ids.par_chunks(4096).map(|c| SetSum::of(c.iter().map(|id| &id.0))).reduce(SetSum::new, |mut a, b| {
        a.merge(&b);
        a
    });
    Ok(Summary {
        ledger,
        entries: done,
        signatures,
        registry,
        head,
        set_digest: set_sum.digest(),
        merkle_root,
        kinds,
        torn,
        void,
    })
}

/// The void entries of the first `records` records of a journal that has
/// just verified (a second sequential pass, only when some key was ended).
fn void_of_journal(path: &Path, records: u64) -> Result<Vec<crate::ledger::liveness::VoidEntry>, Failure> {
    let fail = |seq: u64, what: String| Failure { seq, id: None, what };
    let mut scanner = Scanner::open(path).map_err(|e| fail(0, e.to_string()))?;
    let mut entries = Vec::new();
    while let Some((pos, bytes)) = scanner.next_record().map_err(|e| fail(0, e.to_string()))? {
        if pos.seq > records {
            break;
        }
        entries.push(Entry::decode(&bytes).map_err(|e| fail(pos.seq, e.to_string()))?);
    }
    Ok(crate::ledger::liveness::void_entries(&entries).into_values().collect())
}
