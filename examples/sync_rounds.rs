//! Incremental sync rounds on a kept large ledger (issue 14, "Performance"):
//! the part of `sync_bench` that measures an incremental sync of 10 new
//! entries, on a setup kept in a directory so that it can be run again
//! (e.g. under `perf`) and against two builds in the same minutes.
//!
//! ```text
//! cargo run --release --example sync_rounds -- --dir D [--entries 300000] [--rounds 10] [--mode both|new|held|cli]
//!     [--vereffen target/release/vereffen]
//! ```
//!
//! `D/a` is the hospital's node home (the source), `D/b` the insurer's,
//! whose copy starts as a file copy of the hospital's (so no catch-up is
//! needed to set up) with its sync positions at the copy's size. Each round
//! appends 10 notes at the hospital's node and syncs the insurer's home with
//! it: `new`, as `vereffen sync` does (a new store that opens the copy and
//! closes it), `held`, by a store that keeps its copy open between rounds
//! (`serve --sync-every`), `cli`, the `vereffen sync` binary as a new
//! process, first with no node on the insurer's home (it opens the copy
//! itself), then with the insurer's node running (it hands the sync to the
//! node over `HOME/run/node.sock`). Every round adds entries, so run the two builds
//! being compared on copies of `D` made before either ran.
//!
//! Prints one `name=value` line per figure.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[path = "bench_common/mod.rs"]
#[allow(dead_code)]
mod bench_common;
use bench_common::arg;

// The same allocator as the `vereffen` binary, so the figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::Ledger;
use vereffen::node::client;
use vereffen::node::home::{Home, SyncState};
use vereffen::node::server::{self, Limits, ServeConfig, ServerHandle};
use vereffen::node::store::Store;

const LEDGER: &str = "bench-sync";

fn demo_key(name: &str) -> SigningKey {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys").join(format!("demo-{name}.key"));
    keys::load_signing_key(&p).expect("demo key")
}

fn entry(party: &str, key: &SigningKey, kind: &str, payload: serde_json::Value) -> Entry {
    let body = Body {
        v: FORMAT_VERSION,
        ledger: LEDGER.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2026-11-22T12:00:00Z".into(),
        refs: vec![],
        payload,
    };
    Entry::sign(body, &[key]).expect("sign")
}

fn notes(zh: &SigningKey, tag: &str, from: usize, n: usize) -> Vec<Entry> {
    (from..from + n)
        .into_par_iter()
        .map(|i| {
            let text = format!("measurement note {tag}{i}: bed-days 1.63 per patient, admissions 0.94 per patient");
            entry(
                "ziekenhuis",
                zh,
                vereffen::domain::note::KIND_NOTE,
                vereffen::domain::note::payload(&text, Some("copd-achterhoek")),
            )
        })
        .collect()
}

fn home(root: &Path, name: &str, party: &str) -> PathBuf {
    let h = root.join(name);
    std::fs::create_dir_all(h.join("keys")).unwrap();
    std::fs::create_dir_all(h.join("ledgers")).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys").join(format!("demo-{party}.key"));
    std::fs::copy(src, h.join("keys").join(format!("{party}.key"))).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(h.join("keys").join(format!("{party}.key")), std::fs::Permissions::from_mode(0o600))
        .unwrap();
    h
}

fn serve(home: &Path) -> ServerHandle {
    server::serve(ServeConfig {
        home: home.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_http: false,
        sync_every: None,
        limits: Limits::default(),
        keys: None,
        extra: None,
    })
    .expect("serve")
}

