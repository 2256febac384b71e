//! A contract's term summary (`settle summary`) as people read it: a table
//! ([`table`]), language-neutral JSON ([`json`]) and CSV ([`csv`]). Every
//! figure comes from [`crate::domain::settlement::term`]; words via [`Tr`],
//! numbers in the language's format.

use anyhow::{anyhow, Result};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::domain::settlement::cosign::{ComputeError, ContractView};
use crate::domain::settlement::term::{self, PartyFigures, TermSummary, YearState};
use crate::ledger::text::{escape_line, spreadsheet_cell};
use crate::ledger::Ledger;
use crate::present::engine;
use crate::present::lang::{Arg, Tr};
use crate::present::layout::{pad, truncate};
use crate::present::settle::{signed_statement, standing};
use crate::present::statement::{earned_or_bore_in as earned_or_bore, receives_or_pays_in as receives_or_pays};

/// The narrowest party column.
pub const PARTY_WIDTH: usize = 20;

/// The width of an amount column.
const AMOUNT_WIDTH: usize = 22;

/// The widest balance description (a longer one is cut with an ellipsis;
/// JSON and CSV have it whole).
pub const MAX_WHAT_WIDTH: usize = 90;

/// The message id of a year's state.
fn state_id(s: YearState) -> &'static str {
    match s {
        YearState::Settled => "settle-state-settled",
        YearState::SettledInConflict => "settle-state-settled-in-conflict",
        YearState::Signed => "settle-state-signed",
        YearState::Computable => "settle-state-computable",
        YearState::Open => "settle-state-open",
    }
}

/// The rows of the balances at each year end: (year, id, words, amount).
fn balance_rows(tr: &Tr, t: &TermSummary) -> Vec<(u16, String, String, Decimal)> {
    let mut out = Vec::new();
    for y in &t.years {
        if let Some(l) = y.losses_carried {
            out.push((y.year, "losses_carried".to_string(), tr.t("settle-sum-losses"), l));
        }
        for a in &y.advances_outstanding {
            let words = tr.t_args(
                "settle-sum-advance",
                &[
                    ("impulse", Arg::from(a.impulse.to_string())),
                    ("year", Arg::from(a.year.to_string())),
                    ("recipient", Arg::from(a.recipient.as_str())),
                    ("payer", Arg::from(a.payer.as_str())),
                    ("funding", Arg::from(a.funding.to_string())),
                ],
            );
            out.push((y.year, format!("advance.{}", a.impulse), words, a.outstanding));
        }
        if !y.guarantee_top_ups.is_zero() {
            out.push((y.year, "guarantee_top_ups".to_string(), tr.t("settle-sum-top-ups"), y.guarantee_top_ups));
        }
    }
    out
}

