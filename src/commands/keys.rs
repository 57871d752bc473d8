//! Key-space commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, MOVE,
//! the EXPIRE family, TTL, OBJECT, DUMP/RESTORE, ...
//!
//! They work on keys of every type through the [`Store`](crate::store::Store)
//! trait; the replies and error texts are Redis 7.0's (`db.c`, `expire.c`,
//! `object.c`, `cluster.c` for DUMP/RESTORE).

use super::args::{int, is};
use super::events::{Event, Place};
use super::spec::{Target, first_key_misses, no_misses, split_at};
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::rdb;
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use crate::store::{End, Entry, KeyType, Ttl, ZQuery, ZSpan};
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::write("del", del),
    Spec::write("unlink", del),
    Spec::read("exists", exists),
    Spec::read("touch", exists),
    Spec::read("type", type_),
    Spec::read("keys", keys),
    Spec::read("scan", scan),
    Spec::read("randomkey", randomkey),
    Spec::write("rename", rename).feeds(true),
    Spec::write("renamenx", renamenx).feeds(true),
    Spec::write("copy", copy).misses(first_key_misses).touches(copy_touches),
    Spec::write("move", move_).touches(move_touches),
    Spec::write("expire", expire).places(expire_places),
    Spec::write("pexpire", pexpire).places(expire_places),
    Spec::write("expireat", expireat).places(expire_places),
    Spec::write("pexpireat", pexpireat).places(expire_places),
    Spec::read("ttl", ttl),
    Spec::read("pttl", pttl),
    Spec::read("expiretime", expiretime),
    Spec::read("pexpiretime", pexpiretime),
    Spec::write("persist", persist),
    Spec::read("object|encoding", object_encoding).misses(no_misses),
    Spec::read("object|refcount", object_refcount).misses(no_misses),
    Spec::read("object|idletime", object_idletime).misses(no_misses),
    Spec::read("object|freq", object_freq).misses(no_misses),
    Spec::pure("object|help", object_help),
    Spec::read("dump", dump),
    Spec::write("restore", restore).feeds(true),
];

/// EXPIRE & co. reply before their event, unless the key was deleted (a
/// time in the past): then the `del` goes first.
fn expire_places(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    let before = if events.iter().any(|e| e.name == "del") {
        events.len()
    } else {
        0
    };
    split_at(events, before)
}

/// A database-number argument.
fn db_arg(a: &Bytes) -> Option<u32> {
    crate::resp::request::parse_i64(a).and_then(|n| u32::try_from(n).ok())
}

/// MOVE key db: the key in the target database.
fn move_touches<'a>(_: u32, args: &'a [Bytes], f: &mut dyn FnMut(Target<'a>)) {
    if let Some(db) = db_arg(&args[2]) {
        f(Target::Key(db, &args[1]));
    }
}

/// COPY source destination [DB db]: the destination, in its database.
fn copy_touches<'a>(selected: u32, args: &'a [Bytes], f: &mut dyn FnMut(Target<'a>)) {
    let db = args
        .iter()
        .position(|a| a.eq_ignore_ascii_case(b"DB"))
        .and_then(|i| args.get(i + 1))
        .and_then(db_arg)
        .unwrap_or(selected);
    f(Target::Key(db, &args[2]));
}

const NO_SUCH_KEY: &str = "ERR no such key";
const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const DB_OUT_OF_RANGE: &str = "ERR DB index is out of range";

/// How many keys KEYS reads from the store at a time.
const KEYS_PAGE: usize = 1000;

/// The live key without its value (type, expiry), or `None`.
fn lookup(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    Ok(ctx.store.meta(ctx.db, key)?)
}

/// The live key with its value (OBJECT ENCODING, DUMP), or `None`.
fn lookup_value(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Entry>, CmdError> {
    Ok(ctx.store.get(ctx.db, key)?)
}

fn key_exists(ctx: &mut Ctx, db: u32, key: &[u8]) -> Result<bool, CmdError> {
    Ok(ctx.store.meta(db, key)?.is_some())
}

/// A C string view of an argument: Redis formats some arguments with `%s`,
/// which stops at the first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    arg.iter().position(|&b| b == 0).map_or(arg, |n| &arg[..n])
}

