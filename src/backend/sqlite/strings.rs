//! Read-modify-write of string keys on SQLite ([`Store::update_string`]),
//! and MSET's writes ([`Store::set_strings`]).
//!
//! INCR, APPEND and their kin read the string and write it back. The read
//! finds the row through the `(db, key)` index; the write then addresses the
//! row by its rowid, so the index is descended once per command, not twice.
//! The new value never changes the row's type, so no trigger can fire and
//! SQLite needs no statement journal for the update.
//!
//! MSET overwrites its strings with one prepared UPDATE, run once per
//! pair, rather than a statement looked up (by its SQL text) in rusqlite's
//! cache per key, with fewer parameters than SET's general statement (no
//! expiry to keep).
//!
//! [`Store::update_string`]: crate::store::Store::update_string
//! [`Store::set_strings`]: crate::store::Store::set_strings

use super::SqliteStore;
use crate::store::{KeyType, Store, StoreResult, StringUpdate, Ttl};
use bytes::Bytes;
use rusqlite::{OptionalExtension, params};

/// A key's row as the read of a read-modify-write needs it.
struct StringRow {
    id: i64,
    kind: KeyType,
    expire_at: Option<i64>,
    value: Option<Vec<u8>>,
}

impl SqliteStore<'_> {
    /// See [`Store::set_strings`]. A string (live or expired) is
    /// overwritten in place, a new key inserted; only a key of another type
    /// takes [`Store::set_string`]'s path (the upsert that retypes it).
    pub(super) fn set_string_rows(&mut self, db: u32, pairs: &[Bytes]) -> StoreResult<()> {
        let conn = self.conn;
        let mut update =
            conn.cached("UPDATE rkey SET value=?3, version=?4, expire_at=NULL WHERE db=?1 AND key=?2 AND type=0")?;
        for kv in pairs.chunks_exact(2) {
            let (key, value) = (&kv[0][..], &kv[1][..]);
            let version = self.next_version();
            if update.execute(params![db, key, value, version])? == 0
                && conn
                    .cached(
                        "INSERT OR IGNORE INTO rkey (db, key, type, version, value, len) VALUES (?1, ?2, 0, ?4, ?3, 0)",
                    )?
                    .execute(params![db, key, value, version])?
                    == 0
            {
                self.set_string(db, key, value, Ttl::Persist)?;
            }
        }
        Ok(())
    }

    /// See [`Store::update_string`].
    pub(super) fn update_string_row(&mut self, db: u32, key: &[u8], f: &mut StringUpdate) -> StoreResult<Option<bool>> {
        let row = self
            .conn
            .cached("SELECT id, type, expire_at, value FROM rkey WHERE db=?1 AND key=?2")?
            .query_row(params![db, key], |r| {
                Ok(StringRow {
                    id: r.get(0)?,
                    kind: KeyType::from_i64(r.get(1)?),
                    expire_at: r.get(2)?,
                    value: r.get(3)?,
                })
            })
            .optional()?;
        let now = self.now();
        let live = row.filter(|r| r.expire_at.is_none_or(|t| t > now));
        match live {
            Some(r) if r.kind != KeyType::String => Ok(None),
            Some(r) => {
                if let Some(new) = f(Some(r.value.as_deref().unwrap_or_default())) {
                    // A live string: its expiry stays as it is.
                    let version = self.next_version();
                    self.conn
                        .cached("UPDATE rkey SET value=?1, version=?2 WHERE id=?3")?
                        .execute(params![new, version, r.id])?;
                }
                Ok(Some(true))
            }
            None => {
                if let Some(new) = f(None) {
                    // A new key (an expired row, of any type, is replaced).
                    self.set_string(db, key, &new, Ttl::Keep)?;
                }
                Ok(Some(false))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sqlite::{Location, Sync, open_writer};

    /// The rowid path behaves like the trait's default (read with `get`,
    /// write with `set_string`): expiry kept on a live key, dropped with a
    /// dead one, other types untouched.
    #[test]
    fn update_string_keeps_ttl_and_types() {
        let c = crate::backend::sqlite::conn::Conn::new(open_writer(&Location::parse(":memory:"), Sync::Off).unwrap());
        let mut version = 0;
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        let append = |s: &mut SqliteStore, key: &[u8]| {
            s.update_string(0, key, &mut |old| {
                let mut v = old.unwrap_or_default().to_vec();
                v.push(b'x');
                Some(v)
            })
            .unwrap()
        };
        s.set_string(0, b"ttl", b"a", Ttl::At(5000)).unwrap();
        assert_eq!(append(&mut s, b"ttl"), Some(true));
        let e = s.get(0, b"ttl").unwrap().unwrap();
        assert_eq!((e.value.as_deref(), e.expire_at), (Some(&b"ax"[..]), Some(5000)));

        s.set_string(0, b"dead", b"old", Ttl::At(500)).unwrap();
        assert_eq!(append(&mut s, b"dead"), Some(false));
        let e = s.get(0, b"dead").unwrap().unwrap();
        assert_eq!((e.value.as_deref(), e.expire_at), (Some(&b"x"[..]), None));

        assert_eq!(append(&mut s, b"new"), Some(false));
        assert_eq!(s.get(0, b"new").unwrap().unwrap().value.as_deref(), Some(&b"x"[..]));

        let id = s.create_key(0, b"list", KeyType::List).unwrap();
        s.touch(id, 1).unwrap();
        let before = s.get(0, b"list").unwrap().unwrap().version;
        assert_eq!(append(&mut s, b"list"), None);
        assert_eq!(s.get(0, b"list").unwrap().unwrap().version, before);

        // No new value: nothing written, the version stays.
        let v = s.get(0, b"ttl").unwrap().unwrap().version;
        assert_eq!(s.update_string(0, b"ttl", &mut |_| None).unwrap(), Some(true));
        assert_eq!(s.get(0, b"ttl").unwrap().unwrap().version, v);
    }
}
