//! Golden statements: for every example contract in `contracts/` and every
//! contract year, the statement in every format (table, JSON, CSV, XLSX,
//! HTML) as
//! computed from the example figures in `examples/measurements/`, compared
//! byte for byte with the reviewed files in `tests/golden/`. Each year is
//! then co-signed by every signatory (so every payment component passes the
//! replay of `settlement.sign`), and `verify` recomputes them all.
//!
//! After a deliberate change to statements, regenerate with
//! `UPDATE_GOLDEN=1 cargo test --release --test golden_statements` and
//! review the diff before committing it.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;
use vereffen::present::lang::Lang;

/// Directories of tests/golden/ that hold other documents than the example
/// contracts' statements (each belongs to its own test file).
const NOT_STATEMENTS: &[&str] = &["report", "accountability", "simulate", "forecast"];

/// A ledger in `d` with the example contract in `file` in force and every
/// example figure of its `examples/measurements/<id>/` submitted and attested.
fn agreed(d: &Path, file: &Path) -> vereffen::domain::contract::Contract {
    let id = vereffen::domain::contract::check_file(file).expect("example contract is valid").id;
    agreed_ledger(d, "golden", file, &repo().join("examples/measurements").join(id))
}

fn check_golden(name: &str, actual: &[u8], mismatches: &mut Vec<String>) {
    check_golden_in("golden", name, actual, mismatches);
}

#[test]
fn every_example_contract_and_year_matches_its_golden_statements() {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("contracts")).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 5, "one golden set per example contract");
    let mut mismatches = Vec::new();
    let mut produced = Vec::new();
    for file in files {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let c = agreed(d, &file);
        let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
        for year in c.term.years() {
            let y = year.to_string();
            for (format, ext) in [("table", "txt"), ("json", "json"), ("csv", "csv"), ("xlsx", "xlsx")] {
                let out = d.join(format!("s.{ext}"));
                ok(d, &["settle", &c.id, "--year", &y, "--format", format, "--out", out.to_str().unwrap()]);
                let name = format!("{}/{year}.{ext}", c.id);
                check_golden(&name, &std::fs::read(&out).unwrap(), &mut mismatches);
                produced.push(name);
            }
            // Dutch: the text, CSV and workbook documents have goldens of
            // their own ({year}.nl.txt, {year}.nl.csv, {year}.nl.xlsx); the
            // JSON is language-neutral, byte for byte the same under --lang nl.
            for (format, ext) in [("table", "txt"), ("csv", "csv"), ("xlsx", "xlsx")] {
                let out = d.join(format!("s.nl.{ext}"));
                ok(
                    d,
                    &[
                        "--lang",
                        "nl",
                        "settle",
                        &c.id,
                        "--year",
                        &y,
                        "--format",
                        format,
                        "--out",
                        out.to_str().unwrap(),
                    ],
                );
                let name = format!("{}/{year}.nl.{ext}", c.id);
                check_golden(&name, &std::fs::read(&out).unwrap(), &mut mismatches);
                produced.push(name);
            }
            // The HTML document in both languages ({year}.html, {year}.nl.html).
            for (lang, ext) in [("en", "html"), ("nl", "nl.html")] {
                let out = d.join(format!("s.{ext}"));
                ok(
                    d,
                    &[
                        "--lang",
                        lang,
                        "settle",
                        &c.id,
                        "--year",
                        &y,
                        "--format",
                        "html",
                        "--out",
                        out.to_str().unwrap(),
                    ],
                );
                let name = format!("{}/{year}.{ext}", c.id);
                check_golden(&name, &std::fs::read(&out).unwrap(), &mut mismatches);
                produced.push(name);
            }
            let json_nl = ok(d, &["--lang", "nl", "settle", &c.id, "--year", &y, "--format", "json"]);
            assert_eq!(
                json_nl,
                ok(d, &["settle", &c.id, "--year", &y, "--format", "json"]),
                "{} {y}: JSON is language-neutral",
                c.id
            );
            for p in &signatories {
                ok(d, &["settle", &c.id, "--year", &y, "--sign", "--yes", "--as", &key(p)]);
            }
        }
        let st: Value = serde_json::from_str(&ok(d, &["--json", "settle", "status", &c.id])).unwrap();
        for y in st.as_array().unwrap() {
            assert_eq!(y["state"], "settled", "{}: {y:#}", c.id);
            assert_eq!(y["settled"], y["this_copy_computes"], "{}: {y:#}", c.id);
        }
        // The term summary once every year is settled, in both languages
        // (JSON is language-neutral: one file).
        for (lang, format, ext) in [
            ("en", "table", "txt"),
            ("en", "json", "json"),
            ("en", "csv", "csv"),
            ("nl", "table", "nl.txt"),
            ("nl", "csv", "nl.csv"),
        ] {
            let out = d.join(format!("summary.{ext}"));
            ok(d, &["--lang", lang, "settle", "summary", &c.id, "--format", format, "--out", out.to_str().unwrap()]);
            let name = format!("{}/summary.{ext}", c.id);
            check_golden(&name, &std::fs::read(&out).unwrap(), &mut mismatches);
            produced.push(name);
        }
        // The audit report of the settled ledger, in both languages (HTML;
        // the JSON is language-neutral and the same under --lang nl).
        for (lang, ext) in [("en", "html"), ("nl", "nl.html")] {
            let html = ok(d, &["--lang", lang, "audit", "report", "--format", "html"]);
            assert!(!html.contains('⟦'), "{} report ({lang}): a message is missing", c.id);
            if lang == "nl" {
                dutch_only(&c.id, &html);
            }
            let name = format!("{}/report.{ext}", c.id);
            check_golden(&name, html.as_bytes(), &mut mismatches);
            produced.push(name);
        }
        assert_eq!(
            ok(d, &["--lang", "nl", "audit", "report", "--format", "json"]),
            ok(d, &["audit", "report", "--format", "json"]),
            "{}: the report's JSON is language-neutral",
            c.id
        );
        let verify = ok(d, &["verify"]);
        assert!(verify.contains("verify OK") && !verify.contains("conflict"), "{verify}");
    }
    // tests/golden/report/ belongs to tests/report.rs, tests/golden/accountability/
    // to tests/accountability.rs, tests/golden/simulate/ to tests/simulate.rs,
    // tests/golden/forecast/ to tests/forecast.rs.
    mismatches.extend(orphan_goldens(&files_under(&repo().join("tests/golden"), NOT_STATEMENTS), &produced));
    assert!(mismatches.is_empty(), "golden statements differ:\n{}", mismatches.join("\n"));
}

