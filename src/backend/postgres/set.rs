//! [`SetStore`] on PostgreSQL (table `rset`, see schema.sql).

use super::PgStore;
use crate::store::SetStore;

impl SetStore for PgStore<'_> {}
