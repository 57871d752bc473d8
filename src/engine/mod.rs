//! The engine: runs batches of commands against the backend.
//!
//! * **Writes are group-committed.** One writer owns the write connection.
//!   It drains every pending job from every connection, runs them in one
//!   transaction, commits once, then answers them all. Throughput grows with
//!   the number of concurrent clients instead of being bounded by commits.
//!   The writer is a thread of its own, or (SQLite, `writer_task`) a task on
//!   the server's single runtime thread, which saves a thread handoff per
//!   batch and commits once per turn of the event loop.
//! * **Reads never write** and run on a pool of read connections (SQLite: WAL
//!   snapshots), in parallel with the writer. Expired keys are filtered by
//!   time; the writer's sweeper deletes them in small batches between writes.
//! * **EXEC is one writer job** ([`Engine::exec`]): the writer first checks
//!   the WATCHed keys' versions, then runs the queued commands, all in one
//!   transaction, so a transaction is isolated and never half-applied.
//! * A job is the run of consecutive commands a client sent together
//!   (a pipeline, or a MULTI/EXEC block). Its commands run in order, so a
//!   client's reads never overtake its own earlier writes: a job with any
//!   write goes to the writer whole.
//!
//! The writer and the read path are written once ([`writer`], [`conn`]); a
//! backend plugs in by adapting its connections to [`conn::WriteConn`] and
//! [`conn::ReadConn`] (`sqlite.rs`, `postgres.rs`).

pub mod backend;
pub mod background;
pub(crate) mod conn;
mod tx;
mod watch;
pub(crate) mod writer;

pub use tx::{Tx, TxFn, TxValue};

use crate::commands::events::Place;
use crate::commands::spec::Cost;
use crate::commands::{Class, Classes, CmdError, Command, Ctx, Event, Handler};
use crate::resp::Reply;
use crate::store::{Store, StoreError};
pub(crate) use backend::Backend;
pub use backend::{CacheStats, Durability};
use bytes::Bytes;
use conn::Reads;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

/// Stack of every thread that runs commands (the writers, the read and
/// background threads): a Lua script's deep recursion (or cjson's nesting)
/// must end in its error, as on Redis's main thread, not overflow a
/// thread's default 2 MiB. Only what is touched is ever committed to memory.
pub const COMMAND_STACK: usize = 8 << 20;

/// Default size of the read cache of SQLite file databases: 32 MiB.
pub const DEFAULT_READ_CACHE: usize = 32 << 20;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `path/to/file.db`, `:memory:`, or `postgres://user@host:port/dbname[?schema=name]`.
    pub location: String,
    pub databases: u32,
    /// Durability of commits. PostgreSQL: `Off` turns `synchronous_commit`
    /// off; the others keep the server's setting.
    pub durability: Durability,
    /// Read connections kept open (SQLite file databases open more on demand;
    /// PostgreSQL opens up to four times as many under load).
    pub readers: usize,
    /// SQLite file databases: bytes of string keys the read connections
    /// keep in memory (`backend/sqlite/cache.rs`); 0 turns the cache off.
    pub read_cache: usize,
    /// SQLite only: run the writer as a task on the tokio runtime that calls
    /// `backend::open` (which must then run inside that runtime) instead of
    /// on a thread of its own. Jobs then reach the writer without a thread
    /// handoff, and a batch gathers every job queued in one turn of the event
    /// loop. Meant for a current-thread runtime whose commits do not wait for
    /// the disk (the writer's work blocks the runtime while it runs). It ends
    /// after [`Engine::shutdown`] or with its runtime. [`Engine::run_blocking`]
    /// still works from other threads, never from the runtime's own thread
    /// (it would wait for a writer that cannot run).
    pub writer_task: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            location: ":memory:".into(),
            databases: 16,
            durability: Durability::Normal,
            readers: 4,
            read_cache: DEFAULT_READ_CACHE,
            writer_task: false,
        }
    }
}

/// One command ready to run: its table entry and its arguments (name included).
#[derive(Clone)]
pub struct Call {
    pub cmd: &'static Command,
    pub args: Vec<Bytes>,
}

