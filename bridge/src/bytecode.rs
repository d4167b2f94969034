//! Handler bytecode: the envelope precompileHandler hands out, and the cache of compiled sources
//! (in memory, and on disk under cacheDir) keyed by the SHA-256 of the source.
//!
//! Envelope: `"NXBC" ‖ guest id (8 bytes) ‖ sha256(payload) ‖ payload`, where the payload is
//! QuickJS bytecode. The guest id ties bytecode to the QuickJS build that wrote it; the checksum
//! catches corruption before QuickJS reads anything.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

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

/// The payload's SHA-256 as the envelope records it (not verified): a cheap key for the handler.
pub fn checksum(envelope: &[u8]) -> Option<[u8; 32]> {
    envelope.get(12..44)?.try_into().ok()
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

/// Compiled sources, newest kept: memory first, then disk. The files on disk take at most
/// `max_disk_bytes` (the oldest are removed first).
pub struct BytecodeCache {
    memory: Mutex<MemoryCache>,
    dir: Option<PathBuf>,
    max_disk_bytes: u64,
    /// Bytes of the files on disk, counted when first needed.
    disk_bytes: Mutex<Option<u64>>,
}

#[derive(Default)]
struct MemoryCache {
    entries: HashMap<SourceKey, Arc<Vec<u8>>>,
    order: VecDeque<SourceKey>,
    bytes: usize,
}

impl BytecodeCache {
    pub fn new(cache_dir: Option<PathBuf>, max_disk_bytes: u64) -> Self {
        let ours = format!("bytecode-{}", hex(guest_id()));
        if let Some(parent) = &cache_dir {
            // Bytecode of other guest builds can never load again.
            for entry in fs::read_dir(parent).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("bytecode-") && name != ours {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = cache_dir.map(|dir| dir.join(ours));
        BytecodeCache {
            memory: Mutex::default(),
            dir,
            max_disk_bytes,
            disk_bytes: Mutex::new(None),
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

    /// Keeps compiled bytecode in memory and, with `persist`, on disk.
    pub fn insert(&self, key: SourceKey, payload: Vec<u8>, persist: bool) {
        let payload = Arc::new(payload);
        if persist && let Some(dir) = &self.dir {
            self.persist(dir, &key, &payload);
        }
        self.remember(key, payload);
    }

    fn persist(&self, dir: &Path, key: &SourceKey, payload: &[u8]) {
        // The file is the payload plus its 32-byte checksum.
        let size = payload.len() as u64 + 32;
        if size > self.max_disk_bytes {
            return;
        }
        let mut total = self.disk_bytes.lock().unwrap();
        let used = total.get_or_insert_with(|| files(dir).iter().map(|file| file.size).sum());
        if *used + size > self.max_disk_bytes {
            let mut oldest = files(dir);
            oldest.sort_by_key(|file| file.modified);
            for file in oldest {
                if *used + size <= self.max_disk_bytes {
                    break;
                }
                if fs::remove_file(&file.path).is_ok() {
                    *used = used.saturating_sub(file.size);
                }
            }
        }
        match write_verified(&dir.join(hex(key)), payload) {
            Ok(()) => *used += size,
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "could not write to the bytecode cache")
            }
        }
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

struct CacheFile {
    path: PathBuf,
    size: u64,
    modified: SystemTime,
}

fn files(dir: &Path) -> Vec<CacheFile> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let meta = entry.metadata().ok()?;
            meta.is_file().then(|| CacheFile {
                path: entry.path(),
                size: meta.len(),
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            })
        })
        .collect()
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
        BytecodeCache::new(Some(dir.path().into()), 1 << 20).insert(
            key,
            b"compiled".to_vec(),
            true,
        );
        let fresh = BytecodeCache::new(Some(dir.path().into()), 1 << 20);
        assert_eq!(fresh.get(&key).unwrap().as_slice(), b"compiled");
        assert!(fresh.get(&source_key("return 2")).is_none());
    }

    #[test]
    fn the_disk_cache_stays_below_its_bound_oldest_out_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BytecodeCache::new(Some(dir.path().into()), 3 * (1000 + 32));
        for i in 0..10 {
            cache.insert(source_key(&i.to_string()), vec![i as u8; 1000], true);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let sub = dir.path().join(format!("bytecode-{}", hex(guest_id())));
        let kept = files(&sub);
        assert_eq!(kept.len(), 3);
        assert!(kept.iter().map(|file| file.size).sum::<u64>() <= 3 * 1032);
        let fresh = BytecodeCache::new(Some(dir.path().into()), 1 << 20);
        assert!(fresh.get(&source_key("9")).is_some());
        assert!(fresh.get(&source_key("0")).is_none());
    }

    #[test]
    fn bytecode_not_persisted_never_reaches_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BytecodeCache::new(Some(dir.path().into()), 1 << 20);
        cache.insert(source_key("x"), b"compiled".to_vec(), false);
        assert!(cache.get(&source_key("x")).is_some());
        let fresh = BytecodeCache::new(Some(dir.path().into()), 1 << 20);
        assert!(fresh.get(&source_key("x")).is_none());
    }
}
