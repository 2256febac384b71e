//! Inbox benchmark: one node home holding N small ledgers (issue 14's
//! "one node hosting 2,000 ledgers answering an inbox query", goal < 200 ms).
//!
//! ```text
//! cargo run --release --example inbox_bench -- [--ledgers 2000] [--runs 5] [--open-sample 100]
//! ```
//!
//! Builds `HOME/ledgers/<id>` for N ledgers between a hospital and an
//! insurer (the heart-failure example contract proposed and accepted, the
//! twelve figures of 2026-2028 submitted, those of 2026 and 2027 attested,
//! 2026 co-signed: 26 entries each, built with the library, no CLI) and
//! the insurer's key in `HOME/keys`. Then it measures, for the insurer:
//!
//! * a cold start: `home_inbox_new_process_no_cache_ms`, the first query
//!   of a new process (this program run again with `--query HOME`) with
//!   the OS file cache warm and no derived inbox cache (every copy read
//!   and computed), and `home_inbox_new_process_cached_ms`, the next new
//!   process, which finds the per-copy cache the first one wrote;
//! * [`inbox::home_inbox`] over the whole home (journal snapshots read in
//!   parallel, no lock, no index): `home_inbox_cold_ms` with an empty
//!   cache, `home_inbox_uncached_ms` computing every copy without the
//!   cache, `home_inbox_warm_ms_*` when nothing changed (best and median of
//!   `--runs` runs), and after 1% of the ledgers received an entry;
//! * `open_inbox_ms_per_ledger`: the same inbox through `Ledger::open` (lock,
//!   sled index) and [`inbox::inbox`] on `--open-sample` ledgers (after a
//!   first open that builds each index), and that figure times N;
//! * where the snapshot path spends its time on one ledger: reading the
//!   journal, and computing the items.
//!
//! Prints one `name=value` line per figure.

use std::path::Path;
use std::time::Instant;

#[path = "bench_common/mod.rs"]
#[allow(dead_code)]
mod bench_common;
use bench_common::arg;
use bench_common::hf_home::{entries, sign, write_copy, CONTRACT_FILE};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;
use vereffen::audit::inbox;
use vereffen::ledger::keys;
use vereffen::ledger::{snapshot, Ledger};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// `--query HOME`: one inbox query over HOME in this (new) process; prints
/// its time and item count. The parent runs it to measure a cold start.
fn query_only(home: &Path) {
    let t = Instant::now();
    let keys = inbox::home_keys(home).expect("home keys");
    let items = inbox::home_inbox(home, &keys).expect("inbox");
    println!("{:.1} {}", ms(t), items.len());
}

