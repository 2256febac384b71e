//! Resettling a year from the browser (issue 16): 2025 is settled, then a
//! figure is corrected and agreed; the statement page shows the corrected
//! statement, the corrections against the settled one, and a form that
//! replaces the settled statement (`settle --sign --resettle`). A form whose
//! `replaces` is not the settled statement, or a first-settlement form sent
//! for a settled year, is refused and writes nothing. Driven with reqwest
//! against a node in this process on 127.0.0.1 port 0; every wait bounded.

mod common;
mod node_support;
mod web_support;

use common::{key, ok, COPD_ID};
use rust_decimal::Decimal;
use serde_json::Value;
use web_support::{add_user, client, csrf_in, get, home_with_ledger, hostile_agreed_ledger, post, runtime, serve_web};
use web_support::{login, PASSWORD};

/// The hidden field `name` of the page's first form that has it.
fn hidden(page: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let at = page.find(&needle)? + needle.len();
    Some(page[at..at + page[at..].find('"')?].to_string())
}

#[test]
fn a_signer_resettles_a_year_whose_figure_was_corrected_after_it_was_settled() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, ledger) = hostile_agreed_ledger(d);
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--yes", "--as", &key(p)]);
    }
    let settled: Value = serde_json::from_str(&ok(d, &["--json", "settle", COPD_ID, "--year", "2025"])).unwrap();
    let old = settled["statement_hash"].as_str().unwrap().to_string();
    // The insurer corrects its 2025 care cost; the providers attest the correction.
    let agreed: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", COPD_ID, "--year", "2025", "--state", "agreed"]))
            .unwrap();
    let cost = agreed.as_array().unwrap().iter().find(|m| m["indicator"] == "care-cost").expect("care-cost 2025");
    let value: Decimal = cost["value"].as_str().unwrap().parse().unwrap();
    let new_value = (value - Decimal::from(25_000)).to_string();
    let id = cost["id"].as_str().unwrap();
    ok(d, &["measure", "correct", id, "--value", &new_value, "--reason", "late claims", "--as", &key("verzekeraar")]);
    for p in ["ziekenhuis", "thuiszorg"] {
        ok(
            d,
            &["measure", "attest", "--all-pending", "--contract", COPD_ID, "--year", "2025", "--as", &key(p), "--yes"],
        );
    }
    let status = ok(d, &["settle", "status", COPD_ID]);
    assert!(status.contains("resettle"), "the settled 2025 is in conflict: {status}");
    // The insurer and home care sign the corrected statement on the command line.
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["settle", COPD_ID, "--year", "2025", "--sign", "--resettle", "--yes", "--as", &key(p)]);
    }

    let home = home_with_ledger(d, &ledger);
    let copy = home.join("ledgers").join(&ledger);
    add_user(d, &home, "anna", "signer");
    let node = serve_web(&home);
    let base = node.url();
    let page_path = format!("/contracts/{ledger}/{COPD_ID}/2025");
    let sign_path = format!("{page_path}/sign");
    runtime().block_on(async {
        let c = client();
        assert_eq!(login(&c, &base, "anna", PASSWORD).await.0, 303);
        let (s, _, page) = get(&c, &base, &format!("{page_path}?lang=en")).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("Resettle 2025 as ziekenhuis"), "{page}");
        assert!(page.contains(&old[..16]), "the settled statement is named: {page}");
        let statement = hidden(&page, "statement").expect("the statement hash");
        assert_ne!(statement, old);
        assert_eq!(hidden(&page, "replaces").as_deref(), Some(old.as_str()), "the form replaces the settled statement");
        let (_, _, nl) = get(&c, &base, &format!("{page_path}?lang=nl")).await;
        assert!(nl.contains("2025 opnieuw vaststellen als ziekenhuis"), "{nl}");
        get(&c, &base, &format!("{page_path}?lang=en")).await; // back to English (a cookie remembers)
        let csrf = csrf_in(&page);
        let journal = || std::fs::read(copy.join("journal")).unwrap();

        // A form without `replaces` (a first settlement) for a settled year, or one
        // replacing another statement: refused, nothing written.
        let before = journal();
        let wrong = "cd".repeat(32);
        for replaces in ["", wrong.as_str()] {
            let form =
                [("statement", statement.as_str()), ("replaces", replaces), ("csrf", &csrf), ("password", PASSWORD)];
            let (s, _, body) = post(&c, &base, &sign_path, &form).await;
            assert_eq!(s, 409, "replaces {replaces:?}: {body}");
            assert!(body.contains("Reload"), "{body}");
        }
        assert_eq!(journal(), before);

        let form =
            [("statement", statement.as_str()), ("replaces", old.as_str()), ("csrf", &csrf), ("password", PASSWORD)];
        let (s, loc, body) = post(&c, &base, &sign_path, &form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{page_path}?done=resettle").as_str()), "{body}");
        let (_, _, page) = get(&c, &base, &format!("{page_path}?done=resettle&lang=en")).await;
        assert!(page.contains("Corrected statement signed"), "{page}");
        assert!(page.contains("SETTLED"), "{page}");
        assert!(hidden(&page, "statement").is_none(), "nothing left to sign: {page}");
    });
    node.shutdown();
    // The copy agrees: 2025 is settled with the corrected statement, and it verifies.
    let cli = |args: &[&str]| {
        let mut all = vec!["--ledger", copy.to_str().unwrap()];
        all.extend_from_slice(args);
        ok(d, &all)
    };
    let now: Value = serde_json::from_str(&cli(&["--json", "settle", COPD_ID, "--year", "2025"])).unwrap();
    let new = now["statement_hash"].as_str().unwrap();
    assert_ne!(new, old);
    let status = cli(&["settle", "status", COPD_ID]);
    assert!(status.contains(&new[..12]) && !status.contains("resettle"), "{status}");
    cli(&["verify"]);
    let log = std::fs::read_to_string(home.join("web").join("signatures.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("\"action\":\"resettle\""), "{log}");
}
