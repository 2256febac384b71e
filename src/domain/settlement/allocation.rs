//! Allocation keys (verantwoording): a payment that serves several funding
//! streams is split over them by agreed figures, one per stream.
//!
//! The last step of a year (docs/FORMAT.md 5.8, "Allocation"): for each
//! payment component with an `allocation` key, every transfer line of the
//! component (`{component}.…` with a funding stream) stays in the statement
//! as the figure of the whole payment (its stream cleared: it no longer
//! moves money itself), and is followed by one transfer per stream of the
//! key, `{line id}.{stream}`, same FROM -> TO, in the stream. The parts are
//! amount x figure(stream) / sum of the key's figures, cut to cents toward
//! zero; the cents left over go one each to the largest cut-off fractions,
//! ties in the order of the contract's `funding_streams` (the largest
//! remainder method of `distribution`). The parts sum exactly to the
//! payment. A key whose figures sum to 0 is an error that names them.
//!
//! The step runs after every component, the impulse repayments and the
//! revenue guarantees, so those read the whole payments as before.

use rust_decimal::Decimal;

use super::distribution::split;
use super::why::{int, money as m, name, number, w, Phrase};
use super::{line_id, Ctx, Line, SettleError};
use crate::domain::contract::{AllocationKey, Contract, Funding, Remainder};

/// The components that may carry an allocation key: (line id prefix,
/// contract field, key).
pub fn keyed_components(c: &Contract) -> Vec<(&'static str, &'static str, &AllocationKey)> {
    let p = &c.payments;
    let mut out = Vec::new();
    if let Some(k) = p.shared_savings.as_ref().and_then(|s| s.allocation.as_ref()) {
        out.push(("shared_savings", "payments.shared_savings.allocation", k));
    }
    if let Some(k) = p.bundled.as_ref().and_then(|s| s.allocation.as_ref()) {
        out.push(("bundled", "payments.bundled.allocation", k));
    }
    if let Some(k) = p.capitation.as_ref().and_then(|s| s.allocation.as_ref()) {
        out.push(("capitation", "payments.capitation.allocation", k));
    }
    if let Some(k) = p.volume.as_ref().and_then(|s| s.allocation.as_ref()) {
        out.push(("volume", "payments.volume.allocation", k));
    }
    if let Some(k) = p.pay_for_performance.as_ref().and_then(|s| s.allocation.as_ref()) {
        out.push(("p4p", "payments.pay_for_performance.allocation", k));
    }
    out
}

/// One stream of a key with the year's figure.
struct Weight<'a> {
    stream: Funding,
    indicator: &'a str,
    figure: Decimal,
}

