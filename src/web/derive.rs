//! Derived figures in the browser (issue 16): where a figure comes from,
//! recomputing it from one's own copy of its claims file, and deriving a
//! year's figures from a claims file by stated rules.
//!
//! * `GET .../{year}/derived/{entry}`: a figure's provenance page, for
//!   every role: the signed entries behind it (the submission, each
//!   attestation, by party) and, for a derived figure, the blake3 of its
//!   claims file and of its rules, the metric, the rows read and counted,
//!   and the recorded rules themselves; with the recompute form.
//! * `POST .../{year}/derived/{entry}/recompute` (multipart: the CSRF
//!   token, then the claims file): any role (it signs nothing) recomputes
//!   the figure from its copy as `vereffen measure recompute` does
//!   (`present::measure::recompute_plan`): MATCH, or the difference, and
//!   whether the file is the one the figure was derived from.
//! * `GET .../{year}/derive`, `POST .../{year}/derive` (multipart: CSRF
//!   token, rules file, claims file) and `POST .../{year}/derive/confirm`:
//!   a signer whose node holds the indicators' source key derives the
//!   year's figures as `vereffen measure derive` does
//!   (`present::measure::derive_with`), sees them (indicator, period,
//!   value, file and rules hash) with every check of the submission made
//!   already, and submits them with the password (`act::confirm`,
//!   `act::perform`, the signature log). The figures derived are kept in
//!   memory between the preview and the confirmation (the files are not):
//!   [`PREVIEW_KEPT_FOR`], at most [`MAX_PREVIEWS`], bound to the session.
//!
//! A claims file is streamed to a temporary file under the node home
//! (`HOME/web/uploads/`, never into memory), at most [`MAX_CLAIMS_BYTES`]
//! (413 above it), the whole upload and its derivation within
//! [`UPLOAD_TIME_LIMIT`], at most [`MAX_CONCURRENT_UPLOADS`] at once
//! (another gets 503 at once); the temporary file is removed on every path
//! ([`TempUpload`] removes it when dropped). The CSRF token must come
//! before the files: a form without a valid one is refused before a byte of
//! a file is written (the rest of a refused upload is read and thrown
//! away, bounded by [`MAX_DRAIN_BYTES`], so the browser gets the answer). Nothing is written to a ledger on any refusal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::routing::{get, post};
use maud::{html, Markup};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::act::{self, Action, Refusal};
use super::model::{read_field, Refused};
use super::session::{self, Session};
use super::users::Role;
use super::{page_response, pages, signed_in, with_cookie, Ctx, LangQuery, Web};
use crate::domain::derive::Rules;
use crate::domain::measurement::Measurement;
use crate::ledger::entry::EntryId;
use crate::ledger::Ledger;
use crate::present::lang::{Arg, Tr};
use crate::present::measure as pm;

/// Largest claims file taken: 512 MiB. Larger gets 413.
pub const MAX_CLAIMS_BYTES: u64 = 512 << 20;
/// Largest rules file taken: 256 KiB.
pub const MAX_RULES_BYTES: u64 = 256 << 10;
/// Largest upload body: a claims file, a rules file and room for the token
/// and the multipart framing.
pub const MAX_UPLOAD_BYTES: usize = (MAX_CLAIMS_BYTES + MAX_RULES_BYTES) as usize + (64 << 10);
/// Longest an upload and its derivation may take; then 408 (upload) or 503
/// (derivation). Below the node's request timeout (120 s), so the page
/// says why.
pub const UPLOAD_TIME_LIMIT: Duration = Duration::from_secs(110);
/// Uploads (recompute or derive) running at once; one more gets 503.
pub const MAX_CONCURRENT_UPLOADS: usize = 2;
/// Most parts in one upload form.
pub const MAX_PARTS: usize = 8;
/// How long a derive preview waits for its confirmation.
pub const PREVIEW_KEPT_FOR: Duration = Duration::from_secs(15 * 60);
/// Previews kept on the node in all (the oldest goes first).
pub const MAX_PREVIEWS: usize = 32;
/// Where uploads are streamed to, under the node home.
pub const UPLOAD_DIR: &str = "web/uploads";
/// Most bytes of a refused upload read and thrown away before the answer
/// (a client still sending reads the answer rather than a reset
/// connection); past them the connection is closed.
pub const MAX_DRAIN_BYTES: u64 = 16 << 20;
/// Longest such a drain takes.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The derive pages' state: the uploads running, the previews waiting.
struct DeriveState {
    running: Arc<tokio::sync::Semaphore>,
    previews: Mutex<Vec<Preview>>,
}

