//! Minimal logging to stderr in Redis's style, filtered by `--loglevel`.

use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(2);

/// Sets the level from Redis 7.0's names: debug, verbose, notice, warning.
pub fn set_level(name: &str) -> Result<(), String> {
    let l = match name.to_ascii_lowercase().as_str() {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        "warning" => 3,
        _ => {
            return Err(format!("invalid log level '{name}' (debug, verbose, notice, warning)"));
        }
    };
    LEVEL.store(l, Ordering::Relaxed);
    Ok(())
}

fn log(level: u8, mark: char, msg: &str) {
    if level >= LEVEL.load(Ordering::Relaxed) {
        eprintln!("{}:M {} {} {}", std::process::id(), timestamp(), mark, msg);
    }
}

fn timestamp() -> String {
    let ms = crate::util::now_ms();
    let secs = ms / 1000;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!("{h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
}

pub fn debug(msg: &str) {
    log(0, '.', msg)
}

pub fn verbose(msg: &str) {
    log(1, '-', msg)
}

pub fn notice(msg: &str) {
    log(2, '*', msg)
}

pub fn warn(msg: &str) {
    log(3, '#', msg)
}
