//! Redis's serialization format (RDB) for DUMP and RESTORE.
//!
//! A DUMP payload is one serialized value followed by a footer:
//!
//! ```text
//! +-------------+----------------+--------------------+------------------+
//! | type (1 B)  | encoded value  | RDB version (2 B)  | CRC-64 (8 B)     |
//! +-------------+----------------+--------------------+------------------+
//! ```
//!
//! The version and the checksum ([`crc64`], over everything before it) are
//! little-endian. Inside the value, lengths use RDB's variable-length
//! encoding (big-endian for the 32/64-bit forms) and strings may be stored as
//! small integers or LZF-compressed ([`lzf`]). redsql writes what Redis 7.0
//! (RDB version 10) writes, so payloads move freely between the two.
//!
//! Every type is written and read; streams in [`stream`]. For the others
//! [`write_value`] picks the
//! encoding Redis 7.0 would hold the value in, judged from its contents with
//! Redis's default thresholds (Redis never converts back after a collection
//! grew, so for one that shrank its payload may use the larger form; both
//! load the same value anywhere):
//!
//! | type | small form | otherwise |
//! |------|------------|-----------|
//! | sorted set | `ZSET_LISTPACK` (≤ 128 members of ≤ 64 bytes): member, score pairs by (score, member) | `ZSET_2`: members with binary double scores, highest first (Redis writes its skiplist from the tail) |
//! | hash | `HASH_LISTPACK` (≤ 512 fields, fields and values ≤ 64 bytes) | `HASH`: field, value strings |
//! | set | `SET_INTSET` (≤ 512 members, all integers): a sorted intset | `SET`: member strings |
//! | list | `LIST_QUICKLIST_2`: listpack nodes split as Redis's `list-max-listpack-size -2` splits a list built by RPUSH (8 KB per node) | |
//!
//! Listpacks are [`listpack`]. Sorted sets, intsets and lists come out byte
//! for byte as Redis writes them (for a list, as Redis writes one built by
//! appending; one built from the head is split into other nodes there).
//! Hashes and sets follow redsql's storage order (by field or member hash),
//! not Redis's hash-table order or a small hash's insertion order, so their
//! bytes differ from Redis's while decoding to the same value.
//!
//! [`read_value`] also reads the older encodings Redis loads: `LIST`,
//! `LIST_ZIPLIST`, `LIST_QUICKLIST` ([`ziplist`]s), `ZSET` (string scores),
//! `ZSET_ZIPLIST`, `HASH_ZIPLIST` and `HASH_ZIPMAP` (Redis 2.4). A payload that does not decode — a bad
//! listpack, intset or ziplist, a NaN score, a repeated member or field, an
//! empty collection — is refused ("Bad data format"), as Redis's RESTORE
//! refuses it with `sanitize-dump-payload yes` (without it Redis skips some
//! of these checks and loads a corrupt value). Unknown types are refused too.

pub mod crc64;
pub mod listpack;
pub mod lzf;
pub mod stream;
pub mod ziplist;

use bytes::Bytes;

/// The RDB version Redis 7.0 writes; payloads of a later version are refused.
pub const RDB_VERSION: u16 = 10;

/// Object type bytes (Redis's `rdb.h`).
pub mod object_type {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Redis 7.0's default encoding thresholds (`config.c`).
pub const ZSET_MAX_LISTPACK_ENTRIES: usize = 128;
pub const ZSET_MAX_LISTPACK_VALUE: usize = 64;
pub const HASH_MAX_LISTPACK_ENTRIES: usize = 512;
pub const HASH_MAX_LISTPACK_VALUE: usize = 64;
pub const SET_MAX_INTSET_ENTRIES: usize = 512;
/// `list-max-listpack-size -2`: a quicklist node holds at most 8 KB.
const LIST_NODE_MAX_BYTES: usize = 8192;
/// What Redis adds to an element's length when judging whether it fits a
/// node (`SIZE_ESTIMATE_OVERHEAD`).
const LIST_NODE_OVERHEAD: usize = 8;
/// Elements from this size on get a node of their own (`packed_threshold`).
const LIST_PLAIN_THRESHOLD: usize = 1 << 30;
/// Quicklist node containers.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// The top two bits of a length byte.
const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_ENCVAL: u8 = 3;
/// Whole first bytes announcing a 32- or 64-bit big-endian length.
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;

/// Special string encodings (after a `LEN_ENCVAL` length byte).
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// A value as a DUMP payload carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(Bytes),
    Stream(stream::Stream),
    List(Vec<Bytes>),
    /// Members in any order (written in the order given).
    Set(Vec<Bytes>),
    /// Elements by ascending (score, member) — the store's order — when
    /// written; in payload order when read. Scores are never NaN.
    ZSet(Vec<(Bytes, f64)>),
    /// Fields in any order (written in the order given).
    Hash(Vec<(Bytes, Bytes)>),
}