/// Derived figures waiting for their confirmation.
struct Preview {
    id: String,
    /// The session's CSRF token: only that session may confirm.
    csrf: String,
    at: Instant,
    ledger: String,
    contract: String,
    year: u16,
    origin: String,
    derived: pm::Derived,
}

/// The derive pages' routes, merged into the workspace's router.
pub(super) fn routes() -> axum::Router<Arc<Web>> {
    let state = Arc::new(DeriveState {
        running: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_UPLOADS)),
        previews: Mutex::new(Vec::new()),
    });
    let big = DefaultBodyLimit::max(MAX_UPLOAD_BYTES);
    axum::Router::new()
        .route("/contracts/{ledger}/{contract}/{year}/derived/{entry}", get(provenance_page))
        .route("/contracts/{ledger}/{contract}/{year}/derived/{entry}/recompute", post(recompute).layer(big))
        .route("/contracts/{ledger}/{contract}/{year}/derive", get(derive_form).post(derive_preview).layer(big))
        .route("/contracts/{ledger}/{contract}/{year}/derive/confirm", post(confirm))
        .layer(Extension(state))
}

/// The provenance page of figure `id` of `ledger`/`contract`/`year`.
pub fn provenance_href(ledger: &str, contract: &str, year: u16, id: &str) -> String {
    format!("/contracts/{ledger}/{contract}/{year}/derived/{id}")
}

/// The first 16 characters of a hash or id.
fn short(h: &str) -> &str {
    h.get(..16).unwrap_or(h)
}

/// The figures page's trace of one row: for a derived figure its file's
/// and its rules' blake3, and for every figure the entries that signed it (the source's
/// submission, each attestation), with a link to its provenance page.
pub(super) fn trace(tr: &Tr, ledger: &str, contract: &str, year: u16, row: &Value) -> Markup {
    let Some(id) = row["id"].as_str() else { return html! {} };
    let signed: Vec<(&str, &str)> = row["signed_by"]
        .as_object()
        .map(|m| m.iter().filter_map(|(p, e)| e.as_str().map(|e| (p.as_str(), e))).collect())
        .unwrap_or_default();
    html! {
        @if let Some(h) = row["derived_from"].as_str() {
            span.detail { (tr.t_args("web-fig-derived", &[("hash", Arg::from(short(h)))])) }
        }
        @if let Some(h) = row["rules_hash"].as_str() {
            span.detail { (tr.t_args("web-der-rules-short", &[("hash", Arg::from(short(h)))])) }
        }
        span.detail {
            (tr.t_args("web-der-entry", &[("entry", Arg::from(short(id)))]))
            @for (party, entry) in &signed {
                "; " (tr.t_args("web-der-signed", &[("party", Arg::from(*party)), ("entry", Arg::from(short(entry)))]))
            }
        }
        span.detail { a href=(provenance_href(ledger, contract, year, id)) { (tr.t("web-der-provenance-link")) } }
    }
}

/// Adds to each row of the figures page the blake3 of the rules its
/// figure was derived by (`rules_hash`), from the contract's measurements,
/// so the page shows it beside the file's (`measure list --json` stays as
/// it is).
pub(super) fn add_rules_hashes(measurements: &[Measurement], rows: &mut [Value]) {
    let by_id: std::collections::BTreeMap<&str, &str> = measurements
        .iter()
        .filter_map(|m| m.derivation.as_ref().map(|d| (m.id.as_str(), d.rules_hash.as_str())))
        .collect();
    for r in rows.iter_mut() {
        let hash = r["id"].as_str().and_then(|id| by_id.get(id)).map(|h| h.to_string());
        if let Some(h) = hash {
            r["rules_hash"] = Value::from(h);
        }
    }
}

/// The figures page's link to the derive form, for a signer.
pub(super) fn derive_link(tr: &Tr, ledger: &str, contract: &str, year: u16) -> Markup {
    html! { p { a href=(format!("/contracts/{ledger}/{contract}/{year}/derive")) { (tr.t("web-der-derive-link")) } } }
}

fn message(tr: &Tr, session: &Session, status: StatusCode, text: &str) -> Response<Body> {
    page_response(status, pages::message(tr, Some(session), text))
}

/// A figure's value for people, in the page's language.
fn shown(tr: &Tr, unit: &str, v: Decimal) -> String {
    if unit == "eur" {
        tr.money(v)
    } else {
        tr.number(v)
    }
}

