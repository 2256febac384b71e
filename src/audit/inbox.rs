//! What awaits me: the inbox of a party (or of every party of an
//! organisation) over one copy or over every copy a node keeps.
//!
//! [`items`] is a pure function of one copy's entries and the set of "my"
//! parties (and key files): it reads the derived views the commands use
//! (`negotiation::status`, `measurement::states`, `cosign::status` through
//! [`ContractView`], `witness::equivocations_in`) over the copy's **live**
//! entries (void entries, signed with a key after its end, never count) and
//! lists what one of my parties has to do, each with the exact `vereffen`
//! command that does it:
//!
//! * [`InboxItem::SignVersion`]: a contract version (proposal, counter or
//!   amendment) that is pending, names my party as a signatory that has not
//!   signed, and is not superseded. A version is **superseded** when another
//!   version answers it (a counter-proposal names it); when it is a
//!   proposal or counter and the contract is in force under another version;
//!   or when it is an amendment whose amended version is no longer in force,
//!   or of whose amended version another amendment effective from the same
//!   year was agreed. Accepting a superseded version would change nothing or
//!   create a conflict, so it awaits nobody.
//! * [`InboxItem::AttestFigure`]: a figure submitted by another party that
//!   is pending and waits for my party's attestation (attest or dispute).
//! * [`InboxItem::DisputedFigure`]: a figure my party submitted that is
//!   disputed (open disputes only: an attestation by the disputing party
//!   resolves its dispute).
//! * [`InboxItem::CosignStatement`]: a statement signed by others, not by
//!   my signatory party, that can still settle its year: not settled, not
//!   replaced, not stale (`ContractView::is_stale`), under the version that
//!   governs the year, and, if the year is settled, a resettlement of the
//!   settled statement.
//! * [`InboxItem::SignComputable`]: the first year of a contract that is not
//!   settled, when every earlier year is settled without conflict, its
//!   statement can be computed (every required figure agreed), my party is a
//!   signatory and nobody signed a live statement of it yet.
//! * [`InboxItem::Conflict`]: conflicts the views record for a contract
//!   (two agreed versions, conflicting amendments), a settled year (a
//!   corrected or disputed input, two settled statements) or two live
//!   figures for one indicator and period, in contracts my party is a party of.
//! * [`InboxItem::Equivocation`]: equivocation evidence in the copy
//!   (recorded `audit.equivocation` entries, and recorded checkpoints of one
//!   origin and size with different roots), in a copy where my party is
//!   registered.
//! * [`InboxItem::KeyEnded`]: a key file among mine whose key a party of the
//!   copy registered and that has since been revoked or retired: it can no
//!   longer sign there. (Keys have no expiry in the ledger format, so a key
//!   that is merely *about* to end cannot be derived; an ended one can.)
//! * [`InboxItem::CannotOpen`]: a copy of a node that could not be read
//!   ([`home_inbox`] reports it instead of failing).
//!
//! Items are sorted by (ledger id, contract, year, kind, entry ids), so the
//! same facts give the same inbox on every run and every copy.
//!
//! [`home_inbox`] reads every copy under a node home (`HOME/ledgers/*`) as a
//! [`crate::ledger::snapshot`]: the journal alone, without the copy's lock
//! or its sled index (opening thousands of indexes is what made a node's
//! inbox slow), in parallel.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::witness::{self, Equivocation};
use crate::domain::measurement::{self as meas, State};
use crate::domain::negotiation::{ContractConflict, ContractStatus, VersionInfo, VersionKind, VersionState};
use crate::domain::settlement::cosign::{Conflict, ContractView};
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::keys::{self, KeyId};
use crate::ledger::liveness;
use crate::ledger::registry::{KeyEndReason, Registry};
use crate::ledger::snapshot::{self, Snapshot};
use crate::ledger::{Ledger, LedgerError};

/// The directory under a node home that holds one ledger copy per ledger id.
pub const HOME_LEDGERS_DIR: &str = "ledgers";
/// The directory under a node home that holds the organisation's key files.
pub const HOME_KEYS_DIR: &str = "keys";
/// Most ledger directories one node home may hold for an inbox query; more
/// is refused with a clear error rather than read without bound.
pub const MAX_HOME_LEDGERS: usize = 100_000;
/// Most key files read from a node home's key directory.
pub const MAX_HOME_KEYS: usize = 1_000;
/// The directory under a node home where the inbox keeps each copy's items
/// (derived data: deleting it only makes the next query slower).
pub const HOME_CACHE_DIR: &str = "cache/inbox";
/// The version of the cache file layout; a file of another version is ignored.
pub const CACHE_VERSION: u32 = 2;
/// Largest cache file read; a larger one is ignored (and recomputed).
pub const MAX_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Largest journal whose inbox cache a node refreshes by itself
/// ([`refresh_home_cache`]): about 65,000 entries, some 0.5 s of one core.
/// A larger copy is computed by the inbox query that needs it.
pub const REFRESH_MAX_JOURNAL_BYTES: u64 = 32 * 1024 * 1024;

