//! Splitting an amount among parties so the parts sum exactly to the whole.
//!
//! Each party's exact part is `total x weight / sum of weights`. Each part is
//! first cut to whole cents toward zero; the cents left over (fewer than the
//! number of parties) then go, one each, to the largest cut-off fractions
//! (`largest_remainder`), or all to the party with the largest weight
//! (`largest_share`). Ties go to the party listed first in the contract's
//! `[[parties]]`. The contract's rounding rule is not used here: a split
//! never creates or loses a cent.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use smallvec::{smallvec, SmallVec};

use super::money;
use super::why::{self, int, money as m, number, rate, w, Phrase, Term};
use super::{Ctx, LineId, SettleError, SharedId, V1Label};
use crate::domain::contract::{Contract, Funding, PayerRule, ProviderRule, Remainder, Role};

/// One party's part of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Party id.
    pub party: String,
    /// Its amount in cents (scale 2).
    pub amount: Decimal,
    /// Leftover cents it received (0 or more).
    pub extra_cents: u32,
}

/// Splits `total` (in cents) by `weights` (party, weight >= 0), in the given
/// party order, with the remainder `rule`. `what` names the split in errors.
pub fn split(
    total: Decimal,
    weights: &[(String, Decimal)],
    rule: Remainder,
    what: &str,
) -> Result<Vec<Part>, SettleError> {
    let w: Vec<Decimal> = weights.iter().map(|(_, w)| *w).collect();
    let mut cut = Cut::new();
    split_cents(total, &w, rule, &mut cut).map_err(|e| named(e, || what.to_string()))?;
    Ok(weights
        .iter()
        .zip(cut)
        .map(|((party, _), (amount, extra_cents))| Part { party: party.clone(), amount, extra_cents })
        .collect())
}

/// The amounts of [`split`] (one per weight, in order) without naming the
/// parties: for a caller that keeps its own party order.
pub fn split_amounts(total: Decimal, weights: &[Decimal], rule: Remainder) -> Result<Vec<Decimal>, SettleError> {
    Ok(split_amounts_inline(total, weights, rule)?.into_vec())
}

/// [`split_amounts`] kept inline up to 16 weights (a simulation splits
/// every run's savings by the payer key without allocating).
pub fn split_amounts_inline(
    total: Decimal,
    weights: &[Decimal],
    rule: Remainder,
) -> Result<SmallVec<[Decimal; 16]>, SettleError> {
    let mut cut = Cut::new();
    split_cents(total, weights, rule, &mut cut)?;
    Ok(cut.into_iter().map(|(amount, _)| amount).collect())
}

/// The parts of a split, per weight: (amount, extra cents). Inline up to
/// 16 weights (the keys of a contract: its payers, providers or streams),
/// so a split allocates nothing.
type Cut = SmallVec<[(Decimal, u32); 16]>;

/// The error `e` of [`split_cents`] (which names no figure) naming `what`.
fn named(mut e: SettleError, what: impl FnOnce() -> String) -> SettleError {
    if let SettleError::Arithmetic { figure, .. } | SettleError::InvalidFigure { figure, .. } = &mut e {
        *figure = what();
    }
    e
}

/// The arithmetic of [`split`]: per weight, in order, (amount, extra cents)
/// into `out` (cleared first). Errors name no figure: the caller names it.
fn split_cents(total: Decimal, weights: &[Decimal], rule: Remainder, out: &mut Cut) -> Result<(), SettleError> {
    const WHAT: &str = "";
    out.clear();
    let negative = total.is_sign_negative();
    let whole = total.abs();
    // The integer path takes only keys of weights 0 or more whose sum is
    // above 0 and fits (so the Decimal sum below would be exact and the
    // key valid): then the checks below cannot fail and are not made.
    if !split_exact(whole, weights, rule, out) {
        let sum = money::sum(weights.iter().copied(), WHAT)?;
        if sum <= Decimal::ZERO || weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
            return Err(SettleError::InvalidFigure {
                figure: WHAT.to_string(),
                reason: "the distribution key must have weights of 0 or more with a positive sum".to_string(),
            });
        }
        split_decimal(whole, sum, weights, rule, out)?;
    }
    if negative {
        for p in out.iter_mut() {
            p.0 = -p.0;
        }
    }
    debug_assert_eq!(out.iter().map(|p| p.0).sum::<Decimal>(), total);
    Ok(())
}

