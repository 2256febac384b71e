//! Measurements: every state transition through the CLI, every refused
//! input leaves the ledger unchanged, and a measurement's state does not
//! depend on the order its entries arrived in.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use vereffen::domain::contract;
use vereffen::domain::measurement as meas;
use vereffen::domain::negotiation as neg;
use vereffen::ledger::entry::{Entry, EntryId};
use vereffen::ledger::registry::Role;

const COPD: &str = "contracts/copd-telemonitoring-shared-savings.toml";
const ID: &str = "copd-telemonitoring-oost-achterhoek";

fn sign(party: &str, key: &ed25519_dalek::SigningKey, kind: &str, refs: Vec<String>, payload: Value) -> Entry {
    Entry::sign(body(party, key, kind, refs, payload), &[key]).unwrap()
}

/// The COPD contract in force plus a measurement history with every kind
/// of transition. Returns (contract entries, measurement entries).
fn history() -> (Vec<Entry>, Vec<Entry>) {
    let (zh, tz, vz) = (demo_key("ziekenhuis"), demo_key("thuiszorg"), demo_key("verzekeraar"));
    let c = contract::check_file(&repo().join(COPD)).unwrap();
    let v = c.version_hash();
    let prop = sign("ziekenhuis", &zh, neg::KIND_PROPOSE, vec![], neg::offer_payload(&c, None, None, None));
    let pv = prop.id().to_hex();
    let mut setup = vec![
        register("ziekenhuis", "Ziekenhuis", Role::Provider, &zh),
        register("thuiszorg", "Thuiszorg", Role::Provider, &tz),
        register("verzekeraar", "Verzekeraar", Role::Payer, &vz),
        prop,
    ];
    for (p, k) in [("thuiszorg", &tz), ("verzekeraar", &vz)] {
        setup.push(sign(p, k, neg::KIND_ACCEPT, vec![pv.clone()], neg::decision_payload(ID, &v, None, None)));
    }
    let fig = |ind: &str, period: &str, value: &str, corrects: Option<(&str, &str)>| {
        meas::figure_payload(ID, &v, ind, period, value.parse().unwrap(), None, None, corrects)
    };
    let cost =
        sign("verzekeraar", &vz, meas::KIND_SUBMIT, vec![pv.clone()], fig("care-cost", "2025", "2412500.00", None));
    let cid = cost.id().to_hex();
    let att_zh = sign("ziekenhuis", &zh, meas::KIND_ATTEST, vec![cid.clone()], meas::response_payload(ID, &cid, None));
    let disp = sign(
        "thuiszorg",
        &tz,
        meas::KIND_DISPUTE,
        vec![cid.clone()],
        meas::response_payload(ID, &cid, Some("December missing")),
    );
    let fixed = sign(
        "verzekeraar",
        &vz,
        meas::KIND_CORRECT,
        vec![pv.clone(), cid.clone()],
        fig("care-cost", "2025", "2431800.50", Some((&cid, "December added"))),
    );
    let fid = fixed.id().to_hex();
    let fix_zh = sign("ziekenhuis", &zh, meas::KIND_ATTEST, vec![fid.clone()], meas::response_payload(ID, &fid, None));
    let fix_tz = sign("thuiszorg", &tz, meas::KIND_ATTEST, vec![fid.clone()], meas::response_payload(ID, &fid, None));
    let ccq = sign("ziekenhuis", &zh, meas::KIND_SUBMIT, vec![pv.clone()], fig("ccq", "2025", "2.3", None));
    let qid = ccq.id().to_hex();
    let ccq_d = sign(
        "verzekeraar",
        &vz,
        meas::KIND_DISPUTE,
        vec![qid.clone()],
        meas::response_payload(ID, &qid, Some("which cohort?")),
    );
    let ccq_a = sign(
        "verzekeraar",
        &vz,
        meas::KIND_ATTEST,
        vec![qid.clone(), ccq_d.id().to_hex()],
        meas::response_payload(ID, &qid, None),
    );
    let prem = sign("thuiszorg", &tz, meas::KIND_SUBMIT, vec![pv], fig("prem", "2025", "0.78", None));
    (setup, vec![cost, att_zh, disp, fixed, fix_zh, fix_tz, ccq, ccq_d, ccq_a, prem])
}

