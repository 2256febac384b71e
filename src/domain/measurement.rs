//! Agreed outcome measurements: submit, correct, attest, dispute.
//!
//! One figure, from one agreed source, signed by every party that must agree
//! to it: the lesson of COPD InBeeld, where each party steered on its own
//! claims data.
//!
//! As with negotiation, **validity** depends only on the entry and the
//! entries it references: a submission references the contract version that
//! defines the indicator (so the designated source, unit and term are known);
//! a correction also references the measurement it supersedes; attestations
//! and disputes reference the measurement. **State** ([`states`]) is a pure
//! function of the set of a contract's measurement entries:
//!
//! * **superseded**: a correction references it;
//! * **disputed**: a party disputed it and has not resolved that dispute (an
//!   attestation by the disputing party that references the dispute resolves
//!   it);
//! * **agreed**: neither, and every party the indicator names (its
//!   `agreed_by` parties and its source) has signed: the source by
//!   submitting, the others by attesting;
//! * **pending**: otherwise, waiting for the parties that have not signed.
//!
//! Two measurements of the same indicator and period that are not superseded
//! are a **conflict**: neither counts until one is corrected.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::contract::{Contract, Indicator, Period, Unit};
use crate::domain::negotiation;
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::registry::RuleError;

/// A first figure for an indicator and period.
pub const KIND_SUBMIT: &str = "measure.submit";
/// A new figure that supersedes an earlier one.
pub const KIND_CORRECT: &str = "measure.correct";
/// A party's agreement with a figure.
pub const KIND_ATTEST: &str = "measure.attest";
/// A party's objection to a figure.
pub const KIND_DISPUTE: &str = "measure.dispute";

/// Every kind this module defines.
pub const KINDS: &[&str] = &[KIND_SUBMIT, KIND_CORRECT, KIND_ATTEST, KIND_DISPUTE];

/// Longest note or reason, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// How a figure was derived from row-level source data (claims extracts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derivation {
    /// blake3 (hex) of the exact bytes of the source file.
    pub file_hash: String,
    /// blake3 (hex) of the canonical rules.
    pub rules_hash: String,
    /// The rules in canonical JSON, so any party can recompute the figure.
    pub rules: Value,
    /// The metric of the rules that gave this figure.
    pub metric: String,
    /// Rows read from the file.
    pub rows_read: u64,
    /// Rows that counted (inside the period and the fence).
    pub rows_counted: u64,
}

/// Payload of `measure.submit` and `measure.correct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigurePayload {
    /// The contract id.
    pub contract: String,
    /// The contract version that defines the indicator.
    pub version: String,
    /// The indicator id.
    pub indicator: String,
    /// The period: `2026`, `2026-Q2` or `2026-03`, as the indicator's period says.
    pub period: String,
    /// The value, an exact decimal in the indicator's unit.
    pub value: String,
    /// An optional note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How the figure was derived, when it was derived from source data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivation: Option<Derivation>,
    /// Correction only: the measurement superseded (entry id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// Correction only: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Payload of `measure.attest` and `measure.dispute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsePayload {
    /// The contract id.
    pub contract: String,
    /// The measurement (entry id).
    pub measurement: String,
    /// Dispute only: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn err<T>(msg: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError(msg.into()))
}

fn parse<T: serde::de::DeserializeOwned>(e: &Entry) -> Result<T, RuleError> {
    serde_json::from_value(e.body().payload.clone())
        .map_err(|x| RuleError(format!("{} payload is malformed: {x}", e.kind())))
}

fn check_text(what: &str, text: &str) -> Result<(), RuleError> {
    let n = text.chars().count();
    if text.trim().is_empty() || n > MAX_TEXT_CHARS {
        return err(format!("{what} must be 1 to {MAX_TEXT_CHARS} characters"));
    }
    crate::ledger::text::check_free_text(what, text).map_err(RuleError)
}

