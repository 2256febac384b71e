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

use crate::domain::settlement::cosign::{self, Computed};
use crate::domain::settlement::{Carry, Statement, ENGINE_VERSION};
use crate::ledger::text::{escape_line, spreadsheet_cell};
use crate::present::lang::{Lang, Tr};
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
    /// One line: `settled, signed by a, b` / `signed by a; waiting for b` /
    /// `not signed; waiting for a, b`.
    pub fn words(&self) -> String {
        let signed = if self.signed_by.is_empty() {
            "not signed".to_string()
        } else {
            format!("signed by {}", self.signed_by.join(", "))
        };
        match (self.settled, self.waiting_for.is_empty()) {
            (true, _) => format!("settled, {signed}"),
            (false, true) => signed,
            (false, false) => format!("{signed}; waiting for {}", self.waiting_for.join(", ")),
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
/// this year: an end of 0.00).
pub fn balances(s: &Statement) -> Vec<BalanceRow> {
    let mut rows = vec![BalanceRow {
        id: "losses_carried".into(),
        what: "losses carried forward".into(),
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
            what: format!(
                "advance {} of {} outstanding: {} owes {} ({})",
                a.impulse, a.year, a.recipient, a.payer, a.funding
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
    if amount.is_zero() {
        money(amount.abs())
    } else if amount.is_sign_negative() {
        format!("pays {}", money(-amount))
    } else {
        format!("receives {}", money(amount))
    }
}

/// `amount` in words for a party's result: `earned 1.00`, `bore 1.00` or `0.00`.
pub fn earned_or_bore(amount: Decimal) -> String {
    if amount.is_zero() {
        money(amount.abs())
    } else if amount.is_sign_negative() {
        format!("bore {}", money(-amount))
    } else {
        format!("earned {}", money(amount))
    }
}

/// The narrowest label column of the terminal statement.
pub const LABEL_WIDTH: usize = 58;

/// The widest label column of the terminal statement: a longer label is cut
/// (with an ellipsis); the whole label is in every other format.
pub const MAX_LABEL_WIDTH: usize = 100;

/// The statement as a financial statement for the terminal.
pub fn table(c: &Computed, hash: &str, standing: &Standing) -> String {
    let s = &c.statement;
    let mut o = String::new();
    let draft = if c.draft { "DRAFT - NOT AGREED - CANNOT BE SIGNED\n" } else { "" };
    o.push_str(draft);
    o.push_str(&format!("SETTLEMENT STATEMENT {} {}\n", s.contract, s.year));
    o.push_str(&format!("contract version  {}\n", c.version));
    o.push_str(&format!("statement hash    {hash}\n"));
    o.push_str(&format!("engine            {ENGINE_VERSION}\n"));
    o.push_str(&format!(
        "input entries     {} measurement(s): {}\n",
        c.inputs.len(),
        c.inputs.iter().map(|e| &e[..12.min(e.len())]).collect::<Vec<_>>().join(" ")
    ));
    if let Some(p) = &c.previous {
        o.push_str(&format!(
            "carried from      settled {} statement {}\n",
            s.year.saturating_sub(1),
            &p[..16.min(p.len())]
        ));
    }
    o.push_str(&format!("standing          {}\n", escape_line(&standing.words())));
    for n in &c.not_agreed {
        o.push_str(&format!("NOT AGREED        {n}\n"));
    }
    // Labels are shown whole: the column is as wide as the longest (at least
    // LABEL_WIDTH, at most MAX_LABEL_WIDTH characters); a longer label takes
    // a line of its own, its amount on the next line in the column.
    let tr = Tr::new(Lang::default());
    let worded: Vec<(String, String)> = s
        .lines
        .iter()
        .map(|l| (escape_line(&words::label(&tr, l)).into_owned(), escape_line(&words::formula(&tr, l)).into_owned()))
        .collect();
    let lw = worded.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0).clamp(LABEL_WIDTH, MAX_LABEL_WIDTH);
    o.push_str(&format!("\n{:<lw$} {:>20}\n", "DERIVATION", format!("AMOUNT ({})", c.currency)));
    for (l, (label, formula)) in s.lines.iter().zip(worded) {
        let amount = l.amount.map(money).unwrap_or_default();
        // Labels and formulas quote contract text: shown escaped.
        o.push_str(&label_and_amount(&label, &amount, lw));
        if let (Some(from), Some(to), Some(f)) = (&l.from, &l.to, l.funding) {
            o.push_str(&format!("    {} -> {} ({f})\n", escape_line(from), escape_line(to)));
        } else if let (Some(from), Some(to)) = (&l.from, &l.to) {
            o.push_str(&format!("    waived by {} in favour of {} (no payment)\n", escape_line(from), escape_line(to)));
        }
        o.push_str(&format!("    {formula}\n"));
    }
    let w = s
        .parties
        .iter()
        .map(|p| p.party.chars().count())
        .chain(s.payments.iter().flat_map(|p| [p.from.chars().count(), p.to.chars().count()]))
        .max()
        .unwrap_or(0)
        .max(20);
    let has_transfers = s.lines.iter().any(|l| l.is_transfer());
    if has_transfers {
        o.push_str(&format!("\n{:<w$} {:>20} {:>20} {:>24}\n", "CASH PER PARTY", "RECEIVES", "PAYS", "ON BALANCE"));
        o.push_str("(what moves this year: every payment, advances and repayments included)\n");
        for p in &s.parties {
            o.push_str(&format!(
                "{:<w$} {:>20} {:>20} {:>24}\n",
                p.party,
                money(p.received),
                money(p.paid),
                receives_or_pays(p.net)
            ));
        }
    } else {
        o.push_str("\nNO PAYMENTS THIS YEAR\n");
    }
    if has_transfers || s.parties.iter().any(|p| !p.result.is_zero()) {
        o.push_str(&format!("\n{:<w$} {:>24}\n", "RESULT PER PARTY", "RESULT"));
        o.push_str(
            "(earned or borne this year: advances and their repayments are loans, not results; a waived balance is)\n",
        );
        for p in &s.parties {
            o.push_str(&format!("{:<w$} {:>24}\n", p.party, earned_or_bore(p.result)));
        }
    }
    if !s.payments.is_empty() {
        o.push_str("\nPAYMENTS (net per payer, provider and funding stream; FROM -> TO)\n");
        for p in &s.payments {
            let route = format!("{} -> {}", p.from, p.to);
            o.push_str(&format!("{:<width$} {:>20}  ({})\n", route, money(p.amount), p.funding, width = 2 * w + 4));
        }
    }
    if !s.totals_by_stream.is_empty() {
        o.push_str(&format!(
            "\n{:<20} {:>22} {:>22} {:>22}\n",
            "PER FUNDING STREAM", "PAYERS -> PROVIDERS", "PROVIDERS -> PAYERS", "NET TO PROVIDERS"
        ));
        for (k, t) in &s.totals_by_stream {
            o.push_str(&format!(
                "{k:<20} {:>22} {:>22} {:>22}\n",
                money(t.payers_to_providers),
                money(t.providers_to_payers),
                money(t.net_to_providers)
            ));
        }
    }
    let (start, end) = (format!("START OF {}", s.year), format!("END OF {}", s.year));
    let rows = balances(s);
    let bw = rows.iter().map(|b| b.what.chars().count()).max().unwrap_or(0).clamp(LABEL_WIDTH, MAX_LABEL_WIDTH);
    o.push_str(&format!("\n{:<bw$} {:>20} {:>20}\n", "BALANCES", start, end));
    let show = |v: Option<Decimal>| v.map(money).unwrap_or_else(|| "-".into());
    for b in rows {
        o.push_str(&format!(
            "{:<bw$} {:>20} {:>20}\n",
            truncate(&escape_line(&b.what), bw),
            show(b.start),
            show(b.end)
        ));
    }
    for (n, revenue, top_up) in guarantees(s) {
        o.push_str(&format!(
            "revenue guarantee {n}: revenue {}, top-up {} (settled within the year, nothing carried)\n",
            money(revenue),
            money(top_up)
        ));
    }
    o.push_str(draft);
    o
}

/// A derivation row: `label` padded to `lw` columns, then `amount`; a label
/// longer than `lw` is never cut: it takes a line of its own and the amount
/// follows in its column on the next line.
fn label_and_amount(label: &str, amount: &str, lw: usize) -> String {
    if label.chars().count() > lw {
        format!("{label}\n{:<lw$} {amount:>20}\n", "")
    } else {
        format!("{label:<lw$} {amount:>20}\n")
    }
}

/// `s` cut to at most `n` characters, marking a cut with an ellipsis.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 3).collect::<String>() + "..."
    }
}

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
/// safe for spreadsheets.
pub fn csv(c: &Computed, hash: &str, standing: &Standing) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // The amount column names the contract's currency (`amount_eur`,
    // `amount_usd`, ...).
    let amount_column = format!("amount_{}", c.currency.code().to_ascii_lowercase());
    w.write_record(CSV_COLUMNS.iter().map(|&h| if h == "amount_eur" { amount_column.as_str() } else { h }))?;
    let s = &c.statement;
    let year = s.year.to_string();
    let draft = if c.draft { "DRAFT" } else { "" };
    let cents = |a: Decimal| format!("{:.2}", a);
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
            draft,
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
    row("standing", "engine", ENGINE_VERSION, "", None, "", "", "", "")?;
    row("standing", "signed_by", &standing.signed_by.join(" "), "", None, "", "", "", "")?;
    row("standing", "waiting_for", &standing.waiting_for.join(" "), "", None, "", "", "", "")?;
    row("standing", "settled", if standing.settled { "yes" } else { "no" }, "", None, "", "", "", "")?;
    let tr = Tr::new(Lang::default());
    for l in &s.lines {
        row(
            "line",
            &l.id,
            &words::label(&tr, l),
            &words::formula(&tr, l),
            l.amount,
            &l.value.map(|v| v.to_string()).unwrap_or_default(),
            l.from.as_deref().unwrap_or(""),
            l.to.as_deref().unwrap_or(""),
            &l.funding.map(|f| f.to_string()).unwrap_or_default(),
        )?;
    }
    for p in &s.parties {
        row("cash", &p.party, "received", "", Some(p.received), "", "", "", "")?;
        row("cash", &p.party, "paid", "", Some(p.paid), "", "", "", "")?;
        row("cash", &p.party, "net (above 0: receives)", "", Some(p.net), "", "", "", "")?;
        row("result", &p.party, "result (above 0: earned; below 0: borne)", "", Some(p.result), "", "", "", "")?;
    }
    for p in &s.payments {
        row("payment", "", "", "", Some(p.amount), "", &p.from, &p.to, &p.funding.to_string())?;
    }
    for (k, t) in &s.totals_by_stream {
        row("stream", k, "payers to providers", "", Some(t.payers_to_providers), "", "", "", k)?;
        row("stream", k, "providers to payers", "", Some(t.providers_to_payers), "", "", "", k)?;
        row("stream", k, "net to providers", "", Some(t.net_to_providers), "", "", "", k)?;
    }
    for b in balances(s) {
        if let Some(v) = b.start {
            row("balance_start", &b.id, &b.what, "", Some(v), "", "", "", "")?;
        }
        if let Some(v) = b.end {
            row("balance_end", &b.id, &b.what, "", Some(v), "", "", "", "")?;
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
        let row = label_and_amount(&long, "1,234.00", MAX_LABEL_WIDTH);
        assert!(row.contains(&long), "{row}");
        assert!(!row.contains('…'));
        let lines: Vec<&str> = row.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].chars().count(), MAX_LABEL_WIDTH + 1 + 20, "the amount stays in its column");
        let short = label_and_amount("Gross savings", "1,234.00", LABEL_WIDTH);
        assert_eq!(short, format!("{:<LABEL_WIDTH$} {:>20}\n", "Gross savings", "1,234.00"));
    }
}
