//! Two statements of a year compared, as people read them: the correction
//! payments a statement shows against the statement it replaces
//! ([`corrections_table`], [`corrections_json`], [`corrections_csv`]), and
//! `settle diff` ([`diff_table`], [`diff_json`], [`diff_csv`]).
//!
//! Nothing here computes money: the comparison is
//! [`crate::domain::settlement::compare`]; this module words and formats
//! it (words via [`Tr`], line words via [`words::label`], numbers via the
//! language's formats). JSON stays language-neutral data.

use anyhow::{anyhow, Result};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use crate::domain::settlement::compare::Comparison;
use crate::domain::settlement::Statement;
use crate::ledger::text::{escape_line, spreadsheet_cell};
use crate::present::lang::{Arg, Tr};
use crate::present::layout::{pad, truncate};
use crate::present::statement::{earned_or_bore_in as earned_or_bore, receives_or_pays_in as receives_or_pays};
use crate::present::words;

/// The narrowest party column.
pub const PARTY_WIDTH: usize = 20;

/// The widest label column of a line in `settle diff` (a longer label is cut
/// with an ellipsis; JSON and CSV have it whole).
pub const MAX_LINE_WIDTH: usize = 70;

/// The width of an amount column.
const AMOUNT_WIDTH: usize = 24;

/// The first characters of a hash shown in headings.
const SHORT_HASH: usize = 16;

fn short(h: &str) -> &str {
    &h[..SHORT_HASH.min(h.len())]
}

fn party_width(cmp: &Comparison) -> usize {
    cmp.parties
        .iter()
        .map(|p| p.party.chars().count())
        .chain(cmp.corrections.iter().map(|c| c.from.chars().count() + c.to.chars().count() + 4))
        .max()
        .unwrap_or(0)
        .max(PARTY_WIDTH)
}

/// The correction payments FROM -> TO, one per line, or that there are none.
fn correction_lines(tr: &Tr, cmp: &Comparison, w: usize) -> String {
    let mut o = format!("{}\n", tr.t("settle-corr-payments"));
    if cmp.corrections.is_empty() {
        o.push_str(&format!("{}\n", tr.t("settle-corr-none")));
    }
    for c in &cmp.corrections {
        debug_assert!(c.amount > Decimal::ZERO, "a correction payment is positive");
        let route = format!("{} -> {}", escape_line(&c.from), escape_line(&c.to));
        o.push_str(&format!(
            "{} {}  ({})\n",
            pad(&route, w, false),
            pad(&tr.money(c.amount), AMOUNT_WIDTH, true),
            c.funding
        ));
    }
    o
}

/// The section a statement's table ends with when it has a replaced
/// statement (docs/FORMAT.md 5.8): per party its net cash in the replaced
/// statement and in this one and the correction, then the correction
/// payments FROM -> TO. `settled`: this statement is the settled one (it
/// replaced `replaced`); otherwise signing it would replace `replaced`.
pub fn corrections_table(tr: &Tr, replaced: &str, settled: bool, cmp: &Comparison) -> String {
    let w = party_width(cmp);
    let mut o = format!("\n{}\n", tr.t_args("settle-corr-heading", &[("hash", Arg::from(short(replaced)))]));
    o.push_str(&format!("{}\n", tr.t(if settled { "settle-corr-note-settled" } else { "settle-corr-note-open" })));
    o.push_str(&format!(
        "{} {} {} {}\n",
        pad(&tr.t("settle-col-party"), w, false),
        pad(&tr.t("settle-col-before"), AMOUNT_WIDTH, true),
        pad(&tr.t("settle-col-now"), AMOUNT_WIDTH, true),
        pad(&tr.t("settle-col-correction"), AMOUNT_WIDTH, true)
    ));
    for p in &cmp.parties {
        o.push_str(&format!(
            "{} {} {} {}\n",
            pad(&escape_line(&p.party), w, false),
            pad(&receives_or_pays(tr, p.net_a), AMOUNT_WIDTH, true),
            pad(&receives_or_pays(tr, p.net_b), AMOUNT_WIDTH, true),
            pad(&receives_or_pays(tr, p.net_difference), AMOUNT_WIDTH, true)
        ));
    }
    o.push('\n');
    o.push_str(&correction_lines(tr, cmp, w));
    o
}

