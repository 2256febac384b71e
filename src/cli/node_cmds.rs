//! `serve`, `sync`, `peer` and `user`: the party node and its web
//! workspace. The work is in `vereffen::node` and `vereffen::web`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};

use vereffen::ledger::keys::Passphrase;
use vereffen::node::{client, home::Home, server};
use vereffen::web::{self, users};

/// Exit code when sync found equivocation or is stopped by it.
const EXIT_EQUIVOCATION: i32 = 3;

/// The node home argument shared by the node commands.
#[derive(Args, Debug, Clone)]
pub struct HomeArg {
    /// The node home: DIR/ledgers/<id>/ copies, DIR/keys/ the organisation's keys, DIR/peers.json.
    #[arg(long, env = "VEREFFEN_HOME")]
    pub home: PathBuf,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Address to listen on, e.g. 127.0.0.1:8443 (port 0: any free port).
    #[arg(long)]
    pub listen: SocketAddr,
    /// TLS certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address that is not loopback.
    #[arg(long)]
    pub insecure_http: bool,
    /// Sync with every peer on this period in the background (e.g. 60s, 5m).
    #[arg(long, value_parser = parse_duration)]
    pub sync_every: Option<Duration>,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Only this peer (default: every peer).
    #[arg(long)]
    pub peer: Option<String>,
    /// Only this ledger (its id; `--ledger` is the global ledger directory).
    #[arg(long = "ledger-id")]
    pub ledger_id: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PeerCmd {
    /// Add a peer: another party's node.
    Add {
        #[command(flatten)]
        home: HomeArg,
        /// Local name of the peer.
        name: String,
        /// Its URL: https://HOST:PORT (http:// only to a loopback address, unless --insecure-http).
        url: String,
        /// The party the peer's node acts for.
        #[arg(long)]
        party: String,
        /// Fingerprint of the key the peer's node signs with (`vereffen keys show`).
        #[arg(long)]
        key_fingerprint: String,
        /// CA certificate (PEM) to trust for this peer (e.g. its self-signed certificate).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Allow plain http:// to an address that is not loopback.
        #[arg(long)]
        insecure_http: bool,
    },
    /// List the peers.
    List {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Remove a peer and its sync state.
    Remove {
        #[command(flatten)]
        home: HomeArg,
        /// The peer's name.
        name: String,
    },
    /// Resume sync of a ledger with a peer after it stopped on equivocation
    /// (the evidence stays recorded).
    ResetFork {
        #[command(flatten)]
        home: HomeArg,
        /// The peer's name.
        name: String,
        /// The ledger's id.
        #[arg(long = "ledger-id")]
        ledger_id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user of the web workspace (the password is asked, or read
    /// with --password-file / --password-env; only its argon2id hash is stored).
    Add {
        #[command(flatten)]
        home: HomeArg,
        /// The login name (1 to 64 characters, no spaces).
        name: String,
        /// What the user may do: read (viewer), also sign (signer), also read the audit pages (auditor).
        #[arg(long)]
        role: users::Role,
        /// Read the password from this file (its first line end is dropped).
        #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
        password_file: Option<PathBuf>,
        /// Read the password from this environment variable.
        #[arg(long, value_name = "NAME")]
        password_env: Option<String>,
    },
    /// List the users and their roles.
    List {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Remove a user (their open sessions end at their next request).
    Remove {
        #[command(flatten)]
        home: HomeArg,
        /// The login name.
        name: String,
    },
}

/// `60s`, `5m`, `1h` or plain seconds; at least one second.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (num, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("{text:?} is not a duration like 60s, 5m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("{text:?}: the unit must be s, m or h")),
    };
    if secs == 0 {
        return Err("the period must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// The organisation's keys under DIR/keys, read as every signing command
/// reads keys (encrypted ones with the passphrase flags or a prompt).
fn home_keys(home: &std::path::Path) -> Result<Vec<(String, ed25519_dalek::SigningKey)>> {
    let h = Home::open(home)?;
    let mut out = Vec::new();
    for path in h.key_files()? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((name, super::load_key(&path)?));
    }
    Ok(out)
}

pub fn serve(args: &ServeArgs) -> Result<i32> {
    let tls = args.tls_cert.is_some();
    let config = server::ServeConfig {
        home: args.home.home.clone(),
        listen: args.listen,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        insecure_http: args.insecure_http,
        sync_every: args.sync_every,
        limits: server::Limits::default(),
        keys: Some(home_keys(&args.home.home)?),
        extra: Some(server::ExtraRoutes(std::sync::Arc::new(move |store| web::router(store, web::WebConfig { tls })))),
    };
    let handle = server::serve(config)?;
    outln!("listening on {}", handle.url());
    // On stderr: scripts read the one line above from stdout and may close it.
    let users = users::Users::of_home(&args.home.home).list().map(|u| u.len()).unwrap_or(0);
    eprintln!("web workspace: {}/login", handle.url());
    if users == 0 {
        eprintln!(
            "note: the web workspace has no users yet; add one with `vereffen user add NAME --role viewer|signer|auditor --home {}`",
            args.home.home.display()
        );
    }
    {
        use std::io::Write as _;
        std::io::stdout().lock().flush().map_err(super::StdoutError)?;
    }
    handle.run_until_signal()?;
    eprintln!("stopped");
    Ok(0)
}

pub fn sync(args: &SyncArgs) -> Result<i32> {
    // A node running on this home holds its copies open (and its keys):
    // it syncs in the time of what is new, without this process opening
    // every copy's index (vereffen::node::local).
    let (peer, ledger) = (args.peer.as_deref(), args.ledger_id.as_deref());
    let by_node = vereffen::node::local::sync_via_node(&args.home.home, peer, ledger)?;
    let node_did = by_node.is_some();
    if node_did {
        eprintln!("note: synced by the node running on this home");
    }
    let reports = match by_node {
        Some(r) => r,
        None => client::sync_keys(&args.home.home, home_keys(&args.home.home)?, peer, ledger)?,
    };
    if reports.is_empty() {
        bail!("there are no peers; add one with `vereffen peer add NAME URL --party PARTY --key-fingerprint FP --home DIR`");
    }
    let mut code = 0;
    for r in &reports {
        outln!("peer {}:", r.peer);
        if r.ledgers.is_empty() {
            outln!("  no shared ledgers");
        }
        for l in &r.ledgers {
            outln!("  {}", client::line(l).replace('\n', "\n  "));
            if l.stopped {
                code = EXIT_EQUIVOCATION;
            } else if l.error.is_some() && code == 0 {
                code = 1;
            }
        }
    }
    // Keeps the inbox cache of every copy synced current (after the sync and
    // its report, so it never delays the exchange with the peers): a copy
    // this sync changed is computed once now instead of by the next inbox.
    // (A running node keeps them current itself: `Store::keep_inbox_current`.)
    let synced: std::collections::BTreeSet<&str> = if node_did {
        Default::default()
    } else {
        reports.iter().flat_map(|r| &r.ledgers).map(|l| l.ledger.as_str()).collect()
    };
    for id in synced {
        if let Err(e) = vereffen::audit::inbox::refresh_home_cache(&args.home.home, id) {
            eprintln!("note: the inbox cache of ledger {id} was not refreshed ({e}); `vereffen inbox` computes it");
        }
    }
    Ok(code)
}

pub fn peer(cmd: &PeerCmd) -> Result<i32> {
    match cmd {
        PeerCmd::Add { home, name, url, party, key_fingerprint, ca, insecure_http } => {
            let h = Home::open(&home.home)?;
            let p = h.add_peer(name, url, party, key_fingerprint, ca.as_deref(), *insecure_http)?;
            outln!("added peer {} at {} (party {}, key {})", p.name, p.url, p.party, p.key_fingerprint);
        }
        PeerCmd::List { home } => {
            let h = Home::open(&home.home)?;
            let peers = h.peers()?;
            if peers.is_empty() {
                outln!("no peers");
            }
            for p in &peers {
                outln!(
                    "{}  {}  party {}  key {}{}{}",
                    p.name,
                    p.url,
                    p.party,
                    p.key_fingerprint,
                    if p.ca.is_some() { "  (own CA)" } else { "" },
                    if p.insecure_http { "  (insecure http)" } else { "" }
                );
            }
        }
        PeerCmd::Remove { home, name } => {
            Home::open(&home.home)?.remove_peer(name)?;
            outln!("removed peer {name}");
        }
        PeerCmd::ResetFork { home, name, ledger_id: ledger } => {
            let why = Home::open(&home.home)?.reset_fork(name, ledger).map_err(|e| anyhow!(e))?;
            outln!(
                "sync of ledger {ledger} with peer {name} resumes (it had stopped: {why}); the evidence stays recorded"
            );
        }
    }
    Ok(0)
}

/// The new user's password: from the file or variable (read as key
/// passphrases are read), else asked twice on a terminal.
fn new_password(file: Option<&std::path::Path>, env: Option<&str>) -> Result<Passphrase> {
    // The reader is the passphrase reader; its errors say "password" here.
    let worded = |e: vereffen::ledger::keys::KeyError| match e {
        vereffen::ledger::keys::KeyError::Passphrase { origin, why } => {
            anyhow!("cannot use the password in {}: {why}; nothing was written", origin.replacen("passphrase ", "", 1))
        }
        other => anyhow!(other),
    };
    if let Some(f) = file {
        return Passphrase::from_file(f).map_err(worded);
    }
    if let Some(n) = env {
        return Passphrase::from_env(n).map_err(worded);
    }
    use std::io::IsTerminal as _;
    if !std::io::stdin().is_terminal() {
        bail!("give the password with --password-file FILE or --password-env NAME (or run in a terminal to be asked)");
    }
    let ask = |prompt: &str| -> Result<Passphrase> {
        let text = zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?);
        Ok(Passphrase::new(text.as_bytes().to_vec(), "prompt")?)
    };
    let first = ask("password: ")?;
    if ask("password (again): ")?.as_bytes() != first.as_bytes() {
        bail!("the two passwords differ; nothing was written");
    }
    Ok(first)
}

/// Refuses a directory that exists, holds something, and is not a node
/// home (no `ledgers/` and no `keys/`): a ledger copy or any other folder
/// given by mistake would otherwise get a home's folders and a users file.
/// A missing or empty directory becomes a home, as `serve` makes it one.
fn refuse_non_home(dir: &std::path::Path) -> Result<()> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => bail!("{}: {e}", dir.display()),
    };
    let is_home =
        dir.join(vereffen::node::home::LEDGERS_DIR).is_dir() || dir.join(vereffen::node::home::KEYS_DIR).is_dir();
    if !is_home && entries.next().is_some() {
        bail!(
            "{} is not a node home (it has no ledgers/ or keys/ folder) and is not empty: give the --home of `vereffen serve`; nothing was written",
            dir.display()
        );
    }
    Ok(())
}

pub fn user(cmd: &UserCmd) -> Result<i32> {
    match cmd {
        UserCmd::Add { home, name, role, password_file, password_env } => {
            refuse_non_home(&home.home)?;
            Home::open(&home.home)?;
            if !users::is_valid_name(name) {
                bail!("{}", users::UserError::BadName(name.clone()));
            }
            let password = new_password(password_file.as_deref(), password_env.as_deref())?;
            let u = users::Users::of_home(&home.home).add(name, *role, password.as_bytes())?;
            outln!("added user {} ({})", u.name, u.role.name());
        }
        UserCmd::List { home } => {
            let all = users::Users::of_home(&home.home).list()?;
            if all.is_empty() {
                outln!("no users");
            }
            for u in &all {
                outln!("{}  {}", u.name, u.role.name());
            }
        }
        UserCmd::Remove { home, name } => {
            users::Users::of_home(&home.home).remove(name)?;
            outln!("removed user {name}");
        }
    }
    Ok(0)
}
