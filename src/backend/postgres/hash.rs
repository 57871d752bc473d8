//! [`HashStore`] on PostgreSQL (table `rhash`, see schema.sql).

use super::PgStore;
use crate::store::HashStore;

impl HashStore for PgStore<'_> {}
