//! The typed contract model.
//!
//! Every amount and rate is an exact [`Decimal`], normalized (no trailing
//! zeros) when it is read, so two files that write `0.5` and `0.50` describe
//! the same contract and hash the same. Every default of the file format is
//! filled in here: a settlement engine never has to know a default, and the
//! canonical form (and so the version hash) covers the full meaning.
//!
//! Field documentation lives in `docs/CONTRACT-FORMAT.md`; the comments here
//! say what the settlement engine does with each field.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::choice::choice;

/// `skip_serializing_if` for `funding_streams`.
fn is_dutch_default(streams: &[Funding]) -> bool {
    Funding::is_dutch_default(streams)
}

/// The only contract format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A whole contract: the terms the parties sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Contract format version; always [`FORMAT_VERSION`].
    pub format: u32,
    /// Stable identifier of the contract across its versions (`[a-z0-9-]`).
    pub id: String,
    /// Human title.
    pub title: String,
    /// Free-text summary; empty when absent.
    pub description: String,
    /// Currency of every amount.
    pub currency: Currency,
    /// The funding streams the contract's payments may use, in the file's
    /// order (default: the Dutch ones, [`Funding::dutch_streams`], left out
    /// of the canonical form).
    #[serde(default = "Funding::dutch_streams", skip_serializing_if = "is_dutch_default")]
    pub funding_streams: Vec<Funding>,
    /// How each money line is rounded to cents.
    pub rounding: Rounding,
    /// Contract years and review moments.
    pub term: Term,
    /// The nine knobs of Bijlage 3 of the step plan.
    pub knobs: Knobs,
    /// The parties, in the order of the file.
    pub parties: Vec<Party>,
    /// The target population and how its size is measured.
    pub population: Population,
    /// The expected-cost baseline; required by shared savings.
    pub baseline: Option<Baseline>,
    /// The indicators, in the order of the file.
    pub indicators: Vec<Indicator>,
    /// The payment components.
    pub payments: Payments,
    /// Impulse financing lines.
    pub impulse: Vec<Impulse>,
    /// Floors on a provider's yearly revenue.
    pub revenue_guarantees: Vec<RevenueGuarantee>,
    /// Tariff surcharges and discounts on volume activities.
    pub tariff_adjustments: Vec<TariffAdjustment>,
    /// How payouts are split among providers and among payers.
    pub distribution: Distribution,
    /// What happens when figures are missing or quality is below the gate.
    pub monitoring: Monitoring,
}

/// The ISO 4217 alphabetic currency codes a contract's `currency` may
/// take, sorted: the codes of the ISO 4217 list (table A.1) in force in
/// 2025, funds and precious metals included, without `XTS` (reserved for
/// testing) and `XXX` (no currency).
pub const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF",
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER",
    "ZAR", "ZMW", "ZWG", "ZWL",
];

/// Currency of the contract: an ISO 4217 alphabetic code from [`ISO_4217`]
/// (default `EUR`). Every money amount of the contract and its statements
/// is in it, kept to two decimals (hundredths of the currency unit) whatever
/// the currency's own minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The euro, the default.
    pub const EUR: Currency = Currency(*b"EUR");

    /// The currency with ISO 4217 `code` (exactly as listed: three
    /// upper-case letters), or `None` when it is not in [`ISO_4217`].
    pub fn from_code(code: &str) -> Option<Currency> {
        let i = ISO_4217.binary_search(&code).ok()?;
        let b = ISO_4217[i].as_bytes();
        Some(Currency([b[0], b[1], b[2]]))
    }

    /// The three-letter code, e.g. `"EUR"`.
    pub fn code(&self) -> &str {
        // Built only from an entry of ISO_4217 (ASCII), so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("EUR")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::EUR
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("not an ISO 4217 currency code: {code:?}")))
    }
}

choice! {
    /// Rounding rule for each money line, to cents.
    pub enum Rounding {
        /// Round half away from zero (0.005 -> 0.01, -0.005 -> -0.01).
        HalfUp = "half_up",
        /// Round half to even, banker's rounding (0.005 -> 0.00, 0.015 -> 0.02).
        HalfEven = "half_even",
    }
}

/// A calendar date (`YYYY-MM-DD`), used for review moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 1000..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, valid for the month and year.
    pub day: u8,
}

impl Date {
    /// A checked date, or `None` when the day does not exist.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if !(1000..=9999).contains(&year) || day == 0 || day > days {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = text.get(0..4)?.parse().ok()?;
        let month = text.get(5..7)?.parse().ok()?;
        let day = text.get(8..10)?.parse().ok()?;
        if !text.bytes().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()) {
            return None;
        }
        Date::new(year, month, day)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a date YYYY-MM-DD: {text}")))
    }
}

/// Contract years and review moments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// First contract year (settled).
    pub first_year: u16,
    /// Last contract year (settled), `>= first_year`.
    pub last_year: u16,
    /// Dates on which the parties review the contract, in increasing order.
    pub review_dates: Vec<Date>,
}

