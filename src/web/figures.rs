//! The figures page of a contract year and its actions: per indicator and
//! period the value, source, state and who must act, as `vereffen measure
//! list` computes it (`present::measure::list_rows_of`), and, for a signer,
//! the forms to submit, attest (one or all pending), dispute and correct a
//! figure where this node's party can. The actions build their entries with
//! the command line's functions (`present::measure`) and go through
//! [`super::act`] (password, role, log).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, Response, StatusCode};
use maud::{html, Markup};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::act::{self, Action, Refusal};
use super::{blocking, page_response, pages, signed_in, with_cookie, LangQuery, Web};
use crate::domain::measurement as meas;
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::Ledger;
use crate::present::lang::{Arg, Tr};
use crate::present::measure as pm;
use crate::present::settle as psettle;

/// The figures page of `ledger`/`contract`/`year`.
pub fn figures_href(ledger: &str, contract: &str, year: u16) -> String {
    format!("/contracts/{ledger}/{contract}/{year}/figures")
}

/// `?done=` after an action, and the language.
#[derive(Debug, Default, Deserialize)]
pub(super) struct FiguresQuery {
    lang: Option<String>,
    done: Option<String>,
}

/// GET the figures page.
pub(super) async fn page(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<FiguresQuery>,
    Path((ledger, contract, year)): Path<(String, String, String)>,
) -> Response<Body> {
    let lq = LangQuery { lang: q.lang.clone() };
    let ctx = match signed_in(&web, &headers, &lq) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let Ok(year) = year.parse::<u16>() else {
        return page_response(StatusCode::NOT_FOUND, pages::message(&tr, Some(&ctx.session), &tr.t("web-not-found")));
    };
    let done = act::done_note(&tr, q.done.as_deref());
    let r = blocking(tr, move || {
        let (tr, session) = (&ctx.tr, &ctx.session);
        let not_found =
            || page_response(StatusCode::NOT_FOUND, pages::message(tr, Some(session), &tr.t("web-not-found")));
        if !web.store.hosts(&ledger) {
            return not_found();
        }
        let drawn = web.store.with_ledger(&ledger, |l| {
            let view = psettle::contract_view(l, &contract).map_err(|e| e.to_string())?;
            if view.status.versions.is_empty() {
                return Ok(None);
            }
            let mut rows = pm::list_rows_of(&view, Some(year), None).map_err(|e| e.to_string())?;
            super::derive::add_rules_hashes(&view.measurements, &mut rows);
            let party = web.store.key_for(l).map_err(|e| e.to_string())?.map(|(_, p)| p);
            Ok::<_, String>(Some((rows, party)))
        });
        match drawn {
            Ok(Ok(Some((rows, party)))) => {
                let signer = act::may_sign(session.role);
                let main =
                    figures_main(tr, &session.csrf, &ledger, &contract, year, &rows, party.as_deref(), signer, done);
                let title = tr.t_args(
                    "web-fig-title",
                    &[("contract", Arg::from(contract.as_str())), ("year", Arg::from(year.to_string()))],
                );
                page_response(StatusCode::OK, pages::layout(tr, Some(session), &title, main))
            }
            Ok(Ok(None)) => not_found(),
            Ok(Err(why)) => page_response(StatusCode::OK, pages::message(tr, Some(session), &why)),
            Err(e) => {
                page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(tr, Some(session), &e.to_string()))
            }
        }
    })
    .await;
    with_cookie(r, set_lang)
}

