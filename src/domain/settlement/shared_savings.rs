//! Shared savings (and, two-sided, shared losses) against the benchmark.
//!
//! For a year, in this order (line ids in brackets):
//!
//! 1. Trend factor (`shared_savings.trend_factor`): fixed rate `(1 + r)^n`,
//!    product of `(1 + rate)` per year, product of measured rates, or index of
//!    the year / index of the base year; rounded to [`super::RATIO_DP`] decimals.
//!    Risk factor (`shared_savings.risk_factor`) when the contract adjusts.
//! 2. Benchmark (`shared_savings.benchmark`) = cost x trend x risk x size,
//!    size = members, member-months (/ 12 for a per-member-year baseline;
//!    members x 12 for a per-member-month one) or episodes; divided last,
//!    rounded to cents. With an agreed-total baseline the benchmark is the
//!    agreed figure of its indicator, rounded to cents (no trend or risk).
//! 3. Gross savings (`shared_savings.gross_savings`) = benchmark - actual cost.
//! 4. Losses carried in (`shared_savings.losses_netted`): when the contract
//!    carries losses forward, savings first absorb the carried losses; the
//!    rest is the net savings (`shared_savings.net_savings`).
//! 5. Savings rate = net savings / benchmark (shown only; the corridor test
//!    compares money: net savings >= corridor rate x benchmark, rounded).
//!    Corridor rate: fixed, or interpolated linearly in the population table
//!    by members (first row below it, last row above it); the members are
//!    the table's own `population_indicator` when it names one.
//! 6. Savings: inside the corridor nothing is shared; at or past it the base
//!    is all net savings (`first_euro`) or the part above the corridor
//!    (`above_corridor`). Below the quality gate no share is paid. Provider
//!    rate = share (x quality score when proportional); provider share =
//!    rate x base; less the withhold (withhold rate x share); then at most
//!    savings cap x benchmark. The payer keeps gross savings - payout.
//!    Savings above 0 but inside the corridor are shared from the first euro
//!    at the `inside_corridor` rate when its condition is met
//!    (`shared_savings.inside_corridor_condition`), then as above. A share
//!    of 0% pays nothing, and the provider-share line says so.
//! 7. Losses (gross savings below 0): two-sided, a loss at or past the loss
//!    corridor is borne by the provider at the loss rate (fixed, or
//!    clamp(intercept - slope x quality, min, max)) on all of it or on the
//!    part above the corridor (the same `sharing_base`), at most loss cap x
//!    benchmark, and at most the `figure_loss_cap` (rate x an agreed figure)
//!    when the contract has one: the lesser applies, both are shown. Then
//!    pro-rated to months of participation / 12 (`shared_savings.loss_prorated`)
//!    and reduced by force majeure (`shared_savings.loss_before_force_majeure`,
//!    `shared_savings.force_majeure_reduction`, clamped to 0..the loss).
//!    One-sided, the payer bears it.
//! 8. Carry-forward (when `carry_forward_losses`): a loss the provider paid
//!    nothing of (one-sided, or inside the loss corridor) is carried whole
//!    and netted against later savings (step 4); a loss the provider shared
//!    in (anything to pay after the caps) is settled, even when pro-rating
//!    or force majeure forgives it.
//!
//! The quality score (`quality.<indicator>`, `shared_savings.quality_score`)
//! is the weighted sum of indicator scores: linear from 0 at the threshold
//! to 1 at the target (rounded to [`super::RATIO_DP`] decimals), or a step
//! (1 when the target is met). A missing quality figure scores 0 under
//! `treat_as_not_met`.

use rust_decimal::Decimal;

use super::components::meets;
use super::distribution::{allocate, Payout};
use super::money::{self, format_factor, format_money, format_number, format_rate};
use super::{Ctx, SettleError};
use crate::domain::contract::{
    Baseline, BaselineMode, BaselineUnit, Corridor, Direction, ForceMajeure, LossShare, QualityScaling, RiskAdjustment,
    Scoring, SharedSavings, SharingBase, Sided, Trend, Unit,
};
use crate::domain::contract::{FigureCap, InsideCorridor};

/// A line id of this component: `id!("benchmark")` is `"shared_savings.benchmark"`.
macro_rules! id {
    ($s:literal) => {
        concat!("shared_savings.", $s)
    };
}

