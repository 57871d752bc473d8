//! [`Keys`]: key-space commands (existence, type, iteration, renaming,
//! copying, expiry, serialization) for keys of every type.

use super::Runner;
use super::argv;
use super::reply::{bulks, int, optional};
use crate::Error;
use crate::resp::Reply;
use crate::store::KeyType;
use bytes::Bytes;
use std::collections::VecDeque;

/// Typed access to key-space commands. Get one from [`Db::keys`].
///
/// ```
/// let db = redsql::Db::open(":memory:")?;
/// db.strings().set(b"session:1", b"alice")?;
/// db.keys().expire(b"session:1", 60)?;
/// assert_eq!(db.keys().ttl(b"session:1")?, redsql::KeyExpiry::Expires(60));
/// assert_eq!(db.keys().keys(b"session:*")?, vec![bytes::Bytes::from("session:1")]);
/// # Ok::<(), redsql::Error>(())
/// ```
pub struct Keys<'a> {
    db: &'a dyn Runner,
}

/// The expiry state of a key, as the TTL family reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExpiry {
    /// The key does not exist (Redis replies -2).
    Missing,
    /// The key exists and has no expiry (Redis replies -1).
    Persistent,
    /// The key expires: the remaining time ([`Keys::ttl`], [`Keys::pttl`]) or
    /// the Unix time ([`Keys::expire_time`], [`Keys::pexpire_time`]), in the
    /// method's unit.
    Expires(i64),
}

impl KeyExpiry {
    fn from_reply(n: i64) -> KeyExpiry {
        match n {
            -2 => KeyExpiry::Missing,
            -1 => KeyExpiry::Persistent,
            n => KeyExpiry::Expires(n),
        }
    }
}

/// When an expiry is applied (the NX / XX / GT / LT options of EXPIRE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// Always.
    #[default]
    Always,
    /// `NX`: only if the key has no expiry yet.
    IfNone,
    /// `XX`: only if the key already has an expiry.
    IfSet,
    /// `GT`: only if the new expiry is later than the current one (a key
    /// without expiry counts as never expiring, so it is never changed).
    IfLater,
    /// `LT`: only if the new expiry is earlier than the current one (a key
    /// without expiry counts as never expiring, so it always gets one).
    IfEarlier,
}

impl ExpireCondition {
    fn option(self) -> Option<&'static [u8]> {
        match self {
            ExpireCondition::Always => None,
            ExpireCondition::IfNone => Some(b"NX"),
            ExpireCondition::IfSet => Some(b"XX"),
            ExpireCondition::IfLater => Some(b"GT"),
            ExpireCondition::IfEarlier => Some(b"LT"),
        }
    }
}

/// Filters and batch size of a [`Keys::scan`].
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pattern: Option<Bytes>,
    count: Option<u64>,
    kind: Option<KeyType>,
}

impl ScanOptions {
    /// All keys, in batches of Redis's default size (10).
    pub fn new() -> ScanOptions {
        ScanOptions::default()
    }

    /// Only keys matching a glob-style pattern (`MATCH`).
    pub fn pattern(mut self, pattern: &[u8]) -> ScanOptions {
        self.pattern = Some(Bytes::copy_from_slice(pattern));
        self
    }

    /// How many keys to read per round trip (`COUNT`, at least 1).
    pub fn count(mut self, count: u64) -> ScanOptions {
        self.count = Some(count.max(1));
        self
    }

    /// Only keys of one type (`TYPE`).
    pub fn kind(mut self, kind: KeyType) -> ScanOptions {
        self.kind = Some(kind);
        self
    }
}

/// An iterator over the keys of a database, running `SCAN` as it goes.
///
/// Keys that exist for the whole iteration are returned exactly once; keys
/// added or removed meanwhile may or may not be.
pub struct Scan<'a> {
    db: &'a dyn Runner,
    options: ScanOptions,
    cursor: Bytes,
    buffer: VecDeque<Bytes>,
    done: bool,
}

