//! `Db::transaction`: atomic, isolated closures with the typed handles
//! inside, on SQLite (file and `:memory:`) and PostgreSQL.

use redsql::{Db, Error};
use std::sync::Arc;

/// Each backend to test: a SQLite file, `:memory:`, and PostgreSQL when
/// `REDSQL_TEST_POSTGRES_URL` is set (a schema of its own).
fn backends(name: &str) -> Vec<(String, Db)> {
    let dir = std::env::temp_dir().join(format!("redsql-tx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![
        (
            "sqlite file".to_string(),
            Db::open(dir.join("t.db").to_str().unwrap()).unwrap(),
        ),
        ("sqlite :memory:".to_string(), Db::open(":memory:").unwrap()),
    ];
    match std::env::var("REDSQL_TEST_POSTGRES_URL") {
        Ok(url) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let db = Db::open(&format!("{url}{sep}schema=libtx_{name}")).unwrap();
            db.command(&["FLUSHALL"]).unwrap();
            out.push(("postgresql".to_string(), db));
        }
        Err(_) => eprintln!("REDSQL_TEST_POSTGRES_URL not set: PostgreSQL skipped"),
    }
    out
}

#[test]
fn a_transaction_commits_everything_and_returns_its_value() {
    for (name, db) in backends("commit") {
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
}

#[test]
fn an_error_rolls_back_everything_the_closure_did() {
    for (name, db) in backends("rollback") {
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
}

#[test]
fn a_redis_error_that_is_not_passed_on_does_not_abort() {
    for (name, db) in backends("ignored") {
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
}

/// Read-modify-write with GET then SET, from several threads at once: no
/// increment is lost, because each transaction is isolated.
#[test]
fn transactions_are_isolated_from_each_other() {
    for (name, db) in backends("isolated") {
        let db = Arc::new(db);
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
}

#[test]
fn commands_by_name_run_in_the_transaction_with_redis_errors() {
    for (name, db) in backends("byname") {
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
}
