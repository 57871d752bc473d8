//! WATCH on keys that do not exist yet.
//!
//! EXEC compares each watched key's version with the one WATCH saw; a key
//! that was missing at WATCH time and is missing again at EXEC has no version
//! either time, yet Redis aborts the transaction if the key was created (and
//! deleted) in between. Versions cannot tell that, so a WATCH of a missing
//! key also keeps a [`MissingWatch`], which EXEC's check consults in its
//! transaction ([`MissingWatch::untouched`]). Two kinds:
//!
//! * **Counted in memory** (SQLite: one process writes the store). The engine
//!   counts, per key that some client watches while it is missing, how many
//!   times a committed command created it (the `new` keyspace event, which
//!   command code reports while any such watch exists). WATCH takes the
//!   watch ([`Engine::watch_missing`](super::Engine::watch_missing)) before
//!   reading the key (as a writer job, so no commit can slip between), and
//!   EXEC aborts if the count moved.
//! * **Registered in the store** (PostgreSQL: any process sharing the store
//!   may create the key). WATCH's read registers the watch in the same
//!   transaction ([`Store::watch_missing`]); a creation by any process
//!   breaks it in the creating statement (a trigger), and EXEC checks it
//!   ([`Store::missing_untouched`]). The registration ends when the watch is
//!   dropped (EXEC, DISCARD, UNWATCH, RESET, a closed connection): a writer
//!   job deletes it, without anyone waiting for it ([`unwatch`] sends one
//!   job for a connection's watches). See `backend/postgres/watch.rs`.

use super::{Done, Job, Msg, Sender, Watch, Work};
use crate::store::{Store, StoreResult};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The keys watched while missing, with how many clients watch each and how
/// many times each was created since it was first watched.
#[derive(Default)]
pub(crate) struct Creations {
    keys: Mutex<HashMap<(u32, Bytes), (usize, u64)>>,
    /// Number of keys in `keys`: commands report creations only while > 0.
    active: AtomicUsize,
}

