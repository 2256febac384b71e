//! The sled index: lookups by entry id, sequence, party, kind and contract,
//! plus the registry and the resume point. Derived data only: `vereffen
//! reindex` rebuilds it from the journal.
//!
//! One sled tree with prefixed keys, so every batch is applied atomically:
//!
//! ```text
//! "e" id(32)                      -> seq(8 BE) entry_offset(8 BE) entry_len(4 BE)
//! "p" party    "\0" chunk(4 BE)   -> posting list: n * (seq(8 BE) id(32))
//! "k" kind     "\0" chunk(4 BE)   -> posting list
//! "c" contract "\0" chunk(4 BE)   -> posting list
//! "L" chunk(4 BE)                 -> Merkle leaf hashes, 32 bytes each, in journal order
//! "m" "head"                      -> seq(8) end(8) hash(32)
//! "m" "merkle"                    -> the compact Merkle tree (frontier) after the head
//! "m" "registry"                  -> registry (JSON)
//! ```
//!
//! Posting lists hold up to [`POSTING_CHUNK`] entries per key, in journal
//! order; a batch appends to the last chunk of each list it touches, so a
//! batch of a thousand entries by one party costs one write, not a thousand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::entry::{Entry, EntryId};
use crate::journal::{Hash, RecordPos, Resume};
use crate::merkle::CompactTree;
use crate::registry::Registry;

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
    db: sled::Db,
    tree: sled::Tree,
    path: PathBuf,
}

/// How often (every 10 ms) to retry sled's own lock while a just-dropped
/// instance in this process finishes its last flush: at most 5 seconds.
/// Only this process can hold it (the ledger's own lock is taken first).
const SLED_LOCK_RETRIES: u32 = 500;

/// The layout version of the index. An index of another version (written
/// by another version of vereffen) is rebuilt from the journal on open.
pub const INDEX_VERSION: u32 = 2;

/// Merkle leaf hashes per chunk (32 KiB values).
const LEAF_CHUNK: usize = 1024;

/// Entries per posting-list chunk (40 bytes each).
pub const POSTING_CHUNK: usize = 1024;
const POSTING_ITEM: usize = 40;

/// A batch of index updates, applied atomically.
#[derive(Default)]
pub struct IndexBatch {
    batch: sled::Batch,
    postings: BTreeMap<Vec<u8>, Vec<u8>>,
    leaves: Vec<u8>,
}

fn list_prefix(prefix: u8, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 6);
    k.push(prefix);
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k
}

impl IndexBatch {
    /// Adds the lookups for one appended entry and its Merkle leaf hash.
    pub fn add(&mut self, e: &Entry, pos: &RecordPos, leaf: &Hash) {
        self.leaves.extend_from_slice(leaf);
        let id = e.id().0;
        let mut loc = Vec::with_capacity(20);
        loc.extend_from_slice(&pos.seq.to_be_bytes());
        loc.extend_from_slice(&pos.entry_offset.to_be_bytes());
        loc.extend_from_slice(&pos.entry_len.to_be_bytes());
        self.batch.insert([b"e".as_slice(), &id].concat(), loc);
        let mut item = [0u8; POSTING_ITEM];
        item[..8].copy_from_slice(&pos.seq.to_be_bytes());
        item[8..].copy_from_slice(&id);
        let mut post = |prefix: u8, name: &str| {
            self.postings.entry(list_prefix(prefix, name)).or_default().extend_from_slice(&item);
        };
        post(b'p', &e.body().author.party);
        post(b'k', e.kind());
        if let Some(c) = e.contract() {
            post(b'c', c);
        }
    }

