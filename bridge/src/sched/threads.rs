//! How many bridge threads there are, and where they stand in the machine's scheduler. They run long handlers; Node's event
//! loop (which runs the short ones and answers `/health`) and the epoch ticker must get a core
//! first when the machine is busy. CPU budgets are read from each thread's own CPU clock, so a
//! bridge thread that waits for a core meanwhile spends none of its handler's budget.

/// How many bridge threads a runtime runs: one per core (at least 2, so a long handler never
/// leaves the queue without a thread), and no more than instances can run at once.
pub fn bridge_threads(max_instances: u32) -> u32 {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get() as u32)
        .max(2)
        .min(max_instances)
}

/// The nice value of bridge threads.
#[cfg(target_os = "linux")]
const WORKER_NICE: libc::c_int = 10;

/// Lowers the calling thread's priority (Linux keeps nice values per thread, so only this one).
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its arguments; who = 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, WORKER_NICE);
    }
}
