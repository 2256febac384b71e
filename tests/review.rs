//! Issue 15, defects 5-7 and the audit report: what is signed is shown
//! before signing (and a script must say `--yes`), bulk attestation, a
//! status that does not mislead (the year's own blockers, superseded
//! versions, the quality gate), readable numbers and times, and the
//! anomaly for signatures before a period ended.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// The COPD contract in force with every example figure submitted (all
/// pending the other parties' attestations).
fn submitted() -> tempfile::TempDir {
    let tmp = copd_in_force_cli("review-test");
    let d = tmp.path();
    let figures = repo().join("examples/measurements").join(COPD_ID);
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        let file = figures.join(format!("{p}.csv"));
        ok(d, &["measure", "submit", COPD_ID, "--file", file.to_str().unwrap(), "--as", &key(p)]);
    }
    tmp
}

fn pending(d: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", COPD_ID, "--state", "pending"])).unwrap();
    v.as_array().unwrap().clone()
}

/// Every party attests every figure of `year` that waits for it (bulk).
fn agree_year(d: &Path, year: &str) {
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        let waits = pending(d).iter().any(|m| {
            m["year"].as_u64().unwrap().to_string() == year && m["to_act"].as_array().unwrap().iter().any(|x| x == p)
        });
        if waits {
            ok(
                d,
                &[
                    "measure",
                    "attest",
                    "--contract",
                    COPD_ID,
                    "--year",
                    year,
                    "--all-pending",
                    "--as",
                    &key(p),
                    "--yes",
                ],
            );
        }
    }
}

fn settle_status(d: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_str(&ok(d, &["--json", "settle", "status", COPD_ID])).unwrap();
    v.as_array().unwrap().clone()
}

#[test]
fn attest_shows_the_figure_and_a_script_must_pass_yes() {
    let tmp = submitted();
    let d = tmp.path();
    let m = pending(d).into_iter().find(|m| m["indicator"] == "care-cost" && m["period"] == "2025").unwrap();
    let id = m["id"].as_str().unwrap();
    // Standard input is not a terminal here: without --yes nothing is signed.
    refused(d, &["measure", "attest", id, "--as", &key("ziekenhuis")], "pass --yes");
    let out = ok(d, &["measure", "attest", id, "--as", &key("ziekenhuis"), "--yes"]);
    for shown in [
        "ziekenhuis attests 1 figure(s)",
        "indicator care-cost",
        "period 2025",
        "value 2,539,510.14 EUR",
        "source verzekeraar",
        &id[..12],
        "appended measure.attest",
    ] {
        assert!(out.contains(shown), "{shown:?} not shown in:\n{out}");
    }
    // Under --json the summary goes to stderr and stdout stays JSON.
    let other = pending(d).into_iter().find(|m| m["indicator"] == "admissions" && m["period"] == "2025").unwrap();
    let json =
        ok(d, &["--json", "measure", "attest", other["id"].as_str().unwrap(), "--as", &key("ziekenhuis"), "--yes"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["kind"], "measure.attest");
}

#[test]
fn bulk_attest_lists_and_attests_every_figure_waiting_for_the_party_in_one_batch() {
    let tmp = submitted();
    let d = tmp.path();
    let waiting: Vec<Value> = pending(d)
        .into_iter()
        .filter(|m| m["year"] == 2026 && m["to_act"].as_array().unwrap().iter().any(|p| p == "thuiszorg"))
        .collect();
    assert!(!waiting.is_empty(), "the example has 2026 figures for thuiszorg to attest");
    let args = ["measure", "attest", "--contract", COPD_ID, "--year", "2026", "--all-pending", "--as"];
    let mut no_yes: Vec<&str> = args.to_vec();
    let k = key("thuiszorg");
    no_yes.push(&k);
    refused(d, &no_yes, "pass --yes");
    let before = std::fs::read(d.join("l/journal")).unwrap().len();
    let mut with_yes = no_yes.clone();
    with_yes.push("--yes");
    let out = ok(d, &with_yes);
    assert!(out.contains(&format!("thuiszorg attests {} figure(s)", waiting.len())), "{out}");
    for m in &waiting {
        let id = &m["id"].as_str().unwrap()[..12];
        assert!(out.contains(id), "{id} not listed:\n{out}");
    }
    assert_eq!(out.matches("appended measure.attest").count(), waiting.len(), "{out}");
    assert!(std::fs::read(d.join("l/journal")).unwrap().len() > before);
    let left: Vec<Value> = pending(d)
        .into_iter()
        .filter(|m| m["year"] == 2026 && m["to_act"].as_array().unwrap().iter().any(|p| p == "thuiszorg"))
        .collect();
    assert!(left.is_empty(), "still waiting for thuiszorg: {left:?}");
    // Nothing left: a clear error, nothing written.
    refused(d, &with_yes, "no figure of");
}

#[test]
fn settle_sign_shows_the_amounts_per_party_and_the_payments_first() {
    let tmp = submitted();
    let d = tmp.path();
    agree_year(d, "2025");
    refused(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--as", &key("ziekenhuis")], "pass --yes");
    let out = ok(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--yes", "--as", &key("ziekenhuis")]);
    assert!(out.contains("ziekenhuis signs the 2025 statement"), "{out}");
    assert!(out.contains("RECEIVES (EUR)") && out.contains("PAYS (EUR)"), "{out}");
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(p)), "{p} has no line:\n{out}");
    }
    assert!(out.contains("PAYMENTS (EUR)") && out.contains(" -> "), "{out}");
    let negative =
        |l: &str| l.split_whitespace().any(|t| t.len() > 1 && t.starts_with('-') && t.as_bytes()[1].is_ascii_digit());
    assert!(!out.lines().filter(|l| l.contains(" -> ")).any(negative), "a payment is positive:\n{out}");
}

