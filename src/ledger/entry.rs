//! Entries: self-contained signed facts, their canonical encoding, ids and
//! signatures.
//!
//! An entry is a canonical-JSON **body** plus one or more **signatures**:
//!
//! ```text
//! body  = {"author":{"key":KEYID,"party":PARTY},"kind":KIND,"ledger":LEDGER,
//!          "payload":{...},"refs":[ID,...],"time":RFC3339,"v":1}   (canonical JSON)
//! id    = blake3(body)
//! sig_i = ed25519(key_i, "vereffen-entry-v1\0" || LEDGER || "\0" || KIND || "\0" || body)
//! wire  = u32le(len body) || body || u8(n) || n * (key id (32) || signature (64))
//! ```
//!
//! The signing context repeats the ledger and the kind in front of the body so
//! a signature cannot be replayed into another ledger or as another kind of
//! entry. `docs/FORMAT.md` is the normative description.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ledger::canonical;
use crate::ledger::keys::KeyId;

/// The version of the body format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Domain-separation prefix of every entry signature.
pub const SIGNING_CONTEXT: &[u8] = b"vereffen-entry-v1\0";
/// Largest canonical body accepted (explicit limit: a contract is a few KiB).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Most references one entry may carry.
pub const MAX_REFS: usize = 1024;
/// Most references an ending entry (`party.revoke_key`, `party.rotate_key`)
/// may carry: it references the entries signed by the key it ends. Each
/// reference takes 67 bytes of the body (64 hex characters, two quotes, a
/// comma), so 15,000 take 1,005,000 bytes and leave room for the rest of a
/// 1 MiB body.
pub const MAX_ENDING_REFS: usize = 15_000;
/// Most signatures one entry may carry.
pub const MAX_SIGS: usize = 8;

/// The content address of an entry: `blake3(canonical body)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub [u8; 32]);

impl EntryId {
    /// Lower-case hex, as written in references and output.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }
    /// Parses the 64-character lower-case hex form.
    pub fn from_hex(s: &str) -> Option<EntryId> {
        if s.len() != 64 {
            return None;
        }
        let bytes = data_encoding::HEXLOWER.decode(s.as_bytes()).ok()?;
        Some(EntryId(bytes.try_into().ok()?))
    }
    /// The first 12 hex characters, for tables.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }
}

impl fmt::Debug for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryId({})", self.short())
    }
}
impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A hasher for entry ids: ids are blake3 outputs, uniformly distributed,
/// so eight of their bytes are already a good hash (and nobody can choose an
/// id without a blake3 preimage). Used for the large id sets of verify.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
    }
    fn write_usize(&mut self, _length_prefix: usize) {}
}

/// A set of entry ids hashed with [`IdHasher`].
pub type IdSet = std::collections::HashSet<EntryId, std::hash::BuildHasherDefault<IdHasher>>;

/// Who wrote an entry: a party and the key it signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    /// The party id.
    pub party: String,
    /// The key id (hex) of the signing key.
    pub key: String,
}

/// The signed content of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Format version, always [`FORMAT_VERSION`].
    pub v: u32,
    /// The ledger this entry belongs to (shared by every party's copy).
    pub ledger: String,
    /// What the entry means, e.g. `party.register`.
    pub kind: String,
    /// Who wrote it.
    pub author: Author,
    /// The author's claimed time (RFC 3339, UTC). Informational only: no
    /// rule and no computation depends on it.
    pub time: String,
    /// Ids (hex) of the entries this one builds on, without duplicates.
    pub refs: Vec<String>,
    /// Kind-specific content.
    pub payload: Value,
}

/// A signature over an entry body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySig {
    /// The signing key.
    pub key: KeyId,
    /// The ed25519 signature over [`signing_input`].
    pub sig: Signature,
}

/// What is wrong with the bytes or the shape of an entry (not its validity
/// against a ledger: see `registry`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The wire bytes are cut short or have trailing bytes.
    #[error("entry bytes are malformed: {0}")]
    Wire(String),
    /// The body is not canonical JSON.
    #[error("entry body is not canonical JSON: {0}")]
    Canonical(#[from] canonical::CanonicalError),
    /// The body is canonical JSON but not a valid body.
    #[error("entry body is malformed: {0}")]
    Shape(String),
}

/// An entry: its canonical body bytes, the parsed body, its id and signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    bytes: Vec<u8>,
    body: Body,
    id: EntryId,
    author: KeyId,
    sigs: Vec<EntrySig>,
}

/// Length of the one accepted form of `time`, `YYYY-MM-DDTHH:MM:SSZ`.
pub const TIME_LEN: usize = 20;