/// Settles shared savings for the year; returns the losses carried out.
/// A cap of `cap_rate` x benchmark on `amount` (the savings payout or the
/// provider's loss payment): pushes the cap line and returns the capped
/// amount. `names` = (line id, label, name in the formula, figure name).
fn apply_cap(
    cx: &mut Ctx<'_>,
    names: (&str, &str, &str, &str),
    cap_rate: Decimal,
    benchmark: Decimal,
    amount: Decimal,
) -> Result<Decimal, SettleError> {
    let (line, label, formula, figure) = names;
    let cap = cx.round.cents(money::mul(cap_rate, benchmark, figure)?);
    let binding = if amount > cap { " (applies)" } else { " (not reached)" };
    cx.push_money(
        line,
        label,
        txt!(
            cx,
            "{formula} = {} x {} benchmark = {}{binding}",
            format_rate(cap_rate),
            format_money(benchmark),
            format_money(cap)
        ),
        cap,
    );
    Ok(amount.min(cap))
}

pub(crate) fn settle(cx: &mut Ctx<'_>, ss: &SharedSavings, carried_in: Decimal) -> Result<Decimal, SettleError> {
    let benchmark = benchmark(cx)?;
    let actual = cx.round.cents(cx.fig_nonneg(&ss.actual_cost_indicator)?);
    cx.push_money(
        id!("actual_cost"),
        "Actual cost",
        txt!(cx, "Actual cost ({}) = {}", ss.actual_cost_indicator, format_money(actual)),
        actual,
    );
    let gross = money::sub(benchmark, actual, "gross savings")?;
    cx.push_money(
        id!("gross_savings"),
        "Gross savings",
        txt!(
            cx,
            "Gross savings = {} benchmark - {} actual = {}",
            format_money(benchmark),
            format_money(actual),
            format_money(gross)
        ),
        gross,
    );
    let mut carried = if ss.carry_forward_losses { carried_in } else { Decimal::ZERO };
    let mut net = gross;
    if carried > Decimal::ZERO && gross > Decimal::ZERO {
        let used = carried.min(gross);
        carried = money::sub(carried, used, "losses carried")?;
        net = money::sub(gross, used, "net savings")?;
        cx.push_money(
            id!("losses_netted"),
            "Losses of earlier years netted",
            txt!(
                cx,
                "Losses netted = min({} carried in, {} gross savings) = {}",
                format_money(carried_in),
                format_money(gross),
                format_money(used)
            ),
            used,
        );
        cx.push_money(
            id!("net_savings"),
            "Net savings",
            txt!(cx, "Net savings = {} - {} = {}", format_money(gross), format_money(used), format_money(net)),
            net,
        );
    }
    let rate = cx.round.ratio(money::div(net, benchmark, "savings rate")?);
    cx.push_value(
        id!("savings_rate"),
        "Savings rate",
        txt!(cx, "Savings rate = {} / {} = {}", format_money(net), format_money(benchmark), format_rate(rate)),
        rate,
    );
    let quality = quality_score(cx)?;

    if net > Decimal::ZERO {
        savings(cx, ss, benchmark, gross, net, quality)?;
    } else if net < Decimal::ZERO {
        let loss = -net;
        let provider_paid = losses(cx, ss, benchmark, loss, quality)?;
        if ss.carry_forward_losses && provider_paid.is_zero() {
            carried = money::add(carried, loss, "losses carried")?;
        }
    }
    if ss.carry_forward_losses {
        let mut out = carried;
        out.rescale(2);
        let (label, words) = if cx.year == cx.c.term.last_year {
            ("Losses not netted by the end of the term", "they lapse with the term")
        } else {
            ("Losses carried to the next year", "netted against later savings")
        };
        cx.push_money(id!("losses_carried_out"), label, txt!(cx, "{label} = {} ({words})", format_money(out)), out);
        return Ok(out);
    }
    Ok(Decimal::ZERO)
}

