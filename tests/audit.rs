//! Auditing end to end: signed checkpoints, inclusion and consistency proofs
//! checked offline, witnessing across appends, equivocation between two
//! copies that diverge, and every kind of bad input refused without a panic.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{key, ok, refused, repo, run};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use vereffen::audit::checkpoint::{Checkpoint, SignedNote};
use vereffen::audit::{self, ConsistencyBundle, ProofBundle};
use vereffen::ledger::merkle;

fn pubkey(party: &str) -> String {
    repo().join("keys").join(format!("demo-{party}.pub")).display().to_string()
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// A work dir with copy `l` (kept by zh) holding parties zh and vz and some
/// notes, and copy `b` (kept by vz) holding the same entries.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_path_buf();
    ok(&d, &["--ledger", "l", "init", "--id", "copd-test"]);
    for (id, party, role) in [("zh", "ziekenhuis", "provider"), ("vz", "verzekeraar", "payer")] {
        ok(&d, &["--ledger", "l", "party", "add", "--id", id, "--name", party, "--role", role, "--key", &key(party)]);
    }
    for i in 0..5 {
        ok(&d, &["--ledger", "l", "note", "--text", &format!("minutes {i}"), "--as", &key("ziekenhuis")]);
    }
    sync(&d, "l", "b");
    (tmp, d)
}

/// Copies every entry of copy `from` that `to` lacks into `to` (creating it).
fn sync(d: &Path, from: &str, to: &str) {
    let bundle = p(d, &format!("{from}-to-{to}.jsonl"));
    ok(d, &["--ledger", from, "export", "--out", &bundle]);
    if !d.join(to).exists() {
        ok(d, &["--ledger", to, "init", "--id", "copd-test"]);
    }
    ok(d, &["--ledger", to, "import", &bundle]);
}

fn checkpoint(d: &Path, copy: &str, party: &str, out: &str) -> String {
    ok(d, &["--ledger", copy, "audit", "checkpoint", "--as", &key(party), "--out", &p(d, out)]);
    fs::read_to_string(d.join(out)).unwrap()
}

