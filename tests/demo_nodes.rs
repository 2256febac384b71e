//! `vereffen demo` shows the real way (issue 14): it starts the hospital's
//! and the insurer's nodes on loopback, the contract's whole life moves
//! between the two copies by sync (no bundle file between the parties),
//! and the nodes are stopped when the demo ends: their ports are closed.

mod common;

use common::*;

/// The `http://127.0.0.1:PORT` addresses the demo says its nodes listen on.
fn node_addresses(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split("node listening on http://").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_demo_runs_the_contract_life_between_two_nodes_by_sync_and_stops_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = ok(d, &["demo", "--dir", "demo"]);
    // Two nodes, on loopback only.
    let addrs = node_addresses(&out);
    assert_eq!(addrs.len(), 2, "{out}");
    for a in &addrs {
        let addr: std::net::SocketAddr = a.parse().unwrap_or_else(|e| panic!("{a}: {e}\n{out}"));
        assert!(addr.ip().is_loopback(), "{a}");
    }
    // Every step of the life moves by sync, in both directions.
    let syncs: Vec<&str> = out.lines().filter(|l| l.trim_start().starts_with("sync: the ")).collect();
    assert!(syncs.len() >= 10, "{out}");
    assert!(
        syncs.iter().any(|l| l.contains("the verzekeraar node with the ziekenhuis node: created its copy")),
        "{out}"
    );
    assert!(syncs.iter().any(|l| l.contains("the ziekenhuis node with the verzekeraar node")), "{out}");
    assert!(syncs.iter().all(|l| l.contains("witnessed")), "every sync witnesses the peer's copy: {out}");
    for what in ["version in force", "SETTLED", "identical set digests", "stopped the ziekenhuis node"] {
        assert!(out.contains(what), "{what}: {out}");
    }
    // No bundle file travelled between the parties: only the auditor's
    // air-gapped copy gets one.
    let files: Vec<String> = std::fs::read_dir(d.join("demo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let bundles: Vec<&String> = files.iter().filter(|f| f.ends_with(".jsonl")).collect();
    assert_eq!(bundles, [&"to-accountant.jsonl".to_string()], "{files:?}");
    // The copies live in the node homes; both verify with one set digest.
    let mut digests = Vec::new();
    for copy in
        ["demo/ziekenhuis-node/ledgers/demo-copd-achterhoek", "demo/verzekeraar-node/ledgers/demo-copd-achterhoek"]
    {
        let v = ok(d, &["--ledger", copy, "verify"]);
        digests.push(v.lines().find(|l| l.starts_with("set digest")).unwrap_or_default().to_string());
    }
    assert!(!digests[0].is_empty() && digests[0] == digests[1], "{digests:?}");
    // The nodes stopped with the demo: nothing listens on their ports.
    for a in &addrs {
        let addr: std::net::SocketAddr = a.parse().unwrap();
        let r = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2));
        assert!(r.is_err(), "the demo left a node listening on {a}");
    }
}
