//! End-to-end tests over TCP with a real client library (the `redis` crate):
//! binary data, pipelining, many concurrent clients, logical databases,
//! persistence across restarts, in-memory mode, and misbehaving clients.

mod support;

use redis::{Commands, Connection, RedisResult};
use std::time::Duration;
use support::{Server, start_redsql, start_redsql_in, temp_dir};

fn connect(server: &Server) -> Connection {
    connect_db(server, 0)
}

/// A connection with database `db` selected (the client sends SELECT itself).
fn connect_db(server: &Server, db: u32) -> Connection {
    let client = redis::Client::open(format!("{}{db}", server.url())).expect("client");
    let con = client
        .get_connection_with_timeout(Duration::from_secs(10))
        .expect("connect");
    con.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    con
}

fn dbsize(con: &mut Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

/// Every byte value, in a key and in a value.
fn all_bytes() -> Vec<u8> {
    (0..=255u8).collect()
}

#[test]
fn connect_ping_echo() {
    let server = start_redsql(&[]);
    let mut con = connect(&server);
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let echoed: Vec<u8> = redis::cmd("ECHO").arg(all_bytes()).query(&mut con).unwrap();
    assert_eq!(echoed, all_bytes());
}

#[test]
fn get_set_binary_data() {
    let server = start_redsql(&[]);
    let mut con = connect(&server);
    let key = all_bytes();
    let mut value = all_bytes();
    value.reverse();
    let () = con.set(&key, &value).unwrap();
    let got: Vec<u8> = con.get(&key).unwrap();
    assert_eq!(got, value);
    let () = con.set(b"empty", b"").unwrap();
    let got: Option<Vec<u8>> = con.get(b"empty").unwrap();
    assert_eq!(got, Some(Vec::new()));
    let missing: Option<Vec<u8>> = con.get(b"missing").unwrap();
    assert_eq!(missing, None);
    let exists: i64 = con.exists(&[&key[..], b"empty", b"missing"]).unwrap();
    assert_eq!(exists, 2);
    let deleted: i64 = con.del(&[&key[..], b"missing"]).unwrap();
    assert_eq!(deleted, 1);
    let got: Option<Vec<u8>> = con.get(&key).unwrap();
    assert_eq!(got, None);
}

#[test]
fn pipelining() {
    let server = start_redsql(&[]);
    let mut con = connect(&server);
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.set(format!("p:{i}"), vec![i as u8; i]).ignore();
        pipe.get(format!("p:{i}"));
    }
    pipe.cmd("DBSIZE");
    let (values, size): (Vec<Vec<u8>>, i64) = {
        let mut all: Vec<redis::Value> = pipe.query(&mut con).unwrap();
        let size: i64 = redis::from_redis_value(all.pop().unwrap()).unwrap();
        let values = all.into_iter().map(|v| redis::from_redis_value(v).unwrap()).collect();
        (values, size)
    };
    assert_eq!(values.len(), 500);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(v, &vec![i as u8; i], "p:{i}");
    }
    assert_eq!(size, 500);
    // Errors inside a pipeline answer in place and do not stop the rest.
    let result: RedisResult<(String, String)> = redis::pipe().cmd("NOSUCHCOMMAND").cmd("PING").query(&mut con);
    assert!(result.is_err());
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn many_concurrent_clients() {
    const THREADS: usize = 20;
    const OPS: usize = 500;
    let server = start_redsql(&[]);
    let url = server.url();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..OPS {
                    let key = format!("c:{t}:{i}");
                    let value = format!("{t}-{i}-{}", "x".repeat(i % 50));
                    let () = con.set(&key, &value).unwrap();
                    let got: String = con.get(&key).unwrap();
                    assert_eq!(got, value);
                    // Every so often, read back an earlier key of this client.
                    if i % 50 == 49 {
                        let old: String = con.get(format!("c:{t}:{}", i / 2)).unwrap();
                        assert!(old.starts_with(&format!("{t}-{}-", i / 2)));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread failed");
    }
    let mut con = connect(&server);
    assert_eq!(dbsize(&mut con), (THREADS * OPS) as i64);
    let v: String = con.get(format!("c:{}:{}", THREADS - 1, OPS - 1)).unwrap();
    assert_eq!(v, format!("{}-{}-{}", THREADS - 1, OPS - 1, "x".repeat((OPS - 1) % 50)));
}

#[test]
fn select_isolates_databases() {
    let server = start_redsql(&[]);
    let mut db0 = connect_db(&server, 0);
    let mut db1 = connect_db(&server, 1);
    let mut db15 = connect_db(&server, 15);
    let () = db0.set("k", "zero").unwrap();
    let () = db1.set("k", "one").unwrap();
    let () = db1.set("only1", "x").unwrap();
    assert_eq!(db0.get::<_, String>("k").unwrap(), "zero");
    assert_eq!(db1.get::<_, String>("k").unwrap(), "one");
    assert_eq!(db15.get::<_, Option<String>>("k").unwrap(), None);
    assert_eq!(db0.get::<_, Option<String>>("only1").unwrap(), None);
    assert_eq!((dbsize(&mut db0), dbsize(&mut db1), dbsize(&mut db15)), (1, 2, 0));
    // SELECT on one connection switches only that connection.
    let () = redis::cmd("SELECT").arg(1).query(&mut db15).unwrap();
    assert_eq!(db15.get::<_, String>("k").unwrap(), "one");
    assert_eq!(db0.get::<_, String>("k").unwrap(), "zero");
    let err = redis::cmd("SELECT").arg(16).query::<()>(&mut db0).unwrap_err();
    assert!(err.to_string().contains("DB index is out of range"), "{err}");
    // FLUSHDB empties only the selected database; FLUSHALL empties them all.
    let () = redis::cmd("FLUSHDB").query(&mut db1).unwrap();
    assert_eq!((dbsize(&mut db0), dbsize(&mut db1)), (1, 0));
    let () = db1.set("k", "one again").unwrap();
    let () = redis::cmd("FLUSHALL").query(&mut db0).unwrap();
    assert_eq!((dbsize(&mut db0), dbsize(&mut db1)), (0, 0));
}

#[test]
fn restart_keeps_data() {
    let dir = temp_dir("restart");
    let mut server = start_redsql_in(dir.clone(), &[]);
    {
        let mut con = connect(&server);
        let mut con3 = connect_db(&server, 3);
        for i in 0..200 {
            let () = con.set(format!("k{i}"), vec![i as u8; 1000]).unwrap();
        }
        let () = con3.set(all_bytes(), all_bytes()).unwrap();
        let deleted: i64 = con.del("k7").unwrap();
        assert_eq!(deleted, 1);
    }
    server.sigterm();
    server.wait_exit(Duration::from_secs(10)).expect("redsql did not stop");
    let server = start_redsql_in(dir, &[]);
    let mut con = connect(&server);
    let mut con3 = connect_db(&server, 3);
    assert_eq!(dbsize(&mut con), 199);
    assert_eq!(con.get::<_, Vec<u8>>("k199").unwrap(), vec![199u8; 1000]);
    assert_eq!(con.get::<_, Option<Vec<u8>>>("k7").unwrap(), None);
    assert_eq!(con3.get::<_, Vec<u8>>(all_bytes()).unwrap(), all_bytes());
}

#[test]
fn memory_mode() {
    let dir = temp_dir("memory");
    let server = start_redsql_in(dir.clone(), &["--db", ":memory:"]);
    let mut con = connect(&server);
    let mut con2 = connect_db(&server, 2);
    for i in 0..100 {
        let () = con.set(format!("m{i}"), i).unwrap();
    }
    let () = con2.set("m0", "db2").unwrap();
    assert_eq!(con.get::<_, i64>("m42").unwrap(), 42);
    assert_eq!(con2.get::<_, String>("m0").unwrap(), "db2");
    assert_eq!((dbsize(&mut con), dbsize(&mut con2)), (100, 1));
    // Concurrent clients share the one in-memory database.
    let url = server.url();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..100 {
                    let () = c.set(format!("t{t}:{i}"), i).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(dbsize(&mut con), 900);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(files.is_empty(), "--db :memory: wrote files: {files:?}");
    // Nothing survives a restart.
    drop(server);
    let server = start_redsql_in(dir, &["--db", ":memory:"]);
    assert_eq!(dbsize(&mut connect(&server)), 0);
}

#[test]
fn client_closing_mid_pipeline_does_not_hurt_others() {
    use std::io::Write;
    let server = start_redsql(&[]);
    let url = server.url();
    // Well-behaved clients keep working throughout.
    let good: Vec<_> = (0..4)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..300 {
                    let mut pipe = redis::pipe();
                    pipe.set(format!("good:{t}:{i}"), i)
                        .ignore()
                        .get(format!("good:{t}:{i}"));
                    let (v,): (i64,) = pipe.query(&mut con).unwrap();
                    assert_eq!(v, i);
                }
            })
        })
        .collect();
    // Rude clients: a big pipeline, then gone without reading a reply; a
    // command cut off mid-argument; a declared 1 MB value never sent.
    for round in 0..20 {
        let mut c = server.conn();
        let mut bytes = Vec::new();
        for i in 0..2000 {
            bytes.extend(support::RawConn::encode(&[
                b"SET",
                format!("rude:{round}:{i}").as_bytes(),
                &[b'v'; 100],
            ]));
        }
        c.stream.write_all(&bytes).unwrap();
        drop(c);
        let mut c = server.conn();
        c.send_raw(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc");
        drop(c);
        let mut c = server.conn();
        c.send_raw(b"*3\r\n$3\r\nSET\r\n$5\r\nnever\r\n$1048576\r\n");
        drop(c);
    }
    for g in good {
        g.join().expect("a well-behaved client failed");
    }
    let mut con = connect(&server);
    assert_eq!(con.get::<_, Option<String>>("half").unwrap(), None);
    assert_eq!(con.get::<_, Option<String>>("never").unwrap(), None);
    assert_eq!(con.get::<_, i64>("good:3:299").unwrap(), 299);
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}
