//! Simulation against the engine: a point scenario is `settle_term`; sweeps
//! are monotone where the contract makes them so; draws follow their
//! distributions; runs do not depend on the thread count.

use std::path::PathBuf;

use rust_decimal::Decimal;

use super::*;
use crate::domain::contract;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model(contract_file: &str, scenarios_text: &str) -> Model {
    let c = contract::check_file(&repo().join("contracts").join(contract_file)).expect("valid contract");
    let s = scenarios::parse("test.toml", scenarios_text).expect("valid scenarios");
    Model::new(s, vec![Variant::new("v", c)]).expect("model")
}

const COPD_FIXED: &str = r#"
[inputs.patients]
value = 4823
[inputs.care-cost]
value = 2539510.14
years = { 2026 = 2666978.73, 2027 = 3078128.48 }
[inputs.admissions]
value = 0.55
[inputs.ccq]
value = 2.3
[inputs.prem]
value = 0.78
"#;

#[test]
fn a_point_scenario_is_what_settle_gives() {
    let m = model("copd-telemonitoring-shared-savings.toml", COPD_FIXED);
    let c = &m.variants[0].contract;
    let simulated = m.settle(0, &m.central(), None).unwrap();
    let inputs: Vec<crate::domain::settlement::Inputs> = c
        .term
        .years()
        .map(|y| {
            let cost = match y {
                2026 => "2666978.73",
                2027 => "3078128.48",
                _ => "2539510.14",
            };
            crate::domain::settlement::Inputs::new(y)
                .with("patients", Decimal::from(4823))
                .with("care-cost", cost.parse().unwrap())
                .with("admissions", "0.55".parse().unwrap())
                .with("ccq", "2.3".parse().unwrap())
                .with("prem", "0.78".parse().unwrap())
        })
        .collect();
    let full = crate::domain::settlement::settle_term(c, &inputs).unwrap();
    // A simulation settles with the same engine: the same statements,
    // words (structured, never formatted by the engine) included.
    assert_eq!(full, simulated);
    // One Monte Carlo run of a fixed scenario has the same nets.
    let st = m.settle(0, &m.central(), None).unwrap();
    let o = m.variants[0].outcome(&st);
    let stats = m.monte_carlo(3, 1, &|_| {}, &mut |_| {}).unwrap();
    let np = m.variants[0].parties.len();
    for (slot, n) in o.nets.iter().enumerate() {
        let s = &stats[0].stats[slot];
        assert_eq!((s.mean * 100.0).round() as i64, *n, "slot {slot} of {np} parties");
        assert_eq!(s.p5, s.p95);
    }
}

#[test]
fn one_sided_provider_result_never_falls_as_cost_falls() {
    let text = std::fs::read_to_string(repo().join("examples/scenarios/home-care-technology-berkelland.toml")).unwrap();
    let text = text.replace(
        "x = { input = \"nursing-cost\", from = -0.10, to = 0.10, step = 0.01 }\ny = { input = \"time-saved\", values = [0.02, 0.05, 0.08] }",
        "x = { input = \"nursing-cost\", from = -0.30, to = 0.30, step = 0.005 }",
    );
    let m = model("home-care-technology-hours.toml", &text);
    assert_eq!(m.scenarios.sweep.len(), 1);
    let sw = m.sweep().unwrap();
    let p = m.variants[0].parties.iter().position(|p| p.role == Role::Provider).unwrap();
    let np = m.variants[0].parties.len();
    let term = m.periods(0) - 1;
    let ss = COMPONENTS.iter().position(|c| *c == "shared_savings").unwrap();
    let mut last: Option<(i64, i64)> = None;
    let mut rose = false;
    for o in &sw {
        let net = o[0].nets[term * np + p];
        let share = o[0].components[(term * np + p) * COMPONENTS.len() + ss];
        if let Some((n, s)) = last {
            // x rises = cost rises: the provider's result never rises.
            assert!(net <= n && share <= s, "{net} > {n} or {share} > {s}");
            rose |= net < n;
        }
        last = Some((net, share));
    }
    assert!(rose, "the sweep moves the result");
    assert_eq!(last.map(|l| l.1), Some(0), "one-sided: no share of losses");
}

