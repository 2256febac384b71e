//! Settlements on a ledger: computing a year's statement from a contract's
//! signed facts, the `settlement.sign` entry that co-signs it, and where each
//! year stands (open, signed by whom, settled, in conflict).
//!
//! # The statement hash
//!
//! A statement is identified by the blake3 hash of the canonical JSON of
//! `{"draft", "engine", "inputs", "statement"}`: whether it is a draft, the
//! engine version ([`ENGINE_VERSION`]), the ids of the measurement entries it
//! used, and the statement's **signed form** ([`Statement::signed_form`]:
//! numbers, parties, streams, inputs, carried state; no labels or
//! formulas, so wording can change without invalidating a signature). Two
//! copies that hold the same facts compute the same hash; a signed hash is
//! never a draft's. A signature also names the settled previous-year
//! statement it starts from (`previous`) and the engine version it was
//! computed by (`engine`). An entry without `engine` was signed by engine
//! version 1, which hashed the whole statement with its English words
//! (`{"draft", "inputs", "statement"}`); it is replayed by that rule
//! ([`Statement::v1_value`]), so journals written before still verify.
//!
//! # Validity of a `settlement.sign` entry
//!
//! As everywhere in vereffen, validity depends only on the entry and the
//! entries it references ([`check`]), never on arrival order:
//!
//! * references, in order: the contract version entry, every input
//!   measurement (in the payload's order), and, for every year after the
//!   first, one `settlement.sign` entry of the previous year whose statement
//!   hash is the payload's `previous`;
//! * the author is a signatory party of that version, the year lies in the
//!   version's term and is not before its effective year;
//! * **replay**: the statement is recomputed from the referenced inputs
//!   (taken as agreed), the version's terms and the state carried out of the
//!   referenced previous statement; it must equal the recorded statement and
//!   hash exactly. A statement that does not follow from its signed inputs
//!   can therefore never enter any copy, and `verify` recomputes every one.
//!
//! # Settled
//!
//! A year is **settled** with statement hash H when every signatory of the
//! version governing the year signed H. A later statement that all
//! signatories sign with `replaces: H` (an explicit **resettlement**)
//! supersedes H. [`SettlementStatus`] reports, per year, the signatures per
//! hash, the settled hash, and **conflicts**: an input of the settled
//! statement that was later corrected or disputed, a settled statement built
//! on a previous year that was since resettled, two settled statements
//! neither of which replaces the other.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::inputs::{inputs_for_year, Blocker};
use super::{settle_year, Carry, SettleError, Statement, ENGINE_VERSION};
use crate::domain::measurement::{self as meas, Measurement, State};
use crate::domain::negotiation::{self as neg, ContractStatus};
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::registry::RuleError;

/// A signatory's signature on a year's statement.
pub const KIND_SIGN: &str = "settlement.sign";

/// Every settlement kind.
pub const KINDS: &[&str] = &[KIND_SIGN];

/// The payload of a `settlement.sign` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignPayload {
    /// Contract id.
    pub contract: String,
    /// Contract year.
    pub year: u16,
    /// Version hash of the contract version that governs the year.
    pub version: String,
    /// The statement hash (see the module docs).
    pub statement_hash: String,
    /// Ids of the measurement entries used, sorted.
    pub inputs: Vec<String>,
    /// Statement hash of the settled previous year; `null` for the first year.
    pub previous: Option<String>,
    /// Statement hash of the settled statement this one replaces (a resettlement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// The engine version that computed the statement ([`ENGINE_VERSION`]);
    /// absent in entries of engine version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The statement: its signed form ([`Statement::signed_form`]), or under
    /// engine version 1 the whole statement with its words.
    pub statement: Value,
}

fn err<T>(msg: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError(msg.into()))
}

