//! The party node: `serve`, `sync`, `peer` end to end on loopback.
//!
//! Every node listens on 127.0.0.1 port 0 and prints its address; every
//! node is stopped by its guard; every loop is bounded in count and time.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{key, ok, run};
use ed25519_dalek::SigningKey;
use vereffen::audit;
use vereffen::ledger::keys::KeyId;
use vereffen::node::httpsig::{self, RequestParts};
use vereffen::node::server::{self, Limits, ServeConfig};

const LEDGER: &str = "shared-1";

/// A `vereffen serve` child process, killed on drop.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    fn start(home: &Path, extra: &[&str]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vereffen"))
            .args(["serve", "--home", home.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start vereffen serve");
        let mut out = child.stdout.take().unwrap();
        // The first line: `listening on http://127.0.0.1:PORT` (bounded read).
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.len() < 200 && out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let line = String::from_utf8(line).unwrap();
        let url = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
        Node { child, url }
    }
    fn addr(&self) -> SocketAddr {
        self.url.rsplit("://").next().unwrap().parse().unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs vereffen, retrying (bounded) while a node still holds the copy open.
fn run_retry(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    for _ in 0..60 {
        let r = run(cwd, args);
        if r.0 == 0 || !r.2.contains("in use by another vereffen process") || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    run(cwd, args)
}

fn ok_retry(cwd: &Path, args: &[&str]) -> String {
    let (code, out, err) = run_retry(cwd, args);
    assert_eq!(code, 0, "vereffen {args:?}:\n{out}\n{err}");
    out
}

fn fingerprint(party: &str) -> String {
    KeyId::of(&common::demo_key(party).verifying_key()).fingerprint()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A home with the demo key of `party` under keys/.
fn home_for(root: &Path, name: &str, party: &str) -> PathBuf {
    let h = root.join(name);
    std::fs::create_dir_all(h.join("keys")).unwrap();
    std::fs::copy(key(party), h.join("keys").join(format!("{party}.key"))).unwrap();
    h
}

/// Home A (the hospital) holds ledger LEDGER with the hospital and the
/// insurer registered and one note; home B (the insurer) holds nothing.
fn two_homes(root: &Path) -> (PathBuf, PathBuf) {
    let a = home_for(root, "a", "ziekenhuis");
    let b = home_for(root, "b", "verzekeraar");
    let l = s(&a.join("ledgers").join(LEDGER));
    ok(root, &["--ledger", &l, "init", "--id", LEDGER]);
    for (p, role) in [("ziekenhuis", "provider"), ("verzekeraar", "payer")] {
        ok(root, &["--ledger", &l, "party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    ok(root, &["--ledger", &l, "note", "--text", "first minutes", "--as", &key("ziekenhuis")]);
    (a, b)
}

fn add_peer(root: &Path, home: &Path, name: &str, url: &str, party: &str) {
    ok(
        root,
        &["peer", "add", "--home", &s(home), name, url, "--party", party, "--key-fingerprint", &fingerprint(party)],
    );
}

fn digest_of(dir: &Path) -> String {
    let l = vereffen::ledger::Ledger::open(dir, &vereffen::rules::ALL).unwrap();
    data_encoding::HEXLOWER.encode(&l.set_digest().unwrap())
}

fn witness_count(dir: &Path) -> usize {
    let l = vereffen::ledger::Ledger::open(dir, &vereffen::rules::ALL).unwrap();
    l.index().by_kind(audit::KIND_WITNESS).unwrap().len()
}

#[test]
fn two_nodes_from_cli_commands_converge_and_a_second_sync_moves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (a, b) = two_homes(root);
    let (la, lb) = (a.join("ledgers").join(LEDGER), b.join("ledgers").join(LEDGER));
    let node_a = Node::start(&a, &[]);
    let node_b = Node::start(&b, &[]);
    add_peer(root, &b, "hospital", &node_a.url, "ziekenhuis");
    add_peer(root, &a, "insurer", &node_b.url, "verzekeraar");
    assert!(ok(root, &["peer", "list", "--home", &s(&a)]).contains("insurer"));

    // B does not hold the ledger: it is created and pulled whole.
    let out = ok_retry(root, &["sync", "--home", &s(&b), "--peer", "hospital"]);
    assert!(out.contains(&format!("{LEDGER}: created here; pulled 3 new")), "{out}");
    assert!(out.contains("witnessed vereffen/shared-1/ziekenhuis"), "{out}");
    assert!(!out.contains("peer has"), "{out}");

    // Both write; then A syncs with B.
    ok_retry(root, &["--ledger", &s(&lb), "note", "--text", "insurer's remark", "--as", &key("verzekeraar")]);
    ok_retry(root, &["--ledger", &s(&la), "note", "--text", "hospital's remark", "--as", &key("ziekenhuis")]);
    let out = ok_retry(root, &["sync", "--home", &s(&a), "--peer", "insurer"]);
    assert!(out.contains("pulled 1 new (4 already here)"), "{out}");
    assert!(out.contains("pushed 1 new"), "{out}");
    assert!(out.contains("witnessed vereffen/shared-1/verzekeraar"), "{out}");
    assert!(!out.contains("peer has"), "the digests differ after sync: {out}");

    // A second sync moves nothing and witnesses nothing new.
    let out = ok_retry(root, &["sync", "--home", &s(&a), "--peer", "insurer"]);
    assert!(out.contains("pulled 0 new") && out.contains("pushed 0 new"), "{out}");
    assert!(out.contains("nothing new to witness"), "{out}");
    // B witnesses A's grown copy (it holds new notes since B last witnessed).
    let out = ok_retry(root, &["sync", "--home", &s(&b), "--peer", "hospital"]);
    assert!(out.contains("pulled 0 new") && out.contains("pushed 0 new"), "{out}");
    assert!(out.contains("witnessed vereffen/shared-1/ziekenhuis at size 7 (extends size 3)"), "{out}");
    // From now on both sides only see each other's witness records: quiet.
    for (home, peer) in [(&a, "insurer"), (&b, "hospital")] {
        let out = ok_retry(root, &["sync", "--home", &s(home), "--peer", peer]);
        assert!(out.contains("pulled 0 new") && out.contains("pushed 0 new"), "{out}");
        assert!(out.contains("nothing new to witness"), "{out}");
        assert!(!out.contains("peer has"), "{out}");
    }

    drop(node_a);
    drop(node_b);
    assert_eq!(digest_of(&la), digest_of(&lb), "identical entry sets give identical set digests");
    // B witnessed A twice, A witnessed B once; every record is in both copies.
    assert_eq!(witness_count(&la), 3);
    assert_eq!(witness_count(&lb), 3);
    // Both copies verify.
    ok(root, &["--ledger", &s(&la), "verify"]);
    ok(root, &["--ledger", &s(&lb), "verify"]);
}

// ---------------------------------------------------------------------------
// Requests by hand, against a node in this process.

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Signer<'a> {
    key: &'a SigningKey,
    key_id: String,
    created: i64,
    expires: i64,
    nonce: String,
}

fn signer<'a>(party: &str, key: &'a SigningKey) -> Signer<'a> {
    use rand_core::RngCore;
    let mut n = [0u8; 12];
    rand_core::OsRng.fill_bytes(&mut n);
    Signer {
        key,
        key_id: audit::key_name(party, &key.verifying_key()),
        created: now(),
        expires: now() + 60,
        nonce: data_encoding::HEXLOWER.encode(&n),
    }
}

/// One HTTP/1.1 request on a fresh connection; the whole raw response.
fn raw(addr: SocketAddr, method: &str, pq: &str, body: &[u8], sig: Option<&Signer>) -> (u16, Vec<u8>) {
    let authority = addr.to_string();
    let mut head = format!("{method} {pq} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    if let Some(sg) = sig {
        let parts = RequestParts { method, authority: &authority, path_and_query: pq, body };
        let h = httpsig::sign_request(&parts, &sg.key_id, sg.key, sg.created, sg.expires, &sg.nonce);
        head.push_str(&format!(
            "Signature-Input: {}\r\nSignature: {}\r\nContent-Digest: {}\r\n",
            h.signature_input, h.signature, h.content_digest
        ));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = c.take(100 << 20).read_to_end(&mut out);
    let status = std::str::from_utf8(&out[..out.len().min(12)])
        .ok()
        .and_then(|l| l.get(9..12))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

fn body_of(resp: &[u8]) -> &[u8] {
    let i = resp.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(resp.len());
    &resp[i..]
}

/// Home with two ledgers: LEDGER (hospital, insurer) and `other` (only
/// the home care provider and the insurer), served in this process.
fn served_home(root: &Path, limits: Limits) -> (server::ServerHandle, PathBuf) {
    let (a, _) = two_homes(root);
    let other = s(&a.join("ledgers").join("other-1"));
    ok(root, &["--ledger", &other, "init", "--id", "other-1"]);
    for (p, role) in [("thuiszorg", "provider"), ("verzekeraar", "payer")] {
        ok(root, &["--ledger", &other, "party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    let cfg = ServeConfig {
        home: a.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_http: false,
        sync_every: None,
        limits,
        keys: None,
        extra: None,
    };
    (server::serve(cfg).unwrap(), a)
}

#[test]
fn unsigned_expired_replayed_wrong_ledger_and_revoked_key_requests_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (node, home) = served_home(root, Limits::default());
    let addr = node.addr();
    let journal = home.join("ledgers").join(LEDGER).join("journal");
    let before = std::fs::read(&journal).unwrap();
    let zh = common::demo_key("ziekenhuis");
    let tz = common::demo_key("thuiszorg");
    let digest = format!("/v1/ledgers/{LEDGER}/digest");

    // A good request works.
    let (st, _) = raw(addr, "GET", &digest, b"", Some(&signer("ziekenhuis", &zh)));
    assert_eq!(st, 200);

    // What a request for a ledger that does not exist gets.
    let (st, nonexistent) =
        raw(addr, "GET", "/v1/ledgers/no-such-ledger/digest", b"", Some(&signer("ziekenhuis", &zh)));
    assert_eq!(st, 404);
    // A party of other-1 probing LEDGER gets exactly that, byte for byte.
    let probe = format!("/v1/ledgers/{LEDGER}/digest");
    let (_, got) = raw(addr, "GET", &probe, b"", Some(&signer("thuiszorg", &tz)));
    let (_, missing) = raw(addr, "GET", "/v1/ledgers/no-such-ledgr/digest", b"", Some(&signer("thuiszorg", &tz)));
    assert_eq!(got, missing, "probing a foreign ledger must look like a nonexistent one");
    assert_eq!(got, nonexistent);

    // Unsigned: the same 404 on a ledger route, 401 on the list.
    let (st, r) = raw(addr, "GET", &digest, b"", None);
    assert_eq!((st, r.as_slice()), (404, nonexistent.as_slice()));
    let (st, _) = raw(addr, "GET", "/v1/ledgers", b"", None);
    assert_eq!(st, 401);

    // Expired.
    let mut old = signer("ziekenhuis", &zh);
    old.created = now() - 400;
    old.expires = now() - 200;
    let (st, _) = raw(addr, "GET", &digest, b"", Some(&old));
    assert_eq!(st, 404);

    // Replayed: the same signed request twice.
    let once = signer("ziekenhuis", &zh);
    assert_eq!(raw(addr, "GET", &digest, b"", Some(&once)).0, 200);
    assert_eq!(raw(addr, "GET", &digest, b"", Some(&once)).0, 404);

    // An unsigned or replayed POST changes nothing.
    let mut bundle = Vec::new();
    let note = common::note("ziekenhuis", &zh, "posted", vec![]);
    vereffen::ledger::bundle::write_bundle(&mut bundle, LEDGER, 1, &[(1, note)]).unwrap();
    let post = format!("/v1/ledgers/{LEDGER}/entries");
    assert_eq!(raw(addr, "POST", &post, &bundle, None).0, 404);
    assert_eq!(std::fs::read(&journal).unwrap(), before, "an unsigned POST changed the journal");

    // Revoked key: the insurer revokes... its own key is its last; use a
    // rotation instead: the hospital rotates to a new key, retiring the old.
    drop(node);
    let l = s(&home.join("ledgers").join(LEDGER));
    ok(root, &["keys", "new", "zh2", "--dir", &s(root)]);
    ok(root, &["--ledger", &l, "party", "rotate-key", "--as", &key("ziekenhuis"), "--new", &s(&root.join("zh2.key"))]);
    let cfg = ServeConfig {
        home: home.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_http: false,
        sync_every: None,
        limits: Limits::default(),
        keys: None,
        extra: None,
    };
    let node = server::serve(cfg).unwrap();
    let before = std::fs::read(&journal).unwrap();
    let (st, r) = raw(node.addr(), "GET", &digest, b"", Some(&signer("ziekenhuis", &zh)));
    assert_eq!(st, 404, "a retired key is refused: {}", String::from_utf8_lossy(&r));
    let zh2 = vereffen::ledger::keys::load_signing_key(&root.join("zh2.key")).unwrap();
    assert_eq!(raw(node.addr(), "GET", &digest, b"", Some(&signer("ziekenhuis", &zh2))).0, 200);
    assert_eq!(std::fs::read(&journal).unwrap(), before);
}

#[test]
fn a_pushed_bundle_with_one_bad_entry_appends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (node, home) = served_home(root, Limits::default());
    let journal = home.join("ledgers").join(LEDGER).join("journal");
    let before = std::fs::read(&journal).unwrap();
    let zh = common::demo_key("ziekenhuis");
    let vz = common::demo_key("verzekeraar");
    let good = common::note("ziekenhuis", &zh, "good", vec![]);
    let bad = common::note("ziekenhuis", &zh, "bad", vec![]);
    let body_with = |entries: &[vereffen::ledger::entry::Entry]| {
        let mut b = Vec::new();
        let list: Vec<_> = entries.iter().enumerate().map(|(i, e)| (i as u64 + 1, e.clone())).collect();
        vereffen::ledger::bundle::write_bundle(&mut b, LEDGER, 1, &list).unwrap();
        b
    };
    let fix = |e: vereffen::ledger::entry::Entry, k: &SigningKey| {
        let mut body = e.body().clone();
        body.ledger = LEDGER.into();
        vereffen::ledger::entry::Entry::sign(body, &[k]).unwrap()
    };
    let good = fix(good, &zh);
    // A valid entry whose signature is then replaced by the insurer's.
    let bad = fix(bad, &zh);
    let forged = {
        use ed25519_dalek::Signer as _;
        let mut sigs = bad.sigs().to_vec();
        sigs[0].sig = vz.sign(&bad.signing_input());
        vereffen::ledger::entry::Entry::from_parts(bad.body_bytes().to_vec(), sigs).unwrap()
    };
    let post = format!("/v1/ledgers/{LEDGER}/entries");
    let (st, r) =
        raw(node.addr(), "POST", &post, &body_with(&[good.clone(), forged]), Some(&signer("ziekenhuis", &zh)));
    assert_eq!(st, 422, "{}", String::from_utf8_lossy(&r));
    assert!(String::from_utf8_lossy(body_of(&r)).contains("nothing was appended"));
    assert_eq!(std::fs::read(&journal).unwrap(), before, "a refused bundle changed the journal");
    // The good entry alone is appended.
    let (st, r) = raw(node.addr(), "POST", &post, &body_with(&[good]), Some(&signer("ziekenhuis", &zh)));
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&r));
    assert!(String::from_utf8_lossy(body_of(&r)).contains("\"appended\":1"));
}

// ---------------------------------------------------------------------------
// Limits: each named constant, exercised.

/// Sends `head` (and whatever follows it) as is, then reads the answer
/// until the server closes: the status, the bytes, and how long it took.
fn raw_head(addr: SocketAddr, head: &[u8]) -> (u16, Vec<u8>, Duration) {
    let t = Instant::now();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
    c.write_all(head).unwrap();
    let mut out = Vec::new();
    let _ = (&mut c).take(1 << 20).read_to_end(&mut out);
    let status = std::str::from_utf8(&out[..out.len().min(12)])
        .ok()
        .and_then(|l| l.get(9..12))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out, t.elapsed())
}

#[test]
fn limit_body_size_entries_per_request_and_header_size() {
    let tmp = tempfile::tempdir().unwrap();
    let (node, _) = served_home(tmp.path(), Limits::default());
    let addr = node.addr();
    let zh = common::demo_key("ziekenhuis");
    // Body: a declared length over MAX_BODY_BYTES is refused before reading.
    let head = format!(
        "POST /v1/ledgers/{LEDGER}/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        server::MAX_BODY_BYTES + 1
    );
    let (st, r, _) = raw_head(addr, head.as_bytes());
    assert_eq!(st, 413, "{}", String::from_utf8_lossy(&r));
    // Entries per GET.
    let pq = format!("/v1/ledgers/{LEDGER}/entries?start=1&count={}", server::MAX_ENTRIES_PER_REQUEST + 1);
    assert_eq!(raw(addr, "GET", &pq, b"", Some(&signer("ziekenhuis", &zh))).0, 400);
    let pq = format!("/v1/ledgers/{LEDGER}/entries?start=1&count={}", server::MAX_ENTRIES_PER_REQUEST);
    assert_eq!(raw(addr, "GET", &pq, b"", Some(&signer("ziekenhuis", &zh))).0, 200);
    // Entries per POST: the header's count is checked before any line.
    let body = format!(
        "{{\"bundle\":\"vereffen\",\"entries\":{},\"ledger\":\"{LEDGER}\",\"since\":1,\"version\":1}}\n",
        server::MAX_ENTRIES_PER_REQUEST + 1
    );
    let post = format!("/v1/ledgers/{LEDGER}/entries");
    let (st, r) = raw(addr, "POST", &post, body.as_bytes(), Some(&signer("ziekenhuis", &zh)));
    assert_eq!(st, 400, "{}", String::from_utf8_lossy(&r));
    assert!(String::from_utf8_lossy(body_of(&r)).contains("at most 10000 per request"));
    // Header size.
    let pad = "x".repeat(server::MAX_HEADER_BYTES + 1024);
    let head = format!("GET /v1/ledgers HTTP/1.1\r\nHost: {addr}\r\nX-Pad: {pad}\r\n\r\n");
    let (st, _, _) = raw_head(addr, head.as_bytes());
    assert_eq!(st, 431);
    let pad = "x".repeat(server::MAX_HEADER_BYTES / 2);
    let head = format!("GET /v1/ledgers HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-Pad: {pad}\r\n\r\n");
    assert_eq!(raw_head(addr, head.as_bytes()).0, 401, "a head under the limit is read");
}

#[test]
fn limit_request_rate_per_peer_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (node, _) = served_home(tmp.path(), Limits::default());
    let zh = common::demo_key("ziekenhuis");
    let vz = common::demo_key("verzekeraar");
    let digest = format!("/v1/ledgers/{LEDGER}/digest");
    let n = server::RATE_BURST as usize + 30;
    let t = Instant::now();
    let statuses: Vec<u16> =
        (0..n).map(|_| raw(node.addr(), "GET", &digest, b"", Some(&signer("ziekenhuis", &zh))).0).collect();
    let fast = t.elapsed() < Duration::from_millis(30_000 / server::RATE_PER_SEC);
    assert!(statuses[..server::RATE_BURST as usize / 2].iter().all(|&s| s == 200), "{statuses:?}");
    if fast {
        assert!(statuses.contains(&429), "{n} requests in {:?} and no 429: {statuses:?}", t.elapsed());
    }
    // Another key has its own bucket.
    assert_eq!(raw(node.addr(), "GET", &digest, b"", Some(&signer("verzekeraar", &vz))).0, 200);
}

#[test]
fn limit_slow_senders_are_timed_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (node, _) = served_home(tmp.path(), Limits::default());
    let addr = node.addr();
    // A head that never ends: the connection is closed after HEADER_READ_TIMEOUT.
    let (st, r, took) = raw_head(addr, b"GET /v1/ledgers HTTP/1.1\r\nHost: x\r\n");
    assert!(st == 0 || st == 408, "{}", String::from_utf8_lossy(&r));
    assert!(took >= server::HEADER_READ_TIMEOUT - Duration::from_millis(500), "{took:?}");
    assert!(took < server::HEADER_READ_TIMEOUT + Duration::from_secs(10), "{took:?}");
    // A body that never ends: 408 after BODY_READ_TIMEOUT.
    let head =
        format!("POST /v1/ledgers/{LEDGER}/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n0123456789");
    let (st, r, took) = raw_head(addr, head.as_bytes());
    assert_eq!(st, 408, "{}", String::from_utf8_lossy(&r));
    assert!(took >= server::BODY_READ_TIMEOUT - Duration::from_millis(500), "{took:?}");
    assert!(took < server::BODY_READ_TIMEOUT + Duration::from_secs(10), "{took:?}");
}

