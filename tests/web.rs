//! The web workspace (issue 16, first slice): users, logins, sessions,
//! CSRF, and the read-only pages (inbox, contracts, a contract, a year's
//! statement) in English and Dutch, served by a node in this process on
//! 127.0.0.1 port 0 beside its API. Every wait is bounded (client
//! timeouts).

mod common;
mod node_support;
mod web_support;

use common::{key, ok};
use rust_decimal::Decimal;
use serde_json::Value;
use vereffen::present::lang::Lang;
use vereffen::web::{session, users};
use web_support::{
    add_user, client, csrf_in, empty_home, get, home_with_ledger, hostile_agreed_ledger, login, post, runtime,
    serve_web, ESCAPED, PASSWORD, SCRIPT,
};

#[test]
fn user_add_stores_an_argon2id_hash_never_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = empty_home(d);
    add_user(d, &home, "anna", "signer");
    let text = std::fs::read_to_string(home.join(users::USERS_FILE)).unwrap();
    assert!(!text.contains(PASSWORD) && !text.contains("horse"), "the password is stored: {text}");
    assert!(text.contains("$argon2id$"), "{text}");
    let h = home.to_str().unwrap();
    assert_eq!(ok(d, &["user", "list", "--home", h]), "anna  signer\n");
    // A second user of the same name, a bad name, a short password: refused, file unchanged.
    let pw = d.join("short");
    std::fs::write(&pw, "short\n").unwrap();
    for (name, file) in [("anna", d.join("anna.password")), ("a b", d.join("anna.password")), ("bert", pw)] {
        let args = ["user", "add", name, "--role", "viewer", "--home", h, "--password-file", file.to_str().unwrap()];
        let (code, _, err) = common::run(d, &args);
        assert_ne!(code, 0, "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(home.join(users::USERS_FILE)).unwrap(), text);
    ok(d, &["user", "remove", "anna", "--home", h]);
    assert_eq!(ok(d, &["user", "list", "--home", h]), "no users\n");
}

#[test]
fn user_add_speaks_of_the_password_and_refuses_a_folder_that_is_not_a_node_home() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = empty_home(d);
    let h = home.to_str().unwrap();
    // An unset variable: the error is about the password, not a passphrase.
    let args = ["user", "add", "anna", "--role", "signer", "--home", h, "--password-env", "VEREFFEN_TEST_NO_SUCH_VAR"];
    let (code, _, err) = common::run(d, &args);
    assert_ne!(code, 0);
    assert!(err.contains("password") && err.contains("VEREFFEN_TEST_NO_SUCH_VAR") && err.contains("not set"), "{err}");
    assert!(!err.contains("passphrase"), "{err}");
    assert!(!home.join(users::USERS_FILE).exists());
    // A ledger copy given as the home: refused, and nothing is added to it.
    ok(d, &["init", "--id", "not-a-home"]);
    let copy = d.join("l");
    let before = common::files_under(&copy, &[]);
    std::fs::write(d.join("pw"), format!("{PASSWORD}\n")).unwrap();
    let pw = d.join("pw");
    let args = [
        "user",
        "add",
        "anna",
        "--role",
        "signer",
        "--home",
        copy.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ];
    let (code, _, err) = common::run(d, &args);
    assert_ne!(code, 0);
    assert!(err.contains("not a node home") && err.contains("nothing was written"), "{err}");
    assert_eq!(common::files_under(&copy, &[]), before, "the ledger copy got new files");
    assert!(!copy.join("ledgers").exists() && !copy.join("keys").exists(), "the ledger copy got a home's folders");
    // A folder that does not exist yet becomes a home, as `serve` makes one.
    let fresh = d.join("fresh-home");
    let args = [
        "user",
        "add",
        "anna",
        "--role",
        "signer",
        "--home",
        fresh.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ];
    ok(d, &args);
    assert!(fresh.join(users::USERS_FILE).is_file() && fresh.join("ledgers").is_dir());
}

