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
    members: HashMap<Box<[u8]>, u16, KeyedState>,
}

/// Random keys for the hash maps of a derivation (member ids, codes). The
/// hash is a multiply-fold over 8-byte words (as in `ahash`'s fallback and
/// `foldhash`): several times cheaper than SipHash on short ids, and keyed
/// per map from the OS's randomness, so a file cannot be built in advance
/// to make its ids collide. Only the speed of a lookup depends on it: the
/// figures are counts over the map, never its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeyedState {
    k0: u64,
    k1: u64,
}

impl Default for KeyedState {
    fn default() -> Self {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new();
        KeyedState { k0: random.hash_one(0x5eed_u64), k1: random.hash_one(0xfeed_u64) | 1 }
    }
}

impl std::hash::BuildHasher for KeyedState {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher { h: self.k0, k: self.k1 }
    }
}

/// The hasher of [`KeyedState`].
struct KeyedHasher {
    h: u64,
    k: u64,
}

/// The high and low halves of a 128-bit product, xored.
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

impl KeyedHasher {
    fn word(&mut self, w: u64) {
        self.h = fold_mul(self.h ^ w, self.k ^ 0x243f_6a88_85a3_08d3).rotate_left(23);
    }
}

impl std::hash::Hasher for KeyedHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.word(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
    }
    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }
    fn finish(&self) -> u64 {
        fold_mul(self.h, self.k ^ 0x1319_8a2e_0370_7344)
    }
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

/// Number of known columns (`member,date,code,provider,amount,quantity`).
const COLUMNS: usize = 6;

/// The columns of the claims file, from its header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    member: usize,
    date: usize,
    code: usize,
    provider: usize,
    amount: usize,
    quantity: Option<usize>,
    /// Number of columns (every record has exactly this many).
    count: usize,
}

impl Columns {
    /// Reads the header; errors name line 1 of `file`.
    fn of(headers: &csv::ByteRecord, file: &str) -> Result<Columns, DeriveError> {
        let row_err = |what: String| DeriveError::Row { file: file.to_string(), line: 1, what };
        let names: Vec<&str> = headers.iter().map(|h| std::str::from_utf8(h).unwrap_or("?")).collect();
        if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| n) {
            return Err(row_err(format!("column {dup:?} appears twice in the header")));
        }
        let col = |n: &str| names.iter().position(|h| *h == n);
        let (Some(member), Some(date), Some(code), Some(provider), Some(amount)) =
            (col("member"), col("date"), col("code"), col("provider"), col("amount"))
        else {
            return Err(row_err(format!(
                "the header must hold member,date,code,provider,amount[,quantity]; found {names:?}"
            )));
        };
        if let Some(extra) =
            names.iter().find(|n| !["member", "date", "code", "provider", "amount", "quantity"].contains(n))
        {
            return Err(row_err(format!("unknown column {extra:?}")));
        }
        Ok(Columns { member, date, code, provider, amount, quantity: col("quantity"), count: names.len() })
    }
}

/// The running result of a derivation (of a whole file, or of one part).
#[derive(Debug, Default)]
struct Acc {
    totals: Totals,
    rows_read: u64,
    rows_counted: u64,
    outside_period: u64,
    outside_fence: u64,
    /// Whether a row had an amount or quantity of [`PARALLEL_MAX_VALUE`] or
    /// more (then the parallel path leaves the file to the sequential one).
    large: bool,
    /// The sums of the rows taken by [`Acc::fast_row`], as integers, added
    /// into `totals` by [`Acc::fold_fast`].
    fast: FastSums,
}

/// Integer partial sums of the rows [`Acc::fast_row`] takes: amounts in
/// cents, counts in units, quantities in ten-thousandths. Every amount and
/// quantity it takes is below 10^13 and 10^11 (at most
/// [`FAST_AMOUNT_DIGITS`] and [`FAST_QUANTITY_DIGITS`] integer digits), so
/// a sum cannot reach the i128 limit (1.7 x 10^38) in fewer than 10^23 rows.
#[derive(Debug, Default)]
struct FastSums {
    cents: [i128; 12],
    /// Per metric index: units (count) or ten-thousandths (quantity).
    per_metric: Vec<[i128; 12]>,
    /// Code -> what it is to the rules (at most [`MAX_CACHED_NAMES`]).
    codes: HashMap<Box<[u8]>, CodeClass, KeyedState>,
    /// Provider -> inside the fence (at most [`MAX_CACHED_NAMES`]).
    providers: HashMap<Box<[u8]>, bool, KeyedState>,
}

/// Most distinct codes and providers whose class [`Acc::fast_row`]
/// remembers; further names are matched against the rules on every row.
pub const MAX_CACHED_NAMES: usize = 4096;
/// Most integer digits of an amount [`Acc::fast_row`] reads as cents
/// (longer ones go through the exact decimal reader).
pub const FAST_AMOUNT_DIGITS: usize = 13;
/// Most integer digits of a quantity [`Acc::fast_row`] reads as
/// ten-thousandths (longer ones go through the exact decimal reader).
pub const FAST_QUANTITY_DIGITS: usize = 11;

