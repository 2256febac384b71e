//! `vereffen serve`: the HTTP API v1 of a node (`docs/PROTOCOL.md`).
//!
//! An axum application served by hyper-util over tokio, TLS by tokio-rustls
//! from PEM files, plain HTTP only on a loopback address unless
//! `insecure_http`. Every request is signed (RFC 9421, [`crate::node::httpsig`]);
//! on a ledger route, every refusal of the signature and every ledger the
//! signer may not see gives one identical 404 ([`not_found`]), so a party
//! cannot learn which other ledgers a node holds. Every limit on what a peer
//! sends is a named constant below, gathered in [`Limits`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use serde_json::json;

use crate::ledger::bundle;
use crate::node::home::{self, Home};
use crate::node::httpsig::{self, HttpSigError, ReplayCache, RequestParts, VerifiedRequest};
use crate::node::store::{Store, StoreError};

/// Largest request body (a bundle POST): 64 MiB. Larger gets 413.
pub const MAX_BODY_BYTES: usize = 64 << 20;
/// Most entries asked for by one `GET .../entries` and carried by one
/// bundle POST. More gets 400.
pub const MAX_ENTRIES_PER_REQUEST: u64 = 10_000;
/// Largest request head (request line and headers): 16 KiB. Larger gets 431.
pub const MAX_HEADER_BYTES: usize = 16 << 10;
/// Requests per second a peer key may make on average (token bucket rate).
pub const RATE_PER_SEC: u64 = 20;
/// Requests a peer key may make in a burst (token bucket size). Beyond: 429.
pub const RATE_BURST: u64 = 100;
/// Time a client has to send the request head after connecting (or after
/// the previous request on the connection); then the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a client has to send the whole body once the head arrived. Then 408.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a request may take in total, including an import. Then 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Bodies over [`SMALL_BODY_BYTES`] (or of unknown length) read at once;
/// further ones wait, so connections x body size cannot exhaust memory.
pub const MAX_LARGE_BODIES: usize = 4;
/// A body up to this size is read without waiting for a large-body place.
pub const SMALL_BODY_BYTES: u64 = 1 << 20;
/// Most connections served at once; further connections wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;
/// Threads for ledger work (verify, append, read), shared by all requests:
/// each thread keeps its own allocator heap, so their number bounds the
/// node's memory under many concurrent peers (tests/node_load.rs).
pub const MAX_BLOCKING_THREADS: usize = 8;
/// (keyid, nonce) pairs remembered against replays.
pub const REPLAY_CACHE_ENTRIES: usize = 200_000;
/// Peer keys tracked by the rate limiter (registered keys only, so bounded).
pub const MAX_RATE_KEYS: usize = 100_000;
/// Entries per tile: `GET .../entries` of a full tile (start a multiple of
/// TILE, count TILE) is immutable and cacheable.
pub const TILE: u64 = 256;
/// How long a graceful stop waits for open requests before closing.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The limits a server applies; [`Limits::default`] is the named constants.
#[derive(Debug, Clone)]
pub struct Limits {
    /// [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// [`MAX_ENTRIES_PER_REQUEST`].
    pub max_entries: u64,
    /// [`MAX_HEADER_BYTES`].
    pub max_header_bytes: usize,
    /// [`RATE_PER_SEC`].
    pub rate_per_sec: u64,
    /// [`RATE_BURST`].
    pub rate_burst: u64,
    /// [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// [`BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// [`MAX_CONNECTIONS`].
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            max_entries: MAX_ENTRIES_PER_REQUEST,
            max_header_bytes: MAX_HEADER_BYTES,
            rate_per_sec: RATE_PER_SEC,
            rate_burst: RATE_BURST,
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// How to run a node.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The node home.
    pub home: PathBuf,
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// TLS certificate chain and private key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Allow plain HTTP on a non-loopback address.
    pub insecure_http: bool,
    /// Sync with every peer on this period, in the background.
    pub sync_every: Option<Duration>,
    /// The limits.
    pub limits: Limits,
    /// The organisation's signing keys (file name, key), when the caller
    /// read them (encrypted ones need a passphrase); `None`: the plain key
    /// files under `DIR/keys`.
    pub keys: Option<Vec<(String, ed25519_dalek::SigningKey)>>,
    /// Routes served beside the API for every path the API does not own
    /// (the web workspace, built by the command line): `/v1/...` stays the
    /// API whatever this router holds. `None`: the API only.
    pub extra: Option<ExtraRoutes>,
}

