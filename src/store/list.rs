//! Storage operations for lists (see the conventions on [`super::Store`]).
//!
//! A list is addressed by its key id. Element indexes are 0-based from the
//! head and already normalized by the caller (Redis's negative indexes are
//! resolved against `Entry::len` in the command layer), so a backend only
//! sees `0 <= index < len`.
//!
//! Backends are expected to give O(log n) access by index, so that LINDEX,
//! LSET, pushes and pops cost one index seek each. Both keep the layout of
//! [`layout`] (dense positions: element `i` is at `min(pos) + i`), whose
//! LINSERT and LREM are written there once. A backend implements
//! [`ListOps`] and `layout::ListRows`; [`ListStore`] comes from them.

use super::StoreResult;
use bytes::Bytes;

pub(crate) mod layout;

/// One end of a list: `Head` is Redis's LEFT, `Tail` its RIGHT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// How [`ListOps::list_positions`] searches a list (the options of LPOS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosSearch {
    /// Which end the search starts from; returned indexes are always from the head.
    pub from: End,
    /// Matches to pass over before the first one returned.
    pub skip: u64,
    /// Most matches to return (`None`: all of them).
    pub limit: Option<u64>,
    /// Most elements to look at, counted from `from` (`None`: the whole list).
    pub maxlen: Option<u64>,
}

/// Operations on lists, addressed by key id, that each backend writes with
/// its own statements ([`ListStore`] adds those written once).
pub trait ListOps {
    /// Adds `values` one after the other at `end` (so LPUSH a b c leaves
    /// `c b a` at the head) and returns the new length. `len` is the list's
    /// length as read in this transaction (0 for a key just created); a
    /// store may use it instead of reading it again. O(k log n).
    fn list_push(&mut self, id: i64, len: i64, end: End, values: &[Bytes]) -> StoreResult<i64>;

    /// Removes up to `count` elements from `end` and returns them in the
    /// order they were popped. Deletes the key when it becomes empty. `len`
    /// is the list's length as read in this transaction (see
    /// [`ListOps::list_push`]). O(k log n).
    fn list_pop(&mut self, id: i64, len: i64, end: End, count: u64) -> StoreResult<Vec<Bytes>>;

    /// The elements with indexes `start..=stop` (both within the list, or an
    /// empty result if `start > stop`). O(log n + k).
    fn list_range(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<Vec<Bytes>>;

    /// The element at `index`, if there is one. O(log n).
    fn list_get(&mut self, id: i64, index: i64) -> StoreResult<Option<Bytes>>;

    /// Replaces the element at `index`; false if there is none. O(log n).
    fn list_set(&mut self, id: i64, index: i64, value: &[u8]) -> StoreResult<bool>;

    /// Keeps only the elements with indexes `start..=stop` (an empty range,
    /// `start > stop`, deletes the key). O(log n + removed).
    fn list_trim(&mut self, id: i64, start: i64, stop: i64) -> StoreResult<()>;

    /// The indexes (from the head) of elements equal to `value`, searched as
    /// `search` says, in search order. O(n) at worst.
    fn list_positions(&mut self, id: i64, value: &[u8], search: PosSearch) -> StoreResult<Vec<i64>>;

    /// Pops one element from `from` of list `src` and pushes it at `to` of
    /// list `dst` (which may be the same list: then the list rotates and never
    /// becomes empty). `dst` must exist (the caller creates it first). Returns
    /// the element, or `None` if `src` is empty. O(log n).
    fn list_move(&mut self, src: i64, dst: i64, from: End, to: End) -> StoreResult<Option<Bytes>>;
}

/// Operations on lists computed on the layout both backends share, written
/// once (`layout.rs`) over a backend's [`ListOps`] and statements.
pub trait ListStore: ListOps {
    /// Inserts `value` before or after (`after`) the first element equal to
    /// `pivot`; returns the new length, or `None` if there is no such element.
    /// O(n) to find the pivot, then the shorter side of the list moves.
    fn list_insert(&mut self, id: i64, pivot: &[u8], value: &[u8], after: bool) -> StoreResult<Option<i64>>;

    /// Removes elements equal to `value`: the first `count` from the head if
    /// `count > 0`, the last `-count` from the tail if `count < 0`, all of them
    /// if 0. Returns how many were removed; deletes the key when empty. O(n).
    fn list_remove(&mut self, id: i64, value: &[u8], count: i64) -> StoreResult<i64>;
}
