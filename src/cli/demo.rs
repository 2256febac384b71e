//! `vereffen demo`: the life of a contract on two parties' copies, narrated.
//!
//! It uses the demo keys committed in `keys/` (embedded at build time, so the
//! demo runs from any directory). They are public demo keys: never use them
//! for a real contract.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;

use vereffen::bundle;
use vereffen::entry::Entry;
use vereffen::keys::{self, KeyId};
use vereffen::ledger::Ledger;
use vereffen::registry::{self, Role};
use vereffen::verify;

use super::new_body;

/// The demo ledger id.
pub const DEMO_LEDGER: &str = "demo-copd-achterhoek";

/// A demo party: id, display name, role, private key PEM.
pub struct DemoParty {
    pub id: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub pem: &'static str,
}

/// The demo parties, with their keys from `keys/`.
pub const PARTIES: &[DemoParty] = &[
    DemoParty {
        id: "ziekenhuis",
        name: "Ziekenhuis Oost-Achterhoek",
        role: Role::Provider,
        pem: include_str!("../../keys/demo-ziekenhuis.key"),
    },
    DemoParty {
        id: "thuiszorg",
        name: "Thuiszorg Berkelland",
        role: Role::Provider,
        pem: include_str!("../../keys/demo-thuiszorg.key"),
    },
    DemoParty {
        id: "verzekeraar",
        name: "Zorgverzekeraar Noord-Oost",
        role: Role::Payer,
        pem: include_str!("../../keys/demo-verzekeraar.key"),
    },
    DemoParty {
        id: "accountant",
        name: "Accountantskantoor De Telling",
        role: Role::Auditor,
        pem: include_str!("../../keys/demo-accountant.key"),
    },
];

fn demo_key(p: &DemoParty) -> Result<SigningKey> {
    Ok(keys::signing_key_from_pem(p.pem, Path::new(&format!("keys/demo-{}.key", p.id)))?)
}

fn step(n: u32, text: &str) {
    println!("\n== {n}. {text}");
}

pub fn run(dir: Option<&Path>) -> Result<i32> {
    let tmp;
    let base = match dir {
        Some(d) => {
            if d.exists() && std::fs::read_dir(d)?.next().is_some() {
                bail!("{} is not empty: the demo needs a new or empty directory", d.display());
            }
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.to_path_buf()
        }
        None => {
            tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
            tmp.path().to_path_buf()
        }
    };
    println!("vereffen demo: the life of a contract on two parties' copies of one ledger");
    println!("working in {} (demo keys from keys/: public test keys, never for real contracts)", base.display());

    step(1, "The hospital creates its copy of the ledger");
    let hospital_dir = base.join("ziekenhuis-copy");
    let mut hospital = Ledger::init(&hospital_dir, DEMO_LEDGER)?;
    println!("created ledger {DEMO_LEDGER} in {}", hospital_dir.display());

    step(2, "The parties register, each signing with its own key (proof of possession)");
    let mut entries = Vec::new();
    for p in PARTIES {
        let key = demo_key(p)?;
        let body = new_body(
            &hospital,
            p.id,
            &key,
            registry::KIND_REGISTER,
            vec![],
            registry::register_payload(p.name, p.role, &key.verifying_key()),
        );
        entries.push(Entry::sign(body, &[&key])?);
        println!(
            "  {:<12} {:<19} {:<32} key {}",
            p.id,
            p.role.as_str(),
            p.name,
            KeyId::of(&key.verifying_key()).fingerprint()
        );
    }
    let seqs = hospital.append(&entries)?;
    println!("appended {} entries in one durable batch (sequences {}..={})", seqs.len(), seqs[0], seqs[seqs.len() - 1]);

    step(3, "The hospital exports its entries; the insurer imports them into its own copy");
    let bundle_path = base.join("ziekenhuis-export.jsonl");
    let n = bundle::export(&hospital, &bundle_path, 1)?;
    println!("exported {n} entries to {}", bundle_path.display());
    let insurer_dir = base.join("verzekeraar-copy");
    let mut insurer = Ledger::init(&insurer_dir, DEMO_LEDGER)?;
    let report = bundle::import(&mut insurer, &bundle_path)?;
    println!(
        "insurer's copy: {} added, {} already present (every signature checked before anything was appended)",
        report.added, report.already_present
    );
    let again = bundle::import(&mut insurer, &bundle_path)?;
    println!("importing the same bundle again: {} added, {} already present", again.added, again.already_present);

    step(4, "Both copies verify, and agree on the set of signed facts");
    let mut digests = Vec::new();
    for (name, ledger) in [("ziekenhuis", &hospital), ("verzekeraar", &insurer)] {
        let s = verify::verify_journal(ledger.journal_path(), |_| {})
            .map_err(|f| anyhow::anyhow!("verify of the {name} copy failed at {f}"))?;
        println!(
            "{name:<12} verify OK: {} entries, {} signatures, {} parties, set digest {}",
            s.entries,
            s.signatures,
            s.registry.parties().count(),
            data_encoding::HEXLOWER.encode(&s.set_digest)
        );
        digests.push(s.set_digest);
    }
    if digests[0] != digests[1] {
        bail!("the two copies hold different sets of entries");
    }
    println!("the copies hold the same signed facts: identical set digests");
    hospital.close()?;
    insurer.close()?;
    Ok(0)
}
