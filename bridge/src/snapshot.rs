//! Pre-initialisation: run the guest's `nx_init` once (QuickJS runtime, both contexts, the
//! injected globals) and rewrite the module so its data segments hold that initialised memory.
//! Instantiating the result maps the state copy-on-write: every execution starts from it, clean.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::{Engine, Instance, Linker, Module, Store, Val};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

use crate::guest::INIT_EXPORT;
use crate::host;
use crate::store::HostState;

/// Returns the pre-initialised guest module (WebAssembly bytes).
pub fn preinitialize(engine: &Engine, guest: &[u8]) -> wasmtime::Result<Vec<u8>> {
    let mut wizer = Wizer::new();
    wizer.init_func(INIT_EXPORT);
    let (cx, instrumented) = wizer.instrument(guest)?;

    let module = Module::new(engine, &instrumented)?;
    let mut linker = Linker::new(engine);
    host::define(&mut linker)?;
    let mut store = Store::new(engine, HostState::unprivileged(usize::MAX));
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = linker.instantiate(&mut store, &module)?;
    store.data_mut().memory = instance.get_memory(&mut store, "memory");
    // A reactor runs its constructors in `_initialize` first.
    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
        init.call(&mut store, ())?;
    }
    instance
        .get_typed_func::<(), ()>(&mut store, INIT_EXPORT)?
        .call(&mut store, ())?;

    let mut state = Snapshot { store, instance };
    ready(wizer.snapshot(&cx, &mut state))
}

struct Snapshot {
    store: Store<HostState>,
    instance: Instance,
}

impl InstanceState for Snapshot {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        let global = self
            .instance
            .get_global(&mut self.store, name)
            .expect("wizer exports every global");
        match global.get(&mut self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            other => panic!("the guest has a global of unsupported type {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self
            .instance
            .get_memory(&mut self.store, name)
            .expect("wizer exports every memory");
        contents(memory.data(&self.store));
    }
}

/// Wizer's snapshot API is async for embedders that need it; ours never waits.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("the snapshot reads an in-memory instance and never waits"),
    }
}
