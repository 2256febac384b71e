//! `vereffen simulate`: contract files under scenarios, before signing.
//! No ledger is needed. All computation is in `vereffen::domain::simulate`; this
//! file reads files, prints tables and writes the output directory (built
//! in a temporary directory next to it, renamed into place when complete).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use rust_decimal::Decimal;

use vereffen::domain::simulate::{self, Model, Outcome, VariantStats, COMPONENTS};
use vereffen::present::lang::{Arg, Tr};
use vereffen::present::simulation::{
    self as simulation, axis_name, compared_parties, currency_of, eur, first_provider, pct, term_result, Results,
    Tornado, MAX_COMPARED_VARIANTS,
};

use super::Cli;

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Contract files: one, or several variants to compare on the same scenarios.
    #[arg(required = true)]
    contracts: Vec<PathBuf>,
    /// The scenarios file (docs/SIMULATION.md).
    #[arg(long)]
    scenarios: PathBuf,
    /// Monte Carlo runs (default: the file's, else 10,000).
    #[arg(long)]
    runs: Option<u64>,
    /// Seed (default: the file's, else 1). The same seed gives the same output.
    #[arg(long)]
    seed: Option<u64>,
    /// Write CSV files and charts to this directory (must not exist, or be empty).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Threads (default: all cores; at most 256).
    #[arg(long)]
    threads: Option<usize>,
}

/// Most worker threads `--threads` may ask for: far more than any machine
/// this runs on has cores, so it only stops a typo (10,000) from starting
/// thousands of threads that would never finish.
pub const MAX_THREADS: usize = 256;

pub fn simulate(cli: &Cli, a: &SimulateArgs) -> Result<i32> {
    let tr = Tr::new(super::config_cmds::lang_at(cli, &cli.ledger)?);
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = a.threads {
            if t > MAX_THREADS {
                bail!("--threads {t} is too many: give at most {MAX_THREADS} (or leave it out to use every core)");
            }
            b = b.num_threads(t.max(1));
        }
        b.build().context("cannot start threads")?
    };
    let model = pool.install(|| simulation::load(&a.contracts, &a.scenarios)).map_err(|e| anyhow!(e))?;
    let runs = a.runs.or(model.scenarios.runs).unwrap_or(10_000);
    if runs == 0 || runs > simulate::MAX_RUNS {
        bail!("--runs must be between 1 and {}", simulate::MAX_RUNS);
    }
    let seed = a.seed.or(model.scenarios.seed).unwrap_or(1);
    // Refuse an unusable output directory before any work.
    let staging = match &a.out {
        Some(out) => Some(staging_dir(out)?),
        None => None,
    };
    let result =
        pool.install(|| run(&model, &tr, runs, seed, staging.as_ref().map(|t| t.path()), simulate::MAX_NETS_IN_MEMORY));
    let Results { stats, sweep, tornado } = result?;
    let cliffs = pool.install(|| model.cliffs()).map_err(|e| anyhow!("{e}"))?;
    // The output directory is moved into place before anything is printed,
    // so a reader that stops early (`| head`) cannot lose it.
    if let (Some(tmp), Some(out)) = (staging, &a.out) {
        let tmp = tmp.keep();
        if out.exists() {
            std::fs::remove_dir(out)
                .with_context(|| format!("cannot replace the empty directory {}", out.display()))?;
        }
        std::fs::rename(&tmp, out).with_context(|| format!("cannot move the results into {}", out.display()))?;
    }
    print_tables(&model, &tr, &stats, runs, seed)?;
    print_cliffs(&model, &tr, &cliffs)?;
    if let Some(sw) = &sweep {
        print_sweep(&model, &tr, sw)?;
    }
    if let Some(t) = &tornado {
        print_tornado(&model, &tr, t)?;
    }
    if let Some(out) = &a.out {
        outln!("{}", tr.t_args("simulate-wrote", &[("dir", Arg::from(out.display().to_string()))]));
    }
    Ok(0)
}

