//! [`SharedId`]: a contract's id (a party, an indicator) as a statement
//! names it, shared by every statement of a thread that names it.
//!
//! A simulation settles one contract many thousand times; each statement
//! names the same parties in its cash and result per party and its
//! payments, and the same indicators in its figures used. An owned string
//! per name was a third of the allocations of a settled year. A
//! [`SharedId`] is one reference-counted string per name: cloning it
//! allocates nothing. It reads, compares, orders, hashes, prints and
//! serializes as the text it holds, so every output is byte for byte the
//! one a `String` gave.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// An id shared by every statement that names it: the text of an
/// `Arc<str>`, compared and ordered by its text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedId(Arc<str>);

impl SharedId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Arc<str>> for SharedId {
    fn from(s: Arc<str>) -> SharedId {
        SharedId(s)
    }
}

impl From<&Arc<str>> for SharedId {
    fn from(s: &Arc<str>) -> SharedId {
        SharedId(Arc::clone(s))
    }
}

impl From<&str> for SharedId {
    fn from(s: &str) -> SharedId {
        SharedId(Arc::from(s))
    }
}

impl From<String> for SharedId {
    fn from(s: String) -> SharedId {
        SharedId(Arc::from(s))
    }
}

impl From<&String> for SharedId {
    fn from(s: &String) -> SharedId {
        SharedId(Arc::from(s.as_str()))
    }
}

impl Deref for SharedId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SharedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SharedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for SharedId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl PartialEq<str> for SharedId {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for SharedId {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for SharedId {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<SharedId> for str {
    fn eq(&self, other: &SharedId) -> bool {
        *self == *other.0
    }
}

impl PartialEq<SharedId> for &str {
    fn eq(&self, other: &SharedId) -> bool {
        **self == *other.0
    }
}

impl PartialEq<SharedId> for String {
    fn eq(&self, other: &SharedId) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compares_orders_and_serializes_as_its_text() {
        let a = SharedId::from("zorgverzekeraar");
        let b = SharedId::from(String::from("ziekenhuis"));
        assert_eq!(a.as_str(), "zorgverzekeraar");
        assert_eq!(&*b, "ziekenhuis");
        let (text, owned) = ("zorgverzekeraar", String::from("ziekenhuis"));
        assert_eq!(a, text);
        assert_eq!(text, a);
        assert_eq!(b, owned);
        assert_eq!(owned, b);
        assert!(a != b);
        assert_eq!(a.cmp(&b), "zorgverzekeraar".cmp("ziekenhuis"));
        assert_eq!(format!("{a} {b:?}"), "zorgverzekeraar \"ziekenhuis\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string("zorgverzekeraar").unwrap());
        assert_eq!(a.clone(), a);
        let m: std::collections::BTreeMap<SharedId, u8> = [(a, 1)].into_iter().collect();
        assert_eq!(m.get("zorgverzekeraar"), Some(&1));
    }
}
