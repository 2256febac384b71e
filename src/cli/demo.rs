//! `vereffen demo`: the life of a contract on two parties' copies, narrated.
//!
//! It starts the hospital's and the insurer's nodes in this process, on
//! loopback (127.0.0.1, ports chosen free by the OS), and every entry moves
//! between the two copies by `sync` (pull, push, witness), as between real
//! parties' nodes. The nodes stop when the demo ends, on every exit path
//! (they stop when their handles drop). Only the auditor's air-gapped copy
//! gets a bundle file (`export`/`import`), the way without a network.
//!
//! It uses the demo keys committed in `keys/` (embedded at build time, so the
//! demo runs from any directory). They are public demo keys: never use them
//! for a real contract.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;

use vereffen::audit;
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
use vereffen::node::home::Home;
use vereffen::node::{client, server, store};

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

/// Longest one demo sync may take (each request is bounded too:
/// `client::PEER_REQUEST_TIMEOUT`); past it the demo fails and stops.
const DEMO_SYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// One party's node of the demo, serving its home in this process.
struct DemoNode {
    /// The party it acts for.
    party: &'static str,
    /// Its home (`ledgers/`, `keys/`, `peers.json`).
    home: PathBuf,
    /// The running server; stopped when dropped.
    handle: server::ServerHandle,
}

impl DemoNode {
    /// The node's copy of the demo ledger.
    fn copy_dir(&self) -> PathBuf {
        self.home.join(vereffen::node::home::LEDGERS_DIR).join(DEMO_LEDGER)
    }
}

/// A node home for `party` under `base`: its key in `keys/` (the demo
/// key), an empty `ledgers/`.
fn node_home(base: &Path, dir: &str, party_id: &str) -> Result<(PathBuf, Vec<(String, SigningKey)>)> {
    let home = base.join(dir);
    let keys = home.join(vereffen::node::home::KEYS_DIR);
    std::fs::create_dir_all(&keys).with_context(|| format!("cannot create {}", keys.display()))?;
    std::fs::create_dir_all(home.join(vereffen::node::home::LEDGERS_DIR))
        .with_context(|| format!("cannot create {}", home.display()))?;
    let p = PARTIES.iter().find(|p| p.id == party_id).ok_or_else(|| anyhow::anyhow!("no demo party {party_id}"))?;
    let file = format!("{party_id}.key");
    let path = keys.join(&file);
    std::fs::write(&path, p.pem).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok((home, vec![(file, demo_key(p)?)]))
}

