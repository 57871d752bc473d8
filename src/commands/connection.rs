//! Connection commands that need no storage: PING, ECHO, SELECT.

use super::args::int_or;
use super::{CmdResult, Ctx, Spec, err};
use crate::resp::Reply;
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::pure("ping", ping).answers_subscribed(ping_subscribed),
    Spec::pure("echo", echo),
    Spec::pure("select", select),
];

/// PING in RESP2 subscriber mode: `["pong", arg or ""]` instead of `+PONG`
/// (`None`: the arity error, as usual).
fn ping_subscribed(args: &[Bytes]) -> Option<Reply> {
    if args.len() > 2 {
        return None;
    }
    let arg = args.get(1).cloned().unwrap_or_default();
    Some(Reply::Array(vec![Reply::bulk_str("pong"), Reply::Bulk(arg)]))
}

fn ping(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => Ok(Reply::status("PONG")),
        2 => Ok(Reply::Bulk(args[1].clone())),
        _ => err("ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Bulk(args[1].clone()))
}

fn select(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let db = int_or(&args[1], "ERR value is not an integer or out of range")?;
    if db < 0 || db >= ctx.databases as i64 {
        return err("ERR DB index is out of range");
    }
    ctx.db = db as u32;
    Ok(Reply::ok())
}