pub(crate) fn benchmark(cx: &mut Ctx<'_>) -> Result<Decimal, SettleError> {
    let c = cx.c;
    let Some(b) = &c.baseline else {
        return Err(SettleError::InvalidFigure {
            figure: "benchmark".to_string(),
            reason: "shared savings needs a [baseline]".to_string(),
        });
    };
    let (Some(cost), Some(unit), Some(trend)) = (b.cost, b.unit, &b.trend) else {
        return agreed_benchmark(cx, b);
    };
    let year = cx.year;
    let one = Decimal::ONE;
    let span = txt!(cx, "{}->{}", b.base_year, year);
    let (trend, words) = match trend {
        Trend::FixedRate { rate } => {
            let n = year.saturating_sub(b.base_year);
            let base = money::add(one, *rate, "trend factor")?;
            let mut f = one;
            for _ in 0..n {
                f = money::mul(f, base, "trend factor")?;
            }
            (f, txt!(cx, "(1 + {})^{n}", format_rate(*rate)))
        }
        Trend::RatesPerYear { rates } => {
            let mut f = one;
            let mut parts = Vec::new();
            for y in b.base_year.saturating_add(1)..=year {
                let Some(r) = rates.get(&y) else {
                    return Err(SettleError::InvalidFigure {
                        figure: "trend factor".to_string(),
                        reason: format!("the contract has no trend rate for {y}"),
                    });
                };
                f = money::mul(f, money::add(one, *r, "trend factor")?, "trend factor")?;
                parts.push(txt!(cx, "(1 + {} {y})", format_rate(*r)));
            }
            (f, parts.join(" x "))
        }
        Trend::MeasuredRate { indicator } => {
            let mut f = one;
            let mut parts = Vec::new();
            for y in b.base_year.saturating_add(1)..=year {
                let r = cx.fig_in(indicator, y)?;
                f = money::mul(f, money::add(one, r, "trend factor")?, "trend factor")?;
                parts.push(txt!(cx, "(1 + {} {y})", format_rate(r)));
            }
            (f, parts.join(" x "))
        }
        Trend::MeasuredIndex { indicator } => {
            let now = cx.fig_in(indicator, year)?;
            let then = cx.fig_in(indicator, b.base_year)?;
            let f = money::div(now, then, "trend factor (index of the base year is 0)")?;
            (f, txt!(cx, "index {} ({year}) / {} ({})", format_number(now), format_number(then), b.base_year))
        }
    };
    let trend = cx.round.ratio(trend);
    cx.push_value(
        id!("trend_factor"),
        txt!(cx, "Trend factor {span}"),
        txt!(cx, "Trend factor {span} = {words} = {}", format_factor(trend)),
        trend,
    );
    let adjustment = b.risk_adjustment.as_ref().unwrap_or(&RiskAdjustment::None);
    let risk = match adjustment {
        RiskAdjustment::None => one,
        RiskAdjustment::Fixed { factor } => *factor,
        RiskAdjustment::Measured { indicator } => cx.fig_nonneg(indicator)?,
    };
    if !matches!(adjustment, RiskAdjustment::None) {
        cx.push_value(
            id!("risk_factor"),
            "Risk adjustment factor",
            txt!(cx, "Risk factor = {}", format_factor(risk)),
            risk,
        );
    }
    let size_id = c.population.size_indicator.clone();
    let size = cx.fig_nonneg(&size_id)?;
    let size_unit = c.indicator(&size_id).map(|i| i.unit);
    let twelve = Decimal::from(12);
    let (size, divisor, size_words, per) = match (unit, size_unit) {
        (BaselineUnit::PerMemberYear, Some(Unit::MemberMonths)) => {
            (size, twelve, txt!(cx, "{} member-months / 12", format_number(size)), "per member-year")
        }
        (BaselineUnit::PerMemberMonth, Some(Unit::Members)) => (
            money::mul(size, twelve, "benchmark size")?,
            one,
            txt!(cx, "{} members x 12", format_number(size)),
            "per member-month",
        ),
        (BaselineUnit::PerMemberMonth, _) => {
            (size, one, txt!(cx, "{} member-months", format_number(size)), "per member-month")
        }
        (BaselineUnit::PerEpisode, _) | (_, Some(Unit::Episodes)) => {
            (size, one, txt!(cx, "{} episodes", format_number(size)), "per episode")
        }
        (BaselineUnit::PerMemberYear, _) => (size, one, txt!(cx, "{} members", format_number(size)), "per member-year"),
    };
    let raw = money::mul(money::mul(money::mul(cost, trend, "benchmark")?, risk, "benchmark")?, size, "benchmark")?;
    let benchmark = cx.round.cents(money::div(raw, divisor, "benchmark")?);
    let risk_words = if matches!(adjustment, RiskAdjustment::None) {
        String::new()
    } else {
        txt!(cx, " x {} risk", format_factor(risk))
    };
    cx.push_money(
        id!("benchmark"),
        "Benchmark (expected cost)",
        txt!(
            cx,
            "Benchmark = {} {per} x {} trend{risk_words} x {size_words} = {}",
            format_money(cost),
            format_factor(trend),
            format_money(benchmark)
        ),
        benchmark,
    );
    positive_benchmark(benchmark)
}

/// The benchmark is divided by (the savings rate): it must be above 0.
fn positive_benchmark(benchmark: Decimal) -> Result<Decimal, SettleError> {
    if benchmark <= Decimal::ZERO {
        return Err(SettleError::Arithmetic {
            figure: "savings rate (the benchmark is not above 0)".to_string(),
            problem: "division by zero",
        });
    }
    Ok(benchmark)
}

