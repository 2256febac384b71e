//! A quiet settlement (no labels or formulas) has exactly the numbers of the
//! full statement: every example contract, every year of its term. Its
//! signed form (what a statement hash covers, FORMAT.md 5.8) is the full
//! statement's: the quiet mode only saves the simulator the words.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use vereffen::domain::contract::{self, Aggregation, Contract};
use vereffen::domain::settlement::{self, Explain, Figure, Inputs};

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The yearly inputs of a contract from examples/measurements/ID.
fn inputs(c: &Contract) -> Vec<Inputs> {
    let mut by: BTreeMap<(String, u16), Vec<Decimal>> = BTreeMap::new();
    for f in std::fs::read_dir(repo().join("examples/measurements").join(&c.id)).unwrap() {
        let mut r = csv::Reader::from_path(f.unwrap().path()).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            by.entry((rec[0].to_string(), rec[1][..4].parse().unwrap())).or_default().push(rec[2].parse().unwrap());
        }
    }
    let value = |ind: &str, vals: &[Decimal]| {
        let agg = c.indicators.iter().find(|i| i.id == ind).map(|i| i.aggregation).unwrap_or(Aggregation::Sum);
        match agg {
            Aggregation::Sum => vals.iter().sum(),
            Aggregation::Mean => vals.iter().sum::<Decimal>() / Decimal::from(vals.len() as u64),
            Aggregation::Last => *vals.last().unwrap(),
        }
    };
    c.term
        .years()
        .map(|y| {
            let mut i = Inputs::new(y);
            for ((ind, year), vals) in &by {
                let fig = Figure { value: value(ind, vals), source_entry: Some(format!("entry-{ind}")) };
                if *year == y {
                    i.figures.insert(ind.clone(), fig);
                } else {
                    i.other_years.entry(*year).or_default().insert(ind.clone(), fig);
                }
            }
            i
        })
        .collect()
}

#[test]
fn quiet_statements_have_the_numbers_of_full_ones() {
    let mut n = 0;
    for f in std::fs::read_dir(repo().join("contracts")).unwrap() {
        let c = contract::check_file(&f.unwrap().path()).unwrap();
        let i = inputs(&c);
        let full = settlement::settle_term(&c, &i).unwrap();
        let quiet = settlement::settle_term_with(&c, &i, Explain::Quiet).unwrap();
        assert_eq!(full.len(), quiet.len());
        let mut carry = settlement::Carry::initial(&c);
        for (mut f, q) in full.into_iter().zip(quiet) {
            let one =
                settlement::settle_year_with(&c, &i[(f.year - c.term.first_year) as usize], &carry, Explain::Quiet)
                    .unwrap();
            assert_eq!(one, q, "{} {}: settle_year_with = settle_term_with", c.id, f.year);
            carry = q.carry_out.clone();
            assert!(f.lines.iter().any(|l| !l.formula.is_empty()), "the full statement is explained");
            assert_eq!(f.signed_form().unwrap(), q.signed_form().unwrap(), "{} {}: signed forms", c.id, f.year);
            for l in &mut f.lines {
                l.label.clear();
                l.formula.clear();
            }
            assert_eq!(serde_json::to_value(&f).unwrap(), serde_json::to_value(&q).unwrap(), "{} {}", c.id, f.year);
            n += 1;
        }
    }
    assert!(n >= 15, "every year of the five examples: {n}");
}
