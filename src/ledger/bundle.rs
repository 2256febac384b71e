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
//! Import checks every line and every entry before it appends any, skips
//! entries the copy already has, and appends the rest in one deterministic
//! order that depends only on the set of entries (a file import of more than
//! [`IMPORT_BATCH`] new entries in batches of that size, see [`import_with`],
//! so memory stays bounded whatever the bundle's size): references
//! first, a key's introduction before its use (and before its ending, and
//! before a witness record whose signature lines it signs), and otherwise
//! ascending entry id. So the same entries in any line order give the same
//! journal. Entries signed by a key that an ending entry ended without them
//! in its causal past are accepted as void (`crate::ledger::liveness`).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::ledger::canonical;
use crate::ledger::entry::{Entry, EntryId, EntrySig};
use crate::ledger::keys::KeyId;
use crate::ledger::registry::Registry;
use crate::ledger::EntryRules;
use crate::ledger::{Ledger, LedgerError, Pending};

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
    /// An import of several batches failed after some were appended.
    #[error("{source}. Before that, {added} entries of {path} were imported in {done} of {batches} batches, each whole (every entry valid with what it depends on); run the same import again to import the rest")]
    Partial {
        /// The file.
        path: PathBuf,
        /// Entries appended before the failure.
        added: usize,
        /// Batches appended before the failure.
        done: usize,
        /// Batches of the whole import.
        batches: usize,
        /// What failed.
        source: Box<BundleError>,
    },
    /// An import of several batches was stopped by its caller between batches.
    #[error("{path}: the import was stopped after {done} of {batches} batches ({added} entries imported, each batch whole); run the same import again to import the rest")]
    Stopped {
        /// The file.
        path: PathBuf,
        /// Entries appended.
        added: usize,
        /// Batches appended.
        done: usize,
        /// Batches of the whole import.
        batches: usize,
    },
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
    /// Journal batches the entries were appended in (0 when none were added).
    pub batches: usize,
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
    let since = since.max(1);
    // Streamed: the header's count is known from the journal, and each
    // entry is written as it is read (a bundle of any size costs one line).
    let count = ledger.len().saturating_sub(since - 1);
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write_header(&mut w, ledger.id(), since, count).map_err(io)?;
        let mut written = 0u64;
        let mut failed = None;
        ledger.for_each(since, |seq, e| {
            if failed.is_none() {
                if let Err(e) = write_line(&mut w, seq, &e) {
                    failed = Some(e);
                }
                written += 1;
            }
            Ok(())
        })?;
        if let Some(e) = failed {
            return Err(io(e));
        }
        assert_eq!(written, count, "the journal holds the entries it counts");
        w.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(count)
}

/// Writes a whole bundle (header and one line per entry) to `w`: the
/// format [`read_from`] reads. `since` is the header's `since` (at least 1).
pub fn write_bundle(w: &mut impl Write, ledger_id: &str, since: u64, entries: &[(u64, Entry)]) -> std::io::Result<()> {
    write_header(w, ledger_id, since, entries.len() as u64)?;
    for (seq, e) in entries {
        write_line(w, *seq, e)?;
    }
    Ok(())
}

fn write_header(w: &mut impl Write, ledger_id: &str, since: u64, count: u64) -> std::io::Result<()> {
    let header = canonical::encode(&json!({
        "bundle": "vereffen", "entries": count, "ledger": ledger_id, "since": since.max(1), "version": 1
    }))
    .map_err(std::io::Error::other)?;
    w.write_all(&header)?;
    w.write_all(b"\n")
}

fn write_line(w: &mut impl Write, seq: u64, e: &Entry) -> std::io::Result<()> {
    let line = entry_line(seq, e).map_err(std::io::Error::other)?;
    w.write_all(&line)?;
    w.write_all(b"\n")
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
    let mut out = Vec::new();
    scan_lines(source, path, expect_ledger, range_start, &mut |l: Line| {
        out.push((l.no, l.entry));
        Ok(())
    })?;
    Ok(out)
}

/// One entry line of a bundle, as [`scan_lines`] hands it out.
struct Line {
    /// 1-based line number.
    no: usize,
    /// Byte offset of the line in the source.
    offset: u64,
    /// Length of the line without its newline.
    len: usize,
    /// The entry, whose id matches its body.
    entry: Entry,
}

