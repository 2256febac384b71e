//! Correction payments after a resettlement (issue 15, defect 4) and
//! `settle diff`: a corrected year shows, per party and per FROM -> TO pair,
//! what must be paid to settle the difference with the statement it
//! replaces (docs/FORMAT.md 5.8, "Replaced statement and correction
//! payments"), in every format; any two statements of a year compare line by
//! line. The expected numbers are computed by hand in the comments.

mod common;

use common::*;
use serde_json::Value;

const ID: &str = "copd-telemonitoring-oost-achterhoek";
const PROVIDERS_AND_PAYER: [&str; 3] = ["ziekenhuis", "thuiszorg", "verzekeraar"];

/// A ledger in `d` with the COPD contract in force and every example figure
/// of 2025-2027 submitted and attested.
fn agreed_copd(d: &std::path::Path) {
    ok(d, &["init", "--id", "corrections-test"]);
    for (p, role) in
        [("ziekenhuis", "provider"), ("thuiszorg", "provider"), ("verzekeraar", "payer"), ("accountant", "auditor")]
    {
        ok(d, &["party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    let copd = repo().join("contracts/copd-telemonitoring-shared-savings.toml").display().to_string();
    ok(d, &["contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    let v: Value = serde_json::from_str(&ok(d, &["contract", "check", &copd, "--json"])).unwrap();
    let version = v[0]["version"].as_str().unwrap().to_string();
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["contract", "accept", ID, "--version", &version, "--as", &key(p)]);
    }
    let figures = repo().join("examples/measurements").join(ID);
    for p in PROVIDERS_AND_PAYER {
        let file = figures.join(format!("{p}.csv"));
        ok(d, &["measure", "submit", ID, "--file", file.to_str().unwrap(), "--as", &key(p)]);
    }
    attest_pending(d);
}

fn attest_pending(d: &std::path::Path) {
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
}

/// Corrects the agreed 2025 care cost to `value` and has it attested.
fn correct_2025_cost(d: &std::path::Path, value: &str) {
    let list: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--year", "2025"])).unwrap();
    let cost = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["indicator"] == "care-cost" && m["state"] == "agreed")
        .expect("an agreed 2025 care cost");
    ok(
        d,
        &[
            "measure",
            "correct",
            cost["id"].as_str().unwrap(),
            "--value",
            value,
            "--reason",
            "late claims",
            "--as",
            &key(cost["source"].as_str().unwrap()),
        ],
    );
    attest_pending(d);
}

fn sign_2025(d: &std::path::Path, resettle: bool) {
    for p in PROVIDERS_AND_PAYER {
        let mut args = vec!["settle", ID, "--year", "2025", "--sign", "--yes", "--as"];
        let k = key(p);
        args.push(&k);
        if resettle {
            args.push("--resettle");
        }
        ok(d, &args);
    }
}

fn settled_2025(d: &std::path::Path) -> String {
    let st: Value = serde_json::from_str(&ok(d, &["--json", "settle", "status", ID])).unwrap();
    assert_eq!(st[0]["state"], "settled", "{st:#}");
    st[0]["settled"].as_str().unwrap().to_string()
}

fn statement_2025(d: &std::path::Path) -> Value {
    serde_json::from_str(&ok(d, &["settle", ID, "--year", "2025", "--format", "json"])).unwrap()
}

/// (from, to, funding, amount) of the correction payments of a JSON document.
fn payments(v: &Value) -> Vec<(String, String, String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_string();
            (s("from"), s("to"), s("funding"), s("amount"))
        })
        .collect()
}

fn pay(from: &str, to: &str, amount: &str) -> (String, String, String, String) {
    (from.into(), to.into(), "zvw".into(), amount.into())
}

