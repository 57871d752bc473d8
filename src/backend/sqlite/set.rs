//! [`SetStore`] on SQLite (table `rset`, see schema.sql).

use super::SqliteStore;
use crate::store::SetStore;

impl SetStore for SqliteStore<'_> {}
