//! The JavaScript-facing types (they generate index.d.ts) and their conversions to and from the
//! plain Rust types.

use std::collections::HashMap;

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::state_view::StateInput;
use crate::{config, types};

#[napi(string_enum)]
pub enum ExecutionStatus {
    #[napi(value = "success")]
    Success,
    #[napi(value = "error")]
    Error,
    #[napi(value = "suspended")]
    Suspended,
}

/// Why a handler failed (mirrors the crate-wide error code list).
#[napi(string_enum)]
pub enum ErrorCode {
    #[napi(value = "TIMEOUT")]
    Timeout,
    #[napi(value = "MEMORY_LIMIT")]
    MemoryLimit,
    #[napi(value = "STACK_OVERFLOW")]
    StackOverflow,
    #[napi(value = "PERMISSION_DENIED")]
    PermissionDenied,
    #[napi(value = "RESOURCE_LIMIT")]
    ResourceLimit,
    #[napi(value = "EXECUTION_ERROR")]
    ExecutionError,
    #[napi(value = "COMPILATION_ERROR")]
    CompilationError,
    #[napi(value = "INVALID_HANDLER")]
    InvalidHandler,
    #[napi(value = "INTERNAL_ERROR")]
    InternalError,
}

impl From<crate::ErrorCode> for ErrorCode {
    fn from(code: crate::ErrorCode) -> Self {
        use crate::ErrorCode as C;
        match code {
            C::Timeout => ErrorCode::Timeout,
            C::MemoryLimit => ErrorCode::MemoryLimit,
            C::StackOverflow => ErrorCode::StackOverflow,
            C::PermissionDenied => ErrorCode::PermissionDenied,
            C::ResourceLimit => ErrorCode::ResourceLimit,
            C::ExecutionError => ErrorCode::ExecutionError,
            C::CompilationError => ErrorCode::CompilationError,
            C::InvalidHandler => ErrorCode::InvalidHandler,
            C::InternalError => ErrorCode::InternalError,
        }
    }
}

#[napi(object, object_to_js = false, js_name = "RuntimeConfig")]
pub struct JsRuntimeConfig {
    pub max_instances: Option<f64>,
    pub min_instances: Option<f64>,
    pub memory_limit_bytes: Option<f64>,
    /// A handler's CPU time budget across all its segments (time waiting for a core is not spent).
    pub timeout_ms: Option<f64>,
    pub max_host_calls: Option<f64>,
    pub max_state_mutations: Option<f64>,
    pub max_events: Option<f64>,
    /// Wall-clock bound of one execution from its start, suspensions included: checked at every
    /// epoch tick while it runs, and a parked handler expires then.
    pub execution_deadline_ms: Option<f64>,
    /// `$ext` calls one execution may make.
    pub max_suspensions: Option<f64>,
    /// The one budget of bytes a handler hands to the host in one execution: state writes,
    /// event payloads, view command arguments, `$ext` arguments, names and keys, and the return
    /// value, as the JSON text its JSON.stringify made (shared references expanded).
    pub max_value_bytes: Option<f64>,
    /// Bytes of event names and payloads one execution may emit, each event counting
    /// `eventFramingBytes` (128) more for its frame.
    pub max_event_bytes: Option<f64>,
    /// Bound on the bytecode files kept under cacheDir.
    pub cache_max_bytes: Option<f64>,
    pub cache_dir: Option<String>,
    /// A read-only directory with a compiled guest module made by the same bridge build; used
    /// when `cacheDir` has none (and copied there).
    pub cache_seed_dir: Option<String>,
}

#[napi(object, object_to_js = false)]
pub struct WasmContext {
    pub panel_id: String,
    pub handler_name: String,
    /// The panel's state as objects (converted on the JavaScript thread).
    #[napi(ts_type = "Record<string, unknown>")]
    pub state_snapshot: Option<Map<String, Value>>,
    /// The panel's state as the UTF-8 JSON text of an object, read on a bridge thread; takes
    /// precedence over `stateSnapshot` (cheaper for large states).
    pub state_json: Option<Buffer>,
    #[napi(ts_type = "unknown")]
    pub args: Option<Value>,
    /// The arguments as UTF-8 JSON text, read on a bridge thread; takes precedence over `args`.
    pub args_json: Option<Buffer>,
    pub capabilities: Vec<String>,
    #[napi(ts_type = "Record<string, unknown>")]
    pub scope: Option<Value>,
    pub extension_registry: Option<HashMap<String, Vec<String>>>,
}

/// A state mutation; the value crosses as its JSON text (parse it where it is needed).
#[napi(object, object_from_js = false)]
pub struct StateMutation {
    pub key: String,
    /// The value's JSON text; absent for a delete and for `$state.x = undefined`.
    pub value_json: Option<String>,
    #[napi(ts_type = "'set' | 'delete'")]
    pub operation: String,
}

#[napi(object, object_from_js = false)]
pub struct EmittedEvent {
    pub name: String,
    /// The payload's JSON text; absent when the handler emitted no payload (undefined).
    pub payload_json: Option<String>,
}

