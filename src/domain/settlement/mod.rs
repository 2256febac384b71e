//! Settlement: from a contract, one year's agreed figures and the state
//! carried from the year before, to a statement a controller can check
//! line by line with a calculator.
//!
//! This module is pure: no IO, no clock, no randomness, no hash-map
//! iteration. All arithmetic is exact [`Decimal`] arithmetic, checked for
//! overflow and division by zero ([`SettleError::Arithmetic`] names the
//! figure). Each money line is rounded to cents by the contract's rounding
//! rule where it is produced; every later line uses the rounded value, and
//! totals are sums of rounded lines. Computed ratios (trend factors from
//! indices, interpolated corridor rates, indicator scores) are rounded to
//! [`RATIO_DP`] decimals by the same rule; formulas show the number used.
//!
//! # Order of settlement for a year
//!
//! 1. **Volume** (`volume.*`): per activity, the quantity; each claim cap in
//!    contract order limits the activities it names, in the cap's listed
//!    order (limit = max x client-months, max x clients or max per year);
//!    amount = price x capped quantity; each triggered tariff adjustment adds
//!    (surcharge) or subtracts (discount) rate x that amount as its own line
//!    (`volume.{activity}.adjustment.{id}`);
//!    then `max_amount_per_year` caps the activity.
//! 2. **Pay for performance** (`p4p.*`): each bonus whose target is met
//!    (at or better than the target per the indicator's direction; a
//!    missing figure is "not met" under `treat_as_not_met`). A bonus per
//!    member is amount x size, divided by 12 last when the size is in
//!    member-months, rounded once (as the benchmark and the capitation
//!    budget are); the corridor table compares and interpolates in the
//!    measured unit too (row population x 12 for member-months).
//! 3. **Shared savings** (`shared_savings.*`), detailed in `shared_savings.rs`:
//!    benchmark, gross savings, losses carried in, corridor, quality,
//!    provider share, withhold, cap; or, two-sided, the loss payment.
//! 4. **Bundled payment** (`bundled.*`): target price x episodes - actual
//!    cost, a gain capped at stop-gain x target total, a loss at stop-loss x
//!    target total. The line is the year-end reconciliation on top of the
//!    claims already paid.
//! 5. **Capitation** (`capitation.*`): budget - actual cost cut into the
//!    risk bands (edges = band rate x budget, rounded to cents); per band the
//!    providers keep (gain) or bear (loss) their share. Also a
//!    reconciliation on top of the claims already paid.
//! 6. **Impulse financing** (`impulse.*`): advances of earlier years are
//!    repaid from the recipient's shared-savings payout of this year (rate x
//!    payout, at most the outstanding balance); then the grants and advances
//!    of the year are paid; in the last year an outstanding balance is
//!    waived or falls due, as the contract says.
//! 7. **Revenue guarantee** (`revenue_guarantee.*`): top-up = floor -
//!    revenue when positive; revenue is the measured indicator, or else the
//!    provider's transfers of steps 1-5 in this year (impulse excluded).
//! 8. **Allocation** (`{transfer}.{stream}`): a component with an
//!    allocation key has each of its transfers split over the key's funding
//!    streams by the agreed figures, see [`allocation`].
//!
//! A component without a named payer or recipient is split: first among the
//! payers by the payer key (each payer's part stays separate), then each
//! part among the providers by the provider key, see [`distribution`]. A
//! transfer's line id is the component's id, then `.{payer}.{provider}`.
//!
//! # Readings of the contract format
//!
//! Where `docs/CONTRACT-FORMAT.md` leaves room, the engine reads it so:
//!
//! * The corridor is passed when savings are **at or above** corridor rate x
//!   benchmark (a money comparison, no rounded rate). `sharing_base` applies
//!   to losses as it does to savings.
//! * Carried losses: a loss the provider paid nothing of (one-sided, or
//!   inside the loss corridor) is carried whole; a loss the provider shared
//!   in is settled. Carried losses first absorb later gross savings; what is
//!   left at the end of the term lapses.
//! * Several activities under one claim cap share it in the cap's listed
//!   order; several tariff adjustments each apply to the activity's base
//!   amount (they add, they do not compound).
//! * Bundled and capitation results are year-end reconciliations on top of
//!   the claims already paid, not the whole budget.
//! * Advances are repaid from the recipient's total savings payout (all
//!   payers); several advances to one recipient are repaid in contract order.
//! * A revenue guarantee without an indicator counts the provider's
//!   transfers of steps 1-5 (not impulse money) as its revenue.
//!
//! # Limits
//!
//! Input figures are at most [`MAX_FIGURE`] in absolute value; a contract
//! year range is at most [`MAX_TERM_YEARS`] years. The engine never panics
//! on any contract, validated or not: every operation on a [`Decimal`] is
//! checked, and an overflow is [`SettleError::Arithmetic`] naming the figure
//! (release builds also check integer overflow, `overflow-checks = true`). Missing required
//! figures are one error listing each ([`required_indicators`] says which).
//!
//! # Transfers
//!
//! Lines with `funding` set are **transfers**: `from` pays `to` the amount,
//! which is never negative (a loss payment or an advance repayment has the
//! provider in `from`). All other lines are figures that explain them.
//! `totals_by_stream` sums the transfers per funding stream and direction;
//! `payments` nets them per payer, provider and stream; `parties` gives each
//! party's cash (every transfer) and result (advances, their repayments and
//! a balance due are loans and left out; a waived balance counts).
//! `carry_in` and `carry_out` are the balances at the start and end of the
//! year.

pub mod allocation;
pub mod compare;
mod components;
pub mod cosign;
pub mod distribution;
pub mod forecast;
pub mod gate;
mod impulse;
pub mod inputs;
mod money;
mod shared_id;
mod shared_savings;
mod template;
pub mod term;
mod v1;
pub mod why;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::domain::contract::{Contract, Funding, MissingMeasurement, ProviderRule, RemainingAtEnd, Role, Trend, Unit};
pub(crate) use money::round_dp;
pub use money::{format_factor, format_money, format_number, format_rate, RATIO_DP};
use money::{serde_money, serde_value, Rounder};
pub use shared_id::SharedId;
pub(crate) use template::{FigTable, Template};
use why::{w, Phrase};

/// The version of the settlement engine and of the signed form of its
/// statements (docs/FORMAT.md 5.8). A `settlement.sign` entry names it in
/// `engine`; an entry without `engine` is of version 1 (words signed too).
pub const ENGINE_VERSION: &str = "vereffen-settle/2";

/// The fields of a line that are signed (docs/FORMAT.md 5.8): everything but
/// the words (`label`, `formula`).
pub const SIGNED_LINE_FIELDS: &[&str] = &["id", "amount", "value", "from", "to", "funding"];

/// Limit on the contract years settled in one call to [`settle_term`].
pub const MAX_TERM_YEARS: usize = 15;

/// Limit on the absolute value of an input figure (10^15): far above any
/// care contract, low enough that money lines always fit in exact cents.
pub const MAX_FIGURE: i64 = 1_000_000_000_000_000;

/// Whether `|v| > MAX_FIGURE`, read exactly from the mantissa and scale
/// (`|v| = m / 10^s > 10^15` exactly when `m > 10^(15 + s)`) without
/// Decimal arithmetic: every figure of every simulated year is checked.
pub fn beyond_max_figure(v: Decimal) -> bool {
    let m = v.mantissa().unsigned_abs();
    // A mantissa is below 2^96 < 10^29: beyond every 10^(15 + s) past 10^28.
    money::POW10_U128.get(15 + v.scale() as usize).is_some_and(|p| m > *p)
}

/// One agreed measurement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// The agreed value, in the indicator's unit.
    pub value: Decimal,
    /// The ledger entry that records the agreed figure, for traceability.
    pub source_entry: Option<String>,
}

/// The agreed figures for settling one contract year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The contract year being settled.
    pub year: u16,
    /// Agreed values of that year, by indicator id.
    pub figures: BTreeMap<String, Figure>,
    /// Agreed values of other years, by year and indicator id: only what a
    /// measured trend needs (the index of the base year; measured growth
    /// rates of earlier years).
    pub other_years: BTreeMap<u16, BTreeMap<String, Figure>>,
}

impl Inputs {
    /// No figures yet for `year`.
    pub fn new(year: u16) -> Inputs {
        Inputs { year, figures: BTreeMap::new(), other_years: BTreeMap::new() }
    }

    /// Adds the figure `value` for `indicator` in this year (no source entry).
    pub fn with(mut self, indicator: &str, value: Decimal) -> Inputs {
        self.figures.insert(indicator.to_string(), Figure { value, source_entry: None });
        self
    }

