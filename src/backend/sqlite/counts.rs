//! The key counts of the keys a write transaction created, kept in memory
//! until it commits.
//!
//! `rcount` (schema.sql) counts the rows of `rkey` per database. Deletes,
//! moves and expiry changes are counted by triggers, but a trigger on INSERT
//! costs every new key a trigger program and an UPDATE of `rcount` (about
//! 5k instructions; loading 1M new keys through `redis-cli --pipe` took
//! 35-45% longer with it). The store's few INSERT statements (all in this
//! backend) report each key they create here instead, and the sums go into
//! `rcount` once per transaction: before COMMIT ([`write`], called by the
//! engine's writer), and before anything reads `rcount` or resets it
//! (DBSIZE, INFO keyspace, RANDOMKEY, FLUSHALL), so those see every key of
//! the transaction so far. A rollback discards them ([`Created::discard`]).
//! Adding to `rcount` commutes with the triggers' changes, so when the sums
//! are written does not matter, as long as it is in the same transaction.

use super::conn::Conn;
use crate::store::StoreResult;
use rusqlite::params;
use std::cell::RefCell;

/// Keys created per database in the open transaction: (db, keys, of which with an expiry).
#[derive(Default)]
pub struct Created(RefCell<Vec<(u32, i64, i64)>>);

impl Created {
    /// A key row was inserted in `db`, with an expiry time or not.
    pub fn add(&self, db: u32, expires: bool) {
        let mut by_db = self.0.borrow_mut();
        match by_db.iter_mut().find(|e| e.0 == db) {
            Some(e) => {
                e.1 += 1;
                e.2 += expires as i64;
            }
            None => by_db.push((db, 1, expires as i64)),
        }
    }

    /// The transaction rolled back: its keys are gone, and so are their counts.
    pub fn discard(&self) {
        self.0.borrow_mut().clear();
    }
}

/// Adds the keys created so far in the transaction to `rcount`.
pub fn write(conn: &Conn) -> StoreResult<()> {
    let by_db = std::mem::take(&mut *conn.created.0.borrow_mut());
    for (db, keys, expires) in by_db {
        // Databases 0-15 always have their row (schema.sql).
        if db > 15 {
            conn.cached("INSERT OR IGNORE INTO rcount (db, keys, expires) VALUES (?1, 0, 0)")?
                .execute([db])?;
        }
        conn.cached("UPDATE rcount SET keys = keys + ?2, expires = expires + ?3 WHERE db = ?1")?
            .execute(params![db, keys, expires])?;
    }
    Ok(())
}
