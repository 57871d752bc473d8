//! Parsing RESP3 replies into [`Reply`] values.
//!
//! redsql reads Redis's command metadata (captured from a real server, see
//! `tools/gen_command_table.py`) with this, and tests use it to read replies.

use super::Reply;
use bytes::Bytes;

/// Parses one RESP2/RESP3 value from the front of `buf`; returns it with the
/// number of bytes it took, or `None` if `buf` does not hold a whole valid value.
pub fn parse(buf: &[u8]) -> Option<(Reply, usize)> {
    let mut pos = 0;
    let v = value(buf, &mut pos)?;
    Some((v, pos))
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos;
    let rel = buf.get(start..)?.windows(2).position(|w| w == b"\r\n")?;
    *pos = start + rel + 2;
    Some(&buf[start..start + rel])
}

fn int(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn value(buf: &[u8], pos: &mut usize) -> Option<Reply> {
    let t = *buf.get(*pos)?;
    *pos += 1;
    let l = line(buf, pos)?;
    let text = || Bytes::copy_from_slice(l);
    Some(match t {
        b'+' => Reply::Status(text()),
        b'-' => Reply::Error(text()),
        b':' => Reply::Int(int(l)?),
        b'_' => Reply::Nil,
        b'#' => Reply::Bool(l == b"t"),
        b',' => Reply::Double(match l {
            b"inf" => f64::INFINITY,
            b"-inf" => f64::NEG_INFINITY,
            _ => std::str::from_utf8(l).ok()?.parse().ok()?,
        }),
        b'(' => Reply::BigNumber(text()),
        b'$' | b'=' | b'!' => {
            let n = int(l)?;
            if n < 0 {
                return Some(Reply::Nil);
            }
            let n = n as usize;
            let body = buf.get(*pos..*pos + n)?;
            *pos += n + 2;
            if buf.len() < *pos {
                return None;
            }
            match t {
                b'=' => Reply::Verbatim(Bytes::copy_from_slice(body.get(4..)?)),
                b'!' => Reply::Error(Bytes::copy_from_slice(body)),
                _ => Reply::Bulk(Bytes::copy_from_slice(body)),
            }
        }
        b'*' | b'~' | b'>' => {
            let n = int(l)?;
            if n < 0 {
                return Some(Reply::NilArray);
            }
            let items = (0..n).map(|_| value(buf, pos)).collect::<Option<Vec<_>>>()?;
            match t {
                b'~' => Reply::Set(items),
                b'>' => Reply::Push(items),
                _ => Reply::Array(items),
            }
        }
        b'%' | b'|' => {
            let n = int(l)?;
            let mut pairs = Vec::with_capacity(n.clamp(0, 1024) as usize);
            for _ in 0..n {
                let k = value(buf, pos)?;
                let v = value(buf, pos)?;
                pairs.push((k, v));
            }
            Reply::Map(pairs)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Reply::Map(vec![
            (
                Reply::bulk_str("a"),
                Reply::Array(vec![Reply::Int(1), Reply::Nil, Reply::Double(2.5)]),
            ),
            (Reply::status("s"), Reply::Set(vec![Reply::Bool(true)])),
        ]);
        let bytes = r.to_bytes(3);
        let (back, used) = parse(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(back, r);
        assert!(parse(&bytes[..bytes.len() - 1]).is_none());
    }
}
