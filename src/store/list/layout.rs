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
//! itself, as its [`ListOps`].

use super::{ListOps, ListStore};
use crate::store::StoreResult;

/// Offset of the parking area used while moving rows (far beyond any list's
/// span: a list would need 2^40 elements to reach it).
const PARK: i64 = 1 << 40;

/// The statements of a list backend that the algorithms of this module run,
/// beside its [`ListOps`]; [`ListStore`] comes from them (the blanket
/// implementation below). Each is one statement unless its doc says
/// otherwise, and `id` is the list's key id.
pub(crate) trait ListRows: ListOps {
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
    fn list_insert(&mut self, id: i64, pivot: &[u8], value: &[u8], after: bool) -> StoreResult<Option<i64>> {
        insert(self, id, pivot, value, after)
    }

    fn list_remove(&mut self, id: i64, value: &[u8], count: i64) -> StoreResult<i64> {
        remove(self, id, value, count)
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

/// LINSERT ([`ListStore::list_insert`]): the shorter side of the list moves
/// one place out to make room.
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
    r.insert_row(id, pos, value).map(Some)
}

/// LREM ([`ListStore::list_remove`]): every match inside the span from the
/// first to the last element to remove goes (the matches are taken in order
/// from one end), then the holes close.
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

#[cfg(test)]
mod tests {
    //! The algorithms on a model of `rlist` that checks the primary key the
    //! way SQLite and PostgreSQL do during an UPDATE: row by row, in either
    //! order. A move that is not parked first collides with a neighbour.

    use super::*;
    use crate::store::{End, PosSearch};
    use bytes::Bytes;
    use std::collections::{BTreeMap, VecDeque};

    /// One list's rows, position to value; `descending` is the order an
    /// UPDATE visits its rows in.
    #[derive(Default)]
    struct Rows {
        rows: BTreeMap<i64, Vec<u8>>,
        descending: bool,
        statements: usize,
    }

    impl Rows {
        fn new(values: &[&str], base: i64) -> Rows {
            let rows = values
                .iter()
                .zip(base..)
                .map(|(v, p)| (p, v.as_bytes().to_vec()))
                .collect();
            Rows {
                rows,
                ..Rows::default()
            }
        }

        /// Moves the rows at `from` (in the UPDATE's order) to the positions
        /// `to` gives them, failing as a unique index does on a collision.
        fn update(&mut self, from: Vec<i64>, to: impl Fn(usize, i64) -> i64) {
            self.statements += 1;
            let mut order: Vec<(usize, i64)> = from.into_iter().enumerate().collect();
            if self.descending {
                order.reverse();
            }
            for (rank, old) in order {
                let new = to(rank, old);
                if new == old {
                    continue;
                }
                assert!(!self.rows.contains_key(&new), "primary key collision at {new}");
                let v = self.rows.remove(&old).unwrap();
                self.rows.insert(new, v);
            }
        }

        fn between(&self, lo: i64, hi: i64) -> Vec<i64> {
            self.rows.range(lo..=hi).map(|(&p, _)| p).collect()
        }

        fn values(&self) -> Vec<String> {
            self.rows
                .values()
                .map(|v| String::from_utf8(v.clone()).unwrap())
                .collect()
        }

        fn dense(&self) -> bool {
            let ps: Vec<i64> = self.rows.keys().copied().collect();
            ps.windows(2).all(|w| w[1] == w[0] + 1)
        }
    }

    /// The layout's algorithms use none of these.
    impl ListOps for Rows {
        fn list_push(&mut self, _: i64, _: i64, _: End, _: &[Bytes]) -> StoreResult<i64> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_pop(&mut self, _: i64, _: i64, _: End, _: u64) -> StoreResult<Vec<Bytes>> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_range(&mut self, _: i64, _: i64, _: i64) -> StoreResult<Vec<Bytes>> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_get(&mut self, _: i64, _: i64) -> StoreResult<Option<Bytes>> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_set(&mut self, _: i64, _: i64, _: &[u8]) -> StoreResult<bool> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_trim(&mut self, _: i64, _: i64, _: i64) -> StoreResult<()> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_positions(&mut self, _: i64, _: &[u8], _: PosSearch) -> StoreResult<Vec<i64>> {
            unreachable!("not used by the layout's algorithms")
        }
        fn list_move(&mut self, _: i64, _: i64, _: End, _: End) -> StoreResult<Option<Bytes>> {
            unreachable!("not used by the layout's algorithms")
        }
    }

    impl ListRows for Rows {
        fn shift_rows(&mut self, _: i64, lo: i64, hi: i64, delta: i64) -> StoreResult<()> {
            let from = self.between(lo, hi);
            self.update(from, |_, p| p + delta);
            Ok(())
        }

        fn number_rows(&mut self, _: i64, lo: i64, hi: i64, to: i64) -> StoreResult<i64> {
            let from = self.between(lo, hi);
            let n = from.len() as i64;
            self.update(from, |rank, _| to + rank as i64);
            Ok(n)
        }

        fn pivot_and_ends(&mut self, _: i64, pivot: &[u8]) -> StoreResult<Option<(i64, i64, i64)>> {
            self.statements += 1;
            let p = self.rows.iter().find(|(_, v)| v.as_slice() == pivot).map(|(&p, _)| p);
            let ends = self.rows.keys().next().zip(self.rows.keys().next_back());
            Ok(p.zip(ends).map(|(p, (&first, &last))| (p, first, last)))
        }

