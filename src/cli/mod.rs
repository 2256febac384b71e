//! Argument parsing and dispatch. Each command lives in a submodule; all
//! real work is in the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use ed25519_dalek::SigningKey;

use vereffen::ledger::entry::{Body, Entry};
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::Ledger;

/// `print!` to stdout through a writer whose errors are handled: a closed
/// pipe or a full disk becomes an error ([`StdoutError`]) the caller returns
/// with `?`, where `print!` would panic. [`run`] treats a closed pipe as a
/// normal end (exit 0).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::StdoutError)?
    }};
}

/// `println!` through a writer whose errors are handled; see [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::StdoutError)?
    }};
}

mod audit_cmds;
mod config_cmds;
mod confirm;
mod contract_cmds;
mod demo;
mod inbox_cmds;
mod ledger_cmds;
mod measure_cmds;
mod node_cmds;
mod party_cmds;
mod settle_cmds;
mod simulate_cmds;

pub use config_cmds::{lang_at, lang_of};

/// vereffen: one signed source of truth for outcome-based care contracts.
#[derive(Parser, Debug)]
#[command(name = "vereffen", version, about, long_about = None)]
pub struct Cli {
    /// The ledger directory.
    #[arg(long, global = true, env = "VEREFFEN_LEDGER", default_value = "ledger")]
    pub ledger: PathBuf,
    /// Print data as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The language of statements, summaries, reports and simulation
    /// output: `en` (English) or `nl` (Nederlands, with nl-NL numbers and
    /// `;`-separated CSV). Default: English.
    #[arg(long, global = true, env = "VEREFFEN_LANG", value_name = "en|nl")]
    pub lang: Option<vereffen::present::lang::Lang>,
    /// Read the passphrase of encrypted key files from this file (its
    /// first line end is dropped). Default: ask in a terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the passphrase of encrypted key files from this environment
    /// variable. Default: ask in a terminal.
    #[arg(long, global = true, value_name = "NAME")]
    pub passphrase_env: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an empty ledger (refuses a non-empty directory).
    Init {
        /// The ledger id shared by every party's copy (default: a new random id).
        #[arg(long)]
        id: Option<String>,
    },
    /// Create and inspect key files.
    #[command(subcommand)]
    Keys(party_cmds::KeysCmd),
    /// Register parties and manage their keys.
    #[command(subcommand)]
    Party(party_cmds::PartyCmd),
    /// Contracts: check files, negotiate, sign, amend, inspect.
    #[command(subcommand)]
    Contract(contract_cmds::ContractCmd),
    /// Mandates: let another party sign contract versions for you.
    #[command(subcommand)]
    Mandate(contract_cmds::MandateCmd),
    /// Measurements: submit, attest, dispute, correct, list.
    #[command(subcommand)]
    Measure(measure_cmds::MeasureCmd),
    /// Compute a contract year's settlement statement from the agreed figures.
    Settle(settle_cmds::SettleCmd),
    /// Simulate contract files before signing: Monte Carlo, sweeps,
    /// sensitivity and variants side by side (no ledger needed).
    Simulate(simulate_cmds::SimulateArgs),
    /// Record a signed free-text note (e.g. the minutes of a review moment).
    Note {
        /// The text.
        #[arg(long)]
        text: String,
        /// The contract the note is about.
        #[arg(long)]
        contract: Option<String>,
        /// Entries the note refers to (full hex ids).
        #[arg(long = "ref")]
        refs: Vec<String>,
        /// The signing key of the writing party.
        #[arg(long = "as")]
        as_key: PathBuf,
    },
    /// Audit: signed checkpoints, witness cosignatures, inclusion and consistency proofs.
    #[command(subcommand)]
    Audit(audit_cmds::AuditCmd),
    /// What awaits me: versions to sign, figures to attest, disputes of my
    /// figures, statements to co-sign, computable years, conflicts and
    /// equivocation, in one copy or every copy of a node (--home).
    Inbox(inbox_cmds::InboxArgs),
    /// List entries in journal order.
    Log(ledger_cmds::LogArgs),
    /// Check the whole journal: chain, ids, signatures, key validity,
    /// references. Reads only: takes no lock, does not use the index and
    /// changes no byte (a torn tail is reported, not dropped).
    Verify {
        /// Also check the copy against this signed checkpoint (e.g. one
        /// another party witnessed): the journal must hold at least its size
        /// and its first entries must give its root.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Write a portable bundle of entries.
    ///
    /// Bundles are for offline exchange: no network between the parties, an
    /// air-gapped auditor's copy, a first hand-over on a USB stick, or a peer
    /// whose node is down. When the parties' nodes can reach each other, use
    /// `vereffen serve` and `vereffen sync` instead: the copies converge by
    /// themselves and every sync witnesses the peer's history.
    Export {
        /// The bundle file to write.
        #[arg(long)]
        out: PathBuf,
        /// Export from this sequence number on (default: everything).
        #[arg(long, default_value_t = 1)]
        since: u64,
    },
    /// Verify a bundle and append the entries this copy lacks (all or nothing).
    ///
    /// For offline exchange (no network between the parties, an air-gapped
    /// auditor's copy, a peer whose node is down); otherwise `vereffen sync`
    /// moves entries between the parties' nodes, through the same rules.
    Import {
        /// The bundle file.
        file: PathBuf,
    },
    /// Rebuild the index from the journal.
    Reindex,
    /// Run a party node: serve every ledger under --home over HTTP(S) (API v1, docs/PROTOCOL.md).
    Serve(node_cmds::ServeArgs),
    /// Sync the ledgers shared with peers: pull, push, witness (stops on equivocation).
    ///
    /// The way copies meet whenever the parties' nodes can reach each other.
    /// Without a network between them (an air-gapped auditor's copy, a peer
    /// whose node is down), carry bundles instead: `export` and `import`.
    Sync(node_cmds::SyncArgs),
    /// The peers of a node: other parties' nodes.
    #[command(subcommand)]
    Peer(node_cmds::PeerCmd),
    /// The users of a node's web workspace (`vereffen serve` serves it).
    #[command(subcommand)]
    User(node_cmds::UserCmd),
    /// Local settings of this copy (`lang`: the default language of its
    /// documents); not signed, not shared, ignored by `verify`.
    #[command(subcommand)]
    Config(config_cmds::ConfigCmd),
    /// Run the life of a contract in a temporary ledger, step by step.
    ///
    /// Starts the hospital's and the insurer's nodes on loopback (127.0.0.1,
    /// free ports) and moves every entry between their copies by sync; the
    /// auditor's air-gapped copy gets a bundle file (export/import, the way
    /// without a network). The nodes stop when the demo ends.
    Demo {
        /// Keep the demo ledgers in this (new or empty) directory instead of a temporary one.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Writing to standard output failed. A closed pipe (`vereffen log | head`)
/// is a normal end; anything else (a full disk behind a redirect) is an error.
#[derive(Debug)]
pub struct StdoutError(pub std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// True when `e` says the reader of our standard output went away.
fn is_closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<StdoutError>().is_some_and(|s| s.0.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `bytes` to standard output, mapping failures to [`StdoutError`].
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(StdoutError)?;
    Ok(())
}

/// Writes `bytes` to `path` safely: a temporary file in the same directory,
/// synced, then renamed over `path`. A symlink at `path` is replaced, never
/// followed, and a failed write leaves `path` as it was. Every `--out` of
/// the command line goes through here.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path).map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

/// Parses the arguments, runs the command, prints errors; returns the exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = dispatch(&cli).and_then(|code| {
        // Flush here so that a closed pipe is seen now, not ignored at exit.
        use std::io::Write as _;
        std::io::stdout().lock().flush().map_err(StdoutError)?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): a normal end. Every
        // file was written before anything was printed.
        Err(e) if is_closed_stdout(&e) => 0,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            1
        }
    }
}

