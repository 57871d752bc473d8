//! Differential tests: every script in `tests/diff/*.redis` runs against a
//! real redis-server and against redsql, in RESP2 and again in RESP3, and the
//! replies must be byte-for-byte identical. See `tests/diff/README.md`.
//!
//! Each script is a test of its own on each backend, named after it:
//! `lists::sqlite` and `lists::postgres` run `tests/diff/lists.redis`
//! (`cargo test --test differential lists` runs just those). The servers are
//! shared by this binary's tests: a test takes an idle pair (a redis-server
//! and a redsql) of its backend, or starts one if every pair is busy.

mod support;

use redsql::resp::request::split_args;
use std::path::PathBuf;
use support::backend::BackendServer;
use support::shared::Pool;
use support::{Backend, Server, show, start_redis, start_redsql};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    Exact,
    /// Compare an array reply as a multiset (order is unspecified).
    Sorted,
    /// Run on both, compare only the reply's type byte.
    TypeOnly,
    /// Run on both, do not compare.
    Ignore,
}

fn sorted_elements(reply: &[u8]) -> Vec<u8> {
    let Some((value, _)) = redsql::resp::value::parse(reply) else {
        return reply.to_vec();
    };
    let mut encoded: Vec<Vec<u8>> = match value {
        redsql::resp::Reply::Array(items) | redsql::resp::Reply::Set(items) => {
            items.iter().map(|r| r.to_bytes(3).to_vec()).collect()
        }
        // RESP3 maps (HGETALL, ...): sort the key/value pairs.
        redsql::resp::Reply::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| [k.to_bytes(3).to_vec(), v.to_bytes(3).to_vec()].concat())
            .collect(),
        _ => return reply.to_vec(),
    };
    encoded.sort();
    let mut out = reply[..1].to_vec();
    out.extend(encoded.concat());
    out
}

/// Runs one script on both servers with protocol `proto`; returns the mismatches.
fn run_script(name: &str, text: &str, redis: &Server, redsql: &Server, proto: u8) -> Vec<String> {
    let mut a = redis.conn();
    let mut b = redsql.conn();
    let mut failures = Vec::new();
    for c in [&mut a, &mut b] {
        c.cmd_str(&["FLUSHALL"]);
        if proto == 3 {
            c.cmd_str(&["HELLO", "3"]);
        }
    }
    let mut mode = Compare::Exact;
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(directive) = line.strip_prefix('!') {
            let mut words = directive.split_whitespace();
            match words.next() {
                Some("sort") => mode = Compare::Sorted,
                Some("type") => mode = Compare::TypeOnly,
                Some("ignore") => mode = Compare::Ignore,
                Some("sleep") => {
                    let ms: u64 = words.next().and_then(|w| w.parse().ok()).expect("!sleep <ms>");
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
                Some("resp2") if proto != 2 => return failures,
                Some("resp3") if proto != 3 => return failures,
                Some("resp2") | Some("resp3") => {}
                other => panic!("{name}:{}: unknown directive {other:?}", lineno + 1),
            }
            continue;
        }
        let args = split_args(line.as_bytes()).unwrap_or_else(|| panic!("{name}:{}: bad quoting", lineno + 1));
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let want = a.cmd(&argv);
        let got = b.cmd(&argv);
        let same = match mode {
            Compare::Exact => want == got,
            Compare::Sorted => sorted_elements(&want) == sorted_elements(&got),
            Compare::TypeOnly => want.first() == got.first(),
            Compare::Ignore => true,
        };
        if !same {
            failures.push(format!(
                "{name}:{} (RESP{proto}) {line}\n    redis:  {}\n    redsql: {}",
                lineno + 1,
                show(&want),
                show(&got)
            ));
        }
        mode = Compare::Exact;
    }
    failures
}

/// A real Redis and a redsql on one backend, running one script at a time.
struct Pair {
    redis: Server,
    redsql: BackendServer,
}

