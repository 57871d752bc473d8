//! Storage operations for lists (see the conventions on [`super::Store`]).

/// Operations on lists, addressed by key id.
pub trait ListStore {}