/// Why a payload was refused, with the error reply RESTORE gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// Too short, from a newer Redis, or the checksum does not match.
    VersionOrChecksum,
    /// The body does not decode (or is of a type redsql cannot load yet).
    BadFormat,
}

impl LoadError {
    /// Redis's error reply for this failure.
    pub fn message(self) -> &'static str {
        match self {
            LoadError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            LoadError::BadFormat => "ERR Bad data format",
        }
    }
}

/// Serializes a value as DUMP does (Redis's `createDumpPayload`).
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the footer and decodes a payload as RESTORE does (Redis's
/// `verifyDumpPayload` then `rdbLoadObjectType` / `rdbLoadObject`).
pub fn load(payload: &[u8]) -> Result<Value, LoadError> {
    verify(payload)?;
    // Like Redis, the decoder reads from the whole buffer, footer included:
    // a body that runs into the footer is not itself an error.
    let mut r = Reader { data: payload, pos: 0 };
    read_value(&mut r).ok_or(LoadError::BadFormat)
}

/// The footer checks: at least 10 bytes, a version we know, a matching CRC.
fn verify(payload: &[u8]) -> Result<(), LoadError> {
    if payload.len() < 10 {
        return Err(LoadError::VersionOrChecksum);
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(LoadError::VersionOrChecksum);
    }
    let crc = crc64::crc64(0, &payload[..payload.len() - 8]);
    if crc.to_le_bytes() != footer[2..] {
        return Err(LoadError::VersionOrChecksum);
    }
    Ok(())
}

/// Writes the type byte and the encoded value (`rdbSaveObjectType` +
/// `rdbSaveObject`), in the encoding Redis 7.0 would hold the value in.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => {
            out.push(object_type::STRING);
            write_string(out, s);
        }
        Value::Stream(s) => {
            out.push(object_type::STREAM_LISTPACKS_2);
            stream::write(out, s);
        }
        Value::List(items) => {
            out.push(object_type::LIST_QUICKLIST_2);
            let nodes = quicklist_nodes(items);
            write_len(out, nodes.len() as u64);
            for (container, data) in nodes {
                write_len(out, container);
                write_string(out, &data);
            }
        }
        Value::Set(members) => match intset(members) {
            Some(blob) => {
                out.push(object_type::SET_INTSET);
                write_string(out, &blob);
            }
            None => {
                out.push(object_type::SET);
                write_len(out, members.len() as u64);
                for m in members {
                    write_string(out, m);
                }
            }
        },
        Value::ZSet(items) => {
            if items.len() <= ZSET_MAX_LISTPACK_ENTRIES && items.iter().all(|(m, _)| m.len() <= ZSET_MAX_LISTPACK_VALUE)
            {
                out.push(object_type::ZSET_LISTPACK);
                let mut lp = listpack::Writer::new();
                for (m, score) in items {
                    lp.push(m);
                    push_score(&mut lp, *score);
                }
                write_string(out, &lp.finish());
            } else {
                out.push(object_type::ZSET_2);
                write_len(out, items.len() as u64);
                for (m, score) in items.iter().rev() {
                    write_string(out, m);
                    out.extend_from_slice(&score.to_le_bytes());
                }
            }
        }
        Value::Hash(pairs) => {
            if pairs.len() <= HASH_MAX_LISTPACK_ENTRIES
                && pairs
                    .iter()
                    .all(|(f, v)| f.len() <= HASH_MAX_LISTPACK_VALUE && v.len() <= HASH_MAX_LISTPACK_VALUE)
            {
                out.push(object_type::HASH_LISTPACK);
                let mut lp = listpack::Writer::new();
                for (f, v) in pairs {
                    lp.push(f);
                    lp.push(v);
                }
                write_string(out, &lp.finish());
            } else {
                out.push(object_type::HASH);
                write_len(out, pairs.len() as u64);
                for (f, v) in pairs {
                    write_string(out, f);
                    write_string(out, v);
                }
            }
        }
    }
}

