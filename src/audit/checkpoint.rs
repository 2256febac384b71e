//! Signed checkpoints: the tree head of a ledger as a C2SP signed note.
//!
//! Modelled on C2SP `signed-note`, `tlog-checkpoint` and `tlog-cosignature`,
//! with BLAKE3 where C2SP uses SHA-256 and one deliberate deviation: a
//! checkpoint signature covers `vereffen-checkpoint-v1\n || body` rather than
//! the bare body, so a signature made for a checkpoint can never be replayed
//! as a signature over some other text that happens to look the same.
//! `docs/FORMAT-merkle.md` is the normative description.
//!
//! A signed checkpoint looks like this:
//!
//! ```text
//! vereffen.example/copd-achterhoek/hospital
//! 3
//! <base64 root hash>
//!
//! — vereffen.example/copd-achterhoek/hospital <base64(key hash || signature)>
//! — witness.example/w1 <base64(key hash || timestamp || signature)>
//! ```
//!
//! Parsing is strict (one encoding per checkpoint) and never panics on any
//! input; [`verify`] checks signatures against a list of known [`Verifier`]s.

use crate::ledger::merkle::Hash;
use data_encoding::{BASE64, HEXLOWER};

/// Decodes standard padded base64 in its one canonical form. `data_encoding`
/// also accepts concatenated padded blocks (`CQ==a0Aa`); those would give a
/// note two textual forms, so anything that does not re-encode to the same
/// text is refused.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(text.as_bytes()).ok()?;
    (BASE64.encode(&bytes) == text).then_some(bytes)
}
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// Largest signed note [`SignedNote::parse`] accepts, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// Largest number of signature lines [`SignedNote::parse`] accepts.
pub const MAX_SIGNATURES: usize = 100;

/// Domain-separation context prefixed to the body for checkpoint signatures.
pub const CHECKPOINT_CONTEXT: &str = "vereffen-checkpoint-v1\n";

/// First line of the message a witness signs (C2SP tlog-cosignature/v1).
pub const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

/// Start of every signature line: EM DASH (U+2014) and a space.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// Length of a key hash (C2SP "key ID") in bytes.
pub const KEY_HASH_LEN: usize = 4;

/// Length of an Ed25519 signature in bytes.
const SIGNATURE_LEN: usize = 64;

/// Length of a cosignature timestamp in bytes.
const TIMESTAMP_LEN: usize = 8;

/// A key hash (C2SP "key ID"): 4 bytes naming a key in signature lines.
pub type KeyHash = [u8; KEY_HASH_LEN];

/// Why a checkpoint or signed note was refused.
///
/// Messages say what is wrong and, where possible, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The note is larger than [`MAX_NOTE_BYTES`].
    #[error("signed note is {len} bytes, more than the {max} allowed; this is not a checkpoint")]
    NoteTooLarge {
        /// Size of the input in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The note is not UTF-8.
    #[error("signed note is not valid UTF-8; checkpoints are plain text, check the file was not altered by an editor or transfer")]
    NotUtf8,
    /// The note contains a carriage return.
    #[error("line {line} contains a carriage return: notes use \\n line endings only; the file was probably converted to CRLF (Windows) and must be restored byte for byte")]
    CarriageReturn {
        /// 1-based line number.
        line: usize,
    },
    /// The note contains a control character other than newline.
    #[error("line {line} contains control character U+{code:04X}; notes contain only printable text and \\n")]
    ControlCharacter {
        /// 1-based line number.
        line: usize,
        /// The code point.
        code: u32,
    },
    /// The note does not end in a newline.
    #[error("signed note does not end with a newline; it was probably truncated")]
    NotNewlineTerminated,
    /// No empty line separates body and signatures.
    #[error("signed note has no empty line between the checkpoint body and the signature lines; it is unsigned or truncated")]
    MissingSeparator,
    /// There are no signature lines.
    #[error("signed note has no signature lines; ask the ledger operator for a signed checkpoint")]
    NoSignatures,
    /// There are more than [`MAX_SIGNATURES`] signature lines.
    #[error("signed note has more than {max} signature lines")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A signature line does not have the form `— <name> <base64>`.
    #[error("line {line} is not a valid signature line ('\u{2014} <key name> <base64>'): {reason}")]
    MalformedSignatureLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A key name is empty or contains forbidden characters.
    #[error("key name {name:?} is not allowed: {reason}")]
    InvalidKeyName {
        /// The offending name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The body has fewer than three lines.
    #[error(
        "checkpoint body has {found} lines but needs at least 3 (origin, tree size, root hash), each ending in \\n"
    )]
    BodyTooShort {
        /// Number of complete lines found.
        found: usize,
    },
    /// The body does not end in a newline.
    #[error("checkpoint body must end with \\n")]
    BodyNotTerminated,
    /// The origin line is invalid.
    #[error("origin {origin:?} is not allowed: {reason}")]
    InvalidOrigin {
        /// The offending origin.
        origin: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The tree size line is not a canonical decimal u64.
    #[error("tree size {text:?} is not a decimal number without sign or leading zeros that fits in 64 bits")]
    InvalidSize {
        /// The offending line.
        text: String,
    },
    /// The root hash line is not canonical base64 of 32 bytes.
    #[error("root hash {text:?} is not standard padded base64 of exactly 32 bytes")]
    InvalidRoot {
        /// The offending line.
        text: String,
    },
    /// An extension line is empty or contains a newline or control character.
    #[error("extension line {index} is not allowed: extension lines are non-empty, without control characters")]
    InvalidExtension {
        /// 0-based index among the extension lines.
        index: usize,
    },
    /// The checkpoint is for another ledger.
    #[error("checkpoint is for origin {found:?}, this ledger is {expected:?}; you are looking at another ledger's checkpoint")]
    OriginMismatch {
        /// Origin in the checkpoint.
        found: String,
        /// Origin expected by the caller.
        expected: String,
    },
    /// A verifier key string is malformed.
    #[error(
        "verifier key is not valid: {reason}; expected '<name>+<8 hex digits>+<base64(type || 32-byte Ed25519 key)>'"
    )]
    InvalidVerifierKey {
        /// What is wrong.
        reason: String,
    },
    /// A signature line from a known key does not verify.
    #[error("signature from {name} (key hash {key_hash}) does not verify: {reason}; the checkpoint was altered after signing, or the configured key for {name} is wrong")]
    BadSignature {
        /// The key name on the line.
        name: String,
        /// The key hash on the line, hex.
        key_hash: String,
        /// What failed.
        reason: &'static str,
    },
    /// No signature line is from a known checkpoint signer.
    #[error("none of the {lines} signature lines is a valid signature from a known checkpoint signer; add the ledger's verifier key, or check the checkpoint comes from the right ledger")]
    NoTrustedSignature {
        /// Number of signature lines in the note.
        lines: usize,
    },
}

