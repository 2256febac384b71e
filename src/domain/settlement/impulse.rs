//! Impulse financing: grants, advances and the repayment of advances.
//!
//! In a year, in this order:
//! 1. Each advance paid in an earlier year with a balance is repaid from the
//!    recipient's shared-savings payout of this year (its transfers
//!    `shared_savings.payout.*`, all payers together): repayment = repayment
//!    rate x payout, rounded, at most the balance and at most what earlier
//!    advances (in contract order) left of the payout. The recipient pays it
//!    back to the advancing payer in the advance's funding stream.
//! 2. Grants and advances of the year are paid.
//! 3. In the last contract year a remaining balance is waived (shown, not
//!    paid) or falls due (the recipient pays it), as the contract says.

use rust_decimal::Decimal;
use smallvec::SmallVec;

use super::money;
use super::why::{int, money as m, name, rate, w};
use super::{line_id, num, AdvanceBalance, Ctx, SettleError, SharedId, V1Label};
use crate::domain::contract::{ImpulseKind, RemainingAtEnd};

/// Settles impulse financing for the year; returns the advances still open.
pub(crate) fn settle(cx: &mut Ctx<'_>, open: &[AdvanceBalance]) -> Result<Vec<AdvanceBalance>, SettleError> {
    let c = cx.c;
    let year = cx.year;
    // Per provider: (id, savings payout, payout left to repay from), in the
    // order first paid (only looked up, never listed); the ids shared with
    // the lines, inline: no string or map per year.
    let mut payouts: SmallVec<[(SharedId, Decimal, Decimal); 8]> = SmallVec::new();
    for l in cx.lines.iter().filter(|l| l.is_transfer() && l.id.starts_with("shared_savings.payout.")) {
        if let Some((_, provider, a)) = l.payer_provider() {
            let i = match payouts.iter().position(|(p, _, _)| **p == *provider) {
                Some(i) => i,
                None => {
                    // `provider` is the line's `from` or `to`: share that.
                    let shared = [&l.from, &l.to].into_iter().flatten().find(|p| ***p == *provider).cloned();
                    payouts.push((shared.unwrap_or_else(|| SharedId::from(provider)), Decimal::ZERO, Decimal::ZERO));
                    payouts.len() - 1
                }
            };
            let e = &mut payouts[i].1;
            *e = money::add(*e, a, "savings payout of a provider")?;
            payouts[i].2 = payouts[i].1;
        }
    }
    let mut out: Vec<AdvanceBalance> = Vec::with_capacity(open.len() + c.impulse.len());
    for adv in open {
        let mut adv = adv.clone();
        let of = payouts.iter().position(|(p, _, _)| **p == *adv.recipient);
        let (payout, left) = of.map_or((Decimal::ZERO, Decimal::ZERO), |i| (payouts[i].1, payouts[i].2));
        let (payout, left) = (payout.max(Decimal::ZERO), left.max(Decimal::ZERO));
        let due = cx.round.cents(money::mul(adv.repayment_rate, payout, "advance repayment")?);
        let repay = due.min(adv.outstanding).min(left);
        let mut repay = repay;
        repay.rescale(2);
        let after = money::sub(adv.outstanding, repay, "advance balance")?;
        let n = adv.impulse;
        cx.push_money(
            line_id(&["impulse", num(&mut itoa::Buffer::new(), n), "repayment_amount"]),
            w!("line-repayment-amount-label", "Repayment of the {} advance to {}", int(adv.year), name(&adv.recipient)),
            if left < payout {
                w!(
                    "line-repayment-amount-left",
                    "Repayment = min({} x {} savings payout, {} balance, {} payout left) = {}; balance after = {}",
                    rate(adv.repayment_rate),
                    m(payout),
                    m(adv.outstanding),
                    m(left),
                    m(repay),
                    m(after)
                )
            } else {
                w!(
                    "line-repayment-amount",
                    "Repayment = min({} x {} savings payout, {} balance) = {}; balance after = {}",
                    rate(adv.repayment_rate),
                    m(payout),
                    m(adv.outstanding),
                    m(repay),
                    m(after)
                )
            },
            repay,
        );
        if !repay.is_zero() {
            cx.transfer_worded(
                line_id(&["impulse", num(&mut itoa::Buffer::new(), n), "repayment", &adv.payer, &adv.recipient]),
                w!("line-repayment-label", "Advance repayment"),
                w!("line-repayment", "{} repays {} of the {} advance", name(&adv.recipient), m(repay), int(adv.year)),
                -repay,
                &adv.payer,
                &adv.recipient,
                adv.funding,
                V1Label::ProviderToPayer,
            );
            if let Some(i) = of {
                payouts[i].2 = money::sub(payouts[i].2, repay, "savings payout left")?;
            }
        }
        adv.outstanding = after;
        out.push(adv);
    }
    for (i, imp) in c.impulse.iter().enumerate().filter(|(_, imp)| imp.year == year) {
        let n = i + 1;
        let amount = cx.round.cents(imp.amount);
        let (kind, label, formula) = match imp.kind {
            ImpulseKind::Grant => (
                "grant",
                w!("line-grant-label", "Impulse grant: {}", name(&imp.purpose)),
                w!(
                    "line-grant",
                    "Impulse grant {} from {} to {} = {}",
                    int(year),
                    name(&imp.payer),
                    name(&imp.recipient),
                    m(amount)
                ),
            ),
            ImpulseKind::Advance { .. } => (
                "advance",
                w!("line-advance-label", "Impulse advance: {}", name(&imp.purpose)),
                w!(
                    "line-advance",
                    "Impulse advance {} from {} to {} = {}",
                    int(year),
                    name(&imp.payer),
                    name(&imp.recipient),
                    m(amount)
                ),
            ),
        };
        cx.transfer(
            line_id(&["impulse", num(&mut itoa::Buffer::new(), n), kind, &imp.payer, &imp.recipient]),
            label,
            formula,
            amount,
            &imp.payer,
            &imp.recipient,
            imp.funding,
        );
        if let ImpulseKind::Advance { repayment_rate, remaining_at_end } = imp.kind {
            out.push(AdvanceBalance {
                impulse: n,
                year,
                recipient: imp.recipient.clone(),
                payer: imp.payer.clone(),
                funding: imp.funding,
                amount,
                outstanding: amount,
                repayment_rate,
                remaining_at_end,
            });
        }
    }
    if year == c.term.last_year {
        for adv in &mut out {
            if adv.outstanding.is_zero() {
                continue;
            }
            let n = adv.impulse;
            match adv.remaining_at_end {
                RemainingAtEnd::Waived => {
                    cx.push_money(
                        line_id(&["impulse", num(&mut itoa::Buffer::new(), n), "waived"]),
                        w!("line-waived-label", "Advance balance waived at the end of the term"),
                        w!("line-waived", "Balance of the {} advance waived = {}", int(adv.year), m(adv.outstanding)),
                        adv.outstanding,
                    );
                    // No money moves; the payer waives the balance in the
                    // recipient's favour: a result for both (not a transfer).
                    let (from, to) = (cx.party(&adv.payer), cx.party(&adv.recipient));
                    if let Some(l) = cx.lines.last_mut() {
                        l.from = Some(from);
                        l.to = Some(to);
                    }
                }
                RemainingAtEnd::Due => cx.transfer_worded(
                    line_id(&["impulse", num(&mut itoa::Buffer::new(), n), "due", &adv.payer, &adv.recipient]),
                    w!("line-due-label", "Advance balance due at the end of the term"),
                    w!("line-due", "Balance of the {} advance due = {}", int(adv.year), m(adv.outstanding)),
                    -adv.outstanding,
                    &adv.payer,
                    &adv.recipient,
                    adv.funding,
                    V1Label::ProviderToPayer,
                ),
            }
            adv.outstanding = Decimal::new(0, 2);
        }
    }
    out.retain(|a| !a.outstanding.is_zero());
    Ok(out)
}
