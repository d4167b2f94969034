//! Counters behind getStats and getMetrics (Prometheus text, metric names prefixed nexus_bridge_).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::error::ErrorCode;
use crate::types::{ExecutionResult, ExecutionStatus};

/// Upper bounds of the execution duration histogram, in seconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0, 5.0,
];

#[derive(Default)]
pub struct Stats {
    pub started: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    suspended: AtomicU64,
    errors: [AtomicU64; ErrorCode::ALL.len()],
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub expired: AtomicU64,
    pub cancelled: AtomicU64,
    /// Segments that finished on the caller's thread, and those that moved to a bridge thread.
    pub inline: AtomicU64,
    pub moved: AtomicU64,
    host_calls: AtomicU64,
    duration_sum_us: AtomicU64,
    duration_count: AtomicU64,
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len()],
}

/// Point-in-time values the runtime supplies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub active: u32,
    pub available: u32,
    pub suspended: u32,
    pub max: u32,
    pub queued: usize,
    pub memory_in_use: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub suspended: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub average_duration_us: f64,
}

impl Stats {
    /// Counts one result. `host_calls_delta` is what this segment added to the execution.
    pub fn record(&self, result: &ExecutionResult, host_calls_delta: u64) {
        self.host_calls.fetch_add(host_calls_delta, Relaxed);
        match result.status {
            ExecutionStatus::Suspended => {
                self.suspended.fetch_add(1, Relaxed);
                return;
            }
            ExecutionStatus::Success => self.succeeded.fetch_add(1, Relaxed),
            ExecutionStatus::Error => self.failed.fetch_add(1, Relaxed),
        };
        if let Some(error) = &result.error {
            let index = ErrorCode::ALL
                .iter()
                .position(|c| *c == error.code)
                .expect("listed");
            self.errors[index].fetch_add(1, Relaxed);
        }
        let us = result.metrics.duration_us;
        self.duration_sum_us.fetch_add(us, Relaxed);
        self.duration_count.fetch_add(1, Relaxed);
        let seconds = us as f64 / 1e6;
        if let Some(bucket) = DURATION_BUCKETS.iter().position(|le| seconds <= *le) {
            self.duration_buckets[bucket].fetch_add(1, Relaxed);
        }
    }

    pub fn totals(&self) -> Totals {
        let count = self.duration_count.load(Relaxed);
        Totals {
            started: self.started.load(Relaxed),
            succeeded: self.succeeded.load(Relaxed),
            failed: self.failed.load(Relaxed),
            suspended: self.suspended.load(Relaxed),
            cache_hits: self.cache_hits.load(Relaxed),
            cache_misses: self.cache_misses.load(Relaxed),
            average_duration_us: if count == 0 {
                0.0
            } else {
                self.duration_sum_us.load(Relaxed) as f64 / count as f64
            },
        }
    }

    pub fn prometheus(&self, gauges: Gauges) -> String {
        let t = self.totals();
        let mut out = String::new();
        let lines =
            |out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
                writeln!(
                    out,
                    "# HELP nexus_bridge_{name} {help}\n# TYPE nexus_bridge_{name} {kind}"
                )
                .unwrap();
                for (labels, value) in samples {
                    writeln!(out, "nexus_bridge_{name}{labels} {value}").unwrap();
                }
            };
        lines(
            &mut out,
            "executions_started_total",
            "counter",
            "Handler executions started.",
            &[(String::new(), t.started.to_string())],
        );
        lines(
            &mut out,
            "executions_total",
            "counter",
            "Execution results by status (a suspension counts once each time).",
            &[
                ("{status=\"success\"}".into(), t.succeeded.to_string()),
                ("{status=\"error\"}".into(), t.failed.to_string()),
                ("{status=\"suspended\"}".into(), t.suspended.to_string()),
            ],
        );
        let errors: Vec<(String, String)> = ErrorCode::ALL
            .iter()
            .zip(&self.errors)
            .map(|(code, n)| (format!("{{code=\"{code}\"}}"), n.load(Relaxed).to_string()))
            .collect();
        lines(
            &mut out,
            "execution_errors_total",
            "counter",
            "Failed executions by error code.",
            &errors,
        );

