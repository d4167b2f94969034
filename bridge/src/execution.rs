//! One handler execution in its own instance: compile or load, run to the first suspension or
//! the end, resume, and turn whatever happened — a value, a thrown error, a trap — into a result.

use std::time::Instant;

use serde_json::json;
use wasmtime::{Store, Trap};

use crate::engine::SandboxEngine;
use crate::error::ErrorCode;
use crate::guest::{ErrorRecord, GuestExports, GuestStatus, HANDLER_FILENAME, WRAP_PREFIX_LEN};
use crate::guest_json::Json;
use crate::sched::{Bound, Budget};
use crate::state_view::{StateInput, StateView};
use crate::store::{CallLimits, ExtCall, HostFault, HostState};
use crate::types::{ErrorLocation, ExecutionContext, ExecutionMetrics, HandlerError, ResumeValue};

/// How one run of the guest ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Done(Option<Json>),
    Suspended(ExtCall),
    Failed(HandlerError),
}

pub struct Execution {
    store: Store<HostState>,
    guest: GuestExports,
    /// `timeoutMs` of CPU time across all its segments, `executionDeadlineMs` of wall time from
    /// its start (sched/budget.rs).
    budget: Budget,
    /// Set while compiling: a TIMEOUT then says so.
    compiling: bool,
    /// `$ext` calls the handler suspended on so far.
    pub suspensions: u32,
    /// Which handler runs (its bytecode's hash), for the caller-thread policy.
    pub handler_key: [u8; 32],
    pub cache_hit: bool,
    pub compilation_time_us: u64,
    /// Set once the instance trapped or finished: it must not run again.
    spent: bool,
}

impl Execution {
    /// A fresh instance of the pre-initialised guest for one handler.
    pub fn new(
        engine: &SandboxEngine,
        ctx: ExecutionContext,
        limits: CallLimits,
        memory_limit_bytes: u64,
        timeout_ms: u64,
        deadline_ms: u64,
    ) -> wasmtime::Result<Self> {
        let host = HostState::new(ctx, limits, memory_limit_bytes as usize)
            .map_err(wasmtime::Error::msg)?;
        let mut store = Store::new(&engine.engine, host);
        store.limiter(|state| &mut state.limiter);
        // Every tick checks the segment's clock (sched::EpochClock): its CPU budget, its
        // deadline and its slice.
        store.epoch_deadline_callback(|mut context| Ok(context.data_mut().clock.tick()));
        store.set_epoch_deadline(1);
        let instance = engine.pre.instantiate(&mut store)?;
        let guest = GuestExports::new(&mut store, &instance)?;
        let size = guest.memory.data_size(&store);
        let state = store.data_mut();
        state.memory = Some(guest.memory);
        state.limiter.current_bytes = size;
        state.limiter.peak_bytes = size;
        Ok(Execution {
            store,
            guest,
            budget: Budget::new(timeout_ms, deadline_ms),
            compiling: false,
            suspensions: 0,
            handler_key: [0; 32],
            cache_hit: false,
            compilation_time_us: 0,
            spent: false,
        })
    }

    /// Compiles handler source to QuickJS bytecode in this instance (synchronously: compiling is
    /// never sliced). It gets a CPU budget of its own (`timeoutMs`) within the deadline.
    pub fn compile(&mut self, source: &str) -> Result<Vec<u8>, HandlerError> {
        self.budget.arm_compile(&mut self.store.data_mut().clock);
        self.store.set_epoch_deadline(1);
        self.compiling = true;
        let status = self.guest.compile(&mut self.store, source.as_bytes());
        let status = self.status(status);
        self.compiling = false;
        let time = self.store.data_mut().clock.stop();
        self.budget.spend_compiling(time);
        self.compilation_time_us = self.budget.compiling().running.as_micros() as u64;
        match status.map_err(too_deep_to_compile)? {
            GuestStatus::Compiled => self
                .guest
                .output(&mut self.store)
                .map_err(|e| self.trapped(e)),
            GuestStatus::SyntaxError => Err(self.error_from_output(ErrorCode::CompilationError)),
            other => Err(HandlerError::new(
                ErrorCode::InternalError,
                format!("unexpected guest status {other:?}"),
            )),
        }
    }

    /// Prepares the next segment's clock on this thread (where it starts); Err when a bound is
    /// spent already. The budget spans every segment: what the earlier ones used is gone.
    fn arm(&mut self, sliced: bool) -> Result<(), Segment> {
        if let Err(error) = self.budget.arm(&mut self.store.data_mut().clock, sliced) {
            self.spent = true;
            return Err(Segment::Failed(error));
        }
        self.store.set_epoch_deadline(1);
        Ok(())
    }

