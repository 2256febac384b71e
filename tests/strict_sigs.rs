//! Signatures are checked strictly and before any rule (`docs/FORMAT.md`
//! 3.3 and 3.5): small-order and non-canonical public keys are refused at
//! registration and rotation; small-order or non-canonical `R`, and `S` not
//! below the group order, are refused; append, import (through the binary)
//! and verify agree; and unsigned bytes never reach contract validation,
//! so a forged line cannot crash `import` or `verify`.

mod common;

use common::*;
use ed25519_dalek::Signature;
use serde_json::{json, Value};
use vereffen::ledger::entry::{Author, Body, Entry, EntrySig, FORMAT_VERSION};
use vereffen::ledger::keys::KeyId;
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::Ledger;

use vereffen::ledger::keys::SMALL_ORDER_POINTS as SMALL_ORDER;

/// Non-canonical encodings of small-order points: the identity with the
/// sign bit set and as y = p + 1; y = p (that is 0); y = p - 1 with the
/// sign bit set.
const NON_CANONICAL_SMALL: [&str; 4] = [
    "0100000000000000000000000000000000000000000000000000000000000080",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// The group order l, little-endian.
const GROUP_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn bytes32(hex: &str) -> [u8; 32] {
    data_encoding::HEXLOWER.decode(hex.as_bytes()).unwrap().try_into().unwrap()
}

fn hex(b: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(b)
}

/// The signature that every weak verifier accepts under a small-order key:
/// R = identity, S = 0.
fn identity_signature() -> Signature {
    Signature::from_components(bytes32(SMALL_ORDER[0]), [0; 32])
}

/// An entry of `kind` by `party` whose author key is the raw `key` bytes,
/// carrying the given signatures (nothing is signed: the bytes are forged).
fn forged(party: &str, key: &[u8; 32], kind: &str, refs: Vec<String>, payload: Value, sigs: Vec<EntrySig>) -> Entry {
    let body = Body {
        v: FORMAT_VERSION,
        ledger: LEDGER_ID.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: hex(blake3::hash(key).as_bytes()) },
        time: "2027-01-15T09:30:00Z".into(),
        refs,
        payload,
    };
    Entry::from_parts(body.encode().unwrap(), sigs).unwrap()
}

/// A `party.register` of `party` for the raw public key `key`, "signed"
/// with R = identity, S = 0.
fn forged_registration(party: &str, key: &[u8; 32]) -> Entry {
    let payload = json!({"name": "Mallory", "public_key": hex(key), "role": "payer"});
    let sig = EntrySig { key: KeyId(*blake3::hash(key).as_bytes()), sig: identity_signature() };
    forged(party, key, registry::KIND_REGISTER, vec![], payload, vec![sig])
}

/// A note of `party` "signed" by the raw key `key` with R = identity, S = 0.
fn forged_note(party: &str, key: &[u8; 32]) -> Entry {
    let sig = EntrySig { key: KeyId(*blake3::hash(key).as_bytes()), sig: identity_signature() };
    let payload = vereffen::domain::note::payload("we, the payer, waive all claims", Some("copd-achterhoek"));
    forged(party, key, vereffen::domain::note::KIND_NOTE, vec![], payload, vec![sig])
}

/// `e` with the signature at `index` replaced.
fn with_signature(e: &Entry, index: usize, sig: Signature) -> Entry {
    let mut sigs = e.sigs().to_vec();
    sigs[index].sig = sig;
    Entry::from_parts(e.body_bytes().to_vec(), sigs).unwrap()
}

/// `a + b` for 32-byte little-endian integers.
fn add_le(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0);
    out
}

/// Appends `entries` to the journal of ledger `dir` directly, bypassing
/// every check (what a dishonest keeper can do to their own copy).
fn write_into_journal(dir: &std::path::Path, entries: &[Entry]) {
    let (mut journal, _) = vereffen::ledger::journal::Journal::open(
        &dir.join("journal"),
        vereffen::ledger::journal::Resume { seq: 0, end: 0, hash: [0; 32] },
        |_, _| Ok(()),
    )
    .unwrap();
    let wires: Vec<Vec<u8>> = entries.iter().map(Entry::encode).collect();
    journal.append(&wires).unwrap();
}

