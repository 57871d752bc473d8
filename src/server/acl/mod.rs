//! ACL: Redis 7.0's users and permissions.
//!
//! Users live in the process, as in Redis without an `aclfile` (with one,
//! `ACL LOAD` / `ACL SAVE` read and write it, and it is loaded at start-up).
//! Several redsql instances sharing one PostgreSQL database share their
//! users through the store ([`shared`]).
//!
//! - [`catalog`]: the commands and categories rules are written against;
//! - [`rules`]: a user's flags, passwords and selectors, `ACL SETUSER`'s rules
//!   and `ACL LIST`'s descriptions;
//! - [`check`]: whether a user may run a command on its keys and channels;
//! - [`log`]: `ACL LOG`;
//! - [`file`]: the `aclfile` (`ACL LOAD`, `ACL SAVE`);
//! - [`command`]: the `ACL` subcommands;
//! - [`shared`]: the users shared by the processes of a PostgreSQL store.
//!
//! The connection calls [`check_command`] before every command, and
//! [`authenticate`] for AUTH and HELLO.

mod catalog;
mod check;
mod command;
mod file;
mod log;
mod rules;
mod sha256;
pub mod shared;

pub use command::COMMANDS;

use super::Server;
use super::config::Config;
use super::connection::Session;
use crate::commands::Command;
use crate::resp::Reply;
use bytes::Bytes;
use check::Denied;
use log::{Context, Event, Reason};
use rules::Rules;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// A user. Connections authenticated as it share it, so `ACL SETUSER`
/// applies to them at their next command.
pub struct User {
    pub name: Bytes,
    rules: RwLock<Rules>,
}

impl User {
    fn new(name: Bytes, rules: Rules) -> Arc<User> {
        Arc::new(User {
            name,
            rules: RwLock::new(rules),
        })
    }

    fn rules(&self) -> RwLockReadGuard<'_, Rules> {
        self.rules.read().unwrap_or_else(|e| e.into_inner())
    }

    fn set_rules(&self, rules: Rules) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules;
    }
}

/// The users and the ACL log of a server.
pub struct Acl {
    users: RwLock<BTreeMap<Bytes, Arc<User>>>,
    default: Arc<User>,
    log: Mutex<log::Log>,
    /// On a PostgreSQL store: where the users are shared with the other processes.
    shared: Option<Arc<dyn crate::engine::backend::SharedUsers>>,
    /// Held by a change from its local application to its write to the
    /// store, and by a reload, so that a reload never reads the store
    /// between the two and undoes the change here.
    changes: Mutex<()>,
}

impl Acl {
    /// The default user (with `requirepass` as its password), and the users
    /// of `aclfile` if one is configured.
    /// `shared`: the users the store shares between processes, if it does.
    pub fn new(config: &Config, shared: Option<Arc<dyn crate::engine::backend::SharedUsers>>) -> Acl {
        let default = User::new(Bytes::from_static(b"default"), Rules::default_user());
        let mut acl = Acl {
            users: RwLock::new(BTreeMap::from([(default.name.clone(), default.clone())])),
            default,
            log: Mutex::new(log::Log::default()),
            shared: None,
            changes: Mutex::new(()),
        };
        if config.requirepass().is_some() {
            acl.apply_requirepass(config);
        }
        if let Some(path) = aclfile(config)
            && let Err(e) = acl.load(&path, config)
        {
            crate::log::warn(&format!("ACL errors in aclfile, its users were not loaded: {e}"));
        }
        if let Some(shared) = shared {
            acl.share(config, shared);
        }
        acl
    }

    pub fn default_user(&self) -> Arc<User> {
        self.default.clone()
    }