/// The measurement `entry` (a full id) of `contract` in `year`, with its state.
fn figure_of(l: &Ledger, contract: &str, year: u16, entry: &str) -> Result<Option<Measurement>, String> {
    if EntryId::from_hex(entry).is_none() {
        return Ok(None);
    }
    let (_, ms) = pm::contract_state(l, contract).map_err(|e| e.to_string())?;
    Ok(ms.into_iter().find(|m| m.id == entry && m.year == year))
}

/// GET a figure's provenance page.
async fn provenance_page(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract, year, entry)): Path<(String, String, String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let Ok(year) = year.parse::<u16>() else {
        return message(&tr, &ctx.session, StatusCode::NOT_FOUND, &tr.t("web-not-found"));
    };
    let r = super::blocking(tr, move || {
        let (tr, session) = (&ctx.tr, &ctx.session);
        if !web.store.hosts(&ledger) {
            return message(tr, session, StatusCode::NOT_FOUND, &tr.t("web-not-found"));
        }
        match web.store.with_ledger(&ledger, |l| figure_of(l, &contract, year, &entry)) {
            Ok(Ok(Some(m))) => {
                let main = provenance_main(tr, &session.csrf, &ledger, &contract, year, &m);
                let title = tr.t_args(
                    "web-der-title",
                    &[("indicator", Arg::from(m.indicator.as_str())), ("period", Arg::from(m.period.as_str()))],
                );
                page_response(StatusCode::OK, pages::layout(tr, Some(session), &title, main))
            }
            Ok(Ok(None)) => message(tr, session, StatusCode::NOT_FOUND, &tr.t("web-not-found")),
            Ok(Err(why)) => message(tr, session, StatusCode::UNPROCESSABLE_ENTITY, &why),
            Err(e) => message(tr, session, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
    })
    .await;
    with_cookie(r, set_lang)
}

/// The rules recorded with a figure, as indented JSON.
fn rules_text(rules: &Value) -> String {
    serde_json::to_string_pretty(rules).unwrap_or_default()
}

fn provenance_main(tr: &Tr, csrf: &str, ledger: &str, contract: &str, year: u16, m: &Measurement) -> Markup {
    let figures = super::figures::figures_href(ledger, contract, year);
    let action = format!("{}/recompute", provenance_href(ledger, contract, year, &m.id));
    html! {
        p { a href=(figures) { (tr.t("web-der-back")) } }
        h1 { (tr.t_args("web-der-title", &[("indicator", Arg::from(m.indicator.as_str())), ("period", Arg::from(m.period.as_str()))])) }
        dl {
            dt { (tr.t("web-fig-col-value")) } dd { (shown(tr, &m.unit, m.value)) " " (m.unit) }
            dt { (tr.t("web-fig-col-source")) } dd { (m.source) }
            dt { (tr.t("web-col-state")) } dd { (tr.t(&format!("web-fig-state-{}", m.state.name()))) }
            dt { (tr.t("web-der-measurement")) } dd { a href=(super::entry::entry_href(ledger, &m.id)) { code { (m.id) } } }
        }
        table {
            caption { (tr.t("web-der-entries")) }
            thead { tr {
                th scope="col" { (tr.t("web-der-col-party")) }
                th scope="col" { (tr.t("web-der-col-as")) }
                th scope="col" { (tr.t("web-der-col-entry")) }
            } }
            tbody { @for (party, entry) in &m.signed_by { tr {
                th scope="row" { (party) }
                td { (tr.t(if *party == m.source { "web-der-as-source" } else { "web-der-as-attester" })) }
                td { a href=(super::entry::entry_href(ledger, entry)) { code { (entry) } } }
            } } }
        }
        @match &m.derivation {
            None => p { (tr.t("web-der-not-derived")) },
            Some(d) => {
                h2 { (tr.t("web-der-derivation")) }
                dl {
                    dt { (tr.t("web-der-file-hash")) } dd { code { (d.file_hash) } }
                    dt { (tr.t("web-der-rules-hash")) } dd { code { (d.rules_hash) } }
                    dt { (tr.t("web-der-metric")) } dd { (d.metric) }
                    dt { (tr.t("web-der-rows")) } dd { (tr.t_args("web-der-rows-counted", &[("read", Arg::from(d.rows_read)), ("counted", Arg::from(d.rows_counted))])) }
                }
                details {
                    summary { (tr.t("web-der-rules")) }
                    pre { (rules_text(&d.rules)) }
                }
                h2 { (tr.t("web-der-recompute")) }
                p { (tr.t("web-der-recompute-intro")) }
                form method="post" action=(action) enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(csrf);
                    p {
                        label for="claims" { (tr.t("web-der-claims-file")) } br;
                        input #claims type="file" name="claims" accept=".csv" required;
                    }
                    p.note { (tr.t_args("web-der-limits", &[("mib", Arg::from(MAX_CLAIMS_BYTES >> 20)), ("s", Arg::from(UPLOAD_TIME_LIMIT.as_secs()))])) }
                    p { button type="submit" { (tr.t("web-der-recompute")) } }
                }
            }
        }
    }
}

/// A file streamed to the node home, removed when dropped (on every path:
/// an answer, a refusal, a timeout, a client gone).
pub struct TempUpload {
    path: PathBuf,
}

impl TempUpload {
    /// Creates a new empty file with a random name in `HOME/web/uploads`.
    async fn create(home: &std::path::Path) -> std::io::Result<(TempUpload, tokio::fs::File)> {
        let dir = home.join(UPLOAD_DIR);
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{}.upload", session::random_token()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok((TempUpload { path }, file))
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What an upload form sent: the claims file (streamed to a temporary
/// file) with its name, and the rules text with its name.
#[derive(Default)]
struct Upload {
    claims: Option<(String, TempUpload)>,
    rules: Option<(String, String)>,
}

/// Why an upload was refused: the status and the words.
type Stop = (StatusCode, String);

/// Reads an upload form: the CSRF token first (checked before any file is
/// taken), then the files, each bounded.
async fn read_upload(tr: &Tr, web: &Web, csrf: &str, mut mp: Multipart) -> Result<Upload, Stop> {
    let refused = |r: Refused| match r {
        Refused::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            tr.t_args("web-der-too-large", &[("mib", Arg::from(MAX_CLAIMS_BYTES >> 20))]),
        ),
        Refused::Bad(why) => (StatusCode::BAD_REQUEST, why),
        Refused::Io(why) => (StatusCode::INTERNAL_SERVER_ERROR, why),
    };
    let mut u = Upload::default();
    let mut token_ok = false;
    for _ in 0..MAX_PARTS {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                if !token_ok {
                    return Err((StatusCode::FORBIDDEN, tr.t("web-csrf-refused")));
                }
                return Ok(u);
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(refused(Refused::TooLarge)),
            Err(e) => return Err((StatusCode::BAD_REQUEST, e.body_text())),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name: String = field.file_name().unwrap_or("").chars().take(200).collect();
        if name == "csrf" {
            let mut bytes = Vec::new();
            read_field(&mut field, 1024, &mut bytes).await.map_err(refused)?;
            token_ok = session::tokens_equal(csrf, &String::from_utf8_lossy(&bytes));
            continue;
        }
        if !token_ok {
            drop(field);
            drain(Some(mp)).await;
            return Err((StatusCode::FORBIDDEN, tr.t("web-csrf-refused")));
        }
        match name.as_str() {
            "claims" if u.claims.is_none() => {
                let (temp, mut file) = TempUpload::create(web.store.home().dir())
                    .await
                    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
                let n = read_field(&mut field, MAX_CLAIMS_BYTES, &mut file).await.map_err(refused)?;
                file.sync_all().await.map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
                if n > 0 || !file_name.is_empty() {
                    let shown = if file_name.is_empty() { "claims.csv".to_string() } else { file_name };
                    u.claims = Some((shown, temp));
                }
            }
            "rules" if u.rules.is_none() => {
                let mut bytes = Vec::new();
                read_field(&mut field, MAX_RULES_BYTES, &mut bytes).await.map_err(refused)?;
                let shown = if file_name.is_empty() { "rules.toml".to_string() } else { file_name };
                match String::from_utf8(bytes) {
                    Ok(text) => u.rules = Some((shown, text)),
                    Err(_) => {
                        return Err((
                            StatusCode::BAD_REQUEST,
                            tr.t_args("web-der-not-utf8", &[("file", Arg::from(shown))]),
                        ))
                    }
                }
            }
            _ => {
                let mut sink = tokio::io::sink();
                read_field(&mut field, 1024, &mut sink).await.map_err(refused)?;
            }
        }
    }
    Err((StatusCode::BAD_REQUEST, tr.t_args("web-model-too-many-fields", &[("max", Arg::from(MAX_PARTS))])))
}

/// Reads what is left of a refused upload and throws it away, at most
/// [`MAX_DRAIN_BYTES`] within [`DRAIN_TIME`]: nothing of it is kept.
async fn drain(mp: Option<Multipart>) {
    let Some(mut mp) = mp else { return };
    let work = async move {
        let mut left = MAX_DRAIN_BYTES;
        while let Ok(Some(mut f)) = mp.next_field().await {
            match read_field(&mut f, left, &mut tokio::io::sink()).await {
                Ok(n) => left -= n,
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, work).await;
}

/// Takes an upload slot (503 when all are taken) and reads the upload
/// within [`UPLOAD_TIME_LIMIT`] (408): the slot, the upload, the deadline.
async fn take_upload(
    tr: &Tr,
    web: &Web,
    state: &DeriveState,
    csrf: &str,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(tokio::sync::OwnedSemaphorePermit, Upload, tokio::time::Instant), Stop> {
    let mp = mp.map_err(|e| (e.status(), e.body_text()))?;
    let Ok(permit) = state.running.clone().try_acquire_owned() else {
        drain(Some(mp)).await;
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            tr.t_args("web-der-busy", &[("n", Arg::from(MAX_CONCURRENT_UPLOADS))]),
        ));
    };
    let deadline = tokio::time::Instant::now() + UPLOAD_TIME_LIMIT;
    match tokio::time::timeout_at(deadline, read_upload(tr, web, csrf, mp)).await {
        Ok(Ok(u)) => Ok((permit, u, deadline)),
        Ok(Err(stop)) => Err(stop),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            tr.t_args("web-der-too-slow", &[("s", Arg::from(UPLOAD_TIME_LIMIT.as_secs()))]),
        )),
    }
}

/// Runs `work` off the async threads until `deadline` (then 503; the work
/// finishes in the background holding its upload slot and its temporary
/// file, which go when it ends).
async fn run_until<T: Send + 'static>(
    tr: &Tr,
    deadline: tokio::time::Instant,
    work: impl FnOnce() -> Result<T, Stop> + Send + 'static,
) -> Result<T, Stop> {
    match tokio::time::timeout_at(deadline, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err((StatusCode::INTERNAL_SERVER_ERROR, tr.t("web-failed"))),
        Err(_) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            tr.t_args("web-der-too-slow", &[("s", Arg::from(UPLOAD_TIME_LIMIT.as_secs()))]),
        )),
    }
}

