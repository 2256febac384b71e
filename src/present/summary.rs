//! One-line, human-readable summaries of entries, for `log` and reports.

use serde_json::Value;

use crate::ledger::entry::Entry;
use crate::ledger::keys::KeyId;
use crate::ledger::registry::{KIND_REGISTER, KIND_REVOKE, KIND_ROTATE};

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("?")
}

fn fingerprint_of_public(hex: &str) -> String {
    data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
        .map(|k| KeyId::of(&k).fingerprint())
        .unwrap_or_else(|| "?".into())
}

/// A one-line summary of what an entry says. Text from the entry (names,
/// notes, reasons) comes from its author: control characters, line breaks
/// and bidi controls in it are shown escaped ([`crate::ledger::text::escape_line`]),
/// so a summary is always one line of printable text.
pub fn one_line(e: &Entry) -> String {
    let line = unescaped(e);
    let shown = crate::ledger::text::escape_line(&line).into_owned();
    debug_assert!(!shown.chars().any(crate::ledger::text::is_forbidden_in_line));
    shown
}

fn unescaped(e: &Entry) -> String {
    let b = e.body();
    let p = &b.payload;
    match b.kind.as_str() {
        KIND_REGISTER => format!(
            "registers {} as {} ({:?}), key {}",
            b.author.party,
            s(p, "role"),
            s(p, "name"),
            b.author_key().fingerprint()
        ),
        KIND_ROTATE => {
            let retire = p.get("retire_old").and_then(Value::as_bool).unwrap_or(false);
            format!(
                "adds key {} to {}{}",
                fingerprint_of_public(s(p, "new_public_key")),
                b.author.party,
                if retire { format!(", retires {}", b.author_key().fingerprint()) } else { String::new() }
            )
        }
        KIND_REVOKE => format!(
            "revokes key {} of {}: {}",
            KeyId::from_hex(s(p, "key")).map(|k| k.fingerprint()).unwrap_or_else(|| "?".into()),
            b.author.party,
            s(p, "reason")
        ),
        crate::domain::note::KIND_NOTE => {
            let text = s(p, "text");
            let first: String = text.lines().next().unwrap_or("").chars().take(60).collect();
            let more = if first.len() < text.len() { "..." } else { "" };
            match p.get("contract").and_then(Value::as_str) {
                Some(c) => format!("note on {c}: {first}{more}"),
                None => format!("note: {first}{more}"),
            }
        }
        k if k.starts_with("contract.") => {
            let version = &s(p, "version")[..12.min(s(p, "version").len())];
            let contract = s(p, "contract");
            let behalf = p.get("on_behalf_of").and_then(Value::as_str).map(|o| format!(" for {o}")).unwrap_or_default();
            match k {
                crate::domain::negotiation::KIND_PROPOSE => format!("proposes {contract} version {version}"),
                crate::domain::negotiation::KIND_COUNTER => {
                    format!(
                        "counters {contract} {} with version {version}",
                        &s(p, "answers")[..12.min(s(p, "answers").len())]
                    )
                }
                crate::domain::negotiation::KIND_AMEND => format!(
                    "amends {contract} from {}: version {version}",
                    p.get("effective_from").and_then(Value::as_u64).unwrap_or(0)
                ),
                crate::domain::negotiation::KIND_ACCEPT => format!("signs {contract} version {version}{behalf}"),
                crate::domain::negotiation::KIND_REJECT => {
                    format!("rejects {contract} version {version}{behalf}: {}", s(p, "reason"))
                }
                crate::domain::negotiation::KIND_WITHDRAW => format!("withdraws {contract} version {version}"),
                _ => format!("{k} on {contract}"),
            }
        }
        crate::domain::measurement::KIND_SUBMIT | crate::domain::measurement::KIND_CORRECT => format!(
            "{} {} {} = {}{}",
            if b.kind == crate::domain::measurement::KIND_SUBMIT { "measures" } else { "corrects" },
            s(p, "indicator"),
            s(p, "period"),
            s(p, "value"),
            p.get("reason").and_then(Value::as_str).map(|r| format!(" ({r})")).unwrap_or_default()
        ),
        crate::domain::measurement::KIND_ATTEST => {
            format!("attests measurement {}", &s(p, "measurement")[..12.min(s(p, "measurement").len())])
        }
        crate::domain::measurement::KIND_DISPUTE => format!(
            "disputes measurement {}: {}",
            &s(p, "measurement")[..12.min(s(p, "measurement").len())],
            s(p, "reason")
        ),
        crate::domain::negotiation::KIND_MANDATE_GRANT => format!(
            "mandates {} to sign for {} ({} years {}-{})",
            s(p, "grantee"),
            b.author.party,
            p.get("contracts").map(|c| c.to_string()).unwrap_or_default(),
            p.get("first_year").and_then(Value::as_u64).unwrap_or(0),
            p.get("last_year").and_then(Value::as_u64).unwrap_or(0)
        ),
        crate::domain::negotiation::KIND_MANDATE_REVOKE => {
            format!("revokes mandate {}: {}", &s(p, "mandate")[..12.min(s(p, "mandate").len())], s(p, "reason"))
        }
        k if crate::audit::KINDS.contains(&k) => crate::audit::one_line(e),
        crate::domain::settlement::cosign::KIND_SIGN => {
            let hash = p.get("statement_hash").and_then(Value::as_str).unwrap_or("");
            let replaces = if p.get("replaces").is_some_and(|r| !r.is_null()) { " (resettlement)" } else { "" };
            format!(
                "signs the {} {} statement {}{replaces}",
                p.get("contract").and_then(Value::as_str).unwrap_or("?"),
                p.get("year").and_then(Value::as_u64).unwrap_or(0),
                &hash[..12.min(hash.len())]
            )
        }
        other => format!("{other} by {}", b.author.party),
    }
}
