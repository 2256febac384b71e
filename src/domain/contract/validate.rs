//! Cross-field validation of a parsed contract.
//!
//! The parser checks each value on its own (type, enum word, number form,
//! money sign and cents). This module checks what needs the whole contract:
//! references between parties, indicators and components, sums of weights
//! and shares, ranges of rates, the term, and the consistency of the knobs
//! with the payment components. Every problem is reported, none stops the
//! others.
//!
//! It also enforces every limit of the format (years, sizes, lengths of
//! texts and lists, the form of ids and money, the size of numbers), so that
//! a contract that arrives as canonical JSON in a ledger entry is held to
//! exactly the rules of a contract read from a file: [`validate`] is the one
//! check every path runs (the TOML reader, and `from_canonical_json` on
//! append, import and verify). The reader reports the same limits at their
//! line and column; it is never the only place they are checked.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::model::*;

/// A problem found by validation: a field path and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted field path, as in [`super::Diagnostic::field`].
    pub field: String,
    /// What is wrong.
    pub message: String,
}

struct V<'c> {
    c: &'c Contract,
    out: Vec<Problem>,
    /// False when the parties list is broken (a party failed to parse or an
    /// id is duplicated): checks that depend on who is who would only repeat
    /// that one mistake in many places, so they are skipped.
    trust_parties: bool,
}

/// First contract year (and base year, impulse year, guarantee year) accepted.
pub const MIN_YEAR: u16 = 2000;
/// Last contract year (and base year, impulse year, guarantee year) accepted.
pub const MAX_YEAR: u16 = 2100;
/// Most contract years in a term.
pub const MAX_TERM: u16 = 15;
/// Largest `population.expected_size` and corridor-table `population`.
pub const MAX_POPULATION: u64 = 100_000_000;
/// Most parties in one contract.
pub const MAX_PARTIES: usize = 50;
/// Most indicators in one contract.
pub const MAX_INDICATORS: usize = 200;
/// Most entries in any other list or map (activities, bonuses, impulse lines, rows, shares...).
pub const MAX_LIST: usize = 200;
/// Longest free-text field, in characters.
pub const MAX_TEXT: usize = 4000;
/// Longest id of a party, indicator, activity, bonus or tariff adjustment, in bytes.
pub const MAX_ID: usize = 32;
/// Longest contract id, in bytes.
pub const MAX_CONTRACT_ID: usize = 64;
/// Largest absolute value of any number in a contract (money, targets,
/// thresholds, quantities, band edges): 10^15, as for measured figures
/// (`settlement::MAX_FIGURE`).
pub const MAX_NUMBER: i64 = 1_000_000_000_000_000;

/// Units of an allocation key's figures: counts of clients, months, care
/// or money, never a rate or a score.
pub const ALLOCATION_UNITS: &[Unit] =
    &[Unit::MemberMonths, Unit::Members, Unit::Episodes, Unit::Count, Unit::Hours, Unit::Days, Unit::Eur];

/// `d` as a percentage; a value too large to be multiplied by 100 is shown
/// as the plain number with "(as a fraction)" instead of overflowing.
fn pct(d: Decimal) -> String {
    match d.checked_mul(Decimal::ONE_HUNDRED) {
        Some(p) => format!("{}%", p.normalize()),
        None => format!("{} (as a fraction)", d.normalize()),
    }
}