/// The statement hash of a statement document (see the module docs) under
/// `engine` (`None`: engine version 1, whose document has no `engine`), or
/// why the document has no canonical encoding (a float or an integer beyond
/// 2^53-1 in `statement`). Never a hash of other bytes: two different
/// statements must not share a hash.
pub fn statement_hash(
    engine: Option<&str>,
    draft: bool,
    inputs: &[String],
    statement: &Value,
) -> Result<String, crate::ledger::canonical::CanonicalError> {
    let doc = match engine {
        Some(engine) => json!({"draft": draft, "engine": engine, "inputs": inputs, "statement": statement}),
        None => json!({"draft": draft, "inputs": inputs, "statement": statement}),
    };
    let bytes = crate::ledger::canonical::encode(&doc)?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

/// Reads the payload of a settlement entry.
pub fn payload_of(e: &Entry) -> Result<SignPayload, RuleError> {
    if e.kind() != KIND_SIGN {
        return err(format!("{} is not a settlement entry", e.kind()));
    }
    serde_json::from_value(e.body().payload.clone())
        .map_err(|x| RuleError(format!("{} payload is malformed: {x}", e.kind())))
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The carried state recorded in a statement value.
fn carry_of(statement: &Value) -> Result<Carry, RuleError> {
    serde_json::from_value(statement.get("carry_out").cloned().unwrap_or(Value::Null))
        .map_err(|x| RuleError(format!("the previous statement's carried state is malformed: {x}")))
}

/// Measurements built from input entries only, each taken as agreed unless
/// the inputs themselves supersede or contradict it.
fn as_agreed(contract: &str, inputs: &[Entry], lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> Vec<Measurement> {
    let mut ms = meas::states(contract, inputs, lookup);
    for m in &mut ms {
        if matches!(m.state, State::Pending { .. }) {
            m.state = State::Agreed;
        }
    }
    ms
}

/// The first line where two statement values differ, in words.
pub fn first_difference(recorded: &Value, computed: &Value) -> String {
    match differing_lines(recorded, computed).into_iter().next() {
        Some((id, a, b)) => format!("line {id}: recorded {a}, recomputed {b}"),
        None => "the statements differ".into(),
    }
}

/// Checks the validity of a `settlement.sign` entry (see the module docs),
/// including the replay of its statement.
pub fn check(e: &Entry, lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> Result<(), RuleError> {
    let (p, statement) = replay(e, lookup)?;
    // The replay rule of the engine version the signature names.
    let value = match p.engine.as_deref() {
        None => statement.v1_value(),
        Some(ENGINE_VERSION) => statement.signed_form(),
        Some(other) => {
            return err(format!(
                "the settlement names engine {other:?}; this vereffen replays {ENGINE_VERSION:?} and version 1 (no `engine`): use a vereffen that knows {other:?}"
            ))
        }
    }
    .map_err(|x| RuleError(x.to_string()))?;
    if value != p.statement {
        return err(format!(
            "the recorded statement does not follow from its signed inputs: {}",
            first_difference(&p.statement, &value)
        ));
    }
    let hash = statement_hash(p.engine.as_deref(), false, &p.inputs, &value)
        .map_err(|x| RuleError(format!("the recomputed statement has no canonical form: {x}")))?;
    if hash != p.statement_hash {
        return err("the statement hash does not match the recorded statement");
    }
    Ok(())
}

/// The statement a `settlement.sign` entry signs, recomputed from what it
/// references alone (its contract version, its inputs taken as agreed, the
/// carried state of its previous-year settlement), with its payload: every
/// rule of [`check`] except the comparison with the recorded statement.
/// The recomputed statement has its words (labels, formulas), which the
/// signed form leaves out; for an entry that passed [`check`] (every entry
/// in a ledger) it is exactly the statement that was signed. A pure
/// function of the entry and the entries it references.
pub fn replay(e: &Entry, lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> Result<(SignPayload, Statement), RuleError> {
    let p = payload_of(e)?;
    let author = e.body().author.party.as_str();
    let refs: Vec<EntryId> = e.body().ref_ids().collect();
    if !is_hash(&p.statement_hash) || p.previous.as_deref().is_some_and(|h| !is_hash(h)) {
        return err("statement hashes are 64 lowercase hex characters");
    }
    if let Some(r) = &p.replaces {
        if !is_hash(r) || *r == p.statement_hash {
            return err("`replaces` names another statement hash (64 lowercase hex characters)");
        }
    }
    // The contract version.
    let Some(version_entry) = refs.first().and_then(lookup) else {
        return err("a settlement references the contract version first; it is not in this ledger");
    };
    if !matches!(version_entry.kind(), neg::KIND_PROPOSE | neg::KIND_COUNTER | neg::KIND_AMEND) {
        return err(format!("the first reference must be a contract version, not a {}", version_entry.kind()));
    }
    let (vp, terms) = neg::offer_terms(&version_entry)?;
    if vp.contract != p.contract || vp.version != p.version {
        return err("the referenced contract version is not the one the settlement names");
    }
    if !terms.parties.iter().any(|q| q.id == author && q.signatory) {
        return err(format!(
            "{author:?} is not a signatory of contract {:?}; only signatories sign settlements",
            p.contract
        ));
    }
    if !terms.term.years().contains(&p.year) || p.year < neg::effective_from(&vp, &terms) {
        return err(format!("version {} does not govern {}", &p.version[..12.min(p.version.len())], p.year));
    }
    // The inputs.
    let mut sorted = p.inputs.clone();
    sorted.sort();
    sorted.dedup();
    if sorted != p.inputs {
        return err("the input ids must be sorted and distinct");
    }
    let n = p.inputs.len();
    let previous_expected = usize::from(p.year > terms.term.first_year);
    if refs.len() != 1 + n + previous_expected || refs[1..1 + n].iter().zip(&p.inputs).any(|(r, i)| r.to_hex() != *i) {
        return err(
            "a settlement references the contract version, each input measurement in payload order, and (after the first year) a settlement of the previous year",
        );
    }
    let mut inputs = Vec::with_capacity(n);
    for id in &refs[1..1 + n] {
        let m = lookup(id).ok_or_else(|| RuleError(format!("input {} is not in this ledger", id.short())))?;
        if !matches!(m.kind(), meas::KIND_SUBMIT | meas::KIND_CORRECT) || m.contract() != Some(p.contract.as_str()) {
            return err(format!("input {} is not a measurement of contract {:?}", id.short(), p.contract));
        }
        inputs.push(m);
    }
    // The carried state.
    let carry = if previous_expected == 1 {
        let prev =
            lookup(&refs[1 + n]).ok_or_else(|| RuleError("the previous settlement is not in this ledger".into()))?;
        let pp = payload_of(&prev)?;
        if pp.contract != p.contract
            || pp.year.checked_add(1) != Some(p.year)
            || Some(&pp.statement_hash) != p.previous.as_ref()
        {
            return err(format!(
                "the last reference must be a settlement of {} {} with statement hash `previous`",
                p.contract,
                p.year.saturating_sub(1)
            ));
        }
        carry_of(&pp.statement)?
    } else {
        if p.previous.is_some() {
            return err("the first contract year has no previous statement");
        }
        Carry::initial(&terms)
    };
    // Replay.
    let ms = as_agreed(&p.contract, &inputs, lookup);
    let yi = inputs_for_year(&terms, p.year, &ms, false).map_err(|b| {
        let list: Vec<String> = b.iter().map(Blocker::to_string).collect();
        RuleError(format!("the recorded inputs do not cover the settlement: {}", list.join("; ")))
    })?;
    if yi.entries != p.inputs {
        return err("the recorded inputs are not exactly the figures the settlement uses");
    }
    let statement = settle_year(&terms, &yi.inputs, &carry)
        .map_err(|x| RuleError(format!("the statement cannot be recomputed: {x}")))?;
    Ok((p, statement))
}

/// One party's signature on a statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signed {
    /// The signing entry.
    pub entry: String,
    /// The author's claimed time.
    pub time: String,
    /// The settled statement it replaces, if any.
    pub replaces: Option<String>,
}

/// A statement hash with its signatures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signatures {
    /// The statement hash.
    pub hash: String,
    /// The payload (the first signature's; all carry the same statement).
    pub payload: SignPayload,
    /// Signatures by party.
    pub by: BTreeMap<String, Signed>,
}

/// Where one contract year's settlement stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearSettlement {
    /// The year.
    pub year: u16,
    /// The signatories of the version governing the year.
    pub signatories: Vec<String>,
    /// Version hash governing the year, if the contract is in force.
    pub version: Option<String>,
    /// Every signed statement of the year, by hash.
    pub statements: BTreeMap<String, Signatures>,
    /// The settled statement in force.
    pub settled: Option<String>,
    /// Settled statements replaced by a resettlement.
    pub replaced: Vec<String>,
    /// Conflicts that need a resettlement (structured; the JSON carries
    /// each as its reference English, [`Conflict`]'s `Display`).
    pub conflicts: Vec<Conflict>,
}

/// A conflict of a settled year that needs a resettlement, as data: the
/// presentation layer words it in the reader's language
/// (`present::engine::conflict`); `Display` is the reference English (the
/// words of `settle status --json` and the audit report's JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Several statements are settled and none replaces the others.
    ManySettled {
        /// Their hashes (first 12 characters), in hash order.
        hashes: Vec<String>,
    },
    /// An input of the settled statement is void (its key was ended
    /// without it in the ending entry's causal past).
    InputVoid {
        /// The input's entry id (first 12 characters).
        input: String,
        /// The settled year.
        year: u16,
    },
    /// An input of the settled statement was corrected after settlement.
    InputCorrected {
        /// The figure's indicator.
        indicator: String,
        /// Its period.
        period: String,
        /// The input's entry id (first 12 characters).
        input: String,
        /// The correcting entry (first 12 characters).
        by: String,
        /// The settled year.
        year: u16,
    },
    /// An input of the settled statement is disputed.
    InputDisputed {
        /// The figure's indicator.
        indicator: String,
        /// Its period.
        period: String,
        /// The input's entry id (first 12 characters).
        input: String,
        /// The disputing parties.
        by: Vec<String>,
    },
    /// The settled statement starts from a previous-year statement that
    /// was resettled with another carried state.
    PreviousResettled {
        /// The previous year.
        previous_year: u16,
        /// The previous statement the settled one starts from (12 characters).
        recorded: String,
        /// The previous year's settled statement now (12 characters).
        now: String,
        /// The settled year.
        year: u16,
    },
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::ManySettled { hashes } => write!(
                f,
                "{} statements are settled and none replaces the others ({}): the signatories must agree on one and resettle",
                hashes.len(),
                hashes.join(", ")
            ),
            Conflict::InputVoid { input, year } => write!(
                f,
                "input {input} of the settled statement is void (signed with a key ended without it in the ending entry's causal past): the figure must be submitted again and {year} resettled"
            ),
            Conflict::InputCorrected { indicator, period, input, by, year } => write!(
                f,
                "input {indicator} {period} ({input}) was corrected by {by} after {year} was settled: resettle {year} to apply it"
            ),
            Conflict::InputDisputed { indicator, period, input, by } => write!(
                f,
                "input {indicator} {period} ({input}) of the settled statement is disputed by {}",
                by.join(", ")
            ),
            Conflict::PreviousResettled { previous_year, recorded, now, year } => write!(
                f,
                "the settled statement starts from {previous_year} statement {recorded}, which was resettled as {now}: resettle {year}"
            ),
        }
    }
}

