//! What the engine knows of a storage backend: this trait and the types
//! around it, and nothing of SQLite or PostgreSQL.
//!
//! A backend (`backend/sqlite`, `backend/postgres`) opens its connections,
//! adapts them to [`WriteConn`](super::conn::WriteConn) and
//! [`ReadConn`](super::conn::ReadConn), and hands the writers to the engine
//! through [`Start`]. What it shares between processes (a message bus,
//! the ACL users) the server reaches through [`Engine::start_bus`] and
//! [`Engine::shared_users`](super::Engine::shared_users), whatever the backend.
//!
//! [`Engine::start_bus`]: super::Engine::start_bus

use super::conn::{Reads, WriteConn};
use super::{EngineOptions, Hooks, Msg, writer};
use crate::store::{StoreError, StoreResult};
use std::sync::{Arc, Mutex};

/// How durable a commit is, whatever the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is on disk before it is acknowledged: survives power loss.
    Full,
    /// Survives a crash of redsql (kill -9), not of the machine.
    Normal,
    /// The OS (or the database server) decides when commits reach the disk.
    Off,
}

/// A storage backend, ready to open.
pub(crate) trait Backend: Send {
    /// Its name, as INFO reports it (`sqlite`, `postgresql`).
    fn name(&self) -> &'static str;

    /// Opens the connections (creating or migrating the schema) and starts
    /// the writer(s) with `start`.
    fn open(self: Box<Self>, opts: &EngineOptions, start: &mut Start) -> StoreResult<Opened>;
}

/// What a backend opened, beside its writers.
#[derive(Default)]
pub(crate) struct Opened {
    /// The read path; `None` when every batch must run on the writer (one
    /// connection: SQLite `:memory:`).
    pub reads: Option<Arc<dyn Reads>>,
    /// Background work to stop before the writers at shutdown (SQLite's
    /// checkpointer).
    pub background: Option<Box<dyn Background>>,
    /// The read cache's figures, for INFO.
    pub cache: Option<Arc<dyn CacheFigures>>,
    /// The store registers WATCHes of missing keys itself (several
    /// processes may create them), instead of the engine counting creations
    /// in memory.
    pub store_watches: bool,
    /// Starts the message bus between the processes sharing the store.
    pub bus: Option<BusStarter>,
    /// The ACL users shared by the processes of the store.
    pub users: Option<Arc<dyn SharedUsers>>,
}

/// Work a backend runs beside the writer, stopped at shutdown.
pub trait Background: Send {
    fn stop(&mut self);
}

/// A read cache's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Keys cached.
    pub keys: u64,
    pub bytes: u64,
    pub budget: u64,
    pub hits: u64,
    pub misses: u64,
}

/// Something that reports [`CacheStats`].
pub trait CacheFigures: Send + Sync {
    fn stats(&self) -> CacheStats;
}

/// What the bus delivers: another process's message, or word that the bus
/// was down for a while (messages may have been missed).
pub enum BusIncoming {
    Message(Vec<u8>),
    Reconnected,
}

/// Starts the bus with its handler of incoming messages.
pub(crate) type BusStarter = Box<dyn FnOnce(Box<dyn Fn(BusIncoming) + Send>) -> Arc<dyn Bus> + Send>;

/// A message bus between the processes sharing a store.
pub trait Bus: Send + Sync {
    /// This process's id on the bus.
    fn id(&self) -> &str;
    /// Sends `message` to every other process (in order).
    fn send(&self, message: Vec<u8>);
}

/// The bus message a change of the shared users sends with it (in the same
/// transaction): every process then reads the users again.
pub const USERS_CHANGED: &[u8] = b"U";

/// A shared user: its name and its `ACL LIST` line.
pub type UserRow = (Vec<u8>, Vec<u8>);

/// One change to the shared users.
pub enum UsersChange<'a> {
    /// Insert or replace these (name, line) rows.
    Set(&'a [UserRow]),
    /// Delete these users.
    Delete(&'a [Vec<u8>]),
    /// Replace every row by these (`ACL LOAD`).
    ReplaceAll(&'a [UserRow]),
    /// Insert these rows only if there are none (the first process to start
    /// seeds the store with its own users).
    Seed(&'a [UserRow]),
}

/// The ACL users a store shares between its processes.
pub trait SharedUsers: Send + Sync {
    /// Sends the change messages as the process whose bus id is `id` (its
    /// own changes are then not handed back to it).
    fn speak_as(&self, id: &str);
    /// Every user's (name, line), in name order.
    fn load(&self) -> Result<Vec<UserRow>, String>;
    /// Applies `change` and tells every process.
    fn change(&self, change: UsersChange<'_>) -> Result<(), String>;
}

/// Starts the writers a backend opens: each on a thread of its own sharing
/// the job queue, or (SQLite, [`EngineOptions::writer_task`]) one as a task
/// on the caller's runtime.
pub(crate) struct Start {
    pub(super) queue: writer::Queue,
    pub(super) databases: u32,
    pub(super) hooks: Arc<Hooks>,
    pub(super) writer_task: bool,
    pub(super) threads: Vec<std::thread::JoinHandle<()>>,
    pub(super) task: Option<tokio::sync::mpsc::UnboundedSender<Msg>>,
    /// Whether the first writer deletes expired keys (one per process suffices,
    /// but every writer takes its turn: see `writer`).
    pub(super) sweeps: bool,
}

impl Start {
    /// Starts `conn` as a writer. With `writer_task` set and `may_be_task`,
    /// it runs as a task on the current runtime; otherwise on a thread.
    pub(crate) fn writer<W: WriteConn>(&mut self, conn: W, may_be_task: bool) -> StoreResult<()> {
        if self.writer_task && may_be_task && self.task.is_none() {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(writer::run_task(conn, rx, self.databases, self.hooks.clone()));
            self.task = Some(tx);
            return Ok(());
        }
        let (queue, databases, sweeps, hooks) = (self.queue.clone(), self.databases, self.sweeps, self.hooks.clone());
        let handle = std::thread::Builder::new()
            .name("redsql-writer".into())
            .stack_size(super::COMMAND_STACK)
            .spawn(move || writer::run(conn, queue, databases, sweeps, hooks))
            .map_err(|e| StoreError(format!("cannot start writer thread: {e}")))?;
        self.threads.push(handle);
        Ok(())
    }
}

/// The started bus, once the server asked for it.
pub(super) type BusSlot = Mutex<Option<BusStarter>>;
