//! Hash commands: HSET, HGET, HGETALL, HINCRBYFLOAT, HRANDFIELD, HSCAN, ...
//!
//! Each command checks its arguments, finds the key (missing, a hash, or
//! WRONGTYPE), and does its work in one or two [`HashStore`] calls. Costs are
//! given per command; n is the number of fields in the hash, k the number of
//! fields named in the command.
//!
//! [`HashStore`]: crate::store::HashStore

use super::args::{int, int_or, is};
use super::longdouble::LongDouble;
use super::spec::lookups_first;
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::store::{Entry, KeyType};
use bytes::Bytes;
use std::collections::HashSet;

pub const COMMANDS: &[Spec] = &[
    Spec::write("hset", hset).places(lookups_first),
    Spec::write("hmset", hmset).places(lookups_first),
    Spec::write("hsetnx", hsetnx).places(lookups_first),
    Spec::read("hget", hget),
    Spec::read("hmget", hmget),
    Spec::write("hdel", hdel),
    Spec::read("hexists", hexists),
    Spec::read("hlen", hlen),
    Spec::read("hstrlen", hstrlen),
    Spec::read("hkeys", hkeys),
    Spec::read("hvals", hvals),
    Spec::read("hgetall", hgetall),
    Spec::write("hincrby", hincrby).places(lookups_first),
    Spec::write("hincrbyfloat", hincrbyfloat).places(lookups_first),
    Spec::read("hrandfield", hrandfield),
    Spec::read("hscan", hscan),
];

/// Redis 7.0's `hash-max-listpack-entries` default: larger hashes are hashtables.
const MAX_LISTPACK_ENTRIES: i64 = 512;
/// Redis 7.0's `hash-max-listpack-value` default: a longer field or value makes a hashtable.
const MAX_LISTPACK_VALUE: i64 = 64;

/// The hash at `key`: `None` if missing, WRONGTYPE for other types.
fn lookup(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    match ctx.store.get(ctx.db, key)? {
        None => Ok(None),
        Some(e) if e.kind == KeyType::Hash => Ok(Some(e)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The id of the hash at `key`, creating an empty one if missing (the caller
/// adds a field in the same command; `new` is reported).
fn lookup_or_create(ctx: &mut Ctx, key: &Bytes) -> Result<i64, CmdError> {
    match lookup(ctx, key)? {
        Some(e) => Ok(e.id),
        None => create(ctx, key),
    }
}

/// Creates an empty hash at `key` and reports `new`.
fn create(ctx: &mut Ctx, key: &Bytes) -> Result<i64, CmdError> {
    let id = ctx.store.create_key(ctx.db, key, KeyType::Hash)?;
    ctx.created(key);
    Ok(id)
}

/// What OBJECT ENCODING answers for a hash, judged from its current contents
/// with Redis 7.0's default thresholds: "listpack" or "hashtable". O(1) for
/// large hashes, O(n) for small ones. (Redis never converts a hashtable back,
/// so a hash that grew and then shrank may differ.)
pub fn encoding(ctx: &mut Ctx, entry: &Entry) -> Result<&'static str, CmdError> {
    Ok(if is_listpack(ctx, entry)? {
        "listpack"
    } else {
        "hashtable"
    })
}

fn is_listpack(ctx: &mut Ctx, entry: &Entry) -> Result<bool, CmdError> {
    Ok(entry.len <= MAX_LISTPACK_ENTRIES && ctx.store.hash_max_len(entry.id)? <= MAX_LISTPACK_VALUE)
}

/// A field and its value, borrowed from the arguments.
type Pair<'a> = (&'a [u8], &'a [u8]);

/// The field/value pairs of HSET/HMSET `key field value [field value ...]`.
fn pairs<'a>(args: &'a [Bytes], cmd: &str) -> Result<Vec<Pair<'a>>, CmdError> {
    let rest = &args[2..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return err(format!("ERR wrong number of arguments for '{cmd}' command"));
    }
    Ok(rest.chunks(2).map(|p| (&p[0][..], &p[1][..])).collect())
}

/// Sets the pairs, creating the hash if needed; returns the number of new fields.
fn set_pairs(ctx: &mut Ctx, args: &[Bytes], cmd: &str) -> Result<i64, CmdError> {
    let pairs = pairs(args, cmd)?;
    let id = lookup_or_create(ctx, &args[1])?;
    let added = ctx.store.hash_set(id, &pairs)?;
    ctx.notify(Class::Hash, "hset", &args[1]);
    Ok(added)
}

/// HSET key field value [field value ...]: the number of new fields. O(k log n).
fn hset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(set_pairs(ctx, args, "hset")?))
}

/// HMSET key field value [field value ...]: OK. O(k log n).
fn hmset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_pairs(ctx, args, "hmset")?;
    Ok(Reply::ok())
}

