//! Keyspace notifications, compared with real Redis 7.0.
//!
//! The same script of commands runs against redis-server and redsql, with
//! each `notify-keyspace-events` setting below. A subscriber connection
//! (PSUBSCRIBE `__key*@*__:*`) records every message it receives; between
//! commands the script publishes a marker naming the next command, so a
//! difference shows which command caused it. The two recordings, and every
//! reply, must be identical byte for byte.
//!
//! Script lines: a command, or `@block <command>` (sent on a second
//! connection without waiting for its reply: it blocks), `@unblock` (reads
//! that reply), `@sleep <ms>`. `#` starts a comment. A command after `?` has
//! a reply that may differ (random picks): only its events are compared.

mod support;

use redsql::resp::request::split_args;
use std::time::Duration;
use support::{Backend, RawConn, Server, backend_tests, show, start_redis, start_redsql};

/// Every command that reports events, with no-op cases that must report none.
const SCRIPT: &str = r#"
# strings
SET s v
SET s v2 KEEPTTL
SET s v EX 100
SET s v KEEPTTL
SET s v3 NX
SET s v4 XX GET
SET nx v XX
SET s v PX 100000 GET
SET s v EXAT 99999999999
SET s v PXAT 99999999999999
SETNX s v
SETNX s2 v
SETEX s3 100 v
PSETEX s4 100000 v
SETEX s3 0 v
GETSET s5 v
GETSET s5 w
GETDEL s5
GETDEL s5
GETEX s EX 100
GETEX s PX 100000
GETEX s EXAT 99999999999
GETEX s PXAT 99999999999999
GETEX s PERSIST
GETEX s PERSIST
GETEX s
GETEX nokey EX 10
GETEX s EXAT 1
GETEX s PXAT 1
MSET m1 a m2 b m1 c
MSETNX m1 a m3 b
MSETNX m3 a m4 b
APPEND ap x
APPEND ap y
APPEND ap ""
SETRANGE sr 0 hello
SETRANGE sr 10 x
SETRANGE sr 0 ""
SETRANGE nosr 0 ""
SETRANGE nosr 5 ""
INCR n
INCRBY n 5
DECR n
DECRBY n 2
INCRBYFLOAT n 1.5
INCRBYFLOAT f 2
INCR s
SET "bin\x00key" "\xff\x00"
APPEND "" e
# bitmaps
SETBIT b 7 1
SETBIT b 7 1
SETBIT b 100 0
SETBIT nb 0 0
BITOP AND dest b nb
BITOP OR dest b
BITOP AND dest nokey1 nokey2
BITOP AND dest nokey1 nokey2
BITFIELD bf SET u8 0 255
BITFIELD bf GET u8 0
BITFIELD bf INCRBY u8 0 1
BITFIELD bf OVERFLOW FAIL INCRBY u8 0 1000
BITFIELD bf2 GET u8 0
# keys
DEL s s2 nokey
DEL nokey
UNLINK s3 nokey
SET a 1
RENAME a b
RENAME b b
RENAMENX b c
SET d 1
RENAMENX c d
RENAME nokey x
SET x 1
EXPIRE x 100
PEXPIRE x 100000
EXPIREAT x 99999999999
PEXPIREAT x 99999999999999
EXPIRE x 100 NX
EXPIRE x 200 GT
EXPIRE x 10 LT
EXPIRE nokey 100
PERSIST x
PERSIST x
PERSIST nokey
EXPIRE x 0
SET x 1
EXPIRE x -5
SET x 1
PEXPIREAT x 1
SET x 1
EXPIREAT x 0
SET src hello
COPY src dst
COPY src dst
COPY src dst REPLACE
COPY src dst DB 1
COPY src dst DB 1 REPLACE
COPY nokey dst
MOVE src 2
MOVE src 2
SET src again
MOVE src 2
MOVE nokey 2
RPUSH l3 a b
RESTORE rs 0 "\x00\x05hello\n\x00cr\xdfve4 \n"
RESTORE rs 0 "\x00\x05hello\n\x00cr\xdfve4 \n"
RESTORE rs 0 "\x00\x05hello\n\x00cr\xdfve4 \n" REPLACE
RESTORE rs 100000 "\x00\x05hello\n\x00cr\xdfve4 \n" REPLACE
RESTORE rs2 99999999999999 "\x00\x05hello\n\x00cr\xdfve4 \n" ABSTTL
RESTORE rs3 1 "\x00\x05hello\n\x00cr\xdfve4 \n" ABSTTL
RESTORE rs2 1 "\x00\x05hello\n\x00cr\xdfve4 \n" ABSTTL REPLACE
RESTORE rs2 1 "\x00\x05hello\n\x00cr\xdfve4 \n" ABSTTL REPLACE
RESTORE rs "\x00\x05hello\n\x00cr\xdfve4 \n" bad
SORT l3 ALPHA STORE sorted
SORT l3 ALPHA STORE sorted
SORT nokey STORE sorted
SORT nokey STORE sorted
SORT_RO l3 ALPHA
# lists
LPUSH l a
LPUSH l b c
RPUSH l d
LPUSHX l e
RPUSHX l f
LPUSHX nol a
RPUSHX nol a
LINSERT l BEFORE a x
LINSERT l AFTER nomember y
LINSERT nol BEFORE a x
LSET l 0 z
LREM l 1 z
LREM l 1 notthere
LREM nol 0 a
LTRIM l 0 2
LTRIM l 0 -1
LPOP l
RPOP l
LPOP l 5
LPOP l
RPOP nol
RPUSH l0 a
LPOP l0 0
RPOP l0 0
LPOP nol 2
RPUSH l1 a b c
LMOVE l1 l2 LEFT RIGHT
LMOVE l1 l2 RIGHT LEFT
RPOPLPUSH l1 l2
RPOPLPUSH l1 l2
LMOVE l2 l2 LEFT RIGHT
LMPOP 2 nol l2 LEFT COUNT 1
LMPOP 2 nol l2 RIGHT COUNT 10
LMPOP 1 nol LEFT
RPUSH l4 a b c
LTRIM l4 5 10
RPUSH l5 a
LREM l5 0 a
RPUSH l6 a
LMOVE l6 l6 LEFT LEFT
# hashes
HSET h f v
HSET h f v g w
HSET h f v
HMSET h a 1
HSETNX h a 2
HSETNX h z 2
HSETNX nh z 2
HDEL h nofield
HDEL h f g
HDEL nokey f
HINCRBY h a 5
HINCRBY h2 a 5
HINCRBYFLOAT h a 1.5
HINCRBYFLOAT h3 a 1.5
HDEL h a z
HDEL h2 a nofield
# sets
SADD st a b
SADD st a
SADD st c
SREM st nomember
SREM st a
SREM nost a
SMOVE st st2 b
SMOVE st st2 nomember
SMOVE st st2 c
SMOVE nost st2 c
SADD st3 x
SMOVE st2 st3 b
SMOVE st3 st3 x
SPOP st3 0
SPOP nost
SPOP nost 3
SADD one x
SPOP one
SADD many x y z
?SPOP many 5
SADD many x y z
?SPOP many 2
?SPOP many
?SPOP many
SADD s1 a b c
SADD s2 b c d
SINTERSTORE si s1 s2
SINTERSTORE si s1 nost
SINTERSTORE si s1 nost
SUNIONSTORE su s1 s2
SUNIONSTORE su nost nost2
SDIFFSTORE sd s1 s2
SDIFFSTORE sd s1 s1
SDIFFSTORE sd s1 s1
SREM s1 a b c
# sorted sets
ZADD z 1 a 2 b
ZADD z 1 a
ZADD z 3 a
ZADD z XX 1 nomember
ZADD noz XX 1 a
ZADD z NX 1 a
ZADD z CH 5 a
ZADD z INCR 1 a
ZADD z NX INCR 1 a
ZADD z GT 1 a
ZINCRBY z 2 b
ZINCRBY z2 2 b
ZREM z nomember
ZREM z a
ZREM noz a
ZADD z 1 a 3 c 4 d 5 e
ZREMRANGEBYRANK z 0 0
ZREMRANGEBYRANK z 10 20
ZREMRANGEBYSCORE z 3 3
ZREMRANGEBYSCORE z 100 200
ZREMRANGEBYLEX z - (b
ZREMRANGEBYLEX z [x +
ZREMRANGEBYRANK noz 0 1
ZPOPMIN z
ZPOPMAX z
ZPOPMIN noz
ZPOPMAX z 10
ZPOPMIN z
ZADD z1 1 a 2 b
ZADD z2 2 b 3 c
ZUNIONSTORE zu 2 z1 z2
ZINTERSTORE zi 2 z1 z2
ZDIFFSTORE zd 2 z1 z2
ZDIFFSTORE zd 2 z1 z1
ZDIFFSTORE zd 2 z1 z1
ZINTERSTORE zi 2 z1 noz
ZUNIONSTORE zu 2 noz noz2
ZRANGESTORE zr z1 0 -1
ZRANGESTORE zr z1 5 10
ZRANGESTORE zr z1 5 10
ZMPOP 2 noz z1 MIN
ZMPOP 1 z1 MAX COUNT 5
ZMPOP 1 noz MAX
ZREMRANGEBYSCORE z2 -inf +inf
# hyperloglog
PFADD hl a b c
PFADD hl a
PFADD hl2
PFCOUNT hl
PFMERGE hl3 hl hl2
PFMERGE hl3 hl
PFDEBUG TODENSE hl
SET notanhll x
PFADD notanhll a
# geo
GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD geo 13.361389 38.115556 Palermo
GEOADD geo CH XX 13.361 38.115 Palermo
GEORADIUS geo 15 37 200 km STORE geo2
GEORADIUS geo 15 37 200 km STOREDIST geo2
GEORADIUSBYMEMBER geo Palermo 10 km STORE geo3
GEOSEARCHSTORE geo4 geo FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCHSTORE geo4 geo FROMLONLAT 0 0 BYRADIUS 1 km
GEOSEARCHSTORE geo5 nogeo FROMLONLAT 0 0 BYRADIUS 1 km
GEORADIUS nogeo 0 0 1 km STORE geo3
# overwrites and edge cases
SET r1 a
SET r2 b
RENAME r1 r2
BITFIELD bf3 OVERFLOW FAIL INCRBY u8 0 1000
SET g1 v GET
SADD sm1 a
SADD sm2 a
SMOVE sm1 sm2 a
ZADD zx GT 1 a
ZADD zx LT 1 a
ZINCRBY zx 0 a
SETBIT sb 3 0
SETBIT sb 3 1
INCRBYFLOAT g1 1
HSET hx f notanumber
HINCRBY hx f 1
HINCRBYFLOAT hx f 1
HINCRBY hx g 9223372036854775807
HINCRBY hx g 1
INCRBY big 9223372036854775807
INCR big
GETDEL sb
COPY r2 r2 DB 0
# wrong types: no events
SET str x
RPUSH lw a
LMOVE lw str LEFT LEFT
SMOVE sm2 str a
GETDEL lw
LPUSH str a
SADD str a
HSET str f v
ZADD str 1 a
INCR str
APPEND l1 x
# transactions
MULTI
SET t1 a
LPUSH t2 b
DEL t1
INCR t2
EXEC
MULTI
SET t3 x
DISCARD
# blocking pops, served by a later push
@block BLPOP bl 0
LPUSH bl a b
@unblock
@block BRPOP bl2 0
RPUSH bl2 x
@unblock
@block BLMOVE bl3 bl4 LEFT RIGHT 0
RPUSH bl3 y
@unblock
@block BRPOPLPUSH bl5 bl6 0
RPUSH bl5 y
@unblock
@block BLMPOP 0 2 bl7 bl8 LEFT COUNT 2
RPUSH bl8 a b c
@unblock
@block BZPOPMIN bz 0
ZADD bz 1 a
@unblock
@block BZPOPMAX bz2 0
ZADD bz2 1 a 2 b
@unblock
@block BZMPOP 0 1 bz3 MIN COUNT 5
ZADD bz3 1 a 2 b
@unblock
# blocking pops served at once
RPUSH bl a
BLPOP bl 1
ZADD bz 1 a
BZPOPMAX bz 1
# streams
XADD x 1-0 f v
XADD x 2-0 f v
XADD x NOMKSTREAM 3-0 f v
XADD nox NOMKSTREAM 1-0 f v
XADD x MAXLEN 2 4-0 f v
XADD x 1-0 f v
XDEL x 2-0 9-0
XDEL x 9-0
XTRIM x MAXLEN 1
XTRIM x MAXLEN 5
XSETID x 10-0
XGROUP CREATE x g 0
XGROUP CREATE x2 g $ MKSTREAM
XGROUP CREATE x g 0
XGROUP SETID x g 0
XGROUP CREATECONSUMER x g alice
XGROUP CREATECONSUMER x g alice
XREADGROUP GROUP g bob STREAMS x >
XREADGROUP GROUP g bob STREAMS x 0
XACK x g 4-0
XADD x 11-0 f v
XREADGROUP GROUP g bob STREAMS x >
XCLAIM x g carol 0 11-0
XAUTOCLAIM x g dave 0 0
XGROUP DELCONSUMER x g alice
XGROUP DELCONSUMER x g nobody
XGROUP DESTROY x g
XGROUP DESTROY x g
@block XREAD BLOCK 0 STREAMS xb $
XADD xb 1-0 f v
@unblock
XGROUP CREATE xb g $
@block XREADGROUP GROUP g c BLOCK 0 STREAMS xb >
XADD xb 2-0 f v
@unblock
DEL x x2 xb
# other databases
SELECT 3
SET k3 v
LPUSH l3 a
SWAPDB 3 4
SELECT 0
# flushes: no key events
FLUSHDB
SET k v
FLUSHALL
"#;

/// Key lookups that miss (`m`): which commands report `keymiss` and which
/// do not, with errors before and after the lookups, in MULTI, and in the
/// writer's batches (a read pipelined with writes).
const KEYMISS_SCRIPT: &str = r#"
SET str x
RPUSH lst a
SADD st a
ZADD zs 1 a
HSET hs f v
GET m1
GET str
GET lst
MGET m1 str m2 m1
MGET lst m1
EXISTS m1 m2 str
TYPE m1
TTL m1
PTTL m1
EXPIRETIME m1
PEXPIRETIME m1
OBJECT ENCODING m1
OBJECT FREQ m1
OBJECT IDLETIME m1
OBJECT REFCOUNT m1
DUMP m1
DUMP str
TOUCH m1 str m2
STRLEN m1
GETRANGE m1 0 1
GETRANGE m1 a b
SUBSTR m1 0 1
GETDEL m1
GETEX m1
GETEX m1 PERSIST
GETSET m1 v
SET m2 v GET
SET m3 v NX GET
SET m4 v
SET lst v GET
INCR m5
APPEND m6 x
SETRANGE m7 0 x
LCS m8 m9
LCS str m9
LCS m8 str
BITCOUNT m8
BITPOS m8 1
GETBIT m8 0
BITFIELD_RO m8 GET u8 0
BITFIELD m8 GET u8 0
BITFIELD m8 OVERFLOW SAT GET u8 0
BITFIELD m8 SET u8 0 1
DEL m8
BITOP AND d m8 m9
BITOP OR d str m9
LLEN m1
LRANGE m1 0 -1
LINDEX m1 0
LPOS m1 a
LPOP m1
LMOVE m1 d LEFT LEFT
RPOPLPUSH m1 d
LMPOP 2 m1 m2 LEFT
LPUSHX m1 a
LINSERT m1 BEFORE a b
SCARD m1
SMEMBERS m1
SISMEMBER m1 a
SMISMEMBER m1 a
SRANDMEMBER m1
SRANDMEMBER m1 2
SRANDMEMBER m1 x
SINTER m1 m2
SINTER st m1 m2
SINTER m1 str m2
SINTERCARD 2 m1 m2
SUNION m1 m2
SDIFF m1 m2
SDIFF st m1
SINTERSTORE d m1 m2
SUNIONSTORE d m1 st
SDIFFSTORE d st m1
SMOVE m1 m2 a
SPOP m1
SREM m1 a
SSCAN m1 0
HGET m1 f
HGET str f
HMGET m1 f
HGETALL m1
HKEYS m1
HVALS m1
HLEN m1
HEXISTS m1 f
HSTRLEN m1 f
HRANDFIELD m1
HSCAN m1 0
HINCRBY m10 f 1
HDEL m1 f
ZSCORE m1 a
ZMSCORE m1 a
ZCARD m1
ZCOUNT m1 0 1
ZLEXCOUNT m1 - +
ZRANGE m1 0 -1
ZRANGE m1 a b
ZRANGEBYSCORE m1 0 1
ZREVRANGE m1 0 1
ZRANK m1 a
ZREVRANK m1 a
ZRANDMEMBER m1
ZSCAN m1 0
ZINTER 2 m1 m2
ZUNION 2 m1 zs
ZDIFF 2 zs m1
ZINTERCARD 2 m1 m2
ZINTERSTORE d 2 m1 m2
ZUNIONSTORE d 2 m1 zs
ZRANGESTORE d m1 0 -1
ZPOPMIN m1
ZMPOP 1 m1 MIN
ZREM m1 a
ZINCRBY m11 1 a
SORT m1
SORT_RO m1
SORT m1 STORE d
SORT lst STORE d
COPY m1 d
COPY str d2
RENAME m1 d
MOVE m1 3
EXPIRE m1 10
PERSIST m1
DEL m1 m2
UNLINK m1
KEYS zz*
SCAN 0 MATCH zz* COUNT 1000
DBSIZE
WATCH m1
UNWATCH
SELECT 2
GET m1
SELECT 0
MULTI
GET m1
SET m1 v
GET m1
DEL m1
LLEN m1
EXEC
PFCOUNT nohll
PFCOUNT nohll nohll2
PFMERGE nohll3 nohll4
PFADD nohll5 a
GEOPOS nogeo a
GEODIST nogeo a b
GEOHASH nogeo a
GEOSEARCH nogeo FROMLONLAT 0 0 BYRADIUS 1 km
GEOSEARCHSTORE nogeo2 nogeo FROMLONLAT 0 0 BYRADIUS 1 km
GEORADIUS nogeo 0 0 1 km
GEORADIUS nogeo 0 0 1 km STORE nogeo3
GEORADIUS_RO nogeo 0 0 1 km
GEORADIUSBYMEMBER nogeo m 1 km
GEORADIUSBYMEMBER_RO nogeo m 1 km
GEOADD nogeo4 1 2 m
MULTI
GET m20
GET m21
EXEC
"#;

/// `notify-keyspace-events` settings for [`KEYMISS_SCRIPT`].
const KEYMISS_SETTINGS: &[&str] = &["KEm", "Km", "Em", "m", "KEA", "KEAm", "Egm"];

/// `notify-keyspace-events` settings: everything, one class, one channel
/// kind, `A` without `K`/`E` (nothing at all), and `new` events.
const SETTINGS: &[&str] = &["KEA", "El", "Kx", "Eg$", "A", "KEAn", "Ksh", "Ez", "KEn", "Kd", "Et"];

/// What one server did: every reply and every message, in order.
struct Recording {
    replies: Vec<String>,
    messages: Vec<String>,
}

/// A pmessage frame as `channel => message`, or the raw frame otherwise.
fn describe(frame: &[u8]) -> String {
    match redsql::resp::value::parse(frame) {
        Some((redsql::resp::Reply::Array(items), _)) | Some((redsql::resp::Reply::Push(items), _))
            if items.len() == 4 =>
        {
            let text = |r: &redsql::resp::Reply| match r {
                redsql::resp::Reply::Bulk(b) => show(b),
                other => show(&other.to_bytes(2)),
            };
            format!("{} => {}", text(&items[2]), text(&items[3]))
        }
        _ => show(frame),
    }
}

fn args_of(line: &str) -> Vec<Vec<u8>> {
    split_args(line.as_bytes()).unwrap_or_else(|| panic!("bad script line: {line}"))
}

/// Sends `lines` (the last one a PING) as one pipeline and shows every frame
/// that comes back, up to and including the PONG.
fn pipeline_until_pong(c: &mut RawConn, lines: &[&str]) -> String {
    let mut bytes = Vec::new();
    for line in lines {
        let args = args_of(line);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        bytes.extend(RawConn::encode(&refs));
    }
    c.send_raw(&bytes);
    let mut out = String::new();
    loop {
        let frame = c.read_reply();
        out.push_str(&show(&frame));
        if frame.is_empty() || frame == b"+PONG\r\n" {
            return out;
        }
    }
}

fn send(conn: &mut RawConn, line: &str) -> Vec<u8> {
    let args = args_of(line);
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    conn.cmd(&refs)
}

/// Runs `script` on `server` with `flags` and records what happened.
fn record(server: &Server, flags: &str, script: &str) -> Recording {
    let mut cmd = server.conn();
    let mut blocked = server.conn();
    let mut sub = server.conn();
    assert_eq!(cmd.cmd_str(&["FLUSHALL"]), b"+OK\r\n");
    let reply = cmd.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]);
    let mut replies = vec![format!("CONFIG SET {flags:?}: {}", show(&reply))];
    if !reply.starts_with(b"+") {
        return Recording {
            replies,
            messages: Vec::new(),
        };
    }
    sub.cmd_str(&["PSUBSCRIBE", "__key*@*__:*"]);
    let mut in_multi = false;
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A marker naming the command, so differences are easy to place
        // (not inside MULTI, where it would be queued, nor before the reply of
        // a blocked client: redsql serves it just after the write that woke
        // it has been answered, Redis just before).
        if !in_multi && line != "@unblock" {
            cmd.cmd_str(&["PUBLISH", "__keyevent@99__:mark", line]);
        }
        match line {
            "MULTI" => in_multi = true,
            "EXEC" | "DISCARD" => in_multi = false,
            _ => {}
        }
        if let Some(rest) = line.strip_prefix("@block ") {
            let args = args_of(rest);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            blocked.send_raw(&RawConn::encode(&refs));
            std::thread::sleep(Duration::from_millis(150));
        } else if line == "@unblock" {
            replies.push(format!("{line}: {}", show(&blocked.read_reply())));
        } else if let Some(ms) = line.strip_prefix("@sleep ") {
            std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
        } else if let Some(line) = line.strip_prefix('?') {
            send(&mut cmd, line);
        } else {
            replies.push(format!("{line}: {}", show(&send(&mut cmd, line))));
        }
    }
    cmd.cmd_str(&["PUBLISH", "__keyevent@99__:end", "end"]);
    let mut messages = Vec::new();
    loop {
        let frame = sub.read_reply();
        assert!(!frame.is_empty(), "subscriber connection closed");
        let m = describe(&frame);
        if m.contains("__keyevent@99__:end") {
            break;
        }
        messages.push(m);
    }
    let _ = cmd.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    Recording { replies, messages }
}

