//! Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, as in Redis 7.0.
//!
//! * **Queueing.** After MULTI, every command the connection accepts is
//!   queued and answered `+QUEUED`, except MULTI, EXEC, DISCARD, WATCH, QUIT
//!   and RESET, which run at once ([`runs_immediately`]). A command refused
//!   while queueing (unknown, wrong arity, NOAUTH, or flagged `no-multi` such
//!   as SAVE and SHUTDOWN) marks the transaction aborted: EXEC then answers
//!   `EXECABORT` and runs nothing. Errors of the immediate commands (nested
//!   MULTI, WATCH inside MULTI) do not abort it, as in Redis. A refused EXEC
//!   (wrong arity, NOAUTH) discards the transaction with Redis's
//!   `EXECABORT Transaction discarded because of: ...`.
//! * **EXEC** sends the queued storage commands to the engine as one writer
//!   job ([`Engine::exec`](crate::engine::Engine::exec)): they run in one SQL
//!   transaction, isolated from every other client and never half-applied.
//!   Errors raised while running (WRONGTYPE, ...) are answered in place in
//!   EXEC's array while the other commands apply, as in Redis.
//! * **Server commands** queued in MULTI (CLIENT, CONFIG, INFO, HELLO, ...)
//!   touch no keys, so they run right after the storage job, in their queued
//!   order, and their replies take their positions in EXEC's array. They see
//!   the database selected at the end of the transaction, not the one at
//!   their position.
//! * **WATCH** records each key's version (`Entry::version`, `None` if the
//!   key does not exist) with a read through the engine. The writer compares
//!   them inside EXEC's transaction before running anything; if one differs,
//!   EXEC runs nothing and answers a null array. Every write gives a key a new
//!   version, and a deleted, expired or flushed key has none, so writes,
//!   deletes, expiry, FLUSHALL/FLUSHDB and SWAPDB all break a WATCH. A key
//!   missing at WATCH time, then created and deleted again before EXEC, has
//!   no version either time: WATCH also keeps a
//!   [`MissingWatch`](crate::engine::MissingWatch) for it (counted in memory,
//!   or registered in a store shared by several processes, see
//!   `engine/watch.rs`), which EXEC's check consults too.

use super::commands::{Run, ServerSpec, lookup};
use super::connection::{ReplyMode, Session};
use super::notify::OwnMessages;
use crate::commands::{CmdError, Ctx, Handler, Spec};
use crate::engine::{Batch, Call, Watch};
use crate::resp::Reply;
use crate::store::WatchMissing;
use bytes::Bytes;
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// A transaction being queued, between MULTI and EXEC or DISCARD.
#[derive(Default)]
pub struct Multi {
    queue: Vec<Call>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    aborted: bool,
}

/// Queues a command of a connection in MULTI and returns its reply:
/// `+QUEUED`, or Redis's error for a `no-multi` command (which aborts the
/// transaction). Once aborted, commands are answered but no longer kept.
pub fn queue(s: &mut Session, call: Call) -> Reply {
    let Some(multi) = s.multi.as_mut() else {
        return Reply::error("ERR queueing outside MULTI");
    };
    if call.cmd.no_multi {
        multi.aborted = true;
        return Reply::error("ERR Command not allowed inside a transaction");
    }
    if !multi.aborted {
        multi.queue.push(call);
        s.client.multi.store(multi.queue.len() as i64, Ordering::Relaxed);
    }
    Reply::status("QUEUED")
}

/// Handles a command the connection refused (unknown, wrong arity, NOAUTH)
/// and returns the reply to send. In MULTI, the refusal aborts the
/// transaction. A refused EXEC, in MULTI or not, discards the transaction
/// and answers `EXECABORT Transaction discarded because of: <error>`, as
/// Redis 7.0's `rejectCommand` does.
pub fn refused(s: &mut Session, args: &[Bytes], reply: Reply) -> Reply {
    if let Some(multi) = s.multi.as_mut() {
        multi.aborted = true;
    }
    if lookup(&args[0]).is_none_or(|c| c.name != "exec") {
        return reply;
    }
    discard_state(s);
    let Reply::Error(msg) = reply else {
        return reply;
    };
    let reason = msg.strip_prefix(b"ERR ").unwrap_or(&msg);
    Reply::Error(
        [b"EXECABORT Transaction discarded because of: ".as_slice(), reason]
            .concat()
            .into(),
    )
}

