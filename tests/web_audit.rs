//! The web workspace's audit side (issue 16): the audit list and a copy's
//! audit page (the report of `vereffen audit report`, anomalies first, and
//! what `vereffen verify` checks), its downloads byte for byte, the
//! auditor's read-only login, and the contracts cache kept by each copy's
//! head (rebuilt when broken, current after an append). Served by a node
//! in this process on 127.0.0.1 port 0; every wait is bounded.

mod common;
mod node_support;
mod web_support;

use std::path::Path;

use common::{copy_dir, key, ok, run};
use web_support::{
    add_user, client, csrf_in, empty_home, hostile_agreed_ledger, runtime, serve_web, ESCAPED, PASSWORD, SCRIPT,
};

/// GET `path`: (status, body bytes).
async fn get(c: &reqwest::Client, base: &str, path: &str) -> (u16, Vec<u8>) {
    let r = c.get(format!("{base}{path}")).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// GET `path` as text: (status, body).
async fn get_text(c: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let (s, b) = get(c, base, path).await;
    (s, String::from_utf8(b).unwrap())
}

/// Logs `user` in; returns the status of the POST.
async fn login(c: &reqwest::Client, base: &str, user: &str) -> u16 {
    let (s, page) = get_text(c, base, "/login").await;
    assert_eq!(s, 200);
    let form = [("user", user), ("password", PASSWORD), ("csrf", &csrf_in(&page))];
    c.post(format!("{base}/login")).form(&form).send().await.unwrap().status().as_u16()
}

/// The hostile COPD ledger (`d/l`) with an equivocation recorded in a
/// second copy `d/b`: the hospital forks its copy after a witnessed
/// checkpoint and shows the insurer's copy two checkpoints of one size with
/// different roots. Returns the ledger id.
fn hostile_ledger_with_equivocation(d: &Path) -> String {
    let (_, ledger) = hostile_agreed_ledger(d);
    let zh = key("ziekenhuis");
    let vz = key("verzekeraar");
    ok(d, &["--ledger", "l", "audit", "checkpoint", "--as", &zh, "--out", "c1"]);
    copy_dir(&d.join("l"), &d.join("b"));
    // b is the insurer's copy, not the hospital's: it has no origin of its own.
    let _ = std::fs::remove_file(d.join("b/origin"));
    ok(d, &["--ledger", "b", "audit", "witness", "c1", "--as", &vz]);
    copy_dir(&d.join("l"), &d.join("fork"));
    ok(d, &["--ledger", "l", "note", "--text", "admissions fell by 30%", "--as", &zh]);
    ok(d, &["--ledger", "fork", "note", "--text", "admissions fell by 10%", "--as", &zh]);
    ok(d, &["--ledger", "l", "audit", "checkpoint", "--as", &zh, "--out", "c2"]);
    ok(d, &["--ledger", "fork", "audit", "checkpoint", "--as", &zh, "--out", "c2-fork"]);
    ok(d, &["--ledger", "l", "audit", "consistency", "c1", "c2", "--out", "p12"]);
    ok(d, &["--ledger", "b", "audit", "witness", "c2", "--proof", "p12", "--as", &vz]);
    let (code, _, err) = run(d, &["--ledger", "b", "audit", "witness", "c2-fork", "--as", &vz]);
    assert_eq!(code, 3, "equivocation: {err}");
    ledger
}

#[test]
fn an_auditor_reads_the_audit_page_anomalies_first_escaped_with_the_equivocation_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ledger = hostile_ledger_with_equivocation(d);
    let home = empty_home(d);
    let copy = home.join("ledgers").join(&ledger);
    copy_dir(&d.join("b"), &copy);
    add_user(d, &home, "ada", "auditor");
    let journal = std::fs::read(copy.join("journal")).unwrap();
    // What the command line writes, for the downloads.
    let b = d.join("b");
    let b = b.to_str().unwrap();
    let html_en = ok(d, &["--ledger", b, "--lang", "en", "audit", "report", "--format", "html"]);
    let html_nl = ok(d, &["--ledger", b, "--lang", "nl", "audit", "report", "--format", "html"]);
    let json = ok(d, &["--ledger", b, "audit", "report", "--format", "json"]);
    assert!(json.contains("\"equivocation\""), "{json}");

    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let c = client();
        // Not signed in: to the login page.
        let r = c.get(format!("{base}/ledgers/{ledger}/audit")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(login(&c, &base, "ada").await, 303);

        let path = format!("/ledgers/{ledger}/audit");
        let (s, page) = get_text(&c, &base, &format!("{path}?lang=en")).await;
        assert_eq!(s, 200, "{page}");
        // Ledger text escaped, no script.
        assert!(page.contains(ESCAPED), "the hostile name, escaped:\n{page}");
        assert!(!page.contains(SCRIPT) && !page.contains("<script"), "{page}");
        // Anomalies first, the equivocation among them and as evidence.
        let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} missing:\n{page}"));
        assert!(at("id=\"anomalies\"") < at("id=\"parties\""));
        assert!(at("id=\"parties\"") < at("id=\"checkpoints\""));
        assert!(at("id=\"anomalies\"") < at("equivocation</td>"));
        assert!(at("id=\"equivocations\"") < at("EQUIVOCATION: two signed checkpoints"));
        assert!(at("id=\"checkpoints\"") < at("Cosigned by: verzekeraar/"), "checkpoints with their cosignatures");
        // The verification, as `verify` finds the copy.
        let verify = ok(d, &["--ledger", b, "verify"]);
        assert!(verify.contains("verify OK"), "{verify}");
        assert!(at("id=\"verification\"") > at("id=\"equivocations\""));
        assert!(page.contains("verify OK: chain intact"), "{page}");
        // Semantic: the verdict is a status, downloads are links.
        assert!(page.contains("role=\"status\""));
        assert!(page.contains(&format!("href=\"{path}/report.json\"")), "{page}");
        // Dutch: the report's Dutch words.
        let (s, nl) = get_text(&c, &base, &format!("{path}?lang=nl")).await;
        assert_eq!(s, 200);
        assert!(nl.contains("<html lang=\"nl\">") && nl.contains("verificatie in orde"), "{nl}");

        // The downloads are the bytes `vereffen audit report` writes.
        let (s, got) = get(&c, &base, &format!("{path}/report.json")).await;
        assert_eq!(s, 200);
        assert_eq!(String::from_utf8(got).unwrap(), json);
        let (s, got) = get(&c, &base, &format!("{path}/report.html?lang=en")).await;
        assert_eq!(s, 200);
        assert_eq!(String::from_utf8(got).unwrap(), html_en);
        let (s, got) = get(&c, &base, &format!("{path}/report.html?lang=nl")).await;
        assert_eq!(s, 200);
        assert_eq!(String::from_utf8(got).unwrap(), html_nl);

        // The audit list: the copy with its anomaly count and last checkpoint.
        let (s, list) = get_text(&c, &base, "/audit?lang=en").await;
        assert_eq!(s, 200, "{list}");
        let anomalies =
            serde_json::from_str::<serde_json::Value>(&json).unwrap()["anomalies"].as_array().unwrap().len();
        assert!(list.contains(&format!("<td class=\"num\">{anomalies}</td>")), "{anomalies} anomalies:\n{list}");
        assert!(list.contains(&format!("href=\"{path}\"")) && list.contains("href=\"/signatures\""), "{list}");
        assert!(list.contains("cosigned by one witness"), "{list}");
        // Linked from the contracts list and the navigation.
        let (_, contracts) = get_text(&c, &base, "/contracts").await;
        assert!(contracts.contains(&format!("href=\"{path}\"")), "{contracts}");
        assert!(contracts.contains("href=\"/audit\""), "{contracts}");

        // Unknown ledgers and files: 404.
        for bad in ["/ledgers/nope/audit", &format!("{path}/report.exe"), "/ledgers/nope/audit/report.json"] {
            assert_eq!(get(&c, &base, bad).await.0, 404, "{bad}");
        }
        // The audit pages are read-only: no POST route, and reading wrote nothing.
        for p in [path.as_str(), "/audit", &format!("{path}/report.json")] {
            let r = c.post(format!("{base}{p}")).form(&[("csrf", "x")]).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 405, "POST {p}");
        }
    });
    node.shutdown();
    assert_eq!(std::fs::read(copy.join("journal")).unwrap(), journal, "reading the audit pages wrote nothing");
}

