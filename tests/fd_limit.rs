//! A low open-files limit (`ulimit -n 128`): as Redis does, redsql lowers
//! maxclients to what the limit allows and says so, and the clients past it
//! get `max number of clients reached` instead of hanging.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{free_port, redsql_bin, wait_ready};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn maxclients_follows_a_low_open_files_limit() {
    let port = free_port();
    let log = std::env::temp_dir().join(format!("redsql-fdlimit-{}.log", std::process::id()));
    let script = format!(
        "ulimit -Sn 128 && ulimit -Hn 128 && exec '{}' --port {port} --db :memory: 2>'{}'",
        redsql_bin(),
        log.display()
    );
    // Root could raise the hard limit again: without CAP_SYS_RESOURCE it
    // cannot (and stays root, so the binary is reachable wherever CI put it).
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--bounding-set",
            "-sys_resource",
            "--inh-caps",
            "-sys_resource",
            "bash",
            "-c",
            &script,
        ]);
        c
    } else {
        let mut c = Command::new("bash");
        c.args(["-c", &script]);
        c
    };
    let mut child = cmd.stdout(Stdio::null()).spawn().expect("start redsql");
    wait_ready(port);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains("maxclients has been reduced to 64"),
        "the reduction was not logged:\n{logged}"
    );
    let mut conns = Vec::new();
    let mut refused = 0;
    for _ in 0..100 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).expect("an answer, not a hang");
        match &buf[..n] {
            b"+PONG\r\n" => conns.push(s),
            b"-ERR max number of clients reached\r\n" => refused += 1,
            other => panic!("{:?}", String::from_utf8_lossy(other)),
        }
    }
    assert_eq!(conns.len(), 64, "{refused} refused");
    let c = &mut conns[0];
    c.write_all(b"CONFIG GET maxclients\r\n").unwrap();
    let mut buf = [0u8; 128];
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"*2\r\n$10\r\nmaxclients\r\n$2\r\n64\r\n");
    // Stop redsql itself, whatever wrapper started it.
    let _ = Command::new("pkill")
        .args(["-f", "--", &format!("--port {port} --db :memory:")])
        .status();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&log);
}
