//! Benchmark of `vereffen simulate`: Monte Carlo runs of a five-year
//! contract with every payment component (`examples/bench/`) and of the two
//! five-year example contracts with their example scenarios, on all cores.
//! Not a timed test.
//!
//! ```text
//! cargo run --release --example simulate_bench -- --runs 100000
//! cargo run --release --example simulate_bench -- --runs 1000 --only bench-all-components
//! ```
//!
//! Prints, per contract, the seconds for N runs and the runs per second.

use std::time::Instant;

use vereffen::domain::contract;
use vereffen::domain::simulate::{scenarios, Model, Variant};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: u64 = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().expect("--runs N"))
        .unwrap_or(100_000);
    // `--only ID`: just the contract with this id (for profiling one).
    let only: Option<&String> = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1));
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let benches = [
        ("examples/bench/all-components.toml", "examples/bench/all-components-scenarios.toml", "bench-all-components"),
        (
            "contracts/regional-population-budget.toml",
            "examples/scenarios/diabetes-population-budget-berkelland.toml",
            "diabetes-population-budget-berkelland",
        ),
        (
            "contracts/home-dialysis-bundled.toml",
            "examples/scenarios/home-dialysis-bundle-2025.toml",
            "home-dialysis-bundle-2025",
        ),
    ];
    if let Some(o) = only.filter(|o| !benches.iter().any(|(_, _, id)| id == o)) {
        let ids: Vec<&str> = benches.iter().map(|(_, _, id)| *id).collect();
        eprintln!("error: --only {o}: no such contract; the bench has {}", ids.join(", "));
        std::process::exit(2);
    }
    println!("runs={runs}");
    println!("threads={}", rayon::current_num_threads());
    for (file, scenario, id) in benches {
        if only.is_some_and(|o| o != id) {
            continue;
        }
        let c = contract::check_file(&repo.join(file)).expect("valid contract");
        let s = scenarios::read_file(&repo.join(scenario)).expect("scenarios");
        let m = Model::new(s, vec![Variant::new(id, c)]).expect("model");
        let t = Instant::now();
        let stats = m.monte_carlo(runs, 1, &|_| {}, &mut |_| {}).expect("runs");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(stats.len(), 1);
        println!("{id}: years={} s={secs:.3} runs_per_s={:.0}", m.periods(0) - 1, runs as f64 / secs);
    }
}
