//! A real job queue end to end: RQ (Python) enqueues jobs on redsql, an
//! `rq worker --burst` runs them, and every job's status and result is
//! checked (`tests/jobqueue/run.py`, job functions in `tests/jobqueue/jobs.py`).
//! Skips loudly when RQ is not installed (scripts/test.sh installs 1.11).
//! `REDSQL_TEST_PYTHON` names another interpreter (a virtualenv with RQ 3,
//! whose results are kept in streams).

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::pg;
use support::start_redsql;

/// Runs the RQ script: enqueue on `enqueue_port`, worker on `worker_port`.
/// False when it skipped.
fn run_rq(enqueue_port: u16, worker_port: u16, queue: &str) -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/jobqueue/run.py");
    let python = std::env::var("REDSQL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(python)
        .args([script, &enqueue_port.to_string(), &worker_port.to_string(), queue])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().expect("wait for python3").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the RQ script took more than 3 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("python3 output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => true,
        Some(77) => {
            pg::loud(&format!("SKIPPED the RQ job queue test: {}", text.trim()));
            false
        }
        _ => panic!("RQ end to end failed ({}):\n{text}", out.status),
    }
}

#[test]
fn rq_runs_jobs_through_redsql() {
    let server = start_redsql(&[]);
    run_rq(server.port, server.port, "default");
}

/// On PostgreSQL, the jobs are enqueued through one redsql process and the
/// worker takes them through another sharing the store.
#[test]
fn rq_runs_jobs_across_two_processes_on_postgresql() {
    let Some(base) = pg::url_or_skip("rq on postgres") else {
        return;
    };
    let schema = pg::TestSchema::new(&base, "rq");
    let a = pg::start_redsql_pg(&schema.url(), &[]);
    let b = pg::start_redsql_pg(&schema.url(), &[]);
    run_rq(a.port, b.port, "pg");
}
