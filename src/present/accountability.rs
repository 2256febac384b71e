//! Accountability per funding stream (verantwoording): for one settled
//! (or computed) year, per funding stream, every transfer FROM -> TO with
//! its amount, the title it is paid under (the line's label), the contract
//! clause that governs it and, for a part of a payment split by an
//! allocation key, the key and the agreed figures used (the line's formula).
//! Totals per stream and direction are summed from the transfers and
//! checked against the statement's `totals_by_stream`: an accountant of a
//! payer or provider ticks each stream off against the statement.
//!
//! The document is built once ([`Accountability::of`]) and rendered as a
//! table or CSV in a reader's language, or as language-neutral JSON.

use anyhow::{bail, Result};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::domain::contract::{AllocationKey, Contract, Funding};
use crate::domain::settlement::allocation::keyed_components;
use crate::domain::settlement::cosign::Computed;
use crate::domain::settlement::{Line, Statement, TransferKind};
use crate::present::lang::{Arg, Lang, Tr};
use crate::present::layout::pad;
use crate::present::statement::Standing;
use crate::present::words;

/// Width of the FROM -> TO column of the table.
const PARTIES_WIDTH: usize = 34;
/// Width of the amount column of the table.
const AMOUNT_WIDTH: usize = 16;

/// The key that split a transfer out of a whole payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse {
    /// The contract field of the key, e.g. `payments.shared_savings.allocation`.
    pub clause: &'static str,
    /// The line of the whole payment that was split.
    pub whole_line: String,
    /// Its amount.
    pub whole: Decimal,
    /// (stream, indicator, agreed figure of the year), in the order of the
    /// contract's `funding_streams`.
    pub figures: Vec<(String, String, Decimal)>,
}

/// One transfer of a stream.
#[derive(Debug, Clone)]
pub struct Item<'s> {
    /// The statement line.
    pub line: &'s Line,
    /// Who pays.
    pub from: &'s str,
    /// Who receives.
    pub to: &'s str,
    /// The amount (0 or more).
    pub amount: Decimal,
    /// Result or loan (advances and repayments).
    pub kind: TransferKind,
    /// The contract clause (field path) the transfer is paid under.
    pub clause: String,
    /// The allocation key, for a part of a split payment.
    pub key: Option<KeyUse>,
}

/// The transfers of one funding stream with their totals.
#[derive(Debug, Clone)]
pub struct Stream<'s> {
    /// The stream's name.
    pub funding: String,
    /// Its transfers, in statement order.
    pub items: Vec<Item<'s>>,
    /// Sum of the transfers from payers to providers.
    pub payers_to_providers: Decimal,
    /// Sum of the transfers from providers to payers.
    pub providers_to_payers: Decimal,
}

/// The accountability document of one statement.
#[derive(Clone)]
pub struct Accountability<'s> {
    /// The computed statement.
    pub computed: &'s Computed,
    /// Per stream, in the order of the statement's totals (stream name).
    pub streams: Vec<Stream<'s>>,
}

/// The contract clause a transfer line is paid under, as a field path of
/// the contract file (`payments.volume.activities[0]`, `impulse[1]`, ...).
pub fn clause_of(c: &Contract, line_id: &str) -> String {
    let mut parts = line_id.split('.');
    let head = parts.next().unwrap_or_default();
    let second = parts.next().unwrap_or_default();
    let index = |n: &str| n.parse::<usize>().ok().and_then(|n| n.checked_sub(1));
    match head {
        "volume" => c
            .payments
            .volume
            .as_ref()
            .and_then(|v| v.activities.iter().position(|a| a.id == second))
            .map_or("payments.volume".to_string(), |i| format!("payments.volume.activities[{i}]")),
        "p4p" => c
            .payments
            .pay_for_performance
            .as_ref()
            .and_then(|p| p.bonuses.iter().position(|b| b.id == second))
            .map_or("payments.pay_for_performance".to_string(), |i| {
                format!("payments.pay_for_performance.bonuses[{i}]")
            }),
        "shared_savings" => "payments.shared_savings".to_string(),
        "bundled" => "payments.bundled".to_string(),
        "capitation" => "payments.capitation".to_string(),
        "impulse" => index(second).map_or("impulse".to_string(), |i| format!("impulse[{i}]")),
        "revenue_guarantee" => {
            index(second).map_or("revenue_guarantees".to_string(), |i| format!("revenue_guarantees[{i}]"))
        }
        other => other.to_string(),
    }
}

