//! The measurement actions `vereffen measure` and the web workspace's
//! figures page share: which figures a contract year has and in what state
//! ([`list_rows`]), and the checked, signed entries that submit, attest,
//! dispute or correct a figure ([`submit_entries`], [`attestation`],
//! [`dispute_body`], [`correct_body`]), the figures a claims file gives
//! by stated rules ([`derive_figures`]) and the check of a derived figure
//! against a copy of its file ([`recompute`]). Both front ends call these, so a
//! figure refused on the command line is refused in the browser for the
//! same reason; the callers append the entries and say what happened.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Result};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::domain::contract::Indicator;
use crate::domain::derive;
use crate::domain::measurement::{self as meas, Measurement, State};
use crate::domain::negotiation::{self as neg, VersionInfo};
use crate::domain::settlement::cosign::ContractView;
use crate::ledger::entry::{claimed_time_now, Author, Body, Entry, EntryId, FORMAT_VERSION};
use crate::ledger::keys::KeyId;
use crate::ledger::Ledger;

/// The states a figure can be listed in, as `measure list --state` takes them.
pub const STATES: [&str; 6] = ["agreed", "pending", "disputed", "superseded", "conflict", "missing"];

/// Builds the body of a new entry by `party` signed with `key`, stamped
/// with the claimed time now.
pub fn new_body(ledger: &Ledger, party: &str, key: &SigningKey, kind: &str, refs: Vec<String>, payload: Value) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: ledger.id().to_string(),
        kind: kind.to_string(),
        author: Author { party: party.to_string(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: claimed_time_now(),
        refs,
        payload,
    }
}

/// Looks entries of `ledger` up by id.
pub fn lookup(ledger: &Ledger) -> impl Fn(&EntryId) -> Option<Entry> + '_ {
    move |id| ledger.get(id).ok().flatten().map(|(_, e)| e)
}

fn contract_entries(ledger: &Ledger, contract: &str) -> Result<Vec<Entry>> {
    Ok(ledger.contract_entries(contract)?)
}

/// The negotiation status and the measurements of a contract.
pub fn contract_state(ledger: &Ledger, contract: &str) -> Result<(neg::ContractStatus, Vec<Measurement>)> {
    let entries = contract_entries(ledger, contract)?;
    let st = neg::status(contract, &entries);
    if st.versions.is_empty() {
        bail!("there is no contract {contract:?} in this ledger (`vereffen contract list` shows the contracts)");
    }
    let ms = meas::states(contract, &entries, &lookup(ledger));
    Ok((st, ms))
}

/// The version governing `year`, or why there is none.
pub fn governing(st: &neg::ContractStatus, year: u16) -> Result<&VersionInfo> {
    if st.base.is_none() {
        bail!("contract {:?} is not in force: figures are submitted under the version in force (`vereffen contract status {}`)", st.contract, st.contract);
    }
    st.governing(year)
        .ok_or_else(|| anyhow!("no version of contract {:?} governs {year}: it lies outside the term", st.contract))
}

/// Finds a measurement by id or unique prefix among all measurement entries.
pub fn find_measurement(ledger: &Ledger, id: &str) -> Result<Entry> {
    if id.len() < 8 {
        bail!("measurement id {id:?} is too short: give at least 8 characters");
    }
    let mut hits = Vec::new();
    for kind in [meas::KIND_SUBMIT, meas::KIND_CORRECT] {
        for (seq, eid) in ledger.index().by_kind(kind)? {
            if eid.to_hex().starts_with(id) {
                hits.push((seq, eid));
            }
        }
    }
    match hits.as_slice() {
        [one] => Ok(ledger.load(&[*one])?.remove(0).1),
        [] => bail!("there is no measurement {id} in this ledger (`vereffen measure list CONTRACT` shows them)"),
        _ => bail!("measurement id prefix {id} is ambiguous; give more characters"),
    }
}

/// One figure to submit, as read from a file or a form.
#[derive(Debug, Clone)]
pub struct FigureRow {
    /// Its line in the file (0: not from a file).
    pub line: usize,
    /// The indicator id.
    pub indicator: String,
    /// The period (2026, 2026-Q2 or 2026-03).
    pub period: String,
    /// The value as written (an exact decimal).
    pub value: String,
    /// A note.
    pub note: Option<String>,
}

