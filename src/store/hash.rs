//! Storage operations for hashes (see the conventions on [`super::Store`]).
//!
//! Fields are addressed by `(key id, member_hash(field), field)`, so point
//! operations are one index seek and HSCAN cursors are field hashes.
//! A backend implements [`HashOps`] and `layout::HashRows`; [`HashStore`]
//! comes from them.

use super::StoreResult;
use bytes::Bytes;

pub(crate) mod layout;

/// Operations on hashes, addressed by key id, that each backend writes with
/// its own statements ([`HashStore`] adds those written once).
pub trait HashOps {
    /// The value of `field`. O(log n).
    fn hash_get(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<Bytes>>;

    /// The values of several fields, in order (HMGET). O(k log n).
    fn hash_get_many(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<Vec<Option<Bytes>>>;

    /// The length of the value of `field` (HSTRLEN, HEXISTS) without reading it. O(log n).
    fn hash_value_len(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<i64>>;

    /// Sets fields in order (a later pair for the same field wins); returns
    /// how many fields were new. O(k log n).
    fn hash_set(&mut self, id: i64, pairs: &[(&[u8], &[u8])]) -> StoreResult<i64>;

    /// Deletes fields; returns how many existed. Deletes the key when it empties. O(k log n).
    fn hash_delete(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<i64>;

    /// Every field and value, in field-hash order. O(n).
    fn hash_all(&mut self, id: i64) -> StoreResult<Vec<(Bytes, Bytes)>>;

    /// Every field, in field-hash order. O(n).
    fn hash_fields(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// Every value, in field-hash order. O(n).
    fn hash_values(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// The largest field or value length, for OBJECT ENCODING's listpack check. O(n).
    fn hash_max_len(&mut self, id: i64) -> StoreResult<i64>;

    /// A random entry: the first at or after a random field hash (wrapping).
    /// O(log n).
    fn hash_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, Bytes)>>;
}

/// Operations on hashes computed on the layout both backends share, written
/// once (`layout.rs`) over a backend's [`HashOps`] and statements.
pub trait HashStore: HashOps {
    /// One HSCAN page: up to about `count` entries whose field hash is at
    /// least `cursor`, in (hash, field) order, never stopping inside a run of
    /// equal hashes, so a field present for a whole scan is returned at least
    /// once. Returns the next cursor (last hash + 1, or 0 when the end was
    /// reached) and the entries. O(log n + count).
    fn hash_scan(&mut self, id: i64, cursor: u64, count: usize) -> StoreResult<(u64, Vec<(Bytes, Bytes)>)>;
}
