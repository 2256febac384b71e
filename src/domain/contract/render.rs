//! Rendering the terms of a contract as text for a reader.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::choice::Choice;
use super::model::*;

/// `EUR 1,234,567.80` in the contract's `currency`: two decimals, thousands
/// separated by commas.
pub fn money_in(d: Decimal, currency: Currency) -> String {
    let r = d.round_dp(2);
    let neg = r.is_sign_negative() && !r.is_zero();
    let text = format!("{:.2}", r.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}{currency} {grouped}.{frac}", if neg { "-" } else { "" })
}

/// `12.5%`: a rate as an exact percentage. A value too large to be
/// multiplied by 100 (only in a contract that does not validate) is shown as
/// the plain number with "(as a fraction)" rather than overflowing.
pub fn percent(d: Decimal) -> String {
    match d.checked_mul(Decimal::ONE_HUNDRED) {
        Some(p) => format!("{}%", p.normalize()),
        None => format!("{} (as a fraction)", d.normalize()),
    }
}

fn opt_pct(d: Option<Decimal>) -> String {
    d.map(percent).unwrap_or_else(|| "none".to_string())
}

fn who(c: &Contract, id: &Option<String>, split: &str) -> String {
    match id {
        Some(id) => name(c, id),
        None => split.to_string(),
    }
}

fn name(c: &Contract, id: &str) -> String {
    c.party(id).map(|p| format!("{} ({id})", line(&p.name))).unwrap_or_else(|| id.to_string())
}

/// A single-line field as shown: control characters and line breaks escaped
/// (terms from an older ledger or a hostile peer may hold them).
fn line(text: &str) -> std::borrow::Cow<'_, str> {
    crate::ledger::text::escape_line(text)
}

impl Contract {
    /// The terms as plain text for a reader, in English: the reference that
    /// `present::terms::render` (what `vereffen contract show` and the web
    /// show, in the reader's language) reproduces byte for byte in English:
    /// parties, term, knobs, population, baseline, indicators, payment
    /// components, impulse financing, other instruments, distribution and
    /// monitoring, with amounts as `EUR 1,234.50` and rates as percentages.
    /// Control characters in the text are shown escaped
    /// ([`crate::ledger::text::escape_text`]; names and titles also escape line
    /// breaks), so the terms cannot repaint the reader's terminal.
    pub fn render_terms(&self) -> String {
        let mut o = String::new();
        // Writing to a String cannot fail; the results are ignored.
        let _ = self.write_terms(&mut o);
        crate::ledger::text::escape_text(&o).into_owned()
    }

