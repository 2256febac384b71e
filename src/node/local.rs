//! The local channel of a running node: `vereffen sync` on a home whose
//! node runs hands the sync to that node instead of opening the copies
//! itself (`docs/PROTOCOL.md` 5).
//!
//! A node that holds its copies open syncs a large copy in the time of what
//! is new; a new process first opens the copy, and opening a sled index
//! costs its pages (about 50 ms of CPU at 100,000 entries, 118 ms at 300,000:
//! it grows with the copy). So `vereffen sync` first tries the node's unix
//! socket `HOME/run/node.sock` ([`SOCKET_DIR`], [`SOCKET_FILE`]); when no
//! node listens there it syncs directly, as before.
//!
//! Only the node's owner can use the channel: the node creates `HOME/run`
//! with mode 0700 and the socket with mode 0600, and it serves only a
//! connecting process of the user that owns `HOME/run` (checked with the
//! socket's peer credentials). A sync asked this way is the one the node
//! runs on its own with `serve --sync-every`, with the node's keys: it lets
//! the owner choose the moment, nothing more. The node runs such syncs and
//! its background rounds one at a time (`Store::sync_gate`).
//!
//! The exchange is one JSON line each way: the request
//! `{"version":1,"sync":{"peer":null|NAME,"ledger":null|ID}}`, the answer
//! `{"reports":[...]}` (the [`client::SyncReport`]s) or `{"error":"..."}`.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::node::client::{self, SyncError, SyncReport};
use crate::node::store::Store;

/// The directory of the node's socket inside the home (mode 0700).
pub const SOCKET_DIR: &str = "run";
/// The node's socket inside [`SOCKET_DIR`] (mode 0600).
pub const SOCKET_FILE: &str = "node.sock";
/// Largest request line the node reads.
pub const MAX_REQUEST_BYTES: u64 = 4096;
/// How long the node waits for the request line.
pub const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer `vereffen sync` reads from the node.
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;
/// How long `vereffen sync` waits for the node's answer: a whole sync,
/// a catch-up of a large ledger included (a pull is at most
/// `client::MAX_PULL_REQUESTS` requests).
pub const SYNC_ANSWER_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// The socket path of `home`.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join(SOCKET_DIR).join(SOCKET_FILE)
}

#[derive(Serialize, Deserialize)]
struct Request {
    version: u32,
    sync: SyncAsk,
}

#[derive(Serialize, Deserialize)]
struct SyncAsk {
    peer: Option<String>,
    ledger: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reports: Option<Vec<SyncReport>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Listens on `HOME/run/node.sock` for the node's owner (see the module
/// docs) until `stop`. An error means the channel is not offered (the node
/// serves anyway; `vereffen sync` then syncs directly).
pub(crate) fn listen(
    runtime: &tokio::runtime::Runtime,
    store: Arc<Store>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<PathBuf, String> {
    let dir = store.home().dir().join(SOCKET_DIR);
    let path = dir.join(SOCKET_FILE);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let owner = std::fs::metadata(&dir).map_err(|e| format!("{}: {e}", dir.display()))?.uid();
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            return Err(format!("another node already listens on {}", path.display()));
        }
        // Left by a node that ended without removing it.
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let listener = {
        let _guard = runtime.enter();
        tokio::net::UnixListener::bind(&path).map_err(|e| format!("{}: {e}", path.display()))?
    };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    runtime.spawn(accept(listener, path.clone(), owner, store, stop));
    Ok(path)
}

async fn accept(
    listener: tokio::net::UnixListener,
    path: PathBuf,
    owner: u32,
    store: Arc<Store>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.changed() => break,
        };
        let Ok((stream, _)) = conn else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // The owner of HOME/run alone (the directory's mode already keeps
        // others out; this holds even if it was changed).
        if !stream.peer_cred().is_ok_and(|c| c.uid() == owner) {
            continue;
        }
        let store = store.clone();
        tokio::spawn(serve_one(stream, store));
    }
    drop(listener);
    let _ = std::fs::remove_file(&path);
}

