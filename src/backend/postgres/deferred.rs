//! Deferred string writes: the writer's string writes whose outcome is known
//! in advance are not sent one by one but kept, and sent together as one
//! multi-row upsert just before the next statement or the commit. N plain
//! SETs (or INCRs, MSET's keys, ...) in a batch cost one round trip.
//!
//! A write is deferred when nothing it does depends on what the server would
//! answer: the new value and expiry are known (`Ttl::Persist`, `Ttl::At`, or
//! `Ttl::Keep` of a key whose row was read ahead and locked, see `prefetch`).
//! Two writes of one key in a batch keep the last (no statement could have
//! seen the first: any statement sends the deferred writes first). A key
//! whose row turns out to hold a collection is converted by a statement of
//! its own, as [`PgStore::set_string`](super::PgStore) does; a key this
//! transaction found missing is inserted without overwriting a row that
//! another process created meanwhile (that is a lost race, retried).

use super::PgConn;
use super::prefetch::bytea_array;
use crate::store::StoreResult;
use std::collections::HashMap;

/// One string write not sent yet.
struct Pending {
    db: u32,
    key: Vec<u8>,
    value: Vec<u8>,
    expire_at: Option<i64>,
    /// The transaction found the key without a row: insert only.
    fresh: bool,
}

/// The string writes not sent yet, in order, one per key.
#[derive(Default)]
pub(crate) struct Deferred {
    writes: Vec<Pending>,
    /// Index in `writes` of each (db, key).
    index: HashMap<(u32, Vec<u8>), usize>,
}

impl Deferred {
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.writes.clear();
        self.index.clear();
    }

    /// Keeps a write of `value` (expiring at `expire_at`) to (db, key),
    /// replacing an earlier one of the same key.
    pub(crate) fn push(&mut self, db: u32, key: &[u8], value: &[u8], expire_at: Option<i64>, fresh: bool) {
        match self.index.get(&(db, key.to_vec())) {
            Some(&i) => {
                let w = &mut self.writes[i];
                w.value = value.to_vec();
                w.expire_at = expire_at;
                // Still not in the database: still an insert only.
                w.fresh |= fresh;
            }
            None => {
                self.index.insert((db, key.to_vec()), self.writes.len());
                self.writes.push(Pending {
                    db,
                    key: key.to_vec(),
                    value: value.to_vec(),
                    expire_at,
                    fresh,
                });
            }
        }
    }
}

/// Writes the string keys `(db, key, value, expire_at)`, in one statement:
/// an existing string is replaced (`ups`), a collection converted (`gone`,
/// `conv`: its value rows deleted, its id kept; `ups` leaves it alone, as
/// a row may change only once per statement). Keys marked `fresh` are inserted without
/// `ON CONFLICT`: if another process created one meanwhile, the unique index
/// fails the statement, a lost race that the engine retries.
///
/// Also prepared by name, for [`PgConn::commit_deferred`].
pub(super) const FLUSH: &str = concat!(
    "WITH q AS (SELECT * FROM unnest($1::int4[], $2::bytea[], $3::bytea[], $4::int8[], $5::bool[])
         AS q(db, key, value, expire_at, fresh)),
     ins AS (INSERT INTO rkey (db, key, type, expire_at, version, value, len)
         SELECT db, key, 0, expire_at, nextval('rkey_version'), value, 0 FROM q WHERE fresh),
     gone AS (SELECT k.id, k.type FROM rkey k JOIN q ON k.db = q.db AND k.key = q.key
         WHERE NOT q.fresh AND k.type <> 0),
     ups AS (INSERT INTO rkey AS k (db, key, type, expire_at, version, value, len)
         SELECT db, key, 0, expire_at, nextval('rkey_version'), value, 0 FROM q
         WHERE NOT fresh AND NOT EXISTS (SELECT 1 FROM rkey c WHERE c.id IN (SELECT id FROM gone)
           AND c.db = q.db AND c.key = q.key)
         ON CONFLICT (db, key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version,
           expire_at = EXCLUDED.expire_at)",
    clear_gone!(),
    ", conv AS (UPDATE rkey k SET type = 0, value = q.value, len = 0, version = nextval('rkey_version'),
         expire_at = q.expire_at FROM q WHERE k.db = q.db AND k.key = q.key AND k.id IN (SELECT id FROM gone))
     SELECT 1"
);

