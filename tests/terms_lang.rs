//! The contract terms document in the reader's language
//! (`present::terms::render`): byte-identical English to the domain's
//! reference rendering for every example contract, real Dutch with nl-NL
//! amounts under Dutch, and the same escaping of hostile text.

use std::fs;
use std::path::{Path, PathBuf};

use vereffen::domain::contract::{self, Contract};
use vereffen::present::lang::{message_ids, Lang, Tr};
use vereffen::present::terms;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every contract file in contracts/ and examples/ (a TOML file with a
/// `[knobs]` table), parsed; at least the five shipped contracts.
fn contracts() -> Vec<(PathBuf, Contract)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml")
                && fs::read_to_string(&p).unwrap().lines().any(|l| l.trim() == "[knobs]")
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo().join("contracts"), &mut files);
    walk(&repo().join("examples"), &mut files);
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    files
        .into_iter()
        .map(|f| {
            let c = contract::check_file(&f).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
            (f, c)
        })
        .collect()
}

#[test]
fn english_terms_are_byte_identical_to_the_reference() {
    let tr = Tr::new(Lang::En);
    for (f, c) in contracts() {
        let reference = c.render_terms();
        let shown = terms::render(&tr, &c);
        assert!(!shown.contains('⟦'), "{}: a missing message\n{shown}", f.display());
        assert_eq!(shown, reference, "{}", f.display());
    }
}

#[test]
fn every_contract_renders_in_dutch_without_missing_messages() {
    let tr = Tr::new(Lang::Nl);
    for (f, c) in contracts() {
        let shown = terms::render(&tr, &c);
        assert!(!shown.contains('⟦'), "{}: a missing message\n{shown}", f.display());
        // Same document shape: one line for every English line.
        assert_eq!(shown.lines().count(), c.render_terms().lines().count(), "{}", f.display());
        for english in ["\nParties\n", "\nPayments\n", "\nDistribution\n", "\nIndicators\n", "\nPopulation\n"] {
            assert!(!shown.contains(english), "{}: English heading {english:?}\n{shown}", f.display());
        }
    }
}

#[test]
fn copd_terms_in_dutch_have_dutch_headings_and_amounts() {
    let c = contract::check_file(&repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    let shown = terms::render(&Tr::new(Lang::Nl), &c);
    for heading in [
        "\nPartijen\n",
        "\nKnoppen (Bijlage 3)\n",
        "\nPopulatie\n",
        "\nIndicatoren\n",
        "\nBetalingen\n",
        "\nVerdeling\n",
        "\nMonitoring\n",
    ] {
        assert!(shown.contains(heading), "{heading:?} missing\n{shown}");
    }
    for english in
        ["Parties", "Knobs", "Population\n", "Payments", "Distribution", "Shared savings", "Term:", "measured by"]
    {
        assert!(!shown.contains(english), "English {english:?} in\n{shown}");
    }
    assert!(shown.contains("Looptijd: "), "{shown}");
    assert!(shown.contains("Gedeelde besparingen ("), "{shown}");
    // nl-NL amounts (`€ 185.000,00`), never `EUR 1,234.50`.
    let amount = regex_free_amount(&shown).unwrap_or_else(|| panic!("no `€ n.nnn,nn` amount in\n{shown}"));
    assert!(amount.contains(','), "{amount}");
    assert!(!shown.contains("EUR "), "{shown}");
    let english = c.render_terms();
    assert!(english.contains("EUR "), "{english}");
    // Rates with a decimal comma where they have decimals; file words as written.
    assert!(!shown.lines().any(|l| l.contains('%') && l.contains(".5%")), "{shown}");
    assert!(shown.contains(&c.id), "{shown}");
}

/// The first `€ ` amount with thousands grouped by `.` and cents after `,`.
fn regex_free_amount(text: &str) -> Option<String> {
    text.match_indices("€ ").find_map(|(i, _)| {
        let rest = &text[i + "€ ".len()..];
        let n: String =
            rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',' || *c == '-').collect();
        let (int, cents) = n.split_once(',')?;
        (cents.len() == 2 && int.contains('.')).then(|| format!("€ {n}"))
    })
}

#[test]
fn dutch_terms_escape_hostile_text_as_the_english_do() {
    let mut c = contract::check_file(&repo().join("contracts/copd-telemonitoring-shared-savings.toml")).unwrap();
    c.title = "COPD\u{1b}]0;pwned\u{7}\nFAKE 1 line".into();
    c.parties[0].name = "Zkh\u{1b}[31m\rred".into();
    c.description = "two\nlines\u{1b}[2J".into();
    for lang in Lang::ALL {
        let shown = terms::render(&Tr::new(lang), &c);
        assert!(!shown.chars().any(|ch| ch.is_control() && ch != '\n'), "{shown}");
        assert!(!shown.lines().any(|l| l.starts_with("FAKE")), "{shown}");
        assert!(shown.contains("COPD\\u{1b}]0;pwned\\u{7}\\u{a}FAKE 1 line"), "{shown}");
    }
    assert_eq!(terms::render(&Tr::new(Lang::En), &c), c.render_terms());
}

#[test]
fn every_terms_message_exists_in_both_languages() {
    let en: Vec<String> = message_ids(Lang::En).into_iter().filter(|id| id.starts_with("terms-")).collect();
    let nl: Vec<String> = message_ids(Lang::Nl).into_iter().filter(|id| id.starts_with("terms-")).collect();
    assert!(en.len() > 90, "{en:?}");
    assert_eq!(en, nl);
}

