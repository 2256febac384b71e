//! Ed25519 keys: generation, PEM key files, key ids and fingerprints.
//!
//! * A **key id** is the lower-case hex of `blake3(public key bytes)` (32
//!   bytes, 64 hex characters). Entries name their signer by key id.
//! * A **fingerprint** is what people read out to each other: the first 10
//!   bytes of the key id in RFC 4648 base32 (upper case, no padding), 16
//!   characters in four groups, e.g. `K7QF-M2ZA-PX4D-33RT`.
//! * Private keys are PKCS#8 PEM files (`NAME.key`, mode 0600), public keys
//!   SubjectPublicKeyInfo PEM files (`NAME.pub`). Key files are written once
//!   and never overwritten (except by [`encrypt_key_file`], which replaces a
//!   plain private key by the same key encrypted); a private key is never
//!   printed.
//! * A private key file may be encrypted: PKCS#8 `EncryptedPrivateKeyInfo`
//!   (`-----BEGIN ENCRYPTED PRIVATE KEY-----`), PBES2 with scrypt
//!   ([`SCRYPT_LOG_N`], [`SCRYPT_R`], [`SCRYPT_P`]) and AES-256-CBC. It is
//!   opened with a [`Passphrase`] ([`load_signing_key_with`],
//!   [`read_private_key_file`]); the passphrase and every decrypted byte are
//!   wiped from memory after use.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use pkcs8::pkcs5::{self, pbes2};
use zeroize::Zeroizing;

/// Largest key file we read; real ones are under 400 bytes.
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

/// scrypt cost of new encrypted key files: `N = 2^SCRYPT_LOG_N` (with
/// [`SCRYPT_R`] = 8 that is 128 MiB of memory per derivation).
pub const SCRYPT_LOG_N: u8 = 17;
/// scrypt block size `r` of new encrypted key files.
pub const SCRYPT_R: u32 = 8;
/// scrypt parallelism `p` of new encrypted key files.
pub const SCRYPT_P: u32 = 1;
// The floor the issue sets for new files: scrypt at least N = 2^15, r = 8, p = 1.
const _: () = assert!(SCRYPT_LOG_N >= 15 && SCRYPT_R >= 8 && SCRYPT_P >= 1);
/// Most memory (`128 * r * N` bytes) an encrypted key file may make scrypt
/// use when it is read; a file asking for more is refused before any work.
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 512 << 20;
/// Largest scrypt `p` an encrypted key file may ask for when it is read.
pub const MAX_SCRYPT_P: u16 = 4;
/// Longest passphrase, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// Shortest passphrase accepted for encrypting a key, in bytes (any
/// non-empty passphrase is tried for decrypting).
pub const MIN_NEW_PASSPHRASE_BYTES: usize = 8;
/// PEM label of an encrypted private key.
const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// A passphrase held in memory, wiped when dropped. It is never printed
/// (its `Debug` hides it) and never written anywhere.
pub struct Passphrase(Zeroizing<Vec<u8>>);

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<hidden>)")
    }
}

