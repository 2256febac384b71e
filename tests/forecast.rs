//! `vereffen settle forecast`: a contract year at run rate from the figures
//! agreed so far. Golden files in both languages for the five example
//! contracts (the second contract year, with the monthly figures agreed
//! through June and no year figure of that year yet) under
//! `tests/golden/forecast/`; regenerate with
//! `UPDATE_GOLDEN=1 cargo test --release --test forecast`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;
use vereffen::domain::contract::{Aggregation, Contract};
use vereffen::domain::measurement::{Measurement, State};
use vereffen::domain::settlement::forecast::{self as fc, Basis, Options};
use vereffen::domain::settlement::inputs::inputs_for_year;
use vereffen::domain::settlement::Carry;

/// The example contracts, sorted.
fn contract_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("contracts")).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    files
}

/// Writes into `to` the example figures of `id` that a copy has agreed by
/// the middle of `year`: every figure of earlier years, the monthly and
/// quarterly figures of `year` through June (Q2), none of `year`'s year
/// figures and none of later years. With `reversed`, each file's rows are
/// written in reverse order (the same facts, submitted in another order).
fn figures_through_june(id: &str, year: u16, to: &Path, reversed: bool) {
    std::fs::create_dir_all(to).unwrap();
    let from = repo().join("examples/measurements").join(id);
    for f in std::fs::read_dir(&from).unwrap() {
        let f = f.unwrap().path();
        let text = std::fs::read_to_string(&f).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let mut rows: Vec<&str> = lines
            .filter(|l| {
                let period = l.split(',').nth(1).unwrap();
                let y: u16 = period[..4].parse().unwrap();
                let rest = &period[4..];
                y < year
                    || y == year
                        && match rest {
                            "" => false,
                            q if q.starts_with("-Q") => q[2..].parse::<u8>().unwrap() <= 2,
                            m => m[1..].parse::<u8>().unwrap() <= 6,
                        }
            })
            .collect();
        if reversed {
            rows.reverse();
        }
        if rows.is_empty() {
            continue;
        }
        let mut out = String::from(header);
        out.push('\n');
        for r in rows {
            out.push_str(r);
            out.push('\n');
        }
        std::fs::write(to.join(f.file_name().unwrap()), out).unwrap();
    }
}

/// A ledger in `d` with the contract `file` in force and its figures agreed
/// through June of the second contract year; returns the contract and that year.
fn mid_year(d: &Path, file: &Path, reversed: bool) -> (Contract, u16) {
    let c = vereffen::domain::contract::check_file(file).unwrap();
    let year = c.term.first_year + 1;
    let figs = d.join("figures");
    figures_through_june(&c.id, year, &figs, reversed);
    let c = agreed_ledger(d, "fc", file, &figs);
    (c, year)
}

fn check_golden(name: &str, actual: &[u8], mismatches: &mut Vec<String>) {
    check_golden_in("golden/forecast", name, actual, mismatches);
}

/// Every format of a forecast, in both languages, as (golden name suffix, bytes).
fn all_formats(d: &Path, id: &str, year: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (lang, format, ext) in [
        ("en", "table", "txt"),
        ("en", "json", "json"),
        ("en", "csv", "csv"),
        ("nl", "table", "nl.txt"),
        ("nl", "csv", "nl.csv"),
    ] {
        let mut args = vec!["--lang", lang, "settle", "forecast", id, "--year", year, "--format", format];
        args.extend_from_slice(extra);
        out.push((ext.to_string(), ok(d, &args)));
    }
    out
}

#[test]
fn every_example_contract_forecasts_its_second_year_from_the_figures_through_june() {
    let mut mismatches = Vec::new();
    let mut produced = Vec::new();
    for file in contract_files() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let (c, year) = mid_year(d, &file, false);
        let y = year.to_string();
        let journal = std::fs::read(d.join("l/journal")).unwrap();
        for (ext, text) in all_formats(d, &c.id, &y, &[]) {
            assert!(!text.contains('⟦'), "{} {ext}: a message is missing:\n{text}", c.id);
            if ext.ends_with("txt") {
                assert!(text.starts_with("FORECAST") || text.starts_with("PROGNOSE"), "{text}");
            }
            let name = format!("{}/{year}.{ext}", c.id);
            check_golden(&name, text.as_bytes(), &mut mismatches);
            produced.push(name);
        }
        let json_nl = ok(d, &["--lang", "nl", "settle", "forecast", &c.id, "--year", &y, "--format", "json"]);
        let json = ok(d, &["settle", "forecast", &c.id, "--year", &y, "--format", "json"]);
        assert_eq!(json_nl, json, "{}: the JSON is language-neutral", c.id);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["kind"], "forecast");
        assert_eq!(v["signed"], false);
        for p in v["payments"].as_array().into_iter().flatten() {
            let a: Decimal = p["amount"].as_str().unwrap().parse().unwrap();
            assert!(a > Decimal::ZERO, "{}: a payment reads FROM -> TO with a positive amount: {p}", c.id);
        }
        assert_eq!(std::fs::read(d.join("l/journal")).unwrap(), journal, "{}: a forecast never writes", c.id);
    }
    mismatches.extend(orphan_goldens(&files_under(&repo().join("tests/golden/forecast"), &[]), &produced));
    assert!(mismatches.is_empty(), "golden forecasts differ:\n{}", mismatches.join("\n"));
}