/// Asserts two recordings are identical, showing the first difference.
fn assert_same(what: &str, redis: &[String], redsql: &[String]) {
    for (i, (a, b)) in redis.iter().zip(redsql).enumerate() {
        if a != b {
            let from = i.saturating_sub(8);
            panic!(
                "{what}: first difference at #{i}\n  redis:  {a}\n  redsql: {b}\ncontext (redis):\n  {}\ncontext (redsql):\n  {}",
                redis[from..(i + 8).min(redis.len())].join("\n  "),
                redsql[from..(i + 8).min(redsql.len())].join("\n  "),
            );
        }
    }
    assert_eq!(
        redis.len(),
        redsql.len(),
        "{what}: lengths differ; redis tail: {:?}; redsql tail: {:?}",
        &redis[redsql.len().min(redis.len())..],
        &redsql[redis.len().min(redsql.len())..]
    );
}

/// Runs `f` on Redis and on redsql at the same time (the scripts wait for
/// blocked clients and expiries: the two servers wait together).
fn on_both<T: Send>(redis: &Server, redsql: &Server, f: impl Fn(&Server) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let theirs = s.spawn(|| f(redis));
        let ours = f(redsql);
        (theirs.join().expect("the recording on Redis"), ours)
    })
}

fn compare(flags: &str, script: &str, redis: &Server, redsql: &Server) {
    let (a, b) = on_both(redis, redsql, |s| record(s, flags, script));
    assert_same(&format!("replies with {flags:?}"), &a.replies, &b.replies);
    assert_same(&format!("messages with {flags:?}"), &a.messages, &b.messages);
}

