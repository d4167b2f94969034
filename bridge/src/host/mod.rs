//! The guest's imports, one file per namespace. Every call is counted, every capability checked
//! here, on the host side: the guest is untrusted, including its copy of QuickJS.

mod ext;
mod log;
mod random;
mod state;
mod view;
mod wasi;

use wasmtime::{Caller, Linker};

use crate::guest_json::Json;
use crate::store::{HostFault, HostState};

pub const MODULE: &str = "nexus";

/// Registers every import the guest may use; nothing else is linked.
pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    state::define(linker)?;
    view::define(linker)?;
    ext::define(linker)?;
    log::define(linker)?;
    random::define(linker)?;
    wasi::define(linker)?;
    linker.func_wrap(MODULE, "response_read", response_read)?;
    linker.func_wrap(
        MODULE,
        "out_of_memory",
        |_: Caller<'_, HostState>| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(HostFault::OutOfMemory))
        },
    )?;
    Ok(())
}

fn response_read(mut caller: Caller<'_, HostState>, dst: i32) -> wasmtime::Result<()> {
    let memory = memory(&caller)?;
    let response = std::mem::take(&mut caller.data_mut().response);
    memory
        .write(&mut caller, dst as u32 as usize, &response)
        .map_err(|_| fault("response_read: destination out of bounds"))
}

pub(crate) fn fault(message: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostFault::Guest(message.into()))
}

pub(crate) fn trap(fault: HostFault) -> wasmtime::Error {
    wasmtime::Error::new(fault)
}

pub(crate) fn memory(caller: &Caller<'_, HostState>) -> wasmtime::Result<wasmtime::Memory> {
    caller
        .data()
        .memory
        .ok_or_else(|| fault("memory not bound"))
}

/// Copies `len` bytes at `ptr` out of guest memory.
pub(crate) fn bytes(
    caller: &Caller<'_, HostState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Vec<u8>> {
    let memory = memory(caller)?;
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    memory
        .data(caller)
        .get(start..start.saturating_add(len))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| fault("pointer out of bounds"))
}

/// A string from the guest. JavaScript strings may hold unpaired surrogates, which QuickJS encodes
/// as invalid UTF-8: they become U+FFFD.
pub(crate) fn string(
    caller: &Caller<'_, HostState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<String> {
    let raw = bytes(caller, ptr, len)?;
    Ok(String::from_utf8(raw)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A name or key from the guest, refused (RESOURCE_LIMIT) beyond its limit before it is copied,
/// and counted against the recorded bytes.
pub(crate) fn name(
    caller: &mut Caller<'_, HostState>,
    ptr: i32,
    len: i32,
    limit: crate::limits::NameLimit,
) -> wasmtime::Result<String> {
    let bytes = len.max(0) as usize;
    if bytes > limit.max_bytes {
        return Err(trap(HostFault::ResourceLimit(format!(
            "{} of {bytes} bytes is longer than the {}-byte limit",
            limit.what, limit.max_bytes
        ))));
    }
    caller.data_mut().record_bytes(bytes).map_err(trap)?;
    string(caller, ptr, len)
}

/// A JSON value the guest passed; length -1 means undefined. Its bytes count against the
/// execution's value budget before they are copied; the text is checked, never built.
pub(crate) fn json(
    caller: &mut Caller<'_, HostState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Option<Json>> {
    if len < 0 {
        return Ok(None);
    }
    caller.data_mut().record_bytes(len as usize).map_err(trap)?;
    let memory = memory(caller)?;
    let start = ptr as u32 as usize;
    let raw = memory
        .data(&*caller)
        .get(start..start.saturating_add(len as usize))
        .ok_or_else(|| fault("pointer out of bounds"))?;
    let value = Json::from_guest(raw).map_err(|e| {
        // Deeper than the host accepts; QuickJS produced the rest.
        trap(HostFault::ResourceLimit(format!(
            "a value handed to the host cannot be accepted: it is {e}"
        )))
    })?;
    Ok(Some(value))
}

/// Counts a host call, turning an exceeded limit into a trap.
pub(crate) fn count(caller: &mut Caller<'_, HostState>) -> wasmtime::Result<()> {
    caller.data_mut().count_call().map_err(trap)
}

/// Checks a capability, turning a denial into a trap that names the missing token.
pub(crate) fn require(
    caller: &Caller<'_, HostState>,
    capability: crate::capabilities::Capability<'_>,
    action: impl FnOnce() -> String,
) -> wasmtime::Result<()> {
    caller
        .data()
        .capabilities
        .check(capability)
        .map_err(|token| {
            trap(HostFault::PermissionDenied {
                token,
                action: action(),
            })
        })
}
