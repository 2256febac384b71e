//! A read-only snapshot of a copy, read from its journal alone: no lock, no
//! index, nothing written.
//!
//! Views over many copies (the inbox of a node that keeps thousands of
//! ledgers) read each copy this way: opening a [`crate::ledger::Ledger`]
//! takes the copy's lock (so it fails while a server holds the copy) and
//! opens its sled index, which costs far more than reading a small journal.
//! A snapshot checks what `open` checks of the journal (header, hash chain,
//! batches, the recorded head) but repairs nothing: a torn tail or an
//! unfinished batch after the acknowledged head is left out, exactly as
//! `open` would drop it.

use std::path::Path;

use crate::ledger::copy::{LedgerError, JOURNAL_FILE};
use crate::ledger::entry::Entry;
use crate::ledger::head;
use crate::ledger::journal::Scanner;
use crate::ledger::registry::Registry;

/// The entries of one copy as its journal holds them.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The ledger id (from the journal header).
    pub ledger: String,
    /// Every complete record's entry with its sequence number, in journal order.
    pub entries: Vec<(u64, Entry)>,
    /// The registry after those entries.
    pub registry: Registry,
}

/// Reads the copy in `dir` without locking or writing anything.
///
/// The recorded head (`DIR/head`) is read before the journal: a writer makes
/// its records durable before it replaces the head, so every record the head
/// names is in the file when the scan starts, and a journal that holds less
/// than the head (truncated or replaced) is refused as
/// [`LedgerError::Truncated`], as `open` refuses it.
pub fn read(dir: &Path) -> Result<Snapshot, LedgerError> {
    if !dir.is_dir() {
        return Err(LedgerError::NoSuchDir(dir.to_path_buf()));
    }
    let path = dir.join(JOURNAL_FILE);
    if !path.is_file() {
        return Err(LedgerError::NotALedger(dir.to_path_buf()));
    }
    let recorded = head::read(dir)?;
    let mut scanner = Scanner::open(&path)?;
    let ledger = scanner.ledger().to_string();
    let truncated = |what: String| LedgerError::Truncated { dir: dir.to_path_buf(), what };
    if let Some(h) = &recorded {
        if h.ledger != ledger {
            return Err(truncated(format!(
                "the journal holds ledger {ledger:?}, but this copy acknowledged entries of ledger {:?}: it was replaced",
                h.ledger
            )));
        }
    }
    let mut entries = Vec::new();
    let mut registry = Registry::default();
    let mut head_hash_seen = None;
    while let Some((pos, bytes)) = scanner.next_record()? {
        let e = Entry::decode(&bytes).map_err(|source| LedgerError::BadRecord { seq: pos.seq, source })?;
        if recorded.as_ref().is_some_and(|h| h.at.seq == pos.seq) {
            head_hash_seen = Some(pos.hash);
        }
        registry.apply(&e, pos.seq);
        entries.push((pos.seq, e));
    }
    if let Some(h) = recorded.filter(|h| h.at.seq > 0) {
        let held = entries.len() as u64;
        match head_hash_seen {
            None => {
                return Err(truncated(format!(
                    "the journal holds {held} complete entries, but this copy acknowledged {}: entries are missing (the journal was truncated or replaced by an older copy)",
                    h.at.seq
                )))
            }
            Some(hash) if hash != h.at.hash => {
                return Err(truncated(format!(
                    "entry {} does not carry the hash this copy acknowledged: the journal was rewritten or replaced",
                    h.at.seq
                )))
            }
            Some(_) => {}
        }
    }
    debug_assert!(
        entries.iter().enumerate().all(|(i, (seq, _))| *seq == i as u64 + 1),
        "the scanner numbers records 1.."
    );
    Ok(Snapshot { ledger, entries, registry })
}
