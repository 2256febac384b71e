//! `audit`: signed checkpoints, witnessing, inclusion and consistency proofs,
//! offline proof verification. The rules live in `vereffen::audit`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;

use vereffen::audit::checkpoint::{self, Checkpoint, SignedNote};
use vereffen::audit::{self, ConsistencyBundle, InclusionBundle, ProofBundle, WitnessDecision, WitnessRefusal};
use vereffen::ledger::entry::{Entry, EntryId};
use vereffen::ledger::merkle;
use vereffen::ledger::Ledger;

use super::{new_body, open_ledger, signer, Cli};

/// Exit code when a witness finds equivocation.
const EXIT_EQUIVOCATION: i32 = 3;

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Sign this copy's tree head (origin, size, root) and record it.
    Checkpoint {
        /// The signing key of the party keeping this copy.
        #[arg(long = "as")]
        as_key: PathBuf,
        /// Write the signed checkpoint here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check another copy's checkpoint against the last one you witnessed for
    /// it and, if it extends it, cosign and record it.
    Witness {
        /// The signed checkpoint file received from the other copy.
        checkpoint: PathBuf,
        /// Consistency proof from the last witnessed checkpoint to this one
        /// (made by the other copy with `audit consistency`).
        #[arg(long)]
        proof: Option<PathBuf>,
        /// Your signing key.
        #[arg(long = "as")]
        as_key: PathBuf,
        /// Write the cosigned checkpoint here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// On equivocation, also write the evidence report here.
        #[arg(long)]
        evidence: Option<PathBuf>,
    },
    /// Write an inclusion proof bundle for an entry against a signed checkpoint.
    Prove {
        /// The entry id (64 hex characters, or a unique prefix of at least 8).
        entry: String,
        /// The signed checkpoint to prove against (default: the newest
        /// recorded checkpoint of this copy that contains the entry).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Write the proof here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a consistency proof between two signed checkpoints of this copy.
    Consistency {
        /// The older signed checkpoint: a file, or the tree size of a checkpoint recorded in this copy.
        old: PathBuf,
        /// The newer signed checkpoint: a file, or the tree size of a checkpoint recorded in this copy.
        new: PathBuf,
        /// Write the proof here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a proof file offline, without a ledger.
    VerifyProof {
        /// The proof file.
        file: PathBuf,
        /// Public key file (.pub) of the party whose copy signed the checkpoint.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Require this origin (vereffen/<ledger>/<party>).
        #[arg(long)]
        origin: Option<String>,
    },
    /// Latest checkpoints per copy with their cosignatures, and equivocation evidence.
    Status,
    /// The audit report of this copy: anomalies first, then parties and
    /// keys, contracts, measurements, settlements replayed from their signed
    /// inputs, checkpoints and equivocation evidence. The HTML follows
    /// `--lang` (or the ledger's language); the JSON is language-neutral
    /// data (its words are the reference English, with codes).
    Report {
        /// html: one self-contained file that prints cleanly to PDF; json: the same data.
        #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
        format: ReportFormat,
        /// Write the report here (atomically) instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The web workspace's signature log of a node home (HOME/web/signatures.jsonl):
    /// which user caused which signature, from where, newest first; torn or
    /// damaged lines are reported on stderr and skipped.
    Signatures {
        /// The node home.
        #[arg(long)]
        home: PathBuf,
    },
}

/// Output format of `audit report`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// A self-contained HTML document.
    Html,
    /// Pretty JSON with a fixed order.
    Json,
}

pub fn audit(cli: &Cli, cmd: &AuditCmd) -> Result<i32> {
    match cmd {
        AuditCmd::Checkpoint { as_key, out } => checkpoint_cmd(cli, as_key, out.as_deref()),
        AuditCmd::Witness { checkpoint, proof, as_key, out, evidence } => {
            witness(cli, checkpoint, proof.as_deref(), as_key, out.as_deref(), evidence.as_deref())
        }
        AuditCmd::Prove { entry, checkpoint, out } => prove(cli, entry, checkpoint.as_deref(), out.as_deref()),
        AuditCmd::Consistency { old, new, out } => consistency(cli, old, new, out.as_deref()),
        AuditCmd::VerifyProof { file, keys, origin } => verify_proof(cli, file, keys, origin.as_deref()),
        AuditCmd::Status => status(cli),
        AuditCmd::Report { format, out } => report(cli, *format, out.as_deref()),
        AuditCmd::Signatures { home } => signatures(cli, home),
    }
}

/// `vereffen audit signatures --home H [--json]`: the signature log, read
/// by the reader the workspace's `/signatures` page uses.
fn signatures(cli: &Cli, home: &Path) -> Result<i32> {
    let path = vereffen::web::signlog::path_of(home);
    let read = vereffen::web::signlog::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    for s in &read.skipped {
        eprintln!("note: {}: skipped {s}", path.display());
    }
    let newest_first: Vec<_> = read.records.iter().rev().collect();
    if cli.json {
        outln!("{}", serde_json::to_string_pretty(&newest_first)?);
        return Ok(0);
    }
    if newest_first.is_empty() {
        outln!("no signatures caused by the web workspace");
        return Ok(0);
    }
    let esc = vereffen::ledger::text::escape_line;
    for r in newest_first {
        let ids: Vec<&str> = r.entries.iter().map(|e| e.get(..16).unwrap_or(e)).collect();
        outln!(
            "{}  {} ({})  from {}  {}  {}  {}  {}",
            esc(&r.time),
            esc(&r.user),
            esc(&r.role),
            esc(&r.address),
            esc(&r.ledger),
            esc(&r.contract),
            esc(&r.action),
            esc(&ids.join(","))
        );
    }
    Ok(0)
}

/// Reads at most `max` bytes of `path`; more is an error.
fn read_limited(path: &Path, max: usize) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > max {
        bail!("{} is larger than {max} bytes; it is not a vereffen checkpoint or proof", path.display());
    }
    Ok(bytes)
}

pub(super) fn read_note(path: &Path) -> Result<SignedNote> {
    let bytes = read_limited(path, checkpoint::MAX_NOTE_BYTES)?;
    SignedNote::parse_bytes(&bytes).with_context(|| format!("{} is not a signed checkpoint", path.display()))
}

/// Writes `text` to `out` (atomically, replacing a symlink rather than
/// following it), or to stdout.
fn emit(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => super::write_file_atomically(path, text.as_bytes()),
        None => super::write_stdout(text.as_bytes()),
    }
}

