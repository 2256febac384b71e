//! The party node: server, client, sync, request signing; uses every layer
//! below (ledger, domain, audit, rules, present), used by cli.
//!
//! * [`httpsig`]: HTTP Message Signatures (RFC 9421, ed25519), the narrow
//!   subset every node request is signed and checked with
//!   (`docs/FORMAT.md` 12).

pub mod httpsig;
