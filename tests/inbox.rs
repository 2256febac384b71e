//! `vereffen inbox` through the CLI: a hospital and an insurer in one
//! ledger see what awaits each of them (versions to sign, superseded ones
//! not, figures to attest, disputes of their figures, statements to
//! co-sign, computable years), each with a command that does it; recorded
//! equivocation; a node home with two ledgers and one broken copy; the JSON
//! shape.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

const HF: &str = "heart-failure-telemonitoring-2026";
const HF_FILE: &str = "contracts/heart-failure-telemonitoring-p4p.toml";

/// `vereffen inbox --json` on ledger `l` as `party`: the items.
fn inbox(d: &Path, party: &str) -> Vec<Value> {
    let out = ok(d, &["--json", "inbox", "--as", &key(party)]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["version"], 1, "{v:#}");
    v["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| format!("{} {}", i["kind"].as_str().unwrap(), i["year"])).collect()
}

/// Runs an inbox item's command (plain words: no quoting was needed) as a
/// script does: a command that signs shows what it signs and asks on a
/// terminal, so a script answers with `--yes`.
fn run_command(d: &Path, item: &Value) -> String {
    let command = item["command"].as_str().unwrap();
    assert!(!command.contains('\''), "{command}");
    let mut words: Vec<&str> = command.split(' ').collect();
    assert_eq!(words[0], "vereffen");
    if words.contains(&"attest") || words.contains(&"--sign") {
        words.push("--yes");
    }
    ok(d, &words[1..])
}

/// The fields every item has, and the kind's own.
fn assert_shape(item: &Value, own: &[&str]) {
    let mut expected: Vec<&str> = vec!["kind", "ledger", "contract", "year", "party", "entries", "command", "summary"];
    expected.extend_from_slice(own);
    expected.sort();
    let mut got: Vec<&str> = item.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    got.sort();
    assert_eq!(got, expected, "{item:#}");
    assert!(item["entries"].as_array().unwrap().iter().all(|e| e.as_str().unwrap().len() == 64), "{item:#}");
}

/// The HF contract with another lease price: a counter-proposal.
fn counter_file(d: &Path) -> String {
    let text = fs::read_to_string(repo().join(HF_FILE)).unwrap();
    assert!(text.contains("price = 350.00"));
    let path = d.join("counter.toml");
    fs::write(&path, text.replace("price = 350.00", "price = 340.00")).unwrap();
    path.display().to_string()
}

fn version_of(d: &Path, file: &str) -> String {
    let v: Value = serde_json::from_str(&ok(d, &["contract", "check", file, "--json"])).unwrap();
    v[0]["version"].as_str().unwrap().to_string()
}

fn measurement(d: &Path, indicator: &str, period: &str, state: &str) -> Value {
    let list: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", HF])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["indicator"] == indicator && m["period"] == period && m["state"] == state)
        .unwrap_or_else(|| panic!("no {state} {indicator} {period} in {list:#}"))
        .clone()
}

#[test]
fn a_hospital_and_an_insurer_see_what_awaits_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", "hf-node"]);
    add_party(d, "ziekenhuis", "Ziekenhuis", "provider", &key("ziekenhuis"));
    add_party(d, "verzekeraar", "Verzekeraar", "payer", &key("verzekeraar"));
    assert_eq!(ok(d, &["inbox", "--as", &key("verzekeraar")]), "nothing awaits you\n");

    // A proposal waits for the insurer, not for the hospital that made it.
    let hf = repo().join(HF_FILE).display().to_string();
    ok(d, &["contract", "propose", &hf, "--as", &key("ziekenhuis")]);
    let proposal = version_of(d, &hf);
    let items = inbox(d, "verzekeraar");
    assert_eq!(kinds(&items), ["sign_version null"], "{items:#?}");
    let item = &items[0];
    assert_shape(item, &["version", "version_kind", "offered_by", "waiting_for"]);
    assert_eq!(item["ledger"], "hf-node");
    assert_eq!(item["contract"], HF);
    assert_eq!(item["party"], "verzekeraar");
    assert_eq!(item["version"], proposal.as_str());
    assert_eq!(item["version_kind"], "proposal");
    assert_eq!(item["offered_by"], serde_json::json!(["ziekenhuis"]));
    assert_eq!(
        item["command"],
        format!("vereffen --ledger l contract accept {HF} --version {proposal} --as {}", key("verzekeraar"))
    );
    assert!(inbox(d, "ziekenhuis").is_empty());
    let text = ok(d, &["inbox", "--as", &key("verzekeraar")]);
    assert!(text.starts_with("== ledger hf-node (1 item) ==\n- "), "{text}");
    assert!(text.contains(&format!("    vereffen --ledger l contract accept {HF} --version {proposal}")), "{text}");

    // The insurer answers with a counter-proposal: the proposal is
    // superseded (though `contract status` still calls it pending) and
    // waits for nobody; the counter waits for the hospital.
    let counter = counter_file(d);
    ok(d, &["contract", "counter", HF, &counter, "--as", &key("verzekeraar")]);
    let countered = version_of(d, &counter);
    let status = ok(d, &["contract", "status", HF]);
    assert!(status.contains(&proposal[..12]), "{status}");
    assert!(inbox(d, "verzekeraar").is_empty(), "the superseded proposal is not pending");
    let items = inbox(d, "ziekenhuis");
    assert_eq!(kinds(&items), ["sign_version null"], "{items:#?}");
    assert_eq!(items[0]["version"], countered.as_str());
    assert_eq!(items[0]["version_kind"], "counter");
    // Running the command the inbox gives puts the contract in force:
    // nothing about versions awaits anyone any more.
    run_command(d, &items[0]);
    assert!(inbox(d, "ziekenhuis").is_empty());
    assert!(inbox(d, "verzekeraar").is_empty());

    // Figures submitted by one side wait for the other side's attestation.
    let figures = repo().join("examples/measurements").join(HF);
    let file = figures.join("ziekenhuis.csv").display().to_string();
    ok(d, &["measure", "submit", HF, "--file", &file, "--as", &key("ziekenhuis")]);
    let items = inbox(d, "verzekeraar");
    assert_eq!(kinds(&items), ["attest_figure 2026", "attest_figure 2027", "attest_figure 2028"], "{items:#?}");
    assert_shape(&items[0], &["indicator", "period", "value", "source"]);
    assert_eq!(items[0]["indicator"], "hf-patients");
    assert_eq!(items[0]["value"], "150");
    assert_eq!(items[0]["source"], "ziekenhuis");
    let patients_2026 = measurement(d, "hf-patients", "2026", "pending");
    assert_eq!(items[0]["entries"], serde_json::json!([patients_2026["id"]]));
    assert_eq!(
        items[0]["command"],
        format!(
            "vereffen --ledger l measure attest {} --as {}",
            patients_2026["id"].as_str().unwrap(),
            key("verzekeraar")
        )
    );
    assert!(inbox(d, "ziekenhuis").is_empty(), "its own figures await the other side");
    let file = figures.join("verzekeraar.csv").display().to_string();
    ok(d, &["measure", "submit", HF, "--file", &file, "--as", &key("verzekeraar")]);
    assert_eq!(inbox(d, "ziekenhuis").len(), 9);

    // A dispute against the hospital's figure: the hospital sees it with the
    // reason, the insurer no longer has it to attest.
    let id = patients_2026["id"].as_str().unwrap();
    ok(d, &["measure", "dispute", id, "--reason", "the register counts 148 patients", "--as", &key("verzekeraar")]);
    let items = inbox(d, "ziekenhuis");
    let disputed: Vec<&Value> = items.iter().filter(|i| i["kind"] == "disputed_figure").collect();
    assert_eq!(disputed.len(), 1, "{items:#?}");
    assert_shape(disputed[0], &["indicator", "period", "value", "disputed_by"]);
    assert_eq!(disputed[0]["disputed_by"], serde_json::json!({"verzekeraar": ["the register counts 148 patients"]}));
    assert_eq!(disputed[0]["entries"].as_array().unwrap().len(), 2, "the figure and the dispute");
    assert!(disputed[0]["command"].as_str().unwrap().contains(&format!("measure correct {id} --value NEW-VALUE")));
    assert_eq!(kinds(&inbox(d, "verzekeraar")), ["attest_figure 2027", "attest_figure 2028"]);

    // Correct, attest everything: 2026 becomes computable for both, 2027
    // not yet (years settle in order).
    ok(d, &["measure", "correct", id, "--value", "148", "--reason", "register recount", "--as", &key("ziekenhuis")]);
    for party in ["verzekeraar", "ziekenhuis"] {
        for item in inbox(d, party) {
            assert_eq!(item["kind"], "attest_figure", "{item:#}");
            run_command(d, &item);
        }
    }
    let doc: Value = serde_json::from_str(&ok(d, &["settle", HF, "--year", "2026", "--format", "json"])).unwrap();
    let hash_2026 = doc["statement_hash"].as_str().unwrap();
    for party in ["ziekenhuis", "verzekeraar"] {
        let items = inbox(d, party);
        assert_eq!(kinds(&items), ["sign_computable 2026"], "{party}: {items:#?}");
        assert_shape(&items[0], &["statement_hash"]);
        assert_eq!(items[0]["statement_hash"], hash_2026);
        assert_eq!(
            items[0]["command"],
            format!("vereffen --ledger l settle {HF} --year 2026 --sign --as {}", key(party))
        );
    }

    // The hospital signs: the statement waits for the insurer's co-signature.
    run_command(d, &inbox(d, "ziekenhuis")[0]);
    assert!(inbox(d, "ziekenhuis").is_empty(), "it waits for the other signatory");
    let items = inbox(d, "verzekeraar");
    assert_eq!(kinds(&items), ["cosign_statement 2026"], "{items:#?}");
    assert_shape(&items[0], &["statement_hash", "signed_by", "replaces"]);
    assert_eq!(items[0]["statement_hash"], hash_2026);
    assert_eq!(items[0]["signed_by"], serde_json::json!(["ziekenhuis"]));
    assert_eq!(items[0]["replaces"], Value::Null);
    let out = run_command(d, &items[0]);
    assert!(out.contains("2026 is settled"), "{out}");
    // Settled: the next year is computable.
    assert_eq!(kinds(&inbox(d, "verzekeraar")), ["sign_computable 2027"]);

    // The copy is read without its lock: the inbox works while another
    // process holds the ledger (a node serving it).
    let _held = vereffen::ledger::Ledger::open(&d.join("l"), &vereffen::rules::ALL).unwrap();
    assert_eq!(kinds(&inbox(d, "ziekenhuis")), ["sign_computable 2027"]);
}

