//! Runtime configuration: validated once, defaults applied, then immutable.

use std::path::PathBuf;

use crate::error::{ApiError, ApiErrorCode};

pub const MIB: u64 = 1024 * 1024;

/// What the caller may set; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    pub max_instances: Option<f64>,
    pub min_instances: Option<f64>,
    pub memory_limit_bytes: Option<f64>,
    pub timeout_ms: Option<f64>,
    pub max_host_calls: Option<f64>,
    pub max_state_mutations: Option<f64>,
    pub max_events: Option<f64>,
    pub cache_dir: Option<String>,
    pub cache_seed_dir: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    pub max_instances: u32,
    pub min_instances: u32,
    pub memory_limit_bytes: u64,
    pub timeout_ms: u64,
    pub max_host_calls: u32,
    pub max_state_mutations: u32,
    pub max_events: u32,
    pub cache_dir: Option<PathBuf>,
    /// Read-only: a compiled guest module made by the same bridge build (e.g. at image build).
    pub cache_seed_dir: Option<PathBuf>,
}

pub const MAX_MEMORY_LIMIT_BYTES: u64 = 1024 * MIB;
/// The smallest memoryLimitBytes: the pre-initialised guest (~1.5 MiB) plus room to run.
pub const MIN_MEMORY_LIMIT_BYTES: u64 = 4 * MIB;
pub const MAX_TIMEOUT_MS: u64 = 10 * 60 * 1000;

impl RuntimeConfig {
    /// Validates `options` against the ranges in docs/bridge-api.md. `guest_minimum_bytes` is the
    /// smallest memory the pre-initialised guest can run in (its snapshot plus working room).
    pub fn from_options(
        options: &RuntimeOptions,
        guest_minimum_bytes: u64,
    ) -> Result<Self, ApiError> {
        let max_instances = integer("maxInstances", options.max_instances, 10, 1, 1000)? as u32;
        let min_instances = integer(
            "minInstances",
            options.min_instances,
            1.min(max_instances as u64),
            0,
            max_instances as u64,
        )? as u32;
        let memory_limit_bytes = integer(
            "memoryLimitBytes",
            options.memory_limit_bytes,
            (32 * MIB).max(guest_minimum_bytes),
            guest_minimum_bytes,
            MAX_MEMORY_LIMIT_BYTES,
        )?;
        let timeout_ms = integer("timeoutMs", options.timeout_ms, 5000, 1, MAX_TIMEOUT_MS)?;
        let max_host_calls = integer(
            "maxHostCalls",
            options.max_host_calls,
            10_000,
            1,
            10_000_000,
        )? as u32;
        let max_state_mutations = integer(
            "maxStateMutations",
            options.max_state_mutations,
            1000,
            0,
            1_000_000,
        )? as u32;
        let max_events = integer("maxEvents", options.max_events, 100, 0, 1_000_000)? as u32;
        let cache_dir = directory("cacheDir", options.cache_dir.as_deref())?;
        let cache_seed_dir = directory("cacheSeedDir", options.cache_seed_dir.as_deref())?;
        Ok(RuntimeConfig {
            max_instances,
            min_instances,
            memory_limit_bytes,
            timeout_ms,
            max_host_calls,
            max_state_mutations,
            max_events,
            cache_dir,
            cache_seed_dir,
        })
    }
}

fn directory(field: &str, value: Option<&str>) -> Result<Option<PathBuf>, ApiError> {
    match value {
        Some(dir) if dir.trim().is_empty() => Err(invalid(format!(
            "{field} must be a directory path, got an empty string"
        ))),
        Some(dir) => Ok(Some(PathBuf::from(dir))),
        None => Ok(None),
    }
}

/// A per-call timeout override, validated like `timeoutMs`.
pub fn timeout_override(value: Option<f64>, default: u64) -> Result<u64, ApiError> {
    integer("timeoutMs", value, default, 1, MAX_TIMEOUT_MS)
}

fn integer(
    field: &str,
    value: Option<f64>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let in_range = value.fract() == 0.0 && value >= min as f64 && value <= max as f64;
    if !in_range {
        return Err(invalid(format!(
            "{field} must be an integer from {min} to {max}, got {value}"
        )));
    }
    Ok(value as u64)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ApiErrorCode::InvalidConfig, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMUM: u64 = 4 * MIB;

    #[test]
    fn defaults_follow_the_contract() {
        let config = RuntimeConfig::from_options(&RuntimeOptions::default(), MINIMUM).unwrap();
        assert_eq!(config.max_instances, 10);
        assert_eq!(config.min_instances, 1);
        assert_eq!(config.memory_limit_bytes, 32 * MIB);
        assert_eq!(config.timeout_ms, 5000);
        assert_eq!(config.max_host_calls, 10_000);
        assert_eq!(config.max_state_mutations, 1000);
        assert_eq!(config.max_events, 100);
        assert_eq!(config.cache_dir, None);
    }

    #[test]
    fn out_of_range_values_name_the_field_the_value_and_the_range() {
        let options = RuntimeOptions {
            max_instances: Some(0.0),
            ..Default::default()
        };
        let err = RuntimeConfig::from_options(&options, MINIMUM).unwrap_err();
        assert_eq!(err.code, ApiErrorCode::InvalidConfig);
        assert_eq!(
            err.message,
            "maxInstances must be an integer from 1 to 1000, got 0"
        );

        let options = RuntimeOptions {
            timeout_ms: Some(1.5),
            ..Default::default()
        };
        let err = RuntimeConfig::from_options(&options, MINIMUM).unwrap_err();
        assert!(
            err.message.starts_with("timeoutMs must be an integer"),
            "{}",
            err.message
        );
    }

    #[test]
    fn memory_below_the_guest_minimum_is_rejected() {
        let options = RuntimeOptions {
            memory_limit_bytes: Some((MINIMUM - 1) as f64),
            ..Default::default()
        };
        let err = RuntimeConfig::from_options(&options, MINIMUM).unwrap_err();
        assert!(
            err.message.contains(&format!("from {MINIMUM} to")),
            "{}",
            err.message
        );
    }

    #[test]
    fn min_instances_cannot_exceed_max_instances() {
        let options = RuntimeOptions {
            max_instances: Some(2.0),
            min_instances: Some(3.0),
            ..Default::default()
        };
        let err = RuntimeConfig::from_options(&options, MINIMUM).unwrap_err();
        assert_eq!(
            err.message,
            "minInstances must be an integer from 0 to 2, got 3"
        );
    }

    #[test]
    fn an_empty_cache_dir_is_rejected() {
        let options = RuntimeOptions {
            cache_dir: Some(" ".into()),
            ..Default::default()
        };
        assert!(RuntimeConfig::from_options(&options, MINIMUM).is_err());
    }
}
