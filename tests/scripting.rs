//! Lua scripts beyond what the differential scripts (`tests/diff/scripting.redis`)
//! can show: a real client library's Lua (redis-py's `Lock`), atomicity and
//! isolation of scripts under concurrent clients, and read-only scripts
//! running beside writes. Each runs on SQLite, and on PostgreSQL when
//! `REDSQL_TEST_POSTGRES_URL` is set.

mod support;

use std::process::Command;
use support::{RawConn, Server, pg, start_redsql};

/// The servers to run a test against: SQLite, and PostgreSQL if configured.
fn servers(tag: &str) -> Vec<(&'static str, Server, Option<pg::TestSchema>)> {
    let mut out = vec![("sqlite", start_redsql(&[]), None)];
    if let Some(base) = pg::url_or_skip(tag) {
        let schema = pg::TestSchema::new(&base, &tag.replace([' ', '-'], "_"));
        let server = pg::start_redsql_pg(&schema.url(), &[]);
        out.push(("postgres", server, Some(schema)));
    }
    out
}

/// redis-py's `Lock` (its acquire, extend, reacquire and release are Lua
/// scripts run with EVALSHA): every step has the outcome it has on Redis.
const LOCK_SCRIPT: &str = r#"
import sys, redis
from redis.exceptions import LockError, LockNotOwnedError
r = redis.Redis(port=int(sys.argv[1]))
r.delete("res")
lock = r.lock("res", timeout=10)
assert lock.acquire(blocking=False), "acquire"
assert lock.owned() and lock.locked()
other = r.lock("res", timeout=10)
assert not other.acquire(blocking=False), "a second acquire must fail"
assert lock.extend(20), "extend"
assert r.pttl("res") > 20000, r.pttl("res")
assert lock.reacquire(), "reacquire"
assert 9000 < r.pttl("res") <= 10000, r.pttl("res")
# Another owner's token cannot release or extend it.
other.local.token = b"not-the-owner"
try:
    other.release()
    raise AssertionError("release by another owner succeeded")
except LockNotOwnedError:
    pass
other.local.token = b"not-the-owner"
try:
    other.extend(5)
    raise AssertionError("extend by another owner succeeded")
except LockNotOwnedError:
    pass
lock.release()
assert r.exists("res") == 0, "the key is gone after release"
try:
    lock.release()
    raise AssertionError("second release succeeded")
except LockError:
    pass
# The scripts were cached by EVALSHA: a flushed cache is reloaded.
r.script_flush()
with r.lock("res", timeout=5):
    assert r.exists("res") == 1
assert r.exists("res") == 0
print("ok")
"#;

#[test]
fn redis_py_lock_acquires_extends_and_releases() {
    for (name, server, _schema) in servers("scripting lock") {
        let out = Command::new("python3")
            .args(["-c", LOCK_SCRIPT, &server.port.to_string()])
            .output()
            .expect("run python3");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success() && text.contains("ok"), "{name}: {text}");
    }
}

fn int_reply(reply: &[u8]) -> i64 {
    let s = std::str::from_utf8(reply).unwrap();
    s.trim_start_matches([':', '$'])
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not an integer reply: {s:?}"))
}

/// A script that reads a counter, then writes it back plus one: without
/// atomicity concurrent clients would lose increments.
const READ_THEN_WRITE: &str = "local n = tonumber(redis.call('get', KEYS[1]) or '0') \
     redis.call('set', KEYS[1], n + 1) \
     redis.call('set', KEYS[2], n + 1) \
     return n + 1";

