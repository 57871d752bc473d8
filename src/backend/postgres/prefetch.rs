//! Reading key rows ahead: one statement fetches the rows of every key a
//! group of commands names, so that the commands' own lookups
//! ([`Store::get`](crate::store::Store::get), [`Store::meta`](crate::store::Store::meta))
//! cost no round trip.
//!
//! * The **writer** reads the keys of its whole batch in the round trip that
//!   begins the transaction and takes the key locks
//!   ([`PgConn::begin_prefetching`]), with `FOR UPDATE`: the rows cannot
//!   change until the commit, so what was read stays true until this
//!   transaction itself writes. Any statement that may write rows forgets
//!   everything read ahead ([`PgConn::statement`](super::PgConn)); a deferred
//!   string write forgets its own key.
//! * The **read pool** reads the keys of every read batch waiting at the same
//!   time in one statement ([`PgConn::prefetch`]), then runs the batches
//!   against it: the read-side counterpart of group commit.
//!
//! A key read ahead and not found is remembered as missing, which the writer
//! needs (see [`PgConn::absent`](super::PgConn)). String values longer than
//! [`BIG_VALUE`] are not read ahead: a lookup that needs one asks the server.

use super::PgConn;
use super::hex::{hex, unhex};
use crate::store::{Entry, KeyType, StoreError, StoreResult};
use bytes::Bytes;
use std::collections::HashMap;

// Values longer than 64 KiB are not read ahead (the statements below say
// 65536): a bigger one is fetched by the command that needs it (commands
// that only check a key's type or expiry, say, never do).

/// A key in a database.
pub type KeyRef<'a> = (u32, &'a [u8]);

/// A row read ahead: the key's entry (its value only if not big).
#[derive(Clone)]
struct Cached {
    entry: Entry,
    big: bool,
}

/// The key rows read ahead, by database and key. A key present with `None`
/// was looked for and has no row.
#[derive(Default)]
pub(crate) struct KeyCache {
    rows: HashMap<u32, HashMap<Vec<u8>, Option<Cached>>>,
}

/// What the cache knows about a key.
pub(crate) enum Known {
    /// The key has no row at all (not even an expired one).
    Missing,
    /// The key's row, its value included if it was asked for.
    Row(Entry),
}

impl KeyCache {
    /// What is known about (db, key), if anything; with `value`, only an
    /// entry with its value counts.
    pub(crate) fn lookup(&self, db: u32, key: &[u8], value: bool) -> Option<Known> {
        match self.rows.get(&db)?.get(key)? {
            None => Some(Known::Missing),
            Some(c) if value && c.big => None,
            Some(c) => {
                let mut entry = c.entry.clone();
                if !value {
                    entry.value = None;
                }
                Some(Known::Row(entry))
            }
        }
    }

    /// The row of (db, key) as read ahead, value or not: `Some(None)` for a
    /// key known to have no row, `None` when nothing is known.
    pub(crate) fn row(&self, db: u32, key: &[u8]) -> Option<Option<&Entry>> {
        self.rows.get(&db)?.get(key).map(|c| c.as_ref().map(|c| &c.entry))
    }

