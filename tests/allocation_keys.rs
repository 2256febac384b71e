//! Allocation keys on every payment component that can serve several
//! funding streams (issue 15, verantwoording): volume and pay for
//! performance take the key shared savings, bundled payments and
//! capitation already took; an impulse and a revenue guarantee refuse one
//! at its FILE:LINE:COLUMN, saying why. Numbers worked out by hand in the
//! comments.

mod common;

use std::path::Path;

use common::*;
use rust_decimal::Decimal;
use serde_json::Value;

/// The heart-failure example with both its volume payment and its bonuses
/// split over zvw and wlz by the hospital's clients per stream.
fn keyed_contract() -> String {
    let text = std::fs::read_to_string(repo().join("contracts/heart-failure-telemonitoring-p4p.toml")).unwrap();
    let key =
        "allocation = { method = \"by_indicator\", indicators = { zvw = \"clients-zvw\", wlz = \"clients-wlz\" } }";
    let indicators = "[[indicators]]
id = \"clients-zvw\"
name = \"Clients whose care is paid under the Zvw\"
unit = \"count\"
direction = \"neutral\"
source = \"ziekenhuis\"

[[indicators]]
id = \"clients-wlz\"
name = \"Clients whose care is paid under the Wlz\"
unit = \"count\"
direction = \"neutral\"
source = \"ziekenhuis\"

[payments.volume]";
    let out = text
        .replacen("[payments.volume]", indicators, 1)
        .replacen(
            "[payments.volume]\nfunding = \"zvw\"\n",
            &format!("[payments.volume]\nfunding = \"zvw\"\n{key}\n"),
            1,
        )
        .replacen(
            "[payments.pay_for_performance]\nfunding = \"zvw\"\n",
            &format!("[payments.pay_for_performance]\nfunding = \"zvw\"\n{key}\n"),
            1,
        );
    assert_eq!(out.matches("\nallocation = ").count(), 2, "both keys are in: {out}");
    out
}

/// A ledger in `d` with [`keyed_contract`] in force and the example's
/// figures plus the clients per stream (9 zvw, 4 wlz every year) agreed.
fn keyed_ledger(d: &Path) -> vereffen::domain::contract::Contract {
    let file = d.join("keyed.toml");
    std::fs::write(&file, keyed_contract()).unwrap();
    let figures = d.join("figures");
    std::fs::create_dir_all(&figures).unwrap();
    let src = repo().join("examples/measurements/heart-failure-telemonitoring-2026");
    std::fs::copy(src.join("verzekeraar.csv"), figures.join("verzekeraar.csv")).unwrap();
    let mut hospital = std::fs::read_to_string(src.join("ziekenhuis.csv")).unwrap();
    for y in 2026..=2028 {
        hospital.push_str(&format!("clients-zvw,{y},9,\nclients-wlz,{y},4,\n"));
    }
    std::fs::write(figures.join("ziekenhuis.csv"), hospital).unwrap();
    agreed_ledger(d, "keys", &file, &figures)
}

