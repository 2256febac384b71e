//! The statement as an Excel workbook a controller can check in Excel.
//!
//! Sheets, in this order (the layout is documented in docs/XLSX.md):
//!
//! 1. `Statement`: where the statement stands (computable, signed by whom,
//!    waiting for whom, settled), then every line: id, label, computation in
//!    words, amount, value, from, to, funding, note. Every computed amount
//!    and value is a real Excel formula over the `Inputs` sheet and other
//!    lines, written with the engine's exact amount as its cached result
//!    ([`crate::present::xlsx_formula`]); a line whose rule no formula here
//!    states exactly keeps the engine's amount as a number, and its note
//!    says so.
//! 2. `Parties`: cash received, paid, net and result per party, as sums of
//!    the transfer lines.
//! 3. `Payments`: who pays whom (FROM -> TO, amount of 0 or more), the nets
//!    of the transfer lines; totals per funding stream and direction.
//! 4. `Balances`: losses carried, advances outstanding at the start and end
//!    of the year; revenue guarantees.
//! 5. `Inputs`: every agreed figure used (indicator, year, value, source
//!    entry), then the contract terms the formulas use, then the input
//!    entries.
//! 6. `Signatures`: who signed which statement, when (an Excel date), by
//!    which entry.
//!
//! The workbook is byte-identical for the same statement and standing: its
//! creation date is fixed to 1 January of the year after the contract year.
//! Texts come from `locales/{en,nl}/xlsx.ftl`; numbers and dates are cells
//! with number formats, which Excel shows in its own locale.
//!
//! Spreadsheet cells hold binary floating-point numbers. An amount in cents
//! below 10^13 converts to the nearest such number and shows back exactly;
//! a larger one is written as text so no cent is lost (and gets no
//! formula). The exact figures remain those of the JSON statement, whose
//! hash is the statement hash.

use std::cell::RefCell;
use std::collections::BTreeMap;

use anyhow::Result;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook, Worksheet};

use crate::domain::contract::{
    BaselineUnit, Contract, Corridor, ForceMajeure, LossShare, PayerRule, ProviderRule, QualityScaling, Remainder,
    Role, Rounding, Scoring, SharingBase, Trend, Unit,
};
use crate::domain::settlement::compare::Comparison;
use crate::domain::settlement::cosign::Computed;
use crate::domain::settlement::{Statement, ENGINE_VERSION, RATIO_DP};
use crate::ledger::text::spreadsheet_cell;
use crate::present::lang::{Arg, Lang, Tr};
use crate::present::statement::{balances_in, guarantees, Standing};
use crate::present::words;
use crate::present::xlsx_formula::{add, div, if_, int, lit, mul, round, sub, Cmp, Ex, Mid};

/// Amounts at or above this magnitude are written as text.
const EXACT_LIMIT: i64 = 10_000_000_000_000;

/// The sheet names in the workbook's language (`xlsx-sheet-*` in
/// xlsx.ftl); formulas reference them.
#[derive(Debug, Clone)]
struct Names {
    statement: String,
    parties: String,
    payments: String,
    balances: String,
    inputs: String,
    signatures: String,
    splits: String,
    corrections: String,
}

impl Names {
    fn new(tr: &Tr) -> Names {
        let n = |id: &str| tr.t(id);
        Names {
            statement: n("xlsx-sheet-statement"),
            parties: n("xlsx-sheet-parties"),
            payments: n("xlsx-sheet-payments"),
            balances: n("xlsx-sheet-balances"),
            inputs: n("xlsx-sheet-inputs"),
            signatures: n("xlsx-sheet-signatures"),
            splits: n("xlsx-sheet-splits"),
            corrections: n("xlsx-sheet-corrections"),
        }
    }
}

/// `sheet!cell`: the sheet name quoted when it is not a plain word.
fn on(sheet: &str, cell: &str) -> String {
    if sheet.chars().all(|c| c.is_ascii_alphanumeric()) {
        format!("{sheet}!{cell}")
    } else {
        format!("'{}'!{cell}", sheet.replace('\'', "''"))
    }
}

/// Most decimals of a split weight the `Splits` sheet scales to a whole
/// number (`ROUND(weight x 10^d, 0)`); a key with more gets no formulas.
const MAX_WEIGHT_DP: u32 = 12;

/// Statement sheet columns: amount and value.
const COL_AMOUNT: u16 = 3;
/// See [`COL_AMOUNT`].
const COL_VALUE: u16 = 4;
/// See [`COL_AMOUNT`].
const COL_NOTE: u16 = 8;

/// One signature of a statement of the workbook's year, for the
/// `Signatures` sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signing party.
    pub party: String,
    /// The hash of the statement it signed.
    pub statement: String,
    /// The signing entry id.
    pub entry: String,
    /// The author's claimed time (RFC 3339, as in the entry).
    pub time: String,
}

/// What the workbook shows besides the computed statement.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The contract version governing the year: its terms go on the
    /// `Inputs` sheet and its rules into the formulas. Without it every
    /// line keeps its amount as a number with a note.
    pub terms: Option<&'a Contract>,
    /// Every signature of a statement of the year (this one or another).
    pub signatures: &'a [Signature],
    /// The measurement entries each figure used comes from, by (indicator,
    /// year): several when the figure aggregates periods.
    pub sources: &'a BTreeMap<(String, u16), Vec<String>>,
    /// The language of the texts.
    pub lang: Lang,
    /// The statement this one replaced (its hash) and the comparison of
    /// the two (A: replaced, B: this one), for the `Corrections` sheet.
    pub replaced: Option<(&'a str, &'a Comparison)>,
}

/// `a` as the double an Excel number cell stores, when that is exact to the
/// cent: below [`EXACT_LIMIT`] an amount has at most 15 significant digits,
/// which a double holds and gives back as the same decimal text. Larger
/// amounts return `None` and are written as text. This is the only float in
/// the statement path: the workbook format has no decimal type, and no
/// amount is ever computed from it (the engine's exact amount is also each
/// formula's cached result).
fn fits(a: Decimal) -> Option<f64> {
    a.to_f64().filter(|_| a.abs() < Decimal::from(EXACT_LIMIT))
}

fn money_cell(ws: &mut Worksheet, row: u32, col: u16, a: Decimal, fmt: &Format) -> Result<()> {
    match fits(a) {
        Some(f) => ws.write_number_with_format(row, col, f, fmt)?,
        None => ws.write_string(row, col, format!("{a:.2}"))?,
    };
    Ok(())
}

fn value_cell(ws: &mut Worksheet, row: u32, col: u16, v: Decimal) -> Result<()> {
    match fits(v) {
        Some(f) => ws.write_number(row, col, f)?,
        None => ws.write_string(row, col, v.to_string())?,
    };
    Ok(())
}

/// Writes `ex` as a formula with `engine` as its cached result when the
/// formula gives exactly `engine`; returns whether it did.
fn formula_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    ex: &Ex,
    engine: Decimal,
    fmt: Option<&Format>,
) -> Result<bool> {
    let (Some(text), Some(v)) = (ex.formula(), ex.eval()) else { return Ok(false) };
    if v != engine || fits(engine).is_none() {
        return Ok(false);
    }
    let f = Formula::new(format!("={text}")).set_result(engine.normalize().to_string());
    match fmt {
        Some(fmt) => ws.write_formula_with_format(row, col, f, fmt)?,
        None => ws.write_formula(row, col, f)?,
    };
    Ok(true)
}

fn header(ws: &mut Worksheet, row: u32, names: &[String], bold: &Format) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        ws.write_string_with_format(row, i as u16, n, bold)?;
    }
    Ok(())
}

/// `A1` address of a 0-based cell, absolute when `abs`.
fn addr(row: u32, col: u16, abs: bool) -> String {
    let mut letters = String::new();
    let mut c = u32::from(col) + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        letters.insert(0, char::from(b'A' + rem as u8));
        c = (c - 1) / 26;
    }
    if abs {
        format!("${letters}${}", row + 1)
    } else {
        format!("{letters}{}", row + 1)
    }
}

/// Where everything a formula references sits, with its engine value.
struct Refs<'a> {
    s: &'a Statement,
    /// Line id -> 0-based row on the Statement sheet.
    rows: BTreeMap<&'a str, u32>,
    /// (indicator, year) -> (0-based row on Inputs, value).
    figs: BTreeMap<(&'a str, u16), (u32, Decimal)>,
    /// First 0-based row of the terms on Inputs.
    terms_row: u32,
    /// Terms the formulas use: (key, value), in first-use order.
    terms: RefCell<Vec<(String, Decimal)>>,
    /// Balance id -> (0-based row on Balances, start of year).
    balance_rows: BTreeMap<String, (u32, Option<Decimal>)>,
    /// Whether the formula is on the Statement sheet (plain references).
    local: bool,
    /// The sheet names.
    names: Names,
    /// The contract version whose terms the formulas use.
    contract: Option<&'a Contract>,
    mid: Mid,
}

impl<'a> Refs<'a> {
    fn line(&self, id: &str, col: u16) -> Option<Ex> {
        let l = self.s.line(id)?;
        let v = if col == COL_AMOUNT { l.amount? } else { l.value? };
        let row = *self.rows.get(id)?;
        let a = if self.local { addr(row, col, false) } else { on(&self.names.statement, &addr(row, col, true)) };
        Some(Ex::Cell(a, v))
    }
    /// The amount of line `id`.
    fn d(&self, id: &str) -> Option<Ex> {
        self.line(id, COL_AMOUNT)
    }
    /// The value of line `id`.
    fn e(&self, id: &str) -> Option<Ex> {
        self.line(id, COL_VALUE)
    }
    fn fig(&self, indicator: &str, year: u16) -> Option<Ex> {
        let (row, v) = self.figs.get(&(indicator, year))?;
        Some(Ex::Cell(on(&self.names.inputs, &addr(*row, 2, true)), *v))
    }
    fn fig_now(&self, indicator: &str) -> Option<Ex> {
        self.fig(indicator, self.s.year)
    }
    /// A contract term on the Inputs sheet.
    fn term(&self, key: &str, v: Decimal) -> Ex {
        let mut t = self.terms.borrow_mut();
        let i = match t.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                t.push((key.to_string(), v));
                t.len() - 1
            }
        };
        Ex::Cell(on(&self.names.inputs, &addr(self.terms_row + i as u32, 2, true)), t[i].1)
    }
    fn cents(&self, e: Ex) -> Ex {
        round(e, 2, self.mid)
    }
    fn ratio(&self, e: Ex) -> Ex {
        round(e, RATIO_DP, self.mid)
    }
    /// The start-of-year balance `id` (`losses_carried`, `advance.N`).
    fn balance_start(&self, id: &str) -> Option<Ex> {
        let (row, v) = self.balance_rows.get(id)?;
        Some(Ex::Cell(on(&self.names.balances, &addr(*row, 2, true)), (*v)?))
    }
    fn losses_carried_in(&self) -> Ex {
        // The first row of the Balances sheet is always losses carried.
        Ex::Cell(on(&self.names.balances, &addr(1, 2, true)), self.s.carry_in.losses_carried)
    }
}

