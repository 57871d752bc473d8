//! CRC-64/Jones as Redis computes it (`crc64.c`): polynomial
//! `0xad93d23594c935a9`, reflected input and output, initial value 0, no final
//! xor. It is the checksum at the end of every DUMP payload.
//!
//! Check value: `crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca` (Redis's own self-test).

/// The Jones polynomial, bit-reversed for the reflected (LSB-first) algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// One table entry per byte value, built at compile time.
const TABLE: [u64; 256] = build_table();

const fn build_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continues a CRC over `data`, starting from `crc` (0 for a fresh checksum).
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(crc, |crc, &b| TABLE[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8))
}

#[cfg(test)]
mod tests {
    use super::crc64;

    #[test]
    fn check_value_matches_redis_self_test() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn empty_input_keeps_the_seed() {
        assert_eq!(crc64(0, b""), 0);
        assert_eq!(crc64(42, b""), 42);
    }

    #[test]
    fn can_be_computed_incrementally() {
        let whole = crc64(0, b"hello world");
        assert_eq!(crc64(crc64(0, b"hello "), b"world"), whole);
    }

    #[test]
    fn matches_a_real_redis_dump_footer() {
        // DUMP of the string "123" from redis-server 7.0.15.
        let payload = [0x00, 0xc0, 0x7b, 0x0a, 0x00];
        let crc = [0x48, 0xe2, 0x53, 0xe1, 0x00, 0x7a, 0x67, 0xb9];
        assert_eq!(crc64(0, &payload).to_le_bytes(), crc);
    }
}