fn states_json(setup: &[Entry], entries: &[Entry]) -> String {
    let all: Vec<Entry> = setup.iter().chain(entries).cloned().collect();
    let lookup = |id: &EntryId| all.iter().find(|e| e.id() == *id).cloned();
    let mut states = meas::states(ID, entries, &lookup);
    states.iter_mut().for_each(|m| m.time.clear());
    serde_json::to_string(&states).unwrap()
}

#[test]
fn the_history_ends_in_the_expected_states() {
    let (setup, entries) = history();
    let dir = tempfile::tempdir().unwrap();
    let l = ledger_with(&dir.path().join("l"), &[setup.clone(), entries.clone()].concat());
    vereffen::ledger::verify::verify_journal(l.journal_path(), &vereffen::rules::ALL, |_| {}).unwrap();
    let all: Vec<Entry> = setup.iter().chain(&entries).cloned().collect();
    let lookup = |id: &EntryId| all.iter().find(|e| e.id() == *id).cloned();
    let states = meas::states(ID, &entries, &lookup);
    let by = |ind: &str, value: &str| {
        states.iter().find(|m| m.indicator == ind && m.value.to_string() == value).unwrap().state.name()
    };
    assert_eq!(by("care-cost", "2412500"), "superseded");
    assert_eq!(by("care-cost", "2431800.5"), "agreed");
    assert_eq!(by("ccq", "2.3"), "agreed", "the disputer resolved its dispute by attesting");
    assert_eq!(by("prem", "0.78"), "pending");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn states_do_not_depend_on_arrival_order(perm in Just((0..10usize).collect::<Vec<_>>()).prop_shuffle()) {
        let (setup, entries) = history();
        let shuffled: Vec<Entry> = perm.iter().map(|&i| entries[i].clone()).collect();
        prop_assert_eq!(states_json(&setup, &shuffled), states_json(&setup, &entries));
    }
}

// ---- through the CLI ----

