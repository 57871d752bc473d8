//! [`Strings`]: string and bitmap commands.
//!
//! Every method builds the Redis command and runs it through the same code
//! as the server, so results and errors are exactly Redis's. Errors Redis
//! would reply (wrong type, not an integer, overflow, ...) come back as
//! [`Error::Redis`] with Redis's message.

use super::Runner;
use super::argv;
use super::reply::{array, bulk, int, optional, unexpected};
use crate::Error;
use crate::resp::Reply;
use bytes::Bytes;

/// Typed access to string and bitmap commands. Get one from [`Db::strings`].
pub struct Strings<'a> {
    db: &'a dyn Runner,
}

/// When SET writes (`NX`/`XX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Always write.
    #[default]
    Always,
    /// `NX`: only if the key does not exist.
    IfMissing,
    /// `XX`: only if the key exists.
    IfExists,
}

/// An expiry for SET or GETEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX`: seconds from now.
    Seconds(i64),
    /// `PX`: milliseconds from now.
    Millis(i64),
    /// `EXAT`: a Unix time in seconds.
    AtSeconds(i64),
    /// `PXAT`: a Unix time in milliseconds.
    AtMillis(i64),
}

impl Expiry {
    fn push_args(self, out: &mut Vec<Vec<u8>>) {
        let (name, n) = match self {
            Expiry::Seconds(n) => ("EX", n),
            Expiry::Millis(n) => ("PX", n),
            Expiry::AtSeconds(n) => ("EXAT", n),
            Expiry::AtMillis(n) => ("PXAT", n),
        };
        out.push(name.into());
        out.push(n.to_string().into_bytes());
    }
}

/// Options of [`Strings::set_with`] and [`Strings::set_get`], e.g.
/// `SetOptions { condition: Condition::IfMissing, expiry: Some(Expiry::Seconds(10)), ..Default::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    pub condition: Condition,
    /// A new expiry; `None` clears any existing one unless `keep_ttl`.
    pub expiry: Option<Expiry>,
    /// `KEEPTTL`: keep the key's current expiry (cannot be combined with `expiry`).
    pub keep_ttl: bool,
}

/// What GETEX does to the expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GetExTtl {
    /// Leave it as is.
    #[default]
    Unchanged,
    /// Set a new expiry.
    Set(Expiry),
    /// `PERSIST`: remove it.
    Persist,
}

/// The unit of a BITCOUNT/BITPOS range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitUnit {
    #[default]
    Byte,
    Bit,
}

impl BitUnit {
    fn name(self) -> &'static [u8] {
        match self {
            BitUnit::Byte => b"BYTE",
            BitUnit::Bit => b"BIT",
        }
    }
}

/// The range BITPOS searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitPosRange {
    /// The whole string (a clear bit just past its end counts).
    #[default]
    All,
    /// From a byte index to the end (a clear bit past the end counts).
    From(i64),
    /// Inclusive byte indexes, negative from the end.
    Bytes(i64, i64),
    /// Inclusive bit indexes, negative from the end.
    Bits(i64, i64),
}

/// A BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// A BITFIELD integer type: `signed` with 1..=64 bits, or unsigned with 1..=63.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u8,
}

impl FieldType {
    pub fn signed(bits: u8) -> FieldType {
        FieldType { signed: true, bits }
    }

    pub fn unsigned(bits: u8) -> FieldType {
        FieldType { signed: false, bits }
    }

    fn arg(self) -> Vec<u8> {
        format!("{}{}", if self.signed { 'i' } else { 'u' }, self.bits).into_bytes()
    }
}

/// A BITFIELD offset: in bits, or `#n` (the n-th field of the type's width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOffset {
    Bits(u64),
    Index(u64),
}

impl FieldOffset {
    fn arg(self) -> Vec<u8> {
        match self {
            FieldOffset::Bits(n) => n.to_string().into_bytes(),
            FieldOffset::Index(n) => format!("#{n}").into_bytes(),
        }
    }
}

/// What BITFIELD INCRBY/SET do when a value does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    /// Do nothing and answer `None` for that operation.
    Fail,
}

/// One BITFIELD subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Get(FieldType, FieldOffset),
    /// Sets the field; answers the previous value.
    Set(FieldType, FieldOffset, i64),
    /// Adds to the field; answers the new value.
    IncrBy(FieldType, FieldOffset, i64),
    /// Overflow behaviour of the following SET/INCRBY operations.
    Overflow(Overflow),
}

