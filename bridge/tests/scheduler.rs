//! The caller-thread path the kernel uses (precompile, then `execute_compiled_inline`): short runs
//! finish on the calling thread, long ones move to a bridge thread and end at their CPU budget or
//! their execution's deadline, and the error names which bound it was.

mod common;

use common::{ctx, precompile, runtime, shared, value};
use nexus_bridge::runtime::Inline;
use nexus_bridge::{ErrorCode, ExecutionResult, Runtime, RuntimeOptions, blocking};
use serde_json::json;

/// Starts bytecode on this thread the way napi's executeCompiledHandler does.
fn inline(rt: &Runtime, bytecode: &[u8], timeout_ms: Option<f64>) -> (bool, ExecutionResult) {
    match rt.execute_compiled_inline(bytecode.to_vec(), ctx(json!({}), &[]), timeout_ms) {
        Inline::Done(result) => (true, result),
        Inline::Failed(error) => panic!("refused: {error:?}"),
        Inline::Later(later) => (false, blocking(|reply| later.then(reply)).expect("reply")),
    }
}

#[test]
fn a_short_handler_finishes_on_the_callers_thread_and_reports_its_cpu_time() {
    let rt = shared();
    let bytecode = precompile(rt, "return 6 * 7").unwrap();
    // The first run of a handler may go to a bridge thread (the runtime still starting).
    let mut here = false;
    for _ in 0..20 {
        let (done_here, result) = inline(rt, &bytecode, Some(20.0));
        assert_eq!(value(&result), json!(42));
        here |= done_here;
    }
    assert!(here, "never finished on the caller's thread");
}

#[test]
fn an_endless_loop_moves_to_a_bridge_thread_and_ends_at_its_cpu_budget() {
    let rt = shared();
    let bytecode = precompile(rt, "for (;;) {}").unwrap();
    // A budget far above the slice: on a busy machine the ticker thread that ends the slice may
    // itself wait for a core, and a budget spent before its first tick ends the loop right there
    // (as it should). 500 ms of CPU cannot be spent before a tick that late.
    let (done_here, result) = inline(rt, &bytecode, Some(500.0));
    assert!(!done_here, "an endless loop cannot finish within its slice");
    let error = result.error.expect("an error");
    assert_eq!(error.code, ErrorCode::Timeout);
    assert!(
        error.message.contains("500 ms of CPU time (timeoutMs)"),
        "{}",
        error.message
    );
    assert!(
        result.metrics.cpu_time_us >= 500_000,
        "{:?}",
        result.metrics
    );
}

#[test]
fn the_deadline_ends_a_loop_whose_cpu_budget_is_not_spent() {
    let rt = runtime(RuntimeOptions {
        timeout_ms: Some(100.0),
        execution_deadline_ms: Some(150.0),
        ..Default::default()
    });
    let bytecode = precompile(&rt, "for (;;) {}").unwrap();
    // A per-call budget of ten minutes: only the deadline can end it.
    let (_, result) = inline(&rt, &bytecode, Some(600_000.0));
    let error = result.error.expect("an error");
    assert_eq!(error.code, ErrorCode::Timeout);
    assert!(
        error
            .message
            .contains("ran past its 150 ms deadline (executionDeadlineMs)"),
        "{}",
        error.message
    );
}

#[test]
fn compiling_has_a_cpu_budget_of_its_own() {
    let rt = runtime(RuntimeOptions {
        timeout_ms: Some(1.0),
        execution_deadline_ms: Some(60_000.0),
        ..Default::default()
    });
    // Enough source that compiling it takes far more than a millisecond of CPU time.
    let source = format!("let x = 0;\n{}", "x = x * 3 + 1;\n".repeat(50_000));
    let error = precompile(&rt, &source).unwrap_err();
    assert!(
        error
            .message
            .contains("compiling the handler took more than 1 ms of CPU time (timeoutMs)"),
        "{}",
        error.message
    );
}
