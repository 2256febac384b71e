//! Offering contract versions from the browser (issue 16): propose a new
//! contract, counter, amend and withdraw, each previewed before it is
//! signed, driven with reqwest against a node in this process on
//! 127.0.0.1 port 0. Every offer is checked on the node's copy through the
//! command line (`contract status --json`), and every refusal by the
//! journal's bytes and the signature log staying as they were.

mod common;
mod node_support;
mod web_support;

use std::path::{Path, PathBuf};

use common::{add_party, copy_dir, key, ok, repo, COPD_FILE, COPD_ID};
use serde_json::Value;
use web_support::{
    add_user, client, csrf_in, get, hidden_in, hostile_contract, post, post_multipart, runtime, serve_web, ESCAPED,
    PASSWORD, SCRIPT,
};

/// Logs `user` in (with [`PASSWORD`]) and returns the session's CSRF token.
async fn login(c: &reqwest::Client, base: &str, user: &str) -> String {
    let (s, loc, _) = web_support::login(c, base, user, PASSWORD).await;
    assert_eq!((s, loc.as_str()), (303, "/inbox"), "{user} logs in");
    let (_, _, inbox) = get(c, base, "/inbox").await;
    csrf_in(&inbox)
}

/// A ledger `d/l` with id `id` and the COPD contract's four parties registered.
fn parties_ledger(d: &Path, id: &str) {
    ok(d, &["init", "--id", id]);
    for (p, role) in [
        ("ziekenhuis", "provider"),
        ("thuiszorg", "provider"),
        ("verzekeraar", "payer"),
        ("vektis", "measurement_source"),
    ] {
        add_party(d, p, p, role, &key(p));
    }
}

/// A node home `d/NAME` with the demo key of `party`, holding a copy of
/// `d/l` as `ledger`, and the users `sam` (signer) and `vera` (viewer).
fn home_of(d: &Path, name: &str, party: &str, ledger: &str) -> PathBuf {
    let home = node_support::home(d, name, &[party]);
    copy_dir(&d.join("l"), &home.join("ledgers").join(ledger));
    add_user(d, &home, "sam", "signer");
    add_user(d, &home, "vera", "viewer");
    home
}

/// `contract status --json` of the node's copy.
fn status_of(d: &Path, copy: &Path) -> Value {
    let out = ok(d, &["--ledger", copy.to_str().unwrap(), "--json", "contract", "status", COPD_ID]);
    serde_json::from_str(&out).unwrap()
}

fn log_path(home: &Path) -> PathBuf {
    home.join("web").join("signatures.jsonl")
}

fn log_actions(home: &Path) -> Vec<String> {
    std::fs::read_to_string(log_path(home))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["action"].as_str().unwrap().to_string())
        .collect()
}

/// What a refused action must leave as it was: the journal and the log.
fn unchanged(copy: &Path, home: &Path) -> (Vec<u8>, Vec<u8>) {
    (std::fs::read(copy.join("journal")).unwrap(), std::fs::read(log_path(home)).unwrap_or_default())
}

/// The COPD contract text with the provider's share of savings at `share`.
fn copd_with_share(share: &str) -> String {
    let text = std::fs::read_to_string(repo().join(COPD_FILE)).unwrap();
    assert!(text.contains("provider_share = 0.5\n"));
    text.replacen("provider_share = 0.5\n", &format!("provider_share = {share}\n"), 1)
}