impl Term {
    /// The contract years, first to last.
    pub fn years(&self) -> std::ops::RangeInclusive<u16> {
        self.first_year..=self.last_year
    }
}

choice! {
    /// Knob 1: what the contract covers.
    pub enum Scope {
        /// Only the e-health application (e.g. a SET project).
        EhealthOnly = "ehealth_only",
        /// Innovation is part of the contract for all care delivered.
        WholeCareContract = "whole_care_contract",
    }
}

choice! {
    /// Knob 2: what the financing is based on.
    pub enum FinancingBase {
        /// Price x volume: paid per patient or activity.
        PriceVolume = "price_volume",
        /// A budget for the payer's whole population, however many are in care.
        PopulationBudget = "population_budget",
    }
}

choice! {
    /// Knob 3: whether results are part of the payment.
    pub enum FinancingGoal {
        /// Pay for delivered care, whatever the result.
        Effort = "effort",
        /// Pay (partly) for results: pay for performance, shared savings, budgets.
        Result = "result",
    }
}

choice! {
    /// Knob 4: how integrally care is contracted and paid.
    pub enum ContractForm {
        /// One provider and one (or more) payer.
        Single = "single",
        /// Several providers contracted and paid together.
        Integral = "integral",
    }
}

choice! {
    /// Knob 5: the term of the contract.
    pub enum TermKind {
        /// One contract year.
        OneYear = "one_year",
        /// Several contract years.
        MultiYear = "multi_year",
    }
}

choice! {
    /// Who carries a risk (knob 6).
    pub enum Bearer {
        /// The payer carries it.
        Payer = "payer",
        /// The provider(s) carry it.
        Provider = "provider",
        /// Shared, as the payment components state.
        Shared = "shared",
    }
}

choice! {
    /// Knob 7: how chain partners are involved.
    pub enum ChainPartners {
        /// No chain partners beyond the contracting provider.
        None = "none",
        /// Separate agreements with each provider.
        PerProvider = "per_provider",
        /// One agreement with the chain together.
        Chain = "chain",
    }
}

choice! {
    /// Knob 8: what the reward of providers rests on.
    pub enum ProviderReward {
        /// Each provider's own effort or output.
        Individual = "individual",
        /// The group result, divided by the distribution key.
        Group = "group",
    }
}

choice! {
    /// Knob 9: which patients the contract covers.
    pub enum ConditionScope {
        /// One condition or target group (COPD, heart failure, ...).
        SingleCondition = "single_condition",
        /// All patients or clients of the provider(s).
        AllPatients = "all_patients",
    }
}

/// Knob 6 in detail: who carries which risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAllocation {
    /// If the innovation is not (fully) implemented.
    pub implementation: Bearer,
    /// If implementation costs more than expected.
    pub cost_overrun: Bearer,
    /// If more patients take part than expected.
    pub volume: Bearer,
}

/// The nine knobs of Bijlage 3 of the step plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knobs {
    /// 1. Scope of the contract.
    pub scope: Scope,
    /// 2. Financing base.
    pub financing_base: FinancingBase,
    /// 3. Financing goal.
    pub financing_goal: FinancingGoal,
    /// 4. Contract form.
    pub contract_form: ContractForm,
    /// 5. Term (must agree with `term`).
    pub term: TermKind,
    /// 6. Risk allocation.
    pub risk_allocation: RiskAllocation,
    /// 7. Chain partners.
    pub chain_partners: ChainPartners,
    /// 8. Reward of providers.
    pub provider_reward: ProviderReward,
    /// 9. Condition scope.
    pub condition_scope: ConditionScope,
}

choice! {
    /// The role of a party.
    pub enum Role {
        /// A care provider (zorgaanbieder).
        Provider = "provider",
        /// A payer: insurer, long-term care office, municipality, fund.
        Payer = "payer",
        /// A party that only supplies measurements (e.g. Vektis).
        MeasurementSource = "measurement_source",
        /// An auditor; verifies, signs nothing.
        Auditor = "auditor",
    }
}

/// A party to the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Identifier used everywhere else in the contract (`[a-z0-9-]{1,32}`).
    pub id: String,
    /// Legal or common name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Fingerprint of the party's public key, `XXXX-XXXX-XXXX-XXXX` (base32).
    pub key: Option<String>,
    /// Whether this party must sign the contract.
    pub signatory: bool,
    /// Payers only: yearly contribution to the pooled funds (currency units),
    /// the basis of a `by_contribution` split among payers.
    pub contribution: Option<Decimal>,
}

choice! {
    /// How members are attributed to the target population.
    pub enum Attribution {
        /// Patients enrolled in the programme.
        Enrolment = "enrolment",
        /// Insured members with claims for the condition.
        Claims = "claims",
        /// All insured members living in the region.
        Region = "region",
        /// Patients on the GP practice lists.
        PracticeList = "practice_list",
    }
}

