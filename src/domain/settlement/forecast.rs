//! A forecast of a contract year from the figures agreed so far
//! (`vereffen settle forecast`; docs/CONTRACT-FORMAT.md, "Monitoring during
//! the year"): every indicator's value for the year and how it was found,
//! the statement the settlement engine computes from those values (the same
//! [`settle_year`] as a settlement, no second computation), and the
//! consequences the contract states, flagged from the engine's lines.
//!
//! A forecast is a pure function of the contract terms, the year, the
//! carried state, the measurements and the caller's options: no clock, no
//! IO. It is never signed and never written to a ledger.
//!
//! # The value of an indicator
//!
//! Only **agreed** figures count; pending, disputed and conflicting ones are
//! listed as not counted. With `through` (a month, quarter or the year),
//! periods that end after it are left out, as if the forecast were made then.
//!
//! * Every period of the year known: the year's value exactly as the
//!   settlement aggregates it ([`super::inputs::aggregate`]); basis `agreed`.
//! * Some periods of a monthly or quarterly indicator known (basis
//!   `run_rate`): `sum`: sum so far x periods in the year / periods known,
//!   rounded half away from zero to [`run_rate_dp`] decimals of the
//!   indicator's unit when the quotient has more (the forecast then says
//!   `rounded_to`); `mean`: the mean of the known periods, computed as the
//!   settlement computes a year's mean; `last`: the last known period.
//! * Nothing known: the caller's assumption (`assumed`), else the agreed
//!   value of the year before (`last_year`), else `unknown`. An unknown
//!   figure the settlement requires makes the forecast incomplete: no
//!   statement, and the figure is named in `missing`.
//!
//! Figures of other years that a trend needs are their agreed values; one
//! not agreed makes the forecast incomplete too.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::gate::{self, QUALITY_SCORE_LINE};
use super::inputs::{aggregate, indicator_value};
use super::why::Term;
use super::{
    required_indicators, settle_year, Carry, Figure, Inputs, Line, SettleError, Statement, TransferKind, RATIO_DP,
};
use crate::domain::contract::{Aggregation, Contract, GateAction, Indicator, MissingMeasurement, Period, Role, Unit};
use crate::domain::measurement::{self, Measurement, State};

/// Limit on the assumptions (`--assume`) of one forecast.
pub const MAX_ASSUMPTIONS: usize = 64;

/// Decimals of a run rate in euros.
pub const MONEY_DP: u32 = 2;

/// Decimals of a run rate of a whole-number unit (members, member-months,
/// counts).
pub const WHOLE_DP: u32 = 0;

/// Months in a year: the last month a `through` point can name.
pub const MONTHS: u8 = 12;

/// The decimals a `sum` run rate of `unit` is rounded to when the exact
/// quotient has more: [`MONEY_DP`] for `eur`, [`WHOLE_DP`] for `members`,
/// `member_months` and `count`, [`RATIO_DP`] for every other unit.
pub fn run_rate_dp(unit: Unit) -> u32 {
    match unit {
        Unit::Eur => MONEY_DP,
        Unit::Members | Unit::MemberMonths | Unit::Count => WHOLE_DP,
        _ => RATIO_DP,
    }
}

/// The point a forecast is made as of: the end of a month of the forecast
/// year (`2027-06`; `2027-Q2` is its month 6, `2027` its month 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Through {
    /// The year.
    pub year: u16,
    /// The last month counted, 1 to [`MONTHS`].
    pub month: u8,
}