/// A figure's value for people: money with two decimals, other units as
/// numbers, in the page's language.
fn shown_value(tr: &Tr, row: &Value) -> String {
    let Some(v) = row["value"].as_str() else { return "–".to_string() };
    match v.parse::<Decimal>() {
        Ok(d) if row["unit"] == "eur" => tr.money(d),
        Ok(d) => tr.number(d),
        Err(_) => v.to_string(),
    }
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Who must act on a row, in words (with the reasons of a dispute).
fn who_acts(tr: &Tr, row: &Value) -> String {
    let parties = strs(&row["to_act"]).join(", ");
    let p = || Arg::from(parties.clone());
    let mut words = match row["state"].as_str() {
        Some("missing") => tr.t_args("web-fig-to-submit", &[("parties", p())]),
        Some("pending") => tr.t_args("web-fig-to-attest", &[("parties", p())]),
        Some("disputed") => {
            let reasons: Vec<String> = row["detail"]["by"]
                .as_object()
                .map(|m| m.iter().map(|(who, r)| format!("{who}: {}", strs(r).join("; "))).collect())
                .unwrap_or_default();
            tr.t_args("web-fig-to-correct-disputed", &[("parties", p()), ("reasons", Arg::from(reasons.join(", ")))])
        }
        Some("conflict") => tr.t_args("web-fig-to-correct-conflict", &[("parties", p())]),
        _ => String::new(),
    };
    if let Some(c) = row["settlement_conflict"].as_str() {
        if !words.is_empty() {
            words.push_str("; ");
        }
        words.push_str(&tr.t_args("web-fig-settlement-conflict", &[("what", Arg::from(c))]));
    }
    words
}

fn state_word(tr: &Tr, state: &str) -> String {
    match state {
        "agreed" | "pending" | "disputed" | "superseded" | "conflict" | "missing" => {
            tr.t(&format!("web-fig-state-{state}"))
        }
        other => other.to_string(),
    }
}

/// The page's main content. `party` is this node's party in the ledger;
/// forms are drawn only when `signer` and only where that party can act.
#[allow(clippy::too_many_arguments)]
fn figures_main(
    tr: &Tr,
    csrf: &str,
    ledger: &str,
    contract: &str,
    year: u16,
    rows: &[Value],
    party: Option<&str>,
    signer: bool,
    done: Option<String>,
) -> Markup {
    let base = figures_href(ledger, contract, year);
    let statement = format!("/contracts/{ledger}/{contract}/{year}");
    let acting = if signer { party } else { None };
    let pending_for_me =
        acting.is_some_and(|p| rows.iter().any(|r| r["state"] == "pending" && strs(&r["to_act"]).contains(&p)));
    html! {
        p {
            a href=(format!("/contracts/{ledger}/{contract}")) { (tr.t("web-back-to-contract")) } " · "
            a href=(statement) { (tr.t("web-fig-to-statement")) }
        }
        h1 { (tr.t_args("web-fig-title", &[("contract", Arg::from(contract)), ("year", Arg::from(year.to_string()))])) }
        @if let Some(d) = done { p.done role="status" { (d) } }
        @match party {
            Some(p) => p { (tr.t_args("web-fig-acting-as", &[("party", Arg::from(p))])) },
            None => p.note { (tr.t("web-act-no-key")) },
        }
        @if signer && party.is_some() { (super::derive::derive_link(tr, ledger, contract, year)) }
        @if signer && pending_for_me {
            form method="post" action=(format!("{base}/attest-all")) {
                (tr.t("web-fig-attest-all-intro")) " "
                (act::confirm_fields(tr, csrf, &tr.t("web-fig-attest-all")))
            }
        }
        table {
            caption { (tr.t_args("web-fig-caption", &[("n", Arg::from(rows.len()))])) }
            thead { tr {
                th scope="col" { (tr.t("web-fig-col-indicator")) }
                th scope="col" { (tr.t("web-fig-col-period")) }
                th scope="col" class="num" { (tr.t("web-fig-col-value")) }
                th scope="col" { (tr.t("web-fig-col-unit")) }
                th scope="col" { (tr.t("web-fig-col-source")) }
                th scope="col" { (tr.t("web-col-state")) }
                th scope="col" { (tr.t("web-fig-col-to-act")) }
                @if acting.is_some() { th scope="col" { (tr.t("web-fig-col-actions")) } }
            } }
            tbody { @for r in rows {
                @let ind = r["indicator"].as_str().unwrap_or("");
                @let period = r["period"].as_str().unwrap_or("");
                @let state = r["state"].as_str().unwrap_or("");
                tr id=(format!("fig-{ind}-{period}")) {
                    th scope="row" { (ind) }
                    td { (period) }
                    td class="num" { (shown_value(tr, r)) }
                    td { (r["unit"].as_str().unwrap_or("")) }
                    td { (r["source"].as_str().unwrap_or("")) }
                    td {
                        (state_word(tr, state))
                        (super::derive::trace(tr, ledger, contract, year, r))
                        @if let Some(why) = r["reason"].as_str() {
                            span.detail { (tr.t_args("web-fig-correction-reason", &[("reason", Arg::from(why))])) }
                        }
                    }
                    td { (who_acts(tr, r)) }
                    @if let Some(me) = acting { td { (row_forms(tr, csrf, &base, r, me)) } }
                }
            } }
        }
    }
}

/// The forms of one row for party `me`, where it can act.
fn row_forms(tr: &Tr, csrf: &str, base: &str, r: &Value, me: &str) -> Markup {
    let state = r["state"].as_str().unwrap_or("");
    let source = r["source"].as_str().unwrap_or("");
    let id = r["id"].as_str();
    let mine = source == me;
    let waits_for_me = state == "pending" && strs(&r["to_act"]).contains(&me);
    html! {
        @if state == "missing" && mine {
            form method="post" action=(format!("{base}/submit")) {
                input type="hidden" name="indicator" value=(r["indicator"].as_str().unwrap_or(""));
                input type="hidden" name="period" value=(r["period"].as_str().unwrap_or(""));
                label { (tr.t("web-fig-value")) " " input type="text" name="value" inputmode="decimal" required; } " "
                label { (tr.t("web-fig-note")) " " input type="text" name="note"; } " "
                (act::confirm_fields(tr, csrf, &tr.t("web-fig-submit")))
            }
        }
        @if let Some(id) = id {
            @if waits_for_me {
                form method="post" action=(format!("{base}/attest")) {
                    input type="hidden" name="entry" value=(id);
                    (act::confirm_fields(tr, csrf, &tr.t("web-fig-attest")))
                }
            }
            // Disputing and correcting are the exception: each form is folded
            // under its name (a native <details>, no script), so a year of
            // agreed figures reads as a table, not as a wall of forms.
            @if !mine && matches!(state, "pending" | "agreed") {
                details {
                    summary { (tr.t("web-fig-dispute")) }
                    form method="post" action=(format!("{base}/dispute")) {
                        input type="hidden" name="entry" value=(id);
                        label { (tr.t("web-fig-reason")) " " input type="text" name="reason" required; } " "
                        (act::confirm_fields(tr, csrf, &tr.t("web-fig-dispute")))
                    }
                }
            }
            @if mine && state != "superseded" {
                details {
                    summary { (tr.t("web-fig-correct")) }
                    form method="post" action=(format!("{base}/correct")) {
                        input type="hidden" name="entry" value=(id);
                        label { (tr.t("web-fig-new-value")) " " input type="text" name="value" inputmode="decimal" required; } " "
                        label { (tr.t("web-fig-reason")) " " input type="text" name="reason" required; } " "
                        (act::confirm_fields(tr, csrf, &tr.t("web-fig-correct")))
                    }
                }
            }
        }
    }
}

/// The fields of every figure form (each action uses its own).
#[derive(Debug, Default, Deserialize)]
pub(super) struct FigureForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    entry: String,
    #[serde(default)]
    reason: String,
}

