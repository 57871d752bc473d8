//! Range commands: ZRANGE in all its forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT
//! and ZREMRANGEBY*.
//!
//! Costs: a score range is an index seek plus the returned elements,
//! O(log n + offset + k). A rank range is an OFFSET walk along the score
//! index from whichever end is nearer, O(log n + min(start, n - stop) + k).
//! A lex range is O(log n + offset + k) when all elements share one score
//! (the case Redis defines) and O(n) otherwise. Counts walk the counted
//! range: O(log n + count).

use super::numbers::{parse_lex_range, parse_score_range};
use super::{lookup, report_removal, scored_reply, store_result};
use crate::commands::args::{int, is};
use crate::commands::{CmdResult, Ctx, SYNTAX, err};
use crate::resp::Reply;
use crate::store::{ZQuery, ZSpan};
use bytes::Bytes;

/// How a range is given (Redis's `zrange_type`); Auto until an option decides.
#[derive(Clone, Copy, PartialEq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Walk direction (Redis's `zrange_direction`); Auto until REV is seen.
#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

/// Normalizes Redis rank indices (negative = from the end) against `len`:
/// the first rank and the number of elements, None if the window is empty.
fn rank_window(len: i64, start: i64, end: i64) -> Option<(u64, u64)> {
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as u64, (end - start + 1) as u64))
}

/// The query for `count` elements from rank `first` in direction `rev`,
/// walking from the nearer end (OFFSET costs O(offset)). The flag says
/// whether the result comes back reversed and must be flipped.
fn rank_query(len: i64, rev: bool, first: u64, count: u64) -> (ZQuery, bool) {
    let from_other_end = (len as u64).saturating_sub(first + count);
    let flip = from_other_end < first;
    let query = ZQuery {
        span: ZSpan::All,
        rev: rev ^ flip,
        offset: if flip { from_other_end } else { first },
        limit: Some(count),
    };
    (query, flip)
}

/// The elements of rank window `start..=end` (Redis indices) of set `id`.
fn by_rank(ctx: &mut Ctx, id: i64, len: i64, rev: bool, start: i64, end: i64) -> super::ItemsResult {
    let Some((first, count)) = rank_window(len, start, end) else {
        return Ok(vec![]);
    };
    let (query, flip) = rank_query(len, rev, first, count);
    let mut items = ctx.store.zset_range(id, &query)?;
    if flip {
        items.reverse();
    }
    Ok(items)
}

/// Redis's `zrangeGenericCommand`: the options after `key min max` (from
/// `args[first]`), the range, then the key. `store` is ZRANGESTORE (the
/// destination is `args[1]`).
fn range_generic(ctx: &mut Ctx, args: &[Bytes], first: usize, store: bool, mut by: By, mut dir: Dir) -> CmdResult {
    let (mut minidx, mut maxidx) = (first + 1, first + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = first + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && is(a, "WITHSCORES") {
            withscores = true;
        } else if is(a, "LIMIT") && left >= 2 {
            offset = int(&args[j + 1])?;
            limit = int(&args[j + 2])?;
            j += 2;
        } else if dir == Dir::Auto && is(a, "REV") {
            dir = Dir::Reverse;
        } else if by == By::Auto && is(a, "BYLEX") {
            by = By::Lex;
        } else if by == By::Auto && is(a, "BYSCORE") {
            by = By::Score;
        } else {
            return err(SYNTAX);
        }
        j += 1;
    }
    let rev = dir == Dir::Reverse;
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    }
    if withscores && by == By::Lex {
        return err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    if rev && by != By::Rank {
        // Reversed score and lex ranges are given as `max min`.
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    enum Parsed {
        Rank(i64, i64),
        Span(ZSpan),
    }
    let parsed = match by {
        By::Score => {
            let (min, max) = parse_score_range(&args[minidx], &args[maxidx])?;
            Parsed::Span(ZSpan::Score(min, max))
        }
        By::Lex => {
            let (min, max) = parse_lex_range(&args[minidx], &args[maxidx])?;
            Parsed::Span(ZSpan::Lex(min, max))
        }
        _ => Parsed::Rank(int(&args[minidx])?, int(&args[maxidx])?),
    };
    let items = match lookup(ctx, &args[first])? {
        None => vec![],
        Some(e) => match parsed {
            Parsed::Rank(start, end) => by_rank(ctx, e.id, e.len, rev, start, end)?,
            Parsed::Span(_) if offset < 0 || limit == 0 => vec![],
            Parsed::Span(span) => {
                let query = ZQuery {
                    span,
                    rev,
                    offset: offset as u64,
                    limit: u64::try_from(limit).ok(),
                };
                ctx.store.zset_range(e.id, &query)?
            }
        },
    };
    if store {
        let n = items.len() as i64;
        store_result(ctx, &args[1], &items, "zrangestore")?;
        return Ok(Reply::Int(n));
    }
    Ok(scored_reply(ctx, items, withscores))
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub(super) fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 1, false, By::Auto, Dir::Auto)
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
pub(super) fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 2, true, By::Auto, Dir::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub(super) fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 1, false, By::Rank, Dir::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub(super) fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 1, false, By::Score, Dir::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub(super) fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 1, false, By::Score, Dir::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub(super) fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 1, false, By::Lex, Dir::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub(super) fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    range_generic(ctx, args, 1, false, By::Lex, Dir::Reverse)
}

