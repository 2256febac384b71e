//! `vereffen simulate`: contract files under scenarios, before signing.
//! No ledger is needed. All computation is in `vereffen::domain::simulate`; this
//! file reads files, prints tables and writes the output directory (built
//! in a temporary directory next to it, renamed into place when complete).

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use rust_decimal::Decimal;

use vereffen::domain::contract::{self, Role};
use vereffen::domain::simulate::{self, scenarios, Model, Outcome, Variant, VariantStats, COMPONENTS};
use vereffen::present::charts::{self, Chart};
use vereffen::present::lang::{Arg, Lang, Tr};

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

/// Most variants shown side by side in the comparison table. The table has
/// a column per variant and a row per party of every variant, so for a whole
/// book of contracts (thousands, each with its own provider) it would grow
/// with the square of the book; beyond this it is left out (`summary.csv`
/// has every variant's figures).
pub const MAX_COMPARED_VARIANTS: usize = 32;

/// An amount in cents as a CSV cell of `lang` (`1234.50` / `1234,50`).
fn money(lang: Lang, cents: i64) -> String {
    lang.plain(Decimal::new(cents, 2))
}

/// A statistic (euros) rounded to whole euros and grouped, for tables.
fn eur(lang: Lang, x: f64) -> String {
    let whole = if x.is_finite() { x.round() } else { 0.0 };
    // Clamped to the range of i64 (far beyond any contract's money).
    let whole = whole.clamp(-9.0e18, 9.0e18) as i64;
    lang.number(Decimal::from(whole))
}

/// A float formatted with `dp` decimals, with the decimal mark of `lang` (CSV).
fn fixed(lang: Lang, x: f64, dp: usize) -> String {
    let s = format!("{x:.dp$}");
    match lang {
        Lang::En => s,
        Lang::Nl => s.replace('.', ","),
    }
}

/// A share as a percentage with one decimal (`12.5%` / `12,5%`).
fn pct(lang: Lang, p: f64) -> String {
    format!("{}%", fixed(lang, p * 100.0, 1))
}

fn variant_names(paths: &[PathBuf]) -> Vec<String> {
    let stems: Vec<String> =
        paths.iter().map(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default()).collect();
    let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for s in &stems {
        *count.entry(s.as_str()).or_insert(0) += 1;
    }
    stems
        .iter()
        .enumerate()
        .map(|(i, s)| if count[s.as_str()] > 1 { format!("{s}-{}", i + 1) } else { s.clone() })
        .collect()
}

/// The model from the arguments (contracts checked, scenarios read and joined).
///
/// The contract files are read and checked on every core of the current
/// rayon pool (a whole book is thousands of files); the first refused file
/// in argument order is the one reported, as when they were read in turn.
pub fn load(contracts: &[PathBuf], scenarios_file: &Path) -> Result<Model> {
    use rayon::prelude::*;
    let named: Vec<(&PathBuf, String)> = contracts.iter().zip(variant_names(contracts)).collect();
    let checked: Vec<Result<Variant, Vec<contract::Diagnostic>>> =
        named.par_iter().map(|(path, name)| contract::check_file(path).map(|c| Variant::new(name, c))).collect();
    let mut variants = Vec::with_capacity(checked.len());
    for c in checked {
        variants.push(c.map_err(|d| anyhow!("{}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")))?);
    }
    let s = scenarios::read_file(scenarios_file)
        .map_err(|d| anyhow!("{}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")))?;
    Model::new(s, variants).map_err(|e| anyhow!("{e}"))
}

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
    let model = pool.install(|| load(&a.contracts, &a.scenarios))?;
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
    let (stats, sweep, tornado) = result?;
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

/// The central outcome per variant, and per variant its bars (input, outcome at P5, at P95).
type Tornado = (Vec<Outcome>, Vec<Vec<(usize, Outcome, Outcome)>>);