/// Why an inbox could not be computed at all (a single copy that cannot be
/// read under a node home is an item, [`InboxItem::CannotOpen`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The copy could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A key file could not be read.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The node home is unusable.
    #[error("node home {path}: {what}")]
    Home {
        /// The directory.
        path: PathBuf,
        /// What is wrong and what to do.
        what: String,
    },
}

/// Where an item is and what to do about it: the fields every item carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// The ledger id.
    pub ledger: String,
    /// The contract, where the item concerns one.
    pub contract: Option<String>,
    /// The contract year, where relevant.
    pub year: Option<u16>,
    /// Which of my parties has to act (none for items about the whole copy).
    pub party: Option<String>,
    /// The entries the item is about (full ids, sorted).
    pub entries: Vec<String>,
    /// The exact `vereffen` command that acts on it.
    pub command: String,
}

/// A conflict of the inbox as data: `what` of [`InboxItem::Conflict`] is its
/// reference English, and the presentation layer words it in the reader's
/// language. Serialized with a `conflict` tag (`contract`, `figures`,
/// `settlement`), in `vereffen inbox --json` and the node's cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "conflict", rename_all = "snake_case")]
pub enum ConflictDetail {
    /// Versions of a contract that keep each other out of force.
    Contract(#[serde(with = "ContractConflictDef")] ContractConflict),
    /// More than one live figure for the same indicator and period.
    Figures {
        /// How many figures are live at once.
        count: usize,
        /// Their indicator.
        indicator: String,
        /// Their period.
        period: String,
        /// The party that submitted them (and must correct one).
        source: String,
    },
    /// A settled year that needs a resettlement.
    Settlement(#[serde(with = "SettlementConflictDef")] Conflict),
}

impl ConflictDetail {
    /// The reference English of a figure conflict (the `what` of its item).
    fn figures_english(count: usize, indicator: &str, period: &str, source: &str) -> String {
        format!("{count} figures of {indicator} {period} are live at once ({source}): the source corrects one of them")
    }
}

/// The serialized form of a [`ContractConflict`] inside a [`ConflictDetail`]
/// (its own `Serialize` is its English, for the JSON that carries words).
#[derive(Serialize, Deserialize)]
#[serde(remote = "ContractConflict", tag = "kind", rename_all = "snake_case")]
enum ContractConflictDef {
    ManyAgreed { hashes: Vec<String> },
    ManyAmendments { year: u16, hashes: Vec<String> },
}

/// The serialized form of a settlement [`Conflict`] inside a
/// [`ConflictDetail`] (its own `Serialize` is its English).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Conflict", tag = "kind", rename_all = "snake_case")]
enum SettlementConflictDef {
    ManySettled { hashes: Vec<String> },
    InputVoid { input: String, year: u16 },
    InputCorrected { indicator: String, period: String, input: String, by: String, year: u16 },
    InputDisputed { indicator: String, period: String, input: String, by: Vec<String> },
    PreviousResettled { previous_year: u16, recorded: String, now: String, year: u16 },
}

/// One thing that awaits me. Serialized as a JSON object with a `kind`
/// field (the variant name in snake case), the [`Place`] fields, and the
/// variant's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboxItem {
    /// A contract version waiting for my signature.
    SignVersion {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The version hash.
        version: String,
        /// `proposal`, `counter` or `amendment`.
        version_kind: String,
        /// The parties that offered it.
        offered_by: Vec<String>,
        /// Every signatory that has not signed it (mine included).
        waiting_for: Vec<String>,
    },
    /// A figure of another party waiting for my attestation (or dispute).
    AttestFigure {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The indicator.
        indicator: String,
        /// The period.
        period: String,
        /// The value, as recorded.
        value: String,
        /// The submitting party.
        source: String,
    },
    /// A figure of mine that another party disputes.
    DisputedFigure {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The indicator.
        indicator: String,
        /// The period.
        period: String,
        /// The value, as recorded.
        value: String,
        /// Disputing parties and their reasons.
        disputed_by: BTreeMap<String, Vec<String>>,
    },
    /// A statement signed by others, waiting for my co-signature.
    CosignStatement {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The statement hash.
        statement_hash: String,
        /// The parties that signed it.
        signed_by: Vec<String>,
        /// The settled statement it replaces (a resettlement), if any.
        replaces: Option<String>,
    },
    /// A year whose statement can be computed and that nobody signed yet.
    SignComputable {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The statement hash this copy computes.
        statement_hash: String,
    },
    /// A conflict recorded by the views of a contract.
    Conflict {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// What conflicts, as the views word it (the reference English).
        what: String,
        /// The conflict as data, which the presentation layer words in the
        /// reader's language (`None` only in items of another version).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<ConflictDetail>,
    },
    /// Equivocation evidence: the copy's keeper showed two histories.
    Equivocation {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The origin (`vereffen/<ledger>/<party>`) that equivocated.
        origin: String,
        /// The tree size both checkpoints claim.
        size: u64,
        /// The two different roots (base64 as in the checkpoints).
        roots: Vec<String>,
    },
    /// A key file of mine that can no longer sign in this copy.
    KeyEnded {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The key file.
        key_file: String,
        /// The key's fingerprint.
        fingerprint: String,
        /// `revoked` or `retired`.
        ended: String,
        /// The reason given for a revocation.
        reason: Option<String>,
    },
    /// A copy of the node that could not be read.
    CannotOpen {
        /// Where and what to do.
        #[serde(flatten)]
        at: Place,
        /// The copy's directory.
        dir: String,
        /// Why it could not be read.
        reason: String,
    },
}

impl InboxItem {
    /// The common fields.
    pub fn place(&self) -> &Place {
        match self {
            InboxItem::SignVersion { at, .. }
            | InboxItem::AttestFigure { at, .. }
            | InboxItem::DisputedFigure { at, .. }
            | InboxItem::CosignStatement { at, .. }
            | InboxItem::SignComputable { at, .. }
            | InboxItem::Conflict { at, .. }
            | InboxItem::Equivocation { at, .. }
            | InboxItem::KeyEnded { at, .. }
            | InboxItem::CannotOpen { at, .. } => at,
        }
    }

