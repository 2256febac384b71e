//! The statement as a document (`settle --format html|pdf`): the PDF holds
//! every payment, party total and balance of the statement with the same
//! amounts (text extracted with lopdf), in English and Dutch, for every
//! example contract and year; its bytes are the same on every run; ledger
//! text (a contract's activity name) is escaped in the HTML; the
//! signatures show each signing key's fingerprint.

mod common;

use std::path::Path;

use common::*;
use rust_decimal::Decimal;
use serde_json::Value;
use vereffen::present::lang::{Lang, Tr};
use vereffen::present::statement::{earned_or_bore_in, receives_or_pays_in};

/// A ledger in `d` with the example contract in `file` in force and every
/// example figure of `figures` submitted and attested.
fn agreed(d: &Path, file: &Path, figures: &Path) -> vereffen::domain::contract::Contract {
    agreed_ledger(d, "doc", file, figures)
}

/// The text of every page of a PDF, one line per text run (lopdf).
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!pages.is_empty());
    doc.extract_text(&pages).expect("the PDF's text can be extracted")
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn the_pdf_shows_every_payment_party_total_and_balance_in_both_languages() {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("contracts")).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 5);
    let (mut payments, mut balances) = (0, 0);
    for file in files {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let id = vereffen::domain::contract::check_file(&file).unwrap().id;
        let c = agreed(d, &file, &repo().join("examples/measurements").join(&id));
        for year in c.term.years() {
            let y = year.to_string();
            let doc: Value =
                serde_json::from_str(&ok(d, &["settle", &c.id, "--year", &y, "--format", "json"])).unwrap();
            let s = &doc["statement"];
            for lang in [Lang::En, Lang::Nl] {
                let tr = Tr::new(lang);
                let out = d.join(format!("s.{}.pdf", lang.code()));
                let args = ["--lang", lang.code(), "settle", &c.id, "--year", &y, "--format", "pdf", "--out"];
                let mut args: Vec<&str> = args.to_vec();
                args.push(out.to_str().unwrap());
                ok(d, &args);
                let bytes = std::fs::read(&out).unwrap();
                assert!(bytes.starts_with(b"%PDF-"), "{id} {y}");
                // The same bytes on every run (no clock, no random id).
                ok(d, &args);
                assert_eq!(bytes, std::fs::read(&out).unwrap(), "{id} {y} {lang}: the PDF is deterministic");
                let text = pdf_text(&bytes);
                let lines: Vec<&str> = text.lines().map(str::trim).collect();
                let name = format!("{id} {y} {lang}");
                // Payments: the route FROM -> TO, then its amount (above 0), then the stream.
                for p in s["payments"].as_array().unwrap() {
                    let route = format!("{} -> {}", p["from"].as_str().unwrap(), p["to"].as_str().unwrap());
                    let amount = tr.money(dec(&p["amount"]));
                    assert!(!amount.starts_with('-'), "{name}: {p}");
                    let found = lines
                        .windows(3)
                        .any(|w| w[0] == route && w[1] == amount && w[2] == p["funding"].as_str().unwrap());
                    assert!(found, "{name}: payment {route} {amount} is not in the PDF:\n{text}");
                    payments += 1;
                }
                // Party totals: cash received, paid, on balance; result.
                let transfers = s["lines"].as_array().unwrap().iter().any(|l| !l["funding"].is_null());
                for p in s["parties"].as_array().unwrap() {
                    let party = p["party"].as_str().unwrap();
                    if transfers {
                        let cash = [
                            party.to_string(),
                            tr.money(dec(&p["received"])),
                            tr.money(dec(&p["paid"])),
                            receives_or_pays_in(&tr, dec(&p["net"])),
                        ];
                        let found = lines.windows(4).any(|w| w == cash);
                        assert!(found, "{name}: cash of {party} {cash:?} is not in the PDF:\n{text}");
                    }
                    let result = earned_or_bore_in(&tr, dec(&p["result"]));
                    if transfers || !dec(&p["result"]).is_zero() {
                        let found = lines.windows(2).any(|w| w[0] == party && w[1] == result);
                        assert!(found, "{name}: result of {party} {result} is not in the PDF:\n{text}");
                    }
                }
                // Balances: losses carried, then each advance, start and end.
                let start_end = |a: Option<Decimal>, b: Option<Decimal>| {
                    let show = |v: Option<Decimal>| v.map(|v| tr.money(v)).unwrap_or_else(|| "-".into());
                    lines.windows(2).any(|w| w[0] == show(a) && w[1] == show(b))
                };
                let (cin, cout) = (&s["carry_in"], &s["carry_out"]);
                assert!(
                    start_end(Some(dec(&cin["losses_carried"])), Some(dec(&cout["losses_carried"]))),
                    "{name}: losses carried not in the PDF:\n{text}"
                );
                balances += 1;
                let outstanding = |c: &Value, n: &Value| {
                    c["advances"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|a| a["impulse"] == *n)
                        .map(|a| dec(&a["outstanding"]))
                };
                let mut seen = Vec::new();
                for a in cin["advances"].as_array().unwrap().iter().chain(cout["advances"].as_array().unwrap()) {
                    if seen.contains(&a["impulse"]) {
                        continue;
                    }
                    seen.push(a["impulse"].clone());
                    let start = outstanding(cin, &a["impulse"]);
                    let end = outstanding(cout, &a["impulse"]).or(start.map(|_| Decimal::new(0, 2)));
                    assert!(start_end(start, end), "{name}: advance {a} not in the PDF:\n{text}");
                    balances += 1;
                }
                // No payment line reads with a negative amount: a line
                // "FROM -> TO" is followed by an amount of 0 or more.
                for w in lines.windows(2) {
                    if w[0].contains(" -> ") && w[1].chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-') {
                        assert!(!w[1].starts_with('-'), "{name}: {} {}", w[0], w[1]);
                    }
                }
            }
        }
    }
    assert!(payments > 20 && balances > 20, "{payments} payments, {balances} balances checked");
}

