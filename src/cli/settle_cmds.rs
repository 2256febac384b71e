//! `vereffen settle`: the yearly statement computed from the agreed figures
//! on this copy of the ledger.

use std::path::{Path, PathBuf};
use vereffen::ledger::text::escape_line;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use vereffen::domain::settlement::cosign::{self, ComputeError, Computed, ContractView};
use vereffen::domain::settlement::gate;
use vereffen::ledger::entry::{Entry, EntryId};
use vereffen::ledger::Ledger;
use vereffen::present::lang::Lang;
use vereffen::present::{statement, xlsx};

use super::{append_one, new_body, open_ledger, signer, Cli};

/// Output formats of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A financial statement for the terminal.
    Table,
    /// Pretty-printed JSON (not canonical): the statement (with its words)
    /// under "statement" with its "statement_hash", "engine", "inputs",
    /// "draft", "version", "previous", "not_agreed" and "standing" (signed
    /// by, waiting for, settled). The statement hash is blake3 of the
    /// canonical JSON of {"draft", "engine", "inputs", "statement"} with the
    /// statement's signed form (no labels or formulas; docs/FORMAT.md 5.8),
    /// not of this file.
    Json,
    /// One row per fact (standing, lines, cash and result per party,
    /// payments, streams, balances), for spreadsheets.
    Csv,
    /// An Excel workbook (needs --out): amounts as numbers in the contract's currency.
    Xlsx,
}

/// `vereffen settle CONTRACT --year Y ...` or `vereffen settle status CONTRACT`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SettleCmd {
    #[command(subcommand)]
    sub: Option<SettleSub>,
    #[command(flatten)]
    args: SettleArgs,
}

#[derive(Subcommand, Debug)]
enum SettleSub {
    /// Each contract year: open, computable, signed by whom, settled, conflicts.
    Status {
        /// The contract id.
        contract: String,
    },
}

#[derive(Args, Debug)]
pub struct SettleArgs {
    /// The contract id.
    #[arg(required = true)]
    contract: Option<String>,
    /// The contract year to settle.
    #[arg(long, required = true)]
    year: Option<u16>,
    /// Compute even with figures that are not agreed yet: a preview, marked DRAFT everywhere.
    #[arg(long)]
    draft: bool,
    /// Output format (xlsx needs --out).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Co-sign the statement this copy computes (a `settlement.sign` entry).
    #[arg(long, requires = "as_key")]
    sign: bool,
    /// The signing key of a signatory party (with --sign).
    #[arg(long = "as", requires = "sign")]
    as_key: Option<PathBuf>,
    /// With --sign: replace the settled statement of the year by this one (a resettlement all signatories sign).
    #[arg(long, requires = "sign")]
    resettle: bool,
    /// With --sign: sign without asking (for scripts); without it, a standard input that is not a terminal is an error.
    #[arg(long, requires = "sign")]
    yes: bool,
}

/// Reads a contract's entries on this copy once.
pub fn contract_view(ledger: &Ledger, contract: &str) -> Result<ContractView> {
    let entries: Vec<Entry> = ledger.contract_entries(contract)?;
    let void = ledger.void_entries()?;
    let lookup = |id: &EntryId| ledger.get_live(id, &void);
    Ok(ContractView::new(contract, &entries, &lookup))
}

fn compute(view: &ContractView, year: u16, draft: bool) -> Result<Computed> {
    view.compute(year, draft).map_err(|e| match e {
        ComputeError::Blocked { year: y, .. } => anyhow!(
            "{year} cannot be settled: {e}\n(`vereffen measure list {} --year {y}` shows them; --draft computes a preview anyway)",
            view.contract
        ),
        other => anyhow!("{other}"),
    })
}

