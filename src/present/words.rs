//! A statement line in words: its label and its computation in words, in
//! a reader's language. Every document (table, CSV, XLSX, HTML, the audit
//! report, the web) takes a line's words from here, never from the engine.

use crate::domain::settlement::Line;
use crate::present::lang::Tr;

/// The label of `line` for a reader of `tr`'s language.
///
/// Today the engine still words its lines in English (`Line::label`); the
/// Dutch wording replaces this body (issue 15, branch `lines`).
pub fn label(tr: &Tr, line: &Line) -> String {
    let _ = tr;
    line.label.clone()
}

/// The computation of `line` in words with its numbers, for a reader of
/// `tr`'s language (see [`label`]).
pub fn formula(tr: &Tr, line: &Line) -> String {
    let _ = tr;
    line.formula.clone()
}
