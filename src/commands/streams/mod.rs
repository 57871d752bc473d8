//! Stream commands: Redis 7.0's XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
//! XREAD (blocking with BLOCK), XSETID, and the consumer groups (`groups`:
//! XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM; `info`: XINFO).
//!
//! What Redis decides is decided here, once for every backend: ids
//! (parsing, generation), trimming, the groups' `entries-read` and lag.
//! The store only reads and writes rows ([`StreamStore`](crate::store::StreamStore)).
//!
//! **Approximate trimming** (`MAXLEN ~`, `MINID ~`) removes whole nodes only,
//! as Redis does. Redis's nodes are runs of up to `stream-node-max-entries`
//! (100) entries in insertion order; redsql has no nodes, so it counts them:
//! entry number `n` (in `entries-added` order) is in node `(n - 1) / 100`.
//! That is Redis's layout for streams grown by XADD and trimmed from the
//! head; Redis also starts a node when one reaches `stream-node-max-bytes`
//! (4 kB), which redsql does not count, so with big entries Redis may trim
//! somewhat more than redsql. Exact trimming (`=` or no modifier) is exact.

mod groups;
mod ids;
mod info;

use super::args::{int, is};
use super::spec::{Resolve, all_after, lookups_first};
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::store::{Entry, KeyType, StreamEntry, StreamId, StreamMeta};
use bytes::Bytes;
pub(crate) use ids::{parse_id, parse_strict_id};

pub const COMMANDS: &[Spec] = &[
    Spec::write("xadd", xadd).places(lookups_first),
    Spec::read("xrange", xrange).bounded(short_count),
    Spec::read("xrevrange", xrevrange).bounded(short_count),
    Spec::read("xlen", xlen),
    Spec::write("xdel", xdel),
    Spec::write("xtrim", xtrim),
    Spec::write("xsetid", xsetid).places(all_after),
    // Blocking: the handler is the non-blocking read; `$` is resolved once.
    Spec::read("xread", xread)
        .blocks_ms(
            wait_xread,
            Some(Resolve {
                needed: has_dollar,
                run: resolve_dollar,
            }),
            Some(xread_woken),
        )
        .misses(xread_misses),
    Spec::write("xreadgroup", groups::xreadgroup).blocks_ms(wait_xread, None, Some(groups::xreadgroup_woken)),
    Spec::write("xack", groups::xack),
    Spec::read("xpending", groups::xpending),
    Spec::write("xclaim", groups::xclaim),
    Spec::write("xautoclaim", groups::xautoclaim),
    Spec::write("xgroup|create", groups::xgroup_create).places(lookups_first),
    Spec::write("xgroup|setid", groups::xgroup_setid).places(all_after),
    Spec::write("xgroup|destroy", groups::xgroup_destroy).places(all_after),
    Spec::write("xgroup|createconsumer", groups::xgroup_createconsumer),
    Spec::write("xgroup|delconsumer", groups::xgroup_delconsumer),
    Spec::pure("xgroup|help", groups::xgroup_help),
    Spec::read("xinfo|stream", info::xinfo_stream),
    Spec::read("xinfo|groups", info::xinfo_groups),
    Spec::read("xinfo|consumers", info::xinfo_consumers),
    Spec::pure("xinfo|help", info::xinfo_help),
];

/// XRANGE/XREVRANGE with a small COUNT costs about a fast command (a seek and
/// that many rows): it runs inline, as LRANGE over a short range does.
fn short_count(args: &[Bytes]) -> bool {
    args.len() == 6
        && args[4].eq_ignore_ascii_case(b"COUNT")
        && crate::resp::request::parse_i64(&args[5]).is_some_and(|n| (0..=super::lists::INLINE_RANGE).contains(&n))
}

/// Entries per node of Redis's default `stream-node-max-entries`.
const NODE_ENTRIES: u64 = 100;

/// What `OBJECT ENCODING` answers for a stream.
pub fn encoding() -> &'static str {
    "stream"
}