/// The simulation and its files; the Monte Carlo keeps at most `max_nets`
/// net results at once (`simulate::MAX_NETS_IN_MEMORY`; the files are the
/// same for every value).
#[allow(clippy::type_complexity)]
fn run(
    model: &Model,
    tr: &Tr,
    runs: u64,
    seed: u64,
    dir: Option<&Path>,
    max_nets: usize,
) -> Result<(Vec<VariantStats>, Option<Vec<Vec<Outcome>>>, Option<Tornado>)> {
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
    let blocks = model.blocks(runs, max_nets).len();
    let mut writers = match dir {
        Some(d) => Some(RunWriters::new(d, model, tr.lang(), blocks > 1)?),
        None => None,
    };
    let mut write_err: Option<std::io::Error> = None;
    let mut stats = Vec::with_capacity(model.variants.len());
    model
        .monte_carlo_streamed(
            runs,
            seed,
            max_nets,
            &|done| bar.set_position(done),
            &mut |r| {
                if let (Some(w), None) = (writers.as_mut(), &write_err) {
                    if let Err(e) = w.run(model, r) {
                        write_err = Some(e);
                    }
                }
            },
            &mut |s| stats.push(s),
        )
        .map_err(|e| anyhow!("{e}"))?;
    bar.finish_and_clear();
    if let Some(e) = write_err {
        return Err(e).context("cannot write runs.csv");
    }
    if let Some(w) = writers {
        w.finish(runs).context("cannot write runs.csv")?;
    }
    let sweep = if model.scenarios.sweep.is_empty() { None } else { Some(model.sweep().map_err(|e| anyhow!("{e}"))?) };
    let tornado = if model.scenarios.inputs.iter().any(|i| i.is_random()) {
        Some(model.tornado().map_err(|e| anyhow!("{e}"))?)
    } else {
        None
    };
    if let Some(d) = dir {
        let lang = tr.lang();
        write_summary(d, lang, &stats).context("cannot write summary.csv")?;
        if let Some(sw) = &sweep {
            write_sweep(d, lang, model, sw).context("cannot write sweep.csv")?;
        }
        if let Some(t) = &tornado {
            write_tornado(d, lang, model, t).context("cannot write tornado.csv")?;
        }
        write_charts(d, tr, model, &stats, sweep.as_deref(), tornado.as_ref()).map_err(|e| anyhow!(e))?;
    }
    Ok((stats, sweep, tornado))
}

/// `runs.csv` and `inputs.csv`, written as the runs come.
///
/// A book simulated in blocks of variants (`Model::blocks`) sends every run
/// once per block; its rows are then written in arrival order (block, run)
/// and the offset of each (block, run) is kept (8 bytes per run and block),
/// and `finish` puts them in the order of a single pass (run, then
/// variant), so `runs.csv` is the same byte for byte however the book was
/// split.
struct RunWriters {
    dir: PathBuf,
    runs: Counting<BufWriter<File>>,
    inputs: BufWriter<File>,
    /// Whether the rows come in more than one block.
    blocked: bool,
    /// Bytes of the header of `runs.csv`.
    header: u64,
    /// Per block: its first variant and, per run, the offset of its rows.
    blocks: Vec<(usize, Vec<u64>)>,
    /// The language of the cells (separator and decimal mark).
    lang: Lang,
}

