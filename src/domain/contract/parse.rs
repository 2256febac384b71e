//! Reading a contract TOML file into the model.
//!
//! The reader walks the `toml_edit` document, which keeps the byte span of
//! every key and value, so each problem is reported at its line and column.
//! Numbers are built from their source text, never through a binary float. Every
//! table states the keys it allows; any other key is an error (with a "did
//! you mean" suggestion when one is close). Problems are collected, never
//! returned early, so one run reports everything it can.

use std::collections::BTreeMap;
use std::ops::Range;

use rust_decimal::Decimal;
use toml_edit::{ImDocument, Item, TableLike, Value};

use super::choice::Choice;
use super::diagnostic::{Diagnostic, Pos, Reporter, Spans};
use super::model::*;

/// Largest contract file read, in bytes.
pub const MAX_FILE_BYTES: usize = 1 << 20;
// The limits live with validation (which every path runs); the reader
// applies the same ones to report them at their line and column.
use super::validate::{MAX_CONTRACT_ID, MAX_ID, MAX_POPULATION, MAX_YEAR, MIN_YEAR};
pub use super::validate::{MAX_INDICATORS, MAX_LIST, MAX_PARTIES, MAX_TEXT};

/// What a decimal field holds; decides the accepted forms and checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Num {
    /// Money: not negative, at most two decimals; no `%`.
    Money,
    /// A rate or share: may be written `"2.5%"`; range checked by validation.
    Rate,
    /// Any other exact number (targets, thresholds, quantities); no `%`.
    Plain,
}

/// The parse state: the source, the problems so far and the spans seen.
pub(crate) struct Parser<'s> {
    text: &'s str,
    r: Reporter<'s>,
    pub spans: Spans,
    /// The contract's funding streams, read before any `funding` field.
    streams: Vec<Funding>,
}

/// A table being read: its path, position, allowed keys and keys seen.
struct Tbl<'d> {
    path: String,
    at: Pos,
    table: &'d dyn TableLike,
    allowed: Vec<&'static str>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Levenshtein distance, for "did you mean" (inputs are short keys).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let v = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest allowed word to `word`, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() > 64 {
        return None;
    }
    let len = word.chars().count();
    let limit = (len / 3).clamp(2, 3);
    allowed.iter().map(|a| (distance(word, a), *a)).filter(|(d, _)| *d <= limit && *d < len).min().map(|(_, a)| a)
}

fn valid_id(id: &str) -> bool {
    valid_id_len(id, MAX_ID)
}

pub(crate) fn valid_id_len(id: &str, max: usize) -> bool {
    super::validate::valid_id(id, max)
}

/// Parses a contract from TOML text. `file` is used in diagnostics only.
pub(crate) fn parse(file: &str, text: &str) -> (Option<Contract>, Vec<Diagnostic>, Spans) {
    let mut p = Parser { text, r: Reporter::new(file, text), spans: Spans::new(), streams: Funding::dutch_streams() };
    if text.len() > MAX_FILE_BYTES {
        p.err(Pos::START, "", format!("file is larger than {MAX_FILE_BYTES} bytes"));
        return (None, p.r.diags, p.spans);
    }
    let doc = match ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = p.r.pos(e.span(), Pos::START);
            let flat: Vec<&str> = e.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let message = format!("not valid TOML: {}", flat.join("; "));
            p.err(at, "", message);
            return (None, p.r.diags, p.spans);
        }
    };
    let contract = p.contract(doc.as_table());
    (Some(contract), p.r.diags, p.spans)
}

impl<'s> Parser<'s> {
    fn err(&mut self, at: Pos, field: &str, message: impl Into<String>) {
        self.r.err(at, field, message)
    }

    fn pos_of(&self, span: Option<Range<usize>>, fallback: Pos) -> Pos {
        self.r.pos(span, fallback)
    }

    fn item_pos(&self, item: &Item, fallback: Pos) -> Pos {
        self.r.item_pos(item, fallback)
    }

    fn tbl<'d>(&mut self, path: &str, at: Pos, table: &'d dyn TableLike, allowed: &[&'static str]) -> Tbl<'d> {
        self.spans.entry(path.to_string()).or_insert(at);
        Tbl { path: path.to_string(), at, table, allowed: allowed.to_vec() }
    }

    /// Reports every key of `t` that is not allowed.
    fn finish(&mut self, t: &Tbl<'_>) {
        let keys: Vec<String> = t.table.iter().map(|(k, _)| k.to_string()).collect();
        for key in keys {
            if t.allowed.contains(&key.as_str()) {
                continue;
            }
            let at = match t.table.get_key_value(&key) {
                Some((k, _)) => self.pos_of(k.span(), t.at),
                None => t.at,
            };
            let message = match suggest(&key, &t.allowed) {
                Some(s) => format!("unknown field (did you mean \"{s}\"?)"),
                None => format!("unknown field (allowed here: {})", t.allowed.join(", ")),
            };
            self.err(at, &join(&t.path, &key), message);
        }
    }

    /// The item under `key`, with its path and position, if present.
    fn get<'d>(&mut self, t: &Tbl<'d>, key: &str) -> Option<(&'d Item, String, Pos)> {
        let item = t.table.get(key)?;
        if item.is_none() {
            return None;
        }
        let path = join(&t.path, key);
        let key_pos = match t.table.get_key_value(key) {
            Some((k, _)) => self.pos_of(k.span(), t.at),
            None => t.at,
        };
        let at = self.item_pos(item, key_pos);
        self.spans.insert(path.clone(), at);
        Some((item, path, at))
    }

    fn missing(&mut self, t: &Tbl<'_>, key: &str) {
        let path = join(&t.path, key);
        self.err(t.at, &path, "missing required field");
    }

    // ----- scalar readers on values -----

    fn as_str(&mut self, v: &Value, path: &str, at: Pos) -> Option<String> {
        match v {
            Value::String(s) => {
                let s = s.value().to_string();
                if s.chars().count() > MAX_TEXT {
                    self.err(at, path, format!("longer than {MAX_TEXT} characters"));
                    return None;
                }
                Some(s)
            }
            _ => {
                self.err(at, path, format!("expected a string, found {}", value_kind(v)));
                None
            }
        }
    }

    fn as_id(&mut self, v: &Value, path: &str, at: Pos) -> Option<String> {
        let s = self.as_str(v, path, at)?;
        if !valid_id(&s) {
            self.err(at, path, format!("\"{s}\" is not a valid id (1 to 32 of a-z, 0-9 and -)"));
            return None;
        }
        Some(s)
    }

    fn as_int(&mut self, v: &Value, path: &str, at: Pos, min: i64, max: i64) -> Option<i64> {
        match v {
            Value::Integer(i) => {
                let n = *i.value();
                if n < min || n > max {
                    self.err(at, path, format!("must be between {min} and {max}, found {n}"));
                    return None;
                }
                Some(n)
            }
            _ => {
                self.err(at, path, format!("expected an integer, found {}", value_kind(v)));
                None
            }
        }
    }

    fn as_year(&mut self, v: &Value, path: &str, at: Pos) -> Option<u16> {
        self.as_int(v, path, at, MIN_YEAR.into(), MAX_YEAR.into()).and_then(|n| u16::try_from(n).ok())
    }

    fn as_bool(&mut self, v: &Value, path: &str, at: Pos) -> Option<bool> {
        match v {
            Value::Boolean(b) => Some(*b.value()),
            _ => {
                self.err(at, path, format!("expected true or false, found {}", value_kind(v)));
                None
            }
        }
    }

    fn as_choice<E: Choice>(&mut self, v: &Value, path: &str, at: Pos) -> Option<E> {
        let word = self.as_str(v, path, at)?;
        match E::from_word(&word) {
            Some(c) => Some(c),
            None => {
                let words: Vec<&str> = E::ALL.iter().map(|(w, _)| *w).collect();
                let hint = match suggest(&word, &words) {
                    Some(s) => format!(" (did you mean \"{s}\"?)"),
                    None => String::new(),
                };
                self.err(at, path, format!("unknown value \"{word}\"{hint}; allowed: {}", E::allowed()));
                None
            }
        }
    }