#[test]
fn a_resettled_year_shows_the_correction_payments_against_the_statement_it_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);

    // 2025 as agreed: care cost 2,539,510.14 against a benchmark of
    // 2,578,182.88: gross savings 38,672.74 lie below the 2% corridor
    // (51,563.66): no savings payout. Nothing was replaced: no corrections.
    sign_2025(d, false);
    let h1 = settled_2025(d);
    let doc = statement_2025(d);
    assert!(doc.get("corrections").is_none(), "{doc:#}");
    assert!(!ok(d, &["settle", ID, "--year", "2025"]).contains("CORRECTIONS"));
    refused(d, &["settle", "diff", ID, "--year", "2025"], "replaces no settled statement");

    // The care cost is corrected to 2,500,000.00: gross savings
    // 2,578,182.88 - 2,500,000.00 = 78,182.88 = 3.03% >= 2%, shared from the
    // first euro: payout = 78,182.88 x 50% provider share x 0.3799999 quality
    // score = 14,854.74, split 60/40: ziekenhuis 8,912.84 (8,912.844),
    // thuiszorg 5,941.90 (5,941.896); the cent that is left goes to the
    // largest remainder, thuiszorg: 5,941.90 and 8,912.84 add up to 14,854.74.
    correct_2025_cost(d, "2500000.00");
    // Before the resettlement: the new statement against the settled one.
    let doc = statement_2025(d);
    let corr = &doc["corrections"];
    assert_eq!(corr["replaced_statement"], h1.as_str(), "{doc:#}");
    assert_eq!(
        payments(&corr["payments"]),
        vec![pay("verzekeraar", "thuiszorg", "5941.90"), pay("verzekeraar", "ziekenhuis", "8912.84")],
        "{corr:#}"
    );
    sign_2025(d, true);
    let h2 = settled_2025(d);
    assert_ne!(h1, h2);
    let doc = statement_2025(d);
    let corr = &doc["corrections"];
    assert_eq!(corr["replaced_statement"], h1.as_str(), "{doc:#}");
    let per_party: Vec<(String, String)> = corr["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["party"].as_str().unwrap().into(), p["correction"].as_str().unwrap().into()))
        .collect();
    // 2025 paid before: ziekenhuis 185,000.00 (the advance), thuiszorg
    // 40,000.00 (the grant), verzekeraar -225,000.00; now each provider
    // receives its share of the payout on top.
    assert_eq!(
        per_party,
        vec![
            ("ziekenhuis".to_string(), "8912.84".to_string()),
            ("thuiszorg".to_string(), "5941.90".to_string()),
            ("verzekeraar".to_string(), "-14854.74".to_string())
        ],
        "{corr:#}"
    );

    // A second correction to 2,560,000.00: gross savings 18,182.88, below
    // the corridor again: no payout. Against the statement it replaces (the
    // first resettlement, what was paid last), both providers pay their
    // shares back: the direction says who pays.
    correct_2025_cost(d, "2560000.00");
    sign_2025(d, true);
    let h3 = settled_2025(d);
    let doc = statement_2025(d);
    let corr = &doc["corrections"];
    assert_eq!(corr["replaced_statement"], h2.as_str(), "{doc:#}");
    assert_eq!(
        payments(&corr["payments"]),
        vec![pay("thuiszorg", "verzekeraar", "5941.90"), pay("ziekenhuis", "verzekeraar", "8912.84")],
        "{corr:#}"
    );
    let table = ok(d, &["settle", ID, "--year", "2025"]);
    assert!(table.contains(&format!("CORRECTIONS AGAINST THE REPLACED STATEMENT {}", &h2[..16])), "{table}");
    assert!(table.contains("ziekenhuis -> verzekeraar"), "{table}");
    assert!(table.contains("pays 8,912.84"), "{table}");
    let nl = ok(d, &["--lang", "nl", "settle", ID, "--year", "2025"]);
    assert!(nl.contains("CORRECTIEBETALINGEN"), "{nl}");
    assert!(nl.contains("betaalt 8.912,84"), "{nl}");
    let csv = ok(d, &["settle", ID, "--year", "2025", "--format", "csv"]);
    assert!(csv.contains(",correction_payment,,,,8912.84,,ziekenhuis,verzekeraar,zvw\n"), "{csv}");
    assert!(csv.contains(&format!(",correction,replaced_statement,replaced statement,,,{h2},")), "{csv}");

    // settle diff, by default: the replaced statement (A = h2) against the
    // current one (B = h3), line by line.
    let diff: Value = serde_json::from_str(&ok(d, &["--json", "settle", "diff", ID, "--year", "2025"])).unwrap();
    assert_eq!(diff["a"]["statement_hash"], h2.as_str(), "{diff:#}");
    assert_eq!(diff["a"]["role"], "replaced", "{diff:#}");
    assert_eq!(diff["b"]["statement_hash"], h3.as_str(), "{diff:#}");
    let line = |id: &str| diff["lines"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap().clone();
    let gross = line("shared_savings.gross_savings");
    assert_eq!((gross["a"].as_str(), gross["b"].as_str()), (Some("78182.88"), Some("18182.88")), "{gross}");
    assert_eq!(gross["difference"], "-60000.00");
    assert_eq!(line("shared_savings.actual_cost")["difference"], "60000.00");
    assert_eq!(
        payments(&diff["corrections"]),
        vec![pay("thuiszorg", "verzekeraar", "5941.90"), pay("ziekenhuis", "verzekeraar", "8912.84")]
    );
    let table = ok(d, &["settle", "diff", ID, "--year", "2025"]);
    assert!(table.contains("Gross savings"), "{table}");
    assert!(table.contains("-60,000.00"), "{table}");

    // Any two statements, by hash prefix or signing entry: the first and the
    // last statement pay nothing beyond the impulse: no correction payments.
    let diff: Value =
        serde_json::from_str(&ok(d, &["--json", "settle", "diff", ID, "--year", "2025", &h1[..10], &h3[..12]]))
            .unwrap();
    assert_eq!(diff["corrections"], serde_json::json!([]), "{diff:#}");
    let first = diff["lines"].as_array().unwrap().iter().find(|l| l["id"] == "shared_savings.actual_cost").unwrap();
    assert_eq!(first["difference"], "20489.86", "2,560,000.00 - 2,539,510.14");
    let table = ok(d, &["settle", "diff", ID, "--year", "2025", &h1[..10], "current"]);
    assert!(table.contains("no correction payments"), "{table}");
    let csv = ok(d, &["settle", "diff", ID, "--year", "2025", "--format", "csv"]);
    assert!(csv.starts_with("contract,year,section,item,label,from,to,funding,a,b,difference\n"), "{csv}");
    assert!(csv.contains(",correction,,,thuiszorg,verzekeraar,zvw,,,5941.90\n"), "{csv}");

    // Statements that are not there, or named too loosely.
    refused(d, &["settle", "diff", ID, "--year", "2025", "deadbeef00", "current"], "no statement of");
    refused(d, &["settle", "diff", ID, "--year", "2025", "abc", "current"], "names no statement");
    refused(d, &["settle", "diff", ID, "--year", "2024"], "is not a year of contract");
    refused(d, &["settle", "diff", "no-such-contract", "--year", "2025"], "there is no contract");
}

#[test]
fn the_term_summary_shows_cash_with_loans_apart_results_balances_and_what_is_open() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);
    sign_2025(d, false);
    let h1 = settled_2025(d);
    let v: Value = serde_json::from_str(&ok(d, &["--json", "settle", "summary", ID])).unwrap();
    let s = &v["summary"];
    assert_eq!(v["currency"], "EUR");
    let years = s["years"].as_array().unwrap();
    assert_eq!(years.len(), 3, "{s:#}");
    assert_eq!((years[0]["state"].as_str(), years[0]["statement_hash"].as_str()), (Some("settled"), Some(h1.as_str())));
    assert_eq!(years[1]["state"], "computable", "{s:#}");
    assert!(years[1]["open"][0].as_str().unwrap().contains("waiting for the signatures of"), "{s:#}");
    // 2025: the insurer pays 185,000.00 advance (a loan) to the hospital and
    // 40,000.00 grant (a result) to the home-care organisation.
    let party = |y: &Value, p: &str| y["parties"].as_array().unwrap().iter().find(|x| x["party"] == p).unwrap().clone();
    let zh = party(&years[0], "ziekenhuis");
    assert_eq!(
        (zh["received"].as_str(), zh["loans_received"].as_str(), zh["result"].as_str()),
        (Some("185000.00"), Some("185000.00"), Some("0.00")),
        "{zh}"
    );
    let vz = party(&years[0], "verzekeraar");
    assert_eq!(
        (vz["paid"].as_str(), vz["loans_paid"].as_str(), vz["result"].as_str()),
        (Some("225000.00"), Some("185000.00"), Some("-40000.00")),
        "{vz}"
    );
    assert_eq!(years[0]["advances_outstanding"][0]["outstanding"], "185000.00", "{s:#}");
    // Over the term: the sum of the three years, each party.
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        let total = s["totals"].as_array().unwrap().iter().find(|x| x["party"] == p).unwrap().clone();
        let mut sum = rust_decimal::Decimal::ZERO;
        for y in years {
            if let Some(x) = y["parties"].as_array().unwrap().iter().find(|x| x["party"] == p) {
                sum += x["result"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
            }
        }
        assert_eq!(total["result"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(), sum, "{p}");
    }
    let table = ok(d, &["settle", "summary", ID]);
    assert!(table.contains("TERM SUMMARY") && table.contains("STILL OPEN"), "{table}");
    let nl = ok(d, &["--lang", "nl", "settle", "summary", ID]);
    assert!(nl.contains("OVERZICHT LOOPTIJD") && nl.contains("185.000,00"), "{nl}");
    let csv = ok(d, &["settle", "summary", ID, "--format", "csv"]);
    assert!(
        csv.contains("\ncopd-telemonitoring-oost-achterhoek,cash,2025,ziekenhuis,loans_received,,185000.00,\n"),
        "{csv}"
    );
    let csv_nl = ok(d, &["--lang", "nl", "settle", "summary", ID, "--format", "csv"]);
    assert!(csv_nl.contains(";cash;2025;ziekenhuis;loans_received;;185000,00;\n"), "{csv_nl}");
    refused(d, &["settle", "summary", "no-such-contract"], "there is no contract");
}

/// A year that cannot be computed says why in the reader's language: how
/// many figures are not agreed, and each figure with its state and who must
/// act (the engine's English error text stayed in Dutch summaries before).
#[test]
fn an_open_year_in_the_term_summary_says_why_in_the_readers_language() {
    let tmp = copd_in_force_cli("open-summary");
    let d = tmp.path();
    let en = ok(d, &["settle", "summary", COPD_ID]);
    assert!(en.contains("not agreed") && en.contains("figure care-cost 2025: missing (to act: verzekeraar)"), "{en}");
    let nl = ok(d, &["--lang", "nl", "settle", "summary", COPD_ID]);
    assert!(
        nl.contains("niet akkoord") && nl.contains("cijfer care-cost 2025: ontbreekt (aan zet: verzekeraar)"),
        "{nl}"
    );
    for english in ["not agreed", "missing", "to act", "figure(s)"] {
        assert!(!nl.contains(english), "English {english:?} in the Dutch summary:\n{nl}");
    }
}
