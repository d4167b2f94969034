//! Limits and hostile handlers: each ends with the right error, and the runtime keeps working.

mod common;

use common::*;
use nexus_bridge::{ErrorCode, RuntimeOptions};
use serde_json::{Value, json};

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
    for code in [
        "}); (async function(){",
        "}, function(){ return 1",
        "})(); (function(){",
        "} ; function f(){",
        "}/x/g, function(){",
        "}) /* ",
        "}) //",
        "}`; `",
        "} (0, function(){",
        "}, $state, function(){",
        "}}, {x(){",
        "}/$state/g, function(){",
    ] {
        let error = eval(code).error.unwrap();
        assert_eq!(error.code, ErrorCode::CompilationError, "{code}");
        if error.message.contains("ends the function") {
            assert!(
                error.message.contains("outside the handler"),
                "{}",
                error.message
            );
        }
    }
}

#[test]
fn every_valid_function_body_is_accepted() {
    for (code, expected) in [
        (
            "var g = 1; function g() {} return typeof g",
            json!("number"),
        ),
        (
            "function f() { return 2 } { function f() { return 3 } } return f()",
            json!(3),
        ),
        (
            r"let s = '})'; return s + `})${'(['}` + /\}\)/.source",
            json!(r"})})([\}\)"),
        ),
        ("// })\nreturn 1", json!(1)),
        (
            "/* }) */ return [1, 2].map((x) => { return x * 2 })",
            json!([2, 4]),
        ),
        ("label: { break label } return 'ok'", json!("ok")),
        ("return await Promise.resolve(5)", json!(5)),
        ("var $DONE = 1; function $DONE2() {} return $DONE", json!(1)),
    ] {
        assert_eq!(value(&eval(code)), expected, "{code}");
    }
}

#[test]
fn a_timeout_argument_overrides_the_default() {
    let result = run_with_timeout(shared(), "for (;;) {}", ctx(json!({}), &[]), 30.0);
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::Timeout);
    assert!(error.message.contains("30 ms"), "{}", error.message);
}

#[test]
fn every_execution_gets_its_own_random_numbers() {
    let draws: Vec<Value> = (0..5)
        .map(|_| value(&eval("return [Math.random(), Math.random()]")))
        .collect();
    let distinct: std::collections::HashSet<String> = draws.iter().map(|v| v.to_string()).collect();
    assert_eq!(distinct.len(), 5, "{draws:?}");
    for draw in &draws {
        for x in draw.as_array().unwrap() {
            let x = x.as_f64().unwrap();
            assert!((0.0..1.0).contains(&x), "{x}");
        }
    }
}

#[test]
fn crypto_gives_random_bytes_and_uuids() {
    let result = value(&eval(
        "const a = crypto.getRandomValues(new Uint8Array(32)); const b = crypto.getRandomValues(new Uint32Array(4)); \
         return [Array.from(a).some((x) => x !== 0), b.length, crypto.randomUUID(), crypto.randomUUID()]",
    ));
    assert_eq!(result[0], json!(true));
    assert_eq!(result[1], json!(4));
    let (u1, u2) = (result[2].as_str().unwrap(), result[3].as_str().unwrap());
    assert_ne!(u1, u2);
    let pattern = |u: &str| {
        u.len() == 36
            && u.as_bytes()[14] == b'4'
            && matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b')
            && u.chars().filter(|c| *c == '-').count() == 4
    };
    assert!(pattern(u1) && pattern(u2), "{u1} {u2}");
    for code in [
        "crypto.getRandomValues(new Float64Array(2))",
        "crypto.getRandomValues(new Uint8Array(65537))",
    ] {
        let error = eval(&format!(
            "try {{ {code}; return 'no' }} catch (e) {{ return e.name }}"
        ));
        assert_ne!(value(&error), json!("no"), "{code}");
    }
}

