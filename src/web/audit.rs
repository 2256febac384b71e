//! The audit pages: every copy the node holds with its anomaly count and
//! last checkpoint (`/audit`), and per copy (`/ledgers/{ledger}/audit`) the
//! audit report that `vereffen audit report` computes (anomalies first,
//! then parties and keys, contracts, measurements, settlements replayed
//! from their signed inputs, checkpoints with their cosignatures,
//! equivocation evidence) with what `vereffen verify` checks of the copy
//! (chain, ids, signatures, key validity, references, a torn tail),
//! read-only. The report's downloads (`report.html`, `report.json`) are the
//! bytes `audit report` writes.
//!
//! The page holds no audit logic and no wording of its own for the report:
//! it shows [`crate::present::report_html::body`] (the report file's own
//! content, whose text it escapes) and calls
//! [`crate::node::verify::check_copy`] as `vereffen verify` does.
//!
//! # Who reads the audit pages
//!
//! Every role: `viewer`, `signer` and `auditor`. A finance viewer reads the
//! statements the audit replays, and an auditor reads everything a viewer
//! reads (inbox, contracts, statements, figures) and the audit pages. The
//! audit pages are GET only and change nothing; signing (any POST that
//! signs or submits) is for the `signer` role alone, so an auditor's
//! login can read the whole workspace and never sign.
//!
//! Each copy's report and verification are computed once per head
//! ([`super::cache`]): a page is read from memory until the copy changes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use maud::{html, Markup, PreEscaped};
use serde::{Deserialize, Serialize};

use super::pages::{layout, message};
use super::session::Session;
use super::{blocking, page_response, signed_in, with_cookie, LangQuery, Web};
use crate::audit::report::{self, Report};
use crate::node::store::Store;
use crate::present::lang::{Arg, Tr};

/// The link to a copy's audit page.
pub fn audit_href(ledger: &str) -> String {
    format!("/ledgers/{ledger}/audit")
}

/// A copy's latest checkpoint, for the audit list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheckpoint {
    /// The copy that signed it (`vereffen/<ledger>/<party>`).
    pub origin: String,
    /// Its tree size.
    pub size: u64,
    /// Witnesses that cosigned it.
    pub cosignatures: usize,
}

/// One copy in the audit list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// The ledger.
    pub ledger: String,
    /// Entries in the copy.
    pub entries: u64,
    /// Anomalies the report finds.
    pub anomalies: usize,
    /// Equivocations among them.
    pub equivocations: usize,
    /// The largest checkpoint recorded (of any copy), if any.
    pub checkpoint: Option<LastCheckpoint>,
}

impl AuditRow {
    /// The row of a copy's report.
    pub fn of(r: &Report) -> AuditRow {
        let latest = r.checkpoints.iter().max_by(|a, b| a.size.cmp(&b.size).then_with(|| b.origin.cmp(&a.origin)));
        AuditRow {
            ledger: r.ledger.clone(),
            entries: r.entries,
            anomalies: r.anomalies.len(),
            equivocations: r.equivocations.len(),
            checkpoint: latest.map(|c| LastCheckpoint {
                origin: c.origin.clone(),
                size: c.size,
                cosignatures: c.cosignatures.len(),
            }),
        }
    }
}

/// What `vereffen verify` found of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The journal verified; the checks after it found `problems` (none: OK).
    Checked {
        /// Entries checked.
        entries: u64,
        /// Signatures checked.
        signatures: u64,
        /// Statements recomputed from their signed inputs.
        settlements_replayed: u64,
        /// Problems after the pass (reference English, as `verify` prints them).
        problems: Vec<String>,
        /// Settlement conflicts.
        conflicts: Vec<String>,
        /// The torn tail in words.
        torn: Option<String>,
        /// Void entries, as `verify` words its warnings.
        void: Vec<String>,
    },
    /// The journal fails at this record (reference English).
    Failed(String),
    /// The copy could not be read.
    CannotCheck(String),
}

impl Verification {
    /// Checks the copy in `dir` as `vereffen verify` does.
    pub fn of_copy(dir: &std::path::Path) -> Verification {
        match crate::node::verify::check_copy(dir, false, |_| {}) {
            Err(e) => Verification::CannotCheck(e.to_string()),
            Ok(Err(f)) => Verification::Failed(f.to_string()),
            Ok(Ok(c)) => Verification::Checked {
                entries: c.summary.entries,
                signatures: c.summary.signatures,
                settlements_replayed: c.settlements_replayed,
                void: c
                    .summary
                    .void
                    .iter()
                    .map(|v| {
                        format!(
                            "entry {} is void: signed with key {}, ended by entry {} which does not have it in its causal past; it counts for nothing (FORMAT.md 4.3)",
                            v.id.short(),
                            v.key.fingerprint(),
                            v.ending.short()
                        )
                    })
                    .collect(),
                problems: c.problems,
                conflicts: c.conflicts,
                torn: c.torn,
            },
        }
    }

