//! Results reach JavaScript as JSON text parsed by the engine's own `JSON.parse`: the text is
//! written on the bridge thread, and one native parse on the event loop builds the object. It is
//! also what JSON would make of the values: integers beyond 2^53 become numbers (never BigInt,
//! which no JSON.stringify accepts) and a `"__proto__"` key is an own property, not a prototype.

use std::ptr;

use napi::bindgen_prelude::ToNapiValue;
use napi::{Status, sys};
use serde_json::{Map, Value, json};

use crate::types::{ExecutionResult, ExecutionStatus};

/// JSON text that becomes a JavaScript value through `JSON.parse`.
pub struct JsonText(pub String);

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let check = |status: sys::napi_status, what: &str| {
            if status == sys::Status::napi_ok {
                Ok(())
            } else {
                Err(napi::Error::new(
                    Status::GenericFailure,
                    format!("{what} failed"),
                ))
            }
        };
        // SAFETY: plain N-API calls on the JavaScript thread with values they returned.
        unsafe {
            let mut global = ptr::null_mut();
            check(sys::napi_get_global(env, &mut global), "napi_get_global")?;
            let mut json = ptr::null_mut();
            check(
                sys::napi_get_named_property(env, global, c"JSON".as_ptr(), &mut json),
                "reading JSON",
            )?;
            let mut parse = ptr::null_mut();
            check(
                sys::napi_get_named_property(env, json, c"parse".as_ptr(), &mut parse),
                "reading JSON.parse",
            )?;
            let mut text = ptr::null_mut();
            check(
                sys::napi_create_string_utf8(
                    env,
                    val.0.as_ptr().cast(),
                    val.0.len() as isize,
                    &mut text,
                ),
                "napi_create_string_utf8",
            )?;
            let mut out = ptr::null_mut();
            check(
                sys::napi_call_function(env, json, parse, 1, &text, &mut out),
                "JSON.parse",
            )?;
            Ok(out)
        }
    }
}

/// The result in the shape of `WasmResult` (index.d.ts); absent optional fields are left out.
pub fn result_json(result: ExecutionResult) -> JsonText {
    let mut out = Map::new();
    let status = match result.status {
        ExecutionStatus::Success => "success",
        ExecutionStatus::Error => "error",
        ExecutionStatus::Suspended => "suspended",
    };
    out.insert("status".into(), json!(status));
    if let Some(value) = result.return_value {
        out.insert("returnValue".into(), value);
    }
    let mutations: Vec<Value> = result
        .state_mutations
        .into_iter()
        .map(|m| {
            let mut entry = Map::new();
            entry.insert("key".into(), json!(m.key));
            if let Some(value) = m.value {
                entry.insert("value".into(), value);
            }
            entry.insert("operation".into(), json!(m.operation.as_str()));
            Value::Object(entry)
        })
        .collect();
    out.insert("stateMutations".into(), Value::Array(mutations));
    let events: Vec<Value> = result
        .events
        .into_iter()
        .map(|e| {
            let mut entry = Map::new();
            entry.insert("name".into(), json!(e.name));
            if let Some(payload) = e.payload {
                entry.insert("payload".into(), payload);
            }
            Value::Object(entry)
        })
        .collect();
    out.insert("events".into(), Value::Array(events));
    let views: Vec<Value> = result
        .view_commands
        .into_iter()
        .map(|v| {
            let mut entry = Map::new();
            entry.insert("type".into(), json!(v.kind));
            if let Some(id) = v.component_id {
                entry.insert("componentId".into(), json!(id));
            }
            if let Some(args) = v.args {
                entry.insert("args".into(), args);
            }
            Value::Object(entry)
        })
        .collect();
    out.insert("viewCommands".into(), Value::Array(views));
    if let Some(s) = result.suspension {
        out.insert(
            "suspension".into(),
            json!({
                "suspensionId": s.suspension_id,
                "extensionName": s.extension_name,
                "method": s.method,
                "args": s.args,
            }),
        );
    }
    if let Some(e) = result.error {
        let mut error = Map::new();
        error.insert("code".into(), json!(e.code.as_str()));
        error.insert("message".into(), json!(e.message));
        if let Some(stack) = e.stack {
            error.insert("stack".into(), json!(stack));
        }
        if let Some(l) = e.location {
            error.insert(
                "location".into(),
                json!({"line": l.line, "column": l.column}),
            );
        }
        out.insert("error".into(), Value::Object(error));
    }
    let m = result.metrics;
    out.insert(
        "metrics".into(),
        json!({
            "durationUs": m.duration_us,
            "cpuTimeUs": m.cpu_time_us,
            "memoryUsedBytes": m.memory_used_bytes,
            "memoryPeakBytes": m.memory_peak_bytes,
            "hostCalls": m.host_calls,
            "cacheHit": m.cache_hit,
            "compilationTimeUs": m.compilation_time_us,
        }),
    );
    JsonText(serde_json::to_string(&Value::Object(out)).expect("JSON values serialise"))
}