impl Through {
    /// Parses `text` (`YYYY`, `YYYY-Qn` or `YYYY-MM`), which must lie in
    /// `year`. The error names the argument and says what to write.
    pub fn parse(text: &str, year: u16) -> Result<Through, String> {
        let bad = || {
            format!("--through {text:?} is not a period: write a month (2027-06), a quarter (2027-Q2) or a year (2027)")
        };
        let year_of = |s: &str| -> Option<u16> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        let (y, month) = match text.split_once('-') {
            None => (year_of(text).ok_or_else(bad)?, MONTHS),
            Some((y, q)) if q.starts_with('Q') => {
                let q: u8 = match q.as_bytes() {
                    [b'Q', d @ b'1'..=b'4'] => d - b'0',
                    _ => return Err(bad()),
                };
                (year_of(y).ok_or_else(bad)?, q * 3)
            }
            Some((y, m)) => {
                let m: u8 = match m.as_bytes() {
                    [a @ b'0'..=b'9', b @ b'0'..=b'9'] => (a - b'0') * 10 + (b - b'0'),
                    _ => return Err(bad()),
                };
                if !(1..=MONTHS).contains(&m) {
                    return Err(bad());
                }
                (year_of(y).ok_or_else(bad)?, m)
            }
        };
        if y != year {
            return Err(format!(
                "--through {text}: lies in {y}, not in the forecast year {year}; give a month or quarter of {year}"
            ));
        }
        Ok(Through { year, month })
    }

    /// The point as a month, `2027-06`.
    pub fn label(&self) -> String {
        format!("{}-{:02}", self.year, self.month)
    }
}

/// The last month of a period of `ind` (as [`measurement::periods_of_year`]
/// writes it): 12 for a year, 3n for quarter n, the month for a month.
fn end_month(ind: &Indicator, period: &str) -> u8 {
    let tail = period.split_once('-').map(|(_, t)| t).unwrap_or("");
    match ind.period {
        Period::Year => MONTHS,
        Period::Quarter => {
            tail.strip_prefix('Q').and_then(|q| q.parse::<u8>().ok()).map_or(MONTHS, |q| q.saturating_mul(3))
        }
        Period::Month => tail.parse::<u8>().unwrap_or(MONTHS),
    }
}

/// Parses one `--assume ID=VALUE`: an indicator of `contract` and an exact
/// decimal its unit allows (as a submitted figure must be). The error names
/// the argument.
pub fn parse_assumption(text: &str, contract: &Contract) -> Result<(String, Decimal), String> {
    let Some((id, value)) = text.split_once('=') else {
        return Err(format!("--assume {text:?}: write INDICATOR=VALUE, e.g. --assume care-cost=2700000.00"));
    };
    let Some(ind) = contract.indicators.iter().find(|i| i.id == id) else {
        let ids: Vec<&str> = contract.indicators.iter().map(|i| i.id.as_str()).collect();
        return Err(format!(
            "--assume {text:?}: contract {} has no indicator {id:?}; its indicators are {}",
            contract.id,
            ids.join(", ")
        ));
    };
    if value.trim() != value {
        return Err(format!("--assume {text:?}: the value has spaces around it; write {id}={}", value.trim()));
    }
    let v = measurement::parse_value(ind.unit, value).map_err(|e| format!("--assume {text:?}: {e}"))?;
    Ok((id.to_string(), v))
}

/// Parses every `--assume` (at most [`MAX_ASSUMPTIONS`], each indicator at
/// most once).
pub fn parse_assumptions(texts: &[String], contract: &Contract) -> Result<BTreeMap<String, Decimal>, String> {
    if texts.len() > MAX_ASSUMPTIONS {
        return Err(format!("{} --assume arguments: at most {MAX_ASSUMPTIONS}", texts.len()));
    }
    let mut out = BTreeMap::new();
    for t in texts {
        let (id, v) = parse_assumption(t, contract)?;
        if out.insert(id.clone(), v).is_some() {
            return Err(format!("--assume {t:?}: {id} is assumed twice; give one value"));
        }
    }
    Ok(out)
}

/// How a forecast found an indicator's value for the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Every period of the year is agreed: the year's value.
    Agreed,
    /// Some periods are agreed: the year at run rate.
    RunRate,
    /// Nothing agreed: the caller's assumption.
    Assumed,
    /// Nothing agreed, no assumption: the agreed value of the year before.
    LastYear,
    /// Nothing to go on.
    Unknown,
}

/// A period whose figure does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCounted {
    /// The period.
    pub period: String,
    /// `missing`, `pending`, `disputed` or `conflict`.
    pub state: String,
    /// The parties that have to act.
    pub to_act: Vec<String>,
}

