//! Redis commands: the command table, argument helpers, and one module per family.
//!
//! A command is a function `fn(&mut Ctx, &[Bytes]) -> CmdResult` (arguments
//! include the command name at index 0) registered in its module's `COMMANDS`
//! list with the kind of access it needs. Its arity, flags, key positions and
//! documentation come from Redis's own metadata ([`table`]).

pub mod args;
pub mod bitmaps;
pub mod blocking;
pub mod connection;
pub mod events;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod keys;
pub mod keyspec;
pub mod lists;
pub mod longdouble;
pub mod memory;
pub mod scripting;
pub mod server;
pub mod sets;
pub mod settings;
pub mod sort;
pub mod spec;
pub mod streams;
pub mod strings;
pub mod table;
pub mod zsets;

use crate::resp::Reply;
use crate::store::{Store, StoreError};
use bytes::Bytes;

pub use events::{Class, Classes, Event};
pub use spec::Spec;
pub use table::{Command, lookup};

/// What a command needs to run.
pub struct Ctx<'a> {
    /// The selected database; `SELECT` changes it for the rest of the batch.
    pub db: u32,
    /// Protocol version of the client (2 or 3), for replies that differ.
    pub proto: u8,
    /// Number of databases (`--databases`).
    pub databases: u32,
    pub store: &'a mut dyn Store,
    /// The keyspace event classes to report (none by default; see [`events`]).
    pub notify: Classes,
    /// The events reported so far, in order; the engine takes them after each command.
    pub events: Vec<Event>,
    /// ACL key patterns restrict the client: a command may reach only the
    /// keys its arguments name (SORT's BY and GET patterns are refused, as
    /// Redis refuses them without unrestricted key access).
    pub keys_restricted: bool,
    /// The client's ACL rules, when they restrict it: checked for every
    /// command a command runs on its behalf (a script's `redis.call`).
    pub acl: Option<std::sync::Arc<dyn Restrictions>>,
}

/// A client's ACL restrictions, for the commands that run other commands or
/// reach keys their arguments do not name. The server supplies them.
pub trait Restrictions: Send + Sync {
    /// Whether the client may run `cmd` with `args` (Redis's
    /// `ACLCheckAllUserCommandPerm`); a refusal is logged in `ACL LOG` (its
    /// context: a script) and answered with the text Redis gives a script.
    fn check_in_script(&self, cmd: &Command, args: &[Bytes]) -> Result<(), &'static str>;
    /// Whether the client may reach every key with `cmd` (SORT's patterns).
    fn all_keys(&self, cmd: &Command, args: &[Bytes]) -> bool;
}

impl<'a> Ctx<'a> {
    /// A context that reports no keyspace events.
    pub fn new(db: u32, proto: u8, databases: u32, store: &'a mut dyn Store) -> Self {
        Ctx {
            db,
            proto,
            databases,
            store,
            notify: Classes::default(),
            events: Vec::new(),
            keys_restricted: false,
            acl: None,
        }
    }

    pub fn now(&self) -> i64 {
        self.store.now()
    }

    /// Reports that event `name` of `class` happened to `key` in the selected
    /// database (Redis's `notifyKeyspaceEvent`). Free when the class is off.
    #[inline]
    pub fn notify(&mut self, class: Class, name: &'static str, key: &Bytes) {
        self.notify_in(self.db, class, name, key);
    }

    /// [`Ctx::notify`] for a key of database `db` (MOVE, COPY ... DB).
    #[inline]
    pub fn notify_in(&mut self, db: u32, class: Class, name: &'static str, key: &Bytes) {
        if self.notify.has(class) {
            self.events.push(Event {
                db,
                class,
                name,
                key: key.clone(),
            });
        }
    }

    /// Reports that `key` was created in the selected database (the `new`
    /// event, which Redis's `dbAdd` sends before the command's own event).
    #[inline]
    pub fn created(&mut self, key: &Bytes) {
        self.notify(Class::New, "new", key);
    }