fn amount(lines: &[Value], id: &str) -> Decimal {
    let l = lines.iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no line {id} in {lines:#?}"));
    l["amount"].as_str().unwrap().parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn volume_and_bonuses_split_over_the_streams_by_their_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let c = keyed_ledger(dir);
    let v: Value = serde_json::from_str(&ok(dir, &["settle", &c.id, "--year", "2027", "--format", "json"])).unwrap();
    let s = &v["statement"];
    let lines = s["lines"].as_array().unwrap();
    // 2027, 165 patients, key zvw 9 : wlz 4 (sum 13), largest remainder:
    // lease 350.00 x 165 = 57,750.00: zvw 57,750 x 9 / 13 = 39,980.769..
    // -> 39,980.76, wlz 17,769.230.. -> 17,769.23; the cent left goes to
    // zvw (0.92 of a cent against 0.07): 39,980.77 + 17,769.23.
    let lease = "volume.device-lease.payment.verzekeraar.ziekenhuis";
    assert_eq!(amount(lines, lease), d("57750.00"));
    assert_eq!(amount(lines, &format!("{lease}.zvw")), d("39980.77"));
    assert_eq!(amount(lines, &format!("{lease}.wlz")), d("17769.23"));
    // Bed-days 2.6 meet 3.00: 150.00 x 165 = 24,750.00: zvw 17,134.615..,
    // wlz 7,615.384..: the cent to zvw (0.54 against 0.46): 17,134.62 +
    // 7,615.38.
    let beds = "p4p.bed-days-halved.payment.verzekeraar.ziekenhuis";
    assert_eq!(amount(lines, &format!("{beds}.zvw")), d("17134.62"));
    assert_eq!(amount(lines, &format!("{beds}.wlz")), d("7615.38"));
    // Admissions 1.05 meet 1.10: 25,000.00: zvw 17,307.692.., wlz
    // 7,692.307..: the cent to wlz (0.77 against 0.23): 17,307.69 + 7,692.31.
    let adm = "p4p.fewer-admissions.payment.verzekeraar.ziekenhuis";
    assert_eq!(amount(lines, &format!("{adm}.zvw")), d("17307.69"));
    assert_eq!(amount(lines, &format!("{adm}.wlz")), d("7692.31"));
    // The whole payments move no money; the streams carry the parts.
    for whole in [lease, beds, adm] {
        let l = lines.iter().find(|l| l["id"] == whole).unwrap();
        assert_eq!(l["funding"], Value::Null, "{whole}");
    }
    let t = &s["totals_by_stream"];
    assert_eq!(t["zvw"]["payers_to_providers"], "74423.08", "39,980.77 + 17,134.62 + 17,307.69: {t:#}");
    assert_eq!(t["wlz"]["payers_to_providers"], "33076.92", "17,769.23 + 7,615.38 + 7,692.31: {t:#}");

    // Accountability shows each part with its key, clause and figures.
    let acc = ok(dir, &["settle", "accountability", &c.id, "--year", "2027"]);
    for want in [
        "Funding stream wlz",
        "allocation key [payments.volume.allocation]",
        "allocation key [payments.pay_for_performance.allocation]",
        "zvw clients-zvw 9, wlz clients-wlz 4",
        "Part zvw = 57,750.00 x 9 (clients-zvw) / 13 = 39,980.77 + 1 cent",
        "Part wlz = 25,000.00 x 4 (clients-wlz) / 13 = 7,692.31 + 1 cent",
    ] {
        assert!(acc.contains(want), "{want:?} not in:\n{acc}");
    }
    let nl = ok(dir, &["--lang", "nl", "settle", "accountability", &c.id, "--year", "2027"]);
    for want in [
        "Financieringsstroom wlz",
        "verdeelsleutel [payments.volume.allocation]",
        "verdeelsleutel [payments.pay_for_performance.allocation]",
        "57.750,00",
        "39.980,77",
    ] {
        assert!(nl.contains(want), "{want:?} not in:\n{nl}");
    }
    // The contract as read says so.
    let shown = ok(dir, &["contract", "show", &c.id]);
    assert_eq!(shown.matches("allocation key over funding streams").count(), 2, "{shown}");
}

/// Runs `contract check` on `text` and returns the combined output of the
/// (failing) check.
fn refused_check(d: &Path, text: &str) -> String {
    let f = d.join("bad.toml");
    std::fs::write(&f, text).unwrap();
    let (code, out, err) = run(d, &["contract", "check", f.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}{err}");
    format!("{out}{err}")
}

/// The 1-based line and column of the first `needle` in `text`.
fn line_col(text: &str, needle: &str) -> (usize, usize) {
    let (i, l) = text.lines().enumerate().find(|(_, l)| l.contains(needle)).unwrap();
    (i + 1, l.find(needle).unwrap() + 1)
}

#[test]
fn a_key_is_refused_where_it_makes_no_sense_at_its_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = keyed_contract();
    let key =
        "allocation = { method = \"by_indicator\", indicators = { zvw = \"clients-zvw\", wlz = \"clients-wlz\" } }";

    // A revenue guarantee: its top-up has no stream of its own to split.
    let text = base.replacen("floor = 1850000.00\n", &format!("floor = 1850000.00\n{key}\n"), 1);
    let (l, _) = line_col(&text, "floor = 1850000.00");
    let all = refused_check(dir, &text);
    assert!(all.contains(&format!(":{}:", l + 1)) && all.contains("revenue_guarantees"), "{all}");
    assert!(all.contains("a revenue guarantee takes no allocation key"), "{all}");

    // An impulse advance: repaid to the stream that lent it.
    let impulse = format!(
        "\n[[impulse]]\nyear = 2026\nrecipient = \"ziekenhuis\"\npayer = \"verzekeraar\"\namount = 1000.00\nkind = \"grant\"\nfunding = \"zvw\"\npurpose = \"kits\"\n{key}\n"
    );
    let text = format!("{base}{impulse}");
    let (l, c) = line_col(&text, "[[impulse]]");
    let all = refused_check(dir, &text);
    assert!(all.contains(&format!(":{}:", l + 8)), "the key's line {}: {all}", l + 8);
    assert!(all.contains("an impulse takes no allocation key") && all.contains("one [[impulse]] per funding stream"));
    let _ = c;

    // A bonus paid in a stream the key does not name.
    let text = base.replacen(
        "amount = 25000.00\nbasis = \"fixed\"\n",
        "amount = 25000.00\nbasis = \"fixed\"\nfunding = \"wmo\"\n",
        1,
    );
    let (l, _) = line_col(&text, "funding = \"wmo\"");
    let all = refused_check(dir, &text);
    assert!(all.contains(&format!(":{l}:")), "{all}");
    assert!(all.contains("payments.pay_for_performance.bonuses[1].funding"), "{all}");
    assert!(all.contains("\"wmo\" is not one of the allocation key's streams"), "{all}");
}
