//! The sled index: lookups by entry id, sequence, party, kind and contract,
//! plus the registry and the resume point. Derived data only: `vereffen
//! reindex` rebuilds it from the journal.
//!
//! One sled tree with prefixed keys, so every batch is applied atomically:
//!
//! ```text
//! "e" id(32)                 -> seq(8 BE) entry_offset(8 BE) entry_len(4 BE)
//! "s" seq(8 BE)              -> id(32)
//! "p" party "\0" seq(8 BE)   -> id(32)
//! "k" kind "\0" seq(8 BE)    -> id(32)
//! "c" contract "\0" seq(8 BE)-> id(32)
//! "m" "head"                 -> seq(8) end(8) hash(32)
//! "m" "registry"             -> registry (JSON)
//! ```

use std::path::{Path, PathBuf};

use crate::entry::{Entry, EntryId};
use crate::journal::{RecordPos, Resume};
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

/// A batch of index updates, applied atomically.
#[derive(Default)]
pub struct IndexBatch {
    batch: sled::Batch,
}

fn seq_key(prefix: &[u8], name: &str, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + name.len() + 9);
    k.extend_from_slice(prefix);
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

impl IndexBatch {
    /// Adds the lookups for one appended entry.
    pub fn add(&mut self, e: &Entry, pos: &RecordPos) {
        let id = e.id().0;
        let mut loc = Vec::with_capacity(20);
        loc.extend_from_slice(&pos.seq.to_be_bytes());
        loc.extend_from_slice(&pos.entry_offset.to_be_bytes());
        loc.extend_from_slice(&pos.entry_len.to_be_bytes());
        self.batch.insert([b"e".as_slice(), &id].concat(), loc);
        self.batch.insert([b"s".as_slice(), &pos.seq.to_be_bytes()].concat(), &id);
        self.batch.insert(seq_key(b"p", &e.body().author.party, pos.seq), &id);
        self.batch.insert(seq_key(b"k", e.kind(), pos.seq), &id);
        if let Some(c) = e.contract() {
            self.batch.insert(seq_key(b"c", c, pos.seq), &id);
        }
    }

    /// Records the resume point and the registry after the batch.
    pub fn finish(&mut self, resume: Resume, registry: &Registry) -> Result<(), serde_json::Error> {
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
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| err(format!("cannot open: {e}")))?;
        let tree = db.open_tree("v1").map_err(|e| err(format!("cannot open tree: {e}")))?;
        Ok(Index { db, tree, path: dir.to_path_buf() })
    }

    fn err(&self, what: impl std::fmt::Display) -> IndexError {
        IndexError { path: self.path.clone(), what: what.to_string() }
    }

    /// The resume point and registry stored by the last batch.
    pub fn state(&self) -> Result<(Resume, Registry), IndexError> {
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
            Some(v) => serde_json::from_slice(&v).map_err(|e| self.err(format!("the stored registry is malformed: {e}")))?,
        };
        if resume.seq == 0 && registry != Registry::default() {
            return Err(self.err("it holds parties but no head"));
        }
        Ok((resume, registry))
    }

    /// Applies a batch atomically.
    pub fn apply(&self, batch: IndexBatch) -> Result<(), IndexError> {
        self.tree.apply_batch(batch.batch).map_err(|e| self.err(e))
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

    /// The id at a sequence number.
    pub fn id_at(&self, seq: u64) -> Result<Option<EntryId>, IndexError> {
        let v = self.tree.get([b"s".as_slice(), &seq.to_be_bytes()].concat()).map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| <[u8; 32]>::try_from(v.as_ref()).ok().map(EntryId)))
    }

    fn scan(&self, prefix: &[u8], name: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        let mut p = prefix.to_vec();
        p.extend_from_slice(name.as_bytes());
        p.push(0);
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix(&p) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let seq = k.get(p.len()..).and_then(|s| <[u8; 8]>::try_from(s).ok()).map(u64::from_be_bytes);
            let id = <[u8; 32]>::try_from(v.as_ref()).ok().map(EntryId);
            match (seq, id) {
                (Some(s), Some(i)) => out.push((s, i)),
                _ => return Err(self.err("a lookup key is malformed")),
            }
        }
        Ok(out)
    }

    /// Entries by author party, in journal order.
    pub fn by_party(&self, party: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        self.scan(b"p", party)
    }
    /// Entries by kind, in journal order.
    pub fn by_kind(&self, kind: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        self.scan(b"k", kind)
    }
    /// Entries concerning a contract, in journal order.
    pub fn by_contract(&self, contract: &str) -> Result<Vec<(u64, EntryId)>, IndexError> {
        self.scan(b"c", contract)
    }

    /// All entry ids in byte order (for the set digest).
    pub fn ids(&self) -> impl Iterator<Item = Result<EntryId, IndexError>> + '_ {
        self.tree.scan_prefix(b"e").map(move |kv| {
            let (k, _) = kv.map_err(|e| self.err(e))?;
            <[u8; 32]>::try_from(&k[1..]).map(EntryId).map_err(|_| self.err("an id key is malformed"))
        })
    }
}
