//! Sorted set commands.
//!
//! This module holds what every sorted set command shares (key lookup, score
//! and range parsing exactly as Redis parses them, scored replies) and the
//! element commands (ZADD, ZREM, ZSCORE, ZRANK, ZPOPMIN, ZRANDMEMBER, ZSCAN,
//! ...). Range commands live in [`range`], the multi-key algebra
//! (ZUNION/ZINTER/ZDIFF) in [`algebra`].
//!
//! Costs are those of the [`ZSetStore`](crate::store::ZSetStore) methods used;
//! `n` is the size of the sorted set, `k` the number of arguments or returned
//! elements.

mod algebra;
mod numbers;
mod range;

use super::args::{int, is};
use super::events::{Event, Place};
use super::spec::{lookups_first, source_key_misses, wait_keys_then_timeout, wait_timeout_then_numkeys};
use super::{Class, CmdError, CmdResult, Ctx, NOT_INTEGER, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::store::{Entry, KeyType, ZQuery, ZSpan};
use bytes::Bytes;
use std::collections::HashMap;

pub use numbers::{parse_score, parse_score_range};

/// Members with their scores, or a command error.
pub(crate) type ItemsResult = Result<Vec<(Bytes, f64)>, CmdError>;

pub const COMMANDS: &[Spec] = &[
    Spec::write("zadd", zadd).places(lookups_first),
    Spec::write("zincrby", zincrby).places(lookups_first),
    Spec::write("zrem", zrem),
    Spec::read("zcard", zcard),
    Spec::read("zscore", zscore),
    Spec::read("zmscore", zmscore),
    Spec::read("zrank", zrank),
    Spec::read("zrevrank", zrevrank),
    Spec::write("zpopmin", zpopmin).places(pops_in_reply),
    Spec::write("zpopmax", zpopmax).places(pops_in_reply),
    Spec::write("zmpop", zmpop).places(mpops_in_reply),
    Spec::read("zrandmember", zrandmember),
    Spec::read("zscan", zscan),
    Spec::read("zcount", range::zcount),
    Spec::read("zlexcount", range::zlexcount),
    Spec::read("zrange", range::zrange).bounded(short_rank_range),
    Spec::write("zrangestore", range::zrangestore)
        .misses(source_misses)
        .places(lookups_first),
    Spec::read("zrevrange", range::zrevrange).bounded(short_rank_range),
    Spec::read("zrangebyscore", range::zrangebyscore),
    Spec::read("zrevrangebyscore", range::zrevrangebyscore),
    Spec::read("zrangebylex", range::zrangebylex),
    Spec::read("zrevrangebylex", range::zrevrangebylex),
    Spec::write("zremrangebyrank", range::zremrangebyrank),
    Spec::write("zremrangebyscore", range::zremrangebyscore),
    Spec::write("zremrangebylex", range::zremrangebylex),
    Spec::read("zunion", algebra::zunion),
    Spec::read("zinter", algebra::zinter),
    Spec::read("zdiff", algebra::zdiff),
    Spec::write("zunionstore", algebra::zunionstore)
        .misses(source_key_misses)
        .places(lookups_first),
    Spec::write("zinterstore", algebra::zinterstore)
        .misses(source_key_misses)
        .places(lookups_first),
    Spec::write("zdiffstore", algebra::zdiffstore)
        .misses(source_key_misses)
        .places(lookups_first),
    Spec::read("zintercard", algebra::zintercard),
    // Blocking: the handler is the step that pops or answers nil (see `blocking`).
    Spec::write("bzpopmin", bzpopmin_step)
        .blocks(wait_keys_then_timeout)
        .places(bzpops_in_reply),
    Spec::write("bzpopmax", bzpopmax_step)
        .blocks(wait_keys_then_timeout)
        .places(bzpops_in_reply),
    Spec::write("bzmpop", bzmpop_step)
        .blocks(wait_timeout_then_numkeys)
        .places(mpops_in_reply),
];

/// ZRANGE/ZREVRANGE by rank (optionally WITHSCORES) over a short range runs
/// inline like a fast command (see `lists::short_range`).
fn short_rank_range(args: &[Bytes]) -> bool {
    let plain = args.len() == 4 || (args.len() == 5 && args[4].eq_ignore_ascii_case(b"withscores"));
    plain && super::lists::short_index_range(&args[2], &args[3])
}

/// ZRANGESTORE reads its source, the second key.
fn source_misses(_: &super::Command, _: &[Bytes]) -> Vec<usize> {
    vec![2]
}

/// The pops' events go right after the header of the array of popped
/// members at `path` (the reply itself for ZPOPMIN, after the key for
/// BZPOPMIN's [key, member, score], inside Z/BZMPOP's [key, [[m, s]...]]);
/// the others (`del`) after the reply.
fn pops_at(events: &[Event], path: &[usize]) -> Vec<Place> {
    events
        .iter()
        .map(|e| match e.name {
            "zpopmin" | "zpopmax" => Place::BeforeElement(path.to_vec()),
            _ => Place::AfterReply,
        })
        .collect()
}

fn pops_in_reply(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    pops_at(events, &[0])
}

fn bzpops_in_reply(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    pops_at(events, &[1])
}

fn mpops_in_reply(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    pops_at(events, &[1, 0])
}

/// Redis 7.0's defaults for `zset-max-listpack-entries` / `-value`: below
/// both, Redis keeps a sorted set as a listpack, which shows in OBJECT
/// ENCODING and in ZSCAN (a listpack is returned whole, in order).
const LISTPACK_ENTRIES: i64 = 128;
const LISTPACK_VALUE: usize = 64;

/// The sorted set at `key`: None if missing, WRONGTYPE for other types.
pub(crate) fn lookup(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    match ctx.store.get(ctx.db, key)? {
        None => Ok(None),
        Some(e) if e.kind == KeyType::ZSet => Ok(Some(e)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Replaces whatever is at `dst` with a sorted set of `items` (deleting
/// `dst` if there are none): how the STORE variants write their result.
/// Reports `event` (or `del`, see [`Ctx::stored`]).
pub(crate) fn store_result(
    ctx: &mut Ctx,
    dst: &Bytes,
    items: &[(Bytes, f64)],
    event: &'static str,
) -> Result<(), CmdError> {
    let existed = ctx.exists_for_events(dst)?;
    if items.is_empty() {
        ctx.store.delete(ctx.db, dst)?;
    } else {
        let id = ctx.store.create_key(ctx.db, dst, KeyType::ZSet)?;
        ctx.store.zset_put(id, items)?;
    }
    ctx.stored(Class::ZSet, event, dst, existed, !items.is_empty());
    Ok(())
}

/// Reports that the sorted set `key`, which had `len` members, lost
/// `removed` of them to command `event`: the event, then `del` if it is now
/// empty. Nothing if nothing was removed.
pub(crate) fn report_removal(ctx: &mut Ctx, key: &Bytes, event: &'static str, removed: usize, len: i64) {
    if removed > 0 {
        ctx.notify(Class::ZSet, event, key);
        if removed as i64 >= len {
            ctx.notify(Class::Generic, "del", key);
        }
    }
}

/// The event of a pop from the low (`zpopmin`) or high (`zpopmax`) end.
fn pop_event(max: bool) -> &'static str {
    if max { "zpopmax" } else { "zpopmin" }
}

/// Members with optional scores, shaped as Redis shapes them: scores
/// interleaved in RESP2, `[member, score]` pairs in RESP3.
pub(crate) fn scored_reply(ctx: &Ctx, items: Vec<(Bytes, f64)>, withscores: bool) -> Reply {
    if !withscores {
        return Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect());
    }
    if ctx.proto >= 3 {
        Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        )
    } else {
        Reply::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                .collect(),
        )
    }
}

/// A count argument Redis reads with `getPositiveLongFromObjectOrReply`:
/// any failure gives `msg` (or Redis's default "must be positive" text).
fn positive(arg: &[u8], msg: Option<&str>) -> Result<i64, CmdError> {
    match crate::resp::request::parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => err(msg.map_or_else(
            || "ERR value is out of range, must be positive".to_string(),
            |m| format!("ERR {m}"),
        )),
    }
}

