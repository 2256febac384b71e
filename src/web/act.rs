//! Acting from the browser: the permission, the confirmation and the log
//! every signing action of the workspace goes through.
//!
//! A signing action is a POST carrying the session's CSRF token and the
//! user's password, entered again. [`confirm`] checks, in this order: a
//! live session, the token, the role (`signer` only: a viewer or auditor
//! gets 403 and nothing is written), and the password (an argon2id check
//! under the login semaphore, off the async threads; a wrong one is 403 and
//! counts against the login rate limiter, per user and per address).
//! [`perform`] then, on the ledger's copy and under its lock, finds the
//! organisation's party key the node holds for that ledger
//! (`Store::key_for`), lets the action build its signed entries with the
//! same checks the command line makes, appends them, and writes one line to
//! the signature log ([`super::signlog`], fsync'd) before the 303 that says
//! done.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode};
use ed25519_dalek::SigningKey;
use maud::{html, Markup};

use super::signlog::{SignLog, SignRecord};
use super::users::Role;
use super::{page_response, pages, redirect, session, signed_in, with_cookie, Ctx, LangQuery, Web};
use crate::ledger::entry::Entry;
use crate::ledger::Ledger;
use crate::present::lang::{Arg, Tr};

/// Longest value field (a figure), in bytes.
pub const MAX_VALUE_BYTES: usize = 64;
/// Longest reason or note, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// A signer whose password was just confirmed, for one action.
pub(super) struct Confirmed {
    /// The page context (language, session).
    pub ctx: Ctx,
    /// The client's address.
    pub address: IpAddr,
}

/// The error page of an action, with a link back to the page it came from.
pub(super) fn refused(tr: &Tr, ctx: &Ctx, status: StatusCode, why: &str, back: &str) -> Response<Body> {
    let page = html! {
        p.error role="alert" { (why) }
        p { a href=(back) { (tr.t("web-act-back")) } }
    };
    let r = page_response(status, pages::layout(tr, Some(&ctx.session), &tr.t("web-message"), page));
    with_cookie(r, ctx.set_lang.clone())
}

/// Checks a signing POST: session, CSRF token, role `signer`, password.
/// The refusal is the response to send; nothing has been written.
pub(super) async fn confirm(
    web: &Arc<Web>,
    headers: &HeaderMap,
    peer: SocketAddr,
    q: &LangQuery,
    csrf: &str,
    password: String,
    back: &str,
) -> Result<Confirmed, Response<Body>> {
    let password = zeroize::Zeroizing::new(password.into_bytes());
    let ctx = signed_in(web, headers, q).map_err(|r| *r)?;
    let tr = ctx.tr;
    if !session::tokens_equal(&ctx.session.csrf, csrf) {
        return Err(refused(&tr, &ctx, StatusCode::FORBIDDEN, &tr.t("web-csrf-refused"), back));
    }
    if ctx.session.role != Role::Signer {
        let why = tr.t_args("web-act-not-signer", &[("role", Arg::from(ctx.session.role.name()))]);
        return Err(refused(&tr, &ctx, StatusCode::FORBIDDEN, &why, back));
    }
    let user = ctx.session.user.clone();
    let ip = peer.ip();
    let allowed = web.limiter.lock().map(|mut l| l.allowed(&user, ip, Instant::now())).unwrap_or(false);
    if !allowed {
        return Err(refused(&tr, &ctx, StatusCode::TOO_MANY_REQUESTS, &tr.t("web-login-too-many"), back));
    }
    let Ok(_permit) = web.logins.acquire().await else {
        return Err(refused(&tr, &ctx, StatusCode::SERVICE_UNAVAILABLE, &tr.t("web-failed"), back));
    };
    let users = web.users.clone();
    let name = user.clone();
    let checked = tokio::task::spawn_blocking(move || users.check(&name, &password)).await;
    match checked {
        Ok(Ok(Some(u))) if u.role == Role::Signer => Ok(Confirmed { ctx, address: ip }),
        Ok(Ok(_)) => {
            if let Ok(mut l) = web.limiter.lock() {
                l.failed(&user, ip, Instant::now());
            }
            Err(refused(&tr, &ctx, StatusCode::FORBIDDEN, &tr.t("web-act-wrong-password"), back))
        }
        Ok(Err(e)) => {
            eprintln!("web: cannot read the users: {e}");
            Err(refused(&tr, &ctx, StatusCode::INTERNAL_SERVER_ERROR, &tr.t("web-failed"), back))
        }
        Err(_) => Err(refused(&tr, &ctx, StatusCode::INTERNAL_SERVER_ERROR, &tr.t("web-failed"), back)),
    }
}

