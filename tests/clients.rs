//! Real clients against a real redsql process over TCP: the `redis` crate
//! (RESP2 and RESP3), redis-py 5 (when installed), redis-cli and
//! redis-benchmark; plus the connection and server behaviour that the
//! differential scripts cannot show (replies turned off, authentication,
//! killing clients, shutdown, config files).

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{RawConn, start_redsql, start_redsql_in, temp_dir};

fn connect(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

fn exercise(con: &mut redis::Connection) {
    let _: () = redis::cmd("SET").arg("k").arg(b"v\x00\xff").query(con).unwrap();
    let v: Vec<u8> = redis::cmd("GET").arg("k").query(con).unwrap();
    assert_eq!(v, b"v\x00\xff");
    let n: i64 = redis::cmd("EXISTS").arg("k").arg("nope").query(con).unwrap();
    assert_eq!(n, 1);
    let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("crate").query(con).unwrap();
    let name: String = redis::cmd("CLIENT").arg("GETNAME").query(con).unwrap();
    assert_eq!(name, "crate");
    let info: String = redis::cmd("INFO").query(con).unwrap();
    assert!(info.contains("redis_version:7.0.15\r\n"), "{info}");
    assert!(info.contains("db0:keys=1,expires=0,avg_ttl=0"), "{info}");
    let cfg: HashMap<String, String> = redis::cmd("CONFIG").arg("GET").arg("max*").query(con).unwrap();
    assert_eq!(cfg.get("maxclients").map(String::as_str), Some("10000"));
    let list: String = redis::cmd("CLIENT").arg("LIST").query(con).unwrap();
    assert!(list.contains("name=crate"), "{list}");
    let err = redis::cmd("NOSUCH").query::<()>(con).unwrap_err();
    assert!(err.to_string().contains("unknown command"), "{err}");
}

#[test]
fn redis_crate_resp2_and_resp3() {
    let server = start_redsql(&[]);
    let mut con = connect(&server.url());
    exercise(&mut con);
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    let mut con3 = connect(&format!("{}?protocol=resp3", server.url()));
    exercise(&mut con3);
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut con3).unwrap();
    assert!(info.contains(" resp=3"), "{info}");
}

