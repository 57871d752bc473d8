//! Read-modify-write of string keys on SQLite ([`Store::update_string`]),
//! and MSET's writes ([`Store::set_strings`]).
//!
//! INCR, APPEND and their kin read the string and write it back. Both
//! address the row by its primary key `(db, key)`: `rkey` is clustered on
//! it, so each is one B-tree walk (by `id` it would be two: the index
//! `rkey_id`, then the table). The new value never changes the row's type,
//! so no trigger can fire and SQLite needs no statement journal for the
//! update.
//!
//! MSET overwrites its strings with one prepared UPDATE, run once per
//! pair, rather than a statement looked up (by its SQL text) in rusqlite's
//! cache per key, with fewer parameters than SET's general statement (no
//! expiry to keep). It reports its new keys to `rcount` once per command,
//! not once per key (see `counts.rs`).
//!
//! [`Store::update_string`]: crate::store::Store::update_string
//! [`Store::set_strings`]: crate::store::Store::set_strings

use super::SqliteStore;
use crate::store::{KeyType, Store, StoreResult, StringUpdate, Ttl};
use bytes::Bytes;
use rusqlite::{OptionalExtension, params};

/// A key's row as the read of a read-modify-write needs it.
struct StringRow {
    kind: KeyType,
    expire_at: Option<i64>,
    value: Option<Vec<u8>>,
}

impl SqliteStore<'_> {
    /// See [`Store::set_strings`]. A string without a TTL is overwritten in
    /// place, a new key inserted; a string with a TTL (live or expired) or a
    /// key of another type takes [`Store::set_string`]'s path.
    ///
    /// The overwrite assigns neither `expire_at` nor `type`: SQLite rewrites
    /// an index entry whenever a statement assigns one of its columns, even
    /// to the value it has, and the index `rkey_id` holds both (an
    /// `expire_at=NULL` here cost two more B-tree descents per SET).
    pub(super) fn set_string_rows(&mut self, db: u32, pairs: &[Bytes]) -> StoreResult<()> {
        let conn = self.conn;
        let mut update = conn.prepare_cached(
            "UPDATE rkey SET value=?3, version=?4 WHERE db=?1 AND key=?2 AND type=0 AND expire_at IS NULL",
        )?;
        let mut inserted = 0;
        for kv in pairs.chunks_exact(2) {
            let (key, value) = (&kv[0][..], &kv[1][..]);
            // A new key's id is its first version (see `next_version`).
            let version = self.next_version();
            if update.execute(params![db, key, value, version])? > 0 {
                continue;
            }
            let n = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO rkey (id, db, key, type, version, value, len) VALUES (?4, ?1, ?2, 0, ?4, ?3, 0)",
                )?
                .execute(params![db, key, value, version])?;
            if n > 0 {
                inserted += 1;
            } else {
                self.set_string(db, key, value, Ttl::Persist)?;
            }
        }
        self.count(db.into(), inserted)
    }

    /// See [`Store::update_string`].
    pub(super) fn update_string_row(&mut self, db: u32, key: &[u8], f: &mut StringUpdate) -> StoreResult<Option<bool>> {
        let row = self
            .conn
            .prepare_cached("SELECT type, expire_at, value FROM rkey WHERE db=?1 AND key=?2")?
            .query_row(params![db, key], |r| {
                Ok(StringRow {
                    kind: KeyType::from_i64(r.get(0)?),
                    expire_at: r.get(1)?,
                    value: r.get(2)?,
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
                        .prepare_cached("UPDATE rkey SET value=?3, version=?4 WHERE db=?1 AND key=?2")?
                        .execute(params![db, key, new, version])?;
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

    /// The read-modify-write behaves like the trait's default (read with `get`,
    /// write with `set_string`): expiry kept on a live key, dropped with a
    /// dead one, other types untouched.
    #[test]
    fn update_string_keeps_ttl_and_types() {
        let c = open_writer(&Location::parse(":memory:"), Sync::Off).unwrap();
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
