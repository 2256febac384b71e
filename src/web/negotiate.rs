//! Deciding on a contract version from the contract page: a signer of an
//! organisation whose party (the node's key in that ledger) must still
//! sign a pending version accepts it (signs it) or rejects it with a
//! reason. Each is a POST confirmed with the password and logged like
//! every signature the web causes ([`super::act`]); the checks are those
//! of `vereffen contract accept|reject` (`negotiation::check_decision`).
//!
//! Offering a version (propose, counter, amend, withdraw) is
//! [`super::offer`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::act::{self, Action, Refusal};
use super::session::Session;
use super::{LangQuery, Web};
use crate::domain::negotiation::{self as neg, ContractStatus, MandateAction, VersionState};
use crate::ledger::entry::Entry;
use crate::ledger::Ledger;
use crate::node::store::Store;
use crate::present::lang::{Arg, Tr};
use crate::present::negotiation::version_kind;

/// The first 12 characters of a version hash.
fn short(h: &str) -> &str {
    h.char_indices().nth(12).map_or(h, |(i, _)| &h[..i])
}

/// The decision forms of a contract page: for a signer, for each version
/// still waiting for the node's party, an accept form and a reject form
/// (with a reason); nothing for other roles or when nothing waits.
pub fn section(store: &Store, tr: &Tr, session: &Session, l: &Ledger, st: &ContractStatus) -> Markup {
    if !act::may_sign(session.role) {
        return html! {};
    }
    let Ok(Some((_, party))) = store.key_for(l) else { return html! {} };
    let waiting: Vec<_> = st
        .versions
        .values()
        .filter(|v| matches!(v.state(), VersionState::Pending { ref waiting_for } if waiting_for.contains(&party)))
        .filter(|v| neg::check_decision(st, v, &party, MandateAction::Accept).is_ok())
        .collect();
    if waiting.is_empty() {
        return html! {};
    }
    let action = format!("/contracts/{}/{}/decide", l.id(), st.contract);
    html! {
        section aria-labelledby="decide" {
            h2 #decide { (tr.t_args("web-neg-heading", &[("party", Arg::from(party.as_str()))])) }
            @for v in waiting {
                h3 { (tr.t_args("web-neg-version", &[("version", Arg::from(short(&v.version))), ("kind", Arg::from(version_kind(tr, v)))])) }
                p { (tr.t("web-neg-read-first")) }
                form method="post" action=(action) {
                    input type="hidden" name="version" value=(v.version);
                    input type="hidden" name="decision" value="accept";
                    (act::confirm_fields(tr, &session.csrf, &tr.t("web-neg-accept")))
                }
                details {
                    summary { (tr.t("web-neg-reject")) }
                    form method="post" action=(action) {
                        input type="hidden" name="version" value=(v.version);
                        input type="hidden" name="decision" value="reject";
                        label { (tr.t("web-fig-reason")) " " input type="text" name="reason" required; } " "
                        (act::confirm_fields(tr, &session.csrf, &tr.t("web-neg-reject")))
                    }
                }
            }
        }
    }
}

/// The confirmation a contract page shows after a decision (`?done=`).
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    /// The action just done.
    pub done: Option<String>,
}

/// The decision form's fields.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// POST `/contracts/{ledger}/{contract}/decide`: accept or reject one version.
pub(super) async fn decide(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract)): Path<(String, String)>,
    Form(form): Form<DecideForm>,
) -> Response<Body> {
    let back = format!("/contracts/{ledger}/{contract}");
    let who = match act::confirm(&web, &headers, peer, &q, &form.csrf, form.password.clone(), &back).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let tr = who.ctx.tr;
    let (decision, name) = match form.decision.as_str() {
        "accept" => (MandateAction::Accept, "accept"),
        "reject" => (MandateAction::Reject, "reject"),
        _ => (MandateAction::Accept, ""),
    };
    let c = contract.clone();
    let action = Action { ledger, contract, name: if name.is_empty() { "decide" } else { name }, back };
    act::perform(web, who, action, move |l, key, party| {
        if name.is_empty() {
            return Err(Refusal::bad(tr.t("web-neg-bad-decision")));
        }
        let reason = match decision {
            MandateAction::Reject => act::text_field(&tr, &tr.t("web-fig-reason"), &form.reason, true)?,
            MandateAction::Accept => None,
        };
        let st = neg::status(&c, &l.contract_entries(&c).map_err(Refusal::bad)?);
        if st.versions.is_empty() {
            return Err(Refusal::bad(tr.t("web-not-found")));
        }
        // The full hash the page carried: a prefix is not enough here.
        let Some(v) = st.versions.get(form.version.trim()) else {
            return Err(Refusal::bad(tr.t_args("web-neg-no-version", &[("version", Arg::from(form.version.trim()))])));
        };
        neg::check_decision(&st, v, party, decision).map_err(Refusal::bad)?;
        let refs = vec![neg::carrier(v).map_err(Refusal::bad)?.to_string()];
        let kind = if decision == MandateAction::Accept { neg::KIND_ACCEPT } else { neg::KIND_REJECT };
        let payload = neg::decision_payload(&c, &v.version, None, reason.as_deref());
        let body = crate::present::measure::new_body(l, party, key, kind, refs, payload);
        Ok(vec![Entry::sign(body, &[key]).map_err(Refusal::bad)?])
    })
    .await
}
