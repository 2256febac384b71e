//! The node home: one organisation's directory.
//!
//! ```text
//! DIR/ledgers/<ledger-id>/   one ledger copy each (what `--ledger` points at)
//! DIR/keys/<name>.key|.pub   the organisation's party signing keys
//! DIR/peers.json             the peers (written atomically)
//! DIR/ca/<peer>.pem          a peer's CA certificate (`peer add --ca`)
//! DIR/sync/<peer>/<id>.json  node-private sync state, never served
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::ledger::keys::{self, KeyId};
use crate::ledger::registry::Registry;

/// Directory of the ledger copies inside a home.
pub const LEDGERS_DIR: &str = "ledgers";
/// Directory of the organisation's key files inside a home.
pub const KEYS_DIR: &str = "keys";
/// The peers file inside a home.
pub const PEERS_FILE: &str = "peers.json";
/// Directory of peers' CA certificates inside a home.
pub const CA_DIR: &str = "ca";
/// Directory of the node-private sync state inside a home.
pub const SYNC_DIR: &str = "sync";
/// Largest peers file read (a few thousand peers).
pub const MAX_PEERS_FILE_BYTES: u64 = 4 << 20;
/// Largest CA certificate file accepted by `peer add --ca`.
pub const MAX_CA_FILE_BYTES: u64 = 256 << 10;
/// Largest sync state file read.
const MAX_STATE_BYTES: u64 = 64 << 10;

/// Node home problems; each names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// A file or directory cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The home's content is not what it should be, or an argument is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A key file cannot be used.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HomeError + '_ {
    move |source| HomeError::Io { path: path.to_path_buf(), source }
}

/// A peer: another party's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Local name of the peer (`peer add NAME`).
    pub name: String,
    /// Base URL of the peer's node (`https://host:port`, or `http://` to a
    /// loopback address, or any `http://` with `insecure_http`).
    pub url: String,
    /// The party the peer's node acts for in the shared ledgers.
    pub party: String,
    /// Fingerprint of the key the peer's node signs with (its checkpoints
    /// must carry a signature by `<party>/<fingerprint>`).
    pub key_fingerprint: String,
    /// File name of the peer's CA certificate under `DIR/ca/`, if one was given.
    #[serde(default)]
    pub ca: Option<String>,
    /// Plain HTTP to a non-loopback address was allowed explicitly.
    #[serde(default)]
    pub insecure_http: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeersFile {
    version: u32,
    peers: Vec<Peer>,
}

/// Sync state of one ledger with one peer (node-private).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncState {
    /// The peer's journal size up to which its entries were pulled.
    pub pulled: u64,
    /// Our journal size up to which the peer holds every entry.
    pub pushed: u64,
    /// Set when sync of this ledger with this peer stopped (equivocation or
    /// a rolled-back copy): why. Cleared by `peer reset-fork`.
    #[serde(default)]
    pub stopped: Option<String>,
}

/// True for a valid peer name (the ledger id rule: 1 to 64 of a-z 0-9 . _ -).
pub fn is_valid_peer_name(name: &str) -> bool {
    crate::ledger::entry::is_valid_name(name)
}

