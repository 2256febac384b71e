//! The command line under hostile conditions: a reader that closes the pipe
//! early, `--out` paths that are symlinks, a full disk while writing keys or
//! the journal, absurd `--threads`, notes about contracts that do not exist,
//! and error messages that must say each thing once.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{key, ok, repo, run};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vereffen")
}

/// Runs vereffen with its stdout a pipe whose reading end is closed before
/// the program writes anything; returns (exit code, stderr).
fn run_with_closed_stdout(cwd: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env("VEREFFEN_LEDGER", "l")
        .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vereffen");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The demo ledgers in `d/demo`; returns the insurer's copy and the id of
/// its contract.
fn demo(d: &Path) -> (String, String) {
    ok(d, &["demo", "--dir", "demo"]);
    let copy = "demo/verzekeraar-copy".to_string();
    let list: serde_json::Value =
        serde_json::from_str(&ok(d, &["--ledger", &copy, "--json", "contract", "list"])).unwrap();
    let id = list.as_array().unwrap()[0]["contract"].as_str().unwrap().to_string();
    (copy, id)
}

#[test]
fn a_closed_pipe_is_a_normal_end() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (copy, contract) = demo(d);
    let l = copy.as_str();
    let c = contract.as_str();
    let pubkey = repo().join("keys/demo-verzekeraar.pub").display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["--ledger", l, "log"],
        vec!["--ledger", l, "log", "--json"],
        vec!["--ledger", l, "verify"],
        vec!["--ledger", l, "contract", "list"],
        vec!["--ledger", l, "--json", "measure", "list", c],
        vec!["--ledger", l, "--json", "settle", "status", c],
        vec!["--ledger", l, "audit", "status"],
        vec!["--ledger", l, "audit", "report", "--format", "json"],
        vec!["keys", "show", &pubkey],
    ];
    for args in &commands {
        let (code, err) = run_with_closed_stdout(d, args);
        assert!(!err.contains("panicked") && !err.contains("failed printing"), "vereffen {args:?}:\n{err}");
        assert_eq!(code, Some(0), "vereffen {args:?} with a closed stdout:\n{err}");
    }
    // Files are written before anything is printed: the output directory of
    // a simulation survives a reader that stops at once, every time.
    let contract_file = repo().join("contracts/copd-telemonitoring-shared-savings.toml");
    let scenarios = repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    for i in 0..3 {
        let out = format!("sim{i}");
        let args = [
            "simulate",
            contract_file.to_str().unwrap(),
            "--scenarios",
            scenarios.to_str().unwrap(),
            "--runs",
            "200",
            "--threads",
            "1",
            "--out",
            &out,
        ];
        let (code, err) = run_with_closed_stdout(d, &args);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(code, Some(0), "{err}");
        assert!(d.join(&out).join("summary.csv").is_file(), "run {i}: the output directory was lost:\n{err}");
    }
}

/// A copy `l` kept by zh with some notes and a checkpoint, and a copy `b`
/// of the same entries kept by vz.
fn audit_setup(d: &Path) {
    ok(d, &["--ledger", "l", "init", "--id", "copd-test"]);
    for (id, party, role) in [("zh", "ziekenhuis", "provider"), ("vz", "verzekeraar", "payer")] {
        ok(d, &["--ledger", "l", "party", "add", "--id", id, "--name", party, "--role", role, "--key", &key(party)]);
    }
    ok(d, &["--ledger", "l", "note", "--text", "minutes", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "l", "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", "c1"]);
    ok(d, &["--ledger", "l", "note", "--text", "more minutes", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "l", "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", "c2"]);
    ok(d, &["--ledger", "l", "export", "--out", "all.jsonl"]);
    ok(d, &["--ledger", "b", "init", "--id", "copd-test"]);
    ok(d, &["--ledger", "b", "import", "all.jsonl"]);
}