/// One indicator's forecast for the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorForecast {
    /// Indicator id.
    pub indicator: String,
    /// Its measurement period.
    pub period: Period,
    /// How its periods make the year.
    pub aggregation: Aggregation,
    /// Its unit.
    pub unit: Unit,
    /// Whether the settlement of the year requires it.
    pub required: bool,
    /// How the value was found.
    pub basis: Basis,
    /// The year's value used, if any.
    pub value: Option<Decimal>,
    /// Periods in the year (1, 4 or 12).
    pub periods_in_year: usize,
    /// Periods with an agreed figure that count.
    pub periods_known: usize,
    /// The sum of the known periods' figures (sub-period indicators with a
    /// known period).
    pub known_sum: Option<Decimal>,
    /// The last known period.
    pub last_known: Option<String>,
    /// For a `sum` run rate whose exact quotient has more decimals: the
    /// decimals it was rounded to (half away from zero).
    pub rounded_to: Option<u32>,
    /// For `last_year`: the year whose agreed value is used.
    pub from_year: Option<u16>,
    /// Periods up to the forecast's point whose figure does not count
    /// (missing ones only up to [`Forecast::as_of`]).
    pub not_counted: Vec<NotCounted>,
    /// Agreed periods left out because they end after `through`.
    pub after_through: usize,
}

/// A figure of another year (a trend's) used by the forecast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherYear {
    /// Indicator id.
    pub indicator: String,
    /// Its year.
    pub year: u16,
    /// The agreed value.
    pub value: Decimal,
}

/// A figure the forecast needs and does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// Indicator id.
    pub indicator: String,
    /// The year of the figure.
    pub year: u16,
    /// Its periods that are not agreed, and who has to act.
    pub periods: Vec<NotCounted>,
}

/// A consequence the contract states, raised by the forecast statement.
/// `clause` names the contract field it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum Flag {
    /// The quality gate at run rate, met or not; when not met, the
    /// contract's consequence (`monitoring.below_quality_gate`).
    QualityGate {
        /// The quality score at run rate.
        score: Decimal,
        /// The contract's minimum score.
        gate: Decimal,
        /// Whether the score reaches the gate.
        met: bool,
        /// When not met: what the contract says follows.
        consequence: Option<GateAction>,
        /// The clauses.
        clause: String,
    },
    /// A provider bears a loss (its result is below 0).
    ProviderLoss {
        /// The provider.
        party: String,
        /// What it bears (above 0).
        amount: Decimal,
        /// The payment components it pays under.
        clause: String,
    },
    /// Savings above 0 but below the savings corridor.
    InsideCorridor {
        /// The savings (after losses carried in).
        savings: Decimal,
        /// The corridor.
        corridor: Decimal,
        /// Whether the contract's inside-corridor rule shares them anyway.
        shared: bool,
        /// The clause.
        clause: String,
    },
    /// A loss below the loss corridor: the providers pay nothing of it.
    InsideLossCorridor {
        /// The loss.
        loss: Decimal,
        /// The clause.
        clause: String,
    },
    /// A cap binds (the amount before it is above it).
    CapReached {
        /// The statement line of the cap.
        line: String,
        /// The cap.
        cap: Decimal,
        /// The clause.
        clause: String,
    },
    /// A quality indicator below its target (score below 1; 0: at or past
    /// the threshold, or missed under step scoring).
    BelowTarget {
        /// The indicator.
        indicator: String,
        /// Its score (0..1).
        score: Decimal,
        /// The clause.
        clause: String,
    },
    /// A bonus whose target is not met.
    BonusNotMet {
        /// The bonus id.
        bonus: String,
        /// Its indicator.
        indicator: String,
        /// The clause.
        clause: String,
    },
    /// Under `missing_measurement = block_settlement`: periods up to the
    /// forecast's point of a required indicator not agreed, which block
    /// the year's settlement until they are.
    MissingMeasurement {
        /// The indicator.
        indicator: String,
        /// The periods and their states.
        periods: Vec<NotCounted>,
        /// The clause.
        clause: String,
    },
}

/// The options of a forecast.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Forecast as of this point; `None`: every agreed figure.
    pub through: Option<Through>,
    /// The caller's values for indicators with no agreed period.
    pub assume: BTreeMap<String, Decimal>,
}

