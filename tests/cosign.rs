//! Co-signed settlements through the CLI: a year is settled when every
//! signatory signed the same statement; years settle in order; a DRAFT or a
//! non-signatory's signature is refused; a correction after settlement is a
//! conflict in `settle status`, `measure list` and `verify` until all
//! signatories sign a resettlement; a statement that does not follow from
//! its signed inputs never enters a ledger.

mod common;

use common::*;
use serde_json::Value;
use vereffen::domain::settlement;
use vereffen::domain::settlement::cosign::{self, ContractView};
use vereffen::ledger::entry::{Entry, EntryId};
use vereffen::ledger::Ledger;

const ID: &str = "copd-telemonitoring-oost-achterhoek";

/// A ledger `l` in `d` with the COPD contract in force and every example
/// figure of 2025-2027 submitted and attested.
fn agreed_copd(d: &std::path::Path) {
    ok(d, &["init", "--id", "cosign-test"]);
    for (p, role) in
        [("ziekenhuis", "provider"), ("thuiszorg", "provider"), ("verzekeraar", "payer"), ("accountant", "auditor")]
    {
        ok(d, &["party", "add", "--id", p, "--name", p, "--role", role, "--key", &key(p)]);
    }
    let copd = repo().join("contracts/copd-telemonitoring-shared-savings.toml").display().to_string();
    ok(d, &["contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    let v: Value = serde_json::from_str(&ok(d, &["contract", "check", &copd, "--json"])).unwrap();
    let version = v[0]["version"].as_str().unwrap().to_string();
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["contract", "accept", ID, "--version", &version, "--as", &key(p)]);
    }
    let figures = repo().join("examples/measurements").join(ID);
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        let file = figures.join(format!("{p}.csv"));
        ok(d, &["measure", "submit", ID, "--file", file.to_str().unwrap(), "--as", &key(p)]);
    }
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
}

fn status(d: &std::path::Path) -> Value {
    serde_json::from_str(&ok(d, &["--json", "settle", "status", ID])).unwrap()
}

fn sign(d: &std::path::Path, year: &str, party: &str) -> String {
    ok(d, &["settle", ID, "--year", year, "--sign", "--yes", "--as", &key(party)])
}

