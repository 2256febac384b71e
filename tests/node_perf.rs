//! What keeps a node's sync proportional to what is new (issue 14,
//! "Performance"): range reads start at the index's nearest point, not at
//! byte 0; consistency proofs come from a point's frontier and the leaves
//! after it; the set digest is read from the set sum kept with the index
//! (`ledger::setsum`), brought up to date by each batch. All of it is
//! derived data: these tests check that it gives exactly what the full
//! computation gives, and that an index without a sound set sum is rebuilt
//! rather than trusted.
//!
//! Every node listens on 127.0.0.1 port 0 and is stopped by its handle.

mod node_support;

use std::path::Path;

use node_support::*;
use rayon::prelude::*;
use vereffen::ledger::entry::Entry;
use vereffen::ledger::index::POINT_EVERY;
use vereffen::ledger::registry::Role;
use vereffen::ledger::{merkle, Ledger, IDS_CACHE_FILE};
use vereffen::node::client;

const LEDGER: &str = "perf-1";

/// `n` notes by the hospital, each with `pad` bytes of text (signed in parallel).
fn notes(from: usize, n: usize, pad: usize) -> Vec<Entry> {
    let key = demo_key("ziekenhuis");
    let filler = "x".repeat(pad);
    (from..from + n)
        .into_par_iter()
        .map(|i| {
            let payload = vereffen::domain::note::payload(&format!("note {i} {filler}"), None);
            let b = body(LEDGER, "ziekenhuis", &key, vereffen::domain::note::KIND_NOTE, payload);
            Entry::sign(b, &[&key]).unwrap()
        })
        .collect()
}

/// A copy of LEDGER in `dir` with both parties and `n` notes appended in
/// batches of uneven sizes (so points fall inside batches too).
fn copy_with(dir: &Path, n: usize, pad: usize) -> Ledger {
    let mut l = Ledger::init(dir, LEDGER, &vereffen::rules::ALL).unwrap();
    l.append(&[register(LEDGER, "ziekenhuis", Role::Provider), register(LEDGER, "verzekeraar", Role::Payer)]).unwrap();
    let all = notes(0, n, pad);
    let mut at = 0;
    for (i, size) in [1usize, 300, 7, 1000, 255, 3000].iter().cycle().enumerate() {
        if at >= all.len() || i > 10_000 {
            break;
        }
        let end = (at + size).min(all.len());
        l.append(&all[at..end]).unwrap();
        at = end;
    }
    l
}

/// The tests of this file one at a time: two of them count the bytes this
/// process reads (`rchar`), which the others' reads would add to.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes this process has read through read syscalls so far (`rchar`).
fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines().find_map(|l| l.strip_prefix("rchar: ")).and_then(|v| v.trim().parse().ok()).expect("rchar")
}

#[test]
fn reading_the_tail_of_a_large_copy_reads_the_tail_not_the_whole_journal() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let l = copy_with(&tmp.path().join("c"), 12_000, 2_000);
    let journal = std::fs::metadata(l.journal_path()).unwrap().len();
    assert!(journal > 24 << 20, "journal of {journal} bytes");
    let before = bytes_read();
    let mut seen = Vec::new();
    l.for_each(l.len() - 9, |seq, _| {
        seen.push(seq);
        Ok(())
    })
    .unwrap();
    let read = bytes_read() - before;
    assert_eq!(seen, ((l.len() - 9)..=l.len()).collect::<Vec<_>>());
    // At most a point's distance of records plus the scanners' buffers
    // (1 MiB each), never the journal from byte 0.
    assert!(read < journal / 4, "read {read} bytes of a {journal}-byte journal for its last 10 records");
}

