//! [`Strings`]: string and bitmap commands.

use super::argv;
use crate::resp::Reply;
use crate::{Db, Error};
use bytes::Bytes;

/// Typed access to string commands. Get one from [`Db::strings`].
pub struct Strings<'a> {
    db: &'a Db,
}

impl<'a> Strings<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Strings { db }
    }

    /// `GET key`: the value, or `None` if the key does not exist.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        match self.db.run(argv(&[b"GET", key]))? {
            Reply::Bulk(b) => Ok(Some(b)),
            _ => Ok(None),
        }
    }

    /// `SET key value`
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.db.run(argv(&[b"SET", key, value]))?;
        Ok(())
    }
}