/// POST a claims file to recompute a derived figure: any role.
async fn recompute(
    State(web): State<Arc<Web>>,
    Extension(state): Extension<Arc<DeriveState>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract, year, entry)): Path<(String, String, String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ctx { tr, session, set_lang } = ctx;
    let Ok(year) = year.parse::<u16>() else {
        return message(&tr, &session, StatusCode::NOT_FOUND, &tr.t("web-not-found"));
    };
    let r = match recompute_page(&web, &state, &tr, &session, mp, (ledger, contract, year, entry)).await {
        Ok(page) => page_response(StatusCode::OK, page),
        Err((status, why)) => message(&tr, &session, status, &why),
    };
    with_cookie(r, set_lang)
}

async fn recompute_page(
    web: &Arc<Web>,
    state: &DeriveState,
    tr: &Tr,
    session: &Session,
    mp: Result<Multipart, MultipartRejection>,
    (ledger, contract, year, entry): (String, String, u16, String),
) -> Result<Markup, Stop> {
    if !web.store.hosts(&ledger) {
        drain(mp.ok()).await;
        return Err((StatusCode::NOT_FOUND, tr.t("web-not-found")));
    }
    let (permit, upload, deadline) = take_upload(tr, web, state, &session.csrf, mp).await?;
    let Some((name, claims)) = upload.claims else {
        return Err((StatusCode::BAD_REQUEST, tr.t("web-der-no-claims")));
    };
    let (web2, l2, c2, e2) = (web.clone(), ledger.clone(), contract.clone(), entry.clone());
    let lang = tr.lang();
    let found = run_until(tr, deadline, move || {
        let _permit = permit;
        let tr = Tr::new(lang);
        let plan = web2
            .store
            .with_ledger(&l2, |l| -> Result<_, Stop> {
                let gone = || (StatusCode::NOT_FOUND, tr.t("web-not-found"));
                figure_of(l, &c2, year, &e2).map_err(|w| (StatusCode::UNPROCESSABLE_ENTITY, w))?.ok_or_else(gone)?;
                let m = pm::find_measurement(l, &e2).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
                pm::recompute_plan(l, &m).map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
            })
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
        // The ledger is let go: the derivation reads only the file.
        let r = plan.run(&claims.path).map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()));
        drop(claims);
        r
    })
    .await?;
    Ok(recompute_main(tr, session, &ledger, &contract, year, &name, &found))
}

