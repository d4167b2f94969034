//! $ext.<name>.<method>(...args) needs `ext:<name>` and a method in the extension registry. The
//! call is queued; the guest suspends on the oldest queued call when it has nothing else to run.

use wasmtime::{Caller, Linker};

use super::{MODULE, count, json, name, require};
use crate::capabilities::Capability;
use crate::guest_json::Json;
use crate::limits::{EXTENSION_NAME, METHOD_NAME};
use crate::store::{ExtCall, HostState};

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "ext_call", call)?;
    Ok(())
}

/// Returns 0 when queued, 1 when the extension or method is not registered (the guest throws a
/// TypeError the handler may catch).
#[allow(clippy::too_many_arguments)]
fn call(
    mut caller: Caller<'_, HostState>,
    name_ptr: i32,
    name_len: i32,
    method_ptr: i32,
    method_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    count(&mut caller)?;
    let extension = name(&mut caller, name_ptr, name_len, EXTENSION_NAME)?;
    let method = name(&mut caller, method_ptr, method_len, METHOD_NAME)?;
    require(&caller, Capability::Ext(&extension), || {
        format!("calling $ext.{extension}.{method}")
    })?;
    let registered = caller
        .data()
        .registry
        .get(&extension)
        .is_some_and(|methods| methods.contains(&method));
    if !registered {
        return Ok(1);
    }
    // The guest passes the arguments as an array; anything else is one argument.
    let args = match json(&mut caller, ptr, len)? {
        Some(args) if args.as_str().starts_with('[') => args,
        Some(other) => Json::from_text(format!("[{other}]")),
        None => Json::from_text("[]".to_string()),
    };
    caller.data_mut().pending_ext.push_back(ExtCall {
        extension,
        method,
        args,
    });
    Ok(0)
}
