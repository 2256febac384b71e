//! `vereffen settle`: the yearly statement computed from the agreed figures
//! on this copy of the ledger.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use vereffen::entry::{Entry, EntryId};
use vereffen::ledger::Ledger;
use vereffen::measurement as meas;
use vereffen::negotiation as neg;
use vereffen::settlement::{self, inputs::inputs_for_year, Carry, Statement};

use super::{open_ledger, Cli};

/// Output formats of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A financial statement for the terminal.
    Table,
    /// Canonical JSON (its blake3 hash is the statement hash).
    Json,
    /// One row per line, for spreadsheets.
    Csv,
}

#[derive(Args, Debug)]
pub struct SettleArgs {
    /// The contract id.
    contract: String,
    /// The contract year to settle.
    #[arg(long)]
    year: u16,
    /// Compute even with figures that are not agreed yet: a preview, marked DRAFT everywhere.
    #[arg(long)]
    draft: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// A computed statement with everything its header shows.
struct Computed {
    statement: Statement,
    version: String,
    entries: Vec<String>,
    not_agreed: Vec<String>,
    draft: bool,
}

fn compute(ledger: &Ledger, contract: &str, year: u16, draft: bool) -> Result<Computed> {
    let ids = ledger.index().by_contract(contract)?;
    let entries: Vec<Entry> = ledger.load(&ids)?.into_iter().map(|(_, e)| e).collect();
    let st = neg::status(contract, &entries);
    if st.versions.is_empty() {
        bail!("there is no contract {contract:?} in this ledger (`vereffen contract list` shows the contracts)");
    }
    let Some(base) = st.base.as_ref().and_then(|b| st.versions.get(b)) else {
        bail!(
            "contract {contract:?} is not in force: nothing can be settled before every signatory has signed a version"
        );
    };
    let term = &base.terms.term;
    if !term.years().contains(&year) {
        bail!("{year} lies outside the contract term {}-{}", term.first_year, term.last_year);
    }
    let lookup = |id: &EntryId| ledger.get(id).ok().flatten().map(|(_, e)| e);
    let ms = meas::states(contract, &entries, &lookup);
    // Settling year Y needs the state carried from every year before it.
    let mut carry = Carry::initial(&base.terms);
    let mut result = None;
    for y in term.first_year..=year {
        let version = st.governing(y).ok_or_else(|| anyhow!("no version of {contract:?} governs {y}"))?;
        let inputs = inputs_for_year(&version.terms, y, &ms, draft).map_err(|blockers| {
            let list: Vec<String> = blockers.iter().map(|b| format!("  {y} {b}")).collect();
            anyhow!(
                "{year} cannot be settled: {} figure(s) of {y} are not agreed:\n{}\n(`vereffen measure list {contract} --year {y}` shows them; --draft computes a preview anyway)",
                blockers.len(),
                list.join("\n")
            )
        })?;
        let statement =
            settlement::settle_year(&version.terms, &inputs.inputs, &carry).map_err(|e| anyhow!("{y}: {e}"))?;
        carry = statement.carry_out.clone();
        if y == year {
            let not_agreed = inputs.not_agreed.iter().map(|b| b.to_string()).collect();
            result = Some(Computed {
                statement,
                version: version.version.clone(),
                entries: inputs.entries,
                not_agreed,
                draft,
            });
        }
    }
    result.ok_or_else(|| anyhow!("{year} was not reached"))
}

/// The canonical JSON document of a statement: header and statement.
fn document(c: &Computed) -> Result<(Value, String)> {
    let statement: Value = serde_json::to_value(&c.statement)?;
    let body = vereffen::canonical::encode(&json!({"draft": c.draft, "inputs": c.entries, "statement": statement}))?;
    let hash = blake3::hash(&body).to_hex().to_string();
    let doc = json!({
        "draft": c.draft,
        "contract": c.statement.contract,
        "version": c.version,
        "year": c.statement.year,
        "inputs": c.entries,
        "not_agreed": c.not_agreed,
        "statement_hash": hash,
        "statement": statement,
    });
    Ok((doc, hash))
}

fn table(c: &Computed, hash: &str) -> String {
    let s = &c.statement;
    let mut o = String::new();
    let draft = if c.draft { "DRAFT - NOT AGREED - CANNOT BE SIGNED\n" } else { "" };
    o.push_str(draft);
    o.push_str(&format!("SETTLEMENT STATEMENT {} {}\n", s.contract, s.year));
    o.push_str(&format!("contract version  {}\n", c.version));
    o.push_str(&format!("statement hash    {hash}\n"));
    o.push_str(&format!(
        "input entries     {} measurement(s): {}\n",
        c.entries.len(),
        c.entries.iter().map(|e| &e[..12]).collect::<Vec<_>>().join(" ")
    ));
    for n in &c.not_agreed {
        o.push_str(&format!("NOT AGREED        {n}\n"));
    }
    o.push_str(&format!("\n{:<58} {:>20}\n", "DERIVATION", "AMOUNT (EUR)"));
    for l in &s.lines {
        let amount = l.amount.map(settlement_money).unwrap_or_default();
        o.push_str(&format!("{:<58} {:>20}\n", truncate(&l.label, 58), amount));
        o.push_str(&format!("    {}\n", l.formula));
    }
    o.push_str(&format!("\n{:<20} {:>20} {:>20} {:>20}\n", "RESULT PER PARTY", "RECEIVED", "PAID", "NET"));
    for p in &s.parties {
        o.push_str(&format!(
            "{:<20} {:>20} {:>20} {:>20}\n",
            p.party,
            settlement_money(p.received),
            settlement_money(p.paid),
            settlement_money(p.net)
        ));
    }
    o.push_str("\nPAYMENTS\n");
    for p in &s.payments {
        o.push_str(&format!("{:<16} pays {:<16} {:>20}  ({})\n", p.from, p.to, settlement_money(p.amount), p.funding));
    }
    o.push_str("\nTOTALS PER FUNDING STREAM\n");
    for (k, v) in &s.totals_by_stream {
        o.push_str(&format!("{k:<20} {:>20}\n", settlement_money(*v)));
    }
    o.push_str(&format!("\nCARRIED INTO {}\n", s.year + 1));
    o.push_str(&format!("{}\n", serde_json::to_string(&s.carry_out).unwrap_or_default()));
    o.push_str(draft);
    o
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 3).collect::<String>() + "..."
    }
}

