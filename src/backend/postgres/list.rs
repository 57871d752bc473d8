//! Lists on PostgreSQL (table `rlist`, see schema.sql): [`ListOps`] and
//! [`ListRows`], from which `ListStore` comes, in the layout both backends
//! share (`store/list/layout.rs`: dense positions, LINSERT and LREM written
//! once). PostgreSQL turns `min(pos)`/`max(pos)` of one key into index
//! seeks, and evaluates such scalar subqueries once, before the outer scan, as
//! index bounds.
//!
//! Pushes, pops, LSET, LTRIM and LMOVE are one statement each, the key's
//! length and version included (see [`touch!`]). Many values are pushed as
//! one array parameter, numbered with `WITH ORDINALITY`.

use super::PgStore;
use super::coll::{bytes_at, bytes_col};
use crate::store::lists::ListRows;
use crate::store::{End, ListOps, PosSearch, StoreResult, sql_count};
use bytes::Bytes;

/// A count that is "everything" for any list, small enough that adding it to
/// a position cannot overflow.
const ALL: i64 = 1 << 62;

/// A count as a bound on elements, capped at [`ALL`].
fn capped(n: u64) -> i64 {
    sql_count(n).min(ALL)
}

/// LMOVE between two different lists, one statement per (from, to): the
/// element leaves `$1` at `from` and joins `$2` at `to` (positions read from
/// the statement's snapshot, which is right because the lists differ), and
/// both keys are touched (the source deleted if it empties).
macro_rules! move_sql {
    ($take:literal, $put:literal) => {
        concat!(
            "WITH t AS (DELETE FROM rlist WHERE key_id = $1 AND pos = (SELECT ",
            $take,
            " FROM rlist WHERE key_id = $1) RETURNING value),
             ins AS (INSERT INTO rlist (key_id, pos, value) SELECT $2, (SELECT ",
            $put,
            " FROM rlist WHERE key_id = $2), value FROM t),
             src_t AS (UPDATE rkey SET len = len - 1, version = nextval('rkey_version')
               WHERE id = $1 AND len > 1 AND EXISTS (SELECT 1 FROM t)),
             src_e AS (DELETE FROM rkey WHERE id = $1 AND len <= 1 AND EXISTS (SELECT 1 FROM t)),
             dst_t AS (UPDATE rkey SET len = len + 1, version = nextval('rkey_version')
               WHERE id = $2 AND EXISTS (SELECT 1 FROM t))
             SELECT value FROM t"
        )
    };
}

impl ListOps for PgStore<'_> {
    fn list_push(&mut self, id: i64, _len: i64, end: End, values: &[Bytes]) -> StoreResult<i64> {
        let sql = match end {
            End::Head => concat!(
                "WITH b AS (SELECT coalesce(min(pos), 1) AS p FROM rlist WHERE key_id = $1),
                 ins AS (INSERT INTO rlist (key_id, pos, value)
                   SELECT $1, b.p - u.o, u.v FROM b, unnest($2::bytea[]) WITH ORDINALITY AS u(v, o) RETURNING 1)",
                touch!("(SELECT count(*) FROM ins)", "true"),
                "SELECT coalesce((SELECT len FROM touched), 0)"
            ),
            End::Tail => concat!(
                "WITH b AS (SELECT coalesce(max(pos), -1) AS p FROM rlist WHERE key_id = $1),
                 ins AS (INSERT INTO rlist (key_id, pos, value)
                   SELECT $1, b.p + u.o, u.v FROM b, unnest($2::bytea[]) WITH ORDINALITY AS u(v, o) RETURNING 1)",
                touch!("(SELECT count(*) FROM ins)", "true"),
                "SELECT coalesce((SELECT len FROM touched), 0)"
            ),
        };
        let values: Vec<&[u8]> = values.iter().map(|v| &v[..]).collect();
        Ok(self.conn.query_one(sql, &[&id, &values])?.try_get(0)?)
    }

    fn list_pop(&mut self, id: i64, _len: i64, end: End, count: u64) -> StoreResult<Vec<Bytes>> {
        let sql = match end {
            End::Head => concat!(
                "WITH f AS (SELECT min(pos) AS p FROM rlist WHERE key_id = $1),
                 del AS (DELETE FROM rlist WHERE key_id = $1
                   AND pos BETWEEN (SELECT p FROM f) AND (SELECT p FROM f) + $2 - 1 RETURNING pos, value)",
                touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                "SELECT pos, value FROM del"
            ),
            End::Tail => concat!(
                "WITH l AS (SELECT max(pos) AS p FROM rlist WHERE key_id = $1),
                 del AS (DELETE FROM rlist WHERE key_id = $1
                   AND pos BETWEEN (SELECT p FROM l) - $2 + 1 AND (SELECT p FROM l) RETURNING pos, value)",
                touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                "SELECT pos, value FROM del"
            ),
        };
        let rows = self.conn.query(sql, &[&id, &capped(count)])?;
        let mut popped = rows
            .iter()
            .map(|r| Ok((r.try_get::<_, i64>(0)?, bytes_at(r, 1)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING has no order: popped in order is outward-in from `end`.
        match end {
            End::Head => popped.sort_unstable_by_key(|&(pos, _)| pos),
            End::Tail => popped.sort_unstable_by_key(|&(pos, _)| std::cmp::Reverse(pos)),
        }
        Ok(popped.into_iter().map(|(_, v)| v).collect())
    }

    fn list_range(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<Vec<Bytes>> {
        if start > stop {
            return Ok(Vec::new());
        }
        let rows = self.conn.query(
            "SELECT value FROM rlist WHERE key_id = $1
               AND pos BETWEEN (SELECT min(pos) FROM rlist WHERE key_id = $1) + $2
                           AND (SELECT min(pos) FROM rlist WHERE key_id = $1) + $3
             ORDER BY pos",
            &[&id, &start, &stop],
        )?;
        Ok(bytes_col(&rows)?)
    }

    fn list_get(&mut self, id: i64, index: i64) -> StoreResult<Option<Bytes>> {
        let row = self.conn.query_opt(
            "SELECT value FROM rlist WHERE key_id = $1 AND pos = (SELECT min(pos) FROM rlist WHERE key_id = $1) + $2",
            &[&id, &index],
        )?;
        Ok(row.map(|r| bytes_at(&r, 0)).transpose()?)
    }

    fn list_set(&mut self, id: i64, index: i64, value: &[u8]) -> StoreResult<bool> {
        let n: i64 = self
            .conn
            .query_one(
                concat!(
                    "WITH upd AS (UPDATE rlist SET value = $3
                       WHERE key_id = $1 AND pos = (SELECT min(pos) FROM rlist WHERE key_id = $1) + $2 RETURNING 1)",
                    touch!("0", "EXISTS (SELECT 1 FROM upd)"),
                    "SELECT count(*) FROM upd"
                ),
                &[&id, &index, &value],
            )?
            .try_get(0)?;
        Ok(n > 0)
    }

    fn list_trim(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<()> {
        // Two index ranges: before the kept span and after it. An empty span
        // (start > stop) keeps nothing: everything is "before" it. (Every
        // range here and in pops is bounded on both sides: positions beyond
        // the ends may still hold index entries of rows popped earlier, dead
        // until vacuumed, which a half-open range would walk through.)
        let (start, stop) = if start > stop { (ALL, ALL) } else { (start, stop) };
        self.conn.execute(
            concat!(
                "WITH b AS (SELECT min(pos) AS lo, max(pos) AS hi FROM rlist WHERE key_id = $1),
                 del1 AS (DELETE FROM rlist WHERE key_id = $1
                   AND pos BETWEEN (SELECT lo FROM b) AND (SELECT lo FROM b) + $2 - 1 RETURNING 1),
                 del2 AS (DELETE FROM rlist WHERE key_id = $1
                   AND pos BETWEEN (SELECT lo FROM b) + $3 + 1 AND (SELECT hi FROM b) RETURNING 1)",
                touch!("-((SELECT count(*) FROM del1) + (SELECT count(*) FROM del2))", "true"),
                "SELECT 1"
            ),
            &[&id, &start, &stop],
        )?;
        Ok(())
    }

    fn list_positions(&mut self, id: i64, value: &[u8], search: PosSearch) -> StoreResult<Vec<i64>> {
        let sql = match search.from {
            End::Head => {
                "WITH b AS (SELECT min(pos) AS lo, max(pos) AS hi FROM rlist WHERE key_id = $1)
                 SELECT pos - b.lo FROM rlist, b WHERE key_id = $1 AND value = $2
                   AND pos BETWEEN b.lo AND least(b.hi, b.lo + $3 - 1)
                 ORDER BY pos LIMIT $4 OFFSET $5"
            }
            End::Tail => {
                "WITH b AS (SELECT min(pos) AS lo, max(pos) AS hi FROM rlist WHERE key_id = $1)
                 SELECT pos - b.lo FROM rlist, b WHERE key_id = $1 AND value = $2
                   AND pos BETWEEN greatest(b.lo, b.hi - $3 + 1) AND b.hi
                 ORDER BY pos DESC LIMIT $4 OFFSET $5"
            }
        };
        let window = search.maxlen.map_or(ALL, capped);
        let limit = search.limit.map(sql_count);
        let rows = self
            .conn
            .query(sql, &[&id, &value, &window, &limit, &sql_count(search.skip)])?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn list_move(&mut self, src: i64, dst: i64, from: End, to: End) -> StoreResult<Option<Bytes>> {
        if src == dst {
            return self.list_rotate(src, from, to);
        }
        let sql = match (from, to) {
            (End::Head, End::Head) => move_sql!("min(pos)", "coalesce(min(pos), 1) - 1"),
            (End::Head, End::Tail) => move_sql!("min(pos)", "coalesce(max(pos), -1) + 1"),
            (End::Tail, End::Head) => move_sql!("max(pos)", "coalesce(min(pos), 1) - 1"),
            (End::Tail, End::Tail) => move_sql!("max(pos)", "coalesce(max(pos), -1) + 1"),
        };
        let row = self.conn.query_opt(sql, &[&src, &dst])?;
        Ok(row.map(|r| bytes_at(&r, 0)).transpose()?)
    }
}

impl ListRows for PgStore<'_> {
    fn shift_rows(&mut self, id: i64, lo: i64, hi: i64, delta: i64) -> StoreResult<()> {
        self.conn.execute(
            "UPDATE rlist SET pos = pos + $4 WHERE key_id = $1 AND pos BETWEEN $2 AND $3",
            &[&id, &lo, &hi, &delta],
        )?;
        Ok(())
    }

    fn number_rows(&mut self, id: i64, lo: i64, hi: i64, to: i64) -> StoreResult<i64> {
        Ok(self.conn.execute(
            "UPDATE rlist SET pos = $4 + m.rn
             FROM (SELECT pos AS old, row_number() OVER (ORDER BY pos) - 1 AS rn
                   FROM rlist WHERE key_id = $1 AND pos BETWEEN $2 AND $3) m
             WHERE rlist.key_id = $1 AND rlist.pos = m.old",
            &[&id, &lo, &hi, &to],
        )? as i64)
    }

    fn pivot_and_ends(&mut self, id: i64, pivot: &[u8]) -> StoreResult<Option<(i64, i64, i64)>> {
        let r = self.conn.query_one(
            "SELECT (SELECT pos FROM rlist WHERE key_id = $1 AND value = $2 ORDER BY pos LIMIT 1),
                    (SELECT min(pos) FROM rlist WHERE key_id = $1), (SELECT max(pos) FROM rlist WHERE key_id = $1)",
            &[&id, &pivot],
        )?;
        let cols: [Option<i64>; 3] = [r.try_get(0)?, r.try_get(1)?, r.try_get(2)?];
        let [Some(p), Some(first), Some(last)] = cols else {
            return Ok(None);
        };
        Ok(Some((p, first, last)))
    }

    fn insert_row(&mut self, id: i64, pos: i64, value: &[u8]) -> StoreResult<i64> {
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH ins AS (INSERT INTO rlist (key_id, pos, value) VALUES ($1, $2, $3) RETURNING 1)",
                    touch!("(SELECT count(*) FROM ins)", "true"),
                    "SELECT coalesce((SELECT len FROM touched), 0)"
                ),
                &[&id, &pos, &value],
            )?
            .try_get(0)?)
    }

    fn removal_span(&mut self, id: i64, value: &[u8], count: i64) -> StoreResult<Option<[i64; 4]>> {
        // The ends and the span in one statement.
        let sql = if count < 0 {
            "WITH m AS (SELECT pos FROM rlist WHERE key_id = $1 AND value = $2 ORDER BY pos DESC LIMIT $3)
             SELECT (SELECT min(pos) FROM rlist WHERE key_id = $1), (SELECT max(pos) FROM rlist WHERE key_id = $1),
                    (SELECT min(pos) FROM m), (SELECT max(pos) FROM m)"
        } else {
            "WITH m AS (SELECT pos FROM rlist WHERE key_id = $1 AND value = $2 ORDER BY pos LIMIT $3)
             SELECT (SELECT min(pos) FROM rlist WHERE key_id = $1), (SELECT max(pos) FROM rlist WHERE key_id = $1),
                    (SELECT min(pos) FROM m), (SELECT max(pos) FROM m)"
        };
        // LIMIT NULL is no limit.
        let limit = (count != 0).then(|| sql_count(count.unsigned_abs()));
        let r = self.conn.query_one(sql, &[&id, &value, &limit])?;
        let cols: [Option<i64>; 4] = [r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?];
        let [Some(first), Some(last), Some(lo), Some(hi)] = cols else {
            return Ok(None);
        };
        Ok(Some([first, last, lo, hi]))
    }

    fn delete_matches(&mut self, id: i64, value: &[u8], lo: i64, hi: i64) -> StoreResult<i64> {
        Ok(self.conn.execute(
            "DELETE FROM rlist WHERE key_id = $1 AND value = $2 AND pos BETWEEN $3 AND $4",
            &[&id, &value, &lo, &hi],
        )? as i64)
    }

    fn touch_list(&mut self, id: i64, delta: i64) -> StoreResult<i64> {
        self.touch(id, delta)
    }
}

impl PgStore<'_> {
    /// LMOVE within one list: the element at `from` goes to `to` (nothing
    /// moves when they are the same end), the list keeps its length.
    fn list_rotate(&mut self, id: i64, from: End, to: End) -> StoreResult<Option<Bytes>> {
        let row = match (from, to) {
            (End::Head, End::Tail) => self.conn.query_opt(
                "UPDATE rlist SET pos = (SELECT max(pos) FROM rlist WHERE key_id = $1) + 1
                 WHERE key_id = $1 AND pos = (SELECT min(pos) FROM rlist WHERE key_id = $1) RETURNING value",
                &[&id],
            )?,
            (End::Tail, End::Head) => self.conn.query_opt(
                "UPDATE rlist SET pos = (SELECT min(pos) FROM rlist WHERE key_id = $1) - 1
                 WHERE key_id = $1 AND pos = (SELECT max(pos) FROM rlist WHERE key_id = $1) RETURNING value",
                &[&id],
            )?,
            _ => return self.list_end_touching(id, from),
        };
        let value = row.map(|r| bytes_at(&r, 0)).transpose()?;
        if value.is_some() {
            self.touch(id, 0)?;
        }
        Ok(value)
    }

    /// The element at `end`, with the key touched as a move onto itself does.
    fn list_end_touching(&mut self, id: i64, end: End) -> StoreResult<Option<Bytes>> {
        let sql = match end {
            End::Head => "SELECT value FROM rlist WHERE key_id = $1 ORDER BY pos LIMIT 1",
            End::Tail => "SELECT value FROM rlist WHERE key_id = $1 ORDER BY pos DESC LIMIT 1",
        };
        let value = self.conn.query_opt(sql, &[&id])?.map(|r| bytes_at(&r, 0)).transpose()?;
        if value.is_some() {
            self.touch(id, 0)?;
        }
        Ok(value)
    }
}
