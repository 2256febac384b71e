//! The statement as an Excel workbook, for the spreadsheets finance teams
//! live in: amounts are numbers in the contract's currency format (never text), so they sum.
//!
//! Sheets: `Statement` (header with where the statement stands: signed by
//! whom, waiting for whom, settled; every line with its formula; a transfer
//! reads from -> to with an amount of 0 or more), `Parties` (cash received,
//! paid, net; result), `Payments` (who pays whom; totals per funding stream
//! and direction), `Balances` (losses carried, advances outstanding at the
//! start and end of the year), `Inputs` (the figures and the entries they
//! came from). The workbook is byte-identical for the
//! same statement: its creation date is fixed to 1 January of the year
//! after the contract year.
//!
//! Spreadsheet cells hold binary floating-point numbers. An amount in cents
//! below 10^13 converts to the nearest such number and shows back exactly;
//! a larger one is written as text so no cent is lost. The exact figures
//! remain those of the JSON statement, whose hash is the statement hash.

use crate::ledger::text::spreadsheet_cell;
use anyhow::Result;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

use crate::domain::settlement::cosign::Computed;
use crate::domain::settlement::ENGINE_VERSION;
use crate::present::lang::{Lang, Tr};
use crate::present::statement::{balances, guarantees, Standing};
use crate::present::words;

/// Amounts at or above this magnitude are written as text.
const EXACT_LIMIT: i64 = 10_000_000_000_000;

fn money_cell(ws: &mut Worksheet, row: u32, col: u16, a: Decimal, fmt: &Format) -> Result<()> {
    match a.to_f64().filter(|_| a.abs() < Decimal::from(EXACT_LIMIT)) {
        Some(f) => ws.write_number_with_format(row, col, f, fmt)?,
        None => ws.write_string(row, col, format!("{a:.2}"))?,
    };
    Ok(())
}

fn value_cell(ws: &mut Worksheet, row: u32, col: u16, v: Decimal) -> Result<()> {
    match v.to_f64().filter(|_| v.abs() < Decimal::from(EXACT_LIMIT)) {
        Some(f) => ws.write_number(row, col, f)?,
        None => ws.write_string(row, col, v.to_string())?,
    };
    Ok(())
}

fn header(ws: &mut Worksheet, row: u32, names: &[&str], bold: &Format) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        ws.write_string_with_format(row, i as u16, *n, bold)?;
    }
    Ok(())
}

