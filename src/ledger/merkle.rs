//! Merkle tree over ledger entries: RFC 6962 / RFC 9162 shape, hashed with BLAKE3.
//!
//! `docs/FORMAT-merkle.md` is the normative description; this module is one
//! implementation of it. In short:
//!
//! * `HASH` is BLAKE3 with a 32-byte output;
//! * a leaf hash is `HASH(0x00 || data)`, an interior node `HASH(0x01 || left || right)`,
//!   and the root of the empty tree is `HASH()` (BLAKE3 of zero bytes);
//! * a tree of `n > 1` leaves is split at `k`, the largest power of two
//!   smaller than `n` (RFC 6962 section 2.1), so the tree shape depends only
//!   on `n`;
//! * inclusion and consistency proofs are generated with the `PATH` and
//!   `SUBPROOF` algorithms of RFC 9162 sections 2.1.3.1 and 2.1.4.1, and
//!   verified with the algorithms of sections 2.1.3.2 and 2.1.4.2.
//!
//! Appending uses [`CompactTree`], which keeps only the roots of the perfect
//! subtrees on the right edge of the tree (at most 64 hashes), so the root
//! after each append costs `O(log n)` hashes. Proof generation needs all leaf
//! hashes and costs `O(n)` hashes per proof (every sibling subtree root is
//! recomputed from its leaves); at a million leaves that is about a million
//! BLAKE3 compressions, a fraction of a second.
//!
//! Verification functions take arbitrary (untrusted) input and never panic:
//! every failure is a [`MerkleError`].

use data_encoding::HEXLOWER;

/// A 32-byte BLAKE3 digest: a leaf hash, an interior node hash or a root.
pub type Hash = [u8; 32];

/// Length of a [`Hash`](type@Hash) in bytes.
pub const HASH_LEN: usize = 32;

/// Domain-separation prefix of a leaf hash (RFC 6962 section 2.1).
pub const LEAF_PREFIX: u8 = 0x00;

/// Domain-separation prefix of an interior node hash (RFC 6962 section 2.1).
pub const NODE_PREFIX: u8 = 0x01;

/// Largest number of hashes [`proof_from_bytes`] accepts. A proof in a tree
/// of at most 2^64 - 1 leaves has at most 64 (inclusion) or 128
/// (consistency) hashes.
pub const MAX_PROOF_HASHES: usize = 128;

/// Version byte that starts a serialized [`CompactTree`].
pub const COMPACT_TREE_VERSION: u8 = 1;

/// Why a proof could not be generated or did not verify.
///
/// Messages say what is wrong and, where possible, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of {size} leaves; ask for a proof against a tree head that contains the entry")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A proof was requested for more leaves than were supplied.
    #[error(
        "tree size {size} is larger than the {available} leaf hashes supplied; load all leaf hashes up to that size"
    )]
    SizeExceedsLeaves {
        /// The requested tree size.
        size: u64,
        /// How many leaf hashes were supplied.
        available: u64,
    },
    /// A consistency proof was asked for a tree that shrank.
    #[error("old tree size {old} is larger than new tree size {new}; an append-only log never shrinks, so swap the arguments or treat this as evidence of a rewritten log")]
    OldSizeGreater {
        /// The claimed older size.
        old: u64,
        /// The claimed newer size.
        new: u64,
    },
    /// The proof has a different number of hashes than the sizes require.
    #[error("{kind} proof has {got} hashes but index/sizes require exactly {expected}; the proof belongs to another index or tree size")]
    WrongProofLength {
        /// `"inclusion"` or `"consistency"`.
        kind: &'static str,
        /// Number of hashes required.
        expected: usize,
        /// Number of hashes supplied.
        got: usize,
    },
    /// The inclusion proof leads to a different root than expected.
    #[error("inclusion proof leads to root {computed}, not the expected root {expected}: the entry is not at that index in that tree, or the proof, index, size or root is wrong")]
    RootMismatch {
        /// Hex prefix of the computed root.
        computed: String,
        /// Hex prefix of the expected root.
        expected: String,
    },
    /// The consistency proof does not reproduce the old root.
    #[error("consistency proof does not reproduce the old root {expected} (got {computed}): the old tree head is not a prefix of the new tree, or the proof or sizes are wrong")]
    OldRootMismatch {
        /// Hex prefix of the root the proof reproduces.
        computed: String,
        /// Hex prefix of the supplied old root.
        expected: String,
    },
    /// The consistency proof does not reproduce the new root.
    #[error("consistency proof does not reproduce the new root {expected} (got {computed}): the new tree does not extend the old one, or the proof or sizes are wrong")]
    NewRootMismatch {
        /// Hex prefix of the root the proof reproduces.
        computed: String,
        /// Hex prefix of the supplied new root.
        expected: String,
    },
    /// Serialized proof bytes are not a whole number of hashes, or too many.
    #[error("proof is {len} bytes; a proof is a concatenation of at most {MAX_PROOF_HASHES} 32-byte hashes")]
    MalformedProof {
        /// Length of the supplied bytes.
        len: usize,
    },
    /// Serialized compact tree bytes do not have the documented layout.
    #[error("compact tree state is malformed: {reason}; restore it from the ledger's leaf hashes with CompactTree::from_leaves")]
    MalformedCompactTree {
        /// What is wrong with the bytes.
        reason: String,
    },
}

