//! Contract negotiation on the ledger: propose, counter, accept, reject,
//! withdraw, amend, and mandates to sign on another party's behalf.
//!
//! Two layers, so every copy agrees whatever order entries arrive in:
//!
//! * **Validity** ([`check`]) depends only on the entry, the entries it
//!   references and the registry. A valid entry stays valid in every copy.
//!   The references carry the proof: an acceptance references the entry
//!   that carries the version it accepts (and the mandate it signs under);
//!   an amendment references the in-force version and one acceptance per
//!   signatory of it.
//! * **Status** ([`status`]) is a pure function of the *set* of a contract's
//!   entries: versions are keyed by hash, parties by id, everything in
//!   ordered maps. The same set gives the same status in any order.
//!
//! Rules of status: a version is **agreed** when every signatory it names has
//! signed exactly that hash (offering a version signs it for the offering
//! party). The contract is **in force** when exactly one proposal or counter
//! is agreed; an agreed amendment of an in-force version governs from its
//! effective year on. A withdrawal or rejection only ends a version that is
//! not agreed: an agreement that crossed a withdrawal stands. Two agreed base
//! versions, or two agreed amendments effective in the same year, are a
//! conflict: nothing is in force for the years concerned until the parties
//! resolve it.
//!
//! The command line and the web workspace add policy on top (no accepting a
//! withdrawn version, no countering an agreed one): [`check_decision`] and
//! [`plan_propose`], [`plan_counter`], [`plan_amend`], [`plan_withdraw`].
//! Policy prevents pointless entries but is not a validity rule, because a
//! copy cannot know what other copies saw.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::contract::{self, Contract};
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::keys::KeyId;
use crate::ledger::registry::{Registry, RuleError};

/// Offer a first version of a contract.
pub const KIND_PROPOSE: &str = "contract.propose";
/// Offer a version in answer to another.
pub const KIND_COUNTER: &str = "contract.counter";
/// Sign a version.
pub const KIND_ACCEPT: &str = "contract.accept";
/// Decline a version, with a reason.
pub const KIND_REJECT: &str = "contract.reject";
/// Take back one's own offer.
pub const KIND_WITHDRAW: &str = "contract.withdraw";
/// Offer a new version of an in-force contract, effective from a year.
pub const KIND_AMEND: &str = "contract.amend";
/// Let another party sign for the granting party.
pub const KIND_MANDATE_GRANT: &str = "mandate.grant";
/// End a mandate.
pub const KIND_MANDATE_REVOKE: &str = "mandate.revoke";

/// Every kind this module defines.
pub const KINDS: &[&str] = &[
    KIND_PROPOSE,
    KIND_COUNTER,
    KIND_ACCEPT,
    KIND_REJECT,
    KIND_WITHDRAW,
    KIND_AMEND,
    KIND_MANDATE_GRANT,
    KIND_MANDATE_REVOKE,
];

/// Longest reason text, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// An action a mandate can cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum MandateAction {
    /// Sign (accept) contract versions.
    Accept,
    /// Reject contract versions.
    Reject,
}

/// Payload of `contract.propose`, `contract.counter` and `contract.amend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferPayload {
    /// The contract id (equals `terms.id`).
    pub contract: String,
    /// The version hash of `terms`.
    pub version: String,
    /// The canonical contract JSON.
    pub terms: Value,
    /// Counter only: the version this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    /// Amend only: the in-force version this one amends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    /// Amend only: the first contract year the amendment governs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<u16>,
}

/// Payload of `contract.accept`, `contract.reject` and `contract.withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionPayload {
    /// The contract id.
    pub contract: String,
    /// The version decided on.
    pub version: String,
    /// The party signed for under a mandate (accept and reject only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// Why (reject: required; withdraw: optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Payload of `mandate.grant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandatePayload {
    /// The party that may sign for the author.
    pub grantee: String,
    /// Contract ids covered, or `["*"]` for every contract.
    pub contracts: Vec<String>,
    /// What the grantee may do.
    pub actions: Vec<MandateAction>,
    /// First contract year covered: the mandate covers versions whose whole
    /// term lies within `first_year..=last_year`.
    pub first_year: u16,
    /// Last contract year covered.
    pub last_year: u16,
}

/// Payload of `mandate.revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeMandatePayload {
    /// The `mandate.grant` entry (hex id).
    pub mandate: String,
    /// Why.
    pub reason: String,
}

fn err<T>(msg: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError(msg.into()))
}

fn parse<T: serde::de::DeserializeOwned>(e: &Entry) -> Result<T, RuleError> {
    serde_json::from_value(e.body().payload.clone())
        .map_err(|x| RuleError(format!("{} payload is malformed: {x}", e.kind())))
}

fn check_reason(reason: Option<&str>, required: bool) -> Result<(), RuleError> {
    match reason {
        None if required => err("a reason is required"),
        Some(r) if r.trim().is_empty() || r.chars().count() > MAX_REASON_CHARS => {
            err(format!("a reason must be 1 to {MAX_REASON_CHARS} characters"))
        }
        Some(r) => crate::ledger::text::check_free_text("the reason", r).map_err(RuleError),
        None => Ok(()),
    }
}