#[test]
fn range_reads_and_consistency_proofs_from_points_equal_the_full_computation() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let l = copy_with(&tmp.path().join("c"), 2 * POINT_EVERY as usize + 300, 10);
    let n = l.len();
    let all: Vec<u64> = l.scan(1).unwrap().into_iter().map(|(s, _)| s).collect();
    assert_eq!(all, (1..=n).collect::<Vec<_>>());
    for since in [1, 2, 255, 256, 257, 258, 511, 512, 513, 600, n - 1, n, n + 1, n + 100] {
        let mut got = Vec::new();
        l.for_each(since, |seq, e| {
            got.push((seq, e.id()));
            Ok(())
        })
        .unwrap();
        let want: Vec<_> =
            l.scan(1).unwrap().into_iter().filter(|(s, _)| *s >= since).map(|(s, e)| (s, e.id())).collect();
        assert_eq!(got, want, "for_each({since})");
    }
    let leaves = l.index().leaf_hashes().unwrap();
    for old in [1, 2, 100, 255, 256, 257, 300, 511, 512, 513, 700, n - 1, n] {
        let fast = l.consistency_proof(old, n).unwrap();
        assert_eq!(fast, merkle::consistency_proof(&leaves, old, n).unwrap(), "old {old}");
        let root_old = merkle::root_of(&leaves[..old as usize]);
        merkle::verify_consistency(old, n, &root_old, &l.merkle_tree().root(), &fast).unwrap();
    }
    // Sizes other than the current one take the full path, same answer.
    assert_eq!(l.consistency_proof(10, 600).unwrap(), merkle::consistency_proof(&leaves, 10, 600).unwrap());
}

fn hex(d: &[u8; 32]) -> String {
    data_encoding::HEXLOWER.encode(d)
}

#[test]
fn the_kept_set_digest_is_the_full_computation_after_appends_reopen_reindex_and_in_any_order() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let mut l = copy_with(&dir, 700, 10);
    let d0 = l.set_digest().unwrap();
    assert_eq!(d0, l.set_digest_uncached().unwrap());
    let extra = notes(5_000, 300, 10);
    for chunk in extra.chunks(37) {
        l.append(chunk).unwrap();
        assert_eq!(hex(&l.set_digest().unwrap()), hex(&l.set_digest_uncached().unwrap()), "at {}", l.len());
    }
    let want = l.set_digest().unwrap();
    assert_ne!(want, d0);
    drop(l);
    // What `verify` computes from the journal alone.
    let summary = vereffen::ledger::verify::verify_journal(
        &dir.join(vereffen::ledger::JOURNAL_FILE),
        &vereffen::rules::ALL,
        |_| {},
    )
    .unwrap();
    assert_eq!(hex(&summary.set_digest), hex(&want));
    // Reopened, and rebuilt from the journal.
    assert_eq!(Ledger::open(&dir, &vereffen::rules::ALL).unwrap().set_digest().unwrap(), want);
    let l = Ledger::reindex(&dir, &vereffen::rules::ALL).unwrap();
    assert_eq!(l.set_digest().unwrap(), want);
    // The same entries imported in another order (a batch per entry,
    // reversed notes): another journal, the same set digest.
    let entries: Vec<Entry> = l.scan(1).unwrap().into_iter().map(|(_, e)| e).collect();
    drop(l);
    let other_dir = tmp.path().join("other");
    let mut other = Ledger::init(&other_dir, LEDGER, &vereffen::rules::ALL).unwrap();
    other.append(&entries[..2]).unwrap();
    for e in entries[2..].iter().rev() {
        other.append(std::slice::from_ref(e)).unwrap();
    }
    assert_ne!(other.head(), Ledger::open(&dir, &vereffen::rules::ALL).unwrap().head());
    assert_eq!(hex(&other.set_digest().unwrap()), hex(&want));
    // One entry more: another digest.
    other.append(&notes(9_000, 1, 10)).unwrap();
    assert_ne!(other.set_digest().unwrap(), want);
}

/// The set digest of a grown copy is read from the set sum kept with the
/// index: it reads nothing and costs the same at any size. (Version 1 read
/// and hashed a file of every sorted id, 32 bytes an entry of the copy, on
/// each side of every incremental sync: 150 ms of a sync at 1,000,000
/// entries.)
#[test]
fn the_set_digest_of_a_grown_copy_reads_nothing_whatever_its_size() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let mut l = copy_with(&dir, 20_000, 10);
    l.set_digest().unwrap();
    let mut next = 100_000;
    for _ in 0..3 {
        // Eleven entries per round, as one sync of ten pulled entries and a witness record adds.
        l.append(&notes(next, 11, 10)).unwrap();
        next += 11;
        let before = bytes_read();
        let d = l.set_digest().unwrap();
        let read = bytes_read() - before;
        assert!(read < 4096, "the digest of a {}-entry copy read {read} bytes", l.len());
        assert_eq!(hex(&d), hex(&l.set_digest_uncached().unwrap()));
    }
}

