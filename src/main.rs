//! The redsql server binary: `redsql [config-file] [--option value ...]`.

use redsql::engine::{Durability, EngineOptions};
use redsql::server::Server;
use redsql::server::config::Config;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc instead of the C library's malloc (see docs/design.md,
/// "Memory allocator"). The server only: the library leaves the choice to
/// the application.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP: &str = "\
redsql — a Redis-compatible server that stores its data in SQL (SQLite or PostgreSQL).

Usage: redsql [/path/to/redsql.conf] [--option value ...]

The optional config file comes first; it uses Redis's format (`name value`
per line, `#` comments) and CONFIG REWRITE updates it. Command-line options
override it.

Options (Redis's names; a config file takes the same names, one per line):
  --bind ADDR [ADDR ...]   addresses to listen on (default: 127.0.0.1 -::1;
                           a leading '-' means: skip if unavailable)
  --port PORT              TCP port (default 6379; 0 disables TCP)
  --unixsocket PATH        also listen on a Unix socket
  --unixsocketperm MODE    permissions of the Unix socket (octal, e.g. 700)
  --db PATH|:memory:|URL   where data lives: a SQLite file (default ./redsql.db),
                           :memory:, or postgres://user[:pass]@host:port/dbname
                           [?schema=name] (default schema redsql); many redsql
                           processes may share one PostgreSQL store
  --requirepass PASS       require AUTH PASS from clients
  --databases N            number of logical databases (default 16)
  --appendfsync MODE       durability: always (fsync every commit; survives power
                           loss), everysec (default; survives kill -9 of redsql),
                           no (leave flushing to the OS)
  --maxclients N           most connected clients (default 10000)
  --io-threads N           threads serving clients (default 1, as in Redis)
  --read-cache SIZE        SQLite file databases: memory for string keys read
                           recently (default 32mb; 0 turns the cache off)
  --loglevel LEVEL         debug, verbose, notice (default), warning
  --protected-mode yes|no  refuse non-loopback clients when no password is set
  --NAME VALUE             any other Redis configuration parameter
  -h, --help               this help
  -v, --version            print the version

Examples:
  redsql                                  # 127.0.0.1:6379, data in ./redsql.db
  redsql --port 6380 --db /var/lib/redsql/data.db
  redsql --db :memory: --requirepass secret
  redsql --db postgres://app@db.example:5432/app?schema=cache
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redsql: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One setting and where it came from (for error messages).
struct Setting {
    name: String,
    values: Vec<String>,
    origin: String,
}

/// Parses the command line (and config file) into the configuration.
/// `Ok(false)` means: nothing to run (`--help`, `--version`).
fn parse_args(config: &Config) -> Result<bool, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut settings: Vec<Setting> = Vec::new();
    let mut i = 0;
    if let Some(first) = args.first() {
        if first == "-h" || first == "--help" {
            print!("{HELP}");
            return Ok(false);
        }
        if first == "-v" || first == "--version" {
            println!(
                "redsql {} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                redsql::REDIS_VERSION
            );
            return Ok(false);
        }
        if !first.starts_with('-') {
            let text = std::fs::read_to_string(first).map_err(|e| format!("cannot read config file {first}: {e}"))?;
            settings.extend(parse_config_file(first, &text)?);
            let path = std::fs::canonicalize(first).unwrap_or_else(|_| first.into());
            config.set_file(path);
            i = 1;
        }
    }
    while i < args.len() {
        let a = &args[i];
        if a == "-h" || a == "--help" {
            print!("{HELP}");
            return Ok(false);
        }
        let Some(name) = a.strip_prefix("--").filter(|n| !n.is_empty()) else {
            return Err(format!("unexpected argument '{a}' (see --help)"));
        };
        let mut values = Vec::new();
        i += 1;
        while i < args.len() && !args[i].starts_with("--") {
            values.push(args[i].clone());
            i += 1;
        }
        if values.is_empty() {
            return Err(format!("option --{name} needs a value (see --help)"));
        }
        settings.push(Setting {
            name: name.to_ascii_lowercase(),
            values,
            origin: format!("--{name}"),
        });
    }
    for Setting { name, values, origin } in settings {
        let value = values.join(" ");
        if !config.exists(&name) {
            return Err(format!("{origin}: unknown option '{name}' (see --help)"));
        }
        config
            .set_initial(&name, &value)
            .map_err(|e| format!("{origin}: invalid value '{value}': {e}"))?;
        if name == "loglevel" {
            redsql::log::set_level(&value)?;
        }
    }
    Ok(true)
}