    /// The `kind` word of the JSON form.
    pub fn kind(&self) -> &'static str {
        match self {
            InboxItem::SignVersion { .. } => "sign_version",
            InboxItem::AttestFigure { .. } => "attest_figure",
            InboxItem::DisputedFigure { .. } => "disputed_figure",
            InboxItem::CosignStatement { .. } => "cosign_statement",
            InboxItem::SignComputable { .. } => "sign_computable",
            InboxItem::Conflict { .. } => "conflict",
            InboxItem::Equivocation { .. } => "equivocation",
            InboxItem::KeyEnded { .. } => "key_ended",
            InboxItem::CannotOpen { .. } => "cannot_open",
        }
    }

    /// The sort key: ledger, contract, year, kind, entry ids (then the
    /// whole item, so that the order is total).
    fn sort_key(&self) -> (&str, Option<&str>, Option<u16>, &'static str, &[String]) {
        let p = self.place();
        (&p.ledger, p.contract.as_deref(), p.year, self.kind(), &p.entries)
    }
}

/// Sorts items by (ledger, contract, year, kind, entries) and drops exact
/// duplicates.
pub fn sort_items(items: &mut Vec<InboxItem>) {
    items.sort_by(|a, b| {
        a.sort_key().cmp(&b.sort_key()).then_with(|| {
            // Equal keys (rare: two conflicts of one year) are ordered by
            // their JSON form, which is total and stable.
            let ja = serde_json::to_string(a).unwrap_or_default();
            let jb = serde_json::to_string(b).unwrap_or_default();
            ja.cmp(&jb)
        })
    });
    items.dedup();
}

/// One of my key files and its public key.
#[derive(Debug, Clone)]
pub struct MyKey {
    /// The key file as it should appear in commands (`--as FILE`).
    pub file: String,
    /// Its public key.
    pub key: VerifyingKey,
}

/// Reads the public key of a private key file without the private key:
/// from the `.pub` file next to it (`NAME.key` -> `NAME.pub`), so that an
/// encrypted key needs no passphrase; only when there is no `.pub` file is
/// the key file itself read (which works for an unencrypted key).
pub fn my_key(path: &Path) -> Result<MyKey, keys::KeyError> {
    let public = path.with_extension("pub");
    let key = if path.extension().is_some_and(|e| e == "key") && public.is_file() {
        keys::load_verifying_key(&public)?
    } else {
        keys::load_verifying_key(path)?
    };
    Ok(MyKey { file: path.display().to_string(), key })
}