/// The formula of a line's amount (`value == false`) or value, when one
/// states the engine's rule for it.
fn rule(r: &Refs<'_>, c: &Contract, id: &str, value: bool) -> Option<Ex> {
    let ss = c.payments.shared_savings.as_ref();
    let s = r.s;
    let has = |id: &str| s.line(id).is_some();
    let ss_id = id.strip_prefix("shared_savings.");
    if let (Some(name), Some(ss)) = (ss_id, ss) {
        let net = || r.d("shared_savings.net_savings").or_else(|| r.d("shared_savings.gross_savings"));
        return match (name, value) {
            ("trend_factor", true) => {
                let b = c.baseline.as_ref()?;
                let f = match b.trend.as_ref()? {
                    Trend::FixedRate { rate } => {
                        let n = s.year.checked_sub(b.base_year)?;
                        Ex::Pow(Box::new(add(lit(1), r.term("baseline.trend.rate", *rate))), u32::from(n))
                    }
                    Trend::RatesPerYear { rates } => {
                        let mut f = lit(1);
                        for y in b.base_year.saturating_add(1)..=s.year {
                            let t = r.term(&format!("baseline.trend.rates.{y}"), *rates.get(&y)?);
                            f = mul(f, add(lit(1), t));
                        }
                        f
                    }
                    Trend::MeasuredRate { indicator } => {
                        let mut f = lit(1);
                        for y in b.base_year.saturating_add(1)..=s.year {
                            f = mul(f, add(lit(1), r.fig(indicator, y)?));
                        }
                        f
                    }
                    Trend::MeasuredIndex { indicator } => div(r.fig_now(indicator)?, r.fig(indicator, b.base_year)?),
                };
                Some(r.ratio(f))
            }
            ("risk_factor", true) => match c.baseline.as_ref()?.risk_adjustment.as_ref()? {
                crate::domain::contract::RiskAdjustment::Fixed { factor } => {
                    Some(r.term("baseline.risk_adjustment.factor", *factor))
                }
                crate::domain::contract::RiskAdjustment::Measured { indicator } => r.fig_now(indicator),
                crate::domain::contract::RiskAdjustment::None => None,
            },
            ("benchmark", false) => {
                let b = c.baseline.as_ref()?;
                let (Some(cost), Some(unit), Some(_)) = (b.cost, b.unit, &b.trend) else {
                    return Some(r.cents(r.fig_now(b.benchmark_indicator.as_deref()?)?));
                };
                let size_id = &c.population.size_indicator;
                let size = r.fig_now(size_id)?;
                let size_unit = c.indicator(size_id).map(|i| i.unit);
                let mut x = mul(r.term("baseline.cost", cost), r.e("shared_savings.trend_factor")?);
                if let Some(risk) = r.e("shared_savings.risk_factor") {
                    x = mul(x, risk);
                }
                let x = match (unit, size_unit) {
                    (BaselineUnit::PerMemberYear, Some(Unit::MemberMonths)) => div(mul(x, size), lit(12)),
                    (BaselineUnit::PerMemberMonth, Some(Unit::Members)) => mul(x, mul(size, lit(12))),
                    _ => mul(x, size),
                };
                Some(r.cents(x))
            }
            ("actual_cost", false) => Some(r.cents(r.fig_now(&ss.actual_cost_indicator)?)),
            ("gross_savings", false) => Some(sub(r.d("shared_savings.benchmark")?, r.d("shared_savings.actual_cost")?)),
            ("losses_netted", false) => {
                Some(Ex::Min(vec![r.losses_carried_in(), r.d("shared_savings.gross_savings")?]))
            }
            ("net_savings", false) => {
                Some(sub(r.d("shared_savings.gross_savings")?, r.d("shared_savings.losses_netted")?))
            }
            ("savings_rate", true) => Some(r.ratio(div(net()?, r.d("shared_savings.benchmark")?))),
            ("quality_score", true) => {
                let mut terms = Vec::new();
                for (ind, q) in c.quality_indicators() {
                    terms.push(mul(
                        r.term(&format!("quality.{}.weight", ind.id), q.weight),
                        r.e(&format!("quality.{}", ind.id))?,
                    ));
                }
                Some(Ex::Min(vec![lit(1), Ex::Max(vec![lit(0), Ex::Sum(terms)])]))
            }
            ("corridor_rate", true) => corridor_term(r, &ss.corridor, false),
            ("quality_gate", true) => r.e("shared_savings.quality_score"),
            ("loss_corridor_rate", true) => corridor_term(r, &ss.corridor, true),
            ("corridor", false) => {
                Some(r.cents(mul(r.e("shared_savings.corridor_rate")?, r.d("shared_savings.benchmark")?)))
            }
            ("loss_corridor", false) => {
                Some(r.cents(mul(r.e("shared_savings.loss_corridor_rate")?, r.d("shared_savings.benchmark")?)))
            }
            ("shared_base", false) => {
                let (net, corridor) = (net()?, r.d("shared_savings.corridor")?);
                let base = match ss.sharing_base {
                    SharingBase::FirstEuro => net.clone(),
                    SharingBase::AboveCorridor => sub(net.clone(), corridor.clone()),
                };
                // Inside the corridor: nothing, or all net savings when the
                // inside-corridor condition (1 met, 0 not) holds. The
                // condition line is there whenever savings are inside it.
                let inside = match r.e("shared_savings.inside_corridor_condition") {
                    Some(met) if ss.inside_corridor.is_some() => if_(met, Cmp::Eq, lit(1), net.clone(), lit(0)),
                    _ => lit(0),
                };
                Some(if_(net, Cmp::Lt, corridor, inside, base))
            }
            ("inside_corridor_condition", true) => {
                let inside = ss.inside_corridor.as_ref()?;
                let v = r.fig_now(&inside.indicator)?;
                let target = r.term("shared_savings.inside_corridor.target", inside.target);
                let lower = c
                    .indicator(&inside.indicator)
                    .is_some_and(|i| i.direction == crate::domain::contract::Direction::LowerIsBetter);
                // Met (1): at most the target (lower is better), else at least it.
                Some(if lower {
                    if_(v, Cmp::Gt, target, lit(0), lit(1))
                } else {
                    if_(v, Cmp::Ge, target, lit(1), lit(0))
                })
            }
            ("shared_loss_base", false) => {
                let (loss, corridor) = (r.d("shared_savings.loss")?, r.d("shared_savings.loss_corridor")?);
                let base = match ss.sharing_base {
                    SharingBase::FirstEuro => loss.clone(),
                    SharingBase::AboveCorridor => sub(loss.clone(), corridor.clone()),
                };
                Some(if_(loss, Cmp::Lt, corridor, lit(0), base))
            }
            ("loss", false) => Some(sub(lit(0), net()?)),
            ("losses_carried_out", false) => {
                // Carried in, less what this year's savings netted, plus a
                // loss of which the providers paid nothing.
                let mut x = r.losses_carried_in();
                if let Some(netted) = r.d("shared_savings.losses_netted") {
                    x = sub(x, netted);
                }
                if let Some(loss) = r.d("shared_savings.loss") {
                    // What the providers shared in, after the caps: a loss
                    // that pro-rating or force majeure forgives is settled,
                    // not carried.
                    let relief = ss.participation_months_indicator.is_some() || ss.force_majeure.is_some();
                    let paid = match r.d("shared_savings.provider_loss") {
                        Some(_) if relief => loss_after_caps(r),
                        Some(paid) => paid,
                        None => lit(0),
                    };
                    x = add(x, if_(paid, Cmp::Eq, lit(0), loss, lit(0)));
                }
                Some(x)
            }
            ("provider_rate", true) => {
                let mut share = r.term("shared_savings.provider_share", ss.provider_share);
                if let Some(inside) = &ss.inside_corridor {
                    // Savings inside the corridor are shared at the
                    // inside-corridor rate (only when its condition holds
                    // is there a rate at all).
                    let low = r.term("shared_savings.inside_corridor.provider_share", inside.provider_share);
                    share = if_(net()?, Cmp::Lt, r.d("shared_savings.corridor")?, low, share);
                }
                Some(match ss.quality_scaling {
                    QualityScaling::None => share,
                    QualityScaling::Proportional => match r.e("shared_savings.quality_score") {
                        Some(q) => mul(share, q),
                        None => share,
                    },
                })
            }
            ("provider_share", false) => {
                Some(r.cents(mul(r.e("shared_savings.provider_rate")?, r.d("shared_savings.shared_base")?)))
            }
            ("withhold", false) => Some(
                r.cents(mul(r.term("shared_savings.withhold", ss.withhold), r.d("shared_savings.provider_share")?)),
            ),
            ("after_withhold", false) => {
                Some(sub(r.d("shared_savings.provider_share")?, r.d("shared_savings.withhold")?))
            }
            ("savings_cap", false) => Some(
                r.cents(mul(r.term("shared_savings.savings_cap", ss.savings_cap?), r.d("shared_savings.benchmark")?)),
            ),
            ("loss_cap", false) => {
                Some(r.cents(mul(r.term("shared_savings.loss_cap", ss.loss_cap?), r.d("shared_savings.benchmark")?)))
            }
            ("provider_payout", false) => {
                if has("shared_savings.quality_gate") || !has("shared_savings.provider_share") {
                    return Some(lit(0));
                }
                let before = r.d("shared_savings.after_withhold").or_else(|| r.d("shared_savings.provider_share"))?;
                Some(match r.d("shared_savings.savings_cap") {
                    Some(cap) => Ex::Min(vec![before, cap]),
                    None => before,
                })
            }
            ("payer_keeps", false) => {
                Some(sub(r.d("shared_savings.gross_savings")?, r.d("shared_savings.provider_payout")?))
            }
            ("loss_rate", true) => match ss.loss_share.as_ref()? {
                LossShare::Fixed { rate } => Some(r.term("shared_savings.loss_share.rate", *rate)),
                LossShare::QualityScaled { intercept, slope, min, max } => {
                    let q = r.e("shared_savings.quality_score").unwrap_or(lit(0));
                    let raw = sub(
                        r.term("shared_savings.loss_share.intercept", *intercept),
                        mul(r.term("shared_savings.loss_share.slope", *slope), q),
                    );
                    Some(Ex::Min(vec![
                        r.term("shared_savings.loss_share.max", *max),
                        Ex::Max(vec![r.term("shared_savings.loss_share.min", *min), raw]),
                    ]))
                }
            },
            ("provider_loss_share", false) => {
                Some(r.cents(mul(r.e("shared_savings.loss_rate")?, r.d("shared_savings.shared_loss_base")?)))
            }
            ("figure_loss_cap", false) => {
                let cap = ss.figure_loss_cap.as_ref()?;
                let figure = r.cents(r.fig_now(&cap.indicator)?);
                Some(r.cents(mul(r.term("shared_savings.figure_loss_cap.rate", cap.rate), figure)))
            }
            ("loss_prorated", false) => {
                let months = r.fig_now(ss.participation_months_indicator.as_deref()?)?;
                Some(r.cents(div(mul(loss_after_caps(r), months), lit(crate::domain::settlement::MONTHS_PER_YEAR))))
            }
            ("loss_before_force_majeure", false) => {
                Some(r.d("shared_savings.loss_prorated").unwrap_or_else(|| loss_after_caps(r)))
            }
            ("force_majeure_fraction", true) => match ss.force_majeure.as_ref()? {
                ForceMajeure::Fraction { factors } => {
                    let mut f: Option<Ex> = None;
                    for ind in factors {
                        let v = r.fig_now(ind)?;
                        f = Some(match f {
                            None => v,
                            Some(f) => mul(f, v),
                        });
                    }
                    Some(r.ratio(f.unwrap_or_else(|| lit(1))))
                }
                ForceMajeure::Amount { .. } => None,
            },
            ("force_majeure_reduction", false) => {
                let before = r.d("shared_savings.loss_before_force_majeure")?;
                let raw = match ss.force_majeure.as_ref()? {
                    ForceMajeure::Fraction { .. } => {
                        r.cents(mul(r.e("shared_savings.force_majeure_fraction")?, before.clone()))
                    }
                    ForceMajeure::Amount { indicator } => r.cents(r.fig_now(indicator)?),
                };
                // Clamped to 0 .. the loss before it.
                Some(Ex::Min(vec![Ex::Max(vec![raw, lit(0)]), before]))
            }
            ("provider_loss", false) => {
                // After the caps, then pro-rated, then less force majeure.
                if has("shared_savings.force_majeure_reduction") {
                    Some(sub(
                        r.d("shared_savings.loss_before_force_majeure")?,
                        r.d("shared_savings.force_majeure_reduction")?,
                    ))
                } else if let Some(prorated) = r.d("shared_savings.loss_prorated") {
                    Some(prorated)
                } else {
                    Some(loss_after_caps(r))
                }
            }
            ("payer_bears", false) => match r.d("shared_savings.provider_loss") {
                Some(paid) => Some(sub(r.d("shared_savings.loss")?, paid)),
                None => r.d("shared_savings.loss"),
            },
            _ => None,
        };
    }
    if let (Some(name), Some(b), false) = (id.strip_prefix("bundled."), c.payments.bundled.as_ref(), value) {
        let target = || r.d("bundled.target_total");
        return match name {
            "target_total" => {
                Some(r.cents(mul(r.term("bundled.target_price", b.target_price), r.fig_now(&b.episodes_indicator)?)))
            }
            "actual_cost" => Some(r.cents(r.fig_now(&b.actual_cost_indicator)?)),
            "result" => Some(sub(target()?, r.d("bundled.actual_cost")?)),
            "stop_gain" => Some(r.cents(mul(r.term("bundled.stop_gain", b.stop_gain?), target()?))),
            "stop_loss" => Some(r.cents(mul(r.term("bundled.stop_loss", b.stop_loss?), target()?))),
            "settlement" => {
                let result = r.d("bundled.result")?;
                Some(match (r.d("bundled.stop_gain"), r.d("bundled.stop_loss")) {
                    (Some(cap), _) => Ex::Min(vec![result, cap]),
                    (None, Some(cap)) => Ex::Max(vec![result, sub(lit(0), cap)]),
                    (None, None) => result,
                })
            }
            _ => None,
        };
    }
    if let (Some(name), Some(cap), false) = (id.strip_prefix("capitation."), c.payments.capitation.as_ref(), value) {
        let budget = || r.d("capitation.budget");
        return match name {
            "budget" => {
                let members = r.fig_now(&cap.members_indicator)?;
                let monthly = c.indicator(&cap.members_indicator).is_some_and(|i| i.unit == Unit::MemberMonths);
                let raw = mul(r.term("capitation.amount_per_member", cap.amount_per_member), members);
                Some(r.cents(if monthly { div(raw, lit(12)) } else { raw }))
            }
            "actual_cost" => Some(r.cents(r.fig_now(&cap.actual_cost_indicator)?)),
            "result" => Some(sub(budget()?, r.d("capitation.actual_cost")?)),
            "provider_result" => {
                let bands: Vec<Ex> = (1..=cap.risk_corridors.len())
                    .map(|i| r.d(&format!("capitation.band.{i}")))
                    .collect::<Option<_>>()?;
                let total = Ex::Sum(bands);
                Some(if_(r.d("capitation.result")?, Cmp::Gt, lit(0), total.clone(), sub(lit(0), total)))
            }
            "payer_result" => Some(sub(r.d("capitation.result")?, r.d("capitation.provider_result")?)),
            band => {
                let i: usize = band.strip_prefix("band.")?.parse().ok()?;
                let rb = cap.risk_corridors.get(i.checked_sub(1)?)?;
                let key = format!("capitation.risk_corridors.{i}");
                let result = r.d("capitation.result")?;
                let size = Ex::Max(vec![result.clone(), sub(lit(0), result)]);
                let lo = r.cents(mul(r.term(&format!("{key}.from"), rb.from), budget()?));
                let top = match rb.to {
                    Some(to) => Ex::Min(vec![size, r.cents(mul(r.term(&format!("{key}.to"), to), budget()?))]),
                    None => size,
                };
                let part = Ex::Max(vec![lit(0), sub(top, lo)]);
                Some(r.cents(mul(r.term(&format!("{key}.provider_share"), rb.provider_share), part)))
            }
        };
    }
    if let (Some(bid), Some(p), false) = (id.strip_prefix("p4p."), c.payments.pay_for_performance.as_ref(), value) {
        let b = p.bonuses.iter().find(|b| b.id == bid)?;
        let v = r.fig_now(&b.indicator)?;
        let target = r.term(&format!("p4p.{bid}.target"), b.target);
        let each = r.term(&format!("p4p.{bid}.amount"), b.amount);
        let amount = match b.basis {
            crate::domain::contract::BonusBasis::Fixed => r.cents(each),
            // Per member: amount x size / 12 for member-months, one rounding.
            crate::domain::contract::BonusBasis::PerMember => {
                let size_id = &c.population.size_indicator;
                let x = mul(each, r.fig_now(size_id)?);
                let monthly = c.indicator(size_id).is_some_and(|i| i.unit == Unit::MemberMonths);
                r.cents(if monthly { div(x, lit(12)) } else { x })
            }
        };
        let lower =
            c.indicator(&b.indicator).is_some_and(|i| i.direction == crate::domain::contract::Direction::LowerIsBetter);
        // Met: at most the target (lower is better), else at least it.
        let (a, z) = if lower { (v, target) } else { (target, v) };
        return Some(if_(a, Cmp::Gt, z, lit(0), amount));
    }
    if let (Some(rest), false) = (id.strip_prefix("revenue_guarantee."), value) {
        let (n, what) = rest.split_once('.')?;
        let i: usize = n.parse().ok()?;
        let g = c.revenue_guarantees.get(i.checked_sub(1)?)?;
        return match what {
            "top_up" => {
                let floor = r.cents(r.term(&format!("revenue_guarantees.{i}.floor"), g.floor));
                Some(Ex::Max(vec![lit(0), sub(floor, r.d(&format!("revenue_guarantee.{i}.revenue"))?)]))
            }
            "revenue" => match &g.revenue_indicator {
                Some(ind) => Some(r.cents(r.fig_now(ind)?)),
                None => {
                    let end = s.lines.iter().position(|l| l.id == id)?;
                    let (mut plus, mut minus) = (Vec::new(), Vec::new());
                    for l in s.lines[..end].iter().filter(|l| l.is_transfer()) {
                        if l.to.as_deref() == Some(g.provider.as_str()) {
                            plus.push(r.d(&l.id)?);
                        } else if l.from.as_deref() == Some(g.provider.as_str()) {
                            minus.push(r.d(&l.id)?);
                        }
                    }
                    Some(sub(Ex::Sum(plus), Ex::Sum(minus)))
                }
            },
            _ => None,
        };
    }
    if let (Some(rest), false) = (id.strip_prefix("impulse."), value) {
        return impulse_rule(r, c, rest);
    }
    if let (Some(rest), Some(v)) = (id.strip_prefix("volume."), c.payments.volume.as_ref()) {
        return volume_rule(r, c, v, rest, value);
    }
    if let Some(ind_id) = id.strip_prefix("quality.").filter(|_| value) {
        let (ind, q) = c.quality_indicators().find(|(i, _)| i.id == ind_id)?;
        let v = r.fig_now(&ind.id)?;
        let lower = ind.direction == crate::domain::contract::Direction::LowerIsBetter;
        let target = r.term(&format!("quality.{}.target", ind.id), q.target);
        return Some(match q.scoring {
            Scoring::Step => {
                let (a, b) = if lower { (v, target) } else { (target, v) };
                // lower: met when v <= target, i.e. not (v > target).
                if_(a, Cmp::Gt, b, lit(0), lit(1))
            }
            Scoring::Linear => {
                let threshold = r.term(&format!("quality.{}.threshold", ind.id), q.threshold);
                let (num, den) = if lower {
                    (sub(threshold.clone(), v), sub(threshold, target))
                } else {
                    (sub(v, threshold.clone()), sub(target, threshold))
                };
                r.ratio(Ex::Min(vec![lit(1), Ex::Max(vec![lit(0), div(num, den)])]))
            }
        });
    }
    None
}

