//! The `vereffen` command line: a thin layer over the library.

mod cli;

// Verify and import decode many small values on all cores; mimalloc keeps
// the allocator from becoming the bottleneck (see examples/ledger_bench.rs).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