impl Serialize for Conflict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl YearSettlement {
    /// The settled statement's signatures.
    pub fn settled_statement(&self) -> Option<&Signatures> {
        self.statements.get(self.settled.as_ref()?)
    }

    /// Whether every signatory of the year signed `hash` under the version
    /// governing the year (the statement was settled at some time, even if
    /// it has since been replaced).
    pub fn is_complete(&self, hash: &str) -> bool {
        self.statements.get(hash).is_some_and(|s| {
            self.version.as_deref() == Some(s.payload.version.as_str())
                && !self.signatories.is_empty()
                && self.signatories.iter().all(|p| s.by.contains_key(p))
        })
    }

    /// The **replaced statement** of the statement `is_shown` identifies
    /// (docs/FORMAT.md 5.8, "Replaced statement and correction payments"):
    /// what was settled, and so paid, before it.
    ///
    /// * When the shown statement is the settled one of the year: the
    ///   statement named in `replaces` by its signatures, if that statement
    ///   was settled (every signatory signed it) and the signatures name
    ///   exactly one such statement.
    /// * Otherwise, when the year is settled: the settled statement (the one
    ///   a resettlement with the shown statement would replace).
    /// * Otherwise (the year was never settled): none.
    ///
    /// `is_shown` says whether a hash names the shown statement (a computed
    /// statement also answers to its engine version 1 hash).
    pub fn replaced_statement(&self, is_shown: &dyn Fn(&str) -> bool) -> Option<&Signatures> {
        let settled = self.settled_statement()?;
        if !is_shown(&settled.hash) {
            return Some(settled);
        }
        let named: BTreeSet<&String> =
            settled.by.values().filter_map(|s| s.replaces.as_ref()).filter(|h| self.is_complete(h)).collect();
        match named.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => self.statements.get(*one),
            _ => None,
        }
    }

    /// Signatories that have not signed `hash`.
    pub fn waiting_for(&self, hash: &str) -> Vec<String> {
        let signed = self.statements.get(hash).map(|s| &s.by);
        self.signatories.iter().filter(|p| signed.is_none_or(|b| !b.contains_key(*p))).cloned().collect()
    }
}