/// Whether the queued transaction holds a command that may change data
/// (EXEC then waits during `CLIENT PAUSE WRITE`).
pub fn queued_may_replicate(s: &Session) -> bool {
    s.multi
        .as_ref()
        .is_some_and(|m| m.queue.iter().any(|c| super::pause::is_write_like(c.cmd)))
}

/// Leaves MULTI (dropping the queue) and forgets every watched key:
/// DISCARD, RESET, and the end of every EXEC.
pub fn discard_state(s: &mut Session) {
    s.multi = None;
    unwatch_all(s);
    s.client.multi.store(-1, Ordering::Relaxed);
}

/// The transaction commands. MULTI, EXEC, DISCARD and WATCH run at once
/// inside MULTI (the exceptions in Redis's `processCommand`); EXEC is held by
/// `CLIENT PAUSE WRITE` when a command it queued would be.
pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::new(
        Spec::server("multi").immediate_in_multi(),
        Run::Now(|s, _, _| Some(multi(s))),
    ),
    ServerSpec::new(
        Spec::server("exec").immediate_in_multi().paused_as_queued(),
        Run::Later(|s, _, _| Box::pin(async move { Some(exec(s).await) })),
    ),
    ServerSpec::new(
        Spec::server("discard").immediate_in_multi(),
        Run::Now(|s, _, _| Some(discard(s))),
    ),
    ServerSpec::new(
        Spec::server("watch").immediate_in_multi(),
        Run::Later(|s, _, a| Box::pin(async move { Some(watch(s, a).await) })),
    ),
    ServerSpec::now("unwatch", |s, _, _| {
        unwatch_all(s);
        Some(Reply::ok())
    }),
];

/// Forgets every watched key, ending the watches registered in the store
/// together.
fn unwatch_all(s: &mut Session) {
    crate::engine::unwatch(std::mem::take(&mut s.watched));
}

fn multi(s: &mut Session) -> Reply {
    if s.multi.is_some() {
        return Reply::error("ERR MULTI calls can not be nested");
    }
    s.multi = Some(Multi::default());
    s.client.multi.store(0, Ordering::Relaxed);
    Reply::ok()
}

fn discard(s: &mut Session) -> Reply {
    if s.multi.is_none() {
        return Reply::error("ERR DISCARD without MULTI");
    }
    discard_state(s);
    Reply::ok()
}

async fn exec(s: &mut Session) -> Reply {
    let Some(multi) = s.multi.take() else {
        return Reply::error("ERR EXEC without MULTI");
    };
    let watch = std::mem::take(&mut s.watched);
    let reply = if multi.aborted {
        crate::engine::unwatch(watch);
        Reply::error("EXECABORT Transaction discarded because of previous errors.")
    } else {
        // The client stays flagged in MULTI while its commands run (CLIENT
        // LIST inside EXEC shows `flags=x`, as in Redis).
        s.client.multi.store(multi.queue.len() as i64, Ordering::Relaxed);
        run_queue(s, multi.queue, watch).await
    };
    discard_state(s);
    reply
}