    /// A user by name.
    pub fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        self.get(name)
    }

    fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    /// Whether the default user needs no password (AUTH with a password alone is then refused).
    pub fn default_nopass(&self) -> bool {
        self.default.rules().nopass()
    }

    /// Whether clients must authenticate: the default user has a password or is off.
    pub fn default_requires_auth(&self) -> bool {
        let rules = self.default.rules();
        !rules.nopass() || !rules.enabled()
    }

    /// Makes `requirepass` the default user's password, as Redis does when
    /// it is set at start-up or by CONFIG SET (empty: `nopass`).
    pub fn apply_requirepass(&self, config: &Config) {
        let _change = self.lock_changes();
        let mut rules = self.default.rules().clone();
        let _ = rules.apply(b"resetpass");
        let _ = match config.requirepass() {
            Some(p) => rules.apply(&[b">".as_slice(), p.as_bytes()].concat()),
            None => rules.apply(b"nopass"),
        };
        self.default.set_rules(rules);
        self.share_users(std::slice::from_ref(&self.default.name));
    }

    fn log(&self, config: &Config, event: Event) {
        let max = config.get_int("acllog-max-len").unwrap_or(128).max(0) as usize;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(event, crate::util::now_ms(), max);
    }

    /// `ACL LIST`'s lines.
    fn list(&self) -> Vec<Vec<u8>> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users
            .values()
            .map(|u| [b"user ".as_slice(), &u.name, b" ", &u.rules().describe()].concat())
            .collect()
    }
}
/// The configured ACL file, if any.
fn aclfile(config: &Config) -> Option<String> {
    config.get("aclfile").filter(|f| !f.is_empty())
}

/// `acl-pubsub-default allchannels`: new users may use every channel.
fn pubsub_default_all(config: &Config) -> bool {
    config
        .get("acl-pubsub-default")
        .is_some_and(|v| v.eq_ignore_ascii_case("allchannels"))
}

/// Whether a new (or RESET) connection starts authenticated: when the
/// default user needs no password and is on.
pub fn starts_authenticated(server: &Server) -> bool {
    !server.acl.default_requires_auth()
}

/// Redis's checks of a command against the connection's user, in Redis's
/// order: authentication, then permissions (logged when refused).
/// Whether ACL key patterns keep one of `calls` that may reach keys its
/// arguments do not name (SORT's BY and GET, per its spec) from reaching
/// every key: the batch then runs with `keys_restricted`.
pub fn keys_restricted(s: &Session, calls: &[crate::engine::Call]) -> bool {
    let mut reaching = calls.iter().filter(|c| c.cmd.spec.reaches_other_keys).peekable();
    if reaching.peek().is_none() {
        return false;
    }
    let user = s.client.user.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let rules = user.rules();
    reaching.any(|c| !check::unrestricted_key_access(&rules, c.cmd, &c.args))
}

/// The client's ACL rules as the engine applies them to what a call runs
/// on its behalf (a script's commands): `None` when no call of `calls` runs
/// other commands, or when the user may run anything.
pub fn restrictions(s: &Session, calls: &[crate::engine::Call]) -> Option<Arc<dyn crate::commands::Restrictions>> {
    if !calls.iter().any(|c| c.cmd.spec.runs_commands) {
        return None;
    }
    let user = s.client.user.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if user.rules().unrestricted() {
        return None;
    }
    Some(Arc::new(ScriptAcl {
        user,
        server: s.server.clone(),
        client: s.client.clone(),
    }))
}

/// A client's rules, for the commands its scripts run.
struct ScriptAcl {
    user: Arc<User>,
    server: Arc<super::Server>,
    client: Arc<crate::server::clients::ClientHandle>,
}

impl crate::commands::Restrictions for ScriptAcl {
    fn check_in_script(&self, cmd: &Command, args: &[Bytes]) -> Result<(), &'static str> {
        let denied = match check::check(&self.user.rules(), cmd, args) {
            Ok(()) => return Ok(()),
            Err(d) => d,
        };
        let msg = match denied {
            Denied::Command => "The user executing the script can't run this command or subcommand",
            Denied::Key(_) => {
                "The user executing the script can't access at least one of the keys mentioned in the command arguments"
            }
            Denied::Channel(_) => "The user executing the script can't publish to the channel mentioned in the command",
        };
        let (reason, object) = logged(denied, cmd, args);
        let event = Event {
            reason,
            context: Context::Lua,
            object,
            username: self.user.name.clone(),
            client_info: self.client.describe(crate::util::now_ms()),
        };
        self.server.acl.log(&self.server.config, event);
        Err(msg)
    }

    fn all_keys(&self, cmd: &Command, args: &[Bytes]) -> bool {
        check::unrestricted_key_access(&self.user.rules(), cmd, args)
    }
}

