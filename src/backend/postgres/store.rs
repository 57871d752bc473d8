//! [`Store`] on a PostgreSQL connection.
//!
//! Each method is one statement (one round trip) wherever SQL allows:
//! deletions carry the cleanup of collection rows in the same statement
//! (`WITH gone AS (DELETE ... RETURNING id, type)` + [`clear_gone!`]), upserts
//! use `ON CONFLICT`, and key versions come from `nextval` inside the write.
//!
//! Concurrency with other redsql processes (the writer runs in READ
//! COMMITTED): a writer's `get`/`meta` lock the key row (`FOR UPDATE`), so a
//! read-modify-write command holds the key until commit. A key found
//! *missing* cannot be locked; it is remembered in [`PgConn::absent`], and a
//! later creation of that key refuses to overwrite a row another process
//! created meanwhile: it fails with a retryable fault (or the unique index
//! raises one), the engine rolls back and runs the transaction again, and the
//! second run sees the other process's key.

use super::PgConn;
use super::deferred::Expiry;
use super::prefetch::Known;
use crate::store::{DbStats, Entry, KeyType, ScanPage, Store, StoreError, StoreResult, Ttl, WatchMissing, scan_limits};
use bytes::Bytes;
use postgres::Row;

/// Deletes the value rows of the keys in a CTE named `gone` (columns `id`,
/// `type`); to be placed after that CTE. Strings keep their value in rkey.
macro_rules! clear_gone {
    () => {
        ", gone_l AS (DELETE FROM rlist WHERE key_id IN (SELECT id FROM gone WHERE type = 1))
         , gone_h AS (DELETE FROM rhash WHERE key_id IN (SELECT id FROM gone WHERE type = 4))
         , gone_s AS (DELETE FROM rset WHERE key_id IN (SELECT id FROM gone WHERE type = 2))
         , gone_z AS (DELETE FROM rzset WHERE key_id IN (SELECT id FROM gone WHERE type = 3))
         , gone_x AS (DELETE FROM rstream WHERE key_id IN (SELECT id FROM gone WHERE type = 5))
         , gone_xm AS (DELETE FROM rstream_meta WHERE key_id IN (SELECT id FROM gone WHERE type = 5))
         , gone_xg AS (DELETE FROM rstream_group WHERE key_id IN (SELECT id FROM gone WHERE type = 5))
         , gone_xc AS (DELETE FROM rstream_consumer WHERE key_id IN (SELECT id FROM gone WHERE type = 5))
         , gone_xp AS (DELETE FROM rstream_pending WHERE key_id IN (SELECT id FROM gone WHERE type = 5)) "
    };
}

/// A store over one PostgreSQL connection, for the duration of one batch.
pub struct PgStore<'a> {
    pub(super) conn: &'a mut PgConn,
    now: i64,
    /// True inside the writer's transaction (reads lock what they find).
    write: bool,
}

impl<'a> PgStore<'a> {
    /// A store that can write (inside the writer's transaction).
    pub fn writer(conn: &'a mut PgConn, now: i64) -> Self {
        PgStore { conn, now, write: true }
    }

    /// A read-only store.
    pub fn reader(conn: &'a mut PgConn, now: i64) -> Self {
        PgStore {
            conn,
            now,
            write: false,
        }
    }

    fn live(&self, expire_at: Option<i64>) -> bool {
        expire_at.is_none_or(|t| t > self.now)
    }

    fn check_write(&self) -> StoreResult<()> {
        if self.write {
            Ok(())
        } else {
            Err(StoreError("write on a read-only connection".into()))
        }
    }

    /// The live entry of (db, key) from the rows read ahead (see `prefetch`),
    /// if they tell: `Some(None)` for a key missing or expired.
    fn read_ahead(&mut self, db: u32, key: &[u8], value: bool) -> Option<Option<Entry>> {
        let found = match self.conn.cache.lookup(db, key, value)? {
            Known::Missing => None,
            Known::Row(e) => Some(e),
        };
        self.note_absent(db, key, found.is_some());
        Some(found.filter(|e| self.live(e.expire_at)))
    }

