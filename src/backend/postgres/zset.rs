//! [`ZSetStore`] on PostgreSQL: not written yet. Every operation fails with a
//! clear storage error until it is (the SQLite backend has them all).

use super::PgStore;
use crate::store::{StoreError, StoreResult, ZQuery, ZScanPage, ZSetStore, ZSpan};
use bytes::Bytes;

fn unsupported() -> StoreError {
    StoreError("sorted sets are not supported on the PostgreSQL backend yet".into())
}

impl ZSetStore for PgStore<'_> {
    fn zset_scores(&mut self, _id: i64, _members: &[Bytes]) -> StoreResult<Vec<Option<f64>>> {
        Err(unsupported())
    }

    fn zset_put(&mut self, _id: i64, _items: &[(Bytes, f64)]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn zset_remove(&mut self, _id: i64, _members: &[Bytes]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn zset_rank(&mut self, _id: i64, _member: &[u8]) -> StoreResult<Option<(u64, f64)>> {
        Err(unsupported())
    }

    fn zset_count(&mut self, _id: i64, _span: &ZSpan) -> StoreResult<u64> {
        Err(unsupported())
    }

    fn zset_range(&mut self, _id: i64, _query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>> {
        Err(unsupported())
    }

    fn zset_take(&mut self, _id: i64, _query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>> {
        Err(unsupported())
    }

    fn zset_random(&mut self, _id: i64) -> StoreResult<Option<(Bytes, f64)>> {
        Err(unsupported())
    }

    fn zset_scan(&mut self, _id: i64, _cursor: u64, _count: usize) -> StoreResult<ZScanPage> {
        Err(unsupported())
    }

    fn zset_read_set_members(&mut self, _id: i64) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }
}
