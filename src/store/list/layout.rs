//! The list layout both backends share, and the algorithms written on it.
//!
//! A list's elements are the rows `rlist (key_id, pos, value)`, primary key
//! `(key_id, pos)`. Positions are dense: the element with index `i` is at
//! `min(pos) + i`, so every access by index is one primary-key seek (both
//! databases read `min(pos)` of one key off the index). Pushing at the head
//! uses `min - 1`, at the tail `max + 1`; an empty list starts at position 0.
//!
//! Inserting or removing in the middle (LINSERT, LREM) moves the shorter side
//! of the list. SQLite and PostgreSQL both check a (non-deferrable) primary
//! key row by row during an UPDATE, so a block of rows is never moved by a
//! small offset in one statement (a row could land on a neighbour that has
//! not moved yet): rows first go to a far-away parking area ([`PARK`] above
//! their target), then come back in a second statement, when their targets
//! are all free. (On PostgreSQL a DEFERRABLE key would allow one statement,
//! but would cost a schema change and slow every insert; these commands are
//! O(n) anyway.)
//!
//! The moves, LINSERT and LREM are written here once, over [`ListRows`]: the
//! statements a backend supplies. Pushes, pops, ranges, LSET, LTRIM, LPOS and
//! LMOVE are one or two statements each whose shape differs between the
//! backends (PostgreSQL folds the key's bookkeeping into the statement, SQLite
//! keeps it apart, which is cheaper there), so each backend writes those
//! itself, as `ListRows` methods.

use super::{End, ListStore, PosSearch};
use crate::store::StoreResult;
use bytes::Bytes;

/// Offset of the parking area used while moving rows (far beyond any list's
/// span: a list would need 2^40 elements to reach it).
pub(crate) const PARK: i64 = 1 << 40;

/// A list backend: its SQL text and row access. [`ListStore`] comes from it
/// (the blanket implementation below): LINSERT and LREM from the algorithms
/// of this module, the other methods, which have the same names here, from
/// the backend's own statements.
///
/// The methods after `list_move` are the statements the shared algorithms
/// run; each is one statement unless its doc says otherwise, and `id` is the
/// list's key id.
pub(crate) trait ListRows {
    /// [`ListStore::list_push`].
    fn list_push(&mut self, id: i64, len: i64, end: End, values: &[Bytes]) -> StoreResult<i64>;

    /// [`ListStore::list_pop`].
    fn list_pop(&mut self, id: i64, len: i64, end: End, count: u64) -> StoreResult<Vec<Bytes>>;