/// What a key signs: the checkpoint itself, or a witness cosignature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// The ledger operator's key: Ed25519 signed-note signatures (type 0x01).
    Signer,
    /// A witness key: C2SP tlog-cosignature/v1 (type 0x04).
    Cosigner,
}

impl KeyKind {
    /// The signature type byte that goes into the key hash.
    pub fn type_byte(self) -> u8 {
        match self {
            KeyKind::Signer => 0x01,
            KeyKind::Cosigner => 0x04,
        }
    }

    /// Kind for a type byte, if it is one of ours.
    pub fn from_type_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(KeyKind::Signer),
            0x04 => Some(KeyKind::Cosigner),
            _ => None,
        }
    }

    /// Length of the signature data after the key hash.
    fn data_len(self) -> usize {
        match self {
            KeyKind::Signer => SIGNATURE_LEN,
            KeyKind::Cosigner => TIMESTAMP_LEN + SIGNATURE_LEN,
        }
    }
}

/// Checks a key name: non-empty printable ASCII without space or `+`.
pub fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    check_identifier(name).map_err(|reason| CheckpointError::InvalidKeyName { name: name.to_string(), reason })
}

/// Shared rule for key names and origins.
fn check_identifier(text: &str) -> Result<(), &'static str> {
    if text.is_empty() {
        return Err("it is empty");
    }
    if text.len() > 1024 {
        return Err("it is longer than 1024 bytes");
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("only printable ASCII without spaces is allowed");
    }
    if text.contains('+') {
        return Err("'+' is not allowed (it separates fields in verifier keys)");
    }
    Ok(())
}

/// Key hash: the first 4 bytes of `BLAKE3(name || "\n" || type || public key)`.
pub fn key_hash(name: &str, kind: KeyKind, key: &VerifyingKey) -> KeyHash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update(&[kind.type_byte()]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut out = [0u8; KEY_HASH_LEN];
    out.copy_from_slice(&digest.as_bytes()[..KEY_HASH_LEN]);
    out
}

