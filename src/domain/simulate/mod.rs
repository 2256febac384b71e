//! Simulation: a contract (or several variants of one) run through the
//! settlement engine under scenarios of its inputs, before anyone signs.
//!
//! * [`scenarios`] reads the scenarios file: for each input a fixed value,
//!   a distribution per year, or a change against a base (a number or a
//!   statement line such as `shared_savings.benchmark`); correlations; a
//!   sweep grid over one or two inputs.
//! * [`Model`] joins the scenarios with the contract variants and checks
//!   that every input is an indicator and every needed figure has an input.
//! * [`Model::monte_carlo`] draws N runs. Run `r` uses its own ChaCha8
//!   stream (seed, stream `r`), so a run's draws do not depend on which
//!   thread runs it; runs are evaluated in parallel in chunks and collected
//!   in run order; statistics are computed from exact integer cents in a
//!   fixed order. The same seed gives the same output byte for byte for any
//!   thread count. Every variant gets the same draws (common random
//!   numbers), so differences between variants are the contract's, not
//!   noise.
//! * [`Model::sweep`] and [`Model::tornado`] are deterministic.
//!
//! Every figure fed to the engine is an exact [`Decimal`]: a drawn float is
//! rounded half-even to the input's unit (counts, members, member-months,
//! episodes, yes/no to whole numbers; money to cents; everything else to 4
//! decimals); a change is rounded to 4 decimals (0.01%) and the value
//! `base x (1 + change)` is rounded by the unit. Floats are used only for
//! drawing and for statistics. Settlement is [`settlement::settle_year_detailed`]:
//! the same engine and statements as `settle`, with the words left out
//! ([`Detail::Numbers`]: the same lines and numbers, no terms in labels and
//! formulas) wherever only numbers are read; [`Model::settle`] returns whole
//! statements.
//!
//! This module is pure except for the caller's progress and run callbacks;
//! [`charts`] writes chart files.

pub mod dist;
pub mod scenarios;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use smallvec::SmallVec;

use crate::domain::contract::{Contract, Diagnostic, Party, PayerRule, Remainder, Role, Unit};
use crate::domain::settlement::{self, Carry, Detail, Figure, Inputs, SettleError, Statement, Template};
pub use scenarios::{Axis, Base, InputSpec, Scenarios, Spec};

/// The payment components, by line-id prefix, in settlement order.
pub const COMPONENTS: [&str; 7] =
    ["volume", "p4p", "shared_savings", "bundled", "capitation", "impulse", "revenue_guarantee"];

/// The statement lines that hold the payer's savings against what the care
/// was expected to cost (above 0: saved, below 0: overspent), per
/// component: benchmark - actual cost, target total - actual cost, budget -
/// actual cost. The economic result of a payer counts them
/// (docs/SIMULATION.md, "Economic result and cash").
pub const SAVINGS_LINES: [&str; 3] = ["shared_savings.gross_savings", "bundled.result", "capitation.result"];

/// Most Monte Carlo runs in one simulation.
pub const MAX_RUNS: u64 = 10_000_000;

/// Runs evaluated in parallel between two progress reports.
const CHUNK: u64 = 4096;

/// The runs in a chunk from which a variant's slots are filled in parallel
/// (below, the variants of the chunk are).
const PARALLEL_SLOTS_FROM: usize = 256;

/// Most outcomes (runs x variants) evaluated before they are aggregated: the
/// memory of a simulation of many contracts is bounded by this, not by the
/// number of contracts times [`CHUNK`].
pub const MAX_OUTCOMES_IN_FLIGHT: usize = 1 << 14;

/// Most net results (two per run, period and party of a variant, the cash
/// and the economic result, 8 bytes each, kept for the exact percentiles)
/// held at once by
/// [`Model::monte_carlo`]: 4 Mi results, 32 MiB. A larger book is
/// simulated in blocks of variants ([`Model::blocks`]), so the memory of a
/// simulation of 10,000 contracts x 1,000 runs does not grow with contracts
/// x runs. (One variant whose runs alone exceed it is one block.)
pub const MAX_NETS_IN_MEMORY: usize = 1 << 22;

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// Problems in the scenarios file (or its fit with the contracts).
    Scenario(Vec<Diagnostic>),
    /// A run produced an impossible input (a negative count, an index of 0).
    Input {
        /// Where the input is defined.
        at: Diagnostic,
        /// The run (None in a sweep or tornado).
        run: Option<u64>,
        /// The year.
        year: u16,
    },
    /// The engine refused a run's figures.
    Settle {
        /// The variant.
        variant: String,
        /// The run (None in a sweep or tornado).
        run: Option<u64>,
        /// What the engine said.
        error: SettleError,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = |r: &Option<u64>| r.map(|r| format!("run {r}, ")).unwrap_or_default();
        match self {
            SimError::Scenario(d) => {
                let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
                write!(f, "{}", lines.join("\n"))
            }
            SimError::Input { at, run: r, year } => {
                write!(f, "{}:{}:{}: {}: {}year {year}: {}", at.file, at.line, at.column, at.field, run(r), at.message)
            }
            SimError::Settle { variant, run: r, error } => write!(f, "{variant}: {}{error}", run(r)),
        }
    }
}

impl std::error::Error for SimError {}

/// A contract variant to simulate.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Its name in tables and file names (e.g. the file stem).
    pub name: String,
    /// The contract.
    pub contract: Contract,
    /// The parties with money at stake (providers and payers), in contract order.
    pub parties: Vec<Party>,
    version: String,
    /// Per line of [`SAVINGS_LINES`] the contract has a component for: the
    /// line id and the payers (index in `parties`, weight) who carry the
    /// care cost, so keep the savings: the component's own payer, else
    /// every payer by the contract's payer key.
    savings: Vec<(&'static str, Vec<(usize, Decimal)>)>,
    /// The contract's remainder rule for splitting savings among payers.
    remainder: Remainder,
}

impl Variant {
    /// A variant named `name`.
    pub fn new(name: &str, contract: Contract) -> Variant {
        let version = contract.version_hash();
        let parties: Vec<Party> =
            contract.parties.iter().filter(|p| matches!(p.role, Role::Provider | Role::Payer)).cloned().collect();
        let index = |id: &str| parties.iter().position(|p| p.id == id);
        // The payer key (as the engine's payer distribution reads it).
        let key: Vec<(usize, Decimal)> = parties
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == Role::Payer)
            .filter_map(|(k, p)| match &contract.distribution.payers.rule {
                PayerRule::ByContribution => Some((k, p.contribution.unwrap_or_default())),
                PayerRule::Fixed { shares } => shares.get(&p.id).map(|s| (k, *s)),
            })
            .collect();
        let pay = &contract.payments;
        let own = [
            pay.shared_savings.as_ref().map(|x| x.payer.as_deref()),
            pay.bundled.as_ref().map(|x| x.payer.as_deref()),
            pay.capitation.as_ref().map(|x| x.payer.as_deref()),
        ];
        let savings = SAVINGS_LINES
            .iter()
            .zip(own)
            .filter_map(|(line, payer)| {
                let payers = match payer? {
                    Some(id) => index(id).map(|k| vec![(k, Decimal::ONE)]).unwrap_or_default(),
                    None => key.clone(),
                };
                Some((*line, payers))
            })
            .collect();
        let remainder = contract.distribution.payers.remainder;
        Variant { name: name.to_string(), contract, parties, version, savings, remainder }
    }

    /// Outcome of a term's statements for this variant's parties.
    pub fn outcome(&self, statements: &[Statement]) -> Outcome {
        let mut out = Outcome::default();
        self.outcome_into(statements, &mut out);
        out
    }

    /// [`Variant::outcome`] written into `out`, whatever it held before
    /// (its buffers are reused: a Monte Carlo fills the same outcomes
    /// chunk after chunk).
    pub fn outcome_into(&self, statements: &[Statement], out: &mut Outcome) {
        outcome_with_savings(&self.parties, &self.savings, self.remainder, statements, out)
    }
}

/// Scenarios joined with contract variants, checked and ready to run.
#[derive(Debug, Clone)]
pub struct Model {
    /// The scenarios.
    pub scenarios: Scenarios,
    /// The variants, in the order given.
    pub variants: Vec<Variant>,
    /// The years with inputs (term years of every variant and years before
    /// the term that a figure refers to), increasing.
    pub years: Vec<u16>,
    /// Per input: the indicator's unit (from the first contract that has it).
    units: Vec<Unit>,
}

/// A drawn or chosen scenario: per input and year (index `input * years + year`),
/// the value, or the change for an input with a base.
pub type Point = Vec<Decimal>;

