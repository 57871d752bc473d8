//! CLIENT subcommands (Redis 7.0): ID, INFO, LIST, KILL, SETNAME, GETNAME,
//! REPLY, NO-EVICT, UNBLOCK, PAUSE, UNPAUSE (see `pause`), HELP.
//!
//! `CLIENT SETINFO` (Redis 7.2) is deliberately not implemented: redsql
//! answers it as Redis 7.0 does (unknown subcommand). Clients that send it
//! on connect (redis-py 5, go-redis 9, node-redis 4.6) ignore that error,
//! because 7.0 servers are common, so nothing breaks; and `COMMAND DOCS`,
//! `CLIENT LIST` and `CLIENT HELP` stay byte-for-byte those of the Redis
//! version redsql claims to be (7.0.15), which is what tools key their
//! behaviour on.

use super::blocking::Unblock;
use super::clients::ClientHandle;
use super::commands::ServerSpec;
use super::connection::{ReplyMode, Session};
use crate::commands::SYNTAX;
use crate::commands::{Command, help};
use crate::resp::Reply;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// The CLIENT subcommands.
pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::now("client|id", client),
    ServerSpec::now("client|info", client),
    ServerSpec::now("client|list", client),
    ServerSpec::now("client|kill", client),
    ServerSpec::now("client|setname", client),
    ServerSpec::now("client|getname", client),
    ServerSpec::now("client|reply", client),
    ServerSpec::now("client|no-evict", client),
    ServerSpec::now("client|unblock", client),
    ServerSpec::now("client|pause", client),
    ServerSpec::now("client|unpause", client),
    ServerSpec::now("client|help", client),
];

/// Runs a CLIENT subcommand.
fn client(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    Some(run(s, cmd.name.strip_prefix("client|").unwrap_or_default(), args))
}

/// Runs `client|<sub>`.
fn run(s: &mut Session, sub: &str, args: &[Bytes]) -> Reply {
    match sub {
        "id" => Reply::Int(s.client.id as i64),
        "info" => Reply::Verbatim(Bytes::from(s.client.describe(crate::util::now_ms()) + "\n")),
        "list" => list(s, args),
        "kill" => kill(s, args),
        "setname" => match super::commands::valid_client_name(&args[2]) {
            Ok(()) => {
                s.client.set_name(&args[2]);
                Reply::ok()
            }
            Err(e) => e,
        },
        "getname" => s.client.name.lock().unwrap().clone().map_or(Reply::Nil, Reply::Bulk),
        "reply" => reply(s, &args[2]),
        "no-evict" => on_off(&args[2]).map_or_else(
            |e| e,
            |on| {
                s.client.no_evict.store(on, Ordering::Relaxed);
                Reply::ok()
            },
        ),
        "unblock" => unblock(s, args),
        "pause" => {
            if args.len() > 4 {
                return subcommand_syntax_error(args);
            }
            super::pause::client_pause(s, args)
        }
        "unpause" => {
            s.server.pause.unpause();
            Reply::ok()
        }
        "help" => help("CLIENT", HELP),
        other => Reply::error(format!("ERR unknown subcommand '{other}'. Try CLIENT HELP.")),
    }
}

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: ends a blocked client's wait,
/// as if its timeout had passed or with an `-UNBLOCKED` error. 1 if that
/// client was blocked, else 0. Redis checks the reason before the id.
fn unblock(s: &Session, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return subcommand_syntax_error(args);
    }
    let how = match args.get(3) {
        None => Unblock::Timeout,
        Some(a) if a.eq_ignore_ascii_case(b"timeout") => Unblock::Timeout,
        Some(a) if a.eq_ignore_ascii_case(b"error") => Unblock::Error,
        Some(_) => return Reply::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    let Some(id) = crate::resp::request::parse_i64(&args[2]) else {
        return Reply::error(crate::commands::NOT_INTEGER);
    };
    let done = u64::try_from(id).is_ok_and(|id| s.server.blocking.unblock(id, how));
    Reply::Int(done as i64)
}

/// Redis's error for extra arguments, naming the subcommand as the client spelled it.
fn subcommand_syntax_error(args: &[Bytes]) -> Reply {
    let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    msg.extend_from_slice(&args[1]);
    msg.extend_from_slice(b"'. Try CLIENT HELP.");
    Reply::Error(msg.into())
}

/// `ON` / `OFF`, anything else is a syntax error.
fn on_off(arg: &[u8]) -> Result<bool, Reply> {
    if arg.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(Reply::error(SYNTAX))
    }
}

/// CLIENT REPLY ON|OFF|SKIP: OFF and SKIP suppress their own reply too.
fn reply(s: &mut Session, mode: &[u8]) -> Reply {
    s.reply_mode = if mode.eq_ignore_ascii_case(b"on") {
        ReplyMode::On
    } else if mode.eq_ignore_ascii_case(b"off") {
        ReplyMode::Off
    } else if mode.eq_ignore_ascii_case(b"skip") {
        // Only if replies are on: SKIP while OFF changes nothing.
        if s.reply_mode == ReplyMode::Off {
            ReplyMode::Off
        } else {
            ReplyMode::SkipNext
        }
    } else {
        return Reply::error(SYNTAX);
    };
    Reply::ok()
}