/// The error and its causes joined by `: ` (as `{:#}` does), leaving out a
/// cause whose text the message already contains: error types that embed
/// their source in their own message (`"{path}: {source}"`) would otherwise
/// print it twice.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.is_empty() {
            out = text;
        } else if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn dispatch(cli: &Cli) -> Result<i32> {
    let source = match (&cli.passphrase_file, &cli.passphrase_env) {
        (Some(_), Some(_)) => anyhow::bail!("give either --passphrase-file or --passphrase-env, not both"),
        (Some(f), None) => PassphraseSource::File(f.clone()),
        (None, Some(n)) => PassphraseSource::Env(n.clone()),
        (None, None) => PassphraseSource::Prompt,
    };
    // Set once per process, before any key is read.
    let _ = PASSPHRASE_SOURCE.set(source);
    match &cli.command {
        Command::Init { id } => ledger_cmds::init(cli, id.as_deref()),
        Command::Keys(cmd) => party_cmds::keys(cli, cmd),
        Command::Party(cmd) => party_cmds::party(cli, cmd),
        Command::Contract(cmd) => contract_cmds::contract(cli, cmd),
        Command::Measure(cmd) => measure_cmds::measure(cli, cmd),
        Command::Settle(args) => settle_cmds::settle(cli, args),
        Command::Simulate(args) => simulate_cmds::simulate(cli, args),
        Command::Mandate(cmd) => contract_cmds::mandate(cli, cmd),
        Command::Note { text, contract, refs, as_key } => note(cli, text, contract.as_deref(), refs, as_key),
        Command::Audit(cmd) => audit_cmds::audit(cli, cmd),
        Command::Inbox(args) => inbox_cmds::inbox(cli, args),
        Command::Log(args) => ledger_cmds::log(cli, args),
        Command::Verify { checkpoint } => ledger_cmds::verify(cli, checkpoint.as_deref()),
        Command::Export { out, since } => ledger_cmds::export(cli, out, *since),
        Command::Import { file } => ledger_cmds::import(cli, file),
        Command::Reindex => ledger_cmds::reindex(cli),
        Command::Serve(args) => node_cmds::serve(args),
        Command::Sync(args) => node_cmds::sync(args),
        Command::Peer(cmd) => node_cmds::peer(cmd),
        Command::User(cmd) => node_cmds::user(cmd),
        Command::Config(cmd) => config_cmds::config(cli, cmd),
        Command::Demo { dir } => demo::run(dir.as_deref()),
    }
}

