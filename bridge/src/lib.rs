//! nexus-bridge: runs untrusted JavaScript handlers in QuickJS compiled to WebAssembly, hosted by
//! wasmtime, as a Node.js native module. `node` is the napi glue; everything else is plain Rust.

pub mod bytecode;
pub mod capabilities;
pub mod config;
pub mod engine;
pub mod error;
pub mod execution;
pub mod guest;
mod guest_json;
mod host;
pub mod limits;
pub mod module_cache;
mod node;
mod parking;
pub mod pool;
pub mod runtime;
pub mod sched;
pub mod snapshot;
pub mod state_view;
pub mod stats;
pub mod store;
pub mod types;

pub use config::{RuntimeConfig, RuntimeOptions};
pub use error::{ApiError, ApiErrorCode, ErrorCode};
pub use runtime::{Runtime, blocking};
pub use types::*;
