//! vereffen: an append-only signed ledger for outcome-based care contracts.
//!
//! The data flow is one line: contract file -> signed entries -> ledger ->
//! settlement -> statement. `docs/ARCHITECTURE.md` maps the modules.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod bundle;
pub mod canonical;
pub mod checkpoint;
pub mod contract;
pub mod csv_strict;
pub mod derive;
pub mod entry;
pub mod exact;
pub mod head;
pub mod index;
pub mod journal;
pub mod keys;
pub mod ledger;
pub mod liveness;
pub mod measurement;
pub mod merkle;
pub mod negotiation;
pub mod note;
pub mod registry;
pub mod report;
pub mod rules;
pub mod settlement;
pub mod sigs;
pub mod simulate;
pub mod summary;
pub mod text;
pub mod verify;
