//! Co-signing a year's statement from its page: for a signer whose party
//! (the node's key in that ledger) is a signatory and has not signed, the
//! amounts per party being signed and a form carrying the statement hash
//! shown. The POST recomputes the statement; a different hash (figures
//! changed since the page was drawn) is refused with "reload". The checks
//! are those of `vereffen settle --sign` (`present::settle::sign_plan`).
//!
//! A year settled with a statement the agreed figures no longer give (a
//! figure corrected after settling) is resettled the same way: the page
//! shows the corrections against the settled statement (the statement
//! document's own section) and the form carries the settled statement's
//! hash as `replaces`; the signature replaces it once every signatory
//! signed (`settle --sign --resettle`). A `replaces` that is no longer the
//! settled statement is refused with "reload".

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, Response, StatusCode};
use maud::{html, Markup};
use serde::Deserialize;

use super::act::{self, Action, Refusal};
use super::session::Session;
use super::{page_response, pages, LangQuery, Web};
use crate::domain::settlement::cosign::{self, Computed, ContractView};
use crate::ledger::entry::Entry;
use crate::ledger::Ledger;
use crate::node::store::Store;
use crate::present::lang::{Arg, Tr};
use crate::present::settle::{self as psettle, SignPlan};
use crate::present::statement::Standing;

/// The co-sign section of a statement page: nothing unless `session` is
/// a signer's and the node's party in the ledger is a signatory that has
/// not signed this statement; else what it signs and the form.
pub fn section(
    store: &Store,
    tr: &Tr,
    session: &Session,
    l: &Ledger,
    view: &ContractView,
    c: &Computed,
    standing: &Standing,
) -> Markup {
    if standing.settled {
        return html! { p.settled role="status" { strong { (tr.t("web-sign-settled")) } } };
    }
    if !act::may_sign(session.role) || c.draft {
        return html! {};
    }
    let Ok(Some((_, party))) = store.key_for(l) else { return html! {} };
    let ys = view.settlements.get(&c.statement.year);
    let signatory = ys.is_some_and(|ys| ys.signatories.contains(&party));
    if !signatory || standing.signed_by.contains(&party) {
        return html! {};
    }
    // Settled with another statement: signing this one resettles the year.
    let replaces = ys.and_then(|ys| ys.settled.as_ref()).filter(|h| !c.is(h));
    let st = &c.statement;
    let action = format!("/contracts/{}/{}/{}/sign", l.id(), view.contract, st.year);
    let short = |h: &str| h.get(..16).unwrap_or(h).to_string();
    html! {
        section aria-labelledby="cosign" {
            @if let Some(old) = replaces {
                h2 #cosign { (tr.t_args("web-resettle-heading", &[("party", Arg::from(party.as_str())), ("year", Arg::from(st.year.to_string()))])) }
                p { (tr.t_args("web-resettle-explain", &[("year", Arg::from(st.year.to_string())), ("old", Arg::from(short(old))), ("new", Arg::from(short(&c.hash)))])) }
            } @else {
                h2 #cosign { (tr.t_args("web-sign-heading", &[("party", Arg::from(party.as_str()))])) }
            }
            p { (tr.t_args("web-sign-you-sign", &[("party", Arg::from(party.as_str())), ("year", Arg::from(st.year.to_string())), ("hash", Arg::from(short(&c.hash)))])) }
            table {
                caption { (tr.t("web-sign-amounts")) }
                thead { tr {
                    th scope="col" { (tr.t("web-col-party")) }
                    th scope="col" class="num" { (tr.t_args("web-sign-receives", &[("currency", Arg::from(c.currency.code()))])) }
                    th scope="col" class="num" { (tr.t_args("web-sign-pays", &[("currency", Arg::from(c.currency.code()))])) }
                } }
                tbody { @for p in &st.parties { tr {
                    th scope="row" { (p.party) }
                    td class="num" { (tr.money(p.received)) }
                    td class="num" { (tr.money(p.paid)) }
                } } }
            }
            @if st.payments.is_empty() {
                p { (tr.t("web-sign-no-payments")) }
            } @else {
                ul { @for p in &st.payments {
                    li { (tr.t_args("web-sign-payment", &[("from", Arg::from(p.from.as_str())), ("to", Arg::from(p.to.as_str())), ("amount", Arg::from(tr.amount(p.amount, c.currency.code())))])) }
                } }
            }
            form method="post" action=(action) {
                input type="hidden" name="statement" value=(c.hash);
                @if let Some(old) = replaces {
                    input type="hidden" name="replaces" value=(old);
                    (act::confirm_fields(tr, &session.csrf, &tr.t("web-resettle-button")))
                } @else {
                    (act::confirm_fields(tr, &session.csrf, &tr.t("web-sign-button")))
                }
            }
        }
    }
}

/// The co-sign form's fields.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    statement: String,
    /// The settled statement this signature replaces (a resettlement);
    /// empty for a first settlement.
    #[serde(default)]
    replaces: String,
}

/// POST `/contracts/{ledger}/{contract}/{year}/sign`.
pub(super) async fn sign(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract, year)): Path<(String, String, String)>,
    Form(mut form): Form<SignForm>,
) -> Response<Body> {
    let tr = Tr::new(super::lang_of(&headers, &q).0);
    let Ok(year) = year.parse::<u16>() else {
        return page_response(StatusCode::NOT_FOUND, pages::message(&tr, None, &tr.t("web-not-found")));
    };
    let back = format!("/contracts/{ledger}/{contract}/{year}");
    let password = std::mem::take(&mut form.password);
    let who = match act::confirm(&web, &headers, peer, &q, &form.csrf, password, &back).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let tr = who.ctx.tr;
    let c = contract.clone();
    let resettle = !form.replaces.trim().is_empty();
    let name = if resettle { "resettle" } else { "cosign" };
    let action = Action { ledger, contract, name, back };
    act::perform(web, who, action, move |l, key, party| {
        let view = psettle::contract_view(l, &c).map_err(Refusal::bad)?;
        let computed = view
            .compute(year, false)
            .map_err(|e| Refusal::bad(crate::present::engine::cannot_settle(&tr, &c, year, &e)))?;
        if computed.hash != form.statement.trim() {
            return Err(Refusal(StatusCode::CONFLICT, tr.t("web-sign-stale")));
        }
        // What the page showed as settled must still be: a resettlement
        // replaces exactly the statement the signer saw replaced, and a
        // first signature is not turned into a resettlement behind the
        // signer's back.
        let settled = view.settlements.get(&year).and_then(|ys| ys.settled.as_deref()).filter(|h| !computed.is(h));
        if settled != resettle.then(|| form.replaces.trim()) {
            return Err(Refusal(StatusCode::CONFLICT, tr.t("web-sign-stale")));
        }
        let replaces = match psettle::sign_plan(&view, &computed, party, resettle).map_err(Refusal::bad)? {
            SignPlan::Sign { replaces } => replaces,
            SignPlan::AlreadySettled { .. } | SignPlan::AlreadySigned { .. } => {
                return Err(Refusal(StatusCode::CONFLICT, tr.t("web-sign-already")));
            }
        };
        let (payload, refs) = cosign::sign_payload(&computed, replaces.as_deref()).map_err(Refusal::bad)?;
        let body = crate::present::measure::new_body(l, party, key, cosign::KIND_SIGN, refs, payload);
        Ok(vec![Entry::sign(body, &[key]).map_err(Refusal::bad)?])
    })
    .await
}
