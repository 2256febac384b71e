//! What `vereffen verify` checks of one copy, read-only, for the command
//! and the web workspace's audit page alike: the chain, every id,
//! signature, key validity and reference (`ledger::verify`), the head file,
//! the copy's own checkpoints, every settlement statement recomputed from
//! its signed inputs, settlement conflicts, void entries and a torn tail.
//!
//! It reads the journal (and `DIR/head`, `DIR/origin`) with read-only
//! handles; takes no lock, never opens the index, truncates nothing. It may
//! run while a writer appends: it checks the prefix that was in the file
//! when it started.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::audit;
use crate::domain::settlement::cosign;
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::head;
use crate::ledger::journal::{Hash, Scanner};
use crate::ledger::verify::{self, Failure, Summary};
use crate::ledger::{LedgerError, JOURNAL_FILE};

/// Why a copy could not be checked at all (as opposed to checked and found
/// wrong, which is [`Failure`] or a problem in [`CopyCheck::problems`]).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The directory or journal is missing or unreadable.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The copy's origin file could not be read.
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
}

/// The outcome of checking a copy whose journal verified.
#[derive(Debug)]
pub struct CopyCheck {
    /// What the full pass found (ledger, entries, registry, head, roots, kinds, void entries).
    pub summary: Summary,
    /// Problems found after the pass (a replaced journal, a changed
    /// journal, own checkpoints that do not hold); empty when all is well.
    pub problems: Vec<String>,
    /// Settlement conflicts, `<contract> <conflict>`.
    pub conflicts: Vec<String>,
    /// `settlement.sign` entries, each statement recomputed from its signed inputs.
    pub settlements_replayed: u64,
    /// Contracts with at least one `settlement.sign`.
    pub contracts_replayed: usize,
    /// The torn tail in words, if an unfinished write is at the end.
    pub torn: Option<String>,
    /// The sequence number the head file acknowledges.
    pub acknowledged: Option<u64>,
    /// The copy's origin (`DIR/origin`), if it has one.
    pub origin: Option<String>,
    /// Merkle leaf hashes in journal order, when asked for (to check a
    /// checkpoint given from outside) or needed for the own checkpoints.
    pub leaves: Vec<Hash>,
}

