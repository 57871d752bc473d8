//! Storage operations for streams (see the conventions on [`super::Store`],
//! except one: a stream emptied by XDEL or XTRIM keeps its key, as in Redis;
//! only DEL, expiry and overwrites delete it).
//!
//! A stream is its entries, rows `(key id, ms, seq)` with their fields, its
//! metadata (last id, entries added, max deleted id: one row per stream),
//! and its consumer groups, their consumers and their pending entries (the
//! PEL), each in a table of its own (schema.sql, docs/schema.md). These
//! methods are row access only: what the commands decide (ids, trimming,
//! `entries-read` accounting) is in `commands::streams`, written once.
//!
//! Ids are 128-bit (two `u64`); SQL integers are signed, so a `u64` is
//! stored with its top bit flipped ([`to_sql`]), which keeps the order.

use super::StoreResult;
use bytes::Bytes;

/// A stream entry id, `ms-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next id, or `None` past the last possible one.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }

    /// The previous id, or `None` before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_sub(1).map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// Parses `ms-seq` (as replies write ids).
    pub fn parse(text: &[u8]) -> Option<StreamId> {
        let text = std::str::from_utf8(text).ok()?;
        let (ms, seq) = text.split_once('-')?;
        Some(StreamId::new(ms.parse().ok()?, seq.parse().ok()?))
    }

    /// The id as `ms-seq`.
    pub fn text(self) -> Bytes {
        Bytes::from(format!("{}-{}", self.ms, self.seq))
    }

    /// The id as two SQL integers (order-preserving).
    pub fn sql(self) -> (i64, i64) {
        (to_sql(self.ms), to_sql(self.seq))
    }

    /// The id from its two SQL integers.
    pub fn from_sql(ms: i64, seq: i64) -> StreamId {
        StreamId {
            ms: from_sql(ms),
            seq: from_sql(seq),
        }
    }
}

/// A `u64` as an order-preserving `i64` (top bit flipped): 0 is `i64::MIN`.
pub fn to_sql(n: u64) -> i64 {
    (n ^ (1 << 63)) as i64
}

/// The inverse of [`to_sql`].
pub fn from_sql(n: i64) -> u64 {
    (n as u64) ^ (1 << 63)
}

/// A stream's own counters (Redis's `stream` struct but for the entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamMeta {
    /// The last id ever added (or set by XSETID).
    pub last: StreamId,
    /// How many entries were ever added (`entries-added`).
    pub added: u64,
    /// The largest id deleted by XDEL (`max-deleted-entry-id`).
    pub max_deleted: StreamId,
}

/// One entry: its id and its fields and values, alternating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    pub id: StreamId,
    pub fields: Vec<Bytes>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamGroup {
    pub name: Bytes,
    /// The last id delivered to the group's consumers.
    pub last: StreamId,
    /// The group's logical read counter; `-1` when unknown.
    pub entries_read: i64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConsumer {
    pub name: Bytes,
    /// Last time it was seen (read or claimed), Unix ms.
    pub seen: i64,
    /// How many pending entries it holds.
    pub pending: u64,
}

/// A pending entry: delivered to a consumer and not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPending {
    pub id: StreamId,
    pub consumer: Bytes,
    /// Last delivery time, Unix ms.
    pub delivered: i64,
    pub count: u64,
}

/// XPENDING's summary of a group: how many entries are pending, the
/// smallest and largest of their ids (none when there are none), and per
/// consumer with pending entries (by name) its count.
pub type PendingSummary = (u64, Option<(StreamId, StreamId)>, Vec<(Bytes, u64)>);

/// Operations on streams, addressed by key id.
pub trait StreamStore {
    /// The stream's counters (all zero for a stream without a row).
    fn stream_meta(&mut self, key: i64) -> StoreResult<StreamMeta>;

    /// Writes the stream's counters.
    fn stream_set_meta(&mut self, key: i64, meta: &StreamMeta) -> StoreResult<()>;

    /// Records a change of `delta` entries in the key's length and gives it a
    /// new version; never deletes the key (an empty stream stays).
    fn stream_touch(&mut self, key: i64, delta: i64) -> StoreResult<()>;

    /// Adds an entry (the caller checked that `id` is new). O(log n).
    fn stream_add(&mut self, key: i64, id: StreamId, fields: &[Bytes]) -> StoreResult<()>;

    /// Entries with ids in `[start, end]`, ascending (descending if `rev`),
    /// at most `limit` of them (0: all). O(log n + returned).
    fn stream_range(
        &mut self,
        key: i64,
        start: StreamId,
        end: StreamId,
        rev: bool,
        limit: u64,
    ) -> StoreResult<Vec<StreamEntry>>;

