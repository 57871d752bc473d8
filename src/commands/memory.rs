//! MEMORY USAGE, MALLOC-STATS, PURGE and HELP.
//!
//! MEMORY USAGE is redsql's estimate of the bytes a key would take in Redis
//! 7.0 (jemalloc, default encodings): the dictionary entry, the key's sds
//! and the value, each rounded up to jemalloc's size classes. For strings it
//! is exactly Redis's figure (int, embstr and raw encodings); for collections
//! it follows Redis's `objectComputeSize`: the encoding Redis would use
//! (listpack, intset, quicklist, hash table, skiplist), with the element
//! sizes sampled from the first `SAMPLES` elements (default 5, 0: all) and
//! scaled to the whole collection. It says nothing of the SQL rows, whose
//! size depends on the backend's pages and indexes.

use super::args::{int, is};
use super::spec::no_misses;
use super::{CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::store::{KeyType, ZQuery, ZSpan};
use bytes::Bytes;

pub const COMMANDS: &[Spec] = &[
    // MEMORY USAGE looks its key up without reporting a miss, as OBJECT does.
    Spec::read("memory|usage", usage).misses(no_misses),
    Spec::pure("memory|malloc-stats", malloc_stats),
    Spec::pure("memory|purge", purge),
    Spec::pure("memory|help", memory_help),
];

/// Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`.
const DEFAULT_SAMPLES: u64 = 5;
/// `sizeof(dictEntry)`, `sizeof(robj)`, `sizeof(dict)` in Redis 7.0.
const DICT_ENTRY: u64 = 24;
const ROBJ: u64 = 16;
const DICT: u64 = 56;
/// Redis's default listpack and intset limits.
const LISTPACK_ENTRIES: u64 = 128;
const LISTPACK_VALUE: usize = 64;
const INTSET_ENTRIES: u64 = 512;
const EMBSTR_LIMIT: usize = 44;

/// The size class jemalloc serves `n` bytes from (8, 16, 32, 48, ... 128,
/// then four classes per doubling).
fn alloc(n: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let lg = 63 - (n - 1).leading_zeros() as u64;
    let step = 1u64 << (lg - 2);
    n.div_ceil(step) * step
}

/// Bytes of an sds string of `len` bytes (header by length, NUL).
fn sds(len: usize, type5: bool) -> u64 {
    let header = match len {
        n if type5 && n < 32 => 1,
        n if n < 1 << 8 => 3,
        n if n < 1 << 16 => 5,
        n if (n as u64) < 1 << 32 => 9,
        _ => 17,
    };
    alloc(header + len as u64 + 1)
}

/// Whether Redis would store the string as an integer (`string2l`).
fn is_int(s: &[u8]) -> bool {
    s.len() <= 20 && crate::resp::request::parse_i64(s).is_some()
}

/// A string value's object: an integer, an embedded string or a raw one.
fn string_size(v: &[u8]) -> u64 {
    if is_int(v) {
        ROBJ
    } else if v.len() <= EMBSTR_LIMIT {
        alloc(ROBJ + 3 + v.len() as u64 + 1)
    } else {
        ROBJ + sds(v.len(), false)
    }
}

/// Bytes of one listpack entry holding `s` (encoding, data, backlen).
fn listpack_entry(s: &[u8]) -> u64 {
    if is_int(s) {
        return 1 + 8 / 2; // about Redis's integer encodings
    }
    let head = match s.len() {
        n if n < 64 => 1,
        n if n < 4096 => 2,
        _ => 5,
    };
    let body = head + s.len() as u64;
    body + if body < 128 { 1 } else { 2 }
}

/// The hash table of `len` entries: its dict and buckets.
fn table(len: u64) -> u64 {
    DICT + 8 * len.max(4).next_power_of_two()
}

/// Scales a sample's total to the whole collection of `len` elements.
fn scaled(sum: u64, sampled: usize, len: u64) -> u64 {
    if sampled == 0 {
        0
    } else {
        (sum as f64 / sampled as f64 * len as f64) as u64
    }
}

fn usage(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if is(&args[j], "samples") && j + 1 < args.len() {
            let n = int(&args[j + 1])?;
            if n < 0 {
                return err(SYNTAX);
            }
            samples = if n == 0 { u64::MAX } else { n as u64 };
            j += 2;
        } else {
            return err(SYNTAX);
        }
    }
    let key = &args[2];
    let Some(e) = ctx.store.get(ctx.db, key)? else {
        return Ok(Reply::Nil);
    };
    let len = e.len.max(0) as u64;
    let take = samples.min(len) as usize;
    let value = match e.kind {
        KeyType::String => string_size(e.value.as_deref().unwrap_or_default()),
        KeyType::List => {
            let items = if take == 0 {
                Vec::new()
            } else {
                ctx.store.list_range(e.id, 0, take as i64 - 1)?
            };
            let packed = scaled(items.iter().map(|i| listpack_entry(i)).sum(), items.len(), len);
            let nodes = packed.div_ceil(8192).max(1);
            ROBJ + 40 + nodes * 32 + alloc(packed + 7 * nodes)
        }
        KeyType::Set => {
            let members = if samples >= len {
                ctx.store.set_members(e.id)?
            } else {
                ctx.store.set_random(e.id, take, true)?
            };
            if len <= INTSET_ENTRIES && members.iter().all(|m| is_int(m)) {
                ROBJ + alloc(8 + 8 * len)
            } else {
                let each = members.iter().map(|m| DICT_ENTRY + sds(m.len(), false)).sum();
                ROBJ + table(len) + scaled(each, members.len(), len)
            }
        }
        KeyType::Hash => {
            let (_, pairs) = ctx.store.hash_scan(e.id, 0, take.max(1))?;
            let pairs = &pairs[..pairs.len().min(take)];
            let small = len <= LISTPACK_ENTRIES
                && pairs
                    .iter()
                    .all(|(f, v)| f.len() <= LISTPACK_VALUE && v.len() <= LISTPACK_VALUE);
            if small {
                let each = pairs.iter().map(|(f, v)| listpack_entry(f) + listpack_entry(v)).sum();
                ROBJ + alloc(7 + scaled(each, pairs.len(), len))
            } else {
                let each = pairs
                    .iter()
                    .map(|(f, v)| DICT_ENTRY + sds(f.len(), false) + sds(v.len(), false))
                    .sum();
                ROBJ + table(len) + scaled(each, pairs.len(), len)
            }
        }
        KeyType::ZSet => {
            let query = ZQuery {
                span: ZSpan::All,
                rev: false,
                offset: 0,
                limit: Some(take as u64),
            };
            let items = ctx.store.zset_range(e.id, &query)?;
            let small = len <= LISTPACK_ENTRIES && items.iter().all(|(m, _)| m.len() <= LISTPACK_VALUE);
            if small {
                let each = items.iter().map(|(m, _)| listpack_entry(m) + 10).sum();
                ROBJ + alloc(7 + scaled(each, items.len(), len))
            } else {
                // The dict entry, the member's sds and its skiplist node.
                let each = items
                    .iter()
                    .map(|(m, _)| DICT_ENTRY + sds(m.len(), false) + alloc(32 + 16))
                    .sum();
                ROBJ + 16 + table(len) + scaled(each, items.len(), len)
            }
        }
        KeyType::Stream => {
            // Listpack nodes of about 100 entries in a radix tree.
            let per_entry = 24;
            ROBJ + 64 + alloc(len * per_entry + len.div_ceil(100) * 64)
        }
    };
    Ok(Reply::Int((DICT_ENTRY + sds(key.len(), true) + value) as i64))
}

/// Redis's answer without jemalloc: redsql allocates with mimalloc, whose
/// statistics Redis's report does not cover.
fn malloc_stats(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::Verbatim(Bytes::from_static(
        b"Stats not supported for the current allocator",
    )))
}

/// Redis's answer without jemalloc, which has nothing to purge.
fn purge(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::ok())
}

fn memory_help(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(super::help(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::alloc;

    #[test]
    fn jemalloc_size_classes() {
        for (n, class) in [
            (1, 8),
            (8, 8),
            (9, 16),
            (23, 32),
            (33, 48),
            (104, 112),
            (129, 160),
            (200, 224),
            (1006, 1024),
            (1025, 1280),
        ] {
            assert_eq!(alloc(n), class, "{n}");
        }
    }
}
