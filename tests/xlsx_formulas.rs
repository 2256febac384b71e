//! The statement workbook is one a controller can check in Excel (issue 15,
//! defect 3): for every example contract and year (the golden XLSX next to
//! its golden JSON statement), computed cells are real formulas whose
//! cached results equal the statement's exact amounts; a line without a
//! formula says why; payments and per-party totals are formulas over the
//! statement lines; the year is a number; the terms and figures the
//! formulas use are on the Inputs sheet.
//!
//! The golden files themselves are produced and compared by
//! tests/golden_statements.rs, so these are the workbooks the CLI writes.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use common::{key, ok, repo};

/// One cell: its formula (without `=`, XML-escaped as stored), if any, and
/// its (cached) value as text (shared strings resolved).
#[derive(Debug, Clone, Default)]
struct Cell {
    formula: Option<String>,
    value: String,
}

/// Sheet name -> cell address -> cell.
type Book = BTreeMap<String, BTreeMap<String, Cell>>;

/// The sheet names in workbook order.
fn sheet_names(xlsx: &[u8]) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("an XLSX is a zip file");
    let mut workbook = String::new();
    zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
    workbook.split("<sheet name=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

/// The sheets every workbook has, in order, per language (English, Dutch);
/// `Splits` and `Corrections` follow when the statement has them.
const SHEETS: [[&str; 6]; 2] = [
    ["Statement", "Parties", "Payments", "Balances", "Inputs", "Signatures"],
    ["Afrekening", "Partijen", "Betalingen", "Saldi", "Invoer", "Handtekeningen"],
];

/// Lines whose amount or value may still be the engine's number (with a
/// note), by line id prefix, and why. None: in the five example contracts
/// and in the knob contracts below every computed cell is a formula (the
/// workbook falls back to the engine's number, with a note, only when a
/// figure a formula needs is missing; see docs/XLSX.md).
const STILL_VALUES: &[(&str, &str)] = &[];

fn read_book(xlsx: &[u8]) -> Book {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("an XLSX is a zip file");
    let mut read = |name: &str| {
        let mut s = String::new();
        if let Ok(mut f) = zip.by_name(name) {
            f.read_to_string(&mut s).unwrap();
        }
        s
    };
    let workbook = read("xl/workbook.xml");
    let shared_xml = read("xl/sharedStrings.xml");
    let shared: Vec<String> = shared_xml
        .split("<si>")
        .skip(1)
        .map(|si| {
            let si = si.split("</si>").next().unwrap();
            si.split("<t")
                .skip(1)
                .filter_map(|t| t.split_once('>').map(|(_, r)| r.split("</t>").next().unwrap()))
                .collect()
        })
        .collect();
    let names: Vec<String> =
        workbook.split("<sheet name=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
    let mut book = Book::new();
    for (i, name) in names.iter().enumerate() {
        let xml = read(&format!("xl/worksheets/sheet{}.xml", i + 1));
        let mut cells = BTreeMap::new();
        for c in xml.split("<c r=\"").skip(1) {
            let (r, rest) = c.split_once('"').unwrap();
            let (attrs, body) = rest.split_once('>').unwrap();
            if attrs.ends_with('/') {
                continue;
            }
            let body = body.split("</c>").next().unwrap();
            let formula = body.split("<f>").nth(1).map(|f| f.split("</f>").next().unwrap().to_string());
            let v = body.split("<v>").nth(1).map(|v| v.split("</v>").next().unwrap()).unwrap_or("");
            let value =
                if attrs.contains("t=\"s\"") { shared[v.parse::<usize>().unwrap()].clone() } else { v.to_string() };
            cells.insert(r.to_string(), Cell { formula, value });
        }
        book.insert(name.clone(), cells);
    }
    book
}

fn dec(s: &str, what: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("{what}: {s:?} is not a number"))
}

fn json_dec(v: &Value) -> Option<Decimal> {
    v.as_str().map(|s| dec(s, "JSON amount"))
}

/// Lines that are computed from other lines and figures by a rule the
/// workbook must state as a formula whenever they appear.
const MUST_BE_FORMULAS: &[&str] = &[
    "shared_savings.benchmark",
    "shared_savings.actual_cost",
    "shared_savings.gross_savings",
    "shared_savings.corridor",
    "shared_savings.loss_corridor",
    "shared_savings.provider_payout",
    "shared_savings.payer_keeps",
    "shared_savings.payer_bears",
];

/// Values (column E) that must be formulas whenever they appear.
const VALUES_MUST_BE_FORMULAS: &[&str] =
    &["shared_savings.trend_factor", "shared_savings.savings_rate", "shared_savings.quality_score"];

#[test]
fn every_golden_workbook_has_formulas_whose_cached_results_are_the_statement() {
    let golden = repo().join("tests/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|d| d.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && !["report", "accountability", "simulate", "forecast"].iter().any(|n| p.file_name().unwrap() == *n)
        })
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 5, "one golden set per example contract");
    let (mut workbooks, mut dutch_workbooks, mut formulas) = (0, 0, 0);
    let mut plain: Vec<String> = Vec::new();
    for dir in &dirs {
        let mut years: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
            .collect();
        years.sort();
        assert!(!years.is_empty(), "{}: no workbook", dir.display());
        for xlsx in years {
            // {year}.xlsx (English) and {year}.nl.xlsx (Dutch), one JSON.
            let stem = xlsx.file_stem().unwrap().to_str().unwrap();
            let (year, dutch) = match stem.strip_suffix(".nl") {
                Some(y) => (y, true),
                None => (stem, false),
            };
            let json = xlsx.with_file_name(format!("{year}.json"));
            let (f, p) = check_workbook(&xlsx, &json, dutch);
            formulas += f;
            plain.extend(p.into_iter().map(|id| format!("{} {stem}: {id}", dir.file_name().unwrap().display())));
            workbooks += usize::from(!dutch);
            dutch_workbooks += usize::from(dutch);
        }
    }
    assert_eq!(workbooks, 19, "every year of the five example contracts");
    assert_eq!(dutch_workbooks, 19, "every year of the five example contracts in Dutch");
    eprintln!(
        "{} workbooks: {formulas} formula cells on the statement sheet; lines kept as the engine's number: {}",
        workbooks + dutch_workbooks,
        plain.len()
    );
    for l in &plain {
        eprintln!("  {l}");
    }
}