#[test]
fn cosigning_settles_years_in_order_and_corrections_need_a_resettlement() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);
    let st = status(d);
    assert!(st.as_array().unwrap().iter().all(|y| y["state"] == "computable"), "{st:#}");

    // What is refused, each leaving the ledger unchanged.
    refused(
        d,
        &["settle", ID, "--year", "2026", "--sign", "--yes", "--as", &key("ziekenhuis")],
        "2025 is not settled yet",
    );
    refused(d, &["settle", ID, "--year", "2025", "--draft", "--sign", "--yes", "--as", &key("ziekenhuis")], "DRAFT");
    refused(d, &["settle", ID, "--year", "2025", "--sign", "--yes", "--as", &key("accountant")], "\"accountant\" (key");
    refused(
        d,
        &["settle", ID, "--year", "2025", "--sign", "--yes", "--resettle", "--as", &key("thuiszorg")],
        "nothing to resettle",
    );
    refused(
        d,
        &["settle", ID, "--year", "2031", "--sign", "--yes", "--as", &key("thuiszorg")],
        "outside the contract term",
    );

    // Settled once every signatory signed the same statement.
    assert!(sign(d, "2025", "ziekenhuis").contains("waiting for thuiszorg, verzekeraar"));
    let st = status(d);
    assert_eq!(st[0]["state"], "signed", "{st:#}");
    assert!(sign(d, "2025", "ziekenhuis").contains("already signed"));
    sign(d, "2025", "thuiszorg");
    assert!(sign(d, "2025", "verzekeraar").contains("2025 is settled"));
    let st = status(d);
    assert_eq!(st[0]["state"], "settled", "{st:#}");
    let settled_2025 = st[0]["settled"].as_str().unwrap().to_string();
    assert_eq!(st[0]["this_copy_computes"], settled_2025.as_str());
    assert!(sign(d, "2025", "thuiszorg").contains("already settled"));
    for p in ["verzekeraar", "thuiszorg", "ziekenhuis"] {
        sign(d, "2026", p);
    }
    assert_eq!(status(d)[1]["state"], "settled");
    let verify = ok(d, &["verify"]);
    assert!(verify.contains("settlements 6 signature(s)") && !verify.contains("conflict"), "{verify}");

    // A 2025 figure is corrected after settlement: a conflict everywhere.
    let list: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--year", "2025"])).unwrap();
    let cost = list.as_array().unwrap().iter().find(|m| m["indicator"] == "care-cost").unwrap();
    let cost_id = cost["id"].as_str().unwrap().to_string();
    let source = cost["source"].as_str().unwrap().to_string();
    ok(d, &["measure", "correct", &cost_id, "--value", "2500000.00", "--reason", "late claims", "--as", &key(&source)]);
    let st = status(d);
    assert_eq!(st[0]["state"], "settled, conflict", "{st:#}");
    assert!(st[0]["conflicts"][0].as_str().unwrap().contains("was corrected by"), "{st:#}");
    let table = ok(d, &["measure", "list", ID, "--year", "2025"]);
    assert!(table.contains("CONFLICT: used by settled 2025: resettle 2025"), "{table}");
    let verify = ok(d, &["verify"]);
    assert!(verify.contains(&format!("conflict    {ID} 2025: input care-cost 2025")), "{verify}");

    // Once the correction is agreed, the settled statement differs: shown side by side, refused without --resettle.
    let corr: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--state", "pending"])).unwrap();
    for m in corr.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
    refused(
        d,
        &["settle", ID, "--year", "2025", "--sign", "--yes", "--as", &key("ziekenhuis")],
        "shared_savings.gross_savings",
    );
    refused(d, &["settle", ID, "--year", "2025", "--sign", "--yes", "--as", &key("ziekenhuis")], "--resettle");
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", ID, "--year", "2025", "--sign", "--yes", "--resettle", "--as", &key(p)]);
    }
    let st = status(d);
    assert_eq!(st[0]["state"], "settled", "{st:#}");
    assert_ne!(st[0]["settled"], settled_2025.as_str());
    // 2026 was settled on the old 2025 statement; this contract carries nothing from year to year
    // (no carried losses, no advances), so the 2026 statement stands.
    assert_eq!(st[1]["state"], "settled", "{st:#}");
    assert!(sign(d, "2026", "thuiszorg").contains("already settled"));
    assert!(!ok(d, &["verify"]).contains("conflict"));

    // 2027 settled; then a 2026 correction changes the advance repaid in 2026, so the
    // balance carried into 2027 changes: resettling 2026 puts 2027 in conflict.
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        sign(d, "2027", p);
    }
    let list: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--year", "2026"])).unwrap();
    let cost = list.as_array().unwrap().iter().find(|m| m["indicator"] == "care-cost").unwrap();
    ok(
        d,
        &[
            "measure",
            "correct",
            cost["id"].as_str().unwrap(),
            "--value",
            "2400000.00",
            "--reason",
            "claims reversed",
            "--as",
            &key(cost["source"].as_str().unwrap()),
        ],
    );
    let corr: Value = serde_json::from_str(&ok(d, &["--json", "measure", "list", ID, "--state", "pending"])).unwrap();
    for m in corr.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", ID, "--year", "2026", "--sign", "--yes", "--resettle", "--as", &key(p)]);
    }
    let st = status(d);
    assert_eq!(st[1]["state"], "settled", "{st:#}");
    assert_eq!(st[2]["state"], "settled, conflict", "{st:#}");
    assert!(st[2]["conflicts"][0].as_str().unwrap().contains("was resettled"), "{st:#}");
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        ok(d, &["settle", ID, "--year", "2027", "--sign", "--yes", "--resettle", "--as", &key(p)]);
    }
    assert_eq!(status(d)[2]["state"], "settled");

    // An amendment can no longer reach back into a settled year.
    let text = std::fs::read_to_string(repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    let amended = text.replacen("provider_share = 0.5\n", "provider_share = 0.55\n", 1);
    assert_ne!(amended, text, "the example's provider share moved");
    std::fs::write(d.join("amended.toml"), amended).unwrap();
    refused(
        d,
        &["contract", "amend", ID, "amended.toml", "--effective-from", "2026", "--as", &key("ziekenhuis")],
        "not before 2028, the first year still open",
    );
}

