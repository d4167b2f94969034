//! The executing thread's CPU clock. A reading is only comparable with another taken on the same
//! thread, so every reading carries the thread it was taken on: a segment that moved from the
//! caller's thread to a bridge thread re-bases instead of subtracting one thread's clock from
//! another's.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A reading of the calling thread's CPU clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuReading {
    /// Which thread it was taken on (a process-unique number, never reused).
    pub thread: u64,
    /// CPU time that thread has used since it started.
    pub used: Duration,
}

impl CpuReading {
    /// Reads the calling thread's CPU clock.
    pub fn now() -> Self {
        CpuReading {
            thread: thread_key(),
            used: thread_cpu_time(),
        }
    }

    /// CPU time this thread used since `earlier`; None when `earlier` was taken on another thread
    /// (the two clocks cannot be compared).
    pub fn since(&self, earlier: &CpuReading) -> Option<Duration> {
        (self.thread == earlier.thread).then(|| self.used.saturating_sub(earlier.used))
    }
}

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD: Cell<u64> = const { Cell::new(0) };
}

/// A number for the calling thread, given on first use (cheaper than `thread::current().id()`,
/// which clones a handle, at every epoch tick).
fn thread_key() -> u64 {
    THREAD.with(|key| {
        if key.get() == 0 {
            key.set(NEXT_THREAD.fetch_add(1, Ordering::Relaxed));
        }
        key.get()
    })
}

/// CPU time the calling thread has used: `CLOCK_THREAD_CPUTIME_ID`, which counts only the time
/// the thread was on a core (not time it waited for one).
#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec it is given.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return wall_fallback();
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Duration {
    wall_fallback()
}

/// Where a thread CPU clock is missing, budgets fall back to the wall clock: stricter, never
/// unbounded.
fn wall_fallback() -> Duration {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeping_thread_uses_no_cpu_time_and_a_busy_one_does() {
        let before = CpuReading::now();
        std::thread::sleep(Duration::from_millis(30));
        let slept = CpuReading::now().since(&before).unwrap();
        assert!(slept < Duration::from_millis(15), "slept: {slept:?}");
        let start = CpuReading::now();
        while CpuReading::now().since(&start).unwrap() < Duration::from_millis(5) {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn readings_from_different_threads_do_not_compare() {
        let here = CpuReading::now();
        let there = std::thread::spawn(CpuReading::now).join().unwrap();
        assert_ne!(here.thread, there.thread);
        assert_eq!(there.since(&here), None);
        assert!(CpuReading::now().since(&here).is_some());
    }
}
