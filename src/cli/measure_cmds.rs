//! `vereffen measure ...`: agreed outcome measurements.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};

use ed25519_dalek::SigningKey;
use vereffen::domain::contract::Indicator;
use vereffen::domain::derive::{self, Granularity, Rules};
use vereffen::domain::measurement::{self as meas, Measurement, State};
use vereffen::domain::negotiation::{self as neg, VersionInfo};
use vereffen::ledger::entry::{Body, Entry, EntryId};
use vereffen::ledger::Ledger;

use super::{new_body, open_ledger, signer, Cli};

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

fn lookup(ledger: &Ledger) -> impl Fn(&EntryId) -> Option<Entry> + '_ {
    move |id| ledger.get(id).ok().flatten().map(|(_, e)| e)
}

fn contract_entries(ledger: &Ledger, contract: &str) -> Result<Vec<Entry>> {
    Ok(ledger.contract_entries(contract)?)
}

/// The negotiation status and the measurements of a contract.
fn contract_state(ledger: &Ledger, contract: &str) -> Result<(neg::ContractStatus, Vec<Measurement>)> {
    let entries = contract_entries(ledger, contract)?;
    let st = neg::status(contract, &entries);
    if st.versions.is_empty() {
        bail!("there is no contract {contract:?} in this ledger (`vereffen contract list` shows the contracts)");
    }
    let ms = meas::states(contract, &entries, &lookup(ledger));
    Ok((st, ms))
}

fn governing(st: &neg::ContractStatus, year: u16) -> Result<&VersionInfo> {
    if st.base.is_none() {
        bail!("contract {:?} is not in force: figures are submitted under the version in force (`vereffen contract status {}`)", st.contract, st.contract);
    }
    st.governing(year)
        .ok_or_else(|| anyhow!("no version of contract {:?} governs {year}: it lies outside the term", st.contract))
}

/// Finds a measurement by id or unique prefix among all measurement entries.
fn find_measurement(ledger: &Ledger, id: &str) -> Result<Entry> {
    if id.len() < 8 {
        bail!("measurement id {id:?} is too short: give at least 8 characters");
    }
    let mut hits = Vec::new();
    for kind in [meas::KIND_SUBMIT, meas::KIND_CORRECT] {
        for (seq, eid) in ledger.index().by_kind(kind)? {
            if eid.to_hex().starts_with(id) {
                hits.push((seq, eid));
            }
        }
    }
    match hits.as_slice() {
        [one] => Ok(ledger.load(&[*one])?.remove(0).1),
        [] => bail!("there is no measurement {id} in this ledger (`vereffen measure list CONTRACT` shows them)"),
        _ => bail!("measurement id prefix {id} is ambiguous; give more characters"),
    }
}