    /// Records the resume point, the Merkle tree and the registry after the batch.
    pub fn finish(&mut self, resume: Resume, tree: &CompactTree, registry: &Registry) -> Result<(), serde_json::Error> {
        debug_assert_eq!(tree.size(), resume.seq, "the Merkle tree covers exactly the journal");
        self.batch.insert(b"mmerkle".as_slice(), tree.to_bytes());
        self.batch.insert(b"mversion".as_slice(), INDEX_VERSION.to_be_bytes().to_vec());
        let mut head = Vec::with_capacity(48);
        head.extend_from_slice(&resume.seq.to_be_bytes());
        head.extend_from_slice(&resume.end.to_be_bytes());
        head.extend_from_slice(&resume.hash);
        self.batch.insert(b"mhead".as_slice(), head);
        self.batch.insert(b"mregistry".as_slice(), serde_json::to_vec(registry)?);
        Ok(())
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
            match sled::Config::new().path(dir).flush_every_ms(Some(1000)).open() {
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
        Ok(Index { db, tree, path: dir.to_path_buf() })
    }

    fn err(&self, what: impl std::fmt::Display) -> IndexError {
        IndexError { path: self.path.clone(), what: what.to_string() }
    }

    /// True if the index was written by this layout version (or is empty).
    pub fn is_current(&self) -> Result<bool, IndexError> {
        let version = self.tree.get(b"mversion").map_err(|e| self.err(e))?;
        let empty = self.tree.is_empty();
        Ok(empty || version.as_deref() == Some(INDEX_VERSION.to_be_bytes().as_slice()))
    }

    /// The resume point, Merkle tree and registry stored by the last batch.
    pub fn state(&self) -> Result<(Resume, CompactTree, Registry), IndexError> {
        let head = self.tree.get(b"mhead").map_err(|e| self.err(e))?;
        let resume = match head {
            None => Resume { seq: 0, end: 0, hash: [0; 32] },
            Some(v) if v.len() == 48 => Resume {
                seq: u64::from_be_bytes(v[0..8].try_into().unwrap_or_default()),
                end: u64::from_be_bytes(v[8..16].try_into().unwrap_or_default()),
                hash: v[16..48].try_into().unwrap_or_default(),
            },
            Some(_) => return Err(self.err("the stored head is malformed")),
        };
        let registry = match self.tree.get(b"mregistry").map_err(|e| self.err(e))? {
            None => Registry::default(),
            Some(v) => {
                serde_json::from_slice(&v).map_err(|e| self.err(format!("the stored registry is malformed: {e}")))?
            }
        };
        if resume.seq == 0 && registry != Registry::default() {
            return Err(self.err("it holds parties but no head"));
        }
        let tree = match self.tree.get(b"mmerkle").map_err(|e| self.err(e))? {
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

    /// Applies a batch atomically: the posting lists it extends are read
    /// here and written back in the same sled batch.
    pub fn apply(&self, batch: IndexBatch) -> Result<(), IndexError> {
        let IndexBatch { mut batch, postings, leaves } = batch;
        self.append_chunks(&mut batch, b"L", &leaves, LEAF_CHUNK * 32, 32)?;
        for (prefix, items) in postings {
            self.append_chunks(&mut batch, &prefix, &items, POSTING_CHUNK * POSTING_ITEM, POSTING_ITEM)?;
        }
        self.tree.apply_batch(batch).map_err(|e| self.err(e))
    }

    /// Appends fixed-size items to the chunked list under `prefix`: the last
    /// chunk is read and extended, full chunks spill into new keys.
    fn append_chunks(
        &self,
        batch: &mut sled::Batch,
        prefix: &[u8],
        items: &[u8],
        chunk_bytes: usize,
        item: usize,
    ) -> Result<(), IndexError> {
        if items.is_empty() {
            return Ok(());
        }
        let (mut chunk_no, mut chunk) = match self.tree.scan_prefix(prefix).next_back() {
            Some(kv) => {
                let (k, v) = kv.map_err(|e| self.err(e))?;
                let no = k.get(prefix.len()..).and_then(|s| <[u8; 4]>::try_from(s).ok()).map(u32::from_be_bytes);
                (no.ok_or_else(|| self.err("a chunked-list key is malformed"))?, v.to_vec())
            }
            None => (0, Vec::new()),
        };
        for one in items.chunks_exact(item) {
            if chunk.len() == chunk_bytes {
                batch.insert([prefix, &chunk_no.to_be_bytes()].concat(), std::mem::take(&mut chunk));
                chunk_no += 1;
            }
            chunk.extend_from_slice(one);
        }
        batch.insert([prefix, &chunk_no.to_be_bytes()].concat(), chunk);
        Ok(())
    }

    /// Every Merkle leaf hash, in journal order.
    pub fn leaf_hashes(&self) -> Result<Vec<Hash>, IndexError> {
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix(b"L") {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            if k.len() != 5 || !v.len().is_multiple_of(32) {
                return Err(self.err("a leaf-hash chunk is malformed"));
            }
            out.extend(v.chunks_exact(32).map(|c| <Hash>::try_from(c).unwrap_or_default()));
        }
        Ok(out)
    }

    /// Flushes to disk (the journal is durable regardless; this only saves
    /// catch-up work on the next open).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.db.flush().map(|_| ()).map_err(|e| self.err(e))
    }

    /// Deletes everything (for reindex).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.tree.clear().map_err(|e| self.err(e))
    }

    /// Where the entry with this id is, if present.
    pub fn locate(&self, id: &EntryId) -> Result<Option<Located>, IndexError> {
        let v = self.tree.get([b"e".as_slice(), &id.0].concat()).map_err(|e| self.err(e))?;
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
        for kv in self.tree.scan_prefix(&p) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            if k.len() != p.len() + 4 || v.len() % POSTING_ITEM != 0 {
                return Err(self.err("a posting list is malformed"));
            }
            for item in v.chunks_exact(POSTING_ITEM) {
                let seq = u64::from_be_bytes(item[..8].try_into().unwrap_or_default());
                let id = EntryId(item[8..].try_into().unwrap_or_default());
                out.push((seq, id));
            }
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
        self.tree.scan_prefix(b"e").map(move |kv| {
            let (k, _) = kv.map_err(|e| self.err(e))?;
            <[u8; 32]>::try_from(&k[1..]).map(EntryId).map_err(|_| self.err("an id key is malformed"))
        })
    }
}