/// What Redis 7.0 answers to OBJECT ENCODING for a sorted set: "listpack"
/// while it has at most 128 elements of at most 64 bytes, else "skiplist".
/// (Redis never converts back after growing; redsql judges by current size.)
/// O(1) for large sets, O(n) with n <= 128 otherwise.
pub fn encoding(ctx: &mut Ctx, entry: &Entry) -> Result<&'static str, CmdError> {
    Ok(if as_listpack(ctx, entry)?.is_some() {
        "listpack"
    } else {
        "skiplist"
    })
}

/// All elements, in order, if Redis would hold this set as a listpack
/// (O(n) with n <= 128); None for a larger set (O(1)).
fn as_listpack(ctx: &mut Ctx, entry: &Entry) -> Result<Option<Vec<(Bytes, f64)>>, CmdError> {
    if entry.len > LISTPACK_ENTRIES {
        return Ok(None);
    }
    let items = ctx.store.zset_range(entry.id, &ZQuery::span(ZSpan::All))?;
    Ok(items.iter().all(|(m, _)| m.len() <= LISTPACK_VALUE).then_some(items))
}

// ---- ZADD / ZINCRBY ----

/// ZADD's flags (Redis's ZADD_IN_*).
#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What ZADD did to one member (Redis's `zsetAdd`).
enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// Processed with its score unchanged (INCR still replies with it).
    Unchanged(f64),
    /// Nothing to do (NX on an existing member, XX on a missing one, GT/LT not met).
    Nop,
    /// INCR produced NaN (`inf` + `-inf`).
    Nan,
}