/// Reads the terms of an offer entry (propose, counter, amend), checking
/// that they are a valid canonical contract whose hash and id match.
pub fn offer_terms(e: &Entry) -> Result<(OfferPayload, Contract), RuleError> {
    let p: OfferPayload = parse(e)?;
    let c = Contract::from_canonical_json(&p.terms).map_err(|x| RuleError(format!("the offered terms: {x}")))?;
    if c.version_hash() != p.version {
        return err(format!(
            "the version hash {} does not match the terms, whose hash is {}",
            p.version,
            c.version_hash()
        ));
    }
    if c.id != p.contract {
        return err(format!("the payload names contract {:?} but the terms are of contract {:?}", p.contract, c.id));
    }
    Ok((p, c))
}

fn is_offer(kind: &str) -> bool {
    kind == KIND_PROPOSE || kind == KIND_COUNTER || kind == KIND_AMEND
}

/// The first contract year a version governs (its effective year).
pub fn effective_from(p: &OfferPayload, c: &Contract) -> u16 {
    p.effective_from.unwrap_or(c.term.first_year)
}

/// Checks that every party of the terms is registered with the same role
/// and, where the contract names a key fingerprint, holds that key.
///
/// This is policy for new offers (the command line applies it), not a
/// validity rule: it depends on registrations the entry does not reference,
/// so making it one would let arrival order decide validity.
pub fn check_parties(c: &Contract, reg: &Registry) -> Result<(), RuleError> {
    for p in &c.parties {
        let Some(rp) = reg.party(&p.id) else {
            return err(format!("party {:?} of the contract is not registered in this ledger", p.id));
        };
        if rp.role.as_str() != p.role.to_string() {
            return err(format!(
                "party {:?} is a {} in the ledger but a {} in the contract",
                p.id,
                rp.role.as_str(),
                p.role
            ));
        }
        if let Some(fp) = &p.key {
            let holds = rp.keys.iter().filter_map(|k| KeyId::from_hex(k)).any(|k| k.fingerprint() == *fp);
            if !holds {
                return err(format!(
                    "the contract names key {fp} for party {:?}, but that is not a key of the party in this ledger",
                    p.id
                ));
            }
        }
    }
    Ok(())
}

/// When the terms name a key fingerprint for the author party, the entry
/// must be signed with exactly that key.
fn check_author_key(c: &Contract, e: &Entry) -> Result<(), RuleError> {
    let party = &e.body().author.party;
    if let Some(fp) = contract_party(c, party).and_then(|p| p.key.as_ref()) {
        let used = e.author_key().fingerprint();
        if used != *fp {
            return err(format!(
                "{party:?} signed with key {used}, but the contract names key {fp} for {party:?}: sign with that key, or offer a version that names the new key"
            ));
        }
    }
    Ok(())
}

fn contract_party<'a>(c: &'a Contract, party: &str) -> Option<&'a contract::Party> {
    c.parties.iter().find(|p| p.id == party)
}

/// Looks up a referenced offer entry and checks it carries `version` of `contract`.
fn referenced_offer(
    e: &Entry,
    at: usize,
    contract: &str,
    version: &str,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
) -> Result<(Entry, OfferPayload, Contract), RuleError> {
    let Some(id) = e.body().ref_ids().nth(at) else {
        return err(format!("reference {} must be the entry that carries version {version}", at + 1));
    };
    let Some(target) = lookup(&id) else {
        return err(format!("referenced entry {} is not in this ledger", id.short()));
    };
    if !is_offer(target.kind()) {
        return err(format!("referenced entry {} is a {}, not a contract version", id.short(), target.kind()));
    }
    let (p, c) = offer_terms(&target)?;
    if p.contract != contract || p.version != version {
        return err(format!(
            "referenced entry {} carries version {} of contract {:?}, not version {version} of {contract:?}",
            id.short(),
            &p.version[..12.min(p.version.len())],
            p.contract
        ));
    }
    Ok((target, p, c))
}

