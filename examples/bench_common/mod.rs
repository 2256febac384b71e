//! What the benchmark examples share: argument parsing and the bodies of
//! the synthetic entries they sign (all by one `ziekenhuis` key, ledger
//! `bench`, a fixed claimed time).

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