#[test]
fn scripts_are_atomic_and_isolated_under_concurrent_clients() {
    for (name, server, _schema) in servers("scripting atomicity") {
        let writers = 6;
        let rounds = 150;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // A reader checks that it never sees one key written and not the other.
        let reader = {
            let port = server.port;
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                let mut checks = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = c.cmd_str(&["MGET", "counter", "mirror"]);
                    let text = String::from_utf8_lossy(&r).to_string();
                    let values: Vec<&str> = text.lines().filter(|l| !l.starts_with(['*', '$'])).collect();
                    if text.starts_with("*2") && values.len() == 2 {
                        assert_eq!(values[0], values[1], "a half-done script was seen: {text:?}");
                    }
                    checks += 1;
                }
                checks
            })
        };
        let threads: Vec<_> = (0..writers)
            .map(|_| {
                let port = server.port;
                std::thread::spawn(move || {
                    let mut c = RawConn::connect(port);
                    let sha = c.cmd_str(&["SCRIPT", "LOAD", READ_THEN_WRITE]);
                    let sha = String::from_utf8_lossy(&sha).lines().nth(1).unwrap().to_string();
                    for i in 0..rounds {
                        let r = if i % 2 == 0 {
                            c.cmd_str(&["EVALSHA", &sha, "2", "counter", "mirror"])
                        } else {
                            c.cmd_str(&["EVAL", READ_THEN_WRITE, "2", "counter", "mirror"])
                        };
                        assert!(r.starts_with(b":"), "{}", String::from_utf8_lossy(&r));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let checks = reader.join().unwrap();
        assert!(checks > 0, "{name}: the reader never ran");
        let mut c = server.conn();
        let total = int_reply(&c.cmd_str(&["GET", "counter"]));
        assert_eq!(total, writers * rounds, "{name}: increments were lost");
    }
}

#[test]
fn a_failing_script_keeps_its_writes_but_redis_call_errors_do_not_roll_back() {
    // As in Redis, a script is not a transaction that rolls back: writes
    // before an error stay. redsql keeps them too (the SQL transaction
    // commits the script's effects as Redis's would be).
    for (name, server, _schema) in servers("scripting errors") {
        let mut c = server.conn();
        let r = c.cmd_str(&["EVAL", "redis.call('set','k','1') error('boom')", "0"]);
        assert!(
            r.starts_with(b"-ERR user_script:1: boom"),
            "{name}: {}",
            String::from_utf8_lossy(&r)
        );
        assert_eq!(c.cmd_str(&["GET", "k"]), b"$1\r\n1\r\n", "{name}");
    }
}

#[test]
fn read_only_scripts_run_beside_writes_and_see_committed_data() {
    for (name, server, _schema) in servers("scripting read-only") {
        let mut w = server.conn();
        assert_eq!(w.cmd_str(&["SET", "ro", "v1"]), b"+OK\r\n");
        let mut r = server.conn();
        let got = r.cmd_str(&["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "ro"]);
        assert_eq!(got, b"$2\r\nv1\r\n", "{name}");
        let got = r.cmd_str(&["EVAL_RO", "return redis.call('set', KEYS[1], 'x')", "1", "ro"]);
        assert!(
            got.starts_with(b"-ERR Write commands are not allowed from read-only scripts."),
            "{name}: {}",
            String::from_utf8_lossy(&got)
        );
        // Many read-only scripts from several clients while another writes.
        let port = server.port;
        let writer = std::thread::spawn(move || {
            let mut c = RawConn::connect(port);
            for i in 0..200 {
                c.cmd_str(&["SET", "ro", &format!("v{i}")]);
            }
        });
        let readers: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut c = RawConn::connect(port);
                    for _ in 0..100 {
                        let got = c.cmd_str(&["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "ro"]);
                        assert!(got.starts_with(b"$"), "{}", String::from_utf8_lossy(&got));
                    }
                })
            })
            .collect();
        writer.join().unwrap();
        for t in readers {
            t.join().unwrap();
        }
        assert_eq!(w.cmd_str(&["GET", "ro"]), b"$4\r\nv199\r\n", "{name}");
    }
}

#[test]
fn a_client_blocked_on_a_key_is_served_after_a_script_pushes_to_it() {
    for (name, server, _schema) in servers("scripting wakes blocked") {
        let port = server.port;
        let blocked = std::thread::spawn(move || {
            let mut c = RawConn::connect(port);
            c.cmd_str(&["BLPOP", "jobs", "10"])
        });
        // Let the client block first.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut c = server.conn();
        let script = "redis.call('rpush', KEYS[1], ARGV[1]) redis.call('rpush', KEYS[1], ARGV[2]) return redis.call('llen', KEYS[1])";
        let r = c.cmd_str(&["EVAL", script, "1", "jobs", "a", "b"]);
        assert_eq!(r, b":2\r\n", "{name}");
        let got = blocked.join().unwrap();
        assert_eq!(
            got,
            b"*2\r\n$4\r\njobs\r\n$1\r\na\r\n",
            "{name}: {}",
            String::from_utf8_lossy(&got)
        );
        assert_eq!(
            c.cmd_str(&["LRANGE", "jobs", "0", "-1"]),
            b"*1\r\n$1\r\nb\r\n",
            "{name}"
        );
    }
}

#[test]
fn the_library_api_runs_scripts_and_functions() {
    let db = redsql::Db::open(":memory:").unwrap();
    let script = "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])";
    let r = db.eval(script, &["k"], &["v"]).unwrap();
    assert_eq!(r, redsql::resp::Reply::Bulk("v".into()));
    let err = db
        .eval("return redis.call('nosuch')", &[] as &[&str], &[] as &[&str])
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ERR Unknown Redis command called from script"),
        "{err}"
    );
    let lib = "#!lua name=apilib\nredis.register_function('twice', function(keys, args) return args[1] .. args[1] end)";
    db.command(&["FUNCTION", "LOAD", "REPLACE", lib]).unwrap();
    let r = db.fcall("twice", &[] as &[&str], &["ab"]).unwrap();
    assert_eq!(r, redsql::resp::Reply::Bulk("abab".into()));
    assert_eq!(
        db.fcall("nosuch", &[] as &[&str], &[] as &[&str]).unwrap_err(),
        redsql::Error::Redis("ERR Function not found".into())
    );
}

/// Celery with its Redis broker and result backend: a worker subprocess runs
/// `add.delay(2, 3)` and `.get()` returns 5 (kombu's mutex is a redis-py
/// Lock, released with EVALSHA). `REDSQL_TEST_PYTHON` names the Python to
/// use (default `python3`); skips loudly when Celery is not installed there.
#[test]
fn celery_runs_a_task_with_redsql_as_broker_and_backend() {
    let python = std::env::var("REDSQL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/celery/run.py");
    for (name, server, _schema) in servers("scripting celery") {
        let out = Command::new(&python)
            .arg(script)
            .env("REDSQL_PORT", server.port.to_string())
            .output()
            .expect("run python");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.code() == Some(77) {
            pg::loud(&format!("SKIPPED the Celery test: {}", text.trim()));
            return;
        }
        assert!(out.status.success() && text.contains("ok 5"), "{name}: {text}");
    }
}

/// ioredis's `defineCommand` (EVALSHA, with EVAL after NOSCRIPT, alone and
/// in a pipeline). Skips loudly without Node.js or ioredis (`NODE_PATH` may
/// name the `node_modules` that has it).
#[test]
fn ioredis_define_command_runs_scripts() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ioredis/define_command.js");
    for (name, server, _schema) in servers("scripting ioredis") {
        let out = match Command::new("node")
            .arg(script)
            .env("REDSQL_PORT", server.port.to_string())
            .output()
        {
            Ok(out) => out,
            Err(e) => {
                pg::loud(&format!("SKIPPED the ioredis test: cannot run node: {e}"));
                return;
            }
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.code() == Some(77) {
            pg::loud(&format!("SKIPPED the ioredis test: {}", text.trim()));
            return;
        }
        assert!(out.status.success() && text.contains("ok"), "{name}: {text}");
    }
}

/// Sends `args` on `c` and reads the reply on another thread.
fn send_in_background(port: u16, args: &'static [&'static str]) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || RawConn::connect(port).cmd_str(args))
}

