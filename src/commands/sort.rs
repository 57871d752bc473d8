//! SORT and SORT_RO: sorting the elements of a list, set or sorted set,
//! optionally by values looked up in other keys, with Redis 7.0's exact rules.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]` works in four steps, as `sortCommandGeneric`
//! does:
//!
//! 1. **Parse** the options left to right (a later ASC/DESC, LIMIT, BY or
//!    STORE wins, except that after one BY without `*` nothing is sorted; a bad
//!    LIMIT number stops the parse with its own error), then check the key's
//!    type.
//! 2. **Load** the elements. `BY` with a pattern lacking `*` (conventionally
//!    `BY nosort`) skips sorting: lists and sorted sets then keep their own
//!    order (reversed by DESC) and only the LIMIT window is read; a set keeps
//!    its storage order, except with STORE, where it is sorted ALPHA so that
//!    the stored list is deterministic.
//! 3. **Sort** by a key per element: the element itself or the value its `BY`
//!    pattern finds (a missing one is 0, or sorts first with ALPHA). Numeric
//!    keys are parsed like C's `strtod` (see [`strtod`]); equal numbers fall
//!    back to comparing the elements' bytes. ALPHA compares bytes, and
//!    without STORE it compares them as C strings (Redis uses `strcoll`,
//!    which in the C/C.UTF-8 locale is byte order up to the first NUL).
//! 4. **Reply** with the LIMIT window, or with one value per `GET` pattern per
//!    element (nil when missing; `#` is the element itself); or STORE the
//!    same values (missing ones as empty strings) as a list, replacing the
//!    destination (deleted when the result is empty), and reply its length.
//!
//! Patterns substitute the element for the first `*`; `key->field` reads a
//! hash field. A pattern without `*` finds nothing. Like Redis, patterns are
//! examined as C strings: a NUL byte ends the search for `*`, `->` and `#`.
//!
//! One Redis quirk is not reproduced: Redis tests `errno` after `strtod`
//! without clearing it first, so after a SORT met an out-of-range number, its
//! numeric SORTs of non-integer elements can fail until some system call
//! happens to overwrite `errno`.
//!
//! Cost: O(n) to read the elements, plus one key lookup (O(log N)) per element
//! and BY/GET pattern, plus O(n log n) to sort; with BY nosort, lists and
//! sorted sets read only the LIMIT window: O(log n + k).

mod strtod;

use super::args::{int, is};
use super::spec::first_key_misses;
use super::{Class, CmdError, CmdResult, Ctx, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::store::{End, Entry, KeyType, ZQuery, ZSpan};
use bytes::Bytes;
use std::cmp::Ordering;
use std::ops::Range;

/// SORT's key specs say nothing of its STORE key: Redis finds its keys with
/// its own procedure.
pub const COMMANDS: &[Spec] = &[
    Spec::write("sort", sort)
        .misses(first_key_misses)
        .keys(super::keyspec::sort_keys)
        .reaches_other_keys(),
    Spec::read("sort_ro", sort_ro).keys(|_| vec![1]).reaches_other_keys(),
];

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run(ctx, args, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]:
/// SORT without STORE (which is a syntax error here).
fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run(ctx, args, true)
}

/// The parsed options.
#[derive(Default)]
struct Options {
    desc: bool,
    alpha: bool,
    /// LIMIT offset count, unclamped.
    limit: Option<(i64, i64)>,
    by: Option<Pattern>,
    /// Some BY pattern had no `*`. Redis never clears this flag, so a later
    /// BY with a `*` does not bring sorting back.
    dont_sort: bool,
    gets: Vec<Pattern>,
    store: Option<Bytes>,
}

impl Options {
    /// Parses `args` (after the key) like Redis: left to right, the first
    /// problem wins. STORE is a syntax error for SORT_RO (`readonly`).
    /// `restricted`: ACL key patterns restrict the client, which may then use
    /// no real BY pattern and no GET (Redis's errors, in parsing order).
    fn parse(args: &[Bytes], readonly: bool, restricted: bool) -> Result<Options, CmdError> {
        let mut o = Options::default();
        let mut i = 0;
        while i < args.len() {
            let (a, left) = (&args[i], args.len() - i - 1);
            if is(a, "asc") {
                o.desc = false;
            } else if is(a, "desc") {
                o.desc = true;
            } else if is(a, "alpha") {
                o.alpha = true;
            } else if is(a, "limit") && left >= 2 {
                o.limit = Some((int(&args[i + 1])?, int(&args[i + 2])?));
                i += 2;
            } else if !readonly && is(a, "store") && left >= 1 {
                o.store = Some(args[i + 1].clone());
                i += 1;
            } else if is(a, "by") && left >= 1 {
                let by = Pattern::parse(&args[i + 1]);
                if restricted && c_str(&args[i + 1]).contains(&b'*') {
                    return err("ERR BY option of SORT denied due to insufficient ACL permissions.");
                }
                o.dont_sort |= !matches!(by, Pattern::Key { .. });
                o.by = Some(by);
                i += 1;
            } else if is(a, "get") && left >= 1 {
                if restricted {
                    return err("ERR GET option of SORT denied due to insufficient ACL permissions.");
                }
                o.gets.push(Pattern::parse(&args[i + 1]));
                i += 1;
            } else {
                return err(SYNTAX);
            }
            i += 1;
        }
        Ok(o)
    }
}

