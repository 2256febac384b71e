//! Languages of documents: `--lang`, the per-ledger default (`vereffen
//! config set lang`), Dutch statements and CSV, and a table that keeps its
//! alignment with long party ids and long labels.

mod common;

use std::path::Path;

use common::*;

const COPD: &str = "copd-telemonitoring-oost-achterhoek";

/// A ledger at `d/l` with the COPD example in force and every example
/// figure agreed, after replacing `from` by `to` in the contract and the
/// figures (party ids, names). Keys stay the demo keys of the original ids.
fn copd_agreed(d: &Path, replace: &[(&str, &str)]) {
    let subst = |s: &str| replace.iter().fold(s.to_string(), |s, (a, b)| s.replace(a, b));
    let contract = subst(&std::fs::read_to_string(repo().join(COPD_FILE)).unwrap());
    std::fs::write(d.join("c.toml"), &contract).unwrap();
    let c = vereffen::domain::contract::check_file(&d.join("c.toml")).expect("valid contract");
    ok(d, &["init", "--id", "lang-test"]);
    let key_of = |id: &str| {
        let original = replace.iter().find(|(_, b)| *b == id).map(|(a, _)| *a).unwrap_or(id);
        key(original)
    };
    for p in &c.parties {
        ok(
            d,
            &["party", "add", "--id", &p.id, "--name", &p.name, "--role", &p.role.to_string(), "--key", &key_of(&p.id)],
        );
    }
    let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
    ok(d, &["contract", "propose", "c.toml", "--as", &key_of(signatories[0])]);
    for p in &signatories[1..] {
        ok(d, &["contract", "accept", &c.id, "--version", &c.version_hash(), "--as", &key_of(p)]);
    }
    let mut files: Vec<_> = std::fs::read_dir(repo().join("examples/measurements").join(COPD))
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let source = subst(f.file_stem().unwrap().to_str().unwrap());
        let file = d.join(format!("{source}.csv"));
        std::fs::write(&file, subst(&std::fs::read_to_string(&f).unwrap())).unwrap();
        ok(d, &["measure", "submit", &c.id, "--file", file.to_str().unwrap(), "--as", &key_of(&source)]);
    }
    let pending: serde_json::Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key_of(p.as_str().unwrap())]);
        }
    }
}

/// The per-ledger default language: set with `config set lang nl`, used by
/// `settle` and `settle status`, overridden by `--lang`; read-only commands
/// never write it; `verify` ignores it; a bad file is named.
#[test]
fn the_ledger_default_language_is_local_overridable_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copd_agreed(d, &[]);
    let settings = d.join("l/settings.toml");
    let english = ok(d, &["settle", COPD, "--year", "2025"]);
    assert!(english.starts_with("SETTLEMENT STATEMENT"), "{english}");
    assert!(!settings.exists(), "a read-only command wrote the settings");
    ok(d, &["config", "set", "lang", "nl"]);
    assert_eq!(std::fs::read_to_string(&settings).unwrap().trim(), "lang = \"nl\"");
    assert_eq!(ok(d, &["config", "get", "lang"]).trim(), "lang = nl");
    let before = std::fs::read(&settings).unwrap();
    let dutch = ok(d, &["settle", COPD, "--year", "2025"]);
    assert!(dutch.starts_with("JAARAFREKENING"), "{dutch}");
    assert!(dutch.contains("KASSTROOM PER PARTIJ") && dutch.contains("BETALINGEN"), "{dutch}");
    let status = ok(d, &["settle", "status", COPD]);
    assert!(status.starts_with("JAAR") && status.contains("berekenbaar"), "{status}");
    assert_eq!(ok(d, &["--lang", "en", "settle", COPD, "--year", "2025"]), english, "--lang overrides the setting");
    // The inbox follows the setting too; its JSON summary stays English.
    let inbox = ok(d, &["inbox", "--as", &key("verzekeraar")]);
    assert!(inbox.starts_with("== grootboek ") && inbox.contains("2025 is berekenbaar"), "{inbox}");
    let inbox_en = ok(d, &["--lang", "en", "inbox", "--as", &key("verzekeraar")]);
    assert!(inbox_en.starts_with("== ledger ") && inbox_en.contains("2025 is computable"), "{inbox_en}");
    assert!(ok(d, &["--json", "inbox", "--as", &key("verzekeraar")]).contains("is computable"));
    // So does the log; its JSON summary stays English.
    let log = ok(d, &["log"]);
    assert!(log.contains("OMSCHRIJVING") && log.contains("stelt copd-telemonitoring-oost-achterhoek versie "), "{log}");
    assert!(log.contains("geeft akkoord op meting ") && !log.contains('⟦'), "{log}");
    let log_en = ok(d, &["--lang", "en", "log"]);
    assert!(
        log_en.contains("SUMMARY") && log_en.contains("proposes copd-telemonitoring-oost-achterhoek version "),
        "{log_en}"
    );
    assert!(ok(d, &["--json", "log"]).contains("attests measurement "));
    assert!(ok(d, &["--json", "settle", "status", COPD]).contains("\"state\": \"computable\""), "JSON stays neutral");
    assert_eq!(
        ok(d, &["settle", COPD, "--year", "2025", "--format", "json"]),
        ok(d, &["--lang", "en", "settle", COPD, "--year", "2025", "--format", "json"]),
        "JSON is language-neutral"
    );
    assert!(ok(d, &["verify"]).contains("verify OK"));
    assert_eq!(std::fs::read(&settings).unwrap(), before, "read-only commands never write the settings");
    // A bad value in the file: a clear error naming the file, nothing changed.
    std::fs::write(&settings, "lang = \"de\"\n").unwrap();
    refused(d, &["settle", COPD, "--year", "2025"], "settings.toml: lang: unknown language \"de\"");
    refused(d, &["settle", COPD, "--year", "2025"], "fix or delete it");
    std::fs::write(&settings, "colour = \"blue\"\n").unwrap();
    refused(d, &["settle", "status", COPD], "unknown setting \"colour\"");
    std::fs::write(&settings, "lang = [\n").unwrap();
    refused(d, &["settle", COPD, "--year", "2025"], "settings.toml is not valid TOML");
    // --lang does not need the file; verify ignores it.
    ok(d, &["--lang", "nl", "settle", COPD, "--year", "2025"]);
    assert!(ok(d, &["verify"]).contains("verify OK"));
    // `config set` refuses a bad value and does not replace a bad file silently.
    refused(d, &["config", "set", "lang", "fr"], "unknown language \"fr\"");
    refused(d, &["config", "set", "lang", "nl"], "settings.toml is not valid TOML");
    std::fs::remove_file(&settings).unwrap();
    ok(d, &["config", "set", "lang", "nl"]);
    ok(d, &["config", "unset", "lang"]);
    assert_eq!(ok(d, &["settle", COPD, "--year", "2025"]), english);
}