/// Writes `bytes` to `out` whole (temporary file, then rename) or to stdout.
pub(super) fn emit(bytes: &[u8], out: Option<&Path>) -> Result<()> {
    match out {
        None => super::write_stdout(bytes)?,
        Some(path) => {
            super::write_file_atomically(path, bytes)?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// The agreed statement of a year in a format, and its hash.
pub fn statement_text(ledger: &Ledger, contract: &str, year: u16, format: Format) -> Result<(String, String)> {
    let view = contract_view(ledger, contract)?;
    let c = compute(&view, year, false)?;
    let standing = standing(&view, &c);
    Ok((render(&c, format, &standing, &Extra::of(&view, &c, Lang::default()))?, c.hash))
}

/// Where the computed statement `c` stands on this copy: who signed exactly
/// it (under this engine version or, for a year settled before, under
/// version 1), who has not, and whether it is the settled statement.
pub fn standing(view: &ContractView, c: &Computed) -> statement::Standing {
    let Some(ys) = view.settlements.get(&c.statement.year) else { return statement::Standing::default() };
    if c.draft {
        return statement::Standing { signed_by: Vec::new(), waiting_for: ys.signatories.clone(), settled: false };
    }
    let mine: Vec<&cosign::Signatures> = ys.statements.values().filter(|s| c.is(&s.hash)).collect();
    let mut signed_by: Vec<String> = mine.iter().flat_map(|s| s.by.keys().cloned()).collect();
    signed_by.sort();
    signed_by.dedup();
    let waiting_for = ys.signatories.iter().filter(|p| !signed_by.contains(p)).cloned().collect();
    let settled = ys.settled.as_deref().is_some_and(|h| c.is(h));
    statement::Standing { signed_by, waiting_for, settled }
}

/// The statement in `format`, as bytes.
/// What the workbook shows besides the statement: the governing contract
/// version (its terms and rules become the formulas), the year's
/// signatures, the language.
struct Extra<'a> {
    terms: Option<&'a vereffen::domain::contract::Contract>,
    signatures: Vec<xlsx::Signature>,
    sources: std::collections::BTreeMap<(String, u16), Vec<String>>,
    lang: Lang,
}

impl<'a> Extra<'a> {
    fn of(view: &'a ContractView, c: &Computed, lang: Lang) -> Extra<'a> {
        let year = c.statement.year;
        let terms = view.status.versions.get(&c.version).map(|v| &v.terms);
        let mut signatures = Vec::new();
        if let Some(ys) = view.settlements.get(&year) {
            for (hash, sigs) in &ys.statements {
                for (party, signed) in &sigs.by {
                    signatures.push(xlsx::Signature {
                        party: party.clone(),
                        statement: hash.clone(),
                        entry: signed.entry.clone(),
                        time: signed.time.clone(),
                    });
                }
            }
        }
        let mut sources: std::collections::BTreeMap<(String, u16), Vec<String>> = Default::default();
        for m in view.measurements.iter().filter(|m| c.inputs.contains(&m.id)) {
            sources.entry((m.indicator.clone(), m.year)).or_default().push(m.id.clone());
        }
        Extra { terms, signatures, sources, lang }
    }
}

fn render_bytes(c: &Computed, format: Format, standing: &statement::Standing, extra: &Extra<'_>) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Table => statement::table(c, &c.hash, standing).into_bytes(),
        Format::Json => (serde_json::to_string_pretty(&statement::document(c, standing))? + "\n").into_bytes(),
        Format::Csv => statement::csv(c, &c.hash, standing)?.into_bytes(),
        Format::Xlsx => xlsx::workbook(
            c,
            standing,
            &xlsx::Context {
                terms: extra.terms,
                signatures: &extra.signatures,
                sources: &extra.sources,
                lang: extra.lang,
            },
        )?,
    })
}

fn render(c: &Computed, format: Format, standing: &statement::Standing, extra: &Extra<'_>) -> Result<String> {
    Ok(String::from_utf8(render_bytes(c, format, standing, extra)?)?)
}

pub fn settle(cli: &Cli, cmd: &SettleCmd) -> Result<i32> {
    if let Some(SettleSub::Status { contract }) = &cmd.sub {
        return status(cli, contract);
    }
    let args = &cmd.args;
    let (Some(contract), Some(year)) = (args.contract.as_deref(), args.year) else {
        bail!("give a contract and --year (or `vereffen settle status CONTRACT`)");
    };
    if args.sign {
        return sign(cli, args, contract, year);
    }
    let ledger = open_ledger(&cli.ledger)?;
    let view = contract_view(&ledger, contract)?;
    let c = compute(&view, year, args.draft)?;
    if let Some(ys) = view.settlements.get(&year) {
        match &ys.settled {
            Some(h) if !c.is(h) => eprintln!(
                "warning: {year} is settled with statement {}, but this copy now computes {}: {}",
                &h[..16],
                &c.hash[..16],
                if ys.conflicts.is_empty() {
                    "see `vereffen settle status`".to_string()
                } else {
                    ys.conflicts.join("; ")
                }
            ),
            _ => {}
        }
    }
    let format = if cli.json { Format::Json } else { args.format };
    if format == Format::Xlsx && args.out.is_none() {
        bail!("--format xlsx writes a workbook: give --out FILE.xlsx");
    }
    let extra = Extra::of(&view, &c, cli.lang.unwrap_or_default());
    emit(&render_bytes(&c, format, &standing(&view, &c), &extra)?, args.out.as_deref())?;
    Ok(0)
}

fn sign(cli: &Cli, args: &SettleArgs, contract: &str, year: u16) -> Result<i32> {
    if args.draft {
        bail!("a DRAFT can never be signed: it uses figures that are not agreed; sign once every figure of {year} is agreed");
    }
    let mut ledger = open_ledger(&cli.ledger)?;
    let key_path = args.as_key.as_deref().ok_or_else(|| anyhow!("--sign needs --as KEY"))?;
    let (key, party) = signer(&ledger, key_path)?;
    let view = contract_view(&ledger, contract)?;
    let c = compute(&view, year, false)?;
    let ys = view.settlements.get(&year).ok_or_else(|| anyhow!("{year} is not a year of contract {contract:?}"))?;
    if !ys.signatories.contains(&party) {
        bail!(
            "{party:?} (key {}) is not a signatory of contract {contract:?}; its signatories are {}",
            key_path.display(),
            ys.signatories.join(", ")
        );
    }
    let first = view.status.base.as_ref().and_then(|b| view.status.versions.get(b)).map(|v| v.terms.term.first_year);
    if first.is_some_and(|f| year > f) && c.previous.is_none() {
        bail!(
            "{} is not settled yet: years are settled in order (`vereffen settle status {contract}`)",
            year.saturating_sub(1)
        );
    }
    if let Some(prev) = view.settlements.get(&(year.wrapping_sub(1))) {
        if !prev.conflicts.is_empty() {
            bail!(
                "{} is settled but in conflict ({}); resettle {} first",
                year.wrapping_sub(1),
                prev.conflicts.join("; "),
                year.wrapping_sub(1)
            );
        }
    }
    let replaces = match &ys.settled {
        Some(h) if c.is(h) => {
            outln!("{year} is already settled with this statement ({}); nothing to sign", &h[..16]);
            return Ok(0);
        }
        Some(h) if !args.resettle => {
            let theirs = &ys.statements[h].payload.statement;
            bail!(
                "{year} is settled with statement {}, but this copy computes {}:\n{}{}To replace the settled statement, every signatory signs the new one with --resettle.",
                &h[..16],
                &c.hash[..16],
                statement::side_by_side("settled", theirs, &c.value),
                if ys.conflicts.is_empty() { String::new() } else { format!("conflicts: {}\n", ys.conflicts.join("; ")) }
            );
        }
        Some(h) => Some(h.clone()),
        None if args.resettle => bail!("{year} is not settled: there is nothing to resettle; sign without --resettle"),
        None => None,
    };
    if ys.statements.values().any(|s| c.is(&s.hash) && s.by.contains_key(&party)) {
        outln!(
            "{party} already signed the {year} statement {}; waiting for {}",
            &c.hash[..16],
            ys.waiting_for(&c.hash).join(", ")
        );
        return Ok(0);
    }
    // Another party signed a different statement (and not ours): show where we differ.
    for (h, s) in &ys.statements {
        let pending = Some(h) != ys.settled.as_ref() && !ys.replaced.contains(h) && !view.is_stale(&s.payload);
        let disagree: Vec<&String> =
            s.by.keys().filter(|p| !ys.statements.get(&c.hash).is_some_and(|m| m.by.contains_key(*p))).collect();
        if !c.is(h) && pending && !disagree.is_empty() && s.payload.replaces.as_ref() == replaces.as_ref() {
            bail!(
                "{} signed the {year} statement {}, but this copy computes {}; the signature is refused. Where they differ:\n{}Compare the inputs (`vereffen measure list {contract} --year {year}`) and exchange bundles before signing.",
                disagree.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", "),
                &h[..16],
                &c.hash[..16],
                statement::side_by_side(&format!("signed by {}", disagree[0]), &s.payload.statement, &c.value)
            );
        }
    }
    let summary = sign_summary(&party, &c, replaces.as_deref());
    super::confirm::confirm(&summary, &format!("Sign the {year} statement as {party}?"), args.yes, cli.json)?;
    let (payload, refs) = cosign::sign_payload(&c, replaces.as_deref()).map_err(|e| anyhow!(e))?;
    let body = new_body(&ledger, &party, &key, cosign::KIND_SIGN, refs, payload);
    let entry = append_one(&mut ledger, body, &[&key], cli.json)?;
    let mut waiting = ys.waiting_for(&c.hash);
    waiting.retain(|p| *p != party);
    if !cli.json {
        if waiting.is_empty() {
            outln!("{party} signed the {year} statement {}: {year} is settled", &c.hash[..16]);
        } else {
            outln!(
                "{party} signed the {year} statement {} (entry {}); waiting for {}",
                &c.hash[..16],
                entry.id().short(),
                waiting.join(", ")
            );
        }
    }
    Ok(0)
}

