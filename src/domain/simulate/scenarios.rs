//! Reading a scenarios file (format in `docs/SIMULATION.md`).
//!
//! Like the contract reader, it walks the `toml_edit` document with spans so
//! that every problem names FILE:LINE:COLUMN and the field; problems are
//! collected, not returned early.

use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;

use rust_decimal::Decimal;
use toml_edit::{ImDocument, Item, TableLike, Value};

use super::dist::{cholesky, Dist};
use crate::domain::contract::diagnostic::{Pos, Reporter};
use crate::domain::contract::Diagnostic;

/// Largest scenarios file read, in bytes.
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;
/// Most points on one sweep axis.
pub const MAX_GRID: usize = 1000;

/// How one input's value is given in one year.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// The same value in every run.
    Fixed(Decimal),
    /// A draw per run.
    Dist(Dist),
}

/// What a drawn number means.
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    /// The number is the input's value.
    Absolute,
    /// The number is a change: value = base x (1 + change), base a number.
    Number(Decimal),
    /// The number is a change against the amount of a statement line of the
    /// same run and year (e.g. `shared_savings.benchmark`).
    Line(String),
}

/// One input (an indicator of the contract).
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// Indicator id.
    pub id: String,
    /// Line in the scenarios file.
    pub line: u32,
    /// Absolute value or change against a base.
    pub base: Base,
    /// The spec for years not listed in `years`.
    pub default: Spec,
    /// Specs of particular years.
    pub years: BTreeMap<u16, Spec>,
}

impl InputSpec {
    /// The spec of `year`.
    pub fn spec(&self, year: u16) -> &Spec {
        self.years.get(&year).unwrap_or(&self.default)
    }

    /// Whether any year draws at random.
    pub fn is_random(&self) -> bool {
        matches!(self.default, Spec::Dist(_)) || self.years.values().any(|s| matches!(s, Spec::Dist(_)))
    }
}

/// One axis of a sweep: an input and the values (or changes) it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Index into [`Scenarios::inputs`].
    pub input: usize,
    /// The grid, in increasing order.
    pub values: Vec<Decimal>,
}

/// A parsed scenarios file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenarios {
    /// The file name, for messages.
    pub file: String,
    /// Default number of Monte Carlo runs.
    pub runs: Option<u64>,
    /// Default seed.
    pub seed: Option<u64>,
    /// The inputs, in file order.
    pub inputs: Vec<InputSpec>,
    /// Random inputs that are correlated (indices into `inputs`), and the
    /// lower Cholesky factor of their correlation matrix (row major).
    pub correlated: Vec<usize>,
    /// Cholesky factor of the correlation matrix of `correlated`.
    pub cholesky: Vec<f64>,
    /// The sweep, when the file has one: one or two axes.
    pub sweep: Vec<Axis>,
}

struct P<'s> {
    r: Reporter<'s>,
}

impl<'s> P<'s> {
    fn err(&mut self, at: Pos, field: &str, message: impl Into<String>) {
        self.r.err(at, field, message)
    }

    fn pos(&self, span: Option<Range<usize>>, fallback: Pos) -> Pos {
        self.r.pos(span, fallback)
    }

    fn item_pos(&self, item: &Item, fallback: Pos) -> Pos {
        self.r.item_pos(item, fallback)
    }

    /// Checks that `t` has only `allowed` keys.
    fn keys(&mut self, t: &dyn TableLike, path: &str, at: Pos, allowed: &[&str]) {
        for (k, _) in t.iter() {
            if !allowed.contains(&k) {
                let kp = t.key(k).and_then(|k| k.span());
                let pos = self.pos(kp, at);
                self.err(pos, &format!("{path}.{k}"), format!("unknown key; expected one of: {}", allowed.join(", ")));
            }
        }
    }

    fn number(&mut self, v: &Value, path: &str, at: Pos) -> Option<f64> {
        let x = match v {
            Value::Integer(i) => *i.value() as f64,
            Value::Float(f) => *f.value(),
            _ => {
                self.err(at, path, "expected a number");
                return None;
            }
        };
        if !x.is_finite() || x.abs() > 1e13 {
            self.err(at, path, "expected a finite number of at most 10^13");
            return None;
        }
        Some(x)
    }

