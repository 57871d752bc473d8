//! Sets on SQLite (table `rset`, see schema.sql): [`SetOps`] and
//! [`SetRows`], from which `SetStore` comes (`store/set/layout.rs`).
//!
//! Point operations use the primary key `(key_id, h, member)`. The set
//! algebra runs inside SQLite: the operand key ids are passed as one JSON
//! array (`json_each`), so a single cached statement serves any number of
//! keys, and each member of the first set is probed in the others with
//! primary-key lookups (`NOT EXISTS`, which stops at the first miss). The
//! STORE forms fill the destination with `INSERT ... SELECT`, so members never
//! leave the database.

use super::SqliteStore;
use super::hash::blob;
use crate::store::hashed::random_hash;
use crate::store::{KeyType, SetOp, SetOps, SetRows, Store, StoreResult, member_hash};
use bytes::Bytes;
use rusqlite::{OptionalExtension, params};

/// A database number no client can select: STORE results are built under it
/// and moved into place once complete, so a destination that is also an
/// operand is read before it is replaced.
const STAGING_DB: u32 = u32::MAX;

/// `WHERE` clause keeping the members `a` of the first set (`?1`) that are in
/// every set of the JSON array `?2`.
macro_rules! inter_where {
    () => {
        "a.key_id=?1 AND NOT EXISTS (SELECT 1 FROM json_each(?2) j WHERE NOT EXISTS
           (SELECT 1 FROM rset b WHERE b.key_id=j.value AND b.h=a.h AND b.member=a.member))"
    };
}

/// `WHERE` clause keeping the members `a` of the first set (`?1`) that are in
/// no set of the JSON array `?2`.
macro_rules! diff_where {
    () => {
        "a.key_id=?1 AND NOT EXISTS (SELECT 1 FROM json_each(?2) j
           JOIN rset b ON b.key_id=j.value AND b.h=a.h AND b.member=a.member)"
    };
}

/// The key ids as a JSON array, for `json_each`.
fn json_ids(ids: &[i64]) -> String {
    let parts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(","))
}

impl SqliteStore<'_> {
    /// One member at a random position: the first member whose hash is at or
    /// after a random hash, wrapping to the first member. O(log n).
    fn set_random_one(&self, id: i64) -> StoreResult<Option<Bytes>> {
        let mut st = self
            .conn
            .cached("SELECT member FROM rset WHERE key_id=?1 AND h>=?2 ORDER BY h LIMIT 1")?;
        let start = random_hash();
        for from in [start, 0] {
            if let Some(m) = st.query_row(params![id, from], |r| r.get::<_, Vec<u8>>(0)).optional()? {
                return Ok(Some(Bytes::from(m)));
            }
        }
        Ok(None)
    }

    /// Collects the members of a query's first column.
    fn set_query(&self, sql: &'static str, params: impl rusqlite::Params) -> StoreResult<Vec<Bytes>> {
        let mut st = self.conn.cached(sql)?;
        let rows = st.query_map(params, |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(Bytes::from(row?));
        }
        Ok(out)
    }

    /// Deletes the given members (known to be present or not); returns how many were deleted.
    fn set_delete_members(&self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let mut st = self
            .conn
            .cached("DELETE FROM rset WHERE key_id=?1 AND h=?2 AND member=?3")?;
        let mut removed = 0;
        for m in members {
            removed += st.execute(params![id, member_hash(m), m.as_ref()])? as i64;
        }
        Ok(removed)
    }

    /// Inserts the result of `op` over `ids` into the (empty) set `dst_id`; returns its size.
    fn set_fill(&self, dst_id: i64, op: SetOp, ids: &[i64]) -> StoreResult<i64> {
        let (first, rest) = (ids[0], json_ids(&ids[1..]));
        let n = match op {
            SetOp::Inter => self
                .conn
                .cached(concat!(
                    "INSERT INTO rset (key_id, h, member) SELECT ?3, a.h, a.member FROM rset a WHERE ",
                    inter_where!()
                ))?
                .execute(params![first, rest, dst_id])?,
            SetOp::Diff => self
                .conn
                .cached(concat!(
                    "INSERT INTO rset (key_id, h, member) SELECT ?3, a.h, a.member FROM rset a WHERE ",
                    diff_where!()
                ))?
                .execute(params![first, rest, dst_id])?,
            SetOp::Union => self
                .conn
                .cached(
                    "INSERT OR IGNORE INTO rset (key_id, h, member)
                     SELECT ?2, s.h, s.member FROM json_each(?1) j JOIN rset s ON s.key_id=j.value",
                )?
                .execute(params![json_ids(ids), dst_id])?,
        };
        Ok(n as i64)
    }
}

