//! [`Sets`]: set commands.

use crate::Db;

/// Typed access to set commands. Get one from [`Db::sets`].
pub struct Sets<'a> {
    #[allow(dead_code)] // used as the methods land
    db: &'a Db,
}

impl Db {
    /// Set commands.
    pub fn sets(&self) -> Sets<'_> {
        Sets { db: self }
    }
}
