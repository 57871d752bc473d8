//! Parsing client requests: RESP multibulk arrays and inline commands.
//!
//! The parser is incremental: feed it the connection's read buffer, and it
//! consumes whole commands from the front, keeping its place inside a large
//! multibulk request across reads. A length sent by the client never causes an
//! allocation larger than the bytes actually received (plus a bounded slack).
//! Errors carry Redis's exact texts; after one, the connection replies and
//! closes, as Redis does.

use super::Reply;
use bytes::{Buf, Bytes, BytesMut};

/// Longest inline command, and longest `*`/`$` header line (Redis's PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;
/// Most arguments in one multibulk request (Redis caps at INT_MAX; this keeps the
/// per-argument bookkeeping bounded: 1M arguments like Redis's client-query-buffer default).
pub const MAX_MULTIBULK: i64 = i32::MAX as i64;
/// Largest bulk argument by default (Redis's proto-max-bulk-len, 512 MB).
pub const DEFAULT_MAX_BULK: i64 = 512 * 1024 * 1024;
/// Room reserved ahead for a big bulk argument grows with what has arrived
/// (doubling, from this much): memory is never reserved for bytes that have
/// not come, so a client that sends `$536870912` and stops costs no more
/// than its read buffer.
const MIN_PREALLOC: usize = 16 * 1024;

/// A protocol error: the text that follows `-ERR ` in Redis's reply. Bytes,
/// not a `String`: Redis echoes an offending input byte as it is
/// (`expected '$', got '\xda'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub Bytes);

impl ParseError {
    fn new(s: impl AsRef<[u8]>) -> ParseError {
        ParseError([&b"Protocol error: "[..], s.as_ref()].concat().into())
    }

    /// The error reply Redis sends before it closes the connection.
    pub fn reply(&self) -> Reply {
        Reply::Error([&b"ERR "[..], &self.0].concat().into())
    }

    /// The message as text (invalid UTF-8 replaced), for logs and tests.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// Incremental request parser; one per connection.
#[derive(Debug)]
pub struct RequestParser {
    /// Arguments still expected in the current multibulk request, if inside one.
    remaining: usize,
    args: Vec<Bytes>,
    /// Length of the bulk argument whose `$len` line was read but whose body was not.
    bulk_len: Option<usize>,
    /// Largest accepted bulk length (proto-max-bulk-len).
    pub max_bulk: i64,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser {
            remaining: 0,
            args: Vec::new(),
            bulk_len: None,
            max_bulk: DEFAULT_MAX_BULK,
        }
    }
}

impl RequestParser {
    pub fn new(max_bulk: i64) -> RequestParser {
        RequestParser {
            max_bulk,
            ..Default::default()
        }
    }

    /// True while part of a request has been consumed but not all of it.
    pub fn in_request(&self) -> bool {
        self.remaining > 0 || self.bulk_len.is_some()
    }

    /// How many more bytes the buffer should have room for to finish the
    /// current bulk argument (a hint for the reader; bounded).
    pub fn wanted(&self, buf: &BytesMut) -> usize {
        match self.bulk_len {
            Some(n) => (n + 2).saturating_sub(buf.len()).min(buf.len().max(MIN_PREALLOC)),
            None => 0,
        }
    }

    /// Parses the next complete command from `buf`, consuming its bytes.
    ///
    /// Returns `Ok(None)` when more bytes are needed, `Ok(Some(args))` for a
    /// command (never empty), and `Err` for malformed input. `authenticated`
    /// false applies Redis's tighter limits for clients that have not passed AUTH.
    pub fn next(&mut self, buf: &mut BytesMut, authenticated: bool) -> Result<Option<Vec<Bytes>>, ParseError> {
        loop {
            if !self.in_request() {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match parse_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
                let Some(n) = read_header(buf, b'*', "too big mbulk count string")? else {
                    return Ok(None);
                };
                let n = n.ok_or_else(|| ParseError::new("invalid multibulk length"))?;
                if n > MAX_MULTIBULK {
                    return Err(ParseError::new("invalid multibulk length"));
                }
                if !authenticated && n > 10 {
                    return Err(ParseError::new("unauthenticated multibulk length"));
                }
                if n <= 0 {
                    continue; // `*0` / `*-1`: an empty request, ignored.
                }
                self.remaining = n as usize;
                self.args = Vec::with_capacity(self.remaining.min(1024));
            }
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => {
                        let Some(len) = read_header(buf, b'$', "too big bulk count string")? else {
                            return Ok(None);
                        };
                        let len = match len {
                            Some(l) if l >= 0 && l <= self.max_bulk => l,
                            _ => return Err(ParseError::new("invalid bulk length")),
                        };
                        if !authenticated && len > 16384 {
                            return Err(ParseError::new("unauthenticated bulk length"));
                        }
                        self.bulk_len = Some(len as usize);
                        len as usize
                    }
                };
                if buf.len() < len + 2 {
                    let want = (len + 2 - buf.len()).min(buf.len().max(MIN_PREALLOC));
                    buf.reserve(want);
                    return Ok(None);
                }
                let arg = buf.split_to(len).freeze();
                // Redis does not check the CRLF after a bulk; it skips two bytes.
                buf.advance(2);
                self.args.push(arg);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }
}

