//! The two kinds of failure (docs/bridge-api.md): a handler failing resolves with an
//! [`ErrorCode`]; misusing the API rejects with an [`ApiErrorCode`]. docs/errors.md mirrors both
//! lists and a test keeps them in step.

use std::fmt;

use crate::types::ErrorLocation;

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes! {
    /// Why a handler failed: `WasmResult.error.code`.
    ErrorCode {
        Timeout => "TIMEOUT",
        MemoryLimit => "MEMORY_LIMIT",
        StackOverflow => "STACK_OVERFLOW",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceLimit => "RESOURCE_LIMIT",
        ExecutionError => "EXECUTION_ERROR",
        CompilationError => "COMPILATION_ERROR",
        InvalidHandler => "INVALID_HANDLER",
        InternalError => "INTERNAL_ERROR",
    }
}

codes! {
    /// How an API call was misused: the `code` of a rejected promise or thrown error.
    ApiErrorCode {
        InvalidConfig => "INVALID_CONFIG",
        CompilationError => "COMPILATION_ERROR",
        SuspensionNotFound => "SUSPENSION_NOT_FOUND",
        RuntimeShutDown => "RUNTIME_SHUT_DOWN",
        InternalError => "INTERNAL_ERROR",
    }
}

/// A misuse of the API, reported to the caller as a rejection.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ApiErrorCode,
    pub message: String,
    pub location: Option<ErrorLocation>,
}

impl ApiError {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            location: None,
        }
    }

    pub fn shut_down() -> Self {
        ApiError::new(
            ApiErrorCode::RuntimeShutDown,
            "the runtime has been shut down",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
