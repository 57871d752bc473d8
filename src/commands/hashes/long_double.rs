//! Redis's `long double` arithmetic for HINCRBYFLOAT (and INCRBYFLOAT), emulated exactly.
//!
//! Redis parses both operands with `strtold`, adds them as x87 80-bit extended
//! floats (64-bit significand, 15-bit exponent), and prints the sum with
//! `%.17Lf` before trimming trailing zeros. Rust has no 80-bit float, so this
//! module reproduces each step exactly with a small big-integer type: every
//! finite extended float is `mantissa * 2^exp`, parsing and addition compute
//! the exact rational result and round it once to 64 significant bits
//! (round-half-even, with subnormals and overflow), and printing expands the
//! value exactly before rounding to 17 decimals the way glibc does.

use std::cmp::Ordering;

/// Largest input `string2ld` accepts is shorter than this (`MAX_LONG_DOUBLE_CHARS`).
const MAX_CHARS: usize = 5 * 1024;
/// Exponent of the least significant bit of the smallest subnormal (2^-16445).
const MIN_LSB_EXP: i64 = -16445;
/// Values at or above 2^16384 overflow to infinity.
const MAX_EXP: i64 = 16384;

/// An extended-precision float value as Redis computes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LongDouble {
    /// `(-1)^neg * mant * 2^exp`, exactly (mant has at most 64 significant bits).
    Finite {
        neg: bool,
        mant: u64,
        exp: i64,
    },
    Infinite {
        neg: bool,
    },
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite {
        neg: false,
        mant: 0,
        exp: 0,
    };

    pub fn from_i64(n: i64) -> LongDouble {
        LongDouble::Finite {
            neg: n < 0,
            mant: n.unsigned_abs(),
            exp: 0,
        }
    }

    pub fn is_finite(self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Redis's `string2ld`: the whole string must be a `strtold` number (decimal,
    /// hexadecimal `0x1.8p3`, `inf`/`infinity`), with no leading space, not NaN,
    /// shorter than 5 KiB, and not out of range (overflow, or underflow to zero).
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { neg });
        }
        let exact = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(&body[2..])?
        } else {
            parse_decimal(body)?
        };
        match exact {
            Exact::Zero => Some(LongDouble::Finite { neg, mant: 0, exp: 0 }),
            Exact::Ratio { num, den, scale } => match round(neg, &num, &den, scale) {
                // Underflow to zero and overflow are ERANGE: rejected.
                Some(LongDouble::Finite { mant: 0, .. }) | None => None,
                v => v,
            },
        }
    }

    /// The correctly rounded sum (x87 `FADD` in round-to-nearest).
    pub fn plus(self, other: LongDouble) -> LongDouble {
        let (
            LongDouble::Finite {
                neg: an,
                mant: am,
                exp: ae,
            },
            LongDouble::Finite {
                neg: bn,
                mant: bm,
                exp: be,
            },
        ) = (self, other)
        else {
            return match (self, other) {
                (LongDouble::Infinite { neg: a }, LongDouble::Infinite { neg: b }) if a != b => {
                    // inf - inf is NaN; callers treat NaN and infinity alike.
                    LongDouble::Infinite { neg: false }
                }
                (LongDouble::Infinite { .. }, _) => self,
                _ => other,
            };
        };
        let low = ae.min(be);
        let a = Big::from_u64(am).shl((ae - low) as usize);
        let b = Big::from_u64(bm).shl((be - low) as usize);
        let (neg, sum) = if an == bn {
            (an, a.add(&b))
        } else {
            match a.cmp(&b) {
                Ordering::Less => (bn, b.sub(&a)),
                _ => (an, a.sub(&b)),
            }
        };
        if sum.is_zero() {
            return LongDouble::ZERO;
        }
        round(neg, &sum, &Big::from_u64(1), low).unwrap_or(LongDouble::Infinite { neg })
    }

    /// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros (and a
    /// trailing point) removed, `-0` printed as `0`. None for infinities.
    pub fn to_human(self) -> Option<String> {
        let LongDouble::Finite { neg, mant, exp } = self else {
            return None;
        };
        let mut digits = if exp >= 0 {
            let mut d = Big::from_u64(mant).shl(exp as usize).to_decimal();
            d.push_str(&"0".repeat(17));
            d
        } else {
            // round(mant * 10^17 / 2^-exp), ties to even.
            let n = Big::from_u64(mant).mul(&Big::pow10(17));
            let shift = (-exp) as usize;
            let mut q = n.shr(shift);
            let rem = n.sub(&q.shl(shift));
            let half = Big::from_u64(1).shl(shift - 1);
            let up = match rem.cmp(&half) {
                Ordering::Greater => true,
                Ordering::Equal => q.is_odd(),
                Ordering::Less => false,
            };
            if up {
                q = q.add(&Big::from_u64(1));
            }
            q.to_decimal()
        };
        if digits.len() < 18 {
            digits = format!("{}{digits}", "0".repeat(18 - digits.len()));
        }
        let point = digits.len() - 17;
        let (int, frac) = digits.split_at(point);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out = "0".into();
        }
        Some(out)
    }
}

