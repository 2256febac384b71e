//! A ledger copy on disk: the journal (truth), the index (lookups), the
//! registry (who may sign), and the lock that keeps one writer at a time.
//!
//! ```text
//! DIR/journal   the append-only journal (see `journal`)
//! DIR/index/    the sled index (see `index`), rebuilt by `reindex` and
//!               automatically whenever it cannot be used
//! DIR/head      the last acknowledged record (see `head`): catches a
//!               journal truncated at a record boundary
//! DIR/lock      held (flock) by the one process using the copy
//! ```
//!
//! After a failed journal write or fsync, the journal handle is poisoned
//! and this `Ledger` refuses every further append: what the file holds is
//! uncertain until it is re-read. Drop the ledger and open it again (in the
//! command-line tool: run the next command), which re-reads the journal from
//! its durable state and checks it against `DIR/head`.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::VerifyingKey;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::ledger::entry::{Entry, EntryError, EntryId};
use crate::ledger::head::{self, Head, HeadError};
use crate::ledger::index::{Index, IndexBatch, IndexError};
use crate::ledger::journal::{Hash, Journal, JournalError, Scanner, TornTail};
use crate::ledger::keys::KeyId;
use crate::ledger::liveness::{self, VoidSet};
use crate::ledger::merkle::{self, CompactTree};
use crate::ledger::registry::{KeyUse, Registry};
use crate::ledger::setsum::SetSum;
use crate::ledger::sigs::{self, SigItem};
use crate::ledger::EntryRules;

/// Why an index is rebuilt when another version of vereffen wrote it.
const OLD_LAYOUT: &str = "it was written by another version of vereffen";

/// The journal file name inside a ledger directory.
pub const JOURNAL_FILE: &str = "journal";
/// The index directory name inside a ledger directory.
pub const INDEX_DIR: &str = "index";
/// The lock file name inside a ledger directory.
pub const LOCK_FILE: &str = "lock";
/// Index updates are applied in batches of this many entries when catching up.
const CATCH_UP_BATCH: usize = 10_000;

/// Everything that can go wrong with a ledger copy. Messages name the
/// directory, record or entry and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The directory does not exist.
    #[error("ledger directory {0} does not exist: create a ledger there with `vereffen --ledger {0} init --id LEDGER-ID`, or pass the --ledger DIR of an existing copy")]
    NoSuchDir(PathBuf),
    /// The directory is not a ledger.
    #[error("{0} is not a vereffen ledger (it has no journal file): create one with `vereffen --ledger DIR init --id LEDGER-ID`, or pass the right --ledger DIR")]
    NotALedger(PathBuf),
    /// `init` on a non-empty directory.
    #[error("{0} is not empty: `vereffen init` only creates a ledger in a new or empty directory")]
    NotEmpty(PathBuf),
    /// An invalid ledger id.
    #[error("ledger id {0:?} is not valid: use 1 to 64 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    BadLedgerId(String),
    /// Another process holds the lock.
    #[error("ledger {dir} is in use by another vereffen process{holder}; wait until it finishes and try again")]
    Locked {
        /// The ledger directory.
        dir: PathBuf,
        /// " (pid N)" when known.
        holder: String,
    },
    /// A filesystem error outside the journal.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The journal is damaged or unreadable.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The index is damaged or unreadable.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The head file (`DIR/head`) cannot be read or written.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The journal holds less than this copy acknowledged (`DIR/head`), or
    /// another history: it was truncated or replaced.
    #[error("ledger {dir}: {what}. {}", head::RESTORE_ADVICE)]
    Truncated {
        /// The ledger directory.
        dir: PathBuf,
        /// What differs from the recorded head.
        what: String,
    },
    /// A record holds bytes that are not an entry.
    #[error("journal record {seq} does not hold a valid entry: {source}")]
    BadRecord {
        /// The record.
        seq: u64,
        /// Why.
        source: EntryError,
    },
    /// An entry offered for append breaks a rule; nothing was appended.
    #[error("entry {} ({kind}) was refused: {reason}. Nothing was appended", id.short())]
    Rejected {
        /// 0-based position in the offered batch.
        position: usize,
        /// The entry id.
        id: EntryId,
        /// The entry kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io { path: path.to_path_buf(), source }
}

/// What opening a ledger noticed (reported to the user, not errors).
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// A torn final record that was dropped (never acknowledged).
    pub torn: Option<TornTail>,
    /// Records the index caught up with (appended but not indexed before a crash).
    pub caught_up: u64,
    /// The index was written by another version of vereffen and was rebuilt.
    pub rebuilt: bool,
    /// The index could not be used (unreadable, or inconsistent with the
    /// journal), so it was deleted and rebuilt from the journal: why.
    pub index_rebuilt: Option<String>,
}

