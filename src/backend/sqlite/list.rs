//! [`ListStore`] on SQLite (table `rlist`, see schema.sql).

use super::SqliteStore;
use crate::store::ListStore;

impl ListStore for SqliteStore<'_> {}
