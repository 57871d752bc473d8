//! [`Keys`]: key-space commands.

use super::argv;
use crate::resp::Reply;
use crate::{Db, Error};

/// Typed access to key-space commands. Get one from [`Db::keys`].
pub struct Keys<'a> {
    db: &'a Db,
}

impl<'a> Keys<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Keys { db }
    }

    /// `DEL key [key ...]`: how many keys were removed.
    pub fn del(&self, keys: &[&[u8]]) -> Result<i64, Error> {
        let mut parts: Vec<&[u8]> = vec![b"DEL"];
        parts.extend_from_slice(keys);
        match self.db.run(argv(&parts))? {
            Reply::Int(n) => Ok(n),
            other => Err(Error::Redis(format!("unexpected reply {other:?}"))),
        }
    }

    /// `EXISTS key`
    pub fn exists(&self, key: &[u8]) -> Result<bool, Error> {
        Ok(matches!(self.db.run(argv(&[b"EXISTS", key]))?, Reply::Int(n) if n > 0))
    }
}