impl SetOps for SqliteStore<'_> {
    fn set_add(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let mut added = 0;
        {
            let mut st = self
                .conn
                .cached("INSERT OR IGNORE INTO rset (key_id, h, member) VALUES (?1, ?2, ?3)")?;
            for m in members {
                added += st.execute(params![id, member_hash(m), m.as_ref()])? as i64;
            }
        }
        if added > 0 {
            self.grow(id, added)?;
        }
        Ok(added)
    }

    fn set_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let removed = self.set_delete_members(id, members)?;
        if removed > 0 {
            self.touch(id, -removed)?;
        }
        Ok(removed)
    }

    fn set_contains(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<bool>> {
        let mut st = self
            .conn
            .cached("SELECT 1 FROM rset WHERE key_id=?1 AND h=?2 AND member=?3")?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            out.push(st.exists(params![id, member_hash(m), m.as_ref()])?);
        }
        Ok(out)
    }

    fn set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        self.set_query("SELECT member FROM rset WHERE key_id=?1", [id])
    }

    fn set_combine(&mut self, op: SetOp, ids: &[i64]) -> StoreResult<Vec<Bytes>> {
        let Some((&first, rest)) = ids.split_first() else {
            return Ok(Vec::new());
        };
        match op {
            SetOp::Inter => self.set_query(
                concat!("SELECT a.member FROM rset a WHERE ", inter_where!()),
                params![first, json_ids(rest)],
            ),
            SetOp::Diff => self.set_query(
                concat!("SELECT a.member FROM rset a WHERE ", diff_where!()),
                params![first, json_ids(rest)],
            ),
            SetOp::Union => self.set_query(
                "SELECT s.member FROM json_each(?1) j JOIN rset s ON s.key_id=j.value GROUP BY s.h, s.member",
                [json_ids(ids)],
            ),
        }
    }

    fn set_inter_card(&mut self, ids: &[i64], limit: Option<u64>) -> StoreResult<i64> {
        let Some((&first, rest)) = ids.split_first() else {
            return Ok(0);
        };
        // SQLite reads a negative LIMIT as "no limit".
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        Ok(self
            .conn
            .cached(concat!(
                "SELECT count(*) FROM (SELECT 1 FROM rset a WHERE ",
                inter_where!(),
                " LIMIT ?3)"
            ))?
            .query_row(params![first, json_ids(rest), limit], |r| r.get(0))?)
    }

    fn set_store(&mut self, db: u32, dst: &[u8], op: SetOp, ids: &[i64]) -> StoreResult<i64> {
        if ids.is_empty() {
            self.delete(db, dst)?;
            return Ok(0);
        }
        // Build the result under the staging database while the operands are
        // intact, then replace `dst` with it.
        let new_id = self.create_key(STAGING_DB, dst, KeyType::Set)?;
        let n = self.set_fill(new_id, op, ids)?;
        self.delete(db, dst)?;
        if n > 0 {
            self.move_key(STAGING_DB, dst, db)?;
        }
        // Sets the length, or deletes the staging key when the result is empty.
        self.touch(new_id, n)?;
        Ok(n)
    }
}

impl SetRows for SqliteStore<'_> {
    fn set_len(&mut self, id: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .conn
            .cached("SELECT len FROM rkey WHERE id=?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    fn set_picks(&mut self, id: i64, n: usize, out: &mut Vec<Bytes>) -> StoreResult<()> {
        for _ in 0..n {
            match self.set_random_one(id)? {
                Some(m) => out.push(m),
                None => break,
            }
        }
        Ok(())
    }

    /// One seek a round (a statement is a cheap call here), bounded.
    fn seek_rounds(count: usize) -> usize {
        count.saturating_mul(16).saturating_add(64)
    }

    fn seek_batch(_missing: usize) -> usize {
        1
    }

    fn set_pop_one(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let one: Vec<Bytes> = self.set_random_one(id)?.into_iter().collect();
        if !one.is_empty() {
            self.set_delete_members(id, &one)?;
            self.touch(id, -1)?;
        }
        Ok(one)
    }

    fn set_pop_all(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let all = self.set_members(id)?;
        self.conn.cached("DELETE FROM rset WHERE key_id=?1")?.execute([id])?;
        self.touch(id, -(all.len() as i64))?;
        Ok(all)
    }

    fn set_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, Bytes)>> {
        let mut st = self
            .conn
            .cached("SELECT h, member FROM rset WHERE key_id=?1 AND h>=?2 ORDER BY h, member LIMIT ?3")?;
        let rows = st.query_map(params![id, from, limit], |r| Ok((r.get(0)?, blob(r, 1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<Bytes>) -> StoreResult<()> {
        let mut st = self
            .conn
            .cached("SELECT member FROM rset WHERE key_id=?1 AND h=?2 AND member>?3 ORDER BY member")?;
        for m in st.query_map(params![id, h, after], |r| blob(r, 0))? {
            page.push(m?);
        }
        Ok(())
    }
}
