//! [`SetStore`] on PostgreSQL: not written yet. Every operation fails with a
//! clear storage error until it is (the SQLite backend has them all).

use super::PgStore;
use crate::store::{SetOp, SetStore, StoreError, StoreResult};
use bytes::Bytes;

fn unsupported() -> StoreError {
    StoreError("sets are not supported on the PostgreSQL backend yet".into())
}

impl SetStore for PgStore<'_> {
    fn set_add(&mut self, _id: i64, _members: &[Bytes]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn set_remove(&mut self, _id: i64, _members: &[Bytes]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn set_contains(&mut self, _id: i64, _members: &[Bytes]) -> StoreResult<Vec<bool>> {
        Err(unsupported())
    }

    fn set_members(&mut self, _id: i64) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn set_random(&mut self, _id: i64, _count: usize, _distinct: bool) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn set_pop(&mut self, _id: i64, _count: usize) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn set_scan(&mut self, _id: i64, _cursor: u64, _count: usize) -> StoreResult<(u64, Vec<Bytes>)> {
        Err(unsupported())
    }

    fn set_combine(&mut self, _op: SetOp, _ids: &[i64]) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn set_inter_card(&mut self, _ids: &[i64], _limit: Option<u64>) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn set_store(&mut self, _db: u32, _dst: &[u8], _op: SetOp, _ids: &[i64]) -> StoreResult<i64> {
        Err(unsupported())
    }
}
