//! PostgreSQL backend: settings from the URL, connections with a prepared
//! statement cache, schema migrations, and the [`Store`](crate::store::Store)
//! implementation.
//!
//! Many redsql processes may share one database: every piece of state lives
//! in PostgreSQL (key versions come from a sequence), writers lock the key
//! rows they read (`SELECT ... FOR UPDATE`) so read-modify-write commands
//! (INCR, SET NX, ...) are atomic across processes, and races that cannot be
//! prevented by a lock (two processes creating the same key) are detected and
//! reported as [`Fault::Retry`](crate::engine) so the engine runs the
//! transaction again. The tables live in their own schema (`?schema=name`,
//! default `redsql`), so several stores can share one database.

// Macros first: `touch!` (coll) and `clear_gone!` (store) serve the collection modules.
#[macro_use]
mod coll;
#[macro_use]
mod store;
mod deferred;
pub mod engine;
mod hash;
mod hex;
mod list;
pub mod notify;
mod prefetch;
mod set;
mod stream;
mod watch;
mod zset;

pub use prefetch::KeyRef;
pub use store::PgStore;

use crate::store::{StoreError, StoreResult};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

/// The schema version this build writes; older schemas are migrated on connect.
pub const SCHEMA_VERSION: i64 = 4;

/// The schema used when the URL names none.
pub const DEFAULT_SCHEMA: &str = "redsql";

/// How long connecting may take before it is an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to connect: the URL's connection parameters and the schema.
#[derive(Clone)]
pub struct PgSettings {
    config: postgres::Config,
    /// The schema holding redsql's tables (`?schema=name`).
    pub schema: String,
    /// The URL without its password, for messages.
    pub display: String,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl PgSettings {
    /// Parses `postgres://user:password@host:port/dbname?schema=name&...`.
    /// `schema` is redsql's own parameter; the others are libpq's.
    pub fn parse(url: &str) -> StoreResult<PgSettings> {
        let display = redact_url(url);
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut schema = DEFAULT_SCHEMA.to_string();
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.strip_prefix("schema=") {
                Some(name) => schema = name.to_string(),
                None => rest.push(pair),
            }
        }
        if !valid_identifier(&schema) {
            return Err(StoreError(format!(
                "invalid schema name '{schema}' in {display} (letters, digits and _, not starting with a digit, at most 63)"
            )));
        }
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config = postgres::Config::from_str(&url)
            .map_err(|e| StoreError(format!("invalid URL {display}: {}", describe(&e))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("redsql");
        }
        // Notices ("relation already exists, skipping") are not for the user.
        config.notice_callback(|_| {});
        Ok(PgSettings {
            config,
            schema,
            display,
        })
    }

    /// Opens a connection with `search_path` set to the schema.
    fn connect(&self) -> StoreResult<Client> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| StoreError(format!("cannot connect: {}", describe(&e))))?;
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.schema))
            .map_err(|e| StoreError(describe(&e)))?;
        Ok(client)
    }
}

/// Letters, digits and `_`, not starting with a digit, at most 63 bytes:
/// safe to quote into SQL.
fn valid_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Most keys a write transaction locks one by one (see `PgConn::lock_ids`).
const MAX_KEY_LOCKS: usize = 1000;

pub use crate::util::redact_url;

/// One line describing a PostgreSQL error: the server's message for database
/// errors, the cause for connection errors.
pub fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        source = s.source();
    }
    msg
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError(describe(&e))
    }
}

/// What a failed statement means (see `engine::conn::Fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgFault {
    None,
    /// Lost a race: serialization failure, deadlock, or a key created concurrently.
    Retry,
    /// The connection is gone.
    Lost,
    Other,
}

