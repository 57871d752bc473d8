//! [`Hll`]: HyperLogLog commands.

use super::Runner;
use super::argv;
use super::reply::{int, unexpected};
use crate::resp::Reply;
use crate::{Db, Error};

/// Typed access to HyperLogLog commands. Get one from [`Db::hll`].
///
/// An HLL is a string value in Redis's format (`strings().get` reads its bytes).
pub struct Hll<'a> {
    db: &'a dyn Runner,
}

impl Db {
    /// HyperLogLog commands.
    pub fn hll(&self) -> Hll<'_> {
        Hll::new(self)
    }
}

impl<'a> Hll<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Hll { db }
    }
}

fn command<'a>(name: &'a [u8], first: &'a [u8], rest: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut parts = vec![name, first];
    parts.extend_from_slice(rest);
    parts
}

impl Hll<'_> {
    /// `PFADD key [element ...]`: whether the estimate may have changed
    /// (true as well when the key was created).
    pub fn pfadd(&self, key: &[u8], elements: &[&[u8]]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&command(b"PFADD", key, elements)))?)? == 1)
    }

    /// `PFCOUNT key [key ...]`: the estimated cardinality (of the union,
    /// for several keys).
    pub fn pfcount(&self, keys: &[&[u8]]) -> Result<i64, Error> {
        let mut parts: Vec<&[u8]> = vec![b"PFCOUNT"];
        parts.extend_from_slice(keys);
        int(self.db.run(argv(&parts))?)
    }

    /// `PFMERGE destkey [sourcekey ...]`: the union into `destkey`.
    pub fn pfmerge(&self, dest: &[u8], sources: &[&[u8]]) -> Result<(), Error> {
        match self.db.run(argv(&command(b"PFMERGE", dest, sources)))? {
            Reply::Status(_) => Ok(()),
            other => unexpected(other),
        }
    }
}
