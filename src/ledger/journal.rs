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
//! batch   = u32 0xFFFFFFFF || u64 first || u64 count || u64 bytes || last[32] || bcheck[4]
//! bcheck  = blake3(the 60 batch-header bytes before it)[0..4]
//! ```
//!
//! Sequence numbers start at 1 and increase by one. Appends write a whole
//! batch of records and then `fsync` once (group commit); a batch is
//! acknowledged only after that returns. An append of more than one entry
//! starts with a **batch header** (not a record: no sequence number, not in
//! the hash chain, not a Merkle leaf) that announces how many records follow,
//! how many bytes they take and the hash of the last one. A batch counts only
//! when all its records are present, so an interrupted import leaves all or
//! nothing.
//!
//! On open, a record cut short at the end of the file (a write interrupted
//! by a crash, never acknowledged) is a **torn tail**, and a batch whose
//! records are not all there (the file ends, or a torn tail starts, inside
//! it) is an **unfinished batch**: either is dropped whole and reported.
//! Anything else that does not check out is **damage**: it is reported with
//! the record's sequence number and offset and never repaired.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::ledger::entry::{MAX_BODY_BYTES, MAX_SIGS};

/// The first eight bytes of every journal.
pub const MAGIC: &[u8; 8] = b"VRFJRNL1";
/// Bytes before a record's entry: len, seq, check, prev.
pub const RECORD_HEAD: usize = 4 + 8 + 4 + 32;
/// Bytes after a record's entry: its hash.
pub const RECORD_TAIL: usize = 32;
/// Largest entry (wire form) a record may hold.
pub const MAX_ENTRY_BYTES: usize = 4 + MAX_BODY_BYTES + 1 + 96 * MAX_SIGS;
/// The first four bytes of a batch header: a `len` no record can have
/// (it exceeds [`MAX_ENTRY_BYTES`]).
pub const BATCH_MARK: u32 = u32::MAX;
/// Bytes of a batch header: mark, first, count, bytes, last, check.
pub const BATCH_HEAD: usize = 4 + 8 + 8 + 8 + 32 + 4;
/// Appends of at least this many entries are written as a batch (with a
/// batch header); a single entry is a plain record.
pub const BATCH_MIN_ENTRIES: usize = 2;

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
    #[error("journal {path} holds {records} entries, but this copy acknowledged {acknowledged} entries up to byte {end} (recorded in its head file): entries are missing (the journal was truncated or replaced by an older copy). {}", crate::ledger::head::RESTORE_ADVICE)]
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
    /// Offset where the torn record (or the unfinished batch's header) started.
    pub offset: u64,
    /// Bytes dropped.
    pub bytes: u64,
    /// `Some(n)` when the dropped bytes are an unfinished batch that
    /// announced `n` entries (an interrupted import or multi-entry append).
    pub unfinished_batch: Option<u64>,
}

impl TornTail {
    /// One line for the user: what was found and that it was never acknowledged.
    pub fn describe(&self) -> String {
        match self.unfinished_batch {
            Some(n) => format!(
                "an unfinished batch of {n} entries ({} bytes at byte {}) left by an interrupted import or append; it was never acknowledged and is dropped whole (all or nothing) when the copy is opened for writing",
                self.bytes, self.offset
            ),
            None => format!(
                "a torn final record ({} bytes at byte {}) left by an interrupted write; it was never acknowledged and is dropped when the copy is opened for writing",
                self.bytes, self.offset
            ),
        }
    }
}

/// A batch header (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHead {
    /// Sequence number of the batch's first record.
    pub first: u64,
    /// Number of records in the batch.
    pub count: u64,
    /// Bytes of those records (after the batch header).
    pub bytes: u64,
    /// Hash of the batch's last record.
    pub last: Hash,
}

impl BatchHead {
    /// The [`BATCH_HEAD`] bytes of this header.
    pub fn encode(&self) -> [u8; BATCH_HEAD] {
        let mut out = [0u8; BATCH_HEAD];
        out[0..4].copy_from_slice(&BATCH_MARK.to_le_bytes());
        out[4..12].copy_from_slice(&self.first.to_le_bytes());
        out[12..20].copy_from_slice(&self.count.to_le_bytes());
        out[20..28].copy_from_slice(&self.bytes.to_le_bytes());
        out[28..60].copy_from_slice(&self.last);
        let check = blake3::hash(&out[..60]);
        out[60..64].copy_from_slice(&check.as_bytes()[..4]);
        out
    }