/// Builds the router of the paths outside `/v1` from the node's store,
/// once the store is open (the node layer does not know what it serves
/// there). Its requests carry the peer address as an
/// `axum::extract::ConnectInfo<SocketAddr>` extension and are bounded by
/// the same request timeout as the API; the router bounds its own bodies.
#[derive(Clone)]
pub struct ExtraRoutes(pub Arc<dyn Fn(Arc<Store>) -> axum::Router + Send + Sync>);

impl std::fmt::Debug for ExtraRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExtraRoutes(..)")
    }
}

/// Why a node cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A configuration error (what to do is in the message).
    #[error("{0}")]
    Config(String),
    /// The home or its ledgers cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The home cannot be used.
    #[error(transparent)]
    Home(#[from] home::HomeError),
    /// Listening or the runtime failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A running node: its address, and a way to stop it.
pub struct ServerHandle {
    addr: SocketAddr,
    tls: bool,
    stop: tokio::sync::watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
    done: Option<tokio::task::JoinHandle<()>>,
    store: Arc<Store>,
    /// The node's local socket (`node::local`), removed when the node stops.
    local_socket: Option<std::path::PathBuf>,
}

impl ServerHandle {
    /// The bound address (the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The base URL (`http://ADDR` or `https://ADDR`).
    pub fn url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }
    /// The node's store (its ledger copies).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
    /// Blocks until SIGINT or SIGTERM, then stops gracefully.
    pub fn run_until_signal(mut self) -> Result<(), ServeError> {
        let rt = self.runtime.take().expect("a running server has its runtime");
        let waited = rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        });
        self.runtime = Some(rt);
        waited.map_err(|source| ServeError::Io { what: "cannot wait for a stop signal".into(), source })?;
        eprintln!("stopping: finishing open requests (at most {} s)", SHUTDOWN_GRACE.as_secs());
        self.stop_now();
        Ok(())
    }
    /// Stops gracefully: no new connections, open requests finish (bounded
    /// by [`SHUTDOWN_GRACE`]), ledger copies closed.
    pub fn shutdown(mut self) {
        self.stop_now();
    }
    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let (Some(rt), Some(done)) = (self.runtime.take(), self.done.take()) {
            let _ = rt.block_on(async { tokio::time::timeout(SHUTDOWN_GRACE, done).await });
            rt.shutdown_timeout(Duration::from_secs(1));
        }
        // The socket's accept task removes it when it sees the stop, but the
        // runtime may end before that task runs again: remove it here too,
        // so a stopped node never leaves a socket that looks like a node.
        if let Some(path) = self.local_socket.take() {
            let _ = std::fs::remove_file(path);
        }
        self.store.close_all();
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Shared state of the request handlers.
struct App {
    store: Arc<Store>,
    limits: Limits,
    replay: Mutex<ReplayCache>,
    rate: Mutex<HashMap<String, (u128, Instant)>>,
    large_bodies: tokio::sync::Semaphore,
}

