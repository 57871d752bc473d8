//! Conversions between replies and Lua values, as Redis 7.0's
//! `redisProtocolToLuaType` and `luaReplyToRedisReply` do them.

use crate::resp::Reply;
use crate::resp::reply::{format_double, format_g};
use bytes::{BufMut, Bytes, BytesMut};
use mlua::{Lua, Table, Value};

/// Nesting past which a returned table is not followed (Redis runs out of
/// Lua stack at a similar depth and answers this error in its place).
const MAX_DEPTH: usize = 1000;

/// A number argument of `redis.call`, printed as `%.17g`.
pub fn number_arg(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else if n.is_finite() {
        format_g(n, 17)
    } else if n.is_nan() {
        if n.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        }
    } else if n > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// A number as Lua's `tostring` prints it (`%.14g`).
pub fn lua_number_string(n: f64) -> String {
    if n.is_finite() {
        format_g(n, 14)
    } else if n.is_nan() {
        if n.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        }
    } else if n > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// A Lua number as a reply integer: C's `(long long)` cast on x86-64
/// (NaN and values out of range give the minimum).
pub fn to_int(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// The bytes of a C string: up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// `{err = "ERR " .. msg}` (Redis's `luaPushError` with a message without
/// a code), with `ignore_error_stats_update` when the error was counted
/// already (an error of a command run by `redis.call`).
pub fn error_table(lua: &Lua, msg: &[u8], counted: bool) -> mlua::Result<Value> {
    let mut buf = Vec::with_capacity(msg.len());
    buf.extend_from_slice(msg);
    let t = push_error_buff(lua, &buf)?;
    if counted && let Value::Table(t) = &t {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// The error table of a command's error reply `e` (its text without `-`).
pub fn reply_error_table(lua: &Lua, e: &[u8]) -> mlua::Result<Value> {
    let mut buf = Vec::with_capacity(e.len() + 1);
    buf.push(b'-');
    buf.extend_from_slice(e);
    let t = push_error_buff(lua, &buf)?;
    if let Value::Table(t) = &t {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// Redis's `luaPushErrorBuff`: `-CODE msg` keeps its code, anything else
/// gets `ERR`; trailing and leading CR/LF are trimmed.
pub fn push_error_buff(lua: &Lua, buf: &[u8]) -> mlua::Result<Value> {
    let buf = c_str(buf);
    let (code, msg): (&[u8], &[u8]) = if buf.first() == Some(&b'-') {
        match buf.iter().position(|&c| c == b' ') {
            Some(sp) => (&buf[1..sp], &buf[sp + 1..]),
            None => (b"ERR", &buf[1..]),
        }
    } else {
        (b"ERR", buf)
    };
    let is_crlf = |c: &u8| *c == b'\r' || *c == b'\n';
    let start = msg.iter().position(|c| !is_crlf(c)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|c| !is_crlf(c)).map_or(start, |e| e + 1);
    let msg = &msg[start..end.max(start)];
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&full)?)?;
    Ok(Value::Table(t))
}

/// A command's reply as the Lua value a script gets, for a script client
/// speaking `resp` (2 or 3).
pub fn to_lua(lua: &Lua, reply: &Reply, resp: u8) -> mlua::Result<Value> {
    super::libs::deep(|| reply_to_lua(lua, reply, resp))
}

fn reply_to_lua(lua: &Lua, reply: &Reply, resp: u8) -> mlua::Result<Value> {
    let v = match reply {
        Reply::Status(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(s)?)?;
            Value::Table(t)
        }
        Reply::Error(e) => reply_error_table(lua, e)?,
        Reply::Int(i) => Value::Number(*i as f64),
        Reply::Bulk(b) => Value::String(lua.create_string(b)?),
        Reply::Nil | Reply::NilArray => {
            if resp == 2 {
                Value::Boolean(false)
            } else {
                Value::Nil
            }
        }
        Reply::Array(items) | Reply::Push(items) => array(lua, items, resp)?,
        Reply::Set(items) if resp == 2 => array(lua, items, resp)?,
        Reply::Set(items) => {
            let set = lua.create_table()?;
            for item in items {
                let k = to_lua(lua, item, resp)?;
                set.set(k, true)?;
            }
            let t = lua.create_table()?;
            t.raw_set("set", set)?;
            Value::Table(t)
        }
        Reply::Map(pairs) if resp == 2 => {
            let t = lua.create_table()?;
            for (i, (k, v)) in pairs.iter().enumerate() {
                t.set(2 * i + 1, to_lua(lua, k, resp)?)?;
                t.set(2 * i + 2, to_lua(lua, v, resp)?)?;
            }
            Value::Table(t)
        }
        Reply::Map(pairs) => {
            let map = lua.create_table()?;
            for (k, v) in pairs {
                let k = to_lua(lua, k, resp)?;
                let v = to_lua(lua, v, resp)?;
                map.set(k, v)?;
            }
            let t = lua.create_table()?;
            t.raw_set("map", map)?;
            Value::Table(t)
        }
        Reply::Double(d) if resp == 2 => Value::String(lua.create_string(format_double(*d))?),
        Reply::Double(d) => {
            let t = lua.create_table()?;
            t.raw_set("double", *d)?;
            Value::Table(t)
        }
        Reply::Bool(b) if resp == 2 => Value::Number(if *b { 1.0 } else { 0.0 }),
        Reply::Bool(b) => Value::Boolean(*b),
        Reply::Verbatim(s) if resp == 2 => Value::String(lua.create_string(s)?),
        Reply::Verbatim(s) => {
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(s)?)?;
            inner.raw_set("format", "txt")?;
            let t = lua.create_table()?;
            t.raw_set("verbatim_string", inner)?;
            Value::Table(t)
        }
        Reply::BigNumber(s) if resp == 2 => Value::String(lua.create_string(s)?),
        Reply::BigNumber(s) => {
            let t = lua.create_table()?;
            t.raw_set("big_number", lua.create_string(s)?)?;
            Value::Table(t)
        }
        Reply::Raw(raw) => match crate::resp::value::parse(raw) {
            Some((r, _)) => to_lua(lua, &r, resp)?,
            None => Value::Nil,
        },
    };
    Ok(v)
}

fn array(lua: &Lua, items: &[Reply], resp: u8) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    for (i, item) in items.iter().enumerate() {
        t.set(i + 1, to_lua(lua, item, resp)?)?;
    }
    Ok(Value::Table(t))
}