impl Passphrase {
    /// A passphrase from bytes; `origin` says where it came from in errors
    /// (e.g. "the prompt"). Refuses an empty one and one over
    /// [`MAX_PASSPHRASE_BYTES`].
    pub fn new(bytes: Vec<u8>, origin: &str) -> Result<Passphrase, KeyError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.is_empty() {
            return Err(KeyError::Passphrase { origin: origin.to_string(), why: "it is empty".into() });
        }
        if bytes.len() > MAX_PASSPHRASE_BYTES {
            return Err(KeyError::Passphrase {
                origin: origin.to_string(),
                why: format!("it is longer than {MAX_PASSPHRASE_BYTES} bytes"),
            });
        }
        Ok(Passphrase(bytes))
    }

    /// The passphrase in the file `path`: its bytes, without one final line
    /// end (`\n` or `\r\n`).
    pub fn from_file(path: &Path) -> Result<Passphrase, KeyError> {
        let origin = format!("passphrase file {}", path.display());
        let meta = fs::metadata(path)
            .map_err(|e| KeyError::Passphrase { origin: origin.clone(), why: format!("cannot read it: {e}") })?;
        if !meta.is_file() || meta.len() > MAX_PASSPHRASE_BYTES as u64 + 2 {
            return Err(KeyError::Passphrase {
                origin,
                why: format!("it is not a regular file of at most {MAX_PASSPHRASE_BYTES} bytes"),
            });
        }
        let mut bytes = fs::read(path)
            .map_err(|e| KeyError::Passphrase { origin: origin.clone(), why: format!("cannot read it: {e}") })?;
        if bytes.ends_with(b"\r\n") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"\n") {
            bytes.truncate(bytes.len() - 1);
        }
        Passphrase::new(bytes, &origin)
    }

    /// The passphrase in the environment variable `name`.
    pub fn from_env(name: &str) -> Result<Passphrase, KeyError> {
        let origin = format!("environment variable {name}");
        match std::env::var_os(name) {
            None => Err(KeyError::Passphrase { origin, why: "it is not set".into() }),
            Some(v) => match v.into_string() {
                Ok(s) => Passphrase::new(s.into_bytes(), &origin),
                Err(_) => Err(KeyError::Passphrase { origin, why: "it is not valid UTF-8".into() }),
            },
        }
    }

    /// The bytes, for the key derivation.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The id of a public key: `blake3(public key bytes)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The key id of `key`.
    pub fn of(key: &VerifyingKey) -> KeyId {
        KeyId(*blake3::hash(key.as_bytes()).as_bytes())
    }

    /// Lower-case hex, as written in entries.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Parses the 64-character lower-case hex form.
    pub fn from_hex(s: &str) -> Option<KeyId> {
        if s.len() != 64 {
            return None;
        }
        let bytes = data_encoding::HEXLOWER.decode(s.as_bytes()).ok()?;
        Some(KeyId(bytes.try_into().ok()?))
    }

    /// The human-readable fingerprint, `XXXX-XXXX-XXXX-XXXX`.
    pub fn fingerprint(&self) -> String {
        let b32 = data_encoding::BASE32_NOPAD.encode(&self.0[..10]);
        debug_assert_eq!(b32.len(), 16);
        format!("{}-{}-{}-{}", &b32[0..4], &b32[4..8], &b32[8..12], &b32[12..16])
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyId, D::Error> {
        let s = String::deserialize(d)?;
        KeyId::from_hex(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a hex key id")))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.fingerprint())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

/// `p = 2^255 - 19`, the field modulus, as 32 little-endian bytes.
const FIELD_P_LE: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// True if the 32 bytes are the *canonical* encoding of whatever curve
/// point they decode to, i.e. decoding and re-encoding gives the same
/// bytes (`docs/FORMAT.md` 2). With `y` the low 255 bits (little-endian)
/// and `sign` the top bit, that is: `y < p`, and not (`x = 0` and `sign = 1`);
/// on the curve `x = 0` exactly when `y = 1` or `y = p - 1`. Pure byte
/// arithmetic, so the check costs nothing next to a signature check. Says
/// nothing about whether the bytes are a curve point at all.
pub fn is_canonical_point_encoding(bytes: &[u8; 32]) -> bool {
    let sign = bytes[31] >> 7;
    let mut y = *bytes;
    y[31] &= 0x7f;
    // y < p, comparing from the most significant byte down.
    let below_p = y.iter().rev().zip(FIELD_P_LE.iter().rev()).find(|(a, b)| a != b).is_some_and(|(a, b)| a < b);
    if !below_p {
        return false;
    }
    let mut p_minus_1 = FIELD_P_LE;
    p_minus_1[0] -= 1;
    let is_one = y[0] == 1 && y[1..].iter().all(|&b| b == 0);
    let x_is_zero = is_one || y == p_minus_1;
    !(x_is_zero && sign == 1)
}

/// Why 32 bytes are not acceptable as an Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// The bytes do not decode to a point on the curve.
    #[error("it is not a valid ed25519 point")]
    NotAPoint,
    /// The bytes decode, but are not the canonical encoding of that point.
    #[error("it is not the canonical encoding of its point (y is not below 2^255-19, or the sign bit is set for x = 0); only the canonical encoding is accepted")]
    NonCanonical,
    /// The point has small order (the identity or another torsion point):
    /// anyone can make "signatures" that verify under it.
    #[error("it is a point of small order (a weak key under which anyone can forge signatures); generate a real key with `vereffen keys new NAME`")]
    SmallOrder,
}

/// Parses 32 bytes as a public key under the strict rule of
/// `docs/FORMAT.md` 2: a curve point, canonically encoded, not of small
/// order. Every public key that enters a ledger (registration, rotation) or
/// is trusted for checkpoints goes through this.
pub fn strict_public_key(bytes: &[u8; 32]) -> Result<VerifyingKey, PublicKeyError> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| PublicKeyError::NotAPoint)?;
    if !is_canonical_point_encoding(bytes) {
        return Err(PublicKeyError::NonCanonical);
    }
    if key.is_weak() {
        return Err(PublicKeyError::SmallOrder);
    }
    Ok(key)
}