impl CopyCheck {
    /// True when no problem was found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What the checks after the full pass read from the journal itself (never
/// from the index): the copy's own checkpoints and settlement conflicts.
#[derive(Default)]
struct JournalFacts {
    /// Merkle leaf hashes in journal order (when checkpoints are checked).
    leaves: Vec<Hash>,
    /// `audit.checkpoint` entries with their sequence numbers.
    checkpoints: Vec<(u64, Entry)>,
    /// Entries concerning each contract that has a `settlement.sign`, in journal order.
    by_contract: BTreeMap<String, Vec<Entry>>,
    /// Contracts with at least one `settlement.sign`.
    signed_contracts: BTreeSet<String>,
    /// Entries that other entries may reference, by id.
    referenceable: HashMap<EntryId, Entry>,
}

/// Reads the first `records` records of a journal that has just been
/// checked (records after them, appended meanwhile by a writer, are not
/// read).
fn journal_facts(
    path: &Path,
    records: u64,
    want_leaves: bool,
    want_contracts: bool,
) -> Result<JournalFacts, LedgerError> {
    let mut facts = JournalFacts::default();
    let mut scanner = Scanner::open(path)?;
    while let Some((pos, bytes)) = scanner.next_record()? {
        if pos.seq > records {
            break;
        }
        if want_leaves {
            facts.leaves.push(crate::ledger::merkle::leaf_hash(&bytes));
        }
        let e = Entry::decode(&bytes).map_err(|source| LedgerError::BadRecord { seq: pos.seq, source })?;
        if e.kind() == audit::KIND_CHECKPOINT {
            facts.checkpoints.push((pos.seq, e.clone()));
        }
        if want_contracts {
            if let Some(c) = e.contract() {
                if e.kind() == cosign::KIND_SIGN {
                    facts.signed_contracts.insert(c.to_string());
                }
                facts.by_contract.entry(c.to_string()).or_default().push(e.clone());
            }
            if crate::rules::is_referenceable(e.kind()) {
                facts.referenceable.insert(e.id(), e);
            }
        }
    }
    facts.by_contract.retain(|c, _| facts.signed_contracts.contains(c));
    Ok(facts)
}

/// Checks the copy in `dir` as `vereffen verify` does. `want_leaves`: keep
/// the Merkle leaves in [`CopyCheck::leaves`] (to check a checkpoint given
/// from outside). `progress` gets the number of records checked so far.
/// `Ok(Err(failure))`: the journal itself does not verify, at that record.
pub fn check_copy(
    dir: &Path,
    want_leaves: bool,
    progress: impl FnMut(u64),
) -> Result<Result<CopyCheck, Failure>, VerifyError> {
    if !dir.is_dir() {
        return Err(LedgerError::NoSuchDir(dir.to_path_buf()).into());
    }
    let journal = dir.join(JOURNAL_FILE);
    if !journal.is_file() {
        return Err(LedgerError::NotALedger(dir.to_path_buf()).into());
    }
    let mut problems = Vec::new();
    // Read before the journal: a writer records its head only after the
    // journal's fsync, so the journal read next holds at least this much.
    let recorded = match head::read(dir) {
        Ok(h) => h,
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let summary =
        match verify::verify_journal_against(&journal, recorded.as_ref().map(|h| h.at), &crate::rules::ALL, progress) {
            Ok(s) => s,
            Err(f) => return Ok(Err(f)),
        };
    if let Some(h) = recorded.as_ref().filter(|h| h.ledger != summary.ledger) {
        problems.push(format!(
            "the head file {} belongs to ledger {:?}, the journal to {:?}: the journal was replaced",
            dir.join(head::HEAD_FILE).display(),
            h.ledger,
            summary.ledger
        ));
    }
    let origin = audit::copy_origin(dir)?;
    let signs = summary.kinds.get(cosign::KIND_SIGN).copied().unwrap_or(0);
    let own_checkpoints = origin.is_some() && summary.kinds.contains_key(audit::KIND_CHECKPOINT);
    let want_leaves = own_checkpoints || want_leaves;
    let facts = if want_leaves || signs > 0 {
        journal_facts(&journal, summary.entries, want_leaves, signs > 0)?
    } else {
        JournalFacts::default()
    };
    if want_leaves && crate::ledger::merkle::root_of(&facts.leaves) != summary.merkle_root {
        problems.push("the journal changed while it was read (its Merkle root differs between two reads)".into());
    }
    if let Some(origin) = origin.as_deref().filter(|_| own_checkpoints) {
        problems.extend(audit::check_own_checkpoints_in(&facts.checkpoints, &facts.leaves, origin));
    }
    // Every settlement statement was recomputed from its signed inputs by the
    // rules during the pass above; here: corrections after settlement.
    // Void entries (FORMAT.md 4.3) count for nothing in derived states.
    let void: HashSet<EntryId> = summary.void.iter().map(|v| v.id).collect();
    let lookup = |id: &EntryId| if void.contains(id) { None } else { facts.referenceable.get(id).cloned() };
    let mut conflicts = Vec::new();
    for (c, entries) in &facts.by_contract {
        let live: Vec<_> = entries.iter().filter(|e| !void.contains(&e.id())).cloned().collect();
        let view = cosign::ContractView::new(c, &live, &lookup);
        conflicts.extend(view.conflicts().into_iter().map(|x| format!("{c} {x}")));
    }
    let torn = summary.torn.map(|t| {
        format!(
            "{} bytes of an unfinished write at offset {}; the next write to this copy drops them",
            t.bytes, t.offset
        )
    });
    Ok(Ok(CopyCheck {
        problems,
        conflicts,
        settlements_replayed: signs,
        contracts_replayed: facts.by_contract.len(),
        torn,
        acknowledged: recorded.as_ref().map(|h| h.at.seq),
        origin,
        leaves: facts.leaves,
        summary,
    }))
}
