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
