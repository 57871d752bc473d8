//! Keyspace events, as command code reports them (Redis's `notifyKeyspaceEvent`).
//!
//! A command that changes a key reports what it did through
//! [`Ctx::notify`](super::Ctx::notify): the event's class (`l` for list
//! commands, `g` for generic ones, ...), its name (`lpush`, `del`,
//! `expire`, ...) and the key. The server turns the events of committed
//! commands into Pub/Sub messages (`server::notify`), the way Redis's
//! `notify-keyspace-events` setting asks.
//!
//! Reporting is free when notifications are off (the default): the
//! command's context carries the set of enabled classes ([`Classes`]), and an
//! event of a disabled class is dropped before anything is allocated.
//!
//! `keymiss` events (class `m`) are not reported by command code but around
//! it ([`with_misses`]): which lookups of which commands report a miss is a
//! property of Redis's lookup functions, not of what each command does.

use super::{CmdError, CmdResult, Command, CommandFn, Ctx};
use crate::resp::Reply;
use crate::store::KeyType;
use bytes::Bytes;

/// One class of events, with Redis's bit for it (`NOTIFY_*` in server.h), so
/// that a set of classes is a plain bit mask ([`Classes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Class {
    /// `g`: commands on any type (DEL, EXPIRE, RENAME, ...).
    Generic = 1 << 2,
    /// `$`: string commands.
    String = 1 << 3,
    /// `l`: list commands.
    List = 1 << 4,
    /// `s`: set commands.
    Set = 1 << 5,
    /// `h`: hash commands.
    Hash = 1 << 6,
    /// `z`: sorted-set commands.
    ZSet = 1 << 7,
    /// `x`: a key deleted because its time to live passed.
    Expired = 1 << 8,
    /// `t`: stream commands.
    Stream = 1 << 10,
    /// `m`: a read command's lookup found no key (not part of `A`).
    KeyMiss = 1 << 11,
    /// `n`: a key created (not part of `A`).
    New = 1 << 14,
}

/// A set of enabled event classes and destinations, as Redis's
/// `notify-keyspace-events` flags (bits of [`Class`], plus [`Classes::KEYSPACE`]
/// and [`Classes::KEYEVENT`] and the classes redsql never emits). The empty
/// set means notifications are off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes(pub u32);

impl Classes {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `e`: keys evicted for memory (redsql never evicts).
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = Class::Stream as u32;
    /// `m`: key misses (not part of `A`).
    pub const KEY_MISS: u32 = Class::KeyMiss as u32;
    /// `d`: module events (redsql has no modules).
    pub const MODULE: u32 = 1 << 13;
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 = Class::Generic as u32
        | Class::String as u32
        | Class::List as u32
        | Class::Set as u32
        | Class::Hash as u32
        | Class::ZSet as u32
        | Class::Expired as u32
        | Self::EVICTED
        | Self::STREAM
        | Self::MODULE;

    /// The classes commands must report: none unless events are published
    /// somewhere (`K` or `E`), as Redis publishes nothing without them.
    pub fn reported(self) -> Classes {
        if self.0 & (Self::KEYSPACE | Self::KEYEVENT) == 0 {
            Classes(0)
        } else {
            self
        }
    }

    /// Whether events of `class` are reported.
    #[inline]
    pub fn has(self, class: Class) -> bool {
        self.0 & class as u32 != 0
    }
}

/// One event: in database `db`, `name` (`lpush`, `del`, ...) happened to `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub db: u32,
    pub class: Class,
    pub name: &'static str,
    pub key: Bytes,
}