    /// Adds the figure `value` for `indicator` in another `year`.
    pub fn with_other_year(mut self, year: u16, indicator: &str, value: Decimal) -> Inputs {
        self.other_years.entry(year).or_default().insert(indicator.to_string(), Figure { value, source_entry: None });
        self
    }

    fn get(&self, indicator: &str, year: u16) -> Option<&Figure> {
        if year == self.year {
            self.figures.get(indicator)
        } else {
            self.other_years.get(&year).and_then(|m| m.get(indicator))
        }
    }
}

/// A figure a settlement needs: an indicator in a year.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FigureRef {
    /// Indicator id.
    pub indicator: String,
    /// Year of the measurement.
    pub year: u16,
}

impl std::fmt::Display for FigureRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.indicator, self.year)
    }
}

/// An impulse advance with a balance still to be repaid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBalance {
    /// Position of the advance in the contract's `[[impulse]]` list, from 1.
    pub impulse: usize,
    /// Year the advance was paid.
    pub year: u16,
    /// Provider that received it and repays it.
    pub recipient: String,
    /// Payer that advanced it and is repaid.
    pub payer: String,
    /// Funding stream of the advance and of its repayments.
    pub funding: Funding,
    /// Amount advanced.
    #[serde(with = "serde_money")]
    pub amount: Decimal,
    /// Balance still to be repaid.
    #[serde(with = "serde_money")]
    pub outstanding: Decimal,
    /// Share of each later savings payout used to repay.
    #[serde(with = "serde_value")]
    pub repayment_rate: Decimal,
    /// What happens to the balance after the last year.
    pub remaining_at_end: RemainingAtEnd,
}

/// State carried from one contract year to the next. It serializes (money
/// as two-decimal strings) and reads back, so a caller can keep it between
/// the settlements of two years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carry {
    /// The last year settled; `None` before the first contract year.
    pub settled_through: Option<u16>,
    /// Advances with a balance, in the order they were paid.
    pub advances: Vec<AdvanceBalance>,
    /// Shared-savings losses not settled yet, to be netted against later
    /// savings (only when the contract carries losses forward).
    #[serde(with = "serde_money")]
    pub losses_carried: Decimal,
}

impl Carry {
    /// The state before the first contract year: nothing outstanding.
    pub fn initial(_contract: &Contract) -> Carry {
        Carry { settled_through: None, advances: Vec::new(), losses_carried: Decimal::new(0, 2) }
    }

    fn next_year(&self, contract: &Contract) -> u16 {
        self.settled_through.map_or(contract.term.first_year, |y| y.saturating_add(1))
    }
}

/// A line id: `parts` joined by `.` (e.g. `["p4p", "hba1c"]` is
/// `p4p.hba1c`). Every line of every simulation run gets an id, and one that
/// names the contract's parties, activities or bands is the same in every
/// run: it is interned ([`why::shared_joined`], [`SharedId`]), so the line
/// shares it and no string is allocated (or freed) per line. A number in an
/// id is a part written by [`num`].
pub(crate) fn line_id(parts: &[&str]) -> LineId {
    LineId(why::shared_joined(parts))
}

/// The id of a statement line, e.g. `shared_savings.benchmark` or
/// `shared_savings.payout.zorgverzekeraar.huisartsen`: it reads as a `&str`
/// (it dereferences to one) and compares, orders, hashes, prints and
/// serializes as its text. A fixed id is the engine's own text; one that
/// names the contract's parties, activities or bands is shared by every
/// line (and every run in the process) that names the same, so a line's id
/// costs no allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineId(SharedId);

impl LineId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for LineId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for LineId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for LineId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for LineId {
    fn from(s: &'static str) -> LineId {
        LineId(SharedId::from_static(s))
    }
}

impl From<String> for LineId {
    fn from(s: String) -> LineId {
        LineId(SharedId::from(s))
    }
}

impl From<Arc<str>> for LineId {
    fn from(s: Arc<str>) -> LineId {
        LineId(SharedId::from(s))
    }
}

impl From<SharedId> for LineId {
    fn from(s: SharedId) -> LineId {
        LineId(s)
    }
}

impl PartialEq<str> for LineId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LineId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for LineId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<LineId> for str {
    fn eq(&self, other: &LineId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<LineId> for &str {
    fn eq(&self, other: &LineId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<LineId> for String {
    fn eq(&self, other: &LineId) -> bool {
        self == other.as_str()
    }
}

impl std::fmt::Debug for LineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for LineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LineId {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(self.as_str())
    }
}

/// A whole number as an id part of [`line_id`] (decimal, as `format!`
/// writes it), in `buf`.
pub(crate) fn num(buf: &mut itoa::Buffer, n: usize) -> &str {
    buf.format(n)
}

/// One line of a statement: a figure, or a transfer when `funding` is set.
///
/// A transfer reads FROM -> TO: `from` pays `to` `amount`, which is never
/// negative (a loss payment or an advance repayment names the provider in
/// `from`). What a line is, and the numbers it carries, are `id`, `amount`,
/// `value`, `from`, `to` and `funding`: the signed form of a statement
/// ([`Statement::signed_form`]). `label` and `formula` explain it in words and
/// are not signed (docs/FORMAT.md 5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Stable id, e.g. `shared_savings.benchmark`: the engine's own text
    /// when the id is fixed, an interned name when it names the
    /// contract's parties, activities or bands (no allocation per line of
    /// every simulation run either way; see [`LineId`]).
    pub id: LineId,
    /// Label for a reader, as a message and its terms (not signed; worded by
    /// `present::words`).
    pub label: Phrase,
    /// The computation with its numbers, as a message and its terms, e.g.
    /// `Benchmark = 8,450.00 per member-year x 1.0300 trend x 2,000 members =
    /// 17,407,000.00` in English (not signed; worded by `present::words`).
    pub formula: Phrase,
    /// Whether the words show every figure without its sign (a payment from
    /// providers: the figures are those that move FROM -> TO; engine
    /// version 1 showed them signed).
    pub abs_figures: bool,
    /// A money amount, rounded to cents; for a transfer 0 or more.
    pub amount: Option<Decimal>,
    /// A non-money figure: a rate, score, factor or quantity.
    pub value: Option<Decimal>,
    /// For a transfer: who pays (the party id, shared with every other line
    /// and run that names the party: no string per line).
    pub from: Option<SharedId>,
    /// For a transfer: who receives (shared as `from`).
    pub to: Option<SharedId>,
    /// For a transfer: its funding stream.
    pub funding: Option<Funding>,
    /// For a transfer: the amount the payer pays the provider, negative when
    /// the provider pays (the sign convention of engine version 1, whose
    /// statements are still replayed). `from` is the payer unless it is
    /// negative.
    pub(crate) v1_amount: Decimal,
    /// For a transfer: how engine version 1 worded its label.
    pub(crate) v1_label: V1Label,
}

/// The JSON of a line: its fields, with `label` and `formula` in the
/// engine's reference English ([`why::Msg::en`]; documents word lines in a
/// reader's language through `present::words`).
impl Serialize for Line {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            id: &'a str,
            label: String,
            formula: String,
            #[serde(with = "serde_money::opt")]
            amount: Option<Decimal>,
            #[serde(with = "serde_value::opt")]
            value: Option<Decimal>,
            from: Option<&'a str>,
            to: Option<&'a str>,
            funding: &'a Option<Funding>,
        }
        Json {
            id: &self.id,
            label: self.label.english(self.abs_figures),
            formula: self.formula.english(self.abs_figures),
            amount: self.amount,
            value: self.value,
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            funding: &self.funding,
        }
        .serialize(ser)
    }
}

/// How engine version 1 worded a transfer's label, from the label of today
/// (`label`) and the transfer's payer and provider: version 1 statements are
/// still replayed (docs/FORMAT.md 5.8) and hashed with their words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum V1Label {
    /// The label as it is.
    #[default]
    Same,
    /// `{label} ({payer} to {provider})`.
    PayerToProvider,
    /// `{label} ({provider} to {payer})`.
    ProviderToPayer,
}

/// The kind of money a transfer is, for the cash and result views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// A payment that is a result: earned by the receiver, borne by the payer.
    Result,
    /// Cash that is a loan: an impulse advance, its repayment, or a balance
    /// falling due. It moves money, not results.
    Loan,
}

impl Line {
    fn money(id: impl Into<LineId>, label: Phrase, formula: Phrase, amount: Decimal) -> Line {
        debug_assert!(amount.scale() == 2, "money lines are rounded to cents");
        Line {
            id: id.into(),
            label,
            formula,
            abs_figures: false,
            amount: Some(amount),
            value: None,
            from: None,
            to: None,
            funding: None,
            v1_amount: Decimal::ZERO,
            v1_label: V1Label::Same,
        }
    }