/// A sequence of commands from one client, run in order.
pub struct Batch {
    pub db: u32,
    pub proto: u8,
    pub calls: Vec<Call>,
    /// The client may not reach every key (ACL key patterns apply): the
    /// commands that reach keys their arguments do not name (SORT's BY and
    /// GET patterns) refuse to (see [`Ctx::keys_restricted`]).
    pub keys_restricted: bool,
    /// The client's ACL rules, when they restrict it and a call may run
    /// other commands (scripts): see [`Ctx::acl`].
    pub acl: Option<Arc<dyn crate::commands::Restrictions>>,
}

/// The result of a batch: one reply per call, and the selected database afterwards.
#[derive(Debug)]
pub struct Outcome {
    pub replies: Vec<Reply>,
    pub db: u32,
    /// EXEC only: a WATCHed key had changed, so nothing ran (`replies` is empty).
    pub aborted: bool,
    /// The keyspace events the calls reported, in order (empty unless
    /// notifications are on). They are published by the commit observer; a
    /// client subscribed to them on its own connection uses them to place
    /// each call's messages around its reply, as Redis does.
    pub events: Vec<Reported>,
    /// Microseconds spent running the calls, not waiting for the writer or
    /// for the commit (Redis's command duration: SLOWLOG).
    pub micros: i64,
    /// The storage (or the engine) failed: the error replies say how.
    pub storage_failed: bool,
}

/// A keyspace event a call of a batch reported.
#[derive(Debug, Clone)]
pub struct Reported {
    /// The call's index in the batch.
    pub call: usize,
    /// Where Redis writes it relative to the call's reply.
    pub place: Place,
    pub event: Event,
}

/// A WATCHed key and its version when WATCH read it (`None`: no such key).
/// EXEC runs only if every watched key still has the same version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub db: u32,
    pub key: Bytes,
    pub version: Option<i64>,
    /// For a key missing at WATCH time: tells whether it was created since,
    /// so that a key created and deleted again before EXEC still aborts it
    /// (see `watch.rs`).
    pub missing: Option<Arc<MissingWatch>>,
}

pub use watch::{MissingWatch, unwatch};

/// A write command that a commit made durable, or a read that reported
/// keyspace events (`keymiss`) in a batch of the writer: the database it ran
/// in, the call, its reply, and the keyspace events it reported.
pub struct Committed<'a> {
    pub db: u32,
    pub call: &'a Call,
    pub reply: &'a Reply,
    pub events: &'a [Event],
}

/// What one commit made durable.
pub struct Commit<'a> {
    /// The write commands, in the order they ran.
    pub writes: &'a [Committed<'a>],
    /// The keys the expiry sweeper deleted, as `expired` events (only while
    /// that class is reported, see [`Engine::set_keyspace_events`]).
    pub expired: &'a [Event],
    /// The event classes reported, with `K`/`E` (where to publish them).
    pub notify: Classes,
}

