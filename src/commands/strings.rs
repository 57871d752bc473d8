//! String commands: GET, SET and friends, counters, ranges and LCS.
//!
//! A string is stored whole: every command reads the value once through
//! [`get_string`] and writes it once with `Store::set_string`.

use super::args::int;
use super::events::{Event, Place};
use super::longdouble::LongDouble;
use super::spec::{first_key_misses, misses_first, split_at};
use super::{Class, CmdError, CmdResult, Ctx, NOT_INTEGER, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::resp::request::{DEFAULT_MAX_BULK, parse_i64};
use crate::store::{KeyType, Ttl};
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::read("get", get),
    Spec::write("set", set)
        .misses(set_misses)
        .places(set_places)
        .key_access(set_access),
    Spec::write("setnx", setnx),
    Spec::write("setex", setex),
    Spec::write("psetex", psetex),
    Spec::write("getset", getset)
        .misses(first_key_misses)
        .places(misses_first),
    Spec::write("getdel", getdel)
        .misses(first_key_misses)
        .places(misses_first),
    Spec::write("getex", getex)
        .misses(first_key_misses)
        .places(misses_first),
    Spec::read("mget", mget).places(mget_places),
    Spec::write("mset", mset),
    Spec::write("msetnx", msetnx),
    Spec::write("append", append),
    Spec::read("strlen", strlen),
    Spec::read("getrange", getrange),
    Spec::read("substr", getrange),
    Spec::write("setrange", setrange),
    Spec::write("incr", incr),
    Spec::write("decr", decr),
    Spec::write("incrby", incrby),
    Spec::write("decrby", decrby),
    Spec::write("incrbyfloat", incrbyfloat),
    Spec::read("lcs", lcs),
];

/// Whether a SET has the GET option (it then reads its key first).
fn set_with_get(args: &[Bytes]) -> bool {
    args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"))
}

/// SET's "variable flags": it reads its key only with GET.
fn set_access(args: &[Bytes]) -> super::keyspec::KeyAccess {
    super::keyspec::KeyAccess {
        read: set_with_get(args),
        write: true,
    }
}

fn set_misses(_: &super::Command, args: &[Bytes]) -> Vec<usize> {
    if set_with_get(args) { vec![1] } else { Vec::new() }
}

fn set_places(args: &[Bytes], events: &[Event]) -> Vec<Place> {
    if set_with_get(args) {
        misses_first(args, events)
    } else {
        split_at(events, events.len())
    }
}

/// MGET: the k-th miss goes right before the k-th missing key's element
/// (in argument order) inside the array reply.
fn mget_places(args: &[Bytes], events: &[Event]) -> Vec<Place> {
    let mut places = split_at(events, events.len());
    let mut next = 1;
    for (place, e) in places.iter_mut().zip(events) {
        if let Some(at) = args[next..].iter().position(|k| *k == e.key) {
            *place = Place::BeforeElement(vec![next + at - 1]);
            next += at + 1;
        }
    }
    places
}

/// Largest string Redis lets a command build (`proto-max-bulk-len`, 512 MB by default).
pub const MAX_STRING_LEN: i64 = DEFAULT_MAX_BULK;

