//! Parties and their keys: the rules of `party.*` entries and of who may
//! sign anything.
//!
//! The registry is a pure state machine over entries in journal order. The
//! ledger keeps one (persisted in the index) to check appends; `verify`
//! rebuilds one from the journal with the same code.
//!
//! Rules:
//! * `party.register`: signed by the key being registered (proof of
//!   possession); the party id must be new; the key must be unused.
//! * `party.rotate_key`: signed by a current key of the party *and* by the
//!   new key; the new key joins the party; with `retire_old` the signing key
//!   stops being valid from this entry on.
//! * `party.revoke_key`: signed by a current key of the party; the named key
//!   (of the same party) stops being valid from this entry on.
//! * Every other entry must be signed by exactly one key, which is a current
//!   key of the author party at that point of the journal.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::{Entry, EntryId};
use crate::keys::KeyId;

/// Register a party.
pub const KIND_REGISTER: &str = "party.register";
/// Add a new key to a party (and optionally retire the signing key).
pub const KIND_ROTATE: &str = "party.rotate_key";
/// Revoke a key of a party.
pub const KIND_REVOKE: &str = "party.revoke_key";

/// What a party does in contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A care provider (hospital, home-care organisation, GP group).
    Provider,
    /// A payer (health insurer, long-term care office, municipality).
    Payer,
    /// A party whose data measures indicators (e.g. a claims database).
    #[value(name = "measurement_source")]
    MeasurementSource,
    /// An auditor: verifies, signs nothing contractual.
    Auditor,
}

impl Role {
    /// The name used in entries and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Payer => "payer",
            Role::MeasurementSource => "measurement_source",
            Role::Auditor => "auditor",
        }
    }
}

/// Why a key stopped being valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum KeyEndReason {
    /// Revoked by a `party.revoke_key` entry.
    Revoked {
        /// The reason given.
        reason: String,
    },
    /// Replaced by a new key in a `party.rotate_key` entry.
    Retired,
}

/// The end of a key's validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEnd {
    /// Journal sequence number of the ending entry.
    pub seq: u64,
    /// The ending entry.
    pub entry: String,
    /// Why.
    #[serde(flatten)]
    pub reason: KeyEndReason,
}

/// One key in a party's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The owning party.
    pub party: String,
    /// The public key (hex in JSON; kept parsed, so checks do not repeat
    /// the point decompression).
    #[serde(with = "public_key_hex")]
    pub public_key: VerifyingKey,
    /// Journal sequence number of the entry that added it.
    pub added_seq: u64,
    /// The entry that added it.
    pub added_by: String,
    /// When and why it stopped being valid, if it did.
    pub ended: Option<KeyEnd>,
}

/// A registered party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Party id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The registration entry.
    pub registered_by: String,
    /// Key ids (hex) in the order they were added.
    pub keys: Vec<String>,
}

/// Why an entry breaks the registry rules. Messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

/// The parties and keys of a ledger at one point of its journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    parties: BTreeMap<String, Party>,
    keys: BTreeMap<KeyId, KeyRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterPayload {
    name: String,
    role: Role,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotatePayload {
    new_public_key: String,
    retire_old: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokePayload {
    key: String,
    reason: String,
}

fn payload<T: serde::de::DeserializeOwned>(e: &Entry) -> Result<T, RuleError> {
    serde_json::from_value(e.body().payload.clone())
        .map_err(|err| RuleError(format!("{} payload is malformed: {err}", e.kind())))
}

fn parse_public_key(hex: &str) -> Result<VerifyingKey, RuleError> {
    let bytes: [u8; 32] = data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| RuleError(format!("public key {hex:?} is not 64 lower-case hex characters")))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| RuleError(format!("public key {hex} is not a valid ed25519 point")))
}

/// Payload of a `party.register` entry.
pub fn register_payload(name: &str, role: Role, key: &VerifyingKey) -> Value {
    serde_json::json!({"name": name, "role": role.as_str(), "public_key": data_encoding::HEXLOWER.encode(key.as_bytes())})
}

/// Payload of a `party.rotate_key` entry.
pub fn rotate_payload(new_key: &VerifyingKey, retire_old: bool) -> Value {
    serde_json::json!({"new_public_key": data_encoding::HEXLOWER.encode(new_key.as_bytes()), "retire_old": retire_old})
}