#[test]
fn drawn_values_follow_their_distributions() {
    let m = model(
        "copd-telemonitoring-shared-savings.toml",
        &COPD_FIXED
            .replace("value = 4823", "value = { dist = \"normal\", mean = 5000, sd = 200 }")
            .replace("value = 0.78", "value = { dist = \"triangular\", min = 0.6, mode = 0.8, max = 0.9 }"),
    );
    let ny = m.years.len();
    let (pi, ri) = (0, 4);
    let mut members = Vec::new();
    let mut prem = Vec::new();
    for run in 0..20_000 {
        let p = m.draw(99, run);
        members.push(p[pi * ny].to_string().parse::<f64>().unwrap());
        prem.push(p[ri * ny + 1].to_string().parse::<f64>().unwrap());
    }
    members.sort_by(f64::total_cmp);
    prem.sort_by(f64::total_cmp);
    let z95 = 1.644_853_626_951;
    assert!((dist::percentile(&members, 0.5) - 5000.0).abs() < 6.0);
    assert!((dist::percentile(&members, 0.05) - (5000.0 - 200.0 * z95)).abs() < 10.0);
    assert!((dist::percentile(&members, 0.95) - (5000.0 + 200.0 * z95)).abs() < 10.0);
    let tri = dist::Dist::Triangular { min: 0.6, mode: 0.8, max: 0.9 };
    for q in [0.05, 0.5, 0.95] {
        assert!((dist::percentile(&prem, q) - tri.quantile(q)).abs() < 0.005, "triangular P{q}");
    }
    assert!(members.iter().all(|x| x.fract() == 0.0), "counts are whole numbers");
}

#[test]
fn correlated_draws_correlate() {
    let text = format!(
        "{}\n[[correlations]]\ninputs = [\"admissions\", \"care-cost\"]\nrho = 0.8\n",
        COPD_FIXED.replace("value = 0.55", "value = { dist = \"normal\", mean = 0.5, sd = 0.05 }").replace(
            "value = 2539510.14\nyears = { 2026 = 2666978.73, 2027 = 3078128.48 }",
            "value = { dist = \"normal\", mean = 2600000, sd = 100000 }",
        )
    );
    let m = model("copd-telemonitoring-shared-savings.toml", &text);
    let ny = m.years.len();
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let n = 5000.0;
    for run in 0..5000 {
        let p = m.draw(5, run);
        let x: f64 = p[ny].to_string().parse().unwrap();
        let y: f64 = p[2 * ny].to_string().parse().unwrap();
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    let r = (sxy / n - sx / n * sy / n) / ((sxx / n - (sx / n).powi(2)).sqrt() * (syy / n - (sy / n).powi(2)).sqrt());
    assert!((r - 0.8).abs() < 0.03, "correlation {r}");
}

#[test]
fn runs_do_not_depend_on_the_thread_count() {
    let text =
        std::fs::read_to_string(repo().join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml")).unwrap();
    let m = model("copd-telemonitoring-shared-savings.toml", &text);
    let go = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut seen = Vec::new();
            let stats = m
                .monte_carlo(9000, 42, &|_| {}, &mut |r| seen.push((r.run, r.point.to_vec(), r.outcomes.to_vec())))
                .unwrap();
            (format!("{stats:?}"), seen)
        })
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a.0, b.0);
    assert!(a.1 == b.1, "every run identical");
    assert_eq!(a.1.iter().map(|r| r.0).collect::<Vec<_>>(), (0..9000).collect::<Vec<_>>(), "in run order");
}

/// The COPD example as a second contract whose quality indicator `prem` is
/// called `prem-b`, and scenarios giving both `prem` and `prem-b` (random).
fn two_contracts_with_own_inputs() -> (Model, Model, Model) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    let renamed =
        text.replace("id = \"prem\"", "id = \"prem-b\"").replace("provider_share = 0.5", "provider_share = 0.6");
    assert_ne!(renamed, text);
    let b_file = dir.path().join("b.toml");
    std::fs::write(&b_file, renamed).unwrap();
    let a = contract::check_file(&repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    let b = contract::check_file(&b_file).unwrap();
    let inputs = r#"
[inputs.patients]
value = { dist = "normal", mean = 4900, sd = 250, min = 0 }
[inputs.care-cost]
base = "shared_savings.benchmark"
change = { dist = "normal", mean = -0.03, sd = 0.06, min = -0.40, max = 0.40 }
[inputs.admissions]
value = { dist = "triangular", min = 0.35, mode = 0.48, max = 0.65 }
[inputs.ccq]
value = { dist = "normal", mean = 2.2, sd = 0.15, min = 0, max = 6 }
"#;
    let prem = "[inputs.prem]\nvalue = { dist = \"uniform\", min = 0.70, max = 0.90 }\n";
    let prem_b = "[inputs.prem-b]\nvalue = { dist = \"uniform\", min = 0.60, max = 0.95 }\n";
    let both = scenarios::parse("both.toml", &format!("{inputs}{prem}{prem_b}")).unwrap();
    let only_a = scenarios::parse("a.toml", &format!("{inputs}{prem}")).unwrap();
    let only_b = scenarios::parse("b.toml", &format!("{inputs}{prem_b}")).unwrap();
    (
        Model::new(both, vec![Variant::new("a", a.clone()), Variant::new("b", b.clone())]).unwrap(),
        Model::new(only_a, vec![Variant::new("a", a)]).unwrap(),
        Model::new(only_b, vec![Variant::new("b", b)]).unwrap(),
    )
}