/// The target population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Who belongs to it, in words.
    pub description: String,
    /// The condition (e.g. "COPD"); empty for all patients.
    pub condition: String,
    /// How members are attributed.
    pub attribution: Attribution,
    /// Indicator measuring the population size (unit `members`,
    /// `member_months` or `episodes`).
    pub size_indicator: String,
    /// Expected size (members or episodes), for simulation only.
    pub expected_size: Option<u64>,
}

choice! {
    /// What the baseline cost is per.
    pub enum BaselineUnit {
        /// Per member per year.
        PerMemberYear = "per_member_year",
        /// Per member per month.
        PerMemberMonth = "per_member_month",
        /// Per episode (e.g. per patient-year of dialysis).
        PerEpisode = "per_episode",
    }
}

/// How baseline cost is indexed from the base year to a contract year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trend {
    /// The same rate every year: factor = (1 + rate)^(year - base_year).
    FixedRate {
        /// Yearly growth rate (0.03 = 3%).
        rate: Decimal,
    },
    /// A rate per year: factor = product of (1 + rate[y]) for base_year < y <= year.
    RatesPerYear {
        /// Growth rate for each year after the base year up to the last year.
        rates: BTreeMap<u16, Decimal>,
    },
    /// A measured yearly growth rate: factor = product of (1 + value[y]).
    MeasuredRate {
        /// Indicator with unit `fraction` giving the growth rate of its year.
        indicator: String,
    },
    /// A measured index level: factor = value[year] / value[base_year].
    MeasuredIndex {
        /// Indicator with unit `index`, measured for the base year and each year.
        indicator: String,
    },
}

/// Risk (case-mix) adjustment of the benchmark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum RiskAdjustment {
    /// No adjustment (factor 1).
    None,
    /// A fixed factor.
    Fixed {
        /// Multiplier of the benchmark (1.02 = +2%).
        factor: Decimal,
    },
    /// A measured factor per year.
    Measured {
        /// Indicator with unit `index` giving the factor of its year.
        indicator: String,
    },
}

choice! {
    /// How the benchmark of a year is found.
    #[derive(Default)]
    pub enum BaselineMode {
        /// Computed: cost x trend factor x risk factor x size (the default).
        #[default]
        Computed = "computed",
        /// An agreed figure: the benchmark total is itself a measured,
        /// agreed indicator (computed by a third party such as Vektis or a
        /// payer's actuary).
        AgreedTotal = "agreed_total",
    }
}

impl BaselineMode {
    /// Whether this is the default mode (left out of the canonical form).
    pub fn is_computed(&self) -> bool {
        *self == BaselineMode::Computed
    }
}

/// The baseline: what care would have cost without the innovation.
///
/// [`BaselineMode::Computed`]: benchmark of year Y = `cost` x trend factor
/// (base_year -> Y) x risk factor x size, where size is members,
/// member-months / 12 or episodes for a per-member-year baseline,
/// member-months or members x 12 for a per-member-month one, and episodes
/// for a per-episode one. `unit`, `cost` and `trend` are `Some` and
/// `benchmark_indicator` is `None`.
///
/// [`BaselineMode::AgreedTotal`]: benchmark of year Y = the agreed figure of
/// `benchmark_indicator` (unit `eur`) in Y, rounded to cents. `unit`,
/// `cost`, `trend` and `risk_adjustment` are `None`.
///
/// The fields that one mode leaves `None` are left out of the canonical
/// form, and so is the default mode, so a computed baseline has exactly the
/// canonical form (and version hash) it had before the agreed mode existed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Year the baseline was measured (before the first contract year).
    pub base_year: u16,
    /// Computed or an agreed total.
    #[serde(default, skip_serializing_if = "BaselineMode::is_computed")]
    pub mode: BaselineMode,
    /// Agreed total only: the indicator (unit `eur`) giving the benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark_indicator: Option<String>,
    /// Computed only: what `cost` is per.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<BaselineUnit>,
    /// Computed only: baseline cost per unit, in currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Decimal>,
    /// Where the baseline figure comes from (free text, e.g. "claims 2024").
    pub source: String,
    /// Computed only: trend or index per year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    /// Computed only: risk adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_adjustment: Option<RiskAdjustment>,
}

choice! {
    /// Unit of an indicator's value.
    pub enum Unit {
        /// Money, total for the population and period.
        Eur = "eur",
        /// Money per member per year.
        EurPerMember = "eur_per_member",
        /// Number of members (persons) in the period.
        Members = "members",
        /// Member-months (sum over members of months in the population).
        MemberMonths = "member_months",
        /// Number of episodes (e.g. patient-years of dialysis).
        Episodes = "episodes",
        /// A count of events (admissions, visits).
        Count = "count",
        /// Events or days per member (e.g. bed-days per patient).
        PerMember = "per_member",
        /// Hours (e.g. claimed technology hours).
        Hours = "hours",
        /// Days.
        Days = "days",
        /// A fraction between 0 and 1 (a rate, share or growth rate).
        Fraction = "fraction",
        /// A score on the indicator's own scale (PROM, satisfaction).
        Score = "score",
        /// An index level or factor (price index, case-mix factor).
        Index = "index",
        /// Yes (1) or no (0), e.g. "quality plan delivered".
        YesNo = "yes_no",
    }
}

