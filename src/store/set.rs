//! Storage operations for sets (see the conventions on [`super::Store`]).

/// Operations on sets, addressed by key id.
pub trait SetStore {}