/// Per party of a variant: the cash (net) and the economic result per year
/// and over the term, and the net per component, in cents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Cash, net per (period, party): what the party received minus what it
    /// paid over every transfer (advances and repayments included); index
    /// `period * parties + party`; periods are the term years then the
    /// whole term.
    pub nets: Vec<i64>,
    /// Economic result per (period, party), same index as `nets`: for a
    /// provider, the statement's result (earned above 0, borne below 0;
    /// advances and their repayments are loans and count for nothing, a
    /// waived balance counts); for a payer, its statement result (minus the
    /// result payments it makes) plus its part of the savings lines
    /// ([`SAVINGS_LINES`]). See docs/SIMULATION.md.
    pub results: Vec<i64>,
    /// Net per (period, party, component), index
    /// `(period * parties + party) * COMPONENTS.len() + component`.
    pub components: Vec<i64>,
}

fn dp_of(unit: Unit) -> u32 {
    match unit {
        Unit::Members | Unit::MemberMonths | Unit::Episodes | Unit::Count | Unit::YesNo => 0,
        Unit::Eur | Unit::EurPerMember => 2,
        _ => 4,
    }
}

/// `d` rounded half-even to `dp` decimals: `rust_decimal`'s rounding, to
/// the byte, in one division (the engine's [`settlement::round_dp`]).
fn round_dp(d: Decimal, dp: u32) -> Decimal {
    settlement::round_dp(d, dp, RoundingStrategy::MidpointNearestEven)
}

/// `base x (1 + change)` rounded by the unit; an impossible change (a draw
/// out of range) or an overflow gives the sentinel that `Model::check` refuses.
fn based(base: Decimal, change: Decimal, unit: Unit) -> Decimal {
    if change == Decimal::MIN {
        return Decimal::MIN;
    }
    Decimal::ONE
        .checked_add(change)
        .and_then(|f| base.checked_mul(f))
        .map(|v| round_dp(v, dp_of(unit)))
        .unwrap_or(Decimal::MIN)
}

/// A float as a decimal rounded half-even to `dp` places (`None` when not finite or too large).
fn f64_to_decimal(x: f64, dp: u32) -> Option<Decimal> {
    if !x.is_finite() || x.abs() > 1e13 {
        return None;
    }
    let scaled = (x * 10f64.powi(dp as i32)).round_ties_even();
    Some(Decimal::new(scaled as i64, dp))
}

impl Model {
    /// Joins `scenarios` with `variants`: every input must be an indicator of
    /// some variant, every figure a variant needs must have an input.
    pub fn new(scenarios: Scenarios, variants: Vec<Variant>) -> Result<Model, SimError> {
        let file = scenarios.file.clone();
        let diag = |line: u32, field: &str, message: String| Diagnostic {
            file: file.clone(),
            line,
            column: 1,
            field: field.to_string(),
            message,
        };
        let mut diags = Vec::new();
        let mut units = Vec::new();
        // Each indicator's unit from the first variant that has it (one
        // pass over the variants, not one per input).
        let mut first_unit: HashMap<&str, Unit> = HashMap::new();
        for v in &variants {
            for ind in &v.contract.indicators {
                first_unit.entry(ind.id.as_str()).or_insert(ind.unit);
            }
        }
        let mut input_ids: HashMap<&str, usize> = HashMap::new();
        for (k, i) in scenarios.inputs.iter().enumerate() {
            input_ids.entry(i.id.as_str()).or_insert(k);
        }
        for i in &scenarios.inputs {
            match first_unit.get(i.id.as_str()) {
                Some(unit) => units.push(*unit),
                None => {
                    let known: BTreeSet<&str> =
                        variants.iter().flat_map(|v| v.contract.indicators.iter().map(|i| i.id.as_str())).collect();
                    let known: Vec<&str> = known.into_iter().collect();
                    let hint = crate::domain::contract::parse::suggest(&i.id, &known)
                        .map(|s| format!(" (did you mean '{s}'?)"))
                        .unwrap_or_default();
                    diags.push(diag(
                        i.line,
                        &format!("inputs.{}", i.id),
                        format!("unknown input: no contract has an indicator '{}'{hint}", i.id),
                    ));
                    units.push(Unit::Score);
                }
            }
        }
        let mut years: BTreeSet<u16> = BTreeSet::new();
        for v in &variants {
            let c = &v.contract;
            for y in c.term.years() {
                years.insert(y);
                for r in settlement::required_indicators(c, y) {
                    years.insert(r.year);
                    let Some(&k) = input_ids.get(r.indicator.as_str()) else {
                        let d = diag(
                            1,
                            "inputs",
                            format!(
                                "{} needs {} in {}; the file gives no [inputs.{}]",
                                v.name, r.indicator, r.year, r.indicator
                            ),
                        );
                        if !diags.contains(&d) {
                            diags.push(d);
                        }
                        continue;
                    };
                    if !c.term.years().contains(&r.year) {
                        let i = &scenarios.inputs[k];
                        if matches!(i.base, Base::Line(_)) {
                            diags.push(diag(
                                i.line,
                                &format!("inputs.{}.base", i.id),
                                format!(
                                    "{} needs it in {}, outside the term, where no statement line exists",
                                    v.name, r.year
                                ),
                            ));
                        }
                    }
                }
            }
        }
        drop(first_unit);
        drop(input_ids);
        if diags.is_empty() {
            Ok(Model { scenarios, variants, years: years.into_iter().collect(), units })
        } else {
            Err(SimError::Scenario(diags))
        }
    }

    /// Input id -> index in the scenarios file.
    fn input_index(&self) -> HashMap<&str, usize> {
        self.scenarios.inputs.iter().enumerate().map(|(i, x)| (x.id.as_str(), i)).collect()
    }

    /// Number of periods of variant `v` (term years + the whole term).
    pub fn periods(&self, v: usize) -> usize {
        self.variants[v].contract.term.years().count() + 1
    }

    /// The central scenario: fixed values, and the median of each distribution.
    pub fn central(&self) -> Point {
        let mut p = Vec::with_capacity(self.scenarios.inputs.len() * self.years.len());
        for (i, input) in self.scenarios.inputs.iter().enumerate() {
            for &y in &self.years {
                p.push(self.value_of(i, input.spec(y), None));
            }
        }
        p
    }

    /// The value of a spec: fixed, or the distribution at draw `z` (median when `None`).
    fn value_of(&self, i: usize, spec: &Spec, z: Option<f64>) -> Decimal {
        match spec {
            Spec::Fixed(d) => *d,
            Spec::Dist(d) => self.drawn_value(
                i,
                match z {
                    Some(z) => d.at_z(z),
                    None => d.median(),
                },
            ),
        }
    }

    /// Input `i`'s value for the float `x` of its distribution: exact
    /// decimal places by its unit (4 for a change).
    fn drawn_value(&self, i: usize, x: f64) -> Decimal {
        let dp = if self.scenarios.inputs[i].base == Base::Absolute { dp_of(self.units[i]) } else { 4 };
        // Out-of-range floats become an impossible value caught by `check`.
        f64_to_decimal(x, dp).unwrap_or(Decimal::MIN)
    }

    /// Draws run `run` of a simulation with `seed`.
    pub fn draw(&self, seed: u64, run: u64) -> Point {
        self.draw_with(&self.samplers(), seed, run)
    }

    /// Per input and year (index as in [`Point`]): the sampler of its
    /// distribution, `None` for a fixed value. Made once per simulation, so
    /// that a draw does not recompute the probabilities of the bounds.
    fn samplers(&self) -> Vec<Option<dist::Sampler>> {
        let mut out = Vec::with_capacity(self.scenarios.inputs.len() * self.years.len());
        for input in &self.scenarios.inputs {
            for &y in &self.years {
                out.push(match input.spec(y) {
                    Spec::Fixed(_) => None,
                    Spec::Dist(d) => Some(dist::Sampler::new(d)),
                });
            }
        }
        out
    }

    /// [`Model::draw`] with the samplers of [`Model::samplers`].
    fn draw_with(&self, samplers: &[Option<dist::Sampler>], seed: u64, run: u64) -> Point {
        let mut p = Vec::new();
        self.draw_into(samplers, seed, run, &mut p);
        p
    }

