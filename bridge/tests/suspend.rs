//! $ext calls suspend the handler; resumeHandler settles them, as many times as it takes.

mod common;

use common::*;
use nexus_bridge::{
    ApiErrorCode, ErrorCode, ExecutionStatus, ResumeValue, RuntimeOptions, blocking,
};
use serde_json::json;

fn http_ctx(capabilities: &[&str]) -> nexus_bridge::ExecutionContext {
    with_ext(ctx(json!({"n": 0}), capabilities), "http", &["get", "post"])
}

#[test]
fn a_handler_suspends_on_each_ext_call_and_resumes_to_the_end() {
    let rt = shared();
    let caps = &["ext:http", "state:read:*", "state:write:*"];
    let code = "$state.n = 1; const a = await $ext.http.get('/a', {x: 1}); $state.n = 2; const b = await $ext.http.post('/b'); return a + b";
    let first = run(rt, code, http_ctx(caps));
    assert_eq!(first.status, ExecutionStatus::Suspended);
    let suspension = first.suspension.clone().unwrap();
    assert_eq!(
        (
            suspension.extension_name.as_str(),
            suspension.method.as_str()
        ),
        ("http", "get")
    );
    assert_eq!(suspension.args.value(), json!(["/a", {"x": 1}]));
    assert_eq!(first.state_mutations.len(), 1);

    let second = resume(
        rt,
        &suspension.suspension_id,
        ResumeValue::Success(Some(json!(40))),
    )
    .unwrap();
    assert_eq!(second.status, ExecutionStatus::Suspended);
    let next = second.suspension.clone().unwrap();
    assert_eq!(next.method, "post");
    assert_ne!(next.suspension_id, suspension.suspension_id);
    // Results are deltas: only the write made after the first suspension.
    assert_eq!(second.state_mutations.len(), 1);
    assert_eq!(
        second.state_mutations[0].value.as_ref().map(|v| v.value()),
        Some(json!(2))
    );

    let last = resume(
        rt,
        &next.suspension_id,
        ResumeValue::Success(Some(json!(2))),
    )
    .unwrap();
    assert_eq!(value(&last), json!(42));
    assert!(last.state_mutations.is_empty());
}

#[test]
fn a_failed_ext_call_is_an_error_the_handler_can_catch() {
    let rt = shared();
    let code = "try { await $ext.http.get('/x') } catch (e) { return 'caught: ' + e.message }";
    let first = run(rt, code, http_ctx(&["ext:http"]));
    let id = first.suspension.unwrap().suspension_id;
    let last = resume(
        rt,
        &id,
        ResumeValue::Failure("DOMAIN_NOT_ALLOWED: nope".into()),
    )
    .unwrap();
    assert_eq!(value(&last), json!("caught: DOMAIN_NOT_ALLOWED: nope"));
}

#[test]
fn parallel_ext_calls_suspend_one_after_the_other() {
    let rt = shared();
    let code =
        "const [a, b] = await Promise.all([$ext.http.get(1), $ext.http.get(2)]); return a + b";
    let first = run(rt, code, http_ctx(&["ext:http"]));
    let one = first.suspension.unwrap();
    assert_eq!(one.args.value(), json!([1]));
    let second = resume(
        rt,
        &one.suspension_id,
        ResumeValue::Success(Some(json!(10))),
    )
    .unwrap();
    let two = second.suspension.unwrap();
    assert_eq!(two.args.value(), json!([2]));
    let last = resume(rt, &two.suspension_id, ResumeValue::Success(Some(json!(5)))).unwrap();
    assert_eq!(value(&last), json!(15));
}

#[test]
fn unregistered_methods_are_type_errors() {
    let result = run(
        shared(),
        "try { $ext.http.delete() } catch (e) { return e.constructor.name }",
        http_ctx(&["ext:http"]),
    );
    assert_eq!(value(&result), json!("TypeError"));
}

#[test]
fn resuming_twice_or_an_unknown_id_is_refused_with_the_reason() {
    let rt = shared();
    let first = run(rt, "return await $ext.http.get()", http_ctx(&["ext:http"]));
    let id = first.suspension.unwrap().suspension_id;
    resume(rt, &id, ResumeValue::Success(None)).unwrap();
    let again = resume(rt, &id, ResumeValue::Success(None)).unwrap_err();
    assert_eq!(again.code, ApiErrorCode::SuspensionNotFound);
    assert!(
        again.message.contains("already been resumed"),
        "{}",
        again.message
    );
    let unknown = resume(rt, "sus_nope", ResumeValue::Success(None)).unwrap_err();
    assert!(unknown.message.contains("unknown"), "{}", unknown.message);
}

