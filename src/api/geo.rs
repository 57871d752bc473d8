//! [`Geo`]: geospatial commands.

use super::Runner;
use super::argv;
use super::reply::{array, bulk, int, optional, unexpected};
use crate::resp::Reply;
use crate::resp::reply::format_double;
use crate::{Db, Error};
use bytes::Bytes;

/// Typed access to geospatial commands. Get one from [`Db::geo`].
///
/// A GEO key is a sorted set (the `zsets()` commands work on it); positions
/// are `(longitude, latitude)` in degrees.
pub struct Geo<'a> {
    db: &'a dyn Runner,
}

impl Db {
    /// Geospatial commands.
    pub fn geo(&self) -> Geo<'_> {
        Geo::new(self)
    }
}

impl<'a> Geo<'a> {
    pub(crate) fn new(db: &'a dyn Runner) -> Self {
        Geo { db }
    }
}

/// A distance unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    #[default]
    Meters,
    Kilometers,
    Feet,
    Miles,
}

impl Unit {
    fn arg(self) -> &'static [u8] {
        match self {
            Unit::Meters => b"m",
            Unit::Kilometers => b"km",
            Unit::Feet => b"ft",
            Unit::Miles => b"mi",
        }
    }
}

/// GEOADD's conditions.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddOptions {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Count changed members as well as added ones.
    pub ch: bool,
}

/// Where a search is centred.
#[derive(Debug, Clone, PartialEq)]
pub enum From {
    Member(Bytes),
    LonLat(f64, f64),
}

/// What a search covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Area {
    Radius(f64, Unit),
    /// Width and height.
    Box(f64, f64, Unit),
}

/// A GEOSEARCH: centre, area, order, limit and what to return with each member.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub from: From,
    pub area: Area,
    /// `Some(true)`: nearest first (ASC); `Some(false)`: farthest first.
    pub ascending: Option<bool>,
    /// COUNT, and whether ANY (stop at the first matches found).
    pub count: Option<(u64, bool)>,
    pub with_coord: bool,
    pub with_dist: bool,
    pub with_hash: bool,
}

impl Search {
    /// A search with no order, limit or extras.
    pub fn new(from: From, area: Area) -> Search {
        Search {
            from,
            area,
            ascending: None,
            count: None,
            with_coord: false,
            with_dist: false,
            with_hash: false,
        }
    }

    fn args(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        match &self.from {
            From::Member(m) => out.extend([b"FROMMEMBER".to_vec(), m.to_vec()]),
            From::LonLat(x, y) => out.extend([b"FROMLONLAT".to_vec(), num(*x), num(*y)]),
        }
        match self.area {
            Area::Radius(r, u) => out.extend([b"BYRADIUS".to_vec(), num(r), u.arg().to_vec()]),
            Area::Box(w, h, u) => out.extend([b"BYBOX".to_vec(), num(w), num(h), u.arg().to_vec()]),
        }
        match self.ascending {
            Some(true) => out.push(b"ASC".to_vec()),
            Some(false) => out.push(b"DESC".to_vec()),
            None => {}
        }
        if let Some((n, any)) = self.count {
            out.extend([b"COUNT".to_vec(), n.to_string().into_bytes()]);
            if any {
                out.push(b"ANY".to_vec());
            }
        }
        for (on, name) in [
            (self.with_coord, &b"WITHCOORD"[..]),
            (self.with_dist, b"WITHDIST"),
            (self.with_hash, b"WITHHASH"),
        ] {
            if on {
                out.push(name.to_vec());
            }
        }
        out
    }
}

/// One member a search found, with what the search asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub member: Bytes,
    /// In the search's unit (WITHDIST), as Redis rounds it (4 decimals).
    pub dist: Option<f64>,
    /// The 52-bit geohash score (WITHHASH).
    pub hash: Option<i64>,
    /// `(longitude, latitude)` (WITHCOORD).
    pub coord: Option<(f64, f64)>,
}

fn num(v: f64) -> Vec<u8> {
    format_double(v).into_bytes()
}

