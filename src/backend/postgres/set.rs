//! Sets on PostgreSQL (table `rset`, see schema.sql): [`SetOps`] and
//! [`SetRows`], from which `SetStore` comes (`store/set/layout.rs`).
//!
//! Point operations use the primary key `(key_id, h, member)`; multi-member
//! ones (SADD, SREM, SMISMEMBER) send the members as arrays and are one
//! statement each, the key's length and version included (see [`touch!`]).
//! Members are looked up by correlated subqueries on the full primary key,
//! never joins, and rows to delete are found first and deleted by `ctid` (as
//! in `hash.rs`), so plans stay index seeks whatever the statistics say.
//! Random picks seek the first member at or after a random hash; many picks
//! go in one statement, one seek per element of an array of random hashes.
//!
//! The set algebra runs inside PostgreSQL, as on SQLite: the operand key ids
//! are one `int8[]` parameter, and each member of the first set is probed in
//! the others with primary-key lookups (`NOT EXISTS`, which stops at the first
//! miss). The STORE forms are a single statement: in PostgreSQL every part of
//! a statement reads the same snapshot, so the result is computed from the
//! operands as they were even when the destination is one of them and is
//! replaced by that same statement.

use super::PgStore;
use super::coll::{bytes_at, bytes_col, hashed};
use crate::store::hashed::random_hash;
use crate::store::{SetOp, SetOps, SetRows, Store, StoreResult, sql_count};
use bytes::Bytes;

/// Most random picks sent in one statement.
const PICKS_PER_STATEMENT: usize = 1024;

/// `WHERE` clause keeping the members `a` of the first set (`$1`) that are in
/// every set of the array `$2`.
macro_rules! inter_where {
    () => {
        "a.key_id = $1 AND NOT EXISTS (SELECT 1 FROM unnest($2::int8[]) AS j(id) WHERE NOT EXISTS
           (SELECT 1 FROM rset b WHERE b.key_id = j.id AND b.h = a.h AND b.member = a.member))"
    };
}

/// `WHERE` clause keeping the members `a` of the first set (`$1`) that are in
/// no set of the array `$2`.
macro_rules! diff_where {
    () => {
        "a.key_id = $1 AND NOT EXISTS (SELECT 1 FROM unnest($2::int8[]) AS j(id)
           JOIN rset b ON b.key_id = j.id AND b.h = a.h AND b.member = a.member)"
    };
}

/// The rows `(h, member)` of the result of each operation, over `$1` (first
/// set) and `$2` (the other sets).
macro_rules! inter_rows {
    () => {
        concat!("SELECT a.h, a.member FROM rset a WHERE ", inter_where!())
    };
}
macro_rules! diff_rows {
    () => {
        concat!("SELECT a.h, a.member FROM rset a WHERE ", diff_where!())
    };
}
macro_rules! union_rows {
    () => {
        "SELECT s.h, s.member FROM unnest(array_prepend($1::int8, $2::int8[])) AS j(id)
         JOIN rset s ON s.key_id = j.id GROUP BY s.h, s.member"
    };
}

/// A statement replacing key `$4` of database `$3` by the set `res` (rows
/// `h, member`), or deleting it when `res` is empty; `$5` false forbids
/// replacing a key that another process created meanwhile (the insert then
/// fails on the unique (db, key) index, a retryable fault). Returns the size
/// of the result. `gone` is complete before the insert (the insert reads it),
/// so the new row never meets the old one in the index.
macro_rules! store_sql {
    ($rows:expr) => {
        concat!(
            "WITH res AS (",
            $rows,
            "), gone AS (DELETE FROM rkey WHERE db = $3 AND key = $4 AND $5 RETURNING id, type)",
            clear_gone!(),
            ", made AS (INSERT INTO rkey (db, key, type, version, len)
               SELECT $3, $4, 2, nextval('rkey_version'), c.n
               FROM (SELECT count(*) AS n FROM res) c, (SELECT count(*) FROM gone) g WHERE c.n > 0 RETURNING id)
             , ins AS (INSERT INTO rset (key_id, h, member) SELECT made.id, res.h, res.member FROM made, res)
             SELECT count(*) FROM res"
        )
    };
}

