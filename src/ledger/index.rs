//! The sled index: lookups by entry id, sequence, party, kind and contract,
//! plus the registry and the resume point. Derived data only: `vereffen
//! reindex` rebuilds it from the journal.
//!
//! Two sled trees with prefixed keys. The data tree (`v1`) holds keys that
//! are written once per entry:
//!
//! ```text
//! "e" id(32)                      -> seq(8 BE) entry_offset(8 BE) entry_len(4 BE)
//! "p" party    "\0" seq(8 BE)     -> id(32)      (posting: entries by author party)
//! "k" kind     "\0" seq(8 BE)     -> id(32)      (posting: entries by kind)
//! "c" contract "\0" seq(8 BE)     -> id(32)      (posting: entries concerning a contract)
//! "L" seq(8 BE)                   -> Merkle leaf hash (32)
//! "r" seq(8 BE)                   -> end(8 BE) hash(32) compact tree   (every POINT_EVERY-th record)
//! ```
//!
//! The `r` keys are **points**: for every record whose sequence number is a
//! multiple of [`POINT_EVERY`], where it ends in the journal, its hash, and
//! the compact Merkle tree (frontier) of the entries up to it. They let a
//! range of the journal be read without scanning it from byte 0
//! ([`Index::point_before`], checked against the journal by
//! `Scanner::resume` and the records' own chain) and a consistency proof be
//! built without reading every leaf hash (`Ledger::consistency_proof`, which
//! verifies the proof against the copy's root before it is used). An index
//! written before points existed has none for its old records: readers then
//! scan or read every leaf, as before.
//!
//! The meta tree (`meta`) holds the few values rewritten by every batch,
//! apart from the data so that rewriting them rewrites only their own small
//! sled node:
//!
//! ```text
//! "m" "head"                      -> seq(8) end(8) hash(32)
//! "m" "merkle"                    -> the compact Merkle tree (frontier) after the head
//! "m" "registry"                  -> registry (JSON)
//! "m" "setsum"                    -> the set sum of the entries up to the head (`setsum::SetSum`)
//! "m" "version"                   -> INDEX_VERSION (4 BE)
//! ```
//!
//! The set sum makes the set digest (`docs/FORMAT.md` 9) a read of one
//! value, however large the copy: it is brought up to date with each batch
//! at the cost of the batch's entries (version 3 kept no sum: the digest
//! was computed from a file of every sorted id, `DIR/ids.cache`, read and
//! hashed whole whenever the copy had grown).
//!
//! A batch is applied to the data tree first and to the meta tree after, so
//! the head never claims entries whose keys are missing; if a crash comes in
//! between, the next open catches up and writes the same keys again (every
//! data key is a pure function of its entry and position).
//!
//! Every posting and every leaf hash is a key of its own, written once and
//! never rewritten: an append inserts a few small keys and rewrites only the
//! small `m` values. (Version 2 kept posting lists and leaf hashes as
//! growing chunks rewritten on every append; sled is log-structured, so
//! every rewrite left the old chunk behind and the index grew to many times
//! the journal: 16x for the `index_bench` ledger of 2,623 contracts.)
//! A list's keys are exactly its prefix `X name "\0"` plus 8 bytes; a longer
//! key under that prefix belongs to another list whose name starts with
//! `name "\0"` (only a hostile entry has such a name) and is skipped.

use std::path::{Path, PathBuf};

use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::journal::{Hash, RecordPos, Resume};
use crate::ledger::merkle::CompactTree;
use crate::ledger::registry::Registry;
use crate::ledger::setsum::SetSum;

/// Index problems.
#[derive(Debug, thiserror::Error)]
#[error("index {path}: {what}. The index holds only derived data: rebuild it with `vereffen reindex`")]
pub struct IndexError {
    /// The index directory.
    pub path: PathBuf,
    /// What went wrong.
    pub what: String,
}

/// Where an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// Journal sequence number.
    pub seq: u64,
    /// Offset of the entry bytes in the journal.
    pub offset: u64,
    /// Length of the entry bytes.
    pub len: u32,
}

/// The open index.
pub struct Index {
    /// The sled instance; `None` only if reopening it failed (then every
    /// call reports that, see [`Index::reopen_if_due`]).
    handles: Option<Handles>,
    path: PathBuf,
    /// Entries written through this sled instance since it was opened.
    written: u64,
    /// Entries after which the instance is reopened ([`INDEX_REOPEN_ENTRIES`]
    /// unless [`Index::set_reopen_every`] said otherwise).
    reopen_every: u64,
    /// Times the instance was reopened since [`Index::open`].
    reopens: u64,
}

