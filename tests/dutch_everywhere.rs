//! Dutch everywhere (issue 15): every document the CLI renders for a reader,
//! asked for with `--lang nl`, holds no English word.
//!
//! # The rule
//!
//! For each of the five example contracts a ledger is built with every
//! example figure agreed; its first year is settled and a settled figure is
//! then corrected, so the documents also show a resettlement's corrections
//! and a settled year's conflict. Then, with `--lang nl`, every document is
//! rendered: `settle` (table, CSV, HTML, PDF text extracted with lopdf, XLSX
//! shared strings and sheet names) for every year, `settle status`,
//! `contract status`,
//! `settle summary` (table, CSV), `settle forecast` (table, CSV), `settle diff` (table, CSV),
//! `settle accountability` (table, CSV), `simulate` (text and its CSV
//! files), `audit report` (HTML), `inbox`, and the refusals of `settle`
//! (figures not agreed, a year outside the term, an unknown contract, a
//! contract not in force). Each text is scanned for the words of
//! [`ENGLISH`]: words English output uses and Dutch never does.
//!
//! What is not the program's words is removed before the scan, precisely:
//!
//! * **ledger and contract text** is the counterparties' (English in the
//!   examples) and is never translated: every string value of the contract
//!   file and the scenarios file, every cell of the figure files, every
//!   party id and name is cut out of the text (longest first) before
//!   scanning;
//! * **identifiers**: a word with `_`, `.`, `-`, `/`, `@` or a digit in it
//!   (line ids, hashes, keys of the CSV, file names), text between
//!   backticks (commands to type) and `--flags`;
//! * **CSV and XLSX keys**: the header row of a CSV and every cell without
//!   a space (section and item keys, numbers, ids: language-neutral data
//!   like JSON's keys); cells with words are scanned;
//! * **HTML markup**: tags, the style sheet and entities (the text between
//!   the tags is scanned).
//!
//! JSON is language-neutral data and not scanned.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Words that English output uses and Dutch never does (lowercase).
const ENGLISH: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "from",
    "are",
    "not",
    "cannot",
    "must",
    "has",
    "have",
    "this",
    "that",
    "which",
    "there",
    "before",
    "after",
    "payment",
    "payments",
    "savings",
    "provider",
    "providers",
    "payer",
    "receives",
    "pays",
    "paid",
    "received",
    "year",
    "years",
    "shared",
    "advance",
    "advances",
    "loss",
    "losses",
    "total",
    "totals",
    "waiting",
    "agreed",
    "signed",
    "settled",
    "figure",
    "figures",
    "missing",
    "pending",
    "disputed",
    "statement",
    "statements",
    "outstanding",
    "corrected",
    "resettle",
    "earned",
    "bore",
    "borne",
    "cash",
    "balance",
    "balances",
    "party",
    "parties",
    "amount",
    "amounts",
    "input",
    "replay",
    "replaced",
    "lies",
    "outside",
    "term",
    "none",
    "nothing",
    "yet",
    "warning",
    "computes",
    "copy",
    "signatories",
    "insurer",
    "repayment",
    "quality",
    "gate",
    "actual",
    "cost",
    "rate",
    "share",
    "result",
    "results",
    "outcome",
    "line",
    "lines",
    "runs",
    "scenario",
    "probability",
];