/// Reads a `*N` / `$N` header line starting with `prefix`. Like Redis, it
/// looks at the line only once it is complete (a CR and one more byte), and
/// only then checks the prefix. `Ok(None)`: incomplete. `Ok(Some(None))`: not a number.
fn read_header(buf: &mut BytesMut, prefix: u8, too_big: &str) -> Result<Option<Option<i64>>, ParseError> {
    let Some(cr) = find_before_nul(buf, b'\r') else {
        if buf.len() > INLINE_MAX {
            return Err(ParseError::new(too_big));
        }
        return Ok(None);
    };
    if buf.len() < cr + 2 {
        return Ok(None);
    }
    if buf[0] != prefix {
        return Err(ParseError::new(
            [&b"expected '"[..], &[prefix], b"', got '", &buf[..1], b"'"].concat(),
        ));
    }
    let n = parse_i64(&buf[1..cr]);
    buf.advance(cr + 2);
    Ok(Some(n))
}

/// The position of the first `byte` in `buf`, as C's `strchr` finds it on
/// Redis's NUL-terminated query buffer: a NUL byte before it hides it, so Redis
/// keeps waiting for the line's end (until the 64 KB limit).
fn find_before_nul(buf: &[u8], byte: u8) -> Option<usize> {
    buf.iter()
        .position(|&c| c == byte || c == 0)
        .filter(|&i| buf[i] == byte)
}

/// Parses a signed decimal integer exactly as Redis's `string2ll` (no spaces, no `+`, no leading zeros).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses one inline command line. `Ok(None)`: incomplete.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ParseError> {
    let Some(nl) = find_before_nul(buf, b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ParseError::new("too big inline request"));
        }
        return Ok(None);
    };
    let line = buf.split_to(nl + 1);
    let mut line = &line[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    match split_args(line) {
        Some(args) => Ok(Some(args.into_iter().map(Bytes::from).collect())),
        None => Err(ParseError::new("unbalanced quotes in request")),
    }
}

/// Splits a line into arguments like Redis's `sdssplitargs`: whitespace
/// separated, with "double quoted" strings (escapes `\n \r \t \b \a \\ \" \xHH`)
/// and 'single quoted' strings (only `\'`). `None` for unbalanced quotes, or a
/// closing quote not followed by a space.
///
/// Redis runs this on a C string, so a NUL byte ends the line: what follows it
/// is ignored (and a quote still open there is unbalanced).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&c| c == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_c_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' && is_hex(line[i + 2]) && is_hex(line[i + 3]) {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_c_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_c_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

/// C's `isspace`: unlike `u8::is_ascii_whitespace`, it includes vertical tab.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = p.next(&mut buf, true)? {
            out.push(args.into_iter().map(|b| b.to_vec()).collect());
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n  set a \"b c\\x41\"\n*0\r\n\r\n").unwrap();
        assert_eq!(
            cmds,
            vec![
                vec![b"GET".to_vec(), b"k".to_vec()],
                vec![b"PING".to_vec()],
                vec![b"set".to_vec(), b"a".to_vec(), b"b cA".to_vec()],
            ]
        );
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(
            parse_all(b"*2\r\n$3\r\nGET\r\n$600000000\r\n").unwrap_err().text(),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            parse_all(b"*x\r\n").unwrap_err().text(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n:1\r\n").unwrap_err().text(),
            "Protocol error: expected '$', got ':'"
        );
        // The offending byte is echoed raw, not as a UTF-8 encoded char.
        assert_eq!(
            parse_all(b"*1\r\n:1").unwrap(),
            Vec::<Vec<Vec<u8>>>::new(),
            "waits for the line's end"
        );
        assert_eq!(
            parse_all(b"*1\r\n\xda\r\n").unwrap_err().reply().to_bytes(2)[..],
            b"-ERR Protocol error: expected '$', got '\xda'\r\n"[..]
        );
        assert_eq!(
            parse_all(b"set a \"b\n").unwrap_err().text(),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n").unwrap_err().text(),
            "Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn nul_hides_the_line_end_like_strchr() {
        // Redis finds line ends with strchr: a NUL first means "incomplete".
        assert_eq!(parse_all(b"ECHO \0x\r\nPING\r\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
        assert_eq!(parse_all(b"*1\0\r\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
        let mut long = b"ECHO \0\r\n".to_vec();
        long.resize(INLINE_MAX + 10, b'a');
        assert_eq!(
            parse_all(&long).unwrap_err().text(),
            "Protocol error: too big inline request"
        );
    }

    #[test]
    fn inline_nul_ends_the_line_like_a_c_string() {
        assert_eq!(split_args(b"ECHO \0x y"), Some(vec![b"ECHO".to_vec()]));
        assert_eq!(split_args(b"\0ECHO"), Some(vec![]));
        assert_eq!(split_args(b"ECHO \"a\0b\""), None);
        // Vertical tab is a space to C's isspace (around arguments and after a closing quote).
        assert_eq!(
            split_args(b"\x0bECHO 'a'\x0b"),
            Some(vec![b"ECHO".to_vec(), b"a".to_vec()])
        );
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nxy\r\n";
        let mut p = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(args) = p.next(&mut buf, true).unwrap() {
                got = Some(args);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from_static(b"v\r\nxy"));
    }

    #[test]
    fn integers_like_string2ll() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
    }
}
