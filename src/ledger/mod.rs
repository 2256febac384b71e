//! The signed-history layer: one party's copy of a ledger and everything
//! that makes it trustworthy on its own.
//!
//! Owns the canonical encoding ([`canonical`]), keys ([`keys`]), entries
//! and their ids and signing input ([`entry`]), strict signature checks
//! ([`sigs`]), the party and key registry ([`registry`]), the hash-chained
//! journal ([`journal`]) and its acknowledged head ([`head`]), the derived
//! index ([`index`]), the Merkle tree over the journal ([`merkle`]), which
//! entries count ([`liveness`]: live and void entries after a key's end),
//! the copy on disk with its checked appends ([`copy`], re-exported here),
//! full verification ([`verify`]), read-only snapshots of a journal
//! ([`snapshot`]), bundles ([`bundle`]) and the rules for
//! ledger text and its escaping on output ([`text`]).
//!
//! May use: nothing else in this crate. It knows the `party.*` kinds (who
//! may sign) and nothing about care contracts: the rules of every other
//! kind come in through [`EntryRules`], which the application supplies
//! (`crate::rules`) when it opens a copy.

pub mod bundle;
pub mod canonical;
pub mod copy;
pub mod entry;
pub mod head;
pub mod index;
pub mod journal;
pub mod keys;
pub mod liveness;
pub mod merkle;
pub mod registry;
pub mod setsum;
pub mod sigs;
pub mod snapshot;
pub mod text;
pub mod verify;

pub use copy::*;

use ed25519_dalek::VerifyingKey;

use entry::{Entry, EntryId};
use registry::{KeyUse, Registry, RuleError};

/// The validity rules of entry kinds, supplied by the layer that knows them.
///
/// Append, import and verify call the same implementation, so they apply
/// exactly the same rules, in the same safe order: [`EntryRules::signing_keys`],
/// then every signature ([`sigs::verify_strict`]), and only then
/// [`EntryRules::check_verified`], so that no unsigned byte reaches a kind's
/// rules. Implementations must be pure: a verdict may depend only on the
/// entry, the entries it references (through `lookup`) and the registry.
pub trait EntryRules: Sync {
    /// The first step for any entry: its kind is known, and the public key
    /// each signature must verify under, in order (reading of a payload only
    /// the key of a registration or rotation).
    fn signing_keys(&self, e: &Entry, reg: &Registry, mode: KeyUse) -> Result<Vec<VerifyingKey>, RuleError>;

    /// The second step, for an entry whose signatures verified under `keys`:
    /// the rest of the registry rules and its kind's rules.
    fn check_verified(
        &self,
        e: &Entry,
        keys: &[VerifyingKey],
        reg: &Registry,
        lookup: &dyn Fn(&EntryId) -> Option<Entry>,
        mode: KeyUse,
    ) -> Result<(), RuleError>;

    /// True if entries of this kind may be referenced by the rules of
    /// another entry (verify keeps these in memory for lookups).
    fn is_referenceable(&self, kind: &str) -> bool;

    /// What an entry's rules read from the registry besides its own signing
    /// keys, so the import order puts it after those registrations: the
    /// party whose registration it needs and the key names
    /// (`<party>/<fingerprint>`) whose introductions it needs. `None` when
    /// the kind reads nothing more.
    fn registry_reads(&self, e: &Entry) -> Option<(String, Vec<String>)>;

    /// [`EntryRules::signing_keys`], every signature under the strict rule,
    /// then [`EntryRules::check_verified`]: the whole check of one entry.
    /// Returns the public key of each signature, in order.
    fn check(
        &self,
        e: &Entry,
        reg: &Registry,
        lookup: &dyn Fn(&EntryId) -> Option<Entry>,
        mode: KeyUse,
    ) -> Result<Vec<VerifyingKey>, RuleError> {
        let keys = self.signing_keys(e, reg, mode)?;
        let msg = e.signing_input();
        for (s, key) in e.sigs().iter().zip(&keys) {
            sigs::verify_strict(key, &msg, &s.sig).map_err(|why| RuleError(sigs::refusal(why)))?;
        }
        self.check_verified(e, &keys, reg, lookup, mode)?;
        Ok(keys)
    }
}