/// The key files of a node home (`HOME/keys/*.key`, by file name), each
/// with its public key from the `.pub` next to it.
pub fn home_keys(home: &Path) -> Result<Vec<MyKey>, InboxError> {
    let dir = home.join(HOME_KEYS_DIR);
    let home_err = |what: String| InboxError::Home { path: home.to_path_buf(), what };
    let listing = std::fs::read_dir(&dir)
        .map_err(|e| home_err(format!("cannot list its key directory {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for item in listing {
        let item = item.map_err(|e| home_err(format!("cannot list its key directory {}: {e}", dir.display())))?;
        let path = item.path();
        if path.extension().is_some_and(|e| e == "key") {
            files.push(path);
            if files.len() > MAX_HOME_KEYS {
                return Err(home_err(format!("{} holds more than {MAX_HOME_KEYS} key files", dir.display())));
            }
        }
    }
    files.sort();
    Ok(files.iter().map(|f| my_key(f)).collect::<Result<Vec<_>, _>>()?)
}

/// The facts of one copy an inbox reads: its live entries in journal order
/// and its registry.
pub struct Facts {
    /// The ledger id.
    pub ledger: String,
    /// The copy's directory as commands name it (`--ledger DIR`).
    pub dir: String,
    /// Live entries (void ones left out), in journal order.
    pub live: Vec<Entry>,
    /// The registry after every entry.
    pub registry: Registry,
}

impl Facts {
    /// The facts of a snapshot read from `dir`.
    pub fn from_snapshot(s: Snapshot, dir: &Path) -> Facts {
        let entries: Vec<Entry> = s.entries.into_iter().map(|(_, e)| e).collect();
        let void = if s.registry.any_key_ended() { liveness::void_entries(&entries) } else { Default::default() };
        let live = entries.into_iter().filter(|e| !void.contains_key(&e.id())).collect();
        Facts { ledger: s.ledger, dir: dir.display().to_string(), live, registry: s.registry }
    }

    /// The facts of an open copy.
    pub fn from_ledger(ledger: &Ledger) -> Result<Facts, LedgerError> {
        let void = ledger.void_entries()?;
        let mut live = Vec::new();
        ledger.for_each(1, |_, e| {
            if !void.contains_key(&e.id()) {
                live.push(e);
            }
            Ok(())
        })?;
        Ok(Facts {
            ledger: ledger.id().to_string(),
            dir: ledger.dir().display().to_string(),
            live,
            registry: ledger.registry().clone(),
        })
    }
}

/// The inbox of the parties `me` in an open copy, sorted. Commands name
/// the copy's directory and `--as KEY` for the key (the caller knows no key
/// file here).
pub fn inbox(ledger: &Ledger, me: &[String]) -> Result<Vec<InboxItem>, InboxError> {
    let facts = Facts::from_ledger(ledger)?;
    let mine: BTreeMap<String, String> = me.iter().map(|p| (p.clone(), "KEY".to_string())).collect();
    let mut out = items(&facts, &mine, &[]);
    sort_items(&mut out);
    Ok(out)
}

/// My parties in a copy: the parties whose current (not ended) keys are
/// among `keys`, each with the first such key file (in the order given).
pub fn my_parties(reg: &Registry, keys: &[MyKey]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for k in keys {
        if let Some(p) = reg.current_owner(&KeyId::of(&k.key)) {
            out.entry(p.id.clone()).or_insert_with(|| k.file.clone());
        }
    }
    out
}

/// The inbox of the copies under a node home, for the key files `keys`
/// (by default the home's own, [`home_keys`]): every directory under
/// `HOME/ledgers`, read as a snapshot in parallel. A copy that cannot be
/// read is one [`InboxItem::CannotOpen`] item; a copy in which none of the
/// keys is a current key of a registered party contributes nothing.
pub fn home_inbox(home: &Path, keys: &[MyKey]) -> Result<Vec<InboxItem>, InboxError> {
    let dir = home.join(HOME_LEDGERS_DIR);
    let home_err = |what: String| InboxError::Home { path: home.to_path_buf(), what };
    let listing =
        std::fs::read_dir(&dir).map_err(|e| home_err(format!("cannot list its ledgers in {}: {e}", dir.display())))?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for item in listing {
        let item = item.map_err(|e| home_err(format!("cannot list its ledgers in {}: {e}", dir.display())))?;
        dirs.push(item.path());
        if dirs.len() > MAX_HOME_LEDGERS {
            return Err(home_err(format!("{} holds more than {MAX_HOME_LEDGERS} entries", dir.display())));
        }
    }
    dirs.sort();
    let cache = home.join(HOME_CACHE_DIR);
    let mut out: Vec<InboxItem> = dirs.par_iter().flat_map_iter(|d| cached_copy_inbox(d, keys, &cache)).collect();
    sort_items(&mut out);
    Ok(out)
}

/// Brings the node home's inbox cache of one copy (`HOME/ledgers/<id>`)
/// up to date for the home's own key files ([`home_keys`]), as the next
/// `vereffen inbox --home HOME` would: a copy whose cached items still hold
/// costs a few small reads; otherwise its items are computed and written
/// ([`cached_copy_inbox`]). A node calls it after it appended to a copy
/// (sync, a peer's POST), so the morning's inbox query finds the cache
/// current instead of reading every changed copy. Nothing here can refuse
/// a later inbox: a cache that cannot be written, or is damaged later, is
/// recomputed by the query. `id` must be a valid ledger id.
///
/// A copy whose journal is larger than [`REFRESH_MAX_JOURNAL_BYTES`] is
/// left to the query (`Ok(false)`): computing its items reads every entry,
/// which a node should not do in the background after every sync of a
/// large ledger. `Ok(true)`: the cache of the copy is current (or the copy
/// cannot be read, which the query reports).
pub fn refresh_home_cache(home: &Path, id: &str) -> Result<bool, InboxError> {
    if !crate::ledger::entry::is_valid_name(id) {
        return Err(InboxError::Home { path: home.to_path_buf(), what: format!("{id:?} is not a ledger id") });
    }
    let dir = home.join(HOME_LEDGERS_DIR).join(id);
    let journal = std::fs::metadata(dir.join(crate::ledger::JOURNAL_FILE)).map(|m| m.len()).unwrap_or(0);
    if journal > REFRESH_MAX_JOURNAL_BYTES {
        return Ok(false);
    }
    let keys = home_keys(home)?;
    // The same path `home_inbox` builds from its listing, so the cache key
    // (which names the directory) is the one the query looks for.
    drop(cached_copy_inbox(&dir, &keys, &home.join(HOME_CACHE_DIR)));
    Ok(true)
}

/// One copy's items as the node home keeps them (`HOME/cache/inbox/<name>.json`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    /// [`CACHE_VERSION`].
    v: u32,
    /// The version of vereffen that computed the items (its rules may differ).
    vereffen: String,
    /// The copy's head line (`DIR/head`) the items were computed at.
    head: String,
    /// The copy's directory as the commands name it.
    dir: String,
    /// My key files and public keys (hex), in order.
    keys: Vec<(String, String)>,
    /// The items.
    items: Vec<InboxItem>,
}

fn cache_key(dir: &Path, keys: &[MyKey], head_line: &str) -> CacheFile {
    CacheFile {
        v: CACHE_VERSION,
        vereffen: env!("CARGO_PKG_VERSION").to_string(),
        head: head_line.to_string(),
        dir: dir.display().to_string(),
        keys: keys.iter().map(|k| (k.file.clone(), KeyId::of(&k.key).to_hex())).collect(),
        items: Vec::new(),
    }
}

/// The head line of the copy in `dir` when the journal ends exactly at the
/// recorded head (nothing appended since, no torn tail) and its last record
/// carries the head's hash: then the head line names the journal's whole
/// content (its hash chains every record), and items computed at it still hold.
pub fn settled_head(dir: &Path) -> Option<String> {
    let h = crate::ledger::head::read(dir).ok()??;
    let journal = dir.join(crate::ledger::JOURNAL_FILE);
    let len = std::fs::metadata(&journal).ok()?.len();
    if len != h.at.end || !matches!(crate::ledger::head::compare(&journal, &h), Ok(None)) {
        return None;
    }
    Some(h.to_line())
}

/// [`copy_inbox`] through the node home's cache in `cache`: the items of a
/// copy whose head has not moved since they were computed (for the same key
/// files, directory name and version of vereffen) are read from
/// `cache/<name>.json`; otherwise they are computed and, when the journal
/// still ended at its head, written there (atomically; a cache that cannot
/// be written only costs time). A cache file that does not parse, is too
/// large or belongs to other keys is ignored.
pub fn cached_copy_inbox(dir: &Path, keys: &[MyKey], cache: &Path) -> Vec<InboxItem> {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()).filter(|n| crate::ledger::entry::is_valid_name(n)) else {
        return copy_inbox(dir, keys);
    };
    let Some(head_line) = settled_head(dir) else { return copy_inbox(dir, keys) };
    let file = cache.join(format!("{name}.json"));
    let key = cache_key(dir, keys, &head_line);
    let hit = std::fs::File::open(&file).ok().and_then(|f| {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        f.take(MAX_CACHE_BYTES + 1).read_to_end(&mut bytes).ok()?;
        if bytes.len() as u64 > MAX_CACHE_BYTES {
            return None;
        }
        let c: CacheFile = serde_json::from_slice(&bytes).ok()?;
        let same =
            c.v == key.v && c.vereffen == key.vereffen && c.head == key.head && c.dir == key.dir && c.keys == key.keys;
        // Items of this copy only, and never a copy that could not be read.
        let sound = c.items.iter().all(|i| i.place().ledger == name && !matches!(i, InboxItem::CannotOpen { .. }));
        (same && sound).then_some(c.items)
    });
    if let Some(items) = hit {
        return items;
    }
    let items = copy_inbox(dir, keys);
    let readable = !items.iter().any(|i| matches!(i, InboxItem::CannotOpen { .. }));
    // Written only if nothing moved while computing: the head line is the same.
    if readable && settled_head(dir).as_deref() == Some(head_line.as_str()) {
        let c = CacheFile { items: items.clone(), ..key };
        if let Ok(bytes) = serde_json::to_vec(&c) {
            let _ = std::fs::create_dir_all(cache).and_then(|()| {
                use std::io::Write as _;
                let mut tmp = tempfile::NamedTempFile::new_in(cache)?;
                tmp.write_all(&bytes)?;
                tmp.persist(&file).map(|_| ()).map_err(|e| e.error)
            });
        }
    }
    items
}

