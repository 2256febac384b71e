//! The README's "Run your own node" commands work as written: this test
//! reads the `sh` block after the `node-commands` marker in README.md and
//! runs each line in a temporary directory (with `keys/` of the repository
//! linked in), on loopback. Only the two listen ports are replaced by
//! ports this test finds free; `vereffen serve ... &` lines become child
//! processes stopped at the end. Every wait is bounded.

mod node_support;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Lines of the README's node block (comments stripped).
fn readme_node_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(node_support::repo().join("README.md")).unwrap();
    let start = readme.find("<!-- node-commands").expect("README has the node-commands marker");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("an sh block after the marker") + 6;
    let close = block[open..].find("```").expect("the block ends") + open;
    block[open..close]
        .lines()
        .map(|l| match l.find("  #") {
            Some(i) => l[..i].trim().to_string(),
            None => l.trim().to_string(),
        })
        .filter(|l| !l.is_empty())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Guard(Vec<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn the_readme_node_commands_run_as_written_on_loopback() {
    let lines = readme_node_lines();
    assert!(lines.len() >= 10, "{lines:?}");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::os::unix::fs::symlink(node_support::repo().join("keys"), dir.join("keys")).unwrap();
    let bin = env!("CARGO_BIN_EXE_vereffen");
    let ports: Vec<(String, String)> = ["127.0.0.1:8401", "127.0.0.1:8402"]
        .iter()
        .map(|p| (p.to_string(), format!("127.0.0.1:{}", free_port())))
        .collect();
    let mut guard = Guard(Vec::new());
    let mut outputs = Vec::new();
    for line in &lines {
        let mut cmd = line.clone();
        for (from, to) in &ports {
            cmd = cmd.replace(from, to);
        }
        if let Some(rest) = cmd.strip_prefix("vereffen serve ") {
            let rest = rest.trim_end_matches('&').trim();
            let args: Vec<&str> = rest.split_whitespace().collect();
            let mut child = Command::new(bin)
                .arg("serve")
                .args(&args)
                .current_dir(dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Wait (bounded) for `listening on ...`.
            let mut out = child.stdout.take().unwrap();
            let mut first = Vec::new();
            let mut byte = [0u8; 1];
            while first.len() < 200 && out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
                first.push(byte[0]);
            }
            assert!(String::from_utf8_lossy(&first).starts_with("listening on http://"), "{line}");
            guard.0.push(child);
            continue;
        }
        let shell = match cmd.strip_prefix("vereffen ") {
            Some(rest) => format!("'{bin}' {rest}"),
            None => cmd.clone(),
        };
        // A copy a node holds open is retried for a while (the node closes idle copies).
        let deadline = Instant::now() + Duration::from_secs(30);
        let out = loop {
            let o = Command::new("sh").arg("-c").arg(&shell).current_dir(dir).output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            if o.status.success() || !err.contains("in use by another") || Instant::now() > deadline {
                break o;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "README line failed: {line}\n{text}");
        outputs.push((line.clone(), text));
    }
    drop(guard);
    // What the README's comments promise.
    let syncs: Vec<&String> = outputs.iter().filter(|(l, _)| l.starts_with("vereffen sync")).map(|(_, t)| t).collect();
    assert_eq!(syncs.len(), 3);
    assert!(syncs[0].contains("created here") && syncs[0].contains("witnessed"), "{}", syncs[0]);
    assert!(syncs[1].contains("pushed 1 new") && !syncs[1].contains("peer has"), "{}", syncs[1]);
    assert!(!syncs[2].contains("ERROR"), "{}", syncs[2]);
    let h = node_support::digest_of_dir(&dir.join("hospital/ledgers/copd-2027"));
    let i = node_support::digest_of_dir(&dir.join("insurer/ledgers/copd-2027"));
    assert_eq!(h, i, "both copies hold the same entries");
}
