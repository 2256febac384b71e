//! Bundles: the portable exchange format between copies (JSON Lines).
//!
//! ```text
//! line 1: {"bundle":"vereffen","entries":N,"ledger":ID,"since":S,"version":1}
//! line k: {"body":"<canonical body JSON, as a string>","id":HEX,"seq":N,
//!          "sigs":[{"key":HEX,"sig":HEX},...]}
//! ```
//!
//! Every line is canonical JSON. `body` carries the exact canonical bytes
//! that the id hashes and the signatures cover; `seq` is the position in the
//! exporting copy (informational).
//!
//! Import checks every line and every entry before it appends any (all or
//! nothing), skips entries the copy already has, and appends the rest in one
//! deterministic order that depends only on the set of entries: references
//! first, a key's introduction before its use (and before its ending, and
//! before a witness record whose signature lines it signs), and otherwise
//! ascending entry id. So the same entries in any line order give the same
//! journal. Entries signed by a key that an ending entry ended without them
//! in its causal past are accepted as void (`crate::ledger::liveness`).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::ledger::canonical;
use crate::ledger::entry::{Entry, EntryId, EntrySig};
use crate::ledger::keys::KeyId;
use crate::ledger::registry::Registry;
use crate::ledger::EntryRules;
use crate::ledger::{Ledger, LedgerError};

/// Longest bundle line accepted (a body is at most 1 MiB; JSON escaping can
/// at most double it, hex signatures add a little).
const MAX_LINE_BYTES: usize = 3 << 20;

/// Bundle problems; each names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line is not what it should be.
    #[error("{path}:{line}: {what}. Nothing was imported")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The ledger refused an entry of the bundle.
    #[error("{path}:{line}: {source}")]
    Refused {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the refused entry.
        line: usize,
        /// The ledger's reason.
        source: LedgerError,
    },
    /// Another ledger error.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The fields of a bundle header, sorted: exactly these, no others.
pub const HEADER_FIELDS: [&str; 5] = ["bundle", "entries", "ledger", "since", "version"];

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries in the bundle.
    pub in_bundle: usize,
    /// Entries appended.
    pub added: usize,
    /// Entries skipped because this copy had them.
    pub already_present: usize,
    /// Kinds of the added entries, with counts.
    pub added_kinds: Vec<(String, usize)>,
    /// Added entries that are void (signed by a key ended by an ending entry
    /// that does not have them in its causal past; `crate::ledger::liveness`).
    pub added_void: usize,
    /// Void entries in the copy after the import (added or not).
    pub void_total: usize,
}

/// The canonical JSON line for one entry.
pub fn entry_line(seq: u64, e: &Entry) -> Result<Vec<u8>, canonical::CanonicalError> {
    let body = String::from_utf8_lossy(e.body_bytes()).into_owned();
    let sigs: Vec<Value> = e
        .sigs()
        .iter()
        .map(|s| json!({"key": s.key.to_hex(), "sig": data_encoding::HEXLOWER.encode(&s.sig.to_bytes())}))
        .collect();
    canonical::encode(&json!({"body": body, "id": e.id().to_hex(), "seq": seq, "sigs": sigs}))
}

/// Writes the entries from sequence `since` on to `out` (via a temporary file
/// renamed into place, so a failed export leaves no partial file). Returns
/// the number of entries written.
pub fn export(ledger: &Ledger, out: &Path, since: u64) -> Result<u64, BundleError> {
    let io = |source| BundleError::Io { path: out.to_path_buf(), source };
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let entries = ledger.scan(since.max(1))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write_bundle(&mut w, ledger.id(), since.max(1), &entries).map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(entries.len() as u64)
}

