//! The model page (issue 16, step 3C): a contract simulated on the node
//! before anyone signs, as `vereffen simulate` does. Every signed-in role
//! may model; nothing is written to any ledger or file.
//!
//! * `GET /model`: the form. The contract is a version this node holds (a
//!   select of every contract on its ledgers: the version in force, else
//!   the first version offered, as the contract page shows it) and/or uploaded contract files (several are
//!   variants compared on the same draws); the scenarios file is uploaded,
//!   or, left out, the example scenarios of an example contract (matched
//!   by the contract id of the first variant; [`EXAMPLE_SCENARIOS`]).
//! * `POST /model` (multipart/form-data, the session's CSRF token as a
//!   field): each file at most [`MAX_FILE_BYTES`], at most
//!   [`MAX_CONTRACT_FILES`] contract files, the whole body at most
//!   [`MAX_UPLOAD_BYTES`] (this route's body limit; larger is refused with
//!   413 before anything runs) within the workspace's body read timeout;
//!   runs at most [`MAX_RUNS`]. The simulation is
//!   `present::simulation::run`, the function `simulate` calls, off the
//!   async threads, at most [`MAX_CONCURRENT_SIMULATIONS`] at once (another
//!   gets 503 and a page saying so at once, rather than waiting), and the
//!   page waits at most [`SIMULATION_TIME_LIMIT`] (then 503; the
//!   simulation finishes in the background holding its place, so the
//!   bound on simulations at once holds). A bad file is a 400 page with
//!   every problem as `FILE:LINE:COLUMN: field: message`, the file being the
//!   upload's name; nothing is kept.
//! * The results page: the tables `simulate` prints (per variant and party
//!   the economic result and cash: mean, P5, P50, P95, the probability of
//!   a loss or of paying, the worst; the comparison of variants; the
//!   cliff warnings; the sweep and the sensitivity), numbers in the page's
//!   language, and the charts `simulate --out` draws, inline as SVG
//!   (`present::charts::svg`: the same drawing code; plotters escapes every
//!   text, so a party named `<script>` is text; no script, the CSP stays
//!   `default-src 'none'`).
//! * The contract page's term charts ([`term_charts`]): the term summary
//!   of `settle summary` as a bar chart per party (cash and result per
//!   year), with its figures as a table, without JavaScript.
//! * `GET /model/results/ID/FILE.csv`: the CSV files `simulate --out`
//!   writes (`summary.csv`, `sweep.csv`, `tornado.csv`, byte for byte, in
//!   the language the page was run in). They are KEPT in memory rather
//!   than recomputed on download: a rerun would need the uploads again
//!   (the node keeps no upload) and would cost a whole simulation per
//!   click. Kept per session for [`RESULTS_KEPT_FOR`], the last
//!   [`RESULTS_PER_SESSION`] of a session and [`MAX_KEPT_RESULTS`] in all,
//!   each at most [`MAX_KEPT_BYTES`] (larger CSVs are not kept: the page
//!   says so). `runs.csv` and `inputs.csv` grow with the runs (up to
//!   hundreds of megabytes) and are not offered: `simulate --out` writes
//!   them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Extension, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::get;
use maud::{html, Markup, PreEscaped};

use super::session::{self, Session};
use super::{lang_of, page_response, pages, with_cookie, LangQuery, Web};
use crate::domain::contract::Contract;
use crate::domain::settlement::cosign::ContractView;
use crate::domain::settlement::term::PartyFigures;
use crate::domain::simulate::{self, Cliff, Model, VariantStats, COMPONENTS};
use crate::ledger::Ledger;
use crate::present::charts::{self, Chart};
use crate::present::lang::{Arg, Tr};
use crate::present::simulation::{self as sim, NamedText, Results};

/// Most Monte Carlo runs a page may ask for (the command line allows
/// `simulate::MAX_RUNS`; a page shares the node with its API).
pub const MAX_RUNS: u64 = 100_000;
/// Runs when neither the form nor the scenarios file gives them (as `simulate`).
pub const DEFAULT_RUNS: u64 = 10_000;
/// Largest uploaded file: 1 MiB (the contract reader's own bound).
pub const MAX_FILE_BYTES: usize = crate::domain::contract::MAX_FILE_BYTES;
/// Most contract files in one upload (variants).
pub const MAX_CONTRACT_FILES: usize = 8;
/// Most form fields in one upload.
pub const MAX_FIELDS: usize = 32;
/// Largest upload body: every file at its largest, and room for the other
/// fields and the multipart framing.
pub const MAX_UPLOAD_BYTES: usize = (MAX_CONTRACT_FILES + 1) * MAX_FILE_BYTES + (64 << 10);
/// Simulations running at once on the node; one more gets 503.
pub const MAX_CONCURRENT_SIMULATIONS: usize = 2;
/// Longest a results page waits for its simulation; then 503.
pub const SIMULATION_TIME_LIMIT: Duration = Duration::from_secs(60);
/// How long a result's CSV files stay downloadable.
pub const RESULTS_KEPT_FOR: Duration = Duration::from_secs(30 * 60);
/// Results kept per session (the oldest goes first).
pub const RESULTS_PER_SESSION: usize = 4;
/// Results kept on the node in all (the oldest goes first).
pub const MAX_KEPT_RESULTS: usize = 64;
/// Largest CSV files of one result that are kept (together).
pub const MAX_KEPT_BYTES: usize = 4 << 20;

