//! Redis's ziplist (`ziplist.c`), the compact encoding of small lists, hashes
//! and sorted sets before Redis 7.0's listpacks. RESTORE reads it in payloads
//! from older Redis versions; nothing writes it.
//!
//! ```text
//! +-----------+-----------+----------+---------+-----+------+
//! | bytes u32 | tail u32  | count u16| entry 1 | ... | 0xFF |
//! +-----------+-----------+----------+---------+-----+------+
//! ```
//!
//! Header fields are little-endian (a count of 65535: count them). An entry
//! is the previous entry's size (1 byte, or 0xFE and 4 bytes LE), an encoding
//! — a string with a 6-bit, 14-bit (big-endian) or 32-bit (big-endian)
//! length, or an integer of 8/16/24/32/64 bits LE, or 0..12 in the encoding
//! byte itself — and the data.

const HEADER_SIZE: usize = 10;
const END: u8 = 0xff;
const BIG_PREVLEN: u8 = 0xfe;

/// The entries, integers as decimal strings; `None` if the ziplist is
/// malformed (sizes, tail offset, previous-entry lengths or count that
/// disagree with the data, an unknown encoding, data past the end).
pub fn decode(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
    if zl.len() < HEADER_SIZE + 1 {
        return None;
    }
    let total = u32::from_le_bytes(zl[..4].try_into().ok()?) as usize;
    let tail = u32::from_le_bytes(zl[4..8].try_into().ok()?) as usize;
    let count = u16::from_le_bytes([zl[8], zl[9]]);
    if total != zl.len() || zl[total - 1] != END {
        return None;
    }
    let mut out = Vec::new();
    let mut p = HEADER_SIZE;
    let (mut prev_len, mut last_start) = (0usize, HEADER_SIZE);
    let get = |from: usize, n: usize| zl.get(from..from.checked_add(n)?);
    while *zl.get(p)? != END {
        let start = p;
        let (prevlen, size) = match zl[p] {
            BIG_PREVLEN => (u32::from_le_bytes(get(p + 1, 4)?.try_into().ok()?) as usize, 5),
            b => (b as usize, 1),
        };
        if prevlen != prev_len {
            return None;
        }
        p += size;
        let enc = *zl.get(p)?;
        let int = |bytes: &[u8]| {
            let mut v = 0u64;
            for (i, &x) in bytes.iter().enumerate() {
                v |= (x as u64) << (8 * i);
            }
            let shift = 64 - 8 * bytes.len() as u32;
            (((v << shift) as i64) >> shift).to_string().into_bytes()
        };
        let (header, value) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                (1, get(p + 1, n)?.to_vec())
            }
            1 => {
                let n = (((enc & 0x3f) as usize) << 8) | *zl.get(p + 1)? as usize;
                (2, get(p + 2, n)?.to_vec())
            }
            2 if enc == 0x80 => {
                let n = u32::from_be_bytes(get(p + 1, 4)?.try_into().ok()?) as usize;
                (5, get(p + 5, n)?.to_vec())
            }
            2 => return None,
            _ => match enc {
                0xc0 => (1, int(get(p + 1, 2)?)),
                0xd0 => (1, int(get(p + 1, 4)?)),
                0xe0 => (1, int(get(p + 1, 8)?)),
                0xf0 => (1, int(get(p + 1, 3)?)),
                0xfe => (1, int(get(p + 1, 1)?)),
                0xf1..=0xfd => (1, ((enc & 0x0f) - 1).to_string().into_bytes()),
                _ => return None,
            },
        };
        let data_len = match enc {
            0xc0 => 2,
            0xd0 => 4,
            0xe0 => 8,
            0xf0 => 3,
            0xfe => 1,
            0xf1..=0xfd => 0,
            _ => value.len(),
        };
        p += header + data_len;
        prev_len = p - start;
        last_start = start;
        out.push(value);
    }
    if p != total - 1 || tail != last_start {
        return None;
    }
    if count != u16::MAX && count as usize != out.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist of hand-encoded entries (each: encoding + data).
    fn build(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = HEADER_SIZE;
        for e in entries {
            tail = HEADER_SIZE + body.len();
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(BIG_PREVLEN);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let total = HEADER_SIZE + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(END);
        zl
    }

    #[test]
    fn decodes_every_encoding() {
        let long = [&[0x80u8, 0, 0, 1, 44][..], &vec![b'y'; 300]].concat();
        let mid = [&[0x41u8, 0x2c][..], &vec![b'x'; 300]].concat();
        let zl = build(&[
            b"\x03abc",
            &mid,
            &long,
            b"\xc0\x39\x30",
            b"\xd0\xff\xff\xff\xff",
            b"\xe0\x00\x00\x00\x00\x00\x00\x00\x80",
            b"\xf0\x00\x00\x80",
            b"\xfe\x80",
            b"\xf1",
            b"\xfd",
        ]);
        let got = decode(&zl).unwrap();
        let want: Vec<Vec<u8>> = vec![
            b"abc".to_vec(),
            vec![b'x'; 300],
            vec![b'y'; 300],
            b"12345".to_vec(),
            b"-1".to_vec(),
            i64::MIN.to_string().into_bytes(),
            (-8388608).to_string().into_bytes(),
            b"-128".to_vec(),
            b"0".to_vec(),
            b"12".to_vec(),
        ];
        assert_eq!(got, want);
        assert_eq!(decode(&build(&[])), Some(vec![]));
    }

    #[test]
    fn refuses_corruption() {
        let good = build(&[b"\x01a", b"\xf5"]);
        assert!(decode(&good).is_some());
        for (at, v) in [(0, 99u8), (4, 3), (8, 5), (11, 0x05), (13, 0xf5)] {
            let mut bad = good.clone();
            bad[at] = v;
            assert_eq!(decode(&bad), None, "byte {at} = {v}");
        }
        assert_eq!(decode(&good[..good.len() - 1]), None);
    }
}
