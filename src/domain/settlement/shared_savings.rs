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

use super::components::applies;
use super::components::meets;
use super::distribution::{allocate, Payout, PayoutId};
use super::money;
use super::why::{factor, int, money as m, name, number, rate, ratio, w, List, Phrase};
use super::{line_id, Ctx, SettleError};
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
/// amount. `loss`: the loss cap (else the savings cap).
fn apply_cap(
    cx: &mut Ctx<'_>,
    loss: bool,
    cap_rate: Decimal,
    benchmark: Decimal,
    amount: Decimal,
) -> Result<Decimal, SettleError> {
    let figure = if loss { "loss cap" } else { "savings cap" };
    let cap = cx.round.cents(money::mul(cap_rate, benchmark, figure)?);
    let binding = applies(amount > cap);
    if loss {
        cx.push_money(
            id!("loss_cap"),
            w!("line-ss-loss-cap-label", "Loss cap"),
            w!(
                "line-ss-loss-cap",
                "Loss cap = {} x {} benchmark = {}{}",
                rate(cap_rate),
                m(benchmark),
                m(cap),
                binding
            ),
            cap,
        );
    } else {
        cx.push_money(
            id!("savings_cap"),
            w!("line-ss-savings-cap-label", "Savings cap"),
            w!("line-ss-savings-cap", "Cap = {} x {} benchmark = {}{}", rate(cap_rate), m(benchmark), m(cap), binding),
            cap,
        );
    }
    Ok(amount.min(cap))
}

