//! End-to-end tests through the `vereffen` binary: the happy path of a
//! ledger's life, and every kind of bad input the ledger core promises to
//! refuse with a clear error while changing nothing.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn vereffen(cwd: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_vereffen"))
        .args(args)
        .current_dir(cwd)
        .env_remove("VEREFFEN_LEDGER")
        .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
        .output()
        .expect("run vereffen");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(cwd: &Path, args: &[&str]) -> String {
    let r = vereffen(cwd, args);
    assert_eq!(r.code, 0, "vereffen {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
    r.stdout
}

/// Runs a command that must fail; returns stderr. Checks that the journal
/// of `ledger` is byte for byte unchanged.
fn refused(cwd: &Path, ledger: &str, args: &[&str], expect: &str) -> String {
    let journal = cwd.join(ledger).join("journal");
    let before = fs::read(&journal).ok();
    let r = vereffen(cwd, args);
    assert_ne!(r.code, 0, "vereffen {args:?} should fail:\n{}", r.stdout);
    assert!(r.stderr.contains(expect), "vereffen {args:?}: expected {expect:?} in:\n{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    assert_eq!(fs::read(&journal).ok(), before, "vereffen {args:?} changed the journal");
    r.stderr
}

/// A work dir with keys a, b, c, d and a ledger `l` with parties zh (a), vz (b).
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_path_buf();
    ok(&d, &["--ledger", "l", "init", "--id", "copd-test"]);
    for k in ["a", "b", "c", "d"] {
        ok(&d, &["keys", "new", k, "--dir", "k"]);
    }
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
    ok(
        &d,
        &[
            "--ledger",
            "l",
            "party",
            "add",
            "--id",
            "vz",
            "--name",
            "Verzekeraar",
            "--role",
            "payer",
            "--key",
            "k/b.key",
        ],
    );
    (tmp, d)
}

#[test]
fn a_ledgers_life_through_the_cli() {
    let (_tmp, d) = setup();
    let l = ["--ledger", "l"];
    let out = ok(
        &d,
        // No --contract: this ledger has no contract, and a note about an
        // unknown contract is refused (tests/cli_robustness.rs).
        &[&l[..], &["note", "--text", "kick-off", "--as", "k/a.key", "--json"]].concat(),
    );
    let note: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let note_id = note["id"].as_str().unwrap().to_string();
    ok(&d, &[&l[..], &["note", "--text", "agreed", "--ref", &note_id, "--as", "k/b.key"]].concat());
    ok(&d, &[&l[..], &["party", "rotate-key", "--as", "k/a.key", "--new", "k/c.key"]].concat());
    ok(&d, &[&l[..], &["party", "rotate-key", "--as", "k/b.key", "--new", "k/d.key", "--keep-old"]].concat());
    let fp_b = ok(&d, &["keys", "show", "k/b.pub", "--json"]);
    let fp_b: serde_json::Value = serde_json::from_str(fp_b.trim()).unwrap();
    ok(
        &d,
        &[
            &l[..],
            &[
                "party",
                "revoke-key",
                "--as",
                "k/d.key",
                "--revoke",
                fp_b["fingerprint"].as_str().unwrap(),
                "--reason",
                "laptop lost",
            ],
        ]
        .concat(),
    );

    let log = ok(&d, &[&l[..], &["log"]].concat());
    assert!(log.contains("registers zh as provider"), "{log}");
    assert!(log.contains("retires"), "{log}");
    assert!(log.contains("revokes key"), "{log}");
    let parties = ok(&d, &[&l[..], &["party", "list"]].concat());
    assert!(parties.contains("ended at seq"), "{parties}");

    let v = ok(&d, &[&l[..], &["verify"]].concat());
    assert!(v.contains("verify OK") && v.contains("entries     7"), "{v}");

    // A second copy imports the export and ends with the same set.
    ok(&d, &[&l[..], &["export", "--out", "b.jsonl"]].concat());
    ok(&d, &["--ledger", "m", "init", "--id", "copd-test"]);
    let imp = ok(&d, &["--ledger", "m", "import", "b.jsonl"]);
    assert!(imp.contains("7 added, 0 already present"), "{imp}");
    let imp = ok(&d, &["--ledger", "m", "import", "b.jsonl"]);
    assert!(imp.contains("0 added, 7 already present"), "{imp}");
    let digest = |ledger: &str| {
        let v: serde_json::Value =
            serde_json::from_str(ok(&d, &["--ledger", ledger, "verify", "--json"]).trim()).unwrap();
        assert_eq!(v["ok"], true);
        v["set_digest"].as_str().unwrap().to_string()
    };
    assert_eq!(digest("l"), digest("m"));

    // Incremental export.
    ok(&d, &[&l[..], &["export", "--out", "tail.jsonl", "--since", "6"]].concat());
    assert_eq!(fs::read_to_string(d.join("tail.jsonl")).unwrap().lines().count(), 3);

    let re = ok(&d, &[&l[..], &["reindex"]].concat());
    assert!(re.contains("from 7 journal entries"), "{re}");
    assert_eq!(digest("l"), digest("m"));
}

#[test]
fn bad_key_files_are_named_and_change_nothing() {
    let (_tmp, d) = setup();
    let add = |key: &str| {
        ["--ledger", "l", "party", "add", "--id", "tz", "--name", "Thuiszorg", "--role", "provider", "--key", key]
            .map(String::from)
    };
    let run = |args: [String; 12], expect: &str| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&d, "l", &a, expect)
    };
    run(add("k/missing.key"), "k/missing.key does not exist");
    fs::write(d.join("k/junk.key"), "not a key at all").unwrap();
    run(add("k/junk.key"), "k/junk.key is not an ed25519 private key");
    run(add("k/c.pub"), "holds a public key; pass the private .key file");
    fs::create_dir(d.join("k/dir.key")).unwrap();
    run(add("k/dir.key"), "not a regular file");
    // An RSA-like PEM of another kind.
    fs::write(d.join("k/other.key"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    run(add("k/other.key"), "another kind of PEM object");
    // Keys are never overwritten.
    let r = vereffen(&d, &["keys", "new", "a", "--dir", "k"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
}

#[test]
fn party_rules_are_enforced() {
    let (_tmp, d) = setup();
    refused(
        &d,
        "l",
        &["--ledger", "l", "party", "add", "--id", "zh", "--name", "Again", "--role", "provider", "--key", "k/c.key"],
        "party \"zh\" is already registered",
    );
    refused(
        &d,
        "l",
        &[
            "--ledger", "l", "party", "add", "--id", "zz", "--name", "Same key", "--role", "provider", "--key",
            "k/a.key",
        ],
        "already registered to party \"zh\"",
    );
    refused(
        &d,
        "l",
        &["--ledger", "l", "party", "rotate-key", "--as", "k/c.key", "--new", "k/d.key"],
        "is not a key of any party",
    );
    refused(
        &d,
        "l",
        &["--ledger", "l", "party", "revoke-key", "--as", "k/c.key", "--revoke", "k/a.pub", "--reason", "x"],
        "is not a key of any party",
    );
    // zh cannot revoke vz's key.
    refused(
        &d,
        "l",
        &["--ledger", "l", "party", "revoke-key", "--as", "k/a.key", "--revoke", "k/b.pub", "--reason", "hostile"],
        "is not a key of party \"zh\"",
    );
    // After a retiring rotation the old key can no longer sign.
    ok(&d, &["--ledger", "l", "party", "rotate-key", "--as", "k/a.key", "--new", "k/c.key"]);
    refused(&d, "l", &["--ledger", "l", "note", "--text", "x", "--as", "k/a.key"], "is no longer valid");
    refused(
        &d,
        "l",
        &["--ledger", "l", "note", "--text", "x", "--ref", "abc", "--as", "k/c.key"],
        "is not a full entry id",
    );
    refused(
        &d,
        "l",
        &["--ledger", "l", "note", "--text", "x", "--ref", &"ab".repeat(32), "--as", "k/c.key"],
        "which is not in this ledger",
    );
    refused(
        &d,
        "l",
        &["--ledger", "l", "party", "add", "--id", "Bad Id", "--name", "x", "--role", "payer", "--key", "k/d.key"],
        "is not valid",
    );
}

#[test]
fn bad_bundles_name_the_line_and_import_nothing() {
    let (_tmp, d) = setup();
    ok(&d, &["--ledger", "l", "note", "--text", "first", "--as", "k/a.key"]);
    ok(&d, &["--ledger", "l", "export", "--out", "good.jsonl"]);
    ok(&d, &["--ledger", "m", "init", "--id", "copd-test"]);
    let good = fs::read_to_string(d.join("good.jsonl")).unwrap();
    let lines: Vec<String> = good.lines().map(String::from).collect();
    let write = |name: &str, lines: &[String]| fs::write(d.join(name), lines.join("\n") + "\n").unwrap();
    let import = |name: &str, expect: &str| refused(&d, "m", &["--ledger", "m", "import", name], expect);

    // Bad signature: flip a hex digit of line 3's signature.
    let mut bad = lines.clone();
    let sig_at = bad[2].rfind("\"sig\":\"").unwrap() + 7;
    let flipped = if &bad[2][sig_at..sig_at + 1] == "0" { "1" } else { "0" };
    bad[2].replace_range(sig_at..sig_at + 1, flipped);
    write("badsig.jsonl", &bad);
    import("badsig.jsonl", "badsig.jsonl:3: entry");
    import("badsig.jsonl", "signature does not verify");

    // Bad id.
    let mut bad = lines.clone();
    let id_at = bad[3].find("\"id\":\"").unwrap() + 6;
    bad[3].replace_range(id_at..id_at + 4, "0000");
    write("badid.jsonl", &bad);
    import("badid.jsonl", "badid.jsonl:4: the id");

    // Altered body (amount of text changed): the id no longer matches.
    let mut bad = lines.clone();
    bad[3] = bad[3].replace("first", "FIRST");
    write("badbody.jsonl", &bad);
    import("badbody.jsonl", "badbody.jsonl:4: the id");

    // Reference to a missing entry: only the note, without the registrations.
    ok(
        &d,
        &[
            "--ledger",
            "l",
            "note",
            "--text",
            "second",
            "--ref",
            serde_json::from_str::<serde_json::Value>(&lines[3]).unwrap()["id"].as_str().unwrap(),
            "--as",
            "k/a.key",
        ],
    );
    ok(&d, &["--ledger", "l", "export", "--out", "tail.jsonl", "--since", "4"]);
    import("tail.jsonl", "tail.jsonl:2: entry");

    // Truncated last line.
    let cut = &good[..good.len() - 10];
    fs::write(d.join("cut.jsonl"), cut).unwrap();
    import("cut.jsonl", "cut.jsonl:4: the last line is cut short");

    // A line that is not an entry.
    let mut bad = lines.clone();
    bad.insert(2, "{\"hello\":\"world\"}".into());
    write("notentry.jsonl", &bad);
    import("notentry.jsonl", "notentry.jsonl:3: not a bundle entry line");

    // Lines removed: the header count no longer matches.
    write("short.jsonl", &lines[..3]);
    import("short.jsonl", "the header declares 3 entries but the file holds 2");

    // Not a bundle; another ledger.
    fs::write(d.join("junk.jsonl"), "hello\n").unwrap();
    import("junk.jsonl", "junk.jsonl:1: not a vereffen bundle header");
    ok(&d, &["--ledger", "other", "init", "--id", "another-ledger"]);
    refused(
        &d,
        "other",
        &["--ledger", "other", "import", "good.jsonl"],
        "the bundle is from ledger \"copd-test\", this copy is ledger \"another-ledger\"",
    );
    import("nonexistent.jsonl", "nonexistent.jsonl");

    // After all that, the good bundle still imports whole.
    let out = ok(&d, &["--ledger", "m", "import", "good.jsonl"]);
    assert!(out.contains("3 added"), "{out}");
}

#[test]
fn ledger_directories_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let r = vereffen(d, &["--ledger", "nowhere", "log"]);
    assert!(r.code != 0 && r.stderr.contains("ledger directory nowhere does not exist"), "{}", r.stderr);
    fs::create_dir(d.join("empty")).unwrap();
    let r = vereffen(d, &["--ledger", "empty", "verify"]);
    assert!(r.code != 0 && r.stderr.contains("is not a vereffen ledger"), "{}", r.stderr);
    fs::write(d.join("empty/file.txt"), "x").unwrap();
    let r = vereffen(d, &["--ledger", "empty", "init"]);
    assert!(r.code != 0 && r.stderr.contains("is not empty"), "{}", r.stderr);
    let r = vereffen(d, &["--ledger", "x", "init", "--id", "Bad Id"]);
    assert!(r.code != 0 && r.stderr.contains("is not valid"), "{}", r.stderr);
    // A file that is not a journal.
    fs::create_dir(d.join("fake")).unwrap();
    fs::write(d.join("fake/journal"), "definitely not a journal").unwrap();
    let r = vereffen(d, &["--ledger", "fake", "verify"]);
    assert!(r.code != 0 && r.stderr.contains("not a vereffen journal"), "{}", r.stderr);
}

#[test]
fn a_second_process_is_locked_out() {
    let (_tmp, d) = setup();
    let held = vereffen::ledger::Ledger::open(&d.join("l"), &vereffen::rules::ALL).unwrap();
    refused(
        &d,
        "l",
        &["--ledger", "l", "note", "--text", "x", "--as", "k/a.key"],
        "is in use by another vereffen process (pid",
    );
    drop(held);
    ok(&d, &["--ledger", "l", "note", "--text", "x", "--as", "k/a.key"]);
}

#[test]
fn verify_names_the_damaged_record() {
    let (_tmp, d) = setup();
    for i in 0..5 {
        ok(&d, &["--ledger", "l", "note", "--text", &format!("note {i}"), "--as", "k/a.key"]);
    }
    let journal = d.join("l/journal");
    let mut bytes = fs::read(&journal).unwrap();
    // Flip a byte inside the text of the fourth record ("note 1").
    let at = bytes.windows(6).position(|w| w == b"note 1").unwrap();
    bytes[at + 5] = b'9';
    fs::write(&journal, &bytes).unwrap();
    let r = vereffen(&d, &["--ledger", "l", "verify"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("verify FAILED at record 4") && r.stderr.contains("hash does not match"), "{}", r.stderr);
}

#[test]
fn the_demo_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(tmp.path(), &["demo"]);
    assert!(out.contains("identical set digests"), "{out}");
    let out = ok(tmp.path(), &["demo", "--dir", "kept"]);
    assert!(tmp.path().join("kept/verzekeraar-copy/journal").is_file(), "{out}");
    ok(tmp.path(), &["--ledger", "kept/verzekeraar-copy", "verify"]);
}
