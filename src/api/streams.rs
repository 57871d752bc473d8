//! [`Streams`]: stream commands, with typed ids and entries.
//!
//! Blocking reads (XREAD BLOCK) belong to the server; the library reads
//! what is there.

use super::Runner;
use super::reply::{array, bulk, int, unexpected};
use crate::resp::Reply;
use crate::{Db, Error};
use bytes::Bytes;

pub use crate::store::StreamId;

/// Typed access to stream commands. Get one from [`Db::streams`].
pub struct Streams<'a> {
    db: &'a dyn Runner,
}

impl<'a> Streams<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Streams { db }
    }
}

impl Db {
    /// Stream commands.
    pub fn streams(&self) -> Streams<'_> {
        Streams::new(self)
    }
}

/// One entry: its id and its fields with their values, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<(Bytes, Bytes)>,
}

/// The id XADD gives the new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewId {
    /// `*`: from the clock.
    Auto,
    /// `ms-*`: this millisecond, the next sequence number.
    Seq(u64),
    /// An explicit id.
    Id(StreamId),
}

/// A trimming strategy (XADD's and XTRIM's MAXLEN / MINID); `approx` is `~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen { len: u64, approx: bool },
    MinId { id: StreamId, approx: bool },
}

/// An end of an XRANGE interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `-` or `+`: the stream's end.
    Unbounded,
    Included(StreamId),
    Excluded(StreamId),
}

fn id_text(id: StreamId) -> Vec<u8> {
    id.text().to_vec()
}

fn bound_text(b: Bound, unbounded: &str) -> Vec<u8> {
    match b {
        Bound::Unbounded => unbounded.as_bytes().to_vec(),
        Bound::Included(id) => id_text(id),
        Bound::Excluded(id) => [b"(".as_slice(), &id_text(id)].concat(),
    }
}

fn trim_args(t: Trim) -> Vec<Vec<u8>> {
    let (name, approx, value) = match t {
        Trim::MaxLen { len, approx } => ("MAXLEN", approx, len.to_string().into_bytes()),
        Trim::MinId { id, approx } => ("MINID", approx, id_text(id)),
    };
    vec![name.into(), if approx { b"~".to_vec() } else { b"=".to_vec() }, value]
}

fn to_argv(parts: Vec<Vec<u8>>) -> Vec<Bytes> {
    parts.into_iter().map(Bytes::from).collect()
}

fn id_of(reply: Reply) -> Result<StreamId, Error> {
    let b = bulk(reply)?;
    StreamId::parse(&b).ok_or_else(|| Error::Redis(format!("unexpected id {b:?}")))
}

/// An entry reply, `[id, [field, value, ...]]`.
fn entry(reply: Reply) -> Result<Entry, Error> {
    let mut pair = array(reply)?.into_iter();
    let (Some(id), Some(fields)) = (pair.next(), pair.next()) else {
        return Err(Error::Redis("unexpected reply: short entry".into()));
    };
    let mut flat = array(fields)?.into_iter();
    let mut fields = Vec::new();
    while let (Some(f), Some(v)) = (flat.next(), flat.next()) {
        fields.push((bulk(f)?, bulk(v)?));
    }
    Ok(Entry { id: id_of(id)?, fields })
}

fn entries(reply: Reply) -> Result<Vec<Entry>, Error> {
    array(reply)?.into_iter().map(entry).collect()
}

/// XREAD's and XREADGROUP's reply: per stream, its key and entries.
fn per_stream(reply: Reply) -> Result<Vec<(Bytes, Vec<Entry>)>, Error> {
    match reply {
        Reply::Map(pairs) => pairs.into_iter().map(|(k, v)| Ok((bulk(k)?, entries(v)?))).collect(),
        other => array(other)?
            .into_iter()
            .map(|s| {
                let mut kv = array(s)?.into_iter();
                match (kv.next(), kv.next()) {
                    (Some(k), Some(v)) => Ok((bulk(k)?, entries(v)?)),
                    _ => unexpected(Reply::Nil),
                }
            })
            .collect(),
    }
}