/// Runs a transaction's queue: the storage commands as one engine job (after
/// the WATCH check), then the server commands; one reply per queued command.
async fn run_queue(s: &mut Session, queue: Vec<Call>, watch: Vec<Watch>) -> Reply {
    let total = queue.len();
    // The storage commands, in order, and the server commands with their positions.
    let mut calls = Vec::new();
    let mut server_calls = Vec::new();
    let mut refused = Vec::new();
    // The queued commands as the client sent them, for the slow log and
    // MONITOR, which show each command of the transaction as it runs.
    let traced: Option<Vec<Call>> = s.tracing().then(|| queue.clone());
    for (pos, call) in queue.into_iter().enumerate() {
        if let Err(reply) = super::acl::recheck_queued(s, call.cmd, &call.args) {
            refused.push((pos, reply));
            continue;
        }
        // A blocking command never blocks inside MULTI: its handler, the
        // storage step (pop, or nil), runs with the other storage commands.
        if matches!(call.cmd.spec.handler, Handler::Server(_)) {
            server_calls.push((pos, call));
        } else {
            calls.push(call);
        }
    }
    let mut storage_replies = Vec::new().into_iter();
    let mut events = Vec::new();
    // The time each storage command ran (they run as one engine job).
    let mut storage_micros = 0;
    if !calls.is_empty() || !watch.is_empty() {
        let writes = calls
            .iter()
            .filter(|c| matches!(c.cmd.spec.handler, Handler::Write(_)))
            .count();
        let expected = calls.len();
        let keys_restricted = super::acl::keys_restricted(s, &calls);
        let acl = super::acl::restrictions(s, &calls);
        let batch = Batch {
            db: s.db,
            proto: s.proto,
            calls,
            keys_restricted,
            acl,
        };
        // The writer's copy of the watches is usually dropped by now: this
        // ends the registered ones in one job (see `engine::unwatch`).
        let outcome = s.server.engine.exec(batch, watch.clone()).await;
        crate::engine::unwatch(watch);
        if outcome.aborted {
            return Reply::NilArray;
        }
        if outcome.replies.len() != expected {
            // Only an engine failure (shutting down) answers differently.
            return outcome
                .replies
                .into_iter()
                .find(Reply::is_error)
                .unwrap_or_else(|| Reply::error("ERR transaction failed"));
        }
        s.server.dirty.fetch_add(writes as u64, Ordering::Relaxed);
        s.db = outcome.db;
        s.client.db.store(s.db, Ordering::Relaxed);
        storage_micros = outcome.micros / expected.max(1) as i64;
        storage_replies = outcome.replies.into_iter();
        events = outcome.events;
    }
    let mut server_calls = server_calls.into_iter().peekable();
    let mut refused = refused.into_iter().peekable();
    // A RESP3 client subscribed to what its own commands publish gets the
    // messages inside EXEC's array, around each command's reply, as Redis
    // writes them while each command runs (see `Own`).
    let mut own = (s.pubsub.total() > 0 && s.reply_mode == ReplyMode::On).then(|| Own::new(s, total, events));
    let mut replies = Vec::with_capacity(total);
    let mut next_storage = 0;
    for i in 0..total {
        let reply = if let Some((_, reply)) = refused.next_if(|(pos, _)| *pos == i) {
            if let Some(own) = &mut own {
                reply.write(s.proto, &mut own.out);
            }
            reply
        } else if let Some((_, call)) = server_calls.next_if(|(pos, _)| *pos == i) {
            let started = std::time::Instant::now();
            let reply = run_server_command(s, &call).await;
            if let Some(traced) = &traced {
                s.executed(traced[i].cmd, &traced[i].args, crate::util::micros_since(started));
            }
            if let Some(own) = &mut own {
                own.server_reply(s, &reply);
            }
            reply
        } else {
            if let Some(traced) = &traced {
                s.executed(traced[i].cmd, &traced[i].args, storage_micros);
            }
            let reply = storage_replies.next().unwrap_or(Reply::Nil);
            if let Some(own) = &mut own {
                own.storage_reply(next_storage, &reply);
            }
            next_storage += 1;
            reply
        };
        replies.push(reply);
    }
    // Errors answered inside EXEC count in INFO's `total_error_replies`, as in Redis.
    let errors = replies.iter().filter(|r| r.is_error()).count();
    s.server
        .stats
        .total_error_replies
        .fetch_add(errors as u64, Ordering::Relaxed);
    match own {
        Some(own) => own.finish(),
        None => Reply::Array(replies),
    }
}

/// EXEC's reply for a client subscribed to what its own transaction
/// publishes, rendered as Redis 7.0 writes it: the array's header, then each
/// command's messages around (or inside) its reply (Redis writes them to the
/// output buffer while each command runs, after the header).
struct Own {
    out: bytes::BytesMut,
    /// The storage commands' messages (and maybe other clients').
    messages: OwnMessages,
}

