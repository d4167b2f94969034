//! The bridge as plain Rust: what `WasmRuntime` does, without Node. Calls return through a
//! [`Reply`] invoked on a bridge thread; the napi layer turns that into a promise.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::Instant;

use crate::bytecode::{self, BytecodeCache};
use crate::config::{self, RuntimeConfig, RuntimeOptions};
use crate::engine::{EpochTicker, SandboxEngine};
use crate::error::{ApiError, ApiErrorCode};
use crate::execution::Execution;
use crate::parking::Parking;
use crate::pool::{Slot, WorkerPool};
use crate::sched::{self, InlinePolicy};
use crate::state_view::StateInput;
use crate::stats::{Gauges, Stats};
use crate::store::CallLimits;
use crate::types::{ExecutionContext, ExecutionResult, ResumeValue, RuntimeStats};

mod execute;
mod inline;
mod start;

pub use inline::{Inline, Later};

/// Receives the outcome of an asynchronous call, on a bridge thread.
pub type Reply<T> = Box<dyn FnOnce(Result<T, ApiError>) + Send>;

/// The pool slot floor: pre-initialisation needs room whatever memoryLimitBytes says; the limit
/// itself is enforced per store.
const MIN_POOL_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

pub struct Runtime {
    inner: Arc<Inner>,
    /// Started by the start-up thread once the engine exists.
    ticker: Arc<Mutex<Option<EpochTicker>>>,
}

struct Inner {
    config: RuntimeConfig,
    limits: CallLimits,
    /// Built on a start-up thread (compiling the guest can take seconds on a cold cache): calls
    /// made meanwhile wait in the queue.
    engine: OnceLock<Result<SandboxEngine, ApiError>>,
    pool: WorkerPool,
    parking: Mutex<Parking<Parked>>,
    bytecode: BytecodeCache,
    inline: InlinePolicy,
    stats: Stats,
    running: AtomicU64,
    shut_down: AtomicBool,
    next_id: AtomicU64,
    id_salt: u64,
}

/// A suspended execution with the slot it holds.
struct Parked {
    execution: Execution,
    slot: Slot,
    reported: Reported,
}

/// How much of an execution's record earlier results already carried: each result is a delta.
#[derive(Debug, Clone, Copy, Default)]
struct Reported {
    host_calls: u32,
    mutations: usize,
    events: usize,
    view_commands: usize,
    logs: usize,
    logs_dropped: u32,
}

enum Code {
    Source(String),
    Bytecode(Vec<u8>),
}

