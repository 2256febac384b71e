//! The acknowledged head of a copy: `DIR/head`, a one-line text file that
//! records how far this copy's journal reached when its last batch was
//! acknowledged (sequence number, end offset, record hash).
//!
//! It lives outside the index, so deleting or rebuilding the index (which
//! holds only derived data) never loses it. A journal that holds fewer
//! records than the head, or whose record at the head has another hash, was
//! truncated or replaced: opening and `verify` refuse it instead of
//! accepting the shorter history as whole (`docs/FORMAT.md` 6).
//!
//! ```text
//! "vereffen-head 1 " ledger " " seq " " end " " hash(64 lowercase hex) "\n"
//! ```
//!
//! The file is replaced atomically: written to `DIR/head.tmp`, fsynced and
//! renamed over `DIR/head`. Any head that survives a crash is therefore one
//! that was written completely, and it never runs ahead of the journal (it
//! is written after the journal's fsync). The directory is not fsynced per
//! batch (it doubled the cost of a small batch): a crash may leave the
//! previous head, which is still a true lower bound of the journal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::ledger::journal::{Hash, Resume};

/// The head file's name inside a ledger directory.
pub const HEAD_FILE: &str = "head";
/// The temporary file a new head is written to before it is renamed.
pub const HEAD_TMP_FILE: &str = "head.tmp";
/// The first word and version of the head line.
pub const HEAD_MAGIC: &str = "vereffen-head 1";
/// Longest head file accepted (a ledger id is at most 64 characters, so a
/// valid line is at most 16 + 65 + 21 + 21 + 65 bytes).
pub const MAX_HEAD_FILE_BYTES: u64 = 256;

/// Problems with the head file.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a head line this version understands.
    #[error("{path} is not a valid head record ({what}). It records how many entries this copy acknowledged and is written only by vereffen; compare the journal with another party's copy or a signed checkpoint, then delete {path} to accept the journal as it is")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// A recorded head: the ledger id and the resume point of the last
/// acknowledged record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The ledger id of the journal it belongs to.
    pub ledger: String,
    /// Sequence number, end offset and hash of the last acknowledged record.
    pub at: Resume,
}

impl Head {
    /// The head line (with its final newline).
    pub fn to_line(&self) -> String {
        format!(
            "{HEAD_MAGIC} {} {} {} {}\n",
            self.ledger,
            self.at.seq,
            self.at.end,
            data_encoding::HEXLOWER.encode(&self.at.hash)
        )
    }

    /// Parses a head line strictly (exactly the form [`Head::to_line`] writes).
    pub fn parse(text: &str) -> Result<Head, String> {
        let line = text.strip_suffix('\n').ok_or("it does not end with a newline")?;
        let rest = line.strip_prefix(HEAD_MAGIC).ok_or_else(|| format!("it does not start with {HEAD_MAGIC:?}"))?;
        let rest = rest.strip_prefix(' ').ok_or("a space must follow the version")?;
        let fields: Vec<&str> = rest.split(' ').collect();
        let [ledger, seq, end, hash] = fields.as_slice() else {
            return Err(format!("it has {} fields after the version, expected 4 (ledger seq end hash)", fields.len()));
        };
        if !crate::ledger::entry::is_valid_name(ledger) {
            return Err(format!("the ledger id {ledger:?} is not valid"));
        }
        let number = |name: &str, s: &str| -> Result<u64, String> {
            let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
            canonical
                .then(|| s.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| format!("{name} {s:?} is not a decimal number"))
        };
        let seq = number("the sequence number", seq)?;
        let end = number("the end offset", end)?;
        let hash: Hash = data_encoding::HEXLOWER
            .decode(hash.as_bytes())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("the hash is not 64 lowercase hex characters")?;
        // A record is at least RECORD_HEAD + RECORD_TAIL bytes after the header.
        let min_record = (crate::ledger::journal::RECORD_HEAD + crate::ledger::journal::RECORD_TAIL) as u64;
        let header = crate::ledger::journal::header_bytes(ledger).len() as u64;
        if seq.checked_mul(min_record).and_then(|n| n.checked_add(header)).is_none_or(|min_end| end < min_end) {
            return Err(format!("{seq} records cannot end at byte {end}"));
        }
        Ok(Head { ledger: ledger.to_string(), at: Resume { seq, end, hash } })
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HeadError + '_ {
    move |source| HeadError::Io { path: path.to_path_buf(), source }
}

/// Reads `DIR/head`; `Ok(None)` if there is none (a copy made by an older
/// version, or one whose head was removed on purpose).
pub fn read(dir: &Path) -> Result<Option<Head>, HeadError> {
    let path = dir.join(HEAD_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HeadError::Io { path, source: e }),
    };
    let mut bytes = Vec::new();
    file.take(MAX_HEAD_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io(&path))?;
    if bytes.len() as u64 > MAX_HEAD_FILE_BYTES {
        return Err(HeadError::Malformed { path, what: format!("it is longer than {MAX_HEAD_FILE_BYTES} bytes") });
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| HeadError::Malformed { path: path.clone(), what: "it is not UTF-8 text".into() })?;
    Head::parse(&text).map(Some).map_err(|what| HeadError::Malformed { path, what })
}

