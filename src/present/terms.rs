//! The terms of a contract as text for a reader, in the reader's language
//! (backs `vereffen contract show` and the terms on the web's contract,
//! timeline and offer pages).
//!
//! Every sentence is a Fluent message (`locales/*/terms.ftl`); the English
//! text is byte-identical to [`Contract::render_terms`], the reference kept
//! in the domain. Words of the file format (knob values, ids, indicator ids,
//! funding streams) stay as written; amounts and rates follow the language
//! (`EUR 1,234.50` / `€ 1.234,50`, `12.5%` / `12,5%`).

use std::borrow::Cow;

use rust_decimal::Decimal;

use crate::domain::contract::*;
use crate::present::lang::{Arg, Lang, Tr};

/// The terms of `c` as plain text in `tr`'s language: parties, term, knobs,
/// population, baseline, indicators, payment components, impulse financing,
/// other instruments, distribution and monitoring. Control characters are
/// shown escaped exactly as [`Contract::render_terms`] escapes them.
pub fn render(tr: &Tr, c: &Contract) -> String {
    let w = W { tr, c, o: String::new() };
    crate::ledger::text::escape_text(&w.write()).into_owned()
}

/// A single-line field as shown: control characters and line breaks escaped.
fn line(text: &str) -> Cow<'_, str> {
    crate::ledger::text::escape_line(text)
}

struct W<'a> {
    tr: &'a Tr,
    c: &'a Contract,
    o: String,
}