pub fn check_command(s: &Session, cmd: &Command, args: &[Bytes]) -> Result<(), Reply> {
    if !cmd.no_auth && !s.authenticated && s.server.acl.default_requires_auth() {
        return Err(Reply::error("NOAUTH Authentication required."));
    }
    let user = s.client.user.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let denied = match check::check(&user.rules(), cmd, args) {
        Ok(()) => return Ok(()),
        Err(d) => d,
    };
    let msg = match denied {
        Denied::Command => format!("NOPERM this user has no permissions to run the '{}' command", cmd.name),
        Denied::Key(_) => "NOPERM this user has no permissions to access one of the keys used as arguments".to_string(),
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments".to_string()
        }
    };
    let (reason, object) = logged(denied, cmd, args);
    // Redis records a refused command as the client's last one (`cmd=` in
    // the log's client info and in CLIENT LIST).
    *s.client.last_cmd.lock().unwrap_or_else(|e| e.into_inner()) = cmd.name.clone();
    log_event(s, reason, object, user.name.clone(), s.multi.is_some());
    Err(Reply::error(msg))
}

/// EXEC checks each queued command again, in case the user's rules changed
/// since it was queued; a refused one answers Redis's error in its slot (and
/// is logged in the `multi` context) while the others run.
pub fn recheck_queued(s: &Session, cmd: &Command, args: &[Bytes]) -> Result<(), Reply> {
    let user = s.client.user.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let denied = match check::check(&user.rules(), cmd, args) {
        Ok(()) => return Ok(()),
        Err(d) => d,
    };
    let why = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    let (reason, object) = logged(denied, cmd, args);
    log_event(s, reason, object, user.name.clone(), true);
    Err(Reply::error(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {why}"
    )))
}

/// What `ACL LOG` records of a refusal: its reason and the command, key or
/// channel refused.
fn logged(denied: Denied, cmd: &Command, args: &[Bytes]) -> (Reason, Bytes) {
    match denied {
        Denied::Command => (Reason::Command, Bytes::from(cmd.name.clone())),
        Denied::Key(i) => (Reason::Key, args[i].clone()),
        Denied::Channel(i) => (Reason::Channel, args[i].clone()),
    }
}

/// Logs a refusal; `multi`: the command was queued in (or run by) a transaction.
fn log_event(s: &Session, reason: Reason, object: Bytes, username: Bytes, multi: bool) {
    let event = Event {
        reason,
        context: if multi { Context::Multi } else { Context::Toplevel },
        object,
        username,
        client_info: s.client.describe(crate::util::now_ms()),
    };
    s.server.acl.log(&s.server.config, event);
}

/// AUTH and HELLO's AUTH: on success the connection becomes `user`; a
/// failure is logged (object: the command as the client spelled it).
pub fn authenticate(s: &mut Session, command: &[u8], user: &[u8], password: &[u8]) -> Result<(), Reply> {
    let found = s.server.acl.get(user).filter(|u| {
        let rules = u.rules();
        rules.enabled() && rules.password_ok(password)
    });
    match found {
        Some(u) => {
            *s.client.user.lock().unwrap_or_else(|e| e.into_inner()) = u;
            s.authenticated = true;
            Ok(())
        }
        None => {
            let multi = s.multi.is_some();
            let (object, username) = (Bytes::copy_from_slice(command), Bytes::copy_from_slice(user));
            log_event(s, Reason::Auth, object, username, multi);
            Err(Reply::error(
                "WRONGPASS invalid username-password pair or user is disabled.",
            ))
        }
    }
}

/// RESET: back to the default user, authenticated only if it needs no password.
pub fn reset(s: &mut Session) {
    *s.client.user.lock().unwrap_or_else(|e| e.into_inner()) = s.server.acl.default_user();
    s.authenticated = starts_authenticated(&s.server);
}