/// Signs and appends one entry; reports on stderr (stdout carries the note).
fn record(
    ledger: &mut Ledger,
    body: vereffen::ledger::entry::Body,
    key: &ed25519_dalek::SigningKey,
) -> Result<(u64, Entry)> {
    let entry = Entry::sign(body, &[key]).context("cannot build the entry")?;
    let seqs = ledger.append(std::slice::from_ref(&entry))?;
    eprintln!("recorded {} as entry {} (sequence {})", entry.kind(), entry.id().short(), seqs[0]);
    Ok((seqs[0], entry))
}

/// The origin of this copy, or an error saying how to get one.
fn own_origin(ledger: &Ledger) -> Result<String> {
    audit::copy_origin(ledger.dir())?.ok_or_else(|| {
        anyhow!(
            "this copy has no signed checkpoint yet; its keeper makes one with `vereffen audit checkpoint --as KEY`"
        )
    })
}

/// Checks that a verified checkpoint is one of this copy's tree heads.
fn check_matches_tree(cp: &Checkpoint, origin: &str, leaves: &[merkle::Hash]) -> Result<()> {
    cp.check_origin(origin)?;
    let root = merkle::range_root(leaves, 0, cp.size()).map_err(|_| {
        anyhow!("the checkpoint has size {}, but this copy has only {} entries", cp.size(), leaves.len())
    })?;
    if root != *cp.root() {
        bail!(
            "the checkpoint of size {} does not match the first {} entries of this copy: it is not a tree head of this copy's history",
            cp.size(),
            cp.size()
        );
    }
    Ok(())
}

fn checkpoint_cmd(cli: &Cli, as_key: &Path, out: Option<&Path>) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    let (key, party) = signer(&ledger, as_key)?;
    let origin = audit::origin(ledger.id(), &party);
    let recorded = audit::copy_origin(ledger.dir())?;
    if let Some(existing) = &recorded {
        if *existing != origin {
            bail!(
                "this copy's checkpoints are signed as {existing}; a copy is kept (and checkpointed) by one party. Sign with a key of that party, or checkpoint {party}'s own copy"
            );
        }
    }
    let tree = ledger.merkle_tree();
    let cp = Checkpoint::new(&origin, tree.size(), tree.root())?;
    let note = SignedNote::sign(cp, &audit::key_name(&party, &key.verifying_key()), &key)?;
    let body = new_body(&ledger, &party, &key, audit::KIND_CHECKPOINT, vec![], audit::note_payload(&note));
    record(&mut ledger, body, &key)?;
    if recorded.is_none() {
        audit::set_copy_origin(ledger.dir(), &origin)?;
    }
    emit(out, &note.to_text())?;
    if let Some(path) = out {
        eprintln!("signed checkpoint of {origin} at size {} written to {}", note.checkpoint.size(), path.display());
    }
    Ok(0)
}

