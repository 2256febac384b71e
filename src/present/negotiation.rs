//! A contract's negotiation in words: each version's kind and state, and
//! the status tree `vereffen contract status` prints, in the reader's
//! language. The web's contract page words its versions with the same
//! functions ([`version_kind`], [`version_state`]).
//!
//! The changes between two versions ([`crate::domain::contract::diff`]) are
//! worded here too ([`change_words`]): the field's name from
//! `contract-diff.ftl`, the values in the language's number format. A
//! [`Change`]'s `Display` is its English wording.
//!
//! Ledger text (titles, reasons, party ids) passes through
//! [`escape_line`], so a counterparty cannot forge lines of this output.

use std::fmt;

use rust_decimal::Decimal;

use crate::domain::contract::{Change, FieldValue};
use crate::domain::negotiation::{ContractStatus, VersionInfo, VersionKind, VersionState};
use crate::ledger::text::escape_line;
use crate::present::lang::{Arg, Lang, Tr};
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

/// A change between two versions in words: `provider share of savings:
/// 50% -> 45%` / `aandeel aanbieder in de besparing: 45% -> 50%`, `...: added
/// (...)`, `...: removed (was ...)`. A field the wording table does not know
/// is named by its path.
pub fn change_words(tr: &Tr, c: &Change) -> String {
    let label = Arg::from(change_label(tr, c));
    let value = |v: &FieldValue| Arg::from(value_words(tr, v));
    match (&c.before, &c.after) {
        (Some(b), Some(a)) => tr.t_args("diff-changed", &[("label", label), ("before", value(b)), ("after", value(a))]),
        (None, Some(a)) => tr.t_args("diff-added", &[("label", label), ("after", value(a))]),
        (Some(b), None) => tr.t_args("diff-removed", &[("label", label), ("before", value(b))]),
        (None, None) => tr.t_args("diff-unchanged", &[("label", label)]),
    }
}

/// The name of a changed field: its message, then the list keys and the
/// rest of the path in parentheses (`impulse amount (0)`); an unknown field
/// is its path.
pub fn change_label(tr: &Tr, c: &Change) -> String {
    let name = match c.label.id {
        Some(id) => tr.t(id),
        None => c.path.clone(),
    };
    if c.label.context.is_empty() {
        name
    } else {
        format!("{name} ({})", c.label.context.join(", "))
    }
}

/// A changed field's value in the reader's language. English keeps the
/// contract document's formats (`45%`, `EUR 1,000.00`, as [`FieldValue`]'s
/// `Display`); Dutch writes `45%`, `€ 1.000,00`, `0,5`, `ja`/`nee`, `geen`.
pub fn value_words(tr: &Tr, v: &FieldValue) -> String {
    let lang = tr.lang();
    match v {
        FieldValue::None => tr.t("diff-none"),
        FieldValue::Bool(true) => tr.t("diff-true"),
        FieldValue::Bool(false) => tr.t("diff-false"),
        FieldValue::Rate(d) => match d.checked_mul(Decimal::ONE_HUNDRED) {
            Some(p) => format!("{}%", decimal_in(lang, &p.normalize().to_string())),
            None => {
                tr.t_args("diff-as-fraction", &[("value", Arg::from(decimal_in(lang, &d.normalize().to_string())))])
            }
        },
        FieldValue::Money(d, currency) => match lang {
            Lang::En => v.to_string(),
            Lang::Nl => tr.amount(d.round_dp(2), currency.code()),
        },
        FieldValue::Number(s) => decimal_in(lang, s),
        FieldValue::Text(s) => s.clone(),
        FieldValue::List(items) => {
            let words: Vec<String> = items.iter().map(|x| value_words(tr, x)).collect();
            // Dutch numbers carry a decimal comma: the items are set apart by `;`.
            let sep = match lang {
                Lang::En => ", ",
                Lang::Nl => "; ",
            };
            format!("[{}]", words.join(sep))
        }
    }
}

/// A plain decimal as written (`0.5`, `2026`) in `lang`'s notation: Dutch
/// swaps the decimal point for a comma. Anything else is left as it is.
fn decimal_in(lang: Lang, s: &str) -> String {
    let numeric = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    match lang {
        Lang::Nl if numeric => s.replace('.', ","),
        _ => s.to_string(),
    }
}

impl fmt::Display for Change {
    /// The change in English ([`change_words`]): what `contract diff` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&change_words(&Tr::new(Lang::En), self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contract::diff_tests::old_words;
    use crate::domain::contract::tests::generated::{arb_change, mutate, EXAMPLES};
    use crate::domain::contract::{diff, diff_label_ids, parse_str, Contract};
    use proptest::prelude::*;

    fn parse(text: &str) -> Contract {
        parse_str("t.toml", text).unwrap_or_else(|d| panic!("{}", d[0]))
    }

    const COPD: &str = include_str!("../../contracts/copd-telemonitoring-shared-savings.toml");

    fn words(lang: Lang, a: &Contract, b: &Contract) -> Vec<String> {
        let tr = Tr::new(lang);
        diff(a, b).iter().map(|c| change_words(&tr, c)).collect()
    }

