//! Derived measurements: a contract's cost and volume figures computed from
//! a row-level claims extract by stated rules, so that every party can
//! recompute them from its own copy of the same file.
//!
//! The claims file (CSV, UTF-8, header required) has the columns
//! `member,date,code,provider,amount` and optionally `quantity`:
//!
//! ```text
//! member,date,code,provider,amount,quantity
//! p-000123,2027-03-14,ADM-COPD,ziekenhuis,4210.00,1
//! ```
//!
//! The rules file (TOML) says which rows count (the "fence" around
//! declaration codes and providers), how membership is measured, and which
//! indicator each metric fills; `docs/DERIVE.md` documents every field.
//!
//! Streaming and exact: the file is read once, hashed as it is read; amounts
//! are exact decimals summed with overflow checks; members are interned to
//! numbers with a twelve-bit month mask each, so memory grows with the number
//! of members, not rows. Row order never changes a result: every figure is
//! a sum or a count of distinct members.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Longest accepted field (member ids, codes, providers), in bytes.
pub const MAX_FIELD_BYTES: usize = 64;
/// Most metrics one rules file may define.
pub const MAX_METRICS: usize = 64;
/// Most code or provider patterns in one list.
pub const MAX_PATTERNS: usize = 1000;

/// Which rows count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fence {
    /// Declaration codes that count: exact codes, or prefixes ending in `*`.
    pub codes: Vec<String>,
    /// Codes excluded even when `codes` matches them.
    #[serde(default)]
    pub exclude_codes: Vec<String>,
    /// Providers whose claims count (exact or `prefix*`); empty = every provider.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Whether negative amounts (reversals, credit notes) are allowed.
    #[serde(default)]
    pub allow_negative: bool,
}

/// How membership is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// A member is anyone with a counted claim in the period; a member-month
    /// is a (member, month) with a counted claim.
    Claims,
    /// Enrolment rows (the codes in `enrolment_codes`, any provider, amount
    /// 0) mark the months a member belongs to the population.
    Enrolment,
}

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Sum of the amounts of counted rows (unit `eur`).
    TotalCost,
    /// Distinct members (unit `members`).
    Members,
    /// Member-months (unit `member_months`).
    MemberMonths,
    /// Counted rows with the metric's codes (unit `count`, or `per_member`).
    Count,
    /// Sum of the quantity of counted rows with the metric's codes (unit
    /// `hours`, `days`, `count`, or `per_member`).
    Quantity,
    /// Total cost divided by members (unit `eur_per_member`), to cents.
    CostPerMember,
}

/// One output figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The indicator of the contract this metric fills.
    pub indicator: String,
    /// What it measures.
    pub measure: Measure,
    /// Count and quantity: the codes (within the fence) that count.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Count and quantity: divide by the period's members.
    #[serde(default)]
    pub per_member: bool,
    /// Decimals of a per-member ratio (half-even rounding); default 2.
    #[serde(default = "default_decimals")]
    pub decimals: u32,
}

fn default_decimals() -> u32 {
    2
}

/// The rules of a derivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Which rows count.
    pub fence: Fence,
    /// How membership is measured.
    pub membership: Membership,
    /// Enrolment codes (membership `enrolment` only).
    #[serde(default)]
    pub enrolment_codes: Vec<String>,
    /// The figures to derive.
    #[serde(rename = "metric")]
    pub metrics: Vec<Metric>,
}

/// Why a derivation failed. Nothing is recorded in that case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// The rules are not valid.
    #[error("{file}: {what}")]
    Rules {
        /// The rules file.
        file: String,
        /// What is wrong (with line and column where known).
        what: String,
    },
    /// A row of the claims file is not valid.
    #[error("{file}:{line}: {what}; nothing was derived")]
    Row {
        /// The claims file.
        file: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        what: String,
    },
    /// A figure cannot be computed.
    #[error("{what}")]
    Figure {
        /// What is wrong.
        what: String,
    },
    /// Reading failed.
    #[error("{file}: {what}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        what: String,
    },
}

/// Figures per month of the derived year (index 0 = January).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    /// The indicator.
    pub indicator: String,
    /// The measure.
    pub measure: Measure,
    /// The period (`2027`, `2027-Q1`, `2027-03`).
    pub period: String,
    /// The value.
    pub value: Decimal,
}