/// Parses a period for an indicator and returns its contract year.
pub fn period_year(indicator: &Indicator, period: &str) -> Result<u16, String> {
    let bad = || {
        let shape = match indicator.period {
            Period::Year => "a year such as 2026",
            Period::Quarter => "a quarter such as 2026-Q2",
            Period::Month => "a month such as 2026-03",
        };
        format!("period {period:?} is not {shape} (indicator {} is measured per {})", indicator.id, indicator.period)
    };
    let year_of = |s: &str| -> Option<u16> {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    match indicator.period {
        Period::Year => year_of(period).ok_or_else(bad),
        Period::Quarter => {
            let (y, q) = period.split_once("-Q").ok_or_else(bad)?;
            if !["1", "2", "3", "4"].contains(&q) {
                return Err(bad());
            }
            year_of(y).ok_or_else(bad)
        }
        Period::Month => {
            let (y, m) = period.split_once('-').ok_or_else(bad)?;
            let month: u8 = if m.len() == 2 { m.parse().map_err(|_| bad())? } else { return Err(bad()) };
            if !(1..=12).contains(&month) {
                return Err(bad());
            }
            year_of(y).ok_or_else(bad)
        }
    }
}

/// The periods of one contract year for an indicator.
pub fn periods_of_year(indicator: &Indicator, year: u16) -> Vec<String> {
    match indicator.period {
        Period::Year => vec![year.to_string()],
        Period::Quarter => (1..=4).map(|q| format!("{year}-Q{q}")).collect(),
        Period::Month => (1..=12).map(|m| format!("{year}-{m:02}")).collect(),
    }
}

/// Parses `text` as a value of `unit`: an exact decimal that the unit allows.
pub fn parse_value(unit: Unit, text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if t.is_empty() || t.contains(['e', 'E']) || t.starts_with('+') {
        return Err(format!("value {text:?} is not a plain decimal number (write e.g. 1234.56)"));
    }
    let v: Decimal = match crate::domain::exact::parse_decimal(t) {
        Ok(v) => v,
        Err(crate::domain::exact::ExactError::Malformed) => {
            return Err(format!("value {text:?} is not a decimal number (write e.g. 1234.56)"))
        }
        Err(e) => return Err(format!("value {t} {e}")),
    };
    let whole = v.fract().is_zero();
    let problem = match unit {
        _ if v.is_sign_negative() && !v.is_zero() => Some("cannot be negative"),
        Unit::Eur if v.scale() > 2 && v.normalize().scale() > 2 => Some("is money: at most 2 decimals"),
        Unit::Members | Unit::MemberMonths | Unit::Count if !whole => Some("must be a whole number"),
        Unit::Fraction if v > Decimal::ONE => Some("is a fraction: between 0 and 1"),
        Unit::YesNo if v != Decimal::ZERO && v != Decimal::ONE => Some("is yes/no: 0 or 1"),
        Unit::Index if v.is_zero() => Some("is an index: it must be above 0"),
        _ => None,
    };
    match problem {
        Some(p) => Err(format!("value {t} does not fit unit {unit}: it {p}")),
        None => Ok(v.normalize()),
    }
}

/// The years an indicator is measured for: the contract years, plus the
/// base year for an index that the baseline's trend divides by.
pub fn measured_years(c: &Contract, indicator: &Indicator) -> BTreeSet<u16> {
    let mut years: BTreeSet<u16> = c.term.years().collect();
    if let Some(b) = &c.baseline {
        if matches!(&b.trend, Some(crate::domain::contract::Trend::MeasuredIndex { indicator: i }) if *i == indicator.id)
        {
            years.insert(b.base_year);
        }
    }
    years
}

/// The parties whose signatures make a figure of `indicator` agreed.
pub fn required_parties(indicator: &Indicator) -> BTreeSet<String> {
    let mut req: BTreeSet<String> = indicator.agreed_by.iter().cloned().collect();
    req.insert(indicator.source.clone());
    req
}

fn lookup_or(lookup: &dyn Fn(&EntryId) -> Option<Entry>, id: Option<EntryId>, what: &str) -> Result<Entry, RuleError> {
    let id = id.ok_or_else(|| RuleError(format!("the entry must reference {what}")))?;
    lookup(&id).ok_or_else(|| RuleError(format!("referenced {what} {} is not in this ledger", id.short())))
}

/// Reads a measurement entry (submit or correct) and the contract version
/// it refers to (found through its first reference).
pub fn figure_of(
    e: &Entry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
) -> Result<(FigurePayload, Contract, Indicator), RuleError> {
    let p: FigurePayload = parse(e)?;
    let version_entry = lookup_or(lookup, e.body().ref_ids().next(), "the contract version")?;
    if !matches!(version_entry.kind(), negotiation::KIND_PROPOSE | negotiation::KIND_COUNTER | negotiation::KIND_AMEND)
    {
        return err(format!("the first reference must be a contract version, not a {}", version_entry.kind()));
    }
    let (vp, c) = negotiation::offer_terms(&version_entry)?;
    if vp.contract != p.contract || vp.version != p.version {
        return err("the referenced contract version is not the one the figure names");
    }
    let ind = c
        .indicators
        .iter()
        .find(|i| i.id == p.indicator)
        .cloned()
        .ok_or_else(|| RuleError(format!("contract version has no indicator {:?}", p.indicator)))?;
    Ok((p, c, ind))
}

/// A contract version's parsed terms: its contract id, version hash and
/// terms, or why the version entry cannot be read.
type VersionTerms = Result<(String, String, std::sync::Arc<Contract>), RuleError>;

/// [`figure_of`] with the versions' terms parsed once per version entry
/// (`terms`, keyed by the version's entry id) instead of once per figure:
/// parsing and validating a contract's terms is the largest cost of a
/// view, and every figure of a version refers to the same entry. The same
/// result as [`figure_of`] for every entry (the cache holds a pure
/// function of the version entry).
fn figure_with_terms(
    e: &Entry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
    terms: &mut std::collections::HashMap<EntryId, VersionTerms>,
) -> Result<(FigurePayload, Indicator), RuleError> {
    let p: FigurePayload = parse(e)?;
    let first = e.body().ref_ids().next();
    let version = match first.and_then(|id| terms.get(&id).map(|t| (id, t.clone()))) {
        Some((_, t)) => t,
        None => {
            let version_entry = lookup_or(lookup, first, "the contract version")?;
            let t = if matches!(
                version_entry.kind(),
                negotiation::KIND_PROPOSE | negotiation::KIND_COUNTER | negotiation::KIND_AMEND
            ) {
                negotiation::offer_terms(&version_entry)
                    .map(|(vp, c)| (vp.contract, vp.version, std::sync::Arc::new(c)))
            } else {
                err(format!("the first reference must be a contract version, not a {}", version_entry.kind()))
            };
            terms.insert(version_entry.id(), t.clone());
            t
        }
    };
    let (contract, version, c) = version?;
    if contract != p.contract || version != p.version {
        return err("the referenced contract version is not the one the figure names");
    }
    let ind = c
        .indicators
        .iter()
        .find(|i| i.id == p.indicator)
        .cloned()
        .ok_or_else(|| RuleError(format!("contract version has no indicator {:?}", p.indicator)))?;
    Ok((p, ind))
}

/// Checks the validity of a measurement entry (see the module docs).
pub fn check(e: &Entry, lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> Result<(), RuleError> {
    let author = e.body().author.party.as_str();
    let refs: Vec<EntryId> = e.body().ref_ids().collect();
    match e.kind() {
        KIND_SUBMIT | KIND_CORRECT => {
            let (p, c, ind) = figure_of(e, lookup)?;
            if ind.source != author {
                return err(format!(
                    "only {:?}, the designated measurement source of {}, may submit it; {author:?} may attest or dispute",
                    ind.source, ind.id
                ));
            }
            let year = period_year(&ind, &p.period).map_err(RuleError)?;
            if !measured_years(&c, &ind).contains(&year) {
                return err(format!(
                    "period {} lies outside the contract term {}-{}",
                    p.period, c.term.first_year, c.term.last_year
                ));
            }
            let value = parse_value(ind.unit, &p.value).map_err(RuleError)?;
            if value.to_string() != p.value {
                return err(format!("value {:?} is not in normal form ({value})", p.value));
            }
            if let Some(n) = &p.note {
                check_text("a note", n)?;
            }
            if e.kind() == KIND_SUBMIT {
                if p.corrects.is_some() || p.reason.is_some() || refs.len() != 1 {
                    return err("a submission references only the contract version, and corrects nothing");
                }
            } else {
                let reason = p.reason.as_deref().ok_or(RuleError("a correction needs a reason".into()))?;
                check_text("a reason", reason)?;
                let target =
                    p.corrects.as_deref().ok_or(RuleError("a correction names the measurement it corrects".into()))?;
                if refs.len() != 2 || refs[1].to_hex() != target {
                    return err("a correction references the contract version and the measurement it corrects");
                }
                let old = lookup_or(lookup, Some(refs[1]), "measurement")?;
                if !matches!(old.kind(), KIND_SUBMIT | KIND_CORRECT) {
                    return err(format!("entry {} is not a measurement", refs[1].short()));
                }
                let (op, _, _) = figure_of(&old, lookup)?;
                if op.contract != p.contract || op.indicator != p.indicator || op.period != p.period {
                    return err("a correction must be of the same contract, indicator and period");
                }
                if op.value == p.value {
                    return err(format!(
                        "the correction does not change the value ({}); attest or dispute instead",
                        p.value
                    ));
                }
            }
            Ok(())
        }
        KIND_ATTEST | KIND_DISPUTE => {
            let p: ResponsePayload = parse(e)?;
            let m = lookup_or(lookup, refs.first().copied(), "measurement")?;
            if !matches!(m.kind(), KIND_SUBMIT | KIND_CORRECT) || m.id().to_hex() != p.measurement {
                return err("the first reference must be the measurement named in the payload");
            }
            let (mp, c, ind) = figure_of(&m, lookup)?;
            if mp.contract != p.contract {
                return err("the measurement belongs to another contract");
            }
            if m.body().author.party == author {
                return err("the source signed its figure by submitting it; another party attests or disputes");
            }
            if e.kind() == KIND_ATTEST {
                if p.reason.is_some() {
                    return err("an attestation carries no reason");
                }
                if !required_parties(&ind).contains(author) {
                    return err(format!(
                        "{author:?} is not among the parties that agree to {} ({})",
                        ind.id,
                        required_parties(&ind).into_iter().collect::<Vec<_>>().join(", ")
                    ));
                }
                for r in &refs[1..] {
                    let d = lookup_or(lookup, Some(*r), "dispute")?;
                    let resolves_own = d.kind() == KIND_DISPUTE
                        && d.body().author.party == author
                        && d.body().payload.get("measurement").and_then(Value::as_str) == Some(&p.measurement);
                    if !resolves_own {
                        return err("an attestation may reference only the author's own disputes of the measurement");
                    }
                }
            } else {
                check_text("a reason", p.reason.as_deref().unwrap_or(""))?;
                if refs.len() != 1 {
                    return err("a dispute references only the measurement");
                }
                if c.parties.iter().all(|q| q.id != author) {
                    return err(format!("{author:?} is not a party of contract {:?}", c.id));
                }
            }
            Ok(())
        }
        other => err(format!("{other} is not a measurement entry")),
    }
}

/// Where a measurement stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    /// Every required party signed; no open dispute.
    Agreed,
    /// Waiting for signatures.
    Pending {
        /// The parties that still have to attest.
        waiting_for: Vec<String>,
    },
    /// A party objects.
    Disputed {
        /// Disputing parties and their reasons.
        by: BTreeMap<String, Vec<String>>,
    },
    /// A correction replaced it.
    Superseded {
        /// The correcting entry.
        by: String,
    },
    /// Another live measurement exists for the same indicator and period.
    Conflict {
        /// The other measurement(s).
        with: Vec<String>,
    },
}

impl State {
    /// The state's name, as used by `measure list --state`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Agreed => "agreed",
            State::Pending { .. } => "pending",
            State::Disputed { .. } => "disputed",
            State::Superseded { .. } => "superseded",
            State::Conflict { .. } => "conflict",
        }
    }
}