fn field(t: &Table, name: &str) -> Value {
    t.raw_get::<Value>(name).unwrap_or(Value::Nil)
}

fn bytes(s: &mlua::LuaString) -> Bytes {
    Bytes::copy_from_slice(&s.as_bytes())
}

/// CR and LF become spaces (status lines and big numbers).
fn one_line(b: &[u8]) -> Bytes {
    Bytes::from(
        b.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect::<Vec<u8>>(),
    )
}

/// A script's return value as the reply to its client (speaking `proto`);
/// `resp` is the script's own protocol (`redis.setresp`), which decides
/// what booleans become.
pub fn to_reply(v: &Value, resp: u8, proto: u8, depth: usize) -> Reply {
    super::libs::deep(|| value_to_reply(v, resp, proto, depth))
}

fn value_to_reply(v: &Value, resp: u8, proto: u8, depth: usize) -> Reply {
    match v {
        Value::String(s) => Reply::Bulk(bytes(s)),
        Value::Boolean(b) => match (resp, b) {
            (2, true) => Reply::Int(1),
            (2, false) => Reply::Nil,
            (_, b) => Reply::Bool(*b),
        },
        Value::Integer(i) => Reply::Int(*i),
        Value::Number(n) => Reply::Int(to_int(*n)),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return Reply::error("ERR reached lua stack limit");
            }
            table_reply(t, resp, proto, depth)
        }
        _ => Reply::Nil,
    }
}

