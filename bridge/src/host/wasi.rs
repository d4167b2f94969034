//! The five WASI functions wasi-libc links into the guest. The sandbox gets a wall clock (for
//! Date.now) and no file descriptors at all: every fd operation fails with EBADF.

use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Linker};

use super::fault;
use crate::store::HostState;

const WASI: &str = "wasi_snapshot_preview1";
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(WASI, "clock_time_get", clock_time_get)?;
    linker.func_wrap(WASI, "fd_close", |_: i32| ERRNO_BADF)?;
    linker.func_wrap(WASI, "fd_fdstat_get", |_: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(WASI, "fd_seek", |_: i32, _: i64, _: i32, _: i32| ERRNO_BADF)?;
    linker.func_wrap(WASI, "fd_write", |_: i32, _: i32, _: i32, _: i32| {
        ERRNO_BADF
    })?;
    Ok(())
}

fn clock_time_get(
    mut caller: Caller<'_, HostState>,
    clock: i32,
    _precision: i64,
    out: i32,
) -> wasmtime::Result<i32> {
    if clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC {
        return Ok(ERRNO_INVAL);
    }
    // Both clocks read the wall clock in milliseconds: handlers get Date.now and nothing finer.
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let nanos = millis * 1_000_000;
    let memory = caller
        .data()
        .memory
        .ok_or_else(|| fault("memory not bound"))?;
    memory
        .write(&mut caller, out as u32 as usize, &nanos.to_le_bytes())
        .map_err(|_| fault("clock_time_get: pointer out of bounds"))?;
    Ok(ERRNO_SUCCESS)
}
