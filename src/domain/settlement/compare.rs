//! Two statements of one contract year compared (docs/FORMAT.md 5.8,
//! "Replaced statement and correction payments"): line by line, payment by
//! payment, party by party, and the **correction payments** that take the
//! parties from what statement A made them pay to what statement B makes
//! them pay.
//!
//! A pure function of two statements: no clock, no IO, no hash-map order.
//! Every difference is exact (`rust_decimal`), and an overflow is an error,
//! never a rounded figure.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;

use super::money::serde_money;
use super::{Payment, SharedId, Statement};
use crate::domain::contract::Funding;

/// One line of the two statements: its figure in A and in B (an amount or
/// a value; `None`: the statement has no such line, or it is a figure of
/// the other kind) and B - A when both have it.
///
/// Serialized as `{"id", "money", "a", "b", "difference"}`, figures as exact
/// decimal strings (money with two decimals, a value normalized) or `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDiff {
    /// The line id.
    pub id: String,
    /// Whether the line is a money amount (else a value: a rate, score,
    /// factor or quantity).
    pub money: bool,
    /// The figure in statement A.
    pub a: Option<Decimal>,
    /// The figure in statement B.
    pub b: Option<Decimal>,
    /// B - A, when both statements have the line.
    pub difference: Option<Decimal>,
}

impl Serialize for LineDiff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let show =
            |v: Option<Decimal>| v.map(|d| if self.money { format!("{:.2}", d) } else { d.normalize().to_string() });
        let mut st = s.serialize_struct("LineDiff", 5)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("money", &self.money)?;
        st.serialize_field("a", &show(self.a))?;
        st.serialize_field("b", &show(self.b))?;
        st.serialize_field("difference", &show(self.difference))?;
        st.end()
    }
}

impl LineDiff {
    /// Whether the line differs between the statements.
    pub fn differs(&self) -> bool {
        self.a != self.b
    }
}

/// A payment FROM -> TO in one funding stream in the two statements (0 where
/// a statement has no such payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentDiff {
    /// Who pays.
    pub from: String,
    /// Who receives.
    pub to: String,
    /// Funding stream.
    pub funding: Funding,
    /// The payment in statement A (0 or more).
    #[serde(with = "serde_money")]
    pub a: Decimal,
    /// The payment in statement B (0 or more).
    #[serde(with = "serde_money")]
    pub b: Decimal,
    /// B - A.
    #[serde(with = "serde_money")]
    pub difference: Decimal,
}

/// One party in the two statements: cash on balance (received - paid) and
/// result (earned, or borne below 0), with B - A.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyDiff {
    /// Party id.
    pub party: String,
    /// Net cash in A (above 0: the party receives on balance).
    #[serde(with = "serde_money")]
    pub net_a: Decimal,
    /// Net cash in B.
    #[serde(with = "serde_money")]
    pub net_b: Decimal,
    /// The correction: net_b - net_a (above 0: the party receives it, below
    /// 0: it pays it back).
    #[serde(with = "serde_money")]
    pub net_difference: Decimal,
    /// Result in A.
    #[serde(with = "serde_money")]
    pub result_a: Decimal,
    /// Result in B.
    #[serde(with = "serde_money")]
    pub result_b: Decimal,
    /// result_b - result_a.
    #[serde(with = "serde_money")]
    pub result_difference: Decimal,
}

/// Two statements of a year compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Every line of either statement: B's lines in B's order, then lines
    /// only A has, in A's order.
    pub lines: Vec<LineDiff>,
    /// Every payment of either statement, by (from, to, funding).
    pub payments: Vec<PaymentDiff>,
    /// Every party of either statement: B's parties in B's order, then
    /// those only A has.
    pub parties: Vec<PartyDiff>,
    /// The correction payments: per pair of parties and funding stream, the
    /// change of the net flow between them from A to B, as a payment FROM ->
    /// TO with an amount above 0 (the direction says who pays back). Sorted
    /// by from, to, funding; pairs whose flow did not change are left out.
    pub corrections: Vec<Payment>,
}

impl Comparison {
    /// Whether the statements move the same money (no correction payment).
    pub fn no_correction(&self) -> bool {
        self.corrections.is_empty()
    }
}

/// Why two statements cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// The statements are of different contracts or years.
    #[error("the statements are of {0} and of {1}: only statements of the same contract year are compared")]
    NotSameYear(String, String),
    /// A difference does not fit an exact decimal.
    #[error("a difference of {0} overflows: the statements cannot be compared exactly")]
    Overflow(String),
}

