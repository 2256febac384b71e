//! Auditing a copy without trusting its keeper: signed checkpoints of each
//! copy's Merkle tree, witness cosignatures, equivocation evidence, and
//! offline proof bundles.
//!
//! * A copy's **origin** is `vereffen/<ledger id>/<party id>`: the party that
//!   keeps the copy and signs its checkpoints. Each copy has its own journal
//!   order and so its own tree; the origin names that tree.
//! * A signature line's **key name** is `<party id>/<key fingerprint>`, so a
//!   reader sees who signed with which key and can find the key in the
//!   registry.
//! * Three entry kinds record what happened: `audit.checkpoint` (a copy's
//!   keeper signed its tree head), `audit.witness` (another party checked a
//!   checkpoint against the last one it witnessed and cosigned it) and
//!   `audit.equivocation` (two signed checkpoints of one copy that cannot
//!   both be true).
//! * Proof bundles ([`ProofBundle`]) carry an inclusion or consistency proof
//!   with the signed checkpoints and the verifier keys, in a strict text
//!   form that [`ProofBundle::parse`] reads from arbitrary bytes without
//!   panicking; [`verify_bundle`] checks one offline.
//!
//! For reports: [`latest_checkpoints`] (per origin, the newest checkpoint
//! with every cosignature recorded for it) and [`equivocations`] (recorded
//! evidence plus conflicts visible among the recorded checkpoints).
//! `docs/FORMAT.md` section 10 is the normative description.

use std::collections::BTreeMap;
use std::path::Path;

use data_encoding::BASE64;
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use crate::audit::checkpoint::{self, Checkpoint, CheckpointError, Cosignature, KeyKind, SignedNote, Verifier};
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::keys::KeyId;
use crate::ledger::merkle::{self, Hash, MerkleError};
use crate::ledger::registry::{Registry, RuleError};
use crate::ledger::{Ledger, LedgerError};

/// Kind of the entry recording a copy's own signed checkpoint.
pub const KIND_CHECKPOINT: &str = "audit.checkpoint";
/// Kind of the entry recording a witness cosignature.
pub const KIND_WITNESS: &str = "audit.witness";
/// Kind of the entry recording equivocation evidence.
pub const KIND_EQUIVOCATION: &str = "audit.equivocation";
/// Every audit kind.
pub const KINDS: [&str; 3] = [KIND_CHECKPOINT, KIND_WITNESS, KIND_EQUIVOCATION];

/// First component of every origin.
pub const ORIGIN_PREFIX: &str = "vereffen/";
/// File in a ledger directory naming the origin of that copy's checkpoints.
pub const ORIGIN_FILE: &str = "audit-origin";
/// First line of an inclusion proof bundle.
pub const INCLUSION_HEADER: &str = "vereffen inclusion proof v1";
/// First line of a consistency proof bundle.
pub const CONSISTENCY_HEADER: &str = "vereffen consistency proof v1";
/// Largest proof bundle [`ProofBundle::parse`] accepts, in bytes.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// Most verifier key lines in a bundle.
const MAX_KEY_LINES: usize = 200;

/// Why an audit operation or a proof was refused. Messages say what is wrong
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A proof file does not have the documented form.
    #[error("malformed proof file: {0}")]
    Malformed(String),
    /// A checkpoint or signature problem.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A Merkle proof problem.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Anything else that is refused, with the reason.
    #[error("{0}")]
    Refused(String),
}

fn refused<T>(msg: impl Into<String>) -> Result<T, AuditError> {
    Err(AuditError::Refused(msg.into()))
}

/// The origin of the copy of ledger `ledger` kept by party `party`.
pub fn origin(ledger: &str, party: &str) -> String {
    format!("{ORIGIN_PREFIX}{ledger}/{party}")
}

/// Splits an origin into (ledger id, party id), if it has the vereffen form.
pub fn parse_origin(origin: &str) -> Option<(&str, &str)> {
    let rest = origin.strip_prefix(ORIGIN_PREFIX)?;
    let (ledger, party) = rest.split_once('/')?;
    let valid = crate::ledger::entry::is_valid_name;
    (valid(ledger) && valid(party)).then_some((ledger, party))
}

/// The key name of `key` of `party` in signature lines: `<party>/<fingerprint>`.
pub fn key_name(party: &str, key: &VerifyingKey) -> String {
    format!("{party}/{}", KeyId::of(key).fingerprint())
}

/// The party named in a key name `<party>/<fingerprint>`.
fn key_name_party(name: &str) -> &str {
    name.split_once('/').map_or("", |(party, _)| party)
}