#[test]
fn settle_status_names_each_years_own_blockers() {
    let tmp = submitted();
    let d = tmp.path();
    // Nothing attested: every year is open; 2026 and 2027 must not report
    // only 2025's figures as their own.
    for y in settle_status(d) {
        let year = y["year"].as_u64().unwrap();
        let detail = y["detail"].as_str().unwrap();
        assert_eq!(y["state"], "open", "{y}");
        assert!(detail.contains(&format!("figure(s) of {year} not agreed")), "{year}: {detail}");
        if year > 2025 {
            assert!(detail.contains("waits for 2025 to be settled"), "{year}: {detail}");
        }
    }
    // 2025 agreed: 2026 and 2027 still show their own figures.
    agree_year(d, "2025");
    let st = settle_status(d);
    let y2027 = st.iter().find(|y| y["year"] == 2027).unwrap();
    assert!(y2027["detail"].as_str().unwrap().contains("figure(s) of 2027 not agreed"), "{y2027}");
    assert!(!y2027["detail"].as_str().unwrap().contains("of 2025"), "{y2027}");
}

#[test]
fn settle_status_shows_a_passed_quality_gate() {
    let tmp = submitted();
    let d = tmp.path();
    agree_year(d, "2025");
    let st = settle_status(d);
    let y = st.iter().find(|y| y["year"] == 2025).unwrap();
    assert_eq!(y["state"], "computable", "{y}");
    assert_eq!(y["quality_gate"]["met"], true, "{y}");
    assert_eq!(y["quality_gate"]["gate"], "0.3", "{y}");
    let text = ok(d, &["settle", "status", COPD_ID]);
    assert!(text.contains("quality gate met: score"), "{text}");
}