fn short(h: &str) -> &str {
    &h[..12.min(h.len())]
}

/// The settlement state of every year of a contract, from its entries (any
/// order) and its measurements' states.
pub fn status(contract: &ContractStatus, entries: &[Entry], ms: &[Measurement]) -> BTreeMap<u16, YearSettlement> {
    let mut years: BTreeMap<u16, YearSettlement> = BTreeMap::new();
    let Some(base) = contract.base.as_ref().and_then(|b| contract.versions.get(b)) else { return years };
    for y in base.terms.term.years() {
        let gov = contract.governing(y);
        years.insert(
            y,
            YearSettlement {
                year: y,
                signatories: gov.map(|v| v.signatories.clone()).unwrap_or_default(),
                version: gov.map(|v| v.version.clone()),
                statements: BTreeMap::new(),
                settled: None,
                replaced: Vec::new(),
                conflicts: Vec::new(),
            },
        );
    }
    for e in entries.iter().filter(|e| e.kind() == KIND_SIGN) {
        let Ok(p) = payload_of(e) else { continue };
        if p.contract != contract.contract {
            continue;
        }
        let Some(ys) = years.get_mut(&p.year) else { continue };
        let sigs = ys.statements.entry(p.statement_hash.clone()).or_insert_with(|| Signatures {
            hash: p.statement_hash.clone(),
            payload: p.clone(),
            by: BTreeMap::new(),
        });
        let signed = Signed { entry: e.id().to_hex(), time: e.body().time.clone(), replaces: p.replaces.clone() };
        // Deterministic choice when a party signed the same hash twice: the smallest entry id.
        match sigs.by.get(&e.body().author.party) {
            Some(s) if s.entry <= signed.entry => {}
            _ => {
                sigs.by.insert(e.body().author.party.clone(), signed);
            }
        }
    }
    let by_id: BTreeMap<&str, &Measurement> = ms.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut settled_by_year: BTreeMap<u16, Option<String>> = BTreeMap::new();
    for ys in years.values_mut() {
        let complete: Vec<String> = ys
            .statements
            .values()
            .filter(|s| {
                ys.version.as_deref() == Some(s.payload.version.as_str())
                    && !ys.signatories.is_empty()
                    && ys.signatories.iter().all(|p| s.by.contains_key(p))
            })
            .map(|s| s.hash.clone())
            .collect();
        let replaced: BTreeSet<String> = complete
            .iter()
            .flat_map(|h| ys.statements[h].by.values().filter_map(|s| s.replaces.clone()))
            .filter(|r| complete.contains(r))
            .collect();
        let current: Vec<&String> = complete.iter().filter(|h| !replaced.contains(*h)).collect();
        ys.replaced = replaced.into_iter().collect();
        match current.as_slice() {
            [] => {}
            [one] => ys.settled = Some((*one).clone()),
            many => {
                ys.conflicts.push(Conflict::ManySettled { hashes: many.iter().map(|h| short(h).to_string()).collect() })
            }
        }
        let used: Vec<String> = ys.settled_statement().map(|s| s.payload.inputs.clone()).unwrap_or_default();
        for id in &used {
            // Every input is a figure of the contract (the replay rule), so
            // one missing from the measurements is void (FORMAT.md 4.3).
            let Some(m) = by_id.get(id.as_str()) else {
                ys.conflicts.push(Conflict::InputVoid { input: short(id).to_string(), year: ys.year });
                continue;
            };
            let (indicator, period, input) = (m.indicator.clone(), m.period.clone(), short(id).to_string());
            match &m.state {
                State::Superseded { by } => ys.conflicts.push(Conflict::InputCorrected {
                    indicator,
                    period,
                    input,
                    by: short(by).to_string(),
                    year: ys.year,
                }),
                State::Disputed { by } => ys.conflicts.push(Conflict::InputDisputed {
                    indicator,
                    period,
                    input,
                    by: by.keys().cloned().collect(),
                }),
                _ => {}
            }
        }
        settled_by_year.insert(ys.year, ys.settled.clone());
    }
    // The carried state out of each statement of each year, by hash.
    let carries: BTreeMap<(u16, String), Value> = years
        .values()
        .flat_map(|ys| {
            ys.statements.values().map(move |s| {
                ((ys.year, s.hash.clone()), s.payload.statement.get("carry_out").cloned().unwrap_or_default())
            })
        })
        .collect();
    for ys in years.values_mut() {
        let Some(prev_year) = ys.year.checked_sub(1) else { continue };
        let Some(Some(prev_now)) = settled_by_year.get(&prev_year) else { continue };
        let recorded = ys.settled_statement().and_then(|s| s.payload.previous.clone());
        if let Some(recorded) = recorded {
            // Only the carried state passes from one year to the next: a
            // resettlement that carries the same state changes nothing here.
            let same_carry = carries.get(&(prev_year, recorded.clone())) == carries.get(&(prev_year, prev_now.clone()));
            if recorded != *prev_now && !same_carry {
                ys.conflicts.push(Conflict::PreviousResettled {
                    previous_year: prev_year,
                    recorded: short(&recorded).to_string(),
                    now: short(prev_now).to_string(),
                    year: ys.year,
                });
            }
        }
    }
    years
}

