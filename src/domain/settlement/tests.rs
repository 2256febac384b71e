//! Settlement tests: the published examples, hand-computed cases per
//! component and edge, the example contracts over their whole term, and
//! property tests of the invariants.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::contract::{parse_str, Contract, Corridor, QualityScaling, SharingBase};

// ---------------------------------------------------------------- helpers

fn toml(first: u16, last: u16, body: &str) -> String {
    let term = if first == last { "one_year" } else { "multi_year" };
    format!(
        r#"format = 1
id = "test"
title = "Test"
currency = "EUR"
rounding = "half_up"
[term]
first_year = {first}
last_year = {last}
[knobs]
scope = "ehealth_only"
financing_base = "price_volume"
financing_goal = "result"
contract_form = "single"
term = "{term}"
chain_partners = "none"
provider_reward = "individual"
condition_scope = "all_patients"
risk_allocation = {{ implementation = "payer", cost_overrun = "provider", volume = "shared" }}
[[parties]]
id = "zh"
name = "Hospital"
role = "provider"
key = "QYR3-JXLY-NXZS-O44K"
signatory = true
[[parties]]
id = "zv"
name = "Insurer"
role = "payer"
key = "W2LZ-KL4K-SE23-5TKU"
signatory = true
{body}"#
    )
}

/// A shared-savings contract: baseline `cost` per `unit`, size indicator
/// `size` of `size_unit`, actual cost `cost`, optional quality indicator `q`
/// (fraction, threshold 0, target 1: score = value), then `ss` keys and `extra`.
fn ss_contract(first: u16, last: u16, unit: &str, cost: &str, size_unit: &str, ss: &str, extra: &str) -> Contract {
    parse(&ss_text(first, last, unit, cost, size_unit, ss, extra))
}

/// The TOML of [`ss_contract`], for tests that edit it before parsing.
fn ss_text(first: u16, last: u16, unit: &str, cost: &str, size_unit: &str, ss: &str, extra: &str) -> String {
    let body = format!(
        r#"[population]
description = "p"
attribution = "enrolment"
size_indicator = "size"
[baseline]
base_year = 2024
unit = "{unit}"
cost = {cost}
source = "s"
trend = {{ method = "fixed_rate", rate = 0 }}
[[indicators]]
id = "size"
name = "Size"
unit = "{size_unit}"
direction = "neutral"
source = "zh"
[[indicators]]
id = "cost"
name = "Cost"
unit = "eur"
direction = "lower_is_better"
source = "zv"
[[indicators]]
id = "q"
name = "Quality"
unit = "fraction"
direction = "higher_is_better"
source = "zh"
quality = {{ threshold = 0, target = 1, weight = 1 }}
[payments.shared_savings]
funding = "zvw"
actual_cost_indicator = "cost"
{ss}
{extra}"#
    );
    toml(first, last, &body)
}

fn parse(text: &str) -> Contract {
    match parse_str("test.toml", text) {
        Ok(c) => c,
        Err(d) => panic!(
            "test contract does not validate:\n{}",
            d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
        ),
    }
}

const ONE_SIDED: &str = r#"sided = "one_sided"
corridor = { method = "fixed", min_savings_rate = 0.02 }
sharing_base = "first_euro"
provider_share = 0.5"#;

fn inputs(year: u16, figs: &[(&str, Decimal)]) -> Inputs {
    figs.iter().fold(Inputs::new(year), |i, (k, v)| i.with(k, *v))
}

fn amount(s: &Statement, id: &str) -> Decimal {
    s.line(id).and_then(|l| l.amount).unwrap_or_else(|| panic!("no money line {id} in\n{}", s.to_json()))
}

/// A money line, or 0 when the statement has no such line (e.g. no payout in a year without savings).
fn amount_or_zero(s: &Statement, id: &str) -> Decimal {
    s.line(id).and_then(|l| l.amount).unwrap_or_default()
}

fn value(s: &Statement, id: &str) -> Decimal {
    s.line(id).and_then(|l| l.value).unwrap_or_else(|| panic!("no value line {id} in\n{}", s.to_json()))
}

/// Sum of the transfer lines whose id starts with `prefix`, payer to
/// provider positive (a transfer from a provider counts negative).
fn transfers(s: &Statement, prefix: &str) -> Decimal {
    s.lines
        .iter()
        .filter(|l| l.is_transfer() && l.id.starts_with(prefix))
        .filter_map(|l| l.payer_provider())
        .map(|t| t.2)
        .sum()
}

/// The transfer `id` as (from, to, amount).
fn transfer(s: &Statement, id: &str) -> (String, String, Decimal) {
    let l = s.line(id).filter(|l| l.is_transfer()).unwrap_or_else(|| panic!("no transfer {id} in\n{}", s.to_json()));
    (l.from.as_deref().unwrap().to_string(), l.to.as_deref().unwrap().to_string(), l.amount.unwrap())
}

fn settle1(c: &Contract, i: &Inputs) -> Statement {
    settle_year(c, i, &Carry::initial(c)).unwrap_or_else(|e| panic!("settle {}: {e}", i.year))
}

/// Invariants every statement must satisfy.
fn assert_balanced(s: &Statement) {
    let mut by_stream: BTreeMap<String, Decimal> = BTreeMap::new();
    for l in &s.lines {
        if let Some(a) = l.amount {
            assert_eq!(a.scale(), 2, "line {} not in cents: {a}", l.id);
        }
        if l.is_transfer() {
            assert!(l.from.is_some() && l.to.is_some(), "transfer {} lacks parties", l.id);
            assert!(!l.amount.unwrap().is_sign_negative(), "transfer {} has a negative amount", l.id);
            *by_stream.entry(l.funding.map(|f| f.to_string()).unwrap_or_default()).or_default() +=
                l.payer_provider().unwrap().2;
        }
    }
    let net: BTreeMap<String, Decimal> =
        s.totals_by_stream.iter().map(|(k, t)| (k.to_string(), t.net_to_providers)).collect();
    assert_eq!(by_stream, net, "totals are the sums of the transfer lines");
    for t in s.totals_by_stream.values() {
        assert_eq!(t.net_to_providers, t.payers_to_providers - t.providers_to_payers);
    }
    let result: Decimal = s.parties.iter().map(|p| p.result).sum();
    assert_eq!(result, Decimal::ZERO, "what one party earns another bears");
    let net: Decimal = s.parties.iter().map(|p| p.net).sum();
    assert_eq!(net, Decimal::ZERO, "what one party receives another pays");
    for p in &s.parties {
        assert_eq!(p.net, p.received - p.paid);
    }
    let ids: std::collections::BTreeSet<&str> = s.lines.iter().map(|l| &*l.id).collect();
    assert_eq!(ids.len(), s.lines.len(), "line ids are unique");
}

// ------------------------------------------------- the published examples

fn example_one(min_savings_rate: &str) -> Statement {
    let ss = format!(
        r#"sided = "one_sided"
corridor = {{ method = "fixed", min_savings_rate = {min_savings_rate} }}
sharing_base = "first_euro"
provider_share = 0.5"#
    );
    let c = ss_contract(2025, 2025, "per_member_month", "500.00", "member_months", &ss, "");
    // Actual 495.50 per member-month x 125,000 member-months.
    settle1(&c, &inputs(2025, &[("size", dec!(125000)), ("cost", dec!(61937500.00)), ("q", dec!(1))]))
}

#[test]
fn published_example_inside_the_corridor_pays_nothing() {
    let s = example_one("0.01");
    assert_eq!(amount(&s, "shared_savings.benchmark"), dec!(62500000.00));
    assert_eq!(amount(&s, "shared_savings.gross_savings"), dec!(562500.00));
    assert_eq!(value(&s, "shared_savings.savings_rate"), dec!(0.009));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(0.00));
    assert_eq!(transfers(&s, "shared_savings."), dec!(0));
    assert_balanced(&s);
}

#[test]
fn published_example_without_the_corridor_pays_281250() {
    let s = example_one("0");
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(281250.00));
    assert_eq!(transfers(&s, "shared_savings.payout."), dec!(281250.00));
    assert_eq!(s.totals_by_stream["zvw"].net_to_providers, dec!(281250.00));
    assert_eq!(
        s.payments,
        vec![Payment { from: "zv".into(), to: "zh".into(), funding: Funding::Zvw, amount: dec!(281250.00) }]
    );
    assert_balanced(&s);
}

#[test]
fn published_example_quality_scaled_share() {
    let ss = r#"sided = "one_sided"
corridor = { method = "fixed", min_savings_rate = 0.02 }
sharing_base = "first_euro"
provider_share = 0.75
quality_scaling = "proportional""#;
    let c = ss_contract(2025, 2025, "per_member_year", "10000.00", "members", ss, "");
    let s = settle1(&c, &inputs(2025, &[("size", dec!(1000)), ("cost", dec!(9500000)), ("q", dec!(0.9))]));
    assert_eq!(amount(&s, "shared_savings.benchmark"), dec!(10000000.00));
    assert_eq!(amount(&s, "shared_savings.gross_savings"), dec!(500000.00));
    assert_eq!(value(&s, "shared_savings.quality_score"), dec!(0.9));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(337500.00));
    assert_eq!(amount(&s, "shared_savings.payer_keeps"), dec!(162500.00));
    assert_eq!(
        s.line("shared_savings.benchmark").unwrap().formula.english(false),
        "Benchmark = 10,000.00 per member-year x 1.0000 trend x 1,000 members = 10,000,000.00"
    );
    assert_eq!(
        s.line("shared_savings.provider_rate").unwrap().formula.english(false),
        "Provider rate = 75.00% x 0.9000 quality = 67.50%"
    );
    assert_balanced(&s);
}

// ------------------------------------------------------- shared savings

fn one_sided(ss: &str, cost: Decimal, q: Decimal) -> Statement {
    let c = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ss, "");
    settle1(&c, &inputs(2025, &[("size", dec!(1000)), ("cost", cost), ("q", q)]))
}

#[test]
fn exactly_at_the_corridor_shares_and_just_inside_does_not() {
    // Benchmark 1,000,000; corridor 2% = 20,000.
    let at = one_sided(ONE_SIDED, dec!(980000), dec!(1));
    assert_eq!(amount(&at, "shared_savings.corridor"), dec!(20000.00));
    assert_eq!(amount(&at, "shared_savings.provider_payout"), dec!(10000.00));
    let inside = one_sided(ONE_SIDED, dec!(980000.01), dec!(1));
    assert_eq!(amount(&inside, "shared_savings.provider_payout"), dec!(0.00));
    assert_eq!(amount(&inside, "shared_savings.payer_keeps"), dec!(19999.99));
}

#[test]
fn above_corridor_shares_only_the_excess() {
    let ss = ONE_SIDED.replace("first_euro", "above_corridor");
    let s = one_sided(&ss, dec!(900000), dec!(1));
    // (100,000 - 20,000) x 50% = 40,000.
    assert_eq!(amount(&s, "shared_savings.shared_base"), dec!(80000.00));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(40000.00));
    assert_eq!(amount(&s, "shared_savings.payer_keeps"), dec!(60000.00));
}