/// ZCOUNT key min max — O(log n + count).
pub(super) fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (min, max) = parse_score_range(&args[2], &args[3])?;
    count_span(ctx, &args[1], ZSpan::Score(min, max))
}

/// ZLEXCOUNT key min max — O(log n + count) over a single score.
pub(super) fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (min, max) = parse_lex_range(&args[2], &args[3])?;
    count_span(ctx, &args[1], ZSpan::Lex(min, max))
}

fn count_span(ctx: &mut Ctx, key: &[u8], span: ZSpan) -> CmdResult {
    let Some(e) = lookup(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(ctx.store.zset_count(e.id, &span)? as i64))
}

/// ZREMRANGEBYRANK key start stop — the rank walk plus O(log n) per removal.
pub(super) fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, end) = (int(&args[2])?, int(&args[3])?);
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let Some((first, count)) = rank_window(e.len, start, end) else {
        return Ok(Reply::Int(0));
    };
    let (query, _) = rank_query(e.len, false, first, count);
    let removed = ctx.store.zset_take(e.id, &query)?.len();
    report_removal(ctx, &args[1], "zremrangebyrank", removed, e.len);
    Ok(Reply::Int(removed as i64))
}

/// ZREMRANGEBYSCORE key min max — the score seek plus O(log n) per removal.
pub(super) fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (min, max) = parse_score_range(&args[2], &args[3])?;
    remove_span(ctx, &args[1], ZSpan::Score(min, max), "zremrangebyscore")
}

/// ZREMRANGEBYLEX key min max — the lex range plus O(log n) per removal.
pub(super) fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (min, max) = parse_lex_range(&args[2], &args[3])?;
    remove_span(ctx, &args[1], ZSpan::Lex(min, max), "zremrangebylex")
}

fn remove_span(ctx: &mut Ctx, key: &Bytes, span: ZSpan, event: &'static str) -> CmdResult {
    let Some(e) = lookup(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    let removed = ctx.store.zset_take(e.id, &ZQuery::span(span))?.len();
    report_removal(ctx, key, event, removed, e.len);
    Ok(Reply::Int(removed as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_windows_follow_redis() {
        assert_eq!(rank_window(5, 0, -1), Some((0, 5)));
        assert_eq!(rank_window(5, -2, 100), Some((3, 2)));
        assert_eq!(rank_window(5, 3, 1), None);
        assert_eq!(rank_window(5, 5, 10), None);
        assert_eq!(rank_window(5, -100, -6), None);
        assert_eq!(rank_window(5, i64::MIN, i64::MAX), Some((0, 5)));
    }

    #[test]
    fn rank_queries_walk_from_the_nearer_end() {
        let (q, flip) = rank_query(100, false, 90, 5);
        assert!(flip && q.rev && q.offset == 5);
        let (q, flip) = rank_query(100, true, 2, 5);
        assert!(!flip && q.rev && q.offset == 2);
    }
}