/// Seconds since the epoch of the claimed time (VEREFFEN_TIME or now).
pub(super) fn cosign_time() -> u64 {
    let text = vereffen::ledger::entry::claimed_time_now();
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp().max(0) as u64)
        .unwrap_or(0)
}

fn witness(
    cli: &Cli,
    file: &Path,
    proof: Option<&Path>,
    as_key: &Path,
    out: Option<&Path>,
    evidence: Option<&Path>,
) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    let (key, party) = signer(&ledger, as_key)?;
    let note = read_note(file)?;
    audit::verify_with_registry(&note, ledger.id(), ledger.registry())
        .with_context(|| format!("checkpoint {} refused", file.display()))?;
    let origin = note.checkpoint.origin().to_string();
    if audit::parse_origin(&origin).is_some_and(|(_, p)| p == party) {
        bail!("{origin} is your own copy; witnesses check other parties' copies");
    }
    let proof = match proof {
        None => None,
        Some(path) => match ProofBundle::parse(&read_limited(path, audit::MAX_BUNDLE_BYTES)?)
            .with_context(|| format!("{} is not a proof file", path.display()))?
        {
            ProofBundle::Consistency(b) => Some(b),
            ProofBundle::Inclusion(_) => {
                bail!("{} is an inclusion proof; witnessing needs a consistency proof", path.display())
            }
        },
    };
    let witnessed = audit::witnessed_by(&ledger, &party, &origin)?;
    let decision = match audit::decide_witness(&witnessed, &note, proof.as_ref()) {
        Ok(d) => d,
        Err(WitnessRefusal::Equivocation(ev)) => {
            let report = ev.report();
            eprintln!("{report}");
            if let Some(path) = evidence {
                super::write_file_atomically(path, report.as_bytes())?;
                eprintln!("evidence written to {}", path.display());
            }
            let body = new_body(&ledger, &party, &key, audit::KIND_EQUIVOCATION, vec![], ev.payload());
            record(&mut ledger, body, &key)?;
            eprintln!(
                "the checkpoint was NOT witnessed; the evidence is recorded as a signed audit.equivocation entry"
            );
            return Ok(EXIT_EQUIVOCATION);
        }
        Err(other) => bail!("{other}"),
    };
    let name = audit::key_name(&party, &key.verifying_key());
    let mut cosigned = note.clone();
    cosigned.signatures.retain(|s| s.name != name);
    cosigned.signatures.push(checkpoint::cosign(&note.checkpoint, &name, &key, cosign_time())?);
    match decision {
        WitnessDecision::Same => {
            eprintln!("{origin} at size {} was already witnessed; not recorded again", note.checkpoint.size())
        }
        WitnessDecision::First | WitnessDecision::Extends { .. } => {
            let body = new_body(&ledger, &party, &key, audit::KIND_WITNESS, vec![], audit::note_payload(&cosigned));
            record(&mut ledger, body, &key)?;
            match decision {
                WitnessDecision::Extends { from } => eprintln!(
                    "witnessed {origin} at size {}: it extends size {from} (consistency proof verified)",
                    note.checkpoint.size()
                ),
                _ => eprintln!(
                    "witnessed {origin} at size {} (the first checkpoint of this copy you witness)",
                    note.checkpoint.size()
                ),
            }
        }
    }
    emit(out, &cosigned.to_text())?;
    Ok(0)
}

