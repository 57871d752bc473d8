//! Commands that need the connection or the server: HELLO, AUTH, QUIT, RESET,
//! COMMAND, CLIENT, CONFIG, INFO, SAVE, BGSAVE, LASTSAVE, SHUTDOWN, SLOWLOG
//! (see `slowlog`), MONITOR (see `monitor`), ACL (see `acl`), the blocking commands (BLPOP, BLMOVE, BZPOPMIN, ... in
//! [`super::blocking`]), the transaction commands (MULTI, EXEC, DISCARD,
//! WATCH, UNWATCH: see `multi`) and Pub/Sub (see `pubsub`).
//!
//! They are registered with [`Handler::Server`] and run by the connection
//! (outside the engine), in order with the client's other commands.

use super::connection::Session;
use crate::commands::table::{bytes_of, table};
use crate::commands::{CmdResult, Command, CommandFn, Ctx, Handler, lookup};
use crate::engine::{Batch, Call};
use crate::resp::Reply;
use crate::store::DbStats;
use bytes::Bytes;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

pub const COMMANDS: &[(&str, Handler)] = &[
    ("hello", Handler::Server),
    ("auth", Handler::Server),
    ("quit", Handler::Server),
    ("reset", Handler::Server),
    ("command", Handler::Server),
    ("command|count", Handler::Server),
    ("command|info", Handler::Server),
    ("command|docs", Handler::Server),
    ("command|list", Handler::Server),
    ("command|getkeys", Handler::Server),
    ("command|help", Handler::Server),
    ("client|id", Handler::Server),
    ("client|info", Handler::Server),
    ("client|list", Handler::Server),
    ("client|kill", Handler::Server),
    ("client|setname", Handler::Server),
    ("client|getname", Handler::Server),
    ("client|reply", Handler::Server),
    ("client|no-evict", Handler::Server),
    ("client|unblock", Handler::Server),
    ("client|help", Handler::Server),
    ("config|get", Handler::Server),
    ("config|set", Handler::Server),
    ("config|resetstat", Handler::Server),
    ("config|rewrite", Handler::Server),
    ("config|help", Handler::Server),
    ("info", Handler::Server),
    ("lastsave", Handler::Server),
    ("save", Handler::Server),
    ("bgsave", Handler::Server),
    ("shutdown", Handler::Server),
    ("blpop", Handler::Server),
    ("brpop", Handler::Server),
    ("blmove", Handler::Server),
    ("brpoplpush", Handler::Server),
    ("blmpop", Handler::Server),
    ("bzpopmin", Handler::Server),
    ("bzpopmax", Handler::Server),
    ("bzmpop", Handler::Server),
    ("multi", Handler::Server),
    ("exec", Handler::Server),
    ("discard", Handler::Server),
    ("watch", Handler::Server),
    ("unwatch", Handler::Server),
    ("subscribe", Handler::Server),
    ("unsubscribe", Handler::Server),
    ("psubscribe", Handler::Server),
    ("punsubscribe", Handler::Server),
    ("ssubscribe", Handler::Server),
    ("sunsubscribe", Handler::Server),
    ("publish", Handler::Server),
    ("spublish", Handler::Server),
    ("pubsub|channels", Handler::Server),
    ("pubsub|numsub", Handler::Server),
    ("pubsub|numpat", Handler::Server),
    ("pubsub|shardchannels", Handler::Server),
    ("pubsub|shardnumsub", Handler::Server),
    ("pubsub|help", Handler::Server),
    ("monitor", Handler::Server),
    ("acl|whoami", Handler::Server),
    ("acl|cat", Handler::Server),
    ("acl|users", Handler::Server),
    ("acl|setuser", Handler::Server),
    ("acl|deluser", Handler::Server),
    ("acl|getuser", Handler::Server),
    ("acl|list", Handler::Server),
    ("acl|genpass", Handler::Server),
    ("acl|dryrun", Handler::Server),
    ("acl|log", Handler::Server),
    ("acl|load", Handler::Server),
    ("acl|save", Handler::Server),
    ("acl|help", Handler::Server),
    ("client|pause", Handler::Server),
    ("client|unpause", Handler::Server),
    ("slowlog|get", Handler::Server),
    ("slowlog|len", Handler::Server),
    ("slowlog|reset", Handler::Server),
    ("slowlog|help", Handler::Server),
];