/// A contract's facts on one copy, read once: negotiation status,
/// measurements and settlements.
pub struct ContractView {
    /// Contract id.
    pub contract: String,
    /// Versions, signatures, what is in force.
    pub status: ContractStatus,
    /// Every measurement and its state.
    pub measurements: Vec<Measurement>,
    /// Settlement state per contract year.
    pub settlements: BTreeMap<u16, YearSettlement>,
}

impl ContractView {
    /// Reads a contract's entries (any order); `lookup` finds referenced entries.
    pub fn new(contract: &str, entries: &[Entry], lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> ContractView {
        let st = neg::status(contract, entries);
        let measurements = meas::states(contract, entries, lookup);
        let settlements = status(&st, entries, &measurements);
        ContractView { contract: contract.to_string(), status: st, measurements, settlements }
    }

    /// Every conflict of every year, prefixed with its year.
    pub fn conflicts(&self) -> Vec<String> {
        self.settlements.values().flat_map(|y| y.conflicts.iter().map(move |c| format!("{}: {c}", y.year))).collect()
    }

    /// True when a signed statement no longer matches this copy's facts:
    /// it starts from a previous-year statement that is no longer the
    /// settled one, or one of its inputs has since been corrected. Such a
    /// signature is not a disagreement; the signatories sign anew.
    pub fn is_stale(&self, p: &SignPayload) -> bool {
        let previous_now = p.year.checked_sub(1).and_then(|y| self.settlements.get(&y)).and_then(|s| s.settled.clone());
        let superseded =
            |id: &String| self.measurements.iter().any(|m| m.id == *id && matches!(m.state, State::Superseded { .. }));
        (p.previous.is_some() || previous_now.is_some()) && p.previous != previous_now
            || p.inputs.iter().any(superseded)
    }

    /// The state carried into `year` and the contract version governing
    /// it, for a forecast of `year` (`super::forecast`): the carried state
    /// of the last settled year before it, then every year between settled
    /// from its agreed figures as [`ContractView::compute`] settles them.
    /// `Blocked` names the earlier year whose figures are not agreed yet.
    pub fn carry_into(&self, year: u16) -> Result<(Carry, &neg::VersionInfo), ComputeError> {
        let c = &self.contract;
        let (mut carry, from) = self.start_for(year)?;
        let governing = |y: u16| {
            self.status
                .governing(y)
                .ok_or_else(|| ComputeError::Contract(Refusal::NoVersion { contract: c.clone(), year: y }))
        };
        for y in from..year {
            let version = governing(y)?;
            let yi = inputs_for_year(&version.terms, y, &self.measurements, false)
                .map_err(|blockers| ComputeError::Blocked { year: y, blockers })?;
            let statement = settle_year(&version.terms, &yi.inputs, &carry)
                .map_err(|error| ComputeError::Engine { year: y, error })?;
            carry = statement.carry_out;
        }
        Ok((carry, governing(year)?))
    }

    /// Settled years whose statement used the measurement `id`.
    pub fn settled_years_using(&self, id: &str) -> Vec<u16> {
        self.settlements
            .values()
            .filter(|y| y.settled_statement().is_some_and(|s| s.payload.inputs.iter().any(|i| i == id)))
            .map(|y| y.year)
            .collect()
    }
}

/// A computed statement with everything its header shows and a signature needs.
#[derive(Debug, Clone)]
pub struct Computed {
    /// The statement.
    pub statement: Statement,
    /// The statement's signed form (what is hashed and signed).
    pub value: Value,
    /// The statement hash ([`ENGINE_VERSION`]).
    pub hash: String,
    /// The hash engine version 1 gave the same statement: a year settled
    /// under version 1 with this hash is settled with this statement.
    pub v1_hash: Option<String>,
    /// The contract version governing the year.
    pub version: String,
    /// The currency of that version (its amounts are in it).
    pub currency: crate::domain::contract::Currency,
    /// An entry that offers that version.
    pub version_entry: String,
    /// Ids of the measurement entries used, sorted.
    pub inputs: Vec<String>,
    /// Figures used that are not agreed (drafts only).
    pub not_agreed: Vec<Blocker>,
    /// Statement hash of the settled previous year.
    pub previous: Option<String>,
    /// A settlement entry of the settled previous year.
    pub previous_entry: Option<String>,
    /// A preview from figures not all agreed: never signable.
    pub draft: bool,
}

impl Computed {
    /// Whether `hash` names this statement: its hash, or the hash engine
    /// version 1 gave it (a year settled before the signed form changed).
    pub fn is(&self, hash: &str) -> bool {
        self.hash == hash || self.v1_hash.as_deref() == Some(hash)
    }
}

/// Why a statement cannot be computed, as data: the presentation layer
/// words it in the reader's language (`present::engine::compute_error`);
/// `Display` is the reference English.
#[derive(Debug, Clone, PartialEq)]
pub enum ComputeError {
    /// The contract is unknown, not in force, or the year lies outside its term.
    Contract(Refusal),
    /// Figures of a year are missing, pending, disputed or in conflict.
    Blocked {
        /// The year whose figures block (the requested year or an earlier one).
        year: u16,
        /// What blocks it.
        blockers: Vec<Blocker>,
    },
    /// The engine refused (overflow, division by zero, invalid figure).
    Engine {
        /// The year.
        year: u16,
        /// The engine's refusal.
        error: SettleError,
    },
    /// The statement computed but has no signed form or hash (a
    /// serialization failure; never seen with a validated contract).
    Hash {
        /// The year.
        year: u16,
        /// The serializer's message.
        message: String,
    },
}

/// Why a contract cannot be settled at all for a year (before any figure
/// is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No version of the contract is on this copy.
    NoContract {
        /// The contract id.
        contract: String,
    },
    /// No version was signed by every signatory.
    NotInForce {
        /// The contract id.
        contract: String,
    },
    /// The year is not a contract year.
    OutsideTerm {
        /// The year asked for.
        year: u16,
        /// First contract year.
        first: u16,
        /// Last contract year.
        last: u16,
    },
    /// The settled statement of an earlier year carries a state that
    /// cannot be read.
    CarryMalformed {
        /// The year of that statement.
        year: u16,
        /// The reader's message.
        message: String,
    },
    /// No version governs a year of the term.
    NoVersion {
        /// The contract id.
        contract: String,
        /// The year.
        year: u16,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoContract { contract } => write!(
                f,
                "there is no contract {contract:?} in this ledger (`vereffen contract list` shows the contracts)"
            ),
            Refusal::NotInForce { contract } => write!(
                f,
                "contract {contract:?} is not in force: nothing can be settled before every signatory has signed a version"
            ),
            Refusal::OutsideTerm { year, first, last } => {
                write!(f, "{year} lies outside the contract term {first}-{last}")
            }
            Refusal::CarryMalformed { message, .. } => f.write_str(message),
            Refusal::NoVersion { contract, year } => write!(f, "no version of {contract:?} governs {year}"),
        }
    }
}

