//! Geospatial commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
//! GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their `_RO` forms.
//!
//! A GEO key is an ordinary sorted set whose scores are Redis's 52-bit
//! geohashes ([`hash`]): GEOADD is ZADD with those scores, and a search
//! reads the score ranges of at most nine geohash cells around its centre
//! (`ZSetStore::zset_range` over a score span, an index seek each), keeps
//! the members inside the shape and sorts them by distance, as Redis's
//! `georadiusGeneric` does. Replies format distances with four decimals
//! and coordinates as Redis's `addReplyHumanLongDouble`.

pub mod hash;

use super::args::is;
use super::spec::lookups_first;
use super::zsets::{lookup, parse_score, store_result};
use super::{CmdError, CmdResult, Ctx, Handler, NOT_INTEGER, SYNTAX, Spec, err};
use crate::resp::Reply;
use crate::resp::request::parse_i64;
use crate::store::{ScoreBound, ZQuery, ZSpan};
use bytes::Bytes;
use hash::{Kind, Shape};

pub const COMMANDS: &[Spec] = &[
    // GEOADD runs ZADD, whose event follows the reply.
    Spec::write("geoadd", geoadd).places(lookups_first),
    Spec::read("geodist", geodist),
    Spec::read("geohash", geohash),
    Spec::read("geopos", geopos),
    Spec::read("geosearch", geosearch),
    Spec::write("geosearchstore", geosearchstore).misses(second_key_misses),
    Spec::write("georadius", georadius).misses(first_key_misses),
    Spec::write("georadiusbymember", georadiusbymember).misses(first_key_misses),
    Spec::read("georadius_ro", georadius_ro),
    Spec::read("georadiusbymember_ro", georadiusbymember_ro),
];

/// GEORADIUS (with or without STORE) reads its source, the first key.
fn first_key_misses(_: &super::Command, _: &[Bytes]) -> Vec<usize> {
    vec![1]
}

/// GEOSEARCHSTORE reads its source, the second key.
fn second_key_misses(_: &super::Command, _: &[Bytes]) -> Vec<usize> {
    vec![2]
}

/// A double argument as Redis's `getDoubleFromObjectOrReply` reads it, with
/// its error text (`msg`, or Redis's default).
fn double(arg: &[u8], msg: Option<&str>) -> Result<f64, CmdError> {
    parse_score(arg).map_err(|e| match msg {
        Some(m) => CmdError::Reply(format!("ERR {m}")),
        None => e,
    })
}