impl Scan<'_> {
    /// Runs one SCAN round trip, refilling the buffer.
    fn fetch(&mut self) -> Result<(), Error> {
        let mut args = vec![Bytes::from_static(b"SCAN"), self.cursor.clone()];
        if let Some(p) = &self.options.pattern {
            args.extend([Bytes::from_static(b"MATCH"), p.clone()]);
        }
        if let Some(c) = self.options.count {
            args.extend([Bytes::from_static(b"COUNT"), Bytes::from(c.to_string())]);
        }
        if let Some(k) = self.options.kind {
            args.extend([Bytes::from_static(b"TYPE"), Bytes::from_static(k.name().as_bytes())]);
        }
        let Reply::Array(mut parts) = self.db.run(args)? else {
            return Err(malformed());
        };
        let (Some(Reply::Array(keys)), Some(Reply::Bulk(cursor))) = (parts.pop(), parts.pop()) else {
            return Err(malformed());
        };
        self.done = &cursor[..] == b"0";
        self.cursor = cursor;
        for k in keys {
            match k {
                Reply::Bulk(k) => self.buffer.push_back(k),
                _ => return Err(malformed()),
            }
        }
        Ok(())
    }
}

impl Iterator for Scan<'_> {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(k) = self.buffer.pop_front() {
                return Some(Ok(k));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

/// A reply of an unexpected shape (a bug, if it ever happens).
fn malformed() -> Error {
    Error::Redis("ERR unexpected reply".into())
}