#[test]
fn quality_gate_below_pays_nothing_at_the_gate_pays() {
    let ss = format!("{ONE_SIDED}\nmin_quality_score = 0.5");
    let below = one_sided(&ss, dec!(900000), dec!(0.49));
    assert_eq!(amount(&below, "shared_savings.provider_payout"), dec!(0.00));
    assert!(below.line("shared_savings.quality_gate").is_some());
    let at = one_sided(&ss, dec!(900000), dec!(0.5));
    assert_eq!(amount(&at, "shared_savings.provider_payout"), dec!(50000.00));
}

#[test]
fn withhold_comes_before_the_cap() {
    let ss = format!("{ONE_SIDED}\nwithhold = 0.02\nsavings_cap = 0.10");
    // 100,000 savings: 50,000 - 2% = 49,000, cap 100,000 not reached.
    let s = one_sided(&ss, dec!(900000), dec!(1));
    assert_eq!(amount(&s, "shared_savings.withhold"), dec!(1000.00));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(49000.00));
    // 300,000 savings: 150,000 - 3,000 = 147,000, capped at 100,000.
    let s = one_sided(&ss, dec!(700000), dec!(1));
    assert_eq!(amount(&s, "shared_savings.after_withhold"), dec!(147000.00));
    assert_eq!(amount(&s, "shared_savings.savings_cap"), dec!(100000.00));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(100000.00));
    assert_eq!(amount(&s, "shared_savings.payer_keeps"), dec!(200000.00));
}

const TWO_SIDED: &str = r#"sided = "two_sided"
corridor = { method = "fixed", min_savings_rate = 0.02, min_loss_rate = 0.02 }
sharing_base = "first_euro"
provider_share = 0.5
loss_share = { method = "fixed", rate = 0.5 }
loss_cap = 0.05"#;

#[test]
fn loss_cap_binds() {
    // Loss 200,000: 50% = 100,000, capped at 5% x 1,000,000 = 50,000.
    let s = one_sided(TWO_SIDED, dec!(1200000), dec!(1));
    assert_eq!(amount(&s, "shared_savings.provider_loss_share"), dec!(100000.00));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(50000.00));
    assert_eq!(amount(&s, "shared_savings.payer_bears"), dec!(150000.00));
    assert_eq!(transfers(&s, "shared_savings.loss_payment."), dec!(-50000.00));
    assert_eq!(
        s.payments,
        vec![Payment { from: "zh".into(), to: "zv".into(), funding: Funding::Zvw, amount: dec!(50000.00) }]
    );
    assert_balanced(&s);
}

#[test]
fn loss_rate_scaled_by_quality_and_clamped() {
    let ss = TWO_SIDED.replace(
        r#"loss_share = { method = "fixed", rate = 0.5 }"#,
        r#"loss_share = { method = "quality_scaled", intercept = 1, slope = 0.75, min = 0.4, max = 0.75 }"#,
    );
    // Loss 30,000 (past the 20,000 corridor), quality 0.4: 1 - 0.3 = 70%.
    let s = one_sided(&ss, dec!(1030000), dec!(0.4));
    assert_eq!(value(&s, "shared_savings.loss_rate"), dec!(0.7));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(21000.00));
    // Quality 1: 1 - 0.75 = 25%, clamped up to 40%.
    let s = one_sided(&ss, dec!(1030000), dec!(1));
    assert_eq!(value(&s, "shared_savings.loss_rate"), dec!(0.4));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(12000.00));
    // Inside the loss corridor: nothing.
    let s = one_sided(&ss, dec!(1019999.99), dec!(1));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(0.00));
}

#[test]
fn losses_carried_forward_are_netted_against_later_savings() {
    let ss = format!("{ONE_SIDED}\ncarry_forward_losses = true");
    let c = ss_contract(2025, 2027, "per_member_year", "1000.00", "members", &ss, "");
    let year = |y: u16, cost: Decimal| inputs(y, &[("size", dec!(1000)), ("cost", cost), ("q", dec!(1))]);
    let s = settle_term(&c, &[year(2025, dec!(1100000)), year(2026, dec!(940000)), year(2027, dec!(850000))]).unwrap();
    // 2025: loss 100,000 carried.
    assert_eq!(s[0].carry_out.losses_carried, dec!(100000.00));
    // 2026: savings 60,000 all absorbed; 40,000 still carried; nothing shared.
    assert_eq!(amount(&s[1], "shared_savings.losses_netted"), dec!(60000.00));
    assert_eq!(amount_or_zero(&s[1], "shared_savings.provider_payout"), dec!(0));
    assert_eq!(s[1].carry_out.losses_carried, dec!(40000.00));
    // 2027: savings 150,000 - 40,000 = 110,000 net, past the 20,000 corridor: 55,000.
    assert_eq!(amount(&s[2], "shared_savings.net_savings"), dec!(110000.00));
    assert_eq!(amount(&s[2], "shared_savings.provider_payout"), dec!(55000.00));
    assert_eq!(amount(&s[2], "shared_savings.payer_keeps"), dec!(95000.00));
    assert_eq!(s[2].carry_out.losses_carried, dec!(0.00));
}

#[test]
fn a_loss_the_provider_shared_in_is_not_carried() {
    let ss = format!("{TWO_SIDED}\ncarry_forward_losses = true");
    let c = ss_contract(2025, 2026, "per_member_year", "1000.00", "members", &ss, "");
    let shared = settle1(&c, &inputs(2025, &[("size", dec!(1000)), ("cost", dec!(1100000)), ("q", dec!(1))]));
    assert_eq!(shared.carry_out.losses_carried, dec!(0.00));
    let inside = settle1(&c, &inputs(2025, &[("size", dec!(1000)), ("cost", dec!(1010000)), ("q", dec!(1))]));
    assert_eq!(inside.carry_out.losses_carried, dec!(10000.00));
}

#[test]
fn corridor_table_interpolates_linearly_and_clamps() {
    let ss = r#"sided = "one_sided"
corridor = { method = "population_table", rows = [
    { population = 5000, min_savings_rate = 0.039 },
    { population = 60000, min_savings_rate = 0.02 },
] }
sharing_base = "first_euro"
provider_share = 0.5"#;
    let c = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ss, "");
    let rate = |members: Decimal| {
        let s = settle1(&c, &inputs(2025, &[("size", members), ("cost", dec!(0)), ("q", dec!(1))]));
        value(&s, "shared_savings.corridor_rate")
    };
    assert_eq!(rate(dec!(1000)), dec!(0.039));
    assert_eq!(rate(dec!(5000)), dec!(0.039));
    // 3.9% + (2.0% - 3.9%) x 27,500 / 55,000 = 2.95%.
    assert_eq!(rate(dec!(32500)), dec!(0.0295));
    // 3.9% - 1.9% x 10,000 / 55,000 = 3.554545..% -> 0.035545 (6 decimals, half up).
    assert_eq!(rate(dec!(15000)), dec!(0.035545));
    assert_eq!(rate(dec!(60000)), dec!(0.02));
    assert_eq!(rate(dec!(90000)), dec!(0.02));
}

#[test]
fn trend_compounds_per_year_and_rounds_to_six_decimals() {
    let body = r#"sided = "one_sided"
corridor = { method = "fixed", min_savings_rate = 0 }
sharing_base = "first_euro"
provider_share = 0.5"#;
    let mut c = ss_contract(2025, 2027, "per_member_year", "6240.00", "members", body, "");
    c.baseline.as_mut().unwrap().trend = Some(Trend::FixedRate { rate: dec!(0.028) });
    let fig = |y| inputs(y, &[("size", dec!(420)), ("cost", dec!(2500000)), ("q", dec!(1))]);
    let s = settle_term(&c, &[fig(2025), fig(2026), fig(2027)]).unwrap();
    assert_eq!(value(&s[0], "shared_savings.trend_factor"), dec!(1.028));
    // 6,240 x 1.028 x 420 = 2,694,182.40
    assert_eq!(amount(&s[0], "shared_savings.benchmark"), dec!(2694182.40));
    // 1.028^3 = 1.086373952 -> 1.086374; x 6,240 x 420 = 2,847,168.98 (2,847,168.9792).
    assert_eq!(value(&s[2], "shared_savings.trend_factor"), dec!(1.086374));
    assert_eq!(amount(&s[2], "shared_savings.benchmark"), dec!(2847168.98));
}

#[test]
fn trend_per_year_rates_and_measured_rates() {
    let mut c = ss_contract(2025, 2026, "per_member_year", "8450.00", "members", ONE_SIDED, "");
    let rates: BTreeMap<u16, Decimal> = [(2025, dec!(0.03)), (2026, dec!(0.02))].into_iter().collect();
    c.baseline.as_mut().unwrap().trend = Some(Trend::RatesPerYear { rates });
    let fig = |y| inputs(y, &[("size", dec!(2000)), ("cost", dec!(17000000)), ("q", dec!(1))]);
    let s = settle_term(&c, &[fig(2025), fig(2026)]).unwrap();
    assert_eq!(
        s[0].line("shared_savings.benchmark").unwrap().formula.english(false),
        "Benchmark = 8,450.00 per member-year x 1.0300 trend x 2,000 members = 17,407,000.00"
    );
    // 1.03 x 1.02 = 1.0506; 8,450 x 1.0506 x 2,000 = 17,755,140.00.
    assert_eq!(value(&s[1], "shared_savings.trend_factor"), dec!(1.0506));
    assert_eq!(amount(&s[1], "shared_savings.benchmark"), dec!(17755140.00));

    c.baseline.as_mut().unwrap().trend = Some(Trend::MeasuredRate { indicator: "q".into() });
    let needed = required_indicators(&c, 2026);
    assert!(needed.contains(&FigureRef { indicator: "q".into(), year: 2025 }));
    let i = fig(2026).with_other_year(2025, "q", dec!(0.03));
    let e = settle_year(&c, &fig(2026), &s[0].carry_out).unwrap_err();
    assert_eq!(e.to_string(), "missing figures: q (2025)");
    // (1 + 3%) x (1 + 100%) with this year's q = 1: 2.06.
    let s2 = settle_year(&c, &i, &s[0].carry_out).unwrap();
    assert_eq!(value(&s2, "shared_savings.trend_factor"), dec!(2.06));
}