/// A tree head: which ledger, how many entries, and the Merkle root.
///
/// Fields are private so that every `Checkpoint` is valid and has exactly one
/// text encoding ([`Checkpoint::body`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines. The origin must be non-empty
    /// printable ASCII without spaces or `+`, e.g.
    /// `vereffen.example/copd-achterhoek/hospital`.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        check_origin_text(origin)?;
        Ok(Self { origin: origin.to_string(), size, root, extensions: Vec::new() })
    }

    /// Adds extension lines (each non-empty, no control characters).
    pub fn with_extensions(mut self, extensions: Vec<String>) -> Result<Self, CheckpointError> {
        for (index, line) in extensions.iter().enumerate() {
            if line.is_empty() || line.chars().any(char::is_control) {
                return Err(CheckpointError::InvalidExtension { index });
            }
        }
        self.extensions = extensions;
        Ok(self)
    }

    /// The origin line: which ledger this is.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Number of entries in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Merkle root of the first `size` entries.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// Extension lines after the root, in order.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note body: origin, size, base64 root, extensions, each + `\n`.
    pub fn body(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(&self.root));
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses a note body strictly: the inverse of [`Checkpoint::body`].
    pub fn parse_body(body: &str) -> Result<Self, CheckpointError> {
        let Some(content) = body.strip_suffix('\n') else {
            return Err(CheckpointError::BodyNotTerminated);
        };
        let lines: Vec<&str> = content.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::BodyTooShort { found: lines.len() });
        };
        let checkpoint = Self::new(origin, parse_size(size)?, parse_root(root)?)?;
        let checkpoint = checkpoint.with_extensions(extensions.iter().map(|s| s.to_string()).collect())?;
        debug_assert_eq!(checkpoint.body(), body);
        Ok(checkpoint)
    }

    /// Fails unless this checkpoint is for the ledger `expected`.
    pub fn check_origin(&self, expected: &str) -> Result<(), CheckpointError> {
        if self.origin != expected {
            return Err(CheckpointError::OriginMismatch { found: self.origin.clone(), expected: expected.to_string() });
        }
        Ok(())
    }

    /// The exact bytes a checkpoint signer signs: context, then body.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut out = CHECKPOINT_CONTEXT.as_bytes().to_vec();
        out.extend_from_slice(self.body().as_bytes());
        out
    }

    /// The exact bytes a witness signs for `timestamp` (C2SP
    /// tlog-cosignature/v1): `cosignature/v1\ntime <timestamp>\n` then body.
    pub fn cosigned_message(&self, timestamp: u64) -> Vec<u8> {
        format!("{COSIGNATURE_HEADER}time {timestamp}\n{}", self.body()).into_bytes()
    }
}

fn check_origin_text(origin: &str) -> Result<(), CheckpointError> {
    check_identifier(origin).map_err(|reason| CheckpointError::InvalidOrigin { origin: origin.to_string(), reason })
}

/// Canonical decimal u64: digits only, no leading zero unless exactly "0".
fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let invalid = || CheckpointError::InvalidSize { text: text.to_string() };
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return Err(invalid());
    }
    text.parse::<u64>().map_err(|_| invalid())
}

/// Standard padded base64 of exactly 32 bytes, canonical trailing bits.
fn parse_root(text: &str) -> Result<Hash, CheckpointError> {
    let invalid = || CheckpointError::InvalidRoot { text: text.to_string() };
    let bytes = decode_base64(text).ok_or_else(invalid)?;
    Hash::try_from(bytes.as_slice()).map_err(|_| invalid())
}

/// One signature line: `— <name> <base64(key_hash || data)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name (non-empty printable ASCII without space or `+`).
    pub name: String,
    /// First 4 bytes of the key hash, see [`key_hash`].
    pub key_hash: KeyHash,
    /// Signature data after the key hash: 64 bytes for a signer, 8-byte
    /// big-endian timestamp then 64 bytes for a cosigner.
    pub data: Vec<u8>,
}

impl NoteSignature {
    /// The line, including its trailing `\n`.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_hash.to_vec();
        raw.extend_from_slice(&self.data);
        format!("{SIGNATURE_LINE_PREFIX}{} {}\n", self.name, BASE64.encode(&raw))
    }

    /// The cosignature timestamp, if the data has a cosignature's length.
    pub fn cosignature_timestamp(&self) -> Option<u64> {
        if self.data.len() != KeyKind::Cosigner.data_len() {
            return None;
        }
        let bytes = self.data.first_chunk::<TIMESTAMP_LEN>()?;
        Some(u64::from_be_bytes(*bytes))
    }

    /// Parses one line without its `\n`; `line_no` is for error messages.
    fn parse_line(line: &str, line_no: usize) -> Result<Self, CheckpointError> {
        let malformed =
            |reason: &str| CheckpointError::MalformedSignatureLine { line: line_no, reason: reason.to_string() };
        let Some(rest) = line.strip_prefix(SIGNATURE_LINE_PREFIX) else {
            return Err(malformed("it does not start with an em dash and a space"));
        };
        let Some((name, encoded)) = rest.split_once(' ') else {
            return Err(malformed("no space between key name and signature"));
        };
        check_key_name(name)?;
        let raw = decode_base64(encoded).ok_or_else(|| malformed("signature is not standard padded base64"))?;
        let Some((key_hash, data)) = raw.split_first_chunk::<KEY_HASH_LEN>() else {
            return Err(malformed("signature is shorter than the 4-byte key hash"));
        };
        if data.is_empty() {
            return Err(malformed("signature has a key hash but no signature bytes"));
        }
        Ok(Self { name: name.to_string(), key_hash: *key_hash, data: data.to_vec() })
    }
}

