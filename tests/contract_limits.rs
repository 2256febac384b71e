//! Contract limits hold on every path (issue 12, items 14 and 15): terms that
//! arrive in a ledger entry are held to the limits of a contract file, and a
//! contract file with numbers that would overflow settlement is refused by
//! `contract check` with its position, never a panic.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use vereffen::domain::contract::{self, Contract, Trend};
use vereffen::domain::negotiation as neg;
use vereffen::ledger::bundle;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::registry::Role;
use vereffen::ledger::Ledger;

const COPD: &str = "contracts/copd-telemonitoring-shared-savings.toml";

fn copd() -> Contract {
    contract::check_file(&repo().join(COPD)).unwrap()
}

/// Every year of `c` moved by `delta` (review dates dropped: a date's year
/// has four digits), so that only the range of years can be wrong.
fn shift_years(c: &mut Contract, delta: u16) {
    c.term.first_year += delta;
    c.term.last_year += delta;
    c.term.review_dates.clear();
    if let Some(b) = &mut c.baseline {
        b.base_year += delta;
        if let Some(Trend::RatesPerYear { rates }) = &mut b.trend {
            *rates = rates.iter().map(|(y, r)| (y + delta, *r)).collect();
        }
    }
    c.impulse.iter_mut().for_each(|i| i.year += delta);
    for g in &mut c.revenue_guarantees {
        g.years.iter_mut().for_each(|y| *y += delta);
    }
}

/// The three contracts of the issue, each valid but for one limit, with the
/// message validation gives.
fn beyond_the_limits() -> Vec<(&'static str, Contract, &'static str)> {
    let mut year = copd();
    shift_years(&mut year, 60000 - 2025);
    assert_eq!(year.term.first_year, 60000);
    let mut size = copd();
    size.population.expected_size = Some(9_000_000_000_000);
    let mut title = copd();
    title.title = "x".repeat(20_000);
    vec![
        ("year 60000", year, "term.first_year: must be between 2000 and 2100, found 60000"),
        ("size 9e12", size, "population.expected_size: must be between 1 and 100000000, found 9000000000000"),
        ("a 20,000-character title", title, "title: longer than 4000 characters"),
    ]
}

fn registrations() -> Vec<Entry> {
    vec![
        register("ziekenhuis", "Ziekenhuis", Role::Provider, &demo_key("ziekenhuis")),
        register("thuiszorg", "Thuiszorg", Role::Provider, &demo_key("thuiszorg")),
        register("verzekeraar", "Verzekeraar", Role::Payer, &demo_key("verzekeraar")),
    ]
}

fn proposal(c: &Contract) -> Entry {
    let zh = demo_key("ziekenhuis");
    Entry::sign(body("ziekenhuis", &zh, neg::KIND_PROPOSE, vec![], neg::offer_payload(c, None, None, None)), &[&zh])
        .unwrap()
}

#[test]
fn terms_beyond_the_limits_in_an_entry_are_refused_by_append_and_import() {
    let tmp = tempfile::tempdir().unwrap();
    // The unchanged contract is accepted: only the limit makes the difference.
    {
        let mut l = ledger_with(&tmp.path().join("good"), &registrations());
        l.append(&[proposal(&copd())]).unwrap();
    }
    let src = tmp.path().join("src");
    let mut l = ledger_with(&src, &registrations());
    let out = tmp.path().join("regs.jsonl");
    bundle::export(&l, &out, 0).unwrap();
    let exported = fs::read_to_string(&out).unwrap();
    for (i, (what, c, message)) in beyond_the_limits().into_iter().enumerate() {
        let problems = contract::validate(&c);
        assert!(problems.iter().any(|p| format!("{}: {}", p.field, p.message) == message), "{what}: {problems:?}");
        assert!(contract::Contract::from_canonical_json(&c.to_canonical_json()).is_err(), "{what}");

        // Append: refused, the journal untouched.
        let before = fs::read(src.join("journal")).unwrap();
        let e = proposal(&c);
        let err = l.append(std::slice::from_ref(&e)).unwrap_err().to_string();
        assert!(err.contains(message), "{what}: {err}");
        assert_eq!(fs::read(src.join("journal")).unwrap(), before, "{what}: append changed the journal");

        // Import: a bundle of the registrations and the entry, refused as a
        // whole, naming the line; the copy keeps nothing.
        let line = String::from_utf8(bundle::entry_line(4, &e).unwrap()).unwrap();
        let header = exported.lines().next().unwrap().replacen("\"entries\":3", "\"entries\":4", 1);
        let rest: Vec<&str> = exported.lines().skip(1).collect();
        let path = tmp.path().join(format!("bad-{i}.jsonl"));
        fs::write(&path, format!("{header}\n{}\n{}\n", rest.join("\n"), line.trim_end())).unwrap();
        let dst = tmp.path().join(format!("dst-{i}"));
        let mut copy = Ledger::init(&dst, LEDGER_ID, &vereffen::rules::ALL).unwrap();
        let before = fs::read(dst.join("journal")).unwrap();
        let err = bundle::import(&mut copy, &path).unwrap_err().to_string();
        assert!(err.contains(message) && err.contains(":5:"), "{what}: {err}");
        assert_eq!(fs::read(dst.join("journal")).unwrap(), before, "{what}: import changed the journal");
    }
}

fn write_copd_with(dir: &Path, name: &str, from: &str, to: &str) -> String {
    let text = fs::read_to_string(repo().join(COPD)).unwrap();
    assert!(text.contains(from));
    fs::write(dir.join(name), text.replacen(from, to, 1)).unwrap();
    name.to_string()
}

#[test]
fn quality_bounds_that_overflow_settlement_are_refused_by_contract_check_with_their_line() {
    // The reproduction: threshold -5e28 and target 5e28 made
    // settlement (and every replay of it) panic.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let file = write_copd_with(
        d,
        "huge.toml",
        "quality = { threshold = 0.70, target = 0.85, weight = 0.3 }",
        "quality = { threshold = \"-50000000000000000000000000000\", target = \"50000000000000000000000000000\", weight = 0.3 }",
    );
    let (code, out, err) = run(d, &["contract", "check", &file]);
    assert!(code != 0 && code != 101, "exit {code}:\n{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("huge.toml:123:") && all.contains("quality.threshold") && all.contains("10^15"), "{all}");
    assert!(all.contains("quality.target"), "{all}");
}
