//! The napi glue: the WasmRuntime class and its promises (types in convert.rs). No logic lives here; `Runtime` does
//! the work on bridge-owned threads and settles each promise through a `JsDeferred`.

use napi::bindgen_prelude::{Buffer, Env, FromNapiValue, Object, Result, Status, ToNapiValue};
use napi::{JsDeferred, JsValue};
use napi_derive::napi;

use crate::error::ApiError;
use crate::runtime::{Inline, Reply, Runtime};
use crate::state_view::StateInput;
use crate::types;

mod convert;
mod result_json;

use convert::{
    ErrorLocation, JsRuntimeConfig, ResumeValue, RuntimeStats, WasmContext, WasmResult, context,
    options,
};
use result_json::to_js;

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
        self.runtime
            .execute(code, context(ctx), timeout_ms, settle_now(deferred, to_js));
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
        // Runs on this thread when it is short (see runtime/inline.rs): the promise is then
        // settled before this call returns.
        let started =
            self.runtime
                .execute_compiled_inline(bytecode.to_vec(), context(ctx), timeout_ms);
        settle_inline(env, started)
    }

    #[napi(ts_return_type = "Promise<WasmResult>")]
    pub fn resume_handler<'env>(
        &self,
        env: &'env Env,
        suspension_id: String,
        #[napi(ts_arg_type = "ResumeValue")] result: ResumeValue,
        state_json: Option<Buffer>,
    ) -> Result<Object<'env>> {
        let value = if result.success {
            match result.value_json {
                Some(json) => types::ResumeValue::SuccessJson(json.into_bytes()),
                None => types::ResumeValue::Success(result.value),
            }
        } else {
            types::ResumeValue::Failure(
                result
                    .error
                    .unwrap_or_else(|| "the extension call failed".into()),
            )
        };
        let state = state_json.map(|json| StateInput::Json(json.to_vec()));
        let resumed = self.runtime.resume_inline(&suspension_id, value, state);
        settle_inline(env, resumed)
    }

    /// Drops a suspended handler its caller will not resume, freeing its instance at once.
    /// Returns false when nothing is parked under that id (resumed, expired or unknown).
    #[napi]
    pub fn cancel_handler(&self, suspension_id: String) -> bool {
        self.runtime.cancel(&suspension_id)
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

/// Like `settle`, but converts on the bridge thread that produced the value (the JavaScript
/// thread then only turns the converted form into a value).
fn settle_now<T, U>(deferred: JsDeferred<T, Settle<T>>, convert: fn(U) -> T) -> Reply<U>
where
    T: ToNapiValue + Send + 'static,
    U: Send + 'static,
{
    Box::new(move |outcome| match outcome {
        Ok(value) => {
            let converted = convert(value);
            deferred.resolve(Box::new(move |_| Ok(converted)))
        }
        Err(error) => deferred.resolve(Box::new(move |env| Err(js_error(&env, error)))),
    })
}

/// A promise for a call started on this thread: settled at once when it finished here, else
/// when the bridge thread that finishes it replies.
fn settle_inline<'env>(env: &'env Env, started: Inline) -> Result<Object<'env>> {
    match started {
        Inline::Done(result) => resolved(env, Ok(to_js(result))),
        Inline::Failed(error) => resolved(env, Err(error)),
        Inline::Later(later) => {
            let (deferred, promise) = env.create_deferred()?;
            later.then(settle_now(deferred, to_js));
            Ok(promise)
        }
    }
}

/// A promise already settled with `outcome` (no hand-off through the event loop).
fn resolved<'env>(
    env: &'env Env,
    outcome: std::result::Result<WasmResult, ApiError>,
) -> Result<Object<'env>> {
    let raw = env.raw();
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    // SAFETY: N-API calls on the JavaScript thread; the deferred is settled exactly once.
    unsafe {
        napi::check_status!(napi::sys::napi_create_promise(
            raw,
            &mut deferred,
            &mut promise
        ))?;
        match outcome {
            Ok(value) => {
                let value = WasmResult::to_napi_value(raw, value)?;
                napi::check_status!(napi::sys::napi_resolve_deferred(raw, deferred, value))?;
            }
            Err(error) => {
                let error = error_object(env, error)?;
                napi::check_status!(napi::sys::napi_reject_deferred(raw, deferred, error.raw()))?;
            }
        }
        Object::from_napi_value(raw, promise)
    }
}

/// An Error whose `code` (and `location`, for syntax errors) callers can rely on.
fn js_error(env: &Env, error: ApiError) -> napi::Error {
    error_object(env, error)
        .map(|object| napi::Error::from(object.to_unknown()))
        .unwrap_or_else(|e| e)
}

fn error_object<'env>(env: &'env Env, error: ApiError) -> Result<Object<'env>> {
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
    Ok(object)
}
