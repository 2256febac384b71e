//! A settlement statement as a document for the controller's file: one
//! language-bound model of what the statement shows ([`Doc`], built by
//! [`statement_doc`] from the same data and the same words as the terminal
//! statement [`crate::present::statement::table_in`]), rendered as one
//! self-contained HTML file ([`html`]) or as a PDF written without a
//! browser ([`crate::present::pdf`]).
//!
//! The model holds plain text only; each renderer escapes it for its
//! format (HTML: [`crate::present::report_html::escape`]), so no ledger text
//! (party ids, contract text in line words) can inject markup.

use rust_decimal::Decimal;

use crate::domain::settlement::cosign::Computed;
use crate::domain::settlement::ENGINE_VERSION;
use crate::present::lang::{Arg, Lang, Tr};
use crate::present::report_html::escape;
use crate::present::statement::{balances_in, earned_or_bore_in, guarantees, receives_or_pays_in, Standing};
use crate::present::words;

/// One signature of a statement of the year, as the document lists it. The
/// caller (which reads the ledger) fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRow {
    /// The signing party.
    pub party: String,
    /// The fingerprint of the key that signed the entry (`XXXX-XXXX-XXXX-XXXX`).
    pub key: String,
    /// The hash of the statement it signed.
    pub statement: String,
    /// The signing entry id.
    pub entry: String,
    /// The author's claimed time (RFC 3339, as in the entry).
    pub time: String,
}

/// A statement's corrections against the statement it replaced, as the
/// document shows them ([`crate::present::diff::corrections_table`] in
/// words and figures).
#[derive(Debug, Clone, Copy)]
pub struct CorrectionView<'a> {
    /// The replaced statement's hash.
    pub replaced: &'a str,
    /// Whether the shown statement is the settled one (it replaced `replaced`).
    pub settled: bool,
    /// Replaced statement (A) against the shown one (B).
    pub comparison: &'a crate::domain::settlement::compare::Comparison,
}

/// One cell of a table: its text and whether it is a number (right-aligned,
/// tabular figures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The text, unescaped.
    pub text: String,
    /// A number: right-aligned.
    pub num: bool,
}

impl Cell {
    /// A text cell.
    pub fn text(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), num: false }
    }

    /// A number cell.
    pub fn num(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), num: true }
    }
}

/// One row of a table: its cells (the first is the row's heading) and
/// lines of detail shown under the first cell (a route, a formula in words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The cells, as many as the table has columns.
    pub cells: Vec<Cell>,
    /// Detail lines under the first cell.
    pub details: Vec<String>,
}

/// A table with its caption and column heads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// What the table is.
    pub caption: String,
    /// The column heads (the first heads the row headings).
    pub head: Vec<Cell>,
    /// The rows.
    pub rows: Vec<Row>,
}

/// One block of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Para(String),
    /// A note (a smaller, muted paragraph).
    Note(String),
    /// A table.
    Table(Table),
}

/// A section: a heading and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading.
    pub heading: String,
    /// What it shows, in order.
    pub blocks: Vec<Block>,
}

/// A statement as a document, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Its language.
    pub lang: Lang,
    /// The title.
    pub title: String,
    /// The draft warning (a draft can never be signed), shown first and last.
    pub draft: Option<String>,
    /// The header: (key, value), in order.
    pub meta: Vec<(String, String)>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// The first characters of a hash shown in a table.
const SHORT_HASH: usize = 16;

fn short(h: &str) -> &str {
    &h[..SHORT_HASH.min(h.len())]
}

