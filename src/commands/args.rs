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