/// Verifiers for every key the registry has ever held, as checkpoint
/// signer and as cosigner, named by [`key_name`].
pub fn registry_verifiers(reg: &Registry) -> Vec<Verifier> {
    let mut out = Vec::new();
    for party in reg.parties() {
        for id in party.keys.iter().filter_map(|hex| KeyId::from_hex(hex)) {
            let Some(record) = reg.key(&id) else { continue };
            let name = key_name(&party.id, &record.public_key);
            for kind in [KeyKind::Signer, KeyKind::Cosigner] {
                if let Ok(v) = Verifier::new(&name, record.public_key, kind) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// Verifies `note` against the registry: the origin is a copy of `ledger`,
/// every signature line from a registered key verifies, and the checkpoint
/// is signed by a key of the party that keeps the copy.
pub fn verify_with_registry(
    note: &SignedNote,
    ledger: &str,
    reg: &Registry,
) -> Result<checkpoint::VerifiedCheckpoint, AuditError> {
    let origin = note.checkpoint.origin();
    let Some((note_ledger, party)) = parse_origin(origin) else {
        return refused(format!(
            "checkpoint origin {origin:?} is not a vereffen copy (expected vereffen/<ledger>/<party>)"
        ));
    };
    if note_ledger != ledger {
        return Err(CheckpointError::OriginMismatch {
            found: origin.to_string(),
            expected: format!("{ORIGIN_PREFIX}{ledger}/<party>"),
        }
        .into());
    }
    let verified = checkpoint::verify(note, &registry_verifiers(reg))?;
    if !verified.signers().iter().any(|s| key_name_party(s) == party) {
        return refused(format!(
            "checkpoint of {origin} is not signed by a registered key of party {party:?} (signed by: {}); only the party keeping a copy signs its checkpoints",
            verified.signers().join(", ")
        ));
    }
    Ok(verified)
}

// ---------------------------------------------------------------------------
// Entry payloads and rules

/// Payload of an `audit.checkpoint` or `audit.witness` entry.
pub fn note_payload(note: &SignedNote) -> Value {
    json!({"note": note.to_text()})
}

fn payload_note(p: &Value, field: &str) -> Result<SignedNote, RuleError> {
    let text = p.get(field).and_then(Value::as_str).ok_or_else(|| RuleError(format!("needs a {field:?} string")))?;
    SignedNote::parse(text).map_err(|e| RuleError(format!("{field}: {e}")))
}

fn only_fields(p: &Value, allowed: &[&str]) -> Result<(), RuleError> {
    let obj = p.as_object().ok_or_else(|| RuleError("the payload must be an object".into()))?;
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(RuleError(format!("the payload has no field {k:?} (allowed: {})", allowed.join(", ")))),
        None => Ok(()),
    }
}

/// Checks an audit entry's payload. `author` is the author's public key (as
/// established by the registry check); `reg` is the registry at the entry.
pub fn check(e: &Entry, author: &VerifyingKey, reg: &Registry) -> Result<(), RuleError> {
    let b = e.body();
    let p = &b.payload;
    let name = key_name(&b.author.party, author);
    let wrap = |what: &str, err: String| RuleError(format!("{}: {what}: {err}", e.kind()));
    match e.kind() {
        KIND_CHECKPOINT => {
            only_fields(p, &["note"])?;
            let note = payload_note(p, "note")?;
            let expected = origin(&b.ledger, &b.author.party);
            note.checkpoint.check_origin(&expected).map_err(|err| wrap("note", err.to_string()))?;
            let v = Verifier::new(&name, *author, KeyKind::Signer).map_err(|err| wrap("key", err.to_string()))?;
            let ok = checkpoint::verify(&note, &[v]).map_err(|err| wrap("note", err.to_string()))?;
            debug_assert!(!ok.signers().is_empty());
        }
        KIND_WITNESS => {
            only_fields(p, &["note"])?;
            let note = payload_note(p, "note")?;
            let (ledger, party) = parse_origin(note.checkpoint.origin())
                .ok_or_else(|| wrap("note", "its origin is not vereffen/<ledger>/<party>".into()))?;
            if ledger != b.ledger {
                return Err(wrap("note", format!("it is a checkpoint of ledger {ledger:?}")));
            }
            if party == b.author.party {
                return Err(wrap("note", "a party cannot witness its own copy".into()));
            }
            let v = Verifier::new(&name, *author, KeyKind::Cosigner).map_err(|err| wrap("key", err.to_string()))?;
            let claimed = note.signatures.iter().any(|s| s.name == name && s.key_hash == v.key_hash());
            if !claimed {
                return Err(wrap("note", format!("it carries no cosignature by the author key ({name})")));
            }
            // The keeper's signature and the author's cosignature must both
            // verify against the registry: a witness only cosigns what verified.
            let verified = verify_with_registry(&note, &b.ledger, reg).map_err(|err| wrap("note", err.to_string()))?;
            if !verified.cosignatures().iter().any(|c| c.name == name) {
                return Err(wrap("note", "the author's cosignature does not verify".into()));
            }
        }
        KIND_EQUIVOCATION => {
            only_fields(p, &["finding", "first", "proof", "second"])?;
            let ev = Equivocation::from_payload(p).map_err(RuleError)?;
            ev.check(&b.ledger, reg).map_err(|err| wrap("evidence", err.to_string()))?;
        }
        _ => return Err(RuleError(format!("{} is not an audit kind", e.kind()))),
    }
    Ok(())
}

/// What the rules of an `audit.witness` or `audit.equivocation` entry read
/// from the registry besides the author's key: the party whose copy the
/// note(s) checkpoint (its registration must come first) and the key names
/// (`<party>/<fingerprint>`) of every signature line they carry (the
/// introductions of those keys must come first). `None` for other kinds or
/// payloads that do not parse (those are refused by [`check`] anyway).
pub fn registry_reads(e: &Entry) -> Option<(String, Vec<String>)> {
    let p = &e.body().payload;
    let notes = match e.kind() {
        KIND_WITNESS => vec![payload_note(p, "note").ok()?],
        KIND_EQUIVOCATION => vec![payload_note(p, "first").ok()?, payload_note(p, "second").ok()?],
        _ => return None,
    };
    let (_, party) = parse_origin(notes[0].checkpoint.origin())?;
    let party = party.to_string();
    let names = notes.iter().flat_map(|n| n.signatures.iter().map(|s| s.name.clone())).collect();
    Some((party, names))
}

/// A one-line summary of an audit entry, for `log`.
pub fn one_line(e: &Entry) -> String {
    let p = &e.body().payload;
    let head = |n: &SignedNote| {
        let cp = &n.checkpoint;
        let root = data_encoding::HEXLOWER.encode(&cp.root()[..6]);
        format!("{} size {} root {root}", cp.origin(), cp.size())
    };
    match e.kind() {
        KIND_CHECKPOINT => match payload_note(p, "note") {
            Ok(n) => format!("checkpoints {}", head(&n)),
            Err(_) => "checkpoint".into(),
        },
        KIND_WITNESS => match payload_note(p, "note") {
            Ok(n) => format!("witnesses {}", head(&n)),
            Err(_) => "witness".into(),
        },
        _ => match Equivocation::from_payload(p) {
            Ok(ev) => format!("equivocation by {}: {}", ev.origin(), ev.finding.as_str()),
            Err(_) => "equivocation".into(),
        },
    }
}

// ---------------------------------------------------------------------------
// Equivocation

/// What makes two checkpoints of one copy incompatible.
///
/// Only findings a third party can check from the two signed checkpoints
/// alone are evidence. A consistency proof that fails to verify is not: anyone
/// can alter a proof, so the word `"not_consistent"` that earlier versions
/// wrote is refused (`docs/FORMAT.md` 10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Same tree size, different roots: two histories signed as one.
    SameSizeDifferentRoot,
}

/// The finding word earlier versions recorded for a consistency proof that
/// did not verify; refused by the `audit.equivocation` rule because it is not
/// evidence a third party can check.
pub const REFUSED_FINDING_NOT_CONSISTENT: &str = "not_consistent";

impl Finding {
    /// The payload word.
    pub fn as_str(&self) -> &'static str {
        match self {
            Finding::SameSizeDifferentRoot => "same_size_different_root",
        }
    }
}

/// Two signed checkpoints of one origin that cannot both be honest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocation {
    /// Why they conflict.
    pub finding: Finding,
    /// The older (or earlier witnessed) checkpoint, verbatim.
    pub first: SignedNote,
    /// The conflicting checkpoint, verbatim.
    pub second: SignedNote,
    /// Always empty for the findings accepted today; kept so the payload's
    /// `proof` field (which must be `""`) round-trips.
    pub proof: Vec<Hash>,
}

