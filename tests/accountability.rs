//! `vereffen settle accountability`: per funding stream, every payment
//! FROM -> TO with its title, clause and allocation key, and totals that tie
//! to the statement. Golden files in both languages for the five example
//! contracts and every year, and for a COPD variant whose savings carry an
//! allocation key (`tests/fixtures/allocation/`), under
//! `tests/golden/accountability/`. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test --release --test accountability`.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// A ledger in `d` with the contract `file` in force and every figure of
/// `figures` (one CSV per source party) submitted and attested.
fn agreed(d: &Path, file: &Path, figures: &Path) -> vereffen::domain::contract::Contract {
    agreed_ledger(d, "acc", file, figures)
}

fn check_golden(name: &str, actual: &[u8], mismatches: &mut Vec<String>) {
    check_golden_in("golden/accountability", name, actual, mismatches);
}

/// The contracts with goldens: the five examples and the keyed fixture.
fn contracts() -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("contracts")).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    let mut out: Vec<_> = files
        .into_iter()
        .map(|f| {
            let c = vereffen::domain::contract::check_file(&f).unwrap();
            let m = repo().join("examples/measurements").join(&c.id);
            (f, m)
        })
        .collect();
    let fx = repo().join("tests/fixtures/allocation");
    out.push((fx.join("copd-allocation.toml"), fx.join("measurements")));
    out
}

/// Sums the transfers of the accountability JSON per stream and direction
/// and compares them with the statement's totals per stream.
fn ties_out(acc: &Value, statement: &Value, what: &str) {
    let totals = statement["statement"]["totals_by_stream"].as_object().unwrap();
    let streams = acc["streams"].as_array().unwrap();
    assert_eq!(streams.len(), totals.len(), "{what}: one section per stream of the statement");
    for st in streams {
        let f = st["funding"].as_str().unwrap();
        let t = &totals[f];
        for k in ["payers_to_providers", "providers_to_payers", "net_to_providers"] {
            assert_eq!(st[k], t[k], "{what} {f} {k}");
        }
        let mut to_providers = rust_decimal::Decimal::ZERO;
        for tr in st["transfers"].as_array().unwrap() {
            let a: rust_decimal::Decimal = tr["amount"].as_str().unwrap().parse().unwrap();
            assert!(!a.is_sign_negative(), "{what}: a payment is never negative: {tr}");
            let from = tr["from"].as_str().unwrap();
            let payer = statement["statement"]["parties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["party"] == from && p["role"] == "payer");
            if payer {
                to_providers += a;
            }
        }
        let expected: rust_decimal::Decimal = t["payers_to_providers"].as_str().unwrap().parse().unwrap();
        assert_eq!(to_providers, expected, "{what} {f}");
    }
}

#[test]
fn every_contract_and_year_matches_its_golden_accountability_in_both_languages() {
    let mut mismatches = Vec::new();
    let mut produced = Vec::new();
    for (file, figures) in contracts() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let c = agreed(d, &file, &figures);
        let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
        for year in c.term.years() {
            let y = year.to_string();
            for (lang, format, ext) in [
                ("en", "table", "txt"),
                ("en", "json", "json"),
                ("en", "csv", "csv"),
                ("nl", "table", "nl.txt"),
                ("nl", "csv", "nl.csv"),
            ] {
                let out = d.join(format!("a.{ext}"));
                ok(
                    d,
                    &[
                        "--lang",
                        lang,
                        "settle",
                        "accountability",
                        &c.id,
                        "--year",
                        &y,
                        "--format",
                        format,
                        "--out",
                        out.to_str().unwrap(),
                    ],
                );
                let name = format!("{}/{year}.{ext}", c.id);
                check_golden(&name, &std::fs::read(&out).unwrap(), &mut mismatches);
                produced.push(name);
            }
            let acc: Value =
                serde_json::from_str(&ok(d, &["settle", "accountability", &c.id, "--year", &y, "--format", "json"]))
                    .unwrap();
            assert_eq!(
                acc,
                serde_json::from_str::<Value>(&ok(
                    d,
                    &["--lang", "nl", "settle", "accountability", &c.id, "--year", &y, "--format", "json"]
                ))
                .unwrap(),
                "JSON is language-neutral"
            );
            let statement: Value =
                serde_json::from_str(&ok(d, &["settle", &c.id, "--year", &y, "--format", "json"])).unwrap();
            ties_out(&acc, &statement, &format!("{} {y}", c.id));
            for p in &signatories {
                ok(d, &["settle", &c.id, "--year", &y, "--sign", "--yes", "--as", &key(p)]);
            }
        }
        let verify = ok(d, &["verify"]);
        assert!(verify.contains("verify OK") && !verify.contains("conflict"), "{}: {verify}", c.id);
    }
    mismatches.extend(orphan_goldens(&files_under(&repo().join("tests/golden/accountability"), &[]), &produced));
    assert!(mismatches.is_empty(), "golden accountability differs:\n{}", mismatches.join("\n"));
}

