//! [`StreamStore`] on SQLite (tables `rstream`, `rstream_meta`,
//! `rstream_group`, `rstream_consumer`, `rstream_pending`, see schema.sql).
//!
//! Entries are addressed by their primary key `(key_id, ms, seq)`: XADD is
//! one insert, XRANGE a seek and a walk, trimming one DELETE of the first n.

use super::SqliteStore;
use crate::store::{
    PendingSummary, StoreResult, StreamConsumer, StreamEntry, StreamGroup, StreamId, StreamMeta, StreamPending,
    StreamStore, decode_fields, encode_fields, sql_count,
};
use bytes::Bytes;
use rusqlite::{OptionalExtension, Row, params};

fn blob(r: &Row, i: usize) -> rusqlite::Result<Bytes> {
    Ok(Bytes::from(r.get::<_, Vec<u8>>(i)?))
}

fn id_at(r: &Row, i: usize) -> rusqlite::Result<StreamId> {
    Ok(StreamId::from_sql(r.get(i)?, r.get(i + 1)?))
}

fn entry(r: &Row) -> rusqlite::Result<StreamEntry> {
    Ok(StreamEntry {
        id: id_at(r, 0)?,
        fields: decode_fields(&r.get::<_, Vec<u8>>(2)?),
    })
}

fn pending(r: &Row) -> rusqlite::Result<StreamPending> {
    Ok(StreamPending {
        id: id_at(r, 0)?,
        consumer: blob(r, 2)?,
        delivered: r.get(3)?,
        count: r.get::<_, i64>(4)? as u64,
    })
}

fn group(r: &Row) -> rusqlite::Result<StreamGroup> {
    Ok(StreamGroup {
        name: blob(r, 0)?,
        last: id_at(r, 1)?,
        entries_read: r.get(3)?,
    })
}

fn consumer(r: &Row) -> rusqlite::Result<StreamConsumer> {
    Ok(StreamConsumer {
        name: blob(r, 0)?,
        seen: r.get(1)?,
        pending: r.get::<_, i64>(2)? as u64,
    })
}

impl SqliteStore<'_> {
    /// COPY of a stream: every row of `from` under key id `to`.
    pub(super) fn stream_copy(&self, from: i64, to: i64) -> StoreResult<()> {
        for sql in [
            "INSERT INTO rstream (key_id, ms, seq, fields) SELECT ?2, ms, seq, fields FROM rstream WHERE key_id=?1",
            "INSERT INTO rstream_meta (key_id, last_ms, last_seq, added, maxdel_ms, maxdel_seq)
             SELECT ?2, last_ms, last_seq, added, maxdel_ms, maxdel_seq FROM rstream_meta WHERE key_id=?1",
            "INSERT INTO rstream_group (key_id, name, last_ms, last_seq, entries_read)
             SELECT ?2, name, last_ms, last_seq, entries_read FROM rstream_group WHERE key_id=?1",
            // The consumers first, with no pending count: the pending rows count themselves in.
            "INSERT INTO rstream_consumer (key_id, grp, name, seen)
             SELECT ?2, grp, name, seen FROM rstream_consumer WHERE key_id=?1",
            "INSERT INTO rstream_pending (key_id, grp, ms, seq, consumer, delivered, count)
             SELECT ?2, grp, ms, seq, consumer, delivered, count FROM rstream_pending WHERE key_id=?1",
        ] {
            self.conn.cached(sql)?.execute([from, to])?;
        }
        Ok(())
    }
}