/// Reads the contract's entries from a ledger directory.
fn entries_of(dir: &std::path::Path) -> (Ledger, Vec<Entry>) {
    let ledger = Ledger::open(dir, &vereffen::rules::ALL).unwrap();
    let ids = ledger.index().by_contract(ID).unwrap();
    let entries = ledger.load(&ids).unwrap().into_iter().map(|(_, e)| e).collect();
    (ledger, entries)
}

#[test]
fn a_statement_that_does_not_follow_from_its_inputs_never_enters_a_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);
    sign(d, "2025", "ziekenhuis");
    let (mut ledger, entries) = entries_of(&d.join("l"));
    let signed = entries.iter().find(|e| e.kind() == cosign::KIND_SIGN).unwrap().clone();
    let zk = demo_key("ziekenhuis");
    let journal_before = std::fs::read(d.join("l/journal")).unwrap();

    // One cent more on a transfer line, the hash recomputed to match.
    let mut p = cosign::payload_of(&signed).unwrap();
    let lines = p.statement["lines"].as_array_mut().unwrap();
    let line = lines.iter_mut().find(|l| l["amount"].is_string()).unwrap();
    let a: rust_decimal::Decimal = line["amount"].as_str().unwrap().parse().unwrap();
    line["amount"] = Value::String(format!("{:.2}", a + rust_decimal::Decimal::new(1, 2)));
    p.statement_hash = cosign::statement_hash(p.engine.as_deref(), false, &p.inputs, &p.statement).unwrap();
    let mut b = signed.body().clone();
    b.payload = serde_json::to_value(&p).unwrap();
    let forged = Entry::sign(b, &[&zk]).unwrap();
    let err = ledger.append(&[forged]).unwrap_err().to_string();
    assert!(err.contains("does not follow from its signed inputs"), "{err}");

    // A hash that is not the statement's.
    let mut p = cosign::payload_of(&signed).unwrap();
    p.statement_hash = "0".repeat(64);
    let mut b = signed.body().clone();
    b.payload = serde_json::to_value(&p).unwrap();
    let err = ledger.append(&[Entry::sign(b, &[&zk]).unwrap()]).unwrap_err().to_string();
    assert!(err.contains("statement hash does not match"), "{err}");

    // An input left out.
    let mut p = cosign::payload_of(&signed).unwrap();
    p.inputs.pop();
    let mut b = signed.body().clone();
    b.refs.remove(p.inputs.len() + 1);
    b.payload = serde_json::to_value(&p).unwrap();
    let err = ledger.append(&[Entry::sign(b, &[&zk]).unwrap()]).unwrap_err().to_string();
    assert!(err.contains("do not cover") || err.contains("not exactly the figures"), "{err}");
    drop(ledger);
    assert_eq!(std::fs::read(d.join("l/journal")).unwrap(), journal_before, "a refused entry changed the journal");

    // A keeper who writes a forged statement into the journal directly
    // (bypassing every check, with a valid signature and hash chain) is
    // caught by `verify`, which replays every signed statement.
    let mut p = cosign::payload_of(&signed).unwrap();
    let lines = p.statement["lines"].as_array_mut().unwrap();
    let line = lines.iter_mut().rev().find(|l| l["amount"].is_string()).unwrap();
    line["amount"] = Value::String("1.00".into());
    p.statement_hash = cosign::statement_hash(p.engine.as_deref(), false, &p.inputs, &p.statement).unwrap();
    let mut b = signed.body().clone();
    b.payload = serde_json::to_value(&p).unwrap();
    let forged = Entry::sign(b, &[&zk]).unwrap();
    let (mut journal, _) = vereffen::ledger::journal::Journal::open(
        &d.join("l/journal"),
        vereffen::ledger::journal::Resume { seq: 0, end: 0, hash: [0; 32] },
        |_, _| Ok(()),
    )
    .unwrap();
    journal.append(&[forged.encode()]).unwrap();
    drop(journal);
    let (code, out, err) = run(d, &["verify"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("does not follow from its signed inputs"), "{err}");
}