/// The answer of a recompute, what `vereffen measure recompute` prints,
/// in the page's language.
fn recompute_main(
    tr: &Tr,
    session: &Session,
    ledger: &str,
    contract: &str,
    year: u16,
    file: &str,
    r: &pm::Recomputed,
) -> Markup {
    let number = |v: &str| v.parse::<Decimal>().map(|d| tr.number(d)).unwrap_or_else(|_| v.to_string());
    let main = html! {
        p { a href=(provenance_href(ledger, contract, year, &r.measurement)) { (tr.t("web-der-back-provenance")) } }
        h1 { (tr.t_args("web-der-title", &[("indicator", Arg::from(r.indicator.as_str())), ("period", Arg::from(r.period.as_str()))])) }
        @if r.same_value {
            p.done role="status" id="verdict" { (tr.t("web-der-match")) }
        } @else {
            p.error role="alert" id="verdict" { (tr.t("web-der-different")) }
        }
        table {
            caption { (tr.t_args("web-der-recomputed-from", &[("file", Arg::from(file))])) }
            tbody {
                tr { th scope="row" { (tr.t("web-der-recorded")) } td class="num" id="recorded" { (number(&r.recorded)) } }
                tr { th scope="row" { (tr.t("web-der-recomputed")) } td class="num" id="recomputed" { (tr.number(r.recomputed)) } }
                @if let Ok(a) = r.recorded.parse::<Decimal>() {
                    @if a != r.recomputed {
                        tr { th scope="row" { (tr.t("web-der-difference")) } td class="num" id="difference" { (tr.number(r.recomputed - a)) } }
                    }
                }
            }
        }
        @if r.same_file {
            p id="file" { (tr.t_args("web-der-file-same", &[("hash", Arg::from(short(&r.recorded_file_hash)))])) }
        } @else {
            p.error id="file" { (tr.t_args("web-der-file-differs", &[
                ("recorded", Arg::from(short(&r.recorded_file_hash))),
                ("here", Arg::from(short(&r.file_hash))),
                ("recorded_rows", Arg::from(r.recorded_rows_read)),
                ("rows", Arg::from(r.rows_read)),
            ])) }
        }
    };
    pages::layout(tr, Some(session), &tr.t("web-der-recompute"), main)
}