fn list(d: &Path, filter: &[&str]) -> Vec<Value> {
    let out = ok(d, &[&["measure", "list", ID, "--json"], filter].concat());
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

fn state_of(d: &Path, indicator: &str, period: &str) -> Vec<(String, String)> {
    list(d, &[])
        .iter()
        .filter(|r| r["indicator"] == indicator && r["period"] == period)
        .map(|r| (r["state"].as_str().unwrap().to_string(), r["id"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn setup_cli() -> tempfile::TempDir {
    copd_in_force_cli("measure-test")
}

#[test]
fn every_state_transition_through_the_cli() {
    let tmp = setup_cli();
    let d = tmp.path();
    assert_eq!(state_of(d, "care-cost", "2025")[0].0, "missing");
    ok(
        d,
        &[
            "measure",
            "submit",
            ID,
            "--indicator",
            "care-cost",
            "--period",
            "2025",
            "--value",
            "2412500.00",
            "--as",
            &key("verzekeraar"),
        ],
    );
    let (state, id) = state_of(d, "care-cost", "2025")[0].clone();
    assert_eq!(state, "pending");
    ok(d, &["measure", "attest", "--yes", &id[..10], "--as", &key("ziekenhuis")]);
    assert_eq!(state_of(d, "care-cost", "2025")[0].0, "pending");
    ok(d, &["measure", "attest", "--yes", &id, "--as", &key("thuiszorg")]);
    assert_eq!(state_of(d, "care-cost", "2025")[0].0, "agreed");
    ok(d, &["measure", "dispute", &id, "--reason", "December claims missing", "--as", &key("thuiszorg")]);
    assert_eq!(state_of(d, "care-cost", "2025")[0].0, "disputed");
    let text = ok(d, &["measure", "list", ID, "--state", "disputed"]);
    assert!(text.contains("December claims missing") && text.contains("verzekeraar to correct"), "{text}");
    ok(
        d,
        &[
            "measure",
            "correct",
            &id,
            "--value",
            "2431800.50",
            "--reason",
            "December claims added",
            "--as",
            &key("verzekeraar"),
        ],
    );
    let states = state_of(d, "care-cost", "2025");
    assert!(states.contains(&("superseded".into(), id.clone())), "{states:?}");
    let new_id = states.iter().find(|s| s.0 == "pending").unwrap().1.clone();
    refused(d, &["measure", "attest", "--yes", &id, "--as", &key("ziekenhuis")], "was superseded");
    refused(d, &["measure", "dispute", &id, "--reason", "x", "--as", &key("ziekenhuis")], "was superseded");
    ok(d, &["measure", "attest", "--yes", &new_id, "--as", &key("ziekenhuis")]);
    refused(d, &["measure", "attest", "--yes", &new_id, "--as", &key("ziekenhuis")], "has already signed");
    ok(d, &["measure", "attest", "--yes", &new_id, "--as", &key("thuiszorg")]);
    assert!(state_of(d, "care-cost", "2025").contains(&("agreed".into(), new_id.clone())));
    // A dispute resolved by the disputer's own attestation.
    ok(
        d,
        &[
            "measure",
            "submit",
            ID,
            "--indicator",
            "ccq",
            "--period",
            "2025",
            "--value",
            "2.3",
            "--as",
            &key("ziekenhuis"),
        ],
    );
    let qid = state_of(d, "ccq", "2025")[0].1.clone();
    ok(d, &["measure", "dispute", &qid, "--reason", "which cohort?", "--as", &key("verzekeraar")]);
    ok(d, &["measure", "attest", "--yes", &qid, "--as", &key("verzekeraar")]);
    assert_eq!(state_of(d, "ccq", "2025")[0].0, "agreed");
    let log = ok(d, &["log", "--kind", "measure.correct"]);
    assert!(log.contains("corrects care-cost 2025 = 2431800.5 (December claims added)"), "{log}");
    ok(d, &["verify"]);
}

#[test]
fn bad_measurement_input_is_refused_and_changes_nothing() {
    let tmp = setup_cli();
    let d = tmp.path();
    // A file with several bad rows: every one is reported, none is submitted.
    fs::write(
        d.join("bad.csv"),
        "indicator,period,value,note\ncare-cost,2025,2412500.00,ok\nbogus,2025,1,\nadmissions,2025,abc,\nadmissions,2031,0.5,\nccq,2025,2.1,\ncare-cost,2025,1.00,\nprem,2025,1.5,\nadmissions,2025-Q1,0.5,\ncare-cost,2026,12.345,\n",
    )
    .unwrap();
    let (code, _, err) = run(d, &["measure", "submit", ID, "--file", "bad.csv", "--as", &key("verzekeraar")]);
    assert_ne!(code, 0);
    for expect in [
        "nothing was submitted; 8 problem(s)",
        "bad.csv:3: unknown indicator \"bogus\"",
        "bad.csv:4: value \"abc\" is not a decimal number",
        "bad.csv:5: period \"2031\" is not within the contract term",
        "bad.csv:6: \"verzekeraar\" is not the measurement source of ccq",
        "bad.csv:7: care-cost 2025 appears twice in this file",
        "bad.csv:8: \"verzekeraar\" is not the measurement source of prem",
        "bad.csv:9: period \"2025-Q1\" is not a year such as 2026",
        "bad.csv:10: value 12.345 does not fit unit eur: it is money: at most 2 decimals",
    ] {
        assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
    }
    assert_eq!(state_of(d, "care-cost", "2025")[0].0, "missing");
    fs::write(d.join("bad.json"), "[{\"indicator\": \"admissions\", \"period\": \"2025\", \"value\": \"-0.5\"}]")
        .unwrap();
    refused(
        d,
        &["measure", "submit", ID, "--file", "bad.json", "--as", &key("verzekeraar")],
        "bad.json:1: value -0.5 does not fit unit per_member: it cannot be negative",
    );
    fs::write(d.join("cols.csv"), "indicator,period,amount\ncare-cost,2025,1\n").unwrap();
    refused(
        d,
        &["measure", "submit", ID, "--file", "cols.csv", "--as", &key("verzekeraar")],
        "cols.csv:1: the header must name the columns",
    );
    // A figure that already exists needs `correct`.
    ok(
        d,
        &[
            "measure",
            "submit",
            ID,
            "--indicator",
            "admissions",
            "--period",
            "2025",
            "--value",
            "0.55",
            "--as",
            &key("verzekeraar"),
        ],
    );
    refused(
        d,
        &[
            "measure",
            "submit",
            ID,
            "--indicator",
            "admissions",
            "--period",
            "2025",
            "--value",
            "0.5",
            "--as",
            &key("verzekeraar"),
        ],
        "already has figure 0.55",
    );
    let id = state_of(d, "admissions", "2025")[0].1.clone();
    refused(
        d,
        &["measure", "correct", &id, "--value", "0.550", "--reason", "same", "--as", &key("verzekeraar")],
        "is unchanged",
    );
    refused(
        d,
        &["measure", "correct", &id, "--value", "0.5", "--reason", "not mine", "--as", &key("ziekenhuis")],
        "only \"verzekeraar\", the designated measurement source",
    );
    refused(
        d,
        &["measure", "attest", "--yes", &id, "--as", &key("verzekeraar")],
        "the source signed its figure by submitting it",
    );
    refused(d, &["measure", "attest", "--yes", &id, "--as", &key("vektis")], "is not among the parties that agree");
    refused(d, &["measure", "attest", "--yes", "0123", "--as", &key("ziekenhuis")], "too short");
    refused(
        d,
        &[
            "measure",
            "submit",
            "no-such-contract",
            "--indicator",
            "x",
            "--period",
            "2025",
            "--value",
            "1",
            "--as",
            &key("verzekeraar"),
        ],
        "there is no contract",
    );
    let (code, _, err) = run(d, &["measure", "list", ID, "--state", "weird"]);
    assert!(code != 0 && err.contains("unknown state"), "{err}");
    ok(d, &["verify"]);
}

#[test]
fn the_example_figures_submit_for_every_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", "examples"]);
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
    for f in fs::read_dir(repo().join("contracts")).unwrap() {
        let f = f.unwrap().path();
        let c = contract::check_file(&f).unwrap();
        let signers: Vec<String> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.clone()).collect();
        ok(d, &["contract", "propose", f.to_str().unwrap(), "--as", &key(&signers[0])]);
        for s in &signers[1..] {
            ok(d, &["contract", "accept", &c.id, "--version", &c.version_hash(), "--as", &key(s)]);
        }
        let dir = repo().join("examples/measurements").join(&c.id);
        for src in fs::read_dir(&dir).unwrap() {
            let src = src.unwrap().path();
            let party = src.file_stem().unwrap().to_str().unwrap().to_string();
            ok(d, &["measure", "submit", &c.id, "--file", src.to_str().unwrap(), "--as", &key(&party)]);
        }
        let out = ok(d, &["measure", "list", &c.id, "--json"]);
        let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
        let missing: Vec<String> = rows
            .iter()
            .filter(|r| r["state"] == "missing")
            .map(|r| format!("{} {}", r["indicator"], r["period"]))
            .collect();
        assert!(missing.is_empty(), "{}: figures missing from examples/measurements: {missing:?}", c.id);
    }
}

#[test]
fn derive_records_the_file_hash_and_recompute_confirms_it() {
    let tmp = setup_cli();
    let d = tmp.path();
    let rules = repo().join("examples/data/rules-copd.toml").display().to_string();
    let claims = repo().join("examples/data/claims-copd-2027.csv").display().to_string();
    // A claims file with one malformed row records nothing.
    let text = fs::read_to_string(&claims).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[5000] = "p-000001,2027-02-30x,GP-CONSULT,huisartsen,32.50,1";
    fs::write(d.join("bad.csv"), lines.join("\n") + "\n").unwrap();
    refused(
        d,
        &[
            "measure",
            "derive",
            ID,
            "--rules",
            &rules,
            "--file",
            "bad.csv",
            "--period",
            "2027",
            "--as",
            &key("verzekeraar"),
        ],
        "bad.csv:5001: date",
    );
    // The derivation must be by the indicators' source.
    refused(
        d,
        &[
            "measure",
            "derive",
            ID,
            "--rules",
            &rules,
            "--file",
            &claims,
            "--period",
            "2027",
            "--as",
            &key("ziekenhuis"),
        ],
        "is not the measurement source of care-cost",
    );
    ok(
        d,
        &[
            "measure",
            "derive",
            ID,
            "--rules",
            &rules,
            "--file",
            &claims,
            "--period",
            "2027",
            "--as",
            &key("verzekeraar"),
        ],
    );
    let rows = list(d, &["--year", "2027"]);
    let cost = rows.iter().find(|r| r["indicator"] == "care-cost").unwrap();
    assert_eq!(cost["value"], "3101192.36");
    assert_eq!(cost["derived_from"].as_str().unwrap(), blake3::hash(text.as_bytes()).to_hex().as_str());
    let id = cost["id"].as_str().unwrap();
    let out = ok(d, &["measure", "recompute", id, "--file", &claims]);
    assert!(out.contains("MATCH") && out.contains("identical"), "{out}");
    fs::write(d.join("other.csv"), text.lines().take(6000).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let (code, out, _) = run(d, &["measure", "recompute", id, "--file", "other.csv"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIFFERENT") && out.contains("DIFFERS"), "{out}");
}