impl std::fmt::Display for ComputeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComputeError::Contract(r) => r.fmt(f),
            ComputeError::Blocked { year, blockers } => {
                write!(f, "{} figure(s) of {year} are not agreed:", blockers.len())?;
                for b in blockers {
                    write!(f, "\n  {year} {b}")?;
                }
                Ok(())
            }
            ComputeError::Engine { year, error } => write!(f, "{year}: {error}"),
            ComputeError::Hash { year, message } => write!(f, "{year}: {message}"),
        }
    }
}

impl ContractView {
    /// Where computing `year` starts: the state carried out of the last
    /// settled year before it (a settled year is never recomputed) and the
    /// first year still to settle from its figures. Refuses a contract that
    /// is not on this copy or not in force, and a year outside its term.
    fn start_for(&self, year: u16) -> Result<(Carry, u16), ComputeError> {
        let c = &self.contract;
        if self.status.versions.is_empty() {
            return Err(ComputeError::Contract(Refusal::NoContract { contract: c.clone() }));
        }
        let Some(base) = self.status.base.as_ref().and_then(|b| self.status.versions.get(b)) else {
            return Err(ComputeError::Contract(Refusal::NotInForce { contract: c.clone() }));
        };
        let term = &base.terms.term;
        if !term.years().contains(&year) {
            return Err(ComputeError::Contract(Refusal::OutsideTerm {
                year,
                first: term.first_year,
                last: term.last_year,
            }));
        }
        let settled_before =
            self.settlements.range(..year).rev().find_map(|(y, s)| s.settled_statement().map(|st| (*y, st)));
        let start = match settled_before {
            Some((y, st)) => {
                let carry = carry_of(&st.payload.statement)
                    .map_err(|e| ComputeError::Contract(Refusal::CarryMalformed { year: y, message: e.0 }))?;
                (carry, y.saturating_add(1))
            }
            None => (Carry::initial(&base.terms), term.first_year),
        };
        Ok(start)
    }