/// Many contracts in one simulation, each with its own indicators: a
/// contract's yearly inputs hold only its own indicators (before, every
/// input of the file, so work and memory grew with contracts x inputs).
#[test]
fn a_contract_is_given_only_the_inputs_it_reads() {
    let (both, _, _) = two_contracts_with_own_inputs();
    let mut r = Runner::new(&both, Detail::Numbers);
    for (v, own) in [(0, "prem"), (1, "prem-b")] {
        r.ensure(v);
        for t in &r.plans[v].templates {
            let ids: Vec<&str> = t.figures.keys().map(|k| k.as_str()).collect();
            assert!(ids.contains(&own), "{ids:?}");
            let other = if own == "prem" { "prem-b" } else { "prem" };
            assert!(!ids.contains(&other), "variant {v} is given {other}, which it cannot read: {ids:?}");
            assert_eq!(ids.len(), 5, "{ids:?}");
        }
    }
}

/// Leaving out the inputs a contract does not read changes nothing: at the
/// same values, each variant's outcome and tornado bars equal those of a
/// simulation of that contract alone with only its own inputs; the tornado
/// has no bar for an input a variant cannot read.
#[test]
fn inputs_a_contract_does_not_read_change_nothing() {
    let (both, only_a, only_b) = two_contracts_with_own_inputs();
    let ny = both.years.len();
    for run in 0..40 {
        let p = both.draw(7, run);
        // The same values in the single-contract models' layout (input order
        // patients, care-cost, admissions, ccq, then prem or prem-b).
        let a_point: Vec<Decimal> = p[..5 * ny].to_vec();
        let b_point: Vec<Decimal> = p[..4 * ny].iter().chain(&p[5 * ny..6 * ny]).copied().collect();
        assert_eq!(both.outcome(0, &p, Some(run)).unwrap(), only_a.outcome(0, &a_point, Some(run)).unwrap());
        assert_eq!(both.outcome(1, &p, Some(run)).unwrap(), only_b.outcome(0, &b_point, Some(run)).unwrap());
    }
    let (central, bars) = both.tornado().unwrap();
    let (central_a, bars_a) = only_a.tornado().unwrap();
    let (central_b, bars_b) = only_b.tornado().unwrap();
    assert_eq!(central, vec![central_a[0].clone(), central_b[0].clone()]);
    let ids = |m: &Model, b: &[(usize, Outcome, Outcome)]| -> Vec<String> {
        b.iter().map(|(i, _, _)| m.scenarios.inputs[*i].id.clone()).collect()
    };
    assert_eq!(ids(&both, &bars[0]), ["patients", "care-cost", "admissions", "ccq", "prem"]);
    assert_eq!(ids(&both, &bars[1]), ["patients", "care-cost", "admissions", "ccq", "prem-b"]);
    assert_eq!(ids(&both, &bars[0]), ids(&only_a, &bars_a[0]));
    for (v, single) in [(0, &bars_a[0]), (1, &bars_b[0])] {
        for (x, y) in bars[v].iter().zip(single.iter()) {
            assert_eq!((&x.1, &x.2), (&y.1, &y.2));
        }
    }
}

/// A Monte Carlo of many variants evaluates (run, variant) pairs in bounded
/// chunks and gives the same statistics as one variant at a time would.
#[test]
fn many_variants_in_bounded_chunks_give_the_same_statistics() {
    let (both, _, _) = two_contracts_with_own_inputs();
    let mut seen = Vec::new();
    let stats = both.monte_carlo(300, 3, &|_| {}, &mut |r| seen.push((r.run, r.outcomes.to_vec()))).unwrap();
    assert_eq!(seen.iter().map(|(r, _)| *r).collect::<Vec<_>>(), (0..300).collect::<Vec<_>>());
    for (run, outs) in &seen {
        let p = both.draw(3, *run);
        for (v, o) in outs.iter().enumerate() {
            assert_eq!(o, &both.outcome(v, &p, Some(*run)).unwrap());
        }
    }
    assert_eq!(stats.len(), 2);
}