/// Told by the writer, after each commit and before the clients are
/// answered, what the commit made durable. The server uses it to wake clients
/// blocked on the keys the commands touched, and to publish keyspace events.
pub type CommitObserver = Arc<dyn Fn(&Commit<'_>) + Send + std::marker::Sync>;

/// What the writer threads share with the engine handle.
#[derive(Default)]
pub(crate) struct Hooks {
    /// Installed once by [`Engine::on_commit`].
    observer: OnceLock<CommitObserver>,
    /// The keyspace event classes commands report ([`Classes::reported`]).
    notify: AtomicU32,
    /// Keys WATCHed while missing (see `watch.rs`).
    creations: Arc<watch::Creations>,
    /// When (Unix ms) a writer last claimed the expiry sweep: several
    /// writers (PostgreSQL) share it, so that whichever is free sweeps and
    /// none sweeps twice as often as needed.
    last_sweep_ms: std::sync::atomic::AtomicI64,
    /// Keys the sweeper deleted because they expired (INFO `expired_keys`).
    pub(crate) expired: std::sync::atomic::AtomicU64,
    /// The last transaction that wrote failed in the store (a full disk, a
    /// lost database): INFO's `aof_last_write_status:err` until one commits.
    pub(crate) write_failed: std::sync::atomic::AtomicBool,
}

impl Hooks {
    fn observer(&self) -> Option<&CommitObserver> {
        self.observer.get()
    }

    /// The event classes to report; none while nobody observes commits.
    fn notify(&self) -> Classes {
        match self.observer.get() {
            Some(_) => Classes(self.notify.load(Ordering::Relaxed)),
            None => Classes::default(),
        }
    }

    /// The event classes commands must report: `notify`, plus `new` while
    /// some client watches a missing key (those are counted, not published).
    fn collect(&self, notify: Classes) -> Classes {
        if self.creations.active() {
            Classes(notify.0 | Class::New as u32)
        } else {
            notify
        }
    }
}

/// A job for the writer: what to run, and where its answer goes. (The work
/// is dropped before the answer's sender, so a caller waiting for the answer
/// knows that the writer is done with the work.)
pub(crate) struct Job {
    work: Work,
    done: Done,
}

/// What a job runs.
pub(crate) enum Work {
    /// Parsed commands; `watch` is checked before they run (EXEC), empty otherwise.
    Batch { batch: Batch, watch: Vec<Watch> },
    /// A closure choosing its commands as it runs (see [`tx`]).
    Tx { db: u32, proto: u8, f: TxFn },
}

/// Where a job's answer goes.
pub(crate) enum Done {
    Batch(tokio::sync::oneshot::Sender<Outcome>),
    Tx(tokio::sync::oneshot::Sender<Result<TxValue, CmdError>>),
}

impl Job {
    pub(crate) fn batch(batch: Batch, watch: Vec<Watch>, done: tokio::sync::oneshot::Sender<Outcome>) -> Job {
        Job {
            work: Work::Batch { batch, watch },
            done: Done::Batch(done),
        }
    }

    /// The job's parsed commands (none for a closure).
    fn calls(&self) -> &[Call] {
        match &self.work {
            Work::Batch { batch, .. } => &batch.calls,
            Work::Tx { .. } => &[],
        }
    }

    /// The database the job starts in.
    fn db(&self) -> u32 {
        match &self.work {
            Work::Batch { batch, .. } => batch.db,
            Work::Tx { db, .. } => *db,
        }
    }

    /// Answers the job with a storage failure.
    fn fail(self, e: &StoreError) {
        match (self.work, self.done) {
            (Work::Batch { batch, .. }, Done::Batch(done)) => {
                let _ = done.send(storage_error(&batch, e));
            }
            (_, Done::Tx(done)) => {
                let _ = done.send(Err(CmdError::Store(e.clone())));
            }
            (Work::Tx { .. }, Done::Batch(_)) => {}
        }
    }
}

/// What the writer thread receives.
pub(crate) enum Msg {
    Job(Job),
    /// Finish: everything sent before has been committed; checkpoint and exit.
    Stop,
}

struct Shared {
    /// None when every batch must run on the writer (SQLite `:memory:`).
    reads: Option<Arc<dyn Reads>>,
    /// Where the data is, for humans (no password).
    display: String,
    /// The backend's name (INFO).
    backend_name: &'static str,
    databases: u32,
    /// One writer (SQLite), or several sharing the job queue (PostgreSQL).
    writer_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// The backend's background work (SQLite's checkpointer).
    background: Mutex<Option<Box<dyn backend::Background>>>,
    /// The commit observer and the event classes; read by the writer threads.
    hooks: Arc<Hooks>,
    /// The store registers WATCHes of missing keys itself (PostgreSQL:
    /// several processes may create them), instead of the engine counting
    /// creations in memory.
    store_watches: bool,
    /// The read connections' cache, if the backend has one.
    read_cache: Option<Arc<dyn backend::CacheFigures>>,
    /// The backend's bus between processes, until the server starts it.
    bus: backend::BusSlot,
    /// The ACL users the backend shares between processes.
    users: Option<Arc<dyn backend::SharedUsers>>,
}

/// A handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    sender: Sender,
}

/// The way to the writer(s): a channel to threads, or to the writer task.
#[derive(Clone)]
enum Sender {
    Thread(mpsc::Sender<Msg>),
    Task(tokio::sync::mpsc::UnboundedSender<Msg>),
}