/// What a `settlement.sign` signs, for a person to check before signing:
/// per party what it receives and pays, and every payment FROM -> TO with
/// a positive amount (euro, two decimals, grouped).
fn sign_summary(party: &str, c: &Computed, replaces: Option<&str>) -> String {
    use std::fmt::Write as _;
    use vereffen::domain::settlement::format_money;
    let st = &c.statement;
    let mut s = format!(
        "{party} signs the {} statement {} of contract {}{}\n",
        st.year,
        &c.hash[..16],
        escape_line(&st.contract),
        replaces.map(|r| format!(", replacing settled statement {}", &r[..16.min(r.len())])).unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "  {:<20} {:>18} {:>18}",
        "PARTY",
        format!("RECEIVES ({})", c.currency),
        format!("PAYS ({})", c.currency)
    );
    for p in &st.parties {
        let _ = writeln!(
            s,
            "  {:<20} {:>18} {:>18}",
            escape_line(&p.party),
            format_money(p.received),
            format_money(p.paid)
        );
    }
    if st.payments.is_empty() {
        s.push_str("  no payments\n");
    } else {
        let _ = writeln!(s, "  PAYMENTS ({})", c.currency);
        for p in &st.payments {
            debug_assert!(p.amount > rust_decimal::Decimal::ZERO, "a payment is positive");
            let _ = writeln!(
                s,
                "  {} -> {} {:>18} ({})",
                escape_line(&p.from),
                escape_line(&p.to),
                format_money(p.amount),
                p.funding
            );
        }
    }
    s
}

