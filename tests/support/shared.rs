//! Servers shared by the tests of one test binary: a [`Pool`] hands a test
//! an idle one (starting one when none is idle) and takes it back when the
//! test is done, so that tests running one after another reuse a server and
//! tests running at the same time each have one of their own. What is still
//! in a pool when the test binary exits is dropped then (the processes are
//! killed, the PostgreSQL schemas dropped).

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, Once};

/// Idle values (e.g. servers) shared by a test binary's tests; declare one
/// as a `static`.
pub struct Pool<T> {
    idle: Mutex<Vec<T>>,
    at_exit: Once,
}

impl<T: Send + 'static> Pool<T> {
    pub const fn new() -> Pool<T> {
        Pool {
            idle: Mutex::new(Vec::new()),
            at_exit: Once::new(),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<T>> {
        // A test that panicked while holding the lock left the list whole.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle value, or a new one from `make`; back in the pool when the
    /// lease is dropped (unless the test is panicking or it was discarded).
    pub fn take(&'static self, make: impl FnOnce() -> T) -> Lease<T> {
        self.at_exit
            .call_once(|| at_exit(Box::new(move || drop(std::mem::take(&mut *self.idle())))));
        let idle = self.idle().pop();
        Lease {
            value: Some(idle.unwrap_or_else(make)),
            pool: self,
        }
    }
}

impl<T: Send + 'static> Default for Pool<T> {
    fn default() -> Pool<T> {
        Pool::new()
    }
}

/// A value taken from a [`Pool`].
pub struct Lease<T: Send + 'static> {
    value: Option<T>,
    pool: &'static Pool<T>,
}

impl<T: Send + 'static> Lease<T> {
    /// Drops the value instead of returning it (e.g. a server whose state a
    /// failed test may have left changed).
    pub fn discard(mut self) {
        self.value = None;
    }
}

impl<T: Send + 'static> Deref for Lease<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("a lease holds its value until dropped")
    }
}

impl<T: Send + 'static> DerefMut for Lease<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("a lease holds its value until dropped")
    }
}

impl<T: Send + 'static> Drop for Lease<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take()
            && !std::thread::panicking()
        {
            self.pool.idle().push(value);
        }
    }
}

type Cleanup = Box<dyn FnOnce() + Send>;

static CLEANUPS: Mutex<Vec<Cleanup>> = Mutex::new(Vec::new());

/// Runs `cleanup` when the process exits (the test harness ends with
/// `exit`, which runs `atexit` handlers; statics are never dropped).
fn at_exit(cleanup: Cleanup) {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        extern "C" fn run_cleanups() {
            let cleanups = std::mem::take(&mut *CLEANUPS.lock().unwrap_or_else(|e| e.into_inner()));
            for cleanup in cleanups {
                cleanup();
            }
        }
        // SAFETY: registers a function without arguments that does not unwind.
        let status = unsafe { libc::atexit(run_cleanups) };
        assert_eq!(status, 0, "atexit failed");
    });
    CLEANUPS.lock().unwrap_or_else(|e| e.into_inner()).push(cleanup);
}
