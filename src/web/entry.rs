//! The signed entries behind the pages, for whoever must trace a number:
//! the entry page (`/ledgers/{ledger}/entries/{id}`: what an entry says,
//! who signed it with which key, what it refers to and what refers to it,
//! and its signed bytes exactly) and the statement page's drill-down
//! ([`figures_used`]: every agreed figure a year's statement used, with the
//! entries that submitted and attested it, and the entries that signed the
//! statement). Every role may read them; nothing here signs.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Response, StatusCode};
use maud::{html, Markup};

use super::{blocking, page_response, pages, signed_in, with_cookie, LangQuery, Web};
use crate::domain::settlement::cosign::Computed;
use crate::domain::settlement::cosign::ContractView;
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::Ledger;
use crate::present::lang::{Arg, Tr};
use crate::present::summary;

/// Most entries listed as referring to one entry (a figure has a handful of
/// attestations; a contract version may have many answers). The page says
/// when it cut the list.
pub const MAX_REFERRERS: usize = 200;

/// The page of entry `id` (full hex id) of the copy `ledger`.
pub fn entry_href(ledger: &str, id: &str) -> String {
    format!("/ledgers/{ledger}/entries/{id}")
}

/// A link to an entry, shown as its short id.
fn entry_link(ledger: &str, id: &str) -> Markup {
    html! { a href=(entry_href(ledger, id)) { code { (short(id)) } } }
}

/// The first 12 characters of an id (ids are hex; cut at a character
/// boundary all the same).
fn short(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

/// GET the entry page.
pub(super) async fn page(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, id)): Path<(String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let r = blocking(tr, move || {
        let (tr, session) = (&ctx.tr, &ctx.session);
        let not_found =
            || page_response(StatusCode::NOT_FOUND, pages::message(tr, Some(session), &tr.t("web-not-found")));
        let Some(eid) = EntryId::from_hex(&id) else { return not_found() };
        if !web.store.hosts(&ledger) {
            return not_found();
        }
        let drawn = web.store.with_ledger(&ledger, |l| entry_main(tr, l, &ledger, &eid));
        match drawn {
            Ok(Ok(Some((title, main)))) => {
                page_response(StatusCode::OK, pages::layout(tr, Some(session), &title, main))
            }
            Ok(Ok(None)) => not_found(),
            Ok(Err(e)) => {
                page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(tr, Some(session), &e.to_string()))
            }
            Err(e) => {
                page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(tr, Some(session), &e.to_string()))
            }
        }
    })
    .await;
    with_cookie(r, set_lang)
}

