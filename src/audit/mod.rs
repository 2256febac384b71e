//! The audit layer: proving what a copy holds to someone who does not
//! trust its keeper.
//!
//! Owns signed checkpoints and witness cosignatures in the C2SP signed-note
//! format ([`checkpoint`]), the `audit.*` entry kinds, the witness decision,
//! equivocation evidence and proof files ([`witness`], re-exported here),
//! and the audit report model ([`report`]), which replays every settlement
//! from its signed inputs, and the inbox model ([`inbox`]: what awaits a
//! party across one copy or every copy of a node).
//!
//! May use: [`crate::ledger`] and [`crate::domain`]. Rendering the report
//! as HTML is presentation ([`crate::present::report_html`]).

pub mod checkpoint;
pub mod inbox;
pub mod report;
pub mod witness;

pub use witness::*;