/// The stream at `key`: `None` if missing, WRONGTYPE if the key holds another type.
pub(crate) fn stream_entry(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    match ctx.store.meta(ctx.db, key)? {
        Some(e) if e.kind != KeyType::Stream => Err(CmdError::WrongType),
        e => Ok(e),
    }
}

/// An id as a bulk reply.
pub(crate) fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id.text())
}

/// An entry as Redis replies it: `[id, [field, value, ...]]`.
pub(crate) fn entry_reply(e: StreamEntry) -> Reply {
    Reply::Array(vec![
        id_reply(e.id),
        Reply::Array(e.fields.into_iter().map(Reply::Bulk).collect()),
    ])
}

pub(crate) fn entries_reply(entries: Vec<StreamEntry>) -> Reply {
    Reply::Array(entries.into_iter().map(entry_reply).collect())
}

/// The last entry's id (`streamLastValidID`), or 0-0 when empty.
pub(crate) fn last_valid_id(ctx: &mut Ctx, key_id: i64) -> Result<StreamId, CmdError> {
    let last = ctx.store.stream_range(key_id, StreamId::MIN, StreamId::MAX, true, 1)?;
    Ok(last.first().map_or(StreamId::MIN, |e| e.id))
}

/// The first entry's id (`first_id`), or 0-0 when empty.
pub(crate) fn first_id(ctx: &mut Ctx, key_id: i64) -> Result<StreamId, CmdError> {
    let first = ctx.store.stream_range(key_id, StreamId::MIN, StreamId::MAX, false, 1)?;
    Ok(first.first().map_or(StreamId::MIN, |e| e.id))
}

// ---- DUMP / RESTORE ----

/// The stream at `e` as a DUMP payload carries it, in nodes as trimming
/// counts them.
pub fn to_rdb(ctx: &mut Ctx, e: &Entry) -> Result<crate::rdb::stream::Stream, CmdError> {
    use crate::rdb::stream::{Group, Stream};
    let meta = ctx.store.stream_meta(e.id)?;
    let len = e.len as u64;
    let entries = ctx
        .store
        .stream_range(e.id, StreamId::MIN, StreamId::MAX, false, 0)?
        .into_iter()
        .map(|x| (x.id, x.fields))
        .collect();
    let mut groups = Vec::new();
    for g in ctx.store.stream_groups(e.id)? {
        let pending = ctx
            .store
            .stream_pending(e.id, &g.name, None, StreamId::MIN, StreamId::MAX, None, 0)?
            .into_iter()
            .map(|p| (p.id, p.consumer, p.delivered, p.count))
            .collect();
        let consumers = ctx
            .store
            .stream_consumers(e.id, &g.name)?
            .into_iter()
            .map(|c| (c.name, c.seen))
            .collect();
        groups.push(Group {
            name: g.name,
            last: g.last,
            entries_read: g.entries_read,
            pending,
            consumers,
        });
    }
    Ok(Stream {
        entries,
        last: meta.last,
        first: first_id(ctx, e.id)?,
        max_deleted: meta.max_deleted,
        added: meta.added,
        groups,
        first_node: (NODE_ENTRIES - meta.added.saturating_sub(len) % NODE_ENTRIES) as usize,
    })
}

/// Stores a restored stream at `key` (which holds no live key).
pub fn from_rdb(ctx: &mut Ctx, key: &[u8], s: &crate::rdb::stream::Stream) -> Result<(), CmdError> {
    use crate::store::{StreamConsumer, StreamPending};
    let k = ctx.store.create_key(ctx.db, key, KeyType::Stream)?;
    for (id, fields) in &s.entries {
        ctx.store.stream_add(k, *id, fields)?;
    }
    ctx.store.stream_set_meta(
        k,
        &StreamMeta {
            last: s.last,
            added: s.added,
            max_deleted: s.max_deleted,
        },
    )?;
    ctx.store.stream_touch(k, s.entries.len() as i64)?;
    for g in &s.groups {
        ctx.store.stream_set_group(
            k,
            &crate::store::StreamGroup {
                name: g.name.clone(),
                last: g.last,
                entries_read: g.entries_read,
            },
        )?;
        for (name, seen) in &g.consumers {
            let c = StreamConsumer {
                name: name.clone(),
                seen: *seen,
                pending: 0,
            };
            ctx.store.stream_set_consumer(k, &g.name, &c)?;
        }
        let pending: Vec<StreamPending> = g
            .pending
            .iter()
            .map(|(id, consumer, delivered, count)| StreamPending {
                id: *id,
                consumer: consumer.clone(),
                delivered: *delivered,
                count: *count,
            })
            .collect();
        ctx.store.stream_set_pending(k, &g.name, &pending)?;
    }
    Ok(())
}

