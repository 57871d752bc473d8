//! Property tests for the RESP request parser, and protocol robustness over TCP.
//!
//! The in-process properties use a seeded generator (`support::Rng`); each test
//! prints its seed, and `TEST_SEED=<seed> cargo test --test resp_props` replays it.
//!
//! * Any sequence of commands encoded as multibulk parses back identically,
//!   however the bytes are split into reads.
//! * Inline commands (quoted, escaped, binary) parse back identically.
//! * Random garbage never panics, parses the same whole or in pieces, and never
//!   makes the parser reserve much more memory than the bytes that arrived.
//! * Redis's limits, including the tighter ones for unauthenticated clients.
//!
//! The TCP tests compare redsql's replies to malformed input with a real
//! redis-server byte for byte, and check large values, binary data and a long
//! pipeline.

mod support;

use bytes::{Bytes, BytesMut};
use redsql::resp::request::{INLINE_MAX, ParseError, RequestParser};
use std::io::{Read, Write};
use std::time::Duration;
use support::{RawConn, Rng, show, start_redis_with, start_redsql};

/// What parsing a whole input produced: the commands, then an error or "needs more bytes".
#[derive(Debug, PartialEq)]
struct Parsed {
    commands: Vec<Vec<Bytes>>,
    error: Option<ParseError>,
}

/// Memory the parser may reserve beyond the bytes it holds (its 1 MiB bound, plus slack).
const RESERVE_SLACK: usize = 1024 * 1024 + 64 * 1024;

/// Parses every complete command in `buf`, checking after each step that the
/// parser did not grow the buffer far beyond what it holds.
fn drain(p: &mut RequestParser, buf: &mut BytesMut, auth: bool, out: &mut Parsed) -> bool {
    loop {
        let cap_before = buf.capacity();
        let r = p.next(buf, auth);
        let allowed = (2 * cap_before).max(buf.len() + RESERVE_SLACK);
        assert!(
            buf.capacity() <= allowed,
            "parser grew the buffer to {} bytes holding {} (capacity before {})",
            buf.capacity(),
            buf.len(),
            cap_before
        );
        match r {
            Ok(Some(args)) => {
                assert!(!args.is_empty(), "the parser returned an empty command");
                out.commands.push(args);
            }
            Ok(None) => return true,
            Err(e) => {
                out.error = Some(e);
                return false;
            }
        }
    }
}

/// Parses `input` fed in pieces of the given sizes (the last piece takes the rest).
fn parse_chunked(input: &[u8], sizes: &mut dyn FnMut() -> usize, auth: bool) -> Parsed {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::new();
    let mut out = Parsed {
        commands: Vec::new(),
        error: None,
    };
    let mut pos = 0;
    while pos < input.len() {
        let n = sizes().max(1).min(input.len() - pos);
        buf.extend_from_slice(&input[pos..pos + n]);
        pos += n;
        if !drain(&mut p, &mut buf, auth, &mut out) {
            break;
        }
    }
    out
}

fn parse_whole(input: &[u8], auth: bool) -> Parsed {
    parse_chunked(input, &mut || usize::MAX, auth)
}

/// A random argument: usually short, sometimes empty, sometimes several KB, any bytes.
fn random_arg(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.range(0, 9) {
        0 => 0,
        1 => rng.range(1000, 20_000),
        _ => rng.range(1, 40),
    };
    if rng.one_in(3) {
        // Protocol-looking bytes inside a bulk must be taken literally.
        (0..len).map(|_| *rng.pick(b"*$\r\n0123456789-+:\"' ")).collect()
    } else {
        rng.bytes(len)
    }
}

fn random_command(rng: &mut Rng) -> Vec<Vec<u8>> {
    (0..rng.range(1, 8)).map(|_| random_arg(rng)).collect()
}

fn encode(cmd: &[Vec<u8>]) -> Vec<u8> {
    let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
    RawConn::encode(&args)
}

fn to_vecs(cmds: &[Vec<Bytes>]) -> Vec<Vec<Vec<u8>>> {
    cmds.iter().map(|c| c.iter().map(|a| a.to_vec()).collect()).collect()
}