impl Own {
    fn new(s: &mut Session, total: usize, events: Vec<crate::engine::Reported>) -> Own {
        let mut out = bytes::BytesMut::new();
        out.extend_from_slice(format!("*{total}\r\n").as_bytes());
        let set = s.server.config.keyspace_events().reported();
        Own {
            out,
            messages: OwnMessages::new(&mut s.pubsub, set, s.proto, &events),
        }
    }

    /// The reply of the storage command `index` (of the engine's batch).
    fn storage_reply(&mut self, index: usize, reply: &Reply) {
        self.messages.write_reply(index, reply, &mut self.out);
    }

    /// The reply of a server command that just ran, after what it published.
    fn server_reply(&mut self, s: &mut Session, reply: &Reply) {
        while let Some(m) = s.pubsub.try_next() {
            m.write(s.proto, &mut self.out);
        }
        reply.write(s.proto, &mut self.out);
    }

    fn finish(mut self) -> Reply {
        self.messages.finish(&mut self.out);
        Reply::Raw(self.out.freeze())
    }
}

/// A server command queued in MULTI (never MULTI, EXEC, DISCARD or WATCH,
/// which are not queued; UNWATCH is a no-op there since EXEC unwatches).
async fn run_server_command(s: &mut Session, call: &Call) -> Reply {
    if call.cmd.name == "unwatch" {
        return Reply::ok();
    }
    super::commands::run(s, call.cmd, &call.args)
        .await
        .unwrap_or(Reply::Nil)
}

/// WATCH key [key ...]: remembers each key's current version. A key already
/// watched keeps the version of its first WATCH.
async fn watch(s: &mut Session, args: &[Bytes]) -> Reply {
    if s.multi.is_some() {
        return Reply::error("ERR WATCH inside MULTI is not allowed");
    }
    let db = s.db;
    let mut seen: HashSet<&[u8]> = s.watched.iter().filter(|w| w.db == db).map(|w| &w.key[..]).collect();
    let keys: Vec<Bytes> = args[1..].iter().filter(|k| seen.insert(&k[..])).cloned().collect();
    if keys.is_empty() {
        return Reply::ok();
    }
    // Taken before the read: a key created after this point is counted even
    // if it is gone again by EXEC (kept below only for the missing keys).
    // None when the read registers the missing keys in the store instead.
    let mut missing: Vec<_> = keys.iter().map(|k| s.server.engine.watch_missing(db, k)).collect();
    // The versions are read in a writer job, so that the read comes after
    // every commit that began before WATCH counted its missing keys in
    // memory, and registers them in the read's transaction (see
    // `engine/watch.rs`): no creation can slip between the two.
    let read_keys = keys.clone();
    let f: crate::engine::TxFn = Box::new(move |tx| Ok(Box::new(key_versions(tx.ctx(), &read_keys)?)));
    match s.server.engine.transaction(db, s.proto, f).await {
        Ok(v) => {
            let Ok(versions) = v.downcast::<Vec<Version>>() else {
                return Reply::error("ERR cannot read the watched keys");
            };
            for ((key, v), missing) in keys.into_iter().zip(*versions).zip(missing.iter_mut()) {
                let (version, missing) = match v {
                    Version::Is(n) => (Some(n), None),
                    Version::Registered(id) => (None, Some(s.server.engine.registered_watch(id))),
                    Version::Missing => (None, missing.take()),
                };
                s.watched.push(Watch {
                    db,
                    key,
                    version,
                    missing,
                });
            }
            Reply::ok()
        }
        Err(e) => e.reply(),
    }
}

/// A watched key's version as WATCH read it.
enum Version {
    Is(i64),
    /// Missing, and counted in memory.
    Missing,
    /// Missing, and registered in the store as this id
    /// ([`Store::watch_missing`](crate::store::Store::watch_missing)).
    Registered(i64),
}

/// The versions of `keys` in the selected database.
fn key_versions(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Version>, CmdError> {
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        out.push(match ctx.store.meta(ctx.db, key)? {
            Some(e) => Version::Is(e.version),
            None => match ctx.store.watch_missing(ctx.db, key)? {
                WatchMissing::InMemory => Version::Missing,
                WatchMissing::Registered(id) => Version::Registered(id),
                WatchMissing::Exists(version) => Version::Is(version),
            },
        });
    }
    Ok(out)
}
