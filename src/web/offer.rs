//! Offering contract versions from the browser (issue 16): propose a new
//! contract, counter a pending version, amend an in-force contract, and
//! withdraw one's own pending offer. The checks are those of `vereffen
//! contract propose|counter|amend|withdraw` (`negotiation::plan_*`); this
//! module only reads forms and renders pages.
//!
//! An offer takes two steps, because people must sign what they have seen:
//!
//! 1. The form (the propose page for a new contract, the contract page for
//!    a counter or an amendment) uploads a contract file or pasted TOML
//!    (multipart, read with `model::read_parts`: at most
//!    [`MAX_TEXT_BYTES`] per text, [`MAX_OFFER_BODY`] in all) to a
//!    **preview**: nothing is asked, nothing is written. A text that is
//!    not a valid contract is a 422 page with every problem as
//!    `FILE:LINE:COLUMN: field: message`; one the negotiation refuses is a
//!    422 page saying why; else the terms as the contract page shows them
//!    and, for a counter or amendment, the changes against the version
//!    answered or amended, in words, above the confirm form.
//! 2. The confirm form carries the exact text (a hidden field), its blake3
//!    hash and a digest of the contract's versions when previewed. The
//!    POST parses the text again and checks the hash (422 when it is not
//!    the text previewed), then `act::confirm` (CSRF, role signer,
//!    password), then `act::perform` runs every check again on the copy
//!    under its lock: a version that arrived since the preview is a 409
//!    ("reload"), any other refusal a 422; nothing is written on any
//!    refusal. Line ends are read as `\n` (a browser sends a hidden field
//!    with `\r\n`), so the hash is of the text with `\n` line ends.
//!
//! A withdrawal takes no file: its form (on the contract page, for each
//! version the node's party offered and may still withdraw) carries the
//! version, an optional reason and the password, like an acceptance.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::routing::{get, post};
use maud::{html, Markup};
use serde::Deserialize;

use super::act::{self, Action, Refusal};
use super::model::{self, Part, Refused};
use super::session::{self, Session};
use super::{blocking, page_response, pages, signed_in, with_cookie, Ctx, LangQuery, Web};
use crate::domain::contract::{self, Change, Contract};
use crate::domain::negotiation::{self as neg, ContractStatus, Planned};
use crate::ledger::entry::Entry;
use crate::ledger::Ledger;
use crate::node::store::Store;
use crate::present::lang::{Arg, Tr};
use crate::present::negotiation::version_kind;

/// Largest contract text (uploaded or pasted): the contract reader's bound, 1 MiB.
pub const MAX_TEXT_BYTES: usize = contract::MAX_FILE_BYTES;
/// Largest other field of an offer form, in bytes.
pub const MAX_FIELD_BYTES: usize = 1024;
/// Most parts of an offer form.
pub const MAX_OFFER_FIELDS: usize = 16;
/// Largest offer form body: a file and a pasted text at their largest,
/// and room for the other fields and the framing. Larger is 413.
pub const MAX_OFFER_BODY: usize = 2 * MAX_TEXT_BYTES + (64 << 10);

/// The offer routes, merged into the workspace's router.
pub(super) fn routes() -> axum::Router<Arc<Web>> {
    let upload = || DefaultBodyLimit::max(MAX_OFFER_BODY);
    axum::Router::new()
        .route("/propose", get(propose_page).post(preview_propose).layer(upload()))
        .route("/propose/confirm", post(confirm_propose).layer(upload()))
        .route("/contracts/{ledger}/{contract}/offer", post(preview_offer).layer(upload()))
        .route("/contracts/{ledger}/{contract}/offer/confirm", post(confirm_offer).layer(upload()))
        .route("/contracts/{ledger}/{contract}/withdraw", post(withdraw))
}

/// The words for one change between two versions (`contract::diff`), in
/// the page's language.
pub(super) fn change_text(tr: &Tr, c: &Change) -> String {
    crate::present::negotiation::change_words(tr, c)
}

/// The first 12 characters of a version hash.
fn short(h: &str) -> &str {
    h.char_indices().nth(12).map_or(h, |(i, _)| &h[..i])
}

