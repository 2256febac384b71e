//! The statement of a year as `vereffen settle` and the web workspace
//! show it: a contract's view on one copy, where a computed statement
//! stands (signed by whom, settled), its corrections against a replaced
//! statement, and the statement rendered in every format (text, JSON, CSV,
//! XLSX, HTML, PDF). Here rather than in the command line so that every
//! front end renders the same bytes.

use anyhow::{anyhow, Result};

use crate::domain::settlement::compare::{self, Comparison};
use crate::domain::settlement::cosign::{self, Computed, ContractView};
use crate::domain::settlement::Statement;
use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::Ledger;
use crate::present::diff as pdiff;
use crate::present::lang::Tr;
use crate::present::statement::{self, Standing};
use crate::present::{document, pdf, xlsx};

/// The formats a statement renders in (the command line's `--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A financial statement for the terminal.
    Table,
    /// Pretty-printed JSON (`vereffen settle --help` describes it).
    Json,
    /// One row per fact, for spreadsheets.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// One self-contained HTML file.
    Html,
    /// A PDF (A4).
    Pdf,
}

/// Reads a contract's entries on this copy once.
pub fn contract_view(ledger: &Ledger, contract: &str) -> Result<ContractView> {
    let entries: Vec<Entry> = ledger.contract_entries(contract)?;
    let void = ledger.void_entries()?;
    let lookup = |id: &EntryId| ledger.get_live(id, &void);
    Ok(ContractView::new(contract, &entries, &lookup))
}

/// Where the computed statement `c` stands on this copy: who signed exactly
/// it (under this engine version or, for a year settled before, under
/// version 1), who has not, and whether it is the settled statement.
pub fn standing(view: &ContractView, c: &Computed) -> Standing {
    let Some(ys) = view.settlements.get(&c.statement.year) else { return Standing::default() };
    if c.draft {
        return Standing { signed_by: Vec::new(), waiting_for: ys.signatories.clone(), settled: false };
    }
    let mine: Vec<&cosign::Signatures> = ys.statements.values().filter(|s| c.is(&s.hash)).collect();
    let mut signed_by: Vec<String> = mine.iter().flat_map(|s| s.by.keys().cloned()).collect();
    signed_by.sort();
    signed_by.dedup();
    let waiting_for = ys.signatories.iter().filter(|p| !signed_by.contains(p)).cloned().collect();
    let settled = ys.settled.as_deref().is_some_and(|h| c.is(h));
    Standing { signed_by, waiting_for, settled }
}

/// A statement's corrections against its replaced statement
/// (docs/FORMAT.md 5.8): the replaced statement's hash, whether the shown
/// statement is the settled one, and the comparison.
pub struct Corrections {
    /// The replaced statement's hash.
    pub replaced: String,
    /// Whether the shown statement is the settled one (it replaced `replaced`).
    pub settled: bool,
    /// Replaced statement (A) against the shown one (B).
    pub comparison: Comparison,
}

/// The statement a year's signatures `sigs` signed, recomputed by replay
/// from its signing entry with the smallest id (docs/FORMAT.md 5.8).
pub fn signed_statement(ledger: &Ledger, sigs: &cosign::Signatures) -> Result<Statement> {
    let id = sigs
        .by
        .values()
        .map(|s| s.entry.as_str())
        .min()
        .ok_or_else(|| anyhow!("statement {} has no signature", sigs.hash.get(..16).unwrap_or(&sigs.hash)))?;
    let id = EntryId::from_hex(id).ok_or_else(|| anyhow!("settlement entry id {id:?} is malformed"))?;
    let void = ledger.void_entries()?;
    let lookup = |x: &EntryId| ledger.get_live(x, &void);
    let entry = lookup(&id).ok_or_else(|| anyhow!("settlement entry {} is not live on this copy", id.short()))?;
    let (_, st) = cosign::replay(&entry, &lookup).map_err(|e| {
        anyhow!(
            "statement {} cannot be recomputed from its entry {}: {}",
            sigs.hash.get(..16).unwrap_or(&sigs.hash),
            id.short(),
            e.0
        )
    })?;
    Ok(st)
}

/// The corrections of the computed statement `c` against its replaced
/// statement, if it has one.
pub fn corrections(ledger: &Ledger, view: &ContractView, c: &Computed) -> Result<Option<Corrections>> {
    let Some(ys) = view.settlements.get(&c.statement.year) else { return Ok(None) };
    let Some(replaced) = ys.replaced_statement(&|h| c.is(h)) else { return Ok(None) };
    let old = signed_statement(ledger, replaced)?;
    let comparison = compare::compare(&old, &c.statement).map_err(|e| anyhow!("{e}"))?;
    let settled = ys.settled.as_deref().is_some_and(|h| c.is(h));
    Ok(Some(Corrections { replaced: replaced.hash.clone(), settled, comparison }))
}

