//! The embedded library API: [`Db`] and its typed handles.

use crate::commands::CmdError;
use crate::engine::{Batch, Call, Engine, EngineOptions};
use crate::engine::{Tx, TxFn};
use crate::resp::Reply;
use crate::store::StoreError;
use bytes::Bytes;
use std::cell::RefCell;
use std::fmt;

pub use crate::engine::Durability;

/// Options for [`Db::open_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// A SQLite file path, `:memory:`, or a PostgreSQL URL
    /// (`postgres://user@host:port/dbname[?schema=name]`).
    pub location: String,
    /// Number of logical databases (Redis's `databases`, default 16).
    pub databases: u32,
    /// Durability of commits (default [`Durability::Normal`]: survives a crash of the process).
    pub durability: Durability,
    /// SQLite file databases: bytes of memory for string keys read recently
    /// (default 32 MiB; 0 turns the cache off).
    pub read_cache: usize,
}

impl Options {
    pub fn new(location: impl Into<String>) -> Options {
        Options {
            location: location.into(),
            databases: 16,
            durability: Durability::Normal,
            read_cache: crate::engine::DEFAULT_READ_CACHE,
        }
    }
}

/// An error from the library API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The command failed the way Redis would fail it; the text is Redis's
    /// error reply (`"WRONGTYPE Operation against ..."`).
    Redis(String),
    /// The database could not be opened or written.
    Storage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Redis(m) | Error::Storage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<CmdError> for Error {
    fn from(e: CmdError) -> Self {
        match e {
            CmdError::Reply(m) => Error::Redis(m),
            CmdError::WrongType => Error::Redis(crate::commands::WRONGTYPE.into()),
            CmdError::Store(e) => Error::Storage(e.0),
        }
    }
}

/// An open redsql database: Redis data structures stored in SQL, in-process.
///
/// `Db` is cheap to clone and safe to share between threads; writes from all
/// clones are group-committed by one writer thread. Do not call it from inside
/// an async task (it blocks); use `tokio::task::spawn_blocking` there.
#[derive(Clone)]
pub struct Db {
    engine: Engine,
    db: u32,
}

impl Db {
    /// Opens (or creates) a database: a SQLite file path, `":memory:"`, or a
    /// PostgreSQL URL (`"postgres://user@host:port/dbname?schema=name"`).
    pub fn open(location: &str) -> Result<Db, Error> {
        Db::open_with(Options::new(location))
    }

    /// Opens a database with explicit options.
    pub fn open_with(opts: Options) -> Result<Db, Error> {
        let engine = crate::backend::open(&EngineOptions {
            location: opts.location,
            databases: opts.databases,
            durability: opts.durability,
            read_cache: opts.read_cache,
            ..EngineOptions::default()
        })
        .map_err(|e| Error::Storage(e.0))?;
        Ok(Db { engine, db: 0 })
    }

    /// Wraps an engine that is already running (the server shares its engine this way).
    pub fn from_engine(engine: Engine) -> Db {
        Db { engine, db: 0 }
    }

    /// A handle on logical database `index` (like `SELECT index`), sharing the storage.
    pub fn select(&self, index: u32) -> Result<Db, Error> {
        if index >= self.engine.databases() {
            return Err(Error::Redis("ERR DB index is out of range".into()));
        }
        Ok(Db {
            engine: self.engine.clone(),
            db: index,
        })
    }

    /// The logical database this handle works on.
    pub fn index(&self) -> u32 {
        self.db
    }

