//! The layers of `src/` import one way only:
//! cli (binary) -> web -> node -> present -> rules -> audit -> domain -> ledger.
//!
//! This test reads every library source file, finds each path into the
//! crate (`crate::x`, `use crate::{x, y}`) outside comments, and fails on an
//! import that points up, naming FILE:LINE. It also fails on a source file
//! that belongs to no layer, so a new top-level module must be placed.

use std::path::{Path, PathBuf};

/// Layers from the bottom up; a file may use its own layer and those below.
const LAYERS: [&str; 7] = ["ledger", "domain", "audit", "rules", "present", "node", "web"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

/// The layer a library file belongs to (`src/ledger/journal.rs` -> ledger,
/// `src/rules.rs` -> rules); `None` for the crate root and the binary.
fn layer_of(rel: &Path) -> Result<Option<&'static str>, String> {
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    match parts.as_slice() {
        [f] if f == "lib.rs" || f == "main.rs" => Ok(None),
        [d, ..] if d == "cli" => Ok(None),
        [f] => {
            let name = f.trim_end_matches(".rs");
            LAYERS.iter().find(|l| **l == name).map(|l| Some(*l)).ok_or(format!("src/{f} belongs to no layer"))
        }
        [d, ..] => {
            LAYERS.iter().find(|l| **l == d.as_str()).map(|l| Some(*l)).ok_or(format!("src/{d}/ is not a layer"))
        }
        [] => Err("empty path".into()),
    }
}

/// Every crate-level module named by a line, outside comments.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.trim_start();
    if code.starts_with("//") {
        return Vec::new();
    }
    let code = match code.find("//") {
        Some(i) => &code[..i],
        None => code,
    };
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        rest = after;
    }
    out
}

/// Upward imports in one file's text, as (line number, used layer).
fn upward(layer: &str, text: &str) -> Vec<(usize, String)> {
    let own = rank(layer).expect("a known layer");
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for used in crate_paths(line) {
            if let Some(r) = rank(&used) {
                if r > own {
                    bad.push((n + 1, used));
                }
            }
        }
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn imports_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "found only {} source files under {}", files.len(), src.display());
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let layer = match layer_of(rel) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let text = std::fs::read_to_string(f).expect("read source");
        for (line, used) in upward(layer, &text) {
            problems.push(format!(
                "src/{}:{line}: the {layer} layer uses crate::{used}; imports must point down ({})",
                rel.display(),
                LAYERS.iter().rev().copied().collect::<Vec<_>>().join(" -> ")
            ));
        }
    }
    assert!(problems.is_empty(), "layering violations:\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_upward_imports() {
    // The checker itself: an upward import in each form is found, comments
    // and downward imports are not.
    let text = "use crate::ledger::entry::Entry;\n\
                use crate::{audit, domain};\n\
                // crate::present is only mentioned here\n\
                let x = crate::rules::ALL; // crate::present\n";
    assert_eq!(upward("domain", text), vec![(2, "audit".to_string()), (4, "rules".to_string())]);
    assert!(upward("present", text).is_empty());
    assert_eq!(layer_of(Path::new("ledger/journal.rs")), Ok(Some("ledger")));
    assert_eq!(layer_of(Path::new("rules.rs")), Ok(Some("rules")));
    assert_eq!(layer_of(Path::new("cli/mod.rs")), Ok(None));
    assert!(layer_of(Path::new("stray.rs")).is_err());
}
