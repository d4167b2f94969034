//! The embedded QuickJS guest and the host side of its ABI (bridge/guest/abi.h, docs/bridge.md).

use wasmtime::{AsContextMut, Instance, Memory, Store, TypedFunc};

use crate::limits::{MAX_ERROR_MESSAGE_BYTES, MAX_ERROR_STACK_BYTES};
use crate::store::HostState;

/// The guest as built by build.rs, before pre-initialisation.
pub const GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.wasm"));

/// The wrapper the guest puts around handler source on its first line ("(async function (){").
pub const WRAP_PREFIX_LEN: u32 = 19;
/// The file name QuickJS reports for handler code.
pub const HANDLER_FILENAME: &str = "handler.js";
/// The pre-initialisation export.
pub const INIT_EXPORT: &str = "nx_init";

/// `enum nx_status` in abi.h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestStatus {
    Done,
    Threw,
    Suspended,
    SyntaxError,
    BadBytecode,
    Compiled,
}

impl GuestStatus {
    pub fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            0 => GuestStatus::Done,
            1 => GuestStatus::Threw,
            2 => GuestStatus::Suspended,
            3 => GuestStatus::SyntaxError,
            4 => GuestStatus::BadBytecode,
            5 => GuestStatus::Compiled,
            _ => return None,
        })
    }
}

/// `enum nx_code_kind` in abi.h.
pub const CODE_BYTECODE: i32 = 1;

/// The guest's exports, looked up once per instance.
pub struct GuestExports {
    pub memory: Memory,
    alloc: TypedFunc<i32, i32>,
    compile: TypedFunc<(i32, i32), i32>,
    run: TypedFunc<(i32, i32, i32, i32, i32), i32>,
    resume: TypedFunc<(i32, i32, i32), i32>,
    output_ptr: TypedFunc<(), i32>,
    output_len: TypedFunc<(), i32>,
}

impl GuestExports {
    pub fn new(
        mut store: impl AsContextMut<Data = HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self> {
        let mut store = store.as_context_mut();
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| wasmtime::format_err!("the guest exports no memory"))?;
        Ok(GuestExports {
            memory,
            alloc: instance.get_typed_func(&mut store, "nx_alloc")?,
            compile: instance.get_typed_func(&mut store, "nx_compile")?,
            run: instance.get_typed_func(&mut store, "nx_run")?,
            resume: instance.get_typed_func(&mut store, "nx_resume")?,
            output_ptr: instance.get_typed_func(&mut store, "nx_output_ptr")?,
            output_len: instance.get_typed_func(&mut store, "nx_output_len")?,
        })
    }

    /// Copies `data` into a fresh guest buffer, NUL-terminated, and returns its address.
    pub fn write(
        &self,
        mut store: impl AsContextMut<Data = HostState>,
        data: &[u8],
    ) -> wasmtime::Result<i32> {
        let len =
            i32::try_from(data.len() + 1).map_err(|_| wasmtime::format_err!("input too large"))?;
        let ptr = self.alloc.call(&mut store, len)?;
        let memory = self.memory.data_mut(&mut store);
        let start = ptr as u32 as usize;
        let dst = memory
            .get_mut(start..start + data.len() + 1)
            .ok_or_else(|| wasmtime::format_err!("the guest returned an out-of-bounds buffer"))?;
        dst[..data.len()].copy_from_slice(data);
        dst[data.len()] = 0;
        Ok(ptr)
    }

    pub fn compile(
        &self,
        mut store: impl AsContextMut<Data = HostState>,
        src: &[u8],
    ) -> wasmtime::Result<i32> {
        let ptr = self.write(&mut store, src)?;
        self.compile.call(&mut store, (ptr, src.len() as i32))
    }

    /// Runs the handler on a fiber: the call can yield at an epoch tick (and be polled on
    /// from another thread). The clock is told, since only there may it yield.
    pub async fn run(
        &self,
        store: &mut Store<HostState>,
        bytecode: &[u8],
        context_json: &[u8],
    ) -> wasmtime::Result<i32> {
        let code = self.write(&mut *store, bytecode)?;
        let ctx = self.write(&mut *store, context_json)?;
        let args = (
            CODE_BYTECODE,
            code,
            bytecode.len() as i32,
            ctx,
            context_json.len() as i32,
        );
        store.data_mut().clock.enter_fiber();
        let status = self.run.call_async(&mut *store, args).await;
        store.data_mut().clock.leave_fiber();
        status
    }

