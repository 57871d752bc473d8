//! Replies and their encoding in RESP2 and RESP3.

use bytes::{BufMut, Bytes, BytesMut};

/// One reply to a client, independent of the protocol version.
///
/// RESP3-only shapes degrade the way Redis degrades them for RESP2 clients:
/// a map becomes a flat array, a set an array, a double a bulk string, a
/// boolean an integer, a null a null bulk string (or null array).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK` style status line. Must not contain CR or LF.
    Status(Bytes),
    /// `-ERR ...` error line, including its code (`ERR`, `WRONGTYPE`, ...).
    Error(Bytes),
    Int(i64),
    Bulk(Bytes),
    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// The null array: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    /// Key/value pairs: `%` in RESP3, a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `~` in RESP3, an array in RESP2.
    Set(Vec<Reply>),
    /// `,` in RESP3, a bulk string in RESP2 (formatted as Redis does).
    Double(f64),
    /// `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    Bool(bool),
    /// `=` verbatim string in RESP3 (`txt`), a bulk string in RESP2.
    Verbatim(Bytes),
    /// `(` big number in RESP3, a bulk string in RESP2.
    BigNumber(Bytes),
    /// `>` out-of-band push in RESP3, an array in RESP2.
    Push(Vec<Reply>),
    /// Bytes written as they are (already encoded RESP); used for stored replies.
    Raw(Bytes),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status(Bytes::from_static(b"OK"))
    }

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply. `msg` includes the code, e.g. `"ERR syntax error"`.
    pub fn error(msg: impl Into<String>) -> Reply {
        Reply::Error(Bytes::from(msg.into()))
    }

    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    pub fn bulk_str(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The text of an error reply (lossy for binary bytes); empty for others.
    pub fn error_text(&self) -> String {
        match self {
            Reply::Error(e) => String::from_utf8_lossy(e).into_owned(),
            _ => String::new(),
        }
    }

    /// Appends this reply, encoded for protocol version `proto` (2 or 3), to `out`.
    pub fn write(&self, proto: u8, out: &mut BytesMut) {
        match self {
            Reply::Status(s) => line(out, b'+', s),
            Reply::Error(e) => line(out, b'-', e),
            Reply::Int(i) => {
                out.put_u8(b':');
                put_int(out, *i);
                out.put_slice(b"\r\n");
            }
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil => out.put_slice(if proto >= 3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.put_slice(if proto >= 3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => {
                header(out, b'*', items.len());
                items.iter().for_each(|r| r.write(proto, out));
            }
            Reply::Set(items) => {
                header(out, if proto >= 3 { b'~' } else { b'*' }, items.len());
                items.iter().for_each(|r| r.write(proto, out));
            }
            Reply::Push(items) => {
                header(out, if proto >= 3 { b'>' } else { b'*' }, items.len());
                items.iter().for_each(|r| r.write(proto, out));
            }
            Reply::Map(pairs) => {
                if proto >= 3 {
                    header(out, b'%', pairs.len());
                } else {
                    header(out, b'*', pairs.len() * 2);
                }
                for (k, v) in pairs {
                    k.write(proto, out);
                    v.write(proto, out);
                }
            }
            Reply::Double(d) => {
                if proto >= 3 {
                    out.put_u8(b',');
                    out.put_slice(format_double_resp3(*d).as_bytes());
                    out.put_slice(b"\r\n");
                } else {
                    bulk(out, format_double(*d).as_bytes());
                }
            }
            Reply::Bool(b) => {
                if proto >= 3 {
                    out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::Verbatim(b) => {
                if proto >= 3 {
                    header(out, b'=', b.len() + 4);
                    out.put_slice(b"txt:");
                    out.put_slice(b);
                    out.put_slice(b"\r\n");
                } else {
                    bulk(out, b);
                }
            }
            Reply::BigNumber(b) => {
                if proto >= 3 {
                    line(out, b'(', b);
                } else {
                    bulk(out, b);
                }
            }
            Reply::Raw(b) => out.put_slice(b),
        }
    }

    /// The reply encoded as bytes (convenience for tests and stored replies).
    pub fn to_bytes(&self, proto: u8) -> Bytes {
        let mut out = BytesMut::new();
        self.write(proto, &mut out);
        out.freeze()
    }
}

fn line(out: &mut BytesMut, prefix: u8, s: &[u8]) {
    out.put_u8(prefix);
    // A status or error line cannot carry CR/LF: Redis replaces them with spaces.
    if s.iter().any(|&c| c == b'\r' || c == b'\n') {
        out.extend(s.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
    } else {
        out.put_slice(s);
    }
    out.put_slice(b"\r\n");
}

fn header(out: &mut BytesMut, prefix: u8, len: usize) {
    out.put_u8(prefix);
    put_int(out, len as i64);
    out.put_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, b: &[u8]) {
    header(out, b'$', b.len());
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

/// Writes `i` in decimal, without allocating (every reply header goes through here).
fn put_int(out: &mut BytesMut, i: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = i.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.put_u8(b'-');
    }
    out.put_slice(&digits[at..]);
}

/// Formats a double the way Redis 7.0 does in RESP2 replies (`%.17g`), with
/// `inf`/`-inf` for infinities.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    format_g17(d)
}

/// RESP3 `,` doubles: Redis 7.0 prints `%.17g` too, with `inf`/`-inf`/`nan`.
fn format_double_resp3(d: f64) -> String {
    format_double(d)
}

/// C's `printf("%.17g", d)`.
pub fn format_g17(d: f64) -> String {
    format_g(d, 17)
}

/// C's `printf("%.{prec}g", d)` for finite `d`.
pub fn format_g(d: f64, prec: usize) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let prec = prec.max(1);
    // Scientific form with prec significant digits tells us the exponent after rounding.
    let sci = format!("{:.*e}", prec - 1, d);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if exp < -4 || exp >= prec as i32 {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mantissa, sign, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_print_like_to_string() {
        for i in [0, 1, -1, 9, 10, -10, 99, 100, 12345, i64::MAX, i64::MIN, i64::MIN + 1] {
            let mut out = BytesMut::new();
            put_int(&mut out, i);
            assert_eq!(&out[..], i.to_string().as_bytes());
        }
    }

    #[test]
    fn g17_matches_printf() {
        assert_eq!(format_g17(1.1), "1.1000000000000001");
        assert_eq!(format_g17(3.0), "3");
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(1.5e-5), "1.5e-05");
        assert_eq!(format_g17(-2.5), "-2.5");
        assert_eq!(format_g17(123456789012345680.0), "1.2345678901234568e+17");
        assert_eq!(format_g(10.5, 17), "10.5");
        assert_eq!(format_g(0.0001, 17), "0.0001");
    }

    #[test]
    fn resp2_downgrades() {
        let m = Reply::Map(vec![(Reply::bulk_str("a"), Reply::Int(1))]);
        assert_eq!(&m.to_bytes(2)[..], b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(&m.to_bytes(3)[..], b"%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(&Reply::Nil.to_bytes(2)[..], b"$-1\r\n");
        assert_eq!(&Reply::Nil.to_bytes(3)[..], b"_\r\n");
        assert_eq!(&Reply::NilArray.to_bytes(2)[..], b"*-1\r\n");
        assert_eq!(&Reply::Double(1.5).to_bytes(2)[..], b"$3\r\n1.5\r\n");
        assert_eq!(&Reply::Double(1.5).to_bytes(3)[..], b",1.5\r\n");
        assert_eq!(&Reply::Bool(true).to_bytes(2)[..], b":1\r\n");
    }

    #[test]
    fn status_lines_never_break() {
        let r = Reply::error("ERR a\r\nb");
        assert_eq!(&r.to_bytes(2)[..], b"-ERR a  b\r\n");
    }
}
