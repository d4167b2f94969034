//! Helpers shared by the engine tests: a runtime per configuration and blocking calls.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use nexus_bridge::state_view::StateInput;
use nexus_bridge::{
    ApiError, ExecutionContext, ExecutionResult, ResumeValue, Runtime, RuntimeOptions, blocking,
};
use serde_json::{Map, Value, json};

/// A runtime with the default configuration, shared by tests that do not care about limits. Its
/// cache directory outlives the test binary, so only the first binary compiles the guest.
pub fn shared() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cache_dir = format!("{}/nexus-bridge-tests", env!("CARGO_TARGET_TMPDIR"));
        let options = RuntimeOptions {
            cache_dir: Some(cache_dir),
            ..Default::default()
        };
        Runtime::new(&options).expect("default runtime")
    })
}

/// A runtime of its own; the guest module comes from the process cache the shared runtime filled.
pub fn runtime(options: RuntimeOptions) -> Runtime {
    shared();
    Runtime::new(&options).expect("runtime")
}

pub fn ctx(state: Value, capabilities: &[&str]) -> ExecutionContext {
    let values: Map<String, Value> = state.as_object().cloned().unwrap_or_default();
    ExecutionContext {
        panel_id: "panel-1".into(),
        handler_name: "test".into(),
        state: StateInput::Values(values),
        args: json!({}),
        args_json: None,
        capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
        scope: None,
        extension_registry: HashMap::new(),
    }
}

pub fn with_ext(mut ctx: ExecutionContext, name: &str, methods: &[&str]) -> ExecutionContext {
    ctx.extension_registry
        .insert(name.into(), methods.iter().map(|m| m.to_string()).collect());
    ctx
}

pub fn run(rt: &Runtime, code: &str, ctx: ExecutionContext) -> ExecutionResult {
    blocking(|reply| rt.execute(code.into(), ctx, None, reply)).expect("execute")
}

pub fn run_with_timeout(
    rt: &Runtime,
    code: &str,
    ctx: ExecutionContext,
    timeout_ms: f64,
) -> ExecutionResult {
    blocking(|reply| rt.execute(code.into(), ctx, Some(timeout_ms), reply)).expect("execute")
}

pub fn eval(code: &str) -> ExecutionResult {
    run(shared(), code, ctx(json!({}), &[]))
}

pub fn eval_on(rt: &Runtime, code: &str) -> ExecutionResult {
    run(rt, code, ctx(json!({}), &[]))
}

pub fn resume(rt: &Runtime, id: &str, value: ResumeValue) -> Result<ExecutionResult, ApiError> {
    blocking(|reply| rt.resume(id.into(), value, None, reply))
}

/// Resumes with a fresh state snapshot (the JSON text of an object).
pub fn resume_with_state(
    rt: &Runtime,
    id: &str,
    value: ResumeValue,
    state: &str,
) -> Result<ExecutionResult, ApiError> {
    let state = Some(StateInput::Json(state.as_bytes().to_vec()));
    blocking(|reply| rt.resume(id.into(), value, state, reply))
}

pub fn precompile(rt: &Runtime, code: &str) -> Result<Vec<u8>, ApiError> {
    blocking(|reply| rt.precompile(code.into(), reply))
}

pub fn run_compiled(rt: &Runtime, bytecode: Vec<u8>, ctx: ExecutionContext) -> ExecutionResult {
    blocking(|reply| rt.execute_compiled(bytecode, ctx, None, reply)).expect("execute")
}

/// Panics with the whole result when the handler did not succeed.
pub fn value(result: &ExecutionResult) -> Value {
    assert!(result.error.is_none(), "handler failed: {:?}", result.error);
    result
        .return_value
        .as_ref()
        .map(|v| v.value())
        .unwrap_or(Value::Null)
}