/// A writer that counts the bytes written through it.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl RunWriters {
    fn new(dir: &Path, m: &Model, lang: Lang, blocked: bool) -> std::io::Result<RunWriters> {
        let sep = char::from(lang.csv_separator()).to_string();
        let mut runs = Counting { inner: BufWriter::new(File::create(dir.join("runs.csv"))?), written: 0 };
        let head =
            ["variant", "run", "period", "party", "net"].iter().chain(COMPONENTS.iter()).chain(["result"].iter());
        writeln!(runs, "{}", head.copied().collect::<Vec<_>>().join(&sep))?;
        let header = runs.written;
        let mut inputs = BufWriter::new(File::create(dir.join("inputs.csv"))?);
        let ids: Vec<&str> =
            ["run", "year"].into_iter().chain(m.scenarios.inputs.iter().map(|i| i.id.as_str())).collect();
        writeln!(inputs, "{}", ids.join(&sep))?;
        Ok(RunWriters { dir: dir.to_path_buf(), runs, inputs, blocked, header, blocks: Vec::new(), lang })
    }

    fn run(&mut self, m: &Model, r: &simulate::Run<'_>) -> std::io::Result<()> {
        let ny = m.years.len();
        let lang = self.lang;
        let sep = char::from(lang.csv_separator());
        if r.first_variant == 0 {
            for (j, y) in m.years.iter().enumerate() {
                write!(self.inputs, "{}{sep}{y}", r.run)?;
                for i in 0..m.scenarios.inputs.len() {
                    write!(self.inputs, "{sep}{}", lang.plain(r.point[i * ny + j]))?;
                }
                writeln!(self.inputs)?;
            }
        }
        if self.blocked {
            if self.blocks.last().map(|b| b.0) != Some(r.first_variant) {
                self.blocks.push((r.first_variant, Vec::new()));
            }
            if let Some((_, offsets)) = self.blocks.last_mut() {
                debug_assert_eq!(offsets.len() as u64, r.run, "a block's runs come in run order");
                offsets.push(self.runs.written);
            }
        }
        for (b, o) in r.outcomes.iter().enumerate() {
            let v = r.first_variant + b;
            let var = &m.variants[v];
            let c = &var.contract;
            let np = m.variants[v].parties.len();
            let periods: Vec<String> = c.term.years().map(|y| y.to_string()).chain(["term".to_string()]).collect();
            for (k, period) in periods.iter().enumerate() {
                for (p, party) in m.variants[v].parties.iter().enumerate() {
                    let net = money(lang, o.nets[k * np + p]);
                    write!(self.runs, "{}{sep}{}{sep}{period}{sep}{}{sep}{net}", var.name, r.run, party.id)?;
                    for ci in 0..COMPONENTS.len() {
                        write!(self.runs, "{sep}{}", money(lang, o.components[(k * np + p) * COMPONENTS.len() + ci]))?;
                    }
                    writeln!(self.runs, "{sep}{}", money(lang, o.results[k * np + p]))?;
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, runs: u64) -> std::io::Result<()> {
        self.runs.flush()?;
        self.inputs.flush()?;
        if !self.blocked {
            return Ok(());
        }
        // Rows are in (block, run) order; write them in (run, block) order.
        let end = self.runs.written;
        drop(self.runs);
        let spill = self.dir.join(".runs-by-block.csv");
        std::fs::rename(self.dir.join("runs.csv"), &spill)?;
        let mut from = File::open(&spill)?;
        let mut to = BufWriter::new(File::create(self.dir.join("runs.csv"))?);
        std::io::copy(&mut (&mut from).take(self.header), &mut to)?;
        for run in 0..runs as usize {
            for (b, (_, offsets)) in self.blocks.iter().enumerate() {
                let start = offsets.get(run).copied().unwrap_or(end);
                let stop = match offsets.get(run + 1) {
                    Some(o) => *o,
                    None => self.blocks.get(b + 1).and_then(|n| n.1.first().copied()).unwrap_or(end),
                };
                from.seek(SeekFrom::Start(start))?;
                let len = stop.saturating_sub(start);
                let copied = std::io::copy(&mut (&mut from).take(len), &mut to)?;
                if copied != len {
                    return Err(std::io::Error::other("the rows of a block of runs were cut short"));
                }
            }
        }
        to.flush()?;
        drop(from);
        std::fs::remove_file(&spill)
    }
}

fn write_summary(dir: &Path, lang: Lang, stats: &[VariantStats]) -> std::io::Result<()> {
    let sep = char::from(lang.csv_separator()).to_string();
    let mut w = BufWriter::new(File::create(dir.join("summary.csv"))?);
    let mut head: Vec<String> = ["variant", "party", "role", "period"].iter().map(|s| s.to_string()).collect();
    for q in ["mean", "p5", "p25", "p50", "p75", "p95", "p_loss", "worst", "best"] {
        head.push(format!("result_{q}"));
    }
    for q in ["mean", "p5", "p25", "p50", "p75", "p95", "p_pays", "worst", "best"] {
        head.push(format!("cash_{q}"));
    }
    head.extend(COMPONENTS.iter().map(|c| format!("expected_{c}")));
    writeln!(w, "{}", head.join(&sep))?;
    let cells = |s: &simulate::Stats| {
        let m = |x: f64| fixed(lang, x, 2);
        [m(s.mean), m(s.p5), m(s.p25), m(s.p50), m(s.p75), m(s.p95), fixed(lang, s.p_loss, 4), m(s.worst), m(s.best)]
    };
    for v in stats {
        for (k, period) in v.periods.iter().enumerate() {
            for (p, (party, role)) in v.parties.iter().enumerate() {
                let mut row = vec![v.variant.clone(), party.clone(), role.to_string(), period.clone()];
                row.extend(cells(v.result(k, p)));
                row.extend(cells(v.get(k, p)));
                row.extend(v.get(k, p).components.iter().map(|c| fixed(lang, *c, 2)));
                writeln!(w, "{}", row.join(&sep))?;
            }
        }
    }
    w.flush()
}

fn axis_name(m: &Model, tr: &Tr, axis: usize) -> String {
    let a = &m.scenarios.sweep[axis];
    let i = &m.scenarios.inputs[a.input];
    match &i.base {
        scenarios::Base::Absolute => i.id.clone(),
        _ => tr.t_args("simulate-change", &[("input", Arg::from(i.id.as_str()))]),
    }
}

fn write_sweep(dir: &Path, lang: Lang, m: &Model, sw: &[Vec<Outcome>]) -> std::io::Result<()> {
    let sep = char::from(lang.csv_separator());
    let en = Tr::new(Lang::En);
    let mut w = BufWriter::new(File::create(dir.join("sweep.csv"))?);
    let y_name = if m.scenarios.sweep.len() > 1 { axis_name(m, &en, 1) } else { "y".to_string() };
    writeln!(w, "variant{sep}{}{sep}{}{sep}period{sep}party{sep}net{sep}result", axis_name(m, &en, 0), y_name)?;
    for ((x, y), outs) in m.sweep_points().iter().zip(sw) {
        for (v, o) in outs.iter().enumerate() {
            let c = &m.variants[v].contract;
            let np = m.variants[v].parties.len();
            let periods: Vec<String> = c.term.years().map(|y| y.to_string()).chain(["term".to_string()]).collect();
            for (k, period) in periods.iter().enumerate() {
                for (p, party) in m.variants[v].parties.iter().enumerate() {
                    let y = y.map(|y| lang.plain(y)).unwrap_or_default();
                    writeln!(
                        w,
                        "{}{sep}{}{sep}{y}{sep}{period}{sep}{}{sep}{}{sep}{}",
                        m.variants[v].name,
                        lang.plain(*x),
                        party.id,
                        money(lang, o.nets[k * np + p]),
                        money(lang, o.results[k * np + p])
                    )?;
                }
            }
        }
    }
    w.flush()
}

/// The economic result over the term of party `p` of variant `v`, in cents.
fn term_result(m: &Model, v: usize, o: &Outcome, p: usize) -> i64 {
    let np = m.variants[v].parties.len();
    o.results[(m.periods(v) - 1) * np + p]
}

fn term_net(m: &Model, v: usize, o: &Outcome, p: usize) -> i64 {
    let np = m.variants[v].parties.len();
    o.nets[(m.periods(v) - 1) * np + p]
}

fn write_tornado(dir: &Path, lang: Lang, m: &Model, t: &Tornado) -> std::io::Result<()> {
    let sep = char::from(lang.csv_separator()).to_string();
    let mut w = BufWriter::new(File::create(dir.join("tornado.csv"))?);
    let head = [
        "variant",
        "party",
        "input",
        "term_result_at_p5",
        "term_result_central",
        "term_result_at_p95",
        "term_net_at_p5",
        "term_net_central",
        "term_net_at_p95",
    ];
    writeln!(w, "{}", head.join(&sep))?;
    let (base, bars) = t;
    for v in 0..m.variants.len() {
        for (p, party) in m.variants[v].parties.iter().enumerate() {
            for (i, lo, hi) in &bars[v] {
                let mut row = vec![m.variants[v].name.clone(), party.id.clone(), m.scenarios.inputs[*i].id.clone()];
                for f in [term_result, term_net] {
                    row.extend([lo, &base[v], hi].iter().map(|o| money(lang, f(m, v, o, p))));
                }
                writeln!(w, "{}", row.join(&sep))?;
            }
        }
    }
    w.flush()
}

fn first_provider(m: &Model, v: usize) -> usize {
    m.variants[v].parties.iter().position(|p| p.role == Role::Provider).unwrap_or(0)
}

/// The contracts' currency (EUR unless they say otherwise); mixed
/// currencies are named each.
fn currency_of(m: &Model) -> String {
    let mut currencies: Vec<String> = m.variants.iter().map(|v| v.contract.currency.to_string()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    if currencies.is_empty() {
        "EUR".to_string()
    } else {
        currencies.join("/")
    }
}

fn write_charts(
    dir: &Path,
    tr: &Tr,
    m: &Model,
    stats: &[VariantStats],
    sweep: Option<&[Vec<Outcome>]>,
    tornado: Option<&Tornado>,
) -> Result<(), String> {
    let currency = currency_of(m);
    let cur = || Arg::from(currency.as_str());
    for (v, s) in stats.iter().enumerate() {
        let ny = s.periods.len() - 1;
        let parties = s
            .parties
            .iter()
            .enumerate()
            .map(|(p, (id, role))| {
                let boxes = (0..ny)
                    .map(|k| {
                        let x = s.result(k, p);
                        [x.p5, x.p25, x.p50, x.p75, x.p95]
                    })
                    .collect();
                (format!("{id} ({role})"), boxes)
            })
            .collect();
        let chart = Chart::Boxes {
            title: tr.t_args("simulate-chart-distribution", &[("variant", Arg::from(s.variant.as_str()))]),
            y_label: tr.t_args("simulate-chart-result-axis", &[("currency", cur())]),
            years: s.periods[..ny].to_vec(),
            parties,
        };
        charts::write(dir, &format!("distribution-{}", s.variant), &chart)?;

        if let Some(sw) = sweep {
            let pts = m.sweep_points();
            let x = |d: &Decimal| d.to_string().parse::<f64>().unwrap_or(0.0);
            let euros = |c: i64| c as f64 / 100.0;
            let series: Vec<(String, Vec<(f64, f64)>)> = if m.scenarios.sweep.len() == 1 {
                let np = m.variants[v].parties.len();
                let pick = |o: &Outcome| (0..np).map(|p| term_result(m, v, o, p)).collect::<Vec<i64>>();
                let grid = pts.iter().zip(sw).map(|((px, _), o)| (*px, pick(&o[v]))).collect();
                let line = refined_line(m, v, None, grid, &pick)?;
                m.variants[v]
                    .parties
                    .iter()
                    .enumerate()
                    .map(|(p, party)| (party.id.clone(), line.iter().map(|(px, f)| (x(px), euros(f[p]))).collect()))
                    .collect()
            } else {
                let p = first_provider(m, v);
                let pick = |o: &Outcome| vec![term_result(m, v, o, p)];
                let mut series = Vec::new();
                for yv in &m.scenarios.sweep[1].values {
                    let grid = pts
                        .iter()
                        .zip(sw)
                        .filter(|((_, py), _)| *py == Some(*yv))
                        .map(|((px, _), o)| (*px, pick(&o[v])))
                        .collect();
                    let line = refined_line(m, v, Some(*yv), grid, &pick)?;
                    series.push((
                        format!("{} = {}", axis_name(m, tr, 1), tr.lang().plain(*yv)),
                        line.iter().map(|(px, f)| (x(px), euros(f[0]))).collect(),
                    ));
                }
                series
            };
            let who = if m.scenarios.sweep.len() == 1 {
                tr.t("simulate-chart-each-party")
            } else {
                m.variants[v].parties[first_provider(m, v)].id.clone()
            };
            let chart = Chart::Lines {
                title: tr.t_args(
                    "simulate-chart-sweep",
                    &[("who", Arg::from(who)), ("axis", Arg::from(axis_name(m, tr, 0)))],
                ),
                x_label: axis_name(m, tr, 0),
                y_label: tr.t_args("simulate-chart-term-axis", &[("currency", cur())]),
                series,
            };
            charts::write(dir, &format!("sweep-{}", s.variant), &chart)?;
        }
        if let Some((base, bars)) = tornado {
            let p = first_provider(m, v);
            let mut rows: Vec<(String, f64, f64)> = bars[v]
                .iter()
                .map(|(i, lo, hi)| {
                    (
                        m.scenarios.inputs[*i].id.clone(),
                        term_result(m, v, lo, p) as f64 / 100.0,
                        term_result(m, v, hi, p) as f64 / 100.0,
                    )
                })
                .collect();
            rows.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()).then(a.0.cmp(&b.0)));
            let chart = Chart::Tornado {
                title: tr
                    .t_args("simulate-chart-tornado", &[("party", Arg::from(m.variants[v].parties[p].id.as_str()))]),
                x_label: tr.t_args("simulate-chart-tornado-axis", &[("currency", cur())]),
                base: term_result(m, v, &base[v], p) as f64 / 100.0,
                bars: rows,
            };
            charts::write(dir, &format!("tornado-{}", s.variant), &chart)?;
        }
    }
    if stats.len() > 1 && stats.len() <= MAX_COMPARED_VARIANTS {
        let parties = compared_parties(stats);
        let groups = parties
            .iter()
            .map(|party| {
                let bars = stats
                    .iter()
                    .map(|s| {
                        s.parties.iter().position(|(p, _)| p == party).map(|p| {
                            let x = s.result(s.periods.len() - 1, p);
                            [x.p5, x.mean, x.p95]
                        })
                    })
                    .collect();
                (party.to_string(), bars)
            })
            .collect();
        let chart = Chart::Compare {
            title: tr.t("simulate-chart-comparison"),
            y_label: tr.t_args("simulate-chart-term-axis", &[("currency", cur())]),
            variants: stats.iter().map(|s| s.variant.clone()).collect(),
            groups,
        };
        charts::write(dir, "comparison", &chart)?;
    }
    Ok(())
}

/// Most halvings of one sweep segment when a chart looks for where the
/// result bends or jumps: a jump is drawn within 1/1024 of a grid step of
/// its place.
pub const MAX_SWEEP_HALVINGS: u32 = 10;

/// Most points added between the grid points of one sweep chart, so a
/// result that is curved everywhere cannot make a chart settle without end.
pub const MAX_SWEEP_EXTRA_POINTS: usize = 2_000;

/// A midpoint whose result lies more than this (in cents) off the straight
/// line between its segment's ends is a bend or a jump: 1 euro, well above
/// the rounding of a statement to cents.
pub const SWEEP_BEND_CENTS: i64 = 100;

/// The points of a sweep chart's lines of variant `v` (the values `pick`
/// gives per line, in cents) along the first axis at second-axis value
/// `y`: the grid points, and between two of them, where some line's
/// midpoint is off the straight line by more than [`SWEEP_BEND_CENTS`],
/// the midpoints of the halves, halving at most [`MAX_SWEEP_HALVINGS`]
/// times. So a corridor cliff is drawn as a step at its place and a kink
/// at its place, not as a slope between two grid points.
fn refined_line(
    m: &Model,
    v: usize,
    y: Option<Decimal>,
    grid: Vec<(Decimal, Vec<i64>)>,
    pick: &dyn Fn(&Outcome) -> Vec<i64>,
) -> Result<Vec<(Decimal, Vec<i64>)>, String> {
    struct Walk<'a> {
        m: &'a Model,
        v: usize,
        y: Option<Decimal>,
        pick: &'a dyn Fn(&Outcome) -> Vec<i64>,
        budget: usize,
    }
    fn halve(
        w: &mut Walk<'_>,
        a: &(Decimal, Vec<i64>),
        b: &(Decimal, Vec<i64>),
        depth: u32,
        out: &mut Vec<(Decimal, Vec<i64>)>,
    ) -> Result<(), String> {
        if depth >= MAX_SWEEP_HALVINGS || w.budget == 0 {
            return Ok(());
        }
        let x = (a.0 + b.0) / Decimal::TWO;
        w.budget -= 1;
        let o = w.m.sweep_outcome(w.v, x, w.y).map_err(|e| e.to_string())?;
        let mid = (x, (w.pick)(&o));
        let bent = mid.1.iter().zip(a.1.iter().zip(&b.1)).any(|(fm, (fa, fb))| {
            (2 * i128::from(*fm) - i128::from(*fa) - i128::from(*fb)).abs() > 2 * i128::from(SWEEP_BEND_CENTS)
        });
        if !bent {
            return Ok(());
        }
        halve(w, a, &mid, depth + 1, out)?;
        out.push(mid.clone());
        halve(w, &mid, b, depth + 1, out)
    }
    let mut w = Walk { m, v, y, pick, budget: MAX_SWEEP_EXTRA_POINTS };
    let mut out = Vec::with_capacity(grid.len());
    for pair in grid.windows(2) {
        out.push(pair[0].clone());
        halve(&mut w, &pair[0], &pair[1], 0, &mut out)?;
    }
    if let Some(last) = grid.last() {
        out.push(last.clone());
    }
    debug_assert!(out.windows(2).all(|p| p[0].0 <= p[1].0), "points in axis order");
    Ok(out)
}

