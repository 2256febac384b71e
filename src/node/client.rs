//! `vereffen sync`: bring each ledger shared with a peer up to date in both
//! directions, then witness the peer's copy.
//!
//! Per ledger (`docs/PROTOCOL.md` 6):
//!
//! 1. **check**: when we witnessed the peer's copy before, its current signed
//!    checkpoint must extend the last one we witnessed (consistency proof);
//!    a fork is recorded as `audit.equivocation` evidence and stops sync of
//!    that ledger with that peer until `peer reset-fork`;
//! 2. **pull**: the peer's entries from the last pulled position of its
//!    journal (its tree only grows, so positions are stable), in batches
//!    imported through `ledger::bundle::import_entries_uncounted`, the one import
//!    path (all or nothing per batch, crash-atomic);
//! 3. **push**: when the set digests differ, our entries from the last
//!    position the peer is known to hold, POSTed as bundles;
//! 4. **witness**: the peer's checkpoint is checked against the last one we
//!    witnessed (`audit::decide_witness`, with a consistency proof from the
//!    peer), cosigned, recorded as `audit.witness`, and the witness entry is
//!    POSTed back as the peer's cosignature.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::audit::{self, checkpoint::SignedNote, ConsistencyBundle, WitnessDecision, WitnessRefusal};
use crate::ledger::bundle;
use crate::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use crate::ledger::keys::KeyId;
use crate::ledger::Ledger;
use crate::node::home::{self, Home, Peer, SyncState};
use crate::node::httpsig::{self, RequestParts};
use crate::node::server::{MAX_BODY_BYTES, MAX_ENTRIES_PER_REQUEST};
use crate::node::store::{Store, StoreError};

/// Entries asked for per pull request (the server's per-request limit).
pub const PULL_BATCH: u64 = MAX_ENTRIES_PER_REQUEST;
/// Entries per pushed bundle.
pub const PUSH_BATCH: usize = MAX_ENTRIES_PER_REQUEST as usize;
/// Largest pushed bundle body; a little under the server's limit.
pub const PUSH_MAX_BYTES: usize = MAX_BODY_BYTES - (1 << 20);
/// Largest response body read from a peer (a hostile peer cannot make us
/// hold more): the body limit plus room for a checkpoint or proof.
pub const MAX_RESPONSE_BYTES: usize = MAX_BODY_BYTES + (1 << 20);
/// Pull requests per ledger per sync at most (10,000 x 10,000 entries).
pub const MAX_PULL_REQUESTS: usize = 10_000;
/// Connect timeout to a peer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one request to a peer may take.
pub const PEER_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Validity window of our signed requests (within `httpsig::MAX_VALIDITY_SECS`).
pub const REQUEST_VALIDITY_SECS: i64 = 60;
/// New entries since the last witnessed checkpoint looked at to decide
/// whether anything but witness records changed (more: witness anyway).
pub const WITNESS_LOOKAHEAD: u64 = 64;

/// When this environment variable is set (to anything), `sync` prints on
/// stderr how long each of its steps took (`sync-trace <step>: <ms> ms`),
/// to find where a slow sync spends its time. Nothing else changes.
pub const TRACE_ENV: &str = "VEREFFEN_SYNC_TRACE";

/// True when [`TRACE_ENV`] is set (read once).
pub(crate) fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os(TRACE_ENV).is_some())
}

/// Prints the time since `since` for `what` when [`tracing`], and restarts it.
pub(crate) fn trace(what: &str, since: &mut std::time::Instant) {
    if tracing() {
        eprintln!("sync-trace {what}: {:.2} ms", since.elapsed().as_secs_f64() * 1000.0);
        *since = std::time::Instant::now();
    }
}

/// Why a sync failed. Every message names the peer.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The peer could not be reached or answered badly.
    #[error("peer {peer}: {what}")]
    Peer {
        /// The peer's name.
        peer: String,
        /// What happened.
        what: String,
    },
    /// This node's side failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The home cannot be used.
    #[error(transparent)]
    Home(#[from] home::HomeError),
    /// This node's copy refused or failed.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// The running node a sync was handed to (`node::local`) failed it: its message.
    #[error("{0}")]
    Node(String),
}

