//! Volume (with claim caps and tariff adjustments), pay for performance,
//! bundled payment, capitation and revenue guarantees. The order and the
//! rules are documented at the top of the settlement module.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::distribution::{allocate, Payout, PayoutId};
use super::money;
use super::why::{money as m, name, number, rate, ratio, w, List, Phrase};
use super::{line_id, num, Ctx, SettleError};
use crate::domain::contract::{
    AdjustmentKind, BonusBasis, Bundled, CapPer, Capitation, Direction, MissingMeasurement, PayForPerformance, Trigger,
    Unit, Volume,
};

/// Whether `value` is at or better than `target` in `direction` (neutral: at or above).
pub(crate) fn meets(direction: Direction, value: Decimal, target: Decimal) -> bool {
    match direction {
        Direction::LowerIsBetter => value <= target,
        Direction::HigherIsBetter | Direction::Neutral => value >= target,
    }
}

/// ` (applies)` or ` (not reached)`: whether a cap binds.
pub(crate) fn applies(binds: bool) -> Phrase {
    if binds {
        w!("line-applies", " (applies)")
    } else {
        w!("line-not-reached", " (not reached)")
    }
}

fn zero() -> Decimal {
    let mut z = Decimal::ZERO;
    z.rescale(2);
    z
}

/// Step 1: price x capped quantity per activity, tariff adjustments, yearly maximum.
pub(crate) fn volume(cx: &mut Ctx<'_>, v: &Volume) -> Result<(), SettleError> {
    let mut quantity: BTreeMap<&str, Decimal> = BTreeMap::new();
    for a in &v.activities {
        let q = cx.fig_nonneg(&a.quantity_indicator)?;
        quantity.insert(a.id.as_str(), q);
    }
    for (i, cap) in v.caps.iter().enumerate() {
        let (limit, words) = match cap.per {
            CapPer::Year => (cap.max_quantity, w!("line-cap-per-year", "{} per year", number(cap.max_quantity))),
            CapPer::ClientMonth | CapPer::ClientYear => {
                let Some(ind) = &cap.exposure_indicator else {
                    return Err(SettleError::InvalidFigure {
                        figure: format!("claim cap {}", i + 1),
                        reason: "needs an exposure indicator".to_string(),
                    });
                };
                let e = cx.fig_nonneg(ind)?;
                let words = if cap.per == CapPer::ClientMonth {
                    w!(
                        "line-cap-per-client-month",
                        "{} per client-month x {} client-months",
                        number(cap.max_quantity),
                        number(e)
                    )
                } else {
                    w!("line-cap-per-client", "{} per client x {} clients", number(cap.max_quantity), number(e))
                };
                (money::mul(cap.max_quantity, e, "claim cap")?, words)
            }
        };
        let mut remaining = limit;
        let mut before = Vec::new();
        for act in &cap.activities {
            let Some(q) = quantity.get_mut(act.as_str()) else { continue };
            before.push(w!("line-cap-claimed", "{} {}", name(act), number(*q)));
            let capped = (*q).min(remaining).max(Decimal::ZERO);
            remaining = money::sub(remaining, capped, "claim cap")?;
            *q = capped;
        }
        cx.push_value(
            line_id(&["volume.cap", num(&mut itoa::Buffer::new(), i + 1)]),
            w!(
                "line-cap-label",
                "Claim cap on {}",
                List(", ", cap.activities.iter().map(|a| w!("line-name", "{}", name(a))).collect())
            ),
            w!(
                "line-cap",
                "Cap = {} = {}; claimed {}; each activity at most what the cap leaves, in the listed order",
                words,
                number(limit),
                List(", ", before)
            ),
            limit,
        );
    }
    for a in &v.activities {
        let q = quantity.get(a.id.as_str()).copied().unwrap_or_default();
        let base = cx.round.cents(money::mul(a.price, q, "volume amount")?);
        let label = if a.code.is_empty() {
            w!("line-name", "{}", name(&a.name))
        } else {
            w!("line-volume-activity-code-label", "{} (code {})", name(&a.name), name(&a.code))
        };
        cx.push_money(
            line_id(&["volume", &a.id, "amount"]),
            label,
            w!("line-volume-amount", "{} {}s (after caps) x {} = {}", number(q), name(&a.unit), m(a.price), m(base)),
            base,
        );
        let mut total = base;
        for t in cx.c.tariff_adjustments.iter().filter(|t| t.applies_to.contains(&a.id)) {
            let (on, why) = match &t.trigger {
                Trigger::Always => (true, w!("line-trigger-always", "always")),
                Trigger::TargetMet { indicator, target } | Trigger::TargetMissed { indicator, target } => {
                    let dir = cx.c.indicator(indicator).map_or(Direction::HigherIsBetter, |i| i.direction);
                    let value = cx.fig_opt(indicator);
                    let met = value.is_some_and(|x| meets(dir, x, *target));
                    let want = matches!(t.trigger, Trigger::TargetMet { .. });
                    let shown = match value {
                        Some(x) => w!("line-number", "{}", number(x)),
                        None => w!("line-missing", "missing"),
                    };
                    let words = if met {
                        w!("line-trigger-meets", "{} {} meets target {}", name(indicator), shown, number(*target))
                    } else {
                        w!("line-trigger-misses", "{} {} misses target {}", name(indicator), shown, number(*target))
                    };
                    (met == want, words)
                }
            };
            let mut adj = if on { cx.round.cents(money::mul(t.rate, base, "tariff adjustment")?) } else { zero() };
            if t.kind == AdjustmentKind::Discount {
                adj = -adj;
            }
            let surcharge = t.kind == AdjustmentKind::Surcharge;
            let formula = match (surcharge, on) {
                (true, true) => {
                    w!("line-surcharge", "Surcharge ({}) = {} x {} = {}", why, rate(t.rate), m(base), m(adj))
                }
                (false, true) => {
                    w!("line-discount", "Discount ({}) = {} x {} = {}", why, rate(t.rate), m(base), m(adj))
                }
                (true, false) => w!("line-surcharge-off", "Surcharge not triggered ({})", why),
                (false, false) => w!("line-discount-off", "Discount not triggered ({})", why),
            };
            let label = if surcharge {
                w!("line-surcharge-label", "Surcharge: {}", name(&t.reason))
            } else {
                w!("line-discount-label", "Discount: {}", name(&t.reason))
            };
            cx.push_money(line_id(&["volume", &a.id, "adjustment", &t.id]), label, formula, adj);
            total = money::add(total, adj, "volume amount")?;
        }
        if let Some(max) = a.max_amount_per_year {
            if total > max {
                let cut = money::sub(max, total, "volume maximum")?;
                cx.push_money(
                    line_id(&["volume", &a.id, "max"]),
                    w!("line-volume-max-label", "Yearly maximum"),
                    w!(
                        "line-volume-max",
                        "Capped at the yearly maximum {}: {} - {} = {}",
                        m(max),
                        m(max),
                        m(total),
                        m(cut)
                    ),
                    cut,
                );
                total = cx.round.cents(max);
            }
        }
        allocate(
            cx,
            &Payout {
                id: PayoutId::Parts(&["volume", &a.id, "payment"]),
                label: w!("line-volume-payment-label", "Volume payment {}", name(&a.id)),
                amount: total,
                payer: Some(&a.payer),
                recipient: Some(&a.provider),
                funding: a.funding,
            },
        )?;
    }
    Ok(())
}