/// The figure `entry` (a full entry id) if it is a figure of `contract`
/// whose period lies in `year`.
fn figure_in(tr: &Tr, l: &Ledger, contract: &str, year: u16, entry: &str) -> Result<Entry, Refusal> {
    let not_here = || Refusal::bad(tr.t_args("web-fig-not-in-year", &[("entry", Arg::from(entry))]));
    if EntryId::from_hex(entry.trim()).is_none() {
        return Err(not_here());
    }
    let m = pm::find_measurement(l, entry.trim()).map_err(Refusal::bad)?;
    if m.contract() != Some(contract) {
        return Err(not_here());
    }
    let (p, _, ind) = meas::figure_of(&m, &pm::lookup(l)).map_err(Refusal::bad)?;
    if meas::period_year(&ind, &p.period) != Ok(year) {
        return Err(not_here());
    }
    Ok(m)
}

fn sign(body: crate::ledger::entry::Body, key: &ed25519_dalek::SigningKey) -> Result<Entry, Refusal> {
    Entry::sign(body, &[key]).map_err(Refusal::bad)
}

/// Which figure action a POST is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Submit,
    Attest,
    AttestAll,
    Dispute,
    Correct,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Submit => "submit",
            Kind::Attest => "attest",
            Kind::AttestAll => "attest-all",
            Kind::Dispute => "dispute",
            Kind::Correct => "correct",
        }
    }
}