    /// Parses a batch header; `Err` says what does not check out.
    pub fn decode(b: &[u8; BATCH_HEAD]) -> Result<BatchHead, String> {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        if b[0..4] != BATCH_MARK.to_le_bytes() {
            return Err("it does not start with the batch mark".into());
        }
        if b[60..64] != blake3::hash(&b[..60]).as_bytes()[..4] {
            return Err("its check does not match (first, count, bytes or last field altered)".into());
        }
        let head = BatchHead { first: u64_at(4), count: u64_at(12), bytes: u64_at(20), last: [0; 32] };
        let last = b[28..60].try_into().unwrap_or([0; 32]);
        Ok(BatchHead { last, ..head })
    }

    /// True if `bytes` is possible for `count` records: at least the fixed
    /// part of each, at most the largest record each.
    fn plausible(&self) -> bool {
        let fixed = (RECORD_HEAD + RECORD_TAIL) as u128;
        let count = self.count as u128;
        self.count >= 1
            && (self.bytes as u128) >= count * fixed
            && (self.bytes as u128) <= count * (fixed + MAX_ENTRY_BYTES as u128)
    }
}

/// The batch a scanner is inside of.
#[derive(Debug, Clone, Copy)]
struct OpenBatch {
    /// Records still to come.
    left: u64,
    /// Offset just past the batch's last record.
    end: u64,
    /// Hash the batch's last record must have.
    last: Hash,
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
    if !crate::ledger::entry::is_valid_name(&id) {
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
    batch: Option<OpenBatch>,
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
            batch: None,
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
            // Inside a batch only while checking it ahead (a batch is entered
            // only once all its records are known to be there).
            return Ok(Step::End);
        }
        let torn = Step::Torn(TornTail { offset: self.pos, bytes: remaining, unfinished_batch: None });
        if remaining < 4 {
            return Ok(torn);
        }
        let mut head = [0u8; RECORD_HEAD];
        self.reader.read_exact(&mut head[..4]).map_err(io(&self.path))?;
        if head[..4] == BATCH_MARK.to_le_bytes() {
            return self.batch_header(remaining);
        }
        if remaining < RECORD_HEAD as u64 {
            return Ok(torn);
        }
        self.reader.read_exact(&mut head[4..]).map_err(io(&self.path))?;
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
        if let Some(b) = &mut self.batch {
            b.left -= 1;
            if b.left == 0 {
                let b = *b;
                self.batch = None;
                if self.pos != b.end {
                    return Err(self.damaged(format!(
                        "the batch it ends was announced to end at byte {}, but its records end at byte {}",
                        b.end, self.pos
                    )));
                }
                if hash != b.last {
                    return Err(self.damaged("the batch it ends announced another hash for its last record".into()));
                }
            }
        }
        Ok(Step::Record(pos, entry))
    }

    /// Handles a batch header at `self.pos` (its mark already read): an
    /// unfinished batch is a torn tail; a complete one is entered and its
    /// first record returned.
    fn batch_header(&mut self, remaining: u64) -> Result<Step, JournalError> {
        let at = self.pos;
        if remaining < BATCH_HEAD as u64 {
            return Ok(Step::Torn(TornTail { offset: at, bytes: remaining, unfinished_batch: None }));
        }
        let mut raw = [0u8; BATCH_HEAD];
        raw[..4].copy_from_slice(&BATCH_MARK.to_le_bytes());
        self.reader.read_exact(&mut raw[4..]).map_err(io(&self.path))?;
        let batch_damaged = |s: &Scanner, what: String| s.damaged(format!("the batch header before it {what}"));
        if self.batch.is_some() {
            return Err(batch_damaged(self, "lies inside another batch".into()));
        }
        let b = BatchHead::decode(&raw).map_err(|what| batch_damaged(self, what))?;
        if b.first != self.next_seq {
            return Err(batch_damaged(self, format!("announces sequence number {} first", b.first)));
        }
        if !b.plausible() {
            return Err(batch_damaged(self, format!("announces {} records in {} bytes", b.count, b.bytes)));
        }
        let unfinished = Step::Torn(TornTail { offset: at, bytes: remaining, unfinished_batch: Some(b.count) });
        let end = at + BATCH_HEAD as u64 + b.bytes;
        if end > self.file_len {
            return Ok(unfinished);
        }
        let open = OpenBatch { left: b.count, end, last: b.last };
        // Check the whole batch before handing out its first record, so that
        // no record of an unfinished batch is ever returned.
        if !self.batch_is_complete(open)? {
            return Ok(unfinished);
        }
        self.pos = at + BATCH_HEAD as u64;
        self.batch = Some(open);
        self.step()
    }

    /// Reads the batch's records with a second scanner: `Ok(false)` if a
    /// torn tail starts inside it (an unfinished batch), damage as damage.
    fn batch_is_complete(&self, open: OpenBatch) -> Result<bool, JournalError> {
        let mut file = File::open(&self.path).map_err(io(&self.path))?;
        let start = self.pos + BATCH_HEAD as u64;
        file.seek(SeekFrom::Start(start)).map_err(io(&self.path))?;
        let mut sub = Scanner {
            reader: BufReader::with_capacity(1 << 20, file),
            path: self.path.clone(),
            pos: start,
            file_len: self.file_len,
            next_seq: self.next_seq,
            prev: self.prev,
            ledger: self.ledger.clone(),
            torn: None,
            batch: Some(open),
        };
        for _ in 0..open.left {
            match sub.step()? {
                Step::Record(..) => {}
                Step::End | Step::Torn(_) => return Ok(false),
            }
        }
        debug_assert!(sub.batch.is_none(), "the batch's last record closes it");
        Ok(true)
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
    /// the positions only after the data is durable. Two or more entries
    /// are preceded by a batch header, so that a crash during the write
    /// leaves an unfinished batch that the next open drops whole.
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
        let batched = entries.len() >= BATCH_MIN_ENTRIES;
        let head_len = if batched { BATCH_HEAD } else { 0 };
        let mut buf =
            Vec::with_capacity(head_len + entries.iter().map(|e| e.len() + RECORD_HEAD + RECORD_TAIL).sum::<usize>());
        // The batch header is filled in once the records are encoded.
        buf.resize(head_len, 0);
        let mut positions = Vec::with_capacity(entries.len());
        let (mut seq, mut prev, mut offset) = (self.next_seq, self.head, self.end + head_len as u64);
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
        if batched {
            let head = BatchHead {
                first: self.next_seq,
                count: entries.len() as u64,
                bytes: (buf.len() - BATCH_HEAD) as u64,
                last: prev,
            };
            debug_assert!(head.plausible(), "a batch we encode is plausible");
            buf[..BATCH_HEAD].copy_from_slice(&head.encode());
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

    /// A journal with one single-entry append and then one batch of
    /// `batch` entries; returns its path, the offset where the batch starts
    /// and the record offsets inside the batch.
    fn journal_with_batch(dir: &Path, batch: usize) -> (PathBuf, u64, Vec<u64>) {
        let path = dir.join("journal");
        let mut j = Journal::create(&path, "torn-test").expect("create");
        j.append(&[b"single entry".to_vec()]).expect("single");
        let start = j.resume_point().end;
        let entries: Vec<Vec<u8>> =
            (0..batch).map(|i| format!("batch entry {i} {}", "x".repeat(i * 7)).into_bytes()).collect();
        let pos = j.append(&entries).expect("batch");
        assert_eq!(pos[0].offset, start + BATCH_HEAD as u64, "the batch header comes first");
        (path, start, pos.iter().map(|p| p.offset).collect())
    }

    fn open_all(path: &Path) -> Result<(u64, Option<TornTail>), JournalError> {
        let mut seen = 0u64;
        let (j, torn) = Journal::open(path, Resume { seq: 0, end: 0, hash: [0; 32] }, |_, _| {
            seen += 1;
            Ok(())
        })?;
        assert_eq!(seen, j.len(), "every record handed out is kept");
        Ok((j.len(), torn))
    }

    #[test]
    fn a_batch_cut_anywhere_is_dropped_whole() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (path, start, _) = journal_with_batch(tmp.path(), 5);
        let full = std::fs::read(&path).expect("read");
        let (n, torn) = open_all(&path).expect("complete journal");
        assert_eq!((n, torn), (6, None));
        let cut_path = tmp.path().join("cut");
        for cut in start..full.len() as u64 {
            std::fs::write(&cut_path, &full[..cut as usize]).expect("write");
            let (n, torn) = open_all(&cut_path).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
            assert_eq!(n, 1, "cut at {cut}: only the single entry before the batch survives");
            if cut == start {
                assert_eq!(torn, None);
                continue;
            }
            let t = torn.unwrap_or_else(|| panic!("cut at {cut}: nothing reported"));
            assert_eq!((t.offset, t.bytes), (start, cut - start), "cut at {cut}");
            let announced = cut - start >= BATCH_HEAD as u64;
            assert_eq!(t.unfinished_batch, announced.then_some(5), "cut at {cut}");
            assert_eq!(std::fs::metadata(&cut_path).expect("meta").len(), start, "cut at {cut}: cut back to the batch");
            // Appending after the drop continues the chain from the single entry.
            let mut j =
                Journal::open(&cut_path, Resume { seq: 0, end: 0, hash: [0; 32] }, |_, _| Ok(())).expect("reopen").0;
            j.append(&[b"a".to_vec(), b"b".to_vec()]).expect("append");
            assert_eq!(open_all(&cut_path).expect("after append"), (3, None));
        }
    }

    #[test]
    fn zeros_from_a_record_inside_a_batch_drop_the_batch() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (path, start, records) = journal_with_batch(tmp.path(), 4);
        let mut bytes = std::fs::read(&path).expect("read");
        // Preallocated blocks after a power loss: the last two records are zeros.
        let from = records[2] as usize;
        bytes[from..].iter_mut().for_each(|b| *b = 0);
        std::fs::write(&path, &bytes).expect("write");
        let (n, torn) = open_all(&path).expect("open");
        assert_eq!(n, 1);
        assert_eq!(torn.map(|t| (t.offset, t.unfinished_batch)), Some((start, Some(4))));
    }

    #[test]
    fn damage_inside_a_complete_batch_is_damage() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (path, start, records) = journal_with_batch(tmp.path(), 4);
        let good = std::fs::read(&path).expect("read");
        // An altered entry byte in the second record of the batch.
        let mut bytes = good.clone();
        bytes[records[1] as usize + RECORD_HEAD] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        match open_all(&path) {
            Err(JournalError::Damaged { seq, offset, .. }) => assert_eq!((seq, offset), (3, records[1])),
            other => panic!("expected damage, got {other:?}"),
        }
        // An altered count in the batch header fails its check.
        let mut bytes = good.clone();
        bytes[start as usize + 12] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(open_all(&path), Err(JournalError::Damaged { seq: 2, .. })), "count altered");
        // A batch header that announces the wrong last hash (but checks out).
        let mut bytes = good.clone();
        let mut head = BatchHead::decode(bytes[start as usize..][..BATCH_HEAD].try_into().expect("64")).expect("head");
        head.last[0] ^= 1;
        bytes[start as usize..][..BATCH_HEAD].copy_from_slice(&head.encode());
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(open_all(&path), Err(JournalError::Damaged { .. })), "last hash altered");
        // A batch header that announces fewer bytes than its records take.
        let mut bytes = good;
        let mut head = BatchHead::decode(bytes[start as usize..][..BATCH_HEAD].try_into().expect("64")).expect("head");
        head.bytes -= 1;
        bytes[start as usize..][..BATCH_HEAD].copy_from_slice(&head.encode());
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(open_all(&path), Err(JournalError::Damaged { .. })), "bytes altered");
    }

    #[test]
    fn the_index_resumes_after_a_batch() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (path, _, _) = journal_with_batch(tmp.path(), 3);
        let (j, _) = Journal::open(&path, Resume { seq: 0, end: 0, hash: [0; 32] }, |_, _| Ok(())).expect("open");
        let at = j.resume_point();
        drop(j);
        let mut seen = 0;
        let (j, torn) = Journal::open(&path, at, |_, _| {
            seen += 1;
            Ok(())
        })
        .expect("resume");
        assert_eq!((seen, j.len(), torn), (0, 4, None));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever prefix of a journal of batches survives a crash, opening
        /// keeps exactly the whole batches that fit.
        #[test]
        fn any_prefix_keeps_whole_batches(sizes in proptest::collection::vec(1usize..6, 1..6), per_mille in 0u64..1000) {
            let tmp = tempfile::tempdir().expect("tmp");
            let path = tmp.path().join("journal");
            let mut j = Journal::create(&path, "prop").expect("create");
            let mut ends = vec![(j.resume_point().end, 0u64)];
            for (b, size) in sizes.iter().enumerate() {
                let entries: Vec<Vec<u8>> = (0..*size).map(|i| format!("entry {b}.{i}").into_bytes()).collect();
                j.append(&entries).expect("append");
                ends.push((j.resume_point().end, j.len()));
            }
            drop(j);
            let full = std::fs::read(&path).expect("read");
            let header = ends[0].0;
            let cut = header + (full.len() as u64 - header) * per_mille / 1000;
            std::fs::write(&path, &full[..cut as usize]).expect("write");
            let (n, _) = open_all(&path).expect("open");
            let expect = ends.iter().filter(|(end, _)| *end <= cut).map(|(_, n)| *n).max().unwrap_or(0);
            proptest::prop_assert_eq!(n, expect);
        }
    }

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
