//! [`HashStore`] on PostgreSQL: not written yet. Every operation fails with a
//! clear storage error until it is (the SQLite backend has them all).

use super::PgStore;
use crate::store::{HashStore, StoreError, StoreResult};
use bytes::Bytes;

fn unsupported() -> StoreError {
    StoreError("hashes are not supported on the PostgreSQL backend yet".into())
}

impl HashStore for PgStore<'_> {
    fn hash_get(&mut self, _id: i64, _field: &[u8]) -> StoreResult<Option<Bytes>> {
        Err(unsupported())
    }

    fn hash_get_many(&mut self, _id: i64, _fields: &[Bytes]) -> StoreResult<Vec<Option<Bytes>>> {
        Err(unsupported())
    }

    fn hash_value_len(&mut self, _id: i64, _field: &[u8]) -> StoreResult<Option<i64>> {
        Err(unsupported())
    }

    fn hash_set(&mut self, _id: i64, _pairs: &[(&[u8], &[u8])]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn hash_delete(&mut self, _id: i64, _fields: &[Bytes]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn hash_all(&mut self, _id: i64) -> StoreResult<Vec<(Bytes, Bytes)>> {
        Err(unsupported())
    }

    fn hash_fields(&mut self, _id: i64) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn hash_values(&mut self, _id: i64) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn hash_max_len(&mut self, _id: i64) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn hash_scan(&mut self, _id: i64, _cursor: u64, _count: usize) -> StoreResult<(u64, Vec<(Bytes, Bytes)>)> {
        Err(unsupported())
    }

    fn hash_random(&mut self, _id: i64) -> StoreResult<Option<(Bytes, Bytes)>> {
        Err(unsupported())
    }
}