/// Money with thousands separators and two decimals.
fn settlement_money(v: rust_decimal::Decimal) -> String {
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

fn csv_text(c: &Computed, hash: &str) -> Result<String> {
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
            &l.label,
            &l.formula,
            &l.amount.map(|a| format!("{:.2}", a)).unwrap_or_default(),
            &l.value.map(|v| v.to_string()).unwrap_or_default(),
            l.party.as_deref().unwrap_or(""),
            l.payer.as_deref().unwrap_or(""),
            &l.funding.map(|f| f.to_string()).unwrap_or_default(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?)
}

/// Writes `text` to `out` whole (temporary file, then rename) or to stdout.
fn emit(text: &str, out: Option<&Path>) -> Result<()> {
    match out {
        None => {
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Some(path) => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut tmp =
                tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
            tmp.write_all(text.as_bytes())?;
            tmp.as_file().sync_all()?;
            tmp.persist(path).map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// The agreed statement of a year in a format, and its hash.
pub fn statement_text(ledger: &Ledger, contract: &str, year: u16, format: Format) -> Result<(String, String)> {
    render(&compute(ledger, contract, year, false)?, format)
}

fn render(c: &Computed, format: Format) -> Result<(String, String)> {
    let (doc, hash) = document(c)?;
    let text = match format {
        Format::Table => table(c, &hash),
        Format::Json => serde_json::to_string_pretty(&doc)? + "\n",
        Format::Csv => csv_text(c, &hash)?,
    };
    Ok((text, hash))
}

pub fn settle(cli: &Cli, args: &SettleArgs) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let c = compute(&ledger, &args.contract, args.year, args.draft)?;
    let (text, _) = render(&c, if cli.json { Format::Json } else { args.format })?;
    emit(&text, args.out.as_deref())?;
    Ok(0)
}