/// `extractLongLatOrReply`: a longitude and a latitude within Redis's limits.
fn long_lat(args: &[Bytes]) -> Result<[f64; 2], CmdError> {
    let x = double(&args[0], None)?;
    let y = double(&args[1], None)?;
    if !(hash::LONG_MIN..=hash::LONG_MAX).contains(&x) || !(hash::LAT_MIN..=hash::LAT_MAX).contains(&y) {
        return err(format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}"));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
    match () {
        _ if is(arg, "m") => Ok(1.0),
        _ if is(arg, "km") => Ok(1000.0),
        _ if is(arg, "ft") => Ok(0.3048),
        _ if is(arg, "mi") => Ok(1609.34),
        _ => err("ERR unsupported unit provided. please use M, KM, FT, MI"),
    }
}

/// `extractDistanceOrReply`: `radius unit` as (radius, meters per unit).
fn radius(args: &[Bytes]) -> Result<(f64, f64), CmdError> {
    let r = double(&args[0], Some("need numeric radius"))?;
    if r < 0.0 {
        return err("ERR radius cannot be negative");
    }
    Ok((r, unit(&args[1])?))
}

/// `extractBoxOrReply`: `width height unit`.
fn box_size(args: &[Bytes]) -> Result<(f64, f64, f64), CmdError> {
    let w = double(&args[0], Some("need numeric width"))?;
    let h = double(&args[1], Some("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return err("ERR height or width cannot be negative");
    }
    Ok((w, h, unit(&args[2])?))
}

/// Redis's `fixedpoint_d2string(.., 4)`: a distance with four decimals.
fn distance_reply(d: f64) -> Reply {
    if d == 0.0 {
        return Reply::bulk_str("0.0000");
    }
    let v = hash::c_i64((d * 10000.0).round_ties_even());
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    Reply::Bulk(Bytes::from(format!("{sign}{}.{:04}", a / 10000, a % 10000)))
}

/// Redis's `addReplyHumanLongDouble` of a coordinate: `%.17Lf` with the
/// trailing zeros (and point) removed, as a bulk string in RESP2 and a
/// double in RESP3.
fn coordinate(ctx: &Ctx, v: f64) -> Reply {
    let s = format!("{v:.17}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    if ctx.proto >= 3 {
        Reply::Raw(Bytes::from(format!(",{s}\r\n")))
    } else {
        Reply::bulk_str(s)
    }
}

fn position(ctx: &Ctx, xy: [f64; 2]) -> Reply {
    Reply::Array(vec![coordinate(ctx, xy[0]), coordinate(ctx, xy[1])])
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with the
/// members' geohash scores.
fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut xx, mut nx) = (false, false);
    let mut longidx = 2;
    while let Some(a) = args.get(longidx) {
        let a = a.split(|&b| b == 0).next().unwrap_or_default();
        match () {
            _ if is(a, "nx") => nx = true,
            _ if is(a, "xx") => xx = true,
            _ if is(a, "ch") => {}
            _ => break,
        }
        longidx += 1;
    }
    if !(args.len() - longidx).is_multiple_of(3) || (xx && nx) {
        return err(SYNTAX);
    }
    let mut zargs: Vec<Bytes> = Vec::with_capacity(longidx + (args.len() - longidx) / 3 * 2);
    zargs.push(Bytes::from_static(b"zadd"));
    zargs.extend_from_slice(&args[1..longidx]);
    for t in args[longidx..].chunks(3) {
        let [x, y] = long_lat(t)?;
        let score = hash::score_of(x, y).unwrap_or(0);
        zargs.push(Bytes::from(score.to_string()));
        zargs.push(t[2].clone());
    }
    match super::lookup(b"zadd").map(|c| c.spec.handler) {
        Some(Handler::Write(zadd)) => zadd(ctx, &zargs),
        _ => err("ERR zadd is not available"),
    }
}

/// The scores of `members` in the sorted set at `key` (all None if missing).
fn scores(ctx: &mut Ctx, key: &[u8], members: &[Bytes]) -> Result<Option<Vec<Option<f64>>>, CmdError> {
    match lookup(ctx, key)? {
        Some(e) => Ok(Some(ctx.store.zset_scores(e.id, members)?)),
        None => Ok(None),
    }
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
fn geodist(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let to_meter = match args.len() {
        5 => unit(&args[4])?,
        n if n > 5 => return err(SYNTAX),
        _ => 1.0,
    };
    let Some(s) = scores(ctx, &args[1], &args[2..4])? else {
        return Ok(Reply::Nil);
    };
    let (Some(a), Some(b)) = (s[0], s[1]) else {
        return Ok(Reply::Nil);
    };
    match (hash::decode_score(a), hash::decode_score(b)) {
        (Some([x1, y1]), Some([x2, y2])) => Ok(distance_reply(hash::distance(x1, y1, x2, y2) / to_meter)),
        _ => Ok(Reply::Nil),
    }
}

/// GEOHASH key [member ...]: 11-character geohash strings (nil if missing).
fn geohash(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let s = scores(ctx, &args[1], &args[2..])?.unwrap_or_else(|| vec![None; args.len() - 2]);
    Ok(Reply::Array(
        s.into_iter()
            .map(|s| match s.and_then(hash::standard_geohash) {
                Some(h) => Reply::Bulk(Bytes::copy_from_slice(&h)),
                None => Reply::Nil,
            })
            .collect(),
    ))
}

/// GEOPOS key [member ...]: `[longitude, latitude]` pairs (null if missing).
fn geopos(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let s = scores(ctx, &args[1], &args[2..])?.unwrap_or_else(|| vec![None; args.len() - 2]);
    Ok(Reply::Array(
        s.into_iter()
            .map(|s| match s.and_then(hash::decode_score) {
                Some(xy) => position(ctx, xy),
                None => Reply::NilArray,
            })
            .collect(),
    ))
}

// ---- searches (Redis's georadiusGeneric) ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS (`ro`: the `_RO` form, without STORE).
    Coords { ro: bool },
    /// GEORADIUSBYMEMBER (`ro` likewise).
    Member { ro: bool },
    /// GEOSEARCH, or GEOSEARCHSTORE (`store`).
    Search { store: bool },
}

fn geosearch(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search(ctx, args, 1, Variant::Search { store: false })
}

fn geosearchstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search(ctx, args, 2, Variant::Search { store: true })
}