/// Starts `party`'s node on 127.0.0.1 (a port the OS chooses).
fn start_node(party: &'static str, home: PathBuf, keys: Vec<(String, SigningKey)>) -> Result<DemoNode> {
    let handle = server::serve(server::ServeConfig {
        home: home.clone(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        tls: None,
        insecure_http: false,
        sync_every: None,
        limits: server::Limits::default(),
        keys: Some(keys),
        extra: None,
    })
    .with_context(|| format!("cannot start the {party} node"))?;
    assert!(handle.addr().ip().is_loopback(), "the demo nodes listen on loopback only");
    Ok(DemoNode { party, home, handle })
}

/// The two parties' nodes, each the other's peer.
struct Nodes {
    hospital: DemoNode,
    insurer: DemoNode,
    runtime: tokio::runtime::Runtime,
}

impl Nodes {
    /// `who`'s node syncs the demo ledger with the other node (pull, push,
    /// witness), as `vereffen sync --home HOME --peer PEER` does. The copies
    /// the demo holds open are closed first (a node serves a copy only when
    /// no other handle holds it) and opened again afterwards.
    fn sync(&self, who: &str, open: Vec<Ledger>) -> Result<(Ledger, Ledger)> {
        for l in open {
            l.close()?;
        }
        let (node, other) =
            if who == self.hospital.party { (&self.hospital, &self.insurer) } else { (&self.insurer, &self.hospital) };
        let peer = Home::open(&node.home)?.peer(other.party)?;
        let round = client::sync_with(node.handle.store(), &peer, Some(DEMO_LEDGER));
        let report = self
            .runtime
            .block_on(async { tokio::time::timeout(DEMO_SYNC_TIMEOUT, round).await })
            .map_err(|_| anyhow::anyhow!("the demo sync took longer than {DEMO_SYNC_TIMEOUT:?}; stopped"))??;
        let ls = report
            .ledgers
            .first()
            .ok_or_else(|| anyhow::anyhow!("the {} node does not share the demo ledger", other.party))?;
        if let Some(e) = &ls.error {
            bail!("sync of the {who} node with the {} node failed: {e}", other.party);
        }
        outln!(
            "  sync: the {who} node with the {} node: {}pulled {} new, pushed {} new; {}",
            other.party,
            if ls.created { "created its copy, " } else { "" },
            ls.pulled,
            ls.pushed,
            if ls.witness.is_empty() { "not witnessed" } else { &ls.witness }
        );
        // Both nodes let go of the copies now (no request is running).
        self.hospital.handle.store().close_all();
        self.insurer.handle.store().close_all();
        let open = |dir: PathBuf| store::open_patiently(|| Ledger::open(&dir, &vereffen::rules::ALL));
        Ok((open(self.hospital.copy_dir())?, open(self.insurer.copy_dir())?))
    }
}

/// A link `base/<name>` to a node's copy, so the copies keep the paths
/// earlier versions of the demo gave them (`--ledger DIR/ziekenhuis-copy`).
fn link_copy(base: &Path, name: &str, node: &DemoNode) -> Result<()> {
    #[cfg(unix)]
    {
        let target = Path::new(node.home.file_name().unwrap_or_default())
            .join(vereffen::node::home::LEDGERS_DIR)
            .join(DEMO_LEDGER);
        std::os::unix::fs::symlink(&target, base.join(name))
            .with_context(|| format!("cannot link {} to {}", base.join(name).display(), target.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (base, name, node);
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

    step(1, "The hospital and the insurer start their nodes; the hospital creates its copy of the ledger")?;
    let (hospital_home, hospital_keys) = node_home(&base, "ziekenhuis-node", "ziekenhuis")?;
    let (insurer_home, insurer_keys) = node_home(&base, "verzekeraar-node", "verzekeraar")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime of the demo's syncs")?;
    // Stopped on every exit path: a node stops when its handle drops.
    let nodes = Nodes {
        hospital: start_node("ziekenhuis", hospital_home, hospital_keys)?,
        insurer: start_node("verzekeraar", insurer_home, insurer_keys)?,
        runtime,
    };
    for (node, other) in [(&nodes.hospital, &nodes.insurer), (&nodes.insurer, &nodes.hospital)] {
        let fp = store::fingerprint(&party(other.party)?);
        Home::open(&node.home)?.add_peer(other.party, &other.handle.url(), other.party, &fp, None, false)?;
        outln!(
            "  {:<12} node listening on {} (home {}), peer {} at {}",
            node.party,
            node.handle.url(),
            node.home.display(),
            other.party,
            other.handle.url()
        );
    }
    let hospital_dir = nodes.hospital.copy_dir();
    let mut hospital = Ledger::init(&hospital_dir, DEMO_LEDGER, &vereffen::rules::ALL)?;
    outln!("created ledger {DEMO_LEDGER} in {}", hospital_dir.display());
    link_copy(&base, "ziekenhuis-copy", &nodes.hospital)?;
    link_copy(&base, "verzekeraar-copy", &nodes.insurer)?;
    outln!("every entry below moves between the two copies by sync over loopback: no file is carried");

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

    step(4, "The insurer's node syncs with the hospital's: its copy is created and pulled whole; it counters")?;
    let (h, mut insurer) = nodes.sync("verzekeraar", vec![hospital])?;
    hospital = h;
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

    step(
        5,
        "The counter-proposal reaches the hospital by sync; the hospital and the home-care organisation accept it",
    )?;
    (hospital, insurer) = nodes.sync("verzekeraar", vec![hospital, insurer])?;
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
    (hospital, insurer) = nodes.sync("ziekenhuis", vec![hospital, insurer])?;
    for (name, ledger) in [("ziekenhuis", &hospital), ("verzekeraar", &insurer)] {
        let ids = ledger.index().by_contract(&id)?;
        let entries: Vec<Entry> = ledger.load(&ids)?.into_iter().map(|(_, e)| e).collect();
        let st = neg::status(&id, &entries);
        let in_force = st.latest_in_force().map(|v| short(&v.version).to_string()).unwrap_or_else(|| "nothing".into());
        outln!("{name:<12} copy: version in force {in_force}");
    }

    step(
        6,
        "The measurement sources submit the COPD figures for 2025-2027; the other parties attest; sync carries them",
    )?;
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
    (hospital, insurer) = nodes.sync("ziekenhuis", vec![hospital, insurer])?;
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

    step(8, "The signatories co-sign each year's statement on their own copies; sync carries the signatures")?;
    for year in 2025..=2027u16 {
        for who in ["ziekenhuis", "thuiszorg"] {
            cosign(&mut hospital, who, &id, year)?;
        }
        (hospital, insurer) = nodes.sync("ziekenhuis", vec![hospital, insurer])?;
        cosign(&mut insurer, "verzekeraar", &id, year)?;
        (hospital, insurer) = nodes.sync("verzekeraar", vec![hospital, insurer])?;
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

    step(
        9,
        "Each sync witnessed the other node's signed checkpoint; an auditor's copy by bundle; an auditor's report",
    )?;
    let origin = audit::origin(hospital.id(), "ziekenhuis");
    let witnessed = audit::witnessed_by(&insurer, "verzekeraar", &origin)?;
    let last = witnessed.last().ok_or_else(|| anyhow::anyhow!("the insurer's node never witnessed {origin}"))?;
    audit::verify_with_registry(last, insurer.id(), insurer.registry())?;
    outln!(
        "  verzekeraar's node witnessed {origin} {} times; the last, at tree size {}, checked against its registry and cosigned:",
        witnessed.len(),
        last.checkpoint.size()
    );
    for line in last.to_text().lines() {
        outln!("    {line}");
    }
    // The last checkpoint each node witnessed of the other's copy, as files:
    // what a later checkpoint must be proven to extend (`audit consistency FILE NEW`).
    for (witness, copy, owner) in [("verzekeraar", &insurer, "ziekenhuis"), ("ziekenhuis", &hospital, "verzekeraar")] {
        let origin = audit::origin(DEMO_LEDGER, owner);
        let notes = audit::witnessed_by(copy, witness, &origin)?;
        let note = notes.last().ok_or_else(|| anyhow::anyhow!("the {witness} node never witnessed {origin}"))?;
        let path = base.join(format!("witnessed-{owner}.txt"));
        std::fs::write(&path, note.to_text()).with_context(|| format!("cannot write {}", path.display()))?;
        outln!(
            "  the {owner} checkpoint the {witness} node witnessed last (size {}) is in {}",
            note.checkpoint.size(),
            path.display()
        );
    }
    // The auditor's machine is air-gapped: no node, no network. A bundle
    // file carries the copy there (`vereffen export` / `vereffen import`).
    let bundle_path = base.join("to-accountant.jsonl");
    bundle::export(&insurer, &bundle_path, 1)?;
    let mut auditor = Ledger::init(&base.join("accountant-copy"), DEMO_LEDGER, &vereffen::rules::ALL)?;
    let r = bundle::import(&mut auditor, &bundle_path)?;
    outln!(
        "  the accountant's air-gapped copy imports the bundle {}: {} entries (no network: export/import)",
        bundle_path.file_name().and_then(|f| f.to_str()).unwrap_or("bundle"),
        r.added
    );
    auditor.close()?;
    let report = vereffen::audit::report::build(&insurer)?;
    let report_path = base.join("audit-report.html");
    std::fs::write(
        &report_path,
        vereffen::present::report_html::render(
            &report,
            &vereffen::present::lang::Tr::new(vereffen::present::lang::Lang::En),
        ),
    )
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
    let Nodes { hospital, insurer, runtime } = nodes;
    drop(runtime);
    for node in [hospital, insurer] {
        let (party, url) = (node.party, node.handle.url());
        node.handle.shutdown();
        outln!("stopped the {party} node ({url})");
    }
    Ok(0)
}
