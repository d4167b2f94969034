//! $log: handler output goes to the bridge's tracing log, tagged with panel and handler. It needs
//! no capability but counts as a host call, and long messages are cut.

use wasmtime::{Caller, Linker};

use super::{MODULE, bytes, count};
use crate::store::HostState;

const MAX_MESSAGE_BYTES: usize = 4096;

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "log", log)?;
    Ok(())
}

fn log(mut caller: Caller<'_, HostState>, level: i32, ptr: i32, len: i32) -> wasmtime::Result<()> {
    count(&mut caller)?;
    let len = len.clamp(0, MAX_MESSAGE_BYTES as i32);
    // Log lines are not kept, but they cost the host to write: they count like names do.
    caller
        .data_mut()
        .record_bytes(len as usize)
        .map_err(super::trap)?;
    let raw = bytes(&caller, ptr, len)?;
    let message = String::from_utf8_lossy(&raw);
    let state = caller.data();
    let (panel, handler) = (state.panel_id.as_str(), state.handler_name.as_str());
    match level {
        0 => tracing::debug!(target: "nexus_bridge::handler", panel, handler, "{message}"),
        2 => tracing::warn!(target: "nexus_bridge::handler", panel, handler, "{message}"),
        3 => tracing::error!(target: "nexus_bridge::handler", panel, handler, "{message}"),
        _ => tracing::info!(target: "nexus_bridge::handler", panel, handler, "{message}"),
    }
    Ok(())
}
