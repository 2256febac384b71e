//! The web workspace in a real browser (issue 16, "Tests in a real
//! browser"): Debian's headless Chromium, driven through chromedriver
//! (WebDriver, the `fantoccini` client), logs in with the real login form
//! and its CSRF token, walks inbox -> contracts -> contract -> 2025
//! statement, switches to Dutch with the page's language link, and checks
//! what a person sees: the amounts `vereffen settle` computes in nl-NL form,
//! and ledger text holding `<script>` shown as text, with no alert fired.
//! Screenshots of the inbox, the contract and the Dutch statement go to
//! `target/screenshots/` (and, with `SCREENSHOTS_TO_DOCS=1`, the contract
//! and the Dutch statement to `docs/screenshots/`).
//!
//!
//! The second test is the whole year in the browser: three
//! organisations (insurer, hospital, home care), each its own node on
//! loopback syncing with the other two in the background. The insurer's
//! signer submits its 2025 figures on the figures page and attests the
//! providers'; after the sync the hospital's and home care's signers
//! attest the insurer's; a hospital viewer is offered no form to sign;
//! every signer co-signs the statement (each confirmation with the
//! password); every node then shows 2025 settled, in English and in Dutch
//! with `2.578.182,88`-style amounts, and each copy, read by the CLI after
//! the nodes stopped, verifies and has 2025 settled.
//!
//! The third test offers versions in the browser on three such nodes: the
//! hospital's signer proposes the COPD contract by uploading its file and
//! signs after reading the preview; after the sync the insurer's signer
//! counters with a file whose provider share is 45% and reads
//! "provider share of savings: 50% -> 45%" in the preview; the hospital and
//! home care accept the counter-proposal from the contract page; every node
//! shows it in force, and each copy's `contract status` says so.
//!
//! Without chromium or chromedriver the test prints a NOTICE and passes,
//! unless `CI` is set (`.ci/run` installs both), then it fails. Every wait
//! is bounded in count and time; chromedriver (and the Chromium it starts)
//! is killed at the end, on failure too.

mod common;
mod node_support;
mod web_support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{copy_dir, key, ok, repo, COPD_FILE, COPD_ID};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use vereffen::node::server::ServerHandle;
use vereffen::present::lang::Lang;
use web_support::{add_user, home_with_ledger, hostile_agreed_ledger, serve_web, serve_web_syncing, PASSWORD, SCRIPT};

/// Longest chromedriver may take to accept connections.
const DRIVER_READY: Duration = Duration::from_secs(30);
/// Longest one navigation may take to reach its page.
const NAVIGATION: Duration = Duration::from_secs(60);
/// Longest the whole browser walk may take.
const WALK: Duration = Duration::from_secs(300);
/// Longest the nodes' background syncs may take to converge.
const SYNC: Duration = Duration::from_secs(60);
/// How often a bounded wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Chromium and chromedriver, if both are installed (CI installs them;
/// without them, under `CI` this fails).
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| names.iter().map(|n| Path::new("/usr/bin").join(n)).find(|p| p.exists());
    let chromium = find(&["chromium", "chromium-browser"]);
    let driver = find(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but chromium or chromedriver is not installed (.ci/run installs them)"
            );
            eprintln!(
                "NOTICE: chromium or chromedriver not installed; skipping the real-browser test (apt-get install chromium chromium-driver)"
            );
            None
        }
    }
}

/// A chromedriver process (in its own process group, with the Chromium it
/// starts), killed when dropped: at the end of the test or when it fails.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits (bounded) until
    /// it accepts connections.
    fn start(bin: &Path, dir: &Path) -> Driver {
        use std::os::unix::process::CommandExt;
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = Driver { child, port, log };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, POLL).is_err() {
            assert!(start.elapsed() < DRIVER_READY, "chromedriver did not listen on {addr} within {DRIVER_READY:?}");
            std::thread::sleep(POLL);
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: String =
                log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            eprintln!("chromedriver log (last lines):\n{tail}");
        }
    }
}