/// A contract year forecast at run rate. Never a statement: never signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forecast {
    /// Contract id.
    pub contract: String,
    /// The year.
    pub year: u16,
    /// The `through` point given, as a month (`2027-06`).
    pub through: Option<String>,
    /// The month up to which periods are due: `through`, else the end of
    /// the last agreed period of a monthly or quarterly indicator (none
    /// when there is none).
    pub as_of: Option<String>,
    /// Every indicator of the contract, in contract order.
    pub indicators: Vec<IndicatorForecast>,
    /// Agreed figures of other years used.
    pub other_years: Vec<OtherYear>,
    /// Required figures the forecast does not have: when not empty, there
    /// is no statement.
    pub missing: Vec<Missing>,
    /// The consequences the contract states, from the statement's lines.
    pub flags: Vec<Flag>,
    /// The statement computed from the forecast values (not signed).
    #[serde(skip)]
    pub statement: Option<Statement>,
}

/// Why a forecast cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    /// An option does not fit the contract.
    #[error("{0}")]
    Option(String),
    /// The settlement engine refused the forecast values.
    #[error("the settlement engine refuses the forecast values: {0}")]
    Engine(SettleError),
}

/// The periods of `ind` in `year`, classified: the agreed values that count
/// (in period order, with their periods), the periods that do not count,
/// and the agreed periods after the cutoff.
fn classify(
    ind: &Indicator,
    year: u16,
    ms: &[Measurement],
    count_through: u8,
    due_through: u8,
) -> (Vec<(String, Decimal)>, Vec<NotCounted>, usize) {
    let mut known = Vec::new();
    let mut not = Vec::new();
    let mut after = 0;
    for period in measurement::periods_of_year(ind, year) {
        let end = end_month(ind, &period);
        let live: Vec<&Measurement> = ms
            .iter()
            .filter(|m| m.indicator == ind.id && m.period == period && !matches!(m.state, State::Superseded { .. }))
            .collect();
        let (state, to_act) = match live.as_slice() {
            [] => ("missing", vec![ind.source.clone()]),
            [m] => match &m.state {
                State::Agreed if end <= count_through => {
                    known.push((period, m.value));
                    continue;
                }
                State::Agreed => {
                    after += 1;
                    continue;
                }
                State::Pending { waiting_for } => ("pending", waiting_for.clone()),
                State::Disputed { .. } => ("disputed", vec![m.source.clone()]),
                _ => ("conflict", vec![m.source.clone()]),
            },
            _ => ("conflict", vec![ind.source.clone()]),
        };
        let due = if state == "missing" { end <= due_through } else { end <= count_through };
        if due {
            not.push(NotCounted { period, state: state.into(), to_act });
        }
    }
    (known, not, after)
}

/// `sum` at run rate: `sum x n_year / n_known`, rounded to `dp` decimals
/// when the exact quotient has more. Returns the value and whether it was
/// rounded; `None` on overflow.
pub fn sum_run_rate(sum: Decimal, n_year: usize, n_known: usize, dp: u32) -> Option<(Decimal, bool)> {
    assert!(n_known > 0 && n_known <= n_year, "a run rate needs 1..=n_year known periods");
    let (year, known) = (Decimal::from(n_year as u64), Decimal::from(n_known as u64));
    let num = sum.checked_mul(year)?;
    let q = num.checked_div(known)?;
    let r = q.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let exact = r.checked_mul(known) == Some(num);
    Some(if exact { (q.normalize(), false) } else { (r, true) })
}

