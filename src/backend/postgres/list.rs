//! [`ListStore`] on PostgreSQL (table `rlist`, see schema.sql).

use super::PgStore;
use crate::store::ListStore;

impl ListStore for PgStore<'_> {}