    fn value(id: impl Into<LineId>, label: Phrase, formula: Phrase, value: Decimal) -> Line {
        Line {
            id: id.into(),
            label,
            formula,
            abs_figures: false,
            amount: None,
            value: Some(value.normalize()),
            from: None,
            to: None,
            funding: None,
            v1_amount: Decimal::ZERO,
            v1_label: V1Label::Same,
        }
    }

    /// Whether the line is a transfer between a payer and a provider.
    pub fn is_transfer(&self) -> bool {
        self.funding.is_some()
    }

    /// For a transfer: the amount `party` receives by it (negative: what it
    /// pays); 0 for a party it does not concern and for other lines.
    pub fn net_to(&self, party: &str) -> Decimal {
        let Some(a) = self.amount.filter(|_| self.is_transfer()) else { return Decimal::ZERO };
        if self.to.as_deref() == Some(party) {
            a
        } else if self.from.as_deref() == Some(party) {
            -a
        } else {
            Decimal::ZERO
        }
    }

    /// For a transfer: (payer, provider, amount the payer pays the provider,
    /// negative when the provider pays), the sign convention of engine
    /// version 1.
    pub fn payer_provider(&self) -> Option<(&str, &str, Decimal)> {
        let (from, to) = (self.from.as_deref()?, self.to.as_deref()?);
        self.funding?;
        Some(if self.v1_amount.is_sign_negative() { (to, from, self.v1_amount) } else { (from, to, self.v1_amount) })
    }

    /// For a transfer: whether it is a result or a loan (advances, their
    /// repayments and a balance due are loans), by its line id.
    #[inline]
    pub fn transfer_kind(&self) -> Option<TransferKind> {
        self.funding?;
        let loan = self.id.strip_prefix("impulse.").is_some_and(|rest| {
            let mut parts = rest.split('.');
            parts.next();
            matches!(parts.next(), Some("advance" | "repayment" | "due"))
        });
        Some(if loan { TransferKind::Loan } else { TransferKind::Result })
    }
}

/// What one party receives and pays in the year, over all transfers (the
/// cash view), and what it earned or bore (the result view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyResult {
    /// Party id (shared by every statement that names the party).
    pub party: SharedId,
    /// Its role.
    pub role: Role,
    /// Cash: sum of the transfers it receives (advances included).
    #[serde(with = "serde_money")]
    pub received: Decimal,
    /// Cash: sum of the transfers it pays (repayments included).
    #[serde(with = "serde_money")]
    pub paid: Decimal,
    /// Cash: received - paid (above 0: the party receives on balance).
    #[serde(with = "serde_money")]
    pub net: Decimal,
    /// Result: what the party earned (above 0) or bore (below 0) this year:
    /// the result transfers it receives minus those it pays, plus an advance
    /// balance waived in its favour (minus one it waived). Advances and their
    /// repayments are loans and count for nothing here.
    #[serde(with = "serde_money")]
    pub result: Decimal,
}

/// The transfers of one funding stream in the year, per direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamTotal {
    /// Sum of the transfers from payers to providers.
    #[serde(with = "serde_money")]
    pub payers_to_providers: Decimal,
    /// Sum of the transfers from providers to payers.
    #[serde(with = "serde_money")]
    pub providers_to_payers: Decimal,
    /// payers_to_providers - providers_to_payers.
    #[serde(with = "serde_money")]
    pub net_to_providers: Decimal,
}

/// A net payment between two parties in one funding stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// Who pays (shared as [`PartyResult::party`]).
    pub from: SharedId,
    /// Who receives (shared as `from`).
    pub to: SharedId,
    /// Funding stream.
    pub funding: Funding,
    /// Amount, above 0.
    #[serde(with = "serde_money")]
    pub amount: Decimal,
}

/// A figure used by the settlement, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsedFigure {
    /// Indicator id (shared by every statement of the thread that names it).
    pub indicator: SharedId,
    /// Year of the measurement.
    pub year: u16,
    /// The value.
    #[serde(with = "serde_value")]
    pub value: Decimal,
    /// Ledger entry of the agreed figure.
    pub source_entry: Option<String>,
}

/// The settlement of one contract year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Contract id.
    pub contract: String,
    /// Version hash of the contract settled.
    pub contract_version: String,
    /// Contract year.
    pub year: u16,
    /// The figures used, in (indicator, year) order.
    pub inputs: Vec<UsedFigure>,
    /// Every computed figure and transfer, in settlement order.
    pub lines: Vec<Line>,
    /// Per party: cash received, paid, net, and the result (parties in
    /// contract order, only those with transfers or a waived balance).
    pub parties: Vec<PartyResult>,
    /// Net payments per payer, provider and funding stream.
    pub payments: Vec<Payment>,
    /// The transfers per funding stream, per direction, by the stream's
    /// word (the engine's own text for a Dutch stream: no string per
    /// statement).
    pub totals_by_stream: BTreeMap<Cow<'static, str>, StreamTotal>,
    /// State carried in from the year before: the balances at the start of
    /// the year.
    pub carry_in: Carry,
    /// State for the next year: the balances at the end of the year.
    pub carry_out: Carry,
}

impl Statement {
    /// Deterministic JSON of the statement (money as two-decimal strings).
    pub fn to_json(&self) -> String {
        // Serializing cannot fail: every map has string keys and every value
        // is a string, an integer, a bool or a struct of those (no floats,
        // no non-string keys). An empty fallback would hide a bug.
        serde_json::to_string_pretty(self).expect("a statement always serializes to JSON")
    }

    /// The signed form of the statement (docs/FORMAT.md 5.8): its JSON with
    /// each line reduced to [`SIGNED_LINE_FIELDS`]: numbers, parties and
    /// streams, no words. Two statements that differ only in labels or
    /// formulas have the same signed form.
    pub fn signed_form(&self) -> Result<serde_json::Value, serde_json::Error> {
        let mut v = serde_json::to_value(self)?;
        if let Some(lines) = v.get_mut("lines").and_then(serde_json::Value::as_array_mut) {
            for l in lines {
                if let Some(m) = l.as_object_mut() {
                    m.retain(|k, _| SIGNED_LINE_FIELDS.contains(&k.as_str()));
                }
            }
        }
        Ok(v)
    }

    /// The statement as engine version 1 recorded and hashed it (with its
    /// English words, payer -> provider signs), for replaying entries signed
    /// under version 1.
    pub fn v1_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        v1::statement_value(self)
    }

    /// The line with `id`.
    pub fn line(&self, id: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.id == id)
    }
}

/// Why a year cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettleError {
    /// The year is not a contract year.
    #[error("year {year} is outside the contract term {first}-{last}")]
    YearOutsideTerm {
        /// Requested year.
        year: u16,
        /// First contract year.
        first: u16,
        /// Last contract year.
        last: u16,
    },
    /// The carried state is not that of the year before.
    #[error("the carried state is for settling {expected}, not {year}: settle the years in order")]
    CarryOutOfOrder {
        /// The year the carry can settle.
        expected: u16,
        /// The year requested.
        year: u16,
    },
    /// Required figures are missing.
    #[error("missing figures: {}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", "))]
    MissingFigures(Vec<FigureRef>),
    /// A figure is out of its domain (negative count, zero index, ...).
    #[error("invalid figure {figure}: {reason}")]
    InvalidFigure {
        /// Which figure.
        figure: String,
        /// Why.
        reason: String,
    },
    /// Overflow or division by zero while computing a figure.
    #[error("cannot compute {figure}: {problem}")]
    Arithmetic {
        /// The figure being computed.
        figure: String,
        /// `overflow` or `division by zero`.
        problem: &'static str,
    },
    /// Too many years in one call.
    #[error("at most {MAX_TERM_YEARS} years can be settled at once")]
    TooManyYears,
    /// The contract has no canonical form (so no version): it was never
    /// validated (every contract that passed `contract::validate` has one).
    #[error("the contract has no canonical form (validate it first): {0}")]
    NotCanonical(String),
}

/// The version hash of `contract`, or [`SettleError::NotCanonical`].
fn version_of(contract: &Contract) -> Result<String, SettleError> {
    contract.try_version_hash().map_err(|e| SettleError::NotCanonical(e.to_string()))
}

/// The error of a lookup of `indicator` in `year` that found no figure.
fn missing_figure(indicator: &str, year: u16) -> SettleError {
    SettleError::MissingFigures(vec![FigureRef { indicator: indicator.to_string(), year }])
}

