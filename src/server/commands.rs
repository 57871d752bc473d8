//! The server's command table and its own commands: HELLO, AUTH, QUIT,
//! RESET, MONITOR, INFO, SAVE, BGSAVE, LASTSAVE, SHUTDOWN and COMMAND. The
//! other server families live in their modules, each with its `COMMANDS`
//! list of [`ServerSpec`]s: CLIENT (`client_cmd`), CONFIG (`config_cmd`),
//! SLOWLOG (`slowlog`), ACL (`acl`), MULTI/EXEC/DISCARD/WATCH/UNWATCH
//! (`multi`) and Pub/Sub (`pubsub`).
//!
//! A server command is registered with its function ([`Run`]); the table
//! gives it [`Handler::Server`] with that function's index, and the
//! connection runs it (outside the engine), in order with the client's other
//! commands.

use super::connection::Session;
use crate::commands::table::{Table, bytes_of};
use crate::commands::{Command, FAMILIES, Handler, Spec, help};
use crate::resp::Reply;
use crate::store::DbStats;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

/// A server command's reply that takes waiting for (the engine, a blocking pop).
pub type Waiting<'a> = Pin<Box<dyn Future<Output = Option<Reply>> + Send + 'a>>;

/// How a server command runs. `None` means no reply at all (SHUTDOWN closes
/// the connection without answering, as in Redis).
#[derive(Clone, Copy)]
pub enum Run {
    /// Answers at once.
    Now(fn(&mut Session, &'static Command, &[Bytes]) -> Option<Reply>),
    /// Answers after waiting.
    Later(for<'a> fn(&'a mut Session, &'static Command, &'a [Bytes]) -> Waiting<'a>),
    /// One reply per channel or pattern, sent apart outside MULTI (SUBSCRIBE & co.).
    Each(fn(&mut Session, &'static Command, &[Bytes]) -> Vec<Reply>),
}

/// A server command: its spec (with [`Handler::Server`]) and its function.
#[derive(Clone, Copy)]
pub struct ServerSpec {
    pub spec: Spec,
    pub run: Run,
}

impl ServerSpec {
    pub const fn new(spec: Spec, run: Run) -> ServerSpec {
        ServerSpec { spec, run }
    }

    pub const fn now(
        name: &'static str,
        f: fn(&mut Session, &'static Command, &[Bytes]) -> Option<Reply>,
    ) -> ServerSpec {
        ServerSpec::new(Spec::server(name), Run::Now(f))
    }
}

/// The server's families of commands, beside the storage ones.
const SERVER_FAMILIES: &[&[ServerSpec]] = &[
    COMMANDS,
    super::client_cmd::COMMANDS,
    super::config_cmd::COMMANDS,
    super::slowlog::COMMANDS,
    super::acl::COMMANDS,
    super::multi::COMMANDS,
    super::pubsub::COMMANDS,
];

/// The server's command table: every storage command and every server command.
struct ServerTable {
    table: Table,
    /// Each server command's function, by its [`Handler::Server`] index.
    runs: Vec<Run>,
}

fn server_table() -> &'static ServerTable {
    static TABLE: OnceLock<ServerTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let server: Vec<ServerSpec> = SERVER_FAMILIES.iter().copied().flatten().copied().collect();
        let runs = server.iter().map(|s| s.run).collect();
        let specs = server.iter().enumerate().map(|(i, s)| Spec {
            handler: Handler::Server(i as u16),
            ..s.spec
        });
        let table = Table::build(FAMILIES.iter().copied().flatten().copied().chain(specs));
        ServerTable { table, runs }
    })
}

/// The server's command table (storage and server commands).
pub fn table() -> &'static Table {
    &server_table().table
}

/// Looks a command up by name, case-insensitively, in the server's table.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    table().get(name)
}

/// The function of server command `index` ([`Handler::Server`]).
pub fn run_of(index: u16) -> Run {
    server_table().runs[index as usize]
}

