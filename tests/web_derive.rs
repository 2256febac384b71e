//! Derived figures in the browser (issue 16; src/web/derive.rs): a derived
//! COPD figure shows its claims file's and rules' hashes and the entries
//! behind it; recomputing it from a copy of the claims file answers MATCH,
//! or the difference `vereffen measure recompute` gives; deriving from the
//! browser submits what `vereffen measure derive` submits; refusals (a
//! viewer, no CSRF token, an upload over the limit) write nothing and
//! leave no temporary file. Served by a node in this process on 127.0.0.1
//! port 0; every wait is bounded (client timeouts).

mod common;
mod node_support;
mod web_support;

use std::path::Path;

use common::{copy_dir, key, ok, repo, COPD_FILE, COPD_ID};
use rust_decimal::Decimal;
use serde_json::Value;
use vereffen::present::lang::Lang;
use vereffen::web::derive::{MAX_CLAIMS_BYTES, UPLOAD_DIR};
use web_support::{
    add_user, client, csrf_in, get, multipart, post, post_multipart_body as post_multipart, runtime, serve_web,
    BOUNDARY, ESCAPED, PASSWORD, SCRIPT,
};

const RULES: &str = "examples/data/rules-copd.toml";
const CLAIMS: &str = "examples/data/claims-copd-2027.csv";

/// Logs `user` in; the session's CSRF token.
async fn login(c: &reqwest::Client, base: &str, user: &str) -> String {
    let (s, loc, _) = web_support::login(c, base, user, PASSWORD).await;
    assert_eq!((s, loc.as_str()), (303, "/inbox"), "{user} logs in");
    csrf_in(&get(c, base, "/inbox").await.2)
}

/// The `measure.submit` payloads of a ledger folder, as `vereffen log --json` shows them (one entry a line).
fn submit_payloads(d: &Path, copy: &Path) -> Vec<Value> {
    let out = ok(d, &["--ledger", copy.to_str().unwrap(), "--json", "log", "--kind", "measure.submit"]);
    out.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["payload"].clone()).collect()
}

/// The figures the insurer derived for 2027 (those with a file hash).
fn derived(payloads: &[Value]) -> Vec<Value> {
    let mut d: Vec<Value> =
        payloads.iter().filter(|p| p.get("derivation").is_some_and(|x| !x.is_null())).cloned().collect();
    d.sort_by_key(|p| p["indicator"].as_str().unwrap_or("").to_string());
    d
}

fn uploads_left(home: &Path) -> usize {
    std::fs::read_dir(home.join(UPLOAD_DIR)).map(|r| r.count()).unwrap_or(0)
}

/// The COPD contract in force in `d/l` with every example figure agreed
/// except the insurer's 2027 ones (which it derives). The ledger's id.
fn ledger_without_2027_insurer_figures(d: &Path) -> String {
    let figs = d.join("figs");
    std::fs::create_dir_all(&figs).unwrap();
    let src = repo().join("examples/measurements").join(COPD_ID);
    for f in ["thuiszorg.csv", "ziekenhuis.csv"] {
        std::fs::copy(src.join(f), figs.join(f)).unwrap();
    }
    let insurer = std::fs::read_to_string(src.join("verzekeraar.csv")).unwrap();
    let kept: Vec<&str> = insurer.lines().filter(|l| !l.contains(",2027,")).collect();
    std::fs::write(figs.join("verzekeraar.csv"), kept.join("\n") + "\n").unwrap();
    let c = common::agreed_ledger(d, "der", &repo().join(COPD_FILE), &figs);
    format!("der-{}", c.id)
}