/// The error for growing a string past [`MAX_STRING_LEN`].
pub const TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/// The string value at `key`, `None` if missing, WRONGTYPE for other types.
pub fn get_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    match ctx.store.get(ctx.db, key)? {
        None => Ok(None),
        Some(e) if e.kind == KeyType::String => Ok(Some(e.value.unwrap_or_default())),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Case-insensitive option match the way Redis's `strcasecmp` sees an
/// argument: as a C string, ending at its first NUL byte.
pub fn opt(arg: &[u8], name: &str) -> bool {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(name.as_bytes())
}

/// Redis's `checkStringLength`: may a string grow to `len + append` bytes?
pub fn check_length(len: i64, append: i64) -> Result<(), CmdError> {
    match len.checked_add(append) {
        Some(total) if total <= MAX_STRING_LEN => Ok(()),
        _ => err(TOO_LONG),
    }
}

fn bulk_or_nil(v: Option<Bytes>) -> Reply {
    v.map_or(Reply::Nil, Reply::Bulk)
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(bulk_or_nil(get_string(ctx, &args[1])?))
}

// ---- SET and its options -------------------------------------------------

/// The expiry options shared by SET and GETEX.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// What SET/GETEX options asked for (Redis's `parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

impl StringOptions<'_> {
    /// Parses `args` for SET (`for_set`) or GETEX, with Redis's rules about
    /// which options exclude which (the same expiry option may repeat).
    fn parse(args: &[Bytes], for_set: bool) -> Result<StringOptions<'_>, CmdError> {
        let mut o = StringOptions::default();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let next = args.get(i + 1);
            let unit = if opt(a, "EX") {
                Some(Unit::Ex)
            } else if opt(a, "PX") {
                Some(Unit::Px)
            } else if opt(a, "EXAT") {
                Some(Unit::ExAt)
            } else if opt(a, "PXAT") {
                Some(Unit::PxAt)
            } else {
                None
            };
            if for_set && opt(a, "NX") && !o.xx {
                o.nx = true;
            } else if for_set && opt(a, "XX") && !o.nx {
                o.xx = true;
            } else if for_set && opt(a, "GET") {
                o.get = true;
            } else if for_set && opt(a, "KEEPTTL") && o.expire.is_none() {
                o.keepttl = true;
            } else if !for_set && opt(a, "PERSIST") && o.expire.is_none() {
                o.persist = true;
            } else if let (Some(unit), Some(n)) = (unit, next)
                && !o.keepttl
                && !o.persist
                && o.expire.is_none_or(|(u, _)| u == unit)
            {
                o.expire = Some((unit, n));
                i += 1;
            } else {
                return err(SYNTAX);
            }
            i += 1;
        }
        Ok(o)
    }
}

/// Converts an EX/PX/EXAT/PXAT argument into an absolute time in ms, with
/// Redis's checks (`getExpireMillisecondsOrReply`); `cmd` names the command in the error.
fn expire_at(unit: Unit, n: &[u8], now: i64, cmd: &str) -> Result<i64, CmdError> {
    let n = int(n)?;
    let invalid = || err(format!("ERR invalid expire time in '{cmd}' command"));
    if n <= 0 {
        return invalid();
    }
    let at = match unit {
        Unit::Ex => n.checked_mul(1000).and_then(|ms| ms.checked_add(now)),
        Unit::Px => n.checked_add(now),
        Unit::ExAt => n.checked_mul(1000),
        Unit::PxAt => Some(n),
    };
    match at {
        Some(at) if at > 0 => Ok(at),
        _ => invalid(),
    }
}

/// Converts an `EX`/`PX`/`EXAT`/`PXAT` option and its argument into an absolute
/// time in ms (for other modules whose options look like SET's).
pub fn expire_time(unit: &[u8], n: &[u8], now: i64, cmd: &str) -> Result<i64, CmdError> {
    let unit = if opt(unit, "EX") {
        Unit::Ex
    } else if opt(unit, "PX") {
        Unit::Px
    } else if opt(unit, "EXAT") {
        Unit::ExAt
    } else {
        Unit::PxAt
    };
    expire_at(unit, n, now, cmd)
}

/// The outcome of [`set_generic`].
enum SetOutcome {
    Written,
    /// NX/XX prevented the write.
    Aborted,
}