/// True if `s` has the shape of a fingerprint (`XXXX-XXXX-XXXX-XXXX`, base32).
pub fn is_fingerprint(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, &c)| {
            if i % 5 == 4 {
                c == b'-'
            } else {
                c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)
            }
        })
}

/// What went wrong with a key file. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file does not exist.
    #[error("key file {0} does not exist (create one with `vereffen keys new NAME`)")]
    Missing(PathBuf),
    /// The file exists but cannot be read.
    #[error("cannot read key file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a key of the expected kind.
    #[error("{path} is not {expected}: {why}")]
    NotAKey {
        /// The file.
        path: PathBuf,
        /// What was expected, e.g. "an ed25519 private key (PKCS#8 PEM)".
        expected: &'static str,
        /// What was found instead.
        why: String,
    },
    /// Refusing to overwrite an existing key file.
    #[error(
        "refusing to overwrite {0}: key files are never overwritten; choose another name or move the old file away"
    )]
    Exists(PathBuf),
    /// Writing a new key file failed.
    #[error("cannot write key file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The key file is encrypted and no passphrase was given.
    #[error("key file {0} is encrypted: give its passphrase with --passphrase-file FILE or --passphrase-env NAME (or run in a terminal to be asked)")]
    NeedsPassphrase(PathBuf),
    /// The passphrase does not decrypt the key file.
    #[error("cannot decrypt key file {0}: wrong passphrase (or the file is damaged); nothing was done")]
    WrongPassphrase(PathBuf),
    /// The encrypted key file uses a scheme or parameters we do not read.
    #[error("cannot decrypt key file {path}: {why}")]
    Encryption {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        why: String,
    },
    /// The key file is already encrypted.
    #[error("key file {0} is already encrypted")]
    AlreadyEncrypted(PathBuf),
    /// A passphrase could not be read or is not acceptable.
    #[error("the passphrase ({origin}) cannot be used: {why}")]
    Passphrase {
        /// Where it came from.
        origin: String,
        /// What is wrong.
        why: String,
    },
}

/// A freshly generated key pair, from the operating system's randomness.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// The two files `keys new` writes.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// `DIR/NAME.key`, the private key (mode 0600).
    pub private: PathBuf,
    /// `DIR/NAME.pub`, the public key.
    pub public: PathBuf,
}

/// Writes `DIR/NAME.key` (mode 0600) and `DIR/NAME.pub` for `key`. Refuses if
/// either file exists; writes neither in that case.
pub fn write_key_files(dir: &Path, name: &str, key: &SigningKey) -> Result<KeyFiles, KeyError> {
    write_key_files_with(dir, name, key, None)
}

