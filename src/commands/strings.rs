//! String commands: GET, SET and friends.

use super::args::{int, is};
use super::{CmdResult, Ctx, Handler, SYNTAX, WRONGTYPE, err};
use crate::resp::Reply;
use crate::store::{KeyType, Ttl};
use bytes::Bytes;

pub const COMMANDS: &[(&str, Handler)] = &[("get", Handler::Read(get)), ("set", Handler::Write(set))];

/// The string value at `key`, `None` if missing, WRONGTYPE for other types.
pub fn get_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, super::CmdError> {
    match ctx.store.get(ctx.db, key)? {
        None => Ok(None),
        Some(e) if e.kind == KeyType::String => Ok(Some(e.value.unwrap_or_default())),
        Some(_) => err(WRONGTYPE),
    }
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(get_string(ctx, &args[1])?.map_or(Reply::Nil, Reply::Bulk))
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
fn set(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut nx, mut xx, mut get, mut keepttl) = (false, false, false, false);
    let mut expire: Option<(&[u8], &Bytes)> = None;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let has_next = i + 1 < args.len();
        if is(a, "NX") && !xx {
            nx = true;
        } else if is(a, "XX") && !nx {
            xx = true;
        } else if is(a, "GET") {
            get = true;
        } else if is(a, "KEEPTTL") && expire.is_none() {
            keepttl = true;
        } else if (is(a, "EX") || is(a, "PX") || is(a, "EXAT") || is(a, "PXAT"))
            && !keepttl
            && expire.is_none()
            && has_next
        {
            expire = Some((a, &args[i + 1]));
            i += 1;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    let now = ctx.now();
    let ttl = match expire {
        None if keepttl => Ttl::Keep,
        None => Ttl::Persist,
        Some((unit, n)) => Ttl::At(expire_time(unit, n, now, "set")?),
    };
    let key = &args[1];
    let old = if get { get_string(ctx, key)? } else { None };
    if nx || xx {
        let exists = ctx.store.get(ctx.db, key)?.is_some();
        if (nx && exists) || (xx && !exists) {
            return Ok(if get {
                old.map_or(Reply::Nil, Reply::Bulk)
            } else {
                Reply::Nil
            });
        }
    }
    ctx.store.set_string(ctx.db, key, &args[2], ttl)?;
    Ok(if get {
        old.map_or(Reply::Nil, Reply::Bulk)
    } else {
        Reply::ok()
    })
}

/// Converts an EX/PX/EXAT/PXAT argument into an absolute time in ms, with Redis's checks.
pub fn expire_time(unit: &[u8], n: &[u8], now: i64, cmd: &str) -> Result<i64, super::CmdError> {
    let n = int(n)?;
    let invalid = || err(format!("ERR invalid expire time in '{cmd}' command"));
    if n <= 0 {
        return invalid();
    }
    let at = if is(unit, "EX") {
        n.checked_mul(1000).and_then(|ms| ms.checked_add(now))
    } else if is(unit, "PX") {
        n.checked_add(now)
    } else if is(unit, "EXAT") {
        n.checked_mul(1000)
    } else {
        Some(n)
    };
    match at {
        Some(at) => Ok(at),
        None => invalid(),
    }
}
