//! [`ZSets`]: sorted set commands.

use crate::Db;

/// Typed access to sorted set commands. Get one from [`Db::zsets`].
pub struct ZSets<'a> {
    #[allow(dead_code)] // used as the methods land
    db: &'a Db,
}

impl Db {
    /// Sorted set commands.
    pub fn zsets(&self) -> ZSets<'_> {
        ZSets { db: self }
    }
}