/// Entries checked but not yet appended, that a batch checked by
/// [`Ledger::check_batch_after`] follows (in append order).
pub struct Pending<'a> {
    /// The registry as the copy and the pending entries leave it.
    pub registry: &'a Registry,
    /// How many entries are pending (the batch's entries get the sequence
    /// numbers after them).
    pub count: u64,
    /// True if the id is a pending entry's.
    pub contains: &'a dyn Fn(&EntryId) -> bool,
    /// The pending entry with this id, if it is one (for the rules that read
    /// referenced entries).
    pub get: &'a dyn Fn(&EntryId) -> Option<Entry>,
}

/// An open ledger copy, locked for this process.
pub struct Ledger {
    dir: PathBuf,
    journal: Journal,
    index: Index,
    registry: Registry,
    tree: CompactTree,
    /// The set sum of every entry (the set digest's state), kept with each append.
    setsum: SetSum,
    report: OpenReport,
    rules: &'static dyn EntryRules,
    _lock: File,
}

/// How long opening waits for another process to release the lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(750);

fn lock(dir: &Path) -> Result<File, LedgerError> {
    let path = dir.join(LOCK_FILE);
    let mut file =
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_err(&path))?;
    // A short command of another process (or a child process that has
    // not yet reached exec and still shares the descriptor) releases the
    // lock soon: wait up to LOCK_WAIT before reporting it.
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    let mut attempt = file.try_lock();
    while matches!(attempt, Err(std::fs::TryLockError::WouldBlock)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(25));
        attempt = file.try_lock();
    }
    match attempt {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = file.write_all(format!("{}\n", std::process::id()).as_bytes());
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            let holder = if pid.is_empty() { String::new() } else { format!(" (pid {pid})") };
            Err(LedgerError::Locked { dir: dir.to_path_buf(), holder })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(LedgerError::Io { path, source: e }),
    }
}