/// The benchmark of a baseline in [`BaselineMode::AgreedTotal`] mode: the
/// agreed figure of its indicator, rounded to cents.
fn agreed_benchmark(cx: &mut Ctx<'_>, b: &Baseline) -> Result<Decimal, SettleError> {
    let indicator = match (b.mode, &b.benchmark_indicator) {
        (BaselineMode::AgreedTotal, Some(indicator)) => indicator,
        _ => {
            return Err(SettleError::InvalidFigure {
                figure: "benchmark".to_string(),
                reason: "the baseline has neither cost, unit and trend nor an agreed benchmark indicator".to_string(),
            })
        }
    };
    let benchmark = cx.round.cents(cx.fig_nonneg(indicator)?);
    cx.push_money(
        id!("benchmark"),
        "Benchmark (expected cost)",
        txt!(cx, "Benchmark = agreed total ({indicator}) = {}", format_money(benchmark)),
        benchmark,
    );
    positive_benchmark(benchmark)
}

/// The quality score, or `None` when the contract has no quality indicators.
fn quality_score(cx: &mut Ctx<'_>) -> Result<Option<Decimal>, SettleError> {
    let c = cx.c;
    let mut total = Decimal::ZERO;
    let mut terms = Vec::new();
    for (ind, q) in c.quality_indicators() {
        let lower = ind.direction == Direction::LowerIsBetter;
        let (score, words) = match cx.fig_opt(&ind.id) {
            None => (Decimal::ZERO, "missing: treated as not met".to_string()),
            Some(v) => match q.scoring {
                Scoring::Step => {
                    let met = meets(ind.direction, v, q.target);
                    let s = if met { Decimal::ONE } else { Decimal::ZERO };
                    (
                        s,
                        txt!(
                            cx,
                            "{} {} target {}",
                            format_number(v),
                            if met { "meets" } else { "misses" },
                            format_number(q.target)
                        ),
                    )
                }
                Scoring::Linear => {
                    let (num, den, words) = if lower {
                        (
                            money::sub(q.threshold, v, "quality score")?,
                            money::sub(q.threshold, q.target, "quality score")?,
                            txt!(
                                cx,
                                "({} - {}) / ({} - {})",
                                format_number(q.threshold),
                                format_number(v),
                                format_number(q.threshold),
                                format_number(q.target)
                            ),
                        )
                    } else {
                        (
                            money::sub(v, q.threshold, "quality score")?,
                            money::sub(q.target, q.threshold, "quality score")?,
                            txt!(
                                cx,
                                "({} - {}) / ({} - {})",
                                format_number(v),
                                format_number(q.threshold),
                                format_number(q.target),
                                format_number(q.threshold)
                            ),
                        )
                    };
                    let raw = money::div(num, den, &format!("quality score of {}", ind.id))?;
                    let s = cx.round.ratio(money::clamp(raw, Decimal::ZERO, Decimal::ONE));
                    (s, txt!(cx, "{words}, within 0..1"))
                }
            },
        };
        let direction = if lower { "lower is better" } else { "higher is better" };
        cx.push_value(
            format!("quality.{}", ind.id),
            txt!(cx, "Quality score: {}", ind.name),
            txt!(
                cx,
                "{}: {direction}, threshold {}, target {}: {words} = {}",
                ind.id,
                format_number(q.threshold),
                format_number(q.target),
                format_factor(score)
            ),
            score,
        );
        total = money::add(total, money::mul(q.weight, score, "quality score")?, "quality score")?;
        terms.push(txt!(cx, "{} x {}", format_rate(q.weight), format_factor(score)));
    }
    if terms.is_empty() {
        return Ok(None);
    }
    let total = money::clamp(total, Decimal::ZERO, Decimal::ONE);
    cx.push_value(
        id!("quality_score"),
        "Quality score",
        txt!(cx, "Quality score = {} = {}", terms.join(" + "), format_factor(total)),
        total,
    );
    Ok(Some(total))
}

