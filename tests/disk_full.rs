//! A full disk: writes get the storage error, reads keep being served, INFO
//! says the last write failed, the log says so once (not every 250 ms), and
//! writes work again once there is room. Runs on a small tmpfs, which needs
//! root (CI runs as root); skips loudly otherwise.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{RawConn, free_port, redsql_bin, temp_dir, wait_ready};

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = temp_dir("tmpfs");
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                &dir.display().to_string(),
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .args(["-l", &self.0.display().to_string()])
            .status();
    }
}

fn info_field(c: &mut RawConn, section: &str, field: &str) -> String {
    let info = String::from_utf8_lossy(&c.cmd_str(&["INFO", section])).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn a_full_disk_fails_writes_and_keeps_reads() {
    let Some(fs) = Tmpfs::mount("3m") else {
        eprintln!("!!! SKIPPED a_full_disk_fails_writes_and_keeps_reads: cannot mount a tmpfs (needs root)");
        return;
    };
    let port = free_port();
    let log_path = fs.0.with_extension("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(redsql_bin())
        .args([
            "--port",
            &port.to_string(),
            "--db",
            &fs.0.join("db.sqlite").display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_ready(port);
    let mut c = RawConn::connect(port);
    assert_eq!(c.cmd_str(&["SET", "before", "kept"]), b"+OK\r\n");
    assert_eq!(info_field(&mut c, "persistence", "aof_last_write_status"), "ok");

    // Fill the disk: 64 KB values until a write fails.
    let value = "x".repeat(64 << 10);
    let mut failed = None;
    for i in 0..200 {
        let reply = c.cmd_str(&["SET", &format!("fill{i}"), &value]);
        if reply != b"+OK\r\n" {
            failed = Some(String::from_utf8_lossy(&reply).into_owned());
            break;
        }
    }
    let failed = failed.expect("the disk never filled");
    assert!(failed.starts_with("-ERR storage error"), "{failed}");
    assert!(failed.contains("full"), "{failed}");
    // Reads go on; INFO tells.
    assert_eq!(c.cmd_str(&["GET", "before"]), b"$4\r\nkept\r\n");
    assert_eq!(info_field(&mut c, "persistence", "aof_last_write_status"), "err");
    // Three seconds of checkpoints against the full disk: a line or two, not twelve.
    std::thread::sleep(Duration::from_secs(3));
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let repeats = logged.matches("checkpoint failed").count();
    assert!(repeats <= 2, "{repeats} checkpoint failures logged:\n{logged}");

    // Room again: writes succeed, and INFO says so.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut i = 0;
    let freed = loop {
        assert_eq!(c.cmd_str(&["DEL", &format!("fill{i}")]).first(), Some(&b':'));
        i += 1;
        if c.cmd_str(&["SET", "after", "ok"]) == b"+OK\r\n" {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    assert!(
        freed,
        "writes never worked again:\n{}",
        std::fs::read_to_string(&log_path).unwrap()
    );
    assert_eq!(info_field(&mut c, "persistence", "aof_last_write_status"), "ok");
    assert_eq!(c.cmd_str(&["GET", "before"]), b"$4\r\nkept\r\n");
    let _ = child.kill();
    let _ = child.wait();
}
