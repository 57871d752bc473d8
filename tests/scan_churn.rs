//! SSCAN, ZSCAN and HSCAN keep their guarantee while the collection changes
//! between pages: every element present for the whole scan is returned, and
//! cursors only grow. Runs on SQLite and, when `REDSQL_TEST_POSTGRES_URL` is
//! set, on PostgreSQL.

mod support;

use bytes::Bytes;
use redsql::Db;
use redsql::resp::Reply;
use std::collections::HashSet;
use support::{Backend, XorShift, backend_tests};

/// One collection type as the scan test drives it.
struct Kind {
    name: &'static str,
    /// The command adding one element: `[CMD, key, ...before, element, ...after]`.
    add: fn(&str) -> Vec<String>,
    remove: &'static str,
    scan: &'static str,
    /// Whether scan pages interleave elements with values/scores.
    pairs: bool,
}

const KINDS: [Kind; 3] = [
    Kind {
        name: "set",
        add: |m| vec!["SADD".into(), "big".into(), m.into()],
        remove: "SREM",
        scan: "SSCAN",
        pairs: false,
    },
    Kind {
        name: "zset",
        add: |m| vec!["ZADD".into(), "big".into(), (m.len() % 7).to_string(), m.into()],
        remove: "ZREM",
        scan: "ZSCAN",
        pairs: true,
    },
    Kind {
        name: "hash",
        add: |m| vec!["HSET".into(), "big".into(), m.into(), "v".into()],
        remove: "HDEL",
        scan: "HSCAN",
        pairs: true,
    },
];

fn run(db: &Db, args: &[String]) -> Reply {
    db.command(args).unwrap_or_else(|e| panic!("{args:?}: {e:?}"))
}

/// The next cursor and the elements of one scan page.
fn page(reply: Reply, pairs: bool) -> (u64, Vec<Bytes>) {
    let Reply::Array(mut parts) = reply else {
        panic!("scan reply {reply:?}")
    };
    let (Some(Reply::Array(items)), Some(Reply::Bulk(cursor))) = (parts.pop(), parts.pop()) else {
        panic!("scan reply parts")
    };
    let cursor = std::str::from_utf8(&cursor).unwrap().parse().unwrap();
    let step = if pairs { 2 } else { 1 };
    let elements = items
        .into_iter()
        .step_by(step)
        .map(|r| match r {
            Reply::Bulk(b) => b,
            other => panic!("scan element {other:?}"),
        })
        .collect();
    (cursor, elements)
}

fn scan_under_churn(db: &Db, kind: &Kind, backend: &str) {
    let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    for m in &stable {
        run(db, &(kind.add)(m));
    }
    let mut rng = XorShift(11);
    let mut churn: Vec<String> = Vec::new();
    let mut seen: HashSet<Bytes> = HashSet::new();
    let (mut cursor, mut pages) = (0u64, 0);
    loop {
        let reply = run(
            db,
            &[
                kind.scan.into(),
                "big".into(),
                cursor.to_string(),
                "COUNT".into(),
                "37".into(),
            ],
        );
        let (next, elements) = page(reply, kind.pairs);
        seen.extend(elements);
        pages += 1;
        // Between pages: add elements, and remove some of the added ones.
        for _ in 0..20 {
            let m = format!("churn:{}", rng.next());
            run(db, &(kind.add)(&m));
            churn.push(m);
        }
        for _ in 0..15 {
            if churn.is_empty() {
                break;
            }
            let m = churn.swap_remove(rng.below(churn.len()));
            assert_eq!(
                run(db, &[kind.remove.into(), "big".into(), m]),
                Reply::Int(1),
                "{backend} {}",
                kind.name
            );
        }
        if next == 0 {
            break;
        }
        assert!(next > cursor, "{backend} {}: cursors increase", kind.name);
        cursor = next;
    }
    assert!(pages > 50, "{backend} {}: the scan took {pages} pages", kind.name);
    let missing: Vec<&String> = stable.iter().filter(|m| !seen.contains(m.as_bytes())).collect();
    assert!(
        missing.is_empty(),
        "{backend} {}: missed by the scan: {missing:?}",
        kind.name
    );
    run(db, &["DEL".into(), "big".into()]);
}

fn scans_return_every_element_present_for_the_whole_scan(backend: &Backend) {
    let db = backend.open("scan");
    for kind in &KINDS {
        scan_under_churn(&db, kind, backend.name());
    }
}
backend_tests!(scans_return_every_element_present_for_the_whole_scan: memory, postgres);
