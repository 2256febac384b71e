//! Control characters in ledger text: the validation rule for new text and
//! the one escaping used wherever ledger text is shown.
//!
//! A counterparty writes names, titles, notes and reasons that others print
//! on their terminal or open in a spreadsheet. ESC, OSC, BEL, NUL, carriage
//! returns and newlines in such text could repaint the screen or fake lines,
//! and bidi overrides could make text read differently from its bytes. So:
//!
//! * **Names and titles** (one line: party names, contract titles, names in
//!   contract terms) refuse every [`is_forbidden_in_line`] character:
//!   Unicode category Cc (U+0000-U+001F, U+007F-U+009F), the line and
//!   paragraph separators U+2028/U+2029, and the bidi embeddings, overrides
//!   and isolates U+202A-U+202E and U+2066-U+2069.
//! * **Free text** (notes, reasons, descriptions) may also hold `\n` and
//!   `\t`, nothing else of that set ([`check_free_text`]).
//! * **Output**: text from a ledger (possibly written by an older version or
//!   a hostile peer) is shown through [`escape_line`] (one-line contexts:
//!   tables, `log`) or [`escape_text`] (multi-line contexts, which keep `\n`
//!   and `\t`), which write every such character as `\u{..}` with its hex
//!   code. Spreadsheet cells go through [`spreadsheet_cell`], which also
//!   defuses formulas.

use std::borrow::Cow;

/// True for a character no name, title or other single-line text may hold.
pub fn is_forbidden_in_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// True for a character free text (notes, reasons) may not hold: those of
/// [`is_forbidden_in_line`] except `\n` and `\t`.
pub fn is_forbidden_in_text(c: char) -> bool {
    c != '\n' && c != '\t' && is_forbidden_in_line(c)
}

fn describe(c: char) -> String {
    format!("control character U+{:04X}", c as u32)
}

/// Checks a single-line text (a name or title); the error names `what`, the
/// offending character and its position (1-based, in characters).
pub fn check_line(what: &str, text: &str) -> Result<(), String> {
    match text.chars().enumerate().find(|(_, c)| is_forbidden_in_line(*c)) {
        None => Ok(()),
        Some((i, c)) => Err(format!(
            "{what} holds {} at character {}: names and titles are one line of printable text",
            describe(c),
            i + 1
        )),
    }
}

/// Checks free text (a note, reason or description): line breaks and tabs
/// are allowed, other control characters are not.
pub fn check_free_text(what: &str, text: &str) -> Result<(), String> {
    match text.chars().enumerate().find(|(_, c)| is_forbidden_in_text(*c)) {
        None => Ok(()),
        Some((i, c)) => Err(format!(
            "{what} holds {} at character {}: only printable text, line breaks and tabs are allowed",
            describe(c),
            i + 1
        )),
    }
}

fn escape_with(text: &str, forbidden: fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(forbidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if forbidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Ledger text for a one-line context (a table cell, a `log` line): every
/// control character, line break, tab and bidi control is written as
/// `\u{1b}`-style text. Text without them is returned unchanged.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape_with(text, is_forbidden_in_line)
}

/// Ledger text for a multi-line context (a rendered contract, a note shown
/// in full): as [`escape_line`] but `\n` and `\t` stay.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape_with(text, is_forbidden_in_text)
}

/// Ledger text for a CSV or XLSX cell: [`escape_text`], and a text that a
/// spreadsheet would read as a formula (starting with `=`, `+`, `-` or `@`)
/// gets a leading `'`.
pub fn spreadsheet_cell(text: &str) -> Cow<'_, str> {
    let escaped = escape_text(text);
    if escaped.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{escaped}"))
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_every_control() {
        for bad in
            ["a\u{1b}[2Jb", "a\u{7}", "a\0", "a\nb", "a\rb", "a\tb", "a\u{9b}", "a\u{2028}", "a\u{202E}b", "\u{2066}"]
        {
            assert!(check_line("party name", bad).is_err(), "{bad:?}");
        }
        assert!(check_line("party name", "Zorggroep Één — Oost").is_ok());
        let e = check_line("party name", "ab\u{1b}").unwrap_err();
        assert!(e.contains("U+001B at character 3"), "{e}");
    }

    #[test]
    fn free_text_keeps_newlines_and_tabs() {
        assert!(check_free_text("a note", "line one\n\tline two").is_ok());
        for bad in ["\u{1b}]0;title\u{7}", "a\rb", "a\0", "a\u{202D}"] {
            assert!(check_free_text("a note", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escaping_is_visible_and_leaves_clean_text_alone() {
        assert!(matches!(escape_line("plain tekst é"), Cow::Borrowed(_)));
        assert_eq!(escape_line("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\u{a}c");
        assert_eq!(escape_text("a\u{1b}b\nc\td\r"), "a\\u{1b}b\nc\td\\u{d}");
        assert_eq!(escape_line("x\u{202E}y\u{7f}"), "x\\u{202e}y\\u{7f}");
    }

    #[test]
    fn spreadsheet_cells_defuse_formulas() {
        assert_eq!(spreadsheet_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for f in ["+1", "-1", "@SUM(A1)"] {
            assert_eq!(spreadsheet_cell(f), format!("'{f}"));
        }
        assert_eq!(spreadsheet_cell("Zorg\u{7}"), "Zorg\\u{7}");
        assert_eq!(spreadsheet_cell("plain"), "plain");
    }
}
