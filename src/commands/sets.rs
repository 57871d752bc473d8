//! Set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP,
//! SRANDMEMBER, SMOVE, the algebra (SINTER, SINTERCARD, SUNION, SDIFF and the
//! STORE forms) and SSCAN.
//!
//! Costs (n = members of the key, k = members named in the command):
//! SADD/SREM/SMISMEMBER O(k log n); SISMEMBER O(log n); SCARD O(1) (`rkey.len`);
//! SMEMBERS O(n); SPOP/SRANDMEMBER O(log n) per pick (a seek to a random member
//! hash), O(n) for distinct samples over a third of the set; SMOVE O(log n);
//! SINTER/SINTERCARD/SDIFF O(n₁ · keys · log n) walking the first set (for
//! SINTER the smallest); SUNION O(N log N) over all members; the STORE forms
//! run inside the database (`INSERT ... SELECT`); SSCAN O(log n + COUNT).
//!
//! Multi-key commands follow Redis 7.0: every key is type-checked before any
//! work (a WRONGTYPE key is an error even after a missing key), and a missing
//! key is an empty set.

use super::args::{int, is};
use super::events::{Event, Place};
use super::spec::{lookups_first, source_key_misses, split_at};
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use crate::store::{Entry, KeyType, SetOp};
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::write("sadd", sadd),
    Spec::write("srem", srem),
    Spec::read("sismember", sismember),
    Spec::read("smismember", smismember),
    Spec::read("smembers", smembers),
    Spec::read("scard", scard),
    Spec::write("spop", spop).places(spop_places),
    Spec::read("srandmember", srandmember),
    Spec::write("smove", smove),
    Spec::read("sinter", sinter),
    Spec::read("sintercard", sintercard),
    Spec::write("sinterstore", sinterstore)
        .misses(source_key_misses)
        .places(sinterstore_places),
    Spec::read("sunion", sunion),
    Spec::write("sunionstore", sunionstore)
        .misses(source_key_misses)
        .places(lookups_first),
    Spec::read("sdiff", sdiff),
    Spec::write("sdiffstore", sdiffstore)
        .misses(source_key_misses)
        .places(lookups_first),
    Spec::read("sscan", sscan),
];

/// A missing source ends SINTERSTORE early: it deletes, then replies.
fn sinterstore_places(args: &[Bytes], events: &[Event]) -> Vec<Place> {
    if events.iter().any(|e| e.name == "keymiss") {
        return split_at(events, events.len());
    }
    lookups_first(args, events)
}

/// SPOP: its event, the reply, then the key's deletion.
fn spop_places(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    split_at(events, events.len().min(1))
}

/// Redis 7.0's `set-max-intset-entries` default: sets of at most this many
/// members, all integers, are intset-encoded.
const SET_MAX_INTSET_ENTRIES: i64 = 512;

/// The set at `key`: `None` if missing, WRONGTYPE for other types.
fn lookup(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    match ctx.store.get(ctx.db, key)? {
        Some(e) if e.kind != KeyType::Set => Err(CmdError::WrongType),
        e => Ok(e),
    }
}

/// A RESP3 set (an array in RESP2) of members.
/// Reports that the set `key`, which had `len` members, lost `removed` of
/// them to command `event`: the event, then `del` if it is now empty.
fn report_removal(ctx: &mut Ctx, key: &Bytes, event: &'static str, removed: i64, len: i64) {
    ctx.notify(Class::Set, event, key);
    if removed >= len {
        ctx.notify(Class::Generic, "del", key);
    }
}

fn set_reply(members: Vec<Bytes>) -> Reply {
    Reply::Set(members.into_iter().map(Reply::Bulk).collect())
}