fn table_reply(t: &Table, resp: u8, proto: u8, depth: usize) -> Reply {
    if let Value::String(_) = field(t, "err") {
        let msg = match t.get::<Value>("err") {
            Ok(Value::String(s)) => c_str(&s.as_bytes()).to_vec(),
            _ => Vec::new(),
        };
        return Reply::Error(Bytes::from(msg));
    }
    if let Value::String(s) = field(t, "ok") {
        return Reply::Status(one_line(c_str(&s.as_bytes())));
    }
    match field(t, "double") {
        Value::Number(d) => return Reply::Double(d),
        Value::Integer(i) => return Reply::Double(i as f64),
        _ => {}
    }
    if let Value::String(s) = field(t, "big_number") {
        return Reply::BigNumber(one_line(&s.as_bytes()));
    }
    if let Value::Table(v) = field(t, "verbatim_string")
        && let Value::String(format) = field(&v, "format")
        && let Value::String(s) = field(&v, "string")
    {
        return verbatim(&format.as_bytes(), &s.as_bytes(), proto);
    }
    if let Value::Table(m) = field(t, "map") {
        let mut pairs = Vec::new();
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            pairs.push((
                to_reply(&k, resp, proto, depth + 1),
                to_reply(&v, resp, proto, depth + 1),
            ));
        }
        return Reply::Map(pairs);
    }
    if let Value::Table(s) = field(t, "set") {
        let mut items = Vec::new();
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            items.push(to_reply(&k, resp, proto, depth + 1));
        }
        return Reply::Set(items);
    }
    let mut items = Vec::new();
    for j in 1.. {
        match t.raw_get::<Value>(j) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(to_reply(&v, resp, proto, depth + 1)),
        }
    }
    Reply::Array(items)
}

fn verbatim(format: &[u8], s: &[u8], proto: u8) -> Reply {
    if proto < 3 {
        return Reply::Bulk(Bytes::copy_from_slice(s));
    }
    if format == b"txt" {
        return Reply::Verbatim(Bytes::copy_from_slice(s));
    }
    // Redis copies three bytes of the format, whatever it is.
    let mut f = [b'\0'; 3];
    for (i, c) in format.iter().take(3).enumerate() {
        f[i] = *c;
    }
    let mut out = BytesMut::new();
    out.put_slice(format!("={}\r\n", s.len() + 4).as_bytes());
    out.put_slice(&f);
    out.put_u8(b':');
    out.put_slice(s);
    out.put_slice(b"\r\n");
    Reply::Raw(out.freeze())
}

/// The error reply of a script that raised `err` (the error handler's
/// table, or a string when even that failed), as Redis's `luaCallFunction`
/// words it: the message, then ` script: NAME, on SOURCE:LINE.`.
pub fn script_error(err: &Value, name: &str) -> String {
    let Value::Table(t) = err else {
        let msg = match err {
            Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            _ => "execution failure".into(),
        };
        let msg: String = msg.chars().take(100).collect();
        return format!("ERR Error running script {name}, {msg}\n");
    };
    let text = |v: Value| match v {
        Value::String(s) => Some(String::from_utf8_lossy(c_str(&s.as_bytes())).into_owned()),
        Value::Integer(i) => Some(lua_number_string(i as f64)),
        Value::Number(n) => Some(lua_number_string(n)),
        _ => None,
    };
    let msg = text(t.get("err").unwrap_or(Value::Nil)).unwrap_or_default();
    let source = text(t.get("source").unwrap_or(Value::Nil));
    let line = text(t.get("line").unwrap_or(Value::Nil));
    match (source, line) {
        (Some(source), Some(line)) => format!("{msg} script: {name}, on {source}:{line}."),
        _ => msg,
    }
}
