//! `note`: a signed free-text statement by a party, e.g. the minutes of a
//! review moment or the conclusion of an evaluation, optionally about a
//! contract and referring to earlier entries.
//!
//! Payload: `{"text": STRING}` or `{"contract": ID, "text": STRING}`; the
//! text is 1 to [`MAX_NOTE_CHARS`] characters of printable text, line breaks
//! and tabs (no other control character, see [`crate::ledger::text`]).

use serde_json::{json, Value};

/// The entry kind.
pub const KIND_NOTE: &str = "note";
/// Longest note text, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// The payload of a note.
pub fn payload(text: &str, contract: Option<&str>) -> Value {
    match contract {
        Some(c) => json!({"contract": c, "text": text}),
        None => json!({"text": text}),
    }
}

/// Checks a note payload; the error says what is wrong.
pub fn check_payload(p: &Value) -> Result<(), String> {
    let obj = p.as_object().ok_or("a note payload must be an object")?;
    for k in obj.keys() {
        if k != "text" && k != "contract" {
            return Err(format!("a note payload has no field {k:?} (allowed: text, contract)"));
        }
    }
    let text = obj.get("text").and_then(Value::as_str).ok_or("a note needs a text")?;
    let n = text.chars().count();
    if n == 0 || n > MAX_NOTE_CHARS {
        return Err(format!("a note text must be 1 to {MAX_NOTE_CHARS} characters, this one has {n}"));
    }
    crate::ledger::text::check_free_text("the note text", text)?;
    if let Some(c) = obj.get("contract") {
        if !c.as_str().is_some_and(crate::ledger::entry::is_valid_name) {
            return Err("the contract of a note must be a valid contract id".into());
        }
    }
    Ok(())
}