fn array_reply(members: Vec<Bytes>) -> Reply {
    Reply::Array(members.into_iter().map(Reply::Bulk).collect())
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let id = match lookup(ctx, &args[1])? {
        Some(e) => e.id,
        None => {
            let id = ctx.store.create_key(ctx.db, &args[1], KeyType::Set)?;
            ctx.created(&args[1]);
            id
        }
    };
    let added = ctx.store.set_add(id, &args[2..])?;
    if added > 0 {
        ctx.notify(Class::Set, "sadd", &args[1]);
    }
    Ok(Reply::Int(added))
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let removed = ctx.store.set_remove(e.id, &args[2..])?;
    if removed > 0 {
        report_removal(ctx, &args[1], "srem", removed, e.len);
    }
    Ok(Reply::Int(removed))
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let found = ctx.store.set_contains(e.id, &args[2..3])?;
    Ok(Reply::Int(found.first().copied().unwrap_or(false) as i64))
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.set_contains(e.id, &args[2..])?,
        None => vec![false; args.len() - 2],
    };
    Ok(Reply::Array(found.into_iter().map(|f| Reply::Int(f as i64)).collect()))
}

/// SMEMBERS key: a set reply (empty for a missing key).
fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let members = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.set_members(e.id)?,
        None => Vec::new(),
    };
    Ok(set_reply(members))
}

/// SCARD key
fn scard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(lookup(ctx, &args[1])?.map_or(0, |e| e.len)))
}

/// SPOP key [count]: one member (or nil), or a set of up to `count` members.
fn spop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {
            let Some(e) = lookup(ctx, &args[1])? else {
                return Ok(Reply::Nil);
            };
            let popped = ctx.store.set_pop(e.id, 1)?;
            if !popped.is_empty() {
                report_removal(ctx, &args[1], "spop", popped.len() as i64, e.len);
            }
            Ok(popped.into_iter().next().map_or(Reply::Nil, Reply::Bulk))
        }
        3 => {
            let count = match parse_i64(&args[2]) {
                Some(n) if n >= 0 => n as usize,
                _ => return err("ERR value is out of range, must be positive"),
            };
            let Some(e) = lookup(ctx, &args[1])? else {
                return Ok(set_reply(Vec::new()));
            };
            let popped = ctx.store.set_pop(e.id, count)?;
            if !popped.is_empty() {
                report_removal(ctx, &args[1], "spop", popped.len() as i64, e.len);
            }
            Ok(set_reply(popped))
        }
        _ => err(SYNTAX),
    }
}

/// SRANDMEMBER key [count]: one member (or nil), or an array: `count > 0`
/// distinct members, `count < 0` that many picks with repetition.
fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {
            let Some(e) = lookup(ctx, &args[1])? else {
                return Ok(Reply::Nil);
            };
            let picked = ctx.store.set_random(e.id, 1, true)?;
            Ok(picked.into_iter().next().map_or(Reply::Nil, Reply::Bulk))
        }
        3 => {
            let count = int(&args[2])?;
            if count == i64::MIN {
                return err(format!(
                    "ERR value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                ));
            }
            let Some(e) = lookup(ctx, &args[1])? else {
                return Ok(Reply::Array(Vec::new()));
            };
            let n = count.unsigned_abs() as usize;
            Ok(array_reply(ctx.store.set_random(e.id, n, count > 0)?))
        }
        _ => err(SYNTAX),
    }
}

/// SMOVE source destination member, with Redis's order of checks: a missing
/// source answers 0 before the destination's type is looked at.
fn smove(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (db, member) = (ctx.db, &args[3..4]);
    let src = ctx.store.get(db, &args[1])?;
    let dst = ctx.store.get(db, &args[2])?;
    let Some(src) = src else {
        return Ok(Reply::Int(0));
    };
    if src.kind != KeyType::Set || dst.as_ref().is_some_and(|d| d.kind != KeyType::Set) {
        return Err(CmdError::WrongType);
    }
    if dst.as_ref().is_some_and(|d| d.id == src.id) {
        let found = ctx.store.set_contains(src.id, member)?;
        return Ok(Reply::Int(found.first().copied().unwrap_or(false) as i64));
    }
    if ctx.store.set_remove(src.id, member)? == 0 {
        return Ok(Reply::Int(0));
    }
    report_removal(ctx, &args[1], "srem", 1, src.len);
    let dst_id = match dst {
        Some(d) => d.id,
        None => {
            let id = ctx.store.create_key(db, &args[2], KeyType::Set)?;
            ctx.created(&args[2]);
            id
        }
    };
    if ctx.store.set_add(dst_id, member)? > 0 {
        ctx.notify(Class::Set, "sadd", &args[2]);
    }
    Ok(Reply::Int(1))
}

