//! The engine over PostgreSQL: the writer's connection with retries and
//! reconnection, and a bounded pool of read connections.
//!
//! The postgres client blocks (it runs its own small runtime), so it must not
//! be used on an async task: every read runs on a blocking thread
//! ([`Reads::inline`] is false), and the writer has its own thread.

use super::notify::{Incoming, Notifier, SharedUsers};
use crate::backend::postgres::{KeyRef, PgConn, PgFault, PgSettings, PgStore};
use crate::engine::backend::{Backend, Bus, BusIncoming, Durability, Opened as Started, Start};
use crate::engine::conn::{Combined, Fault, Pool, ReadConn, Reads, WriteConn};
use crate::engine::{Batch, EngineOptions, Outcome, run_calls};
use crate::store::{Store, StoreError, StoreResult};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Read connections per kept-open one that may be opened under load.
const READERS_BURST: usize = 4;
/// Writer threads, each with its connection, sharing the job queue. With
/// the keys read ahead and string writes deferred, a batch costs about two
/// round trips whatever its size, so one writer gathering every waiting job
/// beats several splitting them (measured: 2 to 3 times the throughput on
/// 2 cores, and no convoy on a hot key). More may still suit a big server.
const WRITERS: usize = 1;
/// Threads running the fast reads of many clients together (see
/// [`Combined`]). Fewer threads make bigger groups; two keep a second
/// statement in flight.
const READ_THREADS: usize = 2;
/// Least time between two attempts to reconnect the writer.
const RECONNECT_EVERY: Duration = Duration::from_millis(250);

struct Opened {
    pub writers: Vec<Writer>,
    pub reads: Arc<dyn Reads>,
}

/// A PostgreSQL database (a schema of it), shared by every redsql process
/// on it: its writers, its read pool, its message bus (LISTEN/NOTIFY) and
/// its shared ACL users.
pub(crate) struct PgBackend {
    pub settings: PgSettings,
}

impl Backend for PgBackend {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn open(self: Box<Self>, opts: &EngineOptions, start: &mut Start) -> StoreResult<Started> {
        let opened = open(self.settings.clone(), opts.durability, opts.readers)?;
        for w in opened.writers {
            start.writer(w, false)?;
        }
        let settings = self.settings.clone();
        Ok(Started {
            reads: Some(opened.reads),
            store_watches: true,
            bus: Some(Box::new(move |on| {
                let notifier = Notifier::start(&settings, move |incoming| {
                    on(match incoming {
                        Incoming::Message(m) => BusIncoming::Message(m),
                        Incoming::Reconnected => BusIncoming::Reconnected,
                    })
                });
                Arc::new(PgBus(notifier)) as Arc<dyn Bus>
            })),
            users: Some(Arc::new(SharedUsers::new(&self.settings))),
            ..Started::default()
        })
    }
}

/// The store's LISTEN/NOTIFY channel as the engine's bus.
struct PgBus(Notifier);

impl Bus for PgBus {
    fn id(&self) -> &str {
        self.0.id()
    }

    fn send(&self, message: Vec<u8>) {
        self.0.send(message)
    }
}

/// Connects (creating or migrating the schema), opens the read pool. Any
/// problem with the server, the credentials or the database shows here, as
/// one line.
fn open(settings: PgSettings, sync: Durability, readers: usize) -> StoreResult<Opened> {
    let mut writers = Vec::new();
    for i in 0..WRITERS {
        let mut conn = match i {
            0 => PgConn::open_migrating(&settings)?,
            _ => PgConn::open(&settings)?,
        };
        // The writer registers and ends this process's WATCHes of missing
        // keys; its connection's lock tells the others the process lives.
        conn.own_watches()?;
        if sync == Durability::Off {
            // `appendfsync no`: commits return before their WAL reaches disk.
            conn.set_session("SET synchronous_commit TO off")?;
        }
        writers.push(Writer {
            conn,
            last_attempt: None,
            in_tx: false,
        });
    }
    let readers = readers.max(1);
    let mut idle = Vec::new();
    for _ in 0..readers {
        idle.push(Reader(PgConn::open(&settings)?));
    }
    let s = settings.clone();
    let open = Box::new(move || PgConn::open(&s).map(Reader));
    let threads = READ_THREADS;
    let pool = Pool::new(idle, open, Some(readers * READERS_BURST), false);
    let reads: Arc<dyn Reads> = Arc::new(Combined::start(pool, threads)?);
    Ok(Opened { writers, reads })
}

struct Writer {
    conn: PgConn,
    /// When the last reconnection was tried (they are rate-limited).
    last_attempt: Option<Instant>,
    in_tx: bool,
}

impl WriteConn for Writer {
    const LOCKS_KEYS: bool = true;

    fn begin(&mut self, keys: &[&[u8]]) -> StoreResult<()> {
        self.begin_in(&[], keys)
    }