/// A sorted-set score in a listpack (`zzlInsertAt`): an integer when
/// `double2ll` takes it (integral, within ±`i64::MAX / 2`; -0 becomes 0),
/// else the text `d2string` makes (`inf`, `-inf`, `%.17g`).
fn push_score(lp: &mut listpack::Writer, score: f64) {
    let limit = (i64::MAX / 2) as f64;
    if (-limit..=limit).contains(&score) && (score as i64) as f64 == score {
        lp.push_int(score as i64);
    } else {
        lp.push(crate::resp::reply::format_double(score).as_bytes());
    }
}

/// The nodes Redis 7.0 makes of a list built by RPUSH (`quicklistPushTail`
/// with `list-max-listpack-size -2`): `(container, bytes)`, a listpack that
/// takes elements while its size plus the next element's length plus 8 stays
/// within 8 KB, or a plain node for an element of 1 GB or more.
fn quicklist_nodes(items: &[Bytes]) -> Vec<(u64, Vec<u8>)> {
    let mut nodes = Vec::new();
    let mut cur: Option<listpack::Writer> = None;
    for item in items {
        if item.len() >= LIST_PLAIN_THRESHOLD {
            if let Some(lp) = cur.take() {
                nodes.push((CONTAINER_PACKED, lp.finish()));
            }
            nodes.push((CONTAINER_PLAIN, item.to_vec()));
            continue;
        }
        let fits = cur
            .as_ref()
            .is_some_and(|lp| lp.bytes() + item.len() + LIST_NODE_OVERHEAD <= LIST_NODE_MAX_BYTES);
        if !fits && let Some(lp) = cur.take() {
            nodes.push((CONTAINER_PACKED, lp.finish()));
        }
        cur.get_or_insert_with(listpack::Writer::new).push(item);
    }
    if let Some(lp) = cur {
        nodes.push((CONTAINER_PACKED, lp.finish()));
    }
    nodes
}