/// The simulation with the CLI's progress bar, its files written into
/// `dir` when given (`present::simulation` computes and writes them).
fn run(model: &Model, tr: &Tr, runs: u64, seed: u64, dir: Option<&Path>, max_nets: usize) -> Result<Results> {
    let bar = if super::stderr_is_terminal() {
        let b = indicatif::ProgressBar::new(runs);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs {per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let r = simulation::run(model, tr.lang(), runs, seed, dir, max_nets, &|done| bar.set_position(done))
        .map_err(|e| anyhow!(e))?;
    bar.finish_and_clear();
    if let Some(d) = dir {
        simulation::write_files(d, tr, model, &r).map_err(|e| anyhow!(e))?;
    }
    Ok(r)
}

fn staging_dir(out: &Path) -> Result<tempfile::TempDir> {
    if out.exists() {
        let empty = out.is_dir() && std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty {
            bail!("{} exists and is not an empty directory; give a new directory for --out", out.display());
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tempfile::Builder::new()
        .prefix(".vereffen-simulate-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a directory in {}", parent.display()))
}

/// Width of the party column of the tables.
const PARTY_WIDTH: usize = 22;

/// One table of statistics per party and period (economic result or cash).
fn print_stats_table(
    tr: &Tr,
    s: &VariantStats,
    get: fn(&VariantStats, usize, usize) -> &simulate::Stats,
    p_col: &str,
) -> Result<()> {
    let lang = tr.lang();
    outln!(
        "{:<PARTY_WIDTH$} {:>9} {:>14} {:>14} {:>14} {:>14} {:>10} {:>14}",
        tr.t("simulate-col-party"),
        tr.t("simulate-col-period"),
        tr.t("simulate-col-mean"),
        "P5",
        "P50",
        "P95",
        tr.t(p_col),
        tr.t("simulate-col-worst")
    );
    let term = s.periods.len() - 1;
    for (p, (party, _)) in s.parties.iter().enumerate() {
        for (k, period) in s.periods.iter().enumerate() {
            let x = get(s, k, p);
            let period = if k == term { tr.t("simulate-term") } else { period.clone() };
            outln!(
                "{:<PARTY_WIDTH$} {:>9} {:>14} {:>14} {:>14} {:>14} {:>10} {:>14}",
                vereffen::present::layout::truncate(party, PARTY_WIDTH),
                period,
                eur(lang, x.mean),
                eur(lang, x.p5),
                eur(lang, x.p50),
                eur(lang, x.p95),
                pct(lang, x.p_loss),
                eur(lang, x.worst)
            );
        }
    }
    Ok(())
}

fn print_tables(m: &Model, tr: &Tr, stats: &[VariantStats], runs: u64, seed: u64) -> Result<()> {
    let lang = tr.lang();
    let currency = currency_of(m);
    outln!(
        "{}",
        tr.t_args(
            "simulate-header",
            &[
                ("runs", Arg::from(lang.number(Decimal::from(runs)))),
                ("seed", Arg::from(seed.to_string())),
                ("currency", Arg::from(currency.as_str())),
            ],
        )
    );
    outln!("{}", tr.t("simulate-views-result"));
    outln!("{}", tr.t("simulate-views-cash"));
    for (v, s) in stats.iter().enumerate() {
        outln!();
        outln!(
            "{}",
            tr.t_args(
                "simulate-variant",
                &[
                    ("variant", Arg::from(s.variant.as_str())),
                    ("contract", Arg::from(m.variants.get(v).map(|v| v.contract.id.as_str()).unwrap_or(""))),
                ],
            )
        );
        outln!("{}", tr.t("simulate-result-heading"));
        print_stats_table(tr, s, VariantStats::result, "simulate-col-p-loss")?;
        outln!("{}", tr.t("simulate-cash-heading"));
        print_stats_table(tr, s, VariantStats::get, "simulate-col-p-pays")?;
        outln!("{}", tr.t("simulate-components"));
        let term = s.periods.len() - 1;
        for (p, (party, _)) in s.parties.iter().enumerate() {
            let x = s.get(term, p);
            let parts: Vec<String> = COMPONENTS
                .iter()
                .zip(x.components)
                .filter(|(_, v)| *v != 0.0)
                .map(|(c, v)| format!("{} {}", tr.t(&format!("simulate-comp-{c}")), eur(lang, v)))
                .collect();
            outln!(
                "  {:<20} {}",
                vereffen::present::layout::truncate(party, 20),
                if parts.is_empty() { "-".to_string() } else { parts.join(", ") }
            );
        }
    }
    if stats.len() > MAX_COMPARED_VARIANTS {
        outln!();
        outln!(
            "{}",
            tr.t_args(
                "simulate-comparison-left-out",
                &[("max", Arg::from(MAX_COMPARED_VARIANTS.to_string())), ("n", Arg::from(stats.len().to_string()))],
            )
        );
    } else if stats.len() > 1 {
        print_comparison(tr, stats)?;
    }
    Ok(())
}

/// Width of a column of the comparison table.
const COMPARE_WIDTH: usize = 18;

/// Variants side by side over the term, with per variant after the first
/// a difference column against the first (B - A of the figures).
fn print_comparison(tr: &Tr, stats: &[VariantStats]) -> Result<()> {
    use vereffen::present::layout::truncate;
    let lang = tr.lang();
    outln!();
    outln!("{}", tr.t("simulate-comparison"));
    let parties = compared_parties(stats);
    let label_width = 20;
    out!("{:<PARTY_WIDTH$} {:<label_width$}", tr.t("simulate-col-party"), "");
    for (i, s) in stats.iter().enumerate() {
        out!(" {:>COMPARE_WIDTH$}", truncate(&s.variant, COMPARE_WIDTH));
        if i > 0 {
            let diff = format!("{} - {}", truncate(&s.variant, 7), truncate(&stats[0].variant, 7));
            out!(" {:>COMPARE_WIDTH$}", truncate(&diff, COMPARE_WIDTH));
        }
    }
    outln!();
    type Pick = fn(&VariantStats, usize) -> f64;
    let rows: [(&str, Pick, bool); 5] = [
        ("simulate-row-result-mean", |s, p| s.result(s.periods.len() - 1, p).mean, false),
        ("simulate-row-result-p5", |s, p| s.result(s.periods.len() - 1, p).p5, false),
        ("simulate-row-result-p95", |s, p| s.result(s.periods.len() - 1, p).p95, false),
        ("simulate-row-p-loss", |s, p| s.result(s.periods.len() - 1, p).p_loss, true),
        ("simulate-row-cash-mean", |s, p| s.get(s.periods.len() - 1, p).mean, false),
    ];
    for party in parties {
        for (label, pick, share) in rows {
            out!("{:<PARTY_WIDTH$} {:<label_width$}", truncate(party, PARTY_WIDTH), tr.t(label));
            let value = |s: &VariantStats| s.parties.iter().position(|(p, _)| p == party).map(|p| pick(s, p));
            let show = |x: f64| if share { pct(lang, x) } else { eur(lang, x) };
            let first = value(&stats[0]);
            for (i, s) in stats.iter().enumerate() {
                let x = value(s);
                out!(" {:>COMPARE_WIDTH$}", x.map(show).unwrap_or_else(|| "-".to_string()));
                if i > 0 {
                    let d = match (x, first) {
                        (Some(b), Some(a)) => {
                            let d = show(b - a);
                            if b - a > 0.0 {
                                format!("+{d}")
                            } else {
                                d
                            }
                        }
                        _ => "-".to_string(),
                    };
                    out!(" {d:>COMPARE_WIDTH$}");
                }
            }
            outln!();
        }
    }
    Ok(())
}

fn print_cliffs(m: &Model, tr: &Tr, cliffs: &[simulate::Cliff]) -> Result<()> {
    if cliffs.is_empty() {
        return Ok(());
    }
    outln!();
    for c in cliffs {
        let id = if c.met { "simulate-cliff-edge" } else { "simulate-cliff-closed" };
        outln!(
            "{}",
            tr.t_args(
                id,
                &[
                    ("variant", Arg::from(m.variants[c.variant].name.as_str())),
                    ("year", Arg::from(c.year.to_string())),
                    ("score", Arg::from(tr.factor(c.score))),
                    ("gate", Arg::from(tr.factor(c.gate))),
                ],
            )
        );
    }
    Ok(())
}

fn print_sweep(m: &Model, tr: &Tr, sw: &[Vec<Outcome>]) -> Result<()> {
    use vereffen::present::layout::truncate;
    let lang = tr.lang();
    outln!();
    outln!("{}", tr.t("simulate-sweep"));
    for v in 0..m.variants.len() {
        out!("{:<12} {:<10}", truncate(&m.variants[v].name, 12), truncate(&axis_name(m, tr, 0), 10));
        if m.scenarios.sweep.len() > 1 {
            out!(" {:<10}", truncate(&axis_name(m, tr, 1), 10));
        }
        for party in &m.variants[v].parties {
            out!(" {:>16}", truncate(&party.id, 16));
        }
        outln!();
        for ((x, y), o) in m.sweep_points().iter().zip(sw) {
            out!("{:<12} {:<10}", "", lang.plain(*x));
            if let Some(y) = y {
                out!(" {:<10}", lang.plain(*y));
            }
            for p in 0..m.variants[v].parties.len() {
                out!(" {:>16}", eur(lang, term_result(m, v, &o[v], p) as f64 / 100.0));
            }
            outln!();
        }
    }
    Ok(())
}

fn print_tornado(m: &Model, tr: &Tr, t: &Tornado) -> Result<()> {
    let lang = tr.lang();
    let (base, bars) = t;
    outln!();
    outln!("{}", tr.t("simulate-tornado"));
    for v in 0..m.variants.len() {
        let p = first_provider(m, v);
        outln!(
            "{}",
            tr.t_args(
                "simulate-tornado-central",
                &[
                    ("variant", Arg::from(m.variants[v].name.as_str())),
                    ("party", Arg::from(m.variants[v].parties[p].id.as_str())),
                    ("value", Arg::from(eur(lang, term_result(m, v, &base[v], p) as f64 / 100.0))),
                ],
            )
        );
        for (i, lo, hi) in &bars[v] {
            outln!(
                "  {:<24} {:>16} {:>16}",
                m.scenarios.inputs[*i].id,
                eur(lang, term_result(m, v, lo, p) as f64 / 100.0),
                eur(lang, term_result(m, v, hi, p) as f64 / 100.0)
            );
        }
    }
    Ok(())
}
