//! Host calls and the capabilities they need: $state, $emit, $view, $log.

mod common;

use common::*;
use nexus_bridge::{ErrorCode, MutationOperation};
use serde_json::json;

#[test]
fn state_reads_the_snapshot_and_sees_its_own_writes() {
    let context = ctx(
        json!({"count": 1, "todos": [{"id": 1}]}),
        &["state:read:*", "state:write:count"],
    );
    let result = run(
        shared(),
        "const before = $state.count; $state.count = before + 1; return [before, $state.count, $state.todos, $state.missing === undefined]",
        context,
    );
    assert_eq!(value(&result), json!([1, 2, [{"id": 1}], true]));
    assert_eq!(result.state_mutations.len(), 1);
    assert_eq!(result.state_mutations[0].key, "count");
    assert_eq!(
        result.state_mutations[0].value.as_ref().map(|v| v.value()),
        Some(json!(2))
    );
    assert_eq!(result.state_mutations[0].operation, MutationOperation::Set);
}

#[test]
fn deletes_are_recorded_and_hide_the_key() {
    let context = ctx(json!({"draft": "x"}), &["state:read:*", "state:write:*"]);
    let result = run(
        shared(),
        "delete $state.draft; return ['draft' in $state, Object.keys($state)]",
        context,
    );
    assert_eq!(value(&result), json!([false, []]));
    assert_eq!(
        result.state_mutations[0].operation,
        MutationOperation::Delete
    );
    assert_eq!(
        result.state_mutations[0].value.as_ref().map(|v| v.value()),
        None
    );
}

#[test]
fn enumerating_state_shows_only_readable_keys() {
    let context = ctx(json!({"public": 1, "secret": 2}), &["state:read:public"]);
    let result = run(shared(), "return Object.keys($state)", context);
    assert_eq!(value(&result), json!(["public"]));
}

#[test]
fn a_denied_host_call_ends_the_handler_and_names_the_missing_token() {
    let context = ctx(json!({"count": 1}), &["state:read:count"]);
    let result = run(
        shared(),
        "try { $state.count = 2 } catch (e) { return 'caught' }",
        context,
    );
    let error = result.error.expect("denied");
    assert_eq!(error.code, ErrorCode::PermissionDenied);
    assert!(
        error.message.contains("\"state:write:count\""),
        "{}",
        error.message
    );
}

#[test]
fn every_host_namespace_checks_its_capability() {
    let cases = [
        ("return $state.x", "state:read:x"),
        ("$emit('saved', 1)", "events:emit:saved"),
        ("$view.focus('list')", "view:update:list"),
        ("$view.custom('flash')", "view:update:*"),
    ];
    for (code, token) in cases {
        let error = run(shared(), code, ctx(json!({}), &[]))
            .error
            .unwrap_or_else(|| panic!("{code} allowed"));
        assert_eq!(error.code, ErrorCode::PermissionDenied, "{code}");
        assert!(error.message.contains(token), "{code}: {}", error.message);
    }
    let error = run(
        shared(),
        "await $ext.http.get('x')",
        with_ext(ctx(json!({}), &[]), "http", &["get"]),
    )
    .error
    .unwrap();
    assert!(error.message.contains("\"ext:http\""), "{}", error.message);
}

#[test]
fn events_and_view_commands_are_recorded_in_order() {
    let context = ctx(json!({}), &["events:emit:*", "view:update:*"]);
    let code = "$emit('a', {n: 1}); $view.setFilter('list', {q: 'x'}); $view.scrollTo('list', 10); $view.focus('input'); $view.custom('flash', 'banner', [1]); $emit('b')";
    let result = run(shared(), code, context);
    value(&result);
    let names: Vec<_> = result
        .events
        .iter()
        .map(|e| (e.name.as_str(), e.payload.as_ref().map(|v| v.value())))
        .collect();
    assert_eq!(names, vec![("a", Some(json!({"n": 1}))), ("b", None)]);
    let views: Vec<_> = result
        .view_commands
        .iter()
        .map(|v| {
            (
                v.kind.as_str(),
                v.component_id.as_deref(),
                v.args.as_ref().map(|a| a.value()),
            )
        })
        .collect();
    assert_eq!(
        views,
        vec![
            ("setFilter", Some("list"), Some(json!({"q": "x"}))),
            ("scrollTo", Some("list"), Some(json!(10))),
            ("focus", Some("input"), None),
            ("flash", Some("banner"), Some(json!([1]))),
        ]
    );
}

#[test]
fn logging_needs_no_capability() {
    let result = eval(
        "$log('a', {b: 1}); $log.warn('w'); $log.error(new Error('e')); $log.debug(1n); return 1",
    );
    assert_eq!(value(&result), json!(1));
    assert_eq!(result.metrics.host_calls, 4);
}

#[test]
fn mutations_recorded_before_a_failure_are_still_reported() {
    let context = ctx(json!({}), &["state:write:a"]);
    let result = run(shared(), "$state.a = 1; throw new Error('after')", context);
    assert_eq!(result.error.unwrap().code, ErrorCode::ExecutionError);
    assert_eq!(result.state_mutations.len(), 1);
}
