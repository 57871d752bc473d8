//! Hashes on PostgreSQL (table `rhash`, see schema.sql): [`HashOps`] and
//! [`HashRows`], from which `HashStore` comes (`store/hash/layout.rs`).
//!
//! Every statement uses the primary key `(key_id, h, field)`: point
//! operations are one B-tree seek, scans walk the key's range in `h` order.
//! Multi-field operations (HMGET, HSET, HDEL) send the fields as arrays and
//! are one statement each, the key's length and version included (see
//! [`touch!`]). They look each field up with a correlated subquery on the
//! full primary key rather than a join, so the plan is one index seek per
//! field whatever the planner's statistics say (a join planned while the
//! table was small may read the whole key instead); deletions then remove
//! the rows found by `ctid`.

use super::PgStore;
use super::coll::{bytes_at, bytes_col, hashed, last_wins};
use crate::store::hashed::random_hash;
use crate::store::{HashOps, HashRows, StoreResult, member_hash};
use bytes::Bytes;
use postgres::Row;

fn pair(r: &Row) -> Result<(Bytes, Bytes), postgres::Error> {
    Ok((bytes_at(r, 0)?, bytes_at(r, 1)?))
}

impl HashOps for PgStore<'_> {
    fn hash_get(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<Bytes>> {
        let row = self.conn.query_opt(
            "SELECT value FROM rhash WHERE key_id = $1 AND h = $2 AND field = $3",
            &[&id, &member_hash(field), &field],
        )?;
        Ok(row.map(|r| bytes_at(&r, 0)).transpose()?)
    }

    fn hash_get_many(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<Vec<Option<Bytes>>> {
        let (hs, fs) = hashed(fields);
        let rows = self.conn.query(
            "SELECT (SELECT r.value FROM rhash r WHERE r.key_id = $1 AND r.h = u.h AND r.field = u.f)
             FROM unnest($2::int8[], $3::bytea[]) WITH ORDINALITY AS u(h, f, i) ORDER BY u.i",
            &[&id, &hs, &fs],
        )?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<_, Option<Vec<u8>>>(0).map(|v| v.map(Bytes::from)))
            .collect::<Result<_, _>>()?)
    }

    fn hash_value_len(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<i64>> {
        let row = self.conn.query_opt(
            "SELECT octet_length(value)::int8 FROM rhash WHERE key_id = $1 AND h = $2 AND field = $3",
            &[&id, &member_hash(field), &field],
        )?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn hash_set(&mut self, id: i64, pairs: &[(&[u8], &[u8])]) -> StoreResult<i64> {
        // One row per field (the last pair wins): an upsert may not touch a row twice.
        let keep = last_wins(pairs.iter().map(|(f, _)| *f));
        let hs: Vec<i64> = keep.iter().map(|&i| member_hash(pairs[i].0)).collect();
        let fs: Vec<&[u8]> = keep.iter().map(|&i| pairs[i].0).collect();
        let vs: Vec<&[u8]> = keep.iter().map(|&i| pairs[i].1).collect();
        // `xmax = 0` tells a freshly inserted row from an updated one. An
        // unchanged value is not rewritten (no dead row version to vacuum).
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH up AS (INSERT INTO rhash AS t (key_id, h, field, value)
                       SELECT $1, u.h, u.f, u.v FROM unnest($2::int8[], $3::bytea[], $4::bytea[]) AS u(h, f, v)
                       ON CONFLICT (key_id, h, field) DO UPDATE SET value = EXCLUDED.value WHERE t.value IS DISTINCT FROM EXCLUDED.value
                       RETURNING (t.xmax = 0) AS added),
                     n AS (SELECT count(*) FILTER (WHERE added) AS d FROM up)",
                    touch!("(SELECT d FROM n)", "true"),
                    "SELECT d FROM n"
                ),
                &[&id, &hs, &fs, &vs],
            )?
            .try_get(0)?)
    }

    fn hash_delete(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<i64> {
        let (hs, fs) = hashed(fields);
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH del AS (DELETE FROM rhash WHERE ctid = ANY (ARRAY(
                       SELECT (SELECT r.ctid FROM rhash r WHERE r.key_id = $1 AND r.h = u.h AND r.field = u.f)
                       FROM unnest($2::int8[], $3::bytea[]) AS u(h, f))) RETURNING 1)",
                    touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                    "SELECT count(*) FROM del"
                ),
                &[&id, &hs, &fs],
            )?
            .try_get(0)?)
    }

    fn hash_all(&mut self, id: i64) -> StoreResult<Vec<(Bytes, Bytes)>> {
        let rows = self.conn.query(
            "SELECT field, value FROM rhash WHERE key_id = $1 ORDER BY h, field",
            &[&id],
        )?;
        Ok(rows.iter().map(pair).collect::<Result<_, _>>()?)
    }

    fn hash_fields(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let rows = self
            .conn
            .query("SELECT field FROM rhash WHERE key_id = $1 ORDER BY h, field", &[&id])?;
        Ok(bytes_col(&rows)?)
    }

    fn hash_values(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let rows = self
            .conn
            .query("SELECT value FROM rhash WHERE key_id = $1 ORDER BY h, field", &[&id])?;
        Ok(bytes_col(&rows)?)
    }

    fn hash_max_len(&mut self, id: i64) -> StoreResult<i64> {
        Ok(self
            .conn
            .query_one(
                "SELECT coalesce(max(greatest(octet_length(field), octet_length(value))), 0)::int8
                 FROM rhash WHERE key_id = $1",
                &[&id],
            )?
            .try_get(0)?)
    }

    fn hash_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, Bytes)>> {
        // The first entry at or after a random hash, else the first one.
        let row = self.conn.query_opt(
            "(SELECT field, value FROM rhash WHERE key_id = $1 AND h >= $2 ORDER BY h, field LIMIT 1)
             UNION ALL
             (SELECT field, value FROM rhash WHERE key_id = $1 ORDER BY h, field LIMIT 1)
             LIMIT 1",
            &[&id, &random_hash()],
        )?;
        Ok(row.map(|r| pair(&r)).transpose()?)
    }
}

impl HashRows for PgStore<'_> {
    fn hash_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, Bytes))>> {
        let rows = self.conn.query(
            "SELECT h, field, value FROM rhash WHERE key_id = $1 AND h >= $2 ORDER BY h, field LIMIT $3",
            &[&id, &from, &limit],
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, (bytes_at(r, 1)?, bytes_at(r, 2)?))))
            .collect()
    }

    fn hash_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, Bytes)>) -> StoreResult<()> {
        let run = self.conn.query(
            "SELECT field, value FROM rhash WHERE key_id = $1 AND h = $2 AND field > $3 ORDER BY field",
            &[&id, &h, &after],
        )?;
        for r in &run {
            page.push(pair(r)?);
        }
        Ok(())
    }
}