/// Redis's `zsetAdd` decision for one member with current score `cur`.
fn add_one(flags: AddFlags, cur: Option<f64>, score: f64) -> AddOutcome {
    match cur {
        Some(_) if flags.nx => AddOutcome::Nop,
        Some(cur) => {
            let new = if flags.incr { score + cur } else { score };
            if new.is_nan() {
                AddOutcome::Nan
            } else if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                AddOutcome::Nop
            } else if new != cur {
                AddOutcome::Updated(new)
            } else {
                AddOutcome::Unchanged(new)
            }
        }
        None if flags.xx => AddOutcome::Nop,
        None => AddOutcome::Added(score),
    }
}

/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
///
/// O(k log n): one point lookup and at most one write per member.
fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, args, AddFlags::default())
}

/// ZINCRBY key increment member: ZADD with INCR, parsed by the same code as
/// in Redis (so `ZINCRBY key nx m` is a syntax error there too). O(log n).
fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zadd_generic(
        ctx,
        args,
        AddFlags {
            incr: true,
            ..AddFlags::default()
        },
    )
}

fn zadd_generic(ctx: &mut Ctx, args: &[Bytes], mut flags: AddFlags) -> CmdResult {
    let mut i = 2;
    while let Some(a) = args.get(i) {
        match () {
            _ if is(a, "NX") => flags.nx = true,
            _ if is(a, "XX") => flags.xx = true,
            _ if is(a, "GT") => flags.gt = true,
            _ if is(a, "LT") => flags.lt = true,
            _ if is(a, "CH") => flags.ch = true,
            _ if is(a, "INCR") => flags.incr = true,
            _ => break,
        }
        i += 1;
    }
    let pairs = &args[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return err(SYNTAX);
    }
    if flags.nx && flags.xx {
        return err("ERR XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && pairs.len() > 2 {
        return err("ERR INCR option supports a single increment-element pair");
    }
    let scores = pairs
        .chunks(2)
        .map(|p| parse_score(&p[0]))
        .collect::<Result<Vec<f64>, CmdError>>()?;
    let members: Vec<Bytes> = pairs.chunks(2).map(|p| p[1].clone()).collect();

    if !(flags.nx || flags.xx || flags.gt || flags.lt || flags.incr) {
        return zadd_plain(ctx, &args[1], pairs, flags.ch);
    }

    let entry = lookup(ctx, &args[1])?;
    let current = match &entry {
        Some(e) => ctx.store.zset_scores(e.id, &members)?,
        None => vec![None; members.len()],
    };
    let mut state: HashMap<&Bytes, Option<f64>> = members.iter().zip(current).collect();
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut changes: Vec<(Bytes, f64)> = Vec::new();
    for (member, &score) in members.iter().zip(&scores) {
        let cur = state.get(member).copied().flatten();
        let new = match add_one(flags, cur, score) {
            AddOutcome::Added(s) => {
                added += 1;
                Some(s)
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                Some(s)
            }
            AddOutcome::Unchanged(s) => {
                processed += 1;
                last = s;
                None
            }
            AddOutcome::Nop => None,
            AddOutcome::Nan => return err("ERR resulting score is not a number (NaN)"),
        };
        if let Some(s) = new {
            processed += 1;
            last = s;
            state.insert(member, Some(s));
            changes.push((member.clone(), s));
        }
    }
    if !changes.is_empty() {
        let id = match entry {
            Some(e) => e.id,
            None => {
                let id = ctx.store.create_key(ctx.db, &args[1], KeyType::ZSet)?;
                ctx.created(&args[1]);
                id
            }
        };
        ctx.store.zset_put(id, &changes)?;
        ctx.notify(Class::ZSet, if flags.incr { "zincr" } else { "zadd" }, &args[1]);
    }
    Ok(if flags.incr {
        if processed > 0 { Reply::Double(last) } else { Reply::Nil }
    } else {
        Reply::Int(if flags.ch { added + updated } else { added })
    })
}

/// ZADD without NX/XX/GT/LT/INCR (the common case): every member takes its
/// score, and the store does not need the current scores first
/// ([`crate::store::ZSetStore::zset_set_scores`]). Replies the number added
/// (with CH: added or re-scored).
fn zadd_plain(ctx: &mut Ctx, key: &Bytes, pairs: &[Bytes], ch: bool) -> CmdResult {
    let items = pairs
        .chunks(2)
        .map(|p| Ok((p[1].clone(), parse_score(&p[0])?)))
        .collect::<Result<Vec<(Bytes, f64)>, CmdError>>()?;
    let id = match lookup(ctx, key)? {
        Some(e) => e.id,
        None => {
            let id = ctx.store.create_key(ctx.db, key, KeyType::ZSet)?;
            ctx.created(key);
            id
        }
    };
    let (added, updated) = ctx.store.zset_set_scores(id, &items)?;
    if added + updated > 0 {
        ctx.notify(Class::ZSet, "zadd", key);
    }
    Ok(Reply::Int(if ch { added + updated } else { added }))
}

// ---- element reads and removals ----

/// ZREM key member [member ...] — O(k log n).
fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let removed = ctx.store.zset_remove(e.id, &args[2..])?;
    report_removal(ctx, &args[1], "zrem", removed as usize, e.len);
    Ok(Reply::Int(removed))
}