impl Equivocation {
    /// The origin both checkpoints name.
    pub fn origin(&self) -> &str {
        self.first.checkpoint.origin()
    }

    /// The `audit.equivocation` payload.
    pub fn payload(&self) -> Value {
        json!({
            "finding": self.finding.as_str(),
            "first": self.first.to_text(),
            "second": self.second.to_text(),
            "proof": BASE64.encode(&merkle::proof_to_bytes(&self.proof)),
        })
    }

    /// Reads a payload written by [`Equivocation::payload`].
    pub fn from_payload(p: &Value) -> Result<Self, String> {
        let finding = match p.get("finding").and_then(Value::as_str) {
            Some("same_size_different_root") => Finding::SameSizeDifferentRoot,
            Some(REFUSED_FINDING_NOT_CONSISTENT) => {
                return Err(format!(
                    "finding {REFUSED_FINDING_NOT_CONSISTENT:?} is refused: a consistency proof that does not verify is not evidence a third party can check (anyone can alter a proof); only \"same_size_different_root\" is recorded"
                ))
            }
            _ => return Err("finding must be \"same_size_different_root\"".into()),
        };
        let first = payload_note(p, "first").map_err(|e| e.0)?;
        let second = payload_note(p, "second").map_err(|e| e.0)?;
        let proof_text = p.get("proof").and_then(Value::as_str).ok_or("needs a \"proof\" string (base64)")?;
        let proof_bytes = decode_base64(proof_text).ok_or("proof is not canonical base64")?;
        let proof = merkle::proof_from_bytes(&proof_bytes).map_err(|e| e.to_string())?;
        Ok(Self { finding, first, second, proof })
    }

    /// Checks that this is real evidence: both checkpoints are copies of
    /// `ledger` with one origin, both are signed by the keeping party's
    /// registered keys, and they conflict as the finding says.
    pub fn check(&self, ledger: &str, reg: &Registry) -> Result<(), AuditError> {
        let (a, b) = (&self.first.checkpoint, &self.second.checkpoint);
        if a.origin() != b.origin() {
            return refused("the two checkpoints name different origins; that is not equivocation");
        }
        verify_with_registry(&self.first, ledger, reg)?;
        verify_with_registry(&self.second, ledger, reg)?;
        match self.finding {
            Finding::SameSizeDifferentRoot => {
                if a.size() != b.size() || a.root() == b.root() || !self.proof.is_empty() {
                    return refused(
                        "same_size_different_root needs two checkpoints of one size with different roots and no proof",
                    );
                }
            }
        }
        Ok(())
    }

    /// A readable report: what conflicts, then both checkpoints verbatim.
    pub fn report(&self) -> String {
        let a = &self.first.checkpoint;
        let what = match self.finding {
            Finding::SameSizeDifferentRoot => format!(
                "two signed checkpoints of {} have the same tree size {} but different roots: the copy showed two different histories",
                a.origin(),
                a.size()
            ),
        };
        format!(
            "EQUIVOCATION: {what}\n\n--- first checkpoint ---\n{}--- second checkpoint ---\n{}",
            self.first.to_text(),
            self.second.to_text()
        )
    }
}

// ---------------------------------------------------------------------------
// Witnessing

/// What witnessing a new checkpoint amounts to, when it is acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessDecision {
    /// No earlier checkpoint of this origin was witnessed.
    First,
    /// Extends the last witnessed checkpoint (consistency proof verified).
    Extends {
        /// Size of the last witnessed checkpoint.
        from: u64,
    },
    /// The same tree head as one already witnessed.
    Same,
}

/// Why a checkpoint cannot be witnessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessRefusal {
    /// The checkpoint conflicts with one witnessed before.
    Equivocation(Box<Equivocation>),
    /// It is bigger than the last witnessed one and no proof was given.
    ProofNeeded {
        /// Last witnessed size.
        old: u64,
        /// Offered size.
        new: u64,
    },
    /// The proof bundle is for other checkpoints.
    ProofMismatch(String),
    /// The consistency proof does not verify from the last witnessed
    /// checkpoint to the new one. This is not evidence against the keeper
    /// (anyone can alter a proof): nothing is cosigned and nothing recorded.
    ProofInvalid {
        /// Last witnessed size.
        old: u64,
        /// Offered size.
        new: u64,
        /// Why verification failed.
        why: String,
    },
    /// It is older than the last witnessed one (and does not conflict with
    /// any witnessed one of its size).
    Stale {
        /// Last witnessed size.
        last: u64,
        /// Offered size.
        new: u64,
    },
}

impl std::fmt::Display for WitnessRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WitnessRefusal::Equivocation(e) => write!(f, "{}", e.report()),
            WitnessRefusal::ProofNeeded { old, new } => write!(
                f,
                "the last checkpoint witnessed for this copy has size {old}; to witness size {new} you need a consistency proof from the copy's keeper (`vereffen audit consistency OLD NEW`), passed with --proof"
            ),
            WitnessRefusal::ProofMismatch(why) => write!(f, "the consistency proof does not fit: {why}"),
            WitnessRefusal::ProofInvalid { old, new, why } => write!(
                f,
                "the consistency proof from size {old} to size {new} does not verify ({why}); the checkpoint was not witnessed and nothing was recorded. A proof that fails is not evidence of equivocation: ask the copy's keeper for a fresh proof (`vereffen audit consistency {old} {new}`)"
            ),
            WitnessRefusal::Stale { last, new } => write!(
                f,
                "this checkpoint (size {new}) is older than the last one witnessed for this copy (size {last}); only newer checkpoints are witnessed"
            ),
        }
    }
}

