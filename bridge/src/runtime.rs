//! The bridge as plain Rust: what `WasmRuntime` does, without Node. Calls return through a
//! [`Reply`] invoked on a bridge thread; the napi layer turns that into a promise.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::bytecode::{self, BytecodeCache};
use crate::config::{self, RuntimeConfig, RuntimeOptions};
use crate::engine::{EpochTicker, SandboxEngine};
use crate::error::{ApiError, ApiErrorCode, ErrorCode};
use crate::execution::{Execution, Segment, context_json};
use crate::pool::{Slot, WorkerPool};
use crate::stats::{Gauges, Stats};
use crate::store::{CallLimits, MAX_RECORDED_BYTES};
use crate::types::{
    ExecutionContext, ExecutionMetrics, ExecutionResult, ExecutionStatus, HandlerError,
    ResumeValue, RuntimeStats, Suspension,
};

/// Receives the outcome of an asynchronous call, on a bridge thread.
pub type Reply<T> = Box<dyn FnOnce(Result<T, ApiError>) + Send>;

/// How many resumed or expired suspension ids are remembered, to say why a resume failed.
const RETIRED_IDS: usize = 10_000;
/// How often parked instances are checked for expiry, in epoch ticks.
const SWEEP_EVERY_TICKS: u64 = 10;
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
    parking: Mutex<Parking>,
    bytecode: BytecodeCache,
    stats: Stats,
    running: AtomicU64,
    shut_down: AtomicBool,
    next_id: AtomicU64,
    id_salt: u64,
}

struct Parked {
    execution: Execution,
    slot: Slot,
    deadline: Instant,
    reported: Reported,
}

/// How much of an execution's record earlier results already carried: each result is a delta.
#[derive(Debug, Clone, Copy, Default)]
struct Reported {
    host_calls: u32,
    mutations: usize,
    events: usize,
    view_commands: usize,
}

#[derive(Default)]
struct Parking {
    live: HashMap<String, Parked>,
    retired: HashMap<String, Retired>,
    retired_order: VecDeque<String>,
}

#[derive(Debug, Clone, Copy)]
enum Retired {
    Resumed,
    Expired,
}