/// Starts a node: opens the home, binds, serves on a runtime of its own.
/// Returns once it listens.
pub fn serve(config: ServeConfig) -> Result<ServerHandle, ServeError> {
    let ip = config.listen.ip();
    if config.tls.is_none() && !ip.is_loopback() && !config.insecure_http {
        return Err(ServeError::Config(format!(
            "refusing plain HTTP on {} (not a loopback address): anyone on the path could read and alter the traffic. Give --tls-cert FILE --tls-key FILE, or --insecure-http if the network is private and trusted",
            config.listen
        )));
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(tokio_rustls::TlsAcceptor::from(crate::node::tls::server_config(cert, key)?)),
        None => None,
    };
    let home = Home::open(&config.home)?;
    let keys = match config.keys.clone() {
        Some(k) => k,
        None => home.signing_keys()?,
    };
    if keys.is_empty() {
        eprintln!(
            "note: {} holds no keys: this node cannot sign checkpoints or witness (put the organisation's party keys there)",
            home.dir().join(home::KEYS_DIR).display()
        );
    }
    let store = Arc::new(Store::open(home, keys)?);
    // What sync and peers append shows in the next inbox without recomputing.
    store.keep_inbox_current();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .thread_name("vereffen-node")
        .build()
        .map_err(|source| ServeError::Io { what: "cannot start the runtime".into(), source })?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(config.listen))
        .map_err(|source| ServeError::Io { what: format!("cannot listen on {}", config.listen), source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Io { what: "cannot read the bound address".into(), source })?;
    let app = Arc::new(App {
        store: store.clone(),
        limits: config.limits.clone(),
        replay: Mutex::new(ReplayCache::new(REPLAY_CACHE_ENTRIES)),
        rate: Mutex::new(HashMap::new()),
        large_bodies: tokio::sync::Semaphore::new(MAX_LARGE_BODIES),
    });
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let api = axum::Router::new().fallback(handle).with_state(app.clone());
    // Paths under /v1 always reach the API; the extra routes get the rest.
    let api = match &config.extra {
        None => api,
        Some(extra) => {
            let extra = (extra.0)(store.clone());
            axum::Router::new().fallback_service(tower::service_fn(move |req: Request<Body>| {
                let (api, extra) = (api.clone(), extra.clone());
                async move {
                    use tower::ServiceExt as _;
                    let path = req.uri().path();
                    if path == "/v1" || path.starts_with("/v1/") {
                        api.oneshot(req).await
                    } else {
                        extra.oneshot(req).await
                    }
                }
            }))
        }
    };
    let router = api.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        config.limits.request_timeout,
    ));
    let done = runtime.spawn(accept_loop(listener, tls, router, config.limits.clone(), stop_rx.clone()));
    // `vereffen sync` on this home hands its work to this node (node::local).
    let local_socket = match crate::node::local::listen(&runtime, store.clone(), stop_rx.clone()) {
        Ok(path) => Some(path),
        Err(e) => {
            eprintln!("note: `vereffen sync` on this home will not use this node ({e}): it syncs by itself");
            None
        }
    };
    // Idle copies are closed, so other tools can use them between requests.
    runtime.spawn(close_idle(store.clone(), stop_rx.clone()));
    if let Some(every) = config.sync_every {
        runtime.spawn(crate::node::client::sync_loop(store.clone(), every, stop_rx));
    }
    Ok(ServerHandle {
        addr,
        tls: config.tls.is_some(),
        stop,
        runtime: Some(runtime),
        done: Some(done),
        store,
        local_socket,
    })
}

