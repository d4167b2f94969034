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
    pub execution_deadline_ms: Option<f64>,
    pub max_host_calls: Option<f64>,
    pub max_state_mutations: Option<f64>,
    pub max_events: Option<f64>,
    pub max_suspensions: Option<f64>,
    pub max_value_bytes: Option<f64>,
    pub max_event_bytes: Option<f64>,
    pub cache_max_bytes: Option<f64>,
    pub cache_dir: Option<String>,
    pub cache_seed_dir: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    pub max_instances: u32,
    pub min_instances: u32,
    pub memory_limit_bytes: u64,
    /// The handler's time budget: running time across all of an execution's segments.
    pub timeout_ms: u64,
    /// Wall-clock bound of an execution, suspensions included: a parked handler expires then.
    pub execution_deadline_ms: u64,
    pub max_host_calls: u32,
    pub max_state_mutations: u32,
    pub max_events: u32,
    /// `$ext` calls (suspensions) one execution may make.
    pub max_suspensions: u32,
    /// The one budget of bytes a handler hands to the host in an execution (store.rs CallLimits).
    pub max_value_bytes: u64,
    /// Bytes of event names and payloads one execution may emit (within `max_value_bytes`).
    pub max_event_bytes: u64,
    /// Bound on the bytecode files under cacheDir (oldest removed first; 0 = none on disk).
    pub cache_max_bytes: u64,
    pub cache_dir: Option<PathBuf>,
    /// Read-only: a compiled guest module made by the same bridge build (e.g. at image build).
    pub cache_seed_dir: Option<PathBuf>,
}

pub const MAX_MEMORY_LIMIT_BYTES: u64 = 1024 * MIB;
/// The smallest memoryLimitBytes: the pre-initialised guest (~1.5 MiB) plus room to run.
pub const MIN_MEMORY_LIMIT_BYTES: u64 = 4 * MIB;
pub const MAX_TIMEOUT_MS: u64 = 10 * 60 * 1000;

/// A numeric option: its JavaScript name, default and accepted range. The one table of them is
/// [`RANGES`]; `bridge/limits.js` (what the kernel and the operator read) is generated from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionRange {
    pub field: &'static str,
    pub default: u64,
    pub min: u64,
    pub max: u64,
}

pub const MAX_INSTANCES: OptionRange = range("maxInstances", 10, 1, 1000);
pub const MIN_INSTANCES: OptionRange = range("minInstances", 1, 0, 1000);
pub const MEMORY_LIMIT_BYTES: OptionRange = range(
    "memoryLimitBytes",
    32 * MIB,
    MIN_MEMORY_LIMIT_BYTES,
    MAX_MEMORY_LIMIT_BYTES,
);
pub const TIMEOUT_MS: OptionRange = range("timeoutMs", 5000, 1, MAX_TIMEOUT_MS);
pub const EXECUTION_DEADLINE_MS: OptionRange = range("executionDeadlineMs", 30_000, 1, 3_600_000);
pub const MAX_HOST_CALLS: OptionRange = range("maxHostCalls", 10_000, 1, 10_000_000);
pub const MAX_STATE_MUTATIONS: OptionRange = range("maxStateMutations", 1000, 0, 1_000_000);
pub const MAX_EVENTS: OptionRange = range("maxEvents", 100, 0, 1_000_000);
pub const MAX_SUSPENSIONS: OptionRange = range("maxSuspensions", 256, 1, 100_000);
pub const MAX_VALUE_BYTES: OptionRange = range("maxValueBytes", 16 * MIB, 1024, 256 * MIB);
pub const MAX_EVENT_BYTES: OptionRange = range("maxEventBytes", MIB, 0, 256 * MIB);
pub const CACHE_MAX_BYTES: OptionRange = range("cacheMaxBytes", 64 * MIB, 0, 1 << 40);