/// A Redis-style config file: `name value ...` per line, `#` comments.
fn parse_config_file(path: &str, text: &str) -> Result<Vec<Setting>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = format!("{path}:{}", n + 1);
        let words =
            redsql::resp::request::split_args(line.as_bytes()).ok_or_else(|| format!("{origin}: unbalanced quotes"))?;
        let mut words = words.into_iter().map(|w| String::from_utf8_lossy(&w).into_owned());
        let name = words.next().unwrap_or_default().to_ascii_lowercase();
        out.push(Setting {
            name,
            values: words.collect(),
            origin,
        });
    }
    Ok(out)
}

fn run() -> Result<(), String> {
    let config = Config::new();
    if !parse_args(&config)? {
        return Ok(());
    }
    adjust_open_files_limit(&config)?;
    let location = config.get("db").unwrap_or_default();
    let durability = match config.get("appendfsync").as_deref() {
        Some("always") => Durability::Full,
        Some("no") => Durability::Off,
        _ => Durability::Normal,
    };
    let databases = config.get_int("databases").unwrap_or(16) as u32;
    let io_threads = config.get_int("io-threads").unwrap_or(1);
    let read_cache = config
        .get_int("read-cache")
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "--read-cache: invalid size '{}'",
                config.get("read-cache").unwrap_or_default()
            )
        })?;
    let runtime = build_runtime(io_threads)?;
    // On one runtime thread, the SQLite writer runs as a task beside the
    // connections (no thread handoff per batch), unless every commit waits
    // for an fsync: that would stall every other client's reads. (Backends
    // whose commits wait on a server, PostgreSQL, keep a writer thread.)
    let writer_task = io_threads <= 1 && durability != Durability::Full;
    let engine = {
        let _inside = runtime.enter();
        redsql::backend::open(&EngineOptions {
            location: location.clone(),
            databases,
            durability,
            writer_task,
            read_cache,
            ..Default::default()
        })
    }
    .map_err(|e| {
        format!(
            "cannot open database {}: {e}",
            redsql::backend::display_location(&location)
        )
    })?;
    let server = Server::new(engine.clone(), config);
    let result = runtime.block_on(serve(server.clone()));
    // No connection may run once the writer stops (it would answer errors):
    // a multi-thread runtime goes first; a current-thread one runs nothing
    // outside block_on, and must outlive the shutdown of the checkpointer
    // (a writer task closes its connection when the runtime drops it).
    let runtime = if io_threads > 1 {
        drop(runtime);
        None
    } else {
        Some(runtime)
    };
    engine.shutdown();
    drop(runtime);
    result
}

/// The runtime that runs every connection. Redis's `io-threads` (default 1,
/// as in Redis) is the number of runtime threads. With one, the runtime runs
/// on this thread alone: on a machine where the client and the server share
/// few cores, a second worker only adds wakeups and lock contention.
/// Descriptors kept for everything but clients: the listeners, the store's
/// connections (SQLite's writer, readers and checkpointer each hold the
/// database, its WAL and its shared memory; PostgreSQL's one socket each),
/// log and lock files. Redis keeps 32; redsql's store needs more.
const RESERVED_FDS: u64 = 64;

