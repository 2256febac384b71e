//! Properties users rely on: tampering is always found, torn tails are only
//! ever unacknowledged data, and the same entries in any order give the same
//! set (and, through the deterministic import order, the same journal).

mod common;

use std::fs;

use common::*;
use proptest::prelude::*;
use vereffen::ledger::bundle;
use vereffen::ledger::verify::verify_journal;
use vereffen::ledger::{Ledger, LedgerError};

/// Opens and verifies; Ok(()) only if everything checks out and nothing
/// was dropped.
fn open_and_verify(dir: &std::path::Path) -> Result<(), String> {
    let l = Ledger::open(dir, &vereffen::rules::ALL).map_err(|e| e.to_string())?;
    if l.open_report().torn.is_some() {
        return Err("torn tail dropped".into());
    }
    verify_journal(l.journal_path(), &vereffen::rules::ALL, |_| {}).map_err(|f| f.to_string())?;
    Ok(())
}

#[test]
fn the_history_is_valid_and_rules_hold() {
    let dir = tempfile::tempdir().unwrap();
    let entries = history();
    let l = ledger_with(&dir.path().join("l"), &entries);
    let s = verify_journal(l.journal_path(), &vereffen::rules::ALL, |_| {}).unwrap();
    assert_eq!(s.entries, entries.len() as u64);
    assert_eq!(s.signatures, entries.len() as u64 + 2, "rotations carry two signatures");
    assert_eq!(&s.registry, l.registry());
    assert_eq!(s.set_digest, l.set_digest().unwrap());
    assert_eq!(l.index().by_party("thuiszorg").unwrap().len(), 5);
    assert_eq!(l.index().by_kind("note").unwrap().len(), 5);
    assert_eq!(l.index().by_contract("copd-achterhoek").unwrap().len(), 5);
    // The incrementally kept Merkle tree matches one built from the journal.
    let leaves = l.index().leaf_hashes().unwrap();
    assert_eq!(leaves.len(), entries.len());
    assert_eq!(leaves[0], vereffen::ledger::merkle::leaf_hash(&entries[0].encode()));
    assert_eq!(vereffen::ledger::merkle::root_of(&leaves), l.merkle_tree().root());
    assert_eq!(s.merkle_root, l.merkle_tree().root());
}

#[test]
fn entries_signed_with_ended_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let entries = history();
    let mut l = ledger_with(&dir.path().join("l"), &entries);
    let before = fs::read(l.journal_path()).unwrap();
    for (who, key) in [("ziekenhuis", demo_key("ziekenhuis")), ("thuiszorg", demo_key("thuiszorg"))] {
        let e = note(who, &key, "too late", vec![]);
        let err = l.append(&[e]).unwrap_err().to_string();
        assert!(err.contains("retired") || err.contains("revoked"), "{err}");
    }
    // A key that is not the party's own.
    let e = note("ziekenhuis", &demo_key("verzekeraar"), "impostor", vec![]);
    assert!(l.append(&[e]).unwrap_err().to_string().contains("is not a key of party"));
    // A batch with one bad entry appends nothing.
    let good = note("verzekeraar", &demo_key("verzekeraar"), "fine", vec![]);
    let bad = note("verzekeraar", &demo_key("verzekeraar"), "refers to nothing", vec!["ab".repeat(32)]);
    assert!(matches!(l.append(&[good, bad]), Err(LedgerError::Rejected { position: 1, .. })));
    assert_eq!(fs::read(l.journal_path()).unwrap(), before);
}