#[test]
fn zero_members_and_zero_index_are_clear_errors() {
    let c = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "");
    let e =
        settle_year(&c, &inputs(2025, &[("size", dec!(0)), ("cost", dec!(0)), ("q", dec!(1))]), &Carry::initial(&c))
            .unwrap_err();
    assert!(e.to_string().contains("benchmark is not above 0"), "{e}");
    let mut c = c;
    c.baseline.as_mut().unwrap().trend = Some(Trend::MeasuredIndex { indicator: "size".into() });
    let i =
        inputs(2025, &[("size", dec!(10)), ("cost", dec!(0)), ("q", dec!(1))]).with_other_year(2024, "size", dec!(0));
    let e = settle_year(&c, &i, &Carry::initial(&c)).unwrap_err();
    assert!(
        matches!(&e, SettleError::Arithmetic { figure, problem: "division by zero" } if figure.contains("trend factor")),
        "{e}"
    );
}

#[test]
fn huge_figures_are_errors_not_panics() {
    let c = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "");
    let i = inputs(2025, &[("size", Decimal::MAX), ("cost", dec!(0)), ("q", dec!(1))]);
    let e = settle_year(&c, &i, &Carry::initial(&c)).unwrap_err();
    assert!(matches!(e, SettleError::InvalidFigure { .. }), "{e}");
    // At the limit the arithmetic still fits and every line is exact in cents.
    let big = Decimal::from(MAX_FIGURE);
    let s = settle1(&c, &inputs(2025, &[("size", big), ("cost", big), ("q", -big)]));
    assert_eq!(amount(&s, "shared_savings.benchmark"), dec!(1000000000000000000.00));
    assert_balanced(&s);
}

proptest! {
    /// The limit read from the mantissa and scale is the Decimal comparison.
    #[test]
    fn the_figure_limit_is_the_decimal_comparison(m in any::<i128>(), scale in 0u32..=28, near in any::<bool>()) {
        // Half the cases near the limit (10^15 at every scale, give or take).
        let m = if near {
            let p = 10i128.pow(15 + scale.min(13));
            p + m % 3
        } else {
            m % (1i128 << 96)
        };
        let scale = if near { scale.min(13) } else { scale };
        let v = Decimal::from_i128_with_scale(m, scale);
        prop_assert_eq!(beyond_max_figure(v), v.abs() > Decimal::from(MAX_FIGURE), "{}", v);
    }
}

#[test]
fn missing_figures_are_listed_each() {
    let c = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "");
    let e = settle_year(&c, &inputs(2025, &[("size", dec!(10))]), &Carry::initial(&c)).unwrap_err();
    assert_eq!(e.to_string(), "missing figures: cost (2025), q (2025)");
    let req = required_indicators(&c, 2025);
    assert_eq!(req.iter().map(|r| r.indicator.as_str()).collect::<Vec<_>>(), vec!["cost", "q", "size"]);
}

#[test]
fn years_must_be_settled_in_order_within_the_term() {
    let c = ss_contract(2025, 2026, "per_member_year", "1000.00", "members", ONE_SIDED, "");
    let i = inputs(2026, &[("size", dec!(10)), ("cost", dec!(0)), ("q", dec!(1))]);
    assert!(matches!(settle_year(&c, &i, &Carry::initial(&c)), Err(SettleError::CarryOutOfOrder { .. })));
    let i = inputs(2030, &[]);
    assert!(matches!(settle_year(&c, &i, &Carry::initial(&c)), Err(SettleError::YearOutsideTerm { .. })));
}

// --------------------------------------------------------------- impulse

fn advance_contract(remaining: &str) -> Contract {
    let ss = r#"sided = "one_sided"
corridor = { method = "fixed", min_savings_rate = 0 }
sharing_base = "first_euro"
provider_share = 0.5"#;
    let extra = format!(
        r#"[[impulse]]
year = 2025
amount = 100000.00
kind = "advance"
repayment_rate = 0.5
remaining_at_end = "{remaining}"
funding = "zvw"
purpose = "Equipment""#
    );
    ss_contract(2025, 2027, "per_member_year", "1000.00", "members", ss, &extra)
}

fn advance_years(costs: [Decimal; 3]) -> Vec<Inputs> {
    (0..3).map(|k| inputs(2025 + k as u16, &[("size", dec!(1000)), ("cost", costs[k]), ("q", dec!(1))])).collect()
}

#[test]
fn advance_repaid_in_part_then_due_at_term_end() {
    let c = advance_contract("due");
    let s = settle_term(&c, &advance_years([dec!(1000000), dec!(900000), dec!(1000000)])).unwrap();
    assert_eq!(amount(&s[0], "impulse.1.advance.zv.zh"), dec!(100000.00));
    assert_eq!(s[0].carry_out.advances[0].outstanding, dec!(100000.00));
    // 2026: payout 50,000, repayment 50% = 25,000.
    assert_eq!(transfer(&s[1], "impulse.1.repayment.zv.zh"), ("zh".into(), "zv".into(), dec!(25000.00)));
    assert_eq!(s[1].carry_out.advances[0].outstanding, dec!(75000.00));
    let zh = s[1].parties.iter().find(|p| p.party == "zh").unwrap();
    assert_eq!(zh.net, dec!(25000.00));
    // An advance and its repayment are loans: the result is the payout alone.
    assert_eq!(zh.result, dec!(50000.00));
    let zh0 = s[0].parties.iter().find(|p| p.party == "zh").unwrap();
    assert_eq!((zh0.net, zh0.result), (dec!(100000.00), dec!(0.00)), "an advance is cash, not a result");
    assert_eq!(s[1].carry_in, s[0].carry_out, "the balances at the start are those carried in");
    // 2027: no savings, nothing repaid; 75,000 falls due.
    assert_eq!(amount(&s[2], "impulse.1.repayment_amount"), dec!(0.00));
    assert_eq!(transfer(&s[2], "impulse.1.due.zv.zh"), ("zh".into(), "zv".into(), dec!(75000.00)));
    // The carried state survives a JSON round trip and settles the same.
    let json = serde_json::to_string(&s[1].carry_out).unwrap();
    let back: Carry = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s[1].carry_out);
    let again = settle_year(&c, &advance_years([dec!(1000000), dec!(900000), dec!(1000000)])[2], &back).unwrap();
    assert_eq!(again.to_json(), s[2].to_json());
    assert!(s[2].carry_out.advances.is_empty());
    s.iter().for_each(assert_balanced);
}

#[test]
fn advance_repaid_in_full() {
    let c = advance_contract("waived");
    let s = settle_term(&c, &advance_years([dec!(1000000), dec!(500000), dec!(1000000)])).unwrap();
    // 2026: payout 250,000; 50% = 125,000, at most the balance 100,000.
    assert_eq!(transfer(&s[1], "impulse.1.repayment.zv.zh"), ("zh".into(), "zv".into(), dec!(100000.00)));
    assert!(s[1].carry_out.advances.is_empty());
    assert!(s[2].line("impulse.1.repayment_amount").is_none());
}

#[test]
fn advance_left_at_term_end_is_waived() {
    let c = advance_contract("waived");
    let s = settle_term(&c, &advance_years([dec!(1000000), dec!(1000000), dec!(1000000)])).unwrap();
    assert_eq!(amount(&s[2], "impulse.1.waived"), dec!(100000.00));
    assert!(!s[2].line("impulse.1.waived").unwrap().is_transfer());
    // A waived balance is a result: the recipient keeps it, the payer bears it.
    let result = |p: &str| s[2].parties.iter().find(|r| r.party == p).unwrap().result;
    assert_eq!(result("zh") + result("zv"), dec!(0.00));
    assert!(result("zh") >= dec!(100000.00), "{}", s[2].to_json());
    assert!(s[2].carry_out.advances.is_empty());
}

// ------------------------------------------------------------ components

fn example(name: &str) -> Contract {
    let text = match name {
        "copd" => include_str!("../../../contracts/copd-telemonitoring-shared-savings.toml"),
        "hf" => include_str!("../../../contracts/heart-failure-telemonitoring-p4p.toml"),
        "homecare" => include_str!("../../../contracts/home-care-technology-hours.toml"),
        "dialysis" => include_str!("../../../contracts/home-dialysis-bundled.toml"),
        _ => include_str!("../../../contracts/regional-population-budget.toml"),
    };
    parse(text)
}

fn homecare_inputs(year: u16, hours: Decimal, time_saved: Decimal) -> Inputs {
    inputs(
        year,
        &[
            ("clients", dec!(1000)),
            ("tech-clients", dec!(1200)),
            ("tech-hours", hours),
            ("nursing-cost", dec!(14000000)),
            ("case-mix", dec!(1.01)),
            ("time-saved", time_saved),
            ("client-satisfaction", dec!(35)),
        ],
    )
    .with_other_year(2024, "nursing-price-index", dec!(100))
    .with("nursing-price-index", dec!(103.2))
}

#[test]
fn volume_claim_cap_and_surcharge() {
    let c = example("homecare");
    // Cap 6.5 h x 1,200 client-months = 7,800 h of the 10,000 claimed.
    let s = settle1(&c, &homecare_inputs(2025, dec!(10000), dec!(0.06)));
    assert_eq!(value(&s, "volume.cap.1"), dec!(7800));
    assert_eq!(amount(&s, "volume.tech-hours.amount"), dec!(581880.00));
    assert_eq!(amount(&s, "volume.tech-hours.adjustment.proven-time-saving"), dec!(581.88));
    assert_eq!(amount(&s, "volume.tech-hours.payment.verzekeraar.thuiszorg"), dec!(582461.88));
    // Under the cap and target missed: no surcharge.
    let s = settle1(&c, &homecare_inputs(2025, dec!(7000), dec!(0.04)));
    assert_eq!(amount(&s, "volume.tech-hours.amount"), dec!(522200.00));
    assert_eq!(amount(&s, "volume.tech-hours.adjustment.proven-time-saving"), dec!(0.00));
    // A missing trigger figure counts as missed and is not required.
    let mut i = homecare_inputs(2025, dec!(7000), dec!(0.06));
    i.figures.remove("time-saved");
    let s = settle1(&c, &i);
    assert_eq!(amount(&s, "volume.tech-hours.adjustment.proven-time-saving"), dec!(0.00));
}

#[test]
fn homecare_benchmark_uses_index_risk_and_table() {
    let c = example("homecare");
    let s = settle1(&c, &homecare_inputs(2025, dec!(7000), dec!(0.06)));
    assert_eq!(value(&s, "shared_savings.trend_factor"), dec!(1.032));
    // 14,800 x 1.032 x 1.01 x 1,000 = 15,426,336.00
    assert_eq!(amount(&s, "shared_savings.benchmark"), dec!(15426336.00));
    // 1,000 clients between 500 (4%) and 1,500 (2.5%): 3.25%.
    assert_eq!(value(&s, "shared_savings.corridor_rate"), dec!(0.0325));
    // Corridor 501,355.92; savings 1,426,336.00; above it 924,980.08; quality
    // (35 - 20) / 20 = 0.75 passes the 0.5 gate; 50% = 462,490.04;
    // withhold 2% = 9,249.80; 453,240.24; cap 10% = 1,542,633.60 not reached.
    assert_eq!(amount(&s, "shared_savings.corridor"), dec!(501355.92));
    assert_eq!(amount(&s, "shared_savings.provider_share"), dec!(462490.04));
    assert_eq!(amount(&s, "shared_savings.withhold"), dec!(9249.80));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(453240.24));
    assert_balanced(&s);
}