/// Why an action wrote nothing: the status and the words for the user.
pub(super) struct Refusal(pub StatusCode, pub String);

impl Refusal {
    /// An action the checks refuse (bad input, not possible now): 422.
    pub fn bad(why: impl std::fmt::Display) -> Refusal {
        Refusal(StatusCode::UNPROCESSABLE_ENTITY, why.to_string())
    }
}

/// What one action is: where, what, and where to go after it.
pub(super) struct Action {
    /// The ledger written to.
    pub ledger: String,
    /// The contract acted on.
    pub contract: String,
    /// Its name in the log (`submit`, `attest`, ...).
    pub name: &'static str,
    /// The page the form was on: the 303 goes there, `?done=` the name.
    pub back: String,
}

/// Runs a confirmed action: on the copy `action.ledger` (under its lock),
/// with the node's party key of that ledger, `build` checks and signs the
/// entries; they are appended, the signature log gets its line (fsync'd),
/// and the answer is a 303 back to the form's page. Any refusal writes
/// nothing.
pub(super) async fn perform(
    web: Arc<Web>,
    who: Confirmed,
    action: Action,
    build: impl FnOnce(&mut Ledger, &SigningKey, &str) -> Result<Vec<Entry>, Refusal> + Send + 'static,
) -> Response<Body> {
    let Confirmed { ctx, address } = who;
    let tr = ctx.tr;
    let done = tokio::task::spawn_blocking(move || {
        let tr = ctx.tr;
        if !web.store.hosts(&action.ledger) {
            return refused(&tr, &ctx, StatusCode::NOT_FOUND, &tr.t("web-not-found"), &action.back);
        }
        let log = SignLog::of_home(web.store.home().dir());
        let outcome = web.store.with_ledger(&action.ledger, |l| -> Result<(), Refusal> {
            let found = web.store.key_for(l).map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            let Some((key, party)) = found else {
                return Err(Refusal(StatusCode::CONFLICT, tr.t("web-act-no-key")));
            };
            let entries = build(l, &key, &party)?;
            if entries.is_empty() {
                return Err(Refusal::bad(tr.t("web-act-nothing")));
            }
            l.append(&entries).map_err(Refusal::bad)?;
            let rec = SignRecord {
                time: crate::ledger::entry::claimed_time_now(),
                user: ctx.session.user.clone(),
                role: ctx.session.role.name().to_string(),
                address: address.to_string(),
                ledger: action.ledger.clone(),
                contract: action.contract.clone(),
                action: action.name.to_string(),
                entries: entries.iter().map(|e| e.id().to_hex()).collect(),
            };
            log.append(&rec).map_err(|e| {
                Refusal(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    tr.t_args(
                        "web-act-log-failed",
                        &[("entries", Arg::from(rec.entries.join(", "))), ("error", Arg::from(e.to_string()))],
                    ),
                )
            })
        });
        match outcome {
            Ok(Ok(())) => {
                let sep = if action.back.contains('?') { '&' } else { '?' };
                with_cookie(redirect(&format!("{}{sep}done={}", action.back, action.name)), ctx.set_lang.clone())
            }
            Ok(Err(Refusal(status, why))) => refused(&tr, &ctx, status, &why, &action.back),
            Err(e) => refused(&tr, &ctx, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), &action.back),
        }
    })
    .await;
    done.unwrap_or_else(|_| {
        page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(&tr, None, &tr.t("web-failed")))
    })
}

/// The confirmation fields every signing form ends with: the CSRF token,
/// the password (entered again) and the one submit button.
pub(super) fn confirm_fields(tr: &Tr, csrf: &str, button: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        label { (tr.t("web-act-password")) " " input type="password" name="password" autocomplete="current-password" required; }
        " "
        button type="submit" { (button) }
    }
}

