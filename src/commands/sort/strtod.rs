//! C's `strtod` as SORT uses it to turn elements into numbers.
//!
//! Redis's SORT scores each element with `strtod(s, &end)` and rejects it
//! ("One or more scores can't be converted into double") unless the whole C
//! string was consumed, `errno` is not `ERANGE` and the result is not NaN.
//! That is more permissive than the float parsing of other commands: leading
//! white space (`" 1"`), hexadecimal floats (`0x1p3`), and even the empty
//! string (no digits, nothing left over: 0) are numbers, and the C string ends
//! at the first NUL byte (`"1\0abc"` is 1). Overflow and inexact underflow
//! (glibc's `ERANGE`) are errors.

/// The number SORT sees in `s`, or `None` where Redis reports a conversion error.
pub fn sort_score(s: &[u8]) -> Option<f64> {
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    if s.is_empty() {
        // No conversion at all, but nothing left over either: Redis scores it 0.
        return Some(0.0);
    }
    // Leading spaces are skipped, but spaces alone are not a number.
    let s = &s[s.iter().take_while(|&&b| is_c_space(b)).count()..];
    if s.is_empty() {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        hex(&body[2..])?
    } else {
        decimal(body)?
    };
    Some(if neg { -v } else { v })
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits `digits[.digits]` (at least one digit in all) off the front of `s`:
/// returns (integer digits, fraction digits, rest).
fn mantissa(s: &[u8], is_digit: fn(&u8) -> bool) -> Option<(&[u8], &[u8], &[u8])> {
    let int_len = s.iter().take_while(|b| is_digit(b)).count();
    let (int, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.strip_prefix(b".") {
        Some(r) => r.split_at(r.iter().take_while(|b| is_digit(b)).count()),
        None => (&rest[..0], rest),
    };
    (!int.is_empty() || !frac.is_empty()).then_some((int, frac, rest))
}

/// A signed decimal exponent that must make up all of `s` (after the marker).
fn exponent(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").or_else(|| s.strip_prefix(b"+")).unwrap_or(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Saturate: anything this large over- or underflows anyway.
    let n = digits
        .iter()
        .fold(0i64, |n, &d| (n * 10 + (d - b'0') as i64).min(1 << 40));
    Some(if s[0] == b'-' { -n } else { n })
}

/// `digits[.digits][e[+-]digits]`, the whole of `s`. Rust's parser rounds
/// correctly; a result that overflows, or underflows into the subnormal range
/// (where a decimal literal is practically never exact), is glibc's `ERANGE`.
fn decimal(s: &[u8]) -> Option<f64> {
    let (int, frac, rest) = mantissa(s, u8::is_ascii_digit)?;
    if let Some(e) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        exponent(e)?;
    } else if !rest.is_empty() {
        return None;
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    let nonzero = int.iter().chain(frac).any(|&d| d != b'0');
    if v.is_infinite() || (nonzero && v < f64::MIN_POSITIVE) {
        return None;
    }
    Some(v)
}

/// `hexdigits[.hexdigits][p[+-]digits]` (after `0x`), the whole of `s`,
/// rounded to nearest-even; `ERANGE` on overflow and on inexact underflow.
fn hex(s: &[u8]) -> Option<f64> {
    let (int, frac, rest) = mantissa(s, u8::is_ascii_hexdigit)?;
    let mut exp2 = match rest.first() {
        Some(b'p' | b'P') => exponent(&rest[1..])?,
        Some(_) => return None,
        None => 0,
    };
    // Keep the first 64 significant bits; later nonzero digits only set `sticky`.
    let (mut mant, mut sticky) = (0u64, false);
    for (i, &d) in int.iter().chain(frac).enumerate() {
        let v = (d as char).to_digit(16).unwrap_or(0) as u64;
        if mant >> 60 == 0 {
            mant = mant << 4 | v;
            if i >= int.len() {
                exp2 -= 4;
            }
        } else {
            sticky |= v != 0;
            if i < int.len() {
                exp2 += 4;
            }
        }
    }
    let (v, exact) = compose(mant, sticky, exp2);
    if v.is_infinite() || (!exact && v < f64::MIN_POSITIVE) {
        return None;
    }
    Some(v)
}

/// `mant * 2^exp2` (plus a nonzero tail below `mant` if `sticky`) rounded to
/// the nearest double, ties to even, and whether that was exact.
fn compose(mant: u64, sticky: bool, exp2: i64) -> (f64, bool) {
    if mant == 0 {
        return (0.0, !sticky);
    }
    let bits = 64 - mant.leading_zeros() as i64;
    let top = exp2 + bits - 1;
    if top > 1023 {
        return (f64::INFINITY, false);
    }
    // The weight of the last bit kept: 53 bits of precision, fewer for subnormals.
    let lsb = (top - 52).max(-1074);
    let drop = lsb - exp2;
    if drop <= 0 {
        return (scale(mant as f64, exp2), !sticky);
    }
    if drop > 64 {
        // Below half the smallest subnormal: rounds to zero.
        return (0.0, false);
    }
    let wide = mant as u128;
    let (kept, lost, half) = (wide >> drop, wide & ((1u128 << drop) - 1), 1u128 << (drop - 1));
    let round_up = lost > half || (lost == half && (sticky || kept & 1 == 1));
    (scale((kept + round_up as u128) as f64, lsb), lost == 0 && !sticky)
}

/// `x * 2^e` in steps that stay in the normal range until the last one
/// (exact whenever the result is representable).
fn scale(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

#[cfg(test)]
mod tests {
    use super::sort_score;

    #[test]
    fn accepts_what_strtod_consumes_whole() {
        let cases: &[(&[u8], f64)] = &[
            (b"", 0.0),
            (b" 1", 1.0),
            (b"\t4", 4.0),
            (b"+5", 5.0),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"1e5", 1e5),
            (b"1.5e-3", 1.5e-3),
            (b"00012", 12.0),
            (b"0x10", 16.0),
            (b"0X1P3", 8.0),
            (b"0x1.8", 1.5),
            (b"0x.8", 0.5),
            (b"-0x1p-1", -0.5),
            (b"inf", f64::INFINITY),
            (b"-Infinity", f64::NEG_INFINITY),
            (b"0e-999", 0.0),
            (b"1\0abc", 1.0),
            (b"1.7976931348623157e308", f64::MAX),
            (b"2.2250738585072014e-308", f64::MIN_POSITIVE),
            (b"0x1p-1022", f64::MIN_POSITIVE),
            (b"0x1p-1074", 5e-324),
            (b"0x1.fffffffffffff8p0", 2.0),
            (b"0x1.fffffffffffff7p0", 1.9999999999999998),
        ];
        for (s, v) in cases {
            assert_eq!(sort_score(s), Some(*v), "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn rejects_leftovers_nan_and_erange() {
        let cases: &[&[u8]] = &[
            b"1 ",
            b"nan",
            b"-nan",
            b"abc",
            b"1_0",
            b"-",
            b" ",
            b"1e",
            b"1e+",
            b"0x",
            b"0xg",
            b"infinit",
            b"1e400",
            b"1.7976931348623159e308",
            b"0x1p2000",
            b"1e-310",
            b"1e-400",
            b"4.9406564584124654e-324",
            b"2.2250738585072011e-308",
            b"0x1.1p-1074",
        ];
        for s in cases {
            assert_eq!(sort_score(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }
}
