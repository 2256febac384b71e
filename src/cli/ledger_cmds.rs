//! `init`, `log`, `verify`, `export`, `import`, `reindex`.

use std::path::Path;

use anyhow::Result;
use clap::Args;

use vereffen::audit;
use vereffen::ledger::bundle;
use vereffen::ledger::head;
use vereffen::ledger::journal::Hash;
use vereffen::ledger::verify;
use vereffen::ledger::Ledger;

use super::{open_ledger, stderr_is_terminal, Cli};

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only entries of this kind (e.g. party.register).
    #[arg(long)]
    kind: Option<String>,
    /// Only entries written by this party.
    #[arg(long)]
    party: Option<String>,
    /// Start at this sequence number.
    #[arg(long, default_value_t = 1)]
    since: u64,
    /// Show at most this many entries.
    #[arg(long)]
    limit: Option<usize>,
}

fn hex(h: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(h)
}

pub fn init(cli: &Cli, id: Option<&str>) -> Result<i32> {
    let id = match id {
        Some(id) => id.to_string(),
        None => {
            let mut b = [0u8; 8];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
            format!("ledger-{}", hex(&b))
        }
    };
    let ledger = Ledger::init(&cli.ledger, &id, &vereffen::rules::ALL)?;
    if cli.json {
        outln!("{}", serde_json::json!({"ledger": ledger.id(), "dir": cli.ledger}));
    } else {
        outln!("created ledger {} in {}", ledger.id(), cli.ledger.display());
        outln!(
            "other parties create their copies with `vereffen init --id {}` and exchange entries with export/import",
            ledger.id()
        );
    }
    Ok(0)
}

pub fn log(cli: &Cli, args: &LogArgs) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let mut rows = Vec::new();
    ledger.for_each(args.since, |seq, e| {
        let keep = args.kind.as_deref().is_none_or(|k| e.kind() == k)
            && args.party.as_deref().is_none_or(|p| e.body().author.party == p);
        if keep && args.limit.is_none_or(|l| rows.len() < l) {
            rows.push((seq, e));
        }
        Ok(())
    })?;
    // Void entries (FORMAT.md 4.3) are listed, marked: the journal keeps them.
    let void = ledger.void_entries()?;
    // Text in the reader's language; the JSON summary stays English
    // (language-neutral data).
    let tr = vereffen::present::lang::Tr::new(if cli.json {
        vereffen::present::lang::Lang::En
    } else {
        super::lang_of(cli, &ledger)?
    });
    let summary = |e: &vereffen::ledger::entry::Entry| {
        let line = vereffen::present::summary::one_line_in(&tr, e);
        match void.get(&e.id()) {
            Some(v) => {
                tr.t_args("log-void", &[("ending", v.ending.short().to_string().into()), ("summary", line.into())])
            }
            None => line,
        }
    };
    if cli.json {
        for (seq, e) in &rows {
            let b = e.body();
            let mut row = serde_json::json!({"seq": seq, "id": e.id().to_hex(), "kind": b.kind, "party": b.author.party, "key": b.author_key().fingerprint(), "time": b.time, "refs": b.refs, "summary": vereffen::present::summary::one_line(e), "payload": b.payload});
            if let Some(v) = void.get(&e.id()) {
                row["void"] = v.to_json();
            }
            outln!("{row}");
        }
    } else {
        outln!(
            "{:>6}  {:<12}  {:<20}  {:<14}  {:<20}  {}",
            tr.t("log-col-seq"),
            tr.t("log-col-id"),
            tr.t("log-col-kind"),
            tr.t("log-col-author"),
            tr.t("log-col-time"),
            tr.t("log-col-summary")
        );
        for (seq, e) in &rows {
            let b = e.body();
            outln!(
                "{:>6}  {:<12}  {:<20}  {:<14}  {:<20}  {}",
                seq,
                e.id().short(),
                b.kind,
                b.author.party,
                b.time,
                summary(e)
            );
        }
    }
    Ok(0)
}