/// Runs command `f` reporting `keymiss` events as Redis 7.0 does: a key
/// that a command looks up for reading (Redis's `lookupKeyRead*`) and does
/// not find reports `keymiss`, before the command's own events. Called only
/// while `m` is on (see `engine::call`).
///
/// Which keys are looked up that way ([`read_keys`]) was checked against
/// real Redis command by command. The misses are found before the command
/// runs (GETDEL deletes its key) and kept only if the command got as far as
/// its lookups: an error other than WRONGTYPE (a bad argument, checked first)
/// reports none, and a WRONGTYPE error reports the misses before the first
/// key of another type (where Redis stopped looking).
pub fn with_misses(ctx: &mut Ctx, cmd: &Command, args: &[Bytes], f: CommandFn) -> CmdResult {
    let keys = read_keys(cmd, args);
    let mut looked = Vec::with_capacity(keys.len());
    for &i in &keys {
        looked.push((i, ctx.store.meta(ctx.db, &args[i])?.map(|e| e.kind)));
    }
    let before = ctx.events.len();
    let result = f(ctx, args);
    let upto = match &result {
        Ok(Reply::Error(_)) | Err(CmdError::Reply(_)) => 0,
        Err(CmdError::WrongType) => match family(cmd) {
            Some(kind) => looked
                .iter()
                .position(|(_, k)| k.is_some_and(|k| k != kind))
                .unwrap_or(looked.len()),
            None => looked.len(),
        },
        Err(CmdError::Store(_)) => 0,
        Ok(_) => looked.len(),
    };
    let db = ctx.db;
    let misses = looked[..upto]
        .iter()
        .filter(|(_, kind)| kind.is_none())
        .map(|&(i, _)| Event {
            db,
            class: Class::KeyMiss,
            name: "keymiss",
            key: args[i].clone(),
        });
    ctx.events.splice(before..before, misses);
    result
}

/// The positions of the keys `cmd` looks up for reading, in lookup order:
/// what its spec says ([`super::Spec::misses`]), by default every key of a
/// read-only command and none of a write.
///
/// * Read-only commands look up every key, except OBJECT and MEMORY USAGE
///   (which look without notifying).
/// * Of the write commands, those that read a key before writing: GETDEL,
///   GETEX, GETSET and SET ... GET (their key), BITFIELD with only GETs, the
///   sources of BITOP, S*STORE, Z*STORE, ZRANGESTORE, COPY and SORT. Other
///   writes (INCR, LPOP, SMOVE, LMOVE, RENAME, ...) look up for writing: no
///   event.
///
/// Not covered: the keys SORT reads through BY and GET patterns.
pub fn read_keys(cmd: &Command, args: &[Bytes]) -> Vec<usize> {
    match cmd.spec.misses {
        Some(f) => f(cmd, args),
        None if cmd.readonly => cmd.keys(args).unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The type of key `cmd` works on, from its ACL categories (`@list`, ...);
/// `None` for commands on keys of any type.
fn family(cmd: &Command) -> Option<KeyType> {
    let Reply::Array(info) = &cmd.info else { return None };
    let (Some(Reply::Array(categories)) | Some(Reply::Set(categories))) = info.get(6) else {
        return None;
    };
    categories.iter().find_map(|c| match super::table::bytes_of(c)? {
        b"@string" | b"@bitmap" | b"@hyperloglog" => Some(KeyType::String),
        b"@list" => Some(KeyType::List),
        b"@set" => Some(KeyType::Set),
        b"@sortedset" | b"@geo" => Some(KeyType::ZSet),
        b"@hash" => Some(KeyType::Hash),
        b"@stream" => Some(KeyType::Stream),
        _ => None,
    })
}

/// Where Redis 7.0 writes an event's message relative to the reply of the
/// command that reported it, which matters to a client subscribed to it on
/// its own connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    BeforeReply,
    AfterReply,
    /// Inside an array reply, right before the element at this path (indices
    /// into nested arrays), after the array's header.
    BeforeElement(Vec<usize>),
}

/// Where each of the events a command reported (in order) goes (see
/// [`Place`]). Most commands notify and then reply, but some reply first
/// (pushes, pops, HSET, ZADD, the *STORE commands, ...) after only the
/// events of their lookups (`keymiss`) and of the key's creation (`new`); a
/// few split their events around the reply (LMOVE: the push, the reply,
/// the pop); and some write them inside their array reply as they build it
/// (MGET's misses before each element, ZPOPMIN's after the header). Checked
/// against real Redis command by command.
pub fn places(cmd: &Command, args: &[Bytes], events: &[Event]) -> Vec<Place> {
    match cmd.spec.places {
        Some(f) => f(args, events),
        None => vec![Place::BeforeReply; events.len()],
    }
}
