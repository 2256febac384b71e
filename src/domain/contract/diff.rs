//! Comparing two contract versions field by field.
//!
//! Both versions are flattened from their canonical JSON into
//! `path -> value` leaves (list elements with an `id` are keyed by it, so
//! reordering is not a change and renaming shows up as remove + add). Known
//! paths get a [`FieldLabel`] (a message id the reader's language words) and
//! their values keep their type ([`FieldValue`]: a rate, money in the version's
//! currency, a number, text); any other path is shown as itself.
//!
//! The words are presentation: `present::negotiation::change_words` words a
//! [`Change`] in the reader's language, and a change's `Display` (in the
//! same module) is that wording in English (`provider share of savings:
//! 50% -> 45%`). [`FieldValue`]'s `Display` here is the English value, in the
//! contract document's formats (`45%`, `EUR 1,000.00`).

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde_json::Value;

use super::model::{Contract, Currency};
use super::render::{money_in, percent};

/// One difference between two contract versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Canonical field path, e.g. `payments.shared_savings.provider_share`.
    pub path: String,
    /// What the field is called (a message id and the list keys below it).
    pub label: FieldLabel,
    /// Value in the old version; `None` when added.
    pub before: Option<FieldValue>,
    /// Value in the new version; `None` when removed.
    pub after: Option<FieldValue>,
}

/// The name of a changed field, for the reader's language to word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLabel {
    /// The message id of a known field (e.g. `diff-provider-share`, worded
    /// `provider share of savings`); `None` for a path the table does not
    /// know, which the reader sees as the path itself.
    pub id: Option<&'static str>,
    /// The list keys on the path and the rest of the path below the known
    /// field (`impulse amount (0)`), shown in parentheses after the name.
    pub context: Vec<String>,
}

/// A value of a changed field, typed so that each language formats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// No value (`null`).
    None,
    /// Yes or no.
    Bool(bool),
    /// A rate (a fraction; `0.45` reads as 45%).
    Rate(Decimal),
    /// An amount in the version's currency.
    Money(Decimal, Currency),
    /// A number as written in the contract (`2026`, `0.5`).
    Number(String),
    /// Text as written (a title, a choice such as `two_sided`).
    Text(String),
    /// A list of plain values.
    List(Vec<FieldValue>),
}