/// An error reply with `arg` interpolated as Redis's `addReplyErrorFormat`
/// does: cut at NUL, with CR and LF turned into spaces.
fn error_with_arg(prefix: &str, arg: &[u8]) -> CmdResult {
    let mut msg = prefix.as_bytes().to_vec();
    msg.extend(
        c_str(arg)
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    Ok(Reply::Error(msg.into()))
}

/// A database index argument: an `int` (Redis's `getIntFromObjectOrReply`,
/// with its own error for a 64-bit value out of `int` range) within `0..databases`.
fn db_index(ctx: &Ctx, arg: &[u8]) -> Result<u32, CmdError> {
    let n = int(arg)?;
    if i32::try_from(n).is_err() {
        return err("ERR value is out of range, value must between -2147483648 and 2147483647");
    }
    match u32::try_from(n) {
        Ok(db) if db < ctx.databases => Ok(db),
        _ => err(DB_OUT_OF_RANGE),
    }
}

// ---- existence and type ----

/// DEL / UNLINK key [key ...]: how many keys were removed.
fn del(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.store.delete(ctx.db, k)? {
            ctx.notify(Class::Generic, "del", k);
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

/// EXISTS / TOUCH key [key ...]: how many of the keys exist (repeats count
/// again for EXISTS, as in Redis; TOUCH counts the same way). redsql keeps no
/// access time, so TOUCH has nothing else to do.
fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for k in &args[1..] {
        if key_exists(ctx, ctx.db, k)? {
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

/// TYPE key: the type name, or `none`.
fn type_(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::status(lookup(ctx, &args[1])?.map_or("none", |e| e.kind.name())))
}

// ---- iteration ----

/// True if `key` matches a KEYS/SCAN pattern. A lone `*` matches every key,
/// the empty one included (Redis special-cases it before `stringmatchlen`).
fn pattern_matches(pattern: &[u8], key: &[u8]) -> bool {
    pattern == b"*" || crate::glob::matches(pattern, key, false)
}

/// KEYS pattern: every live key matching the pattern.
fn keys(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let pattern = &args[1];
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = ctx.store.scan(ctx.db, cursor, KEYS_PAGE, None)?;
        out.extend(
            page.keys
                .into_iter()
                .filter(|k| pattern_matches(pattern, k))
                .map(Reply::Bulk),
        );
        if page.cursor == 0 {
            return Ok(Reply::Array(out));
        }
        cursor = page.cursor;
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor is the row id of the last key returned (keys come in id order),
/// so a full iteration returns every key that exists throughout it exactly
/// once. COUNT is how many keys are read per call (before MATCH filters).
fn scan(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let cursor = super::args::scan_cursor(&args[1])?;
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if is(&args[i], "COUNT") && has_value {
            count = int(&args[i + 1])?;
            if count < 1 {
                return err(SYNTAX);
            }
        } else if is(&args[i], "MATCH") && has_value {
            pattern = Some(&args[i + 1]);
        } else if is(&args[i], "TYPE") && has_value {
            type_name = Some(&args[i + 1]);
        } else {
            return err(SYNTAX);
        }
        i += 2;
    }
    let kind = match type_name {
        // Redis compares the name case-insensitively; an unknown name matches nothing.
        Some(name) => match KeyType::from_name(name) {
            Some(k) => Some(k),
            None => return Ok(scan_reply(0, Vec::new())),
        },
        None => None,
    };
    let page = ctx.store.scan(ctx.db, cursor, count as usize, kind)?;
    let keys = page
        .keys
        .into_iter()
        .filter(|k| pattern.is_none_or(|p| pattern_matches(p, k)))
        .collect();
    Ok(scan_reply(page.cursor, keys))
}

fn scan_reply(cursor: u64, keys: Vec<Bytes>) -> Reply {
    Reply::Array(vec![
        Reply::bulk(cursor.to_string()),
        Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
    ])
}

/// RANDOMKEY: a random live key, or nil.
fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    Ok(ctx.store.random_key(ctx.db)?.map_or(Reply::Nil, Reply::Bulk))
}

// ---- renaming, copying, moving ----

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// RENAME / RENAMENX key newkey: the value and its TTL move to `newkey`.
fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> CmdResult {
    let (src, dst) = (&args[1], &args[2]);
    if lookup(ctx, src)?.is_none() {
        return err(NO_SUCH_KEY);
    }
    let done = |changed: bool| if nx { Reply::Int(changed as i64) } else { Reply::ok() };
    if src == dst {
        return Ok(done(false));
    }
    if nx && key_exists(ctx, ctx.db, dst)? {
        return Ok(Reply::Int(0));
    }
    ctx.store.rename(ctx.db, src, dst)?;
    // Redis deletes `dst` silently and adds it anew.
    ctx.created(dst);
    ctx.notify(Class::Generic, "rename_from", src);
    ctx.notify(Class::Generic, "rename_to", dst);
    Ok(done(true))
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut replace = false;
    let mut dst_db = ctx.db;
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "REPLACE") {
            replace = true;
        } else if is(&args[i], "DB") && i + 1 < args.len() {
            dst_db = db_index(ctx, &args[i + 1])?;
            i += 1;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    let (src, dst) = (&args[1], &args[2]);
    if dst_db == ctx.db && src == dst {
        return err(SAME_OBJECT);
    }
    if lookup(ctx, src)?.is_none() {
        return Ok(Reply::Int(0));
    }
    if !replace && key_exists(ctx, dst_db, dst)? {
        return Ok(Reply::Int(0));
    }
    ctx.store.copy(ctx.db, src, dst_db, dst)?;
    ctx.notify_in(dst_db, Class::New, "new", dst);
    ctx.notify_in(dst_db, Class::Generic, "copy_to", dst);
    Ok(Reply::Int(1))
}

/// MOVE key db: moves the key (with its TTL) unless the target holds it already.
fn move_(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let dst_db = db_index(ctx, &args[2])?;
    if dst_db == ctx.db {
        return err(SAME_OBJECT);
    }
    let key = &args[1];
    if lookup(ctx, key)?.is_none() || key_exists(ctx, dst_db, key)? {
        return Ok(Reply::Int(0));
    }
    ctx.store.move_key(ctx.db, key, dst_db)?;
    ctx.notify_in(dst_db, Class::New, "new", key);
    ctx.notify(Class::Generic, "move_from", key);
    ctx.notify_in(dst_db, Class::Generic, "move_to", key);
    Ok(Reply::Int(1))
}

// ---- expiry ----

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireFlags {
    /// Redis's `parseExtendedExpireArgumentsOrReply`, with its error texts.
    fn parse(opts: &[Bytes]) -> Result<ExpireFlags, CmdResult> {
        let mut f = ExpireFlags::default();
        for opt in opts {
            if is(opt, "NX") {
                f.nx = true;
            } else if is(opt, "XX") {
                f.xx = true;
            } else if is(opt, "GT") {
                f.gt = true;
            } else if is(opt, "LT") {
                f.lt = true;
            } else {
                return Err(error_with_arg("ERR Unsupported option ", opt));
            }
        }
        if f.nx && (f.xx || f.gt || f.lt) {
            return Err(err(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if f.gt && f.lt {
            return Err(err("ERR GT and LT options at the same time are not compatible"));
        }
        Ok(f)
    }

    /// Whether the new expiry may be set, given the current one (`None`:
    /// no expiry, which GT and LT treat as infinite).
    fn allow(&self, current: Option<i64>, when: i64) -> bool {
        !((self.nx && current.is_some())
            || (self.xx && current.is_none())
            || (self.gt && current.is_none_or(|c| when <= c))
            || (self.lt && current.is_some_and(|c| when >= c)))
    }
}

/// The unit and origin of an EXPIRE-family time argument.
#[derive(Clone, Copy)]
enum TimeArg {
    /// Relative seconds (EXPIRE).
    Seconds,
    /// Relative milliseconds (PEXPIRE).
    Millis,
    /// Absolute Unix seconds (EXPIREAT).
    UnixSeconds,
    /// Absolute Unix milliseconds (PEXPIREAT).
    UnixMillis,
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, TimeArg::Seconds, "expire")
}

fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, TimeArg::Millis, "pexpire")
}

fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, TimeArg::UnixSeconds, "expireat")
}

fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    expire_generic(ctx, args, TimeArg::UnixMillis, "pexpireat")
}