    fn write_terms(&self, o: &mut String) -> std::fmt::Result {
        let c = self;
        // Amounts in the contract's own currency.
        let money = |d: Decimal| money_in(d, c.currency);
        writeln!(o, "{}", line(&c.title))?;
        // A contract that was never validated may have no canonical form
        // (and so no version); rendering must not panic on it.
        let version = c.try_version_hash().unwrap_or_else(|_| "(none: not in canonical form)".into());
        writeln!(o, "contract {}  version {version}", c.id)?;
        if !c.description.is_empty() {
            writeln!(o, "\n{}", c.description.trim())?;
        }
        writeln!(
            o,
            "\nTerm: {}-{}; amounts in {}, each money line rounded to cents {}",
            c.term.first_year,
            c.term.last_year,
            c.currency,
            match c.rounding {
                Rounding::HalfUp => "half up",
                Rounding::HalfEven => "half to even",
            }
        )?;
        if !c.term.review_dates.is_empty() {
            let dates: Vec<String> = c.term.review_dates.iter().map(Date::to_string).collect();
            writeln!(o, "Reviews: {}", dates.join(", "))?;
        }

        writeln!(o, "\nParties")?;
        for p in &c.parties {
            let mut extra = Vec::new();
            if p.signatory {
                extra.push("signs".to_string());
            }
            if let Some(k) = &p.key {
                extra.push(format!("key {k}"));
            }
            if let Some(x) = p.contribution {
                extra.push(format!("contributes {} a year", money(x)));
            }
            writeln!(o, "  {:<14} {:<19} {}  [{}]", p.id, p.role.word(), line(&p.name), extra.join(", "))?;
        }

        writeln!(o, "\nKnobs (Bijlage 3)")?;
        for (label, value) in c.knobs() {
            writeln!(o, "  {label:<24} {value}")?;
        }

        let pop = &c.population;
        writeln!(o, "\nPopulation")?;
        writeln!(o, "  {}", pop.description)?;
        if !pop.condition.is_empty() {
            writeln!(o, "  condition: {}", pop.condition)?;
        }
        writeln!(o, "  attribution: {}; size measured by {}", pop.attribution, pop.size_indicator)?;
        if let Some(n) = pop.expected_size {
            writeln!(o, "  expected size: {n}")?;
        }

        if let Some(b) = &c.baseline {
            writeln!(o, "\nBaseline")?;
            match (b.cost, b.unit, &b.trend, &b.benchmark_indicator) {
                (Some(cost), Some(unit), Some(trend), _) => {
                    writeln!(
                        o,
                        "  {} {} in {} ({})",
                        money(cost),
                        unit.word().replace('_', " "),
                        b.base_year,
                        b.source
                    )?;
                    let trend = match trend {
                        Trend::FixedRate { rate } => format!("{} a year", percent(*rate)),
                        Trend::RatesPerYear { rates } => {
                            let r: Vec<String> = rates.iter().map(|(y, r)| format!("{y}: {}", percent(*r))).collect();
                            r.join(", ")
                        }
                        Trend::MeasuredRate { indicator } => format!("yearly rate measured by {indicator}"),
                        Trend::MeasuredIndex { indicator } => {
                            format!("index {indicator}, year / base year")
                        }
                    };
                    writeln!(o, "  trend: {trend}")?;
                    let risk = match &b.risk_adjustment {
                        None | Some(RiskAdjustment::None) => "none".to_string(),
                        Some(RiskAdjustment::Fixed { factor }) => format!("x {factor}"),
                        Some(RiskAdjustment::Measured { indicator }) => format!("factor measured by {indicator}"),
                    };
                    writeln!(o, "  risk adjustment: {risk}")?;
                }
                (_, _, _, indicator) => writeln!(
                    o,
                    "  benchmark: the agreed total {} of each year (base year {}; {})",
                    indicator.as_deref().unwrap_or("-"),
                    b.base_year,
                    b.source
                )?,
            }
        }

        writeln!(o, "\nIndicators")?;
        for i in &c.indicators {
            writeln!(
                o,
                "  {}: {} [{}, {}, per {}]",
                i.id,
                line(&i.name),
                i.unit,
                i.direction.word().replace('_', " "),
                i.period
            )?;
            let agreed = if i.agreed_by.is_empty() { "nobody else".to_string() } else { i.agreed_by.join(", ") };
            writeln!(o, "    measured by {}, agreed by {}", i.source, agreed)?;
            if let Some(q) = &i.quality {
                writeln!(
                    o,
                    "    quality: threshold {}, target {}, weight {} ({})",
                    q.threshold,
                    q.target,
                    percent(q.weight),
                    q.scoring
                )?;
            }
        }

        writeln!(o, "\nPayments")?;
        let p = &c.payments;
        if let Some(v) = &p.volume {
            writeln!(o, "  Volume")?;
            for a in &v.activities {
                let code = if a.code.is_empty() { String::new() } else { format!(" code {}", line(&a.code)) };
                writeln!(
                    o,
                    "    {}{code}: {} per {} x {}, paid by {} to {} ({})",
                    line(&a.name),
                    money(a.price),
                    line(&a.unit),
                    a.quantity_indicator,
                    a.payer,
                    a.provider,
                    a.funding
                )?;
                if let Some(m) = a.max_amount_per_year {
                    writeln!(o, "      at most {} a year", money(m))?;
                }
            }
            for cap in &v.caps {
                writeln!(
                    o,
                    "    cap: {} together at most {} per {}{}",
                    cap.activities.join(" + "),
                    cap.max_quantity,
                    cap.per.word().replace('_', " "),
                    cap.exposure_indicator.as_ref().map(|e| format!(" (clients: {e})")).unwrap_or_default()
                )?;
            }
            allocation_terms(o, c, &v.allocation)?;
        }
        if let Some(pf) = &p.pay_for_performance {
            writeln!(o, "  Pay for performance")?;
            for b in &pf.bonuses {
                let basis = match b.basis {
                    BonusBasis::Fixed => String::new(),
                    BonusBasis::PerMember => " per member".to_string(),
                };
                writeln!(
                    o,
                    "    {}: {}{basis} when {} reaches {}; to {}, paid by {} ({})",
                    b.id,
                    money(b.amount),
                    b.indicator,
                    b.target,
                    who(c, &b.recipient, "the providers by the distribution key"),
                    who(c, &b.payer, "the payers by the distribution key"),
                    b.funding
                )?;
            }
            allocation_terms(o, c, &pf.allocation)?;
        }
        if let Some(s) = &p.shared_savings {
            writeln!(o, "  Shared savings ({}, {})", s.sided.word().replace('_', "-"), s.funding)?;
            writeln!(o, "    actual cost: {}; benchmark from the baseline", s.actual_cost_indicator)?;
            match &s.corridor {
                Corridor::Fixed { min_savings_rate, min_loss_rate } => writeln!(
                    o,
                    "    corridor: savings {}, losses {}",
                    percent(*min_savings_rate),
                    opt_pct(*min_loss_rate)
                )?,
                Corridor::PopulationTable { rows, population_indicator } => {
                    match population_indicator {
                        None => writeln!(o, "    corridor by population size (linear between rows):")?,
                        Some(ind) => writeln!(o, "    corridor by population size {ind} (linear between rows):")?,
                    }
                    for r in rows {
                        writeln!(
                            o,
                            "      {:>8}: savings {}, losses {}",
                            r.population,
                            percent(r.min_savings_rate),
                            opt_pct(r.min_loss_rate)
                        )?;
                    }
                }
            }
            writeln!(o, "    sharing: {}", s.sharing_base.word().replace('_', " "))?;
            let scaled = match s.quality_scaling {
                QualityScaling::None => "",
                QualityScaling::Proportional => " x quality score",
            };
            writeln!(o, "    provider share of savings: {}{scaled}", percent(s.provider_share))?;
            if !s.min_quality_score.is_zero() {
                writeln!(o, "    no savings share below quality score {}", percent(s.min_quality_score))?;
            }
            match &s.loss_share {
                Some(LossShare::Fixed { rate }) => writeln!(o, "    provider share of losses: {}", percent(*rate))?,
                Some(LossShare::QualityScaled { intercept, slope, min, max }) => writeln!(
                    o,
                    "    provider share of losses: {intercept} - {slope} x quality score, between {} and {}",
                    percent(*min),
                    percent(*max)
                )?,
                None => {}
            }
            writeln!(
                o,
                "    withhold {} before caps; savings cap {}, loss cap {} of benchmark; losses {}carried forward",
                percent(s.withhold),
                opt_pct(s.savings_cap),
                opt_pct(s.loss_cap),
                if s.carry_forward_losses { "" } else { "not " }
            )?;
            if let Some(tier) = &s.inside_corridor {
                writeln!(
                    o,
                    "    inside the corridor: {} of savings when {} meets {}",
                    percent(tier.provider_share),
                    tier.indicator,
                    tier.target
                )?;
            }
            if let Some(cap) = &s.figure_loss_cap {
                writeln!(
                    o,
                    "    second loss cap: {} of {} (the lesser cap applies)",
                    percent(cap.rate),
                    cap.indicator
                )?;
            }
            if let Some(ind) = &s.participation_months_indicator {
                writeln!(o, "    loss payment x months of participation ({ind}) / 12")?;
            }
            match &s.force_majeure {
                Some(ForceMajeure::Fraction { factors }) => {
                    writeln!(o, "    force majeure: loss payment reduced by {}", factors.join(" x "))?
                }
                Some(ForceMajeure::Amount { indicator }) => {
                    writeln!(o, "    force majeure: loss payment reduced by the amount {indicator}")?
                }
                None => {}
            }
            writeln!(
                o,
                "    paid to {}, by {}",
                who(c, &s.recipient, "the providers by the distribution key"),
                who(c, &s.payer, "the payers by the distribution key")
            )?;
            allocation_terms(o, c, &s.allocation)?;
        }
        if let Some(b) = &p.bundled {
            writeln!(o, "  Bundled payment ({})", b.funding)?;
            writeln!(o, "    episode: {}", b.episode)?;
            writeln!(
                o,
                "    target price {} per episode x {}; actual cost {}",
                money(b.target_price),
                b.episodes_indicator,
                b.actual_cost_indicator
            )?;
            writeln!(o, "    stop-gain {}, stop-loss {} of target total", opt_pct(b.stop_gain), opt_pct(b.stop_loss))?;
            allocation_terms(o, c, &b.allocation)?;
        }
        if let Some(cp) = &p.capitation {
            writeln!(o, "  Population budget ({})", cp.funding)?;
            writeln!(
                o,
                "    {} per member per year x {}; actual cost {}",
                money(cp.amount_per_member),
                cp.members_indicator,
                cp.actual_cost_indicator
            )?;
            for band in &cp.risk_corridors {
                writeln!(
                    o,
                    "    result {} to {}: providers keep or bear {}",
                    percent(band.from),
                    band.to.map(percent).unwrap_or_else(|| "beyond".to_string()),
                    percent(band.provider_share)
                )?;
            }
            allocation_terms(o, c, &cp.allocation)?;
        }

        if !c.impulse.is_empty() {
            writeln!(o, "\nImpulse financing")?;
            for i in &c.impulse {
                let kind = match &i.kind {
                    ImpulseKind::Grant => "grant".to_string(),
                    ImpulseKind::Advance { repayment_rate, remaining_at_end } => format!(
                        "advance, repaid from {} of later savings shares, rest {} at the end",
                        percent(*repayment_rate),
                        remaining_at_end
                    ),
                };
                writeln!(
                    o,
                    "  {}: {} from {} to {} ({kind}; {})",
                    i.year,
                    money(i.amount),
                    i.payer,
                    i.recipient,
                    i.funding
                )?;
                writeln!(o, "    {}", i.purpose)?;
            }
        }
        if !c.revenue_guarantees.is_empty() || !c.tariff_adjustments.is_empty() {
            writeln!(o, "\nOther instruments")?;
        }
        for g in &c.revenue_guarantees {
            let years: Vec<String> = g.years.iter().map(u16::to_string).collect();
            writeln!(
                o,
                "  revenue floor {} a year for {} in {}, topped up by {} ({}); revenue: {}",
                money(g.floor),
                g.provider,
                years.join(", "),
                g.payer,
                g.funding,
                g.revenue_indicator.as_deref().unwrap_or("this contract's payments")
            )?;
        }
        for t in &c.tariff_adjustments {
            let when = match &t.trigger {
                Trigger::Always => "always".to_string(),
                Trigger::TargetMet { indicator, target } => {
                    format!("when {indicator} reaches {target}")
                }
                Trigger::TargetMissed { indicator, target } => {
                    format!("when {indicator} misses {target}")
                }
            };
            writeln!(
                o,
                "  tariff {} of {} on {}, {when}: {}",
                t.kind,
                percent(t.rate),
                t.applies_to.join(", "),
                t.reason
            )?;
        }

        writeln!(o, "\nDistribution")?;
        match &c.distribution.providers.rule {
            ProviderRule::Fixed { shares } => {
                let s: Vec<String> = shares.iter().map(|(k, v)| format!("{k} {}", percent(*v))).collect();
                writeln!(o, "  providers: {}", s.join(", "))?;
            }
            ProviderRule::ByIndicator { indicators } => {
                let s: Vec<String> = indicators.iter().map(|(k, v)| format!("{k} by {v}")).collect();
                writeln!(o, "  providers in proportion to: {}", s.join(", "))?;
            }
        }
        match &c.distribution.payers.rule {
            PayerRule::Fixed { shares } => {
                let s: Vec<String> = shares.iter().map(|(k, v)| format!("{k} {}", percent(*v))).collect();
                writeln!(o, "  payers: {}", s.join(", "))?;
            }
            PayerRule::ByContribution => writeln!(o, "  payers: in proportion to contributions")?,
        }
        writeln!(
            o,
            "  leftover cents: providers {}, payers {}",
            c.distribution.providers.remainder.word().replace('_', " "),
            c.distribution.payers.remainder.word().replace('_', " ")
        )?;

        let m = &c.monitoring;
        writeln!(o, "\nMonitoring")?;
        writeln!(
            o,
            "  reporting {}; a missing figure: {}; below the quality gate: {}",
            m.reporting,
            m.missing_measurement.word().replace('_', " "),
            m.below_quality_gate.word().replace('_', " ")
        )?;
        if !m.notes.is_empty() {
            writeln!(o, "  {}", m.notes)?;
        }
        Ok(())
    }
}

/// The allocation key of a component, one line (nothing without a key).
fn allocation_terms(o: &mut String, c: &Contract, key: &Option<AllocationKey>) -> std::fmt::Result {
    let Some(key) = key else { return Ok(()) };
    let parts: Vec<String> =
        key.in_stream_order(&c.funding_streams).iter().map(|(f, ind)| format!("{f} by {ind}")).collect();
    writeln!(o, "    allocation key over funding streams: {}", parts.join(", "))
}