/// [`split_cents`] of `whole` (not negative) in Decimal arithmetic, any size.
fn split_decimal(
    whole: Decimal,
    sum: Decimal,
    weights: &[Decimal],
    rule: Remainder,
    out: &mut Cut,
) -> Result<(), SettleError> {
    const WHAT: &str = "";
    out.clear();
    let cent = Decimal::new(1, 2);
    let mut remainders = [Decimal::ZERO; 16];
    let mut remainders_vec = Vec::new();
    let remainders: &mut [Decimal] = if weights.len() <= remainders.len() {
        &mut remainders[..weights.len()]
    } else {
        remainders_vec.resize(weights.len(), Decimal::ZERO);
        &mut remainders_vec
    };
    for (w, rem) in weights.iter().zip(remainders.iter_mut()) {
        let scaled = money::mul(whole, *w, WHAT)?;
        let mut base = money::div(scaled, sum, WHAT)?.trunc_with_scale(2);
        // The division keeps 28 significant digits; should it have rounded up
        // across a cent, step back so the cut part never exceeds the exact one.
        if money::mul(base, sum, WHAT)? > scaled {
            base = money::sub(base, cent, WHAT)?;
        }
        base.rescale(2);
        *rem = money::sub(scaled, money::mul(base, sum, WHAT)?, WHAT)?;
        out.push((base, 0));
    }
    let given = money::sum(out.iter().map(|p| p.0), WHAT)?;
    let left = money::sub(whole, given, WHAT)?;
    let left_cents = money::mul(left, Decimal::ONE_HUNDRED, WHAT)?;
    let n = left_cents.trunc().to_u32().unwrap_or(0);
    debug_assert!(left_cents.fract().is_zero() && (n as usize) <= out.len());
    match rule {
        Remainder::LargestRemainder => {
            if n > 0 {
                let mut order: Vec<usize> = (0..out.len()).collect();
                // Stable sort: equal remainders keep the contract's party order.
                order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]));
                for i in order.into_iter().cycle().take(n as usize) {
                    out[i].1 += 1;
                }
            }
        }
        Remainder::LargestShare => {
            let mut best = 0;
            for (i, w) in weights.iter().enumerate() {
                if *w > weights[best] {
                    best = i;
                }
            }
            if let Some(p) = out.get_mut(best) {
                p.1 = n;
            }
        }
    }
    for p in out.iter_mut() {
        p.0 = money::add(p.0, money::mul(Decimal::from(p.1), cent, WHAT)?, WHAT)?;
    }
    Ok(())
}

/// [`split_cents`] of `whole` (in cents, not negative) in integers, for
/// the common case where every Decimal step there is exact: whole x weight
/// and part x sum of weights fit in the 96-bit mantissa at a scale of at most
/// 28. Then the cut part (the rounded quotient, truncated to cents and
/// stepped back if it rounded up across a cent) is exactly the floor of
/// `whole x weight / sum` in cents, and the remainders compare as the
/// integers `whole x weight - part x sum`; the results are the same
/// Decimals. Returns false (and leaves `out` to be refilled) otherwise.
fn split_exact(whole: Decimal, weights: &[Decimal], rule: Remainder, out: &mut Cut) -> bool {
    if whole.scale() != 2 || weights.len() > 16 {
        return false;
    }
    let c = whole.mantissa();
    let s = weights.iter().map(|w| w.scale()).max().unwrap_or(0);
    if s > 26 || c < 0 {
        return false;
    }
    let n = weights.len();
    let mut rem = [0i128; 16];
    let mut bases = [0i128; 16];
    let mut extra = [0u32; 16];
    let given = match u64::try_from(c).ok().and_then(|c| floors_u64(c, weights, s, &mut bases, &mut rem)) {
        Some(given) => given,
        None => match floors_i128(c, weights, s, &mut bases, &mut rem) {
            Some(given) => given,
            None => return false,
        },
    };
    let left = (c - given) as u32;
    match rule {
        Remainder::LargestRemainder => {
            if left > 0 {
                let mut order = [0usize; 16];
                for (k, o) in order.iter_mut().enumerate().take(n) {
                    *o = k;
                }
                let order = &mut order[..n];
                // Stable sort: equal remainders keep the contract's party order.
                order.sort_by(|a, b| rem[*b].cmp(&rem[*a]));
                for &i in order.iter().cycle().take(left as usize) {
                    extra[i] += 1;
                }
            }
        }
        Remainder::LargestShare => {
            let mut best = 0;
            for (i, x) in weights.iter().enumerate() {
                if *x > weights[best] {
                    best = i;
                }
            }
            extra[best] = left;
        }
    }
    out.clear();
    for k in 0..n {
        // The last step as `split_decimal` takes it, base + extra x 0.01:
        // for a part above 0, both terms have two decimals and no sign and
        // their sum is at most `c` (below 2^96), so that Decimal sum is
        // exactly these cents at scale 2. A zero part comes out as that
        // addition gives it (its scale is not 2).
        let cents = bases[k] + i128::from(extra[k]);
        let amount = if cents == 0 {
            Decimal::from(extra[k])
                .checked_mul(Decimal::new(1, 2))
                .and_then(|x| Decimal::from_i128_with_scale(0, 2).checked_add(x))
        } else {
            Decimal::try_from_i128_with_scale(cents, 2).ok()
        };
        let Some(amount) = amount else { return false };
        out.push((amount, extra[k]));
    }
    true
}

