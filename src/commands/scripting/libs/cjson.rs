//! `cjson`: lua-cjson 2.1.0 as Redis embeds it (encode, decode, the
//! configuration functions, `cjson.null`), with its output and its errors.

use super::{Fail, LuaResult, arg_error, deep, fail, ok, raising};
use crate::commands::scripting::convert::lua_number_string;
use crate::resp::reply::format_g;
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::rc::Rc;

struct Config {
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    /// 0 off, 1 on, 2 null.
    encode_invalid_numbers: usize,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
    precision: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
            keep_buffer: true,
            precision: 14,
        }
    }
}

type Cfg = Rc<RefCell<Config>>;

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cfg: Cfg = Rc::new(RefCell::new(Config::default()));
    macro_rules! reg {
        ($name:literal, $f:expr) => {{
            let cfg = cfg.clone();
            let f = lua.create_function(move |lua, args: MultiValue| $f(lua, &cfg, args))?;
            t.set($name, raising(lua, f)?)?;
        }};
    }
    reg!("encode", encode);
    reg!("decode", decode);
    reg!("encode_sparse_array", cfg_sparse);
    reg!("encode_max_depth", |lua, cfg: &Cfg, args| int_option(
        lua,
        args,
        "encode_max_depth",
        1,
        i32::MAX as i64,
        &mut cfg.borrow_mut().encode_max_depth
    ));
    reg!("decode_max_depth", |lua, cfg: &Cfg, args| int_option(
        lua,
        args,
        "decode_max_depth",
        1,
        i32::MAX as i64,
        &mut cfg.borrow_mut().decode_max_depth
    ));
    reg!("encode_number_precision", |lua, cfg: &Cfg, args| int_option(
        lua,
        args,
        "encode_number_precision",
        1,
        14,
        &mut cfg.borrow_mut().precision
    ));
    reg!("encode_keep_buffer", |lua, cfg: &Cfg, args| {
        let mut v = cfg.borrow().keep_buffer as usize;
        let r = enum_option(lua, args, "encode_keep_buffer", &["off", "on"], &mut v);
        cfg.borrow_mut().keep_buffer = v == 1;
        r
    });
    reg!("encode_invalid_numbers", |lua, cfg: &Cfg, args| {
        let mut v = cfg.borrow().encode_invalid_numbers;
        let r = enum_option(lua, args, "encode_invalid_numbers", &["off", "on", "null"], &mut v);
        cfg.borrow_mut().encode_invalid_numbers = v;
        r
    });
    reg!("decode_invalid_numbers", |lua, cfg: &Cfg, args| {
        let mut v = cfg.borrow().decode_invalid_numbers as usize;
        let r = enum_option(lua, args, "decode_invalid_numbers", &["off", "on"], &mut v);
        cfg.borrow_mut().decode_invalid_numbers = v == 1;
        r
    });
    t.set("null", Value::LightUserData(LightUserData(std::ptr::null_mut())))?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// `json_arg_init`: at most `n` arguments.
fn arg_init(args: &MultiValue, n: usize, name: &str) -> Result<(), Fail> {
    if args.len() > n {
        return Err(arg_error(n + 1, name, "found too many arguments"));
    }
    Ok(())
}

fn int_option(lua: &Lua, args: MultiValue, name: &str, min: i64, max: i64, setting: &mut i64) -> LuaResult {
    if let Err(e) = arg_init(&args, 1, name) {
        return fail(lua, e);
    }
    if let Err(e) = set_int(lua, &args, 0, name, min, max, setting) {
        return fail(lua, e);
    }
    ok(Value::Integer(*setting))
}

fn set_int(
    lua: &Lua,
    args: &MultiValue,
    i: usize,
    name: &str,
    min: i64,
    max: i64,
    setting: &mut i64,
) -> Result<(), Fail> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    if v.is_nil() {
        return Ok(());
    }
    let got = v.type_name();
    let Some(n) = lua.coerce_number(v).ok().flatten() else {
        return Err(arg_error(i + 1, name, &format!("number expected, got {got}")));
    };
    let n = n as i64;
    if n < min || n > max {
        return Err(arg_error(1, name, &format!("expected integer between {min} and {max}")));
    }
    *setting = n;
    Ok(())
}