/// What happened to one ledger in a sync with one peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerSync {
    /// The ledger id.
    pub ledger: String,
    /// The copy was created here by this sync (pulled whole).
    pub created: bool,
    /// Entries pulled and appended here.
    pub pulled: usize,
    /// Entries the peer sent that were already here.
    pub pulled_known: usize,
    /// Entries pushed and appended at the peer.
    pub pushed: usize,
    /// What witnessing did (one line).
    pub witness: String,
    /// Our set digest and size after the sync (hex).
    pub digest: String,
    /// Our size after the sync.
    pub size: u64,
    /// The peer's set digest after the sync (hex).
    pub peer_digest: String,
    /// The error that ended this ledger's sync, if one did.
    pub error: Option<String>,
    /// Equivocation was found (now or before): sync of this ledger with
    /// this peer is stopped until `peer reset-fork`.
    pub stopped: bool,
}

/// What a sync with one peer did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncReport {
    /// The peer's name.
    pub peer: String,
    /// Per ledger, in id order.
    pub ledgers: Vec<LedgerSync>,
}

impl SyncReport {
    /// True when every ledger synced without error or stop.
    pub fn ok(&self) -> bool {
        self.ledgers.iter().all(|l| l.error.is_none() && !l.stopped)
    }
}

/// Syncs the node home `home` with one peer (or every peer), every shared
/// ledger or only `ledger`. Builds its own runtime: call it outside one.
pub fn sync(home: &Path, peer: Option<&str>, ledger: Option<&str>) -> Result<Vec<SyncReport>, SyncError> {
    let keys = Home::open(home)?.signing_keys()?;
    sync_keys(home, keys, peer, ledger)
}

/// [`sync`] with the organisation's signing keys read by the caller (file
/// name, key), e.g. encrypted key files unlocked with a passphrase.
pub fn sync_keys(
    home: &Path,
    keys: Vec<(String, SigningKey)>,
    peer: Option<&str>,
    ledger: Option<&str>,
) -> Result<Vec<SyncReport>, SyncError> {
    let mut t = std::time::Instant::now();
    let home = Home::open(home)?;
    let peers = match peer {
        Some(name) => vec![home.peer(name)?],
        None => home.peers()?,
    };
    trace("home and peers", &mut t);
    // Lazily: a sync opens only the copies it syncs, once each.
    let store = Arc::new(Store::open_lazy(home, keys));
    trace("open the store", &mut t);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SyncError::Peer { peer: "-".into(), what: format!("cannot start the runtime: {e}") })?;
    trace("runtime", &mut t);
    let mut out = Vec::new();
    for p in &peers {
        out.push(rt.block_on(sync_with(&store, p, ledger))?);
        trace("peer done", &mut t);
    }
    store.close_all();
    trace("close", &mut t);
    Ok(out)
}

/// Background sync of a serving node: every `every`, sync with every peer
/// in turn (never overlapping: the next round starts after this one ends).
pub(crate) async fn sync_loop(store: Arc<Store>, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let peers = match store.home().peers() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("background sync: {e}");
                continue;
            }
        };
        for peer in peers {
            // Never at the same time as a sync the owner asked for (`node::local`).
            let _one_at_a_time = store.sync_gate().lock().await;
            let round = sync_with(&store, &peer, None);
            let result = tokio::select! {
                r = round => r,
                _ = stop.changed() => return,
            };
            match result {
                Ok(rep) => {
                    for l in rep.ledgers.iter().filter(|l| l.error.is_some() || l.pulled > 0 || l.pushed > 0) {
                        eprintln!("background sync with {}: {}", peer.name, line(l));
                    }
                }
                Err(e) => eprintln!("background sync: {e}"),
            }
        }
    }
}

/// One line per ledger of a sync report, as `vereffen sync` prints it.
pub fn line(l: &LedgerSync) -> String {
    let mut s = format!(
        "{}: {}pulled {} new ({} already here), pushed {} new; {}; set digest {} ({} entries)",
        l.ledger,
        if l.created { "created here; " } else { "" },
        l.pulled,
        l.pulled_known,
        l.pushed,
        if l.witness.is_empty() { "not witnessed" } else { &l.witness },
        if l.digest.is_empty() { "-" } else { &l.digest },
        l.size,
    );
    if !l.peer_digest.is_empty() && l.peer_digest != l.digest {
        s.push_str(&format!(", peer has {}", l.peer_digest));
    }
    if let Some(e) = &l.error {
        s.push_str(&format!("\n  ERROR: {e}"));
    }
    s
}