/// Checks one workbook against its JSON statement; returns (formula cells
/// on the statement sheet, ids of the lines kept as numbers with a note).
fn check_workbook(xlsx: &Path, json: &Path, dutch: bool) -> (usize, Vec<String>) {
    let name = xlsx.strip_prefix(repo()).unwrap_or(xlsx).display().to_string();
    let bytes = std::fs::read(xlsx).unwrap();
    let book = read_book(&bytes);
    let names = SHEETS[usize::from(dutch)];
    assert_eq!(&sheet_names(&bytes)[..6], names, "{name}: the sheets in the workbook's language");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let st = &doc["statement"];
    assert!(st.is_object(), "{name}: the JSON golden has a statement: {doc:#}");
    let sheet = |n: &str| book.get(n).unwrap_or_else(|| panic!("{name}: no sheet {n}; sheets {:?}", book.keys()));
    let statement = sheet(names[0]);
    let year_label = if dutch { "jaar" } else { "year" };

    // The year is a number.
    let year_row = statement
        .iter()
        .find(|(a, c)| a.starts_with('A') && c.value == year_label)
        .map(|(a, _)| a[1..].to_string())
        .unwrap_or_else(|| panic!("{name}: no year in the header"));
    let year = &statement[&format!("B{year_row}")];
    assert_eq!(year.value, st["year"].to_string(), "{name}: the year is the number");

    // Rows of lines by id.
    let row_of: BTreeMap<&str, String> = statement
        .iter()
        .filter(|(a, _)| a.starts_with('A') && !a.starts_with("AA"))
        .map(|(a, c)| (c.value.as_str(), a[1..].to_string()))
        .collect();
    let (mut formulas, mut plain) = (0, Vec::new());
    for l in st["lines"].as_array().unwrap() {
        let id = l["id"].as_str().unwrap();
        let row = row_of.get(id).unwrap_or_else(|| panic!("{name}: no line {id}"));
        let note = statement.get(&format!("I{row}")).map(|c| c.value.clone()).unwrap_or_default();
        let mut has_plain = false;
        for (col, key, must) in [("D", "amount", MUST_BE_FORMULAS), ("E", "value", VALUES_MUST_BE_FORMULAS)] {
            let Some(want) = json_dec(&l[key]) else { continue };
            let cell = statement.get(&format!("{col}{row}")).unwrap_or_else(|| panic!("{name} {id}: no {key} cell"));
            let got = dec(&cell.value, &format!("{name} {id} {key}"));
            assert_eq!(got, want, "{name} {id}: the {key} cell holds the statement's {key}");
            match &cell.formula {
                Some(f) => {
                    assert!(!f.is_empty(), "{name} {id}: empty formula");
                    formulas += 1;
                }
                None => {
                    assert!(!must.contains(&id), "{name} {id}: the {key} must be a formula");
                    assert!(!note.is_empty(), "{name} {id}: a {key} without a formula has a note saying why");
                    assert!(
                        STILL_VALUES.iter().any(|(prefix, _)| id.starts_with(prefix)),
                        "{name} {id}: the {key} is the engine's number, not a formula (only {STILL_VALUES:?} may be)"
                    );
                    has_plain = true;
                }
            }
        }
        if has_plain {
            plain.push(id.to_string());
        }
    }

    // Payments: FROM -> TO, amounts of 0 or more, formulas over the lines.
    let payments = sheet(names[2]);
    for (i, p) in st["payments"].as_array().unwrap().iter().enumerate() {
        let r = i + 2;
        assert_eq!(payments[&format!("A{r}")].value, p["from"].as_str().unwrap(), "{name} payment {r}");
        assert_eq!(payments[&format!("B{r}")].value, p["to"].as_str().unwrap(), "{name} payment {r}");
        let cell = &payments[&format!("D{r}")];
        let want = json_dec(&p["amount"]).unwrap();
        assert!(want >= Decimal::ZERO, "{name} payment {r}: {want}");
        assert_eq!(dec(&cell.value, "payment"), want, "{name} payment {r}");
        let f = cell.formula.as_deref().unwrap_or_else(|| panic!("{name} payment {r} is not a formula"));
        assert!(f.contains(&format!("{}!", names[0])), "{name} payment {r}: {f}");
    }
    // Per party: cash received, paid, net and result, all formulas.
    let parties = sheet(names[1]);
    for (i, p) in st["parties"].as_array().unwrap().iter().enumerate() {
        let r = i + 2;
        assert_eq!(parties[&format!("A{r}")].value, p["party"].as_str().unwrap(), "{name} party {r}");
        for (col, key) in [("C", "received"), ("D", "paid"), ("E", "net"), ("F", "result")] {
            let cell = &parties[&format!("{col}{r}")];
            assert_eq!(dec(&cell.value, key), json_dec(&p[key]).unwrap(), "{name} party {r} {key}");
            assert!(cell.formula.is_some(), "{name} party {r} {key} is not a formula");
        }
    }
    // Figures on Inputs, as numbers, each with its year.
    let inputs = sheet(names[4]);
    for (i, f) in st["inputs"].as_array().unwrap().iter().enumerate() {
        let r = i + 2;
        assert_eq!(inputs[&format!("A{r}")].value, f["indicator"].as_str().unwrap(), "{name} input {r}");
        assert_eq!(inputs[&format!("B{r}")].value, f["year"].to_string(), "{name} input {r}");
        assert_eq!(dec(&inputs[&format!("C{r}")].value, "figure"), json_dec(&f["value"]).unwrap(), "{name} input {r}");
        assert!(inputs[&format!("C{r}")].formula.is_none(), "{name} input {r}: an input is a value");
    }
    // Every reference to Inputs points at a filled cell.
    for (sheet_name, cells) in &book {
        for (a, c) in cells {
            let Some(f) = &c.formula else { continue };
            for part in f.split(&format!("{}!", names[4])).skip(1) {
                let r: String = part.chars().filter(|c| *c != '$').take_while(|c| c.is_ascii_alphanumeric()).collect();
                let target = inputs
                    .get(&r)
                    .unwrap_or_else(|| panic!("{name} {sheet_name}!{a}: {f} references an empty Inputs!{r}"));
                dec(&target.value, &format!("{name} Inputs!{r}"));
            }
        }
    }
    // Balances: the end of the year follows from the start and the lines.
    let balances = sheet(names[3]);
    for (a, c) in balances.iter().filter(|(a, _)| a.starts_with('D') && *a != "D1") {
        if balances
            .get(&format!("A{}", &a[1..]))
            .is_some_and(|id| id.value == "losses_carried" || id.value.starts_with("advance."))
        {
            assert!(c.formula.is_some(), "{name} {}!{a}: the end-of-year balance is a formula", names[3]);
        }
    }
    (formulas, plain)
}