/// A checkpoint with its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The checkpoint in the body.
    pub checkpoint: Checkpoint,
    /// Signature lines in the order they appear.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// A note for `checkpoint` signed by the ledger key `key` named `name`.
    pub fn sign(checkpoint: Checkpoint, name: &str, key: &SigningKey) -> Result<Self, CheckpointError> {
        let signature = sign_checkpoint(&checkpoint, name, key)?;
        Ok(Self { checkpoint, signatures: vec![signature] })
    }

    /// Parses a note from bytes: checks size and UTF-8, then [`SignedNote::parse`].
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        check_size(bytes.len())?;
        let text = std::str::from_utf8(bytes).map_err(|_| CheckpointError::NotUtf8)?;
        Self::parse(text)
    }

    /// Parses a signed note strictly: body, one empty line, 1 to
    /// [`MAX_SIGNATURES`] signature lines, every line ending in `\n`, no
    /// control characters, at most [`MAX_NOTE_BYTES`]. Unknown signature
    /// lines are kept (they are only checked in [`verify`]).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        check_size(text.len())?;
        check_characters(text)?;
        if !text.ends_with('\n') {
            return Err(CheckpointError::NotNewlineTerminated);
        }
        let Some(split) = text.find("\n\n") else {
            return Err(CheckpointError::MissingSeparator);
        };
        let checkpoint = Checkpoint::parse_body(&text[..split + 1])?;
        let body_lines = text[..split + 1].matches('\n').count();
        let signatures = parse_signature_lines(&text[split + 2..], body_lines + 2)?;
        let note = Self { checkpoint, signatures };
        debug_assert_eq!(note.to_text(), text);
        Ok(note)
    }

    /// The note text: body, empty line, signature lines.
    ///
    /// The fields are public, so the caller must keep at least one signature
    /// line (and valid key names) for the text to parse again.
    pub fn to_text(&self) -> String {
        let mut out = self.checkpoint.body();
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        out
    }
}

fn check_size(len: usize) -> Result<(), CheckpointError> {
    if len > MAX_NOTE_BYTES {
        return Err(CheckpointError::NoteTooLarge { len, max: MAX_NOTE_BYTES });
    }
    Ok(())
}

/// Rejects control characters other than `\n`, naming the line.
fn check_characters(text: &str) -> Result<(), CheckpointError> {
    for (index, line) in text.split('\n').enumerate() {
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            let line = index + 1;
            return Err(if c == '\r' {
                CheckpointError::CarriageReturn { line }
            } else {
                CheckpointError::ControlCharacter { line, code: c as u32 }
            });
        }
    }
    Ok(())
}

/// Parses the signature block (each line ends in `\n`); `first_line` is the
/// 1-based line number of its first line in the whole note.
fn parse_signature_lines(block: &str, first_line: usize) -> Result<Vec<NoteSignature>, CheckpointError> {
    let Some(content) = block.strip_suffix('\n') else {
        return Err(CheckpointError::NoSignatures);
    };
    let mut signatures = Vec::new();
    for (offset, line) in content.split('\n').enumerate() {
        if signatures.len() == MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures { max: MAX_SIGNATURES });
        }
        signatures.push(NoteSignature::parse_line(line, first_line + offset)?);
    }
    debug_assert!(!signatures.is_empty());
    Ok(signatures)
}

/// Signs `checkpoint` with the ledger key `key` named `name`: Ed25519 over
/// [`Checkpoint::signed_message`].
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    name: &str,
    key: &SigningKey,
) -> Result<NoteSignature, CheckpointError> {
    check_key_name(name)?;
    let signature = key.sign(&checkpoint.signed_message());
    Ok(NoteSignature {
        name: name.to_string(),
        key_hash: key_hash(name, KeyKind::Signer, &key.verifying_key()),
        data: signature.to_bytes().to_vec(),
    })
}

/// Cosigns `checkpoint` as witness `name` at `timestamp` (seconds since the
/// Unix epoch, chosen by the caller): C2SP tlog-cosignature/v1.
pub fn cosign(
    checkpoint: &Checkpoint,
    name: &str,
    key: &SigningKey,
    timestamp: u64,
) -> Result<NoteSignature, CheckpointError> {
    check_key_name(name)?;
    let signature = key.sign(&checkpoint.cosigned_message(timestamp));
    let mut data = timestamp.to_be_bytes().to_vec();
    data.extend_from_slice(&signature.to_bytes());
    Ok(NoteSignature {
        name: name.to_string(),
        key_hash: key_hash(name, KeyKind::Cosigner, &key.verifying_key()),
        data,
    })
}

/// A public key the caller trusts, with its name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key: VerifyingKey,
    kind: KeyKind,
    key_hash: KeyHash,
}

