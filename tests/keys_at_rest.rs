//! Keys at rest (issue 14): `keys new --encrypt` writes an encrypted PKCS#8
//! PEM (PBES2, scrypt, AES-256-CBC); every command that reads a signing key
//! takes the passphrase from `--passphrase-file` or `--passphrase-env` (or
//! a terminal prompt); a wrong or missing passphrase is refused naming the
//! file and changes nothing; unencrypted keys still work with a one-line
//! warning; `keys encrypt` converts a key in place and its signatures stay
//! byte for byte the same; hostile encrypted files are refused before any
//! expensive work.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use ed25519_dalek::pkcs8::EncodePrivateKey;
use pkcs8::der::Encode;
use pkcs8::pkcs5::pbes2;
use vereffen::ledger::keys::{self, KeyError, Passphrase, PrivateKeyFile};

const PASS: &str = "correct horse battery staple";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `vereffen` in `dir` with stdin closed (not a terminal), a fixed
/// claimed time, and the extra environment `env`.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vereffen"));
    cmd.args(args)
        .current_dir(dir)
        .env("VEREFFEN_LEDGER", "l")
        .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
        .env_remove("VEREFFEN_PASS")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run vereffen");
    let r = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "{args:?} panicked: {}", r.stderr);
    r
}

fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let r = run(dir, args, env);
    assert_eq!(r.code, 0, "vereffen {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
    r
}

/// A working directory with the passphrase in `pass` (with a final line end).
fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("pass"), format!("{PASS}\n")).unwrap();
    fs::write(tmp.path().join("wrong"), "not the passphrase\n").unwrap();
    tmp
}

fn is_encrypted_pem(path: &Path) -> bool {
    let text = fs::read_to_string(path).unwrap();
    text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n") && !text.contains("BEGIN PRIVATE KEY")
}

