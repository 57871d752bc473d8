//! Where a command's keys are: Redis 7's key specifications, interpreted as
//! `getKeysUsingKeySpecs` does, with the per-command fallbacks Redis keeps
//! for specs it marks unknown (SORT).
//!
//! `COMMAND GETKEYS` answers from this; so can anything that needs the keys of
//! a command (blocking wake-ups, ACL key patterns).

use crate::commands::table::bytes_of;
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use bytes::Bytes;

/// Where the search for keys starts.
#[derive(Debug, Clone)]
enum Begin {
    /// At this argument index.
    Index(i64),
    /// After this keyword, searched from `startfrom` (negative: from the end, backwards).
    Keyword {
        keyword: Vec<u8>,
        startfrom: i64,
    },
    Unknown,
}

/// Which arguments, from the start, are keys.
#[derive(Debug, Clone)]
enum Find {
    Range {
        lastkey: i64,
        keystep: i64,
        limit: i64,
    },
    Keynum {
        keynumidx: i64,
        firstkey: i64,
        keystep: i64,
    },
    Unknown,
}

/// One key specification of a command.
#[derive(Debug, Clone)]
pub struct KeySpec {
    begin: Begin,
    find: Find,
    /// NOT_KEY: the argument is not really a key (e.g. a channel).
    not_key: bool,
    /// What the command does with these keys, for ACL `%R~` / `%W~` patterns.
    access: KeyAccess,
}

/// What a command does with a key, from its key spec's flags: `ACCESS`
/// reads the value; `INSERT`, `DELETE` or `UPDATE` write it. A key with
/// neither (e.g. EXISTS) passes any ACL key pattern that matches its name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyAccess {
    pub read: bool,
    pub write: bool,
}

/// Parses the key specs of a `COMMAND INFO` entry (its field 8).
pub fn parse(specs: Option<&Reply>) -> Vec<KeySpec> {
    let (Some(Reply::Array(specs)) | Some(Reply::Set(specs))) = specs else {
        return Vec::new();
    };
    specs.iter().filter_map(parse_one).collect()
}

fn field<'a>(map: &'a Reply, name: &str) -> Option<&'a Reply> {
    match map {
        Reply::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| bytes_of(k) == Some(name.as_bytes()))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn int(map: &Reply, name: &str) -> i64 {
    match field(map, name) {
        Some(Reply::Int(n)) => *n,
        _ => 0,
    }
}

fn parse_one(spec: &Reply) -> Option<KeySpec> {
    let flags: Vec<&[u8]> = match field(spec, "flags") {
        Some(Reply::Set(f)) | Some(Reply::Array(f)) => f.iter().filter_map(bytes_of).collect(),
        _ => Vec::new(),
    };
    let begin = field(spec, "begin_search")?;
    let begin_spec = field(begin, "spec")?;
    let begin = match field(begin, "type").and_then(bytes_of) {
        Some(b"index") => Begin::Index(int(begin_spec, "index")),
        Some(b"keyword") => Begin::Keyword {
            keyword: field(begin_spec, "keyword")
                .and_then(bytes_of)
                .unwrap_or_default()
                .to_vec(),
            startfrom: int(begin_spec, "startfrom"),
        },
        _ => Begin::Unknown,
    };
    let find = field(spec, "find_keys")?;
    let find_spec = field(find, "spec")?;
    let find = match field(find, "type").and_then(bytes_of) {
        Some(b"range") => Find::Range {
            lastkey: int(find_spec, "lastkey"),
            keystep: int(find_spec, "keystep"),
            limit: int(find_spec, "limit"),
        },
        Some(b"keynum") => Find::Keynum {
            keynumidx: int(find_spec, "keynumidx"),
            firstkey: int(find_spec, "firstkey"),
            keystep: int(find_spec, "keystep"),
        },
        _ => Find::Unknown,
    };
    let has = |f: &[u8]| flags.iter().any(|x| x.eq_ignore_ascii_case(f));
    Some(KeySpec {
        begin,
        find,
        not_key: has(b"not_key"),
        access: KeyAccess {
            read: has(b"access"),
            write: has(b"insert") || has(b"delete") || has(b"update"),
        },
    })
}

/// True if the command has keys at all (Redis's `doesCommandHaveKeys`).
pub fn has_keys(proc_: Option<KeysProc>, specs: &[KeySpec]) -> bool {
    proc_.is_some() || specs.iter().any(|s| !s.not_key)
}

