//! Results reach JavaScript as plain objects whose values are JSON text strings: the text the
//! guest's JSON.stringify made, checked once on a bridge thread and never built into a tree. The
//! event loop gets one string per value (one copy) and splices it where it goes.

use super::convert::{
    EmittedEvent, ErrorLocation, ExecutionMetrics, ExecutionStatus, LogLine, StateMutation,
    SuspensionDetails, ViewCommand, WasmError, WasmResult,
};
use crate::types::{self, ExecutionResult, Json};

fn text(json: Json) -> String {
    json.as_str().to_owned()
}

/// The result in the shape of `WasmResult` (index.d.ts), converted on the bridge thread.
pub fn to_js(result: ExecutionResult) -> WasmResult {
    WasmResult {
        status: match result.status {
            types::ExecutionStatus::Success => ExecutionStatus::Success,
            types::ExecutionStatus::Error => ExecutionStatus::Error,
            types::ExecutionStatus::Suspended => ExecutionStatus::Suspended,
        },
        return_value_json: result.return_value.map(text),
        state_mutations: result
            .state_mutations
            .into_iter()
            .map(|m| StateMutation {
                key: m.key,
                value_json: m.value.map(text),
                operation: m.operation.as_str().to_owned(),
            })
            .collect(),
        events: result
            .events
            .into_iter()
            .map(|e| EmittedEvent {
                name: e.name,
                payload_json: e.payload.map(text),
            })
            .collect(),
        view_commands: result
            .view_commands
            .into_iter()
            .map(|v| ViewCommand {
                kind: v.kind,
                component_id: v.component_id,
                args_json: v.args.map(text),
            })
            .collect(),
        suspension: result.suspension.map(|s| SuspensionDetails {
            suspension_id: s.suspension_id,
            extension_name: s.extension_name,
            method: s.method,
            args_json: text(s.args),
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
        logs: result
            .logs
            .into_iter()
            .map(|line| LogLine {
                level: line.level.as_str().to_owned(),
                message: line.message,
                at_ms: line.at_ms as f64,
                location: line.location.map(|l| ErrorLocation {
                    line: l.line,
                    column: l.column,
                }),
            })
            .collect(),
        metrics: {
            let m = result.metrics;
            ExecutionMetrics {
                duration_us: m.duration_us as f64,
                cpu_time_us: m.cpu_time_us as f64,
                memory_used_bytes: m.memory_used_bytes as f64,
                memory_peak_bytes: m.memory_peak_bytes as f64,
                host_calls: m.host_calls,
                cache_hit: m.cache_hit,
                compilation_time_us: m.compilation_time_us as f64,
            }
        },
    }
}