// ---- XADD / XTRIM ----

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// The trimming options of XADD and XTRIM.
struct Trim {
    strategy: Strategy,
    approx: bool,
    /// Most entries to delete; 0: no limit.
    limit: u64,
}

/// XADD's and XTRIM's options, parsed as Redis's
/// `streamParseAddOrTrimArgsOrReply`: the trimming, NOMKSTREAM, and (XADD)
/// the position of the id and the id itself (`None`: `*`) with whether its
/// sequence was given.
struct AddArgs {
    trim: Trim,
    nomkstream: bool,
    idpos: usize,
    id: Option<(StreamId, bool)>,
}

fn parse_add_or_trim(args: &[Bytes], xadd: bool) -> Result<AddArgs, CmdError> {
    let mut out = AddArgs {
        trim: Trim {
            strategy: Strategy::None,
            approx: false,
            limit: 0,
        },
        nomkstream: false,
        idpos: args.len(),
        id: None,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            out.idpos = i;
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if out.trim.strategy != Strategy::None {
                return err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
            }
            out.trim.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                out.trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if is(opt, "maxlen") {
                let n = int(&args[i + 1])?;
                if n < 0 {
                    return err("ERR The MAXLEN argument must be >= 0.");
                }
                out.trim.strategy = Strategy::MaxLen(n as u64);
            } else {
                out.trim.strategy = Strategy::MinId(parse_strict_id(&args[i + 1], 0)?);
            }
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let n = int(&args[i + 1])?;
            if n < 0 {
                return err("ERR The LIMIT argument must be >= 0.");
            }
            out.trim.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            out.nomkstream = true;
        } else if xadd {
            out.id = Some(ids::parse_xadd_id(opt)?);
            out.idpos = i;
            break;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    if out.trim.limit > 0 && out.trim.strategy == Strategy::None {
        return err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    }
    if !xadd && out.trim.strategy == Strategy::None {
        return err("ERR syntax error, XTRIM must be called with a trimming strategy");
    }
    if limit_given {
        if !out.trim.approx {
            return err("ERR syntax error, LIMIT cannot be used without the special ~ option");
        }
    } else if out.trim.approx {
        out.trim.limit = 100 * NODE_ENTRIES;
    } else {
        out.trim.limit = 0;
    }
    Ok(out)
}

/// How many of the oldest entries a trim removes, of a stream of `len`
/// entries of which `below` have ids under MINID's (when trimming by id).
fn trim_count(trim: &Trim, len: u64, added: u64, below: u64) -> u64 {
    if !trim.approx {
        return match trim.strategy {
            Strategy::None => 0,
            Strategy::MaxLen(max) => len.saturating_sub(max),
            Strategy::MinId(_) => below,
        };
    }
    // Whole nodes only (see the module documentation).
    let mut gone_from_first = added.saturating_sub(len) % NODE_ENTRIES;
    let (mut remaining, mut deleted) = (len, 0u64);
    while remaining > 0 {
        if let Strategy::MaxLen(max) = trim.strategy
            && remaining <= max
        {
            break;
        }
        let node = (NODE_ENTRIES - gone_from_first).min(remaining);
        if trim.limit > 0 && deleted + node > trim.limit {
            break;
        }
        let whole = match trim.strategy {
            Strategy::MaxLen(max) => remaining - node >= max,
            _ => deleted + node <= below,
        };
        if !whole {
            break;
        }
        deleted += node;
        remaining -= node;
        gone_from_first = 0;
    }
    deleted
}

/// Trims stream `key_id` of `len` entries; returns how many went.
fn apply_trim(ctx: &mut Ctx, key_id: i64, len: u64, added: u64, trim: &Trim) -> Result<u64, CmdError> {
    let below = match trim.strategy {
        Strategy::None => return Ok(0),
        Strategy::MaxLen(max) if len <= max => return Ok(0),
        Strategy::MaxLen(_) => 0,
        Strategy::MinId(min) => ctx.store.stream_count_below(key_id, min)?,
    };
    let n = trim_count(trim, len, added, below);
    if n == 0 {
        return Ok(0);
    }
    let deleted = ctx.store.stream_delete_first(key_id, n)?;
    ctx.store.stream_touch(key_id, -(deleted as i64))?;
    Ok(deleted)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let parsed = parse_add_or_trim(args, true)?;
    let field_pos = parsed.idpos + 1;
    if args.len() < field_pos + 2 || (args.len() - field_pos) % 2 == 1 {
        return err("ERR wrong number of arguments for 'xadd' command");
    }
    if let Some((id, true)) = parsed.id
        && id.is_zero()
    {
        return err("ERR The ID specified in XADD must be greater than 0-0");
    }
    let key = &args[1];
    let (key_id, len, mut meta) = match stream_entry(ctx, key)? {
        Some(e) => {
            let meta = ctx.store.stream_meta(e.id)?;
            (Some(e.id), e.len as u64, meta)
        }
        None if parsed.nomkstream => return Ok(Reply::Nil),
        None => (None, 0, StreamMeta::default()),
    };
    if meta.last == StreamId::MAX {
        return err("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match parsed.id {
        Some((id, true)) => Some(id),
        Some((id, false)) if id.ms == meta.last.ms => meta.last.seq.checked_add(1).map(|seq| StreamId::new(id.ms, seq)),
        Some((id, false)) => Some(id),
        None => {
            let now = ctx.now().max(0) as u64;
            if now > meta.last.ms {
                Some(StreamId::new(now, 0))
            } else {
                meta.last.next()
            }
        }
    };
    let id = match id {
        Some(id) if id > meta.last => id,
        _ => return err("ERR The ID specified in XADD is equal or smaller than the target stream top item"),
    };
    let key_id = match key_id {
        Some(k) => k,
        None => {
            let k = ctx.store.create_key(ctx.db, key, KeyType::Stream)?;
            ctx.created(key);
            k
        }
    };
    ctx.store.stream_add(key_id, id, &args[field_pos..])?;
    meta.last = id;
    meta.added += 1;
    ctx.store.stream_set_meta(key_id, &meta)?;
    ctx.store.stream_touch(key_id, 1)?;
    ctx.notify(Class::Stream, "xadd", key);
    if apply_trim(ctx, key_id, len + 1, meta.added, &parsed.trim)? > 0 {
        ctx.notify(Class::Stream, "xtrim", key);
    }
    Ok(id_reply(id))
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let parsed = parse_add_or_trim(args, false)?;
    let key = &args[1];
    let Some(e) = stream_entry(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    let meta = ctx.store.stream_meta(e.id)?;
    let deleted = apply_trim(ctx, e.id, e.len as u64, meta.added, &parsed.trim)?;
    if deleted > 0 {
        ctx.notify(Class::Stream, "xtrim", key);
    }
    Ok(Reply::Int(deleted as i64))
}

// ---- XRANGE / XREVRANGE / XLEN / XDEL ----

/// An interval bound: `(` makes it exclusive (Redis's `streamParseIntervalIDOrReply`).
fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_strict_id(&arg[1..], missing_seq)?, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

fn xrange_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let (mut start, start_ex) = interval_id(start_arg, 0)?;
    if start_ex {
        start = match start.next() {
            Some(s) => s,
            None => return err("ERR invalid start ID for the interval"),
        };
    }
    let (mut end, end_ex) = interval_id(end_arg, u64::MAX)?;
    if end_ex {
        end = match end.prev() {
            Some(e) => e,
            None => return err("ERR invalid end ID for the interval"),
        };
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "COUNT") && j + 1 < args.len() {
            count = int(&args[j + 1])?.max(0);
            j += 2;
        } else {
            return err(SYNTAX);
        }
    }
    let Some(e) = stream_entry(ctx, &args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == 0 {
        return Ok(Reply::NilArray);
    }
    if start > end {
        return Ok(Reply::Array(Vec::new()));
    }
    let limit = if count < 0 { 0 } else { count as u64 };
    Ok(entries_reply(ctx.store.stream_range(e.id, start, end, rev, limit)?))
}

/// XRANGE key start end [COUNT count]
fn xrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, args, false)
}