fn georadius(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search(ctx, args, 1, Variant::Coords { ro: false })
}

fn georadius_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search(ctx, args, 1, Variant::Coords { ro: true })
}

fn georadiusbymember(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search(ctx, args, 1, Variant::Member { ro: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    search(ctx, args, 1, Variant::Member { ro: true })
}

/// A member found by a search.
struct Point {
    member: Bytes,
    xy: [f64; 2],
    dist: f64,
    score: f64,
}

#[derive(PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// The position of `member` in the sorted set `id`, or Redis's error.
fn member_position(ctx: &mut Ctx, id: i64, member: &Bytes) -> Result<[f64; 2], CmdError> {
    let score = ctx.store.zset_scores(id, std::slice::from_ref(member))?[0];
    score
        .and_then(hash::decode_score)
        .map_or_else(|| err("ERR could not decode requested zset member"), Ok)
}

fn search(ctx: &mut Ctx, args: &[Bytes], src: usize, variant: Variant) -> CmdResult {
    let entry = lookup(ctx, &args[src])?;
    let id = entry.as_ref().map(|e| e.id);
    let mut storekey: Option<Bytes> = None;
    let mut storedist = false;
    let mut xy = [0.0, 0.0];
    let mut conversion = 1.0;
    let mut kind = Kind::Radius(0.0);
    let base = match variant {
        Variant::Coords { .. } => {
            xy = long_lat(&args[2..4])?;
            let (r, c) = radius(&args[4..6])?;
            (kind, conversion) = (Kind::Radius(r), c);
            6
        }
        Variant::Member { .. } => {
            if let Some(id) = id {
                xy = member_position(ctx, id, &args[2])?;
                let (r, c) = radius(&args[3..5])?;
                (kind, conversion) = (Kind::Radius(r), c);
            }
            5
        }
        Variant::Search { store } => {
            if store {
                storekey = Some(args[1].clone());
                3
            } else {
                2
            }
        }
    };
    let is_search = matches!(variant, Variant::Search { .. });
    let can_store = matches!(variant, Variant::Coords { ro: false } | Variant::Member { ro: false });
    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let rest = &args[base.min(args.len())..];
    let remaining = rest.len();
    let mut i = 0;
    while i < remaining {
        let arg = rest[i].split(|&b| b == 0).next().unwrap_or_default();
        if is(arg, "withdist") {
            withdist = true;
        } else if is(arg, "withhash") {
            withhash = true;
        } else if is(arg, "withcoord") {
            withcoords = true;
        } else if is(arg, "any") {
            any = true;
        } else if is(arg, "asc") {
            sort = Sort::Asc;
        } else if is(arg, "desc") {
            sort = Sort::Desc;
        } else if is(arg, "count") && i + 1 < remaining {
            count = parse_i64(&rest[i + 1]).map_or_else(|| err(NOT_INTEGER), Ok)?;
            if count <= 0 {
                return err("ERR COUNT must be > 0");
            }
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist")) && i + 1 < remaining && can_store {
            storekey = Some(rest[i + 1].clone());
            storedist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && variant == (Variant::Search { store: true }) {
            storedist = true;
        } else if is(arg, "frommember") && i + 1 < remaining && is_search && !fromloc {
            if let Some(id) = id {
                xy = member_position(ctx, id, &rest[i + 1])?;
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && i + 2 < remaining && is_search && !frommember {
            xy = long_lat(&rest[i + 1..i + 3])?;
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && i + 2 < remaining && is_search && !bybox {
            let (r, c) = radius(&rest[i + 1..i + 3])?;
            (kind, conversion) = (Kind::Radius(r), c);
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && i + 3 < remaining && is_search && !byradius {
            let (w, h, c) = box_size(&rest[i + 1..i + 4])?;
            (kind, conversion) = (Kind::Box { width: w, height: h }, c);
            bybox = true;
            i += 3;
        } else {
            return err(SYNTAX);
        }
        i += 1;
    }
    if storekey.is_some() && (withdist || withhash || withcoords) {
        let what = if variant == (Variant::Search { store: true }) {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return err(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if is_search && !(frommember || fromloc) {
        return err(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if is_search && !(byradius || bybox) {
        return err(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if any && count == 0 {
        return err("ERR the ANY argument requires COUNT argument");
    }
    let Some(id) = id else {
        return Ok(match storekey {
            Some(dst) => {
                store_result(ctx, &dst, &[], "georadiusstore")?;
                Reply::Int(0)
            }
            None => Reply::Array(Vec::new()),
        });
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape { xy, conversion, kind };
    let limit = if any { count as usize } else { 0 };
    let mut points = members_in(ctx, id, &shape, limit)?;
    if points.is_empty() && storekey.is_none() {
        return Ok(Reply::Array(Vec::new()));
    }
    let returned = if count == 0 {
        points.len()
    } else {
        points.len().min(count as usize)
    };
    match sort {
        Sort::Asc => points.sort_by(|a, b| a.dist.partial_cmp(&b.dist).unwrap_or(std::cmp::Ordering::Equal)),
        Sort::Desc => points.sort_by(|a, b| b.dist.partial_cmp(&a.dist).unwrap_or(std::cmp::Ordering::Equal)),
        Sort::None => {}
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    if let Some(dst) = storekey {
        let items: Vec<(Bytes, f64)> = points
            .into_iter()
            .map(|p| (p.member, if storedist { p.dist } else { p.score }))
            .collect();
        let event = if is_search { "geosearchstore" } else { "georadiusstore" };
        store_result(ctx, &dst, &items, event)?;
        return Ok(Reply::Int(returned as i64));
    }
    let options = withdist || withhash || withcoords;
    Ok(Reply::Array(
        points
            .into_iter()
            .map(|p| {
                if !options {
                    return Reply::Bulk(p.member);
                }
                let mut item = vec![Reply::Bulk(p.member)];
                if withdist {
                    item.push(distance_reply(p.dist));
                }
                if withhash {
                    item.push(Reply::Int(hash::c_i64(p.score)));
                }
                if withcoords {
                    item.push(position(ctx, p.xy));
                }
                Reply::Array(item)
            })
            .collect(),
    ))
}

/// `membersOfAllNeighbors`: the members of the sorted set `id` inside
/// `shape`, cell by cell in Redis's order, each cell in score order;
/// with `limit` (ANY), stops once that many are found.
fn members_in(ctx: &mut Ctx, id: i64, shape: &Shape, limit: usize) -> Result<Vec<Point>, CmdError> {
    let cells = shape.areas();
    let mut found: Vec<Point> = Vec::new();
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if hash::is_empty(*cell) {
            continue;
        }
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if !found.is_empty() && limit != 0 && found.len() >= limit {
            break;
        }
        let (min, max) = hash::score_range(*cell);
        let query = ZQuery::span(ZSpan::Score(
            ScoreBound {
                value: min,
                exclusive: false,
            },
            ScoreBound {
                value: max,
                exclusive: true,
            },
        ));
        for (member, score) in ctx.store.zset_range(id, &query)? {
            if let Some([x, y]) = hash::decode_score(score)
                && let Some(dist) = shape.distance_if_within(x, y)
            {
                found.push(Point {
                    member,
                    xy: [x, y],
                    dist,
                    score,
                });
            }
            if !found.is_empty() && limit != 0 && found.len() >= limit {
                break;
            }
        }
        last_processed = i;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::distance_reply;
    use crate::resp::Reply;

    #[test]
    fn distances_have_four_decimals() {
        for (d, want) in [
            (0.0, "0.0000"),
            (0.00005, "0.0000"),
            (166274.15156960033, "166274.1516"),
            (1.5, "1.5000"),
        ] {
            assert_eq!(distance_reply(d), Reply::bulk_str(want), "{d}");
        }
    }
}