/// The forecast of `year` of `contract` (the version governing the year)
/// from the measurements `ms`, with `carry` the state carried into the
/// year.
pub fn forecast(
    contract: &Contract,
    year: u16,
    carry: &Carry,
    ms: &[Measurement],
    opts: &Options,
) -> Result<Forecast, ForecastError> {
    if let Some(t) = opts.through {
        if t.year != year {
            return Err(ForecastError::Option(format!("--through {} does not lie in {year}", t.label())));
        }
    }
    for id in opts.assume.keys() {
        if contract.indicator(id).is_none() {
            return Err(ForecastError::Option(format!(
                "--assume {id}: contract {} has no such indicator",
                contract.id
            )));
        }
    }
    let count_through = opts.through.map_or(MONTHS, |t| t.month);
    // Periods are due up to `through`, else up to the end of the last
    // agreed period of a monthly or quarterly indicator.
    let due_through = match opts.through {
        Some(t) => t.month,
        None => contract
            .indicators
            .iter()
            .filter(|i| i.period != Period::Year)
            .flat_map(|i| {
                ms.iter()
                    .filter(move |m| m.indicator == i.id && m.year == year && m.state == State::Agreed)
                    .map(move |m| end_month(i, &m.period))
            })
            .filter(|m| *m <= MONTHS)
            .max()
            .unwrap_or(0),
    };
    let required = required_indicators(contract, year);
    let mut inputs = Inputs::new(year);
    let mut indicators = Vec::new();
    let mut missing = Vec::new();
    for ind in &contract.indicators {
        let is_required = required.iter().any(|r| r.indicator == ind.id && r.year == year);
        let (known, not_counted, after_through) = classify(ind, year, ms, count_through, due_through);
        let n_year = measurement::periods_of_year(ind, year).len();
        let values: Vec<Decimal> = known.iter().map(|(_, v)| *v).collect();
        let known_sum =
            (ind.period != Period::Year && !known.is_empty()).then(|| aggregate(Aggregation::Sum, &values)).flatten();
        let overflow = || {
            ForecastError::Engine(SettleError::Arithmetic {
                figure: format!("the run rate of {}", ind.id),
                problem: "overflow",
            })
        };
        let mut f = IndicatorForecast {
            indicator: ind.id.clone(),
            period: ind.period,
            aggregation: ind.aggregation,
            unit: ind.unit,
            required: is_required,
            basis: Basis::Unknown,
            value: None,
            periods_in_year: n_year,
            periods_known: known.len(),
            known_sum,
            last_known: known.last().map(|(p, _)| p.clone()),
            rounded_to: None,
            from_year: None,
            not_counted,
            after_through,
        };
        if !known.is_empty() && opts.assume.contains_key(&ind.id) {
            return Err(ForecastError::Option(format!(
                "--assume {}: {} has agreed figures for {year} ({} of {n_year} periods), which the forecast uses; drop --assume {}",
                ind.id,
                ind.id,
                known.len(),
                ind.id
            )));
        }
        if known.len() == n_year {
            f.basis = Basis::Agreed;
            f.value = Some(aggregate(ind.aggregation, &values).ok_or_else(overflow)?);
        } else if !known.is_empty() {
            f.basis = Basis::RunRate;
            f.value = Some(match ind.aggregation {
                Aggregation::Sum => {
                    let dp = run_rate_dp(ind.unit);
                    let sum = known_sum.ok_or_else(overflow)?;
                    let (v, rounded) = sum_run_rate(sum, n_year, known.len(), dp).ok_or_else(overflow)?;
                    f.rounded_to = rounded.then_some(dp);
                    v
                }
                Aggregation::Mean | Aggregation::Last => aggregate(ind.aggregation, &values).ok_or_else(overflow)?,
            });
        } else if let Some(v) = opts.assume.get(&ind.id) {
            f.basis = Basis::Assumed;
            f.value = Some(*v);
        } else if let Some(prev) = year.checked_sub(1) {
            let (mut e, mut n) = (Vec::new(), Vec::new());
            if let Ok(v) = indicator_value(ind, prev, ms, false, &mut e, &mut n) {
                f.basis = Basis::LastYear;
                f.value = Some(v);
                f.from_year = Some(prev);
            }
        }
        match f.value {
            Some(v) => {
                inputs.figures.insert(ind.id.clone(), Figure { value: v, source_entry: None });
            }
            None if is_required => {
                missing.push(Missing { indicator: ind.id.clone(), year, periods: f.not_counted.clone() })
            }
            None => {}
        }
        indicators.push(f);
    }
    let mut other_years = Vec::new();
    for r in required.iter().filter(|r| r.year != year) {
        let Some(ind) = contract.indicator(&r.indicator) else { continue };
        let (mut e, mut n) = (Vec::new(), Vec::new());
        match indicator_value(ind, r.year, ms, false, &mut e, &mut n) {
            Ok(v) => {
                inputs
                    .other_years
                    .entry(r.year)
                    .or_default()
                    .insert(r.indicator.clone(), Figure { value: v, source_entry: None });
                other_years.push(OtherYear { indicator: r.indicator.clone(), year: r.year, value: v });
            }
            Err(blockers) => missing.push(Missing {
                indicator: r.indicator.clone(),
                year: r.year,
                periods: blockers
                    .into_iter()
                    .map(|b| NotCounted { period: b.period, state: b.state, to_act: b.to_act })
                    .collect(),
            }),
        }
    }
    let mut flags = missing_flags(contract, &indicators);
    let statement = if missing.is_empty() {
        let st = settle_year(contract, &inputs, carry).map_err(ForecastError::Engine)?;
        flags.extend(statement_flags(contract, &st));
        Some(st)
    } else {
        None
    };
    Ok(Forecast {
        contract: contract.id.clone(),
        year,
        through: opts.through.map(|t| t.label()),
        as_of: (due_through > 0).then(|| format!("{year}-{due_through:02}")),
        indicators,
        other_years,
        missing,
        flags,
        statement,
    })
}

