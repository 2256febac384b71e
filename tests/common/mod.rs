//! Shared test helpers: demo keys and ledgers with a realistic mix of entries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use vereffen::ledger::entry::{Author, Body, Entry, FORMAT_VERSION};
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::Ledger;

pub const LEDGER_ID: &str = "test-copd";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A demo key from keys/.
pub fn demo_key(name: &str) -> SigningKey {
    keys::load_signing_key(&repo().join("keys").join(format!("demo-{name}.key"))).expect("demo key")
}

pub fn body(party: &str, key: &SigningKey, kind: &str, refs: Vec<String>, payload: serde_json::Value) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: LEDGER_ID.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2027-01-15T09:30:00Z".into(),
        refs,
        payload,
    }
}

pub fn register(party: &str, name: &str, role: Role, key: &SigningKey) -> Entry {
    Entry::sign(
        body(party, key, registry::KIND_REGISTER, vec![], registry::register_payload(name, role, &key.verifying_key())),
        &[key],
    )
    .unwrap()
}

pub fn note(party: &str, key: &SigningKey, text: &str, refs: Vec<String>) -> Entry {
    Entry::sign(
        body(
            party,
            key,
            vereffen::domain::note::KIND_NOTE,
            refs,
            vereffen::domain::note::payload(text, Some("copd-achterhoek")),
        ),
        &[key],
    )
    .unwrap()
}

/// A history with registrations, notes with references, a rotation that
/// retires a key, and a revocation: every rule of the registry is exercised.
pub fn history() -> Vec<Entry> {
    let zh = demo_key("ziekenhuis");
    let tz = demo_key("thuiszorg");
    let vz = demo_key("verzekeraar");
    let zh2 = SigningKey::from_bytes(&[7u8; 32]);
    let tz2 = SigningKey::from_bytes(&[9u8; 32]);
    let mut out = vec![
        register("ziekenhuis", "Ziekenhuis Oost-Achterhoek", Role::Provider, &zh),
        register("thuiszorg", "Thuiszorg Berkelland", Role::Provider, &tz),
        register("verzekeraar", "Zorgverzekeraar Noord-Oost", Role::Payer, &vz),
    ];
    let n1 = note("ziekenhuis", &zh, "kick-off of the COPD programme", vec![]);
    let n2 = note("verzekeraar", &vz, "agreed: baseline from 2025 claims", vec![n1.id().to_hex()]);
    out.push(n1);
    out.push(n2.clone());
    out.push(
        Entry::sign(
            body(
                "ziekenhuis",
                &zh,
                registry::KIND_ROTATE,
                vec![],
                registry::rotate_payload(&zh2.verifying_key(), true),
            ),
            &[&zh, &zh2],
        )
        .unwrap(),
    );
    out.push(note("ziekenhuis", &zh2, "signed with the new key", vec![n2.id().to_hex()]));
    out.push(
        Entry::sign(
            body(
                "thuiszorg",
                &tz,
                registry::KIND_ROTATE,
                vec![],
                registry::rotate_payload(&tz2.verifying_key(), false),
            ),
            &[&tz, &tz2],
        )
        .unwrap(),
    );
    out.push(note("thuiszorg", &tz, "last note with the old key", vec![]));
    out.push(
        Entry::sign(
            body(
                "thuiszorg",
                &tz2,
                registry::KIND_REVOKE,
                vec![],
                registry::revoke_payload(KeyId::of(&tz.verifying_key()), "laptop lost"),
            ),
            &[&tz2],
        )
        .unwrap(),
    );
    out.push(note("thuiszorg", &tz2, "after the revocation", vec![]));
    out
}

/// A fresh ledger in `dir` holding `entries`, appended one by one.
pub fn ledger_with(dir: &Path, entries: &[Entry]) -> Ledger {
    let mut l = Ledger::init(dir, LEDGER_ID, &vereffen::rules::ALL).unwrap();
    for e in entries {
        l.append(std::slice::from_ref(e)).unwrap();
    }
    l
}

/// Copies a directory tree (for tamper tests on copies of one ledger).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else if item.file_name() != "lock" {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// Runs the `vereffen` binary in `cwd` with `VEREFFEN_LEDGER=l` (a
/// `--ledger` argument overrides it) and a fixed claimed time; returns the
/// exit code, stdout and stderr.
pub fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vereffen"))
        .args(args)
        .current_dir(cwd)
        .env("VEREFFEN_LEDGER", "l")
        .env("VEREFFEN_TIME", "2027-01-15T09:30:00Z")
        .output()
        .expect("run vereffen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(cwd: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(cwd, args);
    assert_eq!(code, 0, "vereffen {args:?}:\n{out}\n{err}");
    out
}

