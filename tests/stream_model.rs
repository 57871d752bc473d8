//! Streams against a model: random XADD (explicit, `ms-*` and `*` ids, with
//! MAXLEN/MINID trimming), XDEL, XTRIM and XRANGE/XREVRANGE (inclusive and
//! exclusive bounds, COUNT) on a redsql stream and on a `BTreeMap`,
//! comparing the whole stream, XLEN and the key's existence after every
//! step, on every backend.

mod support;

use redsql::Db;
use redsql::resp::Reply;
use std::collections::BTreeMap;
use support::{Backend, XorShift, backend_tests};

type Id = (u64, u64);
type Model = BTreeMap<Id, String>;

fn run(db: &Db, args: &[String]) -> Reply {
    db.command(args).unwrap_or_else(|e| Reply::error(e.to_string()))
}

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not a bulk: {other:?}"),
    }
}

fn parse_id(s: &str) -> Id {
    let (ms, seq) = s.split_once('-').expect("ms-seq");
    (ms.parse().unwrap(), seq.parse().unwrap())
}

/// An XRANGE reply as (id, value of field `f`) pairs.
fn entries(reply: Reply) -> Vec<(Id, String)> {
    let Reply::Array(items) = reply else {
        return Vec::new();
    };
    items
        .into_iter()
        .map(|e| match e {
            Reply::Array(pair) => {
                let Reply::Array(fields) = &pair[1] else {
                    panic!("fields: {pair:?}")
                };
                (parse_id(&text(&pair[0])), text(&fields[1]))
            }
            other => panic!("not an entry: {other:?}"),
        })
        .collect()
}

fn s(parts: &[String]) -> Vec<String> {
    parts.to_vec()
}

/// A random bound: `-`, `+`, an id near the model's, incomplete or exclusive.
fn bound(rng: &mut XorShift, top: u64, start: bool) -> (String, Id, bool) {
    let ms = rng.range(0, top as i64 + 2) as u64;
    let seq = rng.range(0, 3) as u64;
    match rng.next() % 6 {
        0 => (
            if start { "-" } else { "+" }.into(),
            if start { (0, 0) } else { (u64::MAX, u64::MAX) },
            false,
        ),
        1 => (format!("{ms}"), (ms, if start { 0 } else { u64::MAX }), false),
        2 => (format!("({ms}-{seq}"), (ms, seq), true),
        _ => (format!("{ms}-{seq}"), (ms, seq), false),
    }
}

