//! `vereffen inbox`: what awaits me, in one copy (`--ledger`) or in every
//! copy of a node home (`--home`). The model is `audit::inbox`, the text
//! and JSON are `present::inbox`; this file parses and prints.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use vereffen::audit::inbox::{self, MyKey};
use vereffen::ledger::keys::KeyId;
use vereffen::ledger::snapshot;
use vereffen::present::inbox as show;

use super::Cli;

/// `vereffen inbox [--home DIR] [--as KEY ...] [--json]`.
#[derive(Args, Debug)]
pub struct InboxArgs {
    /// A node home: every copy under DIR/ledgers, for the parties whose
    /// current keys are in DIR/keys (or the --as keys). Without it, the one
    /// copy of --ledger, and --as is required.
    #[arg(long, env = "VEREFFEN_HOME")]
    home: Option<PathBuf>,
    /// My key files (repeat): the public key is read from the `.pub` file
    /// next to each, so an encrypted key needs no passphrase.
    #[arg(long = "as")]
    as_keys: Vec<PathBuf>,
}

fn load_keys(paths: &[PathBuf]) -> Result<Vec<MyKey>> {
    Ok(paths.iter().map(|p| inbox::my_key(p)).collect::<Result<Vec<_>, _>>()?)
}

pub fn inbox(cli: &Cli, args: &InboxArgs) -> Result<i32> {
    let items = match &args.home {
        Some(home) => {
            let keys = if args.as_keys.is_empty() { inbox::home_keys(home)? } else { load_keys(&args.as_keys)? };
            if keys.is_empty() {
                bail!(
                    "node home {} has no key files in {}/{}: give the organisation's keys with --as KEY (the .pub next to each is read)",
                    home.display(),
                    home.display(),
                    inbox::HOME_KEYS_DIR
                );
            }
            inbox::home_inbox(home, &keys)?
        }
        None => {
            if args.as_keys.is_empty() {
                bail!("give your key with --as KEY (or a node home with --home DIR)");
            }
            let keys = load_keys(&args.as_keys)?;
            // Read-only, without the copy's lock: the inbox works while a
            // server or another command holds the copy.
            let snap = snapshot::read(&cli.ledger)?;
            let known = keys.iter().any(|k| snap.registry.key(&KeyId::of(&k.key)).is_some());
            if !known {
                bail!(
                    "none of the keys {} is a key of a party in ledger {} ({}); register it with `vereffen party add`, or give the party's key",
                    args.as_keys.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                    snap.ledger,
                    cli.ledger.display()
                );
            }
            let facts = inbox::Facts::from_snapshot(snap, &cli.ledger);
            let mine = inbox::my_parties(&facts.registry, &keys);
            let mut items = inbox::items(&facts, &mine, &keys);
            inbox::sort_items(&mut items);
            items
        }
    };
    if cli.json {
        outln!("{}", serde_json::to_string_pretty(&show::json(&items))?);
    } else {
        let tr = vereffen::present::lang::Tr::new(super::lang_at(cli, &cli.ledger)?);
        out!("{}", show::text_in(&tr, &items));
    }
    Ok(0)
}