/// The entry carrying a version (the lowest id, for determinism).
pub fn carrier(v: &VersionInfo) -> Result<String> {
    v.entries.iter().next().cloned().ok_or_else(|| anyhow!("version {} has no entry", &v.version[..12]))
}

/// A measurement a party responds to (attests or disputes), with its contract.
pub struct Target {
    /// The contract of the figure.
    pub contract: String,
    /// The figure's state.
    pub m: Measurement,
}

/// Checks that `party` may respond to figure `m` at all: it is readable, not
/// superseded, and `party` is not its source.
pub fn response_target(ledger: &Ledger, m: &Entry, party: &str) -> Result<Target> {
    let contract = m.contract().unwrap_or_default().to_string();
    let (_, ms) = contract_state(ledger, &contract)?;
    let this = ms
        .into_iter()
        .find(|x| x.id == m.id().to_hex())
        .ok_or_else(|| anyhow!("measurement {} is not readable", m.id().short()))?;
    if let State::Superseded { by } = &this.state {
        bail!("measurement {} was superseded by correction {}; act on that one instead", m.id().short(), &by[..12]);
    }
    if this.source == party {
        bail!("{party:?} is the source of measurement {}: the source signed its figure by submitting it; to change it use `vereffen measure correct`", m.id().short());
    }
    Ok(Target { contract, m: this })
}

/// The unsigned attestation of figure `m` by `party` (it also resolves the
/// party's own open disputes of it), after every check; and what it attests.
pub fn attestation(ledger: &Ledger, m: &Entry, party: &str, key: &SigningKey) -> Result<(Body, Target)> {
    let this = response_target(ledger, m, party)?;
    let own_disputes = own_open_disputes(ledger, m, party)?;
    if this.m.signed_by.contains_key(party) && own_disputes.is_empty() {
        bail!("{party:?} has already signed measurement {}", m.id().short());
    }
    let mut refs = vec![m.id().to_hex()];
    refs.extend(own_disputes);
    let payload = meas::response_payload(&this.contract, &m.id().to_hex(), None);
    Ok((new_body(ledger, party, key, meas::KIND_ATTEST, refs, payload), this))
}

/// The unsigned dispute of figure `m` by `party` with `reason`, after the
/// checks an attestation has too.
pub fn dispute_body(ledger: &Ledger, m: &Entry, party: &str, key: &SigningKey, reason: &str) -> Result<Body> {
    let this = response_target(ledger, m, party)?;
    Ok(new_body(
        ledger,
        party,
        key,
        meas::KIND_DISPUTE,
        vec![m.id().to_hex()],
        meas::response_payload(&this.contract, &m.id().to_hex(), Some(reason)),
    ))
}

/// The unsigned correction of figure `m` to `value` by `party` with
/// `reason`: refused for a superseded figure and an unchanged value.
pub fn correct_body(
    ledger: &Ledger,
    m: &Entry,
    party: &str,
    key: &SigningKey,
    value: &str,
    reason: &str,
) -> Result<Body> {
    let (p, _, ind) = meas::figure_of(m, &lookup(ledger))?;
    let (st, ms) = contract_state(ledger, &p.contract)?;
    if let Some(State::Superseded { by }) = ms.iter().find(|x| x.id == m.id().to_hex()).map(|x| &x.state) {
        bail!("measurement {} was already superseded by {}; correct that one", m.id().short(), &by[..12]);
    }
    let v = meas::parse_value(ind.unit, value).map_err(|e| anyhow!(e))?;
    if v.to_string() == p.value {
        bail!("the value {v} is unchanged: a correction must change the figure (attest or dispute instead)");
    }
    let year = meas::period_year(&ind, &p.period).map_err(|e| anyhow!(e))?;
    let version = governing(&st, year)?;
    let payload = meas::figure_payload(
        &p.contract,
        &version.version,
        &p.indicator,
        &p.period,
        v,
        None,
        None,
        Some((&m.id().to_hex(), reason)),
    );
    Ok(new_body(ledger, party, key, meas::KIND_CORRECT, vec![carrier(version)?, m.id().to_hex()], payload))
}

