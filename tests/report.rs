//! `vereffen audit report`: the report of the demo ledger (with checkpoints
//! and witness cosignatures) is a golden JSON file; the report of that
//! ledger after a correction after settlement, a dispute, a backdated note,
//! a key used after its revocation and a forked copy caught by its witness
//! is a second golden file, with every
//! anomaly listed first; the HTML escapes every string from the ledger and
//! renders in headless Chromium.
//!
//! After an intended change of the report, regenerate the golden files with
//! `UPDATE_GOLDEN=1 cargo test --release --test report` and review the diff
//! before committing it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const ID: &str = "copd-telemonitoring-oost-achterhoek";
const VZ: &str = "demo/verzekeraar-copy";
const ZH: &str = "demo/ziekenhuis-copy";
const SCRIPT: &str = "<script>alert('x')</script> late claims";

/// Runs `vereffen` with a given claimed time; must succeed.
fn ok_at(cwd: &Path, time: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vereffen"))
        .args(args)
        .current_dir(cwd)
        .env("VEREFFEN_TIME", time)
        .output()
        .expect("run vereffen");
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "vereffen {args:?}:\n{so}\n{se}");
    so.into_owned()
}

/// The demo's two copies in `d/demo`, each having checkpointed its tree and
/// cosigned the other's checkpoint; the insurer's copy then imports the
/// hospital's, so it holds both checkpoints and both cosignatures.
fn demo_with_checkpoints(d: &Path) {
    ok(d, &["demo", "--dir", "demo"]);
    ok(d, &["--ledger", ZH, "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", "cp-zh"]);
    // The demo's nodes witnessed each other at every sync (the last
    // witnessed checkpoints are in demo/witnessed-*.txt): the new ones need
    // consistency proofs from them.
    ok(d, &["--ledger", ZH, "audit", "consistency", "demo/witnessed-ziekenhuis.txt", "cp-zh", "--out", "p-demo"]);
    ok(d, &["--ledger", VZ, "audit", "witness", "cp-zh", "--proof", "p-demo", "--as", &key("verzekeraar")]);
    ok(d, &["--ledger", VZ, "audit", "checkpoint", "--as", &key("verzekeraar"), "--out", "cp-vz"]);
    ok(d, &["--ledger", VZ, "audit", "consistency", "demo/witnessed-verzekeraar.txt", "cp-vz", "--out", "p-demo-vz"]);
    ok(d, &["--ledger", ZH, "audit", "witness", "cp-vz", "--proof", "p-demo-vz", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", ZH, "export", "--out", "zh.jsonl"]);
    ok(d, &["--ledger", VZ, "import", "zh.jsonl"]);
}

/// Adds to the insurer's copy: a correction of a settled 2025 figure (with
/// markup in its reason), a dispute of a settled 2027 figure, a note
/// backdated before the entry it references, and a thuiszorg key used
/// (by claimed time) after its revocation.
fn add_anomalies(d: &Path) {
    let list: Value = serde_json::from_str(&ok(d, &["--json", "--ledger", VZ, "measure", "list", ID])).unwrap();
    let find = |ind: &str, period: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["indicator"] == ind && m["period"] == period)
            .unwrap_or_else(|| panic!("no {ind} {period} in {list:#}"))
            .clone()
    };
    let cost = find("care-cost", "2025");
    let source = cost["source"].as_str().unwrap().to_string();
    ok(
        d,
        &[
            "--ledger",
            VZ,
            "measure",
            "correct",
            cost["id"].as_str().unwrap(),
            "--value",
            "2500000.00",
            "--reason",
            SCRIPT,
            "--as",
            &key(&source),
        ],
    );
    let ccq = find("ccq", "2027");
    ok(
        d,
        &[
            "--ledger",
            VZ,
            "measure",
            "dispute",
            ccq["id"].as_str().unwrap(),
            "--reason",
            "<b>cohort</b> & \"method\" differ",
            "--as",
            &key("verzekeraar"),
        ],
    );
    // A note claiming a time before the measurement it references.
    ok_at(
        d,
        "2026-12-01T00:00:00Z",
        &[
            "--ledger",
            VZ,
            "note",
            "--text",
            "backdated",
            "--ref",
            cost["id"].as_str().unwrap(),
            "--as",
            &key("ziekenhuis"),
        ],
    );
    // Four minutes before the accountant's registration: within the clock skew tolerated.
    ok_at(d, "2027-01-15T09:26:00Z", &["--ledger", VZ, "note", "--text", "within skew", "--as", &key("accountant")]);
    // thuiszorg adds a second key, signs with the first at 1 March, then
    // revokes the first with a revocation claiming 1 February.
    let keys = d.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let files = vereffen::ledger::keys::write_key_files(
        &keys,
        "thuiszorg-2",
        &ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
    )
    .unwrap();
    let tz2 = files.private.display().to_string();
    ok(d, &["--ledger", VZ, "party", "rotate-key", "--as", &key("thuiszorg"), "--new", &tz2, "--keep-old"]);
    ok_at(d, "2027-03-01T12:00:00Z", &["--ledger", VZ, "note", "--text", "old key", "--as", &key("thuiszorg")]);
    ok_at(
        d,
        "2027-02-01T08:00:00Z",
        &[
            "--ledger",
            VZ,
            "party",
            "revoke-key",
            "--as",
            &tz2,
            "--revoke",
            &key("thuiszorg"),
            "--reason",
            "laptop lost",
        ],
    );
}