    /// Computes the statement of `year` from this copy's facts. Years
    /// before it start from the latest settled year's carried state (a
    /// settled year is never recomputed); with `draft`, pending and
    /// disputed figures are used and the statement is marked as a draft.
    pub fn compute(&self, year: u16, draft: bool) -> Result<Computed, ComputeError> {
        let c = &self.contract;
        let (mut carry, from) = self.start_for(year)?;
        for y in from..=year {
            let version = self
                .status
                .governing(y)
                .ok_or_else(|| ComputeError::Contract(Refusal::NoVersion { contract: c.clone(), year: y }))?;
            let yi = inputs_for_year(&version.terms, y, &self.measurements, draft)
                .map_err(|blockers| ComputeError::Blocked { year: y, blockers })?;
            let statement = settle_year(&version.terms, &yi.inputs, &carry)
                .map_err(|error| ComputeError::Engine { year: y, error })?;
            if y < year {
                carry = statement.carry_out.clone();
                continue;
            }
            let previous_settled = year.checked_sub(1).and_then(|p| self.settlements.get(&p));
            let previous = previous_settled.and_then(|s| s.settled.clone());
            let previous_entry = previous_settled
                .and_then(|s| s.settled_statement())
                .and_then(|s| s.by.values().map(|x| x.entry.clone()).min());
            let engine_err = |e: String| ComputeError::Hash { year, message: e };
            let value = statement.signed_form().map_err(|e| engine_err(e.to_string()))?;
            let hash = statement_hash(Some(ENGINE_VERSION), draft, &yi.entries, &value)
                .map_err(|e| engine_err(e.to_string()))?;
            let v1 = statement.v1_value().map_err(|e| engine_err(e.to_string()))?;
            let v1_hash = statement_hash(None, draft, &yi.entries, &v1).map_err(|e| engine_err(e.to_string()))?;
            return Ok(Computed {
                statement,
                value,
                hash,
                v1_hash: Some(v1_hash),
                version: version.version.clone(),
                currency: version.terms.currency,
                version_entry: version.entries.iter().next().cloned().unwrap_or_default(),
                inputs: yi.entries,
                not_agreed: yi.not_agreed,
                previous,
                previous_entry,
                draft,
            });
        }
        // The loop returns at `year`: `from <= year` (a settled year before
        // it, or the first year of a term that contains it).
        debug_assert!(false, "the loop over {from}..={year} returns at {year}");
        let (first, last) = self
            .status
            .base
            .as_ref()
            .and_then(|b| self.status.versions.get(b))
            .map_or((from, year), |b| (b.terms.term.first_year, b.terms.term.last_year));
        Err(ComputeError::Contract(Refusal::OutsideTerm { year, first, last }))
    }
}

