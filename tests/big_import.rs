//! Importing a bundle larger than one batch (`bundle::import_with`,
//! FORMAT.md 7): every batch is checked before any is appended, the batches
//! are appended in the one import order, a bad entry anywhere appends
//! nothing, and an import stopped between batches leaves a valid prefix that
//! the same import completes. The batch size is made small here
//! (`ImportOptions { batch: 4 }`) so that a 40-entry bundle takes 11
//! batches; the product's size is `bundle::IMPORT_BATCH`.

mod common;

use std::ops::ControlFlow;
use std::path::Path;

use common::*;
use ed25519_dalek::SigningKey;
use vereffen::ledger::bundle::{self, BatchDone, BundleError, ImportOptions};
use vereffen::ledger::entry::{Entry, EntryId};
use vereffen::ledger::Ledger;

/// Entries per batch in these tests.
const BATCH: usize = 4;
/// Chained notes after `history()`'s 11 entries.
const CHAIN: usize = 30;

/// `history()` (registrations, a rotation that retires a key, a
/// revocation) and a chain of notes, each referencing the one before, by
/// the rotated key and the insurer: dependencies that cross every batch.
fn entries() -> Vec<Entry> {
    let mut out = history();
    let zh2 = SigningKey::from_bytes(&[7u8; 32]);
    let vz = demo_key("verzekeraar");
    let mut prev = out[4].id();
    for i in 0..CHAIN {
        let (party, key) = if i % 2 == 0 { ("ziekenhuis", &zh2) } else { ("verzekeraar", &vz) };
        let n = note(party, key, &format!("chained note {i}"), vec![prev.to_hex()]);
        prev = n.id();
        out.push(n);
    }
    out
}

/// The source copy's bundle with its entry lines in reverse order (an
/// import must not depend on the line order); returns the lines too.
fn reversed_bundle(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let src = ledger_with(&dir.join("source"), &entries());
    let exported = dir.join("exported.jsonl");
    bundle::export(&src, &exported, 1).unwrap();
    drop(src);
    let text = std::fs::read_to_string(&exported).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1..].reverse();
    let path = dir.join("reversed.jsonl");
    write_lines(&path, &lines);
    (path, lines)
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

fn fresh(dir: &Path) -> Ledger {
    let l = Ledger::init(dir, LEDGER_ID, &vereffen::rules::ALL).unwrap();
    assert_eq!(l.len(), 0);
    l
}

fn order_of(l: &Ledger) -> Vec<EntryId> {
    l.scan(1).unwrap().into_iter().map(|(_, e)| e.id()).collect()
}

fn batched(
    l: &mut Ledger,
    path: &Path,
    stop_after: Option<usize>,
) -> (Result<bundle::ImportReport, BundleError>, Vec<BatchDone>) {
    let mut seen = Vec::new();
    let mut progress = |b: &BatchDone| {
        seen.push(b.clone());
        if stop_after == Some(b.batch) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let r = bundle::import_with(l, path, &ImportOptions { batch: BATCH }, &mut progress);
    (r, seen)
}

#[test]
fn a_bundle_of_many_batches_imports_whole_in_the_one_import_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, _) = reversed_bundle(tmp.path());
    let total = history().len() + CHAIN;
    let batches = total.div_ceil(BATCH);

    // The reference: the same bundle as one batch.
    let mut one = fresh(&tmp.path().join("one"));
    let rep = bundle::import(&mut one, &path).unwrap();
    assert_eq!((rep.added, rep.batches), (total, 1));

    let mut many = fresh(&tmp.path().join("many"));
    let (rep, seen) = batched(&mut many, &path, None);
    let rep = rep.unwrap();
    assert_eq!((rep.in_bundle, rep.added, rep.already_present, rep.batches), (total, total, 0, batches));
    assert_eq!(rep.added_kinds, bundle::import(&mut fresh(&tmp.path().join("k")), &path).unwrap().added_kinds);
    assert_eq!(rep.void_total, one.void_entries().unwrap().len(), "the revocation voids the same entries");
    assert_eq!(seen.len(), batches, "one progress report per batch");
    for (k, b) in seen.iter().enumerate() {
        assert_eq!((b.batch, b.batches, b.to_add), (k + 1, batches, total));
        assert_eq!(b.added, ((k + 1) * BATCH).min(total));
    }
    // The same records in the same order: the same Merkle tree and set.
    assert_eq!(order_of(&many), order_of(&one));
    assert_eq!(many.merkle_tree().root(), one.merkle_tree().root());
    assert_eq!(many.set_digest().unwrap(), one.set_digest().unwrap());

    // Importing it again adds nothing.
    let (rep, seen) = batched(&mut many, &path, None);
    let rep = rep.unwrap();
    assert_eq!((rep.added, rep.already_present, rep.batches), (0, total, 0));
    assert!(seen.is_empty());
    let journal = many.journal_path().to_path_buf();
    drop(many);
    let summary = vereffen::ledger::verify::verify_journal(&journal, &vereffen::rules::ALL, |_| {});
    assert!(summary.is_ok(), "{:?}", summary.err());
}