/// The corrections of a statement as language-neutral JSON: the replaced
/// statement's hash, per party its net cash before and now and the
/// correction, and the correction payments (amounts as exact decimal
/// strings, above 0).
pub fn corrections_json(replaced: &str, cmp: &Comparison) -> Value {
    json!({
        "replaced_statement": replaced,
        "parties": cmp.parties.iter().map(|p| json!({
            "party": p.party,
            "net_before": format!("{:.2}", p.net_a),
            "net_now": format!("{:.2}", p.net_b),
            "correction": format!("{:.2}", p.net_difference),
        })).collect::<Vec<_>>(),
        "payments": cmp.corrections,
    })
}

/// The CSV rows (no header) of a statement's corrections, in the columns
/// of the statement's CSV (`contract, year, draft, statement_hash, section,
/// item, label, formula, amount, value, from, to, funding`): section
/// `correction` (item `replaced_statement`, the hash in `value`),
/// `correction_party` (per party three rows: item the party, label before /
/// now / correction, net cash in `amount`, above 0: receives), and
/// `correction_payment` (amount above 0, `from`, `to`, `funding`).
/// Separated and numbered as the language's spreadsheets read it.
pub fn corrections_csv(
    tr: &Tr,
    statement: &Statement,
    hash: &str,
    draft: bool,
    replaced: &str,
    cmp: &Comparison,
) -> Result<String> {
    let mut w =
        csv::WriterBuilder::new().delimiter(tr.lang().csv_separator()).has_headers(false).from_writer(Vec::new());
    let year = statement.year.to_string();
    let draft = if draft { "DRAFT" } else { "" };
    let contract = spreadsheet_cell(&statement.contract).into_owned();
    let lang = tr.lang();
    let mut row = |section: &str,
                   item: &str,
                   label: &str,
                   amount: Option<Decimal>,
                   value: &str,
                   from: &str,
                   to: &str,
                   funding: &str| {
        w.write_record([
            contract.as_str(),
            &year,
            draft,
            hash,
            section,
            &spreadsheet_cell(item),
            &spreadsheet_cell(label),
            "",
            &amount.map(|a| lang.plain(a)).unwrap_or_default(),
            value,
            &spreadsheet_cell(from),
            &spreadsheet_cell(to),
            funding,
        ])
    };
    row("correction", "replaced_statement", &tr.t("settle-corr-csv-replaces"), None, replaced, "", "", "")?;
    for p in &cmp.parties {
        row("correction_party", &p.party, &tr.t("settle-corr-csv-before"), Some(p.net_a), "", "", "", "")?;
        row("correction_party", &p.party, &tr.t("settle-corr-csv-now"), Some(p.net_b), "", "", "", "")?;
        row("correction_party", &p.party, &tr.t("settle-corr-csv-correction"), Some(p.net_difference), "", "", "", "")?;
    }
    for c in &cmp.corrections {
        row("correction_payment", "", "", Some(c.amount), "", &c.from, &c.to, &c.funding.to_string())?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?)
}

/// What a compared statement is on the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SideRole {
    /// The statement this copy computes now.
    Current,
    /// The settled statement of the year.
    Settled,
    /// A statement that was settled and then replaced by a resettlement.
    Replaced,
    /// Signed by some signatories, never settled.
    Signed,
}

/// One of the two statements `settle diff` compares.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// Its statement hash.
    pub hash: &'a str,
    /// What it is on the ledger.
    pub role: SideRole,
    /// The signatories that signed it (in id order).
    pub signed_by: &'a [String],
    /// The statement (recomputed by replay, or computed now), with words.
    pub statement: &'a Statement,
}

fn side_words(tr: &Tr, s: &Side<'_>) -> String {
    match s.role {
        SideRole::Current => tr.t("settle-diff-current"),
        SideRole::Settled => tr.t("settle-diff-settled"),
        SideRole::Replaced => tr.t("settle-diff-replaced"),
        SideRole::Signed => tr.t_args("settle-diff-signed", &[("parties", Arg::from(s.signed_by.join(", ")))]),
    }
}

/// The words of line `id`: from B's statement if it has the line, else A's.
fn line_words(tr: &Tr, a: &Side<'_>, b: &Side<'_>, id: &str) -> String {
    b.statement.line(id).or_else(|| a.statement.line(id)).map(|l| words::label(tr, l)).unwrap_or_else(|| id.to_string())
}