/// Splits the transfers of every keyed component over its streams (see the
/// module docs).
pub(crate) fn allocate_streams(cx: &mut Ctx<'_>) -> Result<(), SettleError> {
    let c: &Contract = cx.c;
    let keyed = keyed_components(c);
    if keyed.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<(&str, Vec<Weight<'_>>)> = Vec::with_capacity(keyed.len());
    for (prefix, field, key) in &keyed {
        let mut weights = Vec::new();
        for (stream, indicator) in key.in_stream_order(&c.funding_streams) {
            let figure = cx.fig_nonneg(indicator)?;
            weights.push(Weight { stream, indicator, figure });
        }
        let total: Decimal = weights.iter().map(|x| x.figure).sum();
        if total.is_zero() {
            let named: Vec<String> =
                weights.iter().map(|x| format!("{} {} = {}", x.stream, x.indicator, x.figure)).collect();
            return Err(SettleError::InvalidFigure {
                figure: format!("{field} ({})", cx.year),
                reason: format!(
                    "the key's figures sum to 0 ({}), so the payment cannot be split; agree the figures of at least one stream above 0",
                    named.join(", ")
                ),
            });
        }
        keys.push((prefix, weights));
    }
    let lines = std::mem::take(&mut cx.lines);
    let mut out: Vec<Line> = Vec::with_capacity(lines.len() + 8);
    for mut line in lines {
        let key = keys.iter().find(|(prefix, _)| {
            line.funding.is_some() && line.id.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.'))
        });
        let (Some((_, weights)), Some(amount)) = (key, line.amount) else {
            out.push(line);
            continue;
        };
        let named: Vec<(String, Decimal)> = weights.iter().map(|x| (x.stream.word().to_string(), x.figure)).collect();
        let parts = split(amount, &named, Remainder::LargestRemainder, &line.id)?;
        debug_assert_eq!(parts.iter().map(|p| p.amount).sum::<Decimal>(), amount, "the parts sum to the payment");
        let total: Decimal = weights.iter().map(|x| x.figure).sum();
        line.funding = None;
        let whole = line.clone();
        out.push(line);
        for (x, part) in weights.iter().zip(parts) {
            let label = w!("accountability-line-part-label", "{} ({})", whole.label.clone(), name(x.stream.word()));
            let formula = part_words(&whole, x, total, part.amount, part.extra_cents);
            let mut l = whole.clone();
            l.id = line_id(&[&whole.id, x.stream.word()]);
            l.label = label;
            l.formula = formula;
            // Exact: a part is whole cents (a zero part may come without scale).
            let mut amount = part.amount;
            amount.rescale(2);
            l.amount = Some(amount);
            l.funding = Some(x.stream);
            l.v1_amount = if whole.v1_amount.is_sign_negative() { -amount } else { amount };
            out.push(l);
        }
    }
    cx.lines = out;
    Ok(())
}

/// `Part zvw = 1,000.00 x 30 (cm-zvw) / 40 = 750.00`, with the cents the
/// largest remainder added.
fn part_words(whole: &Line, x: &Weight<'_>, total: Decimal, part: Decimal, extra: u32) -> Phrase {
    let cents = match extra {
        0 => w!("line-nothing", ""),
        1 => w!("line-cents-one", " + 1 cent rounding remainder"),
        n => w!("line-cents", " + {} cents rounding remainder", int(n)),
    };
    w!(
        "accountability-line-part",
        "Part {} = {} x {} ({}) / {} = {}{}",
        name(x.stream.word()),
        m(whole.amount.unwrap_or_default()),
        number(x.figure),
        name(x.indicator),
        number(total),
        m(part),
        cents
    )
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::contract::parse_str;
    use crate::domain::settlement::{settle_year, Carry, Inputs};

    const DIALYSIS: &str = include_str!("../../../contracts/home-dialysis-bundled.toml");

    /// The dialysis example with target price 1,000.00, no stop-gain or
    /// stop-loss, two key indicators and `allocation` (`key`) on the
    /// bundled payment; `streams` replaces the default funding streams.
    fn contract(key: &str, streams: Option<&str>) -> Result<Contract, String> {
        let t = text(key, streams);
        parse_str("c.toml", &t).map_err(|d| d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))
    }

    /// The file [`contract`] reads.
    fn text(key: &str, streams: Option<&str>) -> String {
        let mut t = DIALYSIS
            .replace("target_price = 78500.00", "target_price = 1000.00")
            .replace("stop_gain = 0.05\n", "")
            .replace("stop_loss = 0.10\n", &format!("{key}\n"))
            .replace(
                "[[indicators]]\nid = \"home-share\"",
                "[[indicators]]\nid = \"cm-zvw\"\nname = \"Zvw client-months\"\nunit = \"member_months\"\n\
                 direction = \"neutral\"\nsource = \"dialysecentrum\"\n\n\
                 [[indicators]]\nid = \"cm-wlz\"\nname = \"Wlz client-months\"\nunit = \"member_months\"\n\
                 direction = \"neutral\"\nsource = \"dialysecentrum\"\n\n\
                 [[indicators]]\nid = \"home-share\"",
            );
        if let Some(s) = streams {
            t = t.replace("rounding = \"half_up\"", &format!("rounding = \"half_up\"\nfunding_streams = {s}"));
        }
        t
    }

    const KEY: &str = r#"allocation = { method = "by_indicator", indicators = { zvw = "cm-zvw", wlz = "cm-wlz" } }"#;

    /// 2025 with 10 episodes at `cost` and the key figures.
    fn settle(c: &Contract, cost: Decimal, zvw: Decimal, wlz: Decimal) -> Result<super::super::Statement, SettleError> {
        let inputs = Inputs::new(2025)
            .with("dialysis-patients", dec!(205))
            .with("home-patient-years", dec!(10))
            .with("home-dialysis-cost", cost)
            .with("home-share", dec!(0.1))
            .with("cm-zvw", zvw)
            .with("cm-wlz", wlz);
        settle_year(c, &inputs, &Carry::initial(c))
    }

    fn parts(s: &super::super::Statement) -> Vec<(String, String, String, Decimal)> {
        s.lines
            .iter()
            .filter(|l| l.id.starts_with("bundled.") && l.is_transfer())
            .map(|l| {
                (
                    l.id.to_string(),
                    format!("{}->{}", l.from.as_deref().unwrap_or(""), l.to.as_deref().unwrap_or("")),
                    l.funding.map(|f| f.to_string()).unwrap_or_default(),
                    l.amount.unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn a_gain_is_split_by_client_months_to_the_cent_by_largest_remainder() {
        let c = contract(KEY, None).unwrap();
        // 10 x 1,000.00 - 0 = 10,000.00 to the provider. zvw: 10,000.00 x
        // 3,205 / 4,707 = 6,809.0078..., wlz 3,190.9921...: cut 6,809.00 +
        // 3,190.99, one cent left to the larger fraction (zvw).
        let s = settle(&c, dec!(0), dec!(3205), dec!(1502)).unwrap();
        let whole = s.line("bundled.payment.verzekeraar.dialysecentrum").expect("the whole payment stays");
        assert_eq!(whole.amount, Some(dec!(10000.00)));
        assert!(!whole.is_transfer(), "the whole payment moves no money itself");
        assert_eq!(
            parts(&s),
            vec![
                (
                    "bundled.payment.verzekeraar.dialysecentrum.zvw".into(),
                    "verzekeraar->dialysecentrum".into(),
                    "zvw".into(),
                    dec!(6809.01)
                ),
                (
                    "bundled.payment.verzekeraar.dialysecentrum.wlz".into(),
                    "verzekeraar->dialysecentrum".into(),
                    "wlz".into(),
                    dec!(3190.99)
                ),
            ]
        );
        assert_eq!(s.totals_by_stream["zvw"].payers_to_providers, dec!(6809.01));
        assert_eq!(s.totals_by_stream["wlz"].payers_to_providers, dec!(3190.99));
        assert!(s.inputs.iter().any(|u| u.indicator == "cm-wlz" && u.value == dec!(1502)), "key figures are inputs");
        let p = s.line("bundled.payment.verzekeraar.dialysecentrum.zvw").unwrap();
        assert_eq!(
            p.formula.english(false),
            "Part zvw = 10,000.00 x 3,205 (cm-zvw) / 4,707 = 6,809.01 + 1 cent rounding remainder"
        );
    }

    #[test]
    fn a_loss_is_split_from_the_provider_and_ties_go_by_stream_order() {
        let c = contract(KEY, None).unwrap();
        // 10,000.00 - 10,001.00 = -1.00: the provider pays 1.00. zvw 0.6809
        // -> 0.68, wlz 0.3190 -> 0.31; the cent goes to wlz (0.90 > 0.09).
        let s = settle(&c, dec!(10001), dec!(3205), dec!(1502)).unwrap();
        let got = parts(&s);
        assert_eq!(got[0].1, "dialysecentrum->verzekeraar");
        assert_eq!((got[0].2.as_str(), got[0].3), ("zvw", dec!(0.68)));
        assert_eq!((got[1].2.as_str(), got[1].3), ("wlz", dec!(0.32)));
        assert_eq!(s.totals_by_stream["wlz"].providers_to_payers, dec!(0.32));
        // 10,000.01 - ... : a 0.01 gain on equal figures: the tie goes to
        // the stream listed first in funding_streams.
        let s = settle(&c, dec!(9999.99), dec!(7), dec!(7)).unwrap();
        let got = parts(&s);
        assert_eq!((got[0].2.as_str(), got[0].3), ("zvw", dec!(0.01)));
        assert_eq!((got[1].2.as_str(), got[1].3), ("wlz", dec!(0.00)));
        let c = contract(KEY, Some(r#"["wlz", "zvw"]"#)).unwrap();
        let s = settle(&c, dec!(9999.99), dec!(7), dec!(7)).unwrap();
        let got = parts(&s);
        assert_eq!((got[0].2.as_str(), got[0].3), ("wlz", dec!(0.01)));
        assert_eq!((got[1].2.as_str(), got[1].3), ("zvw", dec!(0.00)));
    }

    #[test]
    fn a_zero_key_and_a_missing_key_figure_are_errors_that_name_the_figures() {
        let c = contract(KEY, None).unwrap();
        let e = settle(&c, dec!(0), dec!(0), dec!(0)).unwrap_err().to_string();
        assert!(e.contains("payments.bundled.allocation (2025)"), "{e}");
        assert!(e.contains("zvw cm-zvw = 0, wlz cm-wlz = 0"), "{e}");
        let inputs = Inputs::new(2025)
            .with("dialysis-patients", dec!(205))
            .with("home-patient-years", dec!(10))
            .with("home-dialysis-cost", dec!(0))
            .with("home-share", dec!(0.1))
            .with("cm-zvw", dec!(1));
        let e = settle_year(&c, &inputs, &Carry::initial(&c)).unwrap_err();
        assert_eq!(e.to_string(), "missing figures: cm-wlz (2025)");
        let e = settle(&c, dec!(0), dec!(-1), dec!(3)).unwrap_err().to_string();
        assert!(e.contains("cm-zvw (2025)") && e.contains("negative"), "{e}");
    }

    #[test]
    fn key_mistakes_are_reported_at_their_line_and_column() {
        let one = r#"allocation = { method = "by_indicator", indicators = { zvw = "cm-zvw" } }"#;
        let e = contract(one, None).unwrap_err();
        assert!(e.contains("payments.bundled.allocation: an allocation key splits a payment over two or more"), "{e}");
        assert!(e.starts_with("c.toml:"), "{e}");
        let unknown = r#"allocation = { method = "by_indicator", indicators = { zvw = "cm-zvw", wlx = "cm-wlz" } }"#;
        let e = contract(unknown, None).unwrap_err();
        assert!(e.contains("payments.bundled.allocation.indicators.wlx: unknown funding stream \"wlx\""), "{e}");
        let file = text(unknown, None);
        let line = file.lines().position(|l| l.starts_with("allocation")).unwrap() + 1;
        let column = file.lines().nth(line - 1).unwrap().find("wlx").unwrap() + 1;
        assert!(e.starts_with(&format!("c.toml:{line}:{column}: ")), "{e} (line {line}, column {column})");
        let missing = r#"allocation = { method = "by_indicator", indicators = { zvw = "cm-zvw", wlz = "nope" } }"#;
        let e = contract(missing, None).unwrap_err();
        assert!(e.contains("payments.bundled.allocation.indicators.wlz: \"nope\" is not an indicator"), "{e}");
        let unit = r#"allocation = { method = "by_indicator", indicators = { zvw = "cm-zvw", wlz = "home-share" } }"#;
        let e = contract(unit, None).unwrap_err();
        assert!(e.contains("indicator \"home-share\" has unit \"fraction\""), "{e}");
        let twice = r#"allocation = { method = "by_indicator", indicators = { zvw = "cm-zvw", wlz = "cm-zvw" } }"#;
        let e = contract(twice, None).unwrap_err();
        assert!(e.contains("already gives the figure of stream"), "{e}");
        let other = r#"allocation = { method = "by_indicator", indicators = { wmo = "cm-zvw", wlz = "cm-wlz" } }"#;
        let e = contract(other, None).unwrap_err();
        assert!(e.contains("payments.bundled.funding: \"zvw\" is not one of the allocation key's streams"), "{e}");
        let method = r#"allocation = { method = "fixed", indicators = { zvw = "cm-zvw", wlz = "cm-wlz" } }"#;
        assert!(contract(method, None).unwrap_err().contains("payments.bundled.allocation.method"));
    }

    #[test]
    fn a_key_survives_the_canonical_form_and_changes_the_version_hash() {
        let c = contract(KEY, None).unwrap();
        let json = c.to_canonical_json();
        assert!(json["payments"]["bundled"].get("allocation").is_some(), "{json}");
        let back = Contract::from_canonical_json(&json).unwrap();
        assert_eq!(back, c);
        let plain = parse_str("d.toml", DIALYSIS).unwrap();
        let plain = plain.to_canonical_json();
        assert!(plain["payments"]["bundled"].get("allocation").is_none(), "no key: the canonical bytes of before");
        assert!(plain["payments"].get("bundled").is_some());
    }
}