#[test]
fn a_torn_tail_is_dropped_and_everything_acknowledged_survives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let entries = history();
    let l = ledger_with(&path, &entries);
    let journal = l.journal_path().to_path_buf();
    drop(l);
    let full = fs::read(&journal).unwrap();
    // Simulate a crash in the middle of writing one more record.
    let mut torn = full.clone();
    let mut record = Vec::new();
    vereffen::ledger::journal::encode_record(&mut record, entries.len() as u64 + 1, &[0; 32], b"half a record");
    torn.extend_from_slice(&record[..record.len() / 2]);
    fs::write(&journal, &torn).unwrap();
    let l = Ledger::open(&path, &vereffen::rules::ALL).unwrap();
    assert_eq!(l.open_report().torn.map(|t| t.bytes), Some((record.len() / 2) as u64));
    assert_eq!(fs::read(&journal).unwrap(), full);
    assert_eq!(verify_journal(&journal, &vereffen::rules::ALL, |_| {}).unwrap().entries, entries.len() as u64);
    for e in &entries {
        assert!(l.contains(&e.id()).unwrap());
    }
}

#[test]
fn an_index_lost_in_a_crash_catches_up_and_reindex_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let entries = history();
    let l = ledger_with(&path, &entries[..4]);
    drop(l);
    let saved_index = dir.path().join("saved-index");
    copy_dir(&path.join("index"), &saved_index);
    let mut l = Ledger::open(&path, &vereffen::rules::ALL).unwrap();
    l.append(&entries[4..]).unwrap();
    let digest = l.set_digest().unwrap();
    drop(l);
    // Put back the old index: as if the index writes after the journal fsync were lost.
    fs::remove_dir_all(path.join("index")).unwrap();
    copy_dir(&saved_index, &path.join("index"));
    let l = Ledger::open(&path, &vereffen::rules::ALL).unwrap();
    assert_eq!(l.open_report().caught_up, (entries.len() - 4) as u64);
    assert_eq!(l.set_digest().unwrap(), digest);
    let root = vereffen::ledger::merkle::root_of(&l.index().leaf_hashes().unwrap());
    assert_eq!(root, l.merkle_tree().root(), "the caught-up tree and leaves agree");
    drop(l);
    let l = Ledger::reindex(&path, &vereffen::rules::ALL).unwrap();
    assert_eq!(l.set_digest().unwrap(), digest);
    assert_eq!(l.len(), entries.len() as u64);
}

