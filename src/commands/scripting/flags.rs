//! Script flags: the `#!lua flags=...` shebang of EVAL scripts and the
//! `flags` of `redis.register_function`.

use crate::resp::request::split_args;

/// What a script declared about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// No shebang: an EVAL script as before Redis 7 (may write, no checks up front).
    pub compat: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot: bool,
}

/// The flag names, in Redis's order.
pub const NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

impl Flags {
    pub fn compat() -> Flags {
        Flags {
            compat: true,
            ..Flags::default()
        }
    }

    /// Sets the flag called `name`; false if there is none.
    pub fn set(&mut self, name: &[u8]) -> bool {
        match name {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot = true,
            _ => return false,
        }
        true
    }

    /// The names of the flags set, in Redis's order (FUNCTION LIST).
    pub fn names(&self) -> Vec<&'static str> {
        let on = [
            self.no_writes,
            self.allow_oom,
            self.allow_stale,
            self.no_cluster,
            self.allow_cross_slot,
        ];
        NAMES.iter().zip(on).filter(|(_, on)| *on).map(|(n, _)| *n).collect()
    }

    /// True if the script may not write: EVAL_RO and the like, or `no-writes`.
    pub fn read_only(&self, ro_command: bool) -> bool {
        ro_command || (!self.compat && self.no_writes)
    }
}

/// The flags of an EVAL script's shebang line and the line's length (0 and
/// compat flags without one), or Redis's error (without its `ERR ` code).
pub fn shebang(body: &[u8]) -> Result<(Flags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((Flags::compat(), 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = match split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = Flags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(part)));
        };
        if list.is_empty() {
            continue;
        }
        for flag in list.split(|&c| c == b',') {
            if !flags.set(flag) {
                return Err(format!(
                    "Unexpected flag in script shebang: {}",
                    String::from_utf8_lossy(flag)
                ));
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(shebang(b"return 1").unwrap(), (Flags::compat(), 0));
        let (f, n) = shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.no_writes && f.allow_oom && !f.compat && n == 31);
        assert_eq!(shebang(b"#!lua\nreturn 1").unwrap().0, Flags::default());
        assert_eq!(shebang(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(
            shebang(b"#!python\n").unwrap_err(),
            "Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            shebang(b"#!lua flags=foo\n").unwrap_err(),
            "Unexpected flag in script shebang: foo"
        );
        assert_eq!(shebang(b"#!lua x=1\n").unwrap_err(), "Unknown lua shebang option: x=1");
    }
}
