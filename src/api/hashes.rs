//! [`Hashes`]: hash commands.

use super::Runner;
use super::argv;
use super::reply::{array, bulk, bulks, int, optional, unexpected};
use crate::resp::Reply;
use crate::{Db, Error};
use bytes::Bytes;

/// Typed access to hash commands. Get one from [`Db::hashes`].
///
/// Fields and values are binary-safe byte strings. Whole-hash results
/// (`hgetall`, `hkeys`, `hvals`) come back in no particular order.
pub struct Hashes<'a> {
    db: &'a dyn Runner,
}

impl Db {
    /// Hash commands.
    pub fn hashes(&self) -> Hashes<'_> {
        Hashes::new(self)
    }
}

impl<'a> Hashes<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Hashes { db }
    }
}

/// Field/value pairs from a map, an array of pairs, or a flat array.
fn pairs(reply: Reply) -> Result<Vec<(Bytes, Bytes)>, Error> {
    match reply {
        Reply::Map(pairs) => pairs.into_iter().map(|(f, v)| Ok((bulk(f)?, bulk(v)?))).collect(),
        other => {
            let mut out = Vec::new();
            let mut flat = array(other)?.into_iter();
            while let Some(item) = flat.next() {
                match item {
                    Reply::Array(pair) => {
                        let mut pair = pair.into_iter();
                        let (Some(f), Some(v)) = (pair.next(), pair.next()) else {
                            return Err(Error::Redis("unexpected reply: short pair".into()));
                        };
                        out.push((bulk(f)?, bulk(v)?));
                    }
                    field => {
                        let value = flat.next().map_or_else(|| unexpected(Reply::Nil), bulk)?;
                        out.push((bulk(field)?, value));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// `name key` followed by `rest`.
fn command(name: &[u8], key: &[u8], rest: &[&[u8]]) -> Vec<Bytes> {
    let mut parts: Vec<&[u8]> = vec![name, key];
    parts.extend_from_slice(rest);
    argv(&parts)
}

impl Hashes<'_> {
    /// `HSET key field value [field value ...]`: how many fields were new.
    pub fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<i64, Error> {
        let flat: Vec<&[u8]> = pairs.iter().flat_map(|&(f, v)| [f, v]).collect();
        int(self.db.run(command(b"HSET", key, &flat))?)
    }

    /// `HSETNX key field value`: true if the field was set (it did not exist).
    pub fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"HSETNX", key, field, value]))?)? == 1)
    }

    /// `HGET key field`
    pub fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.db.run(argv(&[b"HGET", key, field]))?)
    }

    /// `HMGET key field [field ...]`: one value (or `None`) per field, in order.
    pub fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Bytes>>, Error> {
        array(self.db.run(command(b"HMGET", key, fields))?)?
            .into_iter()
            .map(optional)
            .collect()
    }

    /// `HDEL key field [field ...]`: how many fields were removed.
    pub fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<i64, Error> {
        int(self.db.run(command(b"HDEL", key, fields))?)
    }

    /// `HEXISTS key field`
    pub fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"HEXISTS", key, field]))?)? == 1)
    }

    /// `HLEN key`: the number of fields (0 if the key is missing).
    pub fn hlen(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.db.run(argv(&[b"HLEN", key]))?)
    }

    /// `HSTRLEN key field`: the length of the value (0 if missing).
    pub fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<i64, Error> {
        int(self.db.run(argv(&[b"HSTRLEN", key, field]))?)
    }

    /// `HKEYS key`
    pub fn hkeys(&self, key: &[u8]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(argv(&[b"HKEYS", key]))?)
    }

    /// `HVALS key`
    pub fn hvals(&self, key: &[u8]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(argv(&[b"HVALS", key]))?)
    }

    /// `HGETALL key`: every field and its value.
    pub fn hgetall(&self, key: &[u8]) -> Result<Vec<(Bytes, Bytes)>, Error> {
        pairs(self.db.run(argv(&[b"HGETALL", key]))?)
    }

    /// `HINCRBY key field increment`: the new value.
    pub fn hincrby(&self, key: &[u8], field: &[u8], increment: i64) -> Result<i64, Error> {
        let incr = increment.to_string();
        int(self.db.run(argv(&[b"HINCRBY", key, field, incr.as_bytes()]))?)
    }

    /// `HINCRBYFLOAT key field increment`: the new value exactly as Redis
    /// prints and stores it (e.g. `"3.3"`). The increment is given as text so
    /// that any value Redis accepts (`"1e-3"`, `"0x10"`) can be passed.
    pub fn hincrbyfloat(&self, key: &[u8], field: &[u8], increment: &[u8]) -> Result<Bytes, Error> {
        bulk(self.db.run(argv(&[b"HINCRBYFLOAT", key, field, increment]))?)
    }

    /// `HRANDFIELD key`: a random field, `None` if the key is missing.
    pub fn hrandfield(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.db.run(argv(&[b"HRANDFIELD", key]))?)
    }

    /// `HRANDFIELD key count`: up to `count` distinct fields if `count` is
    /// positive, exactly `-count` fields (possibly repeated) if negative.
    pub fn hrandfield_count(&self, key: &[u8], count: i64) -> Result<Vec<Bytes>, Error> {
        let count = count.to_string();
        bulks(self.db.run(argv(&[b"HRANDFIELD", key, count.as_bytes()]))?)
    }

    /// `HRANDFIELD key count WITHVALUES`: like [`Hashes::hrandfield_count`], with values.
    pub fn hrandfield_with_values(&self, key: &[u8], count: i64) -> Result<Vec<(Bytes, Bytes)>, Error> {
        let count = count.to_string();
        pairs(
            self.db
                .run(argv(&[b"HRANDFIELD", key, count.as_bytes(), b"WITHVALUES"]))?,
        )
    }

    /// `HSCAN key cursor [MATCH pattern] [COUNT count]`: the next cursor (0
    /// when the scan is complete) and a page of field/value pairs.
    pub fn hscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: Option<usize>,
    ) -> Result<(u64, Vec<(Bytes, Bytes)>), Error> {
        let cursor = cursor.to_string();
        let count = count.map(|c| c.to_string());
        let mut rest: Vec<&[u8]> = vec![cursor.as_bytes()];
        if let Some(p) = pattern {
            rest.extend([&b"MATCH"[..], p]);
        }
        if let Some(c) = &count {
            rest.extend([&b"COUNT"[..], c.as_bytes()]);
        }
        let mut reply = array(self.db.run(command(b"HSCAN", key, &rest))?)?.into_iter();
        let (Some(next), Some(items)) = (reply.next(), reply.next()) else {
            return Err(Error::Redis("unexpected reply: short HSCAN reply".into()));
        };
        let next = std::str::from_utf8(&bulk(next)?)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Redis("unexpected reply: bad cursor".into()))?;
        Ok((next, pairs(items)?))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Db, Error};
    use bytes::Bytes;

    fn sorted(mut v: Vec<(Bytes, Bytes)>) -> Vec<(Bytes, Bytes)> {
        v.sort();
        v
    }

    #[test]
    fn typed_hash_api() {
        let db = Db::open(":memory:").unwrap();
        let h = db.hashes();
        assert_eq!(h.hset(b"h", &[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]).unwrap(), 2);
        assert_eq!(h.hget(b"h", b"a").unwrap().as_deref(), Some(&b"3"[..]));
        assert_eq!(h.hget(b"h", b"zz").unwrap(), None);
        assert!(h.hsetnx(b"h", b"c", b"\x00").unwrap());
        assert!(!h.hsetnx(b"h", b"c", b"x").unwrap());
        assert_eq!(h.hlen(b"h").unwrap(), 3);
        assert_eq!(h.hstrlen(b"h", b"c").unwrap(), 1);
        assert!(h.hexists(b"h", b"b").unwrap());
        assert_eq!(
            h.hmget(b"h", &[b"a", b"nope"]).unwrap(),
            vec![Some(Bytes::from("3")), None]
        );
        let all = sorted(h.hgetall(b"h").unwrap());
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], (Bytes::from("a"), Bytes::from("3")));
        let mut keys = h.hkeys(b"h").unwrap();
        keys.sort();
        assert_eq!(keys, vec![Bytes::from("a"), Bytes::from("b"), Bytes::from("c")]);
        assert_eq!(h.hvals(b"h").unwrap().len(), 3);
        assert_eq!(h.hincrby(b"h", b"n", 5).unwrap(), 5);
        assert_eq!(h.hincrby(b"h", b"n", -7).unwrap(), -2);
        assert_eq!(&h.hincrbyfloat(b"h", b"f", b"0.1").unwrap()[..], b"0.1");
        assert_eq!(&h.hincrbyfloat(b"h", b"f", b"0.2").unwrap()[..], b"0.3");
        assert_eq!(h.hincrby(b"h", b"m", i64::MAX).unwrap(), i64::MAX);
        assert!(matches!(h.hincrby(b"h", b"m", 1), Err(Error::Redis(m)) if m.contains("overflow")));
        assert!(h.hrandfield(b"h").unwrap().is_some());
        assert_eq!(h.hrandfield(b"missing").unwrap(), None);
        assert_eq!(h.hrandfield_count(b"h", 2).unwrap().len(), 2);
        assert_eq!(h.hrandfield_count(b"h", -9).unwrap().len(), 9);
        assert_eq!(h.hrandfield_with_values(b"h", 100).unwrap().len(), 6);
        let (cursor, page) = h.hscan(b"h", 0, Some(b"a"), None).unwrap();
        assert_eq!((cursor, page), (0, vec![(Bytes::from("a"), Bytes::from("3"))]));
        assert_eq!(h.hdel(b"h", &[b"a", b"b", b"zz"]).unwrap(), 2);
        db.strings().set(b"s", b"v").unwrap();
        assert!(matches!(h.hlen(b"s"), Err(Error::Redis(m)) if m.starts_with("WRONGTYPE")));
    }
}
