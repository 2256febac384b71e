//! Trust core: a revoked or retired key is dead in every copy, whatever the
//! arrival order (FORMAT.md 4.3); every registry read of a rule is an import
//! ordering constraint (FORMAT.md 7); revoking a party's last key needs
//! `--last-key`.

mod common;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use common::*;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use serde_json::Value;
use vereffen::audit;
use vereffen::audit::checkpoint::{self, Checkpoint, SignedNote};
use vereffen::ledger::bundle;
use vereffen::ledger::entry::{Author, Body, Entry, EntryId, FORMAT_VERSION};
use vereffen::ledger::keys::KeyId;
use vereffen::ledger::liveness;
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::verify::verify_journal;
use vereffen::ledger::Ledger;

/// A body like `common::body` with a chosen claimed time.
fn body_at(party: &str, key: &SigningKey, kind: &str, refs: Vec<String>, payload: Value, time: &str) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: LEDGER_ID.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: time.into(),
        refs,
        payload,
    }
}

fn hexes(ids: &[EntryId]) -> Vec<String> {
    ids.iter().map(|i| i.to_hex()).collect()
}

/// Writes a bundle of `entries` (in this order) to `path`.
fn write_bundle(path: &Path, entries: &[&Entry]) {
    let mut text = format!(
        "{{\"bundle\":\"vereffen\",\"entries\":{},\"ledger\":\"{LEDGER_ID}\",\"since\":1,\"version\":1}}\n",
        entries.len()
    );
    for (i, e) in entries.iter().enumerate() {
        text.push_str(std::str::from_utf8(&bundle::entry_line(i as u64 + 1, e).unwrap()).unwrap());
        text.push('\n');
    }
    fs::write(path, text).unwrap();
}

/// What a copy concludes from its entries.
#[derive(Debug, PartialEq)]
struct Verdict {
    digest: [u8; 32],
    head: [u8; 32],
    void: Vec<EntryId>,
}

/// Imports `entries` in this line order into a fresh copy; verifies it.
fn import_fresh(dir: &Path, entries: &[&Entry]) -> Result<Verdict, String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let path = dir.join("b.jsonl");
    write_bundle(&path, entries);
    let mut l = Ledger::init(&dir.join("copy"), LEDGER_ID, &vereffen::rules::ALL).unwrap();
    let report = bundle::import(&mut l, &path).map_err(|e| e.to_string())?;
    assert_eq!(report.added, entries.len());
    let summary = verify_journal(l.journal_path(), &vereffen::rules::ALL, |_| {}).map_err(|f| f.to_string())?;
    let void: Vec<EntryId> = l.void_entries().unwrap().into_keys().collect();
    assert_eq!(summary.void.iter().map(|v| v.id).collect::<Vec<_>>(), void, "verify and the ledger agree");
    assert_eq!(report.void_total, void.len());
    Ok(Verdict { digest: l.set_digest().unwrap(), head: l.head(), void })
}