/// Step 2: bonuses whose target is met.
pub(crate) fn pay_for_performance(cx: &mut Ctx<'_>, p: &PayForPerformance) -> Result<(), SettleError> {
    let lenient = cx.c.monitoring.missing_measurement == MissingMeasurement::TreatAsNotMet;
    for b in &p.bonuses {
        let dir = cx.c.indicator(&b.indicator).map_or(Direction::HigherIsBetter, |i| i.direction);
        let value = if lenient { cx.fig_opt(&b.indicator) } else { Some(cx.fig(&b.indicator)?) };
        let met = value.is_some_and(|v| meets(dir, v, b.target));
        let shown = match value {
            Some(v) => w!("line-number", "{}", number(v)),
            None => w!("line-missing-not-met", "missing (treated as not met)"),
        };
        let (amount, how) = if !met {
            (zero(), w!("line-p4p-not-met", "not met: no bonus"))
        } else {
            match b.basis {
                BonusBasis::Fixed => (cx.round.cents(b.amount), w!("line-p4p-met", "met: {}", m(b.amount))),
                BonusBasis::PerMember => {
                    let (a, words) = cx.per_member(b.amount, "bonus per member")?;
                    (a, w!("line-p4p-met-per-member", "met: {} x {} = {}", m(b.amount), words, m(a)))
                }
            }
        };
        let formula = if dir == Direction::LowerIsBetter {
            w!("line-p4p-at-most", "{} = {}, target at most {}: {}", name(&b.indicator), shown, number(b.target), how)
        } else {
            w!("line-p4p-at-least", "{} = {}, target at least {}: {}", name(&b.indicator), shown, number(b.target), how)
        };
        cx.push_money(line_id(&["p4p", &b.id]), w!("line-p4p-label", "Bonus {}", name(&b.id)), formula, amount);
        allocate(
            cx,
            &Payout {
                id: PayoutId::Parts(&["p4p", &b.id, "payment"]),
                label: w!("line-p4p-label", "Bonus {}", name(&b.id)),
                amount,
                payer: b.payer.as_deref(),
                recipient: b.recipient.as_deref(),
                funding: b.funding,
            },
        )?;
    }
    Ok(())
}