async fn close_idle(store: Arc<Store>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(crate::node::store::IDLE_SWEEP) => {}
            _ = stop.changed() => return,
        }
        let s = store.clone();
        let _ = tokio::task::spawn_blocking(move || s.close_idle(crate::node::store::IDLE_CLOSE)).await;
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    limits: Limits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .auto_date_header(false);
    let builder = Arc::new(builder);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        // A permit first: at most max_connections are accepted at once.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let builder = builder.clone();
        let service = hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
            router.clone(),
            with_peer(peer),
        ));
        let tls = tls.clone();
        let mut stop = stop.clone();
        let head_timeout = limits.header_read_timeout;
        tasks.spawn(async move {
            let _permit = permit;
            macro_rules! drive {
                ($io:expr) => {{
                    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new($io), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                }};
            }
            match tls {
                None => drive!(tcp),
                Some(acceptor) => {
                    // The TLS handshake counts against the head timeout.
                    if let Ok(Ok(stream)) = tokio::time::timeout(head_timeout, acceptor.accept(tcp)).await {
                        drive!(stream)
                    }
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

/// Adds the peer address of the connection to each of its requests (the
/// extension `axum::extract::ConnectInfo` reads).
fn with_peer<B>(peer: SocketAddr) -> impl Fn(Request<B>) -> Request<B> + Clone {
    move |mut req| {
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        req
    }
}

/// The one 404 of ledger routes: unknown ledger, a ledger the signer is not
/// a party of, and every refused signature on a ledger route get exactly
/// this response (same status, headers and body).
pub fn not_found() -> Response<Body> {
    respond(StatusCode::NOT_FOUND, json!({"error": "not found"}))
}

fn respond(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut text = body.to_string();
    text.push('\n');
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response<Body> {
    respond(status, json!({"error": msg.to_string()}))
}

/// A route of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Ledgers,
    Checkpoint(String),
    GetEntries(String),
    Consistency(String),
    Digest(String),
    PostEntries(String),
    Cosignature(String),
}

impl Route {
    fn parse(method: &str, path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/v1/ledgers")?;
        if rest.is_empty() {
            return (method == "GET").then_some(Route::Ledgers);
        }
        let rest = rest.strip_prefix('/')?;
        let (id, what) = rest.split_once('/')?;
        let id = id.to_string();
        Some(match (method, what) {
            ("GET", "checkpoint") => Route::Checkpoint(id),
            ("GET", "entries") => Route::GetEntries(id),
            ("GET", "consistency") => Route::Consistency(id),
            ("GET", "digest") => Route::Digest(id),
            ("POST", "entries") => Route::PostEntries(id),
            ("POST", "cosignature") => Route::Cosignature(id),
            _ => return None,
        })
    }
    fn ledger(&self) -> Option<&str> {
        match self {
            Route::Ledgers => None,
            Route::Checkpoint(id)
            | Route::GetEntries(id)
            | Route::Consistency(id)
            | Route::Digest(id)
            | Route::PostEntries(id)
            | Route::Cosignature(id) => Some(id),
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Query parameters `name=u64`, each at most once, no others.
fn query_numbers(query: &str, names: &[&str]) -> Result<Vec<Option<u64>>, String> {
    let mut out = vec![None; names.len()];
    if query.is_empty() {
        return Ok(out);
    }
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').ok_or_else(|| format!("query part {pair:?} is not name=value"))?;
        let i = names.iter().position(|n| *n == k).ok_or_else(|| format!("unknown query parameter {k:?}"))?;
        if out[i].is_some() {
            return Err(format!("query parameter {k:?} given twice"));
        }
        if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("query parameter {k}={v:?} is not a non-negative integer"));
        }
        out[i] = Some(v.parse().map_err(|_| format!("query parameter {k}={v:?} is too large"))?);
    }
    Ok(out)
}

async fn handle(axum::extract::State(app): axum::extract::State<Arc<App>>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let Some(route) = Route::parse(&method, &path) else {
        return error(StatusCode::NOT_FOUND, "no such endpoint (see docs/PROTOCOL.md: everything is under /v1)");
    };
    // The body, bounded in size and in time.
    let declared =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.limits.max_body_bytes as u64) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} bytes; send fewer entries per request", app.limits.max_body_bytes),
        );
    }
    // Large bodies take one of few places, waiting within the body timeout.
    let deadline = tokio::time::Instant::now() + app.limits.body_read_timeout;
    let _large = if declared.is_none_or(|n| n > SMALL_BODY_BYTES) {
        match tokio::time::timeout_at(deadline, app.large_bodies.acquire()).await {
            Ok(Ok(p)) => Some(p),
            _ => {
                return error(StatusCode::SERVICE_UNAVAILABLE, "the node is busy reading other large bodies; try again")
            }
        }
    } else {
        None
    };
    let bytes = match tokio::time::timeout_at(deadline, axum::body::to_bytes(body, app.limits.max_body_bytes)).await {
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body did not arrive within {} s", app.limits.body_read_timeout.as_secs()),
            )
        }
        Ok(Err(_)) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} bytes, or was cut off", app.limits.max_body_bytes),
            )
        }
        Ok(Ok(b)) => b,
    };
    let authority = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or(path.clone());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
        .collect();
    let app2 = app.clone();
    let route2 = route.clone();
    let mut t = std::time::Instant::now();
    let verified = tokio::task::spawn_blocking(move || {
        let req =
            RequestParts { method: &method, authority: &authority, path_and_query: &path_and_query, body: &bytes };
        let v = authenticate(&app2, &route2, &req, &headers);
        (v, bytes)
    })
    .await;
    let Ok((verified, bytes)) = verified else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "the request could not be checked");
    };
    let v = match verified {
        Ok(v) => v,
        Err(e) => {
            return match route.ledger() {
                // One answer for every refusal on a ledger route.
                Some(_) => not_found(),
                None => error(StatusCode::UNAUTHORIZED, format!("request refused: {e}")),
            };
        }
    };
    if let Some(wait) = rate_limited(&app, &v.key_id) {
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, format!("too many requests from key {}; slow down", v.key_id));
        if let Ok(h) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, h);
        }
        return r;
    }
    if crate::node::client::tracing() {
        crate::node::client::trace(&format!("server authenticate {path}"), &mut t);
    }
    let app2 = app.clone();
    let r = match tokio::task::spawn_blocking(move || dispatch(&app2, &route, &query, &v, &bytes)).await {
        Ok(r) => r,
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed inside the node"),
    };
    if crate::node::client::tracing() {
        crate::node::client::trace(&format!("server dispatch {path}"), &mut t);
    }
    r
}