    /// Defers a string write whose outcome is known (see `deferred`): true if
    /// it was deferred. KEEPTTL is known from a row read ahead, and a key
    /// with no row is inserted only if it still has none.
    fn defer_string(&mut self, db: u32, key: &[u8], value: &[u8], ttl: Ttl) -> bool {
        let expire_at = match ttl {
            Ttl::Persist => None,
            Ttl::At(t) => Some(t),
            Ttl::Keep => match self.conn.cache.row(db, key) {
                None => return false,
                Some(row) => row.and_then(|e| e.expire_at).filter(|&t| t > self.now),
            },
        };
        let fresh = self.was_absent(db, key);
        self.conn.cache.forget(db, key);
        self.conn.deferred.push(db, key, value, expire_at, fresh);
        true
    }

    /// Remembers whether the writer found (db, key) without a row at all.
    fn note_absent(&mut self, db: u32, key: &[u8], found: bool) {
        if self.write && !found {
            self.conn.absent.insert((db, key.to_vec()));
        }
    }

    /// True if this transaction found (db, key) missing (and has not created it since).
    /// Creating it must then not replace another process's row.
    fn was_absent(&mut self, db: u32, key: &[u8]) -> bool {
        !self.conn.absent.is_empty() && self.conn.absent.remove(&(db, key.to_vec()))
    }

    /// Records a change of `delta` elements to collection key `id`: updates its
    /// length and version, and deletes the key if it is now empty. Every
    /// collection mutation calls this once. Returns the new length.
    #[allow(dead_code)] // used by the collection modules as they land
    pub(super) fn touch(&mut self, id: i64, delta: i64) -> StoreResult<i64> {
        let len: i64 = self
            .conn
            .query_one(
                "UPDATE rkey SET len = len + $1, version = nextval('rkey_version') WHERE id = $2 RETURNING len",
                &[&delta, &id],
            )?
            .try_get(0)?;
        if len <= 0 {
            self.conn.execute(
                concat!(
                    "WITH gone AS (DELETE FROM rkey WHERE id = $1 RETURNING id, type)",
                    clear_gone!(),
                    "SELECT 1"
                ),
                &[&id],
            )?;
        }
        Ok(len)
    }
}

fn entry(r: &Row, with_value: bool) -> StoreResult<Entry> {
    Ok(Entry {
        id: r.try_get(0)?,
        kind: KeyType::from_i64(r.try_get::<_, i16>(1)? as i64),
        expire_at: r.try_get(2)?,
        version: r.try_get(3)?,
        len: r.try_get(4)?,
        value: if with_value {
            r.try_get::<_, Option<Vec<u8>>>(5)?.map(Bytes::from)
        } else {
            None
        },
    })
}

/// Database numbers are `integer` columns.
fn dbi(db: u32) -> i32 {
    db as i32
}