pub(crate) fn settle(cx: &mut Ctx<'_>, ss: &SharedSavings, carried_in: Decimal) -> Result<Decimal, SettleError> {
    let benchmark = benchmark(cx)?;
    cx.base_line("shared_savings.benchmark", benchmark)?;
    let actual = cx.round.cents(cx.fig_nonneg(&ss.actual_cost_indicator)?);
    cx.push_money(
        id!("actual_cost"),
        w!("line-actual-cost-label", "Actual cost"),
        w!("line-actual-cost", "Actual cost ({}) = {}", name(&ss.actual_cost_indicator), m(actual)),
        actual,
    );
    let gross = money::sub(benchmark, actual, "gross savings")?;
    cx.push_money(
        id!("gross_savings"),
        w!("line-ss-gross-label", "Gross savings"),
        w!("line-ss-gross", "Gross savings = {} benchmark - {} actual = {}", m(benchmark), m(actual), m(gross)),
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
            w!("line-ss-netted-label", "Losses of earlier years netted"),
            w!(
                "line-ss-netted",
                "Losses netted = min({} carried in, {} gross savings) = {}",
                m(carried_in),
                m(gross),
                m(used)
            ),
            used,
        );
        cx.push_money(
            id!("net_savings"),
            w!("line-ss-net-label", "Net savings"),
            w!("line-ss-net", "Net savings = {} - {} = {}", m(gross), m(used), m(net)),
            net,
        );
    }
    let savings_rate = cx.round.ratio(money::div(net, benchmark, "savings rate")?);
    cx.push_value(
        id!("savings_rate"),
        w!("line-ss-rate-label", "Savings rate"),
        w!("line-ss-rate", "Savings rate = {} / {} = {}", m(net), m(benchmark), ratio(savings_rate)),
        savings_rate,
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
        let (label, formula) = if cx.year == cx.c.term.last_year {
            (
                w!("line-ss-lapsed-label", "Losses not netted by the end of the term"),
                w!(
                    "line-ss-lapsed",
                    "Losses not netted by the end of the term = {} (they lapse with the term)",
                    m(out)
                ),
            )
        } else {
            (
                w!("line-ss-carried-label", "Losses carried to the next year"),
                w!("line-ss-carried", "Losses carried to the next year = {} (netted against later savings)", m(out)),
            )
        };
        cx.push_money(id!("losses_carried_out"), label, formula, out);
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
    let span = || w!("line-span", "{}->{}", int(b.base_year), int(year));
    let (trend, words) = match trend {
        Trend::FixedRate { rate: r } => {
            let n = year.saturating_sub(b.base_year);
            let base = money::add(one, *r, "trend factor")?;
            let mut f = one;
            for _ in 0..n {
                f = money::mul(f, base, "trend factor")?;
            }
            (f, w!("line-trend-fixed", "(1 + {})^{}", rate(*r), int(n)))
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
                parts.push(w!("line-trend-year", "(1 + {} {})", rate(*r), int(y)));
            }
            (f, w!("line-list", "{}", List(" x ", parts)))
        }
        Trend::MeasuredRate { indicator } => {
            let mut f = one;
            let mut parts = Vec::new();
            for y in b.base_year.saturating_add(1)..=year {
                let r = cx.fig_in(indicator, y)?;
                f = money::mul(f, money::add(one, r, "trend factor")?, "trend factor")?;
                parts.push(w!("line-trend-year", "(1 + {} {})", rate(r), int(y)));
            }
            (f, w!("line-list", "{}", List(" x ", parts)))
        }
        Trend::MeasuredIndex { indicator } => {
            let now = cx.fig_in(indicator, year)?;
            let then = cx.fig_in(indicator, b.base_year)?;
            let f = money::div(now, then, "trend factor (index of the base year is 0)")?;
            (
                f,
                w!(
                    "line-trend-index",
                    "index {} ({}) / {} ({})",
                    number(now),
                    int(year),
                    number(then),
                    int(b.base_year)
                ),
            )
        }
    };
    let trend = cx.round.ratio(trend);
    cx.push_value(
        id!("trend_factor"),
        w!("line-ss-trend-label", "Trend factor {}", span()),
        w!("line-ss-trend", "Trend factor {} = {} = {}", span(), words, factor(trend)),
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
            w!("line-ss-risk-label", "Risk adjustment factor"),
            w!("line-ss-risk", "Risk factor = {}", factor(risk)),
            risk,
        );
    }
    let size_id: &str = &c.population.size_indicator;
    let size = cx.fig_nonneg(size_id)?;
    let size_unit = c.indicator(size_id).map(|i| i.unit);
    let twelve = Decimal::from(12);
    let per_year = || w!("line-per-member-year", "per member-year");
    let per_month = || w!("line-per-member-month", "per member-month");
    let (size, divisor, size_words, per) = match (unit, size_unit) {
        (BaselineUnit::PerMemberYear, Some(Unit::MemberMonths)) => {
            (size, twelve, w!("line-size-member-months", "{} member-months / 12", number(size)), per_year())
        }
        (BaselineUnit::PerMemberMonth, Some(Unit::Members)) => (
            money::mul(size, twelve, "benchmark size")?,
            one,
            w!("line-size-members-x12", "{} members x 12", number(size)),
            per_month(),
        ),
        (BaselineUnit::PerMemberMonth, _) => {
            (size, one, w!("line-size-member-months-plain", "{} member-months", number(size)), per_month())
        }
        (BaselineUnit::PerEpisode, _) | (_, Some(Unit::Episodes)) => {
            (size, one, w!("line-size-episodes", "{} episodes", number(size)), w!("line-per-episode", "per episode"))
        }
        (BaselineUnit::PerMemberYear, _) => {
            (size, one, w!("line-size-members", "{} members", number(size)), per_year())
        }
    };
    let raw = money::mul(money::mul(money::mul(cost, trend, "benchmark")?, risk, "benchmark")?, size, "benchmark")?;
    let benchmark = cx.round.cents(money::div(raw, divisor, "benchmark")?);
    let formula = if matches!(adjustment, RiskAdjustment::None) {
        w!(
            "line-ss-benchmark",
            "Benchmark = {} {} x {} trend x {} = {}",
            m(cost),
            per,
            factor(trend),
            size_words,
            m(benchmark)
        )
    } else {
        w!(
            "line-ss-benchmark-risk",
            "Benchmark = {} {} x {} trend x {} risk x {} = {}",
            m(cost),
            per,
            factor(trend),
            factor(risk),
            size_words,
            m(benchmark)
        )
    };
    cx.push_money(id!("benchmark"), w!("line-ss-benchmark-label", "Benchmark (expected cost)"), formula, benchmark);
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
        w!("line-ss-benchmark-label", "Benchmark (expected cost)"),
        w!("line-ss-benchmark-agreed", "Benchmark = agreed total ({}) = {}", name(indicator), m(benchmark)),
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
            None => (Decimal::ZERO, w!("line-missing-treated", "missing: treated as not met")),
            Some(v) => match q.scoring {
                Scoring::Step => {
                    let met = meets(ind.direction, v, q.target);
                    let s = if met { Decimal::ONE } else { Decimal::ZERO };
                    (s, meets_words(met, v, q.target))
                }
                Scoring::Linear => {
                    let (num, den, words) = if lower {
                        (
                            money::sub(q.threshold, v, "quality score")?,
                            money::sub(q.threshold, q.target, "quality score")?,
                            w!(
                                "line-q-linear",
                                "({} - {}) / ({} - {})",
                                number(q.threshold),
                                number(v),
                                number(q.threshold),
                                number(q.target)
                            ),
                        )
                    } else {
                        (
                            money::sub(v, q.threshold, "quality score")?,
                            money::sub(q.target, q.threshold, "quality score")?,
                            w!(
                                "line-q-linear",
                                "({} - {}) / ({} - {})",
                                number(v),
                                number(q.threshold),
                                number(q.target),
                                number(q.threshold)
                            ),
                        )
                    };
                    let raw = money::div(num, den, &format!("quality score of {}", ind.id))?;
                    let s = cx.round.ratio(money::clamp(raw, Decimal::ZERO, Decimal::ONE));
                    (s, w!("line-q-within", "{}, within 0..1", words))
                }
            },
        };
        let formula = if lower {
            w!(
                "line-q-lower",
                "{}: lower is better, threshold {}, target {}: {} = {}",
                name(&ind.id),
                number(q.threshold),
                number(q.target),
                words,
                factor(score)
            )
        } else {
            w!(
                "line-q-higher",
                "{}: higher is better, threshold {}, target {}: {} = {}",
                name(&ind.id),
                number(q.threshold),
                number(q.target),
                words,
                factor(score)
            )
        };
        cx.push_value(
            line_id(&["quality", &ind.id]),
            w!("line-q-label", "Quality score: {}", name(&ind.name)),
            formula,
            score,
        );
        total = money::add(total, money::mul(q.weight, score, "quality score")?, "quality score")?;
        terms.push(w!("line-q-term", "{} x {}", rate(q.weight), factor(score)));
    }
    if terms.is_empty() {
        return Ok(None);
    }
    let total = money::clamp(total, Decimal::ZERO, Decimal::ONE);
    cx.push_value(
        id!("quality_score"),
        w!("line-q-total-label", "Quality score"),
        w!("line-q-total", "Quality score = {} = {}", List(" + ", terms), factor(total)),
        total,
    );
    Ok(Some(total))
}