impl Sender {
    /// Queues a message; false when the writer is gone.
    fn send(&self, msg: Msg) -> bool {
        match self {
            Sender::Thread(s) => s.send(msg).is_ok(),
            Sender::Task(s) => s.send(msg).is_ok(),
        }
    }
}

impl Engine {
    /// Opens `backend` (creating and migrating the schema) and starts the
    /// writer. `display` is where the data is, fit to print (no password).
    /// (`backend::open` picks the backend for a location.)
    pub(crate) fn start(
        backend: Box<dyn Backend>,
        display: String,
        opts: &EngineOptions,
    ) -> Result<Engine, StoreError> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let hooks = Arc::new(Hooks::default());
        let mut start = backend::Start {
            queue: Arc::new(Mutex::new(rx)),
            databases: opts.databases,
            hooks: hooks.clone(),
            writer_task: opts.writer_task,
            threads: Vec::new(),
            task: None,
            sweeps: true,
        };
        let backend_name = backend.name();
        let opened = backend.open(opts, &mut start)?;
        let sender = match start.task {
            Some(task_tx) => Sender::Task(task_tx),
            None => Sender::Thread(tx),
        };
        let shared = Arc::new(Shared {
            reads: opened.reads,
            display,
            backend_name,
            databases: opts.databases,
            writer_threads: Mutex::new(start.threads),
            background: Mutex::new(opened.background),
            hooks,
            store_watches: opened.store_watches,
            read_cache: opened.cache,
            bus: Mutex::new(opened.bus),
            users: opened.users,
        });
        Ok(Engine { shared, sender })
    }

    /// Starts the backend's message bus between the processes sharing the
    /// store, with `on` handling what the others send; `None` when the
    /// backend has none (SQLite) or it was started already.
    pub fn start_bus(&self, on: Box<dyn Fn(backend::BusIncoming) + Send>) -> Option<Arc<dyn backend::Bus>> {
        let starter = self.shared.bus.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        Some(starter(on))
    }

    /// How many expired keys this process's sweeper deleted since the start
    /// (or [`Engine::reset_stats`]).
    pub fn expired_keys(&self) -> u64 {
        self.shared.hooks.expired.load(Ordering::Relaxed)
    }

    /// Whether the last transaction that wrote was committed (INFO
    /// `aof_last_write_status`).
    pub fn last_write_ok(&self) -> bool {
        !self.shared.hooks.write_failed.load(Ordering::Relaxed)
    }

    /// Resets the counters INFO reports (`CONFIG RESETSTAT`).
    pub fn reset_stats(&self) {
        self.shared.hooks.expired.store(0, Ordering::Relaxed);
    }

    /// The backend's name (`sqlite`, `postgresql`).
    pub fn backend_name(&self) -> &'static str {
        self.shared.backend_name
    }

    /// The ACL users the backend shares between its processes, if it does.
    pub fn shared_users(&self) -> Option<Arc<dyn backend::SharedUsers>> {
        self.shared.users.clone()
    }

    pub fn databases(&self) -> u32 {
        self.shared.databases
    }

    /// The read cache's figures, if the store has one (INFO).
    pub fn read_cache_stats(&self) -> Option<CacheStats> {
        self.shared.read_cache.as_ref().map(|c| c.stats())
    }

    /// Where the data is stored (`:memory:`, a path, or a URL without its password).
    pub fn location(&self) -> String {
        self.shared.display.clone()
    }

    /// Installs the observer told of every commit (see [`CommitObserver`]).
    /// There is one per engine: a second call is ignored and returns false.
    pub fn on_commit(&self, observer: CommitObserver) -> bool {
        self.shared.hooks.observer.set(observer).is_ok()
    }

    /// Starts a WATCH of `key` for the case that it does not exist: the
    /// result counts the key's creations from now on. Take it before reading
    /// the key's version, and keep it in the [`Watch`] if the key is missing.
    /// `None` when the store registers such watches itself, as WATCH's read
    /// finds the key missing ([`Store::watch_missing`], then
    /// [`Engine::registered_watch`]).
    pub fn watch_missing(&self, db: u32, key: &Bytes) -> Option<Arc<MissingWatch>> {
        if self.shared.store_watches {
            return None;
        }
        Some(Arc::new(self.shared.hooks.creations.watch(db, key.clone())))
    }

    /// The watch that the store registered as `id` ([`Store::watch_missing`]);
    /// dropping it (or [`unwatch`]) ends the registration.
    pub fn registered_watch(&self, id: i64) -> Arc<MissingWatch> {
        Arc::new(MissingWatch::registered(id, self.sender.clone()))
    }

    /// Sets the keyspace event classes (`notify-keyspace-events`) that write
    /// commands and the expiry sweeper report to the commit observer, from
    /// the next batch on. Nothing is reported without `K` or `E`.
    pub fn set_keyspace_events(&self, classes: Classes) {
        self.shared.hooks.notify.store(classes.reported().0, Ordering::Relaxed);
    }

    /// How a batch must run.
    pub fn route(&self, batch: &Batch) -> Route {
        let Some(reads) = &self.shared.reads else {
            // One connection: everything runs on the writer.
            return Route::Writer;
        };
        // While `keymiss` events are on (a debugging aid), reads run on the
        // writer too, which reports events to the commit observer.
        let misses = self.shared.hooks.notify().has(Class::KeyMiss);
        let mut route = if reads.inline() { Route::Read } else { Route::Pooled };
        for c in &batch.calls {
            match c.cmd.spec.handler {
                Handler::Write(_) => return Route::Writer,
                Handler::Read(_) if misses => return Route::Writer,
                Handler::Read(_) if !c.cmd.fast && !bounded_read(c) => route = Route::SlowRead,
                _ => {}
            }
        }
        route
    }

    /// Runs a batch and waits for its outcome (async).
    pub async fn run(&self, batch: Batch) -> Outcome {
        let shape = (batch.db, batch.calls.len());
        match self.route(&batch) {
            Route::Read => self.run_read(&batch),
            route @ (Route::Pooled | Route::SlowRead) => {
                // Fast reads go to the backend's read threads, if it has them.
                let mut batch = batch;
                if let Some(reads) = &self.shared.reads {
                    match reads.submit(batch, self.shared.databases) {
                        Ok(rx) => {
                            let lost = |_| internal_error(shape, "read thread stopped".into());
                            return rx.await.unwrap_or_else(lost);
                        }
                        Err(b) => batch = b,
                    }
                }
                let engine = self.clone();
                let run = move || {
                    let mut outcome = engine.run_read(&batch);
                    prerender(&mut outcome, batch.proto);
                    outcome
                };
                if route == Route::SlowRead {
                    background::run(run)
                        .await
                        .unwrap_or_else(|| internal_error(shape, "read task panicked".into()))
                } else {
                    match tokio::task::spawn_blocking(run).await {
                        Ok(o) => o,
                        Err(e) => internal_error(shape, format!("read task failed: {e}")),
                    }
                }
            }
            Route::Writer => self.run_on_writer(batch, Vec::new()).await,
        }
    }

    /// Runs a MULTI/EXEC block as one writer job, whatever its commands: the
    /// writer checks `watch` first and, if any key's version changed, runs
    /// nothing and answers an `aborted` outcome. Otherwise the commands run in
    /// the same transaction as the check, isolated from every other client's
    /// writes and never half-applied (see `writer`).
    pub async fn exec(&self, batch: Batch, watch: Vec<Watch>) -> Outcome {
        self.run_on_writer(batch, watch).await
    }

    /// Runs closure `f` inside the writer's transaction, in database `db`
    /// (see [`tx`]): atomic, isolated, group-committed like any batch. Its
    /// value comes back once the transaction is committed; an `Err` from
    /// `f` rolls back everything it did.
    pub async fn transaction(&self, db: u32, proto: u8, f: TxFn) -> Result<TxValue, CmdError> {
        let (done, rx) = tokio::sync::oneshot::channel();
        self.send_tx(db, proto, f, done)?;
        rx.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// [`Engine::transaction`] from a thread that is not an async task (the library API).
    pub fn transaction_blocking(&self, db: u32, proto: u8, f: TxFn) -> Result<TxValue, CmdError> {
        let (done, rx) = tokio::sync::oneshot::channel();
        self.send_tx(db, proto, f, done)?;
        rx.blocking_recv().unwrap_or_else(|_| Err(stopped()))
    }

    fn send_tx(
        &self,
        db: u32,
        proto: u8,
        f: TxFn,
        done: tokio::sync::oneshot::Sender<Result<TxValue, CmdError>>,
    ) -> Result<(), CmdError> {
        let job = Job {
            work: Work::Tx { db, proto, f },
            done: Done::Tx(done),
        };
        if self.sender.send(Msg::Job(job)) {
            Ok(())
        } else {
            Err(CmdError::Reply("ERR server is shutting down".into()))
        }
    }

    async fn run_on_writer(&self, batch: Batch, watch: Vec<Watch>) -> Outcome {
        let shape = (batch.db, batch.calls.len());
        let (done, rx) = tokio::sync::oneshot::channel();
        if !self.sender.send(Msg::Job(Job::batch(batch, watch, done))) {
            return internal_error(shape, "server is shutting down".into());
        }
        rx.await
            .unwrap_or_else(|_| internal_error(shape, "writer stopped".into()))
    }

    /// Runs a batch from a thread that is not an async task (the library API).
    pub fn run_blocking(&self, batch: Batch) -> Outcome {
        let shape = (batch.db, batch.calls.len());
        match self.route(&batch) {
            Route::Read | Route::Pooled | Route::SlowRead => self.run_read(&batch),
            Route::Writer => {
                let (done, rx) = tokio::sync::oneshot::channel();
                if !self.sender.send(Msg::Job(Job::batch(batch, Vec::new(), done))) {
                    return internal_error(shape, "server is shutting down".into());
                }
                rx.blocking_recv()
                    .unwrap_or_else(|_| internal_error(shape, "writer stopped".into()))
            }
        }
    }

    fn run_read(&self, batch: &Batch) -> Outcome {
        match &self.shared.reads {
            Some(reads) => reads.run(batch, self.shared.databases),
            None => internal_error((batch.db, batch.calls.len()), "no reader".into()),
        }
    }

    /// Stops the writer after it has committed everything sent before, and
    /// waits for it. Later writes fail with "server is shutting down".
    ///
    /// A writer task (`writer_task`) is told to stop too, but is not waited
    /// for: it commits what it took at its next turn, or ends when its runtime
    /// is dropped; either way it closes its connection then. Call this before
    /// dropping a current-thread runtime, so that the checkpointer has stopped
    /// when the writer's closing checkpoint runs.
    pub fn shutdown(&self) {
        self.stop_background();
        let handles = std::mem::take(&mut *self.shared.writer_threads.lock().unwrap());
        // One Stop per writer, behind every job sent before: each writer
        // commits what it took, then takes a Stop and exits.
        for _ in 0..handles.len().max(1) {
            self.sender.send(Msg::Stop);
        }
        for h in handles {
            let _ = h.join();
        }
    }

    fn stop_background(&self) {
        if let Some(mut b) = self.shared.background.lock().unwrap().take() {
            b.stop();
        }
    }
}