    fn num_key(&mut self, t: &dyn TableLike, key: &str, path: &str, at: Pos) -> Option<f64> {
        let item = t.get(key)?;
        let pos = self.item_pos(item, at);
        match item.as_value() {
            Some(v) => self.number(v, &format!("{path}.{key}"), pos),
            None => {
                self.err(pos, &format!("{path}.{key}"), "expected a number");
                None
            }
        }
    }

    fn spec(&mut self, item: &Item, path: &str, at: Pos) -> Option<Spec> {
        let at = self.item_pos(item, at);
        if let Some(v) = item.as_value() {
            if matches!(v, Value::Integer(_) | Value::Float(_)) {
                let x = self.number(v, path, at)?;
                return Some(Spec::Fixed(to_decimal(x)));
            }
        }
        let Some(t) = item.as_table_like() else {
            self.err(at, path, "expected a number or a distribution table { dist = ..., ... }");
            return None;
        };
        let kind = t.get("dist").and_then(|d| d.as_str()).map(str::to_string);
        let allowed: &[&str] = match kind.as_deref() {
            Some("normal" | "lognormal") => &["dist", "mean", "sd", "min", "max"],
            Some("triangular") => &["dist", "min", "mode", "max"],
            Some("uniform") => &["dist", "min", "max"],
            _ => {
                self.err(
                    at,
                    &format!("{path}.dist"),
                    "expected dist = \"normal\", \"lognormal\", \"triangular\" or \"uniform\"",
                );
                return None;
            }
        };
        self.keys(t, path, at, allowed);
        let min = self.num_key(t, "min", path, at);
        let max = self.num_key(t, "max", path, at);
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                self.err(at, &format!("{path}.min"), format!("min {lo} is above max {hi}"));
                return None;
            }
        }
        let need = |p: &mut Self, x: Option<f64>, k: &str| {
            if x.is_none() && t.get(k).is_none() {
                p.err(
                    at,
                    &format!("{path}.{k}"),
                    format!("a {} distribution needs {k}", kind.as_deref().unwrap_or("")),
                );
            }
            x
        };
        match kind.as_deref() {
            Some(k @ ("normal" | "lognormal")) => {
                let mean = self.num_key(t, "mean", path, at);
                let sd = self.num_key(t, "sd", path, at);
                let (mean, sd) = (need(self, mean, "mean")?, need(self, sd, "sd")?);
                if sd < 0.0 {
                    self.err(at, &format!("{path}.sd"), format!("the standard deviation {sd} is negative"));
                    return None;
                }
                if k == "normal" {
                    return Some(Spec::Dist(Dist::Normal { mean, sd, min, max }));
                }
                if mean <= 0.0 || sd == 0.0 {
                    self.err(at, path, "a lognormal needs mean > 0 and sd > 0");
                    return None;
                }
                if max.is_some_and(|m| m <= 0.0) {
                    self.err(at, &format!("{path}.max"), "a lognormal has only values above 0");
                    return None;
                }
                Some(Spec::Dist(Dist::lognormal(mean, sd, min, max)))
            }
            Some("triangular") => {
                let mode = self.num_key(t, "mode", path, at);
                let (lo, mode, hi) = (need(self, min, "min")?, need(self, mode, "mode")?, need(self, max, "max")?);
                if !(lo <= mode && mode <= hi && lo < hi) {
                    self.err(
                        at,
                        path,
                        format!("a triangular needs min <= mode <= max and min < max; got {lo}, {mode}, {hi}"),
                    );
                    return None;
                }
                Some(Spec::Dist(Dist::Triangular { min: lo, mode, max: hi }))
            }
            _ => {
                let (lo, hi) = (need(self, min, "min")?, need(self, max, "max")?);
                if lo >= hi {
                    self.err(at, path, format!("a uniform needs min < max; got {lo}, {hi}"));
                    return None;
                }
                Some(Spec::Dist(Dist::Uniform { min: lo, max: hi }))
            }
        }
    }
}

