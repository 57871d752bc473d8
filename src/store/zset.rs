//! Storage operations for sorted sets (see the conventions on [`super::Store`]).
//!
//! A sorted set is ordered by (score, member bytes), as in Redis. The backend
//! keeps an index on that order, so score ranges are index seeks and ranks are
//! counts or offsets along the index. A backend implements [`ZSetOps`] and
//! `layout::ZSetRows`; [`ZSetStore`] comes from them.

use super::StoreResult;
use bytes::Bytes;

pub(crate) mod layout;

/// One end of a score range (`1.5`, `(1.5`, `-inf`, `+inf`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    /// `(` prefix: the bound itself is excluded.
    pub exclusive: bool,
}

/// One end of a lexicographic range (`-`, `+`, `[a`, `(a`).
#[derive(Debug, Clone, PartialEq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[a`: the bound itself is included.
    Inclusive(Bytes),
    /// `(a`: the bound itself is excluded.
    Exclusive(Bytes),
}

/// Which elements a range operation selects, before `rev`/offset/limit.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSpan {
    /// Every element (rank ranges are an offset and a limit over this).
    All,
    /// Elements with `min <= score <= max` (bounds possibly exclusive).
    Score(ScoreBound, ScoreBound),
    /// Elements with `min <= member <= max` in byte order. Redis defines this
    /// only for sets whose elements all have the same score.
    Lex(LexBound, LexBound),
}

/// A selection of a sorted set: a span, walked forwards (ascending) or
/// backwards, skipping `offset` elements and returning at most `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct ZQuery {
    pub span: ZSpan,
    pub rev: bool,
    pub offset: u64,
    /// None: no limit.
    pub limit: Option<u64>,
}

impl ZQuery {
    /// Every element of `span`, ascending.
    pub fn span(span: ZSpan) -> ZQuery {
        ZQuery {
            span,
            rev: false,
            offset: 0,
            limit: None,
        }
    }
}

/// One page of a ZSCAN (see the SCAN-family conventions on [`super::Store`]).
#[derive(Debug, Default)]
pub struct ZScanPage {
    /// Cursor for the next call; 0 when the scan is complete.
    pub cursor: u64,
    pub items: Vec<(Bytes, f64)>,
}

/// Operations on sorted sets, addressed by key id, that each backend writes
/// with its own statements ([`ZSetStore`] adds those written once). Scores
/// are never NaN.
pub trait ZSetOps {
    /// The scores of `members` (None for absent ones), in order. O(k log n).
    fn zset_scores(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<Option<f64>>>;

    /// Removes members; returns how many were present. O(k log n).
    fn zset_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64>;

    /// The 0-based ascending rank of `member` and its score. O(log n + rank):
    /// the rank is a count along the score index.
    fn zset_rank(&mut self, id: i64, member: &[u8]) -> StoreResult<Option<(u64, f64)>>;

    /// A uniformly distributed random element (by member hash). O(log n).
    fn zset_random(&mut self, id: i64) -> StoreResult<Option<(Bytes, f64)>>;

    /// The members of a *set* key (table `rset`), for ZUNION/ZINTER/ZDIFF,
    /// which accept sets as inputs with score 1. O(n).
    fn zset_read_set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;
}

/// Operations on sorted sets computed on the layout both backends share,
/// written once (`layout.rs`) over a backend's [`ZSetOps`] and statements.
pub trait ZSetStore: ZSetOps {
    /// Sets the score of each member, adding the absent ones; returns how many
    /// were added. A member listed twice takes its last score. O(k log n).
    fn zset_put(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<i64>;

    /// Plain ZADD (no NX/XX/GT/LT/INCR): gives each member its score, in
    /// order, adding the absent ones; a member whose score is already that
    /// score is left alone. Returns (added, updated): when both are 0 nothing
    /// was written and the key keeps its version (Redis then neither
    /// signals the key nor reports an event). O(k log n).
    ///
    /// (How a backend writes: see `ZSetRows::zset_write_scores` in `store/zset/layout.rs`.)
    fn zset_set_scores(&mut self, id: i64, items: &[(Bytes, f64)]) -> StoreResult<(i64, i64)>;

    /// Number of elements in `span`. O(log n + count) (index range count).
    fn zset_count(&mut self, id: i64, span: &ZSpan) -> StoreResult<u64>;

    /// The selected elements with their scores, in walk order.
    /// O(log n + offset + returned) for score spans, rank (`All`) spans and
    /// lex spans over a single score; O(n) for lex spans over mixed scores.
    fn zset_range(&mut self, id: i64, query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>>;

    /// Removes the selected elements and returns them (in walk order). Same
    /// cost as [`ZSetStore::zset_range`] plus O(log n) per removed element.
    fn zset_take(&mut self, id: i64, query: &ZQuery) -> StoreResult<Vec<(Bytes, f64)>>;

    /// Elements with member hash >= `cursor`, about `count` of them, never
    /// ending a page inside a run of equal hashes. O(log n + count).
    fn zset_scan(&mut self, id: i64, cursor: u64, count: usize) -> StoreResult<ZScanPage>;
}

/// Inclusive score limits equivalent to a score span; None if it is empty.
/// `(x` becomes the next representable double, so one SQL text serves all
/// bound kinds (both backends, see [`layout::Span`]).
fn score_limits(min: ScoreBound, max: ScoreBound) -> Option<(f64, f64)> {
    let lo = if min.exclusive {
        if min.value == f64::INFINITY {
            return None;
        }
        min.value.next_up()
    } else {
        min.value
    };
    let hi = if max.exclusive {
        if max.value == f64::NEG_INFINITY {
            return None;
        }
        max.value.next_down()
    } else {
        max.value
    };
    Some((lo, hi))
}

/// The smallest byte string greater than `b` in byte order: `b` followed by
/// a zero byte.
fn successor(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    v
}