    /// [`Model::draw_with`] written into `p`, whatever it held before (its
    /// buffer is reused).
    fn draw_into(&self, samplers: &[Option<dist::Sampler>], seed: u64, run: u64, p: &mut Point) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(run);
        let s = &self.scenarios;
        let ny = self.years.len();
        debug_assert_eq!(samplers.len(), s.inputs.len() * ny, "a sampler slot per input and year");
        p.clear();
        p.resize(s.inputs.len() * ny, Decimal::ZERO);
        let mut z = vec![0.0f64; s.inputs.len()];
        let mut x = vec![0.0f64; s.correlated.len()];
        for (j, &y) in self.years.iter().enumerate() {
            for (i, input) in s.inputs.iter().enumerate() {
                z[i] = if input.is_random() { StandardNormal.sample(&mut rng) } else { 0.0 };
            }
            let n = s.correlated.len();
            for (k, &i) in s.correlated.iter().enumerate() {
                x[k] = z[i];
            }
            for (r, &i) in s.correlated.iter().enumerate() {
                z[i] = (0..=r).map(|k| s.cholesky[r * n + k] * x[k]).sum();
            }
            for (i, input) in s.inputs.iter().enumerate() {
                p[i * ny + j] = match (input.spec(y), &samplers[i * ny + j]) {
                    (Spec::Dist(_), Some(d)) => self.drawn_value(i, d.at_z(z[i])),
                    (spec, _) => self.value_of(i, spec, Some(z[i])),
                };
            }
        }
    }

    /// Checks an absolute value for its unit; the error names the input.
    fn check(&self, i: usize, year: u16, value: Decimal, run: Option<u64>) -> Result<(), SimError> {
        let unit = self.units[i];
        let problem = if value == Decimal::MIN {
            Some("a drawn value is too large; bound the distribution with min/max".to_string())
        } else if unit == Unit::Index && value <= Decimal::ZERO {
            Some(format!("an index must be above 0, got {value}; bound the distribution with min"))
        } else if value.is_sign_negative()
            && !value.is_zero()
            && !matches!(unit, Unit::Fraction | Unit::Score | Unit::Index)
        {
            Some(format!("{value} is negative, impossible for {unit}; bound the distribution with min = 0"))
        } else {
            None
        };
        match problem {
            None => Ok(()),
            Some(message) => {
                let input = &self.scenarios.inputs[i];
                Err(SimError::Input {
                    at: Diagnostic {
                        file: self.scenarios.file.clone(),
                        line: input.line,
                        column: 1,
                        field: format!("inputs.{}", input.id),
                        message,
                    },
                    run,
                    year,
                })
            }
        }
    }

    /// Settles variant `v` at `point` (quiet statements, one per term year,
    /// with their words).
    pub fn settle(&self, v: usize, point: &[Decimal], run: Option<u64>) -> Result<Vec<Statement>, SimError> {
        let mut r = Runner::new(self, Detail::Words);
        r.settle(v, point, run)
    }

    /// The outcome of variant `v` at `point`.
    pub fn outcome(&self, v: usize, point: &[Decimal], run: Option<u64>) -> Result<Outcome, SimError> {
        let mut r = Runner::new(self, Detail::Numbers);
        let st = r.settle(v, point, run)?;
        Ok(self.variants[v].outcome(&st))
    }
}

/// Per thread: the yearly inputs of each variant, filled in place per run.
///
/// A variant's year holds only the figures the variant's contract can read:
/// the inputs that are indicators of its contract in that year, and of the
/// other years only the figures the engine reads for it
/// (`required_indicators`). The engine reads no other figure, so the
/// statements are the same as with every input of every year, and a
/// simulation of many contracts, each with its own indicators, costs what
/// its contracts cost, not contracts x inputs. The one thing that could
/// tell the difference is the engine's refusal of a figure beyond
/// [`settlement::MAX_FIGURE`], which looks at every figure given: when a run
/// has such a value, the year is settled with every input of every year, as
/// given before.
struct Runner<'m> {
    m: &'m Model,
    /// Input id -> index in the scenarios file.
    index: HashMap<&'m str, usize>,
    /// Per variant: its yearly inputs and where their values come from,
    /// built the first time this runner settles the variant (a runner
    /// that settles a part of a large book builds only that part).
    plans: Vec<Plan>,
    /// The values of the run being settled, per point slot.
    values: Vec<Decimal>,
    /// Whether a value of the run other than a line-based one is beyond
    /// [`settlement::MAX_FIGURE`].
    beyond_fixed: bool,
    /// Whether a value of the run is beyond [`settlement::MAX_FIGURE`].
    beyond: bool,
    /// The Monte Carlo run whose values (other than line-based ones) are in
    /// `values`, so that the variants of one run share that work.
    prepared: Option<u64>,
    /// What the statements carry: [`Detail::Numbers`] wherever only an
    /// [`Outcome`] (or a line's amount) is read, the words only for
    /// [`Model::settle`], which returns the statements.
    detail: Detail,
}

/// Runners kept between the parallel jobs of one computation: a job takes
/// one ([`Pool::lease`]) and gives it back when done, so the variants'
/// plans are built about once per thread, not once per job (for a book of
/// thousands of contracts, building them was most of a sweep's work).
struct Pool<'m> {
    m: &'m Model,
    free: std::sync::Mutex<Vec<Runner<'m>>>,
}

impl<'m> Pool<'m> {
    fn new(m: &'m Model) -> Pool<'m> {
        Pool { m, free: std::sync::Mutex::new(Vec::new()) }
    }

    /// A runner: a free one, else a new one.
    fn lease(&self) -> Lease<'_, 'm> {
        // A poisoned lock only means a job panicked; its runners are whole.
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Lease { runner: Some(free.unwrap_or_else(|| Runner::new(self.m, Detail::Numbers))), pool: self }
    }
}

/// A runner taken from a [`Pool`], given back when dropped.
struct Lease<'p, 'm> {
    /// Always `Some` until dropped.
    runner: Option<Runner<'m>>,
    pool: &'p Pool<'m>,
}

impl<'m> std::ops::Deref for Lease<'_, 'm> {
    type Target = Runner<'m>;
    fn deref(&self) -> &Runner<'m> {
        self.runner.as_ref().expect("a lease holds its runner until dropped")
    }
}

impl<'m> std::ops::DerefMut for Lease<'_, 'm> {
    fn deref_mut(&mut self) -> &mut Runner<'m> {
        self.runner.as_mut().expect("a lease holds its runner until dropped")
    }
}

impl Drop for Lease<'_, '_> {
    fn drop(&mut self) {
        if let Some(r) = self.runner.take() {
            self.pool.free.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        }
    }
}

/// One variant's yearly inputs in a [`Runner`] (empty until first used).
#[derive(Default)]
struct Plan {
    /// Whether the fields below have been built.
    ready: bool,
    /// One template per term year (its table built with it, once).
    templates: Vec<Template>,
    /// Per template: the point slot of each figure, in the maps' iteration
    /// order (this year's figures, then other years').
    slots: Vec<Vec<usize>>,
    /// Per template: whether some input of some year is left out (then a
    /// run with a value beyond the limit settles with all).
    partial: Vec<bool>,
    /// Per template: whether it holds every figure the engine requires for
    /// its year (its keys never change, so this is checked once; then the
    /// engine is not asked to look for missing figures in every run).
    complete: Vec<bool>,
    /// The inputs with a statement line as base that are indicators of
    /// its contract, in file order.
    line_inputs: Vec<usize>,
    /// Whether a year is settled in one pass with its line-based inputs
    /// computed as the engine reaches their lines ([`RunLater`]): every
    /// such input's line is one [`settlement::base_amount`] computes, and
    /// no run so far read one before its line.
    one_pass: bool,
}

