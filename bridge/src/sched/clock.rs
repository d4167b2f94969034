//! The clock of one running segment, checked by the store's epoch callback at every tick. It
//! enforces two bounds and one courtesy:
//!
//! - the **CPU budget** (what the execution has left of `timeoutMs`), read from the executing
//!   thread's CPU clock: time the thread waits for a core — CFS throttling at the pod's CPU limit,
//!   a busy node, the wait for a bridge thread after a yield — is not spent, so an honest handler
//!   never times out because the machine is busy;
//! - the **deadline** (`executionDeadlineMs` from the execution's start), on the wall clock: it
//!   bounds what a starved execution can cost its caller, since CPU time alone never runs out
//!   while the thread gets no core;
//! - the **slice** on the caller's thread, on the wall clock: it exists to bound how long Node's
//!   event loop is held, and the event loop waits in wall time whether or not the thread had a
//!   core. Past it the segment yields once and continues on a bridge thread.

use std::time::{Duration, Instant};

use wasmtime::UpdateDeadline;

use super::SLICE;
use super::cpu::CpuReading;

/// Which bound ended a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Its CPU budget (`timeoutMs`).
    Cpu,
    /// The execution's wall-clock deadline (`executionDeadlineMs`).
    Deadline,
}

/// What one segment took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentTime {
    /// CPU time on every thread it ran on.
    pub cpu: Duration,
    /// Wall time while running: from its start to its end, without the wait for a bridge thread.
    pub running: Duration,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct EpochClock {
    /// None while unarmed (pre-initialisation, warming): ticks then never interrupt.
    cpu_budget: Option<Duration>,
    /// CPU time this segment used so far, summed over the threads it ran on.
    cpu_used: Duration,
    /// The last CPU reading, on the thread that took it.
    baseline: Option<CpuReading>,
    deadline: Option<Instant>,
    /// Running on the caller's thread until then: at the first tick after it the segment yields.
    slice_ends: Option<Instant>,
    /// Set while the guest runs on a fiber (`call_async`): only there can it yield. A tick during
    /// one of the short synchronous calls around it (allocating input, reading output) continues.
    on_fiber: bool,
    started: Option<Instant>,
    /// When it yielded: the wait for a bridge thread is not running time.
    yielded_at: Option<Instant>,
    paused: Duration,
    hit: Option<Bound>,
}

impl EpochClock {
    /// Arms the clock for a segment that may use `cpu_budget` of CPU time and must end by
    /// `deadline`; `sliced` when it starts on the caller's thread. Takes the CPU baseline on the
    /// calling thread, which is where the segment starts.
    pub fn arm(&mut self, cpu_budget: Duration, deadline: Instant, sliced: bool) {
        let now = Instant::now();
        *self = EpochClock {
            cpu_budget: Some(cpu_budget),
            baseline: Some(CpuReading::now()),
            deadline: Some(deadline),
            slice_ends: sliced.then(|| now + SLICE),
            on_fiber: self.on_fiber,
            started: Some(now),
            ..EpochClock::default()
        };
    }

