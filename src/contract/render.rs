//! Rendering the terms of a contract as text for a reader.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::model::*;

/// `EUR 1,234,567.80`: two decimals, thousands separated by commas.
pub fn money(d: Decimal) -> String {
    let r = d.round_dp(2);
    let neg = r.is_sign_negative() && !r.is_zero();
    let text = format!("{:.2}", r.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}EUR {grouped}.{frac}", if neg { "-" } else { "" })
}

/// `12.5%`: a rate as an exact percentage.
pub fn percent(d: Decimal) -> String {
    format!("{}%", (d * Decimal::ONE_HUNDRED).normalize())
}