impl<'m> Runner<'m> {
    fn new(m: &'m Model, detail: Detail) -> Runner<'m> {
        Runner {
            m,
            index: m.input_index(),
            plans: (0..m.variants.len()).map(|_| Plan::default()).collect(),
            values: vec![Decimal::ZERO; m.scenarios.inputs.len() * m.years.len()],
            beyond_fixed: false,
            beyond: false,
            prepared: None,
            detail,
        }
    }

    /// Builds the plan of variant `v` unless it is built.
    fn ensure(&mut self, v: usize) {
        if self.plans[v].ready {
            return;
        }
        let m = self.m;
        let index = &self.index;
        let ny = m.years.len();
        let slot = |id: &str, y: u16| {
            let i = index.get(id).copied().unwrap_or(0);
            i * ny + m.years.binary_search(&y).unwrap_or(0)
        };
        let c = &m.variants[v].contract;
        // The inputs this contract can read, in file order.
        let mut own: Vec<usize> = c.indicators.iter().filter_map(|ind| index.get(ind.id.as_str()).copied()).collect();
        own.sort_unstable();
        own.dedup();
        let line_inputs: Vec<usize> =
            own.iter().copied().filter(|&i| matches!(m.scenarios.inputs[i].base, Base::Line(_))).collect();
        let mut partial = Vec::new();
        let templates: Vec<Template> = c
            .term
            .years()
            .map(|ty| {
                let mut inp = Inputs::new(ty);
                let mut given = 0usize;
                for &i in &own {
                    inp.figures
                        .insert(m.scenarios.inputs[i].id.clone(), Figure { value: Decimal::ZERO, source_entry: None });
                    given += 1;
                }
                for r in settlement::required_indicators(c, ty) {
                    if !index.contains_key(r.indicator.as_str()) {
                        continue;
                    }
                    let f = Figure { value: Decimal::ZERO, source_entry: None };
                    let fresh = if r.year == ty {
                        inp.figures.insert(r.indicator, f).is_none()
                    } else {
                        inp.other_years.entry(r.year).or_default().insert(r.indicator, f).is_none()
                    };
                    given += usize::from(fresh);
                }
                partial.push(given < m.scenarios.inputs.len() * ny);
                Template::new(inp)
            })
            .collect();
        let slots = templates
            .iter()
            .map(|t| {
                let this = t.figures.keys().map(|id| slot(id, t.year));
                let other = t.other_years.iter().flat_map(|(y, f)| f.keys().map(|id| slot(id, *y)));
                this.chain(other).collect()
            })
            .collect();
        let complete = templates.iter().map(|t| settlement::has_required(c, t)).collect();
        let one_pass = !line_inputs.is_empty()
            && line_inputs.iter().all(|&i| match &m.scenarios.inputs[i].base {
                Base::Line(line) => settlement::is_base_line(c, line),
                _ => false,
            });
        self.plans[v] = Plan { ready: true, templates, slots, partial, complete, line_inputs, one_pass };
    }

    /// Writes `values` into the figures of template `t` (one pass, no lookups).
    fn fill(t: &mut Template, slots: &[usize], values: &[Decimal]) {
        t.fill(slots.iter().map(|&k| values[k]));
    }

    fn set(&mut self, slot: usize, value: Decimal) {
        self.values[slot] = value;
        if settlement::beyond_max_figure(value) {
            self.beyond = true;
        }
    }

    /// Settles template `k` of variant `v`: as filled, or, when a value of
    /// the run is beyond the limit, with every input of every year (a
    /// line-based input that is not an indicator of this contract at 0).
    fn settle_year(&self, v: usize, k: usize, carry: &Carry) -> Result<Statement, SettleError> {
        let m = self.m;
        let var = &m.variants[v];
        let plan = &self.plans[v];
        debug_assert!(plan.ready, "a variant is planned before it is settled");
        let t = &plan.templates[k];
        if !self.beyond || !plan.partial[k] {
            if plan.complete[k] {
                return settlement::settle_year_complete(&var.contract, t, carry, &var.version, self.detail);
            }
            return settlement::settle_year_detailed(&var.contract, t, carry, &var.version, self.detail);
        }
        let ny = m.years.len();
        let mut all = Inputs::new(t.year);
        for (i, input) in m.scenarios.inputs.iter().enumerate() {
            let own_line = plan.line_inputs.contains(&i);
            for (j, &y) in m.years.iter().enumerate() {
                let value = match input.base {
                    Base::Line(_) if !own_line => Decimal::ZERO,
                    _ => self.values[i * ny + j],
                };
                let f = Figure { value, source_entry: None };
                if y == t.year {
                    all.figures.insert(input.id.clone(), f);
                } else {
                    all.other_years.entry(y).or_default().insert(input.id.clone(), f);
                }
            }
        }
        settlement::settle_year_detailed(&var.contract, &all, carry, &var.version, self.detail)
    }

    /// Sets the values of `point` that do not depend on a variant (every
    /// input except those with a statement line as base), checking each.
    fn prepare(&mut self, point: &[Decimal], run: Option<u64>) -> Result<(), SimError> {
        let m = self.m;
        let ny = m.years.len();
        self.prepared = None;
        self.beyond = false;
        for (i, input) in m.scenarios.inputs.iter().enumerate() {
            for (j, &y) in m.years.iter().enumerate() {
                let x = point[i * ny + j];
                let value = match &input.base {
                    Base::Absolute => x,
                    Base::Number(b) => based(*b, x, m.units[i]),
                    Base::Line(_) => continue, // set per variant, year by year
                };
                m.check(i, y, value, run)?;
                self.set(i * ny + j, value);
            }
        }
        self.beyond_fixed = self.beyond;
        Ok(())
    }

    /// Sets the values of input `i` from `point` after [`Runner::prepare`]
    /// set those of another point that differs from `point` only in input
    /// `i` (a line-based input is read from `point` when settling). A value
    /// beyond the limit keeps the run on the path that settles with every
    /// figure, which gives the same statements when nothing is beyond.
    fn patch(&mut self, i: usize, point: &[Decimal], run: Option<u64>) -> Result<(), SimError> {
        let m = self.m;
        let ny = m.years.len();
        let input = &m.scenarios.inputs[i];
        self.prepared = None;
        self.beyond = self.beyond_fixed;
        for (j, &y) in m.years.iter().enumerate() {
            let x = point[i * ny + j];
            let value = match &input.base {
                Base::Absolute => x,
                Base::Number(b) => based(*b, x, m.units[i]),
                Base::Line(_) => return Ok(()),
            };
            m.check(i, y, value, run)?;
            self.set(i * ny + j, value);
        }
        self.beyond_fixed = self.beyond;
        Ok(())
    }

    /// Settles variant `v` at `point`.
    fn settle(&mut self, v: usize, point: &[Decimal], run: Option<u64>) -> Result<Vec<Statement>, SimError> {
        self.prepare(point, run)?;
        self.settle_prepared(v, point, run)
    }

    /// Settles variant `v` of Monte Carlo run `run`, preparing the run's
    /// values unless this runner did so for the previous variant.
    fn settle_run(&mut self, v: usize, point: &[Decimal], run: u64) -> Result<Vec<Statement>, SimError> {
        if self.prepared != Some(run) {
            self.prepare(point, Some(run))?;
            self.prepared = Some(run);
        }
        self.settle_prepared(v, point, Some(run))
    }

    /// Settles variant `v` at `point` once [`Runner::prepare`] has set the
    /// values of `point`.
    fn settle_prepared(&mut self, v: usize, point: &[Decimal], run: Option<u64>) -> Result<Vec<Statement>, SimError> {
        let m = self.m;
        let var = &m.variants[v];
        let ny = m.years.len();
        let settle_err = |error| SimError::Settle { variant: var.name.clone(), run, error };
        self.beyond = self.beyond_fixed;
        self.ensure(v);
        let line_inputs = std::mem::take(&mut self.plans[v].line_inputs);
        for &i in &line_inputs {
            for j in 0..ny {
                self.values[i * ny + j] = Decimal::ZERO;
            }
        }
        let plan = &mut self.plans[v];
        for (tk, sk) in plan.templates.iter_mut().zip(&plan.slots) {
            Runner::fill(tk, sk, &self.values);
        }
        let result = self.settle_years(v, point, run, &line_inputs, &settle_err);
        self.plans[v].line_inputs = line_inputs;
        result
    }

    fn settle_years(
        &mut self,
        v: usize,
        point: &[Decimal],
        run: Option<u64>,
        line_inputs: &[usize],
        settle_err: &dyn Fn(SettleError) -> SimError,
    ) -> Result<Vec<Statement>, SimError> {
        let m = self.m;
        let var = &m.variants[v];
        let c = &var.contract;
        let ny = m.years.len();
        let initial = Carry::initial(c);
        let nt = self.plans[v].templates.len();
        let mut out: Vec<Statement> = Vec::with_capacity(nt);
        for k in 0..nt {
            // What the year before carried out (borrowed, not copied).
            let carry = out.last().map_or(&initial, |s| &s.carry_out);
            let y = self.plans[v].templates[k].year;
            if let Some(s) = self.settle_one_pass(v, k, point, run, line_inputs, carry) {
                out.push(s);
                continue;
            }
            if !line_inputs.is_empty() {
                // The benchmark, target total or budget straight from the
                // engine's own functions; any other line from a settlement
                // of the year with the input at 0.
                let mut pre: Option<Statement> = None;
                let j = m.years.binary_search(&y).unwrap_or(0);
                for &i in line_inputs {
                    let input = &m.scenarios.inputs[i];
                    let Base::Line(line) = &input.base else { continue };
                    let direct = {
                        // The base's words are never read: built only as
                        // the runner's statements are.
                        let _words = settlement::why::WordsOff::new(self.detail == Detail::Numbers);
                        settlement::template_base_amount(c, &self.plans[v].templates[k], line)
                    }
                    .map_err(settle_err)?;
                    let base = match direct {
                        Some(b) => Some(b),
                        None => {
                            if pre.is_none() {
                                pre = Some(self.settle_year(v, k, carry).map_err(settle_err)?);
                            }
                            pre.as_ref().and_then(|p| p.line(line)).and_then(|l| l.amount.or(l.value))
                        }
                    };
                    let Some(base) = base else {
                        return Err(SimError::Input {
                            at: Diagnostic {
                                file: m.scenarios.file.clone(),
                                line: input.line,
                                column: 1,
                                field: format!("inputs.{}.base", input.id),
                                message: format!(
                                    "{} has no statement line '{line}' to take the change against",
                                    var.name
                                ),
                            },
                            run,
                            year: y,
                        });
                    };
                    let value = based(base, point[i * ny + j], m.units[i]);
                    m.check(i, y, value, run)?;
                    self.set(i * ny + j, value);
                }
                // Only the templates that hold a value just set (this
                // year's; a later year's when it reads this year's figure).
                let plan = &mut self.plans[v];
                let changed =
                    |sk: &[usize]| sk.iter().any(|&slot| slot % ny == j && line_inputs.contains(&(slot / ny)));
                for (tk, sk) in plan.templates[k..].iter_mut().zip(&plan.slots[k..]) {
                    if changed(sk) {
                        Runner::fill(tk, sk, &self.values);
                    }
                }
            }
            let s = self.settle_year(v, k, carry).map_err(settle_err)?;
            out.push(s);
        }
        Ok(out)
    }
    /// Settles year `k` of variant `v` in one pass: its line-based inputs
    /// are computed as the engine reaches their lines ([`RunLater`]), not
    /// from a computation of those lines of their own first; then they are
    /// set as [`Runner::settle_years`] sets them. `None` when the year must
    /// be settled the other way: the plan does not allow it, the run has a
    /// value beyond the limit, the statement shows words, a value is out of
    /// range or beyond the limit, a line was not reached, or the engine
    /// refused (the other way then gives the same statement or error as
    /// always).
    fn settle_one_pass(
        &mut self,
        v: usize,
        k: usize,
        point: &[Decimal],
        run: Option<u64>,
        line_inputs: &[usize],
        carry: &Carry,
    ) -> Option<Statement> {
        let m = self.m;
        let var = &m.variants[v];
        let plan = &self.plans[v];
        if !plan.one_pass || self.detail != Detail::Numbers || (self.beyond && plan.partial[k]) {
            return None;
        }
        let t = &plan.templates[k];
        let j = m.years.binary_search(&t.year).ok()?;
        let mut later = RunLater {
            m,
            point,
            run,
            year: t.year,
            j,
            inputs: line_inputs,
            values: line_inputs.iter().map(|_| None).collect(),
            early: false,
        };
        let settled = settlement::settle_year_later(
            &var.contract,
            t,
            carry,
            &var.version,
            plan.complete[k],
            self.detail,
            &mut later,
        );
        if later.early {
            // This contract reads an input before its line (an optional
            // read may even have settled without it): this year and every
            // later run are settled the other way.
            self.plans[v].one_pass = false;
            return None;
        }
        let s = settled.ok()?;
        let values: SmallVec<[Decimal; 4]> = later.values.iter().copied().collect::<Option<_>>()?;
        let ny = m.years.len();
        for (&i, &value) in line_inputs.iter().zip(&values) {
            self.set(i * ny + j, value);
        }
        debug_assert!(!self.beyond || !self.plans[v].partial[k], "a value beyond the limit settles the other way");
        // The later templates that read a value just set.
        let plan = &mut self.plans[v];
        let changed = |sk: &[usize]| sk.iter().any(|&slot| slot % ny == j && line_inputs.contains(&(slot / ny)));
        for (tk, sk) in plan.templates[k + 1..].iter_mut().zip(&plan.slots[k + 1..]) {
            if changed(sk) {
                Runner::fill(tk, sk, &self.values);
            }
        }
        Some(s)
    }
}

/// The line-based inputs of one year of one run, computed as the engine
/// computes their lines (see [`settlement::LaterFigures`]): each is its
/// line's amount changed by the run's draw and rounded by its unit, as
/// [`Runner::settle_years`] computes it from [`settlement::base_amount`].
struct RunLater<'r> {
    m: &'r Model,
    point: &'r [Decimal],
    run: Option<u64>,
    /// The year settled, and its index in the model's years.
    year: u16,
    j: usize,
    /// The line-based inputs of the contract.
    inputs: &'r [usize],
    /// Per input: its value once its line is computed.
    values: SmallVec<[Option<Decimal>; 4]>,
    /// Whether the engine read an input before its line was computed.
    early: bool,
}

