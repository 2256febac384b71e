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

/// The canonical bytes and version hash as they were computed before the
/// direct writer: the contract's `serde_json::Value` tree, encoded. The
/// oracle of the tests below.
fn value_path(c: &Contract) -> (Result<Vec<u8>, crate::ledger::canonical::CanonicalError>, Option<String>) {
    let bytes = crate::ledger::canonical::encode(&c.to_canonical_json());
    let hash = bytes.as_ref().ok().map(|b| {
        let mut hasher = blake3::Hasher::new();
        hasher.update(HASH_DOMAIN.as_bytes());
        hasher.update(b);
        hasher.finalize().to_hex().to_string()
    });
    (bytes, hash)
}

fn assert_same_as_value_path(c: &Contract, what: &str) {
    let (bytes, hash) = value_path(c);
    assert_eq!(c.try_canonical_bytes(), bytes, "{what}: canonical bytes differ from the value path");
    assert_eq!(c.try_version_hash().ok(), hash, "{what}: version hash differs from the value path");
}

/// Every contract file of the repository (valid or not: the reader gives a
/// contract with placeholders for a file with problems) has the canonical
/// bytes and the version hash of the value path.
#[test]
fn canonical_bytes_equal_the_value_path_for_every_contract_file() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for d in ["contracts", "tests", "examples"] {
        walk(&root.join(d), &mut files);
    }
    files.sort();
    let mut compared = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if let (Some(c), _, _) = parse::parse("t.toml", &text) {
            assert_same_as_value_path(&c, &f.display().to_string());
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} contract files found");
}

pub(crate) mod generated {
    //! Generated contracts: the example contracts with random leaves of
    //! their canonical JSON replaced (any text, non-normalized decimals,
    //! integers), read back without validation.
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    pub(crate) const EXAMPLES: [&str; 5] = [
        include_str!("../../../contracts/copd-telemonitoring-shared-savings.toml"),
        include_str!("../../../contracts/home-dialysis-bundled.toml"),
        include_str!("../../../contracts/regional-population-budget.toml"),
        include_str!("../../../contracts/home-care-technology-hours.toml"),
        include_str!("../../../contracts/heart-failure-telemonitoring-p4p.toml"),
    ];

    #[derive(Debug, Clone)]
    pub(crate) enum Change {
        Text(String),
        Decimal(i64, u32),
        Integer(i64),
        Drop,
    }

    pub(crate) fn arb_change() -> impl Strategy<Value = Change> {
        prop_oneof![
            any::<String>().prop_map(Change::Text),
            "[a-z\"\\\\\u{0}-\u{1f}\u{7f}é€-]{0,12}".prop_map(Change::Text),
            (any::<i64>(), 0u32..=12).prop_map(|(m, s)| Change::Decimal(m, s)),
            (-(1i64 << 53)..(1i64 << 53)).prop_map(Change::Integer),
            Just(Change::Drop),
        ]
    }

    /// The leaves (strings, numbers) and array elements of `v`, as JSON pointers.
    fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, x)| leaves(x, format!("{at}/{k}"), out)),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    out.push(format!("{at}/{i}"));
                    leaves(x, format!("{at}/{i}"), out);
                }
            }
            Value::String(_) | Value::Number(_) => out.push(at),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Applies each change to a leaf that takes it (the contract still
    /// reads back); returns the changed contract.
    pub(crate) fn mutate(base: &Contract, changes: &[(usize, Change)]) -> Contract {
        let mut json = serde_json::to_value(base).unwrap();
        let mut current = base.clone();
        for (pick, change) in changes {
            let mut paths = Vec::new();
            leaves(&json, String::new(), &mut paths);
            let path = &paths[pick % paths.len()];
            let mut next = json.clone();
            let (parent, last) = path.rsplit_once('/').unwrap();
            match change {
                Change::Drop => {
                    if let Some(Value::Array(a)) = next.pointer_mut(parent) {
                        if let Ok(i) = last.parse::<usize>() {
                            a.remove(i);
                        }
                    }
                }
                Change::Text(t) => *next.pointer_mut(path).unwrap() = Value::String(t.clone()),
                Change::Decimal(m, s) => {
                    *next.pointer_mut(path).unwrap() = Value::String(rust_decimal::Decimal::new(*m, *s).to_string())
                }
                Change::Integer(i) => *next.pointer_mut(path).unwrap() = Value::from(*i),
            }
            if let Ok(c) = serde_json::from_value::<Contract>(next.clone()) {
                json = next;
                current = c;
            }
        }
        current
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn canonical_bytes_equal_the_value_path(
            which in 0usize..EXAMPLES.len(),
            changes in prop::collection::vec((any::<usize>(), arb_change()), 1..12),
        ) {
            let base = super::parse(EXAMPLES[which]);
            let c = mutate(&base, &changes);
            assert_same_as_value_path(&c, "generated contract");
        }
    }

    /// The generator does change contracts (the test above is not run on the
    /// five examples only): most changes take.
    #[test]
    fn generated_contracts_differ_from_the_examples() {
        let base = super::parse(EXAMPLES[0]);
        let changes: Vec<(usize, Change)> =
            (0..40).map(|i| (i * 7919, Change::Decimal(15_000 + i as i64, 3))).collect();
        let c = mutate(&base, &changes);
        assert_ne!(c.try_canonical_bytes().unwrap(), base.try_canonical_bytes().unwrap());
        assert_same_as_value_path(&c, "changed contract");
    }
}
