//! Scores and ranges parsed exactly as Redis parses them.
//!
//! Redis reads sorted-set scores with C's `strtod`, in two flavours:
//! `getDoubleFromObject` (ZADD, ZINCRBY, WEIGHTS) rejects leading spaces,
//! overflow (`1e400`) and underflow to zero (`1e-400`); `zslParseRange`
//! (ZRANGEBYSCORE, ZCOUNT, ...) accepts all of those and even an empty string
//! (as 0). Both accept hexadecimal (`0x1p4`) and `inf`/`infinity`, and reject
//! NaN.

use super::super::{CmdError, NOT_FLOAT, err};
use crate::store::{LexBound, ScoreBound};
use bytes::Bytes;

/// The result of C's `strtod` over a whole string.
struct Strtod {
    value: f64,
    /// `errno == ERANGE`: overflow to infinity or underflow to zero.
    erange: bool,
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Runs `strtod` on `s` and requires it to consume everything. None if it
/// stops early or converts nothing (except for an empty string, which the
/// callers treat themselves). NaN is returned as a value.
fn strtod_full(s: &[u8]) -> Option<Strtod> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let sign = if neg { -1.0 } else { 1.0 };
    if rest.first().is_some_and(|c| c.is_ascii_digit() || *c == b'.') && !starts_with_nocase(rest, b"0x") {
        // The common case, without the checks below (no allocation).
        return decimal(rest).map(|(v, erange)| Strtod {
            value: sign * v,
            erange,
        });
    }
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        return Some(Strtod {
            value: sign * f64::INFINITY,
            erange: false,
        });
    }
    if starts_with_nocase(rest, b"nan") {
        return Some(Strtod {
            value: f64::NAN,
            erange: false,
        });
    }
    if starts_with_nocase(rest, b"0x") {
        return hex(&rest[2..].to_ascii_lowercase()).map(|(v, erange)| Strtod {
            value: sign * v,
            erange,
        });
    }
    decimal(rest).map(|(v, erange)| Strtod {
        value: sign * v,
        erange,
    })
}

