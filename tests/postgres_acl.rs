//! ACL users are shared by the redsql processes of one PostgreSQL store:
//! ACL SETUSER, ACL DELUSER and CONFIG SET requirepass on one process apply
//! on the other (existing connections included: a deleted user's clients are
//! disconnected), and a store's users outlive the process that set them.
//! Needs `REDSQL_TEST_POSTGRES_URL`; skips loudly without it.

mod support;

use std::time::{Duration, Instant};
use support::pg::{TestSchema, start_redsql_pg, url_or_skip};
use support::{RawConn, Server, show};

/// Waits (up to 5 s) until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(5), "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn auth(s: &Server, user: &str, pass: &str) -> Vec<u8> {
    s.conn().cmd_str(&["AUTH", user, pass])
}

fn acl_list(s: &Server) -> Vec<u8> {
    let mut c = s.conn();
    c.cmd_str(&["AUTH", "default", "pw"]);
    c.cmd_str(&["ACL", "LIST"])
}

#[test]
fn users_set_on_one_process_apply_on_the_other() {
    let Some(base) = url_or_skip("postgres_acl") else {
        return;
    };
    let schema = TestSchema::new(&base, "acl_share");
    let a = start_redsql_pg(&schema.url(), &[]);
    let b = start_redsql_pg(&schema.url(), &[]);
    let mut admin = a.conn();

    // A new user on A can log in on B.
    assert_eq!(
        admin.cmd_str(&["ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all"]),
        b"+OK\r\n"
    );
    eventually("alice known on B", || auth(&b, "alice", "secret") == b"+OK\r\n");
    assert!(auth(&b, "alice", "wrong").starts_with(b"-WRONGPASS"));

    // A change of rules applies to B's existing connection of that user.
    let mut alice_b = b.conn();
    assert_eq!(alice_b.cmd_str(&["AUTH", "alice", "secret"]), b"+OK\r\n");
    assert_eq!(alice_b.cmd_str(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(admin.cmd_str(&["ACL", "SETUSER", "alice", "-get"]), b"+OK\r\n");
    eventually("alice loses GET on B", || {
        alice_b
            .cmd_str(&["GET", "k"])
            .starts_with(b"-NOPERM this user has no permissions to run the 'get' command")
    });

    // A user losing a channel on A: its subscriber on B is disconnected.
    assert_eq!(
        admin.cmd_str(&["ACL", "SETUSER", "carol", "on", ">c", "resetchannels", "&ch1", "+@all"]),
        b"+OK\r\n"
    );
    eventually("carol known on B", || auth(&b, "carol", "c") == b"+OK\r\n");
    let mut carol_b = b.conn();
    carol_b.cmd_str(&["AUTH", "carol", "c"]);
    assert_eq!(
        carol_b.cmd_str(&["SUBSCRIBE", "ch1"]),
        b"*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n"
    );
    assert_eq!(
        admin.cmd_str(&["ACL", "SETUSER", "carol", "resetchannels", "&ch2"]),
        b"+OK\r\n"
    );
    assert!(
        carol_b.read_reply().is_empty(),
        "carol's subscriber on B is disconnected"
    );

    // CONFIG SET requirepass on A: B's new connections must authenticate.
    assert_eq!(admin.cmd_str(&["CONFIG", "SET", "requirepass", "pw"]), b"+OK\r\n");
    eventually("B requires a password", || {
        b.conn().cmd_str(&["GET", "k"]) == b"-NOAUTH Authentication required.\r\n"
    });
    assert_eq!(auth(&b, "default", "pw"), b"+OK\r\n");
    eventually("same users on both", || acl_list(&a) == acl_list(&b));
    let list = acl_list(&b);
    assert!(show(&list).contains("user alice on"), "{}", show(&list));

    // DELUSER on A disconnects B's clients of that user, and AUTH fails there.
    let mut admin = a.conn();
    admin.cmd_str(&["AUTH", "pw"]);
    assert_eq!(admin.cmd_str(&["ACL", "DELUSER", "alice"]), b":1\r\n");
    eventually("alice's connection on B closed", || {
        alice_b.cmd_str(&["PING"]).is_empty()
    });
    assert!(auth(&b, "alice", "secret").starts_with(b"-WRONGPASS"));

    // The users are the store's: a process started later takes them, even
    // with a requirepass of its own.
    assert_eq!(
        admin.cmd_str(&["ACL", "SETUSER", "bob", "on", ">b", "+ping"]),
        b"+OK\r\n"
    );
    let c = start_redsql_pg(&schema.url(), &["--requirepass", "other"]);
    assert_eq!(auth(&c, "bob", "b"), b"+OK\r\n");
    assert_eq!(auth(&c, "default", "pw"), b"+OK\r\n");
    assert!(auth(&c, "default", "other").starts_with(b"-WRONGPASS"));
    assert_eq!(acl_list(&a), acl_list(&c));
}

#[test]
fn the_first_process_seeds_the_store_with_its_startup_users() {
    let Some(base) = url_or_skip("postgres_acl") else {
        return;
    };
    let schema = TestSchema::new(&base, "acl_seed");
    let a = start_redsql_pg(&schema.url(), &["--requirepass", "pw"]);
    let b = start_redsql_pg(&schema.url(), &[]);
    let mut c = b.conn();
    assert_eq!(c.cmd_str(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd_str(&["AUTH", "pw"]), b"+OK\r\n");
    // Back to no password, from the other process.
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "requirepass", ""]), b"+OK\r\n");
    eventually("A needs no password", || a.conn().cmd_str(&["PING"]) == b"+PONG\r\n");
    let mut raw = RawConn::connect(a.port);
    assert_eq!(raw.cmd_str(&["ACL", "WHOAMI"]), b"$7\r\ndefault\r\n");
}

#[test]
fn acl_load_on_one_process_replaces_the_users_of_all() {
    let Some(base) = url_or_skip("postgres_acl") else {
        return;
    };
    let schema = TestSchema::new(&base, "acl_load");
    let dir = std::env::temp_dir().join(format!("redsql-acl-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users.acl");
    std::fs::write(&file, "user default on nopass ~* &* +@all\nuser dave on >d ~* +@all\n").unwrap();
    let path = file.display().to_string();
    let a = start_redsql_pg(&schema.url(), &["--aclfile", &path]);
    let b = start_redsql_pg(&schema.url(), &[]);
    // The first process seeded the store with its file's users.
    assert_eq!(auth(&b, "dave", "d"), b"+OK\r\n");
    let mut dave_b = b.conn();
    dave_b.cmd_str(&["AUTH", "dave", "d"]);
    std::fs::write(&file, "user default on nopass ~* &* +@all\nuser erin on >e ~* +@all\n").unwrap();
    assert_eq!(a.conn().cmd_str(&["ACL", "LOAD"]), b"+OK\r\n");
    eventually("erin known on B", || auth(&b, "erin", "e") == b"+OK\r\n");
    assert!(auth(&b, "dave", "d").starts_with(b"-WRONGPASS"));
    assert!(dave_b.cmd_str(&["PING"]).is_empty(), "dave's connection on B is closed");
    let _ = std::fs::remove_dir_all(&dir);
}
