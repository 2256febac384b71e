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

/// Encodes any serializable value canonically, appending to `out`: the same
/// bytes as [`encode_serialize`] (which builds a [`serde_json::Value`] tree
/// first), written straight from the value. Struct fields and map entries are
/// written as they come and reordered in place only when their keys are not
/// already in canonical order. A value this writer does not handle exactly as
/// `serde_json::to_value` does (floats, 128-bit integers, bytes, non-string
/// map keys other than integers, duplicate keys, serde_json's private types)
/// is encoded by [`encode_serialize`] instead, so the result never depends on
/// which path ran. On error `out` is left as it was.
pub fn write_serialize<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    if write_direct(value, out).is_ok() {
        return Ok(());
    }
    let v = serde_json::to_value(value).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    write_value(&v, out)
}

/// The value holds something [`write_direct`] leaves to the
/// `serde_json::Value` path (see [`write_serialize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotDirect;

/// The direct half of [`write_serialize`]: appends the canonical bytes of
/// `value` to `out` without building a `serde_json::Value`, or leaves `out`
/// as it was and returns [`NotDirect`] when the value holds anything the
/// direct writer does not handle exactly as `serde_json::to_value` followed
/// by [`encode`] would (floats, 128-bit integers, bytes, map keys other than
/// strings, integers and unit variants, duplicate keys, serde_json's private
/// types, a serializer error). When it succeeds, the bytes are those of
/// `encode(&serde_json::to_value(value)?)`.
pub fn write_direct<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), NotDirect> {
    let start = out.len();
    let mut w = direct::Writer::new(out);
    if value.serialize(&mut w).is_ok() {
        debug_assert!(w.fields.is_empty() && w.keys.is_empty(), "every object was closed");
        return Ok(());
    }
    out.truncate(start);
    Err(NotDirect)
}

/// The canonical writer behind [`write_serialize`]: a serde `Serializer` that
/// writes canonical JSON bytes without building a value tree.
mod direct {
    use super::{write_integer, write_string, MAX_SAFE_INTEGER};
    use serde::ser::{self, Serialize};

    /// Why the direct writer stopped: the caller then encodes through
    /// `serde_json::Value`, which either gives the canonical bytes or the
    /// error the old path gives. Carries nothing: the slow path says why.
    #[derive(Debug)]
    pub(super) struct Fallback;

