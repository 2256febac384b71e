//! The store through the binary: a damaged index never blocks a command
//! (it is rebuilt from the journal and the user is told), `verify` changes
//! no byte of the copy, and a journal truncated at a record boundary is
//! refused even after its index is deleted or rebuilt.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn vereffen(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vereffen"))
        .args(args)
        .current_dir(cwd)
        .env_remove("VEREFFEN_LEDGER")
        .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
        .output()
        .expect("run vereffen");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "vereffen {args:?} panicked: {}", r.stderr);
    r
}

fn ok(cwd: &Path, args: &[&str]) -> Run {
    let r = vereffen(cwd, args);
    assert_eq!(r.code, 0, "vereffen {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
    r
}

/// A work dir with key `k/a.key`, ledger `l` with party zh and five notes.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_path_buf();
    ok(&d, &["--ledger", "l", "init", "--id", "store-test"]);
    ok(&d, &["keys", "new", "a", "--dir", "k"]);
    ok(
        &d,
        &[
            "--ledger",
            "l",
            "party",
            "add",
            "--id",
            "zh",
            "--name",
            "Ziekenhuis",
            "--role",
            "provider",
            "--key",
            "k/a.key",
        ],
    );
    for i in 0..5 {
        ok(&d, &["--ledger", "l", "note", "--text", &format!("note {i}"), "--as", "k/a.key"]);
    }
    (tmp, d)
}

/// Every file under `dir` (recursively) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        for item in fs::read_dir(&p).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Asserts two snapshots are equal, naming the files that differ.
fn assert_same(after: &BTreeMap<PathBuf, Vec<u8>>, before: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    let names: std::collections::BTreeSet<&PathBuf> = after.keys().chain(before.keys()).collect();
    let differ: Vec<&PathBuf> = names.into_iter().filter(|n| after.get(*n) != before.get(*n)).collect();
    assert!(differ.is_empty(), "{what}: {differ:?}");
}

/// Record boundaries of a journal: the end offset of each record.
fn record_ends(journal: &Path) -> Vec<u64> {
    let mut scan = vereffen::ledger::journal::Scanner::open(journal).unwrap();
    let mut ends = Vec::new();
    while let Some((pos, _)) = scan.next_record().unwrap() {
        ends.push(pos.end());
    }
    ends
}

/// The three kinds of index damage seen in the field.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// sled killed while writing a snapshot: an empty `snap.*.generating`.
    EmptyGeneratingSnapshot,
    /// Random bytes over sled's files.
    Garbage,
    /// The index directory is gone.
    Deleted,
}

fn damage(index: &Path, how: Damage) {
    match how {
        Damage::EmptyGeneratingSnapshot => {
            fs::write(index.join("snap.FFFFFFFFFFFFFFF0.generating"), b"").unwrap();
        }
        Damage::Garbage => {
            // A fixed pseudo-random stream (no clock, reproducible).
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            for (path, bytes) in snapshot(index) {
                let garbage: Vec<u8> = (0..bytes.len().max(64))
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                fs::write(index.join(path), garbage).unwrap();
            }
        }
        Damage::Deleted => fs::remove_dir_all(index).unwrap(),
    }
}