/// XREVRANGE key end start [COUNT count]
fn xrevrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, args, true)
}

/// XLEN key: O(1), the key's length.
fn xlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(stream_entry(ctx, &args[1])?.map_or(0, |e| e.len)))
}

/// XDEL key id [id ...]: an emptied stream stays.
fn xdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let Some(e) = stream_entry(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    let mut ids = args[2..]
        .iter()
        .map(|a| parse_strict_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    let existing: Vec<StreamId> = ctx
        .store
        .stream_get(e.id, &ids)?
        .into_iter()
        .flatten()
        .map(|e| e.id)
        .collect();
    if existing.is_empty() {
        return Ok(Reply::Int(0));
    }
    let deleted = ctx.store.stream_delete(e.id, &existing)?;
    let mut meta = ctx.store.stream_meta(e.id)?;
    let top = existing.iter().copied().max().unwrap_or_default();
    if top > meta.max_deleted {
        meta.max_deleted = top;
        ctx.store.stream_set_meta(e.id, &meta)?;
    }
    ctx.store.stream_touch(e.id, -(deleted as i64))?;
    ctx.notify(Class::Stream, "xdel", key);
    Ok(Reply::Int(deleted as i64))
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let id = parse_strict_id(&args[2], 0)?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(&args[i], "ENTRIESADDED") && more > 0 {
            entries_added = int(&args[i + 1])?;
            if entries_added < 0 {
                return err("ERR entries_added must be positive");
            }
            i += 2;
        } else if is(&args[i], "MAXDELETEDID") && more > 0 {
            max_deleted = parse_strict_id(&args[i + 1], 0)?;
            if id < max_deleted {
                return err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
            }
            i += 2;
        } else {
            return err(SYNTAX);
        }
    }
    let key = &args[1];
    let Some(e) = stream_entry(ctx, key)? else {
        return err("ERR no such key");
    };
    if e.len > 0 {
        if id < last_valid_id(ctx, e.id)? {
            return err("ERR The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added != -1 && (e.len as u64) > entries_added as u64 {
            return err("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    let mut meta = ctx.store.stream_meta(e.id)?;
    meta.last = id;
    if entries_added != -1 {
        meta.added = entries_added as u64;
    }
    if !max_deleted.is_zero() {
        meta.max_deleted = max_deleted;
    }
    ctx.store.stream_set_meta(e.id, &meta)?;
    ctx.store.stream_touch(e.id, 0)?;
    ctx.notify(Class::Stream, "xsetid", key);
    Ok(Reply::ok())
}

// ---- XREAD ----

/// XREAD's and XREADGROUP's options (Redis's `xreadCommand` parsing).
pub(crate) struct ReadArgs {
    pub block: Option<i64>,
    pub count: u64,
    /// Index of the first key.
    pub streams: usize,
    /// Number of keys.
    pub n: usize,
    pub group: Option<(Bytes, Bytes)>,
    pub noack: bool,
}

pub(crate) fn parse_read(args: &[Bytes], xreadgroup: bool) -> Result<ReadArgs, CmdError> {
    let mut out = ReadArgs {
        block: None,
        count: 0,
        streams: 0,
        n: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let o = &args[i][..];
        if is(o, "BLOCK") && more > 0 {
            i += 1;
            let t = super::args::int_or(&args[i], "ERR timeout is not an integer or out of range")?;
            if t < 0 {
                return err("ERR timeout is negative");
            }
            if t > 0 && t > i64::MAX - crate::util::now_ms() {
                return err("ERR timeout is out of range");
            }
            out.block = Some(t);
        } else if is(o, "COUNT") && more > 0 {
            i += 1;
            out.count = int(&args[i])?.max(0) as u64;
        } else if is(o, "STREAMS") && more > 0 {
            out.streams = i + 1;
            let rest = args.len() - out.streams;
            if !rest.is_multiple_of(2) {
                return err(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                );
            }
            out.n = rest / 2;
            break;
        } else if is(o, "GROUP") && more >= 2 {
            if !xreadgroup {
                return err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            }
            out.group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is(o, "NOACK") {
            if !xreadgroup {
                return err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
            }
            out.noack = true;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    if out.streams == 0 {
        return err(SYNTAX);
    }
    if xreadgroup && out.group.is_none() {
        return err("ERR Missing GROUP option for XREADGROUP");
    }
    Ok(out)
}

/// What XREAD BLOCK and XREADGROUP BLOCK wait on: the keys after STREAMS and
/// the BLOCK argument; `None` without BLOCK (or with arguments the first
/// attempt will refuse).
fn wait_xread(args: &[Bytes]) -> Option<(Vec<Bytes>, usize)> {
    let mut block = None;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(&args[i], "BLOCK") && more > 0 {
            block = Some(i + 1);
            i += 1;
        } else if is(&args[i], "COUNT") && more > 0 {
            i += 1;
        } else if is(&args[i], "GROUP") && more >= 2 {
            i += 2;
        } else if is(&args[i], "STREAMS") && more > 0 {
            let n = (args.len() - i - 1) / 2;
            return block.map(|b| (args[i + 1..i + 1 + n].to_vec(), b));
        }
        i += 1;
    }
    None
}

/// The position of the ids of an XREAD, if its arguments parse.
fn xread_ids(args: &[Bytes]) -> Option<(usize, usize)> {
    let r = parse_read(args, false).ok()?;
    Some((r.streams, r.n))
}

fn has_dollar(args: &[Bytes]) -> bool {
    xread_ids(args).is_some_and(|(s, n)| args[s + n..].iter().any(|a| &a[..] == b"$"))
}

/// XREAD looks every key up twice (to parse its id, then to serve it), so a
/// missing key is two `keymiss` events, as in Redis.
fn xread_misses(cmd: &super::Command, args: &[Bytes]) -> Vec<usize> {
    let keys = cmd.keys(args).unwrap_or_default();
    keys.iter().chain(keys.iter()).copied().collect()
}

/// XREAD BLOCK's `$`: each becomes the stream's last id (0-0 for a missing
/// key), read once before the first attempt, as Redis resolves it when the
/// command is called.
fn resolve_dollar(ctx: &mut Ctx, args: &[Bytes]) -> Result<Option<Vec<Bytes>>, CmdError> {
    let Some((s, n)) = xread_ids(args) else {
        return Ok(None);
    };
    let mut out = args.to_vec();
    for i in 0..n {
        if &args[s + n + i][..] != b"$" {
            continue;
        }
        let last = match ctx.store.meta(ctx.db, &args[s + i])? {
            Some(e) if e.kind == KeyType::Stream => ctx.store.stream_meta(e.id)?.last,
            Some(_) => return Ok(None),
            None => StreamId::MIN,
        };
        out[s + n + i] = last.text();
    }
    Ok(Some(out))
}

/// The reply of XREAD and XREADGROUP: per stream served, its key and its
/// entries (a map in RESP3); a null array when nothing was served.
pub(crate) fn read_reply(ctx: &Ctx, served: Vec<(Bytes, Reply)>) -> Reply {
    if served.is_empty() {
        return Reply::NilArray;
    }
    if ctx.proto >= 3 {
        Reply::Map(served.into_iter().map(|(k, v)| (Reply::Bulk(k), v)).collect())
    } else {
        Reply::Array(
            served
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), v]))
                .collect(),
        )
    }
}

/// Entries a blocked XREAD or XREADGROUP without COUNT gets when woken
/// (Redis's `XREAD_BLOCKED_DEFAULT_COUNT`).
pub(crate) const BLOCKED_DEFAULT_COUNT: u64 = 1000;

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
///
/// The non-blocking read: entries after each id, or a null array. Blocked,
/// it runs again after each write to one of the keys (`$` resolved first).
fn xread(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    xread_generic(ctx, args, false)
}

/// XREAD after a wake-up: keys that are not streams (any more) are skipped,
/// without COUNT at most [`BLOCKED_DEFAULT_COUNT`] entries are served, and
/// only from the first key (in argument order) that has new entries, as
/// Redis serves a blocked client from the key that woke it.
fn xread_woken(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    xread_generic(ctx, args, true)
}

fn xread_generic(ctx: &mut Ctx, args: &[Bytes], woken: bool) -> CmdResult {
    let r = parse_read(args, false)?;
    let mut after = Vec::with_capacity(r.n);
    for i in 0..r.n {
        let key = &args[r.streams + i];
        let e = match stream_entry(ctx, key) {
            Err(CmdError::WrongType) if woken => None,
            e => e?,
        };
        let arg = &args[r.streams + r.n + i];
        let id = if &arg[..] == b"$" {
            match &e {
                Some(e) => ctx.store.stream_meta(e.id)?.last,
                None => StreamId::MIN,
            }
        } else if &arg[..] == b">" {
            return err(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            );
        } else {
            parse_strict_id(arg, 0)?
        };
        after.push((e, id));
    }
    let count = if woken && r.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        r.count
    };
    let mut served = Vec::new();
    for (i, (e, gt)) in after.into_iter().enumerate() {
        let Some(e) = e else { continue };
        if e.len == 0 || last_valid_id(ctx, e.id)? <= gt {
            continue;
        }
        let Some(start) = gt.next() else { continue };
        let entries = ctx.store.stream_range(e.id, start, StreamId::MAX, false, count)?;
        served.push((args[r.streams + i].clone(), entries_reply(entries)));
        if woken {
            // Redis serves a woken client from the one key that woke it.
            break;
        }
    }
    Ok(read_reply(ctx, served))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(strategy: Strategy, approx: bool, limit: u64) -> Trim {
        Trim {
            strategy,
            approx,
            limit,
        }
    }

    #[test]
    fn approximate_trims_remove_whole_nodes() {
        // 15 entries in one node: nothing to remove whole.
        assert_eq!(trim_count(&t(Strategy::MaxLen(10), true, 10_000), 15, 15, 0), 0);
        assert_eq!(trim_count(&t(Strategy::MaxLen(10), false, 0), 15, 15, 0), 5);
        // 250 entries: nodes of 100, 100, 50.
        assert_eq!(trim_count(&t(Strategy::MaxLen(120), true, 10_000), 250, 250, 0), 100);
        assert_eq!(trim_count(&t(Strategy::MaxLen(0), true, 10_000), 250, 250, 0), 250);
        assert_eq!(trim_count(&t(Strategy::MaxLen(0), true, 150), 250, 250, 0), 100);
        // 30 of the first node already gone: it holds 70.
        assert_eq!(trim_count(&t(Strategy::MaxLen(100), true, 10_000), 220, 250, 0), 70);
        let min = Strategy::MinId(StreamId::new(1, 0));
        assert_eq!(trim_count(&t(min, true, 10_000), 250, 250, 199), 100);
        assert_eq!(trim_count(&t(min, false, 0), 250, 250, 199), 199);
    }
}