/// Decides whether `new` may be cosigned given the notes this witness
/// cosigned before for the same origin (`witnessed`, in the order they were
/// recorded) and an optional consistency proof bundle from the last one.
pub fn decide_witness(
    witnessed: &[SignedNote],
    new: &SignedNote,
    proof: Option<&ConsistencyBundle>,
) -> Result<WitnessDecision, WitnessRefusal> {
    let cp = &new.checkpoint;
    let same_origin: Vec<&SignedNote> = witnessed.iter().filter(|n| n.checkpoint.origin() == cp.origin()).collect();
    if let Some(old) = same_origin.iter().find(|n| n.checkpoint.size() == cp.size() && n.checkpoint.root() != cp.root())
    {
        return Err(WitnessRefusal::Equivocation(Box::new(Equivocation {
            finding: Finding::SameSizeDifferentRoot,
            first: (*old).clone(),
            second: new.clone(),
            proof: vec![],
        })));
    }
    let Some(last) = same_origin.iter().max_by_key(|n| n.checkpoint.size()) else {
        return Ok(WitnessDecision::First);
    };
    let old = &last.checkpoint;
    if old.size() == cp.size() {
        return Ok(WitnessDecision::Same);
    }
    if old.size() > cp.size() {
        return Err(WitnessRefusal::Stale { last: old.size(), new: cp.size() });
    }
    let Some(proof) = proof else {
        return Err(WitnessRefusal::ProofNeeded { old: old.size(), new: cp.size() });
    };
    let (p_old, p_new) = (&proof.old.checkpoint, &proof.new.checkpoint);
    if p_new != cp {
        return Err(WitnessRefusal::ProofMismatch(format!(
            "it ends at the checkpoint of size {}, not at the one being witnessed (size {})",
            p_new.size(),
            cp.size()
        )));
    }
    if p_old != old {
        return Err(WitnessRefusal::ProofMismatch(format!(
            "it starts at a checkpoint of size {}, but the last one witnessed has size {}; ask for a proof from size {}",
            p_old.size(),
            old.size(),
            old.size()
        )));
    }
    match merkle::verify_consistency(old.size(), cp.size(), old.root(), cp.root(), &proof.path) {
        Ok(()) => Ok(WitnessDecision::Extends { from: old.size() }),
        Err(e) => Err(WitnessRefusal::ProofInvalid { old: old.size(), new: cp.size(), why: e.to_string() }),
    }
}