/// Checks the validity of a negotiation or mandate entry (see the module docs).
pub fn check(e: &Entry, lookup: &dyn Fn(&EntryId) -> Option<Entry>) -> Result<(), RuleError> {
    let author = e.body().author.party.as_str();
    let refs: Vec<EntryId> = e.body().ref_ids().collect();
    match e.kind() {
        KIND_PROPOSE | KIND_COUNTER | KIND_AMEND => {
            let (p, c) = offer_terms(e)?;
            if contract_party(&c, author).is_none() {
                return err(format!(
                    "{author:?} is not a party of contract {:?}: only its parties may offer versions",
                    c.id
                ));
            }
            check_author_key(&c, e)?;
            match e.kind() {
                KIND_PROPOSE => {
                    if p.answers.is_some() || p.amends.is_some() || p.effective_from.is_some() || !refs.is_empty() {
                        return err("a proposal answers and amends nothing and references nothing");
                    }
                }
                KIND_COUNTER => {
                    let answers = p
                        .answers
                        .as_deref()
                        .ok_or(RuleError("a counter-proposal names the version it answers".into()))?;
                    if p.amends.is_some() || p.effective_from.is_some() || refs.len() != 1 {
                        return err("a counter-proposal references exactly the version it answers");
                    }
                    if answers == p.version {
                        return err("a counter-proposal must differ from the version it answers");
                    }
                    referenced_offer(e, 0, &p.contract, answers, lookup)?;
                }
                _ => {
                    let amends =
                        p.amends.as_deref().ok_or(RuleError("an amendment names the version it amends".into()))?;
                    let from =
                        p.effective_from.ok_or(RuleError("an amendment names the year it takes effect".into()))?;
                    if p.answers.is_some() {
                        return err("an amendment answers nothing");
                    }
                    if amends == p.version {
                        return err("an amendment must differ from the version it amends");
                    }
                    if !c.term.years().contains(&from) {
                        return err(format!(
                            "an amendment effective from {from} lies outside the term {}-{}",
                            c.term.first_year, c.term.last_year
                        ));
                    }
                    let (_, old_p, old_c) = referenced_offer(e, 0, &p.contract, amends, lookup)?;
                    if from < effective_from(&old_p, &old_c) {
                        return err(format!(
                            "an amendment cannot take effect ({from}) before the version it amends does ({})",
                            effective_from(&old_p, &old_c)
                        ));
                    }
                    // The references prove the amended version is agreed.
                    let mut signed: BTreeSet<String> = BTreeSet::new();
                    for id in refs.iter() {
                        let Some(r) = lookup(id) else {
                            return err(format!("referenced entry {} is not in this ledger", id.short()));
                        };
                        if let Some(party) = signer_of(&r, &p.contract, amends) {
                            signed.insert(party);
                        }
                    }
                    let missing: Vec<&str> = old_c
                        .parties
                        .iter()
                        .filter(|q| q.signatory && !signed.contains(&q.id))
                        .map(|q| q.id.as_str())
                        .collect();
                    if !missing.is_empty() {
                        return err(format!(
                            "an amendment must reference the signatures that put version {} in force; missing: {}",
                            &amends[..12.min(amends.len())],
                            missing.join(", ")
                        ));
                    }
                }
            }
            Ok(())
        }
        KIND_ACCEPT | KIND_REJECT => {
            let p: DecisionPayload = parse(e)?;
            check_reason(p.reason.as_deref(), e.kind() == KIND_REJECT)?;
            if e.kind() == KIND_ACCEPT && p.reason.is_some() {
                return err("an acceptance carries no reason");
            }
            let (_, _, c) = referenced_offer(e, 0, &p.contract, &p.version, lookup)?;
            match &p.on_behalf_of {
                None => {
                    if refs.len() != 1 {
                        return err("a decision references exactly the version it decides on");
                    }
                    if contract_party(&c, author).is_none() {
                        return err(format!("{author:?} is not a party of contract {:?}", c.id));
                    }
                    check_author_key(&c, e)?;
                }
                Some(principal) => {
                    if refs.len() != 2 {
                        return err("a decision on behalf of another party references the version and the mandate");
                    }
                    if contract_party(&c, principal).is_none() {
                        return err(format!("{principal:?} is not a party of contract {:?}", c.id));
                    }
                    let Some(m) = lookup(&refs[1]) else { return err("the referenced mandate is not in this ledger") };
                    if m.kind() != KIND_MANDATE_GRANT {
                        return err(format!("referenced entry {} is not a mandate", refs[1].short()));
                    }
                    let mp: MandatePayload = parse(&m)?;
                    let action = if e.kind() == KIND_ACCEPT { MandateAction::Accept } else { MandateAction::Reject };
                    if m.body().author.party != *principal || mp.grantee != author {
                        return err(format!(
                            "the mandate is from {:?} to {:?}, not from {principal:?} to {author:?}",
                            m.body().author.party,
                            mp.grantee
                        ));
                    }
                    if !mp.actions.contains(&action) {
                        return err(format!("the mandate does not cover {action:?}").to_lowercase());
                    }
                    if !mp.contracts.iter().any(|x| x == "*" || *x == p.contract) {
                        return err(format!("the mandate does not cover contract {:?}", p.contract));
                    }
                    if c.term.first_year < mp.first_year || c.term.last_year > mp.last_year {
                        return err(format!(
                            "the mandate covers {}-{}, the contract runs {}-{}",
                            mp.first_year, mp.last_year, c.term.first_year, c.term.last_year
                        ));
                    }
                }
            }
            Ok(())
        }
        KIND_WITHDRAW => {
            let p: DecisionPayload = parse(e)?;
            check_reason(p.reason.as_deref(), false)?;
            if p.on_behalf_of.is_some() || refs.len() != 1 {
                return err("a withdrawal references exactly the offer it withdraws");
            }
            let (offer, _, _) = referenced_offer(e, 0, &p.contract, &p.version, lookup)?;
            if offer.body().author.party != author {
                return err(format!("only {:?}, who offered this version, can withdraw it", offer.body().author.party));
            }
            Ok(())
        }
        KIND_MANDATE_GRANT => {
            let p: MandatePayload = parse(e)?;
            if !refs.is_empty() {
                return err("a mandate references nothing");
            }
            if p.grantee == author {
                return err("a party cannot give itself a mandate");
            }
            if !crate::ledger::entry::is_valid_name(&p.grantee) {
                return err(format!("grantee {:?} is not a valid party id", p.grantee));
            }
            if p.actions.is_empty() || p.contracts.is_empty() {
                return err("a mandate names at least one action and one contract (or \"*\")");
            }
            if p.contracts.iter().any(|x| x != "*" && !crate::ledger::entry::is_valid_name(x)) {
                return err("a mandate's contracts are contract ids or \"*\"");
            }
            if p.first_year > p.last_year {
                return err(format!(
                    "the mandate's first year {} is after its last year {}",
                    p.first_year, p.last_year
                ));
            }
            Ok(())
        }
        KIND_MANDATE_REVOKE => {
            let p: RevokeMandatePayload = parse(e)?;
            check_reason(Some(&p.reason), true)?;
            if refs.len() != 1 || refs[0].to_hex() != p.mandate {
                return err("a mandate revocation references exactly the mandate it ends");
            }
            let Some(m) = lookup(&refs[0]) else { return err("the referenced mandate is not in this ledger") };
            if m.kind() != KIND_MANDATE_GRANT || m.body().author.party != author {
                return err("only the party that granted a mandate can revoke it");
            }
            Ok(())
        }
        other => err(format!("{other} is not a negotiation entry")),
    }
}