/// One open sled instance of an index.
struct Handles {
    db: sled::Db,
    tree: sled::Tree,
    meta: sled::Tree,
}

/// How often (every 10 ms) to retry sled's own lock while a just-dropped
/// instance in this process finishes its last flush: at most 5 seconds.
/// Only this process can hold it (the ledger's own lock is taken first).
const SLED_LOCK_RETRIES: u32 = 500;

/// The most memory sled may use for its page cache of one index (its
/// default is 1 GiB, which a large import or catch-up filled: a 100,000-entry
/// import peaked at 1.3 GB). Reads beyond it come from the file (the
/// operating system's page cache).
pub const INDEX_CACHE_BYTES: u64 = 128 << 20;

/// Entries one sled instance of an index takes before it is flushed,
/// closed and opened again ([`Index::reopen_if_due`]). sled 0.34 keeps
/// in memory what a process wrote through an instance, whatever
/// [`INDEX_CACHE_BYTES`] says (measured: about 15 kB an entry; a
/// 1,000,000-entry import peaked at 7.6 GB, a rebuild of that index at
/// 14.9 GB, and a cache of 16 MiB instead of 128 MiB changed nothing), and
/// gives it back only when the instance is dropped. Reopening every
/// 25,000 entries bounds that to a few hundred MB at the cost of one open
/// (under a quarter of a second for a 1,000,000-entry copy) per 25,000
/// entries written.
pub const INDEX_REOPEN_ENTRIES: u64 = 25_000;

/// The layout version of the index. An index of another version (written
/// by another version of vereffen) is rebuilt from the journal on open.
/// Version 3: one key per posting and per leaf hash (see the module docs).
/// Version 4: the set sum in the meta tree.
pub const INDEX_VERSION: u32 = 4;

/// Bytes of a posting key after its list prefix: the sequence number.
const POSTING_SEQ: usize = 8;

/// Records between two points (`r` keys): a range read starts at most this
/// many records before its first record, and a consistency proof reads at
/// most this many leaf hashes below its old size. One point costs about
/// `9 + 40 + 32 * log2(size)` bytes, so `1,000,000` entries hold 3,906
/// points (under 3 MB).
pub const POINT_EVERY: u64 = 256;

/// A point of the index: a record's resume point and the compact Merkle
/// tree of the entries up to it (see the module docs).
#[derive(Debug, Clone)]
pub struct Point {
    /// The record's resume point (sequence number, end, hash).
    pub resume: Resume,
    /// The compact tree of the first `resume.seq` entries.
    pub tree: CompactTree,
}

/// A batch of index updates, applied atomically.
#[derive(Default)]
pub struct IndexBatch {
    batch: sled::Batch,
    meta: sled::Batch,
}

fn list_prefix(prefix: u8, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 6);
    k.push(prefix);
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k
}

impl IndexBatch {
    /// Adds the lookups for one appended entry and its Merkle leaf hash:
    /// new keys only, nothing already stored is rewritten.
    pub fn add(&mut self, e: &Entry, pos: &RecordPos, leaf: &Hash) {
        let id = e.id().0;
        let seq = pos.seq.to_be_bytes();
        self.batch.insert([b"L".as_slice(), &seq].concat(), leaf.as_slice());
        let mut loc = Vec::with_capacity(20);
        loc.extend_from_slice(&seq);
        loc.extend_from_slice(&pos.entry_offset.to_be_bytes());
        loc.extend_from_slice(&pos.entry_len.to_be_bytes());
        self.batch.insert([b"e".as_slice(), &id].concat(), loc);
        let mut post = |prefix: u8, name: &str| {
            let mut key = list_prefix(prefix, name);
            key.extend_from_slice(&seq);
            self.batch.insert(key, id.as_slice());
        };
        post(b'p', &e.body().author.party);
        post(b'k', e.kind());
        if let Some(c) = e.contract() {
            post(b'c', c);
        }
    }

    /// Records a point when `pos` is a record whose sequence number is a
    /// multiple of [`POINT_EVERY`]; `tree` is the Merkle tree just after it.
    pub fn add_point(&mut self, pos: &RecordPos, tree: &CompactTree) {
        if !pos.seq.is_multiple_of(POINT_EVERY) {
            return;
        }
        debug_assert_eq!(tree.size(), pos.seq, "a point's tree ends at its record");
        let bytes = tree.to_bytes();
        let mut v = Vec::with_capacity(40 + bytes.len());
        v.extend_from_slice(&pos.end().to_be_bytes());
        v.extend_from_slice(&pos.hash);
        v.extend_from_slice(&bytes);
        self.batch.insert([b"r".as_slice(), &pos.seq.to_be_bytes()].concat(), v);
    }

