//! What both sorted-set backends share (table `rzset (key_id, h, member,
//! score)` and its index `rzset_score (key_id, score, member)`, see
//! [`hashed`]): the translation of score and lex ranges into the conditions
//! their statements take ([`Span`]), and ZSCAN paging, written once over
//! [`ZSetRows`], the backend's statements.

use super::{LexBound, ZQuery, ZScanPage, ZSetOps, ZSetStore, ZSpan};
use crate::store::{StoreResult, hashed};
use bytes::Bytes;

/// A [`ZSpan`] resolved against one sorted set: the kind of condition on
/// `rzset` that selects it, and its values. Each kind is one SQL text per
/// backend, so the statements are few and prepared once.
///
/// Bounds are inclusive lower and exclusive upper ones: `(x` on scores is the
/// next double ([`score_limits`](super::score_limits)); `member > a` is
/// `member >= a||0x00` and `member <= b` is `member < b||0x00`
/// ([`successor`](super::successor)), so two texts cover all lex bound kinds.
/// Lex spans are index seeks when every element has the same score (the
/// only case Redis defines); otherwise the key's elements are filtered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Span {
    /// Every element.
    All,
    /// `lo <= score <= hi`.
    Score(f64, f64),
    /// A lex span over the single score `s`: `lo <= member < hi`.
    LexSingleTo(Vec<u8>, Vec<u8>, f64),
    /// A lex span over the single score `s`: `lo <= member`.
    LexSingle(Vec<u8>, f64),
    /// A lex span over mixed scores (undefined in Redis): `lo <= member < hi`.
    LexMixedTo(Vec<u8>, Vec<u8>),
    /// A lex span over mixed scores: `lo <= member`.
    LexMixed(Vec<u8>),
}

/// `span` resolved against sorted set `id`; None if it selects nothing
/// whatever the set holds. A lex span reads the set's lowest and highest
/// scores ([`ZSetRows::zset_score_range`]): a single score when they agree.
fn resolve<R: ZSetRows>(r: &mut R, id: i64, span: &ZSpan) -> StoreResult<Option<Span>> {
    Ok(Some(match span {
        ZSpan::All => Span::All,
        ZSpan::Score(min, max) => match super::score_limits(*min, *max) {
            Some((lo, hi)) => Span::Score(lo, hi),
            None => return Ok(None),
        },
        ZSpan::Lex(min, max) => {
            let lo = match min {
                LexBound::Min => vec![],
                LexBound::Inclusive(b) => b.to_vec(),
                LexBound::Exclusive(b) => super::successor(b),
                LexBound::Max => return Ok(None),
            };
            let hi = match max {
                LexBound::Max => None,
                LexBound::Inclusive(b) => Some(super::successor(b)),
                LexBound::Exclusive(b) => Some(b.to_vec()),
                LexBound::Min => return Ok(None),
            };
            let single = match r.zset_score_range(id)? {
                Some((a, b)) if a == b => Some(a),
                _ => None,
            };
            match (single, hi) {
                (Some(s), Some(hi)) => Span::LexSingleTo(lo, hi, s),
                (Some(s), None) => Span::LexSingle(lo, s),
                (None, Some(hi)) => Span::LexMixedTo(lo, hi),
                (None, None) => Span::LexMixed(lo),
            }
        }
    }))
}

/// The statements of a sorted-set backend that the algorithms of this
/// module run, beside its [`ZSetOps`]; [`ZSetStore`] comes from them (the
/// blanket implementation below): ranges, counts and takes as resolved
/// [`Span`]s, ZSCAN from [`hashed::scan_page`].
pub(crate) trait ZSetRows: ZSetOps {
    /// Sets the score of each member, adding the absent ones; returns how
    /// many were added ([`ZSetStore::zset_put`], with at least one item).
    fn zset_put_items(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<i64>;

    /// [`ZSetStore::zset_set_scores`]. The default reads the current
    /// scores, then writes the changes with [`ZSetRows::zset_put_items`];
    /// SQLite writes without reading first.
    fn zset_write_scores(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<(i64, i64)> {
        let members: Vec<Bytes> = items.iter().map(|(m, _)| m.clone()).collect();
        let mut current: std::collections::HashMap<&[u8], Option<f64>> = members
            .iter()
            .map(|m| m.as_ref())
            .zip(self.zset_scores(id, &members)?)
            .collect();
        let (mut added, mut updated) = (0, 0);
        let mut changes = Vec::new();
        for (m, score) in items {
            match current.insert(m, Some(*score)).flatten() {
                None => added += 1,
                Some(cur) if cur != *score => updated += 1,
                Some(_) => continue,
            }
            changes.push((m.clone(), *score));
        }
        if !changes.is_empty() {
            self.zset_put_items(id, &changes)?;
        }
        Ok((added, updated))
    }

    /// The lowest and the highest score, if the set has elements.
    fn zset_score_range(&mut self, id: i64) -> StoreResult<Option<(f64, f64)>>;

    /// The number of elements in `span`.
    fn zset_count_span(&mut self, id: i64, span: Span) -> StoreResult<u64>;

    /// The elements of `span`, walked as `query` says (its own span aside),
    /// with their scores; with `take`, removed too (the key touched).
    fn zset_walk(&mut self, id: i64, span: Span, query: &ZQuery, take: bool) -> StoreResult<Vec<(Bytes, f64)>>;

    /// Up to `limit` `(h, (member, score))` rows with `h >= from`, in (h,
    /// member) order.
    fn zset_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, (Bytes, f64))>>;

    /// Appends to `page` the elements of hash `h` whose member is greater
    /// than `after`, in member order.
    fn zset_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<(Bytes, f64)>) -> StoreResult<()>;
}

impl<R: ZSetRows> ZSetStore for R {
    fn zset_put(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<i64> {
        if items.is_empty() {
            return Ok(0);
        }
        self.zset_put_items(id, items)
    }

    fn zset_set_scores(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<(i64, i64)> {
        self.zset_write_scores(id, items)
    }

    fn zset_count(&mut self, id: i64, span: &ZSpan) -> StoreResult<u64> {
        match resolve(self, id, span)? {
            Some(span) => self.zset_count_span(id, span),
            None => Ok(0),
        }
    }

    fn zset_range(&mut self, id: i64, query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>> {
        match resolve(self, id, &query.span)? {
            Some(span) => self.zset_walk(id, span, query, false),
            None => Ok(Vec::new()),
        }
    }

    fn zset_take(&mut self, id: i64, query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>> {
        match resolve(self, id, &query.span)? {
            Some(span) => self.zset_walk(id, span, query, true),
            None => Ok(Vec::new()),
        }
    }

    fn zset_scan(&mut self, id: i64, cursor: u64, count: usize) -> StoreResult<ZScanPage> {
        let (cursor, items) = hashed::scan_page(
            self,
            cursor,
            count,
            false,
            |s, from, limit| s.zset_scan_rows(id, from, limit),
            |s, h, after, page| s.zset_scan_run(id, h, after, page),
        )?;
        Ok(ZScanPage { cursor, items })
    }
}
