//! `vereffen config`: local settings of one copy of a ledger, such as the
//! default language of its documents.
//!
//! The settings live in `SETTINGS_FILE` in the ledger directory. They are
//! not entries: nothing signs them, no other copy receives them, and
//! `verify` ignores them. Only `config set` / `config unset` write the file
//! (whole, through a temporary file and a rename, under the ledger's lock);
//! every other command only reads it.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use toml_edit::{value, DocumentMut};

use vereffen::ledger::Ledger;
use vereffen::present::lang::Lang;

use super::{open_ledger, write_file_atomically, Cli};

/// The settings file of a copy, in its ledger directory.
pub const SETTINGS_FILE: &str = "settings.toml";

/// The largest settings file read (a few lines in practice): anything
/// bigger is refused rather than read into memory.
pub const MAX_SETTINGS_BYTES: u64 = 4096;

/// The settings a copy knows.
pub const SETTINGS: &[&str] = &["lang"];

/// `vereffen config ...`
#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Set a local setting of this copy: `lang` (`en` or `nl`), the default
    /// language of statements, reports and other documents (`--lang`
    /// overrides it). Not signed, not shared, ignored by `verify`.
    Set {
        /// The setting: `lang`.
        key: String,
        /// Its value.
        value: String,
    },
    /// Show a local setting (or all of them).
    Get {
        /// The setting: `lang` (default: every setting).
        key: Option<String>,
    },
    /// Remove a local setting (back to the default).
    Unset {
        /// The setting: `lang`.
        key: String,
    },
}

/// The settings of a copy as read from its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The default language of documents (`lang`).
    pub lang: Option<Lang>,
}

fn settings_path(dir: &Path) -> PathBuf {
    dir.join(SETTINGS_FILE)
}

fn known(key: &str) -> Result<()> {
    if SETTINGS.contains(&key) {
        Ok(())
    } else {
        bail!("unknown setting {key:?}: the settings of a copy are {}", SETTINGS.join(", "))
    }
}

/// Reads the settings file of the ledger in `dir` (none: the defaults). A
/// file that cannot be read, is too big, does not parse, names an unknown
/// setting or holds a bad value is an error naming the file and what to do.
pub fn read_settings(dir: &Path) -> Result<Settings> {
    let path = settings_path(dir);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let fix =
        format!("fix or delete it (`vereffen --ledger {} config set lang en|nl` writes a good one)", dir.display());
    if !meta.is_file() {
        bail!("{} is not a regular file: {fix}", path.display());
    }
    if meta.len() > MAX_SETTINGS_BYTES {
        bail!(
            "{} has {} bytes, more than the {MAX_SETTINGS_BYTES} a settings file may have: {fix}",
            path.display(),
            meta.len()
        );
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} (not UTF-8?): {fix}", path.display()))?;
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        anyhow!("{} is not valid TOML: {}: {fix}", path.display(), e.to_string().trim())
    })?;
    let mut settings = Settings::default();
    for (key, item) in doc.iter() {
        known(key).map_err(|e| anyhow!("{}: {e}: {fix}", path.display()))?;
        debug_assert_eq!(key, "lang", "SETTINGS lists only lang");
        let text = item.as_str().ok_or_else(|| {
            anyhow!(
                "{}: lang must be a string (\"en\" or \"nl\"), not {}: {fix}",
                path.display(),
                item.to_string().trim()
            )
        })?;
        let lang = text.parse::<Lang>().map_err(|e| anyhow!("{}: lang: {e}; {fix}", path.display()))?;
        settings.lang = Some(lang);
    }
    Ok(settings)
}

/// The language of the documents a command renders for `ledger`: `--lang`
/// (or VEREFFEN_LANG) if given, else the copy's `lang` setting, else
/// English. A bad settings file is an error only when it is needed.
pub fn lang_of(cli: &Cli, ledger: &Ledger) -> Result<Lang> {
    lang_at(cli, ledger.dir())
}

/// [`lang_of`] for a command that does not open the ledger: the settings
/// of the ledger directory `dir`, if there is one.
pub fn lang_at(cli: &Cli, dir: &Path) -> Result<Lang> {
    match cli.lang {
        Some(lang) => Ok(lang),
        None => Ok(read_settings(dir)?.lang.unwrap_or_default()),
    }
}

/// `vereffen config set|get|unset`.
pub fn config(cli: &Cli, cmd: &ConfigCmd) -> Result<i32> {
    match cmd {
        ConfigCmd::Get { key } => {
            if let Some(k) = key {
                known(k)?;
            }
            // Reads only: the ledger is not opened (no lock, no index).
            if !cli.ledger.join(vereffen::ledger::copy::JOURNAL_FILE).is_file() {
                bail!("{} is not a ledger (no journal)", cli.ledger.display());
            }
            let settings = read_settings(&cli.ledger)?;
            if cli.json {
                outln!("{}", serde_json::json!({ "lang": settings.lang.map(|l| l.code()) }));
            } else {
                match settings.lang {
                    Some(l) => outln!("lang = {l}"),
                    None => outln!("lang is not set (default: {})", Lang::default()),
                }
            }
            Ok(0)
        }
        ConfigCmd::Set { key, value: v } => {
            known(key)?;
            let lang = v.parse::<Lang>().map_err(|e| anyhow!("lang: {e}"))?;
            let ledger = open_ledger(&cli.ledger)?;
            write_settings(ledger.dir(), |doc| doc["lang"] = value(lang.code()))?;
            outln!("lang = {lang} (a local setting of this copy: not signed, not shared)");
            Ok(0)
        }
        ConfigCmd::Unset { key } => {
            known(key)?;
            let ledger = open_ledger(&cli.ledger)?;
            write_settings(ledger.dir(), |doc| {
                doc.remove("lang");
            })?;
            outln!("lang is not set (default: {})", Lang::default());
            Ok(0)
        }
    }
}

/// Rewrites the settings file of `dir` with `change` applied, whole
/// (temporary file and rename). An existing file must be valid first: a bad
/// one is named, not silently replaced.
fn write_settings(dir: &Path, change: impl FnOnce(&mut DocumentMut)) -> Result<()> {
    read_settings(dir)?;
    let path = settings_path(dir);
    let mut doc: DocumentMut = match std::fs::read_to_string(&path) {
        Ok(text) => text.parse().map_err(|e| anyhow!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DocumentMut::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    change(&mut doc);
    write_file_atomically(&path, doc.to_string().as_bytes())
}