/// Checks the copy against a signed checkpoint given from outside: signed by
/// a key of the verified registry, of this ledger (and of this copy's origin
/// if it has one), and the journal's first `size` entries give its root.
/// Returns the line to print, or the problem.
fn check_given_checkpoint(
    file: &Path,
    summary: &verify::Summary,
    own_origin: Option<&str>,
    leaves: &[Hash],
) -> Result<std::result::Result<String, String>> {
    let note = super::audit_cmds::read_note(file)?;
    let shown = file.display();
    let verified = match vereffen::audit::checkpoint::verify(&note, &audit::registry_verifiers(&summary.registry)) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(format!("the checkpoint {shown} does not verify against the keys in this journal: {e}")))
        }
    };
    let cp = verified.checkpoint();
    match audit::parse_origin(cp.origin()) {
        Some((ledger, _)) if ledger == summary.ledger => {}
        _ => {
            return Ok(Err(format!(
                "the checkpoint {shown} is of {:?}, not of a copy of ledger {:?}",
                cp.origin(),
                summary.ledger
            )))
        }
    }
    if let Some(own) = own_origin.filter(|o| *o != cp.origin()) {
        return Ok(Err(format!("the checkpoint {shown} is of copy {:?}, this copy is {own:?}", cp.origin())));
    }
    match vereffen::ledger::merkle::range_root(leaves, 0, cp.size()) {
        Err(_) => Ok(Err(format!(
            "the checkpoint {shown} covers {} entries, but this copy holds only {}: entries are missing (the journal was truncated or replaced by an older copy). {}",
            cp.size(),
            leaves.len(),
            vereffen::ledger::head::RESTORE_ADVICE
        ))),
        Ok(root) if root != *cp.root() => Ok(Err(format!(
            "the first {} entries of this copy do not give the root of the checkpoint {shown}: this copy's history differs from the one that was checkpointed",
            cp.size()
        ))),
        Ok(_) => {
            let cosigned: Vec<&str> = verified.cosignatures().iter().map(|c| c.name.as_str()).collect();
            Ok(Ok(format!(
                "{shown}: size {} of {}, root matches; signed by {}{}",
                cp.size(),
                cp.origin(),
                verified.signers().join(", "),
                if cosigned.is_empty() { String::new() } else { format!(", cosigned by {}", cosigned.join(", ")) }
            )))
        }
    }
}