/// Adds the signature lines of `others` that `note` lacks (same checkpoint
/// only; lines for another checkpoint are skipped).
pub fn merge_signatures(note: &mut SignedNote, others: &[SignedNote]) {
    for other in others.iter().filter(|o| o.checkpoint == note.checkpoint) {
        for s in &other.signatures {
            if note.signatures.len() < checkpoint::MAX_SIGNATURES && !note.signatures.contains(s) {
                note.signatures.push(s.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Reading audit state from a ledger

/// A signed note recorded in an audit entry.
#[derive(Debug, Clone)]
pub struct RecordedNote {
    /// Sequence number of the entry in this copy.
    pub seq: u64,
    /// The entry id.
    pub entry: EntryId,
    /// The party that wrote the entry.
    pub party: String,
    /// The note (for `audit.witness`: the cosigned note).
    pub note: SignedNote,
}

/// Every note recorded in entries of `kind` (checkpoint or witness), in
/// journal order. Entries are valid (append checked them), so they parse.
pub fn recorded_notes(ledger: &Ledger, kind: &str) -> Result<Vec<RecordedNote>, AuditError> {
    let ids = ledger.index().by_kind(kind).map_err(LedgerError::from)?;
    let mut out = Vec::new();
    for (seq, e) in ledger.load(&ids)? {
        if let Ok(note) = payload_note(&e.body().payload, "note") {
            out.push(RecordedNote { seq, entry: e.id(), party: e.body().author.party.clone(), note });
        }
    }
    Ok(out)
}

/// The notes party `witness` cosigned for `origin`, in journal order.
pub fn witnessed_by(ledger: &Ledger, witness: &str, origin: &str) -> Result<Vec<SignedNote>, AuditError> {
    Ok(recorded_notes(ledger, KIND_WITNESS)?
        .into_iter()
        .filter(|r| r.party == witness && r.note.checkpoint.origin() == origin)
        .map(|r| r.note)
        .collect())
}

/// The newest checkpoint of one origin with what is known about it.
#[derive(Debug, Clone)]
pub struct OriginStatus {
    /// The origin (`vereffen/<ledger>/<party>`).
    pub origin: String,
    /// The newest (largest) checkpoint, with every signature line recorded
    /// for it in this copy (its keeper's and the witnesses').
    pub latest: SignedNote,
    /// Witness cosignatures of `latest` that verify against the registry.
    pub cosignatures: Vec<Cosignature>,
    /// How many distinct checkpoints of this origin this copy holds.
    pub checkpoints: usize,
}

/// Per origin, the latest checkpoint and its verified cosignatures, from
/// the `audit.checkpoint` and `audit.witness` entries of this copy.
pub fn latest_checkpoints(ledger: &Ledger) -> Result<Vec<OriginStatus>, AuditError> {
    let mut notes = recorded_notes(ledger, KIND_CHECKPOINT)?;
    notes.extend(recorded_notes(ledger, KIND_WITNESS)?);
    let mut by_origin: BTreeMap<String, Vec<SignedNote>> = BTreeMap::new();
    for r in notes {
        by_origin.entry(r.note.checkpoint.origin().to_string()).or_default().push(r.note);
    }
    let verifiers = registry_verifiers(ledger.registry());
    let mut out = Vec::new();
    for (origin, notes) in by_origin {
        let Some(newest) = notes.iter().max_by_key(|n| n.checkpoint.size()) else { continue };
        let mut latest = newest.clone();
        merge_signatures(&mut latest, &notes);
        let cosignatures =
            checkpoint::verify(&latest, &verifiers).map(|v| v.cosignatures().to_vec()).unwrap_or_default();
        let mut distinct: Vec<&Checkpoint> = notes.iter().map(|n| &n.checkpoint).collect();
        distinct.sort_by_key(|c| (c.size(), *c.root()));
        distinct.dedup();
        out.push(OriginStatus { origin, latest, cosignatures, checkpoints: distinct.len() });
    }
    Ok(out)
}

/// Equivocation evidence in this copy: recorded `audit.equivocation`
/// entries, plus pairs of recorded checkpoints (from checkpoint and witness
/// entries) with one origin and size but different roots.
pub fn equivocations(ledger: &Ledger) -> Result<Vec<Equivocation>, AuditError> {
    let mut ids = ledger.index().by_kind(KIND_EQUIVOCATION).map_err(LedgerError::from)?;
    ids.extend(ledger.index().by_kind(KIND_CHECKPOINT).map_err(LedgerError::from)?);
    ids.extend(ledger.index().by_kind(KIND_WITNESS).map_err(LedgerError::from)?);
    let entries: Vec<Entry> = ledger.load(&ids)?.into_iter().map(|(_, e)| e).collect();
    Ok(equivocations_in(&entries))
}

/// [`equivocations`] over entries given directly (any kinds; entries of
/// other kinds are ignored), in the order given: the `audit.equivocation`
/// entries first, then pairs of checkpoints in the order their entries
/// come. Used by views that read a journal without its index
/// (`crate::audit::inbox`).
pub fn equivocations_in(entries: &[Entry]) -> Vec<Equivocation> {
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.kind() == KIND_EQUIVOCATION) {
        if let Ok(ev) = Equivocation::from_payload(&e.body().payload) {
            out.push(ev);
        }
    }
    // Checkpoint entries before witness entries, each in the order given
    // (journal order), as the recorded notes were always read.
    let notes = [KIND_CHECKPOINT, KIND_WITNESS].into_iter().flat_map(|kind| {
        entries.iter().filter(move |e| e.kind() == kind).filter_map(|e| payload_note(&e.body().payload, "note").ok())
    });
    let mut seen: BTreeMap<(String, u64), SignedNote> = BTreeMap::new();
    for note in notes {
        let key = (note.checkpoint.origin().to_string(), note.checkpoint.size());
        match seen.get(&key) {
            None => {
                seen.insert(key, note);
            }
            Some(first) if first.checkpoint.root() != note.checkpoint.root() => {
                let ev = Equivocation {
                    finding: Finding::SameSizeDifferentRoot,
                    first: first.clone(),
                    second: note,
                    proof: vec![],
                };
                // The same pair in either order is one finding.
                let (a, b) = (&ev.first.checkpoint, &ev.second.checkpoint);
                let known = out.iter().any(|o: &Equivocation| {
                    let (x, y) = (&o.first.checkpoint, &o.second.checkpoint);
                    o.finding == ev.finding && ((x == a && y == b) || (x == b && y == a))
                });
                if !known {
                    out.push(ev);
                }
            }
            Some(_) => {}
        }
    }
    out
}

/// Checks this copy's own recorded checkpoints (origin `origin`) against
/// its tree: a checkpoint of size `n` must have the root of the first `n`
/// leaves. Returns one message per mismatch (empty when all match).
pub fn check_own_checkpoints(ledger: &Ledger, origin: &str) -> Result<Vec<String>, AuditError> {
    let notes = recorded_notes(ledger, KIND_CHECKPOINT)?;
    if !notes.iter().any(|r| r.note.checkpoint.origin() == origin) {
        return Ok(vec![]);
    }
    let leaves = ledger.index().leaf_hashes().map_err(LedgerError::from)?;
    Ok(check_checkpoints_against(&notes, &leaves, origin))
}

/// [`check_own_checkpoints`] over facts read from the journal itself (no
/// index): the `audit.checkpoint` entries with their sequence numbers and
/// every Merkle leaf hash in journal order. Used by `verify`, which must not
/// depend on derived data.
pub fn check_own_checkpoints_in(checkpoints: &[(u64, Entry)], leaves: &[Hash], origin: &str) -> Vec<String> {
    let notes: Vec<RecordedNote> = checkpoints
        .iter()
        .filter(|(_, e)| e.kind() == KIND_CHECKPOINT)
        .filter_map(|(seq, e)| {
            let note = payload_note(&e.body().payload, "note").ok()?;
            Some(RecordedNote { seq: *seq, entry: e.id(), party: e.body().author.party.clone(), note })
        })
        .collect();
    check_checkpoints_against(&notes, leaves, origin)
}

fn check_checkpoints_against(notes: &[RecordedNote], leaves: &[Hash], origin: &str) -> Vec<String> {
    let own: Vec<&RecordedNote> = notes.iter().filter(|r| r.note.checkpoint.origin() == origin).collect();
    let mut problems = Vec::new();
    for r in own {
        let cp = &r.note.checkpoint;
        match merkle::range_root(leaves, 0, cp.size()) {
            Ok(root) if root == *cp.root() => {}
            Ok(_) => problems.push(format!(
                "the checkpoint recorded at sequence {} (size {}) does not match the first {} entries of this copy: the copy was rewritten after it was checkpointed",
                r.seq,
                cp.size(),
                cp.size()
            )),
            Err(_) => problems.push(format!(
                "the checkpoint recorded at sequence {} has size {}, but this copy has only {} entries: entries were removed",
                r.seq,
                cp.size(),
                leaves.len()
            )),
        }
    }
    problems
}

/// The origin this copy's checkpoints use, if one was recorded in `dir`.
pub fn copy_origin(dir: &Path) -> Result<Option<String>, AuditError> {
    match std::fs::read_to_string(dir.join(ORIGIN_FILE)) {
        Ok(text) => Ok(Some(text.trim_end().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => refused(format!("{}: {e}", dir.join(ORIGIN_FILE).display())),
    }
}

/// Records `origin` as this copy's origin in `dir`.
pub fn set_copy_origin(dir: &Path, origin: &str) -> Result<(), AuditError> {
    let path = dir.join(ORIGIN_FILE);
    std::fs::write(&path, format!("{origin}\n")).or_else(|e| refused(format!("{}: {e}", path.display())))
}

// ---------------------------------------------------------------------------
// Proof bundles

/// Canonical padded base64 (one text per byte string).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(text.as_bytes()).ok()?;
    (BASE64.encode(&bytes) == text).then_some(bytes)
}

/// An inclusion proof: an entry is leaf `index` of a signed checkpoint's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionBundle {
    /// The entry's wire bytes (`docs/FORMAT.md` 3.4); the leaf is their hash.
    pub entry: Vec<u8>,
    /// 0-based leaf index (journal sequence number - 1 in the proving copy).
    pub index: u64,
    /// The audit path, deepest sibling first.
    pub path: Vec<Hash>,
    /// Verifier keys for every signature line of the checkpoint.
    pub keys: Vec<Verifier>,
    /// The signed checkpoint the proof is against.
    pub checkpoint: SignedNote,
}

/// A consistency proof: the new signed checkpoint's tree extends the old one's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyBundle {
    /// The consistency path (RFC 9162 2.1.4).
    pub path: Vec<Hash>,
    /// Verifier keys for every signature line of both checkpoints.
    pub keys: Vec<Verifier>,
    /// The older checkpoint.
    pub old: SignedNote,
    /// The newer checkpoint.
    pub new: SignedNote,
}

/// A proof file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofBundle {
    /// An inclusion proof.
    Inclusion(InclusionBundle),
    /// A consistency proof.
    Consistency(ConsistencyBundle),
}

/// Verifier keys for the signature lines of `notes`, from the registry.
pub fn keys_for(notes: &[&SignedNote], reg: &Registry) -> Result<Vec<Verifier>, AuditError> {
    let all = registry_verifiers(reg);
    let mut out: Vec<Verifier> = Vec::new();
    for s in notes.iter().flat_map(|n| &n.signatures) {
        let Some(v) = all.iter().find(|v| v.name() == s.name && v.key_hash() == s.key_hash) else {
            return refused(format!(
                "signature line of {} is from a key this copy does not know; import the party's registration first",
                s.name
            ));
        };
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(out)
}

/// A line-based reader over the bundle text that never panics.
struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.rest.split_once('\n').map(|(line, _)| line)
    }

    fn next(&mut self, what: &str) -> Result<&'a str, AuditError> {
        let Some((line, rest)) = self.rest.split_once('\n') else {
            return Err(AuditError::Malformed(format!("expected {what}, found the end of the file")));
        };
        self.rest = rest;
        Ok(line)
    }

    /// `"<word> <value>"`, returning value.
    fn field(&mut self, word: &str) -> Result<&'a str, AuditError> {
        let line = self.next(&format!("a '{word}' line"))?;
        line.strip_prefix(word)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| AuditError::Malformed(format!("expected a '{word} ...' line, found {:?}", truncate(line))))
    }

    fn hashes(&mut self) -> Result<Vec<Hash>, AuditError> {
        let mut out = Vec::new();
        while self.peek().is_some_and(|l| l.starts_with("path ")) {
            let text = self.field("path")?;
            let hash = decode_base64(text).and_then(|b| Hash::try_from(b.as_slice()).ok()).ok_or_else(|| {
                AuditError::Malformed(format!("path hash {:?} is not base64 of 32 bytes", truncate(text)))
            })?;
            if out.len() == merkle::MAX_PROOF_HASHES {
                return Err(AuditError::Malformed("more than 128 path hashes".into()));
            }
            out.push(hash);
        }
        Ok(out)
    }

    fn keys(&mut self) -> Result<Vec<Verifier>, AuditError> {
        let mut out = Vec::new();
        while self.peek().is_some_and(|l| l.starts_with("key ")) {
            if out.len() == MAX_KEY_LINES {
                return Err(AuditError::Malformed("too many key lines".into()));
            }
            out.push(Verifier::from_vkey(self.field("key")?)?);
        }
        Ok(out)
    }

    /// `"<word> <len>\n"` then exactly `len` bytes of signed note.
    fn note(&mut self, word: &str) -> Result<SignedNote, AuditError> {
        let len_text = self.field(word)?;
        let len: usize = parse_decimal(len_text).and_then(|n| usize::try_from(n).ok()).ok_or_else(|| {
            AuditError::Malformed(format!("'{word}' needs the byte length of the checkpoint that follows"))
        })?;
        if len > self.rest.len() || !self.rest.is_char_boundary(len) {
            return Err(AuditError::Malformed(format!(
                "the {word} checkpoint is said to be {len} bytes but the file ends or breaks a character before that"
            )));
        }
        let (text, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(SignedNote::parse(text)?)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Canonical decimal: digits only, no leading zeros.
fn parse_decimal(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (digits && (text == "0" || !text.starts_with('0'))).then(|| text.parse().ok()).flatten()
}

impl ProofBundle {
    /// The bundle text (`docs/FORMAT.md` 10.5).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let push_path = |out: &mut String, path: &[Hash]| {
            for h in path {
                out.push_str(&format!("path {}\n", BASE64.encode(h)));
            }
        };
        let push_keys = |out: &mut String, keys: &[Verifier]| {
            for k in keys {
                out.push_str(&format!("key {}\n", k.to_vkey()));
            }
        };
        let push_note = |out: &mut String, word: &str, note: &SignedNote| {
            let text = note.to_text();
            out.push_str(&format!("{word} {}\n{text}", text.len()));
        };
        match self {
            ProofBundle::Inclusion(b) => {
                out.push_str(&format!("{INCLUSION_HEADER}\nindex {}\nentry {}\n", b.index, BASE64.encode(&b.entry)));
                push_path(&mut out, &b.path);
                push_keys(&mut out, &b.keys);
                push_note(&mut out, "checkpoint", &b.checkpoint);
            }
            ProofBundle::Consistency(b) => {
                out.push_str(&format!("{CONSISTENCY_HEADER}\n"));
                push_path(&mut out, &b.path);
                push_keys(&mut out, &b.keys);
                push_note(&mut out, "old", &b.old);
                push_note(&mut out, "new", &b.new);
            }
        }
        out
    }

    /// Parses a bundle strictly from arbitrary bytes: any deviation from the
    /// form [`ProofBundle::to_text`] writes is an error, never a panic.
    pub fn parse(bytes: &[u8]) -> Result<Self, AuditError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(AuditError::Malformed(format!(
                "it is {} bytes, more than the {MAX_BUNDLE_BYTES} allowed",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| AuditError::Malformed("it is not UTF-8 text; proof files are plain text".into()))?;
        let mut lines = Lines { rest: text };
        let bundle = match lines.next("the header line")? {
            INCLUSION_HEADER => {
                let index = parse_decimal(lines.field("index")?)
                    .ok_or_else(|| AuditError::Malformed("index is not a decimal number".into()))?;
                let entry_text = lines.field("entry")?;
                let entry = decode_base64(entry_text)
                    .ok_or_else(|| AuditError::Malformed("entry is not canonical base64".into()))?;
                let path = lines.hashes()?;
                let keys = lines.keys()?;
                let checkpoint = lines.note("checkpoint")?;
                ProofBundle::Inclusion(InclusionBundle { entry, index, path, keys, checkpoint })
            }
            CONSISTENCY_HEADER => {
                let path = lines.hashes()?;
                let keys = lines.keys()?;
                let old = lines.note("old")?;
                let new = lines.note("new")?;
                ProofBundle::Consistency(ConsistencyBundle { path, keys, old, new })
            }
            other => {
                return Err(AuditError::Malformed(format!(
                    "it starts with {:?}, not {INCLUSION_HEADER:?} or {CONSISTENCY_HEADER:?}",
                    truncate(other)
                )))
            }
        };
        if !lines.rest.is_empty() {
            return Err(AuditError::Malformed("there are bytes after the last checkpoint".into()));
        }
        if bundle.to_text().as_bytes() != bytes {
            return Err(AuditError::Malformed("it is not in the one canonical form".into()));
        }
        Ok(bundle)
    }
}

/// What a verified proof establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofReport {
    /// The origin the checkpoints name.
    pub origin: String,
    /// For an inclusion proof: the entry id, its kind, and leaf index.
    pub entry: Option<(EntryId, String, u64)>,
    /// Tree sizes: (size) for inclusion, (old, new) for consistency.
    pub sizes: (u64, u64),
    /// Trusted signer key names whose signature verified.
    pub signers: Vec<String>,
    /// Witness cosignatures that verified (keys embedded in the bundle).
    pub cosignatures: Vec<Cosignature>,
}

