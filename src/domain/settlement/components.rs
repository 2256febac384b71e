//! Volume (with claim caps and tariff adjustments), pay for performance,
//! bundled payment, capitation and revenue guarantees. The order and the
//! rules are documented at the top of the settlement module.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::distribution::{allocate, Payout};
use super::money::{self, format_money, format_number, format_rate};
use super::{Ctx, SettleError};
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
            CapPer::Year => (cap.max_quantity, txt!(cx, "{} per year", format_number(cap.max_quantity))),
            CapPer::ClientMonth | CapPer::ClientYear => {
                let Some(ind) = &cap.exposure_indicator else {
                    return Err(SettleError::InvalidFigure {
                        figure: format!("claim cap {}", i + 1),
                        reason: "needs an exposure indicator".to_string(),
                    });
                };
                let e = cx.fig_nonneg(ind)?;
                let unit = if cap.per == CapPer::ClientMonth { "per client-month x" } else { "per client x" };
                let what = if cap.per == CapPer::ClientMonth { "client-months" } else { "clients" };
                (
                    money::mul(cap.max_quantity, e, "claim cap")?,
                    txt!(cx, "{} {unit} {} {what}", format_number(cap.max_quantity), format_number(e)),
                )
            }
        };
        let mut remaining = limit;
        let mut before = Vec::new();
        for act in &cap.activities {
            let Some(q) = quantity.get_mut(act.as_str()) else { continue };
            before.push(txt!(cx, "{act} {}", format_number(*q)));
            let capped = (*q).min(remaining).max(Decimal::ZERO);
            remaining = money::sub(remaining, capped, "claim cap")?;
            *q = capped;
        }
        cx.push_value(
            format!("volume.cap.{}", i + 1),
            txt!(cx, "Claim cap on {}", cap.activities.join(", ")),
            txt!(
                cx,
                "Cap = {words} = {}; claimed {}; each activity at most what the cap leaves, in the listed order",
                format_number(limit),
                before.join(", ")
            ),
            limit,
        );
    }
    for a in &v.activities {
        let q = quantity.get(a.id.as_str()).copied().unwrap_or_default();
        let base = cx.round.cents(money::mul(a.price, q, "volume amount")?);
        let code = if a.code.is_empty() { String::new() } else { txt!(cx, " (code {})", a.code) };
        cx.push_money(
            format!("volume.{}.amount", a.id),
            txt!(cx, "{}{code}", a.name),
            txt!(
                cx,
                "{} {}s (after caps) x {} = {}",
                format_number(q),
                a.unit,
                format_money(a.price),
                format_money(base)
            ),
            base,
        );
        let mut total = base;
        for t in cx.c.tariff_adjustments.iter().filter(|t| t.applies_to.contains(&a.id)) {
            let (on, why) = match &t.trigger {
                Trigger::Always => (true, txt!(cx, "always")),
                Trigger::TargetMet { indicator, target } | Trigger::TargetMissed { indicator, target } => {
                    let dir = cx.c.indicator(indicator).map_or(Direction::HigherIsBetter, |i| i.direction);
                    let value = cx.fig_opt(indicator);
                    let met = value.is_some_and(|x| meets(dir, x, *target));
                    let want = matches!(t.trigger, Trigger::TargetMet { .. });
                    let shown =
                        if cx.explain { value.map_or("missing".to_string(), format_number) } else { String::new() };
                    (
                        met == want,
                        txt!(
                            cx,
                            "{indicator} {shown} {} target {}",
                            if met { "meets" } else { "misses" },
                            format_number(*target)
                        ),
                    )
                }
            };
            let mut adj = if on { cx.round.cents(money::mul(t.rate, base, "tariff adjustment")?) } else { zero() };
            if t.kind == AdjustmentKind::Discount {
                adj = -adj;
            }
            let kind = if t.kind == AdjustmentKind::Surcharge { "Surcharge" } else { "Discount" };
            let formula = if on {
                txt!(cx, "{kind} ({why}) = {} x {} = {}", format_rate(t.rate), format_money(base), format_money(adj))
            } else {
                txt!(cx, "{kind} not triggered ({why})")
            };
            cx.push_money(
                format!("volume.{}.adjustment.{}", a.id, t.id),
                txt!(cx, "{kind}: {}", t.reason),
                formula,
                adj,
            );
            total = money::add(total, adj, "volume amount")?;
        }
        if let Some(max) = a.max_amount_per_year {
            if total > max {
                let cut = money::sub(max, total, "volume maximum")?;
                cx.push_money(
                    format!("volume.{}.max", a.id),
                    "Yearly maximum",
                    txt!(
                        cx,
                        "Capped at the yearly maximum {}: {} - {} = {}",
                        format_money(max),
                        format_money(max),
                        format_money(total),
                        format_money(cut)
                    ),
                    cut,
                );
                total = cx.round.cents(max);
            }
        }
        let label = txt!(cx, "Volume payment {}", a.id);
        allocate(
            cx,
            &Payout {
                id: &format!("volume.{}.payment", a.id),
                label: &label,
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
        let shown = if cx.explain {
            value.map_or("missing (treated as not met)".to_string(), format_number)
        } else {
            String::new()
        };
        let cmp = if dir == Direction::LowerIsBetter { "at most" } else { "at least" };
        let (amount, how) = if !met {
            (zero(), txt!(cx, "not met: no bonus"))
        } else {
            match b.basis {
                BonusBasis::Fixed => (cx.round.cents(b.amount), txt!(cx, "met: {}", format_money(b.amount))),
                BonusBasis::PerMember => {
                    let (a, words) = cx.per_member(b.amount, "bonus per member")?;
                    (a, txt!(cx, "met: {} x {words} = {}", format_money(b.amount), format_money(a)))
                }
            }
        };
        let mut line_id = format!("p4p.{}", b.id);
        cx.push_money(
            line_id.clone(),
            txt!(cx, "Bonus {}", b.id),
            txt!(cx, "{} = {shown}, target {cmp} {}: {how}", b.indicator, format_number(b.target)),
            amount,
        );
        line_id.push_str(".payment");
        allocate(
            cx,
            &Payout {
                id: &line_id,
                label: &txt!(cx, "Bonus {}", b.id),
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
        "Target total",
        txt!(
            cx,
            "Target total = {} per episode x {} episodes = {}",
            format_money(b.target_price),
            format_number(episodes),
            format_money(target)
        ),
        target,
    );
    Ok(target)
}

/// Step 4: target price x episodes - actual cost, within stop-gain / stop-loss.
pub(crate) fn bundled(cx: &mut Ctx<'_>, b: &Bundled) -> Result<(), SettleError> {
    let target = bundled_target(cx, b)?;
    let actual = cx.round.cents(cx.fig_nonneg(&b.actual_cost_indicator)?);
    cx.push_money(
        "bundled.actual_cost",
        "Actual cost",
        txt!(cx, "Actual cost ({}) = {}", b.actual_cost_indicator, format_money(actual)),
        actual,
    );
    let raw = money::sub(target, actual, "bundled result")?;
    cx.push_money(
        "bundled.result",
        "Result before stop-gain / stop-loss",
        txt!(cx, "Result = {} - {} = {}", format_money(target), format_money(actual), format_money(raw)),
        raw,
    );
    let mut result = raw;
    if raw > Decimal::ZERO {
        if let Some(r) = b.stop_gain {
            let cap = cx.round.cents(money::mul(r, target, "stop-gain")?);
            cx.push_money(
                "bundled.stop_gain",
                "Stop-gain",
                txt!(
                    cx,
                    "Stop-gain = {} x {} = {}{}",
                    format_rate(r),
                    format_money(target),
                    format_money(cap),
                    if raw > cap { " (applies)" } else { " (not reached)" }
                ),
                cap,
            );
            result = result.min(cap);
        }
    } else if raw < Decimal::ZERO {
        if let Some(r) = b.stop_loss {
            let cap = cx.round.cents(money::mul(r, target, "stop-loss")?);
            cx.push_money(
                "bundled.stop_loss",
                "Stop-loss",
                txt!(
                    cx,
                    "Stop-loss = {} x {} = {}{}",
                    format_rate(r),
                    format_money(target),
                    format_money(cap),
                    if -raw > cap { " (applies)" } else { " (not reached)" }
                ),
                cap,
            );
            result = result.max(-cap);
        }
    }
    cx.push_money(
        "bundled.settlement",
        "Bundled settlement",
        txt!(cx, "Settlement = {}", format_money(result)),
        result,
    );
    allocate(
        cx,
        &Payout {
            id: "bundled.payment",
            label: "Bundled settlement",
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
            txt!(cx, "{} member-months / 12", format_number(members)),
        )
    } else {
        (cx.round.cents(raw), txt!(cx, "{} members", format_number(members)))
    };
    cx.push_money(
        "capitation.budget",
        "Population budget",
        txt!(
            cx,
            "Budget = {} per member-year x {words} = {}",
            format_money(cap.amount_per_member),
            format_money(budget)
        ),
        budget,
    );
    Ok(budget)
}

/// Step 5: budget - actual cost, shared per risk band.
pub(crate) fn capitation(cx: &mut Ctx<'_>, cap: &Capitation) -> Result<(), SettleError> {
    let budget = capitation_budget(cx, cap)?;
    let actual = cx.round.cents(cx.fig_nonneg(&cap.actual_cost_indicator)?);
    cx.push_money(
        "capitation.actual_cost",
        "Actual cost",
        txt!(cx, "Actual cost ({}) = {}", cap.actual_cost_indicator, format_money(actual)),
        actual,
    );
    let result = money::sub(budget, actual, "capitation result")?;
    let rate = cx.round.ratio(money::div(result, budget, "capitation result rate (budget is 0)")?);
    cx.push_money(
        "capitation.result",
        "Result (budget - actual)",
        txt!(
            cx,
            "Result = {} - {} = {} ({} of the budget)",
            format_money(budget),
            format_money(actual),
            format_money(result),
            format_rate(rate)
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
        let range = match band.to {
            Some(to) => txt!(cx, "{} to {}", format_rate(band.from), format_rate(to)),
            None => txt!(cx, "beyond {}", format_rate(band.from)),
        };
        cx.push_money(
            format!("capitation.band.{}", i + 1),
            txt!(cx, "Risk band {range}"),
            txt!(
                cx,
                "Band {range} of the budget ({} to {}): part {} x provider share {} = {}",
                format_money(lo),
                hi.map_or("open".to_string(), format_money),
                format_money(part),
                format_rate(band.provider_share),
                format_money(share)
            ),
            share,
        );
        provider = money::add(provider, share, "capitation provider result")?;
    }
    let signed = if gain { provider } else { -provider };
    let who = if gain { "Providers keep" } else { "Providers bear" };
    cx.push_money("capitation.provider_result", who, txt!(cx, "{who} = {}", format_money(provider)), signed);
    let payer_part = money::sub(result, signed, "capitation payer result")?;
    cx.push_money(
        "capitation.payer_result",
        "Payer's part of the result",
        txt!(cx, "Payer's part = {} - {} = {}", format_money(result), format_money(signed), format_money(payer_part)),
        payer_part,
    );
    allocate(
        cx,
        &Payout {
            id: "capitation.payment",
            label: "Capitation settlement",
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
            Some(ind) => (cx.round.cents(cx.fig(ind)?), txt!(cx, "measured ({ind})")),
            None => {
                let own = cx.lines[..end].iter().filter(|l| l.is_transfer()).map(|l| l.net_to(&g.provider));
                (money::sum(own, "revenue")?, txt!(cx, "this contract's payments in the year"))
            }
        };
        let mut revenue = revenue;
        revenue.rescale(2);
        let n = i + 1;
        cx.push_money(
            format!("revenue_guarantee.{n}.revenue"),
            txt!(cx, "Revenue of {}", g.provider),
            txt!(cx, "Revenue, {source} = {}", format_money(revenue)),
            revenue,
        );
        let floor = cx.round.cents(g.floor);
        let top_up = money::sub(floor, revenue, "revenue top-up")?.max(zero());
        cx.push_money(
            format!("revenue_guarantee.{n}.top_up"),
            "Revenue guarantee top-up",
            txt!(
                cx,
                "Top-up = max(0, {} floor - {} revenue) = {}",
                format_money(floor),
                format_money(revenue),
                format_money(top_up)
            ),
            top_up,
        );
        allocate(
            cx,
            &Payout {
                id: &format!("revenue_guarantee.{n}.payment"),
                label: "Revenue guarantee top-up",
                amount: top_up,
                payer: Some(&g.payer),
                recipient: Some(&g.provider),
                funding: g.funding,
            },
        )?;
    }
    Ok(())
}
