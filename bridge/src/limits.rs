//! The bounds on what a handler hands to the host besides values: names and keys. Every byte of
//! them also counts against the execution's value budget (`maxValueBytes`), like values do, so a handler cannot grow the Node process through names it makes up.

/// A string the host receives from the guest, and the most bytes it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameLimit {
    pub what: &'static str,
    pub max_bytes: usize,
}

pub const STATE_KEY: NameLimit = NameLimit {
    what: "a $state key",
    max_bytes: 1024,
};
pub const EVENT_NAME: NameLimit = NameLimit {
    what: "an event name",
    max_bytes: 256,
};
pub const VIEW_TYPE: NameLimit = NameLimit {
    what: "a view command type",
    max_bytes: 256,
};
pub const COMPONENT_ID: NameLimit = NameLimit {
    what: "a component id",
    max_bytes: 1024,
};
pub const EXTENSION_NAME: NameLimit = NameLimit {
    what: "an extension name",
    max_bytes: 128,
};
pub const METHOD_NAME: NameLimit = NameLimit {
    what: "an extension method name",
    max_bytes: 128,
};

/// Every name limit, for docs and tests.
pub const NAMES: [NameLimit; 6] = [
    STATE_KEY,
    EVENT_NAME,
    VIEW_TYPE,
    COMPONENT_ID,
    EXTENSION_NAME,
    METHOD_NAME,
];

/// Bytes each emitted event counts against `maxEventBytes` besides its name and payload: what a
/// subscriber's frame adds around them (its type, the panel id, the field names). So the budget
/// bounds the frames a panel's subscribers receive, however small and many the events are.
pub const EVENT_FRAMING_BYTES: usize = 128;

/// The longest error message and stack the host keeps of a failed handler.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 4096;
pub const MAX_ERROR_STACK_BYTES: usize = 16 * 1024;

/// The bounds on one execution's log lines (`console.*` and `$log`). Lines beyond them are
/// dropped, not failed: the result then ends with one marker line saying how many. Kept lines
/// also count against `maxValueBytes`, like names and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Lines kept per execution, across all its segments.
    pub max_lines: usize,
    /// Bytes of messages kept per execution, across all its segments.
    pub max_bytes: usize,
    /// The longest message; a longer one is cut to this many bytes.
    pub max_message_bytes: usize,
}

pub const LOGS: LogLimits = LogLimits {
    max_lines: 100,
    max_bytes: 64 * 1024,
    max_message_bytes: 4096,
};
