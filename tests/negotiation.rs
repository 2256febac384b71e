//! Negotiation rules: status is a function of the set of entries, whatever
//! their order; the five example contracts negotiate to in force through the
//! CLI; every refused input leaves the ledger unchanged.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use proptest::prelude::*;
use vereffen::domain::contract::{self, Contract};
use vereffen::domain::negotiation as neg;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::registry::Role;
use vereffen::ledger::Ledger;

const COPD: &str = "contracts/copd-telemonitoring-shared-savings.toml";

fn copd(share: &str) -> Contract {
    let text = fs::read_to_string(repo().join(COPD)).unwrap();
    let text = text.replacen("provider_share = 0.5\n", &format!("provider_share = {share}\n"), 1);
    contract::parse_str("copd.toml", &text).unwrap()
}

fn sign(
    party: &str,
    key: &ed25519_dalek::SigningKey,
    kind: &str,
    refs: Vec<String>,
    payload: serde_json::Value,
) -> Entry {
    Entry::sign(body(party, key, kind, refs, payload), &[key]).unwrap()
}

/// A negotiation with every kind of entry: proposal, counter, rejection,
/// withdrawal, mandate and acceptance under it, amendment and its acceptances.
fn negotiation() -> (String, Vec<Entry>, Vec<Entry>) {
    let (zh, tz, vz) = (demo_key("ziekenhuis"), demo_key("thuiszorg"), demo_key("verzekeraar"));
    let setup = vec![
        register("ziekenhuis", "Ziekenhuis", Role::Provider, &zh),
        register("thuiszorg", "Thuiszorg", Role::Provider, &tz),
        register("verzekeraar", "Verzekeraar", Role::Payer, &vz),
    ];
    let (p50, p45, p40, p60) = (copd("0.5"), copd("0.45"), copd("0.4"), copd("0.6"));
    let id = p50.id.clone();
    let prop = sign("ziekenhuis", &zh, neg::KIND_PROPOSE, vec![], neg::offer_payload(&p50, None, None, None));
    let rej = sign(
        "verzekeraar",
        &vz,
        neg::KIND_REJECT,
        vec![prop.id().to_hex()],
        neg::decision_payload(&id, &p50.version_hash(), None, Some("too generous")),
    );
    let c40 = sign(
        "verzekeraar",
        &vz,
        neg::KIND_COUNTER,
        vec![prop.id().to_hex()],
        neg::offer_payload(&p40, Some(&p50.version_hash()), None, None),
    );
    let wd = sign(
        "verzekeraar",
        &vz,
        neg::KIND_WITHDRAW,
        vec![c40.id().to_hex()],
        neg::decision_payload(&id, &p40.version_hash(), None, Some("typo")),
    );
    let c45 = sign(
        "verzekeraar",
        &vz,
        neg::KIND_COUNTER,
        vec![prop.id().to_hex()],
        neg::offer_payload(&p45, Some(&p50.version_hash()), None, None),
    );
    let mandate = sign(
        "thuiszorg",
        &tz,
        neg::KIND_MANDATE_GRANT,
        vec![],
        serde_json::to_value(neg::MandatePayload {
            grantee: "ziekenhuis".into(),
            contracts: vec![id.clone()],
            actions: vec![neg::MandateAction::Accept],
            first_year: 2025,
            last_year: 2027,
        })
        .unwrap(),
    );
    let acc_zh = sign(
        "ziekenhuis",
        &zh,
        neg::KIND_ACCEPT,
        vec![c45.id().to_hex()],
        neg::decision_payload(&id, &p45.version_hash(), None, None),
    );
    let acc_tz = sign(
        "ziekenhuis",
        &zh,
        neg::KIND_ACCEPT,
        vec![c45.id().to_hex(), mandate.id().to_hex()],
        neg::decision_payload(&id, &p45.version_hash(), Some("thuiszorg"), None),
    );
    let amend = sign(
        "ziekenhuis",
        &zh,
        neg::KIND_AMEND,
        vec![c45.id().to_hex(), acc_zh.id().to_hex(), acc_tz.id().to_hex()],
        neg::offer_payload(&p60, None, Some(&p45.version_hash()), Some(2026)),
    );
    let amend_tz = sign(
        "thuiszorg",
        &tz,
        neg::KIND_ACCEPT,
        vec![amend.id().to_hex()],
        neg::decision_payload(&id, &p60.version_hash(), None, None),
    );
    let amend_vz = sign(
        "verzekeraar",
        &vz,
        neg::KIND_ACCEPT,
        vec![amend.id().to_hex()],
        neg::decision_payload(&id, &p60.version_hash(), None, None),
    );
    (id, setup, vec![prop, rej, c40, wd, c45, mandate, acc_zh, acc_tz, amend, amend_tz, amend_vz])
}

