//! A PostgreSQL restart under a running redsql: in-flight requests fail, then
//! redsql reconnects by itself. In a test binary of its own, so that the
//! restart cannot disturb the other PostgreSQL tests (test binaries run one
//! after another). Needs `REDSQL_TEST_POSTGRES_URL` and
//! `REDSQL_TEST_POSTGRES_RESTART` (a shell command restarting the cluster);
//! skips loudly without them.

mod support;

use std::time::{Duration, Instant};
use support::pg::{self, TestSchema, start_redsql_pg, url_or_skip};

#[test]
fn a_postgresql_restart_costs_errors_not_a_wedged_server() {
    let Some(base) = url_or_skip("restart") else { return };
    let Some(restart) = pg::restart_or_skip("restart test") else {
        return;
    };
    let schema = TestSchema::new(&base, "restart");
    let a = start_redsql_pg(&schema.url(), &[]);
    let mut c = a.conn();
    assert_eq!(c.cmd_str(&["SET", "k", "1"]), b"+OK\r\n");
    // Clients busy while the server goes away.
    let port = a.port;
    let busy = std::thread::spawn(move || {
        let mut c = support::RawConn::connect(port);
        let (mut ok, mut errors) = (0, 0);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            match c.cmd_str(&["SET", "busy", "x"]).as_slice() {
                b"+OK\r\n" => ok += 1,
                r if r.starts_with(b"-ERR") => errors += 1,
                r => panic!("unexpected reply {}", support::show(r)),
            }
        }
        (ok, errors)
    });
    std::thread::sleep(Duration::from_millis(300));
    restart.run();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if c.cmd_str(&["SET", "k2", "2"]) == b"+OK\r\n" && c.cmd_str(&["GET", "k"]) == b"$1\r\n1\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "redsql did not reconnect after the restart");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, errors) = busy.join().unwrap();
    eprintln!("during the restart: {ok} writes succeeded, {errors} failed");
    assert!(ok > 0);
}
