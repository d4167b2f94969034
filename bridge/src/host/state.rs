//! $state: reads need `state:read:<key>`, writes and deletes `state:write:<key>`.

use wasmtime::{Caller, Linker};

use super::{MODULE, count, json, name, require, trap};
use crate::capabilities::Capability;
use crate::limits::STATE_KEY;
use crate::store::{HostFault, HostState};
use crate::types::{MutationOperation, StateMutation};

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "state_get", get)?;
    linker.func_wrap(MODULE, "state_set", set)?;
    linker.func_wrap(MODULE, "state_delete", delete)?;
    linker.func_wrap(MODULE, "state_keys", keys)?;
    Ok(())
}

/// Returns the length of the value's JSON (read with response_read), or -1 when undefined.
fn get(mut caller: Caller<'_, HostState>, key_ptr: i32, key_len: i32) -> wasmtime::Result<i32> {
    count(&mut caller)?;
    let key = name(&mut caller, key_ptr, key_len, STATE_KEY)?;
    require(&caller, Capability::StateRead(&key), || {
        format!("reading $state.{key}")
    })?;
    let state = caller.data_mut();
    let Some(value) = state.state.get(&key) else {
        return Ok(-1);
    };
    state.response = value.to_json();
    Ok(state.response.len() as i32)
}

fn set(
    mut caller: Caller<'_, HostState>,
    key_ptr: i32,
    key_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<()> {
    count(&mut caller)?;
    let key = name(&mut caller, key_ptr, key_len, STATE_KEY)?;
    require(&caller, Capability::StateWrite(&key), || {
        format!("writing $state.{key}")
    })?;
    let value = json(&mut caller, ptr, len)?;
    record(caller.data_mut(), key, value, MutationOperation::Set)
}

fn delete(mut caller: Caller<'_, HostState>, key_ptr: i32, key_len: i32) -> wasmtime::Result<()> {
    count(&mut caller)?;
    let key = name(&mut caller, key_ptr, key_len, STATE_KEY)?;
    require(&caller, Capability::StateWrite(&key), || {
        format!("deleting $state.{key}")
    })?;
    // Deleting a key that is not there changes nothing: no mutation, no new version.
    if !caller.data().state.contains(&key) {
        return Ok(());
    }
    record(caller.data_mut(), key, None, MutationOperation::Delete)
}

/// The keys the handler may read, as a JSON array (enumerating $state hides the others).
fn keys(mut caller: Caller<'_, HostState>) -> wasmtime::Result<i32> {
    count(&mut caller)?;
    let state = caller.data_mut();
    let visible: Vec<&str> = state
        .state
        .keys()
        .into_iter()
        .filter(|key| state.capabilities.allows(Capability::StateRead(key)))
        .collect();
    let response = serde_json::to_vec(&visible).expect("strings serialise");
    state.response = response;
    Ok(state.response.len() as i32)
}

fn record(
    state: &mut HostState,
    key: String,
    value: Option<crate::guest_json::Json>,
    operation: MutationOperation,
) -> wasmtime::Result<()> {
    if state.mutations.len() >= state.limits.max_state_mutations as usize {
        return Err(trap(HostFault::ResourceLimit(format!(
            "the handler made more than {} state mutations (maxStateMutations)",
            state.limits.max_state_mutations
        ))));
    }
    match operation {
        MutationOperation::Set => state.state.set(key.clone(), value.clone()),
        MutationOperation::Delete => state.state.delete(key.clone()),
    }
    state.mutations.push(StateMutation {
        key,
        value,
        operation,
    });
    Ok(())
}