/// The hospital forks its copy after its first checkpoint; the insurer
/// cosigns the honest branch's next checkpoint and then sees the fork's
/// checkpoint of the same size with another root: recorded evidence.
fn add_equivocation(d: &Path) {
    copy_dir(&d.join(ZH), &d.join("demo/fork"));
    ok(d, &["--ledger", ZH, "note", "--text", "admissions fell by 30%", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", "demo/fork", "note", "--text", "admissions fell by 10%", "--as", &key("ziekenhuis")]);
    ok(d, &["--ledger", ZH, "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", "cp-zh-2"]);
    ok(d, &["--ledger", "demo/fork", "audit", "checkpoint", "--as", &key("ziekenhuis"), "--out", "cp-fork"]);
    ok(d, &["--ledger", ZH, "audit", "consistency", "cp-zh", "cp-zh-2", "--out", "p12"]);
    ok(d, &["--ledger", VZ, "audit", "witness", "cp-zh-2", "--proof", "p12", "--as", &key("verzekeraar")]);
    let (code, _, err) = run(d, &["--ledger", VZ, "audit", "witness", "cp-fork", "--as", &key("verzekeraar")]);
    assert_eq!(code, 3, "{err}");
}

fn report(d: &Path, format: &str) -> String {
    ok(d, &["--ledger", VZ, "audit", "report", "--format", format])
}

/// Every golden file of this test, in `tests/golden/report/`.
const REPORT_GOLDENS: [&str; 2] = ["demo-anomalies.json", "demo.json"];

/// Compares `actual` with `tests/golden/report/NAME` (or writes it under UPDATE_GOLDEN=1).
fn golden(name: &str, actual: &str) {
    assert!(REPORT_GOLDENS.contains(&name), "add {name} to REPORT_GOLDENS");
    let path = repo().join("tests/golden/report").join(name);
    if update_golden() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing (UPDATE_GOLDEN=1 generates it)", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "the report differs from {} at line {}:\nexpected: {}\nactual:   {}\n(UPDATE_GOLDEN=1 regenerates it; review the diff)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or(""),
            actual.lines().nth(line).unwrap_or("")
        );
    }
}

/// Every file in `tests/golden/report/` is one this test compares.
#[test]
fn no_orphaned_report_golden_files() {
    let produced: Vec<String> = REPORT_GOLDENS.iter().map(|s| s.to_string()).collect();
    let orphans = orphan_goldens(&files_under(&repo().join("tests/golden/report"), &[]), &produced);
    assert!(orphans.is_empty(), "{}", orphans.join("\n"));
}