/// The example scenarios files, by the contract id of the example contract
/// they are written for (`examples/scenarios/`, embedded in the binary).
pub const EXAMPLE_SCENARIOS: [(&str, &str, &str); 5] = [
    (
        "copd-telemonitoring-oost-achterhoek",
        "examples/scenarios/copd-telemonitoring-oost-achterhoek.toml",
        include_str!("../../examples/scenarios/copd-telemonitoring-oost-achterhoek.toml"),
    ),
    (
        "diabetes-population-budget-berkelland",
        "examples/scenarios/diabetes-population-budget-berkelland.toml",
        include_str!("../../examples/scenarios/diabetes-population-budget-berkelland.toml"),
    ),
    (
        "heart-failure-telemonitoring-2026",
        "examples/scenarios/heart-failure-telemonitoring-2026.toml",
        include_str!("../../examples/scenarios/heart-failure-telemonitoring-2026.toml"),
    ),
    (
        "home-care-technology-berkelland",
        "examples/scenarios/home-care-technology-berkelland.toml",
        include_str!("../../examples/scenarios/home-care-technology-berkelland.toml"),
    ),
    (
        "home-dialysis-bundle-2025",
        "examples/scenarios/home-dialysis-bundle-2025.toml",
        include_str!("../../examples/scenarios/home-dialysis-bundle-2025.toml"),
    ),
];

/// The model page's state: the simulations running, the results kept.
struct ModelState {
    running: Arc<tokio::sync::Semaphore>,
    kept: Mutex<Vec<Kept>>,
}

/// A result's CSV files, kept for download.
struct Kept {
    session: String,
    id: String,
    at: Instant,
    files: Vec<(&'static str, Vec<u8>)>,
}

/// The model page's routes, merged into the workspace's router.
pub(super) fn routes() -> axum::Router<Arc<Web>> {
    let state = Arc::new(ModelState {
        running: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_SIMULATIONS)),
        kept: Mutex::new(Vec::new()),
    });
    axum::Router::new()
        .route("/model", get(form_page).post(run_model).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
        .route("/model/results/{id}/{file}", get(download))
        .layer(Extension(state))
}

/// A signed-in request: the session's id, the session, the translator and
/// the language cookie to set.
type SignedIn = (String, Session, Tr, Option<String>);

/// The signed-in session with its id, the translator and the language
/// cookie to set; else the redirect to the login page.
fn signed_in(web: &Web, headers: &HeaderMap, q: &LangQuery) -> Result<SignedIn, Box<Response<Body>>> {
    let (lang, set_lang) = lang_of(headers, q);
    match web.session(headers) {
        Some((id, s)) => Ok((id, s, Tr::new(lang), set_lang)),
        None => Err(Box::new(with_cookie(super::redirect("/login"), set_lang))),
    }
}

fn message(tr: &Tr, session: &Session, status: StatusCode, text: &str) -> Response<Body> {
    page_response(status, pages::message(tr, Some(session), text))
}

