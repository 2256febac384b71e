//! The words of a statement line as structured numbers, not text.
//!
//! The engine never formats a label or a formula. Each line carries two
//! [`Phrase`]s (label and formula): a message id ([`Msg::key`], a Fluent id
//! of `src/present/locales/*/lines.ftl`) and the terms the message names:
//! money, rates, factors, quantities, years, names from the contract, and
//! nested phrases. The presentation layer (`present::words`) renders them in
//! a reader's language; [`Msg::en`] is the frozen English wording of engine
//! version 1 (docs/FORMAT.md 5.8), used only to replay version 1 signatures
//! and for the reference English of a statement's JSON.
//!
//! Terms are stored flat in one vector: a nested phrase is a
//! [`Term::Sub`] followed by its own terms, a list is a [`Term::List`]
//! followed by its items. Building a phrase copies numbers and an interned
//! name; it formats nothing.
//!
//! A simulation needs only a statement's numbers: it settles with the words
//! off ([`super::Detail::Numbers`]), and while it does, every phrase keeps
//! its message and nothing else ([`words`] is false on that thread, set by
//! [`WordsOff`] for the one settlement): [`w!`] evaluates no argument and
//! the builders of [`Phrase`] add no term. The lines, their ids and their
//! numbers are the same.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use rust_decimal::Decimal;

use super::money::{format_factor, format_money, format_number, format_rate};
use super::shared_id::SharedId;

/// A message: its Fluent id and the English wording of engine version 1,
/// with `{}` for each argument in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Msg {
    /// Fluent message id (`line-...`).
    pub key: &'static str,
    /// Engine version 1's English, `{}` per argument (frozen: changing it
    /// breaks the replay of version 1 signatures).
    pub en: &'static str,
}