fn corridor_rate(cx: &mut Ctx<'_>, corridor: &Corridor, loss: bool) -> Result<(Decimal, String), SettleError> {
    let pick = |r: &crate::domain::contract::CorridorRow| {
        if loss {
            r.min_loss_rate.unwrap_or_default()
        } else {
            r.min_savings_rate
        }
    };
    match corridor {
        Corridor::Fixed { min_savings_rate, min_loss_rate } => {
            let r = if loss { min_loss_rate.unwrap_or_default() } else { *min_savings_rate };
            Ok((r, "fixed".to_string()))
        }
        Corridor::PopulationTable { rows, population_indicator } => {
            // Compared and interpolated in the measured unit (row population
            // x divisor), so that member-months are divided by 12 last.
            let (size, divisor, words) = match population_indicator {
                Some(ind) => cx.members_of(ind)?,
                None => cx.members()?,
            };
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Err(SettleError::InvalidFigure {
                    figure: "corridor".to_string(),
                    reason: "empty table".to_string(),
                });
            };
            let scaled = |pop: u64| money::mul(Decimal::from(pop), divisor, "corridor rate");
            if size <= scaled(first.population)? {
                return Ok((
                    pick(first),
                    txt!(cx, "{words}, at or below the first row ({}): its rate", first.population),
                ));
            }
            if size >= scaled(last.population)? {
                return Ok((pick(last), txt!(cx, "{words}, at or above the last row ({}): its rate", last.population)));
            }
            for w in rows.windows(2) {
                let (a, b) = (&w[0], &w[1]);
                let (pa, pb) = (scaled(a.population)?, scaled(b.population)?);
                if size >= pa && size < pb {
                    let (ra, rb) = (pick(a), pick(b));
                    let t = money::div(
                        money::sub(size, pa, "corridor rate")?,
                        money::sub(pb, pa, "corridor rate")?,
                        "corridor rate",
                    )?;
                    let step = money::mul(money::sub(rb, ra, "corridor rate")?, t, "corridor rate")?;
                    let r = cx.round.ratio(money::add(ra, step, "corridor rate")?);
                    let words = if cx.explain {
                        let members = money::div(size, divisor, "corridor rate")?.round_dp(2);
                        format!(
                            "{words} = {}: {} + ({} - {}) x ({} - {}) / ({} - {})",
                            format_number(members),
                            format_rate(ra),
                            format_rate(rb),
                            format_rate(ra),
                            format_number(members),
                            a.population,
                            b.population,
                            a.population
                        )
                    } else {
                        String::new()
                    };
                    return Ok((r, words));
                }
            }
            Ok((pick(last), words))
        }
    }
}

fn savings(
    cx: &mut Ctx<'_>,
    ss: &SharedSavings,
    benchmark: Decimal,
    gross: Decimal,
    net: Decimal,
    quality: Option<Decimal>,
) -> Result<(), SettleError> {
    let (msr, how) = corridor_rate(cx, &ss.corridor, false)?;
    cx.push_value(
        id!("corridor_rate"),
        "Minimum savings rate",
        txt!(cx, "Minimum savings rate ({how}) = {}", format_rate(msr)),
        msr,
    );
    let corridor = cx.round.cents(money::mul(msr, benchmark, "savings corridor")?);
    cx.push_money(
        id!("corridor"),
        "Savings corridor",
        txt!(
            cx,
            "Corridor = {} x {} benchmark = {}",
            format_rate(msr),
            format_money(benchmark),
            format_money(corridor)
        ),
        corridor,
    );
    let mut payout = Decimal::ZERO;
    payout.rescale(2);
    // The base shared and the provider share rate that applies to it, or
    // `None` when nothing is shared.
    let mut tier: Option<(Decimal, Decimal)> = None;
    if net < corridor {
        if let Some(inside) = &ss.inside_corridor {
            if inside_condition(cx, inside)? {
                cx.push_money(
                    id!("shared_base"),
                    "Savings shared",
                    txt!(
                        cx,
                        "Savings {} are below the corridor {}: shared from the first euro at the inside-corridor rate = {}",
                        format_money(net),
                        format_money(corridor),
                        format_money(net)
                    ),
                    net,
                );
                tier = Some((net, inside.provider_share));
            }
        }
        if tier.is_none() {
            cx.push_money(
                id!("shared_base"),
                "Savings shared",
                txt!(
                    cx,
                    "Savings {} are below the corridor {}: nothing is shared",
                    format_money(net),
                    format_money(corridor)
                ),
                payout,
            );
        }
    } else {
        let base = match ss.sharing_base {
            SharingBase::FirstEuro => net,
            SharingBase::AboveCorridor => money::sub(net, corridor, "savings above the corridor")?,
        };
        let words = match ss.sharing_base {
            SharingBase::FirstEuro => txt!(cx, "Savings shared from the first euro = {}", format_money(base)),
            SharingBase::AboveCorridor => {
                txt!(
                    cx,
                    "Savings above the corridor = {} - {} = {}",
                    format_money(net),
                    format_money(corridor),
                    format_money(base)
                )
            }
        };
        cx.push_money(id!("shared_base"), "Savings shared", words, base);
        tier = Some((base, ss.provider_share));
    }
    if let Some((base, share)) = tier {
        let q = quality.unwrap_or(Decimal::ONE);
        if ss.min_quality_score > Decimal::ZERO && q < ss.min_quality_score {
            cx.push_value(
                id!("quality_gate"),
                "Quality gate not met",
                txt!(
                    cx,
                    "Quality score {} is below the gate {}: no savings share",
                    format_factor(q),
                    format_factor(ss.min_quality_score)
                ),
                q,
            );
        } else {
            let (rate, words) = match ss.quality_scaling {
                QualityScaling::None => (share, format_rate(share)),
                QualityScaling::Proportional => (
                    money::mul(share, q, "provider rate")?,
                    txt!(cx, "{} x {} quality", format_rate(share), format_factor(q)),
                ),
            };
            cx.push_value(
                id!("provider_rate"),
                "Provider share rate",
                txt!(cx, "Provider rate = {words} = {}", format_rate(rate)),
                rate,
            );
            payout = cx.round.cents(money::mul(rate, base, "provider share")?);
            // A share of 0% written in the contract pays nothing, and the
            // statement says so rather than showing a bare 0.00.
            let zero = if share.is_zero() { " (the contract's share is 0%: nothing is paid)" } else { "" };
            cx.push_money(
                id!("provider_share"),
                "Provider share before withhold and cap",
                txt!(
                    cx,
                    "Provider share = {} x {} = {}{zero}",
                    format_rate(rate),
                    format_money(base),
                    format_money(payout)
                ),
                payout,
            );
            if ss.withhold > Decimal::ZERO {
                let withheld = cx.round.cents(money::mul(ss.withhold, payout, "withhold")?);
                let after = money::sub(payout, withheld, "provider share after withhold")?;
                cx.push_money(
                    id!("withhold"),
                    "Withhold",
                    txt!(
                        cx,
                        "Withhold = {} x {} = {}",
                        format_rate(ss.withhold),
                        format_money(payout),
                        format_money(withheld)
                    ),
                    withheld,
                );
                cx.push_money(
                    id!("after_withhold"),
                    "Provider share after withhold",
                    txt!(
                        cx,
                        "After withhold = {} - {} = {}",
                        format_money(payout),
                        format_money(withheld),
                        format_money(after)
                    ),
                    after,
                );
                payout = after;
            }
            if let Some(cap_rate) = ss.savings_cap {
                payout = apply_cap(
                    cx,
                    (id!("savings_cap"), "Savings cap", "Cap", "savings cap"),
                    cap_rate,
                    benchmark,
                    payout,
                )?;
            }
        }
    }
    cx.push_money(
        id!("provider_payout"),
        "Provider savings payout",
        txt!(cx, "Provider payout = {}", format_money(payout)),
        payout,
    );
    let keeps = money::sub(gross, payout, "payer's share of savings")?;
    cx.push_money(
        id!("payer_keeps"),
        "Payer keeps",
        txt!(
            cx,
            "Payer keeps = {} gross savings - {} payout = {}",
            format_money(gross),
            format_money(payout),
            format_money(keeps)
        ),
        keeps,
    );
    allocate(
        cx,
        &Payout {
            id: "shared_savings.payout",
            label: "Shared savings payout",
            amount: payout,
            payer: ss.payer.as_deref(),
            recipient: ss.recipient.as_deref(),
            funding: ss.funding,
        },
    )?;
    Ok(())
}

