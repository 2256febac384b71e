//! Batched, parallel ed25519 signature checking.
//!
//! Batch verification checks many signatures at once, faster than one by one;
//! chunks run on all cores with rayon. When a chunk fails, its signatures are
//! checked one by one to name the first bad one (batch verification only
//! says "some signature in here is bad").

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use rayon::prelude::*;

/// Signatures per batch: large enough to amortise, small enough to spread
/// over cores and keep the fallback cheap.
pub const CHUNK: usize = 256;

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

/// Checks all items; on failure returns the index of the first bad one.
pub fn verify_all(items: &[SigItem]) -> Result<(), usize> {
    let bad: Option<usize> =
        items.par_chunks(CHUNK).enumerate().filter_map(|(ci, chunk)| first_bad(chunk).map(|i| ci * CHUNK + i)).min();
    match bad {
        Some(i) => Err(i),
        None => Ok(()),
    }
}

fn first_bad(chunk: &[SigItem]) -> Option<usize> {
    let msgs: Vec<&[u8]> = chunk.iter().map(|i| i.msg.as_slice()).collect();
    let sigs: Vec<Signature> = chunk.iter().map(|i| i.sig).collect();
    let keys: Vec<VerifyingKey> = chunk.iter().map(|i| i.key).collect();
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return None;
    }
    chunk.iter().position(|i| i.key.verify(&i.msg, &i.sig).is_err()).or(Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;

    #[test]
    fn names_the_first_bad_signature() {
        let k = crate::keys::generate();
        let mut items: Vec<SigItem> = (0..1000u32)
            .map(|i| {
                let msg = i.to_le_bytes().to_vec();
                SigItem { sig: k.sign(&msg), msg, key: k.verifying_key() }
            })
            .collect();
        assert_eq!(verify_all(&items), Ok(()));
        items[700].msg[0] ^= 1;
        items[900].msg[0] ^= 1;
        assert_eq!(verify_all(&items), Err(700));
    }
}