/// The target total (target price x episodes), pushed as `bundled.target_total`.
pub(crate) fn bundled_target(cx: &mut Ctx<'_>, b: &Bundled) -> Result<Decimal, SettleError> {
    let episodes = cx.fig_nonneg(&b.episodes_indicator)?;
    let target = cx.round.cents(money::mul(b.target_price, episodes, "bundled target total")?);
    cx.push_money(
        "bundled.target_total",
        w!("line-bundled-target-label", "Target total"),
        w!(
            "line-bundled-target",
            "Target total = {} per episode x {} episodes = {}",
            m(b.target_price),
            number(episodes),
            m(target)
        ),
        target,
    );
    Ok(target)
}

/// Step 4: target price x episodes - actual cost, within stop-gain / stop-loss.
pub(crate) fn bundled(cx: &mut Ctx<'_>, b: &Bundled) -> Result<(), SettleError> {
    let target = bundled_target(cx, b)?;
    cx.base_line("bundled.target_total", target)?;
    let actual = cx.round.cents(cx.fig_nonneg(&b.actual_cost_indicator)?);
    cx.push_money(
        "bundled.actual_cost",
        w!("line-actual-cost-label", "Actual cost"),
        w!("line-actual-cost", "Actual cost ({}) = {}", name(&b.actual_cost_indicator), m(actual)),
        actual,
    );
    let raw = money::sub(target, actual, "bundled result")?;
    cx.push_money(
        "bundled.result",
        w!("line-bundled-result-label", "Result before stop-gain / stop-loss"),
        w!("line-bundled-result", "Result = {} - {} = {}", m(target), m(actual), m(raw)),
        raw,
    );
    let mut result = raw;
    if raw > Decimal::ZERO {
        if let Some(r) = b.stop_gain {
            let cap = cx.round.cents(money::mul(r, target, "stop-gain")?);
            cx.push_money(
                "bundled.stop_gain",
                w!("line-stop-gain-label", "Stop-gain"),
                w!("line-stop-gain", "Stop-gain = {} x {} = {}{}", rate(r), m(target), m(cap), applies(raw > cap)),
                cap,
            );
            result = result.min(cap);
        }
    } else if raw < Decimal::ZERO {
        if let Some(r) = b.stop_loss {
            let cap = cx.round.cents(money::mul(r, target, "stop-loss")?);
            cx.push_money(
                "bundled.stop_loss",
                w!("line-stop-loss-label", "Stop-loss"),
                w!("line-stop-loss", "Stop-loss = {} x {} = {}{}", rate(r), m(target), m(cap), applies(-raw > cap)),
                cap,
            );
            result = result.max(-cap);
        }
    }
    cx.push_money(
        "bundled.settlement",
        w!("line-bundled-settlement-label", "Bundled settlement"),
        w!("line-bundled-settlement", "Settlement = {}", m(result)),
        result,
    );
    allocate(
        cx,
        &Payout {
            id: PayoutId::Fixed("bundled.payment"),
            label: w!("line-bundled-settlement-label", "Bundled settlement"),
            amount: result,
            payer: b.payer.as_deref(),
            recipient: b.recipient.as_deref(),
            funding: b.funding,
        },
    )?;
    Ok(())
}

