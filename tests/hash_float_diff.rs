//! HINCRBYFLOAT against real Redis: thousands of random increments (decimal,
//! exponent, hexadecimal, huge, tiny, tie-breaking and invalid numbers, and
//! fields overwritten with random numeric strings) must give byte-identical
//! replies, since Redis computes in x87 `long double` and prints `%.17Lf`.
//! Replay a failure with `TEST_SEED=<seed>`.

mod support;

use support::{Rng, show, start_redis, start_redsql};

const TRICKY: &[&str] = &[
    "1e-17",
    "5e-18",
    "15e-18",
    "0.5",
    "-0.5",
    "1e18",
    "9.999999999999999999",
    "1.00000000000000000005",
    "-0",
    "+1.",
    "-.1e1",
    "0.1",
    "0.2",
    "0.3",
    "1.1",
    "3.3",
    "0.000003814697265625",
    "1e4932",
    "-1e4932",
    "1e-4950",
    "0x1p-16445",
    "inf",
    "nan",
    "1e",
    " 1",
    "abc",
    "",
    "0x",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
];

fn number(rng: &mut Rng) -> String {
    let digits =
        |rng: &mut Rng, n: usize| -> String { (0..n).map(|_| char::from(b'0' + rng.range(0, 9) as u8)).collect() };
    match rng.range(0, 8) {
        0 => (rng.next_u64() as i64 >> rng.range(0, 63)).to_string(),
        1 => {
            let (a, b) = (rng.range(1, 12), rng.range(1, 22));
            format!(
                "{}{}.{}",
                if rng.one_in(2) { "-" } else { "" },
                digits(rng, a),
                digits(rng, b)
            )
        }
        2 => {
            let m = rng.range(1, 20);
            format!("{}e{}", digits(rng, m), rng.range(0, 70) as i64 - 35)
        }
        3 => format!(
            "{}.{}e{}",
            rng.range(1, 9),
            digits(rng, 20),
            rng.range(0, 9880) as i64 - 4950
        ),
        4 => format!(
            "0x{:x}p{}",
            rng.next_u64() >> rng.range(0, 63),
            rng.range(0, 200) as i64 - 100
        ),
        5 => format!(
            "{:e}",
            f64::from_bits(rng.next_u64() & !(0x7ff << 52) | ((rng.range(950, 1100) as u64) << 52))
        ),
        6 => format!("{}", rng.range(0, 2_000_000) as f64 / 1024.0 - 1000.0),
        _ => TRICKY[rng.range(0, TRICKY.len() - 1)].to_string(),
    }
}

#[test]
fn hincrbyfloat_matches_real_redis() {
    let redis = start_redis();
    let redsql = start_redsql(&[]);
    let (mut a, mut b) = (redis.conn(), redsql.conn());
    let seed = Rng::seed_from_env();
    let mut rng = Rng::new(seed);
    for i in 0..4000 {
        let key = format!("k{}", rng.range(0, 19));
        let value = number(&mut rng);
        if rng.one_in(8) {
            let argv: [&[u8]; 4] = [b"HSET", key.as_bytes(), b"f", value.as_bytes()];
            assert_eq!(a.cmd(&argv), b.cmd(&argv), "seed {seed} step {i}: HSET {value:?}");
            continue;
        }
        let argv: [&[u8]; 4] = [b"HINCRBYFLOAT", key.as_bytes(), b"f", value.as_bytes()];
        let (want, got) = (a.cmd(&argv), b.cmd(&argv));
        assert!(
            want == got,
            "seed {seed} step {i}: HINCRBYFLOAT {key} f {value:?}\n  redis:  {}\n  redsql: {}",
            show(&want),
            show(&got)
        );
    }
}