/// Runs a server-level command. `None` means no reply at all (SHUTDOWN
/// closes the connection without answering, as in Redis).
pub async fn run(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    let name = cmd.name.as_str();
    if let Some(sub) = name.strip_prefix("client|") {
        return Some(super::client_cmd::run(s, sub, args));
    }
    if let Some(sub) = name.strip_prefix("acl|") {
        return Some(super::acl::run(s, sub, args));
    }
    if let Some(sub) = name.strip_prefix("slowlog|") {
        return Some(s.server.slowlog.command(sub, args));
    }
    if let Some(sub) = name.strip_prefix("config|") {
        return Some(super::config_cmd::run(s, sub, args));
    }
    if name.starts_with("pubsub|") || name == "publish" || name == "spublish" {
        return Some(super::pubsub::run(s, name, args));
    }
    if super::pubsub::is_subscription_command(cmd) {
        // Outside MULTI the connection sends each confirmation as its own
        // reply; inside EXEC they share the command's slot.
        let mut replies = super::pubsub::subscription(s, cmd, args);
        return Some(if replies.len() == 1 {
            replies.remove(0)
        } else {
            Reply::Array(replies)
        });
    }
    Some(match name {
        "blpop" | "brpop" | "blmove" | "brpoplpush" | "blmpop" | "bzpopmin" | "bzpopmax" | "bzmpop" => {
            return super::blocking::run(s, cmd, args).await;
        }
        "hello" => hello(s, args),
        "auth" => auth(s, args),
        "quit" => {
            s.quit = true;
            Reply::ok()
        }
        "reset" => reset(s),
        "monitor" => return monitor(s),
        "info" => info(s, args).await,
        "lastsave" => Reply::Int(s.server.last_save.load(Ordering::Relaxed)),
        "save" => {
            mark_saved(s);
            Reply::ok()
        }
        "bgsave" => {
            if args.len() > 2 || (args.len() == 2 && !args[1].eq_ignore_ascii_case(b"SCHEDULE")) {
                return Some(Reply::error(crate::commands::SYNTAX));
            }
            mark_saved(s);
            Reply::status("Background saving started")
        }
        "shutdown" => return shutdown(s, args),
        "command" => Reply::Array(sorted_commands().map(|c| c.info.clone()).collect()),
        "command|count" => Reply::Int(table().len() as i64),
        "command|info" => command_info(args),
        "command|docs" => command_docs(args),
        "command|list" => command_list(args),
        "command|getkeys" => command_getkeys(args),
        "command|help" => help(
            "COMMAND",
            &[
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "GETKEYSANDFLAGS <full-command>",
                "    Return the keys and the access flags from a full Redis command.",
            ],
        ),
        other => Reply::error(format!("ERR command '{other}' is not available")),
    })
}