fn enum_option(lua: &Lua, args: MultiValue, name: &str, options: &[&str], setting: &mut usize) -> LuaResult {
    if let Err(e) = arg_init(&args, 1, name) {
        return fail(lua, e);
    }
    match args.front().cloned().unwrap_or(Value::Nil) {
        Value::Nil => {}
        Value::Boolean(b) => *setting = b as usize,
        Value::String(s) => match options.iter().position(|o| o.as_bytes() == &s.as_bytes()[..]) {
            Some(i) => *setting = i,
            None => {
                let msg = format!("invalid option '{}'", String::from_utf8_lossy(&s.as_bytes()));
                return fail(lua, arg_error(1, name, &msg));
            }
        },
        v => {
            let msg = format!("string expected, got {}", v.type_name());
            return fail(lua, arg_error(1, name, &msg));
        }
    }
    if *setting <= 1 {
        ok(Value::Boolean(*setting == 1))
    } else {
        ok(Value::String(lua.create_string(options[*setting])?))
    }
}

fn cfg_sparse(lua: &Lua, cfg: &Cfg, args: MultiValue) -> mlua::Result<MultiValue> {
    let failed = |r: LuaResult| -> mlua::Result<MultiValue> {
        let (ok, v) = r?;
        Ok(MultiValue::from_iter([Value::Boolean(ok), v]))
    };
    const NAME: &str = "encode_sparse_array";
    if let Err(e) = arg_init(&args, 3, NAME) {
        return failed(fail(lua, e));
    }
    let mut c = cfg.borrow_mut();
    let mut convert = c.sparse_convert as usize;
    let first: MultiValue = args.iter().take(1).cloned().collect();
    match enum_option(lua, first, NAME, &["off", "on"], &mut convert)? {
        (true, _) => {}
        other => return failed(Ok(other)),
    }
    c.sparse_convert = convert == 1;
    let (mut ratio, mut safe) = (c.sparse_ratio, c.sparse_safe);
    if let Err(e) = set_int(lua, &args, 1, NAME, 0, i32::MAX as i64, &mut ratio) {
        return failed(fail(lua, e));
    }
    if let Err(e) = set_int(lua, &args, 2, NAME, 0, i32::MAX as i64, &mut safe) {
        return failed(fail(lua, e));
    }
    c.sparse_ratio = ratio;
    c.sparse_safe = safe;
    Ok(MultiValue::from_iter([
        Value::Boolean(true),
        Value::Boolean(c.sparse_convert),
        Value::Integer(ratio),
        Value::Integer(safe),
    ]))
}

// ---- encoding ----

fn encode(lua: &Lua, cfg: &Cfg, args: MultiValue) -> LuaResult {
    if args.len() != 1 {
        return fail(lua, arg_error(1, "encode", "expected 1 argument"));
    }
    let cfg = cfg.borrow();
    let mut out = Vec::new();
    match append(&cfg, &args[0], 0, &mut out) {
        Ok(()) => ok(Value::String(lua.create_string(&out)?)),
        Err(e) => fail(lua, e),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

fn exception(v: &Value, reason: &str) -> Fail {
    Fail::Where(format!("Cannot serialise {}: {reason}", type_name(v)))
}

fn append_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    }
}

