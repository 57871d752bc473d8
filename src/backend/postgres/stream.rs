//! [`StreamStore`] on PostgreSQL (tables `rstream`, `rstream_meta`,
//! `rstream_group`, `rstream_consumer`, `rstream_pending`, see stream.sql).
//!
//! Entries are addressed by their primary key `(key_id, ms, seq)`: XADD is
//! one insert, XRANGE a seek and a walk, trimming one DELETE of the first n.
//! Multi-id operations send the ids as arrays: one statement each.

use super::PgStore;
use super::coll::bytes_at;
use crate::store::{
    PendingSummary, StoreResult, StreamConsumer, StreamEntry, StreamGroup, StreamId, StreamMeta, StreamPending,
    StreamStore, sql_count,
};
use bytes::Bytes;
use postgres::Row;

type PgResult<T> = Result<T, postgres::Error>;

fn id_at(r: &Row, i: usize) -> PgResult<StreamId> {
    Ok(StreamId::from_sql(r.try_get(i)?, r.try_get(i + 1)?))
}

fn entry(r: &Row) -> PgResult<StreamEntry> {
    let fields: Vec<Vec<u8>> = r.try_get(2)?;
    Ok(StreamEntry {
        id: id_at(r, 0)?,
        fields: fields.into_iter().map(Bytes::from).collect(),
    })
}

fn pending(r: &Row) -> PgResult<StreamPending> {
    Ok(StreamPending {
        id: id_at(r, 0)?,
        consumer: bytes_at(r, 2)?,
        delivered: r.try_get(3)?,
        count: r.try_get::<_, i64>(4)? as u64,
    })
}

fn group(r: &Row) -> PgResult<StreamGroup> {
    Ok(StreamGroup {
        name: bytes_at(r, 0)?,
        last: id_at(r, 1)?,
        entries_read: r.try_get(3)?,
    })
}

fn consumer(r: &Row) -> PgResult<StreamConsumer> {
    Ok(StreamConsumer {
        name: bytes_at(r, 0)?,
        seen: r.try_get(1)?,
        pending: r.try_get::<_, i64>(2)? as u64,
    })
}

/// Ids as the parallel array parameters `(ms, seq)`.
fn id_arrays(ids: &[StreamId]) -> (Vec<i64>, Vec<i64>) {
    ids.iter().map(|id| id.sql()).unzip()
}

/// The rows found for `ids` (by their first two columns), in the order of `ids`.
fn in_order<T>(ids: &[StreamId], rows: &[Row], f: fn(&Row) -> PgResult<T>) -> StoreResult<Vec<Option<T>>> {
    let mut found = std::collections::HashMap::new();
    for r in rows {
        found.insert(id_at(r, 0)?, r);
    }
    ids.iter()
        .map(|id| found.get(id).map(|r| f(r)).transpose().map_err(Into::into))
        .collect()
}

/// A LIMIT parameter: 0 means none.
fn limit_of(limit: u64) -> Option<i64> {
    (limit > 0).then(|| sql_count(limit))
}

