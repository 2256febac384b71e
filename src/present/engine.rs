//! The settlement engine's refusals and a settled year's conflicts in the
//! reader's language: the engine and the settlement status give them as
//! data ([`ComputeError`], [`Refusal`], [`SettleError`], [`Blocker`],
//! [`Conflict`]); the words are Fluent messages `engine-...` of
//! `locales/*/engine.ftl`. The English is the engine's reference English
//! (each type's `Display`) byte for byte, so a JSON that carries that
//! English and an English table say the same.
//!
//! Names from the ledger or the contract (contract ids, indicators, parties,
//! periods) are passed as written; the caller escapes for its medium.

use crate::domain::negotiation::ContractConflict;
use crate::domain::settlement::cosign::{ComputeError, Conflict, Refusal};
use crate::domain::settlement::inputs::Blocker;
use crate::domain::settlement::{SettleError, MAX_TERM_YEARS};
use crate::present::lang::{Arg, Tr};

fn s(v: impl ToString) -> Arg<'static> {
    Arg::from(v.to_string())
}

/// A settled year's conflict, in the reader's language.
pub fn conflict(tr: &Tr, c: &Conflict) -> String {
    match c {
        Conflict::ManySettled { hashes } => tr.t_args(
            "engine-conflict-many-settled",
            &[("n", s(hashes.len())), ("hashes", Arg::from(hashes.join(", ")))],
        ),
        Conflict::InputVoid { input, year } => {
            tr.t_args("engine-conflict-input-void", &[("input", s(input)), ("year", s(year))])
        }
        Conflict::InputCorrected { indicator, period, input, by, year } => tr.t_args(
            "engine-conflict-input-corrected",
            &[
                ("indicator", s(indicator)),
                ("period", s(period)),
                ("input", s(input)),
                ("by", s(by)),
                ("year", s(year)),
            ],
        ),
        Conflict::InputDisputed { indicator, period, input, by } => tr.t_args(
            "engine-conflict-input-disputed",
            &[("indicator", s(indicator)), ("period", s(period)), ("input", s(input)), ("parties", s(by.join(", ")))],
        ),
        Conflict::PreviousResettled { previous_year, recorded, now, year } => tr.t_args(
            "engine-conflict-previous-resettled",
            &[("previous", s(previous_year)), ("recorded", s(recorded)), ("now", s(now)), ("year", s(year))],
        ),
    }
}

/// A conflict that keeps versions of a contract out of force, in the
/// reader's language.
pub fn contract_conflict(tr: &Tr, c: &ContractConflict) -> String {
    match c {
        ContractConflict::ManyAgreed { hashes } => tr
            .t_args("engine-conflict-many-agreed", &[("n", s(hashes.len())), ("hashes", Arg::from(hashes.join(", ")))]),
        ContractConflict::ManyAmendments { year, hashes } => tr.t_args(
            "engine-conflict-many-amendments",
            &[("n", s(hashes.len())), ("year", s(year)), ("hashes", Arg::from(hashes.join(", ")))],
        ),
    }
}

/// Why a contract cannot be settled for a year at all, in the reader's
/// language.
pub fn refusal(tr: &Tr, r: &Refusal) -> String {
    match r {
        Refusal::NoContract { contract } => {
            tr.t_args("engine-no-contract", &[("contract", s(format!("{contract:?}")))])
        }
        Refusal::NotInForce { contract } => {
            tr.t_args("engine-not-in-force", &[("contract", s(format!("{contract:?}")))])
        }
        Refusal::OutsideTerm { year, first, last } => {
            tr.t_args("engine-outside-term", &[("year", s(year)), ("first", s(first)), ("last", s(last))])
        }
        Refusal::CarryMalformed { year, message } => {
            tr.t_args("engine-carry-malformed", &[("year", s(year)), ("why", s(message))])
        }
        Refusal::NoVersion { contract, year } => {
            tr.t_args("engine-no-version", &[("contract", s(format!("{contract:?}"))), ("year", s(year))])
        }
    }
}

/// The state of a figure that keeps a year open (`missing`, `pending`,
/// `disputed`, `conflict`, `overflow`), in the reader's language; another
/// state (none is produced) as it is.
pub fn blocker_state(tr: &Tr, state: &str) -> String {
    match state {
        "missing" => tr.t("engine-state-missing"),
        "pending" => tr.t("engine-state-pending"),
        "disputed" => tr.t("engine-state-disputed"),
        "conflict" => tr.t("engine-state-conflict"),
        "overflow" => tr.t("engine-state-overflow"),
        other => other.to_string(),
    }
}