/// Hex of the first 8 bytes of a hash, for error messages.
fn short_hex(hash: &Hash) -> String {
    format!("{}..", HEXLOWER.encode(&hash[..8]))
}

/// Root of the empty tree: `HASH()`, BLAKE3 of the empty string.
pub fn empty_root() -> Hash {
    *blake3::hash(b"").as_bytes()
}

/// Hash of a leaf: `HASH(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&[LEAF_PREFIX]);
    hasher.update(data);
    *hasher.finalize().as_bytes()
}

/// Hash of an interior node: `HASH(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_LEN];
    buf[0] = NODE_PREFIX;
    buf[1..1 + HASH_LEN].copy_from_slice(left);
    buf[1 + HASH_LEN..].copy_from_slice(right);
    *blake3::hash(&buf).as_bytes()
}

/// Largest power of two strictly smaller than `n`, for `n >= 2`.
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Merkle tree hash (RFC 6962 `MTH`) of `leaves`, which are leaf hashes.
///
/// Costs `len - 1` node hashes and `O(log len)` stack.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// Merkle tree hash of the leaves `start..end` (a subtree when the range is
/// aligned, as in every proof; any range is accepted).
pub fn range_root(leaves: &[Hash], start: u64, end: u64) -> Result<Hash, MerkleError> {
    let tree = prefix(leaves, end)?;
    if start > end {
        return Err(MerkleError::IndexOutOfRange { index: start, size: end });
    }
    // start <= end <= leaves.len(), so it fits in usize.
    Ok(root_of(&tree[start as usize..]))
}

/// The first `size` leaves, or an error if fewer were supplied.
fn prefix(leaves: &[Hash], size: u64) -> Result<&[Hash], MerkleError> {
    let available = leaves.len() as u64;
    if size > available {
        return Err(MerkleError::SizeExceedsLeaves { size, available });
    }
    // size <= leaves.len(), so it fits in usize.
    Ok(&leaves[..size as usize])
}

/// Inclusion proof (RFC 9162 section 2.1.3.1, `PATH(m, D[n])`) for the leaf
/// at `index` in the tree made of the first `size` of `leaves`.
///
/// Costs `O(size)` hashes: sibling subtree roots are recomputed from leaves.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
    let tree = prefix(leaves, size)?;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(inclusion_proof_len(index, size));
    path(index as usize, tree, &mut proof);
    debug_assert_eq!(proof.len(), inclusion_proof_len(index, size));
    Ok(proof)
}

/// `PATH(m, D)`: deepest sibling first, the top-level sibling last.
fn path(m: usize, tree: &[Hash], out: &mut Vec<Hash>) {
    debug_assert!(m < tree.len());
    if tree.len() == 1 {
        return;
    }
    let k = split_point(tree.len());
    if m < k {
        path(m, &tree[..k], out);
        out.push(root_of(&tree[k..]));
    } else {
        path(m - k, &tree[k..], out);
        out.push(root_of(&tree[..k]));
    }
}

/// Consistency proof (RFC 9162 section 2.1.4.1, `PROOF(m, D[n])`) that the
/// tree of the first `old_size` leaves is a prefix of the tree of the first
/// `new_size` leaves.
///
/// The proof is empty when `old_size` is 0 or equals `new_size` (RFC 9162
/// only defines `0 < m < n`; see [`verify_consistency`] for how those cases
/// are checked). Costs `O(new_size)` hashes.
pub fn consistency_proof(leaves: &[Hash], old_size: u64, new_size: u64) -> Result<Vec<Hash>, MerkleError> {
    let tree = prefix(leaves, new_size)?;
    if old_size > new_size {
        return Err(MerkleError::OldSizeGreater { old: old_size, new: new_size });
    }
    let mut proof = Vec::with_capacity(consistency_proof_len(old_size, new_size));
    if old_size > 0 && old_size < new_size {
        subproof(old_size as usize, tree, true, &mut proof);
    }
    debug_assert_eq!(proof.len(), consistency_proof_len(old_size, new_size));
    Ok(proof)
}

/// [`consistency_proof`] from the compact tree at the old size (`old`, its
/// frontier gives every proof node left of the old size) and the leaf
/// hashes after it (`tail`, exactly `new_size - old.size()` of them): the
/// same proof, in `O(new_size - old.size())` hashes instead of
/// `O(new_size)`. The frontier is not checked here: callers that hold it
/// as derived data verify the proof against the roots before using it.
pub fn consistency_proof_from(old: &CompactTree, tail: &[Hash], new_size: u64) -> Result<Vec<Hash>, MerkleError> {
    let m = old.size();
    if m > new_size {
        return Err(MerkleError::OldSizeGreater { old: m, new: new_size });
    }
    if tail.len() as u64 != new_size - m {
        return Err(MerkleError::SizeExceedsLeaves { size: new_size, available: m + tail.len() as u64 });
    }
    let mut proof = Vec::with_capacity(consistency_proof_len(m, new_size));
    if m > 0 && m < new_size {
        // The frontier's subtrees, largest (leftmost) first, as leaf ranges.
        let mut ranges = Vec::with_capacity(old.frontier().len());
        let mut start = 0u64;
        for bit in (0..u64::BITS).rev() {
            if m & (1u64 << bit) != 0 {
                ranges.push((start, start + (1u64 << bit)));
                start += 1u64 << bit;
            }
        }
        debug_assert_eq!(ranges.len(), old.frontier().len(), "one frontier hash per set bit");
        let node = |s: u64, e: u64| -> Result<Hash, MerkleError> {
            if e <= m {
                ranges.iter().position(|&r| r == (s, e)).and_then(|i| old.frontier().get(i).copied()).ok_or_else(|| {
                    MerkleError::MalformedCompactTree { reason: format!("no frontier subtree covers leaves {s}..{e}") }
                })
            } else if s >= m {
                Ok(root_of(&tail[(s - m) as usize..(e - m) as usize]))
            } else {
                Err(MerkleError::MalformedCompactTree { reason: format!("leaves {s}..{e} straddle the old size {m}") })
            }
        };
        subproof_ranges(m, 0, new_size, true, &node, &mut proof)?;
    }
    debug_assert_eq!(proof.len(), consistency_proof_len(m, new_size));
    Ok(proof)
}