impl fmt::Display for FieldValue {
    /// The English value: `45%`, `EUR 1,000.00`, `none`, `[a, b]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::None => f.write_str("none"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Rate(d) => f.write_str(&percent(*d)),
            FieldValue::Money(d, c) => f.write_str(&money_in(*d, *c)),
            FieldValue::Number(s) | FieldValue::Text(s) => f.write_str(s),
            FieldValue::List(items) => {
                let words: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", words.join(", "))
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Fmt {
    Rate,
    Money,
    /// A number kept as written (a year, a weight, a count).
    Number,
    Plain,
}

/// (path suffix or exact path, message id, format). Matched against the
/// path with list keys removed (`indicators[x].quality.weight` ->
/// `indicators.quality.weight`). Every id has a message in
/// `src/present/locales/{en,nl}/contract-diff.ftl`.
const LABELS: &[(&str, &str, Fmt)] = &[
    ("title", "diff-title", Fmt::Plain),
    ("rounding", "diff-rounding", Fmt::Plain),
    ("term.first_year", "diff-first-year", Fmt::Number),
    ("term.last_year", "diff-last-year", Fmt::Number),
    ("knobs.scope", "diff-knob-scope", Fmt::Plain),
    ("knobs.financing_base", "diff-knob-financing-base", Fmt::Plain),
    ("knobs.financing_goal", "diff-knob-financing-goal", Fmt::Plain),
    ("knobs.contract_form", "diff-knob-contract-form", Fmt::Plain),
    ("knobs.term", "diff-knob-term", Fmt::Plain),
    ("knobs.risk_allocation.implementation", "diff-knob-risk-implementation", Fmt::Plain),
    ("knobs.risk_allocation.cost_overrun", "diff-knob-risk-cost-overrun", Fmt::Plain),
    ("knobs.risk_allocation.volume", "diff-knob-risk-volume", Fmt::Plain),
    ("knobs.chain_partners", "diff-knob-chain-partners", Fmt::Plain),
    ("knobs.provider_reward", "diff-knob-provider-reward", Fmt::Plain),
    ("knobs.condition_scope", "diff-knob-condition-scope", Fmt::Plain),
    ("baseline.cost", "diff-baseline-cost", Fmt::Money),
    ("baseline.base_year", "diff-baseline-year", Fmt::Number),
    ("baseline.trend.rate", "diff-trend-rate", Fmt::Rate),
    ("baseline.trend.rates", "diff-trend-rates", Fmt::Rate),
    ("parties.contribution", "diff-payer-contribution", Fmt::Money),
    ("indicators.quality.weight", "diff-quality-weight", Fmt::Number),
    ("payments.shared_savings.provider_share", "diff-provider-share", Fmt::Rate),
    ("payments.shared_savings.sided", "diff-sided", Fmt::Plain),
    ("payments.shared_savings.sharing_base", "diff-sharing-base", Fmt::Plain),
    ("payments.shared_savings.min_quality_score", "diff-min-quality-score", Fmt::Rate),
    ("payments.shared_savings.quality_scaling", "diff-quality-scaling", Fmt::Plain),
    ("payments.shared_savings.withhold", "diff-withhold", Fmt::Rate),
    ("payments.shared_savings.savings_cap", "diff-savings-cap", Fmt::Rate),
    ("payments.shared_savings.loss_cap", "diff-loss-cap", Fmt::Rate),
    ("payments.shared_savings.carry_forward_losses", "diff-carry-forward-losses", Fmt::Plain),
    ("payments.shared_savings.corridor.min_savings_rate", "diff-corridor-min-savings-rate", Fmt::Rate),
    ("payments.shared_savings.corridor.min_loss_rate", "diff-corridor-min-loss-rate", Fmt::Rate),
    ("payments.shared_savings.corridor.rows.min_savings_rate", "diff-corridor-row-min-savings-rate", Fmt::Rate),
    ("payments.shared_savings.corridor.rows.min_loss_rate", "diff-corridor-row-min-loss-rate", Fmt::Rate),
    ("payments.shared_savings.loss_share.rate", "diff-loss-share-rate", Fmt::Rate),
    ("payments.shared_savings.loss_share.min", "diff-loss-share-min", Fmt::Rate),
    ("payments.shared_savings.loss_share.max", "diff-loss-share-max", Fmt::Rate),
    ("payments.volume.activities.price", "diff-price", Fmt::Money),
    ("payments.volume.activities.max_amount_per_year", "diff-max-amount-per-year", Fmt::Money),
    ("payments.volume.caps.max_quantity", "diff-claim-cap", Fmt::Number),
    ("payments.pay_for_performance.bonuses.amount", "diff-bonus", Fmt::Money),
    ("payments.pay_for_performance.bonuses.target", "diff-bonus-target", Fmt::Number),
    ("payments.bundled.target_price", "diff-target-price", Fmt::Money),
    ("payments.bundled.stop_gain", "diff-stop-gain", Fmt::Rate),
    ("payments.bundled.stop_loss", "diff-stop-loss", Fmt::Rate),
    ("payments.capitation.amount_per_member", "diff-amount-per-member", Fmt::Money),
    ("payments.capitation.risk_corridors.provider_share", "diff-risk-band-provider-share", Fmt::Rate),
    ("impulse.amount", "diff-impulse-amount", Fmt::Money),
    ("impulse.kind.repayment_rate", "diff-impulse-repayment-rate", Fmt::Rate),
    ("revenue_guarantees.floor", "diff-revenue-floor", Fmt::Money),
    ("tariff_adjustments.rate", "diff-tariff-adjustment", Fmt::Rate),
    ("distribution.providers.rule.shares", "diff-provider-payout-share", Fmt::Rate),
    ("distribution.payers.rule.shares", "diff-payer-share", Fmt::Rate),
];

/// The message id of every known field, in table order (for the tests that
/// hold each language to a message per field).
pub fn label_ids() -> impl Iterator<Item = &'static str> {
    LABELS.iter().map(|(_, id, _)| *id)
}

/// Differences from `old` to `new`, in canonical path order.
pub fn diff(old: &Contract, new: &Contract) -> Vec<Change> {
    let mut a = BTreeMap::new();
    let mut b = BTreeMap::new();
    flatten("", &old.to_canonical_json(), &mut a);
    flatten("", &new.to_canonical_json(), &mut b);
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = Vec::new();
    for path in paths {
        let (x, y) = (a.get(path), b.get(path));
        if x == y {
            continue;
        }
        let (label, fmt) = label(path);
        let before = x.map(|v| show(v, fmt, old.currency));
        let after = y.map(|v| show(v, fmt, new.currency));
        if let (Some(b @ FieldValue::List(_)), Some(a @ FieldValue::List(_))) = (&before, &after) {
            // Two lists that read the same (`[]` and `[""]`, which no valid
            // contract holds) are no change a reader could see; the
            // wording compared lists as shown before it was typed.
            if b.to_string() == a.to_string() {
                continue;
            }
        }
        out.push(Change { path: path.clone(), label, before, after });
    }
    out
}

fn flatten(path: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                flatten(&join(k), x, out);
            }
        }
        Value::Array(items) if items.iter().all(|x| x.get("id").is_some_and(Value::is_string)) && !items.is_empty() => {
            for x in items {
                let id = x.get("id").and_then(Value::as_str).unwrap_or_default();
                flatten(&format!("{path}[{id}]"), x, out);
            }
        }
        Value::Array(items) if items.iter().all(|x| !x.is_object() && !x.is_array()) => {
            // A list of plain values is one leaf, shown as a list.
            out.insert(path.to_string(), v.clone());
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), x, out);
            }
        }
        _ => {
            out.insert(path.to_string(), v.clone());
        }
    }
}