impl Verifier {
    /// A verifier for `key` named `name` in role `kind`.
    pub fn new(name: &str, key: VerifyingKey, kind: KeyKind) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        Ok(Self { name: name.to_string(), key_hash: key_hash(name, kind, &key), key, kind })
    }

    /// Parses a verifier key string `<name>+<hex key hash>+<base64(type ||
    /// public key)>` (the C2SP signed-note verifier key format), checking
    /// that the key hash matches.
    pub fn from_vkey(text: &str) -> Result<Self, CheckpointError> {
        let invalid = |reason: &str| CheckpointError::InvalidVerifierKey { reason: reason.to_string() };
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(hash_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid("it does not have three '+'-separated fields"));
        };
        let raw = decode_base64(key_b64).ok_or_else(|| invalid("the key is not standard padded base64"))?;
        let Some((&type_byte, key_bytes)) = raw.split_first() else {
            return Err(invalid("the key is empty"));
        };
        let kind = KeyKind::from_type_byte(type_byte)
            .ok_or_else(|| invalid("the key type is neither 0x01 (signer) nor 0x04 (cosigner)"))?;
        let key_bytes: &[u8; 32] = key_bytes.try_into().map_err(|_| invalid("the public key is not 32 bytes"))?;
        let key = crate::ledger::keys::strict_public_key(key_bytes).map_err(|why| match why {
            crate::ledger::keys::PublicKeyError::NotAPoint => invalid("the public key is not a valid Ed25519 point"),
            crate::ledger::keys::PublicKeyError::NonCanonical => invalid("the public key is not canonically encoded"),
            crate::ledger::keys::PublicKeyError::SmallOrder => {
                invalid("the public key is a point of small order (a weak key)")
            }
        })?;
        let verifier = Self::new(name, key, kind)?;
        if HEXLOWER.encode(&verifier.key_hash) != hash_hex {
            return Err(invalid("the key hash does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The verifier key string read by [`Verifier::from_vkey`].
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![self.kind.type_byte()];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, HEXLOWER.encode(&self.key_hash), BASE64.encode(&raw))
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Role of the key.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Key hash that signature lines from this key carry.
    pub fn key_hash(&self) -> KeyHash {
        self.key_hash
    }

    /// The Ed25519 public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether a signature line claims to be from this key.
    fn claims(&self, signature: &NoteSignature) -> bool {
        self.name == signature.name && self.key_hash == signature.key_hash
    }

    /// Checks one line that claims this key; returns the cosignature
    /// timestamp for cosigners.
    fn check(&self, checkpoint: &Checkpoint, signature: &NoteSignature) -> Result<Option<u64>, &'static str> {
        debug_assert!(self.claims(signature));
        if signature.data.len() != self.kind.data_len() {
            return Err(match self.kind {
                KeyKind::Signer => "a checkpoint signature must be 64 bytes",
                KeyKind::Cosigner => "a cosignature must be an 8-byte timestamp and 64 bytes",
            });
        }
        let (timestamp, message) = match self.kind {
            KeyKind::Signer => (None, checkpoint.signed_message()),
            KeyKind::Cosigner => {
                let timestamp = signature.cosignature_timestamp().ok_or("missing timestamp")?;
                (Some(timestamp), checkpoint.cosigned_message(timestamp))
            }
        };
        let bytes = signature.data.last_chunk::<SIGNATURE_LEN>().ok_or("too short")?;
        // The one strict rule of every signature vereffen accepts (entries too).
        crate::ledger::sigs::verify_strict(&self.key, &message, &Signature::from_bytes(bytes))
            .map_err(|_| "Ed25519 verification failed")?;
        Ok(timestamp)
    }
}

/// A witness cosignature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness key name.
    pub name: String,
    /// When the witness says it cosigned, seconds since the Unix epoch.
    pub timestamp: u64,
}

/// A checkpoint whose signatures were checked by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    signers: Vec<String>,
    cosignatures: Vec<Cosignature>,
}

impl VerifiedCheckpoint {
    /// The verified checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Names of the known signers whose signature verified (at least one).
    pub fn signers(&self) -> &[String] {
        &self.signers
    }

    /// Known witnesses whose cosignature verified, one entry per key.
    pub fn cosignatures(&self) -> &[Cosignature] {
        &self.cosignatures
    }

    /// Fails unless the checkpoint is for the ledger `expected`.
    pub fn check_origin(&self, expected: &str) -> Result<(), CheckpointError> {
        self.checkpoint.check_origin(expected)
    }

    /// The checkpoint, dropping the verification record.
    pub fn into_checkpoint(self) -> Checkpoint {
        self.checkpoint
    }
}

/// Verifies the signatures of `note` against the trusted `verifiers`.
///
/// * a line whose name and key hash match no verifier is ignored (other
///   parties may add their signatures);
/// * a line that matches a verifier must verify, or the whole note is
///   rejected with [`CheckpointError::BadSignature`];
/// * at least one line must be a valid signature from a
///   [`KeyKind::Signer`]; cosignatures alone are not enough.
///
/// Witness policy (how many cosignatures, how recent) is left to the caller
/// via [`VerifiedCheckpoint::cosignatures`], as is [`VerifiedCheckpoint::check_origin`].
pub fn verify(note: &SignedNote, verifiers: &[Verifier]) -> Result<VerifiedCheckpoint, CheckpointError> {
    let mut signers: Vec<String> = Vec::new();
    let mut cosignatures: Vec<Cosignature> = Vec::new();
    for signature in &note.signatures {
        let Some((verifier, timestamp)) = check_line(&note.checkpoint, signature, verifiers)? else {
            continue;
        };
        match timestamp {
            None if !signers.contains(&verifier.name) => signers.push(verifier.name.clone()),
            Some(timestamp) if !cosignatures.iter().any(|c| c.name == verifier.name) => {
                cosignatures.push(Cosignature { name: verifier.name.clone(), timestamp });
            }
            _ => {}
        }
    }
    if signers.is_empty() {
        return Err(CheckpointError::NoTrustedSignature { lines: note.signatures.len() });
    }
    Ok(VerifiedCheckpoint { checkpoint: note.checkpoint.clone(), signers, cosignatures })
}

