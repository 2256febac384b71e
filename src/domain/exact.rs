//! The one exact decimal reader: every figure, amount and rate read from
//! outside (contract files, `measure submit` values from the command line,
//! JSON and CSV files, claims extracts) goes through [`parse_decimal`].
//!
//! The accepted form is a plain decimal: an optional `-`, one or more ASCII
//! digits, and optionally a `.` followed by one or more ASCII digits
//! (`12`, `-0.5`, `1234.50`). Nothing else: no `+`, no exponent, no
//! leading or trailing `.`, no spaces, no `_`. A value that
//! `rust_decimal` cannot hold exactly (more than [`MAX_SCALE`] decimals,
//! or more significant digits than its 96-bit mantissa holds) is refused,
//! never rounded: `0.99999999999999999999999999999` is not `1`.
//!
//! Callers that allow other spellings (a contract's `_` digit separators,
//! `+`, or `"2.5%"`) strip them before calling, and keep their own wording
//! of the error around [`ExactError`]'s reason.

use rust_decimal::Decimal;

/// Most decimals an exact value may have (rust_decimal's largest scale).
pub const MAX_SCALE: usize = 28;

/// Longest text read as a number, in bytes; longer text is refused before
/// it is looked at digit by digit.
pub const MAX_DECIMAL_TEXT: usize = 256;

/// Why a text is not an exact decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExactError {
    /// The text is not of the form `-ddd.ddd`.
    #[error("is not a plain decimal number (write e.g. 1234.56: digits, at most one '.', with digits on both sides)")]
    Malformed,
    /// Well formed, but it cannot be held without rounding.
    #[error(
        "has more digits than an exact decimal holds (at most {MAX_SCALE} decimals and 28 significant digits); it is refused rather than rounded"
    )]
    Inexact,
}

/// True when `text` has the plain decimal shape (see the module docs).
pub fn is_plain_decimal(text: &str) -> bool {
    plain_scale(text).is_some()
}

/// The number of decimals of a plain decimal, or `None` when `text` is not
/// one (a single pass: this runs for every amount of a claims extract).
fn plain_scale(text: &str) -> Option<usize> {
    let body = text.strip_prefix('-').unwrap_or(text).as_bytes();
    let mut int_digits = 0usize;
    let mut point: Option<usize> = None;
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                if point.is_none() {
                    int_digits += 1;
                }
            }
            b'.' if point.is_none() && int_digits > 0 => point = Some(i),
            _ => return None,
        }
    }
    match point {
        None if int_digits > 0 => Some(0),
        Some(p) if p + 1 < body.len() => Some(body.len() - p - 1),
        _ => None,
    }
}

/// Reads `text` (no surrounding space) as an exact decimal, or says why it
/// is not one. The value keeps the scale written (`1.50` has scale 2);
/// callers normalize when they store it.
pub fn parse_decimal(text: &str) -> Result<Decimal, ExactError> {
    let scale = match plain_scale(text) {
        Some(scale) if text.len() <= MAX_DECIMAL_TEXT => scale,
        _ => return Err(ExactError::Malformed),
    };
    if scale > MAX_SCALE {
        return Err(ExactError::Inexact);
    }
    let d = Decimal::from_str_exact(text).map_err(|_| ExactError::Inexact)?;
    debug_assert_eq!(d.scale() as usize, scale, "from_str_exact keeps the written scale");
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_are_exact() {
        for (t, s) in [("0", "0"), ("12", "12"), ("-0.5", "-0.5"), ("1234.50", "1234.50"), ("007", "7")] {
            assert_eq!(parse_decimal(t).unwrap().to_string(), s, "{t}");
        }
        let max = "0.1234567890123456789012345678";
        assert_eq!(parse_decimal(max).unwrap().to_string(), max);
        assert_eq!(parse_decimal("79228162514264337593543950335").unwrap(), Decimal::MAX);
    }

    #[test]
    fn rounding_is_refused() {
        for t in [
            "0.99999999999999999999999999999",
            "0.1234567890123456789012345678901234567890",
            "79228162514264337593543950336",
            "1.00000000000000000000000000000",
            "123456789012345678901234567.891",
        ] {
            assert_eq!(parse_decimal(t), Err(ExactError::Inexact), "{t}");
        }
    }

    #[test]
    fn other_spellings_are_refused() {
        for t in
            ["", "-", ".", "2.", ".5", "+1", "1e3", "1E3", " 1", "1 ", "1_000", "1.2.3", "--1", "0x10", "NaN", "１"]
        {
            assert_eq!(parse_decimal(t), Err(ExactError::Malformed), "{t:?}");
        }
        assert_eq!(parse_decimal(&"1".repeat(MAX_DECIMAL_TEXT + 1)), Err(ExactError::Malformed));
    }
}
