//! The storage interface that command code is written against.
//!
//! Every Redis command is implemented once, in `commands/`, on top of this
//! trait; each backend (`backend/sqlite`, `backend/postgres`) implements it
//! with its own SQL. Readers implement only the read methods' semantics:
//! a read-only store returns [`StoreError`] from write methods (command
//! dispatch never calls them there).
//!
//! The collection layouts are the same on both backends, and what is
//! computed on them is written once, here. Per type, a backend implements
//! two traits with its statements: the type's operations whose statements
//! differ by backend ([`ListOps`], [`SetOps`], [`HashOps`], [`ZSetOps`]:
//! pushes, HSET, SADD, ZADD's upsert, ...) and the statements that the
//! shared algorithms run (`ListRows`, `SetRows`, `HashRows`, `ZSetRows`,
//! in `store/<type>/layout.rs`). The algorithms (list positions and their
//! moves, LINSERT, LREM; random samples and SPOP; score and lex range
//! translation; SCAN-family paging, in `hashed.rs`) make up the type's
//! `Store` trait ([`ListStore`], [`SetStore`], [`HashStore`],
//! [`ZSetStore`]), implemented once for every backend. No
//! dispatch is added: command code reaches a backend through `dyn Store`, as
//! before, and below that every call is static (the blanket implementations
//! are monomorphized per backend).
//!
//! Expiry is part of the contract: a key whose expiry time is at or before
//! [`Store::now`] does not exist for any method (it is never returned, never
//! counted, never a type error), whether or not the sweeper has deleted it yet.

use bytes::Bytes;
use std::fmt;

mod hash;
pub(crate) mod hashed;
mod list;
mod set;
mod stream;
mod zset;

pub(crate) use hash::layout::HashRows;
pub use hash::{HashOps, HashStore};
/// The list layout and algorithms both backends share.
pub(crate) use list::layout as lists;
pub use list::{End, ListOps, ListStore, PosSearch};
pub(crate) use set::layout::SetRows;
pub use set::{SetOps, SetStore};
pub use stream::{
    PendingSummary, StreamConsumer, StreamEntry, StreamGroup, StreamId, StreamMeta, StreamPending, StreamStore,
};
pub(crate) use stream::{decode_fields, encode_fields};
pub(crate) use zset::layout::{Span, ZSetRows};
pub use zset::{LexBound, ScoreBound, ZQuery, ZScanPage, ZSetOps, ZSetStore, ZSpan};

/// A stable 63-bit hash of a collection member (hash field, set or sorted-set
/// member), stored in the `h` column of the value tables. It must never change:
/// stored rows and clients' SCAN cursors depend on it. FNV-1a, then the
/// splitmix64 finalizer for uniformity (random picks seek a random `h`).
pub fn member_hash(member: &[u8]) -> i64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in member {
        x ^= b as u64;
        x = x.wrapping_mul(0x0000_0100_0000_01b3);
    }
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x >> 1) as i64
}

/// Converts a count to a `LIMIT`/`OFFSET` value (saturating), for both backends.
pub(crate) fn sql_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// Set algebra operations (SINTER/SUNION/SDIFF), shared by the set trait and commands.
pub use set::SetOp;

/// The Redis type of a key. The numbers are stored in the `rkey.type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    String = 0,
    List = 1,
    Set = 2,
    ZSet = 3,
    Hash = 4,
    Stream = 5,
}

impl KeyType {
    pub fn from_i64(n: i64) -> KeyType {
        match n {
            1 => KeyType::List,
            2 => KeyType::Set,
            3 => KeyType::ZSet,
            4 => KeyType::Hash,
            5 => KeyType::Stream,
            _ => KeyType::String,
        }
    }

    /// The name `TYPE` answers with.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Hash => "hash",
            KeyType::Stream => "stream",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<KeyType> {
        Some(match name.to_ascii_lowercase().as_slice() {
            b"string" => KeyType::String,
            b"list" => KeyType::List,
            b"set" => KeyType::Set,
            b"zset" => KeyType::ZSet,
            b"hash" => KeyType::Hash,
            b"stream" => KeyType::Stream,
            _ => return None,
        })
    }
}

/// A live key as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable row id of the key (used as the SCAN cursor and to join value tables).
    pub id: i64,
    pub kind: KeyType,
    /// Absolute expiry in Unix milliseconds.
    pub expire_at: Option<i64>,
    /// Changes on every write of the key (WATCH compares it).
    pub version: i64,
    /// The value, for strings only.
    pub value: Option<Bytes>,
    /// Number of elements, for collections (0 for strings).
    pub len: i64,
}

/// What a write does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// No expiry (a plain SET clears any previous one).
    Persist,
    /// Keep the existing expiry (KEEPTTL, APPEND, INCR, SETRANGE, ...).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(i64),
}

/// Per-database counts, as INFO's keyspace section reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DbStats {
    pub keys: u64,
    pub expires: u64,
}