/// Checks one line: `Ok(None)` if no verifier claims it, the verifier and
/// timestamp if one verifies it, an error if verifiers claim it and none
/// verifies it.
fn check_line<'v>(
    checkpoint: &Checkpoint,
    signature: &NoteSignature,
    verifiers: &'v [Verifier],
) -> Result<Option<(&'v Verifier, Option<u64>)>, CheckpointError> {
    let mut failure = None;
    for verifier in verifiers.iter().filter(|v| v.claims(signature)) {
        match verifier.check(checkpoint, signature) {
            Ok(timestamp) => return Ok(Some((verifier, timestamp))),
            Err(reason) => failure = Some(reason),
        }
    }
    match failure {
        None => Ok(None),
        Some(reason) => Err(CheckpointError::BadSignature {
            name: signature.name.clone(),
            key_hash: HEXLOWER.encode(&signature.key_hash),
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::merkle::{leaf_hash, root_of};
    use proptest::prelude::*;

    const ORIGIN: &str = "vereffen.example/copd-achterhoek/hospital";
    const WITNESS: &str = "witness.example/w1";

    fn ledger_key() -> SigningKey {
        SigningKey::from_bytes(&[0x11; 32])
    }

    fn witness_key() -> SigningKey {
        SigningKey::from_bytes(&[0x22; 32])
    }

    fn example_checkpoint() -> Checkpoint {
        let leaves: Vec<Hash> = [b"a", b"b", b"c"].iter().map(|d| leaf_hash(*d)).collect();
        Checkpoint::new(ORIGIN, 3, root_of(&leaves)).unwrap()
    }

    fn verifiers() -> Vec<Verifier> {
        vec![
            Verifier::new(ORIGIN, ledger_key().verifying_key(), KeyKind::Signer).unwrap(),
            Verifier::new(WITNESS, witness_key().verifying_key(), KeyKind::Cosigner).unwrap(),
        ]
    }

    fn signed_example() -> SignedNote {
        let checkpoint = example_checkpoint();
        let mut note = SignedNote::sign(checkpoint.clone(), ORIGIN, &ledger_key()).unwrap();
        note.signatures.push(cosign(&checkpoint, WITNESS, &witness_key(), 1_735_689_600).unwrap());
        note
    }

    const EXAMPLE_NOTE: &str = "vereffen.example/copd-achterhoek/hospital
3
bGLdUqCXG30Ap86tAE4MPzwHZuP1NZoPgpd2jSsC0Dw=

— vereffen.example/copd-achterhoek/hospital aGVrfPU7mvDjdPzKF3rR5jPYKNiO5qaFCmUZac0PEFScctz0UcOztCQFd1tra/KpslhoaqMyfMr8+QqVF8SydRmUuwM=
— witness.example/w1 LSTA2wAAAABndIWApE1ToDukEgBCR7FBMbrDM292FD0vz7Swjw5I3aw2BCPMBrchaL7NepsnZoGy3FuepeLGHrqWKfP+J83PegutCQ==
";

    /// The worked example in docs/FORMAT-merkle.md; keep the two in sync.
    #[test]
    fn worked_example_matches_format_doc() {
        assert_eq!(
            HEXLOWER.encode(&ledger_key().verifying_key().to_bytes()),
            "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
        );
        let vkeys: Vec<String> = verifiers().iter().map(Verifier::to_vkey).collect();
        assert_eq!(
            vkeys,
            [
                "vereffen.example/copd-achterhoek/hospital+68656b7c+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3",
                "witness.example/w1+2d24c0db+BKCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw",
            ]
        );
        for vkey in &vkeys {
            assert_eq!(&Verifier::from_vkey(vkey).unwrap().to_vkey(), vkey);
        }
        let note = signed_example();
        assert_eq!(note.to_text(), EXAMPLE_NOTE);
        assert_eq!(SignedNote::parse(EXAMPLE_NOTE).unwrap(), note);
        let verified = verify(&note, &verifiers()).unwrap();
        assert_eq!(verified.signers(), [ORIGIN.to_string()]);
        assert_eq!(verified.cosignatures(), [Cosignature { name: WITNESS.into(), timestamp: 1_735_689_600 }]);
        verified.check_origin(ORIGIN).unwrap();
    }

    #[test]
    fn body_round_trips_with_extensions() {
        let checkpoint = example_checkpoint().with_extensions(vec!["period 2025-Q1".into(), "ext ✓".into()]).unwrap();
        let body = checkpoint.body();
        assert!(body.ends_with("period 2025-Q1\next ✓\n"));
        assert_eq!(Checkpoint::parse_body(&body), Ok(checkpoint.clone()));
        let note = SignedNote::sign(checkpoint, ORIGIN, &ledger_key()).unwrap();
        let text = note.to_text();
        assert_eq!(SignedNote::parse(&text), Ok(note.clone()));
        assert_eq!(SignedNote::parse_bytes(text.as_bytes()), Ok(note.clone()));
        assert!(verify(&note, &verifiers()).is_ok());
    }

    #[test]
    fn tampered_size_root_origin_or_extension_fails() {
        let note = signed_example();
        let good = note.checkpoint.clone();
        let tampered = [
            Checkpoint::new(ORIGIN, 4, good.root).unwrap(),
            Checkpoint::new(ORIGIN, 3, [0; 32]).unwrap(),
            Checkpoint::new("vereffen.example/other", 3, good.root).unwrap(),
            good.clone().with_extensions(vec!["x".into()]).unwrap(),
        ];
        for checkpoint in tampered {
            let bad = SignedNote { checkpoint, signatures: note.signatures.clone() };
            let err = verify(&bad, &verifiers()).unwrap_err();
            assert!(matches!(err, CheckpointError::BadSignature { .. }), "{err}");
            // Also when only the text is edited.
            let err = verify(&SignedNote::parse(&bad.to_text()).unwrap(), &verifiers());
            assert!(err.is_err());
        }
    }

    #[test]
    fn unknown_lines_are_ignored_but_one_known_signer_is_required() {
        let mut note = signed_example();
        let stranger = SigningKey::from_bytes(&[0x33; 32]);
        let extra = sign_checkpoint(&note.checkpoint, "someone.else", &stranger).unwrap();
        note.signatures.insert(0, extra);
        // Known name, unknown key hash: a key rotation elsewhere, ignored.
        let rotated = sign_checkpoint(&note.checkpoint, ORIGIN, &stranger).unwrap();
        note.signatures.push(rotated);
        let verified = verify(&note, &verifiers()).unwrap();
        assert_eq!(verified.signers().len(), 1);
        assert_eq!(verified.cosignatures().len(), 1);

        let err = verify(&note, &verifiers()[1..]).unwrap_err();
        assert_eq!(err, CheckpointError::NoTrustedSignature { lines: 4 });
        let err = verify(&note, &[]).unwrap_err();
        assert!(err.to_string().contains("known checkpoint signer"));
    }

    #[test]
    fn bad_signature_from_known_key_is_rejected() {
        let note = signed_example();
        for (line, byte) in [(0, 10), (1, 3), (1, 40)] {
            let mut bad = note.clone();
            bad.signatures[line].data[byte] ^= 1;
            let err = verify(&bad, &verifiers()).unwrap_err();
            assert!(matches!(err, CheckpointError::BadSignature { .. }), "{err}");
            assert!(err.to_string().contains("does not verify"));
        }
        let mut short = note.clone();
        short.signatures[1].data.truncate(64);
        assert!(matches!(verify(&short, &verifiers()), Err(CheckpointError::BadSignature { .. })));
        // A cosignature is not a checkpoint signature, even with the same key.
        let witness_as_signer = Verifier::new(WITNESS, witness_key().verifying_key(), KeyKind::Signer).unwrap();
        assert!(verify(&note, &[witness_as_signer]).is_err());
    }

    #[test]
    fn origin_mismatch_says_which_ledger() {
        let verified = verify(&signed_example(), &verifiers()).unwrap();
        let err = verified.check_origin("vereffen.example/copd-twente/hospital");
        let message = err.unwrap_err().to_string();
        assert!(message.contains("copd-achterhoek"), "{message}");
        assert!(message.contains("this ledger is"), "{message}");
    }

    #[test]
    fn malformed_notes_are_rejected_with_clear_errors() {
        use CheckpointError as E;
        let good = EXAMPLE_NOTE;
        let sig_line = good.lines().nth(4).unwrap();
        let body = "vereffen.example/copd-achterhoek/hospital\n3\nbGLdUqCXG30Ap86tAE4MPzwHZuP1NZoPgpd2jSsC0Dw=\n";
        type Expect = fn(&CheckpointError) -> bool;
        let cases: Vec<(String, Expect)> = vec![
            (good.replace('\n', "\r\n"), |e| matches!(e, E::CarriageReturn { line: 1 })),
            (good.trim_end().to_string(), |e| *e == E::NotNewlineTerminated),
            (body.to_string(), |e| *e == E::MissingSeparator),
            (format!("{body}\n"), |e| *e == E::NoSignatures),
            (format!("{body}\n\n{sig_line}\n"), |e| matches!(e, E::MalformedSignatureLine { line: 5, .. })),
            (format!("{body}\n{}\n", sig_line.replacen('—', "-", 1)), |e| {
                matches!(e, E::MalformedSignatureLine { .. })
            }),
            (format!("{body}\n{}\n", sig_line.replacen(' ', "  ", 1)), |e| matches!(e, E::InvalidKeyName { .. })),
            (format!("{body}\n{}=\n", sig_line), |e| matches!(e, E::MalformedSignatureLine { .. })),
            (format!("{body}\n— name AAAA\n"), |e| matches!(e, E::MalformedSignatureLine { .. })),
            (format!("{body}\n— name AAAAAA==\n"), |e| matches!(e, E::MalformedSignatureLine { .. })),
            (format!("{body}\n— a+b AAAAAAA=\n"), |e| matches!(e, E::InvalidKeyName { .. })),
            (good.replacen("\n3\n", "\n03\n", 1), |e| matches!(e, E::InvalidSize { .. })),
            (good.replacen("\n3\n", "\n+3\n", 1), |e| matches!(e, E::InvalidSize { .. })),
            (good.replacen("\n3\n", "\n18446744073709551616\n", 1), |e| matches!(e, E::InvalidSize { .. })),
            (good.replacen("Dw=\n", "Dw\n", 1), |e| matches!(e, E::InvalidRoot { .. })),
            (good.replacen("Dw=\n", "Dx=\n", 1), |e| matches!(e, E::InvalidRoot { .. })),
            (good.replacen("Dw=\n", "Dw=\n\n", 1), |e| matches!(e, E::MalformedSignatureLine { .. })),
            (good.replacen("hospital\n", "hos pital\n", 1), |e| matches!(e, E::InvalidOrigin { .. })),
            (good.replacen(ORIGIN, "", 1), |e| matches!(e, E::InvalidOrigin { .. })),
            (format!("{ORIGIN}\n3\n\n{sig_line}\n"), |e| *e == E::BodyTooShort { found: 2 }),
            (good.replacen("\n3\n", "\n3\u{7}\n", 1), |e| matches!(e, E::ControlCharacter { line: 2, code: 7 })),
            ("\n\n— a AAAAAAA=\n".to_string(), |e| matches!(e, E::BodyTooShort { .. })),
            (format!("{body}\n{}", "— a AAAAAAA=\n".repeat(101)), |e| matches!(e, E::TooManySignatures { .. })),
            ("x".repeat(MAX_NOTE_BYTES + 1), |e| matches!(e, E::NoteTooLarge { .. })),
        ];
        for (text, expected) in cases {
            let err = SignedNote::parse(&text).unwrap_err();
            assert!(expected(&err), "{text:?} gave {err:?}");
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(SignedNote::parse_bytes(&[0xff, b'\n']), Err(E::NotUtf8));
        assert!(SignedNote::parse(&format!("{body}\n{}", "— a AAAAAAA=\n".repeat(100))).is_ok());
    }

    #[test]
    fn constructors_validate_names() {
        let key = ledger_key();
        assert!(Checkpoint::new("", 1, [0; 32]).is_err());
        assert!(Checkpoint::new("a+b", 1, [0; 32]).is_err());
        assert!(Checkpoint::new("é", 1, [0; 32]).is_err());
        assert!(example_checkpoint().with_extensions(vec![String::new()]).is_err());
        assert!(example_checkpoint().with_extensions(vec!["a\nb".into()]).is_err());
        assert!(sign_checkpoint(&example_checkpoint(), "has space", &key).is_err());
        assert!(cosign(&example_checkpoint(), "", &key, 0).is_err());
        assert!(Verifier::new("a+b", key.verifying_key(), KeyKind::Signer).is_err());
        for vkey in [
            "",
            "name",
            "name+00000000+AdBK",
            "name+00000000+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3",
            "vereffen.example/copd-achterhoek/hospital+68656b7c+AtBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3",
        ] {
            assert!(Verifier::from_vkey(vkey).is_err(), "{vkey}");
        }
    }

    #[test]
    fn signatures_are_bound_to_their_context() {
        // The checkpoint signature is not over the bare body (C2SP) but over
        // the vereffen context, and cosignatures use their own message.
        let checkpoint = example_checkpoint();
        let key = ledger_key();
        let bare = key.sign(checkpoint.body().as_bytes());
        let mut note = SignedNote::sign(checkpoint.clone(), ORIGIN, &key).unwrap();
        note.signatures[0].data = bare.to_bytes().to_vec();
        assert!(verify(&note, &verifiers()).is_err());
        assert_eq!(
            checkpoint.cosigned_message(7),
            format!("cosignature/v1\ntime 7\n{}", checkpoint.body()).into_bytes()
        );
        assert!(checkpoint.signed_message().starts_with(b"vereffen-checkpoint-v1\n"));
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = SignedNote::parse_bytes(&bytes);
        }

        #[test]
        fn parse_never_panics_on_strings(text in "\\PC{0,300}") {
            let _ = SignedNote::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_near_misses(
            cut in 0usize..400,
            insert in "[\\n — +=A-Za-z0-9/.\u{7f}\r]{0,6}",
        ) {
            let mut text = EXAMPLE_NOTE.to_string();
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, &insert);
            if let Ok(note) = SignedNote::parse(&text) {
                // Whatever parses re-encodes to exactly the same text.
                prop_assert_eq!(note.to_text(), text);
                let _ = verify(&note, &verifiers());
            }
        }
    }
}