impl<'s> Accountability<'s> {
    /// The document of `computed`, settled under `terms` (the governing
    /// contract version). An error when the transfers do not tie to the
    /// statement's totals per stream (a statement that does not add up is
    /// never shown as accountable).
    pub fn of(computed: &'s Computed, terms: &Contract) -> Result<Accountability<'s>> {
        let s: &Statement = &computed.statement;
        let keyed = keyed_components(terms);
        let mut streams: Vec<Stream<'s>> = s
            .totals_by_stream
            .keys()
            .map(|f| Stream {
                funding: f.to_string(),
                items: Vec::new(),
                payers_to_providers: Decimal::new(0, 2),
                providers_to_payers: Decimal::new(0, 2),
            })
            .collect();
        for line in &s.lines {
            let (Some(amount), Some(from), Some(to), Some(funding), Some(kind)) =
                (line.amount, line.from.as_deref(), line.to.as_deref(), line.funding.as_ref(), line.transfer_kind())
            else {
                continue;
            };
            let Some(stream) = streams.iter_mut().find(|x| x.funding == funding.word()) else {
                bail!("line {} is in funding stream {funding}, which the statement's totals do not list", line.id);
            };
            let Some((payer, _, _)) = line.payer_provider() else { continue };
            if payer == from {
                stream.payers_to_providers += amount;
            } else {
                stream.providers_to_payers += amount;
            }
            let key = key_use(s, line, &keyed, &terms.funding_streams);
            let clause = clause_of(terms, &line.id);
            stream.items.push(Item { line, from, to, amount, kind, clause, key });
        }
        for st in &streams {
            let t = &s.totals_by_stream[st.funding.as_str()];
            if t.payers_to_providers != st.payers_to_providers || t.providers_to_payers != st.providers_to_payers {
                bail!(
                    "the transfers of funding stream {} sum to {} / {}, but the statement's totals are {} / {}",
                    st.funding,
                    st.payers_to_providers,
                    st.providers_to_payers,
                    t.payers_to_providers,
                    t.providers_to_payers
                );
            }
        }
        Ok(Accountability { computed, streams })
    }
}

/// The key behind `line` when it is a part `{whole}.{stream}` of a payment
/// split by an allocation key.
fn key_use(
    s: &Statement,
    line: &Line,
    keyed: &[(&'static str, &'static str, &AllocationKey)],
    streams: &[Funding],
) -> Option<KeyUse> {
    let funding = line.funding.as_ref()?;
    let whole_id = line.id.strip_suffix(funding.word())?.strip_suffix('.')?;
    let whole = s.line(whole_id).filter(|w| !w.is_transfer())?;
    let (_, clause, key) = keyed.iter().find(|(prefix, _, _)| whole_id.split('.').next() == Some(*prefix))?;
    let figures = key
        .in_stream_order(streams)
        .into_iter()
        .map(|(stream, ind)| {
            let v = s.inputs.iter().find(|u| u.indicator == ind && u.year == s.year).map(|u| u.value);
            (stream.word().to_string(), ind.to_string(), v.unwrap_or_default())
        })
        .collect();
    Some(KeyUse { clause, whole_line: whole_id.to_string(), whole: whole.amount.unwrap_or_default(), figures })
}

fn kind_word(tr: &Tr, k: TransferKind) -> String {
    match k {
        TransferKind::Result => tr.t("accountability-kind-result"),
        TransferKind::Loan => tr.t("accountability-kind-loan"),
    }
}

/// The document as a table for the terminal, in `tr`'s language.
pub fn table(tr: &Tr, a: &Accountability<'_>, standing: &Standing) -> String {
    let c = a.computed;
    let s = &c.statement;
    let mut o = String::new();
    let year = s.year.to_string();
    o.push_str(&tr.t_args(
        "accountability-title",
        &[("contract", Arg::from(s.contract.as_str())), ("year", Arg::from(year.as_str()))],
    ));
    o.push('\n');
    if c.draft {
        o.push_str(&tr.t("accountability-draft"));
        o.push('\n');
    }
    o.push_str(&tr.t_args(
        "accountability-statement",
        &[
            ("hash", Arg::from(&c.hash[..16.min(c.hash.len())])),
            ("standing", Arg::from(standing.words_in(tr).as_str())),
        ],
    ));
    o.push('\n');
    o.push_str(&tr.t_args("accountability-sign-rule", &[("currency", Arg::from(c.currency.code()))]));
    o.push('\n');
    if a.streams.is_empty() {
        o.push('\n');
        o.push_str(&tr.t("accountability-no-transfers"));
        o.push('\n');
    }
    for st in &a.streams {
        o.push('\n');
        o.push_str(&tr.t_args("accountability-stream", &[("stream", Arg::from(st.funding.as_str()))]));
        o.push('\n');
        for it in &st.items {
            let parties = format!("{} -> {}", it.from, it.to);
            o.push_str(&format!(
                "  {} {}  {}\n",
                pad(&parties, PARTIES_WIDTH, false),
                pad(&tr.money(it.amount), AMOUNT_WIDTH, true),
                words::label(tr, it.line)
            ));
            let detail = tr.t_args(
                "accountability-detail",
                &[
                    ("line", Arg::from(&*it.line.id)),
                    ("clause", Arg::from(it.clause.as_str())),
                    ("kind", Arg::from(kind_word(tr, it.kind).as_str())),
                ],
            );
            o.push_str(&format!("      {detail}\n"));
            if let Some(k) = &it.key {
                let figures: Vec<String> =
                    k.figures.iter().map(|(st, ind, v)| format!("{st} {ind} {}", tr.number(*v))).collect();
                o.push_str(&format!(
                    "      {}\n      {}\n",
                    tr.t_args(
                        "accountability-key",
                        &[
                            ("clause", Arg::from(k.clause)),
                            ("figures", Arg::from(figures.join(", ").as_str())),
                            ("whole", Arg::from(tr.money(k.whole).as_str())),
                            ("line", Arg::from(k.whole_line.as_str())),
                        ],
                    ),
                    words::formula(tr, it.line)
                ));
            }
        }
        let net = st.payers_to_providers - st.providers_to_payers;
        for (id, amount) in [
            ("accountability-total-to-providers", st.payers_to_providers),
            ("accountability-total-to-payers", st.providers_to_payers),
            ("accountability-total-net", net),
        ] {
            o.push_str(&format!(
                "  {} {}\n",
                pad(&tr.t(id), PARTIES_WIDTH, false),
                pad(&tr.money(amount), AMOUNT_WIDTH, true)
            ));
        }
    }
    o
}

/// Two decimals without grouping, with the language's decimal separator.
fn cents(lang: Lang, a: Decimal) -> String {
    let text = format!("{a:.2}");
    match lang {
        Lang::En => text,
        Lang::Nl => text.replace('.', ","),
    }
}

/// The document as CSV (one row per transfer, then the totals per stream),
/// in `tr`'s language: `,` or `;` separated, decimals as the language writes them.
pub fn csv(tr: &Tr, a: &Accountability<'_>) -> Result<String> {
    let lang = tr.lang();
    let s = &a.computed.statement;
    let mut w = csv::WriterBuilder::new().delimiter(lang.csv_separator()).from_writer(Vec::new());
    let currency = a.computed.currency.code().to_ascii_lowercase();
    const COLUMNS: [&str; 12] =
        ["contract", "year", "stream", "row", "from", "to", "amount", "kind", "title", "line", "clause", "key"];
    let header: Vec<String> = COLUMNS
        .iter()
        .map(|h| match *h {
            "amount" => tr.t_args("accountability-csv-amount", &[("currency", Arg::from(currency.as_str()))]),
            other => tr.t(&format!("accountability-csv-{other}")),
        })
        .collect();
    w.write_record(&header)?;
    let year = s.year.to_string();
    let draft = if a.computed.draft { tr.t("accountability-csv-draft") } else { String::new() };
    for st in &a.streams {
        for it in &st.items {
            let key = it.key.as_ref().map_or(String::new(), |_| words::formula(tr, it.line));
            w.write_record([
                s.contract.as_str(),
                &year,
                &st.funding,
                &format!("{}{draft}", tr.t("accountability-csv-row-transfer")),
                it.from,
                it.to,
                &cents(lang, it.amount),
                &kind_word(tr, it.kind),
                &words::label(tr, it.line),
                &it.line.id,
                &it.clause,
                &key,
            ])?;
        }
        let net = st.payers_to_providers - st.providers_to_payers;
        for (id, amount) in [
            ("accountability-csv-row-to-providers", st.payers_to_providers),
            ("accountability-csv-row-to-payers", st.providers_to_payers),
            ("accountability-csv-row-net", net),
        ] {
            w.write_record([
                s.contract.as_str(),
                &year,
                &st.funding,
                &format!("{}{draft}", tr.t(id)),
                "",
                "",
                &cents(lang, amount),
                "",
                "",
                "",
                "",
                "",
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The document as language-neutral JSON (amounts as exact decimal strings).
pub fn json(a: &Accountability<'_>, standing: &Standing) -> Value {
    let c = a.computed;
    let s = &c.statement;
    let streams: Vec<Value> = a
        .streams
        .iter()
        .map(|st| {
            let items: Vec<Value> = st
                .items
                .iter()
                .map(|it| {
                    let key = it.key.as_ref().map(|k| {
                        json!({
                            "clause": k.clause,
                            "method": "by_indicator",
                            "whole_line": k.whole_line,
                            "whole": format!("{:.2}", k.whole),
                            "figures": k.figures.iter().map(|(st, ind, v)| json!({
                                "stream": st, "indicator": ind, "value": v.normalize().to_string()
                            })).collect::<Vec<_>>(),
                        })
                    });
                    json!({
                        "line": it.line.id,
                        "from": it.from,
                        "to": it.to,
                        "amount": format!("{:.2}", it.amount),
                        "kind": it.kind,
                        "clause": it.clause,
                        "key": key,
                    })
                })
                .collect();
            json!({
                "funding": st.funding,
                "transfers": items,
                "payers_to_providers": format!("{:.2}", st.payers_to_providers),
                "providers_to_payers": format!("{:.2}", st.providers_to_payers),
                "net_to_providers": format!("{:.2}", st.payers_to_providers - st.providers_to_payers),
            })
        })
        .collect();
    json!({
        "contract": s.contract,
        "year": s.year,
        "statement_hash": c.hash,
        "draft": c.draft,
        "currency": c.currency.code(),
        "standing": {
            "signed_by": standing.signed_by,
            "waiting_for": standing.waiting_for,
            "settled": standing.settled,
        },
        "streams": streams,
    })
}