/// A WebDriver session on headless Chromium with its own user-data dir.
async fn session(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        // An alert stays open, so the test sees it rather than chromedriver
        // dismissing it.
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": {
            "binary": chromium.to_str().unwrap(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let Value::Object(caps) = caps else { unreachable!() };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .expect("a WebDriver session on headless Chromium")
}

/// Waits (bounded) until the browser is at `base` + `path` (path and query).
async fn wait_at(c: &Client, base: &str, path: &str) {
    let want = format!("{base}{path}");
    let start = Instant::now();
    loop {
        let now = c.current_url().await.expect("the current URL");
        if now.as_str() == want {
            return;
        }
        assert!(start.elapsed() < NAVIGATION, "the browser is at {now}, not {want}");
        tokio::time::sleep(POLL).await;
    }
}

/// Clicks the link `a[href="HREF"]` and waits until the browser is there.
async fn follow(c: &Client, base: &str, href: &str, to: &str) {
    let link =
        c.find(Locator::Css(&format!("a[href=\"{href}\"]"))).await.unwrap_or_else(|e| panic!("a link to {href}: {e}"));
    link.click().await.unwrap();
    wait_at(c, base, to).await;
}

/// The page holds no script and no alert is open.
async fn no_script_ran(c: &Client, page: &str) {
    match c.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        Ok(text) => panic!("{page}: an alert fired: {text:?}"),
        Err(e) => panic!("{page}: asking for an alert: {e}"),
    }
    let scripts = c.execute("return document.scripts.length", vec![]).await.unwrap();
    assert_eq!(scripts, json!(0), "{page} holds a script element");
}

/// The rendered text of the page body (non-breaking spaces as spaces).
async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body")).await.unwrap().text().await.unwrap().replace('\u{a0}', " ")
}

/// Logs `user` in with the real login form (and its CSRF token) on the
/// node at `base`, and waits until the inbox shows.
async fn log_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login?lang=en")).await.unwrap();
    let form = c.find(Locator::Css("form[action=\"/login\"]")).await.expect("the login form");
    let token = form.find(Locator::Css("input[name=\"csrf\"]")).await.unwrap().attr("value").await.unwrap();
    assert_eq!(token.as_deref().map(str::len), Some(64), "a CSRF token in the form: {token:?}");
    form.find(Locator::Css("input[name=\"user\"]")).await.unwrap().send_keys(user).await.unwrap();
    form.find(Locator::Css("input[name=\"password\"]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    form.find(Locator::Css("button[type=\"submit\"]")).await.unwrap().click().await.unwrap();
    wait_at(c, base, "/inbox").await;
    assert!(c.find(Locator::Css("form[action=\"/logout\"]")).await.is_ok(), "{user} logged in: a logout button");
}

/// The first form inside `scope` (a CSS selector) whose action ends in
/// `action`, if the page has one.
async fn form_in(c: &Client, scope: &str, action: &str) -> Option<Element> {
    c.find_all(Locator::Css(&format!("{scope} form[action$=\"{action}\"]"))).await.unwrap().into_iter().next()
}