    /// Runs any implemented Redis command, e.g. `db.command(&["SET", "k", "v"])`,
    /// and returns its reply. Errors replies come back as [`Error::Redis`].
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Reply, Error> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_ref())).collect();
        self.run_args(args)
    }

    pub(crate) fn run_args(&self, args: Vec<Bytes>) -> Result<Reply, Error> {
        let cmd = crate::commands::table::check(crate::commands::table::table(), &args)
            .map_err(|e| Error::Redis(e.error_text()))?;
        let batch = Batch {
            db: self.db,
            proto: 3,
            calls: vec![Call { cmd, args }],
            keys_restricted: false,
            acl: None,
        };
        let mut out = self.engine.run_blocking(batch);
        match out.replies.pop() {
            Some(Reply::Error(e)) => {
                let msg = String::from_utf8_lossy(&e).into_owned();
                if out.storage_failed {
                    Err(Error::Storage(msg))
                } else {
                    Err(Error::Redis(msg))
                }
            }
            Some(r) => Ok(r),
            None => Err(Error::Storage("no reply".into())),
        }
    }

    /// Runs `f` as one transaction: atomic (all of it or nothing) and
    /// isolated (no other client's command runs in between), on every
    /// backend. Inside, the handles of `tx` run their commands in the
    /// transaction:
    ///
    /// ```
    /// # let db = redsql::Db::open(":memory:").unwrap();
    /// let n = db.transaction(|tx| {
    ///     let n = tx.strings().incr(b"counter")?;
    ///     tx.lists().rpush(b"log", &[n.to_string().as_bytes()])?;
    ///     Ok(n)
    /// })?;
    /// # assert_eq!(n, 1);
    /// # Ok::<(), redsql::Error>(())
    /// ```
    ///
    /// * Returning `Err` rolls back everything `f` did, and is the result.
    ///   A Redis error reply of one command (WRONGTYPE, ...) is an `Err`
    ///   only if `f` passes it on (with `?`).
    /// * `f` may run more than once (on PostgreSQL, a transaction that lost
    ///   a race with another instance runs again), so it should do nothing
    ///   but its database work; its value is that of the run that committed.
    /// * `f` runs on the writer: use only `tx` inside it, never this `Db`
    ///   (a write through it would wait for the writer, forever).
    pub fn transaction<R, F>(&self, f: F) -> Result<R, Error>
    where
        F: FnMut(&Transaction<'_, '_, '_>) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
    {
        let mut f = f;
        let job: TxFn = Box::new(move |tx| {
            let t = Transaction { tx: RefCell::new(tx) };
            match f(&t) {
                Ok(v) => Ok(Box::new(v)),
                Err(Error::Redis(m)) => Err(CmdError::Reply(m)),
                Err(Error::Storage(m)) => Err(CmdError::Store(StoreError(m))),
            }
        });
        let value = self.engine.transaction_blocking(self.db, 3, job)?;
        value
            .downcast::<R>()
            .map(|v| *v)
            .map_err(|_| Error::Storage("internal error: a transaction's value has another type".into()))
    }

    /// Runs a Lua script (EVAL) with these keys and arguments; the script
    /// runs atomically, inside one write transaction.
    pub fn eval<S: AsRef<[u8]>, K: AsRef<[u8]>, A: AsRef<[u8]>>(
        &self,
        script: S,
        keys: &[K],
        args: &[A],
    ) -> Result<Reply, Error> {
        self.run_args(script_call(b"EVAL", script.as_ref(), keys, args))
    }

    /// Calls a function of a loaded library (FCALL).
    pub fn fcall<N: AsRef<[u8]>, K: AsRef<[u8]>, A: AsRef<[u8]>>(
        &self,
        name: N,
        keys: &[K],
        args: &[A],
    ) -> Result<Reply, Error> {
        self.run_args(script_call(b"FCALL", name.as_ref(), keys, args))
    }

    /// String and bitmap commands.
    pub fn strings(&self) -> crate::api::Strings<'_> {
        crate::api::Strings::new(self)
    }

    /// Key-space commands (expiry, rename, scan, ...).
    pub fn keys(&self) -> crate::api::Keys<'_> {
        crate::api::Keys::new(self)
    }
}

impl crate::api::Runner for Db {
    fn run(&self, args: Vec<Bytes>) -> Result<Reply, Error> {
        self.run_args(args)
    }
}

/// A transaction in progress (see [`Db::transaction`]): the same typed
/// handles as [`Db`], running their commands inside it.
pub struct Transaction<'a, 'c, 's> {
    tx: RefCell<&'a mut Tx<'c, 's>>,
}

impl Transaction<'_, '_, '_> {
    /// Runs any implemented Redis command in the transaction.
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Reply, Error> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_ref())).collect();
        crate::api::Runner::run(self, args)
    }

    /// String and bitmap commands.
    pub fn strings(&self) -> crate::api::Strings<'_> {
        crate::api::Strings::new(self)
    }

    /// Key-space commands (expiry, rename, scan, ...).
    pub fn keys(&self) -> crate::api::Keys<'_> {
        crate::api::Keys::new(self)
    }

    /// List commands.
    pub fn lists(&self) -> crate::api::Lists<'_> {
        crate::api::Lists::new(self)
    }

    /// Hash commands.
    pub fn hashes(&self) -> crate::api::Hashes<'_> {
        crate::api::Hashes::new(self)
    }

    /// Set commands.
    pub fn sets(&self) -> crate::api::Sets<'_> {
        crate::api::Sets::new(self)
    }

    /// Sorted-set commands.
    pub fn zsets(&self) -> crate::api::ZSets<'_> {
        crate::api::ZSets::new(self)
    }

    /// HyperLogLog commands.
    pub fn hll(&self) -> crate::api::Hll<'_> {
        crate::api::Hll::new(self)
    }

    /// Geospatial commands.
    pub fn geo(&self) -> crate::api::Geo<'_> {
        crate::api::Geo::new(self)
    }

    /// Stream commands.
    pub fn streams(&self) -> crate::api::Streams<'_> {
        crate::api::Streams::new(self)
    }
}

impl crate::api::Runner for Transaction<'_, '_, '_> {
    fn run(&self, args: Vec<Bytes>) -> Result<Reply, Error> {
        let mut tx = self.tx.borrow_mut();
        match tx.command(args) {
            Ok(reply) => Ok(reply),
            Err(e) => Err(e.into()),
        }
    }
}

/// `COMMAND script-or-name numkeys keys... args...` (EVAL, FCALL).
fn script_call<K: AsRef<[u8]>, A: AsRef<[u8]>>(command: &[u8], target: &[u8], keys: &[K], args: &[A]) -> Vec<Bytes> {
    let mut argv = vec![
        Bytes::copy_from_slice(command),
        Bytes::copy_from_slice(target),
        Bytes::from(keys.len().to_string()),
    ];
    argv.extend(keys.iter().map(|k| Bytes::copy_from_slice(k.as_ref())));
    argv.extend(args.iter().map(|a| Bytes::copy_from_slice(a.as_ref())));
    argv
}