#[test]
fn logins_sessions_rate_limit_and_csrf() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = empty_home(d);
    add_user(d, &home, "anna", "viewer");
    add_user(d, &home, "carl", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let c = client();
        // Without a session every page redirects to the login page.
        for path in ["/inbox", "/contracts", "/contracts/x/y", "/contracts/x/y/2025", "/"] {
            let (s, loc, _) = get(&c, &base, path).await;
            assert_eq!(s, 303, "{path}");
            assert!(loc == "/login" || (path == "/" && loc == "/inbox"), "{path}: {loc}");
        }
        // The API keeps its own answers (a signed-request API, JSON).
        let r = c.get(format!("{base}/v1/ledgers")).send().await.unwrap();
        assert_ne!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["content-type"], "application/json");

        // A wrong password and an unknown user get the same answer.
        let (s1, _, wrong) = login(&c, &base, "anna", "not the password at all").await;
        let (s2, _, unknown) = login(&c, &base, "nobody", PASSWORD).await;
        assert_eq!((s1, s2), (401, 401));
        let strip = |p: &str| p.replace(&csrf_in(p), "");
        assert_eq!(strip(&wrong), strip(&unknown));
        assert_eq!(get(&c, &base, "/inbox").await.0, 303, "a refused login gives no session");

        // A login POST without the login form's token is refused.
        let (s, _, _) = post(&c, &base, "/login", &[("user", "anna"), ("password", PASSWORD)]).await;
        assert_eq!(s, 403);

        // After N failures for a name, even the right password is refused for it.
        for _ in 1..session::LOGIN_FAILURES_PER_NAME {
            assert_eq!(login(&c, &base, "anna", "not the password at all").await.0, 401);
        }
        assert_eq!(login(&c, &base, "anna", PASSWORD).await.0, 429);
        assert_eq!(get(&c, &base, "/inbox").await.0, 303);

        // Another name logs in.
        let (s, loc, _) = login(&c, &base, "carl", PASSWORD).await;
        assert_eq!((s, loc.as_str()), (303, "/inbox"));
        let (s, _, page) = get(&c, &base, "/inbox").await;
        assert_eq!(s, 200);
        let token = csrf_in(&page);

        // A POST without or with a wrong CSRF token: 403, and the session stays.
        assert_eq!(post(&c, &base, "/logout", &[]).await.0, 403);
        assert_eq!(post(&c, &base, "/logout", &[("csrf", &"0".repeat(64))]).await.0, 403);
        assert_eq!(get(&c, &base, "/inbox").await.0, 200, "a refused POST changed nothing");
        // With the right token the session ends.
        assert_eq!(post(&c, &base, "/logout", &[("csrf", &token)]).await.0, 303);
        assert_eq!(get(&c, &base, "/inbox").await.0, 303);

        // A removed user's session ends at the next request.
        assert_eq!(login(&c, &base, "carl", PASSWORD).await.0, 303);
        assert_eq!(get(&c, &base, "/inbox").await.0, 200);
        ok(d, &["user", "remove", "carl", "--home", home.to_str().unwrap()]);
        assert_eq!(get(&c, &base, "/inbox").await.0, 303);
    });
    node.shutdown();
}