/// True if `s` is a claimed time in the one accepted form
/// `YYYY-MM-DDTHH:MM:SSZ` (`docs/FORMAT.md` 3.1): RFC 3339 in UTC with whole
/// seconds, upper-case `T` and `Z`, a date that exists in the proleptic
/// Gregorian calendar, hour 00-23, minute 00-59, second 00-59. No space for
/// `T`, no offset, no fraction, no leap second: one time has one spelling.
pub fn is_valid_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != TIME_LEN {
        return false;
    }
    let shape = b.iter().enumerate().all(|(i, &c)| match i {
        4 | 7 => c == b'-',
        10 => c == b'T',
        13 | 16 => c == b':',
        19 => c == b'Z',
        _ => c.is_ascii_digit(),
    });
    if !shape {
        return false;
    }
    // Only ASCII digits are left in these ranges, so the numbers parse.
    let num = |from: usize, to: usize| b[from..to].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, month, day) = (num(0, 4), num(5, 7), num(8, 10));
    let (hour, minute, second) = (num(11, 13), num(14, 16), num(17, 19));
    let date_exists = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .and_then(|m| time::Date::from_calendar_date(year as i32, m, day as u8).ok())
        .is_some();
    date_exists && hour <= 23 && minute <= 59 && second <= 59
}

/// Checks the name rules shared by ledger ids and party ids: 1 to 64
/// characters from `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(&c))
}

/// Checks an entry kind: dotted lower-case words, e.g. `contract.accept`.
pub fn is_valid_kind(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split('.')
            .all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'))
}

/// True for exactly 64 lower-case hex characters (an id or key id).
fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// The bytes every signature of an entry covers.
pub fn signing_input(ledger: &str, kind: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + ledger.len() + kind.len() + 2 + body.len());
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(ledger.as_bytes());
    m.push(0);
    m.extend_from_slice(kind.as_bytes());
    m.push(0);
    m.extend_from_slice(body);
    m
}

