//! The storage step of the blocking commands (BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP).
//!
//! A blocking command's spec says what it waits on ([`super::Spec::blocks`]);
//! its handler is its storage step: an ordinary write command that parses every argument in Redis's order
//! (timeout included), then pops if there is something to pop and otherwise
//! answers what Redis answers inside MULTI, where blocking commands never
//! block: a null array (a null bulk for BLMOVE / BRPOPLPUSH). The server runs
//! the step as a write batch at first, and again each time a write touches
//! one of the keys, until it pops, fails, or the timeout passes (see
//! `server::blocking`). The step of each command lives with its family
//! (`lists`, `zsets`, and `streams` for XREAD and XREADGROUP, whose steps
//! are reads of entries and whose timeout counts milliseconds:
//! [`super::Spec::blocks_ms`]); this module has what they share.

use super::{CmdError, err};
use crate::resp::Reply;

/// True if a step's reply means "nothing to pop yet" (as opposed to popped
/// elements or an error).
pub fn is_empty_reply(reply: &Reply) -> bool {
    matches!(reply, Reply::Nil | Reply::NilArray)
}

/// A timeout argument in seconds, as Redis 7.0 reads it: a float (strtold
/// syntax), converted to whole milliseconds rounding up; 0 means forever.
/// Past `i64::MAX` ms the C conversion yields a negative number, hence
/// "timeout is negative" for `inf` and huge values, as in Redis.
pub fn timeout_ms(arg: &[u8]) -> Result<i64, CmdError> {
    let Some(secs) = seconds(arg) else {
        return err("ERR timeout is not a float or out of range");
    };
    let ms = (secs * 1000.0).ceil();
    if !(0.0..9_223_372_036_854_775_808.0).contains(&ms) {
        return err("ERR timeout is negative");
    }
    Ok(ms as i64)
}

/// A number as C's `strtold` reads it into a long double, approximated in an
/// f64: decimal or hexadecimal (`0x1.8p3`) notation, `inf`; values out of
/// the long double range (past about 1e4932 or below 1e-4951) are rejected
/// as Redis does on `ERANGE`, and values too small for an f64 but not for a
/// long double stay non-zero (so they round up to 1 ms, not to "forever").
fn seconds(arg: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(arg).ok()?;
    let unsigned = text.trim_start_matches(['+', '-']);
    let negative = text.starts_with('-');
    if unsigned.len() + 1 >= text.len() && (unsigned.starts_with("0x") || unsigned.starts_with("0X")) {
        let v = hex_float(&unsigned[2..])?;
        return Some(if negative { -v } else { v });
    }
    let v = super::args::parse_float(arg)?;
    let magnitude = || decimal_magnitude(unsigned);
    if v.is_infinite() && !unsigned.eq_ignore_ascii_case("inf") && !unsigned.eq_ignore_ascii_case("infinity") {
        return magnitude().filter(|&m| m <= LONG_DOUBLE_MAX_EXP10).map(|_| v);
    }
    if v == 0.0 {
        return match magnitude() {
            None => Some(v),
            Some(m) if m < LONG_DOUBLE_MIN_EXP10 => None,
            Some(_) => Some(if negative {
                -f64::MIN_POSITIVE
            } else {
                f64::MIN_POSITIVE
            }),
        };
    }
    Some(v)
}

/// Powers of ten of the largest and smallest (subnormal) long doubles.
const LONG_DOUBLE_MAX_EXP10: i64 = 4932;
const LONG_DOUBLE_MIN_EXP10: i64 = -4951;

/// The power of ten of the first significant digit of a decimal number
/// (`12.5e3` → 4), or `None` if it is zero.
fn decimal_magnitude(unsigned: &str) -> Option<i64> {
    let (mantissa, exp) = match unsigned.find(['e', 'E']) {
        Some(i) => {
            let e = &unsigned[i + 1..];
            let exp = e
                .parse::<i64>()
                .unwrap_or(if e.starts_with('-') { i64::MIN / 2 } else { i64::MAX / 2 });
            (&unsigned[..i], exp)
        }
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let int = int.trim_start_matches('0');
    if !int.is_empty() {
        return Some(exp + int.len() as i64 - 1);
    }
    let zeros = frac.len() - frac.trim_start_matches('0').len();
    (zeros < frac.len()).then(|| exp - zeros as i64 - 1)
}

/// The digits of a hexadecimal float after `0x`: `hex[.hex][p[+-]dec]`,
/// with at least one hex digit (strtold's syntax).
fn hex_float(digits: &str) -> Option<f64> {
    let (mantissa, exp) = match digits.find(['p', 'P']) {
        Some(i) => {
            let e = &digits[i + 1..];
            let body = e.trim_start_matches(['+', '-']);
            if body.is_empty() || e.len() - body.len() > 1 || !body.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let exp = e
                .parse::<i64>()
                .unwrap_or(if e.starts_with('-') { -100_000 } else { 100_000 });
            (&digits[..i], exp.clamp(-100_000, 100_000))
        }
        None => (digits, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0.0f64;
    for c in int.chars().chain(frac.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let exp = exp - 4 * frac.len() as i64;
    Some(value * 2f64.powi(exp.clamp(-2000, 2000) as i32))
}

#[cfg(test)]
mod tests {
    use super::timeout_ms;

    #[test]
    fn timeouts_read_like_redis() {
        assert_eq!(timeout_ms(b"0").ok(), Some(0));
        assert_eq!(timeout_ms(b"1").ok(), Some(1000));
        assert_eq!(timeout_ms(b"0.01").ok(), Some(10));
        assert_eq!(timeout_ms(b"0.0001").ok(), Some(1));
        assert_eq!(timeout_ms(b"-0.0001").ok(), Some(0));
        assert_eq!(timeout_ms(b".5").ok(), Some(500));
        assert!(timeout_ms(b"-1").is_err());
        assert!(timeout_ms(b"inf").is_err());
        assert!(timeout_ms(b"1e17").is_err());
        assert!(timeout_ms(b"x").is_err());
        assert!(timeout_ms(b" 1").is_err());
        assert!(timeout_ms(b"").is_err());
        assert_eq!(timeout_ms(b"0x10").ok(), Some(16000));
        assert_eq!(timeout_ms(b"0x1p-3").ok(), Some(125));
        assert_eq!(timeout_ms(b"0X.8").ok(), Some(500));
        assert_eq!(timeout_ms(b"-0x1p-20").ok(), Some(0));
        assert!(timeout_ms(b"0x").is_err());
        assert!(timeout_ms(b"0x1p").is_err());
        assert!(timeout_ms(b"0xg").is_err());
        assert_eq!(timeout_ms(b"1e-400").ok(), Some(1));
        assert_eq!(timeout_ms(b"-1e-400").ok(), Some(0));
        assert!(timeout_ms(b"1e-5000").is_err_and(|e| format!("{e:?}").contains("not a float")));
        assert!(timeout_ms(b"1e4932").is_err_and(|e| format!("{e:?}").contains("negative")));
        assert!(timeout_ms(b"0.1e4933").is_err_and(|e| format!("{e:?}").contains("negative")));
        assert!(timeout_ms(b"1e4933").is_err_and(|e| format!("{e:?}").contains("not a float")));
    }
}
