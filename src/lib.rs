//! vereffen: an append-only signed ledger for outcome-based care contracts.
//!
//! The data flow is one line: contract file -> signed entries -> ledger ->
//! settlement -> statement. The modules are folders by layer, and imports
//! point one way (`tests/layering.rs` keeps it so):
//!
//! ```text
//! cli (binary) -> web -> node -> present -> audit -> domain -> ledger
//!                                    rules (composition root: every kind's rules)
//! ```
//!
//! * [`ledger`]: the signed history (entries, keys, signatures, registry,
//!   journal, index, Merkle tree, verify, bundles); knows nothing about care
//!   contracts: the rules of the other kinds come in through
//!   [`ledger::EntryRules`].
//! * [`domain`]: pure functions of signed facts (contracts, negotiation,
//!   measurements, settlement, simulation).
//! * [`audit`]: checkpoints, witnesses, proofs and the audit report model.
//! * [`rules`]: the rule set of this version of vereffen, which the
//!   application hands to the ledger.
//! * [`present`]: everything that turns a statement, a report, a log or a
//!   simulation into text, CSV, XLSX, HTML or charts.
//! * [`node`]: the party node: server, client, sync and request signing
//!   (RFC 9421); uses every layer below, used by the CLI.
//! * [`web`]: the web workspace a node serves beside its API (users,
//!   sessions, read-only pages); above `node`, used by the CLI.
//!
//! `docs/ARCHITECTURE.md` maps every module.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod domain;
pub mod ledger;
pub mod node;
pub mod present;
pub mod rules;
pub mod web;