fn prove(cli: &Cli, entry: &str, checkpoint: Option<&Path>, out: Option<&Path>) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let id = resolve_entry_id(&ledger, entry)?;
    let (seq, e) =
        ledger.get(&id)?.ok_or_else(|| anyhow!("entry {} is not in this copy, so it has no proof here", id.short()))?;
    let index = seq - 1;
    let origin = own_origin(&ledger)?;
    let leaves = ledger.index().leaf_hashes()?;
    let mut note = match checkpoint {
        Some(path) => {
            let note = read_note(path)?;
            audit::verify_with_registry(&note, ledger.id(), ledger.registry())
                .with_context(|| format!("checkpoint {} refused", path.display()))?;
            check_matches_tree(&note.checkpoint, &origin, &leaves)?;
            note
        }
        None => audit::recorded_notes(&ledger, audit::KIND_CHECKPOINT)?
            .into_iter()
            .filter(|r| r.note.checkpoint.origin() == origin)
            .map(|r| r.note)
            .max_by_key(|n| n.checkpoint.size())
            .ok_or_else(|| {
                anyhow!("this copy has no recorded checkpoint; make one with `vereffen audit checkpoint --as KEY`")
            })?,
    };
    let size = note.checkpoint.size();
    if index >= size {
        bail!(
            "entry {} is leaf {index} of this copy, not in the checkpoint's tree of size {size}: make a newer checkpoint with `vereffen audit checkpoint --as KEY`",
            id.short()
        );
    }
    let witnessed: Vec<SignedNote> =
        audit::recorded_notes(&ledger, audit::KIND_WITNESS)?.into_iter().map(|r| r.note).collect();
    audit::merge_signatures(&mut note, &witnessed);
    let path = merkle::inclusion_proof(&leaves, index, size)?;
    let keys = audit::keys_for(&[&note], ledger.registry())?;
    let bundle = ProofBundle::Inclusion(InclusionBundle { entry: e.encode(), index, path, keys, checkpoint: note });
    emit(out, &bundle.to_text())?;
    if let Some(path) = out {
        eprintln!("inclusion proof of entry {} (leaf {index} of {size}) written to {}", id.short(), path.display());
    }
    Ok(0)
}

/// Shortest entry id prefix `audit prove` accepts, as for measurement ids.
const MIN_ID_PREFIX: usize = 8;

/// An entry id given in full (64 hex characters) or as a unique prefix of
/// at least [`MIN_ID_PREFIX`] hex characters of an entry in this copy.
fn resolve_entry_id(ledger: &Ledger, text: &str) -> Result<EntryId> {
    if let Some(id) = EntryId::from_hex(text) {
        return Ok(id);
    }
    let hex = text.len() <= 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex || text.len() < MIN_ID_PREFIX {
        bail!(
            "{text:?} is not an entry id: give the 64 lower-case hex characters or a unique prefix of at least {MIN_ID_PREFIX} (`vereffen log` shows them)"
        );
    }
    let mut hits = Vec::new();
    for id in ledger.index().ids() {
        let id = id?;
        if id.to_hex().starts_with(text) {
            hits.push(id);
            if hits.len() > 1 {
                bail!("entry id prefix {text} is ambiguous in this copy; give more characters");
            }
        }
    }
    hits.pop().ok_or_else(|| anyhow!("entry {text} is not in this copy, so it has no proof here"))
}

fn consistency(cli: &Cli, old: &Path, new: &Path, out: Option<&Path>) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let origin = own_origin(&ledger)?;
    let leaves = ledger.index().leaf_hashes()?;
    let mut notes = Vec::new();
    for path in [old, new] {
        let note = match path.to_str().and_then(|t| t.parse::<u64>().ok()).filter(|_| !path.exists()) {
            Some(size) => recorded_checkpoint(&ledger, &origin, size)?,
            None => read_note(path)?,
        };
        audit::verify_with_registry(&note, ledger.id(), ledger.registry())
            .with_context(|| format!("checkpoint {} refused", path.display()))?;
        check_matches_tree(&note.checkpoint, &origin, &leaves)
            .with_context(|| format!("checkpoint {} refused", path.display()))?;
        notes.push(note);
    }
    let (Some(new_note), Some(old_note)) = (notes.pop(), notes.pop()) else { unreachable!("two notes were read") };
    let (m, n) = (old_note.checkpoint.size(), new_note.checkpoint.size());
    if m > n {
        bail!("the old checkpoint (size {m}) is larger than the new one (size {n}); swap the arguments");
    }
    let path = merkle::consistency_proof(&leaves, m, n)?;
    let keys = audit::keys_for(&[&old_note, &new_note], ledger.registry())?;
    let bundle = ProofBundle::Consistency(ConsistencyBundle { path, keys, old: old_note, new: new_note });
    emit(out, &bundle.to_text())?;
    if let Some(path) = out {
        eprintln!("consistency proof from size {m} to {n} written to {}", path.display());
    }
    Ok(0)
}