/// Most value bytes sent as SQL text with the commit (in hex, twice as
/// many); more go as binary parameters, then COMMIT on its own.
const INLINE_BYTES: usize = 256 * 1024;

/// The deferred writes as the five arrays [`FLUSH`] takes.
struct Columns<'a> {
    dbs: Vec<i32>,
    keys: Vec<&'a [u8]>,
    values: Vec<&'a [u8]>,
    expiries: Vec<Option<i64>>,
    fresh: Vec<bool>,
}

impl<'a> Columns<'a> {
    fn of(writes: &'a [Pending]) -> Self {
        Columns {
            dbs: writes.iter().map(|w| w.db as i32).collect(),
            keys: writes.iter().map(|w| &w.key[..]).collect(),
            values: writes.iter().map(|w| &w.value[..]).collect(),
            expiries: writes.iter().map(|w| w.expire_at).collect(),
            fresh: writes.iter().map(|w| w.fresh).collect(),
        }
    }

    /// An `EXECUTE` of [`FLUSH`] (prepared by name, see
    /// [`NAMED`](super::NAMED)) with its parameters spelled out: numbers,
    /// booleans, and bytes in hex (nothing from the client is quoted as text).
    fn execute_sql(&self) -> String {
        let list = |items: Vec<String>| format!("'{{{}}}'", items.join(","));
        let dbs = list(self.dbs.iter().map(i32::to_string).collect());
        let expiries = list(
            self.expiries
                .iter()
                .map(|e| e.map_or_else(|| "NULL".to_string(), |t| t.to_string()))
                .collect(),
        );
        let fresh = list(
            self.fresh
                .iter()
                .map(|&f| if f { "t" } else { "f" }.to_string())
                .collect(),
        );
        format!(
            "EXECUTE redsql_flush({dbs}, {}, {}, {expiries}, {fresh})",
            bytea_array(&self.keys),
            bytea_array(&self.values)
        )
    }
}

impl PgConn {
    /// Sends the deferred string writes, in one statement.
    pub(crate) fn flush_deferred(&mut self) -> StoreResult<()> {
        let writes = std::mem::take(&mut self.deferred).writes;
        if writes.is_empty() {
            return Ok(());
        }
        let c = Columns::of(&writes);
        // The rows read ahead stay true: the keys written were forgotten
        // when their writes were deferred.
        let cache = std::mem::take(&mut self.cache);
        self.execute(FLUSH, &[&c.dbs, &c.keys, &c.values, &c.expiries, &c.fresh])?;
        self.cache = cache;
        Ok(())
    }

    /// Sends the deferred string writes and commits, in one round trip when
    /// the values are small.
    pub(crate) fn commit_deferred(&mut self) -> StoreResult<()> {
        let writes = std::mem::take(&mut self.deferred).writes;
        let size: usize = writes.iter().map(|w| w.key.len() + w.value.len()).sum();
        if writes.is_empty() || size > INLINE_BYTES {
            self.deferred = Deferred {
                writes,
                index: HashMap::new(),
            };
            self.flush_deferred()?;
            return self.batch("COMMIT");
        }
        self.ensure_named()?;
        let sql = Columns::of(&writes).execute_sql() + ";COMMIT";
        self.batch(&sql)
    }

    /// Replaces the collection at (db, key) by a string: its value rows go,
    /// the key keeps its id.
    pub(crate) fn replace_with_string(&mut self, db: u32, key: &[u8], value: &[u8], expiry: Expiry) -> StoreResult<()> {
        let (keep, now, at) = match expiry {
            Expiry::At(at) => (false, 0, at),
            Expiry::KeepAt(now) => (true, now, None),
        };
        self.execute(
            concat!(
                "WITH gone AS (SELECT id, type FROM rkey WHERE db = $1 AND key = $2)",
                clear_gone!(),
                "UPDATE rkey k SET type = 0, value = $4, len = 0, version = nextval('rkey_version'),
                   expire_at = CASE WHEN $5 THEN CASE WHEN k.expire_at > $6 THEN k.expire_at END ELSE $3 END
                 WHERE db = $1 AND key = $2"
            ),
            &[&(db as i32), &key, &at, &value, &keep, &now],
        )?;
        Ok(())
    }
}

/// The expiry a string replacing a key gets.
pub(crate) enum Expiry {
    /// This one (`None`: no expiry).
    At(Option<i64>),
    /// The replaced key's, if it is live at this time (KEEPTTL).
    KeepAt(i64),
}
