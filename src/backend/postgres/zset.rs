//! Sorted sets on PostgreSQL (table `rzset`, see schema.sql): [`ZSetOps`] and
//! [`ZSetRows`], from which `ZSetStore` comes (`store/zset/layout.rs`).
//!
//! Point operations use the primary key `(key_id, h, member)`; everything
//! ordered uses the index `rzset_score (key_id, score, member)`, which
//! PostgreSQL walks in either direction. `member` is `bytea`, compared
//! bytewise like Redis compares members; scores are `double precision` sent
//! and read in binary, so they round-trip exactly (inf and -inf included; a
//! -0 score is stored as 0, as on SQLite: see `zset_put_items`).
//!
//! Members are looked up by correlated subqueries on the full primary key,
//! never joins, and rows to delete are found first and deleted by `ctid` (as
//! in `hash.rs`), so plans stay index seeks whatever the statistics say.
//!
//! Range statements are assembled at compile time from a small, fixed set of
//! span conditions ([`SpanSql`]) and directions, so each distinct SQL text is
//! a `'static` string, prepared once and cached. Their parameters: `$1` the
//! key id, `$2` the limit (NULL: none), `$3` the offset, `$4...` the span's.

use super::PgStore;
use super::coll::{bytes_at, hashed, last_wins};
use crate::store::hashed::random_hash;
use crate::store::{Span, StoreResult, ZQuery, ZSetOps, ZSetRows, member_hash, sql_count};
use bytes::Bytes;
use postgres::Row;
use postgres::types::ToSql;

/// The statements for one kind of span condition.
struct SpanSql {
    asc: &'static str,
    desc: &'static str,
    /// Counts the span (with `$2` NULL and `$3` 0).
    count: &'static str,
    /// Deletes the selection and returns it, touching the key.
    take_asc: &'static str,
    take_desc: &'static str,
}

/// The [`SpanSql`] for a condition on `rzset` (following `key_id = $1`).
macro_rules! span_sql {
    ($cond:literal) => {
        SpanSql {
            asc: concat!(
                "SELECT member, score FROM rzset WHERE key_id = $1 ",
                $cond,
                " ORDER BY score, member LIMIT $2 OFFSET $3"
            ),
            desc: concat!(
                "SELECT member, score FROM rzset WHERE key_id = $1 ",
                $cond,
                " ORDER BY score DESC, member DESC LIMIT $2 OFFSET $3"
            ),
            count: concat!(
                "SELECT count(*) FROM (SELECT 1 FROM rzset WHERE key_id = $1 ",
                $cond,
                " LIMIT $2 OFFSET $3) x"
            ),
            take_asc: concat!(
                "WITH sel AS (SELECT ctid, member, score FROM rzset WHERE key_id = $1 ",
                $cond,
                " ORDER BY score, member LIMIT $2 OFFSET $3),
                 del AS (DELETE FROM rzset WHERE ctid = ANY (ARRAY(SELECT ctid FROM sel)) RETURNING 1)",
                touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                "SELECT member, score FROM sel ORDER BY score, member"
            ),
            take_desc: concat!(
                "WITH sel AS (SELECT ctid, member, score FROM rzset WHERE key_id = $1 ",
                $cond,
                " ORDER BY score DESC, member DESC LIMIT $2 OFFSET $3),
                 del AS (DELETE FROM rzset WHERE ctid = ANY (ARRAY(SELECT ctid FROM sel)) RETURNING 1)",
                touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                "SELECT member, score FROM sel ORDER BY score DESC, member DESC"
            ),
        }
    };
}

/// Every element.
static ALL: SpanSql = span_sql!("");
/// `$4 <= score <= $5`.
static SCORE: SpanSql = span_sql!("AND score >= $4 AND score <= $5");
/// A lex span over a single score `$6`: `$4 <= member < $5`.
static LEX_SINGLE_TO: SpanSql = span_sql!("AND score = $6 AND member >= $4 AND member < $5");
/// A lex span over a single score `$5`: `$4 <= member`.
static LEX_SINGLE: SpanSql = span_sql!("AND score = $5 AND member >= $4");
/// A lex span over mixed scores (undefined in Redis; filtered): `$4 <= member < $5`.
static LEX_MIXED_TO: SpanSql = span_sql!("AND member >= $4 AND member < $5");
/// A lex span over mixed scores: `$4 <= member`.
static LEX_MIXED: SpanSql = span_sql!("AND member >= $4");