fn entry_ids(d: &Path, copy: &str) -> Vec<String> {
    ok(d, &["--ledger", copy, "log", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect()
}

fn fails(d: &Path, args: &[&str], expect: &str) -> String {
    let (code, out, err) = run(d, args);
    assert_ne!(code, 0, "vereffen {args:?} should fail:\n{out}");
    assert!(err.contains(expect), "vereffen {args:?}: expected {expect:?} in:\n{err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    err
}

#[test]
fn checkpoint_prove_and_verify_offline() {
    let (_tmp, d) = setup();
    let note = checkpoint(&d, "l", "ziekenhuis", "c1");
    assert!(note.starts_with("vereffen/copd-test/zh\n7\n"), "{note}");
    let ids = entry_ids(&d, "l");
    assert_eq!(ids.len(), 8, "7 entries and the checkpoint entry");
    for (i, id) in ids[..7].iter().enumerate() {
        let out = p(&d, &format!("proof-{i}"));
        ok(&d, &["--ledger", "l", "audit", "prove", id, "--out", &out]);
        let text = ok(&d, &["audit", "verify-proof", &out, "--key", &pubkey("ziekenhuis")]);
        assert!(text.contains(&format!("is leaf {i} of the tree of size 7 of vereffen/copd-test/zh")), "{text}");
        ok(&d, &["audit", "verify-proof", &out, "--key", &pubkey("ziekenhuis"), "--origin", "vereffen/copd-test/zh"]);
        assert!(fs::metadata(d.join(format!("proof-{i}"))).unwrap().len() < 2048);
    }
    // The explicit checkpoint gives the same proof as the recorded one.
    let explicit = ok(&d, &["--ledger", "l", "audit", "prove", &ids[3], "--checkpoint", &p(&d, "c1")]);
    assert_eq!(explicit, fs::read_to_string(d.join("proof-3")).unwrap());
    // `verify` checks the recorded checkpoint against the tree.
    ok(&d, &["--ledger", "l", "verify"]);
    // The checkpoint entry itself is leaf 7: not in the tree of size 7.
    refused(&d, &["--ledger", "l", "audit", "prove", &ids[7]], "not in the checkpoint's tree of size 7");
    refused(&d, &["--ledger", "l", "audit", "prove", &"ab".repeat(32)], "is not in this copy");
    refused(&d, &["--ledger", "l", "audit", "prove", "abc"], "not an entry id");
    refused(&d, &["--ledger", "l", "audit", "prove", &ids[3][..7]], "at least 8");
    refused(&d, &["--ledger", "l", "audit", "prove", "00000000"], "is not in this copy");
    // An 8-character prefix, as every other command accepts, gives the same proof.
    let by_prefix = ok(&d, &["--ledger", "l", "audit", "prove", &ids[3][..8]]);
    assert_eq!(by_prefix, fs::read_to_string(d.join("proof-3")).unwrap());
    // A copy with no checkpoint cannot prove anything.
    refused(&d, &["--ledger", "b", "audit", "prove", &ids[0]], "no signed checkpoint");
    // The keeper's party may not change.
    refused(
        &d,
        &["--ledger", "l", "audit", "checkpoint", "--as", &key("verzekeraar")],
        "kept (and checkpointed) by one party",
    );
}

#[test]
fn bad_proofs_and_checkpoints_are_refused() {
    let (_tmp, d) = setup();
    checkpoint(&d, "l", "ziekenhuis", "c1");
    let ids = entry_ids(&d, "l");
    let proof = p(&d, "proof");
    ok(&d, &["--ledger", "l", "audit", "prove", &ids[2], "--out", &proof]);
    let zh = pubkey("ziekenhuis");
    // Unknown key: the verifier trusts only the payer's key.
    fails(&d, &["audit", "verify-proof", &proof, "--key", &pubkey("verzekeraar")], "not a trusted key of party \"zh\"");
    // Another origin.
    fails(&d, &["audit", "verify-proof", &proof, "--key", &zh, "--origin", "vereffen/other/zh"], "another ledger");
    // Bad signature: flip one base64 character of the signature line.
    let text = fs::read_to_string(&proof).unwrap();
    let sig_at = text.rfind("— zh/").unwrap() + 40;
    let mut bad = text.clone().into_bytes();
    bad[sig_at] = if bad[sig_at] == b'A' { b'B' } else { b'A' };
    fs::write(d.join("bad-sig"), &bad).unwrap();
    fails(&d, &["audit", "verify-proof", &p(&d, "bad-sig"), "--key", &zh], "does not verify");
    // Malformed files.
    for (name, bytes) in [
        ("empty", b"".to_vec()),
        ("garbage", b"\xff\xfe not a proof".to_vec()),
        ("truncated", text.as_bytes()[..text.len() / 2].to_vec()),
        ("crlf", text.replace('\n', "\r\n").into_bytes()),
    ] {
        fs::write(d.join(name), bytes).unwrap();
        fails(&d, &["audit", "verify-proof", &p(&d, name), "--key", &zh], "malformed proof file");
    }
    fails(&d, &["audit", "verify-proof", &proof], "--key");
    // A proof of an entry that is not in the tree: claim leaf 3 for entry 2.
    let moved = text.replacen("index 2\n", "index 3\n", 1);
    fs::write(d.join("moved"), moved).unwrap();
    fails(&d, &["audit", "verify-proof", &p(&d, "moved"), "--key", &zh], "inclusion proof");

    // Witnessing bad checkpoints: tampered, from another ledger, unknown key.
    let c1 = fs::read_to_string(d.join("c1")).unwrap();
    fs::write(d.join("c1-bad"), c1.replacen("\n7\n", "\n6\n", 1)).unwrap();
    refused(
        &d,
        &["--ledger", "b", "audit", "witness", &p(&d, "c1-bad"), "--as", &key("verzekeraar")],
        "does not verify",
    );
    let other = Checkpoint::new("vereffen/other-ledger/zh", 7, [1; 32]).unwrap();
    let zh_key = common::demo_key("ziekenhuis");
    let name = audit::key_name("zh", &zh_key.verifying_key());
    fs::write(d.join("c-other"), SignedNote::sign(other, &name, &zh_key).unwrap().to_text()).unwrap();
    refused(
        &d,
        &["--ledger", "b", "audit", "witness", &p(&d, "c-other"), "--as", &key("verzekeraar")],
        "another ledger",
    );
    let stranger = SigningKey::from_bytes(&[42; 32]);
    let cp = Checkpoint::new("vereffen/copd-test/zh", 7, [1; 32]).unwrap();
    let note = SignedNote::sign(cp, &audit::key_name("zh", &stranger.verifying_key()), &stranger).unwrap();
    fs::write(d.join("c-stranger"), note.to_text()).unwrap();
    refused(
        &d,
        &["--ledger", "b", "audit", "witness", &p(&d, "c-stranger"), "--as", &key("verzekeraar")],
        "known checkpoint signer",
    );
    refused(&d, &["--ledger", "l", "audit", "witness", &p(&d, "c1"), "--as", &key("ziekenhuis")], "your own copy");
    // A checkpoint not of this copy's tree cannot anchor a consistency proof.
    refused(&d, &["--ledger", "l", "audit", "consistency", &p(&d, "c1"), &p(&d, "c-other")], "another ledger");
}

#[test]
fn witness_chain_extends_across_appends() {
    let (_tmp, d) = setup();
    let mut previous: Option<String> = None;
    for round in 0..4 {
        for i in 0..=round {
            ok(
                &d,
                &["--ledger", "l", "note", "--text", &format!("round {round} note {i}"), "--as", &key("ziekenhuis")],
            );
        }
        let c = format!("c{round}");
        checkpoint(&d, "l", "ziekenhuis", &c);
        sync(&d, "l", "b");
        let vz = key("verzekeraar");
        let mut args = vec!["--ledger", "b", "audit", "witness", &c, "--as", &vz];
        let proof = format!("p{round}");
        let cosigned = format!("w{round}");
        if let Some(prev) = &previous {
            // Without a proof the witness refuses; with one it extends.
            refused(&d, &args, "consistency proof");
            ok(&d, &["--ledger", "l", "audit", "consistency", prev, &c, "--out", &proof]);
            // Sizes name the recorded checkpoints: the same proof.
            let size_of = |f: &str| fs::read_to_string(d.join(f)).unwrap().lines().nth(1).unwrap().to_string();
            let by_size = ok(&d, &["--ledger", "l", "audit", "consistency", &size_of(prev), &size_of(&c)]);
            assert_eq!(by_size, fs::read_to_string(d.join(&proof)).unwrap());
            ok(&d, &["audit", "verify-proof", &proof, "--key", &pubkey("ziekenhuis")]);
            args.extend(["--proof", &proof]);
        }
        args.extend(["--out", &cosigned]);
        ok(&d, &args);
        let text = fs::read_to_string(d.join(&cosigned)).unwrap();
        assert!(text.starts_with(&fs::read_to_string(d.join(&c)).unwrap()), "original lines come first");
        assert_eq!(text.matches("— vz/").count(), 1);
        // An older checkpoint is not witnessed again.
        if let Some(prev) = &previous {
            refused(&d, &["--ledger", "b", "audit", "witness", prev, "--as", &key("verzekeraar")], "older than");
        }
        previous = Some(c);
        sync(&d, "b", "l");
    }
    // Both copies show the newest checkpoint cosigned by vz, and verify.
    for copy in ["l", "b"] {
        let status = ok(&d, &["--ledger", copy, "audit", "status"]);
        assert!(status.contains("vereffen/copd-test/zh") && status.contains("cosigned by: vz/"), "{status}");
        ok(&d, &["--ledger", copy, "verify"]);
    }
    // A proof against the witnessed checkpoint carries the cosignature.
    let ids = entry_ids(&d, "l");
    ok(&d, &["--ledger", "l", "audit", "prove", &ids[1], "--out", &p(&d, "proof")]);
    let out = ok(&d, &["audit", "verify-proof", &p(&d, "proof"), "--key", &pubkey("ziekenhuis")]);
    assert!(out.contains("cosigned by vz/"), "{out}");
    // Times are readable UTC (RFC 3339), not seconds since 1970.
    assert!(out.contains(" at 2027-01-15T09:30:00Z"), "{out}");
}

#[test]
fn two_copies_that_diverge_are_caught_as_equivocation() {
    let (_tmp, d) = setup();
    let c1 = checkpoint(&d, "l", "ziekenhuis", "c1");
    sync(&d, "l", "b");
    ok(&d, &["--ledger", "b", "audit", "witness", "c1", "--as", &key("verzekeraar")]);
    // The keeper forks its copy: one version for the payer, one for the auditor.
    common::copy_dir(&d.join("l"), &d.join("fork"));
    ok(&d, &["--ledger", "l", "note", "--text", "the admissions fell by 30%", "--as", &key("ziekenhuis")]);
    ok(&d, &["--ledger", "fork", "note", "--text", "the admissions fell by 10%", "--as", &key("ziekenhuis")]);
    checkpoint(&d, "l", "ziekenhuis", "c2");
    let forked = checkpoint(&d, "fork", "ziekenhuis", "c2-fork");
    ok(&d, &["--ledger", "l", "audit", "consistency", "c1", "c2", "--out", &p(&d, "p12")]);
    ok(&d, &["--ledger", "b", "audit", "witness", "c2", "--proof", "p12", "--as", &key("verzekeraar")]);
    // Same size, another root: equivocation, both checkpoints verbatim.
    let journal_before = fs::read(d.join("b/journal")).unwrap();
    let (code, _, err) = run(
        &d,
        &["--ledger", "b", "audit", "witness", "c2-fork", "--as", &key("verzekeraar"), "--evidence", &p(&d, "ev")],
    );
    assert_eq!(code, 3, "{err}");
    let c2 = fs::read_to_string(d.join("c2")).unwrap();
    assert!(err.contains("EQUIVOCATION") && err.contains("same tree size 9"), "{err}");
    assert!(err.contains(&forked), "{err}");
    assert!(err.contains(c2.split("\n\n").next().unwrap()), "{err}");
    assert!(fs::read_to_string(d.join("ev")).unwrap().contains(&forked));
    // Recorded as evidence, never as a witnessed checkpoint.
    assert_ne!(fs::read(d.join("b/journal")).unwrap(), journal_before);
    let log = ok(&d, &["--ledger", "b", "log", "--kind", "audit.witness"]);
    assert_eq!(log.lines().count(), 3, "header and the two honest witnesses:\n{log}");
    let (code, status, _) = run(&d, &["--ledger", "b", "audit", "status"]);
    assert_eq!(code, 3);
    assert!(status.contains("same tree size 9"), "{status}");
    ok(&d, &["--ledger", "b", "verify"]);

    // A bigger checkpoint of the fork with a proof that cannot hold: the
    // fork cannot prove it extends what the witness saw.
    ok(&d, &["--ledger", "fork", "note", "--text", "and more", "--as", &key("ziekenhuis")]);
    let c3 = checkpoint(&d, "fork", "ziekenhuis", "c3-fork");
    let honest = fs::read_to_string(d.join("p12")).unwrap();
    let ProofBundle::Consistency(p12) = ProofBundle::parse(honest.as_bytes()).unwrap() else { panic!() };
    let fake = ConsistencyBundle {
        path: p12.path.clone(),
        keys: p12.keys.clone(),
        old: SignedNote::parse(&c2).unwrap(),
        new: SignedNote::parse(&c3).unwrap(),
    };
    fs::write(d.join("p-fake"), ProofBundle::Consistency(fake).to_text()).unwrap();
    // A proof that does not verify is not evidence a third party can check:
    // an error that records nothing (not exit 3).
    let journal_before = fs::read(d.join("b/journal")).unwrap();
    let (code, _, err) =
        run(&d, &["--ledger", "b", "audit", "witness", "c3-fork", "--proof", "p-fake", "--as", &key("verzekeraar")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not verify") && err.contains("nothing was recorded"), "{err}");
    assert_eq!(fs::read(d.join("b/journal")).unwrap(), journal_before);
    assert!(!c3.is_empty());
    // Both forks' checkpoints arriving in one copy are visible to a report.
    sync(&d, "fork", "b");
    sync(&d, "l", "b");
    let b = vereffen::ledger::Ledger::open(&d.join("b"), &vereffen::rules::ALL).unwrap();
    let found = audit::equivocations(&b).unwrap();
    let same: Vec<_> = found.iter().filter(|e| e.finding == audit::Finding::SameSizeDifferentRoot).collect();
    assert_eq!(same.len(), 1, "one conflict at size 9, recorded and seen among checkpoints: {found:?}");
    let latest = audit::latest_checkpoints(&b).unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].origin, "vereffen/copd-test/zh");
    assert_eq!(latest[0].latest.checkpoint.size(), 11);
    assert!(latest[0].cosignatures.is_empty(), "the fork's newest checkpoint was never cosigned");
    assert!(c1.starts_with("vereffen/copd-test/zh\n7\n"));
}

/// The issue's reproduction: one altered character in an honest keeper's
/// consistency proof must not become a signed accusation. The witness exits
/// with an error (not 3), records and cosigns nothing, writes no evidence,
/// and the honest proof still works afterwards.
#[test]
fn an_altered_consistency_proof_is_an_error_not_equivocation() {
    let (_tmp, d) = setup();
    checkpoint(&d, "l", "ziekenhuis", "c1");
    for i in 0..3 {
        ok(&d, &["--ledger", "l", "note", "--text", &format!("later {i}"), "--as", &key("ziekenhuis")]);
    }
    checkpoint(&d, "l", "ziekenhuis", "c2");
    sync(&d, "l", "b");
    ok(&d, &["--ledger", "b", "audit", "witness", "c1", "--as", &key("verzekeraar")]);
    ok(&d, &["--ledger", "l", "audit", "consistency", "c1", "c2", "--out", &p(&d, "p12")]);
    let honest = fs::read_to_string(d.join("p12")).unwrap();
    // Alter one character inside the first path hash (still canonical base64).
    let at = honest.find("\npath ").unwrap() + "\npath ".len() + 5;
    let mut bad = honest.clone().into_bytes();
    bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
    fs::write(d.join("p12-bad"), &bad).unwrap();
    assert!(ProofBundle::parse(&bad).is_ok(), "the altered file still parses; only the proof fails");
    let journal_before = fs::read(d.join("b/journal")).unwrap();
    let (code, out, err) = run(
        &d,
        &[
            "--ledger",
            "b",
            "audit",
            "witness",
            "c2",
            "--proof",
            "p12-bad",
            "--as",
            &key("verzekeraar"),
            "--evidence",
            &p(&d, "ev"),
            "--out",
            &p(&d, "w2"),
        ],
    );
    assert_eq!(code, 1, "an error, not equivocation (3):\n{err}");
    assert!(err.contains("does not verify") && !err.contains("EQUIVOCATION"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.is_empty(), "nothing cosigned: {out}");
    assert_eq!(fs::read(d.join("b/journal")).unwrap(), journal_before, "the ledger is byte-identical");
    assert!(!d.join("ev").exists() && !d.join("w2").exists());
    let log = ok(&d, &["--ledger", "b", "log", "--kind", "audit.equivocation"]);
    assert_eq!(log.lines().filter(|l| l.contains("equivocation by")).count(), 0, "{log}");
    let (code, _, _) = run(&d, &["--ledger", "b", "audit", "status"]);
    assert_eq!(code, 0, "no equivocation listed");
    // The honest proof is still accepted.
    ok(&d, &["--ledger", "b", "audit", "witness", "c2", "--proof", "p12", "--as", &key("verzekeraar")]);
    ok(&d, &["--ledger", "b", "verify"]);
}

/// An `audit.equivocation` entry with the old `not_consistent` finding (a
/// failed proof, which anyone can fabricate) is refused on append.
#[test]
fn a_not_consistent_equivocation_entry_is_refused() {
    use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
    use vereffen::ledger::keys::KeyId;
    let (_tmp, d) = setup();
    let c1 = SignedNote::parse(&checkpoint(&d, "l", "ziekenhuis", "c1")).unwrap();
    ok(&d, &["--ledger", "l", "note", "--text", "later", "--as", &key("ziekenhuis")]);
    let c2 = SignedNote::parse(&checkpoint(&d, "l", "ziekenhuis", "c2")).unwrap();
    sync(&d, "l", "b");
    let vz = common::demo_key("verzekeraar");
    let payload = serde_json::json!({
        "finding": "not_consistent",
        "first": c1.to_text(),
        "second": c2.to_text(),
        "proof": "",
    });
    let body = Body {
        v: FORMAT_VERSION,
        ledger: "copd-test".into(),
        kind: audit::KIND_EQUIVOCATION.into(),
        author: Author { party: "vz".into(), key: KeyId::of(&vz.verifying_key()).to_hex() },
        time: "2026-01-01T00:00:00Z".into(),
        refs: vec![],
        payload,
    };
    let entry = Entry::sign(body, &[&vz]).unwrap();
    let mut b = vereffen::ledger::Ledger::open(&d.join("b"), &vereffen::rules::ALL).unwrap();
    let err = b.append(std::slice::from_ref(&entry)).unwrap_err().to_string();
    assert!(err.contains("not_consistent") && err.contains("refused"), "{err}");
}

#[test]
fn verify_catches_a_copy_rewritten_after_checkpointing() {
    let (_tmp, d) = setup();
    checkpoint(&d, "l", "ziekenhuis", "c1");
    // Rebuild the copy with one note changed, then re-add the checkpoint entry.
    ok(&d, &["--ledger", "r", "init", "--id", "copd-test"]);
    ok(&d, &["--ledger", "l", "export", "--out", &p(&d, "head.jsonl")]);
    let lines: Vec<String> = fs::read_to_string(d.join("head.jsonl")).unwrap().lines().map(String::from).collect();
    // Header, then entries: keep the registrations and four notes.
    let header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let mut kept = header.clone();
    kept["entries"] = serde_json::json!(6);
    let mut text = format!("{}\n", kept);
    for line in &lines[1..7] {
        text.push_str(line);
        text.push('\n');
    }
    fs::write(d.join("part.jsonl"), text).unwrap();
    ok(&d, &["--ledger", "r", "import", "part.jsonl"]);
    ok(&d, &["--ledger", "r", "note", "--text", "a different last note", "--as", &key("ziekenhuis")]);
    ok(&d, &["--ledger", "l", "export", "--since", "8", "--out", &p(&d, "cp.jsonl")]);
    ok(&d, &["--ledger", "r", "import", "cp.jsonl"]);
    fs::copy(d.join("l/audit-origin"), d.join("r/audit-origin")).unwrap();
    let (code, out, _) = run(&d, &["--ledger", "r", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("rewritten after it was checkpointed"), "{out}");
}

/// A valid inclusion and consistency proof, made through the library.
fn sample_bundles() -> (Vec<u8>, Vec<u8>, ed25519_dalek::VerifyingKey) {
    let (_tmp, d) = setup();
    checkpoint(&d, "l", "ziekenhuis", "c1");
    ok(&d, &["--ledger", "l", "note", "--text", "later", "--as", &key("ziekenhuis")]);
    checkpoint(&d, "l", "ziekenhuis", "c2");
    let ids = entry_ids(&d, "l");
    ok(&d, &["--ledger", "l", "audit", "prove", &ids[4], "--out", &p(&d, "inc")]);
    ok(&d, &["--ledger", "l", "audit", "consistency", "c1", "c2", "--out", &p(&d, "con")]);
    (fs::read(d.join("inc")).unwrap(), fs::read(d.join("con")).unwrap(), common::demo_key("ziekenhuis").verifying_key())
}

fn verifies(bytes: &[u8], key: &ed25519_dalek::VerifyingKey) -> bool {
    ProofBundle::parse(bytes).and_then(|b| audit::verify_bundle(&b, &[*key], None)).is_ok()
}

#[test]
fn any_altered_byte_fails_a_proof() {
    let (inc, con, key) = sample_bundles();
    for bundle in [&inc, &con] {
        assert!(verifies(bundle, &key));
        for i in 0..bundle.len() {
            for replacement in [bundle[i] ^ 0x01, bundle[i] ^ 0x20, b'A', b'0', b'\n'] {
                if replacement == bundle[i] {
                    continue;
                }
                let mut bad = bundle.clone();
                bad[i] = replacement;
                assert!(!verifies(&bad, &key), "byte {i} -> {replacement:#x} still verifies");
            }
        }
        assert!(!verifies(&bundle[..bundle.len() - 1], &key));
        let mut longer = bundle.clone();
        longer.push(b'\n');
        assert!(!verifies(&longer, &key));
    }
}

#[test]
fn large_tree_proofs_stay_under_a_kilobyte() {
    // 2^20 + 3 leaves: proofs have at most 21 hashes.
    let n = (1u64 << 20) + 3;
    let leaves: Vec<merkle::Hash> = (0..n).map(|i| merkle::leaf_hash(&i.to_le_bytes())).collect();
    for index in [0, 1, n / 2, n - 1] {
        let path = merkle::inclusion_proof(&leaves, index, n).unwrap();
        assert!(merkle::proof_to_bytes(&path).len() <= 21 * 32);
    }
    let consistency = merkle::consistency_proof(&leaves, 1_000_000, n).unwrap();
    assert!(merkle::proof_to_bytes(&consistency).len() < 1024);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), header in 0usize..3) {
        let prefix: &[u8] = match header {
            0 => b"",
            1 => b"vereffen inclusion proof v1\nindex 0\nentry ",
            _ => b"vereffen consistency proof v1\npath ",
        };
        let data = [prefix, &bytes].concat();
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        if let Ok(bundle) = ProofBundle::parse(&data) {
            let _ = audit::verify_bundle(&bundle, &[key], None);
        }
    }
}
