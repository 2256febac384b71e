//! The validity rules of every entry kind, in one place, so that append,
//! import and verify apply exactly the same rules.
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

use crate::entry::{Entry, EntryId};
use crate::registry::{self, KeyUse, Registry, RuleError};
use crate::settlement::cosign;
use crate::sigs::{self, SigFailure};
use crate::{audit, measurement, negotiation, note};

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

/// Checks `e` completely, in the safe order: [`signing_keys`], then every
/// signature with [`sigs::verify_strict`], then [`check_verified`]. Returns
/// the public key of each signature, in order. (Batches use the two steps
/// directly, to check all signatures of a batch in parallel.) For a new
/// entry: same as [`check_as`] with [`KeyUse::New`].
pub fn check(
    e: &Entry,
    reg: &Registry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
) -> Result<Vec<VerifyingKey>, RuleError> {
    check_as(e, reg, lookup, KeyUse::New)
}

/// [`check`] for a new or an existing entry (see [`KeyUse`]).
pub fn check_as(
    e: &Entry,
    reg: &Registry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
    mode: KeyUse,
) -> Result<Vec<VerifyingKey>, RuleError> {
    let keys = signing_keys(e, reg, mode)?;
    let msg = e.signing_input();
    for (s, key) in e.sigs().iter().zip(&keys) {
        sigs::verify_strict(key, &msg, &s.sig).map_err(|why| RuleError(signature_refusal(why)))?;
    }
    check_verified(e, &keys, reg, lookup, mode)?;
    Ok(keys)
}

/// What to say about a refused entry signature (append, import, verify).
pub fn signature_refusal(why: SigFailure) -> String {
    match why {
        SigFailure::Mismatch => {
            "a signature does not verify: the entry was altered after signing, or signed for another ledger or kind"
                .into()
        }
        other => format!(
            "a signature does not verify ({other}): it was not made by the key's owner; the entry is forged or damaged"
        ),
    }
}