/// The statement `c` as a document in `tr`'s language: what the terminal
/// statement shows, in its order and words (header, derivation with each
/// line's formula in words and its route FROM -> TO, cash per party,
/// result per party, payments FROM -> TO, per funding stream, balances at
/// the start and end of the year, revenue guarantees), then the corrections
/// against a replaced statement (if any) and the signatures of the year
/// with the settlement state.
pub fn statement_doc(
    tr: &Tr,
    c: &Computed,
    standing: &Standing,
    corrections: Option<CorrectionView<'_>>,
    signatures: &[SignatureRow],
) -> Doc {
    let s = &c.statement;
    let year = s.year.to_string();
    let draft = c.draft.then(|| tr.t("statement-draft"));
    let title = tr
        .t_args("statement-title", &[("contract", Arg::from(s.contract.as_str())), ("year", Arg::from(year.as_str()))]);
    let mut meta = vec![
        (tr.t("statement-key-version"), c.version.clone()),
        (tr.t("statement-key-hash"), c.hash.clone()),
        (tr.t("statement-key-engine"), ENGINE_VERSION.to_string()),
        (tr.t("document-key-currency"), c.currency.to_string()),
    ];
    let ids = c.inputs.iter().map(|e| &e[..12.min(e.len())]).collect::<Vec<_>>().join(" ");
    meta.push((
        tr.t("statement-key-inputs"),
        tr.t_args("statement-inputs", &[("n", Arg::from(c.inputs.len().to_string())), ("ids", Arg::from(ids))]),
    ));
    if let Some(p) = &c.previous {
        let carried = tr.t_args(
            "statement-carried",
            &[("year", Arg::from(s.year.saturating_sub(1).to_string())), ("hash", Arg::from(short(p)))],
        );
        meta.push((tr.t("statement-key-carried"), carried));
    }
    meta.push((tr.t("statement-key-standing"), standing.words_in(tr)));
    for n in &c.not_agreed {
        meta.push((tr.t("statement-key-not-agreed"), n.to_string()));
    }
    meta.push((tr.t("document-key-signs"), tr.t("document-signs")));

    let mut sections = Vec::new();
    // The derivation: every line with its amount, route and formula in words.
    let amount_head = tr.t_args("statement-amount", &[("currency", Arg::from(c.currency.to_string()))]);
    let mut rows = Vec::new();
    for l in &s.lines {
        let mut details = Vec::new();
        if let (Some(from), Some(to), Some(f)) = (&l.from, &l.to, l.funding) {
            details.push(format!("{from} -> {to} ({f})"));
        } else if let (Some(from), Some(to)) = (&l.from, &l.to) {
            details
                .push(tr.t_args("statement-waived-route", &[("from", Arg::from(&**from)), ("to", Arg::from(&**to))]));
        }
        details.push(words::formula(tr, l));
        let amount = l.amount.map(|a| tr.money(a)).unwrap_or_default();
        rows.push(Row { cells: vec![Cell::text(words::label(tr, l)), Cell::num(amount)], details });
    }
    sections.push(Section {
        heading: tr.t("statement-derivation"),
        blocks: vec![Block::Table(Table {
            caption: tr.t("document-derivation-caption"),
            head: vec![Cell::text(tr.t("document-col-line")), Cell::num(amount_head.clone())],
            rows,
        })],
    });

    // Cash per party, or that nothing moves.
    let has_transfers = s.lines.iter().any(|l| l.is_transfer());
    let party_head = Cell::text(tr.t("settle-col-party"));
    if has_transfers {
        let rows = s
            .parties
            .iter()
            .map(|p| Row {
                cells: vec![
                    Cell::text(p.party.as_str()),
                    Cell::num(tr.money(p.received)),
                    Cell::num(tr.money(p.paid)),
                    Cell::num(receives_or_pays_in(tr, p.net)),
                ],
                details: Vec::new(),
            })
            .collect();
        sections.push(Section {
            heading: tr.t("statement-cash-heading"),
            blocks: vec![
                Block::Note(tr.t("statement-cash-note")),
                Block::Table(Table {
                    caption: tr.t("statement-cash-heading"),
                    head: vec![
                        party_head.clone(),
                        Cell::num(tr.t("statement-receives-heading")),
                        Cell::num(tr.t("statement-pays-heading")),
                        Cell::num(tr.t("statement-on-balance-heading")),
                    ],
                    rows,
                }),
            ],
        });
    } else {
        sections.push(Section {
            heading: tr.t("statement-cash-heading"),
            blocks: vec![Block::Para(tr.t("statement-no-payments"))],
        });
    }
    if has_transfers || s.parties.iter().any(|p| !p.result.is_zero()) {
        let rows = s
            .parties
            .iter()
            .map(|p| Row {
                cells: vec![Cell::text(p.party.as_str()), Cell::num(earned_or_bore_in(tr, p.result))],
                details: Vec::new(),
            })
            .collect();
        sections.push(Section {
            heading: tr.t("statement-result-heading"),
            blocks: vec![
                Block::Note(tr.t("statement-result-note")),
                Block::Table(Table {
                    caption: tr.t("statement-result-heading"),
                    head: vec![party_head.clone(), Cell::num(tr.t("statement-result-column"))],
                    rows,
                }),
            ],
        });
    }
    if !s.payments.is_empty() {
        let rows = s
            .payments
            .iter()
            .map(|p| {
                assert!(p.amount > Decimal::ZERO, "a payment is above 0 and reads FROM -> TO");
                Row {
                    cells: vec![
                        Cell::text(format!("{} -> {}", p.from, p.to)),
                        Cell::num(tr.money(p.amount)),
                        Cell::text(p.funding.to_string()),
                    ],
                    details: Vec::new(),
                }
            })
            .collect();
        let heading = tr.t("statement-payments-heading");
        sections.push(Section {
            heading: heading.clone(),
            blocks: vec![Block::Table(Table {
                caption: heading,
                head: vec![
                    Cell::text(tr.t("document-col-route")),
                    Cell::num(amount_head.clone()),
                    Cell::text(tr.t("document-col-funding")),
                ],
                rows,
            })],
        });
    }
    if !s.totals_by_stream.is_empty() {
        let rows = s
            .totals_by_stream
            .iter()
            .map(|(k, t)| Row {
                cells: vec![
                    Cell::text(k.as_ref()),
                    Cell::num(tr.money(t.payers_to_providers)),
                    Cell::num(tr.money(t.providers_to_payers)),
                    Cell::num(tr.money(t.net_to_providers)),
                ],
                details: Vec::new(),
            })
            .collect();
        let heading = tr.t("statement-stream-heading");
        sections.push(Section {
            heading: heading.clone(),
            blocks: vec![Block::Table(Table {
                caption: heading,
                head: vec![
                    Cell::text(tr.t("document-col-funding")),
                    Cell::num(tr.t("statement-stream-to-providers")),
                    Cell::num(tr.t("statement-stream-to-payers")),
                    Cell::num(tr.t("statement-stream-net")),
                ],
                rows,
            })],
        });
    }

    // Balances at the start and the end of the year, then guarantees.
    let show = |v: Option<Decimal>| v.map(|v| tr.money(v)).unwrap_or_else(|| "-".into());
    let rows = balances_in(tr, s)
        .into_iter()
        .map(|b| Row {
            cells: vec![Cell::text(b.what), Cell::num(show(b.start)), Cell::num(show(b.end))],
            details: Vec::new(),
        })
        .collect();
    let heading = tr.t("statement-balances-heading");
    let mut blocks = vec![Block::Table(Table {
        caption: heading.clone(),
        head: vec![
            Cell::text(tr.t("document-col-balance")),
            Cell::num(tr.t_args("statement-balance-start", &[("year", Arg::from(year.as_str()))])),
            Cell::num(tr.t_args("statement-balance-end", &[("year", Arg::from(year.as_str()))])),
        ],
        rows,
    })];
    for (n, revenue, top_up) in guarantees(s) {
        blocks.push(Block::Para(tr.t_args(
            "statement-guarantee",
            &[("n", Arg::from(n)), ("revenue", Arg::from(tr.money(revenue))), ("top_up", Arg::from(tr.money(top_up)))],
        )));
    }
    sections.push(Section { heading, blocks });

    if let Some(k) = corrections {
        sections.push(corrections_section(tr, k, party_head.clone()));
    }
    sections.push(signatures_section(tr, standing, signatures));
    Doc { lang: tr.lang(), title, draft, meta, sections }
}