fn label(path: &str) -> (FieldLabel, Fmt) {
    // Strip list keys to match the table, keep them for the reader.
    let mut plain = String::new();
    let mut keys = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let close = rest[open..].find(']').map(|c| open + c).unwrap_or(rest.len() - 1);
        keys.push(rest[open + 1..close].to_string());
        rest = rest.get(close + 1..).unwrap_or("");
    }
    plain.push_str(rest);
    for (suffix, id, fmt) in LABELS {
        let hit = plain == *suffix || plain.strip_prefix(suffix).is_some_and(|r| r.starts_with('.'));
        if hit {
            let tail = &plain[suffix.len()..];
            let mut context = keys;
            if !tail.is_empty() {
                context.push(tail.trim_start_matches('.').to_string());
            }
            return (FieldLabel { id: Some(*id), context }, *fmt);
        }
    }
    (FieldLabel { id: None, context: Vec::new() }, Fmt::Plain)
}

/// A value typed for a reader; money in the version's own `currency`.
fn show(v: &Value, fmt: Fmt, currency: Currency) -> FieldValue {
    match v {
        Value::Null => FieldValue::None,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Number(n) => FieldValue::Number(n.to_string()),
        Value::String(s) => match (fmt, s.parse::<Decimal>()) {
            (Fmt::Rate, Ok(d)) => FieldValue::Rate(d),
            (Fmt::Money, Ok(d)) => FieldValue::Money(d, currency),
            (Fmt::Number, Ok(_)) => FieldValue::Number(s.clone()),
            _ => FieldValue::Text(s.clone()),
        },
        Value::Array(items) => FieldValue::List(items.iter().map(|x| show(x, Fmt::Plain, Currency::EUR)).collect()),
        Value::Object(_) => FieldValue::Text(v.to_string()),
    }
}