#[test]
fn pages_escape_ledger_text_and_show_the_statement_settle_computes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, ledger) = hostile_agreed_ledger(d);
    // A corrected 2027 figure of the hospital, disputed with a hostile reason:
    // the hospital's inbox shows the dispute.
    let agreed: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--year", "2027", "--state", "agreed"]))
            .unwrap();
    let m = agreed.as_array().unwrap().iter().find(|m| m["source"] == "ziekenhuis").expect("a hospital figure");
    let id = m["id"].as_str().unwrap();
    let value: Decimal = m["value"].as_str().unwrap().parse().unwrap();
    let new = (value + Decimal::ONE).to_string();
    ok(d, &["measure", "correct", id, "--value", &new, "--reason", "recount", "--as", &key("ziekenhuis")]);
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--year", "2027", "--state", "pending"]))
            .unwrap();
    let p = pending.as_array().unwrap().first().expect("the corrected figure is pending");
    ok(d, &["measure", "dispute", p["id"].as_str().unwrap(), "--reason", SCRIPT, "--as", &key("verzekeraar")]);

    let home = home_with_ledger(d, &ledger);
    // The inbox holds the reason as it was written (so the page has it to escape).
    let cli_inbox = ok(d, &["--json", "inbox", "--home", home.to_str().unwrap()]);
    assert!(cli_inbox.contains(SCRIPT), "{cli_inbox}");
    // The statement `vereffen settle` computes for 2025.
    let settled: Value = serde_json::from_str(&ok(d, &["--json", "settle", &c.id, "--year", "2025"])).unwrap();
    let st = &settled["statement"];

    add_user(d, &home, "anna", "viewer");
    let node = serve_web(&home);
    let base = node.url();
    runtime().block_on(async {
        let cl = client();
        assert_eq!(login(&cl, &base, "anna", PASSWORD).await.0, 303);
        let contract_page = format!("/contracts/{ledger}/{}", c.id);
        for path in ["/inbox?lang=en", "/contracts", &contract_page] {
            let (s, _, page) = get(&cl, &base, path).await;
            assert_eq!(s, 200, "{path}: {page}");
            assert!(page.contains(ESCAPED), "{path} does not show the escaped text:\n{page}");
            assert!(!page.contains(SCRIPT), "{path} holds a script:\n{page}");
            assert!(!page.contains("<script"), "{path} holds a script:\n{page}");
        }
        let (_, _, contracts) = get(&cl, &base, "/contracts").await;
        assert!(contracts.contains(&format!("href=\"{contract_page}\"")), "{contracts}");
        assert!(contracts.contains("Thuiszorg Berkelland"), "{contracts}");
        let (_, _, contract) = get(&cl, &base, &contract_page).await;
        assert!(contract.contains(&format!("href=\"{contract_page}/2025\"")), "{contract}");
        assert!(contract.contains("<th scope=\"col\">"), "semantic tables: {contract}");
        // The terms document in the page's language.
        assert!(contract.contains("\nDistribution\n"), "{contract}");
        let (s, _, contract_nl) = get(&cl, &base, &format!("{contract_page}?lang=nl")).await;
        assert_eq!(s, 200, "{contract_nl}");
        assert!(contract_nl.contains("\nVerdeling\n") && !contract_nl.contains("\nDistribution\n"), "{contract_nl}");

        // The statement in both languages: every amount settle computed, in the language's format.
        let path = format!("{contract_page}/2025");
        let (s, _, en) = get(&cl, &base, &format!("{path}?lang=en")).await;
        assert_eq!(s, 200, "{en}");
        let (s, _, nl) = get(&cl, &base, &format!("{path}?lang=nl")).await;
        assert_eq!(s, 200, "{nl}");
        assert!(nl.contains("<html lang=\"nl\">") && en.contains("<html lang=\"en\">"));
        assert!(nl.contains("href=\"#main\""), "a skip link: {nl}");
        let dec = |v: &Value| -> Decimal { v.as_str().unwrap_or_else(|| panic!("{v}")).parse().unwrap() };
        let mut amounts: Vec<Decimal> = Vec::new();
        for p in st["payments"].as_array().unwrap() {
            amounts.push(dec(&p["amount"]));
        }
        for p in st["parties"].as_array().unwrap() {
            amounts.push(dec(&p["received"]));
            amounts.push(dec(&p["paid"]));
        }
        assert!(!st["payments"].as_array().unwrap().is_empty(), "the year has payments");
        for a in &amounts {
            assert!(en.contains(&Lang::En.money(*a)), "{} not on the English page", Lang::En.money(*a));
            assert!(nl.contains(&Lang::Nl.money(*a)), "{} not on the Dutch page", Lang::Nl.money(*a));
        }
        let big = amounts.iter().copied().max().unwrap();
        assert!(big >= Decimal::from(1000), "an amount with a thousands separator: {big}");
        let (e, n) = (Lang::En.money(big), Lang::Nl.money(big));
        assert!(e.contains(',') && e.contains('.') && e.rfind('.') > e.rfind(','), "{e}");
        assert!(n.contains('.') && n.contains(',') && n.rfind(',') > n.rfind('.'), "{n}");
        assert!(nl.contains(&format!(">{n}<")), "{n} in a cell of the Dutch page");
        // The statement's hash, as settle computed it.
        let hash = settled["statement_hash"].as_str().unwrap();
        assert!(en.contains(&hash[..16]), "the statement hash");

        // Downloads: the bytes `settle` writes.
        let csv = cl.get(format!("{base}{path}/statement.csv?lang=en")).send().await.unwrap();
        assert_eq!(csv.status().as_u16(), 200);
        let csv = csv.text().await.unwrap();
        assert_eq!(csv, ok(d, &["settle", &c.id, "--year", "2025", "--format", "csv"]));
        for ext in ["xlsx", "pdf"] {
            let r = cl.get(format!("{base}{path}/statement.{ext}")).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{ext}");
            assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!(".{ext}")));
            assert!(r.bytes().await.unwrap().len() > 1000, "{ext}");
        }
        // An unknown ledger, contract or file: 404.
        for bad in ["/contracts/nope/x", &format!("/contracts/{ledger}/nope"), &format!("{path}/statement.exe")] {
            assert_eq!(get(&cl, &base, bad).await.0, 404, "{bad}");
        }
    });
    node.shutdown();
}

