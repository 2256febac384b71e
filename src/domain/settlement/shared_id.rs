//! [`SharedId`]: a contract's id (a party, an indicator, a line id that
//! names them) as a statement names it, shared by every statement that
//! names it.
//!
//! A simulation settles one contract many thousand times; each statement
//! names the same parties in its lines, its cash and result per party and
//! its payments, and the same indicators in its figures used. An owned
//! string per name was a third of the allocations of a settled year, and a
//! reference-counted one (`Arc<str>`) still cost two atomic operations per
//! copy, about a tenth of a simulation's time on two cores. A [`SharedId`]
//! is therefore, as a rule, a `&'static str` from the process's pool of
//! names ([`intern`]): each distinct text is kept once for the life of the
//! process, and a copy is a pointer copy. The pool is bounded
//! ([`MAX_POOL_BYTES`]); past the bound, and for texts made outside the
//! engine (`From<&str>`, `From<String>`), a name is a reference-counted
//! `Arc<str>`. Either way it reads, compares, orders, hashes, prints and
//! serializes as the text it holds, so every output is byte for byte the
//! one a `String` gave.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex};

use serde::{Serialize, Serializer};

/// An id shared by every statement that names it: a name from the pool
/// (or one of the engine's own texts), or a reference-counted text;
/// compared, ordered and hashed by its text.
#[derive(Clone)]
pub struct SharedId(Repr);

#[derive(Clone)]
enum Repr {
    /// Kept for the life of the process: the pool's names, the engine's own
    /// texts. Copied without touching a counter.
    Static(&'static str),
    /// Reference-counted: a text from outside the engine, or a name met
    /// after the pool is full.
    Counted(Arc<str>),
}

impl SharedId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Counted(s) => s,
        }
    }

    /// One of the engine's own texts (a line id it writes), with no pool
    /// look-up.
    pub(crate) const fn from_static(s: &'static str) -> SharedId {
        SharedId(Repr::Static(s))
    }

    /// Whether `self` and `other` are the same text at the same address
    /// (then they are equal; equal texts may also sit at two addresses).
    /// Both are alive, so the address is theirs alone.
    #[inline]
    pub(crate) fn same(&self, other: &SharedId) -> bool {
        std::ptr::eq(self.as_str(), other.as_str())
    }

    /// The address of the text (see [`SharedId::same`]).
    #[inline]
    pub(crate) fn addr(&self) -> usize {
        self.as_str().as_ptr().addr()
    }
}

impl PartialEq for SharedId {
    fn eq(&self, other: &SharedId) -> bool {
        self.same(other) || self.as_str() == other.as_str()
    }
}

impl Eq for SharedId {}