/// Writes a whole bundle (header and one line per entry) to `w`: the
/// format [`read_from`] reads. `since` is the header's `since` (at least 1).
pub fn write_bundle(w: &mut impl Write, ledger_id: &str, since: u64, entries: &[(u64, Entry)]) -> std::io::Result<()> {
    let header = canonical::encode(&json!({
        "bundle": "vereffen", "entries": entries.len(), "ledger": ledger_id, "since": since.max(1), "version": 1
    }))
    .map_err(std::io::Error::other)?;
    w.write_all(&header)?;
    w.write_all(b"\n")?;
    for (seq, e) in entries {
        let line = entry_line(*seq, e).map_err(std::io::Error::other)?;
        w.write_all(&line)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

fn parse_entry_line(text: &str) -> Result<(u64, Entry), String> {
    let v = canonical::decode(text.as_bytes()).map_err(|e| format!("not a bundle entry line: {e}"))?;
    let obj = v.as_object().ok_or("not a bundle entry line: expected a JSON object")?;
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["body", "id", "seq", "sigs"] {
        return Err(format!(
            "not a bundle entry line: expected the fields body, id, seq, sigs; found {}",
            keys.join(", ")
        ));
    }
    let body = obj["body"].as_str().ok_or("field body must be a string")?;
    let id = obj["id"].as_str().and_then(EntryId::from_hex).ok_or("field id must be a 64-character hex entry id")?;
    let seq = obj["seq"]
        .as_u64()
        .filter(|&s| s >= 1)
        .ok_or("field seq must be an integer of at least 1 (a sequence number)")?;
    let sigs = obj["sigs"].as_array().ok_or("field sigs must be a list")?;
    let sigs = sigs
        .iter()
        .map(|s| {
            let key = s.get("key").and_then(Value::as_str).and_then(KeyId::from_hex);
            let sig = s
                .get("sig")
                .and_then(Value::as_str)
                .and_then(|h| data_encoding::HEXLOWER.decode(h.as_bytes()).ok())
                .and_then(|b| <[u8; 64]>::try_from(b).ok());
            match (key, sig, s.as_object().map(|o| o.len())) {
                (Some(key), Some(sig), Some(2)) => {
                    Ok(EntrySig { key, sig: ed25519_dalek::Signature::from_bytes(&sig) })
                }
                _ => Err("each signature needs exactly a hex key id (key) and a 128-hex-character signature (sig)"
                    .to_string()),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let e = Entry::from_parts(body.as_bytes().to_vec(), sigs).map_err(|e| e.to_string())?;
    if e.id() != id {
        return Err(format!(
            "the id {} does not match the body, whose blake3 hash is {}: the body was altered",
            id.short(),
            e.id().short()
        ));
    }
    Ok((seq, e))
}

/// Reads a bundle file: checks the header and every line. Returns the
/// entries with their line numbers.
pub fn read(path: &Path, expect_ledger: &str) -> Result<Vec<(usize, Entry)>, BundleError> {
    let file = std::fs::File::open(path).map_err(|source| BundleError::Io { path: path.to_path_buf(), source })?;
    read_from(file, path, expect_ledger)
}

/// Reads a bundle from any reader (a file, or a request body held in
/// memory); `path` names the source in errors (for a network peer, a
/// description such as `peer hospital: GET /v1/...`). Same checks as
/// [`read`]: header, every line, duplicates, the declared count.
pub fn read_from(source: impl Read, path: &Path, expect_ledger: &str) -> Result<Vec<(usize, Entry)>, BundleError> {
    read_checked(source, path, expect_ledger, None)
}

/// Reads a node's answer to a range request (`docs/PROTOCOL.md` 3, `GET
/// .../entries?start=N`): the checks of [`read_from`], and the answer must
/// be the range asked for, in order: the header's `since` is `start` and
/// the `k`-th entry line (k = 1, 2, ...) has `seq` = `start + k - 1`. An
/// answer out of order, with a gap or with other positions is refused
/// naming the first wrong line, so nothing of it is imported.
pub fn read_range_from(
    source: impl Read,
    path: &Path,
    expect_ledger: &str,
    start: u64,
) -> Result<Vec<(usize, Entry)>, BundleError> {
    read_checked(source, path, expect_ledger, Some(start))
}

fn read_checked(
    source: impl Read,
    path: &Path,
    expect_ledger: &str,
    range_start: Option<u64>,
) -> Result<Vec<(usize, Entry)>, BundleError> {
    let mut reader = BufReader::new(source);
    let line_err = |line: usize, what: String| BundleError::Line { path: path.to_path_buf(), line, what };
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    let mut declared = None;
    let mut seen: HashMap<EntryId, usize> = HashMap::new();
    loop {
        buf.clear();
        let n = reader
            .by_ref()
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|source| BundleError::Io { path: path.to_path_buf(), source })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.last() != Some(&b'\n') {
            let what = if n > MAX_LINE_BYTES {
                "the line is longer than any entry can be"
            } else {
                "the last line is cut short (no newline): the file is truncated"
            };
            return Err(line_err(line_no, what.into()));
        }
        buf.pop();
        let text = std::str::from_utf8(&buf).map_err(|_| line_err(line_no, "the line is not UTF-8 text".into()))?;
        if line_no == 1 {
            let v = canonical::decode(text.as_bytes())
                .map_err(|e| line_err(1, format!("not a vereffen bundle header: {e}")))?;
            if v.get("bundle").and_then(Value::as_str) != Some("vereffen")
                || v.get("version").and_then(Value::as_u64) != Some(1)
            {
                return Err(line_err(
                    1,
                    "not a vereffen bundle header (expected \"bundle\":\"vereffen\",\"version\":1)".into(),
                ));
            }
            let mut fields: Vec<&str> =
                v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            fields.sort_unstable();
            if fields != HEADER_FIELDS {
                return Err(line_err(
                    1,
                    format!(
                        "the header must have exactly the fields {}; it has {}",
                        HEADER_FIELDS.join(", "),
                        fields.join(", ")
                    ),
                ));
            }
            if v["since"].as_u64().is_none_or(|s| s < 1) || v["entries"].as_u64().is_none() {
                return Err(line_err(
                    1,
                    "the header's since must be an integer of at least 1 and entries a non-negative integer".into(),
                ));
            }
            let ledger = v.get("ledger").and_then(Value::as_str).unwrap_or_default();
            if ledger != expect_ledger {
                return Err(line_err(
                    1,
                    format!("the bundle is from ledger {ledger:?}, this copy is ledger {expect_ledger:?}"),
                ));
            }
            if let Some(start) = range_start {
                let since = v["since"].as_u64().unwrap_or_default();
                if since != start {
                    return Err(line_err(
                        1,
                        format!("the answer starts at sequence {since}, but the range asked for starts at {start}"),
                    ));
                }
            }
            declared = v.get("entries").and_then(Value::as_u64);
            continue;
        }
        let (seq, e) = parse_entry_line(text).map_err(|what| line_err(line_no, what))?;
        if let Some(start) = range_start {
            // Line 2 holds the first entry of the range.
            let expected = start.checked_add(line_no as u64 - 2);
            if expected != Some(seq) {
                return Err(line_err(
                    line_no,
                    format!(
                        "entry {} has sequence {seq}, but position {} of the range asked for is sequence {}: the answer is out of order or holds other entries",
                        e.id().short(),
                        line_no - 1,
                        expected.map(|x| x.to_string()).unwrap_or_else(|| "beyond any".into())
                    ),
                ));
            }
        }
        if let Some(first) = seen.insert(e.id(), line_no) {
            return Err(line_err(
                line_no,
                format!(
                    "entry {} appears twice in the bundle (first on line {first}); a bundle holds each entry once",
                    e.id().short()
                ),
            ));
        }
        out.push((line_no, e));
    }
    if line_no == 0 {
        return Err(line_err(1, "the file is empty: not a vereffen bundle".into()));
    }
    if declared != Some(out.len() as u64) {
        return Err(line_err(
            line_no,
            format!(
                "the header declares {} entries but the file holds {}: the file is truncated or was edited",
                declared.map(|d| d.to_string()).unwrap_or_else(|| "no number of".into()),
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// The deterministic append order for a set of new entries (FORMAT.md 7):
/// a topological order in which every entry comes after (a) the entries it
/// references, (b) the introductions of its signing keys, (c) for an ending
/// entry, the introduction of the key it ends, and (d) for an
/// `audit.witness` or `audit.equivocation`, the registration of the party
/// whose checkpoint it carries and the introductions of the keys named in
/// its signature lines (what [`EntryRules::registry_reads`] names); ties by
/// ascending entry id. Every registry read of
/// the rules is thereby an ordering constraint. Fails on a dependency cycle,
/// naming an entry in it.
pub fn import_order(
    entries: Vec<(usize, Entry)>,
    rules: &dyn EntryRules,
) -> Result<Vec<(usize, Entry)>, (usize, String)> {
    let n = entries.len();
    let pos: HashMap<EntryId, usize> = entries.iter().enumerate().map(|(i, (_, e))| (e.id(), i)).collect();
    let mut intro: HashMap<KeyId, usize> = HashMap::new();
    // Key name `<party>/<fingerprint>` and party registrations, for (d).
    let mut intro_by_name: HashMap<String, usize> = HashMap::new();
    let mut registration: HashMap<&str, usize> = HashMap::new();
    for (i, (_, e)) in entries.iter().enumerate() {
        if let Some(k) = Registry::introduces_key(e) {
            intro.insert(k, i);
            intro_by_name.insert(format!("{}/{}", e.body().author.party, k.fingerprint()), i);
        }
        if e.kind() == crate::ledger::registry::KIND_REGISTER {
            registration.insert(e.body().author.party.as_str(), i);
        }
    }
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, (_, e)) in entries.iter().enumerate() {
        let mut add = |j: usize| {
            if j != i {
                deps[i].insert(j);
            }
        };
        for r in e.body().ref_ids() {
            if let Some(&j) = pos.get(&r) {
                add(j);
            }
        }
        for k in e.sigs().iter().map(|s| s.key).chain(Registry::ends_key(e)) {
            if let Some(&j) = intro.get(&k) {
                add(j);
            }
        }
        if let Some((party, names)) = rules.registry_reads(e) {
            if let Some(&j) = registration.get(party.as_str()) {
                add(j);
            }
            for name in &names {
                if let Some(&j) = intro_by_name.get(name) {
                    add(j);
                }
            }
        }
    }
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            dependents[j].push(i);
        }
    }
    let mut ready: BTreeSet<(EntryId, usize)> =
        (0..n).filter(|&i| waiting[i] == 0).map(|i| (entries[i].1.id(), i)).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(first) = ready.pop_first() {
        let i = first.1;
        order.push(i);
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.insert((entries[d].1.id(), d));
            }
        }
    }
    if order.len() != n {
        let stuck = (0..n).find(|&i| waiting[i] > 0).unwrap_or(0);
        return Err((
            entries[stuck].0,
            "the entries form a dependency cycle (references, key introductions and checkpoint signers depend on each other in a circle): this bundle cannot come from a valid copy"
                .into(),
        ));
    }
    let mut slots: Vec<Option<(usize, Entry)>> = entries.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// Imports a bundle: all or nothing.
pub fn import(ledger: &mut Ledger, path: &Path) -> Result<ImportReport, BundleError> {
    let all = read(path, ledger.id())?;
    import_entries(ledger, all, path)
}

/// Imports entries already read by [`read`] or [`read_from`] (with their
/// line numbers): skips those the copy holds, orders the rest
/// ([`import_order`]) and appends them as one batch, all or nothing and
/// crash-atomic (one journal batch). `path` names the source in errors.
/// This is the one import path: `import` and the node's sync and bundle
/// POST all go through it.
pub fn import_entries(ledger: &mut Ledger, all: Vec<(usize, Entry)>, path: &Path) -> Result<ImportReport, BundleError> {
    let in_bundle = all.len();
    let mut fresh = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, e) in all {
        if !seen.insert(e.id()) || ledger.contains(&e.id())? {
            continue;
        }
        fresh.push((line, e));
    }
    let already_present = in_bundle - fresh.len();
    let ordered = import_order(fresh, ledger.rules()).map_err(|(line, what)| BundleError::Line {
        path: path.to_path_buf(),
        line,
        what,
    })?;
    let (lines, entries): (Vec<usize>, Vec<Entry>) = ordered.into_iter().unzip();
    if let Err(err) = ledger.append_as(&entries, crate::ledger::registry::KeyUse::Existing) {
        return Err(match err {
            LedgerError::Rejected { position, .. } => {
                BundleError::Refused { path: path.to_path_buf(), line: lines[position], source: err }
            }
            other => BundleError::Ledger(other),
        });
    }
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for e in &entries {
        *kinds.entry(e.kind().to_string()).or_default() += 1;
    }
    let void = ledger.void_entries()?;
    let added_void = entries.iter().filter(|e| void.contains_key(&e.id())).count();
    Ok(ImportReport {
        in_bundle,
        added: entries.len(),
        already_present,
        added_kinds: kinds.into_iter().collect(),
        added_void,
        void_total: void.len(),
    })
}
