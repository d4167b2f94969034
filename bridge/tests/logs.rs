//! Handler output: console.* and $log lines, formatted like Node's util.format, kept per
//! execution within `limits::LOGS`, counted against the value budget and returned in results as
//! deltas, with the error that ended an execution as their last line.

mod common;

use common::*;
use nexus_bridge::limits::LOGS;
use nexus_bridge::{
    ErrorCode, ErrorLocation, ExecutionResult, ExecutionStatus, LogLevel, ResumeValue,
    RuntimeOptions,
};
use serde_json::json;

fn messages(result: &ExecutionResult) -> Vec<String> {
    result.logs.iter().map(|l| l.message.clone()).collect()
}

#[test]
fn console_writes_lines_at_their_levels() {
    let result = eval(
        "console.log('a'); console.info('b'); console.debug('c'); console.warn('d'); console.error('e'); $log('f'); $log.warn('g'); return 1",
    );
    assert_eq!(value(&result), json!(1));
    let levels: Vec<(LogLevel, &str)> = result
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    assert_eq!(
        levels,
        vec![
            (LogLevel::Info, "a"),
            (LogLevel::Info, "b"),
            (LogLevel::Debug, "c"),
            (LogLevel::Warn, "d"),
            (LogLevel::Error, "e"),
            (LogLevel::Info, "f"),
            (LogLevel::Warn, "g"),
        ]
    );
    assert!(result.logs.iter().all(|l| l.location.is_none()));
}

#[test]
fn console_formats_values_like_node() {
    let cases = [
        (
            "'hi', 1, -0, true, null, undefined, 10n",
            "hi 1 -0 true null undefined 10n",
        ),
        (
            "{a: 1, 'b-c': 'x', n: {m: {k: {z: 1}}}}, [1, 'a', [2, [3, [4]]]]",
            "{ a: 1, 'b-c': 'x', n: { m: { k: [Object] } } } [ 1, 'a', [ 2, [ 3, [Array] ] ] ]",
        ),
        (
            "'%s is %d, %i, %f %j %o %O %% %c.', 'Bob', 42.5, 42.9, '1.5', {a: 1}, 'str', {b: [1]}, 'css', 'extra'",
            "Bob is 42.5, 42, 1.5 {\"a\":1} 'str' { b: [ 1 ] } % . extra",
        ),
        (
            "new Map([[1, 'a']]), new Set([1, 2]), Object.create(null), [], {}",
            "Map(1) { 1 => 'a' } Set(2) { 1, 2 } [Object: null prototype] {} [] {}",
        ),
        (
            "new (class Foo { constructor() { this.a = 1 } })(), function named() {}, () => 1",
            "Foo { a: 1 } [Function: named] [Function (anonymous)]",
        ),
        ("'%d', 'abc'", "NaN"),
        (
            "Symbol('s'), new Date(0)",
            "Symbol(s) 1970-01-01T00:00:00.000Z",
        ),
    ];
    for (args, expected) in cases {
        let result = eval(&format!("console.log({args})"));
        assert_eq!(messages(&result), vec![expected.to_string()], "{args}");
    }
    let circular = eval("const o = {x: 1}; o.self = o; console.log(o)");
    assert_eq!(messages(&circular), vec!["{ x: 1, self: [Circular] }"]);
}

#[test]
fn console_cannot_be_replaced_or_changed_by_a_handler() {
    let result = eval(
        "'use strict'; const tries = [];
         try { console = null } catch (e) { tries.push('assign') }
         try { console.log = null } catch (e) { tries.push('method') }
         try { delete globalThis.console } catch (e) { tries.push('delete') }
         try { Object.defineProperty(globalThis, 'console', {value: 1}) } catch (e) { tries.push('define') }
         Object.prototype.toString = () => 'x'; String.prototype.indexOf = () => -1;
         console.log('still %s', 'works', [1]);
         return tries",
    );
    assert_eq!(
        value(&result),
        json!(["assign", "method", "delete", "define"])
    );
    assert_eq!(messages(&result), vec!["still works [ 1 ]"]);
}

#[test]
fn lines_beyond_the_count_bound_are_dropped_with_one_marker() {
    let result = eval("for (let i = 0; i < 250; i++) console.log('line', i); return 'done'");
    assert_eq!(value(&result), json!("done"));
    assert_eq!(result.logs.len(), LOGS.max_lines + 1);
    assert_eq!(result.logs[LOGS.max_lines - 1].message, "line 99");
    let marker = result.logs.last().unwrap();
    assert_eq!(marker.level, LogLevel::Warn);
    assert!(
        marker.message.starts_with(
            "150 more log lines were dropped: one execution keeps at most 100 lines and 65536 bytes"
        ),
        "{}",
        marker.message
    );
}