fn append_number(cfg: &Config, v: &Value, out: &mut Vec<u8>) -> Result<(), Fail> {
    let n = number(v);
    match cfg.encode_invalid_numbers {
        0 if !n.is_finite() => return Err(exception(v, "must not be NaN or Inf")),
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if !n.is_finite() => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    let s = if n.is_finite() {
        format_g(n, cfg.precision as usize)
    } else {
        lua_number_string(n)
    };
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// lua-cjson's `lua_array_length`: the array's length, or None for an object.
fn array_length(cfg: &Config, t: &Table) -> Result<Option<i64>, Fail> {
    let (mut max, mut items) = (0i64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, _)) = pair else { return Ok(None) };
        let k = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if k != 0.0 && k.floor() == k && k >= 1.0 {
            if k > max as f64 {
                max = k as i64;
            }
            items += 1;
            continue;
        }
        return Ok(None);
    }
    if cfg.sparse_ratio > 0 && max > items * cfg.sparse_ratio && max > cfg.sparse_safe {
        if !cfg.sparse_convert {
            return Err(Fail::Where("Cannot serialise table: excessively sparse array".into()));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

fn append(cfg: &Config, v: &Value, depth: i64, out: &mut Vec<u8>) -> Result<(), Fail> {
    deep(|| append_value(cfg, v, depth, out))
}

fn append_value(cfg: &Config, v: &Value, depth: i64, out: &mut Vec<u8>) -> Result<(), Fail> {
    match v {
        Value::String(s) => append_string(&s.as_bytes(), out),
        Value::Integer(_) | Value::Number(_) => append_number(cfg, v, out)?,
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth {
                return Err(Fail::Where(format!("Cannot serialise, excessive nesting ({depth})")));
            }
            match array_length(cfg, t)? {
                Some(len) if len > 0 => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i).unwrap_or(Value::Nil);
                        append(cfg, &item, depth, out)?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut comma = false;
                    for pair in t.pairs::<Value, Value>() {
                        let Ok((k, item)) = pair else { break };
                        if comma {
                            out.push(b',');
                        }
                        comma = true;
                        match &k {
                            Value::Integer(_) | Value::Number(_) => {
                                out.push(b'"');
                                append_number(cfg, &k, out)?;
                                out.extend_from_slice(b"\":");
                            }
                            Value::String(s) => {
                                append_string(&s.as_bytes(), out);
                                out.push(b':');
                            }
                            _ => return Err(exception(&k, "table key must be a number or string")),
                        }
                        append(cfg, &item, depth, out)?;
                    }
                    out.push(b'}');
                }
            }
        }
        _ => return Err(exception(v, "type not supported")),
    }
    Ok(())
}

// ---- decoding ----

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

const TOKEN_NAMES: [&str; 12] = [
    "T_OBJ_BEGIN",
    "T_OBJ_END",
    "T_ARR_BEGIN",
    "T_ARR_END",
    "T_STRING",
    "T_NUMBER",
    "T_BOOLEAN",
    "T_NULL",
    "T_COLON",
    "T_COMMA",
    "T_END",
    "T_ERROR",
];

struct Token {
    kind: Tok,
    index: usize,
    string: Vec<u8>,
    number: f64,
    boolean: bool,
    error: &'static str,
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i64,
    cfg: &'a Config,
}