static SQLITE: Pool<Pair> = Pool::new();
static POSTGRES: Pool<Pair> = Pool::new();

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/diff")
}

/// Runs `tests/diff/{script}.redis` on the backend called `backend`, in
/// RESP2 and in RESP3, and fails with every mismatch.
fn run(script: &str, backend: &str) {
    let Some(backend) = Backend::named(backend, &format!("differential script {script} on {backend}")) else {
        return;
    };
    let name = format!("{script}.redis");
    let path = scripts_dir().join(&name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pool = if backend.is_postgres() { &POSTGRES } else { &SQLITE };
    let pair = pool.take(|| Pair {
        redis: start_redis(),
        redsql: backend.start("diff", &[]),
    });
    let mut failures = Vec::new();
    for proto in [2, 3] {
        failures.extend(run_script(&name, &text, &pair.redis, &pair.redsql, proto));
    }
    if !failures.is_empty() {
        // Not for the next script: a failed one may have left settings changed.
        pair.discard();
        panic!(
            "{} mismatches with real Redis on {}:\n{}",
            failures.len(),
            backend.name(),
            failures.join("\n")
        );
    }
}

/// `scripts!(a, b, ...)`: the tests `a::sqlite`, `a::postgres`, ... running
/// `tests/diff/a.redis`, ..., and `SCRIPTS`, the names listed.
macro_rules! scripts {
    ($($script:ident),+ $(,)?) => {
        const SCRIPTS: &[&str] = &[$(stringify!($script)),+];
        $(
            mod $script {
                #[test]
                fn sqlite() {
                    super::run(stringify!($script), "sqlite");
                }

                #[test]
                fn postgres() {
                    super::run(stringify!($script), "postgres");
                }
            }
        )+
    };
}

// Every script in tests/diff (`every_script_is_listed` checks).
scripts!(
    acl,
    admin,
    basics,
    bitmaps,
    blocking,
    connection,
    dump,
    expire,
    geo,
    hashes,
    hyperloglog,
    keys,
    lists,
    memory,
    pubsub,
    rmw,
    scripting,
    server,
    sets,
    sets_encoding,
    sets_keyspace,
    sort,
    streams,
    strings,
    transactions,
    zsets,
);

/// A script added to tests/diff but not to `scripts!` would never run.
#[test]
fn every_script_is_listed() {
    let mut found: Vec<String> = std::fs::read_dir(scripts_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "redis"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let unlisted: Vec<&String> = found.iter().filter(|f| !SCRIPTS.contains(&f.as_str())).collect();
    let missing: Vec<&&str> = SCRIPTS.iter().filter(|s| !found.iter().any(|f| f == *s)).collect();
    assert!(
        unlisted.is_empty(),
        "scripts in tests/diff missing from scripts!(...) in tests/differential.rs: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "listed in scripts!(...) but not in tests/diff: {missing:?}"
    );
}

/// Protocol errors: the same malformed input gets the same reply (and close) from both.
#[test]
fn protocol_errors_match_real_redis() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let cases: &[&[u8]] = &[
        b"*2\r\n$3\r\nGET\r\n$600000000\r\n",
        b"*x\r\n",
        b"*1\r\n:1\r\n",
        b"SET a \"b\r\n",
        b"*1\r\n$-1\r\n",
        b"*3000000000\r\n",
        b"GET\r\n",
        b"\r\n\r\nPING\r\n",
        b"*0\r\nPING\r\n",
        b"set k \"a\\x41\\n\" \r\nget k\r\n",
    ];
    let mut failures = Vec::new();
    for case in cases {
        let mut got = Vec::new();
        for s in [&redis, &redsql] {
            let mut c = s.conn();
            c.send_raw(case);
            c.stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut all = Vec::new();
            use std::io::Read;
            let _ = c.stream.read_to_end(&mut all);
            got.push(all);
        }
        if got[0] != got[1] {
            failures.push(format!(
                "input {}\n    redis:  {}\n    redsql: {}",
                show(case),
                show(&got[0]),
                show(&got[1])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