/// Where a batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Fast reads (and storage-free commands): run inline on a read connection.
    Read,
    /// Reads of a backend whose reads cannot run inline (PostgreSQL): its
    /// read threads, or a blocking thread.
    Pooled,
    /// Reads that may take long (KEYS, SMEMBERS, ...): a background thread,
    /// at a lower CPU priority than the event loop (`background`).
    SlowRead,
    /// Anything that writes: the writer thread.
    Writer,
}

/// True for a read that Redis does not flag `fast` but whose cost its
/// arguments bound (its spec's [`Cost::Bounded`]: LRANGE over a short
/// range): it runs inline like a fast read.
fn bounded_read(c: &Call) -> bool {
    matches!(c.cmd.spec.cost, Cost::Bounded(f) if f(&c.args))
}

/// Arrays at least this long are rendered to RESP by the thread that read them.
const PRERENDER_LEN: usize = 1024;

/// Renders the big array replies of a slow read (KEYS over millions of keys:
/// hundreds of MB) to their RESP bytes on the blocking thread that read
/// them, so that the event loop, which serves every other client, only
/// copies bytes out instead of spending a long time encoding them.
fn prerender(outcome: &mut Outcome, proto: u8) {
    for reply in &mut outcome.replies {
        if matches!(reply, Reply::Array(items) if items.len() >= PRERENDER_LEN) {
            let mut out = bytes::BytesMut::new();
            reply.write(proto, &mut out);
            *reply = Reply::Raw(out.freeze());
        }
    }
}