#[test]
fn bundled_stop_gain_and_stop_loss() {
    let c = example("dialysis");
    let fig = |cost| {
        inputs(
            2025,
            &[
                ("dialysis-patients", dec!(210)),
                ("home-patient-years", dec!(10)),
                ("home-dialysis-cost", cost),
                ("home-share", dec!(0.2)),
            ],
        )
    };
    // Target 785,000; gain 85,000 capped at 5% = 39,250.
    let s = settle1(&c, &fig(dec!(700000)));
    assert_eq!(amount(&s, "bundled.result"), dec!(85000.00));
    assert_eq!(amount(&s, "bundled.settlement"), dec!(39250.00));
    // Loss 115,000 capped at 10% = 78,500.
    let s = settle1(&c, &fig(dec!(900000)));
    assert_eq!(amount(&s, "bundled.settlement"), dec!(-78500.00));
    // Inside both: as is.
    let s = settle1(&c, &fig(dec!(800000)));
    assert_eq!(amount(&s, "bundled.settlement"), dec!(-15000.00));
    assert_eq!(amount(&s, "p4p.home-share-25"), dec!(0.00));
    assert_balanced(&s);
}

fn diabetes_inputs(year: u16, cost: Decimal) -> Inputs {
    inputs(
        year,
        &[
            ("dm2-member-months", dec!(60000)),
            ("dm2-cost", cost),
            ("hba1c-control", dec!(0.66)),
            ("amputations", dec!(2.7)),
            ("patients-huisartsen", dec!(1)),
            ("patients-ziekenhuis", dec!(1)),
            ("patients-thuiszorg", dec!(1)),
        ],
    )
}

#[test]
fn capitation_bands_and_pooled_payers() {
    let c = example("diabetes");
    let s = settle1(&c, &diabetes_inputs(2025, dec!(10000000)));
    // Budget 2,150 x 60,000 / 12 = 10,750,000; result 750,000.
    assert_eq!(amount(&s, "capitation.budget"), dec!(10750000.00));
    assert_eq!(amount(&s, "capitation.band.1"), dec!(215000.00));
    assert_eq!(amount(&s, "capitation.band.2"), dec!(161250.00));
    assert_eq!(amount(&s, "capitation.band.3"), dec!(42500.00));
    assert_eq!(amount(&s, "capitation.provider_result"), dec!(418750.00));
    assert_eq!(amount(&s, "capitation.payer_result"), dec!(331250.00));
    // 418,750.00 over three equal providers: 139,583.34 / .33 / .33.
    assert_eq!(amount(&s, "capitation.payment.verzekeraar.huisartsen"), dec!(139583.34));
    assert_eq!(amount(&s, "capitation.payment.verzekeraar.ziekenhuis"), dec!(139583.33));
    assert_eq!(transfers(&s, "capitation.payment."), dec!(418750.00));
    // HbA1c bonus 120,000 met: payers 300k:100k -> 90,000 and 30,000; each
    // split in three: 30,000 each and 10,000 each. Amputations 2.7 > 2.5 missed.
    assert_eq!(transfers(&s, "p4p.hba1c.payment.verzekeraar."), dec!(90000.00));
    assert_eq!(transfers(&s, "p4p.hba1c.payment.gemeente."), dec!(30000.00));
    assert_eq!(amount(&s, "p4p.hba1c.payment.gemeente.thuiszorg"), dec!(10000.00));
    assert_eq!(amount(&s, "p4p.amputations"), dec!(0.00));
    assert_eq!(s.totals_by_stream["transformation_funds"].net_to_providers, dec!(120000.00));
    assert_eq!(s.totals_by_stream["zvw"].net_to_providers, dec!(418750.00));
    // A loss of 100,000 (0.93%) stays in the first band: providers bear all.
    let s = settle1(&c, &diabetes_inputs(2025, dec!(10850000)));
    assert_eq!(amount(&s, "capitation.provider_result"), dec!(-100000.00));
    assert_balanced(&s);
}

#[test]
fn distribution_of_100_over_three_providers() {
    let c = example("diabetes");
    let mut c2 = c.clone();
    c2.payments.capitation = None;
    if let Some(p) = c2.payments.pay_for_performance.as_mut() {
        p.bonuses.truncate(1);
        p.bonuses[0].amount = dec!(100);
        p.bonuses[0].payer = Some("verzekeraar".into());
    }
    let s = settle1(&c2, &diabetes_inputs(2025, dec!(0)));
    let parts: Vec<Decimal> = s.lines.iter().filter(|l| l.is_transfer()).filter_map(|l| l.amount).collect();
    assert_eq!(parts, vec![dec!(33.34), dec!(33.33), dec!(33.33)]);
    assert!(s
        .line("p4p.hba1c.payment.verzekeraar.huisartsen")
        .unwrap()
        .formula
        .english(false)
        .contains("+ 1 cent rounding remainder"));
}

#[test]
fn revenue_guarantee_tops_up_to_the_floor() {
    let c = example("hf");
    let fig = |rev| {
        inputs(
            2026,
            &[("hf-patients", dec!(160)), ("bed-days", dec!(2.5)), ("admissions", dec!(1.2)), ("hf-revenue", rev)],
        )
    };
    let s = settle1(&c, &fig(dec!(1800000)));
    // Lease 350 x 160 = 56,000; bed-days bonus 150 x 160 = 24,000; admissions 1.2 > 1.1: none.
    assert_eq!(amount(&s, "volume.device-lease.amount"), dec!(56000.00));
    assert_eq!(amount(&s, "p4p.bed-days-halved"), dec!(24000.00));
    assert_eq!(amount(&s, "p4p.fewer-admissions"), dec!(0.00));
    assert_eq!(amount(&s, "revenue_guarantee.1.top_up"), dec!(50000.00));
    assert_eq!(s.totals_by_stream["zvw"].net_to_providers, dec!(130000.00));
    let s = settle1(&c, &fig(dec!(1900000)));
    assert_eq!(amount(&s, "revenue_guarantee.1.top_up"), dec!(0.00));
    // treat_as_not_met: a missing bonus figure is not required and scores nothing.
    let mut i = fig(dec!(1900000));
    i.figures.remove("bed-days");
    let s = settle1(&c, &i);
    assert_eq!(amount(&s, "p4p.bed-days-halved"), dec!(0.00));
}

// ------------------------------------------- example contracts, whole term

fn copd_inputs(year: u16, cost: Decimal) -> Inputs {
    inputs(
        year,
        &[
            ("patients", dec!(5040)),
            ("care-cost", cost),
            ("admissions", dec!(0.45)),
            ("ccq", dec!(2.2)),
            ("prem", dec!(0.8)),
        ],
    )
}

#[test]
fn every_example_contract_settles_over_its_term() {
    let copd = example("copd");
    // Benchmark 2025: 6,240 x 1.028 x 5,040 / 12 = 2,694,182.40.
    let s = settle_term(
        &copd,
        &[copd_inputs(2025, dec!(2400000)), copd_inputs(2026, dec!(2900000)), copd_inputs(2027, dec!(2500000))],
    )
    .unwrap();
    assert_eq!(amount(&s[0], "shared_savings.benchmark"), dec!(2694182.40));
    // Quality: admissions (0.6-0.45)/0.2 = 0.75, ccq (2.5-2.2)/0.5 = 0.6, prem (0.8-0.7)/0.15 = 0.666667.
    assert_eq!(value(&s[0], "shared_savings.quality_score"), dec!(0.6800001));
    s.iter().for_each(assert_balanced);
    assert_eq!(s.len(), 3);

    let hf = example("hf");
    let hf_in = |y| {
        inputs(
            y,
            &[
                ("hf-patients", dec!(160)),
                ("bed-days", dec!(1.63)),
                ("admissions", dec!(0.94)),
                ("hf-revenue", dec!(1700000)),
            ],
        )
    };
    let s = settle_term(&hf, &[hf_in(2026), hf_in(2027), hf_in(2028)]).unwrap();
    s.iter().for_each(assert_balanced);

    let home = example("homecare");
    let s = settle_term(
        &home,
        &[
            homecare_inputs(2025, dec!(7000), dec!(0.06)),
            homecare_inputs(2026, dec!(9000), dec!(0.04)),
            homecare_inputs(2027, dec!(7800), dec!(0.05)),
        ],
    )
    .unwrap();
    s.iter().for_each(assert_balanced);

    let dialysis = example("dialysis");
    let d_in = |y, cost| {
        inputs(
            y,
            &[
                ("dialysis-patients", dec!(210)),
                ("home-patient-years", dec!(31.5)),
                ("home-dialysis-cost", cost),
                ("home-share", dec!(0.15)),
            ],
        )
    };
    let years: Vec<Inputs> = (2025..=2029)
        .zip([2400000, 2500000, 2450000, 2300000, 2600000])
        .map(|(y, c)| d_in(y, Decimal::from(c)))
        .collect();
    let s = settle_term(&dialysis, &years).unwrap();
    assert_eq!(s.len(), 5);
    s.iter().for_each(assert_balanced);

    let diabetes = example("diabetes");
    let years: Vec<Inputs> = (2025..=2029)
        .zip([10500000, 11000000, 10750000, 9900000, 12000000])
        .map(|(y, c)| diabetes_inputs(y, Decimal::from(c)))
        .collect();
    let s = settle_term(&diabetes, &years).unwrap();
    assert_eq!(s.len(), 5);
    s.iter().for_each(assert_balanced);
}

#[test]
fn copd_advance_is_repaid_from_the_hospital_part_of_savings() {
    let c = example("copd");
    let s = settle_term(
        &c,
        &[copd_inputs(2025, dec!(2694182.40)), copd_inputs(2026, dec!(2300000)), copd_inputs(2027, dec!(2400000))],
    )
    .unwrap();
    assert_eq!(amount(&s[0], "impulse.1.advance.verzekeraar.ziekenhuis"), dec!(185000.00));
    assert_eq!(amount(&s[0], "impulse.2.grant.verzekeraar.thuiszorg"), dec!(40000.00));
    let hospital_payout = amount(&s[1], "shared_savings.payout.verzekeraar.ziekenhuis");
    let (from, to, repaid) = transfer(&s[1], "impulse.1.repayment.verzekeraar.ziekenhuis");
    assert_eq!((from.as_str(), to.as_str()), ("ziekenhuis", "verzekeraar"), "the hospital repays the insurer");
    let half_up = rust_decimal::RoundingStrategy::MidpointAwayFromZero;
    assert_eq!(repaid, (hospital_payout * dec!(0.5)).round_dp_with_strategy(2, half_up).min(dec!(185000)));
    s.iter().for_each(assert_balanced);
}

// --------------------------------------------------------------- properties