/// The items of the copy in `dir` for `keys` (unsorted).
pub fn copy_inbox(dir: &Path, keys: &[MyKey]) -> Vec<InboxItem> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let snap = snapshot::read(dir).and_then(|s| {
        // The directory name is the ledger id (the node's layout); a copy
        // of another ledger under that name is not what it claims to be.
        if s.ledger != name {
            return Err(LedgerError::Truncated {
                dir: dir.to_path_buf(),
                what: format!("the directory is named {name:?} but holds ledger {:?}", s.ledger),
            });
        }
        Ok(s)
    });
    match snap {
        Ok(s) => {
            let facts = Facts::from_snapshot(s, dir);
            let mine = my_parties(&facts.registry, keys);
            items(&facts, &mine, keys)
        }
        Err(e) => vec![InboxItem::CannotOpen {
            at: Place {
                ledger: name,
                contract: None,
                year: None,
                party: None,
                entries: vec![],
                command: command(&dir.display().to_string(), &["verify"]),
            },
            dir: dir.display().to_string(),
            reason: e.to_string(),
        }],
    }
}

/// Quotes one command-line word for a POSIX shell when it needs it.
fn shell_word(w: &str) -> String {
    let plain = !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+=:@,%".contains(&b));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// `vereffen --ledger DIR ARGS...`, quoted for a shell.
fn command(dir: &str, args: &[&str]) -> String {
    let mut out = format!("vereffen --ledger {}", shell_word(dir));
    for a in args {
        out.push(' ');
        out.push_str(&shell_word(a));
    }
    out
}

/// True when `v` is superseded (see the module docs).
pub fn is_superseded(st: &ContractStatus, v: &VersionInfo) -> bool {
    let answered =
        st.versions.values().any(|o| matches!(&o.kind, VersionKind::Counter { answers } if *answers == v.version));
    if answered {
        return true;
    }
    let in_force = |h: &str| st.base.as_deref() == Some(h) || st.amendments.values().any(|a| a == h);
    match &v.kind {
        VersionKind::Proposal | VersionKind::Counter { .. } => st.base.as_ref().is_some_and(|b| *b != v.version),
        VersionKind::Amendment { amends, effective_from } => {
            !in_force(amends)
                || st.versions.values().any(|o| {
                    o.version != v.version
                        && o.state() == VersionState::Agreed
                        && matches!(&o.kind, VersionKind::Amendment { amends: a, effective_from: f } if a == amends && f == effective_from)
                })
        }
    }
}

fn version_kind(v: &VersionInfo) -> &'static str {
    match v.kind {
        VersionKind::Proposal => "proposal",
        VersionKind::Counter { .. } => "counter",
        VersionKind::Amendment { .. } => "amendment",
    }
}

