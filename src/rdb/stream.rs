//! Streams in RDB (`RDB_TYPE_STREAM_LISTPACKS_2`, Redis 7.0's `rdbSaveObject`).
//!
//! ```text
//! nodes | (node key: master id, 16 B big-endian | node listpack)... |
//! length | last id | first id | max deleted id | entries added |
//! groups | (name | last id | entries read | PEL | consumers)...
//! ```
//!
//! A node's listpack holds a master entry (`count deleted num-fields
//! field... 0`) and then each entry: `flags ms-diff seq-diff` followed by
//! its values (flag SAMEFIELDS: the master's fields) or `num-fields field
//! value ...`, and `lp-count`. redsql writes nodes of up to 100 entries, as
//! its trimming counts them (`commands::streams`), without tombstones.

use super::listpack;
use super::{Reader, write_len, write_string};
use crate::store::StreamId;
use bytes::Bytes;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

/// A whole stream, as a payload carries it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Entries in id order: id and fields and values, alternating.
    pub entries: Vec<(StreamId, Vec<Bytes>)>,
    pub last: StreamId,
    pub first: StreamId,
    pub max_deleted: StreamId,
    pub added: u64,
    pub groups: Vec<Group>,
    /// How many entries the first node holds (not serialized: the others
    /// hold 100).
    pub first_node: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: Bytes,
    pub last: StreamId,
    pub entries_read: i64,
    /// The PEL: id, owner, delivery time, delivery count.
    pub pending: Vec<(StreamId, Bytes, i64, u64)>,
    /// Consumers: name and seen time.
    pub consumers: Vec<(Bytes, i64)>,
}

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

fn id_of_raw(b: &[u8]) -> Option<StreamId> {
    Some(StreamId::new(
        u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
        u64::from_be_bytes(b.get(8..16)?.try_into().ok()?),
    ))
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

/// One node's listpack (`streamAppendItem`'s layout).
fn node(entries: &[(StreamId, Vec<Bytes>)]) -> Vec<u8> {
    let (master, master_fields) = (entries[0].0, &entries[0].1);
    let names: Vec<&Bytes> = master_fields.iter().step_by(2).collect();
    let mut lp = listpack::Writer::new();
    lp.push_int(entries.len() as i64);
    lp.push_int(0);
    lp.push_int(names.len() as i64);
    for f in &names {
        lp.push(f);
    }
    lp.push_int(0);
    for (id, fields) in entries {
        let same = fields.len() / 2 == names.len() && fields.iter().step_by(2).zip(&names).all(|(a, b)| a == *b);
        lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(id.seq.wrapping_sub(master.seq) as i64);
        let n = fields.len() / 2;
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                lp.push(v);
            }
        } else {
            lp.push_int(n as i64);
            for f in fields {
                lp.push(f);
            }
        }
        lp.push_int(if same { n as i64 + 3 } else { 2 * n as i64 + 4 });
    }
    lp.finish()
}

/// Writes the stream's body (after the type byte).
pub fn write(out: &mut Vec<u8>, s: &Stream) {
    let mut nodes: Vec<&[(StreamId, Vec<Bytes>)]> = Vec::new();
    let mut rest = &s.entries[..];
    let mut size = s.first_node.clamp(1, 100);
    while !rest.is_empty() {
        let (a, b) = rest.split_at(size.min(rest.len()));
        nodes.push(a);
        rest = b;
        size = 100;
    }
    write_len(out, nodes.len() as u64);
    for n in nodes {
        write_string(out, &raw_id(n[0].0));
        write_string(out, &node(n));
    }
    write_len(out, s.entries.len() as u64);
    write_id(out, s.last);
    write_id(out, s.first);
    write_id(out, s.max_deleted);
    write_len(out, s.added);
    write_len(out, s.groups.len() as u64);
    for g in &s.groups {
        write_string(out, &g.name);
        write_id(out, g.last);
        write_len(out, g.entries_read as u64);
        write_len(out, g.pending.len() as u64);
        for (id, _, time, count) in &g.pending {
            out.extend_from_slice(&raw_id(*id));
            out.extend_from_slice(&time.to_le_bytes());
            write_len(out, *count);
        }
        write_len(out, g.consumers.len() as u64);
        for (name, seen) in &g.consumers {
            write_string(out, name);
            out.extend_from_slice(&seen.to_le_bytes());
            let own: Vec<StreamId> = g.pending.iter().filter(|p| p.1 == *name).map(|p| p.0).collect();
            write_len(out, own.len() as u64);
            for id in own {
                out.extend_from_slice(&raw_id(id));
            }
        }
    }
}