#[test]
fn derived_figures_show_their_provenance_recompute_and_derive_from_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ledger = ledger_without_2027_insurer_figures(d);
    // The node holds the insurer's key and a copy made before any derivation.
    let home = node_support::home(d, "h", &["verzekeraar"]);
    let copy = home.join("ledgers").join(&ledger);
    copy_dir(&d.join("l"), &copy);
    for (u, r) in [("sam", "signer"), ("vera", "viewer")] {
        add_user(d, &home, u, r);
    }
    // The command line derives the same figures in its own copy.
    let rules = repo().join(RULES);
    let claims = repo().join(CLAIMS);
    let (rules_s, claims_s) = (rules.to_str().unwrap(), claims.to_str().unwrap());
    ok(
        d,
        &[
            "measure",
            "derive",
            COPD_ID,
            "--rules",
            rules_s,
            "--file",
            claims_s,
            "--period",
            "2027",
            "--as",
            &key("verzekeraar"),
        ],
    );
    let cli_derived = derived(&submit_payloads(d, &d.join("l")));
    assert_eq!(cli_derived.len(), 2, "{cli_derived:?}");
    let cli_rows: Vec<Value> =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", COPD_ID, "--year", "2027"])).unwrap();
    let cli_cost = cli_rows.iter().find(|r| r["indicator"] == "care-cost").unwrap()["id"].as_str().unwrap().to_string();
    // One row changed: what the command line's recompute says of it.
    let text = std::fs::read_to_string(&claims).unwrap();
    let changed_line = text.lines().position(|l| l.contains(",GP-CONSULT,") && l.contains(",2027-")).unwrap();
    let changed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == changed_line {
                let mut f: Vec<&str> = l.split(',').collect();
                f[4] = "999.99";
                f.join(",") + "\n"
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(changed, text);
    std::fs::write(d.join("changed.csv"), &changed).unwrap();
    let (code, out, _) = common::run(d, &["--json", "measure", "recompute", &cli_cost, "--file", "changed.csv"]);
    assert_eq!(code, 1, "{out}");
    let cli_recompute: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cli_recompute["match"], false);
    assert_eq!(cli_recompute["same_file"], false);

    let journal = || std::fs::read(copy.join("journal")).unwrap();
    let node = serve_web(&home);
    let base = node.url();
    let year = format!("/contracts/{ledger}/{COPD_ID}/2027");
    let derive = format!("{year}/derive");
    let rules_text = std::fs::read(&rules).unwrap();
    let claims_bytes = text.as_bytes();
    runtime().block_on(async {
        // A viewer may not derive: 403, nothing written, no file left.
        let v = client();
        let vcsrf = login(&v, &base, "vera").await;
        let (s, _, form) = get(&v, &base, &derive).await;
        assert_eq!(s, 200);
        assert!(!form.contains("name=\"rules\""), "a viewer gets no derive form");
        let before = journal();
        let body = multipart(&[
            ("csrf", None, vcsrf.as_bytes()),
            ("rules", Some("r.toml"), &rules_text[..]),
            ("claims", Some("c.csv"), claims_bytes),
        ]);
        let (s, _, page) = post_multipart(&v, &base, &derive, body).await;
        assert_eq!(s, 403, "{page}");
        assert_eq!(journal(), before);
        assert_eq!(uploads_left(&home), 0);

        let c = client();
        let csrf = login(&c, &base, "sam").await;
        let (s, _, figures) = get(&c, &base, &format!("{year}/figures")).await;
        assert_eq!(s, 200);
        assert!(figures.contains(&format!("href=\"{derive}\"")), "the figures page links the derive form");
        // No CSRF token (or a wrong one): 403 before any file is taken.
        for token in ["", "0000000000000000000000000000000000000000000000000000000000000000"] {
            let body = multipart(&[
                ("csrf", None, token.as_bytes()),
                ("rules", Some("r.toml"), &rules_text[..]),
                ("claims", Some("c.csv"), claims_bytes),
            ]);
            let (s, _, page) = post_multipart(&c, &base, &derive, body).await;
            assert_eq!(s, 403, "{page}");
        }
        let body = multipart(&[("rules", Some("r.toml"), &rules_text[..]), ("claims", Some("c.csv"), claims_bytes)]);
        assert_eq!(post_multipart(&c, &base, &derive, body).await.0, 403);
        assert_eq!(journal(), before);
        assert_eq!(uploads_left(&home), 0);

        // Rules carrying markup: the preview shows them as text.
        let hostile = String::from_utf8(rules_text.clone()).unwrap().replacen(
            "codes = [\"GP-CONSULT\"",
            &format!("codes = [\"{SCRIPT}\", \"GP-CONSULT\""),
            1,
        );
        assert!(hostile.contains(SCRIPT));
        let body = multipart(&[
            ("csrf", None, csrf.as_bytes()),
            ("rules", Some("r.toml"), hostile.as_bytes()),
            ("claims", Some("c.csv"), claims_bytes),
        ]);
        let (s, _, page) = post_multipart(&c, &base, &derive, body).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains(ESCAPED) && !page.contains(SCRIPT), "{page}");
        assert_eq!(journal(), before, "a preview signs nothing");

        // Derive and submit: the preview, then the confirmation with the password.
        let body = multipart(&[
            ("csrf", None, csrf.as_bytes()),
            ("rules", Some("rules-copd.toml"), &rules_text[..]),
            ("claims", Some("claims-copd-2027.csv"), claims_bytes),
        ]);
        let (s, _, page) = post_multipart(&c, &base, &derive, body).await;
        assert_eq!(s, 200, "{page}");
        let file_hash = blake3::hash(claims_bytes).to_hex().to_string();
        let rules_hash =
            vereffen::domain::derive::Rules::parse("r", std::str::from_utf8(&rules_text[..]).unwrap()).unwrap().hash();
        assert!(page.contains(&file_hash[..16]) && page.contains(&rules_hash[..16]), "{page}");
        assert!(page.contains("care-cost") && page.contains("3,101,192.36"), "{page}");
        assert_eq!(uploads_left(&home), 0, "the claims file is not kept");
        let at = page.find("name=\"preview\" value=\"").unwrap() + "name=\"preview\" value=\"".len();
        let preview = page[at..at + 64].to_string();
        let confirm = format!("{derive}/confirm");
        let (s, _, _) =
            post(&c, &base, &confirm, &[("csrf", &csrf), ("password", "wrong"), ("preview", &preview)]).await;
        assert_eq!(s, 403);
        assert_eq!(journal(), before);
        let (s, loc, page) =
            post(&c, &base, &confirm, &[("csrf", &csrf), ("password", PASSWORD), ("preview", &preview)]).await;
        assert_eq!((s, loc.as_str()), (303, format!("{year}/figures?done=derive").as_str()), "{page}");
        // A preview is confirmed once.
        let (s, _, _) =
            post(&c, &base, &confirm, &[("csrf", &csrf), ("password", PASSWORD), ("preview", &preview)]).await;
        assert_eq!(s, 410);
    });
    drop(node);
    let web_derived = derived(&submit_payloads(d, &copy));
    assert_eq!(web_derived, cli_derived, "the browser submits what `measure derive` submits");

    // The figure's provenance and recomputing it, with the node serving again.
    let node = serve_web(&home);
    let base = node.url();
    let rows: Vec<Value> = serde_json::from_str(&ok(
        d,
        &["--ledger", copy.to_str().unwrap(), "--json", "measure", "list", COPD_ID, "--year", "2027"],
    ))
    .unwrap();
    let cost = rows.iter().find(|r| r["indicator"] == "care-cost").unwrap();
    let cost_id = cost["id"].as_str().unwrap().to_string();
    let file_hash = blake3::hash(claims_bytes).to_hex().to_string();
    let rules_hash =
        vereffen::domain::derive::Rules::parse("r", std::str::from_utf8(&rules_text[..]).unwrap()).unwrap().hash();
    let provenance = format!("{year}/derived/{cost_id}");
    runtime().block_on(async {
        let v = client();
        let csrf = login(&v, &base, "vera").await;
        let (s, _, figures) = get(&v, &base, &format!("{year}/figures")).await;
        assert_eq!(s, 200);
        assert!(figures.contains(&file_hash[..16]) && figures.contains(&format!("href=\"{provenance}\"")), "{figures}");
        assert!(figures.contains(&rules_hash[..16]), "the row shows its rules' hash");
        assert!(figures.contains(&cost_id[..16]), "the submission's entry is shown");
        let (s, _, page) = get(&v, &base, &provenance).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains(&file_hash) && page.contains(&rules_hash) && page.contains(&cost_id), "{page}");
        assert!(page.contains("ADM-*"), "the rules are shown");
        // Recompute (a viewer may: it signs nothing), in English and Dutch.
        let recompute = format!("{provenance}/recompute");
        for (lang, verdict) in [("en", "MATCH:"), ("nl", "KLOPT:")] {
            let body = multipart(&[("csrf", None, csrf.as_bytes()), ("claims", Some("mine.csv"), claims_bytes)]);
            let (s, _, page) = post_multipart(&v, &base, &format!("{recompute}?lang={lang}"), body).await;
            assert_eq!(s, 200, "{page}");
            assert!(page.contains(verdict), "{lang}: {page}");
            assert!(page.contains(&file_hash[..16]), "{page}");
        }
        // One row changed: the difference the command line reports.
        for lang in [Lang::En, Lang::Nl] {
            let body =
                multipart(&[("csrf", None, csrf.as_bytes()), ("claims", Some("changed.csv"), changed.as_bytes())]);
            let (s, _, page) = post_multipart(&v, &base, &format!("{recompute}?lang={}", lang.code()), body).await;
            assert_eq!(s, 200, "{page}");
            let dec = |k: &str| cli_recompute[k].as_str().unwrap().parse::<Decimal>().unwrap();
            let (recorded, again) = (dec("recorded"), dec("recomputed"));
            assert!(page.contains(if lang == Lang::En { "DIFFERENT:" } else { "VERSCHILT:" }), "{page}");
            assert!(page.contains(&format!("id=\"recorded\">{}<", lang.number(recorded))), "{page}");
            assert!(page.contains(&format!("id=\"recomputed\">{}<", lang.number(again))), "{page}");
            assert!(page.contains(&format!("id=\"difference\">{}<", lang.number(again - recorded))), "{page}");
            let here = cli_recompute["file_hash"].as_str().unwrap();
            assert!(
                page.contains(&here[..16]) && page.contains(if lang == Lang::En { "DIFFERS" } else { "WIJKT AF" }),
                "{page}"
            );
        }
        // No token: 403, no file left.
        let body = multipart(&[("claims", Some("mine.csv"), claims_bytes)]);
        assert_eq!(post_multipart(&v, &base, &recompute, body).await.0, 403);
        // Over the limit: 413, and no temporary file left.
        let mut big = Vec::with_capacity(MAX_CLAIMS_BYTES as usize + 4096);
        big.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
        );
        big.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"claims\"; filename=\"big.csv\"\r\n\r\n")
                .as_bytes(),
        );
        big.resize(big.len() + MAX_CLAIMS_BYTES as usize + 1, b'x');
        big.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let (s, _, page) = post_multipart(&v, &base, &recompute, big).await;
        assert_eq!(s, 413, "{page}");
        assert_eq!(uploads_left(&home), 0, "the temporary file is removed");
    });
}