/// CPU seconds of this process so far (user + system, every thread).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit_once(") ").expect("stat").1.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn setup(dir: &Path, n: usize) {
    let zh = demo_key("ziekenhuis");
    let vz = demo_key("verzekeraar");
    let a = home(dir, "a", "ziekenhuis");
    let b = home(dir, "b", "verzekeraar");
    let t = Instant::now();
    let size;
    {
        let mut l = Ledger::init(&a.join("ledgers").join(LEDGER), LEDGER, &vereffen::rules::ALL).expect("init");
        l.append(&[
            entry(
                "ziekenhuis",
                &zh,
                registry::KIND_REGISTER,
                registry::register_payload("Ziekenhuis", Role::Provider, &zh.verifying_key()),
            ),
            entry(
                "verzekeraar",
                &vz,
                registry::KIND_REGISTER,
                registry::register_payload("Verzekeraar", Role::Payer, &vz.verifying_key()),
            ),
        ])
        .expect("register");
        let mut done = 0;
        while done < n {
            let k = (n - done).min(50_000);
            l.append(&notes(&zh, "", done, k)).expect("append");
            done += k;
            eprintln!("setup: {done} entries");
        }
        size = l.len();
    }
    println!("setup_secs={:.1}", t.elapsed().as_secs_f64());
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(a.join("ledgers").join(LEDGER))
        .arg(b.join("ledgers").join(LEDGER))
        .status()
        .expect("cp");
    assert!(st.success());
    let hb = Home::open(&b).unwrap();
    let fp = KeyId::of(&zh.verifying_key()).fingerprint();
    // The URL is set for each run (the node listens on a free port).
    hb.add_peer("hospital", "http://127.0.0.1:1", "ziekenhuis", &fp, None, false).unwrap();
    hb.set_sync_state("hospital", LEDGER, &SyncState { pulled: size, pushed: size, stopped: None }).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.iter().position(|a| a == "--dir").map(|i| PathBuf::from(&args[i + 1])).expect("--dir D");
    let mode = args.iter().position(|a| a == "--mode").map(|i| args[i + 1].clone()).unwrap_or("both".into());
    let n = arg("--entries", 300_000);
    let rounds = arg("--rounds", 10);
    if !dir.join("b").exists() {
        std::fs::create_dir_all(&dir).unwrap();
        setup(&dir, n);
    }
    let (a, b) = (dir.join("a"), dir.join("b"));
    let zh = demo_key("ziekenhuis");
    let node = serve(&a);
    {
        // `peer remove` would forget the sync positions: only the URL changes.
        let path = b.join("peers.json");
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        v["peers"][0]["url"] = serde_json::Value::String(node.url());
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    }
    // A tag that differs per run, so that the notes of two runs differ.
    let tag = format!("{}-", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let mut next = 0;
    let new_entries = |next: &mut usize| {
        let fresh = notes(&zh, &tag, *next, 10);
        *next += 10;
        node.store().with_ledger(LEDGER, |l| l.append(&fresh).expect("append")).expect("ledger");
    };
    let check = |l: &client::LedgerSync| {
        assert!(l.error.is_none(), "sync: {:?}", l.error);
        assert_eq!(l.digest, l.peer_digest, "{l:?}");
    };
    // Settle witnessing first (both sides witness each other once).
    for _ in 0..2 {
        let r = client::sync(&b, Some("hospital"), Some(LEDGER)).expect("sync");
        check(&r[0].ledgers[0]);
    }
    let report = |name: &str, ms: &mut Vec<f64>, cpu: f64| {
        let all: Vec<String> = ms.iter().map(|m| format!("{m:.1}")).collect();
        ms.sort_by(f64::total_cmp);
        println!("{name}_ms_best={:.1}", ms[0]);
        println!("{name}_ms_median={:.1}", ms[ms.len() / 2]);
        println!("{name}_ms_all={}", all.join(","));
        println!("{name}_cpu_ms_mean={:.1}", cpu * 1000.0 / ms.len() as f64);
    };
    if mode == "both" || mode == "new" {
        let (mut ms, mut cpu) = (Vec::new(), 0.0);
        for _ in 0..rounds {
            new_entries(&mut next);
            let c = cpu_secs();
            let t = Instant::now();
            let r = client::sync(&b, Some("hospital"), Some(LEDGER)).expect("sync");
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu += cpu_secs() - c;
            assert_eq!(r[0].ledgers[0].pulled, 10, "{:?}", r[0].ledgers[0]);
            check(&r[0].ledgers[0]);
        }
        report("new_store", &mut ms, cpu);
    }
    if mode == "both" || mode == "held" {
        let keys = Home::open(&b).unwrap().signing_keys().unwrap();
        let store = Arc::new(Store::open_lazy(Home::open(&b).unwrap(), keys));
        let peer = Home::open(&b).unwrap().peer("hospital").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let round = |store: &Arc<Store>| {
            let r = rt.block_on(client::sync_with(store, &peer, Some(LEDGER))).expect("sync");
            r.ledgers.into_iter().next().expect("one ledger")
        };
        check(&round(&store));
        let (mut ms, mut cpu) = (Vec::new(), 0.0);
        for _ in 0..rounds {
            new_entries(&mut next);
            let c = cpu_secs();
            let t = Instant::now();
            let l = round(&store);
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu += cpu_secs() - c;
            assert_eq!(l.pulled, 10, "{l:?}");
            check(&l);
        }
        store.close_all();
        report("node_held", &mut ms, cpu);
    }
    if mode == "cli" {
        let exe = args
            .iter()
            .position(|a| a == "--vereffen")
            .map(|i| PathBuf::from(&args[i + 1]))
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/vereffen"));
        let run = |next: &mut usize| {
            new_entries(next);
            let t = Instant::now();
            let out = std::process::Command::new(&exe)
                .args(["sync", "--home", b.to_str().unwrap(), "--peer", "hospital", "--ledger-id", LEDGER])
                .output()
                .expect("run vereffen sync");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("pulled 10 new"),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            (ms, String::from_utf8_lossy(&out.stderr).contains("synced by the node"))
        };
        let mut ms = Vec::new();
        for _ in 0..rounds {
            let (m, by_node) = run(&mut next);
            assert!(!by_node);
            ms.push(m);
        }
        report("cli_no_node", &mut ms, 0.0);
        let node_b = serve(&b);
        let mut ms = Vec::new();
        for _ in 0..rounds {
            let (m, by_node) = run(&mut next);
            // The first `vereffen sync` of a home whose node runs may precede
            // the node's socket; every later one must use it.
            assert!(by_node || ms.is_empty(), "the node did not take the sync");
            ms.push(m);
        }
        node_b.shutdown();
        report("cli_node_running", &mut ms, 0.0);
    }
    node.shutdown();
}
