//! Index size benchmark: a ledger holding many small contracts, each
//! proposed, accepted and measured (one entry per append, as the CLI
//! appends), then settled as a draft.
//!
//! ```text
//! cargo build --release && cargo run --release --example index_bench -- --contracts 2623 [--runs 7]
//! ```
//!
//! Prints `journal_bytes`, `index_bytes` (every file under `DIR/index/`),
//! their ratio `index_bytes/journal_bytes`, and the median wall time of
//! `vereffen settle CONTRACT --year 2025 --draft` (the release binary, run
//! `--runs` times on a contract in the middle of the ledger). The `vereffen`
//! binary must have been built (`cargo build --release`) beside this example.
//! `--keep DIR` builds the ledger in the new directory DIR and keeps it.
//!
//! Measured on the 2,623-contract ledger (15,741 entries, an 18.7 MB
//! journal; 2 shared cores): index layout 2 (growing posting chunks) 294 MB,
//! `index_bytes/journal_bytes=15.77`; layout 3 (one key per posting) 19.4 MB,
//! `index_bytes/journal_bytes=1.04`. `settle --draft` then costs the same on
//! both (about 13 ms of CPU at best, most of it sled's fixed start-up), so
//! its wall time mostly reflects the machine's load.

use std::path::{Path, PathBuf};
use std::time::Instant;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "bench_common/mod.rs"]
#[allow(dead_code)] // this bench uses the arguments, keys and signing
mod bench_common;

use bench_common::{arg, demo_key, signed};
use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use vereffen::domain::measurement as meas;
use vereffen::domain::negotiation as neg;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::Ledger;

/// The ledger id of the benchmark ledger.
const LEDGER: &str = "index-bench";
/// The example contract every benchmark contract is a renamed copy of.
const CONTRACT: &str = "contracts/home-dialysis-bundled.toml";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for item in std::fs::read_dir(dir).expect("read dir").flatten() {
        let meta = item.metadata().expect("metadata");
        total += if meta.is_dir() { dir_bytes(&item.path()) } else { meta.len() };
    }
    total
}

/// The entries of contract number `i`: propose, accept and the 2025 figures.
fn contract_entries(i: usize, keys: &[(&str, SigningKey)]) -> Vec<Entry> {
    let key = |p: &str| &keys.iter().find(|(q, _)| *q == p).expect("party key").1;
    let mut c = vereffen::domain::contract::check_file(&repo().join(CONTRACT)).expect("example contract");
    c.id = format!("dialysis-{i:05}");
    let v = c.version_hash();
    let prop = signed(
        LEDGER,
        "dialysecentrum",
        key("dialysecentrum"),
        neg::KIND_PROPOSE,
        vec![],
        neg::offer_payload(&c, None, None, None),
    );
    let pv = prop.id().to_hex();
    let accept = signed(
        LEDGER,
        "verzekeraar",
        key("verzekeraar"),
        neg::KIND_ACCEPT,
        vec![pv.clone()],
        neg::decision_payload(&c.id, &v, None, None),
    );
    let mut out = vec![prop, accept];
    let figures = [
        ("dialysecentrum", "dialysis-patients", "212"),
        ("dialysecentrum", "home-patient-years", "41.5"),
        ("vektis", "home-dialysis-cost", "3150000.00"),
        ("dialysecentrum", "home-share", "0.27"),
    ];
    for (party, indicator, value) in figures {
        let payload =
            meas::figure_payload(&c.id, &v, indicator, "2025", value.parse().expect("decimal"), None, None, None);
        out.push(signed(LEDGER, party, key(party), meas::KIND_SUBMIT, vec![pv.clone()], payload));
    }
    out
}

fn main() {
    let n = arg("--contracts", 2623);
    let runs = arg("--runs", 7).max(1);
    let exe = std::env::current_exe().expect("exe");
    let bin = exe.parent().and_then(Path::parent).map(|d| d.join("vereffen")).expect("target dir");
    assert!(bin.is_file(), "{} is missing: run `cargo build --release` first", bin.display());

    // `--keep DIR` builds the ledger in DIR (new) and leaves it there.
    let args: Vec<String> = std::env::args().collect();
    let keep = args.iter().position(|a| a == "--keep").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = keep.unwrap_or_else(|| tmp.path().join("ledger"));
    let keys: Vec<(&str, SigningKey)> =
        ["dialysecentrum", "verzekeraar", "vektis"].into_iter().map(|p| (p, demo_key(p))).collect();
    let mut ledger = Ledger::init(&dir, LEDGER, &vereffen::rules::ALL).expect("init");
    for (party, role) in
        [("dialysecentrum", Role::Provider), ("verzekeraar", Role::Payer), ("vektis", Role::MeasurementSource)]
    {
        let k = &keys.iter().find(|(p, _)| *p == party).expect("key").1;
        let reg = signed(
            LEDGER,
            party,
            k,
            registry::KIND_REGISTER,
            vec![],
            registry::register_payload(party, role, &k.verifying_key()),
        );
        ledger.append(&[reg]).expect("register");
    }

    let t = Instant::now();
    let entries: Vec<Entry> = (0..n).into_par_iter().flat_map_iter(|i| contract_entries(i, &keys)).collect();
    let sign_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for e in &entries {
        ledger.append(std::slice::from_ref(e)).expect("append");
    }
    ledger.close().expect("close");
    let append_s = t.elapsed().as_secs_f64();

    let journal_bytes = std::fs::metadata(dir.join("journal")).expect("journal").len();
    let index_bytes = dir_bytes(&dir.join("index"));

    let contract = format!("dialysis-{:05}", n / 2);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = std::process::Command::new(&bin)
            .args(["--ledger"])
            .arg(&dir)
            .args(["settle", &contract, "--year", "2025", "--draft"])
            .output()
            .expect("run vereffen");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(out.status.success(), "settle --draft failed: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("DRAFT"), "not a draft statement");
    }
    times.sort_by(f64::total_cmp);

    println!("contracts={n}");
    println!("entries={}", entries.len() + 3);
    println!("sign_s={sign_s:.1}");
    println!("append_s={append_s:.1}");
    println!("journal_bytes={journal_bytes}");
    println!("index_bytes={index_bytes}");
    println!("index_bytes/journal_bytes={:.2}", index_bytes as f64 / journal_bytes as f64);
    println!("settle_draft_ms_median={:.1}", times[times.len() / 2]);
    println!("settle_draft_ms_min={:.1}", times[0]);
}
