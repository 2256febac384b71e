//! Derived data of each copy, kept by the copy's head so that a page over
//! 2,000 ledgers reads only the copies that changed since it was last
//! shown: the contracts list's rows and the audit list's summaries (in
//! memory and in `HOME/cache/web/<kind>/<ledger>.json`), and the audit
//! page's report and verification (in memory, a few ledgers).
//!
//! The key is the copy's head line (`DIR/head`) when the journal ends
//! exactly there ([`crate::audit::inbox::settled_head`], as the inbox
//! cache): the head's hash chains every record, so a value computed at it
//! still holds. Every request checks each copy's head (a few small reads),
//! so an entry appended by sync, by the API or by a command-line tool
//! shows on the next request. A copy being written (no settled head) is
//! computed and not cached.
//!
//! A cache is derived data: a file that is missing, unreadable, too
//! large, of another version or of another head is ignored, recomputed
//! and rewritten (atomically); a cache that cannot be written only costs
//! time. Nothing here is ever an error of its own.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The directory under the node home that holds the workspace's caches.
pub const CACHE_DIR: &str = "cache/web";
/// The version of the cache file layout; a file of another version is ignored.
pub const CACHE_VERSION: u32 = 1;
/// Largest cache file read; a larger one is ignored (and recomputed).
pub const MAX_CACHE_BYTES: u64 = 4 << 20;
/// Most audit pages (report and verification of one copy) kept in memory;
/// when full, the least recently used goes.
pub const MAX_AUDIT_PAGES: usize = 16;

/// One cached value as its file holds it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile<T> {
    /// [`CACHE_VERSION`].
    v: u32,
    /// The version of vereffen that computed the value (its rules may differ).
    vereffen: String,
    /// The ledger.
    ledger: String,
    /// The copy's head line the value was computed at.
    head: String,
    /// The value.
    value: T,
}

/// Values of kind `T` per ledger, keyed by each copy's settled head, in
/// memory and (when `dir` is set) in files.
pub struct HeadCache<T> {
    dir: Option<PathBuf>,
    limit: Option<usize>,
    mem: Mutex<Mem<T>>,
}

/// The values in memory, with a use counter for the least-recently-used order.
struct Mem<T> {
    map: HashMap<String, Slot<T>>,
    clock: u64,
}

struct Slot<T> {
    head: String,
    value: T,
    used: u64,
}

impl<T: Clone> HeadCache<T> {
    /// A cache in memory only, of at most `limit` ledgers.
    pub fn in_memory(limit: usize) -> HeadCache<T> {
        HeadCache { dir: None, limit: Some(limit), mem: Mutex::new(Mem { map: HashMap::new(), clock: 0 }) }
    }

    fn remembered(&self, ledger: &str, head: &str) -> Option<T> {
        let mut mem = self.mem.lock().ok()?;
        mem.clock += 1;
        let next = mem.clock;
        let slot = mem.map.get_mut(ledger).filter(|s| s.head == head)?;
        slot.used = next;
        Some(slot.value.clone())
    }

    fn remember(&self, ledger: &str, head: &str, value: T) {
        let Ok(mut mem) = self.mem.lock() else { return };
        mem.clock += 1;
        let next = mem.clock;
        if let Some(limit) = self.limit {
            while mem.map.len() >= limit && !mem.map.contains_key(ledger) {
                let Some(oldest) = mem.map.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| k.clone()) else { break };
                mem.map.remove(&oldest);
            }
        }
        mem.map.insert(ledger.to_string(), Slot { head: head.to_string(), value, used: next });
    }

    /// The value of `ledger` (its copy in `copy_dir`), from memory when the
    /// copy's head has not moved, else computed (and kept when the head
    /// still stands after computing). Errors of `compute` are returned and
    /// never kept.
    pub fn get<E>(&self, ledger: &str, copy_dir: &Path, compute: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let Some(head) = crate::audit::inbox::settled_head(copy_dir) else { return compute() };
        if let Some(v) = self.remembered(ledger, &head) {
            return Ok(v);
        }
        let value = compute()?;
        if crate::audit::inbox::settled_head(copy_dir).as_deref() == Some(head.as_str()) {
            self.remember(ledger, &head, value.clone());
        }
        Ok(value)
    }
}

