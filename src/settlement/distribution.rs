//! Splitting an amount among parties so the parts sum exactly to the whole.
//!
//! Each party's exact part is `total x weight / sum of weights`. Each part is
//! first cut to whole cents toward zero; the cents left over (fewer than the
//! number of parties) then go, one each, to the largest cut-off fractions
//! (`largest_remainder`), or all to the party with the largest weight
//! (`largest_share`). Ties go to the party listed first in the contract's
//! `[[parties]]`. The contract's rounding rule is not used here: a split
//! never creates or loses a cent.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::money::{self, format_money, format_number, format_rate};
use super::{Ctx, SettleError};
use crate::contract::{Funding, PayerRule, ProviderRule, Remainder, Role};

/// One party's part of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Party id.
    pub party: String,
    /// Its amount in cents (scale 2).
    pub amount: Decimal,
    /// Leftover cents it received (0 or more).
    pub extra_cents: u32,
}

/// Splits `total` (in cents) by `weights` (party, weight >= 0), in the given
/// party order, with the remainder `rule`. `what` names the split in errors.
pub fn split(
    total: Decimal,
    weights: &[(String, Decimal)],
    rule: Remainder,
    what: &str,
) -> Result<Vec<Part>, SettleError> {
    let sum = money::sum(weights.iter().map(|(_, w)| *w), what)?;
    if sum <= Decimal::ZERO || weights.iter().any(|(_, w)| w.is_sign_negative() && !w.is_zero()) {
        return Err(SettleError::InvalidFigure {
            figure: what.to_string(),
            reason: "the distribution key must have weights of 0 or more with a positive sum".to_string(),
        });
    }
    let negative = total.is_sign_negative();
    let whole = total.abs();
    let cent = Decimal::new(1, 2);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (party, w) in weights {
        let scaled = money::mul(whole, *w, what)?;
        let mut base = money::div(scaled, sum, what)?.trunc_with_scale(2);
        // The division keeps 28 significant digits; should it have rounded up
        // across a cent, step back so the cut part never exceeds the exact one.
        if money::mul(base, sum, what)? > scaled {
            base = money::sub(base, cent, what)?;
        }
        base.rescale(2);
        remainders.push(money::sub(scaled, money::mul(base, sum, what)?, what)?);
        parts.push(Part { party: party.clone(), amount: base, extra_cents: 0 });
    }
    let given = money::sum(parts.iter().map(|p| p.amount), what)?;
    let left = money::sub(whole, given, what)?;
    let left_cents = money::mul(left, Decimal::ONE_HUNDRED, what)?;
    let n = left_cents.trunc().to_u32().unwrap_or(0);
    debug_assert!(left_cents.fract().is_zero() && (n as usize) <= parts.len());
    match rule {
        Remainder::LargestRemainder => {
            let mut order: Vec<usize> = (0..parts.len()).collect();
            // Stable sort: equal remainders keep the contract's party order.
            order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]));
            for i in order.into_iter().cycle().take(n as usize) {
                parts[i].extra_cents += 1;
            }
        }
        Remainder::LargestShare => {
            let mut best = 0;
            for (i, (_, w)) in weights.iter().enumerate() {
                if *w > weights[best].1 {
                    best = i;
                }
            }
            if let Some(p) = parts.get_mut(best) {
                p.extra_cents = n;
            }
        }
    }
    for p in &mut parts {
        p.amount = money::add(p.amount, money::mul(Decimal::from(p.extra_cents), cent, what)?, what)?;
        if negative {
            p.amount = -p.amount;
        }
    }
    debug_assert_eq!(parts.iter().map(|p| p.amount).sum::<Decimal>(), total);
    Ok(parts)
}

/// The payer key of the contract: (payer, weight) in party order.
fn payer_weights(cx: &Ctx<'_>) -> Vec<(String, Decimal)> {
    let c = cx.c;
    c.parties_with_role(Role::Payer)
        .filter_map(|p| match &c.distribution.payers.rule {
            PayerRule::ByContribution => Some((p.id.clone(), p.contribution.unwrap_or_default())),
            PayerRule::Fixed { shares } => shares.get(&p.id).map(|s| (p.id.clone(), *s)),
        })
        .collect()
}

