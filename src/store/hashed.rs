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

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection as its `(h, member)` rows in (h, member) order, and
    /// the number of statements run on it.
    struct Rows(Vec<(i64, Bytes)>, usize);

    impl Rows {
        fn new(rows: &[(i64, &str)]) -> Rows {
            let mut rows: Vec<(i64, Bytes)> = rows.iter().map(|&(h, m)| (h, Bytes::from(m.to_string()))).collect();
            rows.sort();
            Rows(rows, 0)
        }

        fn page(&mut self, cursor: u64, count: usize, lookahead: bool) -> (u64, Vec<Bytes>) {
            scan_page(
                self,
                cursor,
                count,
                lookahead,
                |s, from, limit| {
                    s.1 += 1;
                    Ok(s.0
                        .iter()
                        .filter(|(h, _)| *h >= from)
                        .take(limit as usize)
                        .cloned()
                        .collect())
                },
                |s, h, after, page| {
                    s.1 += 1;
                    page.extend(
                        s.0.iter()
                            .filter(|(rh, m)| *rh == h && &m[..] > after)
                            .map(|(_, m)| m.clone()),
                    );
                    Ok(())
                },
            )
            .unwrap()
        }
    }

    fn names(page: &[Bytes]) -> Vec<&str> {
        page.iter().map(|m| std::str::from_utf8(m).unwrap()).collect()
    }

    #[test]
    fn a_page_never_ends_inside_a_run_of_equal_hashes() {
        let rows = [(1, "a"), (2, "b"), (2, "c"), (2, "d"), (3, "e")];
        for lookahead in [true, false] {
            let mut r = Rows::new(&rows);
            let (cursor, page) = r.page(0, 2, lookahead);
            assert_eq!((cursor, names(&page)), (3, vec!["a", "b", "c", "d"]));
            assert_eq!(r.1, 2, "the page, then the rest of the run");
            let (cursor, page) = r.page(cursor, 2, lookahead);
            assert_eq!((cursor, names(&page)), (0, vec!["e"]));
        }
    }

    #[test]
    fn lookahead_tells_the_end_and_skips_a_run_that_does_not_go_on() {
        let mut r = Rows::new(&[(1, "a"), (2, "b")]);
        assert_eq!(r.page(0, 2, true), (0, vec![Bytes::from("a"), Bytes::from("b")]));
        // Without it, a full page answers a cursor, and the next page ends.
        assert_eq!(r.page(0, 2, false).0, 3);
        assert_eq!(r.page(3, 2, false), (0, vec![]));
        let mut r = Rows::new(&[(1, "a"), (2, "b"), (3, "c")]);
        assert_eq!(r.page(0, 1, true).0, 2);
        assert_eq!(r.1, 1, "the row beyond has another hash: no run read");
    }

    #[test]
    fn cursors_beyond_every_hash_find_nothing() {
        let mut r = Rows::new(&[(1, "a")]);
        assert_eq!(r.page(u64::MAX, 10, true), (0, vec![]));
        assert_eq!(r.page(1 << 63, 10, false), (0, vec![]));
        assert_eq!(r.page(0, usize::MAX, false), (0, vec![Bytes::from("a")]));
    }

    /// A whole iteration returns every element once, whatever the page size
    /// and however many elements share a hash.
    #[test]
    fn an_iteration_returns_each_element_once() {
        let rows: Vec<(i64, String)> = (0..60).map(|i| ((i * 7 % 13) as i64, format!("m{i}"))).collect();
        let rows: Vec<(i64, &str)> = rows.iter().map(|(h, m)| (*h, m.as_str())).collect();
        for lookahead in [true, false] {
            for count in 1..8 {
                let mut r = Rows::new(&rows);
                let (mut cursor, mut seen) = (0, Vec::new());
                loop {
                    let (next, page) = r.page(cursor, count, lookahead);
                    seen.extend(page);
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
                let mut all: Vec<Bytes> = r.0.iter().map(|(_, m)| m.clone()).collect();
                all.sort();
                seen.sort();
                assert_eq!(seen, all, "count {count}, lookahead {lookahead}");
            }
        }
    }
}