/// HSETNX key field value: 1 if the field was set, 0 if it existed. O(log n).
fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, field, value) = (&args[1], &args[2], &args[3]);
    let id = match lookup(ctx, key)? {
        Some(e) if ctx.store.hash_value_len(e.id, field)?.is_some() => return Ok(Reply::Int(0)),
        Some(e) => e.id,
        None => create(ctx, key)?,
    };
    ctx.store.hash_set(id, &[(field, value)])?;
    ctx.notify(Class::Hash, "hset", key);
    Ok(Reply::Int(1))
}

/// HGET key field. O(log n).
fn hget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    Ok(ctx.store.hash_get(e.id, &args[2])?.map_or(Reply::Nil, Reply::Bulk))
}

/// HMGET key field [field ...]: one value or nil per field. O(k log n).
fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let fields = &args[2..];
    let values = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.hash_get_many(e.id, fields)?,
        None => vec![None; fields.len()],
    };
    Ok(Reply::Array(
        values.into_iter().map(|v| v.map_or(Reply::Nil, Reply::Bulk)).collect(),
    ))
}

/// HDEL key field [field ...]: the number of fields removed. O(k log n).
fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let removed = ctx.store.hash_delete(e.id, &args[2..])?;
    if removed > 0 {
        ctx.notify(Class::Hash, "hdel", &args[1]);
        if removed >= e.len {
            ctx.notify(Class::Generic, "del", &args[1]);
        }
    }
    Ok(Reply::Int(removed))
}

/// HEXISTS key field: 1 or 0. O(log n).
fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let found = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.hash_value_len(e.id, &args[2])?.is_some(),
        None => false,
    };
    Ok(Reply::Int(found as i64))
}

/// HLEN key: the number of fields. O(1).
fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(lookup(ctx, &args[1])?.map_or(0, |e| e.len)))
}

/// HSTRLEN key field: the length of the value, 0 if missing. O(log n).
fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let len = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.hash_value_len(e.id, &args[2])?.unwrap_or(0),
        None => 0,
    };
    Ok(Reply::Int(len))
}

fn bulks(items: Vec<Bytes>) -> Reply {
    Reply::Array(items.into_iter().map(Reply::Bulk).collect())
}

/// HKEYS key: every field. O(n).
fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let fields = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.hash_fields(e.id)?,
        None => Vec::new(),
    };
    Ok(bulks(fields))
}

/// HVALS key: every value. O(n).
fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let values = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.hash_values(e.id)?,
        None => Vec::new(),
    };
    Ok(bulks(values))
}

/// HGETALL key: a map of fields to values (a flat array in RESP2). O(n).
fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let all = match lookup(ctx, &args[1])? {
        Some(e) => ctx.store.hash_all(e.id)?,
        None => Vec::new(),
    };
    Ok(Reply::Map(
        all.into_iter().map(|(f, v)| (Reply::Bulk(f), Reply::Bulk(v))).collect(),
    ))
}

/// The current value of a field for HINCRBY/HINCRBYFLOAT: (hash id, value).
fn current_value(ctx: &mut Ctx, key: &[u8], field: &[u8]) -> Result<(Option<i64>, Option<Bytes>), CmdError> {
    match lookup(ctx, key)? {
        Some(e) => Ok((Some(e.id), ctx.store.hash_get(e.id, field)?)),
        None => Ok((None, None)),
    }
}

/// Stores the new value of a field, creating the hash if it did not exist,
/// and reports `event`.
fn store_value(
    ctx: &mut Ctx,
    id: Option<i64>,
    key: &Bytes,
    field: &[u8],
    value: &[u8],
    event: &'static str,
) -> Result<(), CmdError> {
    let id = match id {
        Some(id) => id,
        None => create(ctx, key)?,
    };
    ctx.store.hash_set(id, &[(field, value)])?;
    ctx.notify(Class::Hash, event, key);
    Ok(())
}

/// HINCRBY key field increment: the new value. A missing field counts as 0. O(log n).
fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, field) = (&args[1], &args[2]);
    let incr = int(&args[3])?;
    let (id, current) = current_value(ctx, key, field)?;
    let current = match current {
        Some(v) => int_or(&v, "ERR hash value is not an integer")?,
        None => 0,
    };
    let Some(new) = current.checked_add(incr) else {
        return err("ERR increment or decrement would overflow");
    };
    store_value(ctx, id, key, field, new.to_string().as_bytes(), "hincrby")?;
    Ok(Reply::Int(new))
}

/// HINCRBYFLOAT key field increment: the new value, computed in `long double`
/// and printed exactly like Redis (see [`super::longdouble`]). O(log n).
fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, field) = (&args[1], &args[2]);
    let Some(incr) = LongDouble::parse(&args[3]) else {
        return err(super::NOT_FLOAT);
    };
    if !incr.is_finite() {
        return err("ERR value is NaN or Infinity");
    }
    let (id, current) = current_value(ctx, key, field)?;
    let current = match current {
        Some(v) => match LongDouble::parse(&v) {
            Some(c) => c,
            None => return err("ERR hash value is not a float"),
        },
        None => LongDouble::Zero { neg: false },
    };
    let sum = current + incr;
    if !sum.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    let new = sum.to_human();
    store_value(ctx, id, key, field, new.as_bytes(), "hincrbyfloat")?;
    Ok(Reply::bulk(new))
}

