//! Storage backends: each implements [`crate::store::Store`] with its own SQL
//! (`sqlite`: a file or `:memory:`; `postgres`: a shared PostgreSQL database),
//! and the engine's [`Backend`] with its connections.

pub mod postgres;
pub mod sqlite;

use crate::engine::{Backend, Engine, EngineOptions};
use crate::store::StoreError;

/// True for a PostgreSQL URL (`postgres://...` or `postgresql://...`).
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `location` fit to print: a PostgreSQL URL loses its password.
pub fn display_location(location: &str) -> String {
    if is_postgres_url(location) {
        postgres::redact_url(location)
    } else {
        location.to_string()
    }
}

/// The backend for `location`: a PostgreSQL URL, or a SQLite path
/// (`:memory:`, a file, `sqlite://file`).
pub(crate) fn for_location(location: &str) -> Result<Box<dyn Backend>, StoreError> {
    if is_postgres_url(location) {
        let settings = postgres::PgSettings::parse(location)?;
        return Ok(Box::new(postgres::engine::PgBackend { settings }));
    }
    Ok(Box::new(sqlite::engine::SqliteBackend {
        location: sqlite::Location::parse(location),
    }))
}

/// Opens the store at `opts.location` and starts the engine on it.
pub fn open(opts: &EngineOptions) -> Result<Engine, StoreError> {
    let display = match opts.location.as_str() {
        "" => ":memory:".to_string(),
        l => display_location(l.trim_start_matches("sqlite://")),
    };
    Engine::start(for_location(&opts.location)?, display, opts)
}