/// ZCARD key — O(1) (the key's stored length).
fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(lookup(ctx, &args[1])?.map_or(0, |e| e.len)))
}

/// ZSCORE key member — O(log n).
fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    let score = ctx.store.zset_scores(e.id, &args[2..3])?[0];
    Ok(score.map_or(Reply::Nil, Reply::Double))
}

/// ZMSCORE key member [member ...] — O(k log n).
fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let scores = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.zset_scores(e.id, &args[2..])?,
        None => vec![None; args.len() - 2],
    };
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| s.map_or(Reply::Nil, Reply::Double))
            .collect(),
    ))
}

/// ZRANK key member — O(log n + rank): a count along the score index.
fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rank(ctx, args, false)
}

/// ZREVRANK key member — O(log n + rank) (ascending rank, then len - 1 - rank).
fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rank(ctx, args, true)
}

fn rank(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    Ok(match ctx.store.zset_rank(e.id, &args[2])? {
        Some((r, _)) if rev => Reply::Int(e.len - 1 - r as i64),
        Some((r, _)) => Reply::Int(r as i64),
        None => Reply::Nil,
    })
}

// ---- pops ----

/// ZPOPMIN key [count] — O(log n + count) (the first elements of the score index).
fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zpop(ctx, args, false)
}

/// ZPOPMAX key [count] — O(log n + count) (the last elements of the score index).
fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    zpop(ctx, args, true)
}