fn prop_contract() -> Contract {
    let ss = r#"sided = "two_sided"
corridor = { method = "fixed", min_savings_rate = 0.02, min_loss_rate = 0.02 }
sharing_base = "first_euro"
provider_share = 0.5
loss_share = { method = "fixed", rate = 0.5 }"#;
    ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ss, "")
}

#[allow(clippy::too_many_arguments)]
fn configure(
    c: &mut Contract,
    two_sided: bool,
    msr_bp: u32,
    above: bool,
    share_pct: u32,
    scaled: bool,
    withhold_pct: u32,
    cap_pct: u32,
) {
    let ss = c.payments.shared_savings.as_mut().unwrap();
    let msr = Decimal::new(msr_bp.into(), 4);
    if !two_sided {
        ss.sided = crate::domain::contract::Sided::OneSided;
        ss.loss_share = None;
        ss.corridor = Corridor::Fixed { min_savings_rate: msr, min_loss_rate: None };
    } else {
        ss.corridor = Corridor::Fixed { min_savings_rate: msr, min_loss_rate: Some(msr) };
        ss.loss_cap = Some(Decimal::new(cap_pct.into(), 2));
    }
    ss.sharing_base = if above { SharingBase::AboveCorridor } else { SharingBase::FirstEuro };
    ss.provider_share = Decimal::new(share_pct.into(), 2);
    ss.quality_scaling = if scaled { QualityScaling::Proportional } else { QualityScaling::None };
    ss.withhold = Decimal::new(withhold_pct.into(), 2);
    ss.savings_cap = Some(Decimal::new(cap_pct.into(), 2));
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn split_sums_exactly(total in -10_000_000i64..10_000_000, w in prop::collection::vec(0u32..1000, 1..6), largest in any::<bool>()) {
        prop_assume!(w.iter().any(|x| *x > 0));
        let weights: Vec<(String, Decimal)> = w.iter().enumerate().map(|(i, x)| (format!("p{i}"), Decimal::from(*x))).collect();
        let rule = if largest { crate::domain::contract::Remainder::LargestShare } else { crate::domain::contract::Remainder::LargestRemainder };
        let parts = distribution::split(cents(total), &weights, rule, "t").unwrap();
        prop_assert_eq!(parts.iter().map(|p| p.amount).sum::<Decimal>(), cents(total));
        let sum: Decimal = weights.iter().map(|(_, x)| *x).sum();
        for (p, (_, wt)) in parts.iter().zip(&weights) {
            let exact = cents(total) * *wt / sum;
            if !largest {
                prop_assert!((p.amount - exact).abs() < dec!(0.01));
            }
        }
    }

    #[test]
    fn shared_savings_invariants(
        actual in 50_000_000_i64..150_000_000,
        q in 0u32..=100,
        two_sided in any::<bool>(),
        msr_bp in 0u32..500,
        above in any::<bool>(),
        share_pct in 1u32..=100,
        scaled in any::<bool>(),
        withhold_pct in 0u32..10,
        cap_pct in 1u32..=30,
    ) {
        let mut c = prop_contract();
        configure(&mut c, two_sided, msr_bp, above, share_pct, scaled, withhold_pct, cap_pct);
        let i = inputs(2025, &[("size", dec!(1000)), ("cost", cents(actual)), ("q", Decimal::new(q.into(), 2))]);
        let s = settle1(&c, &i);
        // Determinism: byte-identical serialization.
        prop_assert_eq!(s.to_json(), settle1(&c, &i).to_json());
        assert_balanced(&s);
        let gross = amount(&s, "shared_savings.gross_savings");
        let benchmark = amount(&s, "shared_savings.benchmark");
        if gross > Decimal::ZERO {
            let payout = amount(&s, "shared_savings.provider_payout");
            prop_assert_eq!(payout + amount(&s, "shared_savings.payer_keeps"), gross);
            prop_assert_eq!(transfers(&s, "shared_savings.payout."), payout);
            prop_assert!(payout >= Decimal::ZERO && payout <= gross);
            prop_assert!(payout <= Decimal::new(cap_pct.into(), 2) * benchmark);
        } else if gross < Decimal::ZERO && two_sided {
            let paid = amount(&s, "shared_savings.provider_loss");
            prop_assert_eq!(paid + amount(&s, "shared_savings.payer_bears"), -gross);
            prop_assert_eq!(transfers(&s, "shared_savings.loss_payment."), -paid);
            prop_assert!(paid <= Decimal::new(cap_pct.into(), 2) * benchmark);
        }
    }

    #[test]
    fn one_sided_result_is_monotone(
        actual in 50_000_000_i64..110_000_000,
        less in 0i64..1_000_000,
        q in 0u32..=100,
        more_q in 0u32..=100,
        msr_bp in 0u32..500,
        above in any::<bool>(),
        share_pct in 1u32..=100,
        scaled in any::<bool>(),
        withhold_pct in 0u32..10,
        cap_pct in 1u32..=30,
        gate in 0u32..=60,
    ) {
        let mut c = prop_contract();
        configure(&mut c, false, msr_bp, above, share_pct, scaled, withhold_pct, cap_pct);
        c.payments.shared_savings.as_mut().unwrap().min_quality_score = Decimal::new(gate.into(), 2);
        let payout = |cost: i64, q: u32| {
            let i = inputs(2025, &[("size", dec!(1000)), ("cost", cents(cost)), ("q", Decimal::new(q.into(), 2))]);
            amount_or_zero(&settle1(&c, &i), "shared_savings.provider_payout")
        };
        let base = payout(actual, q);
        prop_assert!(payout(actual - less, q) >= base, "lower actual cost never lowers the payout");
        prop_assert!(payout(actual, (q + more_q).min(100)) >= base, "higher quality never lowers the payout");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn an_advance_is_accounted_for_to_the_cent(
        costs in prop::collection::vec(60_000_000i64..110_000_000, 3),
        due in any::<bool>(),
    ) {
        let c = advance_contract(if due { "due" } else { "waived" });
        let years: Vec<Inputs> = costs
            .iter()
            .enumerate()
            .map(|(k, cost)| inputs(2025 + k as u16, &[("size", dec!(1000)), ("cost", cents(*cost)), ("q", dec!(1))]))
            .collect();
        let s = settle_term(&c, &years).unwrap();
        let mut repaid = Decimal::ZERO;
        for st in &s {
            assert_balanced(st);
            let r = -transfers(st, "impulse.1.repayment.");
            let payout = transfers(st, "shared_savings.payout.");
            let half_up = rust_decimal::RoundingStrategy::MidpointAwayFromZero;
            prop_assert!(r <= (payout * dec!(0.5)).round_dp_with_strategy(2, half_up), "repayment at most the rate x payout");
            repaid += r;
        }
        let last = &s[2];
        let settled_at_end = if due {
            -transfers(last, "impulse.1.due.")
        } else {
            last.line("impulse.1.waived").and_then(|l| l.amount).unwrap_or_default()
        };
        prop_assert_eq!(repaid + settled_at_end, dec!(100000.00), "repaid + due or waived = the advance");
        prop_assert!(last.carry_out.advances.is_empty());
    }
}

// ------------------------------------- arithmetic at the extremes (issue 12)

/// The heart-failure example with its population counted in member-months
/// and the per-member bonus at `rate`.
fn hf_member_months(rate: Decimal) -> Contract {
    let mut c = example("hf");
    let size = c.population.size_indicator.clone();
    c.indicators.iter_mut().filter(|i| i.id == size).for_each(|i| i.unit = crate::domain::contract::Unit::MemberMonths);
    let pf = c.payments.pay_for_performance.as_mut().unwrap();
    pf.bonuses[0].amount = rate;
    assert_eq!(pf.bonuses[0].basis, crate::domain::contract::BonusBasis::PerMember);
    assert!(crate::domain::contract::validate(&c).is_empty(), "{:?}", crate::domain::contract::validate(&c));
    c
}

fn hf_inputs(year: u16, member_months: Decimal) -> Inputs {
    inputs(
        year,
        &[
            ("hf-patients", member_months),
            ("bed-days", dec!(1.63)),
            ("admissions", dec!(0.94)),
            ("hf-revenue", dec!(1700000)),
        ],
    )
}

#[test]
fn per_member_bonus_divides_member_months_last() {
    // EUR 15.03 x 5,350 member-months / 12 = 6,700.875 exactly: half up
    // 6,700.88 (dividing first gave 445.8333.. members and 6,700.87).
    let c = hf_member_months(dec!(15.03));
    let s = settle1(&c, &hf_inputs(2026, dec!(5350)));
    assert_eq!(amount(&s, "p4p.bed-days-halved"), dec!(6700.88));
    assert_balanced(&s);
}

/// The exact half-up / half-even cents of `rate_cents` x `size` / `divisor`
/// in integers.
fn exact_cents(rate_cents: i128, size: i128, divisor: i128, half_even: bool) -> i128 {
    let num = rate_cents * size;
    let (q, r) = (num / divisor, num % divisor);
    let twice = 2 * r;
    if twice > divisor || (twice == divisor && (!half_even || q % 2 == 1)) {
        q + 1
    } else {
        q
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every per-member amount (bonus per member, capitation budget,
    /// benchmark per member-year over member-months) equals exact rational
    /// arithmetic with one rounding.
    #[test]
    fn per_member_amounts_are_exact(
        // Rates and populations of real contracts, where dividing first
        // was a cent off in about 7% of the member-month cases.
        rate_cents in 1i64..100_000,
        size in 0i64..200_000,
        monthly in any::<bool>(),
        half_even in any::<bool>(),
    ) {
        let rate = Decimal::new(rate_cents, 2);
        let divisor = if monthly { 12 } else { 1 };
        let rounding = if half_even { crate::domain::contract::Rounding::HalfEven } else { crate::domain::contract::Rounding::HalfUp };
        let expected = Decimal::from_i128_with_scale(exact_cents(rate_cents.into(), size.into(), divisor, half_even), 2);

        let mut c = hf_member_months(rate);
        c.rounding = rounding;
        if !monthly {
            let id = c.population.size_indicator.clone();
            c.indicators.iter_mut().filter(|i| i.id == id).for_each(|i| i.unit = crate::domain::contract::Unit::Members);
        }
        let s = settle1(&c, &hf_inputs(2026, Decimal::from(size)));
        prop_assert_eq!(amount(&s, "p4p.bed-days-halved"), expected);

        let mut d = example("diabetes");
        d.rounding = rounding;
        let cap = d.payments.capitation.as_mut().unwrap();
        cap.amount_per_member = rate;
        let members = cap.members_indicator.clone();
        let unit = if monthly { crate::domain::contract::Unit::MemberMonths } else { crate::domain::contract::Unit::Members };
        d.indicators.iter_mut().filter(|i| i.id == members).for_each(|i| i.unit = unit);
        let i = diabetes_inputs(2025, dec!(1000)).with(&members, Decimal::from(size));
        let budget = base_amount(&d, &i, "capitation.budget").unwrap();
        prop_assert_eq!(budget, Some(expected));
    }
}

#[test]
fn extreme_quality_bounds_are_an_error_naming_the_figure_not_a_panic() {
    // The issue's reproduction, straight into the engine (the reader now
    // refuses such a contract): threshold -5e28 and target 5e28 made
    // `target - threshold` overflow.
    let mut c = example("copd");
    let q = c.indicators.iter_mut().find_map(|i| i.quality.as_mut()).unwrap();
    q.threshold = Decimal::from_i128_with_scale(-50_000_000_000_000_000_000_000_000_000, 0);
    q.target = Decimal::from_i128_with_scale(50_000_000_000_000_000_000_000_000_000, 0);
    let e = settle_term(&c, &[copd_inputs(2025, dec!(2400000))]).unwrap_err();
    assert!(
        matches!(&e, SettleError::Arithmetic { figure, problem: "overflow" } if figure.contains("quality score")),
        "{e:?}"
    );
}

/// Decimals at the extremes: zero, tiny, huge (up to +-(2^96-1)), any scale
/// 0..=28, and ordinary ones.
fn extreme_decimal() -> impl Strategy<Value = Decimal> {
    let max = (1i128 << 96) - 1;
    let mantissa = prop_oneof![
        Just(0i128),
        Just(1i128),
        Just(max),
        Just(max - 1),
        Just(5 * 10i128.pow(28)),
        Just(10i128.pow(15)),
        Just(10i128.pow(15) + 1),
        0i128..=max,
        0i128..1_000_000,
    ];
    let scale = prop_oneof![Just(0u32), Just(2), Just(28), 0u32..=28];
    (mantissa, scale, any::<bool>()).prop_map(|(m, scale, neg)| {
        let d = Decimal::from_i128_with_scale(m, scale);
        if neg {
            -d
        } else {
            d
        }
    })
}

/// Byte ranges of the plain numbers written after `= ` in a contract text
/// (years, counts, money, rates; quoted values are left alone).
fn number_slots(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'=' && b[i + 1] == b' ' && (b[i + 2].is_ascii_digit() || b[i + 2] == b'-') {
            let start = i + 2;
            let mut end = start + 1;
            while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.' || b[end] == b'_') {
                end += 1;
            }
            out.push(start..end);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn examples_text() -> [&'static str; 5] {
    [
        include_str!("../../../contracts/copd-telemonitoring-shared-savings.toml"),
        include_str!("../../../contracts/heart-failure-telemonitoring-p4p.toml"),
        include_str!("../../../contracts/home-care-technology-hours.toml"),
        include_str!("../../../contracts/home-dialysis-bundled.toml"),
        include_str!("../../../contracts/regional-population-budget.toml"),
    ]
}

/// Figures for every indicator of `c` in every year from 2000 to its last
/// year (ordinary values by unit), with `extreme` at position `pick`.
fn term_inputs(c: &Contract, extreme: Option<(usize, Decimal)>) -> Vec<Inputs> {
    use crate::domain::contract::Unit;
    let ordinary = |u: Unit| match u {
        Unit::Index => dec!(103.2),
        Unit::Fraction => dec!(0.05),
        Unit::Eur => dec!(2500000),
        _ => dec!(1000),
    };
    let mut slot = 0usize;
    let mut value = |u: Unit| {
        let v = match extreme {
            Some((k, x)) if k == slot => x,
            _ => ordinary(u),
        };
        slot += 1;
        v
    };
    let mut out = Vec::new();
    for year in c.term.years() {
        let mut i = Inputs::new(year);
        for ind in &c.indicators {
            i = i.with(&ind.id, value(ind.unit));
        }
        let base = c.baseline.as_ref().map_or(year, |b| b.base_year);
        for y in base..year {
            for ind in &c.indicators {
                i = i.with_other_year(y, &ind.id, value(ind.unit));
            }
        }
        out.push(i);
    }
    out
}

/// Settles the whole term and reads every base amount: no panic; every
/// line's words render (version 1 English); an error names its figure.
fn settle_never_panics(c: &Contract, inputs: &[Inputs]) -> Result<(), TestCaseError> {
    match settle_term(c, inputs) {
        Ok(s) => s.iter().for_each(|s| {
            assert_balanced(s);
            for l in &s.lines {
                assert!(!l.label.english(false).contains("{}"), "{}", l.id);
                assert!(!l.formula.english(l.abs_figures).contains("{}"), "{}", l.id);
            }
        }),
        Err(e) => {
            if let SettleError::Arithmetic { figure, .. } | SettleError::InvalidFigure { figure, .. } = &e {
                prop_assert!(!figure.is_empty(), "{:?}", e);
            }
            prop_assert!(!e.to_string().is_empty());
        }
    }
    for i in inputs {
        for line in ["shared_savings.benchmark", "bundled.target_total", "capitation.budget"] {
            let _ = base_amount(c, i, line);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Up to three numbers of an example contract file replaced by extremes: the
    /// reader refuses it with a positioned diagnostic, or the contract
    /// validates and settles (or refuses to settle) without a panic.
    #[test]
    fn extreme_numbers_in_contract_files_never_panic(which in 0usize..5, pick in any::<prop::sample::Index>(), x in extreme_decimal()) {
        let text = examples_text()[which];
        let slots = number_slots(text);
        let r = pick.get(&slots).clone();
        let changed = format!("{}{}{}", &text[..r.start], x, &text[r.end..]);
        match parse_str("x.toml", &changed) {
            Err(d) => prop_assert!(!d.is_empty() && d.iter().all(|d| d.line >= 1 && !d.message.is_empty())),
            Ok(c) => {
                prop_assert!(crate::domain::contract::validate(&c).is_empty());
                // What `Contract::version_hash`'s `expect` relies on: every
                // contract that validates has a canonical form.
                prop_assert!(c.try_version_hash().is_ok());
                let _ = c.render_terms();
                let _ = crate::domain::contract::diff(&example_by_index(which), &c);
                settle_never_panics(&c, &term_inputs(&c, None))?;
            }
        }
    }

    /// Any decimal or integer of an example contract's model replaced by an
    /// extreme, without validation (as a hostile caller of the library
    /// could): validation, rendering, diff and settlement never panic.
    #[test]
    fn extreme_numbers_in_the_model_never_panic(
        which in 0usize..5,
        changes in prop::collection::vec(
            (any::<prop::sample::Index>(), extreme_decimal(), prop_oneof![Just(0u64), Just(1), Just(2100), Just(65535), Just(u64::MAX)]),
            1..4,
        ),
    ) {
        let original = example_by_index(which);
        let mut json = serde_json::to_value(&original).unwrap();
        let mut slots = 0usize;
        count_numbers(&json, &mut slots);
        for (pick, x, int) in changes {
            let mut seen = 0usize;
            replace_number(&mut json, pick.index(slots), &mut seen, x, int);
        }
        let Ok(c) = serde_json::from_value::<Contract>(json) else { return Ok(()) };
        if crate::domain::contract::validate(&c).is_empty() {
            // What `Contract::version_hash`'s `expect` relies on.
            prop_assert!(c.try_version_hash().is_ok(), "a contract that validates has no canonical form");
        }
        let _ = c.render_terms();
        let _ = crate::domain::contract::diff(&original, &c);
        let _ = c.try_version_hash();
        if c.term.years().count() <= MAX_TERM_YEARS {
            settle_never_panics(&c, &term_inputs(&c, None))?;
        }
    }

    /// Any figure of an example contract's term replaced by an extreme.
    #[test]
    fn extreme_figures_never_panic(which in 0usize..5, pick in any::<prop::sample::Index>(), x in extreme_decimal()) {
        let c = example_by_index(which);
        let figures: usize = term_inputs(&c, None)
            .iter()
            .map(|i| i.figures.len() + i.other_years.values().map(|m| m.len()).sum::<usize>())
            .sum();
        settle_never_panics(&c, &term_inputs(&c, Some((pick.index(figures), x))))?;
    }
}

fn example_by_index(which: usize) -> Contract {
    example(["copd", "hf", "homecare", "dialysis", "diabetes"][which])
}

/// Counts the decimal strings and integers of a JSON value.
fn count_numbers(v: &serde_json::Value, n: &mut usize) {
    match v {
        serde_json::Value::String(s) if Decimal::from_str_exact(s).is_ok() => *n += 1,
        serde_json::Value::Number(_) => *n += 1,
        serde_json::Value::Array(a) => a.iter().for_each(|x| count_numbers(x, n)),
        serde_json::Value::Object(o) => o.values().for_each(|x| count_numbers(x, n)),
        _ => {}
    }
}

/// Replaces the `k`-th number (in [`count_numbers`] order): a decimal
/// string by `x`, an integer by `int`.
fn replace_number(v: &mut serde_json::Value, k: usize, seen: &mut usize, x: Decimal, int: u64) {
    match v {
        serde_json::Value::String(s) if Decimal::from_str_exact(s).is_ok() => {
            if *seen == k {
                *s = x.to_string();
            }
            *seen += 1;
        }
        serde_json::Value::Number(_) => {
            if *seen == k {
                *v = serde_json::Value::from(int);
            }
            *seen += 1;
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x2| replace_number(x2, k, seen, x, int)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x2| replace_number(x2, k, seen, x, int)),
        _ => {}
    }
}

// ------------------------------------------- settlement knobs of issue 17

/// An extra indicator measured by the payer, for the knob tests.
fn extra_indicator(id: &str, unit: &str, direction: &str) -> String {
    format!("[[indicators]]\nid = \"{id}\"\nname = \"{id}\"\nunit = \"{unit}\"\ndirection = \"{direction}\"\nsource = \"zv\"\n")
}

/// The problems of a contract text that must not validate, one per line.
fn problems(text: &str) -> String {
    match parse_str("test.toml", text) {
        Ok(_) => panic!("the contract validates"),
        Err(d) => d.iter().map(|d| format!("{d}\n")).collect(),
    }
}

/// Two-sided, benchmark 1,000 x 1,000 members = 1,000,000, corridors 2%,
/// loss share 50%, loss cap 5% (50,000), with `more` shared-savings keys
/// and `extra` indicators.
fn two_sided(more: &str, extra: &str) -> Contract {
    ss_contract(2025, 2025, "per_member_year", "1000.00", "members", &format!("{TWO_SIDED}\n{more}"), extra)
}

#[test]
fn force_majeure_fraction_reduces_the_loss_payment() {
    let extra = format!(
        "{}{}",
        extra_indicator("emergency-months", "fraction", "neutral"),
        extra_indicator("affected-members", "fraction", "neutral")
    );
    let c = two_sided(
        r#"force_majeure = { method = "fraction", factors = ["emergency-months", "affected-members"] }"#,
        &extra,
    );
    let fig = |a: Decimal, b: Decimal| {
        inputs(
            2025,
            &[
                ("size", dec!(1000)),
                ("cost", dec!(1100000)),
                ("q", dec!(1)),
                ("emergency-months", a),
                ("affected-members", b),
            ],
        )
    };
    // Loss 100,000, past the 20,000 corridor: 50% = 50,000; the cap 5% x
    // 1,000,000 = 50,000 is not exceeded. Fraction 0.25 (3 of 12 months) x
    // 0.6 of the members in affected areas = 0.15; reduction 0.15 x 50,000
    // = 7,500; the provider pays 42,500 and the payer bears 57,500.
    let s = settle1(&c, &fig(dec!(0.25), dec!(0.6)));
    assert_eq!(amount(&s, "shared_savings.loss_before_force_majeure"), dec!(50000.00));
    assert_eq!(value(&s, "shared_savings.force_majeure_fraction"), dec!(0.15));
    assert_eq!(amount(&s, "shared_savings.force_majeure_reduction"), dec!(7500.00));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(42500.00));
    assert_eq!(amount(&s, "shared_savings.payer_bears"), dec!(57500.00));
    assert_eq!(transfers(&s, "shared_savings.loss_payment."), dec!(-42500.00));
    assert_eq!(
        s.line("shared_savings.force_majeure_reduction").unwrap().formula.english(false),
        "Force majeure reduction = 15.00% x 50,000.00 = 7,500.00"
    );
    assert_balanced(&s);
    // Fraction 1 x 1: full forgiveness, nothing paid.
    let s = settle1(&c, &fig(dec!(1), dec!(1)));
    assert_eq!(amount(&s, "shared_savings.force_majeure_reduction"), dec!(50000.00));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(0.00));
    assert_eq!(transfers(&s, "shared_savings.loss_payment."), dec!(0));
    // 1/3 x 1/3 = 0.111111 (six decimals); 0.111111 x 50,000 = 5,555.55.
    let third = dec!(1) / dec!(3);
    let s = settle1(&c, &fig(third, third));
    assert_eq!(value(&s, "shared_savings.force_majeure_fraction"), dec!(0.111111));
    assert_eq!(amount(&s, "shared_savings.force_majeure_reduction"), dec!(5555.55));
    // A figure that is not a fraction is refused.
    let e = settle_year(&c, &fig(dec!(1.5), dec!(1)), &Carry::initial(&c)).unwrap_err();
    assert!(e.to_string().contains("emergency-months (2025): 1.5 is not a fraction between 0 and 1"), "{e}");
}

#[test]
fn force_majeure_amount_is_clamped_to_the_loss_and_a_forgiven_loss_is_not_carried() {
    let c = two_sided(
        "force_majeure = { method = \"amount\", indicator = \"relief\" }\ncarry_forward_losses = true",
        &extra_indicator("relief", "eur", "neutral"),
    );
    let fig = |relief: Decimal| {
        inputs(2025, &[("size", dec!(1000)), ("cost", dec!(1100000)), ("q", dec!(1)), ("relief", relief)])
    };
    // Loss payment 50,000 (as above); relief 12,345.675 -> 12,345.68 (half up): pays 37,654.32.
    let s = settle1(&c, &fig(dec!(12345.675)));
    assert_eq!(amount(&s, "shared_savings.force_majeure_reduction"), dec!(12345.68));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(37654.32));
    // Relief 60,000 is more than the loss payment: clamped to 50,000; the
    // provider pays nothing, and the loss it shared in is settled, not carried.
    let s = settle1(&c, &fig(dec!(60000)));
    assert_eq!(amount(&s, "shared_savings.loss_before_force_majeure"), dec!(50000.00));
    assert_eq!(amount(&s, "shared_savings.force_majeure_reduction"), dec!(50000.00));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(0.00));
    assert_eq!(amount(&s, "shared_savings.payer_bears"), dec!(100000.00));
    assert_eq!(s.carry_out.losses_carried, dec!(0.00));
    assert!(s
        .line("shared_savings.force_majeure_reduction")
        .unwrap()
        .formula
        .english(false)
        .contains("at most the loss 50,000.00"));
}

#[test]
fn force_majeure_needs_a_two_sided_contract_and_fraction_indicators() {
    let text = ss_text(
        2025,
        2025,
        "per_member_year",
        "1000.00",
        "members",
        &format!("{ONE_SIDED}\nforce_majeure = {{ method = \"fraction\", factors = [\"cost\"] }}"),
        "",
    );
    let p = problems(&text);
    assert!(
        p.contains("payments.shared_savings.force_majeure: only a two-sided contract has shared losses to reduce"),
        "{p}"
    );
    let text = ss_text(
        2025,
        2025,
        "per_member_year",
        "1000.00",
        "members",
        &format!("{TWO_SIDED}\nforce_majeure = {{ method = \"fraction\", factors = [\"cost\"] }}"),
        "",
    );
    let p = problems(&text);
    assert!(
        p.contains("payments.shared_savings.force_majeure.factors[0]: indicator \"cost\" has unit \"eur\"; expected \"fraction\""),
        "{p}"
    );
}

#[test]
fn agreed_total_benchmark_is_the_agreed_figure() {
    let text = ss_text(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "")
        .replace(
            "unit = \"per_member_year\"\ncost = 1000.00\nsource = \"s\"\ntrend = { method = \"fixed_rate\", rate = 0 }",
            "mode = \"agreed_total\"\nbenchmark_indicator = \"bench\"\nsource = \"Benchmark of the payer's actuary\"",
        )
        .replace(
            "[payments.shared_savings]",
            &format!("{}[payments.shared_savings]", extra_indicator("bench", "eur", "neutral")),
        );
    let c = parse(&text);
    // Benchmark 1,234,567.891 -> 1,234,567.89 (cents, half up); corridor 2%
    // = 24,691.3578 -> 24,691.36; actual 1,134,567.89: savings 100,000.00,
    // past the corridor, 50% = 50,000.00. No size figure is needed.
    let s = settle1(&c, &inputs(2025, &[("bench", dec!(1234567.891)), ("cost", dec!(1134567.89)), ("q", dec!(1))]));
    assert_eq!(amount(&s, "shared_savings.benchmark"), dec!(1234567.89));
    assert_eq!(
        s.line("shared_savings.benchmark").unwrap().formula.english(false),
        "Benchmark = agreed total (bench) = 1,234,567.89"
    );
    assert!(s.line("shared_savings.trend_factor").is_none());
    assert_eq!(amount(&s, "shared_savings.corridor"), dec!(24691.36));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(50000.00));
    assert_eq!(
        required_indicators(&c, 2025).iter().map(|f| f.indicator.as_str()).collect::<Vec<_>>(),
        ["bench", "cost", "q"]
    );
    // The canonical form names the mode; a computed baseline's has no such key.
    let json = c.to_canonical_json();
    assert_eq!(json["baseline"]["mode"], "agreed_total");
    assert!(json["baseline"].get("cost").is_none());
    assert_eq!(Contract::from_canonical_json(&json).unwrap(), c);
    let computed = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "");
    assert!(computed.to_canonical_json()["baseline"].get("mode").is_none());
    // A cost or trend with an agreed total is refused where it is written.
    let p = problems(&text.replace("mode = \"agreed_total\"", "mode = \"agreed_total\"\ncost = 5"));
    assert!(p.contains("baseline.cost: not used with mode = \"agreed_total\""), "{p}");
    let p = problems(&text.replace("benchmark_indicator = \"bench\"", "benchmark_indicator = \"q\""));
    assert!(p.contains("baseline.benchmark_indicator: indicator \"q\" has unit \"fraction\"; expected \"eur\""), "{p}");
}

