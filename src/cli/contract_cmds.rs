//! `vereffen contract ...` and `vereffen mandate ...`: contracts as files,
//! negotiated and signed on the ledger.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use serde_json::{json, Value};

use vereffen::domain::contract::{self, Contract};
use vereffen::domain::negotiation::{self as neg, ContractStatus, MandateAction, VersionInfo, VersionState};
use vereffen::ledger::entry::{Entry, EntryId};
use vereffen::ledger::Ledger;
use vereffen::present::lang::{Arg, Lang, Tr};
use vereffen::present::negotiation as words;

use super::{append_one, new_body, open_ledger, signer, Cli};

#[derive(Subcommand, Debug)]
pub enum ContractCmd {
    /// Validate contract files without touching a ledger; print every problem.
    Check {
        /// Contract files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Propose a new contract from a file.
    Propose {
        /// The contract file.
        file: PathBuf,
        /// The proposing party's key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Answer a version with a counter-proposal.
    Counter {
        /// The contract id.
        id: String,
        /// The counter-proposal file.
        file: PathBuf,
        /// The version answered (hash or prefix); default: the one open version offered by another party.
        #[arg(long)]
        to: Option<String>,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Sign exactly one version.
    Accept {
        /// The contract id.
        id: String,
        /// The version (hash or prefix of at least 8 characters).
        #[arg(long)]
        version: String,
        /// Sign for this party, under a mandate it recorded.
        #[arg(long)]
        on_behalf_of: Option<String>,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Decline a version, with a reason.
    Reject {
        /// The contract id.
        id: String,
        /// The version (hash or prefix).
        #[arg(long)]
        version: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Reject for this party, under a mandate it recorded.
        #[arg(long)]
        on_behalf_of: Option<String>,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Take back a version you offered (only while it is not agreed).
    Withdraw {
        /// The contract id.
        id: String,
        /// The version (hash or prefix).
        #[arg(long)]
        version: String,
        /// Why (optional).
        #[arg(long)]
        reason: Option<String>,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Propose a new version of an in-force contract, governing from a year on.
    Amend {
        /// The contract id.
        id: String,
        /// The amended contract file.
        file: PathBuf,
        /// The first contract year the amendment governs.
        #[arg(long)]
        effective_from: u16,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// The negotiation history as a tree: who signed what, what is in force, what is pending.
    Status {
        /// The contract id.
        id: String,
    },
    /// The terms of a version as a readable document.
    Show {
        /// The contract id.
        id: String,
        /// The version (default: the latest in force).
        #[arg(long)]
        version: Option<String>,
    },
    /// The differences between two versions, knob by knob, in words.
    Diff {
        /// The contract id.
        id: String,
        /// The old version (hash or prefix).
        a: String,
        /// The new version (hash or prefix).
        b: String,
    },
    /// Every contract in the ledger.
    List,
}

#[derive(Subcommand, Debug)]
pub enum MandateCmd {
    /// Let another party sign contract versions for you.
    Grant {
        /// The party that may sign for you.
        #[arg(long)]
        to: String,
        /// Contract ids covered (repeat), or `*` for all.
        #[arg(long = "contract", required = true)]
        contracts: Vec<String>,
        /// Actions covered (repeat).
        #[arg(long = "action", value_enum, required = true)]
        actions: Vec<MandateAction>,
        /// First contract year covered.
        #[arg(long)]
        from: u16,
        /// Last contract year covered.
        #[arg(long)]
        until: u16,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// End a mandate you granted.
    Revoke {
        /// The mandate entry id.
        mandate: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Your key.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Every mandate and whether it is revoked.
    List,
}

fn short(h: &str) -> &str {
    &h[..12.min(h.len())]
}

/// Loads and validates a contract file, printing every problem.
fn load_contract(path: &Path) -> Result<Contract> {
    contract::check_file(path).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        anyhow!("{} is not a valid contract ({} problem(s)):\n{}", path.display(), lines.len(), lines.join("\n"))
    })
}

/// What offering a new version of an existing contract starts from: the
/// valid terms of `file` (of contract `id`), the signer, and the status.
fn new_version(
    ledger: &Ledger,
    id: &str,
    file: &Path,
    as_key: &Path,
) -> Result<(Contract, ed25519_dalek::SigningKey, String, ContractStatus)> {
    let c = load_contract(file)?;
    if c.id != id {
        bail!("{} is contract {:?}, not {id:?}", file.display(), c.id);
    }
    let (key, party) = signer(ledger, as_key)?;
    neg::check_parties(&c, ledger.registry())?;
    Ok((c, key, party, status_of(ledger, id)?))
}

fn entries_of(ledger: &Ledger, id: &str) -> Result<Vec<Entry>> {
    Ok(ledger.contract_entries(id)?)
}

fn status_of(ledger: &Ledger, id: &str) -> Result<ContractStatus> {
    let st = neg::status(id, &entries_of(ledger, id)?);
    if st.versions.is_empty() {
        bail!("there is no contract {id:?} in this ledger (`vereffen contract list` shows the contracts)");
    }
    Ok(st)
}

/// The entry that carries a version (the lowest id, for determinism).
fn carrier(v: &VersionInfo) -> Result<String> {
    neg::carrier(v).map(str::to_string).map_err(|e| anyhow!(e))
}

/// Signs and appends a planned negotiation entry.
fn append_plan(
    ledger: &mut Ledger,
    party: &str,
    key: &ed25519_dalek::SigningKey,
    plan: neg::Planned,
    json: bool,
) -> Result<()> {
    let body = new_body(ledger, party, key, plan.kind, plan.refs, plan.payload);
    append_one(ledger, body, &[key], json)?;
    Ok(())
}

pub fn contract(cli: &Cli, cmd: &ContractCmd) -> Result<i32> {
    if let ContractCmd::Check { files } = cmd {
        return check(cli, files);
    }
    let mut ledger = open_ledger(&cli.ledger)?;
    match cmd {
        ContractCmd::Check { .. } => unreachable!("handled above"),
        ContractCmd::Propose { file, as_key } => {
            let c = load_contract(file)?;
            let (key, party) = signer(&ledger, as_key)?;
            let plan =
                neg::plan_propose(&c, ledger.registry(), &entries_of(&ledger, &c.id)?).map_err(|e| anyhow!(e))?;
            append_plan(&mut ledger, &party, &key, plan, cli.json)?;
            if !cli.json {
                outln!("proposed version {} of contract {}", c.version_hash(), c.id);
            }
        }
        ContractCmd::Counter { id, file, to, as_key } => {
            let (c, key, party, st) = new_version(&ledger, id, file, as_key)?;
            let plan = neg::plan_counter(&st, &c, ledger.registry(), &party, to.as_deref()).map_err(|e| anyhow!(e))?;
            let answered = plan.payload.get("answers").and_then(Value::as_str).unwrap_or_default().to_string();
            append_plan(&mut ledger, &party, &key, plan, cli.json)?;
            if !cli.json {
                outln!("countered version {} with version {}", short(&answered), c.version_hash());
            }
        }
        ContractCmd::Accept { id, version, on_behalf_of, as_key } => {
            decide(cli, &mut ledger, id, version, on_behalf_of.as_deref(), None, as_key, MandateAction::Accept)?;
        }
        ContractCmd::Reject { id, version, reason, on_behalf_of, as_key } => {
            decide(
                cli,
                &mut ledger,
                id,
                version,
                on_behalf_of.as_deref(),
                Some(reason),
                as_key,
                MandateAction::Reject,
            )?;
        }
        ContractCmd::Withdraw { id, version, reason, as_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            let st = status_of(&ledger, id)?;
            let plan = neg::plan_withdraw(&st, &party, version, reason.as_deref()).map_err(|e| anyhow!(e))?;
            append_plan(&mut ledger, &party, &key, plan, cli.json)?;
        }
        ContractCmd::Amend { id, file, effective_from, as_key } => {
            let (c, key, party, st) = new_version(&ledger, id, file, as_key)?;
            let current = st.latest_in_force().map(|v| v.version.clone());
            // The last settled year bounds the first year still open.
            let last_settled = match &current {
                Some(_) => {
                    let view = super::settle_cmds::contract_view(&ledger, id)?;
                    view.settlements.iter().filter(|(_, s)| s.settled.is_some()).map(|(y, _)| *y).max()
                }
                None => None,
            };
            let plan =
                neg::plan_amend(&st, &c, ledger.registry(), *effective_from, last_settled).map_err(|e| anyhow!(e))?;
            append_plan(&mut ledger, &party, &key, plan, cli.json)?;
            if !cli.json {
                outln!(
                    "proposed amendment {} of version {}, effective from {effective_from}",
                    c.version_hash(),
                    short(&current.unwrap_or_default())
                );
            }
        }
        ContractCmd::Status { id } => {
            let tr = Tr::new(if cli.json { Lang::En } else { super::lang_of(cli, &ledger)? });
            print_status(cli, &tr, &status_of(&ledger, id)?)?
        }
        ContractCmd::Show { id, version } => {
            let st = status_of(&ledger, id)?;
            let v = match version {
                Some(h) => st.resolve(h).map_err(|e| anyhow!(e))?,
                None => match st.latest_in_force() {
                    Some(v) => v,
                    None if st.versions.len() == 1 => {
                        st.versions.values().next().ok_or_else(|| anyhow!("no versions"))?
                    }
                    None => bail!(
                        "contract {id:?} is not in force and has {} versions; choose one with --version ({})",
                        st.versions.len(),
                        st.versions.keys().map(|h| short(h)).collect::<Vec<_>>().join(", ")
                    ),
                },
            };
            if cli.json {
                outln!("{}", serde_json::to_string_pretty(&v.terms.to_canonical_json())?);
            } else {
                let tr = Tr::new(super::lang_of(cli, &ledger)?);
                outln!(
                    "version {} ({}, {})\n",
                    v.version,
                    words::version_kind(&tr, v),
                    words::version_state(&tr, &st, v)
                );
                out!("{}", vereffen::present::terms::render(&tr, &v.terms));
            }
        }
        ContractCmd::Diff { id, a, b } => {
            let st = status_of(&ledger, id)?;
            let (va, vb) = (st.resolve(a).map_err(|e| anyhow!(e))?, st.resolve(b).map_err(|e| anyhow!(e))?);
            let changes = contract::diff(&va.terms, &vb.terms);
            if cli.json {
                // JSON stays English whatever the language: scripts read it.
                let en = Tr::new(Lang::En);
                let value = |v: &Option<contract::FieldValue>| v.as_ref().map(|v| words::value_words(&en, v));
                let list: Vec<Value> = changes
                    .iter()
                    .map(|c| {
                        json!({"path": c.path, "label": words::change_label(&en, c),
                            "before": value(&c.before), "after": value(&c.after)})
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let tr = Tr::new(super::lang_of(cli, &ledger)?);
                outln!(
                    "{}",
                    tr.t_args(
                        "diff-heading",
                        &[
                            ("a", Arg::from(short(&va.version).to_string())),
                            ("b", Arg::from(short(&vb.version).to_string())),
                            ("n", Arg::from(changes.len())),
                        ],
                    )
                );
                for c in &changes {
                    outln!("  {}", words::change_words(&tr, c));
                }
            }
        }
        ContractCmd::List => {
            let mut ids = BTreeSet::new();
            for kind in [neg::KIND_PROPOSE] {
                for (_, e) in ledger.load(&ledger.index().by_kind(kind)?)? {
                    if let Some(c) = e.contract() {
                        ids.insert(c.to_string());
                    }
                }
            }
            let mut rows = Vec::new();
            for id in ids {
                let st = neg::status(&id, &entries_of(&ledger, &id)?);
                let title = st.versions.values().next().map(|v| v.terms.title.clone()).unwrap_or_default();
                let state = if !st.conflicts.is_empty() {
                    "conflict".to_string()
                } else if let Some(v) = st.latest_in_force() {
                    format!("in force ({})", short(&v.version))
                } else {
                    "negotiating".to_string()
                };
                rows.push((id, title, state, st.versions.len()));
            }
            if cli.json {
                let list: Vec<Value> = rows
                    .iter()
                    .map(|(i, t, s, n)| json!({"contract": i, "title": t, "state": s, "versions": n}))
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                outln!("{:<40} {:<26} {:>8}  TITLE", "CONTRACT", "STATE", "VERSIONS");
                for (i, t, s, n) in rows {
                    let t = vereffen::ledger::text::escape_line(&t);
                    outln!("{i:<40} {s:<26} {n:>8}  {t}");
                }
            }
        }
    }
    Ok(0)
}

fn check(cli: &Cli, files: &[PathBuf]) -> Result<i32> {
    let mut bad = 0;
    let mut report = Vec::new();
    for f in files {
        match contract::check_file(f) {
            Ok(c) => {
                if !cli.json {
                    let title = vereffen::ledger::text::escape_line(&c.title);
                    outln!("{}: ok: contract {} \"{title}\", version {}", f.display(), c.id, c.version_hash());
                }
                report.push(json!({"file": f, "ok": true, "contract": c.id, "version": c.version_hash()}));
            }
            Err(diags) => {
                bad += 1;
                for d in &diags {
                    if !cli.json {
                        outln!("{d}");
                    }
                }
                report.push(json!({"file": f, "ok": false, "problems": diags.iter().map(|d| d.to_string()).collect::<Vec<_>>()}));
            }
        }
    }
    if cli.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    }
    if bad > 0 {
        eprintln!("error: {bad} of {} file(s) are not valid contracts", files.len());
        return Ok(1);
    }
    Ok(0)
}

#[allow(clippy::too_many_arguments)]
fn decide(
    cli: &Cli,
    ledger: &mut Ledger,
    id: &str,
    version: &str,
    on_behalf_of: Option<&str>,
    reason: Option<&str>,
    as_key: &Path,
    action: MandateAction,
) -> Result<()> {
    let (key, party) = signer(ledger, as_key)?;
    let st = status_of(ledger, id)?;
    let v = st.resolve(version).map_err(|e| anyhow!(e))?;
    let principal = on_behalf_of.unwrap_or(&party).to_string();
    neg::check_decision(&st, v, &principal, action).map_err(|e| anyhow!(e))?;
    let mut refs = vec![carrier(v)?];
    if principal != party {
        refs.push(find_mandate(ledger, &principal, &party, id, action)?);
    }
    let kind = if action == MandateAction::Accept { neg::KIND_ACCEPT } else { neg::KIND_REJECT };
    let body = new_body(ledger, &party, &key, kind, refs, neg::decision_payload(id, &v.version, on_behalf_of, reason));
    append_one(ledger, body, &[&key], cli.json)?;
    if !cli.json && action == MandateAction::Accept {
        let st = status_of(ledger, id)?;
        if let Some(v2) = st.versions.get(&v.version) {
            match v2.state() {
                VersionState::Agreed => outln!("version {} is now agreed by every signatory", short(&v.version)),
                VersionState::Pending { waiting_for } => outln!("still waiting for: {}", waiting_for.join(", ")),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Mandates and their revocations, from the ledger.
fn mandates(ledger: &Ledger) -> Result<Vec<(Entry, neg::MandatePayload, Option<Entry>)>> {
    let grants = ledger.load(&ledger.index().by_kind(neg::KIND_MANDATE_GRANT)?)?;
    let revokes = ledger.load(&ledger.index().by_kind(neg::KIND_MANDATE_REVOKE)?)?;
    let mut out = Vec::new();
    for (_, g) in grants {
        let p: neg::MandatePayload = serde_json::from_value(g.body().payload.clone())?;
        let revoked = revokes
            .iter()
            .find(|(_, r)| r.body().payload.get("mandate").and_then(Value::as_str) == Some(&g.id().to_hex()))
            .map(|(_, r)| r.clone());
        out.push((g, p, revoked));
    }
    Ok(out)
}

fn find_mandate(
    ledger: &Ledger,
    principal: &str,
    agent: &str,
    contract: &str,
    action: MandateAction,
) -> Result<String> {
    let found = mandates(ledger)?.into_iter().find(|(g, p, revoked)| {
        g.body().author.party == principal
            && p.grantee == agent
            && p.actions.contains(&action)
            && p.contracts.iter().any(|c| c == "*" || c == contract)
            && revoked.is_none()
    });
    match found {
        Some((g, _, _)) => Ok(g.id().to_hex()),
        None => bail!(
            "{agent:?} cannot sign for {principal:?}: no unrevoked mandate from {principal:?} to {agent:?} covers {action:?} on contract {contract:?} (the principal records one with `vereffen mandate grant`)"
        ),
    }
}

fn print_status(cli: &Cli, tr: &Tr, st: &ContractStatus) -> Result<()> {
    if cli.json {
        let versions: Vec<Value> = st
            .versions
            .values()
            .map(|v| {
                json!({"version": v.version, "kind": v.kind, "offered_by": v.offered_by, "state": v.state(),
                       "superseded_by": st.superseded_by(&v.version).map(|b| &b.version),
                       "effective_from": v.effective_from(), "signatures": v.signatures, "rejections": v.rejections,
                       "withdrawn": v.withdrawn, "signatories": v.signatories, "entries": v.entries})
            })
            .collect();
        let governing: Value = st
            .base
            .as_ref()
            .and_then(|b| st.versions.get(b))
            .map(|b| {
                b.terms
                    .term
                    .years()
                    .map(|y| json!({"year": y, "version": st.governing(y).map(|v| v.version.clone())}))
                    .collect::<Vec<_>>()
            })
            .map(Value::from)
            .unwrap_or(Value::Null);
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"contract": st.contract, "base": st.base, "amendments": st.amendments,
                "governing": governing, "conflicts": st.conflicts, "versions": versions})
            )?
        );
        return Ok(());
    }
    for line in words::status_lines(tr, st) {
        outln!("{line}");
    }
    Ok(())
}

pub fn mandate(cli: &Cli, cmd: &MandateCmd) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    match cmd {
        MandateCmd::Grant { to, contracts, actions, from, until, as_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            if ledger.registry().party(to).is_none() {
                bail!("grantee {to:?} is not registered in this ledger");
            }
            let mut actions = actions.clone();
            actions.sort();
            actions.dedup();
            let payload = serde_json::to_value(neg::MandatePayload {
                grantee: to.clone(),
                contracts: contracts.clone(),
                actions,
                first_year: *from,
                last_year: *until,
            })?;
            let body = new_body(&ledger, &party, &key, neg::KIND_MANDATE_GRANT, vec![], payload);
            append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        MandateCmd::Revoke { mandate, reason, as_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            let id = EntryId::from_hex(mandate).ok_or_else(|| {
                anyhow!("{mandate:?} is not a full entry id (64 hex characters; `vereffen mandate list` shows them)")
            })?;
            if mandates(&ledger)?.iter().any(|(g, _, r)| g.id() == id && r.is_some()) {
                bail!("mandate {} is already revoked", id.short());
            }
            let payload =
                serde_json::to_value(neg::RevokeMandatePayload { mandate: id.to_hex(), reason: reason.clone() })?;
            let body = new_body(&ledger, &party, &key, neg::KIND_MANDATE_REVOKE, vec![id.to_hex()], payload);
            append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        MandateCmd::List => {
            let list = mandates(&ledger)?;
            if cli.json {
                let rows: Vec<Value> = list
                    .iter()
                    .map(|(g, p, r)| json!({"mandate": g.id().to_hex(), "grantor": g.body().author.party, "grantee": p.grantee,
                        "contracts": p.contracts, "actions": p.actions, "first_year": p.first_year, "last_year": p.last_year,
                        "revoked_by": r.as_ref().map(|r| r.id().to_hex())}))
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (g, p, r) in &list {
                    outln!(
                        "{}  {} -> {}  contracts {}  actions {:?}  years {}-{}{}",
                        g.id(),
                        g.body().author.party,
                        p.grantee,
                        p.contracts.join(","),
                        p.actions,
                        p.first_year,
                        p.last_year,
                        if r.is_some() { "  REVOKED" } else { "" }
                    );
                }
            }
        }
    }
    Ok(0)
}