/// Classifies an error from the server or the connection.
fn classify(e: &postgres::Error, client: &Client) -> PgFault {
    if client.is_closed() || e.is_closed() {
        return PgFault::Lost;
    }
    let Some(db) = e.as_db_error() else {
        // I/O errors: the connection is not to be trusted any more.
        return if e.to_string().starts_with("error communicating with the server") {
            PgFault::Lost
        } else {
            PgFault::Other
        };
    };
    let code = db.code().code();
    match code {
        // serialization_failure, deadlock_detected
        "40001" | "40P01" => PgFault::Retry,
        // unique_violation on a key name: another process created the key first.
        "23505" if db.constraint() == Some("rkey_db_key") => PgFault::Retry,
        // admin_shutdown, crash_shutdown, cannot_connect_now; connection exceptions
        "57P01" | "57P02" | "57P03" => PgFault::Lost,
        _ if code.starts_with("08") => PgFault::Lost,
        _ => PgFault::Other,
    }
}

/// A connection, its prepared statements, and what the current transaction
/// has learnt.
pub struct PgConn {
    client: Client,
    settings: PgSettings,
    /// Prepared statements by SQL text (the texts are `'static` constants),
    /// and whether each may write rows (see [`PgConn::statement`]).
    statements: HashMap<usize, (Statement, bool)>,
    /// Key rows read ahead for the commands about to run (see `prefetch`).
    pub(crate) cache: prefetch::KeyCache,
    /// String writes not sent yet (see `deferred`).
    pub(crate) deferred: deferred::Deferred,
    /// Set while the commands must be answered from [`PgConn::cache`] alone
    /// (a coalesced read that needs one snapshot): any statement then fails
    /// and sets `missed`, and the caller runs the batch again its usual way.
    pub(crate) strict: bool,
    pub(crate) missed: bool,
    /// Keys that a write transaction found missing: if it goes on to create
    /// one, the creation must not silently overwrite a key another process
    /// created meanwhile (a missing row cannot be locked).
    pub(crate) absent: HashSet<(u32, Vec<u8>)>,
    /// What the last failure meant.
    pub(crate) fault: PgFault,
    /// Session settings to restore after a reconnection.
    session: Vec<String>,
    /// Mixed into key lock ids, so that stores in other schemas do not contend.
    schema_salt: i64,
    /// Whether the statements of [`NAMED`] are prepared on this connection.
    named: bool,
    /// The writer's process identity for WATCH of missing keys (see `watch`).
    pub(crate) watch_owner: Option<watch::Owner>,
}

/// Statements prepared by name (SQL `PREPARE`) on a connection that needs
/// them, so that the simple query protocol, which can send several
/// statements in one round trip, runs them with a cached plan:
/// `EXECUTE name(literals)`.
const NAMED: &[(&str, &str)] = &[
    ("redsql_read_ahead(int4[], bytea[])", prefetch::READ_AHEAD),
    (
        "redsql_flush(int4[], bytea[], bytea[], int8[], bool[])",
        deferred::FLUSH,
    ),
];

impl PgConn {
    /// Connects, and creates or migrates the schema.
    pub fn open_migrating(settings: &PgSettings) -> StoreResult<PgConn> {
        let mut conn = PgConn::open(settings)?;
        migrate(&mut conn.client, &settings.schema)
            .map_err(|e| StoreError(format!("cannot set up schema \"{}\": {}", settings.schema, e.0)))?;
        Ok(conn)
    }

    /// Connects to an existing schema.
    pub fn open(settings: &PgSettings) -> StoreResult<PgConn> {
        Ok(PgConn {
            client: settings.connect()?,
            settings: settings.clone(),
            statements: HashMap::new(),
            cache: prefetch::KeyCache::default(),
            deferred: deferred::Deferred::default(),
            strict: false,
            missed: false,
            absent: HashSet::new(),
            fault: PgFault::None,
            session: Vec::new(),
            schema_salt: crate::store::member_hash(settings.schema.as_bytes()),
            named: false,
            watch_owner: None,
        })
    }

    /// True when the connection is closed (server restarted, network gone).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Runs a session setting now and again after every reconnection.
    pub fn set_session(&mut self, sql: &str) -> StoreResult<()> {
        self.batch(sql)?;
        self.session.push(sql.to_string());
        Ok(())
    }

