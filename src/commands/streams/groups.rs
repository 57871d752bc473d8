//! Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
//! and the `entries-read` / lag accounting of Redis 7.0.

use super::super::args::{int, int_or, is};
use super::super::{Class, CmdError, CmdResult, Ctx, SYNTAX, err, help};
use super::{
    entries_reply, entry_reply, first_id, id_reply, interval_id, last_valid_id, parse_id, parse_read, parse_strict_id,
    read_reply, stream_entry,
};
use crate::resp::Reply;
use crate::store::{Entry, KeyType, StreamConsumer, StreamGroup, StreamId, StreamMeta, StreamPending};
use bytes::Bytes;

/// `entries_read` when unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
pub(crate) const INVALID_ENTRIES_READ: i64 = -1;

/// What the lag and `entries-read` computations need of a stream.
pub(crate) struct StreamState {
    pub meta: StreamMeta,
    pub len: u64,
    pub first: StreamId,
}

impl StreamState {
    pub(crate) fn read(ctx: &mut Ctx, e: &Entry) -> Result<StreamState, CmdError> {
        Ok(StreamState {
            meta: ctx.store.stream_meta(e.id)?,
            len: e.len as u64,
            first: first_id(ctx, e.id)?,
        })
    }

    /// Redis's `streamRangeHasTombstones(s, start, NULL)`.
    pub(crate) fn has_tombstones_from(&self, start: StreamId) -> bool {
        let md = self.meta.max_deleted;
        if self.len == 0 || md.is_zero() || self.first > md {
            return false;
        }
        start <= md
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`.
    pub(crate) fn estimate_read(&self, id: StreamId) -> i64 {
        let m = &self.meta;
        if m.added == 0 {
            return 0;
        }
        if self.len == 0 && id <= m.last {
            return m.added as i64;
        }
        if id == m.last {
            return m.added as i64;
        } else if id > m.last {
            return INVALID_ENTRIES_READ;
        }
        if m.max_deleted.is_zero() || m.max_deleted < self.first {
            if id < self.first {
                return (m.added - self.len) as i64;
            } else if id == self.first {
                return (m.added - self.len + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (`streamReplyWithCGLag`), `None` when unknown.
    pub(crate) fn lag(&self, g: &StreamGroup) -> Option<i64> {
        let added = self.meta.added as i64;
        if added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_from(g.last) {
            return Some(added - g.entries_read);
        }
        match self.estimate_read(g.last) {
            INVALID_ENTRIES_READ => None,
            read => Some(added - read),
        }
    }

    /// Advances a group past delivered entry `id` (`streamReplyWithRange`).
    pub(crate) fn deliver(&self, g: &mut StreamGroup, id: StreamId) {
        if id <= g.last {
            return;
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_from(id) {
            g.entries_read += 1;
        } else if self.meta.added > 0 {
            g.entries_read = self.estimate_read(id);
        }
        g.last = id;
    }
}

fn nogroup<T>(key: &[u8], group: &[u8], tail: &str) -> Result<T, CmdError> {
    err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{tail}",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// The consumer `name` of `group`, created (with its event) if missing; its
/// seen time is now either way (`streamLookupConsumer` + `streamCreateConsumer`).
fn touch_consumer(ctx: &mut Ctx, key: &Bytes, key_id: i64, group: &[u8], name: &Bytes) -> Result<(), CmdError> {
    let existed = ctx.store.stream_consumer(key_id, group, name)?.is_some();
    let c = StreamConsumer {
        name: name.clone(),
        seen: ctx.now(),
        pending: 0,
    };
    ctx.store.stream_set_consumer(key_id, group, &c)?;
    if !existed {
        ctx.notify(Class::Stream, "xgroup-createconsumer", key);
    }
    Ok(())
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
pub(super) fn xreadgroup(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    read_group(ctx, args, false)
}

/// XREADGROUP after a wake-up, as Redis 7.0 serves a blocked client: a key
/// that is no stream any more (deleted, overwritten) or a group that is gone
/// is an error, without COUNT at most 1000 entries are served, and only
/// from the first key (in argument order) with new entries.
pub(super) fn xreadgroup_woken(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    read_group(ctx, args, true)
}

const KEY_GONE: &str = "UNBLOCKED the stream key no longer exists";

fn read_group(ctx: &mut Ctx, args: &[Bytes], woken: bool) -> CmdResult {
    let mut r = parse_read(args, true)?;
    if woken && r.count == 0 {
        r.count = super::BLOCKED_DEFAULT_COUNT;
    }
    let (group, consumer) = r.group.clone().unwrap_or_default();
    let mut targets = Vec::with_capacity(r.n);
    for i in 0..r.n {
        let key = &args[r.streams + i];
        let e = match stream_entry(ctx, key) {
            Err(CmdError::WrongType) | Ok(None) if woken => return err(KEY_GONE),
            e => e?,
        };
        let g = match &e {
            Some(e) => ctx.store.stream_group(e.id, &group)?,
            None => None,
        };
        let (Some(e), Some(g)) = (e, g) else {
            if woken {
                return err("NOGROUP the consumer group this client was blocked on no longer exists");
            }
            return nogroup(key, &group, " in XREADGROUP with GROUP option");
        };
        let arg = &args[r.streams + r.n + i];
        let id = if &arg[..] == b"$" {
            return err(
                "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
            );
        } else if &arg[..] == b">" {
            None
        } else {
            Some(parse_strict_id(arg, 0)?)
        };
        targets.push((i, e, g, id));
    }
    let now = ctx.now();
    let mut served = Vec::new();
    for (i, e, mut g, id) in targets {
        let key = &args[r.streams + i];
        match id {
            Some(after) => {
                touch_consumer(ctx, key, e.id, &group, &consumer)?;
                served.push((key.clone(), history(ctx, e.id, &group, &consumer, after, r.count, now)?));
            }
            None => {
                if e.len == 0 || last_valid_id(ctx, e.id)? <= g.last {
                    continue;
                }
                touch_consumer(ctx, key, e.id, &group, &consumer)?;
                let Some(start) = g.last.next() else { continue };
                let entries = ctx.store.stream_range(e.id, start, StreamId::MAX, false, r.count)?;
                let state = StreamState::read(ctx, &e)?;
                let mut pending = Vec::new();
                for entry in &entries {
                    state.deliver(&mut g, entry.id);
                    if !r.noack {
                        pending.push(StreamPending {
                            id: entry.id,
                            consumer: consumer.clone(),
                            delivered: now,
                            count: 1,
                        });
                    }
                }
                ctx.store.stream_set_group(e.id, &g)?;
                ctx.store.stream_set_pending(e.id, &group, &pending)?;
                ctx.store.stream_touch(e.id, 0)?;
                served.push((key.clone(), entries_reply(entries)));
                if woken {
                    // Served from the one key that woke it, as in Redis.
                    break;
                }
            }
        }
    }
    Ok(read_reply(ctx, served))
}

/// A consumer's own pending entries after `after`: each entry that still
/// exists is delivered again; a deleted one is `[id, nil]`.
fn history(
    ctx: &mut Ctx,
    key_id: i64,
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: u64,
    now: i64,
) -> Result<Reply, CmdError> {
    let Some(start) = after.next() else {
        return Ok(Reply::Array(Vec::new()));
    };
    let mut pending = ctx
        .store
        .stream_pending(key_id, group, Some(consumer), start, StreamId::MAX, None, count)?;
    let ids: Vec<StreamId> = pending.iter().map(|p| p.id).collect();
    let entries = ctx.store.stream_get(key_id, &ids)?;
    let mut out = Vec::with_capacity(ids.len());
    let mut redelivered = Vec::new();
    for (p, e) in pending.iter_mut().zip(entries) {
        match e {
            Some(e) => {
                out.push(entry_reply(e));
                p.delivered = now;
                p.count += 1;
                redelivered.push(p.clone());
            }
            None => out.push(Reply::Array(vec![id_reply(p.id), Reply::NilArray])),
        }
    }
    ctx.store.stream_set_pending(key_id, group, &redelivered)?;
    if !redelivered.is_empty() {
        ctx.store.stream_touch(key_id, 0)?;
    }
    Ok(Reply::Array(out))
}

/// The stream and group a group command names; `None` when either is missing.
fn stream_group(ctx: &mut Ctx, key: &[u8], group: &[u8]) -> Result<Option<(Entry, StreamGroup)>, CmdError> {
    let Some(e) = stream_entry(ctx, key)? else {
        return Ok(None);
    };
    Ok(ctx.store.stream_group(e.id, group)?.map(|g| (e, g)))
}

/// XACK key group id [id ...]
pub(super) fn xack(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some((e, _)) = stream_group(ctx, &args[1], &args[2])? else {
        return Ok(Reply::Int(0));
    };
    let mut ids = args[3..]
        .iter()
        .map(|a| parse_strict_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    let n = ctx.store.stream_delete_pending(e.id, &args[2], &ids)?;
    if n > 0 {
        ctx.store.stream_touch(e.id, 0)?;
    }
    Ok(Reply::Int(n as i64))
}

/// An interval's start as XPENDING and XAUTOCLAIM read it.
fn start_bound(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = interval_id(arg, 0)?;
    if ex {
        return id
            .next()
            .map_or_else(|| err("ERR invalid start ID for the interval"), Ok);
    }
    Ok(id)
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub(super) fn xpending(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = args.len();
    if n != 3 && !(6..=9).contains(&n) {
        return err(SYNTAX);
    }
    let mut range = None;
    if n >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(&args[3], "IDLE") {
            min_idle = int(&args[4])?;
            if n < 8 {
                return err(SYNTAX);
            }
            at += 2;
        }
        let count = int(&args[at + 2])?.max(0) as u64;
        let start = start_bound(&args[at])?;
        let (mut end, end_ex) = interval_id(&args[at + 1], u64::MAX)?;
        if end_ex {
            end = match end.prev() {
                Some(e) => e,
                None => return err("ERR invalid end ID for the interval"),
            };
        }
        let consumer = args.get(at + 3).cloned();
        range = Some((min_idle, start, end, count, consumer));
    }
    let (key, group) = (&args[1], &args[2]);
    let Some((e, _)) = stream_group(ctx, key, group)? else {
        return nogroup(key, group, "");
    };
    let Some((min_idle, start, end, count, consumer)) = range else {
        let (total, edges, per) = ctx.store.stream_pending_summary(e.id, group)?;
        let Some((first, last)) = edges else {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]));
        };
        return Ok(Reply::Array(vec![
            Reply::Int(total as i64),
            id_reply(first),
            id_reply(last),
            Reply::Array(
                per.into_iter()
                    .map(|(c, n)| Reply::Array(vec![Reply::Bulk(c), Reply::Bulk(Bytes::from(n.to_string()))]))
                    .collect(),
            ),
        ]));
    };
    if let Some(c) = &consumer
        && ctx.store.stream_consumer(e.id, group, c)?.is_none()
    {
        return Ok(Reply::Array(Vec::new()));
    }
    if count == 0 || start > end {
        return Ok(Reply::Array(Vec::new()));
    }
    let now = ctx.now();
    let before = (min_idle != 0).then(|| now.saturating_sub(min_idle));
    let pending = ctx
        .store
        .stream_pending(e.id, group, consumer.as_deref(), start, end, before, count)?;
    Ok(Reply::Array(
        pending
            .into_iter()
            .map(|p| {
                Reply::Array(vec![
                    id_reply(p.id),
                    Reply::Bulk(p.consumer),
                    Reply::Int((now - p.delivered).max(0)),
                    Reply::Int(p.count as i64),
                ])
            })
            .collect(),
    ))
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
pub(super) fn xclaim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, group, name) = (&args[1], &args[2], &args[3]);
    let Some((e, mut g)) = stream_group(ctx, key, group)? else {
        return nogroup(key, group, "");
    };
    let min_idle = int_or(&args[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(&args[j], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now();
    let (mut delivery, mut retry, mut force, mut justid) = (-1i64, -1i64, false, false);
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j];
        if is(opt, "FORCE") {
            force = true;
        } else if is(opt, "JUSTID") {
            justid = true;
        } else if is(opt, "IDLE") && more > 0 {
            j += 1;
            delivery = now - int_or(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
        } else if is(opt, "TIME") && more > 0 {
            j += 1;
            delivery = int_or(&args[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if is(opt, "RETRYCOUNT") && more > 0 {
            j += 1;
            retry = int_or(&args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if is(opt, "LASTID") && more > 0 {
            j += 1;
            last_id = parse_strict_id(&args[j], 0)?;
        } else {
            return err(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
        j += 1;
    }
    let mut changed = false;
    if last_id > g.last {
        g.last = last_id;
        ctx.store.stream_set_group(e.id, &g)?;
        changed = true;
    }
    if delivery == -1 || delivery < 0 || delivery > now {
        delivery = now;
    }
    let pending = ctx.store.stream_pending_get(e.id, group, &ids)?;
    let entries = ctx.store.stream_get(e.id, &ids)?;
    let mut out = Vec::new();
    let mut consumer_ready = false;
    for ((id, p), entry) in ids.iter().zip(pending).zip(entries) {
        let Some(entry) = entry else {
            if p.is_some() {
                ctx.store.stream_delete_pending(e.id, group, &[*id])?;
                changed = true;
            }
            continue;
        };
        let forced = p.is_none() && force;
        let Some(mut p) = p.or_else(|| {
            force.then(|| StreamPending {
                id: *id,
                consumer: Bytes::new(),
                delivered: 0,
                count: 0,
            })
        }) else {
            continue;
        };
        if !forced && min_idle > 0 && now - p.delivered < min_idle {
            continue;
        }
        if !consumer_ready {
            touch_consumer(ctx, key, e.id, group, name)?;
            consumer_ready = true;
        }
        p.consumer = name.clone();
        p.delivered = delivery;
        if retry >= 0 {
            p.count = retry as u64;
        } else if !justid {
            p.count += 1;
        }
        ctx.store.stream_set_pending(e.id, group, &[p])?;
        changed = true;
        out.push(if justid { id_reply(*id) } else { entry_reply(entry) });
    }
    if changed {
        ctx.store.stream_touch(e.id, 0)?;
    }
    Ok(Reply::Array(out))
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub(super) fn xautoclaim(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, group, name) = (&args[1], &args[2], &args[3]);
    let min_idle = int_or(&args[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = start_bound(&args[5])?;
    let (mut count, mut justid) = (100i64, false);
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "COUNT") && more > 0 {
            let max = i64::MAX / 16;
            count = match crate::resp::request::parse_i64(&args[j + 1]) {
                Some(c) if (1..=max).contains(&c) => c,
                Some(_) => return err("ERR COUNT must be > 0"),
                None => return err("ERR COUNT must be > 0"),
            };
            j += 1;
        } else if is(&args[j], "JUSTID") {
            justid = true;
        } else {
            return err(SYNTAX);
        }
        j += 1;
    }
    let Some((e, _)) = stream_group(ctx, key, group)? else {
        return nogroup(key, group, "");
    };
    let now = ctx.now();
    let mut attempts = count.saturating_mul(10);
    // The entries examined, and one more for the cursor.
    let limit = (attempts as u64).saturating_add(1);
    let pel = ctx
        .store
        .stream_pending(e.id, group, None, start, StreamId::MAX, None, limit)?;
    let ids: Vec<StreamId> = pel.iter().map(|p| p.id).collect();
    let entries = ctx.store.stream_get(e.id, &ids)?;
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut next = 0;
    let mut consumer_ready = false;
    let mut changed = Vec::new();
    let mut rows = pel.into_iter().zip(entries);
    let mut cursor = StreamId::MIN;
    loop {
        if attempts == 0 || count == 0 {
            cursor = rows.next().map_or(StreamId::MIN, |(p, _)| p.id);
            break;
        }
        attempts -= 1;
        let Some((mut p, entry)) = rows.next() else { break };
        next += 1;
        let Some(entry) = entry else {
            deleted.push(p.id);
            count -= 1;
            continue;
        };
        if min_idle > 0 && now - p.delivered < min_idle {
            continue;
        }
        if !consumer_ready {
            touch_consumer(ctx, key, e.id, group, name)?;
            consumer_ready = true;
        }
        p.consumer = name.clone();
        p.delivered = now;
        if !justid {
            p.count += 1;
        }
        claimed.push(if justid { id_reply(p.id) } else { entry_reply(entry) });
        changed.push(p);
        count -= 1;
    }
    let _ = next;
    if !deleted.is_empty() {
        ctx.store.stream_delete_pending(e.id, group, &deleted)?;
    }
    ctx.store.stream_set_pending(e.id, group, &changed)?;
    if !deleted.is_empty() || !changed.is_empty() {
        ctx.store.stream_touch(e.id, 0)?;
    }
    Ok(Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(claimed),
        Reply::Array(deleted.into_iter().map(id_reply).collect()),
    ]))
}

// ---- XGROUP ----

/// XGROUP CREATE's and SETID's options: MKSTREAM (CREATE only) and ENTRIESREAD.
fn group_options(args: &[Bytes], create: bool) -> Result<(bool, i64), CmdError> {
    let (mut mkstream, mut entries_read) = (false, INVALID_ENTRIES_READ);
    let mut i = 5;
    while i < args.len() {
        if create && is(&args[i], "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if is(&args[i], "ENTRIESREAD") && i + 1 < args.len() {
            entries_read = int(&args[i + 1])?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return err("ERR value for ENTRIESREAD must be positive or -1");
            }
            i += 2;
        } else {
            return err(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
                String::from_utf8_lossy(&args[1])
            ));
        }
    }
    Ok((mkstream, entries_read))
}

const KEY_REQUIRED: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

fn no_such_group<T>(group: &[u8], key: &[u8]) -> Result<T, CmdError> {
    err(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// The stream and the group an XGROUP subcommand (other than CREATE) needs.
fn existing_group(ctx: &mut Ctx, args: &[Bytes]) -> Result<(Entry, StreamGroup), CmdError> {
    let Some(e) = stream_entry(ctx, &args[2])? else {
        return err(KEY_REQUIRED);
    };
    match ctx.store.stream_group(e.id, &args[3])? {
        Some(g) => Ok((e, g)),
        None => no_such_group(&args[3], &args[2]),
    }
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
pub(super) fn xgroup_create(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mkstream, entries_read) = group_options(args, true)?;
    let key = &args[2];
    let e = stream_entry(ctx, key)?;
    if e.is_none() && !mkstream {
        return err(KEY_REQUIRED);
    }
    let id = if &args[4][..] == b"$" {
        match &e {
            Some(e) => ctx.store.stream_meta(e.id)?.last,
            None => StreamId::MIN,
        }
    } else {
        parse_strict_id(&args[4], 0)?
    };
    let key_id = match e {
        Some(e) => {
            if ctx.store.stream_group(e.id, &args[3])?.is_some() {
                return err("BUSYGROUP Consumer Group name already exists");
            }
            e.id
        }
        None => {
            let k = ctx.store.create_key(ctx.db, key, KeyType::Stream)?;
            ctx.created(key);
            ctx.store.stream_set_meta(k, &StreamMeta::default())?;
            k
        }
    };
    ctx.store.stream_set_group(
        key_id,
        &StreamGroup {
            name: args[3].clone(),
            last: id,
            entries_read,
        },
    )?;
    ctx.store.stream_touch(key_id, 0)?;
    ctx.notify(Class::Stream, "xgroup-create", key);
    Ok(Reply::ok())
}

/// XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
pub(super) fn xgroup_setid(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (_, entries_read) = group_options(args, false)?;
    let (e, mut g) = existing_group(ctx, args)?;
    g.last = if &args[4][..] == b"$" {
        ctx.store.stream_meta(e.id)?.last
    } else {
        parse_id(&args[4], 0)?
    };
    g.entries_read = entries_read;
    ctx.store.stream_set_group(e.id, &g)?;
    ctx.store.stream_touch(e.id, 0)?;
    ctx.notify(Class::Stream, "xgroup-setid", &args[2]);
    Ok(Reply::ok())
}

/// XGROUP DESTROY key group
pub(super) fn xgroup_destroy(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = stream_entry(ctx, &args[2])? else {
        return err(KEY_REQUIRED);
    };
    if !ctx.store.stream_delete_group(e.id, &args[3])? {
        return Ok(Reply::Int(0));
    }
    ctx.store.stream_touch(e.id, 0)?;
    ctx.notify(Class::Stream, "xgroup-destroy", &args[2]);
    Ok(Reply::Int(1))
}

/// XGROUP CREATECONSUMER key group consumer
pub(super) fn xgroup_createconsumer(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (e, _) = existing_group(ctx, args)?;
    if ctx.store.stream_consumer(e.id, &args[3], &args[4])?.is_some() {
        return Ok(Reply::Int(0));
    }
    touch_consumer(ctx, &args[2], e.id, &args[3], &args[4])?;
    ctx.store.stream_touch(e.id, 0)?;
    Ok(Reply::Int(1))
}

/// XGROUP DELCONSUMER key group consumer
pub(super) fn xgroup_delconsumer(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (e, _) = existing_group(ctx, args)?;
    let Some(pending) = ctx.store.stream_delete_consumer(e.id, &args[3], &args[4])? else {
        return Ok(Reply::Int(0));
    };
    ctx.store.stream_touch(e.id, 0)?;
    ctx.notify(Class::Stream, "xgroup-delconsumer", &args[2]);
    Ok(Reply::Int(pending as i64))
}

/// XGROUP HELP
pub(super) fn xgroup_help(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(help(
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    ))
}