/// Redis's `setGenericCommand` without the reply: writes unless NX/XX forbid
/// it, with the already validated expiry. `exists` says whether the key is live.
/// Reports `new` (if the key did not exist), `set`, and `expire` with an expiry.
fn set_generic(
    ctx: &mut Ctx,
    key: &Bytes,
    value: &Bytes,
    o: &StringOptions,
    exists: bool,
    expire_ms: Option<i64>,
) -> Result<SetOutcome, CmdError> {
    if (o.nx && exists) || (o.xx && !exists) {
        return Ok(SetOutcome::Aborted);
    }
    match expire_ms {
        Some(at) => ctx.store.set_string(ctx.db, key, value, Ttl::At(at))?,
        None if o.keepttl => ctx.store.set_string(ctx.db, key, value, Ttl::Keep)?,
        // The common case, a plain SET, is MSET's write of one pair (a
        // statement with fewer parameters: no expiry to keep or set).
        None => ctx.store.set_strings(ctx.db, &[key.clone(), value.clone()])?,
    }
    if !exists {
        ctx.created(key);
    }
    ctx.notify(Class::String, "set", key);
    if expire_ms.is_some() {
        ctx.notify(Class::Generic, "expire", key);
    }
    Ok(SetOutcome::Written)
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let o = StringOptions::parse(&args[3..], true)?;
    let now = ctx.now();
    let expire_ms = o.expire.map(|(u, n)| expire_at(u, n, now, "set")).transpose()?;
    let key = &args[1];
    // Only GET needs the old value, and only NX/XX need to know whether the key
    // exists: a plain SET writes without looking.
    let entry = if o.get {
        ctx.store.get(ctx.db, key)?
    } else if o.nx || o.xx {
        ctx.store.meta(ctx.db, key)?
    } else {
        None
    };
    let old = match &entry {
        Some(e) if o.get && e.kind != KeyType::String => return Err(CmdError::WrongType),
        Some(e) => e.value.clone(),
        None => None,
    };
    // A plain SET asks whether the key exists only to report `new`.
    let exists = if o.get || o.nx || o.xx {
        entry.is_some()
    } else {
        !ctx.will_create(key)?
    };
    let outcome = set_generic(ctx, key, &args[2], &o, exists, expire_ms)?;
    Ok(match outcome {
        _ if o.get => bulk_or_nil(old),
        SetOutcome::Written => Reply::ok(),
        SetOutcome::Aborted => Reply::Nil,
    })
}

/// SETNX key value: 1 if the key was set.
fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let exists = ctx.store.get(ctx.db, &args[1])?.is_some();
    let o = StringOptions {
        nx: true,
        ..Default::default()
    };
    Ok(match set_generic(ctx, &args[1], &args[2], &o, exists, None)? {
        SetOutcome::Written => Reply::Int(1),
        SetOutcome::Aborted => Reply::Int(0),
    })
}

/// SETEX key seconds value / PSETEX key milliseconds value.
fn set_expiring(ctx: &mut Ctx, args: &[Bytes], unit: Unit, cmd: &str) -> CmdResult {
    let now = ctx.now();
    let at = expire_at(unit, &args[2], now, cmd)?;
    let created = ctx.will_create(&args[1])?;
    ctx.store.set_string(ctx.db, &args[1], &args[3], Ttl::At(at))?;
    if created {
        ctx.created(&args[1]);
    }
    ctx.notify(Class::String, "set", &args[1]);
    ctx.notify(Class::Generic, "expire", &args[1]);
    Ok(Reply::ok())
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_expiring(ctx, args, Unit::Ex, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    set_expiring(ctx, args, Unit::Px, "psetex")
}

/// GETSET key value: the old value; the new one has no expiry.
fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let old = get_string(ctx, &args[1])?;
    ctx.store.set_string(ctx.db, &args[1], &args[2], Ttl::Persist)?;
    if old.is_none() {
        ctx.created(&args[1]);
    }
    ctx.notify(Class::String, "set", &args[1]);
    Ok(bulk_or_nil(old))
}

/// GETDEL key
fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let old = get_string(ctx, &args[1])?;
    if old.is_some() {
        ctx.store.delete(ctx.db, &args[1])?;
        ctx.notify(Class::Generic, "del", &args[1]);
    }
    Ok(bulk_or_nil(old))
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let o = StringOptions::parse(&args[2..], false)?;
    let key = &args[1];
    let Some(value) = get_string(ctx, key)? else {
        return Ok(Reply::Nil);
    };
    let now = ctx.now();
    if let Some((unit, n)) = o.expire {
        let at = expire_at(unit, n, now, "getex")?;
        if matches!(unit, Unit::ExAt | Unit::PxAt) && at <= now {
            ctx.store.delete(ctx.db, key)?;
            ctx.notify(Class::Generic, "del", key);
        } else {
            ctx.store.set_expire(ctx.db, key, Some(at))?;
            ctx.notify(Class::Generic, "expire", key);
        }
    } else if o.persist {
        // `persist` is reported only if there was an expiry to remove.
        let had_ttl =
            ctx.notify.has(Class::Generic) && ctx.store.meta(ctx.db, key)?.is_some_and(|e| e.expire_at.is_some());
        ctx.store.set_expire(ctx.db, key, None)?;
        if had_ttl {
            ctx.notify(Class::Generic, "persist", key);
        }
    }
    Ok(Reply::Bulk(value))
}