impl StreamStore for SqliteStore<'_> {
    fn stream_meta(&mut self, key: i64) -> StoreResult<StreamMeta> {
        let mut st = self
            .conn
            .cached("SELECT last_ms, last_seq, added, maxdel_ms, maxdel_seq FROM rstream_meta WHERE key_id=?1")?;
        Ok(st
            .query_row([key], |r| {
                Ok(StreamMeta {
                    last: id_at(r, 0)?,
                    added: r.get::<_, i64>(2)? as u64,
                    max_deleted: id_at(r, 3)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    fn stream_set_meta(&mut self, key: i64, m: &StreamMeta) -> StoreResult<()> {
        let (lm, ls) = m.last.sql();
        let (dm, ds) = m.max_deleted.sql();
        self.conn
            .cached(
                "INSERT OR REPLACE INTO rstream_meta (key_id, last_ms, last_seq, added, maxdel_ms, maxdel_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![key, lm, ls, m.added as i64, dm, ds])?;
        Ok(())
    }

    fn stream_touch(&mut self, key: i64, delta: i64) -> StoreResult<()> {
        let version = self.next_version();
        self.conn
            .cached("UPDATE rkey SET len=len+?1, version=?2 WHERE id=?3")?
            .execute(params![delta, version, key])?;
        Ok(())
    }

    fn stream_add(&mut self, key: i64, id: StreamId, fields: &[Bytes]) -> StoreResult<()> {
        let (ms, seq) = id.sql();
        self.conn
            .cached("INSERT INTO rstream (key_id, ms, seq, fields) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![key, ms, seq, encode_fields(fields)])?;
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
        let limit = if limit == 0 { -1 } else { sql_count(limit) };
        let mut st = self.conn.cached(if rev {
            "SELECT ms, seq, fields FROM rstream WHERE key_id=?1 AND (ms, seq) >= (?2, ?3) AND (ms, seq) <= (?4, ?5)
             ORDER BY ms DESC, seq DESC LIMIT ?6"
        } else {
            "SELECT ms, seq, fields FROM rstream WHERE key_id=?1 AND (ms, seq) >= (?2, ?3) AND (ms, seq) <= (?4, ?5)
             ORDER BY ms, seq LIMIT ?6"
        })?;
        let rows = st.query_map(params![key, sm, ss, em, es, limit], entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn stream_get(&mut self, key: i64, ids: &[StreamId]) -> StoreResult<Vec<Option<StreamEntry>>> {
        let mut st = self
            .conn
            .cached("SELECT ms, seq, fields FROM rstream WHERE key_id=?1 AND ms=?2 AND seq=?3")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (ms, seq) = id.sql();
            out.push(st.query_row(params![key, ms, seq], entry).optional()?);
        }
        Ok(out)
    }

    fn stream_delete(&mut self, key: i64, ids: &[StreamId]) -> StoreResult<u64> {
        let mut st = self
            .conn
            .cached("DELETE FROM rstream WHERE key_id=?1 AND ms=?2 AND seq=?3")?;
        let mut n = 0;
        for id in ids {
            let (ms, seq) = id.sql();
            n += st.execute(params![key, ms, seq])? as u64;
        }
        Ok(n)
    }

    fn stream_delete_first(&mut self, key: i64, n: u64) -> StoreResult<u64> {
        if n == 0 {
            return Ok(0);
        }
        let mut st = self.conn.cached(
            "DELETE FROM rstream WHERE key_id=?1 AND (ms, seq) IN
             (SELECT ms, seq FROM rstream WHERE key_id=?1 ORDER BY ms, seq LIMIT ?2)",
        )?;
        Ok(st.execute(params![key, sql_count(n)])? as u64)
    }

    fn stream_count_below(&mut self, key: i64, id: StreamId) -> StoreResult<u64> {
        let (ms, seq) = id.sql();
        let mut st = self
            .conn
            .cached("SELECT count(*) FROM rstream WHERE key_id=?1 AND (ms, seq) < (?2, ?3)")?;
        Ok(st.query_row(params![key, ms, seq], |r| r.get::<_, i64>(0))? as u64)
    }

    fn stream_groups(&mut self, key: i64) -> StoreResult<Vec<StreamGroup>> {
        let mut st = self
            .conn
            .cached("SELECT name, last_ms, last_seq, entries_read FROM rstream_group WHERE key_id=?1 ORDER BY name")?;
        let rows = st.query_map([key], group)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn stream_group(&mut self, key: i64, name: &[u8]) -> StoreResult<Option<StreamGroup>> {
        let mut st = self
            .conn
            .cached("SELECT name, last_ms, last_seq, entries_read FROM rstream_group WHERE key_id=?1 AND name=?2")?;
        Ok(st.query_row(params![key, name], group).optional()?)
    }

    fn stream_set_group(&mut self, key: i64, g: &StreamGroup) -> StoreResult<()> {
        let (lm, ls) = g.last.sql();
        self.conn
            .cached(
                "INSERT OR REPLACE INTO rstream_group (key_id, name, last_ms, last_seq, entries_read)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![key, &g.name[..], lm, ls, g.entries_read])?;
        Ok(())
    }

    fn stream_delete_group(&mut self, key: i64, name: &[u8]) -> StoreResult<bool> {
        let n = self
            .conn
            .cached("DELETE FROM rstream_group WHERE key_id=?1 AND name=?2")?
            .execute(params![key, name])?;
        self.conn
            .cached("DELETE FROM rstream_consumer WHERE key_id=?1 AND grp=?2")?
            .execute(params![key, name])?;
        self.conn
            .cached("DELETE FROM rstream_pending WHERE key_id=?1 AND grp=?2")?
            .execute(params![key, name])?;
        Ok(n > 0)
    }

    fn stream_consumers(&mut self, key: i64, grp: &[u8]) -> StoreResult<Vec<StreamConsumer>> {
        let mut st = self
            .conn
            .cached("SELECT name, seen, pending FROM rstream_consumer WHERE key_id=?1 AND grp=?2 ORDER BY name")?;
        let rows = st.query_map(params![key, grp], consumer)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn stream_consumer(&mut self, key: i64, grp: &[u8], name: &[u8]) -> StoreResult<Option<StreamConsumer>> {
        let mut st = self
            .conn
            .cached("SELECT name, seen, pending FROM rstream_consumer WHERE key_id=?1 AND grp=?2 AND name=?3")?;
        Ok(st.query_row(params![key, grp, name], consumer).optional()?)
    }

    fn stream_set_consumer(&mut self, key: i64, grp: &[u8], c: &StreamConsumer) -> StoreResult<()> {
        self.conn
            .cached(
                "INSERT INTO rstream_consumer (key_id, grp, name, seen) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key_id, grp, name) DO UPDATE SET seen=excluded.seen",
            )?
            .execute(params![key, grp, &c.name[..], c.seen])?;
        Ok(())
    }

    fn stream_delete_consumer(&mut self, key: i64, grp: &[u8], name: &[u8]) -> StoreResult<Option<u64>> {
        let n = self
            .conn
            .cached("DELETE FROM rstream_consumer WHERE key_id=?1 AND grp=?2 AND name=?3")?
            .execute(params![key, grp, name])?;
        if n == 0 {
            return Ok(None);
        }
        let pending = self
            .conn
            .cached("DELETE FROM rstream_pending WHERE key_id=?1 AND grp=?2 AND consumer=?3")?
            .execute(params![key, grp, name])?;
        Ok(Some(pending as u64))
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
        let limit = if limit == 0 { -1 } else { sql_count(limit) };
        let mut st = self.conn.cached(
            "SELECT ms, seq, consumer, delivered, count FROM rstream_pending
             WHERE key_id=?1 AND grp=?2 AND (ms, seq) >= (?3, ?4) AND (ms, seq) <= (?5, ?6)
               AND (?7 IS NULL OR consumer=?7) AND (?8 IS NULL OR delivered<=?8)
             ORDER BY ms, seq LIMIT ?9",
        )?;
        let rows = st.query_map(
            params![key, grp, sm, ss, em, es, consumer, delivered_before, limit],
            pending,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn stream_pending_get(
        &mut self,
        key: i64,
        grp: &[u8],
        ids: &[StreamId],
    ) -> StoreResult<Vec<Option<StreamPending>>> {
        let mut st = self.conn.cached(
            "SELECT ms, seq, consumer, delivered, count FROM rstream_pending
             WHERE key_id=?1 AND grp=?2 AND ms=?3 AND seq=?4",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (ms, seq) = id.sql();
            out.push(st.query_row(params![key, grp, ms, seq], pending).optional()?);
        }
        Ok(out)
    }

    fn stream_set_pending(&mut self, key: i64, grp: &[u8], entries: &[StreamPending]) -> StoreResult<()> {
        let mut st = self.conn.cached(
            "INSERT INTO rstream_pending (key_id, grp, ms, seq, consumer, delivered, count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (key_id, grp, ms, seq) DO UPDATE SET consumer=excluded.consumer,
               delivered=excluded.delivered, count=excluded.count",
        )?;
        for p in entries {
            let (ms, seq) = p.id.sql();
            st.execute(params![key, grp, ms, seq, &p.consumer[..], p.delivered, p.count as i64])?;
        }
        Ok(())
    }

    fn stream_delete_pending(&mut self, key: i64, grp: &[u8], ids: &[StreamId]) -> StoreResult<u64> {
        let mut st = self
            .conn
            .cached("DELETE FROM rstream_pending WHERE key_id=?1 AND grp=?2 AND ms=?3 AND seq=?4")?;
        let mut n = 0;
        for id in ids {
            let (ms, seq) = id.sql();
            n += st.execute(params![key, grp, ms, seq])? as u64;
        }
        Ok(n)
    }

    fn stream_pending_summary(&mut self, key: i64, grp: &[u8]) -> StoreResult<PendingSummary> {
        let per: Vec<(Bytes, u64)> = {
            let mut st = self.conn.cached(
                "SELECT name, pending FROM rstream_consumer WHERE key_id=?1 AND grp=?2 AND pending>0 ORDER BY name",
            )?;
            let rows = st.query_map(params![key, grp], |r| Ok((blob(r, 0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect::<Result<_, _>>()?
        };
        let total = per.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return Ok((0, None, per));
        }
        let edge = |sql: &'static str| -> StoreResult<StreamId> {
            let mut st = self.conn.cached(sql)?;
            Ok(st.query_row(params![key, grp], |r| id_at(r, 0))?)
        };
        let first = edge("SELECT ms, seq FROM rstream_pending WHERE key_id=?1 AND grp=?2 ORDER BY ms, seq LIMIT 1")?;
        let last =
            edge("SELECT ms, seq FROM rstream_pending WHERE key_id=?1 AND grp=?2 ORDER BY ms DESC, seq DESC LIMIT 1")?;
        Ok((total, Some((first, last)), per))
    }
}
