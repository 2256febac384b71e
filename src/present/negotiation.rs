//! A contract's negotiation in words: each version's kind and state, and
//! the status tree `vereffen contract status` prints, in the reader's
//! language. The web's contract page words its versions with the same
//! functions ([`version_kind`], [`version_state`]).
//!
//! Ledger text (titles, reasons, party ids) passes through
//! [`escape_line`], so a counterparty cannot forge lines of this output.

use crate::domain::negotiation::{ContractStatus, VersionInfo, VersionKind, VersionState};
use crate::ledger::text::escape_line;
use crate::present::lang::{Arg, Tr};
use crate::present::layout::pad;

/// The first 12 characters of a hash (cut at a character boundary).
fn short(h: &str) -> &str {
    h.char_indices().nth(12).map_or(h, |(i, _)| &h[..i])
}

/// A version's kind: proposal, counter to X, amendment of X from YEAR.
pub fn version_kind(tr: &Tr, v: &VersionInfo) -> String {
    match &v.kind {
        VersionKind::Proposal => tr.t("neg-kind-proposal"),
        VersionKind::Counter { answers } => {
            tr.t_args("neg-kind-counter", &[("answers", Arg::from(escape_line(short(answers)).into_owned()))])
        }
        VersionKind::Amendment { amends, effective_from } => tr.t_args(
            "neg-kind-amendment",
            &[
                ("amends", Arg::from(escape_line(short(amends)).into_owned())),
                ("year", Arg::from(effective_from.to_string())),
            ],
        ),
    }
}

/// A version's state: superseded (by the amendment in force), agreed,
/// pending (waiting for whom), rejected (by whom) or withdrawn.
pub fn version_state(tr: &Tr, st: &ContractStatus, v: &VersionInfo) -> String {
    if let Some(by) = st.superseded_by(&v.version) {
        let entry = by.entries.iter().next().map(|e| short(e).to_string()).unwrap_or_default();
        return tr.t_args(
            "neg-state-superseded",
            &[("version", Arg::from(escape_line(short(&by.version)).into_owned())), ("entry", Arg::from(entry))],
        );
    }
    let parties = |p: &[String]| Arg::from(escape_line(&p.join(", ")).into_owned());
    match v.state() {
        VersionState::Agreed => tr.t("neg-state-agreed"),
        VersionState::Pending { waiting_for } => tr.t_args("neg-state-pending", &[("parties", parties(&waiting_for))]),
        VersionState::Rejected { by } => tr.t_args("neg-state-rejected", &[("parties", parties(&by))]),
        VersionState::Withdrawn => tr.t("neg-state-withdrawn"),
    }
}

/// The negotiation history as a tree (`contract status`): the title, what
/// is in force per year, conflicts, every version under the one it answers
/// or amends with its signatures and rejections, and what is pending. One
/// string per line, without line ends.
pub fn status_lines(tr: &Tr, st: &ContractStatus) -> Vec<String> {
    let labels = ["neg-status-in-force", "neg-status-conflict", "neg-status-pending"].map(|id| tr.t(id));
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) + 3;
    let label = |i: usize| pad(&labels[i], width, false);
    let mut out = Vec::new();
    let title = st.versions.values().next().map(|v| v.terms.title.clone()).unwrap_or_default();
    out.push(tr.t_args(
        "neg-status-contract",
        &[
            ("id", Arg::from(escape_line(&st.contract).into_owned())),
            ("title", Arg::from(escape_line(&title).into_owned())),
        ],
    ));
    match st.base.as_ref().and_then(|b| st.versions.get(b)) {
        Some(base) => {
            let years: Vec<String> = base
                .terms
                .term
                .years()
                .map(|y| format!("{y}: {}", st.governing(y).map_or("-", |v| short(&v.version))))
                .collect();
            out.push(format!("{}{}", label(0), years.join(", ")));
        }
        None => out.push(format!("{}{}", label(0), tr.t("neg-status-nothing-yet"))),
    }
    for c in &st.conflicts {
        out.push(format!("{}{}", label(1), escape_line(&c.to_string())));
    }
    out.push(tr.t("neg-status-versions"));
    // Roots are versions that answer or amend nothing known; children follow their parent.
    fn parent(v: &VersionInfo) -> Option<&str> {
        match &v.kind {
            VersionKind::Proposal => None,
            VersionKind::Counter { answers } => Some(answers),
            VersionKind::Amendment { amends, .. } => Some(amends),
        }
    }
    // The tree is walked with an explicit stack (depth first, children in
    // version order), so a long chain of counters cannot overflow the stack.
    let roots = st.versions.values().filter(|v| parent(v).is_none_or(|p| !st.versions.contains_key(p)));
    let mut stack: Vec<(&VersionInfo, usize)> = roots.map(|v| (v, 0)).collect::<Vec<_>>().into_iter().rev().collect();
    while let Some((v, depth)) = stack.pop() {
        let indent = "   ".repeat(depth);
        let arrow = if depth == 0 { "" } else { "└─ " };
        let offered: Vec<&str> = v.offered_by.iter().map(String::as_str).collect();
        out.push(format!(
            "  {indent}{arrow}{}",
            tr.t_args(
                "neg-status-version",
                &[
                    ("version", Arg::from(escape_line(short(&v.version)).into_owned())),
                    ("kind", Arg::from(version_kind(tr, v))),
                    ("parties", Arg::from(escape_line(&offered.join(", ")).into_owned())),
                    ("state", Arg::from(version_state(tr, st, v))),
                ],
            )
        ));
        for (party, sigs) in &v.signatures {
            for s in sigs {
                let mut args = vec![
                    ("party", Arg::from(escape_line(party).into_owned())),
                    ("time", Arg::from(escape_line(&s.time).into_owned())),
                    ("entry", Arg::from(escape_line(short(&s.entry)).into_owned())),
                ];
                let id = if s.signed_by != *party {
                    args.push(("signer", Arg::from(escape_line(&s.signed_by).into_owned())));
                    "neg-status-signed-mandate"
                } else {
                    "neg-status-signed"
                };
                out.push(format!("  {indent}      {}", tr.t_args(id, &args)));
            }
        }
        for (party, reasons) in &v.rejections {
            for r in reasons {
                out.push(format!(
                    "  {indent}      {}",
                    tr.t_args(
                        "neg-status-rejected",
                        &[
                            ("party", Arg::from(escape_line(party).into_owned())),
                            ("reason", Arg::from(escape_line(r).into_owned()))
                        ],
                    )
                ));
            }
        }
        let children: Vec<&VersionInfo> =
            st.versions.values().filter(|c| parent(c) == Some(v.version.as_str())).collect();
        stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
    }
    let pending: Vec<String> = st
        .versions
        .values()
        .filter_map(|v| match v.state() {
            VersionState::Pending { waiting_for } => Some(tr.t_args(
                "neg-status-waits",
                &[
                    ("version", Arg::from(escape_line(short(&v.version)).into_owned())),
                    ("parties", Arg::from(escape_line(&waiting_for.join(", ")).into_owned())),
                ],
            )),
            _ => None,
        })
        .collect();
    if !pending.is_empty() {
        out.push(format!("{}{}", label(2), pending.join("; ")));
    }
    out
}