/// The keyed fixture, 2026 (2025 pays no savings share): each savings share
/// is split over zvw and wlz by the agreed client-months 3,310 and 1,690 (sum 5,000),
/// largest remainder; the grant and the unkeyed advance stay in zvw.
#[test]
fn the_allocation_key_splits_the_savings_by_client_months_and_ties_to_the_statement() {
    let fx = repo().join("tests/fixtures/allocation");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let c = agreed(d, &fx.join("copd-allocation.toml"), &fx.join("measurements"));
    let statement: Value =
        serde_json::from_str(&ok(d, &["settle", &c.id, "--year", "2026", "--format", "json"])).unwrap();
    let lines = statement["statement"]["lines"].as_array().unwrap();
    let line = |id: &str| lines.iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no line {id}")).clone();
    let mut checked = 0;
    for provider in ["ziekenhuis", "thuiszorg"] {
        let whole_id = format!("shared_savings.payout.verzekeraar.{provider}");
        let Some(whole) = lines.iter().find(|l| l["id"] == whole_id.as_str()) else { continue };
        assert_eq!(whole["funding"], Value::Null, "the whole payment moves no money");
        let a: rust_decimal::Decimal = whole["amount"].as_str().unwrap().parse().unwrap();
        let zvw: rust_decimal::Decimal = line(&format!("{whole_id}.zvw"))["amount"].as_str().unwrap().parse().unwrap();
        let wlz: rust_decimal::Decimal = line(&format!("{whole_id}.wlz"))["amount"].as_str().unwrap().parse().unwrap();
        assert_eq!(zvw + wlz, a, "{provider}: the parts sum to the payment");
        // Each part is within a cent of the exact share.
        let exact = a * rust_decimal::Decimal::from(3310) / rust_decimal::Decimal::from(5000);
        assert!((zvw - exact).abs() < rust_decimal::Decimal::new(1, 2), "{provider}: {zvw} vs {exact}");
        checked += 1;
    }
    let acc = ok(d, &["settle", "accountability", &c.id, "--year", "2026"]);
    assert!(acc.contains("Funding stream wlz"), "{acc}");
    assert!(acc.contains("allocation key [payments.shared_savings.allocation]"), "{acc}");
    assert!(acc.contains("zvw client-months-zvw 3,310, wlz client-months-wlz 1,690"), "{acc}");
    // By hand: 37,791.66 x 3,310 / 5,000 = 25,018.0789... -> 25,018.07 + the
    // one cent left (0.89 > 0.11 of a cent); wlz 12,773.5810... -> 12,773.58.
    assert!(acc.contains("Part zvw = 37,791.66 x 3,310 (client-months-zvw) / 5,000 = 25,018.08 + 1 cent"), "{acc}");
    assert!(acc.contains("Part wlz = 37,791.66 x 1,690 (client-months-wlz) / 5,000 = 12,773.58\n"), "{acc}");
    let nl = ok(d, &["--lang", "nl", "settle", "accountability", &c.id, "--year", "2026"]);
    assert!(nl.contains("Financieringsstroom wlz") && nl.contains("verdeelsleutel"), "{nl}");
    assert_eq!(checked, 2, "2026 pays a savings share to both providers");
    let table = ok(d, &["settle", &c.id, "--year", "2026"]);
    assert!(table.contains("split over the funding streams by the allocation key below"), "{table}");
    assert!(!table.contains("waived by"), "a split payment is not a waived balance: {table}");
}