/// `{value} meets target {target}` or `... misses ...`.
fn meets_words(met: bool, value: Decimal, target: Decimal) -> Phrase {
    if met {
        w!("line-meets", "{} meets target {}", number(value), number(target))
    } else {
        w!("line-misses", "{} misses target {}", number(value), number(target))
    }
}

fn corridor_rate(cx: &mut Ctx<'_>, corridor: &Corridor, loss: bool) -> Result<(Decimal, Phrase), SettleError> {
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
            Ok((r, w!("line-fixed", "fixed")))
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
                    w!(
                        "line-corridor-first",
                        "{}, at or below the first row ({}): its rate",
                        words,
                        int(first.population as i64)
                    ),
                ));
            }
            if size >= scaled(last.population)? {
                return Ok((
                    pick(last),
                    w!(
                        "line-corridor-last",
                        "{}, at or above the last row ({}): its rate",
                        words,
                        int(last.population as i64)
                    ),
                ));
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
                    let members = money::div(size, divisor, "corridor rate")?.round_dp(2);
                    let words = w!(
                        "line-corridor-between",
                        "{} = {}: {} + ({} - {}) x ({} - {}) / ({} - {})",
                        words,
                        number(members),
                        rate(ra),
                        rate(rb),
                        rate(ra),
                        number(members),
                        int(a.population as i64),
                        int(b.population as i64),
                        int(a.population as i64)
                    );
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
        w!("line-ss-corridor-rate-label", "Minimum savings rate"),
        w!("line-ss-corridor-rate", "Minimum savings rate ({}) = {}", how, rate(msr)),
        msr,
    );
    let corridor = cx.round.cents(money::mul(msr, benchmark, "savings corridor")?);
    cx.push_money(
        id!("corridor"),
        w!("line-ss-corridor-label", "Savings corridor"),
        w!("line-ss-corridor", "Corridor = {} x {} benchmark = {}", rate(msr), m(benchmark), m(corridor)),
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
                    w!("line-ss-shared-label", "Savings shared"),
                    w!(
                        "line-ss-shared-inside",
                        "Savings {} are below the corridor {}: shared from the first euro at the inside-corridor rate = {}",
                        m(net),
                        m(corridor),
                        m(net)
                    ),
                    net,
                );
                tier = Some((net, inside.provider_share));
            }
        }
        if tier.is_none() {
            cx.push_money(
                id!("shared_base"),
                w!("line-ss-shared-label", "Savings shared"),
                w!(
                    "line-ss-shared-none",
                    "Savings {} are below the corridor {}: nothing is shared",
                    m(net),
                    m(corridor)
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
            SharingBase::FirstEuro => w!("line-ss-shared-first", "Savings shared from the first euro = {}", m(base)),
            SharingBase::AboveCorridor => {
                w!("line-ss-shared-above", "Savings above the corridor = {} - {} = {}", m(net), m(corridor), m(base))
            }
        };
        cx.push_money(id!("shared_base"), w!("line-ss-shared-label", "Savings shared"), words, base);
        tier = Some((base, ss.provider_share));
    }
    if let Some((base, share)) = tier {
        let q = quality.unwrap_or(Decimal::ONE);
        if ss.min_quality_score > Decimal::ZERO && q < ss.min_quality_score {
            cx.push_value(
                id!("quality_gate"),
                w!("line-ss-gate-label", "Quality gate not met"),
                w!(
                    "line-ss-gate",
                    "Quality score {} is below the gate {}: no savings share",
                    factor(q),
                    factor(ss.min_quality_score)
                ),
                q,
            );
        } else {
            let (provider_rate, formula) = match ss.quality_scaling {
                QualityScaling::None => {
                    (share, w!("line-ss-provider-rate-fixed", "Provider rate = {} = {}", rate(share), rate(share)))
                }
                QualityScaling::Proportional => {
                    let r = money::mul(share, q, "provider rate")?;
                    (
                        r,
                        w!(
                            "line-ss-provider-rate",
                            "Provider rate = {} x {} quality = {}",
                            rate(share),
                            factor(q),
                            rate(r)
                        ),
                    )
                }
            };
            cx.push_value(
                id!("provider_rate"),
                w!("line-ss-provider-rate-label", "Provider share rate"),
                formula,
                provider_rate,
            );
            payout = cx.round.cents(money::mul(provider_rate, base, "provider share")?);
            // A share of 0% written in the contract pays nothing, and the
            // statement says so rather than showing a bare 0.00.
            let formula = if share.is_zero() {
                w!(
                    "line-ss-provider-share-zero",
                    "Provider share = {} x {} = {} (the contract's share is 0%: nothing is paid)",
                    rate(provider_rate),
                    m(base),
                    m(payout)
                )
            } else {
                w!("line-ss-provider-share", "Provider share = {} x {} = {}", rate(provider_rate), m(base), m(payout))
            };
            cx.push_money(
                id!("provider_share"),
                w!("line-ss-provider-share-label", "Provider share before withhold and cap"),
                formula,
                payout,
            );
            if ss.withhold > Decimal::ZERO {
                let withheld = cx.round.cents(money::mul(ss.withhold, payout, "withhold")?);
                let after = money::sub(payout, withheld, "provider share after withhold")?;
                cx.push_money(
                    id!("withhold"),
                    w!("line-ss-withhold-label", "Withhold"),
                    w!("line-ss-withhold", "Withhold = {} x {} = {}", rate(ss.withhold), m(payout), m(withheld)),
                    withheld,
                );
                cx.push_money(
                    id!("after_withhold"),
                    w!("line-ss-after-withhold-label", "Provider share after withhold"),
                    w!("line-ss-after-withhold", "After withhold = {} - {} = {}", m(payout), m(withheld), m(after)),
                    after,
                );
                payout = after;
            }
            if let Some(cap_rate) = ss.savings_cap {
                payout = apply_cap(cx, false, cap_rate, benchmark, payout)?;
            }
        }
    }
    cx.push_money(
        id!("provider_payout"),
        w!("line-ss-payout-label", "Provider savings payout"),
        w!("line-ss-payout", "Provider payout = {}", m(payout)),
        payout,
    );
    let keeps = money::sub(gross, payout, "payer's share of savings")?;
    cx.push_money(
        id!("payer_keeps"),
        w!("line-ss-keeps-label", "Payer keeps"),
        w!("line-ss-keeps", "Payer keeps = {} gross savings - {} payout = {}", m(gross), m(payout), m(keeps)),
        keeps,
    );
    allocate(
        cx,
        &Payout {
            id: PayoutId::Fixed("shared_savings.payout"),
            label: w!("line-ss-payment-label", "Shared savings payout"),
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
        None => (false, w!("line-missing-treated", "missing: treated as not met")),
        Some(v) => {
            let met = meets(ind.direction, v, inside.target);
            (met, meets_words(met, v, inside.target))
        }
    };
    let value = if met { Decimal::ONE } else { Decimal::ZERO };
    let formula = if met {
        w!(
            "line-ss-inside-met",
            "Inside-corridor condition ({}): {}: savings inside the corridor are shared",
            name(&inside.indicator),
            words
        )
    } else {
        w!(
            "line-ss-inside-missed",
            "Inside-corridor condition ({}): {}: nothing inside the corridor is shared",
            name(&inside.indicator),
            words
        )
    };
    cx.push_value(
        id!("inside_corridor_condition"),
        w!("line-ss-inside-label", "Inside-corridor condition"),
        formula,
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
        (true, true) => w!("line-lesser-applies", " (the lesser: applies)"),
        (true, false) => w!("line-lesser-not-reached", " (the lesser: not reached)"),
        (false, _) => w!("line-not-lesser", " (not the lesser)"),
    };
    if let Some((r, f)) = first {
        cx.push_money(
            id!("loss_cap"),
            w!("line-ss-loss-cap-label", "Loss cap"),
            w!(
                "line-ss-loss-cap",
                "Loss cap = {} x {} benchmark = {}{}",
                rate(r),
                m(benchmark),
                m(f),
                binding(first_is_lesser)
            ),
            f,
        );
    }
    cx.push_money(
        id!("figure_loss_cap"),
        w!("line-ss-second-cap-label", "Second loss cap"),
        w!(
            "line-ss-second-cap",
            "Second loss cap = {} x {} {} = {}{}",
            rate(cap.rate),
            m(figure),
            name(&cap.indicator),
            m(second),
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
        w!("line-ss-prorated-label", "Loss payment pro-rated to the months of participation"),
        w!(
            "line-ss-prorated",
            "Pro-rated = {} x {} months ({}) / 12 = {}",
            m(paid),
            number(months),
            name(indicator),
            m(prorated)
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
        w!("line-ss-before-fm-label", "Provider loss before force majeure"),
        w!("line-ss-before-fm", "Loss before force majeure = {}", m(paid)),
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
                parts.push(w!("line-fm-part", "{} {}", rate(v), name(f)));
            }
            let fraction = cx.round.ratio(fraction);
            cx.push_value(
                id!("force_majeure_fraction"),
                w!("line-ss-fm-fraction-label", "Force majeure fraction"),
                w!("line-ss-fm-fraction", "Force majeure fraction = {} = {}", List(" x ", parts), ratio(fraction)),
                fraction,
            );
            let reduction = cx.round.cents(money::mul(fraction, paid, "force majeure reduction")?);
            (reduction, w!("line-fm-times", "{} x {}", ratio(fraction), m(paid)))
        }
        ForceMajeure::Amount { indicator } => {
            let amount = cx.round.cents(cx.fig_nonneg(indicator)?);
            (amount, w!("line-fm-agreed", "agreed amount ({}) {}", name(indicator), m(amount)))
        }
    };
    let reduction = money::clamp(raw, Decimal::ZERO, paid);
    let formula = if reduction < raw {
        w!(
            "line-ss-fm-reduction-clamped",
            "Force majeure reduction = {}, at most the loss {} = {}",
            words,
            m(paid),
            m(reduction)
        )
    } else {
        w!("line-ss-fm-reduction", "Force majeure reduction = {} = {}", words, m(reduction))
    };
    cx.push_money(
        id!("force_majeure_reduction"),
        w!("line-ss-fm-reduction-label", "Force majeure reduction"),
        formula,
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
    cx.push_money(
        id!("loss"),
        w!("line-ss-loss-label", "Loss (actual cost above benchmark)"),
        w!("line-ss-loss", "Loss = {}", m(loss)),
        loss,
    );
    let Some(share) = (match ss.sided {
        Sided::TwoSided => ss.loss_share.as_ref(),
        Sided::OneSided => None,
    }) else {
        cx.push_money(
            id!("payer_bears"),
            w!("line-ss-bears-label", "Payer bears"),
            w!("line-ss-bears-one-sided", "One-sided: the payer bears the loss = {}", m(loss)),
            loss,
        );
        return Ok(paid);
    };
    let (mlr, how) = corridor_rate(cx, &ss.corridor, true)?;
    cx.push_value(
        id!("loss_corridor_rate"),
        w!("line-ss-loss-corridor-rate-label", "Minimum loss rate"),
        w!("line-ss-loss-corridor-rate", "Minimum loss rate ({}) = {}", how, rate(mlr)),
        mlr,
    );
    let corridor = cx.round.cents(money::mul(mlr, benchmark, "loss corridor")?);
    cx.push_money(
        id!("loss_corridor"),
        w!("line-ss-loss-corridor-label", "Loss corridor"),
        w!("line-ss-loss-corridor", "Loss corridor = {} x {} benchmark = {}", rate(mlr), m(benchmark), m(corridor)),
        corridor,
    );
    if loss < corridor {
        cx.push_money(
            id!("shared_loss_base"),
            w!("line-ss-loss-shared-label", "Loss shared"),
            w!(
                "line-ss-loss-shared-none",
                "Loss {} is below the loss corridor {}: nothing is shared",
                m(loss),
                m(corridor)
            ),
            paid,
        );
    } else {
        let base = match ss.sharing_base {
            SharingBase::FirstEuro => loss,
            SharingBase::AboveCorridor => money::sub(loss, corridor, "loss above the corridor")?,
        };
        cx.push_money(
            id!("shared_loss_base"),
            w!("line-ss-loss-shared-label", "Loss shared"),
            w!("line-ss-loss-shared", "Loss shared = {}", m(base)),
            base,
        );
        let (loss_rate, words) = match share {
            LossShare::Fixed { rate } => (*rate, w!("line-fixed", "fixed")),
            LossShare::QualityScaled { intercept, slope, min, max } => {
                let q = quality.unwrap_or_default();
                let raw = money::sub(*intercept, money::mul(*slope, q, "loss rate")?, "loss rate")?;
                (
                    money::clamp(raw, *min, *max),
                    w!(
                        "line-loss-rate-clamp",
                        "clamp({} - {} x {} quality, {}, {})",
                        rate(*intercept),
                        factor(*slope),
                        factor(q),
                        rate(*min),
                        rate(*max)
                    ),
                )
            }
        };
        cx.push_value(
            id!("loss_rate"),
            w!("line-ss-loss-rate-label", "Provider loss rate"),
            w!("line-ss-loss-rate", "Loss rate = {} = {}", words, rate(loss_rate)),
            loss_rate,
        );
        paid = cx.round.cents(money::mul(loss_rate, base, "provider loss share")?);
        cx.push_money(
            id!("provider_loss_share"),
            w!("line-ss-loss-share-label", "Provider loss share before cap"),
            w!("line-ss-loss-share", "Provider loss share = {} x {} = {}", rate(loss_rate), m(base), m(paid)),
            paid,
        );
        match (&ss.figure_loss_cap, ss.loss_cap) {
            (Some(cap), _) => paid = apply_lesser_cap(cx, ss, cap, benchmark, paid)?,
            (None, Some(cap_rate)) => paid = apply_cap(cx, true, cap_rate, benchmark, paid)?,
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
        w!("line-ss-provider-pays-label", "Provider pays of the loss"),
        w!("line-ss-provider-pays", "Provider pays = {}", m(paid)),
        paid,
    );
    let bears = money::sub(loss, paid, "payer's share of the loss")?;
    cx.push_money(
        id!("payer_bears"),
        w!("line-ss-bears-label", "Payer bears"),
        w!("line-ss-bears", "Payer bears = {} loss - {} = {}", m(loss), m(paid), m(bears)),
        bears,
    );
    allocate(
        cx,
        &Payout {
            id: PayoutId::Fixed("shared_savings.loss_payment"),
            label: w!("line-ss-loss-payment-label", "Shared loss payment"),
            amount: -paid,
            payer: ss.payer.as_deref(),
            recipient: ss.recipient.as_deref(),
            funding: ss.funding,
        },
    )?;
    Ok(shared)
}