    /// The entries with these ids that exist, in the order given.
    fn stream_get(&mut self, key: i64, ids: &[StreamId]) -> StoreResult<Vec<Option<StreamEntry>>>;

    /// Deletes the entries with these ids; returns how many existed.
    fn stream_delete(&mut self, key: i64, ids: &[StreamId]) -> StoreResult<u64>;

    /// Deletes the first `n` entries (oldest first); returns how many went.
    /// One statement.
    fn stream_delete_first(&mut self, key: i64, n: u64) -> StoreResult<u64>;

    /// How many entries have ids below `id`. O(entries counted).
    fn stream_count_below(&mut self, key: i64, id: StreamId) -> StoreResult<u64>;

    // ---- consumer groups ----

    /// Every group, by name.
    fn stream_groups(&mut self, key: i64) -> StoreResult<Vec<StreamGroup>>;

    fn stream_group(&mut self, key: i64, name: &[u8]) -> StoreResult<Option<StreamGroup>>;

    /// Creates or updates a group.
    fn stream_set_group(&mut self, key: i64, group: &StreamGroup) -> StoreResult<()>;

    /// Deletes a group with its consumers and pending entries; false if there was none.
    fn stream_delete_group(&mut self, key: i64, name: &[u8]) -> StoreResult<bool>;

    /// A group's consumers, by name, with their pending counts.
    fn stream_consumers(&mut self, key: i64, group: &[u8]) -> StoreResult<Vec<StreamConsumer>>;

    fn stream_consumer(&mut self, key: i64, group: &[u8], name: &[u8]) -> StoreResult<Option<StreamConsumer>>;

    /// Creates a consumer or updates its seen time (its `pending` is ignored).
    fn stream_set_consumer(&mut self, key: i64, group: &[u8], consumer: &StreamConsumer) -> StoreResult<()>;

    /// Deletes a consumer and its pending entries; returns how many it had
    /// (`None`: no such consumer).
    fn stream_delete_consumer(&mut self, key: i64, group: &[u8], name: &[u8]) -> StoreResult<Option<u64>>;

    /// The group's pending entries with ids in `[start, end]`, ascending,
    /// optionally only one consumer's and only those delivered at or before
    /// `delivered_before`, at most `limit` (0: all).
    #[allow(clippy::too_many_arguments)]
    fn stream_pending(
        &mut self,
        key: i64,
        group: &[u8],
        consumer: Option<&[u8]>,
        start: StreamId,
        end: StreamId,
        delivered_before: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<StreamPending>>;

    /// The pending entries with these ids that exist, in the order given.
    fn stream_pending_get(
        &mut self,
        key: i64,
        group: &[u8],
        ids: &[StreamId],
    ) -> StoreResult<Vec<Option<StreamPending>>>;

    /// Creates or replaces pending entries.
    fn stream_set_pending(&mut self, key: i64, group: &[u8], entries: &[StreamPending]) -> StoreResult<()>;

    /// Deletes pending entries; returns how many existed.
    fn stream_delete_pending(&mut self, key: i64, group: &[u8], ids: &[StreamId]) -> StoreResult<u64>;

    /// XPENDING's summary: the count, the smallest and largest ids, and
    /// per consumer (by name) its count. Reads the group's index, not its entries.
    fn stream_pending_summary(&mut self, key: i64, group: &[u8]) -> StoreResult<PendingSummary>;
}

/// Entry fields as one value: each field and value as a 4-byte big-endian
/// length and its bytes (SQLite's `rstream.fields`).
pub(crate) fn encode_fields(fields: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 4).sum());
    for f in fields {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// The inverse of [`encode_fields`].
pub(crate) fn decode_fields(mut raw: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    while raw.len() >= 4 {
        let n = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        let end = (4 + n).min(raw.len());
        out.push(Bytes::copy_from_slice(&raw[4..end]));
        raw = &raw[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_ids_keep_their_order() {
        let ids = [0u64, 1, 5, 1 << 62, (1 << 63) - 1, 1 << 63, u64::MAX - 1, u64::MAX];
        for w in ids.windows(2) {
            assert!(to_sql(w[0]) < to_sql(w[1]));
        }
        for n in ids {
            assert_eq!(from_sql(to_sql(n)), n);
        }
    }

    #[test]
    fn fields_round_trip() {
        let f = vec![Bytes::from("a"), Bytes::new(), Bytes::from(vec![0u8; 300])];
        assert_eq!(decode_fields(&encode_fields(&f)), f);
    }

    #[test]
    fn ids_step() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
    }
}