/// HRANDFIELD key [count [WITHVALUES]].
///
/// Without a count: one random field, nil if the key is missing. With a
/// positive count: up to count distinct fields; negative: exactly |count|
/// fields, possibly repeated. Each pick is a random seek, O(log n); counts
/// close to n read the whole hash once, O(n).
fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() == 2 {
        let Some(e) = lookup(ctx, &args[1])? else {
            return Ok(Reply::Nil);
        };
        return Ok(ctx.store.hash_random(e.id)?.map_or(Reply::Nil, |(f, _)| Reply::Bulk(f)));
    }
    let count = int(&args[2])?;
    if count == i64::MIN {
        return err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    }
    let with_values = match args.get(3) {
        None => false,
        Some(a) if args.len() == 4 && is(a, "WITHVALUES") => true,
        Some(_) => return err(SYNTAX),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return err("ERR value is out of range");
    }
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let picks = if count < 0 {
        random_with_repetition(ctx, &e, count.unsigned_abs())?
    } else {
        random_distinct(ctx, &e, count as u64)?
    };
    Ok(random_reply(picks, with_values, ctx.proto))
}

/// `count` random entries, possibly repeated.
fn random_with_repetition(ctx: &mut Ctx, e: &Entry, count: u64) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    let mut picks = Vec::new();
    if count >= e.len as u64 {
        // Cheaper to read the hash once than to seek `count` times.
        let all = ctx.store.hash_all(e.id)?;
        if all.is_empty() {
            return Ok(picks);
        }
        for _ in 0..count {
            picks.push(all[(crate::util::random_u64() % all.len() as u64) as usize].clone());
        }
    } else {
        for _ in 0..count {
            picks.extend(ctx.store.hash_random(e.id)?);
        }
    }
    Ok(picks)
}

/// Up to `count` distinct random entries (Redis's strategies: everything when
/// count covers the hash, drop random entries when it covers most of it,
/// otherwise collect distinct random picks).
fn random_distinct(ctx: &mut Ctx, e: &Entry, count: u64) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    let len = e.len as u64;
    if count == 0 {
        return Ok(Vec::new());
    }
    if count >= len {
        return Ok(ctx.store.hash_all(e.id)?);
    }
    if count.saturating_mul(3) > len {
        let mut all = ctx.store.hash_all(e.id)?;
        while all.len() as u64 > count {
            let i = (crate::util::random_u64() % all.len() as u64) as usize;
            all.swap_remove(i);
        }
        return Ok(all);
    }
    let mut seen = HashSet::new();
    let mut picks = Vec::new();
    while (picks.len() as u64) < count {
        let Some((f, v)) = ctx.store.hash_random(e.id)? else {
            break;
        };
        if seen.insert(f.clone()) {
            picks.push((f, v));
        }
    }
    Ok(picks)
}

/// HRANDFIELD's reply: fields; with values, a flat field/value array in RESP2
/// and an array of [field, value] pairs in RESP3.
fn random_reply(picks: Vec<(Bytes, Bytes)>, with_values: bool, proto: u8) -> Reply {
    let items = if !with_values {
        picks.into_iter().map(|(f, _)| Reply::Bulk(f)).collect()
    } else if proto >= 3 {
        picks
            .into_iter()
            .map(|(f, v)| Reply::Array(vec![Reply::Bulk(f), Reply::Bulk(v)]))
            .collect()
    } else {
        picks
            .into_iter()
            .flat_map(|(f, v)| [Reply::Bulk(f), Reply::Bulk(v)])
            .collect()
    };
    Reply::Array(items)
}

/// HSCAN key cursor [MATCH pattern] [COUNT count].
///
/// Cursors are field hashes (see [`crate::store::HashStore::hash_scan`]):
/// O(log n + count) per call. Like Redis, a small (listpack) hash is returned
/// whole in one call with cursor 0.
fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::args::scan_cursor(&args[2])?;
    let Some(e) = lookup(ctx, &args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            return err(SYNTAX);
        }
        if is(&args[i], "COUNT") {
            let n = int(&args[i + 1])?;
            if n < 1 {
                return err(SYNTAX);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(&args[i], "MATCH") {
            pattern = Some(&args[i + 1][..]).filter(|p| *p != b"*");
        } else {
            return err(SYNTAX);
        }
        i += 2;
    }
    let (next, entries) = if is_listpack(ctx, &e)? {
        (0, ctx.store.hash_all(e.id)?)
    } else {
        ctx.store.hash_scan(e.id, cursor, count)?
    };
    let mut items = Vec::new();
    for (f, v) in entries {
        if pattern.is_none_or(|p| crate::glob::matches(p, &f, false)) {
            items.push(Reply::Bulk(f));
            items.push(Reply::Bulk(v));
        }
    }
    Ok(scan_reply(next, items))
}

/// The two-element reply of the SCAN family: cursor (as a bulk string) and items.
fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(items)])
}