/// A book larger than the memory budget is simulated in blocks of
/// variants: every (run, variant) outcome is seen once, in run order within
/// its block, and every variant's statistics are those of a single pass (the
/// net results of the whole book are never held at once).
#[test]
fn a_book_in_blocks_gives_the_statistics_of_one_pass() {
    let (both, _, _) = two_contracts_with_own_inputs();
    let runs = 120;
    let go = |max_nets: usize| {
        let mut seen = Vec::new();
        let mut stats = Vec::new();
        both.monte_carlo_streamed(
            runs,
            9,
            max_nets,
            &|_| {},
            &mut |r| {
                for (b, o) in r.outcomes.iter().enumerate() {
                    seen.push((r.first_variant, r.run, r.first_variant + b, o.clone()));
                }
            },
            &mut |s| stats.push(s),
        )
        .unwrap();
        (stats, seen)
    };
    let (one_pass, mut all) = go(usize::MAX);
    assert_eq!(one_pass, both.monte_carlo(runs, 9, &|_| {}, &mut |_| {}).unwrap());
    // One variant's runs fit; two do not: two blocks of one variant each.
    // Two figures (cash and result) per run, period and party.
    let per_variant = 2 * runs as usize * both.periods(0) * both.variants[0].parties.len();
    assert_eq!(both.blocks(runs, per_variant), vec![0..1, 1..2]);
    assert_eq!(both.blocks(runs, 2 * per_variant), vec![0..2]);
    // Below one variant's runs, a block still holds one variant.
    assert_eq!(both.blocks(runs, 1), vec![0..1, 1..2]);
    let (blocked, seen) = go(per_variant);
    assert_eq!(blocked, one_pass);
    // Block by block, each in run order.
    let order: Vec<(usize, u64)> = seen.iter().map(|(f, r, _, _)| (*f, *r)).collect();
    let expected: Vec<(usize, u64)> = (0..2).flat_map(|f| (0..runs).map(move |r| (f, r))).collect();
    assert_eq!(order, expected);
    let mut seen: Vec<_> = seen.into_iter().map(|(_, r, v, o)| (r, v, o)).collect();
    seen.sort_by_key(|(r, v, _)| (*r, *v));
    let mut all: Vec<_> = all.drain(..).map(|(_, r, v, o)| (r, v, o)).collect();
    all.sort_by_key(|(r, v, _)| (*r, *v));
    assert!(seen == all, "every (run, variant) outcome once, as in one pass");
}

/// A pool hands out at most one runner per concurrent job: the plans of a
/// book are built about once per thread, however many jobs rayon splits a
/// sweep or a Monte Carlo into (before, every job built every variant's).
#[test]
fn a_pool_reuses_its_runners() {
    let (both, _, _) = two_contracts_with_own_inputs();
    let pool = Pool::new(&both);
    let p = both.draw(1, 0);
    let threads = 2;
    let rt = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    rt.install(|| {
        (0..2000usize).into_par_iter().with_max_len(1).for_each_init(
            || pool.lease(),
            |r, k| {
                r.settle(k % 2, &p, None).unwrap();
            },
        )
    });
    let free = pool.free.lock().unwrap();
    assert!(!free.is_empty() && free.len() <= threads, "{} runners for {threads} threads", free.len());
    assert!(free.iter().all(|r| r.plans.iter().all(|p| p.ready)));
}