    /// Whether `key` is missing, asked before a write that does not look at
    /// the key first but may create it, so that it can report `new`. False,
    /// without a lookup, while `new` events are off.
    pub fn will_create(&mut self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.notify.has(Class::New) && self.store.meta(self.db, key)?.is_none())
    }

    /// Whether `key` exists (any type), asked by a command that replaces the
    /// key without looking at it first, to report `new` or `del`. False,
    /// without a lookup, while no event is reported.
    pub fn exists_for_events(&mut self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.notify != Classes::default() && self.store.meta(self.db, key)?.is_some())
    }

    /// Reports how a command that stores its result at `key` (replacing any
    /// old key) ended: `new` (if there was no key) and `event` when it stored
    /// something, or `del` when the empty result deleted an old key.
    pub fn stored(&mut self, class: Class, event: &'static str, key: &Bytes, existed: bool, stored: bool) {
        if stored {
            if !existed {
                self.created(key);
            }
            self.notify(class, event, key);
        } else if existed {
            self.notify(Class::Generic, "del", key);
        }
    }
}

/// An error while running a command.
#[derive(Debug, Clone)]
pub enum CmdError {
    /// A Redis error reply, with its code (`"ERR syntax error"`).
    Reply(String),
    /// The key holds a value of another type: Redis's [`WRONGTYPE`] error
    /// (typed, because code branches on it: `keymiss` events stop there).
    WrongType,
    /// The storage layer failed; the batch is retried or the client told.
    Store(StoreError),
}

impl From<StoreError> for CmdError {
    fn from(e: StoreError) -> Self {
        CmdError::Store(e)
    }
}

impl CmdError {
    /// The Redis error text of a command's error; `None` for a storage failure.
    /// The error reply a client gets for this error.
    pub fn reply(&self) -> Reply {
        match self {
            CmdError::Store(e) => Reply::error(format!("ERR storage error: {e}")),
            CmdError::Reply(e) => Reply::error(e.clone()),
            CmdError::WrongType => Reply::error(WRONGTYPE),
        }
    }

    pub fn redis_text(&self) -> Option<&str> {
        match self {
            CmdError::Reply(e) => Some(e),
            CmdError::WrongType => Some(WRONGTYPE),
            CmdError::Store(_) => None,
        }
    }
}

pub type CmdResult = Result<Reply, CmdError>;

/// Shorthand for an error reply.
pub fn err<T>(msg: impl Into<String>) -> Result<T, CmdError> {
    Err(CmdError::Reply(msg.into()))
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";

pub type CommandFn = fn(&mut Ctx, &[Bytes]) -> CmdResult;

/// How a command is run.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Reads keys: runs on a read connection (or in the writer when batched with writes).
    Read(CommandFn),
    /// Writes keys: runs in the writer's transaction.
    Write(CommandFn),
    /// Needs no storage (PING, ECHO, SELECT, TIME, ...).
    Pure(CommandFn),
    /// Needs the client or the server (CLIENT, CONFIG, INFO, HELLO, ...):
    /// run by the server layer, which registered it with its function
    /// (this is that function's index in the server's list).
    Server(u16),
    /// A command with subcommands and no handler of its own (CLIENT, CONFIG).
    Container,
}

/// Every family of storage commands, each a table of specs (the server adds
/// its own families: see `server::commands`).
pub const FAMILIES: &[&[Spec]] = &[
    bitmaps::COMMANDS,
    connection::COMMANDS,
    geo::COMMANDS,
    hashes::COMMANDS,
    hyperloglog::COMMANDS,
    keys::COMMANDS,
    lists::COMMANDS,
    memory::COMMANDS,
    scripting::COMMANDS,
    server::COMMANDS,
    sets::COMMANDS,
    sort::COMMANDS,
    streams::COMMANDS,
    strings::COMMANDS,
    zsets::COMMANDS,
];

/// Runs command `cmd` with `args` (name first) in `ctx`: its handler, with
/// its `keymiss` events while those are reported. Server commands cannot run
/// here.
pub fn run(ctx: &mut Ctx, cmd: &'static Command, args: &[Bytes]) -> CmdResult {
    match cmd.spec.handler {
        Handler::Read(f) | Handler::Write(f) | Handler::Pure(f) if ctx.notify.has(Class::KeyMiss) => {
            events::with_misses(ctx, cmd, args, f)
        }
        Handler::Read(f) | Handler::Write(f) | Handler::Pure(f) => f(ctx, args),
        Handler::Server(_) | Handler::Container => Err(CmdError::Reply(format!("ERR '{}' cannot run here", cmd.name))),
    }
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
