//! The journal: this copy's append-only, hash-chained record of entries in
//! the order it received them. It is the source of truth; everything else
//! (the sled index) is rebuilt from it.
//!
//! Layout (all integers little-endian; `docs/FORMAT.md` is normative):
//!
//! ```text
//! header  = "VRFJRNL1" || u16 n || ledger id (n bytes, ASCII)
//! record  = u32 len || u64 seq || check[4] || prev[32] || entry[len] || hash[32]
//! check   = blake3(u32 len || u64 seq)[0..4]      (guards the length field)
//! hash    = blake3(every record byte before it)   (len .. end of entry)
//! prev    = hash of the previous record; for seq 1, blake3(header)
//! ```
//!
//! Sequence numbers start at 1 and increase by one. Appends write a whole
//! batch of records and then `fsync` once (group commit); a batch is
//! acknowledged only after that returns.
//!
//! On open, a record cut short at the end of the file (a write interrupted
//! by a crash, never acknowledged) is a **torn tail**: it is dropped and
//! reported. Anything else that does not check out is **damage**: it is
//! reported with the record's sequence number and offset and never repaired.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::entry::{MAX_BODY_BYTES, MAX_SIGS};

/// The first eight bytes of every journal.
pub const MAGIC: &[u8; 8] = b"VRFJRNL1";
/// Bytes before a record's entry: len, seq, check, prev.
pub const RECORD_HEAD: usize = 4 + 8 + 4 + 32;
/// Bytes after a record's entry: its hash.
pub const RECORD_TAIL: usize = 32;
/// Largest entry (wire form) a record may hold.
pub const MAX_ENTRY_BYTES: usize = 4 + MAX_BODY_BYTES + 1 + 96 * MAX_SIGS;

/// A 32-byte blake3 hash.
pub type Hash = [u8; 32];

/// Where a record is and what it hashes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPos {
    /// Sequence number (1-based).
    pub seq: u64,
    /// Offset of the record's first byte.
    pub offset: u64,
    /// Offset of the entry bytes.
    pub entry_offset: u64,
    /// Length of the entry bytes.
    pub entry_len: u32,
    /// The record hash (the chain head after this record).
    pub hash: Hash,
}

impl RecordPos {
    /// Offset just past this record.
    pub fn end(&self) -> u64 {
        self.entry_offset + self.entry_len as u64 + RECORD_TAIL as u64
    }
}

/// A point in the journal to resume scanning from: the index remembers the
/// last record it covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// Sequence number of the last covered record (0 for none).
    pub seq: u64,
    /// Offset just past it.
    pub end: u64,
    /// Its hash (the chain head).
    pub hash: Hash,
}

/// Journal problems. Damage names the record.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An IO error on the journal file.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The header is not a vereffen journal header.
    #[error("journal {path}: {what}")]
    BadHeader {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A record does not check out.
    #[error("journal {path}: record {seq} at byte {offset} is damaged: {what}. The journal is never repaired automatically; restore it from a backup or rebuild this copy by importing another party's export")]
    Damaged {
        /// The journal file.
        path: PathBuf,
        /// Sequence number the record should have.
        seq: u64,
        /// Offset of the record.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// An earlier append on this handle failed after it may have touched
    /// the file: what is on disk after the last acknowledged record is
    /// uncertain, so the handle refuses further appends.
    #[error("journal {path}: an earlier append on this handle failed ({what}); what the file holds after the last acknowledged entry is uncertain, so this handle accepts no more appends. Nothing was appended. Reopen the ledger (run the command again): opening re-reads the journal from its durable state")]
    Poisoned {
        /// The journal file.
        path: PathBuf,
        /// The failure that poisoned the handle.
        what: String,
    },
    /// The journal holds fewer records than the copy's recorded head
    /// (`DIR/head`): it was truncated or replaced.
    #[error("journal {path} holds {records} entries, but this copy acknowledged {acknowledged} entries up to byte {end} (recorded in its head file): entries are missing (the journal was truncated or replaced by an older copy). {}", crate::head::RESTORE_ADVICE)]
    BehindHead {
        /// The journal file.
        path: PathBuf,
        /// Complete records found.
        records: u64,
        /// Records the head says were acknowledged.
        acknowledged: u64,
        /// Where they end.
        end: u64,
    },
    /// The journal is shorter than what was acknowledged before.
    #[error("journal {path} ends at byte {len}, but the index recorded {seq} acknowledged entries up to byte {end}: entries are missing (the file was truncated or replaced). Restore it from a backup or another copy's export")]
    Truncated {
        /// The journal file.
        path: PathBuf,
        /// Its length.
        len: u64,
        /// Acknowledged records the index knows of.
        seq: u64,
        /// Where they end.
        end: u64,
    },
}

/// What opening found at the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TornTail {
    /// Offset where the torn record started.
    pub offset: u64,
    /// Bytes dropped.
    pub bytes: u64,
}

