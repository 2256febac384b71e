//! Faults between party nodes (issue 14): connections cut at random
//! points, a peer restarted mid-sync, a hostile peer answering truncated,
//! reordered (refused: a range answer must be in order), duplicated, foreign-ledger, oversized or garbage entries
//! (and a fuzzed client), and a peer that shows two histories.
//!
//! Everything runs on 127.0.0.1 with ports chosen free; every loop is
//! bounded in count and time; every node stops on drop.

mod node_support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use node_support::*;
use vereffen::node::client;

const LEDGER: &str = "shared-1";

/// Syncs `home` with `peer`; one line per outcome: Ok(report lines) or the error.
fn sync(home: &Path, peer: &str) -> Result<Vec<client::LedgerSync>, String> {
    match client::sync(home, Some(peer), None) {
        Ok(reports) => {
            let ls: Vec<_> = reports.into_iter().flat_map(|r| r.ledgers).collect();
            match ls.iter().find_map(|l| l.error.clone()) {
                Some(e) => Err(e),
                None => Ok(ls),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Like [`sync`], for one ledger only.
fn sync_only(home: &Path, peer: &str, ledger: &str) -> Result<Vec<client::LedgerSync>, String> {
    match client::sync(home, Some(peer), Some(ledger)) {
        Ok(reports) => {
            let ls: Vec<_> = reports.into_iter().flat_map(|r| r.ledgers).collect();
            match ls.iter().find_map(|l| l.error.clone()) {
                Some(e) => Err(e),
                None => Ok(ls),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

// ---------------------------------------------------------------------------
// 1. Connection cut mid-transfer at random points.

/// Number of cut trials.
const CUT_TRIALS: u64 = 100;

#[test]
fn a_connection_cut_at_100_random_points_never_half_imports_and_the_next_sync_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let a = home(root, "a", &["ziekenhuis"]);
    shared_ledger(&a, LEDGER, 300);
    // 100 syncs in a row by one key: the per-key rate limit (tested in
    // tests/node.rs) is lifted here so that only the cuts end a sync.
    let limits =
        vereffen::node::server::Limits { rate_per_sec: 1_000_000, rate_burst: 1_000_000, ..Default::default() };
    let node = serve_with(&a, limits);

    // One full sync through a counting proxy: how many bytes the node answers.
    let probe_home = home(root, "probe", &["verzekeraar"]);
    let pipe = Proxy::start(node.addr(), Mode::Pipe);
    add_peer(&probe_home, "hospital", &pipe.url(), "ziekenhuis");
    sync(&probe_home, "hospital").expect("a sync through the counting proxy");
    let total = pipe.answered.load(std::sync::atomic::Ordering::SeqCst);
    drop(pipe);
    assert!(total > 10_000, "a full sync answers {total} bytes");

    let started = Instant::now();
    let mut rng = Rng(0x005e_ed0f_c075);
    let mut cut_failures = 0;
    for trial in 0..CUT_TRIALS {
        assert!(started.elapsed() < Duration::from_secs(600), "trial {trial}: out of time");
        let (a_ids, _) = ids_served(&node, LEDGER);
        let b = home(root, &format!("b{trial}"), &["verzekeraar"]);
        let budget = rng.below(total as u64) as i64;
        let proxy = Proxy::start(node.addr(), Mode::CutAfter(budget));
        add_peer(&b, "cut", &proxy.url(), "ziekenhuis");
        add_peer(&b, "hospital", &node.url(), "ziekenhuis");
        let first = sync(&b, "cut");
        drop(proxy);
        if let Err(e) = &first {
            cut_failures += 1;
            assert!(e.contains("peer cut"), "trial {trial} (cut after {budget} bytes): the error names the peer: {e}");
        }
        // Nothing half-imported: the copy (if created) verifies, and of the
        // peer's entries it holds none or the whole batch (one pull batch
        // of PULL_BATCH entries covers this ledger).
        let copy = b.join("ledgers").join(LEDGER);
        if copy.join("journal").exists() {
            let (b_ids, _) = ids_of_dir(&copy);
            let held = b_ids.intersection(&a_ids).count();
            assert!(
                held == 0 || held == a_ids.len(),
                "trial {trial} (cut after {budget} of {total} bytes): {held} of {} entries imported",
                a_ids.len()
            );
        }
        // The next sync (not cut) completes with equal set digests.
        let ls = sync(&b, "hospital").unwrap_or_else(|e| panic!("trial {trial}: the sync after the cut: {e}"));
        assert_eq!(ls.len(), 1);
        assert_eq!(ls[0].digest, ls[0].peer_digest, "trial {trial}: digests differ after the sync");
        assert_eq!(digest_of_dir(&copy), digest_served(&node, LEDGER), "trial {trial}");
        std::fs::remove_dir_all(&b).unwrap();
    }
    // The cut points are spread over the whole exchange: most trials cut it.
    assert!(cut_failures >= CUT_TRIALS / 2, "only {cut_failures} of {CUT_TRIALS} cuts ended a sync");
}

// ---------------------------------------------------------------------------
// 2. A peer restarted mid-sync.

#[test]
fn a_peer_killed_during_a_large_pull_and_restarted_lets_the_sync_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let a = home(root, "a", &["ziekenhuis"]);
    // More than two pull batches.
    shared_ledger(&a, LEDGER, 25_000);
    let b = home(root, "b", &["verzekeraar"]);
    let node = Node::start(&a);
    add_peer(&b, "hospital", &node.url, "ziekenhuis");
    let b2 = b.clone();
    let syncing = std::thread::spawn(move || sync(&b2, "hospital"));
    // Kill the node once the first batch has landed (bounded wait).
    let state = b.join("sync").join("hospital").join(format!("{LEDGER}.json"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline && !state.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(node);
    let first = syncing.join().unwrap();
    let e = first.expect_err("the sync must fail when the peer dies mid-pull");
    assert!(e.contains("peer hospital"), "{e}");
    let copy = b.join("ledgers").join(LEDGER);
    let (_, mid) = ids_of_dir(&copy);
    assert!(mid < 25_002, "the pull was not interrupted ({mid} entries)");
    assert_eq!(mid % client::PULL_BATCH, 0, "whole batches only: {mid}");

    // Restarted (on a new port): the next sync completes.
    let node = Node::start(&a);
    Home::open(&b).unwrap().remove_peer("hospital").unwrap();
    add_peer(&b, "hospital", &node.url, "ziekenhuis");
    let ls = sync(&b, "hospital").expect("the sync after the restart");
    assert_eq!(ls[0].digest, ls[0].peer_digest);
    assert!(ls[0].size >= 25_002);
    drop(node);
    assert_eq!(digest_of_dir(&copy), digest_of_dir(&a.join("ledgers").join(LEDGER)));
}

use vereffen::node::home::Home;

// ---------------------------------------------------------------------------
// 3. A hostile peer.

/// B holds the registrations; A holds them and `NEW` notes more. A hostile
/// proxy in front of A rewrites the answer to the entries request with
/// `evil(real bundle body, real vereffen-size)`. Returns the sync's error;
/// asserts nothing was appended to B's copy and nothing panicked.
struct Hostile {
    _tmp: tempfile::TempDir,
    b: std::path::PathBuf,
    node: vereffen::node::server::ServerHandle,
    before: Vec<u8>,
}

const NEW: usize = 20;

/// Maps (the real bundle body, the real `vereffen-size`) to the raw answer sent instead.
type Evil = Arc<dyn Fn(&[u8], &str) -> Vec<u8> + Send + Sync>;

impl Hostile {
    fn new() -> Hostile {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let a = home(&root, "a", &["ziekenhuis"]);
        shared_ledger(&a, LEDGER, NEW);
        let b = home(&root, "b", &["verzekeraar"]);
        shared_ledger(&b, LEDGER, 0);
        // A ledger foreign to B (B's party is not registered in it) whose
        // entries the hostile peer mixes in.
        {
            let dir = a.join("ledgers").join("foreign-9");
            let mut l = vereffen::ledger::Ledger::init(&dir, "foreign-9", &vereffen::rules::ALL).unwrap();
            use vereffen::ledger::registry::Role;
            l.append(&[
                register("foreign-9", "ziekenhuis", Role::Provider),
                register("foreign-9", "thuiszorg", Role::Payer),
            ])
            .unwrap();
            let notes: Vec<_> = (0..3).map(|i| note("foreign-9", "ziekenhuis", &format!("note {i}"))).collect();
            l.append(&notes).unwrap();
        }
        let node = serve(&a);
        let before = read_or_empty(&b.join("ledgers").join(LEDGER).join("journal"));
        Hostile { _tmp: tmp, b, node, before }
    }

    /// One sync of B through a proxy answering entries requests with `evil`.
    fn attempt(&self, evil: Evil) -> String {
        let proxy = Proxy::start(
            self.node.addr(),
            Mode::Rewrite(Box::new(move |method, path, real| {
                if method != "GET" || !path.contains("/entries?") {
                    return None;
                }
                let (head, body) = split_response(real);
                let size = header(&head, "vereffen-size").unwrap_or_default();
                Some(evil(&body, &size))
            })),
        );
        let _ = Home::open(&self.b).unwrap().remove_peer("evil");
        add_peer(&self.b, "evil", &proxy.url(), "ziekenhuis");
        let r = sync_only(&self.b, "evil", LEDGER);
        drop(proxy);
        let e = r.expect_err("a hostile answer must end the sync");
        assert!(e.contains("peer evil"), "the error names the peer: {e}");
        let after = read_or_empty(&self.b.join("ledgers").join(LEDGER).join("journal"));
        assert_eq!(after, self.before, "something was appended after a hostile answer: {e}");
        e
    }
}

fn ok200(size: &str, body: &[u8]) -> Vec<u8> {
    response("200 OK", &[("content-type", "application/jsonl".into()), ("vereffen-size", size.into())], body)
}

fn lines(body: &[u8]) -> Vec<Vec<u8>> {
    body.split_inclusive(|b| *b == b'\n').map(|l| l.to_vec()).collect()
}

#[test]
fn a_hostile_peer_with_truncated_duplicated_foreign_oversized_or_garbage_entries_appends_nothing() {
    let h = Hostile::new();
    let foreign = {
        let mut out = Vec::new();
        let e = note("foreign-9", "ziekenhuis", "note 0");
        vereffen::ledger::bundle::write_bundle(&mut out, "foreign-9", 1, &[(1, e)]).unwrap();
        out
    };
    let cases: Vec<(&str, Evil)> = vec![
        ("truncated body", Arc::new(|b: &[u8], s: &str| ok200(s, &b[..b.len() * 2 / 3]))),
        (
            "one entry line dropped",
            Arc::new(|b: &[u8], s: &str| {
                let mut l = lines(b);
                l.remove(l.len() / 2);
                ok200(s, &l.concat())
            }),
        ),
        (
            "duplicated line",
            Arc::new(|b: &[u8], s: &str| {
                let mut l = lines(b);
                let d = l[3].clone();
                l.insert(4, d);
                ok200(s, &l.concat())
            }),
        ),
        (
            "a line replaced by a foreign ledger's entry",
            Arc::new(move |b: &[u8], s: &str| {
                let mut l = lines(b);
                let f = lines(&foreign);
                let last = l.len() - 1;
                l[last] = f[f.len() - 1].clone();
                ok200(s, &l.concat())
            }),
        ),
        (
            "a foreign ledger's bundle",
            Arc::new(|_: &[u8], s: &str| {
                let mut out = Vec::new();
                let e: Vec<_> =
                    (0..3).map(|i| (i + 1, note("foreign-9", "ziekenhuis", &format!("note {i}")))).collect();
                vereffen::ledger::bundle::write_bundle(&mut out, "foreign-9", 1, &e).unwrap();
                ok200(s, &out)
            }),
        ),
        (
            "oversized body",
            Arc::new(|b: &[u8], s: &str| {
                let mut big = b.to_vec();
                big.resize(client::MAX_RESPONSE_BYTES + 4096, b' ');
                ok200(s, &big)
            }),
        ),
        ("garbage", Arc::new(|_: &[u8], s: &str| ok200(s, b"\x00\xff{not json at all\n\x7f\x80\n"))),
        ("an inflated vereffen-size", Arc::new(|b: &[u8], _: &str| ok200("99999", b))),
        ("no vereffen-size", Arc::new(|b: &[u8], _: &str| response("200 OK", &[], b))),
        ("a 500", Arc::new(|_: &[u8], _: &str| response("500 Internal Server Error", &[], b"{\"error\":\"boom\"}"))),
        (
            "a signature altered in one entry",
            Arc::new(|b: &[u8], s: &str| {
                let mut l = lines(b);
                let t = String::from_utf8(l[5].clone()).unwrap();
                // Flip one hex digit of the last signature in the line.
                let i = t.rfind("\"sig\"").map(|i| i + 8).unwrap_or(t.len() / 2);
                let mut bytes = t.into_bytes();
                bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
                l[5] = bytes;
                ok200(s, &l.concat())
            }),
        ),
    ];
    for (what, evil) in cases {
        let e = h.attempt(evil);
        assert!(!e.is_empty(), "{what}");
        eprintln!("{what}: {e}");
    }
}

/// A range answer must be the range asked for, in order (PROTOCOL.md 6,
/// step 2): a peer answering with the right entries in another order is
/// refused, the error names the peer and the first wrong position, and
/// nothing is appended. The same answer in the right order syncs.
#[test]
fn a_peer_reordering_a_batch_is_refused_naming_the_peer_and_the_first_wrong_position() {
    let h = Hostile::new();
    let e = h.attempt(Arc::new(|b: &[u8], s: &str| {
        let mut l = lines(b);
        let n = l.len();
        l[1..n].reverse();
        ok200(s, &l.concat())
    }));
    // Line 2 holds sequence 1; reversed, it holds the last one.
    assert!(e.contains(":2: entry "), "names the first wrong line: {e}");
    // Two registrations and NEW notes: the last is sequence NEW + 2.
    assert!(e.contains(&format!("has sequence {}", NEW + 2)), "{e}");
    assert!(e.contains("position 1 of the range asked for is sequence 1"), "{e}");
    assert!(e.contains("out of order"), "{e}");
    // Only two lines swapped further on: the first wrong position is named.
    let e = h.attempt(Arc::new(|b: &[u8], s: &str| {
        let mut l = lines(b);
        l.swap(4, 5);
        ok200(s, &l.concat())
    }));
    assert!(e.contains(":5: entry ") && e.contains("position 4 of the range asked for is sequence 4"), "{e}");
    // A header whose `since` is not the start asked for.
    let e = h.attempt(Arc::new(|b: &[u8], s: &str| {
        let t = String::from_utf8(b.to_vec()).unwrap().replacen("\"since\":1,", "\"since\":2,", 1);
        ok200(s, t.as_bytes())
    }));
    assert!(e.contains(":1: the answer starts at sequence 2, but the range asked for starts at 1"), "{e}");
    // The honest answer passes through the same proxy and syncs.
    let proxy = Proxy::start(h.node.addr(), Mode::Rewrite(Box::new(|_, _, _| None)));
    add_peer(&h.b, "honest", &proxy.url(), "ziekenhuis");
    let ls = sync_only(&h.b, "honest", LEDGER).expect("the range in order");
    drop(proxy);
    assert_eq!(ls[0].digest, ls[0].peer_digest);
    let (b_ids, _) = ids_of_dir(&h.b.join("ledgers").join(LEDGER));
    let (a_ids, _) = ids_served(&h.node, LEDGER);
    assert_eq!(b_ids, a_ids);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

        /// The client against arbitrary answer bytes (after a valid status
        /// line, or from the first byte): no panic, nothing appended, an
        /// error naming the peer.
        #[test]
        fn fuzzed_entries_answers_never_append_or_panic(
            raw in proptest::collection::vec(any::<u8>(), 0..2048),
            mutate in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..12),
            mode in 0u8..3,
        ) {
            thread_local!(static H: Hostile = Hostile::new());
            H.with(|h| {
                let raw = Arc::new(raw);
                let mutate = Arc::new(mutate);
                h.attempt(Arc::new(move |b: &[u8], s: &str| match mode {
                    // The real bundle with bytes changed at random places.
                    0 => {
                        let mut b = b.to_vec();
                        for (at, v) in mutate.iter() {
                            let i = *at as usize % b.len().max(1);
                            if let Some(x) = b.get_mut(i) { *x = *v; }
                        }
                        ok200(s, &b)
                    }
                    // Random body after a valid head.
                    1 => ok200(s, &raw),
                    // Random bytes as the whole answer.
                    _ => raw.to_vec(),
                }));
            });
        }
    }
}

// ---------------------------------------------------------------------------
// 4. A peer that shows two different histories to two parties.

#[test]
fn a_peer_showing_two_histories_is_caught_as_equivocation_by_the_next_sync_of_either_witness() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // The hospital keeps two copies with the same key: history one (shown
    // to the insurer) and history two (shown to the home care provider).
    let one = home(root, "one", &["ziekenhuis"]);
    let two = home(root, "two", &["ziekenhuis"]);
    for (h, text) in [(&one, "the baseline is 2025"), (&two, "the baseline is 2024")] {
        shared_ledger(h, LEDGER, 2);
        let dir = h.join("ledgers").join(LEDGER);
        let mut l = vereffen::ledger::Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
        l.append(&[register(LEDGER, "thuiszorg", vereffen::ledger::registry::Role::Provider)]).unwrap();
        l.append(&[note(LEDGER, "ziekenhuis", text)]).unwrap();
    }
    let node_one = serve(&one);
    let node_two = serve(&two);
    let insurer = home(root, "insurer", &["verzekeraar"]);
    let homecare = home(root, "homecare", &["thuiszorg"]);
    add_peer(&insurer, "hospital", &node_one.url(), "ziekenhuis");
    add_peer(&homecare, "hospital", &node_two.url(), "ziekenhuis");
    let ls = sync(&insurer, "hospital").expect("insurer sees history one");
    assert!(ls[0].witness.contains("witnessed"), "{:?}", ls[0]);
    let ls = sync(&homecare, "hospital").expect("home care sees history two");
    assert!(ls[0].witness.contains("witnessed"), "{:?}", ls[0]);

    // Now each witness is shown the other history.
    for (h, other) in [(&insurer, &node_two), (&homecare, &node_one)] {
        Home::open(h).unwrap().remove_peer("hospital").unwrap();
        add_peer(h, "hospital", &other.url(), "ziekenhuis");
        let before_ids = ids_of_dir(&h.join("ledgers").join(LEDGER)).0;
        let r = client::sync(h, Some("hospital"), None).expect("the sync reports per ledger");
        let l = &r[0].ledgers[0];
        assert!(l.stopped, "{}: sync must stop on equivocation: {l:?}", h.display());
        let e = l.error.clone().unwrap_or_default();
        assert!(e.contains("peer hospital") && e.contains("EQUIVOCATION"), "{e}");
        // The evidence is recorded in the witness's copy, and nothing of
        // the other history was imported.
        let dir = h.join("ledgers").join(LEDGER);
        let copy = vereffen::ledger::Ledger::open(&dir, &vereffen::rules::ALL).unwrap();
        let ev = copy.index().by_kind(vereffen::audit::KIND_EQUIVOCATION).unwrap();
        assert_eq!(ev.len(), 1, "{}: one equivocation record", h.display());
        let (now_ids, _) = ids_of(&copy);
        let other_ids = ids_served(other, LEDGER).0;
        let foreign_history: Vec<_> = now_ids.difference(&before_ids).filter(|i| other_ids.contains(*i)).collect();
        assert!(foreign_history.is_empty(), "entries of the other history were imported: {foreign_history:?}");
        drop(copy);
        // And it stays stopped.
        let r = client::sync(h, Some("hospital"), None).unwrap();
        assert!(r[0].ledgers[0].stopped);
    }
}