/// An index whose set sum does not cover its head (damaged, or written by
/// a version that kept none) is rebuilt from the journal, never trusted;
/// a set digest cache left by an earlier version is removed on open.
#[test]
fn an_index_without_a_sound_set_sum_is_rebuilt_and_an_old_cache_file_removed() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let want = {
        let l = copy_with(&dir, 300, 10);
        let d = l.set_digest().unwrap();
        // Another copy's set sum in this index's meta tree.
        let other = copy_with(&tmp.path().join("other"), 20, 10);
        let bytes = other.index().set_sum().unwrap().unwrap().to_bytes();
        drop(other);
        drop(l);
        let db = sled::open(dir.join(vereffen::ledger::INDEX_DIR)).unwrap();
        db.open_tree("meta").unwrap().insert(b"msetsum", bytes).unwrap();
        db.flush().unwrap();
        d
    };
    std::fs::write(dir.join(IDS_CACHE_FILE), vec![0xAB; 4096]).unwrap();
    let l = Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
    assert!(l.open_report().index_rebuilt.is_some(), "{:?}", l.open_report());
    assert_eq!(hex(&l.set_digest().unwrap()), hex(&want));
    assert!(!dir.join(IDS_CACHE_FILE).exists());
}

/// A signed `GET` to `node` on a fresh connection; (status, raw response).
fn signed_get(node: &vereffen::node::server::ServerHandle, pq: &str, party: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    use vereffen::node::httpsig::{self, RequestParts};
    let addr = node.addr();
    let authority = addr.to_string();
    let key = demo_key(party);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let nonce = format!("{:032x}", rand_core::RngCore::next_u64(&mut rand_core::OsRng));
    let parts = RequestParts { method: "GET", authority: &authority, path_and_query: pq, body: b"" };
    let key_id = vereffen::audit::key_name(party, &key.verifying_key());
    let h = httpsig::sign_request(&parts, &key_id, &key, now, now + 60, &nonce);
    let req = format!(
        "GET {pq} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nSignature-Input: {}\r\nSignature: {}\r\nContent-Digest: {}\r\nContent-Length: 0\r\n\r\n",
        h.signature_input, h.signature, h.content_digest
    );
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    c.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    c.take(64 << 20).read_to_end(&mut out).unwrap();
    let status = std::str::from_utf8(&out[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, out)
}

/// A catch-up pulls a large copy in ranges from its start: the node reads
/// each range, not the journal from the range to its end (which made a
/// catch-up of n entries read about n^2 / 20,000 records).
#[test]
fn a_range_at_the_start_of_a_large_copy_reads_the_range_not_the_rest_of_the_journal() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let a = home(tmp.path(), "a", &["ziekenhuis"]);
    let journal = {
        let l = copy_with(&a.join("ledgers").join(LEDGER), 12_000, 2_000);
        std::fs::metadata(l.journal_path()).unwrap().len()
    };
    assert!(journal > 24 << 20, "journal of {journal} bytes");
    let node = serve(&a);
    let before = bytes_read();
    let (status, resp) = signed_get(&node, &format!("/v1/ledgers/{LEDGER}/entries?start=3&count=10"), "verzekeraar");
    let read = bytes_read() - before;
    node.shutdown();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp[..resp.len().min(400)]));
    let text = String::from_utf8_lossy(&resp);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("{\"body\":")).collect();
    assert_eq!(lines.len(), 10, "{}", &text[..text.len().min(600)]);
    // The scanners' buffers (1 MiB each) and the node's other reads, never
    // the rest of the journal.
    assert!(read < journal / 4, "read {read} bytes of a {journal}-byte journal for records 3..=12");
}