#[test]
fn names_and_keys_beyond_their_limits_are_resource_limits() {
    let caps = &[
        "state:read:*",
        "state:write:*",
        "events:emit:*",
        "view:update:*",
    ];
    for code in [
        "$emit('e'.repeat(300))",
        "$state['k'.repeat(2000)] = 1",
        "delete $state['k'.repeat(2000)]",
        "return $state['k'.repeat(2000)]",
        "$view.custom('t'.repeat(300), 'c')",
        "$view.focus('c'.repeat(2000))",
    ] {
        let result = run(shared(), code, ctx(json!({}), caps));
        let error = result.error.unwrap_or_else(|| panic!("{code} succeeded"));
        assert_eq!(
            error.code,
            ErrorCode::ResourceLimit,
            "{code}: {}",
            error.message
        );
        assert!(error.message.contains("limit"), "{}", error.message);
    }
}

#[test]
fn names_count_against_the_recorded_bytes_too() {
    let caps = &["events:emit:*"];
    // 100,000 distinct 200-byte names are 20 MB: beyond the 16 MiB the host keeps for one execution.
    let code = "for (let i = 0; i < 100000; i++) $emit(String(i).padStart(200, 'x'))";
    let mut context = ctx(json!({}), caps);
    context.capabilities.push("events:emit:*".into());
    let runtime = runtime(RuntimeOptions {
        max_events: Some(1_000_000.0),
        max_host_calls: Some(10_000_000.0),
        max_event_bytes: Some(256.0 * 1024.0 * 1024.0),
        ..Default::default()
    });
    let error = run(&runtime, code, context).error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(error.message.contains("maxValueBytes"), "{}", error.message);
}

/// A value budget small enough that the values which exceed it take the sandbox milliseconds to
/// make, not seconds: the test is about what counts, and must not race the time budgets.
const SMALL_VALUE_BUDGET: usize = 2 * 1024 * 1024;

/// Builds many small arrays that share one reference: JSON.stringify expands each reference,
/// so what the host receives (and counts) is the expanded text.
const SHARED_REFERENCES: &str =
    "const inner = [0], mid = new Array(1000).fill(inner), big = new Array(30).fill(mid);";

#[test]
fn state_writes_and_the_return_value_share_one_value_budget() {
    // 15 writes of ~120 KB each (1.8 MB), then a ~800 KB return value: 2.6 MB against 2 MiB.
    let code = format!(
        "{SHARED_REFERENCES} for (let i = 0; i < 15; i++) {{ $state['k' + i] = big; delete $state['k' + i]; }} return new Array(200).fill(mid)"
    );
    let runtime = runtime(RuntimeOptions {
        max_value_bytes: Some(SMALL_VALUE_BUDGET as f64),
        ..Default::default()
    });
    let result = run(&runtime, &code, ctx(json!({}), &["state:write:*"]));
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(error.message.contains("maxValueBytes"), "{}", error.message);
    assert!(
        error.message.contains(&SMALL_VALUE_BUDGET.to_string()),
        "{}",
        error.message
    );
    // The same writes alone fit, and so does the same return value alone.
    let writes = run(
        &runtime,
        &format!(
            "{SHARED_REFERENCES} for (let i = 0; i < 15; i++) {{ $state['k' + i] = big; delete $state['k' + i]; }} return 1"
        ),
        ctx(json!({}), &["state:write:*"]),
    );
    assert_eq!(writes.error, None);
    let alone = run(
        &runtime,
        &format!("{SHARED_REFERENCES} return new Array(200).fill(mid)"),
        ctx(json!({}), &[]),
    );
    assert_eq!(alone.error, None);
}

#[test]
fn values_cross_as_the_text_the_guest_made() {
    let result = run(
        shared(),
        "$state.a = {x: [1, 'two', null], y: {}}; $emit('e', [true]); return {b: '\\u00e9\\n'}",
        ctx(json!({}), &["state:write:*", "events:emit:*"]),
    );
    assert_eq!(result.error, None);
    assert_eq!(
        result.state_mutations[0].value.as_ref().unwrap().as_str(),
        r#"{"x":[1,"two",null],"y":{}}"#
    );
    assert_eq!(
        result.events[0].payload.as_ref().unwrap().as_str(),
        "[true]"
    );
    assert_eq!(
        result.return_value.as_ref().unwrap().value(),
        json!({"b": "\u{e9}\n"})
    );
}