/// Under `block_settlement`: each required indicator with periods up to the
/// forecast's point that are not agreed.
fn missing_flags(contract: &Contract, indicators: &[IndicatorForecast]) -> Vec<Flag> {
    if contract.monitoring.missing_measurement != MissingMeasurement::BlockSettlement {
        return Vec::new();
    }
    indicators
        .iter()
        .filter(|f| f.required && !f.not_counted.is_empty())
        .map(|f| Flag::MissingMeasurement {
            indicator: f.indicator.clone(),
            periods: f.not_counted.clone(),
            clause: "monitoring.missing_measurement".into(),
        })
        .collect()
}

/// Whether a line's formula says its cap binds: the engine words a cap
/// with `line-applies` or `line-lesser-applies` when it does.
pub fn cap_binds(line: &Line) -> bool {
    line.formula
        .terms
        .iter()
        .any(|t| matches!(t, Term::Sub(m, _) if m.key == "line-applies" || m.key == "line-lesser-applies"))
}

/// The contract clause of a cap line.
fn cap_clause(id: &str) -> String {
    match id {
        "shared_savings.savings_cap" => "payments.shared_savings.savings_cap".into(),
        "shared_savings.loss_cap" => "payments.shared_savings.loss_cap".into(),
        "shared_savings.figure_loss_cap" => "payments.shared_savings.figure_loss_cap".into(),
        "bundled.stop_gain" => "payments.bundled.stop_gain".into(),
        "bundled.stop_loss" => "payments.bundled.stop_loss".into(),
        other => format!("payments.{}", other.split('.').next().unwrap_or(other)),
    }
}