/// `sync` opens only the copies it syncs: a copy of the home that the peer
/// does not share, damaged or held open by another tool, neither fails nor
/// delays the sync of the shared ledger. (It opened every copy of the home
/// first, so one damaged copy failed every sync of the home.)
#[test]
fn a_sync_opens_only_the_copies_it_syncs() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let a = home(tmp.path(), "a", &["ziekenhuis"]);
    shared_ledger(&a, LEDGER, 20);
    let node = serve(&a);
    let b = home(tmp.path(), "b", &["verzekeraar"]);
    add_peer(&b, "hospital", &node.url(), "ziekenhuis");
    let first = client::sync(&b, Some("hospital"), None).unwrap();
    assert!(first.iter().all(|r| r.ok()), "{first:?}");
    // Another copy of B's home held open by another tool, and a damaged one.
    let held = Ledger::init(&b.join("ledgers").join("zz-held"), "zz-held", &vereffen::rules::ALL).unwrap();
    let broken = b.join("ledgers").join("zz-broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join(vereffen::ledger::JOURNAL_FILE), b"not a journal").unwrap();
    node.store().with_ledger(LEDGER, |l| l.append(&[note(LEDGER, "ziekenhuis", "new")]).unwrap()).unwrap();
    let t = std::time::Instant::now();
    let rep = client::sync(&b, Some("hospital"), None).expect("the sync of the shared ledger");
    let took = t.elapsed();
    assert!(rep.iter().all(|r| r.ok()), "{rep:?}");
    assert_eq!(rep[0].ledgers.len(), 1, "{rep:?}");
    assert_eq!(rep[0].ledgers[0].pulled, 1, "{rep:?}");
    assert!(took < std::time::Duration::from_secs(4), "the sync waited {took:?} for a copy it does not sync");
    drop(held);
    node.shutdown();
}

/// `vereffen sync` on a home whose node runs hands the sync to that node
/// over the owner-only socket `HOME/run/node.sock`: the node holds its
/// copies open, so the sync costs what is new instead of opening the copy's
/// index in a new process (which grows with the copy). With no node (or a
/// socket left by a stopped one) it syncs by itself, as before.
#[test]
fn vereffen_sync_hands_the_work_to_the_node_running_on_its_home() {
    use std::os::unix::fs::PermissionsExt;
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let a = home(tmp.path(), "a", &["ziekenhuis"]);
    shared_ledger(&a, LEDGER, 20);
    let node_a = serve(&a);
    let b = home(tmp.path(), "b", &["verzekeraar"]);
    add_peer(&b, "hospital", &node_a.url(), "ziekenhuis");
    let first = client::sync(&b, Some("hospital"), None).unwrap();
    assert!(first.iter().all(|r| r.ok()), "{first:?}");
    let cli_sync = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vereffen"))
            .args(["sync", "--home", b.to_str().unwrap(), "--peer", "hospital"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // B's node runs (and holds B's copy open once it served it).
    let node_b = serve(&b);
    let socket = vereffen::node::local::socket_path(&b);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(socket.parent().unwrap()), 0o700);
    assert_eq!(mode(&socket), 0o600);
    let before = node_b.store().with_ledger(LEDGER, |l| l.len()).unwrap();
    node_a.store().with_ledger(LEDGER, |l| l.append(&[note(LEDGER, "ziekenhuis", "new")]).unwrap()).unwrap();
    let (code, out, err) = cli_sync();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("synced by the node running on this home"), "{err}");
    assert!(out.contains("pulled 1 new"), "{out}");
    // The node's own open copy holds the pulled entry and its witness record.
    assert_eq!(node_b.store().with_ledger(LEDGER, |l| l.len()).unwrap(), before + 2);
    assert_eq!(digest_served(&node_b, LEDGER), digest_served(&node_a, LEDGER));
    // A request that is not one, and a request for a peer it lacks: clear
    // errors, nothing synced.
    {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        s.write_all(b"garbage\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.contains("\"error\":\"not a request"), "{answer}");
    }
    let nobody = vereffen::node::local::sync_via_node(&b, Some("nobody"), None);
    assert!(nobody.as_ref().is_err_and(|e| e.to_string().contains("nobody")), "{nobody:?}");
    // Stopped: the socket is gone and `vereffen sync` syncs by itself.
    node_b.shutdown();
    assert!(!socket.exists());
    node_a.store().with_ledger(LEDGER, |l| l.append(&[note(LEDGER, "ziekenhuis", "newer")]).unwrap()).unwrap();
    let (code, out, err) = cli_sync();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(!err.contains("synced by the node"), "{err}");
    assert!(out.contains("pulled 1 new"), "{out}");
    // A socket left by a node that did not stop cleanly is not a node.
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let (code, out, err) = cli_sync();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(!err.contains("synced by the node"), "{err}");
    node_a.shutdown();
}