/// Opens the ledger named by `--ledger`, reporting what opening noticed.
///
/// A copy a running node serves may be open in the node for a moment (it
/// closes copies unused for `IDLE_CLOSE`): opening waits for it, up to
/// `node::store::LOCK_PATIENCE`, which is longer than the node holds an
/// idle copy (`IDLE_HOLD_MAX`).
pub fn open_ledger(dir: &Path) -> Result<Ledger> {
    let ledger = vereffen::node::store::open_patiently(|| Ledger::open(dir, &vereffen::rules::ALL))?;
    let report = ledger.open_report();
    if let Some(t) = report.torn {
        match t.unfinished_batch {
            None => eprintln!(
                "note: dropped a torn final record ({} bytes at byte {}) left by an interrupted write; it was never acknowledged",
                t.bytes, t.offset
            ),
            Some(n) => eprintln!(
                "note: dropped an unfinished batch of {n} entries ({} bytes at byte {}) left by an interrupted import or append; it was never acknowledged, so none of its entries is in this copy (import it again)",
                t.bytes, t.offset
            ),
        }
    }
    if let Some(reason) = &report.index_rebuilt {
        eprintln!("note: the index was unreadable ({reason}); rebuilt it from the journal ({} entries)", ledger.len());
    } else if report.rebuilt {
        eprintln!("note: the index was written by another version of vereffen; it was rebuilt from the journal");
    } else if report.caught_up > 0 {
        eprintln!("note: the index caught up with {} entries appended before an interruption", report.caught_up);
    }
    Ok(ledger)
}