    /// Records the resume point, the Merkle tree and the registry after the batch.
    pub fn finish(&mut self, resume: Resume, tree: &CompactTree, registry: &Registry) -> Result<(), serde_json::Error> {
        debug_assert_eq!(tree.size(), resume.seq, "the Merkle tree covers exactly the journal");
        self.meta.insert(b"mmerkle".as_slice(), tree.to_bytes());
        self.meta.insert(b"mversion".as_slice(), INDEX_VERSION.to_be_bytes().to_vec());
        let mut head = Vec::with_capacity(48);
        head.extend_from_slice(&resume.seq.to_be_bytes());
        head.extend_from_slice(&resume.end.to_be_bytes());
        head.extend_from_slice(&resume.hash);
        self.meta.insert(b"mhead".as_slice(), head);
        self.meta.insert(b"mregistry".as_slice(), serde_json::to_vec(registry)?);
        Ok(())
    }

    /// Records the set sum of the entries up to the batch's head (with
    /// [`IndexBatch::finish`], in the same atomic meta update).
    pub fn set_sum(&mut self, sum: &SetSum) {
        self.meta.insert(b"msetsum".as_slice(), sum.to_bytes());
    }
}

impl Index {
    /// Opens (or creates) the index in `dir`.
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        let err = |what: String| IndexError { path: dir.to_path_buf(), what };
        // The caller holds the ledger's own lock, so a sled lock that is still
        // held belongs to an instance this process just dropped, whose
        // background flusher has not finished: wait for it, within a limit.
        let mut attempt = 0;
        let db = loop {
            match sled::Config::new().path(dir).cache_capacity(INDEX_CACHE_BYTES).flush_every_ms(Some(1000)).open() {
                Ok(db) => break db,
                // sled reports its lock as an `Other` error whose text names it.
                Err(sled::Error::Io(e))
                    if (e.kind() == std::io::ErrorKind::WouldBlock
                        || e.to_string().contains("could not acquire lock"))
                        && attempt < SLED_LOCK_RETRIES =>
                {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(err(format!("cannot open: {e}"))),
            }
        };
        let tree = db.open_tree("v1").map_err(|e| err(format!("cannot open tree: {e}")))?;
        let meta = db.open_tree("meta").map_err(|e| err(format!("cannot open tree: {e}")))?;
        Ok(Index {
            handles: Some(Handles { db, tree, meta }),
            path: dir.to_path_buf(),
            written: 0,
            reopen_every: INDEX_REOPEN_ENTRIES,
            reopens: 0,
        })
    }

    /// The open sled instance, or the error of a failed reopening.
    fn h(&self) -> Result<&Handles, IndexError> {
        self.handles.as_ref().ok_or_else(|| self.err("it could not be opened again after a flush"))
    }

    /// Counts `entries` written through this instance and, once
    /// [`INDEX_REOPEN_ENTRIES`] are reached, flushes it, closes it and opens
    /// it again, so that the memory sled holds for what was written is
    /// given back (see [`INDEX_REOPEN_ENTRIES`]). Call it between batches,
    /// after [`Index::apply`].
    pub fn reopen_if_due(&mut self, entries: u64) -> Result<(), IndexError> {
        self.written = self.written.saturating_add(entries);
        if self.written < self.reopen_every {
            return Ok(());
        }
        self.flush()?;
        // sled allows one instance per directory: the old one goes first.
        drop(self.handles.take());
        let mut fresh = Index::open(&self.path)?;
        assert_eq!(fresh.path, self.path, "an index reopens in its own directory");
        fresh.reopen_every = self.reopen_every;
        fresh.reopens = self.reopens + 1;
        *self = fresh;
        Ok(())
    }

    /// Reopens the sled instance after every `entries` written (at least 1)
    /// instead of [`INDEX_REOPEN_ENTRIES`]: for tests that exercise the
    /// reopening with few entries, and for tools that trade memory against
    /// opens differently.
    pub fn set_reopen_every(&mut self, entries: u64) {
        self.reopen_every = entries.max(1);
    }