/// True when `host` (as in a URL: a name or an IP literal, brackets allowed)
/// is a loopback address (`127.0.0.0/8`, `::1`, or `localhost`).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks a peer URL: `https://HOST[:PORT]` or `http://` to a loopback
/// address (any host with `insecure_http`); no path, query, user or
/// fragment. Returns the URL without a trailing slash.
pub fn check_peer_url(url: &str, insecure_http: bool) -> Result<String, HomeError> {
    let bad = |why: &str| {
        HomeError::Invalid(format!(
            "peer URL {url:?} {why}: give https://HOST[:PORT] (or http://127.0.0.1:PORT for a node on this machine)"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("has no scheme"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) || rest.chars().any(|c| c.is_control()) {
        return Err(bad("must be a scheme and a host with an optional port, nothing else"));
    }
    let host = match rest.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(':') && !port.contains(']') => {
            port.parse::<u16>().map_err(|_| bad("has a port that is not a number from 0 to 65535"))?;
            h
        }
        _ => rest,
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    match scheme {
        "https" => {}
        "http" if is_loopback_host(host) || insecure_http => {}
        "http" => {
            return Err(HomeError::Invalid(format!(
                "peer URL {url:?} is plain http to a non-loopback address: anyone on the path could read and alter the traffic. Use https://, or add the peer with --insecure-http if the network is private and trusted"
            )))
        }
        _ => return Err(bad("has a scheme other than https or http")),
    }
    Ok(format!("{scheme}://{rest}"))
}

/// A node home directory.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// The home at `dir` (created with its subdirectories when missing).
    pub fn open(dir: &Path) -> Result<Home, HomeError> {
        for sub in [LEDGERS_DIR, KEYS_DIR, SYNC_DIR] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
        }
        Ok(Home { dir: dir.to_path_buf() })
    }

    /// The home directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of ledger `id`'s copy (whether or not it exists).
    pub fn ledger_dir(&self, id: &str) -> PathBuf {
        self.dir.join(LEDGERS_DIR).join(id)
    }

    /// The ids of the ledger copies in this home, sorted (directories under
    /// `DIR/ledgers` with a valid ledger id and a journal).
    pub fn ledger_ids(&self) -> Result<Vec<String>, HomeError> {
        let dir = self.dir.join(LEDGERS_DIR);
        let mut out = Vec::new();
        for item in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let item = item.map_err(io(&dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if crate::ledger::entry::is_valid_name(&name)
                && item.path().join(crate::ledger::copy::JOURNAL_FILE).is_file()
            {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The private key files under `DIR/keys` (`*.key`), in file-name order.
    pub fn key_files(&self) -> Result<Vec<PathBuf>, HomeError> {
        let dir = self.dir.join(KEYS_DIR);
        let mut names = Vec::new();
        for item in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let item = item.map_err(io(&dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.ends_with(".key") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names.into_iter().map(|n| dir.join(n)).collect())
    }

    /// Every signing key under `DIR/keys` (`*.key`), in file-name order,
    /// with its file name. Encrypted key files need their passphrase: the
    /// command line reads those itself (with `key_files`) and hands the keys
    /// over; here they are an error naming the file.
    pub fn signing_keys(&self) -> Result<Vec<(String, SigningKey)>, HomeError> {
        let mut out = Vec::new();
        for path in self.key_files()? {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(w) = keys::permission_warning(&path) {
                eprintln!("{w}");
            }
            out.push((name, keys::load_signing_key(&path)?));
        }
        Ok(out)
    }

    /// The peers, in the order they were added.
    pub fn peers(&self) -> Result<Vec<Peer>, HomeError> {
        let path = self.dir.join(PEERS_FILE);
        let bytes = match read_limited(&path, MAX_PEERS_FILE_BYTES) {
            Ok(b) => b,
            Err(HomeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let file: PeersFile = serde_json::from_slice(&bytes).map_err(|e| {
            HomeError::Invalid(format!("{}: not a vereffen peers file ({e}); fix or remove it", path.display()))
        })?;
        if file.version != 1 {
            return Err(HomeError::Invalid(format!(
                "{}: version {} is not known to this vereffen (expected 1)",
                path.display(),
                file.version
            )));
        }
        Ok(file.peers)
    }

    /// The peer named `name`.
    pub fn peer(&self, name: &str) -> Result<Peer, HomeError> {
        self.peers()?.into_iter().find(|p| p.name == name).ok_or_else(|| {
            HomeError::Invalid(format!(
                "there is no peer {name:?} in {} (`vereffen peer list` shows them)",
                self.dir.display()
            ))
        })
    }

    fn write_peers(&self, peers: Vec<Peer>) -> Result<(), HomeError> {
        let text = serde_json::to_string_pretty(&PeersFile { version: 1, peers })
            .map_err(|e| HomeError::Invalid(e.to_string()))?;
        write_atomically(&self.dir.join(PEERS_FILE), format!("{text}\n").as_bytes())
    }

    /// Adds a peer (refusing a duplicate name or an invalid URL); `ca` is a
    /// PEM file with the CA certificate(s) to trust for this peer, copied
    /// into `DIR/ca/<name>.pem`.
    pub fn add_peer(
        &self,
        name: &str,
        url: &str,
        party: &str,
        fingerprint: &str,
        ca: Option<&Path>,
        insecure_http: bool,
    ) -> Result<Peer, HomeError> {
        if !is_valid_peer_name(name) {
            return Err(HomeError::Invalid(format!(
                "peer name {name:?} is not valid: use 1 to 64 characters from a-z, 0-9, '.', '_' and '-'"
            )));
        }
        if !crate::ledger::entry::is_valid_name(party) {
            return Err(HomeError::Invalid(format!("--party {party:?} is not a valid party id")));
        }
        if !keys::is_fingerprint(fingerprint) {
            return Err(HomeError::Invalid(format!(
                "--key-fingerprint {fingerprint:?} is not a key fingerprint (`vereffen keys show` prints it)"
            )));
        }
        let url = check_peer_url(url, insecure_http)?;
        let mut peers = self.peers()?;
        if peers.iter().any(|p| p.name == name) {
            return Err(HomeError::Invalid(format!(
                "there is already a peer {name:?}; remove it first with `vereffen peer remove {name}`"
            )));
        }
        let ca = match ca {
            None => None,
            Some(path) => {
                let bytes = read_limited(path, MAX_CA_FILE_BYTES)?;
                crate::node::tls::parse_ca(&bytes, path)?;
                let dir = self.dir.join(CA_DIR);
                std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                let file = format!("{name}.pem");
                write_atomically(&dir.join(&file), &bytes)?;
                Some(file)
            }
        };
        let peer = Peer {
            name: name.to_string(),
            url,
            party: party.to_string(),
            key_fingerprint: fingerprint.to_string(),
            ca,
            insecure_http,
        };
        peers.push(peer.clone());
        self.write_peers(peers)?;
        Ok(peer)
    }

    /// Removes a peer and its sync state; refuses an unknown name.
    pub fn remove_peer(&self, name: &str) -> Result<(), HomeError> {
        let mut peers = self.peers()?;
        let before = peers.len();
        peers.retain(|p| p.name != name);
        if peers.len() == before {
            return Err(HomeError::Invalid(format!("there is no peer {name:?} (`vereffen peer list` shows them)")));
        }
        self.write_peers(peers)?;
        let state = self.dir.join(SYNC_DIR).join(name);
        if state.exists() {
            std::fs::remove_dir_all(&state).map_err(io(&state))?;
        }
        Ok(())
    }

    /// The CA certificate file of a peer, if it has one.
    pub fn peer_ca_path(&self, peer: &Peer) -> Option<PathBuf> {
        peer.ca.as_ref().map(|f| self.dir.join(CA_DIR).join(f))
    }

    fn state_path(&self, peer: &str, ledger: &str) -> PathBuf {
        self.dir.join(SYNC_DIR).join(peer).join(format!("{ledger}.json"))
    }

    /// The sync state of `ledger` with `peer` (default when none yet).
    pub fn sync_state(&self, peer: &str, ledger: &str) -> Result<SyncState, HomeError> {
        let path = self.state_path(peer, ledger);
        match read_limited(&path, MAX_STATE_BYTES) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                HomeError::Invalid(format!(
                    "{}: not a sync state file ({e}); remove it and the next sync starts over",
                    path.display()
                ))
            }),
            Err(HomeError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(SyncState::default())
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the sync state of `ledger` with `peer` atomically.
    pub fn set_sync_state(&self, peer: &str, ledger: &str, state: &SyncState) -> Result<(), HomeError> {
        let path = self.state_path(peer, ledger);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let text = serde_json::to_string(state).map_err(|e| HomeError::Invalid(e.to_string()))?;
        write_atomically(&path, format!("{text}\n").as_bytes())
    }

    /// Clears a stopped sync (after equivocation) of `ledger` with `peer`.
    /// Returns the reason it had stopped, or an error when it had not.
    pub fn reset_fork(&self, peer: &str, ledger: &str) -> Result<String, HomeError> {
        self.peer(peer)?;
        let mut state = self.sync_state(peer, ledger)?;
        let Some(why) = state.stopped.take() else {
            return Err(HomeError::Invalid(format!("sync of ledger {ledger} with peer {peer} is not stopped")));
        };
        // Start over from the beginning: the peer's journal order may differ now.
        state.pulled = 0;
        state.pushed = 0;
        self.set_sync_state(peer, ledger, &state)?;
        Ok(why)
    }
}

/// The key of this organisation for one ledger: the first key under
/// `DIR/keys` (file-name order) whose public key is a live key of a
/// registered party of the ledger, with that party. `None` when no key is;
/// an error when keys of two different parties are (one organisation acts
/// as one party per ledger).
pub fn key_for_ledger<'a>(
    keys: &'a [(String, SigningKey)],
    reg: &Registry,
    ledger: &str,
) -> Result<Option<(&'a SigningKey, String)>, HomeError> {
    let mut found: Option<(&String, &SigningKey, String)> = None;
    for (file, key) in keys {
        let Some(party) = reg.current_owner(&KeyId::of(&key.verifying_key())) else { continue };
        match &found {
            None => found = Some((file, key, party.id.clone())),
            Some((first, _, p)) if *p != party.id => {
                return Err(HomeError::Invalid(format!(
                    "ledger {ledger}: keys/{first} is a key of party {p:?} and keys/{file} of party {:?}; a node acts as one party per ledger. Move one of the key files out of the home",
                    party.id
                )))
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(_, k, p)| (k, p)))
}

/// Reads at most `max` bytes of `path`; more is an error.
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, HomeError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io(path))?;
    if bytes.len() as u64 > max {
        return Err(HomeError::Invalid(format!("{} is larger than {max} bytes", path.display())));
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` through a synced temporary file renamed into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), HomeError> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| HomeError::Io { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

/// The peers as a name-ordered map (for listing).
pub fn by_name(peers: &[Peer]) -> BTreeMap<&str, &Peer> {
    peers.iter().map(|p| (p.name.as_str(), p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_https_or_loopback_http_only() {
        assert_eq!(check_peer_url("https://node.example:8443/", false).unwrap(), "https://node.example:8443");
        assert!(check_peer_url("http://127.0.0.1:9000", false).is_ok());
        assert!(check_peer_url("http://[::1]:9000", false).is_ok());
        assert!(check_peer_url("http://localhost:9000", false).is_ok());
        let e = check_peer_url("http://10.0.0.5:9000", false).unwrap_err().to_string();
        assert!(e.contains("--insecure-http"), "{e}");
        assert!(check_peer_url("http://10.0.0.5:9000", true).is_ok());
        for bad in ["ftp://x", "https://", "https://h/path", "https://u@h", "https://h:99999", "node.example"] {
            assert!(check_peer_url(bad, true).is_err(), "{bad}");
        }
    }
}