/// An open journal, positioned for appends.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    ledger: String,
    end: u64,
    next_seq: u64,
    head: Hash,
    /// Set when an append failed after it may have touched the file.
    poisoned: Option<String>,
    /// Test seam: the next `sync_data` in `append` fails.
    #[cfg(test)]
    fail_next_sync: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// Encodes the journal header for `ledger`.
pub fn header_bytes(ledger: &str) -> Vec<u8> {
    let mut h = Vec::with_capacity(10 + ledger.len());
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&(ledger.len() as u16).to_le_bytes());
    h.extend_from_slice(ledger.as_bytes());
    h
}

/// The `check` field of a record header.
pub fn header_check(len: u32, seq: u64) -> [u8; 4] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher.update(&seq.to_le_bytes());
    let h = hasher.finalize();
    [h.as_bytes()[0], h.as_bytes()[1], h.as_bytes()[2], h.as_bytes()[3]]
}

/// Appends the bytes of one record to `out` and returns its hash.
pub fn encode_record(out: &mut Vec<u8>, seq: u64, prev: &Hash, entry: &[u8]) -> Hash {
    let start = out.len();
    let len = entry.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&header_check(len, seq));
    out.extend_from_slice(prev);
    out.extend_from_slice(entry);
    let hash = *blake3::hash(&out[start..]).as_bytes();
    out.extend_from_slice(&hash);
    hash
}

/// Reads and checks the header; returns the ledger id and header length.
fn read_header(path: &Path, r: &mut impl Read) -> Result<(String, u64), JournalError> {
    let bad = |what: &str| JournalError::BadHeader { path: path.to_path_buf(), what: what.to_string() };
    let mut fixed = [0u8; 10];
    r.read_exact(&mut fixed).map_err(|_| bad("the file is too short to be a vereffen journal"))?;
    if &fixed[..8] != MAGIC {
        return Err(bad("the file does not start with the vereffen journal magic \"VRFJRNL1\": it is not a vereffen journal or its first bytes are damaged"));
    }
    let n = u16::from_le_bytes([fixed[8], fixed[9]]) as usize;
    let mut id = vec![0u8; n];
    r.read_exact(&mut id).map_err(|_| bad("the header is cut short"))?;
    let id = String::from_utf8(id).map_err(|_| bad("the ledger id in the header is not text"))?;
    if !crate::entry::is_valid_name(&id) {
        return Err(bad(&format!("the ledger id {id:?} in the header is not valid: the header is damaged")));
    }
    Ok((id, 10 + n as u64))
}

/// The outcome of scanning one record from a reader.
enum Step {
    Record(RecordPos, Vec<u8>),
    End,
    Torn(TornTail),
}

/// Sequential record scanner over a journal file.
pub struct Scanner {
    reader: BufReader<File>,
    path: PathBuf,
    pos: u64,
    file_len: u64,
    next_seq: u64,
    prev: Hash,
    ledger: String,
    torn: Option<TornTail>,
}

impl Scanner {
    /// Opens `path` for scanning from the first record.
    pub fn open(path: &Path) -> Result<Scanner, JournalError> {
        let file = File::open(path).map_err(io(path))?;
        let file_len = file.metadata().map_err(io(path))?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let (ledger, header_len) = read_header(path, &mut reader)?;
        let prev = *blake3::hash(&header_bytes(&ledger)).as_bytes();
        Ok(Scanner {
            reader,
            path: path.to_path_buf(),
            pos: header_len,
            file_len,
            next_seq: 1,
            prev,
            ledger,
            torn: None,
        })
    }

    /// The ledger id in the header.
    pub fn ledger(&self) -> &str {
        &self.ledger
    }

