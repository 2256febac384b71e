//! `vereffen demo`: the life of a contract on two parties' copies, narrated.
//!
//! It uses the demo keys committed in `keys/` (embedded at build time, so the
//! demo runs from any directory). They are public demo keys: never use them
//! for a real contract.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;

use vereffen::audit;
use vereffen::audit::checkpoint::{self, Checkpoint, SignedNote};
use vereffen::domain::contract;
use vereffen::domain::derive;
use vereffen::domain::measurement as meas;
use vereffen::domain::negotiation as neg;
use vereffen::domain::settlement::cosign;
use vereffen::ledger::bundle;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::keys::{self, KeyId};
use vereffen::ledger::registry::{self, Role};
use vereffen::ledger::verify;
use vereffen::ledger::Ledger;

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

/// The COPD example figures per measurement source, embedded like the contract.
const COPD_FIGURES: [(&str, &str); 3] = [
    ("ziekenhuis", include_str!("../../examples/measurements/copd-telemonitoring-oost-achterhoek/ziekenhuis.csv")),
    ("thuiszorg", include_str!("../../examples/measurements/copd-telemonitoring-oost-achterhoek/thuiszorg.csv")),
    ("verzekeraar", include_str!("../../examples/measurements/copd-telemonitoring-oost-achterhoek/verzekeraar.csv")),
];

/// The insurer's claims extract for 2027 and the rules that derive figures from it.
const COPD_CLAIMS_2027: &str = include_str!("../../examples/data/claims-copd-2027.csv");
const COPD_RULES: &str = include_str!("../../examples/data/rules-copd.toml");

/// The figures the demo derives from the claims extract instead of typing them in.
fn derived_here(indicator: &str, period: &str) -> bool {
    period == "2027" && (indicator == "care-cost" || indicator == "admissions")
}

/// The insurer derives its 2027 figures from its claims extract.
fn derive_copd(ledger: &Ledger, key: &SigningKey, id: &str, version: &str, version_entry: &str) -> Result<Vec<Entry>> {
    let rules = derive::Rules::parse("examples/data/rules-copd.toml", COPD_RULES)?;
    let d = derive::derive(&rules, COPD_CLAIMS_2027.as_bytes(), "examples/data/claims-copd-2027.csv", 2027)?;
    outln!(
        "  verzekeraar  derives 2027 figures from its claims extract: {} rows, {} inside the fence, file blake3 {}",
        d.rows_read,
        d.rows_counted,
        &d.file_hash[..16]
    );
    let mut out = Vec::new();
    for (i, m) in rules.metrics.iter().enumerate() {
        for f in d.figures(&rules, i, derive::Granularity::Year)? {
            outln!("               {} {} = {}", f.indicator, f.period, f.value);
            let derivation = meas::Derivation {
                file_hash: d.file_hash.clone(),
                rules_hash: d.rules_hash.clone(),
                rules: rules.canonical_json(),
                metric: format!("{:?}", m.measure).to_lowercase(),
                rows_read: d.rows_read,
                rows_counted: d.rows_counted,
            };
            let payload =
                meas::figure_payload(id, version, &f.indicator, &f.period, f.value, None, Some(derivation), None);
            out.push(sign(ledger, "verzekeraar", key, meas::KIND_SUBMIT, vec![version_entry.to_string()], payload)?);
        }
    }
    Ok(out)
}

/// The hospital recomputes the derived figures from its own copy of the extract.
fn recompute_copd(ledger: &Ledger, figures: &[Entry]) -> Result<()> {
    let lookup = |eid: &vereffen::ledger::entry::EntryId| ledger.get(eid).ok().flatten().map(|(_, e)| e);
    for f in figures {
        let (p, _, _) = meas::figure_of(f, &lookup)?;
        let Some(d) = p.derivation else { continue };
        let rules = derive::Rules::from_canonical(&d.rules)?;
        let again = derive::derive(&rules, COPD_CLAIMS_2027.as_bytes(), "ziekenhuis copy", 2027)?;
        let i = rules.metrics.iter().position(|m| m.indicator == p.indicator).unwrap_or(0);
        let value = again.figures(&rules, i, derive::Granularity::Year)?.remove(0).value;
        let verdict =
            if again.file_hash == d.file_hash && value.to_string() == p.value { "match" } else { "DIFFERENT" };
        outln!(
            "  ziekenhuis   recomputes {} {} from its own copy of the extract: {value} ({verdict})",
            p.indicator,
            p.period
        );
    }
    Ok(())
}

/// The COPD example contract, embedded so the demo runs from any directory.
const COPD_CONTRACT: &str = include_str!("../../contracts/copd-telemonitoring-shared-savings.toml");