/// The address of a contract's page.
fn contract_href(ledger: &str, contract: &str) -> String {
    format!("/contracts/{ledger}/{contract}")
}

/// Text with `\n` line ends (a browser sends form values with `\r\n`).
fn unix_lines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The hash the confirm form carries of the text previewed.
fn text_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// A digest of the versions of a contract (none: the digest of nothing):
/// a preview carries it, and a confirmation whose contract has another
/// set of versions now is stale.
fn versions_digest(st: &ContractStatus) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"vereffen-offer-seen-v1\n");
    for v in st.versions.keys() {
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

/// The ledgers this node may offer on: each hosted copy in which one of
/// its keys is a live key of a registered party, with that party.
fn offering_ledgers(store: &Store) -> Vec<(String, String)> {
    let Ok(ids) = store.home().ledger_ids() else { return vec![] };
    let mut out = Vec::new();
    for id in ids.into_iter().filter(|id| store.hosts(id)) {
        let party = store.keys().iter().find_map(|(_, k)| store.live_party_of(&id, &k.verifying_key()).flatten());
        if let Some(p) = party {
            out.push((id, p));
        }
    }
    out
}

/// The contract text fields every offer form has: a file, or pasted text.
fn text_fields(tr: &Tr, id: &str) -> Markup {
    html! {
        p {
            label for=(format!("{id}-file")) { (tr.t("web-offer-file")) } br;
            input id=(format!("{id}-file")) type="file" name="contract" accept=".toml";
        }
        p {
            label for=(format!("{id}-text")) { (tr.t("web-offer-paste")) } br;
            textarea id=(format!("{id}-text")) name="text" rows="8" cols="80" {}
        }
        p.note { (tr.t_args("web-offer-text-note", &[("mib", Arg::from(MAX_TEXT_BYTES >> 20))])) }
    }
}

/// The link to the propose page a contracts page shows a signer.
pub(super) fn propose_link(tr: &Tr, session: &Session) -> Markup {
    if !act::may_sign(session.role) {
        return html! {};
    }
    html! { p { a href="/propose" { (tr.t("web-offer-new")) } } }
}

/// GET `/propose`: the new-contract form (signers only).
async fn propose_page(State(web): State<Arc<Web>>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    if let Some(r) = not_signer(&ctx, "/contracts") {
        return r;
    }
    let set_lang = ctx.set_lang.clone();
    let r = blocking(tr, move || {
        let tr = &ctx.tr;
        let ledgers = offering_ledgers(&web.store);
        let main = html! {
            h1 { (tr.t("web-offer-new")) }
            p { (tr.t("web-offer-new-intro")) }
            @if ledgers.is_empty() {
                p.error { (tr.t("web-offer-no-ledger")) }
            } @else {
                form method="post" action="/propose" enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(ctx.session.csrf);
                    p {
                        label for="ledger" { (tr.t("web-col-ledger")) } br;
                        select #ledger name="ledger" required {
                            @for (l, party) in &ledgers {
                                option value=(l) { (l) " (" (tr.t_args("web-offer-as", &[("party", Arg::from(party.as_str()))])) ")" }
                            }
                        }
                    }
                    (text_fields(tr, "propose"))
                    p { button type="submit" { (tr.t("web-offer-preview")) } }
                }
            }
        };
        page_response(StatusCode::OK, pages::layout(tr, Some(&ctx.session), &tr.t("web-offer-new"), main))
    })
    .await;
    with_cookie(r, set_lang)
}