impl settlement::LaterFigures for RunLater<'_> {
    fn figure(&mut self, indicator: &str, year: u16) -> Option<Option<Decimal>> {
        if year != self.year {
            return None;
        }
        let n = self.inputs.iter().position(|&i| self.m.scenarios.inputs[i].id == indicator)?;
        self.early |= self.values[n].is_none();
        Some(self.values[n])
    }

    fn base_line(&mut self, line: &str, amount: Decimal) -> Result<(), SettleError> {
        let m = self.m;
        let ny = m.years.len();
        for (n, &i) in self.inputs.iter().enumerate() {
            let input = &m.scenarios.inputs[i];
            if !matches!(&input.base, Base::Line(l) if l == line) {
                continue;
            }
            let value = based(amount, self.point[i * ny + self.j], m.units[i]);
            // Out of range or beyond the limit: the year is settled the
            // other way, which reports or handles it as always.
            if m.check(i, self.year, value, self.run).is_err() || settlement::beyond_max_figure(value) {
                return Err(SettleError::InvalidFigure {
                    figure: format!("{} ({})", input.id, self.year),
                    reason: "out of range for a one-pass settlement".to_string(),
                });
            }
            self.values[n] = Some(value);
        }
        Ok(())
    }
}

/// An amount in whole cents. Statement money has two decimals (its mantissa
/// is the cents); an amount beyond the range of `i64` cents (about 9.2 x
/// 10^16 euros, far past [`settlement::MAX_FIGURE`]) saturates at that range
/// rather than wrapping or panicking.
fn cents(d: Decimal) -> i64 {
    if d.scale() == 2 {
        if let Ok(c) = i64::try_from(d.mantissa()) {
            return c;
        }
    }
    match d.checked_mul(Decimal::ONE_HUNDRED).and_then(|c| c.trunc().to_i64()) {
        Some(c) => c,
        None if d.is_sign_negative() => i64::MIN,
        None => i64::MAX,
    }
}

/// Adds `x` to the year slot and the term slot of `party`.
fn add_to(v: &mut [i64], year_slot: usize, term_slot: usize, x: i64) {
    v[year_slot] = v[year_slot].saturating_add(x);
    v[term_slot] = v[term_slot].saturating_add(x);
}

/// `amount` (cents, any sign) split among `payers` (index, weight) by the
/// contract's payer key and remainder rule, as the engine splits a payment.
/// One payer takes it all. A key that cannot split (no weight above 0,
/// which a checked contract does not have) gives it to the first payer.
fn split_savings(
    amount: Decimal,
    payers: &[(usize, Decimal)],
    rule: Remainder,
    parties: &[Party],
) -> SmallVec<[(usize, i64); 4]> {
    if let [(k, _)] = payers {
        return smallvec::smallvec![(*k, cents(amount))];
    }
    debug_assert!(payers.iter().all(|(k, _)| *k < parties.len()), "payers are parties of the variant");
    let weights: SmallVec<[Decimal; 8]> = payers.iter().map(|(_, w)| *w).collect();
    let whole = amount.abs().round_dp(2);
    match settlement::distribution::split_amounts_inline(whole, &weights, rule) {
        Ok(parts) => {
            debug_assert_eq!(parts.len(), payers.len(), "one part per payer");
            let sign = if amount.is_sign_negative() { -1 } else { 1 };
            payers.iter().zip(parts).map(|((k, _), part)| (*k, sign * cents(part))).collect()
        }
        Err(_) => payers.first().map(|(k, _)| smallvec::smallvec![(*k, cents(amount))]).unwrap_or_default(),
    }
}

/// Per first byte of a line id: the index in [`COMPONENTS`] of the one
/// component whose name starts with that byte (`u8::MAX`: none). The
/// components' first bytes are distinct (checked here, at compile time),
/// so a line's component is found by one table read and one comparison.
const COMPONENT_BY_FIRST_BYTE: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < COMPONENTS.len() {
        let first = COMPONENTS[i].as_bytes()[0] as usize;
        assert!(table[first] == u8::MAX, "the components' names start with distinct bytes");
        table[first] = i as u8;
        i += 1;
    }
    table
};