#[test]
fn a_signer_previews_and_proposes_a_contract_and_every_refusal_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    parties_ledger(d, "offer-copd");
    let home = home_of(d, "h", "ziekenhuis", "offer-copd");
    let copy = home.join("ledgers").join("offer-copd");
    // The hospital's name and the title carry <script>.
    let text = std::fs::read_to_string(hostile_contract(d)).unwrap();
    let node = serve_web(&home);
    let base = format!("http://{}", node.addr());
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "sam").await;
        let (s, _, page) = get(&c, &base, "/contracts").await;
        assert_eq!(s, 200);
        assert!(page.contains("href=\"/propose\""), "{page}");
        let (s, _, page) = get(&c, &base, "/propose").await;
        assert_eq!(s, 200);
        assert!(page.contains("<option value=\"offer-copd\">offer-copd (as ziekenhuis)</option>"), "{page}");

        // A syntax error: 422, every problem as FILE:LINE:COLUMN, nothing written.
        let before = unchanged(&copy, &home);
        let broken = copd_with_share("= 0.5");
        let line = broken.lines().position(|l| l.starts_with("provider_share = =")).unwrap() + 1;
        let form = [
            ("csrf", None, csrf.as_bytes()),
            ("ledger", None, b"offer-copd".as_slice()),
            ("contract", Some("broken.toml"), broken.as_bytes()),
        ];
        let (s, _, page) = post_multipart(&c, &base, "/propose", &form).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains(&format!("broken.toml:{line}:")), "{page}");
        assert_eq!(unchanged(&copy, &home), before);
        // No text at all.
        let (s, _, _) = post_multipart(&c, &base, "/propose", &form[..2]).await;
        assert_eq!(s, 422);

        // A text larger than the workspace's 16 KiB form limit is read (the
        // offer routes take a contract's 1 MiB); one over 1 MiB is 413.
        let long = format!("{text}{}", "# a comment line to make the text long enough\n".repeat(2_000));
        assert!(long.len() > 64 << 10);
        let big = [form[0], form[1], ("contract", Some("long.toml"), long.as_bytes())];
        let (s, _, page) = post_multipart(&c, &base, "/propose", &big).await;
        assert_eq!(s, 200, "{page}");
        let huge = vec![b'#'; (1 << 20) + 1];
        let too_big = [form[0], form[1], ("contract", Some("huge.toml"), huge.as_slice())];
        let (s, _, _) = post_multipart(&c, &base, "/propose", &too_big).await;
        assert_eq!(s, 413);
        // In Dutch.
        let (s, _, page) = post_multipart(&c, &base, "/propose?lang=nl", &big).await;
        assert_eq!(s, 200);
        assert!(page.contains("Ondertekenen en aanbieden"), "{page}");
        let (_, _, _) = get(&c, &base, "/inbox?lang=en").await;
        assert_eq!(unchanged(&copy, &home), before);

        // The preview: the terms as a document, escaped; nothing written.
        let form = [
            ("csrf", None, csrf.as_bytes()),
            ("ledger", None, b"offer-copd".as_slice()),
            ("contract", Some("copd.toml"), text.as_bytes()),
        ];
        let (s, _, preview) = post_multipart(&c, &base, "/propose", &form).await;
        assert_eq!(s, 200, "{preview}");
        assert!(preview.contains(ESCAPED) && !preview.contains(SCRIPT), "ledger text is escaped");
        assert!(preview.contains("Sign and offer"), "{preview}");
        assert!(preview.contains(&format!("contract {COPD_ID}  version ")), "the terms: {preview}");
        assert!(preview.contains("Term: 2025-2027"), "the terms: {preview}");
        assert_eq!(unchanged(&copy, &home), before);
        let (hash, seen) = (hidden_in(&preview, "hash"), hidden_in(&preview, "seen"));
        // The text rides along exactly (a browser would send \r\n line ends).
        assert_eq!(hidden_in(&preview, "toml"), text);
        let crlf = text.replace('\n', "\r\n");
        let confirm = |csrf: &str, toml: &str, hash: &str, password: &str| -> Vec<(String, Vec<u8>)> {
            vec![
                ("csrf".into(), csrf.as_bytes().to_vec()),
                ("ledger".into(), b"offer-copd".to_vec()),
                ("kind".into(), b"propose".to_vec()),
                ("toml".into(), toml.as_bytes().to_vec()),
                ("hash".into(), hash.as_bytes().to_vec()),
                ("seen".into(), seen.as_bytes().to_vec()),
                ("password".into(), password.as_bytes().to_vec()),
            ]
        };
        let send = |parts: Vec<(String, Vec<u8>)>| {
            let (c, base) = (c.clone(), base.clone());
            async move {
                let p: Vec<(&str, Option<&str>, &[u8])> =
                    parts.iter().map(|(n, b)| (n.as_str(), None, b.as_slice())).collect();
                post_multipart(&c, &base, "/propose/confirm", &p).await
            }
        };

        // Refusals: no CSRF token, a wrong password, a text that is not the one previewed.
        let (s, _, _) = send(confirm("", &crlf, &hash, PASSWORD)).await;
        assert_eq!(s, 403);
        let (s, _, _) = send(confirm(&csrf, &crlf, &hash, "wrong password")).await;
        assert_eq!(s, 403);
        let altered = crlf.replacen("0.5", "0.6", 1);
        let (s, _, page) = send(confirm(&csrf, &altered, &hash, PASSWORD)).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("not the text previewed"), "{page}");
        assert_eq!(unchanged(&copy, &home), before);

        // A viewer's confirmation: 403, nothing written.
        let v = client();
        let vcsrf = login(&v, &base, "vera").await;
        let (s, _, _) = get(&v, &base, "/propose").await;
        assert_eq!(s, 403);
        let vparts = confirm(&vcsrf, &crlf, &hash, PASSWORD);
        let p: Vec<(&str, Option<&str>, &[u8])> =
            vparts.iter().map(|(n, b)| (n.as_str(), None, b.as_slice())).collect();
        let (s, _, _) = post_multipart(&v, &base, "/propose/confirm", &p).await;
        assert_eq!(s, 403);
        assert_eq!(unchanged(&copy, &home), before);

        // Signed: the contract is proposed, the log says who.
        let (s, loc, page) = send(confirm(&csrf, &crlf, &hash, PASSWORD)).await;
        assert_eq!(
            (s, loc.as_str()),
            (303, format!("/contracts/offer-copd/{COPD_ID}?done=propose").as_str()),
            "{page}"
        );
        let (s, _, page) = get(&c, &base, &loc).await;
        assert_eq!(s, 200);
        assert!(page.contains("Signed: the contract is proposed"), "{page}");
        assert_eq!(log_actions(&home), vec!["propose"]);

        // The same confirmation again is stale: the contract has a version now.
        let after = unchanged(&copy, &home);
        let (s, _, page) = send(confirm(&csrf, &crlf, &hash, PASSWORD)).await;
        assert_eq!(s, 409, "{page}");
        assert!(page.contains("Reload"), "{page}");
        assert_eq!(unchanged(&copy, &home), after);
        // Proposing it again is refused at the preview, with the command line's words.
        let (s, _, page) = post_multipart(&c, &base, "/propose", &form).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("already exists in this ledger"), "{page}");
    });
    drop(node);
    let st = status_of(d, &copy);
    let versions = st["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["offered_by"], serde_json::json!(["ziekenhuis"]));
    assert_eq!(versions[0]["state"]["state"], "pending");
}