/// The offer forms of a contract page, for a signer whose node holds a
/// party key of the ledger: counter (while not in force, for the pending
/// versions offered by another party), amend (in force) and withdraw (the
/// party's own pending offers).
pub fn section(
    store: &Store,
    tr: &Tr,
    session: &Session,
    l: &Ledger,
    view: &crate::domain::settlement::cosign::ContractView,
) -> Markup {
    if !act::may_sign(session.role) {
        return html! {};
    }
    let Ok(Some((_, party))) = store.key_for(l) else { return html! {} };
    let st = &view.status;
    let counter = if st.base.is_none() { neg::counterable(st, &party) } else { vec![] };
    let current = st.latest_in_force();
    let withdraw = neg::withdrawable(st, &party);
    let base = format!("/contracts/{}/{}", l.id(), st.contract);
    let (offer, withdraw_to) = (format!("{base}/offer"), format!("{base}/withdraw"));
    html! {
        @if !counter.is_empty() {
            section aria-labelledby="counter" {
                h2 #counter { (tr.t("web-offer-counter")) }
                p { (tr.t("web-offer-counter-intro")) }
                form method="post" action=(offer) enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="kind" value="counter";
                    @if let [one] = counter.as_slice() {
                        input type="hidden" name="to" value=(one.version);
                        p { (tr.t_args("web-offer-answers", &[("version", Arg::from(short(&one.version))), ("kind", Arg::from(version_kind(tr, one)))])) }
                    } @else {
                        p {
                            label for="counter-to" { (tr.t("web-offer-answer-which")) } br;
                            select #counter-to name="to" required {
                                @for v in &counter {
                                    option value=(v.version) { (short(&v.version)) " — " (version_kind(tr, v)) }
                                }
                            }
                        }
                    }
                    (text_fields(tr, "counter"))
                    p { button type="submit" { (tr.t("web-offer-preview")) } }
                }
            }
        }
        @if let Some(v) = current {
            @let last_settled = view.settlements.iter().filter(|(_, s)| s.settled.is_some()).map(|(y, _)| *y).max();
            @let first_open = neg::first_open_year(v, last_settled);
            section aria-labelledby="amend" {
                h2 #amend { (tr.t("web-offer-amend")) }
                p { (tr.t_args("web-offer-amend-intro", &[("version", Arg::from(short(&v.version))), ("year", Arg::from(first_open.to_string()))])) }
                form method="post" action=(offer) enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="kind" value="amend";
                    p {
                        label for="amend-from" { (tr.t("web-offer-effective-from")) } br;
                        input #amend-from type="number" name="effective_from" required min=(first_open) max=(v.terms.term.last_year) value=(first_open) step="1";
                    }
                    (text_fields(tr, "amend"))
                    p { button type="submit" { (tr.t("web-offer-preview")) } }
                }
            }
        }
        @if !withdraw.is_empty() {
            section aria-labelledby="withdraw" {
                h2 #withdraw { (tr.t("web-offer-withdraw")) }
                @for v in &withdraw {
                    form method="post" action=(withdraw_to) {
                        p { (tr.t_args("web-offer-withdraw-version", &[("version", Arg::from(short(&v.version))), ("kind", Arg::from(version_kind(tr, v)))])) }
                        input type="hidden" name="version" value=(v.version);
                        label { (tr.t("web-offer-reason-optional")) " " input type="text" name="reason"; } " "
                        (act::confirm_fields(tr, &session.csrf, &tr.t("web-offer-withdraw-button")))
                    }
                }
            }
        }
    }
}

/// What an offer form sent.
#[derive(Debug, Default)]
struct OfferForm {
    csrf: String,
    password: String,
    ledger: String,
    kind: String,
    to: String,
    effective_from: String,
    /// The uploaded file (name, text), if one was chosen.
    file: Option<(String, String)>,
    /// The pasted text.
    text: String,
    /// The confirm form's text, hash and versions digest.
    toml: String,
    hash: String,
    seen: String,
}

