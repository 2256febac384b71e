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
//! * Every key that enters the registry (registration, rotation) must be
//!   acceptable: a curve point, canonically encoded, not of small order
//!   ([`crate::ledger::keys::strict_public_key`], `docs/FORMAT.md` 2).
//! * `party.rotate_key`: signed by a current key of the party *and* by the
//!   new key; the new key joins the party; with `retire_old` the signing key
//!   stops being valid from this entry on.
//! * `party.revoke_key`: signed by a current key of the party; the named key
//!   (of the same party) stops being valid from this entry on.
//! * Every other entry must be signed by exactly one key, which is a current
//!   key of the author party at that point of the journal.
//!
//! Those rules are for *new* entries ([`KeyUse::New`]). An entry that already
//! exists in some copy (import, verify, reopening) is checked with
//! [`KeyUse::Existing`]: its signing key must have been introduced for the
//! author party, but may since have been ended. Whether such an entry counts
//! is decided by the liveness rule over the whole entry set
//! (`crate::ledger::liveness`), so that validity never depends on arrival order.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::keys::KeyId;

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

/// Whether an entry is new (written by this copy now) or already exists
/// (imported, or re-read from a journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// A new entry: every key it uses must be current (not ended).
    New,
    /// An existing entry: its keys must have been introduced for the party;
    /// an ended key makes the entry void (`crate::ledger::liveness`), not invalid.
    Existing,
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

/// Parses a public key from its hex form under the strict key rule
/// ([`crate::ledger::keys::strict_public_key`]: a curve point, canonically encoded,
/// not of small order).
fn parse_public_key(hex: &str) -> Result<VerifyingKey, RuleError> {
    let bytes: [u8; 32] = data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| RuleError(format!("public key {hex:?} is not 64 lower-case hex characters")))?;
    crate::ledger::keys::strict_public_key(&bytes)
        .map_err(|why| RuleError(format!("public key {hex} is refused: {why}")))
}