/// A set with a revocation, entries the revocation covers, a backdated entry
/// signed by the revoked key (with and without references to covered
/// entries), an entry of another party building on a void one, a retiring
/// rotation and two concurrent revocations of each other's keys.
/// Returns the entries and the ids that must be void.
fn revocation_set() -> (Vec<Entry>, Vec<EntryId>) {
    let zh = demo_key("ziekenhuis");
    let vz = demo_key("verzekeraar");
    let tz = demo_key("thuiszorg");
    let zh2 = SigningKey::from_bytes(&[7u8; 32]);
    let tz2 = SigningKey::from_bytes(&[9u8; 32]);
    let vz2 = SigningKey::from_bytes(&[11u8; 32]);
    let vz3 = SigningKey::from_bytes(&[12u8; 32]);
    let t = "2027-01-15T09:30:00Z";
    let reg_zh = register("ziekenhuis", "Ziekenhuis", Role::Provider, &zh);
    let reg_vz = register("verzekeraar", "Verzekeraar", Role::Payer, &vz);
    let reg_tz = register("thuiszorg", "Thuiszorg", Role::Provider, &tz);
    let rot_zh = Entry::sign(
        body_at(
            "ziekenhuis",
            &zh,
            registry::KIND_ROTATE,
            vec![],
            registry::rotate_payload(&zh2.verifying_key(), false),
            t,
        ),
        &[&zh, &zh2],
    )
    .unwrap();
    let n1 = note("ziekenhuis", &zh, "covered by the revocation", vec![]);
    let n2 = note("ziekenhuis", &zh, "also covered", vec![n1.id().to_hex()]);
    let before: Vec<&Entry> = vec![&reg_zh, &reg_vz, &reg_tz, &rot_zh, &n1, &n2];
    let refs = liveness::ending_refs(before.iter().copied(), &KeyId::of(&zh.verifying_key()));
    let revoke = Entry::sign(
        body_at(
            "ziekenhuis",
            &zh2,
            registry::KIND_REVOKE,
            hexes(&refs),
            registry::revoke_payload(KeyId::of(&zh.verifying_key()), "laptop stolen"),
            "2027-02-01T00:00:00Z",
        ),
        &[&zh2],
    )
    .unwrap();
    // The thief backdates two entries with the stolen key.
    let backdated = Entry::sign(
        body_at(
            "ziekenhuis",
            &zh,
            "note",
            vec![],
            vereffen::domain::note::payload("backdated", None),
            "2026-01-01T00:00:00Z",
        ),
        &[&zh],
    )
    .unwrap();
    let backdated_ref = note("ziekenhuis", &zh, "backdated with a reference", vec![n2.id().to_hex()]);
    // Another party builds on a void entry: its own entry stays live.
    let builds_on = note("verzekeraar", &vz, "seen the backdated note", vec![backdated.id().to_hex()]);
    // A retiring rotation of thuiszorg: what it references stays live; an
    // entry by the old key it does not reference is void.
    let tz_note = note("thuiszorg", &tz, "before the rotation", vec![]);
    let tz_late = note("thuiszorg", &tz, "not seen by the rotation", vec![]);
    let rot_tz = Entry::sign(
        body_at(
            "thuiszorg",
            &tz,
            registry::KIND_ROTATE,
            vec![tz_note.id().to_hex()],
            registry::rotate_payload(&tz2.verifying_key(), true),
            t,
        ),
        &[&tz, &tz2],
    )
    .unwrap();
    let tz2_note = note("thuiszorg", &tz2, "with the new key", vec![]);
    // verzekeraar adds two keys; each revokes the other concurrently: both die,
    // and so do the entries each one signed outside the other's causal past.
    let rot_vz2 = Entry::sign(
        body_at(
            "verzekeraar",
            &vz,
            registry::KIND_ROTATE,
            vec![],
            registry::rotate_payload(&vz2.verifying_key(), false),
            t,
        ),
        &[&vz, &vz2],
    )
    .unwrap();
    let rot_vz3 = Entry::sign(
        body_at(
            "verzekeraar",
            &vz,
            registry::KIND_ROTATE,
            vec![rot_vz2.id().to_hex()],
            registry::rotate_payload(&vz3.verifying_key(), false),
            t,
        ),
        &[&vz, &vz3],
    )
    .unwrap();
    let rev_3_by_2 = Entry::sign(
        body_at(
            "verzekeraar",
            &vz2,
            registry::KIND_REVOKE,
            vec![rot_vz3.id().to_hex()],
            registry::revoke_payload(KeyId::of(&vz3.verifying_key()), "concurrent a"),
            t,
        ),
        &[&vz2],
    )
    .unwrap();
    let rev_2_by_3 = Entry::sign(
        body_at(
            "verzekeraar",
            &vz3,
            registry::KIND_REVOKE,
            vec![rot_vz3.id().to_hex()],
            registry::revoke_payload(KeyId::of(&vz2.verifying_key()), "concurrent b"),
            t,
        ),
        &[&vz3],
    )
    .unwrap();
    let must_be_void = vec![backdated.id(), backdated_ref.id(), tz_late.id(), rev_3_by_2.id(), rev_2_by_3.id()];
    let all = vec![
        reg_zh,
        reg_vz,
        reg_tz,
        rot_zh,
        n1,
        n2,
        revoke,
        backdated,
        backdated_ref,
        builds_on,
        tz_note,
        tz_late,
        rot_tz,
        tz2_note,
        rot_vz2,
        rot_vz3,
        rev_3_by_2,
        rev_2_by_3,
    ];
    (all, must_be_void)
}