/// One term of a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Money, two decimals.
    Money(Decimal),
    /// A rate of the contract, shown as a percentage.
    Rate(Decimal),
    /// A computed ratio (rounded to `RATIO_DP` decimals), shown as a
    /// percentage.
    Ratio(Decimal),
    /// A factor (trend, risk, quality score).
    Factor(Decimal),
    /// A count or quantity.
    Number(Decimal),
    /// A whole number shown without separators (a year, a table row).
    Int(i64),
    /// Text from the contract (an id, a name, a purpose), as written there.
    Text(SharedId),
    /// A nested phrase: its message, then the number of items (arguments)
    /// that follow it in the term list.
    Sub(&'static Msg, u8),
    /// A list: its separator, then the number of items that follow.
    List(&'static str, u8),
}

/// A message with its terms: the words of a label, a formula or a part of
/// one.
#[derive(Debug, PartialEq, Eq)]
pub struct Phrase {
    /// The message.
    pub msg: &'static Msg,
    /// Its arguments, flat (see the module docs). A plain vector, no terms
    /// inline: a statement line carries two phrases and is moved often, so
    /// they are kept small (a line is about 200 bytes, not 480); with the
    /// words off the vector stays empty and allocates nothing, and dropping
    /// it is one test (see [`Terms`]).
    pub terms: Terms,
    /// The number of arguments (items at the top level of `terms`), kept as
    /// they are added so that nesting the phrase need not count them again
    /// (the count [`top_level_items`] gives; saturating at 255 as it does).
    items: u8,
}

/// The terms of a [`Phrase`]: a `Vec<Term>` (it derefs to one) whose drop
/// is one test of its capacity when it holds nothing. A statement settled
/// without words has two empty phrases per line, and the vector's own drop
/// glue (a call that walks its zero terms) was 2% of a simulation's
/// instructions; a vector that has allocated is dropped as a vector is.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Terms(ManuallyDrop<Vec<Term>>);

impl Terms {
    /// No terms, nothing allocated.
    pub(crate) const fn new() -> Terms {
        Terms(ManuallyDrop::new(Vec::new()))
    }

    /// No terms yet, room for `n`.
    pub(crate) fn with_capacity(n: usize) -> Terms {
        Terms(ManuallyDrop::new(Vec::with_capacity(n)))
    }
}

impl Drop for Terms {
    #[inline]
    fn drop(&mut self) {
        // An empty vector that never allocated owns nothing: left as it is
        // (`ManuallyDrop`), it costs no call. Any other is taken out and
        // dropped whole, its terms and its buffer.
        if self.0.capacity() != 0 {
            drop(std::mem::take(&mut *self.0));
        }
    }
}

impl Deref for Terms {
    type Target = Vec<Term>;

    #[inline]
    fn deref(&self) -> &Vec<Term> {
        &self.0
    }
}

impl DerefMut for Terms {
    #[inline]
    fn deref_mut(&mut self) -> &mut Vec<Term> {
        &mut self.0
    }
}

/// As the vector's (a phrase prints its terms as a list, as before).
impl fmt::Debug for Terms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Something that can be an argument of a phrase.
pub(crate) trait IntoArg {
    /// Appends the argument's terms (one item at the top level).
    fn push_into(self, terms: &mut Vec<Term>);
}

impl IntoArg for Term {
    #[inline]
    fn push_into(self, terms: &mut Vec<Term>) {
        terms.push(self);
    }
}

impl IntoArg for Phrase {
    #[inline]
    fn push_into(mut self, terms: &mut Vec<Term>) {
        debug_assert_eq!(self.items, top_level_items(&self.terms), "a phrase counts its arguments");
        terms.reserve(1 + self.terms.len());
        terms.push(Term::Sub(self.msg, self.items));
        terms.append(&mut self.terms);
    }
}

/// A list of phrases joined by a separator (` x `, ` + `, `, `).
pub(crate) struct List(pub &'static str, pub Vec<Phrase>);

impl IntoArg for List {
    fn push_into(self, terms: &mut Vec<Term>) {
        let n = u8::try_from(self.1.len()).unwrap_or(u8::MAX);
        terms.push(Term::List(self.0, n));
        for p in self.1.into_iter().take(usize::from(n)) {
            p.push_into(terms);
        }
    }
}

/// The number of items (arguments) at the top level of `terms`, saturating
/// at 255.
fn top_level_items(terms: &[Term]) -> u8 {
    let mut i = 0;
    let mut n: u8 = 0;
    while i < terms.len() {
        skip_item(terms, &mut i);
        n = n.saturating_add(1);
    }
    n
}

fn skip_item(terms: &[Term], i: &mut usize) {
    let t = &terms[*i];
    *i += 1;
    if let Term::Sub(_, n) | Term::List(_, n) = t {
        for _ in 0..*n {
            if *i < terms.len() {
                skip_item(terms, i);
            }
        }
    }
}

/// A phrase without terms (every phrase of a statement settled without
/// words) is copied without a call to copy its empty list.
impl Clone for Phrase {
    fn clone(&self) -> Phrase {
        let terms = if self.terms.is_empty() { Terms::new() } else { self.terms.clone() };
        Phrase { msg: self.msg, terms, items: self.items }
    }
}

impl Phrase {
    /// A phrase of `msg` without arguments yet.
    pub(crate) fn new(msg: &'static Msg) -> Phrase {
        Phrase { msg, terms: Terms::new(), items: 0 }
    }

    /// A phrase of `msg` with room for `terms` terms before it grows.
    pub(crate) fn with_capacity(msg: &'static Msg, terms: usize) -> Phrase {
        Phrase { msg, terms: Terms::with_capacity(terms), items: 0 }
    }

    /// Adds an argument.
    #[inline]
    pub(crate) fn arg(&mut self, a: impl IntoArg) {
        if !words() {
            return;
        }
        a.push_into(&mut self.terms);
        self.items = self.items.saturating_add(1);
    }

    /// [`Phrase::arg`] for a caller that has checked [`words`] (the [`w!`]
    /// macro): one thread-local read per phrase, not per argument.
    #[inline]
    pub(crate) fn arg_on(&mut self, a: impl IntoArg) {
        a.push_into(&mut self.terms);
        self.items = self.items.saturating_add(1);
    }

    /// Adds the nested phrase `p` as an argument, copying its terms: the
    /// same terms as `arg(p.clone())` without building the clone.
    pub(crate) fn arg_ref(&mut self, p: &Phrase) {
        if !words() {
            return;
        }
        self.item_ref(p);
        self.items = self.items.saturating_add(1);
    }

    /// Adds a list of `n` items as an argument: the caller adds its items
    /// next with [`Phrase::item`] / [`Phrase::item_ref`] (the same terms as
    /// `arg(List(sep, items))` without building the list).
    pub(crate) fn arg_list(&mut self, sep: &'static str, n: u8) {
        if !words() {
            return;
        }
        self.terms.push(Term::List(sep, n));
        self.items = self.items.saturating_add(1);
    }

    /// Adds a nested phrase as an item of a list begun by
    /// [`Phrase::arg_list`] (not an argument of its own).
    pub(crate) fn item(&mut self, p: Phrase) {
        if !words() {
            return;
        }
        p.push_into(&mut self.terms);
    }

    /// [`Phrase::item`] copying the terms of `p`.
    pub(crate) fn item_ref(&mut self, p: &Phrase) {
        if !words() {
            return;
        }
        debug_assert_eq!(p.items, top_level_items(&p.terms), "a phrase counts its arguments");
        self.terms.reserve(1 + p.terms.len());
        self.terms.push(Term::Sub(p.msg, p.items));
        self.terms.extend(p.terms.iter().cloned());
    }

    /// The number of terms (nested ones included).
    pub(crate) fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// The phrase rendered by `w`.
    pub fn render(&self, w: &dyn Wording) -> String {
        let mut i = 0;
        let mut args = Vec::new();
        while i < self.terms.len() {
            args.push(item(&self.terms, &mut i, w));
        }
        w.message(self.msg, &args)
    }

    /// The English of engine version 1 (see [`Msg::en`]); `abs` drops the
    /// sign of every figure (the words of today for a payment from
    /// providers).
    pub fn english(&self, abs: bool) -> String {
        self.render(&EnglishV1 { abs })
    }
}

fn item(terms: &[Term], i: &mut usize, w: &dyn Wording) -> String {
    let t = &terms[*i];
    *i += 1;
    match t {
        Term::Sub(msg, n) => {
            let mut args = Vec::with_capacity(usize::from(*n));
            for _ in 0..*n {
                if *i < terms.len() {
                    args.push(item(terms, i, w));
                }
            }
            w.message(msg, &args)
        }
        Term::List(sep, n) => {
            let mut parts = Vec::with_capacity(usize::from(*n));
            for _ in 0..*n {
                if *i < terms.len() {
                    parts.push(item(terms, i, w));
                }
            }
            parts.join(sep)
        }
        other => w.term(other),
    }
}

/// How a reader's language words messages and terms.
pub trait Wording {
    /// Message `msg` with its arguments already worded.
    fn message(&self, msg: &'static Msg, args: &[String]) -> String;
    /// A number or a name (never [`Term::Sub`] or [`Term::List`]).
    fn term(&self, t: &Term) -> String;
}

/// The English of engine version 1: [`Msg::en`] with its `{}` filled in
/// order, numbers as `format_money` and friends format them.
pub struct EnglishV1 {
    /// Drop the sign of every figure.
    pub abs: bool,
}

impl Wording for EnglishV1 {
    fn message(&self, msg: &'static Msg, args: &[String]) -> String {
        let mut out = String::with_capacity(msg.en.len() + 16 * args.len());
        let mut rest = msg.en;
        let mut args = args.iter();
        while let Some(at) = rest.find("{}") {
            out.push_str(&rest[..at]);
            out.push_str(args.next().map_or("", String::as_str));
            rest = &rest[at + 2..];
        }
        out.push_str(rest);
        out
    }

    fn term(&self, t: &Term) -> String {
        let a = |d: &Decimal| if self.abs { d.abs() } else { *d };
        match t {
            Term::Money(d) => format_money(a(d)),
            Term::Rate(d) | Term::Ratio(d) => format_rate(a(d)),
            Term::Factor(d) => format_factor(a(d)),
            Term::Number(d) => format_number(a(d)),
            Term::Int(n) => n.to_string(),
            Term::Text(s) => s.to_string(),
            Term::Sub(..) | Term::List(..) => String::new(),
        }
    }
}

/// Money term.
pub(crate) fn money(d: Decimal) -> Term {
    Term::Money(d)
}
/// Contract rate term.
pub(crate) fn rate(d: Decimal) -> Term {
    Term::Rate(d)
}
/// Computed ratio term.
pub(crate) fn ratio(d: Decimal) -> Term {
    Term::Ratio(d)
}
/// Factor term.
pub(crate) fn factor(d: Decimal) -> Term {
    Term::Factor(d)
}
/// Quantity term.
pub(crate) fn number(d: Decimal) -> Term {
    Term::Number(d)
}
/// Whole number term (years, table rows).
pub(crate) fn int(n: impl Into<i64>) -> Term {
    Term::Int(n.into())
}

thread_local! {
    /// Whether phrases get their terms on this thread (see [`words`]).
    static WORDS: Cell<bool> = const { Cell::new(true) };
    static INTERNED: RefCell<Interner> = RefCell::new(Interner::default());
}

/// Whether the phrases built on this thread get their terms: true except
/// while a settlement with the words off runs here ([`WordsOff`]).
#[inline]
pub(crate) fn words() -> bool {
    WORDS.with(Cell::get)
}

/// Turns the words off on this thread until dropped (then they are as they
/// were): a settlement with [`super::Detail::Numbers`] holds one while it
/// runs, on the thread that runs it (the engine starts no other thread).
pub(crate) struct WordsOff {
    before: bool,
}

impl WordsOff {
    /// Words off, or left as they are when `off` is false.
    pub(crate) fn new(off: bool) -> WordsOff {
        let before = words();
        if off {
            WORDS.with(|w| w.set(false));
        }
        WordsOff { before }
    }
}

impl Drop for WordsOff {
    fn drop(&mut self) {
        WORDS.with(|w| w.set(self.before));
    }
}

/// The line ids one thread joins from shared names: the buffer they are
/// joined in, and the memo of transfer ids. The names themselves are kept
/// by [`super::shared_id::intern`].
#[derive(Default)]
struct Interner {
    /// Where a joined id is written before it is looked up (kept, so that
    /// joining allocates nothing once it has grown).
    joined: String,
    /// Transfer ids by their three parts ([`transfer_id`]), in
    /// [`TRANSFER_SLOTS`] slots by the parts' addresses (open addressing).
    transfers: Vec<Option<TransferId>>,
    /// The slots of `transfers` taken (at most half: then it starts afresh).
    transfer_count: usize,
    /// The ids [`shared_joined`] made last (at most [`JOINED_MEMO`], then it
    /// starts afresh): a known one is found by comparing its text with the
    /// parts, nothing joined or hashed.
    joined_ids: Vec<SharedId>,
}

/// The most ids [`Interner::joined_ids`] keeps (a contract's payouts name
/// a few).
const JOINED_MEMO: usize = 32;

/// The slots of the memo of transfer ids (a power of two).
const TRANSFER_SLOTS: usize = 256;

/// A transfer id with the three shared texts it joins. The entry holds
/// them, so they stay alive: another shared text at the same address (and
/// of the same length) is the same text.
struct TransferId {
    parts: [SharedId; 3],
    id: SharedId,
}

/// `s` as a shared name ([`super::shared_id::intern`]): the contract's ids
/// and names are shared by every line and every run that names them.
pub(crate) fn shared(s: &str) -> SharedId {
    super::shared_id::intern(s)
}

/// `parts` joined by `.`, interned as [`shared`] interns a text: a line id
/// that names parties, activities or bands, the same in every run. Joined
/// in a buffer the thread keeps, so a known id allocates nothing.
pub(crate) fn shared_joined(parts: &[&str]) -> SharedId {
    INTERNED.with(|i| {
        let Interner { joined, joined_ids, .. } = &mut *i.borrow_mut();
        // The same text is the same id (`shared` gives one id per text).
        let len = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len().saturating_sub(1);
        if let Some(id) = joined_ids.iter().find(|id| id.len() == len && is_joined(id.as_str(), parts)) {
            return id.clone();
        }
        joined.clear();
        for (k, p) in parts.iter().enumerate() {
            if k > 0 {
                joined.push('.');
            }
            joined.push_str(p);
        }
        let id = shared(joined);
        if joined_ids.len() >= JOINED_MEMO {
            joined_ids.clear();
        }
        joined_ids.push(id.clone());
        id
    })
}

/// Whether `id` is `parts` joined by `.`.
fn is_joined(id: &str, parts: &[&str]) -> bool {
    let mut rest = id.as_bytes();
    for (k, p) in parts.iter().enumerate() {
        if k > 0 {
            match rest.split_first() {
                Some((b'.', r)) => rest = r,
                _ => return false,
            }
        }
        match rest.strip_prefix(p.as_bytes()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// The id `{prefix}.{payer}.{provider}` of a transfer, from texts already
/// shared ([`shared`], [`shared_joined`], [`shared_static`]): found by the
/// addresses of the three, with no text joined, hashed or compared, when
/// the thread made it before (every run of a simulation makes the same
/// transfers); else joined and interned as [`shared_joined`] does, and
/// remembered.
pub(crate) fn transfer_id(prefix: &SharedId, payer: &SharedId, provider: &SharedId) -> SharedId {
    let mix = (prefix.addr() ^ payer.addr().rotate_left(21) ^ provider.addr().rotate_left(42))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let start = mix >> (usize::BITS - TRANSFER_SLOTS.trailing_zeros());
    INTERNED.with(|i| {
        let Interner { joined, transfers, transfer_count, .. } = &mut *i.borrow_mut();
        if transfers.is_empty() || *transfer_count >= TRANSFER_SLOTS / 2 {
            transfers.clear();
            transfers.resize_with(TRANSFER_SLOTS, || None);
            *transfer_count = 0;
        }
        // Open addressing, probing on: at most half the slots are taken,
        // so an empty slot ends every search.
        let mut slot = start;
        while let Some(t) = &transfers[slot] {
            let [a, b, c] = &t.parts;
            if a.same(prefix) && b.same(payer) && c.same(provider) {
                return t.id.clone();
            }
            slot = (slot + 1) % TRANSFER_SLOTS;
        }
        joined.clear();
        for (k, p) in [prefix, payer, provider].into_iter().enumerate() {
            if k > 0 {
                joined.push('.');
            }
            joined.push_str(p);
        }
        let id = shared(joined);
        transfers[slot] = Some(TransferId { parts: [prefix.clone(), payer.clone(), provider.clone()], id: id.clone() });
        *transfer_count += 1;
        id
    })
}

/// The engine's own text `s` as a shared id: kept for the life of the
/// process already, so it is used as it is (no look-up, no copy).
pub(crate) fn shared_static(s: &'static str) -> SharedId {
    SharedId::from_static(s)
}

/// Text term from the contract (interned).
pub(crate) fn name(s: &str) -> Term {
    Term::Text(shared(s))
}

/// A phrase of message `key` (Fluent id) whose version 1 English is `en`,
/// with arguments (terms, phrases, lists) in the order of `en`'s `{}`. With
/// the words off ([`words`]) the arguments are not evaluated: they must be
/// words only (no `?`, nothing the settlement reads later).
macro_rules! w {
    ($key:literal, $en:literal $(, $arg:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut p = $crate::domain::settlement::why::Phrase::new(&$crate::domain::settlement::why::Msg { key: $key, en: $en });
        if $crate::domain::settlement::why::words() {
            $( p.arg_on($arg); )*
        }
        p
    }};
}
pub(crate) use w;

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn nested_phrases_and_lists_render_in_order() {
        let inner = w!("line-t-inner", "{} members", number(dec!(2000)));
        let list = List(
            " x ",
            vec![
                w!("line-t-p", "(1 + {} {})", rate(dec!(0.03)), int(2024u16)),
                w!("line-t-p", "(1 + {} {})", rate(dec!(0.02)), int(2025u16)),
            ],
        );
        let p = w!("line-t-outer", "B = {} x {} x {} = {}", money(dec!(10.00)), list, inner, money(dec!(-5.00)));
        assert_eq!(p.english(false), "B = 10.00 x (1 + 3.00% 2024) x (1 + 2.00% 2025) x 2,000 members = -5.00");
        assert_eq!(p.english(true), "B = 10.00 x (1 + 3.00% 2024) x (1 + 2.00% 2025) x 2,000 members = 5.00");
        assert_eq!(top_level_items(&p.terms), 4);
        assert_eq!(p.items, 4);
    }

    #[test]
    fn interned_names_are_shared() {
        let a = shared("zorgverzekeraar");
        let b = shared("zorgverzekeraar");
        assert!(a.same(&b));
    }

    #[test]
    fn joined_ids_are_the_joined_text_and_shared() {
        let a = shared_joined(&["shared_savings.payout", "zorgverzekeraar", "huisartsen"]);
        assert_eq!(&*a, "shared_savings.payout.zorgverzekeraar.huisartsen");
        let b = shared_joined(&["shared_savings", "payout.zorgverzekeraar", "huisartsen"]);
        assert!(a.same(&b), "the same text is the same id, however it was cut");
        assert!(a.same(&shared("shared_savings.payout.zorgverzekeraar.huisartsen")));
        assert_eq!(&*shared_joined(&["p4p", "hba1c"]), "p4p.hba1c");
        assert_eq!(&*shared_joined(&["p4p"]), "p4p");
        assert_ne!(&*shared_joined(&["p4p", "hba1c"]), &*a);
    }

    #[test]
    fn remembered_joined_ids_are_the_joined_text() {
        // Texts of one length cut in other places, met again, and more
        // ids than the memo keeps: always the parts joined.
        for round in 0..3 {
            for (parts, text) in [
                (&["ab", "c"][..], "ab.c"),
                (&["a", "bc"][..], "a.bc"),
                (&["a", "b", "c"][..], "a.b.c"),
                (&["a.b", "c"][..], "a.b.c"),
                (&["abc"][..], "abc"),
                (&["", "abc"][..], ".abc"),
                (&["abc", ""][..], "abc."),
            ] {
                assert_eq!(&*shared_joined(parts), text, "round {round}");
            }
            for k in 0..(JOINED_MEMO + 3) {
                let n = k.to_string();
                assert_eq!(&*shared_joined(&["m", &n]), format!("m.{n}"));
            }
        }
        assert!(!is_joined("a.bc", &["ab", "c"]));
        assert!(!is_joined("a.b.c", &["a", "b"]));
        assert!(!is_joined("a", &["a", ""]));
        assert!(is_joined("a.", &["a", ""]));
    }

    #[test]
    fn transfer_ids_are_the_joined_text_whatever_the_memo_holds() {
        let prefix = shared("shared_savings.payout");
        let (a, b) = (shared("zorgverzekeraar"), shared("huisartsen"));
        let id = transfer_id(&prefix, &a, &b);
        assert_eq!(&*id, "shared_savings.payout.zorgverzekeraar.huisartsen");
        assert!(id.same(&transfer_id(&prefix, &a, &b)), "made once");
        assert!(id.same(&shared("shared_savings.payout.zorgverzekeraar.huisartsen")));
        assert_eq!(&*transfer_id(&prefix, &b, &a), "shared_savings.payout.huisartsen.zorgverzekeraar");
        // Texts that are not shared (other addresses, the same words) and
        // many ids through the few slots: always the joined text.
        for k in 0..500 {
            let (p, x, y) =
                (SharedId::from(format!("p{}", k % 7)), SharedId::from(format!("x{k}")), SharedId::from("y"));
            assert_eq!(*transfer_id(&p, &x, &y), *format!("p{}.x{k}.y", k % 7));
            assert_eq!(*transfer_id(&p, &x, &y), *format!("p{}.x{k}.y", k % 7));
        }
    }
}