/// Builds a ledger in `d` with the COPD example in force and its figures
/// agreed (as tests/golden_statements.rs does); returns the contract.
fn copd_agreed(d: &Path) -> vereffen::domain::contract::Contract {
    let file = repo().join("contracts/copd-telemonitoring-shared-savings.toml");
    let c = vereffen::domain::contract::check_file(&file).expect("example contract is valid");
    ok(d, &["init", "--id", "xlsx-copd"]);
    for p in &c.parties {
        ok(d, &["party", "add", "--id", &p.id, "--name", &p.name, "--role", &p.role.to_string(), "--key", &key(&p.id)]);
    }
    let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
    ok(d, &["contract", "propose", file.to_str().unwrap(), "--as", &key(signatories[0])]);
    for p in &signatories[1..] {
        ok(d, &["contract", "accept", &c.id, "--version", &c.version_hash(), "--as", &key(p)]);
    }
    let figures = repo().join("examples/measurements").join(&c.id);
    let mut files: Vec<_> = std::fs::read_dir(&figures).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    for f in files {
        let source = f.file_stem().unwrap().to_str().unwrap().to_string();
        ok(d, &["measure", "submit", &c.id, "--file", f.to_str().unwrap(), "--as", &key(&source)]);
    }
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
    c
}

/// A signed and settled year in Dutch: Dutch headings, the standing
/// (computable, signed, settled), each signature with its entry and an
/// Excel date, and the entries each figure comes from.
#[test]
fn a_settled_year_in_dutch_shows_signatures_as_dates_and_the_sources_of_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let c = copd_agreed(d);
    let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
    let y = c.term.first_year.to_string();
    for p in &signatories {
        ok(d, &["settle", &c.id, "--year", &y, "--sign", "--yes", "--as", &key(p)]);
    }
    let out = d.join("s.xlsx");
    ok(d, &["--lang", "nl", "settle", &c.id, "--year", &y, "--format", "xlsx", "--out", out.to_str().unwrap()]);
    let book = read_book(&std::fs::read(&out).unwrap());
    let st = &book["Afrekening"];
    let find = |label: &str| {
        let (a, _) =
            st.iter().find(|(a, c)| a.starts_with('A') && c.value == label).unwrap_or_else(|| panic!("no {label}"));
        st[&format!("B{}", &a[1..])].value.clone()
    };
    assert_eq!(find("jaar"), y);
    assert_eq!(find("vastgesteld"), "ja");
    assert_eq!(find("berekenbaar uit overeengekomen cijfers"), "ja");
    let mut signed = signatories.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    signed.sort();
    assert_eq!(find("ondertekend door"), signed.join(", "));
    assert!(st.values().any(|c| c.formula.is_some()), "formulas in Dutch too");
    let sigs = &book["Handtekeningen"];
    assert_eq!(sigs["A1"].value, "partij");
    for i in 0..signatories.len() {
        let r = i + 2;
        assert!(signatories.contains(&sigs[&format!("A{r}")].value.as_str()), "{sigs:?}");
        let when = dec(&sigs[&format!("B{r}")].value, "signing time");
        assert!(when > Decimal::from(40_000), "an Excel date serial: {when}");
        assert_eq!(sigs[&format!("C{r}")].value.len(), 64, "the signing entry id");
        assert_eq!(sigs[&format!("E{r}")].value, "ja", "it signed this statement");
    }
    let inputs = &book["Invoer"];
    assert_eq!(inputs["A1"].value, "indicator");
    assert!(
        inputs.iter().filter(|(a, _)| a.starts_with('D') && *a != "D1").any(|(_, c)| c.value.len() >= 64),
        "figures name their source entries: {inputs:?}"
    );
}

