//! The index stays small next to the journal when entries arrive one append
//! at a time (as `vereffen` commands append them): an append must not
//! rewrite what earlier appends stored.

mod common;

use common::*;
use rayon::prelude::*;
use vereffen::ledger::{Ledger, INDEX_DIR, JOURNAL_FILE};

/// Single-entry appends in the test, of notes of about 3 KB (the size of a
/// contract offer; sled allocates its file in 512 KiB segments, so a much
/// smaller journal would mostly measure that granularity).
const APPENDS: usize = 1_000;
/// The most the index may take per journal byte (issue 12, item 10).
const MAX_INDEX_PER_JOURNAL: u64 = 2;

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|item| {
            let item = item.unwrap();
            let meta = item.metadata().unwrap();
            if meta.is_dir() {
                dir_bytes(&item.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[test]
fn one_append_at_a_time_keeps_the_index_within_twice_the_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    let zh = demo_key("ziekenhuis");
    let mut ledger =
        ledger_with(&dir, &[register("ziekenhuis", "Ziekenhuis", vereffen::ledger::registry::Role::Provider, &zh)]);
    let notes: Vec<_> = (0..APPENDS)
        .into_par_iter()
        .map(|i| note("ziekenhuis", &zh, &format!("note {i}: {}", "admissions per patient ".repeat(130)), vec![]))
        .collect();
    for n in &notes {
        ledger.append(std::slice::from_ref(n)).unwrap();
    }
    // Every lookup still finds every entry, in journal order.
    let by_party = ledger.index().by_party("ziekenhuis").unwrap();
    assert_eq!(by_party.len(), APPENDS + 1);
    assert!(by_party.windows(2).all(|w| w[0].0 < w[1].0), "journal order");
    let by_kind = ledger.index().by_kind(vereffen::domain::note::KIND_NOTE).unwrap();
    assert_eq!(by_kind.iter().map(|(_, id)| *id).collect::<Vec<_>>(), notes.iter().map(|e| e.id()).collect::<Vec<_>>());
    assert_eq!(ledger.index().by_contract("copd-achterhoek").unwrap().len(), APPENDS);
    assert_eq!(ledger.index().leaf_hashes().unwrap().len(), APPENDS + 1);
    ledger.close().unwrap();

    let journal = std::fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len();
    let index = dir_bytes(&dir.join(INDEX_DIR));
    assert!(
        index <= MAX_INDEX_PER_JOURNAL * journal,
        "the index takes {index} bytes beside a journal of {journal} ({:.1}x)",
        index as f64 / journal as f64
    );
    // Reopened, it is current and complete.
    let ledger = Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
    assert!(!ledger.open_report().rebuilt && ledger.open_report().caught_up == 0);
    assert_eq!(ledger.index().by_party("ziekenhuis").unwrap().len(), APPENDS + 1);
}