/// Every figure of `contract`'s `year` that waits for `party`'s attestation,
/// by indicator and period.
pub fn pending_for(ledger: &Ledger, contract: &str, year: u16, party: &str) -> Result<Vec<Entry>> {
    let (_, ms) = contract_state(ledger, contract)?;
    let mut ids: Vec<(String, String, EntryId)> = ms
        .iter()
        .filter(|m| m.year == year)
        .filter(|m| matches!(&m.state, State::Pending { waiting_for } if waiting_for.iter().any(|p| p == party)))
        .filter_map(|m| EntryId::from_hex(&m.id).map(|id| (m.indicator.clone(), m.period.clone(), id)))
        .collect();
    ids.sort();
    if ids.is_empty() {
        bail!("no figure of {contract:?} {year} waits for {party:?}'s attestation; nothing was signed (`vereffen measure list {contract} --year {year}` shows every figure)");
    }
    let mut out = Vec::with_capacity(ids.len());
    for (_, _, id) in ids {
        let (_, e) = ledger.get(&id)?.ok_or_else(|| anyhow!("measurement {} is not in this copy", id.short()))?;
        out.push(e);
    }
    Ok(out)
}

/// The author's disputes of a measurement, which an attestation resolves.
fn own_open_disputes(ledger: &Ledger, m: &Entry, party: &str) -> Result<Vec<String>> {
    let contract = m.contract().unwrap_or_default();
    Ok(contract_entries(ledger, contract)?
        .into_iter()
        .filter(|e| {
            e.kind() == meas::KIND_DISPUTE
                && e.body().author.party == party
                && e.body().payload.get("measurement").and_then(Value::as_str) == Some(&m.id().to_hex())
        })
        .map(|e| e.id().to_hex())
        .collect())
}

/// Checks every row and signs a submission for each with `key` as `party`:
/// all of them, or an error listing every problem (each prefixed with
/// `origin` and the row's line). Nothing is appended here.
pub fn submit_entries(
    ledger: &Ledger,
    key: &SigningKey,
    party: &str,
    contract: &str,
    rows: &[FigureRow],
    origin: &str,
    derivations: Option<Vec<meas::Derivation>>,
) -> Result<Vec<Entry>> {
    let (st, ms) = contract_state(ledger, contract)?;
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let derivation = derivations.as_ref().and_then(|d| d.get(n).cloned());
        let at = if r.line == 0 { origin.to_string() } else { format!("{origin}:{}", r.line) };
        let mut bad = |m: String| problems.push(format!("{at}: {m}"));
        // The version in force for the period's year defines the indicator.
        // A base-year figure (for a measured index) is defined by the version
        // governing the first contract year.
        let first_year = st.base.as_ref().and_then(|b| st.versions.get(b)).map(|v| v.terms.term.first_year);
        let year_hint =
            r.period.get(..4).and_then(|y| y.parse::<u16>().ok()).map(|y| first_year.map_or(y, |f| y.max(f)));
        let Some(version) = year_hint.and_then(|y| st.governing(y)) else {
            if st.base.is_none() {
                bad(format!("contract {contract:?} is not in force"));
            } else {
                bad(format!("period {:?} is not within the contract term", r.period));
            }
            continue;
        };
        let Some(ind) = version.terms.indicators.iter().find(|i| i.id == r.indicator) else {
            let known: Vec<&str> = version.terms.indicators.iter().map(|i| i.id.as_str()).collect();
            bad(format!("unknown indicator {:?} (the contract has: {})", r.indicator, known.join(", ")));
            continue;
        };
        if let Some(Err(m)) = r.note.as_deref().map(|n| crate::ledger::text::check_free_text("the note", n)) {
            bad(m);
            continue;
        }
        if let Err(m) = row_checks(ind, r, party) {
            bad(m);
            continue;
        }
        if let Ok(y) = meas::period_year(ind, &r.period) {
            if !meas::measured_years(&version.terms, ind).contains(&y) {
                bad(format!("period {:?} is not within the contract term", r.period));
                continue;
            }
        }
        let value = match meas::parse_value(ind.unit, &r.value) {
            Ok(v) => v,
            Err(m) => {
                bad(m);
                continue;
            }
        };
        if !seen.insert((r.indicator.clone(), r.period.clone())) {
            bad(format!("{} {} appears twice in this file", r.indicator, r.period));
            continue;
        }
        if let Some(existing) = ms.iter().find(|m| {
            m.indicator == r.indicator && m.period == r.period && !matches!(m.state, State::Superseded { .. })
        }) {
            bad(format!(
                "{} {} already has figure {} ({}); change it with `vereffen measure correct {} --value V --reason TEXT`",
                r.indicator, r.period, existing.value, &existing.id[..12], &existing.id[..12]
            ));
            continue;
        }
        let payload = meas::figure_payload(
            contract,
            &version.version,
            &r.indicator,
            &r.period,
            value,
            r.note.as_deref(),
            derivation,
            None,
        );
        entries.push(Entry::sign(
            new_body(ledger, party, key, meas::KIND_SUBMIT, vec![carrier(version)?], payload),
            &[key],
        )?);
    }
    if !problems.is_empty() {
        bail!("nothing was submitted; {} problem(s):\n{}", problems.len(), problems.join("\n"));
    }
    Ok(entries)
}