/// Asserts `append` refuses `entries` with `expect` in the message and
/// leaves the journal unchanged.
fn append_refused(ledger: &mut Ledger, entries: &[Entry], expect: &str) {
    let before = std::fs::read(ledger.journal_path()).unwrap();
    let err = ledger.append(entries).unwrap_err().to_string();
    assert!(err.contains(expect), "expected {expect:?} in: {err}");
    assert_eq!(std::fs::read(ledger.journal_path()).unwrap(), before, "a refused batch changed the journal");
}

/// Writes a bundle of ledger `LEDGER_ID` holding `lines` (entry lines).
fn write_bundle(path: &std::path::Path, lines: &[Vec<u8>]) {
    let header = json!({"bundle": "vereffen", "entries": lines.len(), "ledger": LEDGER_ID, "since": 1, "version": 1});
    let mut out = vereffen::ledger::canonical::encode(&header).unwrap();
    out.push(b'\n');
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    std::fs::write(path, out).unwrap();
}

/// Runs `vereffen ARGS` expecting a clean refusal (exit code 1 or 2, no
/// panic) whose stderr holds every string of `expect`.
fn cleanly_refused(d: &std::path::Path, args: &[&str], expect: &[&str]) {
    let journal = d.join("l/journal");
    let before = std::fs::read(&journal).ok();
    let (code, out, err) = run(d, args);
    assert!(code == 1 || code == 2, "vereffen {args:?} exited with {code}:\n{out}\n{err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    for e in expect {
        assert!(err.contains(e), "vereffen {args:?}: expected {e:?} in:\n{err}");
    }
    assert_eq!(std::fs::read(&journal).ok(), before, "vereffen {args:?} changed the ledger");
}

#[test]
fn append_refuses_small_order_and_non_canonical_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let zh = demo_key("ziekenhuis");
    let mut ledger = ledger_with(tmp.path(), &[register("ziekenhuis", "Ziekenhuis", Role::Provider, &zh)]);
    // Registration of a small-order key, and a note "signed" by it.
    for key in SMALL_ORDER {
        let reg = forged_registration("mallory", &bytes32(key));
        append_refused(&mut ledger, &[reg.clone(), forged_note("mallory", &bytes32(key))], "point of small order");
        append_refused(&mut ledger, &[reg], "(party.register) was refused: public key");
    }
    for key in NON_CANONICAL_SMALL {
        let reg = forged_registration("mallory", &bytes32(key));
        append_refused(&mut ledger, &[reg], "not the canonical encoding");
    }
    // A rotation to a small-order key, the new key's signature R = identity, S = 0.
    for key in SMALL_ORDER.iter().chain(&NON_CANONICAL_SMALL) {
        let key = bytes32(key);
        let mut b = body("ziekenhuis", &zh, registry::KIND_ROTATE, vec![], json!({}));
        b.payload = json!({"new_public_key": hex(&key), "retire_old": true});
        let honest = Entry::sign(b, &[&zh, &zh]).unwrap();
        let mut sigs = honest.sigs().to_vec();
        sigs[1] = EntrySig { key: KeyId(*blake3::hash(&key).as_bytes()), sig: identity_signature() };
        let rotation = Entry::from_parts(honest.body_bytes().to_vec(), sigs).unwrap();
        append_refused(&mut ledger, &[rotation], "(party.rotate_key) was refused: public key");
    }
    // Honest entries still go in.
    ledger.append(&[note("ziekenhuis", &zh, "still fine", vec![])]).unwrap();
}

#[test]
fn append_refuses_non_canonical_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let zh = demo_key("ziekenhuis");
    let mut ledger = ledger_with(tmp.path(), &[register("ziekenhuis", "Ziekenhuis", Role::Provider, &zh)]);
    let good = note("ziekenhuis", &zh, "a note", vec![]);
    let sig = good.sigs()[0].sig;
    // S + l: the same equation holds, but S is not canonical.
    let s_plus_l =
        with_signature(&good, 0, Signature::from_components(*sig.r_bytes(), add_le(sig.s_bytes(), &GROUP_ORDER_LE)));
    append_refused(&mut ledger, &[s_plus_l], "its S is not below the group order");
    // R as a non-canonical encoding (of the identity) or a small-order point.
    for r in NON_CANONICAL_SMALL {
        let bad = with_signature(&good, 0, Signature::from_components(bytes32(r), *sig.s_bytes()));
        append_refused(&mut ledger, &[bad], "its R is not canonically encoded");
    }
    for r in SMALL_ORDER {
        let bad = with_signature(&good, 0, Signature::from_components(bytes32(r), *sig.s_bytes()));
        append_refused(&mut ledger, &[bad], "its R is a point of small order");
    }
    // The first bad entry of a batch is named, whichever check finds it.
    let later = note("ziekenhuis", &zh, "a later note", vec![]);
    let bad_later =
        with_signature(&later, 0, Signature::from_components(*sig.r_bytes(), add_le(sig.s_bytes(), &GROUP_ORDER_LE)));
    let err = ledger.append(&[good.clone(), bad_later.clone()]).unwrap_err();
    assert!(matches!(err, vereffen::ledger::LedgerError::Rejected { position: 1, .. }), "{err}");
    ledger.append(&[good]).unwrap();
}

