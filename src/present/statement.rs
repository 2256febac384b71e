//! A settlement statement as people read it: a financial statement for the
//! terminal ([`table`]), the JSON document ([`document`]), CSV ([`csv`]),
//! and the side-by-side view of two statements that differ
//! ([`side_by_side`]). The workbook is [`crate::present::xlsx`].
//!
//! Nothing here computes money: every figure comes from the statement the
//! settlement engine produced; this module only formats it.

use anyhow::{anyhow, Result};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use crate::domain::contract::GateAction;
use crate::domain::settlement::cosign::{self, Computed};
use crate::domain::settlement::gate::GateNotice;
use crate::domain::settlement::{Carry, Statement, ENGINE_VERSION};
use crate::ledger::text::{escape_line, spreadsheet_cell};
use crate::present::lang::{Arg, Lang, Tr};
use crate::present::words;

/// Where a statement stands on the ledger it was computed from: who signed
/// exactly this statement, who still has to, and whether it is the settled
/// statement of its year. The caller (which reads the ledger) fills it in;
/// this module only shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// Signatories that signed this statement (its hash), in id order.
    pub signed_by: Vec<String>,
    /// Signatories that have not signed it yet.
    pub waiting_for: Vec<String>,
    /// Whether this statement is the settled one of its year.
    pub settled: bool,
}

impl Standing {
    /// One line in English: `settled, signed by a, b` / `signed by a;
    /// waiting for b` / `not signed; waiting for a, b`.
    pub fn words(&self) -> String {
        self.words_in(&Tr::new(Lang::En))
    }

    /// [`Standing::words`] in `tr`'s language.
    pub fn words_in(&self, tr: &Tr) -> String {
        let signed = if self.signed_by.is_empty() {
            tr.t("statement-not-signed")
        } else {
            tr.t_args("statement-signed-by", &[("parties", Arg::from(self.signed_by.join(", ")))])
        };
        match (self.settled, self.waiting_for.is_empty()) {
            (true, _) => tr.t_args("statement-settled-signed", &[("signed", Arg::from(signed))]),
            (false, true) => signed,
            (false, false) => tr.t_args(
                "statement-signed-waiting",
                &[("signed", Arg::from(signed)), ("parties", Arg::from(self.waiting_for.join(", ")))],
            ),
        }
    }
}

/// The JSON document of a statement: header, where it stands, and the
/// statement with its words. The statement hash covers the statement's
/// signed form only (every line without `label` and `formula`, FORMAT.md 5.8).
pub fn document(c: &Computed, standing: &Standing) -> Value {
    json!({
        "draft": c.draft,
        "contract": c.statement.contract,
        "version": c.version,
        "year": c.statement.year,
        "engine": ENGINE_VERSION,
        "inputs": c.inputs,
        "previous": c.previous,
        "not_agreed": c.not_agreed.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
        "statement_hash": c.hash,
        "standing": standing,
        "statement": c.statement,
    })
}

/// One row of the balances: what it is, its amount at the start and at the
/// end of the year (`None`: it did not exist then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRow {
    /// Stable id: `losses_carried` or `advance.{impulse}`.
    pub id: String,
    /// In words.
    pub what: String,
    /// At the start of the year (carried in).
    pub start: Option<Decimal>,
    /// At the end of the year (carried out).
    pub end: Option<Decimal>,
}

/// The balances at the start and the end of the statement's year, from the
/// state carried in and out: losses carried forward, then each advance with
/// a balance at either end (paid this year: no start; repaid, waived or due
/// this year: an end of 0.00). Described in English ([`balances_in`]).
pub fn balances(s: &Statement) -> Vec<BalanceRow> {
    balances_in(&Tr::new(Lang::En), s)
}