/// Reads an offer form (multipart), every part bounded.
async fn read_form(
    ctx: &Ctx,
    mp: Result<Multipart, MultipartRejection>,
    back: &str,
) -> Result<OfferForm, Response<Body>> {
    let tr = &ctx.tr;
    let bad = |status, why: &str| act::refused(tr, ctx, status, why, back);
    let mp = mp.map_err(|e| bad(StatusCode::BAD_REQUEST, &e.body_text()))?;
    let limit = |name: &str, file: bool| {
        if file || name == "text" || name == "toml" {
            MAX_TEXT_BYTES
        } else {
            MAX_FIELD_BYTES
        }
    };
    let parts = match model::read_parts(tr, mp, MAX_OFFER_FIELDS, limit).await {
        Ok(p) => p,
        Err(Refused::TooLarge) => {
            let why = tr.t_args("web-offer-too-large", &[("mib", Arg::from(MAX_TEXT_BYTES >> 20))]);
            return Err(bad(StatusCode::PAYLOAD_TOO_LARGE, &why));
        }
        Err(Refused::Bad(why)) => return Err(bad(StatusCode::BAD_REQUEST, &why)),
        Err(Refused::Io(why)) => return Err(bad(StatusCode::INTERNAL_SERVER_ERROR, &why)),
    };
    let mut f = OfferForm::default();
    for Part { name, file_name, bytes } in parts {
        if name == "contract" {
            // Only the last part of a path a browser may send.
            let file_name = file_name.map(|n| n.rsplit(['/', '\\']).next().unwrap_or("").to_string());
            match model::file_text(tr, bytes, file_name) {
                Ok(Some(t)) => f.file = Some((t.name, unix_lines(&t.text))),
                Ok(None) => {}
                Err(Refused::Bad(why)) => return Err(bad(StatusCode::UNPROCESSABLE_ENTITY, &why)),
                Err(Refused::TooLarge) => {
                    let why = tr.t_args("web-offer-too-large", &[("mib", Arg::from(MAX_TEXT_BYTES >> 20))]);
                    return Err(bad(StatusCode::PAYLOAD_TOO_LARGE, &why));
                }
                Err(Refused::Io(why)) => return Err(bad(StatusCode::INTERNAL_SERVER_ERROR, &why)),
            }
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return Err(bad(StatusCode::BAD_REQUEST, &tr.t_args("web-offer-not-text", &[("field", Arg::from(name))])));
        };
        match name.as_str() {
            "csrf" => f.csrf = text,
            "password" => f.password = text,
            "ledger" => f.ledger = text.trim().to_string(),
            "kind" => f.kind = text.trim().to_string(),
            "to" => f.to = text.trim().to_string(),
            "effective_from" => f.effective_from = text.trim().to_string(),
            "text" => f.text = unix_lines(&text),
            "toml" => f.toml = unix_lines(&text),
            "hash" => f.hash = text.trim().to_string(),
            "seen" => f.seen = text.trim().to_string(),
            _ => {}
        }
    }
    Ok(f)
}

/// The refusal (403) of a user who is not a signer; `None` for a signer.
fn not_signer(ctx: &Ctx, back: &str) -> Option<Response<Body>> {
    if act::may_sign(ctx.session.role) {
        return None;
    }
    let tr = &ctx.tr;
    let why = tr.t_args("web-act-not-signer", &[("role", Arg::from(ctx.session.role.name()))]);
    Some(act::refused(tr, ctx, StatusCode::FORBIDDEN, &why, back))
}

/// What is offered: a proposal, a counter-proposal (to a version) or an
/// amendment (from a year).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Offer {
    Propose,
    Counter { to: String },
    Amend { from: u16 },
}

impl Offer {
    fn of(tr: &Tr, f: &OfferForm) -> Result<Offer, String> {
        match f.kind.as_str() {
            "counter" if !f.to.is_empty() => Ok(Offer::Counter { to: f.to.clone() }),
            "counter" => Err(tr.t("web-offer-no-target")),
            "amend" => f
                .effective_from
                .parse::<u16>()
                .map(|from| Offer::Amend { from })
                .map_err(|_| tr.t_args("web-offer-bad-year", &[("value", Arg::from(f.effective_from.as_str()))])),
            _ => Err(tr.t("web-offer-bad-kind")),
        }
    }

    /// Its name in the signature log and the `?done=` note.
    fn name(&self) -> &'static str {
        match self {
            Offer::Propose => "propose",
            Offer::Counter { .. } => "counter",
            Offer::Amend { .. } => "amend",
        }
    }

    /// Plans the entry on `l` for `party` (every check of the command line).
    fn plan(&self, l: &Ledger, c: &Contract, party: &str) -> Result<(ContractStatus, Planned), String> {
        let entries = l.contract_entries(&c.id).map_err(|e| e.to_string())?;
        let st = neg::status(&c.id, &entries);
        let plan = match self {
            Offer::Propose => neg::plan_propose(c, l.registry(), &entries)?,
            Offer::Counter { to } => neg::plan_counter(&st, c, l.registry(), party, Some(to))?,
            Offer::Amend { from } => {
                let view = crate::present::settle::contract_view(l, &c.id).map_err(|e| e.to_string())?;
                let last = view.settlements.iter().filter(|(_, s)| s.settled.is_some()).map(|(y, _)| *y).max();
                neg::plan_amend(&st, c, l.registry(), *from, last)?
            }
        };
        Ok((st, plan))
    }
}

