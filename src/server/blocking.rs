//! Blocked clients: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP, XREAD BLOCK and XREADGROUP BLOCK wait here until a
//! write gives them something to pop or read.
//!
//! A spec may ask for its arguments to be resolved once before the first
//! attempt ([`crate::commands::spec::Resolve`]: XREAD's `$` becomes the
//! stream's last id, read in a transaction of its own after the client
//! entered the line); every attempt then runs with the resolved arguments.
//! It may also name another step for the attempts after a wake-up
//! (`Blocking::rerun`: XREADGROUP's errors for a destroyed group or a deleted
//! stream), run as a closure job.
//!
//! A blocked client costs nothing while it waits: no polling. The registry
//! keeps, per (database, key), the clients waiting on that key in the order
//! they blocked. After each commit the engine tells the registry which write
//! commands it committed ([`Blocking::committed`], installed as the engine's
//! commit observer); for every key those commands touched, the first client
//! in that key's line is woken. The woken client retries its pop as an
//! ordinary write batch (the command's storage step, see
//! `commands::blocking`): the pop is atomic, pop-or-nothing. If another
//! client got there first, it waits again, keeping its place in line.
//!
//! Whenever a client leaves the line (it popped, timed out, was unblocked by
//! `CLIENT UNBLOCK`, or its connection closed), the new first client of each
//! of its keys is woken too: the write that woke it may have left more
//! elements, or may have been meant for a key it was no longer first on.
//! Spurious wake-ups only cost a retry, and a wake-up is never lost, so
//! clients are served in the order they blocked.
//!
//! **Several processes on one PostgreSQL store.** A commit in another
//! process wakes clients here too: each process sends the keys its commits
//! may have fed ([`wakeups`]) to the others over the store's message bus
//! (`bus`), and each wakes its own first waiters on them ([`Blocking::wake`]).
//! A woken client that loses the pop to a client of another process waits
//! again. Clients are served in the order they blocked among the clients of
//! one process; between processes, whichever retries first wins.

use super::connection::Session;
use crate::commands::Command;
use crate::commands::blocking::{is_empty_reply, timeout_ms};
use crate::commands::spec::{Feeds, Target};
use crate::engine::{Batch, Call, Committed};
use crate::resp::Reply;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};

/// How `CLIENT UNBLOCK` ends a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblock {
    /// As if the timeout had passed (the default).
    Timeout,
    /// With an `-UNBLOCKED` error.
    Error,
}

/// The registry of waiting clients.
#[derive(Default)]
pub struct Blocking {
    registry: Mutex<Registry>,
    /// Registered waits (including those still making their first attempt):
    /// lets a commit skip the registry when nobody waits.
    waits: AtomicUsize,
    /// Clients actually blocked (INFO's `blocked_clients`).
    blocked: AtomicUsize,
    /// Blocked clients with a timeout (INFO's `clients_in_timeout_table`).
    timed: AtomicUsize,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Per database, per key: the waits on that key, first come first.
    lines: HashMap<u32, HashMap<Bytes, VecDeque<u64>>>,
    waits: HashMap<u64, Arc<Wait>>,
}

/// One client's wait.
struct Wait {
    client: u64,
    db: u32,
    keys: Vec<Bytes>,
    wake: Notify,
    /// Set once the first attempt found nothing: `CLIENT UNBLOCK` applies.
    blocked: AtomicBool,
    /// The wait has a timeout (set with `blocked`).
    timed: AtomicBool,
    unblock: Mutex<Option<Unblock>>,
}

/// A place in line; leaving the line (dropping it) wakes the next in line.
struct Ticket<'a> {
    blocking: &'a Blocking,
    id: u64,
    wait: Arc<Wait>,
}

impl Blocking {
    /// Clients currently blocked.
    pub fn blocked_clients(&self) -> usize {
        self.blocked.load(Ordering::Relaxed)
    }

    /// Blocked clients whose wait has a timeout.
    pub fn clients_with_timeout(&self) -> usize {
        self.timed.load(Ordering::Relaxed)
    }