/// The party whose signature on `version` of `contract` this entry is, if
/// it is one: the offerer of an offer entry, or the (represented) party of
/// an acceptance.
pub fn signer_of(e: &Entry, contract: &str, version: &str) -> Option<String> {
    let p = &e.body().payload;
    if p.get("contract").and_then(Value::as_str) != Some(contract)
        || p.get("version").and_then(Value::as_str) != Some(version)
    {
        return None;
    }
    match e.kind() {
        KIND_PROPOSE | KIND_COUNTER | KIND_AMEND => Some(e.body().author.party.clone()),
        KIND_ACCEPT => Some(
            p.get("on_behalf_of")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| e.body().author.party.clone()),
        ),
        _ => None,
    }
}

/// What kind of version an offer is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum VersionKind {
    /// A first proposal.
    Proposal,
    /// An answer to another version.
    Counter {
        /// The version answered.
        answers: String,
    },
    /// An amendment of an in-force version.
    Amendment {
        /// The version amended.
        amends: String,
        /// First year it governs.
        effective_from: u16,
    },
}

/// One signature on a version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Signature {
    /// The party bound.
    pub party: String,
    /// The party that signed (differs under a mandate).
    pub signed_by: String,
    /// The signing entry.
    pub entry: String,
    /// The author's claimed time.
    pub time: String,
}

/// Everything known about one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionInfo {
    /// The version hash.
    pub version: String,
    /// Proposal, counter or amendment.
    pub kind: VersionKind,
    /// The parties that offered it.
    pub offered_by: BTreeSet<String>,
    /// The entries carrying it, by id.
    pub entries: BTreeSet<String>,
    /// The terms.
    #[serde(skip)]
    pub terms: Contract,
    /// Signatures (offerers and acceptances), by party.
    pub signatures: BTreeMap<String, BTreeSet<Signature>>,
    /// Rejections: party -> reasons.
    pub rejections: BTreeMap<String, BTreeSet<String>>,
    /// Withdrawn by its offerer (has effect only while not agreed).
    pub withdrawn: bool,
    /// The signatories the terms name.
    pub signatories: Vec<String>,
}

/// Where a version stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum VersionState {
    /// Every signatory signed.
    Agreed,
    /// Offered and not yet agreed.
    Pending {
        /// Signatories that have not signed.
        waiting_for: Vec<String>,
    },
    /// Declined by a signatory (and not agreed).
    Rejected {
        /// The signatories that rejected it.
        by: Vec<String>,
    },
    /// Withdrawn by its offerer before it was agreed.
    Withdrawn,
}

impl VersionInfo {
    /// Signatories without a signature on this version.
    pub fn waiting_for(&self) -> Vec<String> {
        self.signatories.iter().filter(|s| !self.signatures.contains_key(*s)).cloned().collect()
    }
    /// The state (see the module docs for precedence).
    pub fn state(&self) -> VersionState {
        let waiting = self.waiting_for();
        if waiting.is_empty() {
            VersionState::Agreed
        } else if self.withdrawn {
            VersionState::Withdrawn
        } else if self.rejections.keys().any(|p| self.signatories.contains(p)) {
            VersionState::Rejected {
                by: self.rejections.keys().filter(|p| self.signatories.contains(p)).cloned().collect(),
            }
        } else {
            VersionState::Pending { waiting_for: waiting }
        }
    }
    /// The first year this version governs if it is in force.
    pub fn effective_from(&self) -> u16 {
        match self.kind {
            VersionKind::Amendment { effective_from, .. } => effective_from,
            _ => self.terms.term.first_year,
        }
    }
}

