//! The engine: runs batches of commands against the backend.
//!
//! * **Writes are group-committed.** One writer thread owns the write
//!   connection. It drains every pending job from every connection, runs them
//!   in one transaction, commits once, then answers them all. Throughput grows
//!   with the number of concurrent clients instead of being bounded by commits.
//! * **Reads never write** and run on a pool of read connections (WAL
//!   snapshots), in parallel with the writer. Expired keys are filtered by time;
//!   the writer's sweeper deletes them in small batches between write batches.
//! * A job is the run of consecutive commands a client sent together
//!   (a pipeline, or a MULTI/EXEC block). Its commands run in order, so a
//!   client's reads never overtake its own earlier writes: a job with any
//!   write goes to the writer whole.
//! * **EXEC is one writer job** ([`Engine::exec`]): the writer first checks
//!   the WATCHed keys' versions, then runs the queued commands, all in one
//!   transaction, so a transaction is isolated and never half-applied.

mod checkpoint;
mod writer;

use crate::backend::sqlite::{self, Location, SqliteStore, Sync};
use crate::commands::{CmdError, Command, Ctx, Handler};
use crate::resp::Reply;
use crate::store::{Store, StoreError};
use crate::util::now_ms;
use bytes::Bytes;
use rusqlite::Connection;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `path/to/file.db` or `:memory:`.
    pub location: String,
    pub databases: u32,
    pub sync: Sync,
    /// Read connections in the pool (file databases).
    pub readers: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            location: ":memory:".into(),
            databases: 16,
            sync: Sync::Normal,
            readers: 4,
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
}

/// The result of a batch: one reply per call, and the selected database afterwards.
#[derive(Debug)]
pub struct Outcome {
    pub replies: Vec<Reply>,
    pub db: u32,
    /// EXEC only: a WATCHed key had changed, so nothing ran (`replies` is empty).
    pub aborted: bool,
}

/// A WATCHed key and its version when WATCH read it (`None`: no such key).
/// EXEC runs only if every watched key still has the same version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub db: u32,
    pub key: Bytes,
    pub version: Option<i64>,
}

/// A write command that a commit made durable: the database it ran in, the
/// call, and its reply.
pub struct Committed<'a> {
    pub db: u32,
    pub call: &'a Call,
    pub reply: &'a Reply,
}

