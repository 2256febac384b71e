//! Signing from the browser (issue 16): the figures page and its actions
//! (submit, attest, dispute, correct), co-signing a statement, and the
//! signature log, driven with reqwest against a node in this process on
//! 127.0.0.1 port 0. Every action is checked on the node's copy through
//! the command line (`measure list --json`), and every refusal by the
//! journal's bytes and the log staying as they were.

mod common;
mod node_support;
mod web_support;

use std::path::{Path, PathBuf};

use common::{key, ok, repo, COPD_FILE, COPD_ID};
use serde_json::Value;
use web_support::{
    add_user, client, csrf_in, get, home_with_ledger, hostile_agreed_ledger, post, runtime, serve_web, ESCAPED,
    PASSWORD, SCRIPT,
};

/// Logs `user` in (with [`PASSWORD`]) and returns the session's CSRF token.
async fn login(c: &reqwest::Client, base: &str, user: &str) -> String {
    let (s, loc, _) = web_support::login(c, base, user, PASSWORD).await;
    assert_eq!((s, loc.as_str()), (303, "/inbox"), "{user} logs in");
    let (_, _, inbox) = get(c, base, "/inbox").await;
    csrf_in(&inbox)
}

/// The COPD contract in force in `d/l` with the home-care figures agreed
/// and the insurer's submitted but not attested; the hospital's figures
/// (patients, ccq) are missing. Returns the ledger id.
fn half_done_ledger(d: &Path) -> String {
    let figs = d.join("figs");
    std::fs::create_dir_all(&figs).unwrap();
    let src = repo().join("examples/measurements").join(COPD_ID);
    std::fs::copy(src.join("thuiszorg.csv"), figs.join("thuiszorg.csv")).unwrap();
    let c = common::agreed_ledger(d, "act", &repo().join(COPD_FILE), &figs);
    let f = src.join("verzekeraar.csv");
    ok(d, &["measure", "submit", &c.id, "--file", f.to_str().unwrap(), "--as", &key("verzekeraar")]);
    format!("act-{}", c.id)
}

/// `measure list --json` of the node's copy (the node lets go of it when idle).
fn figures_of(d: &Path, copy: &Path, year: &str) -> Vec<Value> {
    let out = ok(d, &["--ledger", copy.to_str().unwrap(), "--json", "measure", "list", COPD_ID, "--year", year]);
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

fn live<'a>(rows: &'a [Value], indicator: &str, period: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["indicator"] == indicator && r["period"] == period && r["state"] != "superseded")
        .unwrap_or_else(|| panic!("{indicator} {period} in {rows:?}"))
}

fn log_path(home: &Path) -> PathBuf {
    home.join("web").join("signatures.jsonl")
}

