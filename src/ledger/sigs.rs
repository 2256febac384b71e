//! Ed25519 signature checking: the one strict rule, and parallel checking
//! of many signatures that names the first bad one.
//!
//! Every signature vereffen accepts (entries on append, import and verify;
//! checkpoints and cosignatures) goes through [`verify_strict`], so every
//! path accepts exactly the same signatures (`docs/FORMAT.md` 3.3). There
//! is deliberately no batch verification: ed25519-dalek's `verify_batch`
//! checks a different equation and can accept what [`verify_strict`]
//! refuses (a small-order key with `R` = identity and `S` = 0, for one).
//! Instead the signatures are checked one by one, on all cores with rayon.

use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;

use crate::ledger::keys::is_canonical_point_encoding;

/// Fewest signatures one rayon task checks: enough to amortise the task,
/// few enough to spread a small batch over the cores.
pub const MIN_PER_TASK: usize = 16;

/// The group order `l = 2^252 + 27742317777372353535851937790883648493`,
/// as 32 little-endian bytes (only used to explain a refusal).
const GROUP_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SigFailure {
    /// The public key is not canonically encoded.
    #[error("the public key is not canonically encoded")]
    KeyNonCanonical,
    /// The public key is a point of small order.
    #[error("the public key is a point of small order")]
    KeySmallOrder,
    /// `R` (the first 32 bytes of the signature) is not canonically encoded.
    #[error("its R is not canonically encoded")]
    RNonCanonical,
    /// `R` is not a curve point.
    #[error("its R is not a curve point")]
    RNotAPoint,
    /// `R` is a point of small order.
    #[error("its R is a point of small order")]
    RSmallOrder,
    /// `S` (the last 32 bytes) is not below the group order.
    #[error("its S is not below the group order")]
    SNonCanonical,
    /// Everything is well formed, but the signature does not match the
    /// message and key.
    #[error("it does not match the signed bytes and the key")]
    Mismatch,
}

/// The one signature rule of vereffen (`docs/FORMAT.md` 3.3): the public
/// key `A` and the signature's `R` are canonical encodings, and
/// ed25519-dalek's `verify_strict` accepts, which means `S < l`, `R` is a
/// curve point, neither `A` nor `R` has small order, and
/// `encode([S]B - [k]A)` equals the bytes of `R` with
/// `k = SHA-512(R || A || msg) mod l` (the unbatched, cofactorless equation).
pub fn verify_strict(key: &VerifyingKey, msg: &[u8], sig: &Signature) -> Result<(), SigFailure> {
    if !is_canonical_point_encoding(key.as_bytes()) {
        return Err(SigFailure::KeyNonCanonical);
    }
    if !is_canonical_point_encoding(sig.r_bytes()) {
        return Err(SigFailure::RNonCanonical);
    }
    match key.verify_strict(msg, sig) {
        Ok(()) => Ok(()),
        Err(_) => Err(explain(key, sig)),
    }
}

/// Which strict check a refused signature fails (the first that applies);
/// only called after `verify_strict` refused it.
fn explain(key: &VerifyingKey, sig: &Signature) -> SigFailure {
    let below_order =
        sig.s_bytes().iter().rev().zip(GROUP_ORDER_LE.iter().rev()).find(|(a, b)| a != b).is_some_and(|(a, b)| a < b);
    if key.is_weak() {
        SigFailure::KeySmallOrder
    } else if !below_order {
        SigFailure::SNonCanonical
    } else {
        match VerifyingKey::from_bytes(sig.r_bytes()) {
            Err(_) => SigFailure::RNotAPoint,
            Ok(r) if r.is_weak() => SigFailure::RSmallOrder,
            Ok(_) => SigFailure::Mismatch,
        }
    }
}

/// One signature to check.
#[derive(Debug, Clone)]
pub struct SigItem {
    /// The signed message (context and body).
    pub msg: Vec<u8>,
    /// The signature.
    pub sig: Signature,
    /// The key that should have made it.
    pub key: VerifyingKey,
}

/// Checks all items with [`verify_strict`] on all cores; on failure returns
/// the index of the first bad one (in slice order) and why it is bad.
pub fn verify_all(items: &[SigItem]) -> Result<(), (usize, SigFailure)> {
    let bad =
        items.par_iter().with_min_len(MIN_PER_TASK).position_first(|i| verify_strict(&i.key, &i.msg, &i.sig).is_err());
    match bad {
        None => Ok(()),
        Some(j) => {
            let item = &items[j];
            let why = verify_strict(&item.key, &item.msg, &item.sig).err().unwrap_or(SigFailure::Mismatch);
            Err((j, why))
        }
    }
}