#[cfg(unix)]
#[test]
fn every_out_replaces_a_symlink_and_never_writes_through_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    audit_setup(d);
    let ids: Vec<String> = ok(d, &["--ledger", "l", "log", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    let (zh, vz) = (key("ziekenhuis"), key("verzekeraar"));
    let commands: Vec<Vec<&str>> = vec![
        vec!["--ledger", "l", "audit", "checkpoint", "--as", &zh, "--out", "LINK"],
        vec!["--ledger", "l", "audit", "prove", &ids[0], "--out", "LINK"],
        vec!["--ledger", "l", "audit", "consistency", "c1", "c2", "--out", "LINK"],
        vec!["--ledger", "b", "audit", "witness", "c1", "--as", &vz, "--out", "LINK"],
        vec!["--ledger", "l", "audit", "report", "--format", "json", "--out", "LINK"],
    ];
    for (i, args) in commands.iter().enumerate() {
        let target = d.join(format!("precious-{i}"));
        fs::write(&target, "do not touch").unwrap();
        let link = format!("link-{i}");
        std::os::unix::fs::symlink(&target, d.join(&link)).unwrap();
        let args: Vec<&str> = args.iter().map(|a| if *a == "LINK" { link.as_str() } else { a }).collect();
        ok(d, &args);
        assert_eq!(fs::read_to_string(&target).unwrap(), "do not touch", "vereffen {args:?} wrote through the link");
        let meta = fs::symlink_metadata(d.join(&link)).unwrap();
        assert!(meta.file_type().is_file(), "vereffen {args:?}: the link was not replaced by the output");
        assert!(fs::metadata(d.join(&link)).unwrap().len() > 0);
    }
}

/// A shell that runs vereffen with a file size limit of 0 bytes (and
/// SIGXFSZ ignored), so every write to a file fails as on a full disk.
fn run_on_full_disk(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 0 && trap '' XFSZ && exec \"$@\"")
        .arg("sh")
        .arg(bin())
        .args(args)
        .current_dir(cwd)
        .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[cfg(unix)]
#[test]
fn keys_new_on_a_full_disk_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir(d.join("k")).unwrap();
    let (code, err) = run_on_full_disk(d, &["keys", "new", "x", "--dir", "k"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("cannot write key file") && !err.contains("panicked"), "{err}");
    let left: Vec<_> = fs::read_dir(d.join("k")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "a failed write left {left:?}");
    // The name is still free.
    ok(d, &["keys", "new", "x", "--dir", "k"]);
    assert!(fs::metadata(d.join("k/x.key")).unwrap().len() > 0);
}

#[test]
fn an_import_error_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    audit_setup(d);
    // Only the notes and checkpoints, without the registrations they need.
    ok(d, &["--ledger", "l", "export", "--out", "tail.jsonl", "--since", "3"]);
    ok(d, &["--ledger", "fresh", "init", "--id", "copd-test"]);
    let (code, _, err) = run(d, &["--ledger", "fresh", "import", "tail.jsonl"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("tail.jsonl:"), "{err}");
    assert_eq!(err.matches("Nothing was appended").count(), 1, "the message once:\n{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn simulate_threads_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let contract_file = repo().join("contracts/copd-telemonitoring-shared-savings.toml");
    let scenarios = repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    let args = |threads: &'static str| -> Vec<String> {
        vec![
            "simulate".into(),
            contract_file.display().to_string(),
            "--scenarios".into(),
            scenarios.display().to_string(),
            "--runs".into(),
            "50".into(),
            "--threads".into(),
            threads.into(),
        ]
    };
    let start = std::time::Instant::now();
    let too_many = args("10000");
    let (code, out, err) = run(d, &too_many.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("--threads 10000 is too many") && err.contains("at most 256"), "{err}");
    assert!(out.is_empty(), "nothing ran: {out}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let max = args("256");
    ok(d, &max.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn a_note_about_an_unknown_contract_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (copy, contract) = demo(d);
    let journal: PathBuf = d.join(&copy).join("journal");
    let before = fs::read(&journal).unwrap();
    let (code, _, err) =
        run(d, &["--ledger", &copy, "note", "--text", "x", "--contract", "no-such", "--as", &key("verzekeraar")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("there is no contract \"no-such\""), "{err}");
    assert_eq!(fs::read(&journal).unwrap(), before);
    ok(d, &["--ledger", &copy, "note", "--text", "x", "--contract", &contract, "--as", &key("verzekeraar")]);
}