/// EXPIRE key seconds [NX | XX | GT | LT] and its three siblings (Redis's
/// `expireGenericCommand`). A time already in the past deletes the key.
fn expire_generic(ctx: &mut Ctx, args: &[Bytes], unit: TimeArg, name: &str) -> CmdResult {
    let flags = match ExpireFlags::parse(&args[3..]) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    let now = ctx.now();
    let when = absolute_time(int(&args[2])?, unit, now)
        .map_or_else(|| err(format!("ERR invalid expire time in '{name}' command")), Ok)?;
    let key = &args[1];
    let Some(entry) = lookup(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    if !flags.allow(entry.expire_at, when) {
        return Ok(Reply::Int(0));
    }
    if when <= now {
        ctx.store.delete(ctx.db, key)?;
        ctx.notify(Class::Generic, "del", key);
    } else {
        ctx.store.set_expire(ctx.db, key, Some(when))?;
        ctx.notify(Class::Generic, "expire", key);
    }
    Ok(Reply::Int(1))
}

/// The absolute expiry in milliseconds, or `None` where Redis reports an
/// invalid expire time (overflow in the unit conversion or the addition).
fn absolute_time(n: i64, unit: TimeArg, now: i64) -> Option<i64> {
    let (ms, base) = match unit {
        TimeArg::Seconds => (seconds_to_ms(n)?, now),
        TimeArg::Millis => (n, now),
        TimeArg::UnixSeconds => (seconds_to_ms(n)?, 0),
        TimeArg::UnixMillis => (n, 0),
    };
    if ms > i64::MAX - base {
        return None;
    }
    Some(ms + base)
}

/// Redis's bounds: `LLONG_MIN / 1000 ..= LLONG_MAX / 1000` seconds.
fn seconds_to_ms(n: i64) -> Option<i64> {
    (i64::MIN / 1000..=i64::MAX / 1000).contains(&n).then(|| n * 1000)
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// TTL / PTTL / EXPIRETIME / PEXPIRETIME key: -2 if the key does not exist,
/// -1 if it has no expiry, else the remaining time (or the absolute time) in
/// milliseconds or rounded seconds.
fn ttl_generic(ctx: &mut Ctx, args: &[Bytes], millis: bool, absolute: bool) -> CmdResult {
    let Some(entry) = lookup(ctx, &args[1])? else {
        return Ok(Reply::Int(-2));
    };
    let Some(at) = entry.expire_at else {
        return Ok(Reply::Int(-1));
    };
    let t = if absolute { at } else { at - ctx.now() }.max(0);
    Ok(Reply::Int(if millis { t } else { (t + 500) / 1000 }))
}

/// PERSIST key: 1 if an expiry was removed.
fn persist(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let key = &args[1];
    match lookup(ctx, key)? {
        Some(e) if e.expire_at.is_some() => {
            ctx.store.set_expire(ctx.db, key, None)?;
            ctx.notify(Class::Generic, "persist", key);
            Ok(Reply::Int(1))
        }
        _ => Ok(Reply::Int(0)),
    }
}

// ---- OBJECT ----

/// Redis's `OBJ_SHARED_INTEGERS`: strings holding 0..9999 share one object.
const SHARED_INTEGERS: i64 = 10000;
/// The reference count Redis reports for shared objects (`INT_MAX`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
const EMBSTR_SIZE_LIMIT: usize = 44;

/// The integer a string value is stored as by Redis (`tryObjectEncoding`:
/// at most 20 bytes that `string2l` accepts).
fn as_integer(value: &[u8]) -> Option<i64> {
    if value.len() <= 20 { parse_i64(value) } else { None }
}

/// What OBJECT ENCODING answers for a key.
///
/// Redis's encoding depends on a value's history (an APPENDed or SETRANGEd
/// string stays `raw` even when short); redsql does not keep it and answers
/// what a freshly written value would have: `int`, `embstr` up to 44 bytes,
/// else `raw`. Each collection type adds its arm here.
fn encoding(entry: &Entry) -> Option<&'static str> {
    match entry.kind {
        KeyType::String => {
            let v = entry.value.as_deref().unwrap_or_default();
            Some(if as_integer(v).is_some() {
                "int"
            } else if v.len() <= EMBSTR_SIZE_LIMIT {
                "embstr"
            } else {
                "raw"
            })
        }
        KeyType::List | KeyType::Set | KeyType::ZSet | KeyType::Hash | KeyType::Stream => None,
    }
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(entry) = lookup_value(ctx, &args[2])? else {
        return Ok(Reply::Nil);
    };
    let name = match entry.kind {
        KeyType::List => super::lists::encoding(ctx, &entry)?,
        KeyType::Set => super::sets::encoding(ctx, &entry)?,
        KeyType::ZSet => super::zsets::encoding(ctx, &entry)?,
        KeyType::Hash => super::hashes::encoding(ctx, &entry)?,
        KeyType::Stream => super::streams::encoding(),
        _ => match encoding(&entry) {
            Some(name) => name,
            None => {
                return err(format!(
                    "ERR OBJECT ENCODING of a {} is not supported",
                    entry.kind.name()
                ));
            }
        },
    };
    Ok(Reply::bulk_str(name))
}

/// OBJECT REFCOUNT key: 2147483647 for the integers 0..9999 Redis shares, else 1.
fn object_refcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(entry) = lookup_value(ctx, &args[2])? else {
        return Ok(Reply::Nil);
    };
    let shared = entry.kind == KeyType::String
        && as_integer(entry.value.as_deref().unwrap_or_default()).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n));
    Ok(Reply::Int(if shared { SHARED_REFCOUNT } else { 1 }))
}