        let mut histogram = Vec::new();
        let mut cumulative = 0;
        for (le, n) in DURATION_BUCKETS.iter().zip(&self.duration_buckets) {
            cumulative += n.load(Relaxed);
            histogram.push((format!("_bucket{{le=\"{le}\"}}"), cumulative.to_string()));
        }
        let count = self.duration_count.load(Relaxed);
        histogram.push(("_bucket{le=\"+Inf\"}".into(), count.to_string()));
        histogram.push((
            "_sum".into(),
            (self.duration_sum_us.load(Relaxed) as f64 / 1e6).to_string(),
        ));
        histogram.push(("_count".into(), count.to_string()));
        lines(
            &mut out,
            "execution_duration_seconds",
            "histogram",
            "Time finished executions spent running in the sandbox.",
            &histogram,
        );

        let plain = [
            (
                "host_calls_total",
                "counter",
                "Host calls made by handlers.",
                self.host_calls.load(Relaxed).to_string(),
            ),
            (
                "bytecode_cache_hits_total",
                "counter",
                "Handler sources found compiled in the cache.",
                t.cache_hits.to_string(),
            ),
            (
                "bytecode_cache_misses_total",
                "counter",
                "Handler sources compiled.",
                t.cache_misses.to_string(),
            ),
            (
                "suspensions_expired_total",
                "counter",
                "Parked handlers dropped when their execution passed executionDeadlineMs.",
                self.expired.load(Relaxed).to_string(),
            ),
            (
                "segments_inline_total",
                "counter",
                "Segments that ran to their end or suspension on the calling thread.",
                self.inline.load(Relaxed).to_string(),
            ),
            (
                "segments_moved_total",
                "counter",
                "Segments started on the calling thread that outlived a tick and continued on a bridge thread.",
                self.moved.load(Relaxed).to_string(),
            ),
            (
                "suspensions_cancelled_total",
                "counter",
                "Parked handlers dropped by cancelHandler.",
                self.cancelled.load(Relaxed).to_string(),
            ),
            (
                "instances_active",
                "gauge",
                "Instances running or parked.",
                gauges.active.to_string(),
            ),
            (
                "instances_available",
                "gauge",
                "Free instance slots.",
                gauges.available.to_string(),
            ),
            (
                "instances_suspended",
                "gauge",
                "Parked (suspended) instances.",
                gauges.suspended.to_string(),
            ),
            (
                "instances_max",
                "gauge",
                "maxInstances.",
                gauges.max.to_string(),
            ),
            (
                "queue_depth",
                "gauge",
                "Calls waiting for a worker or an instance slot.",
                gauges.queued.to_string(),
            ),
            (
                "memory_in_use_bytes",
                "gauge",
                "Linear memory of running and parked instances.",
                gauges.memory_in_use.to_string(),
            ),
        ];
        for (name, kind, help, value) in plain {
            lines(&mut out, name, kind, help, &[(String::new(), value)]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ExecutionMetrics, HandlerError};

    fn result(
        status: ExecutionStatus,
        duration_us: u64,
        error: Option<ErrorCode>,
    ) -> ExecutionResult {
        ExecutionResult {
            status,
            return_value: None,
            state_mutations: vec![],
            events: vec![],
            view_commands: vec![],
            suspension: None,
            error: error.map(|code| HandlerError::new(code, "x")),
            metrics: ExecutionMetrics {
                duration_us,
                ..Default::default()
            },
            logs: vec![],
        }
    }

    #[test]
    fn results_feed_totals_and_the_exposition() {
        let stats = Stats::default();
        stats.record(&result(ExecutionStatus::Success, 100, None), 3);
        stats.record(
            &result(ExecutionStatus::Error, 300, Some(ErrorCode::Timeout)),
            0,
        );
        stats.record(&result(ExecutionStatus::Suspended, 50, None), 1);
        let totals = stats.totals();
        assert_eq!(
            (totals.succeeded, totals.failed, totals.suspended),
            (1, 1, 1)
        );
        assert_eq!(totals.average_duration_us, 200.0);

        let text = stats.prometheus(Gauges {
            max: 10,
            available: 10,
            ..Default::default()
        });
        assert!(text.contains("nexus_bridge_executions_total{status=\"success\"} 1"));
        assert!(text.contains("nexus_bridge_execution_errors_total{code=\"TIMEOUT\"} 1"));
        assert!(text.contains("nexus_bridge_execution_duration_seconds_bucket{le=\"0.0001\"} 1"));
        assert!(text.contains("nexus_bridge_execution_duration_seconds_count 2"));
        assert!(text.contains("nexus_bridge_host_calls_total 4"));
        assert!(text.contains("nexus_bridge_instances_max 10"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("nexus_bridge_"), "{line}");
        }
    }
}
