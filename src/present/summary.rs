//! One-line, human-readable summaries of entries, for `log` and reports.

use serde_json::Value;

use crate::ledger::entry::Entry;
use crate::ledger::keys::KeyId;
use crate::ledger::registry::{KIND_REGISTER, KIND_REVOKE, KIND_ROTATE};
use crate::present::lang::{Arg, Lang, Tr};

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

/// One line describing `e` in English, escaped for a terminal.
pub fn one_line(e: &Entry) -> String {
    one_line_in(&Tr::new(Lang::En), e)
}

/// [`one_line`] in `tr`'s language (audit entries stay in English).
pub fn one_line_in(tr: &Tr, e: &Entry) -> String {
    let line = unescaped(tr, e);
    let shown = crate::ledger::text::escape_line(&line).into_owned();
    debug_assert!(!shown.chars().any(crate::ledger::text::is_forbidden_in_line));
    shown
}

/// The first `n` characters (not bytes) of `text`.
fn head(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

fn unescaped(tr: &Tr, e: &Entry) -> String {
    let b = e.body();
    let p = &b.payload;
    let a = |v: &str| Arg::from(v.to_string());
    let party = a(&b.author.party);
    match b.kind.as_str() {
        KIND_REGISTER => tr.t_args(
            "log-register",
            &[
                ("party", party),
                ("role", a(s(p, "role"))),
                ("name", a(&format!("{:?}", s(p, "name")))),
                ("key", a(&b.author_key().fingerprint())),
            ],
        ),
        KIND_ROTATE => {
            let retire = p.get("retire_old").and_then(Value::as_bool).unwrap_or(false);
            let retire = if retire {
                tr.t_args("log-rotate-retires", &[("key", a(&b.author_key().fingerprint()))])
            } else {
                String::new()
            };
            tr.t_args(
                "log-rotate",
                &[("key", a(&fingerprint_of_public(s(p, "new_public_key")))), ("party", party), ("retire", a(&retire))],
            )
        }
        KIND_REVOKE => tr.t_args(
            "log-revoke",
            &[
                ("key", a(&KeyId::from_hex(s(p, "key")).map(|k| k.fingerprint()).unwrap_or_else(|| "?".into()))),
                ("party", party),
                ("reason", a(s(p, "reason"))),
            ],
        ),
        crate::domain::note::KIND_NOTE => {
            let text = s(p, "text");
            let first: String = text.lines().next().unwrap_or("").chars().take(60).collect();
            let more = if first.len() < text.len() { "..." } else { "" };
            let text = a(&format!("{first}{more}"));
            match p.get("contract").and_then(Value::as_str) {
                Some(c) => tr.t_args("log-note-on", &[("contract", a(c)), ("text", text)]),
                None => tr.t_args("log-note", &[("text", text)]),
            }
        }
        k if k.starts_with("contract.") => {
            let version = a(&head(s(p, "version"), 12));
            let contract = a(s(p, "contract"));
            let behalf = p
                .get("on_behalf_of")
                .and_then(Value::as_str)
                .map(|o| tr.t_args("log-for", &[("party", a(o))]))
                .unwrap_or_default();
            let behalf = a(&behalf);
            match k {
                crate::domain::negotiation::KIND_PROPOSE => {
                    tr.t_args("log-propose", &[("contract", contract), ("version", version)])
                }
                crate::domain::negotiation::KIND_COUNTER => tr.t_args(
                    "log-counter",
                    &[("contract", contract), ("answers", a(&head(s(p, "answers"), 12))), ("version", version)],
                ),
                crate::domain::negotiation::KIND_AMEND => tr.t_args(
                    "log-amend",
                    &[
                        ("contract", contract),
                        ("year", a(&p.get("effective_from").and_then(Value::as_u64).unwrap_or(0).to_string())),
                        ("version", version),
                    ],
                ),
                crate::domain::negotiation::KIND_ACCEPT => {
                    tr.t_args("log-accept", &[("contract", contract), ("version", version), ("behalf", behalf)])
                }
                crate::domain::negotiation::KIND_REJECT => tr.t_args(
                    "log-reject",
                    &[("contract", contract), ("version", version), ("behalf", behalf), ("reason", a(s(p, "reason")))],
                ),
                crate::domain::negotiation::KIND_WITHDRAW => {
                    tr.t_args("log-withdraw", &[("contract", contract), ("version", version)])
                }
                _ => tr.t_args("log-contract-other", &[("kind", a(k)), ("contract", contract)]),
            }
        }
        crate::domain::measurement::KIND_SUBMIT | crate::domain::measurement::KIND_CORRECT => tr.t_args(
            if b.kind == crate::domain::measurement::KIND_SUBMIT { "log-submit" } else { "log-correct" },
            &[
                ("indicator", a(s(p, "indicator"))),
                ("period", a(s(p, "period"))),
                ("value", a(s(p, "value"))),
                ("reason", a(&p.get("reason").and_then(Value::as_str).map(|r| format!(" ({r})")).unwrap_or_default())),
            ],
        ),
        crate::domain::measurement::KIND_ATTEST => {
            tr.t_args("log-attest", &[("measurement", a(&head(s(p, "measurement"), 12)))])
        }
        crate::domain::measurement::KIND_DISPUTE => tr.t_args(
            "log-dispute",
            &[("measurement", a(&head(s(p, "measurement"), 12))), ("reason", a(s(p, "reason")))],
        ),
        crate::domain::negotiation::KIND_MANDATE_GRANT => tr.t_args(
            "log-mandate-grant",
            &[
                ("grantee", a(s(p, "grantee"))),
                ("party", party),
                ("contracts", a(&p.get("contracts").map(|c| c.to_string()).unwrap_or_default())),
                ("first", a(&p.get("first_year").and_then(Value::as_u64).unwrap_or(0).to_string())),
                ("last", a(&p.get("last_year").and_then(Value::as_u64).unwrap_or(0).to_string())),
            ],
        ),
        crate::domain::negotiation::KIND_MANDATE_REVOKE => tr
            .t_args("log-mandate-revoke", &[("mandate", a(&head(s(p, "mandate"), 12))), ("reason", a(s(p, "reason")))]),
        k if crate::audit::KINDS.contains(&k) => crate::audit::one_line(e),
        crate::domain::settlement::cosign::KIND_SIGN => {
            let hash = p.get("statement_hash").and_then(Value::as_str).unwrap_or("");
            let replaces =
                if p.get("replaces").is_some_and(|r| !r.is_null()) { tr.t("log-resettlement") } else { String::new() };
            tr.t_args(
                "log-sign",
                &[
                    ("contract", a(p.get("contract").and_then(Value::as_str).unwrap_or("?"))),
                    ("year", a(&p.get("year").and_then(Value::as_u64).unwrap_or(0).to_string())),
                    ("hash", a(&head(hash, 12))),
                    ("resettlement", a(&replaces)),
                ],
            )
        }
        other => tr.t_args("log-other", &[("kind", a(other)), ("party", party)]),
    }
}
