//! List commands: Redis 7.0's non-blocking list family (LPUSH, LPOP, LRANGE,
//! LINSERT, LPOS, LMOVE, LMPOP, ...).
//!
//! Each command parses its arguments in the order Redis does (so that the
//! same error wins when several are wrong), checks the key's type, resolves
//! Redis's negative indexes against the list's length (`Entry::len`, O(1)),
//! and leaves the element work to [`ListStore`](crate::store::ListStore).
//! Costs below are those of the SQLite backend: n is the list's length, k the
//! number of elements a command returns or adds.

use super::args::{int, is};
use super::blocking::timeout_ms;
use super::events::{Event, Place};
use super::spec::{all_after, lookups_first, split_at, wait_keys_then_timeout, wait_timeout_then_numkeys};
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use crate::store::{End, Entry, KeyType, PosSearch};
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::write("lpush", lpush).places(lookups_first),
    Spec::write("rpush", rpush).places(lookups_first),
    Spec::write("lpushx", lpushx).places(lookups_first),
    Spec::write("rpushx", rpushx).places(lookups_first),
    Spec::write("lpop", lpop).places(all_after),
    Spec::write("rpop", rpop).places(all_after),
    Spec::read("llen", llen),
    Spec::read("lrange", lrange).bounded(short_range),
    Spec::read("lindex", lindex),
    Spec::write("lset", lset).places(all_after),
    Spec::write("linsert", linsert),
    Spec::write("lrem", lrem),
    Spec::write("ltrim", ltrim),
    Spec::read("lpos", lpos),
    Spec::write("lmove", lmove).places(push_then_reply),
    Spec::write("rpoplpush", rpoplpush).places(push_then_reply),
    Spec::write("lmpop", lmpop).places(all_after),
    // Blocking: the handler is the step that pops or answers nil (see `blocking`).
    Spec::write("blpop", blpop_step)
        .blocks(wait_keys_then_timeout)
        .places(all_after),
    Spec::write("brpop", brpop_step)
        .blocks(wait_keys_then_timeout)
        .places(all_after),
    Spec::write("blmove", blmove_step)
        .blocks(wait_blmove)
        .places(push_then_reply),
    Spec::write("brpoplpush", brpoplpush_step)
        .blocks(wait_brpoplpush)
        .places(push_then_reply),
    Spec::write("blmpop", blmpop_step)
        .blocks(wait_timeout_then_numkeys)
        .places(all_after),
];

/// Most elements a range read may ask for and still run inline.
pub const INLINE_RANGE: i64 = 512;

/// LRANGE asking for at most [`INLINE_RANGE`] elements (both indexes from
/// the same end, so the count is known without the length) costs about a
/// fast command: handing it to a blocking thread would cost more than
/// reading a hundred elements.
pub fn short_range(args: &[Bytes]) -> bool {
    args.len() == 4 && short_index_range(&args[2], &args[3])
}

/// Whether `start..=stop` (integers, both from the same end) spans fewer
/// than [`INLINE_RANGE`] elements.
pub fn short_index_range(start: &[u8], stop: &[u8]) -> bool {
    let index = crate::resp::request::parse_i64;
    match (index(start), index(stop)) {
        (Some(start), Some(stop)) => (start >= 0) == (stop >= 0) && stop.saturating_sub(start) < INLINE_RANGE,
        _ => false,
    }
}

/// LMOVE and friends: the pop's events and the push's, the reply right after the push.
fn push_then_reply(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    let before = events
        .iter()
        .position(|e| matches!(e.name, "lpush" | "rpush"))
        .map_or(0, |i| i + 1);
    split_at(events, before)
}

fn wait_blmove(args: &[Bytes]) -> Option<(Vec<Bytes>, usize)> {
    Some((vec![args[1].clone()], 5))
}

fn wait_brpoplpush(args: &[Bytes]) -> Option<(Vec<Bytes>, usize)> {
    Some((vec![args[1].clone()], 3))
}

/// What `OBJECT ENCODING` answers for a list: Redis 7.0 keeps every list,
/// however small, in a quicklist.
pub fn encoding(_ctx: &mut Ctx, _entry: &Entry) -> Result<&'static str, CmdError> {
    Ok("quicklist")
}

/// The list at `key`: `None` if missing, WRONGTYPE if the key holds another type.
fn list_entry(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    match ctx.store.get(ctx.db, key)? {
        Some(e) if e.kind != KeyType::List => Err(CmdError::WrongType),
        e => Ok(e),
    }
}

/// An integer argument that must be at least `min`; anything else (not a
/// number, or too small) answers `msg`, like Redis's `getRangeLongFromObjectOrReply`.
fn int_at_least(arg: &[u8], min: i64, msg: &str) -> Result<i64, CmdError> {
    match parse_i64(arg) {
        Some(v) if v >= min => Ok(v),
        _ => err(msg),
    }
}