#[napi(object, object_from_js = false)]
pub struct ViewCommand {
    #[napi(js_name = "type")]
    pub kind: String,
    pub component_id: Option<String>,
    /// The arguments' JSON text; absent when undefined.
    pub args_json: Option<String>,
}

#[napi(object, object_from_js = false)]
pub struct SuspensionDetails {
    pub suspension_id: String,
    pub extension_name: String,
    pub method: String,
    /// The JSON text of the call's arguments (an array).
    pub args_json: String,
}

#[napi(object, object_from_js = false)]
pub struct ErrorLocation {
    pub line: u32,
    pub column: u32,
}

/// A line of the handler's output (`console.*`, `$log`), or one the bridge adds: a marker of
/// lines dropped beyond `logLimits`, and the message and location of the error that ended it.
#[napi(object, object_from_js = false)]
pub struct LogLine {
    #[napi(ts_type = "'debug' | 'info' | 'warn' | 'error'")]
    pub level: String,
    pub message: String,
    /// Milliseconds since the execution started (wall time, suspensions included).
    pub at_ms: f64,
    /// Where in the handler's source, for the line of an uncaught error.
    pub location: Option<ErrorLocation>,
}

#[napi(object, object_from_js = false)]
pub struct WasmError {
    pub code: ErrorCode,
    pub message: String,
    pub stack: Option<String>,
    pub location: Option<ErrorLocation>,
}

#[napi(object, object_from_js = false)]
pub struct ExecutionMetrics {
    /// Wall time the handler ran, compilation included, without time parked or waiting for a
    /// bridge thread (a busy machine stretches it).
    pub duration_us: f64,
    /// CPU time the handler ran on every thread, compilation included: what `timeoutMs` limits.
    pub cpu_time_us: f64,
    pub memory_used_bytes: f64,
    pub memory_peak_bytes: f64,
    pub host_calls: u32,
    pub cache_hit: bool,
    pub compilation_time_us: f64,
}

/// A result. Every value the handler handed over is a JSON text string: the event loop receives
/// one copy of each and never builds it into objects (docs/bridge-api.md).
#[napi(object, object_from_js = false)]
pub struct WasmResult {
    pub status: ExecutionStatus,
    /// The return value's JSON text; absent when the handler returned undefined.
    pub return_value_json: Option<String>,
    pub state_mutations: Vec<StateMutation>,
    pub events: Vec<EmittedEvent>,
    pub view_commands: Vec<ViewCommand>,
    pub suspension: Option<SuspensionDetails>,
    pub error: Option<WasmError>,
    pub metrics: ExecutionMetrics,
    /// Log lines since the previous result of the same execution (deltas, like the mutations).
    pub logs: Vec<LogLine>,
}

#[napi(object, object_to_js = false)]
pub struct ResumeValue {
    pub success: bool,
    #[napi(ts_type = "unknown")]
    pub value: Option<Value>,
    /// The value as JSON text (wins over `value`); checked on a bridge thread, so a value the
    /// sandbox cannot take becomes an error the handler can catch.
    pub value_json: Option<String>,
    pub error: Option<String>,
}

#[napi(object, object_from_js = false)]
pub struct RuntimeStats {
    pub total_executions: f64,
    pub successful_executions: f64,
    pub failed_executions: f64,
    pub suspended_executions: f64,
    pub active_instances: u32,
    pub available_instances: u32,
    pub suspended_instances: u32,
    pub max_instances: u32,
    pub cache_hits: f64,
    pub cache_misses: f64,
    pub cache_hit_rate: f64,
    pub average_duration_us: f64,
    pub memory_in_use_bytes: f64,
}

pub(super) fn options(config: JsRuntimeConfig) -> config::RuntimeOptions {
    config::RuntimeOptions {
        max_instances: config.max_instances,
        min_instances: config.min_instances,
        memory_limit_bytes: config.memory_limit_bytes,
        timeout_ms: config.timeout_ms,
        max_host_calls: config.max_host_calls,
        max_state_mutations: config.max_state_mutations,
        max_events: config.max_events,
        execution_deadline_ms: config.execution_deadline_ms,
        max_suspensions: config.max_suspensions,
        max_value_bytes: config.max_value_bytes,
        max_event_bytes: config.max_event_bytes,
        cache_max_bytes: config.cache_max_bytes,
        cache_dir: config.cache_dir,
        cache_seed_dir: config.cache_seed_dir,
    }
}

pub(super) fn context(ctx: WasmContext) -> types::ExecutionContext {
    types::ExecutionContext {
        panel_id: ctx.panel_id,
        handler_name: ctx.handler_name,
        state: state_input(ctx.state_json, ctx.state_snapshot),
        args: ctx.args.unwrap_or(Value::Null),
        args_json: ctx.args_json.map(|json| json.to_vec()),
        capabilities: ctx.capabilities,
        scope: ctx.scope,
        extension_registry: ctx.extension_registry.unwrap_or_default(),
    }
}

/// What a call's state fields become: the JSON text when given, else the converted values.
pub(super) fn state_input(json: Option<Buffer>, values: Option<Map<String, Value>>) -> StateInput {
    match (json, values) {
        (Some(json), _) => StateInput::Json(json.to_vec()),
        (None, Some(values)) => StateInput::Values(values),
        (None, None) => StateInput::default(),
    }
}