    /// Puts a client in line on `keys` of database `db`.
    fn enter(&self, client: u64, db: u32, keys: Vec<Bytes>) -> Ticket<'_> {
        let mut reg = self.registry.lock().unwrap();
        reg.next_id += 1;
        let id = reg.next_id;
        let lines = reg.lines.entry(db).or_default();
        for key in &keys {
            lines.entry(key.clone()).or_default().push_back(id);
        }
        let wait = Arc::new(Wait {
            client,
            db,
            keys,
            wake: Notify::new(),
            blocked: AtomicBool::new(false),
            timed: AtomicBool::new(false),
            unblock: Mutex::new(None),
        });
        reg.waits.insert(id, wait.clone());
        self.waits.fetch_add(1, Ordering::SeqCst);
        Ticket {
            blocking: self,
            id,
            wait,
        }
    }

    /// Takes a wait out of line and wakes the new first waits of its keys.
    fn leave(&self, id: u64, wait: &Wait) {
        let mut reg = self.registry.lock().unwrap();
        if reg.waits.remove(&id).is_none() {
            return;
        }
        self.waits.fetch_sub(1, Ordering::SeqCst);
        let mut next = Vec::new();
        if let Some(lines) = reg.lines.get_mut(&wait.db) {
            for key in &wait.keys {
                if let Some(line) = lines.get_mut(key) {
                    line.retain(|&w| w != id);
                    match line.front() {
                        Some(&first) => next.push(first),
                        None => {
                            lines.remove(key);
                        }
                    }
                }
            }
            if lines.is_empty() {
                reg.lines.remove(&wait.db);
            }
        }
        for first in next {
            if let Some(w) = reg.waits.get(&first) {
                w.wake.notify_one();
            }
        }
    }

    /// `CLIENT UNBLOCK`: ends the wait of a blocked client; false if it is
    /// not blocked.
    pub fn unblock(&self, client: u64, how: Unblock) -> bool {
        let reg = self.registry.lock().unwrap();
        let Some(wait) = reg
            .waits
            .values()
            .find(|w| w.client == client && w.blocked.load(Ordering::SeqCst))
        else {
            return false;
        };
        *wait.unblock.lock().unwrap() = Some(how);
        wait.wake.notify_one();
        true
    }

    /// The engine's commit observer: wakes the first wait on every key the
    /// committed write commands may have given elements to. Commands that
    /// failed or found nothing to do (error or nil reply) are skipped: they
    /// changed nothing, and skipping them keeps a failed retry from waking
    /// its own client again.
    pub fn committed(&self, writes: &[Committed<'_>]) {
        if self.waits.load(Ordering::SeqCst) == 0 {
            return;
        }
        let reg = self.registry.lock().unwrap();
        for w in writes.iter().filter(|w| changed_something(w)) {
            touched(w, &mut |target| reg.wake(target));
        }
    }

    /// Wakes the first wait on each of `targets`: keys that a write committed
    /// by another process sharing the store may have given elements to.
    pub fn wake(&self, targets: &[Wakeup]) {
        if self.waits.load(Ordering::SeqCst) == 0 {
            return;
        }
        let reg = self.registry.lock().unwrap();
        for t in targets {
            reg.wake(match t {
                Wakeup::Key(db, key) => Target::Key(*db, key),
                Wakeup::Db(db) => Target::Db(*db),
            });
        }
    }

    /// Wakes the first wait on every key: after wake-ups may have been missed
    /// (the connection that brings other processes' wake-ups was lost).
    pub fn wake_all(&self) {
        let reg = self.registry.lock().unwrap();
        for line in reg.lines.values().flat_map(|l| l.values()) {
            if let Some(w) = line.front().and_then(|id| reg.waits.get(id)) {
                w.wake.notify_one();
            }
        }
    }
}

/// What a write committed here may have given elements to, for the clients
/// blocked in other processes sharing the store (see `bus`): the targets
/// of the writes that changed something and that can create list or sorted
/// set elements or move keys ([`may_feed_waiters`]). String, hash and set
/// writes, DEL and EXPIRE cannot wake a blocked pop, and send nothing.
pub fn wakeups(writes: &[Committed<'_>]) -> Vec<Wakeup> {
    let mut out = Vec::new();
    for w in writes
        .iter()
        .filter(|w| changed_something(w) && may_feed_waiters(w.call.cmd))
    {
        touched(w, &mut |target| {
            out.push(match target {
                Target::Key(db, key) => Wakeup::Key(db, Bytes::copy_from_slice(key)),
                Target::Db(db) => Wakeup::Db(db),
            })
        });
    }
    out
}

/// A key (or every key of a database) that may have elements for a blocked
/// client, as one process tells another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wakeup {
    Key(u32, Bytes),
    Db(u32),
}

/// False for a read, or a command that failed or found nothing to do (error or nil reply).
fn changed_something(w: &Committed<'_>) -> bool {
    // Reads are told only for their `keymiss` events: they change nothing.
    matches!(w.call.cmd.spec.handler, crate::commands::Handler::Write(_))
        && !matches!(w.reply, Reply::Error(_) | Reply::Nil | Reply::NilArray)
}

