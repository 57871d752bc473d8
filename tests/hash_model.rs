//! Randomized model test of the hash commands (random HSET/HSETNX/HDEL/
//! HINCRBY/DEL against `HashMap` models, checked with HGETALL and HLEN after
//! every step), and an HSCAN stability test: a full scan of a large hash while
//! fields are added and removed between pages returns every field that was
//! present for the whole scan.

mod support;

use bytes::Bytes;
use redsql::Db;
use std::collections::{HashMap, HashSet};
use support::{Backend, XorShift, backend_tests};

const KEYS: [&str; 3] = ["h0", "h1", "h2"];

type Model = HashMap<&'static str, HashMap<Vec<u8>, Vec<u8>>>;

fn field(rng: &mut XorShift) -> Vec<u8> {
    // A small domain so that fields collide; some binary and empty ones.
    match rng.below(25) {
        0 => Vec::new(),
        1 => vec![0, 255, b'\n'],
        n => format!("f{n}").into_bytes(),
    }
}

fn value(rng: &mut XorShift) -> Vec<u8> {
    match rng.below(6) {
        0 => Vec::new(),
        1 => (rng.next() as i64 % 1000).to_string().into_bytes(),
        2 => vec![b'x'; rng.below(100)],
        _ => format!("v{}", rng.below(1000)).into_bytes(),
    }
}

fn check(db: &Db, model: &Model, step: usize) {
    let h = db.hashes();
    for key in KEYS {
        let want = model.get(key).cloned().unwrap_or_default();
        let got: HashMap<Vec<u8>, Vec<u8>> = h
            .hgetall(key.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(f, v)| (f.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(got, want, "step {step}: HGETALL {key}");
        assert_eq!(
            h.hlen(key.as_bytes()).unwrap(),
            want.len() as i64,
            "step {step}: HLEN {key}"
        );
        let exists = db.command(&["EXISTS", key]).unwrap();
        assert_eq!(
            exists,
            redsql::resp::Reply::Int(!want.is_empty() as i64),
            "step {step}: EXISTS {key}"
        );
    }
}

fn step(db: &Db, model: &mut Model, rng: &mut XorShift) {
    let h = db.hashes();
    let key = KEYS[rng.below(KEYS.len())];
    let kb = key.as_bytes();
    match rng.below(10) {
        0..=2 => {
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..1 + rng.below(4)).map(|_| (field(rng), value(rng))).collect();
            let borrowed: Vec<(&[u8], &[u8])> = pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
            let m = model.entry(key).or_default();
            let mut added = HashSet::new();
            for (f, v) in &pairs {
                if m.insert(f.clone(), v.clone()).is_none() {
                    added.insert(f.clone());
                }
            }
            assert_eq!(h.hset(kb, &borrowed).unwrap(), added.len() as i64);
        }
        3 => {
            let (f, v) = (field(rng), value(rng));
            let m = model.entry(key).or_default();
            let new = !m.contains_key(&f);
            if new {
                m.insert(f.clone(), v.clone());
            }
            assert_eq!(h.hsetnx(kb, &f, &v).unwrap(), new);
        }
        4..=6 => {
            let fields: Vec<Vec<u8>> = (0..1 + rng.below(3)).map(|_| field(rng)).collect();
            let borrowed: Vec<&[u8]> = fields.iter().map(|f| &f[..]).collect();
            let m = model.entry(key).or_default();
            let removed = fields
                .iter()
                .collect::<HashSet<_>>()
                .into_iter()
                .filter(|f| m.remove(*f).is_some());
            assert_eq!(h.hdel(kb, &borrowed).unwrap(), removed.count() as i64);
        }
        7 | 8 => {
            let f = field(rng);
            let by = rng.next() as i64 % 100;
            let m = model.entry(key).or_default();
            let current = m
                .get(&f)
                .map(|v| std::str::from_utf8(v).ok().and_then(|s| s.parse::<i64>().ok()));
            let got = h.hincrby(kb, &f, by);
            match current {
                Some(None) => assert!(got.is_err(), "HINCRBY on a non-integer must fail"),
                // Values the model parses but Redis would not (e.g. "+1", "01") are never generated.
                Some(Some(n)) => {
                    assert_eq!(got.unwrap(), n + by);
                    m.insert(f, (n + by).to_string().into_bytes());
                }
                None => {
                    assert_eq!(got.unwrap(), by);
                    m.insert(f, by.to_string().into_bytes());
                }
            }
        }
        _ => {
            db.command(&["DEL", key]).unwrap();
            model.remove(key);
        }
    }
    model.retain(|_, m| !m.is_empty());
}

fn hashes_match_hashmap_models(backend: &Backend) {
    for seed in [1u64, 42, 0x5eed] {
        let db = backend.open("hash");
        let mut model = Model::new();
        let mut rng = XorShift(seed);
        for i in 0..1500 {
            step(&db, &mut model, &mut rng);
            check(&db, &model, i);
        }
    }
}
backend_tests!(hashes_match_hashmap_models: memory, postgres);

fn hscan_returns_every_field_present_for_the_whole_scan(backend: &Backend) {
    let db = backend.open("hscan");
    let h = db.hashes();
    // Beyond hash-max-listpack-entries, so HSCAN pages by cursor.
    let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    for chunk in stable.chunks(500) {
        let pairs: Vec<(&[u8], &[u8])> = chunk.iter().map(|f| (f.as_bytes(), &b"v"[..])).collect();
        h.hset(b"big", &pairs).unwrap();
    }
    let mut rng = XorShift(7);
    let mut churn: Vec<String> = Vec::new();
    let mut seen: HashSet<Bytes> = HashSet::new();
    let mut cursor = 0;
    let mut pages = 0;
    loop {
        let (next, page) = h.hscan(b"big", cursor, None, Some(37)).unwrap();
        seen.extend(page.into_iter().map(|(f, _)| f));
        pages += 1;
        // Between pages: add new fields and delete some of the added ones.
        for _ in 0..20 {
            let f = format!("churn:{}", rng.next());
            h.hset(b"big", &[(f.as_bytes(), b"x")]).unwrap();
            churn.push(f);
        }
        for _ in 0..15 {
            if churn.is_empty() {
                break;
            }
            let f = churn.swap_remove(rng.below(churn.len()));
            assert_eq!(h.hdel(b"big", &[f.as_bytes()]).unwrap(), 1);
        }
        if next == 0 {
            break;
        }
        assert!(next > cursor, "cursors increase");
        cursor = next;
    }
    assert!(pages > 50, "the scan took {pages} pages");
    let missing: Vec<&String> = stable.iter().filter(|f| !seen.contains(f.as_bytes())).collect();
    assert!(missing.is_empty(), "fields missed by the scan: {missing:?}");
    // MATCH filters within pages.
    let mut cursor = 0;
    let mut matched = 0;
    loop {
        let (next, page) = h.hscan(b"big", cursor, Some(b"stable:1??"), Some(100)).unwrap();
        assert!(page.iter().all(|(f, _)| f.starts_with(b"stable:1") && f.len() == 10));
        matched += page.len();
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(matched, 100);
}
backend_tests!(hscan_returns_every_field_present_for_the_whole_scan: memory, postgres);