/// A `LEFT | RIGHT` argument.
fn end_arg(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "LEFT") {
        Ok(End::Head)
    } else if is(arg, "RIGHT") {
        Ok(End::Tail)
    } else {
        err(SYNTAX)
    }
}

/// Resolves a possibly negative index against a list of `len` elements;
/// `None` if it falls outside.
fn index_in(index: i64, len: i64) -> Option<i64> {
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i)
}

/// Resolves a `start stop` range (negative = from the tail) the way LRANGE
/// and LTRIM do; `None` if the range selects nothing.
fn range_in(start: i64, stop: i64, len: i64) -> Option<(i64, i64)> {
    let start = if start < 0 { len + start } else { start }.max(0);
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        None
    } else {
        Some((start, stop.min(len - 1)))
    }
}

fn bulks(values: Vec<Bytes>) -> Reply {
    Reply::Array(values.into_iter().map(Reply::Bulk).collect())
}

/// The event of a push at `end`.
fn push_event(end: End) -> &'static str {
    if end == End::Head { "lpush" } else { "rpush" }
}

/// Reports that `popped` elements were popped at `end` of the list `key`
/// that had `len` of them: `lpop` or `rpop`, then `del` if it is now empty.
fn report_pop(ctx: &mut Ctx, key: &Bytes, end: End, popped: usize, len: i64) {
    ctx.notify(Class::List, if end == End::Head { "lpop" } else { "rpop" }, key);
    if popped as i64 >= len {
        ctx.notify(Class::Generic, "del", key);
    }
}

/// Reports that the list `key`, which had `len` elements, lost `removed` of
/// them to command `event`: the event, then `del` if it is now empty.
fn report_removal(ctx: &mut Ctx, key: &Bytes, event: &'static str, removed: i64, len: i64) {
    ctx.notify(Class::List, event, key);
    if removed >= len {
        ctx.notify(Class::Generic, "del", key);
    }
}

/// LPUSH / RPUSH / LPUSHX / RPUSHX: pushes `args[2..]` at `end`; with
/// `only_existing`, does nothing to a missing key. O(k log n).
fn push(ctx: &mut Ctx, args: &[Bytes], end: End, only_existing: bool) -> CmdResult {
    let key = &args[1];
    let (id, len) = match list_entry(ctx, key)? {
        Some(e) => (e.id, e.len),
        None if only_existing => return Ok(Reply::Int(0)),
        None => {
            let id = ctx.store.create_key(ctx.db, key, KeyType::List)?;
            ctx.created(key);
            (id, 0)
        }
    };
    let len = ctx.store.list_push(id, len, end, &args[2..])?;
    ctx.notify(Class::List, push_event(end), key);
    Ok(Reply::Int(len))
}

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Head, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Tail, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Head, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    push(ctx, args, End::Tail, true)
}

/// LPOP / RPOP key [count]: one element (a bulk, nil if missing), or with a
/// count up to that many (an array, a null array if missing). O(k log n).
/// Redis's table gives these commands arity -2, so the extra argument is
/// rejected here, with the arity error.
fn pop(ctx: &mut Ctx, args: &[Bytes], end: End) -> CmdResult {
    if args.len() > 3 {
        let name = if end == End::Head { "lpop" } else { "rpop" };
        return err(format!("ERR wrong number of arguments for '{name}' command"));
    }
    let count = match args.get(2) {
        Some(a) => Some(int_at_least(a, 0, "ERR value is out of range, must be positive")?),
        None => None,
    };
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(if count.is_some() { Reply::NilArray } else { Reply::Nil });
    };
    let values = match count {
        Some(0) => return Ok(Reply::Array(Vec::new())),
        n => ctx.store.list_pop(e.id, e.len, end, n.unwrap_or(1) as u64)?,
    };
    report_pop(ctx, &args[1], end, values.len(), e.len);
    Ok(match count {
        Some(_) => bulks(values),
        None => values.into_iter().next().map_or(Reply::Nil, Reply::Bulk),
    })
}

/// LPOP key [count]
fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop(ctx, args, End::Head)
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    pop(ctx, args, End::Tail)
}

/// LLEN key. O(1): the length is kept with the key.
fn llen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(list_entry(ctx, &args[1])?.map_or(0, |e| e.len)))
}

/// LRANGE key start stop. O(log n + k): one index seek, then a range read.
fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    match range_in(start, stop, e.len) {
        Some((start, stop)) => Ok(bulks(ctx.store.list_range(e.id, start, stop)?)),
        None => Ok(Reply::Array(Vec::new())),
    }
}