/// The intset Redis 7.0 keeps a set in (`intset.c`), if it would: at most
/// 512 members, all integers. Layout: encoding (2, 4 or 8: the width that
/// holds every member) u32 LE, count u32 LE, the members ascending, LE.
fn intset(members: &[Bytes]) -> Option<Vec<u8>> {
    if members.len() > SET_MAX_INTSET_ENTRIES {
        return None;
    }
    let mut ints = members
        .iter()
        .map(|m| crate::resp::request::parse_i64(m))
        .collect::<Option<Vec<i64>>>()?;
    ints.sort_unstable();
    let width: usize = if ints.iter().all(|&n| i16::try_from(n).is_ok()) {
        2
    } else if ints.iter().all(|&n| i32::try_from(n).is_ok()) {
        4
    } else {
        8
    };
    let mut blob = Vec::with_capacity(8 + width * ints.len());
    blob.extend_from_slice(&(width as u32).to_le_bytes());
    blob.extend_from_slice(&(ints.len() as u32).to_le_bytes());
    for n in ints {
        blob.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    Some(blob)
}

/// The members of an intset blob; `None` if it is malformed (a bad encoding
/// or length, members not strictly ascending) or empty.
fn read_intset(blob: &[u8]) -> Option<Vec<Bytes>> {
    let width = u32::from_le_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let count = u32::from_le_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || count == 0 || blob.len() != count.checked_mul(width)?.checked_add(8)? {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    let mut last: Option<i64> = None;
    for chunk in blob[8..].chunks_exact(width) {
        let n = match width {
            2 => i16::from_le_bytes(chunk.try_into().ok()?) as i64,
            4 => i32::from_le_bytes(chunk.try_into().ok()?) as i64,
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if last.is_some_and(|l| l >= n) {
            return None;
        }
        last = Some(n);
        out.push(Bytes::from(n.to_string()));
    }
    Some(out)
}

/// The pairs of a zipmap (Redis 2.4's small hashes, `zipmap.c`): a count
/// byte (254: count them), then per pair a length, the field, a length, a
/// "free" byte, the value and that many unused bytes, then 0xFF. A length is
/// one byte below 254, or 254 and 4 bytes LE. `None` if malformed or empty.
fn read_zipmap(zm: &[u8]) -> Option<Vec<(Bytes, Bytes)>> {
    const BIGLEN: u8 = 254;
    const END: u8 = 255;
    let mut r = Reader::new(zm);
    let count = r.byte()?;
    let len = |r: &mut Reader| -> Option<usize> {
        match r.byte()? {
            BIGLEN => Some(u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize),
            END => None,
            n => Some(n as usize),
        }
    };
    let mut pairs = Vec::new();
    while *zm.get(r.pos)? != END {
        let n = len(&mut r)?;
        let field = Bytes::from(r.take(n)?.to_vec());
        let n = len(&mut r)?;
        let free = r.byte()? as usize;
        let value = Bytes::from(r.take(n)?.to_vec());
        r.take(free)?;
        pairs.push((field, value));
    }
    let well_formed = r.pos == zm.len() - 1 && !pairs.is_empty() && (count == BIGLEN || count as usize == pairs.len());
    well_formed.then_some(pairs)
}

/// A score as a listpack or ziplist entry holds it (`zzlGetScore`: an
/// integer, or text for `strtod`); `None` for NaN or text that is no number.
fn parse_score(s: &[u8]) -> Option<f64> {
    let d: f64 = std::str::from_utf8(s).ok()?.trim_start().parse().ok()?;
    (!d.is_nan()).then_some(d)
}

/// `(member, score)` pairs of a flat listpack/ziplist entry list.
fn zset_pairs(entries: Vec<Vec<u8>>) -> Option<Vec<(Bytes, f64)>> {
    if !entries.len().is_multiple_of(2) {
        return None;
    }
    let mut it = entries.into_iter();
    let mut out = Vec::new();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        out.push((Bytes::from(m), parse_score(&s)?));
    }
    Some(out)
}

/// `(field, value)` pairs of a flat listpack/ziplist entry list.
fn hash_pairs(entries: Vec<Vec<u8>>) -> Option<Vec<(Bytes, Bytes)>> {
    if !entries.len().is_multiple_of(2) {
        return None;
    }
    let mut it = entries.into_iter();
    let mut out = Vec::new();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        out.push((Bytes::from(f), Bytes::from(v)));
    }
    Some(out)
}

/// Whether no key repeats.
fn distinct<'a>(keys: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().all(|k| seen.insert(k))
}

/// The value if Redis would load it: not an empty collection, no member or
/// field twice.
fn checked(value: Value) -> Option<Value> {
    let ok = match &value {
        Value::String(_) | Value::Stream(_) => true,
        Value::List(items) => !items.is_empty(),
        Value::Set(m) => !m.is_empty() && distinct(m.iter().map(|b| &b[..])),
        Value::ZSet(items) => !items.is_empty() && distinct(items.iter().map(|(m, _)| &m[..])),
        Value::Hash(pairs) => !pairs.is_empty() && distinct(pairs.iter().map(|(f, _)| &f[..])),
    };
    ok.then_some(value)
}

