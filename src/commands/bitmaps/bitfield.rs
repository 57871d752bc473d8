//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits at any bit offset.

use super::{Found, bit_offset, string_for_bits};
use crate::commands::args::int;
use crate::commands::strings::{get_string, opt};
use crate::commands::{Class, CmdError, CmdResult, Ctx, SYNTAX, err};
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use crate::store::Ttl;
use bytes::Bytes;

/// What happens when INCRBY or SET does not fit the field.
#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum OpKind {
    Get,
    Set,
    IncrBy,
}

/// One GET/SET/INCRBY, parsed.
struct Op {
    kind: OpKind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// The SET value or INCRBY increment.
    value: i64,
    overflow: Overflow,
}

/// `i<bits>` (1..=64) or `u<bits>` (1..=63).
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    const BAD: &str =
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return err(BAD),
    };
    let digits = &arg[1..];
    let digits = &digits[..digits.iter().position(|&c| c == 0).unwrap_or(digits.len())];
    match parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => err(BAD),
    }
}

/// Parses the subcommands (Redis validates them all before touching the key).
fn parse_ops(args: &[Bytes]) -> Result<Vec<Op>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j];
        let kind = if opt(sub, "GET") && remaining >= 2 {
            OpKind::Get
        } else if opt(sub, "SET") && remaining >= 3 {
            OpKind::Set
        } else if opt(sub, "INCRBY") && remaining >= 3 {
            OpKind::IncrBy
        } else if opt(sub, "OVERFLOW") && remaining >= 1 {
            let name = &args[j + 1];
            overflow = if opt(name, "WRAP") {
                Overflow::Wrap
            } else if opt(name, "SAT") {
                Overflow::Sat
            } else if opt(name, "FAIL") {
                Overflow::Fail
            } else {
                return err("ERR Invalid OVERFLOW type specified");
            };
            j += 2;
            continue;
        } else {
            return err(SYNTAX);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(&args[j + 2], Some(bits))?;
        let value = if kind == OpKind::Get { 0 } else { int(&args[j + 3])? };
        ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == OpKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value | INCRBY type offset increment ...]
pub fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run(ctx, args, true)
}

fn run(ctx: &mut Ctx, args: &[Bytes], read_only: bool) -> CmdResult {
    let ops = parse_ops(args)?;
    let key = &args[1];
    let highest = ops
        .iter()
        .filter(|op| op.kind != OpKind::Get)
        .map(|op| op.offset + op.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: read, zero-padded on the right.
        let v = get_string(ctx, key)?.unwrap_or_default();
        return Ok(Reply::Array(
            ops.iter().map(|op| Reply::Int(get_field(&v, op))).collect(),
        ));
    };
    if read_only {
        return err("ERR BITFIELD_RO only supports the GET subcommand");
    }
    let (mut v, found) = string_for_bits(ctx, key, highest)?;
    let mut applied = false;
    let mut changed = false;
    let replies: Vec<Reply> = ops
        .iter()
        .map(|op| {
            let (reply, outcome) = apply(&mut v, op);
            applied |= outcome != Outcome::Refused;
            changed |= outcome == Outcome::Changed;
            reply
        })
        .collect();
    // As Redis: a new or grown string is written even if no field changed;
    // otherwise nothing is written (the key keeps its version) unless a
    // field changed. `setbit` fires once if any SET or INCRBY applied to a
    // new or grown string, or changed a field.
    let dirty = found != Found::Whole;
    if dirty || changed {
        ctx.store.set_string(ctx.db, key, &v, Ttl::Keep)?;
    }
    if (dirty && applied) || changed {
        ctx.notify(Class::String, "setbit", key);
    }
    Ok(Reply::Array(replies))
}

/// Reads a field as an integer; bits past the end of `v` are zeros.
fn get_field(v: &[u8], op: &Op) -> i64 {
    let raw = read_bits(v, op.offset, op.bits);
    if op.signed {
        sign_extend(raw, op.bits)
    } else {
        raw as i64
    }
}

fn read_bits(v: &[u8], offset: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0u64, |acc, j| {
        let pos = offset + j;
        let bit = v
            .get((pos >> 3) as usize)
            .is_some_and(|b| b & (1 << (7 - (pos & 7))) != 0);
        (acc << 1) | bit as u64
    })
}

fn write_bits(v: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let pos = offset + j;
        let mask = 1u8 << (7 - (pos & 7));
        let byte = &mut v[(pos >> 3) as usize];
        if value & (1u64 << (bits as u64 - 1 - j)) != 0 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

fn sign_extend(raw: u64, bits: u32) -> i64 {
    if bits < 64 && raw & (1u64 << (bits - 1)) != 0 {
        (raw | (u64::MAX << bits)) as i64
    } else {
        raw as i64
    }
}

/// What one BITFIELD operation did to the string.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A GET, or a SET/INCRBY that left the field's bits as they were.
    Unchanged,
    /// A SET/INCRBY that changed the field.
    Changed,
    /// An INCRBY/SET refused by `OVERFLOW FAIL` (reply nil).
    Refused,
}

/// Runs one GET/SET/INCRBY on the (already grown) string; nil when FAIL refused.
fn apply(v: &mut [u8], op: &Op) -> (Reply, Outcome) {
    if op.kind == OpKind::Get {
        return (Reply::Int(get_field(v, op)), Outcome::Unchanged);
    }
    let old = get_field(v, op);
    let (value, incr) = match op.kind {
        OpKind::IncrBy => (old, op.value),
        _ => (op.value, 0),
    };
    let (overflowed, fitted) = if op.signed {
        signed_overflow(value, incr, op.bits, op.overflow)
    } else {
        unsigned_overflow(value as u64, incr, op.bits, op.overflow)
    };
    if overflowed && op.overflow == Overflow::Fail {
        return (Reply::Nil, Outcome::Refused);
    }
    let new = if overflowed { fitted } else { value.wrapping_add(incr) };
    let before = read_bits(v, op.offset, op.bits);
    write_bits(v, op.offset, op.bits, new as u64);
    let outcome = if read_bits(v, op.offset, op.bits) == before {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    };
    (Reply::Int(if op.kind == OpKind::IncrBy { new } else { old }), outcome)
}

/// Redis's `checkUnsignedBitfieldOverflow`: whether `value + incr` leaves
/// the field, and the value to store then (wrapped or saturated).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max = (1u64 << bits) - 1; // bits <= 63
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrapped = (value.wrapping_add(incr as u64) & max) as i64;
    if value > max || (incr > 0 && incr > maxincr) {
        (true, if ow == Overflow::Sat { max as i64 } else { wrapped })
    } else if incr < 0 && incr < minincr {
        (true, if ow == Overflow::Sat { 0 } else { wrapped })
    } else {
        (false, 0)
    }
}

/// Redis's `checkSignedBitfieldOverflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            sign_extend(c & ((1u64 << bits) - 1), bits)
        } else {
            c as i64
        }
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        (true, if ow == Overflow::Sat { min } else { wrap() })
    } else {
        (false, 0)
    }
}