#[test]
fn corridor_population_from_its_own_indicator() {
    let ss = r#"sided = "one_sided"
corridor = { method = "population_table", population_indicator = "assigned", rows = [
    { population = 5000, min_savings_rate = 0.039 },
    { population = 60000, min_savings_rate = 0.02 },
] }
sharing_base = "first_euro"
provider_share = 0.5"#;
    let c = ss_contract(
        2025,
        2025,
        "per_member_year",
        "1000.00",
        "members",
        ss,
        &extra_indicator("assigned", "members", "neutral"),
    );
    let rate = |size: Decimal, assigned: Decimal| {
        let s =
            settle1(&c, &inputs(2025, &[("size", size), ("assigned", assigned), ("cost", dec!(0)), ("q", dec!(1))]));
        value(&s, "shared_savings.corridor_rate")
    };
    // 32,500 assigned members: 3.9% + (2.0% - 3.9%) x 27,500 / 55,000 = 2.95%,
    // whatever the size (member-years) that sets the benchmark.
    assert_eq!(rate(dec!(1000), dec!(32500)), dec!(0.0295));
    assert_eq!(rate(dec!(90000), dec!(32500)), dec!(0.0295));
    assert_eq!(rate(dec!(32500), dec!(1000)), dec!(0.039));
    let p = problems(&ss_text(
        2025,
        2025,
        "per_member_year",
        "1000.00",
        "members",
        &ss.replace("\"assigned\"", "\"cost\""),
        "",
    ));
    assert!(
        p.contains("payments.shared_savings.corridor.population_indicator: indicator \"cost\" has unit \"eur\""),
        "{p}"
    );
}