/// `SUBPROOF(m, D[start..start+n], b)` over absolute leaf ranges, with the
/// subtree roots given by `node`.
fn subproof_ranges(
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    node: &dyn Fn(u64, u64) -> Result<Hash, MerkleError>,
    out: &mut Vec<Hash>,
) -> Result<(), MerkleError> {
    debug_assert!(m >= 1 && m <= n);
    if m == n {
        if !complete {
            out.push(node(start, start + n)?);
        }
        return Ok(());
    }
    let k = 1u64 << (u64::BITS - 1 - (n - 1).leading_zeros());
    if m <= k {
        subproof_ranges(m, start, k, complete, node, out)?;
        out.push(node(start + k, start + n)?);
    } else {
        subproof_ranges(m - k, start + k, n - k, false, node, out)?;
        out.push(node(start, start + k)?);
    }
    Ok(())
}

/// `SUBPROOF(m, D, b)` of RFC 9162 section 2.1.4.1.
fn subproof(m: usize, tree: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    debug_assert!(m >= 1 && m <= tree.len());
    if m == tree.len() {
        if !complete {
            out.push(root_of(tree));
        }
        return;
    }
    let k = split_point(tree.len());
    if m <= k {
        subproof(m, &tree[..k], complete, out);
        out.push(root_of(&tree[k..]));
    } else {
        subproof(m - k, &tree[k..], false, out);
        out.push(root_of(&tree[..k]));
    }
}

/// Number of bits needed to write `x` (0 for 0).
fn bit_len(x: u64) -> usize {
    (u64::BITS - x.leading_zeros()) as usize
}

/// `x >> bits`, 0 when `bits >= 64` (where `>>` would overflow).
fn shift_right(x: u64, bits: usize) -> u64 {
    u32::try_from(bits).ok().and_then(|bits| x.checked_shr(bits)).unwrap_or(0)
}

/// Number of hashes in the inclusion proof for `index < size`: the levels
/// where the path to the root of the full part of the tree branches
/// (`inner`), plus one per perfect subtree to the left on the right border.
pub fn inclusion_proof_len(index: u64, size: u64) -> usize {
    if index >= size {
        return 0;
    }
    let inner = bit_len(index ^ (size - 1));
    let border = shift_right(index, inner).count_ones() as usize;
    inner + border
}

/// Number of hashes in the consistency proof from `old_size` to `new_size`
/// (0 when `old_size` is 0, equals `new_size`, or exceeds it).
pub fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size >= new_size {
        return 0;
    }
    let last = old_size - 1;
    let inner = bit_len(last ^ (new_size - 1));
    let border = shift_right(last, inner).count_ones() as usize;
    let shared = old_size.trailing_zeros() as usize;
    let seed = usize::from(!old_size.is_power_of_two());
    seed + inner - shared + border
}

/// Verifies an inclusion proof exactly as RFC 9162 section 2.1.3.2: the leaf
/// with hash `leaf` is at `leaf_index` in the tree of `tree_size` leaves
/// whose root is `root`.
///
/// The proof length is checked first (it is fully determined by index and
/// size) so that a wrong length gets its own error.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if leaf_index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index: leaf_index, size: tree_size });
    }
    let expected = inclusion_proof_len(leaf_index, tree_size);
    let wrong_length = MerkleError::WrongProofLength { kind: "inclusion", expected, got: proof.len() };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    let mut f = leaf_index;
    let mut s = tree_size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(MerkleError::RootMismatch { computed: short_hex(&r), expected: short_hex(root) });
    }
    Ok(())
}

/// Verifies a consistency proof: the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root`.
///
/// For `0 < old_size < new_size` this is exactly RFC 9162 section 2.1.4.2.
/// The cases RFC 9162 leaves out are decided as follows: `old_size >
/// new_size` is an error; `old_size == new_size` requires an empty proof and
/// equal roots; `old_size == 0` requires an empty proof and `old_root ==
/// empty_root()` (every tree extends the empty tree).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::OldSizeGreater { old: old_size, new: new_size });
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength { kind: "consistency", expected, got: proof.len() });
    }
    if old_size == 0 {
        return check_root(old_root, &empty_root(), true);
    }
    if old_size == new_size {
        return check_root(new_root, old_root, false);
    }
    let (fr, sr) = consistency_roots(old_size, new_size, old_root, proof)?;
    check_root(&fr, old_root, true)?;
    check_root(&sr, new_root, false)
}