    fn as_date(&mut self, v: &Value, path: &str, at: Pos) -> Option<Date> {
        let text = match v {
            Value::Datetime(d) => d.value().to_string(),
            Value::String(s) => s.value().to_string(),
            _ => {
                self.err(at, path, format!("expected a date YYYY-MM-DD, found {}", value_kind(v)));
                return None;
            }
        };
        let date = Date::parse(&text);
        if date.is_none() {
            self.err(at, path, format!("\"{text}\" is not a date YYYY-MM-DD"));
        }
        date
    }

    /// An exact decimal built from the value's source text (never via a binary float).
    fn as_decimal(&mut self, v: &Value, path: &str, at: Pos, num: Num) -> Option<Decimal> {
        let (raw, quoted) = match v {
            Value::Integer(_) | Value::Float(_) => {
                let text = v.span().and_then(|s| self.text.get(s)).map(str::trim);
                match text {
                    Some(t) => (t.to_string(), false),
                    None => {
                        self.err(at, path, "cannot read the number's source text");
                        return None;
                    }
                }
            }
            Value::String(s) => (s.value().trim().to_string(), true),
            _ => {
                self.err(at, path, format!("expected a number, found {}", value_kind(v)));
                return None;
            }
        };
        let mut text = raw.replace('_', "");
        let mut percent = false;
        if quoted && num == Num::Rate {
            if let Some(t) = text.strip_suffix('%') {
                text = t.trim_end().to_string();
                percent = true;
            }
        }
        if let Some(t) = text.strip_prefix('+') {
            text = t.to_string();
        }
        let mut d = match crate::domain::exact::parse_decimal(&text) {
            Ok(d) => d,
            Err(crate::domain::exact::ExactError::Malformed) => {
                let what = if num == Num::Rate {
                    "an exact decimal number (e.g. 0.025 or \"2.5%\")"
                } else {
                    "an exact decimal number (e.g. 1234.50)"
                };
                self.err(at, path, format!("{raw} is not {what}"));
                return None;
            }
            Err(e @ crate::domain::exact::ExactError::Inexact) => {
                self.err(at, path, format!("{raw} {e}"));
                return None;
            }
        };
        if percent {
            match d.checked_div(Decimal::ONE_HUNDRED) {
                Some(x) => d = x,
                None => {
                    self.err(at, path, format!("{raw} is out of range"));
                    return None;
                }
            }
        }
        let d = d.normalize();
        if num == Num::Money {
            if d.is_sign_negative() && !d.is_zero() {
                self.err(at, path, format!("amount must not be negative, found {raw}"));
                return None;
            }
            if d.scale() > 2 {
                self.err(at, path, format!("amount has more than two decimals (cents): {raw}"));
                return None;
            }
        }
        Some(d)
    }

    /// The value of an item, or an error when it is a table.
    fn value<'d>(&mut self, item: &'d Item, path: &str, at: Pos, what: &str) -> Option<&'d Value> {
        match item.as_value() {
            Some(v) => Some(v),
            None => {
                self.err(at, path, format!("expected {what}, found {}", kind(item)));
                None
            }
        }
    }

    // ----- keyed readers -----

    fn req_str(&mut self, t: &Tbl<'_>, key: &str) -> String {
        match self.get(t, key) {
            Some((item, path, at)) => {
                self.value(item, &path, at, "a string").and_then(|v| self.as_str(v, &path, at)).unwrap_or_default()
            }
            None => {
                self.missing(t, key);
                String::new()
            }
        }
    }

    fn opt_str(&mut self, t: &Tbl<'_>, key: &str) -> String {
        match self.get(t, key) {
            Some((item, path, at)) => {
                self.value(item, &path, at, "a string").and_then(|v| self.as_str(v, &path, at)).unwrap_or_default()
            }
            None => String::new(),
        }
    }

    fn req_id(&mut self, t: &Tbl<'_>, key: &str) -> String {
        match self.get(t, key) {
            Some((item, path, at)) => {
                self.value(item, &path, at, "an id").and_then(|v| self.as_id(v, &path, at)).unwrap_or_default()
            }
            None => {
                self.missing(t, key);
                String::new()
            }
        }
    }

    fn opt_id(&mut self, t: &Tbl<'_>, key: &str) -> Option<String> {
        let (item, path, at) = self.get(t, key)?;
        let v = self.value(item, &path, at, "an id")?;
        self.as_id(v, &path, at)
    }

    fn req_year(&mut self, t: &Tbl<'_>, key: &str) -> u16 {
        match self.get(t, key) {
            Some((item, path, at)) => {
                self.value(item, &path, at, "a year").and_then(|v| self.as_year(v, &path, at)).unwrap_or(0)
            }
            None => {
                self.missing(t, key);
                0
            }
        }
    }

    fn opt_bool(&mut self, t: &Tbl<'_>, key: &str, default: bool) -> bool {
        match self.get(t, key) {
            Some((item, path, at)) => {
                self.value(item, &path, at, "true or false").and_then(|v| self.as_bool(v, &path, at)).unwrap_or(default)
            }
            None => default,
        }
    }

    fn req_choice<E: Choice>(&mut self, t: &Tbl<'_>, key: &str) -> E {
        match self.get(t, key) {
            Some((item, path, at)) => self
                .value(item, &path, at, "a string")
                .and_then(|v| self.as_choice(v, &path, at))
                .unwrap_or(E::ALL[0].1),
            None => {
                self.missing(t, key);
                E::ALL[0].1
            }
        }
    }

    fn opt_choice<E: Choice>(&mut self, t: &Tbl<'_>, key: &str, default: E) -> E {
        match self.get(t, key) {
            Some((item, path, at)) => {
                self.value(item, &path, at, "a string").and_then(|v| self.as_choice(v, &path, at)).unwrap_or(default)
            }
            None => default,
        }
    }

    fn req_num(&mut self, t: &Tbl<'_>, key: &str, num: Num) -> Decimal {
        match self.get(t, key) {
            Some((item, path, at)) => self
                .value(item, &path, at, "a number")
                .and_then(|v| self.as_decimal(v, &path, at, num))
                .unwrap_or_default(),
            None => {
                self.missing(t, key);
                Decimal::ZERO
            }
        }
    }

    fn opt_num(&mut self, t: &Tbl<'_>, key: &str, num: Num) -> Option<Decimal> {
        let (item, path, at) = self.get(t, key)?;
        let v = self.value(item, &path, at, "a number")?;
        self.as_decimal(v, &path, at, num)
    }

    /// A sub-table (a `[table]` or an inline table) under `key`.
    fn sub<'d>(&mut self, t: &Tbl<'d>, key: &str, allowed: &[&'static str]) -> Option<Tbl<'d>> {
        let (item, path, at) = self.get(t, key)?;
        match item.as_table_like() {
            Some(table) => Some(self.tbl(&path, at, table, allowed)),
            None => {
                self.err(at, &path, format!("expected a table, found {}", kind(item)));
                None
            }
        }
    }

    fn req_sub<'d>(&mut self, t: &Tbl<'d>, key: &str, allowed: &[&'static str]) -> Option<Tbl<'d>> {
        if t.table.get(key).is_none() {
            self.missing(t, key);
            return None;
        }
        self.sub(t, key, allowed)
    }

    /// The tables of an array of tables (`[[key]]` or an inline array of
    /// inline tables), each with its path `key[i]`.
    fn list<'d>(&mut self, t: &Tbl<'d>, key: &str, allowed: &[&'static str], max: usize) -> Vec<Tbl<'d>> {
        let Some((item, path, at)) = self.get(t, key) else {
            return Vec::new();
        };
        let mut tables: Vec<(&'d dyn TableLike, Pos)> = Vec::new();
        match item {
            Item::ArrayOfTables(a) => {
                for table in a.iter() {
                    let pos = self.pos_of(table.span(), at);
                    tables.push((table, pos));
                }
            }
            Item::Value(Value::Array(a)) => {
                for (i, v) in a.iter().enumerate() {
                    let pos = self.pos_of(v.span(), at);
                    match v.as_inline_table() {
                        Some(table) => tables.push((table, pos)),
                        None => {
                            let p = format!("{path}[{i}]");
                            self.err(pos, &p, format!("expected a table, found {}", v.type_name()));
                        }
                    }
                }
            }
            _ => {
                self.err(at, &path, format!("expected a list of tables, found {}", kind(item)));
                return Vec::new();
            }
        }
        if tables.len() > max {
            self.err(at, &path, format!("more than {max} entries"));
            tables.truncate(max);
        }
        tables
            .into_iter()
            .enumerate()
            .map(|(i, (table, pos))| self.tbl(&format!("{path}[{i}]"), pos, table, allowed))
            .collect()
    }

    /// The values of an inline array under `key`, each with path and position.
    fn array<'d>(&mut self, t: &Tbl<'d>, key: &str) -> Option<Vec<(&'d Value, String, Pos)>> {
        let (item, path, at) = self.get(t, key)?;
        let Some(Value::Array(a)) = item.as_value() else {
            self.err(at, &path, format!("expected a list, found {}", kind(item)));
            return None;
        };
        if a.len() > MAX_LIST {
            self.err(at, &path, format!("more than {MAX_LIST} entries"));
            return None;
        }
        let mut out = Vec::new();
        for (i, v) in a.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let pos = self.pos_of(v.span(), at);
            self.spans.insert(p.clone(), pos);
            out.push((v, p, pos));
        }
        Some(out)
    }

    fn id_list(&mut self, t: &Tbl<'_>, key: &str) -> Option<Vec<String>> {
        let items = self.array(t, key)?;
        let mut out = Vec::new();
        for (v, path, at) in items {
            if let Some(id) = self.as_id(v, &path, at) {
                out.push(id);
            }
        }
        Some(out)
    }

    /// The entries of a sub-table used as a map (`{ ziekenhuis = 0.5, ... }`).
    fn map_entries<'d>(&mut self, t: &Tbl<'d>, key: &str) -> Option<Vec<(String, &'d Item, String, Pos)>> {
        let (item, path, at) = self.get(t, key)?;
        let Some(table) = item.as_table_like() else {
            self.err(at, &path, format!("expected a table, found {}", kind(item)));
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in table.iter() {
            let p = join(&path, k);
            let key_pos = match table.get_key_value(k) {
                Some((kk, _)) => self.pos_of(kk.span(), at),
                None => at,
            };
            let pos = self.item_pos(v, key_pos);
            self.spans.insert(p.clone(), key_pos);
            out.push((k.to_string(), v, p, pos));
        }
        if out.len() > MAX_LIST {
            self.err(at, &path, format!("more than {MAX_LIST} entries"));
            return None;
        }
        Some(out)
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::InlineTable(_) => "a table",
    }
}

fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => value_kind(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "a list of tables",
    }
}

