//! Which entries are **live** and which are **void**: a pure function of the
//! entry *set* (FORMAT.md 4.3), never of the order in which a copy received
//! the entries.
//!
//! An **ending entry** of key K is a `party.revoke_key` naming K, or a
//! `party.rotate_key` with `retire_old` authored with K. The **causal past**
//! of an entry is everything reachable from it by following *dependency
//! edges*: its `refs`, the introduction (registration or rotation) of every
//! key that signs it, and, for an ending entry, the introduction of the key
//! it ends. An entry E authored with key K is **void** when
//!
//! * some ending entry R of K in the set is not E and does not have E in its
//!   causal past, or
//! * the entry that introduced K is void.
//!
//! Otherwise it is live. Ending entries always take effect, void or not
//! (they only remove authority), so the definition has no circularity.
//! Copies keep void entries in their journals (append-only) but every
//! derived state ignores them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::ledger::entry::{Entry, EntryId};
use crate::ledger::keys::KeyId;
use crate::ledger::registry::Registry;

/// Why one entry is void.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VoidEntry {
    /// The void entry.
    pub id: EntryId,
    /// Its author key.
    pub key: KeyId,
    /// The ending entry of the author key (or of a key up its introduction
    /// chain) that does not have it in its causal past; the least such id.
    pub ending: EntryId,
    /// When the entry is void because the entry that introduced its key is
    /// void: that introducing entry.
    pub introduced_by_void: Option<EntryId>,
}

impl VoidEntry {
    /// As JSON: `{"id", "key", "ending", "introduced_by_void"}` (hex ids).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id.to_hex(),
            "key": self.key.to_hex(),
            "ending": self.ending.to_hex(),
            "introduced_by_void": self.introduced_by_void.map(|i| i.to_hex()),
        })
    }
}

/// The void entries of a set, by id (empty when no key was ever ended).
pub type VoidSet = BTreeMap<EntryId, VoidEntry>;

/// One entry as the liveness rule sees it.
struct Node {
    author: KeyId,
    deps: Vec<EntryId>,
}

/// The dependency edges of `e` (see the module docs): its refs, the
/// introductions of its signing keys and, for an ending entry, of the key it
/// ends, as far as they are in `intro`.
fn deps_of(e: &Entry, intro: &HashMap<KeyId, EntryId>) -> Vec<EntryId> {
    let mut deps: Vec<EntryId> = e.body().ref_ids().collect();
    let keys = e.sigs().iter().map(|s| s.key).chain(Registry::ends_key(e));
    for k in keys {
        if let Some(&j) = intro.get(&k) {
            if j != e.id() {
                deps.push(j);
            }
        }
    }
    deps
}

/// Computes the void entries of a set of entries (given in any order; the
/// result depends only on the set). Entries missing from the set that are
/// referenced are simply not followed.
pub fn void_entries<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> VoidSet {
    let entries: Vec<&Entry> = entries.into_iter().collect();
    let mut intro: HashMap<KeyId, EntryId> = HashMap::new();
    let mut enders: BTreeMap<KeyId, BTreeSet<EntryId>> = BTreeMap::new();
    for e in &entries {
        if let Some(k) = Registry::introduces_key(e) {
            // A valid set introduces each key once; with several, the least
            // id is used so the result still depends on the set only.
            let id = e.id();
            intro.entry(k).and_modify(|j| *j = (*j).min(id)).or_insert(id);
        }
        if let Some(k) = Registry::ends_key(e) {
            enders.entry(k).or_default().insert(e.id());
        }
    }
    if enders.is_empty() {
        return VoidSet::new();
    }
    let nodes: HashMap<EntryId, Node> =
        entries.iter().map(|e| (e.id(), Node { author: e.author_key(), deps: deps_of(e, &intro) })).collect();
    let mut authored: BTreeMap<KeyId, Vec<EntryId>> = BTreeMap::new();
    for (id, n) in &nodes {
        if enders.contains_key(&n.author) {
            authored.entry(n.author).or_default().push(*id);
        }
    }
    let mut void = VoidSet::new();
    for (key, ends) in &enders {
        let Some(mine) = authored.get(key) else { continue };
        for r in ends {
            let past = causal_past(*r, &nodes);
            for e in mine {
                if *e != *r && !past.contains(e) && !void.contains_key(e) {
                    void.insert(*e, VoidEntry { id: *e, key: *key, ending: *r, introduced_by_void: None });
                }
            }
        }
    }
    // Propagate through introductions: an entry signed with a key whose
    // introducing entry is void is void. Key chains are short; iterate to
    // the (unique, least) fixed point in id order.
    loop {
        let mut added = Vec::new();
        let mut ids: Vec<&EntryId> = nodes.keys().collect();
        ids.sort_unstable();
        for id in ids {
            if void.contains_key(id) {
                continue;
            }
            let n = &nodes[id];
            let Some(intro_id) = intro.get(&n.author) else { continue };
            if intro_id == id {
                continue;
            }
            if let Some(v) = void.get(intro_id) {
                added.push(VoidEntry { id: *id, key: n.author, ending: v.ending, introduced_by_void: Some(*intro_id) });
            }
        }
        if added.is_empty() {
            break;
        }
        for v in added {
            void.insert(v.id, v);
        }
    }
    void
}

/// The causal past of `from` (not including it): every entry reachable by
/// dependency edges.
fn causal_past(from: EntryId, nodes: &HashMap<EntryId, Node>) -> BTreeSet<EntryId> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(id) = stack.pop() {
        let Some(n) = nodes.get(&id) else { continue };
        for d in &n.deps {
            if seen.insert(*d) {
                stack.push(*d);
            }
        }
    }
    seen
}

/// The references an ending entry of `key` should carry so that every entry
/// authored with `key` in `entries` is in its causal past: those entries
/// that are not already in the causal past of another one of them, in
/// ascending id order.
pub fn ending_refs<'a>(entries: impl IntoIterator<Item = &'a Entry>, key: &KeyId) -> Vec<EntryId> {
    let entries: Vec<&Entry> = entries.into_iter().collect();
    let mut intro: HashMap<KeyId, EntryId> = HashMap::new();
    for e in &entries {
        if let Some(k) = Registry::introduces_key(e) {
            let id = e.id();
            intro.entry(k).and_modify(|j| *j = (*j).min(id)).or_insert(id);
        }
    }
    let nodes: HashMap<EntryId, Node> =
        entries.iter().map(|e| (e.id(), Node { author: e.author_key(), deps: deps_of(e, &intro) })).collect();
    let mine: BTreeSet<EntryId> = nodes.iter().filter(|(_, n)| n.author == *key).map(|(id, _)| *id).collect();
    // Everything reachable from any of them (excluding each start itself).
    let mut covered = BTreeSet::new();
    let mut stack: Vec<EntryId> = mine.iter().flat_map(|id| nodes[id].deps.iter().copied()).collect();
    while let Some(id) = stack.pop() {
        if !covered.insert(id) {
            continue;
        }
        if let Some(n) = nodes.get(&id) {
            stack.extend(n.deps.iter().copied());
        }
    }
    // The introduction of `key` is in every ending entry's past by definition.
    let implicit = intro.get(key).copied();
    mine.into_iter().filter(|id| !covered.contains(id) && Some(*id) != implicit).collect()
}