/// The positions of the keys in `args` (the command name at 0), or `None`
/// when the arguments do not make sense for the specs (Redis's "Invalid
/// arguments specified for command"). Redis prefers a command's own key
/// procedure when its specs have VARIABLE_FLAGS, but that is about the keys'
/// access flags; the positions are the same, so the specs serve here.
pub fn positions(proc_: Option<KeysProc>, specs: &[KeySpec], args: &[Bytes]) -> Option<Vec<usize>> {
    with_access(proc_, specs, args).map(|keys| keys.into_iter().map(|(i, _)| i).collect())
}

/// Like [`positions`], with what the command does with each key (for ACL
/// checks). The fallback procedures read their first key and write the others.
pub fn with_access(proc_: Option<KeysProc>, specs: &[KeySpec], args: &[Bytes]) -> Option<Vec<(usize, KeyAccess)>> {
    let has_specs = specs.iter().any(|s| !s.not_key);
    if has_specs && let Some(keys) = from_specs(specs, args) {
        return Some(keys);
    }
    let read = KeyAccess {
        read: true,
        write: false,
    };
    let write = KeyAccess {
        read: false,
        write: true,
    };
    match proc_ {
        Some(proc_) => Some(
            proc_(args)
                .into_iter()
                .enumerate()
                .map(|(n, i)| (i, if n == 0 { read } else { write }))
                .collect(),
        ),
        None if has_specs => None,
        None => Some(Vec::new()),
    }
}

/// `getKeysUsingKeySpecs` without partial results: any invalid spec fails the whole lookup.
fn from_specs(specs: &[KeySpec], args: &[Bytes]) -> Option<Vec<(usize, KeyAccess)>> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for spec in specs.iter().filter(|s| !s.not_key) {
        let mut first = match &spec.begin {
            Begin::Index(i) => *i,
            Begin::Keyword { keyword, startfrom } => {
                let (start, end) = if *startfrom > 0 {
                    (*startfrom, argc - 1)
                } else {
                    (argc + startfrom, 0)
                };
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if args[i as usize].eq_ignore_ascii_case(keyword) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match spec.find {
            Find::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, keystep)
            }
            Find::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let idx = first + keynumidx;
                if keynumidx >= argc || idx >= argc {
                    return None;
                }
                let numkeys = parse_i64(&args[idx as usize]).filter(|&n| n >= 0)?;
                first += firstkey;
                (first.saturating_add(numkeys).saturating_sub(1), keystep)
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, spec.access));
            i += step.max(1);
        }
    }
    Some(keys)
}

/// Redis's key procedure of a command whose key specs it marks unknown
/// (the command's spec says: [`super::Spec::keys`]).
pub type KeysProc = fn(&[Bytes]) -> Vec<usize>;

/// Redis's `sortGetKeys`: the sorted key, and the STORE destination.
pub fn sort_keys(args: &[Bytes]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let skip = if a.eq_ignore_ascii_case(b"limit") {
            2
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            1
        } else if a.eq_ignore_ascii_case(b"store") {
            // Like Redis: the last STORE wins, and the argument after STORE
            // is still scanned (`sort a store get store x` → a, get).
            if i + 1 < args.len() {
                keys.truncate(1);
                keys.push(i + 1);
            }
            0
        } else {
            0
        };
        i += skip + 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::{positions, sort_keys};
    use crate::commands::lookup;
    use bytes::Bytes;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    #[test]
    fn sort_keys_like_redis() {
        // Expected positions captured from Redis 7.0's COMMAND GETKEYS.
        assert_eq!(sort_keys(&args("sort k by w get x store d")), vec![1, 7]);
        assert_eq!(sort_keys(&args("sort k store d1 store d2")), vec![1, 5]);
        assert_eq!(sort_keys(&args("sort k limit 0 1 store d")), vec![1, 6]);
        assert_eq!(sort_keys(&args("sort k")), vec![1]);
        assert_eq!(sort_keys(&args("sort a store get store x")), vec![1, 3]);
    }

    /// A key count near i64::MAX names no keys (it used to overflow, and a
    /// panic there killed the PostgreSQL writer that computes lock keys).
    #[test]
    fn huge_numkeys_names_no_keys() {
        for line in [
            "lmpop 9223372036854775807 a left",
            "blmpop 0 9223372036854775807 a left",
        ] {
            let a = args(line);
            let cmd = lookup(&a[0]).unwrap();
            assert_eq!(positions(cmd.spec.keys, &cmd.key_specs, &a), None, "{line}");
        }
    }
}
