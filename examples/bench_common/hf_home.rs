//! Node homes of N small heart-failure ledgers between a hospital and an
//! insurer (26 entries each, built with the library, no CLI), shared by
//! the inbox and web benches.

use std::path::Path;

use ed25519_dalek::SigningKey;
use vereffen::domain::measurement as meas;
use vereffen::domain::negotiation as neg;
use vereffen::domain::settlement::cosign::{self, ContractView};
use vereffen::ledger::entry::{Author, Body, Entry, EntryId, FORMAT_VERSION};
use vereffen::ledger::head::{self, Head};
use vereffen::ledger::journal::Journal;
use vereffen::ledger::keys::KeyId;
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::JOURNAL_FILE;

/// The contract every ledger holds.
pub const CONTRACT_FILE: &str = "contracts/heart-failure-telemonitoring-p4p.toml";

fn body(
    ledger: &str,
    party: &str,
    key: &SigningKey,
    kind: &str,
    refs: Vec<String>,
    payload: serde_json::Value,
) -> Body {
    Body {
        v: FORMAT_VERSION,
        ledger: ledger.into(),
        kind: kind.into(),
        author: Author { party: party.into(), key: KeyId::of(&key.verifying_key()).to_hex() },
        time: "2026-11-22T12:00:00Z".into(),
        refs,
        payload,
    }
}

/// A signed entry of `party`.
pub fn sign(ledger: &str, party: &str, key: &SigningKey, kind: &str, refs: Vec<String>, p: serde_json::Value) -> Entry {
    Entry::sign(body(ledger, party, key, kind, refs, p), &[key]).expect("sign")
}

/// The 26 entries of one ledger: the contract proposed and accepted, the
/// twelve figures of 2026-2028 submitted, those of 2026 and 2027 attested,
/// 2026 co-signed.
pub fn entries(
    ledger: &str,
    zh: &SigningKey,
    vz: &SigningKey,
    contract: &vereffen::domain::contract::Contract,
) -> Vec<Entry> {
    let reg = |party: &str, role, key: &SigningKey| {
        sign(
            ledger,
            party,
            key,
            registry::KIND_REGISTER,
            vec![],
            registry::register_payload(party, role, &key.verifying_key()),
        )
    };
    let mut out = vec![reg("ziekenhuis", Role::Provider, zh), reg("verzekeraar", Role::Payer, vz)];
    let offer = neg::offer_payload(contract, None, None, None);
    let version = offer["version"].as_str().expect("version").to_string();
    let propose = sign(ledger, "ziekenhuis", zh, neg::KIND_PROPOSE, vec![], offer);
    let pid = propose.id().to_hex();
    let accept = sign(
        ledger,
        "verzekeraar",
        vz,
        neg::KIND_ACCEPT,
        vec![pid.clone()],
        neg::decision_payload(&contract.id, &version, None, None),
    );
    out.extend([propose, accept]);
    let figures: [(&str, &str, [&str; 3]); 4] = [
        ("ziekenhuis", "hf-patients", ["150", "165", "172"]),
        ("verzekeraar", "bed-days", ["3.4", "2.6", "1.9"]),
        ("verzekeraar", "admissions", ["1.25", "1.05", "0.98"]),
        ("verzekeraar", "hf-revenue", ["1790000.00", "1905000.00", "1880000.00"]),
    ];
    let mut attests = Vec::new();
    for (party, indicator, values) in figures {
        let (key, other, okey) = if party == "ziekenhuis" { (zh, "verzekeraar", vz) } else { (vz, "ziekenhuis", zh) };
        for (i, v) in values.iter().enumerate() {
            let year = (2026 + i).to_string();
            let value: rust_decimal::Decimal = v.parse().expect("value");
            let p = meas::figure_payload(&contract.id, &version, indicator, &year, value, None, None, None);
            let m = sign(ledger, party, key, meas::KIND_SUBMIT, vec![pid.clone()], p);
            if i < 2 {
                let mid = m.id().to_hex();
                let r = meas::response_payload(&contract.id, &mid, None);
                attests.push(sign(ledger, other, okey, meas::KIND_ATTEST, vec![mid], r));
            }
            out.push(m);
        }
    }
    out.extend(attests);
    // Co-sign 2026 from the statement these entries give.
    let by_id: std::collections::HashMap<EntryId, Entry> = out.iter().map(|e| (e.id(), e.clone())).collect();
    let lookup = |id: &EntryId| by_id.get(id).cloned();
    let view = ContractView::new(&contract.id, &out, &lookup);
    let computed = view.compute(2026, false).expect("2026 computes");
    let (payload, refs) = cosign::sign_payload(&computed, None).expect("payload");
    for (party, key) in [("ziekenhuis", zh), ("verzekeraar", vz)] {
        out.push(sign(ledger, party, key, cosign::KIND_SIGN, refs.clone(), payload.clone()));
    }
    out
}

/// Writes a copy of `ledger` holding `entries` into `dir`: the journal in
/// one batch and its head (the index is built by the first `Ledger::open`).
pub fn write_copy(dir: &Path, ledger: &str, entries: &[Entry]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut j = Journal::create(&dir.join(JOURNAL_FILE), ledger).expect("journal");
    let wire: Vec<Vec<u8>> = entries.iter().map(|e| e.encode()).collect();
    j.append(&wire).expect("append");
    head::write(dir, &Head { ledger: ledger.to_string(), at: j.resume_point() }).expect("head");
}
