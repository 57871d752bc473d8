//! C's `long double` as Redis uses it on x86-64 Linux: the x87 80-bit
//! extended format (64-bit mantissa), in software.
//!
//! INCRBYFLOAT (and HINCRBYFLOAT) parse with `strtold`, add in long double and
//! print with `%.17Lf` before trimming trailing zeros, so `0.1 + 0.2` gives
//! `0.3` in Redis where `f64` would give `0.30000000000000004`. Rust has no
//! 80-bit float, so this module implements the three operations exactly:
//! correctly rounded parsing, correctly rounded addition (round to nearest,
//! ties to even), and exact decimal printing. Arithmetic is done on
//! arbitrary-precision integers ([`Big`]), which keeps every step exact.

mod bignum;

use bignum::Big;

/// Exponent of the smallest representable step (the least subnormal is `2^-16445`).
const EXP_MIN: i64 = -16445;
/// Exponent of the largest finite value's last mantissa bit.
const EXP_MAX: i64 = 16320;
/// Redis's `MAX_LONG_DOUBLE_CHARS`: longer inputs are not floats.
const MAX_CHARS: usize = 5 * 1024;

/// An extended-precision value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LongDouble {
    Zero {
        neg: bool,
    },
    /// `mant * 2^exp`; normal values have the top mantissa bit set, subnormals have `exp == EXP_MIN`.
    Finite {
        neg: bool,
        mant: u64,
        exp: i64,
    },
    Inf {
        neg: bool,
    },
    NaN,
}