impl Parser<'_> {
    /// The byte at `i`, NUL past the end (the C code reads a C string).
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&mut self, kind: Tok) -> Token {
        Token {
            kind,
            index: self.pos,
            string: Vec::new(),
            number: 0.0,
            boolean: false,
            error: "",
        }
    }

    fn error(&self, mut t: Token, msg: &'static str) -> Token {
        t.kind = Tok::Error;
        t.index = self.pos;
        t.error = msg;
        t
    }

    fn next(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let ch = self.at(self.pos);
        let single = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            _ => None,
        };
        if let Some(kind) = single {
            let t = self.token(kind);
            self.pos += 1;
            return t;
        }
        let t = self.token(Tok::End);
        if ch == 0 {
            return t;
        }
        let unknown = matches!(
            ch,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9'
        );
        if !unknown {
            return self.error(t, "invalid token");
        }
        let rest = &self.data[self.pos..];
        if ch == b'"' {
            return self.string(t);
        }
        if ch == b'-' || ch.is_ascii_digit() {
            if !self.cfg.decode_invalid_numbers && self.invalid_number() {
                return self.error(t, "invalid number");
            }
            return self.number(t);
        }
        if rest.starts_with(b"true") {
            self.pos += 4;
            return Token {
                kind: Tok::Bool,
                boolean: true,
                ..t
            };
        }
        if rest.starts_with(b"false") {
            self.pos += 5;
            return Token {
                kind: Tok::Bool,
                boolean: false,
                ..t
            };
        }
        if rest.starts_with(b"null") {
            self.pos += 4;
            return Token { kind: Tok::Null, ..t };
        }
        if self.cfg.decode_invalid_numbers && self.invalid_number() {
            return self.number(t);
        }
        self.error(t, "invalid token")
    }

    fn invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).eq_ignore_ascii_case(&w[i]));
        word(b"inf") || word(b"nan")
    }

    fn number(&mut self, t: Token) -> Token {
        let (n, used) = strtod(&self.data[self.pos..]);
        if used == 0 {
            return self.error(t, "invalid number");
        }
        self.pos += used;
        Token {
            kind: Tok::Num,
            number: n,
            ..t
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            let d = (self.at(at + i) as char).to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(v)
    }

    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        if cp <= 0x7F {
            out.push(cp as u8);
        } else if cp <= 0x7FF {
            out.extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
        } else if cp <= 0xFFFF {
            out.extend_from_slice(&[
                (cp >> 12) as u8 | 0xE0,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else {
            out.extend_from_slice(&[
                (cp >> 18) as u8 | 0xF0,
                ((cp >> 12) & 0x3F) as u8 | 0x80,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        }
        self.pos += len;
        true
    }

    fn string(&mut self, t: Token) -> Token {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error(t, "unexpected end of string");
            }
            let mut c = ch;
            if ch == b'\\' {
                c = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut out) {
                            continue;
                        }
                        return self.error(t, "invalid unicode escape code");
                    }
                    _ => return self.error(t, "invalid escape code"),
                };
                self.pos += 1;
            }
            out.push(c);
            self.pos += 1;
        }
        self.pos += 1;
        Token {
            kind: Tok::Str,
            string: out,
            ..t
        }
    }

    fn parse_error(&self, expected: &str, t: &Token) -> Fail {
        let found = if t.kind == Tok::Error {
            t.error
        } else {
            TOKEN_NAMES[t.kind as usize]
        };
        Fail::Where(format!(
            "Expected {expected} but found {found} at character {}",
            t.index + 1
        ))
    }

    fn descend(&mut self) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth {
            return Err(Fail::Where(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            )));
        }
        Ok(())
    }

    fn value(&mut self, lua: &Lua, t: Token) -> Result<Value, Fail> {
        deep(|| self.value_of(lua, t))
    }

    fn value_of(&mut self, lua: &Lua, t: Token) -> Result<Value, Fail> {
        Ok(match t.kind {
            Tok::Str => Value::String(lua.create_string(&t.string).map_err(Fail::Lua)?),
            Tok::Num => Value::Number(t.number),
            Tok::Bool => Value::Boolean(t.boolean),
            Tok::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
            Tok::ObjBegin => {
                self.descend()?;
                let table = lua.create_table().map_err(Fail::Lua)?;
                let mut t = self.next();
                if t.kind != Tok::ObjEnd {
                    loop {
                        if t.kind != Tok::Str {
                            return Err(self.parse_error("object key string", &t));
                        }
                        let key = lua.create_string(&t.string).map_err(Fail::Lua)?;
                        let colon = self.next();
                        if colon.kind != Tok::Colon {
                            return Err(self.parse_error("colon", &colon));
                        }
                        let vt = self.next();
                        let v = self.value(lua, vt)?;
                        table.raw_set(key, v).map_err(Fail::Lua)?;
                        let sep = self.next();
                        if sep.kind == Tok::ObjEnd {
                            break;
                        }
                        if sep.kind != Tok::Comma {
                            return Err(self.parse_error("comma or object end", &sep));
                        }
                        t = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(table)
            }
            Tok::ArrBegin => {
                self.descend()?;
                let table = lua.create_table().map_err(Fail::Lua)?;
                let mut t = self.next();
                if t.kind != Tok::ArrEnd {
                    for i in 1.. {
                        let v = self.value(lua, t)?;
                        table.raw_set(i, v).map_err(Fail::Lua)?;
                        let sep = self.next();
                        if sep.kind == Tok::ArrEnd {
                            break;
                        }
                        if sep.kind != Tok::Comma {
                            return Err(self.parse_error("comma or array end", &sep));
                        }
                        t = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(table)
            }
            _ => return Err(self.parse_error("value", &t)),
        })
    }
}

fn decode(lua: &Lua, cfg: &Cfg, args: MultiValue) -> LuaResult {
    if args.len() != 1 {
        return fail(lua, arg_error(1, "decode", "expected 1 argument"));
    }
    let data: Vec<u8> = match &args[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(_) | Value::Number(_) => lua_number_string(number(&args[0])).into_bytes(),
        v => {
            let msg = format!("string expected, got {}", v.type_name());
            return fail(lua, arg_error(1, "decode", &msg));
        }
    };
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return fail(lua, Fail::Where("JSON parser does not support UTF-16 or UTF-32".into()));
    }
    let cfg = cfg.borrow();
    let mut p = Parser {
        data: &data,
        pos: 0,
        depth: 0,
        cfg: &cfg,
    };
    let t = p.next();
    let v = match p.value(lua, t) {
        Ok(v) => v,
        Err(e) => return fail(lua, e),
    };
    let end = p.next();
    if end.kind != Tok::End {
        return fail(lua, p.parse_error("the end", &end));
    }
    ok(v)
}

/// C's `strtod` on the start of `s`: the number and the bytes it used (0: none).
pub fn strtod(s: &[u8]) -> (f64, usize) {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return (sign * f64::INFINITY, i + 8);
    }
    if starts(b"inf") {
        return (sign * f64::INFINITY, i + 3);
    }
    if starts(b"nan") {
        let mut n = i + 3;
        if s.get(n) == Some(&b'(')
            && let Some(close) = s[n..].iter().position(|&c| c == b')')
            && s[n + 1..n + close]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            n += close + 1;
        }
        return (if neg { -f64::NAN } else { f64::NAN }, n);
    }
    if (starts(b"0x")) && rest.get(2).is_some_and(|c| c.is_ascii_hexdigit() || *c == b'.') {
        let (v, used) = hex_float(&rest[2..]);
        if used > 0 {
            return (sign * v, i + 2 + used);
        }
        return (0.0, i + 1);
    }
    let mut j = i;
    let digits = |j: &mut usize| {
        let start = *j;
        while s.get(*j).is_some_and(u8::is_ascii_digit) {
            *j += 1;
        }
        *j - start
    };
    let mut mantissa = digits(&mut j);
    if s.get(j) == Some(&b'.') {
        let mut k = j + 1;
        let frac = digits(&mut k);
        if mantissa + frac > 0 {
            mantissa += frac;
            j = k;
        }
    }
    if mantissa == 0 {
        return (0.0, 0);
    }
    if matches!(s.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if digits(&mut k) > 0 {
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[..j]).unwrap_or("0");
    (text.parse::<f64>().unwrap_or(0.0), j)
}

fn hex_float(s: &[u8]) -> (f64, usize) {
    let mut v = 0.0f64;
    let mut i = 0;
    let mut any = false;
    while let Some(d) = s.get(i).and_then(|c| (*c as char).to_digit(16)) {
        v = v * 16.0 + d as f64;
        i += 1;
        any = true;
    }
    let mut scale = 0i32;
    if s.get(i) == Some(&b'.') {
        let mut k = i + 1;
        while let Some(d) = s.get(k).and_then(|c| (*c as char).to_digit(16)) {
            v = v * 16.0 + d as f64;
            scale -= 4;
            k += 1;
            any = true;
        }
        if any {
            i = k;
        }
    }
    if !any {
        return (0.0, 0);
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let start = k;
        let mut e = 0i32;
        while let Some(d) = s.get(k).filter(|c| c.is_ascii_digit()) {
            e = e.saturating_mul(10).saturating_add((d - b'0') as i32);
            k += 1;
        }
        if k > start {
            scale = scale.saturating_add(if neg { -e } else { e });
            i = k;
        }
    }
    (v * 2f64.powi(scale), i)
}

#[cfg(test)]
mod tests {
    use super::strtod;

    #[test]
    fn strtod_like_c() {
        assert_eq!(strtod(b"12.5e1x"), (125.0, 6));
        assert_eq!(strtod(b"-0"), (-0.0, 2));
        assert_eq!(strtod(b"1e"), (1.0, 1));
        assert_eq!(strtod(b"-"), (0.0, 0));
        assert_eq!(strtod(b"0x10"), (16.0, 4));
        assert_eq!(strtod(b"inf"), (f64::INFINITY, 3));
        assert_eq!(strtod(b"-Infinity"), (f64::NEG_INFINITY, 9));
        assert_eq!(strtod(b".5"), (0.5, 2));
        assert_eq!(strtod(b"5."), (5.0, 2));
    }
}
