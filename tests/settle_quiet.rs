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

/// A simulation settles one contract many thousand times: each statement is
/// reserved at the size of the one settled before it on the thread (at
/// least 64 lines), so a year settled again holds its lines without
/// growing (a vector of lines that grows copies every line, and reserves
/// room for as many again). The bench contract has at most 56 lines a year,
/// so this guards the reservation; it matters for larger contracts (every
/// payout makes a line per payer and provider).
#[test]
fn settling_a_year_again_reserves_exactly_its_lines() {
    let c = contract::check_file(&repo().join("examples/bench/all-components.toml")).unwrap();
    let mut carry = settlement::Carry::initial(&c);
    let mut most = 0;
    for year in c.term.years() {
        let mut i = Inputs::new(year);
        for f in settlement::required_indicators(&c, year) {
            let v = match f.indicator.as_str() {
                "dm2-member-months" => Decimal::from(71_000),
                "dm2-cost" | "ss-cost" => Decimal::from(40_000_000),
                "hba1c-control" => Decimal::new(70, 2),
                "amputations" => Decimal::new(26, 1),
                "episodes" => Decimal::from(40),
                "episode-cost" => Decimal::from(300_000),
                _ => Decimal::from(1_000),
            };
            if f.year == year {
                i = i.with(&f.indicator, v);
            } else {
                i = i.with_other_year(f.year, &f.indicator, v);
            }
        }
        let first = settlement::settle_year(&c, &i, &carry).unwrap();
        let again = settlement::settle_year(&c, &i, &carry).unwrap();
        assert_eq!(first, again, "the same year settles the same");
        let n = again.lines.len();
        assert_eq!(again.lines.capacity(), n.max(64), "{year}: reserved at the size of the statement before");
        most = most.max(n);
        carry = again.carry_out.clone();
    }
    assert!(most > 40, "every component of the bench contract makes lines: at most {most} lines");
}