/// One figure of `year` that keeps it open, as a refusal lists it:
/// `year indicator period: state (to act: parties)`.
pub fn blocker(tr: &Tr, year: u16, b: &Blocker) -> String {
    tr.t_args(
        "engine-blocker",
        &[
            ("year", s(year)),
            ("indicator", s(&b.indicator)),
            ("period", s(&b.period)),
            ("state", Arg::from(blocker_state(tr, &b.state))),
            ("parties", s(b.to_act.join(", "))),
        ],
    )
}

/// The engine's refusal, in the reader's language.
pub fn settle_error(tr: &Tr, e: &SettleError) -> String {
    match e {
        SettleError::YearOutsideTerm { year, first, last } => {
            tr.t_args("engine-err-outside-term", &[("year", s(year)), ("first", s(first)), ("last", s(last))])
        }
        SettleError::CarryOutOfOrder { expected, year } => {
            tr.t_args("engine-err-carry-order", &[("expected", s(expected)), ("year", s(year))])
        }
        SettleError::MissingFigures(figures) => {
            let list: Vec<String> = figures
                .iter()
                .map(|f| tr.t_args("engine-err-figure", &[("indicator", s(&f.indicator)), ("year", s(f.year))]))
                .collect();
            tr.t_args("engine-err-missing", &[("figures", s(list.join(", ")))])
        }
        SettleError::InvalidFigure { figure, reason } => {
            tr.t_args("engine-err-invalid", &[("figure", s(figure)), ("reason", s(reason))])
        }
        SettleError::Arithmetic { figure, problem } => match *problem {
            "overflow" => tr.t_args("engine-err-overflow", &[("figure", s(figure))]),
            "division by zero" => tr.t_args("engine-err-division-by-zero", &[("figure", s(figure))]),
            _ => e.to_string(),
        },
        SettleError::TooManyYears => tr.t_args("engine-err-too-many-years", &[("n", s(MAX_TERM_YEARS))]),
        SettleError::NotCanonical(why) => tr.t_args("engine-err-not-canonical", &[("why", s(why))]),
    }
}

/// Why a statement cannot be computed, in the reader's language: a
/// refusal, the figures not agreed (a heading and one line per figure,
/// indented by two spaces), or the engine's refusal with its year.
pub fn compute_error(tr: &Tr, e: &ComputeError) -> String {
    match e {
        ComputeError::Contract(r) => refusal(tr, r),
        ComputeError::Blocked { year, blockers } => {
            let mut o = tr.t_args("engine-blocked", &[("n", s(blockers.len())), ("year", s(year))]);
            for b in blockers {
                o.push_str("\n  ");
                o.push_str(&blocker(tr, *year, b));
            }
            o
        }
        ComputeError::Engine { year, error } => {
            tr.t_args("engine-failed", &[("year", s(year)), ("why", Arg::from(settle_error(tr, error)))])
        }
        ComputeError::Hash { year, message } => tr.t_args("engine-failed", &[("year", s(year)), ("why", s(message))]),
    }
}