/// Told by the writer, after each commit and before the clients are
/// answered, which write commands the commit made durable. The server uses it
/// to wake clients blocked on the keys those commands touched.
pub type CommitObserver = Arc<dyn Fn(&[Committed<'_>]) + Send + std::marker::Sync>;

pub(crate) struct Job {
    batch: Batch,
    /// Checked by the writer before the batch runs (EXEC); empty otherwise.
    watch: Vec<Watch>,
    done: tokio::sync::oneshot::Sender<Outcome>,
}

/// What the writer thread receives.
pub(crate) enum Msg {
    Job(Job),
    /// Finish: everything sent before has been committed; checkpoint and exit.
    Stop,
}

struct Shared {
    readers: Mutex<Vec<Connection>>,
    location: Location,
    databases: u32,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<checkpoint::Checkpointer>>,
    /// Installed once by [`Engine::on_commit`]; read by the writer thread.
    observer: Arc<OnceLock<CommitObserver>>,
}

/// A handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    sender: mpsc::Sender<Msg>,
}

impl Engine {
    /// Opens the database (creating and migrating the schema) and starts the writer.
    pub fn open(opts: &EngineOptions) -> Result<Engine, StoreError> {
        let location = Location::parse(&opts.location);
        let conn = sqlite::open_writer(&location, opts.sync)?;
        let version = sqlite::max_version(&conn)?;
        let mut readers = Vec::new();
        if let Some(path) = &location.path {
            for _ in 0..opts.readers {
                readers.push(sqlite::open_reader(path)?);
            }
        }
        let checkpointer = match &location.path {
            Some(path) => Some(checkpoint::Checkpointer::start(path)?),
            None => None,
        };
        let (tx, rx) = mpsc::channel::<Msg>();
        let databases = opts.databases;
        let wal_pages = checkpointer.as_ref().map(|c| c.wal_size());
        let observer = Arc::new(OnceLock::new());
        let writer_observer = observer.clone();
        let handle = std::thread::Builder::new()
            .name("redsql-writer".into())
            .spawn(move || writer::run(conn, rx, version, databases, wal_pages, writer_observer))
            .map_err(|e| StoreError(format!("cannot start writer thread: {e}")))?;
        let shared = Arc::new(Shared {
            readers: Mutex::new(readers),
            location,
            databases,
            writer_thread: Mutex::new(Some(handle)),
            checkpointer: Mutex::new(checkpointer),
            observer,
        });
        Ok(Engine { shared, sender: tx })
    }

    pub fn databases(&self) -> u32 {
        self.shared.databases
    }

    /// Where the data is stored (`:memory:` or a path).
    pub fn location(&self) -> String {
        self.shared.location.path.clone().unwrap_or_else(|| ":memory:".into())
    }

    /// Installs the observer told of every commit (see [`CommitObserver`]).
    /// There is one per engine: a second call is ignored and returns false.
    pub fn on_commit(&self, observer: CommitObserver) -> bool {
        self.shared.observer.set(observer).is_ok()
    }

    /// How a batch must run.
    pub fn route(&self, batch: &Batch) -> Route {
        if self.shared.location.is_memory() {
            // One connection: everything runs on the writer.
            return Route::Writer;
        }
        let mut route = Route::Read;
        for c in &batch.calls {
            match c.cmd.handler {
                Handler::Write(_) => return Route::Writer,
                Handler::Read(_) if !c.cmd.fast => route = Route::SlowRead,
                _ => {}
            }
        }
        route
    }

    /// Runs a batch and waits for its outcome (async).
    pub async fn run(&self, batch: Batch) -> Outcome {
        match self.route(&batch) {
            Route::Read => self.run_read(&batch),
            Route::SlowRead => {
                let engine = self.clone();
                match tokio::task::spawn_blocking(move || engine.run_read(&batch)).await {
                    Ok(o) => o,
                    Err(e) => internal_error(format!("read task failed: {e}")),
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

    async fn run_on_writer(&self, batch: Batch, watch: Vec<Watch>) -> Outcome {
        let (done, rx) = tokio::sync::oneshot::channel();
        if self.sender.send(Msg::Job(Job { batch, watch, done })).is_err() {
            return internal_error("server is shutting down".into());
        }
        rx.await.unwrap_or_else(|_| internal_error("writer stopped".into()))
    }

    /// Runs a batch from a thread that is not an async task (the library API).
    pub fn run_blocking(&self, batch: Batch) -> Outcome {
        match self.route(&batch) {
            Route::Read | Route::SlowRead => self.run_read(&batch),
            Route::Writer => {
                let (done, rx) = tokio::sync::oneshot::channel();
                let watch = Vec::new();
                if self.sender.send(Msg::Job(Job { batch, watch, done })).is_err() {
                    return internal_error("server is shutting down".into());
                }
                rx.blocking_recv()
                    .unwrap_or_else(|_| internal_error("writer stopped".into()))
            }
        }
    }

    fn run_read(&self, batch: &Batch) -> Outcome {
        let conn = self.shared.readers.lock().unwrap().pop();
        let conn = match conn {
            Some(c) => c,
            None => match self.shared.location.path.as_deref().map(sqlite::open_reader) {
                Some(Ok(c)) => c,
                Some(Err(e)) => return internal_error(e.0),
                None => return internal_error("no reader".into()),
            },
        };
        let multi = batch.calls.len() > 1;
        if multi {
            let _ = conn.execute_batch("BEGIN");
        }
        let out = run_calls(batch, self.shared.databases, &mut SqliteStore::reader(&conn, now_ms()));
        if multi {
            let _ = conn.execute_batch("COMMIT");
        }
        self.shared.readers.lock().unwrap().push(conn);
        out
    }

    /// Stops the writer after it has committed everything sent before, and
    /// waits for it. Later writes fail with "server is shutting down".
    pub fn shutdown(&self) {
        if let Some(mut c) = self.shared.checkpointer.lock().unwrap().take() {
            c.stop();
        }
        let handle = self.shared.writer_thread.lock().unwrap().take();
        if let Some(h) = handle {
            let _ = self.sender.send(Msg::Stop);
            let _ = h.join();
        }
    }
}

/// Where a batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Fast reads (and storage-free commands): run inline on a read connection.
    Read,
    /// Reads that may take long (KEYS, SCAN, ...): run on a blocking thread.
    SlowRead,
    /// Anything that writes: the writer thread.
    Writer,
}

fn internal_error(msg: String) -> Outcome {
    Outcome {
        replies: vec![Reply::error(format!("ERR {msg}"))],
        db: 0,
        aborted: false,
    }
}

/// Runs each call in order against `store`. Storage errors become error
/// replies here; the writer handles them itself (see `writer`).
pub(crate) fn run_calls(batch: &Batch, databases: u32, store: &mut dyn Store) -> Outcome {
    let mut ctx = Ctx {
        db: batch.db,
        proto: batch.proto,
        databases,
        store,
    };
    let replies = batch
        .calls
        .iter()
        .map(|c| match call(&mut ctx, c) {
            Ok(r) => r,
            Err(CmdError::Reply(e)) => Reply::error(e),
            Err(CmdError::Store(e)) => Reply::error(format!("ERR storage error: {e}")),
        })
        .collect();
    Outcome {
        replies,
        db: ctx.db,
        aborted: false,
    }
}

/// True if every watched key still has the version WATCH saw (a key that
/// expired or was deleted since has none; a rewritten one has a new one).
pub(crate) fn watch_holds(store: &mut dyn Store, watch: &[Watch]) -> Result<bool, StoreError> {
    for w in watch {
        if store.meta(w.db, &w.key)?.map(|e| e.version) != w.version {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn call(ctx: &mut Ctx, c: &Call) -> Result<Reply, CmdError> {
    match c.cmd.handler {
        Handler::Read(f) | Handler::Write(f) | Handler::Pure(f) => f(ctx, &c.args),
        Handler::Server => Err(CmdError::Reply(format!("ERR '{}' cannot run here", c.cmd.name))),
    }
}