    /// What the store's epoch callback does at each tick.
    pub fn tick(&mut self) -> UpdateDeadline {
        let now = Instant::now();
        self.sample();
        if let Some(yielded_at) = self.yielded_at.take() {
            // The first tick since it continued on a bridge thread: the time since the yield was
            // spent waiting for that thread, except for at most this one tick of running.
            self.paused += now.saturating_duration_since(yielded_at);
        }
        if self
            .cpu_budget
            .is_some_and(|budget| self.cpu_used >= budget)
        {
            self.hit = Some(Bound::Cpu);
            return UpdateDeadline::Interrupt;
        }
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            self.hit = Some(Bound::Deadline);
            return UpdateDeadline::Interrupt;
        }
        match self.slice_ends {
            Some(ends) if self.on_fiber && now >= ends => {
                self.slice_ends = None;
                self.yielded_at = Some(now);
                UpdateDeadline::Yield(1)
            }
            _ => UpdateDeadline::Continue(1),
        }
    }

    /// Ends the segment's accounting (the bounds stay armed until the next `arm`) and returns what
    /// it took. Call on the thread where it ended.
    pub fn stop(&mut self) -> SegmentTime {
        self.sample();
        let running = self.started.take().map_or(Duration::ZERO, |started| {
            started.elapsed().saturating_sub(self.paused)
        });
        SegmentTime {
            cpu: self.cpu_used,
            running,
        }
    }

    /// The guest is about to run on a fiber (`call_async`), where a tick may yield.
    pub fn enter_fiber(&mut self) {
        self.on_fiber = true;
    }

    /// The fiber call returned: from now on a tick never yields.
    pub fn leave_fiber(&mut self) {
        self.on_fiber = false;
    }

    /// Which bound interrupted the segment, if one did.
    pub fn hit(&self) -> Option<Bound> {
        self.hit
    }

    /// Adds the CPU time since the last reading. On another thread than that reading (the segment
    /// moved to a bridge thread) the clocks are not comparable: it re-bases and counts nothing,
    /// which leaves at most one tick uncounted per move (a segment moves at most once).
    fn sample(&mut self) {
        let Some(baseline) = self.baseline else {
            return;
        };
        let now = CpuReading::now();
        if let Some(used) = now.since(&baseline) {
            self.cpu_used += used;
        }
        self.baseline = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    fn far() -> Instant {
        Instant::now() + LONG
    }

    /// Spins until this thread has used `cpu` of CPU time.
    fn burn(cpu: Duration) {
        let start = CpuReading::now();
        while CpuReading::now().since(&start).unwrap() < cpu {
            std::hint::spin_loop();
        }
    }

    fn is(update: UpdateDeadline, expected: &str) -> bool {
        let name = match update {
            UpdateDeadline::Continue(_) => "continue",
            UpdateDeadline::Yield(_) => "yield",
            UpdateDeadline::Interrupt => "interrupt",
            _ => "other",
        };
        name == expected
    }

    #[test]
    fn a_sleeping_thread_spends_no_cpu_budget() {
        let mut clock = EpochClock::default();
        clock.arm(Duration::from_millis(20), far(), false);
        // Off a core for longer than the whole budget: a descheduled thread is the same to its
        // CPU clock.
        std::thread::sleep(Duration::from_millis(60));
        assert!(is(clock.tick(), "continue"));
        assert!(clock.stop().cpu < Duration::from_millis(20));
        assert_eq!(clock.hit(), None);
    }

    #[test]
    fn a_busy_loop_spends_its_cpu_budget() {
        let mut clock = EpochClock::default();
        clock.arm(Duration::from_millis(10), far(), false);
        burn(Duration::from_millis(5));
        assert!(is(clock.tick(), "continue"), "half of the budget");
        burn(Duration::from_millis(6));
        assert!(is(clock.tick(), "interrupt"));
        assert_eq!(clock.hit(), Some(Bound::Cpu));
        assert!(clock.stop().cpu >= Duration::from_millis(10));
    }

    #[test]
    fn a_thread_change_re_bases_the_cpu_clock() {
        // This thread has used far more CPU than the budget; a fresh thread has used almost none.
        burn(Duration::from_millis(40));
        let mut clock = std::thread::spawn(|| {
            let mut clock = EpochClock::default();
            clock.arm(Duration::from_millis(20), far(), false);
            clock
        })
        .join()
        .unwrap();
        // Comparing this thread's clock with the fresh thread's baseline would spend 40 ms.
        assert!(is(clock.tick(), "continue"), "re-based, nothing counted");
        burn(Duration::from_millis(5));
        assert!(is(clock.tick(), "continue"));
        let spent = clock.stop().cpu;
        assert!(spent >= Duration::from_millis(5) && spent < Duration::from_millis(20));
    }

    #[test]
    fn the_deadline_interrupts_while_cpu_budget_remains() {
        let mut clock = EpochClock::default();
        clock.arm(LONG, Instant::now() + Duration::from_millis(5), false);
        std::thread::sleep(Duration::from_millis(10));
        assert!(is(clock.tick(), "interrupt"));
        assert_eq!(clock.hit(), Some(Bound::Deadline));
    }

    #[test]
    fn it_yields_once_after_its_slice_on_the_fiber_only() {
        let mut clock = EpochClock::default();
        clock.arm(LONG, far(), true);
        std::thread::sleep(SLICE);
        assert!(
            is(clock.tick(), "continue"),
            "off the fiber a yield would be an error"
        );
        clock.enter_fiber();
        assert!(is(clock.tick(), "yield"));
        assert!(is(clock.tick(), "continue"), "yields once");
    }

    #[test]
    fn the_wait_for_a_bridge_thread_after_a_yield_is_not_running_time() {
        let mut clock = EpochClock {
            on_fiber: true,
            ..EpochClock::default()
        };
        clock.arm(Duration::from_millis(1), far(), true);
        std::thread::sleep(SLICE);
        assert!(is(clock.tick(), "yield"));
        // Queued behind long handlers for longer than the whole CPU budget.
        std::thread::sleep(Duration::from_millis(20));
        assert!(is(clock.tick(), "continue"), "the wait is not spent");
        assert!(
            clock.paused >= Duration::from_millis(20),
            "nor running time"
        );
    }

    #[test]
    fn an_unarmed_clock_never_interrupts() {
        let mut clock = EpochClock::default();
        assert!(is(clock.tick(), "continue"));
        assert_eq!(clock.stop(), SegmentTime::default());
    }
}