fn kinds(r: &Value) -> Vec<String> {
    r["anomalies"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_string()).collect()
}

#[test]
fn demo_report_is_golden_and_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    demo_with_checkpoints(d);
    let json = report(d, "json");
    golden("demo.json", &json);

    let r: Value = serde_json::from_str(&json).unwrap();
    // The demo runs at the tests' claimed time 2027-01-15, so its 2027
    // figures and 2027 statement are signed before 2027 ended: that is the
    // only kind of anomaly it has, and only for 2027.
    assert!(
        r["anomalies"].as_array().unwrap().iter().all(|a| a["kind"] == "signed_before_period_end"
            && a["detail"].as_str().unwrap().contains(" 2027")
            && a["detail"].as_str().unwrap().contains("before the period ended at 202")),
        "the demo has no other anomalies: {:#}",
        r["anomalies"]
    );
    assert!(!kinds(&r).is_empty(), "the 2027 figures signed in January 2027 are listed");
    assert_eq!(r["entries"], r["merkle_size"]);
    let parties: Vec<&str> = r["parties"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(parties, ["accountant", "thuiszorg", "verzekeraar", "ziekenhuis"]);
    let c = &r["contracts"][0];
    assert_eq!(c["id"], ID);
    for (i, year) in [2025, 2026, 2027].into_iter().enumerate() {
        let s = &c["settlements"][i];
        assert_eq!(s["year"], year);
        assert_eq!(s["state"], "settled");
        let st = &s["statements"][0];
        assert!(st["replay"].as_str().unwrap().starts_with("MATCH"), "{st:#}");
        assert_eq!(st["signatures"].as_array().unwrap().len(), 3);
        assert!(!st["payments"].as_array().unwrap().is_empty());
    }
    // Both copies' checkpoints, each cosigned by the other keeper.
    let cps = r["checkpoints"].as_array().unwrap();
    assert_eq!(cps.len(), 2, "{:#}", r["checkpoints"]);
    for (cp, (keeper, witness)) in cps.iter().zip([("verzekeraar", "ziekenhuis"), ("ziekenhuis", "verzekeraar")]) {
        assert_eq!(cp["origin"], format!("vereffen/demo-copd-achterhoek/{keeper}"), "{cp:#}");
        let names: Vec<&str> =
            cp["cosignatures"].as_array().unwrap().iter().map(|c| c["witness"].as_str().unwrap()).collect();
        assert!(names.len() == 1 && names[0].starts_with(&format!("{witness}/")), "{cp:#}");
    }

    // HTML: deterministic, every party, contract and year, anomalies first.
    let html = report(d, "html");
    assert_eq!(html, report(d, "html"));
    for needle in [
        "Ziekenhuis Oost-Achterhoek",
        "Thuiszorg Berkelland",
        "Zorgverzekeraar Noord-Oost",
        "Accountantskantoor De Telling",
        ID,
        "vereffen/demo-copd-achterhoek/ziekenhuis",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    for year in [2025, 2026, 2027] {
        assert!(html.contains(&format!("id=\"settlement-{ID}-{year}\"")), "{year} missing");
    }
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("id=\"anomalies\"") < at("id=\"parties\""));
    assert!(at("id=\"parties\"") < at(&format!("id=\"contract-{ID}\"")));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));

    // --out writes the same bytes as stdout.
    ok(d, &["--ledger", VZ, "audit", "report", "--out", "report.html"]);
    assert_eq!(std::fs::read_to_string(d.join("report.html")).unwrap(), html);
}

