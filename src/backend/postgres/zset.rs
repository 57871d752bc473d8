//! [`ZSetStore`] on PostgreSQL (table `rzset`, see schema.sql).

use super::PgStore;
use crate::store::ZSetStore;

impl ZSetStore for PgStore<'_> {}