    /// `value` is JSON (None = undefined) when `ok`, else the error message.
    pub async fn resume(
        &self,
        store: &mut Store<HostState>,
        ok: bool,
        value: Option<&[u8]>,
    ) -> wasmtime::Result<i32> {
        let (ptr, len) = match value {
            Some(data) => (self.write(&mut *store, data)?, data.len() as i32),
            None => (0, -1),
        };
        store.data_mut().clock.enter_fiber();
        let status = self
            .resume
            .call_async(&mut *store, (ok as i32, ptr, len))
            .await;
        store.data_mut().clock.leave_fiber();
        status
    }

    /// The output of the last call.
    /// The length of the guest's output, without copying it.
    pub fn output_len(
        &self,
        mut store: impl AsContextMut<Data = HostState>,
    ) -> wasmtime::Result<usize> {
        Ok(self.output_len.call(&mut store, ())? as u32 as usize)
    }

    pub fn output(
        &self,
        mut store: impl AsContextMut<Data = HostState>,
    ) -> wasmtime::Result<Vec<u8>> {
        let ptr = self.output_ptr.call(&mut store, ())? as u32 as usize;
        let len = self.output_len.call(&mut store, ())? as u32 as usize;
        self.memory
            .data(&store)
            .get(ptr..ptr + len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| wasmtime::format_err!("the guest's output is out of bounds"))
    }
}

/// The guest's error record: "name\0message\0stack".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRecord {
    pub name: String,
    pub message: String,
    pub stack: String,
}

impl ErrorRecord {
    /// Parses the record, cutting the name, message and stack to what the host keeps.
    pub fn parse(output: &[u8]) -> Self {
        let text = String::from_utf8_lossy(output);
        let mut parts = text.splitn(3, '\0');
        let name = truncate(parts.next().unwrap_or_default(), 256);
        let message = truncate(parts.next().unwrap_or_default(), MAX_ERROR_MESSAGE_BYTES);
        let stack = truncate(parts.next().unwrap_or_default(), MAX_ERROR_STACK_BYTES);
        ErrorRecord {
            name,
            message,
            stack,
        }
    }

    /// "TypeError: x is not a function", or the bare message for thrown non-Error values.
    pub fn describe(&self) -> String {
        match (self.name.is_empty(), self.message.is_empty()) {
            (true, _) => self.message.clone(),
            (false, true) => self.name.clone(),
            (false, false) => format!("{}: {}", self.name, self.message),
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary, marked when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_records_split_into_three_parts() {
        let record = ErrorRecord::parse(
            b"TypeError\0x is not a function\0    at <anonymous> (handler.js:2:3)\n",
        );
        assert_eq!(record.name, "TypeError");
        assert_eq!(record.message, "x is not a function");
        assert!(record.stack.contains("handler.js:2:3"));
        assert_eq!(record.describe(), "TypeError: x is not a function");
    }

    #[test]
    fn long_messages_and_stacks_are_cut() {
        let long = "é".repeat(10_000);
        let record = ErrorRecord::parse(format!("Error\0{long}\0{long}{long}").as_bytes());
        assert!(record.message.len() < MAX_ERROR_MESSAGE_BYTES + 64);
        assert!(record.message.ends_with("bytes cut)"));
        assert!(record.stack.len() < MAX_ERROR_STACK_BYTES + 64);
    }

    #[test]
    fn thrown_values_that_are_not_errors_keep_their_text() {
        let record = ErrorRecord::parse(b"\x0042\0");
        assert_eq!(record.describe(), "42");
    }

    #[test]
    fn the_wrapper_prefix_length_matches_the_guest() {
        assert_eq!("(async function (){".len() as u32, WRAP_PREFIX_LEN);
        assert_eq!("async function _(){".len() as u32, WRAP_PREFIX_LEN);
        assert_eq!("({async method  (){".len() as u32, WRAP_PREFIX_LEN);
    }
}
