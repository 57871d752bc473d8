//! The embedded library API: [`Db`] and its typed handles.

use crate::commands::{CmdError, Handler, lookup};
use crate::engine::{Batch, Call, Engine, EngineOptions};
use crate::resp::Reply;
use bytes::Bytes;
use std::fmt;

pub use crate::backend::sqlite::Sync;

/// Options for [`Db::open_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// A SQLite file path, `:memory:`, or a PostgreSQL URL
    /// (`postgres://user@host:port/dbname[?schema=name]`).
    pub location: String,
    /// Number of logical databases (Redis's `databases`, default 16).
    pub databases: u32,
    /// Durability of commits (default [`Sync::Normal`]: survives a crash of the process).
    pub sync: Sync,
    /// SQLite file databases: bytes of memory for string keys read recently
    /// (default 32 MiB; 0 turns the cache off).
    pub read_cache: usize,
}

impl Options {
    pub fn new(location: impl Into<String>) -> Options {
        Options {
            location: location.into(),
            databases: 16,
            sync: Sync::Normal,
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
        let engine = Engine::open(&EngineOptions {
            location: opts.location,
            databases: opts.databases,
            sync: opts.sync,
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
        self.run(args)
    }

    pub(crate) fn run(&self, args: Vec<Bytes>) -> Result<Reply, Error> {
        let Some(name) = args.first() else {
            return Err(Error::Redis("ERR empty command".into()));
        };
        let Some(mut cmd) = lookup(name) else {
            return Err(Error::Redis(format!(
                "ERR unknown command '{}'",
                String::from_utf8_lossy(name)
            )));
        };
        if !cmd.subcommands.is_empty()
            && args.len() >= 2
            && let Some(sub) = cmd.subcommands.get(&args[1].to_ascii_lowercase())
        {
            cmd = sub;
        }
        if !cmd.arity_ok(args.len()) {
            return Err(Error::Redis(format!(
                "ERR wrong number of arguments for '{}' command",
                cmd.name
            )));
        }
        if matches!(cmd.handler, Handler::Server) {
            return Err(Error::Redis(format!(
                "ERR '{}' is a server command, not available in the library",
                cmd.name
            )));
        }
        let batch = Batch {
            db: self.db,
            proto: 3,
            calls: vec![Call { cmd, args }],
        };
        let mut out = self.engine.run_blocking(batch);
        match out.replies.pop() {
            Some(Reply::Error(e)) => {
                let msg = String::from_utf8_lossy(&e).into_owned();
                if msg.starts_with("ERR storage error") {
                    Err(Error::Storage(msg))
                } else {
                    Err(Error::Redis(msg))
                }
            }
            Some(r) => Ok(r),
            None => Err(Error::Storage("no reply".into())),
        }
    }

    /// Runs a Lua script (EVAL) with these keys and arguments; the script
    /// runs atomically, inside one write transaction.
    pub fn eval<S: AsRef<[u8]>, K: AsRef<[u8]>, A: AsRef<[u8]>>(
        &self,
        script: S,
        keys: &[K],
        args: &[A],
    ) -> Result<Reply, Error> {
        self.run(script_call(b"EVAL", script.as_ref(), keys, args))
    }

    /// Calls a function of a loaded library (FCALL).
    pub fn fcall<N: AsRef<[u8]>, K: AsRef<[u8]>, A: AsRef<[u8]>>(
        &self,
        name: N,
        keys: &[K],
        args: &[A],
    ) -> Result<Reply, Error> {
        self.run(script_call(b"FCALL", name.as_ref(), keys, args))
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
