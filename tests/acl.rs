//! ACL and CLIENT PAUSE across connections (what one differential script on
//! one connection cannot show): key patterns enforced per user, DELUSER
//! disconnecting the user's clients, the ACL log, CLIENT KILL USER, CLIENT
//! LIST's `user=`, `requirepass` as the default user's password, and pauses
//! holding writes (or everything) until they end.

mod support;

use std::time::{Duration, Instant};
use support::{RawConn, start_redsql};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(c: &mut RawConn, args: &[&str]) {
    assert_eq!(text(&c.cmd_str(args)), "+OK\r\n", "{args:?}");
}

#[test]
fn users_see_only_their_keys_and_commands() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">secret",
            "~app:*",
            "%R~shared:*",
            "+@all",
            "-@dangerous",
        ],
    );
    ok(&mut admin, &["SET", "other", "x"]);
    ok(&mut admin, &["SET", "shared:cfg", "y"]);

    let mut app = server.conn();
    ok(&mut app, &["AUTH", "app", "secret"]);
    assert_eq!(text(&app.cmd_str(&["ACL", "WHOAMI"])), "$3\r\napp\r\n");
    ok(&mut app, &["SET", "app:1", "v"]);
    assert_eq!(text(&app.cmd_str(&["GET", "app:1"])), "$1\r\nv\r\n");
    assert_eq!(text(&app.cmd_str(&["GET", "shared:cfg"])), "$1\r\ny\r\n");
    let no_key = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n";
    assert_eq!(text(&app.cmd_str(&["GET", "other"])), no_key);
    assert_eq!(text(&app.cmd_str(&["SET", "shared:cfg", "z"])), no_key);
    assert_eq!(text(&app.cmd_str(&["DEL", "app:1", "other"])), no_key);
    assert_eq!(
        text(&app.cmd_str(&["FLUSHALL"])),
        "-NOPERM this user has no permissions to run the 'flushall' command\r\n"
    );
    // Nothing refused ran.
    assert_eq!(text(&admin.cmd_str(&["GET", "other"])), "$1\r\nx\r\n");
    assert_eq!(text(&admin.cmd_str(&["GET", "shared:cfg"])), "$1\r\ny\r\n");

    // A change to the user applies to its connections at once.
    ok(&mut admin, &["ACL", "SETUSER", "app", "-get"]);
    assert_eq!(
        text(&app.cmd_str(&["GET", "app:1"])),
        "-NOPERM this user has no permissions to run the 'get' command\r\n"
    );
    // CLIENT LIST shows who is who.
    let list = text(&admin.cmd_str(&["CLIENT", "LIST"]));
    assert!(list.contains("user=app"), "{list}");
    assert!(list.contains("user=default"), "{list}");
    let info = text(&app.cmd_str(&["CLIENT", "INFO"]));
    assert!(info.contains("user=app "), "{info}");
}

#[test]
fn deluser_and_kill_user_disconnect_clients() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    ok(&mut admin, &["ACL", "SETUSER", "bob", "on", "nopass", "+@all", "~*"]);
    let mut bob1 = server.conn();
    let mut bob2 = server.conn();
    ok(&mut bob1, &["AUTH", "bob", "x"]);
    ok(&mut bob2, &["AUTH", "bob", "x"]);
    assert_eq!(text(&admin.cmd_str(&["CLIENT", "KILL", "USER", "bob"])), ":2\r\n");
    assert_eq!(
        text(&admin.cmd_str(&["CLIENT", "KILL", "USER", "nobody"])),
        "-ERR No such user 'nobody'\r\n"
    );
    for c in [&mut bob1, &mut bob2] {
        c.send_raw(b"PING\r\n");
        assert_eq!(c.read_reply(), b"", "killed connection must be closed");
    }

    let mut bob = server.conn();
    ok(&mut bob, &["AUTH", "bob", "x"]);
    assert_eq!(text(&admin.cmd_str(&["ACL", "DELUSER", "bob"])), ":1\r\n");
    bob.send_raw(b"PING\r\n");
    assert_eq!(bob.read_reply(), b"");
    assert_eq!(
        text(&server.conn().cmd_str(&["AUTH", "bob", "x"])),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // A user deleting itself gets its reply, then the connection closes.
    ok(&mut admin, &["ACL", "SETUSER", "self", "on", "nopass", "+@all"]);
    let mut me = server.conn();
    ok(&mut me, &["AUTH", "self", "x"]);
    assert_eq!(text(&me.cmd_str(&["ACL", "DELUSER", "self"])), ":1\r\n");
    me.send_raw(b"PING\r\n");
    assert_eq!(me.read_reply(), b"");
}