async fn serve_one(stream: tokio::net::UnixStream, store: Arc<Store>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(tokio::io::AsyncReadExt::take(read, MAX_REQUEST_BYTES));
    let got = tokio::time::timeout(REQUEST_READ_TIMEOUT, reader.read_line(&mut line)).await;
    let answer = match got {
        Ok(Ok(_)) => match serde_json::from_str::<Request>(line.trim_end()) {
            Ok(req) if req.version == 1 => {
                match run_sync(&store, req.sync.peer.as_deref(), req.sync.ledger.as_deref()).await {
                    Ok(reports) => Answer { reports: Some(reports), error: None },
                    Err(e) => Answer { reports: None, error: Some(e.to_string()) },
                }
            }
            Ok(req) => Answer { reports: None, error: Some(format!("request version {} is not 1", req.version)) },
            Err(e) => Answer { reports: None, error: Some(format!("not a request: {e}")) },
        },
        _ => return,
    };
    let mut out = serde_json::to_vec(&answer).unwrap_or_else(|_| b"{\"error\":\"cannot write the answer\"}".to_vec());
    out.push(b'\n');
    let _ = write.write_all(&out).await;
    let _ = write.shutdown().await;
}

/// What `vereffen sync` does, on the node's store, never overlapping its
/// background rounds.
async fn run_sync(store: &Arc<Store>, peer: Option<&str>, ledger: Option<&str>) -> Result<Vec<SyncReport>, SyncError> {
    let peers = match peer {
        Some(name) => vec![store.home().peer(name)?],
        None => store.home().peers()?,
    };
    let _one_at_a_time = store.sync_gate().lock().await;
    let mut out = Vec::new();
    for p in &peers {
        out.push(client::sync_with(store, p, ledger).await?);
    }
    Ok(out)
}

/// Hands a sync to the node running on `home`, if one listens on its
/// socket: `Ok(None)` when none does (sync directly), else the node's
/// reports or its error.
pub fn sync_via_node(
    home: &Path,
    peer: Option<&str>,
    ledger: Option<&str>,
) -> Result<Option<Vec<SyncReport>>, SyncError> {
    let path = socket_path(home);
    let err =
        |what: String| SyncError::Peer { peer: "-".into(), what: format!("the node of {}: {what}", home.display()) };
    // Only a directory like the node makes it (owned by the home's owner,
    // closed to others) is asked.
    let (Ok(dir), Ok(home_meta)) = (std::fs::metadata(home.join(SOCKET_DIR)), std::fs::metadata(home)) else {
        return Ok(None);
    };
    if dir.uid() != home_meta.uid() || dir.mode() & 0o077 != 0 {
        return Ok(None);
    }
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(&path) else { return Ok(None) };
    let req =
        Request { version: 1, sync: SyncAsk { peer: peer.map(str::to_string), ledger: ledger.map(str::to_string) } };
    let mut line = serde_json::to_vec(&req).map_err(|e| err(e.to_string()))?;
    line.push(b'\n');
    stream.set_read_timeout(Some(SYNC_ANSWER_TIMEOUT)).map_err(|e| err(e.to_string()))?;
    stream.set_write_timeout(Some(REQUEST_READ_TIMEOUT)).map_err(|e| err(e.to_string()))?;
    stream.write_all(&line).map_err(|e| err(format!("cannot send the request: {e}")))?;
    let mut answer = String::new();
    BufReader::new(stream.take(MAX_ANSWER_BYTES)).read_line(&mut answer).map_err(|e| err(format!("no answer: {e}")))?;
    if answer.is_empty() {
        return Err(err("it closed the connection without an answer (was it stopped?)".into()));
    }
    let a: Answer = serde_json::from_str(answer.trim_end()).map_err(|e| err(format!("not an answer: {e}")))?;
    match (a.reports, a.error) {
        (_, Some(e)) => Err(SyncError::Node(e)),
        (Some(r), None) => Ok(Some(r)),
        (None, None) => Err(err("an empty answer".into())),
    }
}