/// The settlement state of one year while it is computed.
pub(crate) struct Ctx<'a> {
    pub(crate) c: &'a Contract,
    pub(crate) year: u16,
    inputs: &'a Inputs,
    pub(crate) round: Rounder,
    pub(crate) lines: Vec<Line>,
    /// The figures read, each once, as (indicator, year, figure) borrowed
    /// from the inputs, in the order first read (sorted by indicator and
    /// year for the statement). A figure read again is found here by a
    /// short scan instead of a lookup by string key in the inputs. Empty
    /// when `known` is set.
    used: Vec<(&'a str, u16, &'a Figure)>,
    /// The table of a simulation's template when nothing reads the figures
    /// used (a year settled without words, [`Detail::Numbers`], or a base
    /// amount): every figure is found there, and none is recorded in `used`.
    known: Option<&'a FigTable>,
    /// The provider key of the year, once read (see `distribution`).
    pub(crate) provider_key: Option<Vec<(&'a str, Decimal)>>,
    /// The contract's party ids, each shared by every line that names it
    /// (see [`Ctx::party`]; empty until the year's first transfer), with the
    /// contract's own text of the id: a caller that passes that very text is
    /// found by address. Inline: a contract has few parties.
    parties: SmallVec<[(&'a str, SharedId); 8]>,
    /// Figures of the year that depend on a line the year computes, read
    /// from here rather than from `inputs` (see [`LaterFigures`]); `None`
    /// outside a simulation.
    later: Option<&'a mut dyn LaterFigures>,
}

/// Figures of the year being settled whose values depend on a line that
/// the same settlement computes: a simulation's inputs measured against the
/// benchmark, the population budget or the bundled target total (the lines
/// [`base_amount`] computes). The engine tells the source each such line as
/// soon as it has computed it ([`Ctx::base_line`]), and reads these figures
/// of the year from the source, not from the inputs; so the year is settled
/// once instead of computing its bases in a settlement of their own first.
pub(crate) trait LaterFigures {
    /// Whether figure `indicator` of `year` depends on a line: `None` when
    /// it does not (it is read from the inputs), `Some(None)` when its line
    /// is not computed yet, `Some(Some(value))` when it is.
    fn figure(&mut self, indicator: &str, year: u16) -> Option<Option<Decimal>>;
    /// Line `line` of the year has been computed as `amount`. An error
    /// ends the settlement with it.
    fn base_line(&mut self, line: &str, amount: Decimal) -> Result<(), SettleError>;
}

impl<'a> Ctx<'a> {
    /// This year's figure for `indicator`; an error when missing.
    pub(crate) fn fig(&mut self, indicator: &str) -> Result<Decimal, SettleError> {
        self.fig_in(indicator, self.year)
    }

    /// The figure for `indicator` in `year`; an error when missing.
    pub(crate) fn fig_in(&mut self, indicator: &str, year: u16) -> Result<Decimal, SettleError> {
        if let Some(later) = self.later.as_deref_mut() {
            match later.figure(indicator, year) {
                None => {}
                Some(Some(value)) => return Ok(value),
                // Read before its line is computed: the caller settles the
                // year the other way (with the figure in the inputs).
                Some(None) => return Err(missing_figure(indicator, year)),
            }
        }
        if let Some(t) = self.known {
            // The table gives what the inputs give (see `template`).
            return t.get(indicator, year).ok_or_else(|| missing_figure(indicator, year));
        }
        if let Some((_, _, f)) = self.used.iter().find(|(k, y, _)| *y == year && *k == indicator) {
            return Ok(f.value);
        }
        let inputs: &'a Inputs = self.inputs;
        let found = if year == inputs.year {
            inputs.figures.get_key_value(indicator)
        } else {
            inputs.other_years.get(&year).and_then(|m| m.get_key_value(indicator))
        };
        match found {
            Some((k, f)) => {
                self.used.push((k.as_str(), year, f));
                Ok(f.value)
            }
            None => Err(missing_figure(indicator, year)),
        }
    }

    /// Line `line` (one [`base_amount`] computes) is `amount`: tells the
    /// settlement's [`LaterFigures`], if any.
    pub(crate) fn base_line(&mut self, line: &str, amount: Decimal) -> Result<(), SettleError> {
        match self.later.as_deref_mut() {
            Some(later) => later.base_line(line, amount),
            None => Ok(()),
        }
    }

    /// This year's figure, or `None` when it is missing.
    pub(crate) fn fig_opt(&mut self, indicator: &str) -> Option<Decimal> {
        // Straight from the table unless some figures come later (then
        // `fig_in` asks their source first).
        if let (Some(t), None) = (self.known, &self.later) {
            return t.get(indicator, self.year);
        }
        self.fig(indicator).ok()
    }

    /// A figure that must not be negative (counts, costs, quantities).
    pub(crate) fn fig_nonneg(&mut self, indicator: &str) -> Result<Decimal, SettleError> {
        let v = match (self.known, &self.later) {
            (Some(t), None) => t.get(indicator, self.year).ok_or_else(|| missing_figure(indicator, self.year))?,
            _ => self.fig(indicator)?,
        };
        if v.is_sign_negative() && !v.is_zero() {
            return Err(SettleError::InvalidFigure {
                figure: format!("{indicator} ({})", self.year),
                reason: format!("{v} is negative"),
            });
        }
        Ok(v)
    }

    /// The shared id of party `id`: one [`SharedId`] per party for all the
    /// lines of the year (and, through [`why::shared`], of every run in the
    /// process), so a transfer line allocates no strings and copies its
    /// parties without touching a reference count.
    pub(crate) fn party(&mut self, id: &str) -> SharedId {
        if self.parties.is_empty() {
            self.share_parties();
        }
        // Most callers pass the contract's own text of the id: the same
        // address and length is the same text (both are alive), found
        // without comparing bytes.
        if let Some((_, p)) = self.parties.iter().find(|(k, _)| std::ptr::eq(*k, id)) {
            return p.clone();
        }
        if let Some((_, p)) = self.parties.iter().find(|(k, _)| *k == id) {
            return p.clone();
        }
        // A party the contract does not list (e.g. from a carried state read
        // elsewhere): shared, not kept.
        why::shared(id)
    }

    /// Keeps every party of the contract shared under the contract's text
    /// of its id, all at once at the year's first transfer (each year of a
    /// simulation names the same parties: found in the thread's
    /// [`PARTY_IDS`], with one thread-local access a year).
    fn share_parties(&mut self) {
        let c: &'a Contract = self.c;
        let parties = &mut self.parties;
        PARTY_IDS.with(|cell| {
            let Ok(mut ids) = cell.try_borrow_mut() else {
                // Never the case (nothing here shares a party), but never a
                // panic.
                parties.extend(c.parties.iter().map(|q| (q.id.as_str(), why::shared(&q.id))));
                return;
            };
            // The parties of the contract settled last on this thread, in
            // the contract's order: each compared with its own slot only.
            for (i, q) in c.parties.iter().enumerate() {
                let p = match ids.get_mut(i) {
                    Some(p) if p.as_str() == q.id => p.clone(),
                    Some(slot) => {
                        *slot = why::shared(&q.id);
                        slot.clone()
                    }
                    None => {
                        let p = why::shared(&q.id);
                        ids.push(p.clone());
                        p
                    }
                };
                parties.push((q.id.as_str(), p));
            }
            ids.truncate(c.parties.len());
        });
    }

    /// Pushes a money line.
    pub(crate) fn push_money(&mut self, id: impl Into<LineId>, label: Phrase, formula: Phrase, amount: Decimal) {
        self.push(Line::money(id, label, formula, amount));
    }

    /// Pushes a value line.
    pub(crate) fn push_value(&mut self, id: impl Into<LineId>, label: Phrase, formula: Phrase, value: Decimal) {
        self.push(Line::value(id, label, formula, value));
    }

    pub(crate) fn push(&mut self, line: Line) {
        self.lines.push(line);
    }

    /// Pushes a transfer line: `payer` pays `provider` `amount` (rounded); a
    /// negative `amount` is a transfer from `provider` to `payer` of its
    /// absolute value (the line reads FROM -> TO with an amount of 0 or more).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn transfer(
        &mut self,
        id: LineId,
        label: Phrase,
        formula: Phrase,
        amount: Decimal,
        payer: &str,
        provider: &str,
        funding: Funding,
    ) {
        self.transfer_worded(id, label, formula, amount, payer, provider, funding, V1Label::Same);
    }

    /// [`Ctx::transfer`], saying how engine version 1 worded the label.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn transfer_worded(
        &mut self,
        id: LineId,
        label: Phrase,
        formula: Phrase,
        amount: Decimal,
        payer: &str,
        provider: &str,
        funding: Funding,
        v1_label: V1Label,
    ) {
        let (payer, provider) = (self.party(payer), self.party(provider));
        self.transfer_between(id, label, formula, amount, payer, provider, funding, v1_label);
    }

    /// [`Ctx::transfer_worded`] between parties already shared ([`Ctx::party`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn transfer_between(
        &mut self,
        id: LineId,
        label: Phrase,
        formula: Phrase,
        amount: Decimal,
        payer: SharedId,
        provider: SharedId,
        funding: Funding,
        v1_label: V1Label,
    ) {
        let (from, to) = if amount.is_sign_negative() { (provider, payer) } else { (payer, provider) };
        debug_assert!(amount.scale() == 2, "money lines are rounded to cents");
        debug_assert!(!amount.abs().is_sign_negative(), "a transfer's amount is never negative");
        self.push(Line {
            id,
            label,
            formula,
            abs_figures: false,
            amount: Some(amount.abs()),
            value: None,
            from: Some(from),
            to: Some(to),
            funding: Some(funding),
            v1_amount: amount,
            v1_label,
        });
    }

    /// The population size as measured, the divisor that makes it members
    /// (12 for member-months, else 1) and the words for a formula. Callers
    /// multiply by the size first and divide by the divisor last, so that a
    /// per-member amount has one rounding, at the end (as the benchmark and
    /// the capitation budget have).
    pub(crate) fn members(&mut self) -> Result<(Decimal, Decimal, Phrase), SettleError> {
        let c: &'a Contract = self.c;
        self.members_of(&c.population.size_indicator)
    }

    /// [`Ctx::members`] measured by the indicator `id` (unit `members`,
    /// `member_months` or `episodes`) instead of the population size
    /// indicator.
    pub(crate) fn members_of(&mut self, id: &str) -> Result<(Decimal, Decimal, Phrase), SettleError> {
        let v = self.fig_nonneg(id)?;
        let unit = self.c.indicator(id).map(|i| i.unit);
        Ok(match unit {
            Some(Unit::MemberMonths) => (
                v,
                Decimal::from(MONTHS_PER_YEAR),
                w!("line-size-member-months", "{} member-months / 12", why::number(v)),
            ),
            Some(Unit::Episodes) => (v, Decimal::ONE, w!("line-size-episodes", "{} episodes", why::number(v))),
            _ => (v, Decimal::ONE, w!("line-size-members", "{} members", why::number(v))),
        })
    }

    /// `rate` per member-year x the population: rate x size / divisor, the
    /// division last and one rounding to cents; with the formula words.
    pub(crate) fn per_member(&mut self, rate: Decimal, figure: &str) -> Result<(Decimal, Phrase), SettleError> {
        let (size, divisor, words) = self.members()?;
        let amount = self.round.cents(money::div(money::mul(rate, size, figure)?, divisor, figure)?);
        Ok((amount, words))
    }
}