/// The operands of `op` over `keys`, as key ids in the order the store wants
/// them, or `None` when the result is empty whatever the sets hold (a missing
/// key in an intersection, a missing first key of a difference, no key at all
/// in a union). Every key is type-checked first, as Redis does.
fn operands(ctx: &mut Ctx, op: SetOp, keys: &[Bytes]) -> Result<Option<Vec<i64>>, CmdError> {
    let entries = keys
        .iter()
        .map(|k| lookup(ctx, k))
        .collect::<Result<Vec<Option<Entry>>, CmdError>>()?;
    let ids = match op {
        SetOp::Inter => {
            let Some(mut sets) = entries.into_iter().collect::<Option<Vec<Entry>>>() else {
                return Ok(None);
            };
            // Walk the smallest set, probing the others.
            sets.sort_by_key(|e| e.len);
            sets.iter().map(|e| e.id).collect()
        }
        SetOp::Union => entries.iter().flatten().map(|e| e.id).collect(),
        SetOp::Diff => {
            if entries.first().is_none_or(Option::is_none) {
                return Ok(None);
            }
            entries.iter().flatten().map(|e| e.id).collect()
        }
    };
    Ok(Some(ids))
}

/// SINTER/SUNION/SDIFF: the result as a set reply.
fn combine(ctx: &mut Ctx, op: SetOp, keys: &[Bytes]) -> CmdResult {
    let members = match operands(ctx, op, keys)? {
        Some(ids) => ctx.store.set_combine(op, &ids)?,
        None => Vec::new(),
    };
    Ok(set_reply(members))
}