impl PgStore<'_> {
    /// Deletes the given members (present or not) and touches the key;
    /// returns how many were deleted.
    fn set_delete_members(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let (hs, ms) = hashed(members);
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH del AS (DELETE FROM rset WHERE ctid = ANY (ARRAY(
                       SELECT (SELECT s.ctid FROM rset s WHERE s.key_id = $1 AND s.h = u.h AND s.member = u.m)
                       FROM unnest($2::int8[], $3::bytea[]) AS u(h, m))) RETURNING 1)",
                    touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                    "SELECT count(*) FROM del"
                ),
                &[&id, &hs, &ms],
            )?
            .try_get(0)?)
    }
}

impl SetOps for PgStore<'_> {
    fn set_add(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let (hs, ms) = hashed(members);
        // DO NOTHING also skips a member listed twice.
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH ins AS (INSERT INTO rset (key_id, h, member)
                       SELECT $1, u.h, u.m FROM unnest($2::int8[], $3::bytea[]) AS u(h, m)
                       ON CONFLICT DO NOTHING RETURNING 1)",
                    touch!("(SELECT count(*) FROM ins)", "EXISTS (SELECT 1 FROM ins)"),
                    "SELECT count(*) FROM ins"
                ),
                &[&id, &hs, &ms],
            )?
            .try_get(0)?)
    }

    fn set_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        self.set_delete_members(id, members)
    }

    fn set_contains(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<bool>> {
        let (hs, ms) = hashed(members);
        let rows = self.conn.query(
            "SELECT EXISTS (SELECT 1 FROM rset s WHERE s.key_id = $1 AND s.h = u.h AND s.member = u.m)
             FROM unnest($2::int8[], $3::bytea[]) WITH ORDINALITY AS u(h, m, i) ORDER BY u.i",
            &[&id, &hs, &ms],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let rows = self
            .conn
            .query("SELECT member FROM rset WHERE key_id = $1 ORDER BY h, member", &[&id])?;
        Ok(bytes_col(&rows)?)
    }

    fn set_combine(&mut self, op: SetOp, ids: &[i64]) -> StoreResult<Vec<Bytes>> {
        let Some((&first, rest)) = ids.split_first() else {
            return Ok(Vec::new());
        };
        let rows = match op {
            SetOp::Inter => self.conn.query(
                concat!(
                    "SELECT a.member FROM rset a WHERE ",
                    inter_where!(),
                    " ORDER BY a.h, a.member"
                ),
                &[&first, &rest],
            )?,
            SetOp::Diff => self.conn.query(
                concat!(
                    "SELECT a.member FROM rset a WHERE ",
                    diff_where!(),
                    " ORDER BY a.h, a.member"
                ),
                &[&first, &rest],
            )?,
            SetOp::Union => self.conn.query(
                concat!("SELECT u.member FROM (", union_rows!(), ") u ORDER BY u.h, u.member"),
                &[&first, &rest],
            )?,
        };
        Ok(bytes_col(&rows)?)
    }

    fn set_inter_card(&mut self, ids: &[i64], limit: Option<u64>) -> StoreResult<i64> {
        let Some((&first, rest)) = ids.split_first() else {
            return Ok(0);
        };
        // LIMIT NULL is no limit.
        let limit = limit.map(sql_count);
        Ok(self
            .conn
            .query_one(
                concat!(
                    "SELECT count(*) FROM (SELECT 1 FROM rset a WHERE ",
                    inter_where!(),
                    " LIMIT $3) x"
                ),
                &[&first, &rest, &limit],
            )?
            .try_get(0)?)
    }

    fn set_store(&mut self, db: u32, dst: &[u8], op: SetOp, ids: &[i64]) -> StoreResult<i64> {
        let Some((&first, rest)) = ids.split_first() else {
            self.delete(db, dst)?;
            return Ok(0);
        };
        // As `PgStore::create_key`: if this transaction saw `dst` missing, a
        // `dst` created meanwhile by another process is not replaced.
        let replace = !self.conn.absent.remove(&(db, dst.to_vec()));
        let dbi = db as i32;
        let sql = match op {
            SetOp::Inter => store_sql!(inter_rows!()),
            SetOp::Diff => store_sql!(diff_rows!()),
            SetOp::Union => store_sql!(union_rows!()),
        };
        Ok(self
            .conn
            .query_one(sql, &[&first, &rest, &dbi, &dst, &replace])?
            .try_get(0)?)
    }
}

impl SetRows for PgStore<'_> {
    fn set_len(&mut self, id: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .conn
            .query_opt("SELECT len FROM rkey WHERE id = $1", &[&id])?
            .map(|r| r.try_get(0))
            .transpose()?)
    }

    /// One statement per [`PICKS_PER_STATEMENT`] picks.
    fn set_picks(&mut self, id: i64, n: usize, out: &mut Vec<Bytes>) -> StoreResult<()> {
        let mut left = n;
        while left > 0 {
            let batch = left.min(PICKS_PER_STATEMENT);
            left -= batch;
            let points: Vec<i64> = (0..batch).map(|_| random_hash()).collect();
            let rows = self.conn.query(
                "SELECT coalesce(
                     (SELECT member FROM rset WHERE key_id = $1 AND h >= u.r ORDER BY h, member LIMIT 1),
                     (SELECT member FROM rset WHERE key_id = $1 ORDER BY h, member LIMIT 1))
                 FROM unnest($2::int8[]) WITH ORDINALITY AS u(r, i) ORDER BY u.i",
                &[&id, &points],
            )?;
            for r in &rows {
                match r.try_get::<_, Option<Vec<u8>>>(0)? {
                    Some(m) => out.push(Bytes::from(m)),
                    None => return Ok(()), // the set is empty
                }
            }
        }
        Ok(())
    }

    /// A round trip a round: 16 rounds, each asking for half as many again
    /// as are missing.
    fn seek_rounds(_count: usize) -> usize {
        16
    }

    fn seek_batch(missing: usize) -> usize {
        missing + missing / 2 + 1
    }

    /// Pick, delete and touch in one statement.
    fn set_pop_one(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let row = self.conn.query_opt(
            concat!(
                "WITH pick AS (
                   (SELECT ctid FROM rset WHERE key_id = $1 AND h >= $2 ORDER BY h, member LIMIT 1)
                   UNION ALL
                   (SELECT ctid FROM rset WHERE key_id = $1 ORDER BY h, member LIMIT 1)
                   LIMIT 1),
                 del AS (DELETE FROM rset WHERE ctid = (SELECT ctid FROM pick) RETURNING member)",
                touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                "SELECT member FROM del"
            ),
            &[&id, &random_hash()],
        )?;
        Ok(row.map(|r| bytes_at(&r, 0)).transpose()?.into_iter().collect())
    }

    fn set_pop_all(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let rows = self.conn.query(
            concat!(
                "WITH del AS (DELETE FROM rset WHERE key_id = $1 RETURNING h, member)",
                touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                "SELECT member FROM del ORDER BY h, member"
            ),
            &[&id],
        )?;
        Ok(bytes_col(&rows)?)
    }

    fn set_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, Bytes)>> {
        let rows = self.conn.query(
            "SELECT h, member FROM rset WHERE key_id = $1 AND h >= $2 ORDER BY h, member LIMIT $3",
            &[&id, &from, &limit],
        )?;
        rows.iter().map(|r| Ok((r.try_get(0)?, bytes_at(r, 1)?))).collect()
    }

    fn set_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<Bytes>) -> StoreResult<()> {
        let run = self.conn.query(
            "SELECT member FROM rset WHERE key_id = $1 AND h = $2 AND member > $3 ORDER BY member",
            &[&id, &h, &after],
        )?;
        for r in &run {
            page.push(bytes_at(r, 0)?);
        }
        Ok(())
    }
}
