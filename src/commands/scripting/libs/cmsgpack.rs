//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis embeds it (pack, unpack,
//! unpack_one, unpack_limit), byte for byte and error for error.

use super::{Fail, arg_error, raising};
use crate::commands::scripting::convert::to_int;
use mlua::{Lua, MultiValue, Table, Value};

/// Tables nested deeper are packed as nil (lua-cmsgpack's guard against cycles).
const MAX_NESTING: usize = 16;

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("pack", raising(lua, lua.create_function(pack)?)?)?;
    t.set(
        "unpack",
        raising(lua, lua.create_function(|lua, args| unpack(lua, args, Mode::All))?)?,
    )?;
    t.set(
        "unpack_one",
        raising(lua, lua.create_function(|lua, args| unpack(lua, args, Mode::One))?)?,
    )?;
    t.set(
        "unpack_limit",
        raising(lua, lua.create_function(|lua, args| unpack(lua, args, Mode::Limit))?)?,
    )?;
    t.set("_NAME", "cmsgpack")?;
    t.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

fn failed(lua: &Lua, f: Fail) -> mlua::Result<MultiValue> {
    let (ok, v) = super::fail(lua, f)?;
    Ok(MultiValue::from_iter([Value::Boolean(ok), v]))
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    if args.is_empty() {
        return failed(lua, arg_error(0, "pack", "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for v in args.iter() {
        encode(v, 0, &mut out)?;
    }
    Ok(MultiValue::from_iter([
        Value::Boolean(true),
        Value::String(lua.create_string(&out)?),
    ]))
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    }
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(n: usize, fix: u8, fix_max: usize, b16: u8, b32: u8, out: &mut Vec<u8>) {
    if n <= fix_max {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode(v: &Value, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::String(s) => {
            let s = s.as_bytes();
            let len = s.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.extend_from_slice(&[0xd9, len as u8]);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&s);
        }
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(_) | Value::Number(_) => {
            let n = num(v);
            if n.is_finite() && to_int(n) as f64 == n {
                encode_int(to_int(n), out);
            } else if n as f32 as f64 == n {
                out.push(0xca);
                out.extend_from_slice(&(n as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t) {
                let len = t.raw_len();
                encode_len(len, 0x90, 15, 0xdc, 0xdd, out);
                for j in 1..=len {
                    let item: Value = t.get(j)?;
                    encode(&item, level + 1, out)?;
                }
            } else {
                let pairs: Vec<(Value, Value)> = t.pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
                encode_len(pairs.len(), 0x80, 15, 0xde, 0xdf, out);
                for (k, item) in &pairs {
                    encode(k, level + 1, out)?;
                    encode(item, level + 1, out)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

/// lua-cmsgpack's `table_is_an_array`: keys 1..N only, no holes.
fn is_array(t: &Table) -> bool {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, _)) = pair else { return false };
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return false,
        };
        if n <= 0.0 || !n.is_finite() || (n as i64 as i32) as f64 != n {
            return false;
        }
        max = max.max(n as i64);
        count += 1;
    }
    max == count
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    All,
    One,
    Limit,
}

enum DecodeError {
    Eof,
    BadFormat,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.left() < n { Err(DecodeError::Eof) } else { Ok(()) }
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.data[self.pos + from..self.pos + from + n]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | b as u64)
    }

    fn string(&mut self, lua: &Lua, hdr: usize, len: usize) -> Result<Value, DecodeError> {
        self.need(hdr + len)?;
        let s = &self.data[self.pos + hdr..self.pos + hdr + len];
        let v = lua.create_string(s).map_err(|_| DecodeError::BadFormat)?;
        self.pos += hdr + len;
        Ok(Value::String(v))
    }

    fn value(&mut self, lua: &Lua) -> Result<Value, DecodeError> {
        self.need(1)?;
        let b = self.data[self.pos];
        let int = |v: i64| Value::Number(v as f64);
        let v = match b {
            0xcc => {
                self.need(2)?;
                let v = int(self.be(1, 1) as i64);
                self.pos += 2;
                v
            }
            0xd0 => {
                self.need(2)?;
                let v = int(self.be(1, 1) as u8 as i8 as i64);
                self.pos += 2;
                v
            }
            0xcd => {
                self.need(3)?;
                let v = int(self.be(1, 2) as i64);
                self.pos += 3;
                v
            }
            0xd1 => {
                self.need(3)?;
                let v = int(self.be(1, 2) as u16 as i16 as i64);
                self.pos += 3;
                v
            }
            0xce => {
                self.need(5)?;
                let v = int(self.be(1, 4) as i64);
                self.pos += 5;
                v
            }
            0xd2 => {
                self.need(5)?;
                let v = int(self.be(1, 4) as u32 as i32 as i64);
                self.pos += 5;
                v
            }
            0xcf | 0xd3 => {
                self.need(9)?;
                let v = int(self.be(1, 8) as i64);
                self.pos += 9;
                v
            }
            0xc0 => {
                self.pos += 1;
                Value::Nil
            }
            0xc3 | 0xc2 => {
                self.pos += 1;
                Value::Boolean(b == 0xc3)
            }
            0xca => {
                self.need(5)?;
                let v = f32::from_bits(self.be(1, 4) as u32) as f64;
                self.pos += 5;
                Value::Number(v)
            }
            0xcb => {
                self.need(9)?;
                let v = f64::from_bits(self.be(1, 8));
                self.pos += 9;
                Value::Number(v)
            }
            0xd9 => {
                self.need(2)?;
                let l = self.be(1, 1) as usize;
                self.string(lua, 2, l)?
            }
            0xda => {
                self.need(3)?;
                let l = self.be(1, 2) as usize;
                self.string(lua, 3, l)?
            }
            0xdb => {
                self.need(5)?;
                let l = self.be(1, 4) as usize;
                self.string(lua, 5, l)?
            }
            0xdc..=0xdf => {
                let hdr = if b == 0xdc || b == 0xde { 3 } else { 5 };
                self.need(hdr)?;
                let l = self.be(1, hdr - 1) as usize;
                self.pos += hdr;
                if b <= 0xdd {
                    self.array(lua, l)?
                } else {
                    self.map(lua, l)?
                }
            }
            b if b & 0x80 == 0 => {
                self.pos += 1;
                int(b as i64)
            }
            b if b & 0xe0 == 0xe0 => {
                self.pos += 1;
                int(b as i8 as i64)
            }
            b if b & 0xe0 == 0xa0 => self.string(lua, 1, (b & 0x1f) as usize)?,
            b if b & 0xf0 == 0x90 => {
                self.pos += 1;
                self.array(lua, (b & 0xf) as usize)?
            }
            b if b & 0xf0 == 0x80 => {
                self.pos += 1;
                self.map(lua, (b & 0xf) as usize)?
            }
            _ => return Err(DecodeError::BadFormat),
        };
        Ok(v)
    }

    fn array(&mut self, lua: &Lua, len: usize) -> Result<Value, DecodeError> {
        let t = lua.create_table().map_err(|_| DecodeError::BadFormat)?;
        for i in 1..=len {
            let v = self.value(lua)?;
            t.set(i, v).map_err(|_| DecodeError::BadFormat)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, lua: &Lua, len: usize) -> Result<Value, DecodeError> {
        let t = lua.create_table().map_err(|_| DecodeError::BadFormat)?;
        for _ in 0..len {
            let k = self.value(lua)?;
            let v = self.value(lua)?;
            // Lua refuses nil (and NaN) keys: lua-cmsgpack raises Lua's error.
            t.set(k, v).map_err(|_| DecodeError::BadFormat)?;
        }
        Ok(Value::Table(t))
    }
}

fn unpack(lua: &Lua, args: MultiValue, mode: Mode) -> mlua::Result<MultiValue> {
    let name = match mode {
        Mode::All => "unpack",
        Mode::One => "unpack_one",
        Mode::Limit => "unpack_limit",
    };
    let int_arg = |i: usize, optional: bool| -> Result<i64, Fail> {
        let v = args.get(i).cloned().unwrap_or(Value::Nil);
        if optional && v.is_nil() {
            return Ok(0);
        }
        let got = if args.len() <= i { "no value" } else { v.type_name() };
        match lua.coerce_number(v) {
            Ok(Some(n)) => Ok(n as i64),
            _ => Err(arg_error(i + 1, name, &format!("number expected, got {got}"))),
        }
    };
    let (limit, offset) = match mode {
        Mode::All => (0, 0),
        Mode::One => match int_arg(1, true) {
            Ok(o) => (1, o),
            Err(e) => return failed(lua, e),
        },
        Mode::Limit => match (int_arg(1, false), int_arg(2, true)) {
            (Ok(l), Ok(o)) => (l, o),
            (Err(e), _) | (_, Err(e)) => return failed(lua, e),
        },
    };
    let data: Vec<u8> = match args.front() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            crate::commands::scripting::convert::lua_number_string(num(v)).into_bytes()
        }
        other => {
            let got = other.map_or("no value", |v| v.type_name());
            return failed(lua, arg_error(1, name, &format!("string expected, got {got}")));
        }
    };
    let len = data.len() as i64;
    if offset < 0 || limit < 0 {
        let msg = format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        );
        return failed(lua, Fail::Where(msg));
    }
    if offset > len {
        let msg = format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        );
        return failed(lua, Fail::Where(msg));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut c = Cursor {
        data: &data[offset as usize..],
        pos: 0,
    };
    let mut out = vec![Value::Boolean(true)];
    let mut count = 0;
    while c.left() > 0 && count < limit {
        match c.value(lua) {
            Ok(v) => out.push(v),
            Err(DecodeError::Eof) => return failed(lua, Fail::Where("Missing bytes in input.".into())),
            Err(DecodeError::BadFormat) => return failed(lua, Fail::Where("Bad data format in input.".into())),
        }
        count += 1;
    }
    if !decode_all {
        let next = if c.left() == 0 { -1 } else { len - c.left() as i64 };
        out.insert(1, Value::Number(next as f64));
    }
    Ok(MultiValue::from_iter(out))
}
