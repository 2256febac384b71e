//! The workspace's pages, rendered with maud: every text from a ledger
//! (names, titles, notes) goes in as a value and is escaped; no page holds
//! a script. Tables are `<table>` with a caption and `<th scope>` so a
//! screen reader reads a statement row by row; every page starts with a
//! skip link to its main content.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use maud::{html, Markup, DOCTYPE};

use super::page_response;
use super::session::Session;
use crate::audit::inbox::InboxItem;
use crate::domain::negotiation as neg;
use crate::domain::settlement::cosign::{ContractView, YearSettlement};
use crate::ledger::Ledger;
use crate::node::store::{Store, StoreError};
use crate::present::document::{self, Block, Doc};
use crate::present::lang::{Arg, Tr};
use crate::present::settle::{self as psettle, Format};

/// The workspace's style sheet (served as `/style.css`).
pub const CSS: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.4}\n\
.skip{position:absolute;left:-999px}.skip:focus{left:1em;top:1em;background:#fff;padding:.5em;z-index:1}\n\
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.5em;background:#0b3d5c;color:#fff;flex-wrap:wrap}\n\
header a{color:#fff}header form{margin:0}main{padding:1em 1.5em;max-width:75em}\n\
table{border-collapse:collapse;margin:.5em 0 1.5em}caption{text-align:left;font-weight:600;padding:.3em 0}\n\
th,td{border-bottom:1px solid #ccc;padding:.3em .7em;text-align:left;vertical-align:top}\n\
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n\
.detail{display:block;font-weight:normal;color:#555;font-size:.9em}.note{color:#555;font-size:.9em}\n\
.error{color:#9b1c1c;font-weight:600}.draft{color:#9b1c1c;font-weight:600}\n\
pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}\n\
a:focus,button:focus,input:focus{outline:3px solid #f5a623}\n";

/// A page in the workspace's frame: skip link, header (navigation,
/// language switch, user and logout when signed in), main content.
pub(super) fn layout(tr: &Tr, session: Option<&Session>, title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(tr.lang().code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — vereffen" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                a.skip href="#main" { (tr.t("web-skip")) }
                header {
                    strong { "vereffen" }
                    @if session.is_some() {
                        nav aria-label=(tr.t("web-nav")) {
                            a href="/inbox" { (tr.t("web-inbox")) } " · "
                            a href="/contracts" { (tr.t("web-contracts")) }
                            @if session.is_some_and(|s| s.role != super::users::Role::Viewer) { " · " a href="/signatures" { (tr.t("web-sig-title")) } } // webact
                            " · " a href="/model" { (tr.t("web-model")) }
                            " · " a href="/audit" { (tr.t("web-audit")) }
                        }
                    }
                    span {
                        a href="?lang=nl" lang="nl" { "Nederlands" } " · "
                        a href="?lang=en" lang="en" { "English" }
                    }
                    @if let Some(s) = session {
                        span { (tr.t_args("web-signed-in-as", &[("user", Arg::from(s.user.as_str())), ("role", Arg::from(s.role.name()))])) }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { (tr.t("web-logout")) }
                        }
                    }
                }
                main #main { (main) }
            }
        }
    }
}

/// A page with one message (an error, a refusal).
pub fn message(tr: &Tr, session: Option<&Session>, text: &str) -> Markup {
    layout(tr, session, &tr.t("web-message"), html! { p.error role="alert" { (text) } })
}

/// The login page; `token` is the login form's CSRF token.
pub fn login(tr: &Tr, token: &str, error: Option<&str>) -> Markup {
    layout(
        tr,
        None,
        &tr.t("web-login"),
        html! {
            h1 { (tr.t("web-login")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                p { label for="user" { (tr.t("web-user")) } br; input #user type="text" name="user" autocomplete="username" required; }
                p { label for="password" { (tr.t("web-password")) } br; input #password type="password" name="password" autocomplete="current-password" required; }
                p { button type="submit" { (tr.t("web-login")) } }
            }
        },
    )
}

/// The link to a contract's page.
fn contract_href(ledger: &str, contract: &str) -> String {
    format!("/contracts/{ledger}/{contract}")
}

/// The inbox: every item awaiting the node's parties, worded as `vereffen
/// inbox` words it, each linking to its contract (or year).
pub fn inbox(tr: &Tr, session: &Session, items: &[InboxItem]) -> Markup {
    layout(
        tr,
        Some(session),
        &tr.t("web-inbox"),
        html! {
            h1 { (tr.t("web-inbox")) }
            @if items.is_empty() {
                p { (tr.t("web-inbox-empty")) }
            } @else {
                table {
                    caption { (tr.t_args("web-inbox-caption", &[("n", Arg::from(items.len()))])) }
                    thead { tr {
                        th scope="col" { (tr.t("web-col-what")) }
                        th scope="col" { (tr.t("web-col-ledger")) }
                        th scope="col" { (tr.t("web-col-contract")) }
                        th scope="col" { (tr.t("web-col-year")) }
                        th scope="col" { (tr.t("web-col-party")) }
                    } }
                    tbody {
                        @for item in items {
                            @let at = item.place();
                            tr {
                                th scope="row" { @match super::figures::act_href(item) { // webact: where it is acted on
                                    Some(h) => a href=(h) { (crate::present::inbox::describe_in(tr, item)) },
                                    None => (crate::present::inbox::describe_in(tr, item)),
                                } }
                                td { (at.ledger) }
                                td { @if let Some(c) = &at.contract { a href=(contract_href(&at.ledger, c)) { (c) } } }
                                td { @if let (Some(c), Some(y)) = (&at.contract, at.year) {
                                    a href=(format!("{}/{y}", contract_href(&at.ledger, c))) { (y) }
                                } }
                                td { (at.party.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One contract in the list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContractRow {
    /// The ledger it is on.
    pub ledger: String,
    /// Its id.
    pub contract: String,
    /// The title of its latest version.
    pub title: String,
    /// Its parties' names (of the latest version).
    pub parties: Vec<String>,
    /// In force (`Some(version)`), negotiating (`None`), or in conflict.
    pub state: ContractState,
}

/// Where a contract's negotiation stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ContractState {
    /// A version is in force (its hash).
    InForce(String),
    /// No version is agreed yet.
    Negotiating,
    /// Conflicts keep versions out of force.
    Conflict,
}

fn state_of(st: &neg::ContractStatus) -> ContractState {
    if !st.conflicts.is_empty() {
        ContractState::Conflict
    } else if let Some(v) = st.latest_in_force() {
        ContractState::InForce(v.version.clone())
    } else {
        ContractState::Negotiating
    }
}

fn store_error(e: StoreError) -> String {
    e.to_string()
}

/// The contracts of one copy, as `vereffen contract list` finds them.
pub fn contracts_of(ledger_id: &str, l: &mut Ledger) -> Result<Vec<ContractRow>, String> {
    let mut ids = std::collections::BTreeSet::new();
    let ix = l.index().by_kind(neg::KIND_PROPOSE).map_err(|e| e.to_string())?;
    for (_, e) in l.load(&ix).map_err(|e| e.to_string())? {
        if let Some(c) = e.contract() {
            ids.insert(c.to_string());
        }
    }
    let mut rows = Vec::new();
    for id in ids {
        let st = neg::status(&id, &l.contract_entries(&id).map_err(|e| e.to_string())?);
        let latest = st.latest_in_force().or_else(|| st.versions.values().next());
        rows.push(ContractRow {
            ledger: ledger_id.to_string(),
            contract: id.clone(),
            title: latest.map(|v| v.terms.title.clone()).unwrap_or_default(),
            parties: latest.map(|v| v.terms.parties.iter().map(|p| p.name.clone()).collect()).unwrap_or_default(),
            state: state_of(&st),
        });
    }
    Ok(rows)
}

/// Every contract on every copy the node holds, by ledger and id.
pub fn contract_rows(store: &Store) -> Result<Vec<ContractRow>, String> {
    let ids = store.home().ledger_ids().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for id in ids.iter().filter(|id| store.hosts(id)) {
        rows.extend(store.with_ledger(id, |l| contracts_of(id, l)).map_err(store_error)??);
    }
    Ok(rows)
}

fn state_words(tr: &Tr, s: &ContractState) -> String {
    match s {
        ContractState::InForce(v) => tr.t_args("web-state-in-force", &[("version", Arg::from(short(v)))]),
        ContractState::Negotiating => tr.t("web-state-negotiating"),
        ContractState::Conflict => tr.t("web-state-conflict"),
    }
}

fn short(h: &str) -> &str {
    // Version hashes are hex, but this text comes from the ledger: cut at a
    // character boundary whatever it holds.
    h.char_indices().nth(12).map_or(h, |(i, _)| &h[..i])
}

/// The contracts page.
pub fn contracts(tr: &Tr, session: &Session, rows: &[ContractRow]) -> Markup {
    layout(
        tr,
        Some(session),
        &tr.t("web-contracts"),
        html! {
            h1 { (tr.t("web-contracts")) }
            (super::offer::propose_link(tr, session)) // weboffer
            @if rows.is_empty() {
                p { (tr.t("web-contracts-none")) }
            } @else {
                table {
                    caption { (tr.t_args("web-contracts-caption", &[("n", Arg::from(rows.len()))])) }
                    thead { tr {
                        th scope="col" { (tr.t("web-col-contract")) }
                        th scope="col" { (tr.t("web-col-title")) }
                        th scope="col" { (tr.t("web-col-parties")) }
                        th scope="col" { (tr.t("web-col-state")) }
                        th scope="col" { (tr.t("web-col-ledger")) }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                th scope="row" { a href=(contract_href(&r.ledger, &r.contract)) { (r.contract) } }
                                td { (r.title) }
                                td { (r.parties.join(", ")) }
                                td { (state_words(tr, &r.state)) }
                                td { (r.ledger) " " a href=(super::audit::audit_href(&r.ledger)) { (tr.t("web-audit")) } }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn not_found(tr: &Tr, session: &Session) -> Response<Body> {
    page_response(StatusCode::NOT_FOUND, message(tr, Some(session), &tr.t("web-not-found")))
}

fn failed(tr: &Tr, session: &Session, why: &str) -> Response<Body> {
    page_response(StatusCode::INTERNAL_SERVER_ERROR, message(tr, Some(session), why))
}

/// Runs `f` on the copy `ledger` with the view of `contract`; a copy the
/// node does not hold or a contract not on it is the not-found page.
fn with_view(
    store: &Store,
    tr: &Tr,
    session: &Session,
    ledger: &str,
    contract: &str,
    f: impl FnOnce(&mut Ledger, &ContractView) -> Response<Body>,
) -> Response<Body> {
    if !store.hosts(ledger) {
        return not_found(tr, session);
    }
    let r = store.with_ledger(ledger, |l| {
        let view = match psettle::contract_view(l, contract) {
            Ok(v) => v,
            Err(e) => return failed(tr, session, &e.to_string()),
        };
        if view.status.versions.is_empty() {
            return not_found(tr, session);
        }
        f(l, &view)
    });
    r.unwrap_or_else(|e| failed(tr, session, &store_error(e)))
}

/// A settlement year's state in words: settled, signed by some, or open.
fn year_words(tr: &Tr, ys: &YearSettlement) -> String {
    let mut words = if ys.settled.is_some() {
        tr.t("web-year-settled")
    } else {
        let mut by: Vec<&str> = ys.statements.values().flat_map(|s| s.by.keys().map(String::as_str)).collect();
        by.sort_unstable();
        by.dedup();
        if by.is_empty() {
            tr.t("web-year-open")
        } else {
            tr.t_args("web-year-signed", &[("parties", Arg::from(by.join(", ")))])
        }
    };
    if !ys.conflicts.is_empty() {
        let c: Vec<String> = ys.conflicts.iter().map(|c| crate::present::engine::conflict(tr, c)).collect();
        words.push_str("; ");
        words.push_str(&c.join("; "));
    }
    words
}

/// A contract's page: parties, versions and their state, the years and
/// what governs each, and the terms of the version in force.
///
/// `done` is the confirmation of a decision just taken on the page.
pub fn contract_page(
    store: &Store,
    tr: &Tr,
    session: &Session,
    ledger: &str,
    contract: &str,
    done: Option<String>,
) -> Response<Body> {
    with_view(store, tr, session, ledger, contract, |l, view| {
        let st = &view.status;
        let latest = st.latest_in_force().or_else(|| st.versions.values().next());
        let title = latest.map(|v| v.terms.title.clone()).unwrap_or_default();
        let page = html! {
            h1 { (title) }
            @if let Some(d) = &done { p.done role="status" { (d) } }
            p { (tr.t("web-col-contract")) ": " code { (contract) } " · " (tr.t("web-col-ledger")) ": " code { (ledger) }
                " · " (state_words(tr, &state_of(st)))
                " · " a href=(super::audit::audit_href(ledger)) { (tr.t("web-audit-of-ledger")) } }
            @if let Some(v) = latest {
                table {
                    caption { (tr.t("web-parties")) }
                    thead { tr {
                        th scope="col" { (tr.t("web-col-party")) }
                        th scope="col" { (tr.t("web-col-name")) }
                        th scope="col" { (tr.t("web-col-role")) }
                        th scope="col" { (tr.t("web-col-signatory")) }
                    } }
                    tbody { @for p in &v.terms.parties { tr {
                        th scope="row" { (p.id) }
                        td { (p.name) }
                        td { (p.role.to_string()) }
                        td { (if p.signatory { tr.t("web-yes") } else { tr.t("web-no") }) }
                    } } }
                }
            }
            table {
                caption { (tr.t("web-years")) }
                thead { tr {
                    th scope="col" { (tr.t("web-col-year")) }
                    th scope="col" { (tr.t("web-col-version")) }
                    th scope="col" { (tr.t("web-col-state")) }
                } }
                tbody { @for (year, ys) in &view.settlements { tr {
                    th scope="row" { a href=(format!("{}/{year}", contract_href(ledger, contract))) { (year) } }
                    td { code { (st.governing(*year).map(|v| short(&v.version)).unwrap_or("")) } }
                    td { (year_words(tr, ys)) " · " a href=(super::figures::figures_href(ledger, contract, *year)) { (tr.t("web-fig-link")) } }
                } } }
            }
            table {
                caption { (tr.t("web-versions")) }
                thead { tr {
                    th scope="col" { (tr.t("web-col-version")) }
                    th scope="col" { (tr.t("web-col-kind")) }
                    th scope="col" { (tr.t("web-col-offered-by")) }
                    th scope="col" { (tr.t("web-col-state")) }
                } }
                tbody { @for v in st.versions.values() { tr {
                    th scope="row" { code { (short(&v.version)) } }
                    td { (crate::present::negotiation::version_kind(tr, v)) }
                    td { (v.offered_by.iter().cloned().collect::<Vec<_>>().join(", ")) }
                    td { (crate::present::negotiation::version_state(tr, st, v)) }
                } } }
            }
            (super::negotiate::section(store, tr, session, l, st))
            (super::offer::section(store, tr, session, l, view)) // weboffer
            (super::timeline::section(l, tr, st))
            @if !st.conflicts.is_empty() {
                h2 { (tr.t("web-state-conflict")) }
                ul { @for c in &st.conflicts { li { (crate::present::engine::contract_conflict(tr, c)) } } }
            }
            (super::model::term_charts(l, view, tr))
            @if let Some(v) = latest {
                h2 { (tr.t("web-terms")) }
                p.note { (tr.t("web-terms-note")) }
                pre { (crate::present::terms::render(tr, &v.terms)) }
            }
        };
        page_response(StatusCode::OK, layout(tr, Some(session), &title, page))
    })
}

/// A document table as an HTML table: the first cell of each row heads it.
fn doc_table(t: &document::Table) -> Markup {
    html! {
        table {
            caption { (t.caption) }
            thead { tr { @for (i, h) in t.head.iter().enumerate() {
                th scope="col" class=[(h.num && i > 0).then_some("num")] { (h.text) }
            } } }
            tbody { @for row in &t.rows { tr {
                @for (i, c) in row.cells.iter().enumerate() {
                    @if i == 0 {
                        th scope="row" {
                            (c.text)
                            @for d in &row.details { span.detail { (d) } }
                        }
                    } @else {
                        td class=[c.num.then_some("num")] { (c.text) }
                    }
                }
            } } }
        }
    }
}

/// A statement document (`present::document::statement_doc`) as the main
/// content of a page.
fn doc_main(doc: &Doc) -> Markup {
    html! {
        h1 { (doc.title) }
        @if let Some(d) = &doc.draft { p.draft role="alert" { (d) } }
        dl { @for (k, v) in &doc.meta { dt { (k) } dd { (v) } } }
        @for s in &doc.sections {
            section {
                h2 { (s.heading) }
                @for b in &s.blocks {
                    @match b {
                        Block::Para(p) => p { (p) },
                        Block::Note(n) => p.note { (n) },
                        Block::Table(t) => (doc_table(t)),
                    }
                }
            }
        }
    }
}

/// The agreed statement of `year` as the document the HTML and PDF of
/// `vereffen settle` show, with the download links; `done` is the
/// confirmation of a signature just given on the page.
pub fn statement_page(
    store: &Store,
    tr: &Tr,
    session: &Session,
    ledger: &str,
    contract: &str,
    year: u16,
    done: Option<String>,
) -> Response<Body> {
    with_view(store, tr, session, ledger, contract, |l, view| {
        let back = html! { p { a href=(contract_href(ledger, contract)) { (tr.t("web-back-to-contract")) }
        " · " a href=(super::figures::figures_href(ledger, contract, year)) { (tr.t("web-fig-link")) } } };
        let c = match view.compute(year, false) {
            Ok(c) => c,
            Err(e) => {
                let why = crate::present::engine::cannot_settle(tr, contract, year, &e);
                let page = html! { (back) p.error role="alert" { (why) } };
                return page_response(StatusCode::OK, layout(tr, Some(session), &tr.t("web-statement"), page));
            }
        };
        let standing = psettle::standing(view, &c);
        let built = psettle::corrections(l, view, &c).and_then(|corr| Ok((corr, psettle::Extra::of(l, view, &c)?)));
        let (corr, extra) = match built {
            Ok(x) => x,
            Err(e) => return failed(tr, session, &e.to_string()),
        };
        let corr_view = corr.as_ref().map(|k| document::CorrectionView {
            replaced: &k.replaced,
            settled: k.settled,
            comparison: &k.comparison,
        });
        let doc = document::statement_doc(tr, &c, &standing, corr_view, &extra.signature_rows());
        let base = format!("{}/{year}", contract_href(ledger, contract));
        let lang = tr.lang().code();
        let page = html! {
            (back)
            @if let Some(d) = &done { p.done role="status" { (d) } }
            p { (tr.t("web-standing")) ": " strong { (standing.words_in(tr)) } }
            (super::cosign::section(store, tr, session, l, view, &c, &standing)) // webact: co-sign
            nav aria-label=(tr.t("web-downloads")) {
                (tr.t("web-downloads")) ": "
                a href=(format!("{base}/statement.xlsx?lang={lang}")) download { "XLSX" } " · "
                a href=(format!("{base}/statement.csv?lang={lang}")) download { "CSV" } " · "
                a href=(format!("{base}/statement.pdf?lang={lang}")) download { "PDF" }
            }
            (doc_main(&doc))
            (super::entry::figures_used(tr, ledger, view, &c)) // drill: figures used and their entries
        };
        page_response(StatusCode::OK, layout(tr, Some(session), &doc.title, page))
    })
}

/// The format of a download file name (`statement.xlsx`, `.csv`, `.pdf`).
pub fn download_format(file: &str) -> Option<Format> {
    match file {
        "statement.xlsx" => Some(Format::Xlsx),
        "statement.csv" => Some(Format::Csv),
        "statement.pdf" => Some(Format::Pdf),
        _ => None,
    }
}

/// The agreed statement of `year` as a file, the bytes `vereffen settle
/// --format F --lang L` writes.
pub fn download(
    store: &Store,
    tr: &Tr,
    session: &Session,
    ledger: &str,
    contract: &str,
    year: u16,
    format: Format,
) -> Response<Body> {
    with_view(store, tr, session, ledger, contract, |l, view| {
        let c = match view.compute(year, false) {
            Ok(c) => c,
            Err(e) => {
                let why = crate::present::engine::cannot_settle(tr, contract, year, &e);
                return page_response(StatusCode::NOT_FOUND, message(tr, Some(session), &why));
            }
        };
        let standing = psettle::standing(view, &c);
        let bytes = psettle::corrections(l, view, &c)
            .and_then(|corr| Ok((corr, psettle::Extra::of(l, view, &c)?)))
            .and_then(|(corr, extra)| psettle::render_bytes(tr, &c, format, &standing, corr.as_ref(), &extra));
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => return failed(tr, session, &e.to_string()),
        };
        let (ext, mime) = match format {
            Format::Xlsx => ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            Format::Pdf => ("pdf", "application/pdf"),
            _ => ("csv", "text/csv; charset=utf-8"),
        };
        let mut r = Response::new(Body::from(bytes));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        // Contract ids are `[a-z0-9-]` names, so the file name needs no quoting.
        if let Ok(v) =
            HeaderValue::from_str(&format!("attachment; filename=\"{contract}-{year}-{}.{ext}\"", tr.lang().code()))
        {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        r
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_short_version_cuts_any_ledger_text_at_a_character_boundary() {
        assert_eq!(super::short("0123456789abcdef"), "0123456789ab");
        assert_eq!(super::short("abc"), "abc");
        // 12 characters of 3 bytes each: byte 12 is inside the fifth.
        assert_eq!(super::short("€€€€€€€€€€€€€€"), "€€€€€€€€€€€€");
    }
}