    /// Skips to a resume point after checking that the record ending there
    /// has the remembered hash.
    pub fn resume(&mut self, at: Resume) -> Result<(), JournalError> {
        if at.seq == 0 {
            return Ok(());
        }
        // The remembered point comes from derived data: it may be anything.
        if at.end < self.pos + (RECORD_HEAD + RECORD_TAIL) as u64 {
            return Err(JournalError::Damaged {
                path: self.path.clone(),
                seq: at.seq,
                offset: at.end,
                what: "the resume point the index recorded for it lies before the end of the first record".into(),
            });
        }
        if self.file_len < at.end {
            return Err(JournalError::Truncated {
                path: self.path.clone(),
                len: self.file_len,
                seq: at.seq,
                end: at.end,
            });
        }
        let mut hash = [0u8; 32];
        self.reader.seek(SeekFrom::Start(at.end - 32)).map_err(io(&self.path))?;
        self.reader.read_exact(&mut hash).map_err(io(&self.path))?;
        if hash != at.hash {
            return Err(JournalError::Damaged {
                path: self.path.clone(),
                seq: at.seq,
                offset: at.end - 32,
                what: "its hash differs from the one the index recorded when it was appended".into(),
            });
        }
        self.pos = at.end;
        self.next_seq = at.seq + 1;
        self.prev = at.hash;
        Ok(())
    }

    fn damaged(&self, what: String) -> JournalError {
        JournalError::Damaged { path: self.path.clone(), seq: self.next_seq, offset: self.pos, what }
    }

    fn step(&mut self) -> Result<Step, JournalError> {
        let remaining = self.file_len - self.pos;
        if remaining == 0 {
            return Ok(Step::End);
        }
        let torn = Step::Torn(TornTail { offset: self.pos, bytes: remaining });
        if remaining < RECORD_HEAD as u64 {
            return Ok(torn);
        }
        let mut head = [0u8; RECORD_HEAD];
        self.reader.read_exact(&mut head).map_err(io(&self.path))?;
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let seq = u64::from_le_bytes(head[4..12].try_into().unwrap_or([0; 8]));
        if head[12..16] != header_check(len, seq) {
            // A torn write can leave zeros (preallocated blocks); anything
            // else in a header that fails its check is damage.
            if head.iter().all(|&b| b == 0) && self.rest_is_zero(remaining - RECORD_HEAD as u64)? {
                return Ok(torn);
            }
            return Err(self.damaged("its header check does not match (length or sequence field altered)".into()));
        }
        if seq != self.next_seq {
            return Err(self.damaged(format!("it carries sequence number {seq}")));
        }
        if head[16..48] != self.prev {
            return Err(self.damaged("it does not chain to the previous record (prev hash differs)".into()));
        }
        if len as usize > MAX_ENTRY_BYTES {
            return Err(self.damaged(format!("its length {len} exceeds the limit of {MAX_ENTRY_BYTES}")));
        }
        let need = RECORD_HEAD as u64 + len as u64 + RECORD_TAIL as u64;
        if remaining < need {
            return Ok(torn);
        }
        let mut entry = vec![0u8; len as usize];
        self.reader.read_exact(&mut entry).map_err(io(&self.path))?;
        let mut stored = [0u8; 32];
        self.reader.read_exact(&mut stored).map_err(io(&self.path))?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(&head);
        hasher.update(&entry);
        let hash = *hasher.finalize().as_bytes();
        if hash != stored {
            return Err(self.damaged("its hash does not match its content (entry bytes or hash altered)".into()));
        }
        let pos =
            RecordPos { seq, offset: self.pos, entry_offset: self.pos + RECORD_HEAD as u64, entry_len: len, hash };
        self.pos += need;
        self.next_seq += 1;
        self.prev = hash;
        Ok(Step::Record(pos, entry))
    }

    fn rest_is_zero(&mut self, n: u64) -> Result<bool, JournalError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut left = n;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            self.reader.read_exact(&mut buf[..k]).map_err(io(&self.path))?;
            if buf[..k].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            left -= k as u64;
        }
        Ok(true)
    }

    /// The torn tail the scan stopped at, if any.
    pub fn torn(&self) -> Option<TornTail> {
        self.torn
    }

    /// The next record, or `Ok(None)` at the end. A torn tail ends the scan
    /// and is reported by [`Scanner::torn`].
    pub fn next_record(&mut self) -> Result<Option<(RecordPos, Vec<u8>)>, JournalError> {
        match self.step()? {
            Step::Record(pos, entry) => Ok(Some((pos, entry))),
            Step::End => Ok(None),
            Step::Torn(t) => {
                self.torn = Some(t);
                Ok(None)
            }
        }
    }
}