/// The provider key for this year: (provider, weight) in party order.
fn provider_weights(cx: &mut Ctx<'_>) -> Result<Vec<(String, Decimal)>, SettleError> {
    let c = cx.c;
    let mut out = Vec::new();
    for p in c.parties_with_role(Role::Provider) {
        match &c.distribution.providers.rule {
            ProviderRule::Fixed { shares } => {
                if let Some(s) = shares.get(&p.id) {
                    out.push((p.id.clone(), *s));
                }
            }
            ProviderRule::ByIndicator { indicators } => {
                if let Some(ind) = indicators.get(&p.id) {
                    out.push((p.id.clone(), cx.fig_nonneg(ind)?));
                }
            }
        }
    }
    Ok(out)
}

fn key_words(weights: &[(String, Decimal)], party: &str, by_indicator: bool) -> String {
    let w = weights.iter().find(|(p, _)| p == party).map(|(_, w)| *w).unwrap_or_default();
    if by_indicator {
        let total: Decimal = weights.iter().map(|(_, w)| *w).sum();
        format!("{} of {}", format_number(w), format_number(total))
    } else {
        format_rate(w)
    }
}

/// A payment to be made for a component.
pub(crate) struct Payout<'p> {
    /// Line id prefix, e.g. `shared_savings.payout`.
    pub(crate) id: &'p str,
    /// Label prefix.
    pub(crate) label: &'p str,
    /// Rounded amount; positive: payer pays provider; negative: provider pays payer.
    pub(crate) amount: Decimal,
    /// Named payer, or `None` to split by the payer key.
    pub(crate) payer: Option<&'p str>,
    /// Named provider, or `None` to split by the provider key.
    pub(crate) recipient: Option<&'p str>,
    /// Funding stream.
    pub(crate) funding: Funding,
}

/// Splits `p` among payers and providers as the contract says and pushes one
/// transfer line per (payer, provider), id `{id}.{payer}.{provider}`.
/// Returns the transfers (payer, provider, amount). A zero amount makes no lines.
pub(crate) fn allocate(cx: &mut Ctx<'_>, p: &Payout<'_>) -> Result<Vec<(String, String, Decimal)>, SettleError> {
    debug_assert_eq!(p.amount.scale(), 2);
    let mut out = Vec::new();
    if p.amount.is_zero() {
        return Ok(out);
    }
    let payer_parts: Vec<(String, Decimal, String)> = match p.payer {
        Some(payer) => vec![(payer.to_string(), p.amount, String::new())],
        None => {
            let w = payer_weights(cx);
            let by_contribution = matches!(cx.c.distribution.payers.rule, PayerRule::ByContribution);
            let parts = split(p.amount, &w, cx.c.distribution.payers.remainder, &format!("payer split of {}", p.id))?;
            parts
                .into_iter()
                .map(|part| {
                    let words = if w.len() == 1 {
                        String::new()
                    } else {
                        let key = if by_contribution {
                            let c = w.iter().find(|(q, _)| *q == part.party).map(|(_, x)| *x).unwrap_or_default();
                            let total: Decimal = w.iter().map(|(_, x)| *x).sum();
                            txt!(cx, "contribution {} of {}", format_money(c), format_money(total))
                        } else {
                            key_words(&w, &part.party, false)
                        };
                        txt!(cx, "payer part: {key} of {}{}", format_money(p.amount), cents_words(part.extra_cents))
                    };
                    (part.party, part.amount, words)
                })
                .collect()
        }
    };
    for (payer, amount, payer_words) in payer_parts {
        let provider_parts: Vec<(String, Decimal, String)> = match p.recipient {
            Some(r) => vec![(r.to_string(), amount, String::new())],
            None => {
                let w = provider_weights(cx)?;
                let by_indicator = matches!(cx.c.distribution.providers.rule, ProviderRule::ByIndicator { .. });
                let parts =
                    split(amount, &w, cx.c.distribution.providers.remainder, &format!("provider split of {}", p.id))?;
                parts
                    .into_iter()
                    .map(|part| {
                        let words = if w.len() == 1 {
                            String::new()
                        } else {
                            txt!(
                                cx,
                                "provider part: {} of {}{}",
                                key_words(&w, &part.party, by_indicator),
                                format_money(amount),
                                cents_words(part.extra_cents)
                            )
                        };
                        (part.party, part.amount, words)
                    })
                    .collect()
            }
        };
        for (provider, part, provider_words) in provider_parts {
            let words: Vec<&str> =
                [payer_words.as_str(), provider_words.as_str()].into_iter().filter(|w| !w.is_empty()).collect();
            let formula = if words.is_empty() {
                txt!(cx, "{} = {}", p.label, format_money(part))
            } else {
                txt!(cx, "{}; {} = {}", p.label, words.join("; "), format_money(part))
            };
            cx.transfer(
                format!("{}.{payer}.{provider}", p.id),
                txt!(cx, "{} ({payer} to {provider})", p.label),
                formula,
                part,
                &payer,
                &provider,
                p.funding,
            );
            out.push((payer.clone(), provider, part));
        }
    }
    Ok(out)
}