impl PartialOrd for SharedId {
    fn partial_cmp(&self, other: &SharedId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedId {
    fn cmp(&self, other: &SharedId) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SharedId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl From<Arc<str>> for SharedId {
    fn from(s: Arc<str>) -> SharedId {
        SharedId(Repr::Counted(s))
    }
}

impl From<&Arc<str>> for SharedId {
    fn from(s: &Arc<str>) -> SharedId {
        SharedId(Repr::Counted(Arc::clone(s)))
    }
}

impl From<&SharedId> for SharedId {
    fn from(s: &SharedId) -> SharedId {
        s.clone()
    }
}

impl From<&str> for SharedId {
    fn from(s: &str) -> SharedId {
        SharedId(Repr::Counted(Arc::from(s)))
    }
}

impl From<String> for SharedId {
    fn from(s: String) -> SharedId {
        SharedId(Repr::Counted(Arc::from(s)))
    }
}

impl From<&String> for SharedId {
    fn from(s: &String) -> SharedId {
        SharedId(Repr::Counted(Arc::from(s.as_str())))
    }
}

/// The most bytes the pool of names keeps for the life of the process
/// (texts, plus [`ENTRY_OVERHEAD`] per name). A book of a few thousand
/// contracts names some hundred thousand parties, indicators and line ids
/// (a few MiB); past the bound a name is reference-counted, so a process
/// that meets ever new names (a node fed hostile contracts) stays bounded.
pub const MAX_POOL_BYTES: usize = 16 << 20;

/// What a name costs the pool beyond its text: the set's entry and the
/// allocator's header, counted against [`MAX_POOL_BYTES`].
const ENTRY_OVERHEAD: usize = 32;

/// A pool of names kept for the life of the process, up to `cap` bytes.
struct Pool {
    names: HashSet<&'static str, rustc_hash::FxBuildHasher>,
    bytes: usize,
    cap: usize,
}

impl Pool {
    fn new(cap: usize) -> Pool {
        Pool { names: HashSet::default(), bytes: 0, cap }
    }

    /// `s` from the pool, added when new and within the cap; `None` when
    /// the pool is full.
    fn get_or_add(&mut self, s: &str) -> Option<&'static str> {
        if let Some(k) = self.names.get(s) {
            return Some(k);
        }
        let cost = s.len().saturating_add(ENTRY_OVERHEAD);
        if self.bytes.saturating_add(cost) > self.cap {
            return None;
        }
        let kept: &'static str = Box::leak(Box::<str>::from(s));
        self.names.insert(kept);
        self.bytes += cost;
        assert!(self.bytes <= self.cap, "the pool of names stays within its bound");
        Some(kept)
    }
}

/// The process's pool ([`MAX_POOL_BYTES`]); each thread keeps the names it
/// has used in [`LOCAL`] so that a known name takes no lock.
static POOL: LazyLock<Mutex<Pool>> = LazyLock::new(|| Mutex::new(Pool::new(MAX_POOL_BYTES)));

/// Limit on the reference-counted names a thread keeps ([`Local::counted`]):
/// it starts afresh when full.
pub const MAX_COUNTED_NAMES: usize = 4096;

/// One thread's names: those of the pool it has used (a subset of the
/// bounded pool, so bounded too), and the reference-counted ones made after
/// the pool was full. Hashed with `rustc-hash` (FxHash): the texts are
/// short and the sets are only caches (their order is never used).
#[derive(Default)]
struct Local {
    pooled: HashSet<&'static str, rustc_hash::FxBuildHasher>,
    counted: HashSet<Arc<str>, rustc_hash::FxBuildHasher>,
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
}

/// `s` as a name: from the pool (found on this thread without a lock once
/// the thread has used it), or reference-counted when the pool is full.
pub(crate) fn intern(s: &str) -> SharedId {
    LOCAL.with(|l| intern_in(&POOL, &mut l.borrow_mut(), s))
}

/// [`intern`] with the pool and the thread's names given.
fn intern_in(pool: &Mutex<Pool>, local: &mut Local, s: &str) -> SharedId {
    if let Some(k) = local.pooled.get(s) {
        return SharedId(Repr::Static(k));
    }
    // A poisoned lock still holds a consistent pool: a name is added whole
    // or not at all.
    let pooled = pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_add(s);
    if let Some(k) = pooled {
        local.pooled.insert(k);
        return SharedId(Repr::Static(k));
    }
    if let Some(a) = local.counted.get(s) {
        return SharedId(Repr::Counted(Arc::clone(a)));
    }
    if local.counted.len() >= MAX_COUNTED_NAMES {
        local.counted.clear();
    }
    let a: Arc<str> = Arc::from(s);
    local.counted.insert(Arc::clone(&a));
    SharedId(Repr::Counted(a))
}

impl Deref for SharedId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SharedId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SharedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SharedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for SharedId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for SharedId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<SharedId> for str {
    fn eq(&self, other: &SharedId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedId> for &str {
    fn eq(&self, other: &SharedId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedId> for String {
    fn eq(&self, other: &SharedId) -> bool {
        *self == other.as_str()
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

    #[test]
    fn a_pooled_and_a_counted_name_of_one_text_are_one_name() {
        use std::collections::hash_map::DefaultHasher;
        let pooled = intern("gemeente-berkelland");
        let counted = SharedId::from(String::from("gemeente-berkelland"));
        assert!(matches!(pooled.0, Repr::Static(_)), "the pool is far from full in a test");
        assert!(matches!(counted.0, Repr::Counted(_)));
        assert_eq!(pooled, counted);
        assert!(!pooled.same(&counted), "two addresses");
        assert_eq!(pooled.cmp(&counted), std::cmp::Ordering::Equal);
        let hash = |x: &SharedId| {
            let mut h = DefaultHasher::new();
            x.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&pooled), hash(&counted));
        assert_eq!(serde_json::to_string(&pooled).unwrap(), serde_json::to_string(&counted).unwrap());
    }

    #[test]
    fn every_thread_gets_the_same_pooled_name() {
        let here = intern("thuiszorg-berkelland");
        let there = std::thread::spawn(|| intern("thuiszorg-berkelland")).join().unwrap();
        assert!(here.same(&there), "one text, kept once for the process");
        assert_eq!(SharedId::from_static("thuiszorg-berkelland"), here);
    }

    #[test]
    fn the_pool_keeps_each_text_once_and_stays_within_its_bound() {
        let mut pool = Pool::new(10 * (ENTRY_OVERHEAD + 3));
        let a = pool.get_or_add("abc").unwrap();
        assert!(std::ptr::eq(a, pool.get_or_add("abc").unwrap()), "kept once");
        let mut kept = 1;
        for k in 0..100 {
            match pool.get_or_add(&format!("{k:03}")) {
                Some(t) => {
                    assert_eq!(t, format!("{k:03}"));
                    kept += 1;
                }
                None => break,
            }
        }
        assert_eq!(kept, 10, "ten names of three bytes fit");
        assert!(pool.bytes <= pool.cap);
        assert_eq!(pool.get_or_add("100"), None, "full");
        assert!(std::ptr::eq(a, pool.get_or_add("abc").unwrap()), "a kept name is still found when full");
    }

    #[test]
    fn past_the_pool_a_name_is_counted_shared_on_the_thread_and_bounded() {
        let full = Mutex::new(Pool::new(0));
        let mut local = Local::default();
        let a = intern_in(&full, &mut local, "zorgverzekeraar-oost");
        assert!(matches!(a.0, Repr::Counted(_)), "the pool is full");
        assert_eq!(a.as_str(), "zorgverzekeraar-oost");
        let b = intern_in(&full, &mut local, "zorgverzekeraar-oost");
        assert!(a.same(&b), "shared on the thread");
        for k in 0..MAX_COUNTED_NAMES + 10 {
            assert_eq!(intern_in(&full, &mut local, &format!("n{k}")).as_str(), format!("n{k}"));
        }
        assert!(local.counted.len() <= MAX_COUNTED_NAMES, "starts afresh when full");
        assert_eq!(intern_in(&full, &mut local, "zorgverzekeraar-oost"), a, "the same text either way");
        assert!(full.lock().unwrap().names.is_empty());
    }
}