/// Reads a type byte and the value that follows; `None` if it does not
/// decode, is an empty collection or repeats a member or field.
pub fn read_value(r: &mut Reader) -> Option<Value> {
    let value = match r.byte()? {
        object_type::STRING => Value::String(Bytes::from(r.string()?)),
        object_type::STREAM_LISTPACKS_2 => Value::Stream(stream::read(r)?),
        object_type::LIST => {
            let n = r.plain_len()?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(Bytes::from(r.string()?));
            }
            Value::List(items)
        }
        object_type::LIST_ZIPLIST => Value::List(ziplist::decode(&r.string()?)?.into_iter().map(Bytes::from).collect()),
        t @ (object_type::LIST_QUICKLIST | object_type::LIST_QUICKLIST_2) => {
            let nodes = r.plain_len()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = if t == object_type::LIST_QUICKLIST_2 {
                    r.plain_len()? as u64
                } else {
                    CONTAINER_PACKED
                };
                let data = r.string()?;
                if data.is_empty() {
                    return None;
                }
                match container {
                    CONTAINER_PLAIN => items.push(Bytes::from(data)),
                    CONTAINER_PACKED => {
                        let entries = if t == object_type::LIST_QUICKLIST_2 {
                            listpack::decode(&data)?
                        } else {
                            ziplist::decode(&data)?
                        };
                        items.extend(entries.into_iter().map(Bytes::from));
                    }
                    _ => return None,
                }
            }
            Value::List(items)
        }
        object_type::SET => {
            let n = r.plain_len()?;
            let mut members = Vec::new();
            for _ in 0..n {
                members.push(Bytes::from(r.string()?));
            }
            Value::Set(members)
        }
        object_type::SET_INTSET => Value::Set(read_intset(&r.string()?)?),
        t @ (object_type::ZSET | object_type::ZSET_2) => {
            let n = r.plain_len()?;
            let mut items = Vec::new();
            for _ in 0..n {
                let m = Bytes::from(r.string()?);
                let score = if t == object_type::ZSET_2 {
                    f64::from_le_bytes(r.take(8)?.try_into().ok()?)
                } else {
                    r.text_double()?
                };
                if score.is_nan() {
                    return None;
                }
                items.push((m, score));
            }
            Value::ZSet(items)
        }
        object_type::ZSET_LISTPACK => Value::ZSet(zset_pairs(listpack::decode(&r.string()?)?)?),
        object_type::ZSET_ZIPLIST => Value::ZSet(zset_pairs(ziplist::decode(&r.string()?)?)?),
        object_type::HASH => {
            let n = r.plain_len()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let f = Bytes::from(r.string()?);
                pairs.push((f, Bytes::from(r.string()?)));
            }
            Value::Hash(pairs)
        }
        object_type::HASH_LISTPACK => Value::Hash(hash_pairs(listpack::decode(&r.string()?)?)?),
        object_type::HASH_ZIPLIST => Value::Hash(hash_pairs(ziplist::decode(&r.string()?)?)?),
        object_type::HASH_ZIPMAP => Value::Hash(read_zipmap(&r.string()?)?),
        // Streams (not stored by redsql) and unknown types.
        _ => return None,
    };
    checked(value)
}