/// The error of a job whose writer stopped before answering.
fn stopped() -> CmdError {
    CmdError::Reply("ERR writer stopped".into())
}

/// An engine failure: an error reply for each of the batch's `n` calls (so
/// the client gets one reply per command), its database unchanged.
fn internal_error((db, n): (u32, usize), msg: String) -> Outcome {
    Outcome {
        replies: vec![Reply::error(format!("ERR {msg}")); n.max(1)],
        db,
        aborted: false,
        events: Vec::new(),
        micros: 0,
        storage_failed: true,
    }
}

/// The outcome of a batch whose storage failed: the error for each of its calls.
pub(crate) fn storage_error(batch: &Batch, e: &StoreError) -> Outcome {
    let n = batch.calls.len().max(1);
    Outcome {
        replies: vec![Reply::error(format!("ERR storage error: {e}")); n],
        db: batch.db,
        aborted: false,
        events: Vec::new(),
        micros: 0,
        storage_failed: true,
    }
}

/// Runs each call in order against `store`. Storage errors become error
/// replies here; the writer handles them itself (see `writer`).
pub(crate) fn run_calls(batch: &Batch, databases: u32, store: &mut dyn Store) -> Outcome {
    let started = std::time::Instant::now();
    let mut ctx = Ctx::new(batch.db, batch.proto, databases, store);
    ctx.keys_restricted = batch.keys_restricted;
    ctx.acl = batch.acl.clone();
    let mut storage_failed = false;
    let replies = batch
        .calls
        .iter()
        .map(|c| match call(&mut ctx, c) {
            Ok(r) => r,
            Err(e) => {
                storage_failed |= matches!(e, CmdError::Store(_));
                e.reply()
            }
        })
        .collect();
    Outcome {
        replies,
        db: ctx.db,
        aborted: false,
        events: Vec::new(),
        micros: crate::util::micros_since(started),
        storage_failed,
    }
}

