//! [`ListStore`] on PostgreSQL: not written yet. Every operation fails with a
//! clear storage error until it is (the SQLite backend has them all).

use super::PgStore;
use crate::store::{End, ListStore, PosSearch, StoreError, StoreResult};
use bytes::Bytes;

fn unsupported() -> StoreError {
    StoreError("lists are not supported on the PostgreSQL backend yet".into())
}

impl ListStore for PgStore<'_> {
    fn list_push(&mut self, _id: i64, _end: End, _values: &[Bytes]) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn list_pop(&mut self, _id: i64, _end: End, _count: u64) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn list_range(&mut self, _id: i64, _start: i64, _stop: i64) -> StoreResult<Vec<Bytes>> {
        Err(unsupported())
    }

    fn list_get(&mut self, _id: i64, _index: i64) -> StoreResult<Option<Bytes>> {
        Err(unsupported())
    }

    fn list_set(&mut self, _id: i64, _index: i64, _value: &[u8]) -> StoreResult<bool> {
        Err(unsupported())
    }

    fn list_insert(&mut self, _id: i64, _pivot: &[u8], _value: &[u8], _after: bool) -> StoreResult<Option<i64>> {
        Err(unsupported())
    }

    fn list_remove(&mut self, _id: i64, _value: &[u8], _count: i64) -> StoreResult<i64> {
        Err(unsupported())
    }

    fn list_trim(&mut self, _id: i64, _start: i64, _stop: i64) -> StoreResult<()> {
        Err(unsupported())
    }

    fn list_positions(&mut self, _id: i64, _value: &[u8], _search: PosSearch) -> StoreResult<Vec<i64>> {
        Err(unsupported())
    }

    fn list_move(&mut self, _src: i64, _dst: i64, _from: End, _to: End) -> StoreResult<Option<Bytes>> {
        Err(unsupported())
    }
}