    /// [`ListStore::list_range`].
    fn list_range(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<Vec<Bytes>>;

    /// [`ListStore::list_get`].
    fn list_get(&mut self, id: i64, index: i64) -> StoreResult<Option<Bytes>>;

    /// [`ListStore::list_set`].
    fn list_set(&mut self, id: i64, index: i64, value: &[u8]) -> StoreResult<bool>;

    /// [`ListStore::list_trim`].
    fn list_trim(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<()>;

    /// [`ListStore::list_positions`].
    fn list_positions(&mut self, id: i64, value: &[u8], search: PosSearch) -> StoreResult<Vec<i64>>;

    /// [`ListStore::list_move`].
    fn list_move(&mut self, src: i64, dst: i64, from: End, to: End) -> StoreResult<Option<Bytes>>;

    /// `UPDATE rlist SET pos = pos + delta` for the rows at `lo..=hi`.
    fn shift_rows(&mut self, id: i64, lo: i64, hi: i64, delta: i64) -> StoreResult<()>;

    /// Gives the rows within `lo..=hi` (which may have holes) the positions
    /// `to, to + 1, ...` in their order; returns how many rows there were.
    fn number_rows(&mut self, id: i64, lo: i64, hi: i64, to: i64) -> StoreResult<i64>;

    /// The position of the first element equal to `pivot` and the positions
    /// of the list's ends, if there is such an element.
    fn pivot_and_ends(&mut self, id: i64, pivot: &[u8]) -> StoreResult<Option<(i64, i64, i64)>>;

    /// Inserts `value` at the free position `pos` and records the new
    /// element on the key; returns the list's new length.
    fn insert_row(&mut self, id: i64, pos: i64, value: &[u8]) -> StoreResult<i64>;

    /// LREM's span: the positions of the list's ends, then of the first and
    /// last of the elements equal to `value` that LREM's `count` takes
    /// (the first `count` from the head if `count > 0`, the last `-count`
    /// from the tail if `count < 0`, all if 0); `None` if there are none.
    fn removal_span(&mut self, id: i64, value: &[u8], count: i64) -> StoreResult<Option<[i64; 4]>>;

    /// Deletes the elements equal to `value` at `lo..=hi`; returns how many.
    fn delete_matches(&mut self, id: i64, value: &[u8], lo: i64, hi: i64) -> StoreResult<i64>;

    /// Records a change of `delta` elements on the key (its length and
    /// version), deleting it when it is left empty; returns the new length.
    fn touch_list(&mut self, id: i64, delta: i64) -> StoreResult<i64>;
}

impl<R: ListRows> ListStore for R {
    fn list_push(&mut self, id: i64, len: i64, end: End, values: &[Bytes]) -> StoreResult<i64> {
        ListRows::list_push(self, id, len, end, values)
    }

    fn list_pop(&mut self, id: i64, len: i64, end: End, count: u64) -> StoreResult<Vec<Bytes>> {
        ListRows::list_pop(self, id, len, end, count)
    }

    fn list_range(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<Vec<Bytes>> {
        ListRows::list_range(self, id, start, stop)
    }

    fn list_get(&mut self, id: i64, index: i64) -> StoreResult<Option<Bytes>> {
        ListRows::list_get(self, id, index)
    }

    fn list_set(&mut self, id: i64, index: i64, value: &[u8]) -> StoreResult<bool> {
        ListRows::list_set(self, id, index, value)
    }

    fn list_insert(&mut self, id: i64, pivot: &[u8], value: &[u8], after: bool) -> StoreResult<Option<i64>> {
        insert(self, id, pivot, value, after)
    }

    fn list_remove(&mut self, id: i64, value: &[u8], count: i64) -> StoreResult<i64> {
        remove(self, id, value, count)
    }

    fn list_trim(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<()> {
        ListRows::list_trim(self, id, start, stop)
    }

    fn list_positions(&mut self, id: i64, value: &[u8], search: PosSearch) -> StoreResult<Vec<i64>> {
        ListRows::list_positions(self, id, value, search)
    }

    fn list_move(&mut self, src: i64, dst: i64, from: End, to: End) -> StoreResult<Option<Bytes>> {
        ListRows::list_move(self, src, dst, from, to)
    }
}

/// Moves the rows at positions `lo..=hi` by `delta`; the positions they move
/// onto (outside `lo..=hi`) must be free. Two range updates, through [`PARK`].
fn shift<R: ListRows>(r: &mut R, id: i64, lo: i64, hi: i64, delta: i64) -> StoreResult<()> {
    if lo > hi || delta == 0 {
        return Ok(());
    }
    r.shift_rows(id, lo, hi, PARK)?;
    r.shift_rows(id, lo + PARK, hi + PARK, delta - PARK)
}

/// Renumbers the rows within `lo..=hi` (which may have holes) densely from
/// `new_lo`, keeping their order; the new positions must lie within `lo..=hi`
/// or be free. Two statements, whatever the number of holes.
fn renumber<R: ListRows>(r: &mut R, id: i64, lo: i64, hi: i64, new_lo: i64) -> StoreResult<()> {
    if lo > hi {
        return Ok(());
    }
    let parked = r.number_rows(id, lo, hi, new_lo + PARK)?;
    if parked > 0 {
        r.shift_rows(id, new_lo + PARK, new_lo + PARK + parked - 1, -PARK)?;
    }
    Ok(())
}

/// LINSERT ([`ListStore::list_insert`]): the
/// shorter side of the list moves one place out to make room.
fn insert<R: ListRows>(r: &mut R, id: i64, pivot: &[u8], value: &[u8], after: bool) -> StoreResult<Option<i64>> {
    let Some((p, first, last)) = r.pivot_and_ends(id, pivot)? else {
        return Ok(None);
    };
    // The new element's position once inserted; `left` elements precede it.
    let at = if after { p + 1 } else { p };
    let left = at - first;
    let right = last - at + 1;
    let pos = if left <= right {
        shift(r, id, first, at - 1, -1)?;
        at - 1
    } else {
        shift(r, id, at, last, 1)?;
        at
    };
    Ok(Some(r.insert_row(id, pos, value)?))
}

/// LREM ([`ListStore::list_remove`]): every
/// match inside the span from the first to the last element to remove goes
/// (the matches are taken in order from one end), then the holes close.
fn remove<R: ListRows>(r: &mut R, id: i64, value: &[u8], count: i64) -> StoreResult<i64> {
    let Some([first, last, lo, hi]) = r.removal_span(id, value, count)? else {
        return Ok(0);
    };
    let removed = r.delete_matches(id, value, lo, hi)?;
    // Close the holes by moving the shorter side: either everything after
    // `lo` moves towards the head, or everything before `hi` towards the tail.
    let after_lo = last - lo + 1 - removed;
    let before_hi = hi - first + 1 - removed;
    if after_lo <= before_hi {
        renumber(r, id, lo, last, lo)?;
    } else {
        renumber(r, id, first, hi, hi - before_hi + 1)?;
    }
    r.touch_list(id, -removed)?;
    Ok(removed)
}
