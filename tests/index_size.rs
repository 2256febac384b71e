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

/// The index reopens its sled instance every so many appended entries
/// (`index::INDEX_REOPEN_ENTRIES`, to give back the memory sled keeps for
/// what was written). A copy whose index reopened after every 5 entries
/// answers every lookup as a copy whose index never did, with key changes
/// and batches of every size crossing the reopenings, and its index is
/// whole on the next open (nothing to catch up, nothing rebuilt).
#[test]
fn an_index_reopened_between_appends_answers_as_one_never_reopened() {
    let tmp = tempfile::tempdir().unwrap();
    // The keys `history()` leaves current: its rotation and revocation
    // retired the first keys of the hospital and the home care provider.
    let keys = [
        ("verzekeraar", demo_key("verzekeraar")),
        ("ziekenhuis", ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])),
        ("thuiszorg", ed25519_dalek::SigningKey::from_bytes(&[9u8; 32])),
    ];
    let mut entries = history();
    let mut prev = entries[3].id();
    for i in 0..37 {
        let (party, key) = &keys[i % 3];
        let n = note(party, key, &format!("note {i} across the reopenings"), vec![prev.to_hex()]);
        prev = n.id();
        entries.push(n);
    }
    let sizes = [1usize, 3, 7, 2, 12, 1, 1, 4, 9];
    let open = |name: &str, every: Option<u64>| {
        let mut l = Ledger::init(&tmp.path().join(name), "test-copd", &vereffen::rules::ALL).unwrap();
        if let Some(n) = every {
            l.set_index_reopen_every(n);
        }
        l
    };
    let mut reopened = open("reopened", Some(5));
    let mut plain = open("plain", None);
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at == entries.len() {
            break;
        }
        let batch = &entries[at..(at + size).min(entries.len())];
        reopened.append(batch).unwrap();
        plain.append(batch).unwrap();
        at += batch.len();
        // Between batches too, the reopened copy answers as the plain one.
        for e in &entries[..at] {
            assert!(reopened.contains(&e.id()).unwrap(), "entry {} missing after {at} appended", e.id().short());
        }
        assert_eq!(reopened.set_digest().unwrap(), plain.set_digest().unwrap(), "after {at}");
    }
    let same = |a: &Ledger, b: &Ledger| {
        assert_eq!(a.len(), b.len());
        assert_eq!(a.merkle_tree().root(), b.merkle_tree().root());
        assert_eq!(a.set_digest().unwrap(), b.set_digest().unwrap());
        assert_eq!(a.set_digest().unwrap(), a.set_digest_uncached().unwrap());
        for party in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
            assert_eq!(a.index().by_party(party).unwrap(), b.index().by_party(party).unwrap(), "{party}");
        }
        assert_eq!(a.index().by_kind("note").unwrap(), b.index().by_kind("note").unwrap());
        assert_eq!(a.scan(7).unwrap(), b.scan(7).unwrap());
        assert_eq!(a.consistency_proof(9, a.len()).unwrap(), b.consistency_proof(9, b.len()).unwrap());
        assert_eq!(a.registry(), b.registry());
    };
    same(&reopened, &plain);
    // 48 entries in batches of 1, 3, 7, 2, 12, ...: reopened after each
    // batch that brought 5 or more since the last reopening (5 times).
    assert!(reopened.index().reopens() >= 5, "reopened {} times", reopened.index().reopens());
    assert_eq!(plain.index().reopens(), 0);
    drop(reopened);
    let again = Ledger::open(&tmp.path().join("reopened"), &vereffen::rules::ALL).unwrap();
    assert_eq!(again.open_report().caught_up, 0, "the reopened index was not current at the end");
    assert_eq!(again.open_report().index_rebuilt, None);
    assert!(!again.open_report().rebuilt);
    same(&again, &plain);
    vereffen::ledger::verify::verify_journal(again.journal_path(), &vereffen::rules::ALL, |_| {}).unwrap();
}
