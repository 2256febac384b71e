//! Unit tests of the contract module: exact decimals, canonical form,
//! version hash, diff and the smaller helpers.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;

const COPD: &str = include_str!("../../../contracts/copd-telemonitoring-shared-savings.toml");

fn parse(text: &str) -> Contract {
    match parse_str("t.toml", text) {
        Ok(c) => c,
        Err(d) => panic!("{}", d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")),
    }
}

fn ss(c: &Contract) -> &SharedSavings {
    c.payments.shared_savings.as_ref().unwrap()
}

#[test]
fn decimals_come_from_the_source_text_not_from_f64() {
    // 0.1 is not representable in binary; the digits must survive exactly,
    // including more digits than a binary float holds.
    let text = COPD.replace("provider_share = 0.5", "provider_share = 0.1000000000000000055511151231");
    let c = parse(&text);
    assert_eq!(ss(&c).provider_share.to_string(), "0.1000000000000000055511151231");
    let c = parse(&COPD.replace("provider_share = 0.5", "provider_share = 0.1"));
    assert_eq!(ss(&c).provider_share, dec!(0.1));
}

#[test]
fn rates_accept_quoted_decimals_and_percentages() {
    for (written, exact) in [("\"0.125\"", dec!(0.125)), ("\"12.5%\"", dec!(0.125)), ("12.5e-2", Decimal::ZERO)] {
        let text = COPD.replace("provider_share = 0.5", &format!("provider_share = {written}"));
        match parse_str("t.toml", &text) {
            Ok(c) => assert_eq!(ss(&c).provider_share, exact),
            Err(d) => {
                assert_eq!(written, "12.5e-2");
                assert!(d[0].message.contains("is not an exact decimal"), "{}", d[0]);
            }
        }
    }
    // Money never takes a percentage.
    let err = parse_str("t.toml", &COPD.replace("cost = 6240.00", "cost = \"6240%\"")).unwrap_err();
    assert!(err[0].to_string().starts_with("t.toml:70:8: baseline.cost: "), "{}", err[0]);
}

#[test]
fn trailing_zeros_do_not_change_the_hash() {
    let a = parse(COPD);
    let b =
        parse(&COPD.replace("provider_share = 0.5", "provider_share = 0.500").replace("cost = 6240.00", "cost = 6240"));
    assert_eq!(a.version_hash(), b.version_hash());
    let c = parse(&COPD.replace("provider_share = 0.5", "provider_share = 0.6"));
    assert_ne!(a.version_hash(), c.version_hash());
}

#[test]
fn version_hash_is_blake3_of_domain_and_canonical_bytes() {
    let c = parse(COPD);
    let mut bytes = HASH_DOMAIN.as_bytes().to_vec();
    bytes.extend(crate::ledger::canonical::encode(&c.to_canonical_json()).unwrap());
    assert_eq!(c.version_hash(), blake3::hash(&bytes).to_hex().to_string());
    assert_eq!(c.version_hash().len(), 64);
}

#[test]
fn defaults_are_explicit_in_the_canonical_form() {
    let c = parse(COPD);
    let json = c.to_canonical_json();
    // agreed_by omitted nowhere in COPD, but monitoring defaults and the
    // single-payer distribution are filled in.
    assert_eq!(json["distribution"]["payers"]["rule"]["shares"]["verzekeraar"], "1");
    assert_eq!(json["payments"]["volume"], serde_json::Value::Null);
    assert_eq!(json["indicators"][1]["aggregation"], "sum");
    assert_eq!(json["payments"]["shared_savings"]["withhold"], "0");
}

#[test]
fn from_canonical_refuses_non_canonical_json() {
    let c = parse(COPD);
    let mut json = c.to_canonical_json();
    json["payments"]["shared_savings"]["provider_share"] = serde_json::json!("0.50");
    assert_eq!(Contract::from_canonical_json(&json), Err(CanonicalContractError::NotCanonical));
    let mut json = c.to_canonical_json();
    json["payments"]["shared_savings"]["provider_share"] = serde_json::json!(1);
    assert!(Contract::from_canonical_json(&json).is_err());
    let mut json = c.to_canonical_json();
    json.as_object_mut().unwrap().remove("monitoring");
    assert!(matches!(Contract::from_canonical_json(&json), Err(CanonicalContractError::Shape(_))));
    let mut json = c.to_canonical_json();
    json["surprise"] = serde_json::json!(true);
    assert!(matches!(Contract::from_canonical_json(&json), Err(CanonicalContractError::Shape(_))));
    let mut json = c.to_canonical_json();
    json["payments"]["shared_savings"]["savings_cap"] = serde_json::json!("1.2");
    assert!(matches!(Contract::from_canonical_json(&json), Err(CanonicalContractError::Invalid(_))));
}

#[test]
fn diff_describes_changes_in_words() {
    let a = parse(COPD);
    let b = parse(
        &COPD
            .replace("provider_share = 0.5", "provider_share = 0.6")
            .replace("chain_partners = \"chain\"", "chain_partners = \"per_provider\"")
            .replace("amount = 185000.00", "amount = 200000.00"),
    );
    let changes: Vec<String> = diff(&a, &b).iter().map(|c| c.to_string()).collect();
    assert_eq!(
        changes,
        [
            "impulse amount (0): EUR 185,000.00 -> EUR 200,000.00",
            "knob 7, chain partners: chain -> per_provider",
            "provider share of savings: 50% -> 60%",
        ]
    );
    assert!(diff(&a, &a).is_empty());
}

#[test]
fn knobs_lists_all_nine() {
    let k = parse(COPD).knobs();
    assert_eq!(k.len(), 9);
    assert_eq!(k[4], ("5. term", "multi_year (2025-2027)".to_string()));
}

#[test]
fn diagnostics_are_sorted_and_formatted() {
    let text = COPD
        .replace("rounding = \"half_up\"", "rounding = \"half-up\"")
        .replace("sided = \"two_sided\"", "sided = \"two_sided\"\nsidde = 1");
    let d: Vec<String> = parse_str("x.toml", &text).unwrap_err().iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        [
            "x.toml:17:12: rounding: unknown value \"half-up\" (did you mean \"half_up\"?); allowed: \"half_up\", \"half_even\"",
            "x.toml:128:1: payments.shared_savings.sidde: unknown field (did you mean \"sided\"?)",
        ]
    );
}