/// What a declaration code is to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CodeClass {
    /// An enrolment code (membership `enrolment`).
    enrol: bool,
    /// Inside the fence's codes (and not excluded).
    fenced: bool,
    /// Bit `i`: metric `i` (count or quantity) counts this code.
    metrics: u64,
}

impl CodeClass {
    fn of(rules: &Rules, code: &str) -> CodeClass {
        let mut metrics = 0u64;
        for (i, m) in rules.metrics.iter().enumerate() {
            if matches!(m.measure, Measure::Count | Measure::Quantity) && matches(&m.codes, code) {
                metrics |= 1 << i;
            }
        }
        CodeClass {
            enrol: rules.membership == Membership::Enrolment && matches(&rules.enrolment_codes, code),
            fenced: matches(&rules.fence.codes, code) && !matches(&rules.fence.exclude_codes, code),
            metrics,
        }
    }
}

/// `text` as an integer in units of 10^-`scale` when it is written
/// `-?[0-9]{1,int_digits}(.[0-9]{1,scale})?` (the minus only when
/// `negative` is allowed): exactly the value [`crate::domain::exact::parse_decimal`]
/// reads from such text. Anything else is `None` and goes through that
/// exact reader instead.
fn fixed_point(text: &[u8], scale: usize, int_digits: usize, negative: bool) -> Option<i64> {
    debug_assert!(scale + int_digits <= 18, "fits an i64");
    let (minus, digits) = match text.split_first() {
        Some((b'-', rest)) if negative => (true, rest),
        _ => (false, text),
    };
    let (int, frac) = match memchr::memchr(b'.', digits) {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    let dot_without_digits = frac.is_empty() && int.len() != digits.len();
    if int.is_empty() || int.len() > int_digits || frac.len() > scale || dot_without_digits {
        return None;
    }
    let mut v: i64 = 0;
    for &b in int.iter().chain(frac) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    for _ in frac.len()..scale {
        v *= 10;
    }
    Some(if minus { -v } else { v })
}

/// The year and month index of a `YYYY-MM-DD` date that is a valid
/// (proleptic Gregorian) calendar date, as [`parse_date`] accepts it;
/// `None` for anything else, which [`parse_date`] then judges.
fn plain_date(b: &[u8]) -> Option<(u16, usize)> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let mut n = [0u16; 10];
    for (i, &c) in b.iter().enumerate() {
        if i != 4 && i != 7 {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            n[i] = u16::from(d);
        }
    }
    let y = n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3];
    let (m, d) = (n[5] * 10 + n[6], n[8] * 10 + n[9]);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, usize::from(m) - 1))
}

impl Acc {
    fn new(rules: &Rules) -> Acc {
        Acc {
            totals: Totals { per_metric: vec![[Decimal::ZERO; 12]; rules.metrics.len()], ..Totals::default() },
            fast: FastSums { per_metric: vec![[0; 12]; rules.metrics.len()], ..FastSums::default() },
            ..Acc::default()
        }
    }

    /// The class of `code`, remembered for the next rows.
    fn code_class(&mut self, rules: &Rules, code: &str) -> CodeClass {
        if let Some(c) = self.fast.codes.get(code.as_bytes()) {
            return *c;
        }
        let c = CodeClass::of(rules, code);
        if self.fast.codes.len() < MAX_CACHED_NAMES {
            self.fast.codes.insert(code.as_bytes().into(), c);
        }
        c
    }

    /// Whether the fence takes `provider`, remembered for the next rows.
    fn provider_fenced(&mut self, rules: &Rules, provider: &str) -> bool {
        if rules.fence.providers.is_empty() {
            return true;
        }
        if let Some(p) = self.fast.providers.get(provider.as_bytes()) {
            return *p;
        }
        let p = matches(&rules.fence.providers, provider);
        if self.fast.providers.len() < MAX_CACHED_NAMES {
            self.fast.providers.insert(provider.as_bytes().into(), p);
        }
        p
    }

