//! LZF compression exactly as Redis's bundled liblzf 3.6 does it (`lzf_c.c`,
//! `lzf_d.c` with Redis's `lzfP.h` settings: `HLOG 16`, `VERY_FAST`, not
//! `ULTRA_FAST`, `CHECK_INPUT`).
//!
//! Redis compresses RDB strings longer than 20 bytes with it, so porting the
//! compressor step by step (same hash, same match search, same run handling)
//! is what makes redsql's DUMP output byte-identical to Redis's. The format:
//!
//! ```text
//! 000LLLLL <L+1 bytes>          literal run of 1..32 bytes
//! LLLooooo oooooooo             back reference of L+2 bytes (L = 1..6), offset o+1
//! 111ooooo LLLLLLLL oooooooo    back reference of L+9 bytes, offset o+1
//! ```
//!
//! (One note on exactness: Redis leaves its hash table uninitialised, so in
//! rare cases a stale entry from an earlier call yields a different, equally
//! valid, back reference. redsql starts from an empty table, which gives the
//! output Redis gives in practice.)

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// liblzf's `IDX` for `VERY_FAST`: a multiplicative-like hash of the last
/// bytes seen (`hval` keeps more than three bytes of history, on purpose).
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// `FRST`: the first two bytes at `ip`. liblzf may read one byte past the end
/// of a one-byte input here (Redis never compresses such short strings); it
/// reads as 0 here.
fn first(input: &[u8], ip: usize) -> u32 {
    let at = |i: usize| input.get(i).copied().unwrap_or(0) as u32;
    (at(ip) << 8) | at(ip + 1)
}

/// `NEXT`: shifts the byte at `ip + 2` into the running hash value.
fn next(hval: u32, input: &[u8], ip: usize) -> u32 {
    (hval << 8) | input[ip + 2] as u32
}