/// The branches no example contract takes (force majeure, loss caps on a
/// figure, measured trends, tariff triggers, distribution by indicator,
/// overflowing rates, negative amounts...): built by changing the
/// all-components contract, each compared with the English reference and
/// rendered in Dutch without a missing message.
#[test]
fn every_branch_of_the_terms_matches_the_reference() {
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;
    use vereffen::domain::contract::*;
    let base = contract::check_file(&repo().join("examples/bench/all-components.toml")).unwrap();
    let d = |s: &str| -> Decimal { s.parse().unwrap() };
    let mut variants: Vec<Contract> = Vec::new();

    let mut c = base.clone();
    c.rounding = if c.rounding == Rounding::HalfUp { Rounding::HalfEven } else { Rounding::HalfUp };
    c.description = String::new();
    if let Some(s) = c.payments.shared_savings.as_mut() {
        s.inside_corridor =
            Some(InsideCorridor { provider_share: d("0.25"), indicator: "q".into(), target: d("0.875") });
        s.figure_loss_cap = Some(FigureCap { rate: d("0.035"), indicator: "cost".into() });
        s.participation_months_indicator = Some("months".into());
        s.force_majeure = Some(ForceMajeure::Fraction { factors: vec!["a".into(), "b".into()] });
        s.loss_share = Some(LossShare::Fixed { rate: d("0.125") });
        s.quality_scaling = QualityScaling::None;
        s.savings_cap = None;
        s.carry_forward_losses = !s.carry_forward_losses;
        s.recipient = c.parties.first().map(|p| p.id.clone());
        s.provider_share = Decimal::MAX;
    }
    if let Some(b) = c.baseline.as_mut() {
        b.trend = Some(Trend::RatesPerYear { rates: BTreeMap::from([(2025, d("0.031")), (2026, d("-0.5"))]) });
        b.risk_adjustment = Some(RiskAdjustment::Fixed { factor: d("1.0625") });
    }
    if let Some(v) = c.payments.volume.as_mut() {
        for a in &mut v.activities {
            a.max_amount_per_year = Some(d("-1234567.891"));
        }
    }
    for t in &mut c.tariff_adjustments {
        t.trigger = Trigger::TargetMissed { indicator: "q".into(), target: d("0.5") };
    }
    c.distribution.providers.rule =
        ProviderRule::ByIndicator { indicators: BTreeMap::from([("p1".to_string(), "visits".to_string())]) };
    c.distribution.payers.rule = PayerRule::Fixed { shares: BTreeMap::from([("z".to_string(), d("0.333"))]) };
    for i in &mut c.indicators {
        i.agreed_by.clear();
    }
    variants.push(c);

    let mut c = base.clone();
    if let Some(s) = c.payments.shared_savings.as_mut() {
        s.force_majeure = Some(ForceMajeure::Amount { indicator: "relief".into() });
    }
    if let Some(b) = c.baseline.as_mut() {
        b.trend = Some(Trend::MeasuredRate { indicator: "growth".into() });
        b.risk_adjustment = Some(RiskAdjustment::Measured { indicator: "risk".into() });
    }
    for t in &mut c.tariff_adjustments {
        t.trigger = Trigger::Always;
    }
    c.distribution.payers.rule = PayerRule::ByContribution;
    variants.push(c);

    let mut c = base.clone();
    if let Some(b) = c.baseline.as_mut() {
        b.cost = None;
    }
    variants.push(c);

    // Tariff triggers: the home care contract has a tariff adjustment.
    let hours = contract::check_file(&repo().join("contracts/home-care-technology-hours.toml")).unwrap();
    assert!(!hours.tariff_adjustments.is_empty());
    for trigger in [
        Trigger::Always,
        Trigger::TargetMet { indicator: "q".into(), target: d("0.5") },
        Trigger::TargetMissed { indicator: "q".into(), target: d("0.5") },
    ] {
        let mut c = hours.clone();
        for t in &mut c.tariff_adjustments {
            t.trigger = trigger.clone();
        }
        variants.push(c);
    }

    let en = Tr::new(Lang::En);
    let nl = Tr::new(Lang::Nl);
    for (n, c) in variants.iter().enumerate() {
        let reference = c.render_terms();
        assert_eq!(terms::render(&en, c), reference, "variant {n}");
        let dutch = terms::render(&nl, c);
        assert!(!dutch.contains('⟦'), "variant {n}: a missing message\n{dutch}");
        assert_eq!(dutch.lines().count(), reference.lines().count(), "variant {n}\n{dutch}");
    }
    // The changes took: the branches are in the text.
    let first = variants[0].render_terms();
    for text in ["force majeure", "second loss cap", "inside the corridor", "(as a fraction)", "-EUR 1,234,567.89"] {
        assert!(first.contains(text), "{text:?} not in\n{first}");
    }
    let dutch = terms::render(&nl, &variants[0]);
    for text in ["overmacht", "tweede verliesplafond", "binnen de corridor", "(als breuk)", "€ -1.234.567,89"] {
        assert!(dutch.contains(text), "{text:?} not in\n{dutch}");
    }
    let missed = variants.last().unwrap();
    assert!(missed.render_terms().contains("when q misses 0.5"), "{}", missed.render_terms());
    assert!(terms::render(&nl, missed).contains("als q 0,5 niet haalt"), "{}", terms::render(&nl, missed));
}