/// The public key named by a string field of an entry's payload, reading
/// nothing else of the payload (used before the signatures are checked).
fn payload_key(e: &Entry, field: &str) -> Result<VerifyingKey, RuleError> {
    let hex = e.body().payload.get(field).and_then(Value::as_str).ok_or_else(|| {
        RuleError(format!("{} payload is malformed: field `{field}` must be a string of 64 hex characters", e.kind()))
    })?;
    parse_public_key(hex)
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

    fn valid_key_of(&self, party: &str, key: &KeyId, what: &str, mode: KeyUse) -> Result<VerifyingKey, RuleError> {
        if !self.parties.contains_key(party) {
            return Err(RuleError(format!(
                "{what}: party {party:?} is not registered in this ledger (register it with `vereffen party add`, or import its registration first)"
            )));
        }
        let rec =
            self.keys.get(key).filter(|r| r.party == party).ok_or_else(|| {
                RuleError(format!("{what}: key {} is not a key of party {party:?}", key.fingerprint()))
            })?;
        if let (Some(end), KeyUse::New) = (&rec.ended, mode) {
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

    /// Checks `e` against all key rules at this point (kinds and payloads
    /// are checked in `rules`) and returns the public key for each of its
    /// signatures, in order: [`Registry::signing_keys`] then
    /// [`Registry::check_verified`], without checking the signatures. For
    /// entries from outside, call the two steps around the signature check
    /// (as `rules` does), so no payload rule runs on unsigned bytes.
    /// Same as [`Registry::check_as`] with [`KeyUse::New`].
    pub fn check(&self, e: &Entry) -> Result<Vec<VerifyingKey>, RuleError> {
        self.check_as(e, KeyUse::New)
    }

    /// [`Registry::signing_keys`] then [`Registry::check_verified`] for a new
    /// or an existing entry (see [`KeyUse`]), without checking signatures.
    pub fn check_as(&self, e: &Entry, mode: KeyUse) -> Result<Vec<VerifyingKey>, RuleError> {
        let keys = self.signing_keys(e, mode)?;
        self.check_verified(e, mode)?;
        Ok(keys)
    }

    /// The first step for any entry, before its signatures are checked: the
    /// public key each signature must verify under, in order. Checks only
    /// what is needed to name those keys: the number of signatures, that the
    /// signing keys are keys of the author party (current ones, for a
    /// [`KeyUse::New`] entry), and for a
    /// registration (the registered key, which must be the author key) or a
    /// rotation (the new key, which must make the second signature) the one
    /// payload field holding the key, under the strict key rule. Nothing
    /// else of the payload is read.
    pub fn signing_keys(&self, e: &Entry, mode: KeyUse) -> Result<Vec<VerifyingKey>, RuleError> {
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
                let key = payload_key(e, "public_key")?;
                if KeyId::of(&key) != author {
                    return Err(RuleError(
                        "a registration must be signed by the key it registers (proof of possession)".into(),
                    ));
                }
                Ok(vec![key])
            }
            KIND_ROTATE => {
                expect_sigs(2)?;
                let old = self.valid_key_of(party, &author, "key rotation", mode)?;
                let new = payload_key(e, "new_public_key")?;
                if e.sigs()[1].key != KeyId::of(&new) {
                    return Err(RuleError("the second signature of a rotation must be by the new key".into()));
                }
                Ok(vec![old, new])
            }
            KIND_REVOKE => {
                expect_sigs(1)?;
                Ok(vec![self.valid_key_of(party, &author, "key revocation", mode)?])
            }
            _ => {
                expect_sigs(1)?;
                Ok(vec![self.valid_key_of(party, &author, "signer", mode)?])
            }
        }
    }

    /// The second step, for an entry that passed [`Registry::signing_keys`]
    /// and whose signatures verified: the rest of the `party.*` rules (the
    /// whole payload, a new party id, keys not yet used, the revoked key and
    /// reason). Other kinds have no further registry rules.
    pub fn check_verified(&self, e: &Entry, mode: KeyUse) -> Result<(), RuleError> {
        let b = e.body();
        let author = e.author_key();
        let party = b.author.party.as_str();
        match b.kind.as_str() {
            KIND_REGISTER => {
                let p: RegisterPayload = payload(e)?;
                if self.parties.contains_key(party) {
                    return Err(RuleError(format!("party {party:?} is already registered; choose another id")));
                }
                if p.name.trim().is_empty() || p.name.len() > 200 {
                    return Err(RuleError("party name must be 1 to 200 characters".into()));
                }
                crate::ledger::text::check_line("the party name", &p.name).map_err(RuleError)?;
                // Checked by `signing_keys` already; repeated so this step
                // stands on its own.
                if KeyId::of(&parse_public_key(&p.public_key)?) != author {
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
                Ok(())
            }
            KIND_ROTATE => {
                let p: RotatePayload = payload(e)?;
                let new_id = KeyId::of(&parse_public_key(&p.new_public_key)?);
                if let Some(rec) = self.keys.get(&new_id) {
                    return Err(RuleError(format!(
                        "new key {} is already registered to party {:?}",
                        new_id.fingerprint(),
                        rec.party
                    )));
                }
                Ok(())
            }
            KIND_REVOKE => {
                let p: RevokePayload = payload(e)?;
                let target = KeyId::from_hex(&p.key)
                    .ok_or_else(|| RuleError(format!("revoked key {:?} is not a hex key id", p.key)))?;
                self.valid_key_of(party, &target, "key revocation target", mode)?;
                if p.reason.trim().is_empty() {
                    return Err(RuleError("a revocation needs a reason".into()));
                }
                crate::ledger::text::check_free_text("the revocation reason", &p.reason).map_err(RuleError)?;
                Ok(())
            }
            _ => Ok(()),
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
                    // The first ending entry in journal order is recorded;
                    // every ending entry counts for liveness (`liveness`).
                    if let Some(rec) = self.keys.get_mut(&author).filter(|r| r.ended.is_none()) {
                        rec.ended = Some(KeyEnd { seq, entry: id, reason: KeyEndReason::Retired });
                    }
                }
            }
            KIND_REVOKE => {
                let Ok(p) = payload::<RevokePayload>(e) else {
                    return;
                };
                if let Some(rec) =
                    KeyId::from_hex(&p.key).and_then(|k| self.keys.get_mut(&k)).filter(|r| r.ended.is_none())
                {
                    rec.ended = Some(KeyEnd { seq, entry: id, reason: KeyEndReason::Revoked { reason: p.reason } });
                }
            }
            _ => {}
        }
    }

    /// True if some key of the ledger was ever ended (revoked or retired):
    /// only then can entries be void (`crate::ledger::liveness`).
    pub fn any_key_ended(&self) -> bool {
        self.keys.values().any(|r| r.ended.is_some())
    }

    /// The current (not ended) keys of `party`, in the order they were added.
    pub fn current_keys(&self, party: &str) -> Vec<KeyId> {
        let Some(p) = self.parties.get(party) else { return Vec::new() };
        p.keys
            .iter()
            .filter_map(|k| KeyId::from_hex(k))
            .filter(|k| self.keys.get(k).is_some_and(|r| r.ended.is_none()))
            .collect()
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