/// Reads a bundle line by line, with every check of [`read_from`] (and of
/// [`read_range_from`] when `range_start` is given), handing each checked
/// entry line to `f` as soon as it is read: only the ids seen so far are
/// kept (for the duplicate check), so memory does not grow with the entries.
/// A file with more entry lines than its header declares is refused at the
/// first line too many.
fn scan_lines(
    source: impl Read,
    path: &Path,
    expect_ledger: &str,
    range_start: Option<u64>,
    f: &mut dyn FnMut(Line) -> Result<(), BundleError>,
) -> Result<(), BundleError> {
    let mut reader = BufReader::new(source);
    let line_err = |line: usize, what: String| BundleError::Line { path: path.to_path_buf(), line, what };
    let mut count = 0u64;
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    let mut offset = 0u64;
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
        let line_offset = offset;
        offset += n as u64;
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
        if declared.is_some_and(|d| count >= d) {
            return Err(line_err(
                line_no,
                format!(
                    "the header declares {} entries but the file holds more (this is entry line {}): the file was edited",
                    count,
                    count + 1
                ),
            ));
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
        count += 1;
        f(Line { no: line_no, offset: line_offset, len: buf.len(), entry: e })?;
    }
    if line_no == 0 {
        return Err(line_err(1, "the file is empty: not a vereffen bundle".into()));
    }
    if declared != Some(count) {
        return Err(line_err(
            line_no,
            format!(
                "the header declares {} entries but the file holds {}: the file is truncated or was edited",
                declared.map(|d| d.to_string()).unwrap_or_else(|| "no number of".into()),
                count
            ),
        ));
    }
    Ok(())
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
    let nodes: Vec<OrderNode> = entries.iter().map(|(_, e)| OrderNode::of(e, rules)).collect();
    let pos = positions(&nodes);
    let order = order_nodes(&nodes, &pos).map_err(|i| (entries[i].0, CYCLE.to_string()))?;
    let mut slots: Vec<Option<(usize, Entry)>> = entries.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i as usize].take()).collect())
}

/// Why a bundle whose entries depend on each other in a circle is refused.
const CYCLE: &str = "the entries form a dependency cycle (references, key introductions and checkpoint signers depend on each other in a circle): this bundle cannot come from a valid copy";

/// What the import order needs to know of one entry (FORMAT.md 7), without
/// the entry itself: a bundle of any size is ordered from these.
struct OrderNode {
    /// The entry id (ties are broken by it).
    id: EntryId,
    /// The ids it references.
    refs: Vec<EntryId>,
    /// The keys whose introductions must come first: its signing keys and,
    /// for an ending entry, the key it ends.
    keys: Vec<KeyId>,
    /// What its rules read from the registry ([`EntryRules::registry_reads`]).
    reads: Option<(String, Vec<String>)>,
    /// The key it introduces and that key's name `<party>/<fingerprint>`.
    intro: Option<(KeyId, String)>,
    /// The party it registers (a `party.register`).
    registers: Option<String>,
}

impl OrderNode {
    fn of(e: &Entry, rules: &dyn EntryRules) -> OrderNode {
        let party = &e.body().author.party;
        OrderNode {
            id: e.id(),
            refs: e.body().ref_ids().collect(),
            keys: e.sigs().iter().map(|s| s.key).chain(Registry::ends_key(e)).collect(),
            reads: rules.registry_reads(e),
            intro: Registry::introduces_key(e).map(|k| (k, format!("{party}/{}", k.fingerprint()))),
            registers: (e.kind() == crate::ledger::registry::KIND_REGISTER).then(|| party.clone()),
        }
    }
}

/// Each node's id and its index.
fn positions(nodes: &[OrderNode]) -> HashMap<EntryId, u32> {
    assert!(nodes.len() < u32::MAX as usize, "a bundle holds fewer than 2^32 entries (its lines are counted)");
    nodes.iter().enumerate().map(|(i, n)| (n.id, i as u32)).collect()
}

