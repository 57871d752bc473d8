//! The number of key rows per database (`rcount`), read by DBSIZE and INFO
//! keyspace instead of counting millions of rows.
//!
//! Every statement of the store that inserts or deletes rows of `rkey`, or
//! moves them to another database, reports the change
//! ([`SqliteStore::count`](super::SqliteStore)). On the engine's writer the
//! changes of a whole transaction are summed in [`PendingCounts`] and written
//! once, just before COMMIT: a SET of a new key would otherwise pay an
//! upsert of `rcount` of its own (~4k instructions, a quarter of what the
//! key's own insert costs), where a group commit of 50 new keys now pays
//! one. A store without pending counts (tests, tools) writes each change at
//! once.
//!
//! Within the transaction, whatever reads or rewrites `rcount` (DBSIZE, INFO,
//! FLUSHDB, SWAPDB) first writes the pending changes, so it sees the exact
//! counts.

use crate::store::StoreResult;
use rusqlite::{Connection, params};

/// Per-database changes to `rcount` not written yet: a few entries (the
/// databases the transaction wrote keys in).
#[derive(Debug, Default)]
pub struct PendingCounts(Vec<(i64, i64)>);

impl PendingCounts {
    /// Adds `delta` key rows to database `db`.
    pub(super) fn add(&mut self, db: i64, delta: i64) {
        match self.0.iter_mut().find(|(d, _)| *d == db) {
            Some((_, n)) => *n += delta,
            None => self.0.push((db, delta)),
        }
    }

    /// Writes the pending changes to `rcount` (in the caller's transaction)
    /// and forgets them.
    pub fn write(&mut self, conn: &Connection) -> StoreResult<()> {
        for (db, delta) in self.0.drain(..) {
            write_count(conn, db, delta)?;
        }
        Ok(())
    }

    /// Forgets the pending changes (their transaction was rolled back).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Adds `delta` to the key rows of database `db` in `rcount`.
pub(super) fn write_count(conn: &Connection, db: i64, delta: i64) -> StoreResult<()> {
    if delta != 0 {
        conn.prepare_cached("INSERT INTO rcount (db, n) VALUES (?1, ?2) ON CONFLICT (db) DO UPDATE SET n = n + ?2")?
            .execute(params![db, delta])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_summed_per_database() {
        let mut p = PendingCounts::default();
        p.add(0, 1);
        p.add(3, 2);
        p.add(0, 1);
        p.add(3, -2);
        assert_eq!(p.0, vec![(0, 2), (3, 0)]);
        p.clear();
        assert!(p.0.is_empty());
    }
}
