//! The ledger copies of a node home, opened lazily, with a bounded cache of
//! open handles, and who may see which ledger.
//!
//! A `Ledger` holds its directory's lock for as long as it is open, so the
//! store is the one place of a process that opens a home's copies: the
//! server and the background sync share it. Each open copy sits behind its
//! own mutex, so writes to one ledger are serialized while other ledgers go
//! on. Handles unused for a while are closed ([`Store::close_idle`]), so a
//! command-line tool can use a copy of a running node between requests.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::audit::{self, checkpoint::Checkpoint, checkpoint::SignedNote};
use crate::ledger::keys::KeyId;
use crate::ledger::{Ledger, LedgerError};
use crate::node::home::{self, Home, HomeError};

/// Most ledger copies kept open at once; the least recently used idle one
/// is closed to open another.
pub const MAX_OPEN_LEDGERS: usize = 64;
/// A copy unused this long is closed by [`Store::close_idle`].
pub const IDLE_CLOSE: Duration = Duration::from_secs(2);

/// How often a running node looks for idle copies to close.
pub const IDLE_SWEEP: Duration = Duration::from_secs(1);

/// The longest a running node keeps a copy open after its last use: idle
/// for [`IDLE_CLOSE`], then found by the next sweep ([`IDLE_SWEEP`]).
pub const IDLE_HOLD_MAX: Duration = IDLE_CLOSE.saturating_add(IDLE_SWEEP);

/// How long opening a copy waits for another process to release it: the
/// node's side ([`Store::with_ledger`]) and the command-line tools
/// (`vereffen --ledger DIR ...` on a copy a node serves) alike. Longer than
/// [`IDLE_HOLD_MAX`] (asserted below), so a command run after a sync, or
/// between a peer's requests, never fails because the node still held the
/// copy: the node lets go before the tool gives up.
pub const LOCK_PATIENCE: Duration = Duration::from_secs(5);

// The relation the flows above rely on, checked at compile time (with a
// second of margin for a slow machine).
const _: () = assert!(IDLE_HOLD_MAX.as_millis() + 1000 <= LOCK_PATIENCE.as_millis());
const _: () = assert!(IDLE_SWEEP.as_millis() <= IDLE_CLOSE.as_millis());

/// After a copy changed, how long a node waits for it to be quiet before it
/// brings the copy's inbox cache up to date ([`Store::keep_inbox_current`]):
/// a sync or a burst of POSTs costs one refresh, after it, not one per batch,
/// and the refresh (which reads the whole copy) does not compete with it.
pub const INBOX_REFRESH_QUIET: Duration = Duration::from_secs(1);

/// The longest a changed copy waits for its inbox refresh while changes
/// keep coming (a copy that never goes quiet is still refreshed).
pub const INBOX_REFRESH_MAX_DELAY: Duration = Duration::from_secs(10);

const _: () = assert!(INBOX_REFRESH_QUIET.as_millis() <= INBOX_REFRESH_MAX_DELAY.as_millis());