/// The page listing every problem of a contract text (422).
fn invalid_page(ctx: &Ctx, problems: &[String], back: &str) -> Response<Body> {
    let tr = &ctx.tr;
    let main = html! {
        h1 { (tr.t("web-offer-invalid")) }
        p.error role="alert" { (tr.t_args("web-offer-invalid-count", &[("n", Arg::from(problems.len()))])) }
        ul { @for p in problems { li { code { (p) } } } }
        p { a href=(back) { (tr.t("web-act-back")) } }
    };
    let r = page_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        pages::layout(tr, Some(&ctx.session), &tr.t("web-offer-invalid"), main),
    );
    with_cookie(r, ctx.set_lang.clone())
}

/// Parses a contract text; the invalid page when it is not a contract.
fn parse(ctx: &Ctx, name: &str, text: &str, back: &str) -> Result<Contract, Box<Response<Body>>> {
    contract::parse_str(name, text)
        .map_err(|diags| Box::new(invalid_page(ctx, &diags.iter().map(|d| d.to_string()).collect::<Vec<_>>(), back)))
}

/// POST `/propose`: the preview of a new contract.
async fn preview_propose(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let back = "/propose".to_string();
    let form = match read_form(&ctx, mp, &back).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ledger = form.ledger.clone();
    preview(web, ctx, form, ledger, Offer::Propose, back, None).await
}

/// POST `/contracts/{ledger}/{contract}/offer`: the preview of a counter-proposal or amendment.
async fn preview_offer(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    // The contract page's address: the preview checks the text is of that contract.
    let back = contract_href(&ledger, &contract);
    let form = match read_form(&ctx, mp, &back).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let offer = match Offer::of(&ctx.tr, &form) {
        Ok(o) => o,
        Err(why) => return act::refused(&ctx.tr, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &why, &back),
    };
    preview(web, ctx, form, ledger, offer, back, Some(contract)).await
}