/// The cut parts of [`split_exact`] in 128-bit integers: per weight, the
/// floor of `c x w / sw` (cents) into `bases` and its remainder into `rem`,
/// with the key `w` at scale `s` (the weights' largest) and `sw` its sum;
/// returns the sum of the parts. `None` (and nothing to use) unless every
/// weight is 0 or more, their sum above 0 and `c x sw` below 2^96.
fn floors_i128(c: i128, weights: &[Decimal], s: u32, bases: &mut [i128; 16], rem: &mut [i128; 16]) -> Option<i128> {
    const LIMIT: i128 = 1 << 96;
    let mut w = [0i128; 16];
    let mut sw: i128 = 0;
    for (k, x) in weights.iter().enumerate() {
        let v = 10i128.checked_pow(s - x.scale()).and_then(|f| x.mantissa().checked_mul(f))?;
        if v < 0 {
            return None;
        }
        w[k] = v;
        sw = sw.checked_add(v)?;
    }
    // The key's sum fits in a mantissa (at scale `s`, so its Decimal sum is
    // exact), and so does every product (the total is 0 or more cents).
    if sw <= 0 || sw >= LIMIT || c.checked_mul(sw).is_none_or(|p| p >= LIMIT) {
        return None;
    }
    let mut given: i128 = 0;
    for k in 0..weights.len() {
        // 0 <= w[k] <= sw, so 0 <= scaled <= c x sw < 2^96: the product
        // cannot wrap (the release profile checks overflow, and a checked
        // 128-bit product is a library call).
        let scaled = c.wrapping_mul(w[k]);
        // Both are below 2^96 and not negative; most fit in 64 bits, where
        // the quotient is one machine division, not a 128-bit routine.
        let base = match (u64::try_from(scaled), u64::try_from(sw)) {
            (Ok(a), Ok(b)) => i128::from(a / b),
            _ => scaled / sw,
        };
        // base x sw <= scaled: no wrap either.
        rem[k] = scaled - base.wrapping_mul(sw);
        given += base;
        bases[k] = base;
    }
    Some(given)
}

/// [`floors_i128`] in 64-bit integers, for the common case where every
/// weight at scale `s`, their sum and `c x sum` fit in a u64 (then they
/// are below 2^96 too): the same parts and remainders, as the same
/// integers, without 128-bit arithmetic. `None` where they do not fit (or
/// a weight is negative, or the sum is 0): [`floors_i128`] decides.
fn floors_u64(c: u64, weights: &[Decimal], s: u32, bases: &mut [i128; 16], rem: &mut [i128; 16]) -> Option<i128> {
    let mut w = [0u64; 16];
    let mut sw: u64 = 0;
    for (k, x) in weights.iter().enumerate() {
        let m = u64::try_from(x.mantissa()).ok()?;
        let v = m.checked_mul(*money::POW10_U64.get((s - x.scale()) as usize)?)?;
        w[k] = v;
        sw = sw.checked_add(v)?;
    }
    if sw == 0 {
        return None;
    }
    c.checked_mul(sw)?;
    let mut given: u64 = 0;
    for k in 0..weights.len() {
        // w[k] <= sw: c x w[k] <= c x sw fits.
        let scaled = c * w[k];
        let base = scaled / sw;
        rem[k] = i128::from(scaled - base * sw);
        bases[k] = i128::from(base);
        given += base;
    }
    Some(i128::from(given))
}