/// One measurement with everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// The entry id.
    pub id: String,
    /// The indicator.
    pub indicator: String,
    /// The period.
    pub period: String,
    /// The contract year of the period.
    pub year: u16,
    /// The value.
    pub value: Decimal,
    /// The unit.
    pub unit: String,
    /// The submitting source.
    pub source: String,
    /// The contract version it was submitted under.
    pub version: String,
    /// The measurement it corrects, if any.
    pub corrects: Option<String>,
    /// Why it corrects, if it does.
    pub reason: Option<String>,
    /// The note, if any.
    pub note: Option<String>,
    /// The derivation, if it was derived from source data.
    pub derivation: Option<Derivation>,
    /// Parties that signed (source and attesters), with their entries.
    pub signed_by: BTreeMap<String, String>,
    /// Parties whose signatures are required.
    pub required: Vec<String>,
    /// The state.
    pub state: State,
    /// The author's claimed time.
    pub time: String,
}

/// Computes every measurement of a contract and its state from the entries
/// (any order). `lookup` finds referenced contract versions.
pub fn states(contract: &str, entries: &[Entry], lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> Vec<Measurement> {
    let mine = |e: &&Entry| e.body().payload.get("contract").and_then(Value::as_str) == Some(contract);
    let mut by_id: BTreeMap<String, Measurement> = BTreeMap::new();
    let mut terms = std::collections::HashMap::new();
    for e in entries.iter().filter(mine).filter(|e| matches!(e.kind(), KIND_SUBMIT | KIND_CORRECT)) {
        let Ok((p, ind)) = figure_with_terms(e, lookup, &mut terms) else { continue };
        let (Ok(year), Ok(value)) = (period_year(&ind, &p.period), parse_value(ind.unit, &p.value)) else { continue };
        by_id.insert(
            e.id().to_hex(),
            Measurement {
                id: e.id().to_hex(),
                indicator: p.indicator,
                period: p.period,
                year,
                value,
                unit: ind.unit.to_string(),
                source: e.body().author.party.clone(),
                version: p.version,
                corrects: p.corrects,
                reason: p.reason,
                note: p.note,
                derivation: p.derivation,
                signed_by: BTreeMap::from([(e.body().author.party.clone(), e.id().to_hex())]),
                required: required_parties(&ind).into_iter().collect(),
                state: State::Agreed,
                time: e.body().time.clone(),
            },
        );
    }
    // Disputes: (measurement, dispute id) -> party, reason; resolved ones removed below.
    let mut disputes: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut resolved: BTreeSet<String> = BTreeSet::new();
    for e in entries.iter().filter(mine) {
        let p = &e.body().payload;
        let Some(m) = p.get("measurement").and_then(Value::as_str) else { continue };
        match e.kind() {
            KIND_ATTEST => {
                if let Some(x) = by_id.get_mut(m) {
                    x.signed_by.entry(e.body().author.party.clone()).or_insert_with(|| e.id().to_hex());
                }
                for r in e.body().ref_ids().skip(1) {
                    resolved.insert(r.to_hex());
                }
            }
            KIND_DISPUTE => {
                let reason = p.get("reason").and_then(Value::as_str).unwrap_or("").to_string();
                disputes.insert((m.to_string(), e.id().to_hex()), (e.body().author.party.clone(), reason));
            }
            _ => {}
        }
    }
    let superseded: BTreeMap<String, String> =
        by_id.values().filter_map(|m| m.corrects.clone().map(|c| (c, m.id.clone()))).collect();
    let mut live: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for m in by_id.values() {
        if !superseded.contains_key(&m.id) {
            live.entry((m.indicator.clone(), m.period.clone())).or_default().push(m.id.clone());
        }
    }
    for m in by_id.values_mut() {
        let open: BTreeMap<String, Vec<String>> = disputes
            .iter()
            .filter(|((mid, did), _)| *mid == m.id && !resolved.contains(did))
            .fold(BTreeMap::new(), |mut acc, (_, (party, reason))| {
                acc.entry(party.clone()).or_insert_with(Vec::new).push(reason.clone());
                acc
            });
        let others: Vec<String> = live
            .get(&(m.indicator.clone(), m.period.clone()))
            .map(|v| v.iter().filter(|x| **x != m.id).cloned().collect())
            .unwrap_or_default();
        let waiting: Vec<String> = m.required.iter().filter(|p| !m.signed_by.contains_key(*p)).cloned().collect();
        m.state = if let Some(by) = superseded.get(&m.id) {
            State::Superseded { by: by.clone() }
        } else if !others.is_empty() {
            State::Conflict { with: others }
        } else if !open.is_empty() {
            State::Disputed { by: open }
        } else if !waiting.is_empty() {
            State::Pending { waiting_for: waiting }
        } else {
            State::Agreed
        };
    }
    by_id.into_values().collect()
}

/// Payload builder for a submission or correction.
#[allow(clippy::too_many_arguments)]
pub fn figure_payload(
    contract: &str,
    version: &str,
    indicator: &str,
    period: &str,
    value: Decimal,
    note: Option<&str>,
    derivation: Option<Derivation>,
    corrects: Option<(&str, &str)>,
) -> Value {
    let p = FigurePayload {
        contract: contract.to_string(),
        version: version.to_string(),
        indicator: indicator.to_string(),
        period: period.to_string(),
        value: value.normalize().to_string(),
        note: note.map(str::to_string),
        derivation,
        corrects: corrects.map(|(c, _)| c.to_string()),
        reason: corrects.map(|(_, r)| r.to_string()),
    };
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// Payload builder for an attestation or dispute.
pub fn response_payload(contract: &str, measurement: &str, reason: Option<&str>) -> Value {
    serde_json::to_value(ResponsePayload {
        contract: contract.to_string(),
        measurement: measurement.to_string(),
        reason: reason.map(str::to_string),
    })
    .unwrap_or(Value::Null)
}
