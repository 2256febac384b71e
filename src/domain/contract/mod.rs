//! Contracts: the TOML file format, its typed model, validation, the
//! canonical form and the version hash.
//!
//! ```text
//! contracts/x.toml --parse_str/check_file--> Contract --to_canonical_json--> JSON
//!                                                       --version_hash-----> blake3 hex
//! ```
//!
//! * [`parse_str`] / [`check_file`] read a file, check every value and every
//!   cross-reference, and return the [`Contract`] or *all* problems as
//!   [`Diagnostic`]s (`FILE:LINE:COLUMN: field: message`), sorted by position.
//! * [`Contract::to_canonical_json`] gives the full meaning of the contract,
//!   with every default filled in and every decimal normalized; a ledger entry
//!   carries it and [`Contract::from_canonical_json`] reads it back.
//! * [`Contract::version_hash`] names a version: lowercase hex blake3 of
//!   `vereffen-contract-v1\n` followed by the canonical JSON bytes.
//! * [`diff`] compares two versions field by field in words, and
//!   [`Contract::render_terms`] prints the terms for a reader.
//!
//! The format is documented, field by field, in `docs/CONTRACT-FORMAT.md`.

pub(crate) mod choice;
pub(crate) mod diagnostic;
mod diff;
mod model;
pub(crate) mod parse;
mod render;
mod validate;

use std::path::Path;

pub use choice::Choice;
pub use diagnostic::Diagnostic;
pub use diff::{diff, label_ids as diff_label_ids, Change, FieldLabel, FieldValue};
pub use model::*;
pub use parse::{MAX_FILE_BYTES, MAX_INDICATORS, MAX_LIST, MAX_PARTIES, MAX_TEXT};
pub use validate::{
    valid_fingerprint, validate, Problem, MAX_CONTRACT_ID, MAX_ID, MAX_NUMBER, MAX_POPULATION, MAX_TERM, MAX_YEAR,
    MIN_YEAR,
};

use diagnostic::{locate, Pos};

/// Domain-separation prefix of the version hash.
pub const HASH_DOMAIN: &str = "vereffen-contract-v1\n";

/// Bytes reserved for a contract's canonical JSON before it is written (a
/// capacity only: the example contracts take 3 to 8 KiB).
const CANONICAL_BYTES_HINT: usize = 8192;

/// Why canonical JSON is not a valid contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalContractError {
    /// The JSON does not have the shape of a contract.
    #[error("not a contract: {0}")]
    Shape(String),
    /// The JSON is a contract but not in canonical form (a default left out,
    /// a decimal not normalized, a number where a string belongs, ...).
    #[error("contract JSON is not in canonical form")]
    NotCanonical,
    /// The contract does not validate.
    #[error("invalid contract: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// The contract id grammar (`docs/FORMAT.md` 5, `docs/CONTRACT-FORMAT.md`):
/// 1 to [`MAX_CONTRACT_ID`] bytes from `a-z 0-9 -`. The contract
/// reader and the offer rule both apply it.
pub fn is_valid_contract_id(id: &str) -> bool {
    parse::valid_id_len(id, MAX_CONTRACT_ID)
}

/// Parses and validates contract TOML `text`; `file_name` appears in the
/// diagnostics. Returns the contract, or every problem sorted by position.
pub fn parse_str(file_name: &str, text: &str) -> Result<Contract, Vec<Diagnostic>> {
    let (contract, mut diags, spans) = parse::parse(file_name, text);
    let Some(contract) = contract else {
        return Err(diags);
    };
    // Validation runs on a contract in which values that failed to parse
    // hold placeholders; drop its problems at (or under) a field that
    // already has a parse problem, so each mistake is reported once.
    let failed: Vec<String> = diags.iter().map(|d| d.field.clone()).collect();
    let under = |field: &str, f: &str| {
        !f.is_empty() && (field == f || field.strip_prefix(f).is_some_and(|rest| rest.starts_with(['.', '['])))
    };
    let parties_parsed = !diags.iter().any(|d| d.field.starts_with("parties"));
    for problem in validate::validate_with(&contract, parties_parsed) {
        if failed.iter().any(|f| under(&problem.field, f)) {
            continue;
        }
        let Pos { line, column } = locate(&spans, &problem.field);
        diags.push(Diagnostic {
            file: file_name.to_string(),
            line,
            column,
            field: problem.field,
            message: problem.message,
        });
    }
    if diags.is_empty() {
        Ok(contract)
    } else {
        diags.sort();
        diags.dedup();
        Err(diags)
    }
}