#[test]
fn a_superseded_proposal_is_not_pending_forever() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", "review-negotiation"]);
    for (p, role) in [("ziekenhuis", "provider"), ("thuiszorg", "provider"), ("verzekeraar", "payer")] {
        add_party(d, p, p, role, &key(p));
    }
    let copd = repo().join(COPD_FILE);
    ok(d, &["contract", "propose", copd.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    let text = std::fs::read_to_string(&copd).unwrap();
    let countered = text.replacen(
        "title = \"COPD telemonitoring Oost-Achterhoek 2025-2027\"",
        "title = \"COPD telemonitoring (counter)\"",
        1,
    );
    assert_ne!(text, countered);
    std::fs::write(d.join("counter.toml"), countered).unwrap();
    ok(d, &["contract", "counter", COPD_ID, "counter.toml", "--as", &key("verzekeraar")]);
    let v: Value = serde_json::from_str(&ok(d, &["contract", "check", "counter.toml", "--json"])).unwrap();
    let counter = v[0]["version"].as_str().unwrap().to_string();
    for p in ["ziekenhuis", "thuiszorg"] {
        ok(d, &["contract", "accept", COPD_ID, "--version", &counter, "--as", &key(p)]);
    }
    let status = ok(d, &["contract", "status", COPD_ID]);
    let proposal_line = status.lines().find(|l| l.contains("proposal by ziekenhuis")).unwrap();
    assert!(proposal_line.contains(&format!("superseded by {}", &counter[..12])), "{status}");
    assert!(!proposal_line.contains("waiting for"), "{status}");
    let json: Value = serde_json::from_str(&ok(d, &["contract", "status", COPD_ID, "--json"])).unwrap();
    let superseded: Vec<&Value> =
        json["versions"].as_array().unwrap().iter().filter(|v| v["superseded_by"] == counter.as_str()).collect();
    assert_eq!(superseded.len(), 1, "{json}");
    let report: Value = serde_json::from_str(&ok(d, &["audit", "report", "--format", "json"])).unwrap();
    let states: Vec<&str> =
        report["contracts"][0]["versions"].as_array().unwrap().iter().map(|v| v["state"].as_str().unwrap()).collect();
    assert!(states.iter().any(|s| s.starts_with(&format!("superseded by {}", &counter[..12]))), "{states:?}");
    assert!(!states.iter().any(|s| s.starts_with("pending")), "{states:?}");
}

#[test]
fn the_audit_report_flags_early_signatures_and_shows_derivations_in_the_statements_format() {
    let tmp = submitted();
    let d = tmp.path();
    // The claimed time of every entry is 2027-01-15 (common::run): the 2027
    // figures are submitted and attested before 2027 ended.
    agree_year(d, "2025");
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--yes", "--as", &key(p)]);
    }
    let report: Value = serde_json::from_str(&ok(d, &["audit", "report", "--format", "json"])).unwrap();
    let anomalies = report["anomalies"].as_array().unwrap();
    let early: Vec<&Value> = anomalies.iter().filter(|a| a["kind"] == "signed_before_period_end").collect();
    assert!(
        early.iter().any(|a| a["subject"].as_str().unwrap().ends_with("care-cost 2027")
            && a["detail"].as_str().unwrap().contains("before the period ended at 2028-01-01T00:00:00Z")),
        "{early:#?}"
    );
    assert!(!early.iter().any(|a| a["subject"].as_str().unwrap().contains(" 2025")), "2025 ended before: {early:#?}");
    // Money in anomaly details as in the statements.
    let pending_2027 = anomalies
        .iter()
        .find(|a| a["kind"] == "unresolved_figure" && a["subject"].as_str().unwrap().ends_with("care-cost 2027"))
        .unwrap();
    assert!(pending_2027["detail"].as_str().unwrap().contains(" EUR by verzekeraar"), "{pending_2027}");
    assert!(!pending_2027["detail"].as_str().unwrap().contains(" eur "), "{pending_2027}");
    // The settled 2025 statement: derivation next to the replay, and the gate.
    let st = &report["contracts"][0]["settlements"][0]["statements"][0];
    assert!(st["replay"].as_str().unwrap().starts_with("MATCH"), "{st}");
    let ids: Vec<&str> = st["derivation"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    for id in ["shared_savings.benchmark", "shared_savings.gross_savings", "shared_savings.quality_score"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let rate = st["derivation"].as_array().unwrap().iter().find(|l| l["id"] == "shared_savings.savings_rate").unwrap();
    let shown = rate["shown"].as_str().unwrap();
    assert!(shown.ends_with('%') && shown.split('.').nth(1).unwrap().len() == 3, "two decimals: {shown}");
    assert!(st["quality_gate"].as_str().unwrap().starts_with("quality gate met"), "{st}");
    // The HTML: no bare euro sign before an ungrouped amount.
    let html = ok(d, &["audit", "report", "--format", "html"]);
    assert!(!html.contains("&euro;"), "amounts are written as in the statements");
    assert!(html.contains("Amount (EUR)"));
    assert!(html.contains("2,539,510.14"), "grouped money in the measurements");
}

#[test]
fn a_year_below_the_quality_gate_raises_the_contracts_improvement_plan() {
    let tmp = copd_in_force_cli("review-gate");
    let d = tmp.path();
    // 2025 quality figures at or beyond every threshold: quality score 0,
    // below the COPD contract's gate of 0.3.
    let figures = repo().join("examples/measurements").join(COPD_ID);
    for (p, from, to) in [
        ("verzekeraar", "admissions,2025,0.55", "admissions,2025,0.70"),
        ("ziekenhuis", "ccq,2025,2.3", "ccq,2025,3.0"),
        ("thuiszorg", "prem,2025,0.78", "prem,2025,0.60"),
    ] {
        let text = std::fs::read_to_string(figures.join(format!("{p}.csv"))).unwrap();
        assert!(text.contains(from), "{p}: {from}");
        let file = d.join(format!("{p}.csv"));
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
        ok(d, &["measure", "submit", COPD_ID, "--file", file.to_str().unwrap(), "--as", &key(p)]);
    }
    agree_year(d, "2025");
    let st = settle_status(d);
    let y = st.iter().find(|y| y["year"] == 2025).unwrap();
    assert_eq!(y["quality_gate"]["met"], false, "{y}");
    assert_eq!(y["quality_gate"]["consequence"], "improvement_plan", "{y}");
    assert!(y["detail"].as_str().unwrap().contains("improvement plan"), "{y}");
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--yes", "--as", &key(p)]);
    }
    let report: Value = serde_json::from_str(&ok(d, &["audit", "report", "--format", "json"])).unwrap();
    let gate: Vec<&Value> =
        report["anomalies"].as_array().unwrap().iter().filter(|a| a["kind"] == "quality_gate_not_met").collect();
    assert_eq!(gate.len(), 1, "{:#}", report["anomalies"]);
    assert_eq!(gate[0]["subject"], format!("{COPD_ID} 2025"));
    assert!(gate[0]["detail"].as_str().unwrap().contains("improvement plan"), "{}", gate[0]);
}
