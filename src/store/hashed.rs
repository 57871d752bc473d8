//! The layout of the hashed collections (hashes, sets and sorted sets), and
//! what their backends share on it: random seeks and SCAN-family paging.
//!
//! Their elements are the rows `rhash (key_id, h, field, value)`, `rset
//! (key_id, h, member)` and `rzset (key_id, h, member, score)`, primary key
//! `(key_id, h, member)`, where `h` is [`member_hash`](super::member_hash):
//! a point operation is one seek, a random element is the first at or after
//! a random `h` ([`random_hash`]), and a SCAN cursor is an `h`
//! ([`scan_page`]).

use super::StoreResult;
use bytes::Bytes;

/// A random member hash: a random pick is the first element at or after it.
pub(crate) fn random_hash() -> i64 {
    (crate::util::random_u64() >> 1) as i64
}

/// An element as a SCAN page holds it: its member (a hash's field) first.
pub(crate) trait Element {
    fn member(&self) -> &Bytes;
}

impl Element for Bytes {
    fn member(&self) -> &Bytes {
        self
    }
}

impl<V> Element for (Bytes, V) {
    fn member(&self) -> &Bytes {
        &self.0
    }
}

/// One HSCAN/SSCAN/ZSCAN page: about `count` elements whose hash is at least
/// `cursor`, in (hash, member) order, never ending inside a run of equal
/// hashes (so an element present for a whole scan is returned at least once),
/// and the next cursor: the last hash + 1, or 0 when the end was reached.
/// Hashes are 63-bit: a cursor beyond them finds nothing. O(log n + count).
///
/// The backend's statements: `read(s, from, limit)` reads up to `limit`
/// `(h, element)` rows with `h >= from`, in (hash, member) order; `run(s, h,
/// member, page)` appends to `page` the elements of hash `h` whose member
/// is greater than `member`, in member order. With `lookahead`, one row
/// beyond the page is read to know whether the collection goes on (then a
/// page that ends the collection answers cursor 0, and the run is read only
/// when it continues); without, a full page always reads the run and
/// answers a cursor.
pub(crate) fn scan_page<S, T: Element>(
    s: &mut S,
    cursor: u64,
    count: usize,
    lookahead: bool,
    read: impl FnOnce(&mut S, i64, i64) -> StoreResult<Vec<(i64, T)>>,
    run: impl FnOnce(&mut S, i64, &[u8], &mut Vec<T>) -> StoreResult<()>,
) -> StoreResult<(u64, Vec<T>)> {
    let Ok(from) = i64::try_from(cursor) else {
        return Ok((0, Vec::new()));
    };
    let count = count.clamp(1, i64::MAX as usize - 1);
    let limit = count + usize::from(lookahead);
    let mut rows = read(s, from, limit as i64)?;
    if rows.len() < limit {
        return Ok((0, rows.into_iter().map(|(_, t)| t).collect()));
    }
    // The run of equal hashes the page ended in is finished, so that the
    // next page can start strictly after it. With the row beyond the page
    // read, that run goes on only if the row shares the last hash.
    let next_h = if lookahead { rows.pop().map(|(h, _)| h) } else { None };
    let Some((last_h, last)) = rows.last().map(|(h, t)| (*h, t.member().clone())) else {
        return Ok((0, Vec::new()));
    };
    let mut page: Vec<T> = rows.into_iter().map(|(_, t)| t).collect();
    if !lookahead || next_h == Some(last_h) {
        run(s, last_h, &last, &mut page)?;
    }
    Ok((last_h as u64 + 1, page))
}