/// Runs a server command outside the connection's usual path (EXEC's
/// queued server commands): its replies become one.
pub async fn run(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    let Handler::Server(index) = cmd.spec.handler else {
        return Some(Reply::error(format!("ERR '{}' is not a server command", cmd.name)));
    };
    match run_of(index) {
        Run::Now(f) => f(s, cmd, args),
        Run::Later(f) => f(s, cmd, args).await,
        Run::Each(f) => {
            let mut replies = f(s, cmd, args);
            Some(if replies.len() == 1 {
                replies.remove(0)
            } else {
                Reply::Array(replies)
            })
        }
    }
}

pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::new(
        Spec::server("hello").redacts(super::slowlog::redact_hello),
        Run::Now(|s, _, a| Some(hello(s, a))),
    ),
    ServerSpec::new(
        Spec::server("auth").redacts(super::slowlog::redact_all),
        Run::Now(|s, _, a| Some(auth(s, a))),
    ),
    ServerSpec::new(
        Spec::server("quit").immediate_in_multi().in_subscriber_mode(),
        Run::Now(quit),
    ),
    ServerSpec::new(
        Spec::server("reset").immediate_in_multi().in_subscriber_mode(),
        Run::Now(|s, _, _| Some(reset(s))),
    ),
    ServerSpec::now("monitor", |s, _, _| monitor(s)),
    ServerSpec::new(
        Spec::server("info"),
        Run::Later(|s, _, a| Box::pin(async move { Some(info(s, a).await) })),
    ),
    ServerSpec::now("lastsave", |s, _, _| {
        Some(Reply::Int(s.server.last_save.load(Ordering::Relaxed)))
    }),
    ServerSpec::now("save", |s, _, _| {
        mark_saved(s);
        Some(Reply::ok())
    }),
    ServerSpec::now("bgsave", bgsave),
    ServerSpec::now("shutdown", |s, _, a| shutdown(s, a)),
    ServerSpec::now("command", |_, _, _| {
        Some(Reply::Array(sorted_commands().map(|c| c.info.clone()).collect()))
    }),
    ServerSpec::now("command|count", |_, _, _| Some(Reply::Int(table().len() as i64))),
    ServerSpec::now("command|info", |_, _, a| Some(command_info(a))),
    ServerSpec::now("command|docs", |_, _, a| Some(command_docs(a))),
    ServerSpec::now("command|list", |_, _, a| Some(command_list(a))),
    ServerSpec::now("command|getkeys", |_, _, a| Some(command_getkeys(a))),
    ServerSpec::now("command|help", |_, _, _| Some(command_help())),
];

fn quit(s: &mut Session, _: &'static Command, _: &[Bytes]) -> Option<Reply> {
    s.quit = true;
    Some(Reply::ok())
}

fn bgsave(s: &mut Session, _: &'static Command, args: &[Bytes]) -> Option<Reply> {
    if args.len() > 2 || (args.len() == 2 && !args[1].eq_ignore_ascii_case(b"SCHEDULE")) {
        return Some(Reply::error(crate::commands::SYNTAX));
    }
    mark_saved(s);
    Some(Reply::status("Background saving started"))
}

fn command_help() -> Reply {
    help(
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
    )
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

/// Per-database key counts, read in a closure job of the engine.
async fn keyspace_stats(s: &Session) -> Result<Vec<(u32, DbStats)>, Reply> {
    let f: crate::engine::TxFn = Box::new(|tx| Ok(Box::new(tx.ctx().store.stats()?)));
    match s.server.engine.transaction(s.db, s.proto, f).await {
        Ok(v) => match v.downcast::<Vec<(u32, DbStats)>>() {
            Ok(stats) => Ok(*stats),
            Err(_) => Err(Reply::error("ERR cannot read keyspace statistics")),
        },
        Err(e) => Err(e.reply()),
    }
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