/// The population budget, pushed as `capitation.budget`.
pub(crate) fn capitation_budget(cx: &mut Ctx<'_>, cap: &Capitation) -> Result<Decimal, SettleError> {
    let members = cx.fig_nonneg(&cap.members_indicator)?;
    let monthly = cx.c.indicator(&cap.members_indicator).is_some_and(|i| i.unit == Unit::MemberMonths);
    let raw = money::mul(cap.amount_per_member, members, "capitation budget")?;
    let (budget, words) = if monthly {
        (
            cx.round.cents(money::div(raw, Decimal::from(12), "capitation budget")?),
            w!("line-size-member-months", "{} member-months / 12", number(members)),
        )
    } else {
        (cx.round.cents(raw), w!("line-size-members", "{} members", number(members)))
    };
    cx.push_money(
        "capitation.budget",
        w!("line-capitation-budget-label", "Population budget"),
        w!(
            "line-capitation-budget",
            "Budget = {} per member-year x {} = {}",
            m(cap.amount_per_member),
            words,
            m(budget)
        ),
        budget,
    );
    Ok(budget)
}

/// Step 5: budget - actual cost, shared per risk band.
pub(crate) fn capitation(cx: &mut Ctx<'_>, cap: &Capitation) -> Result<(), SettleError> {
    let budget = capitation_budget(cx, cap)?;
    cx.base_line("capitation.budget", budget)?;
    let actual = cx.round.cents(cx.fig_nonneg(&cap.actual_cost_indicator)?);
    cx.push_money(
        "capitation.actual_cost",
        w!("line-actual-cost-label", "Actual cost"),
        w!("line-actual-cost", "Actual cost ({}) = {}", name(&cap.actual_cost_indicator), m(actual)),
        actual,
    );
    let result = money::sub(budget, actual, "capitation result")?;
    let result_rate = cx.round.ratio(money::div(result, budget, "capitation result rate (budget is 0)")?);
    cx.push_money(
        "capitation.result",
        w!("line-capitation-result-label", "Result (budget - actual)"),
        w!(
            "line-capitation-result",
            "Result = {} - {} = {} ({} of the budget)",
            m(budget),
            m(actual),
            m(result),
            ratio(result_rate)
        ),
        result,
    );
    let size = result.abs();
    let gain = result > Decimal::ZERO;
    let mut provider = zero();
    for (i, band) in cap.risk_corridors.iter().enumerate() {
        let lo = cx.round.cents(money::mul(band.from, budget, "risk band edge")?);
        let hi = match band.to {
            Some(to) => Some(cx.round.cents(money::mul(to, budget, "risk band edge")?)),
            None => None,
        };
        let top = hi.map_or(size, |h| size.min(h));
        let mut part = money::sub(top, lo, "risk band part")?.max(Decimal::ZERO);
        part.rescale(2);
        let share = cx.round.cents(money::mul(band.provider_share, part, "risk band share")?);
        let range = || match band.to {
            Some(to) => w!("line-band-range", "{} to {}", rate(band.from), rate(to)),
            None => w!("line-band-beyond", "beyond {}", rate(band.from)),
        };
        let high = match hi {
            Some(h) => w!("line-money", "{}", m(h)),
            None => w!("line-band-open", "open"),
        };
        cx.push_money(
            line_id(&["capitation.band", num(&mut itoa::Buffer::new(), i + 1)]),
            w!("line-band-label", "Risk band {}", range()),
            w!(
                "line-band",
                "Band {} of the budget ({} to {}): part {} x provider share {} = {}",
                range(),
                m(lo),
                high,
                m(part),
                rate(band.provider_share),
                m(share)
            ),
            share,
        );
        provider = money::add(provider, share, "capitation provider result")?;
    }
    let signed = if gain { provider } else { -provider };
    let (label, formula) = if gain {
        (
            w!("line-providers-keep-label", "Providers keep"),
            w!("line-providers-keep", "Providers keep = {}", m(provider)),
        )
    } else {
        (
            w!("line-providers-bear-label", "Providers bear"),
            w!("line-providers-bear", "Providers bear = {}", m(provider)),
        )
    };
    cx.push_money("capitation.provider_result", label, formula, signed);
    let payer_part = money::sub(result, signed, "capitation payer result")?;
    cx.push_money(
        "capitation.payer_result",
        w!("line-capitation-payer-label", "Payer's part of the result"),
        w!("line-capitation-payer", "Payer's part = {} - {} = {}", m(result), m(signed), m(payer_part)),
        payer_part,
    );
    allocate(
        cx,
        &Payout {
            id: PayoutId::Fixed("capitation.payment"),
            label: w!("line-capitation-payment-label", "Capitation settlement"),
            amount: signed,
            payer: cap.payer.as_deref(),
            recipient: cap.recipient.as_deref(),
            funding: cap.funding,
        },
    )?;
    Ok(())
}

