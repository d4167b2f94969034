//! $log and console.*: handler output, kept in the execution's record (returned in its results)
//! within `limits::LOGS`, and handed to the bridge's tracing log tagged with panel and handler.
//! It needs no capability but counts as a host call; kept lines count against the value budget.

use wasmtime::{Caller, Linker};

use super::{MODULE, bytes, count};
use crate::limits::LOGS;
use crate::store::HostState;
use crate::types::{LogLevel, LogLine};

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "log", log)?;
    Ok(())
}

fn log(mut caller: Caller<'_, HostState>, level: i32, ptr: i32, len: i32) -> wasmtime::Result<()> {
    count(&mut caller)?;
    let len = len.clamp(0, LOGS.max_message_bytes as i32);
    // Decided before anything is copied: a flood past the bounds costs the host a counter.
    if !caller
        .data_mut()
        .admit_log(len as usize)
        .map_err(super::trap)?
    {
        return Ok(());
    }
    let raw = bytes(&caller, ptr, len)?;
    let message = text(&raw);
    let level = LogLevel::from_guest(level);
    let state = caller.data_mut();
    let (panel, handler) = (state.panel_id.as_str(), state.handler_name.as_str());
    match level {
        LogLevel::Debug => {
            tracing::debug!(target: "nexus_bridge::handler", panel, handler, "{message}")
        }
        LogLevel::Warn => {
            tracing::warn!(target: "nexus_bridge::handler", panel, handler, "{message}")
        }
        LogLevel::Error => {
            tracing::error!(target: "nexus_bridge::handler", panel, handler, "{message}")
        }
        LogLevel::Info => {
            tracing::info!(target: "nexus_bridge::handler", panel, handler, "{message}")
        }
    }
    let at_ms = state.elapsed_ms();
    state.logs.push(LogLine {
        level,
        message,
        at_ms,
        location: None,
    });
    Ok(())
}

/// The message as text: a message cut inside a character loses that character; other invalid
/// sequences (unpaired surrogates) become U+FFFD.
fn text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_owned(),
        Err(error) if error.error_len().is_none() => {
            String::from_utf8_lossy(&raw[..error.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}
