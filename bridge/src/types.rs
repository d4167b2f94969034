//! What goes into an execution and what comes out: plain Rust, converted for JavaScript by the
//! napi layer (`node.rs`).

use std::collections::HashMap;

use serde_json::Value;

use crate::error::ErrorCode;
pub use crate::guest_json::Json;

/// Who runs, with what, allowed to do what.
#[derive(Debug, Clone, Default)]
pub struct ExecutionContext {
    pub panel_id: String,
    pub handler_name: String,
    pub state: crate::state_view::StateInput,
    pub args: Value,
    /// The arguments as JSON text; when set, `args` is ignored.
    pub args_json: Option<Vec<u8>>,
    pub capabilities: Vec<String>,
    pub scope: Option<Value>,
    pub extension_registry: HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    Success,
    Error,
    Suspended,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Success => "success",
            ExecutionStatus::Error => "error",
            ExecutionStatus::Suspended => "suspended",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationOperation {
    Set,
    Delete,
}

impl MutationOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            MutationOperation::Set => "set",
            MutationOperation::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateMutation {
    pub key: String,
    /// `None` for deletes and for `$state.x = undefined`.
    pub value: Option<Json>,
    pub operation: MutationOperation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmittedEvent {
    pub name: String,
    pub payload: Option<Json>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ViewCommand {
    pub kind: String,
    pub component_id: Option<String>,
    pub args: Option<Json>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suspension {
    pub suspension_id: String,
    pub extension_name: String,
    pub method: String,
    /// The JSON text of the arguments' array.
    pub args: Json,
}

/// 1-based, in the handler's own source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorLocation {
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandlerError {
    pub code: ErrorCode,
    pub message: String,
    pub stack: Option<String>,
    pub location: Option<ErrorLocation>,
}

impl HandlerError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HandlerError {
            code,
            message: message.into(),
            stack: None,
            location: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The guest's level number (prelude.js): 0 debug, 1 info, 2 warn, 3 error.
    pub fn from_guest(level: i32) -> Self {
        match level {
            0 => LogLevel::Debug,
            2 => LogLevel::Warn,
            3 => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// A line of the handler's output (`console.*`, `$log`), or one the host adds: the marker of
/// dropped lines, and the error that ended the execution.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
    /// Milliseconds since the execution started (wall time, suspensions included).
    pub at_ms: u64,
    /// Where in the handler's source, for the line of an uncaught error.
    pub location: Option<ErrorLocation>,
}

impl LogLine {
    /// The line that reports the error ending an execution.
    pub fn from_error(error: &HandlerError, at_ms: u64) -> Self {
        LogLine {
            level: LogLevel::Error,
            message: error.message.clone(),
            at_ms,
            location: error.location,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionMetrics {
    /// Wall time the handler ran (its compilation included), without the time it was parked or
    /// waited for a bridge thread; a busy machine stretches it.
    pub duration_us: u64,
    /// CPU time it ran, on every thread (its compilation included): what `timeoutMs` limits.
    pub cpu_time_us: u64,
    pub memory_used_bytes: u64,
    pub memory_peak_bytes: u64,
    pub host_calls: u32,
    pub cache_hit: bool,
    pub compilation_time_us: u64,
}

/// The outcome of executeHandler, executeCompiledHandler or resumeHandler. Mutations, events and
/// view commands and log lines are those recorded since the previous result of the same
/// execution (deltas), in order; metrics are cumulative over the execution. Values are JSON text, shared with the
/// instance that recorded them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionResult {
    pub status: ExecutionStatus,
    pub return_value: Option<Json>,
    pub state_mutations: Vec<StateMutation>,
    pub events: Vec<EmittedEvent>,
    pub view_commands: Vec<ViewCommand>,
    pub suspension: Option<Suspension>,
    pub error: Option<HandlerError>,
    pub metrics: ExecutionMetrics,
    /// The handler's log lines, then the host's: a marker when lines were dropped beyond
    /// `limits::LOGS`, and the error's message and location when the segment failed.
    pub logs: Vec<LogLine>,
}

/// How a suspended `$ext` call ends.
#[derive(Debug, Clone, PartialEq)]
pub enum ResumeValue {
    Success(Option<Value>),
    /// The value as JSON text, checked and parsed on a bridge thread (and by the guest).
    SuccessJson(Vec<u8>),
    Failure(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeStats {
    pub total_executions: u64,
    pub successful_executions: u64,
    pub failed_executions: u64,
    pub suspended_executions: u64,
    pub active_instances: u32,
    pub available_instances: u32,
    pub suspended_instances: u32,
    pub max_instances: u32,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_hit_rate: f64,
    pub average_duration_us: f64,
    pub memory_in_use_bytes: u64,
}
