//! ACL: Redis 7.0's users and permissions.
//!
//! Users live in the process, as in Redis without an `aclfile` (with one,
//! `ACL LOAD` / `ACL SAVE` read and write it, and it is loaded at start-up).
//! Several redsql instances sharing one PostgreSQL database each have their
//! own users: a user set on one instance is not known to the others.
//!
//! - [`catalog`]: the commands and categories rules are written against;
//! - [`rules`]: a user's flags, passwords and selectors, `ACL SETUSER`'s rules
//!   and `ACL LIST`'s descriptions;
//! - [`check`]: whether a user may run a command on its keys and channels;
//! - [`log`]: `ACL LOG`.
//!
//! The connection calls [`check_command`] before every command, and
//! [`authenticate`] for AUTH and HELLO.

mod catalog;
mod check;
mod log;
mod rules;
mod sha256;

use super::Server;
use super::config::Config;
use super::connection::Session;
use crate::commands::Command;
use crate::commands::table::table;
use crate::resp::Reply;
use bytes::Bytes;
use catalog::{CATEGORIES, catalog};
use check::Denied;
use log::{Context, Event, Reason};
use rules::{RuleError, Rules};
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
}

impl Acl {
    /// The default user (with `requirepass` as its password), and the users
    /// of `aclfile` if one is configured.
    pub fn new(config: &Config) -> Acl {
        let default = User::new(Bytes::from_static(b"default"), Rules::default_user());
        let acl = Acl {
            users: RwLock::new(BTreeMap::from([(default.name.clone(), default.clone())])),
            default,
            log: Mutex::new(log::Log::default()),
        };
        if config.requirepass().is_some() {
            acl.apply_requirepass(config);
        }
        if let Some(path) = aclfile(config)
            && let Err(e) = acl.load(&path, config)
        {
            crate::log::warn(&format!("Aborting Redis startup because of ACL errors: {e}"));
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
        let mut rules = self.default.rules().clone();
        let _ = rules.apply(b"resetpass");
        let _ = match config.requirepass() {
            Some(p) => rules.apply(&[b">".as_slice(), p.as_bytes()].concat()),
            None => rules.apply(b"nopass"),
        };
        self.default.set_rules(rules);
    }

    fn log(&self, config: &Config, event: Event) {
        let max = config.get_int("acllog-max-len").unwrap_or(128).max(0) as usize;
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(event, crate::util::now_ms(), max);
    }

    /// Replaces the users with those of an ACL file (Redis's `ACLLoadFromFile`):
    /// all or nothing. Returns the users that are gone, whose clients must be disconnected.
    fn load(&self, path: &str, config: &Config) -> Result<Vec<Arc<User>>, String> {
        let text = std::fs::read(path).map_err(|e| format!("Error loading ACLs, opening file '{path}': {e}"))?;
        let allchannels = pubsub_default_all(config);
        let mut loaded: BTreeMap<Bytes, Rules> = BTreeMap::new();
        let mut errors = String::new();
        for (n, line) in text.split(|&c| c == b'\n').enumerate() {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let lineno = n + 1;
            // Redis splits on single spaces: empty words are no-op rules.
            let words: Vec<Bytes> = line.split(|&c| c == b' ').map(Bytes::copy_from_slice).collect();
            if &words[0][..] != b"user" || words.len() < 2 {
                errors.push_str(&format!(
                    "{path}:{lineno} should start with user keyword followed by the username. "
                ));
                continue;
            }
            let name = &words[1];
            if rules::has_spaces(name) {
                // Redis's message begins with a stray quote.
                errors.push_str(&format!(
                    "'{path}:{lineno}: username '{}' contains invalid characters. ",
                    lossy(name)
                ));
                continue;
            }
            if loaded.contains_key(name) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{}' found on line {lineno}. ",
                    lossy(name)
                ));
                continue;
            }
            let ops = rules::merge_selector_args(&words[2..]).unwrap_or_else(|_| {
                errors.push_str(&format!(
                    "{path}:{lineno}: Unmatched parenthesis in selector definition."
                ));
                Vec::new()
            });
            let mut r = Rules::new(allchannels);
            for op in &ops {
                let op = op.trim_ascii();
                if let Err(e) = r.apply(op) {
                    errors.push_str(&format!(
                        "{path}:{lineno}: Error in applying operation '{}': {}. ",
                        lossy(op),
                        e.message()
                    ));
                }
            }
            loaded.insert(name.clone(), r);
        }
        if !errors.is_empty() {
            errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
            return Err(errors);
        }
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut removed = Vec::new();
        for (name, user) in users.iter() {
            if !loaded.contains_key(name) && user.name != self.default.name {
                removed.push(user.clone());
            }
        }
        // A file without the default user resets it.
        self.default
            .set_rules(loaded.remove(&self.default.name).unwrap_or_else(Rules::default_user));
        users.retain(|name, _| *name == self.default.name);
        for (name, rules) in loaded {
            users.insert(name.clone(), User::new(name, rules));
        }
        Ok(removed)
    }

    /// Writes the users to the ACL file, as `ACL LIST` shows them.
    fn save(&self, path: &str) -> std::io::Result<()> {
        let mut text = Vec::new();
        for line in self.list() {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        let tmp = format!("{path}.tmp-{}", std::process::id());
        std::fs::write(&tmp, &text)?;
        std::fs::rename(&tmp, path)
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

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
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
pub fn check_command(s: &Session, cmd: &Command, args: &[Bytes]) -> Result<(), Reply> {
    if !cmd.no_auth && !s.authenticated && s.server.acl.default_requires_auth() {
        return Err(Reply::error("NOAUTH Authentication required."));
    }
    let user = s.client.user.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let denied = match check::check(&user.rules(), cmd, args) {
        Ok(()) => return Ok(()),
        Err(d) => d,
    };
    let (reason, object, msg) = match denied {
        Denied::Command => (
            Reason::Command,
            Bytes::from(cmd.name.clone()),
            format!("NOPERM this user has no permissions to run the '{}' command", cmd.name),
        ),
        Denied::Key(i) => (
            Reason::Key,
            args[i].clone(),
            "NOPERM this user has no permissions to access one of the keys used as arguments".to_string(),
        ),
        Denied::Channel(i) => (
            Reason::Channel,
            args[i].clone(),
            "NOPERM this user has no permissions to access one of the channels used as arguments".to_string(),
        ),
    };
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
    let (reason, object, why) = match denied {
        Denied::Command => (
            Reason::Command,
            Bytes::from(cmd.name.clone()),
            "no permission to execute the command or subcommand",
        ),
        Denied::Key(i) => (
            Reason::Key,
            args[i].clone(),
            "no permission to touch the specified keys",
        ),
        Denied::Channel(i) => (
            Reason::Channel,
            args[i].clone(),
            "no permission to access one of the channels used as arguments",
        ),
    };
    log_event(s, reason, object, user.name.clone(), true);
    Err(Reply::error(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {why}"
    )))
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

/// `ACL <sub>`; `sub` is the lowercase subcommand.
pub fn run(s: &mut Session, sub: &str, args: &[Bytes]) -> Reply {
    let acl = &s.server.acl;
    match sub {
        "whoami" => Reply::Bulk(s.client.user.lock().unwrap_or_else(|e| e.into_inner()).name.clone()),
        "users" => Reply::Array(
            acl.users
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .map(|n| Reply::Bulk(n.clone()))
                .collect(),
        ),
        "list" => Reply::Array(acl.list().into_iter().map(|l| Reply::Bulk(l.into())).collect()),
        "cat" => cat(args),
        "setuser" => setuser(s, args),
        "deluser" => deluser(s, args),
        "getuser" => match acl.get(&args[2]) {
            Some(u) => getuser(&u.rules()),
            None => Reply::Nil,
        },
        "genpass" => genpass(args),
        "dryrun" => dryrun(s, args),
        "log" => log_command(s, args),
        "load" | "save" => load_or_save(s, sub),
        _ => super::commands::help("ACL", HELP),
    }
}

fn syntax_error(args: &[Bytes]) -> Reply {
    let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    msg.extend_from_slice(&args[1]);
    msg.extend_from_slice(b"'. Try ACL HELP.");
    Reply::Error(msg.into())
}

/// `ACL CAT [category]`: the categories, or the commands (and subcommands,
/// as `parent|sub`) of one, in no particular order (as Redis).
fn cat(args: &[Bytes]) -> Reply {
    match args.len() {
        2 => Reply::Array(CATEGORIES.iter().map(|c| Reply::bulk_str(c)).collect()),
        3 => {
            let Some(mask) = catalog::category(&args[2]) else {
                let mut msg = b"ERR Unknown category '".to_vec();
                msg.extend_from_slice(&args[2][..args[2].len().min(128)]);
                msg.push(b'\'');
                return Reply::Error(msg.into());
            };
            Reply::Array(
                catalog()
                    .entries
                    .iter()
                    .filter(|e| e.categories & mask != 0)
                    .map(|e| Reply::bulk_str(&e.name))
                    .collect(),
            )
        }
        _ => syntax_error(args),
    }
}

/// `ACL SETUSER name [rule ...]`: all rules apply, or none.
fn setuser(s: &mut Session, args: &[Bytes]) -> Reply {
    let name = &args[2];
    if rules::has_spaces(name) {
        return Reply::error("ERR Usernames can't contain spaces or null characters");
    }
    let ops = match rules::merge_selector_args(&args[3..]) {
        Ok(ops) => ops,
        Err(i) => {
            let mut msg = b"ERR Unmatched parenthesis in acl selector starting at '".to_vec();
            msg.extend_from_slice(&args[3 + i]);
            msg.extend_from_slice(b"'.");
            return Reply::Error(msg.into());
        }
    };
    let acl = &s.server.acl;
    let existing = acl.get(name);
    let pubsub_all = pubsub_default_all(&s.server.config);
    let mut rules = match &existing {
        Some(u) => u.rules().clone(),
        None => Rules::new(pubsub_all),
    };
    rules.set_pubsub_default(pubsub_all);
    for op in &ops {
        if let Err(e) = rules.apply(op) {
            return rule_error(op, e);
        }
    }
    match existing {
        Some(u) => {
            kill_pubsub_clients_if_needed(s, &u, &rules);
            u.set_rules(rules);
        }
        None => {
            let mut users = acl.users.write().unwrap_or_else(|e| e.into_inner());
            users.insert(name.clone(), User::new(name.clone(), rules));
        }
    }
    Reply::ok()
}

fn rule_error(op: &[u8], e: RuleError) -> Reply {
    let mut msg = b"ERR Error in ACL SETUSER modifier '".to_vec();
    msg.extend_from_slice(op);
    msg.extend_from_slice(b"': ");
    msg.extend_from_slice(e.message().as_bytes());
    Reply::Error(msg.into())
}

/// When a user loses channels, its subscribed clients whose subscriptions
/// are no longer allowed are disconnected (Redis's `ACLKillPubsubClientsIfNeeded`).
fn kill_pubsub_clients_if_needed(s: &mut Session, user: &Arc<User>, new: &Rules) {
    if new.selectors.iter().any(|sel| sel.allchannels) {
        return;
    }
    let upcoming: Vec<Bytes> = new.selectors.iter().flat_map(|sel| sel.channels.clone()).collect();
    let old = user.rules();
    let kept = old
        .selectors
        .iter()
        .all(|sel| sel.channels.iter().all(|c| upcoming.contains(c)));
    if kept {
        return;
    }
    drop(old);
    for c in s.server.clients.all() {
        let same = Arc::ptr_eq(&c.user.lock().unwrap_or_else(|e| e.into_inner()), user);
        if !same {
            continue;
        }
        let (channels, patterns) = s.server.pubsub.subscriptions_of(c.id);
        let violates = patterns.iter().any(|p| !check::channel_allowed(&upcoming, p, true))
            || channels.iter().any(|ch| !check::channel_allowed(&upcoming, ch, false));
        if violates {
            disconnect(s, &c);
        }
    }
}

/// Closes a client: at once, or after this reply if it is the current one.
fn disconnect(s: &mut Session, c: &super::clients::ClientHandle) {
    if c.id == s.client.id {
        s.quit = true;
    } else {
        c.kill();
    }
}

/// `ACL DELUSER name [name ...]`: the number deleted; their clients are disconnected.
fn deluser(s: &mut Session, args: &[Bytes]) -> Reply {
    if args[2..].iter().any(|n| &n[..] == b"default") {
        return Reply::error("ERR The 'default' user cannot be removed");
    }
    let mut deleted = 0;
    for name in &args[2..] {
        let removed = s
            .server
            .acl
            .users
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        if let Some(u) = removed {
            deleted += 1;
            disconnect_user(s, &u);
        }
    }
    Reply::Int(deleted)
}

/// Disconnects every client authenticated as `user`, which no longer exists.
fn disconnect_user(s: &mut Session, user: &Arc<User>) {
    let default = s.server.acl.default_user();
    for c in s.server.clients.all() {
        let mut current = c.user.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::ptr_eq(&current, user) {
            *current = default.clone();
            drop(current);
            if c.id == s.client.id {
                s.authenticated = false;
            }
            disconnect(s, &c);
        }
    }
}

/// `ACL GETUSER`'s map.
fn getuser(rules: &Rules) -> Reply {
    let mut fields = vec![
        (
            Reply::bulk_str("flags"),
            Reply::Set(rules.flag_names().into_iter().map(Reply::bulk_str).collect()),
        ),
        (
            Reply::bulk_str("passwords"),
            Reply::Array(rules.passwords.iter().map(|p| Reply::bulk_str(p)).collect()),
        ),
    ];
    fields.extend(selector_fields(rules.root()));
    fields.push((
        Reply::bulk_str("selectors"),
        Reply::Array(
            rules.selectors[1..]
                .iter()
                .map(|sel| Reply::Map(selector_fields(sel)))
                .collect(),
        ),
    ));
    Reply::Map(fields)
}

fn selector_fields(sel: &rules::Selector) -> Vec<(Reply, Reply)> {
    vec![
        (Reply::bulk_str("commands"), Reply::bulk_str(&sel.describe_commands())),
        (Reply::bulk_str("keys"), Reply::Bulk(sel.describe_keys().into())),
        (Reply::bulk_str("channels"), Reply::Bulk(sel.describe_channels().into())),
    ]
}

/// `ACL GENPASS [bits]`: random hex digits, 4 bits each (256 bits by default).
fn genpass(args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return syntax_error(args);
    }
    let bits = match args.get(2) {
        None => 256,
        Some(a) => match crate::resp::request::parse_i64(a) {
            Some(n) => n,
            None => return Reply::error("ERR value is not an integer or out of range"),
        },
    };
    if !(1..=4096).contains(&bits) {
        return Reply::error(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        );
    }
    let chars = (bits as usize).div_ceil(4);
    Reply::Bulk(random_hex(chars).into())
}

/// `n` random lowercase hex digits, from the system's random source.
fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        for b in &mut bytes {
            *b = crate::util::random_u64() as u8;
        }
    }
    bytes
        .iter()
        .map(|b| char::from(b"0123456789abcdef"[(b & 15) as usize]))
        .collect()
}