    /// True when the copy verified without a problem.
    pub fn ok(&self) -> bool {
        matches!(self, Verification::Checked { problems, .. } if problems.is_empty())
    }
}

/// A copy's audit page data: its report and its verification.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditData {
    /// `audit::report::build` of the copy.
    pub report: Report,
    /// What `verify` found.
    pub verification: Verification,
}

/// The audit data of the copy `ledger`, through the cache.
fn audit_data(web: &Web, ledger: &str) -> Result<Arc<AuditData>, String> {
    let dir = web.store.home().ledger_dir(ledger);
    web.caches.audit_pages.get(ledger, &dir, || {
        // Verified first: the report then reads at least what was verified.
        let verification = Verification::of_copy(&dir);
        let report = web.store.with_ledger(ledger, |l| report::build(l)).map_err(|e| e.to_string())?;
        let report = report.map_err(|e| e.to_string())?;
        Ok(Arc::new(AuditData { report, verification }))
    })
}

/// A row of the audit list, or the ledger that could not be read and why.
pub type AuditListRow = Result<AuditRow, (String, String)>;

/// The audit list's rows: every hosted copy, each read only when its head moved.
/// A copy that cannot be read is listed with the reason.
pub fn audit_rows(store: &Store, caches: &super::cache::Caches) -> Result<Vec<AuditListRow>, String> {
    let ids = store.home().ledger_ids().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for id in ids.iter().filter(|id| store.hosts(id)) {
        let dir = store.home().ledger_dir(id);
        let row = caches.audit_rows.get_stored(id, &dir, || match store.with_ledger(id, |l| report::build(l)) {
            Ok(Ok(r)) => Ok(AuditRow::of(&r)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        });
        rows.push(row.map_err(|e| (id.clone(), e)));
    }
    Ok(rows)
}

fn checkpoint_words(tr: &Tr, c: &Option<LastCheckpoint>) -> String {
    match c {
        None => tr.t("web-audit-no-checkpoint"),
        Some(c) => tr.t_args(
            "web-audit-checkpoint",
            &[
                ("origin", Arg::from(c.origin.as_str())),
                ("size", Arg::from(tr.number(rust_decimal::Decimal::from(c.size)))),
                ("n", Arg::Count(c.cosignatures as u64)),
            ],
        ),
    }
}

/// The audit list page.
pub fn index_page(tr: &Tr, session: &Session, rows: &[AuditListRow]) -> Markup {
    layout(
        tr,
        Some(session),
        &tr.t("web-audit"),
        html! {
            h1 { (tr.t("web-audit")) }
            nav aria-label=(tr.t("web-audit")) {
                p { a href="/signatures" { (tr.t("web-audit-signatures")) } }
            }
            p.note { (tr.t("web-audit-roles")) }
            @if rows.is_empty() {
                p { (tr.t("web-audit-none")) }
            } @else {
                table {
                    caption { (tr.t_args("web-audit-caption", &[("n", Arg::from(rows.len()))])) }
                    thead { tr {
                        th scope="col" { (tr.t("web-col-ledger")) }
                        th scope="col" class="num" { (tr.t("web-col-entries")) }
                        th scope="col" class="num" { (tr.t("web-col-anomalies")) }
                        th scope="col" { (tr.t("web-col-last-checkpoint")) }
                    } }
                    tbody {
                        @for r in rows {
                            @match r {
                                Ok(r) => tr {
                                    th scope="row" { a href=(audit_href(&r.ledger)) { (r.ledger) } }
                                    td.num { (tr.number(rust_decimal::Decimal::from(r.entries))) }
                                    td.num { (r.anomalies) }
                                    td { (checkpoint_words(tr, &r.checkpoint)) }
                                },
                                Err((ledger, why)) => tr {
                                    th scope="row" { a href=(audit_href(ledger)) { (ledger) } }
                                    td colspan="3" { span.error { (why) } }
                                },
                            }
                        }
                    }
                }
            }
        },
    )
}

fn verification_section(tr: &Tr, v: &Verification) -> Markup {
    html! {
        section #verification {
            h2 { (tr.t("web-verify")) }
            @match v {
                Verification::CannotCheck(why) => p.error { (tr.t("web-verify-cannot")) ": " (why) },
                Verification::Failed(at) => p.error { (tr.t("web-verify-failed")) ": " (at) },
                Verification::Checked { entries, signatures, settlements_replayed, problems, conflicts, torn, void } => {
                    @if problems.is_empty() {
                        p { strong { (tr.t("web-verify-ok")) } }
                    } @else {
                        p.error { (tr.t("web-verify-failed")) }
                        ul { @for p in problems { li { (p) } } }
                    }
                    dl {
                        dt { (tr.t("web-col-entries")) } dd { (tr.number(rust_decimal::Decimal::from(*entries))) }
                        dt { (tr.t("web-verify-signatures")) } dd { (tr.number(rust_decimal::Decimal::from(*signatures))) }
                        dt { (tr.t("web-verify-replayed")) } dd { (tr.number(rust_decimal::Decimal::from(*settlements_replayed))) }
                        @if let Some(t) = torn { dt { (tr.t("web-verify-torn")) } dd { (t) } }
                    }
                    @if !conflicts.is_empty() {
                        h3 { (tr.t("web-verify-conflicts")) }
                        ul { @for c in conflicts { li { (c) } } }
                    }
                    @if !void.is_empty() {
                        h3 { (tr.t("web-verify-void")) }
                        ul { @for w in void { li { (w) } } }
                    }
                }
            }
        }
    }
}