/// MGET key [key ...]: nil for missing keys and keys of other types.
fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut out = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        out.push(match ctx.store.get(ctx.db, key)? {
            Some(e) if e.kind == KeyType::String => Reply::Bulk(e.value.unwrap_or_default()),
            _ => Reply::Nil,
        });
    }
    Ok(Reply::Array(out))
}

/// The key/value pairs of MSET/MSETNX, or Redis's arity error for an odd count.
fn pairs<'a>(args: &'a [Bytes], cmd: &str) -> Result<std::slice::ChunksExact<'a, Bytes>, CmdError> {
    if args.len().is_multiple_of(2) {
        return err(format!("ERR wrong number of arguments for '{cmd}' command"));
    }
    Ok(args[1..].chunks_exact(2))
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pairs = pairs(args, "mset")?;
    // Which pairs create their key (`new` events), found before the writes:
    // a key's first pair, if the key did not exist.
    let mut created = vec![false; pairs.len()];
    if ctx.notify.has(Class::New) {
        let mut seen = std::collections::HashSet::new();
        for (slot, kv) in created.iter_mut().zip(pairs.clone()) {
            *slot = seen.insert(&kv[0]) && ctx.will_create(&kv[0])?;
        }
    }
    ctx.store.set_strings(ctx.db, &args[1..])?;
    for (created, kv) in created.into_iter().zip(pairs) {
        if created {
            ctx.created(&kv[0]);
        }
        ctx.notify(Class::String, "set", &kv[0]);
    }
    Ok(Reply::ok())
}

/// MSETNX key value [key value ...]: sets all keys only if none exists.
fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let kvs = pairs(args, "msetnx")?;
    for kv in kvs.clone() {
        if ctx.store.get(ctx.db, &kv[0])?.is_some() {
            return Ok(Reply::Int(0));
        }
    }
    for kv in kvs {
        ctx.store.set_string(ctx.db, &kv[0], &kv[1], Ttl::Persist)?;
        ctx.created(&kv[0]);
        ctx.notify(Class::String, "set", &kv[0]);
    }
    Ok(Reply::Int(1))
}

/// APPEND key value: the new length. Keeps the TTL.
fn append(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, tail) = (&args[1], &args[2]);
    let mut len = Ok(0);
    let existed = ctx.store.update_string(ctx.db, key, &mut |old| {
        let old = old.unwrap_or_default();
        len = check_length(old.len() as i64, tail.len() as i64).map(|()| (old.len() + tail.len()) as i64);
        len.is_ok().then(|| [old, tail].concat())
    })?;
    let len = written(ctx, key, existed, len)?;
    ctx.notify(Class::String, "append", key);
    Ok(Reply::Int(len))
}

/// The outcome of a read-modify-write ([`crate::store::Store::update_string`])
/// whose closure computed `result`: WRONGTYPE for a key of another type, the
/// closure's error, or its result, after reporting `new` if the key was created.
fn written<T>(ctx: &mut Ctx, key: &Bytes, existed: Option<bool>, result: Result<T, CmdError>) -> Result<T, CmdError> {
    let Some(existed) = existed else {
        return Err(CmdError::WrongType);
    };
    let out = result?;
    if !existed {
        ctx.created(key);
    }
    Ok(out)
}

/// STRLEN key
fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(get_string(ctx, &args[1])?.map_or(0, |v| v.len() as i64)))
}