/// The preview: checks the form (CSRF, role), the text (parsed) and the
/// offer (on the copy, every check), and renders the terms, the changes
/// and the confirm form. Nothing is written.
async fn preview(
    web: Arc<Web>,
    ctx: Ctx,
    form: OfferForm,
    ledger: String,
    offer: Offer,
    back: String,
    page_contract: Option<String>,
) -> Response<Body> {
    let tr = ctx.tr;
    if !session::tokens_equal(&ctx.session.csrf, &form.csrf) {
        return act::refused(&tr, &ctx, StatusCode::FORBIDDEN, &tr.t("web-csrf-refused"), &back);
    }
    if let Some(r) = not_signer(&ctx, &back) {
        return r;
    }
    let (name, text) = match (&form.file, form.text.trim().is_empty()) {
        (Some((n, t)), _) => (n.clone(), t.clone()),
        (None, false) => ("pasted.toml".to_string(), form.text.clone()),
        (None, true) => {
            return act::refused(&tr, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &tr.t("web-offer-no-text"), &back)
        }
    };
    blocking(tr, move || {
        let c = match parse(&ctx, &name, &text, &back) {
            Ok(c) => c,
            Err(r) => return *r,
        };
        let tr = &ctx.tr;
        if !web.store.hosts(&ledger) {
            return act::refused(tr, &ctx, StatusCode::NOT_FOUND, &tr.t("web-not-found"), &back);
        }
        if let Some(pc) = page_contract.filter(|pc| *pc != c.id) {
            let why = tr.t_args("web-offer-other-contract", &[("file", Arg::from(c.id.as_str())), ("contract", Arg::from(pc))]);
            return act::refused(tr, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &why, &back);
        }
        let checked = web.store.with_ledger(&ledger, |l| -> Result<(ContractStatus, Planned, Option<Contract>), Refusal> {
            let Some((_, party)) = web.store.key_for(l).map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))? else {
                return Err(Refusal(StatusCode::CONFLICT, tr.t("web-act-no-key")));
            };
            let (st, plan) = offer.plan(l, &c, &party).map_err(Refusal::bad)?;
            // The version answered or amended, to show the changes against.
            let against = match &offer {
                Offer::Propose => None,
                Offer::Counter { .. } => plan.payload.get("answers"),
                Offer::Amend { .. } => plan.payload.get("amends"),
            };
            let old = against.and_then(|v| v.as_str()).and_then(|v| st.versions.get(v)).map(|v| v.terms.clone());
            Ok((st, plan, old))
        });
        let (st, plan, old) = match checked {
            Ok(Ok(x)) => x,
            Ok(Err(Refusal(status, why))) => return act::refused(tr, &ctx, status, &why, &back),
            Err(e) => return act::refused(tr, &ctx, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), &back),
        };
        let changes = old.as_ref().map(|o| contract::diff(o, &c));
        let action = match &offer {
            Offer::Propose => "/propose/confirm".to_string(),
            _ => format!("{back}/offer/confirm"),
        };
        let heading = match &offer {
            Offer::Propose => tr.t_args("web-offer-preview-propose", &[("contract", Arg::from(c.id.as_str()))]),
            Offer::Counter { .. } => tr.t_args("web-offer-preview-counter", &[("contract", Arg::from(c.id.as_str()))]),
            Offer::Amend { from } => tr.t_args(
                "web-offer-preview-amend",
                &[("contract", Arg::from(c.id.as_str())), ("year", Arg::from(from.to_string()))],
            ),
        };
        let main = html! {
            h1 { (heading) }
            p { (tr.t_args("web-offer-version", &[("version", Arg::from(plan.version.as_str())), ("ledger", Arg::from(ledger.as_str()))])) }
            p.note { (tr.t("web-offer-nothing-yet")) }
            @if let (Some(changes), Some(o)) = (&changes, &old) {
                section aria-labelledby="changes" {
                    h2 #changes { (tr.t_args("web-offer-changes", &[("version", Arg::from(short(&o.version_hash()))), ("n", Arg::from(changes.len()))])) }
                    ul { @for ch in changes { li { (change_text(tr, ch)) } } }
                }
            }
            section aria-labelledby="terms" {
                h2 #terms { (tr.t("web-terms")) }
                pre { (crate::present::terms::render(tr, &c)) }
            }
            section aria-labelledby="sign" {
                h2 #sign { (tr.t("web-offer-sign-heading")) }
                p { (tr.t("web-offer-sign-intro")) }
                form method="post" action=(action) enctype="multipart/form-data" {
                    input type="hidden" name="ledger" value=(ledger);
                    input type="hidden" name="kind" value=(offer.name());
                    @match &offer {
                        Offer::Counter { to } => { input type="hidden" name="to" value=(to); }
                        Offer::Amend { from } => { input type="hidden" name="effective_from" value=(from); }
                        Offer::Propose => {}
                    }
                    input type="hidden" name="toml" value=(text);
                    input type="hidden" name="hash" value=(text_hash(&text));
                    input type="hidden" name="seen" value=(versions_digest(&st));
                    (act::confirm_fields(tr, &ctx.session.csrf, &tr.t("web-offer-sign")))
                }
                p { a href=(back) { (tr.t("web-offer-cancel")) } }
            }
        };
        let r = page_response(StatusCode::OK, pages::layout(tr, Some(&ctx.session), &heading, main));
        with_cookie(r, ctx.set_lang.clone())
    })
    .await
}

/// POST `/propose/confirm`: sign and append a new contract.
async fn confirm_propose(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let form = match read_form(&ctx, mp, "/propose").await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ledger = form.ledger.clone();
    confirm(web, peer, headers, q, ctx, form, ledger, Offer::Propose, None).await
}

/// POST `/contracts/{ledger}/{contract}/offer/confirm`: sign and append a
/// counter-proposal or amendment.
async fn confirm_offer(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let back = contract_href(&ledger, &contract);
    let form = match read_form(&ctx, mp, &back).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let offer = match Offer::of(&ctx.tr, &form) {
        Ok(o) => o,
        Err(why) => return act::refused(&ctx.tr, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &why, &back),
    };
    confirm(web, peer, headers, q, ctx, form, ledger, offer, Some(contract)).await
}

