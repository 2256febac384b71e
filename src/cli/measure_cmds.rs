//! `vereffen measure ...`: agreed outcome measurements.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};

use vereffen::domain::derive::Rules;
use vereffen::domain::measurement as meas;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::Ledger;
use vereffen::present::measure::{self as pm, attestation, find_measurement, pending_for, FigureRow as Row, Target};

use super::{open_ledger, signer, Cli};

/// Most rows one measurement file may hold.
const MAX_FILE_ROWS: usize = 10_000;

#[derive(Subcommand, Debug)]
pub enum MeasureCmd {
    /// Submit figures: from a CSV or JSON file, or one with --indicator/--period/--value.
    Submit {
        /// The contract id.
        contract: String,
        /// A CSV (indicator,period,value[,note]) or JSON ([{indicator, period, value, note}]) file.
        #[arg(long, conflicts_with_all = ["indicator", "period", "value"])]
        file: Option<PathBuf>,
        /// The indicator id.
        #[arg(long, requires_all = ["period", "value"])]
        indicator: Option<String>,
        /// The period (2026, 2026-Q2 or 2026-03, as the indicator says).
        #[arg(long)]
        period: Option<String>,
        /// The value, an exact decimal.
        #[arg(long)]
        value: Option<String>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        /// The source's key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Derive figures from a row-level claims extract by stated rules, and submit them with the file's and the rules' hashes.
    Derive {
        /// The contract id.
        contract: String,
        /// The rules file (TOML; see docs/DERIVE.md).
        #[arg(long)]
        rules: PathBuf,
        /// The claims file (CSV).
        #[arg(long)]
        file: PathBuf,
        /// The contract year to derive.
        #[arg(long)]
        period: u16,
        /// The source's key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Recompute a derived figure from your own copy of the claims file: a match, or the difference.
    Recompute {
        /// The measurement id (or prefix).
        id: String,
        /// Your copy of the claims file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Record your agreement with a figure (shown first; asks for confirmation unless --yes).
    Attest {
        /// The measurement id (or a unique prefix of at least 8 characters); or --all-pending.
        #[arg(required_unless_present = "all_pending", conflicts_with = "all_pending")]
        id: Option<String>,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
        /// With --all-pending: the contract id.
        #[arg(long, requires = "all_pending")]
        contract: Option<String>,
        /// With --all-pending: the contract year.
        #[arg(long, requires = "all_pending")]
        year: Option<u16>,
        /// Attest every figure of the contract year that waits for your attestation, in one batch (all or none).
        #[arg(long, requires_all = ["contract", "year"])]
        all_pending: bool,
        /// Sign without asking (for scripts); without it, a standard input that is not a terminal is an error.
        #[arg(long)]
        yes: bool,
    },
    /// Object to a figure, with a reason.
    Dispute {
        /// The measurement id (or prefix).
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Record a new figure that supersedes one (which stays in the ledger).
    Correct {
        /// The measurement id (or prefix).
        id: String,
        /// The new value.
        #[arg(long)]
        value: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// The source's key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Each indicator and period: value, source, state, who has to act; missing figures too.
    List {
        /// The contract id.
        contract: String,
        /// Only this contract year.
        #[arg(long)]
        year: Option<u16>,
        /// Only this state (agreed, pending, disputed, superseded, conflict, missing).
        #[arg(long)]
        state: Option<String>,
    },
}

/// Largest measurement file read, in bytes.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The fields a figure in a measurement file may have.
const FIGURE_FIELDS: [&str; 4] = ["indicator", "period", "value", "note"];

/// The 1-based line of byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// The line of `part`, a slice of `text` (as the JSON reader's raw values are).
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    debug_assert!(offset <= text.len(), "a raw JSON value borrows from the file text");
    line_at(text, offset)
}

/// A JSON object read as its fields in file order, duplicates included (so
/// they can be refused: serde_json would silently keep the last one).
struct RawObject<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de> serde::Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object {indicator, period, value, note}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    fields.push((k, map.next_value()?));
                }
                Ok(RawObject(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads a JSON measurement file: a list of objects with exactly the fields
/// `indicator`, `period`, `value` and optionally `note`. Duplicate and
/// unknown fields are refused; a value is a string or a JSON number read
/// from its literal text (never through a binary float).
fn read_json_rows(path: &Path, text: &str) -> Result<Vec<Row>> {
    use serde_json::value::RawValue;
    let file = path.display();
    let list: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        anyhow!("{file}:{}: expected a JSON list of {{indicator, period, value, note}} objects: {e}", e.line().max(1))
    })?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for raw in list {
        let line = line_of(text, raw.get());
        let Ok(RawObject(fields)) = serde_json::from_str::<RawObject>(raw.get()) else {
            problems.push(format!("{file}:{line}: each figure must be an object {{indicator, period, value, note}}"));
            continue;
        };
        let mut row = Row { line, indicator: String::new(), period: String::new(), value: String::new(), note: None };
        let mut seen = BTreeSet::new();
        let mut bad_row = false;
        for (key, v) in &fields {
            let at = line_of(text, v.get());
            let mut bad = |m: String| {
                problems.push(format!("{file}:{at}: {m}"));
                bad_row = true;
            };
            if !FIGURE_FIELDS.contains(&key.as_str()) {
                bad(format!("unknown field {key:?} (allowed: {})", FIGURE_FIELDS.join(", ")));
                continue;
            }
            if !seen.insert(key.as_str()) {
                bad(format!("field {key:?} appears twice in this figure; write it once"));
                continue;
            }
            let as_string = serde_json::from_str::<String>(v.get()).ok();
            let literal = v.get();
            let number = literal.starts_with(|c: char| c == '-' || c.is_ascii_digit());
            match (key.as_str(), as_string) {
                (_, Some(s)) if key == "note" => row.note = Some(s).filter(|n| !n.is_empty()),
                ("note", None) if literal == "null" => {}
                ("value", None) if number => row.value = literal.to_string(),
                ("value", None) => bad(format!(
                    "field \"value\" must be a decimal number or a string, found {}",
                    vereffen::ledger::text::escape_line(literal)
                )),
                (_, None) => bad(format!(
                    "field {key:?} must be a string, found {}",
                    vereffen::ledger::text::escape_line(literal)
                )),
                ("indicator", Some(s)) => row.indicator = s,
                ("period", Some(s)) => row.period = s,
                (_, Some(s)) => row.value = s,
            }
        }
        for required in ["indicator", "period", "value"] {
            if !seen.contains(required) {
                problems.push(format!("{file}:{line}: this figure has no field {required:?}"));
                bad_row = true;
            }
        }
        if !bad_row {
            rows.push(row);
        }
    }
    if !problems.is_empty() {
        bail!("nothing was submitted; {} problem(s):\n{}", problems.len(), problems.join("\n"));
    }
    Ok(rows)
}

fn read_csv_rows(path: &Path, text: &str) -> Result<Vec<Row>> {
    vereffen::domain::csv_strict::QuoteCheck::check(text.as_bytes())
        .map_err(|e| anyhow!("{}:{}: {}", path.display(), e.line, e.what))?;
    let mut rows = Vec::new();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| anyhow!("{}:1: {e}", path.display()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ci), Some(cp), Some(cv)) = (col("indicator"), col("period"), col("value")) else {
        bail!(
            "{}:1: the header must name the columns indicator,period,value (and optionally note); found {:?}",
            path.display(),
            headers.iter().collect::<Vec<_>>()
        );
    };
    if let Some(extra) = headers.iter().find(|h| !FIGURE_FIELDS.contains(h)) {
        bail!("{}:1: unknown column {extra:?} (allowed: indicator, period, value, note)", path.display());
    }
    if let Some(dup) = headers.iter().enumerate().find(|(i, h)| headers.iter().take(*i).any(|x| x == *h)) {
        bail!("{}:1: column {:?} appears twice in the header", path.display(), dup.1);
    }
    let cn = col("note");
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(i + 2, |p| p.line() as usize);
            anyhow!("{}:{line}: {e}", path.display())
        })?;
        let get = |c: usize| rec.get(c).unwrap_or("").to_string();
        rows.push(Row {
            line: rec.position().map_or(i + 2, |p| p.line() as usize),
            indicator: get(ci),
            period: get(cp),
            value: get(cv),
            note: cn.map(get).filter(|n| !n.is_empty()),
        });
    }
    Ok(rows)
}

fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > MAX_FILE_BYTES {
        bail!("{}: {size} bytes exceed the limit of {MAX_FILE_BYTES} bytes per measurement file", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = if path.extension().and_then(|e| e.to_str()) == Some("json") {
        read_json_rows(path, &text)?
    } else {
        read_csv_rows(path, &text)?
    };
    if rows.is_empty() {
        bail!("{}: the file holds no figures", path.display());
    }
    if rows.len() > MAX_FILE_ROWS {
        bail!("{}: {} rows exceed the limit of {MAX_FILE_ROWS} per file", path.display(), rows.len());
    }
    Ok(rows)
}

pub fn measure(cli: &Cli, cmd: &MeasureCmd) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    match cmd {
        MeasureCmd::Submit { contract, file, indicator, period, value, note, as_key } => {
            let rows = match (file, indicator, period, value) {
                (Some(f), _, _, _) => read_rows(f)?,
                (None, Some(i), Some(p), Some(v)) => {
                    vec![Row { line: 0, indicator: i.clone(), period: p.clone(), value: v.clone(), note: note.clone() }]
                }
                _ => bail!("give --file FILE, or --indicator, --period and --value"),
            };
            let origin = file.as_ref().map(|f| f.display().to_string()).unwrap_or_else(|| "command line".into());
            submit_rows(cli, &mut ledger, contract, &rows, &origin, as_key, None)?;
        }
        MeasureCmd::Attest { id, as_key, contract, year, all_pending, yes } => {
            let (key, party) = signer(&ledger, as_key)?;
            let targets = match (id, contract, year) {
                (Some(id), _, _) if !*all_pending => vec![find_measurement(&ledger, id)?],
                (None, Some(c), Some(y)) if *all_pending => pending_for(&ledger, c, *y, &party)?,
                _ => bail!("give a measurement id, or --all-pending with --contract C --year Y"),
            };
            let mut entries = Vec::with_capacity(targets.len());
            let mut shown = Vec::with_capacity(targets.len());
            for m in &targets {
                let (body, this) = attestation(&ledger, m, &party, &key)?;
                entries.push(Entry::sign(body, &[&key])?);
                shown.push(this);
            }
            let what =
                if shown.len() == 1 { "this figure".to_string() } else { format!("these {} figures", shown.len()) };
            let summary = attest_summary(&party, &shown);
            super::confirm::confirm(&summary, &format!("Attest {what} as {party}?"), *yes, cli.json)?;
            let seqs = ledger.append(&entries)?;
            if cli.json {
                let list: Vec<Value> = entries
                    .iter()
                    .zip(&seqs)
                    .map(|(e, s)| json!({"seq": s, "id": e.id().to_hex(), "kind": e.kind()}))
                    .collect();
                let out = if list.len() == 1 && !*all_pending { list[0].clone() } else { Value::from(list) };
                outln!("{out}");
            } else {
                for (e, s) in entries.iter().zip(&seqs) {
                    outln!("appended {} as entry {} (sequence {s})", e.kind(), e.id().short());
                }
            }
        }
        MeasureCmd::Dispute { id, reason, as_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            let m = find_measurement(&ledger, id)?;
            let body = pm::dispute_body(&ledger, &m, &party, &key, reason)?;
            super::append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        MeasureCmd::Correct { id, value, reason, as_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            let m = find_measurement(&ledger, id)?;
            let body = pm::correct_body(&ledger, &m, &party, &key, value, reason)?;
            super::append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        MeasureCmd::List { contract, year, state } => list(cli, &ledger, contract, *year, state.as_deref())?,
        MeasureCmd::Derive { contract, rules, file, period, as_key } => {
            let rules_parsed = Rules::from_file(rules)?;
            let pm::Derived { rows, derivations, derivation } =
                pm::derive_figures(&ledger, contract, &rules_parsed, &rules.display().to_string(), file, *period)?;
            if !cli.json {
                outln!(
                    "derived from {} ({} rows read, {} counted, {} outside {period}, {} outside the fence; file blake3 {})",
                    file.display(),
                    derivation.rows_read,
                    derivation.rows_counted,
                    derivation.rows_outside_period,
                    derivation.rows_outside_fence,
                    &derivation.file_hash[..16]
                );
            }
            let origin = format!("derived from {}", file.display());
            submit_rows(cli, &mut ledger, contract, &rows, &origin, as_key, Some(derivations))?;
        }
        MeasureCmd::Recompute { id, file } => return recompute(cli, &ledger, id, file),
    }
    Ok(0)
}

/// What an attestation signs, for a person to check: per figure the
/// contract, indicator, period, value with its unit, source and entry.
fn attest_summary(party: &str, targets: &[Target]) -> String {
    use std::fmt::Write as _;
    let esc = vereffen::ledger::text::escape_line;
    let mut s = format!("{party} attests {} figure(s):\n", targets.len());
    for t in targets {
        let m = &t.m;
        let value = if m.unit == "eur" {
            format!("{} EUR", vereffen::domain::settlement::format_money(m.value))
        } else {
            format!("{} {}", m.value, esc(&m.unit))
        };
        let _ = writeln!(
            s,
            "  contract {}  indicator {}  period {}  value {value}  source {}  measurement {}{}",
            esc(&t.contract),
            esc(&m.indicator),
            esc(&m.period),
            esc(&m.source),
            &m.id[..12.min(m.id.len())],
            m.corrects.as_deref().map(|c| format!(" (corrects {})", &c[..12.min(c.len())])).unwrap_or_default()
        );
    }
    s
}

/// Checks every row and appends all of them in one batch, or none.
fn submit_rows(
    cli: &Cli,
    ledger: &mut Ledger,
    contract: &str,
    rows: &[Row],
    origin: &str,
    as_key: &Path,
    derivations: Option<Vec<meas::Derivation>>,
) -> Result<()> {
    let (key, party) = signer(ledger, as_key)?;
    let entries = pm::submit_entries(ledger, &key, &party, contract, rows, origin, derivations)?;
    let seqs = ledger.append(&entries)?;
    if cli.json {
        let list: Vec<Value> =
            entries.iter().zip(&seqs).map(|(e, s)| json!({"seq": s, "id": e.id().to_hex()})).collect();
        outln!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for (e, s) in entries.iter().zip(&seqs) {
            let p = &e.body().payload;
            outln!(
                "submitted {} {} = {} as measurement {} (sequence {s})",
                p["indicator"].as_str().unwrap_or(""),
                p["period"].as_str().unwrap_or(""),
                p["value"].as_str().unwrap_or(""),
                e.id().short()
            );
        }
    }
    Ok(())
}

/// Recomputes a derived measurement from a copy of its source file.
fn recompute(cli: &Cli, ledger: &Ledger, id: &str, file: &Path) -> Result<i32> {
    let m = find_measurement(ledger, id)?;
    let r = pm::recompute(ledger, &m, file)?;
    if cli.json {
        outln!(
            "{}",
            json!({"measurement": r.measurement, "indicator": r.indicator, "period": r.period, "recorded": r.recorded,
            "recomputed": r.recomputed.to_string(), "match": r.same_value, "same_file": r.same_file,
            "recorded_file_hash": r.recorded_file_hash, "file_hash": r.file_hash, "rows_read": r.rows_read, "recorded_rows_read": r.recorded_rows_read})
        );
    } else {
        outln!(
            "{} {}: recorded {}, recomputed {} from {}",
            r.indicator,
            r.period,
            r.recorded,
            r.recomputed,
            file.display()
        );
        if r.same_file {
            outln!("file: identical to the one the figure was derived from (blake3 {})", &r.recorded_file_hash[..16]);
        } else {
            outln!(
                "file: DIFFERS from the one the figure was derived from (blake3 {} recorded, {} here; {} rows recorded, {} here)",
                &r.recorded_file_hash[..16],
                &r.file_hash[..16],
                r.recorded_rows_read,
                r.rows_read
            );
        }
        outln!(
            "{}",
            if r.same_value {
                "MATCH: the figure follows from this file and the recorded rules"
            } else {
                "DIFFERENT: the figure does not follow from this file"
            }
        );
    }
    Ok(if r.same_value { 0 } else { 1 })
}

fn list(cli: &Cli, ledger: &Ledger, contract: &str, year: Option<u16>, state: Option<&str>) -> Result<()> {
    let rows = pm::list_rows(ledger, contract, year, state)?;
    if cli.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "{:<24} {:<8} {:>16} {:<15} {:<12} {:<11} {:<12} WHO HAS TO ACT",
        "INDICATOR",
        "PERIOD",
        "VALUE",
        "UNIT",
        "SOURCE",
        "STATE",
        "ID"
    );
    for r in &rows {
        let to_act: Vec<&str> =
            r["to_act"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let action = match r["state"].as_str() {
            Some("missing") => format!("{} to submit", to_act.join(", ")),
            Some("pending") => format!("{} to attest", to_act.join(", ")),
            Some("disputed") => {
                format!("{} to correct (disputed: {})", to_act.join(", "), disputed_reasons(&r["detail"]))
            }
            Some("conflict") => format!("{} to correct one of the conflicting figures", to_act.join(", ")),
            _ => String::new(),
        };
        let action = match r["settlement_conflict"].as_str() {
            Some(c) if action.is_empty() => format!("CONFLICT: {c}"),
            Some(c) => format!("{action}; CONFLICT: {c}"),
            None => action,
        };
        outln!(
            "{:<24} {:<8} {:>16} {:<15} {:<12} {:<11} {:<12} {}",
            r["indicator"].as_str().unwrap_or(""),
            r["period"].as_str().unwrap_or(""),
            r["value"].as_str().unwrap_or("-"),
            r["unit"].as_str().unwrap_or(""),
            r["source"].as_str().unwrap_or(""),
            r["state"].as_str().unwrap_or(""),
            r["id"].as_str().map(|i| &i[..12]).unwrap_or("-"),
            vereffen::ledger::text::escape_line(&action)
        );
    }
    Ok(())
}

fn disputed_reasons(detail: &Value) -> String {
    detail["by"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(p, r)| {
                    format!(
                        "{p}: {}",
                        r.as_array()
                            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
