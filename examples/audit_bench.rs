//! Audit benchmark: checkpoints and proofs on a large journal.
//!
//! ```text
//! cargo run --release --example audit_bench -- --entries 1000000 [--proofs 1000]
//! ```
//!
//! Builds a journal of N signed note entries (as `ledger_bench` does), then
//! measures, on a fresh open: creating and recording a signed checkpoint,
//! loading the leaf hashes from the index, one proof made the way `audit
//! prove` makes it (`O(n)` hashes), building a [`merkle::ProofTree`] once,
//! then inclusion and consistency proofs per second from it (each proof
//! built, bundled with its signed checkpoint, parsed and verified offline),
//! and the proof sizes in bytes (binary path and whole text bundle). Prints
//! one `name=value` line per figure.

use std::time::Instant;

#[path = "bench_common/mod.rs"]
#[allow(dead_code)] // each bench uses a part of the shared helpers
mod bench_common;
use bench_common::{arg, body, registered_ledger};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;
use vereffen::audit::checkpoint::{Checkpoint, SignedNote};
use vereffen::audit::{self, ConsistencyBundle, InclusionBundle, ProofBundle};
use vereffen::ledger::entry::Entry;
use vereffen::ledger::merkle;
use vereffen::ledger::Ledger;

/// Signs and records a checkpoint of the current tree; returns the note.
fn checkpoint(ledger: &mut Ledger, key: &ed25519_dalek::SigningKey) -> SignedNote {
    let tree = ledger.merkle_tree();
    let origin = audit::origin(ledger.id(), "ziekenhuis");
    let cp = Checkpoint::new(&origin, tree.size(), tree.root()).expect("checkpoint");
    let note = SignedNote::sign(cp, &audit::key_name("ziekenhuis", &key.verifying_key()), key).expect("sign");
    let entry = Entry::sign(body(audit::KIND_CHECKPOINT, key, audit::note_payload(&note)), &[key]).expect("entry");
    ledger.append(&[entry]).expect("record checkpoint");
    note
}

fn main() {
    let n = arg("--entries", 1_000_000);
    let proofs = arg("--proofs", 1000).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger");
    let (mut ledger, key) = registered_ledger(&path);
    let t = Instant::now();
    for start in (0..n).step_by(100_000) {
        let entries: Vec<Entry> = (start..(start + 100_000).min(n))
            .into_par_iter()
            .map(|i| {
                let text = format!("measurement note {i}: bed-days 1.63 per patient, admissions 0.94 per patient");
                let payload = vereffen::domain::note::payload(&text, Some("copd-achterhoek"));
                Entry::sign(body(vereffen::domain::note::KIND_NOTE, &key, payload), &[&key]).expect("sign")
            })
            .collect();
        for chunk in entries.chunks(5000) {
            ledger.append(chunk).expect("append");
        }
    }
    let build_s = t.elapsed().as_secs_f64();
    let old = checkpoint(&mut ledger, &key);
    let extra: Vec<Entry> = (0..1000)
        .map(|i| {
            let payload = vereffen::domain::note::payload(&format!("later note {i}"), None);
            Entry::sign(body(vereffen::domain::note::KIND_NOTE, &key, payload), &[&key]).expect("sign")
        })
        .collect();
    ledger.append(&extra).expect("append");
    ledger.close().expect("close");

    // Everything below starts from a fresh open, as the CLI does.
    let t = Instant::now();
    let mut ledger = Ledger::open(&path, &vereffen::rules::ALL).expect("open");
    let open_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let new = checkpoint(&mut ledger, &key);
    let checkpoint_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let leaves = ledger.index().leaf_hashes().expect("leaves");
    let leaves_s = t.elapsed().as_secs_f64();
    let keys = audit::keys_for(&[&new], ledger.registry()).expect("keys");
    let size = new.checkpoint.size();
    // One proof the way `audit prove` makes it: O(n) from the leaf hashes.
    let t = Instant::now();
    merkle::inclusion_proof(&leaves, size / 3, size).expect("proof");
    let one_shot_s = t.elapsed().as_secs_f64();
    // Many proofs: build the levels once, then O(log² n) per proof.
    let t = Instant::now();
    let tree = merkle::ProofTree::new(leaves.clone());
    let tree_s = t.elapsed().as_secs_f64();

    let mut inclusion_bytes = (0, 0);
    // Timed loop: proof generation plus bundle and offline verification,
    // with the entry read by id through the index as `audit prove` does.
    let ids: Vec<_> = ledger
        .index()
        .by_kind(vereffen::domain::note::KIND_NOTE)
        .expect("ids")
        .into_iter()
        .step_by((n / proofs).max(1))
        .take(proofs)
        .collect();
    let t = Instant::now();
    for (seq, id) in &ids {
        let (_, entry) = ledger.get(id).expect("get").expect("present");
        let path = tree.inclusion_proof(seq - 1, size).expect("proof");
        inclusion_bytes.0 = inclusion_bytes.0.max(merkle::proof_to_bytes(&path).len());
        let bundle = ProofBundle::Inclusion(InclusionBundle {
            entry: entry.encode(),
            index: seq - 1,
            path,
            keys: keys.clone(),
            checkpoint: new.clone(),
        });
        let text = bundle.to_text();
        inclusion_bytes.1 = inclusion_bytes.1.max(text.len());
        let parsed = ProofBundle::parse(text.as_bytes()).expect("parse");
        audit::verify_bundle(&parsed, &[key.verifying_key()], None).expect("verify");
    }
    let inclusion_s = t.elapsed().as_secs_f64() / ids.len() as f64;

    let t = Instant::now();
    let mut consistency_bytes = (0, 0);
    for _ in 0..proofs {
        let path = tree.consistency_proof(old.checkpoint.size(), size).expect("proof");
        consistency_bytes.0 = merkle::proof_to_bytes(&path).len();
        let bundle = ProofBundle::Consistency(ConsistencyBundle {
            path,
            keys: keys.clone(),
            old: old.clone(),
            new: new.clone(),
        });
        let text = bundle.to_text();
        consistency_bytes.1 = text.len();
        let parsed = ProofBundle::parse(text.as_bytes()).expect("parse");
        audit::verify_bundle(&parsed, &[key.verifying_key()], None).expect("verify");
    }
    let consistency_s = t.elapsed().as_secs_f64() / proofs as f64;

    println!("entries={size}");
    println!("threads={}", rayon::current_num_threads());
    println!("build_journal_s={build_s:.1}");
    println!("open_s={open_s:.3}");
    println!("checkpoint_sign_and_record_ms={:.2}", checkpoint_s * 1000.0);
    println!("load_leaf_hashes_ms={:.1}", leaves_s * 1000.0);
    println!("one_shot_inclusion_proof_ms={:.1}", one_shot_s * 1000.0);
    println!("proof_tree_build_ms={:.1}", tree_s * 1000.0);
    println!("inclusion_proofs_per_s={:.1}", 1.0 / inclusion_s);
    println!("inclusion_path_bytes={}", inclusion_bytes.0);
    println!("inclusion_bundle_bytes={}", inclusion_bytes.1);
    println!("consistency_proofs_per_s={:.1}", 1.0 / consistency_s);
    println!("consistency_path_bytes={}", consistency_bytes.0);
    println!("consistency_bundle_bytes={}", consistency_bytes.1);
}