/// SINTERSTORE/SUNIONSTORE/SDIFFSTORE: replaces `dst` (whatever its type)
/// with the result, or deletes it when the result is empty; replies the size.
fn combine_store(ctx: &mut Ctx, op: SetOp, dst: &Bytes, keys: &[Bytes]) -> CmdResult {
    let ids = operands(ctx, op, keys)?.unwrap_or_default();
    let existed = ctx.exists_for_events(dst)?;
    let stored = ctx.store.set_store(ctx.db, dst, op, &ids)?;
    let event = match op {
        SetOp::Inter => "sinterstore",
        SetOp::Union => "sunionstore",
        SetOp::Diff => "sdiffstore",
    };
    ctx.stored(Class::Set, event, dst, existed, stored > 0);
    Ok(Reply::Int(stored))
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    combine(ctx, SetOp::Inter, &args[1..])
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    combine(ctx, SetOp::Union, &args[1..])
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    combine(ctx, SetOp::Diff, &args[1..])
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    combine_store(ctx, SetOp::Inter, &args[1], &args[2..])
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    combine_store(ctx, SetOp::Union, &args[1], &args[2..])
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    combine_store(ctx, SetOp::Diff, &args[1], &args[2..])
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]: options are checked before
/// the keys, LIMIT 0 means no limit, and a later LIMIT overrides an earlier one.
fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let numkeys = match parse_i64(&args[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    if numkeys > (args.len() - 2) as u64 {
        return err("ERR Number of keys can't be greater than number of args");
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = keys_end;
    while i < args.len() {
        if is(&args[i], "LIMIT") && i + 1 < args.len() {
            limit = match parse_i64(&args[i + 1]) {
                Some(l) if l >= 0 => l as u64,
                _ => return err("ERR LIMIT can't be negative"),
            };
            i += 2;
        } else {
            return err(SYNTAX);
        }
    }
    let card = match operands(ctx, SetOp::Inter, &args[2..keys_end])? {
        Some(ids) => ctx.store.set_inter_card(&ids, (limit > 0).then_some(limit))?,
        None => 0,
    };
    Ok(Reply::Int(card))
}

/// The MATCH and COUNT options of HSCAN/SSCAN/ZSCAN.
pub struct ScanOptions {
    /// The MATCH pattern, unless it is absent or a lone `*` (which matches all).
    pub pattern: Option<Bytes>,
    /// The COUNT hint (default 10).
    pub count: usize,
}

impl ScanOptions {
    /// Parses `[MATCH pattern] [COUNT count]` (any order, repeatable, last
    /// wins) with Redis's errors: a non-integer COUNT, COUNT < 1 or any other
    /// word is an error.
    pub fn parse(opts: &[Bytes]) -> Result<ScanOptions, CmdError> {
        let mut out = ScanOptions {
            pattern: None,
            count: 10,
        };
        let mut i = 0;
        while i < opts.len() {
            if i + 1 >= opts.len() {
                return err(SYNTAX);
            }
            let value = &opts[i + 1];
            if is(&opts[i], "COUNT") {
                let n = int(value)?;
                if n < 1 {
                    return err(SYNTAX);
                }
                out.count = usize::try_from(n).unwrap_or(usize::MAX);
            } else if is(&opts[i], "MATCH") {
                out.pattern = (value.as_ref() != b"*").then(|| value.clone());
            } else {
                return err(SYNTAX);
            }
            i += 2;
        }
        Ok(out)
    }

    /// Whether `item` passes the MATCH filter.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| crate::glob::matches(p, item, false))
    }
}

/// A SCAN-family reply: the next cursor and the items.
pub fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(items)])
}

/// The members sorted as integers if the set is one Redis 7.0 keeps as an
/// intset (at most `set-max-intset-entries` members, all integers), else None.
fn as_intset(members: &[Bytes]) -> Option<Vec<Bytes>> {
    if members.len() as i64 > SET_MAX_INTSET_ENTRIES {
        return None;
    }
    let mut ints = members
        .iter()
        .map(|m| parse_i64(m).map(|n| (n, m.clone())))
        .collect::<Option<Vec<(i64, Bytes)>>>()?;
    ints.sort_unstable_by_key(|(n, _)| *n);
    Some(ints.into_iter().map(|(_, m)| m).collect())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]. Like Redis, a set it would
/// keep as an intset is returned whole, in integer order, with cursor 0
/// (reading at most 512 members); larger sets are paged by member hash.
fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::args::scan_cursor(&args[2])?;
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = ScanOptions::parse(&args[3..])?;
    let intset = if e.len <= SET_MAX_INTSET_ENTRIES {
        as_intset(&ctx.store.set_members(e.id)?)
    } else {
        None
    };
    let (next, members) = match intset {
        Some(all) => (0, all),
        None => ctx.store.set_scan(e.id, cursor, opts.count)?,
    };
    let items = members
        .into_iter()
        .filter(|m| opts.matches(m))
        .map(Reply::Bulk)
        .collect();
    Ok(scan_reply(next, items))
}

/// What OBJECT ENCODING answers for a set, as Redis 7.0 would: "intset" for
/// at most 512 members that are all integers, else "hashtable". (Redis never
/// converts a hashtable back to an intset, so a set that once held a
/// non-integer stays "hashtable" there; redsql judges the current members.)
/// O(1) for large sets, else reads the members (at most 512).
pub fn encoding(ctx: &mut Ctx, entry: &Entry) -> Result<&'static str, CmdError> {
    if entry.len <= SET_MAX_INTSET_ENTRIES && as_intset(&ctx.store.set_members(entry.id)?).is_some() {
        Ok("intset")
    } else {
        Ok("hashtable")
    }
}