impl Runtime {
    /// Validates the configuration and returns at once; the engine is built on a start-up thread.
    pub fn new(options: &RuntimeOptions) -> Result<Self, ApiError> {
        let config = RuntimeConfig::from_options(options, config::MIN_MEMORY_LIMIT_BYTES)?;
        if let Some(dir) = &config.cache_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                ApiError::new(
                    ApiErrorCode::InvalidConfig,
                    format!("cacheDir {} cannot be created: {e}", dir.display()),
                )
            })?;
        }
        let workers = sched::threads::bridge_threads(config.max_instances);
        let inner = Arc::new(Inner {
            limits: CallLimits {
                max_host_calls: config.max_host_calls,
                max_state_mutations: config.max_state_mutations,
                max_events: config.max_events,
                max_value_bytes: config.max_value_bytes as usize,
                max_event_bytes: config.max_event_bytes as usize,
            },
            bytecode: BytecodeCache::new(config.cache_dir.clone(), config.cache_max_bytes),
            inline: InlinePolicy::default(),
            pool: WorkerPool::new(workers, config.max_instances),
            engine: OnceLock::new(),
            parking: Mutex::default(),
            stats: Stats::default(),
            running: AtomicU64::new(0),
            shut_down: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            id_salt: RandomState::new().hash_one(Instant::now()),
            config,
        });
        let ticker = Arc::new(Mutex::new(None));
        let (starting, ticker_slot) = (inner.clone(), ticker.clone());
        thread::Builder::new()
            .name("nexus-start".into())
            .spawn(move || starting.start_engine(workers, &ticker_slot))
            .map_err(|e| {
                ApiError::new(
                    ApiErrorCode::InternalError,
                    format!("cannot start a thread: {e}"),
                )
            })?;
        Ok(Runtime { inner, ticker })
    }

    /// Replies once the engine is ready, or with why it could not start.
    pub fn ready(&self, reply: Reply<()>) {
        if self.inner.is_shut_down() {
            return reply(Err(ApiError::shut_down()));
        }
        let inner = self.inner.clone();
        thread::spawn(move || reply(inner.engine().map(|_| ())));
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// What the guest needs at least (waits for the engine).
    pub fn minimum_memory_bytes(&self) -> Result<u64, ApiError> {
        self.inner
            .engine()
            .map(|engine| engine.minimum_memory_bytes)
    }

    /// Where the guest module came from (waits for the engine).
    pub fn module_source(&self) -> Result<crate::module_cache::ModuleSource, ApiError> {
        self.inner.engine().map(|engine| engine.module_source)
    }

    pub fn execute(
        &self,
        code: String,
        ctx: ExecutionContext,
        timeout_ms: Option<f64>,
        reply: Reply<ExecutionResult>,
    ) {
        self.start(Code::Source(code), ctx, timeout_ms, reply);
    }

    pub fn execute_compiled(
        &self,
        bytecode: Vec<u8>,
        ctx: ExecutionContext,
        timeout_ms: Option<f64>,
        reply: Reply<ExecutionResult>,
    ) {
        self.start(Code::Bytecode(bytecode), ctx, timeout_ms, reply);
    }

    fn start(
        &self,
        code: Code,
        ctx: ExecutionContext,
        timeout_ms: Option<f64>,
        reply: Reply<ExecutionResult>,
    ) {
        self.inner.queue(code, ctx, timeout_ms, reply);
    }

    /// QuickJS bytecode for `code`, in the envelope executeCompiledHandler accepts.
    pub fn precompile(&self, code: String, reply: Reply<Vec<u8>>) {
        if self.inner.is_shut_down() {
            return reply(Err(ApiError::shut_down()));
        }
        let inner = self.inner.clone();
        self.inner.pool.submit(false, move |_| {
            reply(inner.precompile(&code).map(|b| bytecode::wrap(&b)))
        });
    }

    /// Continues a suspended execution; `state` (the panel's latest state) replaces what its
    /// `$state` reads see.
    pub fn resume(
        &self,
        suspension_id: String,
        value: ResumeValue,
        state: Option<StateInput>,
        reply: Reply<ExecutionResult>,
    ) {
        self.resume_inline(&suspension_id, value, state)
            .reply(reply);
    }

    /// Drops a parked execution whose caller will not resume it (its instance is free at once);
    /// false when no execution is parked under that id.
    pub fn cancel(&self, suspension_id: &str) -> bool {
        let cancelled = self.inner.parking.lock().unwrap().cancel(suspension_id);
        if cancelled {
            self.inner.stats.cancelled.fetch_add(1, Ordering::Relaxed);
        }
        cancelled
    }

    pub fn stats(&self) -> Result<RuntimeStats, ApiError> {
        if self.inner.is_shut_down() {
            return Err(ApiError::shut_down());
        }
        let gauges = self.inner.gauges();
        let totals = self.inner.stats.totals();
        let lookups = totals.cache_hits + totals.cache_misses;
        Ok(RuntimeStats {
            total_executions: totals.started,
            successful_executions: totals.succeeded,
            failed_executions: totals.failed,
            suspended_executions: totals.suspended,
            active_instances: gauges.active,
            available_instances: gauges.available,
            suspended_instances: gauges.suspended,
            max_instances: gauges.max,
            cache_hits: totals.cache_hits,
            cache_misses: totals.cache_misses,
            cache_hit_rate: if lookups == 0 {
                0.0
            } else {
                totals.cache_hits as f64 / lookups as f64
            },
            average_duration_us: totals.average_duration_us,
            memory_in_use_bytes: gauges.memory_in_use,
        })
    }

    pub fn metrics(&self) -> Result<String, ApiError> {
        if self.inner.is_shut_down() {
            return Err(ApiError::shut_down());
        }
        Ok(self.inner.stats.prometheus(self.inner.gauges()))
    }

    /// Refuses new calls, drops parked handlers, lets queued calls finish, then calls `done`.
    pub fn shutdown(&self, done: Box<dyn FnOnce() + Send>) {
        self.inner.begin_shutdown();
        let inner = self.inner.clone();
        // Calls still queued need epochs for their timeouts: stop the ticker once they are done.
        let stop_ticker = self
            .ticker
            .lock()
            .unwrap()
            .as_ref()
            .map(EpochTicker::stopper);
        thread::Builder::new()
            .name("nexus-shutdown".into())
            .spawn(move || {
                inner.pool.join();
                if let Some(stop) = stop_ticker {
                    stop();
                }
                done();
            })
            .expect("spawn the shutdown thread");
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.inner.begin_shutdown();
    }
}