/// [`write_key_files`], with the private key encrypted under `passphrase`
/// when one is given (see [`encrypted_private_key_pem`]).
pub fn write_key_files_with(
    dir: &Path,
    name: &str,
    key: &SigningKey,
    passphrase: Option<&Passphrase>,
) -> Result<KeyFiles, KeyError> {
    let files = KeyFiles { private: dir.join(format!("{name}.key")), public: dir.join(format!("{name}.pub")) };
    for p in [&files.private, &files.public] {
        if p.exists() {
            return Err(KeyError::Exists(p.clone()));
        }
    }
    let private_pem = match passphrase {
        Some(p) => encrypted_private_key_pem(key, p, &files.private)?,
        None => plain_private_key_pem(key, &files.private)?,
    };
    fs::create_dir_all(dir).map_err(|source| KeyError::Write { path: dir.to_path_buf(), source })?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::Write { path: files.public.clone(), source: std::io::Error::other(e.to_string()) })?;
    write_new_file(&files.private, private_pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new_file(&files.public, public_pem.as_bytes(), 0o644) {
        // Leave no half-made pair behind: the private key was just created by us.
        let _ = fs::remove_file(&files.private);
        return Err(e);
    }
    Ok(files)
}

/// The PKCS#8 v1 PEM of `key` (RFC 5208: version 0, no embedded public
/// key), as `openssl genpkey` writes it; the v2 form some libraries refuse
/// is only read.
fn plain_private_key_pem(key: &SigningKey, path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let v1 = ed25519_dalek::pkcs8::KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    v1.to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Write { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) })
}

/// `key` as an encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE
/// KEY-----`): the PKCS#8 v1 DER of [`plain_private_key_pem`] encrypted
/// with PBES2 (RFC 8018): scrypt (RFC 7914) with `N = 2^`[`SCRYPT_LOG_N`],
/// `r =` [`SCRYPT_R`], `p =` [`SCRYPT_P`], a random 16-byte salt and a
/// 32-byte key, then AES-256-CBC with a random 16-byte IV. `path` names the
/// file in errors. The passphrase must have at least
/// [`MIN_NEW_PASSPHRASE_BYTES`] bytes.
pub fn encrypted_private_key_pem(
    key: &SigningKey,
    passphrase: &Passphrase,
    path: &Path,
) -> Result<Zeroizing<String>, KeyError> {
    if passphrase.as_bytes().len() < MIN_NEW_PASSPHRASE_BYTES {
        return Err(KeyError::Passphrase {
            origin: "for a new encryption".into(),
            why: format!("a key is encrypted only under a passphrase of at least {MIN_NEW_PASSPHRASE_BYTES} bytes"),
        });
    }
    let fail = |e: String| KeyError::Write { path: path.to_path_buf(), source: std::io::Error::other(e) };
    let v1 = ed25519_dalek::pkcs8::KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    let der = v1.to_pkcs8_der().map_err(|e| fail(e.to_string()))?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut iv);
    let cost = pkcs5::scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, 32).map_err(|e| fail(e.to_string()))?;
    let params = pbes2::Parameters::scrypt_aes256cbc(cost, &salt, &iv).map_err(|e| fail(e.to_string()))?;
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let encrypted = info.encrypt_with_params(params, passphrase.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let pem = encrypted.to_pem(ENCRYPTED_LABEL, LineEnding::LF).map_err(|e| fail(e.to_string()))?;
    Ok(pem)
}

/// What a private key file holds.
pub enum PrivateKeyFile {
    /// A plain PKCS#8 key.
    Plain(SigningKey),
    /// An encrypted key, still to be decrypted with [`EncryptedKey::decrypt`].
    Encrypted(EncryptedKey),
}

/// An encrypted private key file whose scheme and parameters were checked
/// (PBES2, scrypt within [`MAX_SCRYPT_MEMORY_BYTES`] and [`MAX_SCRYPT_P`],
/// AES-CBC), not yet decrypted.
pub struct EncryptedKey {
    path: PathBuf,
    der: Vec<u8>,
}