impl<'a> Keys<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Keys { db }
    }

    /// Runs a command whose arguments are a command name, then `keys`.
    fn with_keys(&self, name: &[u8], keys: &[&[u8]]) -> Result<Reply, Error> {
        let mut parts: Vec<&[u8]> = vec![name];
        parts.extend_from_slice(keys);
        self.db.run(argv(&parts))
    }

    /// `DEL key [key ...]`: how many keys were removed.
    pub fn del(&self, keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.with_keys(b"DEL", keys)?)
    }

    /// `UNLINK key [key ...]`: the same as [`del`](Self::del) in redsql.
    pub fn unlink(&self, keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.with_keys(b"UNLINK", keys)?)
    }

    /// `EXISTS key`
    pub fn exists(&self, key: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"EXISTS", key]))?)? > 0)
    }

    /// `EXISTS key [key ...]`: how many of the keys exist (a key named twice counts twice).
    pub fn count_existing(&self, keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.with_keys(b"EXISTS", keys)?)
    }

    /// `TOUCH key [key ...]`: how many of the keys exist.
    pub fn touch(&self, keys: &[&[u8]]) -> Result<i64, Error> {
        int(self.with_keys(b"TOUCH", keys)?)
    }

    /// `TYPE key`: the key's type, or `None` if it does not exist.
    pub fn type_of(&self, key: &[u8]) -> Result<Option<KeyType>, Error> {
        match self.db.run(argv(&[b"TYPE", key]))? {
            Reply::Status(s) if &s[..] == b"none" => Ok(None),
            Reply::Status(s) => KeyType::from_name(&s).map(Some).ok_or_else(malformed),
            _ => Err(malformed()),
        }
    }

    /// `KEYS pattern`: every key matching a glob-style pattern (`*`, `?`,
    /// `[a-z]`, `\x`), in no particular order. Prefer [`scan`](Self::scan) on
    /// big databases.
    pub fn keys(&self, pattern: &[u8]) -> Result<Vec<Bytes>, Error> {
        bulks(self.db.run(argv(&[b"KEYS", pattern]))?)
    }

    /// Iterates over the keys with `SCAN`, a batch at a time.
    ///
    /// ```
    /// # let db = redsql::Db::open(":memory:")?;
    /// # db.strings().set(b"user:1", b"x")?;
    /// use redsql::ScanOptions;
    /// for key in db.keys().scan(ScanOptions::new().pattern(b"user:*").count(100)) {
    ///     println!("{:?}", key?);
    /// }
    /// # Ok::<(), redsql::Error>(())
    /// ```
    pub fn scan(&self, options: ScanOptions) -> Scan<'a> {
        Scan {
            db: self.db,
            options,
            cursor: Bytes::from_static(b"0"),
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// `RANDOMKEY`: a random key, or `None` if the database is empty.
    pub fn random_key(&self) -> Result<Option<Bytes>, Error> {
        optional(self.db.run(argv(&[b"RANDOMKEY"]))?)
    }

    /// `RENAME key newkey`: moves the value and its expiry, replacing `newkey`.
    /// Fails with `ERR no such key` if `key` does not exist.
    pub fn rename(&self, key: &[u8], new_key: &[u8]) -> Result<(), Error> {
        self.db.run(argv(&[b"RENAME", key, new_key]))?;
        Ok(())
    }

    /// `RENAMENX key newkey`: renames only if `newkey` does not exist; true if renamed.
    pub fn rename_nx(&self, key: &[u8], new_key: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"RENAMENX", key, new_key]))?)? == 1)
    }

    /// `COPY source destination [REPLACE]`: copies value and expiry; true if copied
    /// (false if `source` is missing, or `destination` exists and `replace` is false).
    pub fn copy(&self, source: &[u8], destination: &[u8], replace: bool) -> Result<bool, Error> {
        let mut parts: Vec<&[u8]> = vec![b"COPY", source, destination];
        if replace {
            parts.push(b"REPLACE");
        }
        Ok(int(self.db.run(argv(&parts))?)? == 1)
    }

    /// `COPY source destination DB db [REPLACE]`: copies into another database.
    pub fn copy_to_db(&self, source: &[u8], destination: &[u8], db: u32, replace: bool) -> Result<bool, Error> {
        let db = db.to_string();
        let mut parts: Vec<&[u8]> = vec![b"COPY", source, destination, b"DB", db.as_bytes()];
        if replace {
            parts.push(b"REPLACE");
        }
        Ok(int(self.db.run(argv(&parts))?)? == 1)
    }

    /// `MOVE key db`: true if moved (false if missing here or present there).
    pub fn move_to_db(&self, key: &[u8], db: u32) -> Result<bool, Error> {
        let db = db.to_string();
        Ok(int(self.db.run(argv(&[b"MOVE", key, db.as_bytes()]))?)? == 1)
    }

    /// Runs one of the EXPIRE family; true if the expiry was set (or the key deleted).
    fn expire_command(&self, name: &[u8], key: &[u8], time: i64, cond: ExpireCondition) -> Result<bool, Error> {
        let time = time.to_string();
        let mut parts: Vec<&[u8]> = vec![name, key, time.as_bytes()];
        parts.extend(cond.option());
        Ok(int(self.db.run(argv(&parts))?)? == 1)
    }

    /// `EXPIRE key seconds`: true if the key exists. A time ≤ 0 deletes the key.
    pub fn expire(&self, key: &[u8], seconds: i64) -> Result<bool, Error> {
        self.expire_command(b"EXPIRE", key, seconds, ExpireCondition::Always)
    }

    /// `PEXPIRE key milliseconds`
    pub fn pexpire(&self, key: &[u8], millis: i64) -> Result<bool, Error> {
        self.expire_command(b"PEXPIRE", key, millis, ExpireCondition::Always)
    }

    /// `EXPIREAT key unix-time-seconds`
    pub fn expire_at(&self, key: &[u8], unix_seconds: i64) -> Result<bool, Error> {
        self.expire_command(b"EXPIREAT", key, unix_seconds, ExpireCondition::Always)
    }

    /// `PEXPIREAT key unix-time-milliseconds`
    pub fn pexpire_at(&self, key: &[u8], unix_millis: i64) -> Result<bool, Error> {
        self.expire_command(b"PEXPIREAT", key, unix_millis, ExpireCondition::Always)
    }

    /// `PEXPIRE key milliseconds NX|XX|GT|LT`: true if the condition held and the expiry was set.
    pub fn pexpire_if(&self, key: &[u8], millis: i64, cond: ExpireCondition) -> Result<bool, Error> {
        self.expire_command(b"PEXPIRE", key, millis, cond)
    }

    /// `PEXPIREAT key unix-time-milliseconds NX|XX|GT|LT`
    pub fn pexpire_at_if(&self, key: &[u8], unix_millis: i64, cond: ExpireCondition) -> Result<bool, Error> {
        self.expire_command(b"PEXPIREAT", key, unix_millis, cond)
    }

    fn ttl_command(&self, name: &[u8], key: &[u8]) -> Result<KeyExpiry, Error> {
        Ok(KeyExpiry::from_reply(int(self.db.run(argv(&[name, key]))?)?))
    }

    /// `TTL key`: remaining seconds (rounded).
    pub fn ttl(&self, key: &[u8]) -> Result<KeyExpiry, Error> {
        self.ttl_command(b"TTL", key)
    }

    /// `PTTL key`: remaining milliseconds.
    pub fn pttl(&self, key: &[u8]) -> Result<KeyExpiry, Error> {
        self.ttl_command(b"PTTL", key)
    }

    /// `EXPIRETIME key`: the Unix time in seconds at which the key expires.
    pub fn expire_time(&self, key: &[u8]) -> Result<KeyExpiry, Error> {
        self.ttl_command(b"EXPIRETIME", key)
    }

    /// `PEXPIRETIME key`: the Unix time in milliseconds at which the key expires.
    pub fn pexpire_time(&self, key: &[u8]) -> Result<KeyExpiry, Error> {
        self.ttl_command(b"PEXPIRETIME", key)
    }

    /// `PERSIST key`: removes the expiry; true if there was one.
    pub fn persist(&self, key: &[u8]) -> Result<bool, Error> {
        Ok(int(self.db.run(argv(&[b"PERSIST", key]))?)? == 1)
    }

    /// `OBJECT ENCODING key`: Redis's name for the value's representation
    /// (`int`, `embstr`, `raw`, ...), or `None` if the key does not exist.
    pub fn object_encoding(&self, key: &[u8]) -> Result<Option<String>, Error> {
        Ok(optional(self.db.run(argv(&[b"OBJECT", b"ENCODING", key]))?)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// `DUMP key`: the value in Redis's serialization format (loadable by
    /// Redis's and redsql's RESTORE), or `None` if the key does not exist.
    pub fn dump(&self, key: &[u8]) -> Result<Option<Bytes>, Error> {
        optional(self.db.run(argv(&[b"DUMP", key]))?)
    }

    /// `RESTORE key ttl payload [REPLACE]`: creates the key from a DUMP
    /// payload, expiring in `ttl_millis` (0: no expiry). Without `replace`,
    /// an existing key is an error (`BUSYKEY`).
    pub fn restore(&self, key: &[u8], ttl_millis: i64, payload: &[u8], replace: bool) -> Result<(), Error> {
        self.restore_command(key, ttl_millis, payload, replace, false)
    }

    /// `RESTORE key unix-time-ms payload ABSTTL [REPLACE]`: like
    /// [`restore`](Self::restore) with an absolute expiry time (0: none).
    pub fn restore_at(&self, key: &[u8], unix_millis: i64, payload: &[u8], replace: bool) -> Result<(), Error> {
        self.restore_command(key, unix_millis, payload, replace, true)
    }

    fn restore_command(&self, key: &[u8], ttl: i64, payload: &[u8], replace: bool, abs: bool) -> Result<(), Error> {
        let ttl = ttl.to_string();
        let mut parts: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), payload];
        if replace {
            parts.push(b"REPLACE");
        }
        if abs {
            parts.push(b"ABSTTL");
        }
        self.db.run(argv(&parts))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;

    fn db() -> Db {
        Db::open(":memory:").unwrap()
    }

    #[test]
    fn existence_and_deletion() {
        let db = db();
        let k = db.keys();
        db.strings().set(b"a", b"1").unwrap();
        db.strings().set(b"b", b"2").unwrap();
        assert!(k.exists(b"a").unwrap());
        assert_eq!(k.count_existing(&[b"a", b"a", b"b", b"c"]).unwrap(), 3);
        assert_eq!(k.touch(&[b"a", b"c"]).unwrap(), 1);
        assert_eq!(k.type_of(b"a").unwrap(), Some(KeyType::String));
        assert_eq!(k.type_of(b"c").unwrap(), None);
        assert_eq!(k.del(&[b"a", b"c"]).unwrap(), 1);
        assert_eq!(k.unlink(&[b"b"]).unwrap(), 1);
        assert!(!k.exists(b"a").unwrap());
        assert_eq!(k.random_key().unwrap(), None);
    }

    #[test]
    fn listing_keys() {
        let db = db();
        let k = db.keys();
        for i in 0..25 {
            db.strings().set(format!("user:{i}").as_bytes(), b"x").unwrap();
        }
        db.strings().set(b"other", b"x").unwrap();
        let mut users = k.keys(b"user:*").unwrap();
        users.sort();
        assert_eq!(users.len(), 25);
        assert_eq!(users[0], Bytes::from("user:0"));
        let mut scanned: Vec<Bytes> = k
            .scan(ScanOptions::new().pattern(b"user:*").count(7))
            .collect::<Result<_, _>>()
            .unwrap();
        scanned.sort();
        assert_eq!(scanned, users);
        assert_eq!(k.scan(ScanOptions::new()).count(), 26);
        assert_eq!(k.scan(ScanOptions::new().kind(KeyType::List)).count(), 0);
        assert!(k.random_key().unwrap().is_some());
    }

    #[test]
    fn renaming_copying_moving() {
        let db = db();
        let k = db.keys();
        db.strings().set(b"a", b"1").unwrap();
        k.expire_at(b"a", 4_000_000_000).unwrap();
        k.rename(b"a", b"b").unwrap();
        assert_eq!(k.expire_time(b"b").unwrap(), KeyExpiry::Expires(4_000_000_000));
        assert_eq!(k.rename(b"a", b"b"), Err(Error::Redis("ERR no such key".into())));
        db.strings().set(b"c", b"3").unwrap();
        assert!(!k.rename_nx(b"b", b"c").unwrap());
        assert!(k.copy(b"b", b"d", false).unwrap());
        assert!(!k.copy(b"c", b"d", false).unwrap());
        assert!(k.copy(b"c", b"d", true).unwrap());
        assert_eq!(db.strings().get(b"d").unwrap().as_deref(), Some(&b"3"[..]));
        assert!(k.copy_to_db(b"d", b"d", 1, false).unwrap());
        assert!(k.move_to_db(b"c", 2).unwrap());
        assert!(!k.exists(b"c").unwrap());
        let db2 = db.select(2).unwrap();
        assert!(db2.keys().exists(b"c").unwrap());
        assert_eq!(
            k.move_to_db(b"d", 0),
            Err(Error::Redis("ERR source and destination objects are the same".into()))
        );
    }

    #[test]
    fn expiry() {
        let db = db();
        let k = db.keys();
        assert_eq!(k.ttl(b"a").unwrap(), KeyExpiry::Missing);
        db.strings().set(b"a", b"1").unwrap();
        assert_eq!(k.ttl(b"a").unwrap(), KeyExpiry::Persistent);
        assert!(k.expire(b"a", 100).unwrap());
        assert_eq!(k.ttl(b"a").unwrap(), KeyExpiry::Expires(100));
        assert!(matches!(k.pttl(b"a").unwrap(), KeyExpiry::Expires(n) if n > 99_000));
        assert!(!k.pexpire_if(b"a", 5_000, ExpireCondition::IfNone).unwrap());
        assert!(!k.pexpire_if(b"a", 500_000, ExpireCondition::IfEarlier).unwrap());
        assert!(k.pexpire_if(b"a", 500_000, ExpireCondition::IfLater).unwrap());
        assert!(
            k.pexpire_at_if(b"a", 4_000_000_000_123, ExpireCondition::IfSet)
                .unwrap()
        );
        assert_eq!(k.pexpire_time(b"a").unwrap(), KeyExpiry::Expires(4_000_000_000_123));
        assert!(k.persist(b"a").unwrap());
        assert!(!k.persist(b"a").unwrap());
        assert!(k.pexpire(b"a", -1).unwrap());
        assert!(!k.exists(b"a").unwrap());
        assert!(!k.expire(b"a", 10).unwrap());
        assert!(matches!(k.expire(b"a", i64::MAX), Err(Error::Redis(m)) if m.contains("invalid expire time")));
    }

    #[test]
    fn dump_and_restore() {
        let db = db();
        let k = db.keys();
        assert_eq!(k.dump(b"a").unwrap(), None);
        let value = b"a value long enough to be compressed, compressed, compressed".repeat(3);
        db.strings().set(b"a", &value).unwrap();
        assert_eq!(k.object_encoding(b"a").unwrap().as_deref(), Some("raw"));
        let payload = k.dump(b"a").unwrap().unwrap();
        k.restore(b"b", 0, &payload, false).unwrap();
        assert_eq!(db.strings().get(b"b").unwrap().as_deref(), Some(&value[..]));
        assert_eq!(
            k.restore(b"b", 0, &payload, false),
            Err(Error::Redis("BUSYKEY Target key name already exists.".into()))
        );
        k.restore_at(b"b", 4_000_000_000_000, &payload, true).unwrap();
        assert_eq!(k.expire_time(b"b").unwrap(), KeyExpiry::Expires(4_000_000_000));
        assert_eq!(
            k.restore(b"c", 0, b"garbage payload", false),
            Err(Error::Redis("ERR DUMP payload version or checksum are wrong".into()))
        );
    }
}
