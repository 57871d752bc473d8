//! Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
//!
//! A bitmap is a string; bit 0 is the most significant bit of the first byte.

mod bitfield;

use super::args::int;
use super::spec::{lookups_first, source_key_misses};
use super::strings::{MAX_STRING_LEN, get_string, opt};
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use crate::store::Ttl;
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    Spec::write("setbit", setbit),
    Spec::read("getbit", getbit),
    Spec::read("bitcount", bitcount),
    Spec::read("bitpos", bitpos),
    Spec::write("bitop", bitop).misses(source_key_misses),
    Spec::write("bitfield", bitfield::bitfield)
        .misses(bitfield_misses)
        .places(lookups_first)
        .key_access(bitfield_access),
    Spec::read("bitfield_ro", bitfield::bitfield_ro),
];

/// BITFIELD's "variable flags": it writes unless it has only well-formed GET
/// and OVERFLOW operations (Redis's `bitfieldGetKeys`).
fn bitfield_access(args: &[Bytes]) -> super::keyspec::KeyAccess {
    let mut i = 2;
    let mut read_only = true;
    while i < args.len() {
        let rest = args.len() - i - 1;
        let op = &args[i];
        if op.eq_ignore_ascii_case(b"GET") && rest >= 2 {
            i += 3;
        } else if op.eq_ignore_ascii_case(b"OVERFLOW") && rest >= 1 {
            i += 2;
        } else {
            read_only = false;
            break;
        }
    }
    super::keyspec::KeyAccess {
        read: true,
        write: !read_only,
    }
}

/// A BITFIELD with only GET operations reads its key (Redis's
/// `lookupKeyRead`); with SET or INCRBY, it looks it up for writing.
fn bitfield_misses(_: &super::Command, args: &[Bytes]) -> Vec<usize> {
    let mut i = 2;
    while i < args.len() {
        let op = &args[i];
        if op.eq_ignore_ascii_case(b"GET") {
            i += 3;
        } else if op.eq_ignore_ascii_case(b"OVERFLOW") {
            i += 2;
        } else {
            return Vec::new();
        }
    }
    vec![1]
}

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// Redis's `getBitOffsetFromArgument`: a bit offset below 2^32 bytes * 8
/// (the 512 MB string limit). With `field_bits`, `#n` means `n * field_bits`.
fn bit_offset(arg: &[u8], field_bits: Option<u32>) -> Result<u64, CmdError> {
    let (digits, scale) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let Some(n) = parse_i64(digits) else {
        return err(BAD_OFFSET);
    };
    let n = n.wrapping_mul(scale);
    if n < 0 || (n >> 3) >= MAX_STRING_LEN {
        return err(BAD_OFFSET);
    }
    Ok(n as u64)
}

/// The string at `key` grown with zero bytes so that bit `max_bit` exists,
/// for commands that write bits (Redis's `lookupStringForBitCommand`), and
/// how it was found ([`Found`]). A missing key is created: `new` is reported.
fn string_for_bits(ctx: &mut Ctx, key: &Bytes, max_bit: u64) -> Result<(Vec<u8>, Found), CmdError> {
    let old = get_string(ctx, key)?;
    let found = match &old {
        None => {
            ctx.created(key);
            Found::Missing
        }
        Some(v) if v.len() <= (max_bit >> 3) as usize => Found::Grown,
        Some(_) => Found::Whole,
    };
    let mut v = old.map(|b| b.to_vec()).unwrap_or_default();
    let need = (max_bit >> 3) as usize + 1;
    if v.len() < need {
        v.resize(need, 0);
    }
    Ok((v, found))
}

/// How [`string_for_bits`] found the string: Redis's `dirty` flag (the key
/// changes even if no bit does) is set unless it was `Whole`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// No such key: it is created.
    Missing,
    /// Too short: it was padded with zero bytes.
    Grown,
    /// Long enough already.
    Whole,
}

/// SETBIT key offset value: the previous bit. Keeps the TTL.
fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&args[2], None)?;
    let on = match parse_i64(&args[3]) {
        Some(b @ (0 | 1)) => b as u8,
        _ => return err("ERR bit is not an integer or out of range"),
    };
    let (mut v, found) = string_for_bits(ctx, &args[1], offset)?;
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let old = v[byte] & mask != 0;
    // As Redis: when neither the bit nor the string changes, nothing is
    // written (the key keeps its version, so a WATCH on it holds) and no
    // event fires.
    if found != Found::Whole || old != (on == 1) {
        v[byte] = (v[byte] & !mask) | if on == 1 { mask } else { 0 };
        ctx.store.set_string(ctx.db, &args[1], &v, Ttl::Keep)?;
        ctx.notify(Class::String, "setbit", &args[1]);
    }
    Ok(Reply::Int(old as i64))
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let offset = bit_offset(&args[2], None)?;
    let v = get_string(ctx, &args[1])?.unwrap_or_default();
    let byte = (offset >> 3) as usize;
    let bit = v.get(byte).is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
    Ok(Reply::Int(bit as i64))
}

/// A range of a bitmap after Redis's index conversion: inclusive byte
/// indexes plus masks of the bits outside a BIT range in the edge bytes.
struct ByteRange {
    start: usize,
    end: usize,
    first_neg_mask: u8,
    last_neg_mask: u8,
}

/// The `BYTE|BIT` unit argument.
fn is_bit_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if opt(arg, "BIT") {
        Ok(true)
    } else if opt(arg, "BYTE") {
        Ok(false)
    } else {
        err(SYNTAX)
    }
}

