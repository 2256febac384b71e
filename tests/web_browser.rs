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

use common::{ok, repo};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use vereffen::present::lang::Lang;
use web_support::{add_user, home_with_ledger, hostile_agreed_ledger, serve_web, PASSWORD, SCRIPT};

/// Longest chromedriver may take to accept connections.
const DRIVER_READY: Duration = Duration::from_secs(30);
/// Longest one navigation may take to reach its page.
const NAVIGATION: Duration = Duration::from_secs(60);
/// Longest the whole browser walk may take.
const WALK: Duration = Duration::from_secs(300);
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
            b.goto(&format!("{base}/login?lang=en")).await.unwrap();
            let form = b.find(Locator::Css("form[action=\"/login\"]")).await.expect("the login form");
            let token = form.find(Locator::Css("input[name=\"csrf\"]")).await.unwrap().attr("value").await.unwrap();
            assert_eq!(token.as_deref().map(str::len), Some(64), "a CSRF token in the form: {token:?}");
            form.find(Locator::Css("input[name=\"user\"]")).await.unwrap().send_keys("anna").await.unwrap();
            form.find(Locator::Css("input[name=\"password\"]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
            form.find(Locator::Css("button[type=\"submit\"]")).await.unwrap().click().await.unwrap();
            wait_at(&b, &base, "/inbox").await;
            assert!(b.find(Locator::Css("form[action=\"/logout\"]")).await.is_ok(), "logged in: a logout button");
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