/// What the workbook and the documents show besides the statement: the
/// governing contract version (its terms and rules become the formulas),
/// the year's signatures with the fingerprint of each signing key (the
/// language is the statement's).
pub struct Extra<'a> {
    terms: Option<&'a crate::domain::contract::Contract>,
    signatures: Vec<xlsx::Signature>,
    sources: std::collections::BTreeMap<(String, u16), Vec<String>>,
    /// Signing entry id -> fingerprint of the key that signed it.
    keys: std::collections::BTreeMap<String, String>,
}

impl<'a> Extra<'a> {
    /// What the documents of the computed statement `c` show besides it,
    /// read from the copy `ledger` and the contract's `view`.
    pub fn of(ledger: &Ledger, view: &'a ContractView, c: &Computed) -> Result<Extra<'a>> {
        let year = c.statement.year;
        let terms = view.status.versions.get(&c.version).map(|v| &v.terms);
        let mut signatures = Vec::new();
        if let Some(ys) = view.settlements.get(&year) {
            for (hash, sigs) in &ys.statements {
                for (party, signed) in &sigs.by {
                    signatures.push(xlsx::Signature {
                        party: party.clone(),
                        statement: hash.clone(),
                        entry: signed.entry.clone(),
                        time: signed.time.clone(),
                    });
                }
            }
        }
        let mut sources: std::collections::BTreeMap<(String, u16), Vec<String>> = Default::default();
        for m in view.measurements.iter().filter(|m| c.inputs.contains(&m.id)) {
            sources.entry((m.indicator.clone(), m.year)).or_default().push(m.id.clone());
        }
        let void = ledger.void_entries()?;
        let keys = signatures
            .iter()
            .filter_map(|s| {
                let id = EntryId::from_hex(&s.entry)?;
                let e = ledger.get_live(&id, &void)?;
                Some((s.entry.clone(), e.author_key().fingerprint()))
            })
            .collect();
        Ok(Extra { terms, signatures, sources, keys })
    }

    /// The signatures as the documents list them (a key that cannot be
    /// read on this copy shows as `?`).
    pub fn signature_rows(&self) -> Vec<document::SignatureRow> {
        self.signatures
            .iter()
            .map(|s| document::SignatureRow {
                party: s.party.clone(),
                key: self.keys.get(&s.entry).cloned().unwrap_or_else(|| "?".into()),
                statement: s.statement.clone(),
                entry: s.entry.clone(),
                time: s.time.clone(),
            })
            .collect()
    }
}

/// The statement in `format`, as bytes, with its corrections (if it has a
/// replaced statement): text, CSV and the workbook in the language of
/// `tr`; JSON is language-neutral data.
pub fn render_bytes(
    tr: &Tr,
    c: &Computed,
    format: Format,
    standing: &Standing,
    corr: Option<&Corrections>,
    extra: &Extra<'_>,
) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Table => {
            let mut t = statement::table_in(tr, c, &c.hash, standing);
            if let Some(k) = corr {
                t.push_str(&pdiff::corrections_table(tr, &k.replaced, k.settled, &k.comparison));
            }
            t.into_bytes()
        }
        Format::Json => {
            let mut doc = statement::document(c, standing);
            if let (Some(k), Some(m)) = (corr, doc.as_object_mut()) {
                m.insert("corrections".into(), pdiff::corrections_json(&k.replaced, &k.comparison));
            }
            (serde_json::to_string_pretty(&doc)? + "\n").into_bytes()
        }
        Format::Csv => {
            let mut t = statement::csv_in(tr, c, &c.hash, standing)?;
            if let Some(k) = corr {
                t.push_str(&pdiff::corrections_csv(tr, &c.statement, &c.hash, c.draft, &k.replaced, &k.comparison)?);
            }
            t.into_bytes()
        }
        Format::Xlsx => xlsx::workbook(
            c,
            standing,
            &xlsx::Context {
                terms: extra.terms,
                signatures: &extra.signatures,
                sources: &extra.sources,
                lang: tr.lang(),
                replaced: corr.map(|k| (k.replaced.as_str(), &k.comparison)),
            },
        )?,
        Format::Html | Format::Pdf => {
            let corr = corr.map(|k| document::CorrectionView {
                replaced: &k.replaced,
                settled: k.settled,
                comparison: &k.comparison,
            });
            let doc = document::statement_doc(tr, c, standing, corr, &extra.signature_rows());
            if format == Format::Html {
                document::html(&doc).into_bytes()
            } else {
                pdf::render(&doc, &c.hash)?
            }
        }
    })
}

