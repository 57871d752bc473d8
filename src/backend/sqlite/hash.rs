//! Hashes on SQLite (table `rhash`, see schema.sql): [`HashOps`] and
//! [`HashRows`], from which `HashStore` comes (`store/hash/layout.rs`).
//!
//! Every statement uses the primary key `(key_id, h, field)`: point operations
//! are one B-tree seek, scans walk the key's range in `h` order.

use super::SqliteStore;
use crate::store::hashed::random_hash;
use crate::store::{HashOps, HashRows, StoreResult, member_hash};
use bytes::Bytes;
use rusqlite::{OptionalExtension, Row, params};

pub(super) fn blob(r: &Row, i: usize) -> rusqlite::Result<Bytes> {
    Ok(Bytes::from(r.get::<_, Vec<u8>>(i)?))
}

fn pair(r: &Row) -> rusqlite::Result<(Bytes, Bytes)> {
    Ok((blob(r, 0)?, blob(r, 1)?))
}

impl SqliteStore<'_> {
    /// Collects the rows of a cached single-parameter (key id) query.
    fn hash_rows<T>(&self, sql: &'static str, id: i64, f: fn(&Row) -> rusqlite::Result<T>) -> StoreResult<Vec<T>> {
        let mut st = self.conn.cached(sql)?;
        let rows = st.query_map([id], f)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl HashOps for SqliteStore<'_> {
    fn hash_get(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<Bytes>> {
        let mut st = self
            .conn
            .cached("SELECT value FROM rhash WHERE key_id=?1 AND h=?2 AND field=?3")?;
        Ok(st
            .query_row(params![id, member_hash(field), field], |r| blob(r, 0))
            .optional()?)
    }

    fn hash_get_many(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<Vec<Option<Bytes>>> {
        fields.iter().map(|f| self.hash_get(id, f)).collect()
    }

    fn hash_value_len(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<i64>> {
        let mut st = self
            .conn
            .cached("SELECT length(value) FROM rhash WHERE key_id=?1 AND h=?2 AND field=?3")?;
        Ok(st
            .query_row(params![id, member_hash(field), field], |r| r.get(0))
            .optional()?)
    }

    fn hash_set(&mut self, id: i64, pairs: &[(&[u8], &[u8])]) -> StoreResult<i64> {
        let mut added = 0;
        {
            let mut update = self
                .conn
                .cached("UPDATE rhash SET value=?4 WHERE key_id=?1 AND h=?2 AND field=?3")?;
            let mut insert = self
                .conn
                .cached("INSERT INTO rhash (key_id, h, field, value) VALUES (?1, ?2, ?3, ?4)")?;
            for &(field, value) in pairs {
                let p = params![id, member_hash(field), field, value];
                if update.execute(p)? == 0 {
                    insert.execute(p)?;
                    added += 1;
                }
            }
        }
        self.grow(id, added)?;
        Ok(added)
    }

    fn hash_delete(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<i64> {
        let mut removed = 0;
        {
            let mut st = self
                .conn
                .cached("DELETE FROM rhash WHERE key_id=?1 AND h=?2 AND field=?3")?;
            for field in fields {
                removed += st.execute(params![id, member_hash(field), &field[..]])? as i64;
            }
        }
        if removed > 0 {
            self.touch(id, -removed)?;
        }
        Ok(removed)
    }

    fn hash_all(&mut self, id: i64) -> StoreResult<Vec<(Bytes, Bytes)>> {
        self.hash_rows(
            "SELECT field, value FROM rhash WHERE key_id=?1 ORDER BY h, field",
            id,
            pair,
        )
    }

    fn hash_fields(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        self.hash_rows("SELECT field FROM rhash WHERE key_id=?1 ORDER BY h, field", id, |r| {
            blob(r, 0)
        })
    }

    fn hash_values(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        self.hash_rows("SELECT value FROM rhash WHERE key_id=?1 ORDER BY h, field", id, |r| {
            blob(r, 0)
        })
    }

    fn hash_max_len(&mut self, id: i64) -> StoreResult<i64> {
        let mut st = self
            .conn
            .cached("SELECT coalesce(max(max(length(field), length(value))), 0) FROM rhash WHERE key_id=?1")?;
        Ok(st.query_row([id], |r| r.get(0))?)
    }

    fn hash_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, Bytes)>> {
        let r = random_hash();
        let mut st = self
            .conn
            .cached("SELECT field, value FROM rhash WHERE key_id=?1 AND h>=?2 ORDER BY h LIMIT 1")?;
        if let Some(found) = st.query_row(params![id, r], pair).optional()? {
            return Ok(Some(found));
        }
        Ok(st.query_row(params![id, 0i64], pair).optional()?)
    }
}

impl HashRows for SqliteStore<'_> {
    fn hash_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, Bytes))>> {
        let mut st = self
            .conn
            .cached("SELECT h, field, value FROM rhash WHERE key_id=?1 AND h>=?2 ORDER BY h, field LIMIT ?3")?;
        let rows = st.query_map(params![id, from, limit], |r| {
            Ok((r.get(0)?, (blob(r, 1)?, blob(r, 2)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn hash_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, Bytes)>) -> StoreResult<()> {
        let mut st = self
            .conn
            .cached("SELECT field, value FROM rhash WHERE key_id=?1 AND h=?2 AND field>?3 ORDER BY field")?;
        for r in st.query_map(params![id, h, after], pair)? {
            page.push(r?);
        }
        Ok(())
    }
}
