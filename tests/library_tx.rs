//! `Db::transaction`: atomic, isolated closures with the typed handles
//! inside, on SQLite (file and `:memory:`) and PostgreSQL.

mod support;

use redsql::Error;
use std::sync::Arc;
use support::backend::{Backend, backend_tests};

backend_tests!(
    commits_everything_and_returns_its_value: sqlite, memory, postgres;
    an_error_rolls_back_everything: sqlite, memory, postgres;
    an_error_not_passed_on_does_not_abort: sqlite, memory, postgres;
    transactions_are_isolated_from_each_other: sqlite, memory, postgres;
    commands_by_name_give_redis_errors: sqlite, memory, postgres;
);

fn commits_everything_and_returns_its_value(backend: &Backend) {
    let name = backend.name();
    let db = backend.open("libtx_commits_everything_a");
    let n = db
        .transaction(|tx| {
            let n = tx.strings().incr(b"counter")?;
            tx.lists().rpush(b"log", &[n.to_string().as_bytes()])?;
            tx.hashes().hset(b"h", &[(b"f".as_slice(), b"v".as_slice())])?;
            Ok(n)
        })
        .unwrap();
    assert_eq!(n, 1, "{name}");
    assert_eq!(
        db.strings().get(b"counter").unwrap().as_deref(),
        Some(&b"1"[..]),
        "{name}"
    );
    assert_eq!(
        db.lists().lrange(b"log", 0, -1).unwrap(),
        vec![bytes::Bytes::from("1")],
        "{name}"
    );
    assert_eq!(
        db.hashes().hget(b"h", b"f").unwrap().as_deref(),
        Some(&b"v"[..]),
        "{name}"
    );
}

fn an_error_rolls_back_everything(backend: &Backend) {
    let name = backend.name();
    let db = backend.open("libtx_an_error_rolls_back_");
    db.strings().set(b"kept", b"before").unwrap();
    let result: Result<(), Error> = db.transaction(|tx| {
        tx.strings().set(b"kept", b"changed")?;
        tx.lists().rpush(b"gone", &[b"x".as_slice()])?;
        // A Redis error passed on with `?` aborts the transaction.
        tx.lists().rpush(b"kept", &[b"x".as_slice()])?;
        Ok(())
    });
    assert!(
        matches!(&result, Err(Error::Redis(m)) if m.starts_with("WRONGTYPE")),
        "{name}: {result:?}"
    );
    assert_eq!(
        db.strings().get(b"kept").unwrap().as_deref(),
        Some(&b"before"[..]),
        "{name}"
    );
    assert!(!db.keys().exists(b"gone").unwrap(), "{name}");
    // The writer goes on committing.
    db.strings().set(b"after", b"1").unwrap();
    assert_eq!(
        db.strings().get(b"after").unwrap().as_deref(),
        Some(&b"1"[..]),
        "{name}"
    );
}

fn an_error_not_passed_on_does_not_abort(backend: &Backend) {
    let name = backend.name();
    let db = backend.open("libtx_an_error_not_passed_");
    db.strings().set(b"s", b"1").unwrap();
    let got = db
        .transaction(|tx| {
            let wrong = tx.lists().rpush(b"s", &[b"x".as_slice()]).is_err();
            tx.strings().set(b"t", b"2")?;
            Ok(wrong)
        })
        .unwrap();
    assert!(got, "{name}");
    assert_eq!(db.strings().get(b"t").unwrap().as_deref(), Some(&b"2"[..]), "{name}");
}

/// Read-modify-write with GET then SET, from several threads at once: no
/// increment is lost, because each transaction is isolated.
fn transactions_are_isolated_from_each_other(backend: &Backend) {
    let name = backend.name();
    let db = backend.open("libtx_transactions_are_iso");
    let db = Arc::new(db.db.clone());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    db.transaction(|tx| {
                        let n: i64 = tx
                            .strings()
                            .get(b"n")?
                            .map(|v| String::from_utf8_lossy(&v).parse().unwrap())
                            .unwrap_or(0);
                        tx.strings().set(b"n", (n + 1).to_string().as_bytes())?;
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(db.strings().get(b"n").unwrap().as_deref(), Some(&b"200"[..]), "{name}");
}

fn commands_by_name_give_redis_errors(backend: &Backend) {
    let name = backend.name();
    let db = backend.open("libtx_commands_by_name_giv");
    let reply = db.transaction(|tx| tx.command(&["OBJECT", "NOPE", "k"])).unwrap_err();
    assert_eq!(
        reply,
        Error::Redis("ERR unknown subcommand 'NOPE'. Try OBJECT HELP.".into()),
        "{name}"
    );
    // The library checks requests as the server does.
    assert_eq!(
        db.command(&["OBJECT", "NOPE", "k"]).unwrap_err(),
        Error::Redis("ERR unknown subcommand 'NOPE'. Try OBJECT HELP.".into()),
        "{name}"
    );
    assert_eq!(
        db.command(&["NOSUCH", "a"]).unwrap_err(),
        Error::Redis("ERR unknown command 'NOSUCH', with args beginning with: 'a' ".into()),
        "{name}"
    );
    let n = db.transaction(|tx| tx.command(&["INCRBY", "c", "5"])).unwrap();
    assert_eq!(n, redsql::resp::Reply::Int(5), "{name}");
}
