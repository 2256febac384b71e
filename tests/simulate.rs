//! `vereffen simulate` end to end: every example scenario file runs and
//! writes its outputs; the same seed gives the same bytes on 1 and 2
//! threads; variants compare side by side; bad scenario files are refused
//! with FILE:LINE and leave no output directory.

mod common;

use std::path::{Path, PathBuf};

use common::{ok, repo, run};

fn contract_for(id: &str) -> PathBuf {
    for f in std::fs::read_dir(repo().join("contracts")).unwrap() {
        let p = f.unwrap().path();
        if std::fs::read_to_string(&p).unwrap().contains(&format!("\nid = \"{id}\"")) {
            return p;
        }
    }
    panic!("no contract {id}");
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn every_example_scenario_runs_and_writes_its_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    for f in std::fs::read_dir(repo().join("examples/scenarios")).unwrap() {
        let sc = f.unwrap().path();
        let id = sc.file_stem().unwrap().to_string_lossy().to_string();
        let c = contract_for(&id);
        let out = tmp.path().join(&id);
        let text = ok(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "40", "--out", &s(&out)]);
        assert!(text.contains("Monte Carlo: 40 runs"), "{text}");
        assert!(text.contains("== sweep"), "every example has a sweep: {text}");
        let stem = c.file_stem().unwrap().to_string_lossy().to_string();
        for file in ["runs.csv", "inputs.csv", "summary.csv", "sweep.csv", "tornado.csv"] {
            assert!(out.join(file).is_file(), "{id}: {file}");
        }
        for chart in ["distribution", "sweep", "tornado"] {
            for ext in ["svg", "png"] {
                let p = out.join(format!("{chart}-{stem}.{ext}"));
                assert!(std::fs::metadata(&p).map(|m| m.len() > 1000).unwrap_or(false), "{}", p.display());
            }
        }
        let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
        assert!(runs.starts_with("variant,run,period,party,net,volume,p4p,shared_savings"));
        n += 1;
    }
    assert_eq!(n, 5, "one scenario file per example contract");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".vereffen-simulate"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary directories left");
}

#[test]
fn same_seed_same_bytes_on_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let sc = repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("t{threads}"));
        let text = ok(
            tmp.path(),
            &[
                "simulate",
                &s(&c),
                "--scenarios",
                &s(&sc),
                "--runs",
                "5000",
                "--seed",
                "7",
                "--threads",
                threads,
                "--out",
                &s(&out),
            ],
        );
        let text: String = text.lines().filter(|l| !l.starts_with("wrote ")).collect();
        outs.push((text, out));
    }
    assert_eq!(outs[0].0, outs[1].0, "terminal output");
    for f in ["runs.csv", "inputs.csv", "summary.csv", "sweep.csv", "tornado.csv"] {
        assert_eq!(std::fs::read(outs[0].1.join(f)).unwrap(), std::fs::read(outs[1].1.join(f)).unwrap(), "{f}");
    }
    let other = ok(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "5000", "--seed", "8"]);
    assert_ne!(other.lines().collect::<String>(), outs[0].0, "another seed gives other draws");
}

#[test]
fn variants_compare_side_by_side_on_the_same_draws() {
    let tmp = tempfile::tempdir().unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let text = std::fs::read_to_string(&c).unwrap();
    let sixty = tmp.path().join("share-60.toml");
    let changed = text.replace("provider_share = 0.5", "provider_share = 0.6");
    assert_ne!(changed, text, "the example states a 50% share");
    std::fs::write(&sixty, changed).unwrap();
    let sc = repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    let out = ok(tmp.path(), &["simulate", &s(&c), &s(&sixty), "--scenarios", &s(&sc), "--runs", "300"]);
    assert!(out.contains("== comparison over the term"), "{out}");
    assert!(out.contains("share-60"), "{out}");
}

