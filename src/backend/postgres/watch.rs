//! WATCH of keys that do not exist, shared by every redsql process of a store
//! (the `rwatch` table and its triggers, `watch.sql`).
//!
//! A key missing when it is WATCHed and missing again at EXEC has no version
//! either time, yet Redis aborts the EXEC if the key existed in between. Any
//! process may create the key, so the watch is registered in the database:
//!
//! * **WATCH** ([`PgConn::watch_missing`]), in the writer's transaction:
//!   takes the key's lock (the advisory lock every writer takes on the keys
//!   it writes, see [`PgConn::lock_ids`](super::PgConn)), then inserts an
//!   `rwatch` row if the key is still missing. Holding the lock, no
//!   transaction that creates the key is in flight: one that committed
//!   before is seen (the key exists), one that comes later runs its
//!   statements after this commit and its trigger sees the row.
//! * **A creation** (an inserted key row, a RENAME/MOVE/SWAPDB onto the name,
//!   an expired row rewritten in place) deletes the key's `rwatch` rows, in
//!   the creating statement, whichever process runs it.
//! * **EXEC** ([`PgConn::missing_untouched`]) runs only if the row is still
//!   there; the watch ends by deleting it ([`PgConn::unwatch_missing`]).
//! * **A process that dies** leaves rows behind. Each row names its owner: a
//!   session-level advisory lock held by the owner's writer connection (and
//!   taken again when it reconnects). Every sweeper deletes, now and then,
//!   the rows whose owner's lock nobody holds ([`PgConn::clean_dead_watches`]).
//!   A row deleted while its owner lives (it lost its connection for long)
//!   only makes that EXEC abort.
//!
//! With nobody watching a missing key, the cost is one probe of the empty
//! `rwatch` index per key created (the insert trigger); updates that change
//! neither the name nor an expiry do not fire at all.

use super::PgConn;
use crate::store::{StoreResult, WatchMissing};
use std::time::{Duration, Instant};

/// How often a sweeper looks for the rows of dead processes.
const CLEAN_EVERY: Duration = Duration::from_secs(2);

/// The writer's identity in `rwatch.owner`: the advisory lock
/// `(tag, id)` that its connection holds while the process lives.
pub(crate) struct Owner {
    /// The store's schema, so that stores in other schemas do not mix.
    tag: i32,
    id: i32,
    last_clean: Option<Instant>,
}

impl PgConn {
    /// Makes this (the writer's) connection the owner of the process's
    /// watches: it takes the owner lock now and after every reconnection.
    /// Shared locks, so that two processes that drew the same id do not wait
    /// for each other (their rows are then only cleaned once both are gone).
    pub fn own_watches(&mut self) -> StoreResult<()> {
        let tag = (self.schema_salt & 0x7fff_ffff) as i32;
        let id = (crate::util::random_u64() & 0x7fff_ffff) as i32;
        self.set_session(&format!("SELECT pg_advisory_lock_shared({tag}, {id})"))?;
        self.watch_owner = Some(Owner {
            tag,
            id,
            last_clean: None,
        });
        Ok(())
    }

    /// Registers a watch of (db, key), which this transaction found missing
    /// at `now` (see the module doc).
    pub(crate) fn watch_missing(&mut self, db: u32, key: &[u8], now: i64) -> StoreResult<WatchMissing> {
        let Some(owner) = self.watch_owner.as_ref().map(|o| o.id) else {
            return Ok(WatchMissing::InMemory);
        };
        // Taken after the transaction's other locks: waiting for it could
        // deadlock, so a key being written elsewhere is a lost race (retried).
        let lock = self.lock_ids(&[key])[0];
        let got: bool = self
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&lock])?
            .try_get(0)?;
        if !got {
            return Err(self.lost_race("watched key being written"));
        }
        let row = self.query_one(
            "WITH live AS (SELECT version FROM rkey WHERE db = $1 AND key = $2
                 AND (expire_at IS NULL OR expire_at > $4)),
             made AS (INSERT INTO rwatch (db, key, owner) SELECT $1, $2, $3
                 WHERE NOT EXISTS (SELECT 1 FROM live) RETURNING id)
             SELECT (SELECT id FROM made), (SELECT version FROM live)",
            &[&(db as i32), &key, &owner, &now],
        )?;
        Ok(
            match (row.try_get::<_, Option<i64>>(0)?, row.try_get::<_, Option<i64>>(1)?) {
                (Some(id), _) => WatchMissing::Registered(id),
                (None, Some(version)) => WatchMissing::Exists(version),
                (None, None) => return Err(self.lost_race("watched key changed")),
            },
        )
    }

    /// True if watch `id` still stands: its key was not created since.
    pub(crate) fn missing_untouched(&mut self, id: i64) -> StoreResult<bool> {
        Ok(self
            .query_one("SELECT EXISTS (SELECT 1 FROM rwatch WHERE id = $1)", &[&id])?
            .try_get(0)?)
    }

    /// Ends the watches `ids`.
    pub(crate) fn unwatch_missing(&mut self, ids: &[i64]) -> StoreResult<()> {
        if !ids.is_empty() {
            self.execute("DELETE FROM rwatch WHERE id = ANY($1)", &[&ids])?;
        }
        Ok(())
    }

    /// Deletes, at most every [`CLEAN_EVERY`], the watches of processes that
    /// are gone: no session holds their owner lock (in this database).
    pub(crate) fn clean_dead_watches(&mut self) -> StoreResult<()> {
        let Some(owner) = self.watch_owner.as_mut() else {
            return Ok(());
        };
        if owner.last_clean.is_some_and(|t| t.elapsed() < CLEAN_EVERY) {
            return Ok(());
        }
        owner.last_clean = Some(Instant::now());
        let tag = owner.tag;
        self.execute(
            "DELETE FROM rwatch w WHERE NOT EXISTS (SELECT 1 FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND l.classid = $1::int4::oid AND l.objid = w.owner::oid)",
            &[&tag],
        )?;
        Ok(())
    }
}