    /// Counts a record of the common shape without decimals: a member of 1
    /// to [`MAX_FIELD_BYTES`] bytes, a valid `YYYY-MM-DD` date, code and
    /// provider of at most [`MAX_FIELD_BYTES`] bytes, an amount of at most
    /// two decimals and [`FAST_AMOUNT_DIGITS`] integer digits, a quantity
    /// (if any) of at most four decimals and [`FAST_QUANTITY_DIGITS`]
    /// integer digits, and (when the rules refuse reversals) not a
    /// negative amount inside the fence. Such a record is valid and counts
    /// exactly as [`Acc::row_of`] counts it; `false` (nothing counted) for
    /// any other record, which the caller gives to [`Acc::row_of`].
    fn fast_row(&mut self, rules: &Rules, cols: &Columns, fields: &[&str], year: u16) -> bool {
        let member = fields[cols.member];
        let (code, provider) = (fields[cols.code], fields[cols.provider]);
        if member.is_empty() || [member, code, provider].iter().any(|f| f.len() > MAX_FIELD_BYTES) {
            return false;
        }
        let Some((y, month)) = plain_date(fields[cols.date].as_bytes()) else { return false };
        let Some(cents) = fixed_point(fields[cols.amount].as_bytes(), 2, FAST_AMOUNT_DIGITS, true) else {
            return false;
        };
        let quantity = match cols.quantity.map(|q| fields[q]) {
            Some(q) if !q.is_empty() => match fixed_point(q.as_bytes(), 4, FAST_QUANTITY_DIGITS, false) {
                Some(q) => q,
                None => return false,
            },
            _ => 10_000,
        };
        if y != year {
            self.rows_read += 1;
            self.outside_period += 1;
            return true;
        }
        let class = self.code_class(rules, code);
        if class.enrol {
            self.rows_read += 1;
            self.mark(member, month);
            return true;
        }
        if !class.fenced || !self.provider_fenced(rules, provider) {
            self.rows_read += 1;
            self.outside_fence += 1;
            return true;
        }
        if cents < 0 && !rules.fence.allow_negative {
            return false; // refused: row_of names the line
        }
        self.rows_read += 1;
        self.rows_counted += 1;
        self.fast.cents[month] += i128::from(cents);
        if rules.membership == Membership::Claims {
            self.mark(member, month);
        }
        let mut metrics = class.metrics;
        while metrics != 0 {
            let i = metrics.trailing_zeros() as usize;
            metrics &= metrics - 1;
            let add = match rules.metrics[i].measure {
                Measure::Quantity => i128::from(quantity),
                _ => 1,
            };
            // A reversal takes its row back out, as in `row_of`.
            self.fast.per_metric[i][month] += if cents < 0 { -add } else { add };
        }
        true
    }

    /// Adds the integer sums of [`Acc::fast_row`] into the exact totals
    /// and clears them; `None` if a total overflows.
    fn fold_fast(&mut self, rules: &Rules) -> Option<()> {
        let exact = |v: i128, scale: u32| Decimal::try_from_i128_with_scale(v, scale).ok();
        for month in 0..12 {
            let cents = std::mem::take(&mut self.fast.cents[month]);
            self.totals.cost[month] = self.totals.cost[month].checked_add(exact(cents, 2)?)?;
            for (i, m) in rules.metrics.iter().enumerate() {
                let scale = if m.measure == Measure::Quantity { 4 } else { 0 };
                let v = std::mem::take(&mut self.fast.per_metric[i][month]);
                self.totals.per_metric[i][month] = self.totals.per_metric[i][month].checked_add(exact(v, scale)?)?;
            }
        }
        Some(())
    }

    /// Sets bit `month` of `member` (no allocation for a member seen before).
    fn mark(&mut self, member: &str, month: usize) {
        match self.totals.members.get_mut(member.as_bytes()) {
            Some(mask) => *mask |= 1 << month,
            None => {
                self.totals.members.insert(member.as_bytes().into(), 1 << month);
            }
        }
    }

    /// Counts one data record (at `line` of `file`, for errors).
    fn row(
        &mut self,
        rules: &Rules,
        cols: &Columns,
        record: &csv::ByteRecord,
        year: u16,
        file: &str,
        line: u64,
    ) -> Result<(), DeriveError> {
        let text = |i: usize| std::str::from_utf8(record.get(i).unwrap_or_default()).ok();
        self.row_of(rules, cols, text, year, file, line)
    }

