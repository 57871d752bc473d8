//! `struct`: Roberto Ierusalimschy's lua-struct as Redis embeds it
//! (pack, unpack, size), with the sizes of x86-64 (long: 8 bytes).

use super::{Fail, arg_error, raising};
use mlua::{Lua, MultiValue, Table, Value};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        raising(lua, lua.create_function(|lua, a| wrap(lua, pack(lua, &a)))?)?,
    )?;
    t.set(
        "unpack",
        raising(lua, lua.create_function(|lua, a| wrap(lua, unpack(lua, &a)))?)?,
    )?;
    t.set(
        "size",
        raising(lua, lua.create_function(|lua, a| wrap(lua, size(lua, &a)))?)?,
    )?;
    Ok(t)
}

fn wrap(lua: &Lua, r: Result<Vec<Value>, Fail>) -> mlua::Result<MultiValue> {
    match r {
        Ok(mut vals) => {
            vals.insert(0, Value::Boolean(true));
            Ok(MultiValue::from_iter(vals))
        }
        Err(f) => {
            let (ok, v) = super::fail(lua, f)?;
            Ok(MultiValue::from_iter([Value::Boolean(ok), v]))
        }
    }
}

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

const DEFAULT: Header = Header { little: true, align: 1 };

/// The bytes of a C string argument (up to a NUL).
fn c_string(v: Option<&Value>, n: usize, name: &str) -> Result<Vec<u8>, Fail> {
    match v {
        Some(Value::String(s)) => {
            let b = s.as_bytes();
            Ok(b.split(|&c| c == 0).next().unwrap_or_default().to_vec())
        }
        Some(v @ (Value::Integer(_) | Value::Number(_))) => Ok(number_string(v).into_bytes()),
        other => Err(type_error(other, n, name, "string")),
    }
}

fn lstring(v: Option<&Value>, n: usize, name: &str) -> Result<Vec<u8>, Fail> {
    match v {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => Ok(number_string(v).into_bytes()),
        other => Err(type_error(other, n, name, "string")),
    }
}

fn number_string(v: &Value) -> String {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    };
    crate::commands::scripting::convert::lua_number_string(n)
}

fn type_error(v: Option<&Value>, n: usize, name: &str, want: &str) -> Fail {
    let got = v.map_or("no value", |v| v.type_name());
    arg_error(n, name, &format!("{want} expected, got {got}"))
}

fn number(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> Result<f64, Fail> {
    let v = args.get(n - 1);
    match v.cloned().map(|v| lua.coerce_number(v)) {
        Some(Ok(Some(x))) => Ok(x),
        _ => Err(type_error(v, n, name, "number")),
    }
}

struct Fmt<'a> {
    f: &'a [u8],
    i: usize,
}

impl Fmt<'_> {
    fn getnum(&mut self, default: usize) -> Result<usize, Fail> {
        if !self.f.get(self.i).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i64 = 0;
        while let Some(d) = self.f.get(self.i).filter(|c| c.is_ascii_digit()) {
            let d = (d - b'0') as i64;
            if a > (i32::MAX as i64 / 10) || a * 10 > (i32::MAX as i64 - d) {
                return Err(Fail::Where("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.i += 1;
        }
        Ok(a as usize)
    }

    fn optsize(&mut self, opt: u8) -> Result<usize, Fail> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.getnum(1)?,
            b'i' | b'I' => {
                let sz = self.getnum(4)?;
                if sz > MAXINTSIZE {
                    return Err(Fail::Where(format!(
                        "integral size {sz} is larger than limit of {MAXINTSIZE}"
                    )));
                }
                sz
            }
            _ => 0,
        })
    }

    fn control(&mut self, opt: u8, h: &mut Header, name: &str) -> Result<(), Fail> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.getnum(MAXALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return Err(Fail::Where(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                return Err(arg_error(1, name, &format!("invalid format option '{}'", opt as char)));
            }
        }
        Ok(())
    }
}

fn toalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// C's `(unsigned long)` of a Lua number, negative ones through `(long)`.
fn to_u64(n: f64) -> u64 {
    if n < 0.0 {
        crate::commands::scripting::convert::to_int(n) as u64
    } else if n < 18446744073709551616.0 {
        n as u64
    } else {
        1 << 63
    }
}