impl fmt::Debug for EncryptedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedKey({})", self.path.display())
    }
}

impl EncryptedKey {
    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Decrypts the key; [`KeyError::WrongPassphrase`] if `passphrase` does
    /// not open it. The decrypted bytes are wiped after use.
    pub fn decrypt(&self, passphrase: &Passphrase) -> Result<SigningKey, KeyError> {
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(self.der.as_slice())
            .map_err(|_| KeyError::WrongPassphrase(self.path.clone()))?;
        let plain = info.decrypt(passphrase.as_bytes()).map_err(|_| KeyError::WrongPassphrase(self.path.clone()))?;
        SigningKey::from_pkcs8_der(plain.as_bytes()).map_err(|_| KeyError::WrongPassphrase(self.path.clone()))
    }
}

/// Reads a private key file, plain or encrypted. An encrypted file's
/// scheme is checked here, so that a hostile file cannot make the key
/// derivation use unbounded memory or time: PBES2 with scrypt, `N` a power
/// of two, `128 * r * N <=` [`MAX_SCRYPT_MEMORY_BYTES`], `p <=`
/// [`MAX_SCRYPT_P`], and AES-128/192/256-CBC; anything else (PBES1, PBKDF2)
/// is refused with the reason.
pub fn read_private_key_file(path: &Path) -> Result<PrivateKeyFile, KeyError> {
    let text = Zeroizing::new(read_small(path)?);
    if !text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return signing_key_from_pem(&text, path).map(PrivateKeyFile::Plain);
    }
    let not_a_key = |why: String| KeyError::NotAKey {
        path: path.to_path_buf(),
        expected: "an encrypted ed25519 private key (`-----BEGIN ENCRYPTED PRIVATE KEY-----`)",
        why,
    };
    let (label, doc) = pkcs8::der::Document::from_pem(text.trim()).map_err(|e| not_a_key(format!("{e}")))?;
    if label != ENCRYPTED_LABEL {
        return Err(not_a_key(format!("it holds a `{label}` PEM object")));
    }
    let der = doc.as_bytes().to_vec();
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| not_a_key(format!("{e}")))?;
    let refuse = |why: String| KeyError::Encryption { path: path.to_path_buf(), why };
    let pkcs5::EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else {
        return Err(refuse("it uses PBES1; only PBES2 with scrypt is read (`vereffen keys encrypt` writes it)".into()));
    };
    let Some(scrypt) = params.kdf.scrypt() else {
        return Err(refuse(
            "its key derivation is not scrypt (PBKDF2?); only the memory-hard scrypt is read: re-encrypt with `openssl pkcs8 -topk8 -scrypt`".into(),
        ));
    };
    let n = scrypt.cost_parameter;
    let memory = 128u64.checked_mul(u64::from(scrypt.block_size)).and_then(|m| m.checked_mul(n));
    if n < 2 || !n.is_power_of_two() || scrypt.block_size == 0 || scrypt.parallelization == 0 {
        return Err(refuse("its scrypt parameters are invalid".into()));
    }
    if memory.is_none_or(|m| m > MAX_SCRYPT_MEMORY_BYTES) || scrypt.parallelization > MAX_SCRYPT_P {
        return Err(refuse(format!(
            "its scrypt parameters (N={n}, r={}, p={}) ask for more than {} MiB or p > {MAX_SCRYPT_P}",
            scrypt.block_size,
            scrypt.parallelization,
            MAX_SCRYPT_MEMORY_BYTES >> 20
        )));
    }
    if !matches!(
        params.encryption,
        pbes2::EncryptionScheme::Aes128Cbc { .. }
            | pbes2::EncryptionScheme::Aes192Cbc { .. }
            | pbes2::EncryptionScheme::Aes256Cbc { .. }
    ) {
        return Err(refuse("its cipher is not AES-CBC".into()));
    }
    Ok(PrivateKeyFile::Encrypted(EncryptedKey { path: path.to_path_buf(), der }))
}