/// True if every watched key still has the version WATCH saw (a key that
/// expired or was deleted since has none; a rewritten one has a new one).
pub(crate) fn watch_holds(store: &mut dyn Store, watch: &[Watch]) -> Result<bool, StoreError> {
    for w in watch {
        if store.meta(w.db, &w.key)?.map(|e| e.version) != w.version {
            return Ok(false);
        }
        if let Some(m) = &w.missing
            && !m.untouched(store)?
        {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn call(ctx: &mut Ctx, c: &Call) -> Result<Reply, CmdError> {
    crate::commands::run(ctx, c.cmd, &c.args)
}

#[cfg(test)]
mod tests {
    use super::{Call, bounded_read};
    use bytes::Bytes;

    fn call(words: &[&str]) -> Call {
        Call {
            cmd: crate::commands::table::table().get(words[0].as_bytes()).unwrap(),
            args: words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect(),
        }
    }

    #[test]
    fn small_ranges_run_inline_and_unbounded_ones_do_not() {
        for inline in [
            &["LRANGE", "l", "0", "99"][..],
            &["lrange", "l", "-100", "-1"],
            &["LRANGE", "l", "5", "2"],
            &["ZRANGE", "z", "0", "10", "WITHSCORES"],
            &["ZREVRANGE", "z", "0", "511"],
        ] {
            assert!(bounded_read(&call(inline)), "{inline:?}");
        }
        for slow in [
            &["LRANGE", "l", "0", "-1"][..],
            &["LRANGE", "l", "0", "512"],
            &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
            &["LRANGE", "l", "x", "1"],
            &["ZRANGE", "z", "0", "10", "BYSCORE"],
            &["ZRANGE", "z", "0", "10", "REV", "WITHSCORES"],
            &["HGETALL", "h"],
            &["SMEMBERS", "s"],
        ] {
            assert!(!bounded_read(&call(slow)), "{slow:?}");
        }
    }
}