/// Runs a command that must fail with `expect` in its stderr and leave the
/// journal of ledger `l` byte for byte unchanged.
pub fn refused(cwd: &Path, args: &[&str], expect: &str) {
    let before = std::fs::read(cwd.join("l/journal")).ok();
    let (code, out, err) = run(cwd, args);
    assert_ne!(code, 0, "vereffen {args:?} should fail:\n{out}");
    assert!(err.contains(expect), "vereffen {args:?}: expected {expect:?} in:\n{err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(std::fs::read(cwd.join("l/journal")).ok(), before, "vereffen {args:?} changed the ledger");
}

/// The path of a demo key file.
pub fn key(party: &str) -> String {
    repo().join("keys").join(format!("demo-{party}.key")).display().to_string()
}

/// Reads `UPDATE_GOLDEN`: only the exact value `1` asks for golden files
/// to be rewritten; unset means compare. Any other value (`0`, `true`, empty)
/// is an error, so that a stray setting can never rewrite the files and pass.
pub fn golden_update_requested(value: Option<&std::ffi::OsStr>) -> Result<bool, String> {
    match value {
        None => Ok(false),
        Some(v) if v == "1" => Ok(true),
        Some(v) => Err(format!(
            "UPDATE_GOLDEN={v:?} is not understood: set UPDATE_GOLDEN=1 to regenerate golden files, or unset it to compare"
        )),
    }
}

/// True when the golden files are to be rewritten (`UPDATE_GOLDEN=1`);
/// panics on any other value of `UPDATE_GOLDEN`.
pub fn update_golden() -> bool {
    golden_update_requested(std::env::var_os("UPDATE_GOLDEN").as_deref()).unwrap_or_else(|e| panic!("{e}"))
}

/// Files under `dir` (relative paths with `/`, sorted), skipping the
/// top-level subdirectories named in `skip`.
pub fn files_under(dir: &Path, skip: &[&str]) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, skip: &[&str], out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                if !skip.contains(&rel.as_str()) {
                    walk(base, &path, skip, out);
                }
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, skip, &mut out);
    out.sort();
    out
}

/// Golden files on disk that no test produces: each is named in the result,
/// so a renamed contract or dropped year cannot leave stale files unnoticed.
pub fn orphan_goldens(on_disk: &[String], produced: &[String]) -> Vec<String> {
    on_disk
        .iter()
        .filter(|f| !produced.contains(f))
        .map(|f| format!("{f} is an orphaned golden file: no test produces it; delete it"))
        .collect()
}

/// The COPD example contract file, relative to the repository.
pub const COPD_FILE: &str = "contracts/copd-telemonitoring-shared-savings.toml";
/// The COPD example contract's id.
pub const COPD_ID: &str = "copd-telemonitoring-oost-achterhoek";

/// A copy (through the CLI, in a new temporary directory) of ledger
/// `ledger_id` with the four demo parties registered and the COPD example
/// contract proposed by the hospital and accepted by the other signatories:
/// in force, ready for figures.
pub fn copd_in_force_cli(ledger_id: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["init", "--id", ledger_id]);
    for (p, role) in [
        ("ziekenhuis", "provider"),
        ("thuiszorg", "provider"),
        ("verzekeraar", "payer"),
        ("vektis", "measurement_source"),
    ] {
        add_party(d, p, p, role, &key(p));
    }
    let copd = repo().join(COPD_FILE).display().to_string();
    ok(d, &["contract", "propose", &copd, "--as", &key("ziekenhuis")]);
    let v: serde_json::Value = serde_json::from_str(&ok(d, &["contract", "check", &copd, "--json"])).unwrap();
    let version = v[0]["version"].as_str().unwrap().to_string();
    for p in ["thuiszorg", "verzekeraar"] {
        ok(d, &["contract", "accept", COPD_ID, "--version", &version, "--as", &key(p)]);
    }
    tmp
}

/// `vereffen party add` through the CLI in the copy at `d` (which must succeed).
pub fn add_party(d: &Path, id: &str, name: &str, role: &str, key_file: &str) -> String {
    ok(d, &["party", "add", "--id", id, "--name", name, "--role", role, "--key", key_file])
}