#[test]
fn limit_concurrent_connections() {
    let tmp = tempfile::tempdir().unwrap();
    let limits = Limits { max_connections: 2, ..Limits::default() };
    assert!(server::MAX_CONNECTIONS >= 2 && Limits::default().max_connections == server::MAX_CONNECTIONS);
    let (node, _) = served_home(tmp.path(), limits);
    let addr = node.addr();
    // Two idle connections take both places until the head timeout closes them.
    let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let (st, _, _) =
        raw_head(addr, format!("GET /v1/ledgers HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes());
    assert_eq!(st, 401);
    assert!(t.elapsed() >= server::HEADER_READ_TIMEOUT - Duration::from_secs(1), "served at once: {:?}", t.elapsed());
    drop(idle);
}

/// The cap on large request bodies in flight (`MAX_LARGE_BODIES` bodies over
/// `SMALL_BODY_BYTES` read at once): with every place taken by senders that
/// stall half-way, a further large body is not read (no answer at all) until
/// a place frees, while a small request is still answered at once.
#[test]
fn limit_large_bodies_in_flight_wait_for_a_place() {
    let tmp = tempfile::tempdir().unwrap();
    // A body timeout far beyond the test, so no place frees by itself.
    let limits = Limits { body_read_timeout: Duration::from_secs(60), ..Limits::default() };
    let (node, _) = served_home(tmp.path(), limits);
    let addr = node.addr();
    let big = server::SMALL_BODY_BYTES as usize + 4096;
    let head = format!(
        "POST /v1/ledgers/{LEDGER}/entries HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {big}\r\n\r\n"
    );
    // Every place taken: the head and half the body, then silence.
    let mut stalled: Vec<TcpStream> = (0..server::MAX_LARGE_BODIES)
        .map(|_| {
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            c.write_all(head.as_bytes()).unwrap();
            c.write_all(&vec![b'x'; big / 2]).unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // One more large body, sent whole (by a thread: the node does not read it).
    let mut extra = TcpStream::connect(addr).unwrap();
    let mut writer = extra.try_clone().unwrap();
    let (h, b) = (head.clone(), vec![b'x'; big]);
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(h.as_bytes());
        let _ = writer.write_all(&b);
    });
    // A small request (a declared length; an unknown one counts as large) is answered meanwhile.
    let t = Instant::now();
    let (st, _, _) = raw_head(
        addr,
        format!("GET /v1/ledgers HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(st, 401);
    assert!(t.elapsed() < Duration::from_secs(20), "a small request waited {:?}", t.elapsed());
    // The extra large body gets no answer while every place is taken.
    extra.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut first = [0u8; 1];
    match extra.read(&mut first) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
        other => panic!("a large body beyond {} was read at once: {other:?}", server::MAX_LARGE_BODIES),
    }
    // One stalled sender finishes: it is answered (unsigned: the 404 rule),
    // and its place goes to the waiting body, which is then read and answered.
    stalled[0].write_all(&vec![b'x'; big - big / 2]).unwrap();
    let mut out = Vec::new();
    let _ = (&mut stalled[0]).take(1 << 20).read_to_end(&mut out);
    assert!(out.starts_with(b"HTTP/1.1 404"), "{}", String::from_utf8_lossy(&out));
    extra.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out = first[..0].to_vec();
    let _ = (&mut extra).take(1 << 20).read_to_end(&mut out);
    assert!(out.starts_with(b"HTTP/1.1 404"), "{}", String::from_utf8_lossy(&out));
    sender.join().unwrap();
    drop(stalled);
}

// ---------------------------------------------------------------------------
// TLS.

#[test]
fn sync_over_tls_with_the_peers_ca_and_plain_http_refused_off_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (a, b) = two_homes(root);
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    std::fs::write(root.join("cert.pem"), ck.cert.pem()).unwrap();
    std::fs::write(root.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
    let node_a = Node::start(&a, &["--tls-cert", &s(&root.join("cert.pem")), "--tls-key", &s(&root.join("key.pem"))]);
    assert!(node_a.url.starts_with("https://127.0.0.1:"), "{}", node_a.url);
    let url = format!("https://localhost:{}", node_a.addr().port());
    ok(
        root,
        &[
            "peer",
            "add",
            "--home",
            &s(&b),
            "hospital",
            &url,
            "--party",
            "ziekenhuis",
            "--key-fingerprint",
            &fingerprint("ziekenhuis"),
            "--ca",
            &s(&root.join("cert.pem")),
        ],
    );
    let out = ok_retry(root, &["sync", "--home", &s(&b), "--peer", "hospital"]);
    assert!(out.contains("created here; pulled 3 new"), "{out}");
    // Without the CA, the certificate is not trusted.
    ok(
        root,
        &[
            "peer",
            "add",
            "--home",
            &s(&b),
            "nocas",
            &url,
            "--party",
            "ziekenhuis",
            "--key-fingerprint",
            &fingerprint("ziekenhuis"),
        ],
    );
    let (code, out, err) = run_retry(root, &["sync", "--home", &s(&b), "--peer", "nocas"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("peer nocas"), "{err}");
    // Plain HTTP off loopback: refused by serve (before it binds: the
    // address is a documentation one, never listened on) and by peer add.
    let (code, _, err) = run(root, &["serve", "--home", &s(&a), "--listen", "192.0.2.1:0"]);
    assert_ne!(code, 0);
    assert!(err.contains("refusing plain HTTP") && err.contains("--insecure-http"), "{err}");
    let (code, _, err) = run(
        root,
        &[
            "peer",
            "add",
            "--home",
            &s(&b),
            "far",
            "http://10.1.2.3:8080",
            "--party",
            "x",
            "--key-fingerprint",
            &fingerprint("ziekenhuis"),
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--insecure-http"), "{err}");
}

// ---------------------------------------------------------------------------
// Equivocation.

#[test]
fn a_peer_showing_two_histories_is_caught_recorded_and_sync_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (a, b) = two_homes(root);
    let la = a.join("ledgers").join(LEDGER);
    let snapshot = root.join("snapshot");
    common::copy_dir(&la, &snapshot);
    ok(root, &["--ledger", &s(&la), "note", "--text", "history one", "--as", &key("ziekenhuis")]);
    {
        let node_a = Node::start(&a, &[]);
        add_peer(root, &b, "hospital", &node_a.url, "ziekenhuis");
        let out = ok_retry(root, &["sync", "--home", &s(&b), "--peer", "hospital"]);
        assert!(out.contains("witnessed vereffen/shared-1/ziekenhuis at size 4 (first)"), "{out}");
        // The peer's address is fixed for the swapped copy below.
        std::fs::write(root.join("port"), node_a.addr().port().to_string()).unwrap();
    }
    // The hospital swaps in another history of the same size.
    std::fs::remove_dir_all(&la).unwrap();
    common::copy_dir(&snapshot, &la);
    ok(root, &["--ledger", &s(&la), "note", "--text", "history two", "--as", &key("ziekenhuis")]);
    let node_a = Node::start(&a, &[]);
    ok(root, &["peer", "remove", "--home", &s(&b), "hospital"]);
    add_peer(root, &b, "hospital", &node_a.url, "ziekenhuis");
    let lb = b.join("ledgers").join(LEDGER);
    let journal_before = std::fs::read(lb.join("journal")).unwrap();
    let (code, out, err) = run_retry(root, &["sync", "--home", &s(&b), "--peer", "hospital"]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(out.contains("EQUIVOCATION") && out.contains("same tree size 4"), "{out}");
    assert!(out.contains("peer reset-fork hospital --ledger-id shared-1"), "{out}");
    // Nothing of the other history was pulled: only the evidence was appended.
    let (code, out, _) = run_retry(root, &["sync", "--home", &s(&b), "--peer", "hospital"]);
    assert_eq!(code, 3);
    assert!(out.contains("is stopped"), "{out}");
    drop(node_a);
    let l = vereffen::ledger::Ledger::open(&lb, &vereffen::rules::ALL).unwrap();
    assert_eq!(l.index().by_kind(audit::KIND_EQUIVOCATION).unwrap().len(), 1);
    assert_eq!(l.len(), 6, "4 entries + 1 witness + 1 equivocation");
    assert!(std::fs::read(lb.join("journal")).unwrap().len() > journal_before.len());
    drop(l);
    let out = ok(root, &["peer", "reset-fork", "--home", &s(&b), "hospital", "--ledger-id", LEDGER]);
    assert!(out.contains("resumes"), "{out}");
}

#[test]
fn serve_with_sync_every_pulls_in_the_background() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (a, b) = two_homes(root);
    let node_a = Node::start(&a, &[]);
    add_peer(root, &b, "hospital", &node_a.url, "ziekenhuis");
    // A period longer than the idle close of a copy (2 s), so the note below
    // can be written on A between rounds.
    let node_b = Node::start(&b, &["--sync-every", "3s"]);
    // B's node creates and pulls the ledger by itself (bounded wait).
    let lb = b.join("ledgers").join(LEDGER);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lb.join("journal").is_file() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(lb.join("journal").is_file(), "no background sync within 30 s");
    // A later note of A's arrives too.
    let la = a.join("ledgers").join(LEDGER);
    ok_retry(root, &["--ledger", &s(&la), "note", "--text", "later", "--as", &key("ziekenhuis")]);
    let mut seen = false;
    for _ in 0..60 {
        let (code, out, _) = run(root, &["--ledger", &s(&lb), "log"]);
        if code == 0 && out.contains("later") {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(seen, "the note did not arrive by background sync");
    drop(node_b);
    drop(node_a);
}

#[test]
fn serve_stops_gracefully_on_sigterm_and_releases_its_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (a, _) = two_homes(root);
    let mut node = Node::start(&a, &[]);
    let zh = common::demo_key("ziekenhuis");
    assert_eq!(
        raw(node.addr(), "GET", &format!("/v1/ledgers/{LEDGER}/digest"), b"", Some(&signer("ziekenhuis", &zh))).0,
        200
    );
    let pid = node.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = None;
    while status.is_none() && Instant::now() < deadline {
        status = node.child.try_wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status.and_then(|s| s.code()), Some(0), "serve did not stop cleanly on SIGTERM");
    // The copy is free again at once.
    ok(root, &["--ledger", &s(&a.join("ledgers").join(LEDGER)), "verify"]);
}