/// Converts `start..=end` (negative from the end, in bytes or bits) over a
/// string of `len` bytes; `None` when the range is empty.
fn byte_range(start: i64, end: i64, len: usize, bits: bool) -> Option<ByteRange> {
    let total = if bits { (len as i64) << 3 } else { len as i64 };
    let mut start = if start < 0 { total.saturating_add(start) } else { start };
    let mut end = if end < 0 { total.saturating_add(end) } else { end };
    start = start.max(0);
    end = end.max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (mut first_neg_mask, mut last_neg_mask) = (0u8, 0u8);
    if bits {
        first_neg_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_neg_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Some(ByteRange {
        start: start as usize,
        end: end as usize,
        first_neg_mask,
        last_neg_mask,
    })
}

/// BITCOUNT key [start end [BYTE | BIT]]
fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    // Redis 7.0 looks the key up before parsing the range.
    let Some(v) = get_string(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let range = match args.len() {
        2 => byte_range(0, -1, v.len(), false),
        4 | 5 => {
            let start = int(&args[2])?;
            let end = int(&args[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Int(0));
            }
            let bits = args.len() == 5 && is_bit_unit(&args[4])?;
            byte_range(start, end, v.len(), bits)
        }
        _ => return err(SYNTAX),
    };
    let Some(r) = range else {
        return Ok(Reply::Int(0));
    };
    let mut count: i64 = v[r.start..=r.end].iter().map(|b| b.count_ones() as i64).sum();
    count -= (v[r.start] & r.first_neg_mask).count_ones() as i64;
    count -= (v[r.end] & r.last_neg_mask).count_ones() as i64;
    Ok(Reply::Int(count))
}

/// Redis's `redisBitpos`: the first bit equal to `bit` in `bytes`; when
/// looking for 0 and none is found, the position just past the end (the
/// string is taken as zero-padded), when looking for 1, -1.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match bytes.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = if bit { bytes[i] } else { !bytes[i] };
            (i as i64) * 8 + b.leading_zeros() as i64
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let bit = match int(&args[2])? {
        0 => false,
        1 => true,
        _ => return err("ERR The bit argument must be 1 or 0."),
    };
    let Some(v) = get_string(ctx, &args[1])? else {
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    let mut end_given = false;
    let range = match args.len() {
        3 => byte_range(0, -1, v.len(), false),
        4..=6 => {
            let start = int(&args[3])?;
            let bits = args.len() == 6 && is_bit_unit(&args[5])?;
            let end = if args.len() >= 5 {
                end_given = true;
                int(&args[4])?
            } else if bits {
                ((v.len() as i64) << 3) + 7
            } else {
                v.len() as i64 - 1
            };
            byte_range(start, end, v.len(), bits)
        }
        _ => return err(SYNTAX),
    };
    let Some(r) = range else {
        return Ok(Reply::Int(-1));
    };
    Ok(Reply::Int(bitpos_in(&v, &r, bit, end_given)))
}

/// The search of BITPOS within a non-empty range (Redis's edge-byte logic).
fn bitpos_in(v: &[u8], r: &ByteRange, bit: bool, end_given: bool) -> i64 {
    // Bits outside the range in the edge bytes are forced to the value not looked for.
    let masked = |b: u8, neg: u8| if bit { b & !neg } else { b | neg };
    let mut start = r.start;
    let mut bytes = r.end - r.start + 1;
    let pos = 'search: {
        if r.first_neg_mask != 0 {
            let mut c = masked(v[start], r.first_neg_mask);
            if r.last_neg_mask != 0 && bytes == 1 {
                c = masked(c, r.last_neg_mask);
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'search pos;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - usize::from(r.last_neg_mask != 0);
        if cur > 0 {
            let pos = first_bit(&v[start..start + cur], bit);
            if bytes == cur || (pos != -1 && pos != (cur as i64) << 3) {
                break 'search pos;
            }
            start += cur;
            bytes -= cur;
        }
        first_bit(&[masked(v[r.end], r.last_neg_mask)], bit)
    };
    if end_given && !bit && pos == (bytes as i64) << 3 {
        return -1;
    }
    if pos == -1 { -1 } else { pos + ((start as i64) << 3) }
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: the length of the result.
fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match &args[1] {
        a if opt(a, "AND") => Op::And,
        a if opt(a, "OR") => Op::Or,
        a if opt(a, "XOR") => Op::Xor,
        a if opt(a, "NOT") => Op::Not,
        _ => return err(SYNTAX),
    };
    if op == Op::Not && args.len() != 4 {
        return err("ERR BITOP NOT must be called with a single source key.");
    }
    let mut sources = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        sources.push(get_string(ctx, key)?.unwrap_or_default());
    }
    let maxlen = sources.iter().map(Bytes::len).max().unwrap_or(0);
    let dest = &args[2];
    if maxlen == 0 {
        if ctx.store.delete(ctx.db, dest)? {
            ctx.notify(Class::Generic, "del", dest);
        }
        return Ok(Reply::Int(0));
    }
    let byte = |s: &Bytes, j: usize| s.get(j).copied().unwrap_or(0);
    let res: Vec<u8> = (0..maxlen)
        .map(|j| {
            let first = byte(&sources[0], j);
            let rest = sources[1..].iter().map(|s| byte(s, j));
            match op {
                Op::And => rest.fold(first, |a, b| a & b),
                Op::Or => rest.fold(first, |a, b| a | b),
                Op::Xor => rest.fold(first, |a, b| a ^ b),
                Op::Not => !first,
            }
        })
        .collect();
    let created = ctx.will_create(dest)?;
    ctx.store.set_string(ctx.db, dest, &res, Ttl::Persist)?;
    if created {
        ctx.created(dest);
    }
    ctx.notify(Class::String, "set", dest);
    Ok(Reply::Int(maxlen as i64))
}