/// The corrections against the replaced statement: per party its net cash
/// before and now and the correction, then the correction payments.
fn corrections_section(tr: &Tr, k: CorrectionView<'_>, party_head: Cell) -> Section {
    let cmp = k.comparison;
    let rows = cmp
        .parties
        .iter()
        .map(|p| Row {
            cells: vec![
                Cell::text(p.party.as_str()),
                Cell::num(receives_or_pays_in(tr, p.net_a)),
                Cell::num(receives_or_pays_in(tr, p.net_b)),
                Cell::num(receives_or_pays_in(tr, p.net_difference)),
            ],
            details: Vec::new(),
        })
        .collect();
    let heading = tr.t_args("settle-corr-heading", &[("hash", Arg::from(short(k.replaced)))]);
    let mut blocks = vec![
        Block::Note(tr.t(if k.settled { "settle-corr-note-settled" } else { "settle-corr-note-open" })),
        Block::Table(Table {
            caption: heading.clone(),
            head: vec![
                party_head,
                Cell::num(tr.t("settle-col-before")),
                Cell::num(tr.t("settle-col-now")),
                Cell::num(tr.t("settle-col-correction")),
            ],
            rows,
        }),
    ];
    let payments = tr.t("settle-corr-payments");
    if cmp.corrections.is_empty() {
        blocks.push(Block::Para(tr.t("settle-corr-none")));
    } else {
        let rows = cmp
            .corrections
            .iter()
            .map(|c| {
                assert!(c.amount > Decimal::ZERO, "a correction payment is above 0 and reads FROM -> TO");
                Row {
                    cells: vec![
                        Cell::text(format!("{} -> {}", c.from, c.to)),
                        Cell::num(tr.money(c.amount)),
                        Cell::text(c.funding.to_string()),
                    ],
                    details: Vec::new(),
                }
            })
            .collect();
        blocks.push(Block::Table(Table {
            caption: payments,
            head: vec![
                Cell::text(tr.t("document-col-route")),
                Cell::num(tr.t("document-col-amount")),
                Cell::text(tr.t("document-col-funding")),
            ],
            rows,
        }));
    }
    Section { heading, blocks }
}