fn sub(b: Decimal, a: Decimal, what: &str) -> Result<Decimal, CompareError> {
    b.checked_sub(a).ok_or_else(|| CompareError::Overflow(what.to_string()))
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, CompareError> {
    a.checked_add(b).ok_or_else(|| CompareError::Overflow(what.to_string()))
}

/// The net flow per (party, party, stream) with the first party the smaller
/// id: what the first pays the second (below 0: the second pays the first).
fn flows(s: &Statement) -> Result<BTreeMap<(SharedId, SharedId, Funding), Decimal>, CompareError> {
    let mut out: BTreeMap<(SharedId, SharedId, Funding), Decimal> = BTreeMap::new();
    for p in &s.payments {
        let (key, signed) = if p.from <= p.to {
            ((p.from.clone(), p.to.clone(), p.funding), p.amount)
        } else {
            ((p.to.clone(), p.from.clone(), p.funding), -p.amount)
        };
        let e = out.entry(key).or_insert(Decimal::ZERO);
        *e = add(*e, signed, "a payment")?;
    }
    Ok(out)
}

/// Compares statement `a` (the earlier, e.g. the replaced statement) with
/// `b` (the later, e.g. the one now computed or settled) of the same
/// contract year (see [`Comparison`]).
pub fn compare(a: &Statement, b: &Statement) -> Result<Comparison, CompareError> {
    if a.contract != b.contract || a.year != b.year {
        return Err(CompareError::NotSameYear(
            format!("{} {}", a.contract, a.year),
            format!("{} {}", b.contract, b.year),
        ));
    }
    // Lines: B's order, then A's lines B does not have.
    let figure = |s: &Statement, id: &str| s.line(id).and_then(|l| l.amount.or(l.value));
    let mut lines = Vec::new();
    let b_ids: BTreeSet<&str> = b.lines.iter().map(|l| &*l.id).collect();
    for l in b.lines.iter().chain(a.lines.iter().filter(|l| !b_ids.contains(&*l.id))) {
        let money = l.amount.is_some();
        let (fa, fb) = (figure(a, &l.id), figure(b, &l.id));
        let kind = |s: &Statement| s.line(&l.id).map(|x| x.amount.is_some());
        // A line that is money in one statement and a value in the other has
        // no difference (never the case for one engine, but never subtracted).
        let difference = match (fa, fb) {
            (Some(x), Some(y)) if kind(a) == kind(b) => Some(sub(y, x, &l.id)?),
            _ => None,
        };
        lines.push(LineDiff { id: l.id.to_string(), money, a: fa, b: fb, difference });
    }
    // Payments, directed as each statement has them.
    let key = |p: &Payment| (p.from.clone(), p.to.clone(), p.funding);
    let pa: BTreeMap<_, Decimal> = a.payments.iter().map(|p| (key(p), p.amount)).collect();
    let pb: BTreeMap<_, Decimal> = b.payments.iter().map(|p| (key(p), p.amount)).collect();
    let keys: BTreeSet<&(SharedId, SharedId, Funding)> = pa.keys().chain(pb.keys()).collect();
    let mut payments = Vec::new();
    for k in keys {
        let (x, y) = (pa.get(k).copied().unwrap_or(Decimal::ZERO), pb.get(k).copied().unwrap_or(Decimal::ZERO));
        payments.push(PaymentDiff {
            from: k.0.to_string(),
            to: k.1.to_string(),
            funding: k.2,
            a: x,
            b: y,
            difference: sub(y, x, "a payment")?,
        });
    }
    // Parties.
    let b_parties: BTreeSet<&str> = b.parties.iter().map(|p| p.party.as_str()).collect();
    let mut parties = Vec::new();
    for name in b
        .parties
        .iter()
        .map(|p| p.party.as_str())
        .chain(a.parties.iter().map(|p| p.party.as_str()).filter(|p| !b_parties.contains(p)))
    {
        let of = |s: &Statement| {
            s.parties.iter().find(|p| p.party == name).map_or((Decimal::ZERO, Decimal::ZERO), |p| (p.net, p.result))
        };
        let ((net_a, result_a), (net_b, result_b)) = (of(a), of(b));
        parties.push(PartyDiff {
            party: name.to_string(),
            net_a,
            net_b,
            net_difference: sub(net_b, net_a, name)?,
            result_a,
            result_b,
            result_difference: sub(result_b, result_a, name)?,
        });
    }
    // Correction payments: the change of each pair's net flow.
    let (fa, fb) = (flows(a)?, flows(b)?);
    let pairs: BTreeSet<&(SharedId, SharedId, Funding)> = fa.keys().chain(fb.keys()).collect();
    let mut corrections = Vec::new();
    for k in pairs {
        let d = sub(
            fb.get(k).copied().unwrap_or(Decimal::ZERO),
            fa.get(k).copied().unwrap_or(Decimal::ZERO),
            "a correction",
        )?;
        if d.is_zero() {
            continue;
        }
        let (from, to) = if d.is_sign_positive() { (&k.0, &k.1) } else { (&k.1, &k.0) };
        corrections.push(Payment { from: from.clone(), to: to.clone(), funding: k.2, amount: d.abs() });
    }
    corrections.sort_by(|x, y| (&x.from, &x.to, x.funding).cmp(&(&y.from, &y.to, y.funding)));
    debug_assert!(corrections.iter().all(|c| c.amount > Decimal::ZERO), "a correction payment is positive");
    debug_assert!(
        parties.iter().all(|p| {
            let mut sum = Decimal::ZERO;
            for c in &corrections {
                if c.to == p.party {
                    sum += c.amount;
                } else if c.from == p.party {
                    sum -= c.amount;
                }
            }
            sum == p.net_difference
        }),
        "each party's correction payments add up to the change of its net cash"
    );
    Ok(Comparison { lines, payments, parties, corrections })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settlement::Carry;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn statement(payments: &[(&str, &str, &str)]) -> Statement {
        let carry = Carry { settled_through: None, advances: Vec::new(), losses_carried: d("0.00") };
        Statement {
            contract: "c".into(),
            contract_version: "v".into(),
            year: 2026,
            inputs: Vec::new(),
            lines: Vec::new(),
            parties: Vec::new(),
            payments: payments
                .iter()
                .map(|(from, to, amount)| Payment {
                    from: (*from).into(),
                    to: (*to).into(),
                    funding: Funding::Zvw,
                    amount: d(amount),
                })
                .collect(),
            totals_by_stream: BTreeMap::new(),
            carry_in: carry.clone(),
            carry_out: carry,
        }
    }

    /// The figures: 414,368.00 was paid (70/30 to two providers);
    /// the resettled statement pays 366,368.00: 48,000.00 comes back,
    /// 33,600.00 from one provider and 14,400.00 from the other.
    #[test]
    fn a_lower_resettlement_is_paid_back_by_each_provider() {
        let paid = statement(&[("zvw-payer", "a-provider", "290057.60"), ("zvw-payer", "b-provider", "124310.40")]);
        let now = statement(&[("zvw-payer", "a-provider", "256457.60"), ("zvw-payer", "b-provider", "109910.40")]);
        let c = compare(&paid, &now).unwrap();
        let got: Vec<(&str, &str, Decimal)> =
            c.corrections.iter().map(|p| (p.from.as_str(), p.to.as_str(), p.amount)).collect();
        assert_eq!(got, vec![("a-provider", "zvw-payer", d("33600.00")), ("b-provider", "zvw-payer", d("14400.00"))]);
        let diffs: Vec<Decimal> = c.payments.iter().map(|p| p.difference).collect();
        assert_eq!(diffs, vec![d("-33600.00"), d("-14400.00")]);
    }

    /// A flow that changes direction: A had the provider pay 100.00, B has
    /// the payer pay 50.00: the payer pays 150.00 to set it right.
    #[test]
    fn a_flow_that_changes_direction_is_corrected_in_one_payment() {
        let a = statement(&[("p", "payer", "100.00")]);
        let b = statement(&[("payer", "p", "50.00")]);
        let c = compare(&a, &b).unwrap();
        assert_eq!(c.corrections.len(), 1);
        assert_eq!((c.corrections[0].from.as_str(), c.corrections[0].to.as_str()), ("payer", "p"));
        assert_eq!(c.corrections[0].amount, d("150.00"));
        assert!(compare(&b, &b).unwrap().no_correction());
        let mut other = statement(&[]);
        other.year = 2027;
        assert!(matches!(compare(&a, &other), Err(CompareError::NotSameYear(..))));
    }
}