/// The flags raised by the lines and per-party results of `st`.
fn statement_flags(contract: &Contract, st: &Statement) -> Vec<Flag> {
    let mut flags = Vec::new();
    let amount = |id: &str| st.line(id).and_then(|l| l.amount);
    // Quality gate.
    let score = st.line(QUALITY_SCORE_LINE).and_then(|l| l.value);
    if let Some(g) = gate::quality_gate(contract, score) {
        flags.push(Flag::QualityGate {
            score: g.score,
            gate: g.gate,
            met: g.met,
            consequence: g.consequence,
            clause: "payments.shared_savings.min_quality_score; monitoring.below_quality_gate".into(),
        });
    }
    // Quality indicators below target.
    for (ind, _) in contract.quality_indicators() {
        if let Some(score) = st.line(&format!("quality.{}", ind.id)).and_then(|l| l.value) {
            if score < Decimal::ONE {
                flags.push(Flag::BelowTarget {
                    indicator: ind.id.clone(),
                    score,
                    clause: format!("indicators.{}.quality", ind.id),
                });
            }
        }
    }
    // Savings inside the corridor; a loss inside the loss corridor.
    if let Some(base) = st.line("shared_savings.shared_base") {
        let key = base.formula.msg.key;
        if key == "line-ss-shared-none" || key == "line-ss-shared-inside" {
            let savings = base.formula.terms.iter().find_map(|t| match t {
                Term::Money(m) => Some(*m),
                _ => None,
            });
            if let (Some(savings), Some(corridor)) = (savings, amount("shared_savings.corridor")) {
                if savings > Decimal::ZERO {
                    flags.push(Flag::InsideCorridor {
                        savings,
                        corridor,
                        shared: key == "line-ss-shared-inside",
                        clause: "payments.shared_savings.corridor".into(),
                    });
                }
            }
        }
    }
    if let Some(base) = st.line("shared_savings.shared_loss_base") {
        if base.formula.msg.key == "line-ss-loss-shared-none" {
            if let Some(loss) = amount("shared_savings.loss").filter(|l| *l > Decimal::ZERO) {
                flags.push(Flag::InsideLossCorridor { loss, clause: "payments.shared_savings.corridor".into() });
            }
        }
    }
    // Caps that bind.
    for l in st.lines.iter().filter(|l| cap_binds(l)) {
        if let Some(cap) = l.amount {
            flags.push(Flag::CapReached { line: l.id.to_string(), cap, clause: cap_clause(&l.id) });
        }
    }
    // Bonuses not met.
    if let Some(p4p) = &contract.payments.pay_for_performance {
        for b in &p4p.bonuses {
            if amount(&format!("p4p.{}", b.id)).is_some_and(|a| a.is_zero()) {
                flags.push(Flag::BonusNotMet {
                    bonus: b.id.clone(),
                    indicator: b.indicator.clone(),
                    clause: format!("payments.pay_for_performance.bonuses.{}", b.id),
                });
            }
        }
    }
    // A loss for a provider.
    for p in st.parties.iter().filter(|p| p.role == Role::Provider && p.result < Decimal::ZERO) {
        let mut clauses: Vec<String> = st
            .lines
            .iter()
            .filter(|l| l.from.as_deref() == Some(p.party.as_str()) && l.transfer_kind() == Some(TransferKind::Result))
            .map(|l| format!("payments.{}", l.id.split('.').next().unwrap_or(&l.id)))
            .collect();
        clauses.dedup();
        flags.push(Flag::ProviderLoss { party: p.party.to_string(), amount: -p.result, clause: clauses.join("; ") });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn through_parses_strictly_and_in_the_year() {
        assert_eq!(Through::parse("2027-Q2", 2027), Ok(Through { year: 2027, month: 6 }));
        assert_eq!(Through::parse("2027-06", 2027), Ok(Through { year: 2027, month: 6 }));
        assert_eq!(Through::parse("2027", 2027), Ok(Through { year: 2027, month: 12 }));
        for bad in ["2027-Q5", "2027-Q0", "2027-13", "2027-6", "27-06", "2027-06 ", "", "2027-q2", "2027-Q22"] {
            let e = Through::parse(bad, 2027).unwrap_err();
            assert!(e.contains("--through"), "{bad}: {e}");
        }
        assert!(Through::parse("2026-Q2", 2027).unwrap_err().contains("not in the forecast year 2027"));
    }

    #[test]
    fn a_sum_run_rate_is_exact_or_rounded_and_says_so() {
        assert_eq!(sum_run_rate(dec!(2370), 12, 6, 0), Some((dec!(4740), false)));
        // 100 x 12 / 7 = 171.428571...: rounded to whole members.
        assert_eq!(sum_run_rate(dec!(100), 12, 7, 0), Some((dec!(171), true)));
        // 1237.5 x 12 / 5 = 2970: exact.
        assert_eq!(sum_run_rate(dec!(1237.5), 12, 5, 6), Some((dec!(2970), false)));
        // Half away from zero: 0.125 x 4 / 1 exact; 1 x 4 / 3 = 1.333.. -> 1.33 in euros.
        assert_eq!(sum_run_rate(dec!(1), 4, 3, 2), Some((dec!(1.33), true)));
        assert_eq!(sum_run_rate(dec!(5), 12, 12, 0), Some((dec!(5), false)));
    }
}
