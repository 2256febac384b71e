//! A contract's term at a glance (`settle summary`): per party, per year and
//! over the term, the cash it received and paid (advances and repayments
//! included, shown apart as loans) and its result (earned or borne: loans
//! excluded), the balances at each year end, and which years are settled,
//! signed or open.
//!
//! A pure function of the statements of the years (the settled statement
//! recomputed by replay, or the statement a copy computes for a year not
//! settled) and where each year stands: no clock, no IO.

use rust_decimal::Decimal;
use serde::Serialize;

use super::money::serde_money;
use super::{AdvanceBalance, Statement, TransferKind};

/// Where a year of the term stands on a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum YearState {
    /// Every signatory signed one statement.
    Settled,
    /// Settled, but an input was corrected or disputed since, or the year
    /// before was resettled: a resettlement is due.
    SettledInConflict,
    /// Some signatories signed the statement this copy computes.
    Signed,
    /// Every figure is agreed; nobody signed yet.
    Computable,
    /// Figures are missing, pending or disputed (no statement).
    Open,
}

/// One party in one year (or over the term).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartyFigures {
    /// Party id.
    pub party: String,
    /// Cash received, every transfer (advances included).
    #[serde(with = "serde_money")]
    pub received: Decimal,
    /// Cash paid, every transfer (repayments included).
    #[serde(with = "serde_money")]
    pub paid: Decimal,
    /// received - paid (above 0: receives on balance).
    #[serde(with = "serde_money")]
    pub net: Decimal,
    /// Of the cash: loans received (impulse advances, balances due).
    #[serde(with = "serde_money")]
    pub loans_received: Decimal,
    /// Of the cash: loans paid (advances paid out by a payer, repayments).
    #[serde(with = "serde_money")]
    pub loans_paid: Decimal,
    /// Result: earned (above 0) or borne (below 0); loans count for nothing.
    #[serde(with = "serde_money")]
    pub result: Decimal,
}

/// One year of the term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearSummary {
    /// The contract year.
    pub year: u16,
    /// Where it stands.
    pub state: YearState,
    /// The statement summarised: the settled one, else the one this copy
    /// computes; `None` while the year is open.
    pub statement_hash: Option<String>,
    /// Per party (contract order as in the statement).
    pub parties: Vec<PartyFigures>,
    /// Advances outstanding at the end of the year.
    pub advances_outstanding: Vec<AdvanceBalance>,
    /// Losses carried forward at the end of the year.
    #[serde(with = "serde_money::opt")]
    pub losses_carried: Option<Decimal>,
    /// Revenue-guarantee top-ups paid in the year (settled within the year,
    /// nothing carried).
    #[serde(with = "serde_money")]
    pub guarantee_top_ups: Decimal,
    /// What is still open about the year, in words (empty when settled
    /// without conflict).
    pub open: Vec<String>,
}

/// The whole term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermSummary {
    /// Contract id.
    pub contract: String,
    /// Every year of the term, in order.
    pub years: Vec<YearSummary>,
    /// Per party over the years that have a statement (settled, signed or
    /// computable), in order of first appearance.
    pub totals: Vec<PartyFigures>,
}

/// The overflow of a sum: the summary cannot be exact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sum of {0} overflows: the summary cannot be exact")]
pub struct Overflow(pub String);

fn add(a: &mut Decimal, b: Decimal, what: &str) -> Result<(), Overflow> {
    *a = a.checked_add(b).ok_or_else(|| Overflow(what.to_string()))?;
    Ok(())
}

/// A year's summary from its statement (if any).
pub fn year_summary(
    year: u16,
    state: YearState,
    statement_hash: Option<String>,
    statement: Option<&Statement>,
    open: Vec<String>,
) -> Result<YearSummary, Overflow> {
    let Some(s) = statement else {
        return Ok(YearSummary {
            year,
            state,
            statement_hash,
            parties: Vec::new(),
            advances_outstanding: Vec::new(),
            losses_carried: None,
            guarantee_top_ups: Decimal::new(0, 2),
            open,
        });
    };
    debug_assert_eq!(s.year, year, "a year is summarised from its own statement");
    let mut parties = Vec::new();
    for p in &s.parties {
        let mut f = PartyFigures {
            party: p.party.to_string(),
            received: p.received,
            paid: p.paid,
            net: p.net,
            result: p.result,
            loans_received: Decimal::new(0, 2),
            loans_paid: Decimal::new(0, 2),
        };
        for l in s.lines.iter().filter(|l| l.transfer_kind() == Some(TransferKind::Loan)) {
            let a = l.amount.unwrap_or_default();
            if l.to.as_deref() == Some(p.party.as_str()) {
                add(&mut f.loans_received, a, &p.party)?;
            } else if l.from.as_deref() == Some(p.party.as_str()) {
                add(&mut f.loans_paid, a, &p.party)?;
            }
        }
        parties.push(f);
    }
    let mut top_ups = Decimal::new(0, 2);
    for l in &s.lines {
        if l.id.starts_with("revenue_guarantee.") && l.id.ends_with(".top_up") {
            add(&mut top_ups, l.amount.unwrap_or_default(), "the guarantee top-ups")?;
        }
    }
    Ok(YearSummary {
        year,
        state,
        statement_hash,
        parties,
        advances_outstanding: s.carry_out.advances.iter().filter(|a| !a.outstanding.is_zero()).cloned().collect(),
        losses_carried: Some(s.carry_out.losses_carried),
        guarantee_top_ups: top_ups,
        open,
    })
}

/// The term from its years' summaries: the totals per party over the years
/// with a statement.
pub fn term_summary(contract: &str, years: Vec<YearSummary>) -> Result<TermSummary, Overflow> {
    let mut totals: Vec<PartyFigures> = Vec::new();
    for y in &years {
        for p in &y.parties {
            let i = match totals.iter().position(|t| t.party == p.party) {
                Some(i) => i,
                None => {
                    totals.push(PartyFigures { party: p.party.clone(), ..PartyFigures::default() });
                    totals.len() - 1
                }
            };
            let t = &mut totals[i];
            add(&mut t.received, p.received, &p.party)?;
            add(&mut t.paid, p.paid, &p.party)?;
            add(&mut t.net, p.net, &p.party)?;
            add(&mut t.loans_received, p.loans_received, &p.party)?;
            add(&mut t.loans_paid, p.loans_paid, &p.party)?;
            add(&mut t.result, p.result, &p.party)?;
        }
    }
    for t in &mut totals {
        for d in [&mut t.received, &mut t.paid, &mut t.net, &mut t.loans_received, &mut t.loans_paid, &mut t.result] {
            d.rescale(2);
        }
        debug_assert_eq!(t.received - t.paid, t.net, "net cash is received - paid");
    }
    Ok(TermSummary { contract: contract.to_string(), years, totals })
}