/// The checks of one row against its indicator: `party` is its source and
/// the period has the indicator's form.
pub fn row_checks(ind: &Indicator, r: &FigureRow, party: &str) -> Result<(), String> {
    if ind.source != party {
        return Err(format!(
            "{party:?} is not the measurement source of {} (the contract names {:?})",
            ind.id, ind.source
        ));
    }
    meas::period_year(ind, &r.period)?;
    Ok(())
}

/// Each indicator and period of `contract` (only `year`, only `state` when
/// given): value, unit, source, state, who has to act, the figure's id and
/// its settlement conflicts; a missing figure too. The rows of `vereffen
/// --json measure list`, in its order.
pub fn list_rows(ledger: &Ledger, contract: &str, year: Option<u16>, state: Option<&str>) -> Result<Vec<Value>> {
    if let Some(s) = state {
        if !STATES.contains(&s) {
            bail!("unknown state {s:?}; use one of {}", STATES.join(", "));
        }
    }
    let view = super::settle::contract_view(ledger, contract)?;
    list_rows_of(&view, year, state)
}

/// [`list_rows`] from a contract's view read already.
pub fn list_rows_of(view: &ContractView, year: Option<u16>, state: Option<&str>) -> Result<Vec<Value>> {
    let contract = &view.contract;
    let (st, ms) = (&view.status, &view.measurements);
    let Some(base) = st.base.as_ref().and_then(|b| st.versions.get(b)) else {
        bail!("contract {contract:?} is not in force: there are no figures to list yet");
    };
    // The term's years and any year before it that a measured trend needs (its base year).
    let measured: BTreeSet<u16> =
        base.terms.indicators.iter().flat_map(|i| meas::measured_years(&base.terms, i)).collect();
    let years: Vec<u16> = measured.into_iter().filter(|y| year.is_none_or(|x| x == *y)).collect();
    if years.is_empty() {
        bail!(
            "{} lies outside the term {}-{}",
            year.unwrap_or(0),
            base.terms.term.first_year,
            base.terms.term.last_year
        );
    }
    let mut rows: Vec<Value> = Vec::new();
    for y in years {
        let Some(version) = st.governing(y).or(if y < base.terms.term.first_year { Some(base) } else { None }) else {
            continue;
        };
        for ind in &version.terms.indicators {
            if !meas::measured_years(&version.terms, ind).contains(&y) {
                continue;
            }
            for period in meas::periods_of_year(ind, y) {
                let here: Vec<&Measurement> =
                    ms.iter().filter(|m| m.indicator == ind.id && m.period == period).collect();
                if !here.iter().any(|m| !matches!(m.state, State::Superseded { .. })) {
                    rows.push(json!({"indicator": ind.id, "period": period, "year": y, "value": null, "unit": ind.unit.to_string(),
                        "source": ind.source, "state": "missing", "to_act": [ind.source], "id": null}));
                }
                for m in here {
                    let to_act: Vec<String> = match &m.state {
                        State::Pending { waiting_for } => waiting_for.clone(),
                        State::Disputed { .. } | State::Conflict { .. } => vec![m.source.clone()],
                        _ => vec![],
                    };
                    let shown = if m.unit == "eur" { format!("{:.2}", m.value) } else { m.value.to_string() };
                    // A settled year that used this figure, or the figure this one corrects.
                    let mut settled = view.settled_years_using(&m.id);
                    if let Some(c) = &m.corrects {
                        settled.extend(view.settled_years_using(c));
                    }
                    let conflict = match (&m.state, settled.first()) {
                        (State::Agreed | State::Pending { .. }, Some(y)) if m.corrects.is_some() => {
                            Some(format!("corrects a figure of settled {y}: resettle {y} to apply it"))
                        }
                        (State::Superseded { .. } | State::Disputed { .. }, Some(y)) => {
                            Some(format!("used by settled {y}: resettle {y}"))
                        }
                        _ => None,
                    };
                    rows.push(json!({"indicator": m.indicator, "period": m.period, "year": y, "value": shown,
                        "unit": m.unit, "source": m.source, "state": m.state.name(), "detail": m.state, "to_act": to_act,
                        "id": m.id, "signed_by": m.signed_by, "corrects": m.corrects, "reason": m.reason,
                        "derived_from": m.derivation.as_ref().map(|d| &d.file_hash),
                        "settled_in": settled, "settlement_conflict": conflict}));
                }
            }
        }
    }
    rows.retain(|r| state.is_none_or(|s| r["state"] == s));
    Ok(rows)
}

