//! WATCH on keys that do not exist yet.
//!
//! EXEC compares each watched key's version with the one WATCH saw; a key
//! that was missing at WATCH time and is missing again at EXEC has no version
//! either time, yet Redis aborts the transaction if the key was created (and
//! deleted) in between. Versions cannot tell that, so the engine counts, per
//! key that some client watches while it is missing, how many times a
//! committed command created it (the `new` keyspace event, which command code
//! reports while any such watch exists). WATCH takes a [`MissingWatch`]
//! before reading the key (as a writer job, so no commit can slip between),
//! and EXEC aborts if the count moved.
//!
//! This sees the creations made through this process. Another redsql process
//! sharing a PostgreSQL store that creates and deletes the key in between
//! goes unnoticed (a key it creates and leaves is seen by its version); the
//! shared design that would close that is in docs/design.md (Transactions).

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
        MissingWatch {
            creations: self.clone(),
            db,
            key,
            seen: entry.1,
        }
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
}

/// One client's watch of a key that did not exist when it was watched.
pub struct MissingWatch {
    creations: Arc<Creations>,
    db: u32,
    key: Bytes,
    /// The key's creation count when the watch began.
    seen: u64,
}

impl MissingWatch {
    /// True if no committed command created the key since the watch began.
    pub(crate) fn untouched(&self) -> bool {
        self.creations.count(self.db, &self.key) == self.seen
    }
}

impl Drop for MissingWatch {
    fn drop(&mut self) {
        let mut keys = self.creations.keys.lock().unwrap_or_else(|e| e.into_inner());
        let id = (self.db, self.key.clone());
        if let Some(entry) = keys.get_mut(&id) {
            entry.0 -= 1;
            if entry.0 == 0 {
                keys.remove(&id);
                self.creations.active.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

impl std::fmt::Debug for MissingWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MissingWatch(db {}, {:?}, seen {})", self.db, self.key, self.seen)
    }
}

impl PartialEq for MissingWatch {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.creations, &other.creations)
            && (self.db, &self.key, self.seen) == (other.db, &other.key, other.seen)
    }
}

impl Eq for MissingWatch {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_creations_while_watched_and_forgets_unwatched_keys() {
        let c = Arc::new(Creations::default());
        let k = Bytes::from_static(b"k");
        c.created(0, &k); // nobody watches: not counted
        assert!(!c.active());
        let w1 = c.watch(0, k.clone());
        let w2 = c.watch(0, k.clone());
        assert!(c.active() && w1.untouched() && w2.untouched());
        c.created(1, &k); // another database
        assert!(w1.untouched());
        c.created(0, &k);
        assert!(!w1.untouched() && !w2.untouched());
        let w3 = c.watch(0, k.clone());
        assert!(w3.untouched());
        drop((w1, w2, w3));
        assert!(!c.active());
        assert!(c.keys.lock().unwrap().is_empty());
    }
}
