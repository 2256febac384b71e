//! `init`, `log`, `verify`, `export`, `import`, `reindex`.

use std::path::Path;

use anyhow::Result;
use clap::Args;

use vereffen::bundle;
use vereffen::ledger::{Ledger, LedgerError};
use vereffen::verify;

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
    let ledger = Ledger::init(&cli.ledger, &id)?;
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
    let summary = |e: &vereffen::entry::Entry| match void.get(&e.id()) {
        Some(v) => format!("VOID (key ended by {}): {}", v.ending.short(), vereffen::summary::one_line(e)),
        None => vereffen::summary::one_line(e),
    };
    if cli.json {
        for (seq, e) in &rows {
            let b = e.body();
            let mut row = serde_json::json!({"seq": seq, "id": e.id().to_hex(), "kind": b.kind, "party": b.author.party, "key": b.author_key().fingerprint(), "time": b.time, "refs": b.refs, "summary": vereffen::summary::one_line(e), "payload": b.payload});
            if let Some(v) = void.get(&e.id()) {
                row["void"] = v.to_json();
            }
            outln!("{row}");
        }
    } else {
        outln!("{:>6}  {:<12}  {:<20}  {:<14}  {:<20}  SUMMARY", "SEQ", "ID", "KIND", "AUTHOR", "TIME");
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

pub fn verify(cli: &Cli) -> Result<i32> {
    let ledger = match open_ledger(&cli.ledger) {
        Ok(l) => l,
        Err(e) => {
            if let Some(LedgerError::Journal(_) | LedgerError::BadRecord { .. }) = e.downcast_ref::<LedgerError>() {
                eprintln!("verify FAILED: {e}");
                return Ok(1);
            }
            return Err(e);
        }
    };
    let bar = if stderr_is_terminal() && !cli.json {
        let b = indicatif::ProgressBar::new(ledger.len());
        b.set_style(
            indicatif::ProgressStyle::with_template("verifying {bar:40} {pos}/{len} entries ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let result = verify::verify_journal(ledger.journal_path(), |done| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
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
    let mut problems = Vec::new();
    if summary.head != ledger.head() || summary.entries != ledger.len() {
        problems.push("the index's head differs from the journal's; run `vereffen reindex`".to_string());
    }
    if &summary.registry != ledger.registry() {
        problems.push("the index's parties and keys differ from the journal's; run `vereffen reindex`".to_string());
    }
    if ledger.merkle_tree().root() != summary.merkle_root || ledger.merkle_tree().size() != summary.entries {
        problems.push("the index's Merkle tree differs from the journal's; run `vereffen reindex`".to_string());
    }
    if ledger.set_digest()? != summary.set_digest {
        problems.push("the index's entry set differs from the journal's; run `vereffen reindex`".to_string());
    }
    if let Some(origin) = vereffen::audit::copy_origin(ledger.dir())? {
        problems.extend(vereffen::audit::check_own_checkpoints(&ledger, &origin)?);
    }
    let parties = summary.registry.parties().count();
    // Every settlement statement was recomputed from its signed inputs by the
    // rules during the pass above; here: corrections after settlement.
    let signs = ledger.index().by_kind(vereffen::settlement::cosign::KIND_SIGN)?;
    let contracts: std::collections::BTreeSet<String> =
        ledger.load(&signs)?.iter().filter_map(|(_, e)| e.contract().map(str::to_string)).collect();
    let mut conflicts = Vec::new();
    for c in &contracts {
        let view = super::settle_cmds::contract_view(&ledger, c)?;
        conflicts.extend(view.conflicts().into_iter().map(|x| format!("{c} {x}")));
    }
    if cli.json {
        outln!(
            "{}",
            serde_json::json!({"ok": problems.is_empty(), "ledger": summary.ledger, "entries": summary.entries, "signatures": summary.signatures, "parties": parties, "head": hex(&summary.head), "set_digest": hex(&summary.set_digest), "merkle_root": hex(&summary.merkle_root), "kinds": summary.kinds, "problems": problems, "settlements_replayed": signs.len(), "settlement_conflicts": conflicts, "void": summary.void.iter().map(|v| v.to_json()).collect::<Vec<_>>()})
        );
    } else {
        outln!("ledger      {}", summary.ledger);
        outln!("entries     {} ({} signatures checked)", summary.entries, summary.signatures);
        outln!("parties     {}", parties);
        for p in summary.registry.parties() {
            outln!("            {:<14} {:<19} {}", p.id, p.role.as_str(), vereffen::text::escape_line(&p.name));
        }
        let kinds: Vec<String> = summary.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        outln!("kinds       {}", kinds.join(", "));
        outln!("head        {}", hex(&summary.head));
        outln!("set digest  {}", hex(&summary.set_digest));
        outln!("merkle root {} (tree size {})", hex(&summary.merkle_root), summary.entries);
        if !signs.is_empty() {
            outln!(
                "settlements {} signature(s) on statements of {} contract(s), each recomputed from its signed inputs: all match",
                signs.len(),
                contracts.len()
            );
        }
        for c in &conflicts {
            outln!("conflict    {c}");
        }
        for v in &summary.void {
            let via =
                v.introduced_by_void.map(|i| format!(", introduced by void entry {}", i.short())).unwrap_or_default();
            println!(
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
    let report = bundle::import(&mut ledger, file)?;
    if cli.json {
        outln!(
            "{}",
            serde_json::json!({"in_bundle": report.in_bundle, "added": report.added, "already_present": report.already_present, "added_kinds": report.added_kinds, "added_void": report.added_void, "void_total": report.void_total})
        );
    } else {
        outln!(
            "imported {}: {} entries in the bundle, {} added, {} already present",
            file.display(),
            report.in_bundle,
            report.added,
            report.already_present
        );
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
    let ledger = Ledger::reindex(&cli.ledger)?;
    outln!("rebuilt the index of ledger {} from {} journal entries", ledger.id(), ledger.len());
    Ok(0)
}
