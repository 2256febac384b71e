//! A forecast of a contract year at run rate (`vereffen settle forecast`,
//! from `domain::settlement::forecast`) as a terminal table, language-neutral
//! JSON and CSV, in English or Dutch (`locales/*/forecast.ftl`). Every
//! document says it is a FORECAST at run rate, not a statement; payments
//! read FROM -> TO with positive amounts; per-party cash says receives/pays
//! and results earned/bore, as the statement does.

use anyhow::Result;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::domain::contract::{Contract, Period, Unit};
use crate::domain::settlement::forecast::{Basis, Flag, Forecast, IndicatorForecast, NotCounted};
use crate::domain::settlement::gate::GateNotice;
use crate::domain::settlement::ENGINE_VERSION;
use crate::ledger::text::{escape_line, spreadsheet_cell as escape_csv};
use crate::present::lang::{Arg, Tr};
use crate::present::statement::{earned_or_bore_in, gate_words, receives_or_pays_in, PARTY_WIDTH};

/// The narrowest indicator column of the table.
pub const INDICATOR_WIDTH: usize = 24;

/// What the forecast documents show besides the forecast: the contract
/// version that governs the year and its currency.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    /// The governing contract version (hash).
    pub version: &'a str,
    /// The governing terms.
    pub terms: &'a Contract,
}

/// A value in its unit: money for euros, else a quantity.
fn value_text(tr: &Tr, unit: Unit, v: Decimal) -> String {
    if unit == Unit::Eur {
        tr.money(v)
    } else {
        tr.number(v.normalize())
    }
}

fn period_kind(p: Period) -> &'static str {
    match p {
        Period::Year => "year",
        Period::Quarter => "quarter",
        Period::Month => "month",
    }
}

fn state_word(tr: &Tr, state: &str) -> String {
    match state {
        "missing" => tr.t("forecast-state-missing"),
        "pending" => tr.t("forecast-state-pending"),
        "disputed" => tr.t("forecast-state-disputed"),
        "conflict" => tr.t("forecast-state-conflict"),
        other => other.to_string(),
    }
}

