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
    pub timeout_ms: Option<f64>,
    pub max_host_calls: Option<f64>,
    pub max_state_mutations: Option<f64>,
    pub max_events: Option<f64>,
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
    pub capabilities: Vec<String>,
    #[napi(ts_type = "Record<string, unknown>")]
    pub scope: Option<Value>,
    pub extension_registry: Option<HashMap<String, Vec<String>>>,
}

#[napi(object, object_from_js = false)]
pub struct StateMutation {
    pub key: String,
    #[napi(ts_type = "unknown")]
    pub value: Option<Value>,
    #[napi(ts_type = "'set' | 'delete'")]
    pub operation: String,
}

#[napi(object, object_from_js = false)]
pub struct EmittedEvent {
    pub name: String,
    #[napi(ts_type = "unknown")]
    pub payload: Option<Value>,
}

#[napi(object, object_from_js = false)]
pub struct ViewCommand {
    #[napi(js_name = "type")]
    pub kind: String,
    pub component_id: Option<String>,
    #[napi(ts_type = "unknown")]
    pub args: Option<Value>,
}

#[napi(object, object_from_js = false)]
pub struct SuspensionDetails {
    pub suspension_id: String,
    pub extension_name: String,
    pub method: String,
    #[napi(ts_type = "unknown[]")]
    pub args: Vec<Value>,
}

#[napi(object, object_from_js = false)]
pub struct ErrorLocation {
    pub line: u32,
    pub column: u32,
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
    pub duration_us: f64,
    pub memory_used_bytes: f64,
    pub memory_peak_bytes: f64,
    pub host_calls: u32,
    pub cache_hit: bool,
    pub compilation_time_us: f64,
}

#[napi(object, object_from_js = false)]
pub struct WasmResult {
    pub status: ExecutionStatus,
    #[napi(ts_type = "unknown")]
    pub return_value: Option<Value>,
    pub state_mutations: Vec<StateMutation>,
    pub events: Vec<EmittedEvent>,
    pub view_commands: Vec<ViewCommand>,
    pub suspension: Option<SuspensionDetails>,
    pub error: Option<WasmError>,
    pub metrics: ExecutionMetrics,
}

#[napi(object, object_to_js = false)]
pub struct ResumeValue {
    pub success: bool,
    #[napi(ts_type = "unknown")]
    pub value: Option<Value>,
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

pub(super) fn wasm_result(result: types::ExecutionResult) -> WasmResult {
    WasmResult {
        status: match result.status {
            types::ExecutionStatus::Success => ExecutionStatus::Success,
            types::ExecutionStatus::Error => ExecutionStatus::Error,
            types::ExecutionStatus::Suspended => ExecutionStatus::Suspended,
        },
        return_value: result.return_value,
        state_mutations: result
            .state_mutations
            .into_iter()
            .map(|m| StateMutation {
                key: m.key,
                value: m.value,
                operation: m.operation.as_str().into(),
            })
            .collect(),
        events: result
            .events
            .into_iter()
            .map(|e| EmittedEvent {
                name: e.name,
                payload: e.payload,
            })
            .collect(),
        view_commands: result
            .view_commands
            .into_iter()
            .map(|v| ViewCommand {
                kind: v.kind,
                component_id: v.component_id,
                args: v.args,
            })
            .collect(),
        suspension: result.suspension.map(|s| SuspensionDetails {
            suspension_id: s.suspension_id,
            extension_name: s.extension_name,
            method: s.method,
            args: s.args,
        }),
        error: result.error.map(|e| WasmError {
            code: e.code.into(),
            message: e.message,
            stack: e.stack,
            location: e.location.map(|l| ErrorLocation {
                line: l.line,
                column: l.column,
            }),
        }),
        metrics: ExecutionMetrics {
            duration_us: result.metrics.duration_us as f64,
            memory_used_bytes: result.metrics.memory_used_bytes as f64,
            memory_peak_bytes: result.metrics.memory_peak_bytes as f64,
            host_calls: result.metrics.host_calls,
            cache_hit: result.metrics.cache_hit,
            compilation_time_us: result.metrics.compilation_time_us as f64,
        },
    }
}