/// Client types as `CLIENT LIST TYPE` / `CLIENT KILL TYPE` name them; every
/// redsql connection is a normal client (no replicas, no pub/sub yet).
fn client_type(name: &[u8]) -> Result<bool, Reply> {
    let lower = name.to_ascii_lowercase();
    match &lower[..] {
        b"normal" => Ok(true),
        b"slave" | b"replica" | b"master" | b"pubsub" => Ok(false),
        _ => Err(Reply::Error(
            [b"ERR Unknown client type '".as_slice(), name, b"'"].concat().into(),
        )),
    }
}

/// CLIENT LIST [TYPE type] | [ID id ...]
fn list(s: &Session, args: &[Bytes]) -> Reply {
    let now = crate::util::now_ms();
    let chosen: Vec<std::sync::Arc<ClientHandle>> = if args.len() == 4 && args[2].eq_ignore_ascii_case(b"type") {
        match client_type(&args[3]) {
            Ok(true) => s.server.clients.all(),
            Ok(false) => Vec::new(),
            Err(e) => return e,
        }
    } else if args.len() > 3 && args[2].eq_ignore_ascii_case(b"id") {
        let mut out = Vec::new();
        for a in &args[3..] {
            let Some(id) = crate::resp::request::parse_i64(a) else {
                return Reply::error("ERR Invalid client ID");
            };
            if let Some(c) = u64::try_from(id).ok().and_then(|id| s.server.clients.get(id)) {
                out.push(c);
            }
        }
        out
    } else if args.len() != 2 {
        return Reply::error(SYNTAX);
    } else {
        s.server.clients.all()
    };
    let mut text = String::new();
    for c in chosen {
        text.push_str(&c.describe(now));
        text.push('\n');
    }
    Reply::Verbatim(Bytes::from(text))
}

/// Which clients `CLIENT KILL` applies to.
#[derive(Default)]
struct KillFilter {
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    id: Option<u64>,
    /// `TYPE`: false when the type can match no redsql client.
    type_matches: Option<bool>,
    /// `USER`: clients authenticated as this user.
    user: Option<std::sync::Arc<super::acl::User>>,
    skipme: bool,
}

/// CLIENT KILL ip:port | CLIENT KILL <filter> <value> ...
fn kill(s: &mut Session, args: &[Bytes]) -> Reply {
    let old_form = args.len() == 3;
    let filter = if old_form {
        KillFilter {
            addr: Some(args[2].clone()),
            skipme: false,
            ..Default::default()
        }
    } else {
        match parse_kill_filter(s, &args[2..]) {
            Ok(f) => f,
            Err(e) => return e,
        }
    };
    let mut killed = 0;
    for c in s.server.clients.all() {
        // Redis frees a killed client at once; here its connection may still
        // be closing, and must not be counted (or killed) twice.
        if c.killed.load(std::sync::atomic::Ordering::SeqCst) {
            continue;
        }
        let matches = filter.addr.as_ref().is_none_or(|a| a[..] == *c.addr.as_bytes())
            && filter.laddr.as_ref().is_none_or(|a| a[..] == *c.laddr.as_bytes())
            && filter.id.is_none_or(|id| id == c.id)
            && filter.type_matches != Some(false)
            && filter
                .user
                .as_ref()
                .is_none_or(|u| std::sync::Arc::ptr_eq(u, &c.user.lock().unwrap()))
            && !(filter.skipme && c.id == s.client.id);
        if !matches {
            continue;
        }
        if c.id == s.client.id {
            // Closed after this reply is written.
            s.quit = true;
            c.killed.store(true, std::sync::atomic::Ordering::SeqCst);
        } else {
            c.kill();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            Reply::error("ERR No such client")
        } else {
            Reply::ok()
        }
    } else {
        Reply::Int(killed)
    }
}

fn parse_kill_filter(s: &Session, opts: &[Bytes]) -> Result<KillFilter, Reply> {
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    let mut i = 0;
    while i < opts.len() {
        let Some(value) = opts.get(i + 1) else {
            return Err(Reply::error(SYNTAX));
        };
        let opt = opts[i].to_ascii_lowercase();
        match &opt[..] {
            b"id" => match crate::resp::request::parse_i64(value) {
                Some(n) if n >= 1 => f.id = Some(n as u64),
                _ => return Err(Reply::error("ERR client-id should be greater than 0")),
            },
            b"type" => f.type_matches = Some(client_type(value)?),
            b"addr" => f.addr = Some(value.clone()),
            b"laddr" => f.laddr = Some(value.clone()),
            b"user" => match s.server.acl.user(value) {
                Some(u) => f.user = Some(u),
                None => {
                    return Err(Reply::Error(
                        [b"ERR No such user '".as_slice(), value, b"'"].concat().into(),
                    ));
                }
            },
            b"skipme" => f.skipme = on_off_yes_no(value)?,
            _ => return Err(Reply::error(SYNTAX)),
        }
        i += 2;
    }
    Ok(f)
}

fn on_off_yes_no(v: &[u8]) -> Result<bool, Reply> {
    if v.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        Err(Reply::error(SYNTAX))
    }
}

/// Redis 7.0's `CLIENT HELP` text, verbatim.
const HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];
