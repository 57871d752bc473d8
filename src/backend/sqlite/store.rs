//! [`Store`] on a SQLite connection.

use super::cache::ReadCache;
use super::conn::Conn;
use crate::store::{DbStats, Entry, KeyType, ScanPage, Store, StoreResult, StringUpdate, Ttl, scan_limits};
use bytes::Bytes;
use rusqlite::{OptionalExtension, params};

/// One page of SCAN (and KEYS): live keys of a database after the cursor, in id order.
///
/// `+db` makes SQLite walk the rowid B-tree from the cursor. Without the `+`
/// it picks the (db, key) index and sorts the whole database by id for every
/// page, so a KEYS or a full SCAN over N keys cost O(N^2) (hours at 10M keys).
/// The price: a database with few keys, next to one with millions, is found
/// by walking past the others' rows.
const SCAN_SQL: &str = "SELECT id, key FROM rkey WHERE +db=?1 AND id>?2 AND (expire_at IS NULL OR expire_at>?3)
     AND (?4 IS NULL OR type=?4) ORDER BY id LIMIT ?5";

/// A store over one SQLite connection, for the duration of one batch.
pub struct SqliteStore<'a> {
    pub(super) conn: &'a Conn,
    now: i64,
    /// Last version handed out; writes take the next one. None on readers.
    version: Option<&'a mut i64>,
    /// A read connection's cache of string keys, and the commit its
    /// snapshot holds (cache.rs).
    cache: Option<(&'a ReadCache, u64)>,
}

impl<'a> SqliteStore<'a> {
    /// A store that can write (the writer's connection, inside a transaction).
    pub fn writer(conn: &'a Conn, now: i64, version: &'a mut i64) -> Self {
        SqliteStore {
            conn,
            now,
            version: Some(version),
            cache: None,
        }
    }

    /// A read-only store.
    pub fn reader(conn: &'a Conn, now: i64) -> Self {
        SqliteStore {
            conn,
            now,
            version: None,
            cache: None,
        }
    }

    /// A read-only store that answers string keys from `cache` where it can,
    /// in a snapshot that holds commit `held`.
    pub fn cached_reader(conn: &'a Conn, now: i64, cache: &'a ReadCache, held: u64) -> Self {
        SqliteStore {
            cache: Some((cache, held)),
            ..SqliteStore::reader(conn, now)
        }
    }

    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    pub(super) fn next_version(&mut self) -> i64 {
        let v = self.version.as_mut().expect("write on a read-only store");
        **v += 1;
        **v
    }

    pub(super) fn live(&self, expire_at: Option<i64>) -> bool {
        expire_at.is_none_or(|t| t > self.now)
    }

    /// The row for (db, key), live or not: (id, type, expire_at).
    pub(super) fn row(&self, db: u32, key: &[u8]) -> StoreResult<Option<(i64, KeyType, Option<i64>)>> {
        let mut st = self
            .conn
            .cached("SELECT id, type, expire_at FROM rkey WHERE db=?1 AND key=?2")?;
        Ok(st
            .query_row(params![db, key], |r| {
                Ok((r.get(0)?, KeyType::from_i64(r.get(1)?), r.get(2)?))
            })
            .optional()?)
    }

    /// Copies the value rows of a collection key to another key id.
    fn copy_value(&self, from: i64, to: i64, kind: KeyType) -> StoreResult<()> {
        let sql = match kind {
            KeyType::String => return Ok(()),
            KeyType::Stream => return self.stream_copy(from, to),
            KeyType::List => "INSERT INTO rlist (key_id, pos, value) SELECT ?2, pos, value FROM rlist WHERE key_id=?1",
            KeyType::Hash => {
                "INSERT INTO rhash (key_id, h, field, value) SELECT ?2, h, field, value FROM rhash WHERE key_id=?1"
            }
            KeyType::Set => "INSERT INTO rset (key_id, h, member) SELECT ?2, h, member FROM rset WHERE key_id=?1",
            KeyType::ZSet => {
                "INSERT INTO rzset (key_id, h, member, score) SELECT ?2, h, member, score FROM rzset WHERE key_id=?1"
            }
        };
        self.conn.cached(sql)?.execute([from, to])?;
        Ok(())
    }