thread_local! {
    /// The party ids of the contract [`Ctx::party`] shared last on this
    /// thread, in the contract's order: each year of a simulation names the
    /// same parties, found here by comparing each with its slot, without
    /// hashing it. Only a cache: the same text is the same id
    /// ([`why::shared`]).
    static PARTY_IDS: std::cell::RefCell<Vec<SharedId>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Months in a year: member-months / 12 = members.
pub(crate) const MONTHS_PER_YEAR: u32 = 12;

fn provider_key_indicators(c: &Contract) -> Vec<&str> {
    match &c.distribution.providers.rule {
        ProviderRule::ByIndicator { indicators } => indicators.values().map(String::as_str).collect(),
        ProviderRule::Fixed { .. } => Vec::new(),
    }
}

/// The figures that settling `year` needs, sorted. Figures that may be
/// missing (tariff triggers; quality and bonus figures under
/// `treat_as_not_met`) are not listed.
pub fn required_indicators(contract: &Contract, year: u16) -> Vec<FigureRef> {
    let mut req: BTreeSet<FigureRef> = BTreeSet::new();
    visit_required(contract, year, &mut |id: &str, y: u16| {
        req.insert(FigureRef { indicator: id.to_string(), year: y });
    });
    req.into_iter().collect()
}

/// Calls `add` for every figure [`required_indicators`] lists (possibly
/// more than once, in no particular order), without allocating.
fn visit_required(contract: &Contract, year: u16, add: &mut dyn FnMut(&str, u16)) {
    let c = contract;
    let strict = c.monitoring.missing_measurement == MissingMeasurement::BlockSettlement;
    let key = provider_key_indicators(c);
    let p = &c.payments;
    if let Some(ss) = &p.shared_savings {
        use crate::domain::contract::{BaselineMode, Corridor, ForceMajeure};
        let agreed = c.baseline.as_ref().is_some_and(|b| b.mode == BaselineMode::AgreedTotal);
        // The size sets a computed benchmark and a corridor table that names
        // no population indicator of its own.
        let table_size = match &ss.corridor {
            Corridor::PopulationTable { population_indicator: Some(ind), .. } => {
                add(ind, year);
                false
            }
            Corridor::PopulationTable { population_indicator: None, .. } => true,
            Corridor::Fixed { .. } => false,
        };
        if !agreed || table_size {
            add(&c.population.size_indicator, year);
        }
        add(&ss.actual_cost_indicator, year);
        if let Some(b) = &c.baseline {
            if let Some(ind) = &b.benchmark_indicator {
                add(ind, year);
            }
            match &b.trend {
                Some(Trend::MeasuredRate { indicator }) => {
                    for y in b.base_year.saturating_add(1)..=year {
                        add(indicator, y);
                    }
                }
                Some(Trend::MeasuredIndex { indicator }) => {
                    add(indicator, b.base_year);
                    add(indicator, year);
                }
                Some(Trend::FixedRate { .. } | Trend::RatesPerYear { .. }) | None => {}
            }
            if let Some(crate::domain::contract::RiskAdjustment::Measured { indicator }) = &b.risk_adjustment {
                add(indicator, year);
            }
        }
        if strict {
            for (i, _) in c.quality_indicators() {
                add(&i.id, year);
            }
            if let Some(tier) = &ss.inside_corridor {
                add(&tier.indicator, year);
            }
        }
        if let Some(cap) = &ss.figure_loss_cap {
            add(&cap.indicator, year);
        }
        if let Some(ind) = &ss.participation_months_indicator {
            add(ind, year);
        }
        match &ss.force_majeure {
            Some(ForceMajeure::Fraction { factors }) => factors.iter().for_each(|f| add(f, year)),
            Some(ForceMajeure::Amount { indicator }) => add(indicator, year),
            None => {}
        }
        if ss.recipient.is_none() {
            key.iter().for_each(|k| add(k, year));
        }
    }
    if let Some(v) = &p.volume {
        for a in &v.activities {
            add(&a.quantity_indicator, year);
        }
        for cap in &v.caps {
            if let Some(e) = &cap.exposure_indicator {
                add(e, year);
            }
        }
    }
    if let Some(pp) = &p.pay_for_performance {
        for b in &pp.bonuses {
            if strict {
                add(&b.indicator, year);
            }
            if b.basis == crate::domain::contract::BonusBasis::PerMember {
                add(&c.population.size_indicator, year);
            }
            if b.recipient.is_none() {
                key.iter().for_each(|k| add(k, year));
            }
        }
    }
    if let Some(b) = &p.bundled {
        add(&b.episodes_indicator, year);
        add(&b.actual_cost_indicator, year);
        if b.recipient.is_none() {
            key.iter().for_each(|k| add(k, year));
        }
    }
    if let Some(cap) = &p.capitation {
        add(&cap.members_indicator, year);
        add(&cap.actual_cost_indicator, year);
        if cap.recipient.is_none() {
            key.iter().for_each(|k| add(k, year));
        }
    }
    for g in &c.revenue_guarantees {
        if let Some(ind) = &g.revenue_indicator {
            if g.years.contains(&year) {
                add(ind, year);
            }
        }
    }
    for (_, _, k) in allocation::keyed_components(c) {
        k.indicators().for_each(|i| add(i, year));
    }
}

/// Settles contract year `inputs.year`, given the state carried out of the
/// year before (or [`Carry::initial`] for the first year).
pub fn settle_year(contract: &Contract, inputs: &Inputs, carry: &Carry) -> Result<Statement, SettleError> {
    settle_year_inner(contract, inputs, carry, &version_of(contract)?, false, Detail::Words, None)
}

/// The amount of a line that an input may be measured against before the
/// year is settled: `shared_savings.benchmark`, `bundled.target_total` or
/// `capitation.budget`, computed by the code that settles the year (none of
/// them depends on the actual cost). `None` for any other line, or when the
/// contract has no such component.
pub fn base_amount(contract: &Contract, inputs: &Inputs, line: &str) -> Result<Option<Decimal>, SettleError> {
    base_amount_known(contract, inputs, None, line)
}

/// [`base_amount`] of a simulation's template, its figures read through
/// the template's table: the same amount or error.
pub(crate) fn template_base_amount(
    contract: &Contract,
    template: &Template,
    line: &str,
) -> Result<Option<Decimal>, SettleError> {
    base_amount_known(contract, template.inputs(), Some(template.table()), line)
}

/// [`base_amount`], reading the figures through `known` (the table of
/// `inputs`) when one is given: the figures used are never listed here.
fn base_amount_known(
    contract: &Contract,
    inputs: &Inputs,
    known: Option<&FigTable>,
    line: &str,
) -> Result<Option<Decimal>, SettleError> {
    let c = contract;
    let mut cx = Ctx {
        c,
        year: inputs.year,
        inputs,
        round: Rounder::new(c.rounding),
        lines: Vec::new(),
        used: Vec::new(),
        known,
        provider_key: None,
        parties: SmallVec::new(),
        later: None,
    };
    match (line, &c.payments.shared_savings, &c.payments.bundled, &c.payments.capitation) {
        ("shared_savings.benchmark", Some(_), _, _) => shared_savings::benchmark(&mut cx).map(Some),
        ("bundled.target_total", _, Some(b), _) => components::bundled_target(&mut cx, b).map(Some),
        ("capitation.budget", _, _, Some(cap)) => components::capitation_budget(&mut cx, cap).map(Some),
        _ => Ok(None),
    }
}

/// Whether [`base_amount`] computes line `line` of `contract` (the
/// contract has the component).
pub(crate) fn is_base_line(contract: &Contract, line: &str) -> bool {
    let p = &contract.payments;
    match line {
        "shared_savings.benchmark" => p.shared_savings.is_some(),
        "bundled.target_total" => p.bundled.is_some(),
        "capitation.budget" => p.capitation.is_some(),
        _ => false,
    }
}

/// [`settle_year`] for a contract whose version hash the caller has
/// already computed (`version` must be `contract.version_hash()`): a
/// simulation settles one contract many thousand times.
pub fn settle_year_versioned(
    contract: &Contract,
    inputs: &Inputs,
    carry: &Carry,
    version: &str,
) -> Result<Statement, SettleError> {
    settle_year_inner(contract, inputs, carry, version, false, Detail::Words, None)
}

/// Whether `inputs` holds every figure [`required_indicators`] lists for
/// its year (then [`settle_year_complete`] may settle it).
pub(crate) fn has_required(contract: &Contract, inputs: &Inputs) -> bool {
    let mut all = true;
    visit_required(contract, inputs.year, &mut |id: &str, y: u16| {
        all &= inputs.get(id, y).is_some();
    });
    all
}

/// [`settle_year_versioned`] for a template whose inputs [`has_required`]
/// accepted (a simulation checks its templates once, then only changes
/// their values): the same statement or error, without looking for missing
/// figures again, and, without words, reading the figures through the
/// template's table.
pub(crate) fn settle_year_complete(
    contract: &Contract,
    template: &Template,
    carry: &Carry,
    version: &str,
    detail: Detail,
) -> Result<Statement, SettleError> {
    let inputs = template.inputs();
    debug_assert!(has_required(contract, inputs), "the caller checked the inputs");
    // As in `settle_year_detailed`: the flag holds for this settlement only.
    let _words = why::WordsOff::new(detail == Detail::Numbers);
    let reads = Reads { table: Some(template.table()), later: None };
    settle_year_known(contract, inputs, reads, carry, version, true, detail)
}

/// [`settle_year_detailed`] with the figures of the year that depend on a
/// line of the year read from `later` (a simulation's line-based inputs),
/// the others through the template's table when the year is settled
/// without words: `complete` when [`has_required`] accepted the template.
/// The statement is the one [`settle_year_detailed`] gives for inputs
/// holding those figures, provided no figure of `later` is read before its
/// line is computed (that read is an error, [`SettleError::MissingFigures`]
/// naming it).
pub(crate) fn settle_year_later(
    contract: &Contract,
    template: &Template,
    carry: &Carry,
    version: &str,
    complete: bool,
    detail: Detail,
    later: &mut dyn LaterFigures,
) -> Result<Statement, SettleError> {
    let inputs = template.inputs();
    debug_assert!(!complete || has_required(contract, inputs), "the caller checked the inputs");
    let _words = why::WordsOff::new(detail == Detail::Numbers);
    let reads = Reads { table: Some(template.table()), later: Some(later) };
    settle_year_known(contract, inputs, reads, carry, version, complete, detail)
}

/// How much of a statement the engine builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// The whole statement: every line with its words (label and formula).
    /// Everything that shows, signs or stores a statement settles so.
    #[default]
    Words,
    /// The numbers only, for a simulation: the same lines in the same order
    /// with the same ids, amounts, values, parties and streams, the same
    /// cash and result per party and carried state, the same errors; but
    /// every line's label and formula is its message without terms, and
    /// the lists a simulation never reads are left empty: the payments
    /// ([`Statement::payments`]), the totals per stream and the figures
    /// used. Never shown, signed or stored.
    Numbers,
}

