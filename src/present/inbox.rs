//! The inbox ([`crate::audit::inbox`]) for people and programs: a text
//! listing grouped by ledger, and a JSON document.
//!
//! Everything read from a ledger or a file system (ids, values, reasons,
//! directory names, the commands built from them) goes through
//! [`escape_line`], so a hostile counterparty cannot paint the terminal.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::audit::inbox::{ConflictDetail, InboxItem};
use crate::ledger::text::escape_line;
use crate::present::lang::{Arg, Lang, Tr};

/// The version of the JSON document ([`json`]); changes when a field
/// changes meaning or disappears.
pub const JSON_VERSION: u32 = 1;

fn short(h: &str) -> &str {
    &h[..12.min(h.len())]
}

/// One line that says what awaits whom, in English (unescaped: [`text`]
/// escapes it). The JSON `summary` is this line in every language.
pub fn describe(item: &InboxItem) -> String {
    describe_in(&Tr::new(Lang::En), item)
}

/// [`describe`] in `tr`'s language.
pub fn describe_in(tr: &Tr, item: &InboxItem) -> String {
    let at = item.place();
    let who = at.party.clone().unwrap_or_else(|| tr.t("inbox-every-party"));
    let contract = at.contract.as_deref().unwrap_or("");
    let year = at.year.map(|y| y.to_string()).unwrap_or_default();
    let a = |s: &str| Arg::from(s.to_string());
    match item {
        InboxItem::SignVersion { version, version_kind, offered_by, waiting_for, .. } => {
            let from =
                at.year.map(|y| tr.t_args("inbox-from-year", &[("year", a(&y.to_string()))])).unwrap_or_default();
            let kind = match version_kind.as_str() {
                "proposal" => tr.t("inbox-version-proposal"),
                "counter" => tr.t("inbox-version-counter"),
                "amendment" => tr.t("inbox-version-amendment"),
                other => other.to_string(),
            };
            tr.t_args(
                "inbox-sign-version",
                &[
                    ("contract", a(contract)),
                    ("kind", a(&kind)),
                    ("version", a(short(version))),
                    ("from", a(&from)),
                    ("offered", a(&offered_by.join(", "))),
                    ("who", a(&who)),
                    ("waiting", a(&waiting_for.join(", "))),
                ],
            )
        }
        InboxItem::AttestFigure { indicator, period, value, source, .. } => tr.t_args(
            "inbox-attest",
            &[
                ("contract", a(contract)),
                ("indicator", a(indicator)),
                ("period", a(&period.to_string())),
                ("value", a(&value.to_string())),
                ("source", a(source)),
                ("who", a(&who)),
            ],
        ),
        InboxItem::DisputedFigure { indicator, period, value, disputed_by, .. } => {
            let by: Vec<String> =
                disputed_by.iter().map(|(p, reasons)| format!("{p}: {}", reasons.join("; "))).collect();
            tr.t_args(
                "inbox-disputed",
                &[
                    ("contract", a(contract)),
                    ("who", a(&who)),
                    ("indicator", a(indicator)),
                    ("period", a(&period.to_string())),
                    ("value", a(&value.to_string())),
                    ("by", a(&by.join(" | "))),
                ],
            )
        }
        InboxItem::CosignStatement { statement_hash, signed_by, replaces, .. } => {
            let what = match replaces {
                Some(r) => {
                    tr.t_args("inbox-resettlement", &[("hash", a(short(statement_hash))), ("replaces", a(short(r)))])
                }
                None => tr.t_args("inbox-statement", &[("hash", a(short(statement_hash)))]),
            };
            tr.t_args(
                "inbox-cosign",
                &[
                    ("contract", a(contract)),
                    ("year", a(&year)),
                    ("what", a(&what)),
                    ("signed", a(&signed_by.join(", "))),
                    ("who", a(&who)),
                ],
            )
        }
        InboxItem::SignComputable { statement_hash, .. } => tr.t_args(
            "inbox-computable",
            &[("contract", a(contract)), ("year", a(&year)), ("hash", a(short(statement_hash)))],
        ),
        InboxItem::Conflict { what, detail, .. } => {
            let year = at.year.map(|y| format!(" {y}")).unwrap_or_default();
            let what = match detail {
                Some(ConflictDetail::Settlement(c)) => crate::present::engine::conflict(tr, c),
                Some(ConflictDetail::Contract(c)) => crate::present::engine::contract_conflict(tr, c),
                Some(ConflictDetail::Figures { count, indicator, period, source }) => tr.t_args(
                    "inbox-figures-conflict",
                    &[
                        ("n", a(&count.to_string())),
                        ("indicator", a(indicator)),
                        ("period", a(period)),
                        ("source", a(source)),
                    ],
                ),
                None => what.clone(),
            };
            tr.t_args("inbox-conflict", &[("contract", a(contract)), ("year", a(&year)), ("what", a(&what))])
        }
        InboxItem::Equivocation { origin, size, .. } => {
            tr.t_args("inbox-equivocation", &[("origin", a(&origin.to_string())), ("size", a(&size.to_string()))])
        }
        InboxItem::KeyEnded { key_file, fingerprint, ended, reason, .. } => {
            let why = reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
            let ended = match ended.as_str() {
                "revoked" => tr.t("inbox-key-revoked"),
                "retired" => tr.t("inbox-key-retired"),
                other => other.to_string(),
            };
            tr.t_args(
                "inbox-key-ended",
                &[
                    ("file", a(&key_file.to_string())),
                    ("fingerprint", a(&fingerprint.to_string())),
                    ("who", a(&who)),
                    ("ended", a(&ended)),
                    ("why", a(&why)),
                ],
            )
        }
        InboxItem::CannotOpen { dir, reason, .. } => {
            tr.t_args("inbox-cannot-open", &[("dir", a(&dir.to_string())), ("reason", a(&reason.to_string()))])
        }
    }
}

