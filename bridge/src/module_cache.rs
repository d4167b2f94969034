//! The compiled, pre-initialised guest: built once per engine configuration and kept in memory
//! for the process and, with a cache directory, on disk across process starts.
//!
//! A cache file is `sha256(payload) ‖ payload`, where the payload is wasmtime's serialisation.
//! A file that fails the checksum or wasmtime's own compatibility check is ignored and rebuilt:
//! deserialising runs native code, so nothing in it is trusted blindly.

use std::collections::HashMap;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::guest::GUEST_WASM;
use crate::snapshot;

/// Where a module came from, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleSource {
    Process,
    Disk,
    /// The read-only seed directory (a module compiled when the image was built).
    Seed,
    Compiled,
}

static SERIALIZED: OnceLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = OnceLock::new();

/// The cache key: the guest's bytes and everything wasmtime needs to agree on.
pub fn cache_key(engine: &Engine) -> String {
    let guest = Sha256::digest(GUEST_WASM);
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{}-{:016x}", hex(&guest[..12]), hasher.finish())
}

pub fn cache_file(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("guest-{key}.cwasm"))
}

/// Where compiled modules are looked for: the writable cache directory, then a read-only seed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModuleDirs<'a> {
    pub cache: Option<&'a Path>,
    pub seed: Option<&'a Path>,
}

/// The pre-initialised guest compiled for `engine`.
pub fn load(engine: &Engine, dirs: ModuleDirs<'_>) -> wasmtime::Result<(Module, ModuleSource)> {
    let cache_dir = dirs.cache;
    let key = cache_key(engine);
    let memory = SERIALIZED.get_or_init(Default::default);

    let in_process = memory.lock().unwrap().get(&key).cloned();
    if let Some(bytes) = in_process {
        // SAFETY: produced by Module::serialize in this process.
        if let Ok(module) = unsafe { Module::deserialize(engine, &bytes[..]) } {
            // A runtime with a new cache directory still leaves the module there for the next start.
            if let Some(path) = cache_dir.map(|dir| cache_file(dir, &key))
                && !path.exists()
            {
                store(&path, &bytes);
            }
            return Ok((module, ModuleSource::Process));
        }
    }

    let (module, source, bytes) = load_from_disk_or_compile(engine, dirs)?;
    memory.lock().unwrap().insert(key, Arc::new(bytes));
    Ok((module, source))
}

/// The module from the cache directory when a valid file is there, else from the seed directory
/// (copied into the cache directory), else built (and written there). Returns the serialised
/// bytes too.
pub fn load_from_disk_or_compile(
    engine: &Engine,
    dirs: ModuleDirs<'_>,
) -> wasmtime::Result<(Module, ModuleSource, Vec<u8>)> {
    let key = cache_key(engine);
    let cache_dir = dirs.cache;
    if let Some((module, bytes)) =
        cache_dir.and_then(|dir| read_module(engine, &cache_file(dir, &key)))
    {
        return Ok((module, ModuleSource::Disk, bytes));
    }
    if let Some((module, bytes)) = dirs
        .seed
        .and_then(|dir| read_module(engine, &cache_file(dir, &key)))
    {
        if let Some(dir) = cache_dir {
            store(&cache_file(dir, &key), &bytes);
        }
        return Ok((module, ModuleSource::Seed, bytes));
    }

    let started = Instant::now();
    tracing::info!("pre-initialising and compiling the sandbox guest (first start only)");
    let preinitialized = snapshot::preinitialize(engine, GUEST_WASM)?;
    let module = Module::new(engine, &preinitialized)?;
    let bytes = module.serialize()?;
    release_compiler_memory();
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sandbox guest ready"
    );
    if let Some(dir) = cache_dir {
        store(&cache_file(dir, &key), &bytes);
    }
    Ok((module, ModuleSource::Compiled, bytes))
}

/// A verified module file deserialised for `engine`; None (logged) when absent or unusable.
fn read_module(engine: &Engine, path: &Path) -> Option<(Module, Vec<u8>)> {
    match read_verified(path) {
        // SAFETY: the checksum matched what this bridge wrote into its private cache directory
        // (or what the same bridge build wrote into the seed when the image was built), and
        // wasmtime checks the engine compatibility of the header.
        Ok(Some(bytes)) => match unsafe { Module::deserialize(engine, &bytes) } {
            Ok(module) => {
                tracing::info!(path = %path.display(), "loaded the compiled guest");
                Some((module, bytes))
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring an incompatible guest module file");
                None
            }
        },
        Ok(None) => None,
        Err(reason) => {
            tracing::warn!(path = %path.display(), reason, "ignoring a corrupt guest module file");
            None
        }
    }
}

/// Writes the module file and removes the files of other guest builds beside it, so a cache
/// directory that outlives upgrades holds one module, not one per version ever run.
fn store(path: &Path, bytes: &[u8]) {
    if let Err(error) = write_verified(path, bytes) {
        tracing::warn!(path = %path.display(), %error, "could not write the guest cache file");
        return;
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let guest = name.to_string_lossy();
    let ours = guest.split('-').nth(1).unwrap_or_default().to_string();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let other = entry.file_name().to_string_lossy().into_owned();
        let stale = other.starts_with("guest-")
            && other.ends_with(".cwasm")
            && other.split('-').nth(1) != Some(ours.as_str());
        if stale && fs::remove_file(entry.path()).is_ok() {
            tracing::info!(
                file = other,
                "removed the compiled module of another guest build"
            );
        }
    }
}

/// Ok(None) when there is no file; Err(reason) when it exists but is unusable.
fn read_verified(path: &Path) -> Result<Option<Vec<u8>>, &'static str> {
    let data = match fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err("unreadable"),
    };
    if data.len() < 32 {
        return Err("truncated");
    }
    let (sum, payload) = data.split_at(32);
    if Sha256::digest(payload).as_slice() != sum {
        return Err("checksum mismatch");
    }
    Ok(Some(payload.to_vec()))
}

/// Writes atomically (temporary file, then rename), readable only by this user.
pub fn write_verified(path: &Path, payload: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    {
        let mut file = private_file(&tmp)?;
        file.write_all(&Sha256::digest(payload))?;
        file.write_all(payload)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

/// Compiling the guest leaves tens of MiB of freed Cranelift heap that glibc keeps mapped; give it
/// back so a freshly started process is as small as one that loaded the module from the cache.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_compiler_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_compiler_memory() {}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Verified read for other caches (bytecode).
pub fn read_checked(path: &Path) -> Option<Vec<u8>> {
    read_verified(path).ok().flatten()
}