/// The signatures of the year (who signed which statement, with which key,
/// when) and the settlement state of this statement.
fn signatures_section(tr: &Tr, standing: &Standing, signatures: &[SignatureRow]) -> Section {
    let heading = tr.t("document-signatures-heading");
    let mut blocks = vec![Block::Para(tr.t_args("document-state", &[("standing", Arg::from(standing.words_in(tr)))]))];
    if signatures.is_empty() {
        blocks.push(Block::Para(tr.t("document-no-signatures")));
    } else {
        let rows = signatures
            .iter()
            .map(|g| Row {
                cells: vec![
                    Cell::text(g.party.as_str()),
                    Cell::text(g.key.as_str()),
                    Cell::text(short(&g.statement)),
                    Cell::text(g.time.as_str()),
                    Cell::text(short(&g.entry)),
                ],
                details: Vec::new(),
            })
            .collect();
        blocks.push(Block::Table(Table {
            caption: heading.clone(),
            head: vec![
                Cell::text(tr.t("settle-col-party")),
                Cell::text(tr.t("document-col-key")),
                Cell::text(tr.t("document-col-statement")),
                Cell::text(tr.t("document-col-time")),
                Cell::text(tr.t("document-col-entry")),
            ],
            rows,
        }));
    }
    Section { heading, blocks }
}