/// An exact parsed value: `num * 2^scale / den`, or zero.
enum Exact {
    Zero,
    Ratio { num: Big, den: Big, scale: i64 },
}

/// Decimal `strtold` syntax: digits with an optional point (at least one
/// digit), then an optional exponent `e[+-]digits`. The whole input must match.
fn parse_decimal(s: &[u8]) -> Option<Exact> {
    let mut i = 0;
    let mut mantissa = Vec::new();
    let mut point_exp: i64 = 0;
    let mut seen_digit = false;
    while i < s.len() && s[i].is_ascii_digit() {
        mantissa.push(s[i] - b'0');
        seen_digit = true;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            mantissa.push(s[i] - b'0');
            point_exp -= 1;
            seen_digit = true;
            i += 1;
        }
    }
    if !seen_digit {
        return None;
    }
    let exp = parse_exponent(&s[i..], b'e')?;
    let first = mantissa.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(Exact::Zero);
    };
    let digits = &mantissa[first..];
    // The value is M * 10^e with M the significant digits.
    let e = exp.saturating_add(point_exp);
    let magnitude = e.saturating_add(digits.len() as i64); // value < 10^magnitude
    if magnitude - 1 > 4933 {
        return None; // certainly overflows
    }
    if magnitude < -4952 {
        return None; // below half the smallest subnormal: underflows to zero
    }
    let mut num = Big::default();
    for chunk in digits.chunks(9) {
        let mut v = 0u32;
        for &d in chunk {
            v = v * 10 + d as u32;
        }
        num = num
            .mul_small(10u32.pow(chunk.len() as u32))
            .add(&Big::from_u64(v as u64));
    }
    let (num, den) = if e >= 0 {
        (num.mul(&Big::pow10(e as usize)), Big::from_u64(1))
    } else {
        (num, Big::pow10((-e) as usize))
    };
    Some(Exact::Ratio { num, den, scale: 0 })
}

