//! Background threads: where work that can take long runs (KEYS over a big
//! database, a FLUSHALL of millions of keys, freeing a huge buffer), off the
//! event loop, at a lower CPU priority than the event loop.
//!
//! Like tokio's blocking pool, a thread is started when the queued jobs
//! outnumber the idle threads, and an idle thread ends after [`IDLE`].
//! Unlike it, each thread
//! lowers its own priority when it starts (Linux: nice +[`NICE`]; threads
//! have their own nice value there). redsql's event loop is one thread
//! sharing a few cores with its clients: a KEYS running at the same
//! priority took a third of a core from it, and other clients' GETs waited
//! for the CPU scheduler's next turn (gaps of 10-25 ms in
//! `bench/scale.sh`). At nice +10 the scheduler gives the event loop about
//! nine tenths of a contended core and runs it as soon as it wakes; a
//! background job still progresses on an idle core, and at a tenth of a
//! busy one. (An unprivileged process cannot raise a priority back, hence
//! threads of their own rather than tokio's.)
//!
//! A job runs inside the runtime it was submitted from (if any), as a
//! `spawn_blocking` closure would.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

/// The nice value background threads take.
pub const NICE: i32 = 10;

/// How long an idle background thread waits for work before it ends.
const IDLE: Duration = Duration::from_secs(10);

/// Most threads at once; further jobs wait in the queue.
const MAX_THREADS: usize = 64;

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

struct Pool {
    state: Mutex<State>,
    work: Condvar,
}

impl Pool {
    fn new() -> Pool {
        Pool {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
        }
    }
}

/// The process's pool.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(Pool::new)
}

/// Runs `f` on a background thread; does not wait for it.
pub fn spawn(f: impl FnOnce() + Send + 'static) {
    let runtime = tokio::runtime::Handle::try_current().ok();
    submit(
        pool(),
        Box::new(move || {
            let _entered = runtime.as_ref().map(|r| r.enter());
            f()
        }),
    );
}

fn submit(pool: &'static Pool, job: Job) {
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    state.queue.push_back(job);
    if state.idle > 0 {
        pool.work.notify_one();
    }
    // Each idle thread takes one queued job (a woken thread still counts as
    // idle until it takes the lock): a job beyond them gets a thread of its
    // own, rather than waiting behind a long KEYS.
    if state.queue.len() > state.idle && state.threads < MAX_THREADS {
        state.threads += 1;
        let started = std::thread::Builder::new()
            .name("redsql-background".into())
            .stack_size(super::COMMAND_STACK)
            .spawn(move || worker(pool));
        if started.is_err() {
            state.threads -= 1;
            if state.threads == 0 {
                // No thread can take it: run it here rather than never.
                let job = state.queue.pop_back().expect("just queued");
                drop(state);
                job();
            }
        }
    }
}

/// Runs `f` on a background thread and waits for its result; `None` if it
/// panicked.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.ok()
}

fn worker(pool: &'static Pool) {
    lower_priority();
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            // A panicking job drops its result sender (the waiter sees
            // `None`); the thread goes on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        state.idle += 1;
        let (next, timeout) = pool.work.wait_timeout(state, IDLE).unwrap_or_else(|e| e.into_inner());
        state = next;
        state.idle -= 1;
        if timeout.timed_out() && state.queue.is_empty() {
            state.threads -= 1;
            return;
        }
    }
}

/// Lowers the calling thread's CPU priority to [`NICE`] (Linux; elsewhere
/// the nice value belongs to the whole process, so nothing is done).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE);
    }
}

/// The calling thread's nice value (Linux), for tests.
#[cfg(all(test, target_os = "linux"))]
fn nice() -> i32 {
    // SAFETY: as in `lower_priority`.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[tokio::test]
    async fn runs_jobs_at_low_priority_and_survives_panics() {
        assert_eq!(run(|| 6 * 7).await, Some(42));
        assert_eq!(run(|| -> i32 { panic!("boom") }).await, None);
        #[cfg(target_os = "linux")]
        assert_eq!(run(nice).await, Some(NICE));
        // Inside the runtime the job came from.
        assert_eq!(run(|| tokio::runtime::Handle::try_current().is_ok()).await, Some(true));
    }

    /// A job queued while the only idle thread is taken by another gets a
    /// thread of its own instead of waiting behind it.
    #[test]
    fn a_second_job_does_not_wait_behind_the_first() {
        for _ in 0..20 {
            // A pool of its own, with one thread, idle.
            let pool: &'static Pool = Box::leak(Box::new(Pool::new()));
            let (tx, rx) = std::sync::mpsc::channel();
            submit(pool, Box::new(move || tx.send(()).unwrap()));
            rx.recv().unwrap();
            while pool.state.lock().unwrap().idle == 0 {
                std::thread::yield_now();
            }
            // The first job ends only when the second has run.
            let (second_tx, second_rx) = std::sync::mpsc::channel::<()>();
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            submit(
                pool,
                Box::new(move || {
                    done_tx
                        .send(second_rx.recv_timeout(Duration::from_secs(5)).is_ok())
                        .unwrap()
                }),
            );
            submit(pool, Box::new(move || second_tx.send(()).unwrap()));
            assert!(done_rx.recv().unwrap(), "the second job waited behind the first");
        }
    }

    /// Jobs that wait for each other each get a thread of their own.
    #[test]
    fn grows_a_thread_per_waiting_job() {
        let n = 8;
        let barrier = Arc::new(Barrier::new(n));
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..n {
            let (barrier, tx) = (barrier.clone(), tx.clone());
            spawn(move || {
                barrier.wait();
                tx.send(i).unwrap();
            });
        }
        let mut got: Vec<usize> = (0..n)
            .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
            .collect();
        got.sort();
        assert_eq!(got, (0..n).collect::<Vec<_>>());
    }
}