/// The negotiation state of one contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractStatus {
    /// The contract id.
    pub contract: String,
    /// Every version, by hash.
    pub versions: BTreeMap<String, VersionInfo>,
    /// The agreed base version (proposal or counter), if exactly one.
    pub base: Option<String>,
    /// Agreed amendments in force, by effective year.
    pub amendments: BTreeMap<u16, String>,
    /// Conflicts that keep versions out of force.
    pub conflicts: Vec<ContractConflict>,
}

/// A conflict that keeps versions of a contract out of force, as data: the
/// presentation layer words it in the reader's language
/// (`present::engine::contract_conflict`); `Display` is the reference
/// English, and its JSON is that English (the words of `contract status
/// --json` and the audit report's JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractConflict {
    /// More than one base version (proposal or counter) was agreed, so none
    /// is in force.
    ManyAgreed {
        /// The agreed versions' hashes (first 12 characters), in hash order.
        hashes: Vec<String>,
    },
    /// More than one amendment effective from the same year was agreed: that
    /// year and later follow the last unambiguous version.
    ManyAmendments {
        /// The year the amendments take effect.
        year: u16,
        /// The amendments' hashes (first 12 characters), in hash order.
        hashes: Vec<String>,
    },
}

impl std::fmt::Display for ContractConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContractConflict::ManyAgreed { hashes } => write!(
                f,
                "{} different versions were agreed ({}); nothing is in force until the parties amend or resolve this",
                hashes.len(),
                hashes.join(", ")
            ),
            ContractConflict::ManyAmendments { year, hashes } => write!(
                f,
                "{} amendments effective from {year} were agreed ({}); that year and later follow the last unambiguous version until resolved",
                hashes.len(),
                hashes.join(", ")
            ),
        }
    }
}

impl Serialize for ContractConflict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl ContractStatus {
    /// The version that governs contract year `year`, if any.
    pub fn governing(&self, year: u16) -> Option<&VersionInfo> {
        let base = self.versions.get(self.base.as_ref()?)?;
        if !base.terms.term.years().contains(&year) {
            return None;
        }
        let hash = self.amendments.range(..=year).next_back().map(|(_, h)| h).unwrap_or(&base.version);
        self.versions.get(hash)
    }
    /// The version in force that supersedes `version`, if `version` is still
    /// pending but can no longer come into force: a proposal or counter
    /// while another proposal or counter is the agreed base, or an amendment
    /// while another agreed amendment takes effect in the same year. Such a
    /// version is not waiting for anyone: accepting it is refused.
    pub fn superseded_by(&self, version: &str) -> Option<&VersionInfo> {
        let v = self.versions.get(version)?;
        if !matches!(v.state(), VersionState::Pending { .. }) {
            return None;
        }
        let by = match &v.kind {
            VersionKind::Proposal | VersionKind::Counter { .. } => self.base.as_ref()?,
            VersionKind::Amendment { effective_from, .. } => self.amendments.get(effective_from)?,
        };
        (by != version).then(|| self.versions.get(by)).flatten()
    }
    /// The version in force now: the latest that governs any year.
    pub fn latest_in_force(&self) -> Option<&VersionInfo> {
        let base = self.versions.get(self.base.as_ref()?)?;
        match self.amendments.values().next_back() {
            Some(h) => self.versions.get(h),
            None => Some(base),
        }
    }
    /// Resolves a version given as a hash or a unique prefix (at least 8 characters).
    pub fn resolve(&self, prefix: &str) -> Result<&VersionInfo, String> {
        if prefix.len() < 8 {
            return Err(format!("version {prefix:?} is too short: give at least 8 characters of the hash"));
        }
        let hits: Vec<&VersionInfo> = self.versions.values().filter(|v| v.version.starts_with(prefix)).collect();
        match hits.as_slice() {
            [one] => Ok(one),
            [] => Err(format!(
                "contract {:?} has no version {prefix}; `vereffen contract status {}` lists them",
                self.contract, self.contract
            )),
            _ => Err(format!("version prefix {prefix} is ambiguous; give more characters")),
        }
    }
}