/// A resettled year (the COPD 2025 care cost corrected from 2,539,510.14 to
/// 2,500,000.00, as in tests/corrections.rs): the workbook has a
/// Corrections sheet with the replaced statement, B - A per differing line
/// and per party as formulas, and the correction payments (verzekeraar ->
/// thuiszorg 5,941.90 and -> ziekenhuis 8,912.84) as formulas over the
/// Payments sheet.
#[test]
fn a_resettled_year_has_a_corrections_sheet_with_formulas_b_minus_a() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let c = copd_agreed(d);
    let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
    let y = "2025";
    for p in &signatories {
        ok(d, &["settle", &c.id, "--year", y, "--sign", "--yes", "--as", &key(p)]);
    }
    let list: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--year", y])).unwrap();
    let cost = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["indicator"] == "care-cost" && m["state"] == "agreed")
        .expect("an agreed 2025 care cost");
    let source = cost["source"].as_str().unwrap();
    let id = cost["id"].as_str().unwrap();
    ok(d, &["measure", "correct", id, "--value", "2500000.00", "--reason", "late claims", "--as", &key(source)]);
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
    for p in &signatories {
        ok(d, &["settle", &c.id, "--year", y, "--sign", "--yes", "--resettle", "--as", &key(p)]);
    }
    for (lang, sheet, payments) in [("en", "Corrections", "Payments"), ("nl", "Correcties", "Betalingen")] {
        let out = d.join(format!("s.{lang}.xlsx"));
        ok(d, &["--lang", lang, "settle", &c.id, "--year", y, "--format", "xlsx", "--out", out.to_str().unwrap()]);
        let book = read_book(&std::fs::read(&out).unwrap());
        let corr = book.get(sheet).unwrap_or_else(|| panic!("{lang}: no {sheet} sheet: {:?}", book.keys()));
        assert_eq!(corr["B1"].value.len(), 64, "{lang}: the replaced statement's hash");
        let rows: Vec<&str> = corr
            .iter()
            .filter(|(a, c)| a.starts_with('A') && (c.value == "verzekeraar"))
            .map(|(a, _)| &a[1..])
            .collect();
        // One party row and two correction payments start with verzekeraar.
        let mut found = Vec::new();
        for r in rows {
            let to = corr.get(&format!("B{r}")).map(|c| c.value.as_str()).unwrap_or("");
            if to == "thuiszorg" || to == "ziekenhuis" {
                let cell = &corr[&format!("D{r}")];
                let f = cell.formula.as_deref().unwrap_or_else(|| panic!("{lang}: correction payment is no formula"));
                assert!(corr[&format!("F{r}")].formula.as_deref().unwrap().contains(&format!("{payments}!")), "{f}");
                found.push((to.to_string(), dec(&cell.value, "correction")));
            } else {
                // The party row: B - A of its net cash, a formula.
                let cell = &corr[&format!("D{r}")];
                assert!(cell.formula.is_some(), "{lang}: the party's correction is a formula");
                assert_eq!(dec(&cell.value, "party correction"), Decimal::from_str("-14854.74").unwrap());
            }
        }
        found.sort();
        assert_eq!(
            found,
            vec![
                ("thuiszorg".to_string(), Decimal::from_str("5941.90").unwrap()),
                ("ziekenhuis".to_string(), Decimal::from_str("8912.84").unwrap())
            ],
            "{lang}: {corr:?}"
        );
        // Lines that differ: B references the statement sheet, D = B - A.
        let gross = corr
            .iter()
            .find(|(a, c)| a.starts_with('A') && c.value == "shared_savings.gross_savings")
            .map(|(a, _)| a[1..].to_string())
            .expect("the gross savings differ");
        assert!(corr[&format!("C{gross}")].formula.is_some());
        assert_eq!(corr[&format!("D{gross}")].formula.as_deref(), Some(format!("(C{gross}-B{gross})").as_str()));
        assert_eq!(dec(&corr[&format!("D{gross}")].value, "difference"), Decimal::from_str("39510.14").unwrap());
    }
}

