//! The audit report: everything an auditor needs about one copy, read from
//! its signed entries alone.
//!
//! [`build`] is a pure function of a [`Ledger`]'s contents: it reads every
//! entry once and returns a [`Report`] (serializable; every collection in a
//! fixed order, so the same ledger always gives byte-identical JSON and
//! HTML). It never reads the clock: the report says what it was generated
//! from (entry count, head hash, Merkle root), not when.
//!
//! [`crate::present::report_html::render`] turns a report into one self-contained HTML document
//! (inline CSS with print rules, no scripts, no external resources; every
//! string from the ledger escaped).
//!
//! # Anomalies
//!
//! Listed first, sorted by [`AnomalyKind`] then subject. Each is defined on
//! the signed entries only:
//!
//! * **disputed figure**: a measurement whose state is disputed (a party
//!   disputed it and has not resolved the dispute);
//! * **unresolved figure**: a measurement still pending (waiting for
//!   attestations) or in conflict with another live figure for the same
//!   indicator and period;
//! * **correction after settlement**: a `measure.correct` entry whose
//!   corrected measurement was an input of a statement that every signatory
//!   had signed (settled, or settled and since replaced). Listed even after a
//!   resettlement, which the detail then says, because the history matters;
//! * **settlement conflict**: a conflict the settlement status reports for a
//!   year (an input of the settled statement corrected or disputed, a settled
//!   statement built on a resettled previous year, two settled statements);
//! * **contract conflict**: a conflict that keeps contract versions out of
//!   force;
//! * **replay differs**: a `settlement.sign` entry whose statement does not
//!   equal the recomputation from its signed inputs (a valid copy never
//!   holds one; listed in case a copy was built by other software);
//! * **time out of order**: an entry whose claimed time is more than
//!   [`CLOCK_SKEW_SECS`] earlier than the claimed time of an entry it
//!   references (the reference proves the other entry existed first), or more
//!   than [`CLOCK_SKEW_SECS`] earlier than the entry by the same party just
//!   before it in this copy's journal order (with a readable time); also an entry whose claimed time is
//!   not an RFC 3339 time;
//! * **key used after revocation**: an entry signed with a key whose
//!   revocation's claimed time is earlier than the entry's claimed time
//!   (any amount): such an entry claims to be made after the revocation
//!   (imported late, or a clock set back); and every **void** entry (signed
//!   with a key that an ending entry ended without the entry in its causal
//!   past, FORMAT.md 4.3), which counts for nothing in any derived state;
//! * **equivocation**: recorded `audit.equivocation` evidence, or two
//!   recorded checkpoints of one copy with one size and different roots;
//! * **quality gate not met**: a settled statement whose quality score
//!   (line `shared_savings.quality_score`) is below the contract's
//!   `min_quality_score`; the detail names the consequence the contract
//!   states (`monitoring.below_quality_gate`, e.g. an improvement plan);
//! * **signed before the period ended**: a figure (its submission or
//!   correction, or an attestation of it) or a `settlement.sign` whose
//!   claimed time is earlier than the end of the period it is about. The
//!   end of a period is the first instant after it, in UTC ([`period_end`]):
//!   year `2028` ends at `2029-01-01T00:00:00Z`, quarter `2028-Q2` at
//!   `2028-07-01T00:00:00Z`, month `2028-03` at `2028-04-01T00:00:00Z`; a
//!   settlement of contract year Y ends with year Y. No clock skew is
//!   tolerated here (a signature at `2028-12-31T23:59:59Z` on a 2028 figure
//!   is listed).
//!
//! # Words in every language
//!
//! Each anomaly carries its finding as [`Words`] (`reason`: a stable code
//! and its arguments, in the JSON too) next to the reference English
//! `detail`; the HTML renders the words in the reader's language
//! (`present::report_html::words`). Versions, figure states, replays and
//! derivations carry words the same way (not in the JSON).
//!
//! # Readable figures
//!
//! Text meant for people (anomaly details, derivations, the HTML) writes
//! money as the statements do ([`crate::domain::settlement::format_money`]:
//! grouped thousands, at least two decimals, the currency named after the
//! amount as `EUR`), rates as percentages with exactly [`RATE_DP`]
//! decimals and scores with exactly [`SCORE_DP`] decimals; the exact
//! figure as signed stays next to it (`value`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::audit::{self, AuditError};
use crate::domain::measurement::{self as meas, State};
use crate::domain::negotiation::{ContractConflict, VersionKind, VersionState};
use crate::domain::settlement::cosign::{self, ContractView};
use crate::domain::settlement::gate;
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::keys::KeyId;
use crate::ledger::registry::{KeyEndReason, Registry};
use crate::ledger::{Ledger, LedgerError};

/// Decimals of a rate shown as a percentage in the report (`6.00%`).
pub const RATE_DP: u32 = 2;

/// Decimals of a quality score or factor shown in the report (`0.7400`).
pub const SCORE_DP: u32 = 4;

/// Statement lines listed as a settlement's derivation, in this order when
/// present: what an auditor compares with the replay result.
pub const DERIVATION_LINES: [&str; 14] = [
    "shared_savings.benchmark",
    "shared_savings.actual_cost",
    "shared_savings.gross_savings",
    "shared_savings.savings_rate",
    "shared_savings.quality_score",
    "shared_savings.provider_rate",
    "shared_savings.provider_payout",
    "shared_savings.payer_keeps",
    "bundled.target_total",
    "bundled.actual_cost",
    "bundled.result",
    "capitation.budget",
    "capitation.actual_cost",
    "capitation.result",
];

/// Clock skew tolerated between claimed times before an entry counts as out
/// of order, in seconds (five minutes).
pub const CLOCK_SKEW_SECS: i64 = 300;

/// Words for people, as data: a message code and its arguments. The
/// presentation layer renders them in the reader's language (message
/// `report-<code>` of `present/locales/*/report.ftl`); the JSON carries them
/// as `{"code": ..., "args": {...}}`, a stable reason a program can act on
/// next to the English text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// The message code, e.g. `figure-pending` (stable).
    pub code: &'static str,
    /// The named arguments, in the order the code documents them.
    pub args: Vec<(&'static str, WordArg)>,
}

/// One argument of [`Words`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordArg {
    /// Text from the ledger or an id, shown as it is.
    Text(String),
    /// An amount of money in a currency (ISO 4217 code).
    Money(rust_decimal::Decimal, String),
    /// A measured figure and its unit (`eur` is money in euro).
    Figure(rust_decimal::Decimal, String),
    /// A claimed time (RFC 3339 as signed, or any text when it is not one).
    Time(String),
    /// A whole count (may select a plural form).
    Count(u64),
    /// Nested words.
    Words(Box<Words>),
    /// A quality gate (worded as the statements word it).
    Gate(gate::GateNotice),
    /// A settlement conflict (worded by `present::engine::conflict`; its
    /// reference English in the JSON).
    Conflict(cosign::Conflict),
    /// A contract conflict (worded by `present::engine::contract_conflict`;
    /// its reference English in the JSON).
    ContractConflict(ContractConflict),
}

impl Words {
    /// Words with `code` and `args`.
    pub fn new(code: &'static str, args: Vec<(&'static str, WordArg)>) -> Words {
        debug_assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "a code is a Fluent id part: {code}");
        Words { code, args }
    }
}

