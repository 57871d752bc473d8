//! MEMORY USAGE of collections: an estimate (strings are exact, checked
//! against Redis in tests/diff/memory.redis), which must grow with the
//! collection, and agree between the default sampling and SAMPLES 0 when
//! the elements are alike.

mod support;

use support::{Backend, RawConn, backend_tests};

fn usage(c: &mut RawConn, args: &[&str]) -> i64 {
    let mut full = vec!["MEMORY", "USAGE"];
    full.extend_from_slice(args);
    let r = String::from_utf8_lossy(&c.cmd_str(&full)).into_owned();
    r.trim()
        .trim_start_matches(':')
        .parse()
        .unwrap_or_else(|_| panic!("{args:?}: {r}"))
}

fn collection_usage_grows_and_samples(backend: &Backend) {
    let server = backend.start("memusage", &[]);
    let mut c = server.conn();
    for (kind, add) in [("l", "RPUSH"), ("s", "SADD"), ("z", "ZADD"), ("h", "HSET")] {
        let mut sizes = Vec::new();
        for (round, n) in [(0, 10), (1, 1000), (2, 20000)] {
            let key = format!("{kind}{round}");
            for chunk in (0..n).collect::<Vec<i32>>().chunks(500) {
                let mut args: Vec<String> = vec![add.into(), key.clone()];
                for i in chunk {
                    match add {
                        "ZADD" => args.extend([i.to_string(), format!("member-{i:08}")]),
                        "HSET" => args.extend([format!("field-{i:08}"), format!("value-{i:08}")]),
                        _ => args.push(format!("element-{i:08}")),
                    }
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                c.cmd_str(&args);
            }
            let sampled = usage(&mut c, &[&key]);
            let all = usage(&mut c, &[&key, "SAMPLES", "0"]);
            let diff = (sampled - all).abs() as f64 / all as f64;
            assert!(diff < 0.2, "{key}: sampled {sampled}, all {all}");
            sizes.push(all);
        }
        assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "{kind}: {sizes:?}");
        // Roughly the element bytes at least, and not wildly more.
        assert!(sizes[2] > 20000 * 15 && sizes[2] < 20000 * 200, "{kind}: {sizes:?}");
    }
}

backend_tests!(collection_usage_grows_and_samples: sqlite, postgres);
