//! The negotiation of a contract as a timeline on its page: every
//! negotiation entry on this copy in journal order (proposal, counter with
//! its changes against the version it answers in words, amendment with its
//! changes and first year, signature, rejection with its reason,
//! withdrawal, and the mandates the decisions were signed under), with who,
//! when (the author's claimed time the entry records) and the version
//! (a link to that version's terms below the timeline); then which version
//! is in force in each contract year.
//!
//! Read-only, no script. The words are `present::negotiation`'s (kinds,
//! states, changes) and `web-timeline.ftl`'s; every text from the ledger
//! (names, reasons) is escaped by maud.

use maud::{html, Markup};
use serde_json::Value;

use crate::domain::contract::{self, Contract};
use crate::domain::negotiation::{self as neg, ContractStatus, MandateAction, MandatePayload, VersionInfo};
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::liveness::VoidSet;
use crate::ledger::Ledger;
use crate::present::lang::{Arg, Tr};
use crate::present::negotiation::{change_words, version_kind, version_state};

/// The first 12 characters of a hash (cut at a character boundary).
fn short(h: &str) -> &str {
    h.char_indices().nth(12).map_or(h, |(i, _)| &h[..i])
}

/// The anchor of a version's terms on the contract page.
pub fn version_anchor(version: &str) -> String {
    format!("version-{version}")
}

/// The timeline section of contract `st.contract`'s page on copy `l`.
pub fn section(l: &Ledger, tr: &Tr, st: &ContractStatus) -> Markup {
    let read = l.contract_entries(&st.contract).and_then(|entries| Ok((entries, l.void_entries()?)));
    let (entries, void) = match read {
        Ok(x) => x,
        Err(e) => {
            return html! {
                h2 { (tr.t("tl-heading")) }
                p.error role="alert" { (tr.t_args("tl-unreadable", &[("error", Arg::from(e.to_string()))])) }
            }
        }
    };
    let mut rows: Vec<Markup> = Vec::new();
    // A mandate is shown once, just before the first decision signed under it.
    let mut mandates_shown: Vec<String> = Vec::new();
    for e in entries.iter().filter(|e| is_negotiation(e.kind())) {
        if let Some((id, m, p)) = mandate_of(l, &void, e) {
            if !mandates_shown.contains(&id) {
                rows.push(mandate_row(tr, st, &id, &m, &p));
                mandates_shown.push(id);
            }
        }
        rows.push(step_row(tr, st, e));
    }
    html! {
        section #timeline {
            h2 { (tr.t("tl-heading")) }
            @if rows.is_empty() {
                p { (tr.t("tl-none")) }
            } @else {
                table.timeline {
                    caption { (tr.t("tl-caption")) }
                    thead { tr {
                        th scope="col" { (tr.t("tl-col-when")) }
                        th scope="col" { (tr.t("tl-col-who")) }
                        th scope="col" { (tr.t("tl-col-what")) }
                        th scope="col" { (tr.t("tl-col-version")) }
                        th scope="col" { (tr.t("tl-col-details")) }
                    } }
                    tbody { @for r in rows { (r) } }
                }
            }
            (in_force(tr, st))
            h3 { (tr.t("tl-versions")) }
            @for v in st.versions.values() {
                details id=(version_anchor(&v.version)) {
                    summary { code { (short(&v.version)) } " · " (version_kind(tr, v)) " · " (version_state(tr, st, v)) }
                    pre { (crate::present::terms::render(tr, &v.terms)) }
                }
            }
        }
    }
}

fn is_negotiation(kind: &str) -> bool {
    matches!(
        kind,
        neg::KIND_PROPOSE
            | neg::KIND_COUNTER
            | neg::KIND_AMEND
            | neg::KIND_ACCEPT
            | neg::KIND_REJECT
            | neg::KIND_WITHDRAW
    )
}

/// A party as people know it: its name in the contract's terms (any
/// version's) and its id; the id alone when no version names it.
fn who(st: &ContractStatus, party: &str) -> Markup {
    let name = st.versions.values().find_map(|v| v.terms.party(party).map(|p| p.name.clone()));
    html! {
        @match name {
            Some(n) => { (n) " (" code { (party) } ")" }
            None => code { (party) },
        }
    }
}

/// The version an entry carries or decides on.
fn version_of<'a>(st: &'a ContractStatus, e: &Entry) -> Option<&'a VersionInfo> {
    e.body().payload.get("version").and_then(Value::as_str).and_then(|v| st.versions.get(v))
}

/// A link to a version's terms on this page.
fn version_link(version: &str) -> Markup {
    html! { a href=(format!("#{}", version_anchor(version))) { code { (short(version)) } } }
}

/// When an entry says it was written, for people, with the recorded text
/// in `datetime`.
fn when(tr: &Tr, e: &Entry) -> Markup {
    let t = &e.body().time;
    html! { time datetime=(t) { (tr.time(t)) } }
}

/// The changes from `from` to `to`, in words, as a list.
fn changes(tr: &Tr, st: &ContractStatus, from: &str, to: &Contract) -> Markup {
    let Some(old) = st.versions.get(from) else {
        return html! { p { (tr.t("tl-unknown-version")) } };
    };
    let list = contract::diff(&old.terms, to);
    html! {
        @if list.is_empty() {
            p { (tr.t("tl-no-changes")) }
        } @else {
            p { (tr.t_args("tl-changes-against", &[("version", Arg::from(short(from).to_string()))])) }
            ul.changes { @for c in &list { li { (change_words(tr, c)) } } }
        }
    }
}