/// A five-year contract with the knobs of issue 17 that no example contract
/// uses: an agreed benchmark, a corridor table set by its own indicator
/// (assigned members), the inside-corridor tier, the loss cap as the lesser
/// of two limits, pro-rated losses, force majeure by a fraction, and
/// losses carried forward.
const KNOBS: &str = r#"format = 1
id = "xlsx-knobs"
title = "Every knob in the workbook"
currency = "EUR"
rounding = "half_up"
[term]
first_year = 2025
last_year = 2029
[knobs]
scope = "whole_care_contract"
financing_base = "price_volume"
financing_goal = "result"
contract_form = "single"
term = "multi_year"
chain_partners = "none"
provider_reward = "individual"
condition_scope = "all_patients"
risk_allocation = { implementation = "payer", cost_overrun = "provider", volume = "shared" }
[[parties]]
id = "ziekenhuis"
name = "Hospital"
role = "provider"
key = "QYR3-JXLY-NXZS-O44K"
signatory = true
[[parties]]
id = "verzekeraar"
name = "Insurer"
role = "payer"
key = "W2LZ-KL4K-SE23-5TKU"
signatory = true
[population]
description = "Assigned members"
attribution = "claims"
size_indicator = "member-years"
[baseline]
mode = "agreed_total"
base_year = 2024
source = "Benchmark computed by the payer's actuary"
benchmark_indicator = "benchmark"
[[indicators]]
id = "member-years"
name = "Member-years"
unit = "members"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "assigned"
name = "Assigned members"
unit = "members"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "benchmark"
name = "Benchmark total"
unit = "eur"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "cost"
name = "Actual cost"
unit = "eur"
direction = "lower_is_better"
source = "verzekeraar"
[[indicators]]
id = "revenue"
name = "Participant revenue"
unit = "eur"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "months"
name = "Months of participation"
unit = "count"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "low-revenue"
name = "Low-revenue participant"
unit = "yes_no"
direction = "higher_is_better"
source = "verzekeraar"
[[indicators]]
id = "readmissions"
name = "Readmission rate"
unit = "fraction"
direction = "lower_is_better"
source = "verzekeraar"
[[indicators]]
id = "fm-amount"
name = "Continuity arrangement"
unit = "eur"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "emergency-months"
name = "Share of the year under an emergency"
unit = "fraction"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "affected-members"
name = "Share of members in affected areas"
unit = "fraction"
direction = "neutral"
source = "verzekeraar"
[payments.shared_savings]
funding = "zvw"
sided = "two_sided"
actual_cost_indicator = "cost"
corridor = { method = "population_table", population_indicator = "assigned", rows = [
    { population = 5000, min_savings_rate = 0.039, min_loss_rate = 0.039 },
    { population = 60000, min_savings_rate = 0.02, min_loss_rate = 0.02 },
] }
sharing_base = "first_euro"
provider_share = 0.5
loss_share = { method = "fixed", rate = 0.5 }
loss_cap = 0.05
figure_loss_cap = { rate = 0.1, indicator = "revenue" }
participation_months_indicator = "months"
force_majeure = { method = "fraction", factors = ["emergency-months", "affected-members"] }
inside_corridor = { provider_share = 0.25, indicator = "low-revenue", target = 1 }
carry_forward_losses = true
"#;

