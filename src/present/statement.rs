//! A settlement statement as people read it: a financial statement for the
//! terminal ([`table`]), the JSON document ([`document`]), CSV ([`csv`]),
//! and the side-by-side view of two statements that differ
//! ([`side_by_side`]). The workbook is [`crate::present::xlsx`].
//!
//! Nothing here computes money: every figure comes from the statement the
//! settlement engine produced; this module only formats it.

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use crate::domain::settlement::cosign::{self, Computed};
use crate::ledger::text::{escape_line, spreadsheet_cell};

/// The JSON document of a statement: header and statement.
pub fn document(c: &Computed) -> Value {
    json!({
        "draft": c.draft,
        "contract": c.statement.contract,
        "version": c.version,
        "year": c.statement.year,
        "inputs": c.inputs,
        "previous": c.previous,
        "not_agreed": c.not_agreed.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
        "statement_hash": c.hash,
        "statement": c.value,
    })
}

/// The statement as a financial statement for the terminal.
pub fn table(c: &Computed, hash: &str) -> String {
    let s = &c.statement;
    let mut o = String::new();
    let draft = if c.draft { "DRAFT - NOT AGREED - CANNOT BE SIGNED\n" } else { "" };
    o.push_str(draft);
    o.push_str(&format!("SETTLEMENT STATEMENT {} {}\n", s.contract, s.year));
    o.push_str(&format!("contract version  {}\n", c.version));
    o.push_str(&format!("statement hash    {hash}\n"));
    o.push_str(&format!(
        "input entries     {} measurement(s): {}\n",
        c.inputs.len(),
        c.inputs.iter().map(|e| &e[..12]).collect::<Vec<_>>().join(" ")
    ));
    if let Some(p) = &c.previous {
        o.push_str(&format!("carried from      settled {} statement {}\n", s.year.saturating_sub(1), &p[..16]));
    }
    for n in &c.not_agreed {
        o.push_str(&format!("NOT AGREED        {n}\n"));
    }
    o.push_str(&format!("\n{:<58} {:>20}\n", "DERIVATION", "AMOUNT (EUR)"));
    for l in &s.lines {
        let amount = l.amount.map(money).unwrap_or_default();
        // Labels and formulas quote contract text: shown escaped.
        let (label, formula) = (escape_line(&l.label), escape_line(&l.formula));
        o.push_str(&format!("{:<58} {:>20}\n", truncate(&label, 58), amount));
        o.push_str(&format!("    {formula}\n"));
    }
    o.push_str(&format!("\n{:<20} {:>20} {:>20} {:>20}\n", "RESULT PER PARTY", "RECEIVED", "PAID", "NET"));
    for p in &s.parties {
        o.push_str(&format!("{:<20} {:>20} {:>20} {:>20}\n", p.party, money(p.received), money(p.paid), money(p.net)));
    }
    o.push_str("\nPAYMENTS\n");
    for p in &s.payments {
        o.push_str(&format!("{:<16} pays {:<16} {:>20}  ({})\n", p.from, p.to, money(p.amount), p.funding));
    }
    o.push_str("\nTOTALS PER FUNDING STREAM\n");
    for (k, v) in &s.totals_by_stream {
        o.push_str(&format!("{k:<20} {:>20}\n", money(*v)));
    }
    o.push_str(&format!("\nCARRIED INTO {}\n", s.year.saturating_add(1)));
    let carry = &s.carry_out;
    o.push_str(&format!("{:<58} {:>20}\n", "losses carried forward", money(carry.losses_carried)));
    if carry.advances.is_empty() {
        o.push_str("advances outstanding                                                       none\n");
    }
    for a in &carry.advances {
        o.push_str(&format!(
            "{:<58} {:>20}\n",
            truncate(&format!("advance {} of {} to {} ({}): outstanding", a.impulse, a.year, a.recipient, a.payer), 58),
            money(a.outstanding)
        ));
    }
    o.push_str(draft);
    o
}

/// `s` cut to at most `n` characters, marking a cut with an ellipsis.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 3).collect::<String>() + "..."
    }
}

/// Money with thousands separators and two decimals.
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

/// The statement as CSV: one row per line, ledger text made safe for
/// spreadsheets.
pub fn csv(c: &Computed, hash: &str) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "contract",
        "year",
        "draft",
        "statement_hash",
        "line",
        "label",
        "formula",
        "amount_eur",
        "value",
        "party",
        "payer",
        "funding",
    ])?;
    let s = &c.statement;
    for l in &s.lines {
        w.write_record([
            s.contract.as_str(),
            &s.year.to_string(),
            if c.draft { "DRAFT" } else { "" },
            hash,
            &l.id,
            &spreadsheet_cell(&l.label),
            &spreadsheet_cell(&l.formula),
            &l.amount.map(|a| format!("{:.2}", a)).unwrap_or_default(),
            &l.value.map(|v| v.to_string()).unwrap_or_default(),
            l.party.as_deref().unwrap_or(""),
            l.payer.as_deref().unwrap_or(""),
            &l.funding.map(|f| f.to_string()).unwrap_or_default(),
        ])?;
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