/// The contracts of a home through the cache equal the uncached read; an
/// entry appended to one copy shows at the next read; a corrupt or missing
/// cache file is rebuilt, never an error.
#[test]
fn the_contracts_cache_follows_each_copys_head_and_is_rebuilt_when_broken() {
    use vereffen::node::home::Home;
    use vereffen::node::store::Store;
    use vereffen::web::{cache, pages};
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, ledger) = hostile_agreed_ledger(d);
    let home = empty_home(d);
    let copy = home.join("ledgers").join(&ledger);
    copy_dir(&d.join("l"), &copy);
    let store = Store::open(Home::open(&home).unwrap(), Vec::new()).unwrap();
    let caches = cache::Caches::of_home(&home);
    let uncached = pages::contract_rows(&store).unwrap();
    assert_eq!(uncached.len(), 1);
    assert_eq!(cache::contract_rows(&store, &caches).unwrap(), uncached);
    let file = home.join(cache::CACHE_DIR).join("contracts").join(format!("{ledger}.json"));
    assert!(file.is_file(), "the rows are kept on disk");
    // Again: from the cache, the same rows.
    assert_eq!(cache::contract_rows(&store, &caches).unwrap(), uncached);

    // A second contract proposed on the copy (by the command line, the store closed).
    store.close_all();
    let text = std::fs::read_to_string(d.join("copd.toml")).unwrap();
    let other = text.replacen(&format!("id = \"{}\"", c.id), "id = \"copd-second\"", 1);
    assert_ne!(other, text);
    std::fs::write(d.join("second.toml"), other).unwrap();
    let second = d.join("second.toml");
    ok(
        d,
        &[
            "--ledger",
            copy.to_str().unwrap(),
            "contract",
            "propose",
            second.to_str().unwrap(),
            "--as",
            &key("ziekenhuis"),
        ],
    );
    let changed = pages::contract_rows(&store).unwrap();
    assert_eq!(changed.len(), 2);
    assert_eq!(cache::contract_rows(&store, &caches).unwrap(), changed, "the new contract at the next read");

    // A corrupt cache file, with nothing in memory: rebuilt.
    std::fs::write(&file, b"{ not json").unwrap();
    let fresh = cache::Caches::of_home(&home);
    assert_eq!(cache::contract_rows(&store, &fresh).unwrap(), changed);
    let rewritten = std::fs::read_to_string(&file).unwrap();
    assert!(rewritten.contains("copd-second"), "the file is rewritten: {rewritten}");
    // A cache file of another head (stale) is not believed.
    let stale = rewritten.replace("copd-second", "copd-stale");
    let head = vereffen::audit::inbox::settled_head(&copy).unwrap();
    std::fs::write(&file, stale.replace(&serde_json::to_string(&head).unwrap(), "\"0 other head\"")).unwrap();
    let fresh = cache::Caches::of_home(&home);
    assert_eq!(cache::contract_rows(&store, &fresh).unwrap(), changed);
    // A missing cache directory, or one that cannot be written: still the rows.
    std::fs::remove_dir_all(home.join(cache::CACHE_DIR)).unwrap();
    std::fs::write(home.join(cache::CACHE_DIR), b"a file where the directory was").unwrap_or_else(|_| {
        std::fs::create_dir_all(home.join("cache")).unwrap();
        std::fs::write(home.join(cache::CACHE_DIR), b"a file where the directory was").unwrap();
    });
    let fresh = cache::Caches::of_home(&home);
    assert_eq!(cache::contract_rows(&store, &fresh).unwrap(), changed);
}

