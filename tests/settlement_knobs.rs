//! The settlement knobs of issue 17 through the CLI, as a user settles:
//! a contract file that uses them, its figures submitted and attested,
//! `settle`. Numbers worked out by hand in the comments.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// A two-year MSSP-style contract: an agreed benchmark, a corridor table
/// set by assigned members, a lower tier inside the corridor, a loss cap
/// that is the lesser of two limits, pro-rated losses and force majeure.
const KNOBS: &str = r#"format = 1
id = "knobs-cli"
title = "Knobs through the CLI"
currency = "EUR"
rounding = "half_up"
[term]
first_year = 2025
last_year = 2026
[knobs]
scope = "whole_care_contract"
financing_base = "price_volume"
financing_goal = "result"
contract_form = "single"
term = "multi_year"
chain_partners = "none"
provider_reward = "individual"
condition_scope = "all_patients"
risk_allocation = { implementation = "payer", cost_overrun = "provider", volume = "shared" }
[[parties]]
id = "ziekenhuis"
name = "Hospital"
role = "provider"
key = "QYR3-JXLY-NXZS-O44K"
signatory = true
[[parties]]
id = "verzekeraar"
name = "Insurer"
role = "payer"
key = "W2LZ-KL4K-SE23-5TKU"
signatory = true
[population]
description = "Assigned members"
attribution = "claims"
size_indicator = "member-years"
[baseline]
mode = "agreed_total"
base_year = 2024
source = "Benchmark computed by the payer's actuary"
benchmark_indicator = "benchmark"
[[indicators]]
id = "member-years"
name = "Member-years"
unit = "members"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "assigned"
name = "Assigned members"
unit = "members"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "benchmark"
name = "Benchmark total"
unit = "eur"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "cost"
name = "Actual cost"
unit = "eur"
direction = "lower_is_better"
source = "verzekeraar"
[[indicators]]
id = "revenue"
name = "Participant revenue"
unit = "eur"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "months"
name = "Months of participation"
unit = "count"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "low-revenue"
name = "Low-revenue participant"
unit = "yes_no"
direction = "higher_is_better"
source = "verzekeraar"
[[indicators]]
id = "emergency-months"
name = "Share of the year under an emergency"
unit = "fraction"
direction = "neutral"
source = "verzekeraar"
[[indicators]]
id = "affected-members"
name = "Share of members in affected areas"
unit = "fraction"
direction = "neutral"
source = "verzekeraar"
[payments.shared_savings]
funding = "zvw"
sided = "two_sided"
actual_cost_indicator = "cost"
corridor = { method = "population_table", population_indicator = "assigned", rows = [
    { population = 5000, min_savings_rate = 0.039, min_loss_rate = 0.039 },
    { population = 60000, min_savings_rate = 0.02, min_loss_rate = 0.02 },
] }
sharing_base = "first_euro"
provider_share = 0.5
loss_share = { method = "fixed", rate = 0.5 }
loss_cap = 0.05
figure_loss_cap = { rate = 0.1, indicator = "revenue" }
participation_months_indicator = "months"
force_majeure = { method = "fraction", factors = ["emergency-months", "affected-members"] }
inside_corridor = { provider_share = 0.25, indicator = "low-revenue", target = 1 }
"#;

const KNOBS_FIGURES: &str = "indicator,period,value,note
benchmark,2025,10000000.00,
assigned,2025,20000,
cost,2025,9800000.00,
revenue,2025,4000000.00,
months,2025,12,
low-revenue,2025,1,
emergency-months,2025,0,
affected-members,2025,0,
benchmark,2026,10000000.00,
assigned,2026,20000,
cost,2026,11000000.00,
revenue,2026,4000000.00,
months,2026,9,terminated on 30 September
low-revenue,2026,1,
emergency-months,2026,0.25,
affected-members,2026,0.5,
";

/// Puts contract `text` in force in a new ledger at `d` (the demo keys of
/// the hospital and the insurer), submits `figures` as the insurer and has
/// the hospital attest them; returns the contract id.
fn in_force(d: &Path, text: &str, figures: &str) -> String {
    ok(d, &["init", "--id", "knobs-cli"]);
    add_party(d, "ziekenhuis", "Hospital", "provider", &key("ziekenhuis"));
    add_party(d, "verzekeraar", "Insurer", "payer", &key("verzekeraar"));
    let file = d.join("contract.toml");
    std::fs::write(&file, text).unwrap();
    let c = vereffen::domain::contract::check_file(&file).unwrap_or_else(|e| panic!("{e:?}"));
    ok(d, &["contract", "propose", file.to_str().unwrap(), "--as", &key("ziekenhuis")]);
    ok(d, &["contract", "accept", &c.id, "--version", &c.version_hash(), "--as", &key("verzekeraar")]);
    let csv = d.join("figures.csv");
    std::fs::write(&csv, figures).unwrap();
    ok(d, &["measure", "submit", &c.id, "--file", csv.to_str().unwrap(), "--as", &key("verzekeraar")]);
    let pending: Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap()), "--yes"]);
        }
    }
    c.id
}

/// The statement of `year` as JSON, and the line with `id` in it.
fn settle_json(d: &Path, id: &str, year: &str) -> Value {
    let v: Value = serde_json::from_str(&ok(d, &["settle", id, "--year", year, "--format", "json"])).unwrap();
    assert_eq!(v["draft"], false);
    v["statement"].clone()
}

