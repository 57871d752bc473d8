//! `bit`: LuaBitOp 1.0 as Redis embeds it (32-bit operations on numbers).

use super::{LuaResult, arg_error, fail, ok, raising};
use mlua::{Lua, MultiValue, Table, Value};

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    macro_rules! reg {
        ($name:literal, $f:expr) => {{
            let f = lua.create_function(move |lua, args: MultiValue| -> LuaResult {
                match $f(lua, &args) {
                    Ok(b) => ok(b),
                    Err(n) => fail(lua, arg_error(n, $name, &type_error(&args, n))),
                }
            })?;
            t.set($name, raising(lua, f)?)?;
        }};
    }
    reg!("tobit", |lua, a| ret(barg(lua, a, 1)?));
    reg!("bnot", |lua, a| ret(!barg(lua, a, 1)?));
    reg!("band", |lua, a| fold(lua, a, |x, y| x & y));
    reg!("bor", |lua, a| fold(lua, a, |x, y| x | y));
    reg!("bxor", |lua, a| fold(lua, a, |x, y| x ^ y));
    reg!("lshift", |lua, a| shift(lua, a, |b, n| b << n));
    reg!("rshift", |lua, a| shift(lua, a, |b, n| b >> n));
    reg!("arshift", |lua, a| shift(lua, a, |b, n| ((b as i32) >> n) as u32));
    reg!("rol", |lua, a| shift(lua, a, |b: u32, n| b.rotate_left(n)));
    reg!("ror", |lua, a| shift(lua, a, |b: u32, n| b.rotate_right(n)));
    reg!("bswap", |lua, a| ret(barg(lua, a, 1)?.swap_bytes()));
    reg!("tohex", tohex);
    Ok(t)
}

/// "number expected, got X" for argument `n` (1-based).
fn type_error(args: &MultiValue, n: usize) -> String {
    let got = match args.get(n - 1) {
        None => "no value",
        Some(v) => v.type_name(),
    };
    format!("number expected, got {got}")
}

/// LuaBitOp's `barg`: the number's low 32 bits after rounding (by adding
/// 2^52+2^51); an error (the argument's index) for a non-number.
fn barg(lua: &Lua, args: &MultiValue, i: usize) -> Result<u32, usize> {
    let v = args.get(i - 1).cloned().unwrap_or(Value::Nil);
    let n = lua.coerce_number(v).ok().flatten();
    let b = ((n.unwrap_or(0.0) + 6755399441055744.0).to_bits()) as u32;
    if b == 0 && n.is_none() {
        return Err(i);
    }
    Ok(b)
}

fn ret(b: u32) -> Result<Value, usize> {
    Ok(Value::Number(b as i32 as f64))
}

fn fold(lua: &Lua, args: &MultiValue, op: fn(u32, u32) -> u32) -> Result<Value, usize> {
    let mut b = barg(lua, args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, barg(lua, args, i)?);
    }
    ret(b)
}

fn shift(lua: &Lua, args: &MultiValue, op: fn(u32, u32) -> u32) -> Result<Value, usize> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    ret(op(b, n))
}

fn tohex(lua: &Lua, args: &MultiValue) -> Result<Value, usize> {
    let mut b = barg(lua, args, 1)?;
    let mut n = if args.len() < 2 { 8 } else { barg(lua, args, 2)? as i32 };
    let mut digits = b"0123456789abcdef";
    if n < 0 {
        n = n.wrapping_neg();
        digits = b"0123456789ABCDEF";
    }
    let n = n.clamp(i32::MIN, 8);
    let n = if n < 0 { 0 } else { n as usize };
    let mut buf = vec![0u8; n];
    for i in (0..n).rev() {
        buf[i] = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(Value::String(lua.create_string(&buf).map_err(|_| 1usize)?))
}