/// The audit page of one copy: the verification's verdict and the
/// downloads, the report (anomalies first), the verification in full.
pub fn audit_page(tr: &Tr, session: &Session, ledger: &str, data: &AuditData) -> Markup {
    let base = audit_href(ledger);
    let lang = tr.lang().code();
    let verdict = match &data.verification {
        v if v.ok() => tr.t("web-verify-ok"),
        Verification::Checked { .. } | Verification::Failed(_) => tr.t("web-verify-failed"),
        Verification::CannotCheck(_) => tr.t("web-verify-cannot"),
    };
    layout(
        tr,
        Some(session),
        &tr.t_args("report-doc-title", &[("ledger", Arg::from(ledger))]),
        html! {
            p role="status" class=(if data.verification.ok() { "" } else { "error" }) {
                (tr.t("web-verify")) ": " a href="#verification" { (verdict) }
            }
            nav aria-label=(tr.t("web-downloads")) {
                (tr.t("web-downloads")) ": "
                a href=(format!("{base}/report.html?lang={lang}")) download { "HTML" } " · "
                a href=(format!("{base}/report.json")) download { "JSON" } " · "
                a href="/audit" { (tr.t("web-audit")) }
            }
            // The report's own content: its text is escaped by report_html.
            div.report { (PreEscaped(crate::present::report_html::body(&data.report, tr))) }
            (verification_section(tr, &data.verification))
        },
    )
}

/// `GET /audit`.
pub(super) async fn index(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let r = blocking(tr, move || match audit_rows(&web.store, &web.caches) {
        Ok(rows) => page_response(StatusCode::OK, index_page(&ctx.tr, &ctx.session, &rows)),
        Err(e) => page_response(StatusCode::INTERNAL_SERVER_ERROR, message(&ctx.tr, Some(&ctx.session), &e)),
    })
    .await;
    with_cookie(r, set_lang)
}

/// `GET /ledgers/{ledger}/audit`.
pub(super) async fn page(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path(ledger): Path<String>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (tr, set_lang) = (ctx.tr, ctx.set_lang.clone());
    let r = blocking(tr, move || {
        if !web.store.hosts(&ledger) {
            return page_response(
                StatusCode::NOT_FOUND,
                message(&ctx.tr, Some(&ctx.session), &ctx.tr.t("web-not-found")),
            );
        }
        match audit_data(&web, &ledger) {
            Ok(d) => page_response(StatusCode::OK, audit_page(&ctx.tr, &ctx.session, &ledger, &d)),
            Err(e) => page_response(StatusCode::INTERNAL_SERVER_ERROR, message(&ctx.tr, Some(&ctx.session), &e)),
        }
    })
    .await;
    with_cookie(r, set_lang)
}

/// `GET /ledgers/{ledger}/audit/report.html|report.json`: the bytes
/// `vereffen audit report --format html|json` writes (HTML in the page's
/// language).
pub(super) async fn download(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((ledger, file)): Path<(String, String)>,
) -> Response<Body> {
    let ctx = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let html = match file.as_str() {
        "report.html" => true,
        "report.json" => false,
        _ => return page_response(StatusCode::NOT_FOUND, message(&tr, Some(&ctx.session), &tr.t("web-not-found"))),
    };
    blocking(tr, move || {
        if !web.store.hosts(&ledger) {
            return page_response(
                StatusCode::NOT_FOUND,
                message(&ctx.tr, Some(&ctx.session), &ctx.tr.t("web-not-found")),
            );
        }
        let data = match audit_data(&web, &ledger) {
            Ok(d) => d,
            Err(e) => {
                return page_response(StatusCode::INTERNAL_SERVER_ERROR, message(&ctx.tr, Some(&ctx.session), &e))
            }
        };
        let (bytes, mime, ext) = if html {
            (crate::present::report_html::render(&data.report, &ctx.tr), "text/html; charset=utf-8", "html")
        } else {
            (report::to_json(&data.report), "application/json", "json")
        };
        let mut r = Response::new(Body::from(bytes));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        // Ledger ids are `[a-z0-9-]` names (`store.hosts` checked it): no quoting needed.
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"audit-{ledger}.{ext}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        r
    })
    .await
}