/// Context from the parties, needed for defaults elsewhere.
struct Who {
    providers: Vec<String>,
    payers: Vec<String>,
    signatories: Vec<String>,
}

impl Who {
    fn single(list: &[String]) -> Option<String> {
        match list {
            [one] => Some(one.clone()),
            _ => None,
        }
    }
}

impl<'s> Parser<'s> {
    fn contract(&mut self, root: &toml_edit::Table) -> Contract {
        let t = self.tbl(
            "",
            Pos::START,
            root,
            &[
                "format",
                "id",
                "title",
                "description",
                "currency",
                "funding_streams",
                "rounding",
                "term",
                "knobs",
                "parties",
                "population",
                "baseline",
                "indicators",
                "payments",
                "impulse",
                "revenue_guarantees",
                "tariff_adjustments",
                "distribution",
                "monitoring",
            ],
        );
        let format = match self.get(&t, "format") {
            Some((item, path, at)) => {
                let n = self.value(item, &path, at, "an integer").and_then(|v| self.as_int(v, &path, at, 1, 1));
                u32::try_from(n.unwrap_or(1)).unwrap_or(FORMAT_VERSION)
            }
            None => {
                self.missing(&t, "format");
                FORMAT_VERSION
            }
        };
        let id = self.req_str(&t, "id");
        if !id.is_empty() && !valid_id_len(&id, MAX_CONTRACT_ID) {
            let at = self.spans.get("id").copied().unwrap_or(Pos::START);
            self.err(at, "id", format!("\"{id}\" is not a valid contract id (1 to 64 of a-z, 0-9 and -)"));
        }
        let title = self.req_str(&t, "title");
        let description = self.opt_str(&t, "description");
        let currency = self.currency(&t);
        let funding_streams = self.funding_streams(&t);
        self.streams = funding_streams.clone();
        let rounding = self.req_choice(&t, "rounding");
        let term = self.term(&t);
        let knobs = self.knobs(&t);
        let parties = self.parties(&t);
        // Defaults that name parties use only the parties read without problems.
        let sound: Vec<Party> = parties
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let prefix = format!("parties[{i}]");
                !self.r.diags.iter().any(|d| d.field.starts_with(&prefix))
            })
            .map(|(_, p)| p.clone())
            .collect();
        let who = Who {
            providers: ids_with_role(&sound, Role::Provider),
            payers: ids_with_role(&sound, Role::Payer),
            signatories: sound.iter().filter(|p| p.signatory).map(|p| p.id.clone()).collect(),
        };
        let population = self.population(&t);
        let baseline = self.baseline(&t);
        let indicators = self.indicators(&t, &who);
        let payments = self.payments(&t, &who);
        let impulse = self.impulse(&t, &who);
        let revenue_guarantees = self.guarantees(&t, &who, &term);
        let tariff_adjustments = self.tariffs(&t);
        let distribution = self.distribution(&t, &who);
        let monitoring = self.monitoring(&t);
        self.finish(&t);
        Contract {
            format,
            id,
            title,
            description,
            currency,
            funding_streams,
            rounding,
            term,
            knobs,
            parties,
            population,
            baseline,
            indicators,
            payments,
            impulse,
            revenue_guarantees,
            tariff_adjustments,
            distribution,
            monitoring,
        }
    }

    fn term(&mut self, root: &Tbl<'_>) -> Term {
        let mut term = Term { first_year: 0, last_year: 0, review_dates: Vec::new() };
        let Some(t) = self.req_sub(root, "term", &["first_year", "last_year", "review_dates"]) else {
            return term;
        };
        term.first_year = self.req_year(&t, "first_year");
        term.last_year = self.req_year(&t, "last_year");
        if let Some(items) = self.array(&t, "review_dates") {
            for (v, path, at) in items {
                if let Some(d) = self.as_date(v, &path, at) {
                    term.review_dates.push(d);
                }
            }
        }
        self.finish(&t);
        term
    }

    fn knobs(&mut self, root: &Tbl<'_>) -> Knobs {
        let t = self.req_sub(
            root,
            "knobs",
            &[
                "scope",
                "financing_base",
                "financing_goal",
                "contract_form",
                "term",
                "risk_allocation",
                "chain_partners",
                "provider_reward",
                "condition_scope",
            ],
        );
        let Some(t) = t else {
            return Knobs {
                scope: Scope::ALL[0].1,
                financing_base: FinancingBase::ALL[0].1,
                financing_goal: FinancingGoal::ALL[0].1,
                contract_form: ContractForm::ALL[0].1,
                term: TermKind::ALL[0].1,
                risk_allocation: RiskAllocation {
                    implementation: Bearer::Payer,
                    cost_overrun: Bearer::Payer,
                    volume: Bearer::Payer,
                },
                chain_partners: ChainPartners::ALL[0].1,
                provider_reward: ProviderReward::ALL[0].1,
                condition_scope: ConditionScope::ALL[0].1,
            };
        };
        let scope = self.req_choice(&t, "scope");
        let financing_base = self.req_choice(&t, "financing_base");
        let financing_goal = self.req_choice(&t, "financing_goal");
        let contract_form = self.req_choice(&t, "contract_form");
        let term = self.req_choice(&t, "term");
        let risk_allocation = match self.req_sub(&t, "risk_allocation", &["implementation", "cost_overrun", "volume"]) {
            Some(r) => {
                let ra = RiskAllocation {
                    implementation: self.req_choice(&r, "implementation"),
                    cost_overrun: self.req_choice(&r, "cost_overrun"),
                    volume: self.req_choice(&r, "volume"),
                };
                self.finish(&r);
                ra
            }
            None => {
                RiskAllocation { implementation: Bearer::Payer, cost_overrun: Bearer::Payer, volume: Bearer::Payer }
            }
        };
        let chain_partners = self.req_choice(&t, "chain_partners");
        let provider_reward = self.req_choice(&t, "provider_reward");
        let condition_scope = self.req_choice(&t, "condition_scope");
        self.finish(&t);
        Knobs {
            scope,
            financing_base,
            financing_goal,
            contract_form,
            term,
            risk_allocation,
            chain_partners,
            provider_reward,
            condition_scope,
        }
    }

    fn parties(&mut self, root: &Tbl<'_>) -> Vec<Party> {
        if root.table.get("parties").is_none() {
            self.missing(root, "parties");
        }
        let tables =
            self.list(root, "parties", &["id", "name", "role", "key", "signatory", "contribution"], MAX_PARTIES);
        let mut out = Vec::new();
        for t in tables {
            let id = self.req_id(&t, "id");
            let name = self.req_str(&t, "name");
            let role = self.req_choice(&t, "role");
            let key = match self.get(&t, "key") {
                Some((item, path, at)) => {
                    self.value(item, &path, at, "a string").and_then(|v| self.as_str(v, &path, at))
                }
                None => None,
            };
            let signatory = self.opt_bool(&t, "signatory", false);
            let contribution = self.opt_num(&t, "contribution", Num::Money);
            self.finish(&t);
            out.push(Party { id, name, role, key, signatory, contribution });
        }
        out
    }

    /// `currency`: an ISO 4217 code from [`ISO_4217`]; default `EUR`.
    fn currency(&mut self, t: &Tbl<'_>) -> Currency {
        let Some((item, path, at)) = self.get(t, "currency") else {
            return Currency::EUR;
        };
        let Some(code) = self.value(item, &path, at, "a string").and_then(|v| self.as_str(v, &path, at)) else {
            return Currency::EUR;
        };
        match Currency::from_code(&code) {
            Some(c) => c,
            None => {
                let hint = if code.len() == 3 && Currency::from_code(&code.to_ascii_uppercase()).is_some() {
                    format!(" (did you mean \"{}\"?)", code.to_ascii_uppercase())
                } else {
                    String::new()
                };
                let shown: String = code.chars().take(16).collect();
                self.err(
                    at,
                    &path,
                    format!(
                        "\"{shown}\" is not an ISO 4217 currency code (three upper-case letters from the ISO 4217 list, e.g. \"EUR\", \"USD\"){hint}"
                    ),
                );
                Currency::EUR
            }
        }
    }

    fn population(&mut self, root: &Tbl<'_>) -> Population {
        let mut pop = Population {
            description: String::new(),
            condition: String::new(),
            attribution: Attribution::ALL[0].1,
            size_indicator: String::new(),
            expected_size: None,
        };
        let Some(t) = self.req_sub(
            root,
            "population",
            &["description", "condition", "attribution", "size_indicator", "expected_size"],
        ) else {
            return pop;
        };
        pop.description = self.req_str(&t, "description");
        pop.condition = self.opt_str(&t, "condition");
        pop.attribution = self.req_choice(&t, "attribution");
        pop.size_indicator = self.req_id(&t, "size_indicator");
        if let Some((item, path, at)) = self.get(&t, "expected_size") {
            pop.expected_size = self
                .value(item, &path, at, "an integer")
                .and_then(|v| self.as_int(v, &path, at, 1, MAX_POPULATION as i64))
                .and_then(|n| u64::try_from(n).ok());
        }
        self.finish(&t);
        pop
    }

    fn baseline(&mut self, root: &Tbl<'_>) -> Option<Baseline> {
        let t = self.sub(
            root,
            "baseline",
            &["base_year", "mode", "unit", "cost", "source", "trend", "risk_adjustment", "benchmark_indicator"],
        )?;
        let base_year = self.req_year(&t, "base_year");
        let mode = self.opt_choice(&t, "mode", BaselineMode::Computed);
        let source = self.req_str(&t, "source");
        let baseline = match mode {
            BaselineMode::Computed => {
                if let Some((_, path, at)) = self.get(&t, "benchmark_indicator") {
                    self.err(
                        at,
                        &path,
                        "only with mode = \"agreed_total\" (a computed benchmark is cost x trend x risk x size)",
                    );
                }
                Baseline {
                    base_year,
                    mode,
                    benchmark_indicator: None,
                    unit: Some(self.req_choice(&t, "unit")),
                    cost: Some(self.req_num(&t, "cost", Num::Money)),
                    source,
                    trend: Some(self.trend(&t)),
                    risk_adjustment: Some(self.risk_adjustment(&t)),
                }
            }
            BaselineMode::AgreedTotal => {
                for key in ["unit", "cost", "trend", "risk_adjustment"] {
                    if let Some((_, path, at)) = self.get(&t, key) {
                        self.err(
                            at,
                            &path,
                            "not used with mode = \"agreed_total\" (the benchmark is the agreed figure of benchmark_indicator); remove it",
                        );
                    }
                }
                Baseline {
                    base_year,
                    mode,
                    benchmark_indicator: Some(self.req_id(&t, "benchmark_indicator")),
                    unit: None,
                    cost: None,
                    source,
                    trend: None,
                    risk_adjustment: None,
                }
            }
        };
        self.finish(&t);
        Some(baseline)
    }

    /// The `method` of a tagged table, read before the other keys.
    fn method<E: Choice>(&mut self, t: &Tbl<'_>) -> Option<E> {
        match self.get(t, "method") {
            Some((item, path, at)) => {
                self.value(item, &path, at, "a string").and_then(|v| self.as_choice(v, &path, at))
            }
            None => {
                self.missing(t, "method");
                None
            }
        }
    }

    fn trend(&mut self, root: &Tbl<'_>) -> Trend {
        let fallback = Trend::FixedRate { rate: Decimal::ZERO };
        let Some(mut t) = self.req_sub(root, "trend", &["method"]) else {
            return fallback;
        };
        let trend = match self.method::<TrendMethod>(&t) {
            Some(TrendMethod::FixedRate) => {
                t.allowed.push("rate");
                Trend::FixedRate { rate: self.req_num(&t, "rate", Num::Rate) }
            }
            Some(TrendMethod::RatesPerYear) => {
                t.allowed.push("rates");
                let mut rates = BTreeMap::new();
                if t.table.get("rates").is_none() {
                    self.missing(&t, "rates");
                }
                for (key, item, path, at) in self.map_entries(&t, "rates").unwrap_or_default() {
                    let year = key.parse::<u16>().ok().filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y));
                    let Some(year) = year else {
                        let kp = self.spans.get(&path).copied().unwrap_or(at);
                        self.err(kp, &path, format!("\"{key}\" is not a year ({MIN_YEAR} to {MAX_YEAR})"));
                        continue;
                    };
                    if let Some(d) =
                        self.value(item, &path, at, "a number").and_then(|v| self.as_decimal(v, &path, at, Num::Rate))
                    {
                        rates.insert(year, d);
                    }
                }
                Trend::RatesPerYear { rates }
            }
            Some(TrendMethod::MeasuredRate) => {
                t.allowed.push("indicator");
                Trend::MeasuredRate { indicator: self.req_id(&t, "indicator") }
            }
            Some(TrendMethod::MeasuredIndex) => {
                t.allowed.push("indicator");
                Trend::MeasuredIndex { indicator: self.req_id(&t, "indicator") }
            }
            None => {
                t.allowed.extend(["rate", "rates", "indicator"]);
                fallback
            }
        };
        self.finish(&t);
        trend
    }

    fn risk_adjustment(&mut self, root: &Tbl<'_>) -> RiskAdjustment {
        let Some(mut t) = self.sub(root, "risk_adjustment", &["method"]) else {
            return RiskAdjustment::None;
        };
        let ra = match self.method::<RiskMethod>(&t) {
            Some(RiskMethod::None) => RiskAdjustment::None,
            None => {
                t.allowed.extend(["factor", "indicator"]);
                RiskAdjustment::None
            }
            Some(RiskMethod::Fixed) => {
                t.allowed.push("factor");
                RiskAdjustment::Fixed { factor: self.req_num(&t, "factor", Num::Plain) }
            }
            Some(RiskMethod::Measured) => {
                t.allowed.push("indicator");
                RiskAdjustment::Measured { indicator: self.req_id(&t, "indicator") }
            }
        };
        self.finish(&t);
        ra
    }

    fn indicators(&mut self, root: &Tbl<'_>, who: &Who) -> Vec<Indicator> {
        let tables = self.list(
            root,
            "indicators",
            &["id", "name", "unit", "direction", "period", "aggregation", "source", "agreed_by", "method", "quality"],
            MAX_INDICATORS,
        );
        let mut out = Vec::new();
        for t in tables {
            let id = self.req_id(&t, "id");
            let name = self.req_str(&t, "name");
            let unit: Unit = self.req_choice(&t, "unit");
            let direction = self.req_choice(&t, "direction");
            let period = self.opt_choice(&t, "period", Period::Year);
            let default_agg = if unit.is_additive() { Aggregation::Sum } else { Aggregation::Mean };
            let aggregation = self.opt_choice(&t, "aggregation", default_agg);
            let source = self.req_id(&t, "source");
            let agreed_by = match self.id_list(&t, "agreed_by") {
                Some(list) => list,
                None => who.signatories.iter().filter(|s| **s != source).cloned().collect(),
            };
            let method = self.opt_str(&t, "method");
            let quality = match self.sub(&t, "quality", &["threshold", "target", "weight", "scoring"]) {
                Some(q) => {
                    let quality = Quality {
                        threshold: self.req_num(&q, "threshold", Num::Plain),
                        target: self.req_num(&q, "target", Num::Plain),
                        weight: self.req_num(&q, "weight", Num::Rate),
                        scoring: self.opt_choice(&q, "scoring", Scoring::Linear),
                    };
                    self.finish(&q);
                    Some(quality)
                }
                None => None,
            };
            self.finish(&t);
            out.push(Indicator { id, name, unit, direction, period, aggregation, source, agreed_by, method, quality });
        }
        out
    }

    /// A party reference that defaults to the only party of its kind.
    fn party_or_single(&mut self, t: &Tbl<'_>, key: &str, list: &[String], kind: &str) -> String {
        if let Some(id) = self.opt_id(t, key) {
            return id;
        }
        if t.table.get(key).is_some() {
            return String::new();
        }
        match Who::single(list) {
            Some(id) => id,
            None => {
                let path = join(&t.path, key);
                self.err(t.at, &path, format!("missing required field (the contract has several {kind}s)"));
                String::new()
            }
        }
    }

    /// An optional party reference: absent means "split by the distribution
    /// key", unless there is only one such party.
    fn party_or_split(&mut self, t: &Tbl<'_>, key: &str, list: &[String]) -> Option<String> {
        match self.opt_id(t, key) {
            Some(id) => Some(id),
            None if t.table.get(key).is_some() => Some(String::new()),
            None => Who::single(list),
        }
    }

    fn payments(&mut self, root: &Tbl<'_>, who: &Who) -> Payments {
        let mut payments =
            Payments { volume: None, pay_for_performance: None, shared_savings: None, bundled: None, capitation: None };
        let Some(t) = self.req_sub(
            root,
            "payments",
            &["volume", "pay_for_performance", "shared_savings", "bundled", "capitation"],
        ) else {
            return payments;
        };
        payments.volume = self.volume(&t, who);
        payments.pay_for_performance = self.p4p(&t, who);
        payments.shared_savings = self.shared_savings(&t, who);
        payments.bundled = self.bundled(&t, who);
        payments.capitation = self.capitation(&t, who);
        self.finish(&t);
        payments
    }

    fn volume(&mut self, root: &Tbl<'_>, who: &Who) -> Option<Volume> {
        let t = self.sub(root, "volume", &["funding", "activities", "caps", "allocation"])?;
        let funding = self.opt_funding(&t, "funding");
        if t.table.get("activities").is_none() {
            self.missing(&t, "activities");
        }
        let mut activities = Vec::new();
        for a in self.list(
            &t,
            "activities",
            &[
                "id",
                "name",
                "code",
                "unit",
                "price",
                "quantity_indicator",
                "provider",
                "payer",
                "funding",
                "max_amount_per_year",
            ],
            MAX_LIST,
        ) {
            let activity = Activity {
                id: self.req_id(&a, "id"),
                name: self.req_str(&a, "name"),
                code: self.opt_str(&a, "code"),
                unit: self.req_str(&a, "unit"),
                price: self.req_num(&a, "price", Num::Money),
                quantity_indicator: self.req_id(&a, "quantity_indicator"),
                provider: self.party_or_single(&a, "provider", &who.providers, "provider"),
                payer: self.party_or_single(&a, "payer", &who.payers, "payer"),
                funding: self.line_funding(&a, funding),
                max_amount_per_year: self.opt_num(&a, "max_amount_per_year", Num::Money),
            };
            self.finish(&a);
            activities.push(activity);
        }
        let mut caps = Vec::new();
        for c in self.list(&t, "caps", &["activities", "max_quantity", "per", "exposure_indicator"], MAX_LIST) {
            if c.table.get("activities").is_none() {
                self.missing(&c, "activities");
            }
            let cap = ClaimCap {
                activities: self.id_list(&c, "activities").unwrap_or_default(),
                max_quantity: self.req_num(&c, "max_quantity", Num::Plain),
                per: self.req_choice(&c, "per"),
                exposure_indicator: self.opt_id(&c, "exposure_indicator"),
            };
            self.finish(&c);
            caps.push(cap);
        }
        let allocation = self.allocation(&t);
        self.finish(&t);
        Some(Volume { activities, caps, allocation })
    }

    /// `funding_streams`: names of the stream grammar, no repeats, at least
    /// one; default the Dutch streams.
    fn funding_streams(&mut self, t: &Tbl<'_>) -> Vec<Funding> {
        let Some(items) = self.array(t, "funding_streams") else {
            return Funding::dutch_streams();
        };
        let mut out: Vec<Funding> = Vec::new();
        for (v, path, at) in items {
            let Some(word) = self.as_str(v, &path, at) else { continue };
            match Funding::from_word(&word) {
                Some(f) if out.contains(&f) => self.err(at, &path, format!("\"{word}\" is listed twice")),
                Some(f) => out.push(f),
                None => {
                    let shown: String = word.chars().take(40).collect();
                    self.err(
                        at,
                        &path,
                        format!("\"{shown}\" is not a funding stream name (1 to {MAX_STREAM} of a-z, 0-9, _ and -)"),
                    )
                }
            }
        }
        out
    }

    /// A `funding` value: one of the contract's funding streams.
    fn as_funding(&mut self, v: &Value, path: &str, at: Pos) -> Option<Funding> {
        let word = self.as_str(v, path, at)?;
        if let Some(f) = self.streams.iter().find(|f| f.word() == word) {
            return Some(*f);
        }
        let words: Vec<&str> = self.streams.iter().map(|f| f.word()).collect();
        let hint = match suggest(&word, &words) {
            Some(s) => format!(" (did you mean \"{s}\"?)"),
            None => String::new(),
        };
        let allowed: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        let message = format!("unknown value \"{word}\"{hint}; allowed: {}", allowed.join(", "));
        self.err(at, path, message);
        None
    }

    /// An optional `funding` field.
    fn opt_funding(&mut self, t: &Tbl<'_>, key: &str) -> Option<Funding> {
        let (item, path, at) = self.get(t, key)?;
        let v = self.value(item, &path, at, "a string")?;
        self.as_funding(v, &path, at)
    }

    /// A required `funding` field (a placeholder when missing or wrong).
    fn req_funding(&mut self, t: &Tbl<'_>, key: &str) -> Funding {
        if t.table.get(key).is_none() {
            self.missing(t, key);
            return self.placeholder_funding();
        }
        self.opt_funding(t, key).unwrap_or_else(|| self.placeholder_funding())
    }

    /// A stream for a field that failed to parse (its problem is reported).
    fn placeholder_funding(&self) -> Funding {
        self.streams.first().copied().unwrap_or(Funding::Zvw)
    }

    /// A line's funding stream: its own, else its component's.
    fn line_funding(&mut self, t: &Tbl<'_>, component: Option<Funding>) -> Funding {
        if let Some(f) = self.opt_funding(t, "funding") {
            return f;
        }
        if t.table.get("funding").is_some() {
            return self.placeholder_funding();
        }
        match component {
            Some(f) => f,
            None => {
                let path = join(&t.path, "funding");
                self.err(t.at, &path, "missing required field (no funding stream on the line or its component)");
                self.placeholder_funding()
            }
        }
    }

    fn p4p(&mut self, root: &Tbl<'_>, who: &Who) -> Option<PayForPerformance> {
        let t = self.sub(root, "pay_for_performance", &["funding", "bonuses", "allocation"])?;
        let funding = self.opt_funding(&t, "funding");
        if t.table.get("bonuses").is_none() {
            self.missing(&t, "bonuses");
        }
        let mut bonuses = Vec::new();
        for b in self.list(
            &t,
            "bonuses",
            &["id", "indicator", "target", "amount", "basis", "recipient", "payer", "funding"],
            MAX_LIST,
        ) {
            let bonus = Bonus {
                id: self.req_id(&b, "id"),
                indicator: self.req_id(&b, "indicator"),
                target: self.req_num(&b, "target", Num::Plain),
                amount: self.req_num(&b, "amount", Num::Money),
                basis: self.opt_choice(&b, "basis", BonusBasis::Fixed),
                recipient: self.party_or_split(&b, "recipient", &who.providers),
                payer: self.party_or_split(&b, "payer", &who.payers),
                funding: self.line_funding(&b, funding),
            };
            self.finish(&b);
            bonuses.push(bonus);
        }
        let allocation = self.allocation(&t);
        self.finish(&t);
        Some(PayForPerformance { bonuses, allocation })
    }

    fn shared_savings(&mut self, root: &Tbl<'_>, who: &Who) -> Option<SharedSavings> {
        let t = self.sub(
            root,
            "shared_savings",
            &[
                "funding",
                "payer",
                "recipient",
                "sided",
                "actual_cost_indicator",
                "corridor",
                "sharing_base",
                "provider_share",
                "quality_scaling",
                "min_quality_score",
                "loss_share",
                "withhold",
                "savings_cap",
                "loss_cap",
                "carry_forward_losses",
                "inside_corridor",
                "figure_loss_cap",
                "participation_months_indicator",
                "force_majeure",
                "allocation",
            ],
        )?;
        let funding = self.req_funding(&t, "funding");
        let payer = self.party_or_split(&t, "payer", &who.payers);
        let recipient = self.party_or_split(&t, "recipient", &who.providers);
        let sided = self.req_choice(&t, "sided");
        let actual_cost_indicator = self.req_id(&t, "actual_cost_indicator");
        let corridor = self.corridor(&t);
        let sharing_base = self.req_choice(&t, "sharing_base");
        let provider_share = self.req_num(&t, "provider_share", Num::Rate);
        let quality_scaling = self.opt_choice(&t, "quality_scaling", QualityScaling::None);
        let min_quality_score = self.opt_num(&t, "min_quality_score", Num::Rate).unwrap_or(Decimal::ZERO);
        let loss_share = self.loss_share(&t);
        let withhold = self.opt_num(&t, "withhold", Num::Rate).unwrap_or(Decimal::ZERO);
        let savings_cap = self.opt_num(&t, "savings_cap", Num::Rate);
        let loss_cap = self.opt_num(&t, "loss_cap", Num::Rate);
        let carry_forward_losses = self.opt_bool(&t, "carry_forward_losses", false);
        let inside_corridor = self.sub(&t, "inside_corridor", &["provider_share", "indicator", "target"]).map(|u| {
            let tier = InsideCorridor {
                provider_share: self.req_num(&u, "provider_share", Num::Rate),
                indicator: self.req_id(&u, "indicator"),
                target: self.req_num(&u, "target", Num::Plain),
            };
            self.finish(&u);
            tier
        });
        let figure_loss_cap = self.sub(&t, "figure_loss_cap", &["rate", "indicator"]).map(|u| {
            let cap = FigureCap { rate: self.req_num(&u, "rate", Num::Rate), indicator: self.req_id(&u, "indicator") };
            self.finish(&u);
            cap
        });
        let participation_months_indicator = self.opt_id(&t, "participation_months_indicator");
        let force_majeure = self.force_majeure(&t);
        let allocation = self.allocation(&t);
        self.finish(&t);
        Some(SharedSavings {
            funding,
            payer,
            recipient,
            sided,
            actual_cost_indicator,
            corridor,
            sharing_base,
            provider_share,
            quality_scaling,
            min_quality_score,
            loss_share,
            withhold,
            savings_cap,
            loss_cap,
            carry_forward_losses,
            inside_corridor,
            figure_loss_cap,
            participation_months_indicator,
            force_majeure,
            allocation,
        })
    }

    /// An `allocation` key of a payment component: `method =
    /// "by_indicator"` with `indicators = { stream = indicator id, ... }`.
    /// Streams and indicators are checked by the validation.
    fn allocation(&mut self, root: &Tbl<'_>) -> Option<AllocationKey> {
        let mut t = self.sub(root, "allocation", &["method"])?;
        let key = match self.method::<AllocationMethod>(&t) {
            Some(AllocationMethod::ByIndicator) => {
                t.allowed.push("indicators");
                if t.table.get("indicators").is_none() {
                    self.missing(&t, "indicators");
                }
                let mut indicators = BTreeMap::new();
                for (k, item, path, at) in self.map_entries(&t, "indicators").unwrap_or_default() {
                    if let Some(id) = self.value(item, &path, at, "an id").and_then(|v| self.as_id(v, &path, at)) {
                        indicators.insert(k, id);
                    }
                }
                Some(AllocationKey::ByIndicator { indicators })
            }
            None => {
                t.allowed.push("indicators");
                None
            }
        };
        self.finish(&t);
        key
    }

    fn force_majeure(&mut self, root: &Tbl<'_>) -> Option<ForceMajeure> {
        let mut t = self.sub(root, "force_majeure", &["method"])?;
        let fm = match self.method::<ForceMajeureMethod>(&t) {
            Some(ForceMajeureMethod::Fraction) => {
                t.allowed.push("factors");
                if t.table.get("factors").is_none() {
                    self.missing(&t, "factors");
                }
                ForceMajeure::Fraction { factors: self.id_list(&t, "factors").unwrap_or_default() }
            }
            Some(ForceMajeureMethod::Amount) => {
                t.allowed.push("indicator");
                ForceMajeure::Amount { indicator: self.req_id(&t, "indicator") }
            }
            None => {
                t.allowed.extend(["factors", "indicator"]);
                ForceMajeure::Amount { indicator: String::new() }
            }
        };
        self.finish(&t);
        Some(fm)
    }

    fn corridor(&mut self, root: &Tbl<'_>) -> Corridor {
        let fallback = Corridor::Fixed { min_savings_rate: Decimal::ZERO, min_loss_rate: None };
        let Some(mut t) = self.req_sub(root, "corridor", &["method"]) else {
            return fallback;
        };
        let corridor = match self.method::<CorridorMethod>(&t) {
            Some(CorridorMethod::Fixed) => {
                t.allowed.extend(["min_savings_rate", "min_loss_rate"]);
                Corridor::Fixed {
                    min_savings_rate: self.req_num(&t, "min_savings_rate", Num::Rate),
                    min_loss_rate: self.opt_num(&t, "min_loss_rate", Num::Rate),
                }
            }
            Some(CorridorMethod::PopulationTable) => {
                t.allowed.extend(["rows", "population_indicator"]);
                if t.table.get("rows").is_none() {
                    self.missing(&t, "rows");
                }
                let mut rows = Vec::new();
                for r in self.list(&t, "rows", &["population", "min_savings_rate", "min_loss_rate"], MAX_LIST) {
                    let population = match self.get(&r, "population") {
                        Some((item, path, at)) => self
                            .value(item, &path, at, "an integer")
                            .and_then(|v| self.as_int(v, &path, at, 1, MAX_POPULATION as i64))
                            .and_then(|n| u64::try_from(n).ok())
                            .unwrap_or(0),
                        None => {
                            self.missing(&r, "population");
                            0
                        }
                    };
                    let row = CorridorRow {
                        population,
                        min_savings_rate: self.req_num(&r, "min_savings_rate", Num::Rate),
                        min_loss_rate: self.opt_num(&r, "min_loss_rate", Num::Rate),
                    };
                    self.finish(&r);
                    rows.push(row);
                }
                Corridor::PopulationTable { rows, population_indicator: self.opt_id(&t, "population_indicator") }
            }
            None => {
                t.allowed.extend(["min_savings_rate", "min_loss_rate", "rows", "population_indicator"]);
                fallback
            }
        };
        self.finish(&t);
        corridor
    }

    fn loss_share(&mut self, root: &Tbl<'_>) -> Option<LossShare> {
        let mut t = self.sub(root, "loss_share", &["method"])?;
        let share = match self.method::<LossMethod>(&t) {
            Some(LossMethod::Fixed) => {
                t.allowed.push("rate");
                LossShare::Fixed { rate: self.req_num(&t, "rate", Num::Rate) }
            }
            Some(LossMethod::QualityScaled) => {
                t.allowed.extend(["intercept", "slope", "min", "max"]);
                LossShare::QualityScaled {
                    intercept: self.opt_num(&t, "intercept", Num::Rate).unwrap_or(Decimal::ONE),
                    slope: self.req_num(&t, "slope", Num::Rate),
                    min: self.req_num(&t, "min", Num::Rate),
                    max: self.req_num(&t, "max", Num::Rate),
                }
            }
            None => {
                t.allowed.extend(["rate", "intercept", "slope", "min", "max"]);
                LossShare::Fixed { rate: Decimal::ZERO }
            }
        };
        self.finish(&t);
        Some(share)
    }

    fn bundled(&mut self, root: &Tbl<'_>, who: &Who) -> Option<Bundled> {
        let t = self.sub(
            root,
            "bundled",
            &[
                "funding",
                "payer",
                "recipient",
                "episode",
                "target_price",
                "episodes_indicator",
                "actual_cost_indicator",
                "stop_gain",
                "stop_loss",
                "allocation",
            ],
        )?;
        let b = Bundled {
            funding: self.req_funding(&t, "funding"),
            payer: self.party_or_split(&t, "payer", &who.payers),
            recipient: self.party_or_split(&t, "recipient", &who.providers),
            episode: self.req_str(&t, "episode"),
            target_price: self.req_num(&t, "target_price", Num::Money),
            episodes_indicator: self.req_id(&t, "episodes_indicator"),
            actual_cost_indicator: self.req_id(&t, "actual_cost_indicator"),
            stop_gain: self.opt_num(&t, "stop_gain", Num::Rate),
            stop_loss: self.opt_num(&t, "stop_loss", Num::Rate),
            allocation: self.allocation(&t),
        };
        self.finish(&t);
        Some(b)
    }

    fn capitation(&mut self, root: &Tbl<'_>, who: &Who) -> Option<Capitation> {
        let t = self.sub(
            root,
            "capitation",
            &[
                "funding",
                "payer",
                "recipient",
                "amount_per_member",
                "members_indicator",
                "actual_cost_indicator",
                "risk_corridors",
                "allocation",
            ],
        )?;
        let funding = self.req_funding(&t, "funding");
        let payer = self.party_or_split(&t, "payer", &who.payers);
        let recipient = self.party_or_split(&t, "recipient", &who.providers);
        let amount_per_member = self.req_num(&t, "amount_per_member", Num::Money);
        let members_indicator = self.req_id(&t, "members_indicator");
        let actual_cost_indicator = self.req_id(&t, "actual_cost_indicator");
        let mut risk_corridors = Vec::new();
        for b in self.list(&t, "risk_corridors", &["from", "to", "provider_share"], MAX_LIST) {
            let band = RiskBand {
                from: self.req_num(&b, "from", Num::Rate),
                to: self.opt_num(&b, "to", Num::Rate),
                provider_share: self.req_num(&b, "provider_share", Num::Rate),
            };
            self.finish(&b);
            risk_corridors.push(band);
        }
        let allocation = self.allocation(&t);
        self.finish(&t);
        Some(Capitation {
            funding,
            payer,
            recipient,
            amount_per_member,
            members_indicator,
            actual_cost_indicator,
            risk_corridors,
            allocation,
        })
    }

    fn impulse(&mut self, root: &Tbl<'_>, who: &Who) -> Vec<Impulse> {
        let mut out = Vec::new();
        for t in self.list(
            root,
            "impulse",
            &[
                "year",
                "recipient",
                "payer",
                "amount",
                "kind",
                "repayment_rate",
                "remaining_at_end",
                "funding",
                "purpose",
                "allocation",
            ],
            MAX_LIST,
        ) {
            if let Some((_, path, at)) = self.get(&t, "allocation") {
                self.err(
                    at,
                    &path,
                    "an impulse takes no allocation key: an advance must be repaid to the stream that lent it, and a \
                     key's figures change from year to year; write one [[impulse]] per funding stream, each with its \
                     own amount and funding",
                );
            }
            let year = self.req_year(&t, "year");
            let recipient = self.party_or_single(&t, "recipient", &who.providers, "provider");
            let payer = self.party_or_single(&t, "payer", &who.payers, "payer");
            let amount = self.req_num(&t, "amount", Num::Money);
            let kind = match self.get(&t, "kind") {
                Some((item, path, at)) => {
                    self.value(item, &path, at, "a string").and_then(|v| self.as_choice::<ImpulseWord>(v, &path, at))
                }
                None => {
                    self.missing(&t, "kind");
                    None
                }
            };
            let kind = match kind {
                Some(ImpulseWord::Advance) => ImpulseKind::Advance {
                    repayment_rate: self.req_num(&t, "repayment_rate", Num::Rate),
                    remaining_at_end: self.req_choice(&t, "remaining_at_end"),
                },
                Some(ImpulseWord::Grant) => {
                    for key in ["repayment_rate", "remaining_at_end"] {
                        if let Some((_, path, at)) = self.get(&t, key) {
                            self.err(
                                at,
                                &path,
                                "only an advance is repaid; remove this field or set kind = \"advance\"",
                            );
                        }
                    }
                    ImpulseKind::Grant
                }
                None => {
                    let _ = self.get(&t, "repayment_rate");
                    let _ = self.get(&t, "remaining_at_end");
                    ImpulseKind::Grant
                }
            };
            let funding = self.req_funding(&t, "funding");
            let purpose = self.req_str(&t, "purpose");
            self.finish(&t);
            out.push(Impulse { year, recipient, payer, amount, kind, funding, purpose });
        }
        out
    }

    fn guarantees(&mut self, root: &Tbl<'_>, who: &Who, term: &Term) -> Vec<RevenueGuarantee> {
        let mut out = Vec::new();
        for t in self.list(
            root,
            "revenue_guarantees",
            &["provider", "payer", "floor", "years", "revenue_indicator", "funding", "allocation"],
            MAX_LIST,
        ) {
            if let Some((_, path, at)) = self.get(&t, "allocation") {
                self.err(
                    at,
                    &path,
                    "a revenue guarantee takes no allocation key: its top-up brings one provider's revenue over all \
                     streams up to a floor, so no agreed figure per stream says which stream owes it; pay it from one \
                     `funding` stream, or write one guarantee per stream with its own floor",
                );
            }
            let provider = self.party_or_single(&t, "provider", &who.providers, "provider");
            let payer = self.party_or_single(&t, "payer", &who.payers, "payer");
            let floor = self.req_num(&t, "floor", Num::Money);
            let years = match self.array(&t, "years") {
                Some(items) => items.into_iter().filter_map(|(v, path, at)| self.as_year(v, &path, at)).collect(),
                None => term.years().collect(),
            };
            let revenue_indicator = self.opt_id(&t, "revenue_indicator");
            let funding = self.req_funding(&t, "funding");
            self.finish(&t);
            out.push(RevenueGuarantee { provider, payer, floor, years, revenue_indicator, funding });
        }
        out
    }

    fn tariffs(&mut self, root: &Tbl<'_>) -> Vec<TariffAdjustment> {
        let mut out = Vec::new();
        for t in
            self.list(root, "tariff_adjustments", &["id", "kind", "rate", "applies_to", "trigger", "reason"], MAX_LIST)
        {
            let id = self.req_id(&t, "id");
            let kind = self.req_choice(&t, "kind");
            let rate = self.req_num(&t, "rate", Num::Rate);
            if t.table.get("applies_to").is_none() {
                self.missing(&t, "applies_to");
            }
            let applies_to = self.id_list(&t, "applies_to").unwrap_or_default();
            let trigger = match self.req_sub(&t, "trigger", &["when"]) {
                Some(mut tr) => {
                    let when = match self.get(&tr, "when") {
                        Some((item, path, at)) => self
                            .value(item, &path, at, "a string")
                            .and_then(|v| self.as_choice::<TriggerWord>(v, &path, at)),
                        None => {
                            self.missing(&tr, "when");
                            None
                        }
                    };
                    let trigger = match when {
                        Some(TriggerWord::Always) => Trigger::Always,
                        Some(w) => {
                            tr.allowed.extend(["indicator", "target"]);
                            let indicator = self.req_id(&tr, "indicator");
                            let target = self.req_num(&tr, "target", Num::Plain);
                            if w == TriggerWord::TargetMet {
                                Trigger::TargetMet { indicator, target }
                            } else {
                                Trigger::TargetMissed { indicator, target }
                            }
                        }
                        None => {
                            tr.allowed.extend(["indicator", "target"]);
                            Trigger::Always
                        }
                    };
                    self.finish(&tr);
                    trigger
                }
                None => Trigger::Always,
            };
            let reason = self.req_str(&t, "reason");
            self.finish(&t);
            out.push(TariffAdjustment { id, kind, rate, applies_to, trigger, reason });
        }
        out
    }

    fn distribution(&mut self, root: &Tbl<'_>, who: &Who) -> Distribution {
        let t = self.sub(root, "distribution", &["providers", "payers"]);
        let single_provider = ProviderDistribution {
            rule: ProviderRule::Fixed {
                shares: who.providers.iter().take(1).map(|p| (p.clone(), Decimal::ONE)).collect(),
            },
            remainder: Remainder::LargestRemainder,
        };
        let by_contribution = PayerDistribution {
            rule: if who.payers.len() == 1 {
                PayerRule::Fixed { shares: who.payers.iter().map(|p| (p.clone(), Decimal::ONE)).collect() }
            } else {
                PayerRule::ByContribution
            },
            remainder: Remainder::LargestRemainder,
        };
        let Some(t) = t else {
            if who.providers.len() > 1 {
                self.err(
                    root.at,
                    "distribution.providers",
                    "missing required field (the contract has several providers)",
                );
            }
            return Distribution { providers: single_provider, payers: by_contribution };
        };
        let providers = match self.sub(&t, "providers", &["method", "remainder"]) {
            Some(mut p) => {
                let rule = match self.method::<ProviderMethod>(&p) {
                    Some(ProviderMethod::Fixed) => {
                        p.allowed.push("shares");
                        ProviderRule::Fixed { shares: self.shares(&p) }
                    }
                    Some(ProviderMethod::ByIndicator) => {
                        p.allowed.push("indicators");
                        if p.table.get("indicators").is_none() {
                            self.missing(&p, "indicators");
                        }
                        let mut indicators = BTreeMap::new();
                        for (k, item, path, at) in self.map_entries(&p, "indicators").unwrap_or_default() {
                            if let Some(id) =
                                self.value(item, &path, at, "an id").and_then(|v| self.as_id(v, &path, at))
                            {
                                indicators.insert(k, id);
                            }
                        }
                        ProviderRule::ByIndicator { indicators }
                    }
                    None => {
                        p.allowed.extend(["shares", "indicators"]);
                        single_provider.rule.clone()
                    }
                };
                let remainder = self.opt_choice(&p, "remainder", Remainder::LargestRemainder);
                self.finish(&p);
                ProviderDistribution { rule, remainder }
            }
            None => {
                if who.providers.len() > 1 {
                    self.err(
                        t.at,
                        "distribution.providers",
                        "missing required field (the contract has several providers)",
                    );
                }
                single_provider
            }
        };
        let payers = match self.sub(&t, "payers", &["method", "remainder"]) {
            Some(mut p) => {
                let rule = match self.method::<PayerMethod>(&p) {
                    Some(PayerMethod::ByContribution) => PayerRule::ByContribution,
                    Some(PayerMethod::Fixed) => {
                        p.allowed.push("shares");
                        PayerRule::Fixed { shares: self.shares(&p) }
                    }
                    None => {
                        p.allowed.push("shares");
                        by_contribution.rule.clone()
                    }
                };
                let remainder = self.opt_choice(&p, "remainder", Remainder::LargestRemainder);
                self.finish(&p);
                PayerDistribution { rule, remainder }
            }
            None => by_contribution,
        };
        self.finish(&t);
        Distribution { providers, payers }
    }

    fn shares(&mut self, t: &Tbl<'_>) -> BTreeMap<String, Decimal> {
        if t.table.get("shares").is_none() {
            self.missing(t, "shares");
        }
        let mut shares = BTreeMap::new();
        for (k, item, path, at) in self.map_entries(t, "shares").unwrap_or_default() {
            if let Some(d) =
                self.value(item, &path, at, "a number").and_then(|v| self.as_decimal(v, &path, at, Num::Rate))
            {
                shares.insert(k, d);
            }
        }
        shares
    }

    fn monitoring(&mut self, root: &Tbl<'_>) -> Monitoring {
        let mut m = Monitoring {
            reporting: Reporting::Yearly,
            missing_measurement: MissingMeasurement::BlockSettlement,
            below_quality_gate: GateAction::None,
            notes: String::new(),
        };
        let Some(t) =
            self.sub(root, "monitoring", &["reporting", "missing_measurement", "below_quality_gate", "notes"])
        else {
            return m;
        };
        m.reporting = self.opt_choice(&t, "reporting", m.reporting);
        m.missing_measurement = self.opt_choice(&t, "missing_measurement", m.missing_measurement);
        m.below_quality_gate = self.opt_choice(&t, "below_quality_gate", m.below_quality_gate);
        m.notes = self.opt_str(&t, "notes");
        self.finish(&t);
        m
    }
}