/// [`balances`] described in `tr`'s language.
pub fn balances_in(tr: &Tr, s: &Statement) -> Vec<BalanceRow> {
    let mut rows = vec![BalanceRow {
        id: "losses_carried".into(),
        what: tr.t("statement-losses-carried"),
        start: Some(s.carry_in.losses_carried),
        end: Some(s.carry_out.losses_carried),
    }];
    let find = |c: &Carry, n: usize| c.advances.iter().find(|a| a.impulse == n).map(|a| a.outstanding);
    let mut seen: Vec<usize> = Vec::new();
    for a in s.carry_in.advances.iter().chain(&s.carry_out.advances) {
        if seen.contains(&a.impulse) {
            continue;
        }
        seen.push(a.impulse);
        let zero = Decimal::new(0, 2);
        let start = find(&s.carry_in, a.impulse);
        let end = find(&s.carry_out, a.impulse).or(start.map(|_| zero));
        rows.push(BalanceRow {
            id: format!("advance.{}", a.impulse),
            what: tr.t_args(
                "statement-advance-outstanding",
                &[
                    ("n", Arg::from(a.impulse.to_string())),
                    ("year", Arg::from(a.year.to_string())),
                    ("recipient", Arg::from(a.recipient.as_str())),
                    ("payer", Arg::from(a.payer.as_str())),
                    ("funding", Arg::from(a.funding.to_string())),
                ],
            ),
            start,
            end,
        });
    }
    rows
}

/// Revenue guarantees of the year: (guarantee number, revenue, top-up), from
/// the statement's lines. A guarantee settles within its year: nothing of it
/// is carried.
pub fn guarantees(s: &Statement) -> Vec<(String, Decimal, Decimal)> {
    let mut out = Vec::new();
    for l in &s.lines {
        let Some(n) = l.id.strip_prefix("revenue_guarantee.").and_then(|r| r.strip_suffix(".revenue")) else {
            continue;
        };
        let top_up = s.line(&format!("revenue_guarantee.{n}.top_up")).and_then(|t| t.amount).unwrap_or_default();
        out.push((n.to_string(), l.amount.unwrap_or_default(), top_up));
    }
    out
}

/// `amount` in words for a party: `receives 1.00`, `pays 1.00` or `0.00`.
pub fn receives_or_pays(amount: Decimal) -> String {
    receives_or_pays_in(&Tr::new(Lang::En), amount)
}

/// [`receives_or_pays`] in `tr`'s language (`ontvangt 1,00`, `betaalt 1,00`).
pub fn receives_or_pays_in(tr: &Tr, amount: Decimal) -> String {
    if amount.is_zero() {
        tr.money(amount.abs())
    } else if amount.is_sign_negative() {
        tr.t_args("statement-pays", &[("amount", Arg::from(tr.money(-amount)))])
    } else {
        tr.t_args("statement-receives", &[("amount", Arg::from(tr.money(amount)))])
    }
}

/// `amount` in words for a party's result: `earned 1.00`, `bore 1.00` or `0.00`.
pub fn earned_or_bore(amount: Decimal) -> String {
    earned_or_bore_in(&Tr::new(Lang::En), amount)
}

/// [`earned_or_bore`] in `tr`'s language (`verdiend 1,00`, `gedragen 1,00`).
pub fn earned_or_bore_in(tr: &Tr, amount: Decimal) -> String {
    if amount.is_zero() {
        tr.money(amount.abs())
    } else if amount.is_sign_negative() {
        tr.t_args("statement-bore", &[("amount", Arg::from(tr.money(-amount)))])
    } else {
        tr.t_args("statement-earned", &[("amount", Arg::from(tr.money(amount)))])
    }
}

/// The quality gate notice of a year in `tr`'s language (the English text
/// is [`GateNotice::words`]).
pub fn gate_words(tr: &Tr, g: &GateNotice) -> String {
    let args = [("score", Arg::from(tr.factor(g.score))), ("gate", Arg::from(tr.factor(g.gate)))];
    if g.met {
        return tr.t_args("statement-gate-met", &args);
    }
    let then = match g.consequence {
        Some(GateAction::ImprovementPlan) => tr.t("statement-gate-improvement-plan"),
        Some(GateAction::ContractReview) => tr.t("statement-gate-contract-review"),
        Some(GateAction::None) | None => String::new(),
    };
    tr.t_args("statement-gate-not-met", &args) + &then
}

/// The narrowest label column of the terminal statement.
pub const LABEL_WIDTH: usize = 58;

/// The widest label column of the terminal statement: a longer label is
/// never cut; it takes a line of its own, with its amount on the next line
/// in the amount column.
pub const MAX_LABEL_WIDTH: usize = 100;

/// The narrowest party column of the terminal statement; a longer party id
/// widens it (never cut).
pub const PARTY_WIDTH: usize = 20;

/// The width of the key column of the statement's header (`contract version`).
pub const HEADER_KEY_WIDTH: usize = 18;