async fn form_page(State(web): State<Arc<Web>>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response<Body> {
    let (_, session, tr, set_lang) = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    // The contracts the node holds, from the contracts cache kept by each
    // copy's head (as the contracts page reads them): no copy is opened
    // unless it changed.
    let held = web.clone();
    let rows = tokio::task::spawn_blocking(move || super::cache::contract_rows(&held.store, &held.caches)).await;
    let r = match rows {
        Ok(Ok(rows)) => page_response(StatusCode::OK, form(&tr, &session, &rows)),
        Ok(Err(e)) => message(&tr, &session, StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(_) => message(&tr, &session, StatusCode::INTERNAL_SERVER_ERROR, &tr.t("web-failed")),
    };
    with_cookie(r, set_lang)
}

/// The form of the model page.
fn form(tr: &Tr, session: &Session, rows: &[pages::ContractRow]) -> Markup {
    let max_runs = tr.lang().number(MAX_RUNS.into());
    let examples: Vec<&str> = EXAMPLE_SCENARIOS.iter().map(|e| e.0).collect();
    let main = html! {
        h1 { (tr.t("web-model")) }
        p { (tr.t("web-model-intro")) }
        form method="post" action="/model" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(session.csrf);
            fieldset {
                legend { (tr.t("web-model-contract")) }
                p {
                    label for="held" { (tr.t("web-model-held")) } br;
                    select #held name="held" {
                        option value="" { (tr.t("web-model-held-none")) }
                        @for r in rows {
                            option value=(format!("{}/{}", r.ledger, r.contract)) {
                                (r.contract) " — " (r.title) " (" (r.ledger) ")"
                            }
                        }
                    }
                }
                p {
                    label for="contract" { (tr.t("web-model-upload")) } br;
                    input #contract type="file" name="contract" accept=".toml" multiple;
                }
                p.note { (tr.t_args("web-model-upload-note", &[
                    ("files", Arg::from(MAX_CONTRACT_FILES)),
                    ("mib", Arg::from(MAX_FILE_BYTES >> 20)),
                ])) }
            }
            fieldset {
                legend { (tr.t("web-model-scenarios")) }
                p {
                    label for="scenarios" { (tr.t("web-model-scenarios-file")) } br;
                    input #scenarios type="file" name="scenarios" accept=".toml";
                }
                p.note { (tr.t_args("web-model-scenarios-note", &[("contracts", Arg::from(examples.join(", ")))])) }
            }
            p {
                label for="runs" { (tr.t("web-model-runs")) } br;
                input #runs type="number" name="runs" min="1" max=(MAX_RUNS) step="1";
                span.note { " " (tr.t_args("web-model-runs-note", &[("max", Arg::from(max_runs.as_str()))])) }
            }
            p {
                label for="seed" { (tr.t("web-model-seed")) } br;
                input #seed type="number" name="seed" min="0" step="1";
                span.note { " " (tr.t("web-model-seed-note")) }
            }
            p { button type="submit" { (tr.t("web-model-run")) } }
        }
    };
    pages::layout(tr, Some(session), &tr.t("web-model"), main)
}

/// What a model form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    held: String,
    contracts: Vec<NamedText>,
    scenarios: Option<NamedText>,
    runs: String,
    seed: String,
}

/// Why an upload was refused before anything ran.
pub(super) enum Refused {
    /// The body or a file is too large (413).
    TooLarge,
    /// The form is malformed (400), in words.
    Bad(String),
    /// What was received could not be kept (500), in words.
    Io(String),
}

/// Copies one multipart field into `sink` as it arrives, at most `limit`
/// bytes (more is [`Refused::TooLarge`] at once): the bytes copied. The
/// model page reads its files into memory with it; the derive pages
/// (`web::derive`) stream claims files to a temporary file.
pub(super) async fn read_field<W: tokio::io::AsyncWrite + Unpin>(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: u64,
    sink: &mut W,
) -> Result<u64, Refused> {
    use tokio::io::AsyncWriteExt as _;
    let mut n = 0u64;
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                if n + c.len() as u64 > limit {
                    return Err(Refused::TooLarge);
                }
                sink.write_all(&c).await.map_err(|e| Refused::Io(e.to_string()))?;
                n += c.len() as u64;
            }
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Refused::TooLarge),
            Err(e) => return Err(Refused::Bad(e.body_text())),
        }
    }
    sink.flush().await.map_err(|e| Refused::Io(e.to_string()))?;
    Ok(n)
}

/// One part of a multipart form as read: its field name, its file name
/// (set for a file input, cut to 200 characters) and its bytes.
pub(super) struct Part {
    /// The field name.
    pub name: String,
    /// The file name, for a file input.
    pub file_name: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Reads a multipart form, every part bounded: at most `max_fields`
/// parts, each at most `limit(name, is_file)` bytes (more is
/// [`Refused::TooLarge`]); the route's body limit and the workspace's read
/// timeout bound the whole. The model page and the offer forms
/// (`web::offer`) read their uploads with it.
pub(super) async fn read_parts(
    tr: &Tr,
    mut mp: Multipart,
    max_fields: usize,
    limit: impl Fn(&str, bool) -> usize,
) -> Result<Vec<Part>, Refused> {
    let mut parts = Vec::new();
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Refused::TooLarge),
            Err(e) => return Err(Refused::Bad(e.body_text())),
        };
        if parts.len() >= max_fields {
            return Err(Refused::Bad(tr.t_args("web-model-too-many-fields", &[("max", Arg::from(max_fields))])));
        }
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(|f| f.chars().take(200).collect::<String>());
        let limit = limit(&name, file_name.is_some());
        let mut bytes = Vec::new();
        read_field(&mut field, limit as u64, &mut bytes).await?;
        parts.push(Part { name, file_name, bytes });
    }
    Ok(parts)
}

