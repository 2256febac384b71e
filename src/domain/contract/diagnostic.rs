//! Diagnostics: one problem in a contract file, with its location.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// One problem found in a contract file.
///
/// Displays as `FILE:LINE:COLUMN: field.path: message`, with 1-based line
/// and column (column counted in characters). Line and column are 0 when the
/// problem has no position in a file (e.g. a contract read back from its
/// canonical form).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// File name as given by the caller.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Dotted field path, e.g. `payments.shared_savings.provider_share` or
    /// `parties[1].key`; empty for problems with the file as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        } else {
            write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.field, self.message)
        }
    }
}

/// A line and column, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    /// The start of the file.
    pub const START: Pos = Pos { line: 1, column: 1 };
}

/// Maps byte offsets of a source text to line and column.
pub(crate) struct LineIndex<'s> {
    text: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub fn new(text: &'s str) -> Self {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { text, starts }
    }

    /// Position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = self.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(0);
        Pos { line: u32::try_from(line + 1).unwrap_or(u32::MAX), column: u32::try_from(column + 1).unwrap_or(u32::MAX) }
    }
}

/// Collects the diagnostics of one source file, with positions from spans.
/// Shared by every strict TOML reader (contracts, scenarios).
pub(crate) struct Reporter<'s> {
    /// The file name shown in diagnostics.
    pub file: String,
    /// Line starts of the source text.
    pub lines: LineIndex<'s>,
    /// The problems so far.
    pub diags: Vec<Diagnostic>,
}

impl<'s> Reporter<'s> {
    /// No problems yet in `text`, read from `file`.
    pub fn new(file: &str, text: &'s str) -> Self {
        Reporter { file: file.to_string(), lines: LineIndex::new(text), diags: Vec::new() }
    }

    /// Records a problem with `field` at `at`.
    pub fn err(&mut self, at: Pos, field: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            line: at.line,
            column: at.column,
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// The position of a span's start, or `fallback` without one.
    pub fn pos(&self, span: Option<Range<usize>>, fallback: Pos) -> Pos {
        span.map(|s| self.lines.pos(s.start)).unwrap_or(fallback)
    }

    /// The position of a TOML item, or `fallback`.
    pub fn item_pos(&self, item: &toml_edit::Item, fallback: Pos) -> Pos {
        let span = match item {
            toml_edit::Item::Table(t) => t.span(),
            toml_edit::Item::ArrayOfTables(a) => a.span(),
            toml_edit::Item::Value(v) => v.span(),
            toml_edit::Item::None => None,
        };
        self.pos(span, fallback)
    }
}

/// Where each field path was found in the file.
pub(crate) type Spans = BTreeMap<String, Pos>;

/// The position of `field`, or of its nearest ancestor that has one.
pub(crate) fn locate(spans: &Spans, field: &str) -> Pos {
    let mut path = field;
    loop {
        if let Some(pos) = spans.get(path) {
            return *pos;
        }
        match path.rfind(['.', '[']) {
            Some(cut) => path = &path[..cut],
            None => return Pos::START,
        }
    }
}