/// An f64 read from the file as the exact decimal it was written as (the
/// shortest text that reads back as the same float).
pub(crate) fn to_decimal(x: f64) -> Decimal {
    Decimal::from_str(&format!("{x}")).or_else(|_| Decimal::from_scientific(&format!("{x:e}"))).unwrap_or_default()
}

/// Parses the scenarios text. `file` names the file in diagnostics.
pub fn parse(file: &str, text: &str) -> Result<Scenarios, Vec<Diagnostic>> {
    let mut p = P { r: Reporter::new(file, text) };
    if text.len() > MAX_SCENARIO_BYTES {
        p.err(Pos::START, "", format!("file is larger than {MAX_SCENARIO_BYTES} bytes"));
        return Err(p.r.diags);
    }
    let doc = match ImDocument::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let at = p.r.pos(e.span(), Pos::START);
            let flat: Vec<&str> = e.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            p.err(at, "", format!("not valid TOML: {}", flat.join("; ")));
            return Err(p.r.diags);
        }
    };
    let root = doc.as_table();
    p.keys(root, "", Pos::START, &["simulation", "inputs", "correlations", "sweep"]);
    let mut s = Scenarios {
        file: file.to_string(),
        runs: None,
        seed: None,
        inputs: Vec::new(),
        correlated: Vec::new(),
        cholesky: Vec::new(),
        sweep: Vec::new(),
    };
    if let Some(item) = root.get("simulation") {
        let at = p.item_pos(item, Pos::START);
        match item.as_table_like() {
            Some(t) => {
                p.keys(t, "simulation", at, &["runs", "seed"]);
                for key in ["runs", "seed"] {
                    if let Some(v) = t.get(key) {
                        let pos = p.item_pos(v, at);
                        match v.as_integer() {
                            Some(n) if n >= 1 || (key == "seed" && n >= 0) => {
                                if key == "runs" {
                                    s.runs = Some(n as u64)
                                } else {
                                    s.seed = Some(n as u64)
                                }
                            }
                            _ => p.err(pos, &format!("simulation.{key}"), "expected a positive integer"),
                        }
                    }
                }
            }
            None => p.err(at, "simulation", "expected a table"),
        }
    }
    let Some(inputs) = root.get("inputs").and_then(|i| i.as_table_like()) else {
        p.err(Pos::START, "inputs", "the file has no [inputs] table");
        return Err(p.r.diags);
    };
    for (id, item) in inputs.iter() {
        let path = format!("inputs.{id}");
        let at = p.pos(inputs.key(id).and_then(|k| k.span()), p.item_pos(item, Pos::START));
        let Some(t) = item.as_table_like() else {
            p.err(at, &path, "expected a table with value = ... or change = ...");
            continue;
        };
        p.keys(t, &path, at, &["value", "change", "base", "years"]);
        let base = match t.get("base") {
            None => Base::Absolute,
            Some(b) => {
                let bp = p.item_pos(b, at);
                match b.as_value() {
                    Some(Value::String(s)) => Base::Line(s.value().to_string()),
                    Some(v @ (Value::Integer(_) | Value::Float(_))) => match p.number(v, &format!("{path}.base"), bp) {
                        Some(x) => Base::Number(to_decimal(x)),
                        None => continue,
                    },
                    _ => {
                        p.err(bp, &format!("{path}.base"), "expected a number or a statement line id");
                        continue;
                    }
                }
            }
        };
        let key = if base == Base::Absolute { "value" } else { "change" };
        let other = if key == "value" { "change" } else { "value" };
        if t.get(other).is_some() {
            p.err(
                at,
                &format!("{path}.{other}"),
                if key == "value" {
                    "change = ... needs base = ...".to_string()
                } else {
                    "with base = ..., give change = ..., not value".to_string()
                },
            );
            continue;
        }
        let Some(d) = t.get(key) else {
            p.err(at, &format!("{path}.{key}"), format!("missing {key} = ..."));
            continue;
        };
        // The line of `value = ...` / `change = ...` names the input in
        // later messages (a [inputs.x] header has no span of its own).
        let line = p.item_pos(d, at).line;
        let Some(default) = p.spec(d, &format!("{path}.{key}"), at) else { continue };
        let mut years = BTreeMap::new();
        if let Some(y) = t.get("years") {
            let yp = p.item_pos(y, at);
            match y.as_table_like() {
                Some(yt) => {
                    for (k, v) in yt.iter() {
                        let kp = p.pos(yt.key(k).and_then(|k| k.span()), yp);
                        match k.parse::<u16>() {
                            Ok(year) if (1900..=2200).contains(&year) => {
                                if let Some(spec) = p.spec(v, &format!("{path}.years.{k}"), kp) {
                                    years.insert(year, spec);
                                }
                            }
                            _ => p.err(kp, &format!("{path}.years.{k}"), "expected a year such as 2026"),
                        }
                    }
                }
                None => p.err(yp, &format!("{path}.years"), "expected a table of years"),
            }
        }
        s.inputs.push(InputSpec { id: id.to_string(), line, base, default, years });
    }
    let index = |s: &Scenarios, id: &str| s.inputs.iter().position(|i| i.id == id);

    // Correlations: a matrix over the random inputs that appear in any pair.
    let mut pairs: Vec<(usize, usize, f64, Pos)> = Vec::new();
    let mut first_corr = Pos::START;
    if let Some(item) = root.get("correlations") {
        first_corr = p.item_pos(item, Pos::START);
        match item.as_array_of_tables() {
            Some(arr) => {
                for (n, t) in arr.iter().enumerate() {
                    let path = format!("correlations[{}]", n + 1);
                    let at = p.pos(t.span(), first_corr);
                    p.keys(t, &path, at, &["inputs", "rho"]);
                    let names: Vec<String> = t
                        .get("inputs")
                        .and_then(|i| i.as_array())
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default();
                    if names.len() != 2 || names[0] == names[1] {
                        p.err(
                            at,
                            &format!("{path}.inputs"),
                            "expected two different input names: inputs = [\"a\", \"b\"]",
                        );
                        continue;
                    }
                    let Some(rho) = p.num_key(t, "rho", &path, at) else {
                        p.err(at, &format!("{path}.rho"), "missing rho = ... (between -1 and 1)");
                        continue;
                    };
                    if !(-1.0..=1.0).contains(&rho) {
                        p.err(at, &format!("{path}.rho"), format!("rho {rho} is not between -1 and 1"));
                        continue;
                    }
                    let mut ix = Vec::new();
                    for name in &names {
                        match index(&s, name) {
                            Some(i) if s.inputs[i].is_random() => ix.push(i),
                            Some(_) => p.err(
                                at,
                                &format!("{path}.inputs"),
                                format!("{name} is fixed: only random inputs correlate"),
                            ),
                            None => {
                                p.err(at, &format!("{path}.inputs"), format!("{name} is not an input of this file"))
                            }
                        }
                    }
                    if ix.len() == 2 {
                        if pairs.iter().any(|&(a, b, _, _)| (a, b) == (ix[0], ix[1]) || (a, b) == (ix[1], ix[0])) {
                            p.err(at, &format!("{path}.inputs"), "this pair is correlated twice");
                            continue;
                        }
                        pairs.push((ix[0], ix[1], rho, at));
                    }
                }
            }
            None => p.err(first_corr, "correlations", "expected [[correlations]] tables"),
        }
    }
    if !pairs.is_empty() && p.r.diags.is_empty() {
        let mut members: Vec<usize> = pairs.iter().flat_map(|&(a, b, _, _)| [a, b]).collect();
        members.sort_unstable();
        members.dedup();
        let n = members.len();
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            m[i * n + i] = 1.0;
        }
        for &(a, b, rho, _) in &pairs {
            let (i, j) = (members.binary_search(&a).unwrap_or(0), members.binary_search(&b).unwrap_or(0));
            m[i * n + j] = rho;
            m[j * n + i] = rho;
        }
        match cholesky(&m, n) {
            Some(l) => {
                s.correlated = members;
                s.cholesky = l;
            }
            None => {
                let names: Vec<&str> = members.iter().map(|&i| s.inputs[i].id.as_str()).collect();
                p.err(
                    first_corr,
                    "correlations",
                    format!(
                        "the correlation matrix of {} is not positive semi-definite (these correlations cannot hold together)",
                        names.join(", ")
                    ),
                );
            }
        }
    }

    if let Some(item) = root.get("sweep") {
        let at = p.item_pos(item, Pos::START);
        match item.as_table_like() {
            Some(t) => {
                p.keys(t, "sweep", at, &["x", "y"]);
                for axis in ["x", "y"] {
                    let Some(a) = t.get(axis) else { continue };
                    let path = format!("sweep.{axis}");
                    let ap = p.item_pos(a, at);
                    let Some(at_) = a.as_table_like() else {
                        p.err(ap, &path, "expected { input = ..., from = ..., to = ..., step = ... } or { input = ..., values = [...] }");
                        continue;
                    };
                    p.keys(at_, &path, ap, &["input", "from", "to", "step", "values"]);
                    let name = at_.get("input").and_then(|i| i.as_str()).unwrap_or_default().to_string();
                    let Some(input) = index(&s, &name) else {
                        p.err(ap, &format!("{path}.input"), format!("'{name}' is not an input of this file"));
                        continue;
                    };
                    let mut values = Vec::new();
                    if let Some(vs) = at_.get("values").and_then(|v| v.as_array()) {
                        for v in vs.iter() {
                            if let Some(x) = p.number(v, &format!("{path}.values"), ap) {
                                values.push(to_decimal(x));
                            }
                        }
                    } else {
                        let from = p.num_key(at_, "from", &path, ap);
                        let to = p.num_key(at_, "to", &path, ap);
                        let step = p.num_key(at_, "step", &path, ap);
                        let (Some(from), Some(to), Some(step)) = (from, to, step) else {
                            p.err(ap, &path, "give from, to and step, or values");
                            continue;
                        };
                        if step <= 0.0 || from > to {
                            p.err(ap, &path, "a grid needs from <= to and step > 0");
                            continue;
                        }
                        let (from, to, step) = (to_decimal(from), to_decimal(to), to_decimal(step));
                        let mut v = from;
                        while v <= to && values.len() <= MAX_GRID {
                            values.push(v);
                            v += step;
                        }
                    }
                    values.sort();
                    values.dedup();
                    if values.is_empty() || values.len() > MAX_GRID {
                        p.err(ap, &path, format!("a sweep axis has 1 to {MAX_GRID} values"));
                        continue;
                    }
                    if s.sweep.iter().any(|x: &Axis| x.input == input) {
                        p.err(ap, &path, "both axes sweep the same input");
                        continue;
                    }
                    s.sweep.push(Axis { input, values });
                }
            }
            None => p.err(at, "sweep", "expected a table"),
        }
    }
    if p.r.diags.is_empty() {
        Ok(s)
    } else {
        Err(p.r.diags)
    }
}

/// Reads and parses a scenarios file.
pub fn read_file(path: &std::path::Path) -> Result<Scenarios, Vec<Diagnostic>> {
    let name = path.display().to_string();
    let whole =
        |m: String| vec![Diagnostic { file: name.clone(), line: 1, column: 1, field: String::new(), message: m }];
    let meta = std::fs::metadata(path).map_err(|e| whole(format!("cannot read file: {e}")))?;
    if meta.len() > MAX_SCENARIO_BYTES as u64 {
        return Err(whole(format!("file is larger than {MAX_SCENARIO_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| whole(format!("cannot read file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| whole("file is not UTF-8 text".to_string()))?;
    parse(&name, &text)
}
