//! Which calls may start on the caller's thread (Node's event loop). Each run there ends within
//! its slice, but many runs, or runs of handlers known to outlive it, would still hold the event
//! loop: the policy bounds the caller's thread's share of time in the sandbox, on the wall clock
//! (that is what the event loop waits in), and sends handlers that outlived their slice to bridge
//! threads for a while.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::SLICE;

/// Runs on the caller's thread that had to move on (they held it for a whole slice) may take at
/// most `BUDGET` of any `WINDOW`: a burst of long or unknown handlers cannot hold Node's event
/// loop. A handler whose last run fitted its slice is not held back by that budget (it would
/// otherwise queue behind the long ones). While a bridge thread is idle, all runs on the caller's
/// thread together take at most `SHARE` of it: when calls come faster than one thread executes
/// them, the rest go to the idle threads, so a busy process uses every core. (With every bridge
/// thread busy the caller's thread is the quickest way through: each run still ends within its
/// slice.)
/// In slices, so they scale with it: a 10 ms window, 1 ms for runs that moved on (four of them), and
/// half of the window while a bridge thread is idle.
const WINDOW: Duration = SLICE.saturating_mul(40);
const BUDGET: Duration = SLICE.saturating_mul(4);
const SHARE: Duration = SLICE.saturating_mul(20);
/// A handler (by bytecode hash) that outlived its slice goes to bridge threads for a while,
/// doubling each time it does so again; the newest handlers are remembered.
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
    /// In this window: by runs that moved on, and by all runs on the caller's thread.
    spent: Duration,
    spent_inline: Duration,
    handlers: HashMap<[u8; 32], Handler>,
    order: VecDeque<[u8; 32]>,
}

/// What the policy remembers of one handler.
#[derive(Clone, Copy, Default)]
struct Handler {
    /// Its last run on the caller's thread fitted its slice.
    fits: bool,
    penalty: Option<Penalty>,
}

#[derive(Clone, Copy)]
struct Penalty {
    until: Instant,
    length: Duration,
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
            self.spent_inline = Duration::ZERO;
        }
    }

    fn handler(&mut self, key: &[u8; 32]) -> &mut Handler {
        if !self.handlers.contains_key(key) {
            self.order.push_back(*key);
            while self.order.len() > REMEMBERED {
                if let Some(oldest) = self.order.pop_front() {
                    self.handlers.remove(&oldest);
                }
            }
        }
        self.handlers.entry(*key).or_default()
    }
}

impl InlinePolicy {
    /// Whether a handler may start on the caller's thread now; `idle_thread` when a bridge thread
    /// waits for work.
    pub fn allows(&self, key: &[u8; 32], idle_thread: bool) -> bool {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        state.roll_window(now);
        if idle_thread && state.spent_inline >= SHARE {
            return false;
        }
        match state.handlers.get(key) {
            Some(handler) if handler.penalty.is_some_and(|p| p.until > now) => false,
            Some(handler) if handler.fits => true,
            _ => state.spent < BUDGET,
        }
    }

    /// Accounts for a run on the caller's thread: `moved` when it outlived its slice.
    pub fn record(&self, key: &[u8; 32], spent: Duration, moved: bool) {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        state.roll_window(now);
        state.spent_inline += spent;
        if moved {
            state.spent += spent;
        }
        let handler = state.handler(key);
        handler.fits = !moved;
        if !moved {
            if let Some(penalty) = &mut handler.penalty {
                penalty.length = FIRST_PENALTY;
            }
            return;
        }
        let length = handler.penalty.map_or(FIRST_PENALTY, |previous| {
            (previous.length * 2).min(MAX_PENALTY)
        });
        handler.penalty = Some(Penalty {
            until: now + length,
            length,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handler_that_outlives_its_slice_waits_longer_each_time() {
        let policy = InlinePolicy::default();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(policy.allows(&a, true));
        policy.record(&a, Duration::from_micros(300), true);
        assert!(!policy.allows(&a, true), "penalised");
        assert!(policy.allows(&b, true), "another handler is not");
        std::thread::sleep(FIRST_PENALTY + WINDOW);
        assert!(policy.allows(&a, true), "the penalty is over");
        policy.record(&a, Duration::from_micros(300), true);
        std::thread::sleep(FIRST_PENALTY + WINDOW);
        assert!(
            !policy.allows(&a, true),
            "the second penalty is twice as long"
        );
    }

    #[test]
    fn runs_that_moved_use_up_the_window() {
        let policy = InlinePolicy::default();
        for i in 0..4u8 {
            policy.record(&[i; 32], BUDGET / 4, true);
        }
        assert!(
            !policy.allows(&[9; 32], true),
            "the window's budget is spent"
        );
        std::thread::sleep(WINDOW);
        assert!(policy.allows(&[9; 32], true), "a new window");
    }

    #[test]
    fn runs_that_fit_their_slice_take_at_most_a_share_of_the_window() {
        let policy = InlinePolicy::default();
        for _ in 0..4 {
            policy.record(&[1; 32], SHARE / 5, false);
        }
        assert!(policy.allows(&[1; 32], true), "within its share");
        policy.record(&[1; 32], SHARE / 5, false);
        assert!(
            !policy.allows(&[1; 32], true),
            "the share is spent: to bridge threads"
        );
        std::thread::sleep(WINDOW);
        assert!(
            policy.allows(&[1; 32], true),
            "a new window, and no penalty"
        );
    }

    #[test]
    fn a_handler_that_fits_its_slice_is_not_held_back_by_long_ones() {
        let policy = InlinePolicy::default();
        let (short, long, unknown) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        policy.record(&short, Duration::from_micros(10), false);
        policy.record(&long, BUDGET, true);
        assert!(
            !policy.allows(&unknown, true),
            "the budget for unknown handlers is spent"
        );
        assert!(
            policy.allows(&short, true),
            "a known short handler still runs here"
        );
    }
}
