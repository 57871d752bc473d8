//! Redis 7 functions: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/HELP
//! and FCALL/FCALL_RO.
//!
//! The libraries are kept in memory, one registry per process (not yet in
//! the database: they do not survive a restart, and PostgreSQL instances
//! do not share them). Each thread that calls functions loads a library's
//! code into its own Lua state the first time (`Engine::library_function`).

use super::engine::{self, Registered};
use super::flags::Flags;
use crate::commands::args::is;
use crate::commands::{CmdError, CmdResult, Ctx, err};
use crate::rdb;
use crate::resp::Reply;
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A loaded library.
pub struct Library {
    pub name: String,
    /// The code as loaded, shebang included (FUNCTION LIST WITHCODE, DUMP).
    pub code: Vec<u8>,
    /// Where the code after the shebang starts (at its line feed).
    pub body_start: usize,
    /// Changes at each load, so that threads reload a replaced library.
    pub id: u64,
    pub functions: Vec<Function>,
}

/// A function's metadata (its callback lives in each thread's Lua state).
pub struct Function {
    pub name: String,
    pub desc: Option<Vec<u8>>,
    pub flags: Flags,
}

/// The libraries, in load order.
static LIBRARIES: Mutex<Vec<Arc<Library>>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The library with function `name`, and that function's index.
fn find(name: &[u8]) -> Option<(Arc<Library>, usize)> {
    let libs = LIBRARIES.lock().unwrap();
    for lib in libs.iter() {
        if let Some(i) = lib.functions.iter().position(|f| f.name.as_bytes() == name) {
            return Some((lib.clone(), i));
        }
    }
    None
}

/// FCALL and FCALL_RO (`fcallCommandGeneric`).
pub fn fcall(ctx: &mut Ctx, args: &[Bytes], ro: bool) -> CmdResult {
    let Some((lib, i)) = find(&args[1]) else {
        return err("ERR Function not found");
    };
    let n = match crate::resp::request::parse_i64(&args[2]) {
        Some(n) => n,
        None => return err("ERR Bad number of keys provided"),
    };
    if n > args.len() as i64 - 3 {
        return err("ERR Number of keys can't be greater than number of args");
    }
    if n < 0 {
        return err("ERR Number of keys can't be negative");
    }
    let n = n as usize;
    let f = &lib.functions[i];
    if !f.flags.no_writes && ro {
        return err("ERR Can not execute a script with write flag using *_ro command.");
    }
    let read_only = ro || f.flags.no_writes;
    engine::with(|e| {
        let callback = e
            .library_function(&lib, &f.name)
            .map_err(|m| CmdError::Reply(format!("ERR {m}")))?;
        e.run(
            ctx,
            &callback,
            &f.name,
            &args[3..3 + n],
            &args[3 + n..],
            false,
            read_only,
        )
    })
}

/// A library's name and the offset of its code after the shebang
/// (`functionExtractLibMetaData`), checked as FUNCTION LOAD checks them.
fn metadata(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match crate::resp::request::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2.min(parts[0].len())..]).into_owned();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
                .into(),
        );
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{engine}' not found"));
    }
    Ok((name, end))
}

/// Loads `code` into `libs` (`functionsCreateWithLibraryCtx`); answers the
/// library's name.
fn create(libs: &mut Vec<Arc<Library>>, code: &[u8], replace: bool) -> Result<String, String> {
    let (name, body_start) = metadata(code)?;
    let old = libs.iter().position(|l| l.name == name);
    if old.is_some() && !replace {
        return Err(format!("Library '{name}' already exists"));
    }
    let registered: Vec<Registered> = engine::with(|e| e.load_library(&code[body_start..]).map_err(CmdError::Reply))
        .map_err(|e| match e {
            CmdError::Store(e) => e.to_string(),
            e => e.redis_text().unwrap_or_default().to_string(),
        })?;
    if registered.is_empty() {
        return Err("No functions registered".into());
    }
    for f in &registered {
        let taken = libs
            .iter()
            .enumerate()
            .any(|(i, l)| Some(i) != old && l.functions.iter().any(|g| g.name == f.name));
        if taken {
            return Err(format!("Function {} already exists", f.name));
        }
    }
    let lib = Library {
        name: name.clone(),
        code: code.to_vec(),
        body_start,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        functions: registered
            .iter()
            .map(|f| Function {
                name: f.name.clone(),
                desc: f.desc.clone(),
                flags: f.flags,
            })
            .collect(),
    };
    let lib = Arc::new(lib);
    // This thread keeps the callbacks it just made.
    let _ = engine::with(|e| {
        e.remember(&lib, registered);
        Ok(())
    });
    match old {
        Some(i) => libs[i] = lib,
        None => libs.push(lib),
    }
    Ok(name)
}

