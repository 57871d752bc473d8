//! Storage backends: each implements [`crate::store::Store`] with its own SQL
//! (`sqlite`: a file or `:memory:`; `postgres`: a shared PostgreSQL database).

pub mod postgres;
pub mod sqlite;