impl Inner {
    /// Runs a call on a bridge thread once a slot is free.
    fn queue(
        self: &Arc<Self>,
        code: Code,
        ctx: ExecutionContext,
        timeout_ms: Option<f64>,
        reply: Reply<ExecutionResult>,
    ) {
        if self.is_shut_down() {
            return reply(Err(ApiError::shut_down()));
        }
        let timeout_ms = match config::timeout_override(timeout_ms, self.config.timeout_ms) {
            Ok(timeout) => timeout,
            Err(error) => return reply(Err(error)),
        };
        self.stats.started.fetch_add(1, Ordering::Relaxed);
        let inner = self.clone();
        self.pool.submit(true, move |slot| {
            let slot = slot.expect("submitted with needs_slot");
            match inner.engine() {
                Ok(engine) => reply(Ok(inner.run(engine, slot, code, ctx, timeout_ms))),
                Err(error) => reply(Err(error)),
            }
        });
    }

    /// The engine, once built (blocks until then).
    fn engine(&self) -> Result<&SandboxEngine, ApiError> {
        self.engine.wait().as_ref().map_err(Clone::clone)
    }

    fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    fn begin_shutdown(&self) {
        self.shut_down.store(true, Ordering::Release);
        let parked = self.parking.lock().unwrap().drain();
        drop(parked);
        self.pool.close();
    }

    fn new_suspension_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mixed = RandomState::new().hash_one((self.id_salt, n));
        format!("sus_{mixed:016x}{n:x}")
    }

    fn sweep_expired(&self) {
        let now = Instant::now();
        let expired = self.parking.lock().unwrap().take_expired(now);
        if !expired.is_empty() {
            self.stats
                .expired
                .fetch_add(expired.len() as u64, Ordering::Relaxed);
            tracing::debug!(count = expired.len(), "dropped expired suspended handlers");
        }
    }

    fn gauges(&self) -> Gauges {
        let (suspended, parked_memory) = {
            let parking = self.parking.lock().unwrap();
            (
                parking.count() as u32,
                parking
                    .values()
                    .map(|p| p.execution.memory_bytes())
                    .sum::<u64>(),
            )
        };
        let available = self.pool.free_slots();
        let running = self.running.load(Ordering::Relaxed);
        Gauges {
            active: self.config.max_instances - available,
            available,
            suspended,
            max: self.config.max_instances,
            queued: self.pool.queued(),
            memory_in_use: parked_memory
                + running
                    * self
                        .engine
                        .get()
                        .and_then(|e| e.as_ref().ok())
                        .map_or(0, |e| {
                            e.minimum_memory_bytes - crate::engine::GUEST_HEADROOM_BYTES
                        }),
        }
    }
}

/// Runs an asynchronous call and waits for its reply (tests, tools).
pub fn blocking<T: Send + 'static>(call: impl FnOnce(Reply<T>)) -> Result<T, ApiError> {
    let (tx, rx) = mpsc::channel();
    call(Box::new(move |result| {
        let _ = tx.send(result);
    }));
    rx.recv().expect("every call replies")
}