/// Waits (bounded by [`LOCK_PATIENCE`]) for a copy another process holds:
/// calls `open` again while it fails with [`LedgerError::Locked`] and the
/// patience lasts. Any other outcome is returned at once.
pub fn open_patiently<T>(mut open: impl FnMut() -> Result<T, LedgerError>) -> Result<T, LedgerError> {
    let deadline = Instant::now() + LOCK_PATIENCE;
    loop {
        match open() {
            Err(LedgerError::Locked { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Why the store cannot do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// This home holds no copy of the ledger.
    #[error("this node holds no ledger {0:?}")]
    NotHosted(String),
    /// Every cache slot is in use.
    #[error("this node has {MAX_OPEN_LEDGERS} ledgers open and in use; try again shortly")]
    Busy,
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The home cannot be used.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// An audit step (checkpoint signing) failed.
    #[error("{0}")]
    Audit(String),
}

/// Who may see one ledger: the live keys of its registered parties, by key
/// name (`<party>/<fingerprint>`, as `audit::key_name` makes it).
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Live keys of registered parties by key name.
    pub live: HashMap<String, VerifyingKey>,
    /// The journal file's length when this was read (a change means
    /// another tool appended while the node had the copy closed).
    pub journal_len: u64,
}

impl Access {
    fn of(ledger: &Ledger) -> Access {
        let reg = ledger.registry();
        let mut live = HashMap::new();
        for party in reg.parties() {
            for id in reg.current_keys(&party.id) {
                if let Some(rec) = reg.key(&id) {
                    live.insert(audit::key_name(&party.id, &rec.public_key), rec.public_key);
                }
            }
        }
        let journal_len = std::fs::metadata(ledger.journal_path()).map(|m| m.len()).unwrap_or(0);
        Access { live, journal_len }
    }
}

struct Slot {
    ledger: Arc<Mutex<Ledger>>,
    last_used: Instant,
}

/// The ledger copies of one home, shared by the server and the sync client.
pub struct Store {
    home: Home,
    keys: Vec<(String, SigningKey)>,
    cache: Mutex<HashMap<String, Slot>>,
    access: RwLock<HashMap<String, Access>>,
    notes: Mutex<HashMap<String, SignedNote>>,
    /// Ledgers whose inbox cache is to be refreshed, to the refresher
    /// thread ([`Store::keep_inbox_current`]); unset: no refresher.
    inbox: std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<String>>>,
    /// Held by a running node's syncs (background rounds and those asked
    /// over `node::local`), so they run one at a time.
    sync_gate: tokio::sync::Mutex<()>,
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Audit("an internal lock was poisoned by a panic; restart the node".into())
}

impl Store {
    /// A store over `home` with the organisation's signing keys. Reads every
    /// hosted ledger's registry once, to know who may see what.
    pub fn open(home: Home, keys: Vec<(String, SigningKey)>) -> Result<Store, StoreError> {
        let store = Store {
            home,
            keys,
            cache: Mutex::new(HashMap::new()),
            access: RwLock::new(HashMap::new()),
            notes: Mutex::new(HashMap::new()),
            inbox: std::sync::OnceLock::new(),
            sync_gate: tokio::sync::Mutex::new(()),
        };
        for id in store.home.ledger_ids()? {
            match Ledger::open(&store.home.ledger_dir(&id), &crate::rules::ALL) {
                Ok(ledger) => store.refresh_access(&ledger),
                // In use by another tool: learnt when first asked for.
                Err(LedgerError::Locked { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(store)
    }

    /// A store over `home` that opens nothing yet: who may see a ledger is
    /// learnt when it is first opened. For the sync client, which only
    /// uses the copies it syncs ([`Store::open`] reads every copy, which
    /// a node serving requests needs and one sync of one ledger does not).
    pub fn open_lazy(home: Home, keys: Vec<(String, SigningKey)>) -> Store {
        Store {
            home,
            keys,
            cache: Mutex::new(HashMap::new()),
            access: RwLock::new(HashMap::new()),
            notes: Mutex::new(HashMap::new()),
            inbox: std::sync::OnceLock::new(),
            sync_gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The lock a running node's syncs hold, so that its background rounds
    /// and the syncs its owner asks for (`node::local`) never overlap.
    pub fn sync_gate(&self) -> &tokio::sync::Mutex<()> {
        &self.sync_gate
    }

    /// The party `key` is a live key of in `ledger`, from what is known of
    /// who may see it (brought up to date first when its journal changed):
    /// `Some(None)` when it is no live key of a registered party there,
    /// `None` when the copy's registry could not be read (e.g. in use).
    pub fn live_party_of(&self, ledger: &str, key: &VerifyingKey) -> Option<Option<String>> {
        self.refresh_if_changed(ledger);
        let map = self.access.read().ok()?;
        let access = map.get(ledger)?;
        let mut parties: Vec<&str> = access
            .live
            .iter()
            .filter(|(_, k)| *k == key)
            .filter_map(|(name, _)| name.split_once('/').map(|(p, _)| p))
            .collect();
        // One key belongs to one party of a ledger (the registry refuses a
        // key registered twice); sorted anyway, so the answer never
        // depends on the map's order.
        parties.sort_unstable();
        Some(parties.first().map(|p| p.to_string()))
    }

    /// The home.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The organisation's signing keys (file name, key).
    pub fn keys(&self) -> &[(String, SigningKey)] {
        &self.keys
    }

    /// Records who may see `ledger` now (after opening it or appending).
    pub fn refresh_access(&self, ledger: &Ledger) {
        let access = Access::of(ledger);
        if let Ok(mut map) = self.access.write() {
            map.insert(ledger.id().to_string(), access);
        }
    }

    /// The key named `key_name` if it is a live key of a registered party
    /// of `ledger`, and this node hosts `ledger`.
    pub fn lookup_key(&self, ledger: &str, key_name: &str) -> Option<VerifyingKey> {
        self.access.read().ok()?.get(ledger)?.live.get(key_name).copied()
    }

    /// Brings who may see `id` up to date when its journal changed since it
    /// was last read (or it was never read): opens the copy, which reads
    /// its registry. Errors (a copy in use elsewhere) leave it as it was.
    pub fn refresh_if_changed(&self, id: &str) {
        if !self.hosts(id) {
            return;
        }
        let len = std::fs::metadata(self.home.ledger_dir(id).join(crate::ledger::copy::JOURNAL_FILE))
            .map(|m| m.len())
            .unwrap_or(0);
        let known = self.access.read().ok().and_then(|m| m.get(id).map(|a| a.journal_len));
        if known != Some(len) {
            let _ = self.with_ledger(id, |l| self.refresh_access(l));
        }
    }

    /// [`Store::refresh_if_changed`] for every hosted ledger.
    pub fn refresh_all(&self) {
        if let Ok(ids) = self.home.ledger_ids() {
            for id in ids {
                self.refresh_if_changed(&id);
            }
        }
    }

    /// True when who may see `ledger` is known (it was opened once).
    pub fn knows(&self, ledger: &str) -> bool {
        self.access.read().is_ok_and(|m| m.contains_key(ledger))
    }

    /// The key named `key_name` if it is a live key of a registered party
    /// in any hosted ledger, with those ledgers (sorted).
    pub fn ledgers_of_key(&self, key_name: &str) -> (Option<VerifyingKey>, Vec<String>) {
        let Ok(map) = self.access.read() else { return (None, vec![]) };
        let mut key = None;
        let mut ids = BTreeSet::new();
        for (id, a) in map.iter() {
            if let Some(k) = a.live.get(key_name) {
                // One key name, one key: the name carries its fingerprint.
                if key.is_none_or(|prev| prev == *k) {
                    key = Some(*k);
                    ids.insert(id.clone());
                }
            }
        }
        (key, ids.into_iter().collect())
    }

    /// True when this home holds a copy of `id`.
    pub fn hosts(&self, id: &str) -> bool {
        crate::ledger::entry::is_valid_name(id)
            && self.home.ledger_dir(id).join(crate::ledger::copy::JOURNAL_FILE).is_file()
    }

    fn handle(&self, id: &str) -> Result<Arc<Mutex<Ledger>>, StoreError> {
        let mut cache = self.cache.lock().map_err(poisoned)?;
        if let Some(slot) = cache.get_mut(id) {
            slot.last_used = Instant::now();
            return Ok(slot.ledger.clone());
        }
        if !self.hosts(id) {
            return Err(StoreError::NotHosted(id.to_string()));
        }
        if cache.len() >= MAX_OPEN_LEDGERS {
            let victim = cache
                .iter()
                .filter(|(_, s)| Arc::strong_count(&s.ledger) == 1)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            match victim {
                Some(k) => {
                    cache.remove(&k);
                }
                None => return Err(StoreError::Busy),
            }
        }
        let ledger = Ledger::open(&self.home.ledger_dir(id), &crate::rules::ALL)?;
        self.refresh_access(&ledger);
        let ledger = Arc::new(Mutex::new(ledger));
        cache.insert(id.to_string(), Slot { ledger: ledger.clone(), last_used: Instant::now() });
        Ok(ledger)
    }

    /// Runs `f` on the open copy of ledger `id` (opened if needed), holding
    /// that copy's lock: calls for one ledger are serialized. Access is
    /// refreshed afterwards, since `f` may have appended.
    pub fn with_ledger<R>(&self, id: &str, f: impl FnOnce(&mut Ledger) -> R) -> Result<R, StoreError> {
        // Another process (a command-line tool, or a node closing its idle
        // copies) may hold the copy for a moment: wait, bounded.
        let deadline = Instant::now() + LOCK_PATIENCE;
        let handle = loop {
            match self.handle(id) {
                Err(StoreError::Ledger(LedgerError::Locked { .. })) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => break other?,
            }
        };
        let mut ledger = handle.lock().map_err(poisoned)?;
        let len = ledger.len();
        let out = f(&mut ledger);
        if ledger.len() != len {
            self.refresh_access(&ledger);
            self.inbox_changed(id);
        }
        Ok(out)
    }

    /// From now on, keeps the home's inbox cache (`HOME/cache/inbox`,
    /// `audit::inbox::refresh_home_cache`) current for every copy this
    /// store appends to: a thread refreshes a changed copy once it has been
    /// quiet for [`INBOX_REFRESH_QUIET`] (at most [`INBOX_REFRESH_MAX_DELAY`]
    /// after its first change). The thread ends when the store is dropped.
    /// A running node calls it; a one-off sync does its refresh itself.
    /// Calling it again does nothing.
    pub fn keep_inbox_current(&self) {
        let home = self.home.dir().to_path_buf();
        self.inbox.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<String>();
            let started = std::thread::Builder::new()
                .name("vereffen-inbox-cache".into())
                .spawn(move || inbox_refresher(&home, &rx));
            if let Err(e) = started {
                eprintln!("note: the inbox cache is not kept current by this node (cannot start its thread: {e}); `vereffen inbox` computes what changed");
            }
            Mutex::new(tx)
        });
    }

    /// Tells the refresher (if any) that `id` changed.
    fn inbox_changed(&self, id: &str) {
        if let Some(tx) = self.inbox.get() {
            if let Ok(tx) = tx.lock() {
                // A refresher that ended only costs the next query time.
                let _ = tx.send(id.to_string());
            }
        }
    }

    /// Creates an empty copy of ledger `id` in this home (to pull it whole
    /// from a peer). Refuses an invalid id or an existing directory.
    pub fn create_ledger(&self, id: &str) -> Result<(), StoreError> {
        let dir = self.home.ledger_dir(id);
        let ledger = Ledger::init(&dir, id, &crate::rules::ALL)?;
        self.refresh_access(&ledger);
        let mut cache = self.cache.lock().map_err(poisoned)?;
        cache.insert(id.to_string(), Slot { ledger: Arc::new(Mutex::new(ledger)), last_used: Instant::now() });
        Ok(())
    }

    /// Closes the copies not used for `idle` and not in use now.
    pub fn close_idle(&self, idle: Duration) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, s| Arc::strong_count(&s.ledger) > 1 || s.last_used.elapsed() < idle);
        }
    }

    /// Closes every copy not in use now.
    pub fn close_all(&self) {
        self.close_idle(Duration::ZERO);
    }

    /// The node's key for `ledger` and the party it acts as there
    /// (`home::key_for_ledger`).
    pub fn key_for(&self, ledger: &Ledger) -> Result<Option<(SigningKey, String)>, StoreError> {
        Ok(home::key_for_ledger(&self.keys, ledger.registry(), ledger.id())?.map(|(k, p)| (k.clone(), p)))
    }

    /// This node's signed checkpoint of its copy at `size` (default: now),
    /// origin `vereffen/<ledger>/<party>`: signed on demand and kept until
    /// the tree grows. `None` when the node has no key in the ledger.
    pub fn checkpoint(&self, ledger: &Ledger, size: Option<u64>) -> Result<Option<SignedNote>, StoreError> {
        let Some((key, party)) = self.key_for(ledger)? else { return Ok(None) };
        let origin = audit::origin(ledger.id(), &party);
        let tree = ledger.merkle_tree();
        let size = size.unwrap_or(tree.size());
        let audit_err = |e: &dyn std::fmt::Display| StoreError::Audit(e.to_string());
        let root = if size == tree.size() {
            tree.root()
        } else if size < tree.size() {
            let leaves = ledger.index().leaf_hashes().map_err(LedgerError::from)?;
            crate::ledger::merkle::range_root(&leaves, 0, size).map_err(|e| audit_err(&e))?
        } else {
            return Err(StoreError::Audit(format!("this copy has only {} entries, not {size}", tree.size())));
        };
        let name = audit::key_name(&party, &key.verifying_key());
        let cache_key = format!("{}\n{name}", ledger.id());
        {
            let notes = self.notes.lock().map_err(poisoned)?;
            if let Some(n) =
                notes.get(&cache_key).filter(|n| n.checkpoint.size() == size && *n.checkpoint.root() == root)
            {
                return Ok(Some(n.clone()));
            }
        }
        let cp = Checkpoint::new(&origin, size, root).map_err(|e| audit_err(&e))?;
        let note = SignedNote::sign(cp, &name, &key).map_err(|e| audit_err(&e))?;
        if audit::copy_origin(ledger.dir()).map_err(|e| audit_err(&e))?.is_none() {
            audit::set_copy_origin(ledger.dir(), &origin).map_err(|e| audit_err(&e))?;
        }
        if size == tree.size() {
            self.notes.lock().map_err(poisoned)?.insert(cache_key, note.clone());
        }
        Ok(Some(note))
    }

    /// Our own key name in `ledger`, if the node has a key there.
    pub fn own_key_name(&self, ledger: &Ledger) -> Result<Option<String>, StoreError> {
        Ok(self.key_for(ledger)?.map(|(k, p)| audit::key_name(&p, &k.verifying_key())))
    }
}

/// The refresher thread of [`Store::keep_inbox_current`]: collects changed
/// ledgers and refreshes each one once quiet; ends when the store is gone.
fn inbox_refresher(home: &std::path::Path, rx: &std::sync::mpsc::Receiver<String>) {
    use std::sync::mpsc::RecvTimeoutError;
    // Changed ledgers: when each first changed and when last.
    let mut pending: HashMap<String, (Instant, Instant)> = HashMap::new();
    loop {
        let now = Instant::now();
        // The next moment a pending ledger is due.
        let due = pending
            .values()
            .map(|(first, last)| (*last + INBOX_REFRESH_QUIET).min(*first + INBOX_REFRESH_MAX_DELAY))
            .min();
        let got = match due {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => rx.recv_timeout(at.saturating_duration_since(now)),
        };
        match got {
            Ok(id) => {
                let now = Instant::now();
                pending.entry(id).and_modify(|(_, last)| *last = now).or_insert((now, now));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let mut ready: Vec<String> = pending
            .iter()
            .filter(|(_, (first, last))| now >= *last + INBOX_REFRESH_QUIET || now >= *first + INBOX_REFRESH_MAX_DELAY)
            .map(|(id, _)| id.clone())
            .collect();
        ready.sort();
        for id in ready {
            pending.remove(&id);
            if let Err(e) = crate::audit::inbox::refresh_home_cache(home, &id) {
                eprintln!("note: the inbox cache of ledger {id} was not refreshed ({e}); `vereffen inbox` computes it");
            }
        }
    }
}

/// The key id of a signing key, for messages.
pub fn fingerprint(key: &SigningKey) -> String {
    KeyId::of(&key.verifying_key()).fingerprint()
}
