//! A simulation as `vereffen simulate` and the web workspace's model page
//! run it: contract files (paths or uploaded texts) and a scenarios file
//! joined into a [`Model`], the Monte Carlo with the sweep and tornado
//! ([`run`]), the CSV files `simulate --out` writes ([`csv_files`]:
//! `summary.csv`, `sweep.csv`, `tornado.csv`; `runs.csv` and `inputs.csv`
//! are written as the runs come, only into a directory), the charts
//! ([`charts`], drawn by [`super::charts`] into a file or a string) and
//! the numbers of the tables ([`eur`], [`pct`]). Moved from
//! `cli/simulate_cmds.rs` so both front ends compute and write the same
//! bytes from one function; the CLI keeps its progress bar and tables.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::domain::contract::{self, Contract, Role};
use crate::domain::simulate::{self, scenarios, Model, Outcome, Variant, VariantStats, COMPONENTS};
use crate::present::charts::{self, Chart};
use crate::present::lang::{Arg, Lang, Tr};

/// Most variants shown side by side in the comparison table. The table has
/// a column per variant and a row per party of every variant, so for a whole
/// book of contracts (thousands, each with its own provider) it would grow
/// with the square of the book; beyond this it is left out (`summary.csv`
/// has every variant's figures).
pub const MAX_COMPARED_VARIANTS: usize = 32;

/// An amount in cents as a CSV cell of `lang` (`1234.50` / `1234,50`).
pub fn money(lang: Lang, cents: i64) -> String {
    lang.plain(Decimal::new(cents, 2))
}

/// A statistic (euros) rounded to whole euros and grouped, for tables.
pub fn eur(lang: Lang, x: f64) -> String {
    let whole = if x.is_finite() { x.round() } else { 0.0 };
    // Clamped to the range of i64 (far beyond any contract's money).
    let whole = whole.clamp(-9.0e18, 9.0e18) as i64;
    lang.number(Decimal::from(whole))
}

/// A float formatted with `dp` decimals, with the decimal mark of `lang` (CSV).
pub fn fixed(lang: Lang, x: f64, dp: usize) -> String {
    let s = format!("{x:.dp$}");
    match lang {
        Lang::En => s,
        Lang::Nl => s.replace('.', ","),
    }
}

/// A share as a percentage with one decimal (`12.5%` / `12,5%`).
pub fn pct(lang: Lang, p: f64) -> String {
    format!("{}%", fixed(lang, p * 100.0, 1))
}

/// Variant names from file stems: a stem that occurs more than once gets
/// its position (`copd-1`, `copd-2`).
pub fn variant_names(stems: &[String]) -> Vec<String> {
    let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for s in stems {
        *count.entry(s.as_str()).or_insert(0) += 1;
    }
    stems
        .iter()
        .enumerate()
        .map(|(i, s)| if count[s.as_str()] > 1 { format!("{s}-{}", i + 1) } else { s.clone() })
        .collect()
}