#[test]
fn recorded_equivocation_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let p = |name: &str| d.join(name).display().to_string();
    ok(d, &["--ledger", "l", "init", "--id", "eq-test"]);
    for (id, party, role) in [("zh", "ziekenhuis", "provider"), ("vz", "verzekeraar", "payer")] {
        ok(d, &["--ledger", "l", "party", "add", "--id", id, "--name", party, "--role", role, "--key", &key(party)]);
    }
    ok(d, &["--ledger", "l", "note", "--text", "minutes", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "l", "export", "--out", &p("all.jsonl")]);
    ok(d, &["--ledger", "b", "init", "--id", "eq-test"]);
    ok(d, &["--ledger", "b", "import", &p("all.jsonl")]);
    // The keeper forks its copy and shows each side another history.
    copy_dir(&d.join("l"), &d.join("fork"));
    ok(d, &["--ledger", "l", "note", "--text", "admissions fell by 30%", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "fork", "note", "--text", "admissions fell by 10%", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "l", "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", &p("c")]);
    ok(d, &["--ledger", "fork", "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", &p("c-fork")]);
    assert!(ok(d, &["--ledger", "b", "--json", "inbox", "--as", &key("verzekeraar")]).contains("\"items\": []"));
    ok(d, &["--ledger", "b", "audit", "witness", &p("c"), "--as", &key("verzekeraar")]);
    let (code, _, err) = run(d, &["--ledger", "b", "audit", "witness", &p("c-fork"), "--as", &key("verzekeraar")]);
    assert_eq!(code, 3, "{err}");

    let out = ok(d, &["--ledger", "b", "--json", "inbox", "--as", &key("verzekeraar")]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    let item = &items[0];
    assert_shape(item, &["origin", "size", "roots"]);
    assert_eq!(item["kind"], "equivocation");
    assert_eq!(item["origin"], "vereffen/eq-test/zh");
    assert_eq!(item["size"], 4);
    assert_eq!(item["roots"].as_array().unwrap().len(), 2);
    assert_ne!(item["roots"][0], item["roots"][1]);
    // The recorded evidence and the witness entry of the honest checkpoint.
    let log = ok(d, &["--ledger", "b", "log", "--json"]);
    let ids: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["kind"] == "audit.equivocation" || e["kind"] == "audit.witness")
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let mut ids = ids;
    ids.sort();
    assert_eq!(item["entries"], serde_json::json!(ids));
    assert_eq!(item["command"], "vereffen --ledger b audit status");
    // Shown to every party of the copy, as text too.
    let text = ok(d, &["--ledger", "b", "inbox", "--as", &key("ziekenhuis")]);
    assert!(text.contains("EQUIVOCATION: vereffen/eq-test/zh signed two different histories of size 4"), "{text}");
}