/// What co-signing the computed statement `c` would do for `party`, after
/// the checks `vereffen settle --sign` and the web's co-sign form share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignPlan {
    /// The year is settled with exactly this statement: nothing to sign.
    AlreadySettled {
        /// The settled statement's hash.
        hash: String,
    },
    /// `party` signed this statement already.
    AlreadySigned {
        /// The signatories still to sign it.
        waiting_for: Vec<String>,
    },
    /// Sign it (replacing the settled statement `replaces`, a resettlement).
    Sign {
        /// The settled statement this one replaces, if any.
        replaces: Option<String>,
    },
}

/// Checks that `party` may co-sign the computed statement `c` of contract
/// `view` (a signatory; the years before settled and not in conflict; a
/// settled year replaced only when `resettle`; no other party signed a
/// different statement for the same place) and says what signing does.
/// The refusals name the statements and where they differ.
pub fn sign_plan(view: &ContractView, c: &Computed, party: &str, resettle: bool) -> Result<SignPlan> {
    let year = c.statement.year;
    let contract = &view.contract;
    if c.draft {
        anyhow::bail!("a DRAFT can never be signed: it uses figures that are not agreed; sign once every figure of {year} is agreed");
    }
    let ys = view.settlements.get(&year).ok_or_else(|| anyhow!("{year} is not a year of contract {contract:?}"))?;
    if !ys.signatories.iter().any(|p| p == party) {
        anyhow::bail!(
            "{party:?} is not a signatory of contract {contract:?}; its signatories are {}",
            ys.signatories.join(", ")
        );
    }
    let first = view.status.base.as_ref().and_then(|b| view.status.versions.get(b)).map(|v| v.terms.term.first_year);
    if first.is_some_and(|f| year > f) && c.previous.is_none() {
        anyhow::bail!(
            "{} is not settled yet: years are settled in order (`vereffen settle status {contract}`)",
            year.saturating_sub(1)
        );
    }
    if let Some(prev) = view.settlements.get(&(year.wrapping_sub(1))) {
        if !prev.conflicts.is_empty() {
            anyhow::bail!(
                "{} is settled but in conflict ({}); resettle {} first",
                year.wrapping_sub(1),
                prev.conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                year.wrapping_sub(1)
            );
        }
    }
    let replaces = match &ys.settled {
        Some(h) if c.is(h) => return Ok(SignPlan::AlreadySettled { hash: h.clone() }),
        Some(h) if !resettle => {
            let theirs = &ys.statements[h].payload.statement;
            anyhow::bail!(
                "{year} is settled with statement {}, but this copy computes {}:\n{}{}To replace the settled statement, every signatory signs the new one with --resettle.",
                &h[..16],
                &c.hash[..16],
                statement::side_by_side("settled", theirs, &c.value),
                if ys.conflicts.is_empty() { String::new() } else { format!(
                    "conflicts: {}\n",
                    ys.conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                ) }
            );
        }
        Some(h) => Some(h.clone()),
        None if resettle => {
            anyhow::bail!("{year} is not settled: there is nothing to resettle; sign without --resettle")
        }
        None => None,
    };
    if ys.statements.values().any(|s| c.is(&s.hash) && s.by.contains_key(party)) {
        return Ok(SignPlan::AlreadySigned { waiting_for: ys.waiting_for(&c.hash) });
    }
    // Another party signed a different statement (and not ours): show where we differ.
    for (h, s) in &ys.statements {
        let pending = Some(h) != ys.settled.as_ref() && !ys.replaced.contains(h) && !view.is_stale(&s.payload);
        let disagree: Vec<&String> =
            s.by.keys().filter(|p| !ys.statements.get(&c.hash).is_some_and(|m| m.by.contains_key(*p))).collect();
        if !c.is(h) && pending && !disagree.is_empty() && s.payload.replaces.as_ref() == replaces.as_ref() {
            anyhow::bail!(
                "{} signed the {year} statement {}, but this copy computes {}; the signature is refused. Where they differ:\n{}Compare the inputs (`vereffen measure list {contract} --year {year}`) and exchange bundles before signing.",
                disagree.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", "),
                &h[..16],
                &c.hash[..16],
                statement::side_by_side(&format!("signed by {}", disagree[0]), &s.payload.statement, &c.value)
            );
        }
    }
    Ok(SignPlan::Sign { replaces })
}