/// On both backends: each has its own writer and sweeper SQL.
fn every_command_notifies_as_redis_does(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("notify", &[]);
    if let Ok(path) = std::env::var("NOTIFY_DUMP") {
        for flags in SETTINGS {
            let r = record(&redis, flags, SCRIPT);
            let _ = std::fs::write(format!("{path}.{}", flags.replace('$', "S")), r.messages.join("\n"));
        }
    }
    for flags in SETTINGS {
        compare(flags, SCRIPT, &redis, &redsql);
    }
}
backend_tests!(every_command_notifies_as_redis_does: sqlite, postgres);

#[test]
fn key_misses_notify_as_redis_does() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    for flags in KEYMISS_SETTINGS {
        compare(flags, KEYMISS_SCRIPT, &redis, &redsql);
    }
    // Every command of the main script, with misses reported too.
    compare("KEAm", SCRIPT, &redis, &redsql);
}

#[test]
fn invalid_settings_are_refused_as_redis_does() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    for flags in ["xyz", "KE!", "KEA ", "nd tex", "\u{e9}"] {
        compare(flags, "", &redis, &redsql);
    }
    for set in ["KEA", "Eg$", "An", "KEn", "g$lshzxetd", "ndtexlE", "", "Am", "AKEm"] {
        let read = |s: &Server| {
            let mut c = s.conn();
            c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", set]);
            c.cmd_str(&["CONFIG", "GET", "notify-keyspace-events"])
        };
        assert_eq!(show(&read(&redis)), show(&read(&redsql)), "CONFIG GET after {set:?}");
    }
}