/// Compresses `input` into at most `out_len` bytes; `None` if the result
/// would not fit (or either length is zero), like `lzf_compress` returning 0.
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_end = input.len();
    if in_end == 0 || out_len == 0 {
        return None;
    }
    // Positions of earlier 3-byte sequences by hash; 0 means "none" (position 0
    // can never be referenced anyway: liblzf requires `ref > in_data`).
    let mut htab = vec![0usize; HSIZE];
    // Writes never go past `out_len - 1`, but the run-start index may point
    // one or two bytes beyond before liblzf's checks reject it.
    let mut out = vec![0u8; out_len + 2];
    let out_end = out_len;
    let mut ip = 0usize;
    let mut op = 1usize; // start run
    let mut lit = 0usize;

    let mut hval = first(input, ip);
    while ip + 2 < in_end {
        hval = next(hval, input, ip);
        let slot = idx(hval);
        let reference = htab[slot];
        htab[slot] = ip;
        let off = ip.wrapping_sub(reference).wrapping_sub(1);
        if off < MAX_OFF
            && reference > 0
            && input[reference + 2] == input[ip + 2]
            && input[reference] == input[ip]
            && input[reference + 1] == input[ip + 1]
        {
            // Match found.
            let mut len = 2usize;
            let maxlen = (in_end - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            op -= usize::from(lit == 0); // undo run if length is zero
            len = extend_match(input, reference, ip, len, maxlen);
            len -= 2; // len is now #octets - 1
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip + 2 >= in_end {
                break;
            }
            // VERY_FAST: hash the last two positions of the match.
            ip -= 2;
            hval = first(input, ip);
            for _ in 0..2 {
                hval = next(hval, input, ip);
                htab[idx(hval)] = ip;
                ip += 1;
            }
        } else {
            // One more literal byte.
            if op >= out_end {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8; // stop run
                lit = 0;
                op += 1; // start run
            }
        }
    }

    if op + 3 > out_end {
        return None; // at most 3 bytes can be missing here
    }
    while ip < in_end {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    op -= usize::from(lit == 0); // undo run if length is zero
    out.truncate(op);
    Some(out)
}

/// liblzf's match extension: 16 unrolled comparisons when the match may be
/// long, then byte by byte up to `maxlen`. Returns the index of the first
/// mismatch (the quirks of the unrolled part are kept: it may run two bytes
/// past `maxlen`, which stays inside the input).
fn extend_match(input: &[u8], reference: usize, ip: usize, mut len: usize, maxlen: usize) -> usize {
    if maxlen > 16 {
        for _ in 0..16 {
            len += 1;
            if input[reference + len] != input[ip + len] {
                return len;
            }
        }
    }
    loop {
        len += 1;
        if !(len < maxlen && input[reference + len] == input[ip + len]) {
            return len;
        }
    }
}

/// Decompresses `input`, producing at most `out_len` bytes. Returns what was
/// produced, or `None` where `lzf_decompress` fails (output too small, input
/// truncated, reference before the start). Callers compare the length with
/// the expected one, as Redis does.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_end = input.len();
    if in_end == 0 {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0usize;
    loop {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            // Literal run.
            let n = ctrl + 1;
            if out.len() + n > out_len || ip + n > in_end {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            // Back reference.
            let mut len = ctrl >> 5;
            let mut back = ((ctrl & 0x1f) << 8) + 1;
            if ip >= in_end {
                return None;
            }
            if len == 7 {
                len += input[ip] as usize;
                ip += 1;
                if ip >= in_end {
                    return None;
                }
            }
            back += input[ip] as usize;
            ip += 1;
            if out.len() + len + 2 > out_len || back > out.len() {
                return None;
            }
            let start = out.len() - back;
            // Byte by byte: the source may overlap what is being written.
            for i in 0..len + 2 {
                out.push(out[start + i]);
            }
        }
        if ip >= in_end {
            return Some(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) {
        if let Some(c) = compress(data, data.len().saturating_sub(4).max(1)) {
            assert_eq!(decompress(&c, data.len()).as_deref(), Some(data), "input {data:?}");
        }
        // With a generous output buffer compression always succeeds.
        let c = compress(data, data.len() + data.len() / 16 + 64).expect("fits");
        assert_eq!(decompress(&c, data.len()).as_deref(), Some(data), "input {data:?}");
    }

    #[test]
    fn matches_real_redis_output() {
        // DUMP of 48 × "a" from redis-server 7.0.15: LZF data after the lengths.
        let data = [b'a'; 48];
        assert_eq!(
            compress(&data, 44).unwrap(),
            [0x01, 0x61, 0x61, 0xe0, 0x23, 0x00, 0x01, 0x61, 0x61]
        );
    }

    #[test]
    fn incompressible_data_does_not_fit() {
        let data: Vec<u8> = (0u8..=255).collect();
        assert_eq!(compress(&data, data.len() - 4), None);
        assert_eq!(compress(b"", 10), None);
        assert_eq!(compress(b"abc", 0), None);
    }

    #[test]
    fn roundtrips() {
        roundtrip(b"a");
        roundtrip(b"ab");
        roundtrip(b"abc");
        roundtrip(&[b'x'; 1000]);
        roundtrip(b"hello hello hello hello hello world world world world");
        let mut seed = 12345u64;
        for n in [21usize, 50, 100, 300, 1000, 10000, 100000] {
            let data: Vec<u8> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // A small alphabet so that matches are frequent.
                    b"abcd"[(seed >> 60) as usize & 3]
                })
                .collect();
            roundtrip(&data);
        }
    }

    #[test]
    fn decompress_rejects_corrupt_input() {
        assert_eq!(decompress(b"", 0), None);
        // Literal run longer than the input.
        assert_eq!(decompress(&[0x05, b'a'], 6), None);
        // Output bigger than announced.
        assert_eq!(decompress(&[0x01, b'a', b'b'], 1), None);
        // Back reference before the start.
        assert_eq!(decompress(&[0x20, 0x00], 10), None);
        // Truncated back reference.
        assert_eq!(decompress(&[0x00, b'a', 0xe0], 10), None);
        // Valid but shorter than announced: the caller sees the length.
        assert_eq!(decompress(&[0x00, b'a'], 10).unwrap(), b"a");
        // A reference that repeats the last byte (overlapping copy).
        assert_eq!(decompress(&[0x00, b'a', 0x20, 0x00], 4).unwrap(), b"aaaa");
    }
}
