//! The negotiation as a timeline on the web's contract page (issue 16):
//! a COPD contract proposed, rejected with a reason, countered
//! (provider share 0.45), signed (once under a mandate) and in force shows
//! every step in journal order, the counter's change in words in English
//! and Dutch, the signatures, and the version in force per year; ledger
//! text with `<script>` is escaped.

mod common;
mod node_support;
mod web_support;

use common::{key, ok, repo, COPD_FILE};
use vereffen::domain::contract;
use web_support::{
    add_user, client, get, home_with_ledger, hostile_contract, login, runtime, serve_web, ESCAPED, PASSWORD, SCRIPT,
};

/// `text` as maud writes it in a page.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The position of `needle` in `page` (fails naming it when absent).
fn at(page: &str, needle: &str) -> usize {
    page.find(needle).unwrap_or_else(|| panic!("{needle:?} is not on the page"))
}

#[test]
fn the_contract_page_shows_the_negotiation_in_order_with_the_counter_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let file = hostile_contract(d);
    let c = contract::check_file(&file).unwrap();
    let ledger = format!("web-{}", c.id);
    ok(d, &["init", "--id", &ledger]);
    for p in &c.parties {
        ok(d, &["party", "add", "--id", &p.id, "--name", &p.name, "--role", &p.role.to_string(), "--key", &key(&p.id)]);
    }
    let proposal = c.version_hash();
    ok(d, &["contract", "propose", file.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    let reason = format!("too generous {SCRIPT}");
    ok(d, &["contract", "reject", &c.id, "--version", &proposal, "--reason", &reason, "--as", &key("verzekeraar")]);
    let text = std::fs::read_to_string(&file).unwrap();
    let counter_text = text.replacen("provider_share = 0.5\n", "provider_share = 0.45\n", 1);
    assert_ne!(counter_text, text);
    let counter_file = d.join("counter.toml");
    std::fs::write(&counter_file, counter_text).unwrap();
    let counter = contract::check_file(&counter_file).unwrap().version_hash();
    // The proposal is rejected, so the counter names the version it answers.
    let counter_args = ["contract", "counter", &c.id, counter_file.to_str().unwrap(), "--to", &proposal];
    ok(d, &[&counter_args[..], &["--as", &key("verzekeraar")]].concat());
    ok(d, &["contract", "accept", &c.id, "--version", &counter, "--as", &key("ziekenhuis")]);
    let (first, last) = (c.term.first_year.to_string(), c.term.last_year.to_string());
    let grant = [
        "mandate",
        "grant",
        "--to",
        "ziekenhuis",
        "--contract",
        &c.id,
        "--action",
        "accept",
        "--from",
        &first,
        "--until",
        &last,
        "--as",
    ];
    ok(d, &[&grant[..], &[key("thuiszorg").as_str()]].concat());
    let on_behalf = ["--on-behalf-of", "thuiszorg", "--as", &key("ziekenhuis")];
    ok(d, &[&["contract", "accept", &c.id, "--version", &counter][..], &on_behalf[..]].concat());

    let home = home_with_ledger(d, &ledger);
    add_user(d, &home, "vera", "viewer");
    let server = serve_web(&home);
    let base = server.url();
    let rt = runtime();
    rt.block_on(async {
        let cl = client();
        assert_eq!(login(&cl, &base, "vera", PASSWORD).await.0, 303);
        let path = format!("/contracts/{ledger}/{}", c.id);
        let (s, _, en) = get(&cl, &base, &path).await;
        assert_eq!(s, 200, "{en}");
        let short = |h: &str| h[..12].to_string();

        // The steps, in journal order, inside the timeline.
        let tl = &en[at(&en, "Negotiation timeline")..];
        let table = &tl[..at(tl, "In force per contract year")];
        let steps = [
            "<td>proposal</td>".to_string(),
            "<td>rejected</td>".to_string(),
            format!("<td>counter to {}</td>", short(&proposal)),
            esc("provider share of savings: 50% -> 45%"),
            "<td>signed</td>".to_string(),
            "<td>mandate <code>".to_string(),
            "<td>signed for thuiszorg under mandate ".to_string(),
        ];
        let mut from = 0;
        for step in &steps {
            let i = at(&tl[from..], step);
            from += i + step.len();
        }
        // Who and when: the hospital's name (escaped) and the recorded time.
        assert!(tl.contains(&format!("Ziekenhuis {ESCAPED} (<code>ziekenhuis</code>)")), "{tl}");
        assert!(tl.contains("<time datetime=\""), "{tl}");
        // The counter's change is the only one; the reason is shown escaped.
        assert_eq!(table.matches("<li>").count(), 1, "{table}");
        assert!(tl.contains(&esc(&reason)), "{tl}");
        // Each version links to its terms, which are on the page.
        for v in [&proposal, &counter] {
            assert!(tl.contains(&format!("href=\"#version-{v}\"")), "{v}");
            assert!(tl.contains(&format!("<details id=\"version-{v}\">")), "{v}");
        }
        // In force per year: the counter in every year of the term.
        let years = &tl[at(tl, "In force per contract year")..];
        for y in c.term.years() {
            let row = format!(
                "<th scope=\"row\">{y}</th><td><a href=\"#version-{counter}\"><code>{}</code></a></td>",
                short(&counter)
            );
            assert!(years.contains(&row), "{y}: {years}");
        }
        // Ledger text is never markup.
        assert!(!en.contains(SCRIPT), "raw script on the page");

        let (s, _, nl) = get(&cl, &base, &format!("{path}?lang=nl")).await;
        assert_eq!(s, 200);
        let tl = &nl[at(&nl, "Verloop van de onderhandeling")..];
        let steps = [
            "<td>voorstel</td>".to_string(),
            "<td>afgewezen</td>".to_string(),
            format!("<td>tegenvoorstel op {}</td>", short(&proposal)),
            esc("aandeel aanbieder in de besparing: 50% -> 45%"),
            "<td>ondertekend</td>".to_string(),
            "<td>mandaat <code>".to_string(),
            "<td>ondertekend namens thuiszorg op grond van mandaat ".to_string(),
            "Van kracht per contractjaar".to_string(),
        ];
        let mut from = 0;
        for step in &steps {
            let i = at(&tl[from..], step);
            from += i + step.len();
        }
        assert!(!nl.contains(SCRIPT));
        let table = &tl[..at(tl, "Van kracht per contractjaar")];
        assert!(!table.contains("provider share"), "English in the Dutch timeline: {table}");
    });
    drop(server);
}

/// The timeline of a contract only proposed: one step, nothing in force.
#[test]
fn a_proposal_alone_has_one_step_and_nothing_in_force() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let file = repo().join(COPD_FILE);
    let c = contract::check_file(&file).unwrap();
    let ledger = format!("web-{}", c.id);
    ok(d, &["init", "--id", &ledger]);
    for p in &c.parties {
        ok(d, &["party", "add", "--id", &p.id, "--name", &p.name, "--role", &p.role.to_string(), "--key", &key(&p.id)]);
    }
    ok(d, &["contract", "propose", file.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    let home = home_with_ledger(d, &ledger);
    add_user(d, &home, "vera", "viewer");
    let server = serve_web(&home);
    let base = server.url();
    runtime().block_on(async {
        let cl = client();
        assert_eq!(login(&cl, &base, "vera", PASSWORD).await.0, 303);
        let (s, _, page) = get(&cl, &base, &format!("/contracts/{ledger}/{}", c.id)).await;
        assert_eq!(s, 200);
        let tl = &page[at(&page, "Negotiation timeline")..];
        assert_eq!(tl.matches("<th scope=\"row\"><time").count(), 1, "{tl}");
        assert!(tl.contains("<td>proposal</td>"), "{tl}");
        assert!(tl.contains("the offer carries the signature of ziekenhuis"), "{tl}");
        assert!(!tl.contains("In force per contract year"), "{tl}");
    });
    drop(server);
}