    /// Replaces a closed connection by a new one.
    pub fn reconnect(&mut self) -> StoreResult<()> {
        self.client = self.settings.connect()?;
        for sql in &self.session {
            self.client.batch_execute(sql)?;
        }
        self.statements.clear();
        self.named = false;
        self.forget_transaction();
        self.fault = PgFault::None;
        Ok(())
    }

    /// Prepares the statements of [`NAMED`] if they are not yet.
    fn ensure_named(&mut self) -> StoreResult<()> {
        if !self.named {
            let sql: Vec<String> = NAMED
                .iter()
                .map(|(name, body)| format!("PREPARE {name} AS {body}"))
                .collect();
            self.batch(&sql.join(";"))?;
            self.named = true;
        }
        Ok(())
    }

    /// Runs SQL without parameters or results (BEGIN, COMMIT, ...).
    pub fn batch(&mut self, sql: &str) -> StoreResult<()> {
        let r = self.client.batch_execute(sql);
        self.check(r)
    }

    /// The advisory lock ids of `keys`: a hash of the schema and the key name
    /// (whatever the database number, so MOVE, COPY ... DB and SELECT are
    /// covered), ascending and without duplicates. Every redsql process takes
    /// its locks in this one order, so their transactions never deadlock on keys.
    ///
    /// A transaction over more than [`MAX_KEY_LOCKS`] keys (an MSET of
    /// 20,000 pairs) takes none: each lock is a slot of PostgreSQL's shared
    /// lock table (`max_locks_per_transaction` × connections, 6,400 with the
    /// defaults), which it would exhaust ("out of shared memory"). It is
    /// still correct through row locks, and through retries where it loses
    /// a race (a deadlock or a key created meanwhile), only less smooth
    /// under contention on its keys.
    fn lock_ids(&self, keys: &[&[u8]]) -> Vec<i64> {
        let mut ids: Vec<i64> = keys
            .iter()
            .map(|k| crate::store::member_hash(k) ^ self.schema_salt)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > MAX_KEY_LOCKS {
            ids.clear();
        }
        ids
    }

    /// Drops what the current transaction knew or had not sent yet (after a
    /// commit, a rollback or a reconnection).
    pub fn forget_transaction(&mut self) {
        self.cache.clear();
        self.deferred.clear();
        self.absent.clear();
        self.strict = false;
        self.missed = false;
    }

    /// Records what an error means before passing it on.
    fn check<T>(&mut self, r: Result<T, postgres::Error>) -> StoreResult<T> {
        r.map_err(|e| {
            // After a failed statement, the next ones in the transaction fail
            // with in_failed_sql_transaction: the first failure (a lost race,
            // say) is what happened.
            let aborted = e.as_db_error().is_some_and(|d| d.code().code() == "25P02");
            if !(aborted && self.fault != PgFault::None) {
                self.fault = classify(&e, &self.client);
            }
            StoreError(describe(&e))
        })
    }

    /// The prepared statement for `sql`, preparing it on first use, made
    /// ready to run: the deferred string writes are sent first (the statement
    /// must see them), and a statement that may write rows makes the
    /// read-ahead rows stale. In strict mode there are no statements at all.
    fn statement(&mut self, sql: &'static str) -> StoreResult<Statement> {
        if self.strict {
            self.missed = true;
            return Err(StoreError("not read ahead".into()));
        }
        if !self.deferred.is_empty() {
            self.flush_deferred()?;
        }
        let id = sql.as_ptr() as usize;
        let (st, writes) = match self.statements.get(&id) {
            Some(s) => s.clone(),
            None => {
                let r = self.client.prepare(sql);
                let st = self.check(r)?;
                let writes = may_write(sql);
                self.statements.insert(id, (st.clone(), writes));
                (st, writes)
            }
        };
        if writes {
            self.cache.clear();
        }
        Ok(st)
    }