/// The figures of [`KNOBS`] per year: (year, cost, months, low-revenue,
/// emergency-months, affected-members); benchmark 10,000,000.00, 20,000
/// assigned members (corridors 338,180.00) and revenue 4,000,000.00 every
/// year. By hand:
/// 2025: savings 200,000.00 inside the corridor, condition met: 25% =
///   50,000.00.
/// 2026: loss 1,000,000.00: 50% = 500,000.00, caps 500,000.00 and
///   400,000.00 (the lesser), x 9 / 12 = 300,000.00, force majeure 0.25 x
///   0.5 = 0.125: 37,500.00 off: 262,500.00.
/// 2027: loss 500,000.00: 250,000.00 under both caps, 12 months, force
///   majeure 1 x 1 forgives it all: 0.00 paid, and the loss is settled,
///   not carried (the providers shared in it).
/// 2028: loss 200,000.00 inside the loss corridor: nothing shared, the
///   loss is carried: 200,000.00.
/// 2029: savings 300,000.00 net of the 200,000.00 carried: 100,000.00,
///   inside the corridor, condition not met: nothing shared.
const KNOBS_YEARS: &[(u16, &str, &str, &str, &str, &str)] = &[
    (2025, "9800000.00", "12", "1", "0", "0"),
    (2026, "11000000.00", "9", "1", "0.25", "0.5"),
    (2027, "10500000.00", "12", "1", "1", "1"),
    (2028, "10200000.00", "12", "1", "0", "0"),
    (2029, "9700000.00", "12", "0", "0", "0"),
];

/// The figures CSV of [`KNOBS`] (and its variants) for `years`.
fn knobs_figures(years: &[(u16, &str, &str, &str, &str, &str)], revenue: &str, fm_amount: &str) -> String {
    let mut csv = String::from("indicator,period,value,note\n");
    for (y, cost, months, low, em, aff) in years {
        for (ind, v) in [
            ("benchmark", "10000000.00"),
            ("assigned", "20000"),
            ("member-years", "20000"),
            ("cost", cost),
            ("revenue", revenue),
            ("months", months),
            ("low-revenue", low),
            ("readmissions", if *low == "1" { "0.08" } else { "0.12" }),
            ("fm-amount", fm_amount),
            ("emergency-months", em),
            ("affected-members", aff),
        ] {
            csv.push_str(&format!("{ind},{y},{v},\n"));
        }
    }
    csv
}

/// Puts contract `text` in force in a new ledger at `d` (the demo keys of
/// the hospital and the insurer), submits `figures` as the insurer and has
/// the hospital attest them; returns the contract id.
fn knobs_in_force(d: &Path, text: &str, figures: &str) -> String {
    ok(d, &["init", "--id", "xlsx-knobs"]);
    common::add_party(d, "ziekenhuis", "Hospital", "provider", &key("ziekenhuis"));
    common::add_party(d, "verzekeraar", "Insurer", "payer", &key("verzekeraar"));
    let file = d.join("contract.toml");
    std::fs::write(&file, text).unwrap();
    let c = vereffen::domain::contract::check_file(&file).unwrap_or_else(|e| panic!("{e:?}"));
    ok(d, &["contract", "propose", file.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    ok(d, &["contract", "accept", &c.id, "--version", &c.version_hash(), "--as", &key("verzekeraar")]);
    let csv = d.join("figures.csv");
    std::fs::write(&csv, figures).unwrap();
    ok(d, &["measure", "submit", &c.id, "--file", csv.to_str().unwrap(), "--as", &key("verzekeraar")]);
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap()), "--yes"]);
        }
    }
    c.id
}

/// Writes the statement of every year of `years` as JSON and as workbooks
/// in both languages, checks each workbook against its statement (every
/// computed cell a formula with the statement's exact amount as its cached
/// result, no line kept as the engine's number) and returns, per line id,
/// its amount or value and its formula in the English workbook.
fn check_knob_workbooks(d: &Path, id: &str, years: &[u16]) -> BTreeMap<(u16, String), (String, String)> {
    let mut seen = BTreeMap::new();
    for y in years {
        let y = y.to_string();
        let json = d.join(format!("{y}.json"));
        std::fs::write(&json, ok(d, &["settle", id, "--year", &y, "--format", "json"])).unwrap();
        for (lang, dutch) in [("en", false), ("nl", true)] {
            let xlsx = d.join(format!("{y}.{lang}.xlsx"));
            ok(d, &["--lang", lang, "settle", id, "--year", &y, "--format", "xlsx", "--out", xlsx.to_str().unwrap()]);
            let (_, plain) = check_workbook(&xlsx, &json, dutch);
            assert!(plain.is_empty(), "{id} {y} {lang}: lines kept as the engine's number: {plain:?}");
            if dutch {
                continue;
            }
            let book = read_book(&std::fs::read(&xlsx).unwrap());
            let statement = &book["Statement"];
            for (a, c) in statement.iter().filter(|(a, _)| a.starts_with('A') && !a.starts_with("AA")) {
                let row = &a[1..];
                for col in ["D", "E"] {
                    if let Some(cell) = statement.get(&format!("{col}{row}")).filter(|c| c.formula.is_some()) {
                        let f = cell.formula.clone().unwrap();
                        seen.insert((y.parse().unwrap(), format!("{}:{col}", c.value)), (cell.value.clone(), f));
                    }
                }
            }
        }
    }
    seen
}