impl Store for PgStore<'_> {
    fn now(&self) -> i64 {
        self.now
    }

    fn get(&mut self, db: u32, key: &[u8]) -> StoreResult<Option<Entry>> {
        if let Some(known) = self.read_ahead(db, key, true) {
            return Ok(known);
        }
        let sql = if self.write {
            "SELECT id, type, expire_at, version, len, value FROM rkey WHERE db = $1 AND key = $2 FOR UPDATE"
        } else {
            "SELECT id, type, expire_at, version, len, value FROM rkey WHERE db = $1 AND key = $2"
        };
        let row = self.conn.query_opt(sql, &[&dbi(db), &key])?;
        self.note_absent(db, key, row.is_some());
        let e = row.map(|r| entry(&r, true)).transpose()?;
        Ok(e.filter(|e| self.live(e.expire_at)))
    }

    fn meta(&mut self, db: u32, key: &[u8]) -> StoreResult<Option<Entry>> {
        if let Some(known) = self.read_ahead(db, key, false) {
            return Ok(known);
        }
        let sql = if self.write {
            "SELECT id, type, expire_at, version, len FROM rkey WHERE db = $1 AND key = $2 FOR UPDATE"
        } else {
            "SELECT id, type, expire_at, version, len FROM rkey WHERE db = $1 AND key = $2"
        };
        let row = self.conn.query_opt(sql, &[&dbi(db), &key])?;
        self.note_absent(db, key, row.is_some());
        let e = row.map(|r| entry(&r, false)).transpose()?;
        Ok(e.filter(|e| self.live(e.expire_at)))
    }

    fn scan(&mut self, db: u32, cursor: u64, count: usize, kind: Option<KeyType>) -> StoreResult<ScanPage> {
        let (cursor, count) = scan_limits(cursor, count);
        let rows = self.conn.query(
            "SELECT id, key FROM rkey WHERE db = $1 AND id > $2 AND (expire_at IS NULL OR expire_at > $3)
             AND ($4::smallint IS NULL OR type = $4) ORDER BY id LIMIT $5",
            &[&dbi(db), &cursor, &self.now, &kind.map(|k| k as i16), &count],
        )?;
        let rows = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, Bytes::from(r.try_get::<_, Vec<u8>>(1)?))));
        ScanPage::from_rows::<postgres::Error>(rows, count)
    }

    /// The key count kept in `rcount` (counts.sql), less the expired rows
    /// the sweeper has not deleted yet: O(expired rows), not O(keys).
    fn dbsize(&mut self, db: u32) -> StoreResult<u64> {
        let n: i64 = self
            .conn
            .query_one(
                "SELECT (SELECT coalesce(sum(keys), 0) FROM rcount WHERE db = $1)::bigint
                      - (SELECT count(*) FROM rkey WHERE expire_at <= $2 AND db = $1)",
                &[&dbi(db), &self.now],
            )?
            .try_get(0)?;
        Ok(n.max(0) as u64)
    }

    fn random_key(&mut self, db: u32) -> StoreResult<Option<Bytes>> {
        // A random point in the database's id range, then the first live key
        // from there (or from the start).
        let point = (crate::util::random_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let row = self.conn.query_opt(
            "WITH r AS (SELECT min(id) AS lo, max(id) AS hi FROM rkey WHERE db = $1)
             (SELECT key FROM rkey, r WHERE db = $1 AND id >= r.lo + floor($3::float8 * (r.hi - r.lo + 1))::bigint
                AND (expire_at IS NULL OR expire_at > $2) ORDER BY id LIMIT 1)
             UNION ALL
             (SELECT key FROM rkey WHERE db = $1 AND (expire_at IS NULL OR expire_at > $2) ORDER BY id LIMIT 1)
             LIMIT 1",
            &[&dbi(db), &self.now, &point],
        )?;
        Ok(row.map(|r| r.try_get::<_, Vec<u8>>(0)).transpose()?.map(Bytes::from))
    }

    fn stats(&mut self) -> StoreResult<Vec<(u32, DbStats)>> {
        // The counts kept in `rcount`, less the expired rows not deleted yet
        // (all of which have an expiry time).
        let rows = self.conn.query(
            "SELECT c.db, (c.keys - coalesce(d.n, 0))::bigint, (c.expires - coalesce(d.n, 0))::bigint
             FROM (SELECT db, sum(keys) AS keys, sum(expires) AS expires FROM rcount GROUP BY db) c
             LEFT JOIN (SELECT db, count(*) AS n FROM rkey WHERE expire_at <= $1 GROUP BY db) d ON d.db = c.db
             WHERE c.keys - coalesce(d.n, 0) > 0 ORDER BY c.db",
            &[&self.now],
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, i32>(0)? as u32,
                    DbStats {
                        keys: r.try_get::<_, i64>(1)? as u64,
                        expires: r.try_get::<_, i64>(2)? as u64,
                    },
                ))
            })
            .collect()
    }

    fn create_key(&mut self, db: u32, key: &[u8], kind: KeyType) -> StoreResult<i64> {
        self.check_write()?;
        let kind = kind as i16;
        if self.was_absent(db, key) {
            let row = self.conn.query_opt(
                "INSERT INTO rkey (db, key, type, version, len) VALUES ($1, $2, $3, nextval('rkey_version'), 0)
                 ON CONFLICT (db, key) DO NOTHING RETURNING id",
                &[&dbi(db), &key, &kind],
            )?;
            return match row {
                Some(r) => Ok(r.try_get(0)?),
                None => Err(self.conn.lost_race("key created by another client")),
            };
        }
        // Replaces an expired row, if any.
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH gone AS (DELETE FROM rkey WHERE db = $1 AND key = $2 RETURNING id, type)",
                    clear_gone!(),
                    "INSERT INTO rkey (db, key, type, version, len)
                     SELECT $1, $2, $3, nextval('rkey_version'), 0 FROM (SELECT count(*) FROM gone) g RETURNING id"
                ),
                &[&dbi(db), &key, &kind],
            )?
            .try_get(0)?)
    }

    fn set_string(&mut self, db: u32, key: &[u8], value: &[u8], ttl: Ttl) -> StoreResult<()> {
        self.check_write()?;
        if self.defer_string(db, key, value, ttl) {
            return Ok(());
        }
        let (keep, at) = match ttl {
            Ttl::Persist => (false, None),
            Ttl::Keep => (true, None),
            Ttl::At(t) => (false, Some(t)),
        };
        if self.was_absent(db, key) {
            let row = self.conn.query_opt(
                "INSERT INTO rkey (db, key, type, expire_at, version, value, len)
                 VALUES ($1, $2, 0, $3, nextval('rkey_version'), $4, 0)
                 ON CONFLICT (db, key) DO NOTHING RETURNING id",
                &[&dbi(db), &key, &at, &value],
            )?;
            return match row {
                Some(_) => Ok(()),
                None => Err(self.conn.lost_race("key created by another client")),
            };
        }
        // The common case in one statement: a new key, or a string replaced.
        let done = self.conn.query_opt(
            "INSERT INTO rkey AS k (db, key, type, expire_at, version, value, len)
             VALUES ($1, $2, 0, $3, nextval('rkey_version'), $4, 0)
             ON CONFLICT (db, key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version,
               expire_at = CASE WHEN $5 THEN CASE WHEN k.expire_at > $6 THEN k.expire_at END ELSE EXCLUDED.expire_at END
             WHERE k.type = 0
             RETURNING id",
            &[&dbi(db), &key, &at, &value, &keep, &self.now],
        )?;
        if done.is_some() {
            return Ok(());
        }
        // A collection becomes a string: its value rows go, the id stays.
        let expiry = if keep { Expiry::KeepAt(self.now) } else { Expiry::At(at) };
        self.conn.replace_with_string(db, key, value, expiry)
    }

    fn delete(&mut self, db: u32, key: &[u8]) -> StoreResult<bool> {
        self.check_write()?;
        let row = self.conn.query_opt(
            concat!(
                "WITH gone AS (DELETE FROM rkey WHERE db = $1 AND key = $2 RETURNING id, type, expire_at)",
                clear_gone!(),
                "SELECT expire_at FROM gone"
            ),
            &[&dbi(db), &key],
        )?;
        match row {
            Some(r) => Ok(self.live(r.try_get(0)?)),
            None => Ok(false),
        }
    }

    fn set_expire(&mut self, db: u32, key: &[u8], at: Option<i64>) -> StoreResult<bool> {
        self.check_write()?;
        let n = self.conn.execute(
            "UPDATE rkey SET expire_at = $1, version = nextval('rkey_version')
             WHERE db = $2 AND key = $3 AND (expire_at IS NULL OR expire_at > $4)",
            &[&at, &dbi(db), &key, &self.now],
        )?;
        Ok(n > 0)
    }

    fn rename(&mut self, db: u32, src: &[u8], dst: &[u8]) -> StoreResult<()> {
        self.check_write()?;
        if src == dst {
            return Ok(());
        }
        // When dst was seen missing, a dst created meanwhile by another
        // process is not deleted: the unique index stops the rename (retry).
        let replace = !self.was_absent(db, dst);
        self.conn.execute(
            concat!(
                "WITH gone AS (DELETE FROM rkey WHERE db = $1 AND key = $3 AND $4
                   AND EXISTS (SELECT 1 FROM rkey WHERE db = $1 AND key = $2) RETURNING id, type)",
                clear_gone!(),
                "UPDATE rkey SET key = $3, version = nextval('rkey_version')
                 WHERE db = $1 AND key = $2 AND (SELECT count(*) FROM gone) >= 0"
            ),
            &[&dbi(db), &src, &dst, &replace],
        )?;
        Ok(())
    }

    fn copy(&mut self, db: u32, src: &[u8], dst_db: u32, dst: &[u8]) -> StoreResult<()> {
        self.check_write()?;
        let replace = !self.was_absent(dst_db, dst);
        self.conn.execute(
            concat!(
                "WITH src AS (SELECT id, type, expire_at, value, len FROM rkey
                   WHERE db = $1 AND key = $2 AND (expire_at IS NULL OR expire_at > $5)),
                 gone AS (DELETE FROM rkey WHERE db = $3 AND key = $4 AND $6 AND EXISTS (SELECT 1 FROM src)
                   RETURNING id, type)",
                clear_gone!(),
                ", made AS (INSERT INTO rkey (db, key, type, expire_at, version, value, len)
                   SELECT $3, $4, type, expire_at, nextval('rkey_version'), value, len
                   FROM src, (SELECT count(*) FROM gone) g RETURNING id)
                 , copy_l AS (INSERT INTO rlist (key_id, pos, value)
                   SELECT made.id, v.pos, v.value FROM made, src, rlist v WHERE src.type = 1 AND v.key_id = src.id)
                 , copy_h AS (INSERT INTO rhash (key_id, h, field, value)
                   SELECT made.id, v.h, v.field, v.value FROM made, src, rhash v WHERE src.type = 4 AND v.key_id = src.id)
                 , copy_s AS (INSERT INTO rset (key_id, h, member)
                   SELECT made.id, v.h, v.member FROM made, src, rset v WHERE src.type = 2 AND v.key_id = src.id)
                 , copy_z AS (INSERT INTO rzset (key_id, h, member, score)
                   SELECT made.id, v.h, v.member, v.score FROM made, src, rzset v WHERE src.type = 3 AND v.key_id = src.id)
                 , copy_x AS (INSERT INTO rstream (key_id, ms, seq, fields)
                   SELECT made.id, v.ms, v.seq, v.fields FROM made, src, rstream v WHERE src.type = 5 AND v.key_id = src.id)
                 , copy_xm AS (INSERT INTO rstream_meta (key_id, last_ms, last_seq, added, maxdel_ms, maxdel_seq)
                   SELECT made.id, v.last_ms, v.last_seq, v.added, v.maxdel_ms, v.maxdel_seq
                   FROM made, src, rstream_meta v WHERE src.type = 5 AND v.key_id = src.id)
                 , copy_xg AS (INSERT INTO rstream_group (key_id, name, last_ms, last_seq, entries_read)
                   SELECT made.id, v.name, v.last_ms, v.last_seq, v.entries_read
                   FROM made, src, rstream_group v WHERE src.type = 5 AND v.key_id = src.id)
                 , copy_xc AS (INSERT INTO rstream_consumer (key_id, grp, name, seen)
                   SELECT made.id, v.grp, v.name, v.seen FROM made, src, rstream_consumer v WHERE src.type = 5 AND v.key_id = src.id)
                 , copy_xp AS (INSERT INTO rstream_pending (key_id, grp, ms, seq, consumer, delivered, count)
                   SELECT made.id, v.grp, v.ms, v.seq, v.consumer, v.delivered, v.count
                   FROM made, src, rstream_pending v WHERE src.type = 5 AND v.key_id = src.id)
                 SELECT count(*) FROM made"
            ),
            &[&dbi(db), &src, &dbi(dst_db), &dst, &self.now, &replace],
        )?;
        Ok(())
    }

    fn move_key(&mut self, db: u32, key: &[u8], dst_db: u32) -> StoreResult<()> {
        self.check_write()?;
        let replace = !self.was_absent(dst_db, key);
        self.conn.execute(
            concat!(
                "WITH gone AS (DELETE FROM rkey WHERE db = $3 AND key = $2 AND $4
                   AND EXISTS (SELECT 1 FROM rkey WHERE db = $1 AND key = $2) RETURNING id, type)",
                clear_gone!(),
                "UPDATE rkey SET db = $3, version = nextval('rkey_version')
                 WHERE db = $1 AND key = $2 AND (SELECT count(*) FROM gone) >= 0"
            ),
            &[&dbi(db), &key, &dbi(dst_db), &replace],
        )?;
        Ok(())
    }

    fn flush(&mut self, db: Option<u32>) -> StoreResult<()> {
        self.check_write()?;
        self.conn.absent.clear();
        match db {
            Some(db) => self.conn.execute(
                concat!(
                    "WITH gone AS (DELETE FROM rkey WHERE db = $1 RETURNING id, type)",
                    clear_gone!(),
                    "SELECT count(*) FROM gone"
                ),
                &[&dbi(db)],
            )?,
            None => self.conn.execute(
                "WITH l AS (DELETE FROM rlist), h AS (DELETE FROM rhash), s AS (DELETE FROM rset),
                      z AS (DELETE FROM rzset), x AS (DELETE FROM rstream), xm AS (DELETE FROM rstream_meta),
                      xg AS (DELETE FROM rstream_group), xc AS (DELETE FROM rstream_consumer),
                      xp AS (DELETE FROM rstream_pending)
                 DELETE FROM rkey",
                &[],
            )?,
        };
        Ok(())
    }

    fn swap_db(&mut self, a: u32, b: u32) -> StoreResult<()> {
        self.check_write()?;
        if a == b {
            return Ok(());
        }
        // Three steps: the unique index on (db, key) is checked row by row.
        const SQL: &str = "UPDATE rkey SET db = $1, version = nextval('rkey_version') WHERE db = $2";
        self.conn.execute(SQL, &[&-1i32, &dbi(a)])?;
        self.conn.execute(SQL, &[&dbi(a), &dbi(b)])?;
        self.conn.execute(SQL, &[&dbi(b), &-1i32])?;
        self.conn.absent.clear();
        Ok(())
    }

    fn purge_expired(&mut self, limit: usize) -> StoreResult<Vec<(u32, Bytes)>> {
        self.check_write()?;
        // SKIP LOCKED: keys another process is working on are left for later,
        // so concurrent sweepers never wait on each other or on writers.
        let rows = self.conn.query(
            concat!(
                "WITH gone AS (DELETE FROM rkey WHERE expire_at <= $1 AND id IN
                   (SELECT id FROM rkey WHERE expire_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
                   RETURNING id, type, db, key)",
                clear_gone!(),
                "SELECT db, key FROM gone"
            ),
            &[&self.now, &(limit as i64)],
        )?;
        // The sweeper also removes the watches of processes that died.
        self.conn.clean_dead_watches()?;
        rows.iter()
            .map(|r| Ok((r.try_get::<_, i32>(0)? as u32, Bytes::from(r.try_get::<_, Vec<u8>>(1)?))))
            .collect()
    }

    fn watch_missing(&mut self, db: u32, key: &[u8]) -> StoreResult<WatchMissing> {
        self.check_write()?;
        self.conn.watch_missing(db, key, self.now)
    }

    fn missing_untouched(&mut self, id: i64) -> StoreResult<bool> {
        self.conn.missing_untouched(id)
    }

    fn unwatch_missing(&mut self, ids: &[i64]) -> StoreResult<()> {
        self.check_write()?;
        self.conn.unwatch_missing(ids)
    }
}