pub fn load(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        if is(&args[pos], "REPLACE") {
            replace = true;
            pos += 1;
            continue;
        }
        return err(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(&args[pos])
        ));
    }
    if pos >= args.len() {
        return err("ERR Function code is missing");
    }
    let mut libs = LIBRARIES.lock().unwrap();
    match create(&mut libs, &args[pos], replace) {
        Ok(name) => Ok(Reply::bulk(Bytes::from(name))),
        Err(e) => err(format!("ERR {e}")),
    }
}

fn function_entry(f: &Function) -> Reply {
    Reply::Map(vec![
        (Reply::bulk_str("name"), Reply::bulk(Bytes::from(f.name.clone()))),
        (
            Reply::bulk_str("description"),
            match &f.desc {
                Some(d) => Reply::bulk(Bytes::from(d.clone())),
                None => Reply::Nil,
            },
        ),
        (
            Reply::bulk_str("flags"),
            Reply::Set(f.flags.names().into_iter().map(Reply::status).collect()),
        ),
    ])
}

pub fn list(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        if !with_code && is(&args[i], "WITHCODE") {
            with_code = true;
        } else if pattern.is_none() && is(&args[i], "LIBRARYNAME") {
            if i >= args.len() - 1 {
                return err("ERR library name argument was not given");
            }
            i += 1;
            pattern = Some(&args[i]);
        } else {
            return err(format!("ERR Unknown argument {}", String::from_utf8_lossy(&args[i])));
        }
        i += 1;
    }
    let libs = LIBRARIES.lock().unwrap();
    let mut out = Vec::new();
    for lib in libs.iter() {
        if let Some(p) = pattern
            && !crate::glob::matches(p, lib.name.as_bytes(), true)
        {
            continue;
        }
        let mut entry = vec![
            (
                Reply::bulk_str("library_name"),
                Reply::bulk(Bytes::from(lib.name.clone())),
            ),
            (Reply::bulk_str("engine"), Reply::bulk_str("LUA")),
            (
                Reply::bulk_str("functions"),
                Reply::Array(lib.functions.iter().map(function_entry).collect()),
            ),
        ];
        if with_code {
            entry.push((
                Reply::bulk_str("library_code"),
                Reply::bulk(Bytes::from(lib.code.clone())),
            ));
        }
        out.push(Reply::Map(entry));
    }
    Ok(Reply::Array(out))
}

pub fn delete(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut libs = LIBRARIES.lock().unwrap();
    match libs.iter().position(|l| l.name.as_bytes() == &args[2][..]) {
        Some(i) => {
            libs.remove(i);
            Ok(Reply::ok())
        }
        None => err("ERR Library not found"),
    }
}

/// Redis's `addReplySubcommandSyntaxError` for FUNCTION.
fn syntax_error(args: &[Bytes]) -> CmdResult {
    err(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args[1][..args[1].len().min(128)]),
        String::from_utf8_lossy(&args[0]).to_uppercase()
    ))
}

