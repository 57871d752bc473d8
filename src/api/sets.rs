//! [`Sets`]: set commands.

use super::Runner;
use super::argv;
use super::reply::{bulks, int, optional, unexpected};
use crate::resp::Reply;
use crate::{Db, Error};
use bytes::Bytes;

/// Typed access to set commands. Get one from [`Db::sets`].
///
/// Members are binary-safe byte strings. Results that are sets in Redis come
/// back as `Vec<Bytes>` in no particular order.
pub struct Sets<'a> {
    db: &'a dyn Runner,
}

impl Db {
    /// Set commands.
    pub fn sets(&self) -> Sets<'_> {
        Sets::new(self)
    }
}

impl<'a> Sets<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Sets { db }
    }
}

/// `name` followed by `first` and then `rest`.
fn command(name: &[u8], first: &[&[u8]], rest: &[&[u8]]) -> Vec<Bytes> {
    let mut parts: Vec<&[u8]> = vec![name];
    parts.extend_from_slice(first);
    parts.extend_from_slice(rest);
    argv(&parts)
}

impl Sets<'_> {
    /// `SADD key member [member ...]`: how many members were new.
    pub fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<i64, Error> {
        int(self.db.run(command(b"SADD", &[key], members))?)
    }

    /// `SREM key member [member ...]`: how many members were removed.
    pub fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<i64, Error> {
        int(self.db.run(command(b"SREM", &[key], members))?)
    }

    /// `SISMEMBER key member`
    pub fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"SISMEMBER", key, member]))?)? == 1)
    }

    /// `SMISMEMBER key member [member ...]`: membership of each member, in order.
    pub fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>, Error> {
        match self.db.run(command(b"SMISMEMBER", &[key], members))? {
            Reply::Array(items) => items.into_iter().map(|r| int(r).map(|n| n == 1)).collect(),
            other => unexpected(other),
        }
    }

    /// `SMEMBERS key`: every member (empty if the key does not exist).
    pub fn smembers(&self, key: &[u8]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(argv(&[b"SMEMBERS", key]))?)
    }

    /// `SCARD key`: the number of members.
    pub fn scard(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.db.run(argv(&[b"SCARD", key]))?)
    }

    /// `SPOP key`: removes and returns a random member.
    pub fn spop(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.db.run(argv(&[b"SPOP", key]))?)
    }

    /// `SPOP key count`: removes and returns up to `count` distinct random members.
    pub fn spop_count(&self, key: &[u8], count: u64) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(argv(&[b"SPOP", key, count.to_string().as_bytes()]))?)
    }

    /// `SRANDMEMBER key`: a random member, not removed.
    pub fn srandmember(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.db.run(argv(&[b"SRANDMEMBER", key]))?)
    }

    /// `SRANDMEMBER key count`: up to `count` distinct members if `count > 0`,
    /// or exactly `-count` members with repetitions if `count < 0`.
    pub fn srandmember_count(&self, key: &[u8], count: i64) -> Result<Vec<Bytes>, Error> {
        bulks(
            self.db
                .run(argv(&[b"SRANDMEMBER", key, count.to_string().as_bytes()]))?,
        )
    }

    /// `SMOVE source destination member`: true if the member was moved.
    pub fn smove(&self, source: &[u8], destination: &[u8], member: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"SMOVE", source, destination, member]))?)? == 1)
    }

    /// `SINTER key [key ...]`: members of every set.
    pub fn sinter(&self, keys: &[&[u8]]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(command(b"SINTER", keys, &[]))?)
    }

    /// `SINTERCARD numkeys key [key ...] [LIMIT limit]`: the size of the
    /// intersection, counting no further than `limit` (0 = no limit).
    pub fn sintercard(&self, keys: &[&[u8]], limit: u64) -> Result<i64, Error> {
        let (n, limit) = (keys.len().to_string(), limit.to_string());
        int(self.db.run(command(
            b"SINTERCARD",
            &[n.as_bytes()],
            &[keys, &[b"LIMIT", limit.as_bytes()]].concat(),
        ))?)
    }

    /// `SINTERSTORE destination key [key ...]`: the size of the stored result.
    pub fn sinterstore(&self, destination: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.db.run(command(b"SINTERSTORE", &[destination], keys))?)
    }

    /// `SUNION key [key ...]`: members of any set.
    pub fn sunion(&self, keys: &[&[u8]]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(command(b"SUNION", keys, &[]))?)
    }

    /// `SUNIONSTORE destination key [key ...]`: the size of the stored result.
    pub fn sunionstore(&self, destination: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.db.run(command(b"SUNIONSTORE", &[destination], keys))?)
    }

    /// `SDIFF key [key ...]`: members of the first set that are in no other.
    pub fn sdiff(&self, keys: &[&[u8]]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(command(b"SDIFF", keys, &[]))?)
    }

    /// `SDIFFSTORE destination key [key ...]`: the size of the stored result.
    pub fn sdiffstore(&self, destination: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.db.run(command(b"SDIFFSTORE", &[destination], keys))?)
    }

    /// `SSCAN key cursor [MATCH pattern] [COUNT count]`: the next cursor (0
    /// when done) and a page of members. Members present for the whole scan
    /// are returned at least once.
    pub fn sscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: Option<u64>,
    ) -> Result<(u64, Vec<Bytes>), Error> {
        let cursor = cursor.to_string();
        let count = count.map(|c| c.to_string());
        let mut opts: Vec<&[u8]> = Vec::new();
        if let Some(p) = pattern {
            opts.extend([&b"MATCH"[..], p]);
        }
        if let Some(c) = &count {
            opts.extend([&b"COUNT"[..], c.as_bytes()]);
        }
        match self.db.run(command(b"SSCAN", &[key, cursor.as_bytes()], &opts))? {
            Reply::Array(mut parts) if parts.len() == 2 => {
                let page = bulks(parts.pop().unwrap_or(Reply::Nil))?;
                match parts.pop() {
                    Some(Reply::Bulk(c)) => {
                        let next = std::str::from_utf8(&c).ok().and_then(|s| s.parse().ok());
                        next.map_or_else(|| unexpected(Reply::Bulk(c)), |n| Ok((n, page)))
                    }
                    other => unexpected(other.unwrap_or(Reply::Nil)),
                }
            }
            other => unexpected(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Db, Error};
    use bytes::Bytes;

    fn sorted(mut v: Vec<Bytes>) -> Vec<Bytes> {
        v.sort();
        v
    }

    fn bytes(items: &[&[u8]]) -> Vec<Bytes> {
        items.iter().map(|b| Bytes::copy_from_slice(b)).collect()
    }

    #[test]
    fn add_remove_and_membership() {
        let db = Db::open(":memory:").unwrap();
        let s = db.sets();
        assert_eq!(s.sadd(b"s", &[b"a", b"b", b"a", b"\x00\xff"]).unwrap(), 3);
        assert_eq!(s.scard(b"s").unwrap(), 3);
        assert!(s.sismember(b"s", b"\x00\xff").unwrap());
        assert_eq!(s.smismember(b"s", &[b"a", b"z"]).unwrap(), vec![true, false]);
        assert_eq!(sorted(s.smembers(b"s").unwrap()), bytes(&[b"\x00\xff", b"a", b"b"]));
        assert_eq!(s.srem(b"s", &[b"a", b"z"]).unwrap(), 1);
        assert_eq!(s.srem(b"s", &[b"b", b"\x00\xff"]).unwrap(), 2);
        assert!(!db.keys().exists(b"s").unwrap());
        db.strings().set(b"str", b"v").unwrap();
        assert!(matches!(s.sadd(b"str", &[b"x"]), Err(Error::Redis(m)) if m.starts_with("WRONGTYPE")));
    }

    #[test]
    fn algebra_and_store() {
        let db = Db::open(":memory:").unwrap();
        let s = db.sets();
        s.sadd(b"a", &[b"1", b"2", b"3", b"4"]).unwrap();
        s.sadd(b"b", &[b"3", b"4", b"5"]).unwrap();
        assert_eq!(sorted(s.sinter(&[b"a", b"b"]).unwrap()), bytes(&[b"3", b"4"]));
        assert_eq!(s.sintercard(&[b"a", b"b"], 1).unwrap(), 1);
        assert_eq!(sorted(s.sunion(&[b"a", b"b", b"nokey"]).unwrap()).len(), 5);
        assert_eq!(sorted(s.sdiff(&[b"a", b"b"]).unwrap()), bytes(&[b"1", b"2"]));
        assert_eq!(s.sdiffstore(b"a", &[b"a", b"b"]).unwrap(), 2);
        assert_eq!(sorted(s.smembers(b"a").unwrap()), bytes(&[b"1", b"2"]));
        assert_eq!(s.sinterstore(b"a", &[b"a", b"b"]).unwrap(), 0);
        assert!(!db.keys().exists(b"a").unwrap());
        assert_eq!(s.sunionstore(b"u", &[b"b", b"nokey"]).unwrap(), 3);
    }

    #[test]
    fn random_pop_move_scan() {
        let db = Db::open(":memory:").unwrap();
        let s = db.sets();
        let all: Vec<Vec<u8>> = (0..100).map(|i| format!("m{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = all.iter().map(|m| m.as_slice()).collect();
        s.sadd(b"s", &refs).unwrap();
        assert!(s.srandmember(b"s").unwrap().is_some());
        let picks = s.srandmember_count(b"s", 10).unwrap();
        assert_eq!(sorted(picks.clone()).windows(2).filter(|w| w[0] == w[1]).count(), 0);
        assert_eq!(picks.len(), 10);
        assert_eq!(s.srandmember_count(b"s", -300).unwrap().len(), 300);
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let (next, page) = s.sscan(b"s", cursor, None, Some(7)).unwrap();
            seen.extend(page);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(sorted(seen).len(), 100);
        assert!(s.smove(b"s", b"t", b"m1").unwrap());
        assert!(!s.smove(b"s", b"t", b"m1").unwrap());
        assert_eq!(s.spop_count(b"s", 40).unwrap().len(), 40);
        assert!(s.spop(b"s").unwrap().is_some());
        assert_eq!(s.scard(b"s").unwrap(), 58);
        assert_eq!(s.spop_count(b"s", 1000).unwrap().len(), 58);
        assert!(!db.keys().exists(b"s").unwrap());
        assert_eq!(s.spop(b"s").unwrap(), None);
    }
}