/// Where the passphrase of encrypted key files comes from: the global
/// flags `--passphrase-file` / `--passphrase-env`, else a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassphraseSource {
    /// `--passphrase-file FILE`.
    File(PathBuf),
    /// `--passphrase-env NAME`.
    Env(String),
    /// Ask on the terminal (only when standard input is one).
    Prompt,
}

/// The passphrase source of this run, set by `dispatch` from the flags.
static PASSPHRASE_SOURCE: std::sync::OnceLock<PassphraseSource> = std::sync::OnceLock::new();

/// The passphrase source of this run.
pub fn passphrase_source() -> PassphraseSource {
    PASSPHRASE_SOURCE.get().cloned().unwrap_or(PassphraseSource::Prompt)
}

/// True when a passphrase flag was given (then `keys new` encrypts by default).
pub fn passphrase_flag_given() -> bool {
    passphrase_source() != PassphraseSource::Prompt
}

/// The passphrase for the key file `path`, from the flags or, when
/// standard input is a terminal, a prompt that does not echo (asked twice
/// when `confirm`, for a new encryption). Without either, an error naming
/// the flags.
pub fn passphrase_for(path: &Path, confirm: bool) -> Result<keys::Passphrase> {
    match passphrase_source() {
        PassphraseSource::File(f) => Ok(keys::Passphrase::from_file(&f)?),
        PassphraseSource::Env(n) => Ok(keys::Passphrase::from_env(&n)?),
        PassphraseSource::Prompt => {
            if !std::io::stdin().is_terminal() {
                if confirm {
                    anyhow::bail!(
                        "encrypting {} needs a passphrase: give it with --passphrase-file FILE or --passphrase-env NAME (or run in a terminal to be asked)",
                        path.display()
                    );
                }
                return Err(keys::KeyError::NeedsPassphrase(path.to_path_buf()).into());
            }
            let ask = |prompt: String| -> Result<keys::Passphrase> {
                let text = zeroize::Zeroizing::new(
                    rpassword::prompt_password(prompt).context("cannot read the passphrase from the terminal")?,
                );
                Ok(keys::Passphrase::new(text.as_bytes().to_vec(), "prompt")?)
            };
            let first = ask(format!("passphrase for {}: ", path.display()))?;
            if confirm {
                let again = ask(format!("passphrase for {} (again): ", path.display()))?;
                if again.as_bytes() != first.as_bytes() {
                    anyhow::bail!("the two passphrases differ; nothing was written");
                }
            }
            Ok(first)
        }
    }
}

/// Loads a signing key file: an encrypted one with the passphrase of
/// [`passphrase_for`]; a plain one with a one-line warning. Warns if others
/// can read it.
pub fn load_key(path: &Path) -> Result<SigningKey> {
    let key = match keys::read_private_key_file(path)? {
        keys::PrivateKeyFile::Plain(k) => {
            eprintln!(
                "warning: {} is not encrypted; `vereffen keys encrypt {}` encrypts it",
                path.display(),
                path.display()
            );
            k
        }
        keys::PrivateKeyFile::Encrypted(enc) => enc.decrypt(&passphrase_for(path, false)?)?,
    };
    if let Some(w) = keys::permission_warning(path) {
        eprintln!("{w}");
    }
    Ok(key)
}

