//! Column layout for the terminal documents (statement, diff, term
//! summary): padding and cutting by characters, never by bytes (names
//! and labels come from counterparties and may be any Unicode).

/// `s` padded with spaces to `n` characters, on the left when `right`
/// (right-aligned, for amounts), else on the right. A longer `s` is kept
/// whole.
pub fn pad(s: &str, n: usize, right: bool) -> String {
    let fill = " ".repeat(n.saturating_sub(s.chars().count()));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// `s` cut to at most `n` characters, marking a cut with `...` (for ids
/// and reasons in narrow columns; statement labels are never cut).
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(3)).collect::<String>() + "..."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_and_cutting_count_characters_and_never_panic() {
        assert_eq!(pad("€1", 4, true), "  €1");
        assert_eq!(pad("ab", 4, false), "ab  ");
        assert_eq!(pad("abcdef", 4, false), "abcdef");
        assert_eq!(truncate("ziekenhuis", 7), "ziek...");
        assert_eq!(truncate("é€ü", 3), "é€ü");
        assert_eq!(truncate("abcdef", 2), "...");
        assert_eq!(truncate("abcdef", 0), "...");
    }
}