/// Payload of a `party.revoke_key` entry.
pub fn revoke_payload(key: KeyId, reason: &str) -> Value {
    serde_json::json!({"key": key.to_hex(), "reason": reason})
}

impl Registry {
    /// All parties, by id.
    pub fn parties(&self) -> impl Iterator<Item = &Party> {
        self.parties.values()
    }
    /// One party.
    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.get(id)
    }
    /// One key's record.
    pub fn key(&self, id: &KeyId) -> Option<&KeyRecord> {
        self.keys.get(id)
    }
    /// The party a key belongs to, if the key is currently valid.
    pub fn current_owner(&self, id: &KeyId) -> Option<&Party> {
        let rec = self.keys.get(id)?;
        if rec.ended.is_some() {
            return None;
        }
        self.parties.get(&rec.party)
    }

    fn valid_key_of(&self, party: &str, key: &KeyId, what: &str) -> Result<VerifyingKey, RuleError> {
        if !self.parties.contains_key(party) {
            return Err(RuleError(format!(
                "{what}: party {party:?} is not registered in this ledger (register it with `vereffen party add`, or import its registration first)"
            )));
        }
        let rec =
            self.keys.get(key).filter(|r| r.party == party).ok_or_else(|| {
                RuleError(format!("{what}: key {} is not a key of party {party:?}", key.fingerprint()))
            })?;
        if let Some(end) = &rec.ended {
            let how = match &end.reason {
                KeyEndReason::Revoked { reason } => format!("revoked ({reason})"),
                KeyEndReason::Retired => "retired by a key rotation".into(),
            };
            return Err(RuleError(format!(
                "{what}: key {} of party {party:?} was {how} at entry {} (sequence {}); sign with a current key",
                key.fingerprint(),
                &end.entry[..12],
                end.seq
            )));
        }
        Ok(rec.public_key)
    }

    /// Checks `e` against the key rules at this point (kinds and payloads
    /// are checked in `rules`) and returns the public key for each of its
    /// signatures, in order (the caller checks the signatures, in batches).
    pub fn check(&self, e: &Entry) -> Result<Vec<VerifyingKey>, RuleError> {
        let b = e.body();
        let author = e.author_key();
        let party = b.author.party.as_str();
        let expect_sigs = |n: usize| {
            if e.sigs().len() == n {
                Ok(())
            } else {
                Err(RuleError(format!("a {} entry carries {n} signature(s), this one {}", b.kind, e.sigs().len())))
            }
        };
        match b.kind.as_str() {
            KIND_REGISTER => {
                expect_sigs(1)?;
                let p: RegisterPayload = payload(e)?;
                if self.parties.contains_key(party) {
                    return Err(RuleError(format!("party {party:?} is already registered; choose another id")));
                }
                if p.name.trim().is_empty() || p.name.len() > 200 {
                    return Err(RuleError("party name must be 1 to 200 characters".into()));
                }
                crate::text::check_line("the party name", &p.name).map_err(RuleError)?;
                let key = parse_public_key(&p.public_key)?;
                if KeyId::of(&key) != author {
                    return Err(RuleError(
                        "a registration must be signed by the key it registers (proof of possession)".into(),
                    ));
                }
                if let Some(rec) = self.keys.get(&author) {
                    return Err(RuleError(format!(
                        "key {} is already registered to party {:?}; every party needs its own key",
                        author.fingerprint(),
                        rec.party
                    )));
                }
                Ok(vec![key])
            }
            KIND_ROTATE => {
                expect_sigs(2)?;
                let p: RotatePayload = payload(e)?;
                let old = self.valid_key_of(party, &author, "key rotation")?;
                let new = parse_public_key(&p.new_public_key)?;
                let new_id = KeyId::of(&new);
                if e.sigs()[1].key != new_id {
                    return Err(RuleError("the second signature of a rotation must be by the new key".into()));
                }
                if let Some(rec) = self.keys.get(&new_id) {
                    return Err(RuleError(format!(
                        "new key {} is already registered to party {:?}",
                        new_id.fingerprint(),
                        rec.party
                    )));
                }
                Ok(vec![old, new])
            }
            KIND_REVOKE => {
                expect_sigs(1)?;
                let p: RevokePayload = payload(e)?;
                let signer = self.valid_key_of(party, &author, "key revocation")?;
                let target = KeyId::from_hex(&p.key)
                    .ok_or_else(|| RuleError(format!("revoked key {:?} is not a hex key id", p.key)))?;
                self.valid_key_of(party, &target, "key revocation target")?;
                if p.reason.trim().is_empty() {
                    return Err(RuleError("a revocation needs a reason".into()));
                }
                crate::text::check_free_text("the revocation reason", &p.reason).map_err(RuleError)?;
                Ok(vec![signer])
            }
            _ => {
                expect_sigs(1)?;
                Ok(vec![self.valid_key_of(party, &author, "signer")?])
            }
        }
    }

    /// Applies an entry that passed [`Registry::check`], at journal sequence `seq`.
    pub fn apply(&mut self, e: &Entry, seq: u64) {
        let b = e.body();
        let id = e.id().to_hex();
        let author = e.author_key();
        match b.kind.as_str() {
            KIND_REGISTER => {
                let Ok(p) = payload::<RegisterPayload>(e) else {
                    return;
                };
                let Ok(key) = parse_public_key(&p.public_key) else {
                    return;
                };
                self.keys.insert(
                    author,
                    KeyRecord {
                        party: b.author.party.clone(),
                        public_key: key,
                        added_seq: seq,
                        added_by: id.clone(),
                        ended: None,
                    },
                );
                self.parties.insert(
                    b.author.party.clone(),
                    Party {
                        id: b.author.party.clone(),
                        name: p.name,
                        role: p.role,
                        registered_by: id,
                        keys: vec![author.to_hex()],
                    },
                );
            }
            KIND_ROTATE => {
                let Ok(p) = payload::<RotatePayload>(e) else {
                    return;
                };
                let Ok(new) = parse_public_key(&p.new_public_key) else {
                    return;
                };
                let new_id = KeyId::of(&new);
                self.keys.insert(
                    new_id,
                    KeyRecord {
                        party: b.author.party.clone(),
                        public_key: new,
                        added_seq: seq,
                        added_by: id.clone(),
                        ended: None,
                    },
                );
                if let Some(party) = self.parties.get_mut(&b.author.party) {
                    party.keys.push(new_id.to_hex());
                }
                if p.retire_old {
                    if let Some(rec) = self.keys.get_mut(&author) {
                        rec.ended = Some(KeyEnd { seq, entry: id, reason: KeyEndReason::Retired });
                    }
                }
            }
            KIND_REVOKE => {
                let Ok(p) = payload::<RevokePayload>(e) else {
                    return;
                };
                if let Some(rec) = KeyId::from_hex(&p.key).and_then(|k| self.keys.get_mut(&k)) {
                    rec.ended = Some(KeyEnd { seq, entry: id, reason: KeyEndReason::Revoked { reason: p.reason } });
                }
            }
            _ => {}
        }
    }

    /// The key whose validity an entry starts (registration, rotation), if any.
    pub fn introduces_key(e: &Entry) -> Option<KeyId> {
        match e.kind() {
            KIND_REGISTER => Some(e.author_key()),
            KIND_ROTATE => e.sigs().get(1).map(|s| s.key),
            _ => None,
        }
    }

    /// The key whose validity an entry ends (revocation, retiring rotation), if any.
    pub fn ends_key(e: &Entry) -> Option<KeyId> {
        match e.kind() {
            KIND_ROTATE => {
                let retire = e.body().payload.get("retire_old").and_then(Value::as_bool).unwrap_or(false);
                retire.then(|| e.author_key())
            }
            KIND_REVOKE => e.body().payload.get("key").and_then(Value::as_str).and_then(KeyId::from_hex),
            _ => None,
        }
    }
}

/// Used by tests and the import order: the entries an entry depends on
/// through references.
pub fn refs_of(e: &Entry) -> Vec<EntryId> {
    e.body().ref_ids().collect()
}

mod public_key_hex {
    use ed25519_dalek::VerifyingKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &VerifyingKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::HEXLOWER.encode(k.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VerifyingKey, D::Error> {
        let hex = String::deserialize(d)?;
        super::parse_public_key(&hex).map_err(|e| serde::de::Error::custom(e.0))
    }
}
