//! Driving a segment's future. The only time it is pending is when the segment yields at an epoch
//! tick (its slice on the caller's thread is over), so polling again at once continues it: no
//! waker, no executor, no runtime. On the caller's thread it is polled once; what is left runs to
//! completion on a bridge thread, where it stopped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::policy::InlinePolicy;
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

/// Runs a segment of handler `key` on the caller's thread for at most its slice (the caller asked
/// `policy` first; `started` is when the call began, set-up included). Ok when it finished there;
/// Err with what is left, to be finished on a bridge thread. The policy learns how it went.
pub fn on_caller(
    policy: &InlinePolicy,
    key: &[u8; 32],
    started: Instant,
    mut run: Run,
) -> Result<(Execution, Segment), Run> {
    let finished = poll_once(&mut run);
    policy.record(key, started.elapsed(), finished.is_none());
    finished.ok_or(run)
}
