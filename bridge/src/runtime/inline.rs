//! Starting an execution on the caller's thread. A short handler (most of them) runs to its end or
//! its first `$ext` call right there, within its slice, and its result is ready when the call
//! returns: no hand-off to a bridge thread and back. One that outlives its slice yields and
//! continues on a bridge thread where it stopped, never restarted. Which calls may start here,
//! how long they run and how they are driven is the scheduler's (sched/: `InlinePolicy`,
//! `drive::on_caller`); this file wires it to slots, counters and replies.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Code, Inner, Parked, Reply, Reported, Runtime};
use crate::bytecode;
use crate::config;
use crate::error::ApiError;
use crate::pool::Slot;
use crate::sched::drive::{self, Run};
use crate::state_view::StateInput;
use crate::types::{ExecutionContext, ExecutionResult, ResumeValue};

/// How a call started on the caller's thread went. (Returned once per call and consumed at once:
/// boxing the result would cost the fast path an allocation for nothing.)
#[allow(clippy::large_enum_variant)]
pub enum Inline {
    /// Finished there: the result is ready.
    Done(ExecutionResult),
    /// The call is refused (a bad argument, an unknown suspension).
    Failed(ApiError),
    /// To be finished on a bridge thread: `then` replies when it is.
    Later(Box<Later>),
}

pub struct Later {
    inner: Arc<Inner>,
    work: Work,
}

// Lives inside the boxed `Later`: its variants' sizes cost nothing.
#[allow(clippy::large_enum_variant)]
enum Work {
    /// Not started: queued like any call (no free slot, a slow handler, the engine not ready).
    Queue {
        code: Code,
        ctx: ExecutionContext,
        timeout_ms: Option<f64>,
    },
    /// Started here and still running.
    Continue {
        run: Run,
        slot: Slot,
        since: Reported,
    },
    /// A parked execution taken for resuming on a bridge thread.
    Resume {
        parked: Box<Parked>,
        value: ResumeValue,
        state: Option<StateInput>,
    },
}

impl Later {
    /// Finishes the call on a bridge thread and replies there.
    pub fn then(self, reply: Reply<ExecutionResult>) {
        let Later { inner, work } = self;
        match work {
            Work::Queue {
                code,
                ctx,
                timeout_ms,
            } => inner.queue(code, ctx, timeout_ms, reply),
            Work::Continue { run, slot, since } => {
                let worker = inner.clone();
                inner.pool.submit(false, move |_| {
                    let (execution, segment) = drive::finish(run);
                    reply(Ok(worker.settle(execution, slot, segment, since)));
                });
            }
            Work::Resume {
                parked,
                value,
                state,
            } => {
                let worker = inner.clone();
                inner.pool.submit(false, move |_| {
                    let Parked {
                        execution,
                        slot,
                        reported,
                    } = *parked;
                    worker.running.fetch_add(1, Ordering::Relaxed);
                    let (execution, segment) =
                        drive::finish(Box::pin(execution.resume(value, state, false)));
                    reply(Ok(worker.settle(execution, slot, segment, reported)));
                });
            }
        }
    }
}

impl Runtime {
    /// Starts precompiled bytecode on this thread when it may, else queues it (see `Inline`).
    pub fn execute_compiled_inline(
        &self,
        envelope: Vec<u8>,
        ctx: ExecutionContext,
        timeout_ms: Option<f64>,
    ) -> Inline {
        let inner = &self.inner;
        let queue = |envelope, ctx| {
            Inline::Later(Box::new(Later {
                inner: inner.clone(),
                work: Work::Queue {
                    code: Code::Bytecode(envelope),
                    ctx,
                    timeout_ms,
                },
            }))
        };
        let (Some(Ok(engine)), Some(key)) = (inner.engine.get(), bytecode::checksum(&envelope))
        else {
            return queue(envelope, ctx);
        };
        if inner.is_shut_down() || !inner.inline.allows(&key, inner.pool.has_idle_worker()) {
            return queue(envelope, ctx);
        }
        let timeout_ms = match config::timeout_override(timeout_ms, inner.config.timeout_ms) {
            Ok(timeout) => timeout,
            Err(error) => return Inline::Failed(error),
        };
        let Some(slot) = inner.pool.try_take_slot() else {
            return queue(envelope, ctx);
        };
        inner.stats.started.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let run = match inner.prepare(engine, Code::Bytecode(envelope), ctx, timeout_ms, true) {
            Ok(run) => run,
            Err(result) => return Inline::Done(*result),
        };
        run_here(inner, &key, started, run, slot, Reported::default())
    }

    /// Resumes a parked execution on this thread when it may, else on a bridge thread.
    pub fn resume_inline(
        &self,
        suspension_id: &str,
        value: ResumeValue,
        state: Option<StateInput>,
    ) -> Inline {
        let inner = &self.inner;
        if inner.is_shut_down() {
            return Inline::Failed(ApiError::shut_down());
        }
        let parked = match inner.parking.lock().unwrap().take(suspension_id) {
            Ok(parked) => parked,
            Err(error) => return Inline::Failed(error),
        };
        let key = parked.execution.handler_key;
        if !inner.inline.allows(&key, inner.pool.has_idle_worker()) {
            return Inline::Later(Box::new(Later {
                inner: inner.clone(),
                work: Work::Resume {
                    parked: Box::new(parked),
                    value,
                    state,
                },
            }));
        }
        let Parked {
            execution,
            slot,
            reported,
        } = parked;
        inner.running.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let run: Run = Box::pin(execution.resume(value, state, true));
        run_here(inner, &key, started, run, slot, reported)
    }
}

/// Runs a started segment on this thread for its slice: done there, or handed on to a bridge
/// thread where it stopped. Either way the counters learn how it went.
fn run_here(
    inner: &Arc<Inner>,
    key: &[u8; 32],
    started: Instant,
    run: Run,
    slot: Slot,
    since: Reported,
) -> Inline {
    match drive::on_caller(&inner.inline, key, started, run) {
        Ok((execution, segment)) => {
            inner.stats.inline.fetch_add(1, Ordering::Relaxed);
            Inline::Done(inner.settle(execution, slot, segment, since))
        }
        Err(run) => {
            inner.stats.moved.fetch_add(1, Ordering::Relaxed);
            Inline::Later(Box::new(Later {
                inner: inner.clone(),
                work: Work::Continue { run, slot, since },
            }))
        }
    }
}

impl Inline {
    /// Replies through `reply` whichever way the call went (for callers without a fast path).
    pub fn reply(self, reply: Reply<ExecutionResult>) {
        match self {
            Inline::Done(result) => reply(Ok(result)),
            Inline::Failed(error) => reply(Err(error)),
            Inline::Later(later) => later.then(reply),
        }
    }
}
