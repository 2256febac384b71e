//! The statement as engine version 1 wrote it, for the replay of
//! `settlement.sign` entries signed before the signed form carried no words
//! (docs/FORMAT.md 5.8, "Entries of engine version 1").
//!
//! Version 1 hashed and recorded the whole statement: every line's English
//! label and formula; a transfer as `party` (the provider), `payer` and an
//! amount signed payer -> provider (negative: the provider pays); per party
//! received, paid, net; per funding stream the signed sum of its transfers;
//! and the carried state out. This module rebuilds exactly that JSON from a
//! statement of today's engine, which computes the same numbers; the words
//! are each line's phrases rendered in version 1's English, which the
//! engine keeps frozen next to each message id ([`super::why::Msg::en`]).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::money::{serde_money, serde_value};
use super::{Carry, Line, Payment, Statement, UsedFigure, V1Label};
use crate::domain::contract::{Funding, Role};

#[derive(Serialize)]
struct LineV1<'a> {
    id: &'a str,
    label: String,
    formula: String,
    #[serde(with = "serde_money::opt")]
    amount: Option<Decimal>,
    #[serde(with = "serde_value::opt")]
    value: Option<Decimal>,
    party: Option<&'a str>,
    payer: Option<&'a str>,
    funding: Option<Funding>,
}

#[derive(Serialize)]
struct PartyV1<'a> {
    party: &'a str,
    role: Role,
    #[serde(with = "serde_money")]
    received: Decimal,
    #[serde(with = "serde_money")]
    paid: Decimal,
    #[serde(with = "serde_money")]
    net: Decimal,
}

#[derive(Serialize)]
struct StatementV1<'a> {
    contract: &'a str,
    contract_version: &'a str,
    year: u16,
    inputs: &'a [UsedFigure],
    lines: Vec<LineV1<'a>>,
    parties: Vec<PartyV1<'a>>,
    payments: &'a [Payment],
    #[serde(with = "serde_money::map")]
    totals_by_stream: BTreeMap<String, Decimal>,
    carry_out: &'a Carry,
}

fn line(l: &Line) -> LineV1<'_> {
    let (party, payer, amount, label) = match l.payer_provider() {
        Some((payer, provider, signed)) => {
            let words = l.label.english(false);
            let label = match l.v1_label {
                V1Label::Same => words,
                V1Label::PayerToProvider => format!("{words} ({payer} to {provider})"),
                V1Label::ProviderToPayer => format!("{words} ({provider} to {payer})"),
            };
            (Some(provider), Some(payer), Some(signed), label)
        }
        None => (None, None, l.amount, l.label.english(false)),
    };
    LineV1 {
        id: &l.id,
        label,
        // Version 1 showed a payment from providers with signed figures.
        formula: l.formula.english(false),
        amount,
        value: l.value,
        party,
        payer,
        funding: l.funding,
    }
}

/// The JSON value engine version 1 recorded for `s`, its words rebuilt from
/// the structured lines in version 1's frozen English ([`super::why::Msg::en`]).
pub fn statement_value(s: &Statement) -> Result<Value, serde_json::Error> {
    // Version 1 listed a party only when a transfer concerned it.
    let in_transfer = |p: &str| {
        s.lines.iter().any(|l| l.is_transfer() && (l.from.as_deref() == Some(p) || l.to.as_deref() == Some(p)))
    };
    let v1 = StatementV1 {
        contract: &s.contract,
        contract_version: &s.contract_version,
        year: s.year,
        inputs: &s.inputs,
        lines: s.lines.iter().map(line).collect(),
        parties: s
            .parties
            .iter()
            .filter(|p| in_transfer(&p.party))
            .map(|p| PartyV1 { party: &p.party, role: p.role, received: p.received, paid: p.paid, net: p.net })
            .collect(),
        payments: &s.payments,
        totals_by_stream: s.totals_by_stream.iter().map(|(k, t)| (k.to_string(), t.net_to_providers)).collect(),
        carry_out: &s.carry_out,
    };
    serde_json::to_value(v1)
}