impl Serialize for Words {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Args<'a>(&'a [(&'static str, WordArg)]);
        impl Serialize for Args<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("code", self.code)?;
        m.serialize_entry("args", &Args(&self.args))?;
        m.end()
    }
}

impl Serialize for WordArg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            WordArg::Text(t) | WordArg::Time(t) => s.serialize_str(t),
            WordArg::Count(n) => s.serialize_u64(*n),
            WordArg::Words(w) => w.serialize(s),
            WordArg::Gate(g) => g.serialize(s),
            WordArg::Conflict(c) => c.serialize(s),
            WordArg::ContractConflict(c) => c.serialize(s),
            WordArg::Money(d, c) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("amount", &d.to_string())?;
                m.serialize_entry("currency", c)?;
                m.end()
            }
            WordArg::Figure(d, u) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("value", &d.to_string())?;
                m.serialize_entry("unit", u)?;
                m.end()
            }
        }
    }
}

/// A text argument.
fn tx(s: impl Into<String>) -> WordArg {
    WordArg::Text(s.into())
}

/// A time argument.
fn tm(s: impl Into<String>) -> WordArg {
    WordArg::Time(s.into())
}

/// A figure argument.
fn fig(v: &rust_decimal::Decimal, unit: &str) -> WordArg {
    WordArg::Figure(*v, unit.to_string())
}

/// Nested words as an argument.
fn ws(w: Words) -> WordArg {
    WordArg::Words(Box::new(w))
}

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The audit entries could not be read.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// The audit report of one copy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The ledger id.
    pub ledger: String,
    /// Number of entries in this copy.
    pub entries: u64,
    /// Hash of the last journal record (hex).
    pub head: String,
    /// Merkle root of this copy's tree (hex).
    pub merkle_root: String,
    /// Leaves of the Merkle tree (equals `entries`).
    pub merkle_size: u64,
    /// What the report was generated from, in words (no clock time).
    pub generated_from: String,
    /// The tolerance used for claimed-time order, in seconds.
    pub clock_skew_secs: i64,
    /// Anomalies, most serious kind first.
    pub anomalies: Vec<Anomaly>,
    /// Parties with their key history, by id.
    pub parties: Vec<PartyReport>,
    /// Contracts by id.
    pub contracts: Vec<ContractReport>,
    /// Per copy (origin), the latest checkpoint and its cosignatures.
    pub checkpoints: Vec<CheckpointReport>,
    /// Equivocation evidence.
    pub equivocations: Vec<EquivocationReport>,
}

/// What kind of anomaly; the order is the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// Two signed checkpoints of one copy that cannot both be true.
    Equivocation,
    /// A key used (by claimed time) after its revocation.
    KeyUsedAfterRevocation,
    /// A settlement statement that does not follow from its signed inputs.
    ReplayDiffers,
    /// A correction of a figure a settled statement used.
    CorrectionAfterSettlement,
    /// A settlement conflict that needs a resettlement.
    SettlementConflict,
    /// A disputed figure.
    DisputedFigure,
    /// A figure still pending or in conflict.
    UnresolvedFigure,
    /// Contract versions kept out of force by a conflict.
    ContractConflict,
    /// A claimed time out of order.
    TimeOutOfOrder,
    /// A figure or statement signed before the end of its period.
    SignedBeforePeriodEnd,
    /// A settled year whose quality score is below the contract's gate.
    QualityGateNotMet,
}

impl AnomalyKind {
    /// A heading for the kind.
    pub fn label(&self) -> &'static str {
        match self {
            AnomalyKind::Equivocation => "equivocation",
            AnomalyKind::KeyUsedAfterRevocation => "key used after revocation",
            AnomalyKind::ReplayDiffers => "replay differs",
            AnomalyKind::CorrectionAfterSettlement => "correction after settlement",
            AnomalyKind::SettlementConflict => "settlement conflict",
            AnomalyKind::DisputedFigure => "disputed figure",
            AnomalyKind::UnresolvedFigure => "unresolved figure",
            AnomalyKind::ContractConflict => "contract conflict",
            AnomalyKind::TimeOutOfOrder => "claimed time out of order",
            AnomalyKind::SignedBeforePeriodEnd => "signed before the period ended",
            AnomalyKind::QualityGateNotMet => "quality gate not met",
        }
    }
}

/// One anomaly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// The kind.
    pub kind: AnomalyKind,
    /// What it concerns (contract and year, indicator and period, party, origin).
    pub subject: String,
    /// The entry that shows it, if one does.
    pub entry: Option<String>,
    /// What is wrong, in the report's reference English (stable since the
    /// first report; a reader's language renders [`Anomaly::reason`]).
    pub detail: String,
    /// What is wrong as a code and its arguments (the same finding as
    /// `detail`, for programs and for every language).
    pub reason: Words,
    /// `subject` as words (not in the JSON, whose `subject` is data).
    #[serde(skip)]
    pub about: Words,
}

impl Ord for Anomaly {
    /// The report's order: kind, then subject, entry and detail.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // `reason` and `about` say what `detail` and `subject` say.
        (self.kind, &self.subject, &self.entry, &self.detail).cmp(&(
            other.kind,
            &other.subject,
            &other.entry,
            &other.detail,
        ))
    }
}

impl PartialOrd for Anomaly {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A party and its keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyReport {
    /// Party id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: String,
    /// The registration entry.
    pub registered_by: String,
    /// Keys in the order they were added.
    pub keys: Vec<KeyReport>,
}

/// One key of a party.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyReport {
    /// Key fingerprint.
    pub fingerprint: String,
    /// Key id (hex).
    pub key_id: String,
    /// The entry that introduced it.
    pub added_by: String,
    /// Its journal sequence number.
    pub added_seq: u64,
    /// Its claimed time.
    pub added_time: String,
    /// When and why it stopped being valid, if it did.
    pub ended: Option<KeyEndReport>,
}

/// The end of a key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyEndReport {
    /// `revoked` or `retired`.
    pub how: String,
    /// The reason given for a revocation.
    pub reason: Option<String>,
    /// The ending entry.
    pub entry: String,
    /// Its journal sequence number.
    pub seq: u64,
    /// Its claimed time.
    pub time: String,
}

/// A contract: versions, signatures, what is in force, figures, settlements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractReport {
    /// Contract id.
    pub id: String,
    /// The agreed base version, if any.
    pub base: Option<String>,
    /// The version governing each contract year.
    pub in_force: Vec<InForce>,
    /// Conflicts that keep versions out of force (their JSON is the
    /// reference English).
    pub conflicts: Vec<ContractConflict>,
    /// Every version, by hash.
    pub versions: Vec<VersionReport>,
    /// Every measurement, by indicator, period and claimed time.
    pub measurements: Vec<MeasurementReport>,
    /// Settlements per contract year.
    pub settlements: Vec<SettlementReport>,
}

/// The version governing one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InForce {
    /// Contract year.
    pub year: u16,
    /// Version hash, if the year is governed.
    pub version: Option<String>,
}

/// One contract version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionReport {
    /// Version hash.
    pub version: String,
    /// `proposal`, `counter` or `amendment`.
    pub kind: String,
    /// The version it answers or amends.
    pub answers: Option<String>,
    /// First year it governs if in force.
    pub effective_from: u16,
    /// `agreed`, `pending`, `rejected` or `withdrawn`.
    pub state: String,
    /// `state` as words (not in the JSON).
    #[serde(skip)]
    pub state_words: Words,
    /// Parties that offered it.
    pub offered_by: Vec<String>,
    /// Parties whose signatures the terms require.
    pub signatories: Vec<String>,
    /// Every signature.
    pub signatures: Vec<SignatureReport>,
    /// Rejections with reasons.
    pub rejections: Vec<Rejection>,
}

/// A signature on a contract version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureReport {
    /// Party bound.
    pub party: String,
    /// Party that signed (differs under a mandate).
    pub signed_by: String,
    /// The signing entry.
    pub entry: String,
    /// Its claimed time.
    pub time: String,
}