/// English words that must not appear in a Dutch document's own text (the
/// names in the contract files, which the parties wrote, and ids are
/// removed first).
const ENGLISH_WORDS: &[&str] = &[
    "Audit report",
    "Anomalies",
    "signed the",
    "submitted",
    "attested",
    "before the period ended",
    "Parties and key",
    "Measurements",
    "Settlements",
    "Statement",
    "Replay",
    "MATCH",
    "Derivation",
    "Payments",
    "receives",
    "pays",
    "waiting for",
    "Governing version",
    "signatories",
    "Equivocation",
    "None found",
    "settled",
    "agreed",
    "pending",
    "proposal",
    "provider",
    "payer",
    "Savings",
    "quality gate",
    "Amount",
    "entry",
];

/// Fails when `doc` (a Dutch document of contract `id`) contains one of
/// [`ENGLISH_WORDS`] outside the names from the contract file and the HTML
/// markup.
fn dutch_only(id: &str, doc: &str) {
    let file = std::fs::read_dir(repo().join("contracts"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .find(|f| vereffen::domain::contract::check_file(f).map(|c| c.id == id).unwrap_or(false))
        .unwrap();
    let c = vereffen::domain::contract::check_file(&file).unwrap();
    // Markup (tags, attributes, CSS) is not text.
    let mut text = String::new();
    let mut in_tag = false;
    let body = doc.split("</style>").last().unwrap_or(doc);
    for ch in body.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let mut names: Vec<String> = c.parties.iter().flat_map(|p| [p.name.clone(), p.id.clone()]).collect();
    names.push(c.id.clone());
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for n in &names {
        text = text.replace(n.as_str(), " ");
    }
    let found: Vec<String> = ENGLISH_WORDS
        .iter()
        .filter_map(|w| {
            text.find(*w).map(|i| format!("{w:?} in {:?}", &text[i.saturating_sub(60)..(i + 60).min(text.len())]))
        })
        .collect();
    assert!(found.is_empty(), "{id}: English in the Dutch report: {found:?}");
}

/// Only `UPDATE_GOLDEN=1` rewrites golden files; `0` or any other value is
/// refused instead of silently rewriting them and passing.
#[test]
fn update_golden_accepts_only_1() {
    use std::ffi::OsStr;
    assert_eq!(golden_update_requested(None), Ok(false));
    assert_eq!(golden_update_requested(Some(OsStr::new("1"))), Ok(true));
    for v in ["0", "", "true", "yes", " 1", "1 "] {
        let err = golden_update_requested(Some(OsStr::new(v))).unwrap_err();
        assert!(err.contains("UPDATE_GOLDEN=1"), "{v:?}: {err}");
    }
}

/// A golden file that no test produces is a failure, not silently ignored.
#[test]
fn orphaned_golden_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("c/sub")).unwrap();
    std::fs::create_dir_all(tmp.path().join("report")).unwrap();
    for f in ["c/2025.json", "c/2031.json", "c/sub/x.csv", "report/demo.json"] {
        std::fs::write(tmp.path().join(f), "x").unwrap();
    }
    let on_disk = files_under(tmp.path(), &["report"]);
    assert_eq!(on_disk, ["c/2025.json", "c/2031.json", "c/sub/x.csv"]);
    let orphans = orphan_goldens(&on_disk, &["c/2025.json".to_string()]);
    assert_eq!(orphans.len(), 2, "{orphans:?}");
    assert!(orphans[0].starts_with("c/2031.json is an orphaned golden file"), "{orphans:?}");
}