/// GET the derive form of a contract year.
async fn derive_form(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract, year)): Path<(String, String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ctx { tr, session, set_lang } = ctx;
    let (Ok(year), true) = (year.parse::<u16>(), web.store.hosts(&ledger)) else {
        return message(&tr, &session, StatusCode::NOT_FOUND, &tr.t("web-not-found"));
    };
    let figures = super::figures::figures_href(&ledger, &contract, year);
    let title = tr.t_args(
        "web-der-derive-title",
        &[("contract", Arg::from(contract.as_str())), ("year", Arg::from(year.to_string()))],
    );
    let main = html! {
        p { a href=(figures) { (tr.t("web-der-back")) } }
        h1 { (title) }
        p { (tr.t("web-der-derive-intro")) }
        @if !act::may_sign(session.role) {
            p.note { (tr.t_args("web-act-not-signer", &[("role", Arg::from(session.role.name()))])) }
        } @else {
            form method="post" action=(format!("/contracts/{ledger}/{contract}/{year}/derive")) enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(session.csrf);
                p {
                    label for="rules" { (tr.t("web-der-rules-file")) } br;
                    input #rules type="file" name="rules" accept=".toml" required;
                }
                p {
                    label for="claims" { (tr.t("web-der-claims-file")) } br;
                    input #claims type="file" name="claims" accept=".csv" required;
                }
                p.note { (tr.t_args("web-der-limits", &[("mib", Arg::from(MAX_CLAIMS_BYTES >> 20)), ("s", Arg::from(UPLOAD_TIME_LIMIT.as_secs()))])) }
                p { button type="submit" { (tr.t("web-der-preview")) } }
            }
        }
    };
    with_cookie(page_response(StatusCode::OK, pages::layout(&tr, Some(&session), &title, main)), set_lang)
}

