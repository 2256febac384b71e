//! Canonical JSON: the one byte encoding that is hashed and signed.
//!
//! The rules (also in `docs/FORMAT.md`, which is normative):
//!
//! * UTF-8, no byte-order mark, no whitespace outside strings;
//! * object keys are unique and sorted by their UTF-8 bytes;
//! * strings escape `"` as `\"`, `\` as `\\`, U+0008/0009/000A/000C/000D as
//!   `\b \t \n \f \r`, every other code point below U+0020 as `\u00xx`
//!   (lower-case hex), and write everything else as itself (including `/`,
//!   U+007F and all non-ASCII);
//! * numbers are integers only, in `-(2^53-1) ..= 2^53-1`, written in shortest
//!   decimal form. Money, rates and anything fractional are strings holding an
//!   exact decimal (`"1234.50"`, `"0.1"`), never JSON numbers;
//! * `true`, `false` and `null` as usual.
//!
//! [`decode`] accepts exactly the bytes [`encode`] produces: anything else
//! (extra spaces, unsorted or duplicate keys, floats, escaped `/`) is refused,
//! so every value has one encoding and therefore one hash.

use serde_json::Value;

/// Largest integer magnitude allowed in canonical JSON (2^53 - 1), so every
/// integer survives a round trip through any JSON library.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value or a byte string is not canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// The bytes are not JSON at all.
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// A number is fractional, has an exponent, or is out of the safe range.
    #[error("number {0} is not allowed: canonical JSON has only integers within +/-(2^53-1); write amounts and rates as decimal strings")]
    Number(String),
    /// Valid JSON, but not in canonical form (spacing, key order, duplicates, escapes).
    #[error("JSON is valid but not canonical (whitespace, key order, duplicate keys or escaping differ from the canonical form)")]
    NotCanonical,
}

/// Encodes `value` canonically. Fails only on numbers that canonical JSON
/// does not allow.
pub fn encode(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out)
}

/// Encodes any serializable value canonically.
pub fn encode_serialize<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let v = serde_json::to_value(value).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    encode(&v)
}

/// Parses `bytes` and checks that they are exactly the canonical encoding of
/// the value they hold.
pub fn decode(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    let again = encode(&value)?;
    if again != bytes {
        return Err(CanonicalError::NotCanonical);
    }
    Ok(value)
}

/// Appends the canonical encoding of `value` to `out`.
pub fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u > MAX_SAFE_INTEGER {
                    return Err(CanonicalError::Number(n.to_string()));
                }
                write_integer(u128::from(u), false, out);
            } else if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(CanonicalError::Number(n.to_string()));
                }
                write_integer(u128::from(i.unsigned_abs()), i < 0, out);
            } else {
                return Err(CanonicalError::Number(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's default Map is a BTreeMap<String, Value>: iteration
            // is in key byte order, which is the canonical order. Sort anyway
            // so the rule does not depend on a cargo feature of serde_json.
            // The map's own order is used when it is already the canonical
            // one (checked key by key, no allocation); otherwise sorted.
            let mut prev: Option<&[u8]> = None;
            let sorted = map.keys().all(|k| {
                let ok = prev.is_none_or(|p| p < k.as_bytes());
                prev = Some(k.as_bytes());
                ok
            });
            out.push(b'{');
            if sorted {
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(key, out);
                    out.push(b':');
                    write_value(item, out)?;
                }
            } else {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(key, out);
                    out.push(b':');
                    write_value(&map[key], out)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Appends the canonical encoding of the string `s` to `out`.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    // Only ASCII bytes ever need escaping (every byte of a multi-byte UTF-8
    // sequence is >= 0x80), so runs of other bytes are copied whole.
    let bytes = s.as_bytes();
    // Most strings need no escape: one pass without an early exit (which
    // the compiler can vectorize) finds out, and they are copied whole.
    if !bytes.iter().fold(false, |any, &b| any | (b < 0x20) | (b == b'"') | (b == b'\\')) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
        } else {
            out.extend_from_slice(escape);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Appends `magnitude` in shortest decimal form, after a `-` when
/// `negative` (the form `to_string` gives, without allocating).
fn write_integer(mut magnitude: u128, negative: bool, out: &mut Vec<u8>) {
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": [true, null, "x"], "B": {"z": -3, "y": "0.10"}});
        assert_eq!(encode(&v).unwrap(), br#"{"B":{"y":"0.10","z":-3},"a":[true,null,"x"],"b":1}"#.to_vec());
    }

    #[test]
    fn escapes_exactly_the_control_characters() {
        let v = json!("a\"b\\c/\u{1}\n\u{7f}é");
        assert_eq!(encode(&v).unwrap(), "\"a\\\"b\\\\c/\\u0001\\n\u{7f}é\"".as_bytes());
    }

    #[test]
    fn integers_are_written_as_to_string_writes_them() {
        let max = MAX_SAFE_INTEGER as i64;
        for i in [0, 1, -1, 9, 10, -10, 99, 100, 12_345, -987_654_321, max, -max] {
            assert_eq!(encode(&json!(i)).unwrap(), i.to_string().into_bytes());
        }
        assert_eq!(encode(&json!(MAX_SAFE_INTEGER)).unwrap(), MAX_SAFE_INTEGER.to_string().into_bytes());
    }

    #[test]
    fn refuses_floats_and_unsafe_integers() {
        assert!(matches!(encode(&json!(0.1)), Err(CanonicalError::Number(_))));
        assert!(matches!(encode(&json!(1u64 << 53)), Err(CanonicalError::Number(_))));
        assert!(encode(&json!(MAX_SAFE_INTEGER)).is_ok());
    }

    #[test]
    fn decode_refuses_non_canonical_bytes() {
        assert_eq!(decode(br#"{"a":1, "b":2}"#), Err(CanonicalError::NotCanonical));
        assert_eq!(decode(br#"{"b":1,"a":2}"#), Err(CanonicalError::NotCanonical));
        assert_eq!(decode(br#"{"a":1,"a":1}"#), Err(CanonicalError::NotCanonical));
        assert_eq!(decode(br#""\/""#), Err(CanonicalError::NotCanonical));
        assert!(matches!(decode(b"{"), Err(CanonicalError::Syntax(_))));
        assert!(decode(br#"{"a":1,"b":[2,"3"]}"#).is_ok());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=(MAX_SAFE_INTEGER as i64)).prop_map(|i| json!(i)),
            "\\PC{0,12}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trips(v in arb_json()) {
            let bytes = encode(&v).unwrap();
            prop_assert_eq!(decode(&bytes).unwrap(), v);
        }
    }
}