/// The inbox of one copy for my parties `mine` (party id -> key file for
/// commands) and my key files `keys` (for [`InboxItem::KeyEnded`]),
/// unsorted ([`sort_items`] orders them). Pure: a function of the facts.
pub fn items(facts: &Facts, mine: &BTreeMap<String, String>, keys: &[MyKey]) -> Vec<InboxItem> {
    let mut out = Vec::new();
    let place =
        |contract: Option<&str>, year: Option<u16>, party: Option<&str>, entries: Vec<String>, args: &[&str]| {
            let mut entries = entries;
            entries.sort();
            entries.dedup();
            Place {
                ledger: facts.ledger.clone(),
                contract: contract.map(str::to_string),
                year,
                party: party.map(str::to_string),
                entries,
                command: command(&facts.dir, args),
            }
        };
    // Keys of mine that ended in this copy.
    for k in keys {
        let id = KeyId::of(&k.key);
        let Some(rec) = facts.registry.key(&id) else { continue };
        let Some(end) = &rec.ended else { continue };
        let (ended, reason) = match &end.reason {
            KeyEndReason::Revoked { reason } => ("revoked", Some(reason.clone())),
            KeyEndReason::Retired => ("retired", None),
        };
        out.push(InboxItem::KeyEnded {
            at: place(None, None, Some(&rec.party), vec![end.entry.clone()], &["party", "list"]),
            key_file: k.file.clone(),
            fingerprint: id.fingerprint(),
            ended: ended.to_string(),
            reason,
        });
    }
    if mine.is_empty() {
        return out;
    }
    // Equivocation evidence concerns every party of the copy.
    let equivocations = witness::equivocations_in(&facts.live);
    for ev in &equivocations {
        out.push(equivocation_item(facts, ev, &place));
    }
    // Contracts, each from its live entries.
    let by_id: HashMap<EntryId, &Entry> = facts.live.iter().map(|e| (e.id(), e)).collect();
    let lookup = |id: &EntryId| by_id.get(id).map(|e| (*e).clone());
    let mut contracts: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    for e in &facts.live {
        if let Some(c) = e.contract() {
            contracts.entry(c).or_default().push(e.clone());
        }
    }
    for (contract, entries) in &contracts {
        let view = ContractView::new(contract, entries, &lookup);
        if view.status.versions.is_empty() {
            continue;
        }
        contract_items(&view, entries, mine, &place, &mut out);
    }
    out
}

type PlaceFn<'a> = dyn Fn(Option<&str>, Option<u16>, Option<&str>, Vec<String>, &[&str]) -> Place + 'a;

fn equivocation_item(facts: &Facts, ev: &Equivocation, place: &PlaceFn) -> InboxItem {
    let (a, b) = (&ev.first.checkpoint, &ev.second.checkpoint);
    // The entries that hold the evidence: a recorded equivocation with
    // exactly these checkpoints, and the checkpoint or witness entries that
    // recorded either of them.
    let payload = ev.payload();
    let mut entries: Vec<String> = Vec::new();
    for e in &facts.live {
        let p = &e.body().payload;
        let holds = match e.kind() {
            witness::KIND_EQUIVOCATION => {
                p.get("first") == payload.get("first") && p.get("second") == payload.get("second")
            }
            witness::KIND_CHECKPOINT | witness::KIND_WITNESS => p
                .get("note")
                .and_then(Value::as_str)
                .is_some_and(|t| t == ev.first.to_text() || t == ev.second.to_text()),
            _ => false,
        };
        if holds {
            entries.push(e.id().to_hex());
        }
    }
    let b64 = |r: &[u8; 32]| data_encoding::BASE64.encode(r);
    InboxItem::Equivocation {
        at: place(None, None, None, entries, &["audit", "status"]),
        origin: ev.origin().to_string(),
        size: a.size(),
        roots: vec![b64(a.root()), b64(b.root())],
    }
}