impl Unit {
    /// Whether values of sub-periods add up to the year (the default aggregation).
    pub fn is_additive(self) -> bool {
        matches!(self, Unit::Eur | Unit::MemberMonths | Unit::Episodes | Unit::Count | Unit::Hours | Unit::Days)
    }
}

choice! {
    /// Which way is better.
    pub enum Direction {
        /// Lower values are better (admissions, cost).
        LowerIsBetter = "lower_is_better",
        /// Higher values are better (quality of life).
        HigherIsBetter = "higher_is_better",
        /// Neither (population size, index).
        Neutral = "neutral",
    }
}

choice! {
    /// How often an indicator is measured.
    pub enum Period {
        /// Once per contract year.
        Year = "year",
        /// Per quarter.
        Quarter = "quarter",
        /// Per month.
        Month = "month",
    }
}

choice! {
    /// How sub-period values make the year's value.
    pub enum Aggregation {
        /// Sum of the periods.
        Sum = "sum",
        /// Mean of the periods.
        Mean = "mean",
        /// Value of the last period.
        Last = "last",
    }
}

choice! {
    /// How a quality indicator's value becomes a score between 0 and 1.
    pub enum Scoring {
        /// 0 at or worse than the threshold, 1 at or better than the target,
        /// linear in between.
        Linear = "linear",
        /// 1 when the target is met, else 0 (the threshold is not used).
        Step = "step",
    }
}

/// Quality terms of an indicator: it counts in the quality score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quality {
    /// Value at which the score starts to rise above 0.
    pub threshold: Decimal,
    /// Value at which the score is 1.
    pub target: Decimal,
    /// Weight in the quality score; the weights of all quality indicators sum to 1.
    pub weight: Decimal,
    /// Scoring rule.
    pub scoring: Scoring,
}

/// An indicator: a figure measured per contract year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Identifier (`[a-z0-9-]{1,32}`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// Unit of the value.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// Measurement period.
    pub period: Period,
    /// How periods add up to the year.
    pub aggregation: Aggregation,
    /// The party whose data measures it and who submits it.
    pub source: String,
    /// The parties that must accept a figure before it counts.
    pub agreed_by: Vec<String>,
    /// Measurement instrument / definition, in words.
    pub method: String,
    /// Quality terms, when it counts in the quality score.
    pub quality: Option<Quality>,
}

/// Longest funding stream name a contract may declare, in bytes.
pub const MAX_STREAM: usize = 32;

/// The name of a funding stream declared by a contract that is not one of
/// the Dutch defaults: 1 to [`MAX_STREAM`] bytes of `a-z`, `0-9`, `_` and
/// `-`. Held inline so that [`Funding`] stays `Copy`; ordered by its text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamName {
    len: u8,
    bytes: [u8; MAX_STREAM],
}

impl StreamName {
    /// The name, or `None` when `name` breaks the grammar.
    pub fn new(name: &str) -> Option<StreamName> {
        let ok = (1..=MAX_STREAM).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            return None;
        }
        let mut bytes = [0u8; MAX_STREAM];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(StreamName { len: u8::try_from(name.len()).ok()?, bytes })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Built only from checked ASCII in `new`.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for StreamName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl PartialOrd for StreamName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StreamName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Funding stream (betaaltitel) of a payment line. The Dutch streams are
/// the default set a contract may use; a contract may declare its own
/// (`funding_streams`), which are [`Funding::Other`] unless they are one of
/// the Dutch words. Ordered: the Dutch streams in this order, then other
/// streams by name (the order of a statement's payments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Funding {
    /// Zorgverzekeringswet (health insurance).
    Zvw,
    /// Wet langdurige zorg (long-term care).
    Wlz,
    /// Wet maatschappelijke ondersteuning (municipality).
    Wmo,
    /// Jeugdwet (youth care, municipality).
    Jeugdwet,
    /// A subsidy (SET, STOZ, ...).
    Subsidy,
    /// Transformation or transition funds.
    TransformationFunds,
    /// A stream declared by the contract that is not a Dutch one.
    Other(StreamName),
}