/// A rejection of a version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The rejecting party.
    pub party: String,
    /// Its reasons.
    pub reasons: Vec<String>,
}

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasurementReport {
    /// Entry id.
    pub id: String,
    /// Indicator.
    pub indicator: String,
    /// Period.
    pub period: String,
    /// Contract year.
    pub year: u16,
    /// Value as written.
    pub value: String,
    /// Unit.
    pub unit: String,
    /// State name (agreed, pending, disputed, superseded, conflict).
    pub state: String,
    /// What the state depends on (who to wait for, the correcting entry...).
    pub state_detail: Option<String>,
    /// `state_detail` as words (not in the JSON).
    #[serde(skip)]
    pub state_detail_words: Option<Words>,
    /// Submitting source.
    pub source: String,
    /// Claimed time of the submission.
    pub time: String,
    /// Parties that signed it (source and attesters) with their entries.
    pub signed_by: Vec<SignatureReport>,
    /// The measurement it corrects.
    pub corrects: Option<String>,
    /// Why it corrects.
    pub reason: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// How it was derived, if from source data.
    pub derivation: Option<String>,
    /// `derivation` as words (not in the JSON).
    #[serde(skip)]
    pub derivation_words: Option<Words>,
    /// Every dispute of it.
    pub disputes: Vec<DisputeReport>,
}

/// A dispute of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisputeReport {
    /// Disputing party.
    pub party: String,
    /// The dispute entry.
    pub entry: String,
    /// Its claimed time.
    pub time: String,
    /// The reason.
    pub reason: String,
    /// True when the party has since resolved it.
    pub resolved: bool,
}

/// One contract year's settlement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettlementReport {
    /// Contract year.
    pub year: u16,
    /// `open`, `signed`, `settled`, with `, conflict` when conflicts exist.
    pub state: String,
    /// Governing version hash.
    pub version: Option<String>,
    /// Parties that must sign.
    pub signatories: Vec<String>,
    /// The settled statement hash.
    pub settled: Option<String>,
    /// Settled statements replaced by a resettlement.
    pub replaced: Vec<String>,
    /// Conflicts (the JSON carries each in its reference English).
    pub conflicts: Vec<cosign::Conflict>,
    /// Every signed statement.
    pub statements: Vec<StatementReport>,
}

/// A signed statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementReport {
    /// Statement hash.
    pub hash: String,
    /// `settled`, `replaced` or `not settled`.
    pub standing: String,
    /// Previous year's statement hash it starts from.
    pub previous: Option<String>,
    /// Measurement entry ids used.
    pub inputs: Vec<String>,
    /// Signatures by party.
    pub signatures: Vec<SignedReport>,
    /// Replay from the signed inputs: `MATCH` or `DIFFERS: ...`, over every signing entry.
    pub replay: String,
    /// `replay` as words (not in the JSON).
    #[serde(skip)]
    pub replay_words: Words,
    /// True when every signing entry replays to this statement.
    #[serde(skip)]
    pub replay_matches: bool,
    /// The currency of its amounts (the contract's, ISO 4217).
    pub currency: String,
    /// Payments (from, to, funding, amount).
    pub payments: Vec<Payment>,
    /// Net amount per party (received minus paid).
    pub net: Vec<NetAmount>,
    /// The derivation: the statement's lines of [`DERIVATION_LINES`] that
    /// it has, next to the replay result.
    pub derivation: Vec<DerivationLine>,
    /// The quality gate of this statement in words (met or not met, and the
    /// contract's consequence), if the contract has a gate.
    pub quality_gate: Option<String>,
    /// The quality gate as data (not in the JSON, which has `quality_gate`).
    #[serde(skip)]
    pub gate: Option<gate::GateNotice>,
}

/// One line of a settlement's derivation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivationLine {
    /// Line id, e.g. `shared_savings.benchmark`.
    pub id: String,
    /// The line's label as signed.
    pub label: String,
    /// The figure as signed (an amount in euro or a value).
    pub value: String,
    /// The figure for people: money grouped with two decimals and `EUR`,
    /// a rate as a percentage with [`RATE_DP`] decimals, a score with
    /// [`SCORE_DP`] decimals.
    pub shown: String,
    /// The computation in words, as signed.
    pub formula: String,
    /// The line as this copy computes the very same statement (same hash),
    /// for its words in a reader's language; `None` when this copy cannot
    /// compute it (not in the JSON).
    #[serde(skip)]
    pub line: Option<crate::domain::settlement::Line>,
    /// The amount as signed, if the line is money (not in the JSON).
    #[serde(skip)]
    pub amount: Option<rust_decimal::Decimal>,
    /// The value as signed, if the line is a rate, score or other figure
    /// (not in the JSON).
    #[serde(skip)]
    pub number: Option<rust_decimal::Decimal>,
}

/// A party's signature on a statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedReport {
    /// Party.
    pub party: String,
    /// Signing entry.
    pub entry: String,
    /// Claimed time.
    pub time: String,
    /// Statement hash it replaces, if a resettlement.
    pub replaces: Option<String>,
}

/// One payment of a statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    /// Paying party.
    pub from: String,
    /// Receiving party.
    pub to: String,
    /// Funding stream.
    pub funding: String,
    /// Amount in euro, as written.
    pub amount: String,
}

/// A party's net amount in a statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetAmount {
    /// Party.
    pub party: String,
    /// Net amount in euro, as written (negative: the party pays).
    pub net: String,
}

/// A witness cosignature of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CosignatureReport {
    /// Witness key name (`<party>/<fingerprint>`).
    pub witness: String,
    /// The time the witness claims, RFC 3339.
    pub time: String,
}

/// A copy's latest checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointReport {
    /// Origin (`vereffen/<ledger>/<party>`).
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root (hex).
    pub root: String,
    /// Distinct checkpoints of this origin recorded.
    pub checkpoints: usize,
    /// Verified cosignatures.
    pub cosignatures: Vec<CosignatureReport>,
    /// The signed note as text.
    pub note: String,
}

/// Equivocation evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EquivocationReport {
    /// Origin.
    pub origin: String,
    /// What was found.
    pub finding: String,
    /// The full report (reference English).
    pub report: String,
    /// The tree size both checkpoints claim (not in the JSON: `report` has it).
    #[serde(skip)]
    pub size: u64,
    /// The first checkpoint's signed note, verbatim (not in the JSON).
    #[serde(skip)]
    pub first: String,
    /// The second checkpoint's signed note, verbatim (not in the JSON).
    #[serde(skip)]
    pub second: String,
}

fn hex(h: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(h)
}

/// The first 12 characters (ids and hashes are hex; never panics on other text).
pub(crate) fn short(h: &str) -> &str {
    h.char_indices().nth(12).map_or(h, |(i, _)| &h[..i])
}

/// The end of a measurement period (`2028`, `2028-Q2` or `2028-03`): the
/// first instant after it, in UTC. `None` for any other text.
pub fn period_end(period: &str) -> Option<OffsetDateTime> {
    use time::{Date, Month};
    let first =
        |y: i32, m: u8| Some(Date::from_calendar_date(y, Month::try_from(m).ok()?, 1).ok()?.midnight().assume_utc());
    let year: i32 = period.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?;
    let (y, m) = match period.get(4..)? {
        "" => (year + 1, 1),
        q if q.len() == 3 && q.starts_with("-Q") => match q.as_bytes()[2] {
            n @ b'1'..=b'3' => (year, (n - b'0') * 3 + 1),
            b'4' => (year + 1, 1),
            _ => return None,
        },
        m if m.len() == 3 && m.starts_with('-') => match m[1..].parse::<u8>().ok()? {
            12 => (year + 1, 1),
            n @ 1..=11 if m[1..].bytes().all(|b| b.is_ascii_digit()) => (year, n + 1),
            _ => return None,
        },
        _ => return None,
    };
    first(y, m)
}