    /// Counts one data record whose field `i` is `text(i)` (`None`: not
    /// valid UTF-8).
    fn row_of<'r>(
        &mut self,
        rules: &Rules,
        cols: &Columns,
        text: impl Fn(usize) -> Option<&'r str>,
        year: u16,
        file: &str,
        line: u64,
    ) -> Result<(), DeriveError> {
        let row_err = |what: String| DeriveError::Row { file: file.to_string(), line, what };
        self.rows_read += 1;
        let field = |i: usize, name: &str| -> Result<&str, DeriveError> {
            let text =
                text(i).ok_or_else(|| row_err(format!("field {name} is not valid UTF-8 (the file must be UTF-8)")))?;
            if text.len() > MAX_FIELD_BYTES && name != "amount" && name != "quantity" {
                return Err(row_err(format!("field {name} is longer than {MAX_FIELD_BYTES} bytes")));
            }
            Ok(text)
        };
        let member = field(cols.member, "member")?;
        if member.is_empty() {
            return Err(row_err("field member is empty".into()));
        }
        let month = parse_date(field(cols.date, "date")?, year).map_err(row_err)?;
        let code = field(cols.code, "code")?;
        let provider = field(cols.provider, "provider")?;
        let amount = parse_amount(field(cols.amount, "amount")?, "amount", 2).map_err(row_err)?;
        let quantity = match cols.quantity {
            Some(q) if !field(q, "quantity")?.is_empty() => {
                parse_amount(field(q, "quantity")?, "quantity", 4).map_err(row_err)?
            }
            _ => Decimal::ONE,
        };
        if quantity.is_sign_negative() {
            return Err(row_err(format!("quantity {quantity} is negative")));
        }
        let Some(month) = month else {
            self.outside_period += 1;
            return Ok(());
        };
        if rules.membership == Membership::Enrolment && matches(&rules.enrolment_codes, code) {
            self.mark(member, month);
            return Ok(());
        }
        let fenced = matches(&rules.fence.codes, code)
            && !matches(&rules.fence.exclude_codes, code)
            && (rules.fence.providers.is_empty() || matches(&rules.fence.providers, provider));
        if !fenced {
            self.outside_fence += 1;
            return Ok(());
        }
        if amount.is_sign_negative() && !amount.is_zero() && !rules.fence.allow_negative {
            return Err(row_err(format!(
                "amount {amount} is negative and the rules do not allow reversals (fence.allow_negative)"
            )));
        }
        let limit = Decimal::from(PARALLEL_MAX_VALUE);
        if amount.abs() >= limit || quantity >= limit {
            self.large = true;
        }
        self.rows_counted += 1;
        let overflow = || DeriveError::Figure { what: format!("{file}: the sums overflow at line {line}") };
        self.totals.cost[month] = self.totals.cost[month].checked_add(amount).ok_or_else(overflow)?;
        if rules.membership == Membership::Claims {
            self.mark(member, month);
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
            self.totals.per_metric[i][month] =
                self.totals.per_metric[i][month].checked_add(add).ok_or_else(overflow)?;
        }
        Ok(())
    }

    /// Counts the records of a part that [`plain_text`] accepted, split at
    /// its line ends and commas (what the CSV reader does with such text:
    /// no quotes, no carriage returns, empty lines skipped). `false` when
    /// a record has another number of fields than the header or a row is
    /// refused (the file is then left to [`derive`], which names the line).
    /// Records of the common shape go through [`Acc::fast_row`], others
    /// through [`Acc::row_of`]; the part's integer sums are folded into the
    /// exact totals at its end.
    fn plain_rows(&mut self, rules: &Rules, cols: &Columns, plain: &str, year: u16, file: &str) -> bool {
        assert!(cols.count <= COLUMNS, "Columns::of admits only the {COLUMNS} known columns, once each");
        let bytes = plain.as_bytes();
        let mut fields: [&str; COLUMNS + 1] = [""; COLUMNS + 1];
        let mut start = 0;
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let Some(line) = plain.get(start..end) else { return false };
            start = end + 1;
            if line.is_empty() {
                continue;
            }
            let mut n = 0;
            let mut from = 0;
            for comma in memchr::memchr_iter(b',', line.as_bytes()).chain([line.len()]) {
                if n > cols.count {
                    break;
                }
                // Commas and line ends are ASCII, hence char boundaries.
                let Some(field) = line.get(from..comma) else { return false };
                fields[n] = field;
                n += 1;
                from = comma + 1;
            }
            if n != cols.count {
                return false;
            }
            let fields = &fields[..n];
            if !self.fast_row(rules, cols, fields, year) {
                let got = |i: usize| fields.get(i).copied();
                if self.row_of(rules, cols, got, year, file, 0).is_err() {
                    return false;
                }
            }
        }
        self.fold_fast(rules).is_some()
    }

    /// Adds another part's result (sums add, members unite).
    fn absorb(&mut self, other: Acc) -> Option<()> {
        assert_eq!(self.totals.per_metric.len(), other.totals.per_metric.len(), "parts of one derivation");
        for i in 0..12 {
            self.totals.cost[i] = self.totals.cost[i].checked_add(other.totals.cost[i])?;
            for (a, b) in self.totals.per_metric.iter_mut().zip(&other.totals.per_metric) {
                a[i] = a[i].checked_add(b[i])?;
            }
        }
        let mut members = other.totals.members;
        if self.totals.members.len() < members.len() {
            std::mem::swap(&mut self.totals.members, &mut members);
        }
        for (k, v) in members {
            *self.totals.members.entry(k).or_insert(0) |= v;
        }
        self.rows_read += other.rows_read;
        self.rows_counted += other.rows_counted;
        self.outside_period += other.outside_period;
        self.outside_fence += other.outside_fence;
        self.large |= other.large;
        Some(())
    }
}

/// Derives the rules' metrics for `year` from a claims file read from
/// `reader`; `file` names it in errors. One thread; [`derive_file`] splits a
/// file on disk over the cores and gives the same result.
pub fn derive(rules: &Rules, reader: impl Read, file: &str, year: u16) -> Result<Derivation, DeriveError> {
    let bad_quoting = std::cell::RefCell::new(None);
    let mut hashing = HashingReader {
        inner: reader,
        hasher: blake3::Hasher::new(),
        quotes: crate::domain::csv_strict::QuoteCheck::new(),
        bad: &bad_quoting,
    };
    let mut acc = Acc::new(rules);
    {
        let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(&mut hashing);
        let row_err = |line: u64, what: String| DeriveError::Row { file: file.to_string(), line, what };
        // Bytes are checked as they are read, ahead of the records parsed
        // from them: a quoting problem is reported before those records.
        let quoting = || bad_quoting.borrow_mut().take().map(|e| row_err(e.line, e.what));
        let headers = csv.byte_headers().map_err(|e| row_err(1, e.to_string()))?.clone();
        let cols = Columns::of(&headers, file)?;
        let mut record = csv::ByteRecord::new();
        loop {
            let more = csv.read_byte_record(&mut record);
            if let Some(e) = quoting() {
                return Err(e);
            }
            let more = more.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(acc.rows_read + 2);
                row_err(line, format!("malformed row: {e}"))
            })?;
            if !more {
                break;
            }
            let line = record.position().map(|p| p.line()).unwrap_or(acc.rows_read + 2);
            acc.row(rules, &cols, &record, year, file, line)?;
        }
    }
    // Drain anything the CSV reader left unread so the hash covers the file.
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| DeriveError::Io { file: file.to_string(), what: e.to_string() })?;
    Ok(Derivation {
        year,
        totals: acc.totals,
        file_hash: hashing.hasher.finalize().to_hex().to_string(),
        rules_hash: rules.hash(),
        rows_read: acc.rows_read,
        rows_counted: acc.rows_counted,
        rows_outside_period: acc.outside_period,
        rows_outside_fence: acc.outside_fence,
    })
}