#[test]
fn the_insurer_counters_and_withdraws_from_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    parties_ledger(d, "neg-copd");
    let copd = repo().join(COPD_FILE).display().to_string();
    ok(d, &["contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    let first = vereffen::domain::contract::check_file(&repo().join(COPD_FILE)).unwrap().version_hash();
    let home = home_of(d, "v", "verzekeraar", "neg-copd");
    let copy = home.join("ledgers").join("neg-copd");
    let page_path = format!("/contracts/neg-copd/{COPD_ID}");
    let counter_text = copd_with_share("0.45");
    let node = serve_web(&home);
    let base = format!("http://{}", node.addr());
    let counter_version = runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "sam").await;
        let (s, _, page) = get(&c, &base, &page_path).await;
        assert_eq!(s, 200);
        assert!(page.contains("Counter-proposal"), "{page}");
        assert!(!page.contains("Withdraw an offer"), "the insurer offered nothing yet");
        // A viewer sees no offer forms.
        let v = client();
        login(&v, &base, "vera").await;
        let (_, _, vpage) = get(&v, &base, &page_path).await;
        assert!(!vpage.contains("Counter-proposal"));

        // The preview names the change in words; pasted text works like a file.
        let before = unchanged(&copy, &home);
        let form = [
            ("csrf", None, csrf.as_bytes()),
            ("kind", None, b"counter".as_slice()),
            ("to", None, first.as_bytes()),
            ("contract", Some(""), b"".as_slice()),
            ("text", None, counter_text.as_bytes()),
        ];
        let (s, _, preview) = post_multipart(&c, &base, &format!("{page_path}/offer"), &form).await;
        assert_eq!(s, 200, "{preview}");
        assert!(preview.contains("provider share of savings: 50% -&gt; 45%"), "{preview}");
        assert_eq!(unchanged(&copy, &home), before);
        // The same terms as the version answered: refused in the command line's words.
        let same = std::fs::read(repo().join(COPD_FILE)).unwrap();
        let same_form = [form[0], form[1], form[2], ("contract", Some("copd.toml"), same.as_slice())];
        let (s, _, page) = post_multipart(&c, &base, &format!("{page_path}/offer"), &same_form).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("accept it instead"), "{page}");
        // An amendment of a contract not in force: refused.
        let amend_form = [form[0], ("kind", None, b"amend".as_slice()), ("effective_from", None, b"2026"), form[4]];
        let (s, _, page) = post_multipart(&c, &base, &format!("{page_path}/offer"), &amend_form).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("is not in force"), "{page}");

        let confirm: Vec<(&str, Option<&str>, &[u8])> = vec![
            ("csrf", None, csrf.as_bytes()),
            ("kind", None, b"counter"),
            ("to", None, first.as_bytes()),
            ("toml", None, counter_text.as_bytes()),
        ];
        let (hash, seen) = (hidden_in(&preview, "hash"), hidden_in(&preview, "seen"));
        let mut ok_form = confirm.clone();
        ok_form.extend([
            ("hash", None, hash.as_bytes()),
            ("seen", None, seen.as_bytes()),
            ("password", None, PASSWORD.as_bytes()),
        ]);
        // A stale preview: the digest of other versions.
        let mut stale = confirm.clone();
        let other_seen = "0".repeat(64);
        stale.extend([
            ("hash", None, hash.as_bytes()),
            ("seen", None, other_seen.as_bytes()),
            ("password", None, PASSWORD.as_bytes()),
        ]);
        let (s, _, page) = post_multipart(&c, &base, &format!("{page_path}/offer/confirm"), &stale).await;
        assert_eq!(s, 409, "{page}");
        assert_eq!(unchanged(&copy, &home), before);

        let (s, loc, page) = post_multipart(&c, &base, &format!("{page_path}/offer/confirm"), &ok_form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{page_path}?done=counter").as_str()), "{page}");
        let (_, _, page) = get(&c, &base, &loc).await;
        assert!(page.contains("Signed: your counter-proposal is offered."), "{page}");
        assert!(page.contains("Withdraw an offer"), "{page}");
        let counter_version = hidden_in(&page[page.find("/withdraw\"").unwrap()..], "version");

        // Withdraw it: a viewer cannot, nor a form without the token; the signer can.
        let after = unchanged(&copy, &home);
        let vcsrf = csrf_in(&vpage);
        let wpath = format!("{page_path}/withdraw");
        let (s, _, _) =
            post(&v, &base, &wpath, &[("csrf", &vcsrf), ("version", &counter_version), ("password", PASSWORD)]).await;
        assert_eq!(s, 403);
        let (s, _, _) =
            post(&c, &base, &wpath, &[("csrf", ""), ("version", &counter_version), ("password", PASSWORD)]).await;
        assert_eq!(s, 403);
        assert_eq!(unchanged(&copy, &home), after);
        let (s, loc, page) = post(
            &c,
            &base,
            &wpath,
            &[("csrf", &csrf), ("version", &counter_version), ("reason", "wrong figure"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!((s, loc.as_str()), (303, format!("{page_path}?done=withdraw").as_str()), "{page}");
        // Withdrawn once: a second time is refused.
        let (s, _, page) =
            post(&c, &base, &wpath, &[("csrf", &csrf), ("version", &counter_version), ("password", PASSWORD)]).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("already withdrawn"), "{page}");
        counter_version
    });
    drop(node);
    let st = status_of(d, &copy);
    let v =
        st["versions"].as_array().unwrap().iter().find(|v| v["version"] == counter_version.as_str()).unwrap().clone();
    assert_eq!(v["kind"]["answers"], first.as_str(), "{v}");
    assert_eq!(v["offered_by"], serde_json::json!(["verzekeraar"]));
    assert_eq!(v["state"]["state"], "withdrawn");
    assert_eq!(log_actions(&home), vec!["counter", "withdraw"]);
}