/// The indicator `id` of a forecast's JSON.
fn indicator<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["indicators"].as_array().unwrap().iter().find(|i| i["indicator"] == id).unwrap()
}

#[test]
fn a_sum_runs_at_the_rate_of_the_months_known_and_through_cuts_it_earlier() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, year) = mid_year(d, &repo().join(COPD_FILE), false);
    let y = year.to_string();
    let v: Value =
        serde_json::from_str(&ok(d, &["settle", "forecast", &c.id, "--year", &y, "--format", "json"])).unwrap();
    // patients 2026-01..06: 421 + 423 + 425 + 426 + 428 + 430 = 2553; x 12 / 6 = 5106.
    let p = indicator(&v, "patients");
    assert_eq!(p["basis"], "run_rate");
    assert_eq!(p["periods_known"], 6);
    assert_eq!(p["known_sum"], "2553");
    assert_eq!(p["value"], "5106");
    assert_eq!(p["rounded_to"], Value::Null);
    // A year figure of 2026 is not agreed: last year's, labelled so.
    let cost = indicator(&v, "care-cost");
    assert_eq!((cost["basis"].as_str(), cost["from_year"].as_u64()), (Some("last_year"), Some(2025)));
    assert_eq!(v["as_of"], "2026-06");
    // --through 2026-Q1: 421 + 423 + 425 = 1269; x 12 / 3 = 5076; three agreed months left out.
    let q1: Value = serde_json::from_str(&ok(
        d,
        &["settle", "forecast", &c.id, "--year", &y, "--through", "2026-Q1", "--format", "json"],
    ))
    .unwrap();
    let p = indicator(&q1, "patients");
    assert_eq!((p["periods_known"].as_u64(), p["after_through"].as_u64()), (Some(3), Some(3)));
    assert_eq!(p["value"], "5076");
    assert_eq!(q1["through"], "2026-03");
    // --through 2026-05: 2123 x 12 / 5 = 5095.2 -> 5095 whole member-months, said so.
    let may: Value = serde_json::from_str(&ok(
        d,
        &["settle", "forecast", &c.id, "--year", &y, "--through", "2026-05", "--format", "json"],
    ))
    .unwrap();
    let p = indicator(&may, "patients");
    assert_eq!((p["value"].as_str(), p["rounded_to"].as_u64()), (Some("5095"), Some(0)));
    let table = ok(d, &["settle", "forecast", &c.id, "--year", &y, "--through", "2026-05"]);
    assert!(table.contains("sum so far 2,123 x 12 / 5 = 5,095 (rounded half away from zero to 0 decimals)"), "{table}");
}

#[test]
fn assumptions_and_through_are_parsed_strictly_and_errors_name_the_argument() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, year) = mid_year(d, &repo().join(COPD_FILE), false);
    let y = year.to_string();
    let base = ["settle", "forecast", c.id.as_str(), "--year", y.as_str()];
    for (arg, expect) in [
        ("care-cost", "--assume \"care-cost\": write INDICATOR=VALUE"),
        ("nope=1", "--assume \"nope=1\": contract copd-telemonitoring-oost-achterhoek has no indicator \"nope\""),
        ("care-cost=1e6", "--assume \"care-cost=1e6\": value \"1e6\" is not a plain decimal"),
        ("care-cost=12.345", "--assume \"care-cost=12.345\": value 12.345 does not fit unit eur"),
        ("care-cost= 12", "--assume \"care-cost= 12\": the value has spaces"),
        ("prem=1.5", "--assume \"prem=1.5\": value 1.5 does not fit unit fraction"),
        ("patients=5000", "--assume patients: patients has agreed figures for 2026 (6 of 12 periods)"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--assume", arg]);
        refused(d, &args, expect);
    }
    let mut twice = base.to_vec();
    twice.extend(["--assume", "ccq=2", "--assume", "ccq=2.1"]);
    refused(d, &twice, "ccq is assumed twice");
    for (arg, expect) in
        [("2026-13", "--through \"2026-13\" is not a period"), ("2025-Q2", "not in the forecast year 2026")]
    {
        let mut args = base.to_vec();
        args.extend(["--through", arg]);
        refused(d, &args, expect);
    }
    // An assumption is used and labelled.
    let mut args = base.to_vec();
    args.extend(["--assume", "care-cost=2700000.00", "--format", "json"]);
    let v: Value = serde_json::from_str(&ok(d, &args)).unwrap();
    let cost = indicator(&v, "care-cost");
    assert_eq!((cost["basis"].as_str(), cost["value"].as_str()), (Some("assumed"), Some("2700000")));
}