#[test]
fn settlement_status_does_not_depend_on_arrival_order() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);
    for y in ["2025", "2026"] {
        for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
            sign(d, y, p);
        }
    }
    sign(d, "2027", "thuiszorg");
    let (ledger, mut entries) = entries_of(&d.join("l"));
    let lookup = |id: &EntryId| ledger.get(id).ok().flatten().map(|(_, e)| e);
    let reference = ContractView::new(ID, &entries, &lookup).settlements;
    assert!(reference[&2025].settled.is_some() && reference[&2027].settled.is_none());
    let reference_2027 = ContractView::new(ID, &entries, &lookup).compute(2027, false).unwrap().hash;
    let mut state = 0x9e3779b97f4a7c15u64;
    for _ in 0..20 {
        // A deterministic Fisher-Yates shuffle.
        for i in (1..entries.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            entries.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let view = ContractView::new(ID, &entries, &lookup);
        assert_eq!(view.settlements, reference);
        assert_eq!(view.compute(2027, false).unwrap().hash, reference_2027);
    }
}

/// A statement document without a canonical encoding (a float, an integer
/// beyond 2^53-1) has no statement hash: an error, never the hash of empty
/// bytes that two different statements would share.
#[test]
fn a_statement_without_canonical_form_has_no_hash() {
    let inputs = vec!["ab".repeat(32)];
    for bad in [serde_json::json!({"total": 1.5}), serde_json::json!({"total": u64::MAX})] {
        assert!(cosign::statement_hash(Some(settlement::ENGINE_VERSION), false, &inputs, &bad).is_err(), "{bad}");
    }
    let good = serde_json::json!({"total": "1.50"});
    let hash = cosign::statement_hash(Some(settlement::ENGINE_VERSION), false, &inputs, &good).unwrap();
    assert_eq!(hash.len(), 64);
    assert_ne!(hash, blake3::hash(b"").to_hex().to_string());
}