/// The result of a derivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derivation {
    /// The derived year.
    pub year: u16,
    /// Monthly partial sums, kept for figures of any period granularity.
    #[serde(skip)]
    totals: Totals,
    /// blake3 (hex) of the exact bytes of the claims file.
    pub file_hash: String,
    /// blake3 (hex) of the canonical rules.
    pub rules_hash: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows inside the year and the fence.
    pub rows_counted: u64,
    /// Rows dated outside the year.
    pub rows_outside_period: u64,
    /// Rows outside the fence.
    pub rows_outside_fence: u64,
}

/// The additive partial results of a derivation, per month. Two files'
/// totals merge by adding (members by union), which is what makes a split
/// file give the same figures as the whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Totals {
    cost: [Decimal; 12],
    /// Per metric index: count or quantity per month.
    per_metric: Vec<[Decimal; 12]>,
    /// Member id -> month mask.
    members: HashMap<Box<[u8]>, u16>,
}

fn matches(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => p == value,
    })
}

impl Rules {
    /// Parses and checks a rules file.
    pub fn parse(file: &str, text: &str) -> Result<Rules, DeriveError> {
        let rules: Rules = toml_edit::de::from_str(text).map_err(|e| DeriveError::Rules {
            file: file.to_string(),
            what: e.to_string().trim().replace('\n', " "),
        })?;
        rules.check(file)?;
        Ok(rules)
    }

    /// Reads a rules file.
    pub fn from_file(path: &Path) -> Result<Rules, DeriveError> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| DeriveError::Io { file: file.clone(), what: e.to_string() })?;
        Rules::parse(&file, &text)
    }

    /// Reads the rules back from their canonical JSON (as recorded with a figure).
    pub fn from_canonical(value: &serde_json::Value) -> Result<Rules, DeriveError> {
        let rules: Rules = serde_json::from_value(value.clone())
            .map_err(|e| DeriveError::Rules { file: "recorded rules".into(), what: e.to_string() })?;
        rules.check("recorded rules")?;
        Ok(rules)
    }

    fn check(&self, file: &str) -> Result<(), DeriveError> {
        let bad = |what: String| Err(DeriveError::Rules { file: file.to_string(), what });
        if self.metrics.is_empty() || self.metrics.len() > MAX_METRICS {
            return bad(format!("define 1 to {MAX_METRICS} [[metric]] tables"));
        }
        if self.fence.codes.is_empty() {
            return bad("fence.codes: name at least one code or prefix (e.g. \"*\" for every code)".into());
        }
        for (name, list) in [
            ("fence.codes", &self.fence.codes),
            ("fence.exclude_codes", &self.fence.exclude_codes),
            ("fence.providers", &self.fence.providers),
            ("enrolment_codes", &self.enrolment_codes),
        ] {
            if list.len() > MAX_PATTERNS || list.iter().any(|p| p.is_empty() || p.len() > MAX_FIELD_BYTES) {
                return bad(format!("{name}: patterns are 1 to {MAX_FIELD_BYTES} bytes, at most {MAX_PATTERNS}"));
            }
        }
        if (self.membership == Membership::Enrolment) == self.enrolment_codes.is_empty() {
            return bad("enrolment_codes: required exactly when membership = \"enrolment\"".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, m) in self.metrics.iter().enumerate() {
            if !seen.insert(&m.indicator) {
                return bad(format!("metric[{i}]: indicator {:?} appears twice", m.indicator));
            }
            let needs_codes = matches!(m.measure, Measure::Count | Measure::Quantity);
            if needs_codes == m.codes.is_empty() {
                return bad(format!(
                    "metric[{i}] ({}): codes are required for count and quantity, and only for them",
                    m.indicator
                ));
            }
            if m.per_member && !needs_codes {
                return bad(format!("metric[{i}] ({}): per_member applies to count and quantity only", m.indicator));
            }
            if m.decimals > 6 {
                return bad(format!("metric[{i}] ({}): decimals must be 0 to 6", m.indicator));
            }
        }
        Ok(())
    }

    /// The canonical JSON of the rules (what is recorded and hashed).
    pub fn canonical_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// `blake3("vereffen-derive-rules-v1\n" || canonical JSON)`, hex.
    pub fn hash(&self) -> String {
        let bytes = crate::ledger::canonical::encode(&self.canonical_json()).unwrap_or_default();
        let mut h = blake3::Hasher::new();
        h.update(b"vereffen-derive-rules-v1\n");
        h.update(&bytes);
        h.finalize().to_hex().to_string()
    }
}