impl Journal {
    /// Creates a new, empty journal at `path` (which must not exist) and
    /// makes it durable.
    pub fn create(path: &Path, ledger: &str) -> Result<Journal, JournalError> {
        let mut file = OpenOptions::new().read(true).write(true).create_new(true).open(path).map_err(io(path))?;
        let header = header_bytes(ledger);
        file.write_all(&header).and_then(|_| file.sync_all()).map_err(io(path))?;
        sync_dir(path)?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            ledger: ledger.to_string(),
            end: header.len() as u64,
            next_seq: 1,
            head: *blake3::hash(&header).as_bytes(),
            poisoned: None,
            #[cfg(test)]
            fail_next_sync: false,
        })
    }

    /// Opens an existing journal for appending. Records after `resume` are
    /// passed to `visit` in order (the index catches up with them). A torn
    /// tail is cut off (it was never acknowledged) and returned.
    pub fn open(
        path: &Path,
        resume: Resume,
        visit: impl FnMut(RecordPos, &[u8]) -> Result<(), JournalError>,
    ) -> Result<(Journal, Option<TornTail>), JournalError> {
        Self::open_checked(path, resume, None, visit)
    }

    /// Like [`Journal::open`], but first makes sure the journal holds at
    /// least the `acknowledged` records (the copy's recorded head) and that
    /// the record there has the recorded hash. Otherwise it returns
    /// [`JournalError::BehindHead`] or [`JournalError::Damaged`] and changes
    /// nothing: in particular a journal cut inside an acknowledged record is
    /// never mistaken for a torn tail.
    pub fn open_checked(
        path: &Path,
        resume: Resume,
        acknowledged: Option<Resume>,
        mut visit: impl FnMut(RecordPos, &[u8]) -> Result<(), JournalError>,
    ) -> Result<(Journal, Option<TornTail>), JournalError> {
        let mut scan = Scanner::open(path)?;
        scan.resume(resume)?;
        while let Some((pos, entry)) = scan.next_record()? {
            if let Some(ack) = acknowledged.filter(|a| a.seq == pos.seq) {
                if pos.hash != ack.hash || pos.end() != ack.end {
                    return Err(JournalError::Damaged {
                        path: path.to_path_buf(),
                        seq: pos.seq,
                        offset: pos.offset,
                        what: "it differs from the record this copy acknowledged at that sequence number (recorded in its head file): the journal was rewritten or replaced".into(),
                    });
                }
            }
            visit(pos, &entry)?;
        }
        if let Some(ack) = acknowledged.filter(|a| scan.next_seq - 1 < a.seq) {
            return Err(JournalError::BehindHead {
                path: path.to_path_buf(),
                records: scan.next_seq - 1,
                acknowledged: ack.seq,
                end: ack.end,
            });
        }
        let torn = scan.torn;
        let file = OpenOptions::new().read(true).write(true).open(path).map_err(io(path))?;
        if let Some(t) = torn {
            file.set_len(t.offset).and_then(|_| file.sync_all()).map_err(io(path))?;
        }
        Ok((
            Journal {
                file,
                path: path.to_path_buf(),
                ledger: scan.ledger.clone(),
                end: scan.pos,
                next_seq: scan.next_seq,
                head: scan.prev,
                poisoned: None,
                #[cfg(test)]
                fail_next_sync: false,
            },
            torn,
        ))
    }

    /// The ledger id in the header.
    pub fn ledger(&self) -> &str {
        &self.ledger
    }
    /// Number of records.
    pub fn len(&self) -> u64 {
        self.next_seq - 1
    }
    /// True if there are no records.
    pub fn is_empty(&self) -> bool {
        self.next_seq == 1
    }
    /// The chain head: the hash of the last record (or of the header).
    pub fn head(&self) -> Hash {
        self.head
    }
    /// Where the index should resume next time.
    pub fn resume_point(&self) -> Resume {
        Resume { seq: self.len(), end: self.end, hash: self.head }
    }
    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True once an append on this handle failed: it refuses further
    /// appends (see [`Journal::append`]).
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// Makes the next `sync_data` in [`Journal::append`] fail (test seam).
    #[cfg(test)]
    pub(crate) fn fail_next_sync(&mut self) {
        self.fail_next_sync = true;
    }

    fn sync(&mut self) -> std::io::Result<()> {
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_sync) {
            return Err(std::io::Error::other("injected fsync failure"));
        }
        self.file.sync_data()
    }

    /// Appends `entries` (wire bytes) as one batch and fsyncs once. Returns
    /// the positions only after the data is durable.
    ///
    /// On failure nothing is acknowledged and the file is cut back to where
    /// it was; but after a failed write or `fsync` the kernel may have
    /// dropped or kept any of the written pages, so the handle is
    /// **poisoned**: every later append returns [`JournalError::Poisoned`].
    /// Reopening ([`Journal::open`]) re-reads the durable state.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<Vec<RecordPos>, JournalError> {
        if let Some(what) = &self.poisoned {
            return Err(JournalError::Poisoned { path: self.path.clone(), what: what.clone() });
        }
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.len() + RECORD_HEAD + RECORD_TAIL).sum());
        let mut positions = Vec::with_capacity(entries.len());
        let (mut seq, mut prev, mut offset) = (self.next_seq, self.head, self.end);
        for e in entries {
            assert!(e.len() <= MAX_ENTRY_BYTES, "entry exceeds MAX_ENTRY_BYTES; callers check limits");
            let start = buf.len();
            let hash = encode_record(&mut buf, seq, &prev, e);
            positions.push(RecordPos {
                seq,
                offset,
                entry_offset: offset + RECORD_HEAD as u64,
                entry_len: e.len() as u32,
                hash,
            });
            offset += (buf.len() - start) as u64;
            seq += 1;
            prev = hash;
        }
        let written = self.file.seek(SeekFrom::Start(self.end)).and_then(|_| self.file.write_all(&buf));
        if let Err(source) = written.and_then(|_| self.sync()) {
            // Cut back what this batch may have left, durably if possible.
            // Either way the handle is poisoned: after a failed fsync the
            // page cache no longer tells what the disk holds.
            let cut = self.file.set_len(self.end).and_then(|_| self.file.sync_all());
            let what = match &cut {
                Ok(()) => format!("{source}; the file was cut back to the last acknowledged entry"),
                Err(e) => format!(
                    "{source}; cutting the file back to byte {} also failed ({e}), so the unacknowledged batch may still be in the file",
                    self.end
                ),
            };
            self.poisoned = Some(what.clone());
            return Err(JournalError::Io { path: self.path.clone(), source: std::io::Error::new(source.kind(), what) });
        }
        debug_assert_eq!(offset, self.end + buf.len() as u64);
        self.end = offset;
        self.next_seq = seq;
        self.head = prev;
        Ok(positions)
    }

    /// Reads the entry bytes of a record.
    pub fn read_entry(&self, pos: u64, len: u32) -> Result<Vec<u8>, JournalError> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; len as usize];
        self.file.read_exact_at(&mut buf, pos).map_err(io(&self.path))?;
        Ok(buf)
    }
}