/// Issue 15: the payer's economic result counts the savings it keeps and
/// an advance is a loan, not a result. The COPD insurer pays an advance of
/// 185,000, a grant and half of 8% savings in 2025: its cash is well below
/// 0, yet it keeps the other half of the savings, which more than pays for
/// the grant. With the advance due at the end of the term and no savings
/// in 2027, the hospital repays the advance in 2027: cash below 0, but no
/// loss.
#[test]
fn economic_result_keeps_savings_and_treats_advances_as_loans() {
    let text = std::fs::read_to_string(repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    assert!(text.contains("remaining_at_end = \"waived\""));
    let c =
        contract::parse_str("copd.toml", &text.replace("remaining_at_end = \"waived\"", "remaining_at_end = \"due\""))
            .expect("valid contract");
    let s = scenarios::parse(
        "test.toml",
        r#"
[inputs.patients]
value = 4823
[inputs.care-cost]
base = "shared_savings.benchmark"
change = -0.08
years = { 2027 = 0 }
[inputs.admissions]
value = 0.45
[inputs.ccq]
value = 2.1
[inputs.prem]
value = { dist = "uniform", min = 0.80, max = 0.82 }
"#,
    )
    .expect("valid scenarios");
    let m = Model::new(s, vec![Variant::new("v", c)]).expect("model");
    let parties = &m.variants[0].parties;
    let np = parties.len();
    let insurer = parties.iter().position(|p| p.id == "verzekeraar").unwrap();
    let hospital = parties.iter().position(|p| p.id == "ziekenhuis").unwrap();
    let st = m.settle(0, &m.central(), None).unwrap();
    let o = m.variants[0].outcome(&st);
    for (k, s) in st.iter().enumerate() {
        // The payer's result from the lines: its savings minus the result
        // payments it makes (advances and repayments left out).
        let gross = s.line("shared_savings.gross_savings").and_then(|l| l.amount).unwrap();
        let paid: Decimal = s
            .lines
            .iter()
            .filter(|l| l.transfer_kind() == Some(settlement::TransferKind::Result))
            .map(|l| l.net_to("verzekeraar"))
            .sum();
        assert_eq!(o.results[k * np + insurer], cents(gross + paid), "{}: savings kept minus payments", s.year);
        let cash = s.parties.iter().find(|p| p.party == "verzekeraar").unwrap().net;
        assert_eq!(o.nets[k * np + insurer], cents(cash), "{}: cash is the statement's net", s.year);
    }
    // 2025: the insurer pays out (advance, grant, share) but keeps half of the savings.
    assert!(o.nets[insurer] < -18_500_000, "cash 2025: {}", o.nets[insurer]);
    assert!(o.results[insurer] > 0, "result 2025: {}", o.results[insurer]);
    // 2027: the hospital repays the advance; cash out, no loss.
    let y2027 = 2 * np + hospital;
    assert!(o.nets[y2027] < 0, "the hospital repays in 2027: {}", o.nets[y2027]);
    assert_eq!(o.results[y2027], 0, "a repayment is not a loss");
    let stats = m.monte_carlo(20, 1, &|_| {}, &mut |_| {}).unwrap();
    let term = stats[0].periods.len() - 1;
    assert_eq!(stats[0].get(term, insurer).p_loss, 1.0, "the insurer pays on balance in every run");
    assert_eq!(stats[0].result(term, insurer).p_loss, 0.0, "but never makes a loss");
    assert_eq!(stats[0].get(2, hospital).p_loss, 1.0, "the hospital pays on balance in 2027");
    assert_eq!(stats[0].result(2, hospital).p_loss, 0.0, "but makes no loss");
    assert!(stats[0].result(term, hospital).mean > 0.0);
}

/// A payer's savings are split among several payers by the contract's
/// payer key, to the cent.
#[test]
fn savings_are_split_by_the_payer_key() {
    let p = |id: &str, role: Role| {
        let mut q = m_party();
        q.id = id.to_string();
        q.role = role;
        q
    };
    let parties = vec![p("a", Role::Provider), p("x", Role::Payer), p("y", Role::Payer)];
    let key = vec![(1, Decimal::from(2)), (2, Decimal::from(1))];
    let split = split_savings("100.00".parse().unwrap(), &key, Remainder::LargestRemainder, &parties);
    assert_eq!(split.to_vec(), vec![(1, 6_667), (2, 3_333)]);
    let split = split_savings("-100.00".parse().unwrap(), &key, Remainder::LargestRemainder, &parties);
    assert_eq!(split.to_vec(), vec![(1, -6_667), (2, -3_333)]);
}

fn m_party() -> Party {
    let c = contract::check_file(&repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    c.parties[0].clone()
}

/// The central scenario on a closed quality gate is reported as a cliff.
#[test]
fn a_central_scenario_below_the_gate_is_a_cliff() {
    let low = COPD_FIXED
        .replace("value = 2.3", "value = 3.5")
        .replace("value = 0.78", "value = 0.5")
        .replace("value = 0.55", "value = 0.9");
    let m = model("copd-telemonitoring-shared-savings.toml", &low);
    let cliffs = m.cliffs().unwrap();
    assert!(!cliffs.is_empty() && cliffs.iter().all(|c| !c.met && c.score < c.gate), "{cliffs:?}");
}

// ------------------------------------------------ words off: same numbers

/// Every example contract with its example scenarios, and the benchmark's
/// all-components contract with its scenarios.
fn models_with_words_and_without() -> Vec<(String, Model)> {
    let mut out = Vec::new();
    let mut pairs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for f in std::fs::read_dir(repo().join("examples/scenarios")).unwrap() {
        let sc = f.unwrap().path();
        let id = sc.file_stem().unwrap().to_string_lossy().to_string();
        let c = std::fs::read_dir(repo().join("contracts"))
            .unwrap()
            .map(|f| f.unwrap().path())
            .find(|p| std::fs::read_to_string(p).unwrap().contains(&format!("\nid = \"{id}\"")))
            .expect("a contract per example scenario");
        pairs.push((c, sc));
    }
    pairs.sort();
    assert_eq!(pairs.len(), 5, "five example contracts");
    let bench = repo().join("examples/bench");
    pairs.push((bench.join("all-components.toml"), bench.join("all-components-scenarios.toml")));
    for (c, sc) in pairs {
        let contract = contract::check_file(&c).expect("valid contract");
        let text = std::fs::read_to_string(&sc).unwrap();
        let s = scenarios::parse(&sc.display().to_string(), &text).expect("valid scenarios");
        out.push((c.display().to_string(), Model::new(s, vec![Variant::new("v", contract)]).expect("model")));
    }
    out
}

/// `s` with each line's label and formula cut to their message, and
/// without the lists a simulation never reads (payments, totals per
/// stream, figures used): what a statement settled with the words off must
/// be, and all it may differ in.
fn numbers_only(s: &Statement) -> Statement {
    let mut s = s.clone();
    for l in &mut s.lines {
        l.label = crate::domain::settlement::why::Phrase::new(l.label.msg);
        l.formula = crate::domain::settlement::why::Phrase::new(l.formula.msg);
    }
    s.payments.clear();
    s.totals_by_stream.clear();
    s.inputs.clear();
    s
}

/// The statements of one run with and without words: equal line for line
/// in everything but the terms of the words and the lists left out (ids,
/// amounts, values, parties, streams, cash and result per party, carried
/// state), or the same error. Returns the number of terms the words had.
fn same_numbers(name: &str, m: &Model, point: &[Decimal], run: u64) -> usize {
    let with = Runner::new(m, Detail::Words).settle(0, point, Some(run));
    let without = Runner::new(m, Detail::Numbers).settle(0, point, Some(run));
    match (with, without) {
        (Ok(with), Ok(without)) => {
            assert_eq!(with.len(), without.len(), "{name} run {run}");
            let mut terms = 0;
            for (a, b) in with.iter().zip(&without) {
                assert_eq!(numbers_only(a), *b, "{name} run {run} year {}", a.year);
                assert!(b.lines.iter().all(|l| l.label.term_count() == 0 && l.formula.term_count() == 0));
                terms += a.lines.iter().map(|l| l.label.term_count() + l.formula.term_count()).sum::<usize>();
            }
            // The words are back on once a settlement without them ends.
            assert!(crate::domain::settlement::why::words(), "words restored");
            terms
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "{name} run {run}");
            0
        }
        (a, b) => panic!("{name} run {run}: with words {:?}, without {:?}", a.err(), b.err()),
    }
}

#[test]
fn statements_without_words_have_the_numbers_of_statements_with_them() {
    let mut terms = 0;
    for (name, m) in models_with_words_and_without() {
        terms += same_numbers(&name, &m, &m.central(), 0);
        for run in 0..40 {
            terms += same_numbers(&name, &m, &m.draw(7, run), run);
        }
    }
    assert!(terms > 1000, "the statements with words have their terms ({terms})");
}

/// A template's figures read through its table give what they give read
/// from its maps: every figure, a text of another address with the same
/// content, a figure of no year the template holds, and every base amount
/// (the same amount or the same error) after runs that set the values.
#[test]
fn a_template_table_reads_what_its_maps_hold() {
    let lines = ["shared_savings.benchmark", "bundled.target_total", "capitation.budget", "savings.net", ""];
    let mut reads = 0;
    for (name, m) in models_with_words_and_without() {
        let mut r = Runner::new(&m, Detail::Numbers);
        let c = &m.variants[0].contract;
        for run in 0..8 {
            let point = if run == 0 { m.central() } else { m.draw(11, run) };
            let _ = r.settle(0, &point, Some(run));
            for t in &r.plans[0].templates {
                let this = t.figures.keys().map(|k| (k.to_string(), t.year));
                let other = t.other_years.iter().flat_map(|(y, f)| f.keys().map(move |k| (k.to_string(), *y)));
                for (k, y) in this.chain(other).chain([("none".to_string(), t.year), ("none".to_string(), 1999)]) {
                    // The same text at another address; the same text in the next year.
                    let copy = k.clone();
                    for (text, y2) in [(&k, y), (&copy, y), (&k, y.wrapping_add(1))] {
                        let mapped = if y2 == t.year {
                            t.figures.get(text.as_str())
                        } else {
                            t.other_years.get(&y2).and_then(|f| f.get(text.as_str()))
                        };
                        assert_eq!(t.table().get(text, y2), mapped.map(|f| f.value), "{name} {text} {y2}");
                        reads += 1;
                    }
                }
                for line in lines {
                    let by_table = settlement::template_base_amount(c, t, line);
                    let by_maps = settlement::base_amount(c, t.inputs(), line);
                    assert_eq!(format!("{by_table:?}"), format!("{by_maps:?}"), "{name} {line} {}", t.year);
                }
            }
        }
    }
    assert!(reads > 1000, "{reads}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..proptest::prelude::ProptestConfig::default() })]

    /// Any seed and run of the examples' scenarios: the same numbers with
    /// the words off.
    #[test]
    fn any_draw_has_the_same_numbers_without_words(seed in proptest::prelude::any::<u64>(), run in 0u64..1_000_000) {
        for (name, m) in models_with_words_and_without() {
            same_numbers(&name, &m, &m.draw(seed, run), run);
        }
    }
}

/// The component of a line id as `outcome_with_savings` found it before
/// [`component_of`] (kept as the oracle): the id up to its first dot,
/// looked up among the names.
/// Settles every variant of `m` at `point` twice with the words off: in one
/// pass ([`Runner::settle_one_pass`], the line-based inputs computed as the
/// engine reaches their lines) and the other way (their lines computed
/// first, by `settlement::base_amount`). The same statements, or the same
/// error. Returns how many years of variants that allow one pass settled.
fn same_in_one_pass(name: &str, m: &Model, point: &[Decimal], run: u64) -> usize {
    let mut years = 0;
    for v in 0..m.variants.len() {
        let mut one = Runner::new(m, Detail::Numbers);
        let by_one = one.settle(v, point, Some(run));
        let mut two = Runner::new(m, Detail::Numbers);
        two.ensure(v);
        two.plans[v].one_pass = false;
        let by_two = two.settle(v, point, Some(run));
        assert!(!two.plans[v].one_pass, "{name}: still the other way");
        match (by_one, by_two) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{name} run {run}");
                if one.plans[v].one_pass {
                    years += a.len();
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name} run {run}"),
            (a, b) => panic!("{name} run {run}: in one pass {:?}, the other way {:?}", a.err(), b.err()),
        }
    }
    years
}

/// The slots of the point that hold the change of a line-based input.
fn line_slots(m: &Model) -> Vec<usize> {
    let ny = m.years.len();
    let lines = m.scenarios.inputs.iter().enumerate().filter(|(_, i)| matches!(i.base, Base::Line(_)));
    lines.flat_map(|(i, _)| (0..ny).map(move |j| i * ny + j)).collect()
}

#[test]
fn a_year_settled_in_one_pass_is_the_year_settled_with_its_bases_first() {
    let mut years = 0;
    for (name, m) in models_with_words_and_without() {
        years += same_in_one_pass(&name, &m, &m.central(), 0);
        for run in 0..40 {
            years += same_in_one_pass(&name, &m, &m.draw(11, run), run);
        }
    }
    // The bench contract and the example contracts with line-based inputs
    // settle in one pass: every year of every run above.
    assert!(years >= 3 * 41 * 5, "one pass taken ({years} years)");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..proptest::prelude::ProptestConfig::default() })]

    /// Any draw, with the change of a line-based input set to a value that
    /// is out of range, at a bound or beyond the limit of a figure: the same
    /// statements or the same error in one pass as the other way.
    #[test]
    fn any_change_settles_the_same_in_one_pass(
        seed in proptest::prelude::any::<u64>(),
        run in 0u64..1_000_000,
        pick in proptest::prelude::any::<proptest::sample::Index>(),
        odd in proptest::prelude::prop_oneof![
            proptest::prelude::Just(Decimal::new(-15, 1)),
            proptest::prelude::Just(Decimal::NEGATIVE_ONE),
            proptest::prelude::Just(Decimal::new(-4, 1)),
            proptest::prelude::Just(Decimal::new(4, 1)),
            proptest::prelude::Just(Decimal::new(1, 12)),
            proptest::prelude::Just(Decimal::from(1_000_000_000_000_i64)),
            proptest::prelude::Just(Decimal::MAX),
            proptest::prelude::Just(Decimal::MIN),
            (-10_000i64..10_000).prop_map(|x| Decimal::new(x, 4)),
        ],
    ) {
        for (name, m) in models_with_words_and_without() {
            let mut point = m.draw(seed, run);
            let slots = line_slots(&m);
            if !slots.is_empty() {
                point[slots[pick.index(slots.len())]] = odd;
            }
            same_in_one_pass(&name, &m, &point, run);
        }
    }
}