#[test]
fn the_liveness_rule_voids_exactly_what_no_ending_entry_saw() {
    let (all, expected) = revocation_set();
    let mut void: Vec<EntryId> = liveness::void_entries(&all).into_keys().collect();
    let mut expected = expected;
    void.sort();
    expected.sort();
    assert_eq!(void, expected);
    let dir = tempfile::tempdir().unwrap();
    let v = import_fresh(dir.path(), &all.iter().collect::<Vec<_>>()).unwrap();
    assert_eq!(v.void, expected);
    // A new entry with a revoked key is refused (as before); the dead keys of
    // the concurrent revocations too.
    let mut l = Ledger::open(&dir.path().join("copy"), &vereffen::rules::ALL).unwrap();
    for (party, k) in [("ziekenhuis", demo_key("ziekenhuis")), ("verzekeraar", SigningKey::from_bytes(&[11u8; 32]))] {
        let err = l.append(&[note(party, &k, "new", vec![])]).unwrap_err().to_string();
        assert!(err.contains("revoked"), "{err}");
    }
}

/// Shuffles the first `n` indices.
fn perm(n: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..n).collect::<Vec<_>>()).prop_shuffle()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Every line order of a bundle with revocations, void entries and
    /// concurrent revocations gives the same verdict: accepted, same set
    /// digest, same void set, same journal.
    #[test]
    fn every_permutation_gives_the_same_verdict(p in perm(18)) {
        let (all, _) = revocation_set();
        prop_assert_eq!(all.len(), 18);
        let dir = tempfile::tempdir().unwrap();
        let reference = import_fresh(&dir.path().join("a"), &all.iter().collect::<Vec<_>>()).unwrap();
        let shuffled: Vec<&Entry> = p.iter().map(|&i| &all[i]).collect();
        let v = import_fresh(&dir.path().join("b"), &shuffled);
        prop_assert_eq!(v, Ok(reference));
    }
}

/// The exact attack of issue 12 item 2 through the command line: a fresh
/// copy imports a full export plus a backdated entry signed by the revoked
/// key; the original copy imports the poisoned copy's export; both agree and
/// both call the entry void.
#[test]
fn a_backdated_entry_of_a_revoked_key_is_void_in_every_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let k2 = d.join("zh-2.key");
    vereffen::ledger::keys::write_key_files(d, "zh-2", &SigningKey::from_bytes(&[7u8; 32])).unwrap();
    let k2 = k2.display().to_string();
    ok(d, &["init", "--id", LEDGER_ID]);
    add_party(d, "ziekenhuis", "Ziekenhuis", "provider", &key("ziekenhuis"));
    add_party(d, "verzekeraar", "Verzekeraar", "payer", &key("verzekeraar"));
    ok(d, &["party", "rotate-key", "--as", &key("ziekenhuis"), "--new", &k2, "--keep-old"]);
    ok(d, &["note", "--text", "signed with the old key", "--as", &key("ziekenhuis")]);
    ok(d, &["party", "revoke-key", "--as", &k2, "--revoke", &key("ziekenhuis"), "--reason", "laptop stolen"]);
    let (code, out, _) = run(d, &["verify"]);
    assert_eq!(code, 0);
    assert!(!out.contains("void"), "nothing is void before the attack:\n{out}");
    ok(d, &["export", "--out", "full.jsonl"]);

    // The thief, holding the stolen key, appends an entry claiming an
    // earlier time to the full export.
    let zh = demo_key("ziekenhuis");
    let e = Entry::sign(
        body_at(
            "ziekenhuis",
            &zh,
            "note",
            vec![],
            vereffen::domain::note::payload("pay me", None),
            "2026-06-01T00:00:00Z",
        ),
        &[&zh],
    )
    .unwrap();
    let full = fs::read_to_string(d.join("full.jsonl")).unwrap();
    let mut lines: Vec<String> = full.lines().map(str::to_string).collect();
    let n = lines.len() - 1;
    lines[0] = lines[0].replace(&format!("\"entries\":{n}"), &format!("\"entries\":{}", n + 1));
    lines.push(String::from_utf8(bundle::entry_line(99, &e).unwrap()).unwrap());
    fs::write(d.join("poisoned.jsonl"), lines.join("\n") + "\n").unwrap();

    // A fresh copy accepts it, as void.
    ok(d, &["--ledger", "fresh", "init", "--id", LEDGER_ID]);
    let out = ok(d, &["--ledger", "fresh", "import", "poisoned.jsonl"]);
    assert!(out.contains("1 of the added entries are void"), "{out}");
    // The original copy imports the poisoned copy's export: accepted, void too.
    ok(d, &["--ledger", "fresh", "export", "--out", "from-fresh.jsonl"]);
    let out = ok(d, &["import", "from-fresh.jsonl"]);
    assert!(out.contains("1 added") && out.contains("void"), "{out}");

    let short = &e.id().to_hex()[..12];
    let mut digests = Vec::new();
    for copy in ["l", "fresh"] {
        let (code, out, err) = run(d, &["--ledger", copy, "verify"]);
        assert_eq!(code, 0, "verify warns but passes:\n{out}\n{err}");
        assert!(out.contains("warning") && out.contains(short) && out.contains("void"), "{out}");
        let json: Value = serde_json::from_str(&ok(d, &["--json", "--ledger", copy, "verify"])).unwrap();
        let void = json["void"].as_array().unwrap();
        assert_eq!(void.len(), 1, "{json}");
        assert_eq!(void[0]["id"], e.id().to_hex());
        assert_eq!(void[0]["key"], KeyId::of(&zh.verifying_key()).to_hex());
        digests.push(json["set_digest"].clone());
        let report: Value =
            serde_json::from_str(&ok(d, &["--ledger", copy, "audit", "report", "--format", "json"])).unwrap();
        let found = report["anomalies"].as_array().unwrap().iter().any(|a| {
            a["kind"] == "key_used_after_revocation"
                && a["entry"] == e.id().to_hex()
                && a["detail"].as_str().unwrap().contains("is void")
        });
        assert!(found, "{copy}: {:#}", report["anomalies"]);
    }
    assert_eq!(digests[0], digests[1], "both copies hold the same set");
    // A new entry with the revoked key is still refused.
    refused(d, &["note", "--text", "again", "--as", &key("ziekenhuis")], "revoked");
}

