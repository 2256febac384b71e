//! Spreadsheet formulas that restate the engine's computation of a
//! statement line, checked against the engine before they are written.
//!
//! An [`Ex`] is an expression over cells whose values are known (the
//! engine's own amounts of the lines and figures they reference). It renders
//! as an Excel formula ([`Ex::formula`]) and evaluates exactly in
//! [`Decimal`] with the semantics of that formula ([`Ex::eval`]): Excel's
//! `ROUND` rounds half away from zero; half-even rounding is written as
//! `IF(ABS(MOD(x*10^d,1))=0.5,2*ROUND(x*10^d/2,0),ROUND(x*10^d,0))/10^d`.
//! The workbook writes a formula only when its evaluation equals the
//! engine's amount exactly; otherwise it writes the engine's amount as a
//! value with a note. The engine stays the truth.

use rust_decimal::{Decimal, RoundingStrategy};

/// Nesting limit of an expression: far above any statement line, it keeps
/// rendering and evaluation bounded on any input.
pub const MAX_DEPTH: usize = 64;

/// How a `ROUND` in a formula rounds a midpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mid {
    /// Half away from zero (Excel's `ROUND`, the contract's `half_up`).
    AwayFromZero,
    /// Half to even (the contract's `half_even`).
    Even,
}

/// A comparison in an `IF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `=`
    Eq,
}

/// An expression over cells with known values.
#[derive(Debug, Clone, PartialEq)]
pub enum Ex {
    /// A cell reference (`D12`, `Inputs!$C$4`) holding `value`.
    Cell(String, Decimal),
    /// A literal number.
    Lit(Decimal),
    /// `a + b`
    Add(Box<Ex>, Box<Ex>),
    /// `a - b`
    Sub(Box<Ex>, Box<Ex>),
    /// `a * b`
    Mul(Box<Ex>, Box<Ex>),
    /// `a / b`
    Div(Box<Ex>, Box<Ex>),
    /// `a ^ n`
    Pow(Box<Ex>, u32),
    /// `ROUND(a, dp)` with the given midpoint rule.
    Round(Box<Ex>, u32, Mid),
    /// `INT(a)`: the largest integer not above `a` (Excel's `INT`).
    Int(Box<Ex>),
    /// `MIN(..)`
    Min(Vec<Ex>),
    /// `MAX(..)`
    Max(Vec<Ex>),
    /// `SUM(..)` (an empty sum is 0).
    Sum(Vec<Ex>),
    /// `IF(a cmp b, then, else)`
    If(Box<Ex>, Cmp, Box<Ex>, Box<Ex>, Box<Ex>),
}

/// `a + b`
pub fn add(a: Ex, b: Ex) -> Ex {
    Ex::Add(Box::new(a), Box::new(b))
}
/// `a - b`
pub fn sub(a: Ex, b: Ex) -> Ex {
    Ex::Sub(Box::new(a), Box::new(b))
}
/// `a * b`
pub fn mul(a: Ex, b: Ex) -> Ex {
    Ex::Mul(Box::new(a), Box::new(b))
}
/// `a / b`
pub fn div(a: Ex, b: Ex) -> Ex {
    Ex::Div(Box::new(a), Box::new(b))
}
/// `ROUND(a, dp)` by `mid`.
pub fn round(a: Ex, dp: u32, mid: Mid) -> Ex {
    Ex::Round(Box::new(a), dp, mid)
}
/// `IF(a cmp b, t, e)`
pub fn if_(a: Ex, cmp: Cmp, b: Ex, t: Ex, e: Ex) -> Ex {
    Ex::If(Box::new(a), cmp, Box::new(b), Box::new(t), Box::new(e))
}
/// `INT(a)` (floor).
pub fn int(a: Ex) -> Ex {
    Ex::Int(Box::new(a))
}
/// A literal.
pub fn lit(d: impl Into<Decimal>) -> Ex {
    Ex::Lit(d.into())
}

fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

impl Ex {
    /// The formula text without the leading `=`; `None` past [`MAX_DEPTH`].
    pub fn formula(&self) -> Option<String> {
        self.text(0)
    }

    fn text(&self, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let t = |e: &Ex| e.text(depth + 1);
        let list = |v: &[Ex]| v.iter().map(|e| e.text(depth + 1)).collect::<Option<Vec<_>>>().map(|v| v.join(","));
        Some(match self {
            Ex::Cell(r, _) => r.clone(),
            Ex::Lit(d) if d.is_sign_negative() => format!("({})", num(*d)),
            Ex::Lit(d) => num(*d),
            Ex::Add(a, b) => format!("({}+{})", t(a)?, t(b)?),
            Ex::Sub(a, b) => format!("({}-{})", t(a)?, t(b)?),
            Ex::Mul(a, b) => format!("{}*{}", t(a)?, t(b)?),
            Ex::Div(a, b) => format!("{}/({})", t(a)?, t(b)?),
            Ex::Pow(a, n) => format!("({})^{n}", t(a)?),
            Ex::Round(a, dp, Mid::AwayFromZero) => format!("ROUND({},{dp})", t(a)?),
            Ex::Round(a, dp, Mid::Even) => {
                let x = t(a)?;
                let s = format!("10^{dp}");
                format!("(IF(ABS(MOD({x}*{s},1))=0.5,2*ROUND({x}*{s}/2,0),ROUND({x}*{s},0))/{s})")
            }
            Ex::Int(a) => format!("INT({})", t(a)?),
            Ex::Min(v) => format!("MIN({})", list(v)?),
            Ex::Max(v) => format!("MAX({})", list(v)?),
            Ex::Sum(v) if v.is_empty() => "0".to_string(),
            Ex::Sum(v) => format!("SUM({})", list(v)?),
            Ex::If(a, c, b, x, y) => {
                let op = match c {
                    Cmp::Lt => "<",
                    Cmp::Ge => ">=",
                    Cmp::Gt => ">",
                    Cmp::Eq => "=",
                };
                format!("IF({}{op}{},{},{})", t(a)?, t(b)?, t(x)?, t(y)?)
            }
        })
    }