/// Bytes read at a time by [`derive_file`] (each read is cut at its last
/// line end outside quotes and handed to a worker).
pub const PARALLEL_BLOCK_BYTES: usize = 8 << 20;

/// Longest stretch [`derive_file`] looks through for a line end outside
/// quotes before it leaves the file to the one-thread reader.
pub const PARALLEL_MAX_PART_BYTES: usize = 64 << 20;

/// Amounts and quantities below this (in absolute value), in a file of
/// fewer than [`PARALLEL_MAX_ROWS`] rows, keep every partial sum exact and
/// far from overflow whatever the order of the rows; a file with a larger
/// one is left to the one-thread reader, which reports an overflow at the
/// line where its running sum overflows.
pub const PARALLEL_MAX_VALUE: i64 = 1_000_000_000_000_000;

/// See [`PARALLEL_MAX_VALUE`].
pub const PARALLEL_MAX_ROWS: u64 = 1_000_000_000;

/// Most worker threads [`derive_file`] starts.
pub const MAX_DERIVE_THREADS: usize = 64;

/// Derives from a file on disk, on every core ([`derive_file_with`] with
/// the number of cores and [`PARALLEL_BLOCK_BYTES`]).
pub fn derive_file(rules: &Rules, path: &Path, year: u16) -> Result<Derivation, DeriveError> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    derive_file_with(rules, path, year, threads, PARALLEL_BLOCK_BYTES)
}

fn io_err(file: &str, e: std::io::Error) -> DeriveError {
    DeriveError::Io { file: file.to_string(), what: e.to_string() }
}