/// Text that is the counterparties' (see the module docs): every string of
/// the contract and scenarios files, every figure file cell, party ids and
/// names, longest first.
fn ledger_texts(contract: &Path, figures: &Path, scenarios: &Path) -> Vec<String> {
    fn strings(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::String(s) => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(t) => {
                for (k, x) in t {
                    out.insert(k.clone());
                    strings(x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for f in [contract, scenarios] {
        let v: Value = toml_edit::de::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        strings(&v, &mut out);
    }
    for f in std::fs::read_dir(figures).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for line in text.lines() {
            out.extend(line.split(',').map(|c| c.trim().trim_matches('"').to_string()));
        }
    }
    let mut v: Vec<String> = out.into_iter().filter(|s| s.chars().count() >= 3).collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    v
}

/// HTML as its text: no style sheet, no tags, entities decoded.
fn html_text(html: &str) -> String {
    let mut s = html.to_string();
    while let (Some(a), Some(b)) = (s.find("<style"), s.find("</style>")) {
        if b < a {
            break;
        }
        s.replace_range(a..b + "</style>".len(), " ");
    }
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// The cells of a CSV with words in them (see the module docs), one a line.
fn csv_text(csv: &str, sep: u8) -> String {
    let mut r = csv::ReaderBuilder::new().delimiter(sep).has_headers(true).flexible(true).from_reader(csv.as_bytes());
    let mut out = String::new();
    for rec in r.records() {
        for cell in rec.expect("a CSV row").iter().filter(|c| c.contains(' ')) {
            out.push_str(cell);
            out.push('\n');
        }
    }
    out
}

/// The sheet names and shared strings of a workbook that have words in
/// them, one a line.
fn xlsx_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("the workbook is a zip");
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the workbook")).read_to_string(&mut s).unwrap();
        s
    };
    let (book, strings) = (read("xl/workbook.xml"), read("xl/sharedStrings.xml"));
    let mut out = String::new();
    for part in book.split("<sheet ").skip(1) {
        let name = part.split("name=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
        out.push_str(name);
        out.push('\n');
    }
    for t in strings.split("<t").skip(1) {
        let text = t.split_once('>').map(|(_, r)| r.split("</t>").next().unwrap_or("")).unwrap_or("");
        if text.contains(' ') {
            out.push_str(text);
            out.push('\n');
        }
    }
    html_text(&out)
}

/// The text of every page of a PDF (lopdf).
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("the PDF's text can be extracted")
}

/// A character that can be part of a word or an identifier.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || "_.-".contains(c)
}

/// `text` with every whole occurrence of each of `ledger` (longest first)
/// cut out: an occurrence inside a longer word or identifier stays.
fn without_ledger_text(text: &str, ledger: &[String]) -> String {
    let mut t = text.to_string();
    for s in ledger {
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        while let Some(i) = rest.find(s.as_str()) {
            let before = out.chars().last().or_else(|| rest[..i].chars().last());
            let before = rest[..i].chars().last().or(before);
            let after = rest[i + s.len()..].chars().next();
            let whole = !before.is_some_and(word_char) && !after.is_some_and(word_char);
            out.push_str(&rest[..i]);
            out.push_str(if whole { " " } else { s.as_str() });
            rest = &rest[i + s.len()..];
        }
        out.push_str(rest);
        t = out;
    }
    t
}

/// The English words of `text` (see the module docs), each with its line.
fn english_in(text: &str, ledger: &[String]) -> Vec<String> {
    let t = without_ledger_text(text, ledger);
    let mut found = Vec::new();
    for line in t.lines() {
        // Commands to type, between backticks.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
                plain.push(' ');
            }
        }
        for word in plain.split_whitespace() {
            if word.starts_with("--") {
                continue;
            }
            let w = word.trim_matches(|c: char| !c.is_alphanumeric());
            if w.is_empty() || w.chars().any(|c| c.is_ascii_digit() || "_.-/@".contains(c)) {
                continue;
            }
            let lower = w.to_lowercase();
            if ENGLISH.contains(&lower.as_str()) {
                found.push(format!("{lower:?} in: {}", line.trim()));
            }
        }
    }
    found
}