#[test]
fn parked_handlers_expire_and_free_their_slot() {
    let rt = runtime(RuntimeOptions {
        max_instances: Some(1.0),
        timeout_ms: Some(100.0),
        ..Default::default()
    });
    let first = run(&rt, "return await $ext.http.get()", http_ctx(&["ext:http"]));
    let id = first.suspension.unwrap().suspension_id;
    assert_eq!(rt.stats().unwrap().suspended_instances, 1);
    assert_eq!(rt.stats().unwrap().available_instances, 0);
    // The only slot is parked: this call waits until the parked handler expires.
    assert_eq!(value(&run(&rt, "return 1", ctx(json!({}), &[]))), json!(1));
    let expired = resume(&rt, &id, ResumeValue::Success(None)).unwrap_err();
    assert!(expired.message.contains("expired"), "{}", expired.message);
}

#[test]
fn state_written_before_a_suspension_is_visible_after_it() {
    let rt = shared();
    let code = "$state.n = 5; await $ext.http.get(); return $state.n";
    let first = run(
        rt,
        code,
        http_ctx(&["ext:http", "state:read:*", "state:write:*"]),
    );
    let id = first.suspension.unwrap().suspension_id;
    assert_eq!(
        value(&resume(rt, &id, ResumeValue::Success(None)).unwrap()),
        json!(5)
    );
}

#[test]
fn a_trap_after_resuming_still_reports_the_right_code() {
    let rt = shared();
    let first = run(
        rt,
        "await $ext.http.get(); for (;;) {}",
        http_ctx(&["ext:http"]),
    );
    let id = first.suspension.unwrap().suspension_id;
    let last = resume(rt, &id, ResumeValue::Success(None)).unwrap();
    assert_eq!(last.error.unwrap().code, ErrorCode::Timeout);
}

#[test]
fn calls_after_shutdown_are_refused() {
    let rt = runtime(RuntimeOptions::default());
    blocking::<()>(|reply| rt.shutdown(Box::new(move || reply(Ok(()))))).unwrap();
    let error = blocking(|reply| rt.execute("return 1".into(), ctx(json!({}), &[]), None, reply))
        .unwrap_err();
    assert_eq!(error.code, ApiErrorCode::RuntimeShutDown);
    assert_eq!(rt.stats().unwrap_err().code, ApiErrorCode::RuntimeShutDown);
    let ready = blocking(|reply| rt.ready(reply)).unwrap_err();
    assert_eq!(ready.code, ApiErrorCode::RuntimeShutDown);
}

#[test]
fn a_resume_with_fresh_state_shows_the_latest_state_to_the_handler() {
    let rt = shared();
    let caps = &["ext:http", "state:read:*", "state:write:*"];
    // Read, await, read again: the second read must see what others wrote meanwhile.
    let code = "const before = $state.n; $state.mine = 1; await $ext.http.get('/x'); \
                $state.n = $state.n + 1; return [before, $state.n, $state.mine, $state.other, Object.keys($state)]";
    let first = run(rt, code, http_ctx(caps));
    assert_eq!(first.status, ExecutionStatus::Suspended);
    let id = first.suspension.unwrap().suspension_id;
    // The panel moved on: n is 10, another execution added `other`; this one's own write is kept.
    let last = resume_with_state(
        rt,
        &id,
        ResumeValue::Success(None),
        r#"{"n":10,"mine":1,"other":"x"}"#,
    )
    .unwrap();
    assert_eq!(value(&last), json!([0, 11, 1, "x", ["mine", "n", "other"]]));
    assert_eq!(last.state_mutations.len(), 1);
    assert_eq!(
        last.state_mutations[0].value.as_ref().map(|v| v.value()),
        Some(json!(11))
    );
}

#[test]
fn a_resume_with_a_state_that_is_not_an_object_ends_the_execution() {
    let rt = shared();
    let caps = &["ext:http", "state:read:*"];
    let first = run(
        rt,
        "await $ext.http.get('/x'); return $state.n",
        http_ctx(caps),
    );
    let id = first.suspension.unwrap().suspension_id;
    let last = resume_with_state(rt, &id, ResumeValue::Success(None), "[1, 2]").unwrap();
    assert_eq!(last.status, ExecutionStatus::Error);
    let error = last.error.unwrap();
    assert_eq!(error.code, ErrorCode::InternalError);
    assert!(
        error.message.contains("state snapshot"),
        "{}",
        error.message
    );
}