/// The period granularity of a contract period, for [`derive::Derivation::figures`].
pub fn granularity(p: crate::domain::contract::Period) -> derive::Granularity {
    match p {
        crate::domain::contract::Period::Year => derive::Granularity::Year,
        crate::domain::contract::Period::Quarter => derive::Granularity::Quarter,
        crate::domain::contract::Period::Month => derive::Granularity::Month,
    }
}

/// The figures a derivation would submit: one row and its recorded
/// derivation per figure, and the derivation's counts.
pub struct Derived {
    /// The figures, in the rules' metric order.
    pub rows: Vec<FigureRow>,
    /// What each figure records about its derivation (same order as `rows`).
    pub derivations: Vec<meas::Derivation>,
    /// The derivation itself (hashes, rows read, counted, outside).
    pub derivation: derive::Derivation,
}

/// The indicators of the version of `contract` governing `year`: what a
/// derivation for that year fills (read under the ledger's lock; the
/// derivation itself, [`derive_with`], needs no ledger).
pub fn derive_indicators(ledger: &Ledger, contract: &str, year: u16) -> Result<Vec<Indicator>> {
    let (st, _) = contract_state(ledger, contract)?;
    Ok(governing(&st, year)?.terms.indicators.clone())
}

/// Derives `contract`'s figures of `year` from the claims file at `claims`
/// by `rules` (named `rules_name` in errors), as `vereffen measure derive`
/// does: every metric must fill an indicator of the version governing
/// `year`. Nothing is signed or appended; [`submit_entries`] with the rows
/// and derivations signs them.
pub fn derive_figures(
    ledger: &Ledger,
    contract: &str,
    rules: &derive::Rules,
    rules_name: &str,
    claims: &std::path::Path,
    year: u16,
) -> Result<Derived> {
    let indicators = derive_indicators(ledger, contract, year)?;
    derive_with(&indicators, contract, rules, rules_name, claims, year)
}

/// [`derive_figures`] with the governing version's indicators read already
/// ([`derive_indicators`]).
pub fn derive_with(
    indicators: &[Indicator],
    contract: &str,
    rules: &derive::Rules,
    rules_name: &str,
    claims: &std::path::Path,
    year: u16,
) -> Result<Derived> {
    let derivation = derive::derive_file(rules, claims, year)?;
    let mut rows = Vec::new();
    let mut derivations = Vec::new();
    for (i, m) in rules.metrics.iter().enumerate() {
        let Some(ind) = indicators.iter().find(|x| x.id == m.indicator) else {
            bail!(
                "{rules_name}: metric {} fills indicator {:?}, which contract {contract:?} does not have",
                i + 1,
                m.indicator
            );
        };
        for f in derivation.figures(rules, i, granularity(ind.period))? {
            rows.push(FigureRow {
                line: 0,
                indicator: f.indicator.clone(),
                period: f.period.clone(),
                value: f.value.to_string(),
                note: None,
            });
            derivations.push(meas::Derivation {
                file_hash: derivation.file_hash.clone(),
                rules_hash: derivation.rules_hash.clone(),
                rules: rules.canonical_json(),
                metric: format!("{:?}", m.measure).to_lowercase(),
                rows_read: derivation.rows_read,
                rows_counted: derivation.rows_counted,
            });
        }
    }
    Ok(Derived { rows, derivations, derivation })
}