impl Body {
    /// Checks the shape rules that need no ledger: version, names, hex ids,
    /// limits, duplicate references.
    pub fn check_shape(&self) -> Result<(), EntryError> {
        let bad = |m: String| Err(EntryError::Shape(m));
        if self.v != FORMAT_VERSION {
            return bad(format!("format version {} is not supported (this build reads {FORMAT_VERSION})", self.v));
        }
        if !is_valid_name(&self.ledger) {
            return bad(format!("ledger id {:?} is not a valid name", self.ledger));
        }
        if !is_valid_kind(&self.kind) {
            return bad(format!("kind {:?} is not a valid kind", self.kind));
        }
        if !is_valid_name(&self.author.party) {
            return bad(format!("author party {:?} is not a valid party id", self.author.party));
        }
        if !is_hex64(&self.author.key) {
            return bad(format!("author key {:?} is not a 64-character hex key id", self.author.key));
        }
        if !is_valid_time(&self.time) {
            return bad(format!(
                "time {:?} is not of the form YYYY-MM-DDTHH:MM:SSZ (UTC, whole seconds, upper-case T and Z)",
                self.time
            ));
        }
        let max_refs = match self.kind.as_str() {
            "party.revoke_key" | "party.rotate_key" => MAX_ENDING_REFS,
            _ => MAX_REFS,
        };
        if self.refs.len() > max_refs {
            return bad(format!("{} references exceed the limit of {max_refs} for a {}", self.refs.len(), self.kind));
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.refs {
            if EntryId::from_hex(r).is_none() {
                return bad(format!("reference {r:?} is not a 64-character hex entry id"));
            }
            if !seen.insert(r) {
                return bad(format!("reference {r} appears twice"));
            }
        }
        if !self.payload.is_object() {
            return bad("payload must be a JSON object".into());
        }
        Ok(())
    }

    /// The canonical bytes of this body. Written field by field in key
    /// order (author, kind, ledger, payload, refs, time, v), which is what
    /// `canonical::encode` of the serialized body gives; a test checks that.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(b"{\"author\":{\"key\":");
        canonical::write_string(&self.author.key, &mut bytes);
        bytes.extend_from_slice(b",\"party\":");
        canonical::write_string(&self.author.party, &mut bytes);
        bytes.extend_from_slice(b"},\"kind\":");
        canonical::write_string(&self.kind, &mut bytes);
        bytes.extend_from_slice(b",\"ledger\":");
        canonical::write_string(&self.ledger, &mut bytes);
        bytes.extend_from_slice(b",\"payload\":");
        canonical::write_value(&self.payload, &mut bytes)?;
        bytes.extend_from_slice(b",\"refs\":[");
        for (i, r) in self.refs.iter().enumerate() {
            if i > 0 {
                bytes.push(b',');
            }
            canonical::write_string(r, &mut bytes);
        }
        bytes.extend_from_slice(b"],\"time\":");
        canonical::write_string(&self.time, &mut bytes);
        bytes.extend_from_slice(b",\"v\":");
        bytes.extend_from_slice(self.v.to_string().as_bytes());
        bytes.push(b'}');
        if bytes.len() > MAX_BODY_BYTES {
            return Err(EntryError::Shape(format!(
                "body is {} bytes, above the limit of {MAX_BODY_BYTES}",
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// The author's key id.
    pub fn author_key(&self) -> KeyId {
        // check_shape guarantees the hex is valid for every constructed Entry.
        KeyId::from_hex(&self.author.key).unwrap_or(KeyId([0; 32]))
    }

    /// The references as ids (invalid hex is impossible after `check_shape`).
    pub fn ref_ids(&self) -> impl Iterator<Item = EntryId> + '_ {
        self.refs.iter().filter_map(|r| EntryId::from_hex(r))
    }
}

impl Entry {
    /// Builds and signs an entry. `signers[0]` must be the author's key; more
    /// signers co-sign (key rotation needs the new key's signature too).
    pub fn sign(body: Body, signers: &[&SigningKey]) -> Result<Entry, EntryError> {
        body.check_shape()?;
        if signers.is_empty() || signers.len() > MAX_SIGS {
            return Err(EntryError::Shape(format!("an entry needs 1 to {MAX_SIGS} signers")));
        }
        let author = KeyId::of(&signers[0].verifying_key());
        if author != body.author_key() {
            return Err(EntryError::Shape("the first signer is not the author key".into()));
        }
        let bytes = body.encode()?;
        let input = signing_input(&body.ledger, &body.kind, &bytes);
        let sigs =
            signers.iter().map(|k| EntrySig { key: KeyId::of(&k.verifying_key()), sig: k.sign(&input) }).collect();
        let id = EntryId(*blake3::hash(&bytes).as_bytes());
        Ok(Entry { bytes, body, id, author, sigs })
    }

    /// Rebuilds an entry from canonical body bytes and signatures, checking
    /// canonical form and shape (not signatures: see [`Entry::verify_signatures`]).
    pub fn from_parts(bytes: Vec<u8>, sigs: Vec<EntrySig>) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(EntryError::Shape(format!(
                "body is {} bytes, above the limit of {MAX_BODY_BYTES}",
                bytes.len()
            )));
        }
        if sigs.is_empty() || sigs.len() > MAX_SIGS {
            return Err(EntryError::Shape(format!(
                "an entry carries 1 to {MAX_SIGS} signatures, this one {}",
                sigs.len()
            )));
        }
        let body: Body = serde_json::from_slice(&bytes).map_err(|e| {
            if serde_json::from_slice::<Value>(&bytes).is_err() {
                EntryError::Canonical(canonical::CanonicalError::Syntax(e.to_string()))
            } else {
                EntryError::Shape(e.to_string())
            }
        })?;
        if body.encode()? != bytes {
            return Err(EntryError::Canonical(canonical::CanonicalError::NotCanonical));
        }
        body.check_shape()?;
        let author = sigs[0].key;
        if author.to_hex() != body.author.key {
            return Err(EntryError::Shape("the first signature is not by the author key".into()));
        }
        let id = EntryId(*blake3::hash(&bytes).as_bytes());
        Ok(Entry { bytes, body, id, author, sigs })
    }

    /// Decodes the wire form (see the module docs).
    pub fn decode(wire: &[u8]) -> Result<Entry, EntryError> {
        let (bytes, sigs) = split_wire(wire)?;
        Entry::from_parts(bytes.to_vec(), sigs)
    }

    /// Encodes the wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.bytes.len() + 1 + 96 * self.sigs.len());
        out.extend_from_slice(&(self.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.bytes);
        out.push(self.sigs.len() as u8);
        for s in &self.sigs {
            out.extend_from_slice(&s.key.0);
            out.extend_from_slice(&s.sig.to_bytes());
        }
        out
    }

    /// The content address.
    pub fn id(&self) -> EntryId {
        self.id
    }
    /// The author's key id (decoded once).
    pub fn author_key(&self) -> KeyId {
        self.author
    }
    /// The parsed body.
    pub fn body(&self) -> &Body {
        &self.body
    }
    /// The canonical body bytes (what the id hashes).
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The signatures, author first.
    pub fn sigs(&self) -> &[EntrySig] {
        &self.sigs
    }
    /// The kind, e.g. `party.register`.
    pub fn kind(&self) -> &str {
        &self.body.kind
    }
    /// The bytes the signatures cover.
    pub fn signing_input(&self) -> Vec<u8> {
        signing_input(&self.body.ledger, &self.body.kind, &self.bytes)
    }
    /// The payload field `contract`, if the entry concerns a contract (used
    /// by the index).
    pub fn contract(&self) -> Option<&str> {
        self.body.payload.get("contract").and_then(Value::as_str)
    }
}

/// Splits wire bytes into the body bytes and signatures.
fn split_wire(wire: &[u8]) -> Result<(&[u8], Vec<EntrySig>), EntryError> {
    let short = || EntryError::Wire(format!("{} bytes are too few for an entry", wire.len()));
    let len_bytes: [u8; 4] = wire.get(..4).ok_or_else(short)?.try_into().map_err(|_| short())?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len > MAX_BODY_BYTES {
        return Err(EntryError::Wire(format!("body length {len} is above the limit of {MAX_BODY_BYTES}")));
    }
    let body = wire.get(4..4 + len).ok_or_else(short)?;
    let n = *wire.get(4 + len).ok_or_else(short)? as usize;
    let rest = &wire[5 + len..];
    if rest.len() != n * 96 {
        return Err(EntryError::Wire(format!("{n} signatures need {} bytes, found {}", n * 96, rest.len())));
    }
    let sigs = rest
        .chunks_exact(96)
        .map(|c| {
            let mut key = [0u8; 32];
            key.copy_from_slice(&c[..32]);
            let mut sig = [0u8; 64];
            sig.copy_from_slice(&c[32..]);
            EntrySig { key: KeyId(key), sig: Signature::from_bytes(&sig) }
        })
        .collect();
    Ok((body, sigs))
}

/// The current time as the RFC 3339 string entries carry, or the value of
/// the environment variable `VEREFFEN_TIME` if set (for reproducible demos
/// and golden files). Clock reads happen here, at the edge, never in rules.
pub fn claimed_time_now() -> String {
    if let Ok(t) = std::env::var("VEREFFEN_TIME") {
        return t;
    }
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    pub(crate) fn body_for(key: &SigningKey, kind: &str, payload: Value) -> Body {
        Body {
            v: FORMAT_VERSION,
            ledger: "test-ledger".into(),
            kind: kind.into(),
            author: Author { party: "ziekenhuis".into(), key: KeyId::of(&key.verifying_key()).to_hex() },
            time: "2026-11-22T10:00:00Z".into(),
            refs: vec![],
            payload,
        }
    }

    #[test]
    fn sign_encode_decode() {
        let k = crate::ledger::keys::generate();
        let e = Entry::sign(body_for(&k, "note.text", json!({"text": "héllo", "n": 3})), &[&k]).unwrap();
        let back = Entry::decode(&e.encode()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.id(), EntryId(*blake3::hash(back.body_bytes()).as_bytes()));
    }

    #[test]
    fn direct_encoding_equals_generic_canonical_encoding() {
        let k = crate::ledger::keys::generate();
        let mut b = body_for(&k, "note", json!({"text": "a\"b\n", "contract": "x", "z": [1, {"b": null, "a": true}]}));
        b.refs = vec![EntryId([1; 32]).to_hex(), EntryId([0; 32]).to_hex()];
        assert_eq!(b.encode().unwrap(), canonical::encode_serialize(&b).unwrap());
    }

    #[test]
    fn non_canonical_bodies_are_refused() {
        let k = crate::ledger::keys::generate();
        let e = Entry::sign(body_for(&k, "note", json!({"text": "x"})), &[&k]).unwrap();
        let spaced = String::from_utf8(e.body_bytes().to_vec()).unwrap().replacen(',', ", ", 1);
        let err = Entry::from_parts(spaced.into_bytes(), e.sigs().to_vec()).unwrap_err();
        assert!(matches!(err, EntryError::Canonical(_)), "{err}");
    }

    #[test]
    fn shape_errors() {
        let k = crate::ledger::keys::generate();
        let mut b = body_for(&k, "Bad Kind", json!({}));
        assert!(Entry::sign(b.clone(), &[&k]).is_err());
        b.kind = "ok".into();
        b.refs = vec!["00".into()];
        assert!(Entry::sign(b.clone(), &[&k]).is_err());
        b.refs = vec![];
        b.payload = json!({"amount": 0.5});
        assert!(Entry::sign(b, &[&k]).is_err(), "floats never enter an entry");
        assert!(Entry::decode(&[1, 0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn wire_round_trip(text in "\\PC{0,40}", n in 0u64..1_000_000, refs in prop::collection::btree_set(any::<[u8; 32]>(), 0..4)) {
            let k = crate::ledger::keys::generate();
            let mut b = body_for(&k, "note.text", json!({"text": text, "n": n}));
            b.refs = refs.iter().map(|r| EntryId(*r).to_hex()).collect();
            let e = Entry::sign(b, &[&k]).unwrap();
            let wire = e.encode();
            prop_assert_eq!(Entry::decode(&wire).unwrap(), e);
            // Any truncation is refused.
            for cut in [0, 1, wire.len() / 2, wire.len() - 1] {
                prop_assert!(Entry::decode(&wire[..cut]).is_err());
            }
        }
    }
}