/// `ACL DRYRUN user command [arg ...]`: OK, or why the user may not run it
/// (a bulk string, as Redis answers).
fn dryrun(s: &Session, args: &[Bytes]) -> Reply {
    let Some(user) = s.server.acl.get(&args[2]) else {
        let mut msg = b"ERR User '".to_vec();
        msg.extend_from_slice(&args[2]);
        msg.extend_from_slice(b"' not found");
        return Reply::Error(msg.into());
    };
    let argv = &args[3..];
    let Some(cmd) = lookup_with_sub(argv) else {
        let mut msg = b"ERR Command '".to_vec();
        msg.extend_from_slice(&argv[0]);
        msg.extend_from_slice(b"' not found");
        return Reply::Error(msg.into());
    };
    if !cmd.arity_ok(argv.len()) {
        let mut msg = b"ERR wrong number of arguments for '".to_vec();
        msg.extend_from_slice(cmd.name.as_bytes());
        msg.extend_from_slice(b"' command");
        return Reply::Error(msg.into());
    }
    let text = match check::check(&user.rules(), cmd, argv) {
        Ok(()) => return Reply::ok(),
        Err(Denied::Command) => format!("This user has no permissions to run the '{}' command", cmd.name).into_bytes(),
        Err(Denied::Key(i)) => [
            b"This user has no permissions to access the '".as_slice(),
            &argv[i],
            b"' key",
        ]
        .concat(),
        Err(Denied::Channel(i)) => [
            b"This user has no permissions to access the '".as_slice(),
            &argv[i],
            b"' channel",
        ]
        .concat(),
    };
    Reply::Bulk(text.into())
}

