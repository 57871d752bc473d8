//! [`Lists`]: list commands.

use super::Runner;
use super::argv;
use super::reply::{bulks, int, optional, unexpected};
use crate::resp::Reply;
use crate::store::End;
use crate::{Db, Error};
use bytes::Bytes;

/// Typed access to list commands. Get one from [`Db::lists`].
///
/// Indexes follow Redis: 0 is the head, negative indexes count from the tail
/// (-1 is the last element). [`End::Head`] is Redis's `LEFT`, [`End::Tail`]
/// its `RIGHT`.
///
/// ```
/// let db = redsql::Db::open(":memory:")?;
/// let lists = db.lists();
/// lists.rpush(b"queue", &[b"a", b"b", b"c"])?;
/// assert_eq!(lists.lpop(b"queue")?.as_deref(), Some(&b"a"[..]));
/// assert_eq!(lists.lrange(b"queue", 0, -1)?, vec![&b"b"[..], &b"c"[..]]);
/// # Ok::<(), redsql::Error>(())
/// ```
pub struct Lists<'a> {
    db: &'a dyn Runner,
}

impl Db {
    /// List commands.
    pub fn lists(&self) -> Lists<'_> {
        Lists::new(self)
    }
}

impl<'a> Lists<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Lists { db }
    }
}

fn side(end: End) -> &'static [u8] {
    match end {
        End::Head => b"LEFT",
        End::Tail => b"RIGHT",
    }
}

