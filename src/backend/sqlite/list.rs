//! Lists on SQLite (table `rlist`, see schema.sql): [`ListOps`] and
//! [`ListRows`], from which `ListStore` comes, in the layout both backends
//! share (`store/list/layout.rs`: dense positions, LINSERT and LREM written
//! once). Every access by index is one primary-key seek (`SELECT min(pos)` is
//! itself an O(log n) seek).

use super::SqliteStore;
use crate::store::lists::ListRows;
use crate::store::{End, ListOps, PosSearch, StoreResult, sql_count};
use bytes::{Bytes, BytesMut};
use rusqlite::{OptionalExtension, params};

impl SqliteStore<'_> {
    /// Position of the head element, if the list has any. O(log n).
    fn list_first(&self, id: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .conn
            .cached("SELECT min(pos) FROM rlist WHERE key_id=?1")?
            .query_row([id], |r| r.get(0))?)
    }

    /// Position of the tail element, if the list has any. O(log n).
    fn list_last(&self, id: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .conn
            .cached("SELECT max(pos) FROM rlist WHERE key_id=?1")?
            .query_row([id], |r| r.get(0))?)
    }

    /// Positions of the head and tail elements, if the list has any. O(log n).
    fn list_bounds(&self, id: i64) -> StoreResult<Option<(i64, i64)>> {
        // Two subqueries: SQLite turns a lone min() or max() into an index
        // seek, but not both aggregates in one SELECT.
        let (first, last): (Option<i64>, Option<i64>) = self
            .conn
            .cached(
                "SELECT (SELECT min(pos) FROM rlist WHERE key_id=?1), (SELECT max(pos) FROM rlist WHERE key_id=?1)",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(first.zip(last))
    }

    /// Inserts `values` one after the other beyond `end`, without touching
    /// the key. `empty`: the list is known to have no elements (a new key),
    /// so its ends are not read.
    fn list_put(&self, id: i64, end: End, values: &[Bytes], empty: bool) -> StoreResult<()> {
        let (mut pos, step) = match end {
            _ if empty => (0, if end == End::Head { -1 } else { 1 }),
            End::Head => (self.list_first(id)?.map_or(0, |p| p - 1), -1),
            End::Tail => (self.list_last(id)?.map_or(0, |p| p + 1), 1),
        };
        let mut st = self
            .conn
            .cached("INSERT INTO rlist (key_id, pos, value) VALUES (?1, ?2, ?3)")?;
        for v in values {
            st.execute(params![id, pos, &v[..]])?;
            pos += step;
        }
        Ok(())
    }

    /// Deletes and returns the element at `end`, without touching the key.
    /// A read then a delete by primary key: `DELETE ... RETURNING` would run
    /// through a temporary table and a statement journal (see `touch`).
    fn list_take(&self, id: i64, end: End) -> StoreResult<Option<Bytes>> {
        let sql = match end {
            End::Head => "SELECT pos, value FROM rlist WHERE key_id=?1 ORDER BY pos LIMIT 1",
            End::Tail => "SELECT pos, value FROM rlist WHERE key_id=?1 ORDER BY pos DESC LIMIT 1",
        };
        let Some((pos, value)) = self
            .conn
            .cached(sql)?
            .query_row([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .optional()?
        else {
            return Ok(None);
        };
        self.conn
            .cached("DELETE FROM rlist WHERE key_id=?1 AND pos=?2")?
            .execute([id, pos])?;
        Ok(Some(Bytes::from(value)))
    }

    /// Deletes the rows at positions `lo..=hi`; returns how many there were.
    fn list_delete_range(&self, id: i64, lo: i64, hi: i64) -> StoreResult<i64> {
        if lo > hi {
            return Ok(0);
        }
        Ok(self
            .conn
            .cached("DELETE FROM rlist WHERE key_id=?1 AND pos BETWEEN ?2 AND ?3")?
            .execute(params![id, lo, hi])? as i64)
    }

    /// The values at positions `lo..=hi`, in ascending or descending order.
    ///
    /// Positions are dense, so the range is "from one end, so many rows":
    /// a LIMIT ends the scan instead of an upper bound, which SQLite checks
    /// on every row by comparing both columns of the key (about a fifth of
    /// the cost of each row of an LRANGE).
    fn list_values(&self, id: i64, lo: i64, hi: i64, descending: bool) -> StoreResult<Vec<Bytes>> {
        let (sql, from) = if descending {
            (
                "SELECT value FROM rlist WHERE key_id=?1 AND pos<=?2 ORDER BY pos DESC LIMIT ?3",
                hi,
            )
        } else {
            (
                "SELECT value FROM rlist WHERE key_id=?1 AND pos>=?2 ORDER BY pos LIMIT ?3",
                lo,
            )
        };
        let mut st = self.conn.cached(sql)?;
        let mut rows = st.query(params![id, from, hi - lo + 1])?;
        // All values go into one buffer, then are handed out as slices of it:
        // one allocation for the range instead of one per element.
        let mut arena = BytesMut::new();
        let mut lens = Vec::new();
        while let Some(row) = rows.next()? {
            let value = row.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?;
            arena.extend_from_slice(value);
            lens.push(value.len());
        }
        let mut arena = arena.freeze();
        Ok(lens.into_iter().map(|n| arena.split_to(n)).collect())
    }
}

impl ListOps for SqliteStore<'_> {
    fn list_push(&mut self, id: i64, len: i64, end: End, values: &[Bytes]) -> StoreResult<i64> {
        self.list_put(id, end, values, len == 0)?;
        let added = values.len() as i64;
        self.grow(id, added)?;
        Ok(len + added)
    }

    fn list_pop(&mut self, id: i64, len: i64, end: End, count: u64) -> StoreResult<Vec<Bytes>> {
        if count == 1 {
            // The common pop (LPOP, RPOP, BRPOP): the end element read with
            // its position in one seek and deleted by position, as LMOVE
            // does; no bounds query.
            let Some(value) = self.list_take(id, end)? else {
                return Ok(Vec::new());
            };
            self.shrink(id, len, 1)?;
            return Ok(vec![value]);
        }
        let Some((first, last)) = self.list_bounds(id)? else {
            return Ok(Vec::new());
        };
        let n = sql_count(count).min(last - first + 1);
        if n == 0 {
            return Ok(Vec::new());
        }
        let (lo, hi) = match end {
            End::Head => (first, first + n - 1),
            End::Tail => (last - n + 1, last),
        };
        let values = self.list_values(id, lo, hi, end == End::Tail)?;
        self.list_delete_range(id, lo, hi)?;
        self.shrink(id, len, n)?;
        Ok(values)
    }

    fn list_range(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<Vec<Bytes>> {
        match self.list_first(id)? {
            Some(first) if start <= stop => self.list_values(id, first + start, first + stop, false),
            _ => Ok(Vec::new()),
        }
    }

    fn list_get(&mut self, id: i64, index: i64) -> StoreResult<Option<Bytes>> {
        Ok(self
            .conn
            .cached("SELECT value FROM rlist WHERE key_id=?1 AND pos=(SELECT min(pos) FROM rlist WHERE key_id=?1)+?2")?
            .query_row(params![id, index], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .map(Bytes::from))
    }

    fn list_set(&mut self, id: i64, index: i64, value: &[u8]) -> StoreResult<bool> {
        let n = self
            .conn
            .cached(
                "UPDATE rlist SET value=?3 WHERE key_id=?1 AND pos=(SELECT min(pos) FROM rlist WHERE key_id=?1)+?2",
            )?
            .execute(params![id, index, value])?;
        if n > 0 {
            self.grow(id, 0)?;
        }
        Ok(n > 0)
    }

    fn list_trim(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<()> {
        let Some((first, last)) = self.list_bounds(id)? else {
            return Ok(());
        };
        let removed = if start > stop {
            self.list_delete_range(id, first, last)?
        } else {
            self.list_delete_range(id, first, first + start - 1)?
                + self.list_delete_range(id, first + stop + 1, last)?
        };
        self.touch(id, -removed)?;
        Ok(())
    }

    fn list_positions(&mut self, id: i64, value: &[u8], search: PosSearch) -> StoreResult<Vec<i64>> {
        let Some((first, last)) = self.list_bounds(id)? else {
            return Ok(Vec::new());
        };
        let window = search.maxlen.map_or(i64::MAX, sql_count).min(last - first + 1);
        let (lo, hi, sql) = match search.from {
            End::Head => (
                first,
                first + window - 1,
                "SELECT pos FROM rlist WHERE key_id=?1 AND value=?2 AND pos BETWEEN ?3 AND ?4
                 ORDER BY pos LIMIT ?5 OFFSET ?6",
            ),
            End::Tail => (
                last - window + 1,
                last,
                "SELECT pos FROM rlist WHERE key_id=?1 AND value=?2 AND pos BETWEEN ?3 AND ?4
                 ORDER BY pos DESC LIMIT ?5 OFFSET ?6",
            ),
        };
        let limit = search.limit.map_or(-1, sql_count);
        let mut st = self.conn.cached(sql)?;
        let rows = st.query_map(params![id, value, lo, hi, limit, sql_count(search.skip)], |r| {
            r.get::<_, i64>(0).map(|p| p - first)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn list_move(&mut self, src: i64, dst: i64, from: End, to: End) -> StoreResult<Option<Bytes>> {
        let Some(value) = self.list_take(src, from)? else {
            return Ok(None);
        };
        self.list_put(dst, to, std::slice::from_ref(&value), false)?;
        if src == dst {
            self.grow(src, 0)?;
        } else {
            self.touch(src, -1)?;
            self.grow(dst, 1)?;
        }
        Ok(Some(value))
    }
}

impl ListRows for SqliteStore<'_> {
    fn shift_rows(&mut self, id: i64, lo: i64, hi: i64, delta: i64) -> StoreResult<()> {
        self.conn
            .cached("UPDATE rlist SET pos=pos+?4 WHERE key_id=?1 AND pos BETWEEN ?2 AND ?3")?
            .execute(params![id, lo, hi, delta])?;
        Ok(())
    }

    fn number_rows(&mut self, id: i64, lo: i64, hi: i64, to: i64) -> StoreResult<i64> {
        Ok(self
            .conn
            .cached(
                "WITH m AS MATERIALIZED (
                     SELECT pos AS old, row_number() OVER (ORDER BY pos) - 1 AS rn
                     FROM rlist WHERE key_id=?1 AND pos BETWEEN ?2 AND ?3)
                 UPDATE rlist SET pos=?4 + m.rn FROM m WHERE rlist.key_id=?1 AND rlist.pos=m.old",
            )?
            .execute(params![id, lo, hi, to])? as i64)
    }

    fn pivot_and_ends(&mut self, id: i64, pivot: &[u8]) -> StoreResult<Option<(i64, i64, i64)>> {
        let pivot_pos: Option<i64> = self
            .conn
            .cached("SELECT pos FROM rlist WHERE key_id=?1 AND value=?2 ORDER BY pos LIMIT 1")?
            .query_row(params![id, pivot], |r| r.get(0))
            .optional()?;
        Ok(match (pivot_pos, self.list_bounds(id)?) {
            (Some(p), Some((first, last))) => Some((p, first, last)),
            _ => None,
        })
    }

    fn insert_row(&mut self, id: i64, pos: i64, value: &[u8]) -> StoreResult<i64> {
        self.conn
            .cached("INSERT INTO rlist (key_id, pos, value) VALUES (?1, ?2, ?3)")?
            .execute(params![id, pos, value])?;
        self.touch(id, 1)
    }

    fn removal_span(&mut self, id: i64, value: &[u8], count: i64) -> StoreResult<Option<[i64; 4]>> {
        let Some((first, last)) = self.list_bounds(id)? else {
            return Ok(None);
        };
        let sql = if count < 0 {
            "SELECT min(pos), max(pos) FROM
             (SELECT pos FROM rlist WHERE key_id=?1 AND value=?2 ORDER BY pos DESC LIMIT ?3)"
        } else {
            "SELECT min(pos), max(pos) FROM
             (SELECT pos FROM rlist WHERE key_id=?1 AND value=?2 ORDER BY pos LIMIT ?3)"
        };
        // SQLite reads a negative LIMIT as "no limit".
        let limit = if count == 0 {
            -1
        } else {
            sql_count(count.unsigned_abs())
        };
        let span: (Option<i64>, Option<i64>) = self
            .conn
            .cached(sql)?
            .query_row(params![id, value, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(span.0.zip(span.1).map(|(lo, hi)| [first, last, lo, hi]))
    }

    fn delete_matches(&mut self, id: i64, value: &[u8], lo: i64, hi: i64) -> StoreResult<i64> {
        Ok(self
            .conn
            .cached("DELETE FROM rlist WHERE key_id=?1 AND value=?2 AND pos BETWEEN ?3 AND ?4")?
            .execute(params![id, value, lo, hi])? as i64)
    }

    fn touch_list(&mut self, id: i64, delta: i64) -> StoreResult<i64> {
        self.touch(id, delta)
    }
}
