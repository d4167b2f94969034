//! The runtime as a whole: queueing beyond maxInstances, stats and metrics, configuration errors.

mod common;

use std::sync::mpsc;

use common::*;
use nexus_bridge::{ApiErrorCode, ExecutionStatus, Runtime, RuntimeOptions};
use serde_json::json;

#[test]
fn calls_beyond_max_instances_queue_and_all_complete() {
    let rt = runtime(RuntimeOptions {
        max_instances: Some(1.0),
        ..Default::default()
    });
    let (tx, rx) = mpsc::channel();
    for i in 0..20 {
        let tx = tx.clone();
        let code = format!("let x = 0; for (let j = 0; j < 1000; j++) x += j; return {i}");
        rt.execute(
            code,
            ctx(json!({}), &[]),
            None,
            Box::new(move |r| tx.send(r).unwrap()),
        );
    }
    let mut values: Vec<i64> = (0..20)
        .map(|_| value(&rx.recv().unwrap().unwrap()).as_i64().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, (0..20).collect::<Vec<_>>());
}

#[test]
fn parked_handlers_do_not_block_resumes() {
    let rt = runtime(RuntimeOptions {
        max_instances: Some(2.0),
        ..Default::default()
    });
    let context = || with_ext(ctx(json!({}), &["ext:db"]), "db", &["load"]);
    let a = run(&rt, "return await $ext.db.load('a')", context());
    let b = run(&rt, "return await $ext.db.load('b')", context());
    // Both slots are parked; resuming them needs no new slot.
    for (result, answer) in [(a, 1), (b, 2)] {
        let id = result.suspension.unwrap().suspension_id;
        let done = resume(
            &rt,
            &id,
            nexus_bridge::ResumeValue::Success(Some(json!(answer))),
        )
        .unwrap();
        assert_eq!(value(&done), json!(answer));
    }
}

#[test]
fn stats_and_metrics_count_executions() {
    let rt = runtime(RuntimeOptions {
        max_instances: Some(3.0),
        ..Default::default()
    });
    value(&run(&rt, "return 1", ctx(json!({}), &[])));
    value(&run(&rt, "return 1", ctx(json!({}), &[])));
    assert_eq!(
        run(&rt, "throw 1", ctx(json!({}), &[])).status,
        ExecutionStatus::Error
    );
    let stats = rt.stats().unwrap();
    assert_eq!(stats.total_executions, 3);
    assert_eq!(
        (stats.successful_executions, stats.failed_executions),
        (2, 1)
    );
    assert_eq!(
        (
            stats.max_instances,
            stats.available_instances,
            stats.active_instances
        ),
        (3, 3, 0)
    );
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 2));
    assert!((stats.cache_hit_rate - 1.0 / 3.0).abs() < 1e-9);
    assert!(stats.average_duration_us > 0.0);

    let metrics = rt.metrics().unwrap();
    assert!(
        metrics.contains("nexus_bridge_executions_total{status=\"success\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("nexus_bridge_execution_errors_total{code=\"EXECUTION_ERROR\"} 1"));
    assert!(metrics.contains("nexus_bridge_instances_max 3"));
}

#[test]
fn invalid_configuration_is_refused_with_the_field_named() {
    let options = RuntimeOptions {
        memory_limit_bytes: Some(1024.0),
        ..Default::default()
    };
    let error = Runtime::new(&options).err().expect("refused");
    assert_eq!(error.code, ApiErrorCode::InvalidConfig);
    assert!(
        error
            .message
            .starts_with("memoryLimitBytes must be an integer from "),
        "{}",
        error.message
    );

    let rt = shared();
    let error = nexus_bridge::blocking(|reply| {
        rt.execute("return 1".into(), ctx(json!({}), &[]), Some(-5.0), reply)
    })
    .unwrap_err();
    assert_eq!(error.code, ApiErrorCode::InvalidConfig);
    assert!(error.message.contains("timeoutMs"), "{}", error.message);
}

#[test]
fn the_guest_fits_in_the_smallest_memory_limit() {
    let floor = nexus_bridge::config::MIN_MEMORY_LIMIT_BYTES;
    let needed = shared().minimum_memory_bytes().unwrap();
    assert!(
        needed <= floor,
        "the guest needs {needed} bytes, the floor is {floor}"
    );
    let below = RuntimeOptions {
        memory_limit_bytes: Some((floor - 1) as f64),
        ..Default::default()
    };
    assert_eq!(
        Runtime::new(&below).err().unwrap().code,
        ApiErrorCode::InvalidConfig
    );
    let rt = runtime(RuntimeOptions {
        memory_limit_bytes: Some(floor as f64),
        ..Default::default()
    });
    assert_eq!(
        value(&run(&rt, "return 'fits'", ctx(json!({}), &[]))),
        json!("fits")
    );
}

#[test]
fn the_constructor_returns_before_the_engine_is_ready_and_calls_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    // A fresh cache directory and engine configuration: this runtime builds its own engine.
    let options = RuntimeOptions {
        cache_dir: Some(dir.path().to_string_lossy().into()),
        max_instances: Some(7.0),
        ..Default::default()
    };
    let rt = Runtime::new(&options).unwrap();
    assert_eq!(
        value(&run(&rt, "return 'waited'", ctx(json!({}), &[]))),
        json!("waited")
    );
    nexus_bridge::blocking(|reply| rt.ready(reply)).unwrap();
}