#[test]
fn the_negotiation_ends_in_force_with_the_amendment_from_2026() {
    let (id, setup, entries) = negotiation();
    let dir = tempfile::tempdir().unwrap();
    let l = ledger_with(&dir.path().join("l"), &[setup, entries.clone()].concat());
    let st = neg::status(&id, &entries);
    assert!(st.conflicts.is_empty(), "{:?}", st.conflicts);
    assert_eq!(st.base.as_deref(), Some(copd("0.45").version_hash().as_str()));
    assert_eq!(st.governing(2025).unwrap().version, copd("0.45").version_hash());
    assert_eq!(st.governing(2026).unwrap().version, copd("0.6").version_hash());
    assert_eq!(st.governing(2027).unwrap().version, copd("0.6").version_hash());
    assert!(st.governing(2028).is_none());
    assert_eq!(
        st.versions[&copd("0.5").version_hash()].state(),
        neg::VersionState::Rejected { by: vec!["verzekeraar".into()] }
    );
    assert_eq!(st.versions[&copd("0.4").version_hash()].state(), neg::VersionState::Withdrawn);
    let v = vereffen::ledger::verify::verify_journal(l.journal_path(), &vereffen::rules::ALL, |_| {}).unwrap();
    assert_eq!(v.entries, 14);
}

