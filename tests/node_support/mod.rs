//! Helpers shared by the node fault, security and load tests: homes with
//! ledgers built through the library (fast), in-process nodes on
//! 127.0.0.1 port 0, peers, and a loopback TCP proxy that can cut or
//! rewrite what a node answers.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::Ledger;
use vereffen::node::home::Home;
use vereffen::node::server::{self, Limits, ServeConfig, ServerHandle};

/// Longest time any socket in these tests waits for one read or write.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest request head the rewriting proxy reads.
pub const MAX_HEAD: usize = 64 << 10;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A demo key from keys/.
pub fn demo_key(name: &str) -> SigningKey {
    keys::load_signing_key(&repo().join("keys").join(format!("demo-{name}.key"))).expect("demo key")
}

pub fn fingerprint(party: &str) -> String {
    KeyId::of(&demo_key(party).verifying_key()).fingerprint()
}

pub fn body(ledger: &str, party: &str, key: &SigningKey, kind: &str, payload: serde_json::Value) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: ledger.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2027-01-15T09:30:00Z".into(),
        refs: vec![],
        payload,
    }
}

/// A note in ledger `ledger` by `party`.
pub fn note(ledger: &str, party: &str, text: &str) -> Entry {
    let key = demo_key(party);
    let payload = vereffen::domain::note::payload(text, None);
    Entry::sign(body(ledger, party, &key, vereffen::domain::note::KIND_NOTE, payload), &[&key]).unwrap()
}

/// The registration of a demo party in `ledger`.
pub fn register(ledger: &str, party: &str, role: Role) -> Entry {
    let key = demo_key(party);
    let payload = registry::register_payload(party, role, &key.verifying_key());
    Entry::sign(body(ledger, party, &key, registry::KIND_REGISTER, payload), &[&key]).unwrap()
}

/// A `vereffen serve` child process on 127.0.0.1 (any free port), killed on drop.
pub struct Node {
    pub child: std::process::Child,
    pub url: String,
}

