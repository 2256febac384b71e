//! A statement line in words: its label and its computation in words, in
//! a reader's language. Every document (table, CSV, XLSX, HTML, the audit
//! report, the web) takes a line's words from here, never from the engine.
//!
//! The engine gives each line structured words ([`Phrase`]: a message id and
//! its numbers, names and nested phrases); the messages are in
//! `locales/{en,nl}/lines.ftl` (ids `line-...`), every number is formatted
//! here by the reader's language ([`Tr::money`], [`Tr::rate`], ...), one
//! rule per kind of number:
//!
//! * money: two decimals (`1,234.50` / `1.234,50`);
//! * a rate written in the contract: a percentage with at least two
//!   decimals, as written (`40.00%`, `2.125%`);
//! * a computed ratio (savings rate, interpolated corridor rate, force
//!   majeure fraction, capitation result rate): a percentage with exactly
//!   four decimals (`3.9182%`, `4.0000%`), the precision it is computed to;
//! * a factor: at least four decimals (`1.0300`);
//! * a quantity: as measured, with thousands separators;
//! * a year or a table row: plain digits.
//!
//! A payment from providers shows its figures without sign (the amounts
//! that move FROM -> TO).

use rust_decimal::Decimal;

use crate::domain::settlement::why::{Msg, Phrase, Term, Wording};
use crate::domain::settlement::{Line, RATIO_DP};
use crate::present::lang::{Arg, Tr};

/// Names of the arguments of a line message, in order (`$a0`, `$a1`, ...).
const ARG_NAMES: [&str; 12] = ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11"];

/// Decimals of a computed ratio shown as a percentage: `RATIO_DP` - 2.
const RATIO_PERCENT_DP: u32 = RATIO_DP - 2;

struct Fluent<'a> {
    tr: &'a Tr,
    abs: bool,
}

impl Wording for Fluent<'_> {
    fn message(&self, msg: &'static Msg, args: &[String]) -> String {
        debug_assert!(args.len() <= ARG_NAMES.len(), "a line message has at most {} arguments", ARG_NAMES.len());
        let named: Vec<(&str, Arg<'_>)> =
            ARG_NAMES.iter().zip(args).map(|(n, a)| (*n, Arg::from(a.as_str()))).collect();
        self.tr.t_args(msg.key, &named)
    }

    fn term(&self, t: &Term) -> String {
        let a = |d: &Decimal| if self.abs { d.abs() } else { *d };
        match t {
            Term::Money(d) => self.tr.money(a(d)),
            Term::Rate(d) => self.tr.rate(a(d)),
            Term::Ratio(d) => match a(d).checked_mul(Decimal::ONE_HUNDRED) {
                // Exact: a ratio has at most RATIO_DP decimals.
                Some(mut p) if p.scale() <= RATIO_PERCENT_DP => {
                    p.rescale(RATIO_PERCENT_DP);
                    format!("{}%", self.tr.lang().plain(p))
                }
                _ => self.tr.rate(a(d)),
            },
            Term::Factor(d) => self.tr.factor(a(d)),
            Term::Number(d) => self.tr.number(a(d)),
            Term::Int(n) => n.to_string(),
            Term::Text(s) => s.to_string(),
            Term::Sub(..) | Term::List(..) => String::new(),
        }
    }
}

/// `phrase` in `tr`'s language.
pub fn phrase(tr: &Tr, phrase: &Phrase, abs_figures: bool) -> String {
    phrase.render(&Fluent { tr, abs: abs_figures })
}

/// The label of `line` for a reader of `tr`'s language.
pub fn label(tr: &Tr, line: &Line) -> String {
    phrase(tr, &line.label, line.abs_figures)
}

/// The computation of `line` in words with its numbers, for a reader of
/// `tr`'s language (see [`label`]).
pub fn formula(tr: &Tr, line: &Line) -> String {
    phrase(tr, &line.formula, line.abs_figures)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::settlement::why::{money, rate, ratio, w};
    use crate::present::lang::Lang;

    #[test]
    fn a_computed_ratio_always_shows_four_decimals_in_both_languages() {
        let p = w!(
            "line-ss-rate",
            "Savings rate = {} / {} = {}",
            money(dec!(150.00)),
            money(dec!(1000.00)),
            ratio(dec!(0.15))
        );
        assert_eq!(phrase(&Tr::new(Lang::En), &p, false), "Savings rate = 150.00 / 1,000.00 = 15.0000%");
        assert_eq!(phrase(&Tr::new(Lang::Nl), &p, false), "Besparingspercentage = 150,00 / 1.000,00 = 15,0000%");
        let q = w!(
            "line-ss-rate",
            "Savings rate = {} / {} = {}",
            money(dec!(1.00)),
            money(dec!(3.00)),
            ratio(dec!(0.333333))
        );
        assert!(phrase(&Tr::new(Lang::En), &q, false).ends_with("= 33.3333%"));
        // The engine's version 1 English keeps its own format.
        assert_eq!(p.english(false), "Savings rate = 150.00 / 1,000.00 = 15.00%");
    }

    #[test]
    fn a_fixed_provider_rate_does_not_repeat_itself() {
        let p = w!("line-ss-provider-rate-fixed", "Provider rate = {} = {}", rate(dec!(0.4)), rate(dec!(0.4)));
        assert_eq!(phrase(&Tr::new(Lang::En), &p, false), "Provider rate = 40.00% (the contract's share)");
        assert_eq!(phrase(&Tr::new(Lang::Nl), &p, false), "Aandeel aanbieder = 40,00% (het aandeel uit het contract)");
        assert_eq!(p.english(false), "Provider rate = 40.00% = 40.00%", "version 1 replay keeps its words");
    }

    #[test]
    fn a_payment_from_providers_shows_unsigned_figures() {
        let p = w!(
            "line-split-whole",
            "{} = {}",
            w!("line-ss-loss-payment-label", "Shared loss payment"),
            money(dec!(-1234.50))
        );
        assert_eq!(phrase(&Tr::new(Lang::Nl), &p, true), "Betaling gedeeld verlies = 1.234,50");
        assert_eq!(p.english(false), "Shared loss payment = -1,234.50");
    }
}