/// [`settle_year_versioned`] at the given [`Detail`]: a simulation settles
/// with [`Detail::Numbers`].
pub fn settle_year_detailed(
    contract: &Contract,
    inputs: &Inputs,
    carry: &Carry,
    version: &str,
    detail: Detail,
) -> Result<Statement, SettleError> {
    // The phrase builders read the words flag of this thread (`why::words`);
    // the engine runs on the caller's thread only, so the flag holds for
    // exactly this settlement and is restored when it ends, also on error.
    let _words = why::WordsOff::new(detail == Detail::Numbers);
    settle_year_inner(contract, inputs, carry, version, false, detail, None)
}

/// Where a settlement reads its figures besides its inputs.
struct Reads<'r> {
    /// The table of the inputs (a simulation's template), read instead of
    /// the inputs' maps when the year is settled without words.
    table: Option<&'r FigTable>,
    /// The figures that depend on a line of the year (see [`LaterFigures`]).
    later: Option<&'r mut dyn LaterFigures>,
}

fn settle_year_inner(
    contract: &Contract,
    inputs: &Inputs,
    carry: &Carry,
    version: &str,
    complete: bool,
    detail: Detail,
    later: Option<&mut dyn LaterFigures>,
) -> Result<Statement, SettleError> {
    settle_year_known(contract, inputs, Reads { table: None, later }, carry, version, complete, detail)
}

