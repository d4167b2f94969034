//! What one execution may spend, across all its segments: `timeoutMs` of CPU time (each segment
//! runs on what the earlier ones left) and `executionDeadlineMs` of wall time from its start
//! (suspensions, waits for a slot or a bridge thread included). The budget arms each segment's
//! clock and adds up what the segments took.

use std::time::{Duration, Instant};

use super::clock::{Bound, EpochClock, SegmentTime};
use crate::error::ErrorCode;
use crate::types::HandlerError;

#[derive(Debug, Clone)]
pub struct Budget {
    timeout_ms: u64,
    deadline_ms: u64,
    started: Instant,
    /// CPU and running wall time of the handler's segments so far.
    handler: SegmentTime,
    /// The same for compiling its source (a budget of its own, reported in the metrics).
    compiling: SegmentTime,
}

impl Budget {
    /// A budget whose deadline counts from now.
    pub fn new(timeout_ms: u64, deadline_ms: u64) -> Self {
        Budget {
            timeout_ms,
            deadline_ms,
            started: Instant::now(),
            handler: SegmentTime::default(),
            compiling: SegmentTime::default(),
        }
    }

    /// When the execution must have ended, wherever it is (running, queued, parked).
    pub fn deadline(&self) -> Instant {
        self.started + Duration::from_millis(self.deadline_ms)
    }

    fn cpu_limit(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Arms `clock` for the handler's next segment; Err when a bound is spent already.
    pub fn arm(&self, clock: &mut EpochClock, sliced: bool) -> Result<(), HandlerError> {
        let left = self.cpu_limit().saturating_sub(self.handler.cpu);
        if left.is_zero() {
            return Err(self.exceeded(Bound::Cpu, false));
        }
        if Instant::now() >= self.deadline() {
            return Err(self.exceeded(Bound::Deadline, false));
        }
        clock.arm(left, self.deadline(), sliced);
        Ok(())
    }

    /// Arms `clock` for compiling: `timeoutMs` of CPU time of its own, the same deadline, never
    /// sliced (compiling runs synchronously).
    pub fn arm_compile(&self, clock: &mut EpochClock) {
        clock.arm(self.cpu_limit(), self.deadline(), false);
    }

    pub fn spend(&mut self, time: SegmentTime) {
        self.handler.cpu += time.cpu;
        self.handler.running += time.running;
    }

    pub fn spend_compiling(&mut self, time: SegmentTime) {
        self.compiling.cpu += time.cpu;
        self.compiling.running += time.running;
    }

    /// The handler's and its compilation's time together, for the metrics.
    pub fn total(&self) -> SegmentTime {
        SegmentTime {
            cpu: self.handler.cpu + self.compiling.cpu,
            running: self.handler.running + self.compiling.running,
        }
    }

    pub fn compiling(&self) -> SegmentTime {
        self.compiling
    }

    /// The TIMEOUT error for `bound`, naming it.
    pub fn exceeded(&self, bound: Bound, compiling: bool) -> HandlerError {
        match bound {
            Bound::Cpu => cpu_exceeded(self.timeout_ms, compiling),
            Bound::Deadline => deadline_passed(self.deadline_ms),
        }
    }
}

pub fn cpu_exceeded(timeout_ms: u64, compiling: bool) -> HandlerError {
    let what = if compiling {
        "compiling the handler took"
    } else {
        "the handler ran for"
    };
    HandlerError::new(
        ErrorCode::Timeout,
        format!("{what} more than {timeout_ms} ms of CPU time (timeoutMs)"),
    )
}

pub fn deadline_passed(deadline_ms: u64) -> HandlerError {
    HandlerError::new(
        ErrorCode::Timeout,
        format!("the execution ran past its {deadline_ms} ms deadline (executionDeadlineMs)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_segment_runs_on_what_the_earlier_ones_left() {
        let mut budget = Budget::new(10, 60_000);
        let mut clock = EpochClock::default();
        assert!(budget.arm(&mut clock, false).is_ok());
        budget.spend(SegmentTime {
            cpu: Duration::from_millis(10),
            running: Duration::from_millis(30),
        });
        let error = budget.arm(&mut clock, false).unwrap_err();
        assert_eq!(error.code, ErrorCode::Timeout);
        assert!(error.message.contains("10 ms of CPU time (timeoutMs)"));
        assert_eq!(budget.total().running, Duration::from_millis(30));
    }

    #[test]
    fn a_segment_cannot_start_past_the_deadline() {
        let budget = Budget::new(10_000, 1);
        std::thread::sleep(Duration::from_millis(5));
        let error = budget.arm(&mut EpochClock::default(), true).unwrap_err();
        assert!(
            error
                .message
                .contains("ran past its 1 ms deadline (executionDeadlineMs)")
        );
    }
}
