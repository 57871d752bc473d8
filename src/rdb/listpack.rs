//! Redis's listpack (`listpack.c`): a byte array of integers and strings, as
//! RDB payloads embed it (streams' nodes, and the small encodings of hashes,
//! sets and sorted sets).
//!
//! ```text
//! total bytes (u32 LE) | element count (u16 LE, 65535: unknown) | elements | 0xFF
//! ```
//!
//! Each element is its encoding and data, then its encoded length backwards
//! ("backlen"). [`Builder::string`] stores a string that is the canonical
//! form of an integer as the integer, as `lpAppend` does.

/// One decoded element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Int(i64),
    Str(Vec<u8>),
}

impl Item {
    /// The element as a string (an integer in decimal).
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Item::Int(n) => n.to_string().into_bytes(),
            Item::Str(s) => s,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Item::Int(n) => Some(*n),
            Item::Str(s) => crate::resp::request::parse_i64(s),
        }
    }
}

/// Builds a listpack element by element.
#[derive(Default)]
pub struct Builder {
    body: Vec<u8>,
    count: usize,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    fn element(&mut self, encoded: &[u8]) {
        self.body.extend_from_slice(encoded);
        let l = encoded.len() as u64;
        // lpEncodeBacklen: the most significant 7 bits first, every byte
        // after the first with its top bit set.
        let n = backlen_size(encoded.len());
        let back: Vec<u8> = (0..n)
            .map(|i| {
                let b = ((l >> (7 * (n - 1 - i))) & 127) as u8;
                if i == 0 { b } else { b | 128 }
            })
            .collect();
        self.body.extend_from_slice(&back);
        self.count += 1;
    }

    /// `lpAppendInteger`.
    pub fn int(&mut self, v: i64) {
        let mut e = Vec::with_capacity(9);
        if (0..=127).contains(&v) {
            e.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            e.push(0xC0 | (u >> 8) as u8);
            e.push(u as u8);
        } else if let Ok(x) = i16::try_from(v) {
            e.push(0xF1);
            e.extend_from_slice(&x.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            e.push(0xF2);
            e.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if let Ok(x) = i32::try_from(v) {
            e.push(0xF3);
            e.extend_from_slice(&x.to_le_bytes());
        } else {
            e.push(0xF4);
            e.extend_from_slice(&v.to_le_bytes());
        }
        self.element(&e);
    }

    /// `lpAppend`: an integer if the string is the canonical form of one.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 20
            && let Some(v) = crate::resp::request::parse_i64(s)
            && v.to_string().as_bytes() == s
        {
            return self.int(v);
        }
        let mut e = Vec::with_capacity(s.len() + 5);
        if s.len() < 64 {
            e.push(0x80 | s.len() as u8);
        } else if s.len() < 4096 {
            e.push(0xE0 | (s.len() >> 8) as u8);
            e.push(s.len() as u8);
        } else {
            e.push(0xF0);
            e.extend_from_slice(&(s.len() as u32).to_le_bytes());
        }
        e.extend_from_slice(s);
        self.element(&e);
    }

    /// The finished listpack.
    pub fn finish(self) -> Vec<u8> {
        let total = 6 + self.body.len() + 1;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&(self.count.min(65535) as u16).to_le_bytes());
        out.extend_from_slice(&self.body);
        out.push(0xFF);
        out
    }
}

/// The bytes of an element's backlen (`lpEncodeBacklen`'s thresholds).
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Decodes a listpack; `None` if it is malformed.
pub fn decode(lp: &[u8]) -> Option<Vec<Item>> {
    if lp.len() < 7 || u32::from_le_bytes(lp[..4].try_into().ok()?) as usize != lp.len() {
        return None;
    }
    let mut p = 6;
    let mut out = Vec::new();
    loop {
        let b = *lp.get(p)?;
        if b == 0xFF {
            break;
        }
        let int_at = |from: usize, n: usize| -> Option<i64> {
            let bytes = lp.get(from..from + n)?;
            let mut buf = [0u8; 8];
            buf[..n].copy_from_slice(bytes);
            let v = i64::from_le_bytes(buf);
            let shift = 64 - 8 * n as u32;
            Some((v << shift) >> shift)
        };
        let (item, len) = if b & 0x80 == 0 {
            (Item::Int(b as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3f) as usize;
            (Item::Str(lp.get(p + 1..p + 1 + n)?.to_vec()), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let u = (((b & 0x1f) as u64) << 8) | *lp.get(p + 1)? as u64;
            let v = ((u << 51) as i64) >> 51;
            (Item::Int(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let n = (((b & 0x0f) as usize) << 8) | *lp.get(p + 1)? as usize;
            (Item::Str(lp.get(p + 2..p + 2 + n)?.to_vec()), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let n = u32::from_le_bytes(lp.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                    (Item::Str(lp.get(p + 5..p + 5 + n)?.to_vec()), 5 + n)
                }
                0xF1 => (Item::Int(int_at(p + 1, 2)?), 3),
                0xF2 => (Item::Int(int_at(p + 1, 3)?), 4),
                0xF3 => (Item::Int(int_at(p + 1, 4)?), 5),
                0xF4 => (Item::Int(int_at(p + 1, 8)?), 9),
                _ => return None,
            }
        };
        p += len + backlen_size(len);
        out.push(item);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_round_trip() {
        let mut b = Builder::new();
        let ints = [
            0i64,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32768,
            1 << 23,
            -(1 << 23) - 1,
            i64::MIN,
            i64::MAX,
        ];
        for v in ints {
            b.int(v);
        }
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        b.string(b"abc");
        b.string(b"12");
        b.string(b"012");
        b.string(&mid);
        b.string(&long);
        let lp = b.finish();
        let items = decode(&lp).unwrap();
        let mut want: Vec<Item> = ints.iter().map(|&v| Item::Int(v)).collect();
        want.extend([
            Item::Str(b"abc".to_vec()),
            Item::Int(12),
            Item::Str(b"012".to_vec()),
            Item::Str(mid),
            Item::Str(long),
        ]);
        assert_eq!(items, want);
    }

    #[test]
    fn a_small_listpack_is_redis_bytes() {
        // lpNew + lpAppend("a") + lpAppendInteger(1): Redis's bytes.
        let mut b = Builder::new();
        b.string(b"a");
        b.int(1);
        assert_eq!(b.finish(), vec![12, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xFF]);
    }
}