/// A random way of splitting input into reads: single bytes, small or large pieces.
fn chunker(rng: &mut Rng) -> impl FnMut() -> usize + use<> {
    let style = rng.range(0, 3);
    let mut r = Rng::new(rng.next_u64());
    move || match style {
        0 => 1,
        1 => r.range(1, 16),
        2 => r.range(1, 5000),
        _ => r.range(1, 100_000),
    }
}

fn seeded(test: &str) -> Rng {
    let seed = Rng::seed_from_env();
    println!("{test}: seed {seed} (replay with TEST_SEED={seed})");
    Rng::new(seed)
}

#[test]
fn multibulk_round_trips_in_any_chunking() {
    let mut rng = seeded("multibulk_round_trips_in_any_chunking");
    for _ in 0..300 {
        let cmds: Vec<Vec<Vec<u8>>> = (0..rng.range(1, 20)).map(|_| random_command(&mut rng)).collect();
        let input: Vec<u8> = cmds.iter().flat_map(|c| encode(c)).collect();
        let got = parse_chunked(&input, &mut chunker(&mut rng), true);
        assert_eq!(got.error, None);
        assert!(to_vecs(&got.commands) == cmds, "commands did not round trip");
    }
}

#[test]
fn empty_multibulk_requests_are_skipped() {
    let got = parse_whole(b"*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n", true);
    assert_eq!(got.error, None);
    assert_eq!(to_vecs(&got.commands), vec![vec![b"PING".to_vec()]]);
}