/// Renders every document of `contract` with `--lang nl` and returns what
/// the scan found, as `document: word in: line`.
fn scan_contract(file: &Path) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let id = vereffen::domain::contract::check_file(file).unwrap().id;
    let figures = repo().join("examples/measurements").join(&id);
    let scenarios = repo().join("examples/scenarios").join(format!("{id}.toml"));
    let c = agreed_ledger(d, "nl", file, &figures);
    let mut ledger = ledger_texts(file, &figures, &scenarios);
    for p in &c.parties {
        ledger.extend([p.id.clone(), p.name.clone()]);
    }
    ledger.push(format!("nl-{id}"));
    ledger.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    let signatories: Vec<String> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.clone()).collect();
    let first = c.term.first_year.to_string();

    // Settle the first year, then correct one of its figures: a conflict,
    // a resettlement with corrections, and a replaced statement to compare.
    for p in &signatories {
        ok(d, &["settle", &c.id, "--year", &first, "--sign", "--yes", "--as", &key(p)]);
    }
    let list: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--year", &first, "--state", "agreed"]))
            .unwrap();
    let m = list.as_array().unwrap().iter().find(|m| m["period"] == first.as_str()).expect("an agreed yearly figure");
    let value: rust_decimal::Decimal = m["value"].as_str().unwrap().parse().unwrap();
    let corrected = (value + rust_decimal::Decimal::ONE).to_string();
    let source = m["source"].as_str().unwrap().to_string();
    ok(
        d,
        &[
            "measure",
            "correct",
            m["id"].as_str().unwrap(),
            "--value",
            &corrected,
            "--reason",
            "late claims",
            "--as",
            &key(&source),
        ],
    );

    let mut texts: Vec<(String, String)> = Vec::new();
    let mut push = |what: String, text: String| texts.push((what, text));
    let nl = |args: &[&str]| -> Vec<String> {
        let mut v = vec!["--lang".to_string(), "nl".to_string()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    };
    let run_nl = |args: &[&str]| {
        let v = nl(args);
        let a: Vec<&str> = v.iter().map(String::as_str).collect();
        run(d, &a)
    };
    let ok_nl = |args: &[&str]| {
        let (code, out, err) = run_nl(args);
        assert_eq!(code, 0, "vereffen --lang nl {args:?}:\n{out}\n{err}");
        (out, err)
    };

    // The figure corrected after settlement is still pending.
    let (_, _, err) = run_nl(&["settle", &c.id, "--year", &first]);
    push("settle refused (figure pending)".into(), err);
    push("settle status (figure pending)".into(), ok_nl(&["settle", "status", &c.id]).0);
    push("settle summary (figure pending)".into(), ok_nl(&["settle", "summary", &c.id]).0);
    for (args, what) in [
        (vec!["settle", &c.id, "--year", "1999"], "settle refused (outside the term)"),
        (vec!["settle", "no-such-contract", "--year", "2025"], "settle refused (no contract)"),
        (vec!["settle", "summary", "no-such-contract"], "settle summary refused (no contract)"),
        (vec!["settle", "diff", &c.id, "--year", "1999"], "settle diff refused (not a year)"),
    ] {
        let (code, _, err) = run_nl(&args);
        assert_ne!(code, 0, "{what}");
        push(what.into(), err);
    }
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }

    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    for year in c.term.years() {
        let y = year.to_string();
        let (table, err) = ok_nl(&["settle", &c.id, "--year", &y]);
        push(format!("settle {y} table"), table);
        push(format!("settle {y} (stderr)"), err);
        push(format!("settle {y} csv"), csv_text(&ok_nl(&["settle", &c.id, "--year", &y, "--format", "csv"]).0, b';'));
        push(format!("settle {y} html"), html_text(&ok_nl(&["settle", &c.id, "--year", &y, "--format", "html"]).0));
        let pdf = out.join(format!("{y}.pdf"));
        ok_nl(&["settle", &c.id, "--year", &y, "--format", "pdf", "--out", pdf.to_str().unwrap()]);
        push(format!("settle {y} pdf"), pdf_text(&std::fs::read(&pdf).unwrap()));
        let xlsx = out.join(format!("{y}.xlsx"));
        ok_nl(&["settle", &c.id, "--year", &y, "--format", "xlsx", "--out", xlsx.to_str().unwrap()]);
        push(format!("settle {y} xlsx"), xlsx_text(&std::fs::read(&xlsx).unwrap()));
        push(format!("settle accountability {y} table"), ok_nl(&["settle", "accountability", &c.id, "--year", &y]).0);
        push(
            format!("settle accountability {y} csv"),
            csv_text(&ok_nl(&["settle", "accountability", &c.id, "--year", &y, "--format", "csv"]).0, b';'),
        );
    }
    push("settle diff table".into(), ok_nl(&["settle", "diff", &c.id, "--year", &first]).0);
    push(
        "settle diff csv".into(),
        csv_text(&ok_nl(&["settle", "diff", &c.id, "--year", &first, "--format", "csv"]).0, b';'),
    );
    push("settle status".into(), ok_nl(&["settle", "status", &c.id]).0);
    push("contract status".into(), ok_nl(&["contract", "status", &c.id]).0);
    push("settle summary table".into(), ok_nl(&["settle", "summary", &c.id]).0);
    push("settle summary csv".into(), csv_text(&ok_nl(&["settle", "summary", &c.id, "--format", "csv"]).0, b';'));
    push("settle forecast table".into(), ok_nl(&["settle", "forecast", &c.id, "--year", &first]).0);
    push(
        "settle forecast csv".into(),
        csv_text(&ok_nl(&["settle", "forecast", &c.id, "--year", &first, "--format", "csv"]).0, b';'),
    );
    let report = out.join("report.html");
    ok_nl(&["audit", "report", "--out", report.to_str().unwrap()]);
    push("audit report html".into(), html_text(&std::fs::read_to_string(&report).unwrap()));
    let keys: Vec<String> = c.parties.iter().map(|p| key(&p.id)).collect();
    let mut inbox = vec!["inbox"];
    for k in &keys {
        inbox.extend(["--as", k.as_str()]);
    }
    push("inbox".into(), ok_nl(&inbox).0);
    let sim = out.join("sim");
    let (text, _) = ok_nl(&[
        "simulate",
        file.to_str().unwrap(),
        "--scenarios",
        scenarios.to_str().unwrap(),
        "--runs",
        "40",
        "--out",
        sim.to_str().unwrap(),
    ]);
    push("simulate text".into(), text);
    let mut csvs: Vec<_> = std::fs::read_dir(&sim)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    csvs.sort();
    for f in csvs {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        push(format!("simulate {name}"), csv_text(&std::fs::read_to_string(&f).unwrap(), b';'));
    }

    if id == COPD_ID {
        // Figures missing: `settle` and `settle accountability` refuse.
        let open = copd_in_force_cli("nl-open");
        for args in
            [vec!["settle", COPD_ID, "--year", "2025"], vec!["settle", "accountability", COPD_ID, "--year", "2026"]]
        {
            let mut v = vec!["--lang", "nl"];
            v.extend(args);
            let (code, _, err) = run(open.path(), &v);
            assert_ne!(code, 0, "{v:?}");
            push(format!("{v:?} refused (figures missing)"), err);
        }
    }
    let mut found = Vec::new();
    for (what, text) in &texts {
        found.extend(english_in(text, &ledger).into_iter().map(|f| format!("{id}: {what}: {f}")));
    }
    found
}

