//! wasmtime, configured once per runtime: a pooling allocator sized to the runtime's instances,
//! copy-on-write memory images of the pre-initialised guest, epoch interruption for timeouts, and
//! an `InstancePre` so each execution only instantiates.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use wasmtime::{
    Config, Enabled, Engine, EngineWeak, ExternType, InstanceAllocationStrategy, InstancePre,
    Linker, OptLevel, PoolingAllocationConfig,
};

use crate::config::RuntimeConfig;
use crate::host;
use crate::module_cache::{self, ModuleSource};
use crate::sched::EPOCH_TICK;
use crate::store::HostState;

/// Native stack for compiled WebAssembly, and the fiber stack each execution runs on (the wasm
/// stack plus room for the host functions it calls).
pub const WASM_STACK_BYTES: usize = 2 * 1024 * 1024;
pub const FIBER_STACK_BYTES: usize = WASM_STACK_BYTES + 1024 * 1024;
pub const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;
/// Per pool slot, how much written memory is restored in place rather than dropped.
pub const KEEP_RESIDENT_BYTES: usize = 4 * 1024 * 1024;
/// Room the guest needs above its snapshot to run anything at all.
pub const GUEST_HEADROOM_BYTES: u64 = 2 * 1024 * 1024;

pub struct SandboxEngine {
    pub engine: Engine,
    pub pre: InstancePre<HostState>,
    /// The smallest memoryLimitBytes the guest can run in.
    pub minimum_memory_bytes: u64,
    pub module_source: ModuleSource,
}

impl SandboxEngine {
    /// `instances` is the number of pool slots (running, parked and compiling instances).
    pub fn new(config: &RuntimeConfig, instances: u32) -> wasmtime::Result<Self> {
        let engine = Engine::new(&wasmtime_config(config, instances))?;
        let dirs = module_cache::ModuleDirs {
            cache: config.cache_dir.as_deref(),
            seed: config.cache_seed_dir.as_deref(),
        };
        let (module, module_source) = module_cache::load(&engine, dirs)?;
        let minimum_memory_bytes = module
            .exports()
            .find_map(|export| match export.ty() {
                ExternType::Memory(memory) => Some(memory.minimum() * memory.page_size()),
                _ => None,
            })
            .unwrap_or(0)
            + GUEST_HEADROOM_BYTES;
        let mut linker = Linker::new(&engine);
        host::define(&mut linker)?;
        let pre = linker.instantiate_pre(&module)?;
        Ok(SandboxEngine {
            engine,
            pre,
            minimum_memory_bytes,
            module_source,
        })
    }
}

/// The wasmtime configuration of a runtime with `instances` pool slots.
pub fn wasmtime_config(config: &RuntimeConfig, instances: u32) -> Config {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(instances)
        .total_memories(instances)
        .total_tables(instances)
        .total_stacks(instances)
        .max_memory_size(config.memory_limit_bytes as usize)
        // Reset a slot by copying back only the pages an execution wrote (PAGEMAP_SCAN, Linux
        // 6.7+) and keep them resident: the next execution in the slot takes no page faults.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES);
    let mut wasm = Config::new();
    wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .epoch_interruption(true)
        .max_wasm_stack(WASM_STACK_BYTES)
        .async_stack_size(FIBER_STACK_BYTES)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true);
    wasm
}

/// Advances the engine's epoch every [`EPOCH_TICK`] (the scheduler's period, sched/mod.rs) and
/// runs `on_tick`; stops on drop or when the engine is gone. What a tick decides is the store's
/// epoch callback's business (sched/clock.rs).
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: EngineWeak, on_tick: impl Fn() + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("nexus-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    let Some(engine) = engine.upgrade() else {
                        break;
                    };
                    engine.increment_epoch();
                    on_tick();
                }
            })
            .expect("spawn the epoch thread");
        EpochTicker {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the thread soon, from anywhere, without waiting for it.
    pub fn stopper(&self) -> impl FnOnce() + Send + 'static {
        let stop = self.stop.clone();
        move || stop.store(true, Ordering::Relaxed)
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