fn log_lines(home: &Path) -> Vec<Value> {
    std::fs::read_to_string(log_path(home))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What a refused action must leave as it was: the journal and the log.
fn unchanged(copy: &Path, home: &Path) -> (Vec<u8>, Vec<u8>) {
    (std::fs::read(copy.join("journal")).unwrap(), std::fs::read(log_path(home)).unwrap_or_default())
}

#[test]
fn a_signer_submits_attests_disputes_and_corrects_and_the_log_says_who() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ledger = half_done_ledger(d);
    let before = figures_of(d, &d.join("l"), "2025");
    let care_cost = live(&before, "care-cost", "2025")["id"].as_str().unwrap().to_string();
    let admissions = live(&before, "admissions", "2025")["id"].as_str().unwrap().to_string();
    let pending = live(&figures_of(d, &d.join("l"), "2026"), "admissions", "2026")["id"].as_str().unwrap().to_string();
    let home = home_with_ledger(d, &ledger);
    let copy = home.join("ledgers").join(&ledger);
    assert!(copy.join("journal").exists());
    for (u, r) in [("anna", "signer"), ("vera", "viewer"), ("otto", "auditor"), ("sam", "signer")] {
        add_user(d, &home, u, r);
    }
    let node = serve_web(&home);
    let base = node.url();
    let figs = format!("/contracts/{ledger}/{COPD_ID}/2025/figures");
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "anna").await;
        let (s, _, page) = get(&c, &base, &figs).await;
        assert_eq!(s, 200, "{page}");
        for id in ["fig-ccq-2025", "fig-patients-2025-01", "fig-care-cost-2025", "fig-prem-2025"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(page.contains("name=\"password\""), "a signer sees the forms");
        assert!(page.contains(&format!("{figs}/submit")) && page.contains(&format!("{figs}/attest")));
        // The inbox links a figure to attest to this page.
        let (_, _, inbox) = get(&c, &base, "/inbox").await;
        assert!(inbox.contains(&format!("href=\"{figs}\"")), "{inbox}");
        // The statement and contract pages link here.
        let (_, _, contract_page) = get(&c, &base, &format!("/contracts/{ledger}/{COPD_ID}")).await;
        assert!(contract_page.contains(&format!("href=\"{figs}\"")), "{contract_page}");

        // A value that is not an exact decimal: refused, nothing written.
        let was = unchanged(&copy, &home);
        for bad in ["2,3", "1e3", "", "2.3.4", "abc"] {
            let form =
                [("indicator", "ccq"), ("period", "2025"), ("value", bad), ("csrf", &csrf), ("password", PASSWORD)];
            let (s, _, body) = post(&c, &base, &format!("{figs}/submit"), &form).await;
            assert_eq!(s, 422, "{bad}: {body}");
        }
        assert_eq!(unchanged(&copy, &home), was);

        // Submit the hospital's ccq 2025.
        let form = [
            ("indicator", "ccq"),
            ("period", "2025"),
            ("value", "2.3"),
            ("note", "EHR"),
            ("csrf", &csrf),
            ("password", PASSWORD),
        ];
        let (s, loc, _) = post(&c, &base, &format!("{figs}/submit"), &form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{figs}?done=submit").as_str()));
        let (_, _, page) = get(&c, &base, &loc).await;
        assert!(page.contains("Figure submitted"), "{page}");
        // Attest the insurer's care cost; dispute its admissions with a hostile reason.
        let form = [("entry", care_cost.as_str()), ("csrf", &csrf), ("password", PASSWORD)];
        let (s, loc, body) = post(&c, &base, &format!("{figs}/attest"), &form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{figs}?done=attest").as_str()), "{body}");
        let form = [("entry", admissions.as_str()), ("reason", SCRIPT), ("csrf", &csrf), ("password", PASSWORD)];
        let (s, _, body) = post(&c, &base, &format!("{figs}/dispute"), &form).await;
        assert_eq!(s, 303, "{body}");
        // A dispute without a reason: refused.
        let form = [("entry", admissions.as_str()), ("reason", " "), ("csrf", &csrf), ("password", PASSWORD)];
        assert_eq!(post(&c, &base, &format!("{figs}/dispute"), &form).await.0, 422);
        // A figure of another year is not on this page's year.
        let figs26 = format!("/contracts/{ledger}/{COPD_ID}/2026/figures");
        let form = [("entry", care_cost.as_str()), ("csrf", &csrf), ("password", PASSWORD)];
        assert_eq!(post(&c, &base, &format!("{figs26}/attest"), &form).await.0, 422);

        let (_, _, page) = get(&c, &base, &figs).await;
        assert!(page.contains(ESCAPED) && !page.contains(SCRIPT), "the reason is shown as text");

        // Correct the hospital's own figure.
        let rows = figures_of(d, &copy, "2025");
        let ccq = live(&rows, "ccq", "2025")["id"].as_str().unwrap().to_string();
        let form =
            [("entry", ccq.as_str()), ("value", "2.4"), ("reason", "recount"), ("csrf", &csrf), ("password", PASSWORD)];
        let (s, loc, body) = post(&c, &base, &format!("{figs}/correct"), &form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{figs}?done=correct").as_str()), "{body}");

        // The ledger shows each action.
        let rows = figures_of(d, &copy, "2025");
        let ccq_now = live(&rows, "ccq", "2025");
        assert_eq!(ccq_now["value"], "2.4");
        assert_eq!(ccq_now["corrects"], ccq.as_str());
        assert!(live(&rows, "care-cost", "2025")["signed_by"].get("ziekenhuis").is_some(), "{rows:?}");
        assert_eq!(live(&rows, "admissions", "2025")["state"], "disputed");

        // One log line per signature, in order, with who and what.
        let log = log_lines(&home);
        let actions: Vec<&str> = log.iter().map(|l| l["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["submit", "attest", "dispute", "correct"]);
        for l in &log {
            assert_eq!(
                (l["user"].as_str(), l["role"].as_str(), l["ledger"].as_str()),
                (Some("anna"), Some("signer"), Some(ledger.as_str()))
            );
            assert_eq!(l["address"], "127.0.0.1");
            assert_eq!(l["contract"], COPD_ID);
            assert_eq!(l["entries"].as_array().unwrap().len(), 1);
            assert!(l["time"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(log[1]["entries"][0].as_str().unwrap().len(), 64);

        // A viewer and an auditor see no forms and cannot sign: 403, nothing written.
        let was = unchanged(&copy, &home);
        for user in ["vera", "otto"] {
            let v = client();
            let their_csrf = login(&v, &base, user).await;
            let (s, _, page) = get(&v, &base, &figs).await;
            assert_eq!(s, 200);
            assert!(!page.contains("name=\"password\""), "{user} sees a signing form");
            let (_, _, st) = get(&v, &base, &format!("/contracts/{ledger}/{COPD_ID}/2025")).await;
            assert!(!st.contains("name=\"password\""), "{user} sees a signing form");
            let form = [("entry", pending.as_str()), ("csrf", &their_csrf), ("password", PASSWORD)];
            let (s, _, body) = post(&v, &base, &format!("{figs26}/attest"), &form).await;
            assert_eq!(s, 403, "{user}: {body}");
            assert!(body.contains("signer"), "{body}");
            let (s, _, _) = get(&v, &base, "/signatures").await;
            assert_eq!(s, if user == "otto" { 200 } else { 403 }, "{user} on /signatures");
        }
        assert_eq!(unchanged(&copy, &home), was);

        // No CSRF token, a wrong one: refused, nothing written.
        for token in ["", "0000000000000000000000000000000000000000000000000000000000000000"] {
            let form = [("entry", pending.as_str()), ("csrf", token), ("password", PASSWORD)];
            assert_eq!(post(&c, &base, &format!("{figs26}/attest"), &form).await.0, 403);
        }
        assert_eq!(unchanged(&copy, &home), was);

        // A wrong password: refused, and counted with the logins: after five,
        // even the right password is refused for a while (another signer).
        let s2 = client();
        let sam_csrf = login(&s2, &base, "sam").await;
        for _ in 0..5 {
            let form =
                [("entry", pending.as_str()), ("csrf", sam_csrf.as_str()), ("password", "not the password at all")];
            assert_eq!(post(&s2, &base, &format!("{figs26}/attest"), &form).await.0, 403);
        }
        let form = [("entry", pending.as_str()), ("csrf", sam_csrf.as_str()), ("password", PASSWORD)];
        assert_eq!(post(&s2, &base, &format!("{figs26}/attest"), &form).await.0, 429);
        assert_eq!(unchanged(&copy, &home), was);

        // The log page, newest first, escaped.
        let (s, _, page) = get(&c, &base, "/signatures").await;
        assert_eq!(s, 200);
        let (at_correct, at_submit) = (page.find("<td>correct</td>").unwrap(), page.find("<td>submit</td>").unwrap());
        assert!(at_correct < at_submit, "newest first");

        // A torn last line (a crash mid-write) is reported and skipped.
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new().append(true).open(log_path(&home)).unwrap();
        f.write_all(b"{\"time\":\"2026-").unwrap();
        drop(f);
        let (s, _, page) = get(&c, &base, "/signatures").await;
        assert_eq!(s, 200);
        assert!(page.contains("line 5: torn"), "{page}");
    });
    let (code, out, err) = common::run(d, &["--json", "audit", "signatures", "--home", home.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("line 5: torn"), "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    let actions: Vec<&str> = list.iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["correct", "dispute", "attest", "submit"]);
    let text = ok(d, &["audit", "signatures", "--home", home.to_str().unwrap()]);
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.lines().next().unwrap().contains("anna (signer)  from 127.0.0.1"), "{text}");
}

#[test]
fn a_signer_co_signs_the_statement_and_a_stale_hash_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, ledger) = hostile_agreed_ledger(d);
    // The other two signatories signed on the command line already.
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--yes", "--as", &key(p)]);
    }
    let home = home_with_ledger(d, &ledger);
    let copy = home.join("ledgers").join(&ledger);
    add_user(d, &home, "anna", "signer");
    let node = serve_web(&home);
    let base = node.url();
    let page_path = format!("/contracts/{ledger}/{COPD_ID}/2025");
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "anna").await;
        let (s, _, page) = get(&c, &base, &page_path).await;
        assert_eq!(s, 200);
        assert!(!page.contains("SETTLED"), "not settled yet");
        assert!(page.contains(&format!("action=\"{page_path}/sign\"")), "{page}");
        assert!(page.contains(&format!("href=\"{page_path}/figures\"")));
        let at = page.find("name=\"statement\" value=\"").unwrap() + "name=\"statement\" value=\"".len();
        let hash = page[at..at + 64].to_string();
        // The amounts come right before the form.
        let amounts = page.find("Amounts per party being signed").unwrap();
        let between = &page[amounts..at];
        assert!(between.contains(" pays ") || between.contains("No payments"), "{between}");

        // A hash the node does not compute (figures changed since): refused.
        let was = unchanged(&copy, &home);
        let stale = "ab".repeat(32);
        let form = [("statement", stale.as_str()), ("csrf", &csrf), ("password", PASSWORD)];
        let (s, _, body) = post(&c, &base, &format!("{page_path}/sign"), &form).await;
        assert_eq!(s, 409, "{body}");
        assert!(body.contains("Reload"), "{body}");
        assert_eq!(unchanged(&copy, &home), was);

        let form = [("statement", hash.as_str()), ("csrf", &csrf), ("password", PASSWORD)];
        let (s, loc, body) = post(&c, &base, &format!("{page_path}/sign"), &form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{page_path}?done=cosign").as_str()), "{body}");
        let (_, _, page) = get(&c, &base, &page_path).await;
        assert!(page.contains("SETTLED"), "{page}");
        assert!(!page.contains("name=\"statement\""), "nothing left to sign");
        let (_, _, nl) = get(&c, &base, &format!("{page_path}?lang=nl")).await;
        assert!(nl.contains("VASTGESTELD"), "{nl}");
        // Signing again: refused, nothing written.
        let was = unchanged(&copy, &home);
        assert_eq!(post(&c, &base, &format!("{page_path}/sign"), &form).await.0, 409);
        assert_eq!(unchanged(&copy, &home), was);
    });
    let log = log_lines(&home);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["action"], "cosign");
    // The copy agrees: 2025 is settled.
    let status = ok(d, &["--ledger", copy.to_str().unwrap(), "settle", "status", COPD_ID]);
    assert!(status.contains("settled"), "{status}");
}