    /// The exact value of the formula; `None` on overflow, division by zero
    /// or past [`MAX_DEPTH`].
    pub fn eval(&self) -> Option<Decimal> {
        self.value(0)
    }

    fn value(&self, depth: usize) -> Option<Decimal> {
        if depth > MAX_DEPTH {
            return None;
        }
        let v = |e: &Ex| e.value(depth + 1);
        match self {
            Ex::Cell(_, d) | Ex::Lit(d) => Some(*d),
            Ex::Add(a, b) => v(a)?.checked_add(v(b)?),
            Ex::Sub(a, b) => v(a)?.checked_sub(v(b)?),
            Ex::Mul(a, b) => v(a)?.checked_mul(v(b)?),
            Ex::Div(a, b) => {
                let d = v(b)?;
                if d.is_zero() {
                    None
                } else {
                    v(a)?.checked_div(d)
                }
            }
            Ex::Pow(a, n) => {
                let base = v(a)?;
                (0..*n).try_fold(Decimal::ONE, |acc, _| acc.checked_mul(base))
            }
            Ex::Round(a, dp, mid) => {
                let s = match mid {
                    Mid::AwayFromZero => RoundingStrategy::MidpointAwayFromZero,
                    Mid::Even => RoundingStrategy::MidpointNearestEven,
                };
                Some(v(a)?.round_dp_with_strategy(*dp, s))
            }
            Ex::Int(a) => Some(v(a)?.floor()),
            Ex::Min(xs) => xs.iter().map(v).collect::<Option<Vec<_>>>()?.into_iter().min(),
            Ex::Max(xs) => xs.iter().map(v).collect::<Option<Vec<_>>>()?.into_iter().max(),
            Ex::Sum(xs) => xs.iter().try_fold(Decimal::ZERO, |acc, e| acc.checked_add(v(e)?)),
            Ex::If(a, c, b, x, y) => {
                let (a, b) = (v(a)?, v(b)?);
                let holds = match c {
                    Cmp::Lt => a < b,
                    Cmp::Ge => a >= b,
                    Cmp::Gt => a > b,
                    Cmp::Eq => a == b,
                };
                if holds {
                    v(x)
                } else {
                    v(y)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounding_follows_the_midpoint_rule_in_value_and_text() {
        let x = Ex::Cell("D2".into(), dec!(2.345));
        assert_eq!(round(x.clone(), 2, Mid::AwayFromZero).eval(), Some(dec!(2.35)));
        assert_eq!(round(x.clone(), 2, Mid::Even).eval(), Some(dec!(2.34)));
        assert_eq!(round(x.clone(), 2, Mid::AwayFromZero).formula().unwrap(), "ROUND(D2,2)");
        assert!(round(x, 2, Mid::Even).formula().unwrap().starts_with("(IF(ABS(MOD(D2*10^2,1))=0.5,"));
    }

    #[test]
    fn division_by_zero_and_depth_give_none() {
        assert_eq!(div(lit(1), lit(0)).eval(), None);
        let mut e = lit(1);
        for _ in 0..=MAX_DEPTH + 1 {
            e = add(e, lit(1));
        }
        assert_eq!(e.eval(), None);
        assert_eq!(e.formula(), None);
    }

    #[test]
    fn int_is_the_floor_and_eq_compares_exactly() {
        let x = Ex::Cell("D2".into(), dec!(-2.5));
        assert_eq!(int(x.clone()).eval(), Some(dec!(-3)));
        assert_eq!(int(x.clone()).formula().unwrap(), "INT(D2)");
        let e = if_(x, Cmp::Eq, lit(dec!(-2.50)), lit(1), lit(0));
        assert_eq!(e.eval(), Some(Decimal::ONE));
        assert_eq!(e.formula().unwrap(), "IF(D2=(-2.5),1,0)");
    }

    #[test]
    fn negative_literals_are_parenthesised_and_empty_sums_are_zero() {
        assert_eq!(sub(lit(1), lit(-2)).formula().unwrap(), "(1-(-2))");
        assert_eq!(Ex::Sum(vec![]).formula().unwrap(), "0");
        assert_eq!(Ex::Sum(vec![]).eval(), Some(Decimal::ZERO));
    }
}