#[test]
fn serve_prints_the_workspace_url_and_serves_the_login_page_there() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let home = empty_home(tmp.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_vereffen"))
        .args(["serve", "--home", home.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vereffen serve");
    let read_until = |r: &mut dyn Read, end: &dyn Fn(&str) -> bool| {
        let (mut text, mut byte) = (Vec::new(), [0u8; 1]);
        while text.len() < 4096 && !end(&String::from_utf8_lossy(&text)) && r.read(&mut byte).unwrap_or(0) == 1 {
            text.push(byte[0]);
        }
        String::from_utf8_lossy(&text).into_owned()
    };
    // Both pipes stay open until the node is stopped: a node whose stderr
    // is closed while it writes a line stops.
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = read_until(&mut stdout, &|t| t.ends_with('\n'));
    let url = out.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{out:?}")).to_string();
    let err = read_until(&mut stderr, &|t| t.contains("auditor --home"));
    let page = runtime().block_on(async { get(&client(), &url, "/login").await });
    let _ = child.kill();
    let _ = child.wait();
    drop((stdout, stderr));
    assert!(err.contains(&format!("web workspace: {url}/login\n")), "{err}");
    assert!(err.contains("vereffen user add NAME --role viewer|signer|auditor --home"), "the hint: {err}");
    assert_eq!(page.0, 200, "{}", page.2);
    assert!(page.2.contains("name=\"password\""), "{}", page.2);
}

/// The value of the hidden field `name` in the first form of `page` whose
/// action ends in `action`.
fn hidden_in_form(page: &str, action: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("{action}\""))?;
    let form = &page[at..page[at..].find("</form>").map_or(page.len(), |e| at + e)];
    let key = format!("name=\"{name}\" value=\"");
    let v = form.find(&key)? + key.len();
    Some(form[v..v + form[v..].find('"')?].to_string())
}

#[test]
fn a_signer_accepts_a_pending_version_from_the_contract_page_and_a_viewer_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The COPD contract proposed by the hospital and accepted by home
    // care: it waits for the insurer, whose key this node holds.
    ok(d, &["init", "--id", "negotiate"]);
    for (p, role) in [
        ("ziekenhuis", "provider"),
        ("thuiszorg", "provider"),
        ("verzekeraar", "payer"),
        ("vektis", "measurement_source"),
    ] {
        common::add_party(d, p, p, role, &key(p));
    }
    let copd = common::repo().join(common::COPD_FILE);
    let version = vereffen::domain::contract::check_file(&copd).unwrap().version_hash();
    ok(d, &["contract", "propose", copd.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    ok(d, &["contract", "accept", common::COPD_ID, "--version", &version, "--as", &key("thuiszorg")]);
    let home = node_support::home(d, "h", &["verzekeraar"]);
    common::copy_dir(&d.join("l"), &home.join("ledgers").join("negotiate"));
    add_user(d, &home, "sara", "signer");
    add_user(d, &home, "vera", "viewer");
    let journal = home.join("ledgers/negotiate/journal");
    let log = home.join("web/signatures.jsonl");
    let node = serve_web(&home);
    let base = node.url();
    let page_path = format!("/contracts/negotiate/{}", common::COPD_ID);
    let decide = format!("{page_path}/decide");
    runtime().block_on(async {
        // A viewer sees no decision form, and her POST is refused unwritten.
        let v = client();
        assert_eq!(login(&v, &base, "vera", PASSWORD).await.0, 303);
        let (s, _, page) = get(&v, &base, &page_path).await;
        assert_eq!(s, 200);
        assert!(!page.contains(&format!("{decide}\"")), "a viewer is offered to decide");
        let before = std::fs::read(&journal).unwrap();
        let token = csrf_in(&page);
        let form = [("csrf", token.as_str()), ("password", PASSWORD), ("version", &version), ("decision", "accept")];
        assert_eq!(post(&v, &base, &decide, &form).await.0, 403);
        assert_eq!(std::fs::read(&journal).unwrap(), before, "a viewer's POST wrote to the ledger");

        // The signer sees the version waiting for verzekeraar, with its full hash.
        let c = client();
        assert_eq!(login(&c, &base, "sara", PASSWORD).await.0, 303);
        let (_, _, page) = get(&c, &base, &page_path).await;
        assert_eq!(hidden_in_form(&page, &decide, "version").as_deref(), Some(version.as_str()), "{page}");
        let token = csrf_in(&page);
        // Refused, nothing written: a wrong password, an unknown version, a
        // rejection without a reason, no decision.
        for (form, status) in [
            (vec![("password", "not the password at all"), ("version", &version), ("decision", "accept")], 403),
            (vec![("password", PASSWORD), ("version", &"0".repeat(64)), ("decision", "accept")], 422),
            (vec![("password", PASSWORD), ("version", &version), ("decision", "reject"), ("reason", " ")], 422),
            (vec![("password", PASSWORD), ("version", &version), ("decision", "maybe")], 422),
        ] {
            let mut form = form.clone();
            form.push(("csrf", &token));
            assert_eq!(post(&c, &base, &decide, &form).await.0, status, "{form:?}");
            assert_eq!(std::fs::read(&journal).unwrap(), before, "a refused decision wrote: {form:?}");
        }
        assert!(!log.exists() || std::fs::read_to_string(&log).unwrap().is_empty());
        // Accepted: back to the contract page, which confirms it and now
        // shows the contract in force and no form.
        let form = [("csrf", token.as_str()), ("password", PASSWORD), ("version", &version), ("decision", "accept")];
        let (s, loc, _) = post(&c, &base, &decide, &form).await;
        assert_eq!((s, loc.as_str()), (303, format!("{page_path}?done=accept").as_str()));
        let (_, _, page) = get(&c, &base, &loc).await;
        assert!(page.contains("Signed: the version is accepted."), "{page}");
        assert!(!page.contains(&format!("{decide}\"")), "still offered to decide after signing");
        // A second acceptance is refused by the same check as the CLI's.
        let after = std::fs::read(&journal).unwrap();
        assert_eq!(post(&c, &base, &decide, &form).await.0, 422);
        assert_eq!(std::fs::read(&journal).unwrap(), after);
        // The signature log names the user and the accept.
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("\"user\":\"sara\"") && text.contains("\"action\":\"accept\""), "{text}");
    });
    node.shutdown();
    let status = ok(
        d,
        &[
            "--ledger",
            home.join("ledgers/negotiate").to_str().unwrap(),
            "--json",
            "contract",
            "status",
            common::COPD_ID,
        ],
    );
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["base"], serde_json::json!(version), "the version is in force: {status}");
}
