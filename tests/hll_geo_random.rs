//! HyperLogLog and GEO against real Redis with random data: random member
//! sets (sizes across the sparse/dense boundary, binary members, merges)
//! must give Redis's PFCOUNT and Redis's HLL bytes; random GEO sets and
//! searches (radius and box, anywhere on the globe, near the poles and across
//! the antimeridian) must give Redis's members, distances, hashes and
//! coordinates, byte for byte, in RESP2 and RESP3. Replay a failure with
//! `TEST_SEED=<seed>`.

mod support;

use support::backend::{Backend, backend_tests};
use support::{RawConn, Rng, show, start_redis};

fn same(a: &mut RawConn, b: &mut RawConn, argv: &[&[u8]], what: &str) {
    let (want, got) = (a.cmd(argv), b.cmd(argv));
    let line: Vec<String> = argv
        .iter()
        .take(12)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert!(
        want == got,
        "{what}: {}\n  redis:  {}\n  redsql: {}",
        line.join(" "),
        show(&want),
        show(&got)
    );
}

fn hll_matches_redis(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("hllrand", &[]);
    let (mut a, mut b) = (redis.conn(), redsql.conn());
    let seed = Rng::seed_from_env();
    let mut rng = Rng::new(seed);
    for round in 0..12 {
        let what = format!("seed {seed} round {round}");
        let key = format!("h{round}");
        let n = *rng.pick(&[1usize, 10, 100, 400, 700, 1500, 5000, 30000]);
        let mut added = 0;
        while added < n {
            let batch = rng.range(1, 500).min(n - added);
            let members: Vec<Vec<u8>> = (0..batch)
                .map(|_| {
                    if rng.one_in(5) {
                        let len = rng.range(0, 12);
                        rng.bytes(len)
                    } else {
                        format!("m{}", rng.next_u64() % 1_000_000).into_bytes()
                    }
                })
                .collect();
            let mut argv: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
            argv.extend(members.iter().map(|m| &m[..]));
            same(&mut a, &mut b, &argv, &what);
            added += batch;
            if rng.one_in(3) {
                same(&mut a, &mut b, &[b"PFCOUNT", key.as_bytes()], &what);
            }
        }
        same(&mut a, &mut b, &[b"PFCOUNT", key.as_bytes()], &what);
        same(&mut a, &mut b, &[b"GET", key.as_bytes()], &what);
        if round > 0 {
            let prev = format!("h{}", round - 1);
            same(&mut a, &mut b, &[b"PFCOUNT", key.as_bytes(), prev.as_bytes()], &what);
            let dst = format!("m{round}");
            same(
                &mut a,
                &mut b,
                &[b"PFMERGE", dst.as_bytes(), key.as_bytes(), prev.as_bytes()],
                &what,
            );
            same(&mut a, &mut b, &[b"GET", dst.as_bytes()], &what);
            same(&mut a, &mut b, &[b"PFCOUNT", dst.as_bytes()], &what);
        }
    }
}

fn coord(rng: &mut Rng, lo: f64, hi: f64) -> String {
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    format!("{:.6}", lo + (hi - lo) * unit)
}

fn geo_matches_redis(backend: &Backend) {
    let redis = start_redis();
    let redsql = backend.start("georand", &[]);
    let (mut a, mut b) = (redis.conn(), redsql.conn());
    let seed = Rng::seed_from_env();
    let mut rng = Rng::new(seed);
    // Members everywhere, plus clusters near a pole, on the antimeridian and in a city.
    let centres: [(f64, f64, f64, f64); 4] = [
        (0.0, 0.0, 180.0, 85.0),
        (0.0, 83.0, 180.0, 2.0),
        (179.5, 10.0, 1.0, 5.0),
        (2.35, 48.85, 0.3, 0.3),
    ];
    let mut members = 0;
    for &(cx, cy, dx, dy) in &centres {
        for _ in 0..4 {
            let mut parts: Vec<String> = Vec::new();
            for _ in 0..100 {
                let mut x: f64 = coord(&mut rng, cx - dx, cx + dx).parse().unwrap();
                if x > 180.0 {
                    x -= 360.0;
                }
                let y = coord(&mut rng, (cy - dy).max(-85.05), (cy + dy).min(85.05));
                parts.push(format!("{x:.6}"));
                parts.push(y);
                parts.push(format!("p{members}"));
                members += 1;
            }
            let mut argv: Vec<&[u8]> = vec![b"GEOADD", b"g"];
            argv.extend(parts.iter().map(|p| p.as_bytes()));
            same(&mut a, &mut b, &argv, &format!("seed {seed}"));
        }
    }
    for proto in ["2", "3"] {
        // HELLO's reply has the client id: not compared.
        a.cmd(&[b"HELLO", proto.as_bytes()]);
        b.cmd(&[b"HELLO", proto.as_bytes()]);
        for i in 0..150 {
            let what = format!("seed {seed} RESP{proto} search {i}");
            let &(cx, cy, dx, dy) = rng.pick(&centres);
            let x = coord(&mut rng, (cx - dx).max(-180.0), (cx + dx).min(180.0));
            let y = coord(&mut rng, (cy - dy).max(-85.0), (cy + dy).min(85.0));
            let unit = *rng.pick(&["m", "km", "mi", "ft"]);
            let per_km = match unit {
                "m" => 1000.0,
                "km" => 1.0,
                "mi" => 0.621,
                _ => 3281.0,
            };
            let size = |rng: &mut Rng| format!("{:.3}", *rng.pick(&[1.0, 20.0, 150.0, 800.0, 3000.0]) * per_km);
            let mut argv: Vec<String> = vec!["GEOSEARCH".into(), "g".into()];
            if rng.one_in(3) {
                argv.extend(["FROMMEMBER".into(), format!("p{}", rng.range(0, members - 1))]);
            } else {
                argv.extend(["FROMLONLAT".into(), x, y]);
            }
            if rng.one_in(2) {
                argv.extend(["BYRADIUS".into(), size(&mut rng), unit.into()]);
            } else {
                argv.extend(["BYBOX".into(), size(&mut rng), size(&mut rng), unit.into()]);
            }
            argv.push(rng.pick(&["ASC", "DESC"]).to_string());
            if rng.one_in(3) {
                argv.extend(["COUNT".into(), rng.range(1, 20).to_string()]);
            }
            for opt in ["WITHDIST", "WITHHASH", "WITHCOORD"] {
                if rng.one_in(2) {
                    argv.push(opt.into());
                }
            }
            let parts: Vec<&[u8]> = argv.iter().map(|p| p.as_bytes()).collect();
            same(&mut a, &mut b, &parts, &what);
        }
    }
}

backend_tests!(
    hll_matches_redis: sqlite, postgres;
    geo_matches_redis: sqlite, postgres;
);