/// Makes a newly created file's directory entry durable.
pub fn sync_dir(file: &Path) -> Result<(), JournalError> {
    if let Some(dir) = file.parent() {
        let d = File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }).map_err(io(dir))?;
        d.sync_all().map_err(io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(path: &Path) -> Vec<Vec<u8>> {
        let mut scan = Scanner::open(path).unwrap();
        let mut out = Vec::new();
        while let Some((_, bytes)) = scan.next_record().unwrap() {
            out.push(bytes);
        }
        assert_eq!(scan.torn(), None);
        out
    }

    /// After a failed fsync the handle refuses every later append, and
    /// reopening gives exactly the acknowledged records.
    #[test]
    fn a_failed_sync_poisons_the_handle_and_reopening_gives_the_acknowledged_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let mut j = Journal::create(&path, "test-ledger").unwrap();
        let acked = vec![b"first".to_vec(), b"second".to_vec()];
        j.append(&acked).unwrap();
        let durable = std::fs::read(&path).unwrap();
        j.fail_next_sync();
        let err = j.append(&[b"lost".to_vec()]).unwrap_err().to_string();
        assert!(err.contains("injected fsync failure") && err.contains("cut back"), "{err}");
        assert!(j.is_poisoned());
        assert_eq!(std::fs::read(&path).unwrap(), durable, "the failed batch was cut off");
        // The next append is refused without touching the file, even though
        // the fault is gone.
        let err = j.append(&[b"later".to_vec()]).unwrap_err();
        assert!(matches!(err, JournalError::Poisoned { .. }), "{err}");
        assert!(err.to_string().contains("Reopen the ledger"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), durable);
        drop(j);
        let (mut j, torn) = Journal::open(&path, Resume { seq: 0, end: 0, hash: [0; 32] }, |_, _| Ok(())).unwrap();
        assert_eq!(torn, None);
        assert_eq!(j.len(), 2);
        assert_eq!(records(&path), acked);
        // A reopened handle appends again.
        j.append(&[b"third".to_vec()]).unwrap();
        assert_eq!(records(&path).len(), 3);
    }
}
