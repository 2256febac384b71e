//! Every line of every example statement is worded from its structured
//! words, in English and in Dutch, with no message missing; and settling
//! year by year gives what settling the term gives (one engine, no quiet
//! mode: the engine formats no words, documents word the lines).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use vereffen::domain::contract::{self, Aggregation, Contract};
use vereffen::domain::settlement::{self, Figure, Inputs};
use vereffen::present::lang::{Lang, Tr};
use vereffen::present::words;

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
fn every_example_line_is_worded_in_english_and_dutch() {
    let (en, nl) = (Tr::new(Lang::En), Tr::new(Lang::Nl));
    let mut n = 0;
    for f in std::fs::read_dir(repo().join("contracts")).unwrap() {
        let c = contract::check_file(&f.unwrap().path()).unwrap();
        let i = inputs(&c);
        let term = settlement::settle_term(&c, &i).unwrap();
        let mut carry = settlement::Carry::initial(&c);
        for s in &term {
            let one = settlement::settle_year(&c, &i[(s.year - c.term.first_year) as usize], &carry).unwrap();
            assert_eq!(&one, s, "{} {}: settle_year = settle_term", c.id, s.year);
            carry = one.carry_out.clone();
            for l in &s.lines {
                for tr in [&en, &nl] {
                    let (label, formula) = (words::label(tr, l), words::formula(tr, l));
                    assert!(
                        !label.is_empty() && !formula.is_empty(),
                        "{} {} {}: {label} / {formula}",
                        c.id,
                        s.year,
                        l.id
                    );
                    assert!(!label.contains('⟦') && !formula.contains('⟦'), "{} {}: {label} / {formula}", c.id, l.id);
                }
                // Amounts are formatted by the language, never passed as
                // floats: the Dutch formula shows the Dutch amount.
                if let Some(a) = l.amount.filter(|a| a.abs() >= Decimal::from(1000)) {
                    let f = words::formula(&nl, l);
                    assert!(f.contains(&nl.money(a)) || f.contains(&nl.money(a.abs())), "{}: {f}", l.id);
                }
            }
            n += 1;
        }
    }
    assert!(n >= 15, "every year of the five examples: {n}");
}
