//! The web workspace's model page (issue 16, step 3C; src/web/model.rs): a
//! contract simulated on the node as `vereffen simulate` does, from an
//! upload or a contract the node holds; the results page shows the
//! figures `simulate` prints, in English and Dutch; the CSV downloads are
//! the files `simulate --out` writes; bad uploads are refused with clear
//! pages and nothing written. Served by a node in this process on
//! 127.0.0.1 port 0; every wait is bounded (client timeouts).

mod common;
mod node_support;
mod web_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{ok, repo, COPD_FILE, COPD_ID};
use vereffen::web::model::{MAX_FILE_BYTES, MAX_RUNS};
use web_support::{
    add_user, client, csrf_in, empty_home, home_with_ledger, hostile_agreed_ledger, multipart, runtime, serve_web,
    BOUNDARY, ESCAPED, PASSWORD, SCRIPT,
};

const SCENARIOS: &str = "examples/scenarios/copd-telemonitoring-oost-achterhoek.toml";
const SEED: &str = "11";
const RUNS: &str = "200";

async fn get(c: &reqwest::Client, url: &str) -> (u16, Vec<u8>) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// Logs `user` in; returns the model form page's CSRF token.
async fn login(c: &reqwest::Client, base: &str, user: &str) -> String {
    let page = String::from_utf8(get(c, &format!("{base}/login")).await.1).unwrap();
    let token = csrf_in(&page);
    let r = c
        .post(format!("{base}/login"))
        .form(&[("user", user), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (s, form) = get(c, &format!("{base}/model")).await;
    assert_eq!(s, 200);
    csrf_in(&String::from_utf8(form).unwrap())
}

/// One part of a multipart form: field name, file name (a file), bytes.
type Part<'a> = (&'a str, Option<&'a str>, Vec<u8>);

/// POSTs a multipart form to `/model` (with `?lang=` when given): status, page.
async fn post_model(c: &reqwest::Client, base: &str, lang: &str, parts: &[Part<'_>]) -> (u16, String) {
    let r = c
        .post(format!("{base}/model?lang={lang}"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(parts))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo().join(rel)).unwrap()
}

/// The form of a COPD run: contract and scenarios uploaded, 200 runs, the seed.
fn copd_parts<'a>(csrf: &'a str, contract_name: &'a str, contract: Vec<u8>) -> Vec<Part<'a>> {
    vec![
        ("csrf", None, csrf.as_bytes().to_vec()),
        ("held", None, Vec::new()),
        ("contract", Some(contract_name), contract),
        ("scenarios", Some("copd-scenarios.toml"), read(SCENARIOS)),
        ("runs", None, RUNS.as_bytes().to_vec()),
        ("seed", None, SEED.as_bytes().to_vec()),
    ]
}

/// `vereffen [--lang L] simulate COPD --scenarios S --runs 200 --seed 11
/// --out DIR`: the printed tables and the output directory.
fn cli_simulate(d: &Path, lang: &str) -> (String, PathBuf) {
    let out = d.join(format!("out-{lang}"));
    let (c, s, o) = (repo().join(COPD_FILE), repo().join(SCENARIOS), out.to_str().unwrap().to_string());
    let text = ok(
        d,
        &[
            "--lang",
            lang,
            "simulate",
            c.to_str().unwrap(),
            "--scenarios",
            s.to_str().unwrap(),
            "--runs",
            RUNS,
            "--seed",
            SEED,
            "--out",
            &o,
        ],
    );
    (text, out)
}

/// The rows of the economic result table the CLI printed: (party, period,
/// mean, P5, P50, P95) as printed.
fn cli_result_rows(text: &str) -> Vec<[String; 6]> {
    let mut rows = Vec::new();
    let mut lines = text.lines().skip_while(|l| !l.starts_with("-- ")).skip(2);
    for l in lines.by_ref() {
        if l.starts_with("-- ") {
            break;
        }
        let t: Vec<&str> = l.split_whitespace().collect();
        assert!(t.len() >= 8, "{l}");
        rows.push([t[0], t[1], t[2], t[3], t[4], t[5]].map(String::from));
    }
    assert!(rows.len() >= 9, "{text}");
    rows
}

/// Every file of a directory tree with its bytes, to see that nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_none_or(|e| e != "sock") {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// The COPD example uploaded with 200 runs and a seed: the results page
/// shows the mean, P5, P50 and P95 per party and period that `simulate`
/// prints with the same files, runs and seed, in English and in Dutch
/// (`1.234.567`); its CSV downloads are the files of `simulate --out`
/// byte for byte; its charts are inline SVG.
#[test]
fn a_copd_upload_shows_the_cli_figures_and_downloads_its_csv_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = empty_home(d);
    add_user(d, &home, "vera", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    let before = snapshot(&home);
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "vera").await;
        for lang in ["en", "nl"] {
            let (text, out) = cli_simulate(d, lang);
            // Named as the CLI's file: the variant is the file's name.
            let name = "copd-telemonitoring-shared-savings.toml";
            let (s, page) = post_model(&c, &base, lang, &copd_parts(&csrf, name, read(COPD_FILE))).await;
            assert_eq!(s, 200, "{page}");
            for [party, period, mean, p5, p50, p95] in cli_result_rows(&text) {
                let row = format!(
                    "<th scope=\"row\">{party}</th><th scope=\"row\">{period}</th><td class=\"num\">{mean}</td>\
                     <td class=\"num\">{p5}</td><td class=\"num\">{p50}</td><td class=\"num\">{p95}</td>"
                );
                assert!(page.contains(&row), "{lang}: the page lacks {row}");
            }
            if lang == "nl" {
                // Dutch grouping: a figure of at least a thousand euros as 1.234.
                let grouped = regex_like_grouped(&page);
                assert!(grouped, "no nl-NL grouped figure on the Dutch page");
            }
            // Charts inline as SVG, the CSP unchanged.
            assert!(page.contains("<svg") && page.contains("distribution-copd"), "charts inline");
            assert!(!page.contains("<script"), "no script on the page");
            // The CSV downloads are the files simulate --out writes.
            let mut links = 0;
            for name in ["summary.csv", "sweep.csv", "tornado.csv"] {
                let at = page.find(&format!("/{name}\"")).unwrap_or_else(|| panic!("a link to {name}"));
                let start = page[..at].rfind("href=\"").unwrap() + "href=\"".len();
                let url = format!("{base}{}/{name}", &page[start..at]);
                let (s, bytes) = get(&c, &url).await;
                assert_eq!(s, 200, "{url}");
                let cli = std::fs::read(out.join(name)).unwrap();
                assert!(bytes == cli, "{lang} {name} differs from simulate --out");
                links += 1;
                // Another session cannot fetch it.
                let (s, _) = get(&client(), &url).await;
                assert_eq!(s, 303, "another browser is sent to the login page");
            }
            assert_eq!(links, 3);
        }
    });
    assert_eq!(snapshot(&home), before, "modelling writes nothing in the node's home");
}