/// Reads a private key file, decrypting it with `passphrase` if it is
/// encrypted (a plain file is read as [`load_signing_key`] does). The one
/// loader of the CLI and the node.
pub fn load_signing_key_with(path: &Path, passphrase: &Passphrase) -> Result<SigningKey, KeyError> {
    match read_private_key_file(path)? {
        PrivateKeyFile::Plain(k) => Ok(k),
        PrivateKeyFile::Encrypted(e) => e.decrypt(passphrase),
    }
}

/// Replaces the plain private key file `path` by the same key encrypted
/// under `passphrase` ([`encrypted_private_key_pem`]), atomically: a
/// temporary file (mode 0600) in the same directory is written, synced,
/// checked to decrypt to the same key, and renamed over `path`; on any
/// failure `path` is unchanged. Refuses an already encrypted file. Returns
/// the key.
pub fn encrypt_key_file(path: &Path, passphrase: &Passphrase) -> Result<SigningKey, KeyError> {
    let key = match read_private_key_file(path)? {
        PrivateKeyFile::Plain(k) => k,
        PrivateKeyFile::Encrypted(_) => return Err(KeyError::AlreadyEncrypted(path.to_path_buf())),
    };
    let pem = encrypted_private_key_pem(&key, passphrase, path)?;
    let write_err = |source: std::io::Error| KeyError::Write { path: path.to_path_buf(), source };
    // The invariant that makes the rewrite safe: the new bytes open to the same key.
    let check = pkcs8::der::Document::from_pem(&pem).ok().and_then(|(_, doc)| {
        EncryptedKey { path: path.to_path_buf(), der: doc.as_bytes().to_vec() }.decrypt(passphrase).ok()
    });
    if check.map(|k| k.to_bytes()) != Some(key.to_bytes()) {
        return Err(write_err(std::io::Error::other(
            "the encrypted form did not decrypt to the same key; nothing was written",
        )));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".vereffen-key-").tempfile_in(dir).map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(0o600)).map_err(write_err)?;
    }
    tmp.write_all(pem.as_bytes()).and_then(|()| tmp.as_file().sync_all()).map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    #[cfg(unix)]
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(write_err)?;
    Ok(key)
}

/// Writes a new file atomically: the bytes go to a temporary file (mode
/// 0600) in the same directory, which is synced, given `mode` and then
/// linked into place without replacing anything. A failure (a full disk)
/// leaves no file at `path`, so the name stays free; an existing `path` is
/// never overwritten.
fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let write_err = |source: std::io::Error| KeyError::Write { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".vereffen-key-").tempfile_in(dir).map_err(write_err)?;
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(mode)).map_err(write_err)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.to_path_buf())
        } else {
            write_err(e.error)
        }
    })?;
    // The new name is durable only once the directory is synced.
    #[cfg(unix)]
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(write_err)?;
    Ok(())
}

fn read_small(path: &Path) -> Result<String, KeyError> {
    let meta = fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            KeyError::Missing(path.to_path_buf())
        } else {
            KeyError::Unreadable { path: path.to_path_buf(), source }
        }
    })?;
    if !meta.is_file() || meta.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyError::NotAKey {
            path: path.to_path_buf(),
            expected: "a key file",
            why: if meta.is_file() { "it is too large".into() } else { "it is not a regular file".into() },
        });
    }
    let bytes = fs::read(path).map_err(|source| KeyError::Unreadable { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|_| KeyError::NotAKey {
        path: path.to_path_buf(),
        expected: "a PEM key file",
        why: "it is binary, not PEM text".into(),
    })
}

