//! The web workspace a node serves beside its API (issue 16): logins,
//! sessions and read-only pages (inbox, contracts, a year's statement) in
//! Dutch or English, server-rendered HTML without JavaScript.
//!
//! This layer sits above `node` and `present` and below the command line,
//! which builds [`router`] and hands it to `node::server::serve` as its
//! extra routes (`/v1/...` stays the API). It holds no settlement logic:
//! the pages call what `vereffen inbox`, `contract status` and `settle`
//! call (`audit::inbox`, `present::settle`, `present::document`).
//!
//! * [`users`]: `HOME/users.json`, names, roles, argon2id hashes;
//! * [`session`]: sessions in memory, CSRF tokens, the login rate limit;
//! * [`pages`]: the pages, rendered with maud (escapes every text);
//! * [`act`]: signing from the browser (password again, role, the log),
//!   [`figures`]: the figures page and its actions, [`cosign`]: co-signing
//!   a statement, [`signlog`]: the signature log.
//! * [`audit`]: the audit list and each copy's audit page (report and
//!   verification), readable by every role;
//! * [`cache`]: per-copy derived data kept by each copy's head, so a page
//!   over thousands of ledgers reads only the copies that changed.
//!
//! Every bound is a named constant: [`MAX_FORM_BYTES`],
//! [`FORM_READ_TIMEOUT`], [`MAX_CONCURRENT_LOGINS`] here, the session and
//! rate-limit bounds in [`session`]; the node's request timeout applies to
//! every page.

pub mod model;
pub mod negotiate;
// webaudit: the audit pages and the caches by head.
pub mod audit;
pub mod cache;
pub mod pages;
pub mod session;
pub mod users;
// webact: signing from the browser (figures, co-signing, the signature log).
pub mod act;
pub mod cosign;
pub mod figures;
pub mod signlog;
// drill: the signed entries behind a statement, and the entry page.
pub mod entry;
// weboffer: offering contract versions (propose, counter, amend, withdraw).
pub mod offer;
// webdiff: the negotiation as a timeline on the contract page (no routes of its own).
pub mod timeline;
// webderive: derived figures: provenance, recompute, derive and submit (derive.rs).
pub mod derive;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::node::store::Store;
use crate::present::lang::{Lang, Tr};
use session::{LoginLimiter, Session, Sessions, SESSION_COOKIE};
use users::Users;

/// Largest form body (login, logout): 16 KiB. Larger gets 413.
pub const MAX_FORM_BYTES: usize = 16 << 10;
/// Time a client has to send a form body once the head arrived. Then 408.
pub const FORM_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Password checks run at once (each argon2id check takes 19 MiB and tens
/// of milliseconds); further logins wait.
pub const MAX_CONCURRENT_LOGINS: usize = 4;
/// The cookie that remembers the language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "vereffen_lang";
/// The cookie of the login form's CSRF token (before there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "vereffen_login_csrf";

/// How the workspace is served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// The node serves TLS: cookies get `Secure`.
    pub tls: bool,
}

/// The state of the workspace.
struct Web {
    store: Arc<Store>,
    users: Users,
    sessions: Mutex<Sessions>,
    limiter: Mutex<LoginLimiter>,
    logins: tokio::sync::Semaphore,
    tls: bool,
    caches: cache::Caches,
}