fn starts_with_nocase(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// An unsigned decimal float: digits, optional fraction, optional exponent.
fn decimal(s: &[u8]) -> Option<(f64, bool)> {
    let mut i = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while i < s.len() && s[i].is_ascii_digit() {
        nonzero |= s[i] != b'0';
        digits += 1;
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            nonzero |= s[i] != b'0';
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j == start {
            return None; // strtod would stop before the 'e': trailing garbage
        }
        i = j;
    }
    if i != s.len() {
        return None;
    }
    if digits == s.len() && digits <= 15 {
        // A plain integer below 2^53: exact, as strtod would give it.
        let v = s.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        return Some((v as f64, false));
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    Some((v, v.is_infinite() || (v == 0.0 && nonzero)))
}

/// The part of a hexadecimal float after `0x`: hex digits, optional
/// fraction, optional binary exponent `p[+-]digits`.
fn hex(s: &[u8]) -> Option<(f64, bool)> {
    let mut mant: f64 = 0.0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut i = 0;
    let mut frac = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !frac {
            frac = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            mant = mant * 16.0 + d as f64;
            digits += 1;
            if frac {
                exp -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if s.get(i) == Some(&b'p') {
        let mut j = i + 1;
        let neg = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let start = j;
        let mut e: i64 = 0;
        while j < s.len() && s[j].is_ascii_digit() {
            e = (e * 10 + (s[j] - b'0') as i64).min(1 << 20);
            j += 1;
        }
        if j == start {
            return None;
        }
        exp += if neg { -e } else { e };
        i = j;
    }
    if i != s.len() {
        return None;
    }
    let v = mant * 2f64.powi(exp.clamp(-4000, 4000) as i32);
    Some((v, v.is_infinite() || (v == 0.0 && mant != 0.0)))
}

/// A score argument (ZADD, ZINCRBY): Redis's `getDoubleFromObject`.
pub fn parse_score(arg: &[u8]) -> Result<f64, CmdError> {
    parse_score_or(arg, NOT_FLOAT)
}

/// A score argument with a custom error (WEIGHTS: "weight value is not a float").
pub fn parse_score_or(arg: &[u8], msg: &str) -> Result<f64, CmdError> {
    if arg.is_empty() || is_c_space(arg[0]) {
        return err(msg);
    }
    match strtod_full(arg) {
        Some(r) if !r.erange && !r.value.is_nan() => Ok(r.value),
        _ => err(msg),
    }
}

/// One end of a score range (`1.5`, `(1.5`, `-inf`): Redis's `zslParseRange` item.
fn score_bound(arg: &[u8]) -> Option<ScoreBound> {
    let (exclusive, num) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let value = if num.is_empty() { 0.0 } else { strtod_full(num)?.value };
    if value.is_nan() {
        return None;
    }
    Some(ScoreBound { value, exclusive })
}

/// `min max` of ZCOUNT, ZRANGEBYSCORE, ...: "ERR min or max is not a float".
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => err("ERR min or max is not a float"),
    }
}

/// One end of a lex range: Redis's `zslParseLexRangeItem`.
fn lex_bound(arg: &Bytes) -> Option<LexBound> {
    match arg.first()? {
        b'+' if arg.len() == 1 => Some(LexBound::Max),
        b'-' if arg.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Exclusive(arg.slice(1..))),
        b'[' => Some(LexBound::Inclusive(arg.slice(1..))),
        _ => None,
    }
}

/// `min max` of ZLEXCOUNT, ZRANGEBYLEX, ...: "ERR min or max not valid string range item".
pub fn parse_lex_range(min: &Bytes, max: &Bytes) -> Result<(LexBound, LexBound), CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => err("ERR min or max not valid string range item"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_get_double_from_object() {
        let ok = |s: &str| parse_score(s.as_bytes()).ok();
        assert_eq!(ok("1.5"), Some(1.5));
        assert_eq!(ok("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(ok("+Infinity"), Some(f64::INFINITY));
        assert_eq!(ok("0x10"), Some(16.0));
        assert_eq!(ok("0x1p-2"), Some(0.25));
        assert_eq!(ok("1e5"), Some(1e5));
        assert_eq!(ok(".5"), Some(0.5));
        assert_eq!(ok("5."), Some(5.0));
        assert_eq!(ok("4.9e-324"), Some(4.9e-324));
        assert_eq!(ok("007"), Some(7.0));
        assert_eq!(ok("-0"), Some(0.0));
        assert_eq!(ok("999999999999999"), Some(999999999999999.0));
        assert_eq!(ok("9007199254740993"), Some(9007199254740992.0));
        assert_eq!(ok("0X1P4"), Some(16.0));
        assert_eq!(ok("INF"), Some(f64::INFINITY));
        for bad in [
            "", " 1", "1 ", "nan", "1e400", "1e-400", "1e", "abc", "0x", "--1", "inf1",
        ] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ranges_parse_like_zsl_parse_range() {
        let b = |s: &str| score_bound(s.as_bytes());
        assert_eq!(
            b(""),
            Some(ScoreBound {
                value: 0.0,
                exclusive: false
            })
        );
        assert_eq!(
            b("("),
            Some(ScoreBound {
                value: 0.0,
                exclusive: true
            })
        );
        assert_eq!(
            b(" 1"),
            Some(ScoreBound {
                value: 1.0,
                exclusive: false
            })
        );
        assert_eq!(b("1e400").map(|x| x.value), Some(f64::INFINITY));
        assert_eq!(b("(0x10").map(|x| x.value), Some(16.0));
        assert_eq!(b("nan"), None);
        assert_eq!(b("1 "), None);
        assert_eq!(b("  "), None);
    }
}