/// LINDEX key index. O(log n): one index seek.
fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    match index_in(int(&args[2])?, e.len) {
        Some(i) => Ok(ctx.store.list_get(e.id, i)?.map_or(Reply::Nil, Reply::Bulk)),
        None => Ok(Reply::Nil),
    }
}

/// LSET key index element. O(log n): one index seek.
fn lset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = list_entry(ctx, &args[1])? else {
        return err("ERR no such key");
    };
    let index = int(&args[2])?;
    match index_in(index, e.len) {
        Some(i) if ctx.store.list_set(e.id, i, &args[3])? => {
            ctx.notify(Class::List, "lset", &args[1]);
            Ok(Reply::ok())
        }
        _ => err("ERR index out of range"),
    }
}

/// LINSERT key BEFORE | AFTER pivot element: the new length, -1 if the pivot
/// is not found, 0 if the key is missing. O(n) to find the pivot, plus moving
/// the shorter side of the list by one.
fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let after = if is(&args[2], "AFTER") {
        true
    } else if is(&args[2], "BEFORE") {
        false
    } else {
        return err(SYNTAX);
    };
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let len = ctx.store.list_insert(e.id, &args[3], &args[4], after)?;
    if len.is_some() {
        ctx.notify(Class::List, "linsert", &args[1]);
    }
    Ok(Reply::Int(len.unwrap_or(-1)))
}

/// LREM key count element: removes the first `count` matches (from the tail
/// if negative, all if 0). O(n): a scan for the matches, then the shorter
/// side closes the gaps.
fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let count = int(&args[2])?;
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let removed = ctx.store.list_remove(e.id, &args[3], count)?;
    if removed > 0 {
        report_removal(ctx, &args[1], "lrem", removed, e.len);
    }
    Ok(Reply::Int(removed))
}

/// LTRIM key start stop. O(log n + removed).
fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (start, stop) = (int(&args[2])?, int(&args[3])?);
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(Reply::ok());
    };
    // An empty range empties the list (start > stop).
    let (start, stop) = range_in(start, stop, e.len).unwrap_or((0, -1));
    ctx.store.list_trim(e.id, start, stop)?;
    report_removal(ctx, &args[1], "ltrim", e.len - (stop - start + 1), e.len);
    Ok(Reply::ok())
}

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                         negative to start from the end of the list";

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: the index
/// of a match (nil if none), or with COUNT an array of them. O(n) at worst:
/// a scan of (at most MAXLEN) elements from the chosen end.
fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0i64);
    let mut i = 3;
    while i < args.len() {
        let (opt, value) = (&args[i], args.get(i + 1));
        match value {
            Some(v) if is(opt, "RANK") => {
                rank = int(v)?;
                if rank == 0 {
                    return err(RANK_ZERO);
                }
            }
            Some(v) if is(opt, "COUNT") => count = Some(int_at_least(v, 0, "ERR COUNT can't be negative")?),
            Some(v) if is(opt, "MAXLEN") => maxlen = int_at_least(v, 0, "ERR MAXLEN can't be negative")?,
            _ => return err(SYNTAX),
        }
        i += 2;
    }
    let Some(e) = list_entry(ctx, &args[1])? else {
        return Ok(if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Nil
        });
    };
    // Redis negates a negative rank in a C long: RANK -2^63 stays negative,
    // so every match qualifies and COUNT never stops the search.
    let unbounded_rank = rank == i64::MIN;
    let search = PosSearch {
        from: if rank < 0 { End::Tail } else { End::Head },
        skip: if unbounded_rank { 0 } else { rank.unsigned_abs() - 1 },
        limit: match count {
            None => Some(1),
            Some(0) => None,
            Some(_) if unbounded_rank => None,
            Some(n) => Some(n as u64),
        },
        maxlen: (maxlen > 0).then_some(maxlen as u64),
    };
    let found = ctx.store.list_positions(e.id, &args[2], search)?;
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(Reply::Int).collect()),
        None => found.first().map_or(Reply::Nil, |&p| Reply::Int(p)),
    })
}

/// LMOVE / RPOPLPUSH: moves one element from `from` of `args[1]` to `to` of
/// `args[2]` (the same list rotates) and returns it. O(log n).
fn move_one(ctx: &mut Ctx, args: &[Bytes], from: End, to: End) -> CmdResult {
    let Some(src) = list_entry(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    let (dst, created) = match list_entry(ctx, &args[2])? {
        Some(d) => (d.id, false),
        None => (ctx.store.create_key(ctx.db, &args[2], KeyType::List)?, true),
    };
    let moved = ctx.store.list_move(src.id, dst, from, to)?;
    if moved.is_some() {
        // As Redis: the push, then the pop (a list rotating onto itself
        // keeps its element).
        if created {
            ctx.created(&args[2]);
        }
        ctx.notify(Class::List, push_event(to), &args[2]);
        let popped = if src.id == dst { 0 } else { 1 };
        report_pop(ctx, &args[1], from, popped, src.len);
    }
    Ok(moved.map_or(Reply::Nil, Reply::Bulk))
}

/// LMOVE source destination LEFT | RIGHT LEFT | RIGHT
fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (from, to) = (end_arg(&args[3])?, end_arg(&args[4])?);
    move_one(ctx, args, from, to)
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    move_one(ctx, args, End::Tail, End::Head)
}

/// LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]: pops up to `count`
/// elements from the first non-empty list, answering `[key, [elements]]`, or
/// a null array if every list is empty. O(keys + k log n).
fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    mpop(ctx, args, 1, None)
}

/// LMPOP, or BLMPOP's step: `numkeys` is at `args[numkeys_at]`; a timeout, if
/// any, is read after the options (Redis's order of errors).
fn mpop(ctx: &mut Ctx, args: &[Bytes], numkeys_at: usize, timeout_at: Option<usize>) -> CmdResult {
    let numkeys = int_at_least(&args[numkeys_at], 1, "ERR numkeys should be greater than 0")?;
    let Some(where_at) = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&w| w < args.len())
    else {
        return err(SYNTAX);
    };
    let end = end_arg(&args[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        match args.get(i + 1) {
            Some(v) if count.is_none() && is(&args[i], "COUNT") => {
                count = Some(int_at_least(v, 1, "ERR count should be greater than 0")?);
            }
            _ => return err(SYNTAX),
        }
        i += 2;
    }
    if let Some(t) = timeout_at {
        timeout_ms(&args[t])?;
    }
    for key in &args[numkeys_at + 1..where_at] {
        if let Some(e) = list_entry(ctx, key)? {
            let values = ctx.store.list_pop(e.id, e.len, end, count.unwrap_or(1) as u64)?;
            report_pop(ctx, key, end, values.len(), e.len);
            return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), bulks(values)]));
        }
    }
    Ok(Reply::NilArray)
}

// ---- the storage steps of the blocking commands (see `commands::blocking`) ----

/// BLPOP / BRPOP key [key ...] timeout: pops one element from the first
/// non-empty list, answering `[key, element]`; a null array if all are empty.
/// Every key is type-checked in order until one has elements.
fn bpop(ctx: &mut Ctx, args: &[Bytes], end: End) -> CmdResult {
    let last = args.len() - 1;
    timeout_ms(&args[last])?;
    for key in &args[1..last] {
        if let Some(e) = list_entry(ctx, key)?
            && let Some(value) = ctx.store.list_pop(e.id, e.len, end, 1)?.pop()
        {
            report_pop(ctx, key, end, 1, e.len);
            return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(value)]));
        }
    }
    Ok(Reply::NilArray)
}

/// BLPOP's step.
pub fn blpop_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bpop(ctx, args, End::Head)
}

/// BRPOP's step.
pub fn brpop_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    bpop(ctx, args, End::Tail)
}

/// BLMOVE source destination LEFT | RIGHT LEFT | RIGHT timeout: LMOVE, once
/// the arguments are valid. An empty source answers a null bulk without
/// looking at the destination, as Redis does before blocking.
pub fn blmove_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (from, to) = (end_arg(&args[3])?, end_arg(&args[4])?);
    timeout_ms(&args[5])?;
    move_one(ctx, args, from, to)
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    timeout_ms(&args[3])?;
    move_one(ctx, args, End::Tail, End::Head)
}

/// BLMPOP timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]
pub fn blmpop_step(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    mpop(ctx, args, 2, Some(1))
}

#[cfg(test)]
mod tests {
    use super::{index_in, range_in};

    #[test]
    fn indexes_resolve_like_redis() {
        assert_eq!(index_in(0, 3), Some(0));
        assert_eq!(index_in(-1, 3), Some(2));
        assert_eq!(index_in(-3, 3), Some(0));
        assert_eq!(index_in(-4, 3), None);
        assert_eq!(index_in(3, 3), None);
        assert_eq!(index_in(i64::MIN, 3), None);
        assert_eq!(index_in(0, 0), None);
    }

    #[test]
    fn ranges_resolve_like_redis() {
        assert_eq!(range_in(0, -1, 3), Some((0, 2)));
        assert_eq!(range_in(-100, 100, 3), Some((0, 2)));
        assert_eq!(range_in(2, 1, 3), None);
        assert_eq!(range_in(3, 5, 3), None);
        assert_eq!(range_in(0, -4, 3), None);
        assert_eq!(range_in(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(range_in(0, 0, 0), None);
    }
}
