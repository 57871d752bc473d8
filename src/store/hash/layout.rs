//! What both hash backends share (table `rhash (key_id, h, field, value)`,
//! see [`hashed`]): HSCAN paging, written once over [`HashRows`], the
//! backend's statements.

use super::{HashOps, HashStore};
use crate::store::{StoreResult, hashed};
use bytes::Bytes;

/// The statements of a hash backend that HSCAN ([`hashed::scan_page`])
/// runs, beside its [`HashOps`]; [`HashStore`] comes from them (the blanket
/// implementation below).
pub(crate) trait HashRows: HashOps {
    /// Up to `limit` `(h, (field, value))` rows with `h >= from`, in (h,
    /// field) order.
    fn hash_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, Bytes))>>;

    /// Appends to `page` the entries of hash `h` whose field is greater than
    /// `after`, in field order.
    fn hash_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, Bytes)>) -> StoreResult<()>;
}

impl<R: HashRows> HashStore for R {
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
}
