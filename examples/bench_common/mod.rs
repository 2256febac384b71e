//! What the benchmark examples share: argument parsing and the bodies of
//! the synthetic entries they sign (all by one `ziekenhuis` key, ledger
//! `bench`, a fixed claimed time).

pub mod hf_home;

use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use vereffen::ledger::keys::KeyId;
use vereffen::ledger::registry;
use vereffen::ledger::Ledger;

/// The value of `--name N` (underscores allowed: `1_000_000`), or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name} needs a number")))
        .unwrap_or(default)
}

/// A body of `kind` in ledger `bench`, authored by `ziekenhuis` with `key`.
pub fn body(kind: &str, key: &ed25519_dalek::SigningKey, payload: serde_json::Value) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: "bench".into(),
        kind: kind.into(),
        author: Author { party: "ziekenhuis".into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2026-11-22T12:00:00Z".into(),
        refs: vec![],
        payload,
    }
}

/// A new ledger `bench` in `path` with party `ziekenhuis` registered under a
/// fresh key; returns the ledger and the key.
pub fn registered_ledger(path: &std::path::Path) -> (Ledger, ed25519_dalek::SigningKey) {
    let key = vereffen::ledger::keys::generate();
    let mut ledger = Ledger::init(path, "bench", &vereffen::rules::ALL).expect("init");
    let reg = Entry::sign(
        body(
            registry::KIND_REGISTER,
            &key,
            registry::register_payload("Ziekenhuis", registry::Role::Provider, &key.verifying_key()),
        ),
        &[&key],
    )
    .expect("sign");
    ledger.append(&[reg]).expect("register");
    (ledger, key)
}

/// The repository's demo key of `party` (`keys/demo-PARTY.key`).
pub fn demo_key(party: &str) -> ed25519_dalek::SigningKey {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys").join(format!("demo-{party}.key"));
    vereffen::ledger::keys::load_signing_key(&p).expect("demo key")
}

/// An entry of `kind` in `ledger` by `party` with `key`, at a fixed claimed
/// time.
pub fn signed(
    ledger: &str,
    party: &str,
    key: &ed25519_dalek::SigningKey,
    kind: &str,
    refs: Vec<String>,
    payload: serde_json::Value,
) -> Entry {
    let body = Body {
        v: FORMAT_VERSION,
        ledger: ledger.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2026-11-22T12:00:00Z".into(),
        refs,
        payload,
    };
    Entry::sign(body, &[key]).expect("sign")
}

/// Notes `from..from + n` of `ziekenhuis` in `ledger`, signed on every core;
/// `tag` makes the texts (and so the ids) of different runs differ.
pub fn measurement_notes(ledger: &str, zh: &ed25519_dalek::SigningKey, tag: &str, from: usize, n: usize) -> Vec<Entry> {
    use rayon::prelude::*;
    (from..from + n)
        .into_par_iter()
        .map(|i| {
            let text = format!("measurement note {tag}{i}: bed-days 1.63 per patient, admissions 0.94 per patient");
            signed(
                ledger,
                "ziekenhuis",
                zh,
                vereffen::domain::note::KIND_NOTE,
                vec![],
                vereffen::domain::note::payload(&text, Some("copd-achterhoek")),
            )
        })
        .collect()
}

/// A node home `root/name` holding the demo key of `party` (mode 0600).
pub fn node_home(root: &std::path::Path, name: &str, party: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let h = root.join(name);
    std::fs::create_dir_all(h.join("keys")).unwrap();
    std::fs::create_dir_all(h.join("ledgers")).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys").join(format!("demo-{party}.key"));
    let key = h.join("keys").join(format!("{party}.key"));
    std::fs::copy(src, &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    h
}

/// A node serving `home` over plain HTTP on a free loopback port.
pub fn serve_loopback(home: &std::path::Path) -> vereffen::node::server::ServerHandle {
    use vereffen::node::server::{self, Limits, ServeConfig};
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
pub fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit_once(") ").expect("stat").1.split(' ').collect();
    // Fields 14 and 15 of the file (utime, stime) in clock ticks of 10 ms.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The registrations of `ziekenhuis` (provider) and `verzekeraar` (payer)
/// in `ledger`, each signed by its own key.
pub fn registrations(ledger: &str, zh: &ed25519_dalek::SigningKey, vz: &ed25519_dalek::SigningKey) -> Vec<Entry> {
    vec![
        signed(
            ledger,
            "ziekenhuis",
            zh,
            registry::KIND_REGISTER,
            vec![],
            registry::register_payload("Ziekenhuis", registry::Role::Provider, &zh.verifying_key()),
        ),
        signed(
            ledger,
            "verzekeraar",
            vz,
            registry::KIND_REGISTER,
            vec![],
            registry::register_payload("Verzekeraar", registry::Role::Payer, &vz.verifying_key()),
        ),
    ]
}