/// `settle` refusing `year` of `contract`: why, and for figures not agreed,
/// how to see them and that `--draft` computes a preview.
pub fn cannot_settle(tr: &Tr, contract: &str, year: u16, e: &ComputeError) -> String {
    match e {
        ComputeError::Blocked { year: blocked, .. } => format!(
            "{}\n{}",
            tr.t_args("engine-cannot-settle", &[("year", s(year)), ("why", Arg::from(compute_error(tr, e)))]),
            tr.t_args("engine-cannot-settle-hint", &[("contract", s(contract)), ("year", s(blocked))])
        ),
        other => compute_error(tr, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settlement::FigureRef;
    use crate::present::lang::Lang;

    fn blockers() -> Vec<Blocker> {
        ["missing", "pending", "disputed", "conflict", "overflow"]
            .iter()
            .map(|st| Blocker {
                indicator: "care-cost".into(),
                period: "2025".into(),
                state: st.to_string(),
                to_act: vec!["a".into(), "b".into()],
            })
            .collect()
    }

    fn errors() -> Vec<ComputeError> {
        let c = "c-1".to_string();
        vec![
            ComputeError::Contract(Refusal::NoContract { contract: c.clone() }),
            ComputeError::Contract(Refusal::NotInForce { contract: c.clone() }),
            ComputeError::Contract(Refusal::OutsideTerm { year: 2031, first: 2025, last: 2027 }),
            ComputeError::Contract(Refusal::CarryMalformed { year: 2025, message: "bad".into() }),
            ComputeError::Contract(Refusal::NoVersion { contract: c, year: 2026 }),
            ComputeError::Blocked { year: 2025, blockers: blockers() },
            ComputeError::Engine { year: 2025, error: SettleError::YearOutsideTerm { year: 1, first: 2, last: 3 } },
            ComputeError::Engine { year: 2025, error: SettleError::CarryOutOfOrder { expected: 2026, year: 2027 } },
            ComputeError::Engine {
                year: 2025,
                error: SettleError::MissingFigures(vec![
                    FigureRef { indicator: "x".into(), year: 2025 },
                    FigureRef { indicator: "y".into(), year: 2024 },
                ]),
            },
            ComputeError::Engine {
                year: 2025,
                error: SettleError::InvalidFigure { figure: "x".into(), reason: "-1 is negative".into() },
            },
            ComputeError::Engine {
                year: 2025,
                error: SettleError::Arithmetic { figure: "x".into(), problem: "overflow" },
            },
            ComputeError::Engine {
                year: 2025,
                error: SettleError::Arithmetic { figure: "x".into(), problem: "division by zero" },
            },
            ComputeError::Engine { year: 2025, error: SettleError::TooManyYears },
            ComputeError::Engine { year: 2025, error: SettleError::NotCanonical("why".into()) },
            ComputeError::Hash { year: 2025, message: "m".into() },
        ]
    }

    fn conflicts() -> Vec<Conflict> {
        vec![
            Conflict::ManySettled { hashes: vec!["aaaa".into(), "bbbb".into()] },
            Conflict::InputVoid { input: "abc".into(), year: 2025 },
            Conflict::InputCorrected {
                indicator: "ccq".into(),
                period: "2025-Q1".into(),
                input: "abc".into(),
                by: "def".into(),
                year: 2025,
            },
            Conflict::InputDisputed {
                indicator: "ccq".into(),
                period: "2025".into(),
                input: "abc".into(),
                by: vec!["p".into(), "q".into()],
            },
            Conflict::PreviousResettled { previous_year: 2025, recorded: "r".into(), now: "n".into(), year: 2026 },
        ]
    }

    fn contract_conflicts() -> Vec<ContractConflict> {
        vec![
            ContractConflict::ManyAgreed { hashes: vec!["aaaa".into(), "bbbb".into()] },
            ContractConflict::ManyAmendments { year: 2027, hashes: vec!["cccc".into(), "dddd".into()] },
        ]
    }

    #[test]
    fn the_english_words_are_the_engines_reference_english() {
        let en = Tr::new(Lang::En);
        for c in contract_conflicts() {
            assert_eq!(contract_conflict(&en, &c), c.to_string());
        }
        for e in errors() {
            assert_eq!(compute_error(&en, &e), e.to_string());
        }
        for c in conflicts() {
            assert_eq!(conflict(&en, &c), c.to_string());
        }
    }

    #[test]
    fn the_dutch_words_differ_from_the_english_and_have_no_holes() {
        let (en, nl) = (Tr::new(Lang::En), Tr::new(Lang::Nl));
        for e in errors() {
            let d = compute_error(&nl, &e);
            assert!(!d.contains('⟦'), "{d}");
            // The engine-failed frame is only a year and the reason.
            if !matches!(e, ComputeError::Hash { .. }) {
                assert_ne!(d, compute_error(&en, &e), "{d}");
            }
        }
        for c in conflicts() {
            let d = conflict(&nl, &c);
            assert!(!d.contains('⟦') && d != conflict(&en, &c), "{d}");
        }
        for c in contract_conflicts() {
            let d = contract_conflict(&nl, &c);
            assert!(!d.contains('⟦') && d != contract_conflict(&en, &c), "{d}");
        }
        let blocked = ComputeError::Blocked { year: 2025, blockers: blockers() };
        let d = cannot_settle(&nl, "c-1", 2026, &blocked);
        assert!(d.starts_with("2026 kan niet worden afgerekend: 5 cijfer(s) van 2025 niet akkoord:\n  2025 care-cost 2025: ontbreekt (aan zet: a, b)"), "{d}");
        assert!(d.ends_with("--draft berekent toch een voorlopige afrekening)"), "{d}");
    }
}