fn ids_with_role(parties: &[Party], role: Role) -> Vec<String> {
    parties.iter().filter(|p| p.role == role && !p.id.is_empty()).map(|p| p.id.clone()).collect()
}

super::choice::choice! {
    /// Methods of `baseline.trend`.
    pub enum TrendMethod {
        /// See [`Trend::FixedRate`].
        FixedRate = "fixed_rate",
        /// See [`Trend::RatesPerYear`].
        RatesPerYear = "rates_per_year",
        /// See [`Trend::MeasuredRate`].
        MeasuredRate = "measured_rate",
        /// See [`Trend::MeasuredIndex`].
        MeasuredIndex = "measured_index",
    }
}

super::choice::choice! {
    /// Methods of `baseline.risk_adjustment`.
    pub enum RiskMethod {
        /// No adjustment.
        None = "none",
        /// A fixed factor.
        Fixed = "fixed",
        /// A measured factor.
        Measured = "measured",
    }
}

super::choice::choice! {
    /// Methods of `payments.shared_savings.corridor`.
    pub enum CorridorMethod {
        /// Fixed rates.
        Fixed = "fixed",
        /// A table by population size.
        PopulationTable = "population_table",
    }
}

super::choice::choice! {
    /// Methods of `payments.shared_savings.force_majeure`.
    pub enum ForceMajeureMethod {
        /// A fraction: the product of agreed figures.
        Fraction = "fraction",
        /// An agreed amount.
        Amount = "amount",
    }
}