fn line<'v>(s: &'v Value, id: &str) -> &'v Value {
    s["lines"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no line {id} in {s:#}"))
}

#[test]
fn cli_settles_a_contract_with_the_new_knobs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let id = in_force(d, KNOBS, KNOBS_FIGURES);

    // 2025: benchmark 10,000,000.00 (agreed). Corridor rate at 20,000
    // assigned members: 3.9% + (2.0% - 3.9%) x 15,000 / 55,000 =
    // 3.381818..% -> 0.033818; corridor 338,180.00. Savings 200,000.00 are
    // inside it; the hospital is low-revenue (1 meets 1): 25% x 200,000 =
    // 50,000.00 from the first euro.
    let s = settle_json(d, &id, "2025");
    assert_eq!(line(&s, "shared_savings.benchmark")["amount"], "10000000.00");
    assert_eq!(line(&s, "shared_savings.corridor_rate")["value"], "0.033818");
    assert_eq!(line(&s, "shared_savings.corridor")["amount"], "338180.00");
    assert_eq!(line(&s, "shared_savings.inside_corridor_condition")["value"], "1");
    assert_eq!(line(&s, "shared_savings.provider_payout")["amount"], "50000.00");

    // 2026: loss 1,000,000.00 past the loss corridor 338,180.00: 50% =
    // 500,000.00. Caps: 5% x 10,000,000 = 500,000.00 and 10% x 4,000,000
    // revenue = 400,000.00: the lesser applies, 400,000.00. Nine months of
    // participation: 400,000 x 9 / 12 = 300,000.00. Force majeure 0.25 x
    // 0.5 = 0.125: 37,500.00 off; the hospital pays 262,500.00.
    let s = settle_json(d, &id, "2026");
    assert_eq!(line(&s, "shared_savings.provider_loss_share")["amount"], "500000.00");
    assert_eq!(line(&s, "shared_savings.loss_cap")["amount"], "500000.00");
    assert_eq!(line(&s, "shared_savings.figure_loss_cap")["amount"], "400000.00");
    assert_eq!(line(&s, "shared_savings.loss_prorated")["amount"], "300000.00");
    assert_eq!(line(&s, "shared_savings.loss_before_force_majeure")["amount"], "300000.00");
    assert_eq!(line(&s, "shared_savings.force_majeure_reduction")["amount"], "37500.00");
    assert_eq!(line(&s, "shared_savings.provider_loss")["amount"], "262500.00");
    assert_eq!(line(&s, "shared_savings.payer_bears")["amount"], "737500.00");
    let table = ok(d, &["settle", &id, "--year", "2026"]);
    assert!(table.contains("Force majeure reduction = 12.5000% x 300,000.00 = 37,500.00"), "{table}");
}

#[test]
fn cli_settles_a_share_of_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = KNOBS
        .replace("last_year = 2026", "last_year = 2025")
        .replace("term = \"multi_year\"", "term = \"one_year\"")
        .replace("provider_share = 0.5", "provider_share = 0")
        .replace("inside_corridor = { provider_share = 0.25, indicator = \"low-revenue\", target = 1 }\n", "");
    let figures: String = KNOBS_FIGURES.lines().filter(|l| !l.contains(",2026,")).map(|l| format!("{l}\n")).collect();
    // 2025 savings 1,000,000.00 (cost 9,000,000) pass the corridor; a share of 0% pays nothing.
    let figures = figures.replace("cost,2025,9800000.00", "cost,2025,9000000.00");
    let id = in_force(d, &text, &figures);
    let s = settle_json(d, &id, "2025");
    assert_eq!(line(&s, "shared_savings.shared_base")["amount"], "1000000.00");
    assert_eq!(line(&s, "shared_savings.provider_payout")["amount"], "0.00");
    assert_eq!(line(&s, "shared_savings.payer_keeps")["amount"], "1000000.00");
    assert!(s["payments"].as_array().unwrap().is_empty(), "{s:#}");
    let table = ok(d, &["settle", &id, "--year", "2025"]);
    assert!(table.contains("the contract's share is 0%: nothing is paid"), "{table}");
}

#[test]
fn cli_settles_in_the_contracts_currency_and_funding_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = KNOBS
        .replace("currency = \"EUR\"", "currency = \"USD\"\nfunding_streams = [\"medicare\"]")
        .replace("funding = \"zvw\"", "funding = \"medicare\"");
    let id = in_force(d, &text, KNOBS_FIGURES);
    // As in 2025 above: 50,000.00 paid, now in the medicare stream.
    let s = settle_json(d, &id, "2025");
    assert_eq!(s["totals_by_stream"]["medicare"]["payers_to_providers"], "50000.00");
    assert_eq!(s["payments"][0]["funding"], "medicare");
    assert!(!s.to_string().contains("zvw"), "{s:#}");
    let table = ok(d, &["settle", &id, "--year", "2025"]);
    assert!(table.contains("(medicare)") && !table.contains("zvw"), "{table}");
    // Amounts are headed in the contract's currency in every format.
    assert!(table.contains("AMOUNT (USD)") && !table.contains("EUR"), "{table}");
    let csv = ok(d, &["settle", &id, "--year", "2025", "--format", "csv"]);
    assert!(csv.lines().next().unwrap().contains(",amount_usd,") && !csv.contains("amount_eur"), "{csv}");
    // A stream the contract does not declare is refused at its line and column.
    let bad = d.join("bad.toml");
    std::fs::write(&bad, text.replace("funding = \"medicare\"", "funding = \"zvw\"")).unwrap();
    let (code, out, err) = run(d, &["contract", "check", bad.to_str().unwrap()]);
    let all = format!("{out}{err}");
    assert!(code != 0 && all.contains(":96:11: payments.shared_savings.funding: unknown value \"zvw\""), "{all}");
}
