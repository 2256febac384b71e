//! The inbox ([`crate::audit::inbox`]) for people and programs: a text
//! listing grouped by ledger, and a JSON document.
//!
//! Everything read from a ledger or a file system (ids, values, reasons,
//! directory names, the commands built from them) goes through
//! [`escape_line`], so a hostile counterparty cannot paint the terminal.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::audit::inbox::InboxItem;
use crate::ledger::text::escape_line;

/// The version of the JSON document ([`json`]); changes when a field
/// changes meaning or disappears.
pub const JSON_VERSION: u32 = 1;

fn short(h: &str) -> &str {
    &h[..12.min(h.len())]
}

/// One line that says what awaits whom (unescaped: [`text`] escapes it).
pub fn describe(item: &InboxItem) -> String {
    let at = item.place();
    let who = at.party.as_deref().unwrap_or("every party");
    let contract = at.contract.as_deref().unwrap_or("");
    match item {
        InboxItem::SignVersion { version, version_kind, offered_by, waiting_for, .. } => {
            let from = at.year.map(|y| format!(" from {y}")).unwrap_or_default();
            format!(
                "{contract}: {version_kind} {}{from} offered by {} awaits {who}'s signature (waiting for {})",
                short(version),
                offered_by.join(", "),
                waiting_for.join(", ")
            )
        }
        InboxItem::AttestFigure { indicator, period, value, source, .. } => format!(
            "{contract}: figure {indicator} {period} = {value} from {source} awaits {who}'s attestation (attest, or dispute with a reason)"
        ),
        InboxItem::DisputedFigure { indicator, period, value, disputed_by, .. } => {
            let by: Vec<String> =
                disputed_by.iter().map(|(p, reasons)| format!("{p}: {}", reasons.join("; "))).collect();
            format!(
                "{contract}: {who}'s figure {indicator} {period} = {value} is disputed ({}); correct it, or settle the dispute with the disputing party",
                by.join(" | ")
            )
        }
        InboxItem::CosignStatement { statement_hash, signed_by, replaces, .. } => {
            let year = at.year.map(|y| y.to_string()).unwrap_or_default();
            let what = match replaces {
                Some(r) => format!("resettlement of {} (replaces {})", short(statement_hash), short(r)),
                None => format!("statement {}", short(statement_hash)),
            };
            format!("{contract}: {year} {what} signed by {} awaits {who}'s co-signature", signed_by.join(", "))
        }
        InboxItem::SignComputable { statement_hash, .. } => {
            let year = at.year.map(|y| y.to_string()).unwrap_or_default();
            format!(
                "{contract}: {year} is computable (every required figure agreed; statement {}); nobody signed it yet",
                short(statement_hash)
            )
        }
        InboxItem::Conflict { what, .. } => {
            let year = at.year.map(|y| format!(" {y}")).unwrap_or_default();
            format!("{contract}{year}: CONFLICT: {what}")
        }
        InboxItem::Equivocation { origin, size, .. } => format!(
            "EQUIVOCATION: {origin} signed two different histories of size {size}; do not trust that copy's keeper until it is resolved"
        ),
        InboxItem::KeyEnded { key_file, fingerprint, ended, reason, .. } => {
            let why = reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
            format!("key {key_file} ({fingerprint}) of {who} was {ended}{why}: it can no longer sign in this ledger; use the party's current key")
        }
        InboxItem::CannotOpen { dir, reason, .. } => format!("cannot open {dir}: {reason}"),
    }
}

/// The inbox as text: a heading per ledger, then per item a line saying what
/// awaits whom and, indented, the command that acts on it. `items` must be
/// sorted ([`crate::audit::inbox::sort_items`]), so each ledger's items are
/// together.
pub fn text(items: &[InboxItem]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        out.push_str("nothing awaits you\n");
        return out;
    }
    let mut ledgers = 0usize;
    let mut current: Option<&str> = None;
    for item in items {
        let at = item.place();
        if current != Some(at.ledger.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            ledgers += 1;
            let n = items.iter().filter(|i| i.place().ledger == at.ledger).count();
            let _ =
                writeln!(out, "== ledger {} ({n} item{}) ==", escape_line(&at.ledger), if n == 1 { "" } else { "s" });
            current = Some(at.ledger.as_str());
        }
        let _ = writeln!(out, "- {}", escape_line(&describe(item)));
        let _ = writeln!(out, "    {}", escape_line(&at.command));
    }
    let _ = writeln!(
        out,
        "\n{} item{} in {ledgers} ledger{}",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        if ledgers == 1 { "" } else { "s" }
    );
    out
}

/// The inbox as a JSON document: `{"version": 1, "items": [...]}` with each
/// item in its serde form (`kind`, `ledger`, `contract`, `year`, `party`,
/// `entries`, `command` and the kind's own fields) plus `summary`, the line
/// [`text`] shows. Strings are JSON-escaped, never altered.
pub fn json(items: &[InboxItem]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("summary".into(), Value::String(describe(i)));
            }
            v
        })
        .collect();
    json!({"version": JSON_VERSION, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::inbox::Place;

    fn place(ledger: &str) -> Place {
        Place {
            ledger: ledger.into(),
            contract: Some("c".into()),
            year: Some(2026),
            party: Some("p".into()),
            entries: vec!["aa".into()],
            command: "vereffen --ledger 'l\u{1b}[2J' verify".into(),
        }
    }

    #[test]
    fn ledger_text_is_escaped_and_grouped() {
        let items = vec![
            InboxItem::Conflict { at: place("a"), what: "two\nlines \u{1b}[31m".into() },
            InboxItem::CannotOpen { at: place("b\u{7}"), dir: "x".into(), reason: "r".into() },
        ];
        let t = text(&items);
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("two\\u{a}lines \\u{1b}[31m"), "{t}");
        assert!(t.contains("== ledger a (1 item) =="), "{t}");
        assert!(t.contains("== ledger b\\u{7} (1 item) =="), "{t}");
        assert!(t.ends_with("2 items in 2 ledgers\n"), "{t}");
        assert_eq!(text(&[]), "nothing awaits you\n");
        let j = json(&items);
        assert_eq!(j["items"][0]["kind"], "conflict");
        assert_eq!(j["items"][0]["what"], "two\nlines \u{1b}[31m");
        assert_eq!(j["items"][1]["ledger"], "b\u{7}");
    }
}
