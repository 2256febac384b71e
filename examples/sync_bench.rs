//! Party node sync benchmark (issue 14).
//!
//! ```text
//! cargo run --release --example sync_bench -- [--entries 1000000] [--ledgers 2000]
//! ```
//!
//! 1. Catch-up: a node on 127.0.0.1 serves a ledger of `--entries` notes;
//!    a fresh home syncs it whole (`node::client::sync`). The same ledger's
//!    bundle is imported locally (`ledger::bundle::import`) in the same run;
//!    the figure that matters is the ratio catch-up / import (goal >= 0.8).
//! 2. Incremental: the node appends 10 notes; the up-to-date home syncs
//!    again (pull 10, push 0, witness): the round trip (goal < 50 ms), best
//!    of 5, as `vereffen sync` does it (a new store that opens the copy),
//!    with the CPU time of both sides (client and node run in this
//!    process) and what opening the copy alone costs; then the same
//!    rounds by a node that holds its copy open between syncs
//!    (`node_held`: `serve --sync-every` while the copy is in use).
//! 3. Many ledgers: a node hosting `--ledgers` ledgers; the inbox of its
//!    home as `vereffen inbox --home` answers it (`audit::inbox::home_inbox`
//!    with the home's keys and its cache `HOME/cache/inbox`): first (no
//!    cache yet: every copy computed on every core, the cache written),
//!    warm (best and median of 5), and after the node appended to 1% of
//!    its copies and refreshed their cache itself (`Store::keep_inbox_current`);
//!    also the first query of a new process with the cache, as the command
//!    runs (`--inbox-query HOME` runs only that).
//!
//! The source ledger's entries are signed on every core into a bundle that
//! the source copy imports (`bundle::import`, the product's bulk path), so
//! `--entries 1000000` costs about one more import. `--keep-bundle PATH`
//! keeps a copy of the exported bundle (for `vereffen import` under
//! `/usr/bin/time -v`); with `--bundle-only` the bench stops there.
//!
//! Prints one `name=value` line per figure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "bench_common/mod.rs"]
#[allow(dead_code)]
mod bench_common;
use bench_common::arg;

// The same allocator as the `vereffen` binary, so the figures are the product's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use vereffen::audit::inbox;
use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::{bundle, Ledger};
use vereffen::node::client;
use vereffen::node::home::Home;
use vereffen::node::server::{self, Limits, ServeConfig, ServerHandle};
use vereffen::node::store::Store;

const LEDGER: &str = "bench-sync";
/// Entries of the source ledger signed at a time (on every core) before
/// they are written to the setup's bundle.
const SETUP_SIGN_BATCH: usize = 50_000;

/// `--keep-bundle PATH`: where to keep a copy of the exported bundle (for
/// timing `vereffen import` on it afterwards).
fn keep_bundle() -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == "--keep-bundle").and_then(|i| args.get(i + 1)).map(PathBuf::from)
}

/// `bundle::import_with` with each batch's time on stderr (the trend shows
/// whether a batch costs more as the copy grows).
fn import_logged(l: &mut Ledger, path: &Path, what: &str) -> bundle::ImportReport {
    let mut last = Instant::now();
    let mut progress = |b: &bundle::BatchDone| {
        if b.batch.is_multiple_of(10) || b.batch == b.batches {
            eprintln!(
                "{what}: batch {} of {} appended ({} entries), {:.2} s since the last report",
                b.batch,
                b.batches,
                b.added,
                last.elapsed().as_secs_f64()
            );
            last = Instant::now();
        }
        std::ops::ControlFlow::Continue(())
    };
    bundle::import_with(l, path, &bundle::ImportOptions::default(), &mut progress).expect("import")
}

fn demo_key(name: &str) -> SigningKey {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys").join(format!("demo-{name}.key"));
    keys::load_signing_key(&p).expect("demo key")
}

fn entry(ledger: &str, party: &str, key: &SigningKey, kind: &str, payload: serde_json::Value) -> Entry {
    let body = Body {
        v: FORMAT_VERSION,
        ledger: ledger.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2026-11-22T12:00:00Z".into(),
        refs: vec![],
        payload,
    };
    Entry::sign(body, &[key]).expect("sign")
}

