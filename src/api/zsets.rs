//! [`ZSets`]: sorted set commands.
//!
//! Score and lex bounds are passed as Redis spells them (`b"(1.5"`, `b"-inf"`,
//! `b"[a"`, `b"-"`), so every range form Redis accepts is available.

use super::Runner;
use super::argv;
use super::reply::{bulks, int, unexpected};
use crate::resp::Reply;
use crate::{Db, Error};
use bytes::Bytes;

/// Typed access to sorted set commands. Get one from [`Db::zsets`].
pub struct ZSets<'a> {
    db: &'a dyn Runner,
}

impl Db {
    /// Sorted set commands.
    pub fn zsets(&self) -> ZSets<'_> {
        ZSets::new(self)
    }
}

impl<'a> ZSets<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        ZSets { db }
    }
}

fn score(r: Reply) -> Result<Option<f64>, Error> {
    match r {
        Reply::Double(d) => Ok(Some(d)),
        Reply::Nil | Reply::NilArray => Ok(None),
        other => unexpected(other),
    }
}

/// `[member, score]` pairs (the library speaks RESP3), or a flat
/// `member, score, ...` list (ZPOPMIN without a count).
fn scored(r: Reply) -> Result<Vec<(Bytes, f64)>, Error> {
    let Reply::Array(items) = r else {
        return unexpected(r);
    };
    let mut out = Vec::with_capacity(items.len());
    let mut flat = items.into_iter();
    while let Some(item) = flat.next() {
        let pair = match item {
            Reply::Array(pair) => pair,
            first => vec![first, flat.next().unwrap_or(Reply::Nil)],
        };
        match <[Reply; 2]>::try_from(pair) {
            Ok([Reply::Bulk(m), Reply::Double(s)]) => out.push((m, s)),
            Ok(other) => return unexpected(Reply::Array(other.into())),
            Err(other) => return unexpected(Reply::Array(other)),
        }
    }
    Ok(out)
}

