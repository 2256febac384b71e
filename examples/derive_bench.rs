//! Benchmark of `derive`: generates a synthetic claims file of N rows and
//! derives the COPD rules' figures from it on one thread and on every core
//! ([`derive::derive_file`]), reporting throughput and peak memory; with
//! the `duckdb` Python package it also times DuckDB summing the same fenced
//! cost on the same file and prints `vs_duckdb` (DuckDB's seconds / ours:
//! above 1 means derive is faster). Not a timed test.
//!
//! ```text
//! cargo run --release --example derive_bench -- --rows 1000000 [--members 500000] [--keep FILE | --file FILE] [--repeat 3] [--no-one-thread] [--duckdb-install]
//! ```
//!
//! DuckDB is looked for in `$VEREFFEN_DUCKDB_PYTHON`, then
//! `target/duckdb-venv/bin/python`, then `python3`; `--duckdb-install`
//! creates that venv and `pip install`s duckdb into it (never needed by CI).

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
    // `--file FILE` derives from a file kept by an earlier `--keep FILE`
    // (same --rows and --members) instead of generating one.
    let existing = arg(&args, "--file").map(std::path::PathBuf::from);
    let path = existing
        .clone()
        .or_else(|| arg(&args, "--keep").map(std::path::PathBuf::from))
        .unwrap_or_else(|| dir.path().join("claims.csv"));
    let t = Instant::now();
    if existing.is_none() {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
        claims_gen::generate(&mut w, rows, members, 2027, 1).expect("generate");
        w.flush().expect("flush");
    }
    let gen_s = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let rules = Rules::parse("rules-copd.toml", include_str!("data/rules-copd.toml")).expect("rules");
    let repeat: usize = arg(&args, "--repeat").map(|v| v.parse().expect("--repeat N")).unwrap_or(1).max(1);
    let rss_before = peak_rss_mb();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // Best of `repeat` runs each, one thread and every core, alternating.
    let (mut one_s, mut derive_s) = (f64::MAX, f64::MAX);
    let mut d = None;
    // `--no-one-thread` skips the one-thread runs (to profile the parallel path).
    let one_thread = !args.iter().any(|a| a == "--no-one-thread");
    for _ in 0..repeat {
        let one = one_thread.then(|| {
            let t = Instant::now();
            let one = derive::derive_file_with(&rules, &path, 2027, 1, derive::PARALLEL_BLOCK_BYTES).expect("derive");
            one_s = one_s.min(t.elapsed().as_secs_f64());
            one
        });
        let t = Instant::now();
        let all = derive::derive_file(&rules, &path, 2027).expect("derive");
        derive_s = derive_s.min(t.elapsed().as_secs_f64());
        if let Some(one) = one {
            assert_eq!(one, all, "one thread and every core differ");
        }
        d = Some(all);
    }
    let d = d.expect("at least one run");
    let cost = d.figures(&rules, 0, Granularity::Year).expect("figures");
    println!("rows={rows}");
    println!("members={}", d.member_count());
    println!("file_mb={:.0}", bytes as f64 / 1e6);
    println!("generate_s={gen_s:.1}");
    println!("threads={threads}");
    if one_thread {
        println!("derive_one_thread_s={one_s:.2}");
    }
    println!("derive_s={derive_s:.2}");
    if one_thread {
        println!("speedup={:.2}", one_s / derive_s);
    }
    println!("rows_per_s={:.0}", rows as f64 / derive_s);
    println!("mb_per_s={:.0}", bytes as f64 / 1e6 / derive_s);
    println!("peak_rss_mb={}", peak_rss_mb());
    println!("peak_rss_mb_before_derive={rss_before}");
    println!("care_cost={}", cost[0].value);
    if args.iter().any(|a| a == "--duckdb-install") {
        install_duckdb();
    }
    if let Some((duck_s, duck_cost)) = duckdb(&rules, &path, repeat) {
        println!("duckdb_s={duck_s:.2}");
        println!("duckdb_care_cost={duck_cost}");
        println!("vs_duckdb={:.2}", duck_s / derive_s);
    } else {
        println!("duckdb: not installed (pass --duckdb-install, or set VEREFFEN_DUCKDB_PYTHON)");
    }
}

fn venv() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/duckdb-venv")
}

/// Creates target/duckdb-venv and installs duckdb into it.
fn install_duckdb() {
    let venv = venv();
    if !venv.join("bin/python").exists() {
        let ok = std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
        assert!(ok.map(|s| s.success()).unwrap_or(false), "cannot create {}", venv.display());
    }
    let ok = std::process::Command::new(venv.join("bin/pip")).args(["install", "-q", "duckdb"]).status();
    assert!(ok.map(|s| s.success()).unwrap_or(false), "pip install duckdb failed");
}

/// A SQL condition for a list of exact codes and `prefix*` patterns.
fn sql_match(column: &str, patterns: &[String]) -> String {
    let conds: Vec<String> = patterns
        .iter()
        .map(|p| match p.strip_suffix('*') {
            Some("") => "TRUE".to_string(),
            Some(prefix) => format!("starts_with({column}, '{}')", prefix.replace('\'', "''")),
            None => format!("{column} = '{}'", p.replace('\'', "''")),
        })
        .collect();
    format!("({})", conds.join(" OR "))
}

/// DuckDB's best time of `repeat` for the fenced cost of the year, and the sum.
fn duckdb(rules: &Rules, path: &std::path::Path, repeat: usize) -> Option<(f64, String)> {
    let python = std::env::var("VEREFFEN_DUCKDB_PYTHON").ok().map(std::path::PathBuf::from).or_else(|| {
        let p = venv().join("bin/python");
        p.exists().then_some(p)
    });
    let python = python.unwrap_or_else(|| "python3".into());
    let f = &rules.fence;
    let mut fence = vec![sql_match("code", &f.codes)];
    if !f.exclude_codes.is_empty() {
        fence.push(format!("NOT {}", sql_match("code", &f.exclude_codes)));
    }
    if !f.providers.is_empty() {
        fence.push(sql_match("provider", &f.providers));
    }
    let sql = format!(
        "SELECT SUM(amount) FROM read_csv(?, header = true, columns = {{'member': 'VARCHAR', 'date': 'DATE', \
         'code': 'VARCHAR', 'provider': 'VARCHAR', 'amount': 'DECIMAL(18,2)', 'quantity': 'DECIMAL(18,4)'}}) \
         WHERE year(date) = 2027 AND {}",
        fence.join(" AND ")
    );
    let script = format!(
        "import sys, time\nimport duckdb\nbest = None\nfor _ in range({repeat}):\n    con = duckdb.connect()\n    \
         con.execute('SET enable_progress_bar = false')\n    \
         t = time.time()\n    r = con.execute({sql:?}, [sys.argv[1]]).fetchone()[0]\n    s = time.time() - t\n    \
         best = s if best is None else min(best, s)\nprint(best, r)\n"
    );
    let out = std::process::Command::new(python).arg("-c").arg(script).arg(path).output().ok()?;
    if !out.status.success() {
        eprintln!("duckdb failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(last) = text.lines().last() else {
        eprintln!("duckdb printed nothing");
        return None;
    };
    let mut it = last.split_whitespace();
    let secs: f64 = it.next()?.parse().ok()?;
    Some((secs, it.next()?.to_string()))
}