/// Why `year` is open: its own figures that are not agreed and, when an
/// earlier unsettled year's figures block it (its statement starts from that
/// year's), that year too. `blocked` is the year the computation stopped
/// at with `blockers` figures not agreed.
fn open_detail(view: &ContractView, year: u16, blocked: u16, blockers: usize) -> String {
    use vereffen::domain::settlement::inputs::inputs_for_year;
    debug_assert!(blocked <= year, "a year is blocked by itself or an earlier year");
    let own = match view.status.governing(year).map(|v| inputs_for_year(&v.terms, year, &view.measurements, false)) {
        _ if blocked == year => return format!("{blockers} figure(s) of {year} not agreed"),
        Some(Err(own)) => format!("{} figure(s) of {year} not agreed", own.len()),
        Some(Ok(_)) => format!("every figure of {year} agreed"),
        None => format!("no version governs {year}"),
    };
    format!("{own}; waits for {blocked} to be settled ({blockers} figure(s) of {blocked} not agreed)")
}

/// The quality gate of `year`: from the settled statement if the year is
/// settled, else from the statement this copy computes (none while open).
fn year_gate(view: &ContractView, year: u16, computed: Option<&Computed>) -> Option<gate::GateNotice> {
    let terms = &view.status.governing(year)?.terms;
    let settled = view.settlements.get(&year).and_then(|ys| ys.settled_statement());
    let statement = match (settled, computed) {
        (Some(s), _) => &s.payload.statement,
        (None, Some(c)) => &c.value,
        (None, None) => return None,
    };
    gate::quality_gate(terms, gate::quality_score_of(statement))
}