    /// Records a change of `delta` elements to collection key `id`: updates its
    /// length and version, and deletes the key if it is now empty. Every
    /// collection mutation calls this once. Returns the new length.
    ///
    /// Two statements rather than `UPDATE ... RETURNING len`: SQLite runs a
    /// RETURNING statement through a temporary table and a statement journal,
    /// which costs several times what a plain update and a rowid read do.
    pub(super) fn touch(&mut self, id: i64, delta: i64) -> StoreResult<i64> {
        let version = self.next_version();
        self.conn
            .cached("UPDATE rkey SET len=len+?1, version=?2 WHERE id=?3")?
            .execute(params![delta, version, id])?;
        let len: i64 = self
            .conn
            .cached("SELECT len FROM rkey WHERE id=?1")?
            .query_row([id], |r| r.get(0))?;
        if len <= 0 {
            self.conn.cached("DELETE FROM rkey WHERE id=?1")?.execute([id])?;
        }
        Ok(len)
    }

    /// [`SqliteStore::touch`] for a change that cannot empty the key
    /// (`delta >= 0` on a key that has, or just got, elements): the length
    /// and version update alone, without reading the new length back.
    pub(super) fn grow(&mut self, id: i64, delta: i64) -> StoreResult<()> {
        debug_assert!(delta >= 0);
        let version = self.next_version();
        self.conn
            .cached("UPDATE rkey SET len=len+?1, version=?2 WHERE id=?3")?
            .execute(params![delta, version, id])?;
        Ok(())
    }

    /// [`SqliteStore::touch`] for `removed` elements taken from collection
    /// key `id` whose length, `len`, the caller read in this transaction:
    /// one statement, without reading the new length back. An emptied key
    /// is deleted (its row goes; nothing to update).
    pub(super) fn shrink(&mut self, id: i64, len: i64, removed: i64) -> StoreResult<()> {
        if len - removed <= 0 {
            self.conn.cached("DELETE FROM rkey WHERE id=?1")?.execute([id])?;
            return Ok(());
        }
        let version = self.next_version();
        self.conn
            .cached("UPDATE rkey SET len=?1, version=?2 WHERE id=?3")?
            .execute(params![len - removed, version, id])?;
        Ok(())
    }

    /// The live key, read by `sql` (selecting id, type, expire_at, version,
    /// len and, optionally, value).
    fn lookup(&self, sql: &'static str, db: u32, key: &[u8]) -> StoreResult<Option<Entry>> {
        let e = self
            .conn
            .cached(sql)?
            .query_row(params![db, key], |r| {
                Ok(Entry {
                    id: r.get(0)?,
                    kind: KeyType::from_i64(r.get(1)?),
                    expire_at: r.get(2)?,
                    version: r.get(3)?,
                    len: r.get(4)?,
                    value: match r.as_ref().column_count() {
                        6 => r.get::<_, Option<Vec<u8>>>(5)?.map(Bytes::from),
                        _ => None,
                    },
                })
            })
            .optional()?;
        Ok(e.filter(|e| self.live(e.expire_at)))
    }

    /// The key as the read cache has it, if it does (a read connection's
    /// store): `Some(None)` for a cached key that has expired since.
    fn cache_hit(&self, db: u32, key: &[u8]) -> Option<Option<Entry>> {
        let (cache, held) = self.cache?;
        let e = cache.get(db, key, held)?;
        Some(Some(e).filter(|e| self.live(e.expire_at)))
    }

    /// The rows of `rkey` in `db` (expired ones not deleted yet included),
    /// from `rcount`, with the keys this transaction created so far.
    fn key_rows(&self, db: u32) -> StoreResult<i64> {
        super::counts::write(self.conn)?;
        Ok(self
            .conn
            .cached("SELECT coalesce((SELECT keys FROM rcount WHERE db=?1), 0)")?
            .query_row([db], |r| r.get(0))?)
    }

    /// Deletes the row for (db, key) whatever its state (its value rows go
    /// with it: see the triggers in schema.sql); returns whether it was live.
    fn remove(&mut self, db: u32, key: &[u8]) -> StoreResult<bool> {
        let exp: Option<Option<i64>> = self
            .conn
            .cached("DELETE FROM rkey WHERE db=?1 AND key=?2 RETURNING expire_at")?
            .query_row(params![db, key], |r| r.get(0))
            .optional()?;
        Ok(exp.is_some_and(|e| self.live(e)))
    }
}