fn registrations(ledger: &str, zh: &SigningKey, vz: &SigningKey) -> Vec<Entry> {
    vec![
        entry(
            ledger,
            "ziekenhuis",
            zh,
            registry::KIND_REGISTER,
            registry::register_payload("Ziekenhuis", Role::Provider, &zh.verifying_key()),
        ),
        entry(
            ledger,
            "verzekeraar",
            vz,
            registry::KIND_REGISTER,
            registry::register_payload("Verzekeraar", Role::Payer, &vz.verifying_key()),
        ),
    ]
}

fn notes(zh: &SigningKey, from: usize, n: usize) -> Vec<Entry> {
    (from..from + n)
        .into_par_iter()
        .map(|i| {
            let text = format!("measurement note {i}: bed-days 1.63 per patient, admissions 0.94 per patient");
            entry(
                LEDGER,
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

fn add_peer(home: &Path, url: &str) {
    let fp = KeyId::of(&demo_key("ziekenhuis").verifying_key()).fingerprint();
    Home::open(home).unwrap().add_peer("hospital", url, "ziekenhuis", &fp, None, false).unwrap();
}

fn sync(home: &Path) -> client::LedgerSync {
    let r = client::sync(home, Some("hospital"), Some(LEDGER)).expect("sync");
    let l = r.into_iter().flat_map(|r| r.ledgers).next().expect("one ledger");
    assert!(l.error.is_none(), "sync: {:?}", l.error);
    l
}

/// CPU seconds of this process so far (user + system, every thread).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit_once(") ").expect("stat").1.split(' ').collect();
    // Fields 14 and 15 of the file (utime, stime) in clock ticks of 10 ms.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The inbox of `home` as `vereffen inbox --home` answers it: (items, seconds).
fn home_inbox(home: &Path) -> (usize, f64) {
    let t = Instant::now();
    let keys = inbox::home_keys(home).expect("home keys");
    let items = inbox::home_inbox(home, &keys).expect("inbox");
    (items.len(), t.elapsed().as_secs_f64())
}

/// The first inbox query of a new process (this program with `--inbox-query`).
fn home_inbox_new_process(home: &Path) -> f64 {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--inbox-query", home.to_str().unwrap()])
        .output()
        .expect("run the query");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().strip_prefix("inbox_ms=").and_then(|v| v.parse().ok()).expect("inbox_ms=")
}

/// The head line the inbox cache of ledger `id` names, if any.
fn cache_head(home: &Path, id: &str) -> Option<String> {
    let bytes = std::fs::read(home.join(inbox::HOME_CACHE_DIR).join(format!("{id}.json"))).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v["head"].as_str().map(str::to_string)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--inbox-query") {
        let (_, secs) = home_inbox(Path::new(&args[i + 1]));
        println!("inbox_ms={:.1}", secs * 1000.0);
        return;
    }
    let n = arg("--entries", 1_000_000);
    let n_ledgers = arg("--ledgers", 2000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    let zh = demo_key("ziekenhuis");
    let vz = demo_key("verzekeraar");

    // The source node's ledger: its entries are signed on every core and
    // written straight into a bundle file, which the source copy imports
    // through the product's bulk path (`bundle::import`: every entry
    // checked, appended in batches of `bundle::IMPORT_BATCH`).
    let a = home(root, "a", "ziekenhuis");
    let size = n as u64 + 2;
    let t = Instant::now();
    let generated = root.join("generated.bundle");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&generated).expect("bundle file"));
        let header = format!(
            "{{\"bundle\":\"vereffen\",\"entries\":{size},\"ledger\":\"{LEDGER}\",\"since\":1,\"version\":1}}\n"
        );
        w.write_all(header.as_bytes()).unwrap();
        let mut seq = 0u64;
        let mut line = |e: &Entry, w: &mut std::io::BufWriter<std::fs::File>| {
            seq += 1;
            w.write_all(&bundle::entry_line(seq, e).unwrap()).unwrap();
            w.write_all(b"\n").unwrap();
        };
        for e in registrations(LEDGER, &zh, &vz) {
            line(&e, &mut w);
        }
        let mut done = 0;
        while done < n {
            let k = (n - done).min(SETUP_SIGN_BATCH);
            for e in notes(&zh, done, k) {
                line(&e, &mut w);
            }
            done += k;
        }
        w.flush().unwrap();
    }
    println!("setup_sign_secs={:.1}", t.elapsed().as_secs_f64());
    {
        let mut l = Ledger::init(&a.join("ledgers").join(LEDGER), LEDGER, &vereffen::rules::ALL).expect("init");
        let rep = import_logged(&mut l, &generated, "setup");
        assert_eq!(rep.added as u64, size);
    }
    std::fs::remove_file(&generated).unwrap();
    println!("setup_secs={:.1}", t.elapsed().as_secs_f64());

    // Local import of the same bundle (the reference): `vereffen import`'s
    // path, in batches of `bundle::IMPORT_BATCH` above that size.
    let bundle_path = root.join("all.bundle");
    {
        let l = Ledger::open(&a.join("ledgers").join(LEDGER), &vereffen::rules::ALL).expect("open");
        bundle::export(&l, &bundle_path, 0).expect("export");
    }
    if let Some(keep) = keep_bundle() {
        std::fs::copy(&bundle_path, &keep).expect("--keep-bundle");
        println!("bundle_kept={}", keep.display());
        if std::env::args().any(|a| a == "--bundle-only") {
            return;
        }
    }
    let t = Instant::now();
    let batches = {
        let mut l = Ledger::init(&root.join("imported"), LEDGER, &vereffen::rules::ALL).expect("init");
        let rep = import_logged(&mut l, &bundle_path, "import");
        assert_eq!(rep.added as u64, size);
        rep.batches
    };
    let import_s = t.elapsed().as_secs_f64();
    let import_eps = size as f64 / import_s;
    println!("import_entries={size}");
    println!("import_batches={batches}");
    println!("import_secs={import_s:.2}");
    println!("import_entries_per_sec={import_eps:.0}");

    // Catch-up over loopback.
    let node = serve(&a);
    let b = home(root, "b", "verzekeraar");
    add_peer(&b, &node.url());
    let t = Instant::now();
    let l = sync(&b);
    let catchup_s = t.elapsed().as_secs_f64();
    assert_eq!(l.pulled as u64, size, "{l:?}");
    let catchup_eps = size as f64 / catchup_s;
    println!("catchup_entries={size}");
    println!("catchup_secs={catchup_s:.2}");
    println!("catchup_entries_per_sec={catchup_eps:.0}");
    println!("catchup_to_import_ratio={:.2}", catchup_eps / import_eps);

    // Incremental: settle witnessing, then 10 new entries, best of 5.
    sync(&b);
    sync(&b);
    let mut best = f64::MAX;
    let mut all = Vec::new();
    let mut cpu = 0.0;
    let mut next = n;
    for _ in 0..5 {
        let fresh = notes(&zh, next, 10);
        next += 10;
        node.store().with_ledger(LEDGER, |l| l.append(&fresh).expect("append")).expect("ledger");
        let c = cpu_secs();
        let t = Instant::now();
        let l = sync(&b);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        cpu += cpu_secs() - c;
        assert_eq!(l.pulled, 10, "{l:?}");
        assert_eq!(l.digest, l.peer_digest);
        best = best.min(ms);
        all.push(format!("{ms:.1}"));
    }
    println!("incremental_sync_10_ms_best={best:.1}");
    println!("incremental_sync_10_ms_all={}", all.join(","));
    println!("incremental_sync_10_cpu_ms_mean={:.1}", cpu * 1000.0 / 5.0);
    // What opening the up-to-date copy costs (each sync above opened it once).
    let mut opens = Vec::new();
    let c = cpu_secs();
    for _ in 0..5 {
        let t = Instant::now();
        let l = Ledger::open(&b.join("ledgers").join(LEDGER), &vereffen::rules::ALL).expect("open");
        opens.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(l);
    }
    opens.sort_by(f64::total_cmp);
    println!("open_copy_ms_best={:.1}", opens[0]);
    println!("open_and_close_copy_cpu_ms_mean={:.1}", (cpu_secs() - c) * 1000.0 / 5.0);

    // The same rounds by a node that holds its copy open between syncs.
    {
        let keys = Home::open(&b).unwrap().signing_keys().unwrap();
        let store = std::sync::Arc::new(Store::open_lazy(Home::open(&b).unwrap(), keys));
        let peer = Home::open(&b).unwrap().peer("hospital").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let round = |store: &std::sync::Arc<Store>| {
            let r = rt.block_on(client::sync_with(store, &peer, Some(LEDGER))).expect("sync");
            let l = r.ledgers.into_iter().next().expect("one ledger");
            assert!(l.error.is_none(), "sync: {:?}", l.error);
            l
        };
        round(&store);
        let mut best = f64::MAX;
        let mut all = Vec::new();
        let mut cpu = 0.0;
        for _ in 0..5 {
            let fresh = notes(&zh, next, 10);
            next += 10;
            node.store().with_ledger(LEDGER, |l| l.append(&fresh).expect("append")).expect("ledger");
            let c = cpu_secs();
            let t = Instant::now();
            let l = round(&store);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            cpu += cpu_secs() - c;
            assert_eq!(l.pulled, 10, "{l:?}");
            assert_eq!(l.digest, l.peer_digest);
            best = best.min(ms);
            all.push(format!("{ms:.1}"));
        }
        store.close_all();
        println!("incremental_sync_10_node_held_ms_best={best:.1}");
        println!("incremental_sync_10_node_held_ms_all={}", all.join(","));
        println!("incremental_sync_10_node_held_cpu_ms_mean={:.1}", cpu * 1000.0 / 5.0);
    }
    node.shutdown();

    // A node hosting many ledgers: the inbox of its home.
    let c = home(root, "c", "verzekeraar");
    let t = Instant::now();
    let ids: Vec<String> = (0..n_ledgers).map(|i| format!("rel-{i:05}")).collect();
    ids.par_iter().for_each(|id| {
        let mut l = Ledger::init(&c.join("ledgers").join(id), id, &vereffen::rules::ALL).expect("init");
        l.append(&registrations(id, &zh, &vz)).expect("register");
        let note = entry(
            id,
            "ziekenhuis",
            &zh,
            vereffen::domain::note::KIND_NOTE,
            vereffen::domain::note::payload("first note", None),
        );
        l.append(&[note]).expect("note");
    });
    println!("ledgers_setup_secs={:.1}", t.elapsed().as_secs_f64());
    let node = serve(&c);
    let (items, first) = home_inbox(&c);
    let mut warm = Vec::new();
    for _ in 0..5 {
        let (again, s) = home_inbox(&c);
        assert_eq!(again, items);
        warm.push(s * 1000.0);
    }
    warm.sort_by(f64::total_cmp);
    println!("ledgers_hosted={n_ledgers}");
    println!("inbox_items={items}");
    println!("inbox_first_ms={:.1}", first * 1000.0);
    println!("inbox_warm_ms_best={:.1}", warm[0]);
    println!("inbox_warm_ms_median={:.1}", warm[warm.len() / 2]);
    println!("inbox_new_process_cached_ms={:.1}", home_inbox_new_process(&c));
    // The node appends to 1% of its copies and refreshes their cache itself.
    let changed: Vec<&String> = ids.iter().step_by(100).collect();
    for id in &changed {
        let note = entry(
            id,
            "ziekenhuis",
            &zh,
            vereffen::domain::note::KIND_NOTE,
            vereffen::domain::note::payload("second note", None),
        );
        node.store().with_ledger(id, |l| l.append(&[note]).expect("append")).expect("ledger");
    }
    let t = Instant::now();
    let deadline = t + Duration::from_secs(60);
    for id in &changed {
        let dir = c.join("ledgers").join(id.as_str());
        let line = vereffen::ledger::head::read(&dir).unwrap().unwrap().to_line();
        while cache_head(&c, id).as_deref() != Some(line.as_str()) {
            assert!(Instant::now() < deadline, "the node did not refresh the inbox cache of {id}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    println!("inbox_cache_refreshed_by_node_after_secs={:.1}", t.elapsed().as_secs_f64());
    let (again, after) = home_inbox(&c);
    assert_eq!(again, items);
    println!("inbox_after_node_appended_to_{}_ledgers_ms={:.1}", changed.len(), after * 1000.0);
    // Without the cache: every copy read and computed on every core.
    std::fs::remove_dir_all(c.join(inbox::HOME_CACHE_DIR)).unwrap();
    let (again, cold) = home_inbox(&c);
    assert_eq!(again, items);
    println!("inbox_no_cache_ms={:.1}", cold * 1000.0);
    node.shutdown();
}