/// POST `.../figures/{action}`: one handler, the action from the path's
/// last segment (routed for the five names only).
async fn act_on(
    kind: Kind,
    web: Arc<Web>,
    peer: SocketAddr,
    headers: HeaderMap,
    q: LangQuery,
    (ledger, contract, year): (String, String, String),
    mut form: FigureForm,
) -> Response<Body> {
    let tr = Tr::new(super::lang_of(&headers, &q).0);
    let Ok(year) = year.parse::<u16>() else {
        return page_response(StatusCode::NOT_FOUND, pages::message(&tr, None, &tr.t("web-not-found")));
    };
    let back = figures_href(&ledger, &contract, year);
    let password = std::mem::take(&mut form.password);
    let who = match act::confirm(&web, &headers, peer, &q, &form.csrf, password, &back).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let tr = who.ctx.tr;
    let c = contract.clone();
    let action = Action { ledger, contract, name: kind.name(), back };
    act::perform(web, who, action, move |l, key, party| {
        let contract = c.as_str();
        match kind {
            Kind::Submit => {
                let value = act::value_field(&tr, &form.value)?;
                let note = act::text_field(&tr, &tr.t("web-fig-note"), &form.note, false)?;
                let rows = pm::list_rows(l, contract, Some(year), None).map_err(Refusal::bad)?;
                let open = rows.iter().any(|r| {
                    r["indicator"] == form.indicator.as_str()
                        && r["period"] == form.period.as_str()
                        && r["state"] == "missing"
                });
                if !open {
                    return Err(Refusal::bad(tr.t_args(
                        "web-fig-not-missing",
                        &[
                            ("indicator", Arg::from(form.indicator.as_str())),
                            ("period", Arg::from(form.period.as_str())),
                        ],
                    )));
                }
                let row = pm::FigureRow {
                    line: 0,
                    indicator: form.indicator.clone(),
                    period: form.period.clone(),
                    value,
                    note,
                };
                pm::submit_entries(l, key, party, contract, &[row], "the form", None).map_err(Refusal::bad)
            }
            Kind::Attest => {
                let m = figure_in(&tr, l, contract, year, &form.entry)?;
                let (body, _) = pm::attestation(l, &m, party, key).map_err(Refusal::bad)?;
                Ok(vec![sign(body, key)?])
            }
            Kind::AttestAll => {
                let targets = pm::pending_for(l, contract, year, party).map_err(Refusal::bad)?;
                let mut out = Vec::with_capacity(targets.len());
                for m in &targets {
                    let (body, _) = pm::attestation(l, m, party, key).map_err(Refusal::bad)?;
                    out.push(sign(body, key)?);
                }
                Ok(out)
            }
            Kind::Dispute => {
                let reason = act::text_field(&tr, &tr.t("web-fig-reason"), &form.reason, true)?.unwrap_or_default();
                let m = figure_in(&tr, l, contract, year, &form.entry)?;
                Ok(vec![sign(pm::dispute_body(l, &m, party, key, &reason).map_err(Refusal::bad)?, key)?])
            }
            Kind::Correct => {
                let value = act::value_field(&tr, &form.value)?;
                let reason = act::text_field(&tr, &tr.t("web-fig-reason"), &form.reason, true)?.unwrap_or_default();
                let m = figure_in(&tr, l, contract, year, &form.entry)?;
                Ok(vec![sign(pm::correct_body(l, &m, party, key, &value, &reason).map_err(Refusal::bad)?, key)?])
            }
        }
    })
    .await
}

macro_rules! figure_handler {
    ($name:ident, $kind:expr) => {
        /// POST handler of one figure action.
        pub(super) async fn $name(
            State(web): State<Arc<Web>>,
            ConnectInfo(peer): ConnectInfo<SocketAddr>,
            headers: HeaderMap,
            Query(q): Query<LangQuery>,
            Path(at): Path<(String, String, String)>,
            Form(form): Form<FigureForm>,
        ) -> Response<Body> {
            act_on($kind, web, peer, headers, q, at, form).await
        }
    };
}

figure_handler!(submit, Kind::Submit);
figure_handler!(attest, Kind::Attest);
figure_handler!(attest_all, Kind::AttestAll);
figure_handler!(dispute, Kind::Dispute);
figure_handler!(correct, Kind::Correct);

/// Where an inbox item is acted on in the workspace: a figure's year's
/// figures page, a statement's page; none for the others.
pub fn act_href(item: &crate::audit::inbox::InboxItem) -> Option<String> {
    use crate::audit::inbox::InboxItem;
    let at = item.place();
    let (contract, year) = (at.contract.as_deref()?, at.year?);
    match item {
        InboxItem::AttestFigure { .. } | InboxItem::DisputedFigure { .. } => {
            Some(figures_href(&at.ledger, contract, year))
        }
        InboxItem::CosignStatement { .. } | InboxItem::SignComputable { .. } => {
            Some(format!("/contracts/{}/{contract}/{year}", at.ledger))
        }
        _ => None,
    }
}