/// Keys deleted by expiry send `expired`. When and in which order differ
/// (Redis samples keys at random), so the messages are compared as a set,
/// without the markers.
fn expired_keys_notify(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("notify_expiry", &[]);
    compare_expiry(&redis, &redsql, EXPIRY_SCRIPT, &["KEA", "Ex", "Kg", "KEx", "KEAn"]);
}
backend_tests!(expired_keys_notify: sqlite, postgres);

/// Keys of every kind that expire soon (or at once), in two databases.
const EXPIRY_SCRIPT: &str = "
    SET e1 v PX 50
    RPUSH e2 a
    PEXPIRE e2 50
    SET e3 v PX 100000
    SET e5 v PXAT 1
    SELECT 5
    SET e4 v PX 60
    SADD e6 a
    PEXPIREAT e6 1
    HSET e7 f v
    EXPIRE e7 1
    SELECT 0
    @sleep 2000
";

/// Runs an expiry script with each setting; compares the messages as a set.
fn compare_expiry(redis: &Server, redsql: &Server, script: &str, settings: &[&str]) {
    for flags in settings {
        let unordered = |s: &Server| {
            let r = record(s, flags, script);
            let mut m: Vec<String> = r.messages.into_iter().filter(|m| !m.contains("@99__")).collect();
            m.sort();
            (r.replies, m)
        };
        let (a, b) = on_both(redis, redsql, unordered);
        assert_same(&format!("replies with {flags:?}"), &a.0, &b.0);
        assert_same(&format!("messages with {flags:?}"), &a.1, &b.1);
    }
}