struct Row {
    line: usize,
    indicator: String,
    period: String,
    value: String,
    note: Option<String>,
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
            let this = response_target(&ledger, &m, &party)?;
            let body = new_body(
                &ledger,
                &party,
                &key,
                meas::KIND_DISPUTE,
                vec![m.id().to_hex()],
                meas::response_payload(&this.contract, &m.id().to_hex(), Some(reason.as_str())),
            );
            super::append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        MeasureCmd::Correct { id, value, reason, as_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            let m = find_measurement(&ledger, id)?;
            let (p, _, ind) = meas::figure_of(&m, &lookup(&ledger))?;
            let (st, ms) = contract_state(&ledger, &p.contract)?;
            if let Some(State::Superseded { by }) = ms.iter().find(|x| x.id == m.id().to_hex()).map(|x| &x.state) {
                bail!("measurement {} was already superseded by {}; correct that one", m.id().short(), &by[..12]);
            }
            let v = meas::parse_value(ind.unit, value).map_err(|e| anyhow!(e))?;
            if v.to_string() == p.value {
                bail!("the value {v} is unchanged: a correction must change the figure (attest or dispute instead)");
            }
            let year = meas::period_year(&ind, &p.period).map_err(|e| anyhow!(e))?;
            let version = governing(&st, year)?;
            let payload = meas::figure_payload(
                &p.contract,
                &version.version,
                &p.indicator,
                &p.period,
                v,
                None,
                None,
                Some((&m.id().to_hex(), reason)),
            );
            let body =
                new_body(&ledger, &party, &key, meas::KIND_CORRECT, vec![carrier(version)?, m.id().to_hex()], payload);
            super::append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        MeasureCmd::List { contract, year, state } => list(cli, &ledger, contract, *year, state.as_deref())?,
        MeasureCmd::Derive { contract, rules, file, period, as_key } => {
            let rules_parsed = Rules::from_file(rules)?;
            let (st, _) = contract_state(&ledger, contract)?;
            let version = governing(&st, *period)?;
            let derivation = derive::derive_file(&rules_parsed, file, *period)?;
            let mut rows = Vec::new();
            let mut derivations = Vec::new();
            for (i, m) in rules_parsed.metrics.iter().enumerate() {
                let Some(ind) = version.terms.indicators.iter().find(|x| x.id == m.indicator) else {
                    bail!(
                        "{}: metric {} fills indicator {:?}, which contract {contract:?} does not have",
                        rules.display(),
                        i + 1,
                        m.indicator
                    );
                };
                for f in derivation.figures(&rules_parsed, i, granularity(ind.period))? {
                    rows.push(Row {
                        line: 0,
                        indicator: f.indicator.clone(),
                        period: f.period.clone(),
                        value: f.value.to_string(),
                        note: None,
                    });
                    derivations.push(meas::Derivation {
                        file_hash: derivation.file_hash.clone(),
                        rules_hash: derivation.rules_hash.clone(),
                        rules: rules_parsed.canonical_json(),
                        metric: format!("{:?}", m.measure).to_lowercase(),
                        rows_read: derivation.rows_read,
                        rows_counted: derivation.rows_counted,
                    });
                }
            }
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

/// The entry carrying a version (the lowest id, for determinism).
fn carrier(v: &VersionInfo) -> Result<String> {
    v.entries.iter().next().cloned().ok_or_else(|| anyhow!("version {} has no entry", &v.version[..12]))
}

/// A measurement a party responds to (attests or disputes), with its contract.
struct Target {
    contract: String,
    m: Measurement,
}

/// Checks that `party` may respond to figure `m` at all: it is readable, not
/// superseded, and `party` is not its source.
fn response_target(ledger: &Ledger, m: &Entry, party: &str) -> Result<Target> {
    let contract = m.contract().unwrap_or_default().to_string();
    let (_, ms) = contract_state(ledger, &contract)?;
    let this = ms
        .into_iter()
        .find(|x| x.id == m.id().to_hex())
        .ok_or_else(|| anyhow!("measurement {} is not readable", m.id().short()))?;
    if let State::Superseded { by } = &this.state {
        bail!("measurement {} was superseded by correction {}; act on that one instead", m.id().short(), &by[..12]);
    }
    if this.source == party {
        bail!("{party:?} is the source of measurement {}: the source signed its figure by submitting it; to change it use `vereffen measure correct`", m.id().short());
    }
    Ok(Target { contract, m: this })
}

/// The unsigned attestation of figure `m` by `party` (it also resolves the
/// party's own open disputes of it), after every check; and what it attests.
fn attestation(ledger: &Ledger, m: &Entry, party: &str, key: &SigningKey) -> Result<(Body, Target)> {
    let this = response_target(ledger, m, party)?;
    let own_disputes = own_open_disputes(ledger, m, party)?;
    if this.m.signed_by.contains_key(party) && own_disputes.is_empty() {
        bail!("{party:?} has already signed measurement {}", m.id().short());
    }
    let mut refs = vec![m.id().to_hex()];
    refs.extend(own_disputes);
    let payload = meas::response_payload(&this.contract, &m.id().to_hex(), None);
    Ok((new_body(ledger, party, key, meas::KIND_ATTEST, refs, payload), this))
}

/// Every figure of `contract`'s `year` that waits for `party`'s attestation,
/// by indicator and period.
fn pending_for(ledger: &Ledger, contract: &str, year: u16, party: &str) -> Result<Vec<Entry>> {
    let (_, ms) = contract_state(ledger, contract)?;
    let mut ids: Vec<(String, String, EntryId)> = ms
        .iter()
        .filter(|m| m.year == year)
        .filter(|m| matches!(&m.state, State::Pending { waiting_for } if waiting_for.iter().any(|p| p == party)))
        .filter_map(|m| EntryId::from_hex(&m.id).map(|id| (m.indicator.clone(), m.period.clone(), id)))
        .collect();
    ids.sort();
    if ids.is_empty() {
        bail!("no figure of {contract:?} {year} waits for {party:?}'s attestation; nothing was signed (`vereffen measure list {contract} --year {year}` shows every figure)");
    }
    let mut out = Vec::with_capacity(ids.len());
    for (_, _, id) in ids {
        let (_, e) = ledger.get(&id)?.ok_or_else(|| anyhow!("measurement {} is not in this copy", id.short()))?;
        out.push(e);
    }
    Ok(out)
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

/// The author's disputes of a measurement, which an attestation resolves.
fn own_open_disputes(ledger: &Ledger, m: &Entry, party: &str) -> Result<Vec<String>> {
    let contract = m.contract().unwrap_or_default();
    Ok(contract_entries(ledger, contract)?
        .into_iter()
        .filter(|e| {
            e.kind() == meas::KIND_DISPUTE
                && e.body().author.party == party
                && e.body().payload.get("measurement").and_then(Value::as_str) == Some(&m.id().to_hex())
        })
        .map(|e| e.id().to_hex())
        .collect())
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
    let (st, ms) = contract_state(ledger, contract)?;
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let derivation = derivations.as_ref().and_then(|d| d.get(n).cloned());
        let at = if r.line == 0 { origin.to_string() } else { format!("{origin}:{}", r.line) };
        let mut bad = |m: String| problems.push(format!("{at}: {m}"));
        // The version in force for the period's year defines the indicator.
        // A base-year figure (for a measured index) is defined by the version
        // governing the first contract year.
        let first_year = st.base.as_ref().and_then(|b| st.versions.get(b)).map(|v| v.terms.term.first_year);
        let year_hint =
            r.period.get(..4).and_then(|y| y.parse::<u16>().ok()).map(|y| first_year.map_or(y, |f| y.max(f)));
        let Some(version) = year_hint.and_then(|y| st.governing(y)) else {
            if st.base.is_none() {
                bad(format!("contract {contract:?} is not in force"));
            } else {
                bad(format!("period {:?} is not within the contract term", r.period));
            }
            continue;
        };
        let Some(ind) = version.terms.indicators.iter().find(|i| i.id == r.indicator) else {
            let known: Vec<&str> = version.terms.indicators.iter().map(|i| i.id.as_str()).collect();
            bad(format!("unknown indicator {:?} (the contract has: {})", r.indicator, known.join(", ")));
            continue;
        };
        if let Some(Err(m)) = r.note.as_deref().map(|n| vereffen::ledger::text::check_free_text("the note", n)) {
            bad(m);
            continue;
        }
        if let Err(m) = row_checks(ind, r, &party) {
            bad(m);
            continue;
        }
        if let Ok(y) = meas::period_year(ind, &r.period) {
            if !meas::measured_years(&version.terms, ind).contains(&y) {
                bad(format!("period {:?} is not within the contract term", r.period));
                continue;
            }
        }
        let value = match meas::parse_value(ind.unit, &r.value) {
            Ok(v) => v,
            Err(m) => {
                bad(m);
                continue;
            }
        };
        if !seen.insert((r.indicator.clone(), r.period.clone())) {
            bad(format!("{} {} appears twice in this file", r.indicator, r.period));
            continue;
        }
        if let Some(existing) = ms.iter().find(|m| {
            m.indicator == r.indicator && m.period == r.period && !matches!(m.state, State::Superseded { .. })
        }) {
            bad(format!(
                "{} {} already has figure {} ({}); change it with `vereffen measure correct {} --value V --reason TEXT`",
                r.indicator, r.period, existing.value, &existing.id[..12], &existing.id[..12]
            ));
            continue;
        }
        let payload = meas::figure_payload(
            contract,
            &version.version,
            &r.indicator,
            &r.period,
            value,
            r.note.as_deref(),
            derivation,
            None,
        );
        entries.push(Entry::sign(
            new_body(ledger, &party, &key, meas::KIND_SUBMIT, vec![carrier(version)?], payload),
            &[&key],
        )?);
    }
    if !problems.is_empty() {
        bail!("nothing was submitted; {} problem(s):\n{}", problems.len(), problems.join("\n"));
    }
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

fn granularity(p: vereffen::domain::contract::Period) -> Granularity {
    match p {
        vereffen::domain::contract::Period::Year => Granularity::Year,
        vereffen::domain::contract::Period::Quarter => Granularity::Quarter,
        vereffen::domain::contract::Period::Month => Granularity::Month,
    }
}

/// Recomputes a derived measurement from a copy of its source file.
fn recompute(cli: &Cli, ledger: &Ledger, id: &str, file: &Path) -> Result<i32> {
    let m = find_measurement(ledger, id)?;
    let (p, _, ind) = meas::figure_of(&m, &lookup(ledger))?;
    let Some(d) = p.derivation else {
        bail!("measurement {} was submitted, not derived from a file: there is nothing to recompute", m.id().short());
    };
    let rules = Rules::from_canonical(&d.rules)?;
    if rules.hash() != d.rules_hash {
        bail!("the rules recorded with measurement {} do not match their recorded hash", m.id().short());
    }
    let year = meas::period_year(&ind, &p.period).map_err(|e| anyhow!(e))?;
    let again = derive::derive_file(&rules, file, year)?;
    let i = rules
        .metrics
        .iter()
        .position(|x| x.indicator == p.indicator)
        .ok_or_else(|| anyhow!("the recorded rules have no metric for {}", p.indicator))?;
    let figure = again
        .figures(&rules, i, granularity(ind.period))?
        .into_iter()
        .find(|f| f.period == p.period)
        .ok_or_else(|| anyhow!("the rules give no figure for period {}", p.period))?;
    let recorded: rust_decimal::Decimal =
        p.value.parse().map_err(|_| anyhow!("recorded value {} is not a decimal", p.value))?;
    let same_file = again.file_hash == d.file_hash;
    let same_value = figure.value == recorded.normalize();
    if cli.json {
        outln!(
            "{}",
            json!({"measurement": m.id().to_hex(), "indicator": p.indicator, "period": p.period, "recorded": p.value,
            "recomputed": figure.value.to_string(), "match": same_value, "same_file": same_file,
            "recorded_file_hash": d.file_hash, "file_hash": again.file_hash, "rows_read": again.rows_read, "recorded_rows_read": d.rows_read})
        );
    } else {
        outln!(
            "{} {}: recorded {}, recomputed {} from {}",
            p.indicator,
            p.period,
            p.value,
            figure.value,
            file.display()
        );
        if same_file {
            outln!("file: identical to the one the figure was derived from (blake3 {})", &d.file_hash[..16]);
        } else {
            outln!(
                "file: DIFFERS from the one the figure was derived from (blake3 {} recorded, {} here; {} rows recorded, {} here)",
                &d.file_hash[..16],
                &again.file_hash[..16],
                d.rows_read,
                again.rows_read
            );
        }
        outln!(
            "{}",
            if same_value {
                "MATCH: the figure follows from this file and the recorded rules"
            } else {
                "DIFFERENT: the figure does not follow from this file"
            }
        );
    }
    Ok(if same_value { 0 } else { 1 })
}

fn row_checks(ind: &Indicator, r: &Row, party: &str) -> Result<(), String> {
    if ind.source != party {
        return Err(format!(
            "{party:?} is not the measurement source of {} (the contract names {:?})",
            ind.id, ind.source
        ));
    }
    meas::period_year(ind, &r.period)?;
    Ok(())
}

fn list(cli: &Cli, ledger: &Ledger, contract: &str, year: Option<u16>, state: Option<&str>) -> Result<()> {
    const STATES: [&str; 6] = ["agreed", "pending", "disputed", "superseded", "conflict", "missing"];
    if let Some(s) = state {
        if !STATES.contains(&s) {
            bail!("unknown state {s:?}; use one of {}", STATES.join(", "));
        }
    }
    let view = super::settle_cmds::contract_view(ledger, contract)?;
    let (st, ms) = (&view.status, &view.measurements);
    let Some(base) = st.base.as_ref().and_then(|b| st.versions.get(b)) else {
        bail!("contract {contract:?} is not in force: there are no figures to list yet");
    };
    // The term's years and any year before it that a measured trend needs (its base year).
    let measured: std::collections::BTreeSet<u16> =
        base.terms.indicators.iter().flat_map(|i| meas::measured_years(&base.terms, i)).collect();
    let years: Vec<u16> = measured.into_iter().filter(|y| year.is_none_or(|x| x == *y)).collect();
    if years.is_empty() {
        bail!(
            "{} lies outside the term {}-{}",
            year.unwrap_or(0),
            base.terms.term.first_year,
            base.terms.term.last_year
        );
    }
    let mut rows: Vec<Value> = Vec::new();
    for y in years {
        let Some(version) = st.governing(y).or(if y < base.terms.term.first_year { Some(base) } else { None }) else {
            continue;
        };
        for ind in &version.terms.indicators {
            if !meas::measured_years(&version.terms, ind).contains(&y) {
                continue;
            }
            for period in meas::periods_of_year(ind, y) {
                let here: Vec<&Measurement> =
                    ms.iter().filter(|m| m.indicator == ind.id && m.period == period).collect();
                if !here.iter().any(|m| !matches!(m.state, State::Superseded { .. })) {
                    rows.push(json!({"indicator": ind.id, "period": period, "year": y, "value": null, "unit": ind.unit.to_string(),
                        "source": ind.source, "state": "missing", "to_act": [ind.source], "id": null}));
                }
                for m in here {
                    let to_act: Vec<String> = match &m.state {
                        State::Pending { waiting_for } => waiting_for.clone(),
                        State::Disputed { .. } | State::Conflict { .. } => vec![m.source.clone()],
                        _ => vec![],
                    };
                    let shown = if m.unit == "eur" { format!("{:.2}", m.value) } else { m.value.to_string() };
                    // A settled year that used this figure, or the figure this one corrects.
                    let mut settled = view.settled_years_using(&m.id);
                    if let Some(c) = &m.corrects {
                        settled.extend(view.settled_years_using(c));
                    }
                    let conflict = match (&m.state, settled.first()) {
                        (State::Agreed | State::Pending { .. }, Some(y)) if m.corrects.is_some() => {
                            Some(format!("corrects a figure of settled {y}: resettle {y} to apply it"))
                        }
                        (State::Superseded { .. } | State::Disputed { .. }, Some(y)) => {
                            Some(format!("used by settled {y}: resettle {y}"))
                        }
                        _ => None,
                    };
                    rows.push(json!({"indicator": m.indicator, "period": m.period, "year": y, "value": shown,
                        "unit": m.unit, "source": m.source, "state": m.state.name(), "detail": m.state, "to_act": to_act,
                        "id": m.id, "signed_by": m.signed_by, "corrects": m.corrects, "reason": m.reason,
                        "derived_from": m.derivation.as_ref().map(|d| &d.file_hash),
                        "settled_in": settled, "settlement_conflict": conflict}));
                }
            }
        }
    }
    rows.retain(|r| state.is_none_or(|s| r["state"] == s));
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
