//! Redis's glob-style pattern matching (`stringmatchlen` in util.c), on bytes.
//!
//! `*` any run, `?` any byte, `[abc]` `[^abc]` `[a-z]` classes, `\x` a literal
//! `x`. Ported line by line so that edge cases (unclosed `[`, a trailing `\`,
//! reversed ranges) behave exactly as in Redis.

/// True if `string` matches `pattern`. `nocase` folds ASCII case.
pub fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase { a.eq_ignore_ascii_case(&b) } else { a == b }
}

fn match_impl(pattern: &[u8], string: &[u8], nocase: bool, skip_longer: &mut bool, nesting: usize) -> bool {
    // Protection against abusive patterns, as in Redis 7.
    if nesting > 1000 {
        return false;
    }
    let at = |p: &[u8], i: usize| p.get(i).copied().unwrap_or(0);
    let mut p = 0usize; // index into pattern
    let mut s = 0usize; // index into string
    let plen = pattern.len();
    let slen = string.len();
    while p < plen && s < slen {
        match pattern[p] {
            b'*' => {
                while p + 1 < plen && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == plen {
                    return true;
                }
                while s < slen {
                    if match_impl(&pattern[p + 1..], &string[s..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s += 1;
            }
            b'[' => {
                p += 1;
                let not = at(pattern, p) == b'^' && p < plen;
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    if p < plen && pattern[p] == b'\\' && plen - p >= 2 {
                        p += 1;
                        if pattern[p] == string[s] {
                            matched = true;
                        }
                    } else if p < plen && pattern[p] == b']' {
                        break;
                    } else if p >= plen {
                        p -= 1;
                        break;
                    } else if plen - p >= 3 && pattern[p + 1] == b'-' {
                        let (mut start, mut end) = (pattern[p], pattern[p + 2]);
                        let mut c = string[s];
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(pattern[p], string[s], nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            c => {
                let mut c = c;
                if c == b'\\' && plen - p >= 2 {
                    p += 1;
                    c = pattern[p];
                }
                if !eq(c, string[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == slen {
            while p < plen && pattern[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= plen && s == slen
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(p: &str, s: &str) -> bool {
        matches(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn redis_cases() {
        assert!(m("*", "anything"));
        // Like Redis: "*" does not match the empty string here; KEYS and SCAN special-case a lone "*".
        assert!(!m("*", ""));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("[abc", "a"));
        assert!(m("ab\\", "ab\\"));
        assert!(m("*a", "a"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(matches(b"HELLO", b"hello", true));
        assert!(matches(b"k\xff*", b"k\xff\x00z", false));
    }

    #[test]
    fn abusive_pattern_terminates() {
        let p = "a*".repeat(50) + "b";
        let s = "a".repeat(60);
        assert!(!m(&p, &s));
    }
}