fn step(db: &Db, rng: &mut XorShift, model: &mut Model, last: &mut Id, exists: &mut bool, n: &mut u64) -> String {
    let top = last.0;
    *n += 1;
    let value = format!("v{n}");
    match rng.next() % 10 {
        0..=4 => {
            // XADD with an explicit id (sometimes too small), ms-*, or *.
            let (arg, want) = match rng.next() % 4 {
                0 => {
                    let ms = top + rng.range(0, 2) as u64;
                    let id = (ms, rng.range(0, 3) as u64);
                    (format!("{}-{}", id.0, id.1), (id > *last).then_some(id))
                }
                1 => {
                    let ms = top + rng.range(0, 2) as u64;
                    let id = if ms == last.0 { (ms, last.1 + 1) } else { (ms, 0) };
                    (format!("{ms}-*"), (id > *last).then_some(id))
                }
                // `*` (rarely: it jumps the ids to the clock).
                2 if rng.next().is_multiple_of(8) => ("*".to_string(), None),
                _ => {
                    let ms = top + rng.range(1, 3) as u64;
                    (format!("{ms}"), Some((ms, 0)))
                }
            };
            let mut args = vec!["XADD".to_string(), "s".into()];
            let trim = rng.next() % 4;
            let threshold = rng.range(0, 8);
            match trim {
                0 => args.extend(["MAXLEN".into(), "=".into(), threshold.to_string()]),
                1 => args.extend(["MINID".into(), format!("{}", top.saturating_sub(threshold as u64))]),
                _ => {}
            }
            args.extend([arg.clone(), "f".into(), value.clone()]);
            let reply = run(db, &args);
            let id = match (arg.as_str(), want) {
                ("*", _) => parse_id(&text(&reply)),
                (_, Some(id)) => {
                    assert_eq!(text(&reply), format!("{}-{}", id.0, id.1), "{args:?}");
                    id
                }
                (_, None) => {
                    assert_eq!(
                        reply,
                        Reply::error(
                            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                        ),
                        "{args:?}"
                    );
                    return format!("{args:?}");
                }
            };
            assert!(id > *last, "{args:?}: {id:?} after {last:?}");
            model.insert(id, value);
            *last = id;
            *exists = true;
            match trim {
                0 => {
                    while model.len() > threshold as usize {
                        model.pop_first();
                    }
                }
                1 => model.retain(|k, _| *k >= (top.saturating_sub(threshold as u64), 0)),
                _ => {}
            }
            format!("{args:?}")
        }
        5 | 6 => {
            let ids: Vec<Id> = (0..rng.range(1, 3))
                .map(
                    |_| match model.keys().nth(rng.range(0, model.len() as i64 + 1) as usize) {
                        Some(&k) if rng.coin() => k,
                        _ => (rng.range(0, top as i64 + 1) as u64, rng.range(0, 2) as u64),
                    },
                )
                .collect();
            let mut args = vec!["XDEL".to_string(), "s".into()];
            args.extend(ids.iter().map(|(a, b)| format!("{a}-{b}")));
            let mut gone = 0;
            for id in &ids {
                gone += i64::from(model.remove(id).is_some());
            }
            assert_eq!(run(db, &args), Reply::Int(gone), "{args:?}");
            format!("{args:?}")
        }
        7 => {
            let threshold = rng.range(0, 6);
            let (args, before) = if rng.coin() {
                let args = s(&["XTRIM".into(), "s".into(), "MAXLEN".into(), threshold.to_string()]);
                let before = model.len();
                while model.len() > threshold as usize {
                    model.pop_first();
                }
                (args, before)
            } else {
                let min = (top.saturating_sub(threshold as u64), 1);
                let args = s(&[
                    "XTRIM".into(),
                    "s".into(),
                    "MINID".into(),
                    format!("{}-{}", min.0, min.1),
                ]);
                let before = model.len();
                model.retain(|k, _| *k >= min);
                (args, before)
            };
            assert_eq!(run(db, &args), Reply::Int((before - model.len()) as i64), "{args:?}");
            format!("{args:?}")
        }
        _ => {
            let rev = rng.coin();
            let (a, mut lo, lo_ex) = bound(rng, top, true);
            let (b, mut hi, hi_ex) = bound(rng, top, false);
            let count = rng.range(-1, 4);
            let mut args = if rev {
                s(&["XREVRANGE".into(), "s".into(), b, a])
            } else {
                s(&["XRANGE".into(), "s".into(), a, b])
            };
            if count >= 0 {
                args.extend(["COUNT".into(), count.to_string()]);
            }
            if lo_ex {
                lo = if lo.1 == u64::MAX {
                    (lo.0 + 1, 0)
                } else {
                    (lo.0, lo.1 + 1)
                };
            }
            if hi_ex {
                hi = if hi.1 == 0 {
                    (hi.0.wrapping_sub(1), u64::MAX)
                } else {
                    (hi.0, hi.1 - 1)
                };
            }
            let reply = run(db, &args);
            if count == 0 && *exists {
                assert_eq!(reply, Reply::NilArray, "{args:?}");
                return format!("{args:?}");
            }
            let mut want: Vec<(Id, String)> = if lo <= hi {
                model.range(lo..=hi).map(|(k, v)| (*k, v.clone())).collect()
            } else {
                Vec::new()
            };
            if rev {
                want.reverse();
            }
            if count > 0 {
                want.truncate(count as usize);
            }
            assert_eq!(entries(reply), want, "{args:?}");
            format!("{args:?}")
        }
    }
}

fn random_operations_match_a_btreemap(backend: &Backend) {
    let db = backend.open("stream");
    {
        for seed in 1..=6u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            run(&db, &s(&["DEL".into(), "s".into()]));
            let (mut model, mut last, mut exists, mut n) = (Model::new(), (0, 0), false, 0);
            let mut history = Vec::new();
            for _ in 0..400 {
                history.push(step(&db, &mut rng, &mut model, &mut last, &mut exists, &mut n));
                let got = entries(run(&db, &s(&["XRANGE".into(), "s".into(), "-".into(), "+".into()])));
                let want: Vec<(Id, String)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
                let recent = &history[history.len().saturating_sub(5)..];
                assert_eq!(got, want, "seed {seed}, after {recent:?}");
                assert_eq!(
                    run(&db, &s(&["XLEN".into(), "s".into()])),
                    Reply::Int(model.len() as i64),
                    "seed {seed}, after {recent:?}"
                );
                assert_eq!(
                    run(&db, &s(&["EXISTS".into(), "s".into()])),
                    Reply::Int(i64::from(exists)),
                    "an emptied stream stays: seed {seed}, after {recent:?}"
                );
            }
        }
    }
}

backend_tests!(random_operations_match_a_btreemap: memory, postgres);