#[test]
fn anomalies_are_listed_first_and_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    demo_with_checkpoints(d);
    add_anomalies(d);
    add_equivocation(d);
    let json = report(d, "json");
    golden("demo-anomalies.json", &json);

    let r: Value = serde_json::from_str(&json).unwrap();
    let k = kinds(&r);
    for expected in [
        "equivocation",
        "key_used_after_revocation",
        "correction_after_settlement",
        "settlement_conflict",
        "disputed_figure",
        "unresolved_figure",
        "time_out_of_order",
    ] {
        assert!(k.iter().any(|x| x == expected), "{expected} not in {k:?}");
    }
    let mut sorted = k.clone();
    sorted.sort_by_key(|x| {
        [
            "equivocation",
            "key_used_after_revocation",
            "replay_differs",
            "correction_after_settlement",
            "settlement_conflict",
            "disputed_figure",
            "unresolved_figure",
            "contract_conflict",
            "time_out_of_order",
            "signed_before_period_end",
            "quality_gate_not_met",
        ]
        .iter()
        .position(|y| y == x)
    });
    assert_eq!(k, sorted, "anomalies are ordered by kind");
    let a = r["anomalies"].as_array().unwrap();
    let find =
        |kind: &str, text: &str| a.iter().any(|x| x["kind"] == kind && x["detail"].as_str().unwrap().contains(text));
    assert!(find("correction_after_settlement", "after 2025 was settled"), "{a:#?}");
    assert!(find("correction_after_settlement", "not yet resettled"), "{a:#?}");
    assert!(find("key_used_after_revocation", "revoked (laptop lost)"), "{a:#?}");
    assert!(find("time_out_of_order", "claims 2026-12-01T00:00:00Z but references"), "{a:#?}");
    assert!(find("time_out_of_order", "claims 2027-02-01T08:00:00Z but the previous entry by thuiszorg"), "{a:#?}");
    assert!(find("disputed_figure", "<b>cohort</b>"), "{a:#?}");
    assert!(
        !a.iter().any(|x| x["subject"].as_str().unwrap().contains("by accountant")),
        "four minutes is within the tolerated clock skew: {a:#?}"
    );

    let html = report(d, "html");
    assert!(!html.contains("<script>") && !html.contains("<b>cohort"), "ledger text must be escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; late claims"));
    assert!(html.contains("&lt;b&gt;cohort&lt;/b&gt; &amp; &quot;method&quot; differ"));
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("correction after settlement") < at("id=\"parties\""));
    assert!(at("key used after revocation") < at("correction after settlement"));
    assert!(at("equivocation</td>") < at("key used after revocation"));
    assert!(
        html.contains("class=\"bad\">vereffen/demo-copd-achterhoek/ziekenhuis: same_size_different_root"),
        "evidence section"
    );
}

/// Chromium, if installed (CI installs it; without it, under `CI` this fails).
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI is set but chromium is not installed (.ci/run installs it)");
        eprintln!("NOTICE: chromium not installed; skipping the headless browser test (apt-get install chromium)");
    }
    found
}

fn headless(bin: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    demo_with_checkpoints(d);
    add_anomalies(d);
    ok(d, &["--ledger", VZ, "audit", "report", "--out", "report.html"]);
    let url = format!("file://{}", d.join("report.html").display());
    let out = headless(&bin, &d.join("profile"), &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "Audit report",
        "Ziekenhuis Oost-Achterhoek",
        "Thuiszorg Berkelland",
        "Zorgverzekeraar Noord-Oost",
        &format!("Contract {ID}"),
        &format!("{ID} 2025"),
        &format!("{ID} 2026"),
        &format!("{ID} 2027"),
        "correction after settlement",
        "Checkpoints and cosignatures",
    ] {
        assert!(dom.contains(needle), "the rendered DOM lacks {needle:?}");
    }
    // The markup in the reason stays text: no script element in the DOM.
    assert!(!dom.contains("<script"), "a script element was rendered");

    let pdf = d.join("report.pdf");
    let out = headless(
        &bin,
        &d.join("profile"),
        &["--no-pdf-header-footer", &format!("--print-to-pdf={}", pdf.display())],
        &url,
    );
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 10_000,
        "no PDF printed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
