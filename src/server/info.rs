//! INFO: the sections that clients and tools parse, in Redis 7.0's format.
//!
//! The reply is `# Section\r\nfield:value\r\n...` with a blank line between
//! sections, always in Redis's section order whatever order they were asked
//! in. Unknown section names are ignored (an empty reply if nothing matched).
//! Figures that have no meaning for redsql (replication, AOF, forks) carry the
//! values Redis reports when the feature is idle.

use super::Server;
use crate::store::DbStats;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// Sections in output order, and whether `INFO` / `INFO default` includes them.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("cluster", true),
    ("keyspace", true),
    ("redsql", true),
];

/// The sections asked for by INFO's arguments, in output order.
pub fn selected(args: &[Bytes]) -> Vec<&'static str> {
    let asked: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(a).to_lowercase()).collect();
    let everything = asked.is_empty()
        || asked
            .iter()
            .any(|a| matches!(a.as_str(), "all" | "everything" | "default"));
    SECTIONS
        .iter()
        .filter(|(name, default)| (everything && *default) || asked.iter().any(|a| a == name))
        .map(|(name, _)| *name)
        .collect()
}

/// Renders the given sections. `keyspace` is the per-database key count
/// (needed only when the keyspace section is included).
pub fn render(server: &Server, sections: &[&str], keyspace: &[(u32, DbStats)]) -> String {
    let mut out = String::new();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let title = match *section {
            "cpu" => "CPU".to_string(),
            s => s[..1].to_uppercase() + &s[1..],
        };
        let _ = write!(out, "# {title}\r\n");
        let fields = match *section {
            "server" => named(server_section(server)),
            "clients" => named(clients_section(server)),
            "memory" => named(memory_section(server)),
            "persistence" => named(persistence_section(server)),
            "stats" => named(stats_section(server)),
            "replication" => named(replication_section()),
            "cpu" => named(cpu_section()),
            "cluster" => named(vec![("cluster_enabled", "0".into())]),
            "keyspace" => keyspace
                .iter()
                .filter(|(_, s)| s.keys > 0)
                .map(|(db, s)| {
                    (
                        format!("db{db}"),
                        format!("keys={},expires={},avg_ttl=0", s.keys, s.expires),
                    )
                })
                .collect(),
            "redsql" => {
                let location = server.engine.location();
                let backend = server.engine.backend_name();
                let mut fields = vec![
                    ("redsql_version", env!("CARGO_PKG_VERSION").into()),
                    ("backend", backend.into()),
                    ("db_location", location),
                ];
                if let Some(c) = server.engine.read_cache_stats() {
                    fields.extend([
                        ("read_cache_keys", c.keys.to_string()),
                        ("read_cache_bytes", c.bytes.to_string()),
                        ("read_cache_max_bytes", c.budget.to_string()),
                        ("read_cache_hits", c.hits.to_string()),
                        ("read_cache_misses", c.misses.to_string()),
                    ]);
                }
                named(fields)
            }
            _ => Vec::new(),
        };
        for (k, v) in fields {
            let _ = write!(out, "{k}:{v}\r\n");
        }
    }
    out
}