/// Compares a root reproduced by a consistency proof with the supplied one.
fn check_root(computed: &Hash, expected: &Hash, old: bool) -> Result<(), MerkleError> {
    if computed == expected {
        return Ok(());
    }
    let (computed, expected) = (short_hex(computed), short_hex(expected));
    Err(if old {
        MerkleError::OldRootMismatch { computed, expected }
    } else {
        MerkleError::NewRootMismatch { computed, expected }
    })
}

/// Steps 2-7 of RFC 9162 section 2.1.4.2, for `0 < first < second` and a
/// proof of the right length: returns `(fr, sr)`.
fn consistency_roots(first: u64, second: u64, first_hash: &Hash, proof: &[Hash]) -> Result<(Hash, Hash), MerkleError> {
    debug_assert!(0 < first && first < second);
    let wrong_length = MerkleError::WrongProofLength {
        kind: "consistency",
        expected: consistency_proof_len(first, second),
        got: proof.len(),
    };
    let seed = first.is_power_of_two().then_some(first_hash);
    let mut path = seed.into_iter().chain(proof.iter());
    let mut f = first - 1;
    let mut s = second - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let Some(start) = path.next() else {
        return Err(wrong_length);
    };
    let (mut fr, mut sr) = (*start, *start);
    for c in path {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_length);
    }
    Ok((fr, sr))
}

/// Serializes a proof as the concatenation of its hashes.
pub fn proof_to_bytes(proof: &[Hash]) -> Vec<u8> {
    proof.concat()
}

/// Parses a proof serialized by [`proof_to_bytes`]: a multiple of 32 bytes,
/// at most [`MAX_PROOF_HASHES`] hashes.
pub fn proof_from_bytes(bytes: &[u8]) -> Result<Vec<Hash>, MerkleError> {
    let malformed = MerkleError::MalformedProof { len: bytes.len() };
    if !bytes.len().is_multiple_of(HASH_LEN) || bytes.len() / HASH_LEN > MAX_PROOF_HASHES {
        return Err(malformed);
    }
    bytes.chunks_exact(HASH_LEN).map(|chunk| Hash::try_from(chunk).map_err(|_| malformed.clone())).collect()
}

/// An append-only Merkle tree that keeps only its right edge.
///
/// For a tree of `size` leaves it stores one hash per set bit of `size`: the
/// roots of the perfect subtrees that make up the tree, largest (leftmost)
/// first. This is the "compact range" `[0, size)`. Appending merges equal-size
/// subtrees like binary carry propagation; the root folds the frontier from
/// the right. Both cost `O(log size)` hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactTree {
    size: u64,
    frontier: Vec<Hash>,
}

impl CompactTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the compact tree of `leaves` (leaf hashes) in `O(len)` hashes.
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        tree
    }

    /// Rebuilds a tree from its size and frontier (largest subtree first).
    /// The frontier must have exactly one hash per set bit of `size`.
    pub fn from_parts(size: u64, frontier: Vec<Hash>) -> Result<Self, MerkleError> {
        let expected = size.count_ones() as usize;
        if frontier.len() != expected {
            return Err(MerkleError::MalformedCompactTree {
                reason: format!("size {size} needs {expected} frontier hashes, found {}", frontier.len()),
            });
        }
        Ok(Self { size, frontier })
    }

    /// Appends a leaf hash (see [`leaf_hash`]) and returns its index.
    ///
    /// # Panics
    /// If the tree already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        assert!(self.size < u64::MAX, "Merkle tree is full");
        let index = self.size;
        let mut carry = leaf;
        let mut bits = self.size;
        while bits & 1 == 1 {
            // Invariant: one frontier hash per set bit, so this never fails.
            let Some(left) = self.frontier.pop() else {
                debug_assert!(false, "frontier shorter than popcount(size)");
                break;
            };
            carry = node_hash(&left, &carry);
            bits >>= 1;
        }
        self.frontier.push(carry);
        self.size += 1;
        debug_assert_eq!(self.frontier.len(), self.size.count_ones() as usize);
        index
    }

    /// Hashes `data` as a leaf, appends it and returns its index.
    pub fn push_data(&mut self, data: &[u8]) -> u64 {
        self.push(leaf_hash(data))
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Roots of the perfect subtrees on the right edge, largest first.
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// The Merkle tree hash of all leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut rest = self.frontier.iter().rev();
        let Some(last) = rest.next() else {
            return empty_root();
        };
        rest.fold(*last, |right, left| node_hash(left, &right))
    }

    /// Serializes the state: `version (1 byte) || size (u64 big-endian) ||
    /// frontier hashes`, `9 + 32 * popcount(size)` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + HASH_LEN * self.frontier.len());
        out.push(COMPACT_TREE_VERSION);
        out.extend_from_slice(&self.size.to_be_bytes());
        for hash in &self.frontier {
            out.extend_from_slice(hash);
        }
        out
    }

    /// Parses bytes written by [`CompactTree::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MerkleError> {
        let malformed = |reason: String| MerkleError::MalformedCompactTree { reason };
        let Some((&version, rest)) = bytes.split_first() else {
            return Err(malformed("no bytes".into()));
        };
        if version != COMPACT_TREE_VERSION {
            return Err(malformed(format!(
                "version byte is {version}, this software reads version {COMPACT_TREE_VERSION}"
            )));
        }
        let Some((size_bytes, hashes)) = rest.split_first_chunk::<8>() else {
            return Err(malformed(format!("{} bytes, too short", bytes.len())));
        };
        let size = u64::from_be_bytes(*size_bytes);
        let expected = HASH_LEN * size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(malformed(format!(
                "size {size} needs {expected} bytes of frontier hashes, found {}",
                hashes.len()
            )));
        }
        let frontier = hashes
            .chunks_exact(HASH_LEN)
            .map(|chunk| Hash::try_from(chunk).map_err(|e| malformed(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_parts(size, frontier)
    }
}

/// Every complete level of the tree over a list of leaves, kept in memory so
/// that proofs are cheap after one `O(n)` build: any aligned perfect subtree
/// root is a lookup, and a proof costs `O(log² n)` hashes instead of the
/// `O(n)` of [`inclusion_proof`] and [`consistency_proof`] (which recompute
/// subtree roots from the leaves). It gives exactly the same proofs; use it
/// when many proofs are made from one set of leaves. Memory: about twice the
/// leaf hashes (64 MB at a million leaves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofTree {
    /// `levels[j][i]` is the root of leaves `i * 2^j .. (i + 1) * 2^j`.
    levels: Vec<Vec<Hash>>,
}