/// One negotiation entry as a row.
fn step_row(tr: &Tr, st: &ContractStatus, e: &Entry) -> Markup {
    let b = e.body();
    let v = version_of(st, e);
    let version = b.payload.get("version").and_then(Value::as_str).unwrap_or("");
    let on_behalf = b.payload.get("on_behalf_of").and_then(Value::as_str);
    let mandate = b.refs.get(1).map(|m| short(m).to_string()).unwrap_or_default();
    let reason = b.payload.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty());
    let what = match (e.kind(), v, on_behalf) {
        (neg::KIND_PROPOSE | neg::KIND_COUNTER | neg::KIND_AMEND, Some(v), _) => version_kind(tr, v),
        (neg::KIND_ACCEPT, _, None) => tr.t("tl-signed"),
        (neg::KIND_ACCEPT, _, Some(p)) => {
            tr.t_args("tl-signed-for", &[("party", Arg::from(p.to_string())), ("mandate", Arg::from(mandate.clone()))])
        }
        (neg::KIND_REJECT, _, None) => tr.t("tl-rejected"),
        (neg::KIND_REJECT, _, Some(p)) => tr
            .t_args("tl-rejected-for", &[("party", Arg::from(p.to_string())), ("mandate", Arg::from(mandate.clone()))]),
        (neg::KIND_WITHDRAW, _, _) => tr.t("tl-withdrawn"),
        (kind, _, _) => kind.to_string(),
    };
    html! {
        tr id=(format!("entry-{}", e.id().to_hex())) {
            th scope="row" { (when(tr, e)) }
            td { (who(st, &b.author.party)) }
            td { (what) }
            td { @if !version.is_empty() { (version_link(version)) } }
            td {
                @match (e.kind(), v) {
                    (neg::KIND_PROPOSE, Some(_)) => {
                        (tr.t_args("tl-offer-signed", &[("party", Arg::from(b.author.party.clone()))]))
                    }
                    (neg::KIND_COUNTER | neg::KIND_AMEND, Some(v)) => {
                        @match &v.kind {
                            neg::VersionKind::Counter { answers } => (changes(tr, st, answers, &v.terms)),
                            neg::VersionKind::Amendment { amends, .. } => (changes(tr, st, amends, &v.terms)),
                            neg::VersionKind::Proposal => "",
                        }
                    }
                    _ => {}
                }
                @if let Some(r) = reason {
                    p.reason { (tr.t("tl-reason")) " " q { (r) } }
                }
            }
        }
    }
}

/// The mandate a decision entry was signed under (its second reference),
/// when this copy holds it live: its id, the grant entry and its payload.
fn mandate_of(l: &Ledger, void: &VoidSet, e: &Entry) -> Option<(String, Entry, MandatePayload)> {
    let b = e.body();
    b.payload.get("on_behalf_of")?;
    let id = b.refs.get(1)?;
    let m = l.get_live(&EntryId::from_hex(id)?, void)?;
    if m.kind() != neg::KIND_MANDATE_GRANT {
        return None;
    }
    let p: MandatePayload = serde_json::from_value(m.body().payload.clone()).ok()?;
    Some((id.clone(), m, p))
}

/// A mandate as a row: who lets whom do what, for which contracts and years.
fn mandate_row(tr: &Tr, st: &ContractStatus, id: &str, m: &Entry, p: &MandatePayload) -> Markup {
    let grantor = &m.body().author.party;
    let actions: Vec<String> = p
        .actions
        .iter()
        .map(|a| match a {
            MandateAction::Accept => tr.t("tl-action-accept"),
            MandateAction::Reject => tr.t("tl-action-reject"),
        })
        .collect();
    let contracts =
        if p.contracts.iter().any(|c| c == "*") { tr.t("tl-every-contract") } else { p.contracts.join(", ") };
    let words = tr.t_args(
        "tl-mandate-words",
        &[
            ("grantor", Arg::from(grantor.clone())),
            ("grantee", Arg::from(p.grantee.clone())),
            ("actions", Arg::from(actions.join(&format!(" {} ", tr.t("tl-action-and"))))),
            ("contracts", Arg::from(contracts)),
            ("first", Arg::from(p.first_year.to_string())),
            ("last", Arg::from(p.last_year.to_string())),
        ],
    );
    html! {
        tr id=(format!("entry-{id}")) {
            th scope="row" { (when(tr, m)) }
            td { (who(st, grantor)) }
            td { (tr.t("tl-mandate")) " " code { (short(id)) } }
            td { }
            td { (words) }
        }
    }
}

/// Which version governs each year of the agreed base's term.
fn in_force(tr: &Tr, st: &ContractStatus) -> Markup {
    let Some(base) = st.base.as_ref().and_then(|b| st.versions.get(b)) else {
        return html! {};
    };
    html! {
        table.in-force {
            caption { (tr.t("tl-in-force")) }
            thead { tr {
                th scope="col" { (tr.t("tl-col-year")) }
                th scope="col" { (tr.t("tl-col-version")) }
                th scope="col" { (tr.t("tl-col-kind")) }
            } }
            tbody { @for y in base.terms.term.years() { tr {
                th scope="row" { (y) }
                @match st.governing(y) {
                    Some(v) => { td { (version_link(&v.version)) } td { (version_kind(tr, v)) } }
                    None => { td { (tr.t("tl-nothing-in-force")) } td { } }
                }
            } } }
        }
    }
}
