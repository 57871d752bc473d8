//! Sorted sets on SQLite (table `rzset`, see schema.sql): [`ZSetOps`] and
//! [`ZSetRows`], from which `ZSetStore` comes (`store/zset/layout.rs`).
//!
//! Point operations use the primary key `(key_id, h, member)`; everything
//! ordered uses the index `rzset_score (key_id, score, member)`, which SQLite
//! walks in either direction. Range statements are assembled from a small,
//! fixed set of fragments (direction, bound kinds), so only a bounded number
//! of distinct SQL texts exists and each is prepared once and cached.

use super::SqliteStore;
use crate::store::hashed::random_hash;
use crate::store::{Span, StoreResult, ZQuery, ZSetOps, ZSetRows, member_hash};
use bytes::Bytes;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

/// The member and score at columns `i` and `i + 1`.
fn item(r: &rusqlite::Row, i: usize) -> rusqlite::Result<(Bytes, f64)> {
    Ok((Bytes::from(r.get::<_, Vec<u8>>(i)?), r.get(i + 1)?))
}

/// A span translated to SQL: a condition on `rzset` (after `key_id=?1`) and its parameters.
struct SpanSql {
    cond: &'static str,
    params: Vec<Value>,
}

/// The SQL condition selecting `span`, with its parameters.
fn span_sql(span: Span) -> SpanSql {
    let (cond, params) = match span {
        Span::All => ("", vec![]),
        Span::Score(lo, hi) => ("AND score>=?2 AND score<=?3", vec![Value::Real(lo), Value::Real(hi)]),
        Span::LexSingleTo(lo, hi, s) => (
            "AND score=?4 AND member>=?2 AND member<?3",
            vec![Value::Blob(lo), Value::Blob(hi), Value::Real(s)],
        ),
        Span::LexSingle(lo, s) => ("AND score=?3 AND member>=?2", vec![Value::Blob(lo), Value::Real(s)]),
        Span::LexMixedTo(lo, hi) => ("AND member>=?2 AND member<?3", vec![Value::Blob(lo), Value::Blob(hi)]),
        Span::LexMixed(lo) => ("AND member>=?2", vec![Value::Blob(lo)]),
    };
    SpanSql { cond, params }
}