#[test]
fn an_input_read_before_its_line_settles_the_other_way() {
    // The visits the volume component reads (before the population budget
    // is computed) measured against the budget: the first year finds it and
    // the variant settles the other way from then on, with the same numbers.
    let bench = repo().join("examples/bench");
    let c = contract::check_file(&bench.join("all-components.toml")).expect("valid contract");
    let text = std::fs::read_to_string(bench.join("all-components-scenarios.toml")).unwrap();
    let early = "[inputs.foot-visits]\nbase = \"capitation.budget\"\nchange = { dist = \"normal\", mean = -0.9999, sd = 0.00001, min = -0.99999, max = -0.999 }";
    let text =
        text.replace("[inputs.foot-visits]\nvalue = { dist = \"normal\", mean = 1800, sd = 150, min = 0 }", early);
    assert!(text.contains(early), "the scenarios changed");
    let s = scenarios::parse("early.toml", &text).expect("valid scenarios");
    let m = Model::new(s, vec![Variant::new("v", c)]).expect("model");
    let mut r = Runner::new(&m, Detail::Numbers);
    r.ensure(0);
    assert!(r.plans[0].one_pass, "every line is one the engine computes first");
    for run in 0..5 {
        assert_eq!(same_in_one_pass("early", &m, &m.draw(3, run), run), 0, "never in one pass");
    }
    r.settle(0, &m.draw(3, 0), Some(0)).expect("settles");
    assert!(!r.plans[0].one_pass, "found on the first run");
}

