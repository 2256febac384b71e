//! The oracle of the diff's English: the wording code as it was before the
//! labels became message ids and the values typed (commit 1268fc0),
//! verbatim but for returning strings. The tests hold `Change`'s `Display`
//! (now `present::negotiation::change_words` in English) to it byte for
//! byte, on the example contracts and on generated ones
//! (`tests::generated`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use super::model::{Contract, Currency};
use super::render::{money_in, percent};

#[derive(Clone, Copy)]
enum Fmt {
    Rate,
    Money,
    Plain,
}

/// (path suffix or exact path, label, format). Matched against the path with
/// list keys removed (`indicators[x].quality.weight` -> `indicators.quality.weight`).
const LABELS: &[(&str, &str, Fmt)] = &[
    ("title", "title", Fmt::Plain),
    ("rounding", "rounding", Fmt::Plain),
    ("term.first_year", "first contract year", Fmt::Plain),
    ("term.last_year", "last contract year", Fmt::Plain),
    ("knobs.scope", "knob 1, scope", Fmt::Plain),
    ("knobs.financing_base", "knob 2, financing base", Fmt::Plain),
    ("knobs.financing_goal", "knob 3, financing goal", Fmt::Plain),
    ("knobs.contract_form", "knob 4, contract form", Fmt::Plain),
    ("knobs.term", "knob 5, term", Fmt::Plain),
    ("knobs.risk_allocation.implementation", "knob 6, risk of failed implementation", Fmt::Plain),
    ("knobs.risk_allocation.cost_overrun", "knob 6, risk of cost overrun", Fmt::Plain),
    ("knobs.risk_allocation.volume", "knob 6, risk of more patients", Fmt::Plain),
    ("knobs.chain_partners", "knob 7, chain partners", Fmt::Plain),
    ("knobs.provider_reward", "knob 8, reward of providers", Fmt::Plain),
    ("knobs.condition_scope", "knob 9, condition scope", Fmt::Plain),
    ("baseline.cost", "baseline cost", Fmt::Money),
    ("baseline.base_year", "baseline year", Fmt::Plain),
    ("baseline.trend.rate", "yearly trend", Fmt::Rate),
    ("baseline.trend.rates", "trend rate", Fmt::Rate),
    ("parties.contribution", "payer contribution", Fmt::Money),
    ("indicators.quality.weight", "quality weight", Fmt::Plain),
    ("payments.shared_savings.provider_share", "provider share of savings", Fmt::Rate),
    ("payments.shared_savings.sided", "shared savings risk", Fmt::Plain),
    ("payments.shared_savings.sharing_base", "sharing base", Fmt::Plain),
    ("payments.shared_savings.min_quality_score", "minimum quality score", Fmt::Rate),
    ("payments.shared_savings.quality_scaling", "quality scaling of the share", Fmt::Plain),
    ("payments.shared_savings.withhold", "withhold", Fmt::Rate),
    ("payments.shared_savings.savings_cap", "savings cap (share of benchmark)", Fmt::Rate),
    ("payments.shared_savings.loss_cap", "loss cap (share of benchmark)", Fmt::Rate),
    ("payments.shared_savings.carry_forward_losses", "carry forward of losses", Fmt::Plain),
    ("payments.shared_savings.corridor.min_savings_rate", "minimum savings rate (corridor)", Fmt::Rate),
    ("payments.shared_savings.corridor.min_loss_rate", "minimum loss rate (corridor)", Fmt::Rate),
    ("payments.shared_savings.corridor.rows.min_savings_rate", "corridor row, minimum savings rate", Fmt::Rate),
    ("payments.shared_savings.corridor.rows.min_loss_rate", "corridor row, minimum loss rate", Fmt::Rate),
    ("payments.shared_savings.loss_share.rate", "provider share of losses", Fmt::Rate),
    ("payments.shared_savings.loss_share.min", "minimum loss share", Fmt::Rate),
    ("payments.shared_savings.loss_share.max", "maximum loss share", Fmt::Rate),
    ("payments.volume.activities.price", "price", Fmt::Money),
    ("payments.volume.activities.max_amount_per_year", "most paid per year", Fmt::Money),
    ("payments.volume.caps.max_quantity", "claim cap", Fmt::Plain),
    ("payments.pay_for_performance.bonuses.amount", "bonus", Fmt::Money),
    ("payments.pay_for_performance.bonuses.target", "bonus target", Fmt::Plain),
    ("payments.bundled.target_price", "target price per episode", Fmt::Money),
    ("payments.bundled.stop_gain", "stop-gain", Fmt::Rate),
    ("payments.bundled.stop_loss", "stop-loss", Fmt::Rate),
    ("payments.capitation.amount_per_member", "budget per member per year", Fmt::Money),
    ("payments.capitation.risk_corridors.provider_share", "risk band provider share", Fmt::Rate),
    ("impulse.amount", "impulse amount", Fmt::Money),
    ("impulse.kind.repayment_rate", "impulse repayment rate", Fmt::Rate),
    ("revenue_guarantees.floor", "revenue floor", Fmt::Money),
    ("tariff_adjustments.rate", "tariff adjustment", Fmt::Rate),
    ("distribution.providers.rule.shares", "provider share of payouts", Fmt::Rate),
    ("distribution.payers.rule.shares", "payer share", Fmt::Rate),
];

/// The English words of the changes from `old` to `new`, as the code
/// before typed values and message ids wrote them.
pub(crate) fn old_words(old: &Contract, new: &Contract) -> Vec<String> {
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
        out.push(match (before, after) {
            (Some(b), Some(a)) => format!("{label}: {b} -> {a}"),
            (None, Some(a)) => format!("{label}: added ({a})"),
            (Some(b), None) => format!("{label}: removed (was {b})"),
            (None, None) => format!("{label}: unchanged"),
        });
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
            let words: Vec<String> = items.iter().map(|x| show(x, Fmt::Plain, Currency::EUR)).collect();
            out.insert(path.to_string(), Value::String(format!("[{}]", words.join(", "))));
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

fn label(path: &str) -> (String, Fmt) {
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
    for (suffix, text, fmt) in LABELS {
        let hit = plain == *suffix || plain.strip_prefix(suffix).is_some_and(|r| r.starts_with('.'));
        if hit {
            let tail = &plain[suffix.len()..];
            let mut label = text.to_string();
            if !keys.is_empty() || !tail.is_empty() {
                let mut ctx: Vec<String> = keys.clone();
                if !tail.is_empty() {
                    ctx.push(tail.trim_start_matches('.').to_string());
                }
                label = format!("{label} ({})", ctx.join(", "));
            }
            return (label, *fmt);
        }
    }
    (path.to_string(), Fmt::Plain)
}

/// A value for a reader; money in the version's own `currency`.
fn show(v: &Value, fmt: Fmt, currency: Currency) -> String {
    match v {
        Value::Null => "none".to_string(),
        Value::String(s) => match (fmt, s.parse::<Decimal>()) {
            (Fmt::Rate, Ok(d)) => percent(d),
            (Fmt::Money, Ok(d)) => money_in(d, currency),
            _ => s.clone(),
        },
        other => other.to_string(),
    }
}
