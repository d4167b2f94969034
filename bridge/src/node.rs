//! The napi glue: JavaScript types, conversions, promises. No logic lives here; `Runtime` does
//! the work on bridge-owned threads and settles each promise through a `JsDeferred`.

use std::collections::HashMap;

use napi::bindgen_prelude::{Buffer, Env, Object, Result, Status, ToNapiValue};
use napi::{JsDeferred, JsValue};
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::runtime::{Reply, Runtime};
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
}

#[napi(object, object_to_js = false)]
pub struct WasmContext {
    pub panel_id: String,
    pub handler_name: String,
    #[napi(ts_type = "Record<string, unknown>")]
    pub state_snapshot: Map<String, Value>,
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

/// Runs untrusted handlers in QuickJS inside WebAssembly. See docs/bridge-api.md.
#[napi]
pub struct WasmRuntime {
    runtime: Runtime,
}

#[napi]
impl WasmRuntime {
    #[napi(constructor)]
    pub fn new(env: Env, config: Option<JsRuntimeConfig>) -> Result<Self> {
        let options = config.map(options).unwrap_or_default();
        Runtime::new(&options)
            .map(|runtime| WasmRuntime { runtime })
            .map_err(|e| js_error(&env, e))
    }

    /// Resolves once the sandbox engine is ready (the constructor returns at once; a cold start
    /// compiles the guest for a few seconds, and calls made meanwhile wait). Rejects with the
    /// reason it cannot start.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn ready<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        self.runtime.ready(settle(deferred, |()| ()));
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<WasmResult>")]
    pub fn execute_handler<'env>(
        &self,
        env: &'env Env,
        code: String,
        ctx: WasmContext,
        timeout_ms: Option<f64>,
    ) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        self.runtime.execute(
            code,
            context(ctx),
            timeout_ms,
            settle(deferred, wasm_result),
        );
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn precompile_handler<'env>(&self, env: &'env Env, code: String) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        self.runtime
            .precompile(code, settle(deferred, Buffer::from));
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<WasmResult>")]
    pub fn execute_compiled_handler<'env>(
        &self,
        env: &'env Env,
        bytecode: Buffer,
        ctx: WasmContext,
        timeout_ms: Option<f64>,
    ) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        self.runtime.execute_compiled(
            bytecode.to_vec(),
            context(ctx),
            timeout_ms,
            settle(deferred, wasm_result),
        );
        Ok(promise)
    }

    #[napi(ts_return_type = "Promise<WasmResult>")]
    pub fn resume_handler<'env>(
        &self,
        env: &'env Env,
        suspension_id: String,
        #[napi(ts_arg_type = "ResumeValue")] result: ResumeValue,
    ) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        let value = if result.success {
            types::ResumeValue::Success(result.value)
        } else {
            types::ResumeValue::Failure(
                result
                    .error
                    .unwrap_or_else(|| "the extension call failed".into()),
            )
        };
        self.runtime
            .resume(suspension_id, value, settle(deferred, wasm_result));
        Ok(promise)
    }

    #[napi]
    pub fn get_stats(&self, env: Env) -> Result<RuntimeStats> {
        let stats = self.runtime.stats().map_err(|e| js_error(&env, e))?;
        Ok(RuntimeStats {
            total_executions: stats.total_executions as f64,
            successful_executions: stats.successful_executions as f64,
            failed_executions: stats.failed_executions as f64,
            suspended_executions: stats.suspended_executions as f64,
            active_instances: stats.active_instances,
            available_instances: stats.available_instances,
            suspended_instances: stats.suspended_instances,
            max_instances: stats.max_instances,
            cache_hits: stats.cache_hits as f64,
            cache_misses: stats.cache_misses as f64,
            cache_hit_rate: stats.cache_hit_rate,
            average_duration_us: stats.average_duration_us,
            memory_in_use_bytes: stats.memory_in_use_bytes as f64,
        })
    }

    /// Prometheus text exposition, metric names prefixed nexus_bridge_.
    #[napi]
    pub fn get_metrics(&self, env: Env) -> Result<String> {
        self.runtime.metrics().map_err(|e| js_error(&env, e))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn shutdown<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        self.runtime
            .shutdown(Box::new(move || deferred.resolve(Box::new(|_| Ok(())))));
        Ok(promise)
    }
}

type Settle<T> = Box<dyn FnOnce(Env) -> Result<T>>;

/// Settles a promise on the JavaScript thread with `convert(value)` or a coded error.
fn settle<T, U>(deferred: JsDeferred<T, Settle<T>>, convert: fn(U) -> T) -> Reply<U>
where
    T: ToNapiValue + 'static,
    U: Send + 'static,
{
    Box::new(move |outcome| match outcome {
        Ok(value) => deferred.resolve(Box::new(move |_| Ok(convert(value)))),
        Err(error) => deferred.resolve(Box::new(move |env| Err(js_error(&env, error)))),
    })
}

/// An Error whose `code` (and `location`, for syntax errors) callers can rely on.
fn js_error(env: &Env, error: ApiError) -> napi::Error {
    let build = || -> Result<napi::Error> {
        let mut object = env.create_error(napi::Error::new(
            Status::GenericFailure,
            error.message.clone(),
        ))?;
        object.set("code", error.code.as_str())?;
        if let Some(location) = error.location {
            object.set(
                "location",
                ErrorLocation {
                    line: location.line,
                    column: location.column,
                },
            )?;
        }
        Ok(napi::Error::from(object.to_unknown()))
    };
    build().unwrap_or_else(|e| e)
}

fn options(config: JsRuntimeConfig) -> config::RuntimeOptions {
    config::RuntimeOptions {
        max_instances: config.max_instances,
        min_instances: config.min_instances,
        memory_limit_bytes: config.memory_limit_bytes,
        timeout_ms: config.timeout_ms,
        max_host_calls: config.max_host_calls,
        max_state_mutations: config.max_state_mutations,
        max_events: config.max_events,
        cache_dir: config.cache_dir,
    }
}

fn context(ctx: WasmContext) -> types::ExecutionContext {
    types::ExecutionContext {
        panel_id: ctx.panel_id,
        handler_name: ctx.handler_name,
        state_snapshot: ctx.state_snapshot,
        args: ctx.args.unwrap_or(Value::Null),
        capabilities: ctx.capabilities,
        scope: ctx.scope,
        extension_registry: ctx.extension_registry.unwrap_or_default(),
    }
}

fn wasm_result(result: types::ExecutionResult) -> WasmResult {
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