/// An uploaded file as text: `None` for a file input left empty; a file
/// without a name is called `upload.toml`; bytes that are not UTF-8 are
/// refused as `NAME:1:1: ...`.
pub(super) fn file_text(tr: &Tr, bytes: Vec<u8>, file_name: Option<String>) -> Result<Option<NamedText>, Refused> {
    let name = file_name.unwrap_or_default();
    if name.is_empty() && bytes.is_empty() {
        // A file input left empty.
        return Ok(None);
    }
    let name = if name.is_empty() { "upload.toml".to_string() } else { name };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(NamedText { name, text })),
        Err(_) => Err(Refused::Bad(format!("{name}:1:1: {}", tr.t("web-model-not-utf8")))),
    }
}

/// Reads the model form, every part bounded.
async fn read_upload(tr: &Tr, mp: Multipart) -> Result<Upload, Refused> {
    let mut u = Upload::default();
    let parts = read_parts(tr, mp, MAX_FIELDS, |_, file| if file { MAX_FILE_BYTES } else { 1024 }).await?;
    for Part { name, file_name, bytes } in parts {
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap_or_default();
        match name.as_str() {
            "csrf" => u.csrf = text(bytes),
            "held" => u.held = text(bytes),
            "runs" => u.runs = text(bytes).trim().to_string(),
            "seed" => u.seed = text(bytes).trim().to_string(),
            "contract" => {
                if let Some(f) = file_text(tr, bytes, file_name)? {
                    if u.contracts.len() >= MAX_CONTRACT_FILES {
                        return Err(Refused::Bad(
                            tr.t_args("web-model-too-many-files", &[("max", Arg::from(MAX_CONTRACT_FILES))]),
                        ));
                    }
                    u.contracts.push(f);
                }
            }
            "scenarios" => u.scenarios = file_text(tr, bytes, file_name)?,
            _ => {}
        }
    }
    Ok(u)
}

/// A number field: empty is `None`; else a whole number, or the error text.
fn number_field(tr: &Tr, id: &str, value: &str) -> Result<Option<u64>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse::<u64>().map(Some).map_err(|_| tr.t_args("web-model-bad-number", &[("field", Arg::from(tr.t(id)))]))
}

