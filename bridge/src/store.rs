//! The state one execution's `Store` carries: what the handler may do, what it has done, and the
//! limits it runs under. Host functions (`host/`) reach it through `Caller`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::Instant;

use wasmtime::{Memory, ResourceLimiter};

use crate::capabilities::Capabilities;
use crate::guest_json::Json;
use crate::limits::LOGS;
use crate::sched::EpochClock;
use crate::state_view::StateView;
use crate::types::{EmittedEvent, ExecutionContext, LogLine, StateMutation, ViewCommand};

/// Per-execution counters' ceilings.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub max_host_calls: u32,
    pub max_state_mutations: u32,
    pub max_events: u32,
    /// `maxValueBytes`: every byte the handler hands to the host in one execution — state
    /// writes, event payloads, view command arguments, `$ext` arguments, names and keys, and the
    /// return value — counted once, as the JSON text its JSON.stringify made (shared references
    /// expanded). The host holds that text and nothing bigger, so this bounds what an execution
    /// can make the Node process hold.
    pub max_value_bytes: usize,
    /// `maxEventBytes`: the bytes of event names and payloads one execution may emit, each event
    /// counting `EVENT_FRAMING_BYTES` more for its frame (the names and payloads also count in
    /// `max_value_bytes`); every subscriber of the panel receives them.
    pub max_event_bytes: usize,
}

/// A `$ext` call waiting for the host.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtCall {
    pub extension: String,
    pub method: String,
    /// The arguments as the JSON text of an array.
    pub args: Json,
}

/// Why a host call ended the execution. Raised as a wasm trap: the handler cannot catch it.
#[derive(Debug, Clone, PartialEq)]
pub enum HostFault {
    PermissionDenied {
        token: String,
        action: String,
    },
    ResourceLimit(String),
    OutOfMemory,
    /// The guest broke the ABI (out-of-bounds pointer, invalid UTF-8 or JSON).
    Guest(String),
}

impl fmt::Display for HostFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostFault::PermissionDenied { token, action } => {
                write!(
                    f,
                    "permission denied: {action} needs capability \"{token}\""
                )
            }
            HostFault::ResourceLimit(message) => f.write_str(message),
            HostFault::OutOfMemory => f.write_str("the handler ran out of memory"),
            HostFault::Guest(message) => {
                write!(f, "the sandbox broke its host interface: {message}")
            }
        }
    }
}

impl std::error::Error for HostFault {}

/// Caps linear memory growth and remembers the peak.
#[derive(Debug, Clone)]
pub struct MemoryLimiter {
    pub limit_bytes: usize,
    pub current_bytes: usize,
    pub peak_bytes: usize,
    pub refused: bool,
}