/// Whether `id` has 1 to `max` bytes of `a-z`, `0-9` and `-`.
pub(crate) fn valid_id(id: &str, max: usize) -> bool {
    (1..=max).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// At most the first 64 characters of `s`, for messages that quote hostile text.
fn short(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Validates a contract; returns every problem found.
pub fn validate(c: &Contract) -> Vec<Problem> {
    validate_with(c, true)
}

/// Validates a contract; `parties_parsed` is false when the parser already
/// reported a problem in the parties list.
pub(crate) fn validate_with(c: &Contract, parties_parsed: bool) -> Vec<Problem> {
    let mut v = V { c, out: Vec::new(), trust_parties: parties_parsed };
    v.limits();
    v.identity();
    v.control_characters();
    v.term();
    v.parties();
    v.knobs();
    v.population();
    v.baseline();
    v.indicators();
    v.payments();
    v.impulse();
    v.guarantees();
    v.tariffs();
    v.distribution();
    v.funding_streams();
    v.out
}

impl<'c> V<'c> {
    fn bad(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.out.push(Problem { field: field.into(), message: message.into() });
    }

    /// A count that must fit canonical JSON (at most 2^53-1), so that every
    /// valid contract has a canonical form and a version hash.
    fn safe_integer(&mut self, field: &str, n: u64) {
        if n > crate::ledger::canonical::MAX_SAFE_INTEGER {
            self.bad(
                field,
                format!(
                    "{n} is larger than {}, the largest integer canonical JSON holds",
                    crate::ledger::canonical::MAX_SAFE_INTEGER
                ),
            );
        }
    }

    /// `value` must lie in `lo..=hi` (or `lo..hi` when `hi_open`).
    fn range(&mut self, field: &str, value: Decimal, lo: Decimal, hi: Decimal, what: &str) {
        if value < lo || value > hi {
            self.bad(field, format!("{what} must be between {} and {}, found {}", pct(lo), pct(hi), pct(value)));
        }
    }

    fn share(&mut self, field: &str, value: Decimal) {
        self.range(field, value, Decimal::ZERO, Decimal::ONE, "a share");
    }

    fn cap(&mut self, field: &str, value: Decimal) {
        if value <= Decimal::ZERO || value > Decimal::ONE {
            self.bad(field, format!("a cap must be above 0% and at most 100%, found {}", pct(value)));
        }
    }

    fn party_with(&mut self, field: &str, id: &str, role: Option<Role>) {
        if id.is_empty() || !self.trust_parties {
            return;
        }
        match (self.c.party(id), role) {
            (None, _) => self.bad(field, format!("\"{id}\" is not a party")),
            (Some(p), Some(r)) if p.role != r => self
                .bad(field, format!("\"{id}\" is not a {}: its role is {}", r.to_string().replace('_', " "), p.role)),
            _ => {}
        }
    }

    /// `id` must be an indicator with one of `units`.
    fn indicator_with(&mut self, field: &str, id: &str, units: &[Unit]) {
        if id.is_empty() {
            return;
        }
        match self.c.indicator(id) {
            None => self.bad(field, format!("\"{id}\" is not an indicator")),
            Some(i) if !units.is_empty() && !units.contains(&i.unit) => {
                let list: Vec<String> = units.iter().map(|u| format!("\"{u}\"")).collect();
                self.bad(field, format!("indicator \"{id}\" has unit \"{}\"; expected {}", i.unit, list.join(" or ")));
            }
            _ => {}
        }
    }

    /// The limits of the format (see the module doc): every one the TOML
    /// reader applies, for contracts that did not come through it.
    fn limits(&mut self) {
        let c = self.c;
        if c.format != FORMAT_VERSION {
            self.bad("format", format!("must be between {FORMAT_VERSION} and {FORMAT_VERSION}, found {}", c.format));
        }
        if !c.id.is_empty() && !valid_id(&c.id, MAX_CONTRACT_ID) {
            self.bad(
                "id",
                format!("\"{}\" is not a valid contract id (1 to {MAX_CONTRACT_ID} of a-z, 0-9 and -)", short(&c.id)),
            );
        }
        self.text("title", &c.title);
        self.text("description", &c.description);
        let t = &c.term;
        self.year("term.first_year", t.first_year);
        self.year("term.last_year", t.last_year);
        self.count("term.review_dates", t.review_dates.len(), MAX_LIST);
        self.count("parties", c.parties.len(), MAX_PARTIES);
        for (i, p) in c.parties.iter().enumerate() {
            self.id(&format!("parties[{i}].id"), &p.id);
            self.text(&format!("parties[{i}].name"), &p.name);
            if let Some(k) = &p.key {
                self.text(&format!("parties[{i}].key"), k);
            }
            if let Some(x) = p.contribution {
                self.money(&format!("parties[{i}].contribution"), x);
            }
        }
        let pop = &c.population;
        self.text("population.description", &pop.description);
        self.text("population.condition", &pop.condition);
        self.text("population.size_indicator", &pop.size_indicator);
        if let Some(n) = pop.expected_size {
            self.population_count("population.expected_size", n);
        }
        if let Some(b) = &c.baseline {
            self.year("baseline.base_year", b.base_year);
            if let Some(cost) = b.cost {
                self.money("baseline.cost", cost);
            }
            self.text("baseline.source", &b.source);
            self.opt_text("baseline.benchmark_indicator", &b.benchmark_indicator);
            match &b.trend {
                None => {}
                Some(Trend::RatesPerYear { rates }) => {
                    self.count("baseline.trend.rates", rates.len(), MAX_LIST);
                    for year in rates.keys() {
                        if !(MIN_YEAR..=MAX_YEAR).contains(year) {
                            self.bad(
                                format!("baseline.trend.rates.{year}"),
                                format!("\"{year}\" is not a year ({MIN_YEAR} to {MAX_YEAR})"),
                            );
                        }
                    }
                }
                Some(Trend::MeasuredRate { indicator } | Trend::MeasuredIndex { indicator }) => {
                    self.text("baseline.trend.indicator", indicator)
                }
                Some(Trend::FixedRate { .. }) => {}
            }
        }
        self.count("indicators", c.indicators.len(), MAX_INDICATORS);
        for (i, ind) in c.indicators.iter().enumerate() {
            let at = |f: &str| format!("indicators[{i}].{f}");
            self.id(&at("id"), &ind.id);
            self.text(&at("name"), &ind.name);
            self.id(&at("source"), &ind.source);
            self.text(&at("method"), &ind.method);
            self.count(&at("agreed_by"), ind.agreed_by.len(), MAX_LIST);
            for (j, a) in ind.agreed_by.iter().enumerate() {
                self.id(&format!("indicators[{i}].agreed_by[{j}]"), a);
            }
            if let Some(q) = &ind.quality {
                self.number(&at("quality.threshold"), q.threshold);
                self.number(&at("quality.target"), q.target);
            }
        }
        let p = &c.payments;
        if let Some(v) = &p.volume {
            self.count("payments.volume.activities", v.activities.len(), MAX_LIST);
            for (i, a) in v.activities.iter().enumerate() {
                let at = |f: &str| format!("payments.volume.activities[{i}].{f}");
                self.id(&at("id"), &a.id);
                self.text(&at("name"), &a.name);
                self.text(&at("code"), &a.code);
                self.text(&at("unit"), &a.unit);
                self.text(&at("quantity_indicator"), &a.quantity_indicator);
                self.text(&at("provider"), &a.provider);
                self.text(&at("payer"), &a.payer);
                self.money(&at("price"), a.price);
                if let Some(x) = a.max_amount_per_year {
                    self.money(&at("max_amount_per_year"), x);
                }
            }
            self.count("payments.volume.caps", v.caps.len(), MAX_LIST);
            for (i, cap) in v.caps.iter().enumerate() {
                let at = |f: &str| format!("payments.volume.caps[{i}].{f}");
                self.count(&at("activities"), cap.activities.len(), MAX_LIST);
                cap.activities.iter().for_each(|a| self.text(&at("activities"), a));
                self.number(&at("max_quantity"), cap.max_quantity);
                if let Some(e) = &cap.exposure_indicator {
                    self.text(&at("exposure_indicator"), e);
                }
            }
        }
        if let Some(pf) = &p.pay_for_performance {
            self.count("payments.pay_for_performance.bonuses", pf.bonuses.len(), MAX_LIST);
            for (i, b) in pf.bonuses.iter().enumerate() {
                let at = |f: &str| format!("payments.pay_for_performance.bonuses[{i}].{f}");
                self.id(&at("id"), &b.id);
                self.text(&at("indicator"), &b.indicator);
                self.number(&at("target"), b.target);
                self.money(&at("amount"), b.amount);
                self.opt_text(&at("recipient"), &b.recipient);
                self.opt_text(&at("payer"), &b.payer);
            }
        }
        if let Some(ss) = &p.shared_savings {
            let base = "payments.shared_savings";
            self.opt_text(&format!("{base}.payer"), &ss.payer);
            self.opt_text(&format!("{base}.recipient"), &ss.recipient);
            self.text(&format!("{base}.actual_cost_indicator"), &ss.actual_cost_indicator);
            if let Corridor::PopulationTable { rows, population_indicator } = &ss.corridor {
                self.count(&format!("{base}.corridor.rows"), rows.len(), MAX_LIST);
                for (i, r) in rows.iter().enumerate() {
                    self.population_count(&format!("{base}.corridor.rows[{i}].population"), r.population);
                }
                self.opt_text(&format!("{base}.corridor.population_indicator"), population_indicator);
            }
            if let Some(tier) = &ss.inside_corridor {
                self.text(&format!("{base}.inside_corridor.indicator"), &tier.indicator);
                self.number(&format!("{base}.inside_corridor.target"), tier.target);
            }
            if let Some(cap) = &ss.figure_loss_cap {
                self.text(&format!("{base}.figure_loss_cap.indicator"), &cap.indicator);
            }
            self.opt_text(&format!("{base}.participation_months_indicator"), &ss.participation_months_indicator);
            match &ss.force_majeure {
                Some(ForceMajeure::Fraction { factors }) => {
                    self.count(&format!("{base}.force_majeure.factors"), factors.len(), MAX_LIST);
                    for (i, f) in factors.iter().enumerate() {
                        self.text(&format!("{base}.force_majeure.factors[{i}]"), f);
                    }
                }
                Some(ForceMajeure::Amount { indicator }) => {
                    self.text(&format!("{base}.force_majeure.indicator"), indicator)
                }
                None => {}
            }
        }
        if let Some(b) = &p.bundled {
            let base = "payments.bundled";
            self.opt_text(&format!("{base}.payer"), &b.payer);
            self.opt_text(&format!("{base}.recipient"), &b.recipient);
            self.text(&format!("{base}.episode"), &b.episode);
            self.money(&format!("{base}.target_price"), b.target_price);
            self.text(&format!("{base}.episodes_indicator"), &b.episodes_indicator);
            self.text(&format!("{base}.actual_cost_indicator"), &b.actual_cost_indicator);
        }
        if let Some(cp) = &p.capitation {
            let base = "payments.capitation";
            self.opt_text(&format!("{base}.payer"), &cp.payer);
            self.opt_text(&format!("{base}.recipient"), &cp.recipient);
            self.money(&format!("{base}.amount_per_member"), cp.amount_per_member);
            self.text(&format!("{base}.members_indicator"), &cp.members_indicator);
            self.text(&format!("{base}.actual_cost_indicator"), &cp.actual_cost_indicator);
            self.count(&format!("{base}.risk_corridors"), cp.risk_corridors.len(), MAX_LIST);
            for (i, band) in cp.risk_corridors.iter().enumerate() {
                self.number(&format!("{base}.risk_corridors[{i}].from"), band.from);
                if let Some(to) = band.to {
                    self.number(&format!("{base}.risk_corridors[{i}].to"), to);
                }
            }
        }
        self.count("impulse", c.impulse.len(), MAX_LIST);
        for (i, imp) in c.impulse.iter().enumerate() {
            let at = |f: &str| format!("impulse[{i}].{f}");
            self.year(&at("year"), imp.year);
            self.text(&at("recipient"), &imp.recipient);
            self.text(&at("payer"), &imp.payer);
            self.money(&at("amount"), imp.amount);
            self.text(&at("purpose"), &imp.purpose);
        }
        self.count("revenue_guarantees", c.revenue_guarantees.len(), MAX_LIST);
        for (i, g) in c.revenue_guarantees.iter().enumerate() {
            let at = |f: &str| format!("revenue_guarantees[{i}].{f}");
            self.text(&at("provider"), &g.provider);
            self.text(&at("payer"), &g.payer);
            self.money(&at("floor"), g.floor);
            self.count(&at("years"), g.years.len(), MAX_LIST);
            for (j, y) in g.years.iter().enumerate() {
                self.year(&format!("revenue_guarantees[{i}].years[{j}]"), *y);
            }
            self.opt_text(&at("revenue_indicator"), &g.revenue_indicator);
        }
        self.count("tariff_adjustments", c.tariff_adjustments.len(), MAX_LIST);
        for (i, t) in c.tariff_adjustments.iter().enumerate() {
            let at = |f: &str| format!("tariff_adjustments[{i}].{f}");
            self.id(&at("id"), &t.id);
            self.text(&at("reason"), &t.reason);
            self.count(&at("applies_to"), t.applies_to.len(), MAX_LIST);
            t.applies_to.iter().for_each(|a| self.text(&at("applies_to"), a));
            if let Trigger::TargetMet { indicator, target } | Trigger::TargetMissed { indicator, target } = &t.trigger {
                self.text(&at("trigger.indicator"), indicator);
                self.number(&at("trigger.target"), *target);
            }
        }
        let d = &c.distribution;
        match &d.providers.rule {
            ProviderRule::Fixed { shares } => self.share_keys("distribution.providers.shares", shares),
            ProviderRule::ByIndicator { indicators } => {
                let field = "distribution.providers.indicators";
                self.count(field, indicators.len(), MAX_LIST);
                for (party, ind) in indicators {
                    self.text(field, party);
                    self.text(&format!("{field}.{}", short(party)), ind);
                }
            }
        }
        if let PayerRule::Fixed { shares } = &d.payers.rule {
            self.share_keys("distribution.payers.shares", shares);
        }
        self.text("monitoring.notes", &c.monitoring.notes);
    }

    /// The parties of a fixed key: at most [`MAX_LIST`], each a text.
    fn share_keys(&mut self, field: &str, shares: &BTreeMap<String, Decimal>) {
        self.count(field, shares.len(), MAX_LIST);
        for party in shares.keys() {
            self.text(field, party);
        }
    }

    /// A year within [`MIN_YEAR`]..=[`MAX_YEAR`].
    fn year(&mut self, field: &str, year: u16) {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            self.bad(field, format!("must be between {MIN_YEAR} and {MAX_YEAR}, found {year}"));
        }
    }

    /// A population count within 1..=[`MAX_POPULATION`].
    fn population_count(&mut self, field: &str, n: u64) {
        if !(1..=MAX_POPULATION).contains(&n) {
            self.bad(field, format!("must be between 1 and {MAX_POPULATION}, found {n}"));
        }
    }

    /// A text of at most [`MAX_TEXT`] characters.
    fn text(&mut self, field: &str, text: &str) {
        if text.len() > MAX_TEXT && text.chars().count() > MAX_TEXT {
            self.bad(field, format!("longer than {MAX_TEXT} characters"));
        }
    }

    fn opt_text(&mut self, field: &str, text: &Option<String>) {
        if let Some(t) = text {
            self.text(field, t);
        }
    }

    /// An id (1 to [`MAX_ID`] of a-z, 0-9 and -). An empty id is the
    /// reader's placeholder for one it already refused, or a missing one.
    fn id(&mut self, field: &str, id: &str) {
        if !valid_id(id, MAX_ID) {
            let message = if id.is_empty() {
                "missing required field".to_string()
            } else {
                format!("\"{}\" is not a valid id (1 to {MAX_ID} of a-z, 0-9 and -)", short(id))
            };
            self.bad(field, message);
        }
    }

    /// A list of at most `max` entries.
    fn count(&mut self, field: &str, n: usize, max: usize) {
        if n > max {
            self.bad(field, format!("more than {max} entries"));
        }
    }

    /// A number of at most [`MAX_NUMBER`] in absolute value.
    fn number(&mut self, field: &str, value: Decimal) {
        if value.abs() > Decimal::from(MAX_NUMBER) {
            self.bad(field, format!("must be at most 10^15 in absolute value, found {}", value.normalize()));
        }
    }

    /// Money: not negative, at most two decimals, at most [`MAX_NUMBER`].
    fn money(&mut self, field: &str, value: Decimal) {
        if value.is_sign_negative() && !value.is_zero() {
            self.bad(field, format!("amount must not be negative, found {}", value.normalize()));
        } else if value.normalize().scale() > 2 {
            self.bad(field, format!("amount has more than two decimals (cents): {}", value.normalize()));
        } else {
            self.number(field, value);
        }
    }

    fn identity(&mut self) {
        if self.c.title.trim().is_empty() {
            self.bad("title", "must not be empty");
        }
    }

    /// Names, titles and codes are one line of printable text; descriptions,
    /// conditions, methods, purposes, reasons and notes may also hold line
    /// breaks and tabs. No other control character anywhere (see
    /// [`crate::ledger::text`]): the terms are shown on every party's terminal.
    fn control_characters(&mut self) {
        let c = self.c;
        let mut lines: Vec<(String, &str)> = vec![("title".into(), &c.title)];
        let mut free: Vec<(String, &str)> = vec![
            ("description".into(), &c.description),
            ("population.description".into(), &c.population.description),
            ("population.condition".into(), &c.population.condition),
            ("monitoring.notes".into(), &c.monitoring.notes),
        ];
        for (i, p) in c.parties.iter().enumerate() {
            lines.push((format!("parties[{i}].name"), &p.name));
        }
        for (i, ind) in c.indicators.iter().enumerate() {
            lines.push((format!("indicators[{i}].name"), &ind.name));
            free.push((format!("indicators[{i}].method"), &ind.method));
        }
        if let Some(v) = &c.payments.volume {
            for (i, a) in v.activities.iter().enumerate() {
                let at = |f: &str| format!("payments.volume.activities[{i}].{f}");
                lines.extend([(at("name"), a.name.as_str()), (at("code"), &a.code), (at("unit"), &a.unit)]);
            }
        }
        if let Some(b) = &c.payments.bundled {
            free.push(("payments.bundled.episode".into(), &b.episode));
        }
        for (i, x) in c.impulse.iter().enumerate() {
            free.push((format!("impulse[{i}].purpose"), &x.purpose));
        }
        for (i, t) in c.tariff_adjustments.iter().enumerate() {
            free.push((format!("tariff_adjustments[{i}].reason"), &t.reason));
        }
        for (field, text) in lines {
            if let Err(m) = crate::ledger::text::check_line("the text", text) {
                self.bad(field, m);
            }
        }
        for (field, text) in free {
            if let Err(m) = crate::ledger::text::check_free_text("the text", text) {
                self.bad(field, m);
            }
        }
    }

    fn term(&mut self) {
        let t = &self.c.term;
        if t.first_year == 0 || t.last_year == 0 {
            return;
        }
        if t.first_year > t.last_year {
            self.bad("term.last_year", format!("last year {} is before first year {}", t.last_year, t.first_year));
            return;
        }
        if t.last_year - t.first_year >= MAX_TERM {
            self.bad("term.last_year", format!("a term longer than {MAX_TERM} years is not supported"));
        }
        let mut prev: Option<Date> = None;
        for (i, d) in t.review_dates.iter().enumerate() {
            let field = format!("term.review_dates[{i}]");
            if d.year < t.first_year || d.year > t.last_year.saturating_add(1) {
                self.bad(
                    &field,
                    format!("review date {d} is outside the term {}-{} (or the year after)", t.first_year, t.last_year),
                );
            }
            if prev.is_some_and(|p| p >= *d) {
                self.bad(&field, "review dates must be in increasing order");
            }
            prev = Some(*d);
        }
    }

    fn parties(&mut self) {
        let c = self.c;
        let mut seen = BTreeSet::new();
        for (i, p) in c.parties.iter().enumerate() {
            if !p.id.is_empty() && !seen.insert(p.id.as_str()) {
                self.bad(format!("parties[{i}].id"), format!("duplicate party id \"{}\"", p.id));
                self.trust_parties = false;
            }
            if p.name.trim().is_empty() {
                self.bad(format!("parties[{i}].name"), "must not be empty");
            }
            match &p.key {
                Some(k) if !valid_fingerprint(k) => self.bad(
                    format!("parties[{i}].key"),
                    format!("\"{k}\" is not a key fingerprint XXXX-XXXX-XXXX-XXXX (A-Z, 2-7)"),
                ),
                None if p.signatory || p.role == Role::MeasurementSource => self.bad(
                    format!("parties[{i}].key"),
                    "missing required field (signatories and measurement sources need a key)",
                ),
                _ => {}
            }
            if p.signatory && p.role == Role::Auditor {
                self.bad(format!("parties[{i}].signatory"), "an auditor does not sign the contract");
            }
            if p.contribution.is_some() && p.role != Role::Payer {
                self.bad(format!("parties[{i}].contribution"), "only a payer has a contribution");
            }
        }
        if !self.trust_parties {
            return;
        }
        let providers = c.parties_with_role(Role::Provider).count();
        let payers = c.parties_with_role(Role::Payer).count();
        if providers == 0 {
            self.bad("parties", "the contract needs at least one provider");
        } else if !c.parties_with_role(Role::Provider).any(|p| p.signatory) {
            self.bad("parties", "at least one provider must sign (signatory = true)");
        }
        if payers == 0 {
            self.bad("parties", "the contract needs at least one payer");
        } else if !c.parties_with_role(Role::Payer).any(|p| p.signatory) {
            self.bad("parties", "at least one payer must sign (signatory = true)");
        }
    }

    fn knobs(&mut self) {
        let c = self.c;
        let k = &c.knobs;
        let t = &c.term;
        let providers = c.parties_with_role(Role::Provider).count();
        if t.first_year != 0 && t.last_year != 0 {
            match k.term {
                TermKind::OneYear if t.first_year != t.last_year => {
                    self.bad("knobs.term", format!("\"one_year\" but the term runs {}-{}", t.first_year, t.last_year))
                }
                TermKind::MultiYear if t.first_year == t.last_year => {
                    self.bad("knobs.term", format!("\"multi_year\" but the term is the single year {}", t.first_year))
                }
                _ => {}
            }
        }
        match k.contract_form {
            _ if !self.trust_parties => {}
            ContractForm::Single if providers > 1 => self.bad(
                "knobs.contract_form",
                format!("\"single\" but the contract has {providers} providers; use \"integral\""),
            ),
            ContractForm::Integral if providers == 1 => {
                self.bad("knobs.contract_form", "\"integral\" needs several providers; the contract has one")
            }
            _ => {}
        }
        let p = &c.payments;
        let result = p.pay_for_performance.is_some()
            || p.shared_savings.is_some()
            || p.bundled.is_some()
            || p.capitation.is_some();
        match k.financing_goal {
            FinancingGoal::Result if !result => self.bad(
                "knobs.financing_goal",
                "\"result\" but no result-based component (pay_for_performance, shared_savings, bundled, capitation)",
            ),
            FinancingGoal::Effort if result => {
                self.bad("knobs.financing_goal", "\"effort\" but the contract pays for results; use \"result\"")
            }
            _ => {}
        }
        if k.financing_base == FinancingBase::PopulationBudget && p.capitation.is_none() {
            self.bad("knobs.financing_base", "\"population_budget\" needs a payments.capitation component");
        }
        if k.condition_scope == ConditionScope::SingleCondition && c.population.condition.trim().is_empty() {
            self.bad("population.condition", "missing required field (condition_scope is \"single_condition\")");
        }
        if self.trust_parties && k.chain_partners != ChainPartners::None && providers == 1 {
            self.bad("knobs.chain_partners", format!("\"{}\" needs several providers; use \"none\"", k.chain_partners));
        }
    }

    fn population(&mut self) {
        if let Some(n) = self.c.population.expected_size {
            self.safe_integer("population.expected_size", n);
        }
        let id = self.c.population.size_indicator.clone();
        self.indicator_with("population.size_indicator", &id, &[Unit::Members, Unit::MemberMonths, Unit::Episodes]);
    }

    fn baseline(&mut self) {
        let c = self.c;
        let Some(b) = &c.baseline else {
            if c.payments.shared_savings.is_some() {
                self.bad("baseline", "missing required field (shared savings need a baseline)");
            }
            return;
        };
        if b.base_year != 0 && c.term.first_year != 0 && b.base_year >= c.term.first_year {
            self.bad(
                "baseline.base_year",
                format!("base year {} must be before the first contract year {}", b.base_year, c.term.first_year),
            );
        }
        let (unit, cost, trend, risk) =
            match (b.mode, &b.benchmark_indicator, b.unit, b.cost, &b.trend, &b.risk_adjustment) {
                (BaselineMode::Computed, None, Some(unit), Some(cost), Some(trend), Some(risk)) => {
                    (unit, cost, trend, risk)
                }
                (BaselineMode::AgreedTotal, Some(ind), None, None, None, None) => {
                    self.indicator_with("baseline.benchmark_indicator", ind, &[Unit::Eur]);
                    return;
                }
                (BaselineMode::Computed, ..) => {
                    self.bad(
                        "baseline",
                        "a computed baseline has unit, cost, trend and risk_adjustment and no benchmark_indicator",
                    );
                    return;
                }
                (BaselineMode::AgreedTotal, ..) => {
                    self.bad(
                    "baseline",
                    "an agreed-total baseline has a benchmark_indicator and no unit, cost, trend or risk_adjustment",
                );
                    return;
                }
            };
        if cost.is_zero() {
            self.bad("baseline.cost", "must be above 0");
        }
        if let Some(size) = c.indicator(&c.population.size_indicator) {
            let ok = match unit {
                BaselineUnit::PerEpisode => size.unit == Unit::Episodes,
                _ => matches!(size.unit, Unit::Members | Unit::MemberMonths),
            };
            if !ok {
                self.bad(
                    "baseline.unit",
                    format!("\"{}\" does not fit the population size indicator's unit \"{}\"", unit, size.unit),
                );
            }
        }
        match trend {
            Trend::FixedRate { rate } => self.trend_rate("baseline.trend.rate", *rate),
            Trend::RatesPerYear { rates } => {
                for (year, rate) in rates {
                    self.trend_rate(&format!("baseline.trend.rates.{year}"), *rate);
                    if *year <= b.base_year || *year > c.term.last_year {
                        self.bad(
                            format!("baseline.trend.rates.{year}"),
                            format!("year {year} is not after the base year {} and within the term", b.base_year),
                        );
                    }
                }
                if b.base_year != 0 && c.term.last_year >= b.base_year {
                    let missing: Vec<String> = (b.base_year.saturating_add(1)..=c.term.last_year)
                        .filter(|y| !rates.contains_key(y))
                        .map(|y| y.to_string())
                        .collect();
                    if !missing.is_empty() {
                        self.bad("baseline.trend.rates", format!("missing a rate for {}", missing.join(", ")));
                    }
                }
            }
            Trend::MeasuredRate { indicator } => {
                self.indicator_with("baseline.trend.indicator", indicator, &[Unit::Fraction])
            }
            Trend::MeasuredIndex { indicator } => {
                self.indicator_with("baseline.trend.indicator", indicator, &[Unit::Index])
            }
        }
        match risk {
            RiskAdjustment::None => {}
            RiskAdjustment::Fixed { factor } => {
                if *factor <= Decimal::ZERO || *factor > Decimal::TWO {
                    self.bad(
                        "baseline.risk_adjustment.factor",
                        format!("factor must be above 0 and at most 2, found {factor}"),
                    );
                }
            }
            RiskAdjustment::Measured { indicator } => {
                self.indicator_with("baseline.risk_adjustment.indicator", indicator, &[Unit::Index])
            }
        }
    }

    fn trend_rate(&mut self, field: &str, rate: Decimal) {
        let lo = Decimal::new(-5, 1);
        if rate < lo || rate > Decimal::ONE {
            self.bad(field, format!("a yearly trend must be between -50% and 100%, found {}", pct(rate)));
        }
    }

    fn indicators(&mut self) {
        let c = self.c;
        let mut seen = BTreeSet::new();
        let mut weight_sum = Decimal::ZERO;
        let mut first_weight: Option<usize> = None;
        for (i, ind) in c.indicators.iter().enumerate() {
            let at = |f: &str| format!("indicators[{i}].{f}");
            if !ind.id.is_empty() && !seen.insert(ind.id.as_str()) {
                self.bad(at("id"), format!("duplicate indicator id \"{}\"", ind.id));
            }
            if self.trust_parties {
                self.indicator_parties(i, ind);
            }
            if let Some(q) = &ind.quality {
                first_weight.get_or_insert(i);
                // Weights beyond 100% are refused below; the sum saturates
                // rather than overflow, and then is not 1 either.
                weight_sum = weight_sum.saturating_add(q.weight);
                if q.weight <= Decimal::ZERO || q.weight > Decimal::ONE {
                    self.bad(
                        at("quality.weight"),
                        format!("a weight must be above 0% and at most 100%, found {}", pct(q.weight)),
                    );
                }
                match ind.direction {
                    Direction::Neutral => self.bad(
                        at("direction"),
                        "a quality indicator needs a direction (\"lower_is_better\" or \"higher_is_better\")",
                    ),
                    Direction::HigherIsBetter if q.scoring == Scoring::Linear && q.threshold >= q.target => self.bad(
                        at("quality.target"),
                        format!(
                            "with higher_is_better the target ({}) must be above the threshold ({})",
                            q.target, q.threshold
                        ),
                    ),
                    Direction::LowerIsBetter if q.scoring == Scoring::Linear && q.threshold <= q.target => self.bad(
                        at("quality.target"),
                        format!(
                            "with lower_is_better the target ({}) must be below the threshold ({})",
                            q.target, q.threshold
                        ),
                    ),
                    _ => {}
                }
            }
        }
        if let Some(i) = first_weight {
            if weight_sum != Decimal::ONE {
                self.bad(
                    format!("indicators[{i}].quality.weight"),
                    format!("the quality weights sum to {}, not 1", weight_sum.normalize()),
                );
            }
        }
    }

    fn indicator_parties(&mut self, i: usize, ind: &Indicator) {
        let c = self.c;
        let at = |f: &str| format!("indicators[{i}].{f}");
        if !ind.source.is_empty() {
            match c.party(&ind.source) {
                None => self.bad(at("source"), format!("measurement source \"{}\" is not a party", ind.source)),
                Some(p) if p.role == Role::Auditor => self
                    .bad(at("source"), format!("\"{}\" is an auditor and cannot be a measurement source", ind.source)),
                _ => {}
            }
        }
        let mut agreed = BTreeSet::new();
        for (j, a) in ind.agreed_by.iter().enumerate() {
            let field = format!("indicators[{i}].agreed_by[{j}]");
            if c.party(a).is_none() {
                self.bad(&field, format!("\"{a}\" is not a party"));
            } else if *a == ind.source {
                self.bad(&field, "the measurement source does not also agree to its own figure");
            } else if !agreed.insert(a.as_str()) {
                self.bad(&field, format!("\"{a}\" is listed twice"));
            }
        }
    }

    fn needs_quality(&mut self, field: &str, what: &str) {
        if self.c.quality_indicators().next().is_none() {
            self.bad(field, format!("{what} needs at least one quality indicator"));
        }
    }

    fn payments(&mut self) {
        let c = self.c;
        let p = &c.payments;
        if p.volume.is_none()
            && p.pay_for_performance.is_none()
            && p.shared_savings.is_none()
            && p.bundled.is_none()
            && p.capitation.is_none()
        {
            self.bad("payments", "the contract needs at least one payment component");
        }
        if let Some(v) = &p.volume {
            self.volume(v);
        }
        if let Some(pf) = &p.pay_for_performance {
            let mut seen = BTreeSet::new();
            if pf.bonuses.is_empty() {
                self.bad("payments.pay_for_performance.bonuses", "needs at least one bonus");
            }
            for (i, b) in pf.bonuses.iter().enumerate() {
                let at = |f: &str| format!("payments.pay_for_performance.bonuses[{i}].{f}");
                if !b.id.is_empty() && !seen.insert(b.id.as_str()) {
                    self.bad(at("id"), format!("duplicate bonus id \"{}\"", b.id));
                }
                self.indicator_with(&at("indicator"), &b.indicator, &[]);
                if let Some(ind) = c.indicator(&b.indicator) {
                    if ind.direction == Direction::Neutral {
                        self.bad(
                            at("indicator"),
                            format!("indicator \"{}\" has no direction, so a target cannot be met", b.indicator),
                        );
                    }
                }
                if let Some(r) = &b.recipient {
                    self.party_with(&at("recipient"), r, Some(Role::Provider));
                }
                if let Some(r) = &b.payer {
                    self.party_with(&at("payer"), r, Some(Role::Payer));
                }
            }
        }
        if let Some(s) = &p.shared_savings {
            self.shared_savings(s);
        }
        if let Some(b) = &p.bundled {
            let at = |f: &str| format!("payments.bundled.{f}");
            self.recipients("payments.bundled", &b.payer, &b.recipient);
            if b.target_price.is_zero() {
                self.bad(at("target_price"), "must be above 0");
            }
            self.indicator_with(&at("episodes_indicator"), &b.episodes_indicator, &[Unit::Episodes]);
            self.indicator_with(&at("actual_cost_indicator"), &b.actual_cost_indicator, &[Unit::Eur]);
            if let Some(x) = b.stop_gain {
                self.cap(&at("stop_gain"), x);
            }
            if let Some(x) = b.stop_loss {
                self.cap(&at("stop_loss"), x);
            }
            self.allocation("payments.bundled", &[("payments.bundled.funding".to_string(), b.funding)], &b.allocation);
        }
        if let Some(cp) = &p.capitation {
            self.capitation(cp);
            self.allocation(
                "payments.capitation",
                &[("payments.capitation.funding".to_string(), cp.funding)],
                &cp.allocation,
            );
        }
        if let Some(s) = &p.shared_savings {
            self.allocation(
                "payments.shared_savings",
                &[("payments.shared_savings.funding".to_string(), s.funding)],
                &s.allocation,
            );
        }
        if let Some(v) = &p.volume {
            let lines: Vec<(String, Funding)> = v
                .activities
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("payments.volume.activities[{i}].funding"), a.funding))
                .collect();
            self.allocation("payments.volume", &lines, &v.allocation);
        }
        if let Some(pf) = &p.pay_for_performance {
            let lines: Vec<(String, Funding)> = pf
                .bonuses
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("payments.pay_for_performance.bonuses[{i}].funding"), b.funding))
                .collect();
            self.allocation("payments.pay_for_performance", &lines, &pf.allocation);
        }
    }

    /// The allocation key of the component at `base`, whose payments are in
    /// the streams `fundings` (field path, stream: the component's own, or
    /// each activity's or bonus's): at least two streams, each a stream of
    /// the contract with its own indicator of a countable unit, and every
    /// one of `fundings` among them (reported at its field).
    fn allocation(&mut self, base: &str, fundings: &[(String, Funding)], key: &Option<AllocationKey>) {
        let Some(AllocationKey::ByIndicator { indicators }) = key else { return };
        let field = format!("{base}.allocation.indicators");
        self.count(&field, indicators.len(), MAX_LIST);
        let streams = &self.c.funding_streams;
        let quoted =
            |names: &mut dyn Iterator<Item = &str>| names.map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
        if indicators.len() < 2 {
            let named = if indicators.is_empty() {
                "no stream".to_string()
            } else {
                format!("only {}", quoted(&mut indicators.keys().map(String::as_str)))
            };
            self.bad(
                format!("{base}.allocation"),
                format!(
                    "an allocation key splits a payment over two or more funding streams, this one names {named}; \
                     for a payment of one stream leave `allocation` out and set `funding`"
                ),
            );
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (stream, ind) in indicators {
            let f = format!("{field}.{}", short(stream));
            self.text(&f, ind);
            if !streams.iter().any(|s| s.word() == stream) {
                self.bad(
                    f.clone(),
                    format!(
                        "unknown funding stream \"{}\"; allowed: {}",
                        short(stream),
                        quoted(&mut streams.iter().map(Funding::word))
                    ),
                );
            }
            self.indicator_with(&f, ind, ALLOCATION_UNITS);
            if let Some(other) = seen.insert(ind.as_str(), stream.as_str()) {
                self.bad(
                    f,
                    format!(
                        "indicator \"{ind}\" already gives the figure of stream \"{other}\"; each stream needs its own"
                    ),
                );
            }
        }
        for (field, funding) in
            fundings.iter().filter(|(_, f)| !indicators.is_empty() && !indicators.contains_key(f.word()))
        {
            self.bad(
                field.clone(),
                format!(
                    "\"{funding}\" is not one of the allocation key's streams ({}); with a key, `funding` names one of them",
                    quoted(&mut indicators.keys().map(String::as_str))
                ),
            );
        }
    }

    fn recipients(&mut self, base: &str, payer: &Option<String>, recipient: &Option<String>) {
        if let Some(r) = payer {
            self.party_with(&format!("{base}.payer"), r, Some(Role::Payer));
        }
        if let Some(r) = recipient {
            self.party_with(&format!("{base}.recipient"), r, Some(Role::Provider));
        }
    }

    fn volume(&mut self, v: &Volume) {
        let c = self.c;
        if v.activities.is_empty() {
            self.bad("payments.volume.activities", "needs at least one activity");
        }
        let mut seen = BTreeSet::new();
        for (i, a) in v.activities.iter().enumerate() {
            let at = |f: &str| format!("payments.volume.activities[{i}].{f}");
            if !a.id.is_empty() && !seen.insert(a.id.as_str()) {
                self.bad(at("id"), format!("duplicate activity id \"{}\"", a.id));
            }
            if a.price.is_zero() {
                self.bad(at("price"), "must be above 0");
            }
            self.indicator_with(
                &at("quantity_indicator"),
                &a.quantity_indicator,
                &[Unit::Hours, Unit::Count, Unit::Days, Unit::Members, Unit::MemberMonths, Unit::Episodes],
            );
            self.party_with(&at("provider"), &a.provider, Some(Role::Provider));
            self.party_with(&at("payer"), &a.payer, Some(Role::Payer));
        }
        for (i, cap) in v.caps.iter().enumerate() {
            let at = |f: &str| format!("payments.volume.caps[{i}].{f}");
            if cap.activities.is_empty() {
                self.bad(at("activities"), "needs at least one activity");
            }
            for (j, a) in cap.activities.iter().enumerate() {
                if !v.activities.iter().any(|x| x.id == *a) {
                    self.bad(
                        format!("payments.volume.caps[{i}].activities[{j}]"),
                        format!("\"{a}\" is not a volume activity"),
                    );
                }
            }
            if cap.max_quantity <= Decimal::ZERO {
                self.bad(at("max_quantity"), "must be above 0");
            }
            match (cap.per, &cap.exposure_indicator) {
                (CapPer::Year, Some(_)) => self.bad(at("exposure_indicator"), "not used for a cap per \"year\""),
                (CapPer::Year, None) => {}
                (per, None) => self.bad(
                    at("exposure_indicator"),
                    format!("missing required field (a cap per \"{per}\" needs the number of clients)"),
                ),
                (CapPer::ClientMonth, Some(id)) => {
                    self.indicator_with(&at("exposure_indicator"), id, &[Unit::MemberMonths])
                }
                (CapPer::ClientYear, Some(id)) => self.indicator_with(&at("exposure_indicator"), id, &[Unit::Members]),
            }
        }
        let _ = c;
    }

    fn shared_savings(&mut self, s: &SharedSavings) {
        let base = "payments.shared_savings";
        let at = |f: &str| format!("{base}.{f}");
        self.recipients(base, &s.payer, &s.recipient);
        self.indicator_with(&at("actual_cost_indicator"), &s.actual_cost_indicator, &[Unit::Eur]);
        let two = s.sided == Sided::TwoSided;
        let below_one = |d: Decimal| d >= Decimal::ZERO && d < Decimal::ONE;
        match &s.corridor {
            Corridor::Fixed { min_savings_rate, min_loss_rate } => {
                if !below_one(*min_savings_rate) {
                    self.bad(
                        at("corridor.min_savings_rate"),
                        format!("a corridor must be at least 0% and below 100%, found {}", pct(*min_savings_rate)),
                    );
                }
                match (two, min_loss_rate) {
                    (true, None) => {
                        self.bad(at("corridor.min_loss_rate"), "missing required field (the contract is two-sided)")
                    }
                    (false, Some(_)) => {
                        self.bad(at("corridor.min_loss_rate"), "only a two-sided contract has a loss corridor")
                    }
                    (true, Some(r)) if !below_one(*r) => self.bad(
                        at("corridor.min_loss_rate"),
                        format!("a corridor must be at least 0% and below 100%, found {}", pct(*r)),
                    ),
                    _ => {}
                }
            }
            Corridor::PopulationTable { rows, population_indicator } => {
                if let Some(ind) = population_indicator {
                    self.indicator_with(
                        &at("corridor.population_indicator"),
                        ind,
                        &[Unit::Members, Unit::MemberMonths],
                    );
                }
                if rows.len() < 2 {
                    self.bad(at("corridor.rows"), "a corridor table needs at least two rows");
                }
                let mut prev: Option<u64> = None;
                for (i, r) in rows.iter().enumerate() {
                    let rf = |f: &str| format!("{base}.corridor.rows[{i}].{f}");
                    if let Some(p) = prev {
                        if r.population <= p {
                            self.bad(rf("population"), format!("population {} is not above the previous row's {p}; rows must be strictly increasing", r.population));
                        }
                    }
                    prev = Some(r.population);
                    self.safe_integer(&rf("population"), r.population);
                    if !below_one(r.min_savings_rate) {
                        self.bad(
                            rf("min_savings_rate"),
                            format!("a corridor must be at least 0% and below 100%, found {}", pct(r.min_savings_rate)),
                        );
                    }
                    match (two, r.min_loss_rate) {
                        (true, None) => {
                            self.bad(rf("min_loss_rate"), "missing required field (the contract is two-sided)")
                        }
                        (false, Some(_)) => {
                            self.bad(rf("min_loss_rate"), "only a two-sided contract has a loss corridor")
                        }
                        (true, Some(x)) if !below_one(x) => self.bad(
                            rf("min_loss_rate"),
                            format!("a corridor must be at least 0% and below 100%, found {}", pct(x)),
                        ),
                        _ => {}
                    }
                }
            }
        }
        // A share of 0% is allowed: a failed quality standard written
        // directly; the statement then says that nothing is paid.
        self.share(&at("provider_share"), s.provider_share);
        self.share(&at("min_quality_score"), s.min_quality_score);
        if s.quality_scaling != QualityScaling::None {
            self.needs_quality(&at("quality_scaling"), "quality scaling");
        }
        if !s.min_quality_score.is_zero() {
            self.needs_quality(&at("min_quality_score"), "a quality gate");
        }
        if s.withhold < Decimal::ZERO || s.withhold >= Decimal::ONE {
            self.bad(
                at("withhold"),
                format!("a withhold must be at least 0% and below 100%, found {}", pct(s.withhold)),
            );
        }
        if let Some(x) = s.savings_cap {
            self.cap(&at("savings_cap"), x);
        }
        match (two, &s.loss_share) {
            (true, None) => self.bad(at("loss_share"), "missing required field (the contract is two-sided)"),
            (false, Some(_)) => self.bad(at("loss_share"), "only a two-sided contract shares losses"),
            (_, Some(LossShare::Fixed { rate })) => self.share(&at("loss_share.rate"), *rate),
            (_, Some(LossShare::QualityScaled { intercept, slope, min, max })) => {
                self.share(&at("loss_share.intercept"), *intercept);
                self.share(&at("loss_share.slope"), *slope);
                self.share(&at("loss_share.min"), *min);
                self.share(&at("loss_share.max"), *max);
                if min > max {
                    self.bad(at("loss_share.max"), format!("max ({}) is below min ({})", pct(*max), pct(*min)));
                }
                self.needs_quality(&at("loss_share"), "a quality-scaled loss share");
            }
            (false, None) => {}
        }
        match (two, s.loss_cap) {
            (false, Some(_)) => self.bad(at("loss_cap"), "only a two-sided contract has a loss cap"),
            (true, Some(x)) => self.cap(&at("loss_cap"), x),
            _ => {}
        }
        if let Some(tier) = &s.inside_corridor {
            self.share(&at("inside_corridor.provider_share"), tier.provider_share);
            if tier.provider_share > s.provider_share {
                self.bad(
                    at("inside_corridor.provider_share"),
                    format!(
                        "the share inside the corridor ({}) is above the provider_share past it ({}); it is the lower tier",
                        pct(tier.provider_share),
                        pct(s.provider_share)
                    ),
                );
            }
            let field = at("inside_corridor.indicator");
            self.indicator_with(&field, &tier.indicator, &[]);
            if self.c.indicator(&tier.indicator).is_some_and(|i| i.direction == Direction::Neutral) {
                self.bad(field, format!("indicator \"{}\" is neutral: it has no target to meet", tier.indicator));
            }
        }
        if let Some(cap) = &s.figure_loss_cap {
            if two {
                self.cap(&at("figure_loss_cap.rate"), cap.rate);
                self.indicator_with(&at("figure_loss_cap.indicator"), &cap.indicator, &[Unit::Eur]);
            } else {
                self.bad(at("figure_loss_cap"), "only a two-sided contract has a loss cap");
            }
        }
        if let Some(ind) = &s.participation_months_indicator {
            if two {
                self.indicator_with(&at("participation_months_indicator"), ind, &[Unit::Count]);
            } else {
                self.bad(at("participation_months_indicator"), "only a two-sided contract pro-rates losses");
            }
        }
        match (&s.force_majeure, two) {
            (None, _) => {}
            (Some(_), false) => self.bad(at("force_majeure"), "only a two-sided contract has shared losses to reduce"),
            (Some(ForceMajeure::Fraction { factors }), true) => {
                if factors.is_empty() {
                    self.bad(at("force_majeure.factors"), "needs at least one indicator");
                }
                let mut seen = BTreeSet::new();
                for (i, f) in factors.iter().enumerate() {
                    let field = at(&format!("force_majeure.factors[{i}]"));
                    if !seen.insert(f.as_str()) {
                        self.bad(field, format!("\"{f}\" is listed twice"));
                    } else {
                        self.indicator_with(&field, f, &[Unit::Fraction]);
                    }
                }
            }
            (Some(ForceMajeure::Amount { indicator }), true) => {
                self.indicator_with(&at("force_majeure.indicator"), indicator, &[Unit::Eur])
            }
        }
    }

    /// The declared funding streams (at least one, no repeats, at most
    /// [`MAX_LIST`]) and every `funding` of the contract among them.
    fn funding_streams(&mut self) {
        let c = self.c;
        let streams = &c.funding_streams;
        if streams.is_empty() {
            self.bad("funding_streams", "needs at least one funding stream");
        }
        self.count("funding_streams", streams.len(), MAX_LIST);
        for (i, f) in streams.iter().enumerate() {
            if streams[..i].contains(f) {
                self.bad(format!("funding_streams[{i}]"), format!("\"{f}\" is listed twice"));
            }
        }
        let mut used: Vec<(String, Funding)> = Vec::new();
        let p = &c.payments;
        if let Some(v) = &p.volume {
            for (i, a) in v.activities.iter().enumerate() {
                used.push((format!("payments.volume.activities[{i}].funding"), a.funding));
            }
        }
        if let Some(pf) = &p.pay_for_performance {
            for (i, b) in pf.bonuses.iter().enumerate() {
                used.push((format!("payments.pay_for_performance.bonuses[{i}].funding"), b.funding));
            }
        }
        if let Some(x) = &p.shared_savings {
            used.push(("payments.shared_savings.funding".to_string(), x.funding));
        }
        if let Some(x) = &p.bundled {
            used.push(("payments.bundled.funding".to_string(), x.funding));
        }
        if let Some(x) = &p.capitation {
            used.push(("payments.capitation.funding".to_string(), x.funding));
        }
        for (i, x) in c.impulse.iter().enumerate() {
            used.push((format!("impulse[{i}].funding"), x.funding));
        }
        for (i, x) in c.revenue_guarantees.iter().enumerate() {
            used.push((format!("revenue_guarantees[{i}].funding"), x.funding));
        }
        for (field, f) in used {
            if !streams.contains(&f) {
                let allowed: Vec<String> = streams.iter().map(|s| format!("\"{s}\"")).collect();
                self.bad(field, format!("unknown value \"{f}\"; allowed: {}", allowed.join(", ")));
            }
        }
    }

    fn capitation(&mut self, cp: &Capitation) {
        let base = "payments.capitation";
        let at = |f: &str| format!("{base}.{f}");
        self.recipients(base, &cp.payer, &cp.recipient);
        if cp.amount_per_member.is_zero() {
            self.bad(at("amount_per_member"), "must be above 0");
        }
        self.indicator_with(&at("members_indicator"), &cp.members_indicator, &[Unit::Members, Unit::MemberMonths]);
        self.indicator_with(&at("actual_cost_indicator"), &cp.actual_cost_indicator, &[Unit::Eur]);
        if cp.risk_corridors.is_empty() {
            self.bad(at("risk_corridors"), "needs at least one band (from = 0)");
        }
        let mut edge = Some(Decimal::ZERO);
        let n = cp.risk_corridors.len();
        for (i, b) in cp.risk_corridors.iter().enumerate() {
            let bf = |f: &str| format!("{base}.risk_corridors[{i}].{f}");
            match edge {
                Some(e) if b.from != e => self.bad(
                    bf("from"),
                    format!("band starts at {} but must start where the previous one ends ({})", pct(b.from), pct(e)),
                ),
                None => self.bad(bf("from"), "the previous band is open-ended; no band may follow it"),
                _ => {}
            }
            if let Some(to) = b.to {
                if to <= b.from {
                    self.bad(
                        bf("to"),
                        format!("band ends at {} which is not above its start {}", pct(to), pct(b.from)),
                    );
                }
            } else if i + 1 != n {
                self.bad(bf("to"), "missing required field (only the last band may be open-ended)");
            }
            self.share(&bf("provider_share"), b.provider_share);
            edge = b.to;
        }
    }

    fn impulse(&mut self) {
        let c = self.c;
        let t = &c.term;
        for (i, imp) in c.impulse.iter().enumerate() {
            let at = |f: &str| format!("impulse[{i}].{f}");
            if imp.year != 0 && t.first_year != 0 && !(t.first_year..=t.last_year).contains(&imp.year) {
                self.bad(at("year"), format!("year {} is outside the term {}-{}", imp.year, t.first_year, t.last_year));
            }
            self.party_with(&at("recipient"), &imp.recipient, Some(Role::Provider));
            self.party_with(&at("payer"), &imp.payer, Some(Role::Payer));
            if imp.amount.is_zero() {
                self.bad(at("amount"), "must be above 0");
            }
            if let ImpulseKind::Advance { repayment_rate, .. } = imp.kind {
                if repayment_rate <= Decimal::ZERO || repayment_rate > Decimal::ONE {
                    self.bad(
                        at("repayment_rate"),
                        format!("must be above 0% and at most 100%, found {}", pct(repayment_rate)),
                    );
                }
                if c.payments.shared_savings.is_none() {
                    self.bad(
                        at("kind"),
                        "an advance is repaid from savings shares, but the contract has no shared savings",
                    );
                } else if imp.year == t.last_year && t.last_year != 0 {
                    self.bad(at("year"), "an advance paid in the last year cannot be repaid from later savings");
                }
            }
        }
    }

    fn guarantees(&mut self) {
        let c = self.c;
        for (i, g) in c.revenue_guarantees.iter().enumerate() {
            let at = |f: &str| format!("revenue_guarantees[{i}].{f}");
            self.party_with(&at("provider"), &g.provider, Some(Role::Provider));
            self.party_with(&at("payer"), &g.payer, Some(Role::Payer));
            if g.floor.is_zero() {
                self.bad(at("floor"), "must be above 0");
            }
            let mut seen = BTreeSet::new();
            for (j, y) in g.years.iter().enumerate() {
                if !(c.term.first_year..=c.term.last_year).contains(y) {
                    self.bad(
                        format!("revenue_guarantees[{i}].years[{j}]"),
                        format!("year {y} is outside the term {}-{}", c.term.first_year, c.term.last_year),
                    );
                } else if !seen.insert(*y) {
                    self.bad(format!("revenue_guarantees[{i}].years[{j}]"), format!("year {y} is listed twice"));
                }
            }
            if let Some(id) = &g.revenue_indicator {
                self.indicator_with(&at("revenue_indicator"), id, &[Unit::Eur]);
            }
        }
    }

    fn tariffs(&mut self) {
        let c = self.c;
        let activities: Vec<&str> =
            c.payments.volume.iter().flat_map(|v| v.activities.iter().map(|a| a.id.as_str())).collect();
        let mut seen = BTreeSet::new();
        for (i, t) in c.tariff_adjustments.iter().enumerate() {
            let at = |f: &str| format!("tariff_adjustments[{i}].{f}");
            if !t.id.is_empty() && !seen.insert(t.id.as_str()) {
                self.bad(at("id"), format!("duplicate tariff adjustment id \"{}\"", t.id));
            }
            if t.rate <= Decimal::ZERO || t.rate > Decimal::ONE {
                self.bad(at("rate"), format!("must be above 0% and at most 100%, found {}", pct(t.rate)));
            }
            if t.applies_to.is_empty() {
                self.bad(at("applies_to"), "needs at least one volume activity");
            }
            for (j, a) in t.applies_to.iter().enumerate() {
                if !activities.contains(&a.as_str()) {
                    self.bad(
                        format!("tariff_adjustments[{i}].applies_to[{j}]"),
                        format!("\"{a}\" is not a volume activity"),
                    );
                }
            }
            match &t.trigger {
                Trigger::Always => {}
                Trigger::TargetMet { indicator, .. } | Trigger::TargetMissed { indicator, .. } => {
                    self.indicator_with(&at("trigger.indicator"), indicator, &[]);
                    if c.indicator(indicator).is_some_and(|x| x.direction == Direction::Neutral) {
                        self.bad(
                            at("trigger.indicator"),
                            format!("indicator \"{indicator}\" has no direction, so a target cannot be met"),
                        );
                    }
                }
            }
        }
    }

    fn distribution(&mut self) {
        let c = self.c;
        let base = "distribution.providers";
        match &c.distribution.providers.rule {
            ProviderRule::Fixed { shares } => {
                self.shares(base, shares, Role::Provider);
            }
            ProviderRule::ByIndicator { indicators } => {
                if indicators.is_empty() {
                    self.bad(format!("{base}.indicators"), "needs at least one provider");
                }
                for (party, ind) in indicators {
                    let f = format!("{base}.indicators.{party}");
                    self.party_with(&f, party, Some(Role::Provider));
                    self.indicator_with(&f, ind, &[]);
                }
            }
        }
        let base = "distribution.payers";
        match &c.distribution.payers.rule {
            PayerRule::Fixed { shares } => self.shares(base, shares, Role::Payer),
            PayerRule::ByContribution if self.trust_parties => {
                for (i, p) in c.parties.iter().enumerate() {
                    if p.role == Role::Payer && p.contribution.is_none_or(|x| x.is_zero()) {
                        self.bad(
                            format!("parties[{i}].contribution"),
                            "missing required field (payers are split by contribution; each payer needs one above 0)",
                        );
                    }
                }
            }
            PayerRule::ByContribution => {}
        }
    }

    fn shares(&mut self, base: &str, shares: &BTreeMap<String, Decimal>, role: Role) {
        if !self.trust_parties {
            return;
        }
        if shares.is_empty() {
            self.bad(format!("{base}.shares"), "needs at least one share");
            return;
        }
        let mut sum = Decimal::ZERO;
        for (party, share) in shares {
            let f = format!("{base}.shares.{party}");
            self.party_with(&f, party, Some(role));
            self.share(&f, *share);
            // Shares beyond 0..1 are refused above; saturating keeps an
            // absurd share from overflowing (the sum is then not 1 either).
            sum = sum.saturating_add(*share);
        }
        if sum != Decimal::ONE {
            self.bad(format!("{base}.shares"), format!("the shares sum to {}, not 1", sum.normalize()));
        }
    }
}

/// Whether `key` is a fingerprint `XXXX-XXXX-XXXX-XXXX` of base32 characters.
pub fn valid_fingerprint(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)))
}
