//! The validity rules of every entry kind, in one place, so that append,
//! import and verify apply exactly the same rules: the composition root
//! that hands the domain's and the audit layer's kinds to the signed-history
//! layer as [`ALL`], an [`EntryRules`].
//!
//! An entry is valid at a point of a journal when its kind is known, its
//! signatures and keys satisfy the registry ([`Registry::check`]), and its
//! payload satisfies its kind's rules. The checks run in that order: the
//! signing keys ([`signing_keys`]), the signatures, and only then the rules
//! ([`check_verified`]), so unsigned bytes never reach contract validation
//! or settlement replay. A kind's rules may look at the entries it
//! references (through `lookup`) but at nothing else, so validity does not
//! depend on the order in which copies received unrelated entries.

use ed25519_dalek::VerifyingKey;

use crate::audit;
use crate::domain::settlement::cosign;
use crate::domain::{measurement, negotiation, note};
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::registry::{self, KeyUse, Registry, RuleError};
use crate::ledger::EntryRules;

/// The rules of every kind this version of vereffen knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllKinds;

/// The rule set the application hands to every ledger it opens.
pub static ALL: AllKinds = AllKinds;

impl EntryRules for AllKinds {
    fn signing_keys(&self, e: &Entry, reg: &Registry, mode: KeyUse) -> Result<Vec<VerifyingKey>, RuleError> {
        signing_keys(e, reg, mode)
    }

    fn check_verified(
        &self,
        e: &Entry,
        keys: &[VerifyingKey],
        reg: &Registry,
        lookup: &dyn Fn(&EntryId) -> Option<Entry>,
        mode: KeyUse,
    ) -> Result<(), RuleError> {
        check_verified(e, keys, reg, lookup, mode)
    }

    fn is_referenceable(&self, kind: &str) -> bool {
        is_referenceable(kind)
    }

    fn registry_reads(&self, e: &Entry) -> Option<(String, Vec<String>)> {
        audit::registry_reads(e)
    }
}

/// True if this version of vereffen knows the kind.
pub fn is_known(kind: &str) -> bool {
    [registry::KIND_REGISTER, registry::KIND_ROTATE, registry::KIND_REVOKE, note::KIND_NOTE].contains(&kind)
        || negotiation::KINDS.contains(&kind)
        || measurement::KINDS.contains(&kind)
        || cosign::KINDS.contains(&kind)
        || audit::KINDS.contains(&kind)
}

/// True if entries of this kind may be referenced by the rules of another
/// entry (verify keeps these in memory for lookups).
pub fn is_referenceable(kind: &str) -> bool {
    negotiation::KINDS.contains(&kind) || measurement::KINDS.contains(&kind) || cosign::KINDS.contains(&kind)
}

/// The first step for any entry, before its kind's rules: the kind is
/// known, and the public key each signature must verify under, in order
/// ([`Registry::signing_keys`]: only the key part of the registry rules, and
/// of a payload only the key of a registration or rotation). The caller
/// checks the signatures, and only then runs [`check_verified`].
///
/// `mode` says whether `e` is a new entry or one that exists in some copy
/// already ([`KeyUse`]: an existing entry may be signed by a key ended since;
/// it is then void, not invalid).
pub fn signing_keys(e: &Entry, reg: &Registry, mode: KeyUse) -> Result<Vec<VerifyingKey>, RuleError> {
    if !is_known(e.kind()) {
        return Err(RuleError(format!("entry kind {:?} is not known to this version of vereffen", e.kind())));
    }
    reg.signing_keys(e, mode)
}

/// The second step, for an entry whose signatures verified under `keys`
/// (what [`signing_keys`] returned, at the same registry): the rest of the
/// registry rules and its kind's rules (contract validation, settlement
/// replay, measurement and audit rules). Unsigned bytes never reach these.
pub fn check_verified(
    e: &Entry,
    keys: &[VerifyingKey],
    reg: &Registry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
    mode: KeyUse,
) -> Result<(), RuleError> {
    debug_assert_eq!(keys.len(), e.sigs().len());
    reg.check_verified(e, mode)?;
    match e.kind() {
        note::KIND_NOTE => note::check_payload(&e.body().payload).map_err(RuleError)?,
        k if negotiation::KINDS.contains(&k) => negotiation::check(e, lookup)?,
        k if measurement::KINDS.contains(&k) => measurement::check(e, lookup)?,
        k if cosign::KINDS.contains(&k) => cosign::check(e, lookup)?,
        k if audit::KINDS.contains(&k) => match keys.first() {
            Some(author) => audit::check(e, author, reg)?,
            None => return Err(RuleError("an audit entry needs the author's signature".into())),
        },
        _ => {}
    }
    Ok(())
}
