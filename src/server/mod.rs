//! The RESP server: listener, connections, client registry and server-level commands.
//!
//! The server is a thin translator between RESP and the command layer: it
//! parses requests, checks them in Redis's order (unknown command, arity,
//! authentication), groups consecutive storage commands into batches for the
//! engine, runs connection and server commands itself, and writes the replies
//! of a pipeline back in one flush.

pub mod acl;
pub mod blocking;
pub mod bus;
mod client_cmd;
pub mod clients;
pub mod commands;
pub mod config;
mod config_cmd;
mod connection;
pub mod info;
pub mod monitor;
mod multi;
pub mod notify;
pub mod pause;
pub mod pubsub;
pub mod slowlog;

use crate::engine::Engine;
use clients::Clients;
use config::Config;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// State shared by every connection.
pub struct Server {
    pub engine: Engine,
    /// Clients waiting in blocking commands; woken by the engine's commits.
    pub blocking: Arc<blocking::Blocking>,
    pub config: Config,
    pub clients: Clients,
    pub stats: Stats,
    /// Pub/Sub subscriptions of every connection.
    pub pubsub: Arc<pubsub::Hub>,
    /// On PostgreSQL: pub/sub messages and blocked-client wake-ups to and
    /// from the other redsql processes sharing the store.
    pub bus: Option<Arc<bus::Bus>>,
    /// Unix time in seconds of the last successful SAVE.
    pub last_save: AtomicI64,
    /// Set when SHUTDOWN was requested.
    pub shutting_down: AtomicBool,
    pub shutdown: Notify,
    pub started_at: std::time::Instant,
    pub started_unix: i64,
    pub run_id: String,
    pub tcp_port: AtomicI64,
    /// Write commands run since the last SAVE (INFO's `rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    /// Highest resident memory seen by INFO.
    pub peak_memory: AtomicU64,
    /// SLOWLOG's entries.
    pub slowlog: slowlog::SlowLog,
    /// MONITOR's channel.
    pub monitors: monitor::Monitors,
    /// ACL users and log.
    pub acl: acl::Acl,
    /// CLIENT PAUSE.
    pub pause: pause::Pause,
    /// Last sample of `commands_processed` for `instantaneous_ops_per_sec`.
    ops_sample: Mutex<OpsSample>,
}

/// A sample of the command counter: (when, count, rate computed at that time).
struct OpsSample {
    at: std::time::Instant,
    count: u64,
    rate: u64,
}

/// Counters reported by INFO stats (CONFIG RESETSTAT zeroes them).
#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub total_error_replies: AtomicU64,
}

impl Stats {
    pub fn reset(&self) {
        for c in [
            &self.connections_received,
            &self.commands_processed,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.unexpected_error_replies,
            &self.total_error_replies,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// Logs a failed accept (out of descriptors, typically): the first, then at
/// most one line every 10 seconds while they go on.
fn accept_failed(e: &std::io::Error) {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = crate::util::now_ms();
    let last = LAST.load(Ordering::Relaxed);
    if now - last >= 10_000
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        crate::log::warn(&format!("Accepting client connection: {e}"));
    }
}

impl Server {
    pub fn new(engine: Engine, config: Config) -> Arc<Server> {
        let now = crate::util::now_ms();
        let blocking = Arc::new(blocking::Blocking::default());
        let pubsub = Arc::new(pubsub::Hub::new(config.pubsub_limit()));
        // The processes sharing the store talk over its bus, if it has one.
        let bus = bus::Bus::start(&engine, pubsub.clone(), blocking.clone());
        let (waiters, hub, forward) = (blocking.clone(), pubsub.clone(), bus.clone());
        engine.on_commit(Arc::new(move |commit| {
            notify::publish(&hub, forward.as_deref(), commit);
            waiters.committed(commit.writes);
            if let Some(bus) = &forward {
                bus.committed(commit.writes);
            }
        }));
        engine.set_keyspace_events(config.keyspace_events());
        let acl = acl::Acl::new(&config, engine.shared_users());
        let server = Arc::new(Server {
            acl,
            pause: pause::Pause::default(),
            engine,
            blocking,
            config,
            clients: Clients::default(),
            stats: Stats::default(),
            pubsub,
            bus,
            last_save: AtomicI64::new(now / 1000),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
            started_at: std::time::Instant::now(),
            started_unix: now / 1000,
            run_id: (0..40)
                .map(|_| b"0123456789abcdef"[(crate::util::random_u64() % 16) as usize] as char)
                .collect(),
            tcp_port: AtomicI64::new(0),
            dirty: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
            slowlog: slowlog::SlowLog::default(),
            monitors: monitor::Monitors::default(),
            ops_sample: Mutex::new(OpsSample {
                at: std::time::Instant::now(),
                count: 0,
                rate: 0,
            }),
        });
        // Users changed by another process sharing the store are read again.
        if let Some(bus) = &server.bus {
            server.acl.speak_as(bus.id());
            let weak = Arc::downgrade(&server);
            bus.on_users_changed(move || {
                if let Some(server) = weak.upgrade() {
                    acl::shared::users_changed(&server);
                }
            });
        }
        server
    }

    /// Accepts connections on `listener` until SHUTDOWN.
    pub async fn serve_tcp(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        if let Ok(addr) = listener.local_addr() {
            self.tcp_port.store(addr.port() as i64, Ordering::Relaxed);
        }
        loop {
            tokio::select! {
                res = listener.accept() => {
                    let (stream, peer) = match res {
                        Ok(x) => x,
                        Err(e) => {
                            accept_failed(&e);
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    let server = self.clone();
                    tokio::spawn(async move {
                        connection::serve(server, stream, peer.to_string(), local).await;
                    });
                }
                _ = self.shutdown.notified() => return Ok(()),
            }
        }
    }

    /// Accepts connections on a Unix socket until SHUTDOWN.
    #[cfg(unix)]
    pub async fn serve_unix(self: Arc<Self>, listener: tokio::net::UnixListener, path: String) -> std::io::Result<()> {
        loop {
            tokio::select! {
                res = listener.accept() => {
                    let (stream, _) = match res {
                        Ok(x) => x,
                        Err(e) => {
                            accept_failed(&e);
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let server = self.clone();
                    let path = path.clone();
                    tokio::spawn(async move {
                        connection::serve(server, stream, format!("{path}:0"), format!("{path}:0")).await;
                    });
                }
                _ = self.shutdown.notified() => return Ok(()),
            }
        }
    }

    /// Commands per second, measured over the last second or more (sampled on demand).
    pub fn ops_per_sec(&self) -> u64 {
        let count = self.stats.commands_processed.load(Ordering::Relaxed);
        let mut sample = self.ops_sample.lock().unwrap();
        let elapsed = sample.at.elapsed().as_secs_f64();
        if elapsed >= 1.0 {
            sample.rate = (count.saturating_sub(sample.count) as f64 / elapsed).round() as u64;
            sample.at = std::time::Instant::now();
            sample.count = count;
        }
        sample.rate
    }

    /// Starts a clean shutdown: listeners stop, the writer commits what it has.
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        // A running Lua script would hold its writer (and so the shutdown) forever.
        crate::commands::scripting::kill::abort_all();
        self.shutdown.notify_waiters();
    }
}