/// Repeats `args` until the reply is not NOTBUSY (the script has started).
fn until_busy(c: &mut RawConn, args: &[&str]) -> Vec<u8> {
    for _ in 0..200 {
        let r = c.cmd_str(args);
        if !r.starts_with(b"-NOTBUSY") {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the script never started");
}

/// SCRIPT KILL and FUNCTION KILL stop a script that has not written, with
/// Redis's replies; one that wrote is UNKILLABLE, and SHUTDOWN NOSAVE still
/// stops the server (rolling the script's writes back). The server runs two
/// I/O threads, so that the writer is a thread of its own and the kill can
/// reach it while the script runs.
#[test]
fn script_kill_stops_a_running_script_and_shutdown_stops_an_unkillable_one() {
    let mut out = vec![("sqlite", start_redsql(&["--io-threads", "2"]), None)];
    if let Some(base) = pg::url_or_skip("scripting kill") {
        let schema = pg::TestSchema::new(&base, "scripting_kill");
        let server = pg::start_redsql_pg(&schema.url(), &["--io-threads", "2"]);
        out.push(("postgres", server, Some(schema)));
    }
    for (name, mut server, _schema) in out {
        let port = server.port;
        let mut c = server.conn();
        // Scripts count as busy (killable) after 100 ms instead of 5 s.
        assert_eq!(c.cmd_str(&["CONFIG", "SET", "busy-reply-threshold", "100"]), b"+OK\r\n");
        assert_eq!(
            c.cmd_str(&["SCRIPT", "KILL"]),
            b"-NOTBUSY No scripts in execution right now.\r\n"
        );
        let spinning = send_in_background(port, &["EVAL", "while true do end", "0"]);
        assert_eq!(
            until_busy(&mut c, &["FUNCTION", "KILL"]),
            b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
            "{name}"
        );
        assert_eq!(c.cmd_str(&["SCRIPT", "KILL"]), b"+OK\r\n", "{name}");
        let got = spinning.join().unwrap();
        let sha = redsql::commands::scripting::cache::sha1hex(b"while true do end");
        assert_eq!(
            String::from_utf8_lossy(&got),
            format!("-ERR Script killed by user with SCRIPT KILL... script: {sha}, on @user_script:1.\r\n"),
            "{name}"
        );
        // A function, stopped by FUNCTION KILL even when it catches errors.
        let lib = "#!lua name=spin\nredis.register_function('spin', function() while true do pcall(function() while true do end end) end end)";
        assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", lib]), b"$4\r\nspin\r\n");
        let spinning = send_in_background(port, &["FCALL", "spin", "0"]);
        assert_eq!(
            until_busy(&mut c, &["SCRIPT", "KILL"]),
            b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n",
            "{name}"
        );
        assert_eq!(c.cmd_str(&["FUNCTION", "KILL"]), b"+OK\r\n", "{name}");
        let got = spinning.join().unwrap();
        assert!(
            got.starts_with(b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."),
            "{name}: {}",
            String::from_utf8_lossy(&got)
        );
        // A script that wrote cannot be killed; SHUTDOWN NOSAVE still ends the server.
        assert_eq!(c.cmd_str(&["SET", "x", "before"]), b"+OK\r\n");
        let _spinning = send_in_background(
            port,
            &["EVAL", "redis.call('set', 'x', 'during') while true do end", "0"],
        );
        let r = until_busy(&mut c, &["SCRIPT", "KILL"]);
        assert!(
            r.starts_with(b"-UNKILLABLE Sorry the script already executed write commands"),
            "{name}: {}",
            String::from_utf8_lossy(&r)
        );
        c.send_raw(&RawConn::encode(&[b"SHUTDOWN", b"NOSAVE"]));
        let status = server.wait_exit(std::time::Duration::from_secs(20));
        assert!(status.is_some(), "{name}: SHUTDOWN NOSAVE did not stop the server");
    }
}

/// Sidekiq (Debian's `ruby-sidekiq`): a `perform_in(1)` job runs within
/// 10 s; its scheduler moves due jobs with a Lua script (SCRIPT LOAD, then
/// EVALSHA). Skips loudly without Ruby or Sidekiq.
#[test]
fn sidekiq_runs_a_scheduled_job() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sidekiq/run.rb");
    for (name, server, _schema) in servers("scripting sidekiq") {
        let out = match Command::new("ruby")
            .arg(script)
            .env("REDSQL_PORT", server.port.to_string())
            .output()
        {
            Ok(out) => out,
            Err(e) => {
                pg::loud(&format!("SKIPPED the Sidekiq test: cannot run ruby: {e}"));
                return;
            }
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.code() == Some(77) {
            pg::loud(&format!("SKIPPED the Sidekiq test: {}", text.trim()));
            return;
        }
        assert!(out.status.success() && text.contains("ok"), "{name}: {text}");
    }
}
