//! `vereffen settle`: the yearly statement computed from the agreed figures
//! on this copy of the ledger.

use std::path::{Path, PathBuf};
use vereffen::ledger::text::escape_line;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use vereffen::domain::settlement::compare;
use vereffen::domain::settlement::cosign::{self, ComputeError, Computed, ContractView};
use vereffen::domain::settlement::gate;
use vereffen::domain::settlement::Statement;
use vereffen::ledger::Ledger;
use vereffen::present::diff::{self as pdiff, Side, SideRole};
use vereffen::present::lang::{Arg, Lang, Tr};
pub use vereffen::present::settle::{contract_view, corrections, standing, Corrections};
use vereffen::present::settle::{render_bytes, sign_plan, signed_statement, Extra, SignPlan};
use vereffen::present::term::open_detail;
use vereffen::present::{engine, statement};

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
    /// One self-contained HTML file (inline CSS with print rules, no
    /// scripts, no external resources): everything the table shows, with
    /// the corrections, signatures (key fingerprints) and settlement state.
    Html,
    /// A PDF (A4, needs --out) of what the HTML shows, written without a
    /// browser, with its font embedded; the same bytes on every run.
    Pdf,
}

impl From<Format> for vereffen::present::settle::Format {
    fn from(f: Format) -> Self {
        use vereffen::present::settle::Format as P;
        match f {
            Format::Table => P::Table,
            Format::Json => P::Json,
            Format::Csv => P::Csv,
            Format::Xlsx => P::Xlsx,
            Format::Html => P::Html,
            Format::Pdf => P::Pdf,
        }
    }
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
    /// Compare two statements of a year line by line (A, B, B - A), with
    /// the payments, the parties and the correction payments from A to B.
    Diff(DiffArgs),
    /// The whole term: per party, per year and over the term, cash
    /// (advances apart as loans) and result, balances at each year end,
    /// which years are settled, signed or open, and what is still open.
    Summary {
        /// The contract id.
        contract: String,
        /// Output format (table, json or csv).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write to this file instead of standard output (replaced whole, never half-written).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Accountability per funding stream (verantwoording): per stream, every
    /// payment FROM -> TO with its title (line) and contract clause, the
    /// allocation key and agreed figures of a split payment, and totals per
    /// stream that tie to the statement's.
    Accountability(AccountabilityArgs),
    /// A FORECAST of a year at run rate from the figures agreed so far
    /// (monitoring during the year): each indicator's value for the year and
    /// how it was found (monthly and quarterly figures at run rate: sum so
    /// far x periods in the year / periods known; mean so far; last known;
    /// year figures as agreed, else --assume, else last year's agreed
    /// figure), the position per party that the settlement engine computes
    /// from them (cash and result, payments FROM -> TO), and the
    /// consequences the contract states (quality gate and its improvement
    /// plan or review, provider loss, corridor, caps, targets, missing
    /// measurements), each with its contract clause. Only agreed figures
    /// count. Never signed, never written to the ledger: it only reads.
    Forecast(ForecastArgs),
}

/// `vereffen settle forecast CONTRACT --year Y [--through P] [--assume ID=VALUE]...`.
#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// The contract id.
    contract: String,
    /// The contract year to forecast.
    #[arg(long)]
    year: u16,
    /// Forecast as of the end of this period of the year: a month (2027-06),
    /// a quarter (2027-Q2) or the year (2027); figures of periods ending
    /// later are left out. Default: every agreed figure.
    #[arg(long)]
    through: Option<String>,
    /// The year's value of an indicator with no agreed figure in the year
    /// (INDICATOR=VALUE, an exact decimal its unit allows, e.g.
    /// care-cost=2700000.00); repeat for several. Without it such an
    /// indicator takes last year's agreed figure, labelled so.
    #[arg(long, value_name = "INDICATOR=VALUE")]
    assume: Vec<String>,
    /// Output format (table, json or csv).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `vereffen settle accountability CONTRACT --year Y`.
#[derive(Args, Debug)]
pub struct AccountabilityArgs {
    /// The contract id.
    contract: String,
    /// The contract year.
    #[arg(long)]
    year: u16,
    /// Compute even with figures that are not agreed yet: a preview, marked DRAFT.
    #[arg(long)]
    draft: bool,
    /// Output format (table, json or csv).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `vereffen settle diff CONTRACT --year Y [A B]`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The contract id.
    contract: String,
    /// The contract year.
    #[arg(long)]
    year: u16,
    /// Statement A: a statement hash or the id of one of its `settlement.sign`
    /// entries (or a unique prefix of at least 8 hex characters), or
    /// `current` (what this copy computes). Default: the replaced statement
    /// of the current one (docs/FORMAT.md 5.8).
    a: Option<String>,
    /// Statement B, named as A. Default: `current`.
    #[arg(requires = "a")]
    b: Option<String>,
    /// Output format (table, json or csv).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long)]
    out: Option<PathBuf>,
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

/// The statement of `year`, or why it cannot be computed in the language
/// of `tr` (the engine's refusal, the figures not agreed and how to see
/// them).
fn compute(tr: &Tr, view: &ContractView, year: u16, draft: bool) -> Result<Computed> {
    view.compute(year, draft).map_err(|e| anyhow!("{}", engine::cannot_settle(tr, &view.contract, year, &e)))
}

/// Why a contract that is not on this copy, or not in force, has no year
/// to settle, in the language of `tr`.
fn no_settlements(tr: &Tr, view: &ContractView) -> Option<String> {
    use vereffen::domain::settlement::cosign::Refusal;
    let contract = view.contract.clone();
    if view.status.versions.is_empty() {
        Some(engine::refusal(tr, &Refusal::NoContract { contract }))
    } else if view.settlements.is_empty() {
        Some(engine::refusal(tr, &Refusal::NotInForce { contract }))
    } else {
        None
    }
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

/// The agreed statement of a year in a format (in English), and its hash.
pub fn statement_text(ledger: &Ledger, contract: &str, year: u16, format: Format) -> Result<(String, String)> {
    let view = contract_view(ledger, contract)?;
    let tr = Tr::new(Lang::En);
    let c = compute(&tr, &view, year, false)?;
    let standing = standing(&view, &c);
    let corr = corrections(ledger, &view, &c)?;
    Ok((render(&tr, &c, format, &standing, corr.as_ref(), &Extra::of(ledger, &view, &c)?)?, c.hash))
}

fn render(
    tr: &Tr,
    c: &Computed,
    format: Format,
    standing: &statement::Standing,
    corr: Option<&Corrections>,
    extra: &Extra<'_>,
) -> Result<String> {
    Ok(String::from_utf8(render_bytes(tr, c, format.into(), standing, corr, extra)?)?)
}

pub fn settle(cli: &Cli, cmd: &SettleCmd) -> Result<i32> {
    match &cmd.sub {
        Some(SettleSub::Status { contract }) => return status(cli, contract),
        Some(SettleSub::Diff(d)) => return diff(cli, d),
        Some(SettleSub::Summary { contract, format, out }) => return summary(cli, contract, *format, out.as_deref()),
        Some(SettleSub::Accountability(a)) => return accountability(cli, a),
        Some(SettleSub::Forecast(a)) => return forecast(cli, a),
        None => {}
    }
    let args = &cmd.args;
    let (Some(contract), Some(year)) = (args.contract.as_deref(), args.year) else {
        bail!("give a contract and --year (or `vereffen settle status CONTRACT`)");
    };
    if args.sign {
        return sign(cli, args, contract, year);
    }
    let ledger = open_ledger(&cli.ledger)?;
    let tr = Tr::new(super::lang_of(cli, &ledger)?);
    let view = contract_view(&ledger, contract)?;
    let c = compute(&tr, &view, year, args.draft)?;
    if let Some(ys) = view.settlements.get(&year) {
        match &ys.settled {
            Some(h) if !c.is(h) => eprintln!(
                "{}",
                tr.t_args(
                    "settle-warn-settled-differs",
                    &[
                        ("year", Arg::from(year.to_string())),
                        ("settled", Arg::from(&h[..16.min(h.len())])),
                        ("computed", Arg::from(&c.hash[..16])),
                        (
                            "why",
                            Arg::from(if ys.conflicts.is_empty() {
                                tr.t("settle-warn-see-status")
                            } else {
                                ys.conflicts.iter().map(|x| engine::conflict(&tr, x)).collect::<Vec<_>>().join("; ")
                            })
                        ),
                    ]
                )
            ),
            _ => {}
        }
    }
    let format = if cli.json { Format::Json } else { args.format };
    if format == Format::Xlsx && args.out.is_none() {
        bail!("--format xlsx writes a workbook: give --out FILE.xlsx");
    }
    if format == Format::Pdf && args.out.is_none() {
        bail!("--format pdf writes a PDF file: give --out FILE.pdf");
    }
    let corr = corrections(&ledger, &view, &c)?;
    let extra = Extra::of(&ledger, &view, &c)?;
    emit(&render_bytes(&tr, &c, format.into(), &standing(&view, &c), corr.as_ref(), &extra)?, args.out.as_deref())?;
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
    let c = compute(&Tr::new(Lang::En), &view, year, false)?;
    let ys = view.settlements.get(&year).ok_or_else(|| anyhow!("{year} is not a year of contract {contract:?}"))?;
    if !ys.signatories.contains(&party) {
        bail!(
            "{party:?} (key {}) is not a signatory of contract {contract:?}; its signatories are {}",
            key_path.display(),
            ys.signatories.join(", ")
        );
    }
    let replaces = match sign_plan(&view, &c, &party, args.resettle)? {
        SignPlan::AlreadySettled { hash } => {
            outln!("{year} is already settled with this statement ({}); nothing to sign", &hash[..16]);
            return Ok(0);
        }
        SignPlan::AlreadySigned { waiting_for } => {
            outln!(
                "{party} already signed the {year} statement {}; waiting for {}",
                &c.hash[..16],
                waiting_for.join(", ")
            );
            return Ok(0);
        }
        SignPlan::Sign { replaces } => replaces,
    };
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
    // JSON is language-neutral data: its words stay English.
    let tr = Tr::new(if cli.json { Lang::En } else { super::lang_of(cli, &ledger)? });
    if let Some(why) = no_settlements(&tr, &view) {
        bail!("{why}");
    }
    let mut rows = Vec::new();
    for (year, ys) in &view.settlements {
        let computed = view.compute(*year, false);
        let short = |h: &str| Arg::from(h[..16.min(h.len())].to_string());
        let (state, detail) = if let Some(h) = &ys.settled {
            let state = if ys.conflicts.is_empty() { "settled" } else { "settled, conflict" };
            let by: Vec<&str> = ys.statements[h].by.keys().map(String::as_str).collect();
            (
                state.to_string(),
                tr.t_args("statement-status-settled-by", &[("hash", short(h)), ("parties", Arg::from(by.join(", ")))]),
            )
        } else if !ys.statements.is_empty() {
            let parts: Vec<String> = ys
                .statements
                .values()
                .filter(|s| !ys.replaced.contains(&s.hash))
                .map(|s| {
                    let by = Arg::from(s.by.keys().cloned().collect::<Vec<_>>().join(", "));
                    if view.is_stale(&s.payload) {
                        tr.t_args("statement-status-stale", &[("hash", short(&s.hash)), ("parties", by)])
                    } else {
                        tr.t_args(
                            "statement-status-waiting",
                            &[
                                ("hash", short(&s.hash)),
                                ("parties", by),
                                ("waiting", Arg::from(ys.waiting_for(&s.hash).join(", "))),
                            ],
                        )
                    }
                })
                .collect();
            let state = if parts.len() > 1 { "signed, disagreement" } else { "signed" };
            (state.to_string(), parts.join("; "))
        } else {
            match &computed {
                Ok(c) => {
                    ("computable".to_string(), tr.t_args("statement-status-computable", &[("hash", short(&c.hash))]))
                }
                Err(ComputeError::Blocked { year: y, blockers }) => {
                    ("open".to_string(), open_detail(&tr, &view, *year, *y, blockers.len()))
                }
                Err(e) => ("open".to_string(), engine::compute_error(&tr, e)),
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
            Some(g) => format!("{detail}; {}", statement::gate_words(&tr, g)),
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
    // The state in words: the JSON keeps the English state names.
    let state_words = |state: &str| {
        tr.t(match state {
            "settled" => "statement-state-settled",
            "settled, conflict" => "statement-state-settled-conflict",
            "signed" => "statement-state-signed",
            "signed, disagreement" => "statement-state-disagreement",
            "computable" => "statement-state-computable",
            _ => "statement-state-open",
        })
    };
    let (yw, sw) = (
        tr.t("statement-status-year").chars().count().max(5) + 1,
        rows.iter()
            .map(|r| state_words(&r.1).chars().count())
            .chain([tr.t("statement-status-state").chars().count(), 21])
            .max()
            .unwrap_or(21)
            + 1,
    );
    outln!(
        "{:<yw$} {:<sw$} {}",
        tr.t("statement-status-year"),
        tr.t("statement-status-state"),
        tr.t("statement-status-detail")
    );
    for (year, state, detail, ys, _, _) in &rows {
        outln!("{year:<yw$} {:<sw$} {}", state_words(state), escape_line(detail));
        for c in &ys.conflicts {
            outln!(
                "{:<yw$} {:<sw$} {}",
                "",
                "",
                tr.t_args(
                    "statement-status-conflict",
                    &[("what", Arg::from(escape_line(&engine::conflict(&tr, c)).into_owned()))]
                )
            );
        }
    }
    Ok(0)
}

/// The shortest prefix `settle diff` accepts for a statement hash or entry id.
const MIN_PREFIX: usize = 8;

/// A statement `settle diff` names: its hash, role, signatories, statement.
struct Named {
    hash: String,
    role: SideRole,
    signed_by: Vec<String>,
    statement: Statement,
}

impl Named {
    fn side(&self) -> Side<'_> {
        Side { hash: &self.hash, role: self.role, signed_by: &self.signed_by, statement: &self.statement }
    }
}

/// The statements of year `ys` in words, for an error that lists them.
fn known_statements(ys: &cosign::YearSettlement) -> String {
    if ys.statements.is_empty() {
        return format!("{} has no signed statement on this copy; only `current` can be named", ys.year);
    }
    let list: Vec<String> = ys
        .statements
        .values()
        .map(|s| {
            let by: Vec<&str> = s.by.keys().map(String::as_str).collect();
            format!("{} (signed by {})", &s.hash[..16], by.join(", "))
        })
        .collect();
    format!("the signed statements of {} are: {} (or `current`)", ys.year, list.join("; "))
}

/// Finds the statement `name` names in year `ys`: `current`, a statement
/// hash or the id of one of its signing entries (or a unique prefix of at
/// least [`MIN_PREFIX`] hex characters).
fn named_statement(
    ledger: &Ledger,
    view: &ContractView,
    ys: &cosign::YearSettlement,
    current: &dyn Fn() -> Result<Computed>,
    name: &str,
) -> Result<Named> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("current") {
        let c = current()?;
        let st = standing(view, &c);
        let hash = match &ys.settled {
            Some(h) if c.is(h) => h.clone(),
            _ => c.hash.clone(),
        };
        return Ok(Named { hash, role: SideRole::Current, signed_by: st.signed_by, statement: c.statement });
    }
    let lower = name.to_ascii_lowercase();
    if lower.len() < MIN_PREFIX || lower.len() > 64 || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{name:?} names no statement: give `current`, a statement hash or a settlement entry id (at least {MIN_PREFIX} hex characters); {}",
            known_statements(ys)
        );
    }
    let mut found: Vec<&cosign::Signatures> = ys
        .statements
        .values()
        .filter(|s| s.hash.starts_with(&lower) || s.by.values().any(|x| x.entry.starts_with(&lower)))
        .collect();
    found.dedup_by(|x, y| x.hash == y.hash);
    let sigs = match found.as_slice() {
        [one] => *one,
        [] => bail!(
            "no statement of {} {} has a hash or signing entry starting with {lower:?}; {}",
            view.contract,
            ys.year,
            known_statements(ys)
        ),
        many => bail!(
            "{lower:?} is ambiguous: it names {} statements of {} ({}); give more characters",
            many.len(),
            ys.year,
            many.iter().map(|s| &s.hash[..16]).collect::<Vec<_>>().join(", ")
        ),
    };
    let role = if ys.settled.as_ref() == Some(&sigs.hash) {
        SideRole::Settled
    } else if ys.replaced.contains(&sigs.hash) {
        SideRole::Replaced
    } else {
        SideRole::Signed
    };
    Ok(Named {
        hash: sigs.hash.clone(),
        role,
        signed_by: sigs.by.keys().cloned().collect(),
        statement: signed_statement(ledger, sigs)?,
    })
}

fn diff(cli: &Cli, args: &DiffArgs) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let view = contract_view(&ledger, &args.contract)?;
    let tr = Tr::new(super::lang_of(cli, &ledger)?);
    if let Some(why) = no_settlements(&tr, &view) {
        bail!("{why}");
    }
    let year = args.year;
    let ys = view.settlements.get(&year).ok_or_else(|| {
        let contract = Arg::from(args.contract.as_str());
        anyhow!(
            "{}",
            tr.t_args(
                "settle-diff-no-year",
                &[
                    ("year", Arg::from(year.to_string())),
                    ("quoted", Arg::from(format!("{:?}", args.contract))),
                    ("contract", contract)
                ]
            )
        )
    })?;
    let current = || compute(&tr, &view, year, false);
    let (a, b) = match (&args.a, &args.b) {
        (Some(a), Some(b)) => {
            (named_statement(&ledger, &view, ys, &current, a)?, named_statement(&ledger, &view, ys, &current, b)?)
        }
        (Some(a), None) => (
            named_statement(&ledger, &view, ys, &current, a)?,
            named_statement(&ledger, &view, ys, &current, "current")?,
        ),
        (None, _) => {
            let b = named_statement(&ledger, &view, ys, &current, "current")?;
            let c = current()?;
            let Some(replaced) = ys.replaced_statement(&|h| c.is(h)) else {
                bail!(
                    "the {year} statement this copy computes replaces no settled statement ({year} was never settled, or this is its first settlement): name two statements, A and B; {}",
                    known_statements(ys)
                );
            };
            let a = named_statement(&ledger, &view, ys, &current, &replaced.hash)?;
            (a, b)
        }
    };
    let cmp = compare::compare(&a.statement, &b.statement).map_err(|e| anyhow!("{e}"))?;
    let format = if cli.json { Format::Json } else { args.format };
    let bytes = match format {
        Format::Table => pdiff::diff_table(&tr, &a.side(), &b.side(), &cmp).into_bytes(),
        Format::Json => {
            (serde_json::to_string_pretty(&pdiff::diff_json(&a.side(), &b.side(), &cmp))? + "\n").into_bytes()
        }
        Format::Csv => pdiff::diff_csv(&tr, &a.side(), &b.side(), &cmp)?.into_bytes(),
        Format::Xlsx | Format::Html | Format::Pdf => bail!("settle diff writes table, json or csv"),
    };
    emit(&bytes, args.out.as_deref())?;
    Ok(0)
}

fn summary(cli: &Cli, contract: &str, format: Format, out: Option<&Path>) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let view = contract_view(&ledger, contract)?;
    let tr = Tr::new(super::lang_of(cli, &ledger)?);
    if let Some(why) = no_settlements(&tr, &view) {
        bail!("{why}");
    }
    let currency = view
        .status
        .base
        .as_ref()
        .and_then(|b| view.status.versions.get(b))
        .map(|v| v.terms.currency.code().to_string())
        .unwrap_or_default();
    let t = vereffen::present::term::summary(&ledger, &view, &tr)?;
    let format = if cli.json { Format::Json } else { format };
    let bytes = match format {
        Format::Table => vereffen::present::term::table(&tr, &t, &currency).into_bytes(),
        Format::Json => {
            (serde_json::to_string_pretty(&vereffen::present::term::json(&t, &currency))? + "\n").into_bytes()
        }
        Format::Csv => vereffen::present::term::csv(&tr, &t)?.into_bytes(),
        Format::Xlsx | Format::Html | Format::Pdf => bail!("settle summary writes table, json or csv"),
    };
    emit(&bytes, out)?;
    Ok(0)
}