#[test]
fn revoking_the_last_key_needs_last_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", LEDGER_ID]);
    add_party(d, "ziekenhuis", "Ziekenhuis", "provider", &key("ziekenhuis"));
    let args = ["party", "revoke-key", "--as", &key("ziekenhuis"), "--revoke", &key("ziekenhuis"), "--reason", "done"];
    refused(d, &args, "last current key");
    refused(d, &args, "--last-key");
    ok(d, &[&args[..], &["--last-key"]].concat());
    refused(d, &["note", "--text", "locked out", "--as", &key("ziekenhuis")], "revoked");
}

// ---------------------------------------------------------------------------
// Item 3: every registry read is an ordering constraint.

/// Registrations of two parties and a witness record by verzekeraar of a
/// checkpoint of ziekenhuis's copy, with claimed times chosen so that the
/// witness record and verzekeraar's registration sort (by id) before
/// ziekenhuis's registration: ordered by id alone, the witness record would
/// be checked before the party whose key signed the checkpoint exists.
fn witness_set() -> Vec<Entry> {
    let zh = demo_key("ziekenhuis");
    let vz = demo_key("verzekeraar");
    let origin = audit::origin(LEDGER_ID, "ziekenhuis");
    let cp = Checkpoint::new(&origin, 3, [5u8; 32]).unwrap();
    let mut note = SignedNote::sign(cp, &audit::key_name("ziekenhuis", &zh.verifying_key()), &zh).unwrap();
    let cosig =
        checkpoint::cosign(&note.checkpoint, &audit::key_name("verzekeraar", &vz.verifying_key()), &vz, 1_800_000_000)
            .unwrap();
    note.signatures.push(cosig);
    let reg = |party: &str, role, k: &SigningKey, time: &str| {
        Entry::sign(
            body_at(
                party,
                k,
                registry::KIND_REGISTER,
                vec![],
                registry::register_payload(party, role, &k.verifying_key()),
                time,
            ),
            &[k],
        )
        .unwrap()
    };
    let reg_vz = reg("verzekeraar", Role::Payer, &vz, "2027-01-15T09:30:00Z");
    let witness = Entry::sign(
        body_at("verzekeraar", &vz, audit::KIND_WITNESS, vec![], audit::note_payload(&note), "2027-01-15T09:31:00Z"),
        &[&vz],
    )
    .unwrap();
    let low = reg_vz.id().max(witness.id());
    for s in 0..3600u32 {
        let time = format!("2027-01-15T08:{:02}:{:02}Z", s / 60, s % 60);
        let reg_zh = reg("ziekenhuis", Role::Provider, &zh, &time);
        if reg_zh.id() > low {
            return vec![reg_zh, reg_vz, witness];
        }
    }
    unreachable!("one in three claimed times gives a registration id above both")
}

