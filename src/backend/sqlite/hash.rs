//! [`HashStore`] on SQLite (table `rhash`, see schema.sql).

use super::SqliteStore;
use crate::store::HashStore;

impl HashStore for SqliteStore<'_> {}
