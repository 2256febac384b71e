//! A statement document ([`Doc`]) as a PDF, written without a browser: A4
//! pages, the font (DejaVu Sans, `assets/fonts/`, with its licence)
//! embedded as a subset so every character of the document (the euro sign,
//! Dutch and any other letters of ledger text) renders and can be copied
//! (a ToUnicode map). Tables keep a row on one page and repeat their column
//! heads on the next; numbers are right-aligned.
//!
//! The bytes depend on the document alone: no clock, no random ids (the
//! file id is derived from the statement hash and the text).
//!
//! The only floats here are page geometry in PDF points (`f32`, the type
//! `pdf-writer` takes for positions and sizes). No amount passes through
//! them: every number of the statement arrives as the exact text that
//! `present::lang` formatted from its decimal.

use anyhow::{anyhow, Result};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::present::document::{Block, Cell, Doc, Row, Table};
use crate::present::lang::{Arg, Tr};

/// The embedded font (also used by the charts).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The subset font's PostScript name (a fixed six-letter subset tag).
const FONT_NAME: &[u8] = b"VRFFEN+DejaVuSans";

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// Page margins in points.
const MARGIN_X: f32 = 42.0;
const MARGIN_TOP: f32 = 48.0;
const MARGIN_BOTTOM: f32 = 52.0;
/// Font sizes in points.
const TITLE_SIZE: f32 = 14.0;
const HEADING_SIZE: f32 = 10.5;
const BODY_SIZE: f32 = 8.0;
const DETAIL_SIZE: f32 = 6.8;
const FOOTER_SIZE: f32 = 7.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
/// Padding inside a table cell.
const CELL_PAD: f32 = 3.0;
/// The most pages a document may have: a guard against a runaway layout.
pub const MAX_PAGES: usize = 10_000;

/// Text shaped for the PDF: widths from the font's advances.
struct Font<'a> {
    face: ttf_parser::Face<'a>,
    units: f32,
}

