//! Web workspace benchmark (issue 16: "server time under 100 ms for every
//! page on a node holding 2,000 ledgers").
//!
//! ```text
//! cargo run --release --example web_bench -- [--ledgers 2000] [--runs 50] [--dir HOME]
//! ```
//!
//! Builds a node home of N heart-failure ledgers (the inbox bench's,
//! `bench_common::hf_home`: 26 entries each, the insurer's key in
//! `HOME/keys`), or reuses the one in `--dir HOME` when it already holds
//! ledgers, adds an auditor user, starts the node with the workspace in
//! this process on loopback (plain HTTP), logs in, and requests each page
//! `--runs` times one after another: inbox, contracts, a contract, a
//! statement, its XLSX and PDF, a copy's audit page, the audit list, the
//! year's figures page, the signature log and the model page (its form).
//! The time is the response time
//! on loopback, head to last body byte. Prints, per page, the first
//! request (`first_ms`, with the caches as found: cold in a new home) and
//! `page=<name> p50_ms= p99_ms=` over the runs after it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "bench_common/mod.rs"]
#[allow(dead_code)]
mod bench_common;
use bench_common::arg;
use bench_common::hf_home::{entries, write_copy, CONTRACT_FILE};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;
use vereffen::audit::inbox;
use vereffen::ledger::keys;
use vereffen::node::server::{self, ExtraRoutes, Limits, ServeConfig};
use vereffen::web::users::{Role, Users};

const USER: &str = "bench-auditor";
const PASSWORD: &str = "a bench password long enough";

/// The value of `--name PATH`.
fn path_arg(name: &str) -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(PathBuf::from)
}

/// Builds N ledgers in `home` (unless it already holds ledgers) and the
/// insurer's key; returns the number of ledgers.
fn build_home(home: &Path, n: usize, contract: &vereffen::domain::contract::Contract) -> usize {
    let ledgers = home.join(inbox::HOME_LEDGERS_DIR);
    let have = std::fs::read_dir(&ledgers).map(|d| d.count()).unwrap_or(0);
    if have > 0 {
        println!("reused_home={} ledgers={have}", home.display());
        return have;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = |party: &str| keys::load_signing_key(&repo.join(format!("keys/demo-{party}.key"))).expect("demo key");
    let (zh, vz) = (demo("ziekenhuis"), demo("verzekeraar"));
    keys::write_key_files(&home.join(inbox::HOME_KEYS_DIR), "insurer", &vz).expect("keys");
    let t = Instant::now();
    (0..n).into_par_iter().for_each(|i| {
        let id = format!("hf-{i:05}");
        write_copy(&ledgers.join(&id), &id, &entries(&id, &zh, &vz, contract));
    });
    println!("ledgers={n}");
    println!("build_s={:.1}", t.elapsed().as_secs_f64());
    n
}

/// The CSRF token in the first hidden `csrf` field of a page.
fn csrf_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("a csrf field") + marker.len();
    page[at..at + 64].to_string()
}

/// GET `path`: (status, milliseconds to the last body byte, bytes).
async fn timed_get(c: &reqwest::Client, base: &str, path: &str) -> (u16, f64, usize) {
    let t = Instant::now();
    let r = c.get(format!("{base}{path}")).send().await.expect("request");
    let status = r.status().as_u16();
    let body = r.bytes().await.expect("body");
    (status, t.elapsed().as_secs_f64() * 1000.0, body.len())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n = arg("--ledgers", 2000);
    let runs = arg("--runs", 50).max(1);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let contract = vereffen::domain::contract::check_file(&repo.join(CONTRACT_FILE)).expect("contract");
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = path_arg("--dir").unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&home).expect("home");
    build_home(&home, n, &contract);
    let users = Users::of_home(&home);
    if !users.list().expect("users").iter().any(|u| u.name == USER) {
        users.add(USER, Role::Auditor, PASSWORD.as_bytes()).expect("add the bench user");
    }
    let node = server::serve(ServeConfig {
        home: home.clone(),
        listen: "127.0.0.1:0".parse().expect("address"),
        tls: None,
        insecure_http: false,
        sync_every: None,
        limits: Limits::default(),
        keys: None,
        extra: Some(ExtraRoutes(Arc::new(|store| vereffen::web::router(store, vereffen::web::WebConfig::default())))),
    })
    .expect("the node starts");
    let base = node.url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let tls = vereffen::node::tls::client_config(None).expect("tls");
        let c = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(600))
            .build()
            .expect("client");
        let page = c.get(format!("{base}/login")).send().await.expect("login page").text().await.expect("text");
        let form = [("user", USER), ("password", PASSWORD), ("csrf", &csrf_in(&page))];
        let r = c.post(format!("{base}/login")).form(&form).send().await.expect("login");
        assert_eq!(r.status().as_u16(), 303, "logged in");

        let (ledger, id) = ("hf-00000", contract.id.as_str());
        let statement = format!("/contracts/{ledger}/{id}/2026");
        let mut pages: Vec<(&str, String)> = vec![
            ("inbox", "/inbox".into()),
            ("contracts", "/contracts".into()),
            ("contract", format!("/contracts/{ledger}/{id}")),
            ("statement", statement.clone()),
            ("statement_xlsx", format!("{statement}/statement.xlsx")),
            ("statement_pdf", format!("{statement}/statement.pdf")),
            ("audit_page", format!("/ledgers/{ledger}/audit")),
            ("audit_list", "/audit".into()),
        ];
        pages.push(("figures", format!("{statement}/figures")));
        pages.push(("signatures", "/signatures".into()));
        pages.push(("model", "/model".into()));
        // An entry page: the first entry the statement page links to.
        let st = c.get(format!("{base}{statement}")).send().await.expect("statement").text().await.expect("text");
        let prefix = format!("/ledgers/{ledger}/entries/");
        let at = st.find(&prefix).expect("the statement links its entries") + prefix.len();
        pages.push(("entry", format!("{prefix}{}", &st[at..at + 64])));
        for (name, path) in &pages {
            let (status, first, bytes) = timed_get(&c, &base, path).await;
            assert_eq!(status, 200, "{path}");
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let (status, ms, _) = timed_get(&c, &base, path).await;
                assert_eq!(status, 200, "{path}");
                times.push(ms);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "page={name} p50_ms={:.1} p99_ms={:.1} first_ms={first:.1} bytes={bytes}",
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    });
    drop(node);
}