/// `vereffen settle accountability CONTRACT --year Y`: the statement this
/// copy computes for the year, per funding stream.
fn accountability(cli: &Cli, args: &AccountabilityArgs) -> Result<i32> {
    use vereffen::present::accountability as acc;
    let format = if cli.json { Format::Json } else { args.format };
    if matches!(format, Format::Xlsx | Format::Html | Format::Pdf) {
        bail!("settle accountability writes table, json or csv");
    }
    let ledger = open_ledger(&cli.ledger)?;
    let view = contract_view(&ledger, &args.contract)?;
    let tr = Tr::new(super::lang_of(cli, &ledger)?);
    let c = compute(&tr, &view, args.year, args.draft)?;
    let Some(terms) = view.status.versions.get(&c.version).map(|v| &v.terms) else {
        bail!(
            "the contract version {} that governs {} is not on this copy",
            c.version.get(..16).unwrap_or(&c.version),
            args.year
        );
    };
    let doc = acc::Accountability::of(&c, terms)?;
    let standing = standing(&view, &c);
    let bytes = match format {
        Format::Table => acc::table(&tr, &doc, &standing).into_bytes(),
        Format::Json => (serde_json::to_string_pretty(&acc::json(&doc, &standing))? + "\n").into_bytes(),
        Format::Csv => acc::csv(&tr, &doc)?.into_bytes(),
        Format::Xlsx | Format::Html | Format::Pdf => bail!("settle accountability writes table, json or csv"),
    };
    emit(&bytes, args.out.as_deref())?;
    Ok(0)
}