impl Funding {
    /// The Dutch streams with their words: the default `funding_streams`.
    pub const DUTCH: [(&'static str, Funding); 6] = [
        ("zvw", Funding::Zvw),
        ("wlz", Funding::Wlz),
        ("wmo", Funding::Wmo),
        ("jeugdwet", Funding::Jeugdwet),
        ("subsidy", Funding::Subsidy),
        ("transformation_funds", Funding::TransformationFunds),
    ];

    /// The stream named `word`: a Dutch stream for its word, else any name
    /// of the [`StreamName`] grammar; `None` when the name is not valid.
    pub fn from_word(word: &str) -> Option<Funding> {
        match Funding::DUTCH.iter().find(|(w, _)| *w == word) {
            Some((_, f)) => Some(*f),
            None => StreamName::new(word).map(Funding::Other),
        }
    }

    /// The stream's name, as written in files and in the canonical form.
    pub fn word(&self) -> &str {
        match self {
            Funding::Other(name) => name.as_str(),
            dutch => Funding::DUTCH.iter().find(|(_, f)| f == dutch).map_or("", |(w, _)| w),
        }
    }

    /// The default `funding_streams`: the Dutch streams, in order.
    pub fn dutch_streams() -> Vec<Funding> {
        Funding::DUTCH.iter().map(|(_, f)| *f).collect()
    }

    /// Whether `streams` is the default (left out of the canonical form).
    pub fn is_dutch_default(streams: &[Funding]) -> bool {
        streams.len() == Funding::DUTCH.len() && streams.iter().zip(Funding::DUTCH.iter()).all(|(a, (_, b))| a == b)
    }
}

impl std::fmt::Display for Funding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

impl Serialize for Funding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.word())
    }
}

impl<'de> Deserialize<'de> for Funding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        Funding::from_word(&word).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "not a funding stream name (1 to {MAX_STREAM} of a-z, 0-9, _ and -): {word:?}"
            ))
        })
    }
}

/// All payment components. At least one is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payments {
    /// Price x quantity per activity.
    pub volume: Option<Volume>,
    /// Bonus per indicator target met.
    pub pay_for_performance: Option<PayForPerformance>,
    /// Shared savings (and losses) against the baseline.
    pub shared_savings: Option<SharedSavings>,
    /// Target price per episode.
    pub bundled: Option<Bundled>,
    /// Amount per member per year with risk corridors.
    pub capitation: Option<Capitation>,
}

/// Volume component: price x quantity per activity, within caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// Activities paid per unit.
    pub activities: Vec<Activity>,
    /// Caps on claimed quantities.
    pub caps: Vec<ClaimCap>,
    /// Splits each activity's payment over several funding streams by
    /// agreed figures (verantwoording); `None` = each in its `funding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocationKey>,
}

/// One paid activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// Identifier (`[a-z0-9-]{1,32}`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// Declaration code (e.g. "1062"); empty when none.
    pub code: String,
    /// Unit of quantity in words ("hour", "patient").
    pub unit: String,
    /// Price per unit.
    pub price: Decimal,
    /// Indicator measuring the quantity delivered.
    pub quantity_indicator: String,
    /// Provider paid.
    pub provider: String,
    /// Payer paying.
    pub payer: String,
    /// Funding stream.
    pub funding: Funding,
    /// Most paid for the activity in a year, in currency.
    pub max_amount_per_year: Option<Decimal>,
}

choice! {
    /// What a claim cap is counted per.
    pub enum CapPer {
        /// Per client per month: limit = max x client-months.
        ClientMonth = "client_month",
        /// Per client per year: limit = max x clients.
        ClientYear = "client_year",
        /// Per contract year in total.
        Year = "year",
    }
}

/// A cap on the quantity of one or more activities together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimCap {
    /// Activities whose quantities count together.
    pub activities: Vec<String>,
    /// Most quantity per `per`.
    pub max_quantity: Decimal,
    /// What the cap is per.
    pub per: CapPer,
    /// Indicator giving client-months (`client_month`) or clients
    /// (`client_year`); `None` for `year`.
    pub exposure_indicator: Option<String>,
}

/// Pay for performance: bonuses for targets met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayForPerformance {
    /// The bonuses.
    pub bonuses: Vec<Bonus>,
    /// Splits each bonus payment over several funding streams by agreed
    /// figures (verantwoording); `None` = each in its `funding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocationKey>,
}

choice! {
    /// How a bonus amount scales.
    pub enum BonusBasis {
        /// The amount, once per year.
        Fixed = "fixed",
        /// The amount times the population size in members.
        PerMember = "per_member",
    }
}

/// A bonus paid when an indicator meets its target in a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bonus {
    /// Identifier.
    pub id: String,
    /// The indicator.
    pub indicator: String,
    /// Met when the value is at or better than this (per the indicator's direction).
    pub target: Decimal,
    /// Bonus amount.
    pub amount: Decimal,
    /// Fixed or per member.
    pub basis: BonusBasis,
    /// Provider paid; `None` = divided by the provider distribution key.
    pub recipient: Option<String>,
    /// Payer paying; `None` = all payers by the payer distribution key.
    pub payer: Option<String>,
    /// Funding stream.
    pub funding: Funding,
}

choice! {
    /// One- or two-sided risk.
    pub enum Sided {
        /// Only savings are shared.
        OneSided = "one_sided",
        /// Savings and losses are shared.
        TwoSided = "two_sided",
    }
}

