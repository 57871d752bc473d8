//! A damaged SQLite file is not served silently: redsql checks the file at
//! start-up and refuses it, saying how to recover the data.

mod support;

use std::io::{Seek, SeekFrom, Write};
use std::process::{Command, Stdio};
use support::{start_redsql_in, temp_dir};

#[test]
fn a_damaged_file_is_refused_at_start_up() {
    let dir = temp_dir("damaged");
    let db = dir.join("db.sqlite");
    {
        let mut server = start_redsql_in(dir.clone(), &[]);
        let mut c = server.conn();
        let value = "v".repeat(200);
        for chunk in 0..20 {
            let mut args = vec!["MSET".to_string()];
            for i in 0..500 {
                args.push(format!("key:{chunk}:{i}"));
                args.push(value.clone());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_eq!(c.cmd_str(&args), b"+OK\r\n");
        }
        // A clean stop folds the WAL into the file.
        server.sigterm();
        let _ = server.child.wait();
    }
    let len = std::fs::metadata(&db).unwrap().len();
    assert!(len > 1 << 20, "the file is only {len} bytes");
    // 4 KB of noise in the middle of the file.
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.seek(SeekFrom::Start(len / 2 / 4096 * 4096)).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    f.write_all(&noise).unwrap();
    drop(f);

    let out = Command::new(support::redsql_bin())
        .args(["--port", "0", "--db", &db.display().to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "redsql served a damaged file:\n{log}");
    assert!(log.contains("is damaged"), "{log}");
    assert!(log.contains(".recover"), "{log}");
}
