//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP.
//!
//! `radix-tree-keys` and `radix-tree-nodes` describe Redis's memory layout,
//! which redsql does not have: `radix-tree-keys` is the number of nodes of
//! 100 entries the stream would have (see the family's documentation on
//! trimming), `radix-tree-nodes` that plus one (a small Redis rax). Every
//! other field is Redis's.

use super::super::args::{int, is};
use super::super::{CmdError, CmdResult, Ctx, err, help};
use super::groups::{INVALID_ENTRIES_READ, StreamState};
use super::{NODE_ENTRIES, entries_reply, entry_reply, id_reply, stream_entry};
use crate::resp::Reply;
use crate::store::{Entry, StreamGroup, StreamId};
use bytes::Bytes;

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(name), value)
}

/// The stream at `key`, or Redis's "no such key".
fn existing(ctx: &mut Ctx, key: &[u8]) -> Result<Entry, CmdError> {
    match stream_entry(ctx, key)? {
        Some(e) => Ok(e),
        None => err("ERR no such key"),
    }
}

fn entries_read(g: &StreamGroup) -> Reply {
    if g.entries_read == INVALID_ENTRIES_READ {
        Reply::Nil
    } else {
        Reply::Int(g.entries_read)
    }
}

fn lag(state: &StreamState, g: &StreamGroup) -> Reply {
    state.lag(g).map_or(Reply::Nil, Reply::Int)
}

fn subcommand_error(args: &[Bytes]) -> CmdResult {
    err(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
        String::from_utf8_lossy(&args[1])
    ))
}

/// XINFO STREAM key [FULL [COUNT count]]
pub(super) fn xinfo_stream(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let opts = &args[3..];
    let (full, mut count) = (!opts.is_empty(), 10i64);
    if full {
        if (opts.len() != 1 && opts.len() != 3) || !is(&opts[0], "FULL") {
            return subcommand_error(args);
        }
        if opts.len() == 3 {
            if !is(&opts[1], "COUNT") {
                return subcommand_error(args);
            }
            count = int(&opts[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let e = existing(ctx, &args[2])?;
    let state = StreamState::read(ctx, &e)?;
    let len = e.len as u64;
    let first_node = (NODE_ENTRIES - state.meta.added.saturating_sub(len) % NODE_ENTRIES).min(len);
    let keys = if len == 0 {
        0
    } else {
        1 + (len - first_node).div_ceil(NODE_ENTRIES)
    };
    let mut out = vec![
        field("length", Reply::Int(len as i64)),
        field("radix-tree-keys", Reply::Int(keys as i64)),
        field("radix-tree-nodes", Reply::Int(keys as i64 + 1)),
        field("last-generated-id", id_reply(state.meta.last)),
        field("max-deleted-entry-id", id_reply(state.meta.max_deleted)),
        field("entries-added", Reply::Int(state.meta.added as i64)),
        field("recorded-first-entry-id", id_reply(state.first)),
    ];
    let groups = ctx.store.stream_groups(e.id)?;
    if !full {
        out.push(field("groups", Reply::Int(groups.len() as i64)));
        for (name, rev) in [("first-entry", false), ("last-entry", true)] {
            let edge = ctx.store.stream_range(e.id, StreamId::MIN, StreamId::MAX, rev, 1)?;
            out.push(field(name, edge.into_iter().next().map_or(Reply::Nil, entry_reply)));
        }
        return Ok(Reply::Map(out));
    }
    let limit = count as u64;
    let entries = ctx
        .store
        .stream_range(e.id, StreamId::MIN, StreamId::MAX, false, limit)?;
    out.push(field("entries", entries_reply(entries)));
    let mut group_replies = Vec::with_capacity(groups.len());
    for g in &groups {
        let (pel_count, _, _) = ctx.store.stream_pending_summary(e.id, &g.name)?;
        let pel = ctx
            .store
            .stream_pending(e.id, &g.name, None, StreamId::MIN, StreamId::MAX, None, limit)?;
        let mut consumers = Vec::new();
        for c in ctx.store.stream_consumers(e.id, &g.name)? {
            let own =
                ctx.store
                    .stream_pending(e.id, &g.name, Some(&c.name), StreamId::MIN, StreamId::MAX, None, limit)?;
            consumers.push(Reply::Map(vec![
                field("name", Reply::Bulk(c.name)),
                field("seen-time", Reply::Int(c.seen)),
                field("pel-count", Reply::Int(c.pending as i64)),
                field(
                    "pending",
                    Reply::Array(
                        own.into_iter()
                            .map(|p| {
                                Reply::Array(vec![
                                    id_reply(p.id),
                                    Reply::Int(p.delivered),
                                    Reply::Int(p.count as i64),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ]));
        }
        group_replies.push(Reply::Map(vec![
            field("name", Reply::Bulk(g.name.clone())),
            field("last-delivered-id", id_reply(g.last)),
            field("entries-read", entries_read(g)),
            field("lag", lag(&state, g)),
            field("pel-count", Reply::Int(pel_count as i64)),
            field(
                "pending",
                Reply::Array(
                    pel.into_iter()
                        .map(|p| {
                            Reply::Array(vec![
                                id_reply(p.id),
                                Reply::Bulk(p.consumer),
                                Reply::Int(p.delivered),
                                Reply::Int(p.count as i64),
                            ])
                        })
                        .collect(),
                ),
            ),
            field("consumers", Reply::Array(consumers)),
        ]));
    }
    out.push(field("groups", Reply::Array(group_replies)));
    Ok(Reply::Map(out))
}

/// XINFO GROUPS key
pub(super) fn xinfo_groups(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let e = existing(ctx, &args[2])?;
    let state = StreamState::read(ctx, &e)?;
    let mut out = Vec::new();
    for g in ctx.store.stream_groups(e.id)? {
        let consumers = ctx.store.stream_consumers(e.id, &g.name)?.len();
        let (pending, _, _) = ctx.store.stream_pending_summary(e.id, &g.name)?;
        out.push(Reply::Map(vec![
            field("name", Reply::Bulk(g.name.clone())),
            field("consumers", Reply::Int(consumers as i64)),
            field("pending", Reply::Int(pending as i64)),
            field("last-delivered-id", id_reply(g.last)),
            field("entries-read", entries_read(&g)),
            field("lag", lag(&state, &g)),
        ]));
    }
    Ok(Reply::Array(out))
}

/// XINFO CONSUMERS key group
pub(super) fn xinfo_consumers(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let e = existing(ctx, &args[2])?;
    if ctx.store.stream_group(e.id, &args[3])?.is_none() {
        return err(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(&args[3]),
            String::from_utf8_lossy(&args[2])
        ));
    }
    let now = ctx.now();
    Ok(Reply::Array(
        ctx.store
            .stream_consumers(e.id, &args[3])?
            .into_iter()
            .map(|c| {
                Reply::Map(vec![
                    field("name", Reply::Bulk(c.name)),
                    field("pending", Reply::Int(c.pending as i64)),
                    field("idle", Reply::Int((now - c.seen).max(0))),
                ])
            })
            .collect(),
    ))
}

/// XINFO HELP
pub(super) fn xinfo_help(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(help(
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    ))
}