fn status(cli: &Cli, contract: &str) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let view = contract_view(&ledger, contract)?;
    if view.status.versions.is_empty() {
        bail!("there is no contract {contract:?} in this ledger (`vereffen contract list` shows the contracts)");
    }
    if view.settlements.is_empty() {
        bail!("contract {contract:?} is not in force: no year can be settled yet");
    }
    let mut rows = Vec::new();
    for (year, ys) in &view.settlements {
        let computed = view.compute(*year, false);
        let (state, detail) = if let Some(h) = &ys.settled {
            let state = if ys.conflicts.is_empty() { "settled" } else { "settled, conflict" };
            let by: Vec<&String> = ys.statements[h].by.keys().collect();
            (
                state.to_string(),
                format!(
                    "statement {} signed by {}",
                    &h[..16],
                    by.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        } else if !ys.statements.is_empty() {
            let parts: Vec<String> = ys
                .statements
                .values()
                .filter(|s| !ys.replaced.contains(&s.hash))
                .map(|s| {
                    let by = s.by.keys().cloned().collect::<Vec<_>>().join(", ");
                    if view.is_stale(&s.payload) {
                        format!(
                            "{} signed by {by} is stale (its inputs or previous year changed): sign anew",
                            &s.hash[..16]
                        )
                    } else {
                        format!("{} signed by {by}, waiting for {}", &s.hash[..16], ys.waiting_for(&s.hash).join(", "))
                    }
                })
                .collect();
            let state = if parts.len() > 1 { "signed, disagreement" } else { "signed" };
            (state.to_string(), parts.join("; "))
        } else {
            match &computed {
                Ok(c) => ("computable".to_string(), format!("statement {}, no signatures yet", &c.hash[..16])),
                Err(ComputeError::Blocked { year: y, blockers }) => {
                    ("open".to_string(), open_detail(&view, *year, *y, blockers.len()))
                }
                Err(e) => ("open".to_string(), e.to_string()),
            }
        };
        // A year settled under engine version 1 with this very statement
        // reports the settled (version 1) hash: the same statement.
        let mine = computed.as_ref().ok().map(|c| match &ys.settled {
            Some(h) if c.is(h) => h.clone(),
            _ => c.hash.clone(),
        });
        let gate = year_gate(&view, *year, computed.as_ref().ok());
        let detail = match &gate {
            Some(g) => format!("{detail}; {}", g.words()),
            None => detail,
        };
        rows.push((*year, state, detail, ys, mine, gate));
    }
    if cli.json {
        let out: Vec<Value> = rows
            .iter()
            .map(|(y, state, detail, ys, mine, gate)| {
                json!({"year": y, "state": state, "detail": detail, "settled": ys.settled, "this_copy_computes": mine,
                       "quality_gate": gate,
                       "signatories": ys.signatories, "conflicts": ys.conflicts,
                       "statements": ys.statements.values().map(|s| json!({"hash": s.hash, "signed_by": s.by.keys().collect::<Vec<_>>(), "replaces": s.payload.replaces})).collect::<Vec<_>>()})
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    outln!("{:<6} {:<22} DETAIL", "YEAR", "STATE");
    for (year, state, detail, ys, _, _) in &rows {
        outln!("{year:<6} {state:<22} {}", escape_line(detail));
        for c in &ys.conflicts {
            outln!("{:<6} {:<22} CONFLICT: {}", "", "", escape_line(c));
        }
    }
    Ok(0)
}