#[test]
fn a_bad_entry_in_a_later_batch_refuses_the_bundle_and_appends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, lines) = reversed_bundle(tmp.path());
    // The chain's notes come last in the import order; line 2 of the
    // reversed bundle is the chain's last note (29), line 12 note 19: the
    // 31st entry of the import order, in batch 8 of 11.
    let target = 12;
    let v: serde_json::Value = serde_json::from_str(&lines[target - 1]).unwrap();
    assert!(v["body"].as_str().unwrap().contains("chained note 19\""), "{}", lines[target - 1]);

    // (1) A forged signature.
    let mut forged = lines.clone();
    let sig = v["sigs"][0]["sig"].as_str().unwrap();
    let flipped = format!("{}{}", if sig.starts_with('0') { "1" } else { "0" }, &sig[1..]);
    forged[target - 1] = forged[target - 1].replace(sig, &flipped);
    // (2) Note 19's referenced note 18 (line 13) missing (the header says one less).
    let mut gap = lines.clone();
    gap.remove(target);
    let header: serde_json::Value = serde_json::from_str(&gap[0]).unwrap();
    let n = header["entries"].as_u64().unwrap();
    gap[0] = gap[0].replace(&format!("\"entries\":{n}"), &format!("\"entries\":{}", n - 1));

    for (name, bad, line) in [("forged", &forged, target), ("gap", &gap, target)] {
        let path = tmp.path().join(format!("{name}.jsonl"));
        write_lines(&path, bad);
        let dir = tmp.path().join(format!("copy-{name}"));
        let mut l = fresh(&dir);
        let before = std::fs::read(l.journal_path()).unwrap();
        let (r, seen) = batched(&mut l, &path, None);
        match r {
            Err(BundleError::Refused { line: at, .. }) => assert_eq!(at, line, "{name}: the refused line"),
            other => panic!("{name}: expected a refusal naming line {line}, got {other:?}"),
        }
        assert!(seen.is_empty(), "{name}: no batch was appended");
        assert_eq!(l.len(), 0, "{name}: nothing appended");
        assert_eq!(std::fs::read(l.journal_path()).unwrap(), before, "{name}: the journal is unchanged");
    }
}

#[test]
fn an_import_stopped_between_batches_leaves_a_valid_prefix_and_the_same_import_completes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, _) = reversed_bundle(tmp.path());
    let total = history().len() + CHAIN;
    let mut whole = fresh(&tmp.path().join("whole"));
    bundle::import(&mut whole, &path).unwrap();

    let dir = tmp.path().join("stopped");
    let mut l = fresh(&dir);
    let (r, seen) = batched(&mut l, &path, Some(3));
    match r {
        Err(BundleError::Stopped { added, done, batches, .. }) => {
            assert_eq!((added, done, batches), (3 * BATCH, 3, total.div_ceil(BATCH)))
        }
        other => panic!("expected the import to stop after batch 3, got {other:?}"),
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(l.len(), (3 * BATCH) as u64);
    // The prefix is the start of the one import order, and every entry of
    // it is valid at its place (a full verification from byte 0 passes).
    assert_eq!(order_of(&l), order_of(&whole)[..3 * BATCH].to_vec());
    drop(l);
    if let Err(f) = vereffen::ledger::verify::verify_journal(&dir.join("journal"), &vereffen::rules::ALL, |_| {}) {
        panic!("the prefix does not verify: {f:?}");
    }

    // Running the same import again (a new process would open the copy
    // again) appends the rest: the journal holds what an uninterrupted
    // import gives.
    let mut l = Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
    let rep = bundle::import(&mut l, &path).unwrap();
    assert_eq!((rep.added, rep.already_present), (total - 3 * BATCH, 3 * BATCH));
    assert_eq!(order_of(&l), order_of(&whole));
    assert_eq!(l.merkle_tree().root(), whole.merkle_tree().root());
}

#[test]
fn a_file_with_more_entry_lines_than_declared_is_refused_at_the_first_line_too_many() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, mut lines) = reversed_bundle(tmp.path());
    let header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let n = header["entries"].as_u64().unwrap();
    lines[0] = lines[0].replace(&format!("\"entries\":{n}"), "\"entries\":2");
    let path = tmp.path().join("more.jsonl");
    write_lines(&path, &lines);
    let mut l = fresh(&tmp.path().join("copy"));
    for r in [bundle::import(&mut l, &path).map(|_| ()), bundle::read(&path, LEDGER_ID).map(|_| ())] {
        match r {
            // Line 4 is entry line 3: refused there, without reading on.
            Err(BundleError::Line { line: 4, what, .. }) => {
                assert!(what.contains("declares 2 entries but the file holds more"), "{what}")
            }
            other => panic!("expected a refusal of line 4, got {other:?}"),
        }
    }
    assert_eq!(l.len(), 0);
}
