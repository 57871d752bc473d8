//! A cache of string keys in front of the read connections.
//!
//! A GET on a SQLite file database costs two B-tree descents (the `(db, key)`
//! index, then the row), about half of the server's CPU per GET once
//! requests are pipelined. The read connections keep the string keys they
//! read here, and answer from here while nothing has changed them.
//!
//! **What invalidates an entry.** The writer's connection reports every row
//! of `rkey` it inserts, updates or deletes ([`Changed`], filled by SQLite's
//! update hook, whatever statement or trigger made the change). Before each
//! COMMIT the writer drops the entries of those rows
//! ([`ReadCache::invalidate`]), so that no snapshot holding the commit can
//! meet them. The changes SQLite does not report row by row (FLUSHALL's
//! truncation of the table), and transactions that change more than
//! [`MAX_ROWS`] rows, clear the whole cache instead. redsql must be the only
//! process writing the database, as the key versions and counts already
//! require.
//!
//! **Why an entry is never older than the snapshot it answers for.** Commits
//! are numbered by the writer's counter (`backend/sqlite/engine.rs`), which counts a
//! commit after its COMMIT. A read batch runs in a snapshot that holds at
//! least the commits counted when it began (`held`). Each entry records
//! `since`, a commit from which on its value has been the key's value, and
//! answers only batches with `held >= since`. The read connection takes
//! its snapshot (SQLite takes it at a transaction's first read) when the
//! transaction begins, before it asks the cache anything: an entry found
//! then was the key's value from `since` until now, so also at the
//! snapshot, and within one batch values from here and values read from
//! SQLite belong to the same state. (Taken lazily, at the first read that
//! missed the cache, the snapshot could include a commit made after an
//! earlier key of the same MGET was answered from here.) A read
//! connection may add the entry it read only if no commit after `held`
//! changes a row near it: each row maps to one of [`STRIPES`] counters that
//! hold the number of the last commit that changed one of their rows, set by
//! the invalidation. The check and the insertion happen under the lock the
//! invalidation takes, so either the invalidation comes after and drops the
//! new entry, or it came first and the reader sees the stripe's newer commit
//! and does not add it.
//!
//! The cache holds at most its budget of bytes (keys, values and ~128 bytes
//! of bookkeeping each) and evicts with the CLOCK algorithm (an entry read
//! since the hand last passed gets a second chance).

use crate::store::{Entry, KeyType};
use bytes::Bytes;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the last commit that changed a row, by row id modulo this.
const STRIPES: usize = 4096;
/// Rows recorded per transaction; a transaction that changes more clears the cache.
pub const MAX_ROWS: usize = 1 << 16;
/// Bytes of bookkeeping counted per entry, besides its key and value.
const OVERHEAD: usize = 128;
/// No value larger than this share of the budget is cached.
const LARGEST_SHARE: usize = 64;

/// The rows of `rkey` the writer changed since its last commit.
#[derive(Default)]
pub struct Changed(Mutex<ChangedRows>);

#[derive(Default)]
struct ChangedRows {
    rows: Vec<i64>,
    /// Too many rows, or a change not reported row by row: everything changed.
    all: bool,
}

impl Changed {
    /// Called by the update hook for each row of `rkey` changed.
    pub fn row(&self, id: i64) {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if c.all {
            return;
        }
        if c.rows.len() >= MAX_ROWS {
            c.all = true;
            c.rows = Vec::new();
        } else {
            c.rows.push(id);
        }
    }

    /// Every row may have changed (a truncation of `rkey`).
    pub fn everything(&self) {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        c.all = true;
        c.rows = Vec::new();
    }