impl Node {
    pub fn start(home: &Path) -> Node {
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_vereffen"))
            .args(["serve", "--home", home.to_str().unwrap(), "--listen", "127.0.0.1:0"])
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

    /// A line of /proc/PID/status in KiB (VmHWM: peak resident memory).
    pub fn status_kib(&self, field: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node home with the demo key of each of `parties` under keys/.
pub fn home(root: &Path, name: &str, parties: &[&str]) -> PathBuf {
    let h = root.join(name);
    std::fs::create_dir_all(h.join("keys")).unwrap();
    std::fs::create_dir_all(h.join("ledgers")).unwrap();
    for p in parties {
        std::fs::copy(repo().join("keys").join(format!("demo-{p}.key")), h.join("keys").join(format!("{p}.key")))
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(h.join("keys").join(format!("{p}.key")), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    h
}

/// Creates ledger `id` under `home` with the hospital (provider) and the
/// insurer (payer) registered and `notes` notes by the hospital.
pub fn shared_ledger(home: &Path, id: &str, notes: usize) {
    let mut l = Ledger::init(&home.join("ledgers").join(id), id, &vereffen::rules::ALL).unwrap();
    l.append(&[register(id, "ziekenhuis", Role::Provider), register(id, "verzekeraar", Role::Payer)]).unwrap();
    let all: Vec<Entry> = (0..notes).map(|i| note(id, "ziekenhuis", &format!("note {i}"))).collect();
    for chunk in all.chunks(500) {
        l.append(chunk).unwrap();
    }
}

/// A node serving `home` in this process on 127.0.0.1, any free port.
pub fn serve(home: &Path) -> ServerHandle {
    serve_with(home, Limits::default())
}

pub fn serve_with(home: &Path, limits: Limits) -> ServerHandle {
    server::serve(ServeConfig {
        home: home.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_http: false,
        sync_every: None,
        limits,
        keys: None,
        extra: None,
    })
    .expect("start a node")
}

/// `peer add` through the library.
pub fn add_peer(home: &Path, name: &str, url: &str, party: &str) {
    Home::open(home).unwrap().add_peer(name, url, party, &fingerprint(party), None, false).unwrap();
}

/// Every entry id of a closed copy, and its size; the copy is opened
/// (and so verified) by `Ledger::open`.
pub fn ids_of_dir(dir: &Path) -> (BTreeSet<String>, u64) {
    let l = Ledger::open(dir, &vereffen::rules::ALL).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    ids_of(&l)
}

pub fn ids_of(l: &Ledger) -> (BTreeSet<String>, u64) {
    let mut out = BTreeSet::new();
    l.for_each(1, |_, e| {
        out.insert(e.id().to_hex());
        Ok(())
    })
    .unwrap();
    (out, l.len())
}

/// The set digest (hex) of a closed copy.
pub fn digest_of_dir(dir: &Path) -> String {
    let l = Ledger::open(dir, &vereffen::rules::ALL).unwrap();
    data_encoding::HEXLOWER.encode(&l.set_digest().unwrap())
}

/// The set digest (hex) of a copy a running node holds.
pub fn digest_served(node: &ServerHandle, id: &str) -> String {
    node.store().with_ledger(id, |l| data_encoding::HEXLOWER.encode(&l.set_digest().unwrap())).unwrap()
}

/// The entry ids and size of a copy a running node holds.
pub fn ids_served(node: &ServerHandle, id: &str) -> (BTreeSet<String>, u64) {
    node.store().with_ledger(id, |l| ids_of(l)).unwrap()
}

/// Bytes of a file, or empty if it does not exist.
pub fn read_or_empty(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The proxy.

/// Maps (method, path, the node's raw response) to `Some(the raw response to send instead)`.
pub type Rewriter = Box<dyn Fn(&str, &str, &[u8]) -> Option<Vec<u8>> + Send + Sync>;

/// What the proxy does with the bytes a node answers.
pub enum Mode {
    /// Forward everything (counting the answered bytes).
    Pipe,
    /// Forward at most this many answered bytes in total (over every
    /// connection), then close; later connections are closed at once.
    CutAfter(i64),
    /// Read each request; forward it with `Connection: close`; when the
    /// function returns `Some(raw response)` for (method, path, real
    /// response), send that instead of the node's answer.
    Rewrite(Rewriter),
}

/// A loopback proxy in front of a node; stopped on drop.
pub struct Proxy {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Bytes answered to clients so far.
    pub answered: Arc<AtomicI64>,
    /// Every raw response sent to a client (Rewrite mode only).
    pub responses: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Every raw request received from a client (Rewrite mode only).
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn start(upstream: SocketAddr, mode: Mode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicI64::new(0));
        let responses = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(mode);
        let (st, an, rs, rq) = (stop.clone(), answered.clone(), responses.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            // Bounded: the proxy lives at most ten minutes.
            let deadline = std::time::Instant::now() + Duration::from_secs(600);
            while !st.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let (mode, an, rs, rq) = (mode.clone(), an.clone(), rs.clone(), rq.clone());
                        std::thread::spawn(move || handle(client, upstream, &mode, &an, &rs, &rq));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Proxy { addr, stop, answered, responses, requests, thread: Some(thread) }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(
    client: TcpStream,
    upstream: SocketAddr,
    mode: &Mode,
    answered: &AtomicI64,
    responses: &Mutex<Vec<Vec<u8>>>,
    requests: &Mutex<Vec<Vec<u8>>>,
) {
    let _ = client.set_read_timeout(Some(IO_TIMEOUT));
    let _ = client.set_write_timeout(Some(IO_TIMEOUT));
    match mode {
        Mode::Pipe | Mode::CutAfter(_) => {
            let budget = match mode {
                Mode::CutAfter(n) => Some(*n),
                _ => None,
            };
            if budget.is_some_and(|b| answered.load(Ordering::SeqCst) >= b) {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            let Ok(server) = TcpStream::connect(upstream) else { return };
            let _ = server.set_read_timeout(Some(IO_TIMEOUT));
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            // client -> server: unlimited.
            let up = std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(Shutdown::Write);
            });
            // server -> client: counted, cut at the budget.
            let (mut s_in, mut c_out) = (server, client);
            let mut buf = [0u8; 8192];
            loop {
                let n = match s_in.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let before = answered.fetch_add(n as i64, Ordering::SeqCst);
                let allowed = match budget {
                    Some(b) => (b - before).clamp(0, n as i64) as usize,
                    None => n,
                };
                if c_out.write_all(&buf[..allowed]).is_err() || allowed < n {
                    break;
                }
            }
            let _ = c_out.shutdown(Shutdown::Both);
            let _ = s_in.shutdown(Shutdown::Both);
            let _ = up.join();
        }
        Mode::Rewrite(f) => {
            let mut client = client;
            // One request per connection: the answer says `connection: close`.
            let Some((head, body)) = read_request(&mut client) else { return };
            let line = head.lines().next().unwrap_or("").to_string();
            let mut parts = line.split(' ');
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let mut seen = head.clone().into_bytes();
            seen.extend_from_slice(&body);
            requests.lock().unwrap().push(seen);
            let real = forward(upstream, &head, &body);
            let out = f(&method, &path, &real).unwrap_or(real);
            answered.fetch_add(out.len() as i64, Ordering::SeqCst);
            responses.lock().unwrap().push(out.clone());
            let _ = client.write_all(&out);
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

/// Reads one HTTP/1.1 request (head and Content-Length body).
fn read_request(c: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > MAX_HEAD || c.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).ok()?;
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok()).flatten()
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).ok()?;
    Some((head, body))
}

/// Sends a request to the node with `Connection: close`; its whole answer.
fn forward(upstream: SocketAddr, head: &str, body: &[u8]) -> Vec<u8> {
    let mut h: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    h.push("Connection: close");
    let head = format!("{}\r\n\r\n", h.join("\r\n"));
    let Ok(mut s) = TcpStream::connect(upstream) else { return Vec::new() };
    let _ = s.set_read_timeout(Some(IO_TIMEOUT));
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.take(256 << 20).read_to_end(&mut out);
    out
}

/// Splits a raw HTTP/1.1 response into head and (de-chunked) body.
pub fn split_response(raw: &[u8]) -> (String, Vec<u8>) {
    let i = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..i]).into_owned();
    let mut body = raw[i..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest: &[u8] = &body;
        // Bounded by the body length: each round consumes at least 2 bytes.
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..p]).unwrap_or("0").trim(), 16).unwrap_or(0);
            if size == 0 || p + 2 + size > rest.len() {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + size]);
            rest = &rest[(p + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    (head, body)
}

/// A raw HTTP/1.1 200 response with `headers` and `body`.
pub fn response(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The value of header `name` in a response head.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// A small seeded RNG (xorshift64*), so trials are reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}
