//! Randomness from the host's CSPRNG: the per-execution seed of `Math.random` (made by the guest
//! itself at the start of every execution, not a handler's host call) and
//! `crypto.getRandomValues` (a host call, at most 65536 bytes, as the Web Crypto API allows).
//! No capability guards them: random bytes tell a handler nothing about the host or other panels.

use wasmtime::{Caller, Linker};

use super::{MODULE, count, fault, memory, trap};
use crate::store::{HostFault, HostState};

const MAX_RANDOM_BYTES: i32 = 65536;

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "random_seed", seed)?;
    linker.func_wrap(MODULE, "random_bytes", bytes)?;
    Ok(())
}

fn fill(caller: &mut Caller<'_, HostState>, ptr: i32, len: usize) -> wasmtime::Result<()> {
    let mut buffer = vec![0u8; len];
    getrandom::fill(&mut buffer)
        .map_err(|e| fault(format!("the host's random source failed: {e}")))?;
    let memory = memory(caller)?;
    memory
        .write(caller, ptr as u32 as usize, &buffer)
        .map_err(|_| fault("random bytes: destination out of bounds"))
}

fn seed(mut caller: Caller<'_, HostState>, ptr: i32) -> wasmtime::Result<()> {
    fill(&mut caller, ptr, 16)
}

fn bytes(mut caller: Caller<'_, HostState>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    count(&mut caller)?;
    if !(0..=MAX_RANDOM_BYTES).contains(&len) {
        return Err(trap(HostFault::ResourceLimit(format!(
            "crypto.getRandomValues asked for {len} bytes; at most {MAX_RANDOM_BYTES}"
        ))));
    }
    fill(&mut caller, ptr, len as usize)
}