fn contract_items(
    view: &ContractView,
    entries: &[Entry],
    mine: &BTreeMap<String, String>,
    place: &PlaceFn,
    out: &mut Vec<InboxItem>,
) {
    let c = view.contract.as_str();
    let st = &view.status;
    let is_party = |p: &str| st.versions.values().any(|v| v.terms.parties.iter().any(|q| q.id == p));
    let involved: Vec<&String> = mine.keys().filter(|p| is_party(p)).collect();
    if involved.is_empty() {
        return;
    }
    // Contract versions waiting for my signature.
    for v in st.versions.values() {
        let VersionState::Pending { waiting_for } = v.state() else { continue };
        if is_superseded(st, v) {
            continue;
        }
        for (party, key) in mine.iter().filter(|(p, _)| waiting_for.contains(p)) {
            let year = matches!(v.kind, VersionKind::Amendment { .. }).then(|| v.effective_from());
            out.push(InboxItem::SignVersion {
                at: place(
                    Some(c),
                    year,
                    Some(party),
                    v.entries.iter().cloned().collect(),
                    &["contract", "accept", c, "--version", &v.version, "--as", key],
                ),
                version: v.version.clone(),
                version_kind: version_kind(v).to_string(),
                offered_by: v.offered_by.iter().cloned().collect(),
                waiting_for: waiting_for.clone(),
            });
        }
    }
    for conflict in &st.conflicts {
        out.push(InboxItem::Conflict {
            at: place(Some(c), None, None, vec![], &["contract", "status", c]),
            what: conflict.to_string(),
            detail: Some(ConflictDetail::Contract(conflict.clone())),
        });
    }
    // Figures.
    let resolved: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.kind() == meas::KIND_ATTEST)
        .flat_map(|e| e.body().ref_ids().skip(1).map(|r| r.to_hex()))
        .collect();
    for m in &view.measurements {
        let value = m.value.to_string();
        match &m.state {
            State::Pending { waiting_for } => {
                for (party, key) in mine.iter().filter(|(p, _)| waiting_for.contains(p) && **p != m.source) {
                    out.push(InboxItem::AttestFigure {
                        at: place(
                            Some(c),
                            Some(m.year),
                            Some(party),
                            vec![m.id.clone()],
                            &["measure", "attest", &m.id, "--as", key],
                        ),
                        indicator: m.indicator.clone(),
                        period: m.period.clone(),
                        value: value.clone(),
                        source: m.source.clone(),
                    });
                }
            }
            State::Disputed { by } => {
                if let Some(key) = mine.get(&m.source) {
                    let disputes: Vec<String> = entries
                        .iter()
                        .filter(|e| e.kind() == meas::KIND_DISPUTE)
                        .filter(|e| e.body().payload.get("measurement").and_then(Value::as_str) == Some(&m.id))
                        .map(|e| e.id().to_hex())
                        .filter(|id| !resolved.contains(id))
                        .collect();
                    let mut ids = vec![m.id.clone()];
                    ids.extend(disputes);
                    out.push(InboxItem::DisputedFigure {
                        at: place(
                            Some(c),
                            Some(m.year),
                            Some(&m.source),
                            ids,
                            &["measure", "correct", &m.id, "--value", "NEW-VALUE", "--reason", "WHY", "--as", key],
                        ),
                        indicator: m.indicator.clone(),
                        period: m.period.clone(),
                        value,
                        disputed_by: by.clone(),
                    });
                }
            }
            State::Conflict { with } => {
                // One item per group of conflicting figures: at its smallest id.
                let concerns_me = m.required.iter().any(|p| mine.contains_key(p));
                if concerns_me && with.iter().all(|w| *w > m.id) {
                    let mut ids = vec![m.id.clone()];
                    ids.extend(with.iter().cloned());
                    let year = m.year.to_string();
                    out.push(InboxItem::Conflict {
                        at: place(
                            Some(c),
                            Some(m.year),
                            None,
                            ids,
                            &["measure", "list", c, "--year", &year, "--state", "conflict"],
                        ),
                        what: ConflictDetail::figures_english(with.len() + 1, &m.indicator, &m.period, &m.source),
                        detail: Some(ConflictDetail::Figures {
                            count: with.len() + 1,
                            indicator: m.indicator.clone(),
                            period: m.period.clone(),
                            source: m.source.clone(),
                        }),
                    });
                }
            }
            State::Agreed | State::Superseded { .. } => {}
        }
    }
    // Settlements.
    let mut earlier_open = false;
    for (year, ys) in &view.settlements {
        let y = year.to_string();
        for conflict in &ys.conflicts {
            out.push(InboxItem::Conflict {
                at: place(Some(c), Some(*year), None, vec![], &["settle", "status", c]),
                what: conflict.to_string(),
                detail: Some(ConflictDetail::Settlement(conflict.clone())),
            });
        }
        let live: Vec<_> = ys
            .statements
            .values()
            .filter(|s| {
                Some(&s.hash) != ys.settled.as_ref()
                    && !ys.replaced.contains(&s.hash)
                    && ys.version.as_deref() == Some(s.payload.version.as_str())
                    && !view.is_stale(&s.payload)
                    && ys.settled.as_ref().is_none_or(|settled| s.payload.replaces.as_ref() == Some(settled))
            })
            .collect();
        for s in &live {
            for (party, key) in mine.iter().filter(|(p, _)| ys.signatories.contains(p) && !s.by.contains_key(*p)) {
                let mut args = vec!["settle", c, "--year", &y, "--sign", "--as", key];
                if s.payload.replaces.is_some() {
                    args.push("--resettle");
                }
                out.push(InboxItem::CosignStatement {
                    at: place(
                        Some(c),
                        Some(*year),
                        Some(party),
                        s.by.values().map(|x| x.entry.clone()).collect(),
                        &args,
                    ),
                    statement_hash: s.hash.clone(),
                    signed_by: s.by.keys().cloned().collect(),
                    replaces: s.payload.replaces.clone(),
                });
            }
        }
        if ys.settled.is_some() {
            earlier_open |= !ys.conflicts.is_empty();
            continue;
        }
        // The first year not settled: the only one that can be signed now.
        if !earlier_open && live.is_empty() {
            if let Ok(computed) = view.compute(*year, false) {
                for (party, key) in mine.iter().filter(|(p, _)| ys.signatories.contains(p)) {
                    out.push(InboxItem::SignComputable {
                        at: place(
                            Some(c),
                            Some(*year),
                            Some(party),
                            computed.inputs.clone(),
                            &["settle", c, "--year", &y, "--sign", "--as", key],
                        ),
                        statement_hash: computed.hash.clone(),
                    });
                }
            }
        }
        earlier_open = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::negotiation as neg;
    use crate::ledger::entry::{Author, Body, FORMAT_VERSION};
    use crate::ledger::registry::{self, Role};
    use ed25519_dalek::SigningKey;

    fn demo(party: &str) -> SigningKey {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("keys/demo-{party}.key"));
        keys::load_signing_key(&path).unwrap()
    }

    fn entry(
        party: &str,
        signer: &SigningKey,
        extra: &[&SigningKey],
        kind: &str,
        refs: Vec<String>,
        p: Value,
    ) -> Entry {
        let body = Body {
            v: FORMAT_VERSION,
            ledger: "void-test".into(),
            kind: kind.into(),
            author: Author { party: party.into(), key: KeyId::of(&signer.verifying_key()).to_hex() },
            time: "2027-01-15T09:30:00Z".into(),
            refs,
            payload: p,
        };
        let mut signers = vec![signer];
        signers.extend_from_slice(extra);
        Entry::sign(body, &signers).unwrap()
    }

    fn inbox_of(entries: &[Entry], party: &str) -> Vec<InboxItem> {
        let mut registry = Registry::default();
        for (i, e) in entries.iter().enumerate() {
            registry.apply(e, i as u64 + 1);
        }
        let snap = Snapshot {
            ledger: "void-test".into(),
            entries: entries.iter().cloned().enumerate().map(|(i, e)| (i as u64 + 1, e)).collect(),
            registry,
        };
        let facts = Facts::from_snapshot(snap, Path::new("l"));
        let mine = BTreeMap::from([(party.to_string(), "k".to_string())]);
        let mut out = items(&facts, &mine, &[]);
        sort_items(&mut out);
        out
    }

    /// A proposal signed with a key after the key's revocation (not in the
    /// revocation's causal past) is void: it awaits nobody.
    #[test]
    fn void_entries_never_count() {
        let (zh, vz, zh2) = (demo("ziekenhuis"), demo("verzekeraar"), SigningKey::from_bytes(&[5u8; 32]));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/heart-failure-telemonitoring-p4p.toml");
        let contract = crate::domain::contract::check_file(&path).unwrap();
        let reg = |p: &str, k: &SigningKey, role| {
            entry(p, k, &[], registry::KIND_REGISTER, vec![], registry::register_payload(p, role, &k.verifying_key()))
        };
        let mut entries = vec![reg("ziekenhuis", &zh, Role::Provider), reg("verzekeraar", &vz, Role::Payer)];
        let propose =
            entry("ziekenhuis", &zh, &[], neg::KIND_PROPOSE, vec![], neg::offer_payload(&contract, None, None, None));
        let mut live = entries.clone();
        live.push(propose.clone());
        assert_eq!(inbox_of(&live, "verzekeraar").iter().map(|i| i.kind()).collect::<Vec<_>>(), ["sign_version"]);

        // The hospital adds a key and revokes the old one; the proposal
        // signed with the old key afterwards is void.
        entries.push(entry(
            "ziekenhuis",
            &zh,
            &[&zh2],
            registry::KIND_ROTATE,
            vec![],
            registry::rotate_payload(&zh2.verifying_key(), false),
        ));
        let refs: Vec<String> =
            liveness::ending_refs(&entries, &KeyId::of(&zh.verifying_key())).iter().map(|r| r.to_hex()).collect();
        entries.push(entry(
            "ziekenhuis",
            &zh2,
            &[],
            registry::KIND_REVOKE,
            refs,
            registry::revoke_payload(KeyId::of(&zh.verifying_key()), "laptop lost"),
        ));
        entries.push(propose);
        assert!(inbox_of(&entries, "verzekeraar").is_empty(), "{:#?}", inbox_of(&entries, "verzekeraar"));
    }
}