/// A signed HTTP client for one peer.
struct PeerClient {
    peer: Peer,
    http: reqwest::Client,
    base: reqwest::Url,
    authority: String,
}

struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl PeerClient {
    fn new(home: &Home, peer: &Peer) -> Result<PeerClient, SyncError> {
        let err = |what: String| SyncError::Peer { peer: peer.name.clone(), what };
        // Checked again: peers.json may have been edited by hand.
        let url = home::check_peer_url(&peer.url, peer.insecure_http)?;
        let base = reqwest::Url::parse(&url).map_err(|e| err(format!("URL {url}: {e}")))?;
        let host = base.host_str().ok_or_else(|| err(format!("URL {url} has no host")))?;
        let authority = match base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let tls = crate::node::tls::client_config(home.peer_ca_path(peer).as_deref())?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .http1_only()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(PEER_REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| err(format!("cannot set up the HTTP client: {e}")))?;
        Ok(PeerClient { peer: peer.clone(), http, base, authority })
    }

    fn err(&self, what: impl Into<String>) -> SyncError {
        SyncError::Peer { peer: self.peer.name.clone(), what: what.into() }
    }

    /// Sends a signed request; reads at most [`MAX_RESPONSE_BYTES`].
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        key: &SigningKey,
        key_id: &str,
    ) -> Result<Answer, SyncError> {
        let now = now_secs();
        let nonce = random_nonce();
        let parts = RequestParts { method, authority: &self.authority, path_and_query, body: &body };
        let sig = httpsig::sign_request(&parts, key_id, key, now, now + REQUEST_VALIDITY_SECS, &nonce);
        let url = self.base.join(path_and_query).map_err(|e| self.err(format!("bad path {path_and_query}: {e}")))?;
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| self.err(e.to_string()))?;
        let mut req = self
            .http
            .request(m, url)
            .header("signature-input", sig.signature_input)
            .header("signature", sig.signature)
            .header("content-digest", sig.content_digest);
        if method == "POST" {
            req = req.header("content-type", "application/jsonl").body(body);
        }
        let what = format!("{method} {path_and_query}");
        let mut t = std::time::Instant::now();
        let mut resp = req.send().await.map_err(|e| self.err(format!("{what}: {}", error_chain(&e))))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if resp.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(self.err(format!("{what}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")));
        }
        let mut out = Vec::new();
        while let Some(chunk) =
            resp.chunk().await.map_err(|e| self.err(format!("{what}: the answer was cut off ({})", error_chain(&e))))?
        {
            if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(self.err(format!("{what}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        trace(&what, &mut t);
        Ok(Answer { status, headers, body: out })
    }

    /// Like [`send`], and an error unless the status is 200.
    async fn ok(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        key: &SigningKey,
        key_id: &str,
    ) -> Result<Answer, SyncError> {
        let a = self.send(method, path_and_query, body, key, key_id).await?;
        if a.status == reqwest::StatusCode::OK {
            return Ok(a);
        }
        let msg = serde_json::from_slice::<Value>(&a.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&a.body[..a.body.len().min(300)]).into_owned());
        let hint = if a.status == reqwest::StatusCode::NOT_FOUND {
            " (the peer does not show this ledger to us: it does not hold it, our key is not a live key of a registered party there, or it refused the request's signature; check the clocks and the keys)"
        } else {
            ""
        };
        Err(self.err(format!("{method} {path_and_query}: answered {}: {}{hint}", a.status, msg.trim())))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn random_nonce() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    data_encoding::HEXLOWER.encode(&b)
}

/// The key names this node can sign `GET /v1/ledgers` with: each key of
/// the home with the party it is a live key of in some local ledger, else
/// the party named by its file (`DIR/keys/<party>.key`).
fn identities(store: &Store) -> Vec<(SigningKey, String)> {
    let mut out: Vec<(SigningKey, String)> = Vec::new();
    let ids = store.home().ledger_ids().unwrap_or_default();
    for (file, key) in store.keys() {
        let name = key.verifying_key();
        let mut party = None;
        for id in &ids {
            // From who may see the copy when that is known (no copy opened
            // again for it), else from its registry.
            let p = match store.live_party_of(id, &name) {
                Some(p) => p,
                None => store
                    .with_ledger(id, |l| l.registry().current_owner(&KeyId::of(&name)).map(|p| p.id.clone()))
                    .ok()
                    .flatten(),
            };
            if p.is_some() {
                party = p;
                break;
            }
        }
        let party = party.unwrap_or_else(|| file.trim_end_matches(".key").to_string());
        if !out.iter().any(|(k, p)| k.verifying_key() == name && *p == party) {
            out.push((key.clone(), party));
        }
    }
    out
}

/// Syncs the ledgers shared with `peer` (or only `only`).
pub async fn sync_with(store: &Arc<Store>, peer: &Peer, only: Option<&str>) -> Result<SyncReport, SyncError> {
    let mut t = std::time::Instant::now();
    let client = PeerClient::new(store.home(), peer)?;
    trace("http client", &mut t);
    // Which ledgers the peer shares with us, asked with each of our keys.
    let mut shared = std::collections::BTreeSet::new();
    let mut last_err = None;
    let ids = identities(store);
    trace("identities", &mut t);
    if ids.is_empty() {
        return Err(client.err(format!(
            "{} holds no keys: put the organisation's party keys there",
            store.home().dir().join(home::KEYS_DIR).display()
        )));
    }
    for (key, party) in &ids {
        let key_id = audit::key_name(party, &key.verifying_key());
        match client.ok("GET", "/v1/ledgers", vec![], key, &key_id).await {
            Ok(a) => {
                let v: Value = serde_json::from_slice(&a.body)
                    .map_err(|e| client.err(format!("GET /v1/ledgers: not JSON ({e})")))?;
                let list = v
                    .get("ledgers")
                    .and_then(Value::as_array)
                    .ok_or_else(|| client.err("GET /v1/ledgers: no \"ledgers\" list"))?;
                for id in list {
                    let id = id.as_str().filter(|s| crate::ledger::entry::is_valid_name(s)).ok_or_else(|| {
                        client.err("GET /v1/ledgers: the list holds something that is not a ledger id")
                    })?;
                    shared.insert(id.to_string());
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    if shared.is_empty() {
        if let Some(e) = last_err {
            return Err(e);
        }
    }
    trace("list ledgers", &mut t);
    let mut report = SyncReport { peer: peer.name.clone(), ledgers: Vec::new() };
    let targets: Vec<String> = match only {
        Some(id) => {
            if !shared.contains(id) {
                return Err(client.err(format!(
                    "the peer does not share ledger {id} with us (it shares: {})",
                    if shared.is_empty() {
                        "none".to_string()
                    } else {
                        shared.iter().cloned().collect::<Vec<_>>().join(", ")
                    }
                )));
            }
            vec![id.to_string()]
        }
        None => shared.into_iter().collect(),
    };
    for id in targets {
        let mut ls = LedgerSync { ledger: id.clone(), ..Default::default() };
        if let Err(e) = sync_ledger(store, &client, &id, &ids, &mut ls).await {
            ls.error = Some(e.to_string());
        }
        report.ledgers.push(ls);
    }
    Ok(report)
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn set_state(store: &Store, peer: &str, ledger: &str, state: &SyncState) -> Result<(), SyncError> {
    Ok(store.home().set_sync_state(peer, ledger, state)?)
}

async fn sync_ledger(
    store: &Arc<Store>,
    client: &PeerClient,
    id: &str,
    ids: &[(SigningKey, String)],
    ls: &mut LedgerSync,
) -> Result<(), SyncError> {
    let peer_name = client.peer.name.clone();
    let mut t = std::time::Instant::now();
    let mut state = store.home().sync_state(&peer_name, id)?;
    if let Some(why) = &state.stopped {
        ls.stopped = true;
        return Err(client.err(format!(
            "sync of ledger {id} is stopped: {why}. After the parties have resolved it, clear it with `vereffen peer reset-fork {peer_name} --ledger-id {id}`"
        )));
    }
    if !store.hosts(id) {
        let s = store.clone();
        let id2 = id.to_string();
        blocking(move || s.create_ledger(&id2)).await?;
        ls.created = true;
        state = SyncState::default();
    }
    // The key we sign with here: ours in this ledger, else (a new copy
    // that does not know us yet) the identity the peer listed it for.
    let (key, party) = {
        let s = store.clone();
        let id2 = id.to_string();
        let own = blocking(move || s.with_ledger(&id2, |l| s.key_for(l))).await??;
        match own {
            Some(k) => k,
            None => ids.first().cloned().ok_or_else(|| client.err("no key"))?,
        }
    };
    let key_id = audit::key_name(&party, &key.verifying_key());
    let base = format!("/v1/ledgers/{id}");
    trace("state and key", &mut t);

    // 1. The peer's copy must extend what we witnessed, before we take from it.
    match witness(store, client, id, &key, &party, &key_id, false).await {
        Ok(Some(w)) if w.starts_with("EQUIVOCATION") || w.starts_with("STOP") => {
            stop(store, &peer_name, id, &mut state, &w)?;
            ls.stopped = true;
            return Err(client.err(stop_message(&w, &peer_name, id)));
        }
        Ok(_) => {}
        Err(e) => return Err(e),
    }
    trace("1 check", &mut t);

    // 2. Pull.
    for _ in 0..MAX_PULL_REQUESTS {
        let start = state.pulled + 1;
        let path = format!("{base}/entries?start={start}&count={PULL_BATCH}");
        let a = client.ok("GET", &path, vec![], &key, &key_id).await?;
        let peer_size = a
            .headers
            .get("vereffen-size")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| client.err(format!("GET {path}: no vereffen-size header")))?;
        let source = PathBuf::from(format!("peer {peer_name}: GET {path}"));
        let id2 = id.to_string();
        let body = a.body;
        let entries = blocking(move || bundle::read_range_from(body.as_slice(), &source, &id2, start))
            .await
            .map_err(|e| client.err(format!("sent a bundle that is refused, nothing of it was imported: {e}")))?;
        let n = entries.len() as u64;
        let expected = peer_size.saturating_sub(state.pulled).min(PULL_BATCH);
        if n != expected {
            return Err(client.err(format!(
                "GET {path}: sent {n} entries where its size {peer_size} gives {expected}; nothing of it was imported"
            )));
        }
        if n == 0 {
            break;
        }
        let s = store.clone();
        let id2 = id.to_string();
        let source = PathBuf::from(format!("peer {peer_name}: GET {path}"));
        let pushed = state.pushed;
        let (rep, new_pushed) = blocking(move || {
            s.with_ledger(&id2, |l| {
                let before = l.len();
                let rep = bundle::import_entries_uncounted(l, entries, &source)?;
                // What the peer sent it holds: if it held all of ours
                // before, it holds all of ours now.
                let np = if pushed == before { l.len() } else { pushed };
                Ok::<_, bundle::BundleError>((rep, np))
            })
        })
        .await?
        .map_err(|e| client.err(format!("sent entries that are refused; nothing of the batch was imported: {e}")))?;
        ls.pulled += rep.added;
        ls.pulled_known += rep.already_present;
        state.pulled += n;
        state.pushed = new_pushed;
        set_state(store, &peer_name, id, &state)?;
        trace("2 pull batch imported", &mut t);
        if state.pulled >= peer_size {
            break;
        }
    }

    // 3. Push what the peer lacks. When the peer holds every entry of ours
    // (`pushed` is our size) there is nothing to push, and no set digest is
    // computed on either side (each costs the whole copy).
    let our_size = size_of(store, id).await?;
    trace("3 size", &mut t);
    if state.pushed < our_size {
        let ours = digest_of(store, id).await?.0;
        let theirs = peer_digest(client, &base, &key, &key_id).await?;
        if ours == theirs {
            state.pushed = our_size;
            set_state(store, &peer_name, id, &state)?;
        }
    }
    while state.pushed < our_size {
        let s = store.clone();
        let id2 = id.to_string();
        let from = state.pushed + 1;
        let (body, last) = blocking(move || s.with_ledger(&id2, |l| push_chunk(l, from))).await??;
        let path = format!("{base}/entries");
        let a = client.ok("POST", &path, body, &key, &key_id).await?;
        let v: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        ls.pushed += v.get("appended").and_then(Value::as_u64).unwrap_or(0) as usize;
        state.pushed = last;
        set_state(store, &peer_name, id, &state)?;
    }

    trace("3 push", &mut t);
    // 4. Witness the peer's copy as it is now.
    match witness(store, client, id, &key, &party, &key_id, true).await? {
        Some(w) if w.starts_with("EQUIVOCATION") || w.starts_with("STOP") => {
            stop(store, &peer_name, id, &mut state, &w)?;
            ls.stopped = true;
            return Err(client.err(stop_message(&w, &peer_name, id)));
        }
        Some(w) => ls.witness = w,
        None => {}
    }
    trace("4 witness", &mut t);
    // The witness entry we posted is held by both sides.
    let (ours, our_size) = digest_of(store, id).await?;
    trace("5 our digest", &mut t);
    if state.pushed + 1 == our_size {
        state.pushed = our_size;
        set_state(store, &peer_name, id, &state)?;
    }
    ls.digest = ours;
    ls.size = our_size;
    ls.peer_digest = peer_digest(client, &base, &key, &key_id).await?;
    trace("5 peer digest", &mut t);
    Ok(())
}

fn stop_message(w: &str, peer: &str, id: &str) -> String {
    format!(
        "{w}\nSync of ledger {id} with peer {peer} is STOPPED. The evidence is recorded in this copy (`vereffen --ledger DIR audit status`). After the parties have resolved it, clear it with `vereffen peer reset-fork {peer} --ledger-id {id}`"
    )
}

fn stop(store: &Store, peer: &str, id: &str, state: &mut SyncState, why: &str) -> Result<(), SyncError> {
    state.stopped = Some(why.lines().next().unwrap_or(why).to_string());
    set_state(store, peer, id, state)
}

async fn size_of(store: &Arc<Store>, id: &str) -> Result<u64, SyncError> {
    let s = store.clone();
    let id2 = id.to_string();
    Ok(blocking(move || s.with_ledger(&id2, |l| l.len())).await?)
}

async fn digest_of(store: &Arc<Store>, id: &str) -> Result<(String, u64), SyncError> {
    let s = store.clone();
    let id2 = id.to_string();
    let (d, n) = blocking(move || s.with_ledger(&id2, |l| l.set_digest().map(|d| (d, l.len())))).await??;
    Ok((data_encoding::HEXLOWER.encode(&d), n))
}

async fn peer_digest(client: &PeerClient, base: &str, key: &SigningKey, key_id: &str) -> Result<String, SyncError> {
    let a = client.ok("GET", &format!("{base}/digest"), vec![], key, key_id).await?;
    let v: Value = serde_json::from_slice(&a.body).map_err(|e| client.err(format!("GET {base}/digest: {e}")))?;
    v.get("digest")
        .and_then(Value::as_str)
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .ok_or_else(|| client.err(format!("GET {base}/digest: no 64-hex digest")))
}

/// A bundle of our entries from sequence `from` on, at most [`PUSH_BATCH`]
/// entries and [`PUSH_MAX_BYTES`]; with the last sequence it holds.
fn push_chunk(l: &Ledger, from: u64) -> Result<(Vec<u8>, u64), crate::ledger::LedgerError> {
    let mut entries = Vec::new();
    let mut bytes = 0usize;
    let mut last = from - 1;
    // Only what one bundle can hold is read (not the rest of the journal).
    l.for_each_until(from, from.saturating_add(PUSH_BATCH as u64 - 1), |seq, e| {
        if entries.len() < PUSH_BATCH && last + 1 == seq {
            let size = e.body_bytes().len() * 2 + 1024;
            if entries.is_empty() || bytes + size <= PUSH_MAX_BYTES {
                bytes += size;
                last = seq;
                entries.push((seq, e));
            }
        }
        Ok(())
    })?;
    let mut out = Vec::new();
    bundle::write_bundle(&mut out, l.id(), from, &entries)
        .map_err(|e| crate::ledger::LedgerError::Io { path: l.dir().to_path_buf(), source: e })?;
    Ok((out, last))
}

/// Seconds since the epoch of the claimed time (`VEREFFEN_TIME` or now),
/// as `audit witness` stamps cosignatures.
fn cosign_time() -> u64 {
    let text = crate::ledger::entry::claimed_time_now();
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp().max(0) as u64)
        .unwrap_or(0)
}

fn body(ledger: &str, party: &str, key: &SigningKey, kind: &str, payload: Value) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: ledger.to_string(),
        kind: kind.to_string(),
        author: Author { party: party.to_string(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: crate::ledger::entry::claimed_time_now(),
        refs: vec![],
        payload,
    }
}

async fn fetch_note(
    client: &PeerClient,
    id: &str,
    size: Option<u64>,
    key: &SigningKey,
    key_id: &str,
) -> Result<SignedNote, SyncError> {
    let path = match size {
        Some(n) => format!("/v1/ledgers/{id}/checkpoint?size={n}"),
        None => format!("/v1/ledgers/{id}/checkpoint"),
    };
    let a = client.ok("GET", &path, vec![], key, key_id).await?;
    if a.body.len() > audit::checkpoint::MAX_NOTE_BYTES {
        return Err(client.err(format!("GET {path}: the checkpoint is too large")));
    }
    SignedNote::parse_bytes(&a.body).map_err(|e| client.err(format!("GET {path}: not a signed checkpoint: {e}")))
}

/// Witnessing of the peer's copy. `record` false: only the check before
/// pulling (no cosignature, skipped when the checkpoint cannot be verified
/// yet). Returns a one-line outcome; one starting with `EQUIVOCATION` or
/// `STOP` means sync must stop (the evidence is recorded when there is any).
#[allow(clippy::too_many_arguments)]
async fn witness(
    store: &Arc<Store>,
    client: &PeerClient,
    id: &str,
    key: &SigningKey,
    party: &str,
    key_id: &str,
    record: bool,
) -> Result<Option<String>, SyncError> {
    let peer = &client.peer;
    let origin = audit::origin(id, &peer.party);
    let mut t = std::time::Instant::now();
    let note = fetch_note(client, id, None, key, key_id).await?;
    if note.checkpoint.origin() != origin {
        return Err(client.err(format!(
            "its checkpoint names origin {}, expected {origin} (peer add --party {})",
            note.checkpoint.origin(),
            peer.party
        )));
    }
    let peer_key_name = format!("{}/{}", peer.party, peer.key_fingerprint);
    if !note.signatures.iter().any(|s| s.name == peer_key_name) {
        return Err(client.err(format!(
            "its checkpoint is not signed by {peer_key_name} (the key fingerprint given to `peer add`); if the peer rotated its key, update the peer"
        )));
    }
    // Verify against our registry and find what we witnessed before.
    let s = store.clone();
    let (id2, party2, origin2, note2) = (id.to_string(), party.to_string(), origin.clone(), note.clone());
    let (verified, witnessed) = blocking(move || {
        s.with_ledger(&id2, |l| {
            let v = audit::verify_with_registry(&note2, l.id(), l.registry()).map(|_| ()).map_err(|e| e.to_string());
            let w = audit::witnessed_by(l, &party2, &origin2).map_err(|e| e.to_string());
            (v, w)
        })
    })
    .await?;
    let witnessed = witnessed.map_err(|e| client.err(e))?;
    trace("witness: verify and witnessed_by", &mut t);
    if let Err(e) = verified {
        if !record {
            // Keys we do not hold yet (a rotation the pull brings): checked after the pull.
            return Ok(None);
        }
        return Err(client.err(format!("its checkpoint does not verify against this copy's registry: {e}")));
    }
    if !record && witnessed.is_empty() {
        return Ok(None);
    }
    let mut decision = audit::decide_witness(&witnessed, &note, None);
    if let Err(WitnessRefusal::ProofNeeded { old, new }) = &decision {
        let (old, new) = (*old, *new);
        if record && only_witness_records(client, id, old, new, key, key_id).await? {
            return Ok(Some(format!("nothing new to witness at {origin} (only witness records since size {old})")));
        }
        let path = format!("/v1/ledgers/{id}/consistency?old={old}&new={new}");
        let a = client.ok("GET", &path, vec![], key, key_id).await?;
        let proof = parse_proof(&a.body).map_err(|e| client.err(format!("GET {path}: {e}")))?;
        let last = witnessed
            .iter()
            .rfind(|n| n.checkpoint.size() == old)
            .cloned()
            .ok_or_else(|| client.err("internal: the last witnessed checkpoint is gone"))?;
        let bundle = ConsistencyBundle { path: proof, keys: vec![], old: last.clone(), new: note.clone() };
        decision = audit::decide_witness(&witnessed, &note, Some(&bundle));
        if let Err(WitnessRefusal::ProofInvalid { .. }) = &decision {
            // Not evidence by itself (anyone can alter a proof): ask the
            // keeper to sign its tree head at the size we witnessed.
            let old_note = fetch_note(client, id, Some(old), key, key_id).await?;
            if old_note.checkpoint.origin() == origin && old_note.checkpoint.root() != last.checkpoint.root() {
                decision = audit::decide_witness(&witnessed, &old_note, None);
            }
        }
    }
    let (kind, payload, outcome) = match decision {
        Ok(WitnessDecision::Same) => return Ok(Some(format!("already witnessed {origin} at size {}", note.checkpoint.size()))),
        Ok(d) if record => {
            let name = audit::key_name(party, &key.verifying_key());
            let mut cosigned = note.clone();
            cosigned.signatures.retain(|s| s.name != name);
            let sig = audit::checkpoint::cosign(&note.checkpoint, &name, key, cosign_time())
                .map_err(|e| client.err(e.to_string()))?;
            cosigned.signatures.push(sig);
            let what = match d {
                WitnessDecision::Extends { from } => {
                    format!("witnessed {origin} at size {} (extends size {from})", note.checkpoint.size())
                }
                _ => format!("witnessed {origin} at size {} (first)", note.checkpoint.size()),
            };
            (audit::KIND_WITNESS, audit::note_payload(&cosigned), what)
        }
        Ok(_) => return Ok(None),
        Err(WitnessRefusal::Equivocation(ev)) => {
            (audit::KIND_EQUIVOCATION, ev.payload(), format!("EQUIVOCATION recorded: {}", ev.report()))
        }
        Err(WitnessRefusal::Stale { last, new }) => {
            return Ok(Some(format!(
                "STOP: the peer's copy has {new} entries, fewer than the {last} we witnessed: it was rolled back or replaced (no signed evidence of a fork at one size)"
            )))
        }
        Err(other) => return Err(client.err(format!("its checkpoint cannot be witnessed: {other}"))),
    };
    let entry = Entry::sign(body(id, party, key, kind, payload), &[key]).map_err(|e| client.err(e.to_string()))?;
    let s = store.clone();
    let id2 = id.to_string();
    let e2 = entry.clone();
    blocking(move || s.with_ledger(&id2, |l| l.append(std::slice::from_ref(&e2)))).await??;
    trace("witness: decide, sign and append", &mut t);
    if kind == audit::KIND_WITNESS {
        let mut out = Vec::new();
        bundle::write_bundle(&mut out, id, 1, &[(1, entry)]).map_err(|e| client.err(e.to_string()))?;
        client.ok("POST", &format!("/v1/ledgers/{id}/cosignature"), out, key, key_id).await?;
    }
    Ok(Some(outcome))
}

/// True when the peer's entries `old+1..=new` are all `audit.witness`
/// records (looked at only up to [`WITNESS_LOOKAHEAD`] entries): then its
/// copy changed by witness records alone and is not witnessed again, so
/// witnesses do not witness each other's witness records forever.
async fn only_witness_records(
    client: &PeerClient,
    id: &str,
    old: u64,
    new: u64,
    key: &SigningKey,
    key_id: &str,
) -> Result<bool, SyncError> {
    if new <= old || new - old > WITNESS_LOOKAHEAD {
        return Ok(false);
    }
    let path = format!("/v1/ledgers/{id}/entries?start={}&count={}", old + 1, new - old);
    let a = client.ok("GET", &path, vec![], key, key_id).await?;
    let source = PathBuf::from(format!("peer {}: GET {path}", client.peer.name));
    let entries =
        bundle::read_range_from(a.body.as_slice(), &source, id, old + 1).map_err(|e| client.err(e.to_string()))?;
    Ok(entries.len() as u64 == new - old && entries.iter().all(|(_, e)| e.kind() == audit::KIND_WITNESS))
}

fn parse_proof(body: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let path = v.get("path").and_then(Value::as_array).ok_or("no \"path\" list")?;
    if path.len() > crate::ledger::merkle::MAX_PROOF_HASHES {
        return Err("the proof is longer than any proof can be".into());
    }
    path.iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| data_encoding::HEXLOWER.decode(s.as_bytes()).ok())
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| "a proof hash is not 64 hex characters".to_string())
        })
        .collect()
}