fn cents_words(n: u32) -> String {
    match n {
        0 => String::new(),
        1 => " + 1 cent rounding remainder".to_string(),
        n => format!(" + {n} cents rounding remainder"),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn w(items: &[(&str, Decimal)]) -> Vec<(String, Decimal)> {
        items.iter().map(|(p, x)| (p.to_string(), *x)).collect()
    }

    fn amounts(parts: &[Part]) -> Vec<Decimal> {
        parts.iter().map(|p| p.amount).collect()
    }

    #[test]
    fn hundred_over_three_largest_remainder() {
        let k = w(&[("a", Decimal::ONE), ("b", Decimal::ONE), ("c", Decimal::ONE)]);
        let parts = split(dec!(100.00), &k, Remainder::LargestRemainder, "t").unwrap();
        // 33.333.. each; one cent left; equal remainders: first party.
        assert_eq!(amounts(&parts), vec![dec!(33.34), dec!(33.33), dec!(33.33)]);
    }

    #[test]
    fn largest_remainder_goes_to_largest_fraction() {
        // 10.00 by 1:2:4 -> 1.428571, 2.857142, 5.714285 -> cut 1.42, 2.85, 5.71 = 9.98;
        // remainders 0.00857, 0.00714, 0.00428 -> cents to a then b.
        let k = w(&[("a", dec!(1)), ("b", dec!(2)), ("c", dec!(4))]);
        let parts = split(dec!(10.00), &k, Remainder::LargestRemainder, "t").unwrap();
        assert_eq!(amounts(&parts), vec![dec!(1.43), dec!(2.86), dec!(5.71)]);
    }

    #[test]
    fn largest_share_takes_all_cents() {
        let k = w(&[("a", dec!(1)), ("b", dec!(2)), ("c", dec!(4))]);
        let parts = split(dec!(10.00), &k, Remainder::LargestShare, "t").unwrap();
        assert_eq!(amounts(&parts), vec![dec!(1.42), dec!(2.85), dec!(5.73)]);
        assert_eq!(parts[2].extra_cents, 2);
    }

    #[test]
    fn negative_totals_split_symmetrically() {
        let k = w(&[("a", dec!(0.6)), ("b", dec!(0.4))]);
        let parts = split(dec!(-0.05), &k, Remainder::LargestRemainder, "t").unwrap();
        assert_eq!(amounts(&parts), vec![dec!(-0.03), dec!(-0.02)]);
    }

    #[test]
    fn zero_key_is_an_error() {
        let k = w(&[("a", dec!(0)), ("b", dec!(0))]);
        let e = split(dec!(1.00), &k, Remainder::LargestRemainder, "provider split of x").unwrap_err();
        assert!(e.to_string().contains("provider split of x"), "{e}");
    }
}
