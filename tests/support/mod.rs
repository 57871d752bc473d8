//! Shared helpers for integration tests: start redsql and redis-server on free
//! ports, and talk raw RESP to them. Every test file has `mod support;`.
//!
//! - [`backend`]: the backends a test runs on, and `backend_tests!`, one
//!   `#[test]` per backend from one test function;
//! - [`pg`]: the PostgreSQL test cluster (`REDSQL_TEST_POSTGRES_URL`), a
//!   schema per test, servers on it, for the PostgreSQL-only tests;
//! - [`shared`]: servers shared by the tests of one test binary;
//! - [`watch`]: the WATCH scenarios, run on one server and across processes.
#![allow(dead_code, unused_imports, unused_macros)]

pub mod backend;
pub mod pg;
pub mod shared;
pub mod watch;

pub use backend::Backend;
pub(crate) use backend::backend_tests;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh directory under cargo's per-test temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub name: &'static str,
}

impl Server {
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn conn(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (with the `kill` command: no libc dependency).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits up to `timeout` for the process to exit; its status, or `None` if still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A memory figure of the process in KiB from /proc/PID/status (`"VmRSS"`
    /// resident, `"VmSize"` reserved address space), 0 if unknown.
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Sends `bytes` on a new connection, half-closes it, and returns
    /// everything the server answers until it closes the connection.
    pub fn exchange(&self, bytes: &[u8]) -> Vec<u8> {
        let mut c = self.conn();
        c.send_raw(bytes);
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut all = Vec::new();
        let _ = c.stream.read_to_end(&mut all);
        all
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Path of the redsql binary: `REDSQL_BIN` if set (e.g. a release build),
/// else the one cargo built for these tests.
pub fn redsql_bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| std::env::var("REDSQL_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_redsql").to_string()))
}

/// Starts redsql on a free port with its database in a fresh directory
/// (`db.sqlite`), plus any extra arguments.
pub fn start_redsql(extra: &[&str]) -> Server {
    let dir = temp_dir("redsql");
    start_redsql_in(dir, extra)
}

/// Starts redsql with its database file in `dir` (reused across restarts).
pub fn start_redsql_in(dir: PathBuf, extra: &[&str]) -> Server {
    let port = free_port();
    let db = dir.join("db.sqlite");
    let mut args: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--db".into(),
        db.display().to_string(),
    ];
    if !extra.contains(&"--loglevel") {
        args.extend(["--loglevel".into(), "warning".into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = Command::new(redsql_bin())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start redsql");
    let s = Server {
        child,
        port,
        dir,
        name: "redsql",
    };
    wait_ready(port);
    s
}

/// Starts a real redis-server (persistence off), or panics with instructions.
pub fn start_redis() -> Server {
    start_redis_with(&[])
}

/// Starts a real redis-server (persistence off) with extra arguments (e.g. `--requirepass`).
pub fn start_redis_with(extra: &[&str]) -> Server {
    let dir = temp_dir("redis");
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &dir.display().to_string(),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("redis-server not found: install Debian's redis-server (scripts/test.sh does this)");
    let s = Server {
        child,
        port,
        dir,
        name: "redis",
    };
    wait_ready(port);
    s
}

/// Waits until the port answers PING.
pub fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            if s.write_all(b"PING\r\n").is_ok() {
                let mut buf = [0u8; 64];
                if let Ok(n) = s.read(&mut buf)
                    && n > 0
                {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("server on port {port} did not become ready");
}

/// A connection that sends commands and returns raw reply bytes.
pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.set_nodelay(true).unwrap();
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Encodes a command as a RESP multibulk array.
    pub fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Sends one command and reads its reply (raw bytes).
    pub fn cmd(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_raw(&Self::encode(args));
        self.read_reply()
    }

    /// Sends a command given as strings.
    pub fn cmd_str(&mut self, args: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd(&a)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one complete RESP value (raw bytes); empty if the server closed the connection.
    pub fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some((_, used)) = redsql::resp::value::parse(&self.buf) {
                return self.buf.drain(..used).collect();
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return std::mem::take(&mut self.buf),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// Shows bytes readably: printable ASCII as is, the rest escaped.
pub fn show(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Deterministic xorshift64* for the model tests, so a failure reproduces
/// from its seed (the sequences are part of those tests: keep the algorithm).
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    /// True half of the time.
    pub fn coin(&mut self) -> bool {
        self.next() & 1 == 0
    }
}

/// A small deterministic pseudo-random generator (SplitMix64) for property
/// tests: no dependency, and a failing seed can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A seed from `TEST_SEED` if set (to replay a failure), else from the clock.
    pub fn seed_from_env() -> u64 {
        match std::env::var("TEST_SEED") {
            Ok(s) => s.parse().expect("TEST_SEED must be an integer"),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64().is_multiple_of(n)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    /// `len` random bytes (any value, including CR, LF and NUL).
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