choice! {
    /// What part of the savings is shared once the corridor is passed.
    pub enum SharingBase {
        /// All savings, from the first euro.
        FirstEuro = "first_euro",
        /// Only the part above the corridor.
        AboveCorridor = "above_corridor",
    }
}

choice! {
    /// How the quality score scales the provider share of savings.
    pub enum QualityScaling {
        /// It does not.
        None = "none",
        /// Provider share x quality score.
        Proportional = "proportional",
    }
}

/// One row of a corridor table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorRow {
    /// Population size (members) at which the rates apply.
    pub population: u64,
    /// Minimum savings rate at this size.
    pub min_savings_rate: Decimal,
    /// Minimum loss rate at this size (two-sided only).
    pub min_loss_rate: Option<Decimal>,
}

/// The corridor: savings or losses smaller than this share of the
/// benchmark are not shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Corridor {
    /// Fixed rates.
    Fixed {
        /// Minimum savings rate (MSR).
        min_savings_rate: Decimal,
        /// Minimum loss rate (MLR), two-sided only.
        min_loss_rate: Option<Decimal>,
    },
    /// Rates by population size, linear between rows, clamped outside them.
    PopulationTable {
        /// Rows strictly increasing in population.
        rows: Vec<CorridorRow>,
        /// Indicator (unit `members` or `member_months`) giving the
        /// population that sets the rate (e.g. assigned members); `None` =
        /// the population size indicator. Left out of the canonical form
        /// when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        population_indicator: Option<String>,
    },
}

/// The provider's share of losses (two-sided contracts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum LossShare {
    /// A fixed rate.
    Fixed {
        /// Share of losses the provider pays.
        rate: Decimal,
    },
    /// rate = clamp(intercept - slope x quality score, min, max).
    QualityScaled {
        /// Rate at quality 0 before clamping (MSSP: 1).
        intercept: Decimal,
        /// Reduction per unit of quality score (MSSP: 0.75).
        slope: Decimal,
        /// Lower bound (MSSP: 0.4).
        min: Decimal,
        /// Upper bound (MSSP: 0.75).
        max: Decimal,
    },
}

/// Shared savings against the baseline benchmark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedSavings {
    /// Funding stream.
    pub funding: Funding,
    /// Payer; `None` = all payers by the payer distribution key.
    pub payer: Option<String>,
    /// Provider paid; `None` = divided by the provider distribution key.
    pub recipient: Option<String>,
    /// One- or two-sided.
    pub sided: Sided,
    /// Indicator (unit `eur`) with the actual cost of the population.
    pub actual_cost_indicator: String,
    /// The corridor.
    pub corridor: Corridor,
    /// First euro or above the corridor.
    pub sharing_base: SharingBase,
    /// Provider share of savings, before quality scaling.
    pub provider_share: Decimal,
    /// How quality scales the provider share.
    pub quality_scaling: QualityScaling,
    /// Minimum quality score to receive any savings share (0 = no gate).
    pub min_quality_score: Decimal,
    /// Provider share of losses; `Some` exactly when two-sided.
    pub loss_share: Option<LossShare>,
    /// Share withheld from the provider's savings share before the caps.
    pub withhold: Decimal,
    /// Savings payout at most this share of the benchmark.
    pub savings_cap: Option<Decimal>,
    /// Loss payment at most this share of the benchmark (two-sided only).
    pub loss_cap: Option<Decimal>,
    /// Whether a year's unpaid loss is netted against later savings.
    pub carry_forward_losses: bool,
    /// Savings inside the corridor shared at their own rate when a condition
    /// holds; `None` = nothing inside the corridor is shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside_corridor: Option<InsideCorridor>,
    /// A second loss cap: rate x an agreed figure (e.g. the provider's
    /// revenue); with `loss_cap`, the lesser applies (two-sided only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure_loss_cap: Option<FigureCap>,
    /// Indicator (unit `count`, 0 to 12) with the months the provider took
    /// part in the year: its loss payment is scaled by months / 12 (early
    /// termination). `None` = no pro-rating (two-sided only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation_months_indicator: Option<String>,
    /// Reduction of the provider's loss payment for circumstances outside
    /// its control (two-sided only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_majeure: Option<ForceMajeure>,
    /// Splits each payment of the component over several funding streams
    /// by agreed figures (verantwoording); `None` = all of it in `funding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocationKey>,
}

/// An allocation key (verantwoording): how a payment that serves several
/// funding streams is split over them. Each part is a transfer in its own
/// stream; the parts sum exactly to the payment (largest remainder, ties in
/// the order of the contract's `funding_streams`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AllocationKey {
    /// In proportion to an agreed figure per stream, e.g. client-months.
    ByIndicator {
        /// Indicator per funding stream name (at least two streams).
        indicators: BTreeMap<String, String>,
    },
}