impl Streams<'_> {
    /// `XADD key [NOMKSTREAM] [trim] id field value ...`: the new entry's
    /// id, or `None` with `nomkstream` when the stream does not exist.
    pub fn xadd_with(
        &self,
        key: &[u8],
        nomkstream: bool,
        trim: Option<Trim>,
        id: NewId,
        fields: &[(&[u8], &[u8])],
    ) -> Result<Option<StreamId>, Error> {
        let mut args: Vec<Vec<u8>> = vec![b"XADD".to_vec(), key.to_vec()];
        if nomkstream {
            args.push(b"NOMKSTREAM".to_vec());
        }
        if let Some(t) = trim {
            args.extend(trim_args(t));
        }
        args.push(match id {
            NewId::Auto => b"*".to_vec(),
            NewId::Seq(ms) => format!("{ms}-*").into_bytes(),
            NewId::Id(id) => id_text(id),
        });
        for (f, v) in fields {
            args.push(f.to_vec());
            args.push(v.to_vec());
        }
        match self.db.run(to_argv(args))? {
            Reply::Nil => Ok(None),
            r => id_of(r).map(Some),
        }
    }

    /// `XADD key id field value ...`: the new entry's id.
    pub fn xadd(&self, key: &[u8], id: NewId, fields: &[(&[u8], &[u8])]) -> Result<StreamId, Error> {
        self.xadd_with(key, false, None, id, fields)?
            .ok_or_else(|| Error::Redis("unexpected reply: no id".into()))
    }

    /// `XLEN key`
    pub fn xlen(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.db.run(to_argv(vec![b"XLEN".to_vec(), key.to_vec()]))?)
    }

    /// `XRANGE key start end [COUNT n]`, oldest first.
    pub fn xrange(&self, key: &[u8], start: Bound, end: Bound, count: Option<u64>) -> Result<Vec<Entry>, Error> {
        self.range(b"XRANGE", key, bound_text(start, "-"), bound_text(end, "+"), count)
    }

    /// `XREVRANGE key end start [COUNT n]`, newest first.
    pub fn xrevrange(&self, key: &[u8], end: Bound, start: Bound, count: Option<u64>) -> Result<Vec<Entry>, Error> {
        self.range(b"XREVRANGE", key, bound_text(end, "+"), bound_text(start, "-"), count)
    }

    fn range(&self, name: &[u8], key: &[u8], a: Vec<u8>, b: Vec<u8>, count: Option<u64>) -> Result<Vec<Entry>, Error> {
        let mut args = vec![name.to_vec(), key.to_vec(), a, b];
        if let Some(n) = count {
            args.extend([b"COUNT".to_vec(), n.to_string().into_bytes()]);
        }
        entries(self.db.run(to_argv(args))?)
    }

    /// `XDEL key id ...`: how many entries were deleted.
    pub fn xdel(&self, key: &[u8], ids: &[StreamId]) -> Result<i64, Error> {
        let mut args = vec![b"XDEL".to_vec(), key.to_vec()];
        args.extend(ids.iter().map(|&id| id_text(id)));
        int(self.db.run(to_argv(args))?)
    }

    /// `XTRIM key MAXLEN|MINID ...`: how many entries were deleted.
    pub fn xtrim(&self, key: &[u8], trim: Trim) -> Result<i64, Error> {
        let mut args = vec![b"XTRIM".to_vec(), key.to_vec()];
        args.extend(trim_args(trim));
        int(self.db.run(to_argv(args))?)
    }

    /// `XREAD [COUNT n] STREAMS key ... id ...`: the entries after each id,
    /// per stream that has some.
    pub fn xread(&self, after: &[(&[u8], StreamId)], count: Option<u64>) -> Result<Vec<(Bytes, Vec<Entry>)>, Error> {
        let mut args = vec![b"XREAD".to_vec()];
        if let Some(n) = count {
            args.extend([b"COUNT".to_vec(), n.to_string().into_bytes()]);
        }
        args.push(b"STREAMS".to_vec());
        args.extend(after.iter().map(|(k, _)| k.to_vec()));
        args.extend(after.iter().map(|&(_, id)| id_text(id)));
        per_stream(self.db.run(to_argv(args))?)
    }

    /// `XGROUP CREATE key group id|$ [MKSTREAM]` (`None`: `$`).
    pub fn xgroup_create(&self, key: &[u8], group: &[u8], id: Option<StreamId>, mkstream: bool) -> Result<(), Error> {
        let mut args = vec![b"XGROUP".to_vec(), b"CREATE".to_vec(), key.to_vec(), group.to_vec()];
        args.push(id.map_or_else(|| b"$".to_vec(), id_text));
        if mkstream {
            args.push(b"MKSTREAM".to_vec());
        }
        self.db.run(to_argv(args)).map(|_| ())
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [NOACK] STREAMS key ... > ...`:
    /// new entries for `consumer`, per stream that has some.
    pub fn xreadgroup(
        &self,
        group: &[u8],
        consumer: &[u8],
        keys: &[&[u8]],
        count: Option<u64>,
        noack: bool,
    ) -> Result<Vec<(Bytes, Vec<Entry>)>, Error> {
        let mut args = vec![
            b"XREADGROUP".to_vec(),
            b"GROUP".to_vec(),
            group.to_vec(),
            consumer.to_vec(),
        ];
        if let Some(n) = count {
            args.extend([b"COUNT".to_vec(), n.to_string().into_bytes()]);
        }
        if noack {
            args.push(b"NOACK".to_vec());
        }
        args.push(b"STREAMS".to_vec());
        args.extend(keys.iter().map(|k| k.to_vec()));
        args.extend(keys.iter().map(|_| b">".to_vec()));
        per_stream(self.db.run(to_argv(args))?)
    }

    /// `XACK key group id ...`: how many were pending.
    pub fn xack(&self, key: &[u8], group: &[u8], ids: &[StreamId]) -> Result<i64, Error> {
        let mut args = vec![b"XACK".to_vec(), key.to_vec(), group.to_vec()];
        args.extend(ids.iter().map(|&id| id_text(id)));
        int(self.db.run(to_argv(args))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_stream_commands() {
        let db = Db::open(":memory:").unwrap();
        let x = db.streams();
        let a = x.xadd(b"s", NewId::Id(StreamId::new(1, 1)), &[(b"f", b"1")]).unwrap();
        assert_eq!(a, StreamId::new(1, 1));
        assert_eq!(
            x.xadd(b"s", NewId::Seq(1), &[(b"f", b"2")]).unwrap(),
            StreamId::new(1, 2)
        );
        let c = x.xadd(b"s", NewId::Auto, &[(b"f", b"3"), (b"g", b"4")]).unwrap();
        assert!(c > StreamId::new(1, 2));
        assert_eq!(x.xlen(b"s").unwrap(), 3);
        let all = x.xrange(b"s", Bound::Unbounded, Bound::Unbounded, None).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[2].fields,
            vec![
                (Bytes::from("f"), Bytes::from("3")),
                (Bytes::from("g"), Bytes::from("4"))
            ]
        );
        let after = x.xrange(b"s", Bound::Excluded(a), Bound::Unbounded, Some(1)).unwrap();
        assert_eq!(after[0].id, StreamId::new(1, 2));
        let rev = x.xrevrange(b"s", Bound::Unbounded, Bound::Unbounded, Some(1)).unwrap();
        assert_eq!(rev[0].id, c);
        assert_eq!(x.xread(&[(b"s", StreamId::new(1, 1))], None).unwrap()[0].1.len(), 2);
        assert!(x.xread(&[(b"s", c)], None).unwrap().is_empty());
        x.xgroup_create(b"s", b"g", Some(StreamId::MIN), false).unwrap();
        let got = x.xreadgroup(b"g", b"alice", &[b"s"], Some(2), false).unwrap();
        assert_eq!(got[0].1.len(), 2);
        assert_eq!(x.xack(b"s", b"g", &[a, c]).unwrap(), 1);
        assert_eq!(x.xdel(b"s", &[a]).unwrap(), 1);
        assert_eq!(x.xtrim(b"s", Trim::MaxLen { len: 1, approx: false }).unwrap(), 1);
        assert_eq!(x.xlen(b"s").unwrap(), 1);
        assert_eq!(
            x.xadd_with(b"none", true, None, NewId::Auto, &[(b"f", b"v")]).unwrap(),
            None
        );
        assert!(x.xadd(b"s", NewId::Id(StreamId::new(1, 0)), &[(b"f", b"v")]).is_err());
    }
}