/// A figure for people: `eur` as money (grouped, at least two decimals)
/// followed by `EUR`, any other unit as written.
pub fn figure_text(value: &rust_decimal::Decimal, unit: &str) -> String {
    if unit == "eur" {
        format!("{} EUR", crate::domain::settlement::format_money(*value))
    } else {
        format!("{value} {unit}")
    }
}

/// An amount written as a decimal string, for people: grouped with at
/// least two decimals (the statements' format); other text as it is.
pub fn money_text(amount: &str) -> String {
    rust_decimal::Decimal::from_str_exact(amount)
        .map(crate::domain::settlement::format_money)
        .unwrap_or_else(|_| amount.to_string())
}

/// A statement line's figure for people (see [`DerivationLine::shown`]).
fn shown_figure(id: &str, amount: Option<&str>, value: Option<&str>) -> String {
    use rust_decimal::Decimal;
    if let Some(a) = amount {
        return format!("{} EUR", money_text(a));
    }
    let Some(v) = value else { return String::new() };
    let Ok(d) = Decimal::from_str_exact(v) else { return v.to_string() };
    let fixed = |d: Decimal, dp: u32| {
        let mut r = d.round_dp(dp);
        r.rescale(dp);
        r
    };
    if id.ends_with("_rate") {
        format!("{}%", fixed(d.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(d), RATE_DP))
    } else {
        fixed(d, SCORE_DP).to_string()
    }
}

/// The derivation lines of a signed statement (JSON form). The signed form
/// holds numbers only (engine version 2); the words (label, formula) come
/// from `words`, this copy's computation of the very same statement (same
/// hash), or from the signed statement itself when it carries them
/// (engine version 1).
fn derivation_of(statement: &Value, words: Option<&crate::domain::settlement::Statement>) -> Vec<DerivationLine> {
    let lines: Vec<&Value> =
        statement.get("lines").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let text = |l: &Value, f: &str| l.get(f).and_then(Value::as_str).map(str::to_string);
    DERIVATION_LINES
        .iter()
        .filter_map(|id| lines.iter().find(|l| l.get("id").and_then(Value::as_str) == Some(id)))
        .map(|l| {
            let id = text(l, "id").unwrap_or_default();
            let (amount, value) = (text(l, "amount"), text(l, "value"));
            let exact = |t: &Option<String>| t.as_deref().and_then(|t| rust_decimal::Decimal::from_str_exact(t).ok());
            DerivationLine {
                line: words.and_then(|w| w.line(&id)).cloned(),
                amount: exact(&amount),
                number: exact(&value),
                shown: shown_figure(&id, amount.as_deref(), value.as_deref()),
                value: amount.or(value).unwrap_or_default(),
                label: text(l, "label")
                    .or_else(|| words.and_then(|w| w.line(&id)).map(|w| w.label.english(w.abs_figures)))
                    .unwrap_or_default(),
                formula: text(l, "formula")
                    .or_else(|| words.and_then(|w| w.line(&id)).map(|w| w.formula.english(w.abs_figures)))
                    .unwrap_or_default(),
                id,
            }
        })
        .collect()
}

/// An anomaly when `time` (an entry's claimed time) lies before `end`.
fn early(
    subject: (String, Words),
    entry: &str,
    what: (&str, Words),
    time: &str,
    end: OffsetDateTime,
    anomalies: &mut Vec<Anomaly>,
) {
    let Some(t) = parse_time(time) else { return };
    if t < end {
        let end = end.format(&Rfc3339).unwrap_or_default();
        anomalies.push(Anomaly {
            kind: AnomalyKind::SignedBeforePeriodEnd,
            subject: subject.0,
            entry: Some(entry.to_string()),
            detail: format!("{} at {time}, before the period ended at {end}", what.0),
            reason: Words::new("signed-early", vec![("what", ws(what.1)), ("time", tm(time)), ("end", tm(end))]),
            about: subject.1,
        });
    }
}

/// `entry seq (kind) by party` as words.
fn about_entry_by(seq: u64, kind: &str, party: &str) -> Words {
    Words::new("about-entry-by", vec![("seq", tx(seq.to_string())), ("kind", tx(kind)), ("party", tx(party))])
}

/// `key fingerprint of party` as words.
fn about_key(fingerprint: &str, party: &str) -> Words {
    Words::new("about-key", vec![("key", tx(fingerprint)), ("party", tx(party))])
}

/// `contract year` as words.
fn about_year(contract: &str, year: u16) -> Words {
    Words::new("about-year", vec![("contract", tx(contract)), ("year", tx(year.to_string()))])
}

/// `contract indicator period` as words.
fn about_figure(contract: &str, indicator: &str, period: &str) -> Words {
    Words::new("about-figure", vec![("contract", tx(contract)), ("indicator", tx(indicator)), ("period", tx(period))])
}

fn parse_time(t: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(t, &Rfc3339).ok()
}

/// Seconds since 1970 as an RFC 3339 UTC time (`2027-01-15T09:30:00Z`);
/// a time beyond the calendar is written as the number of seconds.
pub fn unix_to_rfc3339(secs: u64) -> String {
    OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{secs} (seconds since 1970)"))
}

/// Builds the report of `ledger`.
pub fn build(ledger: &Ledger) -> Result<Report, ReportError> {
    let all = ledger.scan(1)?;
    let void = crate::ledger::liveness::void_entries(all.iter().map(|(_, e)| e));
    let by_id: BTreeMap<EntryId, &Entry> = all.iter().map(|(_, e)| (e.id(), e)).collect();
    let time_of =
        |id: &str| EntryId::from_hex(id).and_then(|i| by_id.get(&i)).map(|e| e.body().time.clone()).unwrap_or_default();
    let lookup = |id: &EntryId| by_id.get(id).filter(|_| !void.contains_key(id)).map(|e| (*e).clone());
    let mut anomalies = Vec::new();

    let parties = parties(ledger.registry(), &time_of);

    let mut by_contract: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    for (_, e) in &all {
        if void.contains_key(&e.id()) {
            continue;
        }
        if let Some(c) = e.contract() {
            by_contract.entry(c).or_default().push(e.clone());
        }
    }
    let mut contracts = Vec::new();
    for (id, entries) in &by_contract {
        let view = ContractView::new(id, entries, &lookup);
        contracts.push(contract(&view, entries, &lookup, &mut anomalies));
    }

    times(&all, &by_id, &mut anomalies);
    revoked_keys(ledger.registry(), &all, &by_id, &mut anomalies);
    void_entries(&all, &by_id, &void, &mut anomalies);

    let checkpoints = audit::latest_checkpoints(ledger)?
        .into_iter()
        .map(|s| CheckpointReport {
            origin: s.origin.clone(),
            size: s.latest.checkpoint.size(),
            root: hex(s.latest.checkpoint.root()),
            checkpoints: s.checkpoints,
            cosignatures: s
                .cosignatures
                .iter()
                .map(|c| CosignatureReport { witness: c.name.clone(), time: unix_to_rfc3339(c.timestamp) })
                .collect(),
            note: s.latest.to_text(),
        })
        .collect();
    let mut equivocations = Vec::new();
    for ev in audit::equivocations(ledger)? {
        let report = EquivocationReport {
            origin: ev.origin().to_string(),
            finding: ev.finding.as_str().to_string(),
            report: ev.report(),
            size: ev.first.checkpoint.size(),
            first: ev.first.to_text(),
            second: ev.second.to_text(),
        };
        // The entry recording this evidence, if it was recorded (rather
        // than seen among recorded checkpoints).
        let payload = ev.payload();
        let recorded = all.iter().find(|(_, e)| e.kind() == audit::KIND_EQUIVOCATION && e.body().payload == payload);
        let (a, b) = (&ev.first.checkpoint, &ev.second.checkpoint);
        anomalies.push(Anomaly {
            kind: AnomalyKind::Equivocation,
            subject: report.origin.clone(),
            entry: recorded.map(|(_, e)| e.id().to_hex()),
            reason: Words::new(
                "equivocation-found",
                vec![
                    ("finding", tx(report.finding.clone())),
                    ("size_a", tx(a.size().to_string())),
                    ("root_a", tx(short(&hex(a.root())))),
                    ("size_b", tx(b.size().to_string())),
                    ("root_b", tx(short(&hex(b.root())))),
                ],
            ),
            about: Words::new("about-origin", vec![("origin", tx(report.origin.clone()))]),
            detail: format!(
                "{}: the keeper signed a tree of size {} with root {} and a tree of size {} with root {}; they cannot both be this copy's history",
                report.finding,
                a.size(),
                short(&hex(a.root())),
                b.size(),
                short(&hex(b.root()))
            ),
        });
        equivocations.push(report);
    }
    equivocations.sort_by(|a, b| (&a.origin, &a.report).cmp(&(&b.origin, &b.report)));
    equivocations.dedup();
    anomalies.sort();
    anomalies.dedup();

    let tree = ledger.merkle_tree();
    Ok(Report {
        ledger: ledger.id().to_string(),
        entries: ledger.len(),
        head: hex(&ledger.head()),
        merkle_root: hex(&tree.root()),
        merkle_size: tree.size(),
        generated_from: format!(
            "generated from {} signed entries of this copy of ledger {}; no clock was read",
            ledger.len(),
            ledger.id()
        ),
        clock_skew_secs: CLOCK_SKEW_SECS,
        anomalies,
        parties,
        contracts,
        checkpoints,
        equivocations,
    })
}

