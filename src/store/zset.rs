//! Storage operations for sorted sets (see the conventions on [`super::Store`]).

/// Operations on sorted sets, addressed by key id.
pub trait ZSetStore {}