impl Creations {
    /// True while some client watches a missing key.
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed) > 0
    }

    /// Registers a watch of `key`; dropping the result unregisters it.
    pub(crate) fn watch(self: &Arc<Self>, db: u32, key: Bytes) -> MissingWatch {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let entry = keys.entry((db, key.clone())).or_insert_with(|| {
            self.active.fetch_add(1, Ordering::Relaxed);
            (0, 0)
        });
        entry.0 += 1;
        MissingWatch(Kind::Counted {
            creations: self.clone(),
            db,
            key,
            seen: entry.1,
        })
    }

    /// A committed command created `key` in `db`.
    pub(crate) fn created(&self, db: u32, key: &Bytes) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = keys.get_mut(&(db, key.clone())) {
            entry.1 += 1;
        }
    }

    fn count(&self, db: u32, key: &Bytes) -> u64 {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.get(&(db, key.clone())).map_or(0, |e| e.1)
    }

    fn unwatch(&self, db: u32, key: &Bytes) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let id = (db, key.clone());
        if let Some(entry) = keys.get_mut(&id) {
            entry.0 -= 1;
            if entry.0 == 0 {
                keys.remove(&id);
                self.active.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// One client's watch of a key that did not exist when it was watched.
pub struct MissingWatch(Kind);

enum Kind {
    /// Counted by this process's engine.
    Counted {
        creations: Arc<Creations>,
        db: u32,
        key: Bytes,
        /// The key's creation count when the watch began.
        seen: u64,
    },
    /// Registered in the store as `id`; `release` sends the job that ends it
    /// (`None` once that is someone else's business).
    Registered { id: i64, release: Option<Sender> },
}

impl MissingWatch {
    /// A watch the store registered as `id` ([`Store::watch_missing`]),
    /// ended through `sender`'s writer when dropped.
    pub(super) fn registered(id: i64, sender: Sender) -> MissingWatch {
        MissingWatch(Kind::Registered {
            id,
            release: Some(sender),
        })
    }

    /// True if nothing created the key since the watch began. Runs in EXEC's
    /// transaction.
    pub(crate) fn untouched(&self, store: &mut dyn Store) -> StoreResult<bool> {
        match &self.0 {
            Kind::Counted {
                creations,
                db,
                key,
                seen,
            } => Ok(creations.count(*db, key) == *seen),
            Kind::Registered { id, .. } => store.missing_untouched(*id),
        }
    }
}

impl Drop for MissingWatch {
    fn drop(&mut self) {
        match &mut self.0 {
            Kind::Counted { creations, db, key, .. } => creations.unwatch(*db, key),
            Kind::Registered { id, release } => {
                if let Some(sender) = release.take() {
                    send_release(&sender, &[*id]);
                }
            }
        }
    }
}

/// Ends `watches`: the registered ones that nobody else holds go to the
/// writer in one job (the others end as they are dropped).
pub fn unwatch(watches: Vec<Watch>) {
    let mut ids = Vec::new();
    let mut sender = None;
    for w in watches {
        let Some(Ok(mut m)) = w.missing.map(Arc::try_unwrap) else {
            continue;
        };
        if let Kind::Registered { id, release } = &mut m.0
            && let Some(s) = release.take()
        {
            ids.push(*id);
            sender = Some(s);
        }
    }
    if let Some(sender) = sender {
        send_release(&sender, &ids);
    }
}

/// Queues a writer job deleting the registrations `ids`; nobody waits for it.
/// If the writer is gone, the rows stay until this process's end makes them
/// any sweeper's to delete.
fn send_release(sender: &Sender, ids: &[i64]) {
    let ids = ids.to_vec();
    let f: super::TxFn = Box::new(move |tx| {
        tx.ctx().store.unwatch_missing(&ids)?;
        Ok(Box::new(()))
    });
    let (done, _) = tokio::sync::oneshot::channel();
    sender.send(Msg::Job(Job {
        work: Work::Tx { db: 0, proto: 2, f },
        done: Done::Tx(done),
    }));
}

impl std::fmt::Debug for MissingWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Counted { db, key, seen, .. } => write!(f, "MissingWatch(db {db}, {key:?}, seen {seen})"),
            Kind::Registered { id, .. } => write!(f, "MissingWatch(registered {id})"),
        }
    }
}

impl PartialEq for MissingWatch {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (
                Kind::Counted {
                    creations: a,
                    db: da,
                    key: ka,
                    seen: sa,
                },
                Kind::Counted {
                    creations: b,
                    db: db_,
                    key: kb,
                    seen: sb,
                },
            ) => Arc::ptr_eq(a, b) && (da, ka, sa) == (db_, kb, sb),
            (Kind::Registered { id: a, .. }, Kind::Registered { id: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl Eq for MissingWatch {}

#[cfg(test)]
mod tests {
    use super::*;

    fn untouched(w: &MissingWatch) -> bool {
        match &w.0 {
            Kind::Counted {
                creations,
                db,
                key,
                seen,
                ..
            } => creations.count(*db, key) == *seen,
            Kind::Registered { .. } => unreachable!(),
        }
    }

    #[test]
    fn counts_creations_while_watched_and_forgets_unwatched_keys() {
        let c = Arc::new(Creations::default());
        let k = Bytes::from_static(b"k");
        c.created(0, &k); // nobody watches: not counted
        assert!(!c.active());
        let w1 = c.watch(0, k.clone());
        let w2 = c.watch(0, k.clone());
        assert!(c.active() && untouched(&w1) && untouched(&w2));
        c.created(1, &k); // another database
        assert!(untouched(&w1));
        c.created(0, &k);
        assert!(!untouched(&w1) && !untouched(&w2));
        let w3 = c.watch(0, k.clone());
        assert!(untouched(&w3));
        drop((w1, w2, w3));
        assert!(!c.active());
        assert!(c.keys.lock().unwrap().is_empty());
    }
}
