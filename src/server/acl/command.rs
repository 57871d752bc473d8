//! The `ACL` command's subcommands.

use super::catalog::{self, CATEGORIES, catalog};
use super::check::{self, Denied};
use super::rules::{self, RuleError, Rules};
use super::{User, aclfile, pubsub_default_all};
use crate::commands::Command;
use crate::commands::Spec;
use crate::resp::Reply;
use crate::server::clients::ClientHandle;
use crate::server::commands::table;
use crate::server::commands::{Run, ServerSpec};
use crate::server::connection::Session;
use bytes::Bytes;
use std::sync::Arc;

/// The ACL subcommands.
pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::now("acl|whoami", acl),
    ServerSpec::now("acl|cat", acl),
    ServerSpec::now("acl|users", acl),
    // Passwords are among the rules: logs hide the name and every rule.
    ServerSpec::new(Spec::server("acl|setuser").redacts(redact_setuser), Run::Now(acl)),
    ServerSpec::now("acl|deluser", acl),
    ServerSpec::now("acl|getuser", acl),
    ServerSpec::now("acl|list", acl),
    ServerSpec::now("acl|genpass", acl),
    ServerSpec::now("acl|dryrun", acl),
    ServerSpec::now("acl|log", acl),
    ServerSpec::now("acl|load", acl),
    ServerSpec::now("acl|save", acl),
    ServerSpec::now("acl|help", acl),
];

fn redact_setuser(args: &mut [Bytes]) {
    args[2..].fill(crate::server::slowlog::REDACTED);
}

/// Runs an ACL subcommand.
fn acl(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    Some(run(s, cmd.name.strip_prefix("acl|").unwrap_or_default(), args))
}

/// `ACL <sub>`; `sub` is the lowercase subcommand.
fn run(s: &mut Session, sub: &str, args: &[Bytes]) -> Reply {
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
        _ => crate::commands::help("ACL", HELP),
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
    let server = s.server.clone();
    let _change = server.acl.lock_changes();
    let acl = &server.acl;
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
    s.server.acl.share_users(std::slice::from_ref(name));
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
    let old = user.rules().clone();
    for c in pubsub_clients_to_kill(&s.server, user, &old, new) {
        disconnect(s, &c);
    }
}

/// The clients of `user` subscribed to channels or patterns that its rules
/// going from `old` to `new` no longer allow.
pub(super) fn pubsub_clients_to_kill(
    server: &crate::server::Server,
    user: &Arc<User>,
    old: &Rules,
    new: &Rules,
) -> Vec<Arc<ClientHandle>> {
    if new.selectors.iter().any(|sel| sel.allchannels) {
        return Vec::new();
    }
    let upcoming: Vec<Bytes> = new.selectors.iter().flat_map(|sel| sel.channels.clone()).collect();
    let kept = old
        .selectors
        .iter()
        .all(|sel| sel.channels.iter().all(|c| upcoming.contains(c)));
    if kept {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in server.clients.all() {
        let same = Arc::ptr_eq(&c.user.lock().unwrap_or_else(|e| e.into_inner()), user);
        if !same {
            continue;
        }
        let (channels, patterns) = server.pubsub.subscriptions_of(c.id);
        let violates = patterns.iter().any(|p| !check::channel_allowed(&upcoming, p, true))
            || channels.iter().any(|ch| !check::channel_allowed(&upcoming, ch, false));
        if violates {
            out.push(c);
        }
    }
    out
}

/// Closes a client: at once, or after this reply if it is the current one.
fn disconnect(s: &mut Session, c: &ClientHandle) {
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
    let server = s.server.clone();
    let _change = server.acl.lock_changes();
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
    if deleted > 0 {
        s.server.acl.unshare_users(&args[2..]);
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
    let _change = server.acl.lock_changes();
    match server.acl.load(&path, &server.config) {
        Ok(removed) => {
            for u in removed {
                disconnect_user(s, &u);
            }
            server.acl.share_all();
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
