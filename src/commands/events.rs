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
    /// `t`: stream commands (redsql has no streams).
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
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
