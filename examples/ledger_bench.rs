//! Ledger throughput benchmark.
//!
//! ```text
//! cargo run --release --example ledger_bench -- --entries 100000 [--batch 1000]
//! ```
//!
//! Signs N note entries (one party), appends them in durable batches (one
//! journal fsync and one atomic head-file write per batch), then verifies the
//! journal from a fresh open, and checks the same signatures alone with
//! `sigs::verify_all` (the strict rule, one by one on all cores; best of
//! three rounds each). Prints one `name=value` line per figure.

use std::time::Instant;

#[path = "bench_common/mod.rs"]
#[allow(dead_code)] // each bench uses a part of the shared helpers
mod bench_common;
use bench_common::{arg, body, registered_ledger};

// The same allocator as the `vereffen` binary, so the figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::sigs::{self, SigItem};
use vereffen::ledger::Ledger;

/// CPU seconds (user + system) this process has used, from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let n = arg("--entries", 100_000);
    let batch = arg("--batch", 1000).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger");
    let (mut ledger, key) = registered_ledger(&path);

    let t = Instant::now();
    let entries: Vec<Entry> = (0..n)
        .into_par_iter()
        .map(|i| {
            let text = format!("measurement note {i}: bed-days 1.63 per patient, admissions 0.94 per patient");
            Entry::sign(
                body(
                    vereffen::domain::note::KIND_NOTE,
                    &key,
                    vereffen::domain::note::payload(&text, Some("copd-achterhoek")),
                ),
                &[&key],
            )
            .expect("sign")
        })
        .collect();
    let sign_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for chunk in entries.chunks(batch) {
        ledger.append(chunk).expect("append");
    }
    ledger.close().expect("close");
    let append_s = t.elapsed().as_secs_f64();

    // Verify and raw signature checks alternate, three rounds each; the
    // best round of each is reported (other processes share the cores).
    let items: Vec<SigItem> = entries
        .iter()
        .map(|e| SigItem { msg: e.signing_input(), sig: e.sigs()[0].sig, key: key.verifying_key() })
        .collect();
    let (mut verify_s, mut raw_s) = (f64::MAX, f64::MAX);
    let (mut verify_cpu, mut raw_cpu) = (0.0, 0.0);
    let mut ledger = None;
    for _ in 0..3 {
        drop(ledger.take());
        let (t, c) = (Instant::now(), cpu_seconds());
        let opened = Ledger::open(&path, &vereffen::rules::ALL).expect("open");
        let summary = vereffen::ledger::verify::verify_journal(opened.journal_path(), &vereffen::rules::ALL, |_| {})
            .expect("verify");
        if t.elapsed().as_secs_f64() < verify_s {
            verify_s = t.elapsed().as_secs_f64();
            verify_cpu = cpu_seconds() - c;
        }
        assert_eq!(summary.entries, n as u64 + 1);
        ledger = Some(opened);
        let (t, c) = (Instant::now(), cpu_seconds());
        sigs::verify_all(&items).expect("raw verify");
        if t.elapsed().as_secs_f64() < raw_s {
            raw_s = t.elapsed().as_secs_f64();
            raw_cpu = cpu_seconds() - c;
        }
    }
    let ledger = ledger.expect("opened");

    let journal_bytes = std::fs::metadata(ledger.journal_path()).map(|m| m.len()).unwrap_or(0);
    println!("entries={n}");
    println!("batch={batch}");
    println!("threads={}", rayon::current_num_threads());
    println!("journal_bytes={journal_bytes}");
    println!("sign_entries_per_s={:.0}", n as f64 / sign_s);
    println!("append_entries_per_s={:.0}", n as f64 / append_s);
    println!("verify_entries_per_s={:.0}", (n + 1) as f64 / verify_s);
    println!("raw_verify_per_s={:.0}", n as f64 / raw_s);
    println!("verify_vs_raw={:.2}", (raw_s / verify_s) * ((n + 1) as f64 / n as f64));
    println!("verify_cores_busy={:.2}", verify_cpu / verify_s);
    println!("raw_cores_busy={:.2}", raw_cpu / raw_s);
}