#[test]
fn lines_beyond_the_byte_bound_are_dropped_and_long_lines_cut() {
    let result =
        eval("for (let i = 0; i < 40; i++) console.log(String(i % 10).repeat(10000)); return 1");
    assert_eq!(value(&result), json!(1));
    let kept = &result.logs[..result.logs.len() - 1];
    assert_eq!(kept.len(), LOGS.max_bytes / LOGS.max_message_bytes);
    assert!(
        kept.iter()
            .all(|l| l.message.len() == LOGS.max_message_bytes)
    );
    let total: usize = kept.iter().map(|l| l.message.len()).sum();
    assert!(total <= LOGS.max_bytes);
    assert!(
        result
            .logs
            .last()
            .unwrap()
            .message
            .starts_with(&format!("{} more log lines were dropped", 40 - kept.len()))
    );
    // A cut inside a character loses that character, not the text.
    let cut = eval("console.log('a' + '\u{e9}'.repeat(3000))");
    assert_eq!(cut.logs[0].message, format!("a{}", "\u{e9}".repeat(2047)));
}

#[test]
fn a_flood_is_bounded_by_the_handler_budgets_and_keeps_its_lines_bounded() {
    let rt = runtime(RuntimeOptions {
        timeout_ms: Some(300.0),
        max_host_calls: Some(10_000_000.0),
        ..Default::default()
    });
    let result = run(
        &rt,
        "for (;;) console.log('x'.repeat(1e4))",
        ctx(json!({}), &[]),
    );
    assert_eq!(result.error.as_ref().unwrap().code, ErrorCode::Timeout);
    let kept: usize = result.logs.iter().map(|l| l.message.len()).sum();
    // The kept lines, the marker and the error's line.
    assert_eq!(
        result.logs.len(),
        LOGS.max_bytes / LOGS.max_message_bytes + 2
    );
    assert!(kept <= LOGS.max_bytes + 1024, "{kept}");
}

#[test]
fn kept_lines_count_against_the_value_budget() {
    let rt = runtime(RuntimeOptions {
        max_value_bytes: Some(2048.0),
        ..Default::default()
    });
    let result = run(
        &rt,
        "console.log('x'.repeat(1500)); return 'y'.repeat(1000)",
        ctx(json!({}), &[]),
    );
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(
        error.message.contains("2048-byte budget"),
        "{}",
        error.message
    );
    assert_eq!(result.logs[0].message, "x".repeat(1500));
}

#[test]
fn an_uncaught_error_ends_the_lines_with_its_message_and_location() {
    let result = eval("console.log('before');\nnull.x;");
    assert_eq!(result.status, ExecutionStatus::Error);
    assert_eq!(result.logs.len(), 2);
    let last = &result.logs[1];
    assert_eq!(last.level, LogLevel::Error);
    assert_eq!(last.message, result.error.as_ref().unwrap().message);
    assert!(last.message.contains("TypeError"), "{}", last.message);
    assert_eq!(last.location, Some(ErrorLocation { line: 2, column: 1 }));
}

#[test]
fn results_carry_the_lines_since_the_previous_result() {
    let rt = shared();
    let code = "console.log('one'); await $ext.http.get('/a');
        for (let i = 0; i < 120; i++) console.log('two', i);
        await $ext.http.get('/b'); console.log('three'); return 1";
    let first = run(
        rt,
        code,
        with_ext(ctx(json!({}), &["ext:http"]), "http", &["get"]),
    );
    assert_eq!(first.status, ExecutionStatus::Suspended);
    assert_eq!(messages(&first), vec!["one"]);
    let id = first.suspension.unwrap().suspension_id;
    let second = resume(rt, &id, ResumeValue::Success(None)).unwrap();
    assert_eq!(second.status, ExecutionStatus::Suspended);
    assert_eq!(second.logs.len(), 100);
    assert_eq!(second.logs[0].message, "two 0");
    assert!(
        second.logs[99]
            .message
            .starts_with("21 more log lines were dropped"),
        "{}",
        second.logs[99].message
    );
    let id = second.suspension.unwrap().suspension_id;
    let last = resume(rt, &id, ResumeValue::Success(None)).unwrap();
    assert_eq!(value(&last), json!(1));
    assert_eq!(messages(&last).len(), 1);
    assert!(messages(&last)[0].starts_with("1 more log lines were dropped"));
    assert!(last.logs.iter().all(|l| l.at_ms >= first.logs[0].at_ms));
}
