//! redsql as a library: Redis data structures in a SQLite file, no server.
//!
//! Run with `cargo run --example embedded` (creates `example.db` in a temp dir).

use redsql::{Db, Error};

fn main() -> Result<(), Error> {
    let path = std::env::temp_dir().join("redsql-example.db");
    // Start from an empty database each run.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let db = Db::open(path.to_str().expect("utf-8 path"))?;

    // Typed handles per data type, with Redis's semantics.
    db.strings().set(b"greeting", b"hello")?;
    let value = db.strings().get(b"greeting")?;
    println!("greeting = {:?}", value.as_deref().map(String::from_utf8_lossy));

    // Any command is available by name, with Redis's reply.
    let reply = db.command(&["SET", "visits", "41"])?;
    println!("SET -> {reply:?}");
    println!("EXISTS greeting -> {}", db.keys().exists(b"greeting")?);

    // Lists, hashes, sets and sorted sets, each with its typed handle.
    db.lists().rpush(b"queue", &[b"job-1", b"job-2"])?;
    println!("queue = {:?}", db.lists().lrange(b"queue", 0, -1)?);
    db.hashes().hset(b"user:1", &[(b"name", b"Ada"), (b"lang", b"en")])?;
    println!("user:1 name = {:?}", db.hashes().hget(b"user:1", b"name")?);
    db.sets().sadd(b"tags", &[b"sql", b"redis"])?;
    println!("tags has sql: {}", db.sets().sismember(b"tags", b"sql")?);
    db.zsets().zadd(b"scores", &[(10.0, b"ada"), (7.5, b"bob")])?;
    println!("lowest first: {:?}", db.zsets().zrange(b"scores", 0, -1)?);

    // Logical databases, like SELECT.
    let other = db.select(1)?;
    other.strings().set(b"greeting", b"hi from db 1")?;
    println!("db 1 greeting = {:?}", other.strings().get(b"greeting")?);

    println!(
        "data is in {} (try: sqlite3 {} 'select * from vkey')",
        path.display(),
        path.display()
    );
    Ok(())
}