impl FieldOp {
    fn push_args(self, out: &mut Vec<Vec<u8>>) {
        match self {
            FieldOp::Get(t, o) => out.extend([b"GET".to_vec(), t.arg(), o.arg()]),
            FieldOp::Set(t, o, v) => out.extend([b"SET".to_vec(), t.arg(), o.arg(), v.to_string().into_bytes()]),
            FieldOp::IncrBy(t, o, v) => out.extend([b"INCRBY".to_vec(), t.arg(), o.arg(), v.to_string().into_bytes()]),
            FieldOp::Overflow(ow) => out.extend([
                b"OVERFLOW".to_vec(),
                match ow {
                    Overflow::Wrap => b"WRAP".to_vec(),
                    Overflow::Sat => b"SAT".to_vec(),
                    Overflow::Fail => b"FAIL".to_vec(),
                },
            ]),
        }
    }
}

/// One common run found by [`Strings::lcs_matches`]: inclusive byte ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcsMatch {
    pub a: (u64, u64),
    pub b: (u64, u64),
    pub len: u64,
}

/// The result of [`Strings::lcs_matches`]: runs from the end of the strings
/// backwards (as Redis lists them), and the length of the whole LCS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcsMatches {
    pub matches: Vec<LcsMatch>,
    pub len: u64,
}

