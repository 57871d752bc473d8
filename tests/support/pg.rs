//! PostgreSQL helpers for integration tests: the test cluster's URL (from
//! `REDSQL_TEST_POSTGRES_URL`), a private schema per test, and redsql
//! servers backed by it. Include with `#[path = "support/pg.rs"] mod pg;`
//! next to `mod support;`.
#![allow(dead_code)]

use super::support::{Server, start_redsql};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The variable naming the test cluster, e.g. `postgres://postgres@127.0.0.1:55432/postgres`.
pub const URL_VAR: &str = "REDSQL_TEST_POSTGRES_URL";

/// The test cluster's URL, or None (after a loud message) when it is not configured.
pub fn url_or_skip(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            loud(&format!(
                "SKIPPED {test}: {URL_VAR} is not set (no PostgreSQL to test against)"
            ));
            None
        }
    }
}

/// Prints past the test harness's output capture (which swallows `eprintln!`
/// of passing tests), so that a skip is seen.
pub fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** {msg} ***\n");
}

/// A schema of its own for one test, dropped when this is dropped.
pub struct TestSchema {
    /// The cluster URL without a schema parameter.
    pub base: String,
    pub name: String,
}

impl TestSchema {
    pub fn new(base: &str, tag: &str) -> TestSchema {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("t_{tag}_{}_{n}", std::process::id());
        let s = TestSchema {
            base: base.to_string(),
            name,
        };
        s.drop_schema();
        s
    }

    /// The URL redsql is given: the cluster with `?schema=` this schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.base, self.name)
    }

    /// A direct SQL connection to the cluster, with this schema first in the search path.
    pub fn sql(&self) -> postgres::Client {
        let mut c = postgres::Client::connect(&self.base, postgres::NoTls).expect("connect to the test PostgreSQL");
        c.batch_execute(&format!("SET search_path TO \"{}\"", self.name))
            .unwrap();
        c
    }

    fn drop_schema(&self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        self.drop_schema();
    }
}

/// Starts redsql on a free port with its data in PostgreSQL at `url`.
pub fn start_redsql_pg(url: &str, extra: &[&str]) -> Server {
    // The last --db wins over the SQLite default that start_redsql passes.
    let mut args = vec!["--db", url];
    args.extend_from_slice(extra);
    start_redsql(&args)
}

/// Fresh databases for a model test to run on, each with its backend's name:
/// an in-memory SQLite one and, when the test cluster is configured, one in
/// a private PostgreSQL schema (dropped with the returned [`TestSchema`],
/// after the database, which is dropped first).
pub fn model_dbs(tag: &str) -> Vec<(&'static str, redsql::Db, Option<TestSchema>)> {
    let mut out = vec![("sqlite", redsql::Db::open(":memory:").expect("open SQLite"), None)];
    if let Some(base) = url_or_skip(&format!("{tag} model test on PostgreSQL")) {
        let schema = TestSchema::new(&base, tag);
        let db = redsql::Db::open(&schema.url()).expect("open PostgreSQL");
        out.push(("postgres", db, Some(schema)));
    }
    out
}

/// Two redsql processes on one fresh schema, or None (after a loud message)
/// when no test cluster is configured.
pub fn two_instances(tag: &str) -> Option<(TestSchema, Server, Server)> {
    let base = url_or_skip(tag)?;
    let schema = TestSchema::new(&base, tag);
    let a = start_redsql_pg(&schema.url(), &[]);
    let b = start_redsql_pg(&schema.url(), &[]);
    Some((schema, a, b))
}