/// A command and, for a container, its subcommand (Redis's `lookupCommand`:
/// an unknown subcommand is no command; a container alone is itself).
fn lookup_with_sub(argv: &[Bytes]) -> Option<&'static Command> {
    let cmd = table().get(&argv[0])?;
    if cmd.subcommands.is_empty() {
        return Some(cmd);
    }
    match argv.get(1) {
        Some(sub) => cmd.subcommands.get(&sub.to_ascii_lowercase()),
        None => Some(cmd),
    }
}

/// `ACL LOG [count | RESET]`.
fn log_command(s: &Session, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return syntax_error(args);
    }
    let mut log = s.server.acl.log.lock().unwrap_or_else(|e| e.into_inner());
    let count = match args.get(2) {
        None => 10,
        Some(a) if a.eq_ignore_ascii_case(b"reset") => {
            log.reset();
            return Reply::ok();
        }
        Some(a) => match crate::resp::request::parse_i64(a) {
            Some(n) => n.max(0) as usize,
            None => return Reply::error("ERR value is not an integer or out of range"),
        },
    };
    log.reply(count, crate::util::now_ms())
}

/// `ACL LOAD` / `ACL SAVE`, which need `aclfile`.
fn load_or_save(s: &mut Session, sub: &str) -> Reply {
    let config = &s.server.config;
    let Some(path) = aclfile(config) else {
        return Reply::error(
            "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
        );
    };
    if sub == "save" {
        return match s.server.acl.save(&path) {
            Ok(()) => Reply::ok(),
            Err(_) => Reply::error(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            ),
        };
    }
    let server = s.server.clone();
    match server.acl.load(&path, &server.config) {
        Ok(removed) => {
            for u in removed {
                disconnect_user(s, &u);
            }
            Reply::ok()
        }
        Err(e) => Reply::error(format!("ERR {e}")),
    }
}

/// Redis 7.0's `ACL HELP` lines.
const HELP: &[&str] = &[
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
];