fn read_len(r: &mut Reader) -> Option<u64> {
    match r.len()? {
        (n, false) => Some(n),
        (_, true) => None,
    }
}

fn read_id(r: &mut Reader) -> Option<StreamId> {
    Some(StreamId::new(read_len(r)?, read_len(r)?))
}

fn read_time(r: &mut Reader) -> Option<i64> {
    Some(i64::from_le_bytes(r.take(8)?.try_into().ok()?))
}

/// Reads the stream's body (after the type byte); `None` if malformed.
pub fn read(r: &mut Reader) -> Option<Stream> {
    let mut s = Stream {
        first_node: 100,
        ..Stream::default()
    };
    for _ in 0..read_len(r)? {
        let key = r.string()?;
        let master = id_of_raw(&key)?;
        let items = listpack::decode(&r.string()?)?;
        let mut it = items.into_iter();
        let count = int(it.next()?)?;
        let deleted = int(it.next()?)?;
        let nfields = usize::try_from(int(it.next()?)?).ok()?;
        let names: Vec<Bytes> = (0..nfields)
            .map(|_| it.next().map(Bytes::from))
            .collect::<Option<_>>()?;
        if int(it.next()?)? != 0 {
            return None;
        }
        for _ in 0..count + deleted {
            let flags = int(it.next()?)?;
            let ms = master.ms.wrapping_add(int(it.next()?)? as u64);
            let seq = master.seq.wrapping_add(int(it.next()?)? as u64);
            let mut fields = Vec::new();
            if flags & FLAG_SAMEFIELDS != 0 {
                for f in &names {
                    fields.push(f.clone());
                    fields.push(Bytes::from(it.next()?));
                }
            } else {
                let n = usize::try_from(int(it.next()?)?).ok()?;
                for _ in 0..2 * n {
                    fields.push(Bytes::from(it.next()?));
                }
            }
            it.next()?; // lp-count
            if flags & FLAG_DELETED == 0 {
                s.entries.push((StreamId::new(ms, seq), fields));
            }
        }
    }
    let length = read_len(r)?;
    if length != s.entries.len() as u64 {
        return None;
    }
    s.last = read_id(r)?;
    s.first = read_id(r)?;
    s.max_deleted = read_id(r)?;
    s.added = read_len(r)?;
    for _ in 0..read_len(r)? {
        let name = Bytes::from(r.string()?);
        let last = read_id(r)?;
        let entries_read = read_len(r)? as i64;
        let mut pending = Vec::new();
        for _ in 0..read_len(r)? {
            let id = id_of_raw(r.take(16)?)?;
            let time = read_time(r)?;
            let count = read_len(r)?;
            pending.push((id, Bytes::new(), time, count));
        }
        let mut consumers = Vec::new();
        for _ in 0..read_len(r)? {
            let cname = Bytes::from(r.string()?);
            let seen = read_time(r)?;
            for _ in 0..read_len(r)? {
                let id = id_of_raw(r.take(16)?)?;
                let p = pending.iter_mut().find(|p| p.0 == id)?;
                p.1 = cname.clone();
            }
            consumers.push((cname, seen));
        }
        if pending
            .iter()
            .any(|p| p.1.is_empty() && !consumers.iter().any(|c| c.0.is_empty()))
        {
            return None;
        }
        s.groups.push(Group {
            name,
            last,
            entries_read,
            pending,
            consumers,
        });
    }
    Some(s)
}

/// A listpack element as the integer it holds (they come back as text).
fn int(element: Vec<u8>) -> Option<i64> {
    crate::resp::request::parse_i64(&element)
}