impl MemoryLimiter {
    pub fn new(limit_bytes: usize) -> Self {
        MemoryLimiter {
            limit_bytes,
            current_bytes: 0,
            peak_bytes: 0,
            refused: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit_bytes {
            self.refused = true;
            return Ok(false);
        }
        self.current_bytes = desired.max(current);
        self.peak_bytes = self.peak_bytes.max(self.current_bytes);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Everything an execution's store holds.
pub struct HostState {
    pub memory: Option<Memory>,
    pub limiter: MemoryLimiter,
    pub capabilities: Capabilities,
    pub state: StateView,
    pub registry: HashMap<String, Vec<String>>,
    pub limits: CallLimits,
    pub panel_id: String,
    pub handler_name: String,

    pub host_calls: u32,
    pub recorded_bytes: usize,
    pub event_bytes: usize,
    pub mutations: Vec<StateMutation>,
    pub events: Vec<EmittedEvent>,
    pub view_commands: Vec<ViewCommand>,
    /// The log lines kept (within `limits::LOGS`), their message bytes, and how many were dropped.
    pub logs: Vec<LogLine>,
    pub log_bytes: usize,
    pub logs_dropped: u32,
    /// When the execution started: log lines say how long after.
    pub started: Instant,
    pub pending_ext: VecDeque<ExtCall>,
    /// The answer to the last state_get / state_keys, read by the guest with response_read.
    pub response: Vec<u8>,
    /// The running segment's clock, checked at every epoch tick (sched/clock.rs).
    pub clock: EpochClock,
}

impl HostState {
    /// Fails when the context's state snapshot cannot be read.
    pub fn new(
        ctx: ExecutionContext,
        limits: CallLimits,
        memory_limit_bytes: usize,
    ) -> Result<Self, String> {
        Ok(HostState {
            memory: None,
            limiter: MemoryLimiter::new(memory_limit_bytes),
            capabilities: Capabilities::new(ctx.capabilities),
            state: StateView::new(ctx.state)?,
            registry: ctx.extension_registry,
            limits,
            panel_id: ctx.panel_id,
            handler_name: ctx.handler_name,
            host_calls: 0,
            recorded_bytes: 0,
            event_bytes: 0,
            mutations: Vec::new(),
            events: Vec::new(),
            view_commands: Vec::new(),
            logs: Vec::new(),
            log_bytes: 0,
            logs_dropped: 0,
            started: Instant::now(),
            pending_ext: VecDeque::new(),
            response: Vec::new(),
            clock: EpochClock::default(),
        })
    }

    /// For pre-initialisation and compilation: no capabilities, no handler.
    pub fn unprivileged(memory_limit_bytes: usize) -> Self {
        let limits = CallLimits {
            max_host_calls: 0,
            max_state_mutations: 0,
            max_events: 0,
            max_value_bytes: 0,
            max_event_bytes: 0,
        };
        HostState::new(ExecutionContext::default(), limits, memory_limit_bytes)
            .expect("an empty state is readable")
    }

    /// Counts one host call against maxHostCalls.
    pub fn count_call(&mut self) -> Result<(), HostFault> {
        if self.host_calls >= self.limits.max_host_calls {
            return Err(HostFault::ResourceLimit(format!(
                "the handler made more than {} host calls (maxHostCalls)",
                self.limits.max_host_calls
            )));
        }
        self.host_calls += 1;
        Ok(())
    }

    /// Accounts for `bytes` handed to the host, before they are copied out of the guest.
    pub fn record_bytes(&mut self, bytes: usize) -> Result<(), HostFault> {
        let total = self.recorded_bytes.saturating_add(bytes);
        if total > self.limits.max_value_bytes {
            return Err(HostFault::ResourceLimit(format!(
                "the handler handed {total} bytes of values to the host, more than the {}-byte budget of one execution (maxValueBytes)",
                self.limits.max_value_bytes
            )));
        }
        self.recorded_bytes = total;
        Ok(())
    }

    /// Whether a log line of `bytes` is kept: within `limits::LOGS` (and nothing dropped before
    /// it, so the kept lines are a prefix and the marker comes last), its bytes counted against
    /// the value budget. A line beyond the bounds is counted as dropped, not refused.
    pub fn admit_log(&mut self, bytes: usize) -> Result<bool, HostFault> {
        if self.logs_dropped > 0
            || self.logs.len() >= LOGS.max_lines
            || self.log_bytes.saturating_add(bytes) > LOGS.max_bytes
        {
            self.logs_dropped = self.logs_dropped.saturating_add(1);
            return Ok(false);
        }
        self.record_bytes(bytes)?;
        self.log_bytes += bytes;
        Ok(true)
    }

    /// Milliseconds since the execution started.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Accounts for an emitted event's name and payload against `maxEventBytes`.
    pub fn record_event_bytes(&mut self, bytes: usize) -> Result<(), HostFault> {
        let total = self.event_bytes.saturating_add(bytes);
        if total > self.limits.max_event_bytes {
            return Err(HostFault::ResourceLimit(format!(
                "the handler emitted {total} bytes of events, more than the {}-byte limit of one execution (maxEventBytes)",
                self.limits.max_event_bytes
            )));
        }
        self.event_bytes = total;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_calls_beyond_the_limit_fail() {
        let mut state = HostState::unprivileged(1 << 20);
        state.limits.max_host_calls = 2;
        assert!(state.count_call().is_ok());
        assert!(state.count_call().is_ok());
        assert!(matches!(
            state.count_call(),
            Err(HostFault::ResourceLimit(_))
        ));
    }

    #[test]
    fn the_limiter_refuses_growth_past_the_cap_and_tracks_the_peak() {
        let mut limiter = MemoryLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 1 << 19, None).unwrap());
        assert!(
            !limiter
                .memory_growing(1 << 19, (1 << 20) + 1, None)
                .unwrap()
        );
        assert!(limiter.refused);
        assert_eq!(limiter.peak_bytes, 1 << 19);
    }
}