/// Periods that do not count, in words: `2027-05 pending (to act: x)`.
pub fn not_counted_words(tr: &Tr, periods: &[NotCounted]) -> String {
    periods
        .iter()
        .map(|p| {
            tr.t_args(
                "forecast-period-state",
                &[
                    ("period", Arg::from(p.period.as_str())),
                    ("state", Arg::from(state_word(tr, &p.state))),
                    ("to_act", Arg::from(p.to_act.join(", "))),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How an indicator's value was found, in words.
pub fn how_words(tr: &Tr, year: u16, f: &IndicatorForecast) -> String {
    let v = |d: Decimal| value_text(tr, f.unit, d);
    let value = f.value.map(v).unwrap_or_default();
    let kind = Arg::from(period_kind(f.period));
    let (n, known) = (Arg::from(f.periods_in_year), Arg::from(f.periods_known));
    let year_s = year.to_string();
    let mut s = match f.basis {
        Basis::Agreed if f.period == Period::Year => {
            tr.t_args("forecast-how-agreed-year", &[("year", Arg::from(year_s.as_str()))])
        }
        Basis::Agreed => tr.t_args(
            "forecast-how-agreed-all",
            &[("n", n), ("kind", kind), ("aggregation", Arg::from(f.aggregation.to_string()))],
        ),
        Basis::RunRate => {
            let base = [("known", known), ("n", n), ("kind", kind)];
            let head = tr.t_args("forecast-how-known", &base);
            let tail = match f.aggregation {
                crate::domain::contract::Aggregation::Sum => {
                    let mut t = tr.t_args(
                        "forecast-how-sum",
                        &[
                            ("sum", Arg::from(f.known_sum.map(v).unwrap_or_default())),
                            ("n", Arg::from(f.periods_in_year)),
                            ("known", Arg::from(f.periods_known)),
                            ("value", Arg::from(value.clone())),
                        ],
                    );
                    if let Some(dp) = f.rounded_to {
                        t.push_str(&tr.t_args("forecast-how-rounded", &[("dp", Arg::from(dp as u64))]));
                    }
                    t
                }
                crate::domain::contract::Aggregation::Mean => {
                    tr.t_args("forecast-how-mean", &[("value", Arg::from(value.clone()))])
                }
                crate::domain::contract::Aggregation::Last => tr.t_args(
                    "forecast-how-last",
                    &[
                        ("period", Arg::from(f.last_known.clone().unwrap_or_default())),
                        ("value", Arg::from(value.clone())),
                    ],
                ),
            };
            format!("{head}: {tail}")
        }
        Basis::Assumed => tr.t_args("forecast-how-assumed", &[("year", Arg::from(year_s.as_str()))]),
        Basis::LastYear => tr.t_args(
            "forecast-how-last-year",
            &[
                ("year", Arg::from(year_s.as_str())),
                ("from", Arg::from(f.from_year.map(|y| y.to_string()).unwrap_or_default())),
            ],
        ),
        Basis::Unknown if f.required => {
            tr.t_args("forecast-how-unknown-required", &[("year", Arg::from(year_s.as_str()))])
        }
        Basis::Unknown => tr.t_args("forecast-how-unknown-optional", &[("year", Arg::from(year_s.as_str()))]),
    };
    if f.after_through > 0 {
        s.push_str(&tr.t_args("forecast-how-after-through", &[("n", Arg::from(f.after_through))]));
    }
    s
}

/// The basis in a word.
pub fn basis_word(tr: &Tr, b: Basis) -> String {
    tr.t(match b {
        Basis::Agreed => "forecast-basis-agreed",
        Basis::RunRate => "forecast-basis-run-rate",
        Basis::Assumed => "forecast-basis-assumed",
        Basis::LastYear => "forecast-basis-last-year",
        Basis::Unknown => "forecast-basis-unknown",
    })
}

/// A flag in words, without its clause.
pub fn flag_words(tr: &Tr, f: &Flag) -> String {
    match f {
        Flag::QualityGate { score, gate, met, consequence, .. } => {
            gate_words(tr, &GateNotice { score: *score, gate: *gate, met: *met, consequence: *consequence })
        }
        Flag::ProviderLoss { party, amount, .. } => tr.t_args(
            "forecast-flag-provider-loss",
            &[("party", Arg::from(escape_line(party).into_owned())), ("amount", Arg::from(tr.money(*amount)))],
        ),
        Flag::InsideCorridor { savings, corridor, shared, .. } => tr.t_args(
            if *shared { "forecast-flag-inside-corridor-shared" } else { "forecast-flag-inside-corridor" },
            &[("savings", Arg::from(tr.money(*savings))), ("corridor", Arg::from(tr.money(*corridor)))],
        ),
        Flag::InsideLossCorridor { loss, .. } => {
            tr.t_args("forecast-flag-inside-loss-corridor", &[("loss", Arg::from(tr.money(*loss)))])
        }
        Flag::CapReached { line, cap, .. } => {
            tr.t_args("forecast-flag-cap", &[("line", Arg::from(line.as_str())), ("cap", Arg::from(tr.money(*cap)))])
        }
        Flag::BelowTarget { indicator, score, .. } => tr.t_args(
            if score.is_zero() { "forecast-flag-not-met" } else { "forecast-flag-below-target" },
            &[("indicator", Arg::from(indicator.as_str())), ("score", Arg::from(tr.factor(*score)))],
        ),
        Flag::BonusNotMet { bonus, indicator, .. } => tr.t_args(
            "forecast-flag-bonus-not-met",
            &[("bonus", Arg::from(bonus.as_str())), ("indicator", Arg::from(indicator.as_str()))],
        ),
        Flag::MissingMeasurement { indicator, periods, .. } => tr.t_args(
            "forecast-flag-missing",
            &[
                ("indicator", Arg::from(indicator.as_str())),
                ("n", Arg::from(periods.len())),
                ("periods", Arg::from(not_counted_words(tr, periods))),
            ],
        ),
    }
}

/// A flag's contract clause.
pub fn flag_clause(f: &Flag) -> &str {
    match f {
        Flag::QualityGate { clause, .. }
        | Flag::ProviderLoss { clause, .. }
        | Flag::InsideCorridor { clause, .. }
        | Flag::InsideLossCorridor { clause, .. }
        | Flag::CapReached { clause, .. }
        | Flag::BelowTarget { clause, .. }
        | Flag::BonusNotMet { clause, .. }
        | Flag::MissingMeasurement { clause, .. } => clause,
    }
}

/// What is missing, in words, with what to do.
fn missing_words(tr: &Tr, f: &Forecast, m: &crate::domain::settlement::forecast::Missing) -> String {
    let year = m.year.to_string();
    if m.year == f.year {
        tr.t_args(
            "forecast-missing-this-year",
            &[
                ("indicator", Arg::from(m.indicator.as_str())),
                ("year", Arg::from(year.as_str())),
                ("before", Arg::from(m.year.saturating_sub(1).to_string())),
            ],
        )
    } else {
        tr.t_args(
            "forecast-missing-other-year",
            &[
                ("indicator", Arg::from(m.indicator.as_str())),
                ("year", Arg::from(year.as_str())),
                ("periods", Arg::from(not_counted_words(tr, &m.periods))),
            ],
        )
    }
}

/// The forecast as a table for the terminal.
pub fn table(tr: &Tr, f: &Forecast, h: &Header<'_>) -> String {
    let mut o = String::new();
    let banner = tr.t("forecast-banner");
    o.push_str(&banner);
    o.push('\n');
    let year = f.year.to_string();
    o.push_str(&tr.t_args(
        "forecast-title",
        &[("contract", Arg::from(escape_line(&f.contract).into_owned())), ("year", Arg::from(year.as_str()))],
    ));
    o.push('\n');
    o.push_str(&tr.t_args("forecast-version", &[("version", Arg::from(h.version))]));
    o.push('\n');
    o.push_str(&tr.t_args("forecast-engine", &[("engine", Arg::from(ENGINE_VERSION))]));
    o.push('\n');
    o.push_str(&match (&f.through, &f.as_of) {
        (Some(t), _) => tr.t_args("forecast-through", &[("through", Arg::from(t.as_str()))]),
        (None, Some(a)) => tr.t_args("forecast-as-of", &[("as_of", Arg::from(a.as_str()))]),
        (None, None) => tr.t("forecast-as-of-none"),
    });
    o.push('\n');
    o.push_str(&tr.t("forecast-only-agreed"));
    o.push('\n');

    o.push('\n');
    let ids: Vec<String> = f.indicators.iter().map(|i| escape_line(&i.indicator).into_owned()).collect();
    let iw = ids.iter().map(|i| i.chars().count()).fold(INDICATOR_WIDTH, usize::max);
    let head = [tr.t("forecast-figures-heading"), tr.t("forecast-basis-heading"), tr.t("forecast-value-heading")];
    let bw = [Basis::Agreed, Basis::RunRate, Basis::Assumed, Basis::LastYear, Basis::Unknown]
        .iter()
        .map(|b| basis_word(tr, *b).chars().count())
        .chain([head[1].chars().count()])
        .max()
        .unwrap_or(0);
    o.push_str(&format!("{:<iw$} {:<bw$} {:>20}\n", head[0], head[1], head[2]));
    for (i, id) in f.indicators.iter().zip(&ids) {
        let value = i.value.map(|v| value_text(tr, i.unit, v)).unwrap_or_else(|| "-".into());
        o.push_str(&format!("{:<iw$} {:<bw$} {:>20}\n", id, basis_word(tr, i.basis), value));
        o.push_str(&format!("    {}\n", how_words(tr, f.year, i)));
        if !i.not_counted.is_empty() {
            o.push_str(&format!(
                "    {}\n",
                tr.t_args("forecast-not-counted", &[("periods", Arg::from(not_counted_words(tr, &i.not_counted)))])
            ));
        }
    }
    for y in &f.other_years {
        let unit = h.terms.indicator(&y.indicator).map_or(Unit::Count, |i| i.unit);
        o.push_str(&format!(
            "{:<iw$} {:<bw$} {:>20}\n",
            escape_line(&y.indicator),
            basis_word(tr, Basis::Agreed),
            value_text(tr, unit, y.value)
        ));
        o.push_str(&format!(
            "    {}\n",
            tr.t_args("forecast-how-other-year", &[("year", Arg::from(y.year.to_string()))])
        ));
    }

    if !f.missing.is_empty() {
        o.push('\n');
        o.push_str(&tr.t_args("forecast-incomplete", &[("n", Arg::from(f.missing.len()))]));
        o.push('\n');
        for m in &f.missing {
            o.push_str(&format!("  - {}\n", missing_words(tr, f, m)));
        }
    }

    if let Some(s) = &f.statement {
        let parties: Vec<String> = s.parties.iter().map(|p| escape_line(&p.party).into_owned()).collect();
        let cash = tr.t("forecast-cash-heading");
        let result = tr.t("forecast-result-heading");
        let w = parties
            .iter()
            .map(|p| p.chars().count())
            .chain([cash.chars().count(), PARTY_WIDTH])
            .chain(s.payments.iter().map(|p| p.from.chars().count().max(p.to.chars().count())))
            .max()
            .unwrap_or(PARTY_WIDTH);
        o.push('\n');
        if s.parties.is_empty() {
            o.push_str(&tr.t("forecast-no-payments"));
            o.push('\n');
        } else {
            o.push_str(&format!("{:<w$} {:>24} {:>24}\n", cash, tr.t("forecast-on-balance-heading"), result));
            for (p, name) in s.parties.iter().zip(&parties) {
                o.push_str(&format!(
                    "{:<w$} {:>24} {:>24}\n",
                    name,
                    receives_or_pays_in(tr, p.net),
                    earned_or_bore_in(tr, p.result)
                ));
            }
        }
        if !s.payments.is_empty() {
            o.push('\n');
            o.push_str(
                &tr.t_args("forecast-payments-heading", &[("currency", Arg::from(h.terms.currency.to_string()))]),
            );
            o.push('\n');
            for p in &s.payments {
                let route = format!("{} -> {}", escape_line(&p.from), escape_line(&p.to));
                o.push_str(&format!(
                    "{:<width$} {:>20}  ({})\n",
                    route,
                    tr.money(p.amount),
                    p.funding,
                    width = 2 * w + 4
                ));
            }
        }
    }

    o.push('\n');
    o.push_str(&tr.t("forecast-flags-heading"));
    o.push('\n');
    if f.flags.is_empty() {
        o.push_str(&format!("  {}\n", tr.t("forecast-no-flags")));
    }
    for fl in &f.flags {
        o.push_str(&format!("  - {} [{}]\n", flag_words(tr, fl), flag_clause(fl)));
    }
    o.push_str(&banner);
    o.push('\n');
    o
}

/// The forecast as language-neutral JSON: the forecast's fields, plus
/// `kind` = `forecast`, `signed` = false, the governing `version`, the
/// `engine`, `complete`, and from the forecast statement `parties` (cash
/// and result), `payments` (FROM -> TO, positive) and `totals_by_stream`;
/// amounts and values as exact decimal strings.
pub fn json(f: &Forecast, h: &Header<'_>) -> Result<String> {
    let mut v = serde_json::to_value(f)?;
    if let Some(m) = v.as_object_mut() {
        m.insert("kind".into(), json!("forecast"));
        m.insert("signed".into(), json!(false));
        m.insert("version".into(), json!(h.version));
        m.insert("engine".into(), json!(ENGINE_VERSION));
        m.insert("complete".into(), json!(f.statement.is_some()));
        let (parties, payments, streams) = match &f.statement {
            Some(s) => (
                serde_json::to_value(&s.parties)?,
                serde_json::to_value(&s.payments)?,
                serde_json::to_value(&s.totals_by_stream)?,
            ),
            None => (Value::Null, Value::Null, Value::Null),
        };
        m.insert("parties".into(), parties);
        m.insert("payments".into(), payments);
        m.insert("totals_by_stream".into(), streams);
    }
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}

/// The forecast as CSV, one row per fact (`;` and decimal commas in Dutch):
/// columns contract, year, row, item, basis, value, detail, clause.
pub fn csv(tr: &Tr, f: &Forecast, h: &Header<'_>) -> Result<String> {
    let lang = tr.lang();
    let mut w = csv::WriterBuilder::new().delimiter(lang.csv_separator()).from_writer(Vec::new());
    let header: Vec<String> = ["contract", "year", "row", "item", "basis", "value", "detail", "clause"]
        .iter()
        .map(|c| tr.t(&format!("forecast-csv-{c}")))
        .collect();
    w.write_record(&header)?;
    let year = f.year.to_string();
    let mut row = |kind: &str, item: &str, basis: &str, value: &str, detail: &str, clause: &str| {
        let r = [
            escape_csv(&f.contract).into_owned(),
            year.clone(),
            tr.t(&format!("forecast-csv-row-{kind}")),
            escape_csv(item).into_owned(),
            escape_csv(basis).into_owned(),
            value.to_string(),
            escape_csv(detail).into_owned(),
            clause.to_string(),
        ];
        w.write_record(&r)
    };
    row("forecast", "", "", "", &tr.t("forecast-banner"), "")?;
    row("version", "", "", h.version, "", "")?;
    row("as-of", "", "", f.through.as_deref().or(f.as_of.as_deref()).unwrap_or(""), "", "")?;
    for i in &f.indicators {
        let value = i.value.map(|v| lang.plain(v.normalize())).unwrap_or_default();
        row("indicator", &i.indicator, &basis_word(tr, i.basis), &value, &how_words(tr, f.year, i), "")?;
        for p in &i.not_counted {
            row("not-counted", &i.indicator, &state_word(tr, &p.state), &p.period, &p.to_act.join(", "), "")?;
        }
    }
    for y in &f.other_years {
        let detail = tr.t_args("forecast-how-other-year", &[("year", Arg::from(y.year.to_string()))]);
        row("indicator", &y.indicator, &basis_word(tr, Basis::Agreed), &lang.plain(y.value.normalize()), &detail, "")?;
    }
    for m in &f.missing {
        row("missing", &m.indicator, "", &m.year.to_string(), &missing_words(tr, f, m), "")?;
    }
    if let Some(s) = &f.statement {
        for p in &s.parties {
            row("cash", &p.party, "", &lang.plain(p.net), &receives_or_pays_in(tr, p.net), "")?;
            row("result", &p.party, "", &lang.plain(p.result), &earned_or_bore_in(tr, p.result), "")?;
        }
        for p in &s.payments {
            row("payment", &format!("{} -> {}", p.from, p.to), &p.funding.to_string(), &lang.plain(p.amount), "", "")?;
        }
    }
    for fl in &f.flags {
        let value = match fl {
            Flag::QualityGate { score, .. } | Flag::BelowTarget { score, .. } => lang.plain(*score),
            Flag::ProviderLoss { amount, .. } => lang.plain(*amount),
            Flag::InsideCorridor { savings, .. } => lang.plain(*savings),
            Flag::InsideLossCorridor { loss, .. } => lang.plain(*loss),
            Flag::CapReached { cap, .. } => lang.plain(*cap),
            Flag::BonusNotMet { .. } | Flag::MissingMeasurement { .. } => String::new(),
        };
        row("flag", flag_kind(fl), "", &value, &flag_words(tr, fl), flag_clause(fl))?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

/// The flag's name as in the JSON.
fn flag_kind(f: &Flag) -> &'static str {
    match f {
        Flag::QualityGate { .. } => "quality_gate",
        Flag::ProviderLoss { .. } => "provider_loss",
        Flag::InsideCorridor { .. } => "inside_corridor",
        Flag::InsideLossCorridor { .. } => "inside_loss_corridor",
        Flag::CapReached { .. } => "cap_reached",
        Flag::BelowTarget { .. } => "below_target",
        Flag::BonusNotMet { .. } => "bonus_not_met",
        Flag::MissingMeasurement { .. } => "missing_measurement",
    }
}