/// `ACL LOG` entries: (reason, object, username, count).
fn log_entries(c: &mut RawConn) -> Vec<(String, String, String, i64)> {
    let redis::Value::Array(entries) = redis::parse_redis_value(&c.cmd_str(&["ACL", "LOG"])).unwrap() else {
        panic!("ACL LOG is an array");
    };
    entries
        .into_iter()
        .map(|e| {
            let redis::Value::Array(fields) = e else {
                panic!("entry")
            };
            let field = |name: &str| -> redis::Value {
                let i = fields
                    .iter()
                    .position(|f| matches!(f, redis::Value::BulkString(b) if b == name.as_bytes()))
                    .unwrap();
                fields[i + 1].clone()
            };
            let s = |v: redis::Value| match v {
                redis::Value::BulkString(b) => String::from_utf8(b).unwrap(),
                other => panic!("{other:?}"),
            };
            let count = match field("count") {
                redis::Value::Int(n) => n,
                other => panic!("{other:?}"),
            };
            let info = s(field("client-info"));
            assert!(info.starts_with("id="), "{info}");
            (s(field("reason")), s(field("object")), s(field("username")), count)
        })
        .collect()
}

#[test]
fn acl_log_records_refusals() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    ok(
        &mut admin,
        &["ACL", "SETUSER", "lg", "on", ">pw", "~a*", "&news", "+get", "+publish"],
    );
    let mut c = server.conn();
    ok(&mut c, &["AUTH", "lg", "pw"]);
    c.cmd_str(&["GET", "b"]);
    c.cmd_str(&["GET", "b"]);
    c.cmd_str(&["SET", "a", "1"]);
    c.cmd_str(&["PUBLISH", "sports", "m"]);
    c.cmd_str(&["AUTH", "lg", "bad"]);
    let log = log_entries(&mut admin);
    let want = |r: &str, o: &str, n| (r.to_string(), o.to_string(), "lg".to_string(), n);
    assert_eq!(
        log,
        vec![
            want("auth", "AUTH", 1),
            want("channel", "sports", 1),
            want("command", "set", 1),
            want("key", "b", 2),
        ]
    );
    assert_eq!(
        text(&c.cmd_str(&["PUBLISH", "sports", "m"])),
        "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"
    );
    assert_eq!(text(&admin.cmd_str(&["ACL", "LOG", "1"])).matches("count").count(), 1);
    ok(&mut admin, &["ACL", "LOG", "RESET"]);
    assert_eq!(text(&admin.cmd_str(&["ACL", "LOG"])), "*0\r\n");
}

