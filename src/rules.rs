//! The validity rules of every entry kind, in one place, so that append,
//! import and verify apply exactly the same rules.
//!
//! An entry is valid at a point of a journal when its kind is known, its
//! signatures and keys satisfy the registry ([`Registry::check`]), and its
//! payload satisfies its kind's rules, which may look at the entries it
//! references (through `lookup`) but at nothing else, so validity does not
//! depend on the order in which copies received unrelated entries.

use ed25519_dalek::VerifyingKey;

use crate::entry::{Entry, EntryId};
use crate::registry::{self, KeyUse, Registry, RuleError};
use crate::settlement::cosign;
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

/// Checks a new entry `e` against the registry and its kind's rules. Returns
/// the public key for each signature, in order; the caller checks the
/// signatures. Same as [`check_as`] with [`KeyUse::New`].
pub fn check(
    e: &Entry,
    reg: &Registry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
) -> Result<Vec<VerifyingKey>, RuleError> {
    check_as(e, reg, lookup, KeyUse::New)
}

/// Checks a new or an existing entry (see [`KeyUse`]: an existing entry may
/// be signed by a key ended since; it is then void, not invalid).
pub fn check_as(
    e: &Entry,
    reg: &Registry,
    lookup: &dyn Fn(&EntryId) -> Option<Entry>,
    mode: KeyUse,
) -> Result<Vec<VerifyingKey>, RuleError> {
    if !is_known(e.kind()) {
        return Err(RuleError(format!("entry kind {:?} is not known to this version of vereffen", e.kind())));
    }
    let keys = reg.check_as(e, mode)?;
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
    Ok(keys)
}