/// Overwrites a string that has no expiry time (parameters db, key, value,
/// version): the statement names neither `expire_at` nor `db`, so none of
/// the key-count triggers (schema.sql) comes with it.
pub(super) const PLAIN_OVERWRITE: &str =
    "UPDATE rkey SET value=?3, version=?4 WHERE db=?1 AND key=?2 AND type=0 AND expire_at IS NULL";

/// The first live key of a database from a given id on, along the rowid
/// B-tree (`+db`: not the (db, key) index).
const RANDOM_KEY_SQL: &str =
    "SELECT key FROM rkey WHERE +db=?1 AND id>=?2 AND (expire_at IS NULL OR expire_at>?3) ORDER BY id LIMIT 1";

/// Expired rows of a database not deleted yet (`+db`: through the expiry
/// index, not the (db, key) one).
const EXPIRED_IN_DB_SQL: &str = "SELECT count(*) FROM rkey WHERE expire_at<=?2 AND +db=?1";

/// INFO keyspace: the counts less the expired rows not deleted yet.
const STATS_SQL: &str = "SELECT c.db, c.keys - coalesce(d.n, 0), c.expires - coalesce(d.n, 0)
     FROM rcount c LEFT JOIN (SELECT +db AS db, count(*) AS n FROM rkey WHERE expire_at<=?1 GROUP BY +db) d
       ON d.db = c.db
     WHERE c.keys - coalesce(d.n, 0) > 0 ORDER BY c.db";

