//! MULTI/EXEC/WATCH with several clients over TCP: WATCH broken (or not) by
//! other clients, compared with real Redis on each backend (the scenarios of
//! `support/watch.rs`; across PostgreSQL processes in
//! `tests/postgres_watch.rs`); atomicity and isolation of EXEC
//! under concurrency; the optimistic-lock pattern; CLIENT LIST while queueing.
//! Single-connection cases are in `tests/diff/transactions.redis`.

mod support;

use redsql::resp::Reply;
use support::{Backend, RawConn, Server, backend_tests, show, start_redis, start_redis_with, start_redsql, watch};

fn watch_is_broken_by_other_clients_writes_like_redis(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("watch_broken", &[]);
    for scenario in watch::writes() {
        watch::check(&redis, [&redsql, &redsql], &scenario);
    }
}
backend_tests!(watch_is_broken_by_other_clients_writes_like_redis: sqlite, postgres);

fn watch_is_not_broken_by_reads_or_other_keys_like_redis(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("watch_kept", &[]);
    for scenario in watch::reads_and_other_keys() {
        watch::check(&redis, [&redsql, &redsql], &scenario);
    }
}
backend_tests!(watch_is_not_broken_by_reads_or_other_keys_like_redis: sqlite, postgres);

fn watch_and_expiry_like_redis(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("watch_expiry", &[]);
    for scenario in watch::expiry() {
        watch::check(&redis, [&redsql, &redsql], &scenario);
    }
}
backend_tests!(watch_and_expiry_like_redis: sqlite, postgres);

fn reply(c: &mut RawConn, args: &[&str]) -> Reply {
    let raw = c.cmd_str(args);
    redsql::resp::value::parse(&raw).expect("a complete reply").0
}

fn int(r: &Reply) -> i64 {
    match r {
        Reply::Int(n) => *n,
        Reply::Bulk(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
        Reply::Nil => 0,
        other => panic!("not an integer: {other:?}"),
    }
}

/// Sends MULTI, `cmds`, EXEC in one write; returns EXEC's reply after
/// checking every command was QUEUED.
fn transaction(c: &mut RawConn, cmds: &[&[&str]]) -> Reply {
    let mut bytes = RawConn::encode(&[b"MULTI"]);
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        bytes.extend(RawConn::encode(&args));
    }
    bytes.extend(RawConn::encode(&[b"EXEC"]));
    c.send_raw(&bytes);
    assert_eq!(c.read_reply(), b"+OK\r\n");
    for _ in cmds {
        assert_eq!(c.read_reply(), b"+QUEUED\r\n");
    }
    redsql::resp::value::parse(&c.read_reply()).expect("EXEC reply").0
}

/// 20 clients each run 200 × MULTI INCR a INCR b EXEC while a reader checks,
/// with MULTI GET a GET b EXEC, that it never sees one increment without the other.
fn atomicity(server: &Server) {
    const CLIENTS: usize = 20;
    const ROUNDS: usize = 200;
    let port = server.port;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut c = RawConn::connect(port);
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                match transaction(&mut c, &[&["GET", "a"], &["GET", "b"]]) {
                    Reply::Array(v) => assert_eq!(int(&v[0]), int(&v[1]), "a and b differ: {v:?}"),
                    other => panic!("EXEC answered {other:?}"),
                }
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                for _ in 0..ROUNDS {
                    match transaction(&mut c, &[&["INCR", "a"], &["INCR", "b"]]) {
                        Reply::Array(v) => assert_eq!(v[0], v[1], "INCR a and INCR b answered differently"),
                        other => panic!("EXEC answered {other:?}"),
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    let mut c = server.conn();
    let total = (CLIENTS * ROUNDS) as i64;
    assert_eq!(int(&reply(&mut c, &["GET", "a"])), total);
    assert_eq!(int(&reply(&mut c, &["GET", "b"])), total);
}

#[test]
fn exec_is_atomic_and_isolated() {
    let redsql = start_redsql(&[]);
    atomicity(&redsql);
    let memory = start_redsql(&["--db", ":memory:"]);
    atomicity(&memory);
}

/// The optimistic-lock pattern: WATCH, read, MULTI SET, EXEC, retried on a
/// null reply. Every increment must land exactly once.
#[test]
fn watch_lock_pattern_reaches_the_exact_total() {
    const CLIENTS: usize = 8;
    const INCREMENTS: usize = 40;
    let server = start_redsql(&[]);
    let port = server.port;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port);
                let mut retries = 0;
                for _ in 0..INCREMENTS {
                    loop {
                        assert_eq!(c.cmd_str(&["WATCH", "counter"]), b"+OK\r\n");
                        let v = int(&reply(&mut c, &["GET", "counter"]));
                        let next = (v + 1).to_string();
                        match transaction(&mut c, &[&["SET", "counter", &next]]) {
                            Reply::NilArray => retries += 1,
                            Reply::Array(r) => {
                                assert_eq!(r, vec![Reply::Status("OK".into())]);
                                break;
                            }
                            other => panic!("EXEC answered {other:?}"),
                        }
                    }
                }
                retries
            })
        })
        .collect();
    let retries: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let mut c = server.conn();
    assert_eq!(int(&reply(&mut c, &["GET", "counter"])), (CLIENTS * INCREMENTS) as i64);
    println!("{retries} retries");
}