    /// Adds what the segment that just ended took (read on the thread where it ended).
    fn account(&mut self) {
        let time = self.store.data_mut().clock.stop();
        self.budget.spend(time);
    }

    /// When the execution must have ended: `executionDeadlineMs` after it started.
    pub fn deadline(&self) -> Instant {
        self.budget.deadline()
    }

    /// Runs the handler from the start; `context_json` is {"args", "scope", "ext"}. With
    /// `sliced`, the run yields at the first epoch tick (the caller moves it to another thread).
    pub async fn start(
        mut self,
        bytecode: Vec<u8>,
        context_json: Vec<u8>,
        sliced: bool,
    ) -> (Self, Segment) {
        if let Err(segment) = self.arm(sliced) {
            return (self, segment);
        }
        let status = self
            .guest
            .run(&mut self.store, &bytecode, &context_json)
            .await;
        self.account();
        let segment = self.segment(status);
        (self, segment)
    }

    /// Settles the `$ext` call the handler is suspended on and runs it on. With `state`, the
    /// handler's `$state` reads see that snapshot (the panel's latest state) from now on.
    pub async fn resume(
        mut self,
        value: ResumeValue,
        state: Option<StateInput>,
        sliced: bool,
    ) -> (Self, Segment) {
        let segment = self.resume_segment(&value, state, sliced).await;
        (self, segment)
    }

    async fn resume_segment(
        &mut self,
        value: &ResumeValue,
        state: Option<StateInput>,
        sliced: bool,
    ) -> Segment {
        if self.spent {
            return Segment::Failed(HandlerError::new(
                ErrorCode::InternalError,
                "the instance has already finished",
            ));
        }
        if let Some(state) = state {
            match StateView::new(state) {
                Ok(view) => self.store.data_mut().state = view,
                Err(message) => {
                    self.spent = true;
                    return Segment::Failed(HandlerError::new(ErrorCode::InternalError, message));
                }
            }
        }
        self.store.data_mut().pending_ext.pop_front();
        // The budget spans every segment: a resumed handler runs on what its earlier ones left.
        if let Err(segment) = self.arm(sliced) {
            return segment;
        }
        let (ok, payload) = match value {
            ResumeValue::Success(value) => (
                true,
                value
                    .as_ref()
                    .map(|v| serde_json::to_vec(v).expect("JSON values serialise")),
            ),
            ResumeValue::SuccessJson(text) => match crate::guest_json::check_passable(text) {
                Ok(()) => (true, Some(text.clone())),
                // The handler gets a catchable error, as for any failed extension call.
                Err(reason) => (
                    false,
                    Some(
                        format!(
                            "the extension's result cannot be passed to the handler: it is {reason}"
                        )
                        .into_bytes(),
                    ),
                ),
            },
            ResumeValue::Failure(message) => (false, Some(message.clone().into_bytes())),
        };
        let status = self
            .guest
            .resume(&mut self.store, ok, payload.as_deref())
            .await;
        self.account();
        self.segment(status)
    }

    pub fn state(&self) -> &HostState {
        self.store.data()
    }

    pub fn memory_bytes(&self) -> u64 {
        self.store.data().limiter.current_bytes as u64
    }

    pub fn metrics(&self) -> ExecutionMetrics {
        let state = self.store.data();
        let time = self.budget.total();
        ExecutionMetrics {
            duration_us: time.running.as_micros() as u64,
            cpu_time_us: time.cpu.as_micros() as u64,
            memory_used_bytes: state.limiter.current_bytes as u64,
            memory_peak_bytes: state.limiter.peak_bytes as u64,
            host_calls: state.host_calls,
            cache_hit: self.cache_hit,
            compilation_time_us: self.compilation_time_us,
        }
    }

    fn segment(&mut self, status: wasmtime::Result<i32>) -> Segment {
        let status = match self.status(status) {
            Ok(status) => status,
            Err(error) => return Segment::Failed(error),
        };
        match status {
            GuestStatus::Done => {
                self.spent = true;
                match self.return_value() {
                    Ok(value) => Segment::Done(value),
                    Err(error) => Segment::Failed(error),
                }
            }
            GuestStatus::Suspended => match self.store.data().pending_ext.front() {
                Some(call) => Segment::Suspended(call.clone()),
                None => {
                    self.spent = true;
                    Segment::Failed(HandlerError::new(
                        ErrorCode::InternalError,
                        "suspended without a pending $ext call",
                    ))
                }
            },
            GuestStatus::Threw => {
                self.spent = true;
                Segment::Failed(self.error_from_output(ErrorCode::ExecutionError))
            }
            GuestStatus::SyntaxError => {
                self.spent = true;
                Segment::Failed(self.error_from_output(ErrorCode::CompilationError))
            }
            GuestStatus::BadBytecode => {
                self.spent = true;
                let mut error = self.error_from_output(ErrorCode::InvalidHandler);
                error.message = format!("the bytecode cannot be loaded: {}", error.message);
                Segment::Failed(error)
            }
            GuestStatus::Compiled => {
                self.spent = true;
                Segment::Failed(HandlerError::new(
                    ErrorCode::InternalError,
                    "unexpected guest status",
                ))
            }
        }
    }