fn diagnostics(d: &[contract::Diagnostic]) -> String {
    d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

/// The model from contract files and a scenarios file (contracts checked
/// as `contract check` does, scenarios read and joined); an error is every
/// problem as `FILE:LINE:COLUMN: field: message`, one a line.
///
/// The contract files are read and checked on every core of the current
/// rayon pool (a whole book is thousands of files); the first refused file
/// in argument order is the one reported, as when they were read in turn.
pub fn load(contracts: &[PathBuf], scenarios_file: &Path) -> Result<Model, String> {
    use rayon::prelude::*;
    let stems: Vec<String> =
        contracts.iter().map(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default()).collect();
    let named: Vec<(&PathBuf, String)> = contracts.iter().zip(variant_names(&stems)).collect();
    let checked: Vec<Result<Variant, Vec<contract::Diagnostic>>> =
        named.par_iter().map(|(path, name)| contract::check_file(path).map(|c| Variant::new(name, c))).collect();
    let mut variants = Vec::with_capacity(checked.len());
    for c in checked {
        variants.push(c.map_err(|d| diagnostics(&d))?);
    }
    let s = scenarios::read_file(scenarios_file).map_err(|d| diagnostics(&d))?;
    Model::new(s, variants).map_err(|e| e.to_string())
}

/// A file given as text (an upload): the name its diagnostics carry, and
/// its text.
#[derive(Debug, Clone)]
pub struct NamedText {
    /// The file name as the diagnostics show it.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// The model from contract texts and a scenarios text, as [`load`] builds
/// it from files: the same checks and the same diagnostics with each
/// text's `name` as the file. The variants are `held` (contracts already
/// checked, e.g. a version on a ledger, named by their contract id) and
/// then the texts, each named by its file name without directories and
/// `.toml`.
pub fn load_texts(held: Vec<Contract>, contracts: &[NamedText], scenarios_file: &NamedText) -> Result<Model, String> {
    let stems: Vec<String> = held
        .iter()
        .map(|c| c.id.clone())
        .chain(contracts.iter().map(|c| {
            let base = c.name.rsplit(['/', '\\']).next().unwrap_or("");
            base.strip_suffix(".toml").unwrap_or(base).to_string()
        }))
        .collect();
    let names = variant_names(&stems);
    let mut variants = Vec::with_capacity(names.len());
    for (c, name) in held.into_iter().zip(&names) {
        variants.push(Variant::new(name, c));
    }
    for (c, name) in contracts.iter().zip(names.iter().skip(variants.len())) {
        if c.text.len() > contract::MAX_FILE_BYTES {
            return Err(format!("{}:1:1: file is larger than {} bytes", c.name, contract::MAX_FILE_BYTES));
        }
        variants.push(Variant::new(name, contract::parse_str(&c.name, &c.text).map_err(|d| diagnostics(&d))?));
    }
    let s = scenarios::parse(&scenarios_file.name, &scenarios_file.text).map_err(|d| diagnostics(&d))?;
    Model::new(s, variants).map_err(|e| e.to_string())
}

/// The central outcome per variant, and per variant its bars (input, outcome at P5, at P95).
pub type Tornado = (Vec<Outcome>, Vec<Vec<(usize, Outcome, Outcome)>>);

/// What a simulation computed.
pub struct Results {
    /// Per variant, the statistics of the Monte Carlo.
    pub stats: Vec<VariantStats>,
    /// Per sweep point, per variant, the outcome (when the scenarios sweep).
    pub sweep: Option<Vec<Vec<Outcome>>>,
    /// The tornado (when some input is random).
    pub tornado: Option<Tornado>,
}

/// The simulation: `runs` Monte Carlo runs with `seed`, the sweep and the
/// tornado. With `dir`, `runs.csv` and `inputs.csv` are written into it as
/// the runs come (the other files: [`write_files`]). The Monte Carlo keeps
/// at most `max_nets` net results at once (`simulate::MAX_NETS_IN_MEMORY`;
/// the results and files are the same for every value); `progress` sees
/// the runs done.
pub fn run(
    model: &Model,
    lang: Lang,
    runs: u64,
    seed: u64,
    dir: Option<&Path>,
    max_nets: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Results, String> {
    let blocks = model.blocks(runs, max_nets).len();
    let mut writers = match dir {
        Some(d) => {
            Some(RunWriters::new(d, model, lang, blocks > 1).map_err(|e| format!("cannot write runs.csv: {e}"))?)
        }
        None => None,
    };
    let mut write_err: Option<std::io::Error> = None;
    let mut stats = Vec::with_capacity(model.variants.len());
    model
        .monte_carlo_streamed(
            runs,
            seed,
            max_nets,
            progress,
            &mut |r| {
                if let (Some(w), None) = (writers.as_mut(), &write_err) {
                    if let Err(e) = w.run(model, r) {
                        write_err = Some(e);
                    }
                }
            },
            &mut |s| stats.push(s),
        )
        .map_err(|e| e.to_string())?;
    if let Some(e) = write_err {
        return Err(format!("cannot write runs.csv: {e}"));
    }
    if let Some(w) = writers {
        w.finish(runs).map_err(|e| format!("cannot write runs.csv: {e}"))?;
    }
    let sweep = if model.scenarios.sweep.is_empty() { None } else { Some(model.sweep().map_err(|e| e.to_string())?) };
    let tornado = if model.scenarios.inputs.iter().any(|i| i.is_random()) {
        Some(model.tornado().map_err(|e| e.to_string())?)
    } else {
        None
    };
    Ok(Results { stats, sweep, tornado })
}

/// The CSV files of a simulation besides `runs.csv` and `inputs.csv`, as
/// (file name, bytes) in this order: `summary.csv`, then `sweep.csv` when
/// the scenarios sweep, `tornado.csv` when some input is random. Cells in
/// the number format of `lang`, separated by its CSV separator.
pub fn csv_files(lang: Lang, m: &Model, r: &Results) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut w = Vec::new();
    write_summary(&mut w, lang, &r.stats).map_err(|e| format!("cannot write summary.csv: {e}"))?;
    out.push(("summary.csv", w));
    if let Some(sw) = &r.sweep {
        let mut w = Vec::new();
        write_sweep(&mut w, lang, m, sw).map_err(|e| format!("cannot write sweep.csv: {e}"))?;
        out.push(("sweep.csv", w));
    }
    if let Some(t) = &r.tornado {
        let mut w = Vec::new();
        write_tornado(&mut w, lang, m, t).map_err(|e| format!("cannot write tornado.csv: {e}"))?;
        out.push(("tornado.csv", w));
    }
    Ok(out)
}

/// Writes [`csv_files`] and every chart of [`charts`] (as SVG and PNG)
/// into `dir`: the files of `simulate --out` besides `runs.csv` and
/// `inputs.csv`.
pub fn write_files(dir: &Path, tr: &Tr, m: &Model, r: &Results) -> Result<(), String> {
    for (name, bytes) in csv_files(tr.lang(), m, r)? {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    for (name, chart) in charts(tr, m, r)? {
        charts::write(dir, &name, &chart)?;
    }
    Ok(())
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

/// `summary.csv`: per variant, period and party the statistics of the
/// result and the cash and the expected components.
fn write_summary(w: &mut Vec<u8>, lang: Lang, stats: &[VariantStats]) -> std::io::Result<()> {
    let sep = char::from(lang.csv_separator()).to_string();
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

/// The name of sweep axis `axis` (0 or 1): the input's id, or its change
/// in words when the input is a change against a base.
pub fn axis_name(m: &Model, tr: &Tr, axis: usize) -> String {
    let a = &m.scenarios.sweep[axis];
    let i = &m.scenarios.inputs[a.input];
    match &i.base {
        scenarios::Base::Absolute => i.id.clone(),
        _ => tr.t_args("simulate-change", &[("input", Arg::from(i.id.as_str()))]),
    }
}

/// `sweep.csv`: per sweep point, variant, period and party the net and the result.
fn write_sweep(w: &mut Vec<u8>, lang: Lang, m: &Model, sw: &[Vec<Outcome>]) -> std::io::Result<()> {
    let sep = char::from(lang.csv_separator());
    let en = Tr::new(Lang::En);
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
pub fn term_result(m: &Model, v: usize, o: &Outcome, p: usize) -> i64 {
    let np = m.variants[v].parties.len();
    o.results[(m.periods(v) - 1) * np + p]
}

/// The net cash over the term of party `p` of variant `v`, in cents.
pub fn term_net(m: &Model, v: usize, o: &Outcome, p: usize) -> i64 {
    let np = m.variants[v].parties.len();
    o.nets[(m.periods(v) - 1) * np + p]
}

/// `tornado.csv`: per variant, party and random input the term result and net at the input's P5, centre and P95.
fn write_tornado(w: &mut Vec<u8>, lang: Lang, m: &Model, t: &Tornado) -> std::io::Result<()> {
    let sep = char::from(lang.csv_separator()).to_string();
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

/// The first provider of variant `v` (the party the tornado and a
/// two-axis sweep follow), else its first party.
pub fn first_provider(m: &Model, v: usize) -> usize {
    m.variants[v].parties.iter().position(|p| p.role == Role::Provider).unwrap_or(0)
}

/// The contracts' currency (EUR unless they say otherwise); mixed
/// currencies are named each.
pub fn currency_of(m: &Model) -> String {
    let mut currencies: Vec<String> = m.variants.iter().map(|v| v.contract.currency.to_string()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    if currencies.is_empty() {
        "EUR".to_string()
    } else {
        currencies.join("/")
    }
}

/// The charts of a simulation, each with its file name without extension
/// (`distribution-VARIANT`, `sweep-VARIANT`, `tornado-VARIANT`,
/// `comparison`): what `simulate --out` writes and the web shows inline.
pub fn charts(tr: &Tr, m: &Model, r: &Results) -> Result<Vec<(String, Chart)>, String> {
    let (stats, sweep, tornado) = (&r.stats, r.sweep.as_deref(), r.tornado.as_ref());
    let mut out = Vec::new();
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
        out.push((format!("distribution-{}", s.variant), chart));

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
            out.push((format!("sweep-{}", s.variant), chart));
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
            out.push((format!("tornado-{}", s.variant), chart));
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
        out.push(("comparison".to_string(), chart));
    }
    Ok(out)
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
pub fn compared_parties(stats: &[VariantStats]) -> Vec<&str> {
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
            let r = run(&m, Lang::En, runs, 5, Some(dir.path()), max_nets, &|_| ()).unwrap();
            write_files(dir.path(), &Tr::new(Lang::En), &m, &r).unwrap();
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
