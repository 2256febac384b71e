//! The domain layer: outcome-based care contracts as pure functions of
//! signed facts.
//!
//! Owns the exact decimal reader for every outside figure ([`exact`]) and
//! strict CSV quoting ([`csv_strict`]), the contract format and its
//! validation, the negotiation, the agreed
//! measurements and their derivation from claims extracts, the yearly
//! settlement (with the `settlement.sign` co-signature and its replay rule)
//! and the simulation of contracts before signing.
//!
//! May use: [`crate::ledger`] (entries, keys, registry). Never the audit,
//! presentation or application layers: no clock, no IO except where a
//! module says so (`derive` reads the files it is given).

pub mod contract;
pub mod csv_strict;
pub mod derive;
pub mod exact;
pub mod measurement;
pub mod negotiation;
pub mod note;
pub mod settlement;
pub mod simulate;
