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

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::money::{self, format_money, format_rate};
use super::{AdvanceBalance, Ctx, SettleError, V1Label};
use crate::domain::contract::{ImpulseKind, RemainingAtEnd};

/// Settles impulse financing for the year; returns the advances still open.
pub(crate) fn settle(cx: &mut Ctx<'_>, open: &[AdvanceBalance]) -> Result<Vec<AdvanceBalance>, SettleError> {
    let c = cx.c;
    let year = cx.year;
    let mut payout_left: BTreeMap<String, Decimal> = BTreeMap::new();
    for l in cx.lines.iter().filter(|l| l.is_transfer() && l.id.starts_with("shared_savings.payout.")) {
        if let Some((_, provider, a)) = l.payer_provider() {
            let e = payout_left.entry(provider.to_string()).or_default();
            *e = money::add(*e, a, "savings payout of a provider")?;
        }
    }
    let payout_total = payout_left.clone();
    let mut out: Vec<AdvanceBalance> = Vec::new();
    for adv in open {
        let mut adv = adv.clone();
        let payout = payout_total.get(&adv.recipient).copied().unwrap_or_default().max(Decimal::ZERO);
        let left = payout_left.get(&adv.recipient).copied().unwrap_or_default().max(Decimal::ZERO);
        let due = cx.round.cents(money::mul(adv.repayment_rate, payout, "advance repayment")?);
        let repay = due.min(adv.outstanding).min(left);
        let mut repay = repay;
        repay.rescale(2);
        let after = money::sub(adv.outstanding, repay, "advance balance")?;
        let n = adv.impulse;
        cx.push_money(
            format!("impulse.{n}.repayment_amount"),
            txt!(cx, "Repayment of the {} advance to {}", adv.year, adv.recipient),
            txt!(
                cx,
                "Repayment = min({} x {} savings payout, {} balance{}) = {}; balance after = {}",
                format_rate(adv.repayment_rate),
                format_money(payout),
                format_money(adv.outstanding),
                if left < payout { txt!(cx, ", {} payout left", format_money(left)) } else { String::new() },
                format_money(repay),
                format_money(after)
            ),
            repay,
        );
        if !repay.is_zero() {
            cx.transfer_worded(
                format!("impulse.{n}.repayment.{}.{}", adv.payer, adv.recipient),
                txt!(cx, "Advance repayment"),
                txt!(cx, "{} repays {} of the {} advance", adv.recipient, format_money(repay), adv.year),
                -repay,
                &adv.payer,
                &adv.recipient,
                adv.funding,
                V1Label::ProviderToPayer,
            );
            if let Some(l) = payout_left.get_mut(&adv.recipient) {
                *l = money::sub(*l, repay, "savings payout left")?;
            }
        }
        adv.outstanding = after;
        out.push(adv);
    }
    for (i, imp) in c.impulse.iter().enumerate().filter(|(_, imp)| imp.year == year) {
        let n = i + 1;
        let amount = cx.round.cents(imp.amount);
        let kind = match imp.kind {
            ImpulseKind::Grant => "grant",
            ImpulseKind::Advance { .. } => "advance",
        };
        cx.transfer(
            format!("impulse.{n}.{kind}.{}.{}", imp.payer, imp.recipient),
            txt!(cx, "Impulse {kind}: {}", imp.purpose),
            txt!(cx, "Impulse {kind} {year} from {} to {} = {}", imp.payer, imp.recipient, format_money(amount)),
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
                        format!("impulse.{n}.waived"),
                        "Advance balance waived at the end of the term",
                        txt!(cx, "Balance of the {} advance waived = {}", adv.year, format_money(adv.outstanding)),
                        adv.outstanding,
                    );
                    // No money moves; the payer waives the balance in the
                    // recipient's favour: a result for both (not a transfer).
                    if let Some(l) = cx.lines.last_mut() {
                        l.from = Some(adv.payer.clone());
                        l.to = Some(adv.recipient.clone());
                    }
                }
                RemainingAtEnd::Due => cx.transfer_worded(
                    format!("impulse.{n}.due.{}.{}", adv.payer, adv.recipient),
                    txt!(cx, "Advance balance due at the end of the term"),
                    txt!(cx, "Balance of the {} advance due = {}", adv.year, format_money(adv.outstanding)),
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
