//! Set-up shared by the web workspace tests (tests/web.rs, driven with
//! reqwest, and tests/web_browser.rs, driven in headless Chromium): a node
//! home, its users, the COPD contract with `<script>` in its ledger text,
//! and a node serving the workspace in this process (syncing with its
//! peers in the background when asked).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::{agreed_ledger, copy_dir, ok, repo, COPD_FILE, COPD_ID};
use crate::node_support;
use vereffen::domain::contract::Contract;
use vereffen::node::server::{self, ExtraRoutes, Limits, ServeConfig, ServerHandle};
use vereffen::web;

/// Ledger text a counterparty could write to run code in a colleague's browser.
pub const SCRIPT: &str = "<script>alert(1)</script>";
/// [`SCRIPT`] as a page must show it: escaped, as text.
pub const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
/// Longest one request of the web tests may take.
pub const CLIENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A node serving `home` with the web workspace, in this process, on
/// 127.0.0.1 port 0 (plain HTTP: loopback).
pub fn serve_web(home: &Path) -> ServerHandle {
    serve_web_syncing(home, None)
}

/// [`serve_web`], syncing with the home's peers every `sync_every` in the
/// background when set (the peers file is read again each round).
pub fn serve_web_syncing(home: &Path, sync_every: Option<std::time::Duration>) -> ServerHandle {
    server::serve(ServeConfig {
        home: home.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        insecure_http: false,
        sync_every,
        limits: Limits::default(),
        keys: None,
        extra: Some(ExtraRoutes(Arc::new(|store| web::router(store, web::WebConfig::default())))),
    })
    .expect("the node starts")
}

/// `vereffen user add NAME --role ROLE --home HOME --password-file F`,
/// with [`PASSWORD`].
pub fn add_user(d: &Path, home: &Path, name: &str, role: &str) {
    let pw = d.join(format!("{name}.password"));
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let h = home.to_str().unwrap();
    ok(d, &["user", "add", name, "--role", role, "--home", h, "--password-file", pw.to_str().unwrap()]);
}

/// A node home with the hospital's key, no ledgers.
pub fn empty_home(d: &Path) -> PathBuf {
    node_support::home(d, "h", &["ziekenhuis"])
}

/// The COPD example contract with `<script>` in its title and in the
/// hospital's name.
pub fn hostile_contract(d: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join(COPD_FILE)).unwrap();
    let text = text
        .replacen("title = \"COPD telemonitoring", &format!("title = \"{SCRIPT} COPD telemonitoring"), 1)
        .replacen("name = \"Ziekenhuis Oost-Achterhoek\"", &format!("name = \"Ziekenhuis {SCRIPT}\""), 1);
    assert!(text.matches(SCRIPT).count() == 2);
    let file = d.join("copd.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// The hostile COPD contract in force with every example figure agreed, in
/// the ledger folder `d/l` (the CLI's working ledger in `d`): the contract
/// and the ledger's id (`web-` and the contract id).
pub fn hostile_agreed_ledger(d: &Path) -> (Contract, String) {
    let file = hostile_contract(d);
    let figures = repo().join("examples/measurements").join(COPD_ID);
    let c = agreed_ledger(d, "web", &file, &figures);
    let ledger = format!("web-{}", c.id);
    (c, ledger)
}

/// A node home (see [`empty_home`]) holding a copy of the ledger `d/l` as
/// `ledger`.
pub fn home_with_ledger(d: &Path, ledger: &str) -> PathBuf {
    let home = empty_home(d);
    copy_dir(&d.join("l"), &home.join("ledgers").join(ledger));
    home
}

/// An HTTP client for the workspace: a cookie store, no redirects
/// followed, every request bounded by [`CLIENT_TIMEOUT`].
pub fn client() -> reqwest::Client {
    let tls = vereffen::node::tls::client_config(None).unwrap();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap()
}

/// The CSRF token in the first hidden `csrf` field of a page.
pub fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    page[at..at + 64].to_string()
}

/// GET `path`: (status, Location header, body).
pub async fn get(c: &reqwest::Client, base: &str, path: &str) -> (u16, String, String) {
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// POST a form: (status, Location header, body).
pub async fn post(c: &reqwest::Client, base: &str, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(format!("{base}{path}")).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// Logs `user` in with `password` through the login form and its token:
/// the answer to the POST (status, Location header, body).
pub async fn login(c: &reqwest::Client, base: &str, user: &str, password: &str) -> (u16, String, String) {
    let (s, _, page) = get(c, base, "/login").await;
    assert_eq!(s, 200);
    let token = csrf_in(&page);
    post(c, base, "/login", &[("user", user), ("password", password), ("csrf", &token)]).await
}

/// A current-thread tokio runtime for a test's client.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// One part of a multipart form: field name, file name (a file), bytes.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// The boundary of [`multipart`] bodies.
pub const BOUNDARY: &str = "----vereffen-test-boundary-7c1f";

/// A multipart/form-data body of `parts` (field name, file name for a
/// file, bytes), with [`BOUNDARY`].
pub fn multipart<B: AsRef<[u8]>>(parts: &[(&str, Option<&str>, B)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, file, bytes) in parts {
        b.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => b.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/toml\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        b.extend_from_slice(bytes.as_ref());
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

/// POST a multipart form: (status, Location header, body).
pub async fn post_multipart(c: &reqwest::Client, base: &str, path: &str, parts: &[Part<'_>]) -> (u16, String, String) {
    post_multipart_body(c, base, path, multipart(parts)).await
}

/// POST a multipart body built with [`multipart`]: (status, Location
/// header, body).
pub async fn post_multipart_body(c: &reqwest::Client, base: &str, path: &str, body: Vec<u8>) -> (u16, String, String) {
    let r = c
        .post(format!("{base}{path}"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// The value of the first hidden field `name` of a page, unescaped.
pub fn hidden_in(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("a hidden {name} field")) + marker.len();
    let end = at + page[at..].find('"').unwrap();
    page[at..end].replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}
