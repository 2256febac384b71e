//! Benchmark of `derive`: generates a synthetic claims file of N rows and
//! derives the COPD rules' figures from it, reporting throughput and peak
//! memory. Not a timed test.
//!
//! ```text
//! cargo run --release --example derive_bench -- --rows 1000000 [--members 500000] [--keep FILE]
//! ```

mod claims_gen;

use std::io::Write;
use std::time::Instant;

use vereffen::domain::derive::{self, Granularity, Rules};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
        })
        .unwrap_or(0)
        / 1024
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = arg(&args, "--rows").map(|v| v.replace('_', "").parse().expect("--rows N")).unwrap_or(1_000_000);
    let members: u32 =
        arg(&args, "--members").map(|v| v.parse().expect("--members N")).unwrap_or((rows / 20).max(1) as u32);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = arg(&args, "--keep").map(std::path::PathBuf::from).unwrap_or_else(|| dir.path().join("claims.csv"));
    let t = Instant::now();
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
        claims_gen::generate(&mut w, rows, members, 2027, 1).expect("generate");
        w.flush().expect("flush");
    }
    let gen_s = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let rules = Rules::parse("rules-copd.toml", include_str!("data/rules-copd.toml")).expect("rules");
    let rss_before = peak_rss_mb();
    let t = Instant::now();
    let d = derive::derive_file(&rules, &path, 2027).expect("derive");
    let derive_s = t.elapsed().as_secs_f64();
    let cost = d.figures(&rules, 0, Granularity::Year).expect("figures");
    println!("rows={rows}");
    println!("members={}", d.member_count());
    println!("file_mb={:.0}", bytes as f64 / 1e6);
    println!("generate_s={gen_s:.1}");
    println!("derive_s={derive_s:.2}");
    println!("rows_per_s={:.0}", rows as f64 / derive_s);
    println!("mb_per_s={:.0}", bytes as f64 / 1e6 / derive_s);
    println!("peak_rss_mb={}", peak_rss_mb());
    println!("peak_rss_mb_before_derive={rss_before}");
    println!("care_cost={}", cost[0].value);
}