fn parties(reg: &Registry, time_of: &dyn Fn(&str) -> String) -> Vec<PartyReport> {
    reg.parties()
        .map(|p| PartyReport {
            id: p.id.clone(),
            name: p.name.clone(),
            role: p.role.as_str().to_string(),
            registered_by: p.registered_by.clone(),
            keys: p
                .keys
                .iter()
                .filter_map(|k| KeyId::from_hex(k))
                .filter_map(|k| reg.key(&k).map(|r| (k, r)))
                .map(|(k, r)| KeyReport {
                    fingerprint: k.fingerprint(),
                    key_id: k.to_hex(),
                    added_by: r.added_by.clone(),
                    added_seq: r.added_seq,
                    added_time: time_of(&r.added_by),
                    ended: r.ended.as_ref().map(|end| KeyEndReport {
                        how: match end.reason {
                            KeyEndReason::Revoked { .. } => "revoked".into(),
                            KeyEndReason::Retired => "retired".into(),
                        },
                        reason: match &end.reason {
                            KeyEndReason::Revoked { reason } => Some(reason.clone()),
                            KeyEndReason::Retired => None,
                        },
                        entry: end.entry.clone(),
                        seq: end.seq,
                        time: time_of(&end.entry),
                    }),
                })
                .collect(),
        })
        .collect()
}

