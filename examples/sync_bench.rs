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
//!    again (pull 10, push 0, witness): the round trip (goal < 50 ms).
//! 3. Many ledgers: a node hosting `--ledgers` ledgers answers
//!    `GET /v1/ledgers` signed by a party of all of them (first and warm;
//!    goal < 200 ms). The `inbox` command is not on this branch yet, so the
//!    ledger listing stands in for the inbox query.
//!
//! Prints one `name=value` line per figure.

use std::io::{Read, Write};
use std::net::TcpStream;
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
use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::{bundle, Ledger};
use vereffen::node::client;
use vereffen::node::home::Home;
use vereffen::node::httpsig::{self, RequestParts};
use vereffen::node::server::{self, Limits, ServeConfig, ServerHandle};

const LEDGER: &str = "bench-sync";

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

/// One signed GET on a fresh connection; (status, body bytes, seconds).
fn signed_get(node: &ServerHandle, path: &str, party: &str, key: &SigningKey) -> (u16, usize, f64) {
    let addr = node.addr();
    let authority = addr.to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let nonce = format!("{:032x}", rand_core::RngCore::next_u64(&mut rand_core::OsRng));
    let parts = RequestParts { method: "GET", authority: &authority, path_and_query: path, body: b"" };
    let key_id = vereffen::audit::key_name(party, &key.verifying_key());
    let t = Instant::now();
    let h = httpsig::sign_request(&parts, &key_id, key, now, now + 60, &nonce);
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nSignature-Input: {}\r\nSignature: {}\r\nContent-Digest: {}\r\nContent-Length: 0\r\n\r\n",
        h.signature_input, h.signature, h.content_digest
    );
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    c.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    c.take(256 << 20).read_to_end(&mut out).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let status = std::str::from_utf8(&out[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, out.len(), secs)
}

fn main() {
    let n = arg("--entries", 1_000_000);
    let n_ledgers = arg("--ledgers", 2000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    let zh = demo_key("ziekenhuis");
    let vz = demo_key("verzekeraar");

    // The source node's ledger.
    let a = home(root, "a", "ziekenhuis");
    let t = Instant::now();
    {
        let mut l = Ledger::init(&a.join("ledgers").join(LEDGER), LEDGER, &vereffen::rules::ALL).expect("init");
        l.append(&registrations(LEDGER, &zh, &vz)).expect("register");
        let mut done = 0;
        while done < n {
            let k = (n - done).min(50_000);
            l.append(&notes(&zh, done, k)).expect("append");
            done += k;
        }
    }
    println!("setup_secs={:.1}", t.elapsed().as_secs_f64());
    let size = n as u64 + 2;

    // Local import of the same bundle (the reference).
    let bundle_path = root.join("all.bundle");
    {
        let l = Ledger::open(&a.join("ledgers").join(LEDGER), &vereffen::rules::ALL).expect("open");
        bundle::export(&l, &bundle_path, 0).expect("export");
    }
    let t = Instant::now();
    {
        let mut l = Ledger::init(&root.join("imported"), LEDGER, &vereffen::rules::ALL).expect("init");
        let rep = bundle::import(&mut l, &bundle_path).expect("import");
        assert_eq!(rep.added as u64, size);
    }
    let import_s = t.elapsed().as_secs_f64();
    let import_eps = size as f64 / import_s;
    println!("import_entries={size}");
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
    for round in 0..5 {
        let fresh = notes(&zh, n + round * 10, 10);
        node.store().with_ledger(LEDGER, |l| l.append(&fresh).expect("append")).expect("ledger");
        let t = Instant::now();
        let l = sync(&b);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(l.pulled, 10, "{l:?}");
        assert_eq!(l.digest, l.peer_digest);
        best = best.min(ms);
        all.push(format!("{ms:.1}"));
    }
    println!("incremental_sync_10_ms_best={best:.1}");
    println!("incremental_sync_10_ms_all={}", all.join(","));
    node.shutdown();

    // A node hosting many ledgers: GET /v1/ledgers (the inbox stand-in).
    let c = home(root, "c", "ziekenhuis");
    let t = Instant::now();
    for i in 0..n_ledgers {
        let id = format!("rel-{i:05}");
        let mut l = Ledger::init(&c.join("ledgers").join(&id), &id, &vereffen::rules::ALL).expect("init");
        l.append(&registrations(&id, &zh, &vz)).expect("register");
    }
    println!("ledgers_setup_secs={:.1}", t.elapsed().as_secs_f64());
    let node = serve(&c);
    let (st, bytes, first) = signed_get(&node, "/v1/ledgers", "verzekeraar", &vz);
    assert_eq!(st, 200, "GET /v1/ledgers");
    let mut warm = Vec::new();
    for _ in 0..5 {
        let (st, _, s) = signed_get(&node, "/v1/ledgers", "verzekeraar", &vz);
        assert_eq!(st, 200);
        warm.push(s * 1000.0);
    }
    warm.sort_by(f64::total_cmp);
    println!("ledgers_hosted={n_ledgers}");
    println!("list_ledgers_response_bytes={bytes}");
    println!("list_ledgers_first_ms={:.1}", first * 1000.0);
    println!("list_ledgers_warm_median_ms={:.1}", warm[warm.len() / 2]);
    node.shutdown();
}