/// The import order of `nodes` as indices into it (see [`import_order`]);
/// on a dependency cycle, the index of an entry in it.
fn order_nodes(nodes: &[OrderNode], pos: &HashMap<EntryId, u32>) -> Result<Vec<u32>, usize> {
    let n = nodes.len();
    let mut intro: HashMap<KeyId, u32> = HashMap::new();
    // Key name `<party>/<fingerprint>` and party registrations, for (d).
    let mut intro_by_name: HashMap<&str, u32> = HashMap::new();
    let mut registration: HashMap<&str, u32> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if let Some((k, name)) = &node.intro {
            intro.insert(*k, i as u32);
            intro_by_name.insert(name.as_str(), i as u32);
        }
        if let Some(party) = &node.registers {
            registration.insert(party.as_str(), i as u32);
        }
    }
    // Dependencies of each node, sorted and distinct.
    let mut deps: Vec<Vec<u32>> = Vec::with_capacity(n);
    for (i, node) in nodes.iter().enumerate() {
        let mut d: Vec<u32> = Vec::new();
        d.extend(node.refs.iter().filter_map(|r| pos.get(r).copied()));
        d.extend(node.keys.iter().filter_map(|k| intro.get(k).copied()));
        if let Some((party, names)) = &node.reads {
            d.extend(registration.get(party.as_str()).copied());
            d.extend(names.iter().filter_map(|name| intro_by_name.get(name.as_str()).copied()));
        }
        d.retain(|&j| j as usize != i);
        d.sort_unstable();
        d.dedup();
        deps.push(d);
    }
    let mut waiting: Vec<u32> = deps.iter().map(|d| d.len() as u32).collect();
    // Dependents as one flat list per node (compressed rows).
    let mut starts = vec![0u32; n + 1];
    for d in &deps {
        for &j in d {
            starts[j as usize + 1] += 1;
        }
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut dependents = vec![0u32; starts[n] as usize];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            dependents[fill[j as usize] as usize] = i as u32;
            fill[j as usize] += 1;
        }
    }
    drop(deps);
    let mut ready: BTreeSet<(EntryId, u32)> =
        (0..n).filter(|&i| waiting[i] == 0).map(|i| (nodes[i].id, i as u32)).collect();
    let mut order = Vec::with_capacity(n);
    while let Some((_, i)) = ready.pop_first() {
        order.push(i);
        for &d in &dependents[starts[i as usize] as usize..starts[i as usize + 1] as usize] {
            waiting[d as usize] -= 1;
            if waiting[d as usize] == 0 {
                ready.insert((nodes[d as usize].id, d));
            }
        }
    }
    if order.len() != n {
        return Err((0..n).find(|&i| waiting[i] > 0).unwrap_or(0));
    }
    Ok(order)
}

/// New entries a bundle file import appends as one journal batch. A bundle
/// with at most this many entries the copy lacks is imported as one batch:
/// all or nothing, crash-atomic. A larger one is checked whole first and
/// then appended in batches of this many (FORMAT.md 7). The same size as a
/// node's pull (`node::client::PULL_BATCH`), so memory stays that of one
/// such batch whatever the bundle's size.
pub const IMPORT_BATCH: usize = 10_000;

/// How [`import_with`] takes a bundle file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Entries per appended batch (at least 1); [`IMPORT_BATCH`] by default.
    /// Smaller sizes are for tests.
    pub batch: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions { batch: IMPORT_BATCH }
    }
}

/// Progress of [`import_with`]: one batch was appended and is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDone {
    /// 1-based number of the batch.
    pub batch: usize,
    /// Batches in the whole import.
    pub batches: usize,
    /// Entries appended so far (this batch included).
    pub added: usize,
    /// Entries the import appends in all.
    pub to_add: usize,
}

/// Imports a bundle file with the default [`ImportOptions`]: see [`import_with`].
pub fn import(ledger: &mut Ledger, path: &Path) -> Result<ImportReport, BundleError> {
    import_with(ledger, path, &ImportOptions::default(), &mut |_| ControlFlow::Continue(()))
}