/// True if a write of `cmd` can give a blocked command something: as its
/// spec says ([`Feeds`]), by default when its ACL categories (from Redis's
/// command table) include lists, sorted sets, geo (stored as sorted sets) or
/// streams. True when the categories are unknown.
fn may_feed_waiters(cmd: &Command) -> bool {
    match cmd.spec.feeds {
        Feeds::Yes => return true,
        Feeds::No => return false,
        Feeds::ByCategory => {}
    }
    let Reply::Array(info) = &cmd.info else { return true };
    let Some(Reply::Array(categories) | Reply::Set(categories)) = info.get(6) else {
        return true;
    };
    categories.iter().any(|c| {
        matches!(
            crate::commands::table::bytes_of(c),
            Some(b"@list" | b"@sortedset" | b"@geo" | b"@stream")
        )
    })
}

impl Registry {
    fn wake(&self, target: Target<'_>) {
        match target {
            Target::Key(db, key) => self.wake_first(db, key),
            Target::Db(db) => self.wake_db(db),
        }
    }

    fn wake_first(&self, db: u32, key: &[u8]) {
        let first = self.lines.get(&db).and_then(|l| l.get(key)).and_then(|l| l.front());
        if let Some(w) = first.and_then(|id| self.waits.get(id)) {
            w.wake.notify_one();
        }
    }

    fn wake_db(&self, db: u32) {
        for line in self.lines.get(&db).into_iter().flat_map(|l| l.values()) {
            if let Some(w) = line.front().and_then(|id| self.waits.get(id)) {
                w.wake.notify_one();
            }
        }
    }
}

/// Calls `f` with each key (or database) a committed write touched: what
/// its spec says ([`crate::commands::Spec::touches`]: MOVE, COPY ... DB,
/// SWAPDB), by default its key arguments in its database (from Redis's key
/// specs, so SORT's STORE key and LMPOP's keys count).
fn touched<'a>(w: &Committed<'a>, f: &mut dyn FnMut(Target<'a>)) {
    let args = &w.call.args;
    match w.call.cmd.spec.touches {
        Some(touches) => touches(w.db, args, f),
        None => {
            for i in w.call.cmd.keys(args).unwrap_or_default() {
                f(Target::Key(w.db, &args[i]));
            }
        }
    }
}

impl Ticket<'_> {
    /// Marks the client blocked (with or without a timeout), or no longer blocked.
    fn set_blocked(&self, on: bool, timed: bool) {
        let count = |counter: &AtomicUsize| {
            if on {
                counter.fetch_add(1, Ordering::SeqCst);
            } else {
                counter.fetch_sub(1, Ordering::SeqCst);
            }
        };
        if self.wait.blocked.swap(on, Ordering::SeqCst) != on {
            count(&self.blocking.blocked);
            if self.wait.timed.swap(on && timed, Ordering::SeqCst) || (on && timed) {
                count(&self.blocking.timed);
            }
        }
    }

    fn unblocked(&self) -> Option<Unblock> {
        *self.wait.unblock.lock().unwrap()
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.set_blocked(false, false);
        self.blocking.leave(self.id, &self.wait);
    }
}