/// A BY or GET pattern, taken apart once.
#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    /// `#`: the element itself.
    Element,
    /// No `*`: finds nothing (and as BY, means "do not sort").
    Constant,
    /// `prefix*suffix`, or `prefix*suffix->field` for a hash field.
    Key {
        prefix: Bytes,
        suffix: Bytes,
        field: Option<Bytes>,
    },
}

impl Pattern {
    /// Splits a pattern the way Redis's `lookupKeyByPattern` does, reading it
    /// as a C string for `#`, `*` and `->` (a field needs at least one byte
    /// after the arrow: `*->` is a plain key name ending in `->`).
    fn parse(p: &Bytes) -> Pattern {
        let c = &p[..p.iter().position(|&b| b == 0).unwrap_or(p.len())];
        if c == b"#" {
            return Pattern::Element;
        }
        let Some(star) = c.iter().position(|&b| b == b'*') else {
            return Pattern::Constant;
        };
        let arrow = c[star + 1..]
            .windows(2)
            .position(|w| w == b"->")
            .map(|at| star + 1 + at)
            .filter(|&at| at + 2 < c.len());
        let (suffix_end, field) = match arrow {
            Some(at) => (at, Some(p.slice(at + 2..))),
            None => (p.len(), None),
        };
        Pattern::Key {
            prefix: p.slice(..star),
            suffix: p.slice(star + 1..suffix_end),
            field,
        }
    }

    /// What the pattern finds for `element`: the element (`#`), the string
    /// at the substituted key, or the field of the hash there. Anything else
    /// (no `*`, a missing key, a key of another type, a missing field) is None.
    fn lookup(&self, ctx: &mut Ctx, element: &Bytes) -> Result<Option<Bytes>, CmdError> {
        let (prefix, suffix, field) = match self {
            Pattern::Element => return Ok(Some(element.clone())),
            Pattern::Constant => return Ok(None),
            Pattern::Key { prefix, suffix, field } => (prefix, suffix, field),
        };
        let key = [&prefix[..], &element[..], &suffix[..]].concat();
        let Some(entry) = ctx.store.get(ctx.db, &key)? else {
            return Ok(None);
        };
        match (field, entry.kind) {
            (None, KeyType::String) => Ok(entry.value),
            (Some(f), KeyType::Hash) => Ok(ctx.store.hash_get(entry.id, f)?),
            _ => Ok(None),
        }
    }
}

/// Redis's LIMIT clamping: the window `start..end` of a `len`-element result
/// (no LIMIT: everything; negative offset: 0; negative count: to the end).
fn window(limit: Option<(i64, i64)>, len: usize) -> Range<usize> {
    let len = len as i64;
    let (offset, count) = limit.unwrap_or((0, -1));
    let start = offset.clamp(0, len);
    let count = count.clamp(-1, len);
    let end = if count < 0 { len } else { (start + count).min(len) };
    start as usize..end.max(start) as usize
}

/// One element to sort and what it sorts by.
struct Item {
    element: Bytes,
    /// Numeric sort: the number (0 when BY found nothing).
    score: f64,
    /// ALPHA sort by a pattern: the value found (None sorts first).
    by: Option<Bytes>,
}

/// How two elements compare.
#[derive(Clone, Copy)]
struct Order {
    alpha: bool,
    by_pattern: bool,
    /// With STORE, ALPHA compares whole byte strings; without, C strings.
    binary: bool,
    desc: bool,
}

impl Order {
    fn compare(&self, a: &Item, b: &Item) -> Ordering {
        let text = |x: &[u8], y: &[u8]| if self.binary { x.cmp(y) } else { c_str(x).cmp(c_str(y)) };
        let ord = if !self.alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.element.cmp(&b.element))
        } else if self.by_pattern {
            match (&a.by, &b.by) {
                (Some(x), Some(y)) => text(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            }
        } else {
            text(&a.element, &b.element)
        };
        if self.desc { ord.reverse() } else { ord }
    }
}

/// The bytes before the first NUL, as C string functions see them.
fn c_str(s: &[u8]) -> &[u8] {
    &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
}

