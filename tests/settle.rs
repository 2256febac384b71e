//! `vereffen settle`: every party's copy computes the same statement to the
//! cent; a year with figures that are not agreed is refused (each listed),
//! and `--draft` computes a preview marked DRAFT.

mod common;

use common::*;

const ID: &str = "copd-telemonitoring-oost-achterhoek";

#[test]
fn both_copies_compute_the_same_statements() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["demo", "--dir", "demo"]);
    for year in ["2025", "2026", "2027"] {
        let mut hashes = Vec::new();
        for copy in ["demo/ziekenhuis-copy", "demo/verzekeraar-copy"] {
            let out = ok(d, &["--ledger", copy, "settle", ID, "--year", year, "--format", "json"]);
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["draft"], false);
            assert_eq!(v["year"].as_u64().unwrap().to_string(), year);
            hashes.push(v["statement_hash"].as_str().unwrap().to_string());
        }
        assert_eq!(hashes[0], hashes[1], "{year}: the copies disagree");
    }
    // The 2027 loss year: shared loss paid by the providers, 60/40, cents exact.
    let csv = ok(d, &["--ledger", "demo/ziekenhuis-copy", "settle", ID, "--year", "2027", "--format", "csv"]);
    assert!(csv.contains("-27528.34") && csv.contains("-18352.23"), "{csv}");
    let table = ok(d, &["--ledger", "demo/verzekeraar-copy", "settle", ID, "--year", "2027"]);
    assert!(
        table.contains(
            "Benchmark = 6,240.00 per member-year x 1.086374 trend x 5,342 member-months / 12 = 3,017,773.15"
        ),
        "{table}"
    );
    // Written to a file whole.
    ok(
        d,
        &[
            "--ledger",
            "demo/ziekenhuis-copy",
            "settle",
            ID,
            "--year",
            "2026",
            "--format",
            "json",
            "--out",
            "s2026.json",
        ],
    );
    assert!(d.join("s2026.json").is_file());
    // Outside the term; an unknown contract.
    let (code, _, err) = run(d, &["--ledger", "demo/ziekenhuis-copy", "settle", ID, "--year", "2030"]);
    assert!(code != 0 && err.contains("outside the contract term 2025-2027"), "{err}");
    let (code, _, err) = run(d, &["--ledger", "demo/ziekenhuis-copy", "settle", "nope", "--year", "2025"]);
    assert!(code != 0 && err.contains("there is no contract"), "{err}");
}

#[test]
fn figures_that_are_not_agreed_block_settlement_unless_draft() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let key = |p: &str| key(p);
    ok(d, &["--ledger", "l", "init", "--id", "settle-test"]);
    for (p, role) in [("ziekenhuis", "provider"), ("thuiszorg", "provider"), ("verzekeraar", "payer")] {
        ok(d, &["--ledger", "l", "party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    let copd = common::repo().join("contracts/copd-telemonitoring-shared-savings.toml").display().to_string();
    ok(d, &["--ledger", "l", "contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    let (code, _, err) = run(d, &["--ledger", "l", "settle", ID, "--year", "2025"]);
    assert!(code != 0 && err.contains("is not in force"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&ok(d, &["contract", "check", &copd, "--json"])).unwrap();
    let version = v[0]["version"].as_str().unwrap().to_string();
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["--ledger", "l", "contract", "accept", ID, "--version", &version, "--as", &key(p)]);
    }
    let figures = common::repo().join("examples/measurements").join(ID);
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(
            d,
            &[
                "--ledger",
                "l",
                "measure",
                "submit",
                ID,
                "--file",
                figures.join(format!("{p}.csv")).to_str().unwrap(),
                "--as",
                &key(p),
            ],
        );
    }
    let (code, _, err) = run(d, &["--ledger", "l", "settle", ID, "--year", "2025"]);
    assert!(code != 0, "pending figures must block settlement");
    assert!(
        err.contains("care-cost 2025: pending (to act: thuiszorg, ziekenhuis)") && err.contains("--draft"),
        "{err}"
    );
    let draft = ok(d, &["--ledger", "l", "settle", ID, "--year", "2025", "--draft"]);
    assert!(
        draft.starts_with("DRAFT - NOT AGREED - CANNOT BE SIGNED")
            && draft.contains("NOT AGREED        care-cost 2025"),
        "{draft}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["--ledger", "l", "settle", ID, "--year", "2025", "--draft", "--format", "json"]))
            .unwrap();
    assert_eq!(json["draft"], true);
}