impl<T: Clone + Serialize + DeserializeOwned> HeadCache<T> {
    /// A cache in memory (every ledger) and in the files of `dir`.
    pub fn in_files(dir: PathBuf) -> HeadCache<T> {
        HeadCache { dir: Some(dir), limit: None, mem: Mutex::new(Mem { map: HashMap::new(), clock: 0 }) }
    }

    /// [`HeadCache::get`], also through the cache's file of `ledger`: a
    /// value not in memory is read from its file when that file holds the
    /// same head (and version); a computed value is written there.
    pub fn get_stored<E>(&self, ledger: &str, copy_dir: &Path, compute: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let Some(dir) = self.dir.as_deref().filter(|_| crate::ledger::entry::is_valid_name(ledger)) else {
            return self.get(ledger, copy_dir, compute);
        };
        let Some(head) = crate::audit::inbox::settled_head(copy_dir) else { return compute() };
        if let Some(v) = self.remembered(ledger, &head) {
            return Ok(v);
        }
        let file = dir.join(format!("{ledger}.json"));
        if let Some(v) = read_file::<T>(&file, ledger, &head) {
            self.remember(ledger, &head, v.clone());
            return Ok(v);
        }
        let value = compute()?;
        if crate::audit::inbox::settled_head(copy_dir).as_deref() == Some(head.as_str()) {
            write_file(dir, &file, ledger, &head, &value);
            self.remember(ledger, &head, value.clone());
        }
        Ok(value)
    }
}

/// The value in `file` if it is sound and was computed at `head` by this
/// version; `None` for anything else (missing, damaged, too large, stale).
fn read_file<T: DeserializeOwned>(file: &Path, ledger: &str, head: &str) -> Option<T> {
    let f = std::fs::File::open(file).ok()?;
    let mut bytes = Vec::new();
    f.take(MAX_CACHE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_CACHE_BYTES {
        return None;
    }
    let c: CacheFile<T> = serde_json::from_slice(&bytes).ok()?;
    (c.v == CACHE_VERSION && c.vereffen == env!("CARGO_PKG_VERSION") && c.ledger == ledger && c.head == head)
        .then_some(c.value)
}

/// Writes `value` to `file` atomically; a failure only costs the next
/// request time.
fn write_file<T: Serialize>(dir: &Path, file: &Path, ledger: &str, head: &str, value: &T) {
    let c = CacheFile {
        v: CACHE_VERSION,
        vereffen: env!("CARGO_PKG_VERSION").to_string(),
        ledger: ledger.to_string(),
        head: head.to_string(),
        value,
    };
    let Ok(bytes) = serde_json::to_vec(&c) else { return };
    let _ = std::fs::create_dir_all(dir).and_then(|()| {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(&bytes)?;
        tmp.persist(file).map(|_| ()).map_err(|e| e.error)
    });
}

/// The workspace's caches, one set per node home.
pub struct Caches {
    /// The contracts of each copy (the contracts page).
    pub contracts: HeadCache<Vec<super::pages::ContractRow>>,
    /// Each copy's audit summary (the audit list).
    pub audit_rows: HeadCache<super::audit::AuditRow>,
    /// The audit page's data of the last few copies shown.
    pub audit_pages: HeadCache<Arc<super::audit::AuditData>>,
}

impl Caches {
    /// The caches of the node home `home` (files under [`CACHE_DIR`]).
    pub fn of_home(home: &Path) -> Caches {
        let dir = home.join(CACHE_DIR);
        Caches {
            contracts: HeadCache::in_files(dir.join("contracts")),
            audit_rows: HeadCache::in_files(dir.join("audit")),
            audit_pages: HeadCache::in_memory(MAX_AUDIT_PAGES),
        }
    }
}

/// Every contract on every copy the node holds, by ledger and id: the rows
/// of `pages::contract_rows`, each copy read only when its head moved.
pub fn contract_rows(
    store: &crate::node::store::Store,
    caches: &Caches,
) -> Result<Vec<super::pages::ContractRow>, String> {
    let ids = store.home().ledger_ids().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for id in ids.iter().filter(|id| store.hosts(id)) {
        let dir = store.home().ledger_dir(id);
        let got = caches.contracts.get_stored(id, &dir, || {
            store.with_ledger(id, |l| super::pages::contracts_of(id, l)).map_err(|e| e.to_string())?
        })?;
        rows.extend(got);
    }
    Ok(rows)
}