        fn insert_row(&mut self, _: i64, pos: i64, value: &[u8]) -> StoreResult<i64> {
            self.statements += 1;
            assert!(self.rows.insert(pos, value.to_vec()).is_none(), "insert onto {pos}");
            Ok(self.rows.len() as i64)
        }

        fn removal_span(&mut self, _: i64, value: &[u8], count: i64) -> StoreResult<Option<[i64; 4]>> {
            self.statements += 1;
            let mut matches: Vec<i64> = self
                .rows
                .iter()
                .filter(|(_, v)| v.as_slice() == value)
                .map(|(&p, _)| p)
                .collect();
            if count < 0 {
                matches.reverse();
            }
            if count != 0 {
                matches.truncate(count.unsigned_abs() as usize);
            }
            let (Some(&first), Some(&last)) = (self.rows.keys().next(), self.rows.keys().next_back()) else {
                return Ok(None);
            };
            let (Some(&lo), Some(&hi)) = (matches.iter().min(), matches.iter().max()) else {
                return Ok(None);
            };
            Ok(Some([first, last, lo, hi]))
        }

        fn delete_matches(&mut self, _: i64, value: &[u8], lo: i64, hi: i64) -> StoreResult<i64> {
            self.statements += 1;
            let gone: Vec<i64> = self
                .rows
                .range(lo..=hi)
                .filter(|(_, v)| v.as_slice() == value)
                .map(|(&p, _)| p)
                .collect();
            for p in &gone {
                self.rows.remove(p);
            }
            Ok(gone.len() as i64)
        }

        fn touch_list(&mut self, _: i64, _: i64) -> StoreResult<i64> {
            self.statements += 1;
            Ok(self.rows.len() as i64)
        }
    }

    #[test]
    fn insert_moves_the_shorter_side_without_collisions() {
        for descending in [false, true] {
            // Near the tail: the tail moves up by one.
            let mut r = Rows::new(&["a", "b", "c", "d", "e"], -2);
            r.descending = descending;
            assert_eq!(insert(&mut r, 1, b"d", b"x", false).unwrap(), Some(6));
            assert_eq!(r.values(), ["a", "b", "c", "x", "d", "e"]);
            assert_eq!(r.rows.keys().next(), Some(&-2));
            // Near the head: the head moves down by one.
            assert_eq!(insert(&mut r, 1, b"a", b"y", true).unwrap(), Some(7));
            assert_eq!(r.values(), ["a", "y", "b", "c", "x", "d", "e"]);
            assert_eq!(r.rows.keys().next(), Some(&-3));
            assert!(r.dense());
            assert_eq!(insert(&mut r, 1, b"nope", b"z", true).unwrap(), None);
        }
    }

    #[test]
    fn remove_closes_the_holes_in_two_statements() {
        for descending in [false, true] {
            let mut r = Rows::new(&["x", "a", "x", "b", "x", "x", "c", "d", "e", "f"], 5);
            r.descending = descending;
            assert_eq!(remove(&mut r, 1, b"x", 3).unwrap(), 3);
            assert_eq!(r.values(), ["a", "b", "x", "c", "d", "e", "f"]);
            assert!(r.dense());
            r.statements = 0;
            // The last one, from the tail: only the tail side moves, parked
            // and back (two statements) after the span and the delete.
            assert_eq!(remove(&mut r, 1, b"x", -5).unwrap(), 1);
            assert_eq!(r.values(), ["a", "b", "c", "d", "e", "f"]);
            assert!(r.dense());
            assert_eq!(r.statements, 5, "span, delete, number, move back, touch");
            assert_eq!(remove(&mut r, 1, b"nope", 0).unwrap(), 0);
        }
    }

    /// Random LINSERTs and LREMs against a `VecDeque`: the values, their
    /// order and the density of positions always agree.
    #[test]
    fn random_inserts_and_removes_match_a_model() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let names = ["a", "b", "c", "d"];
        let mut r = Rows::new(&["a", "b", "c", "d", "a", "b"], 0);
        let mut model: VecDeque<String> = r.values().into_iter().collect();
        for step in 0..2000 {
            r.descending = next(2) == 0;
            let v = names[next(4) as usize];
            if next(3) == 0 && !model.is_empty() {
                let count = next(5) as i64 - 2;
                let expected = {
                    let hits: Vec<usize> = (0..model.len()).filter(|&i| model[i] == v).collect();
                    let take: Vec<usize> = match count {
                        0 => hits,
                        c if c > 0 => hits.into_iter().take(c as usize).collect(),
                        c => hits.into_iter().rev().take(c.unsigned_abs() as usize).collect(),
                    };
                    let n = take.len() as i64;
                    let mut take = take;
                    take.sort_unstable();
                    for i in take.into_iter().rev() {
                        model.remove(i);
                    }
                    n
                };
                assert_eq!(remove(&mut r, 1, v.as_bytes(), count).unwrap(), expected, "step {step}");
            } else {
                let pivot = names[next(4) as usize];
                let after = next(2) == 0;
                let at = model.iter().position(|x| x == pivot);
                let got = insert(&mut r, 1, pivot.as_bytes(), v.as_bytes(), after).unwrap();
                match at {
                    Some(i) => {
                        model.insert(if after { i + 1 } else { i }, v.to_string());
                        assert_eq!(got, Some(model.len() as i64), "step {step}");
                    }
                    None => assert_eq!(got, None, "step {step}"),
                }
            }
            assert_eq!(r.values(), Vec::from(model.clone()), "step {step}");
            assert!(r.dense(), "step {step}");
            if model.is_empty() {
                r = Rows::new(&["c", "d"], next(100) as i64 - 50);
                model = r.values().into_iter().collect();
            }
        }
    }
}