impl W<'_> {
    /// Message `id` with text arguments.
    fn m(&self, id: &str, args: &[(&str, String)]) -> String {
        let a: Vec<(&str, Arg<'_>)> = args.iter().map(|(k, v)| (*k, Arg::Text(Cow::Borrowed(v.as_str())))).collect();
        self.tr.t_args(id, &a)
    }

    /// Writes `prefix` + message `id` and a line break.
    fn put(&mut self, prefix: &str, id: &str, args: &[(&str, String)]) {
        let text = self.m(id, args);
        self.o.push_str(prefix);
        self.o.push_str(&text);
        self.o.push('\n');
    }

    fn raw(&mut self, text: &str) {
        self.o.push_str(text);
        self.o.push('\n');
    }

    /// An amount in the contract's currency, rounded to cents.
    fn money(&self, d: Decimal) -> String {
        let r = d.round_dp(2);
        match self.tr.lang() {
            Lang::En => {
                let neg = r.is_sign_negative() && !r.is_zero();
                format!("{}{} {}", if neg { "-" } else { "" }, self.c.currency, Lang::En.money(r.abs()))
            }
            Lang::Nl => self.tr.amount(r, self.c.currency.code()),
        }
    }

    /// A plain decimal in the language's notation (`0.5` / `0,5`).
    fn num(&self, d: Decimal) -> String {
        match self.tr.lang() {
            Lang::En => d.to_string(),
            Lang::Nl => d.to_string().replace('.', ","),
        }
    }

    /// A rate as an exact percentage.
    fn pct(&self, d: Decimal) -> String {
        match d.checked_mul(Decimal::ONE_HUNDRED) {
            Some(p) => format!("{}%", self.num(p.normalize())),
            None => self.m("terms-as-fraction", &[("value", self.num(d.normalize()))]),
        }
    }

    fn opt_pct(&self, d: Option<Decimal>) -> String {
        d.map(|d| self.pct(d)).unwrap_or_else(|| self.m("terms-none", &[]))
    }

    fn name(&self, id: &str) -> String {
        self.c.party(id).map(|p| format!("{} ({id})", line(&p.name))).unwrap_or_else(|| id.to_string())
    }

    fn who(&self, id: &Option<String>, split: &str) -> String {
        match id {
            Some(id) => self.name(id),
            None => self.m(split, &[]),
        }
    }

    fn allocation(&mut self, key: &Option<AllocationKey>) {
        let Some(key) = key else { return };
        let parts: Vec<String> = key
            .in_stream_order(&self.c.funding_streams)
            .iter()
            .map(|(f, ind)| self.m("terms-by", &[("what", f.to_string()), ("indicator", ind.to_string())]))
            .collect();
        self.put("    ", "terms-allocation", &[("parts", parts.join(", "))]);
    }

    fn write(mut self) -> String {
        let c = self.c;
        self.raw(&line(&c.title));
        let version = c.try_version_hash().unwrap_or_else(|_| self.m("terms-no-version", &[]));
        self.put("", "terms-contract", &[("id", c.id.to_string()), ("version", version)]);
        if !c.description.is_empty() {
            self.raw(&format!("\n{}", c.description.trim()));
        }
        let rounding = match c.rounding {
            Rounding::HalfUp => self.m("terms-rounding-half-up", &[]),
            Rounding::HalfEven => self.m("terms-rounding-half-even", &[]),
        };
        self.put(
            "\n",
            "terms-term",
            &[
                ("first", c.term.first_year.to_string()),
                ("last", c.term.last_year.to_string()),
                ("currency", c.currency.to_string()),
                ("rounding", rounding),
            ],
        );
        if !c.term.review_dates.is_empty() {
            let dates: Vec<String> = c.term.review_dates.iter().map(Date::to_string).collect();
            self.put("", "terms-reviews", &[("dates", dates.join(", "))]);
        }

        self.put("\n", "terms-parties", &[]);
        for p in &c.parties {
            let mut extra = Vec::new();
            if p.signatory {
                extra.push(self.m("terms-party-signs", &[]));
            }
            if let Some(k) = &p.key {
                extra.push(self.m("terms-party-key", &[("key", k.to_string())]));
            }
            if let Some(x) = p.contribution {
                extra.push(self.m("terms-party-contributes", &[("amount", self.money(x))]));
            }
            self.raw(&format!("  {:<14} {:<19} {}  [{}]", p.id, p.role.word(), line(&p.name), extra.join(", ")));
        }

        self.put("\n", "terms-knobs", &[]);
        for (n, (_, value)) in c.knobs().into_iter().enumerate() {
            let label = self.m(&format!("terms-knob-{}", n + 1), &[]);
            self.raw(&format!("  {label:<24} {value}"));
        }

        let pop = &c.population;
        self.put("\n", "terms-population", &[]);
        self.raw(&format!("  {}", pop.description));
        if !pop.condition.is_empty() {
            self.put("  ", "terms-condition", &[("condition", pop.condition.to_string())]);
        }
        self.put(
            "  ",
            "terms-attribution",
            &[("attribution", pop.attribution.to_string()), ("indicator", pop.size_indicator.to_string())],
        );
        if let Some(n) = pop.expected_size {
            let n = match self.tr.lang() {
                Lang::En => n.to_string(),
                Lang::Nl => self.tr.number(Decimal::from(n)),
            };
            self.put("  ", "terms-expected-size", &[("size", n)]);
        }

        if let Some(b) = &c.baseline {
            self.put("\n", "terms-baseline", &[]);
            match (b.cost, b.unit, &b.trend, &b.benchmark_indicator) {
                (Some(cost), Some(unit), Some(trend), _) => {
                    self.put(
                        "  ",
                        "terms-baseline-cost",
                        &[
                            ("cost", self.money(cost)),
                            ("unit", unit.word().replace('_', " ")),
                            ("year", b.base_year.to_string()),
                            ("source", b.source.to_string()),
                        ],
                    );
                    let trend = match trend {
                        Trend::FixedRate { rate } => self.m("terms-trend-fixed", &[("rate", self.pct(*rate))]),
                        Trend::RatesPerYear { rates } => {
                            let r: Vec<String> = rates.iter().map(|(y, r)| format!("{y}: {}", self.pct(*r))).collect();
                            r.join(", ")
                        }
                        Trend::MeasuredRate { indicator } => {
                            self.m("terms-trend-measured-rate", &[("indicator", indicator.to_string())])
                        }
                        Trend::MeasuredIndex { indicator } => {
                            self.m("terms-trend-measured-index", &[("indicator", indicator.to_string())])
                        }
                    };
                    self.put("  ", "terms-trend", &[("trend", trend)]);
                    let risk = match &b.risk_adjustment {
                        None | Some(RiskAdjustment::None) => self.m("terms-none", &[]),
                        Some(RiskAdjustment::Fixed { factor }) => format!("x {}", self.num(*factor)),
                        Some(RiskAdjustment::Measured { indicator }) => {
                            self.m("terms-risk-measured", &[("indicator", indicator.to_string())])
                        }
                    };
                    self.put("  ", "terms-risk-adjustment", &[("risk", risk)]);
                }
                (_, _, _, indicator) => self.put(
                    "  ",
                    "terms-benchmark",
                    &[
                        ("indicator", indicator.as_deref().unwrap_or("-").to_string()),
                        ("year", b.base_year.to_string()),
                        ("source", b.source.to_string()),
                    ],
                ),
            }
        }

        self.put("\n", "terms-indicators", &[]);
        for i in &c.indicators {
            self.put(
                "  ",
                "terms-indicator",
                &[
                    ("id", i.id.to_string()),
                    ("name", line(&i.name).into_owned()),
                    ("unit", i.unit.to_string()),
                    ("direction", i.direction.word().replace('_', " ")),
                    ("period", i.period.to_string()),
                ],
            );
            let agreed = if i.agreed_by.is_empty() { self.m("terms-nobody-else", &[]) } else { i.agreed_by.join(", ") };
            self.put("    ", "terms-measured-by", &[("source", i.source.to_string()), ("agreed", agreed)]);
            if let Some(q) = &i.quality {
                self.put(
                    "    ",
                    "terms-quality",
                    &[
                        ("threshold", self.num(q.threshold)),
                        ("target", self.num(q.target)),
                        ("weight", self.pct(q.weight)),
                        ("scoring", q.scoring.to_string()),
                    ],
                );
            }
        }

        self.put("\n", "terms-payments", &[]);
        let p = &c.payments;
        if let Some(v) = &p.volume {
            self.put("  ", "terms-volume", &[]);
            for a in &v.activities {
                let code = if a.code.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.m("terms-code", &[("code", line(&a.code).into_owned())]))
                };
                self.put(
                    "    ",
                    "terms-activity",
                    &[
                        ("name", line(&a.name).into_owned()),
                        ("code", code),
                        ("price", self.money(a.price)),
                        ("unit", line(&a.unit).into_owned()),
                        ("indicator", a.quantity_indicator.to_string()),
                        ("payer", a.payer.to_string()),
                        ("provider", a.provider.to_string()),
                        ("funding", a.funding.to_string()),
                    ],
                );
                if let Some(m) = a.max_amount_per_year {
                    self.put("      ", "terms-at-most-a-year", &[("amount", self.money(m))]);
                }
            }
            for cap in &v.caps {
                let clients = cap
                    .exposure_indicator
                    .as_ref()
                    .map(|e| format!(" {}", self.m("terms-clients", &[("indicator", e.to_string())])))
                    .unwrap_or_default();
                self.put(
                    "    ",
                    "terms-cap",
                    &[
                        ("activities", cap.activities.join(" + ")),
                        ("max", self.num(cap.max_quantity)),
                        ("per", cap.per.word().replace('_', " ")),
                        ("clients", clients),
                    ],
                );
            }
            self.allocation(&v.allocation);
        }
        if let Some(pf) = &p.pay_for_performance {
            self.put("  ", "terms-p4p", &[]);
            for b in &pf.bonuses {
                let basis = match b.basis {
                    BonusBasis::Fixed => String::new(),
                    BonusBasis::PerMember => format!(" {}", self.m("terms-per-member", &[])),
                };
                self.put(
                    "    ",
                    "terms-bonus",
                    &[
                        ("id", b.id.to_string()),
                        ("amount", self.money(b.amount)),
                        ("basis", basis),
                        ("indicator", b.indicator.to_string()),
                        ("target", self.num(b.target)),
                        ("recipient", self.who(&b.recipient, "terms-providers-by-key")),
                        ("payer", self.who(&b.payer, "terms-payers-by-key")),
                        ("funding", b.funding.to_string()),
                    ],
                );
            }
            self.allocation(&pf.allocation);
        }
        if let Some(s) = &p.shared_savings {
            self.put(
                "  ",
                "terms-shared-savings",
                &[("sided", s.sided.word().replace('_', "-")), ("funding", s.funding.to_string())],
            );
            self.put("    ", "terms-actual-cost", &[("indicator", s.actual_cost_indicator.to_string())]);
            match &s.corridor {
                Corridor::Fixed { min_savings_rate, min_loss_rate } => self.put(
                    "    ",
                    "terms-corridor",
                    &[("savings", self.pct(*min_savings_rate)), ("losses", self.opt_pct(*min_loss_rate))],
                ),
                Corridor::PopulationTable { rows, population_indicator } => {
                    match population_indicator {
                        None => self.put("    ", "terms-corridor-table", &[]),
                        Some(ind) => self.put("    ", "terms-corridor-table-by", &[("indicator", ind.to_string())]),
                    }
                    for r in rows {
                        let row = self.m(
                            "terms-corridor-row",
                            &[("savings", self.pct(r.min_savings_rate)), ("losses", self.opt_pct(r.min_loss_rate))],
                        );
                        self.raw(&format!("      {:>8}: {row}", r.population));
                    }
                }
            }
            self.put("    ", "terms-sharing", &[("base", s.sharing_base.word().replace('_', " "))]);
            let scaled = match s.quality_scaling {
                QualityScaling::None => String::new(),
                QualityScaling::Proportional => format!(" {}", self.m("terms-x-quality", &[])),
            };
            self.put("    ", "terms-savings-share", &[("share", self.pct(s.provider_share)), ("scaled", scaled)]);
            if !s.min_quality_score.is_zero() {
                self.put("    ", "terms-min-quality", &[("score", self.pct(s.min_quality_score))]);
            }
            match &s.loss_share {
                Some(LossShare::Fixed { rate }) => self.put("    ", "terms-loss-share", &[("share", self.pct(*rate))]),
                Some(LossShare::QualityScaled { intercept, slope, min, max }) => self.put(
                    "    ",
                    "terms-loss-share-scaled",
                    &[
                        ("intercept", self.num(*intercept)),
                        ("slope", self.num(*slope)),
                        ("min", self.pct(*min)),
                        ("max", self.pct(*max)),
                    ],
                ),
                None => {}
            }
            let carried = if s.carry_forward_losses { "terms-carried" } else { "terms-not-carried" };
            let carried = self.m(carried, &[]);
            self.put(
                "    ",
                "terms-withhold",
                &[
                    ("withhold", self.pct(s.withhold)),
                    ("savings", self.opt_pct(s.savings_cap)),
                    ("loss", self.opt_pct(s.loss_cap)),
                    ("carried", carried),
                ],
            );
            if let Some(tier) = &s.inside_corridor {
                self.put(
                    "    ",
                    "terms-inside-corridor",
                    &[
                        ("share", self.pct(tier.provider_share)),
                        ("indicator", tier.indicator.to_string()),
                        ("target", self.num(tier.target)),
                    ],
                );
            }
            if let Some(cap) = &s.figure_loss_cap {
                self.put(
                    "    ",
                    "terms-second-loss-cap",
                    &[("rate", self.pct(cap.rate)), ("indicator", cap.indicator.to_string())],
                );
            }
            if let Some(ind) = &s.participation_months_indicator {
                self.put("    ", "terms-participation", &[("indicator", ind.to_string())]);
            }
            match &s.force_majeure {
                Some(ForceMajeure::Fraction { factors }) => {
                    self.put("    ", "terms-force-majeure-fraction", &[("factors", factors.join(" x "))])
                }
                Some(ForceMajeure::Amount { indicator }) => {
                    self.put("    ", "terms-force-majeure-amount", &[("indicator", indicator.to_string())])
                }
                None => {}
            }
            let to = self.who(&s.recipient, "terms-providers-by-key");
            let by = self.who(&s.payer, "terms-payers-by-key");
            self.put("    ", "terms-paid-to", &[("recipient", to), ("payer", by)]);
            self.allocation(&s.allocation);
        }
        if let Some(b) = &p.bundled {
            self.put("  ", "terms-bundled", &[("funding", b.funding.to_string())]);
            self.put("    ", "terms-episode", &[("episode", b.episode.to_string())]);
            self.put(
                "    ",
                "terms-target-price",
                &[
                    ("price", self.money(b.target_price)),
                    ("indicator", b.episodes_indicator.to_string()),
                    ("actual", b.actual_cost_indicator.to_string()),
                ],
            );
            self.put(
                "    ",
                "terms-stop-gain",
                &[("gain", self.opt_pct(b.stop_gain)), ("loss", self.opt_pct(b.stop_loss))],
            );
            self.allocation(&b.allocation);
        }
        if let Some(cp) = &p.capitation {
            self.put("  ", "terms-capitation", &[("funding", cp.funding.to_string())]);
            self.put(
                "    ",
                "terms-per-member-year",
                &[
                    ("amount", self.money(cp.amount_per_member)),
                    ("indicator", cp.members_indicator.to_string()),
                    ("actual", cp.actual_cost_indicator.to_string()),
                ],
            );
            for band in &cp.risk_corridors {
                let to = band.to.map(|t| self.pct(t)).unwrap_or_else(|| self.m("terms-beyond", &[]));
                self.put(
                    "    ",
                    "terms-risk-band",
                    &[("from", self.pct(band.from)), ("to", to), ("share", self.pct(band.provider_share))],
                );
            }
            self.allocation(&cp.allocation);
        }

        if !c.impulse.is_empty() {
            self.put("\n", "terms-impulse", &[]);
            for i in &c.impulse {
                let kind = match &i.kind {
                    ImpulseKind::Grant => self.m("terms-grant", &[]),
                    ImpulseKind::Advance { repayment_rate, remaining_at_end } => self.m(
                        "terms-advance",
                        &[("rate", self.pct(*repayment_rate)), ("rest", remaining_at_end.to_string())],
                    ),
                };
                self.put(
                    "  ",
                    "terms-impulse-line",
                    &[
                        ("year", i.year.to_string()),
                        ("amount", self.money(i.amount)),
                        ("payer", i.payer.to_string()),
                        ("recipient", i.recipient.to_string()),
                        ("kind", kind),
                        ("funding", i.funding.to_string()),
                    ],
                );
                self.raw(&format!("    {}", i.purpose));
            }
        }
        if !c.revenue_guarantees.is_empty() || !c.tariff_adjustments.is_empty() {
            self.put("\n", "terms-other", &[]);
        }
        for g in &c.revenue_guarantees {
            let years: Vec<String> = g.years.iter().map(u16::to_string).collect();
            let revenue = match g.revenue_indicator.as_deref() {
                Some(r) => r.to_string(),
                None => self.m("terms-this-contracts-payments", &[]),
            };
            self.put(
                "  ",
                "terms-revenue-floor",
                &[
                    ("floor", self.money(g.floor)),
                    ("provider", g.provider.to_string()),
                    ("years", years.join(", ")),
                    ("payer", g.payer.to_string()),
                    ("funding", g.funding.to_string()),
                    ("revenue", revenue),
                ],
            );
        }
        for t in &c.tariff_adjustments {
            let when = match &t.trigger {
                Trigger::Always => self.m("terms-always", &[]),
                Trigger::TargetMet { indicator, target } => {
                    self.m("terms-when-reaches", &[("indicator", indicator.to_string()), ("target", self.num(*target))])
                }
                Trigger::TargetMissed { indicator, target } => {
                    self.m("terms-when-misses", &[("indicator", indicator.to_string()), ("target", self.num(*target))])
                }
            };
            self.put(
                "  ",
                "terms-tariff",
                &[
                    ("kind", t.kind.to_string()),
                    ("rate", self.pct(t.rate)),
                    ("applies", t.applies_to.join(", ")),
                    ("when", when),
                    ("reason", t.reason.to_string()),
                ],
            );
        }

        self.put("\n", "terms-distribution", &[]);
        match &c.distribution.providers.rule {
            ProviderRule::Fixed { shares } => {
                let s: Vec<String> = shares.iter().map(|(k, v)| format!("{k} {}", self.pct(*v))).collect();
                self.put("  ", "terms-providers-fixed", &[("shares", s.join(", "))]);
            }
            ProviderRule::ByIndicator { indicators } => {
                let s: Vec<String> = indicators
                    .iter()
                    .map(|(k, v)| self.m("terms-by", &[("what", k.to_string()), ("indicator", v.to_string())]))
                    .collect();
                self.put("  ", "terms-providers-by", &[("shares", s.join(", "))]);
            }
        }
        match &c.distribution.payers.rule {
            PayerRule::Fixed { shares } => {
                let s: Vec<String> = shares.iter().map(|(k, v)| format!("{k} {}", self.pct(*v))).collect();
                self.put("  ", "terms-payers-fixed", &[("shares", s.join(", "))]);
            }
            PayerRule::ByContribution => self.put("  ", "terms-payers-by-contribution", &[]),
        }
        self.put(
            "  ",
            "terms-leftover",
            &[
                ("providers", c.distribution.providers.remainder.word().replace('_', " ")),
                ("payers", c.distribution.payers.remainder.word().replace('_', " ")),
            ],
        );

        let m = &c.monitoring;
        self.put("\n", "terms-monitoring", &[]);
        self.put(
            "  ",
            "terms-reporting",
            &[
                ("reporting", m.reporting.to_string()),
                ("missing", m.missing_measurement.word().replace('_', " ")),
                ("gate", m.below_quality_gate.word().replace('_', " ")),
            ],
        );
        if !m.notes.is_empty() {
            self.raw(&format!("  {}", m.notes));
        }
        self.o
    }
}