/// The payer key of the contract: (payer, weight) in party order. Inline
/// up to 8 payers: a payout split among the payers allocates no key.
fn payer_weights(c: &Contract) -> SmallVec<[(&str, Decimal); 8]> {
    c.parties_with_role(Role::Payer)
        .filter_map(|p| match &c.distribution.payers.rule {
            PayerRule::ByContribution => Some((p.id.as_str(), p.contribution.unwrap_or_default())),
            PayerRule::Fixed { shares } => shares.get(&p.id).map(|s| (p.id.as_str(), *s)),
        })
        .collect()
}

/// The provider key for this year: (provider, weight) in party order.
/// Computed once per year (it reads the year's figures) and kept in `cx`;
/// the caller gives it back with [`Ctx::provider_key`] set (taken, not
/// copied, so a payout splits without allocating a key).
fn provider_weights<'a>(cx: &mut Ctx<'a>) -> Result<Vec<(&'a str, Decimal)>, SettleError> {
    if let Some(w) = cx.provider_key.take() {
        return Ok(w);
    }
    let c: &'a Contract = cx.c;
    let mut out = Vec::new();
    for p in c.parties_with_role(Role::Provider) {
        match &c.distribution.providers.rule {
            ProviderRule::Fixed { shares } => {
                if let Some(s) = shares.get(&p.id) {
                    out.push((p.id.as_str(), *s));
                }
            }
            ProviderRule::ByIndicator { indicators } => {
                if let Some(ind) = indicators.get(&p.id) {
                    out.push((p.id.as_str(), cx.fig_nonneg(ind)?));
                }
            }
        }
    }
    Ok(out)
}

/// A payment to be made for a component.
pub(crate) struct Payout<'p> {
    /// Line id prefix, e.g. `shared_savings.payout` or `p4p.hba1c.payment`:
    /// each transfer's id is it with the payer and the provider.
    pub(crate) id: PayoutId<'p>,
    /// Label of the transfers (the component).
    pub(crate) label: Phrase,
    /// Rounded amount; positive: payer pays provider; negative: provider pays payer.
    pub(crate) amount: Decimal,
    /// Named payer, or `None` to split by the payer key.
    pub(crate) payer: Option<&'p str>,
    /// Named provider, or `None` to split by the provider key.
    pub(crate) recipient: Option<&'p str>,
    /// Funding stream.
    pub(crate) funding: Funding,
}

/// The line id prefix of a [`Payout`].
pub(crate) enum PayoutId<'p> {
    /// The engine's own text, e.g. `shared_savings.payout`.
    Fixed(&'static str),
    /// Parts joined by `.`, e.g. `["p4p", "hba1c", "payment"]`.
    Parts(&'p [&'p str]),
}

impl PayoutId<'_> {
    /// The prefix shared ([`why::shared`]), to join with each transfer's
    /// payer and provider ([`why::transfer_id`]).
    fn shared(&self) -> SharedId {
        match self {
            PayoutId::Fixed(s) => why::shared_static(s),
            PayoutId::Parts(parts) => why::shared_joined(parts),
        }
    }

    /// The prefix as text (for an error).
    fn text(&self) -> String {
        match self {
            PayoutId::Fixed(s) => s.to_string(),
            PayoutId::Parts(parts) => parts.join("."),
        }
    }
}