fn component_by_scan(id: &str) -> Option<usize> {
    let dot = id.as_bytes().iter().position(|&b| b == b'.').unwrap_or(id.len());
    let prefix = id.get(..dot).unwrap_or(id);
    COMPONENTS.iter().position(|x| *x == prefix)
}

/// Ids made of the components' names, the savings lines, dots and a few
/// other pieces, so that near misses (a name without its dot, a longer
/// name, an empty id) are common.
fn line_id() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let piece = prop_oneof![
        proptest::sample::select(COMPONENTS.to_vec()).prop_map(str::to_string),
        proptest::sample::select(SAVINGS_LINES.to_vec()).prop_map(str::to_string),
        Just(".".to_string()),
        "[a-z_.]{0,4}",
        "\\PC{0,3}",
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|p| p.concat())
}

/// Every engine line id of the example contracts' statements.
#[test]
fn component_of_is_the_scan_on_every_engine_line() {
    let mut ids = 0;
    for (_, m) in models_with_words_and_without() {
        for v in 0..m.variants.len() {
            for st in m.settle(v, &m.central(), None).expect("settles") {
                for l in &st.lines {
                    let id: &str = &l.id;
                    assert_eq!(component_of(id), component_by_scan(id), "{id}");
                    ids += 1;
                }
            }
        }
    }
    assert!(ids > 100, "{ids} lines");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..proptest::prelude::ProptestConfig::default() })]

    /// `component_of` gives what the scan gave, for any id.
    #[test]
    fn component_of_is_the_scan(id in line_id()) {
        proptest::prop_assert_eq!(component_of(&id), component_by_scan(&id));
    }

    /// `savings_index` gives what a scan of the savings lines gave, for any
    /// id and any choice of savings lines (long ones included).
    #[test]
    fn savings_index_is_the_scan(
        id in line_id(),
        pick in proptest::collection::vec(0usize..5, 0..4),
    ) {
        const LONG: &str = "a_savings_line_id_of_sixty_four_bytes_or_more_compares_every_line";
        let names: Vec<&'static str> =
            pick.iter().map(|&k| SAVINGS_LINES.get(k).copied().unwrap_or(if k == 3 { LONG } else { "" })).collect();
        let savings: Vec<(&'static str, Vec<(usize, Decimal)>)> = names.iter().map(|n| (*n, Vec::new())).collect();
        let lengths = savings_lengths(&savings);
        let by_scan = savings.iter().position(|(line, _)| id == *line);
        proptest::prop_assert_eq!(savings_index(&savings, lengths, &id), by_scan);
        // The long id itself is found.
        if let Some(k) = savings.iter().position(|(line, _)| *line == LONG) {
            proptest::prop_assert_eq!(savings_index(&savings, lengths, LONG), Some(k));
        }
    }
}