impl Ledger {
    /// Creates an empty ledger with id `ledger_id` in `dir` (new or empty).
    pub fn init(dir: &Path, ledger_id: &str, rules: &'static dyn EntryRules) -> Result<Ledger, LedgerError> {
        if !crate::ledger::entry::is_valid_name(ledger_id) {
            return Err(LedgerError::BadLedgerId(ledger_id.to_string()));
        }
        if dir.exists() {
            let mut items = fs::read_dir(dir).map_err(io_err(dir))?;
            if items.next().is_some() {
                return Err(LedgerError::NotEmpty(dir.to_path_buf()));
            }
        } else {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let lock = lock(dir)?;
        // An empty journal; opening it makes the (empty) index like any open.
        drop(Journal::create(&dir.join(JOURNAL_FILE), ledger_id)?);
        Self::open_locked(dir, lock, rules)
    }

    /// Opens an existing ledger: takes the lock, checks the journal from
    /// where the index left off, drops a torn tail, and brings the index up
    /// to date.
    pub fn open(dir: &Path, rules: &'static dyn EntryRules) -> Result<Ledger, LedgerError> {
        if !dir.is_dir() {
            return Err(LedgerError::NoSuchDir(dir.to_path_buf()));
        }
        if !dir.join(JOURNAL_FILE).is_file() {
            return Err(LedgerError::NotALedger(dir.to_path_buf()));
        }
        let lock = lock(dir)?;
        Self::open_locked(dir, lock, rules)
    }

    /// Opens with the lock held: checks the journal against the recorded
    /// head, then opens the index and catches it up. An index that cannot be
    /// used is deleted and rebuilt from the journal (it is derived data).
    fn open_locked(dir: &Path, lock: File, rules: &'static dyn EntryRules) -> Result<Ledger, LedgerError> {
        let recorded = checked_head(dir)?;
        let index_dir = dir.join(INDEX_DIR);
        let index_existed = index_dir.exists();
        let attempt = match guarded(|| Index::open(&index_dir)) {
            Ok(index) => Self::open_with(dir, index, recorded.as_ref()),
            Err(reason) => Err(Attempt::Index(reason)),
        };
        let loaded = match attempt {
            Ok(loaded) => loaded,
            Err(Attempt::Other(e)) => return Err(e),
            Err(Attempt::Index(reason)) => {
                // Every sled handle of the failed attempt is dropped by now.
                if index_dir.exists() {
                    fs::remove_dir_all(&index_dir).map_err(io_err(&index_dir))?;
                }
                let index = Index::open(&index_dir)?;
                let mut loaded = Self::open_with(dir, index, recorded.as_ref()).map_err(|a| match a {
                    Attempt::Other(e) => e,
                    Attempt::Index(what) => LedgerError::Index(IndexError { path: index_dir.clone(), what }),
                })?;
                if reason == OLD_LAYOUT {
                    loaded.report.rebuilt = true;
                } else {
                    loaded.report.index_rebuilt = Some(reason);
                }
                loaded
            }
        };
        let Loaded { journal, index, registry, tree, setsum, mut report } = loaded;
        if !index_existed && report.caught_up > 0 && report.index_rebuilt.is_none() {
            report.index_rebuilt = Some("its directory was missing".into());
        }
        let now = Head { ledger: journal.ledger().to_string(), at: journal.resume_point() };
        assert!(
            recorded.as_ref().is_none_or(|h| h.at.seq <= now.at.seq),
            "open_checked refuses a journal behind its head"
        );
        if recorded.as_ref() != Some(&now) {
            head::write(dir, &now)?;
        }
        assert_eq!(setsum.count(), journal.len(), "the set sum covers exactly the journal");
        // The set digest cache of index version 3 (every sorted id, 32
        // bytes an entry) is not used any more: only its space is freed.
        let _ = fs::remove_file(dir.join(IDS_CACHE_FILE));
        Ok(Ledger { dir: dir.to_path_buf(), journal, index, registry, tree, setsum, report, rules, _lock: lock })
    }

    /// One attempt at opening with `index`. Problems of the index come back
    /// as [`Attempt::Index`] (the caller rebuilds it), everything else as
    /// [`Attempt::Other`].
    fn open_with(dir: &Path, mut index: Index, recorded: Option<&Head>) -> Result<Loaded, Attempt> {
        let ix = |e: IndexError| Attempt::Index(e.what);
        // An index written by another version of vereffen is rebuilt from the
        // journal (it holds only derived data). The caller removes its
        // directory rather than clearing it: sled keeps a cleared tree's old
        // log segments, and an old layout's index can be many times the
        // journal's size.
        if !index.is_current().map_err(ix)? {
            return Err(Attempt::Index(OLD_LAYOUT.into()));
        }
        let rebuilt = false;
        let (resume, mut tree, mut registry) = guarded(|| index.state()).map_err(Attempt::Index)?;
        let mut setsum = match guarded(|| index.set_sum()).map_err(Attempt::Index)? {
            Some(sum) if sum.count() == resume.seq => sum,
            None if resume.seq == 0 => SetSum::new(),
            _ => return Err(Attempt::Index(format!("its set sum does not cover its head (entry {})", resume.seq))),
        };
        let path = dir.join(JOURNAL_FILE);
        if resume.seq > 0 {
            // The index's resume point must lie on the journal. With a
            // recorded head, a mismatch is the index's fault (the head
            // already vouched for the journal); a copy without a head (made
            // by an older version) has only the index to catch truncation.
            let check = Scanner::open(&path).map_err(|e| Attempt::Other(e.into()))?.resume(resume);
            match check {
                Ok(()) => {}
                Err(e) if recorded.is_none() => return Err(Attempt::Other(e.into())),
                Err(_) => {
                    return Err(Attempt::Index(format!(
                        "its resume point (entry {} ending at byte {}) is not on the journal",
                        resume.seq, resume.end
                    )))
                }
            }
        }
        let mut batch = IndexBatch::default();
        let mut pending = 0usize;
        let mut caught_up = 0u64;
        let mut failure: Option<Attempt> = None;
        let (journal, torn) = Journal::open_checked(&path, resume, recorded.map(|h| h.at), |pos, bytes| {
            let entry = match Entry::decode(bytes) {
                Ok(e) => e,
                Err(source) => {
                    failure.get_or_insert(Attempt::Other(LedgerError::BadRecord { seq: pos.seq, source }));
                    return Ok(());
                }
            };
            if failure.is_some() {
                return Ok(());
            }
            registry.apply(&entry, pos.seq);
            setsum.add(&entry.id().0);
            let leaf = merkle::leaf_hash(bytes);
            tree.push(leaf);
            batch.add(&entry, &pos, &leaf);
            batch.add_point(&pos, &tree);
            pending += 1;
            caught_up += 1;
            if pending == CATCH_UP_BATCH {
                let resume = crate::ledger::journal::Resume { seq: pos.seq, end: pos.end(), hash: pos.hash };
                let full = std::mem::take(&mut batch);
                if let Err(e) = finish_and_apply(&index, full, resume, &tree, &registry, &setsum, dir) {
                    failure.get_or_insert(Attempt::from(e));
                } else if let Err(e) = index.reopen_if_due(pending as u64) {
                    failure.get_or_insert(Attempt::Index(e.what));
                }
                pending = 0;
            }
            Ok(())
        })
        .map_err(|e| match e {
            // Scanning on from a resume point that is on the journal but
            // names the wrong record fails like damage: let a full rebuild
            // from byte 0 decide (it reports real damage the same way).
            JournalError::Damaged { .. } if resume.seq > 0 => {
                Attempt::Index(format!("the journal does not continue from its resume point as recorded: {e}"))
            }
            e => Attempt::Other(e.into()),
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if caught_up > 0 || torn.is_some() {
            finish_and_apply(&index, batch, journal.resume_point(), &tree, &registry, &setsum, dir)?;
            index.flush().map_err(ix)?;
        }
        Ok(Loaded {
            journal,
            index,
            registry,
            tree,
            setsum,
            report: OpenReport { torn, caught_up, rebuilt, index_rebuilt: None },
        })
    }

    /// Rebuilds the index from the journal.
    pub fn reindex(dir: &Path, rules: &'static dyn EntryRules) -> Result<Ledger, LedgerError> {
        if !dir.join(JOURNAL_FILE).is_file() {
            return Err(LedgerError::NotALedger(dir.to_path_buf()));
        }
        let lock = lock(dir)?;
        // A journal behind its head is refused before anything is touched.
        checked_head(dir)?;
        let index_dir = dir.join(INDEX_DIR);
        if index_dir.exists() {
            fs::remove_dir_all(&index_dir).map_err(io_err(&index_dir))?;
        }
        Self::open_locked(dir, lock, rules)
    }

    /// Reopens the index's sled instance after every `entries` appended
    /// (see [`crate::ledger::index::INDEX_REOPEN_ENTRIES`], the default).
    pub fn set_index_reopen_every(&mut self, entries: u64) {
        self.index.set_reopen_every(entries);
    }

    /// The ledger directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The ledger id shared by every party's copy.
    pub fn id(&self) -> &str {
        self.journal.ledger()
    }
    /// The rules of entry kinds this copy was opened with.
    pub fn rules(&self) -> &'static dyn EntryRules {
        self.rules
    }
    /// What opening noticed.
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }
    /// The parties and keys now.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.journal.len()
    }
    /// True if the ledger has no entries.
    pub fn is_empty(&self) -> bool {
        self.journal.is_empty()
    }
    /// The journal's chain head (depends on this copy's arrival order).
    pub fn head(&self) -> Hash {
        self.journal.head()
    }
    /// The journal file path.
    pub fn journal_path(&self) -> &Path {
        self.journal.path()
    }
    /// The Merkle tree over the journal (leaf `i` is the entry of record
    /// `i + 1`, hashed as `merkle::leaf_hash(wire bytes)`).
    pub fn merkle_tree(&self) -> &CompactTree {
        &self.tree
    }
    /// The index, for lookups.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// True if the entry is in this copy.
    pub fn contains(&self, id: &EntryId) -> Result<bool, LedgerError> {
        Ok(self.index.locate(id)?.is_some())
    }