/// SORT and SORT_RO.
fn run(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> CmdResult {
    let mut o = Options::parse(&args[2..], readonly, ctx.keys_restricted)?;
    let entry = match ctx.store.get(ctx.db, &args[1])? {
        Some(e) if !matches!(e.kind, KeyType::List | KeyType::Set | KeyType::ZSet) => return Err(CmdError::WrongType),
        e => e,
    };
    let mut dont_sort = o.dont_sort;
    if dont_sort && o.store.is_some() && entry.as_ref().is_some_and(|e| e.kind == KeyType::Set) {
        // An unsorted set would store in an arbitrary order: sort it instead.
        (dont_sort, o.alpha, o.by) = (false, true, None);
    }
    let len = entry.as_ref().map_or(0, |e| e.len.max(0) as usize);
    let window = window(o.limit, len);
    let selected = match &entry {
        None => Vec::new(),
        Some(e) if dont_sort => unsorted_window(ctx, e, window, o.desc)?,
        Some(e) => {
            let elements = load_all(ctx, e)?;
            let items = score(ctx, &o, elements)?;
            sorted_window(items, &o, window)
        }
    };
    let values = output(ctx, &o.gets, selected)?;
    match o.store {
        None => Ok(Reply::Array(
            values.into_iter().map(|v| v.map_or(Reply::Nil, Reply::Bulk)).collect(),
        )),
        Some(dst) => {
            let values: Vec<Bytes> = values.into_iter().map(Option::unwrap_or_default).collect();
            store_list(ctx, &dst, &values)?;
            Ok(Reply::Int(values.len() as i64))
        }
    }
}

/// Every element of a list, set or sorted set, in any order. O(n).
fn load_all(ctx: &mut Ctx, e: &Entry) -> Result<Vec<Bytes>, CmdError> {
    Ok(match e.kind {
        KeyType::List if e.len > 0 => ctx.store.list_range(e.id, 0, e.len - 1)?,
        KeyType::Set => ctx.store.set_members(e.id)?,
        KeyType::ZSet => zset_members(ctx, e, 0..e.len.max(0) as usize, false)?,
        _ => Vec::new(),
    })
}

/// The LIMIT window of a collection that is not sorted (BY without `*`):
/// lists and sorted sets in their own order, from the tail with DESC, reading
/// only the window; sets in storage order (DESC does not apply). O(log n + k)
/// for lists and sorted sets, O(n) for sets.
fn unsorted_window(ctx: &mut Ctx, e: &Entry, w: Range<usize>, desc: bool) -> Result<Vec<Bytes>, CmdError> {
    if w.is_empty() {
        return Ok(Vec::new());
    }
    let len = e.len.max(0) as usize;
    Ok(match e.kind {
        KeyType::List if desc => {
            let mut v = ctx
                .store
                .list_range(e.id, (len - w.end) as i64, (len - 1 - w.start) as i64)?;
            v.reverse();
            v
        }
        KeyType::List => ctx.store.list_range(e.id, w.start as i64, w.end as i64 - 1)?,
        KeyType::ZSet => zset_members(ctx, e, w, desc)?,
        _ => {
            let mut all = ctx.store.set_members(e.id)?;
            all.truncate(w.end);
            all.split_off(w.start)
        }
    })
}

/// The members of a sorted set with ranks in `ranks`, in score order
/// (from the highest score with `rev`). O(log n + k).
fn zset_members(ctx: &mut Ctx, e: &Entry, ranks: Range<usize>, rev: bool) -> Result<Vec<Bytes>, CmdError> {
    let query = ZQuery {
        span: ZSpan::All,
        rev,
        offset: ranks.start as u64,
        limit: Some(ranks.len() as u64),
    };
    Ok(ctx
        .store
        .zset_range(e.id, &query)?
        .into_iter()
        .map(|(m, _)| m)
        .collect())
}

/// Computes what each element sorts by; Redis's conversion error if a
/// numeric sort meets something that is not a number.
fn score(ctx: &mut Ctx, o: &Options, elements: Vec<Bytes>) -> Result<Vec<Item>, CmdError> {
    let mut items = Vec::with_capacity(elements.len());
    for element in elements {
        let by = match &o.by {
            Some(p) => p.lookup(ctx, &element)?,
            None => Some(element.clone()),
        };
        let score = match &by {
            Some(v) if !o.alpha => match strtod::sort_score(v) {
                Some(s) if !s.is_nan() => s,
                _ => return err("ERR One or more scores can't be converted into double"),
            },
            _ => 0.0,
        };
        items.push(Item { element, score, by });
    }
    Ok(items)
}

/// Sorts the items (stably, as glibc's merge-sort `qsort` does) and keeps the
/// LIMIT window.
fn sorted_window(mut items: Vec<Item>, o: &Options, w: Range<usize>) -> Vec<Bytes> {
    let order = Order {
        alpha: o.alpha,
        by_pattern: o.by.is_some(),
        binary: o.store.is_some(),
        desc: o.desc,
    };
    items.sort_by(|a, b| order.compare(a, b));
    items.truncate(w.end);
    items.drain(w.start..).map(|i| i.element).collect()
}

/// What the command returns for the selected elements: the elements
/// themselves, or one lookup per GET pattern for each. One key read per
/// element and pattern.
fn output(ctx: &mut Ctx, gets: &[Pattern], selected: Vec<Bytes>) -> Result<Vec<Option<Bytes>>, CmdError> {
    if gets.is_empty() {
        return Ok(selected.into_iter().map(Some).collect());
    }
    let mut out = Vec::with_capacity(selected.len() * gets.len());
    for element in &selected {
        for p in gets {
            out.push(p.lookup(ctx, element)?);
        }
    }
    Ok(out)
}

/// STORE: replaces `dst` (any type, any expiry) with a list of `values`, or
/// deletes it if there are none. O(k log k). Reports `sortstore` (after
/// `new` for a new key), or `del` if an old key was deleted for nothing.
fn store_list(ctx: &mut Ctx, dst: &Bytes, values: &[Bytes]) -> Result<(), CmdError> {
    let existed = ctx.store.delete(ctx.db, dst)?;
    if !values.is_empty() {
        let id = ctx.store.create_key(ctx.db, dst, KeyType::List)?;
        ctx.store.list_push(id, 0, End::Tail, values)?;
    }
    ctx.stored(Class::List, "sortstore", dst, existed, !values.is_empty());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::NOT_INTEGER;

    fn args(s: &[&str]) -> Vec<Bytes> {
        s.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    #[test]
    fn windows_clamp_like_redis() {
        assert_eq!(window(None, 3), 0..3);
        assert_eq!(window(Some((0, 0)), 3), 0..0);
        assert_eq!(window(Some((-1, -1)), 3), 0..3);
        assert_eq!(window(Some((1, 1)), 3), 1..2);
        assert_eq!(window(Some((2, i64::MAX)), 3), 2..3);
        assert_eq!(window(Some((i64::MAX, i64::MAX)), 3), 3..3);
        assert_eq!(window(Some((5, 2)), 3), 3..3);
        assert_eq!(window(Some((0, 5)), 0), 0..0);
    }

    #[test]
    fn patterns_split_like_lookup_key_by_pattern() {
        let key = |p: &str, s: &str, f: Option<&str>| Pattern::Key {
            prefix: Bytes::copy_from_slice(p.as_bytes()),
            suffix: Bytes::copy_from_slice(s.as_bytes()),
            field: f.map(|f| Bytes::copy_from_slice(f.as_bytes())),
        };
        let parse = |p: &str| Pattern::parse(&Bytes::copy_from_slice(p.as_bytes()));
        assert_eq!(parse("#"), Pattern::Element);
        assert_eq!(parse("#\0x"), Pattern::Element);
        assert_eq!(parse("nosort"), Pattern::Constant);
        assert_eq!(parse("a\0*"), Pattern::Constant);
        assert_eq!(parse("w_*"), key("w_", "", None));
        assert_eq!(parse("a*b*c"), key("a", "b*c", None));
        assert_eq!(parse("h_*->f"), key("h_", "", Some("f")));
        assert_eq!(parse("h_*x->f->g"), key("h_", "x", Some("f->g")));
        assert_eq!(parse("*->"), key("", "->", None));
        assert_eq!(parse("->*"), key("->", "", None));
        assert_eq!(parse("*\0->f"), key("", "\0->f", None));
        assert_eq!(parse("*->f\0g"), key("", "", Some("f\0g")));
    }

    #[test]
    fn options_parse_in_order() {
        let parse = |s: &[&str], ro| Options::parse(&args(s), ro, false).map(|o| (o.desc, o.alpha, o.limit, o.store));
        assert!(matches!(parse(&["asc", "desc"], false), Ok((true, false, None, None))));
        assert!(matches!(
            parse(&["desc", "asc", "alpha"], false),
            Ok((false, true, None, None))
        ));
        assert!(matches!(
            parse(&["limit", "1", "2"], false),
            Ok((_, _, Some((1, 2)), _))
        ));
        assert!(matches!(parse(&["store", "x"], true), Err(CmdError::Reply(e)) if e == SYNTAX));
        assert!(matches!(parse(&["limit", "1"], false), Err(CmdError::Reply(e)) if e == SYNTAX));
        assert!(matches!(parse(&["limit", "x", "1", "foo"], false), Err(CmdError::Reply(e)) if e == NOT_INTEGER));
        assert!(matches!(parse(&["foo", "limit", "x", "1"], false), Err(CmdError::Reply(e)) if e == SYNTAX));
    }
}