#[test]
fn every_command_rebuilds_a_damaged_index_and_says_so() {
    for how in [Damage::EmptyGeneratingSnapshot, Damage::Garbage, Damage::Deleted] {
        let (_tmp, d) = setup();
        let index = d.join("l/index");
        let journal = fs::read(d.join("l/journal")).unwrap();
        // log
        damage(&index, how);
        let r = ok(&d, &["--ledger", "l", "log"]);
        assert!(r.stdout.contains("note 4"), "{how:?}: {}", r.stdout);
        assert!(r.stderr.contains("rebuilt it from the journal (6 entries)"), "{how:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{how:?}: one line: {}", r.stderr);
        assert_eq!(fs::read(d.join("l/journal")).unwrap(), journal, "{how:?}: the journal is untouched");
        // append
        damage(&index, how);
        let r = ok(&d, &["--ledger", "l", "note", "--text", "after the damage", "--as", "k/a.key"]);
        assert!(r.stdout.contains("sequence 7"), "{how:?}: {}", r.stdout);
        assert!(r.stderr.contains("rebuilt it from the journal (6 entries)"), "{how:?}: {}", r.stderr);
        // verify does not depend on the index at all.
        damage(&index, how);
        let r = ok(&d, &["--ledger", "l", "verify"]);
        assert!(r.stdout.contains("verify OK") && r.stdout.contains("entries     7"), "{how:?}: {}", r.stdout);
        // And the next command heals it again, lookups included.
        let r = ok(&d, &["--ledger", "l", "log", "--party", "zh"]);
        assert!(r.stdout.contains("after the damage"), "{how:?}: {}", r.stdout);
        assert!(r.stderr.contains("rebuilt it from the journal (7 entries)"), "{how:?}: {}", r.stderr);
        let r = ok(&d, &["--ledger", "l", "log"]);
        assert_eq!(r.stderr, "", "{how:?}: a healthy index is used as is");
    }
}

#[test]
fn verify_changes_no_byte_and_takes_no_lock() {
    let (_tmp, d) = setup();
    let l = d.join("l");
    // Healthy copy, while another process holds the writer lock.
    let held = vereffen::ledger::Ledger::open(&l, &vereffen::rules::ALL).unwrap();
    let before = snapshot(&l);
    let r = ok(&d, &["--ledger", "l", "verify"]);
    assert!(r.stdout.contains("verify OK"), "{}", r.stdout);
    assert_same(&snapshot(&l), &before, "verify changed a healthy copy");
    drop(held);
    // Without a lock file, verify does not create one.
    fs::remove_file(l.join("lock")).unwrap();
    let before = snapshot(&l);
    ok(&d, &["--ledger", "l", "verify"]);
    assert_same(&snapshot(&l), &before, "verify created a file");
    // A torn tail is reported, not cut.
    let mut journal = fs::read(l.join("journal")).unwrap();
    let end = journal.len();
    journal.extend_from_slice(&[7u8; 47]);
    fs::write(l.join("journal"), &journal).unwrap();
    let before = snapshot(&l);
    let r = ok(&d, &["--ledger", "l", "verify"]);
    assert!(
        r.stdout.contains(&format!(
            "torn tail   47 bytes of an unfinished write at offset {end}; the next write to this copy drops them"
        )),
        "{}",
        r.stdout
    );
    let json = ok(&d, &["--ledger", "l", "verify", "--json"]).stdout;
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["torn_tail"]["bytes"], 47);
    assert_same(&snapshot(&l), &before, "verify cut a torn tail");
    // A damaged copy: reported, not touched.
    let at = journal.windows(6).position(|w| w == b"note 2").unwrap();
    journal[at + 5] = b'9';
    fs::write(l.join("journal"), &journal).unwrap();
    let before = snapshot(&l);
    let r = vereffen(&d, &["--ledger", "l", "verify"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("verify FAILED at record 4"), "{}", r.stderr);
    assert_same(&snapshot(&l), &before, "verify changed a damaged copy");
    // A damaged index is not verify's business: not opened, not rebuilt.
    damage(&l.join("index"), Damage::EmptyGeneratingSnapshot);
    let before = snapshot(&l);
    vereffen(&d, &["--ledger", "l", "verify"]);
    assert_same(&snapshot(&l), &before, "verify touched the index");
}