/// Whether the page has a figure grouped the Dutch way (`12.345` in a number cell).
fn regex_like_grouped(page: &str) -> bool {
    page.split("<td class=\"num\">").skip(1).any(|cell| {
        let cell = cell.split('<').next().unwrap_or("");
        let digits = cell.trim_start_matches('-');
        let parts: Vec<&str> = digits.split('.').collect();
        parts.len() >= 2
            && !parts[0].is_empty()
            && parts[0].len() <= 3
            && parts[1..].iter().all(|p| p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))
    })
}

/// A contract with a syntax error: a 400 page naming FILE:LINE:COLUMN with
/// the upload's name; a file over the limit: 413 before anything runs; a
/// form without the session's CSRF token: 403. Nothing is written.
#[test]
fn bad_uploads_are_refused_with_clear_pages_and_nothing_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = empty_home(d);
    add_user(d, &home, "vera", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    let before = snapshot(&home);
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "vera").await;
        // Line 3 gets a line that is no TOML.
        let text = String::from_utf8(read(COPD_FILE)).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(2, "this is = = not toml");
        let broken = lines.join("\n").into_bytes();
        let (s, page) = post_model(&c, &base, "en", &copd_parts(&csrf, "broken-copd.toml", broken)).await;
        assert_eq!(s, 400, "{page}");
        assert!(page.contains("broken-copd.toml:3:"), "{page}");
        assert!(!page.contains("<svg"), "nothing ran");
        // A file name with markup in it is text.
        let bad = format!("{SCRIPT}.toml");
        let (s, page) = post_model(&c, &base, "en", &copd_parts(&csrf, &bad, b"x = = 1".to_vec())).await;
        assert_eq!(s, 400, "{page}");
        assert!(page.contains(&format!("{ESCAPED}.toml:1:")) && !page.contains(SCRIPT), "{page}");
        // Over the limit: 413, and no run.
        let big = vec![b'#'; MAX_FILE_BYTES + 1];
        let t = std::time::Instant::now();
        let (s, page) = post_model(&c, &base, "en", &copd_parts(&csrf, "big.toml", big)).await;
        assert_eq!(s, 413, "{page}");
        assert!(page.contains("too large") && !page.contains("<svg"), "{page}");
        assert!(t.elapsed() < Duration::from_secs(30));
        // No CSRF token, a wrong one: 403.
        let mut parts = copd_parts(&csrf, "copd.toml", read(COPD_FILE));
        parts.remove(0);
        let (s, page) = post_model(&c, &base, "en", &parts).await;
        assert_eq!(s, 403, "{page}");
        parts.insert(0, ("csrf", None, vec![b'0'; 64]));
        let (s, _) = post_model(&c, &base, "en", &parts).await;
        assert_eq!(s, 403);
        // Runs over the page's bound.
        let mut parts = copd_parts(&csrf, "copd.toml", read(COPD_FILE));
        parts[4] = ("runs", None, (MAX_RUNS + 1).to_string().into_bytes());
        let (s, page) = post_model(&c, &base, "en", &parts).await;
        assert_eq!(s, 400, "{page}");
        // Not multipart at all.
        let r = c.post(format!("{base}/model")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        // Signed out: the login page.
        let r = client().post(format!("{base}/model")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
    });
    assert_eq!(snapshot(&home), before, "nothing written");
}

