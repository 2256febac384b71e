//! Benchmark of many contracts in one simulation: a book of N one-year
//! contracts (the COPD example made one-year, each with its own provider,
//! year 2017-2023, baseline cost, expected size and share, all varied
//! deterministically from the contract's number) under the COPD example
//! scenarios, through the library (`Model::monte_carlo`) and once through
//! the CLI (`vereffen simulate`, with its sweep and tornado). Not a timed test.
//!
//! ```text
//! cargo build --release && cargo run --release --example simulate_many_bench -- --contracts 2623 --runs 1
//! cargo run --release --example simulate_many_bench -- --contracts 10000 --runs 1000 --no-cli
//! ```
//!
//! Prints the seconds and the peak resident memory (VmHWM) of each path,
//! and for the library the resident memory of the loaded book before the
//! Monte Carlo (`library_rss_loaded_mb`) and the peak above it
//! (`library_monte_carlo_rss_mb`). `--dir DIR` keeps the generated book.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vereffen::domain::contract;
use vereffen::domain::simulate::{scenarios, Model, Variant};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// VmHWM (peak resident set) of a process, in MB.
fn peak_rss_mb(status: &Path) -> Option<u64> {
    status_mb(status, "VmHWM:")
}

/// A `/proc/PID/status` figure given in kB, in MB.
fn status_mb(status: &Path, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(status).ok()?;
    let kb: u64 = s.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Replaces `from` by `to` in `text`, insisting that `from` occurs.
fn set(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the COPD example no longer holds {from:?}");
    text.replace(from, to)
}

/// Contract `i` of the book.
fn contract_text(template: &str, i: usize) -> String {
    let year = 2017 + (i % 7) as u16;
    let mut t = set(template, "last_year = 2027", "last_year = 2025");
    t = set(&t, "review_dates = [2025-10-01, 2026-10-01, 2027-10-01]", "review_dates = [2025-10-01]");
    t = set(&t, "term = \"multi_year\"", "term = \"one_year\"");
    // A one-year contract cannot repay an advance from later savings.
    t = set(&t, "kind = \"advance\"\nrepayment_rate = 0.5\nremaining_at_end = \"waived\"", "kind = \"grant\"");
    t = t.replace("2025", &year.to_string());
    t = set(&t, "base_year = 2024", &format!("base_year = {}", year - 1));
    t = set(&t, "id = \"copd-telemonitoring-oost-achterhoek\"", &format!("id = \"copd-book-{i:05}\""));
    t = set(&t, "cost = 6240.00", &format!("cost = {}.{:02}", 5000 + (i * 37) % 2500, i % 100));
    t = set(&t, "expected_size = 420", &format!("expected_size = {}", 200 + (i * 13) % 600));
    t = set(&t, "provider_share = 0.5", &format!("provider_share = 0.{}", 3 + i % 5));
    set(&t, "ziekenhuis", &format!("ziekenhuis-{i:05}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |name: &str, default: u64| -> u64 {
        arg(&args, name).map(|v| v.replace('_', "").parse().expect("a number")).unwrap_or(default)
    };
    let n = num("--contracts", 2623) as usize;
    let runs = num("--runs", 1);
    let cli = !args.iter().any(|a| a == "--no-cli");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(repo.join("contracts/copd-telemonitoring-shared-savings.toml"))
        .expect("the COPD example contract");
    let scen_file = repo.join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    // `--dir DIR` keeps the generated book (to run `vereffen simulate` on it
    // by hand, e.g. under a profiler); by default it is a temporary directory.
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = arg(&args, "--dir").map(PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("create --dir");
    let t = Instant::now();
    let mut files = Vec::with_capacity(n);
    for i in 0..n {
        let f = dir.join(format!("c{i:05}.toml"));
        std::fs::write(&f, contract_text(&template, i)).expect("write contract");
        files.push(f);
    }
    println!("contracts={n}");
    println!("runs={runs}");
    println!("threads={}", rayon::current_num_threads());
    println!("generate_s={:.2}", t.elapsed().as_secs_f64());

    // The library path: check the files, join the scenarios, Monte Carlo.
    let t = Instant::now();
    // On every core, as `vereffen simulate` checks its files.
    use rayon::prelude::*;
    let variants: Vec<Variant> = files
        .par_iter()
        .enumerate()
        .map(|(i, f)| Variant::new(&format!("c{i:05}"), contract::check_file(f).expect("valid contract")))
        .collect();
    let s = scenarios::read_file(&scen_file).expect("scenarios");
    let m = Model::new(s, variants).expect("model");
    let load_s = t.elapsed().as_secs_f64();
    // What the loaded book holds before the Monte Carlo (grows with
    // contracts); the peak above it is the Monte Carlo's own memory.
    let rss_loaded = status_mb(Path::new("/proc/self/status"), "VmRSS:").unwrap_or(0);
    let t = Instant::now();
    let stats = m.monte_carlo(runs, 1, &|_| {}, &mut |_| {}).expect("runs");
    let mc_s = t.elapsed().as_secs_f64();
    assert_eq!(stats.len(), n);
    println!("library_load_s={load_s:.2}");
    println!("library_monte_carlo_s={mc_s:.2}");
    println!("library_outcomes_per_s={:.0}", (n as f64 * runs as f64) / mc_s);
    let peak = peak_rss_mb(Path::new("/proc/self/status")).unwrap_or(0);
    println!("library_rss_loaded_mb={rss_loaded}");
    println!("library_peak_rss_mb={peak}");
    println!("library_monte_carlo_rss_mb={}", peak.saturating_sub(rss_loaded));
    drop(stats);
    drop(m);

    if cli {
        // target/release/examples/simulate_many_bench -> target/release/vereffen
        let exe = std::env::current_exe().expect("own path");
        let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("vereffen")).expect("target dir");
        assert!(bin.exists(), "build the CLI first: cargo build --release ({} is missing)", bin.display());
        let t = Instant::now();
        let mut child = std::process::Command::new(&bin)
            .arg("simulate")
            .args(&files)
            .arg("--scenarios")
            .arg(&scen_file)
            .arg("--runs")
            .arg(runs.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start vereffen simulate");
        let status = PathBuf::from(format!("/proc/{}/status", child.id()));
        let mut peak = 0;
        let code = loop {
            if let Some(p) = peak_rss_mb(&status) {
                peak = peak.max(p);
            }
            if let Some(code) = child.try_wait().expect("wait") {
                break code;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(code.success(), "vereffen simulate failed: {code}");
        println!("cli_s={:.2}", t.elapsed().as_secs_f64());
        println!("cli_peak_rss_mb={peak}");
    }
}