impl StreamStore for PgStore<'_> {
    fn stream_meta(&mut self, key: i64) -> StoreResult<StreamMeta> {
        let row = self.conn.query_opt(
            "SELECT last_ms, last_seq, added, maxdel_ms, maxdel_seq FROM rstream_meta WHERE key_id = $1",
            &[&key],
        )?;
        Ok(match row {
            None => StreamMeta::default(),
            Some(r) => StreamMeta {
                last: id_at(&r, 0)?,
                added: r.try_get::<_, i64>(2)? as u64,
                max_deleted: id_at(&r, 3)?,
            },
        })
    }

    fn stream_set_meta(&mut self, key: i64, m: &StreamMeta) -> StoreResult<()> {
        let (lm, ls) = m.last.sql();
        let (dm, ds) = m.max_deleted.sql();
        self.conn.execute(
            "INSERT INTO rstream_meta (key_id, last_ms, last_seq, added, maxdel_ms, maxdel_seq)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key_id) DO UPDATE SET last_ms = EXCLUDED.last_ms, last_seq = EXCLUDED.last_seq,
               added = EXCLUDED.added, maxdel_ms = EXCLUDED.maxdel_ms, maxdel_seq = EXCLUDED.maxdel_seq",
            &[&key, &lm, &ls, &(m.added as i64), &dm, &ds],
        )?;
        Ok(())
    }

    fn stream_touch(&mut self, key: i64, delta: i64) -> StoreResult<()> {
        self.conn.execute(
            "UPDATE rkey SET len = len + $2, version = nextval('rkey_version') WHERE id = $1",
            &[&key, &delta],
        )?;
        Ok(())
    }

    fn stream_add(&mut self, key: i64, id: StreamId, fields: &[Bytes]) -> StoreResult<()> {
        let (ms, seq) = id.sql();
        let fs: Vec<&[u8]> = fields.iter().map(|f| &f[..]).collect();
        self.conn.execute(
            "INSERT INTO rstream (key_id, ms, seq, fields) VALUES ($1, $2, $3, $4)",
            &[&key, &ms, &seq, &fs],
        )?;
        Ok(())
    }

    fn stream_range(
        &mut self,
        key: i64,
        start: StreamId,
        end: StreamId,
        rev: bool,
        limit: u64,
    ) -> StoreResult<Vec<StreamEntry>> {
        let (sm, ss) = start.sql();
        let (em, es) = end.sql();
        let params: [&(dyn postgres::types::ToSql + Sync); 6] = [&key, &sm, &ss, &em, &es, &limit_of(limit)];
        let rows = self.conn.query(
            if rev {
                "SELECT ms, seq, fields FROM rstream WHERE key_id = $1 AND (ms, seq) >= ($2, $3) AND (ms, seq) <= ($4, $5)
                 ORDER BY ms DESC, seq DESC LIMIT $6"
            } else {
                "SELECT ms, seq, fields FROM rstream WHERE key_id = $1 AND (ms, seq) >= ($2, $3) AND (ms, seq) <= ($4, $5)
                 ORDER BY ms, seq LIMIT $6"
            },
            &params,
        )?;
        Ok(rows.iter().map(entry).collect::<Result<_, _>>()?)
    }

    fn stream_get(&mut self, key: i64, ids: &[StreamId]) -> StoreResult<Vec<Option<StreamEntry>>> {
        let (ms, seq) = id_arrays(ids);
        let rows = self.conn.query(
            "SELECT e.ms, e.seq, e.fields FROM unnest($2::int8[], $3::int8[]) AS u(ms, seq)
             JOIN rstream e ON e.key_id = $1 AND e.ms = u.ms AND e.seq = u.seq",
            &[&key, &ms, &seq],
        )?;
        in_order(ids, &rows, entry)
    }

    fn stream_delete(&mut self, key: i64, ids: &[StreamId]) -> StoreResult<u64> {
        let (ms, seq) = id_arrays(ids);
        self.conn.execute(
            "DELETE FROM rstream e USING (SELECT DISTINCT * FROM unnest($2::int8[], $3::int8[])) AS u(ms, seq)
             WHERE e.key_id = $1 AND e.ms = u.ms AND e.seq = u.seq",
            &[&key, &ms, &seq],
        )
    }

    fn stream_delete_first(&mut self, key: i64, n: u64) -> StoreResult<u64> {
        if n == 0 {
            return Ok(0);
        }
        self.conn.execute(
            "DELETE FROM rstream WHERE key_id = $1 AND (ms, seq) IN
             (SELECT ms, seq FROM rstream WHERE key_id = $1 ORDER BY ms, seq LIMIT $2)",
            &[&key, &sql_count(n)],
        )
    }

    fn stream_count_below(&mut self, key: i64, id: StreamId) -> StoreResult<u64> {
        let (ms, seq) = id.sql();
        let n: i64 = self
            .conn
            .query_one(
                "SELECT count(*) FROM rstream WHERE key_id = $1 AND (ms, seq) < ($2, $3)",
                &[&key, &ms, &seq],
            )?
            .try_get(0)?;
        Ok(n as u64)
    }

    fn stream_groups(&mut self, key: i64) -> StoreResult<Vec<StreamGroup>> {
        let rows = self.conn.query(
            "SELECT name, last_ms, last_seq, entries_read FROM rstream_group WHERE key_id = $1 ORDER BY name",
            &[&key],
        )?;
        Ok(rows.iter().map(group).collect::<Result<_, _>>()?)
    }

    fn stream_group(&mut self, key: i64, name: &[u8]) -> StoreResult<Option<StreamGroup>> {
        let row = self.conn.query_opt(
            "SELECT name, last_ms, last_seq, entries_read FROM rstream_group WHERE key_id = $1 AND name = $2",
            &[&key, &name],
        )?;
        Ok(row.map(|r| group(&r)).transpose()?)
    }

    fn stream_set_group(&mut self, key: i64, g: &StreamGroup) -> StoreResult<()> {
        let (lm, ls) = g.last.sql();
        self.conn.execute(
            "INSERT INTO rstream_group (key_id, name, last_ms, last_seq, entries_read) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (key_id, name) DO UPDATE SET last_ms = EXCLUDED.last_ms, last_seq = EXCLUDED.last_seq,
               entries_read = EXCLUDED.entries_read",
            &[&key, &&g.name[..], &lm, &ls, &g.entries_read],
        )?;
        Ok(())
    }

    fn stream_delete_group(&mut self, key: i64, name: &[u8]) -> StoreResult<bool> {
        let n: i64 = self
            .conn
            .query_one(
                "WITH c AS (DELETE FROM rstream_consumer WHERE key_id = $1 AND grp = $2),
                      p AS (DELETE FROM rstream_pending WHERE key_id = $1 AND grp = $2),
                      g AS (DELETE FROM rstream_group WHERE key_id = $1 AND name = $2 RETURNING 1)
                 SELECT count(*) FROM g",
                &[&key, &name],
            )?
            .try_get(0)?;
        Ok(n > 0)
    }

    fn stream_consumers(&mut self, key: i64, grp: &[u8]) -> StoreResult<Vec<StreamConsumer>> {
        let rows = self.conn.query(
            "SELECT name, seen, pending FROM rstream_consumer WHERE key_id = $1 AND grp = $2 ORDER BY name",
            &[&key, &grp],
        )?;
        Ok(rows.iter().map(consumer).collect::<Result<_, _>>()?)
    }

    fn stream_consumer(&mut self, key: i64, grp: &[u8], name: &[u8]) -> StoreResult<Option<StreamConsumer>> {
        let row = self.conn.query_opt(
            "SELECT name, seen, pending FROM rstream_consumer WHERE key_id = $1 AND grp = $2 AND name = $3",
            &[&key, &grp, &name],
        )?;
        Ok(row.map(|r| consumer(&r)).transpose()?)
    }

    fn stream_set_consumer(&mut self, key: i64, grp: &[u8], c: &StreamConsumer) -> StoreResult<()> {
        self.conn.execute(
            "INSERT INTO rstream_consumer (key_id, grp, name, seen) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key_id, grp, name) DO UPDATE SET seen = EXCLUDED.seen",
            &[&key, &grp, &&c.name[..], &c.seen],
        )?;
        Ok(())
    }

    fn stream_delete_consumer(&mut self, key: i64, grp: &[u8], name: &[u8]) -> StoreResult<Option<u64>> {
        let row = self.conn.query_one(
            "WITH c AS (DELETE FROM rstream_consumer WHERE key_id = $1 AND grp = $2 AND name = $3 RETURNING 1),
                  p AS (DELETE FROM rstream_pending WHERE key_id = $1 AND grp = $2 AND consumer = $3
                        AND EXISTS (SELECT 1 FROM c) RETURNING 1)
             SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM p)",
            &[&key, &grp, &name],
        )?;
        let found: i64 = row.try_get(0)?;
        let pending: i64 = row.try_get(1)?;
        Ok((found > 0).then_some(pending as u64))
    }

    fn stream_pending(
        &mut self,
        key: i64,
        grp: &[u8],
        consumer: Option<&[u8]>,
        start: StreamId,
        end: StreamId,
        delivered_before: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<StreamPending>> {
        let (sm, ss) = start.sql();
        let (em, es) = end.sql();
        let rows = self.conn.query(
            "SELECT ms, seq, consumer, delivered, count FROM rstream_pending
             WHERE key_id = $1 AND grp = $2 AND (ms, seq) >= ($3, $4) AND (ms, seq) <= ($5, $6)
               AND ($7::bytea IS NULL OR consumer = $7) AND ($8::int8 IS NULL OR delivered <= $8)
             ORDER BY ms, seq LIMIT $9",
            &[
                &key,
                &grp,
                &sm,
                &ss,
                &em,
                &es,
                &consumer,
                &delivered_before,
                &limit_of(limit),
            ],
        )?;
        Ok(rows.iter().map(pending).collect::<Result<_, _>>()?)
    }

    fn stream_pending_get(
        &mut self,
        key: i64,
        grp: &[u8],
        ids: &[StreamId],
    ) -> StoreResult<Vec<Option<StreamPending>>> {
        let (ms, seq) = id_arrays(ids);
        let rows = self.conn.query(
            "SELECT p.ms, p.seq, p.consumer, p.delivered, p.count FROM unnest($3::int8[], $4::int8[]) AS u(ms, seq)
             JOIN rstream_pending p ON p.key_id = $1 AND p.grp = $2 AND p.ms = u.ms AND p.seq = u.seq",
            &[&key, &grp, &ms, &seq],
        )?;
        in_order(ids, &rows, pending)
    }

    fn stream_set_pending(&mut self, key: i64, grp: &[u8], entries: &[StreamPending]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (ms, seq): (Vec<i64>, Vec<i64>) = entries.iter().map(|p| p.id.sql()).unzip();
        let consumers: Vec<&[u8]> = entries.iter().map(|p| &p.consumer[..]).collect();
        let delivered: Vec<i64> = entries.iter().map(|p| p.delivered).collect();
        let counts: Vec<i64> = entries.iter().map(|p| p.count as i64).collect();
        self.conn.execute(
            "INSERT INTO rstream_pending (key_id, grp, ms, seq, consumer, delivered, count)
             SELECT $1, $2, u.ms, u.seq, u.c, u.d, u.n
             FROM unnest($3::int8[], $4::int8[], $5::bytea[], $6::int8[], $7::int8[]) AS u(ms, seq, c, d, n)
             ON CONFLICT (key_id, grp, ms, seq) DO UPDATE SET consumer = EXCLUDED.consumer,
               delivered = EXCLUDED.delivered, count = EXCLUDED.count",
            &[&key, &grp, &ms, &seq, &consumers, &delivered, &counts],
        )?;
        Ok(())
    }

    fn stream_delete_pending(&mut self, key: i64, grp: &[u8], ids: &[StreamId]) -> StoreResult<u64> {
        let (ms, seq) = id_arrays(ids);
        self.conn.execute(
            "DELETE FROM rstream_pending p USING (SELECT DISTINCT * FROM unnest($3::int8[], $4::int8[])) AS u(ms, seq)
             WHERE p.key_id = $1 AND p.grp = $2 AND p.ms = u.ms AND p.seq = u.seq",
            &[&key, &grp, &ms, &seq],
        )
    }

    fn stream_pending_summary(&mut self, key: i64, grp: &[u8]) -> StoreResult<PendingSummary> {
        let rows = self.conn.query(
            "SELECT name, pending FROM rstream_consumer WHERE key_id = $1 AND grp = $2 AND pending > 0
             ORDER BY name",
            &[&key, &grp],
        )?;
        let per: Vec<(Bytes, u64)> = rows
            .iter()
            .map(|r| Ok((bytes_at(r, 0)?, r.try_get::<_, i64>(1)? as u64)))
            .collect::<PgResult<_>>()?;
        let total = per.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return Ok((0, None, per));
        }
        let r = self.conn.query_one(
            "SELECT f.ms, f.seq, l.ms, l.seq FROM
               (SELECT ms, seq FROM rstream_pending WHERE key_id = $1 AND grp = $2 ORDER BY ms, seq LIMIT 1) f,
               (SELECT ms, seq FROM rstream_pending WHERE key_id = $1 AND grp = $2 ORDER BY ms DESC, seq DESC LIMIT 1) l",
            &[&key, &grp],
        )?;
        Ok((total, Some((id_at(&r, 0)?, id_at(&r, 2)?)), per))
    }
}
