//! Crash tests: a child process appends in a loop and is killed with SIGKILL
//! at a random moment. After reopening, verify passes and every append the
//! child had acknowledged (printed after `append` returned) is present. And
//! `vereffen import` of a large bundle is killed with SIGKILL at many points:
//! the copy then holds none or all of the bundle's entries, with no manual
//! step.
//!
//! The appending child is this test binary itself, re-run with
//! `VEREFFEN_CRASH_CHILD` set, so that test needs nothing but the library.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rayon::prelude::*;
use vereffen::ledger::entry::EntryId;
use vereffen::ledger::Ledger;

const CHILD_ENV: &str = "VEREFFEN_CRASH_CHILD";

/// In the child: append batches of 1..=40 notes forever, printing each
/// acknowledged id. In a normal test run: returns at once.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let key = demo_key("ziekenhuis");
    let mut ledger = Ledger::open(std::path::Path::new(&dir), &vereffen::rules::ALL).unwrap();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    let mut n = 0u64;
    loop {
        let size = 1 + (n % 40) as usize;
        let batch: Vec<_> =
            (0..size).map(|i| note("ziekenhuis", &key, &format!("crash test note {n}.{i}"), vec![])).collect();
        ledger.append(&batch).unwrap();
        for e in &batch {
            writeln!(out, "ack {}", e.id().to_hex()).unwrap();
        }
        out.flush().unwrap();
        n += 1;
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    let zh = demo_key("ziekenhuis");
    drop(ledger_with(&dir, &[register("ziekenhuis", "Ziekenhuis", vereffen::ledger::registry::Role::Provider, &zh)]));
    let mut total_acked = 0usize;
    // Kill moments spread over the first second of appending.
    for (round, wait_ms) in [37u64, 151, 263, 419, 587, 811].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut acked = Vec::new();
        // libtest prints its own lines first.
        loop {
            let line = rx.recv_timeout(Duration::from_secs(60)).expect("child did not start");
            if line.contains("ready") {
                break;
            }
        }
        // The kill moment counts from the first acknowledgement, so a loaded
        // machine (the import crash test runs beside this one) cannot make
        // every kill land before the child appended anything.
        let first = rx.recv_timeout(Duration::from_secs(60)).expect("child acknowledged nothing within 60 s");
        if let Some(id) = first.strip_prefix("ack ") {
            acked.push(EntryId::from_hex(id).unwrap());
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(wait_ms) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(5)) {
                if let Some(id) = line.strip_prefix("ack ") {
                    acked.push(EntryId::from_hex(id).unwrap());
                }
            }
        }
        // SIGKILL: no destructors, no flushes.
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        for line in rx.try_iter() {
            if let Some(id) = line.strip_prefix("ack ") {
                acked.push(EntryId::from_hex(id).unwrap());
            }
        }
        let ledger = Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
        let summary = vereffen::ledger::verify::verify_journal(ledger.journal_path(), &vereffen::rules::ALL, |_| {})
            .unwrap_or_else(|f| panic!("round {round}: verify failed: {f}"));
        assert_eq!(summary.entries, ledger.len());
        for id in &acked {
            assert!(ledger.contains(id).unwrap(), "round {round}: acknowledged entry {} is missing", id.short());
        }
        total_acked += acked.len();
    }
    assert!(total_acked > 0, "the child never acknowledged anything: the test tested nothing");
}

/// Notes in the bundle of the import crash test (about 4 MB of bundle).
const IMPORT_NOTES: usize = 6_000;
/// Kills of `vereffen import` per run of the test.
const IMPORT_TRIALS: usize = 20;