#[test]
fn a_forecast_below_the_quality_gate_flags_the_improvement_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (c, year) = mid_year(d, &repo().join(COPD_FILE), false);
    let y = year.to_string();
    let args = [
        "settle",
        "forecast",
        c.id.as_str(),
        "--year",
        y.as_str(),
        "--assume",
        "admissions=0.9",
        "--assume",
        "ccq=3",
        "--assume",
        "prem=0.5",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let v: Value = serde_json::from_str(&ok(d, &json_args)).unwrap();
    let gate = v["flags"].as_array().unwrap().iter().find(|f| f["flag"] == "quality_gate").expect("a gate flag");
    assert_eq!(gate["met"], false);
    assert_eq!(gate["consequence"], "improvement_plan");
    assert!(gate["clause"].as_str().unwrap().contains("monitoring.below_quality_gate"));
    let table = ok(d, &args);
    assert!(table.contains("quality gate NOT met") && table.contains("improvement plan"), "{table}");
    let mut nl = vec!["--lang", "nl"];
    nl.extend(args);
    assert!(ok(d, &nl).contains("verbeterplan"));
    // With the example's own figures of 2025 the gate is met, and says so.
    let met: Value =
        serde_json::from_str(&ok(d, &["settle", "forecast", &c.id, "--year", &y, "--format", "json"])).unwrap();
    let gate = met["flags"].as_array().unwrap().iter().find(|f| f["flag"] == "quality_gate").unwrap();
    assert_eq!(gate["met"], true);
}

#[test]
fn the_same_facts_in_another_order_give_the_same_bytes() {
    for file in [repo().join(COPD_FILE), repo().join("contracts/home-care-technology-hours.toml")] {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (c, year) = mid_year(a.path(), &file, false);
        mid_year(b.path(), &file, true);
        assert_ne!(
            std::fs::read(a.path().join("l/journal")).unwrap(),
            std::fs::read(b.path().join("l/journal")).unwrap(),
            "the two copies hold the facts in another order"
        );
        let y = year.to_string();
        assert_eq!(all_formats(a.path(), &c.id, &y, &[]), all_formats(b.path(), &c.id, &y, &[]), "{}", c.id);
    }
}

#[test]
fn a_year_with_nothing_agreed_says_what_is_missing_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let empty = d.join("none");
    std::fs::create_dir_all(&empty).unwrap();
    let c = agreed_ledger(d, "fc", &repo().join(COPD_FILE), &empty);
    let journal = std::fs::read(d.join("l/journal")).unwrap();
    let table = ok(d, &["settle", "forecast", &c.id, "--year", "2025"]);
    assert!(table.contains("INCOMPLETE"), "{table}");
    assert!(
        table.contains("care-cost (2025): no agreed figure for 2025 or 2024; submit and agree its figures (`vereffen measure submit`), or give --assume care-cost=VALUE"),
        "{table}"
    );
    assert!(table.contains("No monthly or quarterly figure of the year is agreed yet"), "{table}");
    let v: Value =
        serde_json::from_str(&ok(d, &["settle", "forecast", &c.id, "--year", "2025", "--format", "json"])).unwrap();
    assert_eq!(v["complete"], false);
    let missing: Vec<&str> =
        v["missing"].as_array().unwrap().iter().map(|m| m["indicator"].as_str().unwrap()).collect();
    assert!(missing.contains(&"care-cost") && missing.contains(&"patients"), "{missing:?}");
    assert_eq!(std::fs::read(d.join("l/journal")).unwrap(), journal, "a forecast never writes");
    // A forecast of a later year whose earlier year is not settled-able says which.
    refused(d, &["settle", "forecast", &c.id, "--year", "2026"], "2025 cannot be settled from its agreed figures");
}

// ---- library level: the run rate by hand, and against the settlement's aggregation ----