/// Replaces `DIR/head` atomically (see the module docs).
pub fn write(dir: &Path, head: &Head) -> Result<(), HeadError> {
    let tmp = dir.join(HEAD_TMP_FILE);
    let path = dir.join(HEAD_FILE);
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(io(&tmp))?;
    f.write_all(head.to_line().as_bytes()).and_then(|_| f.sync_data()).map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io(&path))
}

/// How a journal compares with a recorded head, from the journal file alone
/// (no index): the journal must have the head's ledger id, reach at least
/// the head's end offset, and the record ending there must carry the head's
/// hash. Returns a description of the first mismatch.
pub fn compare(journal: &Path, head: &Head) -> Result<Option<String>, HeadError> {
    let mut f = File::open(journal).map_err(io(journal))?;
    let len = f.metadata().map_err(io(journal))?.len();
    let expected = crate::ledger::journal::header_bytes(&head.ledger);
    let mut header = vec![0u8; expected.len()];
    if len < expected.len() as u64 {
        return Ok(Some(format!(
            "the journal ends at byte {len}, inside its header, but this copy acknowledged {} entries up to byte {}: entries are missing (the journal was truncated)",
            head.at.seq, head.at.end
        )));
    }
    f.read_exact(&mut header).map_err(io(journal))?;
    if header != expected {
        return Ok(Some(format!(
            "the journal is not the journal of ledger {:?} that this copy acknowledged {} entries of (its header differs): it was replaced",
            head.ledger, head.at.seq
        )));
    }
    if head.at.seq == 0 {
        return Ok(None);
    }
    if len < head.at.end {
        return Ok(Some(format!(
            "the journal ends at byte {len}, but this copy acknowledged {} entries up to byte {}: entries are missing (the journal was truncated or replaced by an older copy)",
            head.at.seq, head.at.end
        )));
    }
    let mut hash = [0u8; 32];
    f.seek(SeekFrom::Start(head.at.end - 32)).and_then(|_| f.read_exact(&mut hash)).map_err(io(journal))?;
    if hash != head.at.hash {
        return Ok(Some(format!(
            "the record that should end at byte {} (entry {}) does not carry the hash this copy acknowledged: the journal was rewritten or replaced",
            head.at.end, head.at.seq
        )));
    }
    Ok(None)
}

/// What to tell a user whose journal is behind its head.
pub const RESTORE_ADVICE: &str = "Nothing was changed. Restore the journal from a backup, or rebuild this copy: `vereffen init --id LEDGER --ledger NEW` and `vereffen import` another party's export (`vereffen export` on their copy); `vereffen verify --checkpoint FILE` checks a copy against a checkpoint another party witnessed";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_bad_lines_are_refused() {
        let h = Head { ledger: "test-copd".into(), at: Resume { seq: 3, end: 4000, hash: [0xab; 32] } };
        assert_eq!(Head::parse(&h.to_line()), Ok(h.clone()));
        let line = h.to_line();
        for bad in [
            line.trim_end().to_string(),
            line.replace("head 1", "head 2"),
            line.replace(" 3 ", " 03 "),
            line.replace(" 3 ", " -3 "),
            line.replace(" 4000 ", " 40 "),
            line.replace("abab", "ABAB"),
            line.replace("test-copd", "Bad Id"),
            format!("{line}extra\n"),
            "vereffen-head 1 x 1 2\n".into(),
        ] {
            assert!(Head::parse(&bad).is_err(), "{bad:?} was accepted");
        }
    }
}
