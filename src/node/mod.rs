//! The party node: one organisation's server and its sync client.
//!
//! This layer sits above `present` and below the command line: it uses the
//! ledger (copies, bundles), the audit layer (checkpoints, witnessing,
//! equivocation evidence) and the rule set (`crate::rules::ALL`), and adds
//! what only a networked node needs. It owns:
//!
//! * [`home`]: the node home `DIR` (`DIR/ledgers/<id>/` copies, `DIR/keys/`
//!   the organisation's party keys, `DIR/peers.json`, `DIR/sync/` private
//!   sync state), the key a node uses for a ledger, peers;
//! * [`store`]: the ledger copies of a home opened lazily, a bounded cache of
//!   open handles (writes to one ledger serialized by its handle's lock), and
//!   who may see which ledger (live keys of registered parties);
//! * [`httpsig`]: HTTP Message Signatures (RFC 9421, ed25519), the narrow
//!   subset every node request is signed and checked with
//!   (`docs/FORMAT.md` 12);
//! * [`server`]: `serve`, the HTTP API v1 (`docs/PROTOCOL.md`) over
//!   hyper-util and tokio, TLS with rustls, every limit a named constant;
//! * [`client`]: `sync` with one peer: pull, push, witness, equivocation;
//! * [`local`]: the running node's owner-only unix socket, to which
//!   `vereffen sync` hands its work when a node runs on the home;
//! * [`verify`]: what `vereffen verify` checks of a copy, read-only (the
//!   command and the web workspace's audit page both call it).
//!
//! IO lives here by nature (network, files), but every rule stays below:
//! what is valid is decided by the same `ledger::bundle` import as
//! `vereffen import`, and what counts as equivocation by
//! `audit::decide_witness`.

pub mod client;
pub mod home;
pub mod httpsig;
pub mod local;
pub mod server;
pub mod store;
pub mod tls;
pub mod verify;