impl<'a> Font<'a> {
    fn new() -> Result<Font<'a>> {
        let face = ttf_parser::Face::parse(FONT, 0).map_err(|e| anyhow!("the embedded font cannot be read: {e}"))?;
        let units = f32::from(face.units_per_em());
        Ok(Font { face, units })
    }

    /// The glyph of `c` (0, the missing glyph, if the font has none).
    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map(|g| g.0).unwrap_or(0)
    }

    /// The advance of glyph `g` in thousandths of the font size.
    fn advance(&self, g: u16) -> f32 {
        let a = self.face.glyph_hor_advance(ttf_parser::GlyphId(g)).unwrap_or(0);
        f32::from(a) * 1000.0 / self.units
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(self.glyph(c))).sum::<f32>() * size / 1000.0
    }

    /// `text` broken into lines of at most `width` points at `size` (at
    /// spaces; a word longer than a line is broken between characters).
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if self.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                let mut next = line.clone();
                next.push(c);
                if !line.is_empty() && self.width(&next, size) > width {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = next;
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// One thing drawn on a page.
enum Op {
    /// Text at (x, baseline y) at a size, grey level (0 black).
    Text { x: f32, y: f32, size: f32, gray: f32, text: String },
    /// A horizontal rule from x0 to x1 at y.
    Rule { x0: f32, x1: f32, y: f32, width: f32 },
    /// A filled grey rectangle (x, y, w, h).
    Shade { x: f32, y: f32, w: f32, h: f32 },
}

/// Lays the document out on pages.
struct Layout<'f, 'a> {
    font: &'f Font<'a>,
    pages: Vec<Vec<Op>>,
    /// The top of the free space on the current page (y grows upwards).
    y: f32,
}

const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

impl Layout<'_, '_> {
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let n = self.pages.len() - 1;
        &mut self.pages[n]
    }

    fn new_page(&mut self) -> Result<()> {
        if self.pages.len() >= MAX_PAGES {
            return Err(anyhow!("the statement would take more than {MAX_PAGES} pages"));
        }
        self.pages.push(Vec::new());
        self.y = PAGE_H - MARGIN_TOP;
        Ok(())
    }

    /// Makes room for `h` points (a new page if they do not fit).
    fn room(&mut self, h: f32) -> Result<()> {
        if self.y - h < MARGIN_BOTTOM && self.y < PAGE_H - MARGIN_TOP {
            self.new_page()?;
        }
        Ok(())
    }

    /// A paragraph at `size`, wrapped to the text width.
    fn para(&mut self, text: &str, size: f32, gray: f32, space_after: f32) -> Result<()> {
        for line in self.font.wrap(text, size, TEXT_W) {
            self.room(size * LEADING)?;
            self.y -= size * LEADING;
            let y = self.y + size * 0.25;
            self.page().push(Op::Text { x: MARGIN_X, y, size, gray, text: line });
        }
        self.y -= space_after;
        Ok(())
    }

    /// The widths of a table's columns. Each column is at least as wide as
    /// its widest word (a word is never broken while the table fits) and at
    /// most as wide as its widest text; the room between is shared in
    /// proportion to what each column lacks, and any room left goes to the
    /// first column. Only a table whose widest words alone do not fit is
    /// narrowed in proportion (its words then break).
    fn columns(&self, t: &Table) -> Vec<f32> {
        let n = t.head.len();
        let cells = |i: usize| std::iter::once(&t.head[i]).chain(t.rows.iter().map(move |r| &r.cells[i]));
        let pad = 2.0 * CELL_PAD;
        let widest = |i: usize| cells(i).map(|c| self.font.width(&c.text, BODY_SIZE)).fold(0.0, f32::max) + pad;
        let word = |i: usize| {
            cells(i).flat_map(|c| c.text.split(' ')).map(|w| self.font.width(w, BODY_SIZE)).fold(0.0, f32::max) + pad
        };
        let natural: Vec<f32> = (0..n).map(widest).collect();
        let least: Vec<f32> = (0..n).map(word).collect();
        let (sum_natural, sum_least): (f32, f32) = (natural.iter().sum(), least.iter().sum());
        let mut w = if sum_natural <= TEXT_W {
            natural
        } else if sum_least <= TEXT_W {
            let share = (TEXT_W - sum_least) / (sum_natural - sum_least);
            least.iter().zip(&natural).map(|(l, a)| l + (a - l) * share).collect()
        } else {
            least.iter().map(|l| l * TEXT_W / sum_least).collect()
        };
        let slack = TEXT_W - w.iter().sum::<f32>();
        if slack > 0.0 {
            w[0] += slack;
        }
        w
    }

    /// One row's lines per cell (wrapped), and the row's height.
    fn row_lines(&self, cells: &[Cell], details: &[String], widths: &[f32]) -> (Vec<Vec<String>>, Vec<String>, f32) {
        let lines: Vec<Vec<String>> =
            cells.iter().zip(widths).map(|(c, w)| self.font.wrap(&c.text, BODY_SIZE, w - 2.0 * CELL_PAD)).collect();
        let detail: Vec<String> =
            details.iter().flat_map(|d| self.font.wrap(d, DETAIL_SIZE, widths[0] - 2.0 * CELL_PAD)).collect();
        let main = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * BODY_SIZE * LEADING;
        let h = main + detail.len() as f32 * DETAIL_SIZE * LEADING + 2.0 * CELL_PAD;
        (lines, detail, h)
    }

    /// Draws one row (cells and details) at the current y.
    fn draw_row(&mut self, cells: &[Cell], lines: &[Vec<String>], detail: &[String], widths: &[f32], h: f32) {
        let top = self.y;
        let mut x = MARGIN_X;
        let mut ops = Vec::new();
        for ((c, ls), w) in cells.iter().zip(lines).zip(widths) {
            let mut y = top - CELL_PAD;
            for l in ls {
                y -= BODY_SIZE * LEADING;
                let tx = if c.num { x + w - CELL_PAD - self.font.width(l, BODY_SIZE) } else { x + CELL_PAD };
                ops.push(Op::Text { x: tx, y: y + BODY_SIZE * 0.25, size: BODY_SIZE, gray: 0.0, text: l.clone() });
            }
            x += w;
        }
        let mut y = top - CELL_PAD - lines[0].len() as f32 * BODY_SIZE * LEADING;
        for d in detail {
            y -= DETAIL_SIZE * LEADING;
            let text = d.clone();
            ops.push(Op::Text {
                x: MARGIN_X + CELL_PAD + 6.0,
                y: y + DETAIL_SIZE * 0.25,
                size: DETAIL_SIZE,
                gray: 0.35,
                text,
            });
        }
        self.y -= h;
        ops.push(Op::Rule { x0: MARGIN_X, x1: MARGIN_X + TEXT_W, y: self.y, width: 0.3 });
        self.page().extend(ops);
    }

    fn head(&mut self, t: &Table, widths: &[f32]) -> Result<()> {
        let (lines, _, h) = self.row_lines(&t.head, &[], widths);
        self.room(h)?;
        let y = self.y - h;
        self.page().push(Op::Shade { x: MARGIN_X, y, w: TEXT_W, h });
        self.draw_row(&t.head, &lines, &[], widths, h);
        Ok(())
    }

    fn table(&mut self, t: &Table) -> Result<()> {
        let widths = self.columns(t);
        // The caption, the head and the first row stay together.
        let first = t.rows.first().map(|r| self.row_lines(&r.cells, &r.details, &widths).2).unwrap_or(0.0);
        let (_, _, head_h) = self.row_lines(&t.head, &[], &widths);
        self.room(BODY_SIZE * LEADING * 1.5 + head_h + first)?;
        self.para(&t.caption, BODY_SIZE, 0.25, 1.0)?;
        self.head(t, &widths)?;
        for Row { cells, details } in &t.rows {
            let (lines, detail, h) = self.row_lines(cells, details, &widths);
            if self.y - h < MARGIN_BOTTOM {
                self.new_page()?;
                self.head(t, &widths)?;
            }
            // A row taller than a page is drawn anyway (it runs into the
            // bottom margin rather than losing text).
            self.draw_row(cells, &lines, &detail, &widths, h);
        }
        self.y -= BODY_SIZE;
        Ok(())
    }

    fn document(&mut self, doc: &Doc) -> Result<()> {
        self.new_page()?;
        if let Some(d) = &doc.draft {
            self.para(d, HEADING_SIZE, 0.0, 4.0)?;
        }
        self.para(&doc.title, TITLE_SIZE, 0.0, 4.0)?;
        for (k, v) in &doc.meta {
            self.para(&format!("{k}: {v}"), BODY_SIZE, 0.0, 0.0)?;
        }
        self.y -= BODY_SIZE;
        for s in &doc.sections {
            self.room(HEADING_SIZE * LEADING * 3.0)?;
            self.para(&s.heading, HEADING_SIZE, 0.0, 0.0)?;
            let y = self.y;
            self.page().push(Op::Rule { x0: MARGIN_X, x1: MARGIN_X + TEXT_W, y, width: 0.8 });
            self.y -= 4.0;
            for b in &s.blocks {
                match b {
                    Block::Para(t) => self.para(t, BODY_SIZE, 0.0, 3.0)?,
                    Block::Note(t) => self.para(t, DETAIL_SIZE, 0.35, 3.0)?,
                    Block::Table(t) => self.table(t)?,
                }
            }
        }
        if let Some(d) = &doc.draft {
            self.para(d, HEADING_SIZE, 0.0, 0.0)?;
        }
        Ok(())
    }
}

