//! A year's inputs from the ledger's measurements: which agreed figures a
//! settlement uses, aggregated from their periods to the year, and what
//! still blocks a settlement (missing, pending, disputed or conflicting
//! figures, and who has to act).

use rust_decimal::Decimal;
use serde::Serialize;

use super::{required_indicators, Figure, Inputs};
use crate::domain::contract::{Aggregation, Contract, Indicator};
use crate::domain::measurement::{self, Measurement, State};

/// A figure that keeps a year from being settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// The indicator.
    pub indicator: String,
    /// The period.
    pub period: String,
    /// `missing`, `pending`, `disputed` or `conflict`.
    pub state: String,
    /// The parties that have to act.
    pub to_act: Vec<String>,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {} (to act: {})", self.indicator, self.period, self.state, self.to_act.join(", "))
    }
}

/// The inputs of a year and the measurement entries they came from.
#[derive(Debug, Clone)]
pub struct YearInputs {
    /// The figures, aggregated to the year.
    pub inputs: Inputs,
    /// Every measurement entry used, by id.
    pub entries: Vec<String>,
    /// Figures used that are not agreed (only with `draft`).
    pub not_agreed: Vec<Blocker>,
}

/// One indicator's value for `year`, aggregated from its periods; or the
/// blockers. With `draft`, pending and disputed figures are used (and
/// reported in `not_agreed`); missing and conflicting ones never are.
pub(crate) fn indicator_value(
    ind: &Indicator,
    year: u16,
    ms: &[Measurement],
    draft: bool,
    entries: &mut Vec<String>,
    not_agreed: &mut Vec<Blocker>,
) -> Result<Decimal, Vec<Blocker>> {
    let mut values = Vec::new();
    let mut blockers = Vec::new();
    for period in measurement::periods_of_year(ind, year) {
        let live: Vec<&Measurement> = ms
            .iter()
            .filter(|m| m.indicator == ind.id && m.period == period && !matches!(m.state, State::Superseded { .. }))
            .collect();
        let block = |state: &str, to_act: Vec<String>| Blocker {
            indicator: ind.id.clone(),
            period: period.clone(),
            state: state.into(),
            to_act,
        };
        match live.as_slice() {
            [] => blockers.push(block("missing", vec![ind.source.clone()])),
            [m] => {
                let issue = match &m.state {
                    State::Agreed => None,
                    State::Pending { waiting_for } => Some(block("pending", waiting_for.clone())),
                    State::Disputed { .. } => Some(block("disputed", vec![m.source.clone()])),
                    _ => Some(block("conflict", vec![m.source.clone()])),
                };
                match issue {
                    Some(b) if !draft => blockers.push(b),
                    other => {
                        not_agreed.extend(other);
                        values.push(m.value);
                        entries.push(m.id.clone());
                    }
                }
            }
            _ => blockers.push(block("conflict", vec![ind.source.clone()])),
        }
    }
    if !blockers.is_empty() {
        return Err(blockers);
    }
    aggregate(ind.aggregation, &values).ok_or_else(|| {
        vec![Blocker { indicator: ind.id.clone(), period: year.to_string(), state: "overflow".into(), to_act: vec![] }]
    })
}

/// The year's value of an indicator from the values of its periods, in
/// period order, by its aggregation: `sum`, `mean` (exact decimal division
/// of the sum by the count) or `last`; `None` on overflow. The one
/// aggregation of settlement and forecast (`super::forecast`).
pub(crate) fn aggregate(aggregation: Aggregation, values: &[Decimal]) -> Option<Decimal> {
    let sum = values.iter().try_fold(Decimal::ZERO, |a, v| a.checked_add(*v));
    match aggregation {
        Aggregation::Sum => sum,
        Aggregation::Mean => sum.and_then(|s| s.checked_div(Decimal::from(values.len().max(1) as u64))),
        Aggregation::Last => Some(values.last().copied().unwrap_or_default()),
    }
}

/// Builds the inputs for settling `year` under `contract` from the
/// contract's measurements. Required figures must be agreed (or, with
/// `draft`, at least present); optional ones are used when available.
pub fn inputs_for_year(
    contract: &Contract,
    year: u16,
    ms: &[Measurement],
    draft: bool,
) -> Result<YearInputs, Vec<Blocker>> {
    let mut inputs = Inputs::new(year);
    let mut entries = Vec::new();
    let mut not_agreed = Vec::new();
    let mut blockers = Vec::new();
    let required = required_indicators(contract, year);
    for r in &required {
        let Some(ind) = contract.indicators.iter().find(|i| i.id == r.indicator) else { continue };
        match indicator_value(ind, r.year, ms, draft, &mut entries, &mut not_agreed) {
            Ok(v) => {
                let fig = Figure { value: v, source_entry: None };
                if r.year == year {
                    inputs.figures.insert(r.indicator.clone(), fig);
                } else {
                    inputs.other_years.entry(r.year).or_default().insert(r.indicator.clone(), fig);
                }
            }
            Err(b) => blockers.extend(b),
        }
    }
    // Optional figures (tariff triggers, quality under `treat_as_not_met`).
    for ind in &contract.indicators {
        if inputs.figures.contains_key(&ind.id) || required.iter().any(|r| r.indicator == ind.id && r.year == year) {
            continue;
        }
        let (mut e, mut n) = (Vec::new(), Vec::new());
        if let Ok(v) = indicator_value(ind, year, ms, draft, &mut e, &mut n) {
            inputs.figures.insert(ind.id.clone(), Figure { value: v, source_entry: None });
            entries.extend(e);
            not_agreed.extend(n);
        }
    }
    if !blockers.is_empty() {
        return Err(blockers);
    }
    entries.sort();
    entries.dedup();
    Ok(YearInputs { inputs, entries, not_agreed })
}
