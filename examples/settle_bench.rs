//! Benchmark of the settlement engine: settles the example contracts over
//! their whole terms from the example figures, repeated until N contracts
//! are settled, on all cores. Not a timed test.
//!
//! ```text
//! cargo run --release --example settle_bench -- --contracts 10000
//! ```
//!
//! Prints `contracts_per_s`, `contract_years_per_s` and the time for N
//! five-year contracts (the two five-year examples), full statements (the
//! engine formats no words; a simulation settles the same statements).

use std::collections::BTreeMap;
use std::time::Instant;

use rayon::prelude::*;
use rust_decimal::Decimal;
use vereffen::domain::contract::{self, Aggregation, Contract};
use vereffen::domain::settlement::{self, Figure, Inputs};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The yearly inputs of a contract from its example figures (all files of
/// examples/measurements/ID), aggregated as each indicator says.
fn inputs(c: &Contract) -> Vec<Inputs> {
    let mut by: BTreeMap<(String, u16), Vec<Decimal>> = BTreeMap::new();
    let dir = repo().join("examples/measurements").join(&c.id);
    for f in std::fs::read_dir(&dir).expect("figures") {
        let mut r = csv::Reader::from_path(f.expect("file").path()).expect("csv");
        for rec in r.records() {
            let rec = rec.expect("row");
            let year: u16 = rec[1][..4].parse().expect("year");
            by.entry((rec[0].to_string(), year)).or_default().push(rec[2].parse().expect("value"));
        }
    }
    let value = |ind: &str, vals: &[Decimal]| {
        let agg = c.indicators.iter().find(|i| i.id == ind).map(|i| i.aggregation).unwrap_or(Aggregation::Sum);
        match agg {
            Aggregation::Sum => vals.iter().sum(),
            Aggregation::Mean => vals.iter().sum::<Decimal>() / Decimal::from(vals.len() as u64),
            Aggregation::Last => *vals.last().expect("a value"),
        }
    };
    c.term
        .years()
        .map(|y| {
            let mut i = Inputs::new(y);
            for ((ind, year), vals) in &by {
                let fig = Figure { value: value(ind, vals), source_entry: None };
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--contracts")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().expect("--contracts N"))
        .unwrap_or(10_000);
    let mut cases: Vec<(Contract, Vec<Inputs>)> = Vec::new();
    for f in std::fs::read_dir(repo().join("contracts")).expect("contracts") {
        let c = contract::check_file(&f.expect("file").path()).expect("valid contract");
        let i = inputs(&c);
        settlement::settle_term(&c, &i).expect("the example settles");
        cases.push((c, i));
    }
    cases.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let run = |pick: &[&(Contract, Vec<Inputs>)]| -> (f64, usize) {
        let t = Instant::now();
        let years: usize = (0..n)
            .into_par_iter()
            .map(|k| {
                let (c, i) = pick[k % pick.len()];
                settlement::settle_term(c, i).expect("settles").len()
            })
            .sum();
        (t.elapsed().as_secs_f64(), years)
    };
    let all: Vec<&(Contract, Vec<Inputs>)> = cases.iter().collect();
    let five: Vec<&(Contract, Vec<Inputs>)> = cases.iter().filter(|(c, _)| c.term.years().count() == 5).collect();
    let (s_all, years_all) = run(&all);
    let (s_five, years_five) = run(&five);
    println!("contracts={n}");
    println!("threads={}", rayon::current_num_threads());
    println!("mixed_contracts_per_s={:.0}", n as f64 / s_all);
    println!("mixed_contract_years_per_s={:.0}", years_all as f64 / s_all);
    println!("five_year_contracts={} ({})", n, five.iter().map(|(c, _)| c.id.as_str()).collect::<Vec<_>>().join(", "));
    println!("five_year_contracts_s={s_five:.3}");
    println!("five_year_contracts_per_s={:.0}", n as f64 / s_five);
    println!("five_year_contract_years={years_five}");
}