/// The checkpoint of `size` this copy's keeper recorded.
fn recorded_checkpoint(ledger: &Ledger, origin: &str, size: u64) -> Result<SignedNote> {
    audit::recorded_notes(ledger, audit::KIND_CHECKPOINT)?
        .into_iter()
        .map(|r| r.note)
        .find(|n| n.checkpoint.origin() == origin && n.checkpoint.size() == size)
        .ok_or_else(|| anyhow!("this copy has no recorded checkpoint of size {size}; `vereffen log --kind audit.checkpoint` lists them"))
}

fn verify_proof(cli: &Cli, file: &Path, keys: &[PathBuf], origin: Option<&str>) -> Result<i32> {
    let bytes = read_limited(file, audit::MAX_BUNDLE_BYTES)?;
    let bundle = ProofBundle::parse(&bytes).with_context(|| format!("{} refused", file.display()))?;
    let trusted = keys
        .iter()
        .map(|p| vereffen::ledger::keys::load_verifying_key(p).map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?;
    let report = audit::verify_bundle(&bundle, &trusted, origin)
        .with_context(|| format!("proof {} does NOT verify", file.display()))?;
    let cosigners: Vec<String> = report
        .cosignatures
        .iter()
        .map(|c| format!("{} at {}", c.name, vereffen::audit::report::unix_to_rfc3339(c.timestamp)))
        .collect();
    if cli.json {
        outln!(
            "{}",
            serde_json::json!({"ok": true, "origin": report.origin, "entry": report.entry.as_ref().map(|(id, kind, index)| serde_json::json!({"id": id.to_hex(), "kind": kind, "index": index})), "sizes": [report.sizes.0, report.sizes.1], "signers": report.signers, "cosigners": cosigners})
        );
        return Ok(0);
    }
    match &report.entry {
        Some((id, kind, index)) => outln!(
            "proof OK: entry {} ({kind}) is leaf {index} of the tree of size {} of {}",
            id.to_hex(),
            report.sizes.1,
            report.origin
        ),
        None => outln!(
            "proof OK: the tree of size {} of {} extends the tree of size {} (append-only)",
            report.sizes.1,
            report.origin,
            report.sizes.0
        ),
    }
    outln!("signed by   {}", report.signers.join(", "));
    if !cosigners.is_empty() {
        outln!("cosigned by {} (keys as named in the proof file)", cosigners.join(", "));
    }
    Ok(0)
}

fn status(cli: &Cli) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let latest = audit::latest_checkpoints(&ledger)?;
    let equivocations = audit::equivocations(&ledger)?;
    if cli.json {
        let copies: Vec<serde_json::Value> = latest
            .iter()
            .map(|s| serde_json::json!({"origin": s.origin, "size": s.latest.checkpoint.size(), "checkpoints": s.checkpoints, "cosigners": s.cosignatures.iter().map(|c| &c.name).collect::<Vec<_>>(), "note": s.latest.to_text()}))
            .collect();
        let evidence: Vec<serde_json::Value> = equivocations
            .iter()
            .map(|e| serde_json::json!({"origin": e.origin(), "finding": e.finding.as_str(), "first": e.first.to_text(), "second": e.second.to_text()}))
            .collect();
        outln!("{}", serde_json::json!({"copies": copies, "equivocations": evidence}));
    } else {
        for s in &latest {
            let names: Vec<&str> = s.cosignatures.iter().map(|c| c.name.as_str()).collect();
            outln!(
                "{}  size {}  ({} checkpoints)  cosigned by: {}",
                s.origin,
                s.latest.checkpoint.size(),
                s.checkpoints,
                if names.is_empty() { "nobody".to_string() } else { names.join(", ") }
            );
        }
        if latest.is_empty() {
            outln!("no checkpoints recorded");
        }
        for e in &equivocations {
            outln!("{}", e.report());
        }
    }
    Ok(if equivocations.is_empty() { 0 } else { EXIT_EQUIVOCATION })
}

fn report(cli: &Cli, format: ReportFormat, out: Option<&Path>) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let report = vereffen::audit::report::build(&ledger)?;
    let text = match format {
        ReportFormat::Html => {
            let tr = vereffen::present::lang::Tr::new(super::lang_of(cli, &ledger)?);
            vereffen::present::report_html::render(&report, &tr)
        }
        ReportFormat::Json => vereffen::audit::report::to_json(&report),
    };
    super::settle_cmds::emit(text.as_bytes(), out)?;
    if out.is_some() {
        eprintln!("{} anomalies", report.anomalies.len());
    }
    Ok(0)
}
