//! Limits and hostile handlers: each ends with the right error, and the runtime keeps working.

mod common;

use common::*;
use nexus_bridge::{ErrorCode, RuntimeOptions};
use serde_json::json;

/// `timeout_ms` is short for endless loops and generous for everything else, so a slow machine
/// cannot turn a memory bomb into a timeout.
fn fails_with(code: &str, expected: ErrorCode) {
    let rt = shared();
    let timeout_ms = if expected == ErrorCode::Timeout {
        300.0
    } else {
        20_000.0
    };
    let result = run_with_timeout(rt, code, ctx(json!({}), &[]), timeout_ms);
    let error = result.error.unwrap_or_else(|| panic!("{code} succeeded"));
    assert_eq!(error.code, expected, "{code}: {}", error.message);
    // The runtime is still healthy afterwards.
    assert_eq!(
        value(&run(rt, "return 'alive'", ctx(json!({}), &[]))),
        json!("alive")
    );
}

#[test]
fn endless_loops_time_out() {
    for code in [
        "for (;;) {}",
        // Each job queues the next and nothing accumulates (a chain that awaits itself grows
        // without bound and may run out of memory first).
        "const spin = () => { Promise.resolve().then(spin) }; spin(); await new Promise(() => {})",
        "const o = { get x() { for (;;) {} } }; return o.x",
        "return /^(a+)+$/.test('a'.repeat(40) + 'b')",
        "for (;;) { try { for (;;) {} } catch (e) {} }",
    ] {
        fails_with(code, ErrorCode::Timeout);
    }
}

#[test]
fn memory_bombs_hit_the_memory_limit() {
    for code in [
        "const a = []; for (;;) a.push(new Array(100000).fill(1.5))",
        "let s = 'x'; for (;;) { s += s; s.charCodeAt(s.length >> 1) }",
        "return new ArrayBuffer(512 * 1024 * 1024).byteLength",
        "const o = {}; for (let i = 0; ; i++) o['k' + i] = {i}",
    ] {
        fails_with(code, ErrorCode::MemoryLimit);
    }
}

#[test]
fn deep_recursion_overflows_the_stack() {
    for code in [
        "function f(n) { return f(n + 1) + 1 } return f(0)",
        "return JSON.parse('['.repeat(1e6) + ']'.repeat(1e6))",
        "const o = { toString() { return '' + o } }; return String(o)",
    ] {
        fails_with(code, ErrorCode::StackOverflow);
    }
}

#[test]
fn reasonable_recursion_still_works() {
    let result =
        eval("function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1) } return depth(2000)");
    assert_eq!(value(&result), json!(2000));
}

#[test]
fn host_call_floods_hit_the_host_call_limit() {
    let rt = runtime(RuntimeOptions {
        max_host_calls: Some(50.0),
        ..Default::default()
    });
    let result = run(&rt, "for (;;) $log('x')", ctx(json!({}), &[]));
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(error.message.contains("maxHostCalls"), "{}", error.message);
}

#[test]
fn mutation_and_event_floods_hit_their_limits() {
    let rt = runtime(RuntimeOptions {
        max_state_mutations: Some(5.0),
        max_events: Some(3.0),
        ..Default::default()
    });
    let writes = run(
        &rt,
        "for (let i = 0; ; i++) $state.n = i",
        ctx(json!({}), &["state:write:*"]),
    );
    let error = writes.error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(
        error.message.contains("maxStateMutations"),
        "{}",
        error.message
    );
    assert_eq!(writes.state_mutations.len(), 5);

    let events = run(
        &rt,
        "for (;;) $emit('e')",
        ctx(json!({}), &["events:emit:*"]),
    );
    assert!(events.error.unwrap().message.contains("maxEvents"));
    assert_eq!(events.events.len(), 3);
}

#[test]
fn huge_values_handed_to_the_host_are_refused() {
    let result = run(
        shared(),
        "const big = 'x'.repeat(1 << 20); for (let i = 0; i < 40; i++) $state['k' + i] = big",
        ctx(json!({}), &["state:write:*"]),
    );
    assert_eq!(result.error.unwrap().code, ErrorCode::ResourceLimit);
}

#[test]
fn values_nested_deeper_than_the_host_accepts_are_refused() {
    let result = eval("let v = 1; for (let i = 0; i < 1000; i++) v = [v]; return v");
    assert_eq!(result.error.unwrap().code, ErrorCode::ResourceLimit);
}

#[test]
fn lone_surrogates_survive_the_trip_to_the_host() {
    assert_eq!(value(&eval("return '\\uD800x'")), json!("\u{fffd}x"));
}

#[test]
fn closing_the_wrapper_early_is_a_compilation_error() {
    for code in ["}); (async function(){", "}, function(){ return 1"] {
        let error = eval(code).error.unwrap();
        assert_eq!(error.code, ErrorCode::CompilationError, "{code}");
    }
}

#[test]
fn a_timeout_argument_overrides_the_default() {
    let result = run_with_timeout(shared(), "for (;;) {}", ctx(json!({}), &[]), 30.0);
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::Timeout);
    assert!(error.message.contains("30 ms"), "{}", error.message);
}