/// Fills `fields` and the password re-entered for signing into `form`,
/// submits it, and waits (bounded) until a new page has loaded at `back`
/// (a path; a query is allowed): the action succeeded and the browser was
/// sent back to the page of the form. An error page fails with its text.
async fn confirm(c: &Client, base: &str, form: Element, fields: &[(&str, &str)], back: &str) {
    for (name, value) in fields {
        let input = form
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .unwrap_or_else(|e| panic!("a field {name} in the form: {e}"));
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    form.find(Locator::Css("input[name=\"password\"]"))
        .await
        .expect("a password field")
        .send_keys(PASSWORD)
        .await
        .unwrap();
    // Mark this page, so the wait below sees a new page load, not this one.
    c.execute("document.documentElement.dataset.before = '1'", vec![]).await.unwrap();
    form.find(Locator::Css("button[type=\"submit\"]")).await.expect("a submit button").click().await.unwrap();
    let start = Instant::now();
    loop {
        let marked = c.execute("return document.documentElement.dataset.before === '1'", vec![]).await;
        let loaded = c.execute("return document.readyState", vec![]).await;
        if matches!(marked, Ok(Value::Bool(false))) && matches!(loaded, Ok(Value::String(ref s)) if s == "complete") {
            break;
        }
        assert!(start.elapsed() < NAVIGATION, "no page loaded within {NAVIGATION:?} after submitting a form");
        tokio::time::sleep(POLL).await;
    }
    let now = c.current_url().await.unwrap();
    let path = &now.as_str()[base.len().min(now.as_str().len())..];
    assert!(
        now.as_str().starts_with(base) && path.split('?').next() == Some(back),
        "after submitting, the browser is at {now}, not back at {back}:\n{}",
        body_text(c).await
    );
}

/// Waits (bounded) until every node holds the same number of entries of
/// `ledger`, at least `at_least`: the background syncs have converged.
async fn converged(nodes: &[&ServerHandle], ledger: &str, at_least: u64) -> u64 {
    let start = Instant::now();
    loop {
        let sizes: Vec<u64> = nodes.iter().map(|n| n.store().with_ledger(ledger, |l| l.len()).unwrap()).collect();
        if sizes.iter().all(|s| *s == sizes[0] && *s >= at_least) {
            return sizes[0];
        }
        assert!(start.elapsed() < SYNC, "the nodes did not converge within {SYNC:?}: sizes {sizes:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a PNG screenshot as `target/screenshots/NAME.png`, and as
/// `docs/screenshots/NAME.png` too when `to_docs` and `SCREENSHOTS_TO_DOCS=1`.
async fn screenshot(c: &Client, name: &str, to_docs: bool) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("screenshots");
    let mut dirs = vec![target];
    if to_docs && std::env::var("SCREENSHOTS_TO_DOCS").as_deref() == Ok("1") {
        dirs.push(repo().join("docs/screenshots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }
}

#[test]
fn a_viewer_logs_in_and_reads_the_dutch_statement_in_chromium() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, ledger) = hostile_agreed_ledger(d);
    let home = home_with_ledger(d, &ledger);
    // The statement `vereffen settle` computes for 2025: every amount the page must show.
    let settled: Value = serde_json::from_str(&ok(d, &["--json", "settle", &c.id, "--year", "2025"])).unwrap();
    let st = &settled["statement"];
    let dec = |v: &Value| -> Decimal { v.as_str().unwrap_or_else(|| panic!("{v}")).parse().unwrap() };
    let mut amounts: Vec<Decimal> = st["payments"].as_array().unwrap().iter().map(|p| dec(&p["amount"])).collect();
    assert!(!amounts.is_empty(), "the year has payments");
    for p in st["parties"].as_array().unwrap() {
        amounts.push(dec(&p["received"]));
        amounts.push(dec(&p["paid"]));
    }
    let big = amounts.iter().copied().max().unwrap();
    let big_nl = Lang::Nl.money(big).replace('\u{a0}', " ");
    assert!(big >= Decimal::from(1000) && big_nl.rfind(',') > big_nl.rfind('.'), "a 1.234,56-style amount: {big_nl}");

    add_user(d, &home, "anna", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    let driver = Driver::start(&chromedriver, d);
    let profile = d.join("chromium-profile");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let walk = async {
            let b = session(&driver, &chromium, &profile).await;

            // The real login form, with the CSRF token the server put in it.
            log_in(&b, &base, "anna").await;
            no_script_ran(&b, "the inbox").await;
            screenshot(&b, "inbox", false).await;

            // Contracts, then the contract: its title and the hospital's
            // name, holding `<script>`, are text.
            follow(&b, &base, "/contracts", "/contracts").await;
            let contract_page = format!("/contracts/{ledger}/{}", c.id);
            follow(&b, &base, &contract_page, &contract_page).await;
            let title = b.title().await.unwrap();
            assert!(title.starts_with(&format!("{SCRIPT} COPD telemonitoring")), "the document title: {title:?}");
            let h1 = b.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
            assert!(h1.starts_with(SCRIPT), "the heading: {h1:?}");
            let text = body_text(&b).await;
            assert!(text.contains(&format!("Ziekenhuis {SCRIPT}")), "the hospital's name as text:\n{text}");
            no_script_ran(&b, "the contract page").await;
            screenshot(&b, "contract", true).await;

            // The 2025 statement, then in Dutch by the page's language link.
            let statement = format!("{contract_page}/2025");
            follow(&b, &base, &statement, &statement).await;
            follow(&b, &base, "?lang=nl", &format!("{statement}?lang=nl")).await;
            let lang = b.execute("return document.documentElement.lang", vec![]).await.unwrap();
            assert_eq!(lang, json!("nl"));
            let text = body_text(&b).await;
            for a in &amounts {
                let nl = Lang::Nl.money(*a).replace('\u{a0}', " ");
                assert!(text.contains(&nl), "{nl} (settle: {a}) not on the Dutch statement page:\n{text}");
            }
            assert!(text.contains(&big_nl), "{big_nl} on the Dutch page");
            no_script_ran(&b, "the Dutch statement page").await;
            screenshot(&b, "statement-nl", true).await;

            b.close().await.unwrap();
        };
        tokio::time::timeout(WALK, walk).await.unwrap_or_else(|_| panic!("the browser walk took over {WALK:?}"));
    });
    drop(driver);
    node.shutdown();
}

/// The ledger of the three-node test.
const SHARED: &str = "copd-three-nodes";
/// The parties of the COPD contract that sign, each with its own node.
const SIGNATORIES: [&str; 3] = ["verzekeraar", "ziekenhuis", "thuiszorg"];

/// In `d/l` (the CLI's ledger): the four COPD parties registered, the COPD
/// example contract in force, and the providers' 2025 figures submitted
/// (the hospital's monthly patients and quality score, home care's PREM):
/// only the insurer has to attest them, and the insurer's own 2025 figures
/// are left to be submitted in the browser.
fn providers_figures_submitted(d: &Path) {
    ok(d, &["init", "--id", SHARED]);
    for (p, role) in [
        ("ziekenhuis", "provider"),
        ("thuiszorg", "provider"),
        ("verzekeraar", "payer"),
        ("vektis", "measurement_source"),
    ] {
        common::add_party(d, p, p, role, &key(p));
    }
    let copd = repo().join(COPD_FILE);
    let c = vereffen::domain::contract::check_file(&copd).unwrap();
    ok(d, &["contract", "propose", copd.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["contract", "accept", COPD_ID, "--version", &c.version_hash(), "--as", &key(p)]);
    }
    let figures = repo().join("examples/measurements").join(COPD_ID);
    for p in ["ziekenhuis", "thuiszorg"] {
        let all = std::fs::read_to_string(figures.join(format!("{p}.csv"))).unwrap();
        let mut rows = all.lines();
        let mut csv = format!("{}\n", rows.next().unwrap());
        for r in rows.filter(|r| r.split(',').nth(1).is_some_and(|period| period.starts_with("2025"))) {
            csv.push_str(r);
            csv.push('\n');
        }
        let file = d.join(format!("{p}-2025.csv"));
        std::fs::write(&file, csv).unwrap();
        ok(d, &["measure", "submit", COPD_ID, "--file", file.to_str().unwrap(), "--as", &key(p)]);
    }
}

/// Submits every `attest` form the figures page shows, one after the
/// other (each confirmed with the password), until none is left; returns
/// how many it submitted.
async fn attest_all(c: &Client, base: &str, figures: &str) -> usize {
    let mut done = 0;
    loop {
        c.goto(&format!("{base}{figures}")).await.unwrap();
        let Some(form) = form_in(c, "main", "/figures/attest").await else { return done };
        confirm(c, base, form, &[], figures).await;
        done += 1;
        assert!(done <= 40, "more attest forms than the year has figures");
    }
}

#[test]
fn three_signatories_attest_and_cosign_2025_in_their_browsers_and_every_node_shows_it_settled() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    providers_figures_submitted(d);
    // The insurer's 2025 figures, as its signer types them.
    let insurer_figures = [("care-cost", "2539510.14"), ("admissions", "0.55")];

    // Three organisations, each its own node home with its party key, a
    // copy of the ledger and a signer; the hospital also has a viewer.
    let homes: Vec<PathBuf> = SIGNATORIES
        .iter()
        .map(|p| {
            let h = node_support::home(d, &format!("home-{p}"), &[p]);
            copy_dir(&d.join("l"), &h.join("ledgers").join(SHARED));
            add_user(d, &h, &format!("{p}-signer"), "signer");
            h
        })
        .collect();
    add_user(d, &homes[1], "ziekenhuis-viewer", "viewer");
    let nodes: Vec<ServerHandle> =
        homes.iter().map(|h| serve_web_syncing(h, Some(Duration::from_millis(300)))).collect();
    for (i, h) in homes.iter().enumerate() {
        for (j, n) in nodes.iter().enumerate() {
            if i != j {
                node_support::add_peer(h, SIGNATORIES[j], &n.url(), SIGNATORIES[j]);
            }
        }
    }
    let bases: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let node_refs: Vec<&ServerHandle> = nodes.iter().collect();
    let contract = format!("/contracts/{SHARED}/{COPD_ID}");
    let statement = format!("{contract}/2025");
    let figures = format!("{statement}/figures");

    let driver = Driver::start(&chromedriver, d);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let walk = async {
            // One browser per organisation (its own profile, so its own cookies).
            let mut browsers = Vec::new();
            for (i, p) in SIGNATORIES.iter().enumerate() {
                let b = session(&driver, &chromium, &d.join(format!("profile-{p}"))).await;
                log_in(&b, &bases[i], &format!("{p}-signer")).await;
                browsers.push(b);
            }
            let (insurer, ins_base) = (&browsers[0], bases[0].as_str());

            // The insurer submits its two 2025 figures from their rows on
            // the figures page, then attests the providers' figures.
            for (indicator, value) in insurer_figures {
                insurer.goto(&format!("{ins_base}{figures}")).await.unwrap();
                let row = format!("tr#fig-{indicator}-2025");
                let Some(form) = form_in(insurer, &row, "/figures/submit").await else {
                    panic!("no submit form in {row}:\n{}", body_text(insurer).await)
                };
                confirm(insurer, ins_base, form, &[("value", value)], &figures).await;
            }
            let attested = attest_all(insurer, ins_base, &figures).await;
            assert!(attested >= 1, "the insurer had the providers' figures to attest");
            no_script_ran(insurer, "the insurer's figures page").await;
            screenshot(insurer, "figures", false).await;

            // After the background syncs, the hospital and home care attest
            // the insurer's figures (care-cost: both; admissions: the hospital).
            let size = converged(&node_refs, SHARED, 0).await;
            for i in 1..3 {
                let n = attest_all(&browsers[i], &bases[i], &figures).await;
                assert!(n >= 1, "{} had the insurer's figures to attest", SIGNATORIES[i]);
            }
            let size = converged(&node_refs, SHARED, size + 3).await;

            // A viewer sees the statement but no form to sign it or a figure.
            let viewer = session(&driver, &chromium, &d.join("profile-viewer")).await;
            log_in(&viewer, &bases[1], "ziekenhuis-viewer").await;
            viewer.goto(&format!("{}{statement}", bases[1])).await.unwrap();
            assert!(form_in(&viewer, "body", "/sign").await.is_none(), "a viewer is offered to sign the statement");
            viewer.goto(&format!("{}{figures}", bases[1])).await.unwrap();
            assert!(form_in(&viewer, "body", "/figures/attest").await.is_none(), "a viewer is offered to attest");
            viewer.close().await.unwrap();

            // Every signatory co-signs the 2025 statement on its own node.
            for (i, b) in browsers.iter().enumerate() {
                b.goto(&format!("{}{statement}", bases[i])).await.unwrap();
                let form = form_in(b, "main", "/2025/sign")
                    .await
                    .unwrap_or_else(|| panic!("{}: no co-sign form", SIGNATORIES[i]));
                confirm(b, &bases[i], form, &[], &statement).await;
            }
            converged(&node_refs, SHARED, size + 3).await;

            // Settled on every node, in English and in Dutch with nl-NL amounts.
            let benchmark = Lang::Nl.money("2578182.88".parse().unwrap()).replace('\u{a0}', " ");
            assert_eq!(benchmark, "2.578.182,88");
            for (i, b) in browsers.iter().enumerate() {
                for (lang, settled) in [("en", "settled"), ("nl", "vastgesteld")] {
                    b.goto(&format!("{}{statement}?lang={lang}", bases[i])).await.unwrap();
                    let text = body_text(b).await;
                    assert!(
                        text.contains(&format!(": {settled},")),
                        "{}: 2025 is not shown {settled} ({lang}):\n{text}",
                        SIGNATORIES[i]
                    );
                    if lang == "nl" {
                        assert!(text.contains(&benchmark), "{}: no {benchmark} on the Dutch page", SIGNATORIES[i]);
                    }
                    assert!(form_in(b, "body", "/sign").await.is_none(), "a settled year still offers to sign");
                }
                no_script_ran(b, "a settled statement").await;
            }
            screenshot(&browsers[1], "statement-settled-nl", false).await;
            for b in browsers {
                b.close().await.unwrap();
            }
        };
        tokio::time::timeout(WALK, walk).await.unwrap_or_else(|_| panic!("the three-node walk took over {WALK:?}"));
    });
    drop(driver);
    for n in nodes {
        n.shutdown();
    }
    // Each copy, read by the CLI after the nodes stopped: 2025 settled, and
    // the journal verifies.
    for h in &homes {
        let l = h.join("ledgers").join(SHARED);
        let l = l.to_str().unwrap();
        ok(d, &["--ledger", l, "verify"]);
        let status = ok(d, &["--ledger", l, "--json", "settle", "status", COPD_ID]);
        let status: Value = serde_json::from_str(&status).unwrap();
        let y2025 = status.as_array().unwrap().iter().find(|y| y["year"] == json!(2025)).expect("2025 in the status");
        assert!(
            y2025["state"] == json!("settled") && y2025["settled"].is_string(),
            "{}: 2025 not settled: {y2025}",
            h.display()
        );
    }
}