/// Reads, parses and validates the contract file at `path`. A missing,
/// unreadable, too large or non-UTF-8 file is a diagnostic too.
pub fn check_file(path: &Path) -> Result<Contract, Vec<Diagnostic>> {
    let name = path.display().to_string();
    let whole_file =
        |message: String| vec![Diagnostic { file: name.clone(), line: 1, column: 1, field: String::new(), message }];
    let meta = std::fs::metadata(path).map_err(|e| whole_file(format!("cannot read file: {e}")))?;
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(whole_file(format!("file is larger than {MAX_FILE_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| whole_file(format!("cannot read file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| whole_file("file is not UTF-8 text".to_string()))?;
    parse_str(&name, &text)
}

impl Contract {
    /// The canonical JSON value: every field present (defaults filled in,
    /// absent options as `null`), decimals as normalized strings, years and
    /// counts as integers. See `docs/CONTRACT-FORMAT.md`, "Canonical form".
    pub fn to_canonical_json(&self) -> serde_json::Value {
        // Decimals are normalized when read, so their serde string form is
        // already canonical; normalize again for contracts built in code.
        let mut copy = self.clone();
        copy.normalize();
        serde_json::to_value(&copy).unwrap_or(serde_json::Value::Null)
    }

    /// The canonical JSON bytes (see [`crate::ledger::canonical::encode`]), or why
    /// the contract has none: an integer beyond 2^53-1, which only a
    /// contract built in code without [`validate`] can hold.
    pub fn try_canonical_bytes(&self) -> Result<Vec<u8>, crate::ledger::canonical::CanonicalError> {
        let mut out = Vec::with_capacity(CANONICAL_BYTES_HINT);
        self.write_canonical(&mut out)?;
        Ok(out)
    }

    /// Appends the canonical JSON bytes to `out` (see
    /// [`Contract::try_canonical_bytes`]). The bytes are written straight from
    /// the normalized contract ([`crate::ledger::canonical::write_direct`]),
    /// without the `serde_json::Value` tree of [`Contract::to_canonical_json`];
    /// they are the bytes `canonical::encode(&self.to_canonical_json())`
    /// gives (that path is taken whenever the direct writer declines, and
    /// tests compare the two on every example contract and on generated ones).
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), crate::ledger::canonical::CanonicalError> {
        let mut copy = self.clone();
        copy.normalize();
        if crate::ledger::canonical::write_direct(&copy, out).is_ok() {
            return Ok(());
        }
        crate::ledger::canonical::write_value(&self.to_canonical_json(), out)
    }

    /// The canonical JSON bytes of a validated contract.
    ///
    /// # Panics
    /// If the contract has no canonical form (see
    /// [`Contract::try_canonical_bytes`]). Every contract this crate reads
    /// ([`check_file`], [`parse_str`], [`Contract::from_canonical_json`]) is
    /// validated, and [`validate`] refuses integers beyond 2^53-1, so for
    /// them this cannot fail; it never falls back to other bytes, which would
    /// give two different contracts one hash.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.try_canonical_bytes().expect("a validated contract holds only canonical JSON values")
    }

    /// The version hash (lowercase hex blake3 of [`HASH_DOMAIN`] followed by
    /// the canonical bytes), or why the contract has no canonical form.
    pub fn try_version_hash(&self) -> Result<String, crate::ledger::canonical::CanonicalError> {
        let mut bytes = Vec::with_capacity(HASH_DOMAIN.len() + CANONICAL_BYTES_HINT);
        bytes.extend_from_slice(HASH_DOMAIN.as_bytes());
        self.write_canonical(&mut bytes)?;
        Ok(blake3::hash(&bytes).to_hex().to_string())
    }

    /// The version hash of a validated contract: lowercase hex blake3 of
    /// [`HASH_DOMAIN`] followed by [`Contract::canonical_bytes`].
    ///
    /// # Panics
    /// As [`Contract::canonical_bytes`]; use [`Contract::try_version_hash`]
    /// for a contract built in code and not validated.
    pub fn version_hash(&self) -> String {
        self.try_version_hash().expect("a validated contract holds only canonical JSON values")
    }

    /// Reads a contract back from its canonical JSON. The value must be
    /// exactly canonical (re-encoding gives the same bytes) and the contract
    /// must validate.
    pub fn from_canonical_json(value: &serde_json::Value) -> Result<Contract, CanonicalContractError> {
        let contract: Contract =
            serde_json::from_value(value.clone()).map_err(|e| CanonicalContractError::Shape(e.to_string()))?;
        let given = crate::ledger::canonical::encode(value).map_err(|_| CanonicalContractError::NotCanonical)?;
        if contract.try_canonical_bytes().map_err(|_| CanonicalContractError::NotCanonical)? != given {
            return Err(CanonicalContractError::NotCanonical);
        }
        if !is_valid_contract_id(&contract.id) {
            return Err(CanonicalContractError::Invalid(vec![format!(
                "id: {:?} is not a valid contract id (1 to {MAX_CONTRACT_ID} of a-z, 0-9 and -)",
                contract.id
            )]));
        }
        let problems = validate::validate(&contract);
        if !problems.is_empty() {
            return Err(CanonicalContractError::Invalid(
                problems.into_iter().map(|p| format!("{}: {}", p.field, p.message)).collect(),
            ));
        }
        Ok(contract)
    }

    /// The nine knobs of Bijlage 3 as (label, value) pairs, in order.
    pub fn knobs(&self) -> Vec<(&'static str, String)> {
        let k = &self.knobs;
        let r = &k.risk_allocation;
        vec![
            ("1. scope", k.scope.to_string()),
            ("2. financing base", k.financing_base.to_string()),
            ("3. financing goal", k.financing_goal.to_string()),
            ("4. contract form", k.contract_form.to_string()),
            ("5. term", format!("{} ({}-{})", k.term, self.term.first_year, self.term.last_year)),
            (
                "6. risk allocation",
                format!("implementation: {}, cost overrun: {}, volume: {}", r.implementation, r.cost_overrun, r.volume),
            ),
            ("7. chain partners", k.chain_partners.to_string()),
            ("8. reward of providers", k.provider_reward.to_string()),
            ("9. condition scope", k.condition_scope.to_string()),
        ]
    }

    /// Normalizes every decimal in place (no trailing zeros, no `-0`).
    fn normalize(&mut self) {
        fn n(d: &mut rust_decimal::Decimal) {
            *d = d.normalize();
        }
        fn no(d: &mut Option<rust_decimal::Decimal>) {
            if let Some(d) = d {
                n(d);
            }
        }
        self.parties.iter_mut().for_each(|p| no(&mut p.contribution));
        if let Some(b) = &mut self.baseline {
            no(&mut b.cost);
            match &mut b.trend {
                Some(Trend::FixedRate { rate }) => n(rate),
                Some(Trend::RatesPerYear { rates }) => rates.values_mut().for_each(n),
                Some(Trend::MeasuredRate { .. } | Trend::MeasuredIndex { .. }) | None => {}
            }
            if let Some(RiskAdjustment::Fixed { factor }) = &mut b.risk_adjustment {
                n(factor);
            }
        }
        for i in &mut self.indicators {
            if let Some(q) = &mut i.quality {
                n(&mut q.threshold);
                n(&mut q.target);
                n(&mut q.weight);
            }
        }
        let p = &mut self.payments;
        if let Some(v) = &mut p.volume {
            for a in &mut v.activities {
                n(&mut a.price);
                no(&mut a.max_amount_per_year);
            }
            v.caps.iter_mut().for_each(|c| n(&mut c.max_quantity));
        }
        if let Some(pf) = &mut p.pay_for_performance {
            for b in &mut pf.bonuses {
                n(&mut b.target);
                n(&mut b.amount);
            }
        }
        if let Some(s) = &mut p.shared_savings {
            match &mut s.corridor {
                Corridor::Fixed { min_savings_rate, min_loss_rate } => {
                    n(min_savings_rate);
                    no(min_loss_rate);
                }
                Corridor::PopulationTable { rows, .. } => {
                    for r in rows {
                        n(&mut r.min_savings_rate);
                        no(&mut r.min_loss_rate);
                    }
                }
            }
            n(&mut s.provider_share);
            n(&mut s.min_quality_score);
            match &mut s.loss_share {
                Some(LossShare::Fixed { rate }) => n(rate),
                Some(LossShare::QualityScaled { intercept, slope, min, max }) => {
                    n(intercept);
                    n(slope);
                    n(min);
                    n(max);
                }
                None => {}
            }
            n(&mut s.withhold);
            no(&mut s.savings_cap);
            no(&mut s.loss_cap);
            if let Some(tier) = &mut s.inside_corridor {
                n(&mut tier.provider_share);
                n(&mut tier.target);
            }
            if let Some(cap) = &mut s.figure_loss_cap {
                n(&mut cap.rate);
            }
        }
        if let Some(b) = &mut p.bundled {
            n(&mut b.target_price);
            no(&mut b.stop_gain);
            no(&mut b.stop_loss);
        }
        if let Some(c) = &mut p.capitation {
            n(&mut c.amount_per_member);
            for b in &mut c.risk_corridors {
                n(&mut b.from);
                no(&mut b.to);
                n(&mut b.provider_share);
            }
        }
        for i in &mut self.impulse {
            n(&mut i.amount);
            if let ImpulseKind::Advance { repayment_rate, .. } = &mut i.kind {
                n(repayment_rate);
            }
        }
        self.revenue_guarantees.iter_mut().for_each(|g| n(&mut g.floor));
        for t in &mut self.tariff_adjustments {
            n(&mut t.rate);
            if let Trigger::TargetMet { target, .. } | Trigger::TargetMissed { target, .. } = &mut t.trigger {
                n(target);
            }
        }
        if let ProviderRule::Fixed { shares } = &mut self.distribution.providers.rule {
            shares.values_mut().for_each(n);
        }
        if let PayerRule::Fixed { shares } = &mut self.distribution.payers.rule {
            shares.values_mut().for_each(n);
        }
    }
}

#[cfg(test)]
pub(crate) mod diff_tests;
#[cfg(test)]
pub(crate) mod tests;