#[test]
fn a_witness_record_waits_for_the_registration_of_the_party_it_witnesses() {
    let set = witness_set();
    let dir = tempfile::tempdir().unwrap();
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let entries: Vec<&Entry> = order.iter().map(|&i| &set[i]).collect();
        let v = import_fresh(&dir.path().join(format!("{order:?}")), &entries);
        assert!(v.is_ok(), "{v:?}");
    }
}

/// The demo's two copies with checkpoints and cross-cosignatures (as in
/// `tests/report.rs`), exported from the insurer's copy, which holds both.
fn demo_bundle() -> &'static (tempfile::TempDir, Vec<Entry>) {
    static DEMO: OnceLock<(tempfile::TempDir, Vec<Entry>)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let (vz, zh) = ("demo/verzekeraar-copy", "demo/ziekenhuis-copy");
        ok(d, &["demo", "--dir", "demo"]);
        ok(d, &["--ledger", zh, "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", "cp-zh"]);
        // The demo's nodes witnessed each other; the last ones are in demo/witnessed-*.txt.
        ok(d, &["--ledger", zh, "audit", "consistency", "demo/witnessed-ziekenhuis.txt", "cp-zh", "--out", "p-demo"]);
        ok(d, &["--ledger", vz, "audit", "witness", "cp-zh", "--proof", "p-demo", "--as", &key("verzekeraar")]);
        ok(d, &["--ledger", vz, "audit", "checkpoint", "--as", &key("verzekeraar"), "--out", "cp-vz"]);
        ok(
            d,
            &["--ledger", vz, "audit", "consistency", "demo/witnessed-verzekeraar.txt", "cp-vz", "--out", "p-demo-vz"],
        );
        ok(d, &["--ledger", zh, "audit", "witness", "cp-vz", "--proof", "p-demo-vz", "--as", &key("ziekenhuis")]);
        ok(d, &["--ledger", zh, "export", "--out", "zh.jsonl"]);
        ok(d, &["--ledger", vz, "import", "zh.jsonl"]);
        ok(d, &["--ledger", vz, "export", "--out", "all.jsonl"]);
        let entries =
            bundle::read(&d.join("all.jsonl"), "demo-copd-achterhoek").unwrap().into_iter().map(|(_, e)| e).collect();
        (tmp, entries)
    })
}

/// Like `import_fresh`, for another ledger id.
fn import_into(dir: &Path, ledger: &str, entries: &[&Entry]) -> Result<[u8; 32], String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let mut text = format!(
        "{{\"bundle\":\"vereffen\",\"entries\":{},\"ledger\":\"{ledger}\",\"since\":1,\"version\":1}}\n",
        entries.len()
    );
    for e in entries {
        text.push_str(std::str::from_utf8(&bundle::entry_line(1, e).unwrap()).unwrap());
        text.push('\n');
    }
    fs::write(dir.join("b.jsonl"), text).unwrap();
    let mut l = Ledger::init(&dir.join("copy"), ledger, &vereffen::rules::ALL).unwrap();
    bundle::import(&mut l, &dir.join("b.jsonl")).map_err(|e| e.to_string())?;
    verify_journal(l.journal_path(), &vereffen::rules::ALL, |_| {}).map_err(|f| f.to_string())?;
    Ok(l.head())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    /// Every ledger these tests build, exported and imported into a fresh
    /// copy in a shuffled line order: always accepted, always the same journal.
    #[test]
    fn every_test_ledger_imports_in_any_order(seed in any::<u64>()) {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().unwrap();
        let (_, demo) = demo_bundle();
        let (revocations, _) = revocation_set();
        let sets: Vec<(&str, Vec<Entry>)> = vec![
            ("demo-copd-achterhoek", demo.clone()),
            (LEDGER_ID, history()),
            (LEDGER_ID, revocations),
            (LEDGER_ID, witness_set()),
        ];
        for (i, (ledger, set)) in sets.iter().enumerate() {
            let in_order: Vec<&Entry> = set.iter().collect();
            let reference = import_into(&dir.path().join(format!("{i}-a")), ledger, &in_order);
            prop_assert!(reference.is_ok(), "set {}: {:?}", i, reference);
            let mut shuffled = in_order.clone();
            shuffled.shuffle(&mut rng);
            let again = import_into(&dir.path().join(format!("{i}-b")), ledger, &shuffled);
            prop_assert_eq!(again, reference, "set {}", i);
        }
    }
}