/// Cut at a record boundary and with the index gone (or rebuilt), a copy
/// is refused by open, reindex and verify: the head file remembers what was
/// acknowledged.
#[test]
fn a_journal_cut_at_a_record_boundary_is_refused_without_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let entries = history();
    drop(ledger_with(&path, &entries));
    let journal = path.join("journal");
    let full = fs::read(&journal).unwrap();
    let mut scan = vereffen::ledger::journal::Scanner::open(&journal).unwrap();
    let mut ends = Vec::new();
    while let Some((pos, _)) = scan.next_record().unwrap() {
        ends.push(pos.end() as usize);
    }
    let recorded = vereffen::ledger::head::read(&path).unwrap().expect("the copy records its head").at;
    assert_eq!(recorded.seq, entries.len() as u64);
    for keep in [0, 3, entries.len() - 1] {
        let cut = if keep == 0 { vereffen::ledger::journal::header_bytes(LEDGER_ID).len() } else { ends[keep - 1] };
        fs::write(&journal, &full[..cut]).unwrap();
        let _ = fs::remove_dir_all(path.join("index"));
        for (what, result) in [
            ("open", Ledger::open(&path, &vereffen::rules::ALL).err()),
            ("reindex", Ledger::reindex(&path, &vereffen::rules::ALL).err()),
        ] {
            let err = result.map(|e| e.to_string()).unwrap_or_else(|| panic!("{what} accepted {keep} of 11 entries"));
            assert!(err.contains(&format!("acknowledged {} entries", entries.len())), "{what}: {err}");
            assert!(err.contains("entries are missing"), "{what}: {err}");
        }
        assert_eq!(fs::read(&journal).unwrap(), &full[..cut], "nothing was changed");
        let f =
            vereffen::ledger::verify::verify_journal_against(&journal, Some(recorded), &vereffen::rules::ALL, |_| {})
                .unwrap_err();
        assert!(f.what.contains(&format!("the journal holds {keep} entries, but this copy acknowledged 11")), "{f}");
    }
    // The whole journal is accepted again.
    fs::write(&journal, &full).unwrap();
    assert_eq!(Ledger::open(&path, &vereffen::rules::ALL).unwrap().len(), entries.len() as u64);
    assert!(vereffen::ledger::verify::verify_journal_against(&journal, Some(recorded), &vereffen::rules::ALL, |_| {})
        .is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn any_flipped_byte_is_found(pos_frac in 0.0f64..1.0, bit in 0u8..8) {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        drop(ledger_with(&base, &history()));
        let journal = base.join("journal");
        let mut bytes = fs::read(&journal).unwrap();
        let pos = ((bytes.len() as f64) * pos_frac) as usize % bytes.len();
        bytes[pos] ^= 1 << bit;
        fs::write(&journal, &bytes).unwrap();
        prop_assert!(open_and_verify(&base).is_err(), "flip at byte {} went unnoticed", pos);
        // Without the index (a copy rebuilt from its journal) it is found too.
        fs::remove_dir_all(base.join("index")).unwrap();
        prop_assert!(open_and_verify(&base).is_err(), "flip at byte {} went unnoticed after reindex", pos);
    }

    #[test]
    fn any_truncation_of_an_indexed_copy_is_reported(cut_frac in 0.0f64..1.0) {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        drop(ledger_with(&base, &history()));
        let journal = base.join("journal");
        let bytes = fs::read(&journal).unwrap();
        let cut = ((bytes.len() as f64) * cut_frac) as usize;
        fs::write(&journal, &bytes[..cut]).unwrap();
        // The head file remembers what was acknowledged: any loss is
        // reported, with or without the index.
        let err = Ledger::open(&base, &vereffen::rules::ALL).err().map(|e| e.to_string()).unwrap_or_default();
        prop_assert!(err.contains("entries are missing") || err.contains("too short") || err.contains("cut short"), "cut at {} gave: {:?}", cut, err);
        fs::remove_dir_all(base.join("index")).unwrap();
        let err = Ledger::open(&base, &vereffen::rules::ALL).err().map(|e| e.to_string()).unwrap_or_default();
        prop_assert!(err.contains("entries are missing"), "cut at {} without the index gave: {:?}", cut, err);
    }

    #[test]
    fn import_order_does_not_matter(perm in Just((0..11usize).collect::<Vec<_>>()).prop_shuffle()) {
        let dir = tempfile::tempdir().unwrap();
        let entries = history();
        let src = ledger_with(&dir.path().join("src"), &entries);
        let bundle_path = dir.path().join("b.jsonl");
        bundle::export(&src, &bundle_path, 1).unwrap();
        let text = fs::read_to_string(&bundle_path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        prop_assert_eq!(lines.len(), entries.len() + 1);
        let mut shuffled = vec![lines[0]];
        shuffled.extend(perm.iter().map(|&i| lines[1 + i]));
        let shuffled_path = dir.path().join("s.jsonl");
        fs::write(&shuffled_path, shuffled.join("\n") + "\n").unwrap();
        let mut dst = Ledger::init(&dir.path().join("dst"), LEDGER_ID, &vereffen::rules::ALL).unwrap();
        let report = bundle::import(&mut dst, &shuffled_path).unwrap();
        prop_assert_eq!(report.added, entries.len());
        prop_assert_eq!(dst.set_digest().unwrap(), src.set_digest().unwrap());
        let verified = verify_journal(dst.journal_path(), &vereffen::rules::ALL, |_| {}).is_ok();
        prop_assert!(verified);
        // The deterministic order makes even the journals equal across permutations.
        let mut again = Ledger::init(&dir.path().join("again"), LEDGER_ID, &vereffen::rules::ALL).unwrap();
        bundle::import(&mut again, &bundle_path).unwrap();
        prop_assert_eq!(again.head(), dst.head());
    }
}