/// The confirmation: the text parsed again and its hash checked, then the
/// password (`act::confirm`), then every check again on the copy under
/// its lock (a changed set of versions: 409), then signed and appended.
#[allow(clippy::too_many_arguments)]
async fn confirm(
    web: Arc<Web>,
    peer: SocketAddr,
    headers: HeaderMap,
    q: LangQuery,
    ctx: Ctx,
    form: OfferForm,
    ledger: String,
    offer: Offer,
    page_contract: Option<String>,
) -> Response<Body> {
    let tr = ctx.tr;
    let back = match &page_contract {
        Some(c) => contract_href(&ledger, c),
        None => "/propose".to_string(),
    };
    if !session::tokens_equal(&ctx.session.csrf, &form.csrf) {
        return act::refused(&tr, &ctx, StatusCode::FORBIDDEN, &tr.t("web-csrf-refused"), &back);
    }
    if form.hash != text_hash(&form.toml) {
        return act::refused(&tr, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &tr.t("web-offer-hash-mismatch"), &back);
    }
    let c = match parse(&ctx, "confirmed.toml", &form.toml, &back) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    if let Some(pc) = page_contract.as_ref().filter(|pc| **pc != c.id) {
        let why = tr.t_args(
            "web-offer-other-contract",
            &[("file", Arg::from(c.id.as_str())), ("contract", Arg::from(pc.as_str()))],
        );
        return act::refused(&tr, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &why, &back);
    }
    let who = match act::confirm(&web, &headers, peer, &q, &form.csrf, form.password.clone(), &back).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    // After the offer, the contract's page (for a proposal, the new one's).
    let done_back = contract_href(&ledger, &c.id);
    let action = Action { ledger, contract: c.id.clone(), name: offer.name(), back: done_back };
    let seen = form.seen;
    act::perform(web, who, action, move |l, key, party| {
        let entries = l.contract_entries(&c.id).map_err(Refusal::bad)?;
        if versions_digest(&neg::status(&c.id, &entries)) != seen {
            return Err(Refusal(StatusCode::CONFLICT, tr.t("web-offer-stale")));
        }
        let (_, plan) = offer.plan(l, &c, party).map_err(Refusal::bad)?;
        let body = crate::present::measure::new_body(l, party, key, plan.kind, plan.refs, plan.payload);
        Ok(vec![Entry::sign(body, &[key]).map_err(Refusal::bad)?])
    })
    .await
}

/// The withdraw form's fields.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
}

/// POST `/contracts/{ledger}/{contract}/withdraw`: withdraw the node's
/// party's own pending offer of one version, with an optional reason.
async fn withdraw(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract)): Path<(String, String)>,
    Form(form): Form<WithdrawForm>,
) -> Response<Body> {
    let back = contract_href(&ledger, &contract);
    let who = match act::confirm(&web, &headers, peer, &q, &form.csrf, form.password.clone(), &back).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let tr = who.ctx.tr;
    let c = contract.clone();
    let action = Action { ledger, contract, name: "withdraw", back };
    act::perform(web, who, action, move |l, key, party| {
        let reason = act::text_field(&tr, &tr.t("web-fig-reason"), &form.reason, false)?;
        let st = neg::status(&c, &l.contract_entries(&c).map_err(Refusal::bad)?);
        // The full hash the page carried: a prefix is not enough here.
        let Some(v) = st.versions.get(form.version.trim()) else {
            return Err(Refusal::bad(tr.t_args("web-neg-no-version", &[("version", Arg::from(form.version.trim()))])));
        };
        let plan = neg::plan_withdraw(&st, party, &v.version, reason.as_deref()).map_err(Refusal::bad)?;
        let body = crate::present::measure::new_body(l, party, key, plan.kind, plan.refs, plan.payload);
        Ok(vec![Entry::sign(body, &[key]).map_err(Refusal::bad)?])
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_and_hashes() {
        assert_eq!(unix_lines("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(text_hash(&unix_lines("x = 1\r\n")), text_hash("x = 1\n"));
        assert_ne!(text_hash("x = 1\n"), text_hash("x = 2\n"));
    }
}