    impl std::fmt::Display for Fallback {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("not handled by the direct canonical writer")
        }
    }

    impl std::error::Error for Fallback {}

    impl ser::Error for Fallback {
        fn custom<T: std::fmt::Display>(_msg: T) -> Self {
            Fallback
        }
    }

    /// An object key: a struct field name, or a map key's raw (unescaped)
    /// bytes held in `Writer::keys`.
    #[derive(Clone, Copy)]
    pub(super) enum Key {
        Static(&'static str),
        Held(usize, usize),
    }

    /// One member of an open object: its key and where `"key":value` sits
    /// in the output (the comma before it excluded).
    #[derive(Clone, Copy)]
    pub(super) struct Field {
        key: Key,
        start: usize,
        end: usize,
    }

    pub(super) struct Writer<'o> {
        out: &'o mut Vec<u8>,
        /// The members of every open object, innermost last (a stack: an
        /// object is closed before its parent writes its next member).
        pub(super) fields: Vec<Field>,
        /// Raw bytes of the map keys of every open object (a stack too).
        pub(super) keys: Vec<u8>,
        /// Copy of an object's members while they are put in order.
        scratch: Vec<u8>,
    }

    impl<'o> Writer<'o> {
        pub(super) fn new(out: &'o mut Vec<u8>) -> Self {
            Writer { out, fields: Vec::new(), keys: Vec::new(), scratch: Vec::new() }
        }

        /// The order of two keys: by their bytes (the order of `[u8]`),
        /// compared in place (keys are short; no call per comparison).
        fn cmp(keys: &[u8], a: &Key, b: &Key) -> std::cmp::Ordering {
            let (a, b) = (Writer::key_bytes(keys, a), Writer::key_bytes(keys, b));
            for (x, y) in a.iter().zip(b) {
                if x != y {
                    return x.cmp(y);
                }
            }
            a.len().cmp(&b.len())
        }

        fn key_bytes<'k>(keys: &'k [u8], k: &'k Key) -> &'k [u8] {
            match *k {
                Key::Static(s) => s.as_bytes(),
                Key::Held(a, b) => &keys[a..b],
            }
        }

        /// Opens an object at the current end of the output.
        fn open(&mut self, close: u8) -> Object<'_, 'o> {
            self.out.push(b'{');
            let (base, keys_base, at) = (self.fields.len(), self.keys.len(), self.out.len());
            Object { w: self, base, keys_base, at, pending: None, extra_close: close }
        }
    }

    /// An open JSON object (a struct or a map).
    pub(super) struct Object<'a, 'o> {
        w: &'a mut Writer<'o>,
        /// Index of its first member in `Writer::fields`.
        base: usize,
        /// Length of `Writer::keys` when it was opened.
        keys_base: usize,
        /// Output position just after its `{`.
        at: usize,
        /// A map key written, its value not yet: (key, member start).
        pending: Option<(Key, usize)>,
        /// A byte to write after the closing `}` (`}` for a variant wrapper), or 0.
        extra_close: u8,
    }

    impl Object<'_, '_> {
        /// Writes the comma before a member and returns where the member starts.
        fn member_start(&mut self) -> usize {
            if self.w.fields.len() > self.base || self.pending.is_some() {
                self.w.out.push(b',');
            }
            self.w.out.len()
        }

        fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Fallback> {
            let start = self.member_start();
            write_string(key, self.w.out);
            self.w.out.push(b':');
            value.serialize(&mut *self.w)?;
            let end = self.w.out.len();
            self.w.fields.push(Field { key: Key::Static(key), start, end });
            Ok(())
        }

        /// Puts the members in key order (unless they are already) and closes.
        fn close(self) -> Result<(), Fallback> {
            if self.pending.is_some() {
                return Err(Fallback);
            }
            let w = self.w;
            let keys = &w.keys;
            let members = &mut w.fields[self.base..];
            let sorted = members.windows(2).all(|p| Writer::cmp(keys, &p[0].key, &p[1].key).is_lt());
            if !sorted {
                members.sort_unstable_by(|a, b| Writer::cmp(keys, &a.key, &b.key));
                if members.windows(2).any(|p| Writer::cmp(keys, &p[0].key, &p[1].key).is_eq()) {
                    // serde_json keeps the last of equal keys; leave that to it.
                    return Err(Fallback);
                }
                w.scratch.clear();
                w.scratch.extend_from_slice(&w.out[self.at..]);
                w.out.truncate(self.at);
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        w.out.push(b',');
                    }
                    w.out.extend_from_slice(&w.scratch[m.start - self.at..m.end - self.at]);
                }
            }
            w.fields.truncate(self.base);
            w.keys.truncate(self.keys_base);
            w.out.push(b'}');
            if self.extra_close != 0 {
                w.out.push(self.extra_close);
            }
            Ok(())
        }
    }

    /// An open JSON array (a sequence or a tuple).
    pub(super) struct Array<'a, 'o> {
        w: &'a mut Writer<'o>,
        first: bool,
        /// A byte to write after the closing `]` (`}` for a variant wrapper), or 0.
        extra_close: u8,
    }

    impl Array<'_, '_> {
        fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
            if !self.first {
                self.w.out.push(b',');
            }
            self.first = false;
            value.serialize(&mut *self.w)
        }

        fn close(self) -> Result<(), Fallback> {
            self.w.out.push(b']');
            if self.extra_close != 0 {
                self.w.out.push(self.extra_close);
            }
            Ok(())
        }
    }

    fn int(w: &mut Writer<'_>, magnitude: u64, negative: bool) -> Result<(), Fallback> {
        if magnitude > MAX_SAFE_INTEGER {
            return Err(Fallback);
        }
        write_integer(u128::from(magnitude), negative, w.out);
        Ok(())
    }

    /// `{"variant":` before the value of an enum variant that serde_json
    /// writes as a one-member object.
    fn variant_open(w: &mut Writer<'_>, variant: &'static str) {
        w.out.push(b'{');
        write_string(variant, w.out);
        w.out.push(b':');
    }

    impl<'a, 'o> ser::Serializer for &'a mut Writer<'o> {
        type Ok = ();
        type Error = Fallback;
        type SerializeSeq = Array<'a, 'o>;
        type SerializeTuple = Array<'a, 'o>;
        type SerializeTupleStruct = Array<'a, 'o>;
        type SerializeTupleVariant = Array<'a, 'o>;
        type SerializeMap = Object<'a, 'o>;
        type SerializeStruct = Object<'a, 'o>;
        type SerializeStructVariant = Object<'a, 'o>;

        fn serialize_bool(self, v: bool) -> Result<(), Fallback> {
            self.out.extend_from_slice(if v { b"true" } else { b"false" });
            Ok(())
        }
        fn serialize_i8(self, v: i8) -> Result<(), Fallback> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i16(self, v: i16) -> Result<(), Fallback> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i32(self, v: i32) -> Result<(), Fallback> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i64(self, v: i64) -> Result<(), Fallback> {
            int(self, v.unsigned_abs(), v < 0)
        }
        fn serialize_u8(self, v: u8) -> Result<(), Fallback> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u16(self, v: u16) -> Result<(), Fallback> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u32(self, v: u32) -> Result<(), Fallback> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u64(self, v: u64) -> Result<(), Fallback> {
            int(self, v, false)
        }
        fn serialize_i128(self, _v: i128) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_u128(self, _v: u128) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_f32(self, _v: f32) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_f64(self, _v: f64) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_char(self, v: char) -> Result<(), Fallback> {
            write_string(v.encode_utf8(&mut [0u8; 4]), self.out);
            Ok(())
        }
        fn serialize_str(self, v: &str) -> Result<(), Fallback> {
            write_string(v, self.out);
            Ok(())
        }
        fn serialize_bytes(self, _v: &[u8]) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_none(self) -> Result<(), Fallback> {
            self.serialize_unit()
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), Fallback> {
            self.out.extend_from_slice(b"null");
            Ok(())
        }
        fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Fallback> {
            self.serialize_unit()
        }
        fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result<(), Fallback> {
            self.serialize_str(variant)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            value: &T,
        ) -> Result<(), Fallback> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _i: u32,
            variant: &'static str,
            value: &T,
        ) -> Result<(), Fallback> {
            variant_open(self, variant);
            value.serialize(&mut *self)?;
            self.out.push(b'}');
            Ok(())
        }
        fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a, 'o>, Fallback> {
            self.out.push(b'[');
            Ok(Array { w: self, first: true, extra_close: 0 })
        }
        fn serialize_tuple(self, len: usize) -> Result<Array<'a, 'o>, Fallback> {
            self.serialize_seq(Some(len))
        }
        fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array<'a, 'o>, Fallback> {
            self.serialize_seq(Some(len))
        }
        fn serialize_tuple_variant(
            self,
            _name: &'static str,
            _i: u32,
            variant: &'static str,
            _len: usize,
        ) -> Result<Array<'a, 'o>, Fallback> {
            variant_open(self, variant);
            self.out.push(b'[');
            Ok(Array { w: self, first: true, extra_close: b'}' })
        }
        fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a, 'o>, Fallback> {
            Ok(self.open(0))
        }
        fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Object<'a, 'o>, Fallback> {
            // serde_json's own tokens (raw values, arbitrary-precision
            // numbers) mean something else to its value serializer.
            if name.starts_with("$serde_json") {
                return Err(Fallback);
            }
            Ok(self.open(0))
        }
        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _i: u32,
            variant: &'static str,
            _len: usize,
        ) -> Result<Object<'a, 'o>, Fallback> {
            variant_open(self, variant);
            Ok(self.open(b'}'))
        }
    }

    impl ser::SerializeSeq for Array<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
            self.element(value)
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    impl ser::SerializeTuple for Array<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
            self.element(value)
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    impl ser::SerializeTupleStruct for Array<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
            self.element(value)
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    impl ser::SerializeTupleVariant for Array<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
            self.element(value)
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    impl ser::SerializeStruct for Object<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Fallback> {
            self.field(key, value)
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    impl ser::SerializeStructVariant for Object<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Fallback> {
            self.field(key, value)
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    impl ser::SerializeMap for Object<'_, '_> {
        type Ok = ();
        type Error = Fallback;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Fallback> {
            if self.pending.is_some() {
                return Err(Fallback);
            }
            let start = self.member_start();
            let held = self.w.keys.len();
            key.serialize(KeyWriter { keys: &mut self.w.keys })?;
            let raw = std::str::from_utf8(&self.w.keys[held..]).map_err(|_| Fallback)?;
            write_string(raw, self.w.out);
            self.w.out.push(b':');
            self.pending = Some((Key::Held(held, self.w.keys.len()), start));
            Ok(())
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
            let (key, start) = self.pending.take().ok_or(Fallback)?;
            value.serialize(&mut *self.w)?;
            let end = self.w.out.len();
            self.w.fields.push(Field { key, start, end });
            Ok(())
        }
        fn end(self) -> Result<(), Fallback> {
            self.close()
        }
    }

    /// Writes a map key's raw text as serde_json's value serializer takes
    /// it: strings, integers in decimal, a unit variant's name, a newtype's
    /// inner key. Anything else falls back.
    struct KeyWriter<'k> {
        keys: &'k mut Vec<u8>,
    }

    impl KeyWriter<'_> {
        fn int(self, magnitude: u128, negative: bool) -> Result<(), Fallback> {
            let mut text = Vec::with_capacity(40);
            write_integer(magnitude, negative, &mut text);
            self.keys.extend_from_slice(&text);
            Ok(())
        }
    }

    impl ser::Serializer for KeyWriter<'_> {
        type Ok = ();
        type Error = Fallback;
        type SerializeSeq = ser::Impossible<(), Fallback>;
        type SerializeTuple = ser::Impossible<(), Fallback>;
        type SerializeTupleStruct = ser::Impossible<(), Fallback>;
        type SerializeTupleVariant = ser::Impossible<(), Fallback>;
        type SerializeMap = ser::Impossible<(), Fallback>;
        type SerializeStruct = ser::Impossible<(), Fallback>;
        type SerializeStructVariant = ser::Impossible<(), Fallback>;

        fn serialize_str(self, v: &str) -> Result<(), Fallback> {
            self.keys.extend_from_slice(v.as_bytes());
            Ok(())
        }
        fn serialize_i8(self, v: i8) -> Result<(), Fallback> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i16(self, v: i16) -> Result<(), Fallback> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i32(self, v: i32) -> Result<(), Fallback> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i64(self, v: i64) -> Result<(), Fallback> {
            self.int(u128::from(v.unsigned_abs()), v < 0)
        }
        fn serialize_u8(self, v: u8) -> Result<(), Fallback> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u16(self, v: u16) -> Result<(), Fallback> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u32(self, v: u32) -> Result<(), Fallback> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u64(self, v: u64) -> Result<(), Fallback> {
            self.int(u128::from(v), false)
        }
        fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result<(), Fallback> {
            self.serialize_str(variant)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            value: &T,
        ) -> Result<(), Fallback> {
            value.serialize(self)
        }
        fn serialize_bool(self, _v: bool) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_i128(self, _v: i128) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_u128(self, _v: u128) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_f32(self, _v: f32) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_f64(self, _v: f64) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_char(self, _v: char) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_bytes(self, _v: &[u8]) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_none(self) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_unit(self) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _i: u32,
            _variant: &'static str,
            _value: &T,
        ) -> Result<(), Fallback> {
            Err(Fallback)
        }
        fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Fallback> {
            Err(Fallback)
        }
        fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Fallback> {
            Err(Fallback)
        }
        fn serialize_tuple_struct(
            self,
            _name: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleStruct, Fallback> {
            Err(Fallback)
        }
        fn serialize_tuple_variant(
            self,
            _name: &'static str,
            _i: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleVariant, Fallback> {
            Err(Fallback)
        }
        fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Fallback> {
            Err(Fallback)
        }
        fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Fallback> {
            Err(Fallback)
        }
        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _i: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeStructVariant, Fallback> {
            Err(Fallback)
        }
    }
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
    // Most strings need no escape: one pass finds out, and they are copied
    // whole.
    if !needs_escape(bytes) {
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

/// Whether any byte of `bytes` is escaped in a canonical string: below
/// 0x20, `"` or `\`. Eight bytes at a time (each test below is exact as a
/// test of "some byte in the word"), the rest one by one.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit of some byte set iff some byte of `x` is zero.
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut hit = 0u64;
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let x = u64::from_le_bytes(word);
        // Some byte below 0x20 (the form of has_zero for "less than n",
        // exact for n <= 128).
        hit |= x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        hit |= has_zero(x ^ (ONES * u64::from(b'"')));
        hit |= has_zero(x ^ (ONES * u64::from(b'\\')));
    }
    hit != 0 || chunks.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
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

        /// The direct writer gives the bytes of the value path (the oracle),
        /// and takes every value tree itself (no fallback).
        #[test]
        fn direct_writer_equals_the_value_path(v in arb_json()) {
            let mut direct = b"prefix".to_vec();
            prop_assert_eq!(write_direct(&v, &mut direct), Ok(()));
            prop_assert_eq!(&direct[..6], b"prefix");
            prop_assert_eq!(&direct[6..], &encode(&v).unwrap()[..]);
        }

        #[test]
        fn needs_escape_is_the_byte_rule(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let slow = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            prop_assert_eq!(needs_escape(&bytes), slow);
        }

        /// Every serde shape a derived type can take (unordered fields,
        /// skipped fields, flattened maps, the four kinds of enum variant,
        /// tagged enums, integer and string map keys whose escaped order
        /// differs from their byte order): the direct bytes are the bytes of
        /// the value path.
        #[test]
        fn direct_writer_equals_the_value_path_on_serde_shapes(s in arb_shapes()) {
            let mut direct = Vec::new();
            prop_assert_eq!(write_direct(&s, &mut direct), Ok(()));
            prop_assert_eq!(direct, encode_serialize(&s).unwrap());
        }
    }

    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Outer {
        Unit,
        Newtype(Inner),
        Tuple(i64, String),
        Struct { zeta: u16, alpha: Option<String>, mid: Vec<Inner> },
    }

    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(tag = "method", rename_all = "snake_case")]
    enum Tagged {
        Fixed { rate: String, base: u64 },
        ByKey { keys: BTreeMap<String, String> },
        Nothing,
    }

    #[derive(Debug, Clone, serde::Serialize)]
    struct Inner {
        z: bool,
        #[serde(rename = "a\"q")]
        quoted: i32,
        #[serde(rename = "a#")]
        hash: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<char>,
        unit: (),
    }

    #[derive(Debug, Clone, serde::Serialize)]
    struct Shapes {
        year_keys: BTreeMap<u16, String>,
        signed_keys: BTreeMap<i32, bool>,
        text_keys: BTreeMap<String, Inner>,
        outer: Vec<Outer>,
        tagged: Tagged,
        #[serde(flatten)]
        extra: BTreeMap<String, i64>,
        b: u8,
        a: Option<Box<Shapes>>,
    }

    use std::collections::BTreeMap;

    fn arb_inner() -> impl Strategy<Value = Inner> {
        (any::<bool>(), any::<i32>(), any::<i32>(), any::<Option<char>>()).prop_map(|(z, quoted, hash, maybe)| Inner {
            z,
            quoted,
            hash,
            maybe,
            unit: (),
        })
    }

    fn arb_outer() -> impl Strategy<Value = Outer> {
        prop_oneof![
            Just(Outer::Unit),
            arb_inner().prop_map(Outer::Newtype),
            (-(MAX_SAFE_INTEGER as i64)..=(MAX_SAFE_INTEGER as i64), any::<String>())
                .prop_map(|(i, s)| Outer::Tuple(i, s)),
            (any::<u16>(), any::<Option<String>>(), prop::collection::vec(arb_inner(), 0..3))
                .prop_map(|(zeta, alpha, mid)| Outer::Struct { zeta, alpha, mid }),
        ]
    }

    fn arb_tagged() -> impl Strategy<Value = Tagged> {
        prop_oneof![
            ("\\PC{0,6}", 0..=MAX_SAFE_INTEGER).prop_map(|(rate, base)| Tagged::Fixed { rate, base }),
            prop::collection::btree_map("[a\"#\\\\\u{1}é]{0,4}", "\\PC{0,4}", 0..5)
                .prop_map(|keys| Tagged::ByKey { keys }),
            Just(Tagged::Nothing),
        ]
    }

    fn arb_shapes() -> impl Strategy<Value = Shapes> {
        let leaf = (
            prop::collection::btree_map(any::<u16>(), "\\PC{0,4}", 0..5),
            prop::collection::btree_map(any::<i32>(), any::<bool>(), 0..5),
            prop::collection::btree_map("[a\"#\\\\\u{1f}\u{7f}é]{0,4}", arb_inner(), 0..4),
            prop::collection::vec(arb_outer(), 0..4),
            arb_tagged(),
            // Flattened keys never equal a field name (serde_json would keep one).
            prop::collection::btree_map("x[a-z\"]{0,3}", -(MAX_SAFE_INTEGER as i64)..=(MAX_SAFE_INTEGER as i64), 0..4),
            any::<u8>(),
        )
            .prop_map(|(year_keys, signed_keys, text_keys, outer, tagged, extra, b)| Shapes {
                year_keys,
                signed_keys,
                text_keys,
                outer,
                tagged,
                extra,
                b,
                a: None,
            });
        leaf.prop_recursive(2, 4, 1, |inner| {
            (inner.clone(), inner).prop_map(|(mut s, a)| {
                s.a = Some(Box::new(a));
                s
            })
        })
    }

    /// What the direct writer leaves to the value path still comes out as
    /// the value path gives it (bytes or error): floats, 128-bit integers,
    /// integers beyond 2^53-1, duplicate keys from a flattened map.
    #[test]
    fn fallbacks_give_what_the_value_path_gives() {
        #[derive(serde::Serialize)]
        struct Dup {
            a: i64,
            #[serde(flatten)]
            more: BTreeMap<String, i64>,
        }
        let dup = Dup { a: 1, more: [("a".to_string(), 2), ("b".to_string(), 3)].into_iter().collect() };
        let mut out = Vec::new();
        assert_eq!(write_direct(&dup, &mut out), Err(NotDirect));
        assert!(out.is_empty(), "a declined value leaves nothing behind");
        let mut via = Vec::new();
        write_serialize(&dup, &mut via).unwrap();
        assert_eq!(via, encode_serialize(&dup).unwrap());

        fn same<T: serde::Serialize>(v: &T) {
            let mut out = b"x".to_vec();
            let direct = write_serialize(v, &mut out).map(|()| out[1..].to_vec());
            assert_eq!(direct, encode_serialize(v));
        }
        same(&0.5f64);
        same(&f64::NAN);
        same(&vec![1.0f32]);
        same(&7u128);
        same(&-7i128);
        same(&(1u64 << 53));
        same(&-(1i64 << 53));
        same(&MAX_SAFE_INTEGER);
        same(&[(1.5f64, 1)].into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>());
        same(&serde_bytes_like());
        same(&[(true, 1)].into_iter().collect::<BTreeMap<bool, i32>>());
    }

    fn serde_bytes_like() -> serde_json::Value {
        json!({"b": [0, 255], "a": null})
    }
}
