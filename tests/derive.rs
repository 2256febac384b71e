//! Derived measurements: exact figures per metric, every bad input named by
//! line, the example file's golden figures, and the invariants users rely on
//! (row order never matters; a file split in parts gives the same totals).

mod common;

use common::repo;
use proptest::prelude::*;
use rust_decimal::Decimal;
use vereffen::domain::derive::{self, DeriveError, Granularity, Rules};

const RULES: &str = r#"
membership = "claims"
[fence]
codes = ["ADM-*", "GP", "BED"]
providers = ["zh", "ha"]
allow_negative = true
[[metric]]
indicator = "cost"
measure = "total_cost"
[[metric]]
indicator = "members"
measure = "members"
[[metric]]
indicator = "mm"
measure = "member_months"
[[metric]]
indicator = "adm"
measure = "count"
codes = ["ADM-*"]
[[metric]]
indicator = "adm-pm"
measure = "count"
codes = ["ADM-*"]
per_member = true
decimals = 3
[[metric]]
indicator = "beds"
measure = "quantity"
codes = ["BED"]
[[metric]]
indicator = "cpm"
measure = "cost_per_member"
"#;

const CLAIMS: &str = "member,date,code,provider,amount,quantity
a,2027-01-05,GP,ha,32.50,1
a,2027-01-20,ADM-COPD,zh,4210.00,1
a,2027-01-21,BED,zh,1575.00,3
b,2027-02-10,GP,ha,32.50,
b,2027-02-11,GP,ha,-32.50,
c,2027-04-01,ADM-HF,zh,3000.01,1
c,2027-05-01,GP,elsewhere,99.00,1
d,2026-12-31,GP,ha,32.50,1
e,2027-07-07,PHYSIO,zh,40.00,1
";

/// Every figure at a granularity; below a year only the additive metrics
/// (per-member ratios of a month without members are refused, rightly).
fn figures(rules: &Rules, d: &derive::Derivation, g: Granularity) -> Vec<(String, String, Decimal)> {
    (0..rules.metrics.len())
        .filter(|&i| {
            let m = &rules.metrics[i];
            g == Granularity::Year || !(m.per_member || m.measure == derive::Measure::CostPerMember)
        })
        .flat_map(|i| d.figures(rules, i, g).unwrap())
        .map(|f| (f.indicator, f.period, f.value))
        .collect()
}

fn value(figs: &[(String, String, Decimal)], ind: &str, period: &str) -> String {
    figs.iter()
        .find(|f| f.0 == ind && f.1 == period)
        .map(|f| f.2.to_string())
        .unwrap_or_else(|| panic!("no {ind} {period}"))
}

#[test]
fn every_metric_is_exact() {
    let rules = Rules::parse("r.toml", RULES).unwrap();
    let d = derive::derive(&rules, CLAIMS.as_bytes(), "c.csv", 2027).unwrap();
    assert_eq!((d.rows_read, d.rows_counted, d.rows_outside_period, d.rows_outside_fence), (9, 6, 1, 2));
    let y = figures(&rules, &d, Granularity::Year);
    assert_eq!(value(&y, "cost", "2027"), "8817.51");
    assert_eq!(value(&y, "members", "2027"), "3");
    assert_eq!(value(&y, "mm", "2027"), "3");
    assert_eq!(value(&y, "adm", "2027"), "2");
    assert_eq!(value(&y, "adm-pm", "2027"), "0.667");
    assert_eq!(value(&y, "beds", "2027"), "3");
    assert_eq!(value(&y, "cpm", "2027"), "2939.17");
    let q = figures(&rules, &d, Granularity::Quarter);
    assert_eq!(value(&q, "cost", "2027-Q1"), "5817.5");
    assert_eq!(value(&q, "members", "2027-Q2"), "1");
    let m = figures(&rules, &d, Granularity::Month);
    assert_eq!(value(&m, "cost", "2027-02"), "0");
    assert_eq!(value(&m, "mm", "2027-04"), "1");
    // A reversal takes its row back out of the count and the quantity.
    let reversed = format!("{CLAIMS}c,2027-04-02,ADM-HF,zh,-3000.01,1\na,2027-01-22,BED,zh,-525.00,1\n");
    let r = derive::derive(&rules, reversed.as_bytes(), "r.csv", 2027).unwrap();
    let y = figures(&rules, &r, Granularity::Year);
    assert_eq!(value(&y, "adm", "2027"), "1");
    assert_eq!(value(&y, "beds", "2027"), "2");
    assert_eq!(value(&y, "cost", "2027"), "5292.5");
    // A leap day exists in 2028 only.
    let leap = Rules::parse("r.toml", RULES).unwrap();
    assert!(derive::derive(
        &leap,
        "member,date,code,provider,amount\na,2028-02-29,GP,ha,1.00\n".as_bytes(),
        "l.csv",
        2028
    )
    .is_ok());
    // The file hash is of the exact bytes.
    assert_eq!(d.file_hash, blake3::hash(CLAIMS.as_bytes()).to_hex().to_string());
}