/// The payload and references of a signature on `c` (never a draft).
pub fn sign_payload(c: &Computed, replaces: Option<&str>) -> Result<(Value, Vec<String>), String> {
    if c.draft {
        return Err("a DRAFT statement can never be signed: it uses figures that are not agreed".into());
    }
    let p = SignPayload {
        contract: c.statement.contract.clone(),
        year: c.statement.year,
        version: c.version.clone(),
        statement_hash: c.hash.clone(),
        inputs: c.inputs.clone(),
        previous: c.previous.clone(),
        replaces: replaces.map(str::to_string),
        engine: Some(ENGINE_VERSION.to_string()),
        statement: c.value.clone(),
    };
    let mut refs = vec![c.version_entry.clone()];
    refs.extend(c.inputs.iter().cloned());
    if let Some(prev) = &c.previous_entry {
        refs.push(prev.clone());
    }
    Ok((serde_json::to_value(p).map_err(|e| e.to_string())?, refs))
}

/// The lines of two statement values side by side where they differ:
/// (line id, theirs, mine).
pub fn differing_lines(theirs: &Value, mine: &Value) -> Vec<(String, String, String)> {
    let lines = |v: &Value| -> BTreeMap<String, String> {
        v.get("lines")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|l| {
                        let id = l.get("id")?.as_str()?.to_string();
                        let fig = l
                            .get("amount")
                            .and_then(Value::as_str)
                            .or_else(|| l.get("value").and_then(Value::as_str))
                            .unwrap_or("")
                            .to_string();
                        Some((id, fig))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (lines(theirs), lines(mine));
    let ids: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out: Vec<(String, String, String)> = ids
        .into_iter()
        .filter(|id| a.get(*id) != b.get(*id))
        .map(|id| {
            let show = |m: &BTreeMap<String, String>| m.get(id).cloned().unwrap_or_else(|| "(no line)".into());
            (id.clone(), show(&a), show(&b))
        })
        .collect();
    if out.is_empty() && theirs != mine {
        out.push(("(statement)".into(), "differs outside the lines".into(), String::new()));
    }
    out
}