fn short(h: &str) -> &str {
    &h[..12.min(h.len())]
}

fn party(id: &str) -> Result<SigningKey> {
    let p = PARTIES.iter().find(|p| p.id == id).ok_or_else(|| anyhow::anyhow!("no demo party {id}"))?;
    demo_key(p)
}

fn sign(
    ledger: &Ledger,
    party: &str,
    key: &SigningKey,
    kind: &str,
    refs: Vec<String>,
    payload: serde_json::Value,
) -> Result<Entry> {
    Ok(Entry::sign(new_body(ledger, party, key, kind, refs, payload), &[key])?)
}

/// `who` co-signs the statement of `year` its own copy computes.
fn cosign(ledger: &mut Ledger, who: &str, contract: &str, year: u16) -> Result<()> {
    let key = party(who)?;
    let view = super::settle_cmds::contract_view(ledger, contract)?;
    let c = view.compute(year, false).map_err(|e| anyhow::anyhow!("{year}: {e}"))?;
    let (payload, refs) = cosign::sign_payload(&c, None).map_err(|e| anyhow::anyhow!(e))?;
    let e = sign(ledger, who, &key, cosign::KIND_SIGN, refs, payload)?;
    ledger.append(std::slice::from_ref(&e))?;
    outln!("  {who:<12} signs the {year} statement {}", short(&c.hash));
    Ok(())
}

/// Sends everything `from` has to `to` as a bundle file, as parties do by mail or sftp.
fn exchange(from: &Ledger, to: &mut Ledger, path: &Path) -> Result<()> {
    bundle::export(from, path, 1)?;
    let r = bundle::import(to, path)?;
    outln!(
        "  exchanged {}: {} new entries, {} already present",
        path.file_name().and_then(|f| f.to_str()).unwrap_or("bundle"),
        r.added,
        r.already_present
    );
    Ok(())
}