#[test]
fn loss_cap_is_the_lesser_of_two_limits() {
    let c = two_sided(
        r#"figure_loss_cap = { rate = 0.1, indicator = "revenue" }"#,
        &extra_indicator("revenue", "eur", "neutral"),
    );
    let fig = |revenue: Decimal| {
        inputs(2025, &[("size", dec!(1000)), ("cost", dec!(1200000)), ("q", dec!(1)), ("revenue", revenue)])
    };
    // Loss 200,000 x 50% = 100,000. Caps: 5% x 1,000,000 benchmark = 50,000
    // and 10% x 300,000 revenue = 30,000: the lesser, 30,000, applies.
    let s = settle1(&c, &fig(dec!(300000)));
    assert_eq!(amount(&s, "shared_savings.loss_cap"), dec!(50000.00));
    assert_eq!(amount(&s, "shared_savings.figure_loss_cap"), dec!(30000.00));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(30000.00));
    assert!(s
        .line("shared_savings.figure_loss_cap")
        .unwrap()
        .formula
        .english(false)
        .ends_with("(the lesser: applies)"));
    assert!(s.line("shared_savings.loss_cap").unwrap().formula.english(false).ends_with("(not the lesser)"));
    // Revenue 800,000: 80,000; the benchmark cap 50,000 is the lesser.
    let s = settle1(&c, &fig(dec!(800000)));
    assert_eq!(amount(&s, "shared_savings.figure_loss_cap"), dec!(80000.00));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(50000.00));
    assert!(s.line("shared_savings.loss_cap").unwrap().formula.english(false).ends_with("(the lesser: applies)"));
    assert_balanced(&s);
}