/// The statements for `span`'s kind.
fn statements(span: &Span) -> &'static SpanSql {
    match span {
        Span::All => &ALL,
        Span::Score(..) => &SCORE,
        Span::LexSingleTo(..) => &LEX_SINGLE_TO,
        Span::LexSingle(..) => &LEX_SINGLE,
        Span::LexMixedTo(..) => &LEX_MIXED_TO,
        Span::LexMixed(..) => &LEX_MIXED,
    }
}

/// `span`'s parameters, `$4...`.
fn span_params(span: &Span) -> Vec<&(dyn ToSql + Sync)> {
    match span {
        Span::All => vec![],
        Span::Score(lo, hi) => vec![lo, hi],
        Span::LexSingleTo(lo, hi, s) => vec![lo, hi, s],
        Span::LexSingle(lo, s) => vec![lo, s],
        Span::LexMixedTo(lo, hi) => vec![lo, hi],
        Span::LexMixed(lo) => vec![lo],
    }
}

fn item(r: &Row) -> Result<(Bytes, f64), postgres::Error> {
    Ok((bytes_at(r, 0)?, r.try_get(1)?))
}

fn items(rows: &[Row]) -> StoreResult<Vec<(Bytes, f64)>> {
    Ok(rows.iter().map(item).collect::<Result<_, _>>()?)
}

impl ZSetOps for PgStore<'_> {
    fn zset_scores(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<Option<f64>>> {
        let (hs, ms) = hashed(members);
        let rows = self.conn.query(
            "SELECT (SELECT z.score FROM rzset z WHERE z.key_id = $1 AND z.h = u.h AND z.member = u.m)
             FROM unnest($2::int8[], $3::bytea[]) WITH ORDINALITY AS u(h, m, i) ORDER BY u.i",
            &[&id, &hs, &ms],
        )?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn zset_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        let (hs, ms) = hashed(members);
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH del AS (DELETE FROM rzset WHERE ctid = ANY (ARRAY(
                       SELECT (SELECT z.ctid FROM rzset z WHERE z.key_id = $1 AND z.h = u.h AND z.member = u.m)
                       FROM unnest($2::int8[], $3::bytea[]) AS u(h, m))) RETURNING 1)",
                    touch!("-(SELECT count(*) FROM del)", "EXISTS (SELECT 1 FROM del)"),
                    "SELECT count(*) FROM del"
                ),
                &[&id, &hs, &ms],
            )?
            .try_get(0)?)
    }

    fn zset_rank(&mut self, id: i64, member: &[u8]) -> StoreResult<Option<(u64, f64)>> {
        // The rank counts the elements before (score, member) along the score
        // index; the row comparison is one index range.
        let row = self.conn.query_opt(
            "WITH s AS (SELECT score FROM rzset WHERE key_id = $1 AND h = $2 AND member = $3)
             SELECT (SELECT count(*) FROM rzset WHERE key_id = $1 AND (score, member) < (s.score, $3)), s.score
             FROM s",
            &[&id, &member_hash(member), &member],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
    }

    fn zset_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, f64)>> {
        // The first element at or after a random member hash, else the first one.
        let row = self.conn.query_opt(
            "(SELECT member, score FROM rzset WHERE key_id = $1 AND h >= $2 ORDER BY h, member LIMIT 1)
             UNION ALL
             (SELECT member, score FROM rzset WHERE key_id = $1 ORDER BY h, member LIMIT 1)
             LIMIT 1",
            &[&id, &random_hash()],
        )?;
        Ok(row.map(|r| item(&r)).transpose()?)
    }

    fn zset_read_set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        let rows = self
            .conn
            .query("SELECT member FROM rset WHERE key_id = $1 ORDER BY h, member", &[&id])?;
        Ok(rows.iter().map(|r| bytes_at(r, 0)).collect::<Result<_, _>>()?)
    }
}