/// Imports a bundle file in memory bounded by one batch, whatever its size.
///
/// 1. Reads the file line by line with every check of [`read`] (header,
///    lines, ids, duplicates, the declared count), keeping of each entry the
///    copy lacks only its place in the file and what the import order needs.
/// 2. Orders those entries ([`import_order`]'s order).
/// 3. If there are more than `opts.batch`, checks them all, batch by batch
///    in that order ([`Ledger::check_batch_after`]: exactly the checks of one
///    batch of all of them), reading each again from the file; a refused
///    entry refuses the bundle and nothing is appended.
/// 4. Appends them in that order in batches of `opts.batch` (each one
///    journal batch, all or nothing and crash-atomic; a batch checked in
///    step 3 is appended only if its bytes are those checked, without
///    checking it twice), calling `progress` after each. A bundle of at
///    most `opts.batch` new entries is one batch, checked as it is appended,
///    exactly as [`import_entries`] does. If an
///    append fails after earlier batches were appended (a full disk, a crash,
///    or `progress` breaking: [`BundleError::Stopped`]), the copy holds those
///    whole batches, a prefix of the order in which every entry is valid
///    with its dependencies; running the same import again skips them and
///    appends the rest, giving the journal an uninterrupted import gives.
pub fn import_with(
    ledger: &mut Ledger,
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(&BatchDone) -> ControlFlow<()>,
) -> Result<ImportReport, BundleError> {
    assert!(opts.batch >= 1, "an import batch holds at least one entry");
    let io = |source| BundleError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    // 1. Every line checked; of each new entry only what ordering needs.
    let rules = ledger.rules();
    let mut in_bundle = 0usize;
    let mut nodes: Vec<OrderNode> = Vec::new();
    let mut slots: Vec<Slot> = Vec::new();
    {
        let copy: &Ledger = ledger;
        scan_lines(&file, path, copy.id(), None, &mut |l: Line| {
            in_bundle += 1;
            if !copy.contains(&l.entry.id())? {
                nodes.push(OrderNode::of(&l.entry, rules));
                slots.push(Slot { offset: l.offset, len: l.len, line: l.no });
            }
            Ok(())
        })?;
    }
    let already_present = in_bundle - nodes.len();
    // 2. The order.
    let pos = positions(&nodes);
    let order = order_nodes(&nodes, &pos).map_err(|i| BundleError::Line {
        path: path.to_path_buf(),
        line: slots[i].line,
        what: CYCLE.to_string(),
    })?;
    let ids: Vec<EntryId> = nodes.iter().map(|n| n.id).collect();
    drop(nodes);
    let reader = EntryReader { file: &file, path, slots: &slots, ids: &ids };
    let refused = |err: LedgerError, chunk: &[u32]| match err {
        LedgerError::Rejected { position, .. } => {
            BundleError::Refused { path: path.to_path_buf(), line: slots[chunk[position] as usize].line, source: err }
        }
        other => BundleError::Ledger(other),
    };
    let to_add = order.len();
    let batches = to_add.div_ceil(opts.batch);
    // 3. More than one batch: check every batch before appending any. Kept
    // per batch: the registry after it and a digest of its entries' bytes
    // (the registry before the first batch comes first).
    let mut checked: Vec<(Registry, [u8; 32])> = Vec::new();
    if batches > 1 {
        let mut rank = vec![0u32; to_add];
        for (p, &i) in order.iter().enumerate() {
            rank[i as usize] = p as u32;
        }
        let mut registry = ledger.registry().clone();
        checked.push((registry.clone(), [0; 32]));
        for (k, chunk) in order.chunks(opts.batch).enumerate() {
            let start = k * opts.batch;
            let entries = reader.read_all(chunk)?;
            let earlier = |id: &EntryId| pos.get(id).copied().filter(|&j| (rank[j as usize] as usize) < start);
            let contains = |id: &EntryId| earlier(id).is_some();
            let get = |id: &EntryId| earlier(id).and_then(|j| reader.read(j).ok());
            let pending = Pending { registry: &registry, count: start as u64, contains: &contains, get: &get };
            registry = ledger
                .check_batch_after(&entries, crate::ledger::registry::KeyUse::Existing, &pending)
                .map_err(|e| refused(e, chunk))?;
            checked.push((registry.clone(), wire_digest(&entries)));
        }
    }
    drop(pos);
    // 4. Append, batch by batch.
    let mut added = 0usize;
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for (k, chunk) in order.chunks(opts.batch).enumerate() {
        // A failure after some batches were appended says how far it got.
        let partial_at = |source: BundleError, added: usize, done: usize| {
            if done == 0 {
                source
            } else {
                BundleError::Partial { path: path.to_path_buf(), added, done, batches, source: Box::new(source) }
            }
        };
        let before = added;
        let partial = |source: BundleError| partial_at(source, before, k);
        let entries = reader.read_all(chunk).map_err(partial)?;
        if checked.is_empty() {
            // One batch: checked as it is appended.
            ledger
                .append_as(&entries, crate::ledger::registry::KeyUse::Existing)
                .map_err(|e| partial(refused(e, chunk)))?;
        } else {
            // Checked in step 3; appended only if these are the bytes checked.
            if wire_digest(&entries) != checked[k + 1].1 {
                return Err(partial(BundleError::Line {
                    path: path.to_path_buf(),
                    line: slots[chunk[0] as usize].line,
                    what: "the file changed while it was imported (a batch's entries are not the bytes checked)".into(),
                }));
            }
            let after = checked[k + 1].0.clone();
            ledger.append_prechecked(&entries, &checked[k].0, after).map_err(|e| partial(refused(e, chunk)))?;
        }
        added += entries.len();
        for e in &entries {
            *kinds.entry(e.kind().to_string()).or_default() += 1;
        }
        drop(entries);
        if batches > 1 {
            // Write the index out after each batch: sled otherwise holds the
            // whole import's index updates in memory until its next flush
            // (a 100,000-entry import grew to 1.2 GB without this).
            ledger.index().flush().map_err(|e| partial_at(BundleError::Ledger(e.into()), added, k + 1))?;
        }
        let done = BatchDone { batch: k + 1, batches, added, to_add };
        if progress(&done).is_break() && k + 1 < batches {
            return Err(BundleError::Stopped { path: path.to_path_buf(), added, done: k + 1, batches });
        }
    }
    assert_eq!(added, to_add, "every ordered entry was appended");
    let void = ledger.void_entries()?;
    let added_void = ids.iter().filter(|id| void.contains_key(id)).count();
    Ok(ImportReport {
        in_bundle,
        added,
        already_present,
        added_kinds: kinds.into_iter().collect(),
        added_void,
        void_total: void.len(),
        batches,
    })
}

