//! Generates a realistic synthetic claims extract (CSV) for the derive
//! command, the demo and the benchmark.
//!
//! ```text
//! cargo run --release --example gen_claims -- --rows 100000 --members 420 --year 2027 --seed 7 --out claims.csv
//! ```

mod claims_gen;

use std::io::Write;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |name: &str, default: u64| -> u64 {
        arg(&args, name)
            .map(|v| v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name} needs a number")))
            .unwrap_or(default)
    };
    let rows = num("--rows", 10_000);
    let members = num("--members", 420) as u32;
    let year = num("--year", 2027) as u16;
    let seed = num("--seed", 7);
    let out = arg(&args, "--out").unwrap_or_else(|| "claims.csv".into());
    let file = std::fs::File::create(&out).unwrap_or_else(|e| panic!("cannot create {out}: {e}"));
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    claims_gen::generate(&mut w, rows, members, year, seed).expect("write claims");
    w.flush().expect("flush");
    eprintln!("wrote {rows} rows for {members} members in {year} to {out}");
}