/// What [`Store::watch_missing`] did for a key that WATCH found missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMissing {
    /// Nothing: the store belongs to this process alone, whose engine counts
    /// the key's creations itself (SQLite).
    InMemory,
    /// Registered, with this id, where every process writing the store sees
    /// it: a creation of the key, by any of them, breaks it
    /// ([`Store::missing_untouched`]).
    Registered(i64),
    /// The key exists after all (created by a commit that ended meanwhile),
    /// with this version.
    Exists(i64),
}

/// A failure of the storage layer (not a Redis-level error such as WRONGTYPE).
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a keyspace scan.
#[derive(Debug, Default)]
pub struct ScanPage {
    /// Cursor for the next call; 0 when the scan is complete.
    pub cursor: u64,
    pub keys: Vec<Bytes>,
}

impl ScanPage {
    /// [`Store::scan`]'s page from the `(id, key)` rows a backend's query
    /// found after the cursor, in id order, limited to `limit` rows (see
    /// [`scan_limits`]): the next cursor is the last id, or 0 when fewer
    /// rows came (the end was reached).
    pub(crate) fn from_rows<E>(
        rows: impl IntoIterator<Item = Result<(i64, Bytes), E>>,
        limit: i64,
    ) -> StoreResult<ScanPage>
    where
        StoreError: From<E>,
    {
        let mut page = ScanPage::default();
        let mut last = 0;
        for row in rows {
            let (id, key) = row?;
            last = id;
            page.keys.push(key);
        }
        page.cursor = if (page.keys.len() as i64) < limit {
            0
        } else {
            last as u64
        };
        Ok(page)
    }
}

/// [`Store::scan`]'s cursor and count as SQL integers: the rows after id
/// `cursor`, at most `count` of them. Any `u64` is a valid SCAN cursor; one
/// beyond the id range finds nothing.
pub(crate) fn scan_limits(cursor: u64, count: usize) -> (i64, i64) {
    (
        i64::try_from(cursor).unwrap_or(i64::MAX),
        i64::try_from(count).unwrap_or(i64::MAX),
    )
}

/// The computation of a read-modify-write of a string
/// ([`Store::update_string`]): the current value (`None`: no key) to the
/// value to write (`None`: write nothing).
pub type StringUpdate<'a> = dyn FnMut(Option<&[u8]>) -> Option<Vec<u8>> + 'a;

/// Storage operations. Databases are numbered like Redis's (`SELECT n`).
///
/// Collection types add their operations through the supertraits
/// ([`ListStore`], [`HashStore`], [`SetStore`], [`ZSetStore`], [`StreamStore`]), one file each.
/// Their conventions: they address a key by its row id (`Entry::id`, found
/// with [`Store::get`] after the command checked the type, or made by
/// [`Store::create_key`]); every mutation keeps `Entry::len` exact, gives the
/// key a new version, and deletes the key when its last element goes, as
/// Redis does.
pub trait Store: ListStore + HashStore + SetStore + ZSetStore + StreamStore {
    /// The time, in Unix milliseconds, that expiry is judged against for this
    /// command (fixed for the duration of a command, like Redis's cached clock).
    fn now(&self) -> i64;

    // ---- keyspace reads ----

    /// The live key, with its value if it is a string.
    fn get(&mut self, db: u32, key: &[u8]) -> StoreResult<Option<Entry>>;

    /// The live key without its value (`value` is `None`): existence, type
    /// and expiry checks need not read a big string. Backends should override
    /// the default, which reads the value and drops it.
    fn meta(&mut self, db: u32, key: &[u8]) -> StoreResult<Option<Entry>> {
        Ok(self.get(db, key)?.map(|e| Entry { value: None, ..e }))
    }

    /// Up to `count` live keys with ids greater than `cursor`, in id order,
    /// optionally only of one type. The returned cursor is the last id seen
    /// (0 if fewer than `count` keys were found: the end was reached). Any
    /// `u64` is a valid cursor; one beyond every id finds nothing.
    ///
    /// Ids are stable for the life of a key (RENAME keeps them), which gives
    /// SCAN its guarantee: a key present for a whole iteration is returned
    /// exactly once.
    fn scan(&mut self, db: u32, cursor: u64, count: usize, kind: Option<KeyType>) -> StoreResult<ScanPage>;

    /// Number of live keys in `db`.
    fn dbsize(&mut self, db: u32) -> StoreResult<u64>;

    /// A random live key of `db`.
    fn random_key(&mut self, db: u32) -> StoreResult<Option<Bytes>>;

    /// Key and expiry counts for every non-empty database.
    fn stats(&mut self) -> StoreResult<Vec<(u32, DbStats)>>;

    // ---- keyspace writes ----

    /// Creates an empty key of a collection type and returns its id. There must
    /// be no live key with this name (an expired one is replaced). The caller
    /// adds at least one element in the same command.
    fn create_key(&mut self, db: u32, key: &[u8], kind: KeyType) -> StoreResult<i64>;

