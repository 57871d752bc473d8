//! A SQLite connection that keeps its prepared statements for its lifetime,
//! found by the address of their SQL text.
//!
//! rusqlite's own cache (`Connection::prepare_cached`) costs about 1.3k
//! instructions per use: it trims and hashes the SQL text to take the
//! statement out of an LRU list, copies the text into a new `Arc<str>` as the
//! statement's key, and hashes the text again to put it back. redsql runs one or more statements
//! per command, so that was ~10% of a GET. [`Conn::cached`] takes the SQL as
//! a `&'static str` (every fixed statement is a literal) and finds the
//! statement by the text's address: a multiplication, a table probe and a
//! pointer comparison. Statements built at run time (`format!`) still go
//! through `prepare_cached`.

use super::cache::Changed;
use rusqlite::hooks::Action;
use rusqlite::{Connection, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A connection and the statements prepared on it.
///
/// The statements borrow the connection, which a struct cannot express
/// safely; so the connection lives in a `Box` (its address never changes,
/// wherever the `Conn` is moved), the statements are stored with their
/// lifetime erased, and `Drop` finalizes them before the connection closes.
/// They are only ever handed out with a lifetime bounded by a borrow of the
/// `Conn` ([`Conn::cached`]).
pub struct Conn {
    /// Statements not in use, by the address and length of their SQL.
    /// Declared before `conn`, and emptied by `Drop` first in any case.
    kept: RefCell<HashMap<(usize, usize), Statement<'static>, BuildHasherDefault<AddressHasher>>>,
    conn: Box<Connection>,
    /// Keys created by the open write transaction, not yet in `rcount` (counts.rs).
    pub created: super::counts::Created,
    /// Rows of `rkey` changed since the last commit, once [`Conn::record_changes`]
    /// is on (the writer's, for the read cache: cache.rs).
    pub changed: Arc<Changed>,
}

impl Conn {
    pub fn new(conn: Connection) -> Conn {
        Conn {
            kept: RefCell::default(),
            conn: Box::new(conn),
            created: Default::default(),
            changed: Default::default(),
        }
    }

    /// Records every row of `rkey` this connection inserts, updates or
    /// deletes in [`Conn::changed`] (SQLite's update hook: any statement or
    /// trigger; not a truncation, which the store reports itself).
    pub fn record_changes(&self) {
        let changed = self.changed.clone();
        self.conn
            .update_hook(Some(move |_: Action, _: &str, table: &str, id: i64| {
                if table == "rkey" {
                    changed.row(id);
                }
            }));
    }

    /// The prepared statement for `sql`, prepared on first use. It goes back
    /// to the connection when dropped. If it is already in use (a statement
    /// run while another run of the same one is open), a second one is
    /// prepared and kept afterwards in its place.
    pub fn cached(&self, sql: &'static str) -> rusqlite::Result<Cached<'_>> {
        let key = (sql.as_ptr() as usize, sql.len());
        let kept = self.kept.borrow_mut().remove(&key);
        let stmt = match kept {
            // SAFETY: the statement was prepared on `self.conn`, which
            // outlives the borrow of `self` that bounds the new lifetime.
            Some(stmt) => unsafe { std::mem::transmute::<Statement<'static>, Statement<'_>>(stmt) },
            None => self.conn.prepare(sql)?,
        };
        Ok(Cached {
            stmt: Some(stmt),
            key,
            home: self,
        })
    }

    /// Statements currently kept (for tests).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.kept.borrow().len()
    }
}

// SAFETY: a `Connection` is `Send` (SQLite is built thread-safe), and its
// statements move to another thread only together with it, inside the same
// `Conn`: none can be lent out while the `Conn` moves (a `Cached` borrows
// it), and `Conn` is not `Sync`. rusqlite's own statement cache is `Send`
// for the same reason.
unsafe impl Send for Conn {}

impl Deref for Conn {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Finalize every statement while the connection is still open.
        self.kept.get_mut().clear();
    }
}