/// The inbox as text in English: a heading per ledger, then per item a line
/// saying what awaits whom and, indented, the command that acts on it.
/// `items` must be sorted ([`crate::audit::inbox::sort_items`]), so each
/// ledger's items are together.
pub fn text(items: &[InboxItem]) -> String {
    text_in(&Tr::new(Lang::En), items)
}

/// [`text`] in `tr`'s language.
pub fn text_in(tr: &Tr, items: &[InboxItem]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        out.push_str(&tr.t("inbox-nothing"));
        out.push('\n');
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
            let heading = tr.t_args(
                "inbox-ledger-heading",
                &[("ledger", Arg::from(escape_line(&at.ledger).into_owned())), ("n", Arg::from(n))],
            );
            let _ = writeln!(out, "{heading}");
            current = Some(at.ledger.as_str());
        }
        let _ = writeln!(out, "- {}", escape_line(&describe_in(tr, item)));
        let _ = writeln!(out, "    {}", escape_line(&at.command));
    }
    let total = tr.t_args("inbox-total", &[("items", Arg::from(items.len())), ("ledgers", Arg::from(ledgers))]);
    let _ = writeln!(out, "\n{total}");
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
            InboxItem::Conflict { at: place("a"), what: "two\nlines \u{1b}[31m".into(), detail: None },
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

    #[test]
    fn the_inbox_reads_in_dutch() {
        let items = vec![
            InboxItem::Conflict { at: place("a"), what: "x".into(), detail: None },
            InboxItem::CannotOpen { at: place("a"), dir: "d".into(), reason: "r".into() },
        ];
        let nl = Tr::new(Lang::Nl);
        let t = text_in(&nl, &items);
        assert!(t.contains("== grootboek a (2 punten) =="), "{t}");
        assert!(t.contains("- kan d niet openen: r"), "{t}");
        assert!(t.ends_with("2 punten in 1 grootboek\n"), "{t}");
        assert!(!t.contains('⟦'), "{t}");
        assert_eq!(text_in(&nl, &[]), "er wacht niets op u\n");
        assert_eq!(text_in(&Tr::new(Lang::En), &items), text(&items));
    }

    /// Every kind of conflict the inbox reports is worded in Dutch under
    /// `--lang nl`, also when the items come back from the node's cache
    /// (serialized and read back), and the English is the item's `what`.
    #[test]
    fn every_conflict_reads_in_dutch_also_from_the_cache() {
        use crate::audit::inbox::ConflictDetail;
        use crate::domain::negotiation::ContractConflict;
        use crate::domain::settlement::cosign::Conflict;
        let details = vec![
            ConflictDetail::Contract(ContractConflict::ManyAgreed { hashes: vec!["aaaa".into(), "bbbb".into()] }),
            ConflictDetail::Contract(ContractConflict::ManyAmendments { year: 2027, hashes: vec!["cc".into()] }),
            ConflictDetail::Figures {
                count: 2,
                indicator: "copd-admissions".into(),
                period: "2026-03".into(),
                source: "zorgverzekeraar".into(),
            },
            ConflictDetail::Settlement(Conflict::InputDisputed {
                indicator: "ccq".into(),
                period: "2026".into(),
                input: "abc".into(),
                by: vec!["p".into()],
            }),
        ];
        let (en, nl) = (Tr::new(Lang::En), Tr::new(Lang::Nl));
        for d in details {
            let english = match &d {
                ConflictDetail::Contract(c) => c.to_string(),
                ConflictDetail::Settlement(c) => c.to_string(),
                ConflictDetail::Figures { .. } => {
                    "2 figures of copd-admissions 2026-03 are live at once (zorgverzekeraar): the source corrects one of them"
                        .to_string()
                }
            };
            let item = InboxItem::Conflict { at: place("a"), what: english.clone(), detail: Some(d) };
            let cached: InboxItem =
                serde_json::from_str(&serde_json::to_string(&item).expect("serializes")).expect("reads back");
            assert_eq!(cached, item);
            let t_en = text_in(&en, std::slice::from_ref(&cached));
            assert!(t_en.contains(&format!("CONFLICT: {english}")), "{t_en}");
            let t_nl = text_in(&nl, &[cached]);
            assert!(!t_nl.contains(&english) && !t_nl.contains('⟦'), "{t_nl}");
            for english_word in [" are live at once", " were agreed", " disputed by", " the source "] {
                assert!(!t_nl.contains(english_word), "{t_nl}");
            }
        }
    }
}