    /// Writes a string value, replacing any key of any type.
    fn set_string(&mut self, db: u32, key: &[u8], value: &[u8], ttl: Ttl) -> StoreResult<()>;

    /// MSET: writes each `[key, value]` pair of the flat list `pairs` in
    /// order, as [`Store::set_string`] with [`Ttl::Persist`] does (a key
    /// listed twice takes its last value). The default writes them one by
    /// one; SQLite runs one prepared statement for all of them.
    fn set_strings(&mut self, db: u32, pairs: &[Bytes]) -> StoreResult<()> {
        for kv in pairs.chunks_exact(2) {
            self.set_string(db, &kv[0], &kv[1], Ttl::Persist)?;
        }
        Ok(())
    }

    /// Read-modify-write of a string (INCR, APPEND, SETRANGE, ...): reads the
    /// string at `key` and, when `f` returns a new value, writes it, keeping
    /// the key's expiry. `f` gets `None` for a missing key and is not called
    /// for a key of another type. Returns `None` for a key of another type
    /// (the command answers WRONGTYPE), else whether the key existed.
    ///
    /// What the command computes stays in `f`, written once; a backend only
    /// chooses how to read and write (SQLite applies `f` inside one UPDATE
    /// when the key is a live string). The default reads with
    /// [`Store::get`] and writes with [`Store::set_string`].
    fn update_string(&mut self, db: u32, key: &[u8], f: &mut StringUpdate) -> StoreResult<Option<bool>> {
        let entry = self.get(db, key)?;
        let old = match &entry {
            Some(e) if e.kind != KeyType::String => return Ok(None),
            Some(e) => Some(e.value.as_deref().unwrap_or_default()),
            None => None,
        };
        if let Some(new) = f(old) {
            self.set_string(db, key, &new, Ttl::Keep)?;
        }
        Ok(Some(entry.is_some()))
    }

    /// Deletes a key; true if a live key was deleted.
    fn delete(&mut self, db: u32, key: &[u8]) -> StoreResult<bool>;

    /// Sets or clears the expiry of a live key; false if there is no such key.
    fn set_expire(&mut self, db: u32, key: &[u8], at: Option<i64>) -> StoreResult<bool>;

    /// Renames `src` to `dst` in `db`, replacing `dst`, keeping the value,
    /// the expiry and the id. The key must exist.
    fn rename(&mut self, db: u32, src: &[u8], dst: &[u8]) -> StoreResult<()>;

    /// Copies `src` (in `db`) to `dst` in `dst_db`, value and expiry, replacing `dst`.
    /// The key must exist.
    fn copy(&mut self, db: u32, src: &[u8], dst_db: u32, dst: &[u8]) -> StoreResult<()>;

    /// Moves a key (value and expiry) to another database; `dst` must not hold
    /// a live key of that name.
    fn move_key(&mut self, db: u32, key: &[u8], dst_db: u32) -> StoreResult<()>;

    /// Deletes every key of one database, or of all of them.
    fn flush(&mut self, db: Option<u32>) -> StoreResult<()>;

    /// Exchanges the contents of two databases.
    fn swap_db(&mut self, a: u32, b: u32) -> StoreResult<()>;

    /// Deletes up to `limit` keys whose expiry has passed; returns them
    /// (database, key), for the `expired` keyspace events.
    fn purge_expired(&mut self, limit: usize) -> StoreResult<Vec<(u32, Bytes)>>;

    // ---- WATCH of missing keys, across processes ----

    /// WATCH of `key`, which this (writer's) transaction found missing: a
    /// store shared by several processes registers the watch so that a
    /// creation of the key by any of them breaks it, even if the key is gone
    /// again by EXEC. The default does nothing ([`WatchMissing::InMemory`]).
    fn watch_missing(&mut self, db: u32, key: &[u8]) -> StoreResult<WatchMissing> {
        let _ = (db, key);
        Ok(WatchMissing::InMemory)
    }

    /// True if the watch registered as `id` still stands: its key was not
    /// created since (EXEC's check, in its transaction).
    fn missing_untouched(&mut self, id: i64) -> StoreResult<bool> {
        let _ = id;
        Ok(true)
    }

    /// Ends the watches registered as `ids`.
    fn unwatch_missing(&mut self, ids: &[i64]) -> StoreResult<()> {
        let _ = ids;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::member_hash;

    #[test]
    fn member_hash_is_stable() {
        // Stored rows and SCAN cursors depend on these values: they must never change.
        assert_eq!(member_hash(b""), member_hash(b""));
        let pinned = [member_hash(b""), member_hash(b"a"), member_hash(b"member:1")];
        assert!(pinned.iter().all(|&h| h >= 0));
        assert_eq!(pinned, PINNED);
    }

    const PINNED: [i64; 3] = [8832978290816513101, 99183506424991868, 8430325916489491613];
}