type Fields = Vec<(&'static str, String)>;

fn named(fields: Fields) -> Vec<(String, String)> {
    fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn server_section(s: &Server) -> Fields {
    let uptime = s.started_at.elapsed().as_secs();
    let os = format!(
        "{} {} {}",
        if cfg!(target_os = "linux") {
            "Linux"
        } else {
            std::env::consts::OS
        },
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|r| r.trim().to_string())
            .unwrap_or_default(),
        std::env::consts::ARCH
    );
    vec![
        ("redis_version", crate::REDIS_VERSION.into()),
        ("redis_git_sha1", "00000000".into()),
        ("redis_git_dirty", "0".into()),
        ("redis_build_id", "0".into()),
        ("redis_mode", "standalone".into()),
        ("os", os),
        ("arch_bits", (usize::BITS).to_string()),
        ("monotonic_clock", "POSIX clock_gettime".into()),
        ("multiplexing_api", "epoll".into()),
        ("process_id", std::process::id().to_string()),
        ("process_supervised", "no".into()),
        ("run_id", s.run_id.clone()),
        ("tcp_port", s.tcp_port.load(Ordering::Relaxed).to_string()),
        ("server_time_usec", crate::util::now_us().to_string()),
        ("uptime_in_seconds", uptime.to_string()),
        ("uptime_in_days", (uptime / 86400).to_string()),
        ("hz", s.config.get("hz").unwrap_or_else(|| "10".into())),
        ("configured_hz", s.config.get("hz").unwrap_or_else(|| "10".into())),
        (
            "executable",
            std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        (
            "config_file",
            s.config.file().map(|p| p.display().to_string()).unwrap_or_default(),
        ),
        ("io_threads_active", "0".into()),
    ]
}

fn clients_section(s: &Server) -> Fields {
    vec![
        ("connected_clients", s.clients.count().to_string()),
        ("cluster_connections", "0".into()),
        ("maxclients", s.config.maxclients().to_string()),
        ("blocked_clients", s.blocking.blocked_clients().to_string()),
        ("tracking_clients", "0".into()),
        (
            "clients_in_timeout_table",
            s.blocking.clients_with_timeout().to_string(),
        ),
    ]
}

/// Resident set size of this process in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// Redis's `bytesToHuman`: `512B`, `1.50K`, `2.00M`, `3.25G`.
pub fn human_bytes(n: u64) -> String {
    let f = n as f64;
    match n {
        0..1024 => format!("{n}B"),
        1024..1_048_576 => format!("{:.2}K", f / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2}M", f / 1_048_576.0),
        1_073_741_824..1_099_511_627_776 => format!("{:.2}G", f / 1_073_741_824.0),
        _ => format!("{:.2}T", f / 1_099_511_627_776.0),
    }
}

fn memory_section(s: &Server) -> Fields {
    let used = rss_bytes();
    let peak = s.peak_memory.fetch_max(used, Ordering::Relaxed).max(used);
    let maxmemory = s.config.get_int("maxmemory").unwrap_or(0).max(0) as u64;
    vec![
        ("used_memory", used.to_string()),
        ("used_memory_human", human_bytes(used)),
        ("used_memory_rss", used.to_string()),
        ("used_memory_rss_human", human_bytes(used)),
        ("used_memory_peak", peak.to_string()),
        ("used_memory_peak_human", human_bytes(peak)),
        ("maxmemory", maxmemory.to_string()),
        ("maxmemory_human", human_bytes(maxmemory)),
        (
            "maxmemory_policy",
            s.config.get("maxmemory-policy").unwrap_or_else(|| "noeviction".into()),
        ),
        ("mem_allocator", "libc".into()),
    ]
}

fn persistence_section(s: &Server) -> Fields {
    vec![
        ("loading", "0".into()),
        ("async_loading", "0".into()),
        (
            "rdb_changes_since_last_save",
            s.dirty.load(Ordering::Relaxed).to_string(),
        ),
        ("rdb_bgsave_in_progress", "0".into()),
        ("rdb_last_save_time", s.last_save.load(Ordering::Relaxed).to_string()),
        ("rdb_last_bgsave_status", "ok".into()),
        ("aof_enabled", "0".into()),
        ("aof_rewrite_in_progress", "0".into()),
        ("aof_last_bgrewrite_status", "ok".into()),
        // A transaction the store failed to commit (a full disk): `err`
        // until one commits again.
        (
            "aof_last_write_status",
            if s.engine.last_write_ok() { "ok" } else { "err" }.into(),
        ),
    ]
}

fn stats_section(s: &Server) -> Fields {
    let st = &s.stats;
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed).to_string();
    vec![
        ("total_connections_received", n(&st.connections_received)),
        ("total_commands_processed", n(&st.commands_processed)),
        ("instantaneous_ops_per_sec", s.ops_per_sec().to_string()),
        ("total_net_input_bytes", n(&st.net_input_bytes)),
        ("total_net_output_bytes", n(&st.net_output_bytes)),
        ("rejected_connections", n(&st.rejected_connections)),
        ("expired_keys", s.engine.expired_keys().to_string()),
        ("evicted_keys", "0".into()),
        ("keyspace_hits", n(&st.keyspace_hits)),
        ("keyspace_misses", n(&st.keyspace_misses)),
        ("pubsub_channels", "0".into()),
        ("pubsub_patterns", "0".into()),
        ("total_error_replies", n(&st.total_error_replies)),
        ("unexpected_error_replies", n(&st.unexpected_error_replies)),
    ]
}

fn replication_section() -> Fields {
    vec![
        ("role", "master".into()),
        ("connected_slaves", "0".into()),
        ("master_failover_state", "no-failover".into()),
        ("master_replid", "0".repeat(40)),
        ("master_replid2", "0".repeat(40)),
        ("master_repl_offset", "0".into()),
        ("second_repl_offset", "-1".into()),
        ("repl_backlog_active", "0".into()),
        ("repl_backlog_size", "1048576".into()),
        ("repl_backlog_first_byte_offset", "0".into()),
        ("repl_backlog_histlen", "0".into()),
    ]
}

/// CPU time of this process from `/proc/self/stat` (user and system, seconds).
fn cpu_times() -> (f64, f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / ticks;
    (get(11), get(12))
}

fn cpu_section() -> Fields {
    let (user, sys) = cpu_times();
    vec![
        ("used_cpu_sys", format!("{sys:.6}")),
        ("used_cpu_user", format!("{user:.6}")),
        ("used_cpu_sys_children", "0.000000".into()),
        ("used_cpu_user_children", "0.000000".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human() {
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(3 * 1_048_576), "3.00M");
    }

    #[test]
    fn selection_keeps_redis_order() {
        let args = [Bytes::from("keyspace"), Bytes::from("SERVER"), Bytes::from("nope")];
        assert_eq!(selected(&args), vec!["server", "keyspace"]);
        assert!(selected(&[]).contains(&"cpu"));
        assert!(selected(&[Bytes::from("nope")]).is_empty());
    }

    #[test]
    fn cpu_times_parse() {
        let (u, s) = cpu_times();
        assert!(u >= 0.0 && s >= 0.0);
    }
}