impl AllocationKey {
    /// The key's (stream, indicator) pairs in the order of `streams` (the
    /// contract's `funding_streams`), the order that breaks remainder ties;
    /// a name that is not among `streams` is left out.
    pub fn in_stream_order<'a>(&'a self, streams: &[Funding]) -> Vec<(Funding, &'a str)> {
        match self {
            AllocationKey::ByIndicator { indicators } => {
                streams.iter().filter_map(|f| indicators.get(f.word()).map(|ind| (*f, ind.as_str()))).collect()
            }
        }
    }

    /// The indicators of the key, in stream-name order.
    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        match self {
            AllocationKey::ByIndicator { indicators } => indicators.values().map(String::as_str),
        }
    }
}

/// A lower sharing tier for savings that do not pass the corridor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsideCorridor {
    /// Provider share of all net savings (from the first euro) when the
    /// savings are above 0 but below the corridor and the condition holds.
    pub provider_share: Decimal,
    /// The condition's indicator (not `neutral`).
    pub indicator: String,
    /// The condition holds when the indicator's value is at or better than
    /// this (per its direction); a missing figure does not meet it.
    pub target: Decimal,
}

/// A cap of `rate` x an agreed figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureCap {
    /// Share of the figure.
    pub rate: Decimal,
    /// Indicator (unit `eur`) giving the figure.
    pub indicator: String,
}

/// How a provider's shared loss is reduced for circumstances outside its
/// control (MSSP: extreme and uncontrollable circumstances; Dutch contracts:
/// the COVID-19 continuity arrangements). The reduction is at most the loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum ForceMajeure {
    /// Reduced by a fraction: the product of agreed figures (unit
    /// `fraction`, each 0 to 1), e.g. share of the year under an emergency x
    /// share of the population in affected areas.
    Fraction {
        /// The indicators whose product is the fraction.
        factors: Vec<String>,
    },
    /// Reduced by an agreed amount.
    Amount {
        /// Indicator (unit `eur`) with the amount.
        indicator: String,
    },
}

/// Bundled payment: target price per episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundled {
    /// Funding stream.
    pub funding: Funding,
    /// Payer; `None` = all payers by the payer distribution key.
    pub payer: Option<String>,
    /// Provider paid; `None` = divided by the provider distribution key.
    pub recipient: Option<String>,
    /// What one episode is, in words.
    pub episode: String,
    /// Target price per episode.
    pub target_price: Decimal,
    /// Indicator (unit `episodes`) counting episodes.
    pub episodes_indicator: String,
    /// Indicator (unit `eur`) with the actual cost of the episodes.
    pub actual_cost_indicator: String,
    /// Provider gain at most this share of target price x episodes.
    pub stop_gain: Option<Decimal>,
    /// Provider loss at most this share of target price x episodes.
    pub stop_loss: Option<Decimal>,
    /// Splits each payment over several funding streams (see
    /// [`AllocationKey`]); `None` = all of it in `funding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocationKey>,
}

/// A risk-corridor band of a capitation budget, symmetric for gains and losses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskBand {
    /// Lower edge, as a share of the budget (first band: 0).
    pub from: Decimal,
    /// Upper edge; `None` for an open last band.
    pub to: Option<Decimal>,
    /// Share of the result inside this band kept (gain) or borne (loss) by providers.
    pub provider_share: Decimal,
}

/// Capitation / population budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capitation {
    /// Funding stream.
    pub funding: Funding,
    /// Payer; `None` = all payers by the payer distribution key.
    pub payer: Option<String>,
    /// Provider paid; `None` = divided by the provider distribution key.
    pub recipient: Option<String>,
    /// Budget per member per year.
    pub amount_per_member: Decimal,
    /// Indicator (unit `members` or `member_months`) for the budget.
    pub members_indicator: String,
    /// Indicator (unit `eur`) with the actual cost under the budget.
    pub actual_cost_indicator: String,
    /// Bands of (budget - actual) / budget, contiguous from 0.
    pub risk_corridors: Vec<RiskBand>,
    /// Splits each payment over several funding streams (see
    /// [`AllocationKey`]); `None` = all of it in `funding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocationKey>,
}

choice! {
    /// What happens to an advance not repaid by the end of the term.
    pub enum RemainingAtEnd {
        /// The rest is forgiven.
        Waived = "waived",
        /// The rest is due in the settlement of the last year.
        Due = "due",
    }
}

/// Grant or advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImpulseKind {
    /// Not repaid.
    Grant,
    /// Repaid from the recipient's later shared-savings payouts.
    Advance {
        /// Share of each later savings payout that goes to repayment.
        repayment_rate: Decimal,
        /// What happens to an outstanding balance after the last year.
        remaining_at_end: RemainingAtEnd,
    },
}

/// One impulse-financing line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Impulse {
    /// Contract year it is paid in.
    pub year: u16,
    /// Provider receiving it.
    pub recipient: String,
    /// Payer paying it.
    pub payer: String,
    /// Amount.
    pub amount: Decimal,
    /// Grant or advance.
    pub kind: ImpulseKind,
    /// Funding stream.
    pub funding: Funding,
    /// What it pays for.
    pub purpose: String,
}