/// [`settle_year_inner`], reading the figures through `table` (the table of
/// `inputs`) when one is given and the year is settled without words.
fn settle_year_known(
    contract: &Contract,
    inputs: &Inputs,
    reads: Reads<'_>,
    carry: &Carry,
    version: &str,
    complete: bool,
    detail: Detail,
) -> Result<Statement, SettleError> {
    let Reads { table, later } = reads;
    let c = contract;
    let year = inputs.year;
    if !c.term.years().contains(&year) {
        return Err(SettleError::YearOutsideTerm { year, first: c.term.first_year, last: c.term.last_year });
    }
    let expected = carry.next_year(c);
    if expected != year {
        return Err(SettleError::CarryOutOfOrder { expected, year });
    }
    if !complete {
        let mut missing: BTreeSet<FigureRef> = BTreeSet::new();
        visit_required(c, year, &mut |id: &str, y: u16| {
            if inputs.get(id, y).is_none() {
                missing.insert(FigureRef { indicator: id.to_string(), year: y });
            }
        });
        if !missing.is_empty() {
            return Err(SettleError::MissingFigures(missing.into_iter().collect()));
        }
    }

    let this_year = inputs.figures.iter().map(|(k, f)| (year, k, f));
    let others = inputs.other_years.iter().flat_map(|(y, m)| m.iter().map(move |(k, f)| (*y, k, f)));
    if let Some((y, k, f)) = this_year.chain(others).find(|(_, _, f)| beyond_max_figure(f.value)) {
        return Err(SettleError::InvalidFigure {
            figure: format!("{k} ({y})"),
            reason: format!("{} is beyond the limit of 10^15", f.value),
        });
    }

    // `used` is read only for the words (the figures used).
    let known = table.filter(|_| detail == Detail::Numbers);
    let mut cx = Ctx {
        c,
        year,
        inputs,
        round: Rounder::new(c.rounding),
        lines: Vec::with_capacity(LINES_HINT.with(Cell::get)),
        used: if known.is_some() { Vec::new() } else { Vec::with_capacity(figure_count(inputs)) },
        known,
        provider_key: None,
        parties: SmallVec::new(),
        // Shortened to the settlement's borrows (a coercion of the trait
        // object's lifetime, which `Option` does not make by itself).
        later: later.map(|l| l as &mut dyn LaterFigures),
    };
    let mut carry_out = carry.clone();
    carry_out.settled_through = Some(year);

    if let Some(v) = &c.payments.volume {
        components::volume(&mut cx, v)?;
    }
    if let Some(p) = &c.payments.pay_for_performance {
        components::pay_for_performance(&mut cx, p)?;
    }
    if let Some(ss) = &c.payments.shared_savings {
        carry_out.losses_carried = shared_savings::settle(&mut cx, ss, carry.losses_carried)?;
    }
    if let Some(b) = &c.payments.bundled {
        components::bundled(&mut cx, b)?;
    }
    if let Some(cap) = &c.payments.capitation {
        components::capitation(&mut cx, cap)?;
    }
    let revenue_lines_end = cx.lines.len();
    carry_out.advances = impulse::settle(&mut cx, &carry.advances)?;
    components::revenue_guarantees(&mut cx, revenue_lines_end)?;
    allocation::allocate_streams(&mut cx)?;

    // Every money line is exact in cents; an amount too large to carry two
    // decimals is refused rather than shown inexactly.
    if let Some(l) = cx.lines.iter().find(|l| l.amount.is_some_and(|a| a.scale() != 2)) {
        return Err(SettleError::Arithmetic { figure: l.id.to_string(), problem: "overflow" });
    }
    LINES_HINT.with(|h| h.set(cx.lines.len().clamp(MIN_LINES_HINT, MAX_LINES_HINT)));
    let full = detail == Detail::Words;
    let (parties, payments, totals_by_stream) = summarize(c, &cx.lines, full)?;
    // A simulation reads no figures used (its inputs are its own).
    let inputs = if full { used_figures(&cx.used) } else { Vec::new() };
    Ok(Statement {
        contract: c.id.clone(),
        contract_version: version.to_string(),
        year,
        inputs,
        lines: cx.lines,
        parties,
        payments,
        totals_by_stream,
        carry_in: carry.clone(),
        carry_out,
    })
}

/// The figures `used` as the statement lists them: in (indicator, year)
/// order (the pairs are unique: the order of the map it replaces), each
/// indicator a [`SharedId`] (no string per figure of every simulation run).
fn used_figures(used: &[(&str, u16, &Figure)]) -> Vec<UsedFigure> {
    // Sorted by the indicators' heads first (numbers), their whole text only
    // where two heads are equal (sorting by text was 1.8% of a simulation's
    // instructions).
    let mut sorted: SmallVec<[(u128, &str, u16, &Figure); 32]> =
        used.iter().map(|&(k, y, f)| (text_head(k), k, y, f)).collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| (a.1, a.2).cmp(&(b.1, b.2))));
    let build = |ids: &mut Vec<SharedId>| -> Vec<UsedFigure> {
        sorted
            .iter()
            .enumerate()
            .map(|(i, &(_, key, year, f))| UsedFigure {
                indicator: used_id(ids, i, key),
                year,
                value: f.value,
                source_entry: f.source_entry.clone(),
            })
            .collect()
    };
    USED_IDS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut ids) => build(&mut ids),
        // Never the case (nothing here settles), but never a panic.
        Err(_) => build(&mut Vec::new()),
    })
}

thread_local! {
    /// The indicator ids of the statement settled last on this thread, in
    /// its order: the next statement of a simulation names the same ones.
    /// Only a cache: it changes no output.
    static USED_IDS: std::cell::RefCell<Vec<SharedId>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The shared id of `key`, the `i`th figure of a statement: the id of the
/// `i`th figure of the statement before when it has the same text, else
/// the thread's interned one (`why::shared`), remembered for the next.
fn used_id(ids: &mut Vec<SharedId>, i: usize, key: &str) -> SharedId {
    if let Some(id) = ids.get(i).filter(|id| id.as_str() == key) {
        return id.clone();
    }
    let id = why::shared(key);
    match ids.get_mut(i) {
        Some(slot) => *slot = id.clone(),
        None => ids.push(id.clone()),
    }
    id
}

/// The first 16 bytes of `s` as a number, zeros after a shorter text: two
/// texts whose heads differ are ordered as their heads are; two with the
/// same head need their whole text compared.
fn text_head(s: &str) -> u128 {
    let mut head = [0u8; 16];
    for (h, b) in head.iter_mut().zip(s.as_bytes()) {
        *h = *b;
    }
    u128::from_be_bytes(head)
}

/// The number of figures in `inputs`, of every year: at most that many are
/// read.
fn figure_count(inputs: &Inputs) -> usize {
    inputs.figures.len() + inputs.other_years.values().map(BTreeMap::len).sum::<usize>()
}

/// Lines reserved for a statement before the first settlement on a thread.
const MIN_LINES_HINT: usize = 64;

/// Limit on the lines reserved for a statement from the one settled before.
const MAX_LINES_HINT: usize = 4096;

thread_local! {
    /// The number of lines of the statement settled last on this thread: a
    /// simulation settles one contract many times, and a statement reserved
    /// at its size never grows (a grown vector of lines copies every line).
    /// Only a capacity: it changes no output.
    static LINES_HINT: Cell<usize> = const { Cell::new(MIN_LINES_HINT) };
}

type Summary = (Vec<PartyResult>, Vec<Payment>, BTreeMap<Cow<'static, str>, StreamTotal>);

/// The largest mantissa of a [`Decimal`] (2^96 - 1): a sum of cents beyond
/// it has no exact two-decimal amount.
const MAX_CENTS: i128 = (1 << 96) - 1;

/// `acc + x` in cents, or the overflow error naming `figure` when the sum
/// has no exact two-decimal [`Decimal`] (the check `money::add` makes).
fn add_cents(acc: &mut i128, x: i128, figure: &str) -> Result<(), SettleError> {
    // Both are at most MAX_CENTS in magnitude: the i128 sum cannot overflow.
    *acc += x;
    if acc.abs() > MAX_CENTS {
        return Err(money::arith(figure, "overflow"));
    }
    Ok(())
}

/// Cents (a two-decimal amount's mantissa) as a two-decimal [`Decimal`].
fn from_cents(cents: i128, figure: &str) -> Result<Decimal, SettleError> {
    Decimal::try_from_i128_with_scale(cents, 2).map_err(|_| money::arith(figure, "overflow"))
}

/// The word of `funding` as a key of `totals_by_stream`: the engine's own
/// text for a Dutch stream (no string per statement).
fn stream_key(funding: &Funding) -> Cow<'static, str> {
    match Funding::DUTCH.iter().find(|(_, f)| f == funding) {
        Some((word, _)) => Cow::Borrowed(word),
        None => Cow::Owned(funding.word().to_string()),
    }
}

/// The working sums of [`summarize`], kept per thread from one statement
/// to the next (a simulation summarizes many thousand): cleared, never
/// freed, so a statement's sums allocate nothing.
#[derive(Default)]
struct SummaryScratch {
    /// Per stream met: the stream, and its cents to providers and to payers.
    streams: Vec<(Funding, [i128; 2])>,
    /// Per party named by a transfer or a waived balance: the address and
    /// length of its id's text, and its cents received, paid and resulted.
    parties: Vec<((usize, usize), [i128; 3])>,
    /// Per (payer, provider, stream), as positions in `parties` and
    /// `streams`: the net cents the payer pays the provider.
    net: Vec<((usize, usize, usize), i128)>,
}

thread_local! {
    /// [`summarize`]'s sums of the statement settled last on this thread.
    /// Only room: it changes no output.
    static SUMMARY_SCRATCH: std::cell::RefCell<SummaryScratch> = std::cell::RefCell::new(SummaryScratch::default());
}

fn summarize(c: &Contract, lines: &[Line], full: bool) -> Result<Summary, SettleError> {
    SUMMARY_SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => summarize_in(&mut scratch, c, lines, full),
        // Never the case (`summarize` calls nothing that summarizes), but
        // never a panic either.
        Err(_) => summarize_in(&mut SummaryScratch::default(), c, lines, full),
    })
}

