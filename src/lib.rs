//! vereffen: an append-only signed ledger for outcome-based care contracts.
//!
//! The data flow is one line: contract file -> signed entries -> ledger ->
//! settlement -> statement. `docs/ARCHITECTURE.md` maps the modules.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod canonical;
pub mod contract;