/// A node home: the keys in HOME/keys (only the `.pub` is read: the `.key`
/// may be encrypted), two ledgers with items, one broken copy, one copy in
/// which the organisation is no party.
#[test]
fn a_node_home_lists_every_ledger_and_reports_a_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let home = d.join("home");
    fs::create_dir_all(home.join("keys")).unwrap();
    // An unreadable private key (as an encrypted one is without its
    // passphrase): the public key next to it is what the inbox reads.
    fs::write(home.join("keys/insurer.key"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\nnot for us\n").unwrap();
    fs::copy(repo().join("keys/demo-verzekeraar.pub"), home.join("keys/insurer.pub")).unwrap();
    let hf = repo().join(HF_FILE).display().to_string();
    for id in ["hf-a", "hf-b"] {
        let l = format!("home/ledgers/{id}");
        ok(d, &["--ledger", &l, "init", "--id", id]);
        for (p, role) in [("ziekenhuis", "provider"), ("verzekeraar", "payer")] {
            ok(d, &["--ledger", &l, "party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
        }
        ok(d, &["--ledger", &l, "contract", "propose", &hf, "--as", &key("ziekenhuis")]);
    }
    // hf-b: the insurer signed; nothing awaits it there.
    let version = version_of(d, &hf);
    ok(
        d,
        &[
            "--ledger",
            "home/ledgers/hf-b",
            "contract",
            "accept",
            HF,
            "--version",
            &version,
            "--as",
            &key("verzekeraar"),
        ],
    );
    ok(
        d,
        &[
            "--ledger",
            "home/ledgers/hf-b",
            "measure",
            "submit",
            HF,
            "--indicator",
            "hf-patients",
            "--period",
            "2026",
            "--value",
            "150",
            "--as",
            &key("ziekenhuis"),
        ],
    );
    // A copy of two other parties: the insurer is not registered there.
    ok(d, &["--ledger", "home/ledgers/other", "init", "--id", "other"]);
    ok(
        d,
        &[
            "--ledger",
            "home/ledgers/other",
            "party",
            "add",
            "--id",
            "thuiszorg",
            "--name",
            "t",
            "--role",
            "provider",
            "--key",
            &key("thuiszorg"),
        ],
    );
    // A broken copy: its journal is garbage.
    fs::create_dir_all(home.join("ledgers/broken")).unwrap();
    fs::write(home.join("ledgers/broken/journal"), b"not a journal at all").unwrap();

    let out = ok(d, &["--json", "inbox", "--home", "home"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let items = v["items"].as_array().unwrap();
    let summary: Vec<String> =
        items.iter().map(|i| format!("{} {}", i["ledger"].as_str().unwrap(), i["kind"].as_str().unwrap())).collect();
    assert_eq!(summary, ["broken cannot_open", "hf-a sign_version", "hf-b attest_figure"], "{items:#?}");
    assert_shape(&items[0], &["dir", "reason"]);
    assert!(items[0]["reason"].as_str().unwrap().contains("journal"), "{:#}", items[0]);
    assert_eq!(items[0]["command"], "vereffen --ledger home/ledgers/broken verify");
    assert_eq!(
        items[1]["command"],
        format!(
            "vereffen --ledger home/ledgers/hf-a contract accept {HF} --version {version} --as home/keys/insurer.key"
        )
    );
    let text = ok(d, &["inbox", "--home", "home"]);
    assert!(text.contains("== ledger broken (1 item) ==\n- cannot open home/ledgers/broken: "), "{text}");
    assert!(text.contains("== ledger hf-a (1 item) =="), "{text}");
    assert!(text.ends_with("3 items in 3 ledgers\n"), "{text}");
    // The items of each readable copy are cached by its head: a second
    // query gives the same, a damaged cache file is ignored, and a copy
    // whose head moved is read again.
    assert!(home.join("cache/inbox/hf-a.json").is_file());
    assert!(!home.join("cache/inbox/broken.json").exists(), "a copy that cannot be read is never cached");
    assert_eq!(ok(d, &["--json", "inbox", "--home", "home"]), out);
    fs::write(home.join("cache/inbox/hf-b.json"), b"{\"v\": 1, garbage").unwrap();
    let forged = fs::read_to_string(home.join("cache/inbox/hf-a.json")).unwrap().replace("sign_version", "cannot_open");
    fs::write(home.join("cache/inbox/hf-a.json"), forged).unwrap();
    assert_eq!(ok(d, &["--json", "inbox", "--home", "home"]), out);
    ok(
        d,
        &[
            "--ledger",
            "home/ledgers/hf-a",
            "contract",
            "accept",
            HF,
            "--version",
            &version,
            "--as",
            &key("verzekeraar"),
        ],
    );
    let v: Value = serde_json::from_str(&ok(d, &["--json", "inbox", "--home", "home"])).unwrap();
    let ledgers: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["ledger"].as_str().unwrap()).collect();
    assert_eq!(ledgers, ["broken", "hf-b"], "hf-a's version is signed now: {v:#}");
    // VEREFFEN_HOME names the home too; --as replaces the home's keys.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vereffen"))
        .args(["--json", "inbox", "--as", &key("ziekenhuis")])
        .current_dir(d)
        .env("VEREFFEN_HOME", "home")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["cannot_open"], "the hospital's own proposals and figures await others: {v:#}");
}

#[test]
fn refused_input_names_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", "hf-node"]);
    let (code, _, err) = run(d, &["inbox"]);
    assert_eq!(code, 1);
    assert!(err.contains("give your key with --as KEY"), "{err}");
    let (code, _, err) = run(d, &["inbox", "--as", &key("ziekenhuis")]);
    assert_eq!(code, 1);
    assert!(err.contains("none of the keys") && err.contains("ledger hf-node"), "{err}");
    let (code, _, err) = run(d, &["inbox", "--home", "nowhere"]);
    assert_eq!(code, 1);
    assert!(err.contains("node home nowhere") && !err.contains("panicked"), "{err}");
}
