//! Bytecode (precompile, the SHA-256 cache) and the compiled guest module cache on disk.

mod common;

use std::fs;

use common::*;
use nexus_bridge::module_cache::{self, ModuleSource};
use nexus_bridge::{ApiErrorCode, ErrorCode, RuntimeOptions};
use serde_json::json;

#[test]
fn precompiled_bytecode_runs_with_a_fresh_state_each_time() {
    let rt = shared();
    let bytecode = precompile(
        rt,
        "globalThis.n = (globalThis.n || 0) + 1; return n + $args.x",
    )
    .unwrap();
    for _ in 0..3 {
        let mut context = ctx(json!({}), &[]);
        context.args = json!({"x": 10});
        assert_eq!(
            value(&run_compiled(rt, bytecode.clone(), context)),
            json!(11)
        );
    }
}

#[test]
fn precompiling_bad_syntax_is_refused_with_a_location() {
    let error = precompile(shared(), "return 1 +;").unwrap_err();
    assert_eq!(error.code, ApiErrorCode::CompilationError);
    assert_eq!(error.location.unwrap().line, 1);
}

#[test]
fn corrupt_or_foreign_bytecode_is_an_invalid_handler() {
    let rt = shared();
    let mut bytecode = precompile(rt, "return 1").unwrap();
    let last = bytecode.len() - 1;
    bytecode[last] ^= 0xff;
    for bad in [bytecode, b"not bytecode at all".to_vec(), vec![]] {
        let result = run_compiled(rt, bad, ctx(json!({}), &[]));
        assert_eq!(result.error.unwrap().code, ErrorCode::InvalidHandler);
    }
}

#[test]
fn sources_are_compiled_once_and_then_served_from_the_cache() {
    let rt = runtime(RuntimeOptions::default());
    let code = "return 'cached ' + Math.PI.toFixed(2)";
    let first = run(&rt, code, ctx(json!({}), &[]));
    let second = run(&rt, code, ctx(json!({}), &[]));
    assert!(!first.metrics.cache_hit && first.metrics.compilation_time_us > 0);
    assert!(second.metrics.cache_hit && second.metrics.compilation_time_us == 0);
    let stats = rt.stats().unwrap();
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 1));
}

#[test]
fn the_cache_directory_keeps_the_module_and_bytecode_across_runtimes() {
    let dir = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        cache_dir: Some(dir.path().to_string_lossy().into()),
        ..Default::default()
    };
    let code = "return 'from disk'";
    {
        let rt = runtime(options.clone());
        assert!(!run(&rt, code, ctx(json!({}), &[])).metrics.cache_hit);
    }
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("guest-") && n.ends_with(".cwasm")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("bytecode-")),
        "{names:?}"
    );

    let rt = runtime(options);
    assert!(run(&rt, code, ctx(json!({}), &[])).metrics.cache_hit);
}

#[test]
fn a_corrupt_module_cache_file_is_ignored_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        cache_dir: Some(dir.path().to_string_lossy().into()),
        ..Default::default()
    };
    let first = runtime(options.clone());
    nexus_bridge::blocking(|reply| first.ready(reply)).unwrap();
    drop(first);
    let file = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    let mut bytes = fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&file, &bytes).unwrap();

    // Straight to the disk cache (the process cache would hide the file): the corrupt file is
    // refused, the module rebuilt and the file rewritten.
    let config = nexus_bridge::RuntimeConfig::from_options(&options, 0).unwrap();
    let engine = wasmtime::Engine::new(&nexus_bridge::engine::wasmtime_config(&config, 1)).unwrap();
    let dirs = module_cache::ModuleDirs {
        cache: Some(dir.path()),
        seed: None,
    };
    let (_, source, _) = module_cache::load_from_disk_or_compile(&engine, dirs).unwrap();
    assert_eq!(source, ModuleSource::Compiled);
    assert!(
        module_cache::read_checked(&file).is_some(),
        "the file was rewritten"
    );
}

#[test]
fn a_seed_directory_supplies_the_module_and_fills_the_cache_directory() {
    let seed = tempfile::tempdir().unwrap();
    let seed_options = RuntimeOptions {
        cache_dir: Some(seed.path().to_string_lossy().into()),
        ..Default::default()
    };
    let seeding = runtime(seed_options);
    nexus_bridge::blocking(|reply| seeding.ready(reply)).unwrap();
    drop(seeding);

    // A pod's empty cache volume with the image's seed beside it, and another memory limit.
    let cache = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        cache_dir: Some(cache.path().to_string_lossy().into()),
        cache_seed_dir: Some(seed.path().to_string_lossy().into()),
        memory_limit_bytes: Some((64u64 << 20) as f64),
        ..Default::default()
    };
    let config = nexus_bridge::RuntimeConfig::from_options(&options, 0).unwrap();
    let engine = wasmtime::Engine::new(&nexus_bridge::engine::wasmtime_config(&config, 4)).unwrap();
    let dirs = module_cache::ModuleDirs {
        cache: Some(cache.path()),
        seed: Some(seed.path()),
    };
    let (_, source, _) = module_cache::load_from_disk_or_compile(&engine, dirs).unwrap();
    assert_eq!(source, ModuleSource::Seed);
    let (_, again, _) = module_cache::load_from_disk_or_compile(&engine, dirs).unwrap();
    assert_eq!(
        again,
        ModuleSource::Disk,
        "the seed's module was copied into the cache"
    );

    // A seed that does not verify is ignored: the module is compiled instead.
    let empty = tempfile::tempdir().unwrap();
    for file in fs::read_dir(seed.path())
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        if file.extension().is_some_and(|e| e == "cwasm") {
            let mut bytes = fs::read(&file).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0xff;
            fs::write(&file, &bytes).unwrap();
        }
    }
    let dirs = module_cache::ModuleDirs {
        cache: Some(empty.path()),
        seed: Some(seed.path()),
    };
    let (_, source, _) = module_cache::load_from_disk_or_compile(&engine, dirs).unwrap();
    assert_eq!(source, ModuleSource::Compiled);
}