/// Parses a PKCS#8 PEM private key held in memory; `origin` names it in errors.
pub fn signing_key_from_pem(pem: &str, origin: &Path) -> Result<SigningKey, KeyError> {
    const EXPECTED: &str = "an ed25519 private key (PKCS#8 PEM, `-----BEGIN PRIVATE KEY-----`)";
    match SigningKey::from_pkcs8_pem(pem) {
        Ok(k) => Ok(k),
        Err(e) => {
            let why = if pem.contains("BEGIN PUBLIC KEY") {
                "it holds a public key; pass the private .key file".to_string()
            } else if !pem.contains("-----BEGIN") {
                "it is not PEM".to_string()
            } else if pem.contains("BEGIN PRIVATE KEY") {
                format!("it is a private key of another kind or damaged ({e})")
            } else {
                "it holds another kind of PEM object".to_string()
            };
            Err(KeyError::NotAKey { path: origin.to_path_buf(), expected: EXPECTED, why })
        }
    }
}

/// Reads a plain private key file (`NAME.key`); an encrypted one gives
/// [`KeyError::NeedsPassphrase`] (use [`load_signing_key_with`]).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    match read_private_key_file(path)? {
        PrivateKeyFile::Plain(k) => Ok(k),
        PrivateKeyFile::Encrypted(_) => Err(KeyError::NeedsPassphrase(path.to_path_buf())),
    }
}

/// Reads a public key from a `.pub` file, or from a `.key` file (whose
/// public half is derived).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let text = Zeroizing::new(read_small(path)?);
    if text.contains("BEGIN PRIVATE KEY") {
        return signing_key_from_pem(&text, path).map(|k| k.verifying_key());
    }
    if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        return Err(KeyError::NotAKey {
            path: path.to_path_buf(),
            expected: "a public key",
            why: "it is an encrypted private key; pass its .pub file".into(),
        });
    }
    VerifyingKey::from_public_key_pem(&text).map_err(|e| KeyError::NotAKey {
        path: path.to_path_buf(),
        expected: "an ed25519 public key (SPKI PEM, `-----BEGIN PUBLIC KEY-----`)",
        why: if text.contains("-----BEGIN") { format!("{e}") } else { "it is not PEM".into() },
    })
}