/// The ledger of the offer test: the COPD contract's parties, no contract.
const OFFERED: &str = "copd-offered";

/// Clicks `form`'s submit button and waits (bounded) until a new page has
/// loaded; returns the page's body text. For a step that asks no password
/// (a preview).
async fn submit_and_wait(c: &Client, form: Element) -> String {
    c.execute("document.documentElement.dataset.before = '1'", vec![]).await.unwrap();
    form.find(Locator::Css("button[type=\"submit\"]")).await.expect("a submit button").click().await.unwrap();
    let start = Instant::now();
    loop {
        let marked = c.execute("return document.documentElement.dataset.before === '1'", vec![]).await;
        let loaded = c.execute("return document.readyState", vec![]).await;
        if matches!(marked, Ok(Value::Bool(false))) && matches!(loaded, Ok(Value::String(ref s)) if s == "complete") {
            return body_text(c).await;
        }
        assert!(start.elapsed() < NAVIGATION, "no page loaded within {NAVIGATION:?} after submitting a form");
        tokio::time::sleep(POLL).await;
    }
}

/// Chooses the file `path` in `form`'s contract file input (WebDriver
/// sends a file input its absolute path as keys), previews it and returns
/// the preview's text.
async fn upload_and_preview(c: &Client, form: Element, path: &Path) -> String {
    let input = form.find(Locator::Css("input[type=\"file\"][name=\"contract\"]")).await.expect("a file input");
    input.send_keys(path.to_str().unwrap()).await.unwrap();
    submit_and_wait(c, form).await
}