fn step(n: u32, text: &str) -> Result<()> {
    outln!("\n== {n}. {text}");
    Ok(())
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
    outln!("vereffen demo: the life of a contract on two parties' copies of one ledger");
    outln!("working in {} (demo keys from keys/: public test keys, never for real contracts)", base.display());

    step(1, "The hospital creates its copy of the ledger")?;
    let hospital_dir = base.join("ziekenhuis-copy");
    let mut hospital = Ledger::init(&hospital_dir, DEMO_LEDGER, &vereffen::rules::ALL)?;
    outln!("created ledger {DEMO_LEDGER} in {}", hospital_dir.display());

    step(2, "The parties register, each signing with its own key (proof of possession)")?;
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
        outln!(
            "  {:<12} {:<19} {:<32} key {}",
            p.id,
            p.role.as_str(),
            p.name,
            KeyId::of(&key.verifying_key()).fingerprint()
        );
    }
    let seqs = hospital.append(&entries)?;
    outln!("appended {} entries in one durable batch (sequences {}..={})", seqs.len(), seqs[0], seqs[seqs.len() - 1]);

    step(3, "The hospital proposes the COPD telemonitoring contract")?;
    let proposal = contract::parse_str("contracts/copd-telemonitoring-shared-savings.toml", COPD_CONTRACT)
        .map_err(|d| anyhow::anyhow!("the demo contract is invalid: {}", d[0]))?;
    let id = proposal.id.clone();
    let zh = party("ziekenhuis")?;
    let e =
        sign(&hospital, "ziekenhuis", &zh, neg::KIND_PROPOSE, vec![], neg::offer_payload(&proposal, None, None, None))?;
    hospital.append(std::slice::from_ref(&e))?;
    outln!(
        "ziekenhuis proposes \"{}\" ({}-{}), version {}",
        proposal.title,
        proposal.term.first_year,
        proposal.term.last_year,
        short(&proposal.version_hash())
    );

    step(4, "The insurer imports the hospital's entries into its own copy and counters")?;
    let insurer_dir = base.join("verzekeraar-copy");
    let mut insurer = Ledger::init(&insurer_dir, DEMO_LEDGER, &vereffen::rules::ALL)?;
    exchange(&hospital, &mut insurer, &base.join("to-verzekeraar-1.jsonl"))?;
    let counter_text = COPD_CONTRACT.replacen("provider_share = 0.5\n", "provider_share = 0.45\n", 1);
    if counter_text == COPD_CONTRACT {
        bail!("the demo cannot find the provider share in the COPD contract");
    }
    let counter = contract::parse_str("counter.toml", &counter_text).map_err(|d| anyhow::anyhow!("{}", d[0]))?;
    for change in contract::diff(&proposal, &counter) {
        outln!("  verzekeraar proposes: {change}");
    }
    let vz = party("verzekeraar")?;
    let e = sign(
        &insurer,
        "verzekeraar",
        &vz,
        neg::KIND_COUNTER,
        vec![e.id().to_hex()],
        neg::offer_payload(&counter, Some(&proposal.version_hash()), None, None),
    )?;
    insurer.append(std::slice::from_ref(&e))?;
    let counter_entry = e.id().to_hex();

    step(5, "The hospital and the home-care organisation accept the counter-proposal")?;
    exchange(&insurer, &mut hospital, &base.join("to-ziekenhuis-1.jsonl"))?;
    for who in ["ziekenhuis", "thuiszorg"] {
        let key = party(who)?;
        let e = sign(
            &hospital,
            who,
            &key,
            neg::KIND_ACCEPT,
            vec![counter_entry.clone()],
            neg::decision_payload(&id, &counter.version_hash(), None, None),
        )?;
        hospital.append(std::slice::from_ref(&e))?;
        outln!("  {who} signs version {}", short(&counter.version_hash()));
    }
    exchange(&hospital, &mut insurer, &base.join("to-verzekeraar-2.jsonl"))?;
    for (name, ledger) in [("ziekenhuis", &hospital), ("verzekeraar", &insurer)] {
        let ids = ledger.index().by_contract(&id)?;
        let entries: Vec<Entry> = ledger.load(&ids)?.into_iter().map(|(_, e)| e).collect();
        let st = neg::status(&id, &entries);
        let in_force = st.latest_in_force().map(|v| short(&v.version).to_string()).unwrap_or_else(|| "nothing".into());
        outln!("{name:<12} copy: version in force {in_force}");
    }

    step(6, "The measurement sources submit the COPD figures for 2025-2027; the other parties attest")?;
    let version = counter.version_hash();
    let mut figures = Vec::new();
    for (source, csv_text) in COPD_FIGURES {
        let key = party(source)?;
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let mut batch = Vec::new();
        for rec in reader.records() {
            let rec = rec?;
            let (ind, period, value, note) = (&rec[0], &rec[1], &rec[2], rec.get(3).filter(|n| !n.is_empty()));
            if derived_here(ind, period) {
                continue;
            }
            let value: rust_decimal::Decimal = value.parse().map_err(|_| anyhow::anyhow!("bad demo value {value}"))?;
            let payload = meas::figure_payload(&id, &version, ind, period, value, note, None, None);
            batch.push(sign(&hospital, source, &key, meas::KIND_SUBMIT, vec![counter_entry.clone()], payload)?);
        }
        if source == "verzekeraar" {
            batch.extend(derive_copd(&hospital, &key, &id, &version, &counter_entry)?);
        }
        hospital.append(&batch)?;
        outln!("  {source:<12} submits {} figures", batch.len());
        figures.extend(batch);
    }
    recompute_copd(&hospital, &figures)?;
    let lookup = |eid: &vereffen::ledger::entry::EntryId| hospital.get(eid).ok().flatten().map(|(_, e)| e);
    let mut attestations = Vec::new();
    for f in &figures {
        let (_, _, ind) = meas::figure_of(f, &lookup)?;
        for p in meas::required_parties(&ind).into_iter().filter(|p| *p != f.body().author.party) {
            let key = party(&p)?;
            let mid = f.id().to_hex();
            attestations.push(sign(
                &hospital,
                &p,
                &key,
                meas::KIND_ATTEST,
                vec![mid.clone()],
                meas::response_payload(&id, &mid, None),
            )?);
        }
    }
    hospital.append(&attestations)?;
    outln!("  {} attestations by the counterparties", attestations.len());
    exchange(&hospital, &mut insurer, &base.join("to-verzekeraar-3.jsonl"))?;
    let ids = insurer.index().by_contract(&id)?;
    let entries: Vec<Entry> = insurer.load(&ids)?.into_iter().map(|(_, e)| e).collect();
    let insurer_lookup = |eid: &vereffen::ledger::entry::EntryId| insurer.get(eid).ok().flatten().map(|(_, e)| e);
    let states = meas::states(&id, &entries, &insurer_lookup);
    for year in 2025..=2027u16 {
        let of_year: Vec<&meas::Measurement> = states.iter().filter(|m| m.year == year).collect();
        let agreed = of_year.iter().filter(|m| m.state == meas::State::Agreed).count();
        let cost =
            of_year.iter().find(|m| m.indicator == "care-cost").map(|m| format!("{:.2}", m.value)).unwrap_or_default();
        outln!("  {year}: {agreed} of {} figures agreed in the insurer's copy; care cost {cost}", of_year.len());
    }

    step(7, "Each party settles every year on its own copy: the same statement, to the cent")?;
    for year in 2025..=2027u16 {
        let mut hashes = Vec::new();
        for ledger in [&hospital, &insurer] {
            let (text, hash) =
                super::settle_cmds::statement_text(ledger, &id, year, super::settle_cmds::Format::Table)?;
            if year == 2027 && hashes.is_empty() {
                outln!("{text}");
            }
            hashes.push(hash);
        }
        if hashes[0] != hashes[1] {
            bail!("the two copies computed different statements for {year}");
        }
        outln!("  {year}: both copies computed statement {}", &hashes[0][..16]);
    }

    step(8, "The signatories co-sign each year's statement on their own copies")?;
    for year in 2025..=2027u16 {
        for who in ["ziekenhuis", "thuiszorg"] {
            cosign(&mut hospital, who, &id, year)?;
        }
        exchange(&hospital, &mut insurer, &base.join(format!("to-verzekeraar-{year}.jsonl")))?;
        cosign(&mut insurer, "verzekeraar", &id, year)?;
        exchange(&insurer, &mut hospital, &base.join(format!("to-ziekenhuis-{year}.jsonl")))?;
        for (name, ledger) in [("ziekenhuis", &hospital), ("verzekeraar", &insurer)] {
            let view = super::settle_cmds::contract_view(ledger, &id)?;
            let ys = &view.settlements[&year];
            match &ys.settled {
                Some(h) => outln!(
                    "  {year} in the {name} copy: SETTLED, statement {} signed by {}",
                    short(h),
                    ys.statements[h].by.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => bail!("{year} is not settled in the {name} copy"),
            }
        }
    }

    step(9, "The hospital signs a checkpoint of its copy; the insurer witnesses it; an auditor's report")?;
    let note = {
        let tree = hospital.merkle_tree();
        let origin = audit::origin(hospital.id(), "ziekenhuis");
        let cp = Checkpoint::new(&origin, tree.size(), tree.root())?;
        let note = SignedNote::sign(cp, &audit::key_name("ziekenhuis", &zh.verifying_key()), &zh)?;
        let e = sign(&hospital, "ziekenhuis", &zh, audit::KIND_CHECKPOINT, vec![], audit::note_payload(&note))?;
        hospital.append(std::slice::from_ref(&e))?;
        audit::set_copy_origin(hospital.dir(), &origin)?;
        outln!("  ziekenhuis signs {origin} at tree size {}", note.checkpoint.size());
        note
    };
    audit::verify_with_registry(&note, insurer.id(), insurer.registry())?;
    let witnessed = audit::witnessed_by(&insurer, "verzekeraar", note.checkpoint.origin())?;
    audit::decide_witness(&witnessed, &note, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut cosigned = note.clone();
    let name = audit::key_name("verzekeraar", &vz.verifying_key());
    cosigned.signatures.push(checkpoint::cosign(&note.checkpoint, &name, &vz, super::audit_cmds::cosign_time())?);
    let e = sign(&insurer, "verzekeraar", &vz, audit::KIND_WITNESS, vec![], audit::note_payload(&cosigned))?;
    insurer.append(std::slice::from_ref(&e))?;
    outln!("  verzekeraar checks the signature against its registry and cosigns it on its own copy:");
    for line in cosigned.to_text().lines() {
        outln!("    {line}");
    }
    exchange(&hospital, &mut insurer, &base.join("to-verzekeraar-audit.jsonl"))?;
    exchange(&insurer, &mut hospital, &base.join("to-ziekenhuis-audit.jsonl"))?;
    let report = vereffen::audit::report::build(&insurer)?;
    let report_path = base.join("audit-report.html");
    std::fs::write(&report_path, vereffen::present::report_html::render(&report))
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    outln!(
        "  audit report of the insurer's copy: {} anomalies, written to {}",
        report.anomalies.len(),
        report_path.display()
    );

    step(10, "Both copies verify (recomputing every signed statement), and agree on the set of signed facts")?;
    let mut digests = Vec::new();
    for (name, ledger) in [("ziekenhuis", &hospital), ("verzekeraar", &insurer)] {
        let s = verify::verify_journal(ledger.journal_path(), &vereffen::rules::ALL, |_| {})
            .map_err(|f| anyhow::anyhow!("verify of the {name} copy failed at {f}"))?;
        outln!(
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
    outln!("the copies hold the same signed facts: identical set digests");
    hospital.close()?;
    insurer.close()?;
    Ok(0)
}