fn status_json(id: &str, entries: &[Entry]) -> String {
    serde_json::to_string(&neg::status(id, entries)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn any_order_gives_the_same_status(perm in Just((0..11usize).collect::<Vec<_>>()).prop_shuffle()) {
        let (id, setup, entries) = negotiation();
        let expected = status_json(&id, &entries);
        let shuffled: Vec<Entry> = perm.iter().map(|&i| entries[i].clone()).collect();
        prop_assert_eq!(status_json(&id, &shuffled), expected.clone());
        // And through a ledger: a bundle with its lines in that order.
        let dir = tempfile::tempdir().unwrap();
        let src = ledger_with(&dir.path().join("src"), &[setup, entries].concat());
        let path = dir.path().join("b.jsonl");
        vereffen::ledger::bundle::export(&src, &path, 1).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut out = vec![lines[0], lines[1], lines[2], lines[3]];
        out.extend(perm.iter().map(|&i| lines[4 + i]));
        fs::write(&path, out.join("\n") + "\n").unwrap();
        let mut dst = Ledger::init(&dir.path().join("dst"), LEDGER_ID, &vereffen::rules::ALL).unwrap();
        vereffen::ledger::bundle::import(&mut dst, &path).unwrap();
        let ids = dst.index().by_contract(&id).unwrap();
        let got: Vec<Entry> = dst.load(&ids).unwrap().into_iter().map(|(_, e)| e).collect();
        prop_assert_eq!(status_json(&id, &got), expected);
    }
}

// ---- through the CLI ----

fn version_of(cwd: &Path, file: &str) -> String {
    let out = ok(cwd, &["contract", "check", file, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v[0]["version"].as_str().unwrap().to_string()
}

fn setup_cli() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", "five-contracts"]);
    for (p, role) in [
        ("ziekenhuis", "provider"),
        ("thuiszorg", "provider"),
        ("verzekeraar", "payer"),
        ("huisartsen", "provider"),
        ("gemeente", "payer"),
        ("dialysecentrum", "provider"),
        ("vektis", "measurement_source"),
        ("accountant", "auditor"),
    ] {
        ok(d, &["party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    tmp
}

#[test]
fn the_five_examples_negotiate_to_in_force() {
    let tmp = setup_cli();
    let d = tmp.path();
    let files: Vec<String> = [
        "copd-telemonitoring-shared-savings",
        "heart-failure-telemonitoring-p4p",
        "home-dialysis-bundled",
        "regional-population-budget",
        "home-care-technology-hours",
    ]
    .iter()
    .map(|f| repo().join("contracts").join(format!("{f}.toml")).display().to_string())
    .collect();
    for (n, file) in files.iter().enumerate() {
        let c = contract::check_file(Path::new(file)).unwrap();
        let signatories: Vec<String> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.clone()).collect();
        let proposer = c.parties.iter().find(|p| p.signatory && p.role.to_string() == "provider").unwrap().id.clone();
        let payer = c.parties.iter().find(|p| p.signatory && p.role.to_string() == "payer").unwrap().id.clone();
        ok(d, &["contract", "propose", file, "--as", &key(&proposer)]);
        let mut version = version_of(d, file);
        if n == 0 {
            // The insurer counters the first one.
            let text =
                fs::read_to_string(file).unwrap().replacen("provider_share = 0.5\n", "provider_share = 0.45\n", 1);
            fs::write(d.join("counter.toml"), text).unwrap();
            ok(d, &["contract", "counter", &c.id, "counter.toml", "--as", &key(&payer)]);
            version = version_of(d, "counter.toml");
            let diff = ok(d, &["contract", "diff", &c.id, &c.version_hash()[..10], &version[..10]]);
            assert!(diff.contains("provider share of savings: 50% -> 45%"), "{diff}");
            let (a, b) = (&c.version_hash()[..12], &version[..12]);
            assert!(diff.starts_with(&format!("{a} -> {b}: 1 change(s)\n")), "{diff}");
            // In Dutch (`--lang nl`): the field's Dutch name, Dutch numbers.
            let nl = ok(d, &["--lang", "nl", "contract", "diff", &c.id, a, b]);
            assert_eq!(nl, format!("{a} -> {b}: 1 wijziging\n  aandeel aanbieder in de besparing: 50% -> 45%\n"));
            // JSON stays English for scripts, whatever the language.
            let json = ok(d, &["--lang", "nl", "--json", "contract", "diff", &c.id, a, b]);
            let json: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(
                json,
                serde_json::json!([{"path": "payments.shared_savings.provider_share",
                    "label": "provider share of savings", "before": "50%", "after": "45%"}])
            );
        }
        for s in &signatories {
            let st = ok(d, &["contract", "status", &c.id, "--json"]);
            let st: serde_json::Value = serde_json::from_str(&st).unwrap();
            let signed = st["versions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["version"] == version.as_str() && v["signatures"].get(s).is_some());
            if !signed {
                ok(d, &["contract", "accept", &c.id, "--version", &version, "--as", &key(s)]);
            }
        }
        let st: serde_json::Value = serde_json::from_str(&ok(d, &["contract", "status", &c.id, "--json"])).unwrap();
        assert_eq!(st["base"].as_str(), Some(version.as_str()), "{} not in force: {st}", c.id);
        if n == 0 {
            // The parties amend the COPD contract from 2026 on.
            let text =
                fs::read_to_string(file).unwrap().replacen("provider_share = 0.5\n", "provider_share = 0.6\n", 1);
            fs::write(d.join("amend.toml"), text).unwrap();
            ok(d, &["contract", "amend", &c.id, "amend.toml", "--effective-from", "2026", "--as", &key("verzekeraar")]);
            let amended = version_of(d, "amend.toml");
            for s in ["ziekenhuis", "thuiszorg"] {
                ok(d, &["contract", "accept", &c.id, "--version", &amended, "--as", &key(s)]);
            }
            let st: serde_json::Value = serde_json::from_str(&ok(d, &["contract", "status", &c.id, "--json"])).unwrap();
            let governing: Vec<&str> =
                st["governing"].as_array().unwrap().iter().map(|g| g["version"].as_str().unwrap()).collect();
            assert_eq!(governing, vec![version.as_str(), amended.as_str(), amended.as_str()]);
            let show = ok(d, &["contract", "show", &c.id]);
            assert!(show.contains(&amended), "{show}");
            assert!(show.contains("provider share of savings: 60%"), "{show}");
            // `--lang nl`: the terms in Dutch with nl-NL amounts.
            let nl = ok(d, &["--lang", "nl", "contract", "show", &c.id]);
            assert!(nl.contains(&amended), "{nl}");
            assert!(nl.contains("\nBetalingen\n") && !nl.contains("\nPayments\n"), "{nl}");
            assert!(nl.contains("aandeel aanbieders in besparingen: 60%"), "{nl}");
            assert!(nl.contains("€ 185.000,00") && !nl.contains("EUR 185,000.00"), "{nl}");
        }
    }
    let list = ok(d, &["contract", "list"]);
    assert_eq!(list.matches("in force").count(), 5, "{list}");
    ok(d, &["verify"]);
}

#[test]
fn bad_negotiation_input_is_refused_and_changes_nothing() {
    let tmp = setup_cli();
    let d = tmp.path();
    let copd = repo().join(COPD).display().to_string();
    let id = contract::check_file(Path::new(&copd)).unwrap().id;
    // An invalid file: every problem with its location, nothing written.
    fs::write(
        d.join("bad.toml"),
        fs::read_to_string(&copd).unwrap().replacen(
            "provider_share = 0.5\n",
            "provider_share = 1.5\nprovider_shaer = 0.5\n",
            1,
        ),
    )
    .unwrap();
    refused(d, &["contract", "propose", "bad.toml", "--as", &key("ziekenhuis")], "bad.toml:");
    let (code, out, _) = run(d, &["contract", "check", "bad.toml"]);
    assert_ne!(code, 0);
    assert!(out.contains("provider_shaer") && out.contains("provider_share"), "{out}");
    // A signer that is not a party of the contract.
    refused(d, &["contract", "propose", &copd, "--as", &key("gemeente")], "\"gemeente\" is not a party of contract");
    ok(d, &["contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    refused(d, &["contract", "propose", &copd, "--as", &key("verzekeraar")], "already exists in this ledger");
    // A version hash that does not exist.
    refused(
        d,
        &["contract", "accept", &id, "--version", "deadbeefdeadbeef", "--as", &key("thuiszorg")],
        "has no version deadbeefdeadbeef",
    );
    // Accepting for another party without a mandate.
    let v = version_of(d, &copd);
    refused(
        d,
        &["contract", "accept", &id, "--version", &v, "--on-behalf-of", "thuiszorg", "--as", &key("verzekeraar")],
        "cannot sign for \"thuiszorg\"",
    );
    // Accepting twice.
    refused(d, &["contract", "accept", &id, "--version", &v, "--as", &key("ziekenhuis")], "has already signed");
    // Amending a contract that is not in force.
    refused(
        d,
        &["contract", "amend", &id, &copd, "--effective-from", "2026", "--as", &key("ziekenhuis")],
        "is not in force",
    );
    ok(d, &["contract", "accept", &id, "--version", &v, "--as", &key("thuiszorg")]);
    ok(d, &["contract", "accept", &id, "--version", &v, "--as", &key("verzekeraar")]);
    let text = fs::read_to_string(&copd).unwrap().replacen("provider_share = 0.5\n", "provider_share = 0.6\n", 1);
    fs::write(d.join("amend.toml"), text).unwrap();
    // An amendment outside the term, or before the first open year.
    refused(
        d,
        &["contract", "amend", &id, "amend.toml", "--effective-from", "2030", "--as", &key("ziekenhuis")],
        "must lie within the term 2025-2027",
    );
    refused(
        d,
        &["contract", "amend", &id, "amend.toml", "--effective-from", "2024", "--as", &key("ziekenhuis")],
        "not before 2025",
    );
    // A key that does not match the fingerprint in the contract.
    ok(d, &["keys", "new", "zh-2027", "--dir", "k"]);
    ok(d, &["party", "rotate-key", "--as", &key("ziekenhuis"), "--new", "k/zh-2027.key", "--keep-old"]);
    refused(
        d,
        &["contract", "amend", &id, "amend.toml", "--effective-from", "2026", "--as", "k/zh-2027.key"],
        "but the contract names key",
    );
    // A rejection of an agreed version; withdrawing someone else's offer.
    refused(
        d,
        &["contract", "reject", &id, "--version", &v, "--reason", "no", "--as", &key("verzekeraar")],
        "already agreed",
    );
    refused(d, &["contract", "withdraw", &id, "--version", &v, "--as", &key("verzekeraar")], "did not offer version");
    ok(d, &["verify"]);
}

/// Two base versions agreed by every signatory keep each other out of
/// force: a contract conflict. Its English is the words `contract status`
/// and every JSON have always carried; the inbox and the audit report word
/// it in the reader's language (it was English inside Dutch pages).
#[test]
fn two_agreed_versions_are_a_conflict_in_the_readers_language() {
    let (id, setup, mut entries) = negotiation();
    let (tz, vz) = (demo_key("thuiszorg"), demo_key("verzekeraar"));
    let p50 = copd("0.5");
    let prop = entries[0].id().to_hex();
    for (party, k) in [("thuiszorg", &tz), ("verzekeraar", &vz)] {
        let payload = neg::decision_payload(&id, &p50.version_hash(), None, None);
        entries.push(sign(party, k, neg::KIND_ACCEPT, vec![prop.clone()], payload));
    }
    let st = neg::status(&id, &entries);
    let mut hashes = vec![p50.version_hash()[..12].to_string(), copd("0.45").version_hash()[..12].to_string()];
    hashes.sort();
    assert_eq!(st.conflicts, vec![neg::ContractConflict::ManyAgreed { hashes: hashes.clone() }]);
    let english = format!(
        "2 different versions were agreed ({}); nothing is in force until the parties amend or resolve this",
        hashes.join(", ")
    );
    assert_eq!(st.conflicts[0].to_string(), english);
    assert!(status_json(&id, &entries).contains(&format!("\"conflicts\":[\"{english}\"]")));

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    drop(ledger_with(&d.join("l"), &[setup, entries].concat()));
    let inbox_en = ok(d, &["inbox", "--as", &key("ziekenhuis")]);
    assert!(inbox_en.contains(&format!("CONFLICT: {english}")), "{inbox_en}");
    let inbox_nl = ok(d, &["--lang", "nl", "inbox", "--as", &key("ziekenhuis")]);
    assert!(inbox_nl.contains("2 verschillende versies zijn overeengekomen"), "{inbox_nl}");
    assert!(!inbox_nl.contains("were agreed"), "{inbox_nl}");
    let json = ok(d, &["--json", "inbox", "--as", &key("ziekenhuis")]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let item = v["items"].as_array().unwrap().iter().find(|i| i["kind"] == "conflict").expect("a conflict item");
    assert_eq!(item["what"], english.as_str());
    assert_eq!(item["detail"]["conflict"], "contract");
    assert_eq!(item["detail"]["kind"], "many_agreed");
    ok(d, &["--lang", "nl", "audit", "report", "--out", "report.html"]);
    let html = fs::read_to_string(d.join("report.html")).unwrap();
    assert!(html.contains("2 verschillende versies zijn overeengekomen"), "{html}");
    assert!(!html.contains("were agreed"), "the Dutch report has the English conflict");
}