/// The providers' loss payment after the loss caps (the lesser of all that
/// apply), before pro-rating and force majeure: 0 when no loss is shared.
fn loss_after_caps(r: &Refs<'_>) -> Ex {
    let Some(share) = r.d("shared_savings.provider_loss_share") else {
        return lit(0);
    };
    let caps: Vec<Ex> =
        ["shared_savings.loss_cap", "shared_savings.figure_loss_cap"].iter().filter_map(|id| r.d(id)).collect();
    if caps.is_empty() {
        share
    } else {
        Ex::Min(std::iter::once(share).chain(caps).collect())
    }
}

/// Impulse lines (`impulse.{rest}`): a grant or advance is the contract's
/// amount; a repayment is `MIN(ROUND(rate x payout), balance, payout left
/// by earlier advances)`; a waived or due balance is what is left after
/// this year's repayment.
fn impulse_rule(r: &Refs<'_>, c: &Contract, rest: &str) -> Option<Ex> {
    let s = r.s;
    let (n, what) = rest.split_once('.')?;
    let i: usize = n.parse().ok()?;
    let imp = c.impulse.get(i.checked_sub(1)?)?;
    let kind = what.split('.').next()?;
    match kind {
        "grant" | "advance" => Some(r.cents(r.term(&format!("impulse.{i}.amount"), imp.amount))),
        "repayment_amount" => {
            let crate::domain::contract::ImpulseKind::Advance { repayment_rate, .. } = imp.kind else { return None };
            let adv = s.carry_in.advances.iter().find(|a| a.impulse == i)?;
            let mut payouts = Vec::new();
            for l in s.lines.iter().filter(|l| l.is_transfer() && l.id.starts_with("shared_savings.payout.")) {
                if l.payer_provider().is_some_and(|(_, p, a)| p == adv.recipient && !a.is_sign_negative()) {
                    payouts.push(r.d(&l.id)?);
                } else if l.payer_provider().is_some_and(|(_, p, _)| p == adv.recipient) {
                    return None;
                }
            }
            let total = Ex::Sum(payouts);
            let payout = Ex::Max(vec![lit(0), total.clone()]);
            // Earlier open advances to the same recipient repay first.
            let mut earlier = Vec::new();
            for a in s.carry_in.advances.iter().take_while(|a| a.impulse != i) {
                if a.recipient == adv.recipient {
                    earlier.push(r.d(&format!("impulse.{}.repayment_amount", a.impulse))?);
                }
            }
            let left =
                if earlier.is_empty() { payout.clone() } else { Ex::Max(vec![lit(0), sub(total, Ex::Sum(earlier))]) };
            let due = r.cents(mul(r.term(&format!("impulse.{i}.repayment_rate"), repayment_rate), payout));
            Some(Ex::Min(vec![due, r.balance_start(&format!("advance.{i}"))?, left]))
        }
        "waived" | "due" => match r.d(&format!("impulse.{i}.repayment_amount")) {
            Some(repaid) => Some(sub(r.balance_start(&format!("advance.{i}"))?, repaid)),
            None => r.d(&format!("impulse.{i}.advance.{}.{}", imp.payer, imp.recipient)),
        },
        _ => None,
    }
}