/// Hexadecimal `strtold` syntax after `0x`: hex digits with an optional point
/// (at least one digit), then an optional binary exponent `p[+-]digits`.
fn parse_hex(s: &[u8]) -> Option<Exact> {
    let mut i = 0;
    let mut num = Big::default();
    let mut scale: i64 = 0;
    let mut seen_digit = false;
    let mut frac = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !frac {
            frac = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            num = num.mul_small(16).add(&Big::from_u64(d as u64));
            seen_digit = true;
            if frac {
                scale -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    let exp = parse_exponent(&s[i..], b'p')?;
    if num.is_zero() {
        return Some(Exact::Zero);
    }
    let scale = scale.saturating_add(exp);
    // Clamp far-out exponents: the result is inf or zero either way.
    let scale = scale.clamp(-40_000 - num.bit_len() as i64, 40_000);
    Some(Exact::Ratio {
        num,
        den: Big::from_u64(1),
        scale,
    })
}

/// An optional exponent suffix (`marker[+-]digits`) that must end the input;
/// 0 if the input is empty. Saturates instead of overflowing.
fn parse_exponent(s: &[u8], marker: u8) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    if s[0] | 0x20 != marker {
        return None;
    }
    let (neg, digits) = match s.get(1) {
        Some(b'-') => (true, &s[2..]),
        Some(b'+') => (false, &s[2..]),
        _ => (false, &s[1..]),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().fold(0i64, |acc, &d| {
        acc.saturating_mul(10).saturating_add((d - b'0') as i64).min(1 << 40)
    });
    Some(if neg { -v } else { v })
}

/// Rounds `num * 2^scale / den` (num > 0) to an extended float: 64 significant
/// bits, round-half-even, subnormals below 2^-16382. None on overflow.
fn round(neg: bool, num: &Big, den: &Big, scale: i64) -> Option<LongDouble> {
    // Compute q = floor(num * 2^(scale - e0) / den) with 66 or 67 bits.
    let e0 = num.bit_len() as i64 - den.bit_len() as i64 + scale - 66;
    let t = scale - e0;
    let (n, d) = if t >= 0 {
        (num.shl(t as usize), den.clone())
    } else {
        (num.clone(), den.shl((-t) as usize))
    };
    let (q, rem) = n.div_small_quotient(&d, 68);
    let sticky = !rem.is_zero();
    let bits = 128 - q.leading_zeros() as i64;
    let lsb = (e0 + bits - 64).max(MIN_LSB_EXP);
    let shift = lsb - e0;
    let (mut kept, mut lsb) = if shift >= 128 {
        (0u128, lsb)
    } else {
        let kept = q >> shift;
        let low = q & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let up = low > half || (low == half && (sticky || kept & 1 == 1));
        (kept + up as u128, lsb)
    };
    if kept == 1u128 << 64 {
        kept >>= 1;
        lsb += 1;
    }
    if kept != 0 && lsb + (128 - kept.leading_zeros() as i64) > MAX_EXP {
        return None;
    }
    Some(LongDouble::Finite {
        neg,
        mant: kept as u64,
        exp: lsb,
    })
}

/// A minimal unsigned big integer: little-endian 32-bit limbs, no trailing zero limbs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        Big(vec![v as u32, (v >> 32) as u32]).trim()
    }

    fn trim(mut self) -> Big {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        self
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn is_odd(&self) -> bool {
        self.0.first().is_some_and(|l| l & 1 == 1)
    }

    fn bit_len(&self) -> usize {
        self.0
            .last()
            .map_or(0, |top| self.0.len() * 32 - top.leading_zeros() as usize)
    }

    fn pow10(n: usize) -> Big {
        let mut r = Big::from_u64(1);
        for _ in 0..n / 9 {
            r = r.mul_small(1_000_000_000);
        }
        r.mul_small(10u32.pow((n % 9) as u32))
    }

    fn mul_small(&self, m: u32) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = 0u64;
        for &l in &self.0 {
            let v = l as u64 * m as u64 + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        out.push(carry as u32);
        Big(out).trim()
    }

    fn mul(&self, other: &Big) -> Big {
        let mut out = vec![0u32; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.0.iter().enumerate() {
                let v = out[i + j] as u64 + a as u64 * b as u64 + carry;
                out[i + j] = v as u32;
                carry = v >> 32;
            }
            out[i + other.0.len()] = carry as u32;
        }
        Big(out).trim()
    }

    fn add(&self, other: &Big) -> Big {
        let (long, short) = if self.0.len() >= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = 0u64;
        for (i, &l) in long.0.iter().enumerate() {
            let v = l as u64 + *short.0.get(i).unwrap_or(&0) as u64 + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        out.push(carry as u32);
        Big(out).trim()
    }

    /// self - other, for self >= other.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for (i, &l) in self.0.iter().enumerate() {
            let mut v = l as i64 - *other.0.get(i).unwrap_or(&0) as i64 - borrow;
            borrow = (v < 0) as i64;
            if v < 0 {
                v += 1 << 32;
            }
            out.push(v as u32);
        }
        Big(out).trim()
    }

    fn shl(&self, bits: usize) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (limbs, bits) = (bits / 32, bits % 32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &l in &self.0 {
            out.push((l << bits) | carry);
            carry = if bits == 0 { 0 } else { l >> (32 - bits) };
        }
        out.push(carry);
        Big(out).trim()
    }

    fn shr(&self, bits: usize) -> Big {
        let (limbs, bits) = (bits / 32, bits % 32);
        if limbs >= self.0.len() {
            return Big::default();
        }
        let src = &self.0[limbs..];
        let out = (0..src.len())
            .map(|i| {
                let hi = if bits == 0 {
                    0
                } else {
                    src.get(i + 1).map_or(0, |&h| h << (32 - bits))
                };
                (src[i] >> bits) | hi
            })
            .collect();
        Big(out).trim()
    }

    /// Quotient and remainder of self / d when the quotient is known to be
    /// below 2^max_bits (max_bits <= 127): shift-and-subtract division.
    fn div_small_quotient(&self, d: &Big, max_bits: u32) -> (u128, Big) {
        let mut rem = self.clone();
        let mut q = 0u128;
        for bit in (0..max_bits).rev() {
            let t = d.shl(bit as usize);
            if rem.cmp(&t) != Ordering::Less {
                rem = rem.sub(&t);
                q |= 1 << bit;
            }
        }
        (q, rem)
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut chunks = Vec::new();
        let mut cur = self.0.clone();
        while !cur.is_empty() {
            let mut rem = 0u64;
            for l in cur.iter_mut().rev() {
                let v = (rem << 32) | *l as u64;
                *l = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            while cur.last() == Some(&0) {
                cur.pop();
            }
            chunks.push(rem as u32);
        }
        let mut out = chunks.pop().map_or_else(String::new, |c| c.to_string());
        for c in chunks.iter().rev() {
            out.push_str(&format!("{c:09}"));
        }
        out
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

/// Redis's HINCRBYFLOAT/INCRBYFLOAT step: `current + incr` printed as Redis
/// stores it, or None if the sum is infinite ("increment would produce NaN or Infinity").
pub fn add_and_format(current: LongDouble, incr: LongDouble) -> Option<String> {
    current.plus(incr).to_human()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(cur: &str, by: &str) -> Option<String> {
        let c = LongDouble::parse(cur.as_bytes())?;
        let b = LongDouble::parse(by.as_bytes())?;
        add_and_format(c, b)
    }

    #[test]
    fn matches_redis() {
        // Expected strings captured from Redis 7.0.15 on x86_64.
        assert_eq!(incr("0", "0.1").as_deref(), Some("0.1"));
        assert_eq!(incr("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(incr("2.2", "1.1").as_deref(), Some("3.3"));
        assert_eq!(incr("0", "3.0e5").as_deref(), Some("300000"));
        assert_eq!(incr("0", "-5.5").as_deref(), Some("-5.5"));
        assert_eq!(incr("0", "-0.0").as_deref(), Some("0"));
        assert_eq!(incr("0", "1e-20").as_deref(), Some("0"));
        assert_eq!(incr("1", "0x10").as_deref(), Some("17"));
        assert_eq!(incr("10", "0.1").as_deref(), Some("10.1"));
        assert_eq!(incr("1517", "0.5").as_deref(), Some("1517.5"));
        assert_eq!(
            incr("0", "123456789012345678901234567890").as_deref(),
            Some("123456789012345678899921813504")
        );
        assert_eq!(
            incr("0", "0.000003814697265625").as_deref(),
            Some("0.00000381469726562")
        );
        assert_eq!(
            incr("0", "0.000011444091796875").as_deref(),
            Some("0.00001144409179688")
        );
        assert_eq!(incr("0", "5e-18").as_deref(), Some("0"));
        assert_eq!(incr("0", "5.000000001e-18").as_deref(), Some("0.00000000000000001"));
        assert_eq!(incr("0", "15e-18").as_deref(), Some("0.00000000000000002"));
        assert_eq!(incr("0", "25e-18").as_deref(), Some("0.00000000000000002"));
        assert_eq!(incr("0", "1e-4940").as_deref(), Some("0"));
        assert_eq!(incr("0", "0x1p-16445").as_deref(), Some("0"));
        assert_eq!(incr("10", "1e300").map(|s| s.len()), Some(301));
        let max = incr("0", "1.18973149535723176502e+4932").unwrap_or_default();
        assert_eq!(max.len(), 4933);
        assert!(max.starts_with("118973149535723176502126385303097020516906332229462420044032373389173700552297072261641029033652888285354569780749557731442744315367028843419812557385374367867359320070697326320191591828296152436552951064679108661431179063216977883889613478656060039914875343321145491116008867984515486651285234014977303760000912547939396622315138362241783854274391783813871780588948754057516822634765923557697480511372564902088485522249479139937758502601177354918009979622602685950855888360815984690023564513234659447638493985927645628457966177293040780660922910271504608538808795932778162298682754783076808004015069494230341172895777710033571401055977524212405734700738625166011082837911962300846927720096515350020847447079244384854591288672300061908512647211195136146752763351956292759795725027800298079590419313960302147099703527646744553092202267965628099149823208332964124103850923918473478612192169721054348428704835340811304257300221642134891734717423480071488075100206439051723424765600472176809648610799494341570347632064355862420744350442438056613601760883747816538902780957697597728686007148702828795556714140463261583262360276289631617397848425448686060994827086796804807870251185893083854658422304090880599629459458620190376604844679092600222541053077590106576067134720012584640695703025713896098375799892695455305236856075868317922311363951946885088077187210470520395758748001314313144425494391994017575316933939236688185618912993172910425292123683515992232205099800167710278403536014082929639811512287776813570604578934353545169653956125404884644716978689321167108722908808277835051822885764606221873970285165508372099234948333443522898475123275372663606621390228126470623407535207172405866507951821730346378263135339370677490195019784169044182473806316282858685774143258116536404021840272491339332094921949842244273042701987304453662035026238695780468200360144729199712309553005720614186697485284685618651483271597448120312194675168637934309618961510733006555242148519520176285859509105183947250286387163249416761380499631979144187025430270675849519200883791516940158174004671147787720145964446117520405945350476472180797576111172084627363927960033967047003761337450955318415007379641260504792325166135484129188421134082301547330475406707281876350361733290800595189632520707167390454777712968226520622565143991937680440029238090311243791261477625596469422198137514696707944687035800439250765945161837981185939204954403611491531078225107269148697980924094677214272701240437718740921675661363493890045123235166814608932240069799317601780533819184998193300841098599393876029260139091141452600372028487213241195542428210183120421610446740462163533690058366460659115629876474552506814500393294140413149540067760295100596225302282300363147382468105964844244132486457313743759509641616804802412935187620466813563687753281467553879887177183651289394719533506188500326760735438867336800207438784965701457609034985757124304510203873049485425670247933932280911052604153852899484920399109194612991249163328991799809438033787952209313146694614970593966415237594928589096048991612194498998638483702248667224914892467841020618336462741696957630763248023558797524525373703543388296086275342774001633343405508353704850737454481975472222897528108302089868263302028525992308416805453968791141829762998896457648276528750456285492426516521775079951625966922911497778896235667095662713848201819134832168799586365263762097828507009933729439678463987902491451422274252700636394232799848397673998715441855420156224415492665301451550468548925862027608576183712976335876121538256512963353814166394951655600026415918655485005705261143195291991880795452239464962763563017858089669222640623538289853586759599064700838568712381032959192649484625076899225841930548076362021508902214922052806984201835084058693849381549890944546197789302911357651677540623227829831403347327660395223160342282471752818181884430488092132193355086987339586127607367086665237555567580317149010847732009642431878007000879734603290627894355374356444885190719161645514115576193939969076741515640282654366402676009508752394550734155613586793306603174472092444651353236664764973540085196704077110364053815007348689179836404957060618953500508984091382686953509006678332447257871219660441528492484004185093281190896363417573989716659600075948780061916409485433875852065711654107226099628815012314437794400874930194474433078438899570184271000480830501217712356062289507626904285680004771889315808935851559386317665294808903126774702966254511086154895839508779675546413794489596052797520987481383976257859210575628440175934932416214833956535018919681138909184379573470326940634289008780584694035245347939808067427323629788710086717580253156130235606487870925986528841635097252953709111431720488774740553905400942537542411931794417513706468964386151771884986701034153254238591108962471088538580868883777725864856414593426212108664758848926003176234596076950884914966244415660441955208681198977024"));
        assert_eq!(incr("1e4932", "1e4932"), None);
        assert_eq!(incr("0", "inf"), None);
    }

    #[test]
    fn parse_rules() {
        for bad in [
            "",
            " 1",
            "1 ",
            "abc",
            "nan",
            "-nan",
            "1e",
            ".",
            "+",
            "0x",
            "1\u{0}",
            "1e-5000",
            "1e5000",
            "1e-4960",
            "0x1p-16500",
            "infin",
        ] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        for good in [
            ".5",
            "5.",
            "+.5e+1",
            "0x1.8p1",
            "-0",
            "0e-99999",
            "inf",
            "-Infinity",
            "1E3",
            "00012",
        ] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good:?}");
        }
        assert_eq!(
            LongDouble::parse(b"0x1.8p1").and_then(|v| v.to_human()).as_deref(),
            Some("3")
        );
        assert_eq!(LongDouble::parse(&[b'1'; MAX_CHARS]), None);
    }
}