#[test]
fn import_refuses_small_order_parties_and_their_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", LEDGER_ID]);
    add_party(d, "ziekenhuis", "Ziekenhuis", "provider", &key("ziekenhuis"));
    for (i, key) in SMALL_ORDER.iter().chain(&NON_CANONICAL_SMALL).enumerate() {
        let key = bytes32(key);
        let lines = [
            vereffen::ledger::bundle::entry_line(2, &forged_registration("mallory", &key)).unwrap(),
            vereffen::ledger::bundle::entry_line(3, &forged_note("mallory", &key)).unwrap(),
        ];
        let name = format!("weak{i}.jsonl");
        write_bundle(&d.join(&name), &lines);
        let line = format!("{name}:2: entry");
        cleanly_refused(d, &["import", &name], &[&line, "public key", "Nothing was appended"]);
    }
    // The same with a real key: S + l and a small-order R are refused too.
    let zh = demo_key("ziekenhuis");
    let good = note("ziekenhuis", &zh, "a note", vec![]);
    let sig = good.sigs()[0].sig;
    let s_plus_l =
        with_signature(&good, 0, Signature::from_components(*sig.r_bytes(), add_le(sig.s_bytes(), &GROUP_ORDER_LE)));
    let small_r = with_signature(&good, 0, Signature::from_components(bytes32(SMALL_ORDER[0]), *sig.s_bytes()));
    for (name, e, why) in
        [("splusl.jsonl", s_plus_l, "S is not below"), ("smallr.jsonl", small_r, "R is a point of small order")]
    {
        write_bundle(&d.join(name), &[vereffen::ledger::bundle::entry_line(2, &e).unwrap()]);
        cleanly_refused(d, &["import", name], &[&format!("{name}:2: entry"), why]);
    }
}

#[test]
fn verify_refuses_a_journal_with_a_small_order_party() {
    let zh = demo_key("ziekenhuis");
    let registered = register("ziekenhuis", "Ziekenhuis", Role::Provider, &zh);
    for key in [SMALL_ORDER[0], SMALL_ORDER[4], NON_CANONICAL_SMALL[1]] {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        drop(ledger_with(&d.join("l"), std::slice::from_ref(&registered)));
        let key = bytes32(key);
        write_into_journal(&d.join("l"), &[forged_registration("mallory", &key), forged_note("mallory", &key)]);
        let (code, out, err) = run(d, &["verify"]);
        assert_eq!(code, 1, "{out}\n{err}");
        assert!(err.contains("record 2 (entry") && err.contains("public key"), "{err}");
        let f =
            vereffen::ledger::verify::verify_journal(&d.join("l/journal"), &vereffen::rules::ALL, |_| {}).unwrap_err();
        assert_eq!(f.seq, 2, "{f}");
    }
    // A real key's entry with S + l, written directly, is caught too.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    drop(ledger_with(&d.join("l"), std::slice::from_ref(&registered)));
    let good = note("ziekenhuis", &zh, "a note", vec![]);
    let later = note("ziekenhuis", &zh, "a later note", vec![]);
    let sig = later.sigs()[0].sig;
    let bad =
        with_signature(&later, 0, Signature::from_components(*sig.r_bytes(), add_le(sig.s_bytes(), &GROUP_ORDER_LE)));
    write_into_journal(&d.join("l"), &[good, bad]);
    let f = vereffen::ledger::verify::verify_journal(&d.join("l/journal"), &vereffen::rules::ALL, |_| {}).unwrap_err();
    assert_eq!(f.seq, 3, "{f}");
    assert!(f.what.contains("its S is not below the group order"), "{f}");
}