/// Runs `--query HOME` in a new process; (ms, items).
fn query_in_new_process(home: &Path) -> (f64, usize) {
    let out = std::process::Command::new(std::env::current_exe().expect("this program"))
        .arg("--query")
        .arg(home)
        .output()
        .expect("run the query process");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut parts = text.split_whitespace();
    let ms: f64 = parts.next().and_then(|v| v.parse().ok()).expect("ms");
    let items: usize = parts.next().and_then(|v| v.parse().ok()).expect("items");
    (ms, items)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--query") {
        query_only(Path::new(args.get(i + 1).expect("--query HOME")));
        return;
    }
    let n = arg("--ledgers", 2000);
    let runs = arg("--runs", 5).max(1);
    let sample = arg("--open-sample", 100).min(n);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let contract = vereffen::domain::contract::check_file(&repo.join(CONTRACT_FILE)).expect("contract");
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path();
    // The contract names the demo keys' fingerprints.
    let demo = |party: &str| keys::load_signing_key(&repo.join(format!("keys/demo-{party}.key"))).expect("demo key");
    let (zh, vz) = (demo("ziekenhuis"), demo("verzekeraar"));
    let files = keys::write_key_files(&home.join(inbox::HOME_KEYS_DIR), "insurer", &vz).expect("keys");

    // The first ledger through the checked append path: the synthetic
    // entries obey every rule.
    let first = entries("hf-00000", &zh, &vz, &contract);
    let per_ledger = first.len();
    {
        let dir = home.join(inbox::HOME_LEDGERS_DIR).join("check");
        let mut l = Ledger::init(&dir, "hf-00000", &vereffen::rules::ALL).expect("init");
        l.append(&first).expect("the synthetic entries are valid");
        drop(l);
        std::fs::remove_dir_all(&dir).expect("rm");
    }
    let t = Instant::now();
    (0..n).into_par_iter().for_each(|i| {
        let id = format!("hf-{i:05}");
        let es = if i == 0 { first.clone() } else { entries(&id, &zh, &vz, &contract) };
        write_copy(&home.join(inbox::HOME_LEDGERS_DIR).join(&id), &id, &es);
    });
    println!("ledgers={n}");
    println!("entries_per_ledger={per_ledger}");
    println!("build_s={:.1}", t.elapsed().as_secs_f64());

    let keys = inbox::home_keys(home).expect("home keys");
    assert_eq!(keys.len(), 1);
    assert!(keys[0].file.ends_with(files.private.file_name().unwrap().to_str().unwrap()));
    // Cold start, honestly: a new process (nothing of this one's memory),
    // the OS file cache warm (the copies were just written), first with no
    // derived inbox cache (every copy read and its items computed, then
    // cached), then with the cache the first query wrote.
    let (cold_ms, cold_items) = query_in_new_process(home);
    assert_eq!(cold_items, 2 * n);
    println!("home_inbox_new_process_no_cache_ms={cold_ms:.1}");
    let (cached_ms, cached_items) = query_in_new_process(home);
    assert_eq!(cached_items, 2 * n);
    println!("home_inbox_new_process_cached_ms={cached_ms:.1}");
    std::fs::remove_dir_all(home.join(inbox::HOME_CACHE_DIR)).expect("remove the inbox cache");
    // Cold in this process: no cache yet (every copy read and its items computed, then cached).
    let t = Instant::now();
    let items = inbox::home_inbox(home, &keys).expect("inbox");
    println!("home_inbox_cold_ms={:.1}", ms(t));
    // Each ledger: 2028's hospital figure to attest, 2027 computable.
    assert_eq!(items.len(), 2 * n, "{:?}", items.first());
    println!("items={}", items.len());
    // Without the cache at all: every copy read as a snapshot each time.
    let dirs_all: Vec<_> = (0..n).map(|i| home.join(inbox::HOME_LEDGERS_DIR).join(format!("hf-{i:05}"))).collect();
    let t = Instant::now();
    let uncached: usize = dirs_all.par_iter().map(|d| inbox::copy_inbox(d, &keys).len()).sum();
    assert_eq!(uncached, 2 * n);
    println!("home_inbox_uncached_ms={:.1}", ms(t));
    let warm = |label: &str| {
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let items = inbox::home_inbox(home, &keys).expect("inbox");
            times.push(ms(t));
            assert!(items.len() >= 2 * n);
        }
        times.sort_by(f64::total_cmp);
        println!("home_inbox_{label}_ms_best={:.1}", times[0]);
        println!("home_inbox_{label}_ms_median={:.1}", times[times.len() / 2]);
    };
    // Warm: nothing changed since the last query.
    warm("warm");
    // A morning: 1% of the ledgers received an entry since the last query.
    let changed = (n / 100).max(1);
    for i in 0..changed {
        let id = format!("hf-{i:05}");
        let mut l = Ledger::open(&home.join(inbox::HOME_LEDGERS_DIR).join(&id), &vereffen::rules::ALL).expect("open");
        let note = sign(
            &id,
            "ziekenhuis",
            &zh,
            vereffen::domain::note::KIND_NOTE,
            vec![],
            vereffen::domain::note::payload("minutes", None),
        );
        l.append(&[note]).expect("append");
    }
    let t = Instant::now();
    inbox::home_inbox(home, &keys).expect("inbox");
    println!("home_inbox_after_{changed}_changed_ms={:.1}", ms(t));

    // Where one ledger's time goes on the snapshot path.
    let one = home.join(inbox::HOME_LEDGERS_DIR).join("hf-00001");
    let reps = 200;
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(snapshot::read(&one).expect("snapshot"));
    }
    println!("snapshot_read_us_per_ledger={:.0}", t.elapsed().as_secs_f64() * 1e6 / reps as f64);
    let snap = snapshot::read(&one).expect("snapshot");
    let t = Instant::now();
    for _ in 0..reps {
        let facts = inbox::Facts::from_snapshot(snap.clone(), &one);
        let mine = inbox::my_parties(&facts.registry, &keys);
        std::hint::black_box(inbox::items(&facts, &mine, &keys));
    }
    println!("items_us_per_ledger={:.0}", t.elapsed().as_secs_f64() * 1e6 / reps as f64);

    // The same through Ledger::open (lock + sled index) on a sample.
    let dirs: Vec<_> = (0..sample).map(|i| home.join(inbox::HOME_LEDGERS_DIR).join(format!("hf-{i:05}"))).collect();
    for d in &dirs {
        drop(Ledger::open(d, &vereffen::rules::ALL).expect("first open builds the index"));
    }
    let t = Instant::now();
    let mut open_ms = 0.0;
    for d in &dirs {
        let t_open = Instant::now();
        let l = Ledger::open(d, &vereffen::rules::ALL).expect("open");
        open_ms += ms(t_open);
        let items = inbox::inbox(&l, &["verzekeraar".to_string()]).expect("inbox");
        assert_eq!(items.len(), 2);
    }
    let per = ms(t) / sample.max(1) as f64;
    println!("open_inbox_ms_per_ledger={per:.2}");
    println!("open_only_ms_per_ledger={:.2}", open_ms / sample.max(1) as f64);
    println!("open_inbox_ms_for_all_sequential={:.0}", per * n as f64);
}