/// Step 7: top up each guaranteed provider's revenue to the floor. Without a
/// revenue indicator, revenue is the provider's transfers in `lines[..end]`.
pub(crate) fn revenue_guarantees(cx: &mut Ctx<'_>, end: usize) -> Result<(), SettleError> {
    let year = cx.year;
    for (i, g) in cx.c.revenue_guarantees.iter().enumerate() {
        if !g.years.contains(&year) {
            continue;
        }
        let (revenue, source) = match &g.revenue_indicator {
            Some(ind) => (cx.round.cents(cx.fig(ind)?), w!("line-revenue-measured", "measured ({})", name(ind))),
            None => {
                let own = cx.lines[..end].iter().filter(|l| l.is_transfer()).map(|l| l.net_to(&g.provider));
                let revenue = match cents_sum(own.clone()) {
                    Some(r) => r,
                    None => money::sum(own, "revenue")?,
                };
                (revenue, w!("line-revenue-own", "this contract's payments in the year"))
            }
        };
        let mut revenue = revenue;
        revenue.rescale(2);
        let n = i + 1;
        cx.push_money(
            line_id(&["revenue_guarantee", num(&mut itoa::Buffer::new(), n), "revenue"]),
            w!("line-revenue-label", "Revenue of {}", name(&g.provider)),
            w!("line-revenue", "Revenue, {} = {}", source, m(revenue)),
            revenue,
        );
        let floor = cx.round.cents(g.floor);
        let top_up = money::sub(floor, revenue, "revenue top-up")?.max(zero());
        cx.push_money(
            line_id(&["revenue_guarantee", num(&mut itoa::Buffer::new(), n), "top_up"]),
            w!("line-top-up-label", "Revenue guarantee top-up"),
            w!("line-top-up", "Top-up = max(0, {} floor - {} revenue) = {}", m(floor), m(revenue), m(top_up)),
            top_up,
        );
        allocate(
            cx,
            &Payout {
                id: PayoutId::Parts(&["revenue_guarantee", num(&mut itoa::Buffer::new(), n), "payment"]),
                label: w!("line-top-up-label", "Revenue guarantee top-up"),
                amount: top_up,
                payer: Some(&g.payer),
                recipient: Some(&g.provider),
                funding: g.funding,
            },
        )?;
    }
    Ok(())
}

