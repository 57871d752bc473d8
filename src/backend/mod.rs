//! Storage backends: each implements [`crate::store::Store`] with its own SQL.

pub mod sqlite;