/// Encodes one argument for an inline command: bare when it can be, else
/// double-quoted with escapes, or single-quoted.
fn inline_arg(rng: &mut Rng, arg: &[u8]) -> Vec<u8> {
    let bare_ok = !arg.is_empty()
        && arg
            .iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
    if bare_ok && rng.one_in(2) {
        return arg.to_vec();
    }
    if !arg.iter().any(|c| b"'\n\\\0".contains(c)) && rng.one_in(3) {
        let mut out = vec![b'\''];
        out.extend_from_slice(arg);
        out.push(b'\'');
        return out;
    }
    let mut out = vec![b'"'];
    for &c in arg {
        match c {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e if !rng.one_in(4) => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

#[test]
fn inline_commands_round_trip() {
    let mut rng = seeded("inline_commands_round_trip");
    for _ in 0..500 {
        let cmds: Vec<Vec<Vec<u8>>> = (0..rng.range(1, 10))
            .map(|_| {
                (0..rng.range(1, 6))
                    .map(|_| {
                        let len = rng.range(0, 12);
                        rng.bytes(len)
                    })
                    .collect()
            })
            .collect();
        let mut input = Vec::new();
        for cmd in &cmds {
            let start = input.len();
            for _ in 0..rng.range(0, 2) {
                input.push(*rng.pick(b" \t"));
            }
            for (i, arg) in cmd.iter().enumerate() {
                if i > 0 {
                    input.extend(std::iter::repeat_n(b' ', rng.range(1, 3)));
                }
                let encoded = inline_arg(&mut rng, arg);
                input.extend(encoded);
            }
            if input[start] == b'*' {
                input.insert(start, b' '); // a line starting with '*' is a multibulk request
            }
            input.extend_from_slice(if rng.one_in(2) { b"\r\n" } else { b"\n" });
            if rng.one_in(5) {
                input.extend_from_slice(b"\r\n"); // an empty line: ignored
            }
        }
        let got = parse_chunked(&input, &mut chunker(&mut rng), true);
        assert_eq!(got.error, None, "input {}", show(&input));
        assert!(
            to_vecs(&got.commands) == cmds,
            "inline input {} did not round trip",
            show(&input)
        );
    }
}

/// Random input built from protocol fragments: it exercises every branch of the
/// parser far more often than uniform random bytes would.
fn garbage(rng: &mut Rng) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"\r",
        b"\n",
        b"-",
        b"0",
        b"1",
        b"3",
        b"10",
        b"-1",
        b"abc",
        b" ",
        b"\"",
        b"'",
        b"\\",
        b"\\x",
        b"4f",
        b"\t",
        b"\0",
        b"PING",
        b"SET",
        b"*1\r\n$4\r\nPING\r\n",
        b"*2\r\n",
        b"$3\r\n",
        b"\r\n\r\n",
        b"99999999999999999999",
        b"2147483647",
        b"536870912",
        b"+",
        b":",
    ];
    let mut out = Vec::new();
    for _ in 0..rng.range(1, 60) {
        if rng.one_in(6) {
            let n = rng.range(1, 8);
            out.extend(rng.bytes(n));
        } else {
            out.extend_from_slice(rng.pick::<&[u8]>(TOKENS));
        }
    }
    out
}

#[test]
fn garbage_never_panics_and_parses_the_same_in_pieces() {
    let mut rng = seeded("garbage_never_panics_and_parses_the_same_in_pieces");
    for _ in 0..20_000 {
        let input = garbage(&mut rng);
        let auth = !rng.one_in(4);
        let whole = parse_whole(&input, auth);
        let pieces = parse_chunked(&input, &mut chunker(&mut rng), auth);
        assert_eq!(whole, pieces, "input {} (authenticated: {auth})", show(&input));
    }
}

#[test]
fn uniform_random_bytes_never_panic() {
    let mut rng = seeded("uniform_random_bytes_never_panic");
    for _ in 0..5_000 {
        let len = rng.range(0, 300);
        let input = rng.bytes(len);
        parse_chunked(&input, &mut chunker(&mut rng), rng.one_in(2));
    }
}

/// The capacity of the parser's buffer after feeding `input` and parsing.
fn capacity_after(input: &[u8]) -> (Parsed, usize) {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::from(input);
    let mut out = Parsed {
        commands: Vec::new(),
        error: None,
    };
    drain(&mut p, &mut buf, true, &mut out);
    (out, buf.capacity())
}

#[test]
fn huge_declared_lengths_reserve_little() {
    for input in [
        &b"*1\r\n$536870912\r\nabc"[..],
        b"*2147483647\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
        b"*2147483647\r\n$536870912\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n0123456789",
    ] {
        let (out, cap) = capacity_after(input);
        assert_eq!(out.error, None, "input {}", show(input));
        assert!(out.commands.is_empty());
        assert!(cap <= RESERVE_SLACK, "input {} reserved {cap} bytes", show(input));
    }
}

#[test]
fn large_bulk_arrives_piecewise_without_overallocation() {
    // A 5 MB argument fed in 64 KB reads: the buffer never runs far ahead of the data.
    let value = vec![b'v'; 5 * 1024 * 1024];
    let input = encode(&[b"SET".to_vec(), b"k".to_vec(), value.clone()]);
    let got = parse_chunked(&input, &mut || 64 * 1024, true);
    assert_eq!(got.error, None);
    assert_eq!(got.commands.len(), 1);
    assert!(got.commands[0][2] == value);
}

fn error_of(input: &[u8], auth: bool) -> String {
    parse_whole(input, auth)
        .error
        .map(|e| e.text())
        .unwrap_or_else(|| "no error".into())
}

#[test]
fn limits_match_redis() {
    // Redis 7.0's processMultibulkBuffer: counts up to INT_MAX, bulks up to proto-max-bulk-len.
    assert_eq!(error_of(b"*2147483647\r\n", true), "no error");
    assert_eq!(
        error_of(b"*2147483648\r\n", true),
        "Protocol error: invalid multibulk length"
    );
    assert_eq!(error_of(b"*1\r\n$536870912\r\n", true), "no error");
    assert_eq!(
        error_of(b"*1\r\n$536870913\r\n", true),
        "Protocol error: invalid bulk length"
    );
    // A header line without CR longer than 64 KB.
    let long = [&b"*"[..], &vec![b'1'; INLINE_MAX + 1]].concat();
    assert_eq!(error_of(&long, true), "Protocol error: too big mbulk count string");
    let long = [&b"*1\r\n$"[..], &vec![b'1'; INLINE_MAX + 1]].concat();
    assert_eq!(error_of(&long, true), "Protocol error: too big bulk count string");
    let long = vec![b'a'; INLINE_MAX + 1];
    assert_eq!(error_of(&long, true), "Protocol error: too big inline request");
}

#[test]
fn unauthenticated_limits_match_redis() {
    let ten = [&b"*10\r\n"[..], &b"$1\r\na\r\n".repeat(10)].concat();
    assert_eq!(parse_whole(&ten, false).commands.len(), 1);
    assert_eq!(
        error_of(b"*11\r\n", false),
        "Protocol error: unauthenticated multibulk length"
    );
    assert_eq!(error_of(b"*11\r\n", true), "no error");
    let max = [&b"*1\r\n$16384\r\n"[..], &vec![b'x'; 16384], b"\r\n"].concat();
    assert_eq!(parse_whole(&max, false).commands.len(), 1);
    assert_eq!(
        error_of(b"*1\r\n$16385\r\n", false),
        "Protocol error: unauthenticated bulk length"
    );
    assert_eq!(error_of(b"*1\r\n$16385\r\n", true), "no error");
    // Inline commands have no extra limit before AUTH (beyond the 64 KB line).
    assert_eq!(
        parse_whole(b"AUTH a b c d e f g h i j k l\r\n", false).commands[0].len(),
        13
    );
}

// ---------------------------------------------------------------------------
// Over TCP
// ---------------------------------------------------------------------------

/// Malformed and hostile input gets exactly the bytes real Redis sends before
/// closing (with and without a password set).
#[test]
fn malformed_input_matches_real_redis_over_tcp() {
    let big = |n: usize| [&b"*1\r\n$"[..], n.to_string().as_bytes(), b"\r\n"].concat();
    let cases: Vec<Vec<u8>> = vec![
        b"*2147483648\r\n".to_vec(),
        b"*-2147483649\r\n".to_vec(),
        b"*99999999999999999999\r\n".to_vec(),
        b"*1\r\n$536870913\r\n".to_vec(),
        b"*1\r\n$99999999999999999999\r\n".to_vec(),
        b"*1\r\n$-2\r\n".to_vec(),
        b"*1\r\n$abc\r\n".to_vec(),
        b"*1\r\n$\r\n".to_vec(),
        b"*\r\n".to_vec(),
        b"*01\r\n".to_vec(),
        b"*1\r\n$01\r\na\r\n".to_vec(),
        b"*1\r\n+PING\r\n".to_vec(),
        b"*2\r\n$4\r\nECHO\r\n$1\r\nabcdefg\r\n".to_vec(),
        b"*1\r\n$4\r\nPING\r\n*1\r\n".to_vec(),
        b"ECHO 'a'b\r\n".to_vec(),
        b"ECHO \"a\"b\r\n".to_vec(),
        b"ECHO 'a\\'b'\r\n".to_vec(),
        b"ECHO \"\\x4\"\r\n".to_vec(),
        b"ECHO \"\\xzz\"\r\n".to_vec(),
        b"  \t ECHO\t x \r\n".to_vec(),
        b"\n\n\nPING\n".to_vec(),
        b"ECHO \x00x\r\n".to_vec(),
        b"\xff\xfe\r\n".to_vec(),
        [&b"*1\r\n$"[..], &vec![b'1'; INLINE_MAX + 10]].concat(),
        vec![b'a'; INLINE_MAX + 10],
        big(16384),
        big(16385),
        b"*10\r\n$4\r\nAUTH\r\n".to_vec(),
        b"*11\r\n$4\r\nAUTH\r\n".to_vec(),
        b"AUTH wrong\r\nPING\r\n".to_vec(),
    ];
    let redsql = start_redsql(&[]);
    let redis = start_redis_with(&[]);
    let redsql_pw = start_redsql(&["--requirepass", "pw"]);
    let redis_pw = start_redis_with(&["--requirepass", "pw"]);
    let mut failures = Vec::new();
    for case in &cases {
        for (a, b) in [(&redis, &redsql), (&redis_pw, &redsql_pw)] {
            let want = a.exchange(case);
            let got = b.exchange(case);
            if want != got {
                failures.push(format!(
                    "input {} ({})\n    redis:  {}\n    redsql: {}",
                    show(&case[..case.len().min(80)]),
                    if std::ptr::eq(a, &redis) {
                        "no password"
                    } else {
                        "requirepass"
                    },
                    show(&want),
                    show(&got)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Clients that declare huge lengths and then stall do not make the server
/// allocate for them, and do not disturb other clients.
#[test]
fn huge_declared_lengths_do_not_allocate() {
    let server = start_redsql(&[]);
    // Resident memory shows buffers that were filled; reserved address space
    // (VmSize) also shows buffers that were only allocated.
    let (rss_before, vm_before) = (server.memory_kb("VmRSS"), server.memory_kb("VmSize"));
    let mut stalled = Vec::new();
    for header in [
        &b"*1\r\n$536870912\r\n"[..],
        b"*2147483647\r\n",
        b"*2147483647\r\n$536870912\r\nabc",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n",
    ] {
        for _ in 0..10 {
            let mut c = server.conn();
            c.send_raw(header);
            stalled.push(c);
        }
    }
    let mut other = server.conn();
    assert_eq!(other.cmd_str(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(other.cmd_str(&["GET", "k"]), b"$1\r\nv\r\n");
    std::thread::sleep(Duration::from_millis(200));
    let (rss_after, vm_after) = (server.memory_kb("VmRSS"), server.memory_kb("VmSize"));
    assert!(rss_after > 0 && vm_after > 0, "cannot read the server's memory use");
    // 40 stalled clients that declared up to 512 MB each (20 GB in all): a few MB at most.
    assert!(
        rss_after < rss_before + 100 * 1024,
        "server memory grew from {rss_before} KiB to {rss_after} KiB"
    );
    assert!(
        vm_after < vm_before + 2 * 1024 * 1024,
        "server address space grew from {vm_before} KiB to {vm_after} KiB"
    );
    println!("memory: resident {rss_before} -> {rss_after} KiB, reserved {vm_before} -> {vm_after} KiB");
    drop(stalled);
    assert_eq!(other.cmd_str(&["PING"]), b"+PONG\r\n");
}

#[test]
fn binary_keys_and_values_round_trip() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    let mut rng = Rng::new(7);
    let mut pairs = vec![
        (b"\xff\xfe\x00\r\n".to_vec(), b"\x00\x01\x02\xc3\x28\xa0\xa1".to_vec()),
        (b"\x00".to_vec(), Vec::new()),
        (Vec::new(), b"empty key".to_vec()),
        (
            "ключ🔑".as_bytes().to_vec(),
            b"\xed\xa0\x80 (a lone surrogate)".to_vec(),
        ),
    ];
    for _ in 0..200 {
        let (klen, vlen) = (rng.range(1, 50), rng.range(0, 300));
        pairs.push((rng.bytes(klen), rng.bytes(vlen)));
    }
    for (k, v) in &pairs {
        assert_eq!(c.cmd(&[b"SET", k, v]), b"+OK\r\n", "SET {}", show(k));
    }
    for (k, v) in &pairs {
        let want = [format!("${}\r\n", v.len()).as_bytes(), v, b"\r\n"].concat();
        assert_eq!(c.cmd(&[b"GET", k]), want, "GET {}", show(k));
    }
    // Keys that differ only in case or trailing bytes are distinct.
    assert_eq!(c.cmd(&[b"SET", b"\xff", b"1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"GET", b"\xff\x00"]), b"$-1\r\n");
}

#[test]
fn ten_megabyte_value_round_trips() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    let mut rng = Rng::new(10);
    let value = rng.bytes(10 * 1024 * 1024);
    assert_eq!(c.cmd(&[b"SET", b"big", &value]), b"+OK\r\n");
    let reply = c.cmd(&[b"GET", b"big"]);
    let header = format!("${}\r\n", value.len());
    assert!(
        reply.starts_with(header.as_bytes()),
        "reply starts {}",
        show(&reply[..20.min(reply.len())])
    );
    assert!(reply[header.len()..reply.len() - 2] == value[..], "10 MB value changed");
    // And the same value read by a second connection.
    assert_eq!(server.conn().cmd(&[b"GET", b"big"]), reply);
}

/// 10,000 commands in one write: every reply arrives, in order.
#[test]
fn pipeline_of_ten_thousand_commands_in_one_write() {
    let server = start_redsql(&[]);
    let mut c = server.conn();
    let mut input = Vec::new();
    let mut want = Vec::new();
    for i in 0..10_000 {
        let key = format!("key:{i}");
        let val = format!("value-{i}");
        match i % 4 {
            0 => {
                input.extend(RawConn::encode(&[b"SET", key.as_bytes(), val.as_bytes()]));
                want.extend_from_slice(b"+OK\r\n");
            }
            1 => {
                input.extend(RawConn::encode(&[b"GET", format!("key:{}", i - 1).as_bytes()]));
                let v = format!("value-{}", i - 1);
                want.extend(format!("${}\r\n{v}\r\n", v.len()).into_bytes());
            }
            2 => {
                input.extend(format!("ECHO {val}\r\n").into_bytes());
                want.extend(format!("${}\r\n{val}\r\n", val.len()).into_bytes());
            }
            _ => {
                input.extend(RawConn::encode(&[b"EXISTS", key.as_bytes()]));
                want.extend_from_slice(b":0\r\n");
            }
        }
    }
    // Write from another thread while this one reads, so neither side's socket buffer can fill up and stall.
    let mut writer = c.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&input).unwrap());
    let mut got = vec![0u8; want.len()];
    c.stream.read_exact(&mut got).expect("read all replies");
    sender.join().unwrap();
    if got != want {
        let at = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "replies differ at byte {at}: got {} want {}",
            show(&got[at.saturating_sub(20)..(at + 40).min(got.len())]),
            show(&want[at.saturating_sub(20)..(at + 40).min(want.len())])
        );
    }
    assert_eq!(c.cmd_str(&["DBSIZE"]), b":2500\r\n");
}

/// Random protocol-shaped input, sent to real Redis and to redsql: both answer
/// the same bytes before closing. Keys are prefixed per case so that cases do
/// not see each other's data.
#[test]
fn random_input_gets_the_same_replies_as_real_redis() {
    let mut rng = seeded("random_input_gets_the_same_replies_as_real_redis");
    let redis = start_redis_with(&[]);
    let redsql = start_redsql(&[]);
    const WORDS: &[&[u8]] = &[
        b"PING",
        b"ECHO",
        b"GET",
        b"SET",
        b"DEL",
        b"EXISTS",
        b"ping",
        b"echo",
        b"k",
        b"v",
        b"NX",
        b"XX",
        b"EX",
        b"10",
        b"-1",
        b"0",
        b"\"a b\"",
        b"'c'",
        b"\"\\x41\\n\"",
        b"x\"",
        b"\"unterminated",
    ];
    let mut failures = Vec::new();
    for case in 0..300 {
        let mut input = Vec::new();
        for _ in 0..rng.range(1, 8) {
            match rng.range(0, 3) {
                // A well-formed multibulk command of random words.
                0 => {
                    let args: Vec<&[u8]> = (0..rng.range(1, 4)).map(|_| *rng.pick(WORDS)).collect();
                    input.extend(RawConn::encode(&args));
                }
                // An inline command of random words.
                1 => {
                    let words: Vec<&[u8]> = (0..rng.range(1, 4)).map(|_| *rng.pick(WORDS)).collect();
                    input.extend(words.join(&b' '));
                    input.extend_from_slice(if rng.one_in(2) { b"\r\n" } else { b"\n" });
                }
                // Protocol fragments.
                _ => input.extend(garbage(&mut rng)),
            }
        }
        // Keep every case's keys apart: both servers start each case empty.
        for s in [&redis, &redsql] {
            assert_eq!(s.conn().cmd_str(&["FLUSHALL"]), b"+OK\r\n");
        }
        let want = redis.exchange(&input);
        let got = redsql.exchange(&input);
        if want != got {
            failures.push(format!(
                "case {case}: input {}\n    redis:  {}\n    redsql: {}",
                show(&input),
                show(&want),
                show(&got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 300 cases differ:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}