#[test]
fn limits_are_enforced() {
    let big = "#".repeat(MAX_FILE_BYTES + 1);
    let d = parse_str("big.toml", &big).unwrap_err();
    assert_eq!(d[0].to_string(), format!("big.toml:1:1: file is larger than {MAX_FILE_BYTES} bytes"));
}

#[test]
fn dates_and_fingerprints() {
    assert_eq!(Date::parse("2028-02-29").map(|d| d.to_string()), Some("2028-02-29".into()));
    assert!(Date::parse("2027-02-29").is_none());
    assert!(Date::parse("2027-2-1").is_none());
    assert!(valid_fingerprint("ZHOA-7K3Q-M2XD-4PWN"));
    assert!(!valid_fingerprint("ZHOA-7K3Q-M2XD-4PW1"));
    assert!(!valid_fingerprint("zhoa-7K3Q-M2XD-4PWN"));
    assert!(!valid_fingerprint("ZHOA7K3QM2XD4PWN"));
}

/// A contract without a canonical form (a count beyond 2^53-1) has no
/// version hash: an error, never the hash of empty bytes shared by every
/// such contract. `validate` refuses it, so a validated contract always has one.
#[test]
fn a_contract_without_canonical_form_has_no_hash() {
    let mut a = parse(COPD);
    a.population.expected_size = Some(u64::MAX);
    let mut b = parse(COPD);
    b.population.expected_size = Some(u64::MAX - 1);
    assert!(a.try_canonical_bytes().is_err());
    assert!(a.try_version_hash().is_err() && b.try_version_hash().is_err());
    let problems = validate(&a);
    assert!(problems.iter().any(|p| p.field == "population.expected_size"), "{problems:?}");
    let mut ok = parse(COPD);
    ok.population.expected_size = Some(super::MAX_POPULATION);
    assert!(!validate(&ok).iter().any(|p| p.field == "population.expected_size"));
    assert_eq!(ok.try_version_hash().unwrap(), ok.version_hash());
}