/// Runs a blocking command for a connection: pops now if it can, otherwise
/// waits in line until it pops, the timeout passes (a null array), `CLIENT
/// UNBLOCK` ends the wait, or the connection is closed or killed (`None`: no
/// reply).
///
/// `wait` is what its spec says it waits on: the keys and the index of the
/// timeout argument. Its handler is the step that pops or answers nil.
pub async fn run(
    s: &mut Session,
    cmd: &'static Command,
    args: &[Bytes],
    (keys, timeout_at): (Vec<Bytes>, usize),
) -> Option<Reply> {
    let mut call = Call {
        cmd,
        args: args.to_vec(),
    };
    let server = s.server.clone();
    // In line before the first attempt, so that a push committed between the
    // attempt and the wait still wakes this client.
    let ticket = server.blocking.enter(s.client.id, s.db, keys);
    let blocking = cmd.spec.blocking;
    // Arguments that name a state of the store (XREAD's `$`) are resolved
    // once, after entering the line: a write committed after the resolution
    // wakes this client, and every attempt uses the same resolved arguments.
    if let Some(resolve) = blocking.and_then(|b| b.resolve)
        && (resolve.needed)(args)
    {
        match resolved(s, resolve.run, args).await {
            Ok(Some(rewritten)) => call.args = rewritten,
            Ok(None) => {}
            Err(reply) => return Some(reply),
        }
    }
    let reply = attempt(s, &call).await;
    if !is_empty_reply(&reply) {
        return Some(reply);
    }
    // The attempt validated the timeout.
    let timeout = if blocking.is_some_and(|b| b.millis) {
        crate::resp::request::parse_i64(&args[timeout_at]).unwrap_or(0)
    } else {
        timeout_ms(&args[timeout_at]).unwrap_or(0)
    };
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    ticket.set_blocked(true, deadline.is_some());
    s.client.blocked.store(true, Ordering::Relaxed);
    let reply = loop {
        if s.client.killed.load(Ordering::SeqCst) || s.client.hung_up.load(Ordering::SeqCst) {
            break None;
        }
        tokio::select! {
            _ = ticket.wait.wake.notified() => {}
            _ = sleep_until(deadline) => break Some(Reply::NilArray),
            // Killed or hung up: checked at the top of the loop.
            _ = s.client.kill.notified() => continue,
        }
        match ticket.unblocked() {
            Some(Unblock::Timeout) => break Some(Reply::NilArray),
            Some(Unblock::Error) => break Some(Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")),
            None => {}
        }
        let reply = match blocking.and_then(|b| b.rerun) {
            Some(step) => rerun(s, &call, step).await,
            None => attempt(s, &call).await,
        };
        if !is_empty_reply(&reply) {
            break Some(reply);
        }
    };
    s.client.blocked.store(false, Ordering::Relaxed);
    reply
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Runs a blocking command's argument rewrite ([`crate::commands::spec::Resolve`])
/// in a transaction of its own; an error is the command's reply.
async fn resolved(
    s: &mut Session,
    run: crate::commands::spec::ResolveFn,
    args: &[Bytes],
) -> Result<Option<Vec<Bytes>>, Reply> {
    let args = args.to_vec();
    let job = Box::new(move |tx: &mut crate::engine::Tx<'_, '_>| {
        let rewritten = run(tx.ctx(), &args)?;
        Ok(Box::new(rewritten) as crate::engine::TxValue)
    });
    match s.server.engine.transaction(s.db, s.proto, job).await {
        Ok(value) => Ok(value.downcast::<Option<Vec<Bytes>>>().map(|v| *v).unwrap_or(None)),
        Err(crate::commands::CmdError::Store(e)) => Err(Reply::error(format!("ERR {e}"))),
        Err(e) => Err(e.reply()),
    }
}

/// Runs a spec's own step after a wake-up (`Blocking::rerun`) once, in a
/// transaction of its own; the commit observer hears of it as of the command.
async fn rerun(s: &mut Session, call: &Call, step: crate::commands::CommandFn) -> Reply {
    let call = call.clone();
    let job = Box::new(move |tx: &mut crate::engine::Tx<'_, '_>| {
        let reply = match tx.call_as(call.clone(), Some(step)) {
            Ok(r) => r,
            Err(crate::commands::CmdError::Store(e)) => return Err(crate::commands::CmdError::Store(e)),
            Err(e) => e.reply(),
        };
        Ok(Box::new(reply) as crate::engine::TxValue)
    });
    let reply = match s.server.engine.transaction(s.db, s.proto, job).await {
        Ok(value) => value.downcast::<Reply>().map(|r| *r).unwrap_or(Reply::NilArray),
        Err(crate::commands::CmdError::Store(e)) => Reply::error(format!("ERR {e}")),
        Err(e) => e.reply(),
    };
    if !is_empty_reply(&reply) && !reply.is_error() {
        s.server.dirty.fetch_add(1, Ordering::Relaxed);
    }
    reply
}

/// Runs the storage step once, as a write batch of its own.
///
/// When it pops, the events it reported are left in `s.own_events`, for the
/// connection to write the client's own keyspace messages around the reply
/// as Redis does (the reply first, then `lpop`/`rpop`...).
async fn attempt(s: &mut Session, call: &Call) -> Reply {
    let batch = Batch {
        db: s.db,
        proto: s.proto,
        calls: vec![call.clone()],
        keys_restricted: false,
        acl: None,
    };
    let mut outcome = s.server.engine.run(batch).await;
    let reply = outcome.replies.pop().unwrap_or(Reply::NilArray);
    if !is_empty_reply(&reply) && !reply.is_error() {
        s.server.dirty.fetch_add(1, Ordering::Relaxed);
    }
    s.own_events = std::mem::take(&mut outcome.events);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::table::lookup;

    #[test]
    fn only_writes_that_can_feed_a_pop_are_told_to_other_processes() {
        for name in [
            "lpush", "rpush", "lmove", "linsert", "zadd", "zincrby", "sort", "rename", "swapdb",
        ] {
            assert!(may_feed_waiters(lookup(name.as_bytes()).unwrap()), "{name}");
        }
        for name in ["set", "del", "expire", "hset", "sadd", "incr", "flushall"] {
            assert!(!may_feed_waiters(lookup(name.as_bytes()).unwrap()), "{name}");
        }
    }
}
