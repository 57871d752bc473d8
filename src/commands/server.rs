//! Server commands that work on the keyspace: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME.

use super::args::{int_or, is};
use super::spec::Target;
use super::{CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::read("dbsize", dbsize),
    Spec::write("flushdb", flushdb).off_the_loop(),
    Spec::write("flushall", flushall).off_the_loop(),
    Spec::write("swapdb", swapdb).touches(swapdb_touches),
    Spec::pure("time", time),
];

/// SWAPDB a b: every blocked client of both databases may be fed.
fn swapdb_touches<'a>(_: u32, args: &'a [Bytes], f: &mut dyn FnMut(Target<'a>)) {
    for a in &args[1..3] {
        if let Some(db) = crate::resp::request::parse_i64(a).and_then(|n| u32::try_from(n).ok()) {
            f(Target::Db(db));
        }
    }
}

fn dbsize(ctx: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.store.dbsize(ctx.db)? as i64))
}

/// FLUSHDB/FLUSHALL take an optional ASYNC or SYNC (both flush before replying here).
fn flush_mode(args: &[Bytes]) -> Result<(), super::CmdError> {
    match args.len() {
        1 => Ok(()),
        2 if is(&args[1], "ASYNC") || is(&args[1], "SYNC") => Ok(()),
        _ => err(SYNTAX),
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    flush_mode(args)?;
    ctx.store.flush(Some(ctx.db))?;
    Ok(Reply::ok())
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    flush_mode(args)?;
    ctx.store.flush(None)?;
    Ok(Reply::ok())
}

fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let a = int_or(&args[1], "ERR invalid first DB index")?;
    let b = int_or(&args[2], "ERR invalid second DB index")?;
    let n = ctx.databases as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return err("ERR DB index is out of range");
    }
    ctx.store.swap_db(a as u32, b as u32)?;
    Ok(Reply::ok())
}

fn time(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    let us = crate::util::now_us();
    Ok(Reply::Array(vec![
        Reply::bulk(Bytes::from((us / 1_000_000).to_string())),
        Reply::bulk(Bytes::from((us % 1_000_000).to_string())),
    ]))
}
