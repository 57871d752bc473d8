//! [`ZSetStore`] on SQLite (table `rzset`, see schema.sql).

use super::SqliteStore;
use crate::store::ZSetStore;

impl ZSetStore for SqliteStore<'_> {}