impl ZSets<'_> {
    fn run(&self, parts: &[&[u8]]) -> Result<Reply, Error> {
        self.db.run(argv(parts))
    }

    /// `ZADD key score member [score member ...]`: how many members were added
    /// (existing members get the new score).
    pub fn zadd(&self, key: &[u8], items: &[(f64, &[u8])]) -> Result<i64, Error> {
        let scores: Vec<String> = items
            .iter()
            .map(|(s, _)| crate::resp::reply::format_double(*s))
            .collect();
        let mut parts: Vec<&[u8]> = vec![b"ZADD", key];
        for ((_, m), s) in items.iter().zip(&scores) {
            parts.push(s.as_bytes());
            parts.push(m);
        }
        int(self.run(&parts)?)
    }

    /// `ZINCRBY key increment member`: the new score.
    pub fn zincrby(&self, key: &[u8], increment: f64, member: &[u8]) -> Result<f64, Error> {
        let inc = crate::resp::reply::format_double(increment);
        match score(self.run(&[b"ZINCRBY", key, inc.as_bytes(), member])?)? {
            Some(s) => Ok(s),
            None => unexpected(Reply::Nil),
        }
    }

    /// `ZREM key member [member ...]`: how many were removed.
    pub fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<i64, Error> {
        let mut parts: Vec<&[u8]> = vec![b"ZREM", key];
        parts.extend_from_slice(members);
        int(self.run(&parts)?)
    }

    /// `ZCARD key`
    pub fn zcard(&self, key: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"ZCARD", key])?)
    }

    /// `ZSCORE key member`
    pub fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>, Error> {
        score(self.run(&[b"ZSCORE", key, member])?)
    }

    /// `ZMSCORE key member [member ...]`
    pub fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>, Error> {
        let mut parts: Vec<&[u8]> = vec![b"ZMSCORE", key];
        parts.extend_from_slice(members);
        match self.run(&parts)? {
            Reply::Array(items) => items.into_iter().map(score).collect(),
            other => unexpected(other),
        }
    }

    /// `ZRANK key member`: the 0-based ascending rank.
    pub fn zrank(&self, key: &[u8], member: &[u8]) -> Result<Option<i64>, Error> {
        match self.run(&[b"ZRANK", key, member])? {
            Reply::Int(n) => Ok(Some(n)),
            _ => Ok(None),
        }
    }

    /// `ZREVRANK key member`: the 0-based descending rank.
    pub fn zrevrank(&self, key: &[u8], member: &[u8]) -> Result<Option<i64>, Error> {
        match self.run(&[b"ZREVRANK", key, member])? {
            Reply::Int(n) => Ok(Some(n)),
            _ => Ok(None),
        }
    }

    /// `ZCOUNT key min max` (bounds as Redis spells them: `b"(1"`, `b"-inf"`).
    pub fn zcount(&self, key: &[u8], min: &[u8], max: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"ZCOUNT", key, min, max])?)
    }

    /// `ZRANGE key start stop`: members by rank (negative = from the end).
    pub fn zrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>, Error> {
        let (a, b) = (start.to_string(), stop.to_string());
        bulks(self.run(&[b"ZRANGE", key, a.as_bytes(), b.as_bytes()])?)
    }

    /// `ZRANGE key start stop WITHSCORES`
    pub fn zrange_withscores(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<(Bytes, f64)>, Error> {
        let (a, b) = (start.to_string(), stop.to_string());
        scored(self.run(&[b"ZRANGE", key, a.as_bytes(), b.as_bytes(), b"WITHSCORES"])?)
    }

    /// `ZRANGE key min max BYSCORE WITHSCORES`: elements with scores in range, ascending.
    pub fn zrangebyscore(&self, key: &[u8], min: &[u8], max: &[u8]) -> Result<Vec<(Bytes, f64)>, Error> {
        scored(self.run(&[b"ZRANGE", key, min, max, b"BYSCORE", b"WITHSCORES"])?)
    }

    /// `ZRANGE key min max BYLEX`: members in a lex range (`b"[a"`, `b"(b"`, `b"-"`, `b"+"`).
    pub fn zrangebylex(&self, key: &[u8], min: &[u8], max: &[u8]) -> Result<Vec<Bytes>, Error> {
        bulks(self.run(&[b"ZRANGE", key, min, max, b"BYLEX"])?)
    }

    /// `ZPOPMIN key count`: removes and returns the lowest `count` elements.
    pub fn zpopmin(&self, key: &[u8], count: u64) -> Result<Vec<(Bytes, f64)>, Error> {
        let c = count.to_string();
        scored(self.run(&[b"ZPOPMIN", key, c.as_bytes()])?)
    }

    /// `ZPOPMAX key count`: removes and returns the highest `count` elements.
    pub fn zpopmax(&self, key: &[u8], count: u64) -> Result<Vec<(Bytes, f64)>, Error> {
        let c = count.to_string();
        scored(self.run(&[b"ZPOPMAX", key, c.as_bytes()])?)
    }

    /// `ZREMRANGEBYSCORE key min max`: how many were removed.
    pub fn zremrangebyscore(&self, key: &[u8], min: &[u8], max: &[u8]) -> Result<i64, Error> {
        int(self.run(&[b"ZREMRANGEBYSCORE", key, min, max])?)
    }

    /// `ZUNIONSTORE dst numkeys key ...` (SUM of scores): the size of `dst`.
    pub fn zunionstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        self.store_op(b"ZUNIONSTORE", dst, keys)
    }

    /// `ZINTERSTORE dst numkeys key ...` (SUM of scores): the size of `dst`.
    pub fn zinterstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        self.store_op(b"ZINTERSTORE", dst, keys)
    }

    /// `ZDIFFSTORE dst numkeys key ...`: the size of `dst`.
    pub fn zdiffstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        self.store_op(b"ZDIFFSTORE", dst, keys)
    }

    fn store_op(&self, cmd: &[u8], dst: &[u8], keys: &[&[u8]]) -> Result<i64, Error> {
        let n = keys.len().to_string();
        let mut parts: Vec<&[u8]> = vec![cmd, dst, n.as_bytes()];
        parts.extend_from_slice(keys);
        int(self.run(&parts)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn db() -> Db {
        Db::open(":memory:").expect("open")
    }

    #[test]
    fn typed_api_round_trip() {
        let db = db();
        let z = db.zsets();
        assert_eq!(
            z.zadd(b"z", &[(1.0, b"a"), (2.5, b"b"), (f64::INFINITY, b"c")])
                .unwrap(),
            3
        );
        assert_eq!(z.zadd(b"z", &[(3.0, b"a")]).unwrap(), 0);
        assert_eq!(z.zscore(b"z", b"a").unwrap(), Some(3.0));
        assert_eq!(z.zincrby(b"z", 0.5, b"b").unwrap(), 3.0);
        assert_eq!(z.zcard(b"z").unwrap(), 3);
        assert_eq!(z.zrank(b"z", b"c").unwrap(), Some(2));
        assert_eq!(z.zrevrank(b"z", b"c").unwrap(), Some(0));
        assert_eq!(z.zrank(b"z", b"nope").unwrap(), None);
        assert_eq!(z.zmscore(b"z", &[b"a", b"x"]).unwrap(), vec![Some(3.0), None]);
        assert_eq!(z.zcount(b"z", b"(3", b"+inf").unwrap(), 1);
        assert_eq!(z.zrange(b"z", 0, -1).unwrap(), vec!["a", "b", "c"]);
        let top = z.zrangebyscore(b"z", b"(3", b"inf").unwrap();
        assert_eq!(top, vec![(Bytes::from("c"), f64::INFINITY)]);
        assert_eq!(z.zpopmax(b"z", 1).unwrap(), vec![(Bytes::from("c"), f64::INFINITY)]);
        assert_eq!(z.zpopmin(b"z", 5).unwrap().len(), 2);
        assert_eq!(z.zcard(b"z").unwrap(), 0);
        assert!(!db.keys().exists(b"z").unwrap());
        z.zadd(b"l", &[(0.0, b"a"), (0.0, b"b"), (0.0, b"c")]).unwrap();
        assert_eq!(z.zrangebylex(b"l", b"(a", b"+").unwrap(), vec!["b", "c"]);
        z.zadd(b"m", &[(5.0, b"b"), (1.0, b"x")]).unwrap();
        assert_eq!(z.zunionstore(b"u", &[b"l", b"m"]).unwrap(), 4);
        assert_eq!(z.zscore(b"u", b"b").unwrap(), Some(5.0));
        assert_eq!(z.zinterstore(b"i", &[b"l", b"m"]).unwrap(), 1);
        assert_eq!(z.zdiffstore(b"d", &[b"l", b"m"]).unwrap(), 2);
        assert_eq!(z.zremrangebyscore(b"u", b"-inf", b"(5").unwrap(), 3);
        db.strings().set(b"s", b"v").unwrap();
        assert!(matches!(z.zadd(b"s", &[(1.0, b"a")]), Err(Error::Redis(e)) if e.starts_with("WRONGTYPE")));
    }

    /// A reference model: member -> score, plus the (score, member) order.
    #[derive(Default)]
    struct Model {
        scores: BTreeMap<Vec<u8>, f64>,
    }

    impl Model {
        fn ordered(&self) -> Vec<(Vec<u8>, f64)> {
            let mut v: Vec<(Vec<u8>, f64)> = self.scores.iter().map(|(m, s)| (m.clone(), *s)).collect();
            v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            v
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn pairs(r: Reply) -> Vec<(Vec<u8>, f64)> {
        scored(r)
            .expect("scored reply")
            .into_iter()
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    }

    /// Random ZADD/ZREM/ZINCRBY against a BTreeMap model, checking ZRANGE by
    /// rank (both directions, including windows that walk from the far end),
    /// by score (bounds of every kind, LIMIT) and by lex after every step.
    #[test]
    fn randomized_against_model() {
        let db = db();
        let mut model = Model::default();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let member = |rng: &mut Rng| format!("m{}", rng.below(300)).into_bytes();
        let score_of = |rng: &mut Rng| (rng.below(41) as f64 - 20.0) / 2.0;
        for step in 0..1500 {
            match rng.below(10) {
                0..=4 => {
                    let (m, s) = (member(&mut rng), score_of(&mut rng));
                    let added = db.zsets().zadd(b"k", &[(s, &m)]).unwrap();
                    assert_eq!(added, model.scores.insert(m, s).is_none() as i64, "step {step}");
                }
                5 | 6 => {
                    let m = member(&mut rng);
                    let removed = db.zsets().zrem(b"k", &[&m]).unwrap();
                    assert_eq!(removed, model.scores.remove(&m).is_some() as i64);
                }
                7 => {
                    let (m, s) = (member(&mut rng), score_of(&mut rng));
                    let new = db.zsets().zincrby(b"k", s, &m).unwrap();
                    let e = model.scores.entry(m).or_insert(0.0);
                    *e += s;
                    assert_eq!(new, *e);
                }
                8 => {
                    let (flag, m, s) = (
                        ["NX", "XX", "GT", "LT"][rng.below(4) as usize],
                        member(&mut rng),
                        score_of(&mut rng),
                    );
                    let sc = s.to_string();
                    db.command(&[b"ZADD".as_slice(), b"k", flag.as_bytes(), sc.as_bytes(), &m])
                        .unwrap();
                    let cur = model.scores.get(&m).copied();
                    let set = match (flag, cur) {
                        ("NX", None) | ("GT" | "LT", None) => true,
                        ("XX", Some(_)) => true,
                        ("GT", Some(c)) => s > c,
                        ("LT", Some(c)) => s < c,
                        _ => false,
                    };
                    if set {
                        model.scores.insert(m, s);
                    }
                }
                _ => {
                    let n = 1 + rng.below(3);
                    let popped = pairs(db.command(&["ZPOPMIN", "k", &n.to_string()]).unwrap());
                    let want: Vec<_> = model.ordered().into_iter().take(n as usize).collect();
                    for (m, _) in &want {
                        model.scores.remove(m);
                    }
                    assert_eq!(popped, want);
                }
            }
            let all = model.ordered();
            let len = all.len() as i64;
            assert_eq!(db.zsets().zcard(b"k").unwrap(), len);
            // Rank windows, forwards and backwards.
            let (a, b) = (rng.below(40) as i64 - 20, rng.below(40) as i64 - 20);
            let norm = |i: i64| if i < 0 { len + i } else { i };
            let (s, e) = (norm(a).max(0), norm(b).min(len - 1));
            let window: Vec<_> = if s > e || s >= len {
                vec![]
            } else {
                all[s as usize..=e as usize].to_vec()
            };
            let got = pairs(
                db.command(&["ZRANGE", "k", &a.to_string(), &b.to_string(), "WITHSCORES"])
                    .unwrap(),
            );
            assert_eq!(got, window, "ZRANGE {a} {b} at step {step}");
            let mut rev = all.clone();
            rev.reverse();
            let rwindow: Vec<_> = if s > e || s >= len {
                vec![]
            } else {
                rev[s as usize..=e as usize].to_vec()
            };
            let got = pairs(
                db.command(&["ZRANGE", "k", &a.to_string(), &b.to_string(), "REV", "WITHSCORES"])
                    .unwrap(),
            );
            assert_eq!(got, rwindow, "ZRANGE {a} {b} REV at step {step}");
            // Score ranges with every bound kind and a LIMIT.
            let (lo, hi) = (score_of(&mut rng), score_of(&mut rng));
            let (lx, hx) = (rng.below(2) == 0, rng.below(2) == 0);
            let (off, cnt) = (rng.below(4), rng.below(6) as i64 - 1);
            let inside = |v: f64| (if lx { v > lo } else { v >= lo }) && (if hx { v < hi } else { v <= hi });
            let matching: Vec<_> = all.iter().filter(|(_, v)| inside(*v)).cloned().collect();
            let take = |v: Vec<(Vec<u8>, f64)>| -> Vec<(Vec<u8>, f64)> {
                let it = v.into_iter().skip(off as usize);
                if cnt < 0 {
                    it.collect()
                } else {
                    it.take(cnt as usize).collect()
                }
            };
            let bound = |x: bool, v: f64| format!("{}{}", if x { "(" } else { "" }, v);
            let (bl, bh) = (bound(lx, lo), bound(hx, hi));
            let got = pairs(
                db.command(&[
                    "ZRANGE",
                    "k",
                    &bl,
                    &bh,
                    "BYSCORE",
                    "LIMIT",
                    &off.to_string(),
                    &cnt.to_string(),
                    "WITHSCORES",
                ])
                .unwrap(),
            );
            assert_eq!(got, take(matching.clone()), "BYSCORE {bl} {bh} LIMIT {off} {cnt}");
            let mut rmatching = matching.clone();
            rmatching.reverse();
            let got = pairs(
                db.command(&[
                    "ZRANGE",
                    "k",
                    &bh,
                    &bl,
                    "BYSCORE",
                    "REV",
                    "LIMIT",
                    &off.to_string(),
                    &cnt.to_string(),
                    "WITHSCORES",
                ])
                .unwrap(),
            );
            assert_eq!(got, take(rmatching), "BYSCORE REV {bh} {bl}");
            assert_eq!(
                db.zsets().zcount(b"k", bl.as_bytes(), bh.as_bytes()).unwrap(),
                matching.len() as i64
            );
            // Ranks of a random member.
            let m = member(&mut rng);
            let want = all.iter().position(|(x, _)| *x == m).map(|p| p as i64);
            assert_eq!(db.zsets().zrank(b"k", &m).unwrap(), want);
        }
        // Lex ranges over a single score.
        let mut lex = BTreeSet::new();
        for _ in 0..200 {
            let m = member(&mut rng);
            db.zsets().zadd(b"lex", &[(0.0, &m)]).unwrap();
            lex.insert(m);
        }
        for _ in 0..100 {
            let (a, b) = (member(&mut rng), member(&mut rng));
            let (ia, ib) = (rng.below(2) == 0, rng.below(2) == 0);
            let want: Vec<Vec<u8>> = lex
                .iter()
                .filter(|x| (if ia { **x >= a } else { **x > a }) && (if ib { **x <= b } else { **x < b }))
                .cloned()
                .collect();
            let spell = |incl: bool, v: &[u8]| [if incl { b"[" as &[u8] } else { b"(" }, v].concat();
            let got = db.zsets().zrangebylex(b"lex", &spell(ia, &a), &spell(ib, &b)).unwrap();
            assert_eq!(got.iter().map(|x| x.to_vec()).collect::<Vec<_>>(), want);
        }
    }

    /// ZSCAN over a large set returns every element exactly once, and
    /// ZRANDMEMBER gives distinct members for a positive count.
    #[test]
    fn scan_and_random_cover_large_sets() {
        let db = db();
        for i in 0..500 {
            db.zsets()
                .zadd(b"big", &[(i as f64, format!("m{i}").as_bytes())])
                .unwrap();
        }
        let mut seen = BTreeMap::new();
        let mut cursor = Bytes::from_static(b"0");
        loop {
            let Reply::Array(mut parts) = db.command(&[&b"ZSCAN"[..], b"big", &cursor, b"COUNT", b"7"]).unwrap() else {
                panic!("ZSCAN reply");
            };
            let Some(Reply::Array(items)) = parts.pop() else {
                panic!("items")
            };
            let Some(Reply::Bulk(next)) = parts.pop() else {
                panic!("cursor")
            };
            for pair in items.chunks(2) {
                let (Reply::Bulk(m), Reply::Bulk(score)) = (&pair[0], &pair[1]) else {
                    panic!("pair")
                };
                assert!(seen.insert(m.clone(), score.clone()).is_none(), "duplicate {m:?}");
            }
            if &next[..] == b"0" {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen.len(), 500);
        assert_eq!(seen[&Bytes::from("m42")], Bytes::from("42"));
        for count in [1usize, 10, 200, 499, 600] {
            let got = bulks(db.command(&["ZRANDMEMBER", "big", &count.to_string()]).unwrap()).unwrap();
            let distinct: BTreeSet<_> = got.iter().collect();
            assert_eq!(got.len(), count.min(500));
            assert_eq!(distinct.len(), got.len());
        }
        let got = bulks(db.command(&["ZRANDMEMBER", "big", "-1000"]).unwrap()).unwrap();
        assert_eq!(got.len(), 1000);
    }
}