    /// Forgets (db, key): this transaction is about to change it.
    pub(crate) fn forget(&mut self, db: u32, key: &[u8]) {
        if let Some(keys) = self.rows.get_mut(&db) {
            keys.remove(key);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rows.clear();
    }

    fn insert(&mut self, db: u32, key: Vec<u8>, row: Option<Cached>) {
        self.rows.entry(db).or_default().insert(key, row);
    }
}

/// The writer's read ahead (a statement prepared by name, see
/// [`NAMED`](super::NAMED)): the rows of keys `$2` in databases `$1`, locked,
/// in text form (keys and values in hex).
pub(super) const READ_AHEAD: &str = "SELECT k.db, encode(k.key, 'hex'), k.id, k.type, k.expire_at, k.version, k.len,
       encode(CASE WHEN octet_length(k.value) <= 65536 THEN k.value END, 'hex'), octet_length(k.value) > 65536
     FROM rkey k WHERE k.db = ANY($1) AND k.key = ANY($2) FOR UPDATE";

/// The read pool's statement: the rows of the keys `(db[i], key[i])`.
const PREFETCH: &str = "SELECT q.db, q.key, k.id, k.type, k.expire_at, k.version, k.len,
       CASE WHEN octet_length(k.value) <= 65536 THEN k.value END, octet_length(k.value) > 65536
     FROM unnest($1::int4[], $2::bytea[]) AS q(db, key) JOIN rkey k ON k.db = q.db AND k.key = q.key";

impl PgConn {
    /// Reads the rows of `keys` ahead, in one statement (outside any
    /// transaction: the statement alone is one consistent snapshot).
    pub fn prefetch(&mut self, keys: &[KeyRef<'_>]) -> StoreResult<()> {
        self.cache.clear();
        if keys.is_empty() {
            return Ok(());
        }
        let dbs: Vec<i32> = keys.iter().map(|k| k.0 as i32).collect();
        let names: Vec<&[u8]> = keys.iter().map(|k| k.1).collect();
        let rows = self.query(PREFETCH, &[&dbs, &names])?;
        for &(db, key) in keys {
            self.cache.insert(db, key.to_vec(), None);
        }
        for r in &rows {
            let db = r.try_get::<_, i32>(0)? as u32;
            let key: Vec<u8> = r.try_get(1)?;
            let value: Option<Vec<u8>> = r.try_get(7)?;
            let cached = Cached {
                entry: Entry {
                    id: r.try_get(2)?,
                    kind: KeyType::from_i64(r.try_get::<_, i16>(3)? as i64),
                    expire_at: r.try_get(4)?,
                    version: r.try_get(5)?,
                    len: r.try_get(6)?,
                    value: value.map(Bytes::from),
                },
                big: r.try_get::<_, Option<bool>>(8)?.unwrap_or(false),
            };
            self.cache.insert(db, key, Some(cached));
        }
        Ok(())
    }

    /// Starts a write transaction holding the key locks of `keys` (see
    /// [`PgConn::lock_ids`](super::PgConn)) and reads ahead, locked, the rows
    /// of those keys in the databases `dbs`: all in one round trip (the
    /// simple query protocol, keys spelled in hex: nothing from the client is
    /// quoted into SQL as text).
    pub fn begin_prefetching(&mut self, dbs: &[u32], keys: &[&[u8]]) -> StoreResult<()> {
        self.forget_transaction();
        let ids = self.lock_ids(keys);
        let mut sql = String::from("BEGIN ISOLATION LEVEL READ COMMITTED;");
        if ids.is_empty() {
            return self.batch(&sql);
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            "SELECT count(pg_advisory_xact_lock(k)) FROM unnest('{{{}}}'::int8[]) AS k;",
            list.join(",")
        ));
        let mut names: Vec<&[u8]> = keys.to_vec();
        names.sort_unstable();
        names.dedup();
        let db_list: Vec<String> = dbs.iter().map(u32::to_string).collect();
        sql.push_str(&format!(
            "EXECUTE redsql_read_ahead('{{{}}}', {});",
            db_list.join(","),
            bytea_array(&names)
        ));
        self.ensure_named()?;
        let r = self.client.simple_query(&sql);
        let messages = self.check(r)?;
        for &db in dbs {
            for &key in &names {
                self.cache.insert(db, key.to_vec(), None);
            }
        }
        for m in &messages {
            if let postgres::SimpleQueryMessage::Row(row) = m
                && row.len() == 9
            {
                let (db, key, cached) = parse_text_row(row)?;
                self.cache.insert(db, key, Some(cached));
            }
        }
        Ok(())
    }
}

/// A row of [`PgConn::begin_prefetching`]'s statement, in text form.
fn parse_text_row(row: &postgres::SimpleQueryRow) -> StoreResult<(u32, Vec<u8>, Cached)> {
    let bad = || StoreError("unexpected row in read-ahead".into());
    let text = |i: usize| row.try_get(i).map_err(|_| bad());
    let int = |i: usize| -> StoreResult<i64> { text(i)?.ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let opt_int = |i: usize| -> StoreResult<Option<i64>> { text(i)?.map(|t| t.parse().map_err(|_| bad())).transpose() };
    let db = u32::try_from(int(0)?).map_err(|_| bad())?;
    let key = unhex(text(1)?.ok_or_else(bad)?).ok_or_else(bad)?;
    let value = text(7)?.map(|t| unhex(t).ok_or_else(bad)).transpose()?;
    let cached = Cached {
        entry: Entry {
            id: int(2)?,
            kind: KeyType::from_i64(int(3)?),
            expire_at: opt_int(4)?,
            version: int(5)?,
            len: int(6)?,
            value: value.map(Bytes::from),
        },
        big: text(8)? == Some("t"),
    };
    Ok((db, key, cached))
}

/// An SQL `bytea[]` expression for `items`, spelled in hex.
pub(super) fn bytea_array(items: &[&[u8]]) -> String {
    let items: Vec<String> = items.iter().map(|b| format!("decode('{}','hex')", hex(b))).collect();
    format!("ARRAY[{}]::bytea[]", items.join(","))
}
