//! The presentation layer: everything that turns signed facts and computed
//! results into something a person reads, shared by the CLI and the web
//! workspace.
//!
//! * [`statement`]: a settlement statement as a table, JSON, CSV;
//!   [`xlsx`]: as a workbook, with [`xlsx_formula`] for its formulas;
//! * [`document`]: a statement as a document, HTML ([`document::html`])
//!   and PDF ([`pdf`]);
//! * [`diff`]: two statements of a year compared, correction payments;
//! * [`term`]: a contract's term summary (`settle summary`);
//! * [`terms`]: a contract's terms document in the reader's language
//!   (`contract show`, the web's contract, timeline and offer pages);
//! * [`engine`]: the settlement engine's refusals and a settled year's
//!   conflicts in the reader's language;
//! * [`summary`]: one-line descriptions of entries for `log`;
//! * [`words`]: a statement line's label and formula in a language;
//! * [`layout`]: padding and cutting columns by characters;
//! * [`lang`]: languages (English, Dutch) and their number formats;
//! * [`negotiation`]: a contract's versions and their states in words
//!   (`contract status`, the web's contract page);
//! * [`inbox`]: what awaits a party, as text grouped by ledger and as JSON;
//! * [`measure`]: the figures of `measure list` and the checked entries
//!   of submit, attest, dispute and correct (the CLI and the web share them);
//! * [`settle`]: a year's statement as `settle` and the web show it (view,
//!   standing, corrections, every format);
//! * [`report_html`]: the audit report as self-contained HTML;
//! * [`simulation`]: a simulation's model, run, CSV files and charts, as
//!   `simulate` and the web's model page run it;
//! * [`charts`]: simulation charts (SVG, PNG, or an SVG string).
//!
//! May use: [`crate::ledger`], [`crate::domain`], [`crate::audit`]. Nothing
//! here decides validity or computes money: it formats what the lower
//! layers computed.

pub mod accountability;
pub mod charts;
pub mod diff;
pub mod document;
pub mod engine;
pub mod forecast;
pub mod inbox;
pub mod lang;
pub mod layout;
pub mod measure;
pub mod negotiation;
pub mod pdf;
pub mod report_html;
pub mod settle;
pub mod simulation;
pub mod statement;
pub mod summary;
pub mod term;
pub mod terms;
pub mod words;
pub mod xlsx;
pub mod xlsx_formula;