/// The workbook's bytes.
pub fn workbook(c: &Computed, standing: &Standing) -> Result<Vec<u8>> {
    let s = &c.statement;
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(s.year.saturating_add(1), 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("Settlement statement {} {}", s.contract, s.year))
            .set_comment(format!("statement hash {}", c.hash))
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    // Amounts as numbers in the contract's currency (euro sign for EUR,
    // the ISO code otherwise).
    let eur = match c.currency.code() {
        "EUR" => Format::new().set_num_format("€ #,##0.00;-€ #,##0.00"),
        code => Format::new().set_num_format(format!("#,##0.00 \"{code}\";-#,##0.00 \"{code}\"")),
    };
    let wrap = Format::new().set_text_wrap();

    let ws = wb.add_worksheet();
    ws.set_name("Statement")?;
    let mut row = 0u32;
    if c.draft {
        ws.write_string_with_format(row, 0, "DRAFT - NOT AGREED - CANNOT BE SIGNED", &bold)?;
        row += 1;
    }
    for (k, v) in [
        ("contract", s.contract.clone()),
        ("contract version", c.version.clone()),
        ("year", String::new()),
        ("statement hash", c.hash.clone()),
        ("engine", ENGINE_VERSION.to_string()),
        ("input entries", c.inputs.join(" ")),
        ("signed by", standing.signed_by.join(", ")),
        ("waiting for", standing.waiting_for.join(", ")),
        ("settled", if standing.settled { "yes" } else { "no" }.to_string()),
    ] {
        ws.write_string_with_format(row, 0, k, &bold)?;
        if k == "year" {
            ws.write_number(row, 1, s.year)?;
        } else {
            ws.write_string(row, 1, v)?;
        }
        row += 1;
    }
    for n in &c.not_agreed {
        ws.write_string_with_format(row, 0, "NOT AGREED", &bold)?;
        ws.write_string(row, 1, n.to_string())?;
        row += 1;
    }
    row += 1;
    let amount_heading = format!("amount ({})", c.currency);
    header(ws, row, &["line", "label", "formula", &amount_heading, "value", "from", "to", "funding"], &bold)?;
    ws.set_freeze_panes(row + 1, 0)?;
    let tr = Tr::new(Lang::default());
    for l in &s.lines {
        row += 1;
        ws.write_string(row, 0, &l.id)?;
        // Labels and formulas quote contract text: escaped, never a formula.
        ws.write_string(row, 1, spreadsheet_cell(&words::label(&tr, l)))?;
        ws.write_string_with_format(row, 2, spreadsheet_cell(&words::formula(&tr, l)), &wrap)?;
        if let Some(a) = l.amount {
            money_cell(ws, row, 3, a, &eur)?;
        }
        if let Some(v) = l.value {
            value_cell(ws, row, 4, v)?;
        }
        ws.write_string(row, 5, l.from.as_deref().unwrap_or(""))?;
        ws.write_string(row, 6, l.to.as_deref().unwrap_or(""))?;
        ws.write_string(row, 7, l.funding.map(|f| f.to_string()).unwrap_or_default())?;
    }
    for (col, width) in [(0u16, 40.0), (1, 40.0), (2, 90.0), (3, 18.0), (4, 12.0), (5, 14.0), (6, 14.0), (7, 14.0)] {
        ws.set_column_width(col, width)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("Parties")?;
    header(
        ws,
        0,
        &[
            "party",
            "role",
            "cash received",
            "cash paid",
            "cash net (above 0: receives)",
            "result (above 0: earned; below 0: borne)",
        ],
        &bold,
    )?;
    for (i, p) in s.parties.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &p.party)?;
        ws.write_string(r, 1, p.role.to_string())?;
        money_cell(ws, r, 2, p.received, &eur)?;
        money_cell(ws, r, 3, p.paid, &eur)?;
        money_cell(ws, r, 4, p.net, &eur)?;
        money_cell(ws, r, 5, p.result, &eur)?;
    }
    let r = s.parties.len() as u32 + 2;
    ws.write_string(r, 0, "Cash: what moves this year, advances and repayments included. Result: what each party earned or bore; advances and their repayments are loans, not results; a waived balance is a result.")?;
    ws.set_column_width(0, 16)?;
    for col in 2..=5 {
        ws.set_column_width(col, 18)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("Payments")?;
    header(ws, 0, &["from", "to", "funding", "amount"], &bold)?;
    for (i, p) in s.payments.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &p.from)?;
        ws.write_string(r, 1, &p.to)?;
        ws.write_string(r, 2, p.funding.to_string())?;
        money_cell(ws, r, 3, p.amount, &eur)?;
    }
    let r = s.payments.len() as u32 + 2;
    header(
        ws,
        r,
        &["per funding stream", "", "funding", "payers to providers", "providers to payers", "net to providers"],
        &bold,
    )?;
    for (i, (k, t)) in s.totals_by_stream.iter().enumerate() {
        let row = r + 1 + i as u32;
        ws.write_string(row, 2, k)?;
        money_cell(ws, row, 3, t.payers_to_providers, &eur)?;
        money_cell(ws, row, 4, t.providers_to_payers, &eur)?;
        money_cell(ws, row, 5, t.net_to_providers, &eur)?;
    }
    for col in 3..=5 {
        ws.set_column_width(col, 18)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("Balances")?;
    header(ws, 0, &["balance", "description", "start of year", "end of year"], &bold)?;
    let rows = balances(s);
    for (i, b) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &b.id)?;
        ws.write_string(r, 1, spreadsheet_cell(&b.what))?;
        if let Some(v) = b.start {
            money_cell(ws, r, 2, v, &eur)?;
        }
        if let Some(v) = b.end {
            money_cell(ws, r, 3, v, &eur)?;
        }
    }
    let g = guarantees(s);
    if !g.is_empty() {
        let r = rows.len() as u32 + 2;
        header(ws, r, &["revenue guarantee", "settled within the year, nothing carried", "revenue", "top-up"], &bold)?;
        for (i, (n, revenue, top_up)) in g.iter().enumerate() {
            let row = r + 1 + i as u32;
            ws.write_string(row, 0, format!("revenue_guarantee.{n}"))?;
            money_cell(ws, row, 2, *revenue, &eur)?;
            money_cell(ws, row, 3, *top_up, &eur)?;
        }
    }
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 60)?;
    for col in 2..=3 {
        ws.set_column_width(col, 18)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("Inputs")?;
    header(ws, 0, &["indicator", "year", "value"], &bold)?;
    for (i, f) in s.inputs.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &f.indicator)?;
        ws.write_number(r, 1, f.year)?;
        value_cell(ws, r, 2, f.value)?;
    }
    let r = s.inputs.len() as u32 + 2;
    ws.write_string_with_format(r, 0, "input entries", &bold)?;
    for (i, id) in c.inputs.iter().enumerate() {
        ws.write_string(r + 1 + i as u32, 0, id)?;
    }
    ws.set_column_width(0, 66)?;
    Ok(wb.save_to_buffer()?)
}
