//! Administration over TCP: protected mode, SLOWLOG (timings and client
//! details the differential scripts cannot compare).

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;
use support::{RawConn, Server, start_redis_with, start_redsql};

/// A reply as text, for comparisons and messages.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A non-loopback IPv4 address of this machine, if it has one (found by
/// "connecting" a UDP socket, which sends nothing).
fn external_ip() -> Option<Ipv4Addr> {
    let sock = UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("192.0.2.1:9")
        .or_else(|_| sock.connect("10.255.255.1:9"))
        .ok()?;
    match sock.local_addr().ok()?.ip() {
        IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

/// Connects to `port` on `ip`, sends PING and returns everything the server
/// sends before closing (or its first reply if it stays open).
fn ping_from(ip: Ipv4Addr, port: u16) -> Vec<u8> {
    read_ping(TcpStream::connect(SocketAddr::new(IpAddr::V4(ip), port)).unwrap())
}

/// Sends PING on `s` and reads until its answer (or a denial) is complete.
fn read_ping(mut s: TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"PING\r\n");
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
        if out == b"+PONG\r\n" || out.starts_with(b"-NOAUTH") {
            break;
        }
    }
    out
}

#[test]
fn protected_mode_accepts_loopback_clients_on_any_bind() {
    let server = start_redsql(&["--bind", "0.0.0.0"]);
    assert_eq!(text(&server.conn().cmd_str(&["PING"])), "+PONG\r\n");
    let mut c = server.conn();
    assert_eq!(
        text(&c.cmd_str(&["CONFIG", "GET", "protected-mode"])),
        "*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n"
    );
}

#[test]
fn protected_mode_denies_external_clients_like_redis() {
    let Some(ip) = external_ip() else {
        eprintln!("no non-loopback address: skipping the external-client check");
        return;
    };
    let redis = start_redis_with(&["--bind", "0.0.0.0"]);
    let expected = ping_from(ip, redis.port);
    assert!(
        expected.starts_with(b"-DENIED Redis is running in protected mode"),
        "{}",
        text(&expected)
    );
    let server = start_redsql(&["--bind", "0.0.0.0"]);
    assert_eq!(text(&ping_from(ip, server.port)), text(&expected));
    // Loopback clients are still served, and may turn protected mode off.
    let mut local = server.conn();
    assert_eq!(
        text(&local.cmd_str(&["CONFIG", "SET", "protected-mode", "no"])),
        "+OK\r\n"
    );
    assert_eq!(text(&ping_from(ip, server.port)), "+PONG\r\n");
    // A password also lets external clients in (to authenticate).
    local.cmd_str(&["CONFIG", "SET", "protected-mode", "yes"]);
    assert!(ping_from(ip, server.port).starts_with(b"-DENIED"));
    local.cmd_str(&["CONFIG", "SET", "requirepass", "pw"]);
    assert_eq!(
        text(&ping_from(ip, server.port)),
        "-NOAUTH Authentication required.\r\n"
    );

    let off = start_redsql(&["--bind", "0.0.0.0", "--protected-mode", "no"]);
    assert_eq!(text(&ping_from(ip, off.port)), "+PONG\r\n");
}

/// A PING to 127.0.0.1:`port` from the local address `source` (another
/// loopback address: the kernel would otherwise pick 127.0.0.1).
fn ping_from_source(source: Ipv4Addr, port: u16) -> Vec<u8> {
    use std::os::fd::FromRawFd;
    let sockaddr = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // addresses are valid sockaddr_in values of the length given.
    let stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let from = sockaddr(source, 0);
        assert_eq!(
            libc::bind(fd, &from as *const _ as *const libc::sockaddr, len),
            0,
            "bind"
        );
        let to = sockaddr(Ipv4Addr::LOCALHOST, port);
        assert_eq!(
            libc::connect(fd, &to as *const _ as *const libc::sockaddr, len),
            0,
            "connect"
        );
        TcpStream::from_raw_fd(fd)
    };
    read_ping(stream)
}

/// Redis 7.0 counts only 127.0.0.1 and ::1 as local: a client from
/// 127.0.0.2 (still the loopback interface) is denied in protected mode.
#[test]
fn protected_mode_local_means_127_0_0_1_only_like_redis() {
    let other = Ipv4Addr::new(127, 0, 0, 2);
    let redis = start_redis_with(&["--bind", "0.0.0.0"]);
    let expected = ping_from_source(other, redis.port);
    assert!(expected.starts_with(b"-DENIED"), "{}", text(&expected));
    let server = start_redsql(&["--bind", "0.0.0.0"]);
    assert_eq!(text(&ping_from_source(other, server.port)), text(&expected));
    assert_eq!(text(&ping_from_source(Ipv4Addr::LOCALHOST, server.port)), "+PONG\r\n");
}