/// `vereffen settle forecast CONTRACT --year Y`: the year at run rate from
/// the figures agreed on this copy; reads only (a forecast is never signed
/// or recorded).
fn forecast(cli: &Cli, args: &ForecastArgs) -> Result<i32> {
    use vereffen::domain::settlement::forecast as fc;
    use vereffen::present::forecast as pf;
    let format = if cli.json { Format::Json } else { args.format };
    if matches!(format, Format::Xlsx | Format::Html | Format::Pdf) {
        bail!("settle forecast writes table, json or csv");
    }
    let ledger = open_ledger(&cli.ledger)?;
    let view = contract_view(&ledger, &args.contract)?;
    let through =
        args.through.as_deref().map(|t| fc::Through::parse(t, args.year)).transpose().map_err(|e| anyhow!(e))?;
    let words = Tr::new(super::lang_of(cli, &ledger)?);
    let (carry, version) = view.carry_into(args.year).map_err(|e| match e {
        ComputeError::Blocked { year, .. } => anyhow!(
            "{}",
            words.t_args(
                "forecast-previous-year-open",
                &[
                    ("year", Arg::from(year.to_string())),
                    ("forecast", Arg::from(args.year.to_string())),
                    ("why", Arg::from(engine::compute_error(&words, &e))),
                    ("contract", Arg::from(args.contract.clone())),
                ]
            )
        ),
        other => anyhow!("{}", engine::compute_error(&words, &other)),
    })?;
    let terms = &version.terms;
    let assume = fc::parse_assumptions(&args.assume, terms).map_err(|e| anyhow!(e))?;
    let f = fc::forecast(terms, args.year, &carry, &view.measurements, &fc::Options { through, assume })
        .map_err(|e| anyhow!("{e}"))?;
    let tr = Tr::new(super::lang_of(cli, &ledger)?);
    let header = pf::Header { version: &version.version, terms };
    let bytes = match format {
        Format::Table => pf::table(&tr, &f, &header).into_bytes(),
        Format::Json => pf::json(&f, &header)?.into_bytes(),
        Format::Csv => pf::csv(&tr, &f, &header)?.into_bytes(),
        Format::Xlsx | Format::Html | Format::Pdf => bail!("settle forecast writes table, json or csv"),
    };
    emit(&bytes, args.out.as_deref())?;
    Ok(0)
}