#[test]
fn encrypted_keys_sign_with_a_passphrase_file_or_env() {
    let tmp = setup();
    let d = tmp.path();
    let r = ok(d, &["keys", "new", "a", "--encrypt", "--passphrase-file", "pass"], &[]);
    assert!(r.stdout.contains("encrypted"), "{}", r.stdout);
    assert!(is_encrypted_pem(&d.join("keys/a.key")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(d.join("keys/a.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // A passphrase flag makes encryption the default; --no-encrypt overrides it.
    ok(d, &["keys", "new", "b", "--passphrase-env", "VEREFFEN_PASS"], &[("VEREFFEN_PASS", PASS)]);
    assert!(is_encrypted_pem(&d.join("keys/b.key")));
    ok(d, &["keys", "new", "c", "--passphrase-env", "VEREFFEN_PASS", "--no-encrypt"], &[("VEREFFEN_PASS", PASS)]);
    assert!(!is_encrypted_pem(&d.join("keys/c.key")));

    ok(d, &["init", "--id", "keys-at-rest"], &[]);
    let r = ok(
        d,
        &[
            "party",
            "add",
            "--id",
            "zh",
            "--name",
            "Ziekenhuis",
            "--role",
            "provider",
            "--key",
            "keys/a.key",
            "--passphrase-file",
            "pass",
        ],
        &[],
    );
    assert!(!r.stderr.contains("warning"), "an encrypted key gives no warning: {}", r.stderr);
    let r = ok(
        d,
        &["note", "--text", "signed with an encrypted key", "--as", "keys/a.key", "--passphrase-env", "VEREFFEN_PASS"],
        &[("VEREFFEN_PASS", PASS)],
    );
    assert!(r.stdout.contains("sequence 2"), "{}", r.stdout);
    assert_eq!(r.stderr, "", "nothing on stderr, and never the passphrase");
    let r = ok(d, &["verify"], &[]);
    assert!(r.stdout.contains("verify OK"), "{}", r.stdout);
    // `keys show` of an encrypted .key decrypts it (the .pub needs nothing).
    let shown = ok(d, &["keys", "show", "keys/a.key", "--passphrase-file", "pass"], &[]).stdout;
    assert_eq!(shown, ok(d, &["keys", "show", "keys/a.pub"], &[]).stdout);
    // The library loader the node uses opens it too, and refuses it without a passphrase.
    let p = Passphrase::from_file(&d.join("pass")).unwrap();
    let key = keys::load_signing_key_with(&d.join("keys/a.key"), &p).unwrap();
    assert_eq!(key.verifying_key(), keys::load_verifying_key(&d.join("keys/a.pub")).unwrap());
    assert!(matches!(keys::load_signing_key(&d.join("keys/a.key")), Err(KeyError::NeedsPassphrase(_))));
    assert_eq!(format!("{p:?}"), "Passphrase(<hidden>)");
}

#[test]
fn a_wrong_or_missing_passphrase_is_refused_and_changes_nothing() {
    let tmp = setup();
    let d = tmp.path();
    ok(d, &["keys", "new", "a", "--passphrase-file", "pass"], &[]);
    ok(d, &["init", "--id", "keys-at-rest"], &[]);
    ok(
        d,
        &[
            "party",
            "add",
            "--id",
            "zh",
            "--name",
            "Z",
            "--role",
            "provider",
            "--key",
            "keys/a.key",
            "--passphrase-file",
            "pass",
        ],
        &[],
    );
    let journal = fs::read(d.join("l/journal")).unwrap();
    let note = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["note", "--text", "must not be recorded", "--as", "keys/a.key"];
        args.extend_from_slice(extra);
        let r = run(d, &args, env);
        assert_ne!(r.code, 0, "{args:?} succeeded");
        assert_eq!(fs::read(d.join("l/journal")).unwrap(), journal, "{args:?} changed the ledger");
        r.stderr
    };
    let err = note(&["--passphrase-file", "wrong"], &[]);
    assert!(err.contains("cannot decrypt key file keys/a.key: wrong passphrase"), "{err}");
    let err = note(&["--passphrase-env", "VEREFFEN_PASS"], &[("VEREFFEN_PASS", "nope, wrong")]);
    assert!(err.contains("cannot decrypt key file keys/a.key: wrong passphrase"), "{err}");
    let err = note(&["--passphrase-env", "VEREFFEN_PASS"], &[]);
    assert!(err.contains("environment variable VEREFFEN_PASS") && err.contains("not set"), "{err}");
    let err = note(&["--passphrase-file", "no-such-file"], &[]);
    assert!(err.contains("passphrase file no-such-file"), "{err}");
    // No flag and no terminal: say which flags to use.
    let err = note(&[], &[]);
    assert!(
        err.contains("keys/a.key is encrypted")
            && err.contains("--passphrase-file")
            && err.contains("--passphrase-env"),
        "{err}"
    );
    let err = note(&["--passphrase-file", "pass", "--passphrase-env", "VEREFFEN_PASS"], &[("VEREFFEN_PASS", PASS)]);
    assert!(err.contains("not both"), "{err}");
    // Creating an encrypted key without a passphrase source writes nothing.
    let r = run(d, &["keys", "new", "e", "--encrypt"], &[]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--passphrase-file"), "{}", r.stderr);
    assert!(!d.join("keys/e.key").exists() && !d.join("keys/e.pub").exists());
    // A too short passphrase is not used to encrypt.
    fs::write(d.join("short"), "short\n").unwrap();
    let r = run(d, &["keys", "new", "f", "--passphrase-file", "short"], &[]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("at least 8 bytes"), "{}", r.stderr);
    assert!(!d.join("keys/f.key").exists());
}

#[test]
fn unencrypted_keys_keep_working_with_a_warning() {
    let tmp = setup();
    let d = tmp.path();
    ok(d, &["keys", "new", "plain"], &[]);
    ok(d, &["init", "--id", "keys-at-rest"], &[]);
    let r = ok(d, &["party", "add", "--id", "zh", "--name", "Z", "--role", "provider", "--key", "keys/plain.key"], &[]);
    assert_eq!(
        r.stderr, "warning: keys/plain.key is not encrypted; `vereffen keys encrypt keys/plain.key` encrypts it\n",
        "one line"
    );
    // A passphrase flag does not matter to a plain key.
    let r = ok(d, &["note", "--text", "x", "--as", "keys/plain.key", "--passphrase-file", "pass"], &[]);
    assert!(r.stderr.contains("is not encrypted"), "{}", r.stderr);
}

/// `keys encrypt` turns a plain key into an encrypted one in place; the key
/// is the same, so (ed25519 being deterministic) the entries it signs are
/// byte for byte the same.
#[test]
fn keys_encrypt_keeps_the_key_and_its_signatures() {
    let tmp = setup();
    let d = tmp.path();
    ok(d, &["keys", "new", "k"], &[]);
    let public_before = fs::read(d.join("keys/k.pub")).unwrap();
    let sign_all = |ledger: &str, extra: &[&str]| -> Vec<u8> {
        let mut args = vec!["--ledger", ledger, "init", "--id", "same-ledger"];
        ok(d, &args, &[]);
        args = vec![
            "--ledger",
            ledger,
            "party",
            "add",
            "--id",
            "zh",
            "--name",
            "Z",
            "--role",
            "provider",
            "--key",
            "keys/k.key",
        ];
        args.extend_from_slice(extra);
        ok(d, &args, &[]);
        args = vec!["--ledger", ledger, "note", "--text", "the same words", "--as", "keys/k.key"];
        args.extend_from_slice(extra);
        ok(d, &args, &[]);
        let bundle = format!("{ledger}.bundle");
        ok(d, &["--ledger", ledger, "export", "--out", &bundle], &[]);
        fs::read(d.join(bundle)).unwrap()
    };
    let plain_bundle = sign_all("l1", &[]);
    let r = ok(d, &["keys", "encrypt", "keys/k.key", "--passphrase-file", "pass"], &[]);
    assert!(r.stdout.starts_with("encrypted keys/k.key"), "{}", r.stdout);
    assert!(is_encrypted_pem(&d.join("keys/k.key")));
    assert_eq!(fs::read(d.join("keys/k.pub")).unwrap(), public_before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(d.join("keys/k.key")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let names: Vec<_> = fs::read_dir(d.join("keys")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
    let encrypted_bundle = sign_all("l2", &["--passphrase-file", "pass"]);
    assert_eq!(plain_bundle, encrypted_bundle, "the same entries, ids and signatures");
    // Encrypting again is refused and changes nothing.
    let before = fs::read(d.join("keys/k.key")).unwrap();
    let r = run(d, &["keys", "encrypt", "keys/k.key", "--passphrase-file", "pass"], &[]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("keys/k.key is already encrypted"), "{}", r.stderr);
    assert_eq!(fs::read(d.join("keys/k.key")).unwrap(), before);
}

#[test]
fn the_encrypted_pem_hides_the_key_and_names_its_parameters() {
    let tmp = setup();
    let d = tmp.path();
    ok(d, &["keys", "new", "a", "--passphrase-file", "pass"], &[]);
    let path = d.join("keys/a.key");
    let key = keys::load_signing_key_with(&path, &Passphrase::from_file(&d.join("pass")).unwrap()).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = data_encoding::BASE64.decode(b64.as_bytes()).unwrap();
    let seed = key.to_bytes();
    assert!(!der.windows(32).any(|w| w == seed), "the DER holds the raw private key");
    assert!(!text.contains(&data_encoding::BASE64.encode(&seed)[..40]));
    let plain = key.to_pkcs8_der().unwrap();
    assert!(!der.windows(plain.as_bytes().len()).any(|w| w == plain.as_bytes()));
    // The parameters docs/FORMAT.md names: PBES2, scrypt N = 2^17, r = 8, p = 1, AES-256-CBC.
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).unwrap();
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else { panic!("PBES2") };
    let scrypt = params.kdf.scrypt().expect("scrypt");
    assert_eq!(
        (scrypt.cost_parameter, scrypt.block_size, scrypt.parallelization),
        (1 << keys::SCRYPT_LOG_N, keys::SCRYPT_R as u16, keys::SCRYPT_P as u16)
    );
    const { assert!(keys::SCRYPT_LOG_N >= 15 && keys::SCRYPT_R >= 8 && keys::SCRYPT_P >= 1) };
    assert_eq!(scrypt.salt.len(), 16);
    assert!(matches!(params.encryption, pbes2::EncryptionScheme::Aes256Cbc { .. }));
    // Two encryptions of one key differ (random salt and IV).
    let again = keys::encrypted_private_key_pem(&key, &Passphrase::from_file(&d.join("pass")).unwrap(), &path).unwrap();
    assert_ne!(again.as_str(), text);
}

/// Hostile encrypted files: a cost that would take gigabytes, a broken
/// cost, PBKDF2 instead of scrypt, garbage: refused with the reason before
/// any key derivation, never a panic.
#[test]
fn hostile_encrypted_key_files_are_refused_before_any_work() {
    let tmp = setup();
    let d = tmp.path();
    let salt = [1u8; 16];
    let iv = [2u8; 16];
    let data = [0u8; 64];
    let write = |name: &str, kdf: pbes2::Kdf<'_>| {
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: pkcs8::pkcs5::EncryptionScheme::Pbes2(pbes2::Parameters {
                kdf,
                encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
            }),
            encrypted_data: &data,
        };
        let der = info.to_der().unwrap();
        let pem = pkcs8::der::pem::encode_string("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF, &der).unwrap();
        let path = d.join(name);
        fs::write(&path, pem).unwrap();
        path
    };
    let scrypt = |n: u64, r: u16, p: u16| {
        pbes2::Kdf::Scrypt(pbes2::ScryptParams {
            salt: &salt,
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: None,
        })
    };
    let pass = Passphrase::from_file(&d.join("pass")).unwrap();
    for (name, kdf, expect) in [
        ("huge.key", scrypt(1 << 30, 8, 1), "MiB"),
        ("zero.key", scrypt(0, 8, 1), "invalid"),
        ("odd.key", scrypt(3, 8, 1), "invalid"),
        ("parallel.key", scrypt(1 << 10, 8, 64), "p > 4"),
        ("wide.key", scrypt(1 << 20, 4096, 1), "MiB"),
        (
            "pbkdf2.key",
            pbes2::Kdf::Pbkdf2(pbes2::Pbkdf2Params::hmac_with_sha256(100_000_000, &salt).unwrap()),
            "not scrypt",
        ),
    ] {
        let path = write(name, kdf);
        let err = keys::load_signing_key_with(&path, &pass).unwrap_err();
        assert!(matches!(err, KeyError::Encryption { .. }), "{name}: {err}");
        assert!(err.to_string().contains(expect) && err.to_string().contains(name), "{name}: {err}");
        let r = run(d, &["keys", "show", name, "--passphrase-file", "pass"], &[]);
        assert_ne!(r.code, 0, "{name}");
    }
    // Within the limits but not our key: a wrong-passphrase refusal, not a crash.
    let path = write("small.key", scrypt(1 << 10, 8, 1));
    assert!(matches!(keys::read_private_key_file(&path), Ok(PrivateKeyFile::Encrypted(_))));
    assert!(matches!(keys::load_signing_key_with(&path, &pass), Err(KeyError::WrongPassphrase(_))));
    fs::write(
        d.join("garbage.key"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    assert!(matches!(keys::read_private_key_file(&d.join("garbage.key")), Err(KeyError::NotAKey { .. })));
    // Passphrase sources refuse empty and oversized passphrases.
    fs::write(d.join("empty"), "\n").unwrap();
    assert!(Passphrase::from_file(&d.join("empty")).is_err());
    fs::write(d.join("big"), vec![b'x'; keys::MAX_PASSPHRASE_BYTES + 1]).unwrap();
    assert!(Passphrase::from_file(&d.join("big")).is_err());
    assert!(Passphrase::new(Vec::new(), "test").is_err());
}