#[test]
fn the_hospital_proposes_the_insurer_counters_and_both_accept_in_their_browsers() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", OFFERED]);
    for (p, role) in [
        ("ziekenhuis", "provider"),
        ("thuiszorg", "provider"),
        ("verzekeraar", "payer"),
        ("vektis", "measurement_source"),
    ] {
        common::add_party(d, p, p, role, &key(p));
    }
    let copd = repo().join(COPD_FILE);
    let text = std::fs::read_to_string(&copd).unwrap();
    let counter_file = d.join("copd-counter.toml");
    std::fs::write(&counter_file, text.replacen("provider_share = 0.5\n", "provider_share = 0.45\n", 1)).unwrap();
    let counter = vereffen::domain::contract::check_file(&counter_file).unwrap().version_hash();

    // The three signatories, each its own node with its party key and a signer.
    let homes: Vec<PathBuf> = SIGNATORIES
        .iter()
        .map(|p| {
            let h = node_support::home(d, &format!("home-{p}"), &[p]);
            copy_dir(&d.join("l"), &h.join("ledgers").join(OFFERED));
            add_user(d, &h, &format!("{p}-signer"), "signer");
            h
        })
        .collect();
    let nodes: Vec<ServerHandle> =
        homes.iter().map(|h| serve_web_syncing(h, Some(Duration::from_millis(300)))).collect();
    for (i, h) in homes.iter().enumerate() {
        for (j, n) in nodes.iter().enumerate() {
            if i != j {
                node_support::add_peer(h, SIGNATORIES[j], &n.url(), SIGNATORIES[j]);
            }
        }
    }
    let bases: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let node_refs: Vec<&ServerHandle> = nodes.iter().collect();
    let contract = format!("/contracts/{OFFERED}/{COPD_ID}");

    let driver = Driver::start(&chromedriver, d);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let walk = async {
            let mut browsers = Vec::new();
            for (i, p) in SIGNATORIES.iter().enumerate() {
                let b = session(&driver, &chromium, &d.join(format!("profile-offer-{p}"))).await;
                log_in(&b, &bases[i], &format!("{p}-signer")).await;
                browsers.push(b);
            }
            let size = converged(&node_refs, OFFERED, 0).await;

            // The hospital proposes the contract by uploading its file,
            // reads the preview and signs it.
            let (hospital, h_base) = (&browsers[1], bases[1].as_str());
            hospital.goto(&format!("{h_base}/contracts")).await.unwrap();
            follow(hospital, h_base, "/propose", "/propose").await;
            let form = form_in(hospital, "main", "/propose").await.expect("the new-contract form");
            let preview = upload_and_preview(hospital, form, &copd).await;
            assert!(preview.contains("Preview: proposing contract") && preview.contains("Term: 2025-2027"), "{preview}");
            no_script_ran(hospital, "the proposal's preview").await;
            let form = form_in(hospital, "main", "/propose/confirm").await.expect("the confirm form");
            confirm(hospital, h_base, form, &[], &contract).await;
            let size = converged(&node_refs, OFFERED, size + 1).await;

            // The insurer counters with a provider share of 45%: the
            // preview says what changes, in words.
            let (insurer, i_base) = (&browsers[0], bases[0].as_str());
            insurer.goto(&format!("{i_base}{contract}")).await.unwrap();
            let form = form_in(insurer, "main", "/offer").await.expect("the counter form");
            let preview = upload_and_preview(insurer, form, &counter_file).await;
            assert!(preview.contains("provider share of savings: 50% -> 45%"), "{preview}");
            screenshot(insurer, "counter-preview", false).await;
            let form = form_in(insurer, "main", "/offer/confirm").await.expect("the confirm form");
            confirm(insurer, i_base, form, &[], &contract).await;
            let size = converged(&node_refs, OFFERED, size + 1).await;

            // The hospital and home care accept the counter-proposal from the contract page.
            for i in [1, 2] {
                let b = &browsers[i];
                b.goto(&format!("{}{contract}", bases[i])).await.unwrap();
                let css = format!(
                    "main form[action$=\"/decide\"]:has(input[name=\"version\"][value=\"{counter}\"]):has(input[name=\"decision\"][value=\"accept\"])"
                );
                let form = b.find(Locator::Css(&css)).await.unwrap_or_else(|e| panic!("{}: no accept form: {e}", SIGNATORIES[i]));
                confirm(b, &bases[i], form, &[], &contract).await;
            }
            converged(&node_refs, OFFERED, size + 2).await;

            // Every node shows the counter-proposal in force.
            let in_force = format!("in force (version {})", &counter[..12]);
            for (i, b) in browsers.iter().enumerate() {
                b.goto(&format!("{}{contract}", bases[i])).await.unwrap();
                let text = body_text(b).await;
                assert!(text.contains(&in_force), "{}: not {in_force}:\n{text}", SIGNATORIES[i]);
                no_script_ran(b, "the contract page").await;
            }
            for b in browsers {
                b.close().await.unwrap();
            }
        };
        tokio::time::timeout(WALK, walk).await.unwrap_or_else(|_| panic!("the offer walk took over {WALK:?}"));
    });
    drop(driver);
    for n in nodes {
        n.shutdown();
    }
    // Each copy, read by the CLI after the nodes stopped: the counter is in force.
    for h in &homes {
        let l = h.join("ledgers").join(OFFERED);
        let status: Value =
            serde_json::from_str(&ok(d, &["--ledger", l.to_str().unwrap(), "--json", "contract", "status", COPD_ID]))
                .unwrap();
        assert_eq!(status["base"], json!(counter), "{}: {status}", h.display());
    }
}
