//! `vereffen keys ...` and `vereffen party ...`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::Subcommand;

use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};

use super::{append_one, load_key, new_body, open_ledger, signer, Cli};

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Generate a key pair: DIR/NAME.key (private, mode 0600) and DIR/NAME.pub.
    New {
        /// File name stem.
        name: String,
        /// Directory for the files.
        #[arg(long, default_value = "keys")]
        dir: PathBuf,
        /// Encrypt the private key under a passphrase (the default when
        /// --passphrase-file or --passphrase-env is given; else asked twice).
        #[arg(long)]
        encrypt: bool,
        /// Write the private key unencrypted even when a passphrase flag is given.
        #[arg(long, conflicts_with = "encrypt")]
        no_encrypt: bool,
    },
    /// Print the fingerprint and key id of a key file (never the private key).
    Show {
        /// A .key or .pub file.
        file: PathBuf,
    },
    /// Encrypt an unencrypted private key file in place under a passphrase
    /// (atomic rewrite, mode 0600; the key itself does not change).
    Encrypt {
        /// The private .key file.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PartyCmd {
    /// Register a party, signed by its own key (proof of possession).
    Add {
        /// Party id (a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: Role,
        /// The party's private key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Add a new key to a party, signed by a current key and by the new key.
    RotateKey {
        /// A current private key of the party.
        #[arg(long = "as")]
        as_key: PathBuf,
        /// The new private key.
        #[arg(long)]
        new: PathBuf,
        /// Keep the old key valid too (default: retire it).
        #[arg(long)]
        keep_old: bool,
    },
    /// Revoke a key of a party from this entry on.
    RevokeKey {
        /// A current private key of the party (signs the revocation).
        #[arg(long = "as")]
        as_key: PathBuf,
        /// The key to revoke: a fingerprint, or a .pub/.key file.
        #[arg(long)]
        revoke: String,
        /// Why (recorded in the ledger).
        #[arg(long)]
        reason: String,
        /// Allow revoking the party's last current key, which locks the
        /// party out for good (it can never sign again).
        #[arg(long)]
        last_key: bool,
    },
    /// List parties and their keys.
    List,
}

/// The references of a new ending entry of `key` (FORMAT.md 4.3): the
/// entries signed by `key` in this copy that are not in the causal past of
/// another one of them, so that all of them stay live.
fn ending_refs(ledger: &vereffen::ledger::Ledger, key: &KeyId) -> Result<Vec<String>> {
    let all = ledger.scan(1)?;
    let refs = vereffen::ledger::liveness::ending_refs(all.iter().map(|(_, e)| e), key);
    if refs.len() > vereffen::ledger::entry::MAX_ENDING_REFS {
        bail!(
            "key {} signed {} entries that no other entry of it references; an ending entry can reference at most {} (FORMAT.md 3.1). Write a note with the key that references some of them first (`vereffen note --ref`), then retry",
            key.fingerprint(),
            refs.len(),
            vereffen::ledger::entry::MAX_ENDING_REFS
        );
    }
    Ok(refs.iter().map(|r| r.to_hex()).collect())
}

pub fn keys(cli: &Cli, cmd: &KeysCmd) -> Result<i32> {
    match cmd {
        KeysCmd::New { name, dir, encrypt, no_encrypt } => {
            if !vereffen::ledger::entry::is_valid_name(name) {
                bail!("key name {name:?} is not valid: use a-z, 0-9, '.', '_' and '-'");
            }
            let encrypt = *encrypt || (super::passphrase_flag_given() && !no_encrypt);
            let passphrase = if encrypt {
                let target = dir.join(format!("{name}.key"));
                if target.exists() {
                    return Err(keys::KeyError::Exists(target).into());
                }
                Some(super::passphrase_for(&target, true)?)
            } else {
                None
            };
            let key = keys::generate();
            let files = keys::write_key_files_with(dir, name, &key, passphrase.as_ref())?;
            let id = KeyId::of(&key.verifying_key());
            if cli.json {
                let mut v = serde_json::json!({"private": files.private, "public": files.public, "fingerprint": id.fingerprint(), "key_id": id.to_hex()});
                if encrypt {
                    v["encrypted"] = serde_json::Value::Bool(true);
                }
                outln!("{v}");
            } else if encrypt {
                outln!(
                    "wrote {} (private, encrypted under your passphrase) and {}",
                    files.private.display(),
                    files.public.display()
                );
                outln!("fingerprint {}", id.fingerprint());
            } else {
                outln!("wrote {} (private, keep it secret) and {}", files.private.display(), files.public.display());
                outln!("fingerprint {}", id.fingerprint());
            }
        }
        KeysCmd::Encrypt { file } => {
            match keys::read_private_key_file(file)? {
                keys::PrivateKeyFile::Encrypted(_) => return Err(keys::KeyError::AlreadyEncrypted(file.clone()).into()),
                keys::PrivateKeyFile::Plain(_) => {}
            }
            let passphrase = super::passphrase_for(file, true)?;
            let key = keys::encrypt_key_file(file, &passphrase)?;
            let id = KeyId::of(&key.verifying_key());
            if cli.json {
                outln!("{}", serde_json::json!({"private": file, "fingerprint": id.fingerprint(), "encrypted": true}));
            } else {
                outln!("encrypted {} (fingerprint {})", file.display(), id.fingerprint());
            }
        }
        KeysCmd::Show { file } => {
            let key = match keys::read_private_key_file(file) {
                Ok(keys::PrivateKeyFile::Encrypted(enc)) => {
                    enc.decrypt(&super::passphrase_for(file, false)?)?.verifying_key()
                }
                Ok(keys::PrivateKeyFile::Plain(k)) => k.verifying_key(),
                Err(e @ keys::KeyError::Encryption { .. }) => return Err(e.into()),
                Err(_) => keys::load_verifying_key(file)?,
            };
            let id = KeyId::of(&key);
            if cli.json {
                outln!(
                    "{}",
                    serde_json::json!({"fingerprint": id.fingerprint(), "key_id": id.to_hex(), "public_key": data_encoding::HEXLOWER.encode(key.as_bytes())})
                );
            } else {
                outln!("fingerprint {}", id.fingerprint());
                outln!("key id      {}", id.to_hex());
            }
        }
    }
    Ok(0)
}

pub fn party(cli: &Cli, cmd: &PartyCmd) -> Result<i32> {
    let mut ledger = open_ledger(&cli.ledger)?;
    match cmd {
        PartyCmd::Add { id, name, role, key } => {
            if !vereffen::ledger::entry::is_valid_name(id) {
                bail!("party id {id:?} is not valid: use 1 to 64 characters from a-z, 0-9, '.', '_' and '-'");
            }
            let key = load_key(key)?;
            let body = new_body(
                &ledger,
                id,
                &key,
                registry::KIND_REGISTER,
                vec![],
                registry::register_payload(name, *role, &key.verifying_key()),
            );
            append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        PartyCmd::RotateKey { as_key, new, keep_old } => {
            let (old, party) = signer(&ledger, as_key)?;
            let new_key = load_key(new)?;
            let refs = if *keep_old { vec![] } else { ending_refs(&ledger, &KeyId::of(&old.verifying_key()))? };
            let body = new_body(
                &ledger,
                &party,
                &old,
                registry::KIND_ROTATE,
                refs,
                registry::rotate_payload(&new_key.verifying_key(), !keep_old),
            );
            append_one(&mut ledger, body, &[&old, &new_key], cli.json)?;
        }
        PartyCmd::RevokeKey { as_key, revoke, reason, last_key } => {
            let (key, party) = signer(&ledger, as_key)?;
            let target = if keys::is_fingerprint(revoke) {
                let p = ledger.registry().party(&party).ok_or_else(|| anyhow!("party {party:?} vanished"))?;
                p.keys
                    .iter()
                    .filter_map(|k| KeyId::from_hex(k))
                    .find(|k| k.fingerprint() == *revoke)
                    .ok_or_else(|| anyhow!("party {party:?} has no key with fingerprint {revoke}"))?
            } else {
                KeyId::of(&keys::load_verifying_key(std::path::Path::new(revoke))?)
            };
            let current = ledger.registry().current_keys(&party);
            if current == [target] && !last_key {
                bail!(
                    "key {} is the last current key of party {party:?}: revoking it locks the party out for good (no entry can ever be signed for it again). Rotate to a new key first (`vereffen party rotate-key`), or pass --last-key if that is really what you want",
                    target.fingerprint()
                );
            }
            let refs = ending_refs(&ledger, &target)?;
            let body =
                new_body(&ledger, &party, &key, registry::KIND_REVOKE, refs, registry::revoke_payload(target, reason));
            append_one(&mut ledger, body, &[&key], cli.json)?;
        }
        PartyCmd::List => {
            let reg = ledger.registry();
            if cli.json {
                let parties: Vec<_> = reg
                    .parties()
                    .map(|p| {
                        let keys: Vec<_> = p
                            .keys
                            .iter()
                            .filter_map(|k| reg.key(&KeyId::from_hex(k)?).map(|r| (k, r)))
                            .map(|(k, r)| serde_json::json!({"key_id": k, "fingerprint": KeyId::from_hex(k).map(|i| i.fingerprint()), "added_seq": r.added_seq, "ended": r.ended}))
                            .collect();
                        serde_json::json!({"id": p.id, "name": p.name, "role": p.role.as_str(), "keys": keys})
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&parties)?);
            } else {
                outln!("{:<16} {:<19} {:<40} KEYS", "PARTY", "ROLE", "NAME");
                for p in reg.parties() {
                    let keys: Vec<String> = p
                        .keys
                        .iter()
                        .filter_map(|k| {
                            let id = KeyId::from_hex(k)?;
                            let rec = reg.key(&id)?;
                            Some(match &rec.ended {
                                None => id.fingerprint(),
                                Some(end) => {
                                    format!("{} (ended at seq {})", id.fingerprint(), end.seq)
                                }
                            })
                        })
                        .collect();
                    let name = vereffen::ledger::text::escape_line(&p.name);
                    outln!("{:<16} {:<19} {:<40} {}", p.id, p.role.as_str(), name, keys.join(", "));
                }
            }
        }
    }
    Ok(0)
}