/// The parties of every compared variant, in order of first appearance.
fn compared_parties(stats: &[VariantStats]) -> Vec<&str> {
    let mut parties: Vec<&str> = Vec::new();
    for s in stats {
        for (p, _) in &s.parties {
            if !parties.contains(&p.as_str()) {
                parties.push(p);
            }
        }
    }
    parties
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: a corridor cliff is drawn as a step at its place, not a
    /// slope between two grid points. The COPD contract shares from the
    /// first euro once savings reach 2% of the benchmark: just after the
    /// grid point -2% (towards -1%) the hospital's result jumps; the chart's
    /// points close in on the jump to within 1/1024 of a step.
    #[test]
    fn a_corridor_cliff_is_a_step_in_the_sweep_chart() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let sc = std::fs::read_to_string(repo.join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml"))
            .unwrap()
            .replace("from = -0.15, to = 0.15, step = 0.01", "from = -0.05, to = 0.05, step = 0.01");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), sc).unwrap();
        let m = load(&[repo.join("contracts/copd-telemonitoring-shared-savings.toml")], &dir.path().join("s.toml"))
            .unwrap();
        let sw = m.sweep().unwrap();
        let hospital = m.variants[0].parties.iter().position(|p| p.id == "ziekenhuis").unwrap();
        let pick = |o: &Outcome| vec![term_result(&m, 0, o, hospital)];
        let grid: Vec<(Decimal, Vec<i64>)> =
            m.sweep_points().iter().zip(&sw).map(|((x, _), o)| (*x, pick(&o[0]))).collect();
        let line = refined_line(&m, 0, None, grid.clone(), &pick).unwrap();
        assert!(line.len() > grid.len(), "points added at the cliff");
        let step = Decimal::new(1, 2);
        let jump = line
            .windows(2)
            .find(|w| (w[1].1[0] - w[0].1[0]).abs() > 1_000_000 && w[1].0 - w[0].0 <= step / Decimal::from(1024));
        let jump = jump.expect("a jump of more than 10,000 euros within 1/1024 of a step");
        assert!(jump[0].0 >= Decimal::new(-2, 2) && jump[1].0 < Decimal::new(-1, 2), "between -2% and -1%: {jump:?}");
        // A straight stretch gets no extra point.
        let straight = line.iter().filter(|(x, _)| *x > Decimal::new(-5, 2) && *x < Decimal::new(-4, 2)).count();
        assert_eq!(straight, 0, "{line:?}");
    }

    /// A book simulated in blocks of variants (to bound the memory of the
    /// exact percentiles) writes the same files, byte for byte, as one
    /// pass: `runs.csv` is put back in run order.
    #[test]
    fn a_book_in_blocks_writes_the_same_files() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let c = repo.join("contracts/copd-telemonitoring-shared-savings.toml");
        let book = vec![c.clone(), c.clone(), c];
        let m = load(&book, &repo.join("examples/scenarios/copd-telemonitoring-oost-achterhoek.toml")).unwrap();
        let runs = 40;
        assert_eq!(m.blocks(runs, 1).len(), 3);
        let files = |max_nets: usize| {
            let dir = tempfile::tempdir().unwrap();
            run(&m, &Tr::new(Lang::En), runs, 5, Some(dir.path()), max_nets).unwrap();
            let mut names: Vec<String> =
                std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
            names.sort();
            names.into_iter().map(|n| (n.clone(), std::fs::read(dir.path().join(&n)).unwrap())).collect::<Vec<_>>()
        };
        let one = files(simulate::MAX_NETS_IN_MEMORY);
        let blocked = files(1);
        assert!(one.iter().any(|(n, b)| n == "runs.csv" && b.len() > 1000));
        assert_eq!(one.iter().map(|f| &f.0).collect::<Vec<_>>(), blocked.iter().map(|f| &f.0).collect::<Vec<_>>());
        for ((name, a), (_, b)) in one.iter().zip(&blocked) {
            assert!(a == b, "{name} differs when the book is simulated in blocks");
        }
    }
}