/// The end-of-year balance `id` from its start (`None`: none at the start)
/// and this year's lines: losses carried out; an advance plus what was
/// advanced, less what was repaid, waived or fell due.
fn balance_end(r: &Refs<'_>, id: &str, start: Option<Ex>) -> Option<Ex> {
    if id == "losses_carried" {
        return r.d("shared_savings.losses_carried_out").or(start);
    }
    let n = id.strip_prefix("advance.")?;
    let (mut plus, mut minus) = (Vec::new(), Vec::new());
    for l in &r.s.lines {
        let Some(rest) = l.id.strip_prefix(&format!("impulse.{n}.")) else { continue };
        match rest.split('.').next() {
            Some("advance") => plus.push(r.d(&l.id)?),
            Some("repayment" | "waived" | "due") => minus.push(r.d(&l.id)?),
            _ => {}
        }
    }
    let mut x = start.unwrap_or(lit(0));
    if !plus.is_empty() {
        x = add(x, Ex::Sum(plus));
    }
    if !minus.is_empty() {
        x = sub(x, Ex::Sum(minus));
    }
    Some(x)
}

/// Volume lines (`volume.{rest}`): a claim cap's limit (its value); an
/// activity's amount `ROUND(price x quantity after the caps, 2)`, each cap
/// in order leaving each of its activities in order
/// `MAX(0, MIN(quantity, limit - what earlier activities took))`; a tariff
/// adjustment `IF(triggered, ±ROUND(rate x amount, 2), 0)`; the yearly
/// maximum's cut `max - (amount + adjustments)`.
fn volume_rule(r: &Refs<'_>, c: &Contract, v: &crate::domain::contract::Volume, rest: &str, value: bool) -> Option<Ex> {
    use crate::domain::contract::{AdjustmentKind, CapPer, Direction, Trigger};
    if let Some(n) = rest.strip_prefix("cap.") {
        if !value {
            return None;
        }
        let i: usize = n.parse().ok()?;
        let cap = v.caps.get(i.checked_sub(1)?)?;
        let max = r.term(&format!("payments.volume.caps.{i}.max_quantity"), cap.max_quantity);
        return Some(match cap.per {
            CapPer::Year => max,
            CapPer::ClientMonth | CapPer::ClientYear => mul(max, r.fig_now(cap.exposure_indicator.as_deref()?)?),
        });
    }
    if value {
        return None;
    }
    let (aid, what) = rest.split_once('.')?;
    let (ai, a) = v.activities.iter().enumerate().find(|(_, a)| a.id == aid)?;
    let amount = || r.d(&format!("volume.{aid}.amount"));
    let adjustments = || -> Option<Vec<Ex>> {
        c.tariff_adjustments
            .iter()
            .filter(|t| t.applies_to.contains(&a.id))
            .map(|t| r.d(&format!("volume.{aid}.adjustment.{}", t.id)))
            .collect()
    };
    match what {
        "amount" => {
            let mut q: Vec<Option<Ex>> = v.activities.iter().map(|x| r.fig_now(&x.quantity_indicator)).collect();
            for (i, cap) in v.caps.iter().enumerate() {
                let limit = r.e(&format!("volume.cap.{}", i + 1))?;
                let mut taken: Vec<Ex> = Vec::new();
                for act in &cap.activities {
                    let Some(k) = v.activities.iter().position(|x| &x.id == act) else { continue };
                    let left =
                        if taken.is_empty() { limit.clone() } else { sub(limit.clone(), Ex::Sum(taken.clone())) };
                    let capped = Ex::Max(vec![lit(0), Ex::Min(vec![q[k].clone()?, left])]);
                    taken.push(capped.clone());
                    q[k] = Some(capped);
                }
            }
            Some(r.cents(mul(r.term(&format!("payments.volume.activities.{}.price", ai + 1), a.price), q[ai].clone()?)))
        }
        "max" => {
            let max =
                r.term(&format!("payments.volume.activities.{}.max_amount_per_year", ai + 1), a.max_amount_per_year?);
            let total = add(amount()?, Ex::Sum(adjustments()?));
            Some(sub(max, total))
        }
        "payment" => None,
        _ => {
            let tid = what.strip_prefix("adjustment.")?;
            let (ti, t) = c.tariff_adjustments.iter().enumerate().find(|(_, t)| t.id == tid)?;
            let key = format!("tariff_adjustments.{}", ti + 1);
            let mut adj = r.cents(mul(r.term(&format!("{key}.rate"), t.rate), amount()?));
            if t.kind == AdjustmentKind::Discount {
                adj = sub(lit(0), adj);
            }
            match &t.trigger {
                Trigger::Always => Some(adj),
                Trigger::TargetMet { indicator, target } | Trigger::TargetMissed { indicator, target } => {
                    let x = r.fig_now(indicator)?;
                    let target = r.term(&format!("{key}.trigger.target"), *target);
                    let lower = c.indicator(indicator).is_some_and(|i| i.direction == Direction::LowerIsBetter);
                    // Not met: above the target (lower is better), else below it.
                    let (p, q) = if lower { (x, target) } else { (target, x) };
                    let want_met = matches!(t.trigger, Trigger::TargetMet { .. });
                    Some(if want_met { if_(p, Cmp::Gt, q, lit(0), adj) } else { if_(p, Cmp::Gt, q, adj, lit(0)) })
                }
            }
        }
    }
}