/// Every numeric option, in the order of docs/bridge-api.md.
pub const RANGES: [OptionRange; 12] = [
    MAX_INSTANCES,
    MIN_INSTANCES,
    MEMORY_LIMIT_BYTES,
    TIMEOUT_MS,
    EXECUTION_DEADLINE_MS,
    MAX_HOST_CALLS,
    MAX_STATE_MUTATIONS,
    MAX_EVENTS,
    MAX_SUSPENSIONS,
    MAX_VALUE_BYTES,
    MAX_EVENT_BYTES,
    CACHE_MAX_BYTES,
];

const fn range(field: &'static str, default: u64, min: u64, max: u64) -> OptionRange {
    OptionRange {
        field,
        default,
        min,
        max,
    }
}

impl OptionRange {
    fn read(&self, value: Option<f64>) -> Result<u64, ApiError> {
        integer(self.field, value, self.default, self.min, self.max)
    }
}

impl RuntimeConfig {
    /// Validates `options` against [`RANGES`]. `guest_minimum_bytes` is the smallest memory the
    /// pre-initialised guest can run in (its snapshot plus working room).
    pub fn from_options(
        options: &RuntimeOptions,
        guest_minimum_bytes: u64,
    ) -> Result<Self, ApiError> {
        let max_instances = MAX_INSTANCES.read(options.max_instances)? as u32;
        let min_instances = integer(
            MIN_INSTANCES.field,
            options.min_instances,
            MIN_INSTANCES.default.min(max_instances as u64),
            MIN_INSTANCES.min,
            max_instances as u64,
        )? as u32;
        let memory_limit_bytes = integer(
            MEMORY_LIMIT_BYTES.field,
            options.memory_limit_bytes,
            MEMORY_LIMIT_BYTES.default.max(guest_minimum_bytes),
            guest_minimum_bytes,
            MEMORY_LIMIT_BYTES.max,
        )?;
        let timeout_ms = TIMEOUT_MS.read(options.timeout_ms)?;
        let execution_deadline_ms = EXECUTION_DEADLINE_MS.read(options.execution_deadline_ms)?;
        if execution_deadline_ms < timeout_ms {
            return Err(invalid(format!(
                "executionDeadlineMs ({execution_deadline_ms}) must be at least timeoutMs ({timeout_ms})"
            )));
        }
        Ok(RuntimeConfig {
            max_instances,
            min_instances,
            memory_limit_bytes,
            timeout_ms,
            execution_deadline_ms,
            max_host_calls: MAX_HOST_CALLS.read(options.max_host_calls)? as u32,
            max_state_mutations: MAX_STATE_MUTATIONS.read(options.max_state_mutations)? as u32,
            max_events: MAX_EVENTS.read(options.max_events)? as u32,
            max_suspensions: MAX_SUSPENSIONS.read(options.max_suspensions)? as u32,
            max_value_bytes: MAX_VALUE_BYTES.read(options.max_value_bytes)?,
            max_event_bytes: MAX_EVENT_BYTES.read(options.max_event_bytes)?,
            cache_max_bytes: CACHE_MAX_BYTES.read(options.cache_max_bytes)?,
            cache_dir: directory("cacheDir", options.cache_dir.as_deref())?,
            cache_seed_dir: directory("cacheSeedDir", options.cache_seed_dir.as_deref())?,
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
    integer(
        TIMEOUT_MS.field,
        value,
        default,
        TIMEOUT_MS.min,
        TIMEOUT_MS.max,
    )
}

/// `bridge/limits.js`: the ranges as a plain ES module the kernel and the operator import without
/// loading the native module. Generated from [`RANGES`] and the name limits; a test keeps the
/// committed file in step.
pub fn limits_module() -> String {
    let mut out = String::from(
        "// Generated from bridge/src/config.rs and bridge/src/limits.rs by `cargo test -p nexus-bridge`\n\
         // (test limits_module_is_current): edit those, not this file.\n\
         /** Numeric RuntimeConfig options: default and accepted range. */\n\
         export const runtimeOptions = Object.freeze({\n",
    );
    for option in RANGES {
        out.push_str(&format!(
            "  {}: Object.freeze({{ default: {}, min: {}, max: {} }}),\n",
            option.field, option.default, option.min, option.max
        ));
    }
    out.push_str("});\n/** Bytes a handler may hand to the host besides values. */\nexport const nameLimits = Object.freeze({\n");
    for name in crate::limits::NAMES {
        out.push_str(&format!("  {}: {},\n", js_name(name.what), name.max_bytes));
    }
    out.push_str(&format!(
        "}});\n/** Bytes each event counts against maxEventBytes besides its name and payload. */\nexport const eventFramingBytes = {};\n",
        crate::limits::EVENT_FRAMING_BYTES
    ));
    let logs = crate::limits::LOGS;
    out.push_str(&format!(
        "/** The bounds on one execution's log lines (console.* and $log): lines beyond them are dropped. */\nexport const logLimits = Object.freeze({{ maxLogLines: {}, maxLogBytes: {}, maxLogMessageBytes: {} }});\n",
        logs.max_lines, logs.max_bytes, logs.max_message_bytes
    ));
    let codes: Vec<String> = crate::ErrorCode::ALL
        .iter()
        .map(|code| format!("'{}'", code.as_str()))
        .collect();
    out.push_str(&format!(
        "/** The error codes of handler results. */\nexport const errorCodes = Object.freeze([{}]);\n",
        codes.join(", ")
    ));
    out
}

/// `bridge/limits.d.ts`: the types of [`limits_module`].
pub fn limits_types() -> String {
    let mut out = String::from(
        "// Generated with bridge/limits.js (see there): edit bridge/src/config.rs, not this file.\n\
         export interface OptionRange {\n  readonly default: number;\n  readonly min: number;\n  readonly max: number;\n}\n\
         export declare const runtimeOptions: {\n",
    );
    for option in RANGES {
        out.push_str(&format!("  readonly {}: OptionRange;\n", option.field));
    }
    out.push_str("};\nexport declare const nameLimits: {\n");
    for name in crate::limits::NAMES {
        out.push_str(&format!("  readonly {}: number;\n", js_name(name.what)));
    }
    out.push_str("};\nexport declare const eventFramingBytes: number;\n");
    out.push_str("export declare const logLimits: {\n  readonly maxLogLines: number;\n  readonly maxLogBytes: number;\n  readonly maxLogMessageBytes: number;\n};\n");
    let codes: Vec<String> = crate::ErrorCode::ALL
        .iter()
        .map(|code| format!("'{}'", code.as_str()))
        .collect();
    out.push_str(&format!(
        "export declare const errorCodes: readonly ({})[];\n",
        codes.join(" | ")
    ));
    out
}

/// "a $state key" → "stateKey".
fn js_name(what: &str) -> String {
    let words: Vec<&str> = what
        .split(' ')
        .skip(1)
        .map(|w| w.trim_start_matches('$'))
        .collect();
    let mut name = String::new();
    for (index, word) in words.iter().enumerate() {
        if index == 0 {
            name.push_str(word);
        } else {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                name.extend(first.to_uppercase());
                name.push_str(chars.as_str());
            }
        }
    }
    name
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
        assert_eq!(config.max_suspensions, 256);
        assert_eq!(config.execution_deadline_ms, 30_000);
        assert_eq!(config.max_value_bytes, 16 * MIB);
        assert_eq!(config.max_event_bytes, MIB);
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
    fn limits_module_is_current() {
        for (file, generated) in [
            ("limits.js", limits_module()),
            ("limits.d.ts", limits_types()),
        ] {
            let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
            if std::env::var_os("NEXUS_WRITE_LIMITS").is_some() {
                std::fs::write(&path, &generated).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                committed, generated,
                "bridge/{file} is stale: run NEXUS_WRITE_LIMITS=1 cargo test -p nexus-bridge --lib limits_module"
            );
        }
    }

    #[test]
    fn a_deadline_shorter_than_the_time_budget_is_rejected() {
        let options = RuntimeOptions {
            timeout_ms: Some(5000.0),
            execution_deadline_ms: Some(1000.0),
            ..Default::default()
        };
        let err = RuntimeConfig::from_options(&options, MINIMUM).unwrap_err();
        assert!(
            err.message.contains("executionDeadlineMs"),
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