fn zpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CmdResult {
    if args.len() > 3 {
        return err(SYNTAX);
    }
    let count = match args.get(2) {
        Some(c) => Some(positive(c, None)?),
        None => None,
    };
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    let items = pop(ctx, e.id, max, count.unwrap_or(1))?;
    report_removal(ctx, &args[1], pop_event(max), items.len(), e.len);
    // RESP3 nests pairs only when a count was given.
    if ctx.proto >= 3 && count.is_some() {
        Ok(scored_reply(ctx, items, true))
    } else {
        Ok(Reply::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                .collect(),
        ))
    }
}

/// Removes and returns the `count` lowest (or highest) elements.
fn pop(ctx: &mut Ctx, id: i64, max: bool, count: i64) -> Result<Vec<(Bytes, f64)>, CmdError> {
    if count <= 0 {
        return Ok(vec![]);
    }
    let query = ZQuery {
        span: ZSpan::All,
        rev: max,
        offset: 0,
        limit: Some(count as u64),
    };
    Ok(ctx.store.zset_take(id, &query)?)
}

/// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count] — pops from the first
/// non-empty sorted set: O(k + log n + count).
fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    mpop(ctx, args, 1, None)
}

/// ZMPOP, or BZMPOP's step: `numkeys` is at `args[numkeys_at]`; a timeout, if
/// any, is read after the options (Redis's order of errors).
fn mpop(ctx: &mut Ctx, args: &[Bytes], numkeys_at: usize, timeout_at: Option<usize>) -> CmdResult {
    let numkeys = match crate::resp::request::parse_i64(&args[numkeys_at]) {
        Some(n) if n >= 1 => n as usize,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    let Some(where_idx) = numkeys.checked_add(numkeys_at + 1).filter(|&w| w < args.len()) else {
        return err(SYNTAX);
    };
    let max = match &args[where_idx] {
        a if is(a, "MIN") => false,
        a if is(a, "MAX") => true,
        _ => return err(SYNTAX),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "COUNT") && j + 1 < args.len() {
            match crate::resp::request::parse_i64(&args[j + 1]) {
                Some(n) if n >= 1 => count = Some(n),
                _ => return err("ERR count should be greater than 0"),
            }
            j += 2;
        } else {
            return err(SYNTAX);
        }
    }
    if let Some(t) = timeout_at {
        super::blocking::timeout_ms(&args[t])?;
    }
    for key in &args[numkeys_at + 1..where_idx] {
        if let Some(e) = lookup(ctx, key)? {
            let items = pop(ctx, e.id, max, count.unwrap_or(1))?;
            report_removal(ctx, key, pop_event(max), items.len(), e.len);
            let pairs = items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect();
            return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Array(pairs)]));
        }
    }
    Ok(Reply::NilArray)
}

// ---- the storage steps of the blocking commands (see `commands::blocking`) ----

/// BZPOPMIN / BZPOPMAX key [key ...] timeout: pops the lowest (highest)
/// element of the first non-empty sorted set, answering `[key, member,
/// score]`; a null array if all are empty.
fn bzpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CmdResult {
    let last = args.len() - 1;
    super::blocking::timeout_ms(&args[last])?;
    for key in &args[1..last] {
        if let Some(e) = lookup(ctx, key)?
            && let Some((member, score)) = pop(ctx, e.id, max, 1)?.pop()
        {
            report_removal(ctx, key, pop_event(max), 1, e.len);
            return Ok(Reply::Array(vec![
                Reply::Bulk(key.clone()),
                Reply::Bulk(member),
                Reply::Double(score),
            ]));
        }
    }
    Ok(Reply::NilArray)
}

/// BZPOPMIN's step.
pub fn bzpopmin_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bzpop(ctx, args, false)
}

/// BZPOPMAX's step.
pub fn bzpopmax_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bzpop(ctx, args, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]
pub fn bzmpop_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    mpop(ctx, args, 2, Some(1))
}

// ---- random members ----

