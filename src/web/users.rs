//! The workspace's users: `HOME/users.json`, written by `vereffen user add`
//! and read at every login (so a user added or removed while the node runs
//! counts at once). A user has a name, a role and an argon2id password hash
//! (a PHC string); the password itself is never stored.

use std::path::{Path, PathBuf};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};

use crate::node::home::{write_atomically, HomeError};

/// The users file in a node home.
pub const USERS_FILE: &str = "users.json";
/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Shortest password, in bytes.
pub const MIN_PASSWORD_BYTES: usize = 12;
/// Longest password, in bytes (argon2 takes any length; a bound keeps a
/// login POST from costing more than a usual one).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Largest users file read.
pub const MAX_USERS_FILE_BYTES: u64 = 4 << 20;
/// Most users of one node.
pub const MAX_USERS: usize = 10_000;
/// The users file's format version.
const FORMAT: u32 = 1;

/// What a user may do in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// Reads, and (in a later slice) signs with the organisation's key.
    Signer,
    /// Reads, including the audit pages (a later slice).
    Auditor,
}

impl Role {
    /// The role's name as stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Signer => "signer",
            Role::Auditor => "auditor",
        }
    }
}

/// One user as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The login name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// argon2id hash of the password, a PHC string.
    pub hash: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    format: u32,
    users: Vec<User>,
}

/// Why the users cannot be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A name that cannot be a user name.
    #[error("{0:?} is not a user name: 1 to {MAX_NAME_CHARS} characters, no spaces or control characters")]
    BadName(String),
    /// A password that is too short or too long.
    #[error("a password has {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes")]
    BadPassword,
    /// The user exists already.
    #[error("there is already a user {0:?} (`vereffen user remove {0}` first)")]
    Exists(String),
    /// No such user.
    #[error("there is no user {0:?} (`vereffen user list` shows them)")]
    Unknown(String),
    /// The file cannot be read or is damaged.
    #[error("{path}: {what}")]
    File {
        /// The users file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] HomeError),
    /// The hash could not be computed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Whether `name` can be a user name: 1 to [`MAX_NAME_CHARS`] characters,
/// none of them whitespace or a control character.
pub fn is_valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&n) && name.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// The users of the node home `home`.
#[derive(Debug, Clone)]
pub struct Users {
    path: PathBuf,
}

impl Users {
    /// The users of the node home `home` (the file need not exist yet).
    pub fn of_home(home: &Path) -> Users {
        Users { path: home.join(USERS_FILE) }
    }

    /// The users file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every user, in name order; none when there is no file.
    pub fn list(&self) -> Result<Vec<User>, UserError> {
        let err = |what: String| UserError::File { path: self.path.clone(), what };
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err(format!("cannot open: {e}"))),
        };
        let mut bytes = Vec::new();
        use std::io::Read as _;
        file.take(MAX_USERS_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| err(format!("cannot read: {e}")))?;
        if bytes.len() as u64 > MAX_USERS_FILE_BYTES {
            return Err(err(format!("larger than {MAX_USERS_FILE_BYTES} bytes")));
        }
        let f: UsersFile = serde_json::from_slice(&bytes).map_err(|e| err(format!("not a users file: {e}")))?;
        if f.format != FORMAT {
            return Err(err(format!("format {} is not {FORMAT}", f.format)));
        }
        let mut users = f.users;
        if let Some(u) = users.iter().find(|u| !is_valid_name(&u.name)) {
            return Err(err(format!("{:?} is not a user name", u.name)));
        }
        users.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = users.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(err(format!("user {:?} appears twice", w[0].name)));
        }
        Ok(users)
    }

    fn write(&self, users: &[User]) -> Result<(), UserError> {
        let f = UsersFile { format: FORMAT, users: users.to_vec() };
        let mut text = serde_json::to_vec_pretty(&f).map_err(|e| UserError::Hash(e.to_string()))?;
        text.push(b'\n');
        write_atomically(&self.path, &text)?;
        restrict(&self.path);
        Ok(())
    }

    /// Adds a user with the argon2id hash of `password`.
    pub fn add(&self, name: &str, role: Role, password: &[u8]) -> Result<User, UserError> {
        if !is_valid_name(name) {
            return Err(UserError::BadName(name.to_string()));
        }
        if !(MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&password.len()) {
            return Err(UserError::BadPassword);
        }
        let mut users = self.list()?;
        if users.iter().any(|u| u.name == name) {
            return Err(UserError::Exists(name.to_string()));
        }
        if users.len() >= MAX_USERS {
            return Err(UserError::File { path: self.path.clone(), what: format!("holds {MAX_USERS} users already") });
        }
        let hash = hash_password(password)?;
        let user = User { name: name.to_string(), role, hash };
        users.push(user.clone());
        users.sort_by(|a, b| a.name.cmp(&b.name));
        self.write(&users)?;
        Ok(user)
    }

    /// Removes a user.
    pub fn remove(&self, name: &str) -> Result<(), UserError> {
        let mut users = self.list()?;
        let before = users.len();
        users.retain(|u| u.name != name);
        if users.len() == before {
            return Err(UserError::Unknown(name.to_string()));
        }
        self.write(&users)
    }

    /// The user `name` if `password` is theirs. An unknown name costs the
    /// same hash computation as a known one, so the time does not tell
    /// which names exist.
    pub fn check(&self, name: &str, password: &[u8]) -> Result<Option<User>, UserError> {
        let users = self.list()?;
        let user = users.into_iter().find(|u| u.name == name);
        let hash = match &user {
            Some(u) => u.hash.clone(),
            None => dummy_hash().to_string(),
        };
        let ok = password.len() <= MAX_PASSWORD_BYTES && Argon2::default().verify_password(password, &*hash).is_ok();
        Ok(if ok { user } else { None })
    }
}

/// The argon2id PHC string of `password` (default parameters, random salt).
pub fn hash_password(password: &[u8]) -> Result<String, UserError> {
    Argon2::default().hash_password(password).map(|h| h.to_string()).map_err(|e| UserError::Hash(e.to_string()))
}

/// A hash no password matches (of random bytes), verified against for an
/// unknown user name.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        hash_password(&secret).unwrap_or_default()
    })
}

/// Only the owner may read the users file (best effort: the hashes are
/// not secrets in the way passwords are, but need not be shown).
fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_check_remove() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::of_home(dir.path());
        assert!(users.list().unwrap().is_empty());
        users.add("anna", Role::Signer, b"correct horse battery").unwrap();
        assert!(matches!(users.add("anna", Role::Viewer, b"another password"), Err(UserError::Exists(_))));
        assert!(matches!(users.add("a b", Role::Viewer, b"another password"), Err(UserError::BadName(_))));
        assert!(matches!(users.add("bert", Role::Viewer, b"short"), Err(UserError::BadPassword)));
        assert_eq!(users.check("anna", b"correct horse battery").unwrap().unwrap().role, Role::Signer);
        assert!(users.check("anna", b"wrong horse battery").unwrap().is_none());
        assert!(users.check("nobody", b"correct horse battery").unwrap().is_none());
        let text = std::fs::read_to_string(users.path()).unwrap();
        assert!(!text.contains("correct horse"));
        assert!(text.contains("$argon2id$"));
        users.remove("anna").unwrap();
        assert!(users.check("anna", b"correct horse battery").unwrap().is_none());
        assert!(matches!(users.remove("anna"), Err(UserError::Unknown(_))));
    }

    #[test]
    fn names() {
        assert!(is_valid_name("finance.jan@example"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a\nb"));
        assert!(!is_valid_name(&"x".repeat(MAX_NAME_CHARS + 1)));
    }
}