async fn run_model(
    State(web): State<Arc<Web>>,
    Extension(state): Extension<Arc<ModelState>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response<Body> {
    let (sid, session, tr, set_lang) = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let mp = match mp {
        Ok(mp) => mp,
        Err(e) => return message(&tr, &session, StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let upload = match read_upload(&tr, mp).await {
        Ok(u) => u,
        Err(Refused::TooLarge) => {
            let why = tr.t_args(
                "web-model-too-large",
                &[("mib", Arg::from(MAX_FILE_BYTES >> 20)), ("total", Arg::from(MAX_UPLOAD_BYTES >> 20))],
            );
            return message(&tr, &session, StatusCode::PAYLOAD_TOO_LARGE, &why);
        }
        Err(Refused::Bad(why)) => return message(&tr, &session, StatusCode::BAD_REQUEST, &why),
        Err(Refused::Io(why)) => return message(&tr, &session, StatusCode::INTERNAL_SERVER_ERROR, &why),
    };
    if !session::tokens_equal(&session.csrf, &upload.csrf) {
        return message(&tr, &session, StatusCode::FORBIDDEN, &tr.t("web-csrf-refused"));
    }
    let (runs, seed) =
        match (number_field(&tr, "web-model-runs", &upload.runs), number_field(&tr, "web-model-seed", &upload.seed)) {
            (Ok(r), Ok(s)) => (r, s),
            (Err(e), _) | (_, Err(e)) => return message(&tr, &session, StatusCode::BAD_REQUEST, &e),
        };
    let Ok(permit) = state.running.clone().try_acquire_owned() else {
        let why = tr.t_args("web-model-busy", &[("n", Arg::from(MAX_CONCURRENT_SIMULATIONS))]);
        return message(&tr, &session, StatusCode::SERVICE_UNAVAILABLE, &why);
    };
    let id = session::random_token();
    let (lang, store, page_id, page_session) = (tr.lang(), web.store.clone(), id.clone(), session.clone());
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let tr = Tr::new(lang);
        simulate_upload(&store, &tr, &page_session, upload, runs, seed, &page_id)
    });
    let r = match tokio::time::timeout(SIMULATION_TIME_LIMIT, task).await {
        Ok(Ok(Ok((page, files)))) => {
            keep(&state, &sid, &id, files);
            page_response(StatusCode::OK, page)
        }
        Ok(Ok(Err((status, why)))) => message(&tr, &session, status, &why),
        Ok(Err(_)) => message(&tr, &session, StatusCode::INTERNAL_SERVER_ERROR, &tr.t("web-failed")),
        Err(_) => {
            let why = tr.t_args("web-model-too-long", &[("s", Arg::from(SIMULATION_TIME_LIMIT.as_secs()))]);
            message(&tr, &session, StatusCode::SERVICE_UNAVAILABLE, &why)
        }
    };
    with_cookie(r, set_lang)
}

/// Keeps a result's CSV files for `session` (when not too large), within
/// the bounds on results kept.
fn keep(state: &ModelState, session: &str, id: &str, files: Option<Vec<(&'static str, Vec<u8>)>>) {
    let Some(files) = files else { return };
    let Ok(mut kept) = state.kept.lock() else { return };
    let now = Instant::now();
    kept.retain(|k| now.duration_since(k.at) < RESULTS_KEPT_FOR);
    let mine = kept.iter().filter(|k| k.session == session).count();
    if mine >= RESULTS_PER_SESSION {
        if let Some(i) = kept.iter().position(|k| k.session == session) {
            kept.remove(i);
        }
    }
    if kept.len() >= MAX_KEPT_RESULTS {
        kept.remove(0);
    }
    kept.push(Kept { session: session.to_string(), id: id.to_string(), at: now, files });
}

/// The variant a held contract gives: `LEDGER/CONTRACT`, the version in
/// force (else the latest offered) on a copy this node holds.
fn held_contract(store: &crate::node::store::Store, tr: &Tr, held: &str) -> Result<Contract, (StatusCode, String)> {
    let not_found = || (StatusCode::NOT_FOUND, tr.t("web-not-found"));
    let (ledger, contract) = held.split_once('/').ok_or_else(not_found)?;
    if !store.hosts(ledger) {
        return Err(not_found());
    }
    let found = store.with_ledger(ledger, |l| {
        let view = crate::present::settle::contract_view(l, contract).map_err(|e| e.to_string())?;
        let st = &view.status;
        Ok::<_, String>(st.latest_in_force().or_else(|| st.versions.values().next()).map(|v| v.terms.clone()))
    });
    match found {
        Ok(Ok(Some(c))) => Ok(c),
        Ok(Ok(None)) => Err(not_found()),
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, e)),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// A page and the CSV files to keep (`None` when too large to keep).
type Simulated = (Markup, Option<Vec<(&'static str, Vec<u8>)>>);

/// The simulation of an upload, on a blocking thread: the results page
/// and its CSV files, or the status and words of the error page.
fn simulate_upload(
    store: &crate::node::store::Store,
    tr: &Tr,
    session: &Session,
    upload: Upload,
    runs: Option<u64>,
    seed: Option<u64>,
    id: &str,
) -> Result<Simulated, (StatusCode, String)> {
    let bad = |why: String| (StatusCode::BAD_REQUEST, why);
    let mut held = Vec::new();
    if !upload.held.is_empty() {
        held.push(held_contract(store, tr, &upload.held)?);
    }
    if held.is_empty() && upload.contracts.is_empty() {
        return Err(bad(tr.t("web-model-no-contract")));
    }
    let first_id = match held.first() {
        Some(c) => c.id.clone(),
        None => upload
            .contracts
            .first()
            .and_then(|c| crate::domain::contract::parse_str(&c.name, &c.text).ok())
            .map(|c| c.id)
            .unwrap_or_default(),
    };
    let (scenarios, example) = match upload.scenarios {
        Some(s) => (s, false),
        None => match EXAMPLE_SCENARIOS.iter().find(|e| e.0 == first_id) {
            Some((_, name, text)) => (NamedText { name: name.to_string(), text: text.to_string() }, true),
            None => return Err(bad(tr.t("web-model-no-scenarios"))),
        },
    };
    let model = sim::load_texts(held, &upload.contracts, &scenarios).map_err(bad)?;
    let runs = runs.or(model.scenarios.runs).unwrap_or(DEFAULT_RUNS);
    if runs == 0 || runs > MAX_RUNS {
        let max = tr.lang().number(MAX_RUNS.into());
        return Err(bad(tr.t_args("web-model-runs-bounds", &[("max", Arg::from(max))])));
    }
    let seed = seed.or(model.scenarios.seed).unwrap_or(1);
    let failed = |e: String| (StatusCode::BAD_REQUEST, e);
    let results =
        sim::run(&model, tr.lang(), runs, seed, None, simulate::MAX_NETS_IN_MEMORY, &|_| ()).map_err(failed)?;
    let cliffs = model.cliffs().map_err(|e| failed(e.to_string()))?;
    let files = sim::csv_files(tr.lang(), &model, &results).map_err(failed)?;
    let mut svgs = Vec::new();
    for (name, chart) in sim::charts(tr, &model, &results).map_err(failed)? {
        let svg = charts::svg(&chart).map_err(failed)?;
        svgs.push((name, chart.title().to_string(), svg));
    }
    let size: usize = files.iter().map(|f| f.1.len()).sum();
    let files = (size <= MAX_KEPT_BYTES).then_some(files);
    let names: Vec<&str> = files.as_ref().map(|f| f.iter().map(|f| f.0).collect()).unwrap_or_default();
    let run = Run { runs, seed, scenarios: &scenarios.name, example, id, files: &names };
    let page = results_page(tr, session, &model, &results, &cliffs, &svgs, &run);
    Ok((page, files))
}

/// How a simulation was run, for its page.
struct Run<'a> {
    runs: u64,
    seed: u64,
    scenarios: &'a str,
    example: bool,
    id: &'a str,
    files: &'a [&'a str],
}

/// One table of statistics per party and period (economic result or cash),
/// as `simulate` prints it.
fn stats_table(
    tr: &Tr,
    caption: &str,
    s: &VariantStats,
    get: fn(&VariantStats, usize, usize) -> &simulate::Stats,
    p_col: &str,
) -> Markup {
    let lang = tr.lang();
    let term = s.periods.len().saturating_sub(1);
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { (tr.t("simulate-col-party")) }
                th scope="col" { (tr.t("simulate-col-period")) }
                th.num scope="col" { (tr.t("simulate-col-mean")) }
                th.num scope="col" { "P5" }
                th.num scope="col" { "P50" }
                th.num scope="col" { "P95" }
                th.num scope="col" { (tr.t(p_col)) }
                th.num scope="col" { (tr.t("simulate-col-worst")) }
            } }
            tbody {
                @for (p, (party, _)) in s.parties.iter().enumerate() {
                    @for (k, period) in s.periods.iter().enumerate() {
                        @let x = get(s, k, p);
                        tr {
                            th scope="row" { (party) }
                            th scope="row" { @if k == term { (tr.t("simulate-term")) } @else { (period) } }
                            td.num { (sim::eur(lang, x.mean)) }
                            td.num { (sim::eur(lang, x.p5)) }
                            td.num { (sim::eur(lang, x.p50)) }
                            td.num { (sim::eur(lang, x.p95)) }
                            td.num { (sim::pct(lang, x.p_loss)) }
                            td.num { (sim::eur(lang, x.worst)) }
                        }
                    }
                }
            }
        }
    }
}