/// The component (index in [`COMPONENTS`]) of line id `id`: the one whose
/// name is the id up to its first dot. As no name holds a dot, that is the
/// one name the id starts with, followed by a dot or the end.
fn component_of(id: &str) -> Option<usize> {
    let bytes = id.as_bytes();
    let ci = usize::from(*COMPONENT_BY_FIRST_BYTE.get(usize::from(*bytes.first()?))?);
    let name = COMPONENTS.get(ci)?.as_bytes();
    let after = bytes.get(name.len());
    (bytes.starts_with(name) && after.is_none_or(|&b| b == b'.')).then_some(ci)
}

/// The lengths of the savings lines' ids: bit `n` set when some id of
/// `savings` is `n` bytes long, so that a line whose id has another length
/// is known at once not to be one of them. Every bit is set when an id is
/// 64 bytes or longer (then every line is compared).
fn savings_lengths(savings: &[(&'static str, Vec<(usize, Decimal)>)]) -> u64 {
    savings.iter().fold(0u64, |m, (line, _)| m | 1u64.checked_shl(line.len() as u32).unwrap_or(u64::MAX))
}

/// The index in `savings` of the first savings line with id `id` (as a
/// scan of `savings` finds it), given their [`savings_lengths`].
fn savings_index(savings: &[(&'static str, Vec<(usize, Decimal)>)], lengths: u64, id: &str) -> Option<usize> {
    let maybe = match 1u64.checked_shl(id.len() as u32) {
        Some(bit) => lengths & bit != 0,
        None => lengths == u64::MAX,
    };
    if !maybe {
        return None;
    }
    savings.iter().position(|(line, _)| id == *line)
}

/// The index in `parties` of the party `who`, found first among the ids
/// already `known` by address and length (see `outcome_with_savings`).
fn party_index<'s>(
    known: &mut SmallVec<[(&'s str, Option<usize>); 8]>,
    parties: &[Party],
    who: &'s str,
) -> Option<usize> {
    if let Some((_, p)) = known.iter().find(|(id, _)| std::ptr::eq(*id, who)) {
        return *p;
    }
    let p = parties.iter().position(|q| q.id == who);
    known.push((who, p));
    p
}

/// Cash, economic result and net per component per party (of `parties`)
/// from a term's statements; `savings` and `rule` as in [`Variant`].
/// Written into `out` (its buffers reused, every figure set).
fn outcome_with_savings(
    parties: &[Party],
    savings: &[(&'static str, Vec<(usize, Decimal)>)],
    rule: Remainder,
    statements: &[Statement],
    out: &mut Outcome,
) {
    let np = parties.len();
    let nc = COMPONENTS.len();
    let periods = statements.len() + 1;
    let zeroed = |v: &mut Vec<i64>, n: usize| {
        v.clear();
        v.resize(n, 0);
    };
    zeroed(&mut out.nets, periods * np);
    zeroed(&mut out.results, periods * np);
    zeroed(&mut out.components, periods * np * nc);
    let Outcome { nets, results, components: comps } = out;
    let term = statements.len();
    debug_assert!(savings.len() <= SAVINGS_LINES.len(), "at most one entry per savings line");
    // The party index of each party id met in a transfer, by the id's
    // address: the lines of every statement share one `SharedId` per party,
    // so each id is looked up by text about once. The ids are borrowed from
    // the statements, which all live until the end: two with the same
    // address and length are the same text.
    let mut known: SmallVec<[(&str, Option<usize>); 8]> = SmallVec::new();
    let lengths = savings_lengths(savings);
    for (k, s) in statements.iter().enumerate() {
        for r in &s.parties {
            if let Some(p) = party_index(&mut known, parties, r.party.as_str()) {
                add_to(nets, k * np + p, term * np + p, cents(r.net));
                add_to(results, k * np + p, term * np + p, cents(r.result));
            }
        }
        // One pass over the lines: the payers' savings lines (the first
        // line with each id, as `Statement::line` finds it), and every
        // transfer's net per component.
        let mut found: [Option<Option<Decimal>>; SAVINGS_LINES.len()] = [None; SAVINGS_LINES.len()];
        for l in &s.lines {
            let id: &str = &l.id;
            if let Some(i) = savings_index(savings, lengths, id) {
                found[i].get_or_insert(l.amount);
            }
            if !l.is_transfer() {
                continue;
            }
            let (Some(a), Some(to), Some(from)) = (l.amount, l.to.as_deref(), l.from.as_deref()) else { continue };
            // The component: the id up to its first dot.
            let Some(ci) = component_of(id) else { continue };
            let a = cents(a);
            for (who, signed) in [(to, a), (from, a.saturating_neg())] {
                if let Some(p) = party_index(&mut known, parties, who) {
                    let (year_slot, term_slot) = ((k * np + p) * nc + ci, (term * np + p) * nc + ci);
                    comps[year_slot] = comps[year_slot].saturating_add(signed);
                    comps[term_slot] = comps[term_slot].saturating_add(signed);
                }
            }
        }
        // The payers' savings, in the order of `savings`.
        for ((_, payers), amount) in savings.iter().zip(found) {
            let Some(amount) = amount.flatten() else { continue };
            for (p, share) in split_savings(amount, payers, rule, parties) {
                add_to(results, k * np + p, term * np + p, share);
            }
        }
    }
}

/// Statistics of one party in one period (cash or economic result), in euros.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Mean net result.
    pub mean: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Share of runs with a net result below 0.
    pub p_loss: f64,
    /// Lowest net result.
    pub worst: f64,
    /// Highest net result.
    pub best: f64,
    /// Expected net per component (same order as [`COMPONENTS`]).
    pub components: [f64; 7],
}

/// The statistics of one slot's values in cents (sorted here).
fn stats_of(xs: &mut [i64], components: [f64; 7]) -> Stats {
    let n = xs.len();
    let total: i128 = xs.iter().map(|x| i128::from(*x)).sum();
    let losses = xs.iter().filter(|x| **x < 0).count();
    // Only the order statistics the figures read are put in place (each
    // selected within what is left above the one before), not the whole
    // list sorted: the same values, in linear time.
    let mut need: SmallVec<[usize; 12]> =
        STATS_QUANTILES.iter().filter_map(|&q| dist::percentile_at(n, q)).flat_map(|(lo, hi)| [lo, hi]).collect();
    if n > 0 {
        need.extend([0, n - 1]);
    }
    need.sort_unstable();
    need.dedup();
    let mut from = 0;
    for &k in &need {
        debug_assert!(k >= from && k < n, "positions increase within the list");
        xs[from..].select_nth_unstable(k - from);
        from = k + 1;
    }
    let eur = |i: usize| xs[i] as f64 / 100.0;
    let [p5, p25, p50, p75, p95] = STATS_QUANTILES.map(|q| dist::percentile_by(n, q, eur));
    let n_f = n as f64;
    Stats {
        mean: total as f64 / 100.0 / n_f,
        p5,
        p25,
        p50,
        p75,
        p95,
        p_loss: losses as f64 / n_f,
        worst: if n > 0 { eur(0) } else { 0.0 },
        best: if n > 0 { eur(n - 1) } else { 0.0 },
        components,
    }
}

/// The quantiles of [`Stats`]: p5, p25, p50, p75, p95.
const STATS_QUANTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// Monte Carlo statistics of one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantStats {
    /// Variant name.
    pub variant: String,
    /// Party ids, in contract order.
    pub parties: Vec<(String, Role)>,
    /// Period names: the years, then `term`.
    pub periods: Vec<String>,
    /// Cash (received - paid, advances and repayments included) per
    /// (period, party): index `period * parties + party`; `p_loss` is the
    /// share of runs in which the party pays on balance.
    pub stats: Vec<Stats>,
    /// Economic result per (period, party), same index ([`Outcome::results`]);
    /// `p_loss` is the probability of a loss; no components.
    pub results: Vec<Stats>,
}

impl VariantStats {
    /// The cash statistics of `party` in `period`.
    pub fn get(&self, period: usize, party: usize) -> &Stats {
        &self.stats[period * self.parties.len() + party]
    }

    /// The economic-result statistics of `party` in `period`.
    pub fn result(&self, period: usize, party: usize) -> &Stats {
        &self.results[period * self.parties.len() + party]
    }
}

/// One Monte Carlo run as the run callback sees it.
pub struct Run<'a> {
    /// Run index, from 0.
    pub run: u64,
    /// The drawn point (see [`Point`]).
    pub point: &'a [Decimal],
    /// The variant of `outcomes[0]`: 0, unless the book is simulated in
    /// blocks of variants ([`Model::monte_carlo_streamed`]).
    pub first_variant: usize,
    /// Per variant from `first_variant` on, the outcome.
    pub outcomes: &'a [Outcome],
}

impl Model {
    /// Monte Carlo: `runs` draws with `seed`, every variant on the same
    /// draws; the statistics of every variant, in variant order. `on_run`
    /// sees each run in run order (with a book larger than
    /// [`MAX_NETS_IN_MEMORY`] allows at once, once per block of variants:
    /// see [`Model::monte_carlo_streamed`]); `progress` the runs done.
    pub fn monte_carlo(
        &self,
        runs: u64,
        seed: u64,
        progress: &(dyn Fn(u64) + Sync),
        on_run: &mut dyn FnMut(&Run<'_>),
    ) -> Result<Vec<VariantStats>, SimError> {
        let mut out = Vec::with_capacity(self.variants.len());
        self.monte_carlo_streamed(runs, seed, MAX_NETS_IN_MEMORY, progress, on_run, &mut |s| out.push(s))?;
        Ok(out)
    }

    /// The blocks of variants a Monte Carlo of `runs` runs evaluates one
    /// after the other so that at most `max_nets` net results are kept at
    /// once (a block holds at least one variant): consecutive ranges of
    /// variant indices covering every variant, in order.
    pub fn blocks(&self, runs: u64, max_nets: usize) -> Vec<std::ops::Range<usize>> {
        let runs = runs.clamp(1, MAX_RUNS) as usize;
        let mut out = Vec::new();
        let (mut first, mut held) = (0usize, 0usize);
        for v in 0..self.variants.len() {
            // Two figures per run, period and party: the cash and the result.
            let need = runs.saturating_mul(2 * self.periods(v) * self.variants[v].parties.len());
            if v > first && held.saturating_add(need) > max_nets {
                out.push(first..v);
                first = v;
                held = 0;
            }
            held = held.saturating_add(need);
        }
        if first < self.variants.len() {
            out.push(first..self.variants.len());
        }
        debug_assert_eq!(out.iter().map(|b| b.len()).sum::<usize>(), self.variants.len());
        out
    }

    /// Monte Carlo of a whole book in bounded memory: the variants are
    /// taken in blocks ([`Model::blocks`]) of at most `max_nets` kept net
    /// results; every run of a block is evaluated (in run order, as
    /// [`Model::monte_carlo`] does), then the statistics of each of its
    /// variants go to `on_stats` in variant order and its net results are
    /// dropped. `on_run` sees every run of a block in run order, with the
    /// outcomes of the block's variants only ([`Run::first_variant`] is the
    /// block's first variant), so it sees every (run, variant) pair once.
    /// The memory kept is the largest block's net results (about `max_nets`
    /// x 8 bytes), not the book's; a run's draws are made once per block.
    /// Every variant's statistics are the same for every `max_nets`, since
    /// each is computed from that variant's own runs.
    pub fn monte_carlo_streamed(
        &self,
        runs: u64,
        seed: u64,
        max_nets: usize,
        progress: &(dyn Fn(u64) + Sync),
        on_run: &mut dyn FnMut(&Run<'_>),
        on_stats: &mut dyn FnMut(VariantStats),
    ) -> Result<(), SimError> {
        let runs = runs.clamp(1, MAX_RUNS);
        let nv = self.variants.len();
        let pool = Pool::new(self);
        let samplers = self.samplers();
        // The chunk's points and outcomes, their buffers reused chunk after
        // chunk (not allocated, zeroed and freed for every run).
        let mut points: Vec<Point> = Vec::new();
        let mut outs: Vec<Outcome> = Vec::new();
        for block in self.blocks(runs, max_nets) {
            let bv = block.len();
            let first = block.start;
            let np: Vec<usize> = block.clone().map(|v| self.variants[v].parties.len()).collect();
            // Each slot's vector holds every run of the block from the
            // start (`vec![v; n]` would clone an empty vector without its
            // capacity, and each would grow by copying).
            let slots = |v: usize, np: &usize| -> Vec<Vec<i64>> {
                (0..self.periods(v) * np).map(|_| Vec::with_capacity(runs as usize)).collect()
            };
            let mut nets: Vec<Vec<Vec<i64>>> = block.clone().zip(&np).map(|(v, np)| slots(v, np)).collect();
            let mut results: Vec<Vec<Vec<i64>>> = block.clone().zip(&np).map(|(v, np)| slots(v, np)).collect();
            let mut sums: Vec<Vec<i128>> =
                block.clone().zip(&np).map(|(v, np)| vec![0i128; self.periods(v) * np * COMPONENTS.len()]).collect();
            // A chunk holds at most MAX_OUTCOMES_IN_FLIGHT outcomes (runs x
            // variants): thousands of contracts are simulated a few runs at
            // a time, and (run, variant) pairs are spread over the cores,
            // so even one run of many contracts uses every core.
            let chunk_runs = (MAX_OUTCOMES_IN_FLIGHT / bv.max(1)).clamp(1, CHUNK as usize) as u64;
            let mut start = 0;
            while start < runs {
                let end = (start + chunk_runs).min(runs);
                let n = (end - start) as usize;
                points.resize_with(n, Vec::new);
                points.par_iter_mut().enumerate().for_each(|(k, p)| {
                    self.draw_into(&samplers, seed, start + k as u64, p);
                });
                let points = &points;
                outs.resize_with(n * bv, Outcome::default);
                let settled: Vec<Result<(), SimError>> = outs
                    .par_iter_mut()
                    .enumerate()
                    .map_init(
                        || pool.lease(),
                        |r, (pair, o)| {
                            let (k, v) = (pair / bv, first + pair % bv);
                            let run = start + k as u64;
                            let st = r.settle_run(v, &points[k], run)?;
                            self.variants[v].outcome_into(&st, o);
                            Ok(())
                        },
                    )
                    .collect();
                // The first error in (run, variant) order, as a run-by-run
                // evaluation would meet it.
                settled.into_iter().collect::<Result<(), _>>()?;
                debug_assert_eq!(outs.len(), n * bv, "one result per run and variant");
                // Into each slot's vector, in run order: the slots of a
                // variant side by side on the cores when the chunk has many
                // runs (one contract), the variants when it has few.
                let outs_ref = &outs;
                nets.par_iter_mut().zip(results.par_iter_mut()).zip(sums.par_iter_mut()).enumerate().for_each(
                    |(b, ((nb, rb), sb))| {
                        let of = |k: usize| &outs_ref[k * bv + b];
                        let fill = |slot: usize, xs: &mut Vec<i64>, pick: fn(&Outcome) -> &[i64]| {
                            xs.extend((0..n).map(|k| pick(of(k))[slot]));
                        };
                        let add = |slot: usize, sum: &mut i128| {
                            *sum += (0..n).map(|k| i128::from(of(k).components[slot])).sum::<i128>();
                        };
                        if n >= PARALLEL_SLOTS_FROM {
                            nb.par_iter_mut().enumerate().for_each(|(slot, xs)| fill(slot, xs, |o| &o.nets));
                            rb.par_iter_mut().enumerate().for_each(|(slot, xs)| fill(slot, xs, |o| &o.results));
                            sb.par_iter_mut().enumerate().for_each(|(slot, sum)| add(slot, sum));
                        } else {
                            nb.iter_mut().enumerate().for_each(|(slot, xs)| fill(slot, xs, |o| &o.nets));
                            rb.iter_mut().enumerate().for_each(|(slot, xs)| fill(slot, xs, |o| &o.results));
                            sb.iter_mut().enumerate().for_each(|(slot, sum)| add(slot, sum));
                        }
                    },
                );
                for (k, p) in points.iter().enumerate() {
                    let outcomes = &outs[k * bv..(k + 1) * bv];
                    on_run(&Run { run: start + k as u64, point: p, first_variant: first, outcomes });
                }
                start = end;
                // Runs done over the whole book, as if every block were one
                // pass over the runs: ends at `runs`.
                let done = (u128::from(runs) * first as u128 + u128::from(start) * bv as u128) / nv.max(1) as u128;
                progress(u64::try_from(done).unwrap_or(runs));
            }
            for (b, v) in block.enumerate() {
                on_stats(self.variant_stats(v, &mut nets[b], &mut results[b], &sums[b]));
                // The block's net results go as its statistics are made.
                nets[b] = Vec::new();
                results[b] = Vec::new();
            }
        }
        Ok(())
    }

    /// The statistics of variant `v` from its cash and economic results
    /// per slot (every run's, sorted here) and its component sums.
    fn variant_stats(&self, v: usize, nets: &mut [Vec<i64>], results: &mut [Vec<i64>], sums: &[i128]) -> VariantStats {
        let c = &self.variants[v].contract;
        debug_assert_eq!(nets.len(), results.len(), "a cash and a result per slot");
        // Each slot sorts its own runs: the slots side by side on the cores.
        let stats = nets
            .par_iter_mut()
            .enumerate()
            .map(|(slot, xs)| {
                let mut components = [0.0; 7];
                let n = xs.len().max(1) as f64;
                for (ci, comp) in components.iter_mut().enumerate() {
                    *comp = sums[slot * COMPONENTS.len() + ci] as f64 / 100.0 / n;
                }
                stats_of(xs, components)
            })
            .collect();
        let results = results.par_iter_mut().map(|xs| stats_of(xs, [0.0; 7])).collect();
        let mut periods: Vec<String> = c.term.years().map(|y| y.to_string()).collect();
        periods.push("term".to_string());
        VariantStats {
            variant: self.variants[v].name.clone(),
            parties: self.variants[v].parties.iter().map(|p| (p.id.clone(), p.role)).collect(),
            periods,
            stats,
            results,
        }
    }

    /// The sweep grid points: (x, y) values of the axes (y `None` for one axis).
    pub fn sweep_points(&self) -> Vec<(Decimal, Option<Decimal>)> {
        let s = &self.scenarios.sweep;
        match s.len() {
            0 => Vec::new(),
            1 => s[0].values.iter().map(|x| (*x, None)).collect(),
            _ => s[0].values.iter().flat_map(|x| s[1].values.iter().map(move |y| (*x, Some(*y)))).collect(),
        }
    }

    fn with_axis(&self, p: &mut Point, input: usize, value: Decimal) {
        let ny = self.years.len();
        for j in 0..ny {
            p[input * ny + j] = value;
        }
    }

    /// The sweep: every other input at its central value; per grid point
    /// (in [`Model::sweep_points`] order) the outcome of each variant.
    pub fn sweep(&self) -> Result<Vec<Vec<Outcome>>, SimError> {
        let axes = &self.scenarios.sweep;
        let central = self.central();
        let pool = Pool::new(self);
        self.sweep_points()
            .into_par_iter()
            .map_init(
                || pool.lease(),
                |r, (x, y)| {
                    let mut p = central.clone();
                    self.with_axis(&mut p, axes[0].input, x);
                    if let Some(y) = y {
                        self.with_axis(&mut p, axes[1].input, y);
                    }
                    // The point's values are set once for every variant.
                    r.prepare(&p, None)?;
                    (0..self.variants.len())
                        .map(|v| r.settle_prepared(v, &p, None).map(|st| self.variants[v].outcome(&st)))
                        .collect()
                },
            )
            .collect()
    }

    /// The outcome of variant `v` at one point of the sweep's axes (`x` on
    /// the first axis, `y` on the second when there is one), every other
    /// input at its central value: what [`Model::sweep`] gives at a grid
    /// point, at any point between (for charts that look for where the
    /// result bends or jumps).
    pub fn sweep_outcome(&self, v: usize, x: Decimal, y: Option<Decimal>) -> Result<Outcome, SimError> {
        let axes = &self.scenarios.sweep;
        let mut p = self.central();
        if let Some(a) = axes.first() {
            self.with_axis(&mut p, a.input, x);
        }
        if let (Some(a), Some(y)) = (axes.get(1), y) {
            self.with_axis(&mut p, a.input, y);
        }
        self.outcome(v, &p, None)
    }

    /// The tornado: per variant, per random input it reads (an indicator of
    /// its contract; file order), its 5th and 95th percentile in every year
    /// with the other inputs at their central values; returns the central
    /// outcome per variant and per variant the bars (input index, outcome
    /// at low, at high). An input a variant does not read cannot move its
    /// result and has no bar, so the work and the result grow with the
    /// inputs each contract reads, not with contracts x inputs.
    #[allow(clippy::type_complexity)]
    pub fn tornado(&self) -> Result<(Vec<Outcome>, Vec<Vec<(usize, Outcome, Outcome)>>), SimError> {
        let central = self.central();
        let mut r = Runner::new(self, Detail::Numbers);
        let nv = self.variants.len();
        r.prepare(&central, None)?;
        let base: Vec<Outcome> = (0..nv)
            .map(|v| r.settle_prepared(v, &central, None).map(|st| self.variants[v].outcome(&st)))
            .collect::<Result<_, _>>()?;
        let ny = self.years.len();
        let index = self.input_index();
        let mut tasks: Vec<(usize, usize)> = Vec::new();
        for (v, var) in self.variants.iter().enumerate() {
            let mut own: Vec<usize> = var
                .contract
                .indicators
                .iter()
                .filter_map(|ind| index.get(ind.id.as_str()).copied())
                .filter(|&i| self.scenarios.inputs[i].is_random())
                .collect();
            own.sort_unstable();
            own.dedup();
            tasks.extend(own.into_iter().map(|i| (v, i)));
        }
        let pool = Pool::new(self);
        let ends = tasks
            .par_iter()
            .map_init(
                || {
                    // Every task starts from the central point, prepared once
                    // per worker; a task changes one input and puts it back.
                    let mut r = pool.lease();
                    let ready = r.prepare(&central, None);
                    (r, central.clone(), ready)
                },
                |(r, p, ready), &(v, i)| {
                    ready.clone()?;
                    let mut ends = Vec::with_capacity(2);
                    for q in [0.05, 0.95] {
                        for (j, &y) in self.years.iter().enumerate() {
                            if let Spec::Dist(d) = self.scenarios.inputs[i].spec(y) {
                                let z = dist::norm_quantile(q);
                                p[i * ny + j] = self.value_of(i, &Spec::Dist(d.clone()), Some(z));
                            }
                        }
                        let settled = r.patch(i, p, None).and_then(|()| r.settle_prepared(v, p, None));
                        p[i * ny..(i + 1) * ny].copy_from_slice(&central[i * ny..(i + 1) * ny]);
                        r.patch(i, p, None)?;
                        ends.push(self.variants[v].outcome(&settled?));
                    }
                    let high = ends.pop().unwrap_or_else(|| base[v].clone());
                    let low = ends.pop().unwrap_or_else(|| base[v].clone());
                    Ok((i, low, high))
                },
            )
            .collect::<Result<Vec<_>, SimError>>()?;
        let mut bars: Vec<Vec<(usize, Outcome, Outcome)>> = vec![Vec::new(); nv];
        for (&(v, _), bar) in tasks.iter().zip(ends) {
            bars[v].push(bar);
        }
        Ok((base, bars))
    }
}

/// How close (in quality score, 0..1) the central scenario's quality score
/// may come to the quality gate before [`Model::cliffs`] says it sits on
/// the gate: a small move of a quality input then switches the savings
/// share on or off.
pub const GATE_EDGE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

/// Where the central scenario sits on a cliff of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cliff {
    /// The variant (index in [`Model::variants`]).
    pub variant: usize,
    /// The contract year.
    pub year: u16,
    /// The year's quality score at the central values.
    pub score: Decimal,
    /// The contract's quality gate (`min_quality_score`).
    pub gate: Decimal,
    /// Whether the gate is met at the central values.
    pub met: bool,
}

impl Model {
    /// The cliffs the central scenario sits on, per variant and year in
    /// order: a quality gate that is not met (the savings share is 0, so
    /// the cost inputs move nothing around the centre and a tornado shows
    /// no effect from them), or a quality score within [`GATE_EDGE`] of the
    /// gate (a small move of a quality input switches the share on or off).
    pub fn cliffs(&self) -> Result<Vec<Cliff>, SimError> {
        let central = self.central();
        let mut r = Runner::new(self, Detail::Numbers);
        r.prepare(&central, None)?;
        let mut out = Vec::new();
        for (v, var) in self.variants.iter().enumerate() {
            let st = r.settle_prepared(v, &central, None)?;
            for s in &st {
                let score = s.line(settlement::gate::QUALITY_SCORE_LINE).and_then(|l| l.value.or(l.amount));
                let Some(g) = settlement::gate::quality_gate(&var.contract, score) else { continue };
                if !g.met || (g.score - g.gate).abs() <= GATE_EDGE {
                    out.push(Cliff { variant: v, year: s.year, score: g.score, gate: g.gate, met: g.met });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
