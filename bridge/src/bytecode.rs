//! Handler bytecode: the envelope precompileHandler hands out, and the cache of compiled sources
//! (in memory, and on disk under cacheDir) keyed by the SHA-256 of the source.
//!
//! Envelope: `"NXBC" ‖ guest id (8 bytes) ‖ sha256(payload) ‖ payload`, where the payload is
//! QuickJS bytecode. The guest id ties bytecode to the QuickJS build that wrote it; the checksum
//! catches corruption before QuickJS reads anything.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::guest::GUEST_WASM;
use crate::module_cache::{hex, read_checked, write_verified};

const MAGIC: &[u8; 4] = b"NXBC";
const HEADER_LEN: usize = 4 + 8 + 32;
const MAX_MEMORY_ENTRIES: usize = 1024;
const MAX_MEMORY_BYTES: usize = 64 * 1024 * 1024;

fn guest_id() -> &'static [u8; 8] {
    static ID: OnceLock<[u8; 8]> = OnceLock::new();
    ID.get_or_init(|| Sha256::digest(GUEST_WASM)[..8].try_into().unwrap())
}

pub type SourceKey = [u8; 32];

pub fn source_key(source: &str) -> SourceKey {
    Sha256::digest(source.as_bytes()).into()
}

pub fn wrap(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(guest_id());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// The QuickJS bytecode inside an envelope, or why it cannot be used.
pub fn unwrap(envelope: &[u8]) -> Result<&[u8], String> {
    if envelope.len() < HEADER_LEN || &envelope[..4] != MAGIC {
        return Err("this is not bytecode produced by precompileHandler".into());
    }
    if &envelope[4..12] != guest_id() {
        return Err("the bytecode was produced by a different version of the bridge".into());
    }
    let payload = &envelope[HEADER_LEN..];
    if Sha256::digest(payload).as_slice() != &envelope[12..44] {
        return Err("the bytecode is corrupt (checksum mismatch)".into());
    }
    Ok(payload)
}

/// Compiled sources, newest kept: memory first, then disk.
pub struct BytecodeCache {
    memory: Mutex<MemoryCache>,
    dir: Option<PathBuf>,
}

#[derive(Default)]
struct MemoryCache {
    entries: HashMap<SourceKey, Arc<Vec<u8>>>,
    order: VecDeque<SourceKey>,
    bytes: usize,
}

impl BytecodeCache {
    pub fn new(cache_dir: Option<PathBuf>) -> Self {
        let dir = cache_dir.map(|dir| dir.join(format!("bytecode-{}", hex(guest_id()))));
        BytecodeCache {
            memory: Mutex::default(),
            dir,
        }
    }

    pub fn get(&self, key: &SourceKey) -> Option<Arc<Vec<u8>>> {
        if let Some(hit) = self.memory.lock().unwrap().entries.get(key) {
            return Some(hit.clone());
        }
        let path = self.dir.as_ref()?.join(hex(key));
        let payload = Arc::new(read_checked(&path)?);
        self.remember(*key, payload.clone());
        Some(payload)
    }

    pub fn insert(&self, key: SourceKey, payload: Vec<u8>) {
        let payload = Arc::new(payload);
        if let Some(dir) = &self.dir
            && let Err(error) = write_verified(&dir.join(hex(&key)), &payload)
        {
            tracing::warn!(dir = %dir.display(), %error, "could not write to the bytecode cache");
        }
        self.remember(key, payload);
    }

    fn remember(&self, key: SourceKey, payload: Arc<Vec<u8>>) {
        let mut memory = self.memory.lock().unwrap();
        if memory.entries.contains_key(&key) {
            return;
        }
        memory.bytes += payload.len();
        memory.entries.insert(key, payload);
        memory.order.push_back(key);
        while memory.entries.len() > MAX_MEMORY_ENTRIES || memory.bytes > MAX_MEMORY_BYTES {
            let Some(oldest) = memory.order.pop_front() else {
                break;
            };
            if let Some(evicted) = memory.entries.remove(&oldest) {
                memory.bytes -= evicted.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip() {
        let envelope = wrap(b"bytecode");
        assert_eq!(unwrap(&envelope).unwrap(), b"bytecode");
    }

    #[test]
    fn corrupt_and_foreign_envelopes_are_refused() {
        let mut envelope = wrap(b"bytecode");
        let last = envelope.len() - 1;
        envelope[last] ^= 1;
        assert!(unwrap(&envelope).unwrap_err().contains("checksum"));
        assert!(unwrap(b"garbage").unwrap_err().contains("not bytecode"));
        let mut foreign = wrap(b"bytecode");
        foreign[4] ^= 1;
        assert!(unwrap(&foreign).unwrap_err().contains("different version"));
    }

    #[test]
    fn the_disk_cache_survives_a_new_cache_object() {
        let dir = tempfile::tempdir().unwrap();
        let key = source_key("return 1");
        BytecodeCache::new(Some(dir.path().into())).insert(key, b"compiled".to_vec());
        let fresh = BytecodeCache::new(Some(dir.path().into()));
        assert_eq!(fresh.get(&key).unwrap().as_slice(), b"compiled");
        assert!(fresh.get(&source_key("return 2")).is_none());
    }
}
