//! Driving an execution's future: polled once on the caller's thread (a short run finishes right
//! there, with no thread hop), and to completion on a bridge thread when it outlives its first
//! epoch tick. The only time an execution's future is pending is when it yields at a tick
//! (`EpochClock`), so polling again at once continues it: no waker, no executor, no runtime.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::execution::{Execution, Segment};

/// A started segment: the execution owns its store while it runs.
pub type Run = Pin<Box<dyn Future<Output = (Execution, Segment)> + Send>>;

/// Polls once; Some when the segment finished within that poll.
pub fn poll_once(run: &mut Run) -> Option<(Execution, Segment)> {
    match run.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(done) => Some(done),
        Poll::Pending => None,
    }
}

/// Polls until the segment finishes (each pending poll was one yield at an epoch tick).
pub fn finish(mut run: Run) -> (Execution, Segment) {
    loop {
        if let Some(done) = poll_once(&mut run) {
            return done;
        }
    }
}

/// Runs on the caller's thread that had to move on (they held it for a whole slice) may take at
/// most `BUDGET` of any `WINDOW`: a burst of long handlers cannot hold Node's event loop. Runs
/// that finish in their slice are the work itself, done sooner than on a bridge thread, and are
/// not limited.
const WINDOW: Duration = Duration::from_millis(10);
const BUDGET: Duration = Duration::from_millis(1);
/// A handler (by bytecode hash) that outlived its slice goes to bridge threads for a while,
/// doubling each time it does so again, reset once it fits its slice; the newest are remembered.
const FIRST_PENALTY: Duration = Duration::from_millis(50);
const MAX_PENALTY: Duration = Duration::from_secs(10);
const REMEMBERED: usize = 4096;

#[derive(Default)]
pub struct InlinePolicy {
    state: Mutex<PolicyState>,
}

#[derive(Default)]
struct PolicyState {
    window_start: Option<Instant>,
    spent: Duration,
    penalties: HashMap<[u8; 32], Penalty>,
    order: VecDeque<[u8; 32]>,
}

impl PolicyState {
    /// Starts a new window when the current one is over.
    fn roll_window(&mut self, now: Instant) {
        if self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= WINDOW)
        {
            self.window_start = Some(now);
            self.spent = Duration::ZERO;
        }
    }
}

#[derive(Clone, Copy)]
struct Penalty {
    until: Instant,
    length: Duration,
}

impl InlinePolicy {
    /// Whether a handler may start on the caller's thread now.
    pub fn allows(&self, handler: &[u8; 32]) -> bool {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        state.roll_window(now);
        state.spent < BUDGET
            && state
                .penalties
                .get(handler)
                .is_none_or(|penalty| penalty.until <= now)
    }

    /// Accounts for a run on the caller's thread: `moved` when it outlived its slice.
    pub fn record(&self, handler: &[u8; 32], spent: Duration, moved: bool) {
        let mut state = self.state.lock().unwrap();
        if !moved {
            if let Some(penalty) = state.penalties.get_mut(handler) {
                penalty.length = FIRST_PENALTY;
            }
            return;
        }
        let now = Instant::now();
        state.roll_window(now);
        state.spent += spent;
        let length = match state.penalties.get(handler) {
            Some(previous) => (previous.length * 2).min(MAX_PENALTY),
            None => {
                state.order.push_back(*handler);
                FIRST_PENALTY
            }
        };
        state.penalties.insert(
            *handler,
            Penalty {
                until: now + length,
                length,
            },
        );
        while state.order.len() > REMEMBERED {
            if let Some(oldest) = state.order.pop_front() {
                state.penalties.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handler_that_outlives_its_slice_waits_longer_each_time() {
        let policy = InlinePolicy::default();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(policy.allows(&a));
        policy.record(&a, Duration::from_micros(300), true);
        assert!(!policy.allows(&a), "penalised");
        assert!(policy.allows(&b), "another handler is not");
        std::thread::sleep(FIRST_PENALTY + WINDOW);
        assert!(policy.allows(&a), "the penalty is over");
        policy.record(&a, Duration::from_micros(300), true);
        std::thread::sleep(FIRST_PENALTY + WINDOW);
        assert!(!policy.allows(&a), "the second penalty is twice as long");
    }

    #[test]
    fn runs_that_moved_use_up_the_window() {
        let policy = InlinePolicy::default();
        for i in 0..4u8 {
            policy.record(&[i; 32], BUDGET / 4, true);
        }
        assert!(!policy.allows(&[9; 32]), "the window's budget is spent");
        std::thread::sleep(WINDOW);
        assert!(policy.allows(&[9; 32]), "a new window");
    }

    #[test]
    fn runs_that_fit_their_slice_are_not_limited() {
        let policy = InlinePolicy::default();
        for _ in 0..10_000 {
            policy.record(&[1; 32], Duration::from_micros(100), false);
        }
        assert!(policy.allows(&[1; 32]));
    }
}
