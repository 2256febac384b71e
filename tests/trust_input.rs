//! Figures and text that must not change silently (issue 12, items 5-7):
//! exact decimals on every input path, unambiguous JSON and CSV
//! measurement files, and control characters refused in new ledger text and
//! shown escaped wherever old or hostile ledger text is printed.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;
use vereffen::domain::contract;
use vereffen::domain::derive::{self, Rules};
use vereffen::domain::negotiation as neg;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::journal::Journal;
use vereffen::ledger::registry::Role;

const COPD: &str = "contracts/copd-telemonitoring-shared-savings.toml";
const ID: &str = "copd-telemonitoring-oost-achterhoek";

fn setup() -> tempfile::TempDir {
    copd_in_force_cli("trust-test")
}

fn submit_file(d: &Path, name: &str, text: &str, expect: &str) {
    fs::write(d.join(name), text).unwrap();
    refused(d, &["measure", "submit", ID, "--file", name, "--as", &key("verzekeraar")], expect);
}

/// The agreed-or-pending value recorded for admissions 2025.
fn admissions_2025(d: &Path) -> String {
    let rows: Vec<Value> = serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--year", "2025"])).unwrap();
    let row = rows.iter().find(|r| r["indicator"] == "admissions" && r["period"] == "2025").unwrap();
    row["value"].as_str().unwrap_or("-").to_string()
}

// ----- item 5: exact decimals everywhere -----

#[test]
fn values_that_would_be_rounded_are_refused_on_every_path() {
    let tmp = setup();
    let d = tmp.path();
    let submit = |v: &str| {
        vec![
            "measure".to_string(),
            "submit".into(),
            ID.into(),
            "--indicator".into(),
            "admissions".into(),
            "--period".into(),
            "2025".into(),
            "--value".into(),
            v.into(),
            "--as".into(),
            key("verzekeraar"),
        ]
    };
    let args = submit("0.99999999999999999999999999999");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(
        d,
        &args,
        "command line: value 0.99999999999999999999999999999 has more digits than an exact decimal holds",
    );
    let forty = format!("0.{}", "1234567890".repeat(4));
    submit_file(
        d,
        "long.csv",
        &format!("indicator,period,value\nadmissions,2025,{forty}\n"),
        &format!("long.csv:2: value {forty} has more digits than an exact decimal holds"),
    );
    submit_file(
        d,
        "long.json",
        &format!("[\n  {{\"indicator\": \"admissions\", \"period\": \"2025\", \"value\": {forty}}}\n]\n"),
        &format!("long.json:2: value {forty} has more digits than an exact decimal holds"),
    );
    assert_eq!(admissions_2025(d), "-", "nothing was recorded");
    // A JSON number is read from its literal text, not through a float.
    fs::write(
        d.join("exact.json"),
        "[{\"indicator\": \"admissions\", \"period\": \"2025\", \"value\": 0.12345678901234567890}]",
    )
    .unwrap();
    ok(d, &["measure", "submit", ID, "--file", "exact.json", "--as", &key("verzekeraar")]);
    assert_eq!(admissions_2025(d), "0.1234567890123456789");
    ok(d, &["verify"]);
}

#[test]
fn claims_amounts_that_would_be_rounded_are_refused() {
    let rules = Rules::parse(
        "r.toml",
        "membership = \"claims\"\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"cost\"\nmeasure = \"total_cost\"\n",
    )
    .unwrap();
    let head = "member,date,code,provider,amount,quantity\na,2027-01-05,GP,ha,32.50,1\n";
    for (row, expect) in [
        (
            "a,2027-01-05,GP,ha,1234567890123456789012345678.91,1",
            "c.csv:3: amount 1234567890123456789012345678.91 has more digits than an exact decimal holds",
        ),
        (
            "a,2027-01-05,GP,ha,1.00,1.00000000000000000000000000001",
            "c.csv:3: quantity 1.00000000000000000000000000001 has more digits than an exact decimal holds",
        ),
        ("a,2027-01-05,GP,ha,2.,1", "c.csv:3: amount \"2.\" is not a decimal number"),
        ("a,2027-01-05,GP,ha,1_000.00,1", "c.csv:3: amount \"1_000.00\" is not a decimal number"),
        ("a,2027-01-05,\"GP\"X,ha,1.00,1", "c.csv:3: text ('X') after the closing quote of a field"),
        ("a,2027-01-05,G\"P,ha,1.00,1", "c.csv:3: a quote inside an unquoted field"),
        ("a,2027-01-05,GP,\"ha,1.00,1\nb,2027-01-05", "c.csv:3: a quoted field opened on this line is never closed"),
    ] {
        let claims = format!("{head}{row}\n");
        let e = derive::derive(&rules, claims.as_bytes(), "c.csv", 2027).unwrap_err().to_string();
        assert!(e.contains(expect), "expected {expect:?}, got {e:?}");
    }
}