#[test]
fn enrolment_membership_counts_enrolment_months() {
    let rules = Rules::parse(
        "r.toml",
        "membership = \"enrolment\"\nenrolment_codes = [\"ENROL\"]\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"mm\"\nmeasure = \"member_months\"\n[[metric]]\nindicator = \"cpm\"\nmeasure = \"cost_per_member\"\n",
    )
    .unwrap();
    let claims = "member,date,code,provider,amount\na,2027-01-01,ENROL,v,0.00\na,2027-02-01,ENROL,v,0.00\nb,2027-02-01,ENROL,v,0.00\nc,2027-03-05,GP,h,100.00\n";
    let d = derive::derive(&rules, claims.as_bytes(), "c.csv", 2027).unwrap();
    let y = figures(&rules, &d, Granularity::Year);
    assert_eq!(value(&y, "mm", "2027"), "3");
    assert_eq!(value(&y, "cpm", "2027"), "50", "100.00 over the 2 enrolled members");
}

fn row_error(claims: &str, rules: &str) -> String {
    let rules = Rules::parse("r.toml", rules).unwrap();
    match derive::derive(&rules, claims.as_bytes(), "c.csv", 2027) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error for {claims:?}"),
    }
}

#[test]
fn bad_rows_are_named_by_line_and_nothing_is_derived() {
    let h = "member,date,code,provider,amount,quantity\n";
    let ok = "a,2027-01-05,GP,ha,32.50,1\n";
    let cases = [
        (format!("{h}{ok}a,2027-01-05,GP,ha\n"), "c.csv:3: malformed row"),
        (format!("{h}{ok}a,2027-13-05,GP,ha,1.00,1\n"), "c.csv:3: date \"2027-13-05\" is not a valid date"),
        (format!("{h}{ok}a,2027-02-30,GP,ha,1.00,1\n"), "c.csv:3: date \"2027-02-30\" is not a valid date"),
        (format!("{h}{ok}a,2027-04-31,GP,ha,1.00,1\n"), "c.csv:3: date \"2027-04-31\" is not a valid date"),
        ("member,date,code,provider,amount,amount\n".to_string(), "c.csv:1: column \"amount\" appears twice"),
        (format!("{h}{ok}a,05-01-2027,GP,ha,1.00,1\n"), "c.csv:3: date \"05-01-2027\" is not YYYY-MM-DD"),
        (format!("{h}{ok}a,2027-01-05,GP,ha,1.005,1\n"), "c.csv:3: amount 1.005 has more than 2 decimals"),
        (format!("{h}{ok}a,2027-01-05,GP,ha,12abc,1\n"), "c.csv:3: amount \"12abc\" is not a decimal number"),
        (format!("{h}{ok},2027-01-05,GP,ha,1.00,1\n"), "c.csv:3: field member is empty"),
        (format!("{h}{ok}a,2027-01-05,GP,ha,1.00,-2\n"), "c.csv:3: quantity -2 is negative"),
        (
            format!("{h}{ok}a,2027-01-05,GP,ha,-1.00,1\n"),
            "c.csv:3: amount -1.00 is negative and the rules do not allow reversals",
        ),
        ("member,date,code,amount\n".to_string(), "c.csv:1: the header must hold"),
        ("member,date,code,provider,amount,colour\n".to_string(), "c.csv:1: unknown column \"colour\""),
    ];
    let rules = "membership = \"claims\"\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"cost\"\nmeasure = \"total_cost\"\n";
    for (claims, expect) in cases {
        let e = row_error(&claims, rules);
        assert!(e.contains(expect), "expected {expect:?}, got {e:?}");
    }
    // Invalid UTF-8 in a field.
    let mut bytes = format!("{h}{ok}").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe,2027-01-05,GP,ha,1.00,1\n");
    let r = Rules::parse("r.toml", rules).unwrap();
    let e = derive::derive(&r, bytes.as_slice(), "c.csv", 2027).unwrap_err().to_string();
    assert!(e.contains("c.csv:3: field member is not valid UTF-8"), "{e}");
}