#[test]
fn reply_off_and_skip() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    c.send_raw(&RawConn::encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    c.send_raw(&RawConn::encode(&[b"PING", b"hidden"]));
    c.send_raw(&RawConn::encode(&[b"NOSUCH"]));
    assert_eq!(c.cmd_str(&["CLIENT", "REPLY", "ON"]), b"+OK\r\n");
    c.send_raw(&RawConn::encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    c.send_raw(&RawConn::encode(&[b"PING", b"skipped"]));
    assert_eq!(c.cmd_str(&["PING", "shown"]), b"$5\r\nshown\r\n");
    // RESET turns replies back on and answers.
    c.send_raw(&RawConn::encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    assert_eq!(c.cmd_str(&["RESET"]), b"+RESET\r\n");
    // QUIT answers, then closes; later pipelined commands are not run.
    c.send_raw(b"QUIT\r\nSET after-quit 1\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert!(c.read_reply().is_empty());
    assert_eq!(server.conn().cmd_str(&["EXISTS", "after-quit"]), b":0\r\n");
}

#[test]
fn requirepass_auth_and_reset() {
    let server = start_redsql(&["--requirepass", "secret"]);
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd_str(&["AUTH", "wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd_str(&["AUTH", "secret"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd_str(&["RESET"]), b"+RESET\r\n");
    assert_eq!(c.cmd_str(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    let hello = c.cmd_str(&["HELLO", "3", "AUTH", "default", "secret"]);
    assert!(hello.starts_with(b"%7\r\n"), "{}", support::show(&hello));
    // A new password applies to AUTH and to new connections.
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "requirepass", "other"]), b"+OK\r\n");
    let mut d = server.conn();
    assert_eq!(c.cmd_str(&["PING"]), b"+PONG\r\n");
    assert_eq!(d.cmd_str(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(d.cmd_str(&["AUTH", "other"]), b"+OK\r\n");
    let mut url = connect(&format!("redis://:other@127.0.0.1:{}/", server.port));
    let pong: String = redis::cmd("PING").query(&mut url).unwrap();
    assert_eq!(pong, "PONG");
}

/// True if the server has closed the connection (a command gets no reply).
fn closed(c: &mut RawConn) -> bool {
    use std::io::Write;
    let _ = c.stream.write_all(b"PING\r\n");
    c.read_reply().is_empty()
}

fn id_of(c: &mut RawConn) -> String {
    let r = c.cmd_str(&["CLIENT", "ID"]);
    String::from_utf8_lossy(&r[1..r.len() - 2]).into_owned()
}

#[test]
fn client_kill_closes_connections() {
    let server = start_redsql(&[]);
    let mut a = server.conn();
    let mut b = server.conn();
    let b_id = id_of(&mut b);
    assert_eq!(a.cmd_str(&["CLIENT", "KILL", "ID", &b_id]), b":1\r\n");
    assert!(closed(&mut b), "killed connection still answers");
    // The old form kills by address, including the caller itself.
    let info = String::from_utf8_lossy(&a.cmd_str(&["CLIENT", "INFO"])).into_owned();
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap()
        .to_string();
    assert_eq!(a.cmd_str(&["CLIENT", "KILL", &addr]), b"+OK\r\n");
    assert!(closed(&mut a));
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["CLIENT", "KILL", "SKIPME", "yes"]), b":0\r\n");
}

#[test]
fn maxclients_rejects_extra_connections() {
    let server = start_redsql(&["--maxclients", "2"]);
    let mut a = server.conn();
    assert_eq!(a.cmd_str(&["PING"]), b"+PONG\r\n");
    let mut b = server.conn();
    assert_eq!(b.cmd_str(&["PING"]), b"+PONG\r\n");
    let mut c = server.conn();
    assert_eq!(c.read_reply(), b"-ERR max number of clients reached\r\n");
    assert_eq!(a.cmd_str(&["PING"]), b"+PONG\r\n");
    let info = String::from_utf8_lossy(&a.cmd_str(&["INFO", "stats"])).into_owned();
    assert!(info.contains("rejected_connections:1\r\n"), "{info}");
}

#[test]
fn save_lastsave_and_clean_shutdown() {
    let dir = temp_dir("shutdown");
    let mut server = start_redsql_in(dir.clone(), &[]);
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["SET", "durable", "yes"]), b"+OK\r\n");
    let info = String::from_utf8_lossy(&c.cmd_str(&["INFO", "persistence"])).into_owned();
    assert!(info.contains("rdb_changes_since_last_save:1\r\n"), "{info}");
    assert_eq!(c.cmd_str(&["SAVE"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["BGSAVE"]), b"+Background saving started\r\n");
    let last = c.cmd_str(&["LASTSAVE"]);
    assert!(last.starts_with(b":17"), "{}", support::show(&last));
    c.send_raw(&RawConn::encode(&[b"SHUTDOWN"]));
    assert!(c.read_reply().is_empty(), "SHUTDOWN replied");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "redsql did not exit after SHUTDOWN");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let server = start_redsql_in(dir, &[]);
    assert_eq!(server.conn().cmd_str(&["GET", "durable"]), b"$3\r\nyes\r\n");
}

#[test]
fn config_file_and_rewrite() {
    let dir = temp_dir("config");
    let file = dir.join("redsql.conf");
    std::fs::write(&file, "# my settings\nmaxclients 500\ntimeout 0\n").unwrap();
    let port = support::free_port();
    let db = dir.join("db.sqlite");
    let child = Command::new(support::redsql_bin())
        .arg(&file)
        .args(["--port", &port.to_string(), "--db", &db.display().to_string()])
        .args(["--loglevel", "warning"])
        .spawn()
        .unwrap();
    let _server = support::Server {
        child,
        port,
        dir: dir.clone(),
        name: "redsql",
    };
    support::wait_ready(port);
    let mut c = RawConn::connect(port);
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "maxclients"]),
        b"*2\r\n$10\r\nmaxclients\r\n$3\r\n500\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "maxclients", "600", "timeout", "30"]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# my settings\nmaxclients 600\ntimeout 30\n"),
        "{text}"
    );
    assert!(text.contains(&format!("\nport {port}\n")), "{text}");
    let info = String::from_utf8_lossy(&c.cmd_str(&["INFO", "server"])).into_owned();
    assert!(info.contains("config_file:/"), "{info}");
}