#[test]
fn requirepass_is_the_default_users_password() {
    let server = start_redsql(&["--requirepass", "pw"]);
    let mut c = server.conn();
    assert_eq!(text(&c.cmd_str(&["PING"])), "-NOAUTH Authentication required.\r\n");
    ok(&mut c, &["AUTH", "default", "pw"]);
    let list = text(&c.cmd_str(&["ACL", "LIST"]));
    assert!(
        list.contains("user default on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* &* +@all"),
        "{list}"
    );
    ok(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    let list = text(&c.cmd_str(&["ACL", "LIST"]));
    assert!(list.contains("user default on nopass ~* &* +@all"), "{list}");
    assert_eq!(text(&server.conn().cmd_str(&["PING"])), "+PONG\r\n");
    // A password set through ACL also protects new connections.
    ok(&mut c, &["ACL", "SETUSER", "default", "resetpass", ">new"]);
    let mut d = server.conn();
    assert_eq!(text(&d.cmd_str(&["PING"])), "-NOAUTH Authentication required.\r\n");
    ok(&mut d, &["AUTH", "new"]);
    // Other CONFIG SETs leave it alone; setting requirepass (even to the same
    // value as before) replaces the default user's passwords.
    ok(&mut c, &["CONFIG", "SET", "maxclients", "500"]);
    ok(&mut server.conn(), &["AUTH", "new"]);
    ok(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    ok(&mut c, &["ACL", "SETUSER", "default", ">new"]);
    ok(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    assert_eq!(text(&server.conn().cmd_str(&["PING"])), "+PONG\r\n");
    ok(&mut c, &["ACL", "SETUSER", "default", "resetpass", ">new"]);
    // Turning the default user off refuses its authentication.
    ok(&mut c, &["ACL", "SETUSER", "default", "off"]);
    assert_eq!(
        text(&server.conn().cmd_str(&["AUTH", "new"])),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
}

/// Sends a command and reports whether its reply arrives within `ms`.
fn replies_within(c: &mut RawConn, args: &[&str], ms: u64) -> bool {
    c.send_raw(&RawConn::encode(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>()));
    let started = Instant::now();
    let _ = c.read_reply();
    started.elapsed() < Duration::from_millis(ms)
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    ok(&mut admin, &["SET", "k", "1"]);
    ok(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    // Reads go on.
    let mut reader = server.conn();
    assert!(replies_within(&mut reader, &["GET", "k"], 1000));
    // A write waits until UNPAUSE.
    let port = server.port;
    let writer = std::thread::spawn(move || {
        let mut w = RawConn::connect(port);
        let started = Instant::now();
        let reply = w.cmd_str(&["SET", "k", "2"]);
        (reply, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(text(&reader.cmd_str(&["GET", "k"])), "$1\r\n1\r\n");
    ok(&mut admin, &["CLIENT", "UNPAUSE"]);
    let (reply, waited) = writer.join().unwrap();
    assert_eq!(text(&reply), "+OK\r\n");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert_eq!(text(&reader.cmd_str(&["GET", "k"])), "$1\r\n2\r\n");
}

#[test]
fn client_pause_all_ends_at_its_timeout() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    ok(&mut admin, &["CLIENT", "PAUSE", "400"]);
    let mut c = server.conn();
    let started = Instant::now();
    assert_eq!(text(&c.cmd_str(&["PING"])), "+PONG\r\n");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert!(replies_within(&mut c, &["GET", "x"], 1000));
}

/// With an `aclfile`, users load at start-up and ACL SAVE / ACL LOAD write
/// and read it, with Redis's replies (errors included) and file contents.
#[test]
fn aclfile_load_and_save_match_redis() {
    let initial = "user default on nopass ~* &* +@all\nuser fileu on >pw ~f* +get\n\n";
    let bad = "user bad on +nosuch -@nosuch\nuser\nfoo bar\nuser fileu on\nuser x (~a\nuser \"a\" on\n";
    let mut outputs = Vec::new();
    for redsql in [false, true] {
        let dir = support::temp_dir("aclfile");
        let path = dir.join("users.acl");
        std::fs::write(&path, initial).unwrap();
        let path_s = path.display().to_string();
        let server = if redsql {
            start_redsql(&["--aclfile", &path_s])
        } else {
            support::start_redis_with(&["--aclfile", &path_s])
        };
        let mut c = server.conn();
        let mut out = Vec::new();
        let mut run = |c: &mut RawConn, args: &[&str]| {
            out.push(text(&c.cmd_str(args)).replace(&path_s, "PATH"));
        };
        run(&mut c, &["ACL", "LIST"]);
        run(&mut c, &["ACL", "SETUSER", "added", "on", "%R~r*", "+@hash", "-hset"]);
        run(&mut c, &["ACL", "SAVE"]);
        let saved = std::fs::read_to_string(&path).unwrap();
        run(&mut c, &["ACL", "DELUSER", "added"]);
        run(&mut c, &["ACL", "LOAD"]);
        run(&mut c, &["ACL", "USERS"]);
        std::fs::write(&path, bad).unwrap();
        run(&mut c, &["ACL", "LOAD"]);
        run(&mut c, &["ACL", "USERS"]);
        std::fs::write(&path, "user solo on nopass +@all\n").unwrap();
        run(&mut c, &["ACL", "LOAD"]);
        // The default user, absent from the file, is back to its defaults.
        run(&mut c, &["ACL", "LIST"]);
        out.push(saved);
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
}

/// Time a command takes to answer.
fn timed(c: &mut RawConn, args: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let reply = text(&c.cmd_str(args));
    (reply, started.elapsed())
}

#[test]
fn client_pause_write_holds_queueing_writes_and_publish() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    let mut c = server.conn();
    let held = Duration::from_millis(250);

    // Queueing a write in MULTI waits (as in Redis); EXEC after the pause does not.
    ok(&mut admin, &["CLIENT", "PAUSE", "400", "WRITE"]);
    ok(&mut c, &["MULTI"]);
    let (got, waited) = timed(&mut c, &["SET", "k", "1"]);
    assert_eq!(got, "+QUEUED\r\n");
    assert!(waited >= held, "{waited:?}");
    let (got, waited) = timed(&mut c, &["EXEC"]);
    assert_eq!(got, "*1\r\n+OK\r\n");
    assert!(waited < held, "{waited:?}");

    // PUBLISH counts as a write; GET does not.
    ok(&mut admin, &["CLIENT", "PAUSE", "400", "WRITE"]);
    let (got, waited) = timed(&mut c, &["GET", "k"]);
    assert_eq!(got, "$1\r\n1\r\n");
    assert!(waited < held, "{waited:?}");
    let (got, waited) = timed(&mut c, &["PUBLISH", "ch", "m"]);
    assert_eq!(got, ":0\r\n");
    assert!(waited >= held, "{waited:?}");
}

/// EXEC checks queued commands again: one the user may no longer run answers
/// Redis's error in its slot, the others run. Compared with real Redis.
#[test]
fn exec_rechecks_permissions_like_redis() {
    let mut outputs = Vec::new();
    for server in [support::start_redis(), start_redsql(&[])] {
        let mut admin = server.conn();
        let mut c = server.conn();
        let mut out = Vec::new();
        ok(
            &mut admin,
            &["ACL", "SETUSER", "ex", "on", "nopass", "~*", "&*", "+@all"],
        );
        ok(&mut c, &["AUTH", "ex", "x"]);
        ok(&mut c, &["MULTI"]);
        for args in [
            &["SET", "a", "1"][..],
            &["GET", "a"],
            &["PUBLISH", "ch", "m"],
            &["SET", "b", "1"],
            &["ECHO", "e"],
        ] {
            out.push(text(&c.cmd_str(args)));
        }
        ok(
            &mut admin,
            &["ACL", "SETUSER", "ex", "resetkeys", "~a", "resetchannels", "-echo"],
        );
        out.push(text(&c.cmd_str(&["EXEC"])));
        out.push(text(&admin.cmd_str(&["MGET", "a", "b"])));
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(
        outputs[1][5].contains("no permission to touch the specified keys"),
        "{:?}",
        outputs[1]
    );
}

/// Losing channel permissions disconnects the user's subscribers whose
/// subscriptions are no longer allowed; the others stay (as in Redis).
#[test]
fn revoked_channels_disconnect_subscribers() {
    let server = start_redsql(&[]);
    let mut admin = server.conn();
    ok(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "sub",
            "on",
            "nopass",
            "+@all",
            "resetchannels",
            "&news*",
            "&sports",
        ],
    );
    let mut news = server.conn();
    let mut sports = server.conn();
    for (c, channel) in [(&mut news, "news.1"), (&mut sports, "sports")] {
        ok(c, &["AUTH", "sub", "x"]);
        let reply = text(&c.cmd_str(&["SUBSCRIBE", channel]));
        assert!(reply.starts_with("*3\r\n$9\r\nsubscribe\r\n"), "{reply}");
    }
    ok(&mut admin, &["ACL", "SETUSER", "sub", "resetchannels", "&sports"]);
    news.send_raw(b"PING\r\n");
    assert_eq!(news.read_reply(), b"", "the news subscriber must be disconnected");
    assert_eq!(text(&admin.cmd_str(&["PUBLISH", "sports", "goal"])), ":1\r\n");
    let msg = text(&sports.read_reply());
    assert!(msg.ends_with("$4\r\ngoal\r\n"), "{msg}");
}

/// ACL SETUSER's rules hold passwords: SLOWLOG shows them redacted, as Redis does.
#[test]
fn setuser_is_redacted_in_the_slow_log() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    ok(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    ok(&mut c, &["SLOWLOG", "RESET"]);
    ok(&mut c, &["ACL", "SETUSER", "red", "on", ">secret", "+get"]);
    let log = text(&c.cmd_str(&["SLOWLOG", "GET", "1"]));
    assert!(!log.contains("secret"), "{log}");
    assert!(
        log.contains("$3\r\nACL\r\n$7\r\nSETUSER\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n"),
        "{log}"
    );
}
