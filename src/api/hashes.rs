//! [`Hashes`]: hash commands.

use crate::Db;

/// Typed access to hash commands. Get one from [`Db::hashes`].
pub struct Hashes<'a> {
    #[allow(dead_code)] // used as the methods land
    db: &'a Db,
}

impl Db {
    /// Hash commands.
    pub fn hashes(&self) -> Hashes<'_> {
        Hashes { db: self }
    }
}