/// `verify`: the checks of `node::verify::check_copy` (read-only, no
/// lock, no index), printed; with `--checkpoint`, also that checkpoint.
pub fn verify(cli: &Cli, checkpoint: Option<&Path>) -> Result<i32> {
    let dir = &cli.ledger;
    // The head file's count sizes the progress bar; the check reads it again.
    let total = head::read(dir).ok().flatten().map_or(0, |h| h.at.seq);
    let bar = if stderr_is_terminal() && !cli.json {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("verifying {bar:40} {pos}/{len} entries ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let result = vereffen::node::verify::check_copy(dir, checkpoint.is_some(), |done| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut check = match result? {
        Ok(c) => c,
        Err(f) => {
            if cli.json {
                outln!(
                    "{}",
                    serde_json::json!({"ok": false, "seq": f.seq, "id": f.id.map(|i| i.to_hex()), "error": f.what})
                );
            } else {
                eprintln!("verify FAILED at {f}");
            }
            return Ok(1);
        }
    };
    let given = match checkpoint {
        Some(file) => match check_given_checkpoint(file, &check.summary, check.origin.as_deref(), &check.leaves)? {
            Ok(line) => Some(line),
            Err(problem) => {
                check.problems.push(problem);
                None
            }
        },
        None => None,
    };
    let vereffen::node::verify::CopyCheck {
        summary,
        problems,
        conflicts,
        settlements_replayed: signs,
        contracts_replayed,
        torn,
        acknowledged,
        ..
    } = check;
    let parties = summary.registry.parties().count();
    if cli.json {
        outln!(
            "{}",
            serde_json::json!({"ok": problems.is_empty(), "ledger": summary.ledger, "entries": summary.entries, "signatures": summary.signatures, "parties": parties, "head": hex(&summary.head), "set_digest": hex(&summary.set_digest), "merkle_root": hex(&summary.merkle_root), "kinds": summary.kinds, "problems": problems, "settlements_replayed": signs, "settlement_conflicts": conflicts, "torn_tail": summary.torn.map(|t| serde_json::json!({"offset": t.offset, "bytes": t.bytes, "note": torn})), "acknowledged": acknowledged, "checkpoint": given, "void": summary.void.iter().map(|v| v.to_json()).collect::<Vec<_>>()})
        );
    } else {
        outln!("ledger      {}", summary.ledger);
        outln!("entries     {} ({} signatures checked)", summary.entries, summary.signatures);
        outln!("parties     {}", parties);
        for p in summary.registry.parties() {
            outln!("            {:<14} {:<19} {}", p.id, p.role.as_str(), vereffen::ledger::text::escape_line(&p.name));
        }
        let kinds: Vec<String> = summary.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        outln!("kinds       {}", kinds.join(", "));
        outln!("head        {}", hex(&summary.head));
        outln!("set digest  {}", hex(&summary.set_digest));
        outln!("merkle root {} (tree size {})", hex(&summary.merkle_root), summary.entries);
        if signs > 0 {
            outln!(
                "settlements {} signature(s) on statements of {} contract(s), each recomputed from its signed inputs: all match",
                signs,
                contracts_replayed
            );
        }
        if let Some(line) = &given {
            outln!("checkpoint  {line}");
        }
        if let Some(t) = &torn {
            outln!("torn tail   {t}");
        }
        for c in &conflicts {
            outln!("conflict    {c}");
        }
        for v in &summary.void {
            let via =
                v.introduced_by_void.map(|i| format!(", introduced by void entry {}", i.short())).unwrap_or_default();
            outln!(
                "warning     entry {} is void: signed with key {}{via}, ended by entry {} which does not have it in its causal past; it counts for nothing (FORMAT.md 4.3)",
                v.id.short(),
                v.key.fingerprint(),
                v.ending.short()
            );
        }
        for p in &problems {
            outln!("problem     {p}");
        }
        if problems.is_empty() {
            outln!("verify OK: chain intact, every id, signature, key and reference checks out");
        } else {
            outln!("verify FAILED");
        }
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}

pub fn export(cli: &Cli, out: &Path, since: u64) -> Result<i32> {
    let ledger = open_ledger(&cli.ledger)?;
    let n = bundle::export(&ledger, out, since)?;
    if cli.json {
        outln!("{}", serde_json::json!({"exported": n, "out": out, "ledger": ledger.id()}));
    } else {
        outln!("exported {n} entries of ledger {} to {}", ledger.id(), out.display());
    }
    Ok(0)
}

pub fn import(cli: &Cli, file: &Path) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    // A bundle of more than one batch is checked whole, then appended batch
    // by batch (FORMAT.md 7): say how far it got, on stderr.
    let mut progress = |b: &bundle::BatchDone| {
        if b.batches > 1 {
            eprintln!("imported batch {} of {}: {} of {} new entries appended", b.batch, b.batches, b.added, b.to_add);
        }
        std::ops::ControlFlow::Continue(())
    };
    let report = bundle::import_with(&mut ledger, file, &bundle::ImportOptions::default(), &mut progress)?;
    if cli.json {
        outln!(
            "{}",
            serde_json::json!({"in_bundle": report.in_bundle, "added": report.added, "already_present": report.already_present, "added_kinds": report.added_kinds, "added_void": report.added_void, "void_total": report.void_total, "batches": report.batches})
        );
    } else {
        outln!(
            "imported {}: {} entries in the bundle, {} added, {} already present",
            file.display(),
            report.in_bundle,
            report.added,
            report.already_present
        );
        if report.batches > 1 {
            outln!(
                "  appended in {} batches of at most {} entries, each all or nothing",
                report.batches,
                bundle::IMPORT_BATCH
            );
        }
        for (k, n) in &report.added_kinds {
            outln!("  added {n} {k}");
        }
        if report.void_total > 0 {
            println!(
                "  warning: {} of the added entries are void and this copy now holds {} void entries (signed with a key ended without them in the ending entry's causal past; they count for nothing; `vereffen verify` lists them)",
                report.added_void, report.void_total
            );
        }
    }
    Ok(0)
}

pub fn reindex(cli: &Cli) -> Result<i32> {
    let ledger = Ledger::reindex(&cli.ledger, &vereffen::rules::ALL)?;
    outln!("rebuilt the index of ledger {} from {} journal entries", ledger.id(), ledger.len());
    Ok(0)
}