/// The cells of one worksheet of an XLSX file: (cell reference, text) with
/// shared strings resolved; numbers as written.
pub fn xlsx_cells(xlsx: &[u8], sheet: u32) -> Vec<(String, String)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("an XLSX is a zip file");
    let mut read = |name: &str| {
        let mut s = String::new();
        if let Ok(mut f) = zip.by_name(name) {
            f.read_to_string(&mut s).unwrap();
        }
        s
    };
    let shared_xml = read("xl/sharedStrings.xml");
    let sheet_xml = read(&format!("xl/worksheets/sheet{sheet}.xml"));
    let shared: Vec<String> = shared_xml
        .split("<si>")
        .skip(1)
        .map(|si| {
            let si = si.split("</si>").next().unwrap();
            si.split("<t")
                .skip(1)
                .filter_map(|t| t.split_once('>').map(|(_, r)| r.split("</t>").next().unwrap()))
                .collect()
        })
        .collect();
    let mut cells = Vec::new();
    for c in sheet_xml.split("<c r=\"").skip(1) {
        let (r, rest) = c.split_once('"').unwrap();
        let (attrs, body) = rest.split_once('>').unwrap();
        if attrs.ends_with('/') {
            continue;
        }
        let Some(v) = body.split("</c>").next().unwrap().split("<v>").nth(1).map(|v| v.split("</v>").next().unwrap())
        else {
            continue;
        };
        let text = if attrs.contains("t=\"s\"") { shared[v.parse::<usize>().unwrap()].clone() } else { v.to_string() };
        cells.push((r.to_string(), text));
    }
    cells
}

/// Builds a ledger in `d` (id `PREFIX-<contract id>`) with the contract in
/// `file` proposed by its first signatory and accepted by the others, and
/// every figure of `figures` (one CSV per source party, named after it)
/// submitted and attested by each party that must act; returns the contract.
pub fn agreed_ledger(d: &Path, prefix: &str, file: &Path, figures: &Path) -> vereffen::domain::contract::Contract {
    let c = vereffen::domain::contract::check_file(file).expect("contract is valid");
    ok(d, &["init", "--id", &format!("{prefix}-{}", c.id)]);
    for p in &c.parties {
        ok(d, &["party", "add", "--id", &p.id, "--name", &p.name, "--role", &p.role.to_string(), "--key", &key(&p.id)]);
    }
    let signatories: Vec<&str> = c.parties.iter().filter(|p| p.signatory).map(|p| p.id.as_str()).collect();
    ok(d, &["contract", "propose", file.to_str().unwrap(), "--as", &key(signatories[0])]);
    let version = c.version_hash();
    for p in &signatories[1..] {
        ok(d, &["contract", "accept", &c.id, "--version", &version, "--as", &key(p)]);
    }
    let mut files: Vec<_> = std::fs::read_dir(figures).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    for f in files {
        let source = f.file_stem().unwrap().to_str().unwrap().to_string();
        ok(d, &["measure", "submit", &c.id, "--file", f.to_str().unwrap(), "--as", &key(&source)]);
    }
    let pending: serde_json::Value =
        serde_json::from_str(&ok(d, &["--json", "measure", "list", &c.id, "--state", "pending"])).unwrap();
    for m in pending.as_array().unwrap() {
        for p in m["to_act"].as_array().unwrap() {
            ok(d, &["measure", "attest", "--yes", m["id"].as_str().unwrap(), "--as", &key(p.as_str().unwrap())]);
        }
    }
    c
}

/// Compares `actual` with the golden file `tests/<folder>/<name>` (or writes
/// it under `UPDATE_GOLDEN=1`), recording a missing or differing file in
/// `mismatches` so one run lists every golden that differs.
pub fn check_golden_in(folder: &str, name: &str, actual: &[u8], mismatches: &mut Vec<String>) {
    let path = repo().join("tests").join(folder).join(name);
    if update_golden() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    match std::fs::read(&path) {
        Ok(expected) if expected == actual => {}
        Ok(_) => mismatches.push(format!("{name} differs from tests/{folder}/{name}")),
        Err(_) => mismatches.push(format!("tests/{folder}/{name} is missing (UPDATE_GOLDEN=1 generates it)")),
    }
}