/// Redis's clamping of a `start..=end` range with negative indexes over a
/// sequence of `len` items; `None` when the range is empty.
pub fn clamp_range(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let start = if start < 0 { len.saturating_add(start) } else { start }.max(0);
    let end = if end < 0 { len.saturating_add(end) } else { end }.max(0);
    let end = end.min(len - 1);
    if start > end || len == 0 {
        None
    } else {
        Some((start as usize, end as usize))
    }
}

/// GETRANGE key start end (and its old name SUBSTR).
fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let start = int(&args[2])?;
    let end = int(&args[3])?;
    let v = get_string(ctx, &args[1])?.unwrap_or_default();
    Ok(Reply::Bulk(match clamp_range(start, end, v.len() as i64) {
        Some((s, e)) => v.slice(s..=e),
        None => Bytes::new(),
    }))
}

/// SETRANGE key offset value: the new length. Keeps the TTL.
fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (key, value) = (&args[1], &args[3]);
    let offset = int(&args[2])?;
    if offset < 0 {
        return err("ERR offset is out of range");
    }
    let mut len = Ok(0);
    let existed = ctx.store.update_string(ctx.db, key, &mut |old| {
        let old = old.unwrap_or_default();
        if value.is_empty() {
            // Nothing to write: the reply is the current length.
            len = Ok(old.len() as i64);
            return None;
        }
        if let Err(e) = check_length(offset, value.len() as i64) {
            len = Err(e);
            return None;
        }
        let offset = offset as usize;
        let mut v = old.to_vec();
        if v.len() < offset + value.len() {
            v.resize(offset + value.len(), 0);
        }
        v[offset..offset + value.len()].copy_from_slice(value);
        len = Ok(v.len() as i64);
        Some(v)
    })?;
    if existed == Some(false) && value.is_empty() {
        return Ok(Reply::Int(0));
    }
    let len = written(ctx, key, existed, len)?;
    if !value.is_empty() {
        ctx.notify(Class::String, "setrange", key);
    }
    Ok(Reply::Int(len))
}

// ---- counters -------------------------------------------------------------

/// Adds `incr` to the integer at `key` (Redis's `incrDecrCommand`).
fn incr_decr(ctx: &mut Ctx, key: &Bytes, incr: i64) -> CmdResult {
    let mut new = Ok(0);
    let existed = ctx.store.update_string(ctx.db, key, &mut |old| {
        new = add_integer(old, incr);
        new.as_ref().ok().map(|n| n.to_string().into_bytes())
    })?;
    let new = written(ctx, key, existed, new)?;
    ctx.notify(Class::String, "incrby", key);
    Ok(Reply::Int(new))
}

/// `old` (a missing key counts as 0) plus `incr`, with Redis's errors.
fn add_integer(old: Option<&[u8]>, incr: i64) -> Result<i64, CmdError> {
    let old = match old {
        None => 0,
        Some(v) => parse_i64(v).map_or_else(|| err(NOT_INTEGER), Ok)?,
    };
    old.checked_add(incr)
        .map_or_else(|| err("ERR increment or decrement would overflow"), Ok)
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = int(&args[2])?;
    incr_decr(ctx, &args[1], n)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = int(&args[2])?;
    if n == i64::MIN {
        return err("ERR decrement would overflow");
    }
    incr_decr(ctx, &args[1], -n)
}

/// INCRBYFLOAT key increment: computed in x87 long double like Redis, stored
/// and replied as Redis prints it (see [`super::longdouble`]). Keeps the TTL.
fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    let mut text = Ok(Bytes::new());
    let existed = ctx.store.update_string(ctx.db, key, &mut |old| {
        text = add_float(old, &args[2]);
        text.as_ref().ok().map(|t| t.to_vec())
    })?;
    let text = written(ctx, key, existed, text)?;
    ctx.notify(Class::String, "incrbyfloat", key);
    Ok(Reply::Bulk(text))
}

/// `old` (a missing key counts as 0) plus `incr`, as Redis prints the sum,
/// with Redis's errors in Redis's order (the stored value is checked first).
fn add_float(old: Option<&[u8]>, incr: &[u8]) -> Result<Bytes, CmdError> {
    let not_float = || err("ERR value is not a valid float");
    let value = match old {
        None => LongDouble::Zero { neg: false },
        Some(v) => LongDouble::parse(v).map_or_else(not_float, Ok)?,
    };
    let incr = LongDouble::parse(incr).map_or_else(not_float, Ok)?;
    let sum = value + incr;
    if !sum.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    Ok(Bytes::from(sum.to_human()))
}