/// A bundle line (as JSON) of the contract proposal in `line`, with the
/// provider share of its terms replaced by `share`, a fresh matching id and
/// the old (now wrong) signature.
fn forged_share_line(line: &str, share: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    let body = v["body"].as_str().unwrap();
    assert!(body.contains("\"provider_share\":\"0.5\""), "{body}");
    let body = body.replacen("\"provider_share\":\"0.5\"", &format!("\"provider_share\":\"{share}\""), 1);
    let id = hex(blake3::hash(body.as_bytes()).as_bytes());
    let out = json!({"body": body, "id": id, "seq": v["seq"], "sigs": v["sigs"]});
    String::from_utf8(vereffen::ledger::canonical::encode(&out).unwrap()).unwrap()
}

#[test]
fn unsigned_contract_terms_never_reach_the_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", LEDGER_ID]);
    for (p, role) in [("ziekenhuis", "provider"), ("thuiszorg", "provider"), ("verzekeraar", "payer")] {
        ok(d, &["party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    // A second copy with the proposal; its bundle, with the terms altered.
    copy_dir(&d.join("l"), &d.join("src"));
    let copd = repo().join("contracts/copd-telemonitoring-shared-savings.toml").display().to_string();
    ok(d, &["--ledger", "src", "contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "src", "export", "--out", "all.jsonl"]);
    let text = std::fs::read_to_string(d.join("all.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines.iter().position(|l| l.contains("contract.propose")).unwrap();
    // 5e28, written out as the canonical form of the terms requires: a
    // share no rule accepts, and one whose percentage overflows a Decimal.
    lines[at] = forged_share_line(&lines[at], "50000000000000000000000000000");
    std::fs::write(d.join("forged.jsonl"), lines.join("\n") + "\n").unwrap();
    let line = format!("forged.jsonl:{}: entry", at + 1);
    cleanly_refused(
        d,
        &["import", "forged.jsonl"],
        &[&line, "(contract.propose) was refused", "signature does not verify"],
    );

    // The same entry written into a journal directly: verify names it.
    let text = std::fs::read_to_string(d.join("forged.jsonl")).unwrap();
    let v: Value = serde_json::from_str(text.lines().nth(at).unwrap()).unwrap();
    let body = v["body"].as_str().unwrap().as_bytes().to_vec();
    let sig = &v["sigs"][0];
    let sig = EntrySig {
        key: KeyId::from_hex(sig["key"].as_str().unwrap()).unwrap(),
        sig: Signature::from_bytes(
            &data_encoding::HEXLOWER.decode(sig["sig"].as_str().unwrap().as_bytes()).unwrap().try_into().unwrap(),
        ),
    };
    let e = Entry::from_parts(body, vec![sig]).unwrap();
    write_into_journal(&d.join("l"), std::slice::from_ref(&e));
    let (code, out, err) = run(d, &["verify"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains(&format!("record 4 (entry {})", e.id().short())), "{err}");
    assert!(err.contains("signature does not verify"), "{err}");
}

#[test]
fn checkpoint_verifier_keys_follow_the_same_key_rule() {
    use vereffen::audit::checkpoint::{KeyKind, Verifier};
    let good = demo_key("ziekenhuis").verifying_key();
    let vkey = Verifier::new("vereffen.example/l", good, KeyKind::Signer).unwrap().to_vkey();
    assert!(Verifier::from_vkey(&vkey).is_ok());
    for key in SMALL_ORDER {
        let weak = ed25519_dalek::VerifyingKey::from_bytes(&bytes32(key)).unwrap();
        let vkey = Verifier::new("vereffen.example/l", weak, KeyKind::Signer).unwrap().to_vkey();
        let err = Verifier::from_vkey(&vkey).unwrap_err().to_string();
        assert!(err.contains("small order"), "{err}");
    }
    for key in NON_CANONICAL_SMALL {
        let weak = ed25519_dalek::VerifyingKey::from_bytes(&bytes32(key)).unwrap();
        let vkey = Verifier::new("vereffen.example/l", weak, KeyKind::Cosigner).unwrap().to_vkey();
        let err = Verifier::from_vkey(&vkey).unwrap_err().to_string();
        assert!(err.contains("not canonically encoded"), "{err}");
    }
}
