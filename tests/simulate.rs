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
        assert!(runs.lines().next().unwrap().ends_with(",result"), "runs.csv has the economic result");
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
    let dir = tmp.path().join("out");
    let out =
        ok(tmp.path(), &["simulate", &s(&c), &s(&sixty), "--scenarios", &s(&sc), "--runs", "300", "--out", &s(&dir)]);
    assert!(out.contains("== comparison over the term"), "{out}");
    assert!(out.contains("share-60"), "{out}");
    // A difference column B - A per party: the second variant against the first.
    let head = out.lines().find(|l| l.starts_with("party") && l.contains("share-60")).expect("comparison header");
    assert!(head.contains("... - copd..."), "a B - A column: {head}");
    // The hospital's mean result row: A, B and B - A, which is B minus A.
    let row = out.lines().find(|l| l.starts_with("ziekenhuis") && l.contains("result mean")).expect("row");
    let cells: Vec<i64> =
        row.split_whitespace().skip(3).map(|c| c.trim_start_matches('+').replace(',', "").parse().unwrap()).collect();
    assert_eq!(cells.len(), 3, "{row}");
    assert!((cells[1] - cells[0] - cells[2]).abs() <= 1, "B - A: {row}");
    assert!(cells[2] > 0, "a larger share gives the hospital more: {row}");
    let chart = std::fs::read_to_string(dir.join("comparison.svg")).expect("a comparison chart");
    assert!(
        chart.contains("share-60") && chart.contains("copd-telemonitoring-shared-savings"),
        "legend names the variants"
    );
}

/// Issue 15: the payer's P(loss) is on its economic result (savings kept
/// minus result payments), not on its cash: the COPD insurer pays an
/// advance in 2025 and so pays on balance in every run, but its result
/// is not a loss in every run; both views are shown under their headings.
#[test]
fn loss_is_taken_on_the_economic_result_and_cash_is_shown_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let sc = repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    let out = ok(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "200", "--seed", "3"]);
    let result = out.find("-- economic result").expect("a result table");
    let cash = out.find("-- cash (received - paid)").expect("a cash table");
    assert!(result < cash, "{out}");
    let row = |from: usize, who: &str, period: &str| -> Vec<String> {
        out[from..]
            .lines()
            .find(|l| l.starts_with(who) && l.split_whitespace().nth(1) == Some(period))
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    // party period mean P5 P50 P95 P(loss) worst
    assert_eq!(row(cash, "verzekeraar", "2025")[6], "100.0%", "the insurer pays the advance in every run");
    let p_loss: f64 = row(result, "verzekeraar", "2025")[6].trim_end_matches('%').parse().unwrap();
    assert!(p_loss < 60.0, "the insurer keeps half of the savings: P(loss) {p_loss}%\n{out}");
    // The hospital's advance is a loan, not income: its 2025 result is far below its cash.
    let mean = |r: Vec<String>| r[2].replace(',', "").parse::<i64>().unwrap();
    assert!(mean(row(cash, "ziekenhuis", "2025")) - mean(row(result, "ziekenhuis", "2025")) > 150_000, "{out}");
}

/// The central scenario on a closed quality gate is warned about: a tornado
/// would show no effect from cost there.
#[test]
fn a_central_scenario_on_a_closed_gate_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("s.toml");
    std::fs::write(
        &sc,
        GOOD.replace("[inputs.ccq]\nvalue = 2.2", "[inputs.ccq]\nvalue = 3.5")
            .replace("min = 0.7, max = 0.9", "min = 0.3, max = 0.4"),
    )
    .unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let out = ok(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "20"]);
    assert!(out.contains("the quality gate is not met (score"), "{out}");
    assert!(out.contains("the sensitivity shows no effect from cost"), "{out}");
    let good = tmp.path().join("g.toml");
    std::fs::write(&good, GOOD).unwrap();
    let out = ok(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&good), "--runs", "20"]);
    assert!(!out.contains("warning:"), "{out}");
}