// ---- LCS ------------------------------------------------------------------

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut values = [Bytes::new(), Bytes::new()];
    for (slot, key) in values.iter_mut().zip(&args[1..3]) {
        match ctx.store.get(ctx.db, key)? {
            None => {}
            Some(e) if e.kind == KeyType::String => *slot = e.value.unwrap_or_default(),
            Some(_) => return err("ERR The specified keys must contain string values"),
        }
    }
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if opt(a, "IDX") {
            getidx = true;
        } else if opt(a, "LEN") {
            getlen = true;
        } else if opt(a, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if opt(a, "MINMATCHLEN") && i + 1 < args.len() {
            minmatchlen = int(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    if getidx && getlen {
        return err("ERR If you want both the length and indexes, please just use IDX.");
    }
    let [a, b] = values;
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells * 4 > MAX_STRING_LEN as u64 {
        return err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let table = LcsTable::new(&a, &b);
    let walk = table.walk(&a, &b, minmatchlen as u64);
    Ok(if getidx {
        let matches = walk
            .ranges
            .iter()
            .map(|r| {
                let mut item = vec![
                    Reply::Array(vec![Reply::Int(r.a.0 as i64), Reply::Int(r.a.1 as i64)]),
                    Reply::Array(vec![Reply::Int(r.b.0 as i64), Reply::Int(r.b.1 as i64)]),
                ];
                if withmatchlen {
                    item.push(Reply::Int(r.len as i64));
                }
                Reply::Array(item)
            })
            .collect();
        Reply::Map(vec![
            (Reply::bulk_str("matches"), Reply::Array(matches)),
            (Reply::bulk_str("len"), Reply::Int(table.len() as i64)),
        ])
    } else if getlen {
        Reply::Int(table.len() as i64)
    } else {
        Reply::Bulk(Bytes::from(walk.common))
    })
}

/// The dynamic-programming table of LCS lengths of all prefixes of `a` and `b`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

/// One common run reported by `LCS IDX`: inclusive ranges in each string.
pub struct LcsRange {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub len: usize,
}

struct LcsWalk {
    common: Vec<u8>,
    ranges: Vec<LcsRange>,
}

impl LcsTable {
    fn new(a: &[u8], b: &[u8]) -> LcsTable {
        let width = b.len() + 1;
        let mut cells = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        LcsTable { cells, width }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    fn len(&self) -> u32 {
        self.cells[self.cells.len() - 1]
    }

    /// Walks back from the end, collecting the common subsequence and its
    /// contiguous runs exactly in the order and shape Redis emits them.
    fn walk(&self, a: &[u8], b: &[u8], minmatchlen: u64) -> LcsWalk {
        let mut common = vec![0u8; self.len() as usize];
        let mut idx = common.len();
        let mut ranges = Vec::new();
        let (mut i, mut j) = (a.len(), b.len());
        // `None` means no run is being tracked.
        let mut run: Option<(usize, usize, usize, usize)> = None; // (a_start, a_end, b_start, b_end)
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                common[idx - 1] = a[i - 1];
                match &mut run {
                    None => run = Some((i - 1, i - 1, j - 1, j - 1)),
                    Some(r) if r.0 == i && r.2 == j => {
                        r.0 -= 1;
                        r.2 -= 1;
                    }
                    Some(_) => emit = true,
                }
                if let Some(r) = run
                    && (r.0 == 0 || r.2 == 0)
                {
                    emit = true;
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit |= run.is_some();
            }
            if emit && let Some((a0, a1, b0, b1)) = run.take() {
                let len = a1 - a0 + 1;
                if minmatchlen == 0 || len as u64 >= minmatchlen {
                    ranges.push(LcsRange {
                        a: (a0, a1),
                        b: (b0, b1),
                        len,
                    });
                }
            }
        }
        LcsWalk { common, ranges }
    }
}
