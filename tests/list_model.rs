//! Lists against a model: random operations on a redsql list and on a
//! `VecDeque`, comparing the whole list after every step. Catches position
//! bookkeeping bugs (dense positions, shifts, renumbering) that hand-written
//! cases miss.

mod support;

use bytes::Bytes;
use redsql::Db;
use redsql::resp::Reply;
use std::collections::VecDeque;
use support::{Backend, XorShift, backend_tests};

fn run(db: &Db, args: &[String]) -> Reply {
    db.command(args).unwrap_or_else(|e| Reply::error(e.to_string()))
}

fn cmd(parts: &[&dyn ToString]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

fn bulks(reply: Reply) -> Vec<String> {
    match reply {
        Reply::Array(items) => items
            .into_iter()
            .map(|r| match r {
                Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        Reply::Nil | Reply::NilArray => Vec::new(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Resolves a Redis index (negative from the tail) against `len`.
fn resolve(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// One random operation applied to both; returns a description for failures.
fn step(db: &Db, rng: &mut XorShift, model: &mut VecDeque<String>) -> String {
    let len = model.len() as i64;
    let idx = rng.range(-len - 2, len + 2);
    match rng.next() % 20 {
        0..=5 => {
            let values: Vec<String> = (0..rng.range(1, 4)).map(|_| element(rng)).collect();
            let left = rng.coin();
            let mut args = vec![if left { "LPUSH" } else { "RPUSH" }.to_string(), "k".into()];
            args.extend(values.iter().cloned());
            for v in values {
                if left {
                    model.push_front(v);
                } else {
                    model.push_back(v);
                }
            }
            assert_eq!(run(db, &args), Reply::Int(model.len() as i64), "{args:?}");
            format!("{args:?}")
        }
        6 | 7 => {
            let n = rng.range(1, 3) as usize;
            let left = rng.coin();
            let args = cmd(&[&if left { "LPOP" } else { "RPOP" }, &"k", &n]);
            let want: Vec<String> = (0..n)
                .filter_map(|_| if left { model.pop_front() } else { model.pop_back() })
                .collect();
            assert_eq!(bulks(run(db, &args)), want, "{args:?}");
            format!("{args:?}")
        }
        8 | 9 => {
            let (pivot, value, after) = (element(rng), element(rng), rng.coin());
            let args = cmd(&[
                &"LINSERT",
                &"k",
                &if after { "AFTER" } else { "BEFORE" },
                &pivot,
                &value,
            ]);
            let want = match model.iter().position(|v| *v == pivot) {
                _ if model.is_empty() => 0,
                Some(p) => {
                    model.insert(if after { p + 1 } else { p }, value);
                    model.len() as i64
                }
                None => -1,
            };
            assert_eq!(run(db, &args), Reply::Int(want), "{args:?}");
            format!("{args:?}")
        }
        10 | 11 => {
            let (count, value) = (rng.range(-3, 3), element(rng));
            let args = cmd(&[&"LREM", &"k", &count, &value]);
            let positions: Vec<usize> = model
                .iter()
                .enumerate()
                .filter(|(_, v)| **v == value)
                .map(|(i, _)| i)
                .collect();
            let chosen: Vec<usize> = match count {
                0 => positions,
                c if c > 0 => positions.into_iter().take(c as usize).collect(),
                c => positions.into_iter().rev().take(c.unsigned_abs() as usize).collect(),
            };
            let mut i = 0;
            model.retain(|_| {
                i += 1;
                !chosen.contains(&(i - 1))
            });
            assert_eq!(run(db, &args), Reply::Int(chosen.len() as i64), "{args:?}");
            format!("{args:?}")
        }
        12 => {
            let (start, stop) = (idx, rng.range(-len - 2, len + 2));
            let args = cmd(&[&"LTRIM", &"k", &start, &stop]);
            let s = if start < 0 { (len + start).max(0) } else { start };
            let e = if stop < 0 { len + stop } else { stop.min(len - 1) };
            let kept: VecDeque<String> = if s > e || s >= len {
                VecDeque::new()
            } else {
                model.range(s as usize..=e as usize).cloned().collect()
            };
            *model = kept;
            assert_eq!(run(db, &args), Reply::ok(), "{args:?}");
            format!("{args:?}")
        }
        13 | 14 => {
            let value = element(rng);
            let args = cmd(&[&"LSET", &"k", &idx, &value]);
            let want = match resolve(idx, model.len()) {
                _ if model.is_empty() => Reply::error("ERR no such key"),
                Some(i) => {
                    model[i] = value;
                    Reply::ok()
                }
                None => Reply::error("ERR index out of range"),
            };
            assert_eq!(run(db, &args), want, "{args:?}");
            format!("{args:?}")
        }
        15 | 16 => {
            let (from_left, to_left) = (rng.coin(), rng.coin());
            let side = |left| if left { "LEFT" } else { "RIGHT" };
            let args = cmd(&[&"LMOVE", &"k", &"k", &side(from_left), &side(to_left)]);
            let v = if from_left { model.pop_front() } else { model.pop_back() };
            let want = match v {
                Some(v) => {
                    if to_left {
                        model.push_front(v.clone());
                    } else {
                        model.push_back(v.clone());
                    }
                    Reply::Bulk(Bytes::from(v))
                }
                None => Reply::Nil,
            };
            assert_eq!(run(db, &args), want, "{args:?}");
            format!("{args:?}")
        }
        17 => {
            let args = cmd(&[&"LINDEX", &"k", &idx]);
            let want = resolve(idx, model.len()).map_or(Reply::Nil, |i| Reply::Bulk(Bytes::from(model[i].clone())));
            assert_eq!(run(db, &args), want, "{args:?}");
            format!("{args:?}")
        }
        _ => {
            let (value, rank) = (element(rng), [1i64, 2, -1, -2][rng.range(0, 3) as usize]);
            let args = cmd(&[&"LPOS", &"k", &value, &"RANK", &rank, &"COUNT", &0]);
            let mut want: Vec<i64> = model
                .iter()
                .enumerate()
                .filter(|(_, v)| **v == value)
                .map(|(i, _)| i as i64)
                .collect();
            if rank < 0 {
                want.reverse();
            }
            let want: Vec<Reply> = want
                .into_iter()
                .skip(rank.unsigned_abs() as usize - 1)
                .map(Reply::Int)
                .collect();
            assert_eq!(run(db, &args), Reply::Array(want), "{args:?}");
            format!("{args:?}")
        }
    }
}

fn random_operations_match_a_vecdeque(backend: &Backend) {
    let db = backend.open("list");
    for seed in 1..=8u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut model: VecDeque<String> = VecDeque::new();
        run(&db, &cmd(&[&"DEL", &"k"]));
        let mut history = Vec::new();
        for _ in 0..600 {
            history.push(step(&db, &mut rng, &mut model));
            let got = bulks(run(&db, &cmd(&[&"LRANGE", &"k", &0, &-1])));
            let want: Vec<String> = model.iter().cloned().collect();
            assert_eq!(
                got,
                want,
                "seed {seed}, after {:?}",
                &history[history.len().saturating_sub(5)..]
            );
            let exists = run(&db, &cmd(&[&"EXISTS", &"k"]));
            assert_eq!(
                exists,
                Reply::Int(i64::from(!model.is_empty())),
                "empty lists are deleted"
            );
            assert_eq!(run(&db, &cmd(&[&"LLEN", &"k"])), Reply::Int(model.len() as i64));
        }
    }
}
backend_tests!(random_operations_match_a_vecdeque: memory, postgres);

fn lindex_in_a_large_list_matches_a_vec(backend: &Backend) {
    let db = backend.open("biglist");
    let n = 100_000;
    let model: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
    // Built from both ends so that positions are negative and positive.
    let mut args = vec!["LPUSH".to_string(), "big".into()];
    args.extend(model[..n / 2].iter().rev().cloned());
    assert_eq!(run(&db, &args), Reply::Int((n / 2) as i64));
    let mut args = vec!["RPUSH".to_string(), "big".into()];
    args.extend(model[n / 2..].iter().cloned());
    assert_eq!(run(&db, &args), Reply::Int(n as i64));
    for i in [0, 1, n / 2 - 1, n / 2, n / 2 + 1, 77_777, n - 1] {
        let got = run(&db, &cmd(&[&"LINDEX", &"big", &i]));
        assert_eq!(got, Reply::Bulk(Bytes::from(model[i].clone())), "LINDEX {i}");
        let from_tail = i as i64 - n as i64;
        let got = run(&db, &cmd(&[&"LINDEX", &"big", &from_tail]));
        assert_eq!(got, Reply::Bulk(Bytes::from(model[i].clone())), "LINDEX {from_tail}");
    }
    // A middle insert moves half the list; the index stays exact around it.
    assert_eq!(
        run(&db, &cmd(&[&"LINSERT", &"big", &"BEFORE", &"e50000", &"new"])),
        Reply::Int(n as i64 + 1)
    );
    let mid = bulks(run(&db, &cmd(&[&"LRANGE", &"big", &49_999, &50_001])));
    assert_eq!(mid, vec!["e49999", "new", "e50000"]);
    assert_eq!(
        run(&db, &cmd(&[&"LINDEX", &"big", &-1])),
        Reply::Bulk(Bytes::from(model[n - 1].clone()))
    );
}
backend_tests!(lindex_in_a_large_list_matches_a_vec: memory, postgres);

/// A value from a small alphabet, so that LREM/LINSERT/LPOS find matches.
fn element(rng: &mut XorShift) -> String {
    format!("v{}", rng.next() % 6)
}
