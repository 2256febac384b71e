//! The signature log: `HOME/web/signatures.jsonl`, one JSON line per
//! signature the web workspace caused (who, from where, on which ledger
//! and contract, what, which entries). Append-only: a line is written whole
//! with one `write` and the file is fsync'd before the page says done. A
//! crash can leave a torn last line; [`read`] reports it and skips it, and
//! the next [`SignLog::append`] first ends it with a newline so the torn
//! text never runs into a whole record.
//!
//! Node-private (not part of any ledger); `docs/FORMAT.md` describes it and
//! `vereffen audit signatures --home H` prints it.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The log's place in a node home.
pub const SIGNLOG_FILE: &str = "web/signatures.jsonl";
/// Largest log read (a bound for the page and the command; a log that
/// grows past it is read from its last [`MAX_READ_BYTES`]).
pub const MAX_READ_BYTES: u64 = 64 << 20;

/// One signature the web caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRecord {
    /// When (UTC, RFC 3339).
    pub time: String,
    /// The user who confirmed it with their password.
    pub user: String,
    /// Their role (`signer`).
    pub role: String,
    /// The client address the request came from.
    pub address: String,
    /// The ledger written to.
    pub ledger: String,
    /// The contract acted on.
    pub contract: String,
    /// What: `submit`, `attest`, `dispute`, `correct`, `cosign`.
    pub action: String,
    /// The ids of the entries written (64 hex characters each).
    pub entries: Vec<String>,
}

/// What [`read`] found: the records in file order, and the lines it
/// skipped (torn or damaged), each as "line N: why".
#[derive(Debug, Default)]
pub struct LogRead {
    /// The whole records, oldest first.
    pub records: Vec<SignRecord>,
    /// The skipped lines.
    pub skipped: Vec<String>,
}

/// The signature log of one node home. Appends are serialized across the
/// process (one lock for every log: they are rare and short).
#[derive(Debug, Clone)]
pub struct SignLog {
    path: PathBuf,
}

static APPENDING: Mutex<()> = Mutex::new(());

/// The log file of the node home `home`.
pub fn path_of(home: &Path) -> PathBuf {
    home.join(SIGNLOG_FILE)
}

impl SignLog {
    /// The log of the node home `home` (created at the first append).
    pub fn of_home(home: &Path) -> SignLog {
        SignLog { path: path_of(home) }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `rec` as one line and fsyncs the file (and, when it was just
    /// created, its directory) before returning.
    pub fn append(&self, rec: &SignRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let _guard = APPENDING.lock().map_err(|_| std::io::Error::other("the signature log's lock was poisoned"))?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let created = !self.path.exists();
        std::fs::create_dir_all(dir)?;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).read(true).open(&self.path)?;
        let len = f.metadata()?.len();
        if len > 0 {
            // A torn last line (a crash mid-write) is ended first, so it
            // stays one skipped line and this record stays whole.
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        f.write_all(&line)?;
        f.sync_all()?;
        if created {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// Reads the log at `path` (none yet: empty). Lines that are not whole
/// records are skipped and reported, never fatal.
pub fn read(path: &Path) -> std::io::Result<LogRead> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LogRead::default()),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    let mut out = LogRead::default();
    let mut first_line = 1usize;
    if len > MAX_READ_BYTES {
        f.seek(SeekFrom::Start(len - MAX_READ_BYTES))?;
        out.skipped
            .push(format!("the first {} bytes (the log is larger than {MAX_READ_BYTES} bytes)", len - MAX_READ_BYTES));
        first_line = 0;
    }
    let mut bytes = Vec::new();
    f.take(MAX_READ_BYTES).read_to_end(&mut bytes)?;
    let ends_whole = bytes.last() == Some(&b'\n');
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let n = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        let no = i + first_line;
        let last = i + 1 == n;
        if line.is_empty() && (last || ends_whole) {
            continue;
        }
        if first_line == 0 && i == 0 {
            // The cut may fall inside a line: its rest is no record.
            continue;
        }
        match serde_json::from_slice::<SignRecord>(line) {
            // A whole record whose newline was lost is still whole.
            Ok(r) => out.records.push(r),
            Err(e) if last => out.skipped.push(format!("line {no}: torn (an interrupted write): {e}")),
            Err(e) => out.skipped.push(format!("line {no}: not a record: {e}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(action: &str) -> SignRecord {
        SignRecord {
            time: "2026-12-02T14:00:00Z".into(),
            user: "anna".into(),
            role: "signer".into(),
            address: "127.0.0.1".into(),
            ledger: "l".into(),
            contract: "c".into(),
            action: action.into(),
            entries: vec!["ab".repeat(32)],
        }
    }

    #[test]
    fn appends_whole_lines_and_skips_a_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = SignLog::of_home(dir.path());
        assert!(read(log.path()).unwrap().records.is_empty());
        log.append(&rec("attest")).unwrap();
        // A crash mid-write leaves half a line.
        let mut f = std::fs::OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(b"{\"time\":\"2026-12-02T14:0").unwrap();
        drop(f);
        let r = read(log.path()).unwrap();
        assert_eq!(r.records, vec![rec("attest")]);
        assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
        assert!(r.skipped[0].contains("line 2: torn"), "{:?}", r.skipped);
        // The next append ends the torn line first: both records stay whole.
        log.append(&rec("dispute")).unwrap();
        let r = read(log.path()).unwrap();
        assert_eq!(r.records, vec![rec("attest"), rec("dispute")]);
        assert_eq!(r.skipped.len(), 1);
        assert!(r.skipped[0].contains("line 2: not a record"), "{:?}", r.skipped);
    }
}