/// POST rules and claims: the preview of the figures they give, every
/// check of the submission made, nothing signed. Signers only.
async fn derive_preview(
    State(web): State<Arc<Web>>,
    Extension(state): Extension<Arc<DeriveState>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract, year)): Path<(String, String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Ctx { tr, session, set_lang } = ctx;
    let Ok(year) = year.parse::<u16>() else {
        return message(&tr, &session, StatusCode::NOT_FOUND, &tr.t("web-not-found"));
    };
    if session.role != Role::Signer {
        drain(mp.ok()).await;
        let why = tr.t_args("web-act-not-signer", &[("role", Arg::from(session.role.name()))]);
        return with_cookie(message(&tr, &session, StatusCode::FORBIDDEN, &why), set_lang);
    }
    let r = match preview(&web, &state, &tr, &session, mp, (ledger, contract, year)).await {
        Ok(page) => page_response(StatusCode::OK, page),
        Err((status, why)) => message(&tr, &session, status, &why),
    };
    with_cookie(r, set_lang)
}

async fn preview(
    web: &Arc<Web>,
    state: &Arc<DeriveState>,
    tr: &Tr,
    session: &Session,
    mp: Result<Multipart, MultipartRejection>,
    (ledger, contract, year): (String, String, u16),
) -> Result<Markup, Stop> {
    if !web.store.hosts(&ledger) {
        drain(mp.ok()).await;
        return Err((StatusCode::NOT_FOUND, tr.t("web-not-found")));
    }
    let (permit, upload, deadline) = take_upload(tr, web, state, &session.csrf, mp).await?;
    let (Some((claims_name, claims)), Some((rules_name, rules_text))) = (upload.claims, upload.rules) else {
        return Err((StatusCode::BAD_REQUEST, tr.t("web-der-no-files")));
    };
    let rules = Rules::parse(&rules_name, &rules_text).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let (web2, l2, c2) = (web.clone(), ledger.clone(), contract.clone());
    let (lang, origin) = (tr.lang(), format!("derived from {claims_name}"));
    let origin2 = origin.clone();
    let derived = run_until(tr, deadline, move || {
        let _permit = permit;
        let tr = Tr::new(lang);
        let bad = |e: anyhow::Error| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
        let indicators = web2
            .store
            .with_ledger(&l2, |l| -> Result<_, Stop> {
                if web2.store.key_for(l).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?.is_none() {
                    return Err((StatusCode::CONFLICT, tr.t("web-act-no-key")));
                }
                pm::derive_indicators(l, &c2, year).map_err(bad)
            })
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
        // The ledger is let go while the file is read.
        let derived = pm::derive_with(&indicators, &c2, &rules, &rules_name, &claims.path, year).map_err(bad)?;
        drop(claims);
        // Every check the submission makes, now: signed with the node's
        // key and thrown away (the confirmation signs again).
        web2.store
            .with_ledger(&l2, |l| -> Result<(), Stop> {
                let Some((key, party)) =
                    web2.store.key_for(l).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                else {
                    return Err((StatusCode::CONFLICT, tr.t("web-act-no-key")));
                };
                pm::submit_entries(l, &key, &party, &c2, &derived.rows, &origin2, Some(derived.derivations.clone()))
                    .map_err(bad)?;
                Ok(())
            })
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
        Ok(derived)
    })
    .await?;
    let id = session::random_token();
    let main = preview_main(tr, session, &ledger, &contract, year, &id, &claims_name, &rules_text, &derived);
    let kept = Preview { id, csrf: session.csrf.clone(), at: Instant::now(), ledger, contract, year, origin, derived };
    if let Ok(mut all) = state.previews.lock() {
        let now = Instant::now();
        all.retain(|p| now.duration_since(p.at) < PREVIEW_KEPT_FOR);
        if all.len() >= MAX_PREVIEWS {
            all.remove(0);
        }
        all.push(kept);
    }
    Ok(main)
}