/// Checks the signature and the replay cache. The key is looked up among
/// the live keys of registered parties of the ledger the route names (for
/// `GET /v1/ledgers`: of any hosted ledger).
fn authenticate(
    app: &App,
    route: &Route,
    req: &RequestParts,
    headers: &[(String, String)],
) -> Result<VerifiedRequest, HttpSigError> {
    let now = now_secs();
    let v = match route.ledger() {
        Some(id) => {
            let store = &app.store;
            store.refresh_if_changed(id);
            httpsig::verify_request(req, headers, now, &|name| store.lookup_key(id, name))?
        }
        None => {
            app.store.refresh_all();
            httpsig::verify_request(req, headers, now, &|name| app.store.ledgers_of_key(name).0)?
        }
    };
    let mut replay = app.replay.lock().map_err(|_| HttpSigError::ReplayCacheFull(0))?;
    replay.check_and_insert(&v, now)?;
    Ok(v)
}

/// One request in the token bucket's units: a bucket refilling at R
/// requests per second gains R units per nanosecond (integer arithmetic, no
/// float and no rounding drift).
const TOKEN: u128 = 1_000_000_000;

/// The bucket's tokens after `elapsed`, at most `burst` requests.
fn refill(tokens: u128, elapsed: std::time::Duration, rate: u64, burst: u64) -> u128 {
    tokens.saturating_add(elapsed.as_nanos().saturating_mul(u128::from(rate))).min(u128::from(burst) * TOKEN)
}

/// `Some(seconds to wait)` when `key` has no token left.
fn rate_limited(app: &App, key: &str) -> Option<u64> {
    let mut map = app.rate.lock().ok()?;
    let now = Instant::now();
    let (rate, burst) = (app.limits.rate_per_sec, app.limits.rate_burst);
    if map.len() >= MAX_RATE_KEYS && !map.contains_key(key) {
        // Forget buckets that are full again; they carry no state.
        map.retain(|_, (tokens, at)| refill(*tokens, at.elapsed(), rate, burst) < u128::from(burst) * TOKEN);
    }
    let (tokens, at) = map.entry(key.to_string()).or_insert((u128::from(burst) * TOKEN, now));
    *tokens = refill(*tokens, now.duration_since(*at), rate, burst);
    *at = now;
    if *tokens >= TOKEN {
        *tokens -= TOKEN;
        None
    } else {
        // Whole seconds until one token is back (at least 1).
        let per_sec = u128::from(rate.max(1)) * TOKEN;
        let wait = (TOKEN - *tokens).div_ceil(per_sec).max(1);
        Some(u64::try_from(wait).unwrap_or(u64::MAX))
    }
}