/// The (cached value, formula) of line `id`'s column `col` in `year`.
fn knob_cell<'a>(
    seen: &'a BTreeMap<(u16, String), (String, String)>,
    year: u16,
    id: &str,
    col: &str,
) -> &'a (String, String) {
    seen.get(&(year, format!("{id}:{col}"))).unwrap_or_else(|| panic!("{year}: no formula for {id} {col}"))
}

fn knob_amount(seen: &BTreeMap<(u16, String), (String, String)>, year: u16, id: &str) -> Decimal {
    dec(&knob_cell(seen, year, id, "D").0, id)
}

#[test]
fn knobs_no_example_uses_are_formulas_too() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let id = knobs_in_force(d, KNOBS, &knobs_figures(KNOBS_YEARS, "4000000.00", "0"));
    let seen = check_knob_workbooks(d, &id, &[2025, 2026, 2027, 2028, 2029]);
    let amount = |y, l| knob_amount(&seen, y, l);
    let money = |s: &str| Decimal::from_str(s).unwrap();

    // 2025: the inside-corridor tier, as formulas over the condition.
    let (met, f) = knob_cell(&seen, 2025, "shared_savings.inside_corridor_condition", "E");
    assert_eq!((met.as_str(), f.starts_with("IF(Inputs!")), ("1", true), "{f}");
    let (_, f) = knob_cell(&seen, 2025, "shared_savings.shared_base", "D");
    assert!(f.starts_with("IF(D") && f.contains("=1,"), "{f}");
    let (rate, f) = knob_cell(&seen, 2025, "shared_savings.provider_rate", "E");
    assert_eq!(dec(rate, "rate"), money("0.25"), "{f}");
    assert!(f.starts_with("IF(D") && f.matches("Inputs!").count() == 2, "{f}");
    assert_eq!(amount(2025, "shared_savings.provider_payout"), money("50000.00"));
    // 2025's benchmark is an agreed figure, its corridor rate set by the
    // assigned members: both formulas over Inputs.
    assert!(knob_cell(&seen, 2025, "shared_savings.benchmark", "D").1.starts_with("ROUND(Inputs!"));
    assert!(knob_cell(&seen, 2025, "shared_savings.corridor_rate", "E").1.starts_with("IF(Inputs!"));

    // 2026: the lesser cap, pro-rating and force majeure by a fraction.
    assert_eq!(amount(2026, "shared_savings.figure_loss_cap"), money("400000.00"));
    let (v, f) = knob_cell(&seen, 2026, "shared_savings.loss_prorated", "D");
    assert_eq!(dec(v, "prorated"), money("300000.00"));
    assert!(f.starts_with("ROUND(MIN(D") && f.ends_with("/(12),2)"), "{f}");
    assert_eq!(amount(2026, "shared_savings.loss_before_force_majeure"), money("300000.00"));
    let (v, f) = knob_cell(&seen, 2026, "shared_savings.force_majeure_fraction", "E");
    assert_eq!((dec(v, "fraction"), f.matches("Inputs!").count()), (money("0.125"), 2), "{f}");
    assert_eq!(amount(2026, "shared_savings.force_majeure_reduction"), money("37500.00"));
    assert_eq!(amount(2026, "shared_savings.provider_loss"), money("262500.00"));
    assert_eq!(amount(2026, "shared_savings.payer_bears"), money("737500.00"));

    // 2027: force majeure forgives the whole loss; the loss was shared in,
    // so it is settled and not carried.
    assert_eq!(amount(2027, "shared_savings.force_majeure_reduction"), money("250000.00"));
    assert_eq!(amount(2027, "shared_savings.provider_loss"), money("0.00"));
    assert_eq!(amount(2027, "shared_savings.losses_carried_out"), money("0.00"));
    // 2028: a loss inside the loss corridor is carried.
    assert_eq!(amount(2028, "shared_savings.provider_loss"), money("0.00"));
    assert_eq!(amount(2028, "shared_savings.losses_carried_out"), money("200000.00"));
    // 2029: netted, then inside the corridor with the condition not met.
    assert_eq!(amount(2029, "shared_savings.losses_netted"), money("200000.00"));
    assert_eq!(knob_cell(&seen, 2029, "shared_savings.inside_corridor_condition", "E").0, "0");
    assert_eq!(amount(2029, "shared_savings.shared_base"), money("0.00"));
    assert_eq!(amount(2029, "shared_savings.provider_payout"), money("0.00"));
}

