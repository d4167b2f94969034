//! Start-up, on its own thread: build the engine (compiling the guest on a cold cache), start the
//! epoch ticker, warm minInstances instances.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Inner, MIN_POOL_MEMORY_BYTES};
use crate::config::RuntimeConfig;
use crate::engine::{EpochTicker, SandboxEngine};
use crate::error::{ApiError, ApiErrorCode};
use crate::execution::Execution;
use crate::sched::SWEEP_EVERY_TICKS;
use crate::types::ExecutionContext;

impl Inner {
    /// Runs on the start-up thread: builds the engine, starts the epoch ticker, warms instances.
    pub(super) fn start_engine(self: Arc<Self>, workers: u32, ticker: &Mutex<Option<EpochTicker>>) {
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

    /// Touches minInstances pool slots so their memory images are mapped before the first call.
    pub(super) fn warm_up(&self) {
        let Ok(engine) = self.engine() else { return };
        for _ in 0..self.config.min_instances {
            let ctx = ExecutionContext::default();
            let memory = self.config.memory_limit_bytes;
            if let Err(error) = Execution::new(engine, ctx, self.limits, memory, 1, 1) {
                tracing::warn!(%error, "could not warm a sandbox instance");
            }
        }
    }
}