/// Derives from a file on disk with `threads` workers, reading `block`
/// bytes at a time. The result is the one [`derive`] gives for the same
/// bytes, error for error:
///
/// * one thread reads the file in order, hashes it and checks its quoting,
///   and cuts each block at its last line end outside quotes (the quote
///   count before a line end is even exactly when the line end ends a
///   record, in a file whose quoting passes the check);
/// * the workers parse the parts and add up their rows; the parts' sums
///   and member sets are merged (sums of exact decimals and unions do not
///   depend on where the file is cut or in what order parts finish);
/// * anything this path cannot vouch for, any error in any part, a
///   quoting problem, a record with a different number of fields, a value
///   of [`PARALLEL_MAX_VALUE`] or more, no line end within
///   [`PARALLEL_MAX_PART_BYTES`], is left to [`derive`] on the whole file,
///   which reports the first error in file order with its line exactly as
///   before (an error costs a second read of the file).
///
/// Memory: at most about `2 x threads + 2` blocks in flight plus the
/// members (per worker, merged at the end).
pub fn derive_file_with(
    rules: &Rules,
    path: &Path,
    year: u16,
    threads: usize,
    block: usize,
) -> Result<Derivation, DeriveError> {
    let file = path.display().to_string();
    let threads = threads.clamp(1, MAX_DERIVE_THREADS);
    let block = block.max(1);
    let sequential = || -> Result<Derivation, DeriveError> {
        let f = std::fs::File::open(path).map_err(|e| io_err(&file, e))?;
        derive(rules, std::io::BufReader::with_capacity(1 << 20, f), &file, year)
    };
    if threads == 1 {
        return sequential();
    }
    let f = std::fs::File::open(path).map_err(|e| io_err(&file, e))?;
    match derive_parts(rules, f, &file, year, threads, block)? {
        Some(d) => Ok(d),
        None => sequential(),
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The end (exclusive) of the last record that ends in `part` on a line end
/// outside quotes; `part` starts outside quotes.
fn last_record_end(part: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', part).is_none() {
        return memchr::memrchr(b'\n', part).map(|i| i + 1);
    }
    let mut odd = memchr::memchr_iter(b'"', part).count() % 2 == 1;
    for i in (0..part.len()).rev() {
        match part[i] {
            b'\n' if !odd => return Some(i + 1),
            b'"' => odd = !odd,
            _ => {}
        }
    }
    None
}

/// A part of whole records as text when the CSV reader's rules reduce to
/// splitting at line ends and commas: valid UTF-8 without quotes and
/// without carriage returns (the CSV reader also ends a record at `\r`).
/// Any other part goes through the CSV reader.
fn plain_text(part: &[u8]) -> Option<&str> {
    if memchr::memchr2(b'"', b'\r', part).is_some() {
        return None;
    }
    std::str::from_utf8(part).ok()
}

/// What the reader of [`derive_parts`] hands on next.
enum Part {
    /// Whole records (the last part may end without a line end).
    Data(Vec<u8>),
    /// The file is read.
    End,
    /// No line end outside quotes within [`PARALLEL_MAX_PART_BYTES`].
    TooLong,
}

/// The parallel path of [`derive_file_with`]: `Ok(None)` leaves the file to
/// [`derive`].
fn derive_parts(
    rules: &Rules,
    mut input: std::fs::File,
    file: &str,
    year: u16,
    threads: usize,
    block: usize,
) -> Result<Option<Derivation>, DeriveError> {
    use std::sync::mpsc;
    let mut hasher = blake3::Hasher::new();
    let mut quotes = crate::domain::csv_strict::QuoteCheck::new();
    let mut quoting_ok = true;
    // Reads the next part: everything up to the last record end of what is
    // read (all of it at the end of the file). None at the end.
    let mut carry: Vec<u8> = Vec::new();
    let mut done = false;
    let mut next_part = |carry: &mut Vec<u8>| -> Result<Part, DeriveError> {
        loop {
            if done {
                return Ok(if carry.is_empty() { Part::End } else { Part::Data(std::mem::take(carry)) });
            }
            let mut part = std::mem::take(carry);
            let old = part.len();
            part.resize(old + block, 0);
            let n = read_full(&mut input, &mut part[old..]).map_err(|e| io_err(file, e))?;
            part.truncate(old + n);
            hasher.update(&part[old..]);
            if quoting_ok {
                quoting_ok = quotes.feed(&part[old..]).is_ok();
            }
            if n < block {
                done = true;
                quoting_ok = quoting_ok && quotes.finish().is_ok();
                return Ok(if part.is_empty() { Part::End } else { Part::Data(part) });
            }
            match last_record_end(&part) {
                Some(end) => {
                    *carry = part.split_off(end);
                    return Ok(Part::Data(part));
                }
                None if part.len() > PARALLEL_MAX_PART_BYTES => return Ok(Part::TooLong),
                None => *carry = part,
            }
        }
    };
    // The header, from the first part.
    let first = match next_part(&mut carry)? {
        Part::Data(p) => p,
        Part::End | Part::TooLong => return Ok(None),
    };
    let (cols, data_start) = {
        let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(first.as_slice());
        let Ok(headers) = csv.byte_headers() else { return Ok(None) };
        let Ok(cols) = Columns::of(headers, file) else { return Ok(None) };
        (cols, csv.position().byte() as usize)
    };
    if data_start == 0 || data_start > first.len() {
        return Ok(None);
    }
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(threads);
    let rx = std::sync::Mutex::new(rx);
    let outcome = std::thread::scope(|scope| -> Result<Option<Acc>, DeriveError> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                scope.spawn(move || -> Option<Acc> {
                    let mut acc = Acc::new(rules);
                    let mut ok = true;
                    let mut record = csv::ByteRecord::new();
                    loop {
                        let part = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return None,
                        };
                        let Ok(part) = part else { break };
                        if !ok {
                            continue; // keep taking parts so the reader never waits
                        }
                        if let Some(plain) = plain_text(&part) {
                            ok = acc.plain_rows(rules, &cols, plain, year, file);
                            continue;
                        }
                        let mut csv =
                            csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(part.as_slice());
                        loop {
                            match csv.read_byte_record(&mut record) {
                                Ok(true) if record.len() == cols.count => {
                                    if acc.row(rules, &cols, &record, year, file, 0).is_err() {
                                        ok = false;
                                        break;
                                    }
                                }
                                Ok(false) => break,
                                _ => {
                                    ok = false;
                                    break;
                                }
                            }
                        }
                    }
                    ok.then_some(acc)
                })
            })
            .collect();
        let send = |part: Vec<u8>| tx.send(part).is_ok();
        let mut ok = send(first[data_start..].to_vec());
        drop(first);
        let mut read_error = None;
        while ok {
            match next_part(&mut carry) {
                Ok(Part::Data(p)) => ok = send(p),
                Ok(Part::End) => break,
                Ok(Part::TooLong) => ok = false,
                Err(e) => {
                    read_error = Some(e);
                    ok = false;
                }
            }
        }
        drop(tx);
        let mut total: Option<Acc> = None;
        for w in workers {
            match (w.join().ok().flatten(), total.as_mut()) {
                (Some(acc), None) => total = Some(acc),
                (Some(acc), Some(t)) => {
                    if t.absorb(acc).is_none() {
                        ok = false;
                    }
                }
                (None, _) => ok = false,
            }
        }
        if let Some(e) = read_error {
            return Err(e);
        }
        Ok(total.filter(|_| ok))
    })?;
    let Some(acc) = outcome else { return Ok(None) };
    if !quoting_ok || acc.large || acc.rows_read >= PARALLEL_MAX_ROWS {
        return Ok(None);
    }
    Ok(Some(Derivation {
        year,
        totals: acc.totals,
        file_hash: hasher.finalize().to_hex().to_string(),
        rules_hash: rules.hash(),
        rows_read: acc.rows_read,
        rows_counted: acc.rows_counted,
        rows_outside_period: acc.outside_period,
        rows_outside_fence: acc.outside_fence,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The parallel path itself (not the one-thread fallback) reads a good
    /// file, cut in small blocks, to the one-thread result; a file with an
    /// error is left to the one-thread reader.
    /// Parts without quotes or carriage returns are split at line ends and
    /// commas without the CSV reader; they count exactly what the CSV
    /// reader counts (empty lines skipped, a last record without a line
    /// end), and a record with another number of fields, or text that is
    /// not UTF-8, is not taken on this path.
    #[test]
    fn plain_parts_are_split_as_the_csv_reader_splits_them() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let rules = Rules::from_file(&root.join("examples/data/rules-copd.toml")).unwrap();
        let text = std::fs::read_to_string(root.join("examples/data/claims-copd-2027.csv")).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines.remove(0);
        assert!(!text.contains('"') && !text.contains('\r'), "the example is plain text");
        // Empty lines between records and no line end after the last one.
        let body =
            lines.iter().enumerate().map(|(i, l)| if i % 5 == 0 { format!("{l}\n\n") } else { format!("{l}\n") });
        let odd = format!("{header}\n\n{}", body.collect::<String>().trim_end());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd.csv");
        std::fs::write(&path, &odd).unwrap();
        let one = derive(&rules, odd.as_bytes(), "odd.csv", 2027).unwrap();
        assert_eq!(one.rows_read, lines.len() as u64);
        for block in [50, 333, 1 << 20] {
            let parts = derive_parts(&rules, std::fs::File::open(&path).unwrap(), "odd.csv", 2027, 2, block).unwrap();
            assert_eq!(parts.as_ref(), Some(&one), "block {block}");
        }
        let cols = Columns::of(&csv::ByteRecord::from(header.split(',').collect::<Vec<_>>()), "x").unwrap();
        let mut acc = Acc::new(&rules);
        assert!(acc.plain_rows(&rules, &cols, &lines[..3].join("\n"), 2027, "x"));
        assert_eq!(acc.rows_read, 3);
        let extra = format!("{},extra", lines[0]);
        assert!(!Acc::new(&rules).plain_rows(&rules, &cols, &extra, 2027, "x"));
        let short = lines[0].rsplit_once(',').unwrap().0.to_string();
        assert!(!Acc::new(&rules).plain_rows(&rules, &cols, &short, 2027, "x"));
        assert_eq!(plain_text(b"a,b\r\n"), None);
        assert_eq!(plain_text(b"a,\"b\"\n"), None);
        assert_eq!(plain_text(b"a,\xff\n"), None);
        assert_eq!(plain_text(b"a,b\n"), Some("a,b\n"));
    }

    /// The fast date reader accepts exactly the valid dates, with the
    /// month `parse_date` gives, leap years included.
    #[test]
    fn plain_dates_are_the_dates_parse_date_accepts() {
        for y in [0u16, 1, 4, 100, 1900, 2000, 2023, 2024, 2027, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let text = format!("{y:04}-{m:02}-{d:02}");
                    match plain_date(text.as_bytes()) {
                        Some((yy, month)) => {
                            assert_eq!(yy, y, "{text}");
                            assert_eq!(parse_date(&text, y), Ok(Some(month)), "{text}");
                        }
                        None => assert!(parse_date(&text, y).is_err(), "{text} is valid"),
                    }
                }
            }
        }
        for odd in ["2027-1-01", "2027-01-1 ", "2027/01/01", "+027-01-01", "2027-0a-01", "", "20270101xx"] {
            assert_eq!(plain_date(odd.as_bytes()), None, "{odd}");
        }
    }

    /// Every text the integer reader takes is read by the exact decimal
    /// reader to the same value; every text it leaves is either refused
    /// by that reader or has more digits than it takes.
    #[test]
    fn fixed_point_reads_what_the_exact_reader_reads() {
        let alphabet = ['-', '0', '1', '9', '.', '5'];
        let mut texts = vec![String::new()];
        for len in 1..=6 {
            let mut idx = vec![0usize; len];
            loop {
                texts.push(idx.iter().map(|i| alphabet[*i]).collect());
                let Some(pos) = idx.iter().rposition(|i| *i + 1 < alphabet.len()) else { break };
                idx[pos] += 1;
                idx[pos + 1..].iter_mut().for_each(|i| *i = 0);
            }
        }
        texts.extend(
            ["9999999999999.99", "-9999999999999.99", "10000000000000", "0000000000000.5", "99999999999.9999"]
                .map(String::from),
        );
        let mut taken = 0;
        for t in &texts {
            for (scale, digits, negative) in [(2, FAST_AMOUNT_DIGITS, true), (4, FAST_QUANTITY_DIGITS, false)] {
                let exact = crate::domain::exact::parse_decimal(t);
                match fixed_point(t.as_bytes(), scale, digits, negative) {
                    Some(v) => {
                        taken += 1;
                        let d = exact.unwrap_or_else(|e| panic!("{t:?} taken but refused: {e}"));
                        assert_eq!(d, Decimal::new(v, scale as u32), "{t:?}");
                        assert!(d.scale() as usize <= scale && (negative || !d.is_sign_negative()), "{t:?}");
                    }
                    None => {
                        if let Ok(d) = exact {
                            let int_digits = t.trim_start_matches('-').split('.').next().unwrap_or("").len();
                            let sign_refused = !negative && t.starts_with('-');
                            assert!(
                                d.scale() as usize > scale || int_digits > digits || sign_refused,
                                "{t:?} (scale {scale}) left to the exact reader for no reason"
                            );
                        }
                    }
                }
            }
        }
        assert!(taken > 1000, "the integer reader takes the common texts ({taken})");
        assert_eq!(fixed_point(b"9999999999999.99", 2, FAST_AMOUNT_DIGITS, true), Some(999_999_999_999_999));
        assert_eq!(fixed_point(b"10000000000000", 2, FAST_AMOUNT_DIGITS, true), None);
        assert_eq!(fixed_point(b"-0.00", 2, FAST_AMOUNT_DIGITS, true), Some(0));
    }

    /// Rows of the common shape (integer path) and unusual ones (exact
    /// decimal path: an amount of 16 digits, a quantity of 4 decimals
    /// with its integer part, a reversal) count exactly as the one-thread
    /// reader counts them, whichever path each row takes.
    #[test]
    fn fast_and_exact_rows_count_alike() {
        let rules = Rules::parse(
            "r.toml",
            "membership = \"claims\"\n[fence]\ncodes = [\"*\"]\nexclude_codes = [\"X*\"]\nproviders = [\"zh*\"]\n\
             allow_negative = true\n[[metric]]\nindicator = \"cost\"\nmeasure = \"total_cost\"\n\
             [[metric]]\nindicator = \"n\"\nmeasure = \"count\"\ncodes = [\"A*\"]\n\
             [[metric]]\nindicator = \"q\"\nmeasure = \"quantity\"\ncodes = [\"B\"]\n",
        )
        .unwrap();
        let rows = [
            "m1,2027-01-05,A1,zh,32.50,1",
            "m2,2027-02-29,A1,zh,1.00,1", // not a date: left to the exact path, refused
            "m2,2027-02-28,B,zh-2,1234567890123456.5,2.5",
            "m3,2027-03-01,B,zh,-7,0.0001",
            "m3,2027-03-01,A2,zh,-7.1,",
            "m4,2026-12-31,A1,zh,1.00,1",
            "m5,2027-12-31,XA,zh,1.00,1",
            "m6,2027-06-30,A1,elders,1.00,1",
            "m7,2027-07-07,B,zh,007.05,0012.3400",
        ];
        let header = "member,date,code,provider,amount,quantity";
        let good: Vec<&str> = rows.iter().copied().filter(|r| !r.contains("02-29")).collect();
        let text = format!("{header}\n{}\n", good.join("\n"));
        let one = derive(&rules, text.as_bytes(), "x", 2027).unwrap();
        let cols = Columns::of(&csv::ByteRecord::from(header.split(',').collect::<Vec<_>>()), "x").unwrap();
        let mut acc = Acc::new(&rules);
        assert!(acc.plain_rows(&rules, &cols, &good.join("\n"), 2027, "x"));
        assert_eq!(acc.totals, one.totals);
        assert_eq!(
            (acc.rows_read, acc.rows_counted, acc.outside_period, acc.outside_fence),
            (one.rows_read, one.rows_counted, one.rows_outside_period, one.rows_outside_fence)
        );
        assert!(acc.large, "the 16-digit amount marks the part as large");
        assert!(!Acc::new(&rules).plain_rows(&rules, &cols, &rows.join("\n"), 2027, "x"));
    }

    #[test]
    fn the_parallel_path_runs_on_a_good_file_and_steps_aside_on_a_bad_one() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let rules = Rules::from_file(&root.join("examples/data/rules-copd.toml")).unwrap();
        let path = root.join("examples/data/claims-copd-2027.csv");
        let name = path.display().to_string();
        let one = derive(&rules, std::fs::File::open(&path).unwrap(), &name, 2027).unwrap();
        for (threads, block) in [(2, 1000), (3, 64), (2, 1 << 20)] {
            let f = std::fs::File::open(&path).unwrap();
            let parts = derive_parts(&rules, f, &name, 2027, threads, block).unwrap();
            assert_eq!(parts.as_ref(), Some(&one), "threads {threads}, block {block}");
        }
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.csv");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("x,2027-02-30,GP-CONSULT,huisartsen,1.00,1\n");
        std::fs::write(&bad, &text).unwrap();
        let f = std::fs::File::open(&bad).unwrap();
        assert_eq!(derive_parts(&rules, f, "bad.csv", 2027, 2, 1000).unwrap(), None);
    }
}