// ----- item 6: ambiguous files -----

#[test]
fn ambiguous_measurement_files_are_refused_naming_the_line() {
    let tmp = setup();
    let d = tmp.path();
    submit_file(
        d,
        "dup.json",
        "[\n  {\"indicator\": \"admissions\", \"period\": \"2025\",\n   \"value\": \"0.5\",\n   \"value\": \"0.9\"}\n]\n",
        "dup.json:4: field \"value\" appears twice in this figure",
    );
    submit_file(
        d,
        "unknown.json",
        "[\n  {\"indicator\": \"admissions\", \"period\": \"2025\", \"value\": \"0.5\",\n   \"valeu\": \"0.9\"}\n]\n",
        "unknown.json:3: unknown field \"valeu\" (allowed: indicator, period, value, note)",
    );
    submit_file(
        d,
        "float.json",
        "[{\"indicator\": \"admissions\", \"period\": \"2025\", \"value\": 5e-1}]",
        "float.json:1: value \"5e-1\" is not a plain decimal number",
    );
    submit_file(
        d,
        "open.csv",
        "indicator,period,value,note\nadmissions,2025,0.5,ok\nadmissions,2026,0.5,\"cut off here\nand more\n",
        "open.csv:3: a quoted field opened on this line is never closed",
    );
    submit_file(
        d,
        "junk.csv",
        "indicator,period,value,note\nadmissions,2025,0.5,\"note\"junk\n",
        "junk.csv:2: text ('j') after the closing quote of a field",
    );
    submit_file(
        d,
        "bare.csv",
        "indicator,period,value,note\nadmissions,2025,0.5,say \"hi\"\n",
        "bare.csv:2: a quote inside an unquoted field",
    );
    submit_file(
        d,
        "point.csv",
        "indicator,period,value\nadmissions,2025,2.\n",
        "point.csv:2: value \"2.\" is not a decimal number",
    );
    // Quoting done right still reads, with the line of each record.
    fs::write(
        d.join("good.csv"),
        "indicator,period,value,note\n\"admissions\",2025,0.5,\"two\nlines, \"\"quoted\"\"\"\n",
    )
    .unwrap();
    ok(d, &["measure", "submit", ID, "--file", "good.csv", "--as", &key("verzekeraar")]);
    assert_eq!(admissions_2025(d), "0.5");
}

// ----- item 7: control characters -----