/// SAVE and BGSAVE: every write redsql acknowledged is already committed to
/// the database (durable as `appendfsync` says), so saving is only recording
/// the time for LASTSAVE and resetting the change counter.
fn mark_saved(s: &Session) {
    s.server
        .last_save
        .store(crate::util::now_ms() / 1000, Ordering::Relaxed);
    s.server.dirty.store(0, Ordering::Relaxed);
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stops the server cleanly (the
/// writer commits what it has); the connection closes without a reply.
fn shutdown(s: &mut Session, args: &[Bytes]) -> Option<Reply> {
    let (mut nosave, mut save, mut abort, mut other) = (false, false, false, false);
    for a in &args[1..] {
        if a.eq_ignore_ascii_case(b"NOSAVE") {
            nosave = true;
        } else if a.eq_ignore_ascii_case(b"SAVE") {
            save = true;
        } else if a.eq_ignore_ascii_case(b"NOW") || a.eq_ignore_ascii_case(b"FORCE") {
            other = true;
        } else if a.eq_ignore_ascii_case(b"ABORT") {
            abort = true;
        } else {
            return Some(Reply::error(crate::commands::SYNTAX));
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Some(Reply::error(crate::commands::SYNTAX));
    }
    if abort {
        // Shutdowns are immediate: there is never one in progress to abort.
        return Some(Reply::error("ERR No shutdown in progress."));
    }
    crate::log::warn("User requested shutdown...");
    s.quit = true;
    s.server.request_shutdown();
    None
}

/// RESET: back to a fresh connection's state (database 0, RESP2, no name,
/// replies on, no transaction, nothing watched, not authenticated if a
/// password is required).
fn reset(s: &mut Session) -> Reply {
    s.db = 0;
    s.client.db.store(0, Ordering::Relaxed);
    s.proto = 2;
    s.client.resp.store(2, Ordering::Relaxed);
    s.client.set_name(&Bytes::new());
    s.client.no_evict.store(false, Ordering::Relaxed);
    s.reply_mode = super::connection::ReplyMode::On;
    s.monitor = None;
    s.client.monitor.store(false, Ordering::Relaxed);
    super::acl::reset(s);
    super::multi::discard_state(s);
    super::pubsub::leave_all(s);
    Reply::status("RESET")
}

/// MONITOR: from now on the connection receives every executed command
/// (see `monitor`). Answers +OK, and nothing when already monitoring.
fn monitor(s: &mut Session) -> Option<Reply> {
    if s.monitor.is_some() {
        return None;
    }
    s.monitor = Some(s.server.monitors.subscribe());
    s.client.monitor.store(true, Ordering::Relaxed);
    Some(Reply::ok())
}

/// INFO [section ...]: a bulk string (verbatim in RESP3), as in Redis.
async fn info(s: &Session, args: &[Bytes]) -> Reply {
    let sections = super::info::selected(&args[1..]);
    let keyspace = if sections.contains(&"keyspace") {
        match keyspace_stats(s).await {
            Ok(k) => k,
            Err(e) => return e,
        }
    } else {
        Vec::new()
    };
    Reply::Verbatim(Bytes::from(super::info::render(&s.server, &sections, &keyspace)))
}

/// Per-database key counts, read through the engine like any read command.
async fn keyspace_stats(s: &Session) -> Result<Vec<(u32, DbStats)>, Reply> {
    let batch = Batch {
        db: s.db,
        proto: s.proto,
        calls: vec![Call {
            cmd: stats_command(),
            args: vec![Bytes::from_static(b"info")],
        }],
    };
    let mut outcome = s.server.engine.run(batch).await;
    match outcome.replies.pop() {
        Some(Reply::Array(rows)) => Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                Reply::Array(v) => match v[..] {
                    [Reply::Int(db), Reply::Int(keys), Reply::Int(expires)] => Some((
                        db as u32,
                        DbStats {
                            keys: keys as u64,
                            expires: expires as u64,
                        },
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect()),
        Some(e) if e.is_error() => Err(e),
        _ => Err(Reply::error("ERR cannot read keyspace statistics")),
    }
}

/// An internal read command (not in the command table) that returns
/// `Store::stats()` as `[[db, keys, expires], ...]`, so INFO can run it as a
/// read batch on the engine.
fn stats_command() -> &'static Command {
    static CMD: OnceLock<Command> = OnceLock::new();
    CMD.get_or_init(|| internal_read_command("info", false, store_stats))
}

/// A read command that is not in the command table (see [`Command::internal`]).
pub(super) fn internal_read_command(name: &str, fast: bool, f: CommandFn) -> Command {
    Command::internal(name, Handler::Read(f), fast)
}

fn store_stats(ctx: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(
        ctx.store
            .stats()?
            .into_iter()
            .map(|(db, st)| {
                Reply::Array(vec![
                    Reply::Int(db as i64),
                    Reply::Int(st.keys as i64),
                    Reply::Int(st.expires as i64),
                ])
            })
            .collect(),
    ))
}

/// A `XXX HELP` reply: the header line, the given lines, and Redis's HELP footer.
pub fn help(name: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Status(Bytes::from(format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )))];
    out.extend(
        lines
            .iter()
            .map(|l| Reply::Status(Bytes::copy_from_slice(l.as_bytes()))),
    );
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

fn sorted_commands() -> impl Iterator<Item = &'static Command> {
    let mut v: Vec<&Command> = table().iter().collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v.into_iter()
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(s: &mut Session, args: &[Bytes]) -> Reply {
    let mut proto = s.proto;
    let mut i = 1;
    if args.len() > 1 {
        proto = match crate::resp::request::parse_i64(&args[1]) {
            Some(n) if (2..=3).contains(&n) => n as u8,
            Some(_) => return Reply::error("NOPROTO unsupported protocol version"),
            None => return Reply::error("ERR Protocol version is not an integer or out of range"),
        };
        i = 2;
    }
    let mut setname = None;
    let mut auth = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if args[i].eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            auth = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 3;
        } else if args[i].eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            setname = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Reply::Error(
                [b"ERR Syntax error in HELLO option '".as_slice(), &args[i], b"'"]
                    .concat()
                    .into(),
            );
        }
    }
    if let Some((user, pass)) = auth
        && let Err(e) = super::acl::authenticate(s, &args[0], &user, &pass)
    {
        return e;
    }
    if !s.authenticated {
        return Reply::error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        );
    }
    if let Some(name) = setname {
        if let Err(e) = valid_client_name(&name) {
            return e;
        }
        s.client.set_name(&name);
    }
    s.proto = proto;
    s.client.resp.store(proto, Ordering::Relaxed);
    Reply::Map(vec![
        (Reply::bulk_str("server"), Reply::bulk_str("redis")),
        (Reply::bulk_str("version"), Reply::bulk_str(crate::REDIS_VERSION)),
        (Reply::bulk_str("proto"), Reply::Int(proto as i64)),
        (Reply::bulk_str("id"), Reply::Int(s.client.id as i64)),
        (Reply::bulk_str("mode"), Reply::bulk_str("standalone")),
        (Reply::bulk_str("role"), Reply::bulk_str("master")),
        (Reply::bulk_str("modules"), Reply::Array(vec![])),
    ])
}

