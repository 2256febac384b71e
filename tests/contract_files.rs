//! Contract files: every example validates and round-trips; every invalid
//! file gives exactly its expected diagnostics.

use std::path::{Path, PathBuf};

use vereffen::domain::contract::{check_file, parse_str, Contract};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

#[test]
fn example_contracts_validate_and_round_trip() {
    let examples = files("contracts", "toml");
    assert!(examples.len() >= 5, "expected at least five example contracts");
    let mut failures = Vec::new();
    for path in &examples {
        let contract = match check_file(path) {
            Ok(c) => c,
            Err(diags) => {
                for d in diags {
                    failures.push(d.to_string());
                }
                continue;
            }
        };
        let json = contract.to_canonical_json();
        let bytes = vereffen::ledger::canonical::encode(&json).unwrap();
        let back = Contract::from_canonical_json(&json).unwrap();
        assert_eq!(back, contract, "{}", path.display());
        assert_eq!(vereffen::ledger::canonical::encode(&back.to_canonical_json()).unwrap(), bytes);
        assert_eq!(back.version_hash(), contract.version_hash());
        // The canonical bytes decode as canonical JSON.
        assert_eq!(vereffen::ledger::canonical::decode(&bytes).unwrap(), json);
    }
    assert!(failures.is_empty(), "example contracts have problems:\n{}", failures.join("\n"));
}

/// The diagnostics for a file, one per line, with the file named by its
/// base name so the expectations do not depend on the checkout path.
fn diagnostics(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).unwrap();
    match parse_str(&name, &text) {
        Ok(_) => String::new(),
        Err(diags) => diags.iter().map(|d| format!("{d}\n")).collect(),
    }
}

/// Every `tests/contracts_invalid/X.toml` gives exactly the lines of
/// `X.expected`. Set `BLESS=1` to (re)write the expectations, then review them.
#[test]
fn invalid_contracts_give_exactly_the_expected_diagnostics() {
    let bless = std::env::var_os("BLESS").is_some();
    let cases = files("tests/contracts_invalid", "toml");
    assert!(cases.len() >= 12, "expected a suite of invalid files");
    let mut failures = Vec::new();
    for path in &cases {
        let got = diagnostics(path);
        assert!(!got.is_empty(), "{} unexpectedly validates", path.display());
        let expected_path = path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected =
            std::fs::read_to_string(&expected_path).unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        if got != expected {
            failures.push(format!("{}:\n--- expected\n{expected}--- got\n{got}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_file_is_a_diagnostic() {
    let diags = check_file(Path::new("no/such/contract.toml")).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert!(diags[0].to_string().starts_with("no/such/contract.toml:1:1: cannot read file: "));
}

/// The version hashes of the five example contracts, as signed into the
/// golden statements on main before the settlement knobs of issue 17 were
/// added. A new contract field must be left out of the canonical form when it
/// holds its default, so every contract written before it keeps its hash.
#[test]
fn example_contracts_keep_their_version_hashes() {
    let expected = [
        ("copd-telemonitoring-shared-savings.toml", "3d9e8c05356aea637622ce82fcf869b41623a93bb9e092008ade1856b90b7228"),
        ("regional-population-budget.toml", "2d31034291f1a7c52b6491dc939ce0f499b56987d5a6f4e6b9845e1581a901c5"),
        ("heart-failure-telemonitoring-p4p.toml", "c16e61c1b087685f1028f9818ecbf68772fcddd969ba64a3912a76daf6270d89"),
        ("home-care-technology-hours.toml", "195fbd10dcd3b209181c2900e9a2c998272768aa3c213fe03e3e83b792f4da1a"),
        ("home-dialysis-bundled.toml", "23b0f8074bc90b8a54672d23fa94f46d19fcc33c49ddc109dc9d2ceaa042f032"),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts");
    for (file, hash) in expected {
        let contract = check_file(&dir.join(file)).unwrap_or_else(|d| panic!("{file}: {d:?}"));
        assert_eq!(contract.version_hash(), hash, "{file}: the version hash changed");
    }
}