#[test]
fn bad_rules_are_explained() {
    let cases = [
        ("membership = \"claims\"\n[fence]\ncodes = [\"*\"]\ncodez = []\n[[metric]]\nindicator = \"x\"\nmeasure = \"total_cost\"\n", "unknown field `codez`"),
        ("membership = \"claims\"\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"x\"\nmeasure = \"count\"\n", "codes are required for count and quantity"),
        ("membership = \"enrolment\"\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"x\"\nmeasure = \"members\"\n", "enrolment_codes: required exactly when"),
        ("membership = \"claims\"\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"x\"\nmeasure = \"average\"\n", "unknown variant `average`"),
        ("membership = \"claims\"\n[fence]\ncodes = []\n[[metric]]\nindicator = \"x\"\nmeasure = \"members\"\n", "fence.codes: name at least one code"),
    ];
    for (text, expect) in cases {
        let e = Rules::parse("r.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("r.toml: ") && e.contains(expect), "expected {expect:?}, got {e:?}");
    }
    let e = Rules::parse("r.toml", "membership = \"claims\"\n[fence]\ncodes = [\"*\"]\ncodez = []\n[[metric]]\nindicator = \"x\"\nmeasure = \"total_cost\"\n").unwrap_err();
    assert!(e.to_string().contains("line 4"), "the position is named: {e}");
    // Division by zero members is an error naming the figure, not a panic.
    let r = Rules::parse("r.toml", "membership = \"claims\"\n[fence]\ncodes = [\"*\"]\n[[metric]]\nindicator = \"cpm\"\nmeasure = \"cost_per_member\"\n").unwrap();
    let d = derive::derive(&r, "member,date,code,provider,amount\n".as_bytes(), "c.csv", 2027).unwrap();
    let e = d.figures(&r, 0, Granularity::Year).unwrap_err();
    assert!(
        matches!(e, DeriveError::Figure { .. }) && e.to_string().contains("cpm for 2027: there are no members"),
        "{e}"
    );
}

#[test]
fn the_example_extract_gives_its_golden_figures() {
    let rules = Rules::from_file(&repo().join("examples/data/rules-copd.toml")).unwrap();
    let d = derive::derive_file(&rules, &repo().join("examples/data/claims-copd-2027.csv"), 2027).unwrap();
    let y = figures(&rules, &d, Granularity::Year);
    assert_eq!(value(&y, "care-cost", "2027"), "3101192.36");
    assert_eq!(value(&y, "admissions", "2027"), "0.65");
    assert_eq!((d.rows_read, d.rows_counted, d.rows_outside_fence), (10000, 6737, 387));
}

fn lines_of(text: &str) -> (String, Vec<String>) {
    let mut it = text.lines();
    let header = it.next().unwrap().to_string();
    (header, it.map(str::to_string).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn row_order_never_changes_a_figure(seed in any::<u64>()) {
        use rand::{seq::SliceRandom, SeedableRng};
        let rules = Rules::from_file(&repo().join("examples/data/rules-copd.toml")).unwrap();
        let text = std::fs::read_to_string(repo().join("examples/data/claims-copd-2027.csv")).unwrap();
        let (header, rows) = lines_of(&text);
        // Enrolment rows come first in the file, claims after: take both.
        let mut rows = rows[2500..5500].to_vec();
        let whole = format!("{header}\n{}\n", rows.join("\n"));
        rows.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let shuffled = format!("{header}\n{}\n", rows.join("\n"));
        let a = derive::derive(&rules, whole.as_bytes(), "a", 2027).unwrap();
        let b = derive::derive(&rules, shuffled.as_bytes(), "b", 2027).unwrap();
        for g in [Granularity::Year, Granularity::Quarter, Granularity::Month] {
            prop_assert_eq!(figures(&rules, &a, g), figures(&rules, &b, g));
        }
    }

    #[test]
    fn a_file_split_in_two_gives_the_same_totals(cut in 1usize..2999) {
        let rules = Rules::parse("r.toml", RULES.replace("[\"zh\", \"ha\"]", "[\"ziekenhuis\", \"huisartsen\", \"thuiszorg\"]").replace("\"GP\", \"BED\"", "\"GP-CONSULT\", \"BED-DAY\", \"1062\"").as_str()).unwrap();
        let text = std::fs::read_to_string(repo().join("examples/data/claims-copd-2027.csv")).unwrap();
        let (header, rows) = lines_of(&text);
        let rows = &rows[2500..5500];
        let part = |r: &[String]| format!("{header}\n{}\n", r.join("\n"));
        let whole = derive::derive(&rules, part(rows).as_bytes(), "w", 2027).unwrap();
        let mut merged = derive::derive(&rules, part(&rows[..cut]).as_bytes(), "a", 2027).unwrap();
        merged.merge(&derive::derive(&rules, part(&rows[cut..]).as_bytes(), "b", 2027).unwrap()).unwrap();
        for g in [Granularity::Year, Granularity::Month] {
            prop_assert_eq!(figures(&rules, &merged, g), figures(&rules, &whole, g));
        }
        prop_assert_eq!(merged.rows_read, whole.rows_read);
    }
}

/// Pieces of a claims file for the split tests: good rows in LF and CRLF,
/// quoted fields holding commas, quotes and line ends, blank lines, and
/// (rarely) a bad row or bad quoting.
const PIECES: &[&str] = &[
    "a,2027-01-05,GP,ha,32.50,1\n",
    "b,2027-02-10,ADM-COPD,zh,4210.00,2\r\n",
    "\"c\",2027-03-01,\"BED\",\"zh\",\"1575.00\",\"3\"\n",
    "\"d,e\",2027-04-01,GP,\"h\"\"a\",10.01,\n",
    "f,2027-05-01,\"ADM-\nHF\",zh,1.00,1\n",
    "\"g\r\nh\",2027-06-30,GP,ha,-2.50,\r\n",
    "i,2026-12-31,GP,ha,32.50,1\n",
    "j,2027-07-07,PHYSIO,elsewhere,40.00,1\n",
    "\n",
    "\r\n",
    "k,2027-08-08,BED,zh,99.99,0.5\n",
    "a,2027-13-01,GP,ha,1.00,1\n",
    "l,2027-09-09,GP,ha,1.001,1\n",
    "m,2027-10-10,GP,ha\n",
    "n,2027-11-11,G\"P,ha,1.00,1\n",
    "\"o\"x,2027-11-11,GP,ha,1.00,1\n",
    ",2027-12-12,GP,ha,1.00,1\n",
];

fn file_of(picks: &[usize], crlf_header: bool, open_quote_at_end: bool) -> String {
    let mut text = String::from(if crlf_header {
        "member,date,code,provider,amount,quantity\r\n"
    } else {
        "member,date,code,provider,amount,quantity\n"
    });
    for &i in picks {
        text.push_str(PIECES[i]);
    }
    if open_quote_at_end {
        text.push_str("\"p,2027-01-01");
    }
    text
}

/// Mostly good pieces (0..=10), a bad one now and then.
fn piece() -> impl Strategy<Value = usize> {
    prop_oneof![20 => 0usize..=10, 1 => 11usize..PIECES.len()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// The parallel reader cuts the file anywhere (blocks of 1 to 200 bytes,
    /// 2 to 4 workers) and gives exactly what the one-thread reader gives:
    /// the same figures, counts and hash, or the same error with the same
    /// FILE:LINE (the first in file order).
    #[test]
    fn a_file_cut_anywhere_over_threads_gives_what_one_thread_gives(
        picks in proptest::collection::vec(piece(), 0..40),
        crlf_header in any::<bool>(),
        open_quote in prop::sample::select(vec![false, false, false, true]),
        block in 1usize..200,
        threads in 2usize..5,
    ) {
        let rules = Rules::parse("r.toml", RULES).unwrap();
        let text = file_of(&picks, crlf_header, open_quote);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, &text).unwrap();
        let name = path.display().to_string();
        let one = derive::derive(&rules, text.as_bytes(), &name, 2027);
        let many = derive::derive_file_with(&rules, &path, 2027, threads, block);
        prop_assert_eq!(&many, &one, "{:?}", text);
        prop_assert_eq!(&derive::derive_file(&rules, &path, 2027), &one);
    }
}

/// The example extract read in blocks from 1 byte to 1 MiB over two
/// workers: the same derivation as one thread.
#[test]
fn a_large_file_over_two_workers_is_the_one_thread_result() {
    let rules = Rules::from_file(&repo().join("examples/data/rules-copd.toml")).unwrap();
    let path = repo().join("examples/data/claims-copd-2027.csv");
    let text = std::fs::read(&path).unwrap();
    let one = derive::derive(&rules, text.as_slice(), &path.display().to_string(), 2027).unwrap();
    for block in [1, 7, 4096, 1 << 20] {
        let two = derive::derive_file_with(&rules, &path, 2027, 2, block).unwrap();
        assert_eq!(two, one, "block {block}");
    }
}