/// Whether the condition of the inside-corridor tier holds this year: its
/// indicator meets the target (per the indicator's direction); a missing
/// figure (allowed only under `treat_as_not_met`) does not. Pushes the
/// line `shared_savings.inside_corridor_condition` (1 met, 0 not).
fn inside_condition(cx: &mut Ctx<'_>, inside: &InsideCorridor) -> Result<bool, SettleError> {
    let Some(ind) = cx.c.indicator(&inside.indicator) else {
        return Err(SettleError::InvalidFigure {
            figure: inside.indicator.clone(),
            reason: "the inside-corridor condition names no indicator of the contract".to_string(),
        });
    };
    let (met, words) = match cx.fig_opt(&inside.indicator) {
        None => (false, "missing: treated as not met".to_string()),
        Some(v) => {
            let met = meets(ind.direction, v, inside.target);
            (
                met,
                txt!(
                    cx,
                    "{} {} target {}",
                    format_number(v),
                    if met { "meets" } else { "misses" },
                    format_number(inside.target)
                ),
            )
        }
    };
    let value = if met { Decimal::ONE } else { Decimal::ZERO };
    let then = if met { "savings inside the corridor are shared" } else { "nothing inside the corridor is shared" };
    cx.push_value(
        id!("inside_corridor_condition"),
        "Inside-corridor condition",
        txt!(cx, "Inside-corridor condition ({}): {words}: {then}", inside.indicator),
        value,
    );
    Ok(met)
}