/// What recomputing a derived figure from a copy of its claims file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recomputed {
    /// The measurement's entry id (hex).
    pub measurement: String,
    /// Its indicator.
    pub indicator: String,
    /// Its period.
    pub period: String,
    /// The value recorded in the ledger, as written there.
    pub recorded: String,
    /// The value the copy gives by the recorded rules.
    pub recomputed: rust_decimal::Decimal,
    /// Whether the two values are equal.
    pub same_value: bool,
    /// Whether the copy has the recorded file's blake3.
    pub same_file: bool,
    /// The blake3 recorded with the figure.
    pub recorded_file_hash: String,
    /// The copy's blake3.
    pub file_hash: String,
    /// The rows the recorded file had.
    pub recorded_rows_read: u64,
    /// The rows the copy has.
    pub rows_read: u64,
}

/// A derived figure read from the ledger, ready to be recomputed from a
/// copy of its file without the ledger ([`RecomputePlan::run`]).
#[derive(Debug, Clone)]
pub struct RecomputePlan {
    measurement: String,
    indicator: String,
    period: String,
    value: String,
    derivation: meas::Derivation,
    rules: derive::Rules,
    year: u16,
    granularity: derive::Granularity,
}

/// Reads derived measurement `m` for [`RecomputePlan::run`]: an error for a
/// figure that was not derived or whose recorded rules do not match their
/// recorded hash.
pub fn recompute_plan(ledger: &Ledger, m: &Entry) -> Result<RecomputePlan> {
    let (p, _, ind) = meas::figure_of(m, &lookup(ledger))?;
    let Some(d) = p.derivation else {
        bail!("measurement {} was submitted, not derived from a file: there is nothing to recompute", m.id().short());
    };
    let rules = derive::Rules::from_canonical(&d.rules)?;
    if rules.hash() != d.rules_hash {
        bail!("the rules recorded with measurement {} do not match their recorded hash", m.id().short());
    }
    let year = meas::period_year(&ind, &p.period).map_err(|e| anyhow!(e))?;
    Ok(RecomputePlan {
        measurement: m.id().to_hex(),
        indicator: p.indicator,
        period: p.period,
        value: p.value,
        derivation: d,
        rules,
        year,
        granularity: granularity(ind.period),
    })
}

impl RecomputePlan {
    /// The rules recorded with the figure.
    pub fn rules(&self) -> &derive::Rules {
        &self.rules
    }

    /// Derives the figure again from the claims file at `claims` by the
    /// recorded rules and compares value and file.
    pub fn run(&self, claims: &std::path::Path) -> Result<Recomputed> {
        let again = derive::derive_file(&self.rules, claims, self.year)?;
        let i = self
            .rules
            .metrics
            .iter()
            .position(|x| x.indicator == self.indicator)
            .ok_or_else(|| anyhow!("the recorded rules have no metric for {}", self.indicator))?;
        let figure = again
            .figures(&self.rules, i, self.granularity)?
            .into_iter()
            .find(|f| f.period == self.period)
            .ok_or_else(|| anyhow!("the rules give no figure for period {}", self.period))?;
        let recorded: rust_decimal::Decimal =
            self.value.parse().map_err(|_| anyhow!("recorded value {} is not a decimal", self.value))?;
        Ok(Recomputed {
            measurement: self.measurement.clone(),
            indicator: self.indicator.clone(),
            period: self.period.clone(),
            recorded: self.value.clone(),
            recomputed: figure.value,
            same_value: figure.value == recorded.normalize(),
            same_file: again.file_hash == self.derivation.file_hash,
            recorded_file_hash: self.derivation.file_hash.clone(),
            file_hash: again.file_hash,
            recorded_rows_read: self.derivation.rows_read,
            rows_read: again.rows_read,
        })
    }
}

/// Recomputes derived measurement `m` from the claims file at `claims` by
/// the rules recorded with it, as `vereffen measure recompute` does
/// ([`recompute_plan`], then [`RecomputePlan::run`]).
pub fn recompute(ledger: &Ledger, m: &Entry, claims: &std::path::Path) -> Result<Recomputed> {
    recompute_plan(ledger, m)?.run(claims)
}