/// The Dutch CSV opens in Dutch Excel: `;` between fields, `,` decimals,
/// Dutch column names; the English CSV is unchanged (`,`, `.`).
#[test]
fn the_dutch_csv_uses_semicolons_and_decimal_commas() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copd_agreed(d, &[]);
    let nl = ok(d, &["--lang", "nl", "settle", COPD, "--year", "2025", "--format", "csv"]);
    let header = nl.lines().next().unwrap();
    assert!(header.starts_with("contract;jaar;concept;hash_afrekening;onderdeel;post;omschrijving"), "{header}");
    assert!(header.contains(";bedrag_eur;"), "{header}");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(nl.as_bytes());
    let head = reader.headers().unwrap().clone();
    let amount = head.iter().position(|h| h == "bedrag_eur").unwrap();
    let mut amounts = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        assert_eq!(rec.len(), head.len());
        if !rec[amount].is_empty() {
            assert!(!rec[amount].contains('.'), "{rec:?}");
            assert!(rec[amount].split_once(',').is_some_and(|(_, c)| c.len() == 2), "{rec:?}");
            amounts += 1;
        }
    }
    assert!(amounts > 10);
    let en = ok(d, &["settle", COPD, "--year", "2025", "--format", "csv"]);
    assert!(en.starts_with("contract,year,draft,statement_hash,section,item,label,formula,amount_eur,"), "{en}");
}

/// Party ids of 15 and more characters and labels longer than the widest
/// label column keep the table aligned and are never cut, in both languages.
#[test]
fn long_party_ids_and_labels_keep_the_table_aligned_and_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let long_name = "Emergency admissions for COPD per patient, counted from the hospital's own records of unplanned admissions through the emergency department";
    let long_party = "ziekenhuis-slingeland-doetinchem";
    copd_agreed(d, &[("ziekenhuis", long_party), ("Emergency admissions for COPD per patient", long_name)]);
    for lang in ["en", "nl"] {
        for year in ["2025", "2026"] {
            let t = ok(d, &["--lang", lang, "settle", COPD, "--year", year]);
            assert!(!t.contains("..."), "{lang} {year}: a cut label:\n{t}");
            assert!(t.contains(long_name), "{lang} {year}: the long label is shown whole:\n{t}");
            // Every row of an amount column ends in the same column as its heading.
            let rows: Vec<&str> = t.lines().collect();
            for heading in ["CASH PER PARTY", "KASSTROOM PER PARTIJ", "RESULT PER PARTY", "RESULTAAT PER PARTIJ"] {
                let Some(at) = rows.iter().position(|r| r.starts_with(heading)) else { continue };
                let width = rows[at].chars().count();
                let body: Vec<&&str> = rows[at + 2..].iter().take_while(|r| !r.is_empty()).collect();
                assert!(body.iter().any(|r| r.starts_with(long_party)), "{heading}:\n{t}");
                for r in body {
                    assert_eq!(r.chars().count(), width, "{lang} {year} {heading}: misaligned\n{}\n{r}", rows[at]);
                }
            }
            let amount_end = rows
                .iter()
                .find(|r| r.starts_with("DERIVATION") || r.starts_with("BEREKENING"))
                .unwrap()
                .chars()
                .count();
            // A derivation row ends at the amount column; a label too long
            // for the column stands alone, its amount on the next row.
            let derivation: Vec<&str> = t.split("\n\n").nth(1).unwrap().lines().collect();
            for (i, r) in derivation.iter().enumerate() {
                if r.starts_with("    ") {
                    continue;
                }
                let next = derivation.get(i + 1).copied().unwrap_or_default();
                let alone = r.chars().count() > amount_end - 21
                    && next.starts_with(&" ".repeat(40))
                    && next.chars().count() == amount_end;
                assert!(r.chars().count() == amount_end || alone, "{lang} {year}: {r:?}\n{next:?}");
            }
        }
    }
}