    /// The entry with this id and its sequence number, if present.
    pub fn get(&self, id: &EntryId) -> Result<Option<(u64, Entry)>, LedgerError> {
        let Some(loc) = self.index.locate(id)? else {
            return Ok(None);
        };
        let bytes = self.journal.read_entry(loc.offset, loc.len)?;
        let e = Entry::decode(&bytes).map_err(|source| LedgerError::BadRecord { seq: loc.seq, source })?;
        if e.id() != *id {
            return Err(LedgerError::Index(IndexError {
                path: self.dir.join(INDEX_DIR),
                what: format!("it points entry {} at record {}, which holds another entry", id.short(), loc.seq),
            }));
        }
        Ok(Some((loc.seq, e)))
    }

    /// Reads a list of (seq, id) pairs from the index into entries.
    pub fn load(&self, ids: &[(u64, EntryId)]) -> Result<Vec<(u64, Entry)>, LedgerError> {
        ids.iter()
            .map(|(_, id)| {
                self.get(id)?.ok_or_else(|| {
                    LedgerError::Index(IndexError {
                        path: self.dir.join(INDEX_DIR),
                        what: format!("entry {} is listed but missing", id.short()),
                    })
                })
            })
            .collect()
    }

    /// Every entry in journal order, from sequence `since` (1-based) on.
    pub fn scan(&self, since: u64) -> Result<Vec<(u64, Entry)>, LedgerError> {
        let mut out = Vec::new();
        self.for_each(since, |seq, e| {
            out.push((seq, e));
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` for every entry in journal order from sequence `since` on.
    ///
    /// Starts at the index's nearest point before `since` (at most
    /// [`crate::ledger::index::POINT_EVERY`] records before it) instead of
    /// byte 0, so reading the tail of a large copy costs the tail. The point
    /// is derived data and is not trusted: `Scanner::resume` checks the hash
    /// it names at the offset it names, the next record must carry the next
    /// sequence number and chain to that hash; if any of that fails the
    /// scan starts again from byte 0.
    pub fn for_each(
        &self,
        since: u64,
        f: impl FnMut(u64, Entry) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        self.for_each_until(since, u64::MAX, f)
    }

    /// [`Ledger::for_each`] for the entries of sequence `since..=until`
    /// only: reading stops after `until` (or the last entry), so a range
    /// costs the range (plus at most `POINT_EVERY` records before it), not
    /// the rest of the journal.
    pub fn for_each_until(
        &self,
        since: u64,
        until: u64,
        mut f: impl FnMut(u64, Entry) -> Result<(), LedgerError>,
    ) -> Result<(), LedgerError> {
        let last = until.min(self.journal.len());
        if since > last {
            return Ok(());
        }
        let mut scanner = self.scanner_from(since)?;
        while let Some((pos, bytes)) = scanner.next_record()? {
            if pos.seq > last {
                break;
            }
            if pos.seq >= since {
                let e = Entry::decode(&bytes).map_err(|source| LedgerError::BadRecord { seq: pos.seq, source })?;
                f(pos.seq, e)?;
            }
        }
        Ok(())
    }

    /// A scanner positioned so that its next record is at most
    /// `POINT_EVERY` records before `since` (or the first record).
    fn scanner_from(&self, since: u64) -> Result<Scanner, LedgerError> {
        let path = self.journal.path();
        let start = since.saturating_sub(1).min(self.journal.len());
        if start == 0 {
            return Ok(Scanner::open(path)?);
        }
        let Ok(Some(point)) = self.index.point_before(start) else { return Ok(Scanner::open(path)?) };
        let mut scanner = Scanner::open(path)?;
        if scanner.resume(point.resume).is_err() {
            return Ok(Scanner::open(path)?);
        }
        // The first record after the point must follow it (its sequence
        // number and its chain to the point's hash are checked by the
        // scanner); peek at it with a second scanner so that a bad point
        // costs a scan from byte 0, never an error or a wrong record.
        let mut probe = Scanner::open(path)?;
        let sound = probe.resume(point.resume).is_ok()
            && match probe.next_record() {
                Ok(Some((pos, _))) => pos.seq == point.resume.seq + 1,
                Ok(None) => point.resume.seq == self.journal.len(),
                Err(_) => false,
            };
        if !sound {
            return Ok(Scanner::open(path)?);
        }
        Ok(scanner)
    }

    /// The consistency proof (RFC 9162, `merkle::consistency_proof`)
    /// between this copy's tree at `old` and at its current size `new`,
    /// from the index's point at or below `old` and the leaf hashes after
    /// it: `O(POINT_EVERY + (new - old))` leaf reads instead of every leaf.
    /// The proof is checked against the copy's current root before it is
    /// returned, so a damaged point can cost time (the proof is then built
    /// from every leaf), never a wrong proof. `new` other than the current
    /// size, or no point: built from every leaf.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        let size = self.tree.size();
        let slow = || -> Result<Vec<Hash>, LedgerError> {
            let leaves = self.index.leaf_hashes()?;
            merkle::consistency_proof(&leaves, old, new).map_err(|e| self.proof_err(e))
        };
        if new != size || old == 0 || old >= new {
            return slow();
        }
        let Ok(Some(point)) = self.index.point_before(old) else { return slow() };
        let Ok(tail) = self.index.leaf_range(point.resume.seq + 1, new) else { return slow() };
        let mut at_old = point.tree;
        for leaf in &tail[..(old - point.resume.seq) as usize] {
            at_old.push(*leaf);
        }
        let proof = merkle::consistency_proof_from(&at_old, &tail[(old - point.resume.seq) as usize..], new);
        match proof {
            Ok(p) if merkle::verify_consistency(old, new, &at_old.root(), &self.tree.root(), &p).is_ok() => Ok(p),
            _ => slow(),
        }
    }

    fn proof_err(&self, e: merkle::MerkleError) -> LedgerError {
        LedgerError::Index(IndexError { path: self.dir.join(INDEX_DIR), what: e.to_string() })
    }

    /// The digest of the *set* of entries, independent of arrival order
    /// (`docs/FORMAT.md` 9, [`crate::ledger::setsum`]): two copies with the
    /// same entries agree on it. Read from the set sum this copy keeps with
    /// each append (stored with the index), so it costs the same at any size.
    pub fn set_digest(&self) -> Result<Hash, LedgerError> {
        assert_eq!(self.setsum.count(), self.len(), "the set sum covers exactly the journal");
        Ok(self.setsum.digest())
    }

    /// [`Ledger::set_digest`] computed from the index's entry ids, every one
    /// read (not from the kept set sum).
    pub fn set_digest_uncached(&self) -> Result<Hash, LedgerError> {
        let mut sum = SetSum::new();
        for id in self.index.ids() {
            sum.add(&id?.0);
        }
        if sum.count() != self.len() {
            return Err(LedgerError::Index(index_err(
                &self.dir,
                format!("it lists {} entry ids for {} entries", sum.count(), self.len()),
            )));
        }
        Ok(sum.digest())
    }

    /// The void entries of this copy (`crate::ledger::liveness`): a function of the
    /// entry set. Reads the journal only when some key was ever ended.
    pub fn void_entries(&self) -> Result<VoidSet, LedgerError> {
        if !self.registry.any_key_ended() {
            return Ok(VoidSet::new());
        }
        let all = self.scan(1)?;
        Ok(liveness::void_entries(all.iter().map(|(_, e)| e)))
    }

    /// The live entries of one contract (void entries left out), in journal
    /// order: what every derived view of a contract (negotiation status,
    /// measurement states, settlements) is computed from.
    pub fn contract_entries(&self, contract: &str) -> Result<Vec<Entry>, LedgerError> {
        let ids = self.index.by_contract(contract)?;
        let void = self.void_entries()?;
        Ok(self.load(&ids)?.into_iter().map(|(_, e)| e).filter(|e| !void.contains_key(&e.id())).collect())
    }

    /// The entry with this id if it is present and live (not void).
    pub fn get_live(&self, id: &EntryId, void: &VoidSet) -> Option<Entry> {
        if void.contains_key(id) {
            return None;
        }
        self.get(id).ok().flatten().map(|(_, e)| e)
    }

    /// Checks a batch of new entries against the rules (ledger id,
    /// duplicates, references, registry, signatures) without changing
    /// anything. Returns the registry as it would be after the batch.
    pub fn check_batch(&self, entries: &[Entry]) -> Result<Registry, LedgerError> {
        self.check_batch_as(entries, KeyUse::New)
    }

    /// Checks a batch of new or existing (imported) entries; see [`KeyUse`].
    /// New entries are also refused when their signing key was introduced by
    /// a void entry.
    ///
    /// Three steps, so that no unsigned byte reaches a kind's rules: (1) in
    /// order, each entry's place (ledger, duplicates, references) and
    /// signing keys ([`EntryRules::signing_keys`], against the registry as
    /// the entries before it leave it); (2) every signature of those
    /// entries, in parallel; (3) in order, the rules of the entries before
    /// the first failure ([`EntryRules::check_verified`]). The error names
    /// the first bad entry in batch order, whichever step found it.
    pub fn check_batch_as(&self, entries: &[Entry], mode: KeyUse) -> Result<Registry, LedgerError> {
        let nothing = Pending { registry: &self.registry, count: 0, contains: &|_| false, get: &|_| None };
        self.check_batch_after(entries, mode, &nothing)
    }

    /// [`Ledger::check_batch_as`] for a batch that follows `pending`: entries
    /// checked before but not appended yet (the earlier batches of a bundle
    /// import that checks every batch before it appends any, see
    /// `bundle::import_with`). The batch is checked exactly as if `pending`'s
    /// entries were already in the copy: against the registry they leave,
    /// with references to them allowed and their sequence numbers counted.
    /// Returns the registry as it would be after `pending` and the batch.
    pub fn check_batch_after(
        &self,
        entries: &[Entry],
        mode: KeyUse,
        pending: &Pending<'_>,
    ) -> Result<Registry, LedgerError> {
        let void = match mode {
            KeyUse::New if self.registry.any_key_ended() => self.void_entries()?,
            _ => VoidSet::new(),
        };
        // The sequence number the batch's first entry would get.
        let first_seq = self.journal.len() + pending.count + 1;
        let reject = |position: usize, e: &Entry, reason: String| LedgerError::Rejected {
            position,
            id: e.id(),
            kind: e.kind().to_string(),
            reason,
        };
        // First position of each id in the batch (duplicates are refused below).
        let mut batch_pos: HashMap<EntryId, usize> = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            batch_pos.entry(e.id()).or_insert(i);
        }
        // Step 1: place and signing keys, in order.
        let mut keys_reg = pending.registry.clone();
        let mut batch_ids: HashSet<EntryId> = HashSet::with_capacity(entries.len());
        let mut signers: Vec<Vec<VerifyingKey>> = Vec::with_capacity(entries.len());
        let mut items = Vec::with_capacity(entries.len());
        let mut owners = Vec::with_capacity(entries.len());
        let mut failure: Option<LedgerError> = None;
        for (i, e) in entries.iter().enumerate() {
            if let Some(reason) = self.misplaced(e, &batch_ids, pending)? {
                failure = Some(reject(i, e, reason));
                break;
            }
            let keys = match self.rules.signing_keys(e, &keys_reg, mode) {
                Ok(keys) => keys,
                Err(err) => {
                    failure = Some(reject(i, e, err.0));
                    break;
                }
            };
            debug_assert_eq!(keys.len(), e.sigs().len());
            let msg = e.signing_input();
            for (s, key) in e.sigs().iter().zip(&keys) {
                items.push(SigItem { msg: msg.clone(), sig: s.sig, key: *key });
                owners.push(i);
            }
            signers.push(keys);
            keys_reg.apply(e, first_seq + i as u64);
            batch_ids.insert(e.id());
        }
        // Step 2: every signature of the entries that got through step 1.
        let mut limit = signers.len();
        if let Err((j, why)) = sigs::verify_all(&items) {
            limit = owners[j];
            let e = &entries[limit];
            failure = Some(reject(limit, e, sigs::refusal(why)));
        }
        drop(items);
        // Step 3: the rules of the signed entries before the first failure, in order.
        let mut reg = pending.registry.clone();
        for (i, (e, keys)) in entries.iter().zip(&signers).take(limit).enumerate() {
            // Referenced entries come from earlier in the batch, from the
            // pending entries before it, or from the ledger.
            let lookup = |id: &EntryId| -> Option<Entry> {
                match batch_pos.get(id) {
                    Some(&j) if j < i => Some(entries[j].clone()),
                    _ => (pending.get)(id).or_else(|| self.get(id).ok().flatten().map(|(_, e)| e)),
                }
            };
            self.rules.check_verified(e, keys, &reg, &lookup, mode).map_err(|err| reject(i, e, err.0))?;
            if let Some(v) = self.void_intro(&reg, e, &void) {
                return Err(reject(i, e, v));
            }
            reg.apply(e, first_seq + i as u64);
        }
        match failure {
            Some(f) => Err(f),
            None => {
                debug_assert!(reg == keys_reg, "both passes apply the same entries");
                Ok(reg)
            }
        }
    }

    /// Why `e` cannot take the next place in this copy after the batch
    /// entries `before`: another ledger, already present, or a reference to
    /// an entry that is in neither.
    fn misplaced(
        &self,
        e: &Entry,
        before: &HashSet<EntryId>,
        pending: &Pending<'_>,
    ) -> Result<Option<String>, LedgerError> {
        if e.body().ledger != self.id() {
            return Ok(Some(format!(
                "it belongs to ledger {:?}, this copy is ledger {:?}",
                e.body().ledger,
                self.id()
            )));
        }
        if before.contains(&e.id()) || (pending.contains)(&e.id()) || self.contains(&e.id())? {
            return Ok(Some("it is already in the ledger".into()));
        }
        for r in e.body().ref_ids() {
            if !before.contains(&r) && !(pending.contains)(&r) && !self.contains(&r)? {
                return Ok(Some(format!("it references entry {}, which is not in this ledger", r.short())));
            }
        }
        Ok(None)
    }

    /// For a new entry: why its signing key cannot be used because the entry
    /// that introduced it is void, if so.
    fn void_intro(&self, reg: &Registry, e: &Entry, void: &VoidSet) -> Option<String> {
        if void.is_empty() {
            return None;
        }
        let key: KeyId = e.author_key();
        let rec = reg.key(&key)?;
        let intro = EntryId::from_hex(&rec.added_by)?;
        let v = void.get(&intro)?;
        Some(format!(
            "key {} was introduced by entry {}, which is void (its signing key was ended by entry {} without it in its causal past); sign with another current key",
            key.fingerprint(),
            intro.short(),
            v.ending.short()
        ))
    }

    /// Appends a batch of new entries atomically: all entries are checked
    /// first; if any is refused nothing is written. Returns each entry's
    /// sequence number once the batch is durable (one journal fsync for the
    /// whole batch, then one index flush).
    pub fn append(&mut self, entries: &[Entry]) -> Result<Vec<u64>, LedgerError> {
        self.append_as(entries, KeyUse::New)
    }

    /// Appends a batch of new or existing (imported) entries; see [`KeyUse`].
    pub fn append_as(&mut self, entries: &[Entry], mode: KeyUse) -> Result<Vec<u64>, LedgerError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let registry = self.check_batch_as(entries, mode)?;
        self.write_checked(entries, registry)
    }

    /// Appends a batch that [`Ledger::check_batch_after`] accepted, without
    /// checking it again: `before` is the registry that check started from
    /// (its `pending.registry`, which must be this copy's registry now: the
    /// pending entries it followed have been appended since) and `after`
    /// what it returned. For a bundle import that checked every batch before
    /// appending any; the caller guarantees these are the very entries it
    /// checked (same bytes, same order).
    pub(crate) fn append_prechecked(
        &mut self,
        entries: &[Entry],
        before: &Registry,
        after: Registry,
    ) -> Result<Vec<u64>, LedgerError> {
        assert!(self.registry == *before, "a pre-checked batch is appended to the state it was checked against");
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.write_checked(entries, after)
    }

    /// Writes a checked batch: the journal (one batch, one fsync), then the
    /// index, the Merkle tree and the head file; `registry` is the registry
    /// after the batch.
    fn write_checked(&mut self, entries: &[Entry], registry: Registry) -> Result<Vec<u64>, LedgerError> {
        let wires: Vec<Vec<u8>> = entries.iter().map(Entry::encode).collect();
        let positions = self.journal.append(&wires)?;
        // Durable from here on. The index follows; if it fails, the next open
        // catches up from the journal.
        self.registry = registry;
        let mut batch = IndexBatch::default();
        for ((e, pos), wire) in entries.iter().zip(&positions).zip(&wires) {
            self.setsum.add(&e.id().0);
            let leaf = merkle::leaf_hash(wire);
            let index = self.tree.push(leaf);
            debug_assert_eq!(index + 1, pos.seq, "leaf index = sequence number - 1");
            batch.add(e, pos, &leaf);
            batch.add_point(pos, &self.tree);
        }
        debug_assert_eq!(self.setsum.count(), self.journal.len(), "the set sum covers exactly the journal");
        finish_and_apply(
            &self.index,
            batch,
            self.journal.resume_point(),
            &self.tree,
            &self.registry,
            &self.setsum,
            &self.dir,
        )?;
        // Record the acknowledged head outside the index (durably, once per
        // batch): a journal found shorter than it later is reported as
        // truncated, never mistaken for a torn tail or accepted as whole,
        // even if the index is deleted or rebuilt. The index itself is
        // flushed in the background; after a crash it catches up on open.
        head::write(&self.dir, &Head { ledger: self.id().to_string(), at: self.journal.resume_point() })?;
        // The batch is durable and acknowledged from here on: a failure to
        // reopen the index is not this append's failure. The index reports
        // it on its next use, and the next open rebuilds it from the journal.
        let _ = self.index.reopen_if_due(entries.len() as u64);
        Ok(positions.iter().map(|p| p.seq).collect())
    }

    /// Flushes the index (on drop sled flushes too; this makes it explicit).
    pub fn close(self) -> Result<(), LedgerError> {
        self.index.flush()?;
        Ok(())
    }
}

pub use crate::ledger::setsum::SET_DIGEST_CONTEXT;

/// The set digest cache of index version 3 and earlier in a copy's
/// directory (every entry id sorted, read and hashed whole whenever the copy
/// had grown): no longer used (the set sum replaces it) and removed when the
/// copy is opened.
pub const IDS_CACHE_FILE: &str = "ids.cache";

fn index_err(dir: &Path, e: impl std::fmt::Display) -> IndexError {
    IndexError { path: dir.join(INDEX_DIR), what: e.to_string() }
}

/// Reads `DIR/head` and checks the journal against it (from the journal
/// file alone): a journal that holds less, or another history, is refused.
fn checked_head(dir: &Path) -> Result<Option<Head>, LedgerError> {
    let recorded = head::read(dir)?;
    if let Some(h) = &recorded {
        if let Some(what) = head::compare(&dir.join(JOURNAL_FILE), h)? {
            return Err(LedgerError::Truncated { dir: dir.to_path_buf(), what });
        }
    }
    Ok(recorded)
}

/// The parts of an opened ledger before it gets its lock.
struct Loaded {
    journal: Journal,
    index: Index,
    registry: Registry,
    tree: CompactTree,
    setsum: SetSum,
    report: OpenReport,
}

/// Why one attempt at opening failed.
enum Attempt {
    /// The index cannot be used: rebuild it (the reason is reported).
    Index(String),
    /// Anything else: reported to the caller as is.
    Other(LedgerError),
}

impl From<LedgerError> for Attempt {
    fn from(e: LedgerError) -> Attempt {
        match e {
            LedgerError::Index(e) => Attempt::Index(e.what),
            other => Attempt::Other(other),
        }
    }
}

/// Runs an index operation; an error or a panic inside sled (which is
/// possible on arbitrary bytes in its files) becomes the reason to rebuild.
fn guarded<T>(f: impl FnOnce() -> Result<T, IndexError>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.what),
        Err(_) => Err("reading it panicked".into()),
    }
}

fn finish_and_apply(
    index: &Index,
    mut batch: IndexBatch,
    resume: crate::ledger::journal::Resume,
    tree: &CompactTree,
    registry: &Registry,
    setsum: &SetSum,
    dir: &Path,
) -> Result<(), LedgerError> {
    debug_assert_eq!(setsum.count(), resume.seq, "the set sum covers exactly the journal");
    batch.finish(resume, tree, registry).map_err(|e| index_err(dir, e))?;
    batch.set_sum(setsum);
    index.apply(batch)?;
    Ok(())
}