/// A signature signs the numbers, not the wording: the payload names the
/// engine version and its statement is the signed form (no label, no
/// formula); a payload that adds words, or names an engine this version
/// cannot replay, never enters a ledger.
#[test]
fn a_signature_covers_the_numbers_and_names_its_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);
    sign(d, "2025", "ziekenhuis");
    let (mut ledger, entries) = entries_of(&d.join("l"));
    let signed = entries.iter().find(|e| e.kind() == cosign::KIND_SIGN).unwrap().clone();
    let p = cosign::payload_of(&signed).unwrap();
    assert_eq!(p.engine.as_deref(), Some(settlement::ENGINE_VERSION));
    let lines = p.statement["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    for l in lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), settlement::SIGNED_LINE_FIELDS.len(), "{l}");
        assert!(keys.iter().all(|k| settlement::SIGNED_LINE_FIELDS.contains(k)), "{l}");
    }
    assert_eq!(p.statement_hash, cosign::statement_hash(p.engine.as_deref(), false, &p.inputs, &p.statement).unwrap());

    // The words of a recomputed statement do not change its signed form.
    let lookup = |id: &EntryId| ledger.get(id).ok().flatten().map(|(_, e)| e);
    let mut c = ContractView::new(ID, &entries, &lookup).compute(2025, false).unwrap();
    let other = c.statement.lines[0].label.clone();
    for l in &mut c.statement.lines {
        l.label = other.clone();
        l.formula = other.clone();
        l.abs_figures = !l.abs_figures;
    }
    assert_eq!(c.statement.signed_form().unwrap(), p.statement, "labels and formulas are not signed");

    let zk = demo_key("ziekenhuis");
    let forge = |p: &cosign::SignPayload| {
        let mut b = signed.body().clone();
        b.payload = serde_json::to_value(p).unwrap();
        Entry::sign(b, &[&zk]).unwrap()
    };
    let mut worded = p.clone();
    worded.statement["lines"][0]["label"] = Value::String("Trend".into());
    worded.statement_hash =
        cosign::statement_hash(worded.engine.as_deref(), false, &worded.inputs, &worded.statement).unwrap();
    let err = ledger.append(&[forge(&worded)]).unwrap_err().to_string();
    assert!(err.contains("does not follow from its signed inputs"), "{err}");
    let mut future = p.clone();
    future.engine = Some("vereffen-settle/9".into());
    future.statement_hash =
        cosign::statement_hash(future.engine.as_deref(), false, &future.inputs, &future.statement).unwrap();
    let err = ledger.append(&[forge(&future)]).unwrap_err().to_string();
    assert!(err.contains("vereffen-settle/9") && err.contains(settlement::ENGINE_VERSION), "{err}");
}

/// A journal signed under engine version 1 (statements hashed with their
/// English labels and signed payer -> provider amounts, no `engine`) still
/// verifies: tests/fixtures/settlement-v1-copd.jsonl is the COPD example
/// settled for 2025-2027 by the binary of the commit before the signed form
/// changed (tests/fixtures/make-settlement-v1-copd.sh). Its years stay
/// settled with the statements this version computes, and a label changed
/// in a version 1 payload is still caught (version 1 signed its words).
#[test]
fn entries_signed_by_engine_version_1_still_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", "golden-copd-telemonitoring-oost-achterhoek"]);
    let bundle = repo().join("tests/fixtures/settlement-v1-copd.jsonl");
    ok(d, &["import", bundle.to_str().unwrap()]);
    let verify = ok(d, &["verify"]);
    assert!(verify.contains("9 signature(s)") && verify.contains("all match"), "{verify}");
    let st: Value = serde_json::from_str(&ok(d, &["--json", "settle", "status", ID])).unwrap();
    for y in st.as_array().unwrap() {
        assert_eq!(y["state"], "settled", "{y:#}");
        assert_eq!(y["settled"], y["this_copy_computes"], "{y:#}");
    }
    let again = sign(d, "2026", "verzekeraar");
    assert!(again.contains("already settled"), "{again}");
    let table = ok(d, &["settle", ID, "--year", "2026"]);
    assert!(table.contains("standing          settled, signed by thuiszorg, verzekeraar, ziekenhuis"), "{table}");

    let (mut ledger, entries) = entries_of(&d.join("l"));
    let v1 = entries
        .iter()
        .find(|e| {
            e.kind() == cosign::KIND_SIGN
                && e.body().author.party == "ziekenhuis"
                && cosign::payload_of(e).unwrap().year == 2026
        })
        .unwrap()
        .clone();
    let mut p = cosign::payload_of(&v1).unwrap();
    assert_eq!(p.engine, None, "the fixture is of engine version 1");
    let repay = p.statement["lines"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["id"].as_str().unwrap().starts_with("impulse.1.repayment."))
        .unwrap();
    assert!(repay["amount"].as_str().unwrap().starts_with('-'), "version 1 signed the repayment negative: {repay}");
    repay["label"] = Value::String("Advance repayment".into());
    p.statement_hash = cosign::statement_hash(None, false, &p.inputs, &p.statement).unwrap();
    let mut b = v1.body().clone();
    b.payload = serde_json::to_value(&p).unwrap();
    let forged = Entry::sign(b, &[&demo_key("ziekenhuis")]).unwrap();
    let err = ledger.append(&[forged]).unwrap_err().to_string();
    assert!(err.contains("does not follow from its signed inputs"), "{err}");
}