/// The corridor rate: a fixed one is a term; one from a population table
/// compares the population (in its measured unit: rows x 12 for
/// member-months) with the rows: at or below the first row its rate, at or
/// above the last its rate, between two rows
/// `ROUND(ra + (rb - ra) x ((size - pa) / (pb - pa)), 6)`.
fn corridor_term(r: &Refs<'_>, corridor: &Corridor, loss: bool) -> Option<Ex> {
    if let (Corridor::PopulationTable { rows, population_indicator }, Some(c)) = (corridor, r.contract) {
        let ind = population_indicator.as_deref().unwrap_or(&c.population.size_indicator);
        let size = r.fig_now(ind)?;
        let divisor = if c.indicator(ind).is_some_and(|i| i.unit == Unit::MemberMonths) { 12 } else { 1 };
        let what = if loss { "min_loss_rate" } else { "min_savings_rate" };
        let row = |i: usize| -> Option<(Ex, Ex)> {
            let x = rows.get(i)?;
            let pop =
                r.term(&format!("shared_savings.corridor.rows.{}.population", i + 1), Decimal::from(x.population));
            let pop = if divisor == 1 { pop } else { mul(pop, lit(divisor)) };
            let rate = if loss { x.min_loss_rate.unwrap_or_default() } else { x.min_savings_rate };
            Some((pop, r.term(&format!("shared_savings.corridor.rows.{}.{what}", i + 1), rate)))
        };
        let n = rows.len();
        let (p0, r0) = row(0)?;
        let (pl, rl) = row(n - 1)?;
        // Innermost: the last window; outward: earlier windows.
        let mut inner = rl.clone();
        for i in (0..n - 1).rev() {
            let (pa, ra) = row(i)?;
            let (pb, rb) = row(i + 1)?;
            let t = div(sub(size.clone(), pa.clone()), sub(pb.clone(), pa));
            let step = r.ratio(add(ra.clone(), mul(sub(rb, ra), t)));
            inner = if_(size.clone(), Cmp::Lt, pb, step, inner);
        }
        return Some(if_(size.clone(), Cmp::Gt, p0, if_(size, Cmp::Ge, pl, rl, inner), r0));
    }
    match corridor {
        Corridor::Fixed { min_loss_rate, .. } if loss => {
            Some(r.term("shared_savings.corridor.min_loss_rate", min_loss_rate.unwrap_or_default()))
        }
        Corridor::Fixed { min_savings_rate, .. } => {
            Some(r.term("shared_savings.corridor.min_savings_rate", *min_savings_rate))
        }
        Corridor::PopulationTable { .. } => None,
    }
}

/// The helper cells of the `Splits` sheet: each split of an amount over
/// several payers or providers, restated in whole cents as the engine cuts
/// it (`distribution::split`): every part is first cut to whole cents
/// (`INT(cents x weight / sum of weights)`, the weights scaled to whole
/// numbers), the cents left over then go one each to the largest cut-off
/// remainders (ties: the party listed first) or all to the first party with
/// the largest weight.
#[derive(Default)]
struct Splits {
    /// The sheet's name.
    sheet: String,
    /// Cells to write: (0-based row, column, formula, bold text).
    cells: Vec<(u32, u16, Cell)>,
    /// (transfer prefix, payer, provider) -> the part in cents.
    parts: BTreeMap<(String, String, String), Ex>,
    /// The next free 0-based row.
    next: u32,
}

/// A cell of the `Splits` sheet.
enum Cell {
    /// A heading or party name.
    Text(String, bool),
    /// A formula with its exact value.
    Formula(Ex),
}

impl Splits {
    fn at(&self, row: u32, col: u16, v: Decimal) -> Ex {
        Ex::Cell(on(&self.sheet, &addr(row, col, true)), v)
    }

    /// Writes `ex` at (row, col) and returns a reference to it.
    fn put(&mut self, row: u32, col: u16, ex: Ex) -> Option<Ex> {
        let v = ex.eval()?;
        self.cells.push((row, col, Cell::Formula(ex)));
        Some(self.at(row, col, v))
    }

    fn text(&mut self, row: u32, col: u16, t: impl Into<String>, bold: bool) {
        self.cells.push((row, col, Cell::Text(t.into(), bold)));
    }

    /// Lays out one split of `whole` cents (a non-negative whole number)
    /// by `weights`; returns each party's part in cents, in key order.
    fn split(
        &mut self,
        tr: &Tr,
        title: String,
        whole: Ex,
        weights: &[(String, Ex)],
        rule: Remainder,
    ) -> Option<Vec<Ex>> {
        let values: Vec<Decimal> = weights.iter().map(|(_, w)| w.eval()).collect::<Option<_>>()?;
        let dp = values.iter().map(|v| v.normalize().scale()).max()?;
        if dp > MAX_WEIGHT_DP || weights.len() < 2 {
            return None;
        }
        let scale = lit(Decimal::from(10u64.checked_pow(dp)?));
        let row = self.next;
        self.text(row, 0, title, true);
        self.text(row, 1, tr.t("xlsx-split-cents"), false);
        let whole = self.put(row, 2, whole)?;
        let head =
            ["xlsx-party", "xlsx-split-weight", "xlsx-split-whole-weight", "xlsx-split-cut", "xlsx-split-remainder"]
                .into_iter()
                .chain(["xlsx-split-extra", "xlsx-split-part"]);
        for (i, k) in head.enumerate() {
            self.text(row + 1, i as u16, tr.t(k), true);
        }
        let first = row + 2;
        let mut ints = Vec::new();
        for (i, (party, w)) in weights.iter().enumerate() {
            let r = first + i as u32;
            self.text(r, 0, party.clone(), false);
            let w = self.put(r, 1, w.clone())?;
            ints.push(self.put(r, 2, round(mul(w, scale.clone()), 0, Mid::AwayFromZero))?);
        }
        self.text(row, 3, tr.t("xlsx-split-sum"), false);
        let sum = self.put(row, 4, Ex::Sum(ints.clone()))?;
        let mut cuts = Vec::new();
        let mut rems = Vec::new();
        for (i, w) in ints.iter().enumerate() {
            let r = first + i as u32;
            let cut = self.put(r, 3, int(div(mul(whole.clone(), w.clone()), sum.clone())))?;
            rems.push(self.put(r, 4, sub(mul(whole.clone(), w.clone()), mul(cut.clone(), sum.clone())))?);
            cuts.push(cut);
        }
        self.text(row, 5, tr.t("xlsx-split-left"), false);
        let left = self.put(row, 6, sub(whole, Ex::Sum(cuts.clone())))?;
        let mut parts = Vec::new();
        for i in 0..weights.len() {
            let r = first + i as u32;
            let extra = match rule {
                Remainder::LargestRemainder => {
                    // Rank: remainders above this one, and equal ones listed before it.
                    let mut rank = Vec::new();
                    for (j, other) in rems.iter().enumerate() {
                        if j != i {
                            rank.push(if_(other.clone(), Cmp::Gt, rems[i].clone(), lit(1), lit(0)));
                        }
                        if j < i {
                            rank.push(if_(other.clone(), Cmp::Eq, rems[i].clone(), lit(1), lit(0)));
                        }
                    }
                    if_(Ex::Sum(rank), Cmp::Lt, left.clone(), lit(1), lit(0))
                }
                Remainder::LargestShare => {
                    let largest = if_(ints[i].clone(), Cmp::Ge, Ex::Max(ints.clone()), left.clone(), lit(0));
                    if i == 0 {
                        largest
                    } else {
                        if_(ints[i].clone(), Cmp::Gt, Ex::Max(ints[..i].to_vec()), largest, lit(0))
                    }
                }
            };
            let extra = self.put(r, 5, extra)?;
            parts.push(self.put(r, 6, add(cuts[i].clone(), extra))?);
        }
        self.next = first + weights.len() as u32 + 1;
        Some(parts)
    }
}

/// The line whose amount the transfers `{prefix}.{payer}.{provider}` pass
/// on (split or whole).
fn transfer_source(s: &Statement, prefix: &str) -> Option<String> {
    Some(match prefix {
        "shared_savings.payout" => "shared_savings.provider_payout".to_string(),
        "shared_savings.loss_payment" => "shared_savings.provider_loss".to_string(),
        "bundled.payment" => "bundled.settlement".to_string(),
        "capitation.payment" => "capitation.provider_result".to_string(),
        p if p.starts_with("impulse.") && p.ends_with(".repayment") => format!("{p}_amount"),
        p => match p.strip_suffix(".payment") {
            Some(base) if base.starts_with("p4p.") => base.to_string(),
            Some(base) if base.starts_with("revenue_guarantee.") => format!("{base}.top_up"),
            Some(base) if base.starts_with("volume.") && s.line(&format!("{base}.max")).is_none() => {
                format!("{base}.amount")
            }
            _ => return None,
        },
    })
}

/// The payer key of the contract on the `Inputs` sheet, in party order.
fn payer_key(r: &Refs<'_>, c: &Contract) -> Vec<(String, Ex)> {
    c.parties_with_role(Role::Payer)
        .filter_map(|p| {
            let w = match &c.distribution.payers.rule {
                PayerRule::ByContribution => {
                    r.term(&format!("parties.{}.contribution", p.id), p.contribution.unwrap_or_default())
                }
                PayerRule::Fixed { shares } => {
                    r.term(&format!("distribution.payers.shares.{}", p.id), *shares.get(&p.id)?)
                }
            };
            Some((p.id.clone(), w))
        })
        .collect()
}

/// The provider key of the year (terms or figures), in party order.
fn provider_key(r: &Refs<'_>, c: &Contract) -> Option<Vec<(String, Ex)>> {
    let mut out = Vec::new();
    for p in c.parties_with_role(Role::Provider) {
        let w = match &c.distribution.providers.rule {
            ProviderRule::Fixed { shares } => match shares.get(&p.id) {
                Some(x) => r.term(&format!("distribution.providers.shares.{}", p.id), *x),
                None => continue,
            },
            ProviderRule::ByIndicator { indicators } => match indicators.get(&p.id) {
                Some(ind) => r.fig_now(ind)?,
                None => continue,
            },
        };
        out.push((p.id.clone(), w));
    }
    Some(out)
}

/// Lays out on the `Splits` sheet every payment the engine splits over
/// several payers or providers. A group whose lines do not follow the
/// contract's keys gets no helper cells (its lines keep their amounts).
fn plan_splits(r: &Refs<'_>, c: &Contract, tr: &Tr) -> Splits {
    let mut sp = Splits { sheet: r.names.splits.clone(), ..Splits::default() };
    // Transfer groups in line order: prefix -> (payer, provider) pairs.
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for l in r.s.lines.iter().filter(|l| l.is_transfer()) {
        let Some((payer, provider, _)) = l.payer_provider() else { continue };
        let Some(prefix) = l.id.strip_suffix(&format!(".{payer}.{provider}")) else { continue };
        match groups.iter_mut().find(|(p, _)| p == prefix) {
            Some((_, v)) => v.push((payer.to_string(), provider.to_string())),
            None => groups.push((prefix.to_string(), vec![(payer.to_string(), provider.to_string())])),
        }
    }
    for (prefix, pairs) in groups.into_iter().filter(|(_, v)| v.len() > 1) {
        let mark = (sp.cells.len(), sp.next);
        if plan_group(&mut sp, r, c, tr, &prefix, &pairs).is_none() {
            sp.cells.truncate(mark.0);
            sp.next = mark.1;
            sp.parts.retain(|k, _| k.0 != prefix);
        }
    }
    sp
}