pub fn flush(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 3 {
        return syntax_error(args);
    }
    if args.len() == 3 && !is(&args[2], "SYNC") && !is(&args[2], "ASYNC") {
        return err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    LIBRARIES.lock().unwrap().clear();
    Ok(Reply::ok())
}

/// RDB's opcode of a library in a functions payload (`RDB_OPCODE_FUNCTION2`).
const OPCODE_FUNCTION2: u8 = 245;
/// The opcode of Redis 7.0 release candidates' format.
const OPCODE_FUNCTION: u8 = 246;

pub fn dump(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    let libs = LIBRARIES.lock().unwrap();
    let mut out = Vec::new();
    for lib in libs.iter() {
        out.push(OPCODE_FUNCTION2);
        rdb::write_string(&mut out, &lib.code);
    }
    out.extend_from_slice(&rdb::RDB_VERSION.to_le_bytes());
    let crc = rdb::crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(Reply::bulk(Bytes::from(out)))
}

/// Redis's `verifyDumpPayload`.
fn payload_ok(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    version <= rdb::RDB_VERSION && rdb::crc64::crc64(0, &p[..p.len() - 8]).to_le_bytes() == footer[2..]
}

pub fn restore(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if args.len() > 4 {
        return syntax_error(args);
    }
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(p) if is(p, "APPEND") => Policy::Append,
        Some(p) if is(p, "REPLACE") => Policy::Replace,
        Some(p) if is(p, "FLUSH") => Policy::Flush,
        Some(_) => {
            return err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        }
    };
    let data = &args[2];
    if !payload_ok(data) {
        return err("ERR DUMP payload version or checksum are wrong");
    }
    let body = &data[..data.len() - 10];
    let mut reader = rdb::Reader::new(body);
    let mut fresh: Vec<Arc<Library>> = Vec::new();
    // Redis reads entries while bytes remain before the footer.
    while let Some(kind) = reader.byte() {
        let fail = |m: &str| err(format!("ERR {m}"));
        if kind != OPCODE_FUNCTION2 && kind != OPCODE_FUNCTION {
            return fail("given type is not a function");
        }
        let code = if kind == OPCODE_FUNCTION2 {
            match reader.string() {
                Some(c) => c,
                None => return fail("Failed loading library payload"),
            }
        } else {
            let Some(name) = reader.string() else {
                return fail("Failed loading library name");
            };
            let Some(engine) = reader.string() else {
                return fail("Failed loading engine name");
            };
            let Some((has_desc, false)) = reader.len() else {
                return fail("Failed loading library description indicator");
            };
            if has_desc != 0 && reader.string().is_none() {
                return fail("Failed loading library description");
            }
            let Some(blob) = reader.string() else {
                return fail("Failed loading library blob");
            };
            let mut code = format!(
                "#!{} name={}\n",
                String::from_utf8_lossy(&engine),
                String::from_utf8_lossy(&name)
            )
            .into_bytes();
            code.extend_from_slice(&blob);
            code
        };
        if let Err(e) = create(&mut fresh, &code, false) {
            return fail(&e);
        }
    }
    let mut libs = LIBRARIES.lock().unwrap();
    if policy == Policy::Flush {
        *libs = fresh;
        return Ok(Reply::ok());
    }
    let mut joined: Vec<Arc<Library>> = libs.clone();
    for lib in &fresh {
        if let Some(i) = joined.iter().position(|l| l.name == lib.name) {
            if policy != Policy::Replace {
                return err(format!("ERR Library {} already exists", lib.name));
            }
            joined.remove(i);
        }
    }
    for lib in &fresh {
        for f in &lib.functions {
            if joined.iter().any(|l| l.functions.iter().any(|g| g.name == f.name)) {
                return err(format!("ERR Function {} already exists", f.name));
            }
        }
    }
    joined.extend(fresh);
    *libs = joined;
    Ok(Reply::ok())
}

pub fn stats(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    let libs = LIBRARIES.lock().unwrap();
    let functions: usize = libs.iter().map(|l| l.functions.len()).sum();
    Ok(Reply::Map(vec![
        (Reply::bulk_str("running_script"), Reply::Nil),
        (
            Reply::bulk_str("engines"),
            Reply::Map(vec![(
                Reply::bulk_str("LUA"),
                Reply::Map(vec![
                    (Reply::bulk_str("libraries_count"), Reply::Int(libs.len() as i64)),
                    (Reply::bulk_str("functions_count"), Reply::Int(functions as i64)),
                ]),
            )]),
        ),
    ]))
}

pub fn help(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(crate::commands::help(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    ))
}