/// `money::sum(items)` summed as integer cents, for the common case where
/// that is the very Decimal: every item is a zero of at most 2 decimals
/// or has exactly 2, every partial sum stays below the 96-bit mantissa, and
/// the sum is not zero. Then each Decimal addition is exact at scale 2
/// (adding a zero returns the other operand as it is), so the sum is these
/// cents at scale 2. `None` otherwise (a zero sum, whose scale and sign
/// depend on the order of the items; other scales; an overflow): the caller
/// sums the Decimals. A provider's revenue adds one item per transfer of
/// the year, most of them zeros (transfers it is no party to).
fn cents_sum(items: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    const LIMIT: u128 = 1 << 96;
    let mut cents: i128 = 0;
    for x in items {
        if x.is_zero() && x.scale() <= 2 {
            continue;
        }
        if x.scale() != 2 {
            return None;
        }
        // Both below 2^96 in size: no overflow of i128.
        cents += x.mantissa();
        if cents.unsigned_abs() >= LIMIT {
            return None;
        }
    }
    (cents != 0).then(|| Decimal::from_i128_with_scale(cents, 2))
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::{cents_sum, money};

    /// An item: mostly cents, with zeros of several scales and signs,
    /// other scales and amounts near the 96-bit limit.
    fn item(kind: u8, m: i64, big: u128, scale: u32, negative: bool) -> Decimal {
        let mut d = match kind {
            0..=3 => Decimal::new(m, 2),
            4 => Decimal::new(0, scale),
            5 => Decimal::new(m, scale),
            6 => Decimal::from_i128_with_scale((big % (1u128 << 96)) as i128, 2),
            _ => Decimal::from_i128_with_scale((big % (1u128 << 96)) as i128, scale),
        };
        if negative {
            d.set_sign_negative(!d.is_sign_negative());
        }
        d
    }

    proptest::proptest! {
        /// The integer sum is the Decimal sum, byte for byte, wherever it
        /// gives one; where the Decimal sum fails, it gives none.
        #[test]
        fn cents_sum_is_the_decimal_sum(
            items in proptest::collection::vec(
                (0u8..8, -1_000_000i64..1_000_000, proptest::num::u128::ANY, 0u32..=28, proptest::bool::ANY),
                0..40,
            ),
        ) {
            let items: Vec<Decimal> = items.iter().map(|&(k, m, b, s, n)| item(k, m, b, s, n)).collect();
            let exact = money::sum(items.iter().copied(), "revenue");
            if let Some(fast) = cents_sum(items.iter().copied()) {
                let exact = exact.expect("the Decimal sum succeeds where the integer sum does");
                proptest::prop_assert_eq!(fast.serialize(), exact.serialize(), "{:?}", items);
            }
        }
    }

    #[test]
    fn cents_sum_declines_zero_sums_and_other_scales() {
        let c = |m: i64| Decimal::new(m, 2);
        assert_eq!(cents_sum([c(500), Decimal::ZERO, c(-500)].into_iter()), None);
        assert_eq!(cents_sum([c(500), Decimal::new(5, 3)].into_iter()), None);
        assert_eq!(cents_sum(std::iter::empty()), None);
        let s = cents_sum([Decimal::ZERO, c(-125), Decimal::new(0, 2), c(25)].into_iter()).unwrap();
        assert_eq!(s.serialize(), c(-100).serialize());
    }
}
