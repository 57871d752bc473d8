//! What both hash backends share (table `rhash (key_id, h, field, value)`,
//! see [`hashed`]): HSCAN paging, written once over [`HashRows`], the
//! backend's statements.

use super::HashStore;
use crate::store::{StoreResult, hashed};
use bytes::Bytes;

/// A hash backend: its SQL text and row access. [`HashStore`] comes from it
/// (the blanket implementation below): HSCAN from [`hashed::scan_page`], the
/// other methods, which have the same names here, from the backend's own
/// statements.
pub(crate) trait HashRows {
    /// [`HashStore::hash_get`].
    fn hash_get(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<Bytes>>;

    /// [`HashStore::hash_get_many`].
    fn hash_get_many(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<Vec<Option<Bytes>>>;

    /// [`HashStore::hash_value_len`].
    fn hash_value_len(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<i64>>;

    /// [`HashStore::hash_set`].
    fn hash_set(&mut self, id: i64, pairs: &[(&[u8], &[u8])]) -> StoreResult<i64>;

    /// [`HashStore::hash_delete`].
    fn hash_delete(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<i64>;

    /// [`HashStore::hash_all`].
    fn hash_all(&mut self, id: i64) -> StoreResult<Vec<(Bytes, Bytes)>>;

    /// [`HashStore::hash_fields`].
    fn hash_fields(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// [`HashStore::hash_values`].
    fn hash_values(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// [`HashStore::hash_max_len`].
    fn hash_max_len(&mut self, id: i64) -> StoreResult<i64>;

    /// [`HashStore::hash_random`].
    fn hash_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, Bytes)>>;

    /// Up to `limit` `(h, (field, value))` rows with `h >= from`, in (h,
    /// field) order.
    fn hash_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, Bytes))>>;

    /// Appends to `page` the entries of hash `h` whose field is greater than
    /// `after`, in field order.
    fn hash_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, Bytes)>) -> StoreResult<()>;
}

impl<R: HashRows> HashStore for R {
    fn hash_get(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<Bytes>> {
        HashRows::hash_get(self, id, field)
    }

    fn hash_get_many(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<Vec<Option<Bytes>>> {
        HashRows::hash_get_many(self, id, fields)
    }

    fn hash_value_len(&mut self, id: i64, field: &[u8]) -> StoreResult<Option<i64>> {
        HashRows::hash_value_len(self, id, field)
    }

    fn hash_set(&mut self, id: i64, pairs: &[(&[u8], &[u8])]) -> StoreResult<i64> {
        HashRows::hash_set(self, id, pairs)
    }

    fn hash_delete(&mut self, id: i64, fields: &[Bytes]) -> StoreResult<i64> {
        HashRows::hash_delete(self, id, fields)
    }

    fn hash_all(&mut self, id: i64) -> StoreResult<Vec<(Bytes, Bytes)>> {
        HashRows::hash_all(self, id)
    }

    fn hash_fields(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        HashRows::hash_fields(self, id)
    }

    fn hash_values(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        HashRows::hash_values(self, id)
    }

    fn hash_max_len(&mut self, id: i64) -> StoreResult<i64> {
        HashRows::hash_max_len(self, id)
    }

    fn hash_scan(&mut self, id: i64, cursor: u64, count: usize) -> StoreResult<(u64, Vec<(Bytes, Bytes)>)> {
        hashed::scan_page(
            self,
            cursor,
            count,
            true,
            |s, from, limit| s.hash_scan_rows(id, from, limit),
            |s, h, after, page| s.hash_scan_run(id, h, after, page),
        )
    }

    fn hash_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, Bytes)>> {
        HashRows::hash_random(self, id)
    }
}