/// The page through the node: an entry appended while the node serves shows
/// on the next request of the contracts page.
#[test]
fn the_contracts_page_shows_an_append_at_the_next_request() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, ledger) = hostile_agreed_ledger(d);
    let home = empty_home(d);
    let copy = home.join("ledgers").join(&ledger);
    copy_dir(&d.join("l"), &copy);
    add_user(d, &home, "vera", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let cl = client();
        assert_eq!(login(&cl, &base, "vera").await, 303);
        let (s, page) = get_text(&cl, &base, "/contracts").await;
        assert_eq!(s, 200);
        assert!(page.contains(&c.id) && !page.contains("copd-second"), "{page}");
        // Every role reads the audit pages; a viewer too.
        assert_eq!(get(&cl, &base, &format!("/ledgers/{ledger}/audit")).await.0, 200);
        // Appended by the command line (it waits for the node's lock on the copy).
        let text = std::fs::read_to_string(d.join("copd.toml")).unwrap();
        std::fs::write(d.join("second.toml"), text.replacen(&format!("id = \"{}\"", c.id), "id = \"copd-second\"", 1))
            .unwrap();
        let second = d.join("second.toml");
        let args = [
            "--ledger",
            copy.to_str().unwrap(),
            "contract",
            "propose",
            second.to_str().unwrap(),
            "--as",
            &key("ziekenhuis"),
        ];
        let out = tokio::task::spawn_blocking({
            let d = d.to_path_buf();
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            move || run(&d, &args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        assert_eq!(out.0, 0, "{}", out.2);
        let (s, page) = get_text(&cl, &base, "/contracts").await;
        assert_eq!(s, 200);
        assert!(page.contains(&c.id) && page.contains("copd-second"), "{page}");
    });
    node.shutdown();
}