/// A floor on a provider's yearly revenue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevenueGuarantee {
    /// Provider guaranteed.
    pub provider: String,
    /// Payer topping up.
    pub payer: String,
    /// Minimum revenue per year.
    pub floor: Decimal,
    /// Years it applies to (default: every contract year).
    pub years: Vec<u16>,
    /// Indicator (unit `eur`) with the revenue; `None` = this contract's
    /// payments to the provider in the year.
    pub revenue_indicator: Option<String>,
    /// Funding stream of the top-up.
    pub funding: Funding,
}

choice! {
    /// Surcharge or discount.
    pub enum AdjustmentKind {
        /// Tariff x (1 + rate).
        Surcharge = "surcharge",
        /// Tariff x (1 - rate).
        Discount = "discount",
    }
}

/// When a tariff adjustment applies in a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Every year.
    Always,
    /// When the indicator meets the target.
    TargetMet {
        /// The indicator.
        indicator: String,
        /// The target (per the indicator's direction).
        target: Decimal,
    },
    /// When the indicator misses the target (or is missing).
    TargetMissed {
        /// The indicator.
        indicator: String,
        /// The target (per the indicator's direction).
        target: Decimal,
    },
}

/// A tariff surcharge or discount on volume activities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffAdjustment {
    /// Identifier.
    pub id: String,
    /// Surcharge or discount.
    pub kind: AdjustmentKind,
    /// Size of the adjustment (0.001 = 0.1%).
    pub rate: Decimal,
    /// Volume activities whose price it adjusts.
    pub applies_to: Vec<String>,
    /// When it applies.
    pub trigger: Trigger,
    /// Why, in words.
    pub reason: String,
}

choice! {
    /// Who receives the cents left over when a split is rounded.
    pub enum Remainder {
        /// Largest-remainder method: cents go to the largest fractional
        /// parts; ties in the order of the parties list.
        LargestRemainder = "largest_remainder",
        /// All leftover cents go to the party with the largest share; ties
        /// in the order of the parties list.
        LargestShare = "largest_share",
    }
}

/// How providers divide a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderRule {
    /// Fixed shares per provider, summing to 1.
    Fixed {
        /// Share per provider id.
        shares: BTreeMap<String, Decimal>,
    },
    /// In proportion to an indicator measured per provider.
    ByIndicator {
        /// Indicator per provider id.
        indicators: BTreeMap<String, String>,
    },
}

/// How payers divide a payment (or a benefit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum PayerRule {
    /// In proportion to each payer's `contribution`.
    ByContribution,
    /// Fixed shares per payer, summing to 1.
    Fixed {
        /// Share per payer id.
        shares: BTreeMap<String, Decimal>,
    },
}

/// Provider distribution key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderDistribution {
    /// The rule.
    pub rule: ProviderRule,
    /// Rounding remainder rule.
    pub remainder: Remainder,
}

/// Payer distribution key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayerDistribution {
    /// The rule.
    pub rule: PayerRule,
    /// Rounding remainder rule.
    pub remainder: Remainder,
}

/// Distribution keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    /// Among providers.
    pub providers: ProviderDistribution,
    /// Among payers.
    pub payers: PayerDistribution,
}

choice! {
    /// What settlement does when an agreed figure is missing.
    pub enum MissingMeasurement {
        /// The year is not settled until the figure is agreed.
        BlockSettlement = "block_settlement",
        /// A missing quality or bonus figure counts as not met (score 0);
        /// missing cost, size or index figures still block.
        TreatAsNotMet = "treat_as_not_met",
    }
}

choice! {
    /// What follows when the quality score is below the gate.
    pub enum GateAction {
        /// Only the payment effect (no savings share).
        None = "none",
        /// The provider delivers an improvement plan.
        ImprovementPlan = "improvement_plan",
        /// The contract is reviewed at the next review date.
        ContractReview = "contract_review",
    }
}

choice! {
    /// How often results are reported.
    pub enum Reporting {
        /// Every month.
        Monthly = "monthly",
        /// Every quarter.
        Quarterly = "quarterly",
        /// Once a year.
        Yearly = "yearly",
    }
}

/// Monitoring agreements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Reporting frequency.
    pub reporting: Reporting,
    /// Rule for missing figures.
    pub missing_measurement: MissingMeasurement,
    /// Consequence below the quality gate.
    pub below_quality_gate: GateAction,
    /// Further agreements in words.
    pub notes: String,
}

impl Contract {
    /// The party with `id`.
    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.id == id)
    }

    /// The indicator with `id`.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// The parties with `role`, in file order.
    pub fn parties_with_role(&self, role: Role) -> impl Iterator<Item = &Party> {
        self.parties.iter().filter(move |p| p.role == role)
    }

    /// The quality indicators, in file order.
    pub fn quality_indicators(&self) -> impl Iterator<Item = (&Indicator, &Quality)> {
        self.indicators.iter().filter_map(|i| i.quality.as_ref().map(|q| (i, q)))
    }
}