impl LongDouble {
    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Zero { .. } | LongDouble::Finite { .. })
    }

    /// Redis's `string2ld`: `strtold` over the whole argument (a NUL byte
    /// included), rejecting leading spaces, trailing garbage, overflow,
    /// underflow to zero and NaN. Hexadecimal floats (`0x1p3`) are accepted.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let v = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            LongDouble::Inf { neg }
        } else if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(neg, &body[2..])?
        } else {
            parse_decimal(neg, body)?
        };
        match v {
            LongDouble::NaN => None,
            _ => Some(v),
        }
    }

    /// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros and
    /// point removed, `-0` printed as `0`. Infinities print as `inf`/`-inf`.
    pub fn to_human(self) -> String {
        let (neg, digits) = match self {
            LongDouble::Inf { neg } => return if neg { "-inf".into() } else { "inf".into() },
            LongDouble::NaN => return "nan".into(),
            LongDouble::Zero { neg } => (neg, "0".to_string()),
            LongDouble::Finite { neg, mant, exp } if exp >= 0 => {
                (neg, Big::from_u64(mant).shl(exp as u64).to_decimal())
            }
            LongDouble::Finite { neg, mant, exp } => (neg, fixed17(mant, -exp)),
        };
        let trimmed = if digits.contains('.') {
            digits.trim_end_matches('0').trim_end_matches('.')
        } else {
            &digits
        };
        if neg && trimmed != "0" {
            format!("-{trimmed}")
        } else {
            trimmed.to_string()
        }
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// `self + other`, rounded to nearest (ties to even) like the x87 FPU.
    fn add(self, other: LongDouble) -> LongDouble {
        use LongDouble::*;
        match (self, other) {
            (NaN, _) | (_, NaN) => NaN,
            (Inf { neg: a }, Inf { neg: b }) if a != b => NaN,
            (Inf { neg }, _) | (_, Inf { neg }) => Inf { neg },
            (Zero { neg: a }, Zero { neg: b }) => Zero { neg: a && b },
            (Zero { .. }, x) | (x, Zero { .. }) => x,
            (
                Finite {
                    neg: na,
                    mant: ma,
                    exp: ea,
                },
                Finite {
                    neg: nb,
                    mant: mb,
                    exp: eb,
                },
            ) => {
                let e = ea.min(eb);
                let a = Big::from_u64(ma).shl((ea - e) as u64);
                let b = Big::from_u64(mb).shl((eb - e) as u64);
                if na == nb {
                    round(na, &a.add(&b), e, false)
                } else {
                    match a.cmp(&b) {
                        std::cmp::Ordering::Equal => Zero { neg: false },
                        std::cmp::Ordering::Greater => {
                            let mut d = a;
                            d.sub_assign(&b);
                            round(na, &d, e, false)
                        }
                        std::cmp::Ordering::Less => {
                            let mut d = b;
                            d.sub_assign(&a);
                            round(nb, &d, e, false)
                        }
                    }
                }
            }
        }
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `mant / 2^shift` printed with exactly 17 decimals, rounded half to even as glibc does.
fn fixed17(mant: u64, shift: i64) -> String {
    let scaled = Big::from_u64(mant).mul(&Big::pow10(17));
    let shift = shift as u64;
    let mut q = scaled.shr(shift);
    let half = shift > 0 && scaled.bit(shift - 1);
    let rest = shift > 1 && scaled.any_below(shift - 1);
    if half && (rest || q.bit(0)) {
        q = q.add(&Big::from_u64(1));
    }
    let digits = q.to_decimal();
    let padded = format!("{digits:0>18}");
    let (int, frac) = padded.split_at(padded.len() - 17);
    format!("{int}.{frac}")
}

/// Rounds the exact value `m * 2^q` (plus a nonzero tail below it if `sticky`)
/// to the nearest long double.
fn round(neg: bool, m: &Big, q: i64, sticky: bool) -> LongDouble {
    let nbits = m.bits() as i64;
    if nbits == 0 {
        return LongDouble::Zero { neg };
    }
    let exp = (q + nbits - 64).max(EXP_MIN);
    let shift = exp - q;
    let (mant, half, rest) = if shift <= 0 {
        (m.bits_u64(0) << (-shift), false, false)
    } else {
        let s = shift as u64;
        (m.bits_u64(s), m.bit(s - 1), s > 1 && m.any_below(s - 1))
    };
    let (mut mant, mut exp) = (mant, exp);
    if half && (rest || sticky || mant & 1 == 1) {
        match mant.checked_add(1) {
            Some(v) => mant = v,
            None => {
                mant = 1 << 63;
                exp += 1;
            }
        }
    }
    if mant == 0 {
        LongDouble::Zero { neg }
    } else if exp > EXP_MAX {
        LongDouble::Inf { neg }
    } else {
        LongDouble::Finite { neg, mant, exp }
    }
}

/// Digits and exponent of a decimal number `digits[.digits][e[+-]digits]`.
fn parse_decimal(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let (mant, exp) = split_mantissa(s, b'e')?;
    let (int, frac) = mant;
    let mut d = Big::default();
    for &c in int.iter().chain(frac) {
        d.mul_add_small(10, (c - b'0') as u32);
    }
    if d.is_zero() {
        return Some(LongDouble::Zero { neg });
    }
    let e = exp - frac.len() as i64;
    // Decide overflow/underflow early so huge exponents never build huge numbers.
    let magnitude = d.to_decimal().len() as i64 + e;
    if magnitude > 4934 {
        return None; // ERANGE overflow
    }
    if magnitude < -4952 {
        return None; // ERANGE underflow to zero
    }
    let v = if e >= 0 {
        round(neg, &d.mul(&Big::pow10(e as u64)), 0, false)
    } else {
        let den = Big::pow10((-e) as u64);
        // Scale so that the quotient has 67 or 68 bits: plenty for rounding.
        let k = 67 + den.bits() as i64 - d.bits() as i64;
        let (num, den) = if k >= 0 {
            (d.shl(k as u64), den)
        } else {
            (d, den.shl((-k) as u64))
        };
        let (quot, inexact) = num.div_small_quotient(&den, 68);
        let quot = Big::from_u64(quot as u64).add(&Big::from_u64((quot >> 64) as u64).shl(64));
        round(neg, &quot, -k, inexact)
    };
    finite_or_range_error(v)
}

/// A hexadecimal float body after `0x`: `hex[.hex][p[+-]digits]`.
fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let (mant, exp) = split_mantissa(s, b'p')?;
    let (int, frac) = mant;
    let mut h = Big::default();
    for &c in int.iter().chain(frac) {
        h.mul_add_small(16, (c as char).to_digit(16)?);
    }
    if h.is_zero() {
        return Some(LongDouble::Zero { neg });
    }
    let e = exp - 4 * frac.len() as i64;
    let top = h.bits() as i64 + e;
    if top > 16400 {
        return None;
    }
    if top < -16500 {
        return None;
    }
    finite_or_range_error(round(neg, &h, e, false))
}

/// Overflow to infinity and underflow to zero set ERANGE, which Redis rejects.
fn finite_or_range_error(v: LongDouble) -> Option<LongDouble> {
    match v {
        LongDouble::Finite { .. } => Some(v),
        _ => None,
    }
}

type Mantissa<'a> = (&'a [u8], &'a [u8]);

/// Splits `int[.frac][<marker>[+-]digits]` where int/frac are digits of the
/// base (decimal for `e`, hex for `p`); at least one mantissa digit is needed.
/// Returns `None` unless the whole input is consumed, like Redis's end check.
fn split_mantissa(s: &[u8], marker: u8) -> Option<(Mantissa<'_>, i64)> {
    let is_digit = |c: u8| {
        if marker == b'p' {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_digit()
        }
    };
    let int_len = s.iter().take_while(|&&c| is_digit(c)).count();
    let (int, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.first() {
        Some(b'.') => {
            let n = rest[1..].iter().take_while(|&&c| is_digit(c)).count();
            (&rest[1..1 + n], &rest[1 + n..])
        }
        _ => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if rest.is_empty() {
        return Some(((int, frac), 0));
    }
    if rest[0] | 0x20 != marker {
        return None;
    }
    let (eneg, digits) = match rest.get(1) {
        Some(b'-') => (true, &rest[2..]),
        Some(b'+') => (false, &rest[2..]),
        _ => (false, &rest[1..]),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Saturate: anything this large over- or underflows anyway.
    let e = digits
        .iter()
        .fold(0i64, |acc, &c| (acc * 10 + (c - b'0') as i64).min(1_000_000_000));
    Some(((int, frac), if eneg { -e } else { e }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let x = LongDouble::parse(a.as_bytes()).unwrap();
        let y = LongDouble::parse(b.as_bytes()).unwrap();
        (x + y).to_human()
    }

    #[test]
    fn matches_x87_long_double() {
        // Expected values from real Redis 7.0 on x86-64.
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("0", "10.5"), "10.5");
        assert_eq!(incr("0", "5.0e3"), "5000");
        assert_eq!(incr("0", "-0"), "0");
        assert_eq!(incr("0", "0x10"), "16");
        assert_eq!(incr("0", "1.5e-4940"), "0");
        assert_eq!(
            incr("0", "1e200"),
            "100000000000000000002458586534161025661508068040050002887327500487325785432383926208372890736129198739813658147359652238566592960617854587787845326097835852628442219969983473365844529789269081145212928"
        );
        assert_eq!(incr("3.0", "1.1"), "4.1");
        assert_eq!(incr("10.50", "0.1"), "10.6");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
    }

    #[test]
    fn parse_rejects_like_string2ld() {
        for bad in [
            " 1", "1 ", "", "nan", "1e5000", "1e-5000", "abc", "1e", "0x", "0x1p", ".", "-", "infinit",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(LongDouble::parse(b"inf"), Some(LongDouble::Inf { neg: false }));
        assert_eq!(LongDouble::parse(b"1\0junk"), None);
        assert_eq!(LongDouble::parse(b"\0"), None);
        let big = LongDouble::parse(b"1e4932").unwrap();
        assert!(!(big + big).is_finite());
    }

    fn hincr(cur: &str, by: &str) -> Option<String> {
        let sum = LongDouble::parse(cur.as_bytes())? + LongDouble::parse(by.as_bytes())?;
        sum.is_finite().then(|| sum.to_human())
    }

    #[test]
    fn matches_redis_hincrbyfloat_cases() {
        // Expected strings captured from Redis 7.0.15 on x86_64.
        assert_eq!(hincr("0", "0.1").as_deref(), Some("0.1"));
        assert_eq!(hincr("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(hincr("2.2", "1.1").as_deref(), Some("3.3"));
        assert_eq!(hincr("0", "3.0e5").as_deref(), Some("300000"));
        assert_eq!(hincr("0", "-5.5").as_deref(), Some("-5.5"));
        assert_eq!(hincr("0", "-0.0").as_deref(), Some("0"));
        assert_eq!(hincr("0", "1e-20").as_deref(), Some("0"));
        assert_eq!(hincr("1", "0x10").as_deref(), Some("17"));
        assert_eq!(hincr("10", "0.1").as_deref(), Some("10.1"));
        assert_eq!(hincr("1517", "0.5").as_deref(), Some("1517.5"));
        assert_eq!(
            hincr("0", "123456789012345678901234567890").as_deref(),
            Some("123456789012345678899921813504")
        );
        assert_eq!(
            hincr("0", "0.000003814697265625").as_deref(),
            Some("0.00000381469726562")
        );
        assert_eq!(
            hincr("0", "0.000011444091796875").as_deref(),
            Some("0.00001144409179688")
        );
        assert_eq!(hincr("0", "5e-18").as_deref(), Some("0"));
        assert_eq!(hincr("0", "5.000000001e-18").as_deref(), Some("0.00000000000000001"));
        assert_eq!(hincr("0", "15e-18").as_deref(), Some("0.00000000000000002"));
        assert_eq!(hincr("0", "25e-18").as_deref(), Some("0.00000000000000002"));
        assert_eq!(hincr("0", "1e-4940").as_deref(), Some("0"));
        assert_eq!(hincr("0", "0x1p-16445").as_deref(), Some("0"));
        assert_eq!(hincr("10", "1e300").map(|s| s.len()), Some(301));
        let max = hincr("0", "1.18973149535723176502e+4932").unwrap_or_default();
        assert_eq!(max.len(), 4933);
        assert!(max.starts_with("118973149535723176502126385303097020516906332229462420044032373389173700552297072261641029033652888285354569780749557731442744315367028843419812557385374367867359320070697326320191591828296152436552951064679108661431179063216977883889613478656060039914875343321145491116008867984515486651285234014977303760000912547939396622315138362241783854274391783813871780588948754057516822634765923557697480511372564902088485522249479139937758502601177354918009979622602685950855888360815984690023564513234659447638493985927645628457966177293040780660922910271504608538808795932778162298682754783076808004015069494230341172895777710033571401055977524212405734700738625166011082837911962300846927720096515350020847447079244384854591288672300061908512647211195136146752763351956292759795725027800298079590419313960302147099703527646744553092202267965628099149823208332964124103850923918473478612192169721054348428704835340811304257300221642134891734717423480071488075100206439051723424765600472176809648610799494341570347632064355862420744350442438056613601760883747816538902780957697597728686007148702828795556714140463261583262360276289631617397848425448686060994827086796804807870251185893083854658422304090880599629459458620190376604844679092600222541053077590106576067134720012584640695703025713896098375799892695455305236856075868317922311363951946885088077187210470520395758748001314313144425494391994017575316933939236688185618912993172910425292123683515992232205099800167710278403536014082929639811512287776813570604578934353545169653956125404884644716978689321167108722908808277835051822885764606221873970285165508372099234948333443522898475123275372663606621390228126470623407535207172405866507951821730346378263135339370677490195019784169044182473806316282858685774143258116536404021840272491339332094921949842244273042701987304453662035026238695780468200360144729199712309553005720614186697485284685618651483271597448120312194675168637934309618961510733006555242148519520176285859509105183947250286387163249416761380499631979144187025430270675849519200883791516940158174004671147787720145964446117520405945350476472180797576111172084627363927960033967047003761337450955318415007379641260504792325166135484129188421134082301547330475406707281876350361733290800595189632520707167390454777712968226520622565143991937680440029238090311243791261477625596469422198137514696707944687035800439250765945161837981185939204954403611491531078225107269148697980924094677214272701240437718740921675661363493890045123235166814608932240069799317601780533819184998193300841098599393876029260139091141452600372028487213241195542428210183120421610446740462163533690058366460659115629876474552506814500393294140413149540067760295100596225302282300363147382468105964844244132486457313743759509641616804802412935187620466813563687753281467553879887177183651289394719533506188500326760735438867336800207438784965701457609034985757124304510203873049485425670247933932280911052604153852899484920399109194612991249163328991799809438033787952209313146694614970593966415237594928589096048991612194498998638483702248667224914892467841020618336462741696957630763248023558797524525373703543388296086275342774001633343405508353704850737454481975472222897528108302089868263302028525992308416805453968791141829762998896457648276528750456285492426516521775079951625966922911497778896235667095662713848201819134832168799586365263762097828507009933729439678463987902491451422274252700636394232799848397673998715441855420156224415492665301451550468548925862027608576183712976335876121538256512963353814166394951655600026415918655485005705261143195291991880795452239464962763563017858089669222640623538289853586759599064700838568712381032959192649484625076899225841930548076362021508902214922052806984201835084058693849381549890944546197789302911357651677540623227829831403347327660395223160342282471752818181884430488092132193355086987339586127607367086665237555567580317149010847732009642431878007000879734603290627894355374356444885190719161645514115576193939969076741515640282654366402676009508752394550734155613586793306603174472092444651353236664764973540085196704077110364053815007348689179836404957060618953500508984091382686953509006678332447257871219660441528492484004185093281190896363417573989716659600075948780061916409485433875852065711654107226099628815012314437794400874930194474433078438899570184271000480830501217712356062289507626904285680004771889315808935851559386317665294808903126774702966254511086154895839508779675546413794489596052797520987481383976257859210575628440175934932416214833956535018919681138909184379573470326940634289008780584694035245347939808067427323629788710086717580253156130235606487870925986528841635097252953709111431720488774740553905400942537542411931794417513706468964386151771884986701034153254238591108962471088538580868883777725864856414593426212108664758848926003176234596076950884914966244415660441955208681198977024"));
        assert_eq!(hincr("1e4932", "1e4932"), None);
        assert_eq!(hincr("0", "inf"), None);
    }
}
