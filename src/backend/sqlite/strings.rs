//! Read-modify-write of string keys on SQLite ([`Store::update_string`]),
//! and MSET's writes ([`Store::set_strings`]).
//!
//! INCR, APPEND and their kin read the string and write it back in one
//! statement when the key is a live string (the common case):
//! `UPDATE rkey SET value=redsql_update(value) ... WHERE db=? AND key=?`,
//! where `redsql_update` is a SQL function ([`register_functions`]) that
//! calls the command's closure on the old value. One index descent and one
//! statement per command instead of a SELECT and an UPDATE: INCR went from
//! 37.6k to ~30k instructions per request (docs/benchmarks.md). A closure
//! that declines to write (INCR of a non-integer) makes the function fail,
//! which aborts that one-row statement before it writes anything. A key that
//! is missing, expired or of another type matches no row; it then takes the
//! general path: read the row, and create or replace the key. The new value
//! never changes the row's type, so no trigger can fire.
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
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};
use std::cell::Cell;

/// The error text by which `redsql_update` reports "no new value".
const UNCHANGED: &str = "redsql: value unchanged";

thread_local! {
    /// The closure `redsql_update` applies: set only while
    /// [`SqliteStore::update_string_row`] runs its UPDATE on this thread.
    static UPDATE: Cell<Option<*mut StringUpdate<'static>>> = const { Cell::new(None) };
}

/// Registers the SQL functions the string commands use on `conn`.
pub(super) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "redsql_update",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY,
        apply,
    )
}

/// `redsql_update(old)`: the current closure's new value for `old`.
fn apply(ctx: &Context) -> rusqlite::Result<Vec<u8>> {
    let old = match ctx.get_raw(0) {
        ValueRef::Blob(b) | ValueRef::Text(b) => b,
        ValueRef::Null => &[],
        _ => {
            return Err(rusqlite::Error::UserFunctionError(
                "redsql_update: not a string value".into(),
            ));
        }
    };
    let Some(f) = UPDATE.get() else {
        return Err(rusqlite::Error::UserFunctionError(
            "redsql_update: no update in progress".into(),
        ));
    };
    // SAFETY: the pointer is set by `update_string_row` from a live
    // `&mut StringUpdate` for the duration of the statement that calls this
    // function, on this thread, and nothing else uses the closure meanwhile.
    match unsafe { (*f)(Some(old)) } {
        Some(new) => Ok(new),
        None => Err(rusqlite::Error::UserFunctionError(UNCHANGED.into())),
    }
}

/// Clears [`UPDATE`] when the UPDATE is done (also if it panics).
struct Applying;

impl Drop for Applying {
    fn drop(&mut self) {
        UPDATE.set(None);
    }
}

impl SqliteStore<'_> {
    /// See [`Store::set_strings`]. A string without an expiry time is
    /// overwritten in place, a new key inserted; a string with one (live or
    /// expired) and a key of another type take [`Store::set_string`]'s path.
    pub(super) fn set_string_rows(&mut self, db: u32, pairs: &[Bytes]) -> StoreResult<()> {
        let conn = self.conn;
        let mut plain = conn.cached(super::store::PLAIN_OVERWRITE)?;
        for kv in pairs.chunks_exact(2) {
            let (key, value) = (&kv[0][..], &kv[1][..]);
            let version = self.next_version();
            if plain.execute(params![db, key, value, version])? > 0 {
                continue;
            }
            if conn
                .cached(
                    "INSERT OR IGNORE INTO rkey (db, key, type, version, value, len) VALUES (?1, ?2, 0, ?4, ?3, 0)",
                )?
                .execute(params![db, key, value, version])?
                > 0
            {
                conn.created.add(db, false);
            } else {
                self.set_string(db, key, value, Ttl::Persist)?;
            }
        }
        Ok(())
    }

    /// See [`Store::update_string`].
    pub(super) fn update_string_row(&mut self, db: u32, key: &[u8], f: &mut StringUpdate) -> StoreResult<Option<bool>> {
        let version = self.next_version();
        let updated = {
            // SAFETY (lifetime erased): `Applying` clears the pointer before
            // this block ends, and `f` outlives the block.
            let ptr: *mut StringUpdate<'_> = f;
            UPDATE.set(Some(unsafe {
                std::mem::transmute::<*mut StringUpdate<'_>, *mut StringUpdate<'static>>(ptr)
            }));
            let _applying = Applying;
            self.conn
                .cached(
                    "UPDATE rkey SET value=redsql_update(value), version=?3 \
                     WHERE db=?1 AND key=?2 AND type=0 AND (expire_at IS NULL OR expire_at>?4)",
                )?
                .execute(params![db, key, version, self.now()])
        };
        match updated {
            Ok(0) => {}
            Ok(_) => return Ok(Some(true)),
            Err(rusqlite::Error::SqliteFailure(_, Some(msg))) if msg == UNCHANGED => return Ok(Some(true)),
            Err(e) => return Err(e.into()),
        }
        // Missing, expired, or another type (a live string matched the UPDATE).
        match self.row(db, key)? {
            Some((_, kind, expire_at)) if self.live(expire_at) => {
                debug_assert_ne!(kind, KeyType::String);
                Ok(None)
            }
            _ => {
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
    use crate::backend::sqlite::{Durability, Location, open_writer};

    /// The one-UPDATE path and its fallback behave like the trait's default
    /// (read with `get`, write with `set_string`): expiry kept on a live key,
    /// dropped with a dead one, other types untouched.
    #[test]
    fn update_string_keeps_ttl_and_types() {
        let c = crate::backend::sqlite::conn::Conn::new(
            open_writer(&Location::parse(":memory:"), Durability::Off).unwrap(),
        );
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

    /// A declined update (INCR of a non-integer) inside a transaction
    /// aborts only its own statement: the transaction's other writes stay.
    #[test]
    fn declined_update_keeps_the_transaction() {
        let c = crate::backend::sqlite::conn::Conn::new(
            open_writer(&Location::parse(":memory:"), Durability::Off).unwrap(),
        );
        let mut version = 0;
        c.execute_batch("BEGIN").unwrap();
        {
            let mut s = SqliteStore::writer(&c, 1000, &mut version);
            s.set_string(0, b"n", b"41", Ttl::Persist).unwrap();
            s.set_string(0, b"word", b"abc", Ttl::Persist).unwrap();
            let mut incr = |old: Option<&[u8]>| {
                let n: i64 = std::str::from_utf8(old.unwrap_or(b"0")).ok()?.parse().ok()?;
                Some((n + 1).to_string().into_bytes())
            };
            assert_eq!(s.update_string(0, b"n", &mut incr).unwrap(), Some(true));
            let v = s.get(0, b"word").unwrap().unwrap().version;
            assert_eq!(s.update_string(0, b"word", &mut incr).unwrap(), Some(true));
            assert_eq!(s.get(0, b"word").unwrap().unwrap().version, v);
            assert_eq!(s.update_string(0, b"n", &mut incr).unwrap(), Some(true));
        }
        c.execute_batch("COMMIT").unwrap();
        let mut s = SqliteStore::writer(&c, 1000, &mut version);
        assert_eq!(s.get(0, b"n").unwrap().unwrap().value.as_deref(), Some(&b"43"[..]));
        assert_eq!(s.get(0, b"word").unwrap().unwrap().value.as_deref(), Some(&b"abc"[..]));
    }
}