/// A RESP3 client subscribed on the connection that runs the command gets
/// the event before the command's reply, as in Redis.
#[test]
fn events_precede_the_reply_on_the_same_connection() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let run = |s: &Server| {
        let mut c = s.conn();
        c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        c.cmd_str(&["HELLO", "3"]);
        let mut out = show(&c.cmd_str(&["SUBSCRIBE", "__keyevent@0__:set", "__keyspace@0__:k"]));
        out.push_str(&show(&c.read_reply()));
        for line in ["SET k v", "GET k", "DEL k", "SET other v", "INCR k", "SET k 1"] {
            out.push_str(&format!("\n{line}: "));
            out.push_str(&pipeline_until_pong(&mut c, &[line, "PING"]));
        }
        c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", ""]);
        out
    };
    assert_eq!(run(&redis), run(&redsql));
}

/// A RESP3 client subscribed to the events of its own commands, sending
/// them in one pipeline or in MULTI/EXEC: each command's messages come right
/// around its reply (most commands notify then reply, some reply first) or
/// inside it (MGET's misses, ZPOPMIN's pops), inside EXEC's array reply too
/// (Redis writes the array's header, then each command's messages and reply
/// as it runs). Compared byte for byte, with exact channels, patterns (a
/// message per match) and `keymiss` events.
#[test]
fn own_events_interleave_with_pipelined_and_exec_replies() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let pipelines: &[&[&str]] = &[
        &["SET k v", "GET k", "SET k2 v", "DEL k k2", "GET k", "INCR n", "PING"],
        &[
            "MULTI",
            "SET k v",
            "GET nokey",
            "LPUSH l a",
            "GET k",
            "DEL k l",
            "EXEC",
            "PING",
        ],
        &["MULTI", "GET nokey", "EXEC", "GET nokey", "SET nokey 1", "PING"],
        &["MULTI", "SET a 1", "PUBLISH own hello", "SET b 2", "EXEC", "PING"],
        &["RPUSH l a b", "LPOP l", "LPOP l", "LPOP l", "GET x", "PING"],
        &[
            "HSET h f v",
            "ZADD z 1 a",
            "LPUSH l1 a b",
            "LMOVE l1 l2 LEFT RIGHT",
            "RPOPLPUSH l1 l2",
            "PING",
        ],
        &[
            "SADD s a",
            "SPOP s 5",
            "SET k v GET",
            "GETDEL k",
            "SET k v",
            "EXPIRE k 100",
            "PING",
        ],
        &[
            "SADD s1 a",
            "SINTERSTORE d s1 nos",
            "SUNIONSTORE d s1",
            "SDIFFSTORE d s1 s1",
            "PING",
        ],
        &[
            "MULTI",
            "RPUSH l a",
            "LSET l 0 b",
            "GETSET g v",
            "HINCRBY h f 1",
            "EXEC",
            "PING",
        ],
        &[
            "SET k v",
            "MGET x k y x",
            "ZADD z 1 a 2 b 3 c 4 d",
            "ZPOPMIN z",
            "ZPOPMAX z 1",
            "PING",
        ],
        &[
            "XADD x 1-0 f v",
            "XADD x MAXLEN 0 2-0 f v",
            "XDEL x 2-0",
            "XGROUP CREATE x g $",
            "XGROUP SETID x g 0",
            "XGROUP CREATECONSUMER x g c",
            "XGROUP DELCONSUMER x g c",
            "XSETID x 5-0",
            "XGROUP DESTROY x g",
            "XGROUP CREATE y g $ MKSTREAM",
            "PING",
        ],
        &[
            "ZMPOP 1 z MIN",
            "ZPOPMAX z 5",
            "MULTI",
            "ZADD z 1 a",
            "MGET k x",
            "ZPOPMIN z",
            "EXEC",
            "PING",
        ],
        // Blocking pops served at once: the reply first (or the members'
        // array header, for the sorted-set pops), then the pop's messages.
        &[
            "RPUSH bl a b c d",
            "BLPOP bl 0",
            "BRPOP bl 0",
            "BLMOVE bl bl2 LEFT RIGHT 0",
            "BLMPOP 0 1 bl LEFT COUNT 5",
            "ZADD bz 1 a 2 b 3 c",
            "BZPOPMIN bz 0",
            "BZMPOP 0 1 bz MAX COUNT 5",
            "PING",
        ],
    ];
    let run = |s: &Server, flags: &str| {
        let mut c = s.conn();
        c.cmd_str(&["FLUSHALL"]);
        c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]);
        c.cmd_str(&["HELLO", "3"]);
        let mut out = String::new();
        c.send_raw(&RawConn::encode(&[
            b"SUBSCRIBE",
            b"__keyevent@0__:set",
            b"__keyspace@0__:k",
            b"own",
        ]));
        c.send_raw(&RawConn::encode(&[b"PSUBSCRIBE", b"__key*@0__:*"]));
        for _ in 0..4 {
            out.push_str(&show(&c.read_reply()));
        }
        for pipeline in pipelines {
            out.push_str(&format!("\n{pipeline:?}: "));
            out.push_str(&pipeline_until_pong(&mut c, pipeline));
        }
        c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", ""]);
        out
    };
    for flags in ["KEA", "KEAm", "Km", "E$"] {
        assert_eq!(run(&redis, flags), run(&redsql, flags), "with {flags}");
    }
}