/// A reader that hashes what passes through it and checks its CSV quoting
/// ([`crate::domain::csv_strict`]); the first quoting problem is kept in `bad`,
/// which the record loop looks at after every record.
struct HashingReader<'b, R> {
    inner: R,
    hasher: blake3::Hasher,
    quotes: crate::domain::csv_strict::QuoteCheck,
    bad: &'b std::cell::RefCell<Option<crate::domain::csv_strict::QuoteError>>,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if self.bad.borrow().is_none() {
            let checked = if n == 0 { self.quotes.finish() } else { self.quotes.feed(&buf[..n]) };
            if let Err(e) = checked {
                *self.bad.borrow_mut() = Some(e);
            }
        }
        Ok(n)
    }
}

fn parse_date(s: &str, year: u16) -> Result<Option<usize>, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(format!("date {s:?} is not YYYY-MM-DD"));
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let month = time::Month::try_from(m as u8).map_err(|_| format!("date {s:?} is not a valid date"))?;
    time::Date::from_calendar_date(i32::from(y), month, d as u8)
        .map_err(|_| format!("date {s:?} is not a valid date"))?;
    Ok((y == year).then_some(m as usize - 1))
}

fn parse_amount(s: &str, what: &str, max_decimals: u32) -> Result<Decimal, String> {
    let v = match crate::domain::exact::parse_decimal(s) {
        Ok(v) => v,
        Err(crate::domain::exact::ExactError::Malformed) => {
            return Err(format!("{what} {s:?} is not a decimal number"))
        }
        Err(e) => return Err(format!("{what} {s} {e}")),
    };
    if v.scale() > max_decimals {
        return Err(format!("{what} {s} has more than {max_decimals} decimals"));
    }
    Ok(v)
}