/// Loads `--as KEY` and finds the party it currently belongs to.
pub fn signer(ledger: &Ledger, path: &Path) -> Result<(SigningKey, String)> {
    let key = load_key(path)?;
    let id = KeyId::of(&key.verifying_key());
    let party = ledger.registry().current_owner(&id).ok_or_else(|| match ledger.registry().key(&id) {
        Some(rec) => anyhow!(
            "key {} ({}) of party {:?} is no longer valid (revoked or retired); sign with a current key of the party",
            path.display(),
            id.fingerprint(),
            rec.party
        ),
        None => anyhow!(
            "key {} ({}) is not a key of any party in this ledger; register it with `vereffen party add` or use the party's current key",
            path.display(),
            id.fingerprint()
        ),
    })?;
    Ok((key, party.id.clone()))
}

pub use vereffen::present::measure::new_body;

/// Signs and appends one entry; prints its sequence and id.
pub fn append_one(ledger: &mut Ledger, body: Body, signers: &[&SigningKey], json: bool) -> Result<Entry> {
    let entry = Entry::sign(body, signers).context("cannot build the entry")?;
    let seqs = ledger.append(std::slice::from_ref(&entry))?;
    if json {
        outln!("{}", serde_json::json!({"seq": seqs[0], "id": entry.id().to_hex(), "kind": entry.kind()}));
    } else {
        outln!("appended {} as entry {} (sequence {})", entry.kind(), entry.id().short(), seqs[0]);
    }
    Ok(entry)
}

/// True when a progress bar makes sense.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn note(cli: &Cli, text: &str, contract: Option<&str>, refs: &[String], as_key: &Path) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    let (key, party) = signer(&ledger, as_key)?;
    for r in refs {
        if vereffen::ledger::entry::EntryId::from_hex(r).is_none() {
            anyhow::bail!("--ref {r:?} is not a full entry id (64 hex characters; `vereffen log --json` shows them)");
        }
    }
    // Command-line policy (like the other "does it exist here?" checks): a
    // note about a contract this copy has never seen is a typo, not a fact.
    if let Some(c) = contract {
        let ids = ledger.index().by_contract(c)?;
        let entries: Vec<Entry> = ledger.load(&ids)?.into_iter().map(|(_, e)| e).collect();
        if vereffen::domain::negotiation::status(c, &entries).versions.is_empty() {
            anyhow::bail!(
                "there is no contract {c:?} in this ledger (`vereffen contract list` shows the contracts); nothing was recorded"
            );
        }
    }
    let body = new_body(
        &ledger,
        &party,
        &key,
        vereffen::domain::note::KIND_NOTE,
        refs.to_vec(),
        vereffen::domain::note::payload(text, contract),
    );
    append_one(&mut ledger, body, &[&key], cli.json)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk-full journal error names its reason once (`{:#}` printed the
    /// `{path}: {source}` message and then the source again).
    #[test]
    fn a_journal_error_prints_its_reason_once() {
        let source = std::io::Error::from_raw_os_error(28);
        let reason = source.to_string();
        let journal = vereffen::ledger::journal::JournalError::Io { path: PathBuf::from("l/journal"), source };
        let e = anyhow::Error::from(vereffen::ledger::LedgerError::Journal(journal));
        assert_eq!(format!("{e:#}").matches(&reason).count(), 2, "the old output repeated it: {e:#}");
        let text = error_text(&e);
        assert_eq!(text.matches(&reason).count(), 1, "{text}");
        assert!(text.starts_with("journal l/journal: "), "{text}");
        // Causes that add something are still printed.
        let e = e.context("cannot record the note");
        assert_eq!(error_text(&e), format!("cannot record the note: journal l/journal: {reason}"));
    }

    #[test]
    fn only_a_closed_pipe_is_a_normal_end() {
        let pipe = anyhow::Error::from(StdoutError(std::io::Error::from(std::io::ErrorKind::BrokenPipe)));
        assert!(is_closed_stdout(&pipe));
        let full = anyhow::Error::from(StdoutError(std::io::Error::from_raw_os_error(28)));
        assert!(!is_closed_stdout(&full));
        assert!(error_text(&full).starts_with("cannot write to standard output: "));
    }
}