/// Whether `principal` may accept or reject version `v` of this contract
/// now, with the reason when not: the principal is a party of the version,
/// the version is not withdrawn, an agreed version is not rejected, a party
/// signs a version once and rejects it once, and a proposal or counter is
/// not accepted while another version is in force (that is an amendment's
/// work). `contract accept|reject` and the web's contract page both ask
/// this before they sign.
pub fn check_decision(
    st: &ContractStatus,
    v: &VersionInfo,
    principal: &str,
    action: MandateAction,
) -> Result<(), String> {
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let id = &st.contract;
    if v.terms.parties.iter().all(|p| p.id != principal) {
        return Err(format!("{principal:?} is not a party of contract {id:?}: only its parties sign it"));
    }
    let verb = if action == MandateAction::Accept { "accept" } else { "reject" };
    match v.state() {
        VersionState::Withdrawn => {
            return Err(format!("version {} was withdrawn by its offerer and cannot be {verb}ed", short(&v.version)))
        }
        VersionState::Agreed if action == MandateAction::Reject => {
            return Err(format!(
                "version {} is already agreed by every signatory; propose changes with `vereffen contract amend`",
                short(&v.version)
            ))
        }
        _ => {}
    }
    if action == MandateAction::Accept {
        if v.signatures.contains_key(principal) {
            return Err(format!("{principal:?} has already signed version {}", short(&v.version)));
        }
        if !matches!(v.kind, VersionKind::Amendment { .. }) {
            if let Some(base) = st.base.as_ref().filter(|b| **b != v.version) {
                return Err(format!(
                    "another version ({}) of {id:?} is already in force; change it with `vereffen contract amend`",
                    short(base)
                ));
            }
        }
    } else if v.rejections.contains_key(principal) {
        return Err(format!("{principal:?} has already rejected version {}", short(&v.version)));
    }
    Ok(())
}

/// The entry that carries a version (the lowest id, for determinism): what
/// a decision on it refers to.
pub fn carrier(v: &VersionInfo) -> Result<&str, String> {
    v.entries.iter().next().map(String::as_str).ok_or_else(|| format!("version {} has no entry", v.version))
}

/// Computes the status of `contract` from its entries (any order; entries
/// of other contracts and kinds are ignored).
pub fn status(contract: &str, entries: &[Entry]) -> ContractStatus {
    let mut versions: BTreeMap<String, VersionInfo> = BTreeMap::new();
    let mine = |e: &&Entry| e.body().payload.get("contract").and_then(Value::as_str) == Some(contract);
    for e in entries.iter().filter(mine).filter(|e| is_offer(e.kind())) {
        let Ok((p, c)) = offer_terms(e) else { continue };
        let kind = match e.kind() {
            KIND_COUNTER => VersionKind::Counter { answers: p.answers.clone().unwrap_or_default() },
            KIND_AMEND => VersionKind::Amendment {
                amends: p.amends.clone().unwrap_or_default(),
                effective_from: p.effective_from.unwrap_or(c.term.first_year),
            },
            _ => VersionKind::Proposal,
        };
        let v = versions.entry(p.version.clone()).or_insert_with(|| VersionInfo {
            version: p.version.clone(),
            kind,
            offered_by: BTreeSet::new(),
            entries: BTreeSet::new(),
            signatories: c.parties.iter().filter(|q| q.signatory).map(|q| q.id.clone()).collect(),
            terms: c,
            signatures: BTreeMap::new(),
            rejections: BTreeMap::new(),
            withdrawn: false,
        });
        v.offered_by.insert(e.body().author.party.clone());
        v.entries.insert(e.id().to_hex());
    }
    for e in entries.iter().filter(mine) {
        let b = e.body();
        let Some(version) = b.payload.get("version").and_then(Value::as_str) else { continue };
        let Some(v) = versions.get_mut(version) else { continue };
        let on_behalf = b.payload.get("on_behalf_of").and_then(Value::as_str);
        let party = on_behalf.unwrap_or(&b.author.party).to_string();
        match e.kind() {
            KIND_PROPOSE | KIND_COUNTER | KIND_AMEND | KIND_ACCEPT => {
                v.signatures.entry(party.clone()).or_default().insert(Signature {
                    party,
                    signed_by: b.author.party.clone(),
                    entry: e.id().to_hex(),
                    time: b.time.clone(),
                });
            }
            KIND_REJECT => {
                let reason = b.payload.get("reason").and_then(Value::as_str).unwrap_or("").to_string();
                v.rejections.entry(party).or_default().insert(reason);
            }
            KIND_WITHDRAW if v.offered_by.contains(&b.author.party) => {
                v.withdrawn = true;
            }
            _ => {}
        }
    }
    let mut conflicts = Vec::new();
    let agreed_base: Vec<&String> = versions
        .values()
        .filter(|v| !matches!(v.kind, VersionKind::Amendment { .. }) && v.state() == VersionState::Agreed)
        .map(|v| &v.version)
        .collect();
    let base = match agreed_base.as_slice() {
        [one] => Some((*one).clone()),
        [] => None,
        many => {
            conflicts
                .push(ContractConflict::ManyAgreed { hashes: many.iter().map(|h| short12(h).to_string()).collect() });
            None
        }
    };
    let mut amendments: BTreeMap<u16, String> = BTreeMap::new();
    if let Some(base) = &base {
        // Walk amendments whose chain of `amends` leads to the base.
        let mut in_force: BTreeSet<String> = BTreeSet::from([base.clone()]);
        let mut changed = true;
        while changed {
            changed = false;
            for v in versions.values() {
                if let VersionKind::Amendment { amends, .. } = &v.kind {
                    if v.state() == VersionState::Agreed
                        && in_force.contains(amends)
                        && in_force.insert(v.version.clone())
                    {
                        changed = true;
                    }
                }
            }
        }
        let mut by_year: BTreeMap<u16, Vec<String>> = BTreeMap::new();
        for h in in_force.iter().filter(|h| *h != base) {
            if let Some(v) = versions.get(h) {
                by_year.entry(v.effective_from()).or_default().push(h.clone());
            }
        }
        for (year, hs) in by_year {
            if hs.len() == 1 {
                amendments.insert(year, hs[0].clone());
            } else {
                conflicts.push(ContractConflict::ManyAmendments {
                    year,
                    hashes: hs.iter().map(|h| short12(h).to_string()).collect(),
                });
                break;
            }
        }
    }
    ContractStatus { contract: contract.to_string(), versions, base, amendments, conflicts }
}