impl Parking {
    fn retire(&mut self, id: String, why: Retired) {
        if self.retired_order.len() == RETIRED_IDS
            && let Some(oldest) = self.retired_order.pop_front()
        {
            self.retired.remove(&oldest);
        }
        self.retired.insert(id.clone(), why);
        self.retired_order.push_back(id);
    }
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
        let workers = thread::available_parallelism()
            .map_or(2, |n| n.get() as u32)
            .max(2)
            .min(config.max_instances);
        let inner = Arc::new(Inner {
            limits: CallLimits {
                max_host_calls: config.max_host_calls,
                max_state_mutations: config.max_state_mutations,
                max_events: config.max_events,
                max_recorded_bytes: MAX_RECORDED_BYTES,
            },
            bytecode: BytecodeCache::new(config.cache_dir.clone()),
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
        if self.inner.is_shut_down() {
            return reply(Err(ApiError::shut_down()));
        }
        let timeout_ms = match config::timeout_override(timeout_ms, self.inner.config.timeout_ms) {
            Ok(timeout) => timeout,
            Err(error) => return reply(Err(error)),
        };
        self.inner.stats.started.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.clone();
        self.inner.pool.submit(true, move |slot| {
            let slot = slot.expect("submitted with needs_slot");
            match inner.engine() {
                Ok(engine) => reply(Ok(inner.run(engine, slot, code, ctx, timeout_ms))),
                Err(error) => reply(Err(error)),
            }
        });
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

    pub fn resume(&self, suspension_id: String, value: ResumeValue, reply: Reply<ExecutionResult>) {
        if self.inner.is_shut_down() {
            return reply(Err(ApiError::shut_down()));
        }
        let parked = {
            let mut parking = self.inner.parking.lock().unwrap();
            match parking.live.remove(&suspension_id) {
                Some(parked) => {
                    parking.retire(suspension_id, Retired::Resumed);
                    parked
                }
                None => {
                    let why = match parking.retired.get(&suspension_id) {
                        Some(Retired::Resumed) => "has already been resumed",
                        Some(Retired::Expired) => {
                            "expired: the handler was parked longer than its timeout"
                        }
                        None => "is unknown",
                    };
                    let message = format!("suspension {suspension_id:?} {why}");
                    drop(parking);
                    return reply(Err(ApiError::new(
                        ApiErrorCode::SuspensionNotFound,
                        message,
                    )));
                }
            }
        };
        let inner = self.inner.clone();
        self.inner.pool.submit(false, move |_| {
            let Parked {
                mut execution,
                slot,
                reported,
                ..
            } = parked;
            inner.running.fetch_add(1, Ordering::Relaxed);
            let segment = execution.resume(&value);
            reply(Ok(inner.settle(execution, slot, segment, reported)));
        });
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
    /// Runs on the start-up thread: builds the engine, starts the epoch ticker, warms instances.
    fn start_engine(self: Arc<Self>, workers: u32, ticker: &Mutex<Option<EpochTicker>>) {
        let config = &self.config;
        let pool_config = RuntimeConfig {
            memory_limit_bytes: config.memory_limit_bytes.max(MIN_POOL_MEMORY_BYTES),
            ..config.clone()
        };
        let built = SandboxEngine::new(&pool_config, config.max_instances + workers + 1)
            .map_err(|e| {
                ApiError::new(
                    ApiErrorCode::InternalError,
                    format!("the sandbox engine cannot start: {e:#}"),
                )
            })
            .and_then(|engine| {
                if config.memory_limit_bytes < engine.minimum_memory_bytes {
                    return Err(ApiError::new(
                        ApiErrorCode::InvalidConfig,
                        format!(
                            "memoryLimitBytes {} is below the {} bytes the sandbox guest needs",
                            config.memory_limit_bytes, engine.minimum_memory_bytes
                        ),
                    ));
                }
                Ok(engine)
            });
        if let Ok(engine) = &built {
            let weak = Arc::downgrade(&self);
            let ticks = AtomicU64::new(0);
            *ticker.lock().unwrap() = Some(EpochTicker::start(engine.engine.weak(), move || {
                if ticks
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(SWEEP_EVERY_TICKS)
                    && let Some(inner) = weak.upgrade()
                {
                    inner.sweep_expired();
                }
            }));
        }
        if let Err(error) = &built {
            tracing::error!(%error, "the sandbox engine cannot start");
        }
        let _ = self.engine.set(built);
        self.warm_up();
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
        let parked = std::mem::take(&mut self.parking.lock().unwrap().live);
        drop(parked);
        self.pool.close();
    }

    /// Touches minInstances pool slots so their memory images are mapped before the first call.
    fn warm_up(&self) {
        let Ok(engine) = self.engine() else { return };
        for _ in 0..self.config.min_instances {
            let ctx = ExecutionContext::default();
            if let Err(error) =
                Execution::new(engine, ctx, self.limits, self.config.memory_limit_bytes, 1)
            {
                tracing::warn!(%error, "could not warm a sandbox instance");
            }
        }
    }

    fn new_execution(
        &self,
        engine: &SandboxEngine,
        ctx: ExecutionContext,
        timeout_ms: u64,
    ) -> Result<Execution, HandlerError> {
        Execution::new(
            engine,
            ctx,
            self.limits,
            self.config.memory_limit_bytes,
            timeout_ms,
        )
        .map_err(|e| {
            HandlerError::new(
                ErrorCode::InternalError,
                format!("could not start a sandbox instance: {e}"),
            )
        })
    }

    fn run(
        &self,
        engine: &SandboxEngine,
        slot: Slot,
        code: Code,
        ctx: ExecutionContext,
        timeout_ms: u64,
    ) -> ExecutionResult {
        let context = context_json(&ctx);
        let mut execution = match self.new_execution(engine, ctx, timeout_ms) {
            Ok(execution) => execution,
            Err(error) => return self.failed_to_start(error),
        };
        self.running.fetch_add(1, Ordering::Relaxed);
        let bytecode = match code {
            Code::Bytecode(envelope) => match bytecode::unwrap(&envelope) {
                Ok(payload) => Ok(payload.to_vec()),
                Err(reason) => Err(HandlerError::new(ErrorCode::InvalidHandler, reason)),
            },
            Code::Source(source) => self.compile_cached(&mut execution, &source),
        };
        let segment = match bytecode {
            Ok(bytecode) => execution.start(&bytecode, &context),
            Err(error) => Segment::Failed(error),
        };
        self.settle(execution, slot, segment, Reported::default())
    }

    fn compile_cached(
        &self,
        execution: &mut Execution,
        source: &str,
    ) -> Result<Vec<u8>, HandlerError> {
        let key = bytecode::source_key(source);
        if let Some(hit) = self.bytecode.get(&key) {
            self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            execution.cache_hit = true;
            return Ok(hit.as_ref().clone());
        }
        self.stats.cache_misses.fetch_add(1, Ordering::Relaxed);
        let compiled = execution.compile(source)?;
        self.bytecode.insert(key, compiled.clone());
        Ok(compiled)
    }

    fn precompile(&self, source: &str) -> Result<Vec<u8>, ApiError> {
        let engine = self.engine()?;
        let mut execution = self
            .new_execution(engine, ExecutionContext::default(), self.config.timeout_ms)
            .map_err(internal)?;
        self.compile_cached(&mut execution, source)
            .map_err(|error| match error.code {
                ErrorCode::CompilationError => ApiError {
                    code: ApiErrorCode::CompilationError,
                    message: error.message,
                    location: error.location,
                },
                _ => internal(error),
            })
    }

    /// Turns a segment into a result carrying what happened since `since` (results are deltas);
    /// a suspended execution is parked with its slot.
    fn settle(
        &self,
        execution: Execution,
        slot: Slot,
        segment: Segment,
        since: Reported,
    ) -> ExecutionResult {
        self.running.fetch_sub(1, Ordering::Relaxed);
        let state = execution.state();
        let mut result = ExecutionResult {
            status: ExecutionStatus::Success,
            return_value: None,
            state_mutations: state.mutations[since.mutations..].to_vec(),
            events: state.events[since.events..].to_vec(),
            view_commands: state.view_commands[since.view_commands..].to_vec(),
            suspension: None,
            error: None,
            metrics: execution.metrics(),
        };
        let reported = Reported {
            host_calls: state.host_calls,
            mutations: state.mutations.len(),
            events: state.events.len(),
            view_commands: state.view_commands.len(),
        };
        match segment {
            Segment::Done(value) => result.return_value = value,
            Segment::Failed(error) => {
                result.status = ExecutionStatus::Error;
                result.error = Some(error);
            }
            Segment::Suspended(call) => {
                let suspension_id = self.new_suspension_id();
                result.status = ExecutionStatus::Suspended;
                result.suspension = Some(Suspension {
                    suspension_id: suspension_id.clone(),
                    extension_name: call.extension,
                    method: call.method,
                    args: call.args,
                });
                let timeout = Duration::from_millis(execution.timeout_ms());
                let parked = Parked {
                    execution,
                    slot,
                    deadline: Instant::now() + timeout,
                    reported,
                };
                if self.is_shut_down() {
                    drop(parked);
                } else {
                    self.parking
                        .lock()
                        .unwrap()
                        .live
                        .insert(suspension_id, parked);
                }
            }
        }
        self.stats
            .record(&result, u64::from(reported.host_calls - since.host_calls));
        result
    }

    fn failed_to_start(&self, error: HandlerError) -> ExecutionResult {
        let result = ExecutionResult {
            status: ExecutionStatus::Error,
            return_value: None,
            state_mutations: vec![],
            events: vec![],
            view_commands: vec![],
            suspension: None,
            error: Some(error),
            metrics: ExecutionMetrics::default(),
        };
        self.stats.record(&result, 0);
        result
    }

    fn new_suspension_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mixed = RandomState::new().hash_one((self.id_salt, n));
        format!("sus_{mixed:016x}{n:x}")
    }

    fn sweep_expired(&self) {
        let now = Instant::now();
        let expired: Vec<Parked> = {
            let mut parking = self.parking.lock().unwrap();
            let ids: Vec<String> = parking
                .live
                .iter()
                .filter(|(_, p)| p.deadline <= now)
                .map(|(id, _)| id.clone())
                .collect();
            ids.into_iter()
                .filter_map(|id| {
                    let parked = parking.live.remove(&id)?;
                    parking.retire(id, Retired::Expired);
                    Some(parked)
                })
                .collect()
        };
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
                parking.live.len() as u32,
                parking
                    .live
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

fn internal(error: HandlerError) -> ApiError {
    ApiError::new(ApiErrorCode::InternalError, error.message)
}

/// Runs an asynchronous call and waits for its reply (tests, tools).
pub fn blocking<T: Send + 'static>(call: impl FnOnce(Reply<T>)) -> Result<T, ApiError> {
    let (tx, rx) = mpsc::channel();
    call(Box::new(move |result| {
        let _ = tx.send(result);
    }));
    rx.recv().expect("every call replies")
}
