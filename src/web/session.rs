//! Sessions of the workspace, in memory: a random 256-bit id in a cookie,
//! an idle and an absolute expiry, a CSRF token per session; and the login
//! rate limit per user name and per peer address. Every bound is a named
//! constant.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use rand_core::RngCore as _;
use subtle::ConstantTimeEq as _;

use super::users::Role;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vereffen_session";
/// A session unused this long ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after login, used or not.
pub const SESSION_MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);
/// Most sessions at once; a login beyond it ends the oldest session.
pub const MAX_SESSIONS: usize = 10_000;
/// Failed logins allowed per user name, and per peer address, within
/// [`LOGIN_WINDOW`]; beyond, logins are refused until the window passes.
pub const LOGIN_FAILURES_PER_NAME: u32 = 5;
/// Failed logins allowed per peer address within [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES_PER_ADDRESS: u32 = 20;
/// The window failed logins are counted in.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most user names and most peer addresses the rate limiter tracks (each);
/// when full, the entries whose window passed are dropped, then the oldest.
pub const MAX_LIMITER_KEYS: usize = 50_000;

/// A random 256-bit value, as 64 lowercase hex digits.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut b);
    data_encoding::HEXLOWER.encode(&b)
}

/// Whether two tokens are equal, compared in constant time.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// One logged-in user's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's name.
    pub user: String,
    /// The user's role at login.
    pub role: Role,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    created: Instant,
    last_used: Instant,
}

/// The sessions of a node.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<String, Session>,
}

impl Sessions {
    /// Starts a session for `user`; returns its id.
    pub fn start(&mut self, user: &str, role: Role, now: Instant) -> String {
        self.by_id.retain(|_, s| live(s, now));
        if self.by_id.len() >= MAX_SESSIONS {
            if let Some(oldest) = self.by_id.iter().min_by_key(|(_, s)| s.created).map(|(k, _)| k.clone()) {
                self.by_id.remove(&oldest);
            }
        }
        let id = random_token();
        let s = Session { user: user.to_string(), role, csrf: random_token(), created: now, last_used: now };
        self.by_id.insert(id.clone(), s);
        id
    }

    /// The live session with this id (its idle time restarts), or none; an
    /// expired one is removed. The id is looked up by its hash-map key, so
    /// only a holder of the full 256-bit id finds it.
    pub fn get(&mut self, id: &str, now: Instant) -> Option<Session> {
        let s = self.by_id.get_mut(id)?;
        if !live(s, now) {
            self.by_id.remove(id);
            return None;
        }
        s.last_used = now;
        Some(s.clone())
    }

    /// Ends a session.
    pub fn end(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    /// Ends every session of `user` (after their removal, say).
    pub fn end_user(&mut self, user: &str) {
        self.by_id.retain(|_, s| s.user != user);
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.saturating_duration_since(s.last_used) < SESSION_IDLE
        && now.saturating_duration_since(s.created) < SESSION_MAX_AGE
}

/// Failed logins per user name and per peer address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    names: HashMap<String, (u32, Instant)>,
    addresses: HashMap<IpAddr, (u32, Instant)>,
}

impl LoginLimiter {
    /// Whether a login for `name` from `addr` may be tried now.
    pub fn allowed(&mut self, name: &str, addr: IpAddr, now: Instant) -> bool {
        let under = |m: Option<&(u32, Instant)>, max: u32| match m {
            Some((n, since)) if now.saturating_duration_since(*since) < LOGIN_WINDOW => *n < max,
            _ => true,
        };
        under(self.names.get(name), LOGIN_FAILURES_PER_NAME)
            && under(self.addresses.get(&addr), LOGIN_FAILURES_PER_ADDRESS)
    }

    /// Counts a failed login.
    pub fn failed(&mut self, name: &str, addr: IpAddr, now: Instant) {
        count(&mut self.names, name.to_string(), now);
        count(&mut self.addresses, addr, now);
    }

    /// Forgets the failures of `name` after a successful login.
    pub fn succeeded(&mut self, name: &str) {
        self.names.remove(name);
    }
}

fn count<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, (u32, Instant)>, key: K, now: Instant) {
    if map.len() >= MAX_LIMITER_KEYS && !map.contains_key(&key) {
        map.retain(|_, (_, since)| now.saturating_duration_since(*since) < LOGIN_WINDOW);
        if map.len() >= MAX_LIMITER_KEYS {
            if let Some(oldest) = map.iter().min_by_key(|(_, (_, since))| *since).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
    }
    let e = map.entry(key).or_insert((0, now));
    if now.saturating_duration_since(e.1) >= LOGIN_WINDOW {
        *e = (0, now);
    }
    e.0 = e.0.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire() {
        let t0 = Instant::now();
        let mut s = Sessions::default();
        let id = s.start("anna", Role::Viewer, t0);
        assert_eq!(id.len(), 64);
        assert!(s.get(&id, t0 + Duration::from_secs(60)).is_some());
        assert!(s.get(&id, t0 + Duration::from_secs(60) + SESSION_IDLE).is_none());
        let id = s.start("anna", Role::Viewer, t0);
        let mut t = t0;
        while t < t0 + SESSION_MAX_AGE - SESSION_IDLE / 2 {
            t += SESSION_IDLE / 2;
            assert!(s.get(&id, t).is_some());
        }
        assert!(s.get(&id, t0 + SESSION_MAX_AGE).is_none());
        assert!(s.get("nope", t0).is_none());
    }

    #[test]
    fn limiter_counts_names_and_addresses() {
        let t0 = Instant::now();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let mut l = LoginLimiter::default();
        for _ in 0..LOGIN_FAILURES_PER_NAME {
            assert!(l.allowed("anna", a, t0));
            l.failed("anna", a, t0);
        }
        assert!(!l.allowed("anna", b, t0));
        assert!(l.allowed("bert", a, t0));
        assert!(l.allowed("anna", a, t0 + LOGIN_WINDOW));
        for i in 0..LOGIN_FAILURES_PER_ADDRESS {
            l.failed(&format!("u{i}"), b, t0);
        }
        assert!(!l.allowed("carl", b, t0));
    }

    #[test]
    fn tokens() {
        let t = random_token();
        assert!(tokens_equal(&t, &t.clone()));
        assert!(!tokens_equal(&t, &random_token()));
        assert!(!tokens_equal(&t, ""));
    }
}