/// Writes an RDB length (`rdbSaveLen`).
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8 | (LEN_6BIT << 6));
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | (LEN_14BIT << 6));
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Writes a string the way `rdbSaveRawString` does: as a small integer when
/// it is the canonical form of one, LZF-compressed when longer than 20 bytes
/// and compression saves at least 4 bytes, verbatim otherwise.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11
        && let Some(n) = crate::resp::request::parse_i64(s)
        && write_int(out, n)
    {
        return;
    }
    if s.len() > 20
        && let Some(compressed) = lzf::compress(s, s.len() - 4)
    {
        out.push((LEN_ENCVAL << 6) | ENC_LZF);
        write_len(out, compressed.len() as u64);
        write_len(out, s.len() as u64);
        out.extend_from_slice(&compressed);
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `rdbEncodeInteger`: the shortest of the 8/16/32-bit little-endian forms;
/// false (nothing written) if `n` needs more than 32 bits.
fn write_int(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.extend_from_slice(&[(LEN_ENCVAL << 6) | ENC_INT8, v as u8]);
    } else if let Ok(v) = i16::try_from(n) {
        out.push((LEN_ENCVAL << 6) | ENC_INT16);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push((LEN_ENCVAL << 6) | ENC_INT32);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// A cursor over payload bytes; every read fails (`None`) past the end.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// An RDB length (`rdbLoadLenByRef`): `(value, is_encoding)`, where an
    /// encoding is a special string form (`ENC_*`) rather than a length.
    pub fn len(&mut self) -> Option<(u64, bool)> {
        let b = self.byte()?;
        Some(match b >> 6 {
            LEN_ENCVAL => ((b & 0x3f) as u64, true),
            LEN_6BIT => ((b & 0x3f) as u64, false),
            LEN_14BIT => ((((b & 0x3f) as u64) << 8) | self.byte()? as u64, false),
            _ if b == LEN_32BIT => (u32::from_be_bytes(self.take(4)?.try_into().ok()?) as u64, false),
            _ if b == LEN_64BIT => (u64::from_be_bytes(self.take(8)?.try_into().ok()?), false),
            _ => return None,
        })
    }

    /// A plain length (an encoding marker here is corrupt data).
    pub fn plain_len(&mut self) -> Option<usize> {
        match self.len()? {
            (n, false) => usize::try_from(n).ok(),
            (_, true) => None,
        }
    }

    /// A score of the legacy `ZSET` type (`rdbLoadDoubleValue`): a length
    /// byte (253 NaN, 254 +inf, 255 -inf) and that many bytes of text.
    pub fn text_double(&mut self) -> Option<f64> {
        match self.byte()? {
            253 => Some(f64::NAN),
            254 => Some(f64::INFINITY),
            255 => Some(f64::NEG_INFINITY),
            n => parse_score(self.take(n as usize)?),
        }
    }

    /// A string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Option<Vec<u8>> {
        let (n, encoded) = self.len()?;
        if !encoded {
            return Some(self.take(usize::try_from(n).ok()?)?.to_vec());
        }
        let int = |bytes: &[u8]| bytes.iter().rev().fold(0i64, |acc, &b| (acc << 8) | b as i64);
        let value = match n as u8 {
            ENC_INT8 => self.byte()? as i8 as i64,
            ENC_INT16 => int(self.take(2)?) as i16 as i64,
            ENC_INT32 => int(self.take(4)?) as i32 as i64,
            ENC_LZF => {
                let compressed_len = self.plain_len()?;
                let len = self.plain_len()?;
                let compressed = self.take(compressed_len)?;
                // Redis compares the decompressed length with the announced one
                // (a failed decompression counts as length 0).
                let out = lzf::decompress(compressed, len).unwrap_or_default();
                return (out.len() == len).then_some(out);
            }
            _ => return None,
        };
        Some(value.to_string().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_body(value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, value);
        out
    }

    /// Appends the footer to a hand-made body.
    fn with_footer(mut body: Vec<u8>, version: u16) -> Vec<u8> {
        body.extend_from_slice(&version.to_le_bytes());
        let crc = crc64::crc64(0, &body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn dump_matches_real_redis_bytes() {
        // Captured from redis-server 7.0.15.
        assert_eq!(
            dump(&Value::String(Bytes::from_static(b"123"))),
            [
                0x00, 0xc0, 0x7b, 0x0a, 0x00, 0x48, 0xe2, 0x53, 0xe1, 0x00, 0x7a, 0x67, 0xb9
            ]
        );
        assert_eq!(
            dump(&Value::String(Bytes::new())),
            [0x00, 0x00, 0x0a, 0x00, 0x5d, 0x9b, 0x5c, 0x40, 0x0f, 0x7f, 0xa2, 0xda]
        );
        let mut big = vec![
            0x00, 0xc3, 0x09, 0x30, 0x01, 0x61, 0x61, 0xe0, 0x23, 0x00, 0x01, 0x61, 0x61,
        ];
        big.extend_from_slice(&[0x0a, 0x00, 0x34, 0xc5, 0xf2, 0xcf, 0x48, 0x6c, 0xd1, 0x8c]);
        assert_eq!(dump(&Value::String(Bytes::from(vec![b'a'; 48]))), big);
    }

    #[test]
    fn integer_encodings() {
        assert_eq!(payload_body(b"0"), [0xc0, 0]);
        assert_eq!(payload_body(b"-128"), [0xc0, 0x80]);
        assert_eq!(payload_body(b"127"), [0xc0, 0x7f]);
        assert_eq!(payload_body(b"128"), [0xc1, 0x80, 0x00]);
        assert_eq!(payload_body(b"-32768"), [0xc1, 0x00, 0x80]);
        assert_eq!(payload_body(b"32768"), [0xc2, 0x00, 0x80, 0x00, 0x00]);
        assert_eq!(payload_body(b"-2147483648"), [0xc2, 0x00, 0x00, 0x00, 0x80]);
        // Too big for 32 bits, or not canonical: verbatim.
        assert_eq!(payload_body(b"2147483648"), [&[10u8][..], b"2147483648"].concat());
        assert_eq!(payload_body(b"007"), [&[3u8][..], b"007"].concat());
        assert_eq!(payload_body(b"+1"), [&[2u8][..], b"+1"].concat());
        assert_eq!(payload_body(b"-0"), [&[2u8][..], b"-0"].concat());
    }

    #[test]
    fn length_encodings() {
        let enc = |n: u64| {
            let mut v = Vec::new();
            write_len(&mut v, n);
            v
        };
        assert_eq!(enc(63), [63]);
        assert_eq!(enc(64), [0x40, 64]);
        assert_eq!(enc(16383), [0x7f, 0xff]);
        assert_eq!(enc(16384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(enc(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
        for n in [0, 1, 63, 64, 300, 16383, 16384, 70000, u32::MAX as u64, 1 << 40] {
            let v = enc(n);
            assert_eq!(Reader::new(&v).len(), Some((n, false)));
        }
    }

    #[test]
    fn strings_roundtrip() {
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"hello".to_vec(),
            b"\x00\xff binary".to_vec(),
            b"-2147483649".to_vec(),
            b"12345678901234567890".to_vec(),
            vec![b'z'; 20],
            vec![b'z'; 21],
            vec![b'q'; 70000],
        ];
        cases.push((0..=255u8).cycle().take(1000).collect());
        for s in ["1", "-1", "255", "65535", "-65536", "2147483647"] {
            cases.push(s.as_bytes().to_vec());
        }
        for c in cases {
            let p = dump(&Value::String(Bytes::from(c.clone())));
            assert_eq!(load(&p), Ok(Value::String(Bytes::from(c))));
        }
    }

    #[test]
    fn footer_errors() {
        let good = dump(&Value::String(Bytes::from_static(b"x")));
        assert_eq!(load(&good[..9]), Err(LoadError::VersionOrChecksum));
        let mut bad_crc = good.clone();
        *bad_crc.last_mut().unwrap() ^= 1;
        assert_eq!(load(&bad_crc), Err(LoadError::VersionOrChecksum));
        let mut body = Vec::new();
        write_value(&mut body, &Value::String(Bytes::from_static(b"x")));
        assert_eq!(load(&with_footer(body.clone(), 11)), Err(LoadError::VersionOrChecksum));
        // Older versions are accepted.
        assert!(load(&with_footer(body, 9)).is_ok());
    }

    #[test]
    fn body_errors() {
        // An empty collection, a stream, an unknown type.
        assert_eq!(
            load(&with_footer(vec![object_type::LIST, 0], 10)),
            Err(LoadError::BadFormat)
        );
        assert_eq!(
            load(&with_footer(vec![object_type::STREAM_LISTPACKS_2, 0], 10)),
            Err(LoadError::BadFormat)
        );
        assert_eq!(load(&with_footer(vec![200], 10)), Err(LoadError::BadFormat));
        // Unknown string encoding.
        assert_eq!(load(&with_footer(vec![0, 0xc4], 10)), Err(LoadError::BadFormat));
        // LZF data that does not decompress to the announced length.
        assert_eq!(
            load(&with_footer(vec![0, 0xc3, 2, 5, 0x00, b'a'], 10)),
            Err(LoadError::BadFormat)
        );
        // A string longer than the whole payload.
        assert_eq!(load(&with_footer(vec![0, 0x3f, b'a'], 10)), Err(LoadError::BadFormat));
        // An empty body: the type byte is read from the footer (version 10 =
        // 0x0a, the LIST_ZIPLIST type), whose ziplist (the empty string the
        // next byte announces) does not decode.
        assert_eq!(load(&with_footer(vec![], 10)), Err(LoadError::BadFormat));
    }

    /// Redis 7.0.15's DUMP of `GEOADD geo 13.361389 38.115556 Palermo
    /// 15.087269 37.502669 Catania 2.349014 48.864716 Paris`.
    const GEO_PAYLOAD: &[u8] = b"\x11>>\x00\x00\x00\x06\x00\x87Palermo\x08\xf4*z\x07\x159\x5c\x0c\x00\x09\x87Catania\x08\xf4m\x0f\x8d\xf8\x89\x5c\x0c\x00\x09\x85Paris\x06\xf4\xfe/\xe9\x8c<\x04\x0d\x00\x09\xff\x0a\x00\xf4\xdfP\xce\xbf\x0d\x98\xc9";

    #[test]
    fn zset_listpack_matches_redis() {
        let value = load(GEO_PAYLOAD).unwrap();
        let Value::ZSet(items) = &value else {
            panic!("{value:?}")
        };
        let members: Vec<&[u8]> = items.iter().map(|(m, _)| &m[..]).collect();
        assert_eq!(members, [&b"Palermo"[..], b"Catania", b"Paris"]);
        assert_eq!(items[0].1, 3479099956230698.0);
        assert_eq!(dump(&value), GEO_PAYLOAD);
    }

    #[test]
    fn list_quicklist_matches_redis() {
        // Redis 7.0.15's DUMP of `RPUSH l a b 100 -7`.
        let payload =
            b"\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81a\x02\x81b\x02d\x01\xdf\xf9\x02\xff\x0a\x00Z\xf0P\x22' {?";
        let value = Value::List(
            ["a", "b", "100", "-7"]
                .map(|m| Bytes::from_static(m.as_bytes()))
                .to_vec(),
        );
        assert_eq!(load(payload), Ok(value.clone()));
        assert_eq!(dump(&value), payload);
    }

    #[test]
    fn zset_scores_and_forms() {
        let scores = [
            0.0,
            1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            1e300,
            4611686018427387904.0,
            -3.0,
        ];
        let mut items: Vec<(Bytes, f64)> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (Bytes::from(format!("m{i}")), s))
            .collect();
        items.sort_by(|a, b| a.1.total_cmp(&b.1));
        let small = dump(&Value::ZSet(items.clone()));
        assert_eq!(small[0], object_type::ZSET_LISTPACK);
        assert_eq!(load(&small), Ok(Value::ZSet(items.clone())));
        // Past 128 elements: ZSET_2, read back highest first.
        for i in 0..130 {
            items.push((Bytes::from(format!("z{i:03}")), 1e301 + i as f64));
        }
        let big = dump(&Value::ZSet(items.clone()));
        assert_eq!(big[0], object_type::ZSET_2);
        let mut rev = items.clone();
        rev.reverse();
        assert_eq!(load(&big), Ok(Value::ZSet(rev)));
    }

    #[test]
    fn sets_and_hashes_roundtrip() {
        let ints = Value::Set(["5", "-3", "70000"].map(|m| Bytes::from_static(m.as_bytes())).to_vec());
        let p = dump(&ints);
        assert_eq!(p[0], object_type::SET_INTSET);
        // Members come back sorted, as an intset holds them.
        assert_eq!(
            load(&p),
            Ok(Value::Set(
                ["-3", "5", "70000"].map(|m| Bytes::from_static(m.as_bytes())).to_vec()
            ))
        );
        let mixed = Value::Set(["5", "x", "007"].map(|m| Bytes::from_static(m.as_bytes())).to_vec());
        let p = dump(&mixed);
        assert_eq!(p[0], object_type::SET);
        assert_eq!(load(&p), Ok(mixed));
        let small = Value::Hash(vec![(Bytes::from_static(b"f"), Bytes::from_static(b"12"))]);
        assert_eq!(dump(&small)[0], object_type::HASH_LISTPACK);
        assert_eq!(load(&dump(&small)), Ok(small));
        let long = Value::Hash(vec![(Bytes::from_static(b"f"), Bytes::from(vec![b'v'; 65]))]);
        assert_eq!(dump(&long)[0], object_type::HASH);
        assert_eq!(load(&dump(&long)), Ok(long));
    }

    #[test]
    fn collections_redis_refuses() {
        let mut dup = vec![object_type::SET, 2, 1, b'x', 1, b'x'];
        assert_eq!(load(&with_footer(dup.clone(), 10)), Err(LoadError::BadFormat));
        dup[5] = b'y';
        assert!(load(&with_footer(dup, 10)).is_ok());
        let mut nan = vec![object_type::ZSET_2, 1, 1, b'a'];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(load(&with_footer(nan, 10)), Err(LoadError::BadFormat));
        // A quicklist node of an unknown container, an empty node.
        assert_eq!(
            load(&with_footer(vec![object_type::LIST_QUICKLIST_2, 1, 3, 1, b'a'], 10)),
            Err(LoadError::BadFormat)
        );
        assert_eq!(
            load(&with_footer(vec![object_type::LIST_QUICKLIST_2, 1, 2, 0], 10)),
            Err(LoadError::BadFormat)
        );
        // A plain node holds one element as it is.
        assert_eq!(
            load(&with_footer(
                vec![object_type::LIST_QUICKLIST_2, 1, 1, 2, b'h', b'i'],
                10
            )),
            Ok(Value::List(vec![Bytes::from_static(b"hi")]))
        );
    }

    #[test]
    fn reads_may_run_into_the_footer_like_redis() {
        // Length 3 but only 1 byte before the footer: Redis reads the two
        // version bytes as part of the string.
        let p = with_footer(vec![0, 3, b'a'], 10);
        assert_eq!(load(&p), Ok(Value::String(Bytes::from_static(b"a\x0a\x00"))));
    }
}