/// blake3 over the wire form of each entry (length-prefixed), in order.
fn wire_digest(entries: &[Entry]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    for e in entries {
        let wire = e.encode();
        h.update(&(wire.len() as u64).to_le_bytes());
        h.update(&wire);
    }
    *h.finalize().as_bytes()
}

/// Where an entry line of the bundle being imported is.
struct Slot {
    /// Byte offset of the line.
    offset: u64,
    /// Its length without the newline.
    len: usize,
    /// Its 1-based line number.
    line: usize,
}

/// Reads entries of a bundle file again by their place, checking that each
/// is still the entry first read there.
struct EntryReader<'a> {
    file: &'a std::fs::File,
    path: &'a Path,
    slots: &'a [Slot],
    ids: &'a [EntryId],
}

impl EntryReader<'_> {
    fn read(&self, i: u32) -> Result<Entry, BundleError> {
        use std::os::unix::fs::FileExt;
        let slot = &self.slots[i as usize];
        let line_err = |what: String| BundleError::Line { path: self.path.to_path_buf(), line: slot.line, what };
        let mut buf = vec![0u8; slot.len];
        self.file
            .read_exact_at(&mut buf, slot.offset)
            .map_err(|source| BundleError::Io { path: self.path.to_path_buf(), source })?;
        let changed = || {
            line_err(format!(
                "the file changed while it was imported: this line no longer holds entry {}",
                self.ids[i as usize].short()
            ))
        };
        let text = std::str::from_utf8(&buf).map_err(|_| changed())?;
        let (_, e) = parse_entry_line(text).map_err(|_| changed())?;
        if e.id() != self.ids[i as usize] {
            return Err(changed());
        }
        Ok(e)
    }

    fn read_all(&self, chunk: &[u32]) -> Result<Vec<Entry>, BundleError> {
        chunk.iter().map(|&i| self.read(i)).collect()
    }
}

/// Imports entries already read by [`read`] or [`read_from`] (with their
/// line numbers): skips those the copy holds, orders the rest
/// ([`import_order`]) and appends them as one batch, all or nothing and
/// crash-atomic (one journal batch). `path` names the source in errors.
/// This is the one import path of entries held in memory: the node's sync
/// and bundle POST go through it (with [`import_entries_uncounted`]), and
/// each batch of [`import_with`] is checked and appended the same way.
pub fn import_entries(ledger: &mut Ledger, all: Vec<(usize, Entry)>, path: &Path) -> Result<ImportReport, BundleError> {
    import_batch(ledger, all, path, true)
}

/// [`import_entries`] without counting void entries: the report's
/// `added_void` and `void_total` are 0. Counting them reads every entry of
/// the copy once a key was ever ended (`crate::ledger::liveness` is a
/// function of the whole entry set), which a node's catch-up would pay for
/// every batch of [`crate::ledger::bundle::IMPORT_BATCH`] entries it pulls;
/// the node reports no void counts, so it imports with this.
pub fn import_entries_uncounted(
    ledger: &mut Ledger,
    all: Vec<(usize, Entry)>,
    path: &Path,
) -> Result<ImportReport, BundleError> {
    import_batch(ledger, all, path, false)
}

fn import_batch(
    ledger: &mut Ledger,
    all: Vec<(usize, Entry)>,
    path: &Path,
    count_void: bool,
) -> Result<ImportReport, BundleError> {
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
    let void = if count_void { ledger.void_entries()? } else { Default::default() };
    let added_void = entries.iter().filter(|e| void.contains_key(&e.id())).count();
    Ok(ImportReport {
        in_bundle,
        added: entries.len(),
        already_present,
        added_kinds: kinds.into_iter().collect(),
        added_void,
        void_total: void.len(),
        batches: usize::from(!entries.is_empty()),
    })
}
