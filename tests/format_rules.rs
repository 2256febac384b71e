//! Rules of `docs/FORMAT.md` that an independent verifier had to guess:
//! the one form of `time` (3.1), the contract id grammar (5), and the
//! bundle header, `seq` and duplicate lines (7). Each is enforced exactly
//! as the text says.

mod common;

use std::fs;

use common::{key, ok, refused, repo};
use serde_json::Value;
use vereffen::ledger::entry::{is_valid_time, Author, Body, FORMAT_VERSION};

fn body_at(time: &str) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: "l".into(),
        kind: "note".into(),
        author: Author { party: "zh".into(), key: "ab".repeat(32) },
        time: time.into(),
        refs: vec![],
        payload: serde_json::json!({"text": "x"}),
    }
}

#[test]
fn time_has_exactly_one_form() {
    for good in ["2027-01-15T09:30:00Z", "0000-01-01T00:00:00Z", "2028-02-29T23:59:59Z", "9999-12-31T23:59:59Z"] {
        assert!(is_valid_time(good), "{good}");
        assert!(body_at(good).check_shape().is_ok(), "{good}");
    }
    for bad in [
        "2027-01-15 09:30:00Z",      // space for T
        "2027-01-15t09:30:00z",      // lower case
        "2027-01-15T09:30:00+00:00", // offset
        "2027-01-15T10:30:00+01:00",
        "2027-01-15T09:30:00.5Z", // fraction
        "2027-01-15T09:30Z",
        "2027-02-29T09:30:00Z", // no such date
        "2027-13-01T09:30:00Z",
        "2027-01-15T24:00:00Z",
        "2027-01-15T09:60:00Z",
        "2016-12-31T23:59:60Z", // leap second
        "+2027-01-15T09:30:00Z",
        "2027-01-15T09:30:00Z ",
        "",
    ] {
        assert!(!is_valid_time(bad), "{bad:?} accepted");
        let err = body_at(bad).check_shape().unwrap_err().to_string();
        assert!(err.contains("YYYY-MM-DDTHH:MM:SSZ"), "{bad:?}: {err}");
    }
}

#[test]
fn contract_ids_follow_the_grammar_in_offers_too() {
    let text = fs::read_to_string(repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    let c = vereffen::domain::contract::parse_str("c.toml", &text).unwrap();
    let canonical = c.to_canonical_json();
    assert!(vereffen::domain::contract::Contract::from_canonical_json(&canonical).is_ok());
    for bad in ["COPD", "copd_x", "copd.x", "", &"a".repeat(65)] {
        let mut v = canonical.clone();
        v["id"] = Value::String(bad.to_string());
        let err = vereffen::domain::contract::Contract::from_canonical_json(&v).unwrap_err().to_string();
        assert!(err.contains("not a valid contract id"), "{bad:?}: {err}");
    }
    assert!(vereffen::domain::contract::is_valid_contract_id(&"a".repeat(64)));
    assert!(vereffen::domain::contract::is_valid_contract_id("-"));
}

/// Rewrites the bundle `from` into `to` with `edit` applied to its lines
/// (each a JSON value), writing canonical lines.
fn edit_bundle(d: &std::path::Path, from: &str, to: &str, edit: impl FnOnce(&mut Vec<Value>)) {
    let text = fs::read_to_string(d.join(from)).unwrap();
    let mut lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    edit(&mut lines);
    let mut out = Vec::new();
    for l in &lines {
        out.extend(vereffen::ledger::canonical::encode(l).unwrap());
        out.push(b'\n');
    }
    fs::write(d.join(to), out).unwrap();
}

#[test]
fn bundle_header_seq_and_duplicates_are_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["--ledger", "src", "init", "--id", "copd-test"]);
    ok(
        d,
        &[
            "--ledger",
            "src",
            "party",
            "add",
            "--id",
            "zh",
            "--name",
            "Z",
            "--role",
            "provider",
            "--key",
            &key("ziekenhuis"),
        ],
    );
    ok(d, &["--ledger", "src", "note", "--text", "one", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "src", "export", "--out", "b.jsonl"]);
    ok(d, &["--ledger", "l", "init", "--id", "copd-test"]);
    type Edit = Box<dyn FnOnce(&mut Vec<Value>)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "dup",
            Box::new(|l: &mut Vec<Value>| {
                let again = l[1].clone();
                l.push(again);
                l[0]["entries"] = 3.into();
            }),
            "b-dup:4: entry",
        ),
        (
            "seq0",
            Box::new(|l: &mut Vec<Value>| l[2]["seq"] = 0.into()),
            "b-seq0:3: field seq must be an integer of at least 1",
        ),
        ("since0", Box::new(|l: &mut Vec<Value>| l[0]["since"] = 0.into()), "b-since0:1: the header's since"),
        (
            "nosince",
            Box::new(|l: &mut Vec<Value>| {
                l[0].as_object_mut().unwrap().remove("since");
            }),
            "b-nosince:1: the header must have exactly the fields",
        ),
        ("extra", Box::new(|l: &mut Vec<Value>| l[0]["note"] = "x".into()), "b-extra:1: the header must have exactly"),
    ];
    for (name, edit, expect) in cases {
        let file = format!("b-{name}");
        edit_bundle(d, "b.jsonl", &file, edit);
        refused(d, &["import", &file], expect);
    }
    // The unedited bundle imports; its lines may come in any order.
    edit_bundle(d, "b.jsonl", "b-rev", |l| l[1..].reverse());
    ok(d, &["import", "b-rev"]);
}
