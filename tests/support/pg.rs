//! PostgreSQL helpers for integration tests: the test cluster's URL (from
//! `REDSQL_TEST_POSTGRES_URL`), a private schema per test, and redsql
//! servers backed by it (`support::pg`). Tests that run on every backend
//! reach PostgreSQL through [`super::backend`] instead.

use super::{RawConn, Server, start_redsql};
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

/// The variable holding a shell command that restarts the test cluster
/// (only ever set for a cluster nobody else uses).
pub const RESTART_VAR: &str = "REDSQL_TEST_POSTGRES_RESTART";

/// The command restarting the test cluster, or None (after a loud message)
/// when it is not configured.
pub fn restart_or_skip(test: &str) -> Option<Restart> {
    match std::env::var(RESTART_VAR) {
        Ok(c) if !c.is_empty() => Some(Restart(c)),
        _ => {
            loud(&format!("SKIPPED {test}: {RESTART_VAR} is not set"));
            None
        }
    }
}

/// A shell command that restarts the test cluster.
pub struct Restart(String);

impl Restart {
    /// Restarts the cluster and waits until the command is done.
    pub fn run(&self) {
        let status = std::process::Command::new("sh")
            .args(["-c", &self.0])
            .status()
            .expect("run the restart command");
        assert!(status.success(), "restart command failed");
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

/// Runs `clients` threads, client `i` connected to `ports[i % ports.len()]`
/// (e.g. the ports of two instances), and returns what each one returned.
pub fn spread<T: Send + 'static>(
    ports: &[u16],
    clients: usize,
    f: impl Fn(usize, &mut RawConn) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = std::sync::Arc::new(f);
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let port = ports[i % ports.len()];
            let f = f.clone();
            std::thread::spawn(move || f(i, &mut RawConn::connect(port)))
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("client thread")).collect()
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