/// Under --lang nl the text is Dutch with nl-NL numbers and the CSV files
/// are separated by `;` with `,` decimals (Dutch Excel opens them).
#[test]
fn dutch_output_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let c = contract_for("copd-telemonitoring-oost-achterhoek");
    let sc = repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml");
    let dir = tmp.path().join("out");
    let out = ok(
        tmp.path(),
        &["--lang", "nl", "simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "40", "--out", &s(&dir)],
    );
    assert!(out.contains("-- economisch resultaat") && out.contains("-- kasstroom"), "{out}");
    assert!(out.contains("P(verlies)") && out.contains("looptijd"), "{out}");
    assert!(!out.contains("⟦"), "no missing message: {out}");
    let row = out.lines().find(|l| l.starts_with("verzekeraar")).unwrap();
    let mean = row.split_whitespace().nth(2).unwrap();
    assert!(mean.contains('.') && !mean.contains(','), "grouped with dots: {row}");
    assert!(row.contains("%") && row.split_whitespace().nth(6).unwrap().contains(','), "decimal comma: {row}");
    for f in ["summary.csv", "runs.csv", "sweep.csv", "tornado.csv", "inputs.csv"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let mut lines = text.lines();
        let head = lines.next().unwrap();
        let n = head.split(';').count();
        assert!(n > 2 && !head.contains(','), "{f}: {head}");
        for l in lines {
            assert_eq!(l.split(';').count(), n, "{f}: {l}");
            assert!(!l.contains('.'), "{f}: no decimal points: {l}");
        }
    }
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.starts_with("variant;party;role;period;result_mean;"), "{summary}");
    assert!(summary.lines().nth(1).unwrap().contains(','), "decimal commas: {summary}");
}

/// The terminal output of every example in English and Dutch, byte for byte
/// (`UPDATE_GOLDEN=1` rewrites the files under tests/golden/simulate/).
#[test]
fn simulation_text_matches_golden_files_in_both_languages() {
    let tmp = tempfile::tempdir().unwrap();
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let dir = repo().join("tests/golden/simulate");
    let mut mismatches = Vec::new();
    let mut n = 0;
    for f in std::fs::read_dir(repo().join("examples/scenarios")).unwrap() {
        let sc = f.unwrap().path();
        let id = sc.file_stem().unwrap().to_string_lossy().to_string();
        let c = contract_for(&id);
        for lang in ["en", "nl"] {
            let text = ok(
                tmp.path(),
                &["--lang", lang, "simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "50", "--seed", "1"],
            );
            let name = format!("{id}.{lang}.txt");
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(&name), &text).unwrap();
            } else {
                match std::fs::read_to_string(dir.join(&name)) {
                    Ok(g) if g == text => {}
                    Ok(_) => mismatches.push(format!("tests/golden/simulate/{name} differs:\n{text}")),
                    Err(_) => mismatches.push(format!("tests/golden/simulate/{name} is missing (UPDATE_GOLDEN=1)")),
                }
            }
            n += 1;
        }
    }
    assert_eq!(n, 10, "five examples in two languages");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Writes a scenarios file and checks the refusal names it, the line and the field.
/// The CSV files of every example (`--runs 20 --seed 1`: every run's net
/// and result per party and component, the summary, sweep and tornado)
/// byte for byte against tests/golden/simulate/csv/{id}/: a simulation
/// settles with the words off (`settlement::Detail::Numbers`), and its
/// numbers must be those of full statements. Written with the engine before
/// the words could be turned off.
#[test]
fn simulation_csv_matches_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = repo().join("tests/golden/simulate/csv");
    let mut mismatches = Vec::new();
    let mut n = 0;
    for f in std::fs::read_dir(repo().join("examples/scenarios")).unwrap() {
        let sc = f.unwrap().path();
        let id = sc.file_stem().unwrap().to_string_lossy().to_string();
        let c = contract_for(&id);
        let out = tmp.path().join(&id);
        ok(tmp.path(), &["simulate", &s(&c), "--scenarios", &s(&sc), "--runs", "20", "--seed", "1", "--out", &s(&out)]);
        for file in ["runs.csv", "inputs.csv", "summary.csv", "sweep.csv", "tornado.csv"] {
            let got = std::fs::read(out.join(file)).unwrap();
            match std::fs::read(dir.join(&id).join(file)) {
                Ok(g) if g == got => {}
                Ok(_) => mismatches.push(format!("tests/golden/simulate/csv/{id}/{file} differs")),
                Err(_) => mismatches.push(format!("tests/golden/simulate/csv/{id}/{file} is missing")),
            }
            n += 1;
        }
    }
    assert_eq!(n, 25, "five files of five examples");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

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
