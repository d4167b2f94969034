//! The scheduler: everything that decides where a segment runs and for how long.
//!
//! - `clock.rs`: the clock each running segment checks at every epoch tick — its CPU budget
//!   (`timeoutMs`, the executing thread's CPU time), its execution's deadline
//!   (`executionDeadlineMs`, wall time) and its slice on the caller's thread (wall time).
//! - `cpu.rs`: reading a thread's CPU clock, and telling threads apart.
//! - `budget.rs`: what one execution may spend across its segments, and the TIMEOUT errors.
//! - `policy.rs`: which calls may start on the caller's thread (Node's event loop).
//! - `drive.rs`: polling a segment there once, and finishing it on a bridge thread.
//! - `threads.rs`: how many bridge threads, and their priority.
//!
//! Why two clocks: a limit measures what it limits. `timeoutMs` limits what a handler costs the
//! machine, which is CPU time: a wall clock would also count the time its thread waited for a
//! core (CFS throttling at the pod's CPU limit, a busy node, the queue for a bridge thread), so
//! an honest handler would time out because the machine was busy. The deadline and the slice
//! limit how long someone waits — the kernel for a result, Node's event loop for the caller's
//! thread — which is wall time. The epoch ticker (engine.rs) only advances the epoch every
//! [`EPOCH_TICK`]; every decision is made here.

pub mod budget;
pub mod clock;
pub mod cpu;
pub mod drive;
pub mod policy;
pub mod threads;

use std::time::Duration;

pub use budget::Budget;
pub use clock::{Bound, EpochClock, SegmentTime};
pub use drive::Run;
pub use policy::InlinePolicy;

/// One epoch tick: how often a running segment checks its clock. A quarter of a millisecond, so a
/// run on the caller's thread yields within a fraction of a millisecond after its slice, and a
/// budget or deadline ends at most a tick late (plus the reading of the CPU clock, ~0.3 µs a tick).
pub const EPOCH_TICK: Duration = Duration::from_micros(250);

/// How long a segment may run on the caller's thread before it moves to a bridge thread: one tick,
/// so it is checked at the first tick (plus at most one more tick until that check, ≤ 2 ticks).
pub const SLICE: Duration = EPOCH_TICK;

/// How often parked executions are checked for their deadline (by the epoch thread, so in ticks).
pub const SWEEP_EVERY: Duration = Duration::from_millis(10);
pub const SWEEP_EVERY_TICKS: u64 = (SWEEP_EVERY.as_micros() / EPOCH_TICK.as_micros()) as u64;
