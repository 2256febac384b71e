//! The README's "Run your own node" commands work as written: this test
//! reads the `sh` block after the `node-commands` marker in README.md and
//! runs each line in a temporary directory (with `keys/` and `contracts/`
//! of the repository linked in), on loopback. Only the two listen ports are
//! replaced by ports this test finds free; `vereffen serve ... &` lines
//! become child processes stopped at the end. Every wait is bounded.
//!
//! It checks what the issue's "done when" asks: two nodes negotiate,
//! measure, settle and co-sign a contract with `sync` moving every entry
//! (no `export`/`import` line), ending with nothing pending in either
//! inbox, both copies verifying, and equal set digests. Each command runs
//! once, right after the one before, while the nodes run: a copy a node
//! still holds must never make a command fail (no retry here).

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

/// Longest one README command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd` to its end, killing it (and failing) after [`COMMAND_TIMEOUT`].
fn run_bounded(cmd: &mut Command, line: &str) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Drain both pipes on threads, so a full pipe never stalls the command.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t2 = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("README line took longer than {COMMAND_TIMEOUT:?}: {line}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output { status, stdout: t1.join().unwrap(), stderr: t2.join().unwrap() }
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
    for shared in ["keys", "contracts"] {
        std::os::unix::fs::symlink(node_support::repo().join(shared), dir.join(shared)).unwrap();
    }
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
        let out = run_bounded(Command::new("sh").arg("-c").arg(&shell).current_dir(dir), line);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "README line failed: {line}\n{text}");
        outputs.push((line.clone(), text));
    }
    drop(guard);
    // No file is carried by hand: nothing but sync moves entries.
    assert!(lines.iter().all(|l| !l.contains(" export") && !l.contains(" import")), "{lines:?}");
    let of = |prefix: &str| -> Vec<&String> {
        outputs.iter().filter(|(l, _)| l.starts_with(prefix)).map(|(_, t)| t).collect()
    };
    // Negotiate: proposed on one node, signed on the other.
    let all_text = outputs.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n");
    assert!(all_text.contains("is now agreed by every signatory"), "{all_text}");
    // Measure: each side attested the other's figures.
    let attests = of("vereffen --ledger hospital/ledgers/hf-2026 measure attest");
    assert_eq!(attests.len(), 1);
    assert!(attests[0].contains("ziekenhuis attests 3 figure(s)"), "{}", attests[0]);
    let attests = of("vereffen --ledger insurer/ledgers/hf-2026 measure attest");
    assert!(attests[0].contains("verzekeraar attests 1 figure(s)"), "{}", attests[0]);
    // Settle: both signed the same statement, the second signature settles it.
    let signs = of("vereffen --ledger insurer/ledgers/hf-2026 settle");
    assert!(signs[0].contains("2026 is settled"), "{}", signs[0]);
    // What the README's comments promise of the syncs.
    let syncs = of("vereffen sync");
    assert!(syncs.len() >= 6, "{syncs:?}");
    assert!(syncs[0].contains("created here") && syncs[0].contains("witnessed"), "{}", syncs[0]);
    assert!(syncs[1].contains("pushed 1 new"), "{}", syncs[1]);
    for s in &syncs {
        assert!(!s.contains("ERROR"), "{s}");
    }
    let last = syncs.last().unwrap();
    assert!(!last.contains("peer has"), "the last sync leaves equal set digests: {last}");
    // The inboxes: work on the way, nothing pending at the end.
    let inboxes = of("vereffen inbox");
    assert!(inboxes[0].contains("awaits verzekeraar's signature"), "{}", inboxes[0]);
    assert!(inboxes[1].contains("awaits ziekenhuis's attestation"), "{}", inboxes[1]);
    let n = inboxes.len();
    assert!(n >= 4, "{inboxes:?}");
    for i in &inboxes[n - 2..] {
        assert!(i.contains("nothing awaits you"), "{i}");
    }
    // Both copies verify, with one and the same set digest.
    let verifies = of("vereffen --ledger");
    let verifies: Vec<&&String> = verifies.iter().filter(|t| t.contains("verify OK")).collect();
    assert_eq!(verifies.len(), 2, "{verifies:?}");
    let digest = |t: &str| {
        t.lines().find(|l| l.starts_with("set digest")).map(|l| l.trim_start_matches("set digest").trim().to_string())
    };
    let (h, i) = (digest(verifies[0]), digest(verifies[1]));
    assert!(h.is_some() && h == i, "both copies verify with the same set digest: {h:?} {i:?}");
    let h = node_support::digest_of_dir(&dir.join("hospital/ledgers/hf-2026"));
    let i = node_support::digest_of_dir(&dir.join("insurer/ledgers/hf-2026"));
    assert_eq!(h, i, "both copies hold the same entries");
}