/// Derives the rules' metrics for `year` from a claims file read from
/// `reader`; `file` names it in errors.
pub fn derive(rules: &Rules, reader: impl Read, file: &str, year: u16) -> Result<Derivation, DeriveError> {
    let bad_quoting = std::cell::RefCell::new(None);
    let mut hashing = HashingReader {
        inner: reader,
        hasher: blake3::Hasher::new(),
        quotes: crate::domain::csv_strict::QuoteCheck::new(),
        bad: &bad_quoting,
    };
    let mut totals = Totals { per_metric: vec![[Decimal::ZERO; 12]; rules.metrics.len()], ..Totals::default() };
    let (mut rows_read, mut rows_counted, mut outside_period, mut outside_fence) = (0u64, 0u64, 0u64, 0u64);
    {
        let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(&mut hashing);
        let row_err = |line: u64, what: String| DeriveError::Row { file: file.to_string(), line, what };
        // Bytes are checked as they are read, ahead of the records parsed
        // from them: a quoting problem is reported before those records.
        let quoting = || bad_quoting.borrow_mut().take().map(|e| row_err(e.line, e.what));
        let headers = csv.byte_headers().map_err(|e| row_err(1, e.to_string()))?.clone();
        let names: Vec<&str> = headers.iter().map(|h| std::str::from_utf8(h).unwrap_or("?")).collect();
        if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| n) {
            return Err(row_err(1, format!("column {dup:?} appears twice in the header")));
        }
        let col = |n: &str| names.iter().position(|h| *h == n);
        let (Some(cm), Some(cd), Some(cc), Some(cp), Some(ca)) =
            (col("member"), col("date"), col("code"), col("provider"), col("amount"))
        else {
            return Err(row_err(
                1,
                format!("the header must hold member,date,code,provider,amount[,quantity]; found {names:?}"),
            ));
        };
        if let Some(extra) =
            names.iter().find(|n| !["member", "date", "code", "provider", "amount", "quantity"].contains(n))
        {
            return Err(row_err(1, format!("unknown column {extra:?}")));
        }
        let cq = col("quantity");
        let mut record = csv::ByteRecord::new();
        loop {
            let more = csv.read_byte_record(&mut record);
            if let Some(e) = quoting() {
                return Err(e);
            }
            let more = more.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(rows_read + 2);
                row_err(line, format!("malformed row: {e}"))
            })?;
            if !more {
                break;
            }
            rows_read += 1;
            let line = record.position().map(|p| p.line()).unwrap_or(rows_read + 1);
            let field = |i: usize, name: &str| -> Result<&str, DeriveError> {
                let raw = record.get(i).unwrap_or_default();
                let text = std::str::from_utf8(raw)
                    .map_err(|_| row_err(line, format!("field {name} is not valid UTF-8 (the file must be UTF-8)")))?;
                if text.len() > MAX_FIELD_BYTES && name != "amount" && name != "quantity" {
                    return Err(row_err(line, format!("field {name} is longer than {MAX_FIELD_BYTES} bytes")));
                }
                Ok(text)
            };
            let member = field(cm, "member")?;
            if member.is_empty() {
                return Err(row_err(line, "field member is empty".into()));
            }
            let month = parse_date(field(cd, "date")?, year).map_err(|w| row_err(line, w))?;
            let code = field(cc, "code")?;
            let provider = field(cp, "provider")?;
            let amount = parse_amount(field(ca, "amount")?, "amount", 2).map_err(|w| row_err(line, w))?;
            let quantity = match cq {
                Some(q) if !field(q, "quantity")?.is_empty() => {
                    parse_amount(field(q, "quantity")?, "quantity", 4).map_err(|w| row_err(line, w))?
                }
                _ => Decimal::ONE,
            };
            if quantity.is_sign_negative() {
                return Err(row_err(line, format!("quantity {quantity} is negative")));
            }
            let Some(month) = month else {
                outside_period += 1;
                continue;
            };
            if rules.membership == Membership::Enrolment && matches(&rules.enrolment_codes, code) {
                *totals.members.entry(member.as_bytes().into()).or_insert(0) |= 1 << month;
                continue;
            }
            let fenced = matches(&rules.fence.codes, code)
                && !matches(&rules.fence.exclude_codes, code)
                && (rules.fence.providers.is_empty() || matches(&rules.fence.providers, provider));
            if !fenced {
                outside_fence += 1;
                continue;
            }
            if amount.is_sign_negative() && !amount.is_zero() && !rules.fence.allow_negative {
                return Err(row_err(
                    line,
                    format!("amount {amount} is negative and the rules do not allow reversals (fence.allow_negative)"),
                ));
            }
            rows_counted += 1;
            let overflow = || DeriveError::Figure { what: format!("{file}: the sums overflow at line {line}") };
            totals.cost[month] = totals.cost[month].checked_add(amount).ok_or_else(overflow)?;
            if rules.membership == Membership::Claims {
                *totals.members.entry(member.as_bytes().into()).or_insert(0) |= 1 << month;
            }
            // A reversal (negative amount) takes its row back out of counts
            // and quantities, as it does out of the cost.
            let reversal = amount.is_sign_negative() && !amount.is_zero();
            for (i, m) in rules.metrics.iter().enumerate() {
                let add = match m.measure {
                    Measure::Count if matches(&m.codes, code) => Decimal::ONE,
                    Measure::Quantity if matches(&m.codes, code) => quantity,
                    _ => continue,
                };
                let add = if reversal { -add } else { add };
                totals.per_metric[i][month] = totals.per_metric[i][month].checked_add(add).ok_or_else(overflow)?;
            }
        }
    }
    // Drain anything the CSV reader left unread so the hash covers the file.
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| DeriveError::Io { file: file.to_string(), what: e.to_string() })?;
    Ok(Derivation {
        year,
        totals,
        file_hash: hashing.hasher.finalize().to_hex().to_string(),
        rules_hash: rules.hash(),
        rows_read,
        rows_counted,
        rows_outside_period: outside_period,
        rows_outside_fence: outside_fence,
    })
}

/// Derives from a file on disk.
pub fn derive_file(rules: &Rules, path: &Path, year: u16) -> Result<Derivation, DeriveError> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| DeriveError::Io { file: file.clone(), what: e.to_string() })?;
    derive(rules, std::io::BufReader::with_capacity(1 << 20, f), &file, year)
}

/// The granularity of the figures asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One figure for the year.
    Year,
    /// One figure per quarter.
    Quarter,
    /// One figure per month.
    Month,
}