/// As Redis's `adjustOpenFilesLimit`: raises the open-files limit to what
/// `maxclients` needs if it can, and otherwise lowers `maxclients` to what
/// the limit allows (logging it), so that clients past it get `max number
/// of clients reached` instead of hanging on a failed accept.
fn adjust_open_files_limit(config: &Config) -> Result<(), String> {
    let maxclients = config.maxclients() as u64;
    let wanted = maxclients + RESERVED_FDS;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        let clients = 1024 - RESERVED_FDS;
        redsql::log::warn(&format!(
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration accordingly.",
            std::io::Error::last_os_error()
        ));
        return config.set_initial("maxclients", &clients.to_string());
    }
    let old = limit.rlim_cur;
    if old >= wanted {
        return Ok(());
    }
    let mut best = wanted;
    let mut error = None;
    while best > old {
        let try_limit = libc::rlimit {
            rlim_cur: best,
            rlim_max: best.max(limit.rlim_max),
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &try_limit) } == 0 {
            break;
        }
        error = Some(std::io::Error::last_os_error());
        if best < 16 {
            best = old;
            break;
        }
        best -= 16;
    }
    best = best.max(old);
    if best >= wanted {
        redsql::log::notice(&format!(
            "Increased maximum number of open files to {wanted} (it was originally set to {old})."
        ));
        return Ok(());
    }
    if best <= RESERVED_FDS {
        return Err(format!(
            "Your current 'ulimit -n' of {old} is not enough for the server to start. Please increase your open file limit to at least {wanted}. Exiting."
        ));
    }
    let reduced = best - RESERVED_FDS;
    redsql::log::warn(&format!(
        "You requested maxclients of {maxclients} requiring at least {wanted} max file descriptors."
    ));
    if let Some(e) = error {
        redsql::log::warn(&format!(
            "Server can't set maximum open files to {wanted} because of OS error: {e}."
        ));
    }
    redsql::log::warn(&format!(
        "Current maximum open files is {best}. maxclients has been reduced to {reduced} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    ));
    config.set_initial("maxclients", &reduced.to_string())
}

fn build_runtime(io_threads: i64) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = if io_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(io_threads as usize);
        b
    };
    builder
        .enable_all()
        .thread_name("redsql-io")
        // Workers and blocking threads run commands, Lua scripts included.
        .thread_stack_size(redsql::engine::COMMAND_STACK)
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))
}

async fn serve(server: Arc<Server>) -> Result<(), String> {
    let port = server.config.get_int("port").unwrap_or(6379);
    let mut tasks = Vec::new();
    if port > 0 {
        let binds = server.config.get("bind").unwrap_or_default();
        let mut bound = 0;
        for addr in binds.split_whitespace() {
            let (optional, addr) = match addr.strip_prefix('-') {
                Some(a) => (true, a),
                None => (false, addr),
            };
            let host = if addr == "*" { "0.0.0.0" } else { addr };
            let sock = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            match tokio::net::TcpListener::bind(&sock).await {
                Ok(l) => {
                    redsql::log::notice(&format!("Listening on {sock}"));
                    bound += 1;
                    tasks.push(tokio::spawn(server.clone().serve_tcp(l)));
                }
                Err(e) if optional => redsql::log::verbose(&format!("skipping {sock}: {e}")),
                Err(e) => return Err(format!("cannot listen on {sock}: {e}")),
            }
        }
        if bound == 0 {
            return Err("no address to listen on (see --bind)".into());
        }
    }
    if let Some(path) = server.config.get("unixsocket").filter(|p| !p.is_empty()) {
        let _ = std::fs::remove_file(&path);
        let l = tokio::net::UnixListener::bind(&path).map_err(|e| format!("cannot listen on {path}: {e}"))?;
        if let Some(perm) = server
            .config
            .get("unixsocketperm")
            .and_then(|p| u32::from_str_radix(&p, 8).ok())
            && perm != 0
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(perm));
        }
        redsql::log::notice(&format!("Listening on unix socket {path}"));
        tasks.push(tokio::spawn(server.clone().serve_unix(l, path)));
    }
    redsql::log::notice(&format!("redsql ready: data in {}", server.engine.location()));
    redsql::log::notice("Ready to accept connections");
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot install signal handler: {e}"))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => redsql::log::warn("Received SIGINT scheduling shutdown..."),
        _ = sigterm.recv() => redsql::log::warn("Received SIGTERM scheduling shutdown..."),
        _ = server.shutdown.notified() => {}
    }
    server.request_shutdown();
    redsql::log::notice("redsql is now ready to exit, bye bye...");
    Ok(())
}