fn plan_group(
    sp: &mut Splits,
    r: &Refs<'_>,
    c: &Contract,
    tr: &Tr,
    prefix: &str,
    pairs: &[(String, String)],
) -> Option<()> {
    let distinct = |f: fn(&(String, String)) -> &String| {
        let mut v: Vec<String> = Vec::new();
        for p in pairs {
            if !v.contains(f(p)) {
                v.push(f(p).clone());
            }
        }
        v
    };
    let (payers, providers) = (distinct(|p| &p.0), distinct(|p| &p.1));
    let src = r.d(&transfer_source(r.s, prefix)?)?;
    let cents = round(mul(Ex::Max(vec![src.clone(), sub(lit(0), src)]), lit(100)), 0, Mid::AwayFromZero);
    let title = |what: &str, of: &str| tr.t_args(what, &[("line", Arg::from(of))]);
    let payer_parts: Vec<Ex> = if payers.len() > 1 {
        let key = payer_key(r, c);
        if key.iter().map(|(p, _)| p).ne(payers.iter()) {
            return None;
        }
        sp.split(tr, title("xlsx-split-payers", prefix), cents, &key, c.distribution.payers.remainder)?
    } else {
        vec![cents]
    };
    for (payer, part) in payers.iter().zip(payer_parts) {
        let parts = if providers.len() > 1 {
            let key = provider_key(r, c)?;
            if key.iter().map(|(p, _)| p).ne(providers.iter()) {
                return None;
            }
            let t = format!("{prefix}.{payer}");
            sp.split(tr, title("xlsx-split-providers", &t), part, &key, c.distribution.providers.remainder)?
        } else {
            vec![part]
        };
        for (provider, x) in providers.iter().zip(parts) {
            sp.parts.insert((prefix.to_string(), payer.clone(), provider.clone()), x);
        }
    }
    pairs.iter().all(|(a, b)| sp.parts.contains_key(&(prefix.to_string(), a.clone(), b.clone()))).then_some(())
}