#[test]
fn a_journal_cut_at_a_record_boundary_is_refused_without_its_index_and_after_reindex() {
    let (_tmp, d) = setup();
    let l = d.join("l");
    let ends = record_ends(&l.join("journal"));
    assert_eq!(ends.len(), 6);
    let full = fs::read(l.join("journal")).unwrap();
    // Cut the last two records exactly at a boundary and delete the index.
    let cut = &full[..ends[3] as usize];
    fs::write(l.join("journal"), cut).unwrap();
    fs::remove_dir_all(l.join("index")).unwrap();
    let before = snapshot(&l);
    for args in
        [&["log"][..], &["note", "--text", "x", "--as", "k/a.key"], &["reindex"], &["export", "--out", "x.jsonl"]]
    {
        let r = vereffen(&d, &[&["--ledger", "l"][..], args].concat());
        assert_ne!(r.code, 0, "{args:?} accepted a truncated journal: {}", r.stdout);
        assert!(
            r.stderr.contains("this copy acknowledged 6 entries") && r.stderr.contains("entries are missing"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("import` another party's export"), "{args:?} says what to do: {}", r.stderr);
        // (The lock file records the pid of whoever opened the copy last.)
        let mut after = snapshot(&l);
        after.insert("lock".into(), before[Path::new("lock")].clone());
        assert_same(&after, &before, &format!("{args:?} changed the copy"));
    }
    let r = vereffen(&d, &["--ledger", "l", "verify"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("verify FAILED at record 5: the journal holds 4 entries, but this copy acknowledged 6 entries"),
        "{}",
        r.stderr
    );
    // Cut inside an acknowledged record: never mistaken for a torn tail.
    fs::write(l.join("journal"), &full[..ends[4] as usize + 20]).unwrap();
    let r = vereffen(&d, &["--ledger", "l", "log"]);
    assert!(r.code != 0 && r.stderr.contains("entries are missing"), "{}", r.stderr);
    assert_eq!(fs::read(l.join("journal")).unwrap(), &full[..ends[4] as usize + 20]);
    // Putting the full journal back heals everything.
    fs::write(l.join("journal"), &full).unwrap();
    ok(&d, &["--ledger", "l", "reindex"]);
    ok(&d, &["--ledger", "l", "verify"]);
}

#[test]
fn verify_checks_a_copy_against_a_signed_checkpoint_from_outside() {
    let (_tmp, d) = setup();
    let l = d.join("l");
    ok(&d, &["--ledger", "l", "audit", "checkpoint", "--as", "k/a.key", "--out", "cp.txt"]);
    let r = ok(&d, &["--ledger", "l", "verify", "--checkpoint", "cp.txt"]);
    assert!(r.stdout.contains("checkpoint  cp.txt: size 6 of vereffen/store-test/zh, root matches"), "{}", r.stdout);
    // Someone truncates the journal at a record boundary and removes every
    // local trace (head, index, the checkpoint entry itself): only the
    // checkpoint held elsewhere still catches it.
    let ends = record_ends(&l.join("journal"));
    let full = fs::read(l.join("journal")).unwrap();
    fs::write(l.join("journal"), &full[..ends[4] as usize]).unwrap();
    fs::remove_file(l.join("head")).unwrap();
    fs::remove_dir_all(l.join("index")).unwrap();
    ok(&d, &["--ledger", "l", "verify"]);
    let r = vereffen(&d, &["--ledger", "l", "verify", "--checkpoint", "cp.txt"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("the checkpoint cp.txt covers 6 entries, but this copy holds only 5: entries are missing"),
        "{}",
        r.stdout
    );
    // A rewritten copy of the same length does not give the root either.
    let other = full[..ends[4] as usize].to_vec();
    fs::write(l.join("journal"), &other).unwrap();
    ok(&d, &["--ledger", "l", "note", "--text", "a different sixth entry", "--as", "k/a.key"]);
    let r = vereffen(&d, &["--ledger", "l", "verify", "--checkpoint", "cp.txt"]);
    assert!(r.code == 1 && r.stdout.contains("do not give the root of the checkpoint cp.txt"), "{}", r.stdout);
    // A file that is not a checkpoint is refused with a clear error.
    fs::write(d.join("bad.txt"), "not a checkpoint\n").unwrap();
    let r = vereffen(&d, &["--ledger", "l", "verify", "--checkpoint", "bad.txt"]);
    assert!(r.code != 0 && r.stderr.contains("bad.txt is not a signed checkpoint"), "{}", r.stderr);
}