impl ZSetRows for PgStore<'_> {
    fn zset_put_items(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<i64> {
        // One row per member (the last score wins): an upsert may not touch a row twice.
        let keep = last_wins(items.iter().map(|(m, _)| &m[..]));
        let hs: Vec<i64> = keep.iter().map(|&i| member_hash(&items[i].0)).collect();
        let ms: Vec<&[u8]> = keep.iter().map(|&i| &items[i].0[..]).collect();
        // `+ 0.0` turns -0 into 0: SQLite stores a zero score as the integer
        // 0, and both backends must answer alike (Redis itself answers "0"
        // for small sorted sets, whose listpack encoding also loses the sign).
        let ss: Vec<f64> = keep.iter().map(|&i| items[i].1 + 0.0).collect();
        // `xmax = 0` tells a freshly inserted row from an updated one. An
        // unchanged score is not rewritten (no dead row version to vacuum).
        Ok(self
            .conn
            .query_one(
                concat!(
                    "WITH up AS (INSERT INTO rzset AS t (key_id, h, member, score)
                       SELECT $1, u.h, u.m, u.s FROM unnest($2::int8[], $3::bytea[], $4::float8[]) AS u(h, m, s)
                       ON CONFLICT (key_id, h, member) DO UPDATE SET score = EXCLUDED.score WHERE t.score IS DISTINCT FROM EXCLUDED.score
                       RETURNING (t.xmax = 0) AS added),
                     n AS (SELECT count(*) FILTER (WHERE added) AS d FROM up)",
                    touch!("(SELECT d FROM n)", "true"),
                    "SELECT d FROM n"
                ),
                &[&id, &hs, &ms, &ss],
            )?
            .try_get(0)?)
    }

    fn zset_count_span(&mut self, id: i64, span: Span) -> StoreResult<u64> {
        let (limit, offset): (Option<i64>, i64) = (None, 0);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id, &limit, &offset];
        params.extend(span_params(&span));
        let n: i64 = self.conn.query_one(statements(&span).count, &params)?.try_get(0)?;
        Ok(n as u64)
    }

    fn zset_walk(&mut self, id: i64, span: Span, query: &ZQuery, take: bool) -> StoreResult<Vec<(Bytes, f64)>> {
        let sql = statements(&span);
        let sql = match (take, query.rev) {
            (false, false) => sql.asc,
            (false, true) => sql.desc,
            (true, false) => sql.take_asc,
            (true, true) => sql.take_desc,
        };
        let limit = query.limit.map(sql_count);
        let offset = sql_count(query.offset);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id, &limit, &offset];
        params.extend(span_params(&span));
        let rows = self.conn.query(sql, &params)?;
        items(&rows)
    }

    fn zset_score_range(&mut self, id: i64) -> StoreResult<Option<(f64, f64)>> {
        let r = self
            .conn
            .query_one("SELECT min(score), max(score) FROM rzset WHERE key_id = $1", &[&id])?;
        let (lo, hi): (Option<f64>, Option<f64>) = (r.try_get(0)?, r.try_get(1)?);
        Ok(lo.zip(hi))
    }

    fn zset_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, f64))>> {
        let rows = self.conn.query(
            "SELECT h, member, score FROM rzset WHERE key_id = $1 AND h >= $2 ORDER BY h, member LIMIT $3",
            &[&id, &from, &limit],
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, (bytes_at(r, 1)?, r.try_get(2)?))))
            .collect()
    }

    fn zset_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, f64)>) -> StoreResult<()> {
        let run = self.conn.query(
            "SELECT member, score FROM rzset WHERE key_id = $1 AND h = $2 AND member > $3 ORDER BY member",
            &[&id, &h, &after],
        )?;
        for r in &run {
            page.push(item(r)?);
        }
        Ok(())
    }
}