/// The first 12 characters of a version hash (all of a shorter one: a
/// version hash is 64 hex digits, so that never happens, but a slice must
/// not panic).
fn short12(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// Payload builder for an offer.
pub fn offer_payload(c: &Contract, answers: Option<&str>, amends: Option<&str>, effective_from: Option<u16>) -> Value {
    let p = OfferPayload {
        contract: c.id.clone(),
        version: c.version_hash(),
        terms: c.to_canonical_json(),
        answers: answers.map(str::to_string),
        amends: amends.map(str::to_string),
        effective_from,
    };
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// Payload builder for accept, reject and withdraw.
pub fn decision_payload(contract: &str, version: &str, on_behalf_of: Option<&str>, reason: Option<&str>) -> Value {
    let p = DecisionPayload {
        contract: contract.to_string(),
        version: version.to_string(),
        on_behalf_of: on_behalf_of.map(str::to_string),
        reason: reason.map(str::to_string),
    };
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// A new negotiation entry ready to sign: what `contract propose|counter|
/// amend|withdraw` and the web's offer forms append, once the checks of
/// [`plan_propose`], [`plan_counter`], [`plan_amend`] or [`plan_withdraw`]
/// passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The entry kind (`contract.propose`, ...).
    pub kind: &'static str,
    /// The entries it references (hex ids).
    pub refs: Vec<String>,
    /// Its payload.
    pub payload: Value,
    /// The version it offers or withdraws.
    pub version: String,
}

/// The versions of `st` that `party` may answer with a counter-proposal:
/// pending (not agreed, not withdrawn, not rejected away) and offered by
/// another party.
pub fn counterable<'a>(st: &'a ContractStatus, party: &str) -> Vec<&'a VersionInfo> {
    st.versions
        .values()
        .filter(|v| matches!(v.state(), VersionState::Pending { .. }) && !v.offered_by.contains(party))
        .collect()
}

/// The versions of `st` that `party` offered and may still withdraw (not
/// agreed, not withdrawn).
pub fn withdrawable<'a>(st: &'a ContractStatus, party: &str) -> Vec<&'a VersionInfo> {
    st.versions
        .values()
        .filter(|v| v.offered_by.contains(party))
        .filter(|v| !matches!(v.state(), VersionState::Agreed | VersionState::Withdrawn))
        .collect()
}

/// The first year an amendment of `current` may take effect: not before
/// `current` does, and after every year already settled (`last_settled`;
/// a settled year changes only by a resettlement of the version it was
/// settled under).
pub fn first_open_year(current: &VersionInfo, last_settled: Option<u16>) -> u16 {
    current.effective_from().max(last_settled.map_or(0, |y| y.saturating_add(1)))
}

/// Checks a first version `c` of a contract offered on a ledger whose
/// registry is `reg` and which holds `existing` entries of that contract:
/// every party registered in its role (and key), and no such contract yet.
pub fn plan_propose(c: &Contract, reg: &Registry, existing: &[Entry]) -> Result<Planned, String> {
    check_parties(c, reg).map_err(|e| e.to_string())?;
    if !existing.is_empty() {
        return Err(format!(
            "contract {:?} already exists in this ledger: answer a version with `vereffen contract counter {} FILE`, or change an in-force contract with `vereffen contract amend`",
            c.id, c.id
        ));
    }
    Ok(Planned {
        kind: KIND_PROPOSE,
        refs: vec![],
        payload: offer_payload(c, None, None, None),
        version: c.version_hash(),
    })
}

/// Checks the offer of `c` as a new version of the contract whose status
/// is `st`: the same contract, some version, every party registered.
fn check_new_version(st: &ContractStatus, c: &Contract, reg: &Registry) -> Result<(), String> {
    if c.id != st.contract {
        return Err(format!("the terms are of contract {:?}, not {:?}", c.id, st.contract));
    }
    check_parties(c, reg).map_err(|e| e.to_string())?;
    if st.versions.is_empty() {
        return Err(format!(
            "there is no contract {:?} in this ledger (`vereffen contract list` shows the contracts)",
            st.contract
        ));
    }
    Ok(())
}