#[test]
fn the_time_budget_spans_every_segment() {
    let rt = runtime(RuntimeOptions {
        timeout_ms: Some(300.0),
        ..Default::default()
    });
    // Each segment does the same work, tens of milliseconds of CPU time: far less than the
    // 300 ms budget, so only a budget that spans every segment stops the 100 of them. (The
    // budget is CPU time: a spin on Date.now() would measure the machine's load instead.)
    let code = "for (let i = 0; i < 100; i++) { let x = 0; for (let j = 0; j < 500000; j++) x += j % 7; \
                try { await $ext.http.get('/x') } catch {} } return 'ran on'";
    let mut result = run(&rt, code, http_ctx(&["ext:http"]));
    let mut resumes = 0;
    while result.status == ExecutionStatus::Suspended {
        let id = result.suspension.unwrap().suspension_id;
        result = resume(&rt, &id, ResumeValue::Failure("refused".into())).unwrap();
        resumes += 1;
    }
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::Timeout, "{}", error.message);
    assert!(
        error.message.contains("300 ms of CPU time (timeoutMs)"),
        "{}",
        error.message
    );
    assert!(
        resumes < 100,
        "{resumes} resumes: the budget did not span them"
    );
    assert!(
        result.metrics.cpu_time_us >= 300_000,
        "{:?}",
        result.metrics
    );
}

#[test]
fn suspensions_per_execution_are_capped() {
    let rt = runtime(RuntimeOptions {
        max_suspensions: Some(3.0),
        ..Default::default()
    });
    let code = "for (;;) { await $ext.http.get('/x') }";
    let mut result = run(&rt, code, http_ctx(&["ext:http"]));
    let mut parked = 0;
    while result.status == ExecutionStatus::Suspended {
        parked += 1;
        let id = result.suspension.unwrap().suspension_id;
        result = resume(&rt, &id, ResumeValue::Success(None)).unwrap();
    }
    assert_eq!(parked, 3);
    let error = result.error.unwrap();
    assert_eq!(error.code, ErrorCode::ResourceLimit);
    assert!(
        error.message.contains("maxSuspensions"),
        "{}",
        error.message
    );
    assert_eq!(rt.stats().unwrap().suspended_instances, 0);
}

#[test]
fn a_parked_handler_expires_at_the_execution_deadline() {
    let rt = runtime(RuntimeOptions {
        timeout_ms: Some(50.0),
        execution_deadline_ms: Some(200.0),
        ..Default::default()
    });
    let first = run(
        &rt,
        "await $ext.http.get('/x'); return 1",
        http_ctx(&["ext:http"]),
    );
    let id = first.suspension.unwrap().suspension_id;
    std::thread::sleep(std::time::Duration::from_millis(400));
    let error = resume(&rt, &id, ResumeValue::Success(None)).unwrap_err();
    assert_eq!(error.code, ApiErrorCode::SuspensionNotFound);
    assert!(error.message.contains("deadline"), "{}", error.message);
}

#[test]
fn a_cancelled_handler_frees_its_instance() {
    let rt = runtime(RuntimeOptions {
        max_instances: Some(1.0),
        ..Default::default()
    });
    let first = run(
        &rt,
        "await $ext.http.get('/x'); return 1",
        http_ctx(&["ext:http"]),
    );
    let id = first.suspension.unwrap().suspension_id;
    assert_eq!(rt.stats().unwrap().available_instances, 0);
    assert!(rt.cancel(&id));
    assert!(!rt.cancel(&id));
    assert_eq!(rt.stats().unwrap().available_instances, 1);
    let error = resume(&rt, &id, ResumeValue::Success(None)).unwrap_err();
    assert!(error.message.contains("cancelled"), "{}", error.message);
    assert_eq!(value(&eval_on(&rt, "return 2")), json!(2));
}

#[test]
fn an_extension_value_the_sandbox_cannot_take_is_an_error_the_handler_catches() {
    let rt = shared();
    let code = "try { await $ext.http.get('/x'); return 'took it' } catch (e) { return e.message }";
    for text in [
        format!("{}1{}", "[".repeat(200), "]".repeat(200)),
        "{\"a\":".to_string(),
    ] {
        let first = run(rt, code, http_ctx(&["ext:http"]));
        let id = first.suspension.unwrap().suspension_id;
        let last = resume(rt, &id, ResumeValue::SuccessJson(text.into_bytes())).unwrap();
        let message = value(&last);
        assert!(
            message.as_str().unwrap().contains("cannot be passed"),
            "{message}"
        );
    }
    let first = run(
        rt,
        code.replace("'took it'", "await $ext.http.get('/y')")
            .as_str(),
        http_ctx(&["ext:http"]),
    );
    let id = first.suspension.unwrap().suspension_id;
    let next = resume(
        rt,
        &id,
        ResumeValue::SuccessJson(br#"{"ok":true}"#.to_vec()),
    )
    .unwrap();
    assert_eq!(next.status, ExecutionStatus::Suspended);
}