#[test]
fn the_scan_finds_english_and_spares_ledger_text_and_identifiers() {
    let ledger = vec!["Shared savings for the region".to_string()];
    assert_eq!(english_in("Shared savings for the region: 1.234,56", &ledger), Vec::<String>::new());
    assert_eq!(
        english_in("`vereffen settle status x` --draft shared_savings.benchmark", &ledger),
        Vec::<String>::new()
    );
    assert_eq!(english_in("zorgverzekeraar betaalt", &ledger), Vec::<String>::new());
    assert_eq!(english_in("2025 are not agreed", &ledger).len(), 3);
    assert_eq!(without_ledger_text("resultaat res p4p.res.x res.", &["res".to_string()]), "resultaat   p4p.res.x res.");
    assert_eq!(csv_text("a;b\nreceived;de cash\n", b';'), "de cash\n");
    assert_eq!(html_text("<style>p{the}</style><p class=\"the\">a &amp; b</p>").trim(), "a & b");
}

#[test]
fn every_document_in_dutch_has_no_english_word() {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("contracts")).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 5, "the five example contracts");
    let found: Vec<String> = files.iter().flat_map(|f| scan_contract(f)).collect();
    let mut shown: Vec<&String> = found.iter().collect();
    shown.dedup();
    assert!(
        found.is_empty(),
        "{} English words in Dutch output:\n{}",
        found.len(),
        shown.iter().take(300).map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}
