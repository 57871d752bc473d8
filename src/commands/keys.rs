//! Key-space commands: DEL, EXISTS, EXPIRE, SCAN, ...

use super::{CmdResult, Ctx, Handler};
use crate::resp::Reply;
use bytes::Bytes;

pub const COMMANDS: &[(&str, Handler)] = &[("del", Handler::Write(del)), ("exists", Handler::Read(exists))];

fn del(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.store.delete(ctx.db, k)? {
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.store.get(ctx.db, k)?.is_some() {
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}
