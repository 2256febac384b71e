//! Strict CSV quoting, checked byte by byte ahead of the `csv` crate,
//! which reads broken quoting leniently: a file cut off inside a quoted
//! field, text after a closing quote (`"note"junk`, read as `notejunk`) and
//! a quote inside an unquoted field are all accepted by it. A file whose
//! fields could be read two ways is refused instead (`docs/FORMAT.md`
//! section 11, `docs/DERIVE.md`).
//!
//! The rule (RFC 4180): a quote may only open a field (at the start of a
//! line or right after a `,`); inside a quoted field `""` is a quote; a
//! closing quote is followed by `,`, a line end (`\n` or `\r`) or the end of
//! the input. Only ASCII bytes matter, so the check runs on raw bytes
//! (UTF-8 continuation bytes are never ASCII) and can be fed in chunks.

/// Where the checker is within a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    FieldStart,
    Unquoted,
    Quoted,
    AfterQuote,
}

/// A quoting problem: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteError {
    /// The line (for an unclosed field, the line where it opened).
    pub line: u64,
    /// What is wrong and what to do.
    pub what: String,
}

/// The quoting checker, fed the input in order ([`QuoteCheck::feed`]) and
/// told where it ends ([`QuoteCheck::finish`]).
#[derive(Debug, Clone)]
pub struct QuoteCheck {
    at: At,
    line: u64,
    opened: u64,
}

impl Default for QuoteCheck {
    fn default() -> Self {
        QuoteCheck { at: At::FieldStart, line: 1, opened: 1 }
    }
}

impl QuoteCheck {
    /// A checker at the start of the input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next bytes of the input; the first problem is returned
    /// (feeding more after an error gives no meaningful result).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), QuoteError> {
        // Fast path: outside a quoted field, a chunk without quotes only
        // moves between field starts and unquoted text.
        if matches!(self.at, At::FieldStart | At::Unquoted) && !bytes.contains(&b'"') {
            self.line += bytes.iter().filter(|b| **b == b'\n').count() as u64;
            if let Some(last) = bytes.last() {
                self.at = if matches!(last, b',' | b'\n' | b'\r') { At::FieldStart } else { At::Unquoted };
            }
            return Ok(());
        }
        for &b in bytes {
            self.at = match (self.at, b) {
                (At::Quoted, b'"') => At::AfterQuote,
                (At::Quoted, _) => At::Quoted,
                (At::FieldStart, b'"') => {
                    self.opened = self.line;
                    At::Quoted
                }
                (At::AfterQuote, b'"') => At::Quoted,
                (_, b',' | b'\n' | b'\r') => At::FieldStart,
                (At::Unquoted, b'"') => {
                    return Err(QuoteError {
                        line: self.line,
                        what: "a quote inside an unquoted field; quote the whole field and double the quote (\"\")"
                            .into(),
                    })
                }
                (At::AfterQuote, other) => {
                    let shown = if other.is_ascii_graphic() || other == b' ' {
                        format!(" ({:?})", other as char)
                    } else {
                        String::new()
                    };
                    return Err(QuoteError {
                        line: self.line,
                        what: format!(
                            "text{shown} after the closing quote of a field; a quoted field ends at its quote (write \"\" for a quote inside it)"
                        ),
                    });
                }
                (At::FieldStart | At::Unquoted, _) => At::Unquoted,
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(())
    }

    /// Checks that the input may end here (no quoted field left open).
    pub fn finish(&self) -> Result<(), QuoteError> {
        if self.at == At::Quoted {
            return Err(QuoteError {
                line: self.opened,
                what: "a quoted field opened on this line is never closed (the file is cut off or a quote is missing)"
                    .into(),
            });
        }
        Ok(())
    }

    /// Checks a whole text.
    pub fn check(text: &[u8]) -> Result<(), QuoteError> {
        let mut c = QuoteCheck::new();
        c.feed(text)?;
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_quoting_passes_in_any_chunks() {
        let text = b"a,\"b, \"\"c\"\"\nd\",e\r\n\"\",f\n\"x\"";
        assert_eq!(QuoteCheck::check(text), Ok(()));
        for split in 0..text.len() {
            let mut c = QuoteCheck::new();
            c.feed(&text[..split]).unwrap();
            c.feed(&text[split..]).unwrap();
            assert_eq!(c.finish(), Ok(()));
        }
    }

    #[test]
    fn broken_quoting_names_the_line() {
        let line = |t: &[u8]| QuoteCheck::check(t).unwrap_err().line;
        assert_eq!(line(b"h\nok\n\"open\nmore\n"), 3);
        assert_eq!(line(b"h\n\"note\"junk\n"), 2);
        assert_eq!(line(b"h\nsay \"hi\"\n"), 2);
        assert_eq!(line(b"h\n\"a\" ,b\n"), 2);
        assert!(QuoteCheck::check(b"h\n\"note\"junk").unwrap_err().what.contains("('j')"));
        // Lines counted in quote-free chunks (the fast path) too.
        let mut c = QuoteCheck::new();
        c.feed(b"h\nok,1\nx").unwrap();
        c.feed(b"y\n").unwrap();
        assert_eq!(c.feed(b"z\"").unwrap_err().line, 4);
        let mut c = QuoteCheck::new();
        c.feed(b"h\nok,").unwrap();
        c.feed(b"\"open\n").unwrap();
        assert_eq!(c.finish().unwrap_err().line, 2);
    }
}
