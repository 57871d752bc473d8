//! Redis's listpack (`listpack.c`), the compact encoding of small hashes and
//! sorted sets and of the nodes of a list, as DUMP payloads carry it.
//!
//! ```text
//! +-----------------+---------------+---------+---------+-----+------+
//! | total bytes u32 | count u16     | entry 1 | entry 2 | ... | 0xFF |
//! +-----------------+---------------+---------+---------+-----+------+
//! ```
//!
//! Both header fields are little-endian; a count of 65535 means "at least
//! that many, count them". Each entry is an encoding byte (with the value or
//! the length in it or in the following bytes), the data, and a "backlen": the
//! size of encoding + data, in 1 to 5 bytes of 7 bits each, so the listpack can
//! be walked backwards. Strings that read as an `i64` (Redis's
//! `lpStringToInt64`, the rules of [`parse_i64`]) are stored as integers in the
//! smallest of the 7-bit unsigned, 13/16/24/32/64-bit signed forms; other
//! strings take a 6-bit, 12-bit or 32-bit length.

use crate::resp::request::parse_i64;

const HEADER_SIZE: usize = 6;
const EOF: u8 = 0xff;
/// The count field's "unknown" value.
const COUNT_UNKNOWN: u16 = u16::MAX;

const ENC_13BIT_INT: u8 = 0xc0;
const ENC_12BIT_STR: u8 = 0xe0;
const ENC_16BIT_INT: u8 = 0xf1;
const ENC_24BIT_INT: u8 = 0xf2;
const ENC_32BIT_INT: u8 = 0xf3;
const ENC_64BIT_INT: u8 = 0xf4;
const ENC_32BIT_STR: u8 = 0xf0;
const ENC_6BIT_STR: u8 = 0x80;