#[test]
fn knobs_with_half_even_rounding_and_force_majeure_by_an_amount_are_formulas() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Half-even rounding, only the figure-based loss cap, force majeure by
    // an agreed amount, the inside-corridor condition on a lower-is-better
    // indicator.
    let text = KNOBS
        .replace("rounding = \"half_up\"", "rounding = \"half_even\"")
        .replace("last_year = 2029", "last_year = 2027")
        .replace("loss_cap = 0.05\n", "")
        .replace(
            "force_majeure = { method = \"fraction\", factors = [\"emergency-months\", \"affected-members\"] }",
            "force_majeure = { method = \"amount\", indicator = \"fm-amount\" }",
        )
        .replace("indicator = \"low-revenue\", target = 1 }", "indicator = \"readmissions\", target = 0.1 }");
    // By hand, half to even at every cent:
    // 2025: savings 200,000.02 inside the corridor, readmissions 0.08 at
    //   most 0.1: 25% = 50,000.005 -> 50,000.00 (half up: 50,000.01).
    // 2026: loss 1,000,000.01: 50% = 500,000.005 -> 500,000.00; the cap
    //   10% x 6,000,000.05 = 600,000.005 -> 600,000.00 does not bind;
    //   x 9 / 12 = 375,000.00; less the agreed 1,234.56: 373,765.44.
    // 2027: loss 1,000,000.00: 500,000.00 x 3 / 12 = 125,000.00; less
    //   1,234.56: 123,765.44.
    let years: &[(u16, &str, &str, &str, &str, &str)] = &[
        (2025, "9799999.98", "12", "1", "0", "0"),
        (2026, "11000000.01", "9", "1", "0", "0"),
        (2027, "11000000.00", "3", "1", "0", "0"),
    ];
    let id = knobs_in_force(d, &text, &knobs_figures(years, "6000000.05", "1234.56"));
    let seen = check_knob_workbooks(d, &id, &[2025, 2026, 2027]);
    let amount = |y, l| knob_amount(&seen, y, l);
    let money = |s: &str| Decimal::from_str(s).unwrap();
    let (v, f) = knob_cell(&seen, 2025, "shared_savings.provider_share", "D");
    assert_eq!(dec(v, "share"), money("50000.00"));
    assert!(f.starts_with("(IF(ABS(MOD("), "half-even rounding is written out: {f}");
    assert_eq!(knob_cell(&seen, 2025, "shared_savings.inside_corridor_condition", "E").0, "1");
    assert_eq!(amount(2026, "shared_savings.provider_loss_share"), money("500000.00"));
    assert_eq!(amount(2026, "shared_savings.figure_loss_cap"), money("600000.00"));
    assert_eq!(amount(2026, "shared_savings.loss_prorated"), money("375000.00"));
    let (v, f) = knob_cell(&seen, 2026, "shared_savings.force_majeure_reduction", "D");
    assert_eq!(dec(v, "reduction"), money("1234.56"));
    assert!(f.starts_with("MIN(MAX((IF(ABS(MOD(Inputs!"), "{f}");
    assert_eq!(amount(2026, "shared_savings.provider_loss"), money("373765.44"));
    assert_eq!(amount(2027, "shared_savings.provider_loss"), money("123765.44"));
}

#[test]
fn a_share_of_zero_in_another_currency_and_stream_is_formulas() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = KNOBS
        .replace("currency = \"EUR\"", "currency = \"USD\"\nfunding_streams = [\"medicare\"]")
        .replace("funding = \"zvw\"", "funding = \"medicare\"")
        .replace("last_year = 2029", "last_year = 2026")
        .replace("provider_share = 0.5", "provider_share = 0")
        .replace("inside_corridor = { provider_share = 0.25, indicator = \"low-revenue\", target = 1 }\n", "");
    // 2025: savings 1,000,000.00 pass the corridor, a share of 0% pays 0;
    // 2026: as in the five-year contract: the hospital pays 262,500.00
    // (medicare).
    let years: &[(u16, &str, &str, &str, &str, &str)] =
        &[(2025, "9000000.00", "12", "1", "0", "0"), (2026, "11000000.00", "9", "1", "0.25", "0.5")];
    let id = knobs_in_force(d, &text, &knobs_figures(years, "4000000.00", "0"));
    let seen = check_knob_workbooks(d, &id, &[2025, 2026]);
    let money = |s: &str| Decimal::from_str(s).unwrap();
    assert_eq!(knob_amount(&seen, 2025, "shared_savings.shared_base"), money("1000000.00"));
    assert_eq!(dec(&knob_cell(&seen, 2025, "shared_savings.provider_rate", "E").0, "rate"), Decimal::ZERO);
    assert_eq!(knob_amount(&seen, 2025, "shared_savings.provider_payout"), money("0.00"));
    assert_eq!(knob_amount(&seen, 2026, "shared_savings.provider_loss"), money("262500.00"));
    let transfer = seen.keys().find(|(y, k)| *y == 2026 && k.starts_with("shared_savings.loss_payment"));
    assert!(transfer.is_some(), "the payout transfer is a formula: {seen:?}");
}