impl Lists<'_> {
    fn run(&self, parts: &[&[u8]]) -> Result<Reply, Error> {
        self.db.run(argv(parts))
    }

    /// Runs `cmd key values...` and returns its integer reply.
    fn push(&self, cmd: &[u8], key: &[u8], values: &[&[u8]]) -> Result<i64, Error> {
        let mut parts = vec![cmd, key];
        parts.extend_from_slice(values);
        int(self.run(&parts)?)
    }

    /// `LPUSH key element [element ...]`: prepends the values one after the
    /// other (so the last one ends up first), creating the list if needed;
    /// returns the new length. `values` must not be empty.
    pub fn lpush(&self, key: &[u8], values: &[&[u8]]) -> Result<i64, Error> {
        self.push(b"LPUSH", key, values)
    }

    /// `RPUSH key element [element ...]`: appends the values, creating the
    /// list if needed; returns the new length. `values` must not be empty.
    pub fn rpush(&self, key: &[u8], values: &[&[u8]]) -> Result<i64, Error> {
        self.push(b"RPUSH", key, values)
    }

    /// `LPUSHX key element [element ...]`: like [`lpush`](Self::lpush), but
    /// only if the list exists (returns 0 otherwise).
    pub fn lpushx(&self, key: &[u8], values: &[&[u8]]) -> Result<i64, Error> {
        self.push(b"LPUSHX", key, values)
    }

    /// `RPUSHX key element [element ...]`: like [`rpush`](Self::rpush), but
    /// only if the list exists (returns 0 otherwise).
    pub fn rpushx(&self, key: &[u8], values: &[&[u8]]) -> Result<i64, Error> {
        self.push(b"RPUSHX", key, values)
    }

    /// `LPOP key`: removes and returns the first element.
    pub fn lpop(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"LPOP", key])?)
    }

    /// `RPOP key`: removes and returns the last element.
    pub fn rpop(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"RPOP", key])?)
    }

    /// `LPOP key count`: removes and returns up to `count` elements from the
    /// head (empty if the list does not exist).
    pub fn lpop_count(&self, key: &[u8], count: u64) -> Result<Vec<Bytes>, Error> {
        bulks(self.run(&[b"LPOP", key, count.to_string().as_bytes()])?)
    }

    /// `RPOP key count`: removes and returns up to `count` elements from the
    /// tail, last first (empty if the list does not exist).
    pub fn rpop_count(&self, key: &[u8], count: u64) -> Result<Vec<Bytes>, Error> {
        bulks(self.run(&[b"RPOP", key, count.to_string().as_bytes()])?)
    }

    /// `LLEN key`: the length (0 if the list does not exist).
    pub fn llen(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"LLEN", key])?)
    }

    /// `LRANGE key start stop`: the elements from `start` to `stop`, both
    /// included (`0, -1` for the whole list).
    pub fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>, Error> {
        let (start, stop) = (start.to_string(), stop.to_string());
        bulks(self.run(&[b"LRANGE", key, start.as_bytes(), stop.as_bytes()])?)
    }

    /// `LINDEX key index`: the element at `index`, if there is one.
    pub fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"LINDEX", key, index.to_string().as_bytes()])?)
    }

    /// `LSET key index element`: replaces the element at `index`. Fails with
    /// "ERR no such key" or "ERR index out of range".
    pub fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<(), Error> {
        self.run(&[b"LSET", key, index.to_string().as_bytes(), value])?;
        Ok(())
    }

    /// `LINSERT key BEFORE|AFTER pivot element`: inserts `value` before the
    /// first element equal to `pivot` (after it if `after`). Returns the new
    /// length, -1 if there is no such element, 0 if the list does not exist.
    pub fn linsert(&self, key: &[u8], after: bool, pivot: &[u8], value: &[u8]) -> Result<i64, Error> {
        let place: &[u8] = if after { b"AFTER" } else { b"BEFORE" };
        int(self.run(&[b"LINSERT", key, place, pivot, value])?)
    }

    /// `LREM key count element`: removes the first `count` elements equal to
    /// `value` (the last `-count` if negative, all if 0); returns how many.
    pub fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"LREM", key, count.to_string().as_bytes(), value])?)
    }

    /// `LTRIM key start stop`: keeps only the elements from `start` to `stop`.
    pub fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<(), Error> {
        let (start, stop) = (start.to_string(), stop.to_string());
        self.run(&[b"LTRIM", key, start.as_bytes(), stop.as_bytes()])?;
        Ok(())
    }

    /// `LPOS key element`: the index of the first element equal to `value`.
    pub fn lpos(&self, key: &[u8], value: &[u8]) -> Result<Option<i64>, Error> {
        match self.run(&[b"LPOS", key, value])? {
            Reply::Int(n) => Ok(Some(n)),
            Reply::Nil => Ok(None),
            other => unexpected(other),
        }
    }

    /// `LPOS key element RANK rank COUNT count MAXLEN maxlen`: the indexes of
    /// the matching elements, in search order. `rank` says which match to
    /// start from (1 is the first from the head, -1 the first from the tail;
    /// 0 is an error), `count` how many to return at most (0: all), `maxlen`
    /// how many elements to look at at most (0: the whole list).
    pub fn lpos_with(&self, key: &[u8], value: &[u8], rank: i64, count: u64, maxlen: u64) -> Result<Vec<i64>, Error> {
        let (rank, count, maxlen) = (rank.to_string(), count.to_string(), maxlen.to_string());
        let reply = self.run(&[
            b"LPOS",
            key,
            value,
            b"RANK",
            rank.as_bytes(),
            b"COUNT",
            count.as_bytes(),
            b"MAXLEN",
            maxlen.as_bytes(),
        ])?;
        match reply {
            Reply::Array(items) => items.into_iter().map(int).collect(),
            other => unexpected(other),
        }
    }

    /// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: pops an element from
    /// `from` of `src`, pushes it at `to` of `dst` (the same list rotates) and
    /// returns it; `None` if `src` does not exist.
    pub fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"LMOVE", src, dst, side(from), side(to)])?)
    }

    /// `RPOPLPUSH source destination`: [`lmove`](Self::lmove) from the tail to the head.
    pub fn rpoplpush(&self, src: &[u8], dst: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"RPOPLPUSH", src, dst])?)
    }

    /// `LMPOP numkeys key [key ...] LEFT|RIGHT COUNT count`: pops up to
    /// `count` elements from `end` of the first of `keys` that exists, and
    /// returns its name with the elements; `None` if none exists.
    pub fn lmpop(&self, keys: &[&[u8]], end: End, count: u64) -> Result<Option<(Bytes, Vec<Bytes>)>, Error> {
        let (numkeys, count) = (keys.len().to_string(), count.to_string());
        let mut parts: Vec<&[u8]> = vec![b"LMPOP", numkeys.as_bytes()];
        parts.extend_from_slice(keys);
        parts.extend_from_slice(&[side(end), b"COUNT", count.as_bytes()]);
        match self.run(&parts)? {
            Reply::Array(pair) if pair.len() == 2 => {
                let mut pair = pair.into_iter();
                let (key, values) = (pair.next(), pair.next());
                match (key, values) {
                    (Some(Reply::Bulk(key)), Some(values)) => Ok(Some((key, bulks(values)?))),
                    (key, _) => unexpected(key.unwrap_or(Reply::Nil)),
                }
            }
            Reply::Nil | Reply::NilArray => Ok(None),
            other => unexpected(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::End;
    use crate::{Db, Error};
    use bytes::Bytes;

    fn b(items: &[&str]) -> Vec<Bytes> {
        items.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn push_pop_range() -> Result<(), Error> {
        let db = Db::open(":memory:")?;
        let l = db.lists();
        assert_eq!(l.rpush(b"k", &[b"b", b"c"])?, 2);
        assert_eq!(l.lpush(b"k", &[b"a", b"z"])?, 4);
        assert_eq!(l.lrange(b"k", 0, -1)?, b(&["z", "a", "b", "c"]));
        assert_eq!(l.lpushx(b"missing", &[b"x"])?, 0);
        assert_eq!(l.rpushx(b"k", &[b"d"])?, 5);
        assert_eq!(l.lpop(b"k")?, Some(Bytes::from_static(b"z")));
        assert_eq!(l.rpop(b"k")?, Some(Bytes::from_static(b"d")));
        assert_eq!(l.rpop_count(b"k", 2)?, b(&["c", "b"]));
        assert_eq!(l.lpop_count(b"k", 5)?, b(&["a"]));
        assert_eq!(l.llen(b"k")?, 0);
        assert!(!db.keys().exists(b"k")?);
        assert_eq!(l.lpop(b"k")?, None);
        assert_eq!(l.lpop_count(b"k", 2)?, Vec::<Bytes>::new());
        Ok(())
    }

    #[test]
    fn index_set_insert_rem_trim() -> Result<(), Error> {
        let db = Db::open(":memory:")?;
        let l = db.lists();
        l.rpush(b"k", &[b"a", b"b", b"a", b"c"])?;
        assert_eq!(l.lindex(b"k", -1)?, Some(Bytes::from_static(b"c")));
        assert_eq!(l.lindex(b"k", 9)?, None);
        l.lset(b"k", 1, b"B")?;
        assert!(matches!(l.lset(b"k", 9, b"x"), Err(Error::Redis(m)) if m == "ERR index out of range"));
        assert!(matches!(l.lset(b"nope", 0, b"x"), Err(Error::Redis(m)) if m == "ERR no such key"));
        assert_eq!(l.linsert(b"k", true, b"B", b"x")?, 5);
        assert_eq!(l.linsert(b"k", false, b"zz", b"x")?, -1);
        assert_eq!(l.lrange(b"k", 0, -1)?, b(&["a", "B", "x", "a", "c"]));
        assert_eq!(l.lrem(b"k", -1, b"a")?, 1);
        assert_eq!(l.lrange(b"k", 0, -1)?, b(&["a", "B", "x", "c"]));
        l.ltrim(b"k", 1, -2)?;
        assert_eq!(l.lrange(b"k", 0, -1)?, b(&["B", "x"]));
        Ok(())
    }

    #[test]
    fn lpos_lmove_lmpop() -> Result<(), Error> {
        let db = Db::open(":memory:")?;
        let l = db.lists();
        l.rpush(b"k", &[b"a", b"b", b"a", b"a"])?;
        assert_eq!(l.lpos(b"k", b"a")?, Some(0));
        assert_eq!(l.lpos(b"k", b"q")?, None);
        assert_eq!(l.lpos_with(b"k", b"a", -1, 2, 0)?, vec![3, 2]);
        assert_eq!(l.lpos_with(b"k", b"a", 1, 0, 3)?, vec![0, 2]);
        assert_eq!(
            l.lmove(b"k", b"k", End::Head, End::Tail)?,
            Some(Bytes::from_static(b"a"))
        );
        assert_eq!(l.lrange(b"k", 0, -1)?, b(&["b", "a", "a", "a"]));
        assert_eq!(l.rpoplpush(b"k", b"other")?, Some(Bytes::from_static(b"a")));
        assert_eq!(l.lmove(b"nope", b"other", End::Head, End::Head)?, None);
        let popped = l.lmpop(&[b"nope", b"other", b"k"], End::Tail, 5)?;
        assert_eq!(popped, Some((Bytes::from_static(b"other"), b(&["a"]))));
        assert_eq!(l.lmpop(&[b"nope"], End::Head, 1)?, None);
        Ok(())
    }
}