#[test]
fn the_value_budget_is_a_runtime_option() {
    let rt = runtime(RuntimeOptions {
        max_value_bytes: Some(1024.0),
        ..Default::default()
    });
    assert_eq!(
        value(&run(&rt, "return 'x'.repeat(900)", ctx(json!({}), &[]))),
        json!("x".repeat(900))
    );
    let error = run(&rt, "return 'x'.repeat(1100)", ctx(json!({}), &[]))
        .error
        .unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(
        error.message.contains("1024-byte budget"),
        "{}",
        error.message
    );
    let error = run(
        &rt,
        "$state.a = 'x'.repeat(600); return 'y'.repeat(600)",
        ctx(json!({}), &["state:write:*"]),
    )
    .error
    .unwrap();
    assert!(error.message.contains("maxValueBytes"), "{}", error.message);
}

#[test]
fn events_beyond_max_event_bytes_are_a_resource_limit() {
    let caps = &["events:emit:*"];
    // The default is 1 MiB: two 600 kB payloads exceed it.
    let result = run(
        shared(),
        "const p = 'x'.repeat(600000); $emit('e', p); $emit('e', p)",
        ctx(json!({}), caps),
    );
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(error.message.contains("maxEventBytes"), "{}", error.message);
    assert!(error.message.contains("1048576-byte"), "{}", error.message);
    assert_eq!(result.events.len(), 1);
    // Each event also counts EVENT_FRAMING_BYTES (128) for its frame: 1 + 99 + 128, then
    // 1 + 52 + 128, is 409 bytes.
    let rt = runtime(RuntimeOptions {
        max_event_bytes: Some(400.0),
        ..Default::default()
    });
    let result = run(
        &rt,
        "$emit('e', 'x'.repeat(97)); $emit('f', 'y'.repeat(50))",
        ctx(json!({}), caps),
    );
    let error = result.error.unwrap();
    assert!(error.message.contains("409 bytes"), "{}", error.message);
    assert!(
        error.message.contains("400-byte limit"),
        "{}",
        error.message
    );
    // Many tiny events are bounded too: a fourth empty one would make 4 × 129 bytes.
    let result = run(&rt, "for (;;) $emit('e')", ctx(json!({}), caps));
    assert!(result.error.unwrap().message.contains("maxEventBytes"));
    assert_eq!(result.events.len(), 3);
}

#[test]
fn deeply_nested_source_is_a_compilation_error() {
    let depth = 20_000;
    let nested = |open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
    };
    for code in [
        format!("return {}", nested("(", "1", ")")),
        format!("return {}", nested("[", "1", "]")),
        format!("return {}", nested("{a:", "1", "}")),
        nested("{", "", "}"),
        format!("return {}", nested("`${", "1", "}`")),
    ] {
        let error = precompile(shared(), &code).unwrap_err();
        assert_eq!(
            error.code,
            nexus_bridge::ApiErrorCode::CompilationError,
            "{}",
            error.message
        );
        assert!(
            error.message.contains("nests too deeply"),
            "{}",
            error.message
        );
        let result = eval(&code);
        assert_eq!(result.error.unwrap().code, ErrorCode::CompilationError);
    }
    // The runtime is still healthy afterwards.
    assert_eq!(value(&eval("return (((1)))")), json!(1));
}

#[test]
fn deleting_a_missing_key_is_not_a_mutation() {
    let result = run(
        shared(),
        "delete $state.missing; delete $state.present; return 1",
        ctx(json!({"present": 1}), &["state:read:*", "state:write:*"]),
    );
    assert_eq!(result.state_mutations.len(), 1);
    assert_eq!(result.state_mutations[0].key, "present");
}

#[test]
fn error_messages_are_cut_to_what_the_host_keeps() {
    let error = eval("throw new Error('x'.repeat(1 << 20))").error.unwrap();
    assert_eq!(error.code, ErrorCode::ExecutionError);
    assert!(error.message.len() < 5000, "{}", error.message.len());
    assert!(error.message.contains("bytes cut"));
}