#[test]
fn the_hospital_amends_an_in_force_contract_from_a_year() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    parties_ledger(d, "amend-copd");
    let copd = repo().join(COPD_FILE).display().to_string();
    ok(d, &["contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    let first = vereffen::domain::contract::check_file(&repo().join(COPD_FILE)).unwrap().version_hash();
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["contract", "accept", COPD_ID, "--version", &first, "--as", &key(p)]);
    }
    let home = home_of(d, "h", "ziekenhuis", "amend-copd");
    let copy = home.join("ledgers").join("amend-copd");
    let page_path = format!("/contracts/amend-copd/{COPD_ID}");
    let amended = copd_with_share("0.55");
    let node = serve_web(&home);
    let base = format!("http://{}", node.addr());
    runtime().block_on(async {
        let c = client();
        let csrf = login(&c, &base, "sam").await;
        let (_, _, page) = get(&c, &base, &page_path).await;
        assert!(page.contains("Amendment") && !page.contains("Counter-proposal"), "{page}");
        let before = unchanged(&copy, &home);
        // Outside the term: refused with the command line's words.
        let early = [
            ("csrf", None, csrf.as_bytes()),
            ("kind", None, b"amend".as_slice()),
            ("effective_from", None, b"2024".as_slice()),
            ("contract", Some("amended.toml"), amended.as_bytes()),
        ];
        let (s, _, page) = post_multipart(&c, &base, &format!("{page_path}/offer"), &early).await;
        assert_eq!(s, 422, "{page}");
        assert!(page.contains("is not allowed"), "{page}");
        // Not a year.
        let bad = [early[0], early[1], ("effective_from", None, b"next year".as_slice()), early[3]];
        let (s, _, _) = post_multipart(&c, &base, &format!("{page_path}/offer"), &bad).await;
        assert_eq!(s, 422);
        // Another contract's text on this contract's page.
        let other = amended.replacen(&format!("id = \"{COPD_ID}\""), "id = \"another-contract\"", 1);
        let wrong =
            [early[0], early[1], ("effective_from", None, b"2026".as_slice()), ("text", None, other.as_bytes())];
        let (s, _, page) = post_multipart(&c, &base, &format!("{page_path}/offer"), &wrong).await;
        assert_eq!(s, 422, "{page}");
        assert_eq!(unchanged(&copy, &home), before);

        let form = [early[0], early[1], ("effective_from", None, b"2026".as_slice()), early[3]];
        let (s, _, preview) = post_multipart(&c, &base, &format!("{page_path}/offer"), &form).await;
        assert_eq!(s, 200, "{preview}");
        assert!(preview.contains("from 2026"), "{preview}");
        assert!(preview.contains("provider share of savings: 50% -&gt; 55%"), "{preview}");
        let (hash, seen) = (hidden_in(&preview, "hash"), hidden_in(&preview, "seen"));
        assert_eq!(hidden_in(&preview, "effective_from"), "2026");
        let confirm: Vec<(&str, Option<&str>, &[u8])> = vec![
            ("csrf", None, csrf.as_bytes()),
            ("kind", None, b"amend"),
            ("effective_from", None, b"2026"),
            ("toml", None, amended.as_bytes()),
            ("hash", None, hash.as_bytes()),
            ("seen", None, seen.as_bytes()),
            ("password", None, PASSWORD.as_bytes()),
        ];
        let (s, loc, page) = post_multipart(&c, &base, &format!("{page_path}/offer/confirm"), &confirm).await;
        assert_eq!((s, loc.as_str()), (303, format!("{page_path}?done=amend").as_str()), "{page}");
    });
    drop(node);
    let st = status_of(d, &copy);
    let amendment = st["versions"].as_array().unwrap().iter().find(|v| v["version"] != first.as_str()).unwrap().clone();
    assert_eq!(amendment["kind"]["amends"], first.as_str(), "{amendment}");
    assert_eq!(amendment["effective_from"], 2026);
    assert_eq!(amendment["offered_by"], serde_json::json!(["ziekenhuis"]));
    assert_eq!(log_actions(&home), vec!["amend"]);
}