/// Contract text reaches the statement's line words (here an activity's
/// name): in the HTML it is escaped, never markup, and the document has no
/// script and fetches nothing. Once the year is signed, the HTML and the
/// PDF name each signatory with the fingerprint of its key.
#[test]
fn hostile_ledger_text_is_escaped_and_signatures_show_key_fingerprints() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let src = std::fs::read_to_string(repo().join("contracts/home-care-technology-hours.toml")).unwrap();
    let hostile = r#"<script>alert('x')</script> & <img src=x onerror="y"> €ë"#;
    let text = src
        .replace(r#"name = "Home-care technology (prestatie thuiszorgtechnologie)""#, &format!("name = {hostile:?}"));
    assert_ne!(text, src, "the example contract names its activity");
    let file = d.join("hostile.toml");
    std::fs::write(&file, text).unwrap();
    let c = agreed(d, &file, &repo().join("examples/measurements/home-care-technology-berkelland"));
    let y = c.term.first_year.to_string();
    let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img src=x onerror=&quot;y&quot;&gt; €ë";
    let html = |lang: &str| {
        ok(d, &["--lang", lang, "settle", &c.id, "--year", &y, "--format", "html", "--out", "s.html"]);
        std::fs::read_to_string(d.join("s.html")).unwrap()
    };
    for lang in ["en", "nl"] {
        let h = html(lang);
        assert!(h.contains(escaped), "{lang}: the activity name is shown escaped:\n{h}");
        assert!(!h.contains("<script") && !h.contains("<img"), "{lang}: ledger text became markup");
        assert!(!h.contains("src=\"") && !h.contains("href=") && !h.contains("url("), "{lang}: fetches nothing");
        assert!(h.starts_with(&format!("<!DOCTYPE html>\n<html lang=\"{lang}\">")), "{lang}");
    }
    // The PDF carries the name as text (euro sign and diaeresis included).
    ok(d, &["settle", &c.id, "--year", &y, "--format", "pdf", "--out", "s.pdf"]);
    let pdf = pdf_text(&std::fs::read(d.join("s.pdf")).unwrap());
    assert!(pdf.contains("<script>alert('x')</script> & <img"), "{pdf}");
    assert!(pdf.contains("€ë"), "{pdf}");

    let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
    assert!(html("en").contains("No statement of this year is signed yet."));
    for p in &signatories {
        ok(d, &["settle", &c.id, "--year", &y, "--sign", "--yes", "--as", &key(p)]);
    }
    let h = html("nl");
    ok(d, &["--lang", "nl", "settle", &c.id, "--year", &y, "--format", "pdf", "--out", "s.pdf"]);
    let pdf = pdf_text(&std::fs::read(d.join("s.pdf")).unwrap());
    assert!(h.contains("Deze afrekening: vastgesteld, ondertekend door"), "{h}");
    for p in &signatories {
        let shown: Value = serde_json::from_str(ok(d, &["keys", "show", &key(p), "--json"]).trim()).unwrap();
        let fp = shown["fingerprint"].as_str().unwrap();
        let row = format!("<tr><th scope=\"row\">{p}</th><td>{fp}</td>");
        assert!(h.contains(&row), "{p}: {row} not in\n{h}");
        assert!(pdf.contains(fp), "{p}: {fp} not in the PDF:\n{pdf}");
    }
}