/// `.ci/run` refuses to run with UPDATE_GOLDEN set (to anything), before
/// doing any work: CI compares golden files, it never rewrites them.
#[test]
fn ci_refuses_update_golden() {
    for value in ["1", "0", ""] {
        let mut child = std::process::Command::new("bash")
            .arg(repo().join(".ci/run"))
            .env("UPDATE_GOLDEN", value)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(".ci/run with UPDATE_GOLDEN={value:?} did not stop at once: it ran the build");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(!status.success(), "UPDATE_GOLDEN={value:?}: {err}");
        assert!(err.contains("UPDATE_GOLDEN is set"), "{err}");
    }
}

/// Every payment line of every golden statement (five example contracts,
/// every year) reads FROM -> TO with an amount of 0 or more, in every
/// format: the terminal table, JSON, CSV and XLSX. The JSON says which lines
/// are transfers; each other format must show each of them (so the check
/// cannot pass by finding none).
#[test]
fn no_payment_line_in_any_format_has_a_negative_amount() {
    let root = repo().join("tests/golden");
    let mut contracts: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    contracts.retain(|p| !NOT_STATEMENTS.iter().any(|n| p.file_name().unwrap() == *n));
    contracts.sort();
    assert_eq!(contracts.len(), 5);
    let (mut transfers, mut loss_or_repayment) = (0, 0);
    for dir in contracts {
        let mut years: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.split('.').next().map(str::to_string)
            })
            .collect();
        // Statements are named by their year; `summary.*` is the term summary.
        years.retain(|y| y.parse::<u16>().is_ok());
        years.sort();
        years.dedup();
        for y in years {
            let at = |ext: &str| dir.join(format!("{y}.{ext}"));
            let name = format!("{}/{y}", dir.file_name().unwrap().to_string_lossy());
            // JSON: the transfers, each from -> to with an amount of 0 or more.
            let doc: Value = serde_json::from_slice(&std::fs::read(at("json")).unwrap()).unwrap();
            let lines = doc["statement"]["lines"].as_array().unwrap();
            let ts: Vec<&Value> = lines.iter().filter(|l| !l["funding"].is_null()).collect();
            for l in &ts {
                assert!(l["from"].is_string() && l["to"].is_string(), "{name}: {l}");
                assert!(!l["amount"].as_str().unwrap().starts_with('-'), "{name} JSON: {l}");
                if l["to"] == l["id"].as_str().unwrap().split('.').nth_back(1).unwrap() {
                    // Transfer id ends in .{payer}.{provider}: to = payer means the provider pays.
                    loss_or_repayment += 1;
                }
            }
            for p in doc["statement"]["payments"].as_array().unwrap() {
                assert!(!p["amount"].as_str().unwrap().starts_with('-'), "{name} JSON payment: {p}");
            }
            transfers += ts.len();
            // Both languages: (file suffix, payments heading, CSV separator,
            // CSV columns section/amount/from/funding, sections line/payment).
            let languages = [
                ("", "PAYMENTS", b',', ["section", "amount_eur", "from", "funding"], ["line", "payment"]),
                (
                    ".nl",
                    "BETALINGEN",
                    b';',
                    ["onderdeel", "bedrag_eur", "van", "financieringsstroom"],
                    ["regel", "betaling"],
                ),
            ];
            for (suffix, payments, sep, columns, sections) in languages {
                let name = format!("{name}{suffix}");
                // Table: each transfer line is followed by "    FROM -> TO (stream)".
                let file = |ext: &str| dir.join(format!("{y}{suffix}.{ext}"));
                let txt = std::fs::read_to_string(file("txt")).unwrap();
                let rows: Vec<&str> = txt.lines().collect();
                let mut shown = 0;
                for (i, r) in rows.iter().enumerate() {
                    if r.starts_with("    ") && r.contains(" -> ") && r.ends_with(')') && i > 0 {
                        // The amount is on the label's row or, for a label
                        // too long for its column, on the row after it.
                        let amount = rows[i - 1].split_whitespace().last().unwrap();
                        assert!(!amount.starts_with('-'), "{name} table: {}\n{r}", rows[i - 1]);
                        shown += 1;
                    }
                }
                assert_eq!(shown, ts.len(), "{name}: the table shows every transfer FROM -> TO");
                if let Some(start) = rows.iter().position(|r| r.starts_with(payments)) {
                    for r in rows[start + 1..].iter().take_while(|r| !r.is_empty()) {
                        let amount = r.split_whitespace().rev().nth(1).unwrap();
                        assert!(r.contains(" -> ") && !amount.starts_with('-'), "{name} table payment: {r}");
                    }
                }
                // CSV: transfer lines and payments.
                let mut csv = csv::ReaderBuilder::new().delimiter(sep).from_path(file("csv")).unwrap();
                let head = csv.headers().unwrap().clone();
                let col = |n: &str| head.iter().position(|h| h == n).unwrap_or_else(|| panic!("{name} CSV has no {n}"));
                let (section, amount, from, funding) =
                    (col(columns[0]), col(columns[1]), col(columns[2]), col(columns[3]));
                let mut csv_transfers = 0;
                for rec in csv.records() {
                    let rec = rec.unwrap();
                    let is_transfer = rec[section] == *sections[0] && !rec[funding].is_empty();
                    if is_transfer || rec[section] == *sections[1] {
                        assert!(!rec[from].is_empty() && !rec[amount].starts_with('-'), "{name} CSV: {rec:?}");
                        csv_transfers += usize::from(is_transfer);
                    }
                }
                assert_eq!(csv_transfers, ts.len(), "{name}: the CSV has every transfer");
                // HTML: each transfer line's route under its label, its
                // amount in the row; each payment a row FROM -> TO.
                let html = std::fs::read_to_string(file("html")).unwrap();
                let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                let mut html_transfers = 0;
                for row in html.split("<tr>").skip(1) {
                    let row = row.split("</tr>").next().unwrap();
                    let nums: Vec<&str> =
                        row.split("<td class=\"num\">").skip(1).map(|c| c.split("</td>").next().unwrap()).collect();
                    if row.contains("<div class=\"detail\">") && row.contains(" -&gt; ") && row.contains(")</div>") {
                        assert!(nums.len() == 1 && !nums[0].starts_with('-'), "{name} HTML: {row}");
                        html_transfers += 1;
                    }
                }
                assert_eq!(html_transfers, ts.len(), "{name}: the HTML shows every transfer FROM -> TO");
                // Each payment a row FROM -> TO, its exact amount (0 or
                // more, as the JSON says), its funding stream.
                let lang = if suffix.is_empty() { Lang::En } else { Lang::Nl };
                for p in doc["statement"]["payments"].as_array().unwrap() {
                    let exact: rust_decimal::Decimal = p["amount"].as_str().unwrap().parse().unwrap();
                    let row = format!(
                        "<tr><th scope=\"row\">{} -&gt; {}</th><td class=\"num\">{}</td><td>{}</td></tr>",
                        esc(p["from"].as_str().unwrap()),
                        esc(p["to"].as_str().unwrap()),
                        lang.money(exact),
                        esc(p["funding"].as_str().unwrap())
                    );
                    assert!(!exact.is_sign_negative() && html.contains(&row), "{name} HTML: no payment row {row}");
                }
            }
            // XLSX: the Statement sheet (amount in D, from in F) and the Payments sheet (amount in D).
            let xlsx = std::fs::read(at("xlsx")).unwrap();
            let cells = xlsx_cells(&xlsx, 1);
            let row_of = |r: &str| r.trim_start_matches(|c: char| c.is_ascii_alphabetic()).to_string();
            let mut xlsx_transfers = 0;
            for l in &ts {
                let id = l["id"].as_str().unwrap();
                let (r, _) = cells
                    .iter()
                    .find(|(r, v)| r.starts_with('A') && v == id)
                    .unwrap_or_else(|| panic!("{name} XLSX: no {id}"));
                let row = row_of(r);
                let get = |c: &str| cells.iter().find(|(r, _)| *r == format!("{c}{row}")).map(|(_, v)| v.as_str());
                assert_eq!(get("F"), l["from"].as_str(), "{name} XLSX {id}: from");
                let a: f64 = get("D").unwrap().parse().unwrap();
                assert!(a >= 0.0, "{name} XLSX {id}: {a}");
                xlsx_transfers += 1;
            }
            assert_eq!(xlsx_transfers, ts.len());
            for (r, v) in xlsx_cells(&xlsx, 3) {
                if r.starts_with('D') && r != "D1" {
                    if let Ok(a) = v.parse::<f64>() {
                        assert!(a >= 0.0, "{name} XLSX Payments {r}: {a}");
                    }
                }
            }
        }
    }
    assert!(transfers > 50 && loss_or_repayment > 0, "{transfers} transfers, {loss_or_repayment} from a provider");
}