    #[test]
    fn every_field_the_diff_knows_has_words_in_both_languages() {
        let (en, nl) = (Tr::new(Lang::En), Tr::new(Lang::Nl));
        let ids: Vec<&str> = diff_label_ids().collect();
        assert!(ids.len() >= 50, "{} ids", ids.len());
        let mut dedup = ids.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), ids.len(), "an id is used for two fields");
        for id in ids {
            for tr in [en, nl] {
                let text = tr.t(id);
                assert!(!text.contains('⟦') && !text.is_empty(), "{:?} has no message {id}", tr.lang());
            }
            // `bonus` is Dutch too; every other name differs.
            if id != "diff-bonus" {
                assert_ne!(en.t(id), nl.t(id), "{id} is not translated");
            }
        }
        for id in ["diff-heading", "diff-changed", "diff-added", "diff-removed", "diff-unchanged", "diff-as-fraction"] {
            assert!(!en.t(id).is_empty() && !nl.t(id).is_empty());
        }
    }

    #[test]
    fn english_changes_read_as_before_and_dutch_ones_in_dutch() {
        let a = parse(COPD);
        let b = parse(
            &COPD
                .replacen("provider_share = 0.5\n", "provider_share = 0.45\n", 1)
                .replace("chain_partners = \"chain\"", "chain_partners = \"per_provider\"")
                .replace("amount = 185000.00", "amount = 200000.00"),
        );
        let expected_en = [
            "impulse amount (0): EUR 185,000.00 -> EUR 200,000.00",
            "knob 7, chain partners: chain -> per_provider",
            "provider share of savings: 50% -> 45%",
        ];
        assert_eq!(words(Lang::En, &a, &b), expected_en);
        let display: Vec<String> = diff(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(display, expected_en, "Display is the English wording");
        assert_eq!(old_words(&a, &b), expected_en, "the oracle agrees");
        assert_eq!(
            words(Lang::Nl, &a, &b),
            [
                "bedrag impulsfinanciering (0): € 185.000,00 -> € 200.000,00",
                "knop 7, ketenpartners: chain -> per_provider",
                "aandeel aanbieder in de besparing: 50% -> 45%",
            ]
        );
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn values_are_worded_in_each_language() {
        use rust_decimal_macros::dec;
        let (en, nl) = (Tr::new(Lang::En), Tr::new(Lang::Nl));
        let usd = crate::domain::contract::Currency::from_code("USD").unwrap();
        let cases = [
            (FieldValue::Rate(dec!(0.125)), "12.5%", "12,5%"),
            (
                FieldValue::Rate(Decimal::MAX),
                "79228162514264337593543950335 (as a fraction)",
                "79228162514264337593543950335 (als breuk)",
            ),
            (FieldValue::Money(dec!(-1234.5), usd), "-USD 1,234.50", "USD -1.234,50"),
            (FieldValue::Number("0.5".into()), "0.5", "0,5"),
            (FieldValue::Number("2026".into()), "2026", "2026"),
            (FieldValue::Text("two_sided".into()), "two_sided", "two_sided"),
            (FieldValue::Text("1.5 a.b".into()), "1.5 a.b", "1.5 a.b"),
            (FieldValue::None, "none", "geen"),
            (FieldValue::Bool(true), "true", "ja"),
            (FieldValue::Bool(false), "false", "nee"),
            (FieldValue::List(vec![FieldValue::Number("0.5".into()), FieldValue::None]), "[0.5, none]", "[0,5; geen]"),
        ];
        for (v, e, n) in cases {
            assert_eq!(value_words(&en, &v), e);
            assert_eq!(v.to_string(), e, "the domain's English");
            assert_eq!(value_words(&nl, &v), n);
        }
    }

    #[test]
    fn english_is_byte_identical_to_the_replaced_wording_on_every_pair_of_examples() {
        let all: Vec<Contract> = EXAMPLES.iter().map(|t| parse(t)).collect();
        let mut compared = 0;
        for a in &all {
            for b in &all {
                let old = old_words(a, b);
                compared += old.len();
                assert_eq!(words(Lang::En, a, b), old, "{} -> {}", a.id, b.id);
                // Every change has Dutch words without a hole.
                assert!(words(Lang::Nl, a, b).iter().all(|w| !w.contains('⟦')));
            }
        }
        assert!(compared > 200, "only {compared} changes compared");
    }

    /// The case the generated contracts found (CI, 2 December): an empty
    /// list and a list of one empty text read the same, `[]`, so they are
    /// no change, as the wording before the typed diff had it.
    #[test]
    fn lists_that_read_the_same_are_no_change() {
        let a = parse(EXAMPLES[1]);
        let mut b = a.clone();
        let i = b.indicators.iter().position(|x| x.agreed_by.is_empty()).unwrap_or(0);
        b.indicators[i].agreed_by = vec![String::new()];
        let mut c = a.clone();
        c.indicators[i].agreed_by = Vec::new();
        assert!(words(Lang::En, &c, &b).is_empty(), "{:?}", words(Lang::En, &c, &b));
        assert_eq!(words(Lang::En, &c, &b), old_words(&c, &b));
        // A list that reads differently is a change.
        c.indicators[i].agreed_by = vec!["zorgverzekeraar".to_string()];
        assert_eq!(words(Lang::En, &c, &b).len(), 1);
        assert_eq!(words(Lang::En, &c, &b), old_words(&c, &b));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn english_is_byte_identical_to_the_replaced_wording_on_generated_contracts(
            which in 0usize..EXAMPLES.len(),
            left in prop::collection::vec((any::<usize>(), arb_change()), 0..8),
            right in prop::collection::vec((any::<usize>(), arb_change()), 1..8),
        ) {
            let base = parse(EXAMPLES[which]);
            let (a, b) = (mutate(&base, &left), mutate(&base, &right));
            prop_assert_eq!(words(Lang::En, &a, &b), old_words(&a, &b));
            prop_assert!(words(Lang::Nl, &a, &b).iter().all(|w| !w.contains('⟦')));
        }
    }
}