fn contract(
    view: &ContractView,
    entries: &[Entry],
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
    anomalies: &mut Vec<Anomaly>,
) -> ContractReport {
    let id = view.contract.clone();
    let st = &view.status;
    for c in &st.conflicts {
        anomalies.push(Anomaly {
            kind: AnomalyKind::ContractConflict,
            subject: id.clone(),
            entry: None,
            detail: c.to_string(),
            reason: Words::new("contract-conflict", vec![("what", WordArg::ContractConflict(c.clone()))]),
            about: Words::new("about-contract", vec![("contract", tx(id.clone()))]),
        });
    }
    let versions = st
        .versions
        .values()
        .map(|v| {
            let (kind, answers) = match &v.kind {
                VersionKind::Proposal => ("proposal", None),
                VersionKind::Counter { answers } => ("counter", Some(answers.clone())),
                VersionKind::Amendment { amends, .. } => ("amendment", Some(amends.clone())),
            };
            let (state, state_words) = match v.state() {
                _ if st.superseded_by(&v.version).is_some() => {
                    let by = st.superseded_by(&v.version).map(|b| b.version.as_str()).unwrap_or_default();
                    (
                        format!("superseded by {} (in force)", short(by)),
                        Words::new("version-superseded", vec![("version", tx(short(by)))]),
                    )
                }
                VersionState::Agreed => ("agreed".to_string(), Words::new("version-agreed", vec![])),
                VersionState::Pending { waiting_for } => (
                    format!("pending (waiting for {})", waiting_for.join(", ")),
                    Words::new("version-pending", vec![("parties", tx(waiting_for.join(", ")))]),
                ),
                VersionState::Rejected { by } => (
                    format!("rejected by {}", by.join(", ")),
                    Words::new("version-rejected", vec![("parties", tx(by.join(", ")))]),
                ),
                VersionState::Withdrawn => ("withdrawn".to_string(), Words::new("version-withdrawn", vec![])),
            };
            VersionReport {
                version: v.version.clone(),
                kind: kind.to_string(),
                answers,
                effective_from: v.effective_from(),
                state,
                state_words,
                offered_by: v.offered_by.iter().cloned().collect(),
                signatories: v.signatories.clone(),
                signatures: v
                    .signatures
                    .values()
                    .flatten()
                    .map(|s| SignatureReport {
                        party: s.party.clone(),
                        signed_by: s.signed_by.clone(),
                        entry: s.entry.clone(),
                        time: s.time.clone(),
                    })
                    .collect(),
                rejections: v
                    .rejections
                    .iter()
                    .map(|(p, r)| Rejection { party: p.clone(), reasons: r.iter().cloned().collect() })
                    .collect(),
            }
        })
        .collect();
    let in_force = view
        .settlements
        .keys()
        .map(|&y| InForce { year: y, version: st.governing(y).map(|v| v.version.clone()) })
        .collect();

    // Disputes by measurement.
    let mut disputes: BTreeMap<String, Vec<(String, String, String, String)>> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.kind() == meas::KIND_DISPUTE) {
        let p = &e.body().payload;
        let (Some(m), reason) =
            (p.get("measurement").and_then(Value::as_str), p.get("reason").and_then(Value::as_str).unwrap_or(""))
        else {
            continue;
        };
        disputes.entry(m.to_string()).or_default().push((
            e.body().author.party.clone(),
            e.id().to_hex(),
            e.body().time.clone(),
            reason.to_string(),
        ));
    }
    let time_of =
        |id: &str| EntryId::from_hex(id).and_then(|i| lookup(&i)).map(|e| e.body().time.clone()).unwrap_or_default();

    let mut measurements: Vec<MeasurementReport> = view
        .measurements
        .iter()
        .map(|m| {
            let open: BTreeMap<String, Vec<String>> = match &m.state {
                State::Disputed { by } => by.clone(),
                _ => BTreeMap::new(),
            };
            let state_detail_words = match &m.state {
                State::Agreed => None,
                State::Pending { waiting_for } => {
                    Some(Words::new("figure-waiting-for", vec![("parties", tx(waiting_for.join(", ")))]))
                }
                State::Disputed { by } => Some(Words::new(
                    "figure-disputed-by",
                    vec![("parties", tx(by.keys().cloned().collect::<Vec<_>>().join(", ")))],
                )),
                State::Superseded { by } => Some(Words::new("figure-corrected-by", vec![("entry", tx(short(by)))])),
                State::Conflict { with } => Some(Words::new(
                    "figure-conflicts-with",
                    vec![("entries", tx(with.iter().map(|w| short(w)).collect::<Vec<_>>().join(", ")))],
                )),
            };
            let state_detail = match &m.state {
                State::Agreed => None,
                State::Pending { waiting_for } => Some(format!("waiting for {}", waiting_for.join(", "))),
                State::Disputed { by } => Some(format!("disputed by {}", by.keys().cloned().collect::<Vec<_>>().join(", "))),
                State::Superseded { by } => Some(format!("corrected by {}", short(by))),
                State::Conflict { with } => {
                    Some(format!("conflicts with {}", with.iter().map(|w| short(w)).collect::<Vec<_>>().join(", ")))
                }
            };
            let subject = format!("{id} {} {}", m.indicator, m.period);
            let about = about_figure(&id, &m.indicator, &m.period);
            let figure = || fig(&m.value, &m.unit);
            match &m.state {
                State::Disputed { by } => anomalies.push(Anomaly {
                    kind: AnomalyKind::DisputedFigure,
                    subject: subject.clone(),
                    entry: Some(m.id.clone()),
                    reason: Words::new(
                        "figure-disputed",
                        vec![
                            ("figure", figure()),
                            ("source", tx(m.source.clone())),
                            (
                                "disputes",
                                tx(by
                                    .iter()
                                    .map(|(p, r)| format!("{p}: {}", r.join("; ")))
                                    .collect::<Vec<_>>()
                                    .join(" / ")),
                            ),
                        ],
                    ),
                    about: about.clone(),
                    detail: format!(
                        "{} by {} is disputed: {}",
                        figure_text(&m.value, &m.unit),
                        m.source,
                        by.iter().map(|(p, r)| format!("{p}: {}", r.join("; "))).collect::<Vec<_>>().join(" / ")
                    ),
                }),
                State::Pending { waiting_for } => anomalies.push(Anomaly {
                    kind: AnomalyKind::UnresolvedFigure,
                    subject: subject.clone(),
                    entry: Some(m.id.clone()),
                    reason: Words::new(
                        "figure-pending",
                        vec![
                            ("figure", figure()),
                            ("source", tx(m.source.clone())),
                            ("parties", tx(waiting_for.join(", "))),
                        ],
                    ),
                    about: about.clone(),
                    detail: format!(
                        "{} by {} is pending: waiting for {}",
                        figure_text(&m.value, &m.unit),
                        m.source,
                        waiting_for.join(", ")
                    ),
                }),
                State::Conflict { with } => anomalies.push(Anomaly {
                    kind: AnomalyKind::UnresolvedFigure,
                    subject: subject.clone(),
                    entry: Some(m.id.clone()),
                    reason: Words::new(
                        "figure-conflict",
                        vec![
                            ("figure", figure()),
                            ("source", tx(m.source.clone())),
                            ("with", tx(with.iter().map(|w| short(w)).collect::<Vec<_>>().join(", "))),
                        ],
                    ),
                    about: about.clone(),
                    detail: format!(
                        "{} by {} conflicts with another live figure for the same period ({}); neither counts until one is corrected",
                        figure_text(&m.value, &m.unit),
                        m.source,
                        with.iter().map(|w| short(w)).collect::<Vec<_>>().join(", ")
                    ),
                }),
                _ => {}
            }
            if let Some(end) = period_end(&m.period) {
                let what = |p: &str| {
                    let (text, code) = if *p == m.source {
                        (format!("{p} submitted {} for {}", figure_text(&m.value, &m.unit), m.period), "early-submitted")
                    } else {
                        (format!("{p} attested {} for {}", figure_text(&m.value, &m.unit), m.period), "early-attested")
                    };
                    let words =
                        Words::new(code, vec![("party", tx(p)), ("figure", figure()), ("period", tx(m.period.clone()))]);
                    (text, words)
                };
                let (text, words) = what(&m.source);
                early((subject.clone(), about.clone()), &m.id, (&text, words), &m.time, end, anomalies);
                for (p, e) in m.signed_by.iter().filter(|(p, _)| **p != m.source) {
                    let (text, words) = what(p);
                    early((subject.clone(), about.clone()), e, (&text, words), &time_of(e), end, anomalies);
                }
            }
            MeasurementReport {
                id: m.id.clone(),
                indicator: m.indicator.clone(),
                period: m.period.clone(),
                year: m.year,
                value: m.value.to_string(),
                unit: m.unit.clone(),
                state: m.state.name().to_string(),
                state_detail,
                state_detail_words,
                source: m.source.clone(),
                time: m.time.clone(),
                signed_by: m
                    .signed_by
                    .iter()
                    .map(|(p, e)| SignatureReport { party: p.clone(), signed_by: p.clone(), entry: e.clone(), time: time_of(e) })
                    .collect(),
                corrects: m.corrects.clone(),
                reason: m.reason.clone(),
                note: m.note.clone(),
                derivation: m.derivation.as_ref().map(|d| {
                    format!(
                        "metric {} from file {} by rules {}: {} of {} rows counted",
                        d.metric,
                        short(&d.file_hash),
                        short(&d.rules_hash),
                        d.rows_counted,
                        d.rows_read
                    )
                }),
                derivation_words: m.derivation.as_ref().map(|d| {
                    Words::new(
                        "figure-derived",
                        vec![
                            ("metric", tx(d.metric.clone())),
                            ("file", tx(short(&d.file_hash))),
                            ("rules", tx(short(&d.rules_hash))),
                            ("counted", tx(d.rows_counted.to_string())),
                            ("read", tx(d.rows_read.to_string())),
                        ],
                    )
                }),
                disputes: disputes
                    .get(&m.id)
                    .map(|ds| {
                        ds.iter()
                            .map(|(party, entry, time, reason)| DisputeReport {
                                party: party.clone(),
                                entry: entry.clone(),
                                time: time.clone(),
                                reason: reason.clone(),
                                resolved: !open.get(party).is_some_and(|r| r.contains(reason)),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    measurements
        .sort_by(|a, b| (&a.indicator, &a.period, &a.time, &a.id).cmp(&(&b.indicator, &b.period, &b.time, &b.id)));

    // Replay every settlement.sign entry from its signed inputs.
    let mut replay: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.kind() == cosign::KIND_SIGN) {
        let result = cosign::check(e, lookup).map_err(|err| err.0);
        if let Err(why) = &result {
            anomalies.push(Anomaly {
                kind: AnomalyKind::ReplayDiffers,
                subject: format!("{id} settlement"),
                entry: Some(e.id().to_hex()),
                detail: why.clone(),
                reason: Words::new("replay-differs", vec![("why", tx(why.clone()))]),
                about: Words::new("about-settlement", vec![("contract", tx(id.clone()))]),
            });
        }
        replay.insert(e.id().to_hex(), result);
    }

    let by_measurement: BTreeMap<&str, &meas::Measurement> =
        view.measurements.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut settlements = Vec::new();
    for ys in view.settlements.values() {
        for c in &ys.conflicts {
            anomalies.push(Anomaly {
                kind: AnomalyKind::SettlementConflict,
                subject: format!("{id} {}", ys.year),
                entry: None,
                detail: c.to_string(),
                reason: Words::new("settlement-conflict", vec![("what", WordArg::Conflict(c.clone()))]),
                about: about_year(&id, ys.year),
            });
        }
        // Corrections of inputs of any statement every signatory signed.
        let complete: BTreeSet<&String> = ys.settled.iter().chain(ys.replaced.iter()).collect();
        for h in &complete {
            let Some(sig) = ys.statements.get(*h) else { continue };
            for input in &sig.payload.inputs {
                for m in view.measurements.iter().filter(|m| m.corrects.as_deref() == Some(input.as_str())) {
                    let old = by_measurement.get(input.as_str());
                    let still_used = ys.settled_statement().is_some_and(|s| s.payload.inputs.contains(input));
                    let old_figure = old.map(|o| fig(&o.value, &o.unit)).unwrap_or_else(|| tx(short(input)));
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::CorrectionAfterSettlement,
                        subject: format!("{id} {} {}", m.indicator, m.period),
                        entry: Some(m.id.clone()),
                        reason: Words::new(
                            "correction-after-settlement",
                            vec![
                                ("source", tx(m.source.clone())),
                                ("old", old_figure),
                                ("new", fig(&m.value, &m.unit)),
                                ("time", tm(m.time.clone())),
                                (
                                    "why",
                                    m.reason
                                        .as_deref()
                                        .map(tx)
                                        .unwrap_or_else(|| ws(Words::new("no-reason-given", vec![]))),
                                ),
                                ("year", tx(ys.year.to_string())),
                                ("statement", tx(short(h))),
                                (
                                    "since",
                                    ws(Words::new(
                                        if still_used { "not-yet-resettled" } else { "since-resettled" },
                                        vec![],
                                    )),
                                ),
                            ],
                        ),
                        about: about_figure(&id, &m.indicator, &m.period),
                        detail: format!(
                            "{} corrected {} to {} at {} (reason: {}) after {} was settled with statement {}; {}",
                            m.source,
                            old.map(|o| figure_text(&o.value, &o.unit)).unwrap_or_else(|| short(input).to_string()),
                            figure_text(&m.value, &m.unit),
                            m.time,
                            m.reason.as_deref().unwrap_or("none given"),
                            ys.year,
                            short(h),
                            if still_used { "not yet resettled" } else { "since resettled" }
                        ),
                    });
                }
            }
        }
        let signed = !ys.statements.is_empty();
        let mut state = if ys.settled.is_some() {
            "settled"
        } else if signed {
            "signed"
        } else {
            "open"
        }
        .to_string();
        if !ys.conflicts.is_empty() {
            state.push_str(", conflict");
        }
        let statements = ys
            .statements
            .values()
            .map(|s| {
                let standing = if ys.settled.as_ref() == Some(&s.hash) {
                    "settled"
                } else if ys.replaced.contains(&s.hash) {
                    "replaced"
                } else {
                    "not settled"
                };
                let differs = s.by.values().find_map(|sg| match replay.get(&sg.entry) {
                    Some(Err(why)) => Some(why.clone()),
                    _ => None,
                });
                let st = &s.payload.statement;
                let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                let gate = view
                    .status
                    .versions
                    .get(&s.payload.version)
                    .and_then(|v| gate::quality_gate(&v.terms, gate::quality_score_of(st)));
                if let Some(g) = gate.as_ref().filter(|g| !g.met && standing == "settled") {
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::QualityGateNotMet,
                        subject: format!("{id} {}", ys.year),
                        entry: s.by.values().map(|x| x.entry.clone()).min(),
                        detail: format!("settled statement {}: {}", short(&s.hash), g.words()),
                        reason: Words::new(
                            "quality-gate-not-met",
                            vec![("statement", tx(short(&s.hash))), ("gate", WordArg::Gate(g.clone()))],
                        ),
                        about: about_year(&id, ys.year),
                    });
                }
                if let Some(end) = period_end(&ys.year.to_string()) {
                    for (p, sg) in &s.by {
                        let what = format!("{p} signed the {} statement {}", ys.year, short(&s.hash));
                        let words = Words::new(
                            "early-signed-statement",
                            vec![
                                ("party", tx(p.clone())),
                                ("year", tx(ys.year.to_string())),
                                ("statement", tx(short(&s.hash))),
                            ],
                        );
                        let subject = (format!("{id} {}", ys.year), about_year(&id, ys.year));
                        early(subject, &sg.entry, (&what, words), &sg.time, end, anomalies);
                    }
                }
                // Words for the numbers: this copy's computation of the
                // same statement (an equal hash), when it can compute it.
                let words = view.compute(ys.year, false).ok().filter(|c| c.is(&s.hash));
                let currency = view
                    .status
                    .versions
                    .get(&s.payload.version)
                    .map_or_else(|| "EUR".to_string(), |v| v.terms.currency.code().to_string());
                StatementReport {
                    derivation: derivation_of(st, words.as_ref().map(|c| &c.statement)),
                    quality_gate: gate.as_ref().map(|g| g.words()),
                    gate,
                    currency,
                    replay_matches: differs.is_none(),
                    replay_words: match &differs {
                        None => Words::new("replay-match", vec![("n", WordArg::Count(s.by.len() as u64))]),
                        Some(why) => Words::new("replay-differs", vec![("why", tx(why.clone()))]),
                    },
                    hash: s.hash.clone(),
                    standing: standing.to_string(),
                    previous: s.payload.previous.clone(),
                    inputs: s.payload.inputs.clone(),
                    signatures: s
                        .by
                        .iter()
                        .map(|(p, sg)| SignedReport {
                            party: p.clone(),
                            entry: sg.entry.clone(),
                            time: sg.time.clone(),
                            replaces: sg.replaces.clone(),
                        })
                        .collect(),
                    replay: match differs {
                        None => format!("MATCH ({} signing entries recomputed)", s.by.len()),
                        Some(why) => format!("DIFFERS: {why}"),
                    },
                    payments: st
                        .get("payments")
                        .and_then(Value::as_array)
                        .map(|ps| {
                            ps.iter()
                                .map(|p| Payment {
                                    from: text(p, "from"),
                                    to: text(p, "to"),
                                    funding: text(p, "funding"),
                                    amount: text(p, "amount"),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    net: st
                        .get("parties")
                        .and_then(Value::as_array)
                        .map(|ps| {
                            ps.iter().map(|p| NetAmount { party: text(p, "party"), net: text(p, "net") }).collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        settlements.push(SettlementReport {
            year: ys.year,
            state,
            version: ys.version.clone(),
            signatories: ys.signatories.clone(),
            settled: ys.settled.clone(),
            replaced: ys.replaced.clone(),
            conflicts: ys.conflicts.clone(),
            statements,
        });
    }

    ContractReport {
        id,
        base: st.base.clone(),
        in_force,
        conflicts: st.conflicts.clone(),
        versions,
        measurements,
        settlements,
    }
}

/// Claimed times out of order (see the module docs).
fn times(all: &[(u64, Entry)], by_id: &BTreeMap<EntryId, &Entry>, anomalies: &mut Vec<Anomaly>) {
    let mut last_by_party: BTreeMap<&str, (OffsetDateTime, &Entry)> = BTreeMap::new();
    for (seq, e) in all {
        let b = e.body();
        let Some(t) = parse_time(&b.time) else {
            anomalies.push(Anomaly {
                kind: AnomalyKind::TimeOutOfOrder,
                subject: format!("entry {seq} ({})", b.kind),
                entry: Some(e.id().to_hex()),
                detail: format!("claimed time {:?} is not an RFC 3339 time", b.time),
                reason: Words::new("time-not-rfc3339", vec![("time", tx(format!("{:?}", b.time)))]),
                about: Words::new("about-entry", vec![("seq", tx(seq.to_string())), ("kind", tx(b.kind.clone()))]),
            });
            continue;
        };
        for r in e.body().ref_ids() {
            let Some(other) = by_id.get(&r) else { continue };
            let Some(rt) = parse_time(&other.body().time) else { continue };
            if (rt - t).whole_seconds() > CLOCK_SKEW_SECS {
                anomalies.push(Anomaly {
                    kind: AnomalyKind::TimeOutOfOrder,
                    subject: format!("entry {seq} ({}) by {}", b.kind, b.author.party),
                    entry: Some(e.id().to_hex()),
                    reason: Words::new(
                        "time-before-reference",
                        vec![
                            ("time", tm(b.time.clone())),
                            ("entry", tx(r.short())),
                            ("kind", tx(other.kind())),
                            ("party", tx(other.body().author.party.clone())),
                            ("entry_time", tm(other.body().time.clone())),
                        ],
                    ),
                    about: about_entry_by(*seq, &b.kind, &b.author.party),
                    detail: format!(
                        "claims {} but references {} ({} by {}) claimed at {}",
                        b.time,
                        r.short(),
                        other.kind(),
                        other.body().author.party,
                        other.body().time
                    ),
                });
            }
        }
        let party = b.author.party.as_str();
        if let Some((prev_t, prev)) = last_by_party.get(party) {
            if (*prev_t - t).whole_seconds() > CLOCK_SKEW_SECS {
                anomalies.push(Anomaly {
                    kind: AnomalyKind::TimeOutOfOrder,
                    subject: format!("entry {seq} ({}) by {party}", b.kind),
                    entry: Some(e.id().to_hex()),
                    reason: Words::new(
                        "time-before-previous",
                        vec![
                            ("time", tm(b.time.clone())),
                            ("party", tx(party)),
                            ("entry", tx(prev.id().short())),
                            ("kind", tx(prev.kind())),
                            ("entry_time", tm(prev.body().time.clone())),
                        ],
                    ),
                    about: about_entry_by(*seq, &b.kind, party),
                    detail: format!(
                        "claims {} but the previous entry by {party} in this copy ({}, {}) claims {}",
                        b.time,
                        prev.id().short(),
                        prev.kind(),
                        prev.body().time
                    ),
                });
            }
        }
        last_by_party.insert(party, (t, e));
    }
}

/// Entries signed with a key whose revocation claims an earlier time (see the module docs).
fn revoked_keys(reg: &Registry, all: &[(u64, Entry)], by_id: &BTreeMap<EntryId, &Entry>, anomalies: &mut Vec<Anomaly>) {
    // Key -> (revocation entry, its claimed time, reason).
    let mut revoked: BTreeMap<KeyId, (&Entry, OffsetDateTime, String)> = BTreeMap::new();
    for p in reg.parties() {
        for k in p.keys.iter().filter_map(|k| KeyId::from_hex(k)) {
            let Some(end) = reg.key(&k).and_then(|r| r.ended.as_ref()) else { continue };
            let KeyEndReason::Revoked { reason } = &end.reason else { continue };
            let Some(e) = EntryId::from_hex(&end.entry).and_then(|id| by_id.get(&id)) else { continue };
            let Some(t) = parse_time(&e.body().time) else { continue };
            revoked.insert(k, (e, t, reason.clone()));
        }
    }
    if revoked.is_empty() {
        return;
    }
    for (seq, e) in all {
        let Some(t) = parse_time(&e.body().time) else { continue };
        let keys: BTreeSet<KeyId> = e.sigs().iter().map(|s| s.key).collect();
        for k in keys {
            let Some((rev, rt, reason)) = revoked.get(&k) else { continue };
            if t > *rt && rev.id() != e.id() {
                anomalies.push(Anomaly {
                    kind: AnomalyKind::KeyUsedAfterRevocation,
                    subject: format!("key {} of {}", k.fingerprint(), rev.body().author.party),
                    entry: Some(e.id().to_hex()),
                    reason: Words::new(
                        "key-after-revocation",
                        vec![
                            ("seq", tx(seq.to_string())),
                            ("kind", tx(e.kind())),
                            ("time", tm(e.body().time.clone())),
                            ("key", tx(k.fingerprint())),
                            ("why", tx(reason.clone())),
                            ("revocation", tx(rev.id().short())),
                            ("revocation_time", tm(rev.body().time.clone())),
                        ],
                    ),
                    about: about_key(&k.fingerprint(), &rev.body().author.party),
                    detail: format!(
                        "entry {seq} ({}) claims {} but is signed with key {}, revoked ({reason}) by {} which claims {}",
                        e.kind(),
                        e.body().time,
                        k.fingerprint(),
                        rev.id().short(),
                        rev.body().time
                    ),
                });
            }
        }
    }
}

/// Void entries (FORMAT.md 4.3; see the module docs).
fn void_entries(
    all: &[(u64, Entry)],
    by_id: &BTreeMap<EntryId, &Entry>,
    void: &crate::ledger::liveness::VoidSet,
    anomalies: &mut Vec<Anomaly>,
) {
    if void.is_empty() {
        return;
    }
    for (seq, e) in all {
        let Some(v) = void.get(&e.id()) else { continue };
        let ending = by_id.get(&v.ending);
        let how = ending.map_or("ended", |r| {
            if r.kind() == crate::ledger::registry::KIND_REVOKE {
                "revoked"
            } else {
                "retired"
            }
        });
        let how_code = match how {
            "revoked" => "key-revoked",
            "retired" => "key-retired",
            _ => "key-ended",
        };
        let via_words = v.introduced_by_void.map_or_else(
            || Words::new("nothing", vec![]),
            |i| Words::new("void-introduced-by", vec![("entry", tx(i.short()))]),
        );
        let via = v
            .introduced_by_void
            .map(|i| format!(" (its key was introduced by void entry {})", i.short()))
            .unwrap_or_default();
        anomalies.push(Anomaly {
            kind: AnomalyKind::KeyUsedAfterRevocation,
            subject: format!("key {} of {}", v.key.fingerprint(), e.body().author.party),
            entry: Some(e.id().to_hex()),
            reason: Words::new(
                "void-entry",
                vec![
                    ("seq", tx(seq.to_string())),
                    ("kind", tx(e.kind())),
                    ("key", tx(v.key.fingerprint())),
                    ("via", ws(via_words)),
                    ("how", ws(Words::new(how_code, vec![]))),
                    ("ending", tx(v.ending.short())),
                ],
            ),
            about: about_key(&v.key.fingerprint(), &e.body().author.party),
            detail: format!(
                "entry {seq} ({}) is void: it is signed with key {}{via}, {how} by {} which does not have it in its causal past; it counts for nothing",
                e.kind(),
                v.key.fingerprint(),
                v.ending.short()
            ),
        });
    }
}

/// The report as pretty JSON with a final newline.
pub fn to_json(report: &Report) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod period_tests {
    use super::*;

    fn end(p: &str) -> Option<String> {
        period_end(p).map(|t| t.format(&Rfc3339).unwrap())
    }

    #[test]
    fn a_period_ends_at_the_first_instant_after_it_in_utc() {
        assert_eq!(end("2028").as_deref(), Some("2029-01-01T00:00:00Z"));
        assert_eq!(end("2028-Q1").as_deref(), Some("2028-04-01T00:00:00Z"));
        assert_eq!(end("2028-Q4").as_deref(), Some("2029-01-01T00:00:00Z"));
        assert_eq!(end("2028-03").as_deref(), Some("2028-04-01T00:00:00Z"));
        assert_eq!(end("2028-12").as_deref(), Some("2029-01-01T00:00:00Z"));
        for bad in
            ["", "202", "2028-Q0", "2028-Q5", "2028-00", "2028-13", "2028-+1", "2028-1", "20x8", "2028-03x", "2028-Ü1"]
        {
            assert_eq!(end(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn figures_and_rates_are_written_one_way() {
        use rust_decimal_macros::dec;
        assert_eq!(figure_text(&dec!(11500000), "eur"), "11,500,000.00 EUR");
        assert_eq!(figure_text(&dec!(0.55), "ratio"), "0.55 ratio");
        assert_eq!(money_text("365057.60"), "365,057.60");
        assert_eq!(money_text("-5.5"), "-5.50");
        assert_eq!(money_text("n/a"), "n/a");
        assert_eq!(shown_figure("shared_savings.savings_rate", None, Some("0.06")), "6.00%");
        assert_eq!(shown_figure("shared_savings.savings_rate", None, Some("0.0412345")), "4.12%");
        assert_eq!(shown_figure("shared_savings.quality_score", None, Some("0.7400001")), "0.7400");
        assert_eq!(shown_figure("shared_savings.benchmark", Some("2837211.41"), None), "2,837,211.41 EUR");
    }
}