fn store_error(e: StoreError) -> Response<Body> {
    match e {
        StoreError::NotHosted(_) => not_found(),
        StoreError::Busy => error(StatusCode::SERVICE_UNAVAILABLE, e),
        StoreError::Ledger(crate::ledger::LedgerError::Locked { .. }) => {
            error(StatusCode::SERVICE_UNAVAILABLE, "the ledger is in use on this node; try again shortly")
        }
        other => error(StatusCode::INTERNAL_SERVER_ERROR, format!("the node cannot read this ledger: {other}")),
    }
}

fn dispatch(app: &App, route: &Route, query: &str, v: &VerifiedRequest, body: &[u8]) -> Response<Body> {
    let store = &app.store;
    let bad = |msg: String| error(StatusCode::BAD_REQUEST, msg);
    match route {
        Route::Ledgers => {
            let (_, ids) = store.ledgers_of_key(&v.key_id);
            respond(StatusCode::OK, json!({"ledgers": ids}))
        }
        Route::Checkpoint(id) => {
            let size = match query_numbers(query, &["size"]) {
                Ok(q) => q[0],
                Err(e) => return bad(e),
            };
            let r = store.with_ledger(id, |l| store.checkpoint(l, size));
            match r {
                Ok(Ok(Some(note))) => {
                    let mut r = Response::new(Body::from(note.to_text()));
                    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    r
                }
                Ok(Ok(None)) => error(
                    StatusCode::CONFLICT,
                    "this node has no key of a party of this ledger, so it signs no checkpoint of it",
                ),
                Ok(Err(e)) => match e {
                    StoreError::Audit(m) => bad(m),
                    other => store_error(other),
                },
                Err(e) => store_error(e),
            }
        }
        Route::GetEntries(id) => {
            let (start, count) = match query_numbers(query, &["start", "count"]) {
                Ok(q) => match (q[0], q[1]) {
                    (Some(s), Some(c)) if s >= 1 && c >= 1 => (s, c),
                    _ => return bad("give start=N (at least 1) and count=K (at least 1)".into()),
                },
                Err(e) => return bad(e),
            };
            if count > app.limits.max_entries {
                return bad(format!("count {count} is more than {} entries per request", app.limits.max_entries));
            }
            let r = store.with_ledger(id, |l| -> Result<(Vec<u8>, u64, u64), crate::ledger::LedgerError> {
                let len = l.len();
                let end = start.saturating_add(count - 1).min(len);
                let mut entries = Vec::new();
                if start <= len {
                    // Only the range is read: a batch of a large copy costs the batch.
                    l.for_each_until(start, end, |seq, e| {
                        debug_assert!(seq >= start && seq <= end, "for_each_until stays in its range");
                        entries.push((seq, e));
                        Ok(())
                    })?;
                }
                let mut out = Vec::new();
                bundle::write_bundle(&mut out, l.id(), start, &entries)
                    .map_err(|e| crate::ledger::LedgerError::Io { path: l.dir().to_path_buf(), source: e })?;
                Ok((out, entries.len() as u64, len))
            });
            match r {
                Ok(Ok((bytes, n, len))) => {
                    let mut r = Response::new(Body::from(bytes));
                    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
                    let full_tile = start % TILE == 1 && count == TILE && n == TILE;
                    let cache = if full_tile { "private, max-age=31536000, immutable" } else { "no-store" };
                    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                    if let Ok(h) = HeaderValue::from_str(&len.to_string()) {
                        r.headers_mut().insert("vereffen-size", h);
                    }
                    r
                }
                Ok(Err(e)) | Err(StoreError::Ledger(e)) => store_error(StoreError::Ledger(e)),
                Err(e) => store_error(e),
            }
        }
        Route::Consistency(id) => {
            let (old, new) = match query_numbers(query, &["old", "new"]) {
                Ok(q) => match (q[0], q[1]) {
                    (Some(o), Some(n)) if o <= n => (o, n),
                    _ => return bad("give old=M and new=N with M <= N".into()),
                },
                Err(e) => return bad(e),
            };
            let r = store.with_ledger(id, |l| -> Result<Vec<[u8; 32]>, String> {
                if new > l.len() {
                    return Err(format!("this copy has {} entries, fewer than {new}", l.len()));
                }
                l.consistency_proof(old, new).map_err(|e| e.to_string())
            });
            match r {
                Ok(Ok(path)) => {
                    let hashes: Vec<String> = path.iter().map(|h| data_encoding::HEXLOWER.encode(h)).collect();
                    respond(StatusCode::OK, json!({"old": old, "new": new, "path": hashes}))
                }
                Ok(Err(m)) => bad(m),
                Err(e) => store_error(e),
            }
        }
        Route::Digest(id) => match store.with_ledger(id, |l| l.set_digest().map(|d| (d, l.len()))) {
            Ok(Ok((d, n))) => respond(StatusCode::OK, json!({"digest": data_encoding::HEXLOWER.encode(&d), "size": n})),
            Ok(Err(e)) => store_error(StoreError::Ledger(e)),
            Err(e) => store_error(e),
        },
        Route::PostEntries(id) | Route::Cosignature(id) => {
            if !query.is_empty() {
                return bad("this endpoint takes no query".into());
            }
            let entries = match read_posted_bundle(body, id, app.limits.max_entries) {
                Ok(e) => e,
                Err(m) => return bad(m),
            };
            if matches!(route, Route::Cosignature(_)) {
                if let Err(m) = check_cosignature(&entries, &v.key_id) {
                    return bad(m);
                }
            }
            let source = PathBuf::from(format!("request body of {}", v.key_id));
            let r = store
                .with_ledger(id, |l| bundle::import_entries_uncounted(l, entries, &source).map(|rep| (rep, l.len())));
            match r {
                Ok(Ok((rep, size))) => respond(
                    StatusCode::OK,
                    json!({"appended": rep.added, "already_held": rep.already_present, "size": size}),
                ),
                Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, format!("nothing was appended: {e}")),
                Err(e) => store_error(e),
            }
        }
    }
}