/// Checks `party`'s counter-proposal `c` to version `to` (a hash or a
/// prefix; `None`: the one open version offered by another party) of the
/// contract whose status is `st`: the contract is not in force, the version
/// answered is not withdrawn, and the terms are not already a version.
pub fn plan_counter(
    st: &ContractStatus,
    c: &Contract,
    reg: &Registry,
    party: &str,
    to: Option<&str>,
) -> Result<Planned, String> {
    check_new_version(st, c, reg)?;
    let id = &st.contract;
    if st.base.is_some() {
        return Err(format!(
            "contract {id:?} is in force: change it with `vereffen contract amend {id} FILE --effective-from YEAR`"
        ));
    }
    let target = match to {
        Some(t) => st.resolve(t)?,
        None => match counterable(st, party).as_slice() {
            [one] => *one,
            [] => {
                return Err(format!("no open version of {id:?} offered by another party to answer; name one with --to"))
            }
            many => {
                return Err(format!(
                    "several open versions could be answered ({}); name one with --to",
                    many.iter().map(|v| short12(&v.version)).collect::<Vec<_>>().join(", ")
                ))
            }
        },
    };
    if matches!(target.state(), VersionState::Withdrawn) {
        return Err(format!("version {} was withdrawn; answer another version", short12(&target.version)));
    }
    let version = c.version_hash();
    if st.versions.contains_key(&version) {
        return Err(format!("these terms are already version {} of {id:?}: accept it instead", short12(&version)));
    }
    Ok(Planned {
        kind: KIND_COUNTER,
        refs: vec![carrier(target)?.to_string()],
        payload: offer_payload(c, Some(&target.version), None, None),
        version,
    })
}

/// Checks an amendment `c`, effective from `effective_from`, of the
/// contract whose status is `st` (`last_settled`: its last settled year):
/// the contract is in force, the terms are new, and the year lies within
/// the term and not before [`first_open_year`]. The amendment references
/// the version in force and one signature of each of its signatories.
pub fn plan_amend(
    st: &ContractStatus,
    c: &Contract,
    reg: &Registry,
    effective_from: u16,
    last_settled: Option<u16>,
) -> Result<Planned, String> {
    check_new_version(st, c, reg)?;
    let id = &st.contract;
    let Some(current) = st.latest_in_force() else {
        return Err(format!(
            "contract {id:?} is not in force: an amendment changes an in-force contract; agree on a version first (`vereffen contract status {id}`)"
        ));
    };
    let version = c.version_hash();
    if st.versions.contains_key(&version) {
        return Err(format!("these terms are already version {} of {id:?}", short12(&version)));
    }
    let first_open = first_open_year(current, last_settled);
    if effective_from < first_open || !c.term.years().contains(&effective_from) {
        return Err(format!(
            "an amendment effective from {effective_from} is not allowed: it must lie within the term {}-{} and not before {first_open}, the first year still open",
            c.term.first_year, c.term.last_year
        ));
    }
    let mut refs = vec![carrier(current)?.to_string()];
    for (_, sigs) in current.signatures.iter().filter(|(p, _)| current.signatories.contains(p)) {
        if let Some(s) = sigs.iter().next() {
            if !refs.contains(&s.entry) {
                refs.push(s.entry.clone());
            }
        }
    }
    Ok(Planned {
        kind: KIND_AMEND,
        refs,
        payload: offer_payload(c, None, Some(&current.version), Some(effective_from)),
        version,
    })
}

/// Checks `party`'s withdrawal of `version` (a hash or a prefix) of the
/// contract whose status is `st`, with an optional reason: only its
/// offerer withdraws a version, and not once it is agreed or withdrawn.
/// The withdrawal references the party's own offer of it.
pub fn plan_withdraw(st: &ContractStatus, party: &str, version: &str, reason: Option<&str>) -> Result<Planned, String> {
    let v = st.resolve(version)?;
    if !v.offered_by.contains(party) {
        return Err(format!(
            "{party:?} did not offer version {}: only its offerer can withdraw it",
            short12(&v.version)
        ));
    }
    match v.state() {
        VersionState::Agreed => {
            return Err(format!(
                "version {} is agreed by every signatory and can no longer be withdrawn",
                short12(&v.version)
            ))
        }
        VersionState::Withdrawn => return Err(format!("version {} is already withdrawn", short12(&v.version))),
        _ => {}
    }
    let entry = v
        .signatures
        .get(party)
        .and_then(|s| s.iter().find(|s| v.entries.contains(&s.entry)))
        .map(|s| s.entry.clone())
        .ok_or_else(|| format!("cannot find {party:?}'s offer of this version"))?;
    Ok(Planned {
        kind: KIND_WITHDRAW,
        refs: vec![entry],
        payload: decision_payload(&st.contract, &v.version, None, reason),
        version: v.version.clone(),
    })
}