#[test]
fn control_characters_are_refused_in_new_text() {
    let tmp = setup();
    let d = tmp.path();
    ok(d, &["keys", "new", "evil", "--dir", "k"]);
    let evil = d.join("k/evil.key").display().to_string();
    refused(
        d,
        &["party", "add", "--id", "evil", "--name", "Evil\u{1b}[2J", "--role", "provider", "--key", &evil],
        "the party name holds control character U+001B at character 5",
    );
    refused(
        d,
        &["party", "add", "--id", "evil", "--name", "two\nlines", "--role", "provider", "--key", &evil],
        "control character U+000A",
    );
    refused(
        d,
        &["party", "add", "--id", "evil", "--name", "abc\u{202e}fed", "--role", "provider", "--key", &evil],
        "control character U+202E",
    );
    refused(
        d,
        &["note", "--text", "minutes\u{1b}]0;pwned\u{7}", "--as", &key("ziekenhuis")],
        "the note text holds control character U+001B",
    );
    let submit = |note: &str| {
        let args = [
            "measure",
            "submit",
            ID,
            "--indicator",
            "admissions",
            "--period",
            "2025",
            "--value",
            "0.5",
            "--note",
            note,
            "--as",
        ];
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.push(key("verzekeraar"));
        v
    };
    let args = submit("bell\u{7}");
    refused(
        d,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "command line: the note holds control character U+0007",
    );
    submit_file(
        d,
        "notes.csv",
        "indicator,period,value,note\nadmissions,2025,0.5,\"nul\u{0}\"\n",
        "notes.csv:2: the note holds control character U+0000",
    );
    // A note may hold line breaks and tabs.
    ok(d, &["note", "--text", "line one\n\tline two", "--as", &key("ziekenhuis")]);
    let args = submit("line one\n\tline two");
    ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let id = {
        let rows: Vec<Value> =
            serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--year", "2025"])).unwrap();
        rows.iter().find(|r| r["indicator"] == "admissions" && r["period"] == "2025").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    refused(
        d,
        &["measure", "dispute", &id, "--reason", "wrong\u{1b}[1A", "--as", &key("ziekenhuis")],
        "a reason holds control character U+001B",
    );
    // A contract whose title or party name holds a control character.
    let text = fs::read_to_string(repo().join(COPD)).unwrap();
    let title_line = text.lines().find(|l| l.starts_with("title")).unwrap();
    let bad = text.replacen(title_line, "title = \"COPD\\u001B[2J\"", 1);
    fs::write(d.join("bad.toml"), &bad).unwrap();
    let (code, out, err) = run(d, &["contract", "check", "bad.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(format!("{out}{err}").contains("title: the text holds control character U+001B"), "{out}\n{err}");
}

/// Writes a journal directly, as an older version or a hostile peer could
/// have: text with control characters the rules now refuse.
fn hostile_ledger(dir: &Path) -> String {
    let (zh, tz, vz) = (demo_key("ziekenhuis"), demo_key("thuiszorg"), demo_key("verzekeraar"));
    let mut c = contract::check_file(&repo().join(COPD)).unwrap();
    c.title = "COPD\u{1b}]0;pwned\u{7}\nFAKE 1 line".into();
    c.parties[0].name = "Zkh\u{1b}[31m\rred".into();
    let version = c.version_hash();
    let entries: Vec<Entry> = vec![
        register("ziekenhuis", "Ziekenhuis\u{1b}[2J\u{1b}[H", Role::Provider, &zh),
        register("thuiszorg", "Thuis\nFAKE 2 line", Role::Provider, &tz),
        register("verzekeraar", "Verzekeraar\u{202e}", Role::Payer, &vz),
        Entry::sign(
            body("ziekenhuis", &zh, neg::KIND_PROPOSE, vec![], neg::offer_payload(&c, None, None, None)),
            &[&zh],
        )
        .unwrap(),
        note("thuiszorg", &tz, "minutes\u{1b}]52;c;AAAA\u{7} and\rmore", vec![]),
    ];
    fs::create_dir_all(dir).unwrap();
    let mut j = Journal::create(&dir.join("journal"), LEDGER_ID).unwrap();
    j.append(&entries.iter().map(Entry::encode).collect::<Vec<_>>()).unwrap();
    version
}

#[test]
fn rendered_terms_escape_control_characters() {
    let mut c = contract::check_file(&repo().join(COPD)).unwrap();
    let clean = c.render_terms();
    c.title = "COPD\u{1b}]0;pwned\u{7}\nFAKE 1 line".into();
    c.parties[0].name = "Zkh\u{1b}[31m\rred".into();
    c.description = "two\nlines\u{1b}[2J".into();
    let shown = c.render_terms();
    assert_clean("contract show", &shown);
    assert!(!shown.lines().any(|l| l.starts_with("FAKE")), "{shown}");
    assert!(shown.contains("COPD\\u{1b}]0;pwned\\u{7}\\u{a}FAKE 1 line"), "{shown}");
    assert!(shown.contains("Zkh\\u{1b}[31m\\u{d}red"), "{shown}");
    assert!(shown.contains("two\nlines\\u{1b}[2J"), "{shown}");
    assert_clean("contract show", &clean);
}

fn assert_clean(what: &str, out: &str) {
    for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{0}'] {
        assert!(!out.contains(c), "{what} prints {c:?} raw:\n{out}");
    }
}

#[test]
fn hostile_ledger_text_is_printed_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let version = hostile_ledger(&d.join("l"));
    let log = ok(d, &["log"]);
    assert_clean("log", &log);
    assert_eq!(log.lines().count(), 6, "one header and one line per entry:\n{log}");
    assert!(log.contains("Ziekenhuis\\u{1b}[2J\\u{1b}[H"), "{log}");
    assert!(log.contains("minutes\\u{1b}]52;c;AAAA\\u{7} and\\u{d}more"), "{log}");
    let parties = ok(d, &["party", "list"]);
    assert_clean("party list", &parties);
    assert_eq!(parties.lines().count(), 4, "{parties}");
    assert!(parties.contains("Thuis\\u{a}FAKE 2 line") && parties.contains("Verzekeraar\\u{202e}"), "{parties}");
    // The offered terms no longer validate, so the version is not read at
    // all; whatever is printed stays clean.
    let list = ok(d, &["contract", "list"]);
    assert_clean("contract list", &list);
    assert_eq!(list.lines().count(), 2, "{list}");
    let (_, out, err) = run(d, &["contract", "show", ID, "--version", &version]);
    assert_clean("contract show", &format!("{out}{err}"));
    let (_, out, err) = run(d, &["contract", "status", ID]);
    assert_clean("contract status", &format!("{out}{err}"));
    // verify enforces the rules on every entry: such text is not valid.
    let (code, out, err) = run(d, &["verify"]);
    assert_ne!(code, 0, "{out}");
    assert!(format!("{out}{err}").contains("control character"), "{out}\n{err}");
}