/// In the demo, thuiszorg's first key is revoked by a hand-made revocation
/// that references only its contract entries: every figure and settlement
/// signature of that key becomes void. The derived views leave them out
/// without a panic.
#[test]
fn derived_views_skip_void_entries_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let vz = "demo/verzekeraar-copy";
    ok(d, &["demo", "--dir", "demo"]);
    let before: Value = serde_json::from_str(&ok(d, &["--json", "--ledger", vz, "settle", "status", ID_DEMO])).unwrap();
    let tz2 = SigningKey::from_bytes(&[9u8; 32]);
    vereffen::ledger::keys::write_key_files(d, "tz-2", &tz2).unwrap();
    ok(d, &["--ledger", vz, "party", "rotate-key", "--as", &key("thuiszorg"), "--new", "tz-2.key", "--keep-old"]);
    // The revocation references thuiszorg's contract entries (so the
    // contract stays in force) but none of its figures or signatures.
    let log: Vec<Value> =
        ok(d, &["--json", "--ledger", vz, "log"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let contract_refs: Vec<String> = log
        .iter()
        .filter(|r| r["party"] == "thuiszorg" && r["kind"].as_str().unwrap().starts_with("contract."))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!contract_refs.is_empty());
    {
        let mut l = Ledger::open(&d.join(vz), &vereffen::rules::ALL).unwrap();
        let tz = demo_key("thuiszorg");
        let mut b = body_at(
            "thuiszorg",
            &tz2,
            registry::KIND_REVOKE,
            contract_refs,
            registry::revoke_payload(KeyId::of(&tz.verifying_key()), "compromised"),
            "2027-06-01T00:00:00Z",
        );
        b.ledger = "demo-copd-achterhoek".into();
        l.append(&[Entry::sign(b, &[&tz2]).unwrap()]).unwrap();
        assert!(!l.void_entries().unwrap().is_empty());
    }
    let (code, out, err) = run(d, &["--ledger", vz, "verify"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("warning") && out.contains("is void"), "{out}");
    for args in [
        &["--ledger", vz, "settle", "status", ID_DEMO][..],
        &["--ledger", vz, "measure", "list", ID_DEMO],
        &["--ledger", vz, "contract", "status", ID_DEMO],
        &["--ledger", vz, "settle", ID_DEMO, "--year", "2025"],
        &["--ledger", vz, "audit", "report", "--format", "json"],
        &["--ledger", vz, "log"],
    ] {
        let (_, out, err) = run(d, args);
        assert!(!err.contains("panicked") && !out.contains("panicked"), "{args:?}: {err}");
    }
    let after: Value = serde_json::from_str(&ok(d, &["--json", "--ledger", vz, "settle", "status", ID_DEMO])).unwrap();
    assert_ne!(before, after, "void figures and signatures change the settlement state");
    let list = ok(d, &["--json", "--ledger", vz, "measure", "list", ID_DEMO]);
    let tz_key = KeyId::of(&demo_key("thuiszorg").verifying_key()).to_hex();
    let log: Vec<Value> =
        ok(d, &["--json", "--ledger", vz, "log"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let void_figures: Vec<&Value> = log
        .iter()
        .filter(|r| r["kind"] == "measure.submit" && r.get("void").is_some_and(|v| v["key"] == tz_key.as_str()))
        .collect();
    assert!(!void_figures.is_empty(), "thuiszorg's figures are void");
    for f in &void_figures {
        assert!(!list.contains(f["id"].as_str().unwrap()), "a void figure is not listed");
    }
    let report = ok(d, &["--ledger", vz, "audit", "report", "--format", "json"]);
    assert!(report.contains("is void"), "the report lists void entries");
}

const ID_DEMO: &str = "copd-telemonitoring-oost-achterhoek";