/// A coordinate: a RESP3 double written as Redis writes it, or a bulk string.
fn coordinate(r: Reply) -> Result<f64, Error> {
    let text = match r {
        Reply::Raw(b) => b
            .strip_prefix(b",")
            .and_then(|t| t.strip_suffix(b"\r\n"))
            .map(|t| t.to_vec()),
        Reply::Bulk(b) => Some(b.to_vec()),
        Reply::Double(d) => return Ok(d),
        _ => None,
    };
    text.and_then(|t| String::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .map_or_else(|| Err(Error::Redis("unexpected coordinate reply".into())), Ok)
}

fn position(r: Reply) -> Result<Option<(f64, f64)>, Error> {
    match r {
        Reply::Nil | Reply::NilArray => Ok(None),
        Reply::Array(xy) if xy.len() == 2 => {
            let mut it = xy.into_iter();
            let x = coordinate(it.next().unwrap_or(Reply::Nil))?;
            let y = coordinate(it.next().unwrap_or(Reply::Nil))?;
            Ok(Some((x, y)))
        }
        other => unexpected(other),
    }
}

fn distance(r: Reply) -> Result<f64, Error> {
    let b = bulk(r)?;
    std::str::from_utf8(&b)
        .ok()
        .and_then(|t| t.parse().ok())
        .map_or_else(|| Err(Error::Redis("unexpected distance reply".into())), Ok)
}

impl Geo<'_> {
    fn run(&self, parts: &[&[u8]]) -> Result<Reply, Error> {
        self.db.run(argv(parts))
    }

    /// `GEOADD key longitude latitude member [...]`: how many members were added.
    pub fn geoadd(&self, key: &[u8], items: &[(f64, f64, &[u8])]) -> Result<i64, Error> {
        self.geoadd_with(key, AddOptions::default(), items)
    }

    /// `GEOADD key [NX|XX] [CH] ...`
    pub fn geoadd_with(&self, key: &[u8], options: AddOptions, items: &[(f64, f64, &[u8])]) -> Result<i64, Error> {
        let coords: Vec<(Vec<u8>, Vec<u8>)> = items.iter().map(|(x, y, _)| (num(*x), num(*y))).collect();
        let mut parts: Vec<&[u8]> = vec![b"GEOADD", key];
        for (on, name) in [(options.nx, &b"NX"[..]), (options.xx, b"XX"), (options.ch, b"CH")] {
            if on {
                parts.push(name);
            }
        }
        for ((x, y), (_, _, m)) in coords.iter().zip(items) {
            parts.extend([&x[..], &y[..], m]);
        }
        int(self.run(&parts)?)
    }

    /// `GEODIST key member1 member2 unit`: None if either member is missing.
    pub fn geodist(&self, key: &[u8], a: &[u8], b: &[u8], unit: Unit) -> Result<Option<f64>, Error> {
        match self.run(&[b"GEODIST", key, a, b, unit.arg()])? {
            Reply::Nil => Ok(None),
            r => distance(r).map(Some),
        }
    }

    /// `GEOHASH key member [...]`: 11-character geohashes.
    pub fn geohash(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<Bytes>>, Error> {
        let mut parts: Vec<&[u8]> = vec![b"GEOHASH", key];
        parts.extend_from_slice(members);
        array(self.run(&parts)?)?.into_iter().map(optional).collect()
    }

    /// `GEOPOS key member [...]`: `(longitude, latitude)` of each member.
    pub fn geopos(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<(f64, f64)>>, Error> {
        let mut parts: Vec<&[u8]> = vec![b"GEOPOS", key];
        parts.extend_from_slice(members);
        array(self.run(&parts)?)?.into_iter().map(position).collect()
    }

    /// `GEOSEARCH key ...`
    pub fn geosearch(&self, key: &[u8], search: &Search) -> Result<Vec<Found>, Error> {
        let args = search.args();
        let mut parts: Vec<&[u8]> = vec![b"GEOSEARCH", key];
        parts.extend(args.iter().map(|a| &a[..]));
        let extras = search.with_coord || search.with_dist || search.with_hash;
        array(self.run(&parts)?)?
            .into_iter()
            .map(|item| {
                if !extras {
                    return Ok(Found {
                        member: bulk(item)?,
                        dist: None,
                        hash: None,
                        coord: None,
                    });
                }
                let mut it = array(item)?.into_iter();
                let member = bulk(it.next().unwrap_or(Reply::Nil))?;
                let dist = if search.with_dist {
                    Some(distance(it.next().unwrap_or(Reply::Nil))?)
                } else {
                    None
                };
                let hash = if search.with_hash {
                    Some(int(it.next().unwrap_or(Reply::Nil))?)
                } else {
                    None
                };
                let coord = if search.with_coord {
                    position(it.next().unwrap_or(Reply::Nil))?
                } else {
                    None
                };
                Ok(Found {
                    member,
                    dist,
                    hash,
                    coord,
                })
            })
            .collect()
    }

    /// `GEOSEARCHSTORE dest src ... [STOREDIST]`: how many members were
    /// stored (with their geohash scores, or their distances with `storedist`).
    /// The search's WITH... options must be off.
    pub fn geosearchstore(&self, dest: &[u8], src: &[u8], search: &Search, storedist: bool) -> Result<i64, Error> {
        let args = search.args();
        let mut parts: Vec<&[u8]> = vec![b"GEOSEARCHSTORE", dest, src];
        parts.extend(args.iter().map(|a| &a[..]));
        if storedist {
            parts.push(b"STOREDIST");
        }
        int(self.run(&parts)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_searches_as_the_server_does() {
        let db = Db::open(":memory:").unwrap();
        let geo = db.geo();
        let sicily: &[(f64, f64, &[u8])] = &[(13.361389, 38.115556, b"Palermo"), (15.087269, 37.502669, b"Catania")];
        assert_eq!(geo.geoadd(b"Sicily", sicily).unwrap(), 2);
        assert_eq!(
            geo.geodist(b"Sicily", b"Palermo", b"Catania", Unit::Kilometers)
                .unwrap(),
            Some(166.2742)
        );
        assert_eq!(
            geo.geodist(b"Sicily", b"Palermo", b"Nowhere", Unit::Meters).unwrap(),
            None
        );
        assert_eq!(
            geo.geohash(b"Sicily", &[b"Palermo", b"x"]).unwrap(),
            vec![Some(Bytes::from_static(b"sqc8b49rny0")), None]
        );
        let pos = geo.geopos(b"Sicily", &[b"Palermo", b"x"]).unwrap();
        // GEOPOS's digits in Redis: 13.36138933897018433 38.11555639549629859.
        let want: (f64, f64) = (
            "13.36138933897018433".parse().unwrap(),
            "38.11555639549629859".parse().unwrap(),
        );
        assert_eq!(pos, vec![Some(want), None]);
        let mut s = Search::new(From::LonLat(15.0, 37.0), Area::Radius(200.0, Unit::Kilometers));
        s.ascending = Some(true);
        s.with_dist = true;
        s.with_hash = true;
        s.with_coord = true;
        let found = geo.geosearch(b"Sicily", &s).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].member, Bytes::from_static(b"Catania"));
        assert_eq!(found[0].dist, Some(56.4413));
        assert_eq!(found[0].hash, Some(3479447370796909));
        assert!(found[1].coord.is_some());
        let s = Search::new(
            From::Member(Bytes::from_static(b"Palermo")),
            Area::Box(10.0, 10.0, Unit::Kilometers),
        );
        assert_eq!(geo.geosearchstore(b"near", b"Sicily", &s, false).unwrap(), 1);
        assert_eq!(db.zsets().zcard(b"near").unwrap(), 1);

        let hll = db.hll();
        assert!(hll.pfadd(b"h", &[b"a", b"b", b"c"]).unwrap());
        assert!(!hll.pfadd(b"h", &[b"a"]).unwrap());
        assert!(hll.pfadd(b"h2", &[b"c", b"d"]).unwrap());
        assert_eq!(hll.pfcount(&[b"h"]).unwrap(), 3);
        assert_eq!(hll.pfcount(&[b"h", b"h2"]).unwrap(), 4);
        hll.pfmerge(b"h3", &[b"h", b"h2"]).unwrap();
        assert_eq!(hll.pfcount(&[b"h3"]).unwrap(), 4);
    }
}