/// The statement as a financial statement for the terminal, in English.
pub fn table(c: &Computed, hash: &str, standing: &Standing) -> String {
    table_in(&Tr::new(Lang::En), c, hash, standing)
}

/// Pushes `label` and `cells` as one row with the label left in a column of
/// `width` characters; a longer label is never cut: it takes a line of its
/// own and the cells follow on the next line, still aligned.
fn push_row(o: &mut String, label: &str, width: usize, cells: &str) {
    if label.chars().count() > width {
        o.push_str(label);
        o.push('\n');
        o.push_str(&format!("{:<width$}{cells}\n", ""));
    } else {
        o.push_str(&format!("{label:<width$}{cells}\n"));
    }
}

/// The widest of `min` and the character counts of `texts`.
fn widest<'a>(min: usize, texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts.into_iter().map(|t| t.chars().count()).fold(min, usize::max)
}

/// [`table`] in `tr`'s language: headings, words and numbers in its format;
/// line labels and formulas from [`words`].
pub fn table_in(tr: &Tr, c: &Computed, hash: &str, standing: &Standing) -> String {
    let s = &c.statement;
    let mut o = String::new();
    let draft = if c.draft { tr.t("statement-draft") + "\n" } else { String::new() };
    o.push_str(&draft);
    let year = s.year.to_string();
    o.push_str(&tr.t_args(
        "statement-title",
        &[("contract", Arg::from(s.contract.as_str())), ("year", Arg::from(year.as_str()))],
    ));
    o.push('\n');
    let keys = [
        "statement-key-version",
        "statement-key-hash",
        "statement-key-engine",
        "statement-key-inputs",
        "statement-key-carried",
        "statement-key-standing",
        "statement-key-not-agreed",
    ]
    .map(|k| tr.t(k));
    let kw = keys.iter().map(|k| k.chars().count() + 2).fold(HEADER_KEY_WIDTH, usize::max);
    let mut head = |key: usize, value: &str| o.push_str(&format!("{:<kw$}{value}\n", keys[key]));
    head(0, &c.version);
    head(1, hash);
    head(2, ENGINE_VERSION);
    let ids = c.inputs.iter().map(|e| &e[..12.min(e.len())]).collect::<Vec<_>>().join(" ");
    head(3, &tr.t_args("statement-inputs", &[("n", Arg::from(c.inputs.len().to_string())), ("ids", Arg::from(ids))]));
    if let Some(p) = &c.previous {
        let carried = tr.t_args(
            "statement-carried",
            &[("year", Arg::from(s.year.saturating_sub(1).to_string())), ("hash", Arg::from(&p[..16.min(p.len())]))],
        );
        head(4, &carried);
    }
    head(5, &escape_line(&standing.words_in(tr)));
    for n in &c.not_agreed {
        head(6, &n.to_string());
    }
    // Labels are shown whole: the column is as wide as the longest (at least
    // LABEL_WIDTH, at most MAX_LABEL_WIDTH characters, beyond which a label
    // takes a line of its own). Labels and formulas quote contract text:
    // shown escaped.
    let labels: Vec<String> = s.lines.iter().map(|l| escape_line(&words::label(tr, l)).into_owned()).collect();
    let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).clamp(LABEL_WIDTH, MAX_LABEL_WIDTH);
    let amount_head = tr.t_args("statement-amount", &[("currency", Arg::from(c.currency.to_string()))]);
    o.push('\n');
    push_row(&mut o, &tr.t("statement-derivation"), lw, &format!(" {amount_head:>20}"));
    for (l, label) in s.lines.iter().zip(&labels) {
        let amount = l.amount.map(|a| tr.money(a)).unwrap_or_default();
        push_row(&mut o, label, lw, &format!(" {amount:>20}"));
        if let (Some(from), Some(to), Some(f)) = (&l.from, &l.to, l.funding) {
            o.push_str(&format!("    {} -> {} ({f})\n", escape_line(from), escape_line(to)));
        } else if let (Some(from), Some(to), false) = (&l.from, &l.to, l.id.ends_with(".waived")) {
            // The whole of a payment split by an allocation key: its parts
            // per stream follow.
            let whole = tr.t_args(
                "accountability-whole-route",
                &[("from", Arg::from(escape_line(from).into_owned())), ("to", Arg::from(escape_line(to).into_owned()))],
            );
            o.push_str(&format!("    {whole}\n"));
        } else if let (Some(from), Some(to)) = (&l.from, &l.to) {
            let waived = tr.t_args(
                "statement-waived-route",
                &[("from", Arg::from(escape_line(from).into_owned())), ("to", Arg::from(escape_line(to).into_owned()))],
            );
            o.push_str(&format!("    {waived}\n"));
        }
        o.push_str(&format!("    {}\n", escape_line(&words::formula(tr, l))));
    }
    let (cash_head, result_head) = (tr.t("statement-cash-heading"), tr.t("statement-result-heading"));
    let parties: Vec<String> = s.parties.iter().map(|p| escape_line(&p.party).into_owned()).collect();
    let w = widest(
        PARTY_WIDTH,
        parties
            .iter()
            .map(String::as_str)
            .chain(s.payments.iter().flat_map(|p| [p.from.as_str(), p.to.as_str()]))
            .chain([cash_head.as_str(), result_head.as_str()]),
    );
    let has_transfers = s.lines.iter().any(|l| l.is_transfer());
    if has_transfers {
        o.push_str(&format!(
            "\n{:<w$} {:>20} {:>20} {:>24}\n",
            cash_head,
            tr.t("statement-receives-heading"),
            tr.t("statement-pays-heading"),
            tr.t("statement-on-balance-heading")
        ));
        o.push_str(&tr.t("statement-cash-note"));
        o.push('\n');
        for (p, name) in s.parties.iter().zip(&parties) {
            o.push_str(&format!(
                "{:<w$} {:>20} {:>20} {:>24}\n",
                name,
                tr.money(p.received),
                tr.money(p.paid),
                receives_or_pays_in(tr, p.net)
            ));
        }
    } else {
        o.push('\n');
        o.push_str(&tr.t("statement-no-payments"));
        o.push('\n');
    }
    if has_transfers || s.parties.iter().any(|p| !p.result.is_zero()) {
        o.push_str(&format!("\n{:<w$} {:>24}\n", result_head, tr.t("statement-result-column")));
        o.push_str(&tr.t("statement-result-note"));
        o.push('\n');
        for (p, name) in s.parties.iter().zip(&parties) {
            o.push_str(&format!("{:<w$} {:>24}\n", name, earned_or_bore_in(tr, p.result)));
        }
    }
    if !s.payments.is_empty() {
        o.push('\n');
        o.push_str(&tr.t("statement-payments-heading"));
        o.push('\n');
        for p in &s.payments {
            let route = format!("{} -> {}", escape_line(&p.from), escape_line(&p.to));
            o.push_str(&format!("{:<width$} {:>20}  ({})\n", route, tr.money(p.amount), p.funding, width = 2 * w + 4));
        }
    }
    if !s.totals_by_stream.is_empty() {
        let heads = [
            "statement-stream-heading",
            "statement-stream-to-providers",
            "statement-stream-to-payers",
            "statement-stream-net",
        ]
        .map(|k| tr.t(k));
        let sw = widest(20, s.totals_by_stream.keys().map(|k| k.as_ref()).chain([heads[0].as_str()]));
        let cw = widest(22, heads[1..].iter().map(String::as_str));
        o.push_str(&format!("\n{:<sw$} {:>cw$} {:>cw$} {:>cw$}\n", heads[0], heads[1], heads[2], heads[3]));
        for (k, t) in &s.totals_by_stream {
            o.push_str(&format!(
                "{:<sw$} {:>cw$} {:>cw$} {:>cw$}\n",
                escape_line(k),
                tr.money(t.payers_to_providers),
                tr.money(t.providers_to_payers),
                tr.money(t.net_to_providers)
            ));
        }
    }
    let start = tr.t_args("statement-balance-start", &[("year", Arg::from(year.as_str()))]);
    let end = tr.t_args("statement-balance-end", &[("year", Arg::from(year.as_str()))]);
    let rows = balances_in(tr, s);
    let whats: Vec<String> = rows.iter().map(|b| escape_line(&b.what).into_owned()).collect();
    let bw = whats.iter().map(|b| b.chars().count()).max().unwrap_or(0).clamp(LABEL_WIDTH, MAX_LABEL_WIDTH);
    o.push('\n');
    push_row(&mut o, &tr.t("statement-balances-heading"), bw, &format!(" {start:>20} {end:>20}"));
    let show = |v: Option<Decimal>| v.map(|v| tr.money(v)).unwrap_or_else(|| "-".into());
    for (b, what) in rows.iter().zip(&whats) {
        push_row(&mut o, what, bw, &format!(" {:>20} {:>20}", show(b.start), show(b.end)));
    }
    for (n, revenue, top_up) in guarantees(s) {
        o.push_str(&tr.t_args(
            "statement-guarantee",
            &[("n", Arg::from(n)), ("revenue", Arg::from(tr.money(revenue))), ("top_up", Arg::from(tr.money(top_up)))],
        ));
        o.push('\n');
    }
    o.push_str(&draft);
    o
}