impl SqliteStore<'_> {
    /// Runs the SELECT for `query`, returning members and scores in walk order.
    fn select(&self, id: i64, span: Span, query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>> {
        let span = span_sql(span);
        let order = if query.rev {
            "score DESC, member DESC"
        } else {
            "score, member"
        };
        let sql = format!(
            "SELECT member, score FROM rzset WHERE key_id=?1 {} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            span.cond,
            span.params.len() + 2,
            span.params.len() + 3
        );
        let limit = query.limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        let offset = query.offset.min(i64::MAX as u64) as i64;
        let mut all = vec![Value::Integer(id)];
        all.extend(span.params);
        all.extend([Value::Integer(limit), Value::Integer(offset)]);
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(params_from_iter(all), |r| {
            Ok((Bytes::from(r.get::<_, Vec<u8>>(0)?), r.get::<_, f64>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes one member's row; true if it was there.
    fn delete_member(&self, id: i64, member: &[u8]) -> StoreResult<bool> {
        let n = self
            .conn
            .cached("DELETE FROM rzset WHERE key_id=?1 AND h=?2 AND member=?3")?
            .execute(params![id, member_hash(member), member])?;
        Ok(n > 0)
    }

    /// The first element with member hash >= `h`.
    fn first_from_hash(&self, id: i64, h: i64) -> StoreResult<Option<(Bytes, f64)>> {
        Ok(self
            .conn
            .cached("SELECT member, score FROM rzset WHERE key_id=?1 AND h>=?2 ORDER BY h, member LIMIT 1")?
            .query_row(params![id, h], |r| {
                Ok((Bytes::from(r.get::<_, Vec<u8>>(0)?), r.get::<_, f64>(1)?))
            })
            .optional()?)
    }
}

impl ZSetOps for SqliteStore<'_> {
    fn zset_scores(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<Option<f64>>> {
        let mut st = self
            .conn
            .cached("SELECT score FROM rzset WHERE key_id=?1 AND h=?2 AND member=?3")?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            out.push(
                st.query_row(params![id, member_hash(m), &m[..]], |r| r.get::<_, f64>(0))
                    .optional()?,
            );
        }
        Ok(out)
    }

    fn zset_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let mut removed = 0;
        for m in members {
            if self.delete_member(id, m)? {
                removed += 1;
            }
        }
        if removed > 0 {
            self.touch(id, -removed)?;
        }
        Ok(removed)
    }

    fn zset_rank(&mut self, id: i64, member: &[u8]) -> StoreResult<Option<(u64, f64)>> {
        let Some(score) = self.zset_scores(id, &[Bytes::copy_from_slice(member)])?[0] else {
            return Ok(None);
        };
        let below: i64 = self
            .conn
            .cached("SELECT count(*) FROM rzset WHERE key_id=?1 AND score<?2")?
            .query_row(params![id, score], |r| r.get(0))?;
        let tied: i64 = self
            .conn
            .cached("SELECT count(*) FROM rzset WHERE key_id=?1 AND score=?2 AND member<?3")?
            .query_row(params![id, score, member], |r| r.get(0))?;
        Ok(Some(((below + tied) as u64, score)))
    }

    fn zset_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, f64)>> {
        let r = random_hash();
        match self.first_from_hash(id, r)? {
            Some(item) => Ok(Some(item)),
            None => self.first_from_hash(id, 0),
        }
    }

    fn zset_read_set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let mut st = self.conn.cached("SELECT member FROM rset WHERE key_id=?1")?;
        let rows = st.query_map([id], |r| Ok(Bytes::from(r.get::<_, Vec<u8>>(0)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl ZSetRows for SqliteStore<'_> {
    fn zset_put_items(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<i64> {
        let mut added = 0;
        {
            // Update first: re-scoring a member is the common case, and costs
            // one statement; a new member costs a missed update and an insert.
            let mut update = self
                .conn
                .cached("UPDATE rzset SET score=?4 WHERE key_id=?1 AND h=?2 AND member=?3")?;
            let mut insert = self
                .conn
                .cached("INSERT INTO rzset (key_id, h, member, score) VALUES (?1, ?2, ?3, ?4)")?;
            for (m, score) in items {
                let p = params![id, member_hash(m), &m[..], score];
                if update.execute(p)? == 0 {
                    insert.execute(p)?;
                    added += 1;
                }
            }
        }
        self.grow(id, added)?;
        Ok(added)
    }

    /// Each member is one UPDATE that skips an unchanged score and, when it
    /// changed nothing, one INSERT OR IGNORE: an update, the common case of
    /// a re-score, is a single statement, and no statement reads first. A
    /// member whose score did not change takes both statements and writes
    /// nothing.
    fn zset_write_scores(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<(i64, i64)> {
        let (mut added, mut updated) = (0, 0);
        {
            let mut update = self
                .conn
                .cached("UPDATE rzset SET score=?4 WHERE key_id=?1 AND h=?2 AND member=?3 AND score<>?4")?;
            let mut insert = self
                .conn
                .cached("INSERT OR IGNORE INTO rzset (key_id, h, member, score) VALUES (?1, ?2, ?3, ?4)")?;
            for (m, score) in items {
                let p = params![id, member_hash(m), &m[..], score];
                if update.execute(p)? > 0 {
                    updated += 1;
                } else if insert.execute(p)? > 0 {
                    added += 1;
                }
            }
        }
        if added + updated > 0 {
            self.grow(id, added)?;
        }
        Ok((added, updated))
    }

    fn zset_count_span(&mut self, id: i64, span: Span) -> StoreResult<u64> {
        let span = span_sql(span);
        let sql = format!("SELECT count(*) FROM rzset WHERE key_id=?1 {}", span.cond);
        let mut all = vec![Value::Integer(id)];
        all.extend(span.params);
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(all), |r| r.get(0))?;
        Ok(n as u64)
    }

    fn zset_walk(&mut self, id: i64, span: Span, query: &ZQuery, take: bool) -> StoreResult<Vec<(Bytes, f64)>> {
        let items = self.select(id, span, query)?;
        if take {
            for (m, _) in &items {
                self.delete_member(id, m)?;
            }
            if !items.is_empty() {
                self.touch(id, -(items.len() as i64))?;
            }
        }
        Ok(items)
    }

    fn zset_score_range(&mut self, id: i64) -> StoreResult<Option<(f64, f64)>> {
        let first = |sql: &'static str| -> StoreResult<Option<f64>> {
            Ok(self
                .conn
                .cached(sql)?
                .query_row([id], |r| r.get::<_, f64>(0))
                .optional()?)
        };
        let lo = first("SELECT score FROM rzset WHERE key_id=?1 ORDER BY score LIMIT 1")?;
        let hi = first("SELECT score FROM rzset WHERE key_id=?1 ORDER BY score DESC LIMIT 1")?;
        Ok(lo.zip(hi))
    }

    fn zset_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, f64))>> {
        let mut st = self
            .conn
            .cached("SELECT h, member, score FROM rzset WHERE key_id=?1 AND h>=?2 ORDER BY h, member LIMIT ?3")?;
        let rows = st.query_map(params![id, from, limit], |r| Ok((r.get(0)?, item(r, 1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn zset_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, f64)>) -> StoreResult<()> {
        let mut st = self
            .conn
            .cached("SELECT member, score FROM rzset WHERE key_id=?1 AND h=?2 AND member>?3 ORDER BY member")?;
        for row in st.query_map(params![id, h, after], |r| item(r, 0))? {
            page.push(row?);
        }
        Ok(())
    }
}