/// The workbook's bytes.
pub fn workbook(c: &Computed, standing: &Standing, cx: &Context<'_>) -> Result<Vec<u8>> {
    let tr = Tr::new(cx.lang);
    let names = Names::new(&tr);
    let s = &c.statement;
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(s.year.saturating_add(1), 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(tr.t_args(
                "xlsx-title",
                &[("contract", Arg::from(s.contract.as_str())), ("year", Arg::from(s.year.to_string()))],
            ))
            .set_comment(format!("statement hash {}", c.hash))
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    // Amounts as numbers in the contract's currency (euro sign for EUR,
    // the ISO code otherwise).
    let eur = match c.currency.code() {
        "EUR" => Format::new().set_num_format("€ #,##0.00;-€ #,##0.00"),
        code => Format::new().set_num_format(format!("#,##0.00 \"{code}\";-#,##0.00 \"{code}\"")),
    };
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let wrap = Format::new().set_text_wrap();
    let mid = match cx.terms.map(|t| t.rounding) {
        Some(Rounding::HalfEven) => Mid::Even,
        _ => Mid::AwayFromZero,
    };
    let yes_no = |b: bool| tr.t(if b { "xlsx-yes" } else { "xlsx-no" });

    // Row numbers are fixed before any formula is written.
    let mut figs = BTreeMap::new();
    for (i, f) in s.inputs.iter().enumerate() {
        figs.insert((f.indicator.as_str(), f.year), (i as u32 + 1, f.value));
    }
    let terms_row = s.inputs.len() as u32 + 3;

    let ws = wb.add_worksheet();
    ws.set_name(&names.statement)?;
    let mut row = 0u32;
    if c.draft {
        ws.write_string_with_format(row, 0, tr.t("xlsx-draft"), &bold)?;
        row += 1;
    }
    let head: Vec<(&str, String)> = vec![
        ("xlsx-contract", s.contract.clone()),
        ("xlsx-contract-version", c.version.clone()),
        ("xlsx-year", String::new()),
        ("xlsx-statement-hash", c.hash.clone()),
        ("xlsx-engine", ENGINE_VERSION.to_string()),
        ("xlsx-input-entries", c.inputs.join(" ")),
        ("xlsx-computable", yes_no(!c.draft)),
        ("xlsx-signed-by", standing.signed_by.join(", ")),
        ("xlsx-waiting-for", standing.waiting_for.join(", ")),
        ("xlsx-settled", yes_no(standing.settled)),
        ("xlsx-standing", standing_words(&tr, standing)),
    ];
    for (k, v) in head {
        ws.write_string_with_format(row, 0, tr.t(k), &bold)?;
        if k == "xlsx-year" {
            ws.write_number(row, 1, s.year)?;
        } else {
            ws.write_string(row, 1, v)?;
        }
        row += 1;
    }
    for n in &c.not_agreed {
        ws.write_string_with_format(row, 0, tr.t("xlsx-not-agreed"), &bold)?;
        ws.write_string(row, 1, n.to_string())?;
        row += 1;
    }
    ws.write_string(row, 0, tr.t("xlsx-formulas-note"))?;
    row += 2;
    let amount_heading = tr.t_args("xlsx-col-amount", &[("currency", Arg::from(c.currency.to_string()))]);
    let cols: Vec<String> = ["xlsx-col-line", "xlsx-col-label", "xlsx-col-formula"]
        .iter()
        .map(|k| tr.t(k))
        .chain([amount_heading])
        .chain(
            ["xlsx-col-value", "xlsx-col-from", "xlsx-col-to", "xlsx-col-funding", "xlsx-col-note"]
                .iter()
                .map(|k| tr.t(k)),
        )
        .collect();
    header(ws, row, &cols, &bold)?;
    ws.set_freeze_panes(row + 1, 0)?;
    let mut rows = BTreeMap::new();
    for (i, l) in s.lines.iter().enumerate() {
        rows.insert(&*l.id, row + 1 + i as u32);
    }
    let brows = balances_in(&tr, s);
    debug_assert_eq!(brows.first().map(|b| b.id.as_str()), Some("losses_carried"), "Refs::losses_carried_in");
    let balance_rows = brows.iter().enumerate().map(|(i, b)| (b.id.clone(), (i as u32 + 1, b.start))).collect();
    let mut refs = Refs {
        s,
        rows,
        figs,
        terms_row,
        terms: RefCell::new(Vec::new()),
        balance_rows,
        local: false,
        names: names.clone(),
        contract: cx.terms,
        mid,
    };
    // The split helper cells reference the Statement sheet from their own.
    let splits = cx.terms.map(|t| plan_splits(&refs, t, &tr)).unwrap_or_default();
    refs.local = true;
    let mut stats = (0usize, 0usize);
    for l in &s.lines {
        row += 1;
        ws.write_string(row, 0, &*l.id)?;
        // Labels and formulas quote contract text: escaped, never a formula.
        ws.write_string(row, 1, spreadsheet_cell(&words::label(&tr, l)))?;
        ws.write_string_with_format(row, 2, spreadsheet_cell(&words::formula(&tr, l)), &wrap)?;
        let mut plain = false;
        if let Some(a) = l.amount {
            let ex = cx.terms.and_then(|t| rule(&refs, t, &l.id, false)).or_else(|| transfer_rule(&refs, &splits, l));
            if ex.is_some_and(|ex| formula_cell(ws, row, COL_AMOUNT, &ex, a, Some(&eur)).unwrap_or(false)) {
                stats.0 += 1;
            } else {
                money_cell(ws, row, COL_AMOUNT, a, &eur)?;
                plain = true;
            }
        }
        if let Some(v) = l.value {
            let ex = cx.terms.and_then(|t| rule(&refs, t, &l.id, true));
            if ex.is_some_and(|ex| formula_cell(ws, row, COL_VALUE, &ex, v, None).unwrap_or(false)) {
                stats.0 += 1;
            } else {
                value_cell(ws, row, COL_VALUE, v)?;
                plain = true;
            }
        }
        if plain {
            stats.1 += 1;
            ws.write_string(row, COL_NOTE, tr.t("xlsx-note-engine-value"))?;
        }
        ws.write_string(row, 5, l.from.as_deref().unwrap_or(""))?;
        ws.write_string(row, 6, l.to.as_deref().unwrap_or(""))?;
        ws.write_string(row, 7, l.funding.map(|f| f.to_string()).unwrap_or_default())?;
    }
    for (col, width) in
        [(0u16, 40.0), (1, 40.0), (2, 90.0), (3, 18.0), (4, 12.0), (5, 14.0), (6, 14.0), (7, 14.0), (8, 50.0)]
    {
        ws.set_column_width(col, width)?;
    }
    refs.local = false;

    // Parties: sums of the transfer lines.
    let ws = wb.add_worksheet();
    ws.set_name(&names.parties)?;
    let cols: Vec<String> =
        ["xlsx-party", "xlsx-role", "xlsx-cash-received", "xlsx-cash-paid", "xlsx-cash-net", "xlsx-result"]
            .iter()
            .map(|k| tr.t(k))
            .collect();
    header(ws, 0, &cols, &bold)?;
    for (i, p) in s.parties.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, p.party.as_str())?;
        ws.write_string(r, 1, p.role.to_string())?;
        let transfers = |to: bool, results: bool| -> Option<Ex> {
            let mut v = Vec::new();
            for l in s.lines.iter() {
                let who = if to { l.to.as_deref() } else { l.from.as_deref() };
                if who != Some(p.party.as_str()) || l.amount.is_none() {
                    continue;
                }
                let counts = if results {
                    l.transfer_kind() == Some(crate::domain::settlement::TransferKind::Result)
                        || (l.funding.is_none() && l.id.starts_with("impulse.") && l.id.ends_with(".waived"))
                } else {
                    l.is_transfer()
                };
                if counts {
                    v.push(refs.d(&l.id)?);
                }
            }
            Some(Ex::Sum(v))
        };
        let rc = |c: u16, v: Decimal| Ex::Cell(addr(r, c, false), v);
        let cells = [
            (2, p.received, transfers(true, false)),
            (3, p.paid, transfers(false, false)),
            (4, p.net, Some(sub(rc(2, p.received), rc(3, p.paid)))),
            (5, p.result, transfers(true, true).zip(transfers(false, true)).map(|(a, b)| sub(a, b))),
        ];
        for (col, v, ex) in cells {
            if !ex.is_some_and(|ex| formula_cell(ws, r, col, &ex, v, Some(&eur)).unwrap_or(false)) {
                money_cell(ws, r, col, v, &eur)?;
            }
        }
    }
    let r = s.parties.len() as u32 + 2;
    ws.write_string(r, 0, tr.t("xlsx-parties-note"))?;
    ws.set_column_width(0, 16)?;
    for col in 2..=5 {
        ws.set_column_width(col, 18)?;
    }

    // Payments: nets of the transfer lines, FROM -> TO.
    let ws = wb.add_worksheet();
    ws.set_name(&names.payments)?;
    let cols: Vec<String> =
        ["xlsx-col-from", "xlsx-col-to", "xlsx-col-funding", "xlsx-amount"].iter().map(|k| tr.t(k)).collect();
    header(ws, 0, &cols, &bold)?;
    for (i, p) in s.payments.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, p.from.as_str())?;
        ws.write_string(r, 1, p.to.as_str())?;
        ws.write_string(r, 2, p.funding.to_string())?;
        let mut plus = Vec::new();
        let mut minus = Vec::new();
        for l in s.lines.iter().filter(|l| l.funding == Some(p.funding)) {
            let (f, t) = (l.from.as_deref(), l.to.as_deref());
            if (f, t) == (Some(p.from.as_str()), Some(p.to.as_str())) {
                plus.extend(refs.d(&l.id));
            } else if (f, t) == (Some(p.to.as_str()), Some(p.from.as_str())) {
                minus.extend(refs.d(&l.id));
            }
        }
        let ex = if minus.is_empty() { Ex::Sum(plus) } else { sub(Ex::Sum(plus), Ex::Sum(minus)) };
        if !formula_cell(ws, r, 3, &ex, p.amount, Some(&eur))? {
            money_cell(ws, r, 3, p.amount, &eur)?;
        }
    }
    let r = s.payments.len() as u32 + 2;
    let cols: Vec<String> = [
        "xlsx-per-stream",
        "",
        "xlsx-col-funding",
        "xlsx-payers-to-providers",
        "xlsx-providers-to-payers",
        "xlsx-net-to-providers",
    ]
    .iter()
    .map(|k| if k.is_empty() { String::new() } else { tr.t(k) })
    .collect();
    header(ws, r, &cols, &bold)?;
    for (i, (k, t)) in s.totals_by_stream.iter().enumerate() {
        let row = r + 1 + i as u32;
        ws.write_string(row, 2, k.as_ref())?;
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for l in s.lines.iter().filter(|l| l.funding.is_some_and(|f| f.word() == k.as_ref())) {
            let Some((payer, _, _)) = l.payer_provider() else { continue };
            let Some(cell) = refs.d(&l.id) else { continue };
            if l.from.as_deref() == Some(payer) {
                up.push(cell);
            } else {
                down.push(cell);
            }
        }
        let rc = |c: u16, v: Decimal| Ex::Cell(addr(row, c, false), v);
        let cells = [
            (3, t.payers_to_providers, Ex::Sum(up)),
            (4, t.providers_to_payers, Ex::Sum(down)),
            (5, t.net_to_providers, sub(rc(3, t.payers_to_providers), rc(4, t.providers_to_payers))),
        ];
        for (col, v, ex) in cells {
            if !formula_cell(ws, row, col, &ex, v, Some(&eur))? {
                money_cell(ws, row, col, v, &eur)?;
            }
        }
    }
    for col in 3..=5 {
        ws.set_column_width(col, 18)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(&names.balances)?;
    let cols: Vec<String> = ["xlsx-balance", "xlsx-description", "xlsx-start-of-year", "xlsx-end-of-year"]
        .iter()
        .map(|k| tr.t(k))
        .collect();
    header(ws, 0, &cols, &bold)?;
    for (i, b) in brows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &b.id)?;
        ws.write_string(r, 1, spreadsheet_cell(&b.what))?;
        // The start is the carried state (the previous year's end); the
        // end follows from it and this year's lines.
        if let Some(v) = b.start {
            money_cell(ws, r, 2, v, &eur)?;
        }
        if let Some(v) = b.end {
            let start = b.start.map(|v| Ex::Cell(addr(r, 2, false), v));
            let ex = balance_end(&refs, &b.id, start);
            if !ex.is_some_and(|ex| formula_cell(ws, r, 3, &ex, v, Some(&eur)).unwrap_or(false)) {
                money_cell(ws, r, 3, v, &eur)?;
            }
        }
    }
    let g = guarantees(s);
    if !g.is_empty() {
        let r = brows.len() as u32 + 2;
        let cols: Vec<String> = ["xlsx-revenue-guarantee", "xlsx-guarantee-note", "xlsx-revenue", "xlsx-top-up"]
            .iter()
            .map(|k| tr.t(k))
            .collect();
        header(ws, r, &cols, &bold)?;
        for (i, (n, revenue, top_up)) in g.iter().enumerate() {
            let row = r + 1 + i as u32;
            ws.write_string(row, 0, format!("revenue_guarantee.{n}"))?;
            let pairs = [
                (2u16, *revenue, format!("revenue_guarantee.{n}.revenue")),
                (3, *top_up, format!("revenue_guarantee.{n}.top_up")),
            ];
            for (col, v, id) in pairs {
                let ex = refs.d(&id);
                if !ex.is_some_and(|ex| formula_cell(ws, row, col, &ex, v, Some(&eur)).unwrap_or(false)) {
                    money_cell(ws, row, col, v, &eur)?;
                }
            }
        }
    }
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 60)?;
    for col in 2..=3 {
        ws.set_column_width(col, 18)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(&names.inputs)?;
    let cols: Vec<String> =
        ["xlsx-indicator", "xlsx-year", "xlsx-value", "xlsx-source-entry"].iter().map(|k| tr.t(k)).collect();
    header(ws, 0, &cols, &bold)?;
    for (i, f) in s.inputs.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, f.indicator.as_str())?;
        ws.write_number(r, 1, f.year)?;
        value_cell(ws, r, 2, f.value)?;
        let from_entries = cx.sources.get(&(f.indicator.to_string(), f.year)).map(|v| v.join(" "));
        ws.write_string(r, 3, f.source_entry.clone().or(from_entries).unwrap_or_default())?;
    }
    let cols: Vec<String> = ["xlsx-term", "", "xlsx-value", ""]
        .iter()
        .map(|k| if k.is_empty() { String::new() } else { tr.t(k) })
        .collect();
    header(ws, terms_row - 1, &cols, &bold)?;
    let terms = refs.terms.borrow();
    ws.write_string(terms_row - 1, 3, tr.t("xlsx-terms-note"))?;
    for (i, (k, v)) in terms.iter().enumerate() {
        let r = terms_row + i as u32;
        ws.write_string(r, 0, k)?;
        value_cell(ws, r, 2, *v)?;
    }
    let r = terms_row + terms.len() as u32 + 1;
    ws.write_string_with_format(r, 0, tr.t("xlsx-input-entries"), &bold)?;
    for (i, id) in c.inputs.iter().enumerate() {
        ws.write_string(r + 1 + i as u32, 0, id)?;
    }
    ws.set_column_width(0, 66)?;
    ws.set_column_width(3, 66)?;

    let ws = wb.add_worksheet();
    ws.set_name(&names.signatures)?;
    let cols: Vec<String> =
        ["xlsx-party", "xlsx-signed-at", "xlsx-signing-entry", "xlsx-signed-statement", "xlsx-this-statement"]
            .iter()
            .map(|k| tr.t(k))
            .collect();
    header(ws, 0, &cols, &bold)?;
    for (i, sig) in cx.signatures.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &sig.party)?;
        match excel_time(&sig.time) {
            Some(t) => ws.write_datetime_with_format(r, 1, &t, &date)?,
            None => ws.write_string(r, 1, spreadsheet_cell(&sig.time))?,
        };
        ws.write_string(r, 2, &sig.entry)?;
        ws.write_string(r, 3, &sig.statement)?;
        ws.write_string(r, 4, yes_no(c.is(&sig.statement)))?;
    }
    if cx.signatures.is_empty() {
        ws.write_string(1, 0, tr.t("xlsx-no-signatures"))?;
    }
    for (col, width) in [(0u16, 16.0), (1, 20.0), (2, 66.0), (3, 66.0), (4, 14.0)] {
        ws.set_column_width(col, width)?;
    }
    if !splits.cells.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name(&names.splits)?;
        for (r, col, cell) in &splits.cells {
            match cell {
                Cell::Text(t, true) => ws.write_string_with_format(*r, *col, spreadsheet_cell(t), &bold)?,
                Cell::Text(t, false) => ws.write_string(*r, *col, spreadsheet_cell(t))?,
                Cell::Formula(ex) => {
                    let (Some(text), Some(v)) = (ex.formula(), ex.eval()) else { continue };
                    let f = Formula::new(format!("={text}")).set_result(v.normalize().to_string());
                    ws.write_formula(*r, *col, f)?
                }
            };
        }
        ws.set_column_width(0, 50)?;
        for col in 1..=6 {
            ws.set_column_width(col, 16)?;
        }
    }
    if let Some((hash, cmp)) = cx.replaced {
        let ws = wb.add_worksheet();
        ws.set_name(&names.corrections)?;
        corrections_sheet(ws, &tr, &names, &refs, (hash, &c.hash), cmp, (&bold, &eur))?;
    }
    debug_assert!(stats.0 + stats.1 <= 2 * s.lines.len());
    Ok(wb.save_to_buffer()?)
}

