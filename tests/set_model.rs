//! Randomized model test of the set commands: thousands of random SADD, SREM,
//! SPOP, SMOVE, SINTER/SUNION/SDIFF (and their STORE forms) and SINTERCARD
//! calls against redsql, checked after every step against `HashSet` models.
//! A string key takes part, for WRONGTYPE and for STORE overwriting it.

mod support;

use bytes::Bytes;
use redsql::Db;
use redsql::resp::Reply;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use support::{Backend, XorShift, backend_tests};

const KEYS: [&str; 5] = ["k0", "k1", "k2", "k3", "str"];
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str,
    Set(HashSet<Vec<u8>>),
}

type Model = BTreeMap<&'static str, Value>;

fn member(rng: &mut XorShift) -> Vec<u8> {
    // A small domain so that members collide across sets; some binary ones.
    match rng.below(20) {
        0 => Vec::new(),
        1 => vec![0, 255],
        n => format!("m{n}").into_bytes(),
    }
}

fn key(rng: &mut XorShift) -> &'static str {
    KEYS[rng.below(KEYS.len())]
}

fn run(db: &Db, args: &[Vec<u8>]) -> Result<Reply, String> {
    db.command(args).map_err(|e| e.to_string())
}

fn items(reply: Reply) -> Vec<Vec<u8>> {
    match reply {
        Reply::Array(v) | Reply::Set(v) => v
            .into_iter()
            .map(|r| match r {
                Reply::Bulk(b) => b.to_vec(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not a collection: {other:?}"),
    }
}

/// The operands of a multi-key command: WRONGTYPE if any is a string,
/// missing keys as empty sets.
fn operands(model: &Model, keys: &[&str]) -> Result<Vec<HashSet<Vec<u8>>>, String> {
    keys.iter()
        .map(|k| match model.get(k) {
            Some(Value::Str) => Err(WRONGTYPE.to_string()),
            Some(Value::Set(s)) => Ok(s.clone()),
            None => Ok(HashSet::new()),
        })
        .collect()
}

fn algebra(op: &str, sets: &[HashSet<Vec<u8>>]) -> HashSet<Vec<u8>> {
    let mut it = sets.iter();
    let first = it.next().cloned().unwrap_or_default();
    it.fold(first, |acc, s| match op {
        "SINTER" => acc.intersection(s).cloned().collect(),
        "SUNION" => acc.union(s).cloned().collect(),
        _ => acc.difference(s).cloned().collect(),
    })
}

fn sorted(v: impl IntoIterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

fn check_state(db: &Db, model: &Model, step: usize) {
    for k in KEYS {
        let got = run(db, &[b"SMEMBERS".to_vec(), k.as_bytes().to_vec()]);
        match model.get(k) {
            Some(Value::Str) => assert_eq!(got, Err(WRONGTYPE.to_string()), "step {step} {k}"),
            Some(Value::Set(s)) => {
                assert!(!s.is_empty(), "model keeps an empty set at step {step}");
                let got = items(got.unwrap());
                assert_eq!(got.len(), s.len(), "duplicates in SMEMBERS {k} at step {step}");
                assert_eq!(sorted(got), sorted(s.iter().cloned()), "step {step} {k}");
                let card = run(db, &[b"SCARD".to_vec(), k.as_bytes().to_vec()]);
                assert_eq!(card, Ok(Reply::Int(s.len() as i64)), "step {step} {k}");
            }
            None => {
                assert_eq!(items(got.unwrap()), Vec::<Vec<u8>>::new(), "step {step} {k}");
                let exists = run(db, &[b"EXISTS".to_vec(), k.as_bytes().to_vec()]);
                assert_eq!(exists, Ok(Reply::Int(0)), "step {step} {k}");
            }
        }
    }
}

/// Replaces a set in the model, dropping it when empty (as Redis deletes empty sets).
fn put(model: &mut Model, key: &'static str, set: HashSet<Vec<u8>>) {
    if set.is_empty() {
        model.remove(key);
    } else {
        model.insert(key, Value::Set(set));
    }
}

fn step(db: &Db, model: &mut Model, rng: &mut XorShift) {
    let k = key(rng);
    let kb = k.as_bytes().to_vec();
    let current = model.get(k).cloned();
    let wrong = matches!(current, Some(Value::Str));
    let mut set = match current {
        Some(Value::Set(s)) => s,
        _ => HashSet::new(),
    };
    match rng.below(9) {
        0 | 1 => {
            let ms: Vec<Vec<u8>> = (0..1 + rng.below(4)).map(|_| member(rng)).collect();
            let mut args = vec![b"SADD".to_vec(), kb];
            args.extend(ms.iter().cloned());
            let got = run(db, &args);
            if wrong {
                assert_eq!(got, Err(WRONGTYPE.to_string()));
                return;
            }
            let added = ms.iter().filter(|m| set.insert((*m).clone())).count();
            assert_eq!(got, Ok(Reply::Int(added as i64)));
            put(model, k, set);
        }
        2 => {
            let ms: Vec<Vec<u8>> = (0..1 + rng.below(4)).map(|_| member(rng)).collect();
            let mut args = vec![b"SREM".to_vec(), kb];
            args.extend(ms.iter().cloned());
            let got = run(db, &args);
            if wrong {
                assert_eq!(got, Err(WRONGTYPE.to_string()));
                return;
            }
            let removed = ms.iter().filter(|m| set.remove(*m)).count();
            assert_eq!(got, Ok(Reply::Int(removed as i64)));
            put(model, k, set);
        }
        3 => {
            let count = rng.below(6);
            let got = run(db, &[b"SPOP".to_vec(), kb, count.to_string().into_bytes()]);
            if wrong {
                assert_eq!(got, Err(WRONGTYPE.to_string()));
                return;
            }
            let popped = items(got.unwrap());
            assert_eq!(popped.len(), count.min(set.len()));
            for m in &popped {
                assert!(set.remove(m), "SPOP returned {m:?}, not a (distinct) member");
            }
            put(model, k, set);
        }
        4 => {
            let count = rng.below(9) as i64 - 4;
            let got = run(db, &[b"SRANDMEMBER".to_vec(), kb, count.to_string().into_bytes()]);
            if wrong {
                assert_eq!(got, Err(WRONGTYPE.to_string()));
                return;
            }
            let picks = items(got.unwrap());
            let want = if set.is_empty() {
                0
            } else if count < 0 {
                count.unsigned_abs() as usize
            } else {
                (count as usize).min(set.len())
            };
            assert_eq!(picks.len(), want);
            assert!(picks.iter().all(|m| set.contains(m)));
            if count > 0 {
                assert_eq!(sorted(picks.clone()).len(), picks.len(), "SRANDMEMBER repeated");
            }
        }
        5 => {
            let dst = key(rng);
            let m = member(rng);
            let got = run(db, &[b"SMOVE".to_vec(), kb, dst.as_bytes().to_vec(), m.clone()]);
            if model.get(k).is_none() {
                assert_eq!(got, Ok(Reply::Int(0)));
                return;
            }
            if wrong || matches!(model.get(dst), Some(Value::Str)) {
                assert_eq!(got, Err(WRONGTYPE.to_string()));
                return;
            }
            if dst == k {
                assert_eq!(got, Ok(Reply::Int(set.contains(&m) as i64)));
                return;
            }
            if !set.remove(&m) {
                assert_eq!(got, Ok(Reply::Int(0)));
                return;
            }
            assert_eq!(got, Ok(Reply::Int(1)));
            put(model, k, set);
            let mut d = match model.get(dst) {
                Some(Value::Set(s)) => s.clone(),
                _ => HashSet::new(),
            };
            d.insert(m);
            put(model, dst, d);
        }
        6 | 7 => {
            let op = ["SINTER", "SUNION", "SDIFF"][rng.below(3)];
            let keys: Vec<&str> = (0..1 + rng.below(3)).map(|_| key(rng)).collect();
            let store = rng.below(2) == 0;
            let mut args = vec![if store { format!("{op}STORE") } else { op.to_string() }.into_bytes()];
            if store {
                args.push(kb);
            }
            args.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
            let got = run(db, &args);
            let want = operands(model, &keys).map(|sets| algebra(op, &sets));
            match (want, store) {
                (Err(e), _) => assert_eq!(got, Err(e), "{op} {keys:?}"),
                (Ok(result), true) => {
                    assert_eq!(got, Ok(Reply::Int(result.len() as i64)), "{op}STORE {k} {keys:?}");
                    put(model, k, result);
                }
                (Ok(result), false) => {
                    let got = items(got.unwrap());
                    assert_eq!(got.len(), result.len());
                    assert_eq!(sorted(got), sorted(result), "{op} {keys:?}");
                }
            }
        }
        _ => {
            let keys: Vec<&str> = (0..1 + rng.below(3)).map(|_| key(rng)).collect();
            let limit = rng.below(4);
            let mut args = vec![b"SINTERCARD".to_vec(), keys.len().to_string().into_bytes()];
            args.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
            args.extend([b"LIMIT".to_vec(), limit.to_string().into_bytes()]);
            let got = run(db, &args);
            match operands(model, &keys) {
                Err(e) => assert_eq!(got, Err(e)),
                Ok(sets) => {
                    let n = algebra("SINTER", &sets).len();
                    let n = if limit > 0 { n.min(limit) } else { n };
                    assert_eq!(got, Ok(Reply::Int(n as i64)), "SINTERCARD {keys:?} LIMIT {limit}");
                }
            }
        }
    }
}

fn sets_match_hashset_models(backend: &Backend) {
    for seed in 1..=6u64 {
        let db = backend.open("set");
        db.strings().set(b"str", b"a string").unwrap();
        let mut model = Model::new();
        model.insert("str", Value::Str);
        let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for i in 0..1500 {
            step(&db, &mut model, &mut rng);
            check_state(&db, &model, i);
        }
    }
}
backend_tests!(sets_match_hashset_models: memory, postgres);

fn large_set_scan_pop_and_algebra(backend: &Backend) {
    let db = backend.open("bigset");
    let s = db.sets();
    let members: Vec<Vec<u8>> = (0..5000).map(|i| format!("member:{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = members.iter().map(|m| m.as_slice()).collect();
    assert_eq!(s.sadd(b"big", &refs).unwrap(), 5000);
    let evens: Vec<&[u8]> = refs.iter().step_by(2).copied().collect();
    assert_eq!(s.sadd(b"evens", &evens).unwrap(), 2500);

    // SSCAN visits every member exactly once when nothing changes.
    let (mut cursor, mut seen) = (0, Vec::new());
    loop {
        let (next, page) = s.sscan(b"big", cursor, None, Some(97)).unwrap();
        seen.extend(page);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let unique: BTreeSet<Bytes> = seen.iter().cloned().collect();
    assert_eq!((seen.len(), unique.len()), (5000, 5000));

    assert_eq!(s.sintercard(&[b"big", b"evens"], 0).unwrap(), 2500);
    assert_eq!(s.sintercard(&[b"evens", b"big"], 10).unwrap(), 10);
    assert_eq!(s.sdiffstore(b"odds", &[b"big", b"evens"]).unwrap(), 2500);
    assert_eq!(s.sinter(&[b"odds", b"evens"]).unwrap().len(), 0);
    assert_eq!(s.sunionstore(b"all", &[b"odds", b"evens"]).unwrap(), 5000);

    // Distinct samples of every size class, then popping everything.
    for count in [1, 10, 1000, 2000, 4999, 5000, 6000] {
        let picks = s.srandmember_count(b"big", count).unwrap();
        let unique: BTreeSet<Bytes> = picks.iter().cloned().collect();
        assert_eq!(
            (picks.len(), unique.len()),
            (count.min(5000) as usize, count.min(5000) as usize)
        );
    }
    let mut popped = BTreeSet::new();
    for count in [1, 7, 1500, 3000] {
        for m in s.spop_count(b"all", count).unwrap() {
            assert!(popped.insert(m), "popped twice");
        }
    }
    assert_eq!(s.scard(b"all").unwrap(), 5000 - 4508);
    popped.extend(s.spop_count(b"all", 10_000).unwrap());
    assert_eq!(popped.len(), 5000);
    assert!(!db.keys().exists(b"all").unwrap());
}
backend_tests!(large_set_scan_pop_and_algebra: memory, postgres);