    fn take(&self) -> ChangedRows {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

pub use crate::engine::CacheStats;

/// The cache (see the module documentation).
pub struct ReadCache {
    state: Mutex<State>,
    budget: usize,
    hasher: foldhash::fast::RandomState,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Slot {
    hash: u64,
    db: u32,
    key: Bytes,
    entry: Entry,
    /// The entry answers batches whose snapshot holds this commit.
    since: u64,
    /// Read since the clock hand last passed.
    used: bool,
}

impl Slot {
    fn cost(&self) -> usize {
        cost(&self.key, &self.entry)
    }
}

fn cost(key: &[u8], entry: &Entry) -> usize {
    key.len() + entry.value.as_ref().map_or(0, |v| v.len()) + OVERHEAD
}

/// The hash of an already hashed key (entries are found by the hash of db and key).
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // The maps' keys are integers (write_u64, write_i64); any other
        // input is folded into one.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(self.0 ^ u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Row ids are consecutive: multiplied, they spread over the table.
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

type Index<K> = HashMap<K, usize, BuildHasherDefault<Prehashed>>;

struct State {
    /// Entries, in the clock's order; `None` where one was removed.
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    by_hash: Index<u64>,
    by_row: Index<i64>,
    hand: usize,
    bytes: usize,
    /// The last commit that changed a row, per stripe of row ids.
    stripes: Box<[u64]>,
    /// The last commit that may have changed every row.
    floor: u64,
}

impl State {
    fn remove(&mut self, i: usize) {
        if let Some(s) = self.slots[i].take() {
            self.by_hash.remove(&s.hash);
            self.by_row.remove(&s.entry.id);
            self.bytes -= s.cost();
            self.free.push(i);
        }
    }

    /// Evicts one entry (there is one: `bytes` is not 0).
    fn evict(&mut self) {
        loop {
            self.hand = (self.hand + 1) % self.slots.len();
            match &mut self.slots[self.hand] {
                Some(s) if s.used => s.used = false,
                Some(_) => return self.remove(self.hand),
                None => {}
            }
        }
    }

    fn clear(&mut self) {
        self.slots = Vec::new();
        self.free = Vec::new();
        self.by_hash = Index::default();
        self.by_row = Index::default();
        self.hand = 0;
        self.bytes = 0;
    }
}

impl ReadCache {
    /// A cache of at most `budget` bytes (0: a cache that keeps nothing).
    pub fn new(budget: usize) -> ReadCache {
        ReadCache {
            state: Mutex::new(State {
                slots: Vec::new(),
                free: Vec::new(),
                by_hash: Index::default(),
                by_row: Index::default(),
                hand: 0,
                bytes: 0,
                stripes: vec![0; STRIPES].into_boxed_slice(),
                floor: 0,
            }),
            budget,
            hasher: foldhash::fast::RandomState::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hash(&self, db: u32, key: &[u8]) -> u64 {
        self.hasher.hash_one((db, key))
    }

    /// The string key (db, key) as of any snapshot that holds commit `held`,
    /// if cached. Expired entries are returned too (the caller filters them,
    /// as it does rows).
    pub fn get(&self, db: u32, key: &[u8], held: u64) -> Option<Entry> {
        let hash = self.hash(db, key);
        let found = {
            let mut st = self.lock();
            let i = st.by_hash.get(&hash).copied();
            match i.and_then(|i| st.slots[i].as_mut()) {
                Some(s) if s.db == db && s.key == key && s.since <= held => {
                    s.used = true;
                    Some(s.entry.clone())
                }
                _ => None,
            }
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Offers the row a read connection read for (db, key), in a snapshot
    /// that holds commit `held`. Only string keys are kept.
    pub fn offer(&self, db: u32, key: &[u8], entry: &Entry, held: u64) {
        let cost = cost(key, entry);
        if entry.kind != KeyType::String || cost > self.budget / LARGEST_SHARE {
            return;
        }
        let hash = self.hash(db, key);
        let mut st = self.lock();
        let since = st.floor.max(st.stripes[entry.id as usize % STRIPES]);
        if since > held {
            // A later commit changed this row, or one near it: the value read may be stale.
            return;
        }
        // The same key again, or another one with the same hash, or the same
        // row under another key (an entry stale by now: see invalidate).
        for i in [st.by_hash.get(&hash).copied(), st.by_row.get(&entry.id).copied()]
            .into_iter()
            .flatten()
        {
            st.remove(i);
        }
        while st.bytes + cost > self.budget {
            st.evict();
        }
        let slot = Slot {
            hash,
            db,
            key: Bytes::copy_from_slice(key),
            entry: entry.clone(),
            since,
            used: false,
        };
        let i = match st.free.pop() {
            Some(i) => {
                st.slots[i] = Some(slot);
                i
            }
            None => {
                st.slots.push(Some(slot));
                st.slots.len() - 1
            }
        };
        st.by_hash.insert(hash, i);
        st.by_row.insert(entry.id, i);
        st.bytes += cost;
    }

    /// Drops the entries of the rows `changed` reports, changed by commit
    /// number `commit`: called before its COMMIT.
    pub fn invalidate(&self, changed: &Changed, commit: u64) {
        let ChangedRows { rows, all } = changed.take();
        if rows.is_empty() && !all {
            return;
        }
        let mut st = self.lock();
        if all {
            st.clear();
            st.floor = commit;
            return;
        }
        for id in rows {
            st.stripes[id as usize % STRIPES] = commit;
            if let Some(i) = st.by_row.get(&id).copied() {
                st.remove(i);
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let st = self.lock();
        CacheStats {
            keys: st.by_hash.len() as u64,
            bytes: st.bytes as u64,
            budget: self.budget as u64,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(id: i64, value: &str) -> Entry {
        Entry {
            id,
            kind: KeyType::String,
            expire_at: None,
            version: id,
            value: Some(Bytes::copy_from_slice(value.as_bytes())),
            len: 0,
        }
    }

    fn value(e: Option<Entry>) -> Option<String> {
        e.map(|e| String::from_utf8(e.value.unwrap().to_vec()).unwrap())
    }

    #[test]
    fn an_entry_answers_until_its_row_changes() {
        let cache = ReadCache::new(1 << 20);
        let changed = Changed::default();
        cache.offer(0, b"k", &string(1, "v"), 0);
        assert_eq!(value(cache.get(0, b"k", 0)), Some("v".into()));
        assert_eq!(cache.get(1, b"k", 0), None, "another database");
        assert_eq!(cache.get(0, b"k2", 0), None);
        changed.row(1);
        cache.invalidate(&changed, 1);
        assert_eq!(cache.get(0, b"k", 5), None);
        let s = cache.stats();
        assert_eq!((s.keys, s.bytes, s.hits, s.misses), (0, 0, 1, 3));
    }

    #[test]
    fn a_value_read_before_a_later_commit_is_not_kept() {
        let cache = ReadCache::new(1 << 20);
        let changed = Changed::default();
        // Commit 3 changed row 7; a reader whose snapshot holds only commit 2
        // may have read the old value: refused.
        changed.row(7);
        cache.invalidate(&changed, 3);
        cache.offer(0, b"k", &string(7, "old"), 2);
        assert_eq!(cache.get(0, b"k", 10), None);
        // A reader holding commit 3 read the new value: kept, and it answers
        // snapshots holding commit 3 or later only.
        cache.offer(0, b"k", &string(7, "new"), 3);
        assert_eq!(cache.get(0, b"k", 2), None);
        assert_eq!(value(cache.get(0, b"k", 3)), Some("new".into()));
        // Rows of the same stripe share the counter (conservative).
        cache.offer(0, b"n", &string(7 + STRIPES as i64, "x"), 2);
        assert_eq!(cache.get(0, b"n", 10), None);
        cache.offer(0, b"m", &string(8, "y"), 2);
        assert_eq!(value(cache.get(0, b"m", 2)), Some("y".into()));
    }

    #[test]
    fn everything_changed_clears_the_cache_and_refuses_older_reads() {
        let cache = ReadCache::new(1 << 20);
        let changed = Changed::default();
        cache.offer(0, b"a", &string(1, "1"), 0);
        cache.offer(0, b"b", &string(2, "2"), 0);
        changed.everything();
        cache.invalidate(&changed, 4);
        assert_eq!(cache.stats().keys, 0);
        cache.offer(0, b"a", &string(1, "1"), 3);
        assert_eq!(cache.get(0, b"a", 10), None);
        // Too many rows in one transaction count as everything.
        cache.offer(0, b"a", &string(1, "1"), 4);
        for id in 0..=MAX_ROWS as i64 {
            changed.row(id + 100);
        }
        cache.invalidate(&changed, 5);
        assert_eq!(cache.get(0, b"a", 10), None);
        // Nothing changed: nothing dropped.
        cache.offer(0, b"a", &string(1, "1"), 5);
        cache.invalidate(&changed, 6);
        assert_eq!(value(cache.get(0, b"a", 6)), Some("1".into()));
    }

    #[test]
    fn only_small_strings_are_kept() {
        let cache = ReadCache::new(64 * (OVERHEAD + 100));
        let mut list = string(1, "");
        (list.kind, list.value, list.len) = (KeyType::List, None, 3);
        cache.offer(0, b"l", &list, 0);
        cache.offer(0, b"big", &string(2, &"x".repeat(200)), 0);
        cache.offer(0, b"small", &string(3, &"x".repeat(20)), 0);
        assert_eq!(cache.stats().keys, 1);
        assert!(cache.get(0, b"small", 0).is_some());
    }

    #[test]
    fn the_budget_holds_and_recently_read_entries_stay() {
        let entry_cost = OVERHEAD + 3 + 10;
        let cache = ReadCache::new(100 * entry_cost);
        for i in 0..100 {
            cache.offer(0, format!("{i:03}").as_bytes(), &string(i, "0123456789"), 0);
        }
        assert_eq!(cache.stats().bytes as usize, 100 * entry_cost);
        assert!(cache.get(0, b"000", 0).is_some());
        for i in 100..150 {
            cache.offer(0, format!("{i:03}").as_bytes(), &string(i, "0123456789"), 0);
        }
        let s = cache.stats();
        assert_eq!((s.keys, s.bytes as usize), (100, 100 * entry_cost));
        assert!(cache.get(0, b"000", 0).is_some(), "read: a second chance");
        assert!(cache.get(0, b"001", 0).is_none(), "not read: evicted first");
        assert!(cache.get(0, b"149", 0).is_some());
    }

    #[test]
    fn a_row_renamed_replaces_its_old_entry() {
        let cache = ReadCache::new(1 << 20);
        cache.offer(0, b"old", &string(1, "v"), 0);
        cache.offer(0, b"new", &string(1, "v"), 0);
        assert_eq!(cache.get(0, b"old", 0), None);
        assert!(cache.get(0, b"new", 0).is_some());
        assert_eq!(cache.stats().keys, 1);
    }
}