/// What to say about a refused entry signature (append, import, verify).
pub fn refusal(why: SigFailure) -> String {
    match why {
        SigFailure::Mismatch => {
            "a signature does not verify: the entry was altered after signing, or signed for another ledger or kind"
                .into()
        }
        other => format!(
            "a signature does not verify ({other}): it was not made by the key's owner; the entry is forged or damaged"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::keys::SMALL_ORDER_POINTS as SMALL_ORDER;
    use ed25519_dalek::Signer;

    fn bytes32(hex: &str) -> [u8; 32] {
        data_encoding::HEXLOWER.decode(hex.as_bytes()).unwrap().try_into().unwrap()
    }

    /// A signature from its R and S bytes.
    fn sig_of(r: [u8; 32], s: [u8; 32]) -> Signature {
        Signature::from_components(r, s)
    }

    /// `a + b` for 32-byte little-endian integers (no overflow here).
    fn add_le(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(a[i]) + u16::from(b[i]) + carry;
            out[i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        out
    }

    #[test]
    fn names_the_first_bad_signature() {
        let k = crate::ledger::keys::generate();
        let mut items: Vec<SigItem> = (0..1000u32)
            .map(|i| {
                let msg = i.to_le_bytes().to_vec();
                SigItem { sig: k.sign(&msg), msg, key: k.verifying_key() }
            })
            .collect();
        assert_eq!(verify_all(&items), Ok(()));
        assert_eq!(verify_all(&[]), Ok(()));
        items[700].msg[0] ^= 1;
        items[900].msg[0] ^= 1;
        assert_eq!(verify_all(&items), Err((700, SigFailure::Mismatch)));
    }

    #[test]
    fn small_order_keys_and_identity_signatures_are_refused() {
        let identity = bytes32(SMALL_ORDER[0]);
        let zero = [0u8; 32];
        let msg = b"anything at all";
        for hex in SMALL_ORDER {
            let key = VerifyingKey::from_bytes(&bytes32(hex)).unwrap();
            for r in SMALL_ORDER {
                let sig = sig_of(bytes32(r), zero);
                assert_eq!(verify_strict(&key, msg, &sig), Err(SigFailure::KeySmallOrder), "A={hex} R={r}");
            }
        }
        // The forgery the weaker checks accept: A = R = identity, S = 0.
        let key = VerifyingKey::from_bytes(&identity).unwrap();
        let forged = sig_of(identity, zero);
        assert!(ed25519_dalek::verify_batch(&[msg], &[forged], &[key]).is_ok(), "batch verification accepts it");
        assert!(ed25519_dalek::Verifier::verify(&key, msg, &forged).is_ok(), "plain verify accepts it");
        assert_eq!(verify_all(&[SigItem { msg: msg.to_vec(), sig: forged, key }]), Err((0, SigFailure::KeySmallOrder)));
        // A real key with R of small order.
        let real = crate::ledger::keys::generate().verifying_key();
        for r in SMALL_ORDER {
            assert_eq!(verify_strict(&real, msg, &sig_of(bytes32(r), zero)), Err(SigFailure::RSmallOrder), "R={r}");
        }
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        let k = crate::ledger::keys::generate();
        let msg = b"a message";
        let good = k.sign(msg);
        assert_eq!(verify_strict(&k.verifying_key(), msg, &good), Ok(()));
        // S + l: the same point equation, another encoding of S.
        let s_plus_l = sig_of(*good.r_bytes(), add_le(good.s_bytes(), &GROUP_ORDER_LE));
        assert_eq!(verify_strict(&k.verifying_key(), msg, &s_plus_l), Err(SigFailure::SNonCanonical));
        let s_is_l = sig_of(*good.r_bytes(), GROUP_ORDER_LE);
        assert_eq!(verify_strict(&k.verifying_key(), msg, &s_is_l), Err(SigFailure::SNonCanonical));
        // R: the identity with the sign bit set, and y = p + 1 (also the identity).
        for r in [
            "0100000000000000000000000000000000000000000000000000000000000080",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ] {
            let sig = sig_of(bytes32(r), *good.s_bytes());
            assert_eq!(verify_strict(&k.verifying_key(), msg, &sig), Err(SigFailure::RNonCanonical), "R={r}");
        }
        // A: a non-canonical encoding of the identity, with R = identity and
        // S = 0, which batch verification accepts.
        let a = VerifyingKey::from_bytes(&bytes32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
            .unwrap();
        let forged = sig_of(bytes32(SMALL_ORDER[0]), [0; 32]);
        assert!(ed25519_dalek::verify_batch(&[msg], &[forged], &[a]).is_ok(), "batch verification accepts it");
        assert_eq!(verify_strict(&a, msg, &forged), Err(SigFailure::KeyNonCanonical));
    }

    #[test]
    fn refusals_are_explained() {
        let k = crate::ledger::keys::generate();
        let msg = b"a message";
        let good = k.sign(msg);
        let mut r = *good.r_bytes();
        // A byte pattern that is no curve point, canonical as bytes.
        let not_a_point = (2u8..0x7f).map(|b| [b; 32]).find(|b| VerifyingKey::from_bytes(b).is_err()).unwrap();
        assert_eq!(
            verify_strict(&k.verifying_key(), msg, &sig_of(not_a_point, *good.s_bytes())),
            Err(SigFailure::RNotAPoint)
        );
        r[0] ^= 1;
        let why = verify_strict(&k.verifying_key(), msg, &sig_of(r, *good.s_bytes())).unwrap_err();
        assert!(matches!(why, SigFailure::RNotAPoint | SigFailure::Mismatch | SigFailure::RNonCanonical), "{why:?}");
        assert_eq!(verify_strict(&k.verifying_key(), b"another message", &good), Err(SigFailure::Mismatch));
    }
}
