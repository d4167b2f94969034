//! Running handlers: return values, globals, errors with locations, isolation.

mod common;

use common::*;
use nexus_bridge::{ErrorCode, ExecutionStatus};
use serde_json::json;

#[test]
fn returns_the_value_of_the_handler_body() {
    let result = eval("return 1 + 2");
    assert_eq!(result.status, ExecutionStatus::Success);
    assert_eq!(value(&result), json!(3));
}

#[test]
fn undefined_is_omitted_and_json_values_round_trip() {
    assert_eq!(eval("const x = 1;").return_value, None);
    let complex = json!({"a": [1, "two", null, true], "b": {"c": 1.5}});
    assert_eq!(value(&eval(&format!("return {complex}"))), complex);
}

#[test]
fn handlers_are_async_function_bodies() {
    let result = eval("const v = await Promise.resolve(20); await null; return v + 1");
    assert_eq!(value(&result), json!(21));
}

#[test]
fn args_and_scope_are_injected() {
    let mut context = ctx(json!({}), &[]);
    context.args = json!({"by": 5});
    context.scope = Some(json!({"user": "ada"}));
    let result = run(shared(), "return [$args.by * 2, $scope.user]", context);
    assert_eq!(value(&result), json!([10, "ada"]));
}

#[test]
fn scope_is_an_empty_object_when_the_context_has_none() {
    assert_eq!(value(&eval("return Object.keys($scope)")), json!([]));
}

#[test]
fn thrown_errors_report_name_message_and_location_in_the_handlers_source() {
    let result = eval("const a = 1;\n  null.boom;\nreturn a");
    let error = result.error.expect("an error");
    assert_eq!(error.code, ErrorCode::ExecutionError);
    assert!(error.message.starts_with("TypeError:"), "{}", error.message);
    let location = error.location.expect("a location");
    // QuickJS points at the start of the failing expression.
    assert_eq!(
        (location.line, location.column),
        (2, 3),
        "stack: {:?}",
        error.stack
    );
}

#[test]
fn locations_on_the_first_line_are_not_shifted_by_the_wrapper() {
    let error = eval("throw new Error('first line')").error.unwrap();
    assert_eq!(error.message, "Error: first line");
    let location = error.location.expect("a location");
    // Where the Error is constructed: `Error` starts in column 11.
    assert_eq!(
        (location.line, location.column),
        (1, 11),
        "stack: {:?}",
        error.stack
    );
}

#[test]
fn syntax_errors_are_compilation_errors_with_a_location() {
    let error = eval("const ok = 1;\nlet = = 2;").error.unwrap();
    assert_eq!(error.code, ErrorCode::CompilationError);
    assert!(
        error.message.starts_with("SyntaxError"),
        "{}",
        error.message
    );
    let location = error.location.expect("a location");
    assert_eq!(location.line, 2, "{error:?}");
}

#[test]
fn thrown_values_that_are_not_errors_are_described() {
    assert_eq!(eval("throw 42").error.unwrap().message, "42");
    assert_eq!(eval("throw 'plain'").error.unwrap().message, "plain");
    assert_eq!(
        eval("throw {code: 7}").error.unwrap().message,
        "{\"code\":7}"
    );
    assert_eq!(eval("throw null").error.unwrap().message, "null");
    assert_eq!(
        eval("throw undefined").error.unwrap().code,
        ErrorCode::ExecutionError
    );
}

#[test]
fn rejections_the_handler_ignores_fail_it() {
    let error = eval("Promise.reject(new Error('lost')); return 1")
        .error
        .unwrap();
    assert_eq!(error.message, "Error: lost");
}

#[test]
fn awaiting_a_promise_that_never_settles_is_an_error_not_a_hang() {
    let error = eval("await new Promise(() => {}); return 1").error.unwrap();
    assert_eq!(error.code, ErrorCode::ExecutionError);
    assert!(error.message.contains("never settle"), "{}", error.message);
}

#[test]
fn nothing_leaks_from_one_execution_to_the_next() {
    value(&eval(
        "globalThis.leak = 1; Object.prototype.polluted = true; Array.prototype.push = null",
    ));
    let result = eval("return [typeof leak, ({}).polluted, typeof [].push]");
    assert_eq!(value(&result), json!(["undefined", null, "function"]));
}

#[test]
fn eval_and_the_function_constructor_are_unavailable() {
    for code in [
        "return eval('1')",
        "return Function('return 1')()",
        "return (async function(){}).constructor('return 1')()",
        "return (function*(){}).constructor('yield 1')().next()",
    ] {
        let error = eval(code)
            .error
            .unwrap_or_else(|| panic!("{code} succeeded"));
        assert_eq!(error.code, ErrorCode::ExecutionError, "{code}");
    }
    assert_eq!(
        value(&eval(
            "return [typeof WebAssembly, typeof performance, typeof require]"
        )),
        json!(["undefined", "undefined", "undefined"])
    );
}

#[test]
fn dynamic_import_is_refused() {
    let error = eval("await import('fs')").error.unwrap();
    assert_eq!(error.code, ErrorCode::ExecutionError);
}

#[test]
fn date_now_is_the_wall_clock() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let seen = value(&eval("return Date.now()")).as_f64().unwrap();
    assert!((seen - now).abs() < 60_000.0, "{seen} vs {now}");
}

#[test]
fn metrics_describe_the_execution() {
    let result = eval("return 1");
    assert!(result.metrics.duration_us > 0);
    assert!(result.metrics.memory_used_bytes > 0);
    assert!(result.metrics.memory_peak_bytes >= result.metrics.memory_used_bytes);
}
