//! $emit needs `events:emit:<name>`; $view commands need `view:update:<componentId>` (or
//! `view:update:*` for a command without a component).

use wasmtime::{Caller, Linker};

use super::{MODULE, count, json, name, require, trap};
use crate::capabilities::Capability;
use crate::limits::{COMPONENT_ID, EVENT_FRAMING_BYTES, EVENT_NAME, VIEW_TYPE};
use crate::store::{HostFault, HostState};
use crate::types::{EmittedEvent, ViewCommand};

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "emit", emit)?;
    linker.func_wrap(MODULE, "view", view)?;
    Ok(())
}

fn emit(
    mut caller: Caller<'_, HostState>,
    name_ptr: i32,
    name_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<()> {
    count(&mut caller)?;
    let name = name(&mut caller, name_ptr, name_len, EVENT_NAME)?;
    require(&caller, Capability::EventsEmit(&name), || {
        format!("emitting event \"{name}\"")
    })?;
    // Every subscriber of the panel receives the event: its frame's bytes have a bound of their
    // own, checked before the payload is copied.
    let bytes = name.len() + len.max(0) as usize + EVENT_FRAMING_BYTES;
    caller.data_mut().record_event_bytes(bytes).map_err(trap)?;
    let payload = json(&mut caller, ptr, len)?;
    let state = caller.data_mut();
    if state.events.len() >= state.limits.max_events as usize {
        return Err(trap(HostFault::ResourceLimit(format!(
            "the handler emitted more than {} events (maxEvents)",
            state.limits.max_events
        ))));
    }
    state.events.push(EmittedEvent { name, payload });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn view(
    mut caller: Caller<'_, HostState>,
    type_ptr: i32,
    type_len: i32,
    id_ptr: i32,
    id_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<()> {
    count(&mut caller)?;
    let kind = name(&mut caller, type_ptr, type_len, VIEW_TYPE)?;
    let component_id = if id_len < 0 {
        None
    } else {
        Some(name(&mut caller, id_ptr, id_len, COMPONENT_ID)?)
    };
    let subject = component_id.as_deref().unwrap_or("*");
    require(&caller, Capability::ViewUpdate(subject), || {
        format!("the view command \"{kind}\" on \"{subject}\"")
    })?;
    let args = json(&mut caller, ptr, len)?;
    let state = caller.data_mut();
    // View commands share the events budget: both are messages to the panel's clients.
    if state.view_commands.len() >= state.limits.max_events as usize {
        return Err(trap(HostFault::ResourceLimit(format!(
            "the handler issued more than {} view commands (maxEvents)",
            state.limits.max_events
        ))));
    }
    state.view_commands.push(ViewCommand {
        kind,
        component_id,
        args,
    });
    Ok(())
}