/// The variants side by side over the term (as `simulate` prints them).
fn comparison(tr: &Tr, stats: &[VariantStats]) -> Markup {
    let lang = tr.lang();
    type Pick = fn(&VariantStats, usize) -> f64;
    let rows: [(&str, Pick, bool); 5] = [
        ("simulate-row-result-mean", |s, p| s.result(s.periods.len() - 1, p).mean, false),
        ("simulate-row-result-p5", |s, p| s.result(s.periods.len() - 1, p).p5, false),
        ("simulate-row-result-p95", |s, p| s.result(s.periods.len() - 1, p).p95, false),
        ("simulate-row-p-loss", |s, p| s.result(s.periods.len() - 1, p).p_loss, true),
        ("simulate-row-cash-mean", |s, p| s.get(s.periods.len() - 1, p).mean, false),
    ];
    let show = |x: f64, share: bool| if share { sim::pct(lang, x) } else { sim::eur(lang, x) };
    html! {
        table {
            caption { (tr.t("web-model-comparison")) }
            thead { tr {
                th scope="col" { (tr.t("simulate-col-party")) }
                th scope="col" { }
                @for (i, s) in stats.iter().enumerate() {
                    th.num scope="col" { (s.variant) }
                    @if i > 0 { th.num scope="col" { (s.variant) " − " (stats[0].variant) } }
                }
            } }
            tbody {
                @for party in sim::compared_parties(stats) {
                    @for (label, pick, share) in rows {
                        @let value = |s: &VariantStats| s.parties.iter().position(|(p, _)| p == party).map(|p| pick(s, p));
                        @let first = value(&stats[0]);
                        tr {
                            th scope="row" { (party) }
                            th scope="row" { (tr.t(label)) }
                            @for (i, s) in stats.iter().enumerate() {
                                @let x = value(s);
                                td.num { (x.map(|x| show(x, share)).unwrap_or_else(|| "-".to_string())) }
                                @if i > 0 {
                                    td.num { (match (x, first) {
                                        (Some(b), Some(a)) if b - a > 0.0 => format!("+{}", show(b - a, share)),
                                        (Some(b), Some(a)) => show(b - a, share),
                                        _ => "-".to_string(),
                                    }) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The results page.
fn results_page(
    tr: &Tr,
    session: &Session,
    m: &Model,
    r: &Results,
    cliffs: &[Cliff],
    svgs: &[(String, String, String)],
    run: &Run<'_>,
) -> Markup {
    let lang = tr.lang();
    let currency = sim::currency_of(m);
    let main = html! {
        p { a href="/model" { (tr.t("web-model-again")) } }
        h1 { (tr.t("web-model-results")) }
        p { (tr.t_args("simulate-header", &[
            ("runs", Arg::from(lang.number(run.runs.into()))),
            ("seed", Arg::from(run.seed.to_string())),
            ("currency", Arg::from(currency.as_str())),
        ])) }
        p { (tr.t_args(if run.example { "web-model-scenarios-example" } else { "web-model-scenarios-used" },
            &[("file", Arg::from(run.scenarios))])) }
        p.note { (tr.t("simulate-views-result")) }
        p.note { (tr.t("simulate-views-cash")) }
        @if run.files.is_empty() {
            p.note { (tr.t("web-model-not-kept")) }
        } @else {
            nav aria-label=(tr.t("web-downloads")) {
                (tr.t("web-downloads")) ": "
                @for (i, f) in run.files.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href=(format!("/model/results/{}/{f}", run.id)) download { (f) }
                }
                span.note { " " (tr.t("web-model-kept-note")) }
            }
        }
        @if !cliffs.is_empty() {
            ul { @for c in cliffs {
                li.error { (tr.t_args(if c.met { "simulate-cliff-edge" } else { "simulate-cliff-closed" }, &[
                    ("variant", Arg::from(m.variants[c.variant].name.as_str())),
                    ("year", Arg::from(c.year.to_string())),
                    ("score", Arg::from(tr.factor(c.score))),
                    ("gate", Arg::from(tr.factor(c.gate))),
                ])) }
            } }
        }
        @for (v, s) in r.stats.iter().enumerate() {
            section {
                h2 { (s.variant) " (" (m.variants.get(v).map(|v| v.contract.id.as_str()).unwrap_or("")) ")" }
                (stats_table(tr, &tr.t("web-model-result"), s, VariantStats::result, "simulate-col-p-loss"))
                (stats_table(tr, &tr.t("web-model-cash"), s, VariantStats::get, "simulate-col-p-pays"))
                h3 { (tr.t("web-model-components")) }
                ul { @for (p, (party, _)) in s.parties.iter().enumerate() {
                    @let x = s.get(s.periods.len() - 1, p);
                    @let parts: Vec<String> = COMPONENTS.iter().zip(x.components).filter(|(_, v)| *v != 0.0)
                        .map(|(c, v)| format!("{} {}", tr.t(&format!("simulate-comp-{c}")), sim::eur(lang, v))).collect();
                    li { strong { (party) } ": " (if parts.is_empty() { "-".to_string() } else { parts.join(", ") }) }
                } }
            }
        }
        @if r.stats.len() > sim::MAX_COMPARED_VARIANTS {
            p { (tr.t_args("simulate-comparison-left-out", &[
                ("max", Arg::from(sim::MAX_COMPARED_VARIANTS.to_string())),
                ("n", Arg::from(r.stats.len().to_string())),
            ])) }
        } @else if r.stats.len() > 1 {
            (comparison(tr, &r.stats))
        }
        @if let Some((base, bars)) = &r.tornado {
            @for v in 0..m.variants.len() {
                @let p = sim::first_provider(m, v);
                table {
                    caption { (tr.t_args("simulate-tornado-central", &[
                        ("variant", Arg::from(m.variants[v].name.as_str())),
                        ("party", Arg::from(m.variants[v].parties[p].id.as_str())),
                        ("value", Arg::from(sim::eur(lang, sim::term_result(m, v, &base[v], p) as f64 / 100.0))),
                    ])) }
                    thead { tr {
                        th scope="col" { (tr.t("web-model-input")) }
                        th.num scope="col" { (tr.t("web-model-at-p5")) }
                        th.num scope="col" { (tr.t("web-model-at-p95")) }
                    } }
                    tbody { @for (i, lo, hi) in &bars[v] { tr {
                        th scope="row" { (m.scenarios.inputs[*i].id) }
                        td.num { (sim::eur(lang, sim::term_result(m, v, lo, p) as f64 / 100.0)) }
                        td.num { (sim::eur(lang, sim::term_result(m, v, hi, p) as f64 / 100.0)) }
                    } } }
                }
            }
        }
        h2 { (tr.t("web-model-charts")) }
        @for (name, title, svg) in svgs {
            figure {
                // The SVG of present::charts::svg: plotters escapes every
                // text in it (contract names included), it holds no script.
                (PreEscaped(svg.as_str()))
                figcaption { (title) " (" (name) ".svg)" }
            }
        }
    };
    pages::layout(tr, Some(session), &tr.t("web-model-results"), main)
}

async fn download(
    State(web): State<Arc<Web>>,
    Extension(state): Extension<Arc<ModelState>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Path((id, file)): Path<(String, String)>,
) -> Response<Body> {
    let (sid, session, tr, _) = match signed_in(&web, &headers, &q) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let now = Instant::now();
    let bytes = state.kept.lock().ok().and_then(|kept| {
        kept.iter()
            .find(|k| k.session == sid && k.id == id && now.duration_since(k.at) < RESULTS_KEPT_FOR)
            .and_then(|k| k.files.iter().find(|f| f.0 == file).map(|f| (f.0, f.1.clone())))
    });
    let Some((name, bytes)) = bytes else {
        return message(&tr, &session, StatusCode::NOT_FOUND, &tr.t("web-model-gone"));
    };
    let mut r = Response::new(Body::from(bytes));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    // `name` is one of the fixed names of present::simulation::csv_files.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The contract's term summary (`present::term::summary`, what `settle
/// summary` shows) as one bar chart per party, its cash (received - paid)
/// and economic result per year that has a statement, each followed by
/// the same figures as a table; for the contract page. Empty while no
/// year has a statement.
pub(super) fn term_charts(l: &Ledger, view: &ContractView, tr: &Tr) -> Markup {
    use rust_decimal::prelude::ToPrimitive;
    let t = match crate::present::term::summary(l, view, tr) {
        Ok(t) => t,
        Err(e) => return html! { p.error { (e.to_string()) } },
    };
    let years: Vec<_> = t.years.iter().filter(|y| !y.parties.is_empty()).collect();
    if years.is_empty() {
        return html! {};
    }
    let st = &view.status;
    let terms = st.latest_in_force().or_else(|| st.versions.values().next()).map(|v| &v.terms);
    let name_of = |id: &str| {
        terms
            .and_then(|c| c.parties.iter().find(|p| p.id == id))
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let currency = terms.map(|c| c.currency.code().to_string()).unwrap_or_default();
    let figure =
        |party: &str, pick: fn(&PartyFigures) -> rust_decimal::Decimal| -> Vec<Option<rust_decimal::Decimal>> {
            years.iter().map(|y| y.parties.iter().find(|p| p.party == party).map(pick)).collect()
        };
    let labels: Vec<String> = years.iter().map(|y| y.year.to_string()).collect();
    html! {
        section {
            h2 { (tr.t("web-term-charts")) }
            p.note { (tr.t("web-term-charts-note")) }
            @for total in &t.totals {
                @let (cash, result) = (figure(&total.party, |p| p.net), figure(&total.party, |p| p.result));
                @let euros = |v: &[Option<rust_decimal::Decimal>]| v.iter().map(|d| d.and_then(|d| d.to_f64()).unwrap_or(0.0)).collect::<Vec<f64>>();
                @let name = name_of(&total.party);
                @let chart = Chart::Bars {
                    title: tr.t_args("web-term-chart-title", &[("party", Arg::from(name.as_str()))]),
                    y_label: currency.clone(),
                    labels: labels.clone(),
                    series: vec![(tr.t("web-term-cash"), euros(&cash)), (tr.t("web-term-result"), euros(&result))],
                };
                figure {
                    @match charts::svg(&chart) {
                        // plotters escapes every text (the party's name from the ledger).
                        Ok(svg) => (PreEscaped(svg)),
                        Err(e) => p.error { (e) },
                    }
                    figcaption {
                        table {
                            caption { (chart.title()) }
                            thead { tr {
                                th scope="col" { (tr.t("web-col-year")) }
                                th.num scope="col" { (tr.t("web-term-cash")) }
                                th.num scope="col" { (tr.t("web-term-result")) }
                            } }
                            tbody { @for (i, y) in labels.iter().enumerate() { tr {
                                th scope="row" { (y) }
                                td.num { (cash[i].map(|d| tr.money(d)).unwrap_or_default()) }
                                td.num { (result[i].map(|d| tr.money(d)).unwrap_or_default()) }
                            } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every embedded example scenarios file is the one written for its
    /// example contract: its first line names the contract file whose id
    /// it is keyed by.
    #[test]
    fn example_scenarios_match_their_contracts() {
        let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        for (id, name, text) in EXAMPLE_SCENARIOS {
            let first = text.lines().next().unwrap();
            let file = first.strip_prefix("# Scenarios for ").unwrap();
            let c = crate::domain::contract::check_file(&repo.join(file)).unwrap();
            assert_eq!(c.id, id, "{name}");
            assert_eq!(std::fs::read_to_string(repo.join(name)).unwrap(), text);
            let s = NamedText { name: name.to_string(), text: text.to_string() };
            sim::load_texts(vec![c], &[], &s).unwrap();
        }
    }
}