/// A line's figure in the language: money, or a value (rate, quantity).
fn figure(tr: &Tr, money: bool, v: Option<Decimal>) -> String {
    match v {
        None => tr.t("settle-diff-no-line"),
        Some(d) if money => tr.money(d),
        Some(d) => tr.number(d),
    }
}

/// `settle diff` for the terminal: the two statements, every line that
/// differs (id, words, A, B, B - A), the payments and parties that differ,
/// and the correction payments from A to B.
pub fn diff_table(tr: &Tr, a: &Side<'_>, b: &Side<'_>, cmp: &Comparison) -> String {
    let s = b.statement;
    let mut o = format!(
        "{}\n",
        tr.t_args(
            "settle-diff-heading",
            &[("contract", Arg::from(escape_line(&s.contract).into_owned())), ("year", Arg::from(s.year.to_string()))]
        )
    );
    for (name, side) in [("A", a), ("B", b)] {
        o.push_str(&format!(
            "{}\n",
            tr.t_args(
                "settle-diff-side",
                &[("side", Arg::from(name)), ("hash", Arg::from(side.hash)), ("what", Arg::from(side_words(tr, side)))]
            )
        ));
    }
    let lines: Vec<_> = cmp.lines.iter().filter(|l| l.differs()).collect();
    let payments: Vec<_> = cmp.payments.iter().filter(|p| !p.difference.is_zero()).collect();
    let parties: Vec<_> =
        cmp.parties.iter().filter(|p| !p.net_difference.is_zero() || !p.result_difference.is_zero()).collect();
    if lines.is_empty() && payments.is_empty() && parties.is_empty() {
        o.push_str(&format!("\n{}\n", tr.t("settle-diff-same")));
        return o;
    }
    let head = |first: &str, w: usize| {
        format!(
            "{} {} {} {}\n",
            pad(first, w, false),
            pad(&tr.t("settle-col-a"), AMOUNT_WIDTH, true),
            pad(&tr.t("settle-col-b"), AMOUNT_WIDTH, true),
            pad(&tr.t("settle-col-difference"), AMOUNT_WIDTH, true)
        )
    };
    if !lines.is_empty() {
        let labels: Vec<String> =
            lines.iter().map(|l| escape_line(&line_words(tr, a, b, &l.id)).into_owned()).collect();
        let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).clamp(PARTY_WIDTH, MAX_LINE_WIDTH);
        o.push_str(&format!("\n{}\n", tr.t("settle-diff-lines")));
        o.push_str(&head(&tr.t("settle-col-line"), lw));
        for (l, label) in lines.iter().zip(&labels) {
            o.push_str(&format!(
                "{} {} {} {}\n",
                pad(&truncate(label, lw), lw, false),
                pad(&figure(tr, l.money, l.a), AMOUNT_WIDTH, true),
                pad(&figure(tr, l.money, l.b), AMOUNT_WIDTH, true),
                pad(&l.difference.map(|d| figure(tr, l.money, Some(d))).unwrap_or_default(), AMOUNT_WIDTH, true)
            ));
            o.push_str(&format!("    {}\n", escape_line(&l.id)));
        }
    }
    let w = party_width(cmp);
    if !payments.is_empty() {
        let pw = payments
            .iter()
            .map(|p| p.from.chars().count() + p.to.chars().count() + p.funding.to_string().chars().count() + 7)
            .max()
            .unwrap_or(0)
            .max(w);
        o.push_str(&format!("\n{}\n", tr.t("settle-diff-payments")));
        for p in payments {
            let route = format!("{} -> {} ({})", escape_line(&p.from), escape_line(&p.to), p.funding);
            o.push_str(&format!(
                "{} {} {} {}\n",
                pad(&route, pw, false),
                pad(&tr.money(p.a), AMOUNT_WIDTH, true),
                pad(&tr.money(p.b), AMOUNT_WIDTH, true),
                pad(&tr.money(p.difference), AMOUNT_WIDTH, true)
            ));
        }
    }
    if !parties.is_empty() {
        o.push_str(&format!("\n{}\n", tr.t("settle-diff-parties")));
        o.push_str(&head(&tr.t("settle-col-party"), w));
        for p in &parties {
            o.push_str(&format!(
                "{} {} {} {}\n",
                pad(&escape_line(&p.party), w, false),
                pad(&receives_or_pays(tr, p.net_a), AMOUNT_WIDTH, true),
                pad(&receives_or_pays(tr, p.net_b), AMOUNT_WIDTH, true),
                pad(&receives_or_pays(tr, p.net_difference), AMOUNT_WIDTH, true)
            ));
        }
        o.push_str(&format!("\n{}\n", tr.t("settle-diff-results")));
        o.push_str(&head(&tr.t("settle-col-party"), w));
        for p in &parties {
            o.push_str(&format!(
                "{} {} {} {}\n",
                pad(&escape_line(&p.party), w, false),
                pad(&earned_or_bore(tr, p.result_a), AMOUNT_WIDTH, true),
                pad(&earned_or_bore(tr, p.result_b), AMOUNT_WIDTH, true),
                pad(&earned_or_bore(tr, p.result_difference), AMOUNT_WIDTH, true)
            ));
        }
    }
    o.push('\n');
    o.push_str(&correction_lines(tr, cmp, w));
    o
}