#[test]
fn savings_inside_the_corridor_share_at_the_lower_tier_when_the_condition_holds() {
    let ss =
        format!("{ONE_SIDED}\ninside_corridor = {{ provider_share = 0.25, indicator = \"low-revenue\", target = 1 }}");
    let c = ss_contract(
        2025,
        2025,
        "per_member_year",
        "1000.00",
        "members",
        &ss,
        &extra_indicator("low-revenue", "yes_no", "higher_is_better"),
    );
    let fig = |cost: Decimal, low: Decimal| {
        inputs(2025, &[("size", dec!(1000)), ("cost", cost), ("q", dec!(1)), ("low-revenue", low)])
    };
    // Savings 15,000 are inside the 20,000 corridor; the condition holds:
    // 25% x 15,000 = 3,750 from the first euro.
    let s = settle1(&c, &fig(dec!(985000), dec!(1)));
    assert_eq!(value(&s, "shared_savings.inside_corridor_condition"), dec!(1));
    assert_eq!(amount(&s, "shared_savings.shared_base"), dec!(15000.00));
    assert_eq!(value(&s, "shared_savings.provider_rate"), dec!(0.25));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(3750.00));
    assert_eq!(amount(&s, "shared_savings.payer_keeps"), dec!(11250.00));
    assert_balanced(&s);
    // The condition fails: nothing is shared.
    let s = settle1(&c, &fig(dec!(985000), dec!(0)));
    assert_eq!(value(&s, "shared_savings.inside_corridor_condition"), dec!(0));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(0.00));
    // Past the corridor the normal rate applies: 50% x 100,000.
    let s = settle1(&c, &fig(dec!(900000), dec!(1)));
    assert!(s.line("shared_savings.inside_corridor_condition").is_none());
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(50000.00));
    // The lower tier cannot be above the normal rate.
    let p = problems(&ss_text(
        2025,
        2025,
        "per_member_year",
        "1000.00",
        "members",
        &ss.replace("0.25", "0.75"),
        &extra_indicator("low-revenue", "yes_no", "higher_is_better"),
    ));
    assert!(p.contains("payments.shared_savings.inside_corridor.provider_share: the share inside the corridor (75%) is above the provider_share past it (50%)"), "{p}");
}

#[test]
fn losses_are_pro_rated_to_the_months_of_participation() {
    let c = two_sided(r#"participation_months_indicator = "months""#, &extra_indicator("months", "count", "neutral"));
    let fig = |months: Decimal| {
        inputs(2025, &[("size", dec!(1000)), ("cost", dec!(1100000)), ("q", dec!(1)), ("months", months)])
    };
    // Loss payment 50,000 x 7 / 12 = 29,166.666... -> 29,166.67.
    let s = settle1(&c, &fig(dec!(7)));
    assert_eq!(amount(&s, "shared_savings.loss_prorated"), dec!(29166.67));
    assert_eq!(amount(&s, "shared_savings.provider_loss"), dec!(29166.67));
    assert_eq!(amount(&s, "shared_savings.payer_bears"), dec!(70833.33));
    assert_balanced(&s);
    // A whole year: unchanged.
    assert_eq!(amount(&settle1(&c, &fig(dec!(12))), "shared_savings.provider_loss"), dec!(50000.00));
    let e = settle_year(&c, &fig(dec!(13)), &Carry::initial(&c)).unwrap_err();
    assert!(e.to_string().contains("13 months of participation is more than 12"), "{e}");
}

#[test]
fn a_share_of_zero_pays_nothing_and_says_so() {
    let ss = ONE_SIDED.replace("provider_share = 0.5", "provider_share = 0");
    let s = one_sided(&ss, dec!(900000), dec!(1));
    assert_eq!(value(&s, "shared_savings.provider_rate"), dec!(0));
    assert_eq!(amount(&s, "shared_savings.provider_share"), dec!(0.00));
    assert_eq!(amount(&s, "shared_savings.provider_payout"), dec!(0.00));
    assert_eq!(amount(&s, "shared_savings.payer_keeps"), dec!(100000.00));
    assert_eq!(transfers(&s, "shared_savings."), dec!(0));
    assert!(s
        .line("shared_savings.provider_share")
        .unwrap()
        .formula
        .english(false)
        .contains("the contract's share is 0%: nothing is paid"));
    assert_balanced(&s);
}

#[test]
fn currency_and_funding_streams_come_from_the_contract() {
    let text = ss_text(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "")
        .replace("currency = \"EUR\"", "currency = \"USD\"\nfunding_streams = [\"medicare\", \"medicaid\"]")
        .replace("funding = \"zvw\"", "funding = \"medicare\"");
    let c = parse(&text);
    assert_eq!(c.currency.code(), "USD");
    // Savings 100,000 past the 20,000 corridor: 50% = 50,000 in the medicare stream.
    let s = one_sided_with(&c, dec!(900000));
    assert_eq!(s.totals_by_stream.keys().collect::<Vec<_>>(), ["medicare"]);
    assert_eq!(s.totals_by_stream["medicare"].net_to_providers, dec!(50000.00));
    assert_eq!(s.payments.len(), 1);
    assert_eq!(s.payments[0].funding.to_string(), "medicare");
    assert!(s.to_json().contains("\"funding\": \"medicare\""));
    assert!(!s.to_json().contains("zvw"));
    assert!(c.render_terms().contains("USD 1,000.00 per member year"), "{}", c.render_terms());
    assert!(c.render_terms().contains("Shared savings (one-sided, medicare)"), "{}", c.render_terms());
    let dearer = parse(&text.replace("cost = 1000.00", "cost = 2000.00"));
    let changes = crate::domain::contract::diff(&c, &dearer);
    let cost = changes.iter().find(|ch| ch.path == "baseline.cost").expect("the cost changed");
    let shown = |v: &Option<crate::domain::contract::FieldValue>| v.as_ref().map(ToString::to_string);
    assert_eq!((shown(&cost.before), shown(&cost.after)), (Some("USD 1,000.00".into()), Some("USD 2,000.00".into())));
    // The canonical form carries both; a Dutch contract's has no funding_streams.
    let json = c.to_canonical_json();
    assert_eq!(json["currency"], "USD");
    assert_eq!(json["funding_streams"], serde_json::json!(["medicare", "medicaid"]));
    assert_eq!(Contract::from_canonical_json(&json).unwrap(), c);
    let dutch = ss_contract(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "");
    assert!(dutch.to_canonical_json().get("funding_streams").is_none());
    assert_eq!(dutch.to_canonical_json()["currency"], "EUR");
    // Writing the default streams is not canonical (the default is left out).
    let mut explicit = dutch.to_canonical_json();
    explicit["funding_streams"] =
        serde_json::json!(["zvw", "wlz", "wmo", "jeugdwet", "subsidy", "transformation_funds"]);
    assert!(Contract::from_canonical_json(&explicit).is_err());
    // A stream the contract does not declare, a currency not in ISO 4217.
    let p = problems(&text.replace("funding = \"medicare\"", "funding = \"zvw\""));
    assert!(
        p.contains("payments.shared_savings.funding: unknown value \"zvw\"; allowed: \"medicare\", \"medicaid\""),
        "{p}"
    );
    let p = problems(&text.replace("currency = \"USD\"", "currency = \"usd\""));
    assert!(
        p.contains("currency: \"usd\" is not an ISO 4217 currency code") && p.contains("(did you mean \"USD\"?)"),
        "{p}"
    );
    let p = problems(&text.replace("currency = \"USD\"", "currency = \"ABC\""));
    assert!(p.contains("currency: \"ABC\" is not an ISO 4217 currency code"), "{p}");
    let p = problems(&text.replace("\"medicaid\"]", "\"medicare\"]"));
    assert!(p.contains("funding_streams[1]: \"medicare\" is listed twice"), "{p}");
    // Left out: EUR and the Dutch streams, as before.
    let plain = parse(
        &ss_text(2025, 2025, "per_member_year", "1000.00", "members", ONE_SIDED, "")
            .replace("currency = \"EUR\"\n", ""),
    );
    assert_eq!(plain.currency.code(), "EUR");
    assert_eq!(plain, dutch);
}

/// Settles `c` (an [`ss_contract`] shape) with 1,000 members and `cost`.
fn one_sided_with(c: &Contract, cost: Decimal) -> Statement {
    settle1(c, &inputs(2025, &[("size", dec!(1000)), ("cost", cost), ("q", dec!(1))]))
}

#[test]
fn the_iso_4217_list_is_sorted_upper_case_and_complete_for_the_usual_codes() {
    use crate::domain::contract::{Currency, ISO_4217};
    assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats (binary search relies on it)");
    assert!(ISO_4217.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    for code in ["EUR", "USD", "GBP", "CHF", "JPY", "SEK", "DKK", "NOK", "PLN", "CAD", "AUD"] {
        assert_eq!(Currency::from_code(code).map(|c| c.code().to_string()), Some(code.to_string()));
    }
    for code in ["XXX", "XTS", "eur", "EURO", "", "DEM", "NLG"] {
        assert!(Currency::from_code(code).is_none(), "{code}");
    }
}

#[test]
fn line_ids_are_what_format_wrote() {
    let mut b = itoa::Buffer::new();
    assert_eq!(super::line_id(&["impulse", super::num(&mut b, 12), "due", "zv", "zh"]), "impulse.12.due.zv.zh");
    assert_eq!(super::line_id(&["p4p", "hba1c"]), format!("p4p.{}", "hba1c"));
    assert_eq!(super::line_id(&["x"]), "x");
    assert_eq!(super::line_id(&[]), "");
    for n in [0usize, 7, 10, 999, usize::MAX] {
        assert_eq!(super::num(&mut b, n), n.to_string());
    }
}

// ------------------------------------------------------------ simulation speed

/// A simulation builds and moves some 60 lines per year: the words stay out
/// of the line (each phrase a vector, empty with the words off), so a line
/// moves as a small struct. Terms kept inline made it about 480 bytes.
#[test]
fn a_line_moves_as_a_small_struct() {
    let size = std::mem::size_of::<Line>();
    assert!(size <= 256, "a statement line is {size} bytes");
}

/// The payments come in the order of (payer id, provider id, stream), as a
/// map by those keys gives them (`summarize` sorts by the ids' ranks, not
/// by the ids), for every example contract over its term.
#[test]
fn payments_in_payer_provider_stream_order() {
    let mut seen = 0;
    for text in examples_text() {
        let c = parse(text);
        let role = |id: &str| c.parties.iter().find(|p| p.id == id).map(|p| p.role);
        for s in settle_term(&c, &term_inputs(&c, None)).unwrap() {
            let keys: Vec<(&str, &str, Funding)> = s
                .payments
                .iter()
                .map(|p| {
                    if role(&p.from) == Some(Role::Payer) {
                        (p.from.as_str(), p.to.as_str(), p.funding)
                    } else {
                        (p.to.as_str(), p.from.as_str(), p.funding)
                    }
                })
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "{} {}", c.id, s.year);
            seen += keys.len();
        }
    }
    assert!(seen >= 10, "only {seen} payments");
}