/// The document as a PDF (A4, font embedded). `id` (the statement hash)
/// goes into the file id with the text, so equal documents give equal bytes.
pub fn render(doc: &Doc, id: &str) -> Result<Vec<u8>> {
    let font = Font::new()?;
    let mut layout = Layout { font: &font, pages: Vec::new(), y: PAGE_H - MARGIN_TOP };
    layout.document(doc)?;
    let mut pages = layout.pages;
    let total = pages.len();
    let tr = Tr::new(doc.lang);
    for (i, ops) in pages.iter_mut().enumerate() {
        let footer = tr
            .t_args("document-page", &[("n", Arg::from((i + 1).to_string())), ("total", Arg::from(total.to_string()))]);
        let text = format!("{}  ·  {footer}", doc.title);
        let x = PAGE_W - MARGIN_X - font.width(&text, FOOTER_SIZE);
        ops.push(Op::Text { x, y: MARGIN_BOTTOM / 2.0, size: FOOTER_SIZE, gray: 0.35, text });
    }

    let mut remap = subsetter::GlyphRemapper::new();
    let mut to_unicode: std::collections::BTreeMap<u16, char> = Default::default();
    let mut widths: std::collections::BTreeMap<u16, f32> = Default::default();
    let mut encode = |text: &str| -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let g = font.glyph(c);
            let n = remap.remap(g);
            to_unicode.entry(n).or_insert(c);
            widths.entry(n).or_insert_with(|| font.advance(g));
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    };
    // The missing glyph first: it must keep id 0.
    encode("\u{0}");

    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let (catalog, tree, info, font_ref, cid_ref, descriptor, cmap_ref, file_ref) =
        (alloc(), alloc(), alloc(), alloc(), alloc(), alloc(), alloc(), alloc());
    let page_refs: Vec<(Ref, Ref)> = (0..total).map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_refs.iter().map(|p| p.0)).count(i32::try_from(total)?);
    let f1 = Name(b"F1");
    for ((page_ref, content_ref), ops) in page_refs.iter().zip(&pages) {
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(tree).contents(*content_ref);
        page.resources().fonts().pair(f1, font_ref);
        page.finish();
        let mut c = Content::new();
        for op in ops {
            match op {
                Op::Text { x, y, size, gray, text } => {
                    c.set_fill_gray(*gray);
                    c.begin_text();
                    c.set_font(f1, *size);
                    c.next_line(*x, *y);
                    c.show(Str(&encode(text)));
                    c.end_text();
                }
                Op::Rule { x0, x1, y, width } => {
                    c.set_stroke_gray(0.55);
                    c.set_line_width(*width);
                    c.move_to(*x0, *y);
                    c.line_to(*x1, *y);
                    c.stroke();
                }
                Op::Shade { x, y, w, h } => {
                    c.set_fill_gray(0.92);
                    c.rect(*x, *y, *w, *h);
                    c.fill_nonzero();
                }
            }
        }
        pdf.stream(*content_ref, &c.finish());
    }

    let subset = subsetter::subset(FONT, 0, &remap).map_err(|e| anyhow!("the font cannot be subset: {e}"))?;
    let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    pdf.type0_font(font_ref)
        .base_font(Name(FONT_NAME))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_ref)
        .to_unicode(cmap_ref);
    let mut cid = pdf.cid_font(cid_ref);
    cid.subtype(CidFontType::Type2)
        .base_font(Name(FONT_NAME))
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    {
        let mut w = cid.widths();
        for (g, adv) in &widths {
            w.consecutive(*g, [*adv]);
        }
    }
    cid.finish();
    let bbox = font.face.global_bounding_box();
    let s = 1000.0 / font.units;
    pdf.font_descriptor(descriptor)
        .name(Name(FONT_NAME))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * s,
            f32::from(bbox.y_min) * s,
            f32::from(bbox.x_max) * s,
            f32::from(bbox.y_max) * s,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(font.face.ascender()) * s)
        .descent(f32::from(font.face.descender()) * s)
        .cap_height(f32::from(font.face.capital_height().unwrap_or(font.face.ascender())) * s)
        .stem_v(80.0)
        .font_file2(file_ref);
    let mut cmap = UnicodeCmap::new(Name(b"Vereffen-Identity-UCS"), system);
    for (g, c) in &to_unicode {
        if *g != 0 {
            cmap.pair(*g, *c);
        }
    }
    pdf.cmap(cmap_ref, &cmap.finish());
    pdf.stream(file_ref, &subset).pair(Name(b"Length1"), i32::try_from(subset.len())?);
    pdf.document_info(info)
        .title(TextStr(&doc.title))
        .producer(TextStr(concat!("vereffen ", env!("CARGO_PKG_VERSION"))));
    let mut hasher = blake3::Hasher::new();
    hasher.update(id.as_bytes());
    for ops in &pages {
        for op in ops {
            if let Op::Text { text, .. } = op {
                hasher.update(text.as_bytes());
                hasher.update(b"\n");
            }
        }
    }
    let file_id = hasher.finalize().as_bytes()[..16].to_vec();
    pdf.set_file_id((file_id.clone(), file_id));
    Ok(pdf.finish())
}