/// Bytes of the file at `path` (0 if it cannot be read).
fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn import_killed_anywhere_leaves_none_or_all() {
    let tmp = tempfile::tempdir().unwrap();
    let zh = demo_key("ziekenhuis");
    let reg = register("ziekenhuis", "Ziekenhuis", vereffen::ledger::registry::Role::Provider, &zh);
    // The copy that imports: the registration only.
    let base = tmp.path().join("base");
    drop(ledger_with(&base, std::slice::from_ref(&reg)));
    // The exporting copy: the registration and many notes, appended in batches.
    let source = tmp.path().join("source");
    let mut src = ledger_with(&source, std::slice::from_ref(&reg));
    let notes: Vec<_> = (0..IMPORT_NOTES)
        .into_par_iter()
        .map(|i| note("ziekenhuis", &zh, &format!("import crash note {i}: {}", "bed-days ".repeat(40)), vec![]))
        .collect();
    for chunk in notes.chunks(2000) {
        src.append(chunk).unwrap();
    }
    let bundle = tmp.path().join("bundle.jsonl");
    vereffen::ledger::bundle::export(&src, &bundle, 1).unwrap();
    drop(src);
    let ids: Vec<EntryId> = notes.iter().map(|e| e.id()).collect();
    let base_journal = file_len(&base.join("journal"));

    let import = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_vereffen"))
            .arg("--ledger")
            .arg(dir)
            .arg("import")
            .arg(&bundle)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // One uninterrupted import, to know how long one takes.
    let whole = tmp.path().join("whole");
    copy_dir(&base, &whole);
    let start = Instant::now();
    assert!(import(&whole).wait().unwrap().success(), "an uninterrupted import fails");
    let full = start.elapsed();

    // A fixed pseudo-random sequence (the same kill points every run).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below.max(1)
    };
    let (mut none, mut all, mut unfinished) = (0, 0, 0);
    let mut imported_again = false;
    for trial in 0..IMPORT_TRIALS {
        let dir = tmp.path().join(format!("trial-{trial}"));
        copy_dir(&base, &dir);
        let journal = dir.join("journal");
        let mut child = import(&dir);
        let t = Instant::now();
        if trial % 2 == 0 {
            // Kill while the journal is being written: as soon as it grows,
            // after 0 to 3 ms.
            let delay = Duration::from_micros(random(3000));
            while file_len(&journal) == base_journal && t.elapsed() < full * 4 + Duration::from_secs(10) {
                std::hint::spin_loop();
            }
            let grown = Instant::now();
            while grown.elapsed() < delay {
                std::hint::spin_loop();
            }
        } else {
            // Kill at a random moment of the whole import.
            let at = Duration::from_micros(random(full.as_micros() as u64));
            while t.elapsed() < at {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        // SIGKILL: no destructors, no flushes.
        child.kill().unwrap();
        child.wait().unwrap();

        // Read-only verification first: an unfinished import is reported as
        // such, never as damage.
        let before = vereffen::ledger::verify::verify_journal(&journal, &vereffen::rules::ALL, |_| {})
            .unwrap_or_else(|f| panic!("trial {trial}: verify of the killed copy failed: {f}"));
        if let Some(t) = before.torn {
            unfinished += usize::from(t.unfinished_batch == Some(IMPORT_NOTES as u64));
        }
        // Opening drops an unfinished batch whole; no manual step.
        let ledger =
            Ledger::open(&dir, &vereffen::rules::ALL).unwrap_or_else(|e| panic!("trial {trial}: open failed: {e}"));
        let summary = vereffen::ledger::verify::verify_journal(ledger.journal_path(), &vereffen::rules::ALL, |_| {})
            .unwrap_or_else(|f| panic!("trial {trial}: verify failed: {f}"));
        assert_eq!(summary.torn, None, "trial {trial}: the open left a torn tail");
        assert_eq!(summary.entries, ledger.len(), "trial {trial}");
        let present = ids.iter().filter(|id| ledger.contains(id).unwrap()).count();
        match present {
            0 => {
                assert_eq!(ledger.len(), 1, "trial {trial}: only the registration");
                none += 1;
            }
            n if n == ids.len() => {
                assert_eq!(ledger.len(), 1 + ids.len() as u64, "trial {trial}");
                all += 1;
            }
            n => panic!(
                "trial {trial}: the copy holds {n} of the bundle's {} entries: import is not all or nothing",
                ids.len()
            ),
        }
        drop(ledger);
        // An interrupted import can simply be run again.
        if present == 0 && !imported_again {
            imported_again = true;
            assert!(import(&dir).wait().unwrap().success(), "trial {trial}: importing again fails");
            let ledger = Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
            assert_eq!(ledger.len(), 1 + ids.len() as u64, "trial {trial}: the repeated import is incomplete");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("import crash trials: {none} none, {all} all, {unfinished} unfinished batches dropped");
    assert!(unfinished > 0, "no kill landed while the batch was being written: the test tested nothing");
    assert!(none > 0, "no kill landed before the import was durable");
}

/// Entries in the ledger whose index is killed while being built.
const BIG: usize = 20_000;
/// Kill moments per command, spread over one uninterrupted index build.
const KILL_TRIALS: u32 = 6;

fn binary(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vereffen"));
    c.arg("--ledger").arg(dir).args(args).env_remove("VEREFFEN_LEDGER");
    c
}

/// SIGKILL while the index is being built (by `reindex`, or by the first
/// open of a copy without an index) at moments spread over the build; each
/// time the next ordinary commands work with no manual step, and the index
/// they use holds every entry.
#[test]
fn sigkill_during_index_creation_needs_no_manual_step() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    let zh = demo_key("ziekenhuis");
    let mut ledger =
        ledger_with(&dir, &[register("ziekenhuis", "Ziekenhuis", vereffen::ledger::registry::Role::Provider, &zh)]);
    let mut ids = Vec::with_capacity(BIG);
    for chunk in 0..BIG / 1000 {
        let batch: Vec<_> = (0..1000).map(|i| note("ziekenhuis", &zh, &format!("bulk {chunk}.{i}"), vec![])).collect();
        ids.extend(batch.iter().map(|e| e.id()));
        ledger.append(&batch).unwrap();
    }
    drop(ledger);
    // How long one uninterrupted build takes on this machine: the fastest of
    // a few `reindex` runs and first opens (a first measurement can be slowed
    // by a cold file cache or a busy machine; kill times spread over a build
    // longer than the real one would miss it).
    let mut build = Duration::MAX;
    for round in 0..4 {
        let args: &[&str] = if round % 2 == 0 { &["reindex"] } else { &["log", "--limit", "1"] };
        if round % 2 == 1 {
            std::fs::remove_dir_all(dir.join("index")).unwrap();
        }
        let start = Instant::now();
        let out = binary(&dir, args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        build = build.min(start.elapsed());
    }
    let mut killed_mid_build = 0;
    for trial in 0..2 * KILL_TRIALS {
        let (args, what): (&[&str], &str) =
            if trial % 2 == 0 { (&["reindex"], "reindex") } else { (&["log", "--limit", "1"], "first open") };
        if trial % 2 == 1 {
            std::fs::remove_dir_all(dir.join("index")).unwrap();
        }
        let at = build * (2 * (trial / 2) + 1) / (2 * KILL_TRIALS);
        let mut child = binary(&dir, args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            killed_mid_build += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // The next commands just work. Each trial so far appended one note.
        let appended = u64::from(trial);
        let out = binary(&dir, &["log", "--limit", "1"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "trial {trial} ({what} killed after {at:?}): log failed: {stderr}");
        assert!(!stderr.contains("reindex"), "trial {trial}: a manual step was asked for: {stderr}");
        let mut ledger =
            Ledger::open(&dir, &vereffen::rules::ALL).unwrap_or_else(|e| panic!("trial {trial} ({what}): {e}"));
        assert_eq!(ledger.len(), (1 + BIG) as u64 + appended);
        assert_eq!(ledger.index().by_kind("note").unwrap().len(), BIG + appended as usize, "trial {trial}");
        for id in ids.iter().step_by(997) {
            assert!(ledger.contains(id).unwrap(), "trial {trial}: entry {} not found", id.short());
        }
        ledger.append(&[note("ziekenhuis", &zh, &format!("after trial {trial}"), vec![])]).unwrap();
        drop(ledger);
        let out = binary(&dir, &["verify"]).output().unwrap();
        assert!(out.status.success(), "trial {trial}: verify: {}", String::from_utf8_lossy(&out.stdout));
    }
    eprintln!("{killed_mid_build} of {} kills hit a running build (build {build:?})", 2 * KILL_TRIALS);
    assert!(
        killed_mid_build >= KILL_TRIALS,
        "only {killed_mid_build} kills hit a running build: the test tested little"
    );
}

/// Notes in the bundle of the multi-batch kill test: two whole batches of
/// `bundle::IMPORT_BATCH` and a part batch, so `vereffen import` appends
/// three batches after checking every entry.
const MULTI_NOTES: usize = 2 * vereffen::ledger::bundle::IMPORT_BATCH + 700;
/// Kill moments in the multi-batch kill test.
const MULTI_TRIALS: usize = 8;

/// `vereffen import` of a bundle larger than one batch (FORMAT.md 7,
/// "Batches") killed with SIGKILL at moments spread over the import, most of
/// them while batches are being appended: each time the copy opens with no
/// manual step and verifies, it holds the bundle's first 0, 1, 2 or all
/// batches (whole batches, never part of one), and running the same import
/// again completes it to the Merkle root of an uninterrupted import.
#[test]
fn multi_batch_import_killed_anywhere_leaves_whole_batches_and_resumes() {
    let batch = vereffen::ledger::bundle::IMPORT_BATCH as u64;
    let tmp = tempfile::tempdir().unwrap();
    let zh = demo_key("ziekenhuis");
    let reg = register("ziekenhuis", "Ziekenhuis", vereffen::ledger::registry::Role::Provider, &zh);
    let base = tmp.path().join("base");
    drop(ledger_with(&base, std::slice::from_ref(&reg)));
    let source = tmp.path().join("source");
    let mut src = ledger_with(&source, std::slice::from_ref(&reg));
    let notes: Vec<_> = (0..MULTI_NOTES)
        .into_par_iter()
        .map(|i| note("ziekenhuis", &zh, &format!("batch kill note {i}"), vec![]))
        .collect();
    for chunk in notes.chunks(5000) {
        src.append(chunk).unwrap();
    }
    let bundle = tmp.path().join("bundle.jsonl");
    vereffen::ledger::bundle::export(&src, &bundle, 1).unwrap();
    drop(src);
    let base_journal = file_len(&base.join("journal"));
    let import = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_vereffen"))
            .arg("--ledger")
            .arg(dir)
            .arg("import")
            .arg(&bundle)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    // One uninterrupted import: its duration, its Merkle root, and how long
    // the first pass (checking, nothing appended) takes.
    let whole = tmp.path().join("whole");
    copy_dir(&base, &whole);
    let start = Instant::now();
    let mut child = import(&whole);
    let journal = whole.join("journal");
    let mut first_append = None;
    let status = loop {
        if first_append.is_none() && file_len(&journal) > base_journal {
            first_append = Some(start.elapsed());
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "the uninterrupted import takes over 10 minutes");
        std::thread::sleep(Duration::from_micros(500));
    };
    assert!(status.success(), "an uninterrupted import fails");
    let full = start.elapsed();
    let appending_from = first_append.unwrap_or(Duration::ZERO);
    let expected_root = {
        let l = Ledger::open(&whole, &vereffen::rules::ALL).unwrap();
        assert_eq!(l.len(), 1 + MULTI_NOTES as u64);
        l.merkle_tree().root()
    };
    std::fs::remove_dir_all(&whole).unwrap();

    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below.max(1)
    };
    // How many trials ended with 0, 1, 2 and all 3 batches.
    let mut held = [0usize; 4];
    for trial in 0..MULTI_TRIALS {
        let dir = tmp.path().join(format!("multi-{trial}"));
        copy_dir(&base, &dir);
        let journal = dir.join("journal");
        let mut child = import(&dir);
        let t = Instant::now();
        // One trial in four anywhere in the import (the first pass
        // included); the others in the appending phase.
        let at = if trial % 4 == 0 {
            Duration::from_micros(random(full.as_micros() as u64))
        } else {
            let span = full.saturating_sub(appending_from);
            appending_from + Duration::from_micros(random(span.as_micros() as u64))
        };
        while t.elapsed() < at {
            std::thread::sleep(Duration::from_micros(200));
        }
        child.kill().unwrap();
        child.wait().unwrap();

        // Read-only first: the killed copy verifies (an unfinished batch is
        // a torn tail, never damage).
        vereffen::ledger::verify::verify_journal(&journal, &vereffen::rules::ALL, |_| {})
            .unwrap_or_else(|f| panic!("trial {trial}: verify of the killed copy failed: {f}"));
        let ledger =
            Ledger::open(&dir, &vereffen::rules::ALL).unwrap_or_else(|e| panic!("trial {trial}: open failed: {e}"));
        let summary = vereffen::ledger::verify::verify_journal(ledger.journal_path(), &vereffen::rules::ALL, |_| {})
            .unwrap_or_else(|f| panic!("trial {trial}: verify failed: {f}"));
        assert_eq!(summary.torn, None, "trial {trial}: the open left a torn tail");
        let imported = ledger.len() - 1;
        let whole_batches = match imported {
            0 => 0,
            n if n == batch => 1,
            n if n == 2 * batch => 2,
            n if n == MULTI_NOTES as u64 => 3,
            n => panic!("trial {trial}: the copy holds {n} of the bundle's entries: not a whole number of batches"),
        };
        held[whole_batches] += 1;
        drop(ledger);
        // The same import again completes the copy to the same history.
        let mut again = import(&dir);
        let t = Instant::now();
        let status = loop {
            if let Some(s) = again.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < full * 4 + Duration::from_secs(60), "trial {trial}: the repeated import hangs");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(status.success(), "trial {trial}: importing again fails");
        let ledger = Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
        assert_eq!(ledger.len(), 1 + MULTI_NOTES as u64, "trial {trial}: the repeated import is incomplete");
        assert_eq!(ledger.merkle_tree().root(), expected_root, "trial {trial}: the completed copy is another history");
        drop(ledger);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "multi-batch import kill trials: {} none, {} one batch, {} two batches, {} whole (import {:?}, appending from {:?})",
        held[0], held[1], held[2], held[3], full, appending_from
    );
    assert!(held[1] + held[2] > 0, "no kill landed between two batches: the test tested nothing");
}
