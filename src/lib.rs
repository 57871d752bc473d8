//! redsql: Redis, re-implemented on SQL.
//!
//! The same engine serves Redis clients over RESP (the `redsql` binary) and
//! Rust programs in-process through [`Db`]:
//!
//! ```
//! let db = redsql::Db::open(":memory:")?;
//! db.strings().set(b"greeting", b"hello")?;
//! assert_eq!(db.strings().get(b"greeting")?.as_deref(), Some(&b"hello"[..]));
//! # Ok::<(), redsql::Error>(())
//! ```
//!
//! Data lives in SQLite (a file, or `:memory:`), readable with plain SQL
//! through the views `vkey`, `vstring`, ... (see `docs/schema.md`).

pub mod api;
pub mod backend;
pub mod commands;
mod db;
pub mod engine;
pub mod glob;
pub mod log;
pub mod rdb;
pub mod resp;
pub mod server;
pub mod store;
pub mod util;

pub use api::{
    ExpireCondition, Geo, Hashes, Hll, KeyExpiry, Keys, Lists, Scan, ScanOptions, Sets, Streams, Strings, ZSets,
};
pub use db::{Db, Durability, Error, Options, Transaction};

/// The Redis version whose behaviour redsql reproduces (what INFO and HELLO report).
pub const REDIS_VERSION: &str = "7.0.15";