/// A statement lent by [`Conn::cached`].
pub struct Cached<'c> {
    stmt: Option<Statement<'c>>,
    key: (usize, usize),
    home: &'c Conn,
}

impl<'c> Deref for Cached<'c> {
    type Target = Statement<'c>;

    fn deref(&self) -> &Statement<'c> {
        self.stmt.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Cached<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.stmt.as_mut().expect("present until dropped")
    }
}

impl Drop for Cached<'_> {
    fn drop(&mut self) {
        if let Some(mut stmt) = self.stmt.take() {
            // Bound values are copies held by the statement: a 512 MB SET
            // must not stay in memory until the statement's next run.
            stmt.clear_bindings();
            // SAFETY: the statement belongs to `home.conn`; `Conn` finalizes
            // its kept statements before the connection is dropped, and
            // hands them out only with lifetimes bounded by a borrow of it.
            let stmt = unsafe { std::mem::transmute::<Statement<'_>, Statement<'static>>(stmt) };
            // Statements reset themselves after each execution or query
            // (rusqlite resets when a run ends or its rows are dropped).
            self.home.kept.borrow_mut().insert(self.key, stmt);
        }
    }
}

/// Hashes the (address, length) keys: the addresses of distinct literals
/// differ in their low bits already; one multiplication spreads them.
#[derive(Default)]
pub struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use super::Conn;
    use rusqlite::Connection;

    const INSERT: &str = "INSERT INTO t VALUES (?1)";
    const COUNT: &str = "SELECT count(*) FROM t WHERE x >= ?1";

    fn conn() -> Conn {
        let c = Conn::new(Connection::open_in_memory().unwrap());
        c.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        c
    }

    #[test]
    fn a_statement_is_prepared_once_and_reused() {
        let c = conn();
        for i in 0..10 {
            c.cached(INSERT).unwrap().execute([i]).unwrap();
        }
        assert_eq!(c.kept(), 1);
        let n: i64 = c.cached(COUNT).unwrap().query_row([5], |r| r.get(0)).unwrap();
        assert_eq!(n, 5);
        // The same statement again, with other parameters: reset and rebound.
        let n: i64 = c.cached(COUNT).unwrap().query_row([8], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(c.kept(), 2);
    }

    #[test]
    fn a_statement_in_use_is_not_lent_twice() {
        let c = conn();
        c.cached(INSERT).unwrap().execute([1]).unwrap();
        let mut outer = c.cached(COUNT).unwrap();
        let mut rows = outer.query([0]).unwrap();
        // While `outer` is open, the same SQL gets a statement of its own.
        let inner: i64 = c.cached(COUNT).unwrap().query_row([2], |r| r.get(0)).unwrap();
        assert_eq!(inner, 0);
        assert_eq!(rows.next().unwrap().unwrap().get::<_, i64>(0).unwrap(), 1);
        drop(rows);
        drop(outer);
        assert_eq!(c.kept(), 2);
    }

    #[test]
    fn a_query_left_unfinished_does_not_hold_its_statement() {
        let c = conn();
        for i in 0..3 {
            c.cached(INSERT).unwrap().execute([i]).unwrap();
        }
        {
            let mut s = c.cached("SELECT x FROM t ORDER BY x").unwrap();
            let mut rows = s.query([]).unwrap();
            rows.next().unwrap();
        }
        // A write after the unfinished read: the statement was reset, so it
        // holds no read lock and sees the new row on its next run.
        c.cached(INSERT).unwrap().execute([9]).unwrap();
        let all: Vec<i64> = c
            .cached("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(all, vec![0, 1, 2, 9]);
    }

    #[test]
    fn moving_the_connection_keeps_its_statements_valid() {
        let c = conn();
        c.cached(INSERT).unwrap().execute([7]).unwrap();
        let moved = Box::new(c);
        let n: i64 = moved.cached(COUNT).unwrap().query_row([0], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        moved.cached(INSERT).unwrap().execute([8]).unwrap();
    }
}
