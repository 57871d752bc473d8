//! Shared helpers for integration tests: start redsql and redis-server on free
//! ports, and talk raw RESP to them.
#![allow(dead_code)]

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
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Path of the redsql binary built for these tests.
pub fn redsql_bin() -> &'static str {
    env!("CARGO_BIN_EXE_redsql")
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
