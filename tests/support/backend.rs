//! The backends a test runs on, and [`backend_tests!`], which turns one test
//! function into one `#[test]` per backend.
//!
//! ```ignore
//! fn counts_match(backend: &Backend) {
//!     let server = backend.start("counts", &[]);
//!     // ... the same checks on every backend
//! }
//! support::backend_tests!(counts_match: sqlite, postgres);
//! ```
//!
//! makes the tests `counts_match::sqlite` and `counts_match::postgres`
//! (`cargo test counts_match::postgres` runs one). The PostgreSQL one needs
//! `REDSQL_TEST_POSTGRES_URL`; without it, it skips with a loud message.

use super::pg::{TestSchema, start_redsql_pg, url_or_skip};
use super::{Server, start_redsql};
use std::ops::Deref;

/// Where a test's data lives.
#[derive(Clone, Debug)]
pub enum Backend {
    /// SQLite, in a database file of a fresh directory (a server's default).
    Sqlite,
    /// SQLite in memory (`--db :memory:`; `Db::open(":memory:")`).
    Memory,
    /// PostgreSQL: a private schema on the test cluster at `base`
    /// (`REDSQL_TEST_POSTGRES_URL`), dropped after the test.
    Postgres { base: String },
}

impl Backend {
    /// The backend called `name` (`sqlite`, `memory`, `postgres`) for the test
    /// `test`; None, after a loud message naming `test`, for PostgreSQL when
    /// no test cluster is configured.
    pub fn named(name: &str, test: &str) -> Option<Backend> {
        match name {
            "sqlite" => Some(Backend::Sqlite),
            "memory" => Some(Backend::Memory),
            "postgres" => url_or_skip(test).map(|base| Backend::Postgres { base }),
            other => panic!("unknown backend {other:?} (sqlite, memory or postgres)"),
        }
    }

    /// Its name, as in the tests' names.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Memory => "memory",
            Backend::Postgres { .. } => "postgres",
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres { .. })
    }

    /// A fresh schema named after `tag` on PostgreSQL, None on SQLite.
    fn schema(&self, tag: &str) -> Option<TestSchema> {
        match self {
            Backend::Postgres { base } => Some(TestSchema::new(base, tag)),
            _ => None,
        }
    }

    /// Starts redsql on a free port with an empty store of this backend
    /// (`tag` names its PostgreSQL schema), plus any extra arguments.
    pub fn start(&self, tag: &str, extra: &[&str]) -> BackendServer {
        let schema = self.schema(tag);
        let server = match (self, &schema) {
            (Backend::Sqlite, _) => start_redsql(extra),
            (Backend::Memory, _) => {
                let mut args = vec!["--db", ":memory:"];
                args.extend_from_slice(extra);
                start_redsql(&args)
            }
            (Backend::Postgres { .. }, Some(schema)) => start_redsql_pg(&schema.url(), extra),
            (Backend::Postgres { .. }, None) => unreachable!("a PostgreSQL backend has a schema"),
        };
        BackendServer { server, schema }
    }

    /// Opens the library on an empty store of this backend (`tag` names its
    /// PostgreSQL schema). [`Backend::Sqlite`] is a file in a fresh directory.
    pub fn open(&self, tag: &str) -> TestDb {
        let schema = self.schema(tag);
        let db = match (self, &schema) {
            (Backend::Sqlite, _) => {
                let path = super::temp_dir(tag).join("db.sqlite");
                redsql::Db::open(&path.display().to_string()).expect("open SQLite")
            }
            (Backend::Memory, _) => redsql::Db::open(":memory:").expect("open SQLite in memory"),
            (Backend::Postgres { .. }, Some(schema)) => redsql::Db::open(&schema.url()).expect("open PostgreSQL"),
            (Backend::Postgres { .. }, None) => unreachable!("a PostgreSQL backend has a schema"),
        };
        TestDb { db, schema }
    }
}

/// A redsql server of [`Backend::start`]; its PostgreSQL schema, if any, is
/// dropped after the server is stopped.
pub struct BackendServer {
    // Dropped in this order: the process first, then its schema.
    pub server: Server,
    pub schema: Option<TestSchema>,
}

impl Deref for BackendServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl std::ops::DerefMut for BackendServer {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.server
    }
}

/// A library database of [`Backend::open`]; its PostgreSQL schema, if any,
/// is dropped after the database is closed.
pub struct TestDb {
    // Dropped in this order: the database first, then its schema.
    pub db: redsql::Db,
    pub schema: Option<TestSchema>,
}

impl Deref for TestDb {
    type Target = redsql::Db;
    fn deref(&self) -> &redsql::Db {
        &self.db
    }
}

/// `backend_tests!(name: sqlite, postgres; other: memory, postgres;)`: for
/// each function `fn name(backend: &Backend)`, a module `name` holding one
/// `#[test]` per backend listed (`sqlite`, `memory`, `postgres`), each
/// calling the function with that backend. See the module documentation.
macro_rules! backend_tests {
    ($($name:ident: $($backend:ident),+);+ $(;)?) => {
        $(
            mod $name {
                $(
                    #[test]
                    fn $backend() {
                        let test = concat!(stringify!($name), "::", stringify!($backend));
                        if let Some(backend) = $crate::support::backend::Backend::named(stringify!($backend), test) {
                            super::$name(&backend);
                        }
                    }
                )+
            }
        )+
    };
}
pub(crate) use backend_tests;