/// Warns (as text) when a private key file is readable by others.
pub fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return Some(format!(
                "warning: private key {} is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    let _ = path;
    None
}

/// The canonical encodings (hex) of the eight points of small order on
/// edwards25519 (`docs/FORMAT.md` 2): no public key or signature `R` may be
/// one of them. Listed for verifiers and tests; the check itself
/// ([`strict_public_key`]) does not depend on the list.
pub const SMALL_ORDER_POINTS: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let key = generate();
        let files = write_key_files(dir.path(), "a", &key).unwrap();
        assert_eq!(load_signing_key(&files.private).unwrap().to_bytes(), key.to_bytes());
        assert_eq!(load_verifying_key(&files.public).unwrap(), key.verifying_key());
        assert_eq!(load_verifying_key(&files.private).unwrap(), key.verifying_key());
        assert!(matches!(write_key_files(dir.path(), "a", &generate()), Err(KeyError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&files.private).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// `keys new` writes PKCS#8 v1 (version 0, no public key), the form
    /// `openssl genpkey` writes and every library reads; v2 files still load.
    #[test]
    fn private_keys_are_written_as_pkcs8_v1() {
        let dir = tempfile::tempdir().unwrap();
        let key = generate();
        let files = write_key_files(dir.path(), "v1", &key).unwrap();
        let pem = fs::read_to_string(&files.private).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = data_encoding::BASE64.decode(b64.as_bytes()).unwrap();
        // SEQUENCE(0x30 len=46) INTEGER(0x02 len 1) version 0: 48 bytes in all.
        assert_eq!(der.len(), 48, "{der:02x?}");
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
        assert_eq!(load_signing_key(&files.private).unwrap().to_bytes(), key.to_bytes());
        let v2 = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert_eq!(signing_key_from_pem(&v2, &files.private).unwrap().to_bytes(), key.to_bytes());
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn bad_key_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.key");
        assert!(load_signing_key(&missing).unwrap_err().to_string().contains("does not exist"));
        let junk = dir.path().join("junk.key");
        fs::write(&junk, "hello").unwrap();
        assert!(load_signing_key(&junk).unwrap_err().to_string().contains("not PEM"));
        let files = write_key_files(dir.path(), "b", &generate()).unwrap();
        let err = load_signing_key(&files.public).unwrap_err().to_string();
        assert!(err.contains("holds a public key"), "{err}");
    }

    fn bytes32(hex: &str) -> [u8; 32] {
        data_encoding::HEXLOWER.decode(hex.as_bytes()).unwrap().try_into().unwrap()
    }

    /// Decode and re-encode: the definition the byte rule must match.
    fn reencodes_to_itself(b: &[u8; 32]) -> Option<bool> {
        VerifyingKey::from_bytes(b).ok().map(|k| k.to_edwards().compress().to_bytes() == *b)
    }

    #[test]
    fn canonical_encoding_rule_matches_decode_and_reencode() {
        let mut candidates: Vec<[u8; 32]> = Vec::new();
        for sign in [0u8, 0x80] {
            for k in 0u8..64 {
                // y = k (small) and y = 2^255 - 1 - k (around p = 2^255 - 19).
                let mut low = [0u8; 32];
                low[0] = k;
                low[31] |= sign;
                let mut high = [0xff; 32];
                high[0] = 0xff - k;
                high[31] = 0x7f | sign;
                candidates.extend([low, high]);
            }
        }
        for _ in 0..200 {
            candidates.push(generate().verifying_key().to_bytes());
            let mut random = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut random);
            candidates.push(random);
        }
        let mut non_canonical_points = 0;
        for b in &candidates {
            if let Some(same) = reencodes_to_itself(b) {
                assert_eq!(is_canonical_point_encoding(b), same, "{}", data_encoding::HEXLOWER.encode(b));
                non_canonical_points += usize::from(!same);
            }
        }
        assert!(non_canonical_points >= 4, "the sample holds non-canonical encodings of points");
    }

    #[test]
    fn strict_public_keys() {
        let good = generate().verifying_key();
        assert_eq!(strict_public_key(good.as_bytes()), Ok(good));
        for hex in super::SMALL_ORDER_POINTS {
            let b = bytes32(hex);
            assert!(VerifyingKey::from_bytes(&b).unwrap().is_weak(), "{hex} has small order");
            assert_eq!(strict_public_key(&b), Err(PublicKeyError::SmallOrder), "{hex}");
        }
        for hex in [
            // The identity with the sign bit set, and as y = p + 1.
            "0100000000000000000000000000000000000000000000000000000000000080",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            // y = p (that is 0) and y = p - 1 with the sign bit.
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ] {
            assert_eq!(strict_public_key(&bytes32(hex)), Err(PublicKeyError::NonCanonical), "{hex}");
        }
        // A non-canonical encoding (y = p + k) of a point of large order.
        let large = (2u8..19)
            .map(|k| {
                let mut b = FIELD_P_LE;
                b[0] += k;
                b
            })
            .find(|b| VerifyingKey::from_bytes(b).is_ok_and(|k| !k.is_weak()))
            .expect("some y = p + k with k < 19 is a point of large order");
        assert_eq!(strict_public_key(&large), Err(PublicKeyError::NonCanonical));
        let not_a_point = (2u8..=255)
            .map(|k| [k; 32])
            .find(|b| VerifyingKey::from_bytes(b).is_err())
            .expect("some bytes are not a point");
        assert_eq!(strict_public_key(&not_a_point), Err(PublicKeyError::NotAPoint));
    }

    #[test]
    fn fingerprint_shape() {
        let id = KeyId::of(&generate().verifying_key());
        assert!(is_fingerprint(&id.fingerprint()));
        assert_eq!(KeyId::from_hex(&id.to_hex()), Some(id));
        assert!(!is_fingerprint("ABCD-EFGH-IJKL-MNO1"));
    }
}