/// Reads a posted bundle: the header's entry count is checked against the
/// limit before any line is parsed.
fn read_posted_bundle(
    body: &[u8],
    ledger: &str,
    max_entries: u64,
) -> Result<Vec<(usize, crate::ledger::entry::Entry)>, String> {
    let first = body.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let declared = serde_json::from_slice::<serde_json::Value>(first)
        .ok()
        .and_then(|v| v.get("entries").and_then(serde_json::Value::as_u64));
    if let Some(n) = declared {
        if n > max_entries {
            return Err(format!("the bundle declares {n} entries; at most {max_entries} per request"));
        }
    }
    let source = PathBuf::from("request body");
    bundle::read_from(body, &source, ledger).map_err(|e| e.to_string())
}

/// A cosignature POST carries exactly one `audit.witness` entry, written by
/// the signer's party.
fn check_cosignature(entries: &[(usize, crate::ledger::entry::Entry)], key_id: &str) -> Result<(), String> {
    let [(_, e)] = entries else {
        return Err("a cosignature is a bundle of exactly one audit.witness entry".into());
    };
    if e.kind() != crate::audit::KIND_WITNESS {
        return Err(format!("a cosignature is an audit.witness entry, not {}", e.kind()));
    }
    let party = key_id.split_once('/').map_or("", |(p, _)| p);
    if e.body().author.party != party {
        return Err("the cosignature must be written by the party that signs the request".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_queries() {
        assert_eq!(Route::parse("GET", "/v1/ledgers"), Some(Route::Ledgers));
        assert_eq!(Route::parse("GET", "/v1/ledgers/x/entries"), Some(Route::GetEntries("x".into())));
        assert_eq!(Route::parse("POST", "/v1/ledgers/x/entries"), Some(Route::PostEntries("x".into())));
        assert_eq!(Route::parse("DELETE", "/v1/ledgers/x/entries"), None);
        assert_eq!(Route::parse("GET", "/v2/ledgers"), None);
        assert_eq!(query_numbers("start=1&count=5", &["start", "count"]).unwrap(), vec![Some(1), Some(5)]);
        assert!(query_numbers("start=1&start=2", &["start", "count"]).is_err());
        assert!(query_numbers("start=-1", &["start"]).is_err());
        assert!(query_numbers("x=1", &["start"]).is_err());
    }
}