/// Verifies a note with the bundle's keys and requires a signature by one of
/// the `trusted` keys that belongs to the origin's party.
fn verify_note(
    note: &SignedNote,
    keys: &[Verifier],
    trusted: &[VerifyingKey],
) -> Result<checkpoint::VerifiedCheckpoint, AuditError> {
    for s in &note.signatures {
        if !keys.iter().any(|k| k.name() == s.name && k.key_hash() == s.key_hash) {
            return Err(AuditError::Malformed(format!("the signature line of {} has no key line in the file", s.name)));
        }
    }
    let verified = checkpoint::verify(note, keys)?;
    let origin = note.checkpoint.origin();
    let Some((_, party)) = parse_origin(origin) else {
        return refused(format!("checkpoint origin {origin:?} is not a vereffen copy (vereffen/<ledger>/<party>)"));
    };
    // The signer's key name must be exactly `<party>/<fingerprint of that
    // key>`: the party of the origin and the fingerprint of the trusted key
    // itself, not any text after the slash.
    let trusted_signer = verified.signers().iter().any(|name| {
        keys.iter().any(|k| {
            k.name() == name
                && k.kind() == KeyKind::Signer
                && trusted.contains(k.key())
                && *name == key_name(party, k.key())
        })
    });
    if !trusted_signer {
        let names = verified.signers().join(", ");
        return Err(AuditError::Refused(format!(
            "the checkpoint of {origin} is signed by {names}, which is not a trusted key of party {party:?}: pass that party's public key with --key (its registered .pub file)"
        )));
    }
    Ok(verified)
}