/// Writes a scenarios file and checks the refusal names it, the line and the field.
fn refused(name: &str, scenario: &str, expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join(name);
    std::fs::write(&sc, scenario).unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let out = tmp.path().join("out");
    let (code, stdout, err) =
        run(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "200", "--out", &s(&out)]);
    assert_ne!(code, 0, "{name} should be refused:\n{stdout}");
    assert!(!err.contains("panicked"), "{err}");
    for e in expect {
        assert!(err.contains(e), "{name}: expected {e:?} in:\n{err}");
    }
    assert!(!out.exists(), "nothing written");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "only the scenarios file: {left:?}");
}

const GOOD: &str = r#"[inputs.patients]
value = { dist = "normal", mean = 4900, sd = 250, min = 0 }

[inputs.care-cost]
base = "shared_savings.benchmark"
change = { dist = "normal", mean = -0.03, sd = 0.06 }

[inputs.admissions]
value = { dist = "triangular", min = 0.35, mode = 0.48, max = 0.65 }

[inputs.ccq]
value = 2.2

[inputs.prem]
value = { dist = "uniform", min = 0.7, max = 0.9 }
"#;

#[test]
fn bad_scenarios_are_refused_with_file_line_and_field() {
    refused(
        "unknown.toml",
        &format!("{GOOD}\n[inputs.admisions]\nvalue = 1\n"),
        &["unknown.toml:18:", "inputs.admisions", "did you mean 'admissions'"],
    );
    refused("sd.toml", &GOOD.replace("sd = 250", "sd = -250"), &["sd.toml:2:", "inputs.patients.value.sd", "negative"]);
    refused(
        "minmax.toml",
        &GOOD.replace("min = 0.7, max = 0.9", "min = 0.9, max = 0.7"),
        &["minmax.toml:15:", "inputs.prem.value", "min 0.9 is above max 0.7"],
    );
    let psd = format!(
        "{GOOD}\n[[correlations]]\ninputs = [\"patients\", \"care-cost\"]\nrho = 0.9\n\n[[correlations]]\ninputs = [\"care-cost\", \"admissions\"]\nrho = 0.9\n\n[[correlations]]\ninputs = [\"patients\", \"admissions\"]\nrho = -0.9\n"
    );
    refused("psd.toml", &psd, &["psd.toml:17:", "correlations", "not positive semi-definite"]);
    refused(
        "negative.toml",
        &GOOD.replace("mean = 4900, sd = 250, min = 0", "mean = 100, sd = 250"),
        &["negative.toml:2:", "inputs.patients", "is negative", "min = 0"],
    );
    refused("missing.toml", &GOOD.replace("[inputs.ccq]\nvalue = 2.2\n", ""), &["missing.toml:1:", "needs ccq"]);
    refused("toml.toml", "[inputs\n", &["toml.toml:1:", "not valid TOML"]);
}

#[test]
fn an_existing_output_directory_is_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("s.toml");
    std::fs::write(&sc, GOOD).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let (code, _, err) =
        run(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "10", "--out", &s(&out)]);
    assert_ne!(code, 0);
    assert!(err.contains("not an empty directory"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");
}

/// A whole book simulated at once: with more variants than
/// `MAX_COMPARED_VARIANTS` (32) the side-by-side table, which grows with
/// variants x parties of all variants, is left out with a note; every
/// variant's own table is still printed.
#[test]
fn a_whole_book_leaves_out_the_side_by_side_table() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(contract_for("copd-telemonitoring-oost-achterhoek")).unwrap();
    let mut files = Vec::new();
    for i in 0..33 {
        let f = tmp.path().join(format!("book-{i:02}.toml"));
        std::fs::write(&f, text.replace("ziekenhuis", &format!("ziekenhuis-{i:02}"))).unwrap();
        files.push(s(&f));
    }
    let sc = s(&repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml"));
    let mut args: Vec<&str> = vec!["simulate"];
    args.extend(files.iter().map(|f| f.as_str()));
    args.extend(["--scenarios", &sc, "--runs", "20"]);
    let out = ok(tmp.path(), &args);
    assert!(!out.contains("== comparison over the term (same draws"), "{out}");
    assert!(out.contains("comparison over the term: left out for more than 32 variants (33)"), "{out}");
    assert_eq!(out.matches("\n== book-").count(), 33, "{out}");
    assert!(out.contains("ziekenhuis-32"), "{out}");
}