fn copd() -> Contract {
    vereffen::domain::contract::check_file(&repo().join(COPD_FILE)).unwrap()
}

fn agreed(id: usize, indicator: &str, period: &str, year: u16, value: Decimal) -> Measurement {
    Measurement {
        id: format!("{id:064x}"),
        indicator: indicator.into(),
        period: period.into(),
        year,
        value,
        unit: String::new(),
        source: "ziekenhuis".into(),
        version: String::new(),
        corrects: None,
        reason: None,
        note: None,
        derivation: None,
        signed_by: BTreeMap::new(),
        required: Vec::new(),
        state: State::Agreed,
        time: "2026-07-01T00:00:00Z".into(),
    }
}

/// COPD measurements of 2025: `patients` per month from `months` (month,
/// value), and the year figures.
fn copd_2025(months: &[(u8, Decimal)]) -> Vec<Measurement> {
    let mut ms: Vec<Measurement> =
        months.iter().enumerate().map(|(i, (m, v))| agreed(i, "patients", &format!("2025-{m:02}"), 2025, *v)).collect();
    for (i, (ind, v)) in
        [("care-cost", dec!(2539510.14)), ("admissions", dec!(0.55)), ("ccq", dec!(2.2)), ("prem", dec!(0.78))]
            .into_iter()
            .enumerate()
    {
        ms.push(agreed(100 + i, ind, "2025", 2025, v));
    }
    ms
}

fn patients_forecast(c: &Contract, ms: &[Measurement]) -> fc::IndicatorForecast {
    let f = fc::forecast(c, 2025, &Carry::initial(c), ms, &Options::default()).unwrap();
    f.indicators.into_iter().find(|i| i.indicator == "patients").unwrap()
}

#[test]
fn mean_and_last_run_at_the_mean_so_far_and_the_last_known_period() {
    let mut c = copd();
    let ms = copd_2025(&[(1, dec!(400)), (2, dec!(410)), (4, dec!(431))]);
    let at = |c: &Contract| patients_forecast(c, &ms);
    // Sum: (400 + 410 + 431) x 12 / 3 = 4964.
    assert_eq!((at(&c).basis, at(&c).value), (Basis::RunRate, Some(dec!(4964))));
    let pi = c.indicators.iter().position(|i| i.id == "patients").unwrap();
    c.indicators[pi].aggregation = Aggregation::Mean;
    // Mean: 1241 / 3 = 413.666..., as the settlement divides.
    assert_eq!(at(&c).value, Some(dec!(1241) / dec!(3)));
    c.indicators[pi].aggregation = Aggregation::Last;
    // Last: the last known month (April), not the gap (March).
    let f = at(&c);
    assert_eq!((f.value, f.last_known.as_deref()), (Some(dec!(431)), Some("2025-04")));
    assert_eq!(
        f.not_counted.iter().map(|n| (n.period.as_str(), n.state.as_str())).collect::<Vec<_>>(),
        [("2025-03", "missing")]
    );
}

#[test]
fn pending_and_disputed_figures_do_not_count() {
    let c = copd();
    let mut ms = copd_2025(&[(1, dec!(400)), (2, dec!(410))]);
    let mut pending = agreed(50, "patients", "2025-03", 2025, dec!(9999));
    pending.state = State::Pending { waiting_for: vec!["verzekeraar".into()] };
    ms.push(pending);
    let f = patients_forecast(&c, &ms);
    assert_eq!((f.periods_known, f.value), (2, Some(dec!(4860))));
    assert_eq!(f.not_counted[0].state, "pending");
    assert_eq!(f.not_counted[0].to_act, ["verzekeraar"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With every period known, the forecast value is the year's value as
    /// the settlement aggregates it, for each aggregation.
    #[test]
    fn all_periods_known_is_the_years_aggregated_value(
        values in proptest::collection::vec(0u32..100_000, 12),
        agg in 0u8..3,
    ) {
        let mut c = copd();
        let pi = c.indicators.iter().position(|i| i.id == "patients").unwrap();
        c.indicators[pi].aggregation = [Aggregation::Sum, Aggregation::Mean, Aggregation::Last][agg as usize];
        let months: Vec<(u8, Decimal)> = values.iter().enumerate().map(|(i, v)| (i as u8 + 1, Decimal::from(*v))).collect();
        let ms = copd_2025(&months);
        let f = patients_forecast(&c, &ms);
        let yi = inputs_for_year(&c, 2025, &ms, false).unwrap();
        prop_assert_eq!(f.basis, Basis::Agreed);
        prop_assert_eq!(f.value, Some(yi.inputs.figures["patients"].value));
    }
}
