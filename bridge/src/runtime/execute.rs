//! Running an execution segment and turning it into a result: compile or load, start or resume,
//! park on suspension. Results are deltas of what the execution recorded.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Code, Inner, Parked, Reported};
use crate::bytecode;
use crate::engine::SandboxEngine;
use crate::error::{ApiError, ApiErrorCode, ErrorCode};
use crate::execution::{Execution, Segment, context_json};
use crate::limits::LOGS;
use crate::pool::Slot;
use crate::sched::budget::deadline_passed;
use crate::sched::drive::{self, Run};
use crate::types::{
    ExecutionContext, ExecutionMetrics, ExecutionResult, ExecutionStatus, HandlerError, LogLevel,
    LogLine, Suspension,
};

impl Inner {
    pub(super) fn new_execution(
        &self,
        engine: &SandboxEngine,
        ctx: ExecutionContext,
        timeout_ms: u64,
    ) -> Result<Execution, HandlerError> {
        Execution::new(
            engine,
            ctx,
            self.limits,
            self.config.memory_limit_bytes,
            timeout_ms,
            self.config.execution_deadline_ms,
        )
        .map_err(|e| {
            HandlerError::new(
                ErrorCode::InternalError,
                format!("could not start a sandbox instance: {e}"),
            )
        })
    }

    /// Everything up to the start of the handler (instantiating, loading or compiling it) and the
    /// segment that runs it, not yet polled. Err is the result when it cannot even start.
    pub(super) fn prepare(
        &self,
        engine: &SandboxEngine,
        code: Code,
        ctx: ExecutionContext,
        timeout_ms: u64,
        sliced: bool,
    ) -> Result<Run, Box<ExecutionResult>> {
        let failed = |error| Box::new(self.failed_to_start(error));
        let context = context_json(&ctx).map_err(failed)?;
        let mut execution = self
            .new_execution(engine, ctx, timeout_ms)
            .map_err(failed)?;
        self.running.fetch_add(1, Ordering::Relaxed);
        let bytecode = match code {
            Code::Bytecode(envelope) => match bytecode::unwrap(&envelope) {
                Ok(payload) => {
                    execution.handler_key = bytecode::checksum(&envelope).unwrap_or_default();
                    Ok(payload.to_vec())
                }
                Err(reason) => Err(HandlerError::new(ErrorCode::InvalidHandler, reason)),
            },
            Code::Source(source) => {
                execution.handler_key = bytecode::source_key(&source);
                self.compile_cached(&mut execution, &source, true)
            }
        };
        Ok(match bytecode {
            Ok(bytecode) => Box::pin(execution.start(bytecode, context, sliced)),
            Err(error) => Box::pin(async move { (execution, Segment::Failed(error)) }),
        })
    }

    /// Runs a whole start on this (bridge) thread.
    pub(super) fn run(
        &self,
        engine: &SandboxEngine,
        slot: Slot,
        code: Code,
        ctx: ExecutionContext,
        timeout_ms: u64,
    ) -> ExecutionResult {
        match self.prepare(engine, code, ctx, timeout_ms, false) {
            Ok(run) => {
                let (execution, segment) = drive::finish(run);
                self.settle(execution, slot, segment, Reported::default())
            }
            Err(result) => *result,
        }
    }

    /// Compiled bytecode of `source`, from the cache or compiled now; `persist` also writes it to
    /// the disk cache (precompileHandler does not: its caller keeps the bytecode, and a source
    /// whose panel is then refused must not leave files behind).
    pub(super) fn compile_cached(
        &self,
        execution: &mut Execution,
        source: &str,
        persist: bool,
    ) -> Result<Vec<u8>, HandlerError> {
        let key = bytecode::source_key(source);
        if let Some(hit) = self.bytecode.get(&key) {
            self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            execution.cache_hit = true;
            return Ok(hit.as_ref().clone());
        }
        self.stats.cache_misses.fetch_add(1, Ordering::Relaxed);
        let compiled = execution.compile(source)?;
        self.bytecode.insert(key, compiled.clone(), persist);
        Ok(compiled)
    }

    pub(super) fn precompile(&self, source: &str) -> Result<Vec<u8>, ApiError> {
        let engine = self.engine()?;
        let mut execution = self
            .new_execution(engine, ExecutionContext::default(), self.config.timeout_ms)
            .map_err(internal)?;
        self.compile_cached(&mut execution, source, false)
            .map_err(|error| match error.code {
                ErrorCode::CompilationError => ApiError {
                    code: ApiErrorCode::CompilationError,
                    message: error.message,
                    location: error.location,
                },
                _ => internal(error),
            })
    }