/// OBJECT IDLETIME key: redsql does not track access times (reads would
/// become writes), so every key reports 0 seconds of idleness.
fn object_idletime(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(lookup(ctx, &args[2])?.map_or(Reply::Nil, |_| Reply::Int(0)))
}

/// OBJECT FREQ key: access frequencies exist only under an LFU
/// `maxmemory-policy`, which redsql does not implement (it never evicts), so
/// this is Redis's answer for every other policy.
fn object_freq(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if lookup(ctx, &args[2])?.is_none() {
        return Ok(Reply::Nil);
    }
    err(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
    )
}

fn object_help(_ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    Ok(super::help(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    ))
}

// ---- DUMP / RESTORE ----

/// The RDB value of a key, read whole from the store.
fn rdb_value(ctx: &mut Ctx, entry: Entry) -> Result<Option<rdb::Value>, CmdError> {
    let id = entry.id;
    Ok(Some(match entry.kind {
        KeyType::String => rdb::Value::String(entry.value.unwrap_or_default()),
        KeyType::List => rdb::Value::List(ctx.store.list_range(id, 0, entry.len - 1)?),
        KeyType::Set => rdb::Value::Set(ctx.store.set_members(id)?),
        KeyType::ZSet => rdb::Value::ZSet(ctx.store.zset_range(id, &ZQuery::span(ZSpan::All))?),
        KeyType::Hash => rdb::Value::Hash(ctx.store.hash_all(id)?),
        KeyType::Stream => rdb::Value::Stream(super::streams::to_rdb(ctx, &entry)?),
    }))
}

