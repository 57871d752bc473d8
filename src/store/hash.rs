//! Storage operations for hashes (see the conventions on [`super::Store`]).

/// Operations on hashes, addressed by key id.
pub trait HashStore {}