#[allow(clippy::too_many_arguments)]
fn preview_main(
    tr: &Tr,
    session: &Session,
    ledger: &str,
    contract: &str,
    year: u16,
    id: &str,
    claims: &str,
    rules_text: &str,
    derived: &pm::Derived,
) -> Markup {
    let d = &derived.derivation;
    let title =
        tr.t_args("web-der-derive-title", &[("contract", Arg::from(contract)), ("year", Arg::from(year.to_string()))]);
    let main = html! {
        p { a href=(super::figures::figures_href(ledger, contract, year)) { (tr.t("web-der-back")) } }
        h1 { (title) }
        p { (tr.t_args("web-der-derived-from", &[
            ("file", Arg::from(claims)),
            ("read", Arg::from(d.rows_read)),
            ("counted", Arg::from(d.rows_counted)),
            ("outside_period", Arg::from(d.rows_outside_period)),
            ("outside_fence", Arg::from(d.rows_outside_fence)),
        ])) }
        table {
            caption { (tr.t_args("web-der-preview-caption", &[("n", Arg::from(derived.rows.len()))])) }
            thead { tr {
                th scope="col" { (tr.t("web-fig-col-indicator")) }
                th scope="col" { (tr.t("web-fig-col-period")) }
                th scope="col" class="num" { (tr.t("web-fig-col-value")) }
                th scope="col" { (tr.t("web-der-file-hash")) }
                th scope="col" { (tr.t("web-der-rules-hash")) }
            } }
            tbody { @for (r, m) in derived.rows.iter().zip(&derived.derivations) { tr {
                th scope="row" { (r.indicator) }
                td { (r.period) }
                td class="num" { (r.value.parse::<Decimal>().map(|v| tr.number(v)).unwrap_or_else(|_| r.value.clone())) }
                td { code { (short(&m.file_hash)) } }
                td { code { (short(&m.rules_hash)) } }
            } } }
        }
        details {
            summary { (tr.t("web-der-rules")) }
            pre { (rules_text) }
        }
        form method="post" action=(format!("/contracts/{ledger}/{contract}/{year}/derive/confirm")) {
            input type="hidden" name="preview" value=(id);
            (tr.t("web-der-confirm-intro")) " "
            (act::confirm_fields(tr, &session.csrf, &tr.t("web-der-confirm")))
        }
    };
    pages::layout(tr, Some(session), &tr.t("web-der-preview"), main)
}

/// The confirmation's fields.
#[derive(Debug, Default, Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    preview: String,
}

/// POST the confirmation of a preview: password, role, then the figures
/// kept are submitted with the node's key, as `measure derive` submits them.
async fn confirm(
    State(web): State<Arc<Web>>,
    Extension(state): Extension<Arc<DeriveState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, contract, year)): Path<(String, String, String)>,
    Form(mut form): Form<ConfirmForm>,
) -> Response<Body> {
    let back = match year.parse::<u16>() {
        Ok(y) => super::figures::figures_href(&ledger, &contract, y),
        Err(_) => "/contracts".to_string(),
    };
    let password = std::mem::take(&mut form.password);
    let who = match act::confirm(&web, &headers, peer, &q, &form.csrf, password, &back).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let tr = who.ctx.tr;
    let now = Instant::now();
    let kept = state.previews.lock().ok().and_then(|mut all| {
        let at = all.iter().position(|p| {
            p.id == form.preview
                && session::tokens_equal(&p.csrf, &who.ctx.session.csrf)
                && p.ledger == ledger
                && p.contract == contract
                && p.year.to_string() == year
                && now.duration_since(p.at) < PREVIEW_KEPT_FOR
        })?;
        Some(all.remove(at))
    });
    let action = Action { ledger, contract: contract.clone(), name: "derive", back };
    act::perform(web, who, action, move |l, key, party| {
        let Some(p) = kept else {
            return Err(Refusal(
                StatusCode::GONE,
                tr.t_args("web-der-preview-gone", &[("min", Arg::from(PREVIEW_KEPT_FOR.as_secs() / 60))]),
            ));
        };
        pm::submit_entries(l, key, party, &contract, &p.derived.rows, &p.origin, Some(p.derived.derivations))
            .map_err(Refusal::bad)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary upload is gone once dropped.
    #[test]
    fn temp_upload_is_removed_when_dropped() {
        let home = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (temp, file) = rt.block_on(TempUpload::create(home.path())).unwrap();
        drop(file);
        let path = temp.path.clone();
        assert!(path.exists() && path.starts_with(home.path().join(UPLOAD_DIR)));
        drop(temp);
        assert!(!path.exists());
    }

    /// The limits hold together: a whole upload fits in the body limit.
    #[test]
    fn limits() {
        assert!(MAX_UPLOAD_BYTES as u64 > MAX_CLAIMS_BYTES + MAX_RULES_BYTES);
        assert!(UPLOAD_TIME_LIMIT < crate::node::server::REQUEST_TIMEOUT);
    }
}