/// The CSV and the workbook carry what the terminal shows: where the
/// statement stands (signed by whom, settled), the cash and result per
/// party, the payments and the balances at the start and end of the year;
/// a year without payments prints no empty payment headings.
#[test]
fn exports_carry_standing_totals_payments_and_balances() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    agreed_copd(d);
    let csv_rows = |year: &str| -> Vec<Vec<String>> {
        let out = ok(d, &["settle", ID, "--year", year, "--format", "csv"]);
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(head[4..6], ["section".to_string(), "item".to_string()], "{head:?}");
        r.records().map(|x| x.unwrap().iter().skip(4).map(str::to_string).collect()).collect()
    };
    let has = |rows: &[Vec<String>], want: &[&str]| {
        rows.iter().any(|r| want.iter().enumerate().all(|(i, w)| w.is_empty() || r[i] == *w))
    };
    let before = csv_rows("2025");
    assert!(has(&before, &["standing", "settled", "no"]), "{before:?}");
    for p in ["ziekenhuis", "thuiszorg", "verzekeraar"] {
        sign(d, "2025", p);
    }
    let rows = csv_rows("2025");
    // section, item, label, formula, amount_eur, value, from, to, funding
    assert!(has(&rows, &["standing", "settled", "yes"]), "{rows:?}");
    assert!(has(&rows, &["standing", "signed_by", "thuiszorg verzekeraar ziekenhuis"]), "{rows:?}");
    assert!(has(&rows, &["balance_end", "advance.1", "", "", "185000.00"]), "{rows:?}");
    assert!(has(&rows, &["balance_start", "losses_carried", "", "", "0.00"]), "{rows:?}");
    assert!(has(&rows, &["cash", "ziekenhuis", "received"]), "{rows:?}");
    assert!(has(&rows, &["result", "ziekenhuis"]), "{rows:?}");
    assert!(has(&rows, &["payment", "", "", "", "", "", "verzekeraar", "ziekenhuis", "zvw"]), "{rows:?}");

    let x = d.join("s.xlsx");
    ok(d, &["settle", ID, "--year", "2025", "--format", "xlsx", "--out", x.to_str().unwrap()]);
    let xlsx = std::fs::read(&x).unwrap();
    let sheet = xlsx_cells(&xlsx, 1);
    let next_to = |cells: &[(String, String)], label: &str| {
        let (r, _) =
            cells.iter().find(|(r, v)| r.starts_with('A') && v == label).unwrap_or_else(|| panic!("no {label}"));
        let b = format!("B{}", &r[1..]);
        cells.iter().find(|(r, _)| *r == b).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    assert_eq!(next_to(&sheet, "settled"), "yes");
    assert_eq!(next_to(&sheet, "signed by"), "thuiszorg, verzekeraar, ziekenhuis");
    assert_eq!(next_to(&sheet, "year"), "2025", "the year is a number");
    let parties = xlsx_cells(&xlsx, 2);
    assert!(parties.iter().any(|(r, v)| r == "F1" && v.starts_with("result")), "{parties:?}");
    let balances = xlsx_cells(&xlsx, 4);
    assert!(balances.iter().any(|(r, v)| r == "A3" && v == "advance.1"), "{balances:?}");
    assert!(balances.iter().any(|(r, v)| r == "D3" && v == "185000"), "{balances:?}");

    // 2027: no money moves (the advance balance is waived): no cash or payment headings.
    let table = ok(d, &["settle", ID, "--year", "2027"]);
    assert!(table.contains("\nNO PAYMENTS THIS YEAR\n"), "{table}");
    assert!(!table.contains("PAYMENTS (") && !table.contains("CASH PER PARTY"), "{table}");
    assert!(table.contains("earned 166,104.17"), "a waived balance is a result:\n{table}");
}