/// A client name may not contain spaces, newlines or special characters.
pub fn valid_client_name(name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(Reply::error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

/// AUTH [username] password
fn auth(s: &mut Session, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return Reply::error(crate::commands::SYNTAX);
    }
    let (user, pass) = if args.len() == 2 {
        if s.server.acl.default_nopass() {
            return Reply::error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            );
        }
        (&b"default"[..], &args[1][..])
    } else {
        (&args[1][..], &args[2][..])
    };
    match super::acl::authenticate(s, &args[0], user, pass) {
        Ok(()) => Reply::ok(),
        Err(e) => e,
    }
}

fn command_info(args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        return Reply::Array(sorted_commands().map(|c| c.info.clone()).collect());
    }
    Reply::Array(
        args[2..]
            .iter()
            .map(|n| lookup(n).map_or(Reply::NilArray, |c| c.info.clone()))
            .collect(),
    )
}

fn command_docs(args: &[Bytes]) -> Reply {
    let pairs = if args.len() == 2 {
        sorted_commands()
            .map(|c| (Reply::bulk_str(&c.name), c.docs.clone()))
            .collect()
    } else {
        args[2..]
            .iter()
            .filter_map(|n| lookup(n).map(|c| (Reply::bulk_str(&c.name), c.docs.clone())))
            .collect()
    };
    Reply::Map(pairs)
}

fn all_names() -> Vec<&'static Command> {
    let mut out = Vec::new();
    for c in sorted_commands() {
        out.push(c);
        let mut subs: Vec<&Command> = c.subcommands.values().collect();
        subs.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(subs);
    }
    out
}

/// COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]
fn command_list(args: &[Bytes]) -> Reply {
    let names = all_names();
    let filtered: Vec<&Command> = match args.len() {
        2 => names,
        5 if args[2].eq_ignore_ascii_case(b"FILTERBY") => {
            let value = &args[4];
            if args[3].eq_ignore_ascii_case(b"MODULE") {
                Vec::new()
            } else if args[3].eq_ignore_ascii_case(b"ACLCAT") {
                let cat = format!("@{}", String::from_utf8_lossy(value).to_lowercase());
                names.into_iter().filter(|c| acl_categories(c).contains(&cat)).collect()
            } else if args[3].eq_ignore_ascii_case(b"PATTERN") {
                names
                    .into_iter()
                    .filter(|c| crate::glob::matches(value, c.name.as_bytes(), true))
                    .collect()
            } else {
                return Reply::error(crate::commands::SYNTAX);
            }
        }
        _ => return Reply::error(crate::commands::SYNTAX),
    };
    Reply::Array(filtered.into_iter().map(|c| Reply::bulk_str(&c.name)).collect())
}

fn acl_categories(c: &Command) -> Vec<String> {
    match &c.info {
        Reply::Array(f) => match f.get(6) {
            Some(Reply::Set(cats)) | Some(Reply::Array(cats)) => cats
                .iter()
                .filter_map(bytes_of)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(args: &[Bytes]) -> Reply {
    let rest = &args[2..];
    let Some(mut cmd) = lookup(&rest[0]) else {
        return Reply::error("ERR Invalid command specified");
    };
    if !cmd.subcommands.is_empty()
        && rest.len() >= 2
        && let Some(sub) = cmd.subcommands.get(&rest[1].to_ascii_lowercase())
    {
        cmd = sub;
    }
    // Redis's order: no keys at all, then arity, then the arguments themselves.
    if !cmd.has_keys() {
        return Reply::error("ERR The command has no key arguments");
    }
    if !cmd.arity_ok(rest.len()) {
        return Reply::error("ERR Invalid number of arguments specified for command");
    }
    let Some(keys) = cmd.keys(rest).filter(|k| !k.is_empty()) else {
        return Reply::error("ERR Invalid arguments specified for command");
    };
    Reply::Array(keys.into_iter().map(|i| Reply::Bulk(rest[i].clone())).collect())
}