/// Stores a decoded RDB value at `key`, which holds no live key.
fn write_rdb_value(ctx: &mut Ctx, key: &[u8], value: rdb::Value, ttl: Ttl) -> Result<(), CmdError> {
    let db = ctx.db;
    match value {
        rdb::Value::String(s) => {
            ctx.store.set_string(db, key, &s, ttl)?;
            return Ok(());
        }
        rdb::Value::List(items) => {
            let id = ctx.store.create_key(db, key, KeyType::List)?;
            ctx.store.list_push(id, 0, End::Tail, &items)?;
        }
        rdb::Value::Set(members) => {
            let id = ctx.store.create_key(db, key, KeyType::Set)?;
            ctx.store.set_add(id, &members)?;
        }
        rdb::Value::ZSet(items) => {
            let id = ctx.store.create_key(db, key, KeyType::ZSet)?;
            ctx.store.zset_put(id, &items)?;
        }
        rdb::Value::Stream(s) => super::streams::from_rdb(ctx, key, &s)?,
        rdb::Value::Hash(pairs) => {
            let id = ctx.store.create_key(db, key, KeyType::Hash)?;
            let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
            ctx.store.hash_set(id, &pairs)?;
        }
    }
    if let Ttl::At(at) = ttl {
        ctx.store.set_expire(db, key, Some(at))?;
    }
    Ok(())
}