impl<'a> Strings<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Strings { db }
    }

    fn run(&self, parts: &[&[u8]]) -> Result<Reply, Error> {
        self.db.run(argv(parts))
    }

    fn run_owned(&self, parts: Vec<Vec<u8>>) -> Result<Reply, Error> {
        self.db.run(parts.into_iter().map(Bytes::from).collect())
    }

    /// `GET key`: the value, or `None` if the key does not exist.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"GET", key])?)
    }

    /// `SET key value`: writes the value, clearing any expiry.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.run(&[b"SET", key, value])?;
        Ok(())
    }

    fn set_args(key: &[u8], value: &[u8], opts: SetOptions, get: bool) -> Vec<Vec<u8>> {
        let mut a = vec![b"SET".to_vec(), key.to_vec(), value.to_vec()];
        match opts.condition {
            Condition::Always => {}
            Condition::IfMissing => a.push(b"NX".to_vec()),
            Condition::IfExists => a.push(b"XX".to_vec()),
        }
        if let Some(e) = opts.expiry {
            e.push_args(&mut a);
        }
        if opts.keep_ttl {
            a.push(b"KEEPTTL".to_vec());
        }
        if get {
            a.push(b"GET".to_vec());
        }
        a
    }

    /// `SET key value [NX|XX] [EX|PX|EXAT|PXAT n | KEEPTTL]`: true if the value was written.
    pub fn set_with(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<bool, Error> {
        Ok(matches!(
            self.run_owned(Self::set_args(key, value, opts, false))?,
            Reply::Status(_)
        ))
    }

    /// `SET key value ... GET`: like [`set_with`](Self::set_with), answering the
    /// previous value (an error if the key holds another type).
    pub fn set_get(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<Option<Bytes>, Error> {
        optional(self.run_owned(Self::set_args(key, value, opts, true))?)
    }

    /// `SETNX key value`: true if the key did not exist and was set.
    pub fn setnx(&self, key: &[u8], value: &[u8]) -> Result<bool, Error> {
        Ok(int(self.run(&[b"SETNX", key, value])?)? == 1)
    }

    /// `SETEX key seconds value`
    pub fn setex(&self, key: &[u8], seconds: i64, value: &[u8]) -> Result<(), Error> {
        self.run(&[b"SETEX", key, seconds.to_string().as_bytes(), value])?;
        Ok(())
    }

    /// `PSETEX key milliseconds value`
    pub fn psetex(&self, key: &[u8], millis: i64, value: &[u8]) -> Result<(), Error> {
        self.run(&[b"PSETEX", key, millis.to_string().as_bytes(), value])?;
        Ok(())
    }

    /// `GETSET key value`: sets the value (clearing the expiry), answers the old one.
    pub fn getset(&self, key: &[u8], value: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"GETSET", key, value])?)
    }

    /// `GETDEL key`: the value, deleting the key.
    pub fn getdel(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.run(&[b"GETDEL", key])?)
    }

    /// `GETEX key [EX|PX|EXAT|PXAT n | PERSIST]`: the value, changing the expiry.
    pub fn getex(&self, key: &[u8], ttl: GetExTtl) -> Result<Option<Bytes>, Error> {
        let mut a = vec![b"GETEX".to_vec(), key.to_vec()];
        match ttl {
            GetExTtl::Unchanged => {}
            GetExTtl::Set(e) => e.push_args(&mut a),
            GetExTtl::Persist => a.push(b"PERSIST".to_vec()),
        }
        optional(self.run_owned(a)?)
    }

    /// `MGET key [key ...]`: `None` for missing keys and keys of other types.
    pub fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>, Error> {
        let mut parts: Vec<&[u8]> = vec![b"MGET"];
        parts.extend_from_slice(keys);
        array(self.run(&parts)?)?.into_iter().map(optional).collect()
    }

    fn pairs_args(cmd: &[u8], pairs: &[(&[u8], &[u8])]) -> Vec<Vec<u8>> {
        let mut a = vec![cmd.to_vec()];
        for (k, v) in pairs {
            a.push(k.to_vec());
            a.push(v.to_vec());
        }
        a
    }

    /// `MSET key value [key value ...]`
    pub fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<(), Error> {
        self.run_owned(Self::pairs_args(b"MSET", pairs))?;
        Ok(())
    }

    /// `MSETNX key value [key value ...]`: sets all (true) or, if any key exists, none.
    pub fn msetnx(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool, Error> {
        Ok(int(self.run_owned(Self::pairs_args(b"MSETNX", pairs))?)? == 1)
    }

    /// `APPEND key value`: the new length.
    pub fn append(&self, key: &[u8], value: &[u8]) -> Result<u64, Error> {
        Ok(int(self.run(&[b"APPEND", key, value])?)? as u64)
    }

    /// `STRLEN key`: 0 for a missing key.
    pub fn strlen(&self, key: &[u8]) -> Result<u64, Error> {
        Ok(int(self.run(&[b"STRLEN", key])?)? as u64)
    }

    /// `GETRANGE key start end`: inclusive, negative indexes count from the end.
    pub fn get_range(&self, key: &[u8], start: i64, end: i64) -> Result<Bytes, Error> {
        bulk(self.run(&[
            b"GETRANGE",
            key,
            start.to_string().as_bytes(),
            end.to_string().as_bytes(),
        ])?)
    }

    /// `SETRANGE key offset value`: the new length (zero-padding as needed).
    pub fn set_range(&self, key: &[u8], offset: u64, value: &[u8]) -> Result<u64, Error> {
        Ok(int(self.run(&[b"SETRANGE", key, offset.to_string().as_bytes(), value])?)? as u64)
    }

    /// `INCR key`
    pub fn incr(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"INCR", key])?)
    }

    /// `INCRBY key increment`
    pub fn incr_by(&self, key: &[u8], by: i64) -> Result<i64, Error> {
        int(self.run(&[b"INCRBY", key, by.to_string().as_bytes()])?)
    }

    /// `DECR key`
    pub fn decr(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"DECR", key])?)
    }

    /// `DECRBY key decrement`
    pub fn decr_by(&self, key: &[u8], by: i64) -> Result<i64, Error> {
        int(self.run(&[b"DECRBY", key, by.to_string().as_bytes()])?)
    }

    /// `INCRBYFLOAT key increment`: the new value exactly as Redis stores and
    /// prints it (computed in 80-bit long double, e.g. `0.1 + 0.2` is `"0.3"`).
    /// The increment is a decimal string such as `"0.1"`, `"-5"` or `"1e3"`.
    pub fn incr_by_float(&self, key: &[u8], by: &str) -> Result<Bytes, Error> {
        bulk(self.run(&[b"INCRBYFLOAT", key, by.as_bytes()])?)
    }

    /// `LCS key1 key2`: the longest common subsequence.
    pub fn lcs(&self, key1: &[u8], key2: &[u8]) -> Result<Bytes, Error> {
        bulk(self.run(&[b"LCS", key1, key2])?)
    }

    /// `LCS key1 key2 LEN`
    pub fn lcs_len(&self, key1: &[u8], key2: &[u8]) -> Result<u64, Error> {
        Ok(int(self.run(&[b"LCS", key1, key2, b"LEN"])?)? as u64)
    }

    /// `LCS key1 key2 IDX MINMATCHLEN n WITHMATCHLEN`: the matching runs.
    pub fn lcs_matches(&self, key1: &[u8], key2: &[u8], min_match_len: u64) -> Result<LcsMatches, Error> {
        let min = min_match_len.to_string();
        let reply = self.run(&[
            b"LCS",
            key1,
            key2,
            b"IDX",
            b"MINMATCHLEN",
            min.as_bytes(),
            b"WITHMATCHLEN",
        ])?;
        let Reply::Map(pairs) = reply else {
            return unexpected(reply);
        };
        let mut out = LcsMatches {
            matches: Vec::new(),
            len: 0,
        };
        let pair = |r: Reply| -> Result<(u64, u64), Error> {
            let v = array(r)?;
            match v.as_slice() {
                [Reply::Int(a), Reply::Int(b)] => Ok((*a as u64, *b as u64)),
                _ => unexpected(Reply::Array(v)),
            }
        };
        for (k, v) in pairs {
            match (k, v) {
                (Reply::Bulk(k), Reply::Int(n)) if &k[..] == b"len" => out.len = n as u64,
                (Reply::Bulk(k), Reply::Array(items)) if &k[..] == b"matches" => {
                    for item in items {
                        let mut parts = array(item)?.into_iter();
                        let (Some(a), Some(b), Some(Reply::Int(len))) = (parts.next(), parts.next(), parts.next())
                        else {
                            return Err(Error::Redis("unexpected LCS match".into()));
                        };
                        out.matches.push(LcsMatch {
                            a: pair(a)?,
                            b: pair(b)?,
                            len: len as u64,
                        });
                    }
                }
                (k, v) => return unexpected(Reply::Array(vec![k, v])),
            }
        }
        Ok(out)
    }

    /// `SETBIT key offset 0|1`: the previous bit.
    pub fn setbit(&self, key: &[u8], offset: u64, bit: bool) -> Result<bool, Error> {
        let b: &[u8] = if bit { b"1" } else { b"0" };
        Ok(int(self.run(&[b"SETBIT", key, offset.to_string().as_bytes(), b])?)? == 1)
    }

    /// `GETBIT key offset`
    pub fn getbit(&self, key: &[u8], offset: u64) -> Result<bool, Error> {
        Ok(int(self.run(&[b"GETBIT", key, offset.to_string().as_bytes()])?)? == 1)
    }

    /// `BITCOUNT key`: set bits in the whole string.
    pub fn bitcount(&self, key: &[u8]) -> Result<u64, Error> {
        Ok(int(self.run(&[b"BITCOUNT", key])?)? as u64)
    }

    /// `BITCOUNT key start end BYTE|BIT`
    pub fn bitcount_range(&self, key: &[u8], start: i64, end: i64, unit: BitUnit) -> Result<u64, Error> {
        let (s, e) = (start.to_string(), end.to_string());
        Ok(int(self.run(&[b"BITCOUNT", key, s.as_bytes(), e.as_bytes(), unit.name()])?)? as u64)
    }

    /// `BITPOS key bit [start [end BYTE|BIT]]`: the first position of `bit`,
    /// or `None` where Redis answers -1.
    pub fn bitpos(&self, key: &[u8], bit: bool, range: BitPosRange) -> Result<Option<u64>, Error> {
        let mut a = vec![
            b"BITPOS".to_vec(),
            key.to_vec(),
            if bit { b"1".to_vec() } else { b"0".to_vec() },
        ];
        let mut push = |n: i64| a.push(n.to_string().into_bytes());
        let unit = match range {
            BitPosRange::All => None,
            BitPosRange::From(start) => {
                push(start);
                None
            }
            BitPosRange::Bytes(start, end) => {
                push(start);
                push(end);
                Some(BitUnit::Byte)
            }
            BitPosRange::Bits(start, end) => {
                push(start);
                push(end);
                Some(BitUnit::Bit)
            }
        };
        if let Some(unit) = unit {
            a.push(unit.name().to_vec());
        }
        let n = int(self.run_owned(a)?)?;
        Ok(u64::try_from(n).ok())
    }

    /// `BITOP op destkey key [key ...]`: the length of the stored result.
    pub fn bitop(&self, op: BitOp, dest: &[u8], keys: &[&[u8]]) -> Result<u64, Error> {
        let name: &[u8] = match op {
            BitOp::And => b"AND",
            BitOp::Or => b"OR",
            BitOp::Xor => b"XOR",
            BitOp::Not => b"NOT",
        };
        let mut parts: Vec<&[u8]> = vec![b"BITOP", name, dest];
        parts.extend_from_slice(keys);
        Ok(int(self.run(&parts)?)? as u64)
    }

    fn bitfield_run(&self, cmd: &[u8], key: &[u8], ops: &[FieldOp]) -> Result<Vec<Option<i64>>, Error> {
        let mut a = vec![cmd.to_vec(), key.to_vec()];
        for op in ops {
            op.push_args(&mut a);
        }
        array(self.run_owned(a)?)?
            .into_iter()
            .map(|r| match r {
                Reply::Int(n) => Ok(Some(n)),
                Reply::Nil => Ok(None),
                other => unexpected(other),
            })
            .collect()
    }

    /// `BITFIELD key op...`: one result per GET/SET/INCRBY (`None` where
    /// `OVERFLOW FAIL` refused the operation).
    pub fn bitfield(&self, key: &[u8], ops: &[FieldOp]) -> Result<Vec<Option<i64>>, Error> {
        self.bitfield_run(b"BITFIELD", key, ops)
    }

    /// `BITFIELD_RO key GET type offset ...`
    pub fn bitfield_ro(&self, key: &[u8], gets: &[(FieldType, FieldOffset)]) -> Result<Vec<i64>, Error> {
        let ops: Vec<FieldOp> = gets.iter().map(|&(t, o)| FieldOp::Get(t, o)).collect();
        Ok(self
            .bitfield_run(b"BITFIELD_RO", key, &ops)?
            .into_iter()
            .flatten()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;

    fn db() -> Db {
        Db::open(":memory:").expect("open")
    }

    #[test]
    fn get_set_and_options() {
        let db = db();
        let s = db.strings();
        assert_eq!(s.get(b"k").unwrap(), None);
        s.set(b"k", b"v\x00").unwrap();
        assert_eq!(s.get(b"k").unwrap().as_deref(), Some(&b"v\x00"[..]));
        let nx = SetOptions {
            condition: Condition::IfMissing,
            ..Default::default()
        };
        assert!(!s.set_with(b"k", b"x", nx).unwrap());
        assert!(s.set_with(b"k2", b"x", nx).unwrap());
        let opts = SetOptions {
            expiry: Some(Expiry::Seconds(100)),
            ..Default::default()
        };
        assert_eq!(s.set_get(b"k", b"new", opts).unwrap().as_deref(), Some(&b"v\x00"[..]));
        let bad = SetOptions {
            expiry: Some(Expiry::Seconds(0)),
            ..Default::default()
        };
        assert_eq!(
            s.set_with(b"k", b"x", bad),
            Err(Error::Redis("ERR invalid expire time in 'set' command".into()))
        );
        assert!(s.setnx(b"n", b"1").unwrap());
        assert!(!s.setnx(b"n", b"2").unwrap());
        assert_eq!(s.getset(b"n", b"3").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(s.getdel(b"n").unwrap().as_deref(), Some(&b"3"[..]));
        assert_eq!(s.getdel(b"n").unwrap(), None);
        s.setex(b"e", 100, b"v").unwrap();
        s.psetex(b"e", 100_000, b"w").unwrap();
        assert_eq!(s.getex(b"e", GetExTtl::Persist).unwrap().as_deref(), Some(&b"w"[..]));
        assert_eq!(
            s.getex(b"e", GetExTtl::Set(Expiry::AtSeconds(1))).unwrap().as_deref(),
            Some(&b"w"[..])
        );
        assert_eq!(s.get(b"e").unwrap(), None);
    }

    #[test]
    fn multi_and_ranges() {
        let db = db();
        let s = db.strings();
        s.mset(&[(b"a", b"1"), (b"b", b"2")]).unwrap();
        assert_eq!(
            s.mget(&[b"a", b"nope", b"b"]).unwrap(),
            vec![Some(Bytes::from("1")), None, Some(Bytes::from("2"))]
        );
        assert!(!s.msetnx(&[(b"a", b"x"), (b"c", b"y")]).unwrap());
        assert!(s.msetnx(&[(b"c", b"x"), (b"d", b"y")]).unwrap());
        assert_eq!(s.append(b"s", b"Hello").unwrap(), 5);
        assert_eq!(s.append(b"s", b" World").unwrap(), 11);
        assert_eq!(s.strlen(b"s").unwrap(), 11);
        assert_eq!(&s.get_range(b"s", -5, -1).unwrap()[..], b"World");
        assert_eq!(s.set_range(b"s", 6, b"Redis").unwrap(), 11);
        assert_eq!(s.set_range(b"z", 2, b"x").unwrap(), 3);
        assert_eq!(&s.get(b"z").unwrap().unwrap()[..], b"\0\0x");
        assert_eq!(&s.lcs(b"s", b"z").unwrap()[..], b"");
        s.mset(&[(b"l1", b"ohmytext"), (b"l2", b"mynewtext")]).unwrap();
        assert_eq!(&s.lcs(b"l1", b"l2").unwrap()[..], b"mytext");
        assert_eq!(s.lcs_len(b"l1", b"l2").unwrap(), 6);
        let m = s.lcs_matches(b"l1", b"l2", 4).unwrap();
        assert_eq!(m.len, 6);
        assert_eq!(
            m.matches,
            vec![LcsMatch {
                a: (4, 7),
                b: (5, 8),
                len: 4
            }]
        );
    }

    #[test]
    fn counters() {
        let db = db();
        let s = db.strings();
        assert_eq!(s.incr(b"c").unwrap(), 1);
        assert_eq!(s.incr_by(b"c", 10).unwrap(), 11);
        assert_eq!(s.decr(b"c").unwrap(), 10);
        assert_eq!(s.decr_by(b"c", 20).unwrap(), -10);
        s.set(b"c", &i64::MAX.to_string().into_bytes()).unwrap();
        assert_eq!(
            s.incr(b"c"),
            Err(Error::Redis("ERR increment or decrement would overflow".into()))
        );
        assert_eq!(&s.incr_by_float(b"f", "0.1").unwrap()[..], b"0.1");
        assert_eq!(&s.incr_by_float(b"f", "0.2").unwrap()[..], b"0.3");
        assert_eq!(&s.incr_by_float(b"f", "-0.3").unwrap()[..], b"0");
        assert_eq!(
            s.incr_by_float(b"f", "inf"),
            Err(Error::Redis("ERR increment would produce NaN or Infinity".into()))
        );
        s.set(b"w", b"abc").unwrap();
        assert_eq!(
            s.incr(b"w"),
            Err(Error::Redis("ERR value is not an integer or out of range".into()))
        );
    }

    #[test]
    fn bitmaps() {
        let db = db();
        let s = db.strings();
        assert!(!s.setbit(b"b", 7, true).unwrap());
        assert!(s.setbit(b"b", 7, true).unwrap());
        assert!(s.getbit(b"b", 7).unwrap());
        assert!(!s.getbit(b"b", 1000).unwrap());
        assert_eq!(s.bitcount(b"b").unwrap(), 1);
        s.set(b"f", b"foobar").unwrap();
        assert_eq!(s.bitcount_range(b"f", 1, 1, BitUnit::Byte).unwrap(), 6);
        assert_eq!(s.bitcount_range(b"f", 5, 30, BitUnit::Bit).unwrap(), 17);
        assert_eq!(s.bitpos(b"b", true, BitPosRange::All).unwrap(), Some(7));
        assert_eq!(s.bitpos(b"nope", true, BitPosRange::All).unwrap(), None);
        assert_eq!(s.bitpos(b"f", false, BitPosRange::Bits(0, -1)).unwrap(), Some(0));
        s.set(b"ones", b"\xff").unwrap();
        assert_eq!(s.bitpos(b"ones", false, BitPosRange::All).unwrap(), Some(8));
        assert_eq!(s.bitpos(b"ones", false, BitPosRange::From(0)).unwrap(), Some(8));
        assert_eq!(s.bitpos(b"ones", false, BitPosRange::Bytes(0, -1)).unwrap(), None);
        assert_eq!(s.bitpos(b"b", false, BitPosRange::Bytes(0, 0)).unwrap(), Some(0));
        assert_eq!(s.bitop(BitOp::Not, b"d", &[b"b"]).unwrap(), 1);
        assert_eq!(&s.get(b"d").unwrap().unwrap()[..], b"\xfe");
        let r = s
            .bitfield(
                b"bf",
                &[
                    FieldOp::Set(FieldType::unsigned(8), FieldOffset::Index(1), 200),
                    FieldOp::Overflow(Overflow::Fail),
                    FieldOp::IncrBy(FieldType::unsigned(8), FieldOffset::Bits(8), 100),
                    FieldOp::Get(FieldType::signed(8), FieldOffset::Bits(8)),
                ],
            )
            .unwrap();
        assert_eq!(r, vec![Some(0), None, Some(-56)]);
        assert_eq!(
            s.bitfield_ro(b"bf", &[(FieldType::unsigned(8), FieldOffset::Index(1))])
                .unwrap(),
            vec![200]
        );
    }
}
