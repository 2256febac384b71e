//! The contract version hash is computed without building the contract's
//! `serde_json::Value` tree (a settlement computes it once per contract,
//! and for a whole book of contracts it was half the work): counted in
//! allocations, it costs less than half of the value path, whose bytes it
//! must give (the bytes are compared in `domain::contract` unit tests).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use vereffen::domain::contract;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn version_hash_allocates_less_than_half_of_the_value_path() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts");
    let mut files: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 5);
    for f in files {
        let c = contract::check_file(&f).unwrap();
        let mut hash = String::new();
        let direct = allocations(|| hash = c.version_hash());
        let mut bytes = Vec::new();
        let value_path = allocations(|| bytes = vereffen::ledger::canonical::encode(&c.to_canonical_json()).unwrap());
        let mut domain = contract::HASH_DOMAIN.as_bytes().to_vec();
        domain.extend_from_slice(&bytes);
        assert_eq!(hash, blake3::hash(&domain).to_hex().to_string(), "{}", f.display());
        assert!(
            direct * 2 < value_path,
            "{}: version_hash made {direct} allocations, the value path {value_path}",
            f.display()
        );
    }
}