impl Store for SqliteStore<'_> {
    fn now(&self) -> i64 {
        self.now
    }

    fn get(&mut self, db: u32, key: &[u8]) -> StoreResult<Option<Entry>> {
        if let Some(hit) = self.cache_hit(db, key) {
            return Ok(hit);
        }
        let e = self.lookup(
            "SELECT id, type, expire_at, version, len, value FROM rkey WHERE db=?1 AND key=?2",
            db,
            key,
        )?;
        if let (Some((cache, held)), Some(e)) = (self.cache, &e) {
            cache.offer(db, key, e, held);
        }
        Ok(e)
    }

    fn meta(&mut self, db: u32, key: &[u8]) -> StoreResult<Option<Entry>> {
        if let Some(hit) = self.cache_hit(db, key) {
            return Ok(hit.map(|e| Entry { value: None, ..e }));
        }
        self.lookup(
            "SELECT id, type, expire_at, version, len FROM rkey WHERE db=?1 AND key=?2",
            db,
            key,
        )
    }

    fn scan(&mut self, db: u32, cursor: u64, count: usize, kind: Option<KeyType>) -> StoreResult<ScanPage> {
        let (cursor, count) = scan_limits(cursor, count);
        let mut st = self.conn.cached(SCAN_SQL)?;
        let rows = st.query_map(params![db, cursor, self.now, kind.map(|k| k as i64), count], |r| {
            Ok((r.get::<_, i64>(0)?, Bytes::from(r.get::<_, Vec<u8>>(1)?)))
        })?;
        ScanPage::from_rows(rows, count)
    }

    /// The key count kept in `rcount` (schema.sql), less the expired rows
    /// the sweeper has not deleted yet: O(expired rows), not O(keys).
    fn dbsize(&mut self, db: u32) -> StoreResult<u64> {
        let all = self.key_rows(db)?;
        // `+db`: walk the expiry index, not the (db, key) one.
        let dead: i64 = self
            .conn
            .cached(EXPIRED_IN_DB_SQL)?
            .query_row(params![db, self.now], |r| r.get(0))?;
        Ok((all - dead).max(0) as u64)
    }

    /// A random id between the table's first and last (the ends of the
    /// rowid B-tree: O(log N)), then the first live key of `db` from there
    /// along that B-tree. The (db, key) index would find the database's own
    /// id range only by counting along it: O(keys in db).
    fn random_key(&mut self, db: u32) -> StoreResult<Option<Bytes>> {
        if self.key_rows(db)? <= 0 {
            return Ok(None);
        }
        let (lo, hi): (Option<i64>, Option<i64>) = self
            .conn
            // Two subqueries: SQLite reads a lone min() or max() off the
            // B-tree's end, but scans the table for both in one SELECT.
            .cached("SELECT (SELECT min(id) FROM rkey), (SELECT max(id) FROM rkey)")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Ok(None);
        };
        let mut st = self.conn.cached(RANDOM_KEY_SQL)?;
        for _ in 0..3 {
            let start = lo + (crate::util::random_u64() % (hi - lo + 1) as u64) as i64;
            if let Some(k) = st
                .query_row(params![db, start, self.now], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
            {
                return Ok(Some(Bytes::from(k)));
            }
        }
        Ok(st
            .query_row(params![db, lo, self.now], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .map(Bytes::from))
    }

    fn stats(&mut self) -> StoreResult<Vec<(u32, DbStats)>> {
        super::counts::write(self.conn)?;
        // The counts kept in `rcount`, less the expired rows not deleted yet
        // (all of which have an expiry time), found through the expiry index.
        let mut st = self.conn.cached(STATS_SQL)?;
        let rows = st.query_map([self.now], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                DbStats {
                    keys: r.get::<_, i64>(1)? as u64,
                    expires: r.get::<_, i64>(2)? as u64,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_key(&mut self, db: u32, key: &[u8], kind: KeyType) -> StoreResult<i64> {
        self.remove(db, key)?;
        let version = self.next_version();
        // No RETURNING (see `touch`): the new row's id is the last rowid inserted.
        self.conn
            .cached("INSERT INTO rkey (db, key, type, version, len) VALUES (?1, ?2, ?3, ?4, 0)")?
            .execute(params![db, key, kind as i64, version])?;
        self.conn.created.add(db, false);
        Ok(self.conn.last_insert_rowid())
    }

    /// Overwrites a string key in place, else inserts the key or overwrites
    /// whatever it held (a type change deletes the old value rows through a
    /// trigger).
    ///
    /// The common case, a string without an expiry time overwritten by one
    /// without, is [`PLAIN_OVERWRITE`]: a plain UPDATE naming no column a
    /// trigger watches, so no trigger comes with it and SQLite runs it
    /// without a statement journal (a copy of every page it changes). A
    /// string with an expiry time (or given one) is overwritten by an UPDATE
    /// OR IGNORE, which the key-count trigger on `expire_at` comes with; OR
    /// IGNORE keeps that free of a statement journal too (see schema.sql,
    /// `rcount`). An expired string is overwritten the same way: its row is
    /// dead anyway. A new key is an INSERT OR IGNORE (tried before that
    /// UPDATE when no expiry time is given: a new key is then the likelier
    /// case), counted in `rcount` at commit (counts.rs); only a key of
    /// another type takes the upsert.
    fn set_string(&mut self, db: u32, key: &[u8], value: &[u8], ttl: Ttl) -> StoreResult<()> {
        let version = self.next_version();
        let (expire_at, keep) = match ttl {
            Ttl::Persist => (None, false),
            Ttl::Keep => (None, true),
            Ttl::At(t) => (Some(t), false),
        };
        // Without an expiry time: the plain overwrite, else most likely a
        // new key. With one: most likely a string being overwritten.
        let plain = expire_at.is_none();
        if plain
            && self
                .conn
                .cached(PLAIN_OVERWRITE)?
                .execute(params![db, key, value, version])?
                > 0
        {
            return Ok(());
        }
        let overwrite = || -> StoreResult<bool> {
            Ok(self
                .conn
                .cached(
                    "UPDATE OR IGNORE rkey SET value=?5, version=?4,
                       expire_at = CASE WHEN ?6 AND expire_at > ?7 THEN expire_at ELSE ?3 END
                     WHERE db=?1 AND key=?2 AND type=0",
                )?
                .execute(params![db, key, expire_at, version, value, keep, self.now])?
                > 0)
        };
        if !plain && overwrite()? {
            return Ok(());
        }
        if self
            .conn
            .cached(
                "INSERT OR IGNORE INTO rkey (db, key, type, expire_at, version, value, len)
                 VALUES (?1, ?2, 0, ?3, ?4, ?5, 0)",
            )?
            .execute(params![db, key, expire_at, version, value])?
            > 0
        {
            self.conn.created.add(db, expire_at.is_some());
        } else if plain && overwrite()? {
            // A string that had an expiry time.
        } else {
            // The key exists, of another type: always an update here.
            self.conn
                .cached(
                    "INSERT INTO rkey (db, key, type, expire_at, version, value, len) VALUES (?1, ?2, 0, ?3, ?4, ?5, 0)
                     ON CONFLICT (db, key) DO UPDATE SET type=0, value=excluded.value, version=excluded.version, len=0,
                       expire_at = CASE WHEN ?6 AND rkey.expire_at > ?7 THEN rkey.expire_at ELSE excluded.expire_at END",
                )?
                .execute(params![db, key, expire_at, version, value, keep, self.now])?;
        }
        Ok(())
    }

    fn delete(&mut self, db: u32, key: &[u8]) -> StoreResult<bool> {
        self.remove(db, key)
    }

    fn set_strings(&mut self, db: u32, pairs: &[Bytes]) -> StoreResult<()> {
        self.set_string_rows(db, pairs)
    }

    fn update_string(&mut self, db: u32, key: &[u8], f: &mut StringUpdate) -> StoreResult<Option<bool>> {
        self.update_string_row(db, key, f)
    }

    fn set_expire(&mut self, db: u32, key: &[u8], at: Option<i64>) -> StoreResult<bool> {
        let version = self.next_version();
        let n = self
            .conn
            .cached(
                "UPDATE OR IGNORE rkey SET expire_at=?1, version=?2 WHERE db=?3 AND key=?4 AND (expire_at IS NULL OR expire_at>?5)",
            )?
            .execute(params![at, version, db, key, self.now])?;
        Ok(n > 0)
    }

    fn rename(&mut self, db: u32, src: &[u8], dst: &[u8]) -> StoreResult<()> {
        if src == dst {
            return Ok(());
        }
        let Some((id, _, _)) = self.row(db, src)? else {
            return Ok(());
        };
        self.remove(db, dst)?;
        let version = self.next_version();
        self.conn
            .cached("UPDATE rkey SET key=?1, version=?2 WHERE id=?3")?
            .execute(params![dst, version, id])?;
        Ok(())
    }

    fn copy(&mut self, db: u32, src: &[u8], dst_db: u32, dst: &[u8]) -> StoreResult<()> {
        let Some(e) = self.get(db, src)? else {
            return Ok(());
        };
        self.remove(dst_db, dst)?;
        let version = self.next_version();
        let new_id: i64 = self
            .conn
            .cached(
                "INSERT INTO rkey (db, key, type, expire_at, version, value, len) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 RETURNING id",
            )?
            .query_row(
                params![
                    dst_db,
                    dst,
                    e.kind as i64,
                    e.expire_at,
                    version,
                    e.value.as_deref(),
                    e.len
                ],
                |r| r.get(0),
            )?;
        self.conn.created.add(dst_db, e.expire_at.is_some());
        self.copy_value(e.id, new_id, e.kind)
    }

    fn move_key(&mut self, db: u32, key: &[u8], dst_db: u32) -> StoreResult<()> {
        let Some((id, _, _)) = self.row(db, key)? else {
            return Ok(());
        };
        self.remove(dst_db, key)?;
        let version = self.next_version();
        self.conn
            .cached("UPDATE rkey SET db=?1, version=?2 WHERE id=?3")?
            .execute(params![dst_db, version, id])?;
        Ok(())
    }

    fn flush(&mut self, db: Option<u32>) -> StoreResult<()> {
        match db {
            // The triggers delete each key's value rows.
            Some(db) => self.conn.cached("DELETE FROM rkey WHERE db=?1")?.execute([db])?,
            None => {
                // The keys created earlier in the transaction go into
                // `rcount` before it is emptied.
                super::counts::write(self.conn)?;
                // Not reported row by row (see below): the read cache is cleared.
                self.conn.changed.everything();
                // Everything goes. A `DELETE FROM t` without WHERE on a table
                // without triggers is SQLite's truncate optimization: the pages
                // go to the free list at once instead of each row being deleted
                // (and its page rewritten into the WAL). So the value tables go
                // first, then rkey without its delete triggers (nothing left for
                // them to do: the key counts are emptied too), which the schema
                // script recreates: all of it runs in the writer's transaction,
                // so a rollback restores the triggers.
                // 10M keys: about a second instead of minutes and a WAL of GBs.
                for t in [
                    "rlist",
                    "rhash",
                    "rset",
                    "rzset",
                    "rstream",
                    "rstream_meta",
                    "rstream_group",
                    "rstream_consumer",
                    "rstream_pending",
                ] {
                    self.conn.prepare_cached(&format!("DELETE FROM {t}"))?.execute([])?;
                }
                self.conn.execute_batch(&format!(
                    "DROP TRIGGER IF EXISTS rkey_delete_value; DROP TRIGGER IF EXISTS rkey_count_delete;
                     DELETE FROM rkey; DELETE FROM rcount; {}",
                    include_str!("schema.sql")
                ))?;
                0
            }
        };
        Ok(())
    }

    fn swap_db(&mut self, a: u32, b: u32) -> StoreResult<()> {
        if a == b {
            return Ok(());
        }
        let version = self.next_version();
        let mut st = self.conn.cached("UPDATE rkey SET db=?1, version=?3 WHERE db=?2")?;
        st.execute(params![-1, a, version])?;
        st.execute(params![a, b, version])?;
        st.execute(params![b, -1, version])?;
        Ok(())
    }

    fn purge_expired(&mut self, limit: usize) -> StoreResult<Vec<(u32, Bytes)>> {
        let mut stmt = self.conn.cached(
            "DELETE FROM rkey WHERE id IN (SELECT id FROM rkey WHERE expire_at<=?1 LIMIT ?2) RETURNING db, key",
        )?;
        let rows = stmt.query_map(params![self.now, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u32, Bytes::from(r.get::<_, Vec<u8>>(1)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sqlite::{Durability, Location, open_writer};

    fn conn() -> Conn {
        Conn::new(open_writer(&Location::parse(":memory:"), Durability::Off).unwrap())
    }

    #[test]
    fn meta_omits_the_value_and_hides_expired_keys() {
        let c = conn();
        let mut version = 0;
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        s.set_string(0, b"k", b"value", Ttl::Persist).unwrap();
        s.set_string(0, b"gone", b"value", Ttl::At(1000)).unwrap();
        let m = s.meta(0, b"k").unwrap().unwrap();
        assert_eq!((m.kind, m.value), (KeyType::String, None));
        assert_eq!(s.get(0, b"k").unwrap().unwrap().value.as_deref(), Some(&b"value"[..]));
        assert!(s.meta(0, b"gone").unwrap().is_none());
        assert!(s.meta(1, b"k").unwrap().is_none());
    }

    /// Value rows never outlive their key, whatever removes or retypes it.
    #[test]
    fn value_rows_go_with_their_key() {
        let c = conn();
        let mut version = 0;
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        let rows = |s: &SqliteStore| -> i64 {
            s.conn
                .query_row("SELECT count(*) FROM rlist", [], |r| r.get(0))
                .unwrap()
        };
        let add = |s: &mut SqliteStore, db: u32, key: &[u8]| {
            let id = s.create_key(db, key, KeyType::List).unwrap();
            s.conn
                .execute("INSERT INTO rlist VALUES (?1, 0, 'a'), (?1, 1, 'b')", [id])
                .unwrap();
            s.touch(id, 2).unwrap();
        };
        add(&mut s, 0, b"l");
        s.set_string(0, b"l", b"now a string", Ttl::Persist).unwrap();
        assert_eq!(rows(&s), 0, "SET over a list");
        add(&mut s, 0, b"l");
        assert!(s.delete(0, b"l").unwrap());
        assert_eq!(rows(&s), 0, "DEL");
        add(&mut s, 3, b"l");
        s.flush(Some(3)).unwrap();
        assert_eq!(rows(&s), 0, "FLUSHDB");
        add(&mut s, 0, b"l");
        s.flush(None).unwrap();
        assert_eq!(rows(&s), 0, "FLUSHALL");
        add(&mut s, 0, b"l");
        s.set_expire(0, b"l", Some(500)).unwrap();
        s.purge_expired(10).unwrap();
        assert_eq!(rows(&s), 0, "expiry");
    }

    /// FLUSHALL drops and recreates rkey's delete triggers (for SQLite's
    /// truncate optimization) inside the transaction: rolled back, nothing
    /// changed; committed, the triggers are back.
    #[test]
    fn flushall_keeps_the_delete_triggers() {
        let c = conn();
        let mut version = 0;
        let trigger = |c: &Conn| -> i64 {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND name IN ('rkey_delete_value', 'rkey_count_delete')",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        SqliteStore::writer(&c, 1000, &mut version)
            .set_string(0, b"k", b"v", Ttl::Persist)
            .unwrap();
        c.execute_batch("BEGIN").unwrap();
        SqliteStore::writer(&c, 1000, &mut version).flush(None).unwrap();
        c.execute_batch("ROLLBACK").unwrap();
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        assert!(s.get(0, b"k").unwrap().is_some());
        assert_eq!(trigger(&c), 2);
        s.flush(None).unwrap();
        assert!(s.get(0, b"k").unwrap().is_none());
        assert_eq!(trigger(&c), 2);
        assert_eq!(s.dbsize(0).unwrap(), 0);
        s.set_string(0, b"k", b"v", Ttl::Persist).unwrap();
        assert_eq!(s.dbsize(0).unwrap(), 1, "counted again after FLUSHALL");
    }

    /// The query plan of `sql` (with NULL for each of its parameters), one line per step.
    fn plan(c: &Conn, sql: &str) -> Vec<String> {
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let nulls = vec![rusqlite::types::Null; st.parameter_count()];
        st.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// A plan that walks the rowid B-tree in order, sorting nothing.
    fn walks_the_rowid_btree(plan: &[String]) -> bool {
        plan.iter().all(|p| !p.contains("TEMP B-TREE")) && plan.iter().any(|p| p.contains("INTEGER PRIMARY KEY"))
    }

    /// SCAN and KEYS page along the rowid B-tree; a plan that sorts (the (db,
    /// key) index, then a temporary B-tree ordered by id) makes every page
    /// O(N) and a full iteration O(N^2). RANDOMKEY's walk, from a random id,
    /// follows it too.
    #[test]
    fn scan_and_random_key_walk_the_rowid_btree() {
        let c = conn();
        for sql in [SCAN_SQL, RANDOM_KEY_SQL] {
            let plan = plan(&c, sql);
            assert!(walks_the_rowid_btree(&plan), "{sql}: {plan:?}");
        }
    }

    /// DBSIZE and INFO keyspace read `rcount` and find the expired rows
    /// through the expiry index: no plan walks the keys.
    #[test]
    fn key_counts_read_no_key_rows() {
        let c = conn();
        for sql in [EXPIRED_IN_DB_SQL, STATS_SQL] {
            let plan = plan(&c, sql);
            let on_rkey: Vec<&String> = plan.iter().filter(|p| p.contains("rkey")).collect();
            assert!(!on_rkey.is_empty(), "{plan:?}");
            assert!(
                on_rkey.iter().all(|p| p.contains("USING INDEX rkey_expire")),
                "{plan:?}"
            );
        }
    }

    #[test]
    fn random_key_stays_in_its_database() {
        let c = conn();
        let mut version = 0;
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        // Database 3's only key has the lowest id, 1's the highest.
        s.set_string(3, b"first", b"x", Ttl::Persist).unwrap();
        for i in 0..50 {
            s.set_string(0, format!("a{i}").as_bytes(), b"x", Ttl::Persist).unwrap();
        }
        s.set_string(1, b"only", b"x", Ttl::Persist).unwrap();
        for _ in 0..20 {
            assert_eq!(s.random_key(1).unwrap().as_deref(), Some(&b"only"[..]));
            assert_eq!(s.random_key(3).unwrap().as_deref(), Some(&b"first"[..]));
        }
        assert_eq!(s.random_key(2).unwrap(), None);
        s.set_string(2, b"gone", b"x", Ttl::At(500)).unwrap();
        assert_eq!(s.random_key(2).unwrap(), None, "only an expired key");
    }

    #[test]
    fn scan_pages_and_out_of_range_cursors() {
        let c = conn();
        let mut version = 0;
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        for i in 0..5 {
            s.set_string(0, format!("k{i}").as_bytes(), b"x", Ttl::Persist).unwrap();
        }
        let first = s.scan(0, 0, 3, None).unwrap();
        assert_eq!(first.keys.len(), 3);
        assert_ne!(first.cursor, 0);
        let rest = s.scan(0, first.cursor, 3, None).unwrap();
        assert_eq!((rest.keys.len(), rest.cursor), (2, 0));
        let beyond = s.scan(0, u64::MAX, 10, None).unwrap();
        assert_eq!((beyond.keys.len(), beyond.cursor), (0, 0));
        assert_eq!(s.scan(0, 0, usize::MAX, None).unwrap().keys.len(), 5);
        assert!(s.scan(0, 0, 10, Some(KeyType::Hash)).unwrap().keys.is_empty());
    }
}
