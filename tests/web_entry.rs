//! The web workspace's drill-down (issue 16): a year's statement lists the
//! agreed figures it was computed from, each linked to the entry that
//! submitted it and to the entries of the parties that attested it, and the
//! entries that signed the statement; an entry's page shows its signers,
//! what it refers to, what refers to it, and its signed bytes exactly (an
//! auditor recomputes the entry id from the page). Served by a node in this
//! process on 127.0.0.1 port 0; every wait bounded (client timeouts).

mod common;
mod node_support;
mod web_support;

use std::collections::BTreeSet;

use common::{key, ok};
use serde_json::Value;
use web_support::{
    add_user, client, get, home_with_ledger, hostile_agreed_ledger, login, runtime, serve_web, ESCAPED, PASSWORD,
    SCRIPT,
};

/// Every entry id a page links to, in page order, without repeats.
fn entry_links(page: &str, ledger: &str) -> Vec<String> {
    let prefix = format!("href=\"/ledgers/{ledger}/entries/");
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (at, _) in page.match_indices(&prefix) {
        let id = &page[at + prefix.len()..at + prefix.len() + 64];
        if seen.insert(id.to_string()) {
            out.push(id.to_string());
        }
    }
    out
}

/// The text of the page's `<pre><code>` block, unescaped as a browser does.
fn signed_bytes(page: &str) -> String {
    let start = page.find("<pre><code>").expect("a <pre><code> block") + "<pre><code>".len();
    let end = start + page[start..].find("</code></pre>").expect("its end");
    page[start..end].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

#[test]
fn a_statement_drills_down_to_the_signed_entries_of_its_figures_and_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, ledger) = hostile_agreed_ledger(d);
    // Every signatory signs the 2025 statement.
    for who in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", &c.id, "--year", "2025", "--sign", "--as", &key(who), "--yes"]);
    }
    let settled: Value = serde_json::from_str(&ok(d, &["--json", "settle", &c.id, "--year", "2025"])).unwrap();
    // The statement names the figures it used by indicator and year; the
    // agreed figures of the contract give their entries.
    let figures: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "agreed"])).unwrap();
    let figures = figures.as_array().unwrap();
    let used: Vec<&Value> = settled["statement"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            figures
                .iter()
                .find(|f| f["indicator"] == i["indicator"] && f["year"] == i["year"])
                .unwrap_or_else(|| panic!("no agreed figure for the input {i}"))
        })
        .collect();
    assert!(used.len() >= 4, "{used:?}");
    let inputs: Vec<String> = used.iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();

    let home = home_with_ledger(d, &ledger);
    add_user(d, &home, "anna", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let cl = client();
        assert_eq!(login(&cl, &base, "anna", PASSWORD).await.0, 303);
        let path = format!("/contracts/{ledger}/{}/2025", c.id);
        let (s, _, en) = get(&cl, &base, &format!("{path}?lang=en")).await;
        assert_eq!(s, 200, "{en}");
        assert!(en.contains("Figures used and their signed entries"), "{en}");
        let (_, _, nl) = get(&cl, &base, &format!("{path}?lang=nl")).await;
        assert!(nl.contains("Gebruikte cijfers en hun ondertekende boekingen"), "{nl}");
        let linked = entry_links(&en, &ledger);
        // Every figure the statement used links to the entry that submitted it.
        for id in &inputs {
            assert!(linked.contains(id), "figure entry {id} is not linked from the statement page");
        }
        // ... and to the entries that attested it (every signer but the source).
        for f in &used {
            let by = f["signed_by"].as_object().expect("signed_by");
            assert!(by.len() >= 2, "an agreed figure is attested: {f}");
            for (party, entry) in by {
                assert!(linked.contains(&entry.as_str().unwrap().to_string()), "{party}'s entry of {f} not linked");
            }
        }
        // Each figure links to its row on the figures page.
        assert!(en.contains(&format!("/contracts/{ledger}/{}/2025/figures#fig-", c.id)), "{en}");
        // The three signatures of the statement, as entries.
        let at = en.find("Entries that signed this statement").expect("the signed entries");
        assert_eq!(entry_links(&en[at..], &ledger).len(), 3, "{}", &en[at..]);
        // A figure's entry page: the exact signed bytes (blake3 gives the id),
        // the attestations that refer to it, the version entry it refers to.
        let first = &inputs[0];
        let (s, _, entry) = get(&cl, &base, &format!("/ledgers/{ledger}/entries/{first}?lang=en")).await;
        assert_eq!(s, 200, "{entry}");
        assert!(entry.contains(first.as_str()) && entry.contains("measure.submit"), "{entry}");
        let bytes = signed_bytes(&entry);
        assert_eq!(blake3::hash(bytes.as_bytes()).to_hex().as_str(), first, "the page shows the signed bytes exactly");
        let referrers = &entry[entry.find("Entries that refer to it").unwrap()..];
        assert!(referrers.contains("attest"), "its attestations: {referrers}");
        let refs = &entry[entry.find("Entries it refers to").unwrap()..entry.find("Entries that refer to it").unwrap()];
        let version = entry_links(refs, &ledger);
        assert_eq!(version.len(), 1, "{refs}");
        // The version entry carries the hostile title: shown as text.
        let (s, _, offer) = get(&cl, &base, &format!("/ledgers/{ledger}/entries/{}", version[0])).await;
        assert_eq!(s, 200);
        assert!(offer.contains(ESCAPED), "{offer}");
        assert!(!offer.contains(SCRIPT) && !offer.contains("<script"), "{offer}");
        assert_eq!(blake3::hash(signed_bytes(&offer).as_bytes()).to_hex().as_str(), version[0]);
        // Unknown, malformed, or on a ledger the node does not hold: 404.
        let zeros = "0".repeat(64);
        for bad in [
            format!("/ledgers/{ledger}/entries/{zeros}"),
            format!("/ledgers/{ledger}/entries/{}", &first[..12]),
            format!("/ledgers/{ledger}/entries/not-hex"),
            format!("/ledgers/nope/entries/{first}"),
        ] {
            assert_eq!(get(&cl, &base, &bad).await.0, 404, "{bad}");
        }
    });
    node.shutdown();
    // The node signed nothing and changed nothing: the copy still verifies.
    ok(d, &["--ledger", home.join("ledgers").join(&ledger).to_str().unwrap(), "verify"]);
}
