//! A node keeps its inbox cache current (issue 14, "Performance": the
//! morning's inbox of a node with thousands of ledgers answers from the
//! cache): `vereffen sync` refreshes the cache of the copies it synced, a
//! serving node refreshes the copies its peers and its own syncs append
//! to, and a damaged cache is recomputed by the query, never a refusal.
//!
//! The node listens on 127.0.0.1 port 0 and is stopped by its handle;
//! every wait is bounded.

mod common;
mod node_support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::ok;
use node_support::{add_peer, home, repo, serve, shared_ledger};
use serde_json::Value;

const HF: &str = "heart-failure-telemonitoring-2026";
const HF_FILE: &str = "contracts/heart-failure-telemonitoring-p4p.toml";
const LEDGER: &str = "rel-1";

/// Longest wait for a serving node's refresh (it waits for a quiet copy first).
const REFRESH_WAIT: Duration = Duration::from_secs(30);

fn cache_file(home: &Path) -> PathBuf {
    home.join("cache/inbox").join(format!("{LEDGER}.json"))
}

/// The head line the cache file of LEDGER names, if it parses.
fn cache_head(home: &Path) -> Option<String> {
    let bytes = std::fs::read(cache_file(home)).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v["head"].as_str().map(str::to_string)
}

/// The copy's head line as the inbox cache names it.
fn head_line(home: &Path) -> String {
    vereffen::ledger::head::read(&home.join("ledgers").join(LEDGER)).unwrap().expect("a head").to_line()
}

/// `vereffen --json inbox --home HOME`: the items.
fn inbox(d: &Path, home: &Path) -> Vec<Value> {
    let out = ok(d, &["--json", "inbox", "--home", home.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| format!("{} {}", i["ledger"].as_str().unwrap(), i["kind"].as_str().unwrap())).collect()
}

#[test]
fn sync_and_serve_keep_the_inbox_cache_current_and_a_damaged_cache_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let a = home(d, "a", &["ziekenhuis"]);
    let b = home(d, "b", &["verzekeraar"]);
    shared_ledger(&a, LEDGER, 0);
    let hf = repo().join(HF_FILE).display().to_string();
    let a_copy = a.join("ledgers").join(LEDGER).display().to_string();
    let a_key = a.join("keys/ziekenhuis.key").display().to_string();
    ok(d, &["--ledger", &a_copy, "contract", "propose", &hf, "--as", &a_key]);

    let node = serve(&a);
    add_peer(&b, "hospital", &node.url(), "ziekenhuis");
    let b_home = b.to_str().unwrap();

    // 1. A sync that brings a new proposal leaves the cache at the copy's
    //    head before any inbox query; the query then reads it (the file is
    //    not rewritten: same inode) and shows the proposal.
    ok(d, &["sync", "--home", b_home]);
    assert_eq!(cache_head(&b), Some(head_line(&b)), "after `vereffen sync` the inbox cache names the synced head");
    let inode = std::fs::metadata(cache_file(&b)).unwrap().ino();
    let items = inbox(d, &b);
    assert_eq!(kinds(&items), [format!("{LEDGER} sign_version")], "{items:#?}");
    assert_eq!(std::fs::metadata(cache_file(&b)).unwrap().ino(), inode, "the query answered from the cache");

    // 2. The insurer signs; its sync pushes the acceptance to the hospital's
    //    node, which refreshes its own cache once the copy is quiet.
    let check: Value = serde_json::from_str(&ok(d, &["contract", "check", &hf, "--json"])).unwrap();
    let version = check[0]["version"].as_str().unwrap().to_string();
    let b_copy = b.join("ledgers").join(LEDGER).display().to_string();
    let b_key = b.join("keys/verzekeraar.key").display().to_string();
    ok(d, &["--ledger", &b_copy, "contract", "accept", HF, "--version", &version, "--as", &b_key]);
    ok(d, &["sync", "--home", b_home]);
    assert!(inbox(d, &b).is_empty(), "the insurer signed: nothing awaits it");
    let deadline = Instant::now() + REFRESH_WAIT;
    while cache_head(&a) != Some(head_line(&a)) {
        assert!(
            Instant::now() < deadline,
            "the serving node did not refresh its inbox cache within {REFRESH_WAIT:?} of a peer's push"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // What the node cached is what a query without any cache computes.
    let cached = inbox(d, &a);
    std::fs::remove_dir_all(a.join("cache")).unwrap();
    assert_eq!(inbox(d, &a), cached, "the node's cache holds the copy's items as they are now");

    // 3. A damaged cache file is recomputed (and rewritten), never a refusal.
    let before = inbox(d, &b);
    std::fs::write(cache_file(&b), b"{\"v\": 1, garbage").unwrap();
    assert_eq!(inbox(d, &b), before);
    assert_eq!(cache_head(&b), Some(head_line(&b)), "the damaged cache file was rewritten");
    std::fs::write(cache_file(&b), b"{\"v\": 1, garbage").unwrap();
    ok(d, &["sync", "--home", b_home]);
    assert_eq!(cache_head(&b), Some(head_line(&b)), "sync rewrote the damaged cache file");
    node.shutdown();
}
