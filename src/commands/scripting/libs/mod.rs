//! The libraries Redis adds to Lua: cjson, cmsgpack, bit and struct,
//! written in Rust with the behaviour of the C modules Redis embeds.
//!
//! Their functions are Rust functions wrapped by [`raising`], a C function
//! that raises their errors as the C modules' `luaL_error` does (with the
//! calling script's position), so that scripts catch and see them as in Redis.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod struct_;

use mlua::{Function, Lua, Table, Value, ffi};
use std::ffi::c_int;

/// Runs `f` with at least 256 KiB of stack left, growing the stack on the
/// heap when needed: the conversions recurse once per nesting level (up to
/// 1000 levels in cjson, as in Redis), on threads with any stack size.
#[inline]
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, f)
}

/// What a library function answers: `(true, value)` or `(false, error)`.
pub type LuaResult = mlua::Result<(bool, Value)>;

/// A library function's failure.
pub enum Fail {
    /// A `luaL_error` message (the script's position is put in front).
    Where(String),
    /// The Lua state failed (out of memory): raised as it is.
    Lua(mlua::Error),
}

pub fn ok(v: Value) -> LuaResult {
    Ok((true, v))
}

pub fn fail(lua: &Lua, f: Fail) -> LuaResult {
    match f {
        Fail::Where(msg) => Ok((false, Value::String(lua.create_string(msg)?))),
        Fail::Lua(e) => Err(e),
    }
}

/// `luaL_argerror`'s message for argument `n` of function `name`.
pub fn arg_error(n: usize, name: &str, msg: &str) -> Fail {
    Fail::Where(format!("bad argument #{n} to '{name}' ({msg})"))
}

/// Adds the libraries to the globals `g`.
pub fn register(lua: &Lua, g: &Table) -> mlua::Result<()> {
    g.set("cjson", cjson::open(lua)?)?;
    g.set("struct", struct_::open(lua)?)?;
    g.set("cmsgpack", cmsgpack::open(lua)?)?;
    g.set("bit", bit::open(lua)?)?;
    Ok(())
}

/// A C function calling `f`, which answers `(true, values...)` or `(false,
/// error)`: it returns the values, or raises the error as Redis's C
/// functions do (a string error gets the caller's position, as from
/// `luaL_error`; a table, from `luaPushError`, goes as it is).
pub fn raising(lua: &Lua, f: Function) -> mlua::Result<Function> {
    unsafe extern "C-unwind" fn raiser(l: *mut ffi::lua_State) -> c_int {
        // SAFETY: called by Lua with its stack; no Rust value lives across lua_error.
        unsafe {
            let n = ffi::lua_gettop(l);
            ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
            ffi::lua_insert(l, 1);
            ffi::lua_call(l, n, ffi::LUA_MULTRET);
            let got = ffi::lua_gettop(l);
            if got == 0 {
                return 0;
            }
            if ffi::lua_toboolean(l, 1) != 0 {
                ffi::lua_remove(l, 1);
                return got - 1;
            }
            ffi::lua_settop(l, 2);
            if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
                ffi::luaL_where(l, 1);
                ffi::lua_insert(l, -2);
                ffi::lua_concat(l, 2);
            }
            ffi::lua_error(l)
        }
    }
    // SAFETY: pushes a C closure over the one value passed.
    unsafe { lua.exec_raw(f, |l| ffi::lua_pushcclosure(l, raiser, 1)) }
}