/// Verifies a proof bundle offline: every signature line verifies under the
/// bundle's key lines, the checkpoint(s) are signed by a `trusted` key of the
/// copy's party, the origin is `expected_origin` when given, and the Merkle
/// proof holds.
pub fn verify_bundle(
    bundle: &ProofBundle,
    trusted: &[VerifyingKey],
    expected_origin: Option<&str>,
) -> Result<ProofReport, AuditError> {
    if trusted.is_empty() {
        return refused(
            "no trusted key given: pass the public key of the party that keeps the copy with --key FILE.pub",
        );
    }
    let check_origin = |cp: &Checkpoint| -> Result<(), AuditError> {
        if let Some(expected) = expected_origin {
            cp.check_origin(expected)?;
        }
        Ok(())
    };
    match bundle {
        ProofBundle::Inclusion(b) => {
            let cp = &b.checkpoint.checkpoint;
            check_origin(cp)?;
            let verified = verify_note(&b.checkpoint, &b.keys, trusted)?;
            let entry = Entry::decode(&b.entry)
                .map_err(|e| AuditError::Malformed(format!("the entry bytes are not an entry: {e}")))?;
            let (ledger, _) = parse_origin(cp.origin()).unwrap_or_default();
            if entry.body().ledger != ledger {
                return refused(format!(
                    "the entry belongs to ledger {:?}, the checkpoint to {:?}",
                    entry.body().ledger,
                    cp.origin()
                ));
            }
            merkle::verify_inclusion(b.index, cp.size(), &merkle::leaf_hash(&b.entry), &b.path, cp.root())?;
            Ok(ProofReport {
                origin: cp.origin().to_string(),
                entry: Some((entry.id(), entry.kind().to_string(), b.index)),
                sizes: (cp.size(), cp.size()),
                signers: verified.signers().to_vec(),
                cosignatures: verified.cosignatures().to_vec(),
            })
        }
        ProofBundle::Consistency(b) => {
            let (old, new) = (&b.old.checkpoint, &b.new.checkpoint);
            check_origin(old)?;
            check_origin(new)?;
            if old.origin() != new.origin() {
                return Err(CheckpointError::OriginMismatch {
                    found: new.origin().to_string(),
                    expected: old.origin().to_string(),
                }
                .into());
            }
            verify_note(&b.old, &b.keys, trusted)?;
            let verified = verify_note(&b.new, &b.keys, trusted)?;
            merkle::verify_consistency(old.size(), new.size(), old.root(), new.root(), &b.path)?;
            Ok(ProofReport {
                origin: new.origin().to_string(),
                entry: None,
                sizes: (old.size(), new.size()),
                signers: verified.signers().to_vec(),
                cosignatures: verified.cosignatures().to_vec(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn origins_and_key_names() {
        assert_eq!(origin("copd", "zh"), "vereffen/copd/zh");
        assert_eq!(parse_origin("vereffen/copd/zh"), Some(("copd", "zh")));
        assert_eq!(parse_origin("vereffen/copd"), None);
        assert_eq!(parse_origin("vereffen/copd/zh/x"), None);
        assert_eq!(parse_origin("other/copd/zh"), None);
        let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let name = key_name("zh", &key);
        assert!(checkpoint::check_key_name(&name).is_ok());
        assert_eq!(key_name_party(&name), "zh");
    }

    fn note(size: u64, root_byte: u8, key: &SigningKey) -> SignedNote {
        let cp = Checkpoint::new("vereffen/l/zh", size, [root_byte; 32]).unwrap();
        SignedNote::sign(cp, &key_name("zh", &key.verifying_key()), key).unwrap()
    }

    /// In a proof file the keeper's signature line must be named
    /// `<party>/<fingerprint of the signing key>`: a trusted key under a
    /// key name with another fingerprint, or without one, is not accepted.
    #[test]
    fn proof_signer_names_carry_the_keys_own_fingerprint() {
        let key = SigningKey::from_bytes(&[6; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let leaves: Vec<Hash> = (0..6u8).map(|i| merkle::leaf_hash(&[i])).collect();
        let path = merkle::consistency_proof(&leaves, 2, 6).unwrap();
        let bundle_named = |name: &str| {
            let at = |n: u64| {
                let cp = Checkpoint::new("vereffen/l/zh", n, merkle::root_of(&leaves[..n as usize])).unwrap();
                SignedNote::sign(cp, name, &key).unwrap()
            };
            let keys = vec![Verifier::new(name, key.verifying_key(), KeyKind::Signer).unwrap()];
            ProofBundle::Consistency(ConsistencyBundle { path: path.clone(), keys, old: at(2), new: at(6) })
        };
        let trusted = [key.verifying_key()];
        let good = bundle_named(&key_name("zh", &key.verifying_key()));
        assert!(verify_bundle(&good, &trusted, None).is_ok());
        for name in [key_name("zh", &other.verifying_key()), "zh/AAAA-AAAA-AAAA-AAAA".into(), "zh".into()] {
            let err = verify_bundle(&bundle_named(&name), &trusted, None).unwrap_err().to_string();
            assert!(err.contains("not a trusted key"), "{name}: {err}");
        }
    }

    #[test]
    fn witness_decisions() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let leaves: Vec<Hash> = (0..10u8).map(|i| merkle::leaf_hash(&[i])).collect();
        let at = |n: u64| {
            let cp = Checkpoint::new("vereffen/l/zh", n, merkle::root_of(&leaves[..n as usize])).unwrap();
            SignedNote::sign(cp, &key_name("zh", &key.verifying_key()), &key).unwrap()
        };
        let (n4, n9) = (at(4), at(9));
        assert_eq!(decide_witness(&[], &n4, None), Ok(WitnessDecision::First));
        assert_eq!(decide_witness(std::slice::from_ref(&n4), &n4, None), Ok(WitnessDecision::Same));
        assert!(matches!(
            decide_witness(std::slice::from_ref(&n4), &n9, None),
            Err(WitnessRefusal::ProofNeeded { old: 4, new: 9 })
        ));
        let path = merkle::consistency_proof(&leaves, 4, 9).unwrap();
        let proof = ConsistencyBundle { path: path.clone(), keys: vec![], old: n4.clone(), new: n9.clone() };
        assert_eq!(
            decide_witness(std::slice::from_ref(&n4), &n9, Some(&proof)),
            Ok(WitnessDecision::Extends { from: 4 })
        );
        assert!(matches!(decide_witness(std::slice::from_ref(&n9), &n4, None), Err(WitnessRefusal::Stale { .. })));
        let forged = note(4, 7, &key);
        match decide_witness(&[n4.clone(), n9.clone()], &forged, None) {
            Err(WitnessRefusal::Equivocation(ev)) => assert_eq!(ev.finding, Finding::SameSizeDifferentRoot),
            other => panic!("{other:?}"),
        }
        let fork = note(9, 8, &key);
        let bad = ConsistencyBundle { path, keys: vec![], old: n4.clone(), new: fork.clone() };
        // A proof that fails is an error, never equivocation evidence.
        match decide_witness(std::slice::from_ref(&n4), &fork, Some(&bad)) {
            Err(WitnessRefusal::ProofInvalid { old: 4, new: 9, .. }) => {}
            other => panic!("{other:?}"),
        }
        match decide_witness(&[n4.clone(), n9.clone()], &forged, None) {
            Err(WitnessRefusal::Equivocation(ev)) => {
                let back = Equivocation::from_payload(&ev.payload()).unwrap();
                assert_eq!(back, *ev);
                assert!(ev.report().contains(&n4.to_text()) && ev.report().contains(&forged.to_text()));
            }
            other => panic!("{other:?}"),
        }
        let legacy = json!({"finding": REFUSED_FINDING_NOT_CONSISTENT, "first": n4.to_text(), "second": n9.to_text(), "proof": ""});
        let err = Equivocation::from_payload(&legacy).unwrap_err();
        assert!(err.contains("refused"), "{err}");
    }
}