/// Builds a listpack by appending entries (`lpAppend`, `lpAppendInteger`).
#[derive(Debug, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            buf: vec![0; HEADER_SIZE],
            count: 0,
        }
    }

    /// The size the listpack has now, terminator included (Redis's `lpBytes`).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends a string, as an integer when it reads as one (`lpAppend`).
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(n) => self.push_int(n),
            None => {
                let start = self.buf.len();
                let len = s.len();
                if len < 64 {
                    self.buf.push(ENC_6BIT_STR | len as u8);
                } else if len < 4096 {
                    self.buf
                        .extend_from_slice(&[ENC_12BIT_STR | (len >> 8) as u8, len as u8]);
                } else {
                    self.buf.push(ENC_32BIT_STR);
                    self.buf.extend_from_slice(&(len as u32).to_le_bytes());
                }
                self.buf.extend_from_slice(s);
                self.end_entry(start);
            }
        }
    }

    /// Appends an integer in its smallest form (`lpEncodeIntegerGetType`).
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let le = v.to_le_bytes();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v & 0x1fff) as u16;
            self.buf.extend_from_slice(&[ENC_13BIT_INT | (u >> 8) as u8, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(ENC_16BIT_INT);
            self.buf.extend_from_slice(&le[..2]);
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(ENC_24BIT_INT);
            self.buf.extend_from_slice(&le[..3]);
        } else if i32::try_from(v).is_ok() {
            self.buf.push(ENC_32BIT_INT);
            self.buf.extend_from_slice(&le[..4]);
        } else {
            self.buf.push(ENC_64BIT_INT);
            self.buf.extend_from_slice(&le);
        }
        self.end_entry(start);
    }

    fn end_entry(&mut self, start: usize) {
        let l = (self.buf.len() - start) as u64;
        encode_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// `lpEncodeBacklen`: the entry size `l`, most significant 7 bits first, every
/// byte but the first with its top bit set.
fn encode_backlen(out: &mut Vec<u8>, l: u64) {
    let n = match l {
        0..=127 => 1,
        128..16383 => 2,
        16383..2_097_151 => 3,
        2_097_151..268_435_455 => 4,
        _ => 5,
    };
    for i in (0..n).rev() {
        let b = ((l >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { b } else { b | 128 });
    }
}

/// Builds a listpack of `items` (strings stored as integers where they read as one).
pub fn encode<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut w = Writer::new();
    for s in items {
        w.push(s);
    }
    w.finish()
}

/// The entries of a listpack, integers written back as decimal strings; `None`
/// if it is malformed: sizes that disagree with the header, an unknown
/// encoding, an entry or backlen running past the end, a wrong backlen, a
/// count that does not match, or bytes after the terminator (Redis's
/// `lpValidateIntegrity` with deep validation).
pub fn decode(lp: &[u8]) -> Option<Vec<Vec<u8>>> {
    if lp.len() < HEADER_SIZE + 1 {
        return None;
    }
    let total = u32::from_le_bytes(lp[..4].try_into().ok()?) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    if total != lp.len() || lp[total - 1] != EOF {
        return None;
    }
    let mut out = Vec::new();
    let mut p = HEADER_SIZE;
    loop {
        let b = *lp.get(p)?;
        if b == EOF {
            if p != total - 1 {
                return None;
            }
            break;
        }
        let get = |from: usize, n: usize| lp.get(from..from.checked_add(n)?);
        let sign_extend = |bytes: &[u8], bits: u32| {
            let mut v = 0u64;
            for (i, &x) in bytes.iter().enumerate() {
                v |= (x as u64) << (8 * i);
            }
            let shift = 64 - bits;
            ((v << shift) as i64) >> shift
        };
        let (entry_len, value): (usize, Vec<u8>) = if b & 0x80 == 0 {
            (1, (b as i64).to_string().into_bytes())
        } else if b & 0xc0 == ENC_6BIT_STR {
            let n = (b & 0x3f) as usize;
            (1 + n, get(p + 1, n)?.to_vec())
        } else if b & 0xe0 == ENC_13BIT_INT {
            let v = (((b & 0x1f) as u16) << 8) | *lp.get(p + 1)? as u16;
            (2, sign_extend(&v.to_le_bytes(), 13).to_string().into_bytes())
        } else if b & 0xf0 == ENC_12BIT_STR {
            let n = (((b & 0x0f) as usize) << 8) | *lp.get(p + 1)? as usize;
            (2 + n, get(p + 2, n)?.to_vec())
        } else {
            match b {
                ENC_16BIT_INT => (3, sign_extend(get(p + 1, 2)?, 16).to_string().into_bytes()),
                ENC_24BIT_INT => (4, sign_extend(get(p + 1, 3)?, 24).to_string().into_bytes()),
                ENC_32BIT_INT => (5, sign_extend(get(p + 1, 4)?, 32).to_string().into_bytes()),
                ENC_64BIT_INT => (9, sign_extend(get(p + 1, 8)?, 64).to_string().into_bytes()),
                ENC_32BIT_STR => {
                    let n = u32::from_le_bytes(get(p + 1, 4)?.try_into().ok()?) as usize;
                    (5usize.checked_add(n)?, get(p + 5, n)?.to_vec())
                }
                _ => return None,
            }
        };
        let backlen_at = p + entry_len;
        let mut expected = Vec::with_capacity(5);
        encode_backlen(&mut expected, entry_len as u64);
        if get(backlen_at, expected.len())? != &expected[..] {
            return None;
        }
        out.push(value);
        p = backlen_at + expected.len();
    }
    if count != COUNT_UNKNOWN && count as usize != out.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_forms() {
        let one = |s: &str| {
            let lp = encode([s.as_bytes()]);
            lp[HEADER_SIZE..lp.len() - 1].to_vec()
        };
        assert_eq!(one("0"), [0x00, 1]);
        assert_eq!(one("127"), [0x7f, 1]);
        assert_eq!(one("128"), [0xc0, 0x80, 2]);
        assert_eq!(one("-1"), [0xdf, 0xff, 2]);
        assert_eq!(one("-4096"), [0xd0, 0x00, 2]);
        assert_eq!(one("4095"), [0xcf, 0xff, 2]);
        assert_eq!(one("4096"), [0xf1, 0x00, 0x10, 3]);
        assert_eq!(one("-32768"), [0xf1, 0x00, 0x80, 3]);
        assert_eq!(one("32768"), [0xf2, 0x00, 0x80, 0x00, 4]);
        assert_eq!(one("-8388609"), [0xf3, 0xff, 0xff, 0x7f, 0xff, 5]);
        assert_eq!(one("2147483648"), [0xf4, 0, 0, 0, 0x80, 0, 0, 0, 0, 9]);
        // Not canonical: strings.
        assert_eq!(one("007"), [0x83, b'0', b'0', b'7', 4]);
        assert_eq!(one("-0"), [0x82, b'-', b'0', 3]);
        assert_eq!(one("+1"), [0x82, b'+', b'1', 3]);
    }

    #[test]
    fn string_forms_and_backlens() {
        let s63 = [b'a'; 63];
        let lp = encode([&s63[..]]);
        assert_eq!(lp[HEADER_SIZE], 0x80 | 63);
        assert_eq!(lp[lp.len() - 2], 64);
        let s200 = [b'b'; 200];
        let lp = encode([&s200[..]]);
        assert_eq!(&lp[HEADER_SIZE..HEADER_SIZE + 2], [0xe0, 200]);
        // backlen of 202: 202 >> 7 = 1, then (202 & 127) | 128.
        assert_eq!(&lp[lp.len() - 3..lp.len() - 1], [1, (202 & 127) | 128]);
        let s5000 = vec![b'c'; 5000];
        let lp = encode([&s5000[..]]);
        assert_eq!(&lp[HEADER_SIZE..HEADER_SIZE + 5], [0xf0, 0x88, 0x13, 0, 0]);
    }

    #[test]
    fn roundtrip() {
        let mut items: Vec<Vec<u8>> = [
            "",
            "0",
            "1",
            "-1",
            "127",
            "128",
            "-4097",
            "4096",
            "70000",
            "-70000",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "hello",
            "1.5",
            "007",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        items.push(vec![0, 255, 10, 13]);
        for n in [63, 64, 127, 128, 4095, 4096, 20000, 3_000_000] {
            items.push(vec![b'x'; n]);
        }
        let lp = encode(items.iter().map(|v| &v[..]));
        assert_eq!(u32::from_le_bytes(lp[..4].try_into().unwrap()) as usize, lp.len());
        assert_eq!(decode(&lp), Some(items));
        let empty = encode(std::iter::empty());
        assert_eq!(empty, [7, 0, 0, 0, 0, 0, 0xff]);
        assert_eq!(decode(&empty), Some(vec![]));
    }

    #[test]
    fn unknown_count_and_corruption() {
        let many: Vec<Vec<u8>> = (0..70000).map(|i: i64| i.to_string().into_bytes()).collect();
        let lp = encode(many.iter().map(|v| &v[..]));
        assert_eq!(&lp[4..6], [0xff, 0xff]);
        assert_eq!(decode(&lp).map(|v| v.len()), Some(70000));

        let good = encode([&b"abc"[..], b"12"]);
        assert!(decode(&good).is_some());
        let mut bad = good.clone();
        bad[0] += 1; // total bytes
        assert_eq!(decode(&bad), None);
        let mut bad = good.clone();
        bad[4] = 3; // count
        assert_eq!(decode(&bad), None);
        let mut bad = good.clone();
        bad[HEADER_SIZE + 4] = 9; // backlen of "abc"
        assert_eq!(decode(&bad), None);
        let mut bad = good.clone();
        bad[HEADER_SIZE] = 0xf5; // unknown encoding
        assert_eq!(decode(&bad), None);
        assert_eq!(decode(&good[..good.len() - 1]), None);
    }
}