    /// Turns a segment into a result carrying what happened since `since` (results are deltas);
    /// a suspended execution is parked with its slot.
    pub(super) fn settle(
        &self,
        execution: Execution,
        slot: Slot,
        segment: Segment,
        since: Reported,
    ) -> ExecutionResult {
        self.running.fetch_sub(1, Ordering::Relaxed);
        let state = execution.state();
        let mut result = ExecutionResult {
            status: ExecutionStatus::Success,
            return_value: None,
            state_mutations: state.mutations[since.mutations..].to_vec(),
            events: state.events[since.events..].to_vec(),
            view_commands: state.view_commands[since.view_commands..].to_vec(),
            suspension: None,
            error: None,
            metrics: execution.metrics(),
            logs: state.logs[since.logs..].to_vec(),
        };
        let reported = Reported {
            host_calls: state.host_calls,
            mutations: state.mutations.len(),
            events: state.events.len(),
            view_commands: state.view_commands.len(),
            logs: state.logs.len(),
            logs_dropped: state.logs_dropped,
        };
        let at_ms = state.elapsed_ms();
        if state.logs_dropped > since.logs_dropped {
            result.logs.push(dropped_marker(
                state.logs_dropped - since.logs_dropped,
                at_ms,
            ));
        }
        match segment {
            Segment::Done(value) => result.return_value = value,
            Segment::Failed(error) => {
                result.status = ExecutionStatus::Error;
                result.logs.push(LogLine::from_error(&error, at_ms));
                result.error = Some(error);
            }
            Segment::Suspended(call) => {
                let mut execution = execution;
                execution.suspensions += 1;
                let deadline = execution.deadline();
                if let Some(error) = self.refuse_suspension(&execution, deadline) {
                    // The instance is dropped here: its slot is free again.
                    result.status = ExecutionStatus::Error;
                    result.logs.push(LogLine::from_error(&error, at_ms));
                    result.error = Some(error);
                } else {
                    let suspension_id = self.new_suspension_id();
                    result.status = ExecutionStatus::Suspended;
                    result.suspension = Some(Suspension {
                        suspension_id: suspension_id.clone(),
                        extension_name: call.extension,
                        method: call.method,
                        args: call.args,
                    });
                    let parked = Parked {
                        execution,
                        slot,
                        reported,
                    };
                    if !self.is_shut_down() {
                        self.parking
                            .lock()
                            .unwrap()
                            .park(suspension_id, parked, deadline);
                    }
                }
            }
        }
        self.stats
            .record(&result, u64::from(reported.host_calls - since.host_calls));
        result
    }

    /// Why a handler may not park on another `$ext` call: too many already, or its wall-clock
    /// deadline has passed.
    fn refuse_suspension(&self, execution: &Execution, deadline: Instant) -> Option<HandlerError> {
        if execution.suspensions > self.config.max_suspensions {
            return Some(HandlerError::new(
                ErrorCode::ResourceLimit,
                format!(
                    "the handler made more than {} $ext calls (maxSuspensions)",
                    self.config.max_suspensions
                ),
            ));
        }
        (Instant::now() >= deadline).then(|| deadline_passed(self.config.execution_deadline_ms))
    }

    pub(super) fn failed_to_start(&self, error: HandlerError) -> ExecutionResult {
        let result = ExecutionResult {
            status: ExecutionStatus::Error,
            return_value: None,
            state_mutations: vec![],
            events: vec![],
            view_commands: vec![],
            suspension: None,
            logs: vec![LogLine::from_error(&error, 0)],
            error: Some(error),
            metrics: ExecutionMetrics::default(),
        };
        self.stats.record(&result, 0);
        result
    }
}

/// The line that ends a result whose execution dropped `count` lines since the previous one.
fn dropped_marker(count: u32, at_ms: u64) -> LogLine {
    LogLine {
        level: LogLevel::Warn,
        message: format!(
            "{count} more log lines were dropped: one execution keeps at most {} lines and {} bytes of them (maxLogLines, maxLogBytes)",
            LOGS.max_lines, LOGS.max_bytes
        ),
        at_ms,
        location: None,
    }
}

fn internal(error: HandlerError) -> ApiError {
    ApiError::new(ApiErrorCode::InternalError, error.message)
}