    /// Times the sled instance was reopened ([`Index::reopen_if_due`]) since
    /// the index was opened.
    pub fn reopens(&self) -> u64 {
        self.reopens
    }

    fn err(&self, what: impl std::fmt::Display) -> IndexError {
        IndexError { path: self.path.clone(), what: what.to_string() }
    }

    /// True if the index was written by this layout version (or is empty).
    pub fn is_current(&self) -> Result<bool, IndexError> {
        let version = self.h()?.meta.get(b"mversion").map_err(|e| self.err(e))?;
        let empty = self.h()?.tree.is_empty() && self.h()?.meta.is_empty();
        Ok(empty || version.as_deref() == Some(INDEX_VERSION.to_be_bytes().as_slice()))
    }

    /// The resume point, Merkle tree and registry stored by the last batch.
    pub fn state(&self) -> Result<(Resume, CompactTree, Registry), IndexError> {
        let head = self.h()?.meta.get(b"mhead").map_err(|e| self.err(e))?;
        let resume = match head {
            None => Resume { seq: 0, end: 0, hash: [0; 32] },
            Some(v) if v.len() == 48 => Resume {
                seq: u64::from_be_bytes(v[0..8].try_into().unwrap_or_default()),
                end: u64::from_be_bytes(v[8..16].try_into().unwrap_or_default()),
                hash: v[16..48].try_into().unwrap_or_default(),
            },
            Some(_) => return Err(self.err("the stored head is malformed")),
        };
        let registry = match self.h()?.meta.get(b"mregistry").map_err(|e| self.err(e))? {
            None => Registry::default(),
            Some(v) => {
                serde_json::from_slice(&v).map_err(|e| self.err(format!("the stored registry is malformed: {e}")))?
            }
        };
        if resume.seq == 0 && registry != Registry::default() {
            return Err(self.err("it holds parties but no head"));
        }
        let tree = match self.h()?.meta.get(b"mmerkle").map_err(|e| self.err(e))? {
            None => CompactTree::new(),
            Some(v) => CompactTree::from_bytes(&v)
                .map_err(|e| self.err(format!("the stored Merkle tree is malformed: {e}")))?,
        };
        if tree.size() != resume.seq {
            return Err(self.err(format!(
                "its Merkle tree covers {} entries but its head {}",
                tree.size(),
                resume.seq
            )));
        }
        Ok((resume, tree, registry))
    }

    /// The set sum stored by the last batch: `Ok(None)` when there is none
    /// (an empty index) or it is malformed.
    pub fn set_sum(&self) -> Result<Option<SetSum>, IndexError> {
        Ok(self.h()?.meta.get(b"msetsum").map_err(|e| self.err(e))?.and_then(|v| SetSum::from_bytes(&v)))
    }

    /// Applies a batch: its data keys atomically, then its meta values
    /// (head, Merkle frontier, registry) atomically.
    pub fn apply(&self, batch: IndexBatch) -> Result<(), IndexError> {
        self.h()?.tree.apply_batch(batch.batch).map_err(|e| self.err(e))?;
        self.h()?.meta.apply_batch(batch.meta).map_err(|e| self.err(e))
    }

    /// Every Merkle leaf hash, in journal order.
    pub fn leaf_hashes(&self) -> Result<Vec<Hash>, IndexError> {
        let mut out = Vec::new();
        for kv in self.h()?.tree.scan_prefix(b"L") {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let leaf = <Hash>::try_from(v.as_ref()).map_err(|_| self.err("a leaf hash is malformed"))?;
            let seq = k.get(1..).and_then(|s| <[u8; 8]>::try_from(s).ok()).map(u64::from_be_bytes);
            if seq != Some(out.len() as u64 + 1) {
                return Err(self.err("the leaf hashes are not numbered 1, 2, 3, ... in journal order"));
            }
            out.push(leaf);
        }
        Ok(out)
    }

    /// The point of the largest record sequence number at most `seq`
    /// (derived data: the caller checks it against the journal), or `None`
    /// when there is none or it is malformed.
    pub fn point_before(&self, seq: u64) -> Result<Option<Point>, IndexError> {
        let first = [b"r".as_slice(), &0u64.to_be_bytes()].concat();
        let last = [b"r".as_slice(), &seq.to_be_bytes()].concat();
        let Some(kv) = self.h()?.tree.range(first..=last).next_back() else { return Ok(None) };
        let (k, v) = kv.map_err(|e| self.err(e))?;
        let Some(at) = k.get(1..).and_then(|s| <[u8; 8]>::try_from(s).ok()).map(u64::from_be_bytes) else {
            return Ok(None);
        };
        if v.len() < 40 || at == 0 || at > seq {
            return Ok(None);
        }
        let end = u64::from_be_bytes(v[0..8].try_into().unwrap_or_default());
        let hash: Hash = v[8..40].try_into().unwrap_or_default();
        let Ok(tree) = CompactTree::from_bytes(&v[40..]) else { return Ok(None) };
        if tree.size() != at {
            return Ok(None);
        }
        Ok(Some(Point { resume: Resume { seq: at, end, hash }, tree }))
    }