impl Derivation {
    /// The figure of `metric` for every period of the year at `granularity`.
    pub fn figures(&self, rules: &Rules, metric: usize, granularity: Granularity) -> Result<Vec<Figure>, DeriveError> {
        let m = rules.metrics.get(metric).ok_or_else(|| DeriveError::Figure { what: format!("no metric {metric}") })?;
        let periods: Vec<(String, std::ops::Range<usize>)> = match granularity {
            Granularity::Year => vec![(self.year.to_string(), 0..12)],
            Granularity::Quarter => (0..4).map(|q| (format!("{}-Q{}", self.year, q + 1), q * 3..q * 3 + 3)).collect(),
            Granularity::Month => (0..12).map(|i| (format!("{}-{:02}", self.year, i + 1), i..i + 1)).collect(),
        };
        let t = &self.totals;
        periods
            .into_iter()
            .map(|(period, months)| {
                let mask: u16 = months.clone().fold(0, |acc, i| acc | (1 << i));
                let members = Decimal::from(t.members.values().filter(|v| **v & mask != 0).count() as u64);
                let member_months =
                    Decimal::from(t.members.values().map(|v| (v & mask).count_ones() as u64).sum::<u64>());
                let cost = months.clone().try_fold(Decimal::ZERO, |acc, i| acc.checked_add(t.cost[i]));
                let sum = months.clone().try_fold(Decimal::ZERO, |acc, i| acc.checked_add(t.per_metric[metric][i]));
                let overflow = || DeriveError::Figure { what: format!("{}: the sum overflows", m.indicator) };
                let per_member = |x: Decimal, decimals: u32| -> Result<Decimal, DeriveError> {
                    if members.is_zero() {
                        return Err(DeriveError::Figure {
                            what: format!("{} for {period}: there are no members to divide by", m.indicator),
                        });
                    }
                    Ok(x.checked_div(members)
                        .ok_or_else(overflow)?
                        .round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven))
                };
                let value = match m.measure {
                    Measure::TotalCost => cost.ok_or_else(overflow)?,
                    Measure::Members => members,
                    Measure::MemberMonths => member_months,
                    Measure::Count | Measure::Quantity if m.per_member => {
                        per_member(sum.ok_or_else(overflow)?, m.decimals)?
                    }
                    Measure::Count | Measure::Quantity => sum.ok_or_else(overflow)?,
                    Measure::CostPerMember => per_member(cost.ok_or_else(overflow)?, 2)?,
                };
                Ok(Figure { indicator: m.indicator.clone(), measure: m.measure, period, value: value.normalize() })
            })
            .collect()
    }

    /// Merges the totals of another part of the same extract (for files
    /// split in parts): additive figures add, members unite.
    pub fn merge(&mut self, other: &Derivation) -> Result<(), DeriveError> {
        let overflow = || DeriveError::Figure { what: "the sums overflow when merging".into() };
        for i in 0..12 {
            self.totals.cost[i] = self.totals.cost[i].checked_add(other.totals.cost[i]).ok_or_else(overflow)?;
            for (a, b) in self.totals.per_metric.iter_mut().zip(&other.totals.per_metric) {
                a[i] = a[i].checked_add(b[i]).ok_or_else(overflow)?;
            }
        }
        for (k, v) in &other.totals.members {
            *self.totals.members.entry(k.clone()).or_insert(0) |= v;
        }
        self.rows_read += other.rows_read;
        self.rows_counted += other.rows_counted;
        self.rows_outside_period += other.rows_outside_period;
        self.rows_outside_fence += other.rows_outside_fence;
        Ok(())
    }

    /// Distinct members seen (for reports).
    pub fn member_count(&self) -> usize {
        self.totals.members.len()
    }
}

/// Compares recorded figures with recomputed ones: `(what, recorded,
/// recomputed)` for each difference.
pub fn differences(
    recorded: &BTreeMap<String, Decimal>,
    recomputed: &BTreeMap<String, Decimal>,
) -> Vec<(String, String, String)> {
    let keys: std::collections::BTreeSet<&String> = recorded.keys().chain(recomputed.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (recorded.get(k), recomputed.get(k));
            (a != b).then(|| {
                (
                    k.clone(),
                    a.map(|v| v.to_string()).unwrap_or("-".into()),
                    b.map(|v| v.to_string()).unwrap_or("-".into()),
                )
            })
        })
        .collect()
}
