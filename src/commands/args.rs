//! Parsing command arguments the way Redis does (integers, floats, options).

use super::{CmdError, NOT_FLOAT, NOT_INTEGER, err};
use crate::resp::request::parse_i64;

/// An integer argument (Redis's `getLongLongFromObject`).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).map_or_else(|| err(NOT_INTEGER), Ok)
}

/// An integer argument with a custom error message.
pub fn int_or(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    parse_i64(arg).map_or_else(|| err(msg), Ok)
}

/// A float argument as Redis's `getLongDoubleFromObject`/`strtold` accepts it:
/// decimal or exponent notation, `inf`/`-inf`, no surrounding spaces, not NaN.
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_float(arg).map_or_else(|| err(NOT_FLOAT), Ok)
}

pub fn parse_float(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_whitespace()) || s.ends_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            if lower.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        t if t.starts_with("0x") => return None,
        t if t.contains("nan") || t.contains("inf") => return None,
        _ => lower.parse::<f64>().ok()?,
    };
    if v.is_nan() { None } else { Some(v) }
}

/// Case-insensitive comparison of an argument with an ASCII option name.
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// A SCAN-family cursor as Redis parses it (`parseScanCursorOrReply`, i.e.
/// C's `strtoul` in base 10): optional sign (a negative cursor wraps around),
/// digits, nothing after them up to the first NUL byte; leading space,
/// trailing garbage and overflow are "ERR invalid cursor". The empty string
/// is cursor 0.
pub fn scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || err("ERR invalid cursor");
    let s = arg.split(|&b| b == 0).next().unwrap_or_default();
    if s.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return invalid();
    }
    let mut v: u64 = 0;
    for &c in digits {
        match v.checked_mul(10).and_then(|v| v.checked_add((c - b'0') as u64)) {
            Some(n) => v = n,
            None => return invalid(),
        }
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::scan_cursor;

    #[test]
    fn cursors_parse_like_strtoul() {
        for (arg, want) in [
            (&b"0"[..], 0),
            (b"", 0),
            (b"+7", 7),
            (b"007", 7),
            (b"-1", u64::MAX),
            (b"18446744073709551615", u64::MAX),
            (b"5\x00junk", 5),
        ] {
            assert_eq!(scan_cursor(arg).ok(), Some(want), "{arg:?}");
        }
        for bad in [
            &b" 1"[..],
            b"1 ",
            b"x",
            b"+",
            b"-",
            b"18446744073709551616",
            b"1x",
            b"0x10",
            b"abc",
        ] {
            assert!(scan_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
