//! The quality gate of a year, as a structured notice: met or not met, the
//! score and the gate, and the consequence the contract states
//! (`monitoring.below_quality_gate`) when it is not met.
//!
//! A pure function of the contract terms and the statement's quality score
//! (line `shared_savings.quality_score`), so the settlement status and the
//! audit report raise the same thing from the same data.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::domain::contract::{Contract, GateAction};

use super::format_factor;

/// The statement line that holds the year's quality score.
pub const QUALITY_SCORE_LINE: &str = "shared_savings.quality_score";

/// The quality gate of one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateNotice {
    /// The year's quality score (0..1).
    pub score: Decimal,
    /// The contract's minimum quality score (`min_quality_score`, above 0).
    pub gate: Decimal,
    /// True when `score >= gate`.
    pub met: bool,
    /// What the contract says follows when the gate is not met (`none`,
    /// `improvement_plan`, `contract_review`); `None` when it is met.
    pub consequence: Option<GateAction>,
}

impl GateNotice {
    /// The notice in words, e.g. `quality gate met: score 0.7400 >= gate 0.6000`.
    pub fn words(&self) -> String {
        let (score, gate) = (format_factor(self.score), format_factor(self.gate));
        if self.met {
            return format!("quality gate met: score {score} >= gate {gate}");
        }
        let then = match self.consequence {
            Some(GateAction::ImprovementPlan) => {
                "; the contract requires an improvement plan from the providers (monitoring.below_quality_gate = improvement_plan)"
            }
            Some(GateAction::ContractReview) => {
                "; the contract is to be reviewed at the next review date (monitoring.below_quality_gate = contract_review)"
            }
            Some(GateAction::None) | None => "",
        };
        format!("quality gate NOT met: score {score} < gate {gate}: no savings share{then}")
    }
}

/// The quality gate of a year whose statement has quality score `score`:
/// `None` when the contract has no shared-savings gate (`min_quality_score`
/// absent or 0) or the statement has no quality score.
pub fn quality_gate(terms: &Contract, score: Option<Decimal>) -> Option<GateNotice> {
    let gate = terms.payments.shared_savings.as_ref()?.min_quality_score;
    let score = score?;
    if gate <= Decimal::ZERO {
        return None;
    }
    let met = score >= gate;
    Some(GateNotice { score, gate, met, consequence: (!met).then_some(terms.monitoring.below_quality_gate) })
}

/// The quality score of a statement in its JSON form (a signed payload's
/// `statement`, or a computed statement's value): the `value` of line
/// [`QUALITY_SCORE_LINE`], if there is one and it is an exact decimal.
pub fn quality_score_of(statement: &Value) -> Option<Decimal> {
    statement
        .get("lines")?
        .as_array()?
        .iter()
        .find(|l| l.get("id").and_then(Value::as_str) == Some(QUALITY_SCORE_LINE))?
        .get("value")?
        .as_str()
        .and_then(|v| Decimal::from_str_exact(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn copd() -> Contract {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/copd-telemonitoring-shared-savings.toml");
        crate::domain::contract::check_file(std::path::Path::new(path)).expect("the example contract is valid")
    }

    #[test]
    fn a_passed_gate_is_shown_and_a_failed_one_raises_the_contracts_consequence() {
        let c = copd();
        assert_eq!(c.monitoring.below_quality_gate, GateAction::ImprovementPlan);
        let met = quality_gate(&c, Some(dec!(0.74))).expect("the COPD contract has a gate");
        assert!(met.met && met.consequence.is_none());
        assert_eq!(met.words(), "quality gate met: score 0.7400 >= gate 0.3000");
        let at = quality_gate(&c, Some(dec!(0.3))).unwrap();
        assert!(at.met, "a score at the gate passes it");
        let below = quality_gate(&c, Some(dec!(0.2))).unwrap();
        assert!(!below.met);
        assert_eq!(below.consequence, Some(GateAction::ImprovementPlan));
        assert!(below.words().contains("NOT met") && below.words().contains("improvement plan"), "{}", below.words());
        assert_eq!(quality_gate(&c, None), None, "no quality score, no gate");
    }

    #[test]
    fn the_score_is_read_from_the_statement_line() {
        let v =
            serde_json::json!({"lines": [{"id": "x", "value": "1"}, {"id": QUALITY_SCORE_LINE, "value": "0.7400001"}]});
        assert_eq!(quality_score_of(&v), Some(dec!(0.7400001)));
        assert_eq!(quality_score_of(&serde_json::json!({"lines": []})), None);
        assert_eq!(quality_score_of(&serde_json::json!({"lines": [{"id": QUALITY_SCORE_LINE, "value": 0.5}]})), None);
    }
}