/// [`stats_of`] as it was, sorting every value: the oracle of
/// `stats_by_selection_are_the_sorted_stats`.
fn sorted_stats_of(xs: &mut [i64], components: [f64; 7]) -> Stats {
    xs.sort_unstable();
    let f: Vec<f64> = xs.iter().map(|c| *c as f64 / 100.0).collect();
    let n = f.len() as f64;
    let total: i128 = xs.iter().map(|x| i128::from(*x)).sum();
    Stats {
        mean: total as f64 / 100.0 / n,
        p5: dist::percentile(&f, 0.05),
        p25: dist::percentile(&f, 0.25),
        p50: dist::percentile(&f, 0.50),
        p75: dist::percentile(&f, 0.75),
        p95: dist::percentile(&f, 0.95),
        p_loss: xs.iter().filter(|x| **x < 0).count() as f64 / n,
        worst: f.first().copied().unwrap_or(0.0),
        best: f.last().copied().unwrap_or(0.0),
        components,
    }
}

/// The figures of a [`Stats`] as bits (NaN included), to compare exactly.
fn stats_bits(s: &Stats) -> Vec<u64> {
    let mut v = vec![s.mean, s.p5, s.p25, s.p50, s.p75, s.p95, s.p_loss, s.worst, s.best];
    v.extend(s.components);
    v.into_iter().map(f64::to_bits).collect()
}

use proptest::prelude::Strategy as _;

proptest::proptest! {
    /// The statistics from the selected order statistics are those of the
    /// sorted list, bit for bit: any length (0, 1, 2 and many), repeated
    /// values, either sign, extreme cents.
    #[test]
    fn stats_by_selection_are_the_sorted_stats(
        xs in proptest::collection::vec(
            proptest::prop_oneof![
                -5i64..5,
                -1_000_000_000i64..1_000_000_000,
                proptest::prelude::any::<i64>().prop_map(|x| x / 4),
            ],
            0..300,
        ),
    ) {
        let components = [1.5, -2.0, 0.0, 3.25, 0.0, 0.0, 7.0];
        let mut a = xs.clone();
        let mut b = xs;
        proptest::prop_assert_eq!(stats_bits(&stats_of(&mut a, components)), stats_bits(&sorted_stats_of(&mut b, components)));
    }
}