fn pack(lua: &Lua, args: &MultiValue) -> Result<Vec<Value>, Fail> {
    const NAME: &str = "pack";
    let f = c_string(args.front(), 1, NAME)?;
    let mut fmt = Fmt { f: &f, i: 0 };
    let mut h = DEFAULT;
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while fmt.i < fmt.f.len() {
        let opt = fmt.f[fmt.i];
        fmt.i += 1;
        let mut size = fmt.optsize(opt)?;
        let pad = toalign(out.len(), &h, opt, size);
        out.extend(std::iter::repeat_n(0u8, pad));
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let mut value = to_u64(number(lua, args, arg, NAME)?);
                arg += 1;
                let mut buf = vec![0u8; size];
                for k in 0..size {
                    let at = if h.little { k } else { size - 1 - k };
                    buf[at] = (value & 0xff) as u8;
                    value >>= 8;
                }
                out.extend_from_slice(&buf);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = number(lua, args, arg, NAME)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little { v.to_le_bytes() } else { v.to_be_bytes() });
            }
            b'd' => {
                let v = number(lua, args, arg, NAME)?;
                arg += 1;
                out.extend_from_slice(&if h.little { v.to_le_bytes() } else { v.to_be_bytes() });
            }
            b'c' | b's' => {
                let s = lstring(args.get(arg - 1), arg, NAME)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(arg_error(arg, NAME, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
                continue;
            }
            _ => fmt.control(opt, &mut h, NAME)?,
        }
    }
    Ok(vec![Value::String(lua.create_string(&out).map_err(Fail::Lua)?)])
}

fn getinteger(b: &[u8], little: bool, signed: bool) -> f64 {
    let size = b.len();
    let mut l: u64 = 0;
    for k in 0..size {
        let byte = if little { b[size - 1 - k] } else { b[k] };
        l = (l << 8) | byte as u64;
    }
    if !signed {
        return l as f64;
    }
    let mask = (!0u64).wrapping_shl((size * 8 - 1) as u32);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &MultiValue) -> Result<Vec<Value>, Fail> {
    const NAME: &str = "unpack";
    let f = c_string(args.front(), 1, NAME)?;
    let data = lstring(args.get(1), 2, NAME)?;
    let pos = match args.get(2) {
        None | Some(Value::Nil) => 1i64,
        Some(_) => number(lua, args, 3, NAME)? as i64,
    };
    if pos == 0 {
        return Err(arg_error(3, NAME, "offset must be 1 or greater"));
    }
    let mut pos = (pos as u64 as usize).wrapping_sub(1);
    let ld = data.len();
    let mut fmt = Fmt { f: &f, i: 0 };
    let mut h = DEFAULT;
    let mut out: Vec<Value> = Vec::new();
    let short = || arg_error(2, NAME, "data string too short");
    while fmt.i < fmt.f.len() {
        let opt = fmt.f[fmt.i];
        fmt.i += 1;
        let mut size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(toalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                out.push(Value::Number(getinteger(&data[pos..pos + size], h.little, signed)));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().unwrap();
                let v = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(Value::Number(v as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().unwrap();
                let v = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last() {
                        Some(v @ (Value::Number(_) | Value::Integer(_))) => lua.coerce_number(v.clone()).ok().flatten(),
                        Some(v @ Value::String(_)) => lua.coerce_number(v.clone()).ok().flatten(),
                        _ => None,
                    };
                    let Some(n) = prev else {
                        return Err(Fail::Where("format 'c0' needs a previous size".into()));
                    };
                    out.pop();
                    size = n as usize;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(short());
                    }
                }
                out.push(Value::String(
                    lua.create_string(&data[pos..pos + size]).map_err(Fail::Lua)?,
                ));
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(Fail::Where("unfinished string in data".into()));
                };
                size = e + 1;
                out.push(Value::String(
                    lua.create_string(&data[pos..pos + e]).map_err(Fail::Lua)?,
                ));
            }
            _ => fmt.control(opt, &mut h, NAME)?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(out)
}

fn size(_lua: &Lua, args: &MultiValue) -> Result<Vec<Value>, Fail> {
    const NAME: &str = "size";
    let f = c_string(args.front(), 1, NAME)?;
    let mut fmt = Fmt { f: &f, i: 0 };
    let mut h = DEFAULT;
    let mut pos = 0usize;
    while fmt.i < fmt.f.len() {
        let opt = fmt.f[fmt.i];
        fmt.i += 1;
        let size = fmt.optsize(opt)?;
        pos += toalign(pos, &h, opt, size);
        if opt == b's' {
            return Err(arg_error(1, NAME, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(1, NAME, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h, NAME)?;
        }
        pos += size;
    }
    Ok(vec![Value::Number(pos as f64)])
}