/// ZRANDMEMBER key [count [WITHSCORES]]
///
/// One element: O(log n) (a seek to a random member hash). Negative count
/// (repetitions allowed): O(|count| log n). Positive count: the whole set
/// when count >= n (O(n), highest first as Redis returns a listpack); a partial shuffle of all elements when count is
/// over a third of n (O(n)); otherwise random seeks until count distinct
/// members are found (O(count log n) expected).
fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 {
        let Some(e) = lookup(ctx, &args[1])? else {
            return Ok(Reply::Nil);
        };
        return Ok(ctx.store.zset_random(e.id)?.map_or(Reply::Nil, |(m, _)| Reply::Bulk(m)));
    }
    let l = match crate::resp::request::parse_i64(&args[2]) {
        Some(i64::MIN) => {
            return err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        }
        Some(l) => l,
        None => return err(NOT_INTEGER),
    };
    let withscores = match args.len() {
        3 => false,
        4 if is(&args[3], "WITHSCORES") => true,
        _ => return err(SYNTAX),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return err("ERR value is out of range");
    }
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    let items = random_items(ctx, &e, l)?;
    Ok(scored_reply(ctx, items, withscores))
}

/// ZRANDMEMBER's selection for count `l` (see [`zrandmember`] for the cases).
fn random_items(ctx: &mut Ctx, e: &Entry, l: i64) -> ItemsResult {
    let count = l.unsigned_abs();
    Ok(if count == 0 {
        vec![]
    } else if l < 0 || count == 1 {
        let mut out = Vec::new();
        for _ in 0..count {
            match ctx.store.zset_random(e.id)? {
                Some(item) => out.push(item),
                None => break,
            }
        }
        out
    } else if count >= e.len as u64 {
        // The whole set, in the order Redis walks a listpack for this case.
        let all = ZQuery {
            rev: true,
            ..ZQuery::span(ZSpan::All)
        };
        ctx.store.zset_range(e.id, &all)?
    } else if count * 3 > e.len as u64 {
        let mut all = ctx.store.zset_range(e.id, &ZQuery::span(ZSpan::All))?;
        for i in 0..count as usize {
            let j = i + (crate::util::random_u64() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count as usize);
        all
    } else {
        let mut seen: HashMap<Bytes, f64> = HashMap::new();
        let mut out = Vec::new();
        while (out.len() as u64) < count {
            let Some((m, s)) = ctx.store.zset_random(e.id)? else {
                break;
            };
            if seen.insert(m.clone(), s).is_none() {
                out.push((m, s));
            }
        }
        out
    })
}

// ---- ZSCAN ----

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
///
/// Cursors are member hashes (see the SCAN conventions on the store), so a
/// call costs O(log n + count). A set Redis would keep as a listpack is
/// returned whole, in order, with cursor 0, as Redis does.
fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::args::scan_cursor(&args[2])?;
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![Reply::bulk_str("0"), Reply::Array(vec![])]));
    };
    let mut pattern: Option<&Bytes> = None;
    let mut count = 10usize;
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "COUNT") && i + 1 < args.len() {
            let n = int(&args[i + 1])?;
            if n < 1 {
                return err(SYNTAX);
            }
            count = n.min(1 << 20) as usize;
        } else if is(&args[i], "MATCH") && i + 1 < args.len() {
            pattern = Some(&args[i + 1]);
        } else {
            return err(SYNTAX);
        }
        i += 2;
    }
    let (next, items) = match as_listpack(ctx, &e)? {
        Some(all) => (0, all),
        None => {
            let page = ctx.store.zset_scan(e.id, cursor, count)?;
            (page.cursor, page.items)
        }
    };
    let keep = |m: &Bytes| match pattern {
        None => true,
        Some(p) if p.as_ref() == b"*" => true,
        Some(p) => crate::glob::matches(p, m, false),
    };
    let flat = items
        .into_iter()
        .filter(|(m, _)| keep(m))
        .flat_map(|(m, s)| {
            [
                Reply::Bulk(m),
                Reply::Bulk(Bytes::from(crate::resp::reply::format_double(s))),
            ]
        })
        .collect();
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(flat),
    ]))
}