/// Splits `p` among payers and providers as the contract says and pushes one
/// transfer line per (payer, provider), id `{id}.{payer}.{provider}`.
/// A zero amount makes no lines.
///
/// The words of each payer part are built once and copied into each line's
/// formula; those of a provider part are written straight into the formula
/// (no phrase or list of phrases per line): the same terms as
/// `w!("line-split", "{}; {} = {}", label, List("; ", words), part)`.
pub(crate) fn allocate<'a>(cx: &mut Ctx<'a>, p: &Payout<'_>) -> Result<(), SettleError> {
    debug_assert_eq!(p.amount.scale(), 2);
    if p.amount.is_zero() {
        return Ok(());
    }
    let c: &'a Contract = cx.c;
    let mut cut = Cut::new();
    let payer_parts: SmallVec<[(&str, Decimal, Option<Phrase>); 4]> = match p.payer {
        Some(payer) => smallvec![(payer, p.amount, None)],
        None => {
            let w = payer_weights(c);
            let by_contribution = matches!(c.distribution.payers.rule, PayerRule::ByContribution);
            let key: SmallVec<[Decimal; 8]> = w.iter().map(|(_, x)| *x).collect();
            split_cents(p.amount, &key, c.distribution.payers.remainder, &mut cut)
                .map_err(|e| named(e, || format!("payer split of {}", p.id.text())))?;
            let total: Decimal = key.iter().sum();
            w.iter()
                .zip(&cut)
                .map(|(&(party, x), &(amount, extra_cents))| {
                    let words = if w.len() == 1 {
                        None
                    } else {
                        let key = if by_contribution {
                            w!("line-key-contribution", "contribution {} of {}", m(x), m(total))
                        } else {
                            w!("line-key-rate", "{}", rate(x))
                        };
                        Some(w!(
                            "line-payer-part",
                            "payer part: {} of {}{}",
                            key,
                            m(p.amount),
                            cents_words(extra_cents)
                        ))
                    };
                    (party, amount, words)
                })
                .collect()
        }
    };
    let provider_key = match p.recipient {
        Some(_) => None,
        None => Some(provider_weights(cx)?),
    };
    // The transfers' ids begin with the payout's: shared once, joined with
    // each payer and provider through `why::transfer_id`.
    let prefix = p.id.shared();
    let result = split_payer_parts(cx, p, &prefix, &payer_parts, provider_key.as_deref(), &mut cut);
    if provider_key.is_some() {
        cx.provider_key = provider_key;
    }
    result
}