fn side_json(s: &Side<'_>) -> Value {
    json!({"statement_hash": s.hash, "role": s.role, "signed_by": s.signed_by})
}

/// `settle diff` as language-neutral JSON: both statements (hash, role,
/// signed by) and the whole comparison (every line, payment and party, the
/// correction payments; amounts and values as exact decimal strings).
pub fn diff_json(a: &Side<'_>, b: &Side<'_>, cmp: &Comparison) -> Value {
    json!({
        "contract": b.statement.contract,
        "year": b.statement.year,
        "a": side_json(a),
        "b": side_json(b),
        "lines": cmp.lines,
        "payments": cmp.payments,
        "parties": cmp.parties,
        "corrections": cmp.corrections,
    })
}

/// The columns of the `settle diff` CSV.
pub const DIFF_CSV_COLUMNS: &[&str] =
    &["contract", "year", "section", "item", "label", "from", "to", "funding", "a", "b", "difference"];

/// `settle diff` as CSV, one row per fact, separated and numbered as the
/// language's spreadsheets read it: `statement` (item `a`/`b`, the hash in
/// `label`), `line` (every line, its words in `label`), `payment`,
/// `party_net`, `party_result`, `correction` (`difference` above 0, FROM ->
/// TO in `from`, `to`).
pub fn diff_csv(tr: &Tr, a: &Side<'_>, b: &Side<'_>, cmp: &Comparison) -> Result<String> {
    let lang = tr.lang();
    let mut w = csv::WriterBuilder::new().delimiter(lang.csv_separator()).from_writer(Vec::new());
    w.write_record(DIFF_CSV_COLUMNS)?;
    let s = b.statement;
    let (contract, year) = (spreadsheet_cell(&s.contract).into_owned(), s.year.to_string());
    let num = |d: Option<Decimal>| d.map(|d| lang.plain(d)).unwrap_or_default();
    let mut row = |section: &str,
                   item: &str,
                   label: &str,
                   from: &str,
                   to: &str,
                   funding: &str,
                   x: Option<Decimal>,
                   y: Option<Decimal>,
                   d: Option<Decimal>| {
        w.write_record([
            contract.as_str(),
            &year,
            section,
            &spreadsheet_cell(item),
            &spreadsheet_cell(label),
            &spreadsheet_cell(from),
            &spreadsheet_cell(to),
            funding,
            &num(x),
            &num(y),
            &num(d),
        ])
    };
    for (name, side) in [("a", a), ("b", b)] {
        row("statement", name, side.hash, "", "", "", None, None, None)?;
    }
    for l in &cmp.lines {
        row("line", &l.id, &line_words(tr, a, b, &l.id), "", "", "", l.a, l.b, l.difference)?;
    }
    for p in &cmp.payments {
        let f = p.funding.to_string();
        row("payment", "", "", &p.from, &p.to, &f, Some(p.a), Some(p.b), Some(p.difference))?;
    }
    for p in &cmp.parties {
        row("party_net", &p.party, "", "", "", "", Some(p.net_a), Some(p.net_b), Some(p.net_difference))?;
        row("party_result", &p.party, "", "", "", "", Some(p.result_a), Some(p.result_b), Some(p.result_difference))?;
    }
    for c in &cmp.corrections {
        row("correction", "", "", &c.from, &c.to, &c.funding.to_string(), None, None, Some(c.amount))?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?)
}
