//! Security of the party node beyond request signing (which `tests/node.rs`
//! covers: unsigned, expired, replayed, wrong-ledger and revoked-key
//! requests, and foreign == nonexistent): no private key ever leaves a
//! node. Every byte both nodes send in a full two-way sync (pull, push,
//! witness, cosignature) is captured by a proxy and scanned for the key
//! material of every key either home holds.

mod node_support;

use node_support::*;
use vereffen::node::client;

const LEDGER: &str = "shared-1";

/// Every encoding of a private key we look for in the traffic.
fn needles(key_file: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let key = vereffen::ledger::keys::load_signing_key(key_file).unwrap();
    let seed = key.to_bytes();
    let keypair = key.to_keypair_bytes();
    let pem = std::fs::read(key_file).unwrap();
    let mut out = vec![
        ("raw seed".to_string(), seed.to_vec()),
        ("raw keypair".to_string(), keypair.to_vec()),
        ("PEM file".to_string(), pem.clone()),
    ];
    for (name, enc) in [
        ("hex", &data_encoding::HEXLOWER),
        ("HEX", &data_encoding::HEXUPPER),
        ("base64", &data_encoding::BASE64),
        ("base64 (no pad)", &data_encoding::BASE64_NOPAD),
        ("base64url", &data_encoding::BASE64URL),
        ("base64url (no pad)", &data_encoding::BASE64URL_NOPAD),
    ] {
        let s = enc.encode(&seed);
        // A prefix long enough to be the key and not chance (24 characters).
        out.push((format!("seed as {name}"), s.as_bytes()[..24].to_vec()));
    }
    // The base64 body of the PEM file (its longest line).
    let text = String::from_utf8(pem).unwrap();
    if let Some(line) = text.lines().filter(|l| !l.starts_with("-----")).max_by_key(|l| l.len()) {
        out.push(("PEM body line".into(), line.as_bytes().to_vec()));
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_private_key_leaves_a_node_in_a_full_two_way_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let a = home(root, "a", &["ziekenhuis"]);
    shared_ledger(&a, LEDGER, 40);
    let b = home(root, "b", &["verzekeraar"]);
    let node = serve(&a);
    let proxy = Proxy::start(node.addr(), Mode::Rewrite(Box::new(|_, _, _| None)));
    add_peer(&b, "hospital", &proxy.url(), "ziekenhuis");

    // First sync: B creates its copy; then B writes, and syncs again (push,
    // witness with a consistency proof, cosignature).
    let r = client::sync(&b, Some("hospital"), None).unwrap();
    assert!(r[0].ok(), "{:?}", r[0]);
    {
        let mut l = vereffen::ledger::Ledger::open(&b.join("ledgers").join(LEDGER), &vereffen::rules::ALL).unwrap();
        l.append(&[note(LEDGER, "verzekeraar", "the insurer's remark")]).unwrap();
    }
    node.store()
        .with_ledger(LEDGER, |l| l.append(&[note(LEDGER, "ziekenhuis", "the hospital's remark")]).unwrap())
        .unwrap();
    let r = client::sync(&b, Some("hospital"), None).unwrap();
    assert!(r[0].ok(), "{:?}", r[0]);
    assert!(r[0].ledgers[0].pushed >= 1 && r[0].ledgers[0].pulled >= 1, "{:?}", r[0]);
    let responses = proxy.responses.lock().unwrap().clone();
    let requests = proxy.requests.lock().unwrap().clone();
    drop(proxy);
    assert!(responses.len() >= 8, "a full sync is several requests: {}", responses.len());
    let kinds: Vec<String> = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r[..r.len().min(60)]).lines().next().unwrap_or("").to_string())
        .collect();
    for needed in ["GET /v1/ledgers ", "/entries?", "POST /v1/ledgers/shared-1/entries", "/checkpoint", "/digest"] {
        assert!(kinds.iter().any(|k| k.contains(needed)), "no {needed} in the sync: {kinds:?}");
    }

    let mut keys = Vec::new();
    for h in [&a, &b] {
        for f in std::fs::read_dir(h.join("keys")).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "key") {
                keys.push(p);
            }
        }
    }
    assert_eq!(keys.len(), 2);
    for (dir, list) in [("answered by the node", &responses), ("sent by the syncing node", &requests)] {
        for (i, bytes) in list.iter().enumerate() {
            for marker in [&b"PRIVATE KEY"[..], b"BEGIN ENCRYPTED", b"-----BEGIN"] {
                assert!(!contains(bytes, marker), "message {i} {dir} holds a PEM marker");
            }
            for k in &keys {
                for (what, needle) in needles(k) {
                    assert!(!contains(bytes, &needle), "message {i} {dir} holds the {what} of {}", k.display());
                }
            }
        }
    }
    // The scan can fail: the public keys (which do travel) are found the same way.
    let public = vereffen::ledger::keys::load_signing_key(&keys[0]).unwrap().verifying_key();
    let hex = data_encoding::HEXLOWER.encode(public.as_bytes());
    let all: Vec<u8> = responses.concat();
    assert!(
        contains(&all, hex.as_bytes())
            || contains(&all, &data_encoding::BASE64.encode(public.as_bytes()).as_bytes()[..24])
    );
}
