//! [`Lists`]: list commands.

use crate::Db;

/// Typed access to list commands. Get one from [`Db::lists`].
pub struct Lists<'a> {
    #[allow(dead_code)] // used as the methods land
    db: &'a Db,
}

impl Db {
    /// List commands.
    pub fn lists(&self) -> Lists<'_> {
        Lists { db: self }
    }
}