super::choice::choice! {
    /// Methods of `payments.shared_savings.loss_share`.
    pub enum LossMethod {
        /// A fixed rate.
        Fixed = "fixed",
        /// A function of the quality score.
        QualityScaled = "quality_scaled",
    }
}

super::choice::choice! {
    /// Kinds of impulse financing.
    pub enum ImpulseWord {
        /// A grant.
        Grant = "grant",
        /// An advance.
        Advance = "advance",
    }
}

super::choice::choice! {
    /// Triggers of a tariff adjustment.
    pub enum TriggerWord {
        /// Always.
        Always = "always",
        /// Target met.
        TargetMet = "target_met",
        /// Target missed.
        TargetMissed = "target_missed",
    }
}

super::choice::choice! {
    /// Methods of `distribution.providers`.
    pub enum ProviderMethod {
        /// Fixed shares.
        Fixed = "fixed",
        /// In proportion to an indicator.
        ByIndicator = "by_indicator",
    }
}

super::choice::choice! {
    /// Methods of `distribution.payers`.
    pub enum PayerMethod {
        /// By contribution.
        ByContribution = "by_contribution",
        /// Fixed shares.
        Fixed = "fixed",
    }
}

super::choice::choice! {
    /// Methods of a payment's `allocation` key.
    pub enum AllocationMethod {
        /// In proportion to an agreed figure per funding stream.
        ByIndicator = "by_indicator",
    }
}