impl ProofTree {
    /// Builds the levels over `leaves` (leaf hashes): `n - 1` node hashes.
    pub fn new(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while let Some(last) = levels.last().filter(|l| l.len() >= 2) {
            let next: Vec<Hash> = last.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
            levels.push(next);
        }
        Self { levels }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// True if there are no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// `MTH` of leaves `start..end` where `start` is a multiple of the
    /// largest power of two not above `end - start`, as in every proof.
    fn range(&self, start: usize, end: usize) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][start >> level];
        }
        let k = split_point(n);
        node_hash(&self.range(start, start + k), &self.range(start + k, end))
    }

    /// Root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, MerkleError> {
        let available = self.len();
        if size > available {
            return Err(MerkleError::SizeExceedsLeaves { size, available });
        }
        Ok(self.range(0, size as usize))
    }

    /// The same proof as [`inclusion_proof`] over these leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
        self.root(size)?;
        if index >= size {
            return Err(MerkleError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::with_capacity(inclusion_proof_len(index, size));
        self.path(index as usize, 0, size as usize, &mut out);
        Ok(out)
    }

    fn path(&self, m: usize, start: usize, end: usize, out: &mut Vec<Hash>) {
        if end - start == 1 {
            return;
        }
        let k = split_point(end - start);
        if m < start + k {
            self.path(m, start, start + k, out);
            out.push(self.range(start + k, end));
        } else {
            self.path(m, start + k, end, out);
            out.push(self.range(start, start + k));
        }
    }

    /// The same proof as [`consistency_proof`] over these leaves.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, MerkleError> {
        self.root(new_size)?;
        if old_size > new_size {
            return Err(MerkleError::OldSizeGreater { old: old_size, new: new_size });
        }
        let mut out = Vec::with_capacity(consistency_proof_len(old_size, new_size));
        if old_size > 0 && old_size < new_size {
            self.subproof(old_size as usize, 0, new_size as usize, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: usize, start: usize, end: usize, complete: bool, out: &mut Vec<Hash>) {
        if m == end - start {
            if !complete {
                out.push(self.range(start, end));
            }
            return;
        }
        let k = split_point(end - start);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.range(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.range(start, start + k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference `MTH` straight from RFC 6962 section 2.1, on leaf data.
    fn reference_root(data: &[Vec<u8>]) -> Hash {
        match data.len() {
            0 => *blake3::hash(&[]).as_bytes(),
            1 => {
                let mut input = vec![0u8];
                input.extend_from_slice(&data[0]);
                *blake3::hash(&input).as_bytes()
            }
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                let mut input = vec![1u8];
                input.extend_from_slice(&reference_root(&data[..k]));
                input.extend_from_slice(&reference_root(&data[k..]));
                *blake3::hash(&input).as_bytes()
            }
        }
    }

    fn data(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    fn leaves(n: usize) -> Vec<Hash> {
        data(n).iter().map(|d| leaf_hash(d)).collect()
    }

    /// The hashing steps RFC 9162 2.1.3.2 takes for (index, size): `true`
    /// where the proof hash goes on the left.
    fn inclusion_shape(index: u64, size: u64) -> Option<Vec<bool>> {
        if index >= size {
            return None;
        }
        let (mut f, mut s) = (index, size - 1);
        let mut steps = vec![];
        while s != 0 {
            let left = f & 1 == 1 || f == s;
            steps.push(left);
            while left && f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
            f >>= 1;
            s >>= 1;
        }
        Some(steps)
    }

    /// The hashing steps RFC 9162 2.1.4.2 takes for (first, second): whether
    /// `first_hash` seeds the path, then `true` where both roots are updated.
    fn consistency_shape(first: u64, second: u64) -> (bool, Vec<bool>) {
        if first == 0 || first >= second {
            return (false, vec![]);
        }
        let (mut f, mut s) = (first - 1, second - 1);
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        let mut steps = vec![];
        while s != 0 {
            let both = f & 1 == 1 || f == s;
            steps.push(both);
            while both && f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
            f >>= 1;
            s >>= 1;
        }
        (first.is_power_of_two(), steps)
    }

    #[test]
    fn consistency_proof_from_the_old_frontier_is_the_proof_from_every_leaf() {
        let all = leaves(70);
        for new in 1..=70u64 {
            for old in 0..=new {
                let at_old = CompactTree::from_leaves(&all[..old as usize]);
                let fast = consistency_proof_from(&at_old, &all[old as usize..new as usize], new).unwrap();
                assert_eq!(fast, consistency_proof(&all, old, new).unwrap(), "old {old} new {new}");
            }
        }
        // A frontier that is not the old tree's gives a proof that does not verify.
        let mut bad = CompactTree::from_leaves(&all[..37]);
        let mut frontier = bad.frontier().to_vec();
        flip(&mut frontier[0], 3);
        bad = CompactTree::from_parts(37, frontier).unwrap();
        let proof = consistency_proof_from(&bad, &all[37..60], 60).unwrap();
        let new_root = root_of(&all[..60]);
        assert!(verify_consistency(37, 60, &bad.root(), &new_root, &proof).is_err());
    }

    fn flip(hash: &mut Hash, bit: usize) {
        hash[bit / 8] ^= 1 << (bit % 8);
    }

    #[test]
    fn roots_match_reference_and_compact_tree() {
        let d = data(300);
        let l = leaves(300);
        let mut compact = CompactTree::new();
        assert_eq!(compact.root(), reference_root(&[]));
        for n in 1..=300 {
            assert_eq!(compact.push(l[n - 1]), n as u64 - 1);
            let reference = reference_root(&d[..n]);
            assert_eq!(root_of(&l[..n]), reference, "size {n}");
            assert_eq!(compact.root(), reference, "size {n}");
            assert_eq!(CompactTree::from_leaves(&l[..n]), compact);
            let restored = CompactTree::from_bytes(&compact.to_bytes()).unwrap();
            assert_eq!(restored, compact);
        }
    }

    #[test]
    fn inclusion_every_index_of_every_size_up_to_300() {
        let d = data(300);
        let l = leaves(300);
        for n in 1..=300u64 {
            let root = reference_root(&d[..n as usize]);
            for i in 0..n {
                let proof = inclusion_proof(&l, i, n).unwrap();
                assert_eq!(proof.len(), inclusion_proof_len(i, n));
                verify_inclusion(i, n, &l[i as usize], &proof, &root).unwrap();
                // Another index or size with the same proof fails.
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(verify_inclusion(other, n, &l[i as usize], &proof, &root).is_err());
                }
                // Another size fails unless the hashing steps are identical
                // (e.g. index 0 in sizes 3 and 4): the root binds the size.
                for other_size in [n - 1, n + 1] {
                    let ok = verify_inclusion(i, other_size, &l[i as usize], &proof, &root).is_ok();
                    assert_eq!(ok, inclusion_shape(i, other_size) == inclusion_shape(i, n));
                }
                // One flipped bit per proof hash (every bit is covered below).
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    flip(&mut bad[j], (i as usize * 7 + j * 13) % 256);
                    assert!(verify_inclusion(i, n, &l[i as usize], &bad, &root).is_err());
                }
            }
        }
    }

    #[test]
    fn inclusion_every_bit_flip_fails() {
        let l = leaves(33);
        for n in 1..=33u64 {
            let root = root_of(&l[..n as usize]);
            for i in 0..n {
                let proof = inclusion_proof(&l, i, n).unwrap();
                for j in 0..proof.len() {
                    for bit in 0..256 {
                        let mut bad = proof.clone();
                        flip(&mut bad[j], bit);
                        let err = verify_inclusion(i, n, &l[i as usize], &bad, &root);
                        assert!(matches!(err, Err(MerkleError::RootMismatch { .. })));
                    }
                }
                let mut leaf = l[i as usize];
                flip(&mut leaf, 0);
                assert!(verify_inclusion(i, n, &leaf, &proof, &root).is_err());
                let mut bad_root = root;
                flip(&mut bad_root, 255);
                assert!(verify_inclusion(i, n, &l[i as usize], &proof, &bad_root).is_err());
            }
        }
    }

    #[test]
    fn consistency_every_pair_up_to_100() {
        let d = data(100);
        let l = leaves(100);
        let roots: Vec<Hash> = (0..=100).map(|n| reference_root(&d[..n])).collect();
        for n in 1..=100u64 {
            for m in 0..=n {
                let proof = consistency_proof(&l, m, n).unwrap();
                assert_eq!(proof.len(), consistency_proof_len(m, n), "{m}->{n}");
                let (old, new) = (&roots[m as usize], &roots[n as usize]);
                verify_consistency(m, n, old, new, &proof).unwrap();
                if m > 0 && m < n {
                    assert!(verify_consistency(m, n, new, old, &proof).is_err());
                    assert!(verify_consistency(m + 1, n, old, new, &proof).is_err());
                    assert!(verify_consistency(m - 1, n, old, new, &proof).is_err());
                    for other_new in [n - 1, n + 1] {
                        let ok = verify_consistency(m, other_new, old, new, &proof).is_ok();
                        let same = consistency_shape(m, other_new) == consistency_shape(m, n);
                        assert_eq!(ok, same, "{m}->{n} as {m}->{other_new}");
                    }
                }
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    flip(&mut bad[j], (m as usize * 5 + j * 11) % 256);
                    assert!(verify_consistency(m, n, old, new, &bad).is_err(), "{m}->{n}");
                }
            }
        }
    }

    #[test]
    fn consistency_every_bit_flip_fails() {
        let l = leaves(20);
        for n in 2..=20u64 {
            for m in 1..n {
                let (old, new) = (root_of(&l[..m as usize]), root_of(&l[..n as usize]));
                let proof = consistency_proof(&l, m, n).unwrap();
                for j in 0..proof.len() {
                    for bit in 0..256 {
                        let mut bad = proof.clone();
                        flip(&mut bad[j], bit);
                        assert!(verify_consistency(m, n, &old, &new, &bad).is_err());
                    }
                }
            }
        }
    }

    #[test]
    fn proof_tree_gives_the_same_proofs() {
        let l = leaves(130);
        let tree = ProofTree::new(l.clone());
        assert_eq!(tree.len(), 130);
        for n in 0..=130u64 {
            assert_eq!(tree.root(n), Ok(root_of(&l[..n as usize])));
            for i in 0..n {
                assert_eq!(tree.inclusion_proof(i, n), inclusion_proof(&l, i, n), "{i} in {n}");
            }
            for m in 0..=n.min(80) {
                assert_eq!(tree.consistency_proof(m, n), consistency_proof(&l, m, n), "{m}->{n}");
            }
        }
        assert!(tree.inclusion_proof(0, 131).is_err());
        assert!(tree.inclusion_proof(5, 5).is_err());
        assert!(tree.consistency_proof(6, 5).is_err());
        assert!(ProofTree::new(vec![]).is_empty());
    }

    #[test]
    fn edge_cases_are_errors_not_panics() {
        let l = leaves(8);
        let root = root_of(&l);
        assert_eq!(
            verify_inclusion(0, 0, &l[0], &[], &empty_root()),
            Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert!(matches!(
            verify_inclusion(u64::MAX, u64::MAX, &l[0], &[], &root),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            verify_inclusion(u64::MAX - 1, u64::MAX, &l[0], &[root; 64], &root),
            Err(MerkleError::WrongProofLength { .. }) | Err(MerkleError::RootMismatch { .. })
        ));
        assert!(matches!(inclusion_proof(&l, 0, 9), Err(MerkleError::SizeExceedsLeaves { size: 9, available: 8 })));
        assert!(matches!(inclusion_proof(&l, 8, 8), Err(MerkleError::IndexOutOfRange { .. })));
        assert!(matches!(consistency_proof(&l, 5, 4), Err(MerkleError::OldSizeGreater { old: 5, new: 4 })));
        assert!(matches!(verify_consistency(5, 4, &root, &root, &[]), Err(MerkleError::OldSizeGreater { .. })));
        assert!(matches!(
            verify_consistency(3, 8, &root, &root, &[]),
            Err(MerkleError::WrongProofLength { expected: 4, got: 0, .. })
        ));
        // Empty old tree: only the empty root is consistent with everything.
        assert_eq!(verify_consistency(0, 8, &empty_root(), &root, &[]), Ok(()));
        assert!(verify_consistency(0, 8, &root, &root, &[]).is_err());
        assert!(verify_consistency(0, 0, &empty_root(), &root, &[root]).is_err());
        // Equal sizes: equal roots, empty proof.
        assert_eq!(verify_consistency(8, 8, &root, &root, &[]), Ok(()));
        assert!(verify_consistency(8, 8, &root, &l[0], &[]).is_err());
        assert!(verify_consistency(8, 8, &root, &root, &[root]).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &root, &root, &[root; 3]).is_err());
        // Regression: `index >> 64` overflowed (and wrapped in release).
        assert_eq!(inclusion_proof_len(1, (1 << 63) + 1), 64);
        assert_eq!(consistency_proof_len(1, (1 << 63) + 1), 64);
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), 63);
        assert_eq!(range_root(&l, 4, 8), Ok(root_of(&l[4..])));
        assert!(range_root(&l, 9, 8).is_err());
        assert!(range_root(&l, 0, 9).is_err());
    }

    #[test]
    fn proof_bytes_round_trip_and_reject_bad_lengths() {
        let l = leaves(21);
        let proof = inclusion_proof(&l, 13, 21).unwrap();
        assert_eq!(proof_from_bytes(&proof_to_bytes(&proof)), Ok(proof));
        assert!(proof_from_bytes(&[0u8; 33]).is_err());
        assert!(proof_from_bytes(&[0u8; 32 * 129]).is_err());
        assert_eq!(proof_from_bytes(&[]), Ok(vec![]));
    }

    #[test]
    fn compact_tree_bytes_are_validated() {
        let tree = CompactTree::from_leaves(&leaves(11));
        let bytes = tree.to_bytes();
        assert_eq!(bytes.len(), 9 + 32 * 3);
        assert!(CompactTree::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(CompactTree::from_bytes(&[]).is_err());
        assert!(CompactTree::from_bytes(&[1, 0, 0]).is_err());
        let mut wrong_version = bytes.clone();
        wrong_version[0] = 2;
        assert!(CompactTree::from_bytes(&wrong_version).is_err());
        let mut wrong_size = bytes;
        wrong_size[8] = 12; // popcount 2, but 3 hashes follow
        assert!(CompactTree::from_bytes(&wrong_size).is_err());
        assert_eq!(CompactTree::from_bytes(&CompactTree::new().to_bytes()), Ok(CompactTree::new()));
        assert!(CompactTree::from_parts(3, vec![[0; 32]]).is_err());
    }

    #[test]
    fn large_tree_proofs_are_short_and_verify() {
        const N: u64 = 1_000_003;
        let l: Vec<Hash> = (0..N).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let compact = CompactTree::from_leaves(&l);
        let root = compact.root();
        assert_eq!(root, root_of(&l));
        for index in [0, 1, 524_287, 999_999, N - 1] {
            let proof = inclusion_proof(&l, index, N).unwrap();
            verify_inclusion(index, N, &l[index as usize], &proof, &root).unwrap();
        }
        let million = root_of(&l[..1_000_000]);
        for index in [0, 777_777, 999_999] {
            let proof = inclusion_proof(&l, index, 1_000_000).unwrap();
            assert!(proof.len() <= 20, "{} hashes", proof.len());
            assert!(proof_to_bytes(&proof).len() <= 640);
            verify_inclusion(index, 1_000_000, &l[index as usize], &proof, &million).unwrap();
        }
        let proof = consistency_proof(&l, 1_000_000, N).unwrap();
        verify_consistency(1_000_000, N, &million, &root, &proof).unwrap();
        assert_eq!(inclusion_proof_len(0, 1_000_000), 20);
    }

    fn hex(hash: &Hash) -> String {
        HEXLOWER.encode(hash)
    }

    /// The worked example in docs/FORMAT-merkle.md; keep the two in sync.
    #[test]
    fn worked_example_matches_format_doc() {
        let l: Vec<Hash> = [b"a", b"b", b"c"].iter().map(|d| leaf_hash(*d)).collect();
        let (l0, l1, l2) = (
            "1ff621ee3430890e869728995a6cee4f2b0b61271bfc19b0092b06d778750ae8",
            "3acbabc85b6b9ceff22334abe02e3752f93875f0c2fcdc7ef48ded6117df4170",
            "732874dc36c7e6c2cb61920dc5740c9bd14b0495c6933217631c0191559e3fa1",
        );
        let n01 = "6564e87d8619ea09c801c567c641d47fe817ae3b2cf80685cde2eb6557247eca";
        let root = "6c62dd52a0971b7d00a7cead004e0c3f3c0766e3f5359a0f8297768d2b02d03c";
        assert_eq!(hex(&empty_root()), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
        assert_eq!([hex(&l[0]), hex(&l[1]), hex(&l[2])], [l0, l1, l2]);
        assert_eq!(hex(&node_hash(&l[0], &l[1])), n01);
        assert_eq!(hex(&root_of(&l)), root);
        let proofs: Vec<Vec<String>> =
            (0..3).map(|i| inclusion_proof(&l, i, 3).unwrap().iter().map(hex).collect()).collect();
        assert_eq!(proofs, [vec![l1, l2], vec![l0, l2], vec![n01]]);
        let c23: Vec<String> = consistency_proof(&l, 2, 3).unwrap().iter().map(hex).collect();
        let c13: Vec<String> = consistency_proof(&l, 1, 3).unwrap().iter().map(hex).collect();
        assert_eq!((c23, c13), (vec![l2.to_string()], vec![l1.to_string(), l2.to_string()]));
        assert_eq!(HEXLOWER.encode(&CompactTree::from_leaves(&l).to_bytes()), format!("010000000000000003{n01}{l2}"));
    }

    proptest! {
        #[test]
        fn verification_never_panics(
            index in any::<u64>(),
            size in prop_oneof![any::<u64>(), 0u64..70],
            other in prop_oneof![any::<u64>(), 0u64..70],
            bytes in prop::collection::vec(any::<u8>(), 0..40 * 32),
            leaf in any::<[u8; 32]>(),
            root in any::<[u8; 32]>(),
        ) {
            let proof = match proof_from_bytes(&bytes) {
                Ok(proof) => proof,
                Err(_) => bytes.chunks(32).filter_map(|c| Hash::try_from(c).ok()).collect(),
            };
            let _ = verify_inclusion(index, size, &leaf, &proof, &root);
            let _ = verify_consistency(other, size, &leaf, &root, &proof);
            let _ = verify_consistency(size, other, &leaf, &root, &proof);
            let _ = CompactTree::from_bytes(&bytes);
            // The closed-form lengths equal the step counts of the RFC loops.
            let index = index % size.max(1);
            let steps = inclusion_shape(index, size).map_or(0, |s| s.len());
            prop_assert_eq!(inclusion_proof_len(index, size), steps);
            prop_assert!(steps <= 64);
            let (old, new) = (other.min(size), other.max(size));
            let (seeded, steps) = consistency_shape(old, new);
            let expected = if old == 0 || old == new { 0 } else { steps.len() + 1 - usize::from(seeded) };
            prop_assert_eq!(consistency_proof_len(old, new), expected);
            prop_assert!(expected <= 128);
        }
    }
}