pub use crate::present::layout::truncate;

/// Money with two decimals and thousands separators (`-1,234.50`).
pub fn money(v: rust_decimal::Decimal) -> String {
    let s = format!("{:.2}", v.round_dp(2));
    let (sign, s) = s.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", s.as_str()));
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{frac}")
}

/// The columns of the CSV statement (`amount_eur` is named after the
/// contract's currency: `amount_usd` for a USD contract).
pub const CSV_COLUMNS: &[&str] = &[
    "contract",
    "year",
    "draft",
    "statement_hash",
    "section",
    "item",
    "label",
    "formula",
    "amount_eur",
    "value",
    "from",
    "to",
    "funding",
];

/// The statement as CSV, one row per fact, with a `section` column:
/// `standing` (signed by, waiting for, settled), `line` (every line of the
/// derivation; a transfer with `from`, `to`, `funding`), `cash` (per party:
/// received, paid, net), `result` (per party), `payment` (net payments),
/// `stream` (per funding stream and direction), `balance_start` and
/// `balance_end` (losses carried, advances outstanding). Ledger text is made
/// safe for spreadsheets. In English ([`csv_in`]).
pub fn csv(c: &Computed, hash: &str, standing: &Standing) -> Result<String> {
    csv_in(&Tr::new(Lang::En), c, hash, standing)
}