/// The loss caps of a contract with a second, figure-based cap: both are
/// shown and the lesser applies. Returns the capped amount.
fn apply_lesser_cap(
    cx: &mut Ctx<'_>,
    ss: &SharedSavings,
    cap: &FigureCap,
    benchmark: Decimal,
    amount: Decimal,
) -> Result<Decimal, SettleError> {
    let figure = cx.round.cents(cx.fig_nonneg(&cap.indicator)?);
    let second = cx.round.cents(money::mul(cap.rate, figure, "figure loss cap")?);
    let first = match ss.loss_cap {
        Some(rate) => Some((rate, cx.round.cents(money::mul(rate, benchmark, "loss cap")?))),
        None => None,
    };
    let lesser = first.map_or(second, |(_, f)| f.min(second));
    // The benchmark cap is named as the lesser on a tie (it is listed first).
    let first_is_lesser = first.is_some_and(|(_, f)| f <= second);
    let binding = |is_lesser: bool| match (is_lesser, amount > lesser) {
        (true, true) => " (the lesser: applies)",
        (true, false) => " (the lesser: not reached)",
        (false, _) => " (not the lesser)",
    };
    if let Some((rate, f)) = first {
        cx.push_money(
            id!("loss_cap"),
            "Loss cap",
            txt!(
                cx,
                "Loss cap = {} x {} benchmark = {}{}",
                format_rate(rate),
                format_money(benchmark),
                format_money(f),
                binding(first_is_lesser)
            ),
            f,
        );
    }
    cx.push_money(
        id!("figure_loss_cap"),
        "Second loss cap",
        txt!(
            cx,
            "Second loss cap = {} x {} {} = {}{}",
            format_rate(cap.rate),
            format_money(figure),
            cap.indicator,
            format_money(second),
            binding(!first_is_lesser)
        ),
        second,
    );
    Ok(amount.min(lesser))
}

/// The provider's loss payment x months of participation / 12 (early
/// termination), rounded to cents once. The months are an agreed figure
/// from 0 to 12.
fn prorate(cx: &mut Ctx<'_>, indicator: &str, paid: Decimal) -> Result<Decimal, SettleError> {
    let months = cx.fig_nonneg(indicator)?;
    let twelve = Decimal::from(super::MONTHS_PER_YEAR);
    if months > twelve {
        return Err(SettleError::InvalidFigure {
            figure: format!("{indicator} ({})", cx.year),
            reason: format!("{months} months of participation is more than 12"),
        });
    }
    let prorated = cx.round.cents(money::div(money::mul(paid, months, "pro-rated loss")?, twelve, "pro-rated loss")?);
    cx.push_money(
        id!("loss_prorated"),
        "Loss payment pro-rated to the months of participation",
        txt!(
            cx,
            "Pro-rated = {} x {} months ({indicator}) / 12 = {}",
            format_money(paid),
            format_number(months),
            format_money(prorated)
        ),
        prorated,
    );
    Ok(prorated)
}

/// The force-majeure reduction of the provider's loss payment `paid`:
/// shows the loss before, the reduction (clamped to 0..paid) and returns
/// the loss after it.
fn force_majeure(cx: &mut Ctx<'_>, fm: &ForceMajeure, paid: Decimal) -> Result<Decimal, SettleError> {
    cx.push_money(
        id!("loss_before_force_majeure"),
        "Provider loss before force majeure",
        txt!(cx, "Loss before force majeure = {}", format_money(paid)),
        paid,
    );
    let (raw, words) = match fm {
        ForceMajeure::Fraction { factors } => {
            let mut fraction = Decimal::ONE;
            let mut parts = Vec::new();
            for f in factors {
                let v = cx.fig_nonneg(f)?;
                if v > Decimal::ONE {
                    return Err(SettleError::InvalidFigure {
                        figure: format!("{f} ({})", cx.year),
                        reason: format!("{v} is not a fraction between 0 and 1"),
                    });
                }
                fraction = money::mul(fraction, v, "force majeure fraction")?;
                parts.push(txt!(cx, "{} {f}", format_rate(v)));
            }
            let fraction = cx.round.ratio(fraction);
            cx.push_value(
                id!("force_majeure_fraction"),
                "Force majeure fraction",
                txt!(cx, "Force majeure fraction = {} = {}", parts.join(" x "), format_rate(fraction)),
                fraction,
            );
            let reduction = cx.round.cents(money::mul(fraction, paid, "force majeure reduction")?);
            (reduction, txt!(cx, "{} x {}", format_rate(fraction), format_money(paid)))
        }
        ForceMajeure::Amount { indicator } => {
            let amount = cx.round.cents(cx.fig_nonneg(indicator)?);
            (amount, txt!(cx, "agreed amount ({indicator}) {}", format_money(amount)))
        }
    };
    let reduction = money::clamp(raw, Decimal::ZERO, paid);
    let clamp = if reduction < raw { txt!(cx, ", at most the loss {}", format_money(paid)) } else { String::new() };
    cx.push_money(
        id!("force_majeure_reduction"),
        "Force majeure reduction",
        txt!(cx, "Force majeure reduction = {words}{clamp} = {}", format_money(reduction)),
        reduction,
    );
    money::sub(paid, reduction, "loss after force majeure")
}