    fn status(&mut self, status: wasmtime::Result<i32>) -> Result<GuestStatus, HandlerError> {
        match status {
            Ok(code) => GuestStatus::from_code(code).ok_or_else(|| {
                self.spent = true;
                HandlerError::new(
                    ErrorCode::InternalError,
                    format!("the guest returned unknown status {code}"),
                )
            }),
            Err(error) => Err(self.trapped(error)),
        }
    }

    /// The return value's JSON text, counted against the same value budget as everything else
    /// the handler handed over (before it is copied out of the guest).
    fn return_value(&mut self) -> Result<Option<Json>, HandlerError> {
        let len = self
            .guest
            .output_len(&mut self.store)
            .map_err(|e| self.trapped(e))?;
        if len == 0 {
            return Ok(None);
        }
        self.store
            .data_mut()
            .record_bytes(len)
            .map_err(|fault| HandlerError::new(ErrorCode::ResourceLimit, fault.to_string()))?;
        let output = self
            .guest
            .output(&mut self.store)
            .map_err(|e| self.trapped(e))?;
        Json::from_guest(&output).map(Some).map_err(|e| {
            HandlerError::new(
                ErrorCode::ResourceLimit,
                format!("the return value cannot be accepted: it is {e}"),
            )
        })
    }

    fn error_from_output(&mut self, code: ErrorCode) -> HandlerError {
        let output = match self.guest.output(&mut self.store) {
            Ok(output) => output,
            Err(error) => return self.trapped(error),
        };
        handler_error(code, &ErrorRecord::parse(&output))
    }

    /// A trap ends the instance; its cause decides the error code.
    fn trapped(&mut self, error: wasmtime::Error) -> HandlerError {
        self.spent = true;
        let state = self.store.data();
        let bound = state.clock.hit().unwrap_or(Bound::Cpu);
        let interrupted = self.budget.exceeded(bound, self.compiling);
        classify_trap(&error, interrupted, state.limiter.refused)
    }
}

/// A handler whose source nests so deeply that QuickJS's recursive parser runs out of stack is
/// a source the sandbox cannot compile: a COMPILATION_ERROR, like any other it refuses.
fn too_deep_to_compile(error: HandlerError) -> HandlerError {
    match error.code {
        ErrorCode::StackOverflow => HandlerError::new(
            ErrorCode::CompilationError,
            "the handler's source nests too deeply to compile: its parentheses, brackets, braces or template literals are nested thousands of levels deep, beyond what the parser's stack holds",
        ),
        _ => error,
    }
}

/// The error a trap stands for; `interrupted` is the TIMEOUT an epoch interrupt means (which
/// bound the clock found spent).
pub fn classify_trap(
    error: &wasmtime::Error,
    interrupted: HandlerError,
    memory_refused: bool,
) -> HandlerError {
    if let Some(fault) = error.downcast_ref::<HostFault>() {
        let code = match fault {
            HostFault::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            HostFault::ResourceLimit(_) => ErrorCode::ResourceLimit,
            HostFault::OutOfMemory => ErrorCode::MemoryLimit,
            HostFault::Guest(_) => ErrorCode::InternalError,
        };
        let message = match fault {
            HostFault::OutOfMemory => "the handler exceeded its memory limit".to_string(),
            other => other.to_string(),
        };
        return HandlerError::new(code, message);
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => interrupted,
            // The guest's C stack sits at the bottom of linear memory: overflowing it leaves memory.
            Trap::StackOverflow | Trap::MemoryOutOfBounds => HandlerError::new(
                ErrorCode::StackOverflow,
                "the handler exhausted the stack (recursion too deep)",
            ),
            _ if memory_refused => HandlerError::new(
                ErrorCode::MemoryLimit,
                "the handler exceeded its memory limit",
            ),
            other => HandlerError::new(
                ErrorCode::InternalError,
                format!("the sandbox trapped: {other}"),
            ),
        };
    }
    if memory_refused {
        return HandlerError::new(
            ErrorCode::MemoryLimit,
            "the handler exceeded its memory limit",
        );
    }
    // The outermost context is only "error while executing at wasm backtrace": name the cause.
    tracing::warn!(error = format!("{error:?}"), "the sandbox failed");
    HandlerError::new(
        ErrorCode::InternalError,
        format!("the sandbox failed: {}", error.root_cause()),
    )
}