/// The short confirmation shown after `?done=ACTION`, if it names one.
pub(super) fn done_note(tr: &Tr, done: Option<&str>) -> Option<String> {
    let id = match done? {
        "submit" => "web-act-done-submit",
        "derive" => "web-act-done-derive",
        "attest" => "web-act-done-attest",
        "attest-all" => "web-act-done-attest-all",
        "dispute" => "web-act-done-dispute",
        "correct" => "web-act-done-correct",
        "cosign" => "web-act-done-cosign",
        "resettle" => "web-act-done-resettle",
        "accept" => "web-act-done-accept",
        "reject" => "web-act-done-reject",
        // weboffer
        d @ ("propose" | "counter" | "amend" | "withdraw") => return Some(tr.t(&format!("web-offer-done-{d}"))),
        _ => return None,
    };
    Some(tr.t(id))
}

/// Checks a free text field from a form: present when `required`, at most
/// [`MAX_TEXT_CHARS`], and text a ledger takes.
pub(super) fn text_field(tr: &Tr, what: &str, text: &str, required: bool) -> Result<Option<String>, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return if required {
            Err(Refusal::bad(tr.t_args("web-act-field-required", &[("field", Arg::from(what))])))
        } else {
            Ok(None)
        };
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Refusal::bad(
            tr.t_args("web-act-field-too-long", &[("field", Arg::from(what)), ("max", Arg::from(MAX_TEXT_CHARS))]),
        ));
    }
    crate::ledger::text::check_free_text(what, text).map_err(Refusal::bad)?;
    Ok(Some(text.to_string()))
}

/// Checks a value field: an exact decimal (digits, an optional sign and
/// one `.`), at most [`MAX_VALUE_BYTES`].
pub(super) fn value_field(tr: &Tr, value: &str) -> Result<String, Refusal> {
    let v = value.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    let exact = !digits.is_empty()
        && v.len() <= MAX_VALUE_BYTES
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && digits.chars().any(|c| c.is_ascii_digit());
    if exact {
        Ok(v.to_string())
    } else {
        Err(Refusal::bad(tr.t_args("web-act-not-decimal", &[("value", Arg::from(v))])))
    }
}

/// Whether the session may see signing forms at all.
pub(super) fn may_sign(ctx_role: Role) -> bool {
    ctx_role == Role::Signer
}

/// GET `/signatures`: the signature log, newest first, for signers and
/// auditors (a viewer gets 403).
pub(super) async fn signatures_page(
    axum::extract::State(web): axum::extract::State<Arc<Web>>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LangQuery>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    if ctx.session.role == Role::Viewer {
        let why = tr.t_args("web-sig-not-allowed", &[("role", Arg::from(ctx.session.role.name()))]);
        return refused(&tr, &ctx, StatusCode::FORBIDDEN, &why, "/inbox");
    }
    let path = super::signlog::path_of(web.store.home().dir());
    let r = super::blocking(tr, move || {
        let tr = &ctx.tr;
        let read = match super::signlog::read(&path) {
            Ok(r) => r,
            Err(e) => {
                let why = format!("{}: {e}", path.display());
                return page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(tr, Some(&ctx.session), &why));
            }
        };
        let main = html! {
            h1 { (tr.t("web-sig-title")) }
            p.note { (tr.t("web-sig-intro")) }
            @for s in &read.skipped { p.error { (tr.t_args("web-sig-skipped", &[("what", Arg::from(s.as_str()))])) } }
            @if read.records.is_empty() {
                p { (tr.t("web-sig-none")) }
            } @else {
                table {
                    caption { (tr.t_args("web-sig-caption", &[("n", Arg::from(read.records.len()))])) }
                    thead { tr {
                        th scope="col" { (tr.t("web-sig-col-time")) }
                        th scope="col" { (tr.t("web-user")) }
                        th scope="col" { (tr.t("web-col-role")) }
                        th scope="col" { (tr.t("web-sig-col-address")) }
                        th scope="col" { (tr.t("web-col-ledger")) }
                        th scope="col" { (tr.t("web-col-contract")) }
                        th scope="col" { (tr.t("web-sig-col-action")) }
                        th scope="col" { (tr.t("web-sig-col-entries")) }
                    } }
                    tbody { @for r in read.records.iter().rev() { tr {
                        th scope="row" { (tr.time(&r.time)) }
                        td { (r.user) }
                        td { (r.role) }
                        td { (r.address) }
                        td { (r.ledger) }
                        td { (r.contract) }
                        td { (r.action) }
                        td { @for e in &r.entries { code { (e.get(..16).unwrap_or(e)) } " " } }
                    } } }
                }
            }
        };
        page_response(StatusCode::OK, pages::layout(tr, Some(&ctx.session), &tr.t("web-sig-title"), main))
    })
    .await;
    r
}