/// [`csv`] in `tr`'s language: its column names, section and item words,
/// field separator ([`Lang::csv_separator`]: `;` in Dutch) and decimal
/// separator (`1234,50` in Dutch), so a spreadsheet in that language opens
/// it as numbers. Amounts keep every digit (two decimals), no grouping.
pub fn csv_in(tr: &Tr, c: &Computed, hash: &str, standing: &Standing) -> Result<String> {
    let lang = tr.lang();
    let mut w = csv::WriterBuilder::new().delimiter(lang.csv_separator()).from_writer(Vec::new());
    // The amount column names the contract's currency (`amount_eur`,
    // `amount_usd`, ...).
    let currency = c.currency.code().to_ascii_lowercase();
    let header: Vec<String> = CSV_COLUMNS
        .iter()
        .map(|&h| match h {
            "amount_eur" => tr.t_args("statement-csv-amount", &[("currency", Arg::from(currency.as_str()))]),
            other => tr.t(&format!("statement-csv-{}", other.replace('_', "-"))),
        })
        .collect();
    w.write_record(&header)?;
    let s = &c.statement;
    let year = s.year.to_string();
    let draft = if c.draft { tr.t("statement-csv-draft-mark") } else { String::new() };
    // Two decimals without grouping, the decimal separator of the language.
    let cents = |a: Decimal| {
        let text = format!("{a:.2}");
        match lang {
            Lang::En => text,
            Lang::Nl => text.replace('.', ","),
        }
    };
    let sec = |id: &str| tr.t(&format!("statement-csv-section-{id}"));
    let (standing_s, line_s, cash_s, result_s) = (sec("standing"), sec("line"), sec("cash"), sec("result"));
    let (payment_s, stream_s, start_s, end_s) =
        (sec("payment"), sec("stream"), sec("balance-start"), sec("balance-end"));
    let mut row = |section: &str,
                   item: &str,
                   label: &str,
                   formula: &str,
                   amount: Option<Decimal>,
                   value: &str,
                   from: &str,
                   to: &str,
                   funding: &str| {
        w.write_record([
            s.contract.as_str(),
            &year,
            &draft,
            hash,
            section,
            item,
            &spreadsheet_cell(label),
            &spreadsheet_cell(formula),
            &amount.map(cents).unwrap_or_default(),
            value,
            from,
            to,
            funding,
        ])
    };
    let item = |id: &str| tr.t(&format!("statement-csv-item-{id}"));
    row(&standing_s, &item("engine"), ENGINE_VERSION, "", None, "", "", "", "")?;
    row(&standing_s, &item("signed-by"), &standing.signed_by.join(" "), "", None, "", "", "", "")?;
    row(&standing_s, &item("waiting-for"), &standing.waiting_for.join(" "), "", None, "", "", "", "")?;
    let settled = tr.t(if standing.settled { "statement-csv-yes" } else { "statement-csv-no" });
    row(&standing_s, &item("settled"), &settled, "", None, "", "", "", "")?;
    for l in &s.lines {
        row(
            &line_s,
            &l.id,
            &words::label(tr, l),
            &words::formula(tr, l),
            l.amount,
            &l.value.map(|v| lang.plain(v)).unwrap_or_default(),
            l.from.as_deref().unwrap_or(""),
            l.to.as_deref().unwrap_or(""),
            &l.funding.map(|f| f.to_string()).unwrap_or_default(),
        )?;
    }
    let (received, paid, net, result) = (
        tr.t("statement-csv-received"),
        tr.t("statement-csv-paid"),
        tr.t("statement-csv-net"),
        tr.t("statement-csv-result"),
    );
    for p in &s.parties {
        row(&cash_s, &p.party, &received, "", Some(p.received), "", "", "", "")?;
        row(&cash_s, &p.party, &paid, "", Some(p.paid), "", "", "", "")?;
        row(&cash_s, &p.party, &net, "", Some(p.net), "", "", "", "")?;
        row(&result_s, &p.party, &result, "", Some(p.result), "", "", "", "")?;
    }
    for p in &s.payments {
        row(&payment_s, "", "", "", Some(p.amount), "", &p.from, &p.to, &p.funding.to_string())?;
    }
    let (to_providers, to_payers, net_to_providers) =
        (tr.t("statement-csv-to-providers"), tr.t("statement-csv-to-payers"), tr.t("statement-csv-net-to-providers"));
    for (k, t) in &s.totals_by_stream {
        row(&stream_s, k, &to_providers, "", Some(t.payers_to_providers), "", "", "", k)?;
        row(&stream_s, k, &to_payers, "", Some(t.providers_to_payers), "", "", "", k)?;
        row(&stream_s, k, &net_to_providers, "", Some(t.net_to_providers), "", "", "", k)?;
    }
    for b in balances_in(tr, s) {
        if let Some(v) = b.start {
            row(&start_s, &b.id, &b.what, "", Some(v), "", "", "", "")?;
        }
        if let Some(v) = b.end {
            row(&end_s, &b.id, &b.what, "", Some(v), "", "", "", "")?;
        }
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?)
}