/// A variant named `<script>alert(1)` (its file name) and a held contract whose
/// title and party name hold `<script>`: text in the form, the tables and
/// the inline SVG, never markup. The held contract is modelled on the
/// example scenarios of its contract id, with no scenarios uploaded.
#[test]
fn script_in_names_is_text_in_the_tables_and_the_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, ledger) = hostile_agreed_ledger(d);
    assert_eq!(c.id, COPD_ID);
    let home = home_with_ledger(d, &ledger);
    add_user(d, &home, "vera", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "vera").await;
        let (_, form) = get(&c, &format!("{base}/model")).await;
        let form = String::from_utf8(form).unwrap();
        assert!(form.contains(ESCAPED) && !form.contains(SCRIPT), "the held contract's title is text");
        let held = format!("{ledger}/{COPD_ID}");
        // A browser sends a file's base name; this one is markup.
        let name = "<script>alert(1).toml";
        let parts: Vec<Part<'_>> = vec![
            ("csrf", None, csrf.as_bytes().to_vec()),
            ("held", None, held.into_bytes()),
            ("contract", Some(name), read(COPD_FILE)),
            ("runs", None, RUNS.as_bytes().to_vec()),
        ];
        let (s, page) = post_model(&c, &base, "en", &parts).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml"), "the example scenarios");
        assert!(!page.contains(SCRIPT) && !page.contains("<script"), "no markup from names");
        // In a table (the comparison's column head) and in an SVG (a chart title).
        let escaped = "&lt;script&gt;alert(1)";
        assert!(page.contains(&format!("\">{escaped}</th>")), "in the table");
        let svg_text = page.split("<svg").skip(1).any(|svg| {
            let svg = svg.split("</svg>").next().unwrap_or("");
            svg.contains(escaped)
        });
        assert!(svg_text, "the variant's name is escaped text in a chart");
    });
}

/// The contract page shows the term summary as a bar chart per party
/// (inline SVG, no script), with its figures as a table: the amounts
/// `settle summary` prints, in English and in Dutch; a party's name with
/// `<script>` from the ledger is text in the chart.
#[test]
fn the_contract_page_charts_the_term_per_party() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (contract, ledger) = hostile_agreed_ledger(d);
    let home = home_with_ledger(d, &ledger);
    add_user(d, &home, "vera", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let c = client();
        login(&c, &base, "vera").await;
        for lang in ["en", "nl"] {
            let json: serde_json::Value =
                serde_json::from_str(&ok(d, &["--json", "settle", "summary", COPD_ID])).unwrap();
            let mut known = std::collections::BTreeSet::new();
            decimals(&json, &mut known);
            let (s, page) = get(&c, &format!("{base}/contracts/{ledger}/{COPD_ID}?lang={lang}")).await;
            assert_eq!(s, 200);
            let page = String::from_utf8(page).unwrap();
            let at = page.find("<svg").expect("a term chart");
            let charts = &page[at..];
            assert_eq!(charts.matches("<svg").count(), contract.parties.len(), "one chart per party");
            assert!(!page.contains(SCRIPT) && !page.contains("<script"), "no markup from the ledger");
            let in_svg = charts.split("<svg").skip(1).any(|svg| svg.split("</svg>").next().unwrap().contains(ESCAPED));
            assert!(in_svg, "the hospital's name is escaped text in its chart");
            // Every amount of the charts' tables is one of `settle summary`,
            // written in the page's language (`-225,000.00` / `-225.000,00`).
            let mut amounts = 0;
            for cell in charts.split("<td class=\"num\">").skip(1) {
                let amount = cell.split('<').next().unwrap();
                if !amount.is_empty() {
                    let plain = match lang {
                        "en" => amount.replace(',', ""),
                        _ => amount.replace('.', "").replace(',', "."),
                    };
                    let value: rust_decimal::Decimal = plain.parse().unwrap_or_else(|_| panic!("{lang}: {amount}"));
                    assert!(known.contains(&value), "{lang}: {amount} is not in settle summary --json");
                    amounts += 1;
                }
            }
            assert!(amounts >= 2 * contract.parties.len(), "{amounts} amounts");
        }
    });
}

/// Every decimal (as a string or a number) in a JSON document.
fn decimals(v: &serde_json::Value, out: &mut std::collections::BTreeSet<rust_decimal::Decimal>) {
    match v {
        serde_json::Value::String(s) => {
            if let Ok(d) = s.parse() {
                out.insert(d);
            }
        }
        serde_json::Value::Number(n) => {
            if let Ok(d) = n.to_string().parse() {
                out.insert(d);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| decimals(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| decimals(x, out)),
        _ => {}
    }
}