/// SLOWLOG GET's entries, parsed: (id, time, micros, args, addr, name).
fn slowlog(c: &mut RawConn, count: &str) -> Vec<redis::Value> {
    let raw = c.cmd_str(&["SLOWLOG", "GET", count]);
    match redis::parse_redis_value(&raw).unwrap() {
        redis::Value::Array(entries) => entries,
        other => panic!("{other:?}"),
    }
}

/// The arguments of every SLOWLOG entry, newest first.
fn slowlog_args(entries: &[redis::Value]) -> Vec<Vec<Vec<u8>>> {
    entries
        .iter()
        .map(|e| match e {
            redis::Value::Array(f) => match &f[3] {
                redis::Value::Array(a) => a.iter().map(bulk).collect(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect()
}

fn bulk(v: &redis::Value) -> Vec<u8> {
    match v {
        redis::Value::BulkString(d) => d.clone(),
        other => panic!("{other:?}"),
    }
}

fn int(v: &redis::Value) -> i64 {
    match v {
        redis::Value::Int(n) => *n,
        other => panic!("{other:?}"),
    }
}

#[test]
fn slowlog_records_commands_with_client_details() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    assert_eq!(
        text(&c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"])),
        "+OK\r\n"
    );
    c.cmd_str(&["SLOWLOG", "RESET"]);
    c.cmd_str(&["CLIENT", "SETNAME", "admin"]);
    let long = "x".repeat(200);
    c.cmd_str(&["SET", "k", &long]);
    let mut many = vec!["DEL"];
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    many.extend(keys.iter().map(String::as_str));
    c.cmd_str(&many);
    c.cmd_str(&["AUTH", "secret"]);
    c.cmd_str(&["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "admin"]);
    let entries = slowlog(&mut c, "-1");
    // Newest first: HELLO, AUTH, DEL, SET, SETNAME, SLOWLOG RESET (GET itself comes after).
    let all = slowlog_args(&entries);
    assert_eq!(all.len(), 6, "{all:?}");
    assert_eq!(all[0][0], b"HELLO");
    assert_eq!(all[0][3], b"(redacted)");
    assert_eq!(all[0][4], b"(redacted)");
    assert_eq!(all[0][6], b"admin");
    assert_eq!(all[1], vec![b"AUTH".to_vec(), b"(redacted)".to_vec()]);
    assert_eq!(all[2].len(), 32);
    assert_eq!(all[2][31], b"... (10 more arguments)");
    let mut shortened = "x".repeat(128).into_bytes();
    shortened.extend_from_slice(b"... (72 more bytes)");
    assert_eq!(all[3][2], shortened);
    let redis::Value::Array(newest) = &entries[0] else {
        panic!()
    };
    let redis::Value::Array(oldest) = &entries[5] else {
        panic!()
    };
    assert_eq!(int(&newest[0]), int(&oldest[0]) + 5, "ids count up");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((int(&newest[1]) - now).abs() < 5);
    assert!(int(&newest[2]) >= 0);
    assert!(String::from_utf8(bulk(&newest[4])).unwrap().starts_with("127.0.0.1:"));
    assert_eq!(bulk(&newest[5]), b"admin");
    assert_eq!(bulk(&oldest[5]), b"", "SLOWLOG RESET ran before CLIENT SETNAME");
    assert_eq!(slowlog(&mut c, "2").len(), 2);
    assert_eq!(slowlog(&mut c, "0").len(), 0);

    // slowlog-max-len trims on the next entry; a negative threshold turns the log off.
    c.cmd_str(&["CONFIG", "SET", "slowlog-max-len", "3"]);
    c.cmd_str(&["PING"]);
    assert_eq!(text(&c.cmd_str(&["SLOWLOG", "LEN"])), ":3\r\n");
    c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    c.cmd_str(&["SLOWLOG", "RESET"]);
    c.cmd_str(&["PING"]);
    assert_eq!(text(&c.cmd_str(&["SLOWLOG", "LEN"])), ":0\r\n");
    // A high threshold logs nothing fast.
    c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "1000000"]);
    c.cmd_str(&["SET", "a", "b"]);
    assert_eq!(text(&c.cmd_str(&["SLOWLOG", "LEN"])), ":0\r\n");
}

/// A command's duration in the slow log is the time it ran, as in Redis:
/// not the time it waited behind another client's long write, or for its
/// commit. Two runtime threads, so that the writer runs on its own thread
/// and the SET is queued while SUNIONSTORE runs.
#[test]
fn slowlog_times_a_command_without_its_wait_for_the_writer() {
    let server = start_redsql(&["--io-threads", "2"]);
    let mut c = server.conn();
    c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "20000"]);
    // A set of 300,000 members, copied by one short command that runs long.
    for chunk in 0..30 {
        let mut args = vec!["SADD".to_string(), "big".to_string()];
        args.extend((0..10_000).map(|i| format!("member:{chunk}:{i}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(text(&c.cmd_str(&args)), ":10000\r\n");
    }
    c.cmd_str(&["SLOWLOG", "RESET"]);
    let port = server.port;
    let big = std::thread::spawn(move || {
        let mut b = RawConn::connect(port);
        let started = std::time::Instant::now();
        assert_eq!(text(&b.cmd_str(&["SUNIONSTORE", "copy", "big"])), ":300000\r\n");
        started.elapsed()
    });
    // The SET arrives while SUNIONSTORE runs, and waits for it.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let started = std::time::Instant::now();
    assert_eq!(text(&c.cmd_str(&["SET", "small", "1"])), "+OK\r\n");
    let waited = started.elapsed();
    let copy_took = big.join().unwrap();
    assert!(
        waited.as_millis() > 20,
        "the SET did not wait ({waited:?}); SUNIONSTORE took {copy_took:?}"
    );
    let names: Vec<Vec<u8>> = slowlog_args(&slowlog(&mut c, "-1"))
        .into_iter()
        .map(|a| a[0].clone())
        .collect();
    assert!(
        names.contains(&b"SUNIONSTORE".to_vec()),
        "SUNIONSTORE took {copy_took:?}: {names:?}"
    );
    assert!(
        !names.contains(&b"SET".to_vec()),
        "the SET waited {waited:?} and is logged: {names:?}"
    );
}

/// A server, a connection that has run MONITOR, and a client connection.
fn monitored() -> (Server, RawConn, RawConn) {
    let server = start_redsql(&[]);
    let mut m = server.conn();
    assert_eq!(text(&m.cmd_str(&["MONITOR"])), "+OK\r\n");
    let c = server.conn();
    (server, m, c)
}

/// Reads status lines from a monitor until one contains `needle`.
fn monitor_line_with(m: &mut RawConn, needle: &str) -> String {
    for _ in 0..50 {
        let line = text(&m.read_reply());
        if line.contains(needle) {
            return line;
        }
        assert!(!line.is_empty(), "monitor closed");
    }
    panic!("no monitor line with {needle}");
}

/// The commands of a MULTI block are shown one by one, as they run, in
/// MONITOR and in the slow log (EXEC itself is not slow-logged), as Redis
/// does; an aborted transaction's are not.
#[test]
fn a_transaction_shows_each_command_in_monitor_and_the_slow_log() {
    let (server, mut m, mut c) = monitored();
    c.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd_str(&["SLOWLOG", "RESET"]);
    for cmd in [&["MULTI"][..], &["SET", "a", "1"], &["PING"], &["GET", "a"], &["EXEC"]] {
        c.cmd_str(cmd);
    }
    // Aborted by a WATCHed key's change: nothing of the block runs.
    c.cmd_str(&["WATCH", "a"]);
    server.conn().cmd_str(&["SET", "a", "2"]);
    for cmd in [&["MULTI"][..], &["INCR", "never"], &["EXEC"]] {
        c.cmd_str(cmd);
    }
    c.cmd_str(&["ECHO", "end"]);
    let mut shown = Vec::new();
    loop {
        let line = monitor_line_with(&mut m, "\"");
        let command = line.split("] ").nth(1).unwrap().trim_end().to_string();
        if command == "\"ECHO\" \"end\"" {
            break;
        }
        shown.push(command);
    }
    let from = shown.iter().position(|l| l == "\"MULTI\"").unwrap();
    assert_eq!(
        shown[from..],
        [
            "\"MULTI\"",
            "\"SET\" \"a\" \"1\"",
            "\"PING\"",
            "\"GET\" \"a\"",
            "\"EXEC\"",
            "\"WATCH\" \"a\"",
            "\"SET\" \"a\" \"2\"",
            "\"MULTI\"",
            "\"EXEC\""
        ]
    );
    let logged: Vec<String> = slowlog_args(&slowlog(&mut c, "-1"))
        .into_iter()
        .map(|a| String::from_utf8(a.join(&b' ')).unwrap())
        .collect();
    assert_eq!(
        logged[..8],
        [
            "ECHO end", "MULTI", "SET a 2", "WATCH a", "GET a", "PING", "SET a 1", "MULTI"
        ],
        "{logged:?}"
    );
}

#[test]
fn monitor_streams_commands_like_redis() {
    let (server, mut m, mut c) = monitored();
    c.cmd(&[b"SET", b"k\"ey", b"v\x00\xff\n"]);
    c.cmd_str(&["AUTH", "secret"]);
    c.cmd_str(&["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n"]);
    c.cmd_str(&["SELECT", "3"]);
    c.cmd_str(&["CONFIG", "GET", "port"]);
    c.cmd_str(&["NOSUCH"]);
    c.cmd_str(&["PING"]);
    let set = monitor_line_with(&mut m, "\"SET\"");
    let (stamp, rest) = set[1..].split_once(' ').unwrap();
    let (secs, micros) = stamp.split_once('.').unwrap();
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{set}");
    assert!(rest.starts_with("[0 127.0.0.1:"), "{set}");
    assert!(rest.ends_with("] \"SET\" \"k\\\"ey\" \"v\\x00\\xff\\n\"\r\n"), "{set}");
    assert!(monitor_line_with(&mut m, "AUTH").ends_with("\"AUTH\" \"(redacted)\"\r\n"));
    let hello = monitor_line_with(&mut m, "HELLO");
    assert!(hello.ends_with("\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"));
    assert!(monitor_line_with(&mut m, "SELECT").contains("[3 127.0.0.1:"));
    // CONFIG (admin) and the unknown command are not shown.
    let ping = monitor_line_with(&mut m, "\"PING\"");
    assert!(!ping.contains("CONFIG") && !ping.contains("NOSUCH"), "{ping}");

    // A monitor may not touch keys; a second MONITOR answers nothing; RESET stops monitoring.
    let mut m2 = server.conn();
    m2.cmd_str(&["MONITOR"]);
    assert_eq!(
        text(&m2.cmd_str(&["GET", "k"])),
        "-ERR Replica can't interact with the keyspace\r\n"
    );
    m2.send_raw(&RawConn::encode(&[b"MONITOR"]));
    assert!(text(&m2.cmd_str(&["CLIENT", "INFO"])).contains(" flags=O "));
    // A monitor sees its own commands too, after their replies.
    monitor_line_with(&mut m2, "\"CLIENT\" \"INFO\"");
    assert_eq!(text(&m2.cmd_str(&["RESET"])), "+RESET\r\n");
    assert!(text(&m2.cmd_str(&["CLIENT", "INFO"])).contains(" flags=N "));
    assert_eq!(text(&m2.cmd_str(&["GET", "nosuch"])), "$-1\r\n");
}

/// `ACL CAT` lists as sets of names.
fn acl_cat(c: &mut RawConn, category: &str) -> std::collections::BTreeSet<Vec<u8>> {
    match redis::parse_redis_value(&c.cmd_str(&["ACL", "CAT", category])).unwrap() {
        redis::Value::Array(names) => names.iter().map(bulk).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn acl_cat_lists_the_implemented_commands_of_redis_categories() {
    let redis = start_redis_with(&[]);
    let server = start_redsql(&[]);
    let (mut r, mut s) = (redis.conn(), server.conn());
    for category in [
        "keyspace",
        "READ",
        "write",
        "string",
        "admin",
        "dangerous",
        "connection",
        "transaction",
    ] {
        let ours = acl_cat(&mut s, category);
        let theirs = acl_cat(&mut r, category);
        assert!(!ours.is_empty(), "{category}");
        let extra: Vec<String> = ours.difference(&theirs).map(|n| text(n)).collect();
        assert!(extra.is_empty(), "{category}: {extra:?}");
    }
    let strings = acl_cat(&mut s, "string");
    assert!(strings.contains(b"get".as_slice()) && !strings.contains(b"hget".as_slice()));
    assert!(acl_cat(&mut s, "admin").contains(b"config|get".as_slice()));
}