/// The `Corrections` sheet: every line that differs from the replaced
/// statement (A, a number) to this one (B, a reference to this workbook's
/// cell), with B - A as a formula; per party the net cash in A and B and
/// the correction B - A; the correction payments FROM -> TO as the change
/// of the net flow between the two parties in the stream (B - A, over the
/// `Payments` sheet).
fn corrections_sheet(
    ws: &mut Worksheet,
    tr: &Tr,
    names: &Names,
    refs: &Refs<'_>,
    (replaced, this): (&str, &str),
    cmp: &Comparison,
    (bold, eur): (&Format, &Format),
) -> Result<()> {
    let s = refs.s;
    ws.write_string_with_format(0, 0, tr.t("xlsx-corr-replaced"), bold)?;
    ws.write_string(0, 1, replaced)?;
    ws.write_string_with_format(1, 0, tr.t("xlsx-corr-this"), bold)?;
    ws.write_string(1, 1, this)?;
    ws.write_string(2, 0, tr.t("xlsx-corr-note"))?;
    let mut row = 4u32;
    let cols: Vec<String> =
        ["xlsx-col-line", "xlsx-corr-a", "xlsx-corr-b", "xlsx-corr-difference"].iter().map(|k| tr.t(k)).collect();
    header(ws, row, &cols, bold)?;
    let diff = |ws: &mut Worksheet, row: u32, a: Decimal, b: Decimal, fmt: Option<&Format>| -> Result<()> {
        let ex = sub(Ex::Cell(addr(row, 2, false), b), Ex::Cell(addr(row, 1, false), a));
        if !formula_cell(ws, row, 3, &ex, b - a, fmt)? {
            value_cell(ws, row, 3, b - a)?;
        }
        Ok(())
    };
    for l in cmp.lines.iter().filter(|l| l.differs()) {
        row += 1;
        ws.write_string(row, 0, &l.id)?;
        let fmt = if l.money { Some(eur) } else { None };
        let put = |ws: &mut Worksheet, col: u16, v: Decimal| -> Result<()> {
            match fmt {
                Some(f) => money_cell(ws, row, col, v, f),
                None => value_cell(ws, row, col, v),
            }
        };
        if let Some(a) = l.a {
            put(ws, 1, a)?;
        }
        if let Some(b) = l.b {
            let cell = if l.money { refs.d(&l.id) } else { refs.e(&l.id) };
            if !cell.is_some_and(|ex| formula_cell(ws, row, 2, &ex, b, fmt).unwrap_or(false)) {
                put(ws, 2, b)?;
            }
        }
        if let (Some(a), Some(b)) = (l.a, l.b) {
            diff(ws, row, a, b, fmt)?;
        }
    }
    row += 2;
    let cols: Vec<String> =
        ["xlsx-party", "xlsx-corr-net-a", "xlsx-corr-net-b", "xlsx-corr-difference"].iter().map(|k| tr.t(k)).collect();
    header(ws, row, &cols, bold)?;
    for p in &cmp.parties {
        row += 1;
        ws.write_string(row, 0, &p.party)?;
        money_cell(ws, row, 1, p.net_a, eur)?;
        let at = s.parties.iter().position(|q| q.party == p.party);
        let b = at.map(|i| Ex::Cell(on(&names.parties, &addr(i as u32 + 1, 4, true)), p.net_b));
        if !b.is_some_and(|ex| formula_cell(ws, row, 2, &ex, p.net_b, Some(eur)).unwrap_or(false)) {
            money_cell(ws, row, 2, p.net_b, eur)?;
        }
        diff(ws, row, p.net_a, p.net_b, Some(eur))?;
    }
    row += 2;
    let cols: Vec<String> = [
        "xlsx-col-from",
        "xlsx-col-to",
        "xlsx-col-funding",
        "xlsx-corr-payment",
        "xlsx-corr-flow-a",
        "xlsx-corr-flow-b",
    ]
    .iter()
    .map(|k| tr.t(k))
    .collect();
    header(ws, row, &cols, bold)?;
    if cmp.corrections.is_empty() {
        ws.write_string(row + 1, 0, tr.t("xlsx-corr-none"))?;
    }
    for k in &cmp.corrections {
        row += 1;
        ws.write_string(row, 0, k.from.as_str())?;
        ws.write_string(row, 1, k.to.as_str())?;
        ws.write_string(row, 2, k.funding.to_string())?;
        // Net flow FROM -> TO in the stream: payments that way less those
        // the other way.
        let same = |p: &&crate::domain::settlement::compare::PaymentDiff, f: &str, t: &str| {
            p.funding == k.funding && p.from == f && p.to == t
        };
        let flow_a: Decimal = cmp.payments.iter().filter(|p| same(p, &k.from, &k.to)).map(|p| p.a).sum::<Decimal>()
            - cmp.payments.iter().filter(|p| same(p, &k.to, &k.from)).map(|p| p.a).sum::<Decimal>();
        let (mut plus, mut minus) = (Vec::new(), Vec::new());
        for (i, p) in s.payments.iter().enumerate().filter(|(_, p)| p.funding == k.funding) {
            let cell = Ex::Cell(on(&names.payments, &addr(i as u32 + 1, 3, true)), p.amount);
            if (p.from.as_str(), p.to.as_str()) == (k.from.as_str(), k.to.as_str()) {
                plus.push(cell);
            } else if (p.from.as_str(), p.to.as_str()) == (k.to.as_str(), k.from.as_str()) {
                minus.push(cell);
            }
        }
        let flow_b_ex = sub(Ex::Sum(plus), Ex::Sum(minus));
        let flow_b = flow_b_ex.eval().unwrap_or_default();
        money_cell(ws, row, 4, flow_a, eur)?;
        if !formula_cell(ws, row, 5, &flow_b_ex, flow_b, Some(eur))? {
            money_cell(ws, row, 5, flow_b, eur)?;
        }
        let ex = sub(Ex::Cell(addr(row, 5, false), flow_b), Ex::Cell(addr(row, 4, false), flow_a));
        if !formula_cell(ws, row, 3, &ex, k.amount, Some(eur))? {
            money_cell(ws, row, 3, k.amount, eur)?;
            ws.write_string(row, 6, tr.t("xlsx-note-engine-value"))?;
        }
    }
    ws.set_column_width(0, 40)?;
    for col in 1..=5 {
        ws.set_column_width(col, 18)?;
    }
    Ok(())
}

/// A transfer line that passes one computed amount on whole (a single
/// recipient of a payout): a reference to that line.
fn transfer_rule(r: &Refs<'_>, splits: &Splits, l: &crate::domain::settlement::Line) -> Option<Ex> {
    let (payer, provider, _) = l.payer_provider()?;
    let prefix = l.id.strip_suffix(&format!(".{payer}.{provider}"))?;
    let parts = r.s.lines.iter().filter(|m| m.is_transfer() && m.id.starts_with(&format!("{prefix}."))).count();
    if parts != 1 {
        // A split over several payers or providers: its part on the
        // Splits sheet, in cents.
        let key = (prefix.to_string(), payer.to_string(), provider.to_string());
        return Some(div(splits.parts.get(&key)?.clone(), lit(100)));
    }
    if let Some(base) = prefix.strip_prefix("volume.").and_then(|p| p.strip_suffix(".payment")) {
        // The amount plus its tariff adjustments; at the yearly maximum,
        // the amount + adjustments + the (negative) cut.
        let parts: Vec<Ex> =
            r.s.lines
                .iter()
                .filter(|m| {
                    m.id == format!("volume.{base}.amount")
                        || m.id == format!("volume.{base}.max")
                        || m.id.starts_with(&format!("volume.{base}.adjustment."))
                })
                .map(|m| r.d(&m.id))
                .collect::<Option<_>>()?;
        let x = Ex::Sum(parts);
        return Some(Ex::Max(vec![x.clone(), sub(lit(0), x)]));
    }
    let x = r.d(&transfer_source(r.s, prefix)?)?;
    // The transfer moves the amount FROM -> TO: its size.
    Some(Ex::Max(vec![x.clone(), sub(lit(0), x)]))
}

/// The standing in words, in `tr`'s language.
fn standing_words(tr: &Tr, st: &Standing) -> String {
    let signed = if st.signed_by.is_empty() {
        tr.t("xlsx-not-signed")
    } else {
        tr.t_args("xlsx-signed-by-list", &[("parties", Arg::from(st.signed_by.join(", ")))])
    };
    match (st.settled, st.waiting_for.is_empty()) {
        (true, _) => tr.t_args("xlsx-standing-settled", &[("signed", Arg::from(signed))]),
        (false, true) => signed,
        (false, false) => tr.t_args(
            "xlsx-standing-waiting",
            &[("signed", Arg::from(signed)), ("parties", Arg::from(st.waiting_for.join(", ")))],
        ),
    }
}

/// An RFC 3339 time in UTC (`2026-03-01T12:00:00Z`, fractions allowed) as
/// an Excel date-time; `None` for anything else (written as text).
fn excel_time(t: &str) -> Option<ExcelDateTime> {
    let t = t.trim();
    let body = t.strip_suffix('Z').or_else(|| t.strip_suffix("+00:00"))?;
    let (date, time) = body.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<u32>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut h = time.split(':').map(|x| x.parse::<u32>().ok());
    let (hh, mm, ss) = (h.next()??, h.next()??, h.next()??);
    let date = ExcelDateTime::from_ymd(u16::try_from(y).ok()?, u8::try_from(m).ok()?, u8::try_from(dd).ok()?).ok()?;
    date.and_hms(u16::try_from(hh).ok()?, u8::try_from(mm).ok()?, u8::try_from(ss).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_times() {
        assert_eq!(addr(0, 0, false), "A1");
        assert_eq!(addr(11, 3, true), "$D$12");
        assert_eq!(addr(0, 26, false), "AA1");
        assert!(excel_time("2026-03-01T12:00:00Z").is_some());
        assert!(excel_time("2026-03-01T12:00:00.5+00:00").is_some());
        assert!(excel_time("2026-13-01T12:00:00Z").is_none());
        assert!(excel_time("2026-03-01T12:00:00+01:00").is_none());
        assert!(excel_time("").is_none());
    }
}