#[test]
fn bad_command_lines_fail_with_one_line() {
    for args in [&["--nosuch", "1"][..], &["--port", "abc"], &["--port"], &["stray", "x"]] {
        let out = Command::new(support::redsql_bin()).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("redsql: "), "{err}");
    }
    let out = Command::new(support::redsql_bin()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bind",
        "--port",
        "--unixsocket",
        "--requirepass",
        "--databases",
        "--loglevel",
        "--db",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn unix_socket_and_databases() {
    let dir = temp_dir("unix");
    let sock = dir.join("redsql.sock");
    let sock = sock.display().to_string();
    let server = start_redsql(&["--unixsocket", &sock, "--databases", "4"]);
    let mut con = connect(&format!("redis+unix://{sock}"));
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let mut c = server.conn();
    assert_eq!(c.cmd_str(&["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["SELECT", "4"]), b"-ERR DB index is out of range\r\n");
}

fn have(program: &str, probe: &[&str]) -> bool {
    Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn redis_py() {
    if !have("python3", &["-c", "import redis"]) {
        println!("SKIPPED redis_py: python3 with redis-py is not installed (pip install 'redis>=5,<6')");
        return;
    }
    let server = start_redsql(&[]);
    let script = format!(
        r#"
import redis
for proto in (2, 3):
    r = redis.Redis(port={port}, protocol=proto)
    assert r.ping()
    r.set("k", b"v\x00")
    assert r.get("k") == b"v\x00", r.get("k")
    assert r.exists("k", "nope") == 1
    r.client_setname("py")
    assert r.client_getname() in ("py", b"py")
    info = r.info()
    assert info["redis_version"] == "7.0.15", info
    assert r.info("keyspace")["db0"]["keys"] == 1
    assert int(r.config_get("maxclients")["maxclients"]) == 10000
    assert any(c["name"] == "py" for c in r.client_list())
    assert r.client_id() > 0
    r.flushall()
print("ok")
"#,
        port = server.port
    );
    let out = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn redis_cli_and_benchmark() {
    if !have("redis-cli", &["--version"]) {
        println!("SKIPPED redis_cli_and_benchmark: redis-cli is not installed");
        return;
    }
    let server = start_redsql(&[]);
    let port = server.port.to_string();
    let out = Command::new("redis-cli")
        .args(["-p", &port, "COMMAND", "DOCS", "get"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Get the value of a key"), "{text}");
    let out = Command::new("redis-cli")
        .args(["-p", &port, "INFO", "server"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("redis_mode:standalone"));
    if !have("redis-benchmark", &["--version"]) {
        println!("SKIPPED redis-benchmark: not installed");
        return;
    }
    // redis-benchmark's default loads, each kept if its command exists in this build.
    let mut c = server.conn();
    let loads = [
        ("ping", "ping", "PING_INLINE"),
        ("set", "set", "SET"),
        ("get", "get", "GET"),
        ("incr", "incr", "INCR"),
        ("lpush", "lpush", "LPUSH"),
        ("rpush", "rpush", "RPUSH"),
        ("lpop", "lpop", "LPOP"),
        ("rpop", "rpop", "RPOP"),
        ("sadd", "sadd", "SADD"),
        ("hset", "hset", "HSET"),
        ("spop", "spop", "SPOP"),
        ("zadd", "zadd", "ZADD"),
        ("zpopmin", "zpopmin", "ZPOPMIN"),
        ("lrange_100", "lrange", "LRANGE_100 (first 100 elements)"),
        ("mset", "mset", "MSET (10 keys)"),
    ];
    let loads: Vec<_> = loads
        .into_iter()
        .filter(|(_, cmd, _)| *cmd == "ping" || c.cmd_str(&["COMMAND", "INFO", cmd]) != b"*1\r\n*-1\r\n")
        .collect();
    let tests: Vec<&str> = loads.iter().map(|(t, _, _)| *t).collect();
    let out = Command::new("redis-benchmark")
        .args(["-p", &port, "-q", "-n", "2000", "-t", &tests.join(",")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}{err}");
    assert!(!text.contains("ERR") && !err.contains("ERR"), "{text}{err}");
    for (_, _, name) in loads {
        assert!(text.contains(&format!("{name}: ")), "{name} missing: {text}");
    }
}