#[test]
fn client_list_shows_queued_transactions() {
    let server = start_redsql(&[]);
    let mut a = server.conn();
    let mut b = server.conn();
    let id = String::from_utf8(a.cmd_str(&["CLIENT", "ID"])).unwrap();
    let id = id.trim_start_matches(':').trim_end();
    let line_of = |b: &mut RawConn| {
        let list = String::from_utf8(b.cmd_str(&["CLIENT", "LIST"])).unwrap();
        list.lines()
            .find(|l| l.contains(&format!("id={id} ")))
            .unwrap()
            .to_string()
    };
    assert!(line_of(&mut b).contains(" flags=N "));
    assert!(line_of(&mut b).contains(" multi=-1 "));
    a.cmd_str(&["MULTI"]);
    assert!(line_of(&mut b).contains(" flags=x "));
    assert!(line_of(&mut b).contains(" multi=0 "));
    a.cmd_str(&["SET", "x", "1"]);
    a.cmd_str(&["CLIENT", "INFO"]);
    assert!(line_of(&mut b).contains(" multi=2 "));
    // CLIENT INFO inside EXEC still sees the transaction, as in Redis.
    match redsql::resp::value::parse(&a.cmd_str(&["EXEC"])).unwrap().0 {
        Reply::Array(v) => {
            let (Reply::Verbatim(info) | Reply::Bulk(info)) = &v[1] else {
                panic!("CLIENT INFO answered {:?}", v[1]);
            };
            let info = String::from_utf8_lossy(info);
            assert!(info.contains(" flags=x ") && info.contains(" multi=2 "), "{info}");
        }
        other => panic!("EXEC answered {other:?}"),
    }
    assert!(line_of(&mut b).contains(" flags=N "));
    a.cmd_str(&["MULTI"]);
    a.cmd_str(&["DISCARD"]);
    assert!(line_of(&mut b).contains(" multi=-1 "));
    a.cmd_str(&["MULTI"]);
    a.cmd_str(&["RESET"]);
    assert!(line_of(&mut b).contains(" multi=-1 "));
}

/// Raw bytes in, raw bytes out, compared with Redis (pipelined transactions,
/// a transaction longer than one read round, EXEC refused before AUTH).
#[test]
fn pipelined_transactions_match_redis() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let mut input = Vec::new();
    for args in [
        &["MULTI"][..],
        &["SET", "p", "1"],
        &["INCR", "p"],
        &["LPUSH", "p", "x"],
        &["GET", "p"],
        &["EXEC"],
        &["WATCH", "p"],
        &["INCR", "p"],
        &["MULTI"],
        &["GET", "p"],
        &["EXEC"],
    ] {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        input.extend(RawConn::encode(&a));
    }
    // 3000 queued commands: more than one round of parsed commands.
    input.extend(RawConn::encode(&[b"MULTI"]));
    for i in 0..3000 {
        input.extend(RawConn::encode(&[b"RPUSH", b"long", i.to_string().as_bytes()]));
    }
    input.extend(RawConn::encode(&[b"EXEC"]));
    input.extend(RawConn::encode(&[b"LLEN", b"long"]));
    let want = redis.exchange(&input);
    let got = redsql.exchange(&input);
    assert!(want == got, "redis:  {}\nredsql: {}", show(&want), show(&got));

    let redis = start_redis_with(&["--requirepass", "pw"]);
    let redsql = start_redsql(&["--requirepass", "pw"]);
    let input = b"EXEC\r\nEXEC x\r\nMULTI\r\nAUTH pw\r\nMULTI\r\nEXEC x\r\nEXEC\r\nMULTI\r\nGET\r\nEXEC\r\n";
    let want = redis.exchange(input);
    let got = redsql.exchange(input);
    assert!(want == got, "redis:  {}\nredsql: {}", show(&want), show(&got));
}