/// Failures reading a copy, worded once for the page.
#[derive(Debug)]
struct ReadError(String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The title and content of the entry page, or `None` when the copy holds
/// no such entry.
fn entry_main(tr: &Tr, l: &Ledger, ledger: &str, id: &EntryId) -> Result<Option<(String, Markup)>, ReadError> {
    let err = |e: &dyn std::fmt::Display| ReadError(e.to_string());
    let Some((seq, e)) = l.get(id).map_err(|e| err(&e))? else { return Ok(None) };
    let void = l.void_entries().map_err(|e| err(&e))?;
    let hex = id.to_hex();
    let b = e.body();
    let (referrers, cut) = referrers(l, &e, &hex).map_err(|e| err(&e))?;
    let registry = l.registry();
    let title = tr.t_args("web-entry-title", &[("id", Arg::from(short(&hex)))]);
    let body_text = String::from_utf8_lossy(e.body_bytes()).into_owned();
    let main = html! {
        h1 { (title) }
        p { (summary::one_line_in(tr, &e)) }
        @if void.contains_key(id) { p.error role="alert" { (tr.t("web-entry-void")) } }
        dl {
            dt { (tr.t("web-entry-id")) } dd { code { (hex) } }
            dt { (tr.t("web-entry-seq")) } dd { (seq) }
            dt { (tr.t("web-entry-kind")) } dd { code { (b.kind) } }
            dt { (tr.t("web-entry-author")) } dd { (b.author.party) }
            dt { (tr.t("web-entry-time")) } dd { (b.time) }
            @if let Some(c) = e.contract() {
                dt { (tr.t("web-entry-contract")) }
                dd { a href=(format!("/contracts/{ledger}/{c}")) { (c) } }
            }
        }
        h2 { (tr.t("web-entry-signatures")) }
        table {
            caption { (tr.t("web-entry-signatures")) }
            thead { tr { th scope="col" { (tr.t("web-entry-key")) } th scope="col" { (tr.t("web-entry-key-party")) } } }
            tbody {
                @for s in e.sigs() {
                    tr {
                        th scope="row" { code { (s.key.fingerprint()) } }
                        td { (registry.key(&s.key).map(|k| k.party.as_str()).unwrap_or("?")) }
                    }
                }
            }
        }
        p.note { (tr.t("web-entry-verified")) }
        h2 { (tr.t("web-entry-refs")) }
        @if b.refs.is_empty() {
            p { (tr.t("web-entry-no-refs")) }
        } @else {
            ul { @for r in &b.refs { li { (ref_item(tr, l, ledger, r)) } } }
        }
        h2 { (tr.t("web-entry-referrers")) }
        @if referrers.is_empty() {
            p { (tr.t("web-entry-no-referrers")) }
        } @else {
            ul { @for r in &referrers { li { (entry_link(ledger, &r.id().to_hex())) " " (summary::one_line_in(tr, r)) } } }
            @if cut { p.note { (tr.t_args("web-entry-referrers-cut", &[("n", Arg::from(MAX_REFERRERS.to_string()))])) } }
        }
        h2 { (tr.t("web-entry-bytes")) }
        p.note { (tr.t("web-entry-bytes-note")) }
        pre { code { (body_text) } }
    };
    Ok(Some((title, main)))
}

/// One referenced entry: a link and its summary, or the id alone when this
/// copy does not hold it.
fn ref_item(tr: &Tr, l: &Ledger, ledger: &str, r: &str) -> Markup {
    let held = EntryId::from_hex(r).and_then(|id| l.get(&id).ok().flatten());
    match held {
        Some((_, e)) => html! { (entry_link(ledger, r)) " " (summary::one_line_in(tr, &e)) },
        None => html! { code { (r) } " " (tr.t("web-entry-not-held")) },
    }
}

/// The entries of the same contract that refer to `e` (at most
/// [`MAX_REFERRERS`], and whether the list was cut). Entries outside a
/// contract (the registry's) are referred to by none the index can list.
fn referrers(l: &Ledger, e: &Entry, hex: &str) -> Result<(Vec<Entry>, bool), crate::ledger::LedgerError> {
    let Some(contract) = e.contract() else { return Ok((Vec::new(), false)) };
    let mut found: Vec<Entry> =
        l.contract_entries(contract)?.into_iter().filter(|x| x.body().refs.iter().any(|r| r == hex)).collect();
    let cut = found.len() > MAX_REFERRERS;
    found.truncate(MAX_REFERRERS);
    Ok((found, cut))
}

/// The statement page's drill-down: every figure the computed statement
/// `c` used (indicator, period, value, source) with the entry that
/// submitted it and the entries of every party that signed it, each a
/// link to its entry page, and the figure's row on the figures page; then
/// the entries that signed this statement.
pub fn figures_used(tr: &Tr, ledger: &str, view: &ContractView, c: &Computed) -> Markup {
    let year = c.statement.year;
    let figures_page = super::figures::figures_href(ledger, &c.statement.contract, year);
    let used: Vec<_> = view.measurements.iter().filter(|m| c.inputs.binary_search(&m.id).is_ok()).collect();
    let signed: Vec<(&String, &String, &String)> = view
        .settlements
        .get(&year)
        .map(|ys| {
            ys.statements
                .get(&c.hash)
                .map(|s| s.by.iter().map(|(party, sig)| (party, &sig.entry, &sig.time)).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    html! {
        section #figures-used {
            h2 { (tr.t("web-entry-used-heading")) }
            p.note { (tr.t("web-entry-used-note")) }
            table {
                caption { (tr.t("web-entry-used-heading")) }
                thead {
                    tr {
                        th scope="col" { (tr.t("web-entry-indicator")) }
                        th scope="col" { (tr.t("web-entry-period")) }
                        th scope="col" class="num" { (tr.t("web-entry-value")) }
                        th scope="col" { (tr.t("web-entry-source")) }
                        th scope="col" { (tr.t("web-entry-submitted")) }
                        th scope="col" { (tr.t("web-entry-signed-by")) }
                    }
                }
                tbody {
                    @for m in &used {
                        tr {
                            th scope="row" {
                                a href=(format!("{figures_page}#fig-{}-{}", m.indicator, m.period)) { (m.indicator) }
                            }
                            td { (m.period) }
                            td.num { @if m.unit == "eur" { (tr.money(m.value)) } @else { (tr.number(m.value)) } }
                            td { (m.source) }
                            td { (entry_link(ledger, &m.id)) }
                            td {
                                @for (i, (party, entry)) in m.signed_by.iter().filter(|(p, _)| **p != m.source).enumerate() {
                                    @if i > 0 { ", " }
                                    (party) " " (entry_link(ledger, entry))
                                }
                            }
                        }
                    }
                }
            }
            @if !signed.is_empty() {
                h3 { (tr.t("web-entry-statement-signed")) }
                ul {
                    @for (party, entry, time) in &signed {
                        li { (party) " " (entry_link(ledger, entry)) " " (time) }
                    }
                }
            }
        }
    }
}