/// Builds the error a handler sees from the guest's record, with the location in the handler's
/// own source and the stack's columns on line 1 corrected for the wrapper.
pub fn handler_error(code: ErrorCode, record: &ErrorRecord) -> HandlerError {
    let (stack, location) = fix_locations(&record.stack);
    HandlerError {
        code,
        message: record.describe(),
        stack: if stack.is_empty() { None } else { Some(stack) },
        location,
    }
}

/// Rewrites every `handler.js:L:C` in `stack`, returning the first as the error's location.
pub fn fix_locations(stack: &str) -> (String, Option<ErrorLocation>) {
    let marker = format!("{HANDLER_FILENAME}:");
    let mut out = String::with_capacity(stack.len());
    let mut first = None;
    let mut rest = stack;
    while let Some(at) = rest.find(&marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let (line, tail) = leading_number(after);
        let parsed = line.and_then(|line| {
            let tail = tail.strip_prefix(':')?;
            let (column, tail) = leading_number(tail);
            Some((line, column?, tail))
        });
        match parsed {
            Some((line, column, tail)) => {
                let column = if line == 1 {
                    column.saturating_sub(WRAP_PREFIX_LEN).max(1)
                } else {
                    column
                };
                first.get_or_insert(ErrorLocation { line, column });
                out.push_str(&format!("{line}:{column}"));
                rest = tail;
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    (out, first)
}

fn leading_number(text: &str) -> (Option<u32>, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    (text[..end].parse().ok(), &text[end..])
}

/// The JSON context the guest's nx_run takes: {"args", "scope", "ext"}. Arguments given as JSON
/// text are spliced in as they are, once checked.
pub fn context_json(ctx: &ExecutionContext) -> Result<Vec<u8>, HandlerError> {
    let rest = serde_json::to_vec(&json!({
        "scope": ctx.scope,
        "ext": ctx.extension_registry,
    }))
    .expect("JSON values serialise");
    let args = match &ctx.args_json {
        Some(text) => {
            crate::guest_json::check_passable(text).map_err(|reason| {
                HandlerError::new(
                    ErrorCode::ResourceLimit,
                    format!("the arguments cannot be passed to the handler: they are {reason}"),
                )
            })?;
            text.clone()
        }
        None => serde_json::to_vec(&ctx.args).expect("JSON values serialise"),
    };
    let mut out = Vec::with_capacity(args.len() + rest.len() + 10);
    out.extend_from_slice(b"{\"args\":");
    out.extend_from_slice(&args);
    out.push(b',');
    out.extend_from_slice(&rest[1..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_on_the_first_line_lose_the_wrapper() {
        let (stack, location) =
            fix_locations("    at <anonymous> (handler.js:1:26)\n    at f (handler.js:3:7)\n");
        assert_eq!(location, Some(ErrorLocation { line: 1, column: 7 }));
        assert_eq!(
            stack,
            "    at <anonymous> (handler.js:1:7)\n    at f (handler.js:3:7)\n"
        );
    }

    #[test]
    fn stacks_without_handler_frames_have_no_location() {
        let (stack, location) = fix_locations("    at JSON.parse (native)\n");
        assert_eq!(location, None);
        assert_eq!(stack, "    at JSON.parse (native)\n");
    }

    #[test]
    fn traps_map_to_error_codes() {
        let budget = || crate::sched::budget::cpu_exceeded(50, false);
        let timeout = classify_trap(&wasmtime::Error::new(Trap::Interrupt), budget(), false);
        assert_eq!(timeout.code, ErrorCode::Timeout);
        assert!(timeout.message.contains("50 ms of CPU time"));
        let stack = classify_trap(&wasmtime::Error::new(Trap::StackOverflow), budget(), false);
        assert_eq!(stack.code, ErrorCode::StackOverflow);
        let denied = classify_trap(
            &wasmtime::Error::new(HostFault::PermissionDenied {
                token: "ext:http".into(),
                action: "calling".into(),
            }),
            budget(),
            false,
        );
        assert_eq!(denied.code, ErrorCode::PermissionDenied);
        assert!(denied.message.contains("\"ext:http\""));
        let oom = classify_trap(
            &wasmtime::Error::new(HostFault::OutOfMemory),
            budget(),
            true,
        );
        assert_eq!(oom.code, ErrorCode::MemoryLimit);
    }
}