    /// Runs a statement and returns its rows.
    pub fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let st = self.statement(sql)?;
        let r = self.client.query(&st, params);
        self.check(r)
    }

    /// Runs a statement that returns at most one row.
    pub fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Row>> {
        let st = self.statement(sql)?;
        let r = self.client.query_opt(&st, params);
        self.check(r)
    }

    /// Runs a statement that returns exactly one row.
    pub fn query_one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Row> {
        let st = self.statement(sql)?;
        let r = self.client.query_one(&st, params);
        self.check(r)
    }

    /// Runs a statement and returns the number of rows it changed.
    pub fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let st = self.statement(sql)?;
        let r = self.client.execute(&st, params);
        self.check(r)
    }

    /// Marks the current transaction as having lost a race.
    pub(crate) fn lost_race(&mut self, what: &str) -> StoreError {
        self.fault = PgFault::Retry;
        StoreError(format!("concurrent write: {what}"))
    }
}

/// True if `sql` may change rows: it inserts, deletes, or updates a table
/// (`SELECT ... FOR UPDATE` only locks). The SQL of this backend spells
/// keywords in capitals and its tables' names start with `r`.
fn may_write(sql: &str) -> bool {
    sql.contains("INSERT ") || sql.contains("DELETE ") || sql.contains("UPDATE r")
}

// ---------------------------------------------------------------------------
// The message bus's table (see `notify`): created on every start, whatever the
// schema version, as it holds nothing that outlives a minute.
// ---------------------------------------------------------------------------

/// Messages too large for a NOTIFY payload, kept for a minute (`notify`).
const NOTIFY_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS rpubsub (
        id      bigint      GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        payload bytea       NOT NULL,              -- the message, binary-safe
        at      timestamptz NOT NULL DEFAULT now() -- when it was sent
    );";

/// Creates the schema and its tables, or migrates them to [`SCHEMA_VERSION`].
/// Serialized by an advisory lock, so that processes starting together do not
/// race.
fn migrate(client: &mut Client, schema: &str) -> StoreResult<()> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('redsql schema ' || $1::text))",
        &[&schema],
    )?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
         CREATE TABLE IF NOT EXISTS redsql_meta (name text PRIMARY KEY, value text NOT NULL);"
    ))?;
    let version: i64 = tx
        .query_opt("SELECT value FROM redsql_meta WHERE name = 'schema_version'", &[])?
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError(format!(
            "schema version {version} is newer than this redsql understands ({SCHEMA_VERSION})"
        )));
    }
    if version < 1 {
        tx.batch_execute(include_str!("schema.sql"))?;
    }
    if version < 2 {
        tx.batch_execute(&include_str!("watch.sql").replace("@schema@", &format!("\"{schema}\"")))?;
    }
    if version < 3 {
        tx.batch_execute(&include_str!("counts.sql").replace("@schema@", &format!("\"{schema}\"")))?;
    }
    if version < 4 {
        tx.batch_execute(include_str!("stream.sql"))?;
    }
    tx.batch_execute(NOTIFY_SCHEMA)?;
    tx.execute(
        "INSERT INTO redsql_meta VALUES ('schema_version', $1)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&SCHEMA_VERSION.to_string()],
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_for_display() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db?schema=x"), "postgres://u@h/db?schema=x");
        assert_eq!(redact_url("postgresql://h/db"), "postgresql://h/db");
    }

    #[test]
    fn schema_comes_from_the_url() {
        let s = PgSettings::parse("postgres://u@127.0.0.1:5432/db?schema=other&sslmode=disable").unwrap();
        assert_eq!(s.schema, "other");
        assert_eq!(PgSettings::parse("postgres://u@h/db").unwrap().schema, "redsql");
        assert!(PgSettings::parse("postgres://u@h/db?schema=a;b").is_err());
        assert!(PgSettings::parse("postgres://u@h/db?schema=9x").is_err());
    }
}