/// DUMP key: the value serialized in Redis's RDB format, or nil.
fn dump(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let Some(entry) = lookup_value(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    let kind = entry.kind;
    match rdb_value(ctx, entry)? {
        Some(v) => Ok(Reply::bulk(rdb::dump(&v))),
        None => err(format!("ERR DUMP of a {} is not supported", kind.name())),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
///
/// IDLETIME and FREQ are validated like Redis does and otherwise have no
/// effect (redsql keeps no access statistics).
fn restore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idletime, mut freq) = (false, false);
    let mut i = 4;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if is(&args[i], "REPLACE") {
            replace = true;
        } else if is(&args[i], "ABSTTL") {
            absttl = true;
        } else if is(&args[i], "IDLETIME") && has_value && !freq {
            if int(&args[i + 1])? < 0 {
                return err("ERR Invalid IDLETIME value, must be >= 0");
            }
            idletime = true;
            i += 1;
        } else if is(&args[i], "FREQ") && has_value && !idletime {
            if !(0..=255).contains(&int(&args[i + 1])?) {
                return err("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            freq = true;
            i += 1;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    let key = &args[1];
    if !replace && key_exists(ctx, ctx.db, key)? {
        return err("BUSYKEY Target key name already exists.");
    }
    let mut ttl = int(&args[2])?;
    if ttl < 0 {
        return err("ERR Invalid TTL value, must be >= 0");
    }
    let value = rdb::load(&args[3]).or_else(|e| err(e.message()))?;
    let deleted = replace && ctx.store.delete(ctx.db, key)?;
    let now = ctx.now();
    if ttl != 0 && !absttl {
        // Redis adds without an overflow check; a wrapped time is in the past.
        ttl = ttl.wrapping_add(now);
    }
    if ttl != 0 && ttl <= now {
        // Already expired: the key is gone (REPLACE deleted any old one).
        if deleted {
            ctx.notify(Class::Generic, "del", key);
        }
        return Ok(Reply::ok());
    }
    let ttl = if ttl == 0 { Ttl::Persist } else { Ttl::At(ttl) };
    write_rdb_value(ctx, key, value, ttl)?;
    ctx.created(key);
    ctx.notify(Class::Generic, "restore", key);
    Ok(Reply::ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_time_bounds() {
        let now = 1_000_000;
        assert_eq!(absolute_time(5, TimeArg::Seconds, now), Some(1_005_000));
        assert_eq!(absolute_time(-5, TimeArg::Millis, now), Some(999_995));
        assert_eq!(absolute_time(i64::MAX / 1000 + 1, TimeArg::UnixSeconds, now), None);
        assert_eq!(absolute_time(i64::MIN / 1000 - 1, TimeArg::Seconds, now), None);
        assert_eq!(absolute_time(i64::MAX, TimeArg::UnixMillis, now), Some(i64::MAX));
        assert_eq!(absolute_time(i64::MAX, TimeArg::Millis, now), None);
        assert_eq!(absolute_time(i64::MIN, TimeArg::Millis, now), Some(i64::MIN + now));
    }

    #[test]
    fn expire_flags() {
        let f =
            |opts: &[&str]| ExpireFlags::parse(&opts.iter().map(|o| Bytes::from(o.to_string())).collect::<Vec<_>>());
        assert!(f(&["nx"]).is_ok_and(|f| f.nx));
        assert!(f(&["gt", "xx"]).is_ok_and(|f| f.gt && f.xx));
        assert!(f(&["nx", "xx"]).is_err());
        assert!(f(&["gt", "lt"]).is_err());
        assert!(f(&["foo"]).is_err());
        let gt = ExpireFlags {
            gt: true,
            ..Default::default()
        };
        assert!(!gt.allow(None, 5));
        assert!(gt.allow(Some(4), 5));
        assert!(!gt.allow(Some(5), 5));
        let lt = ExpireFlags {
            lt: true,
            ..Default::default()
        };
        assert!(lt.allow(None, 5));
        assert!(lt.allow(Some(6), 5));
        assert!(!lt.allow(Some(5), 5));
    }

    #[test]
    fn string_encodings() {
        let e = |v: &[u8]| {
            encoding(&Entry {
                id: 1,
                kind: KeyType::String,
                expire_at: None,
                version: 1,
                value: Some(Bytes::copy_from_slice(v)),
                len: 0,
            })
        };
        assert_eq!(e(b"123"), Some("int"));
        assert_eq!(e(b"-9223372036854775808"), Some("int"));
        assert_eq!(e(b"9223372036854775808"), Some("embstr"));
        assert_eq!(e(b"0123"), Some("embstr"));
        assert_eq!(e(b""), Some("embstr"));
        assert_eq!(e(&[b'x'; 44]), Some("embstr"));
        assert_eq!(e(&[b'x'; 45]), Some("raw"));
    }
}