/// Settles a loss; returns what the providers pay (0 or more) before any
/// pro-rating or force-majeure relief (after the caps): a loss they shared
/// in is settled, even when relief forgives it, and is not carried.
fn losses(
    cx: &mut Ctx<'_>,
    ss: &SharedSavings,
    benchmark: Decimal,
    loss: Decimal,
    quality: Option<Decimal>,
) -> Result<Decimal, SettleError> {
    let mut paid = Decimal::ZERO;
    paid.rescale(2);
    cx.push_money(id!("loss"), "Loss (actual cost above benchmark)", txt!(cx, "Loss = {}", format_money(loss)), loss);
    let Some(share) = (match ss.sided {
        Sided::TwoSided => ss.loss_share.as_ref(),
        Sided::OneSided => None,
    }) else {
        cx.push_money(
            id!("payer_bears"),
            "Payer bears",
            txt!(cx, "One-sided: the payer bears the loss = {}", format_money(loss)),
            loss,
        );
        return Ok(paid);
    };
    let (mlr, how) = corridor_rate(cx, &ss.corridor, true)?;
    cx.push_value(
        id!("loss_corridor_rate"),
        "Minimum loss rate",
        txt!(cx, "Minimum loss rate ({how}) = {}", format_rate(mlr)),
        mlr,
    );
    let corridor = cx.round.cents(money::mul(mlr, benchmark, "loss corridor")?);
    cx.push_money(
        id!("loss_corridor"),
        "Loss corridor",
        txt!(
            cx,
            "Loss corridor = {} x {} benchmark = {}",
            format_rate(mlr),
            format_money(benchmark),
            format_money(corridor)
        ),
        corridor,
    );
    if loss < corridor {
        cx.push_money(
            id!("shared_loss_base"),
            "Loss shared",
            txt!(
                cx,
                "Loss {} is below the loss corridor {}: nothing is shared",
                format_money(loss),
                format_money(corridor)
            ),
            paid,
        );
    } else {
        let base = match ss.sharing_base {
            SharingBase::FirstEuro => loss,
            SharingBase::AboveCorridor => money::sub(loss, corridor, "loss above the corridor")?,
        };
        cx.push_money(id!("shared_loss_base"), "Loss shared", txt!(cx, "Loss shared = {}", format_money(base)), base);
        let (rate, words) = match share {
            LossShare::Fixed { rate } => (*rate, "fixed".to_string()),
            LossShare::QualityScaled { intercept, slope, min, max } => {
                let q = quality.unwrap_or_default();
                let raw = money::sub(*intercept, money::mul(*slope, q, "loss rate")?, "loss rate")?;
                (
                    money::clamp(raw, *min, *max),
                    txt!(
                        cx,
                        "clamp({} - {} x {} quality, {}, {})",
                        format_rate(*intercept),
                        format_factor(*slope),
                        format_factor(q),
                        format_rate(*min),
                        format_rate(*max)
                    ),
                )
            }
        };
        cx.push_value(
            id!("loss_rate"),
            "Provider loss rate",
            txt!(cx, "Loss rate = {words} = {}", format_rate(rate)),
            rate,
        );
        paid = cx.round.cents(money::mul(rate, base, "provider loss share")?);
        cx.push_money(
            id!("provider_loss_share"),
            "Provider loss share before cap",
            txt!(cx, "Provider loss share = {} x {} = {}", format_rate(rate), format_money(base), format_money(paid)),
            paid,
        );
        match (&ss.figure_loss_cap, ss.loss_cap) {
            (Some(cap), _) => paid = apply_lesser_cap(cx, ss, cap, benchmark, paid)?,
            (None, Some(cap_rate)) => {
                paid = apply_cap(cx, (id!("loss_cap"), "Loss cap", "Loss cap", "loss cap"), cap_rate, benchmark, paid)?
            }
            (None, None) => {}
        }
    }
    let shared = paid;
    if let Some(ind) = &ss.participation_months_indicator {
        paid = prorate(cx, ind, paid)?;
    }
    if let Some(fm) = &ss.force_majeure {
        paid = force_majeure(cx, fm, paid)?;
    }
    cx.push_money(
        id!("provider_loss"),
        "Provider pays of the loss",
        txt!(cx, "Provider pays = {}", format_money(paid)),
        paid,
    );
    let bears = money::sub(loss, paid, "payer's share of the loss")?;
    cx.push_money(
        id!("payer_bears"),
        "Payer bears",
        txt!(cx, "Payer bears = {} loss - {} = {}", format_money(loss), format_money(paid), format_money(bears)),
        bears,
    );
    allocate(
        cx,
        &Payout {
            id: "shared_savings.loss_payment",
            label: "Shared loss payment",
            amount: -paid,
            payer: ss.payer.as_deref(),
            recipient: ss.recipient.as_deref(),
            funding: ss.funding,
        },
    )?;
    Ok(shared)
}