/// The style sheet of the HTML statement: tabular figures right-aligned,
/// and print rules for a clean A4 PDF (margins, table heads repeated on
/// every page, no row split across pages).
const CSS: &str = r#"
:root { --ink:#1b1f24; --muted:#5b636d; --line:#c9ced4; --head:#eef1f4; --warn:#8a1c1c; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink); margin: 2em auto; max-width: 60em; padding: 0 1.5em; }
h1 { font-size: 17pt; margin: 0 0 .4em; }
h2 { font-size: 12pt; border-bottom: 2px solid var(--ink); padding-bottom: .15em; margin: 1.6em 0 .5em; }
.draft { border: 2px solid var(--warn); color: var(--warn); font-weight: 700; padding: .3em .6em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .4em 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; font-size: 9.5pt; }
caption { text-align: left; font-weight: 600; padding: .2em 0; }
th, td { border: 1px solid var(--line); padding: .25em .45em; text-align: left; vertical-align: top; }
thead th { background: var(--head); font-weight: 600; }
tbody th { font-weight: 400; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.detail { color: var(--muted); font-size: 8.5pt; margin-top: .15em; }
p.note { color: var(--muted); font-size: 9pt; margin: .2em 0; }
@media print {
  @page { size: A4; margin: 18mm 15mm 18mm 15mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  h1, h2, caption { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, dl.meta { break-inside: avoid; page-break-inside: avoid; }
}
"#;

/// The document as one self-contained HTML file: inline CSS, no scripts,
/// no external resources; semantic tables (`<caption>`, `<th scope>`), the
/// document's language in `lang`. Every text is escaped.
pub fn html(doc: &Doc) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n");
    o.push_str(&format!("<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n", doc.lang.code()));
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!("<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n", escape(&doc.title)));
    if let Some(d) = &doc.draft {
        o.push_str(&format!("<p class=\"draft\">{}</p>\n", escape(d)));
    }
    o.push_str(&format!("<header>\n<h1>{}</h1>\n<dl class=\"meta\">\n", escape(&doc.title)));
    for (k, v) in &doc.meta {
        o.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(k), escape(v)));
    }
    o.push_str("</dl>\n</header>\n");
    for s in &doc.sections {
        o.push_str(&format!("<section>\n<h2>{}</h2>\n", escape(&s.heading)));
        for b in &s.blocks {
            match b {
                Block::Para(t) => o.push_str(&format!("<p>{}</p>\n", escape(t))),
                Block::Note(t) => o.push_str(&format!("<p class=\"note\">{}</p>\n", escape(t))),
                Block::Table(t) => html_table(&mut o, t),
            }
        }
        o.push_str("</section>\n");
    }
    if let Some(d) = &doc.draft {
        o.push_str(&format!("<p class=\"draft\">{}</p>\n", escape(d)));
    }
    o.push_str("</body>\n</html>\n");
    o
}

fn class(c: &Cell) -> &'static str {
    if c.num {
        " class=\"num\""
    } else {
        ""
    }
}

fn html_table(o: &mut String, t: &Table) {
    o.push_str(&format!("<table>\n<caption>{}</caption>\n<thead><tr>", escape(&t.caption)));
    for h in &t.head {
        o.push_str(&format!("<th scope=\"col\"{}>{}</th>", class(h), escape(&h.text)));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        debug_assert_eq!(r.cells.len(), t.head.len(), "a row has a cell per column");
        o.push_str("<tr>");
        for (i, c) in r.cells.iter().enumerate() {
            if i == 0 {
                o.push_str(&format!("<th scope=\"row\"{}>{}", class(c), escape(&c.text)));
                for d in &r.details {
                    o.push_str(&format!("<div class=\"detail\">{}</div>", escape(d)));
                }
                o.push_str("</th>");
            } else {
                o.push_str(&format!("<td{}>{}</td>", class(c), escape(&c.text)));
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text of the model (title, header, headings, captions, column
    /// heads, cells, details, notes, the draft mark) comes out escaped.
    #[test]
    fn every_text_of_the_document_is_escaped_in_html() {
        let bad = "<b onclick=\"x\">'&'</b>";
        let table = Table {
            caption: bad.into(),
            head: vec![Cell::text(bad), Cell::num(bad)],
            rows: vec![Row { cells: vec![Cell::text(bad), Cell::num(bad)], details: vec![bad.into()] }],
        };
        let doc = Doc {
            lang: Lang::Nl,
            title: bad.into(),
            draft: Some(bad.into()),
            meta: vec![(bad.into(), bad.into())],
            sections: vec![Section {
                heading: bad.into(),
                blocks: vec![Block::Para(bad.into()), Block::Note(bad.into()), Block::Table(table)],
            }],
        };
        let h = html(&doc);
        assert!(!h.contains("<b onclick"), "{h}");
        let shown = "&lt;b onclick=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;";
        assert_eq!(h.matches(shown).count(), 15, "{h}");
        assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"nl\">"));
        assert!(!h.contains("<script") && !h.contains("<link") && !h.contains("src="));
    }
}