/// The workspace's routes, for `node::server::ServeConfig::extra`.
pub fn router(store: Arc<Store>, config: WebConfig) -> axum::Router {
    let users = Users::of_home(store.home().dir());
    let caches = cache::Caches::of_home(store.home().dir());
    let web = Arc::new(Web {
        store,
        users,
        sessions: Mutex::new(Sessions::default()),
        limiter: Mutex::new(LoginLimiter::default()),
        logins: tokio::sync::Semaphore::new(MAX_CONCURRENT_LOGINS),
        tls: config.tls,
        caches,
    });
    axum::Router::new()
        .route("/", get(|| async { redirect("/inbox") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/inbox", get(inbox))
        .route("/contracts", get(contracts))
        .route("/contracts/{ledger}/{contract}", get(contract))
        .route("/contracts/{ledger}/{contract}/{year}", get(statement))
        .route("/contracts/{ledger}/{contract}/{year}/{file}", get(download))
        // webact: the figures page and its actions, co-signing, the signature log.
        .route("/contracts/{ledger}/{contract}/{year}/figures", get(figures::page))
        .route("/contracts/{ledger}/{contract}/{year}/figures/submit", post(figures::submit))
        .route("/contracts/{ledger}/{contract}/{year}/figures/attest", post(figures::attest))
        .route("/contracts/{ledger}/{contract}/{year}/figures/attest-all", post(figures::attest_all))
        .route("/contracts/{ledger}/{contract}/{year}/figures/dispute", post(figures::dispute))
        .route("/contracts/{ledger}/{contract}/{year}/figures/correct", post(figures::correct))
        .route("/contracts/{ledger}/{contract}/{year}/sign", post(cosign::sign))
        // browser2: accepting or rejecting a contract version from the contract page
        .route("/contracts/{ledger}/{contract}/decide", post(negotiate::decide))
        .route("/signatures", get(act::signatures_page))
        // webmodel: the model page, its results and their CSV downloads (model.rs)
        .merge(model::routes())
        // weboffer: propose, counter, amend (preview, then confirm) and withdraw (offer.rs)
        .merge(offer::routes())
        // webderive: a figure's provenance page, recomputing it from a claims file, deriving a year's figures.
        .merge(derive::routes())
        // webaudit: the audit list, a copy's audit page and its report files.
        // drill: every entry of a copy, readable by every role.
        .route("/ledgers/{ledger}/entries/{id}", get(entry::page))
        .route("/audit", get(audit::index))
        .route("/ledgers/{ledger}/audit", get(audit::page))
        .route("/ledgers/{ledger}/audit/{file}", get(audit::download))
        .route("/style.css", get(|| async { css() }))
        .fallback(|headers: HeaderMap, Query(q): Query<LangQuery>| async move {
            let tr = Tr::new(lang_of(&headers, &q).0);
            page_response(StatusCode::NOT_FOUND, pages::message(&tr, None, &tr.t("web-not-found")))
        })
        .with_state(web)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(FORM_READ_TIMEOUT))
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers on every workspace response: no scripts, no framing, no
/// caching of pages, no referrer.
async fn security_headers(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

fn css() -> Response<Body> {
    let mut r = Response::new(Body::from(pages::CSS));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    r
}

/// `?lang=en|nl` on any page.
#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The page language: `?lang=` (then also remembered: the second value is
/// the cookie to set), else the cookie, else English.
fn lang_of(headers: &HeaderMap, q: &LangQuery) -> (Lang, Option<String>) {
    if let Some(l) = q.lang.as_deref().and_then(|l| l.parse::<Lang>().ok()) {
        let set = format!("{LANG_COOKIE}={}; SameSite=Strict; Path=/; Max-Age=31536000", l.code());
        return (l, Some(set));
    }
    (cookie(headers, LANG_COOKIE).and_then(|l| l.parse::<Lang>().ok()).unwrap_or_default(), None)
}

fn redirect(to: &str) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn page_response(status: StatusCode, page: maud::Markup) -> Response<Body> {
    let mut r = Response::new(Body::from(page.into_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

fn with_cookie(mut r: Response<Body>, set: Option<String>) -> Response<Body> {
    if let Some(v) = set.and_then(|s| HeaderValue::from_str(&s).ok()) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

impl Web {
    /// The cookie attributes every session cookie carries.
    fn cookie_attrs(&self) -> &'static str {
        if self.tls {
            "HttpOnly; SameSite=Strict; Path=/; Secure"
        } else {
            "HttpOnly; SameSite=Strict; Path=/"
        }
    }

    /// The request's live session, if its user still exists with the same
    /// role (a user removed or changed while logged in is logged out).
    fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let s = self.sessions.lock().ok()?.get(id, Instant::now())?;
        let users = self.users.list().ok()?;
        if !users.iter().any(|u| u.name == s.user && u.role == s.role) {
            if let Ok(mut all) = self.sessions.lock() {
                all.end_user(&s.user);
            }
            return None;
        }
        Some((id.to_string(), s))
    }
}

/// What every signed-in page gets: the translator, the session and the
/// language cookie to set.
struct Ctx {
    tr: Tr,
    session: Session,
    set_lang: Option<String>,
}

/// The signed-in context, or the redirect to the login page.
fn signed_in(web: &Web, headers: &HeaderMap, q: &LangQuery) -> Result<Ctx, Box<Response<Body>>> {
    let (lang, set_lang) = lang_of(headers, q);
    match web.session(headers) {
        Some((_, session)) => Ok(Ctx { tr: Tr::new(lang), session, set_lang }),
        None => Err(Box::new(with_cookie(redirect("/login"), set_lang))),
    }
}

/// Runs ledger work off the async threads; a failed task is a 500 page.
async fn blocking(tr: Tr, f: impl FnOnce() -> Response<Body> + Send + 'static) -> Response<Body> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(&tr, None, &tr.t("web-failed"))),
    }
}

async fn login_page(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response<Body> {
    let (lang, set_lang) = lang_of(&headers, &q);
    let tr = Tr::new(lang);
    login_form(&tr, StatusCode::OK, None, set_lang)
}

/// The login form with a fresh CSRF token (double submit: cookie and field).
fn login_form(tr: &Tr, status: StatusCode, error: Option<&str>, set_lang: Option<String>) -> Response<Body> {
    let token = session::random_token();
    let r = page_response(status, pages::login(tr, &token, error));
    let r = with_cookie(r, Some(format!("{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login")));
    with_cookie(r, set_lang)
}

/// The login form's fields.
#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(form): Form<LoginForm>,
) -> Response<Body> {
    let (lang, set_lang) = lang_of(&headers, &q);
    let tr = Tr::new(lang);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !session::tokens_equal(expected, &form.csrf) {
        return page_response(StatusCode::FORBIDDEN, pages::message(&tr, None, &tr.t("web-csrf-refused")));
    }
    // Names that cannot be user names share one counter, so the limiter
    // keeps at most MAX_LIMITER_KEYS short keys whatever is posted.
    let limit_key = if users::is_valid_name(&form.user) { form.user.as_str() } else { "" };
    let now = Instant::now();
    let allowed = web.limiter.lock().map(|mut l| l.allowed(limit_key, peer.ip(), now)).unwrap_or(false);
    if !allowed {
        return login_form(&tr, StatusCode::TOO_MANY_REQUESTS, Some(&tr.t("web-login-too-many")), set_lang);
    }
    let Ok(_permit) = web.logins.acquire().await else {
        return login_form(&tr, StatusCode::SERVICE_UNAVAILABLE, Some(&tr.t("web-failed")), set_lang);
    };
    let users = web.users.clone();
    let (name, password) = (form.user.clone(), zeroize::Zeroizing::new(form.password.into_bytes()));
    let checked = tokio::task::spawn_blocking(move || users.check(&name, &password)).await;
    let user = match checked {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => {
            eprintln!("web: cannot read the users: {e}");
            return login_form(&tr, StatusCode::INTERNAL_SERVER_ERROR, Some(&tr.t("web-failed")), set_lang);
        }
        Err(_) => return login_form(&tr, StatusCode::INTERNAL_SERVER_ERROR, Some(&tr.t("web-failed")), set_lang),
    };
    let Some(user) = user else {
        if let Ok(mut l) = web.limiter.lock() {
            l.failed(limit_key, peer.ip(), Instant::now());
        }
        return login_form(&tr, StatusCode::UNAUTHORIZED, Some(&tr.t("web-login-wrong")), set_lang);
    };
    if let Ok(mut l) = web.limiter.lock() {
        l.succeeded(&user.name);
    }
    let Ok(id) = web.sessions.lock().map(|mut s| s.start(&user.name, user.role, Instant::now())) else {
        return login_form(&tr, StatusCode::INTERNAL_SERVER_ERROR, Some(&tr.t("web-failed")), set_lang);
    };
    let r = with_cookie(redirect("/inbox"), Some(format!("{SESSION_COOKIE}={id}; {}", web.cookie_attrs())));
    let r = with_cookie(r, Some(format!("{LOGIN_CSRF_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0")));
    with_cookie(r, set_lang)
}

/// A form that carries only the session's CSRF token.
#[derive(Debug, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(form): Form<CsrfForm>,
) -> Response<Body> {
    let tr = Tr::new(lang_of(&headers, &q).0);
    let Some((id, s)) = web.session(&headers) else { return redirect("/login") };
    if !session::tokens_equal(&s.csrf, &form.csrf) {
        return page_response(StatusCode::FORBIDDEN, pages::message(&tr, Some(&s), &tr.t("web-csrf-refused")));
    }
    if let Ok(mut all) = web.sessions.lock() {
        all.end(&id);
    }
    with_cookie(redirect("/login"), Some(format!("{SESSION_COOKIE}=; {}; Max-Age=0", web.cookie_attrs())))
}

async fn inbox(State(web): State<Arc<Web>>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let r = blocking(tr, move || {
        let home = web.store.home().dir().to_path_buf();
        let items =
            crate::audit::inbox::home_keys(&home).and_then(|keys| crate::audit::inbox::home_inbox(&home, &keys));
        match items {
            Ok(items) => page_response(StatusCode::OK, pages::inbox(&ctx.tr, &ctx.session, &items)),
            Err(e) => page_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::message(&ctx.tr, Some(&ctx.session), &e.to_string()),
            ),
        }
    })
    .await;
    with_cookie(r, set_lang)
}

async fn contracts(State(web): State<Arc<Web>>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let r = blocking(tr, move || match cache::contract_rows(&web.store, &web.caches) {
        Ok(rows) => page_response(StatusCode::OK, pages::contracts(&ctx.tr, &ctx.session, &rows)),
        Err(e) => page_response(StatusCode::INTERNAL_SERVER_ERROR, pages::message(&ctx.tr, Some(&ctx.session), &e)),
    })
    .await;
    with_cookie(r, set_lang)
}

async fn contract(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Query(d): Query<negotiate::DoneQuery>,
    Path((ledger, id)): Path<(String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let done = act::done_note(&tr, d.done.as_deref());
    let r = blocking(tr, move || pages::contract_page(&web.store, &ctx.tr, &ctx.session, &ledger, &id, done)).await;
    with_cookie(r, set_lang)
}

async fn statement(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Query(d): Query<negotiate::DoneQuery>,
    Path((ledger, id, year)): Path<(String, String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let Ok(year) = year.parse::<u16>() else {
        return page_response(StatusCode::NOT_FOUND, pages::message(&tr, Some(&ctx.session), &tr.t("web-not-found")));
    };
    let done = act::done_note(&tr, d.done.as_deref());
    let r =
        blocking(tr, move || pages::statement_page(&web.store, &ctx.tr, &ctx.session, &ledger, &id, year, done)).await;
    with_cookie(r, set_lang)
}

async fn download(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, id, year, file)): Path<(String, String, String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let (Ok(year), Some(format)) = (year.parse::<u16>(), pages::download_format(&file)) else {
        return page_response(StatusCode::NOT_FOUND, pages::message(&tr, Some(&ctx.session), &tr.t("web-not-found")));
    };
    blocking(tr, move || pages::download(&web.store, &ctx.tr, &ctx.session, &ledger, &id, year, format)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_language() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; vereffen_lang=nl"));
        h.append(header::COOKIE, HeaderValue::from_static("vereffen_session=abc"));
        assert_eq!(cookie(&h, "vereffen_session"), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(lang_of(&h, &LangQuery::default()), (Lang::Nl, None));
        let (l, set) = lang_of(&h, &LangQuery { lang: Some("en".into()) });
        assert_eq!(l, Lang::En);
        assert!(set.unwrap().starts_with("vereffen_lang=en;"));
    }
}