/// Formats statement lines that differ, side by side.
pub fn side_by_side(theirs_label: &str, theirs: &Value, mine: &Value) -> String {
    let rows = cosign::differing_lines(theirs, mine);
    let mut o = format!("  {:<52} {:>22} {:>22}\n", "line", theirs_label, "this copy");
    // Money (two decimals) with thousands separators, as in the statement.
    let show = |v: &str| match v.parse::<rust_decimal::Decimal>() {
        Ok(d) if d.scale() == 2 => money(d),
        _ => v.to_string(),
    };
    for (id, a, b) in rows {
        o.push_str(&format!("  {:<52} {:>22} {:>22}\n", truncate(&id, 52), show(&a), show(&b)));
    }
    o
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn a_label_longer_than_the_column_is_shown_whole() {
        let long = "Surcharge: ".to_string() + &"x".repeat(MAX_LABEL_WIDTH + 40);
        let row = |label: &str, width: usize| {
            let mut o = String::new();
            push_row(&mut o, label, width, &format!(" {:>20}", "1,234.00"));
            o
        };
        let row_long = row(&long, MAX_LABEL_WIDTH);
        assert!(row_long.contains(&long), "{row_long}");
        assert!(!row_long.contains('…'));
        let lines: Vec<&str> = row_long.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].chars().count(), MAX_LABEL_WIDTH + 1 + 20, "the amount stays in its column");
        let short = row("Gross savings", LABEL_WIDTH);
        assert_eq!(short, format!("{:<LABEL_WIDTH$} {:>20}\n", "Gross savings", "1,234.00"));
    }
}