/// The term summary for the terminal: the years and where each stands,
/// cash per party and year (loans apart) with the term's totals, result
/// per party and year, balances at each year end, and what is still open.
pub fn table(tr: &Tr, t: &TermSummary, currency: &str) -> String {
    let (first, last) = (t.years.first().map_or(0, |y| y.year), t.years.last().map_or(0, |y| y.year));
    let mut o = format!(
        "{}\n",
        tr.t_args(
            "settle-sum-heading",
            &[
                ("contract", Arg::from(escape_line(&t.contract).into_owned())),
                ("first", Arg::from(first.to_string())),
                ("last", Arg::from(last.to_string()))
            ]
        )
    );
    o.push_str(&format!("{}\n\n", tr.t_args("settle-sum-sign-rule", &[("currency", Arg::from(currency))])));
    let sw = t.years.iter().map(|y| tr.t(state_id(y.state)).chars().count()).max().unwrap_or(0).max(12);
    o.push_str(&format!(
        "{} {} {}\n",
        pad(&tr.t("settle-col-year"), 6, false),
        pad(&tr.t("settle-col-state"), sw, false),
        tr.t("settle-col-statement")
    ));
    for y in &t.years {
        o.push_str(&format!(
            "{} {} {}\n",
            pad(&y.year.to_string(), 6, false),
            pad(&tr.t(state_id(y.state)), sw, false),
            y.statement_hash.clone().unwrap_or_else(|| tr.t("settle-sum-no-statement"))
        ));
    }
    let w = t.totals.iter().map(|p| p.party.chars().count()).max().unwrap_or(0).max(PARTY_WIDTH);
    let term = tr.t("settle-sum-term");
    let yw = term.chars().count().max(6);
    // Rows per party: each year with a statement, then the term.
    let rows = |p: &PartyFigures| -> Vec<(String, PartyFigures)> {
        let mut r: Vec<(String, PartyFigures)> = t
            .years
            .iter()
            .filter_map(|y| y.parties.iter().find(|q| q.party == p.party).map(|q| (y.year.to_string(), q.clone())))
            .collect();
        r.push((term.clone(), p.clone()));
        r
    };
    if !t.totals.is_empty() {
        o.push_str(&format!("\n{}\n", tr.t("settle-sum-cash")));
        o.push_str(&format!(
            "{} {} {} {} {} {} {}\n",
            pad(&tr.t("settle-col-party"), w, false),
            pad(&tr.t("settle-col-year"), yw, false),
            pad(&tr.t("settle-col-received"), AMOUNT_WIDTH, true),
            pad(&tr.t("settle-col-paid"), AMOUNT_WIDTH, true),
            pad(&tr.t("settle-col-loans-in"), AMOUNT_WIDTH, true),
            pad(&tr.t("settle-col-loans-out"), AMOUNT_WIDTH, true),
            pad(&tr.t("settle-col-on-balance"), AMOUNT_WIDTH + 4, true)
        ));
        for p in &t.totals {
            for (year, f) in rows(p) {
                o.push_str(&format!(
                    "{} {} {} {} {} {} {}\n",
                    pad(&escape_line(&p.party), w, false),
                    pad(&year, yw, false),
                    pad(&tr.money(f.received), AMOUNT_WIDTH, true),
                    pad(&tr.money(f.paid), AMOUNT_WIDTH, true),
                    pad(&tr.money(f.loans_received), AMOUNT_WIDTH, true),
                    pad(&tr.money(f.loans_paid), AMOUNT_WIDTH, true),
                    pad(&receives_or_pays(tr, f.net), AMOUNT_WIDTH + 4, true)
                ));
            }
        }
        o.push_str(&format!("\n{}\n", tr.t("settle-sum-result")));
        o.push_str(&format!(
            "{} {} {}\n",
            pad(&tr.t("settle-col-party"), w, false),
            pad(&tr.t("settle-col-year"), yw, false),
            pad(&tr.t("settle-col-result"), AMOUNT_WIDTH + 4, true)
        ));
        for p in &t.totals {
            for (year, f) in rows(p) {
                o.push_str(&format!(
                    "{} {} {}\n",
                    pad(&escape_line(&p.party), w, false),
                    pad(&year, yw, false),
                    pad(&earned_or_bore(tr, f.result), AMOUNT_WIDTH + 4, true)
                ));
            }
        }
    }
    let balances = balance_rows(tr, t);
    if !balances.is_empty() {
        let bw = balances.iter().map(|b| b.2.chars().count()).max().unwrap_or(0).clamp(PARTY_WIDTH, MAX_WHAT_WIDTH);
        o.push_str(&format!("\n{}\n", tr.t("settle-sum-balances")));
        for (year, _, what, amount) in &balances {
            o.push_str(&format!(
                "{} {} {}\n",
                pad(&year.to_string(), 6, false),
                pad(&truncate(&escape_line(what), bw), bw, false),
                pad(&tr.money(*amount), AMOUNT_WIDTH, true)
            ));
        }
    }
    o.push_str(&format!("\n{}\n", tr.t("settle-sum-open")));
    let open: Vec<(u16, &String)> = t.years.iter().flat_map(|y| y.open.iter().map(move |r| (y.year, r))).collect();
    if open.is_empty() {
        o.push_str(&format!("{}\n", tr.t("settle-sum-nothing-open")));
    }
    for (year, reason) in open {
        for (i, line) in reason.lines().enumerate() {
            let lead = if i == 0 { pad(&year.to_string(), 6, false) } else { " ".repeat(6) };
            o.push_str(&format!("{lead} {}\n", escape_line(line.trim_start())));
        }
    }
    o
}

/// The term summary as language-neutral JSON (amounts as exact decimal
/// strings, states as stable keys).
pub fn json(t: &TermSummary, currency: &str) -> Value {
    json!({"currency": currency, "summary": t})
}

/// The columns of the term summary CSV.
pub const CSV_COLUMNS: &[&str] = &["contract", "section", "year", "party", "item", "label", "amount", "statement_hash"];

