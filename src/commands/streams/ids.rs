//! Stream ids as Redis 7.0 parses them (`streamGenericParseIDOrReply`).

use super::super::{CmdError, err};
use crate::store::StreamId;

const INVALID: &str = "ERR Invalid stream ID specified as stream command argument";

/// An unsigned number as Redis's `string2ull`: a strict integer that is not
/// negative, or else what C's `strtoull` reads in base 10 (leading spaces
/// and a sign allowed, `-n` wrapping around), consuming the whole text.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::resp::request::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses `ms[-seq]`, `-` or `+` (unless `strict`); an absent sequence is
/// `missing_seq`. With `star`, `ms-*` is accepted: the result's flag then
/// says the sequence was not given.
fn parse(arg: &[u8], missing_seq: u64, strict: bool, star: bool) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 127 {
        return err(INVALID);
    }
    // C strings end at the first NUL.
    let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
    if arg == b"-" || arg == b"+" {
        if strict {
            return err(INVALID);
        }
        return Ok((if arg == b"-" { StreamId::MIN } else { StreamId::MAX }, true));
    }
    let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    };
    let Some(ms) = string2ull(ms) else { return err(INVALID) };
    match seq {
        Some(b"*") if star => Ok((StreamId::new(ms, 0), false)),
        Some(seq) => match string2ull(seq) {
            Some(seq) => Ok((StreamId::new(ms, seq), true)),
            None => err(INVALID),
        },
        None => Ok((StreamId::new(ms, missing_seq), true)),
    }
}

/// An id, `-` or `+`; an incomplete id gets `missing_seq`.
pub(crate) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    Ok(parse(arg, missing_seq, false, false)?.0)
}

/// An id, not `-` or `+`.
pub(crate) fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    Ok(parse(arg, missing_seq, true, false)?.0)
}

/// XADD's explicit id: `ms-seq`, `ms` or `ms-*`; and whether the sequence was given.
pub(super) fn parse_xadd_id(arg: &[u8]) -> Result<(StreamId, bool), CmdError> {
    parse(arg, 0, true, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(parse_id(b"5", 7).unwrap(), StreamId::new(5, 7));
        assert_eq!(parse_id(b"5-3", 7).unwrap(), StreamId::new(5, 3));
        assert_eq!(parse_id(b"-", 7).unwrap(), StreamId::MIN);
        assert_eq!(parse_id(b"+", 7).unwrap(), StreamId::MAX);
        assert!(parse_strict_id(b"+", 0).is_err());
        assert!(parse_id(b"-5", 0).is_err());
        assert!(parse_id(b"5-", 0).is_err());
        assert!(parse_id(b"a", 0).is_err());
        assert_eq!(parse_id(b"18446744073709551615-0", 0).unwrap().ms, u64::MAX);
        assert!(parse_id(b"18446744073709551616", 0).is_err());
        assert_eq!(parse_id(b"+5", 0).unwrap(), StreamId::new(5, 0));
        assert_eq!(parse_id(b"05", 0).unwrap(), StreamId::new(5, 0));
        assert_eq!(parse_xadd_id(b"5-*").unwrap(), (StreamId::new(5, 0), false));
        assert!(parse_strict_id(b"5-*", 0).is_err());
    }
}