    /// The Merkle leaf hashes of the records `from..=to` (sequence numbers,
    /// `from >= 1`), in journal order.
    pub fn leaf_range(&self, from: u64, to: u64) -> Result<Vec<Hash>, IndexError> {
        let mut out = Vec::new();
        if from == 0 || from > to {
            return Ok(out);
        }
        let lo = [b"L".as_slice(), &from.to_be_bytes()].concat();
        let hi = [b"L".as_slice(), &to.to_be_bytes()].concat();
        for kv in self.h()?.tree.range(lo..=hi) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let leaf = <Hash>::try_from(v.as_ref()).map_err(|_| self.err("a leaf hash is malformed"))?;
            let seq = k.get(1..).and_then(|s| <[u8; 8]>::try_from(s).ok()).map(u64::from_be_bytes);
            if seq != Some(from + out.len() as u64) {
                return Err(self.err("the leaf hashes are not numbered 1, 2, 3, ... in journal order"));
            }
            out.push(leaf);
        }
        if out.len() as u64 != to - from + 1 {
            return Err(self.err(format!("leaf hashes {from}..={to} are missing")));
        }
        Ok(out)
    }

    /// Flushes to disk (the journal is durable regardless; this only saves
    /// catch-up work on the next open).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.h()?.db.flush().map(|_| ()).map_err(|e| self.err(e))
    }

    /// Deletes everything (for reindex).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.h()?.meta.clear().map_err(|e| self.err(e))?;
        self.h()?.tree.clear().map_err(|e| self.err(e))
    }

    /// Where the entry with this id is, if present.
    pub fn locate(&self, id: &EntryId) -> Result<Option<Located>, IndexError> {
        let v = self.h()?.tree.get([b"e".as_slice(), &id.0].concat()).map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| {
            (v.len() == 20).then(|| Located {
                seq: u64::from_be_bytes(v[0..8].try_into().unwrap_or_default()),
                offset: u64::from_be_bytes(v[8..16].try_into().unwrap_or_default()),
                len: u32::from_be_bytes(v[16..20].try_into().unwrap_or_default()),
            })
        }))
    }

    fn scan(&self, prefix: u8, name: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        let p = list_prefix(prefix, name);
        let mut out = Vec::new();
        for kv in self.h()?.tree.scan_prefix(&p) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            if k.len() != p.len() + POSTING_SEQ {
                // Another list, whose name is this one's plus NUL and more.
                continue;
            }
            let seq = k.get(p.len()..).and_then(|s| <[u8; POSTING_SEQ]>::try_from(s).ok()).map(u64::from_be_bytes);
            let id = <[u8; 32]>::try_from(v.as_ref()).ok().map(EntryId);
            let (Some(seq), Some(id)) = (seq, id) else {
                return Err(self.err("a posting is malformed"));
            };
            out.push((seq, id));
        }
        Ok(out)
    }

    /// Entries by author party, in journal order.
    pub fn by_party(&self, party: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        self.scan(b'p', party)
    }
    /// Entries by kind, in journal order.
    pub fn by_kind(&self, kind: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        self.scan(b'k', kind)
    }
    /// Entries concerning a contract, in journal order.
    pub fn by_contract(&self, contract: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        self.scan(b'c', contract)
    }

    /// All entry ids in byte order (for the set digest).
    pub fn ids(&self) -> impl Iterator<Item = Result<EntryId, IndexError>> + '_ {
        let handles = self.handles.as_ref();
        let closed = handles.is_none().then(|| Err(self.err("it could not be opened again after a flush")));
        closed.into_iter().chain(handles.into_iter().flat_map(|h| h.tree.scan_prefix(b"e")).map(move |kv| {
            let (k, _) = kv.map_err(|e| self.err(e))?;
            <[u8; 32]>::try_from(&k[1..]).map(EntryId).map_err(|_| self.err("an id key is malformed"))
        }))
    }
}