/// The second half of [`allocate`]: each payer's part split among the
/// providers by `provider_key` (`None`: the named recipient takes it).
fn split_payer_parts<'a>(
    cx: &mut Ctx<'a>,
    p: &Payout<'_>,
    prefix: &SharedId,
    payer_parts: &[(&str, Decimal, Option<Phrase>)],
    provider_key: Option<&[(&'a str, Decimal)]>,
    cut: &mut Cut,
) -> Result<(), SettleError> {
    let c: &'a Contract = cx.c;
    let by_indicator = matches!(c.distribution.providers.rule, ProviderRule::ByIndicator { .. });
    // The key's total for the words; `split_cents` refuses a key whose sum
    // overflows before any words are made.
    let provider_total = provider_key
        .unwrap_or_default()
        .iter()
        .try_fold(Decimal::ZERO, |t, (_, x)| t.checked_add(*x))
        .unwrap_or_default();
    let key: SmallVec<[Decimal; 8]> = provider_key.unwrap_or_default().iter().map(|(_, x)| *x).collect();
    // Each party's shared id once per payout, not once per transfer.
    let provider_ids: SmallVec<[SharedId; 8]> =
        provider_key.unwrap_or_default().iter().map(|(party, _)| cx.party(party)).collect();
    let recipient = p.recipient.map(|r| cx.party(r));
    for (payer, amount, payer_words) in payer_parts {
        let (payer, amount) = (cx.party(payer), *amount);
        match (&recipient, provider_key) {
            (Some(r), _) => push_part(cx, p, prefix, &payer, r, amount, payer_words.as_ref(), None),
            (None, w) => {
                let w = w.unwrap_or_default();
                split_cents(amount, &key, c.distribution.providers.remainder, cut)
                    .map_err(|e| named(e, || format!("provider split of {}", p.id.text())))?;
                debug_assert_eq!(w.len(), cut.len(), "one part per provider");
                debug_assert_eq!(w.len(), provider_ids.len(), "one id per provider");
                for ((&(_, x), &(part, extra_cents)), provider) in w.iter().zip(cut.iter()).zip(&provider_ids) {
                    let words = if w.len() == 1 {
                        None
                    } else {
                        let key = if by_indicator {
                            w!("line-key-of", "{} of {}", number(x), number(provider_total))
                        } else {
                            w!("line-key-rate", "{}", rate(x))
                        };
                        Some((key, amount, extra_cents))
                    };
                    push_part(cx, p, prefix, &payer, provider, part, payer_words.as_ref(), words);
                }
            }
        }
    }
    Ok(())
}

/// Pushes the transfer of `part` from `payer` to `provider` of payout `p`,
/// its formula written in place: the payer's words (copied) and the
/// provider's (the key's words, the payer's part split and the extra cents).
#[allow(clippy::too_many_arguments)]
fn push_part(
    cx: &mut Ctx<'_>,
    p: &Payout<'_>,
    prefix: &SharedId,
    payer: &SharedId,
    provider: &SharedId,
    part: Decimal,
    payer_words: Option<&Phrase>,
    provider_words: Option<(Phrase, Decimal, u32)>,
) {
    let n = usize::from(payer_words.is_some()) + usize::from(provider_words.is_some());
    let formula = if !why::words() {
        // Numbers only: the message, no terms (see `why::words`).
        Phrase::new(if n == 0 { w!("line-split-whole", "{} = {}").msg } else { w!("line-split", "{}; {} = {}").msg })
    } else if n == 0 {
        let mut f = Phrase::with_capacity(w!("line-split-whole", "{} = {}").msg, p.label.term_count() + 2);
        f.arg_ref(&p.label);
        f.arg(m(part));
        f
    } else {
        let mut f = Phrase::with_capacity(
            w!("line-split", "{}; {} = {}").msg,
            p.label.term_count() + payer_words.map_or(0, |w| w.term_count() + 1) + 12,
        );
        f.arg_ref(&p.label);
        // At most two items: the payer's words and the provider's.
        f.arg_list("; ", n as u8);
        if let Some(w) = payer_words {
            f.item_ref(w);
        }
        if let Some((key, amount, extra_cents)) = provider_words {
            // w!("line-provider-part", "provider part: {} of {}{}", key,
            // m(amount), cents_words(extra_cents)), written in place.
            f.terms.push(Term::Sub(w!("line-provider-part", "provider part: {} of {}{}").msg, 3));
            f.item(key);
            f.terms.push(m(amount));
            f.item(cents_words(extra_cents));
        }
        f.arg(m(part));
        f
    };
    let id = LineId::from(why::transfer_id(prefix, payer, provider));
    let (payer, provider) = (payer.clone(), provider.clone());
    // The label names the component; the line's `from` and `to` say who pays whom.
    let label = p.label.clone();
    cx.transfer_between(id, label, formula, part, payer, provider, p.funding, V1Label::PayerToProvider);
    if p.amount.is_sign_negative() {
        // A payment from the providers: the words show what moves
        // FROM -> TO (positive); version 1 showed the signed figures.
        if let Some(l) = cx.lines.last_mut() {
            l.abs_figures = true;
        }
    }
}

fn cents_words(n: u32) -> Phrase {
    match n {
        0 => w!("line-nothing", ""),
        1 => w!("line-cents-one", " + 1 cent rounding remainder"),
        n => w!("line-cents", " + {} cents rounding remainder", int(n)),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn w(items: &[(&str, Decimal)]) -> Vec<(String, Decimal)> {
        items.iter().map(|(p, x)| (p.to_string(), *x)).collect()
    }

    fn amounts(parts: &[Part]) -> Vec<Decimal> {
        parts.iter().map(|p| p.amount).collect()
    }

    #[test]
    fn hundred_over_three_largest_remainder() {
        let k = w(&[("a", Decimal::ONE), ("b", Decimal::ONE), ("c", Decimal::ONE)]);
        let parts = split(dec!(100.00), &k, Remainder::LargestRemainder, "t").unwrap();
        // 33.333.. each; one cent left; equal remainders: first party.
        assert_eq!(amounts(&parts), vec![dec!(33.34), dec!(33.33), dec!(33.33)]);
    }

    #[test]
    fn largest_remainder_goes_to_largest_fraction() {
        // 10.00 by 1:2:4 -> 1.428571, 2.857142, 5.714285 -> cut 1.42, 2.85, 5.71 = 9.98;
        // remainders 0.00857, 0.00714, 0.00428 -> cents to a then b.
        let k = w(&[("a", dec!(1)), ("b", dec!(2)), ("c", dec!(4))]);
        let parts = split(dec!(10.00), &k, Remainder::LargestRemainder, "t").unwrap();
        assert_eq!(amounts(&parts), vec![dec!(1.43), dec!(2.86), dec!(5.71)]);
    }

    #[test]
    fn largest_share_takes_all_cents() {
        let k = w(&[("a", dec!(1)), ("b", dec!(2)), ("c", dec!(4))]);
        let parts = split(dec!(10.00), &k, Remainder::LargestShare, "t").unwrap();
        assert_eq!(amounts(&parts), vec![dec!(1.42), dec!(2.85), dec!(5.73)]);
        assert_eq!(parts[2].extra_cents, 2);
    }

    #[test]
    fn negative_totals_split_symmetrically() {
        let k = w(&[("a", dec!(0.6)), ("b", dec!(0.4))]);
        let parts = split(dec!(-0.05), &k, Remainder::LargestRemainder, "t").unwrap();
        assert_eq!(amounts(&parts), vec![dec!(-0.03), dec!(-0.02)]);
    }

    #[test]
    fn integer_split_equals_decimal_split() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        for case in 0..20_000 {
            let n = 1 + next(6) as usize;
            let weights: Vec<Decimal> = (0..n)
                .map(|_| Decimal::new(next(if case % 3 == 0 { 10 } else { 1_000_000 }) as i64, next(7) as u32))
                .collect();
            let sum: Decimal = weights.iter().sum();
            if sum.is_zero() {
                continue;
            }
            let big = if case % 5 == 0 { 1_000_000_000_000 } else { 1 };
            // Wrapping on purpose (the cases as they were drawn before overflow checks).
            let whole = Decimal::new(next(100_000_000).wrapping_mul(big) as i64, 2);
            for rule in [Remainder::LargestRemainder, Remainder::LargestShare] {
                let (mut a, mut b) = (Cut::new(), Cut::new());
                if !split_exact(whole, &weights, rule, &mut a) {
                    continue;
                }
                split_decimal(whole, sum, &weights, rule, &mut b).unwrap();
                assert_eq!(a, b, "{whole} by {weights:?}");
                for (x, y) in a.iter().zip(&b) {
                    assert_eq!(x.0.serialize(), y.0.serialize(), "{whole} by {weights:?}: {a:?}");
                }
            }
        }
    }

    proptest::proptest! {
        /// The integer path gives the very bytes of the Decimal path, for
        /// amounts up to the largest mantissa (2^96 - 1 cents) and keys of
        /// any scale, or declines; `split_cents` itself never panics on
        /// them (an overflow is an error).
        #[test]
        fn integer_split_is_the_decimal_split_up_to_overflow(
            cents in 0u128..(1u128 << 96),
            small in proptest::bool::ANY,
            negative in proptest::bool::ANY,
            key in proptest::collection::vec((0u64..u64::MAX, 0u32..=28, 0u64..1000), 1..8),
            largest_share in proptest::bool::ANY,
        ) {
            let rule = if largest_share { Remainder::LargestShare } else { Remainder::LargestRemainder };
            let cents = if small { cents % 10_000_000_000 } else { cents };
            let whole = Decimal::from_i128_with_scale(cents as i128, 2);
            // Large weights of any scale, and small whole ones as keys have.
            let weights: Vec<Decimal> = key
                .iter()
                .map(|&(m, s, k)| if s % 2 == 0 { Decimal::from(k) } else { Decimal::from_i128_with_scale(i128::from(m), s) })
                .collect();
            let mut c = Cut::new();
            let _ = split_cents(if negative { -whole } else { whole }, &weights, rule, &mut c);
            let Ok(sum) = money::sum(weights.iter().copied(), "") else { return Ok(()) };
            if sum.is_zero() {
                return Ok(());
            }
            let (mut a, mut b) = (Cut::new(), Cut::new());
            if split_exact(whole, &weights, rule, &mut a) {
                proptest::prop_assert!(split_decimal(whole, sum, &weights, rule, &mut b).is_ok());
                proptest::prop_assert_eq!(&a, &b);
                for (x, y) in a.iter().zip(&b) {
                    proptest::prop_assert_eq!(x.0.serialize(), y.0.serialize());
                }
            }
        }
    }

    proptest::proptest! {
        /// The 64-bit floors are the 128-bit ones wherever they are given.
        #[test]
        fn floors_u64_are_floors_i128(
            cents in 0u64..u64::MAX,
            small in proptest::bool::ANY,
            key in proptest::collection::vec((0u64..u64::MAX, 0u32..=28, 0u64..1000, proptest::bool::ANY), 1..16),
        ) {
            let c = if small { cents % 10_000_000_000 } else { cents };
            let weights: Vec<Decimal> = key
                .iter()
                .map(|&(m, s, k, whole)| if whole { Decimal::from(k) } else { Decimal::from_i128_with_scale(i128::from(m % 10u64.pow(s % 8)), s) })
                .collect();
            let s = weights.iter().map(|w| w.scale()).max().unwrap_or(0);
            let (mut b1, mut r1, mut b2, mut r2) = ([0i128; 16], [0i128; 16], [0i128; 16], [0i128; 16]);
            if let Some(g) = floors_u64(c, &weights, s, &mut b1, &mut r1) {
                proptest::prop_assert_eq!(Some(g), floors_i128(i128::from(c), &weights, s, &mut b2, &mut r2));
                proptest::prop_assert_eq!(b1, b2);
                proptest::prop_assert_eq!(r1, r2);
            }
        }
    }

    /// `split_cents` as it was before it tried the integer path first: the
    /// key summed and checked, then the Decimal split (which the integer
    /// path equals where it splits, as the proptest above shows).
    fn split_cents_checking_first(total: Decimal, weights: &[Decimal], rule: Remainder) -> Result<Cut, SettleError> {
        let mut out = Cut::new();
        let sum = money::sum(weights.iter().copied(), "")?;
        if sum <= Decimal::ZERO || weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
            return Err(SettleError::InvalidFigure {
                figure: String::new(),
                reason: "the distribution key must have weights of 0 or more with a positive sum".to_string(),
            });
        }
        split_decimal(total.abs(), sum, weights, rule, &mut out)?;
        if total.is_sign_negative() {
            for p in out.iter_mut() {
                p.0 = -p.0;
            }
        }
        Ok(out)
    }

    proptest::proptest! {
        /// Trying the integer path before checking the key changes no
        /// split and no refusal: negative, zero and overflowing keys and
        /// zero totals included.
        #[test]
        fn splitting_before_checking_the_key_changes_nothing(
            cents in 0u128..(1u128 << 96),
            small in proptest::bool::ANY,
            zero in proptest::bool::ANY,
            negative in proptest::bool::ANY,
            key in proptest::collection::vec((0u64..u64::MAX, 0u32..=28, -3i64..1000, 0u8..4), 1..8),
            largest_share in proptest::bool::ANY,
        ) {
            let rule = if largest_share { Remainder::LargestShare } else { Remainder::LargestRemainder };
            let cents = if zero { 0 } else if small { cents % 10_000_000_000 } else { cents };
            let whole = Decimal::from_i128_with_scale(cents as i128, 2);
            let total = if negative { -whole } else { whole };
            let weights: Vec<Decimal> = key
                .iter()
                .map(|&(m, s, k, kind)| match kind {
                    0 => Decimal::from(k),
                    1 => Decimal::from_i128_with_scale(i128::from(m), s),
                    2 => Decimal::MAX,
                    _ => Decimal::ZERO,
                })
                .collect();
            let mut now = Cut::new();
            let got = split_cents(total, &weights, rule, &mut now).map(|()| now);
            let before = split_cents_checking_first(total, &weights, rule);
            proptest::prop_assert_eq!(&got, &before);
            if let (Ok(a), Ok(b)) = (&got, &before) {
                for (x, y) in a.iter().zip(b) {
                    proptest::prop_assert_eq!(x.0.serialize(), y.0.serialize());
                }
            }
        }
    }

    #[test]
    fn split_amounts_are_the_amounts_of_split() {
        let k = w(&[("a", dec!(1)), ("b", dec!(2)), ("c", dec!(4))]);
        let weights: Vec<Decimal> = k.iter().map(|(_, x)| *x).collect();
        for total in [dec!(10.00), dec!(-0.05), dec!(0.00), dec!(123456789.01)] {
            for rule in [Remainder::LargestRemainder, Remainder::LargestShare] {
                let parts = split(total, &k, rule, "t").unwrap();
                assert_eq!(split_amounts(total, &weights, rule).unwrap(), amounts(&parts), "{total}");
            }
        }
        assert!(split_amounts(dec!(1.00), &[dec!(0), dec!(0)], Remainder::LargestRemainder).is_err());
    }

    #[test]
    fn zero_key_is_an_error() {
        let k = w(&[("a", dec!(0)), ("b", dec!(0))]);
        let e = split(dec!(1.00), &k, Remainder::LargestRemainder, "provider split of x").unwrap_err();
        assert!(e.to_string().contains("provider split of x"), "{e}");
    }
}