/// The cash and result per party, and, when `full`, the payments and the
/// totals per stream (else both empty, for [`Detail::Numbers`]). The sums
/// are made and checked line by line either way, so the same lines give
/// the same error; what `full` adds only converts sums already checked
/// (each within [`MAX_CENTS`], as is a difference of two of them), which
/// cannot fail.
fn summarize_in(sc: &mut SummaryScratch, c: &Contract, lines: &[Line], full: bool) -> Result<Summary, SettleError> {
    // Few parties and streams: short vectors searched in place, sorted at
    // the end into the order the maps would give. A party is found by the
    // address and length of its id's text: the lines of a year share one
    // [`SharedId`] per party (`Ctx::party`), so the text is compared only
    // for an id met the first time (another id with the same text at
    // another address is the same party).
    // The statement gets the lines' shared ids and the engine's own stream
    // words: its only allocations are the two vectors and the map's node.
    // Every money line has two decimals (checked before), so the sums are
    // exact integer sums of cents, each checked as `money::add` checks a
    // Decimal sum. Each line's two parties are looked up once; their
    // received, paid and result sums sit side by side.
    sc.streams.clear();
    sc.parties.clear();
    sc.net.clear();
    let SummaryScratch { streams, parties: sums, net } = sc;
    // The id of each party of `sums`, in the same order.
    let mut ids: SmallVec<[&SharedId; 8]> = SmallVec::new();
    const TO_PROVIDERS: usize = 0;
    const TO_PAYERS: usize = 1;
    const RECEIVED: usize = 0;
    const PAID: usize = 1;
    const RESULT: usize = 2;
    // Two per transfer line: inline (a call was a third of its cost).
    #[inline(always)]
    fn index<'l>(
        sums: &mut Vec<((usize, usize), [i128; 3])>,
        ids: &mut SmallVec<[&'l SharedId; 8]>,
        id: &'l SharedId,
    ) -> usize {
        // The same text at the same address (both alive) is the same party.
        let at = (id.addr(), id.len());
        if let Some(i) = sums.iter().position(|(a, _)| *a == at) {
            return i;
        }
        if let Some(i) = ids.iter().position(|k| k.as_str() == id.as_str()) {
            return i;
        }
        sums.push((at, [0; 3]));
        ids.push(id);
        sums.len() - 1
    }

    let cents = |d: Decimal| {
        debug_assert_eq!(d.scale(), 2, "money lines are rounded to cents");
        d.mantissa()
    };
    for l in lines {
        let (Some(amount), Some(from), Some(to)) = (l.amount, l.from.as_ref(), l.to.as_ref()) else { continue };
        debug_assert!(!amount.is_sign_negative(), "a transfer's amount is never negative");
        let amount = cents(amount);
        let Some(funding) = l.funding.as_ref() else {
            // A balance waived by `from` in favour of `to`: a result, no cash.
            if l.id.starts_with("impulse.") && l.id.ends_with(".waived") {
                let (t, f) = (index(sums, &mut ids, to), index(sums, &mut ids, from));
                add_cents(&mut sums[t].1[RESULT], amount, "result of a party")?;
                add_cents(&mut sums[f].1[RESULT], -amount, "result of a party")?;
            }
            continue;
        };
        let s = match streams.iter().position(|(f, _)| f == funding) {
            Some(s) => s,
            None => {
                streams.push((*funding, [0; 2]));
                streams.len() - 1
            }
        };
        let provider_pays = l.v1_amount.is_sign_negative();
        let direction = if provider_pays { TO_PAYERS } else { TO_PROVIDERS };
        add_cents(&mut streams[s].1[direction], amount, "total per funding stream")?;
        let (ti, fi) = (index(sums, &mut ids, to), index(sums, &mut ids, from));
        // As `Line::payer_provider` orders them: the payer is `to` when the
        // provider pays.
        let key = if provider_pays { (ti, fi, s) } else { (fi, ti, s) };
        let i = match net.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                net.push((key, 0));
                net.len() - 1
            }
        };
        add_cents(&mut net[i].1, cents(l.v1_amount), "net payment")?;
        add_cents(&mut sums[ti].1[RECEIVED], amount, "received by a party")?;
        add_cents(&mut sums[fi].1[PAID], amount, "paid by a party")?;
        if l.transfer_kind() == Some(TransferKind::Result) {
            add_cents(&mut sums[ti].1[RESULT], amount, "result of a party")?;
            add_cents(&mut sums[fi].1[RESULT], -amount, "result of a party")?;
        }
    }
    let mut stream_totals = BTreeMap::new();
    for (f, [to_providers, to_payers]) in streams.iter().filter(|_| full) {
        let net_to_providers = from_cents(to_providers - to_payers, "net per funding stream")?;
        stream_totals.insert(
            stream_key(f),
            StreamTotal {
                payers_to_providers: from_cents(*to_providers, "total per funding stream")?,
                providers_to_payers: from_cents(*to_payers, "total per funding stream")?,
                net_to_providers,
            },
        );
    }
    let mut parties = Vec::with_capacity(sums.len());
    for party in &c.parties {
        let Some(i) = ids.iter().position(|k| ***k == *party.id) else { continue };
        let [r, p, res] = sums[i].1;
        let net = from_cents(r - p, "net result of a party")?;
        parties.push(PartyResult {
            party: SharedId::from(ids[i]),
            role: party.role,
            received: from_cents(r, "received by a party")?,
            paid: from_cents(p, "paid by a party")?,
            net,
            result: from_cents(res, "result of a party")?,
        });
    }
    if !full {
        return Ok((parties, Vec::new(), stream_totals));
    }
    // The payments in the order of (payer id, provider id, stream): the
    // parties' ids and the streams are ranked once and each payment sorted
    // by its three ranks (the ids and the streams are distinct, so the
    // order is the same), not by comparing ids per comparison.
    let mut by_id: SmallVec<[usize; 8]> = (0..ids.len()).collect();
    by_id.sort_unstable_by(|a, b| ids[*a].cmp(ids[*b]));
    let mut id_rank: SmallVec<[usize; 8]> = smallvec::smallvec![0; ids.len()];
    for (r, &i) in by_id.iter().enumerate() {
        id_rank[i] = r;
    }
    // A statement has a stream or two: each ranked by counting.
    let stream_rank: SmallVec<[usize; 4]> =
        streams.iter().map(|(f, _)| streams.iter().filter(|(g, _)| g < f).count()).collect();
    let mut by_stream: SmallVec<[usize; 4]> = smallvec::smallvec![0; streams.len()];
    for (i, &r) in stream_rank.iter().enumerate() {
        by_stream[r] = i;
    }
    for ((payer, provider, s), _) in net.iter_mut() {
        (*payer, *provider, *s) = (id_rank[*payer], id_rank[*provider], stream_rank[*s]);
    }
    net.sort_unstable_by_key(|(k, _)| *k);
    let mut payments = Vec::with_capacity(net.len());
    for &((payer, provider, s), a) in net.iter() {
        if a == 0 {
            continue;
        }
        let (payer, provider) = (ids[by_id[payer]], ids[by_id[provider]]);
        let (from, to) = if a < 0 { (provider, payer) } else { (payer, provider) };
        payments.push(Payment {
            from: SharedId::from(from),
            to: SharedId::from(to),
            funding: streams[by_stream[s]].0,
            amount: from_cents(a.abs(), "net payment")?,
        });
    }
    Ok((parties, payments, stream_totals))
}

/// Settles `inputs_by_year` (one [`Inputs`] per contract year, in order from
/// the first year), chaining the carried state; stops at the first error.
/// The contract's version hash is computed once for the whole term.
pub fn settle_term(contract: &Contract, inputs_by_year: &[Inputs]) -> Result<Vec<Statement>, SettleError> {
    let version = version_of(contract)?;
    settle_term_versioned(contract, inputs_by_year, &version)
}

/// [`settle_term`] for a contract whose version hash the caller has
/// already computed (`version` must be `contract.version_hash()`): a
/// simulation settles one contract many thousand times.
pub fn settle_term_versioned(
    contract: &Contract,
    inputs_by_year: &[Inputs],
    version: &str,
) -> Result<Vec<Statement>, SettleError> {
    if inputs_by_year.len() > MAX_TERM_YEARS {
        return Err(SettleError::TooManyYears);
    }
    let mut carry = Carry::initial(contract);
    let mut out = Vec::with_capacity(inputs_by_year.len());
    for inputs in inputs_by_year {
        let s = settle_year_inner(contract, inputs, &carry, version, false, Detail::Words, None)?;
        carry = s.carry_out.clone();
        out.push(s);
    }
    Ok(out)
}
