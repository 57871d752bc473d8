//! BullMQ end to end (its ~100 Lua scripts, cmsgpack, streams for its
//! events): `Queue.add`, a `Worker` completes the job with its return value,
//! a delayed job completes, and `QueueEvents` hears `completed`, on every
//! backend. Needs Node.js and `bullmq` (`scripts/test.sh` installs it and
//! sets `NODE_PATH`); skips loudly without them.

mod support;

use std::process::Command;
use support::{Backend, backend_tests};

fn bullmq_runs_jobs(backend: &Backend) {
    let have = Command::new("node")
        .args(["-e", "require('bullmq')"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        support::pg::loud("SKIPPED the BullMQ test: node with bullmq is not installed (scripts/test.sh installs it)");
        return;
    }
    let server = backend.start("bullmq", &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bullmq/job.js");
    let out = Command::new("node")
        .arg(script)
        .env("REDIS_PORT", server.port.to_string())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("OK"),
        "{}: {text}",
        backend.name()
    );
}

backend_tests!(bullmq_runs_jobs: sqlite, postgres);