    /// BEGIN, the key locks, and the key rows read ahead in one round trip.
    ///
    /// If a statement after BEGIN fails (a key lock wait ended by a deadlock,
    /// a timeout or a cancel), the transaction is open and aborted on the
    /// server: it is rolled back here, or every later statement on this
    /// connection would fail with "current transaction is aborted".
    fn begin_in(&mut self, dbs: &[u32], keys: &[&[u8]]) -> StoreResult<()> {
        self.conn.fault = PgFault::None;
        self.in_tx = true;
        if let Err(e) = self.conn.begin_prefetching(dbs, keys) {
            self.rollback();
            return Err(e);
        }
        Ok(())
    }

    fn commit(&mut self) -> StoreResult<()> {
        self.in_tx = false;
        let r = self.conn.commit_deferred();
        self.conn.forget_transaction();
        if r.is_err() {
            // The transaction is still open (aborted) on the server.
            self.in_tx = true;
        }
        r
    }

    fn rollback(&mut self) {
        self.conn.forget_transaction();
        if std::mem::take(&mut self.in_tx) && !self.conn.is_closed() {
            let fault = self.conn.fault;
            let _ = self.conn.batch("ROLLBACK");
            self.conn.fault = fault;
        }
    }

    fn with_store<R>(&mut self, now: i64, f: impl FnOnce(&mut dyn Store) -> R) -> R {
        f(&mut PgStore::writer(&mut self.conn, now))
    }

    fn fault(&mut self) -> Fault {
        if self.conn.is_closed() {
            return Fault::Lost;
        }
        match self.conn.fault {
            PgFault::Retry => Fault::Retry,
            PgFault::Lost => Fault::Lost,
            PgFault::None | PgFault::Other => Fault::Other,
        }
    }

    fn ensure_connected(&mut self) -> StoreResult<()> {
        if !self.conn.is_closed() && self.conn.fault != PgFault::Lost {
            return Ok(());
        }
        if self.last_attempt.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
            return Err(StoreError("connection to the database lost; reconnecting".into()));
        }
        self.last_attempt = Some(Instant::now());
        self.conn.reconnect()?;
        self.last_attempt = None;
        self.in_tx = false;
        crate::log::notice("reconnected to PostgreSQL");
        Ok(())
    }
}

/// A read connection: autocommit for one command, a REPEATABLE READ
/// transaction for a consistent snapshot across several.
struct Reader(PgConn);

impl Reader {
    fn read_on<R>(conn: &mut PgConn, now: i64, snapshot: bool, f: impl FnOnce(&mut dyn Store) -> R) -> StoreResult<R> {
        if snapshot {
            conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        }
        let out = f(&mut PgStore::reader(conn, now));
        if snapshot {
            conn.batch("COMMIT")?;
        }
        Ok(out)
    }
}

impl ReadConn for Reader {
    fn read<R>(&mut self, now: i64, snapshot: bool, f: impl FnOnce(&mut dyn Store) -> R) -> StoreResult<R> {
        Reader::read_on(&mut self.0, now, snapshot, f)
    }

    fn broken(&self) -> bool {
        self.0.is_closed() || self.0.fault == PgFault::Lost
    }

    /// Reads the keys of all `batches` in one statement, then runs each
    /// against those rows. A batch of one command needs no more than that
    /// (it may still query what was not read ahead, as it would alone). A
    /// batch of several must see one snapshot: it runs from the rows read
    /// ahead alone, and if it needs anything else it runs again, alone, in a
    /// transaction of its own.
    fn read_together(&mut self, now: i64, batches: &[&Batch], databases: u32) -> StoreResult<Vec<Outcome>> {
        let mut keys: Vec<KeyRef> = Vec::new();
        for b in batches {
            for c in &b.calls {
                if let Some(positions) = c.cmd.keys(&c.args) {
                    keys.extend(positions.into_iter().map(|i| (b.db, &c.args[i][..])));
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let result = run_read_ahead(&mut self.0, now, &keys, batches, databases);
        self.0.cache.clear();
        self.0.strict = false;
        result
    }
}

/// [`Reader::read_together`] once the keys are known.
fn run_read_ahead(
    conn: &mut PgConn,
    now: i64,
    keys: &[KeyRef],
    batches: &[&Batch],
    databases: u32,
) -> StoreResult<Vec<Outcome>> {
    conn.prefetch(keys)?;
    let mut outcomes = Vec::with_capacity(batches.len());
    for b in batches {
        let snapshot = b.calls.len() > 1;
        conn.strict = snapshot;
        conn.missed = false;
        let out = run_calls(b, databases, &mut PgStore::reader(conn, now));
        conn.strict = false;
        if conn.is_closed() || conn.fault == PgFault::Lost {
            return Err(StoreError("connection to the database lost".into()));
        }
        if conn.missed {
            let cache = std::mem::take(&mut conn.cache);
            let again = Reader::read_on(conn, now, true, |store| run_calls(b, databases, store));
            conn.cache = cache;
            outcomes.push(again?);
        } else {
            outcomes.push(out);
        }
    }
    Ok(outcomes)
}