/// The term summary as CSV, one row per fact, separated and numbered as
/// the language's spreadsheets read it: `year` (item: the state),
/// `cash` (per party and year, then year `term`: received, paid,
/// loans_received, loans_paid, net), `result`, `balance` (at the year end:
/// losses_carried, advance.N, guarantee_top_ups), `open` (what is open, in
/// `label`).
pub fn csv(tr: &Tr, t: &TermSummary) -> Result<String> {
    let lang = tr.lang();
    let mut w = csv::WriterBuilder::new().delimiter(lang.csv_separator()).from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    let contract = spreadsheet_cell(&t.contract).into_owned();
    let term = "term".to_string();
    let mut row =
        |section: &str, year: &str, party: &str, item: &str, label: &str, amount: Option<Decimal>, hash: &str| {
            w.write_record([
                contract.as_str(),
                section,
                year,
                &spreadsheet_cell(party),
                item,
                &spreadsheet_cell(label),
                &amount.map(|a| lang.plain(a)).unwrap_or_default(),
                hash,
            ])
        };
    for y in &t.years {
        let state = serde_json::to_value(y.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        row(
            "year",
            &y.year.to_string(),
            "",
            &state,
            &tr.t(state_id(y.state)),
            None,
            y.statement_hash.as_deref().unwrap_or(""),
        )?;
    }
    let mut per_party: Vec<(String, &PartyFigures)> = Vec::new();
    for y in &t.years {
        per_party.extend(y.parties.iter().map(|p| (y.year.to_string(), p)));
    }
    per_party.extend(t.totals.iter().map(|p| (term.clone(), p)));
    for (year, p) in &per_party {
        for (item, v) in [
            ("received", p.received),
            ("paid", p.paid),
            ("loans_received", p.loans_received),
            ("loans_paid", p.loans_paid),
            ("net", p.net),
        ] {
            row("cash", year, &p.party, item, "", Some(v), "")?;
        }
        row("result", year, &p.party, "result", "", Some(p.result), "")?;
    }
    for (year, id, what, amount) in balance_rows(tr, t) {
        row("balance", &year.to_string(), "", &id, &what, Some(amount), "")?;
    }
    for y in &t.years {
        for r in &y.open {
            row("open", &y.year.to_string(), "", "", r, None, "")?;
        }
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?)
}

/// The term summary of `contract` on one copy, as `settle summary` shows
/// it and the web's contract page charts it: per year the settled
/// statement, else the one this copy computes (and who it waits for),
/// else why the year is open.
pub fn summary(ledger: &Ledger, view: &ContractView, tr: &Tr) -> Result<TermSummary> {
    let contract = view.contract.as_str();
    let mut years = Vec::new();
    for (year, ys) in &view.settlements {
        let mut open: Vec<String> = ys.conflicts.iter().map(|c| engine::conflict(tr, c)).collect();
        let (state, hash, statement) = if let Some(settled) = ys.settled_statement() {
            let state = if ys.conflicts.is_empty() { YearState::Settled } else { YearState::SettledInConflict };
            (state, Some(settled.hash.clone()), Some(signed_statement(ledger, settled)?))
        } else {
            match view.compute(*year, false) {
                Ok(c) => {
                    let st = standing(view, &c);
                    open.push(tr.t_args("settle-sum-waiting", &[("parties", Arg::from(st.waiting_for.join(", ")))]));
                    let state = if st.signed_by.is_empty() { YearState::Computable } else { YearState::Signed };
                    (state, Some(c.hash.clone()), Some(c.statement))
                }
                Err(ComputeError::Blocked { year: y, blockers }) => {
                    open.push(open_detail(tr, view, *year, y, blockers.len()));
                    open.extend(blockers.iter().map(|b| blocker_words(tr, b)));
                    (YearState::Open, None, None)
                }
                Err(e) => {
                    open.push(engine::compute_error(tr, &e));
                    (YearState::Open, None, None)
                }
            }
        };
        years.push(term::year_summary(*year, state, hash, statement.as_ref(), open).map_err(|e| anyhow!("{e}"))?);
    }
    term::term_summary(contract, years).map_err(|e| anyhow!("{e}"))
}

/// Why `year` is open: its own figures that are not agreed and, when an
/// earlier unsettled year's figures block it (its statement starts from that
/// year's), that year too. `blocked` is the year the computation stopped
/// at with `blockers` figures not agreed.
pub fn open_detail(tr: &Tr, view: &ContractView, year: u16, blocked: u16, blockers: usize) -> String {
    use crate::domain::settlement::inputs::inputs_for_year;
    debug_assert!(blocked <= year, "a year is blocked by itself or an earlier year");
    let not_agreed = |n: usize, y: u16| {
        tr.t_args("statement-status-not-agreed", &[("n", Arg::from(n.to_string())), ("year", Arg::from(y.to_string()))])
    };
    let own = match view.status.governing(year).map(|v| inputs_for_year(&v.terms, year, &view.measurements, false)) {
        _ if blocked == year => return not_agreed(blockers, year),
        Some(Err(own)) => not_agreed(own.len(), year),
        Some(Ok(_)) => tr.t_args("statement-status-all-agreed", &[("year", Arg::from(year.to_string()))]),
        None => tr.t_args("statement-status-no-version", &[("year", Arg::from(year.to_string()))]),
    };
    tr.t_args(
        "statement-status-waits-for",
        &[("own", Arg::from(own)), ("blocked", Arg::from(blocked.to_string())), ("n", Arg::from(blockers.to_string()))],
    )
}

/// One figure that keeps a year open, in the reader's language: indicator,
/// period, its state and who must act.
pub fn blocker_words(tr: &Tr, b: &crate::domain::settlement::inputs::Blocker) -> String {
    let state = match b.state.as_str() {
        "missing" => tr.t("settle-sum-state-missing"),
        "pending" => tr.t("settle-sum-state-pending"),
        "disputed" => tr.t("settle-sum-state-disputed"),
        "conflict" => tr.t("settle-sum-state-conflict"),
        other => other.to_string(),
    };
    tr.t_args(
        "settle-sum-blocker",
        &[
            ("indicator", Arg::from(b.indicator.clone())),
            ("period", Arg::from(b.period.clone())),
            ("state", Arg::from(state)),
            ("parties", Arg::from(b.to_act.join(", "))),
        ],
    )
}
