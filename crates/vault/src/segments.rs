//! The capture spool: a few shared, append-only segment files written by one thread
//! with group commit, instead of one open file per stream. Each record is one
//! encrypted chunk of one stream; a crash loses at most the last commit interval.
//!
//! Record layout: `"CVSR"` ‖ recording id (16) ‖ stream index (u32 BE) ‖ chunk index
//! (u64 BE) ‖ final flag (u8) ‖ the sealed chunk as stored in objects (u32 BE length ‖
//! AES-GCM ciphertext). The chunk authenticates itself; the record header only routes it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::crypto::{StreamBinding, stream_header};
use crate::error::VaultError;

const RECORD_MAGIC: &[u8; 4] = b"CVSR";
const HEADER_LEN: usize = 4 + 16 + 4 + 8 + 1;
const SEGMENT_PREFIX: &str = "segment-";

/// Where a stream's chunk lies.
#[derive(Debug, Clone, Copy)]
struct Location {
    segment: u64,
    offset: u64,
    len: u32,
}

/// Settings of the spool.
#[derive(Debug, Clone, Copy)]
pub struct SpoolSettings {
    /// Appended records are forced to disk at least this often.
    pub commit_interval: Duration,
    /// A segment is closed and a new one opened past this size.
    pub segment_bytes: u64,
}

impl Default for SpoolSettings {
    fn default() -> Self {
        SpoolSettings {
            commit_interval: Duration::from_millis(200),
            segment_bytes: 256 * 1024 * 1024,
        }
    }
}

enum Command {
    Append { binding: StreamBinding, record: Vec<u8> },
    Sync(SyncSender<Result<(), String>>),
    Release(StreamBinding),
}

type StreamKey = (Uuid, u32);

#[derive(Default)]
struct Index {
    chunks: HashMap<StreamKey, Vec<Location>>,
    /// Streams with chunks in each segment that are not sealed yet.
    holders: BTreeMap<u64, HashSet<StreamKey>>,
    current: u64,
    failed: Option<String>,
}

/// The shared spool, cheap to clone.
#[derive(Clone)]
pub struct SegmentSpool {
    dir: PathBuf,
    sender: SyncSender<Command>,
    index: Arc<Mutex<Index>>,
}

impl std::fmt::Debug for SegmentSpool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentSpool")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{SEGMENT_PREFIX}{n:012}.cvspool"))
}

fn lock(index: &Mutex<Index>) -> std::sync::MutexGuard<'_, Index> {
    index.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SegmentSpool {
    /// Starts the writer thread over `dir`, after any existing segments (which recovery reads).
    pub fn start(dir: &Path, settings: SpoolSettings) -> Result<Self, VaultError> {
        std::fs::create_dir_all(dir)?;
        let next = existing_segments(dir)?.last().map_or(0, |(n, _)| n + 1);
        let index = Arc::new(Mutex::new(Index {
            current: next,
            ..Default::default()
        }));
        let (sender, receiver) = sync_channel(8192);
        let thread_index = index.clone();
        let thread_dir = dir.to_owned();
        std::thread::Builder::new()
            .name("spool-writer".into())
            .spawn(move || writer_loop(&thread_dir, next, receiver, &thread_index, settings))?;
        Ok(SegmentSpool {
            dir: dir.to_owned(),
            sender,
            index,
        })
    }

    /// Hands one sealed chunk to the writer thread (returns at once; durable within the
    /// commit interval).
    pub fn append(&self, binding: StreamBinding, chunk: u64, last: bool, sealed: &[u8]) -> Result<(), VaultError> {
        let mut record = Vec::with_capacity(HEADER_LEN + sealed.len());
        record.extend_from_slice(RECORD_MAGIC);
        record.extend_from_slice(binding.recording_id.as_bytes());
        record.extend_from_slice(&binding.stream_index.to_be_bytes());
        record.extend_from_slice(&chunk.to_be_bytes());
        record.push(u8::from(last));
        record.extend_from_slice(sealed);
        self.sender
            .send(Command::Append { binding, record })
            .map_err(|_| VaultError::Corrupt("the spool writer has stopped".into()))
    }

    /// Waits until everything appended so far is on disk.
    pub fn sync(&self) -> Result<(), VaultError> {
        let (reply, done) = sync_channel(1);
        self.sender
            .send(Command::Sync(reply))
            .map_err(|_| VaultError::Corrupt("the spool writer has stopped".into()))?;
        done.recv()
            .map_err(|_| VaultError::Corrupt("the spool writer has stopped".into()))?
            .map_err(|e| VaultError::Corrupt(format!("spool write failed: {e}")))
    }

    /// The stream's object bytes (header and every chunk in order), after a sync.
    pub fn assemble(&self, binding: StreamBinding) -> Result<Vec<u8>, VaultError> {
        self.sync()?;
        let locations = lock(&self.index)
            .chunks
            .get(&(binding.recording_id, binding.stream_index))
            .cloned()
            .unwrap_or_default();
        let mut object = stream_header(binding);
        let mut files: HashMap<u64, File> = HashMap::new();
        for location in locations {
            let file = match files.entry(location.segment) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(File::open(segment_path(&self.dir, location.segment))?)
                }
            };
            let mut bytes = vec![0u8; location.len as usize];
            file.read_exact_at(&mut bytes, location.offset)?;
            object.extend_from_slice(&bytes[HEADER_LEN..]);
        }
        Ok(object)
    }

    /// Forgets a sealed (or abandoned) stream; segments nobody holds are deleted.
    pub fn release(&self, binding: StreamBinding) {
        let _ = self.sender.send(Command::Release(binding));
    }
}

fn open_segment(dir: &Path, n: u64) -> Result<BufWriter<File>, VaultError> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(segment_path(dir, n))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

fn writer_loop(
    dir: &Path,
    mut segment: u64,
    receiver: Receiver<Command>,
    index: &Mutex<Index>,
    settings: SpoolSettings,
) {
    // The segment file is created with the first record, not before.
    let mut file: Option<BufWriter<File>> = None;
    let mut offset = 0u64;
    let mut dirty = false;
    let mut last_commit = Instant::now();
    let commit = |file: &mut Option<BufWriter<File>>| -> Result<(), String> {
        let Some(file) = file.as_mut() else { return Ok(()) };
        file.flush().map_err(|e| e.to_string())?;
        file.get_ref().sync_data().map_err(|e| e.to_string())
    };
    loop {
        let wait = settings.commit_interval.saturating_sub(last_commit.elapsed());
        let command = match receiver.recv_timeout(if dirty { wait } else { Duration::from_secs(3600) }) {
            Ok(command) => Some(command),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                let _ = commit(&mut file);
                return;
            }
        };
        match command {
            Some(Command::Append { binding, record }) => {
                if file.is_none() {
                    match open_segment(dir, segment) {
                        Ok(opened) => file = Some(opened),
                        Err(e) => {
                            lock(index).failed = Some(e.to_string());
                            continue;
                        }
                    }
                }
                let Some(writer) = file.as_mut() else { continue };
                if let Err(e) = writer.write_all(&record) {
                    lock(index).failed = Some(e.to_string());
                    continue;
                }
                let key = (binding.recording_id, binding.stream_index);
                let mut idx = lock(index);
                idx.chunks.entry(key).or_default().push(Location {
                    segment,
                    offset,
                    len: record.len() as u32,
                });
                idx.holders.entry(segment).or_default().insert(key);
                drop(idx);
                offset += record.len() as u64;
                dirty = true;
                if offset >= settings.segment_bytes {
                    let result = commit(&mut file);
                    segment += 1;
                    file = None;
                    let mut idx = lock(index);
                    idx.current = segment;
                    if let Err(e) = result {
                        idx.failed = Some(e);
                    }
                    offset = 0;
                    dirty = false;
                    delete_unheld(dir, &mut idx);
                }
            }
            Some(Command::Sync(reply)) => {
                let result = if dirty { commit(&mut file) } else { Ok(()) };
                dirty = false;
                last_commit = Instant::now();
                let failed = lock(index).failed.clone();
                let _ = reply.send(match failed {
                    Some(e) => Err(e),
                    None => result,
                });
            }
            Some(Command::Release(binding)) => {
                let key = (binding.recording_id, binding.stream_index);
                let mut idx = lock(index);
                if let Some(locations) = idx.chunks.remove(&key) {
                    for location in locations {
                        if let Some(set) = idx.holders.get_mut(&location.segment) {
                            set.remove(&key);
                        }
                    }
                }
                delete_unheld(dir, &mut idx);
            }
            None => {}
        }
        if dirty && last_commit.elapsed() >= settings.commit_interval {
            if let Err(e) = commit(&mut file) {
                lock(index).failed = Some(e);
            }
            dirty = false;
            last_commit = Instant::now();
        }
    }
}

/// Deletes closed segments that no unsealed stream holds.
fn delete_unheld(dir: &Path, idx: &mut Index) {
    let current = idx.current;
    let empty: Vec<u64> = idx
        .holders
        .iter()
        .filter(|(n, set)| **n < current && set.is_empty())
        .map(|(n, _)| *n)
        .collect();
    for n in empty {
        idx.holders.remove(&n);
        let _ = std::fs::remove_file(segment_path(dir, n));
    }
}

/// Segment files present in `dir`, oldest first.
pub fn existing_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, VaultError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Some(n) = name
            .strip_prefix(SEGMENT_PREFIX)
            .and_then(|r| r.strip_suffix(".cvspool"))
            .and_then(|n| n.parse().ok())
        {
            out.push((n, path));
        }
    }
    out.sort();
    Ok(out)
}

/// What the segments in `dir` hold: per stream, its sealed chunks by index. Reading a
/// segment stops at the first record that is torn or malformed (the crash point).
pub fn scan_segments(dir: &Path) -> Result<HashMap<StreamKey, BTreeMap<u64, Vec<u8>>>, VaultError> {
    let mut out: HashMap<StreamKey, BTreeMap<u64, Vec<u8>>> = HashMap::new();
    for (_, path) in existing_segments(dir)? {
        let bytes = std::fs::read(&path)?;
        let mut rest = &bytes[..];
        while rest.len() >= HEADER_LEN + 4 && &rest[..4] == RECORD_MAGIC {
            let recording = Uuid::from_slice(&rest[4..20]).map_err(|_| VaultError::Corrupt("spool record".into()))?;
            let stream = u32::from_be_bytes([rest[20], rest[21], rest[22], rest[23]]);
            let mut chunk = [0u8; 8];
            chunk.copy_from_slice(&rest[24..32]);
            let len = u32::from_be_bytes([rest[33], rest[34], rest[35], rest[36]]) as usize;
            let total = HEADER_LEN + 4 + len;
            if rest.len() < total {
                break;
            }
            out.entry((recording, stream))
                .or_default()
                .insert(u64::from_be_bytes(chunk), rest[HEADER_LEN..total].to_vec());
            rest = &rest[total..];
        }
    }
    Ok(out)
}

/// Removes every segment file (after recovery has used them).
pub fn remove_segments(dir: &Path) -> Result<(), VaultError> {
    for (_, path) in existing_segments(dir)? {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{ChunkReader, SecretKey, seal_chunk};

    fn sealed(key: &SecretKey, binding: StreamBinding, chunk: u64, last: bool, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        seal_chunk(key, binding, chunk, last, text, &mut out);
        out
    }

    #[test]
    fn interleaved_streams_come_back_whole_and_segments_are_reclaimed() {
        let dir = tempfile::tempdir().unwrap();
        let settings = SpoolSettings {
            commit_interval: Duration::from_millis(5),
            segment_bytes: 300,
        };
        let spool = SegmentSpool::start(dir.path(), settings).unwrap();
        let key = SecretKey::random();
        let a = StreamBinding {
            recording_id: Uuid::from_u128(1),
            stream_index: 0,
        };
        let b = StreamBinding {
            recording_id: Uuid::from_u128(1),
            stream_index: 1,
        };
        for chunk in 0..6u64 {
            for binding in [a, b] {
                let text = format!("{}-{chunk}", binding.stream_index).repeat(10);
                spool
                    .append(
                        binding,
                        chunk,
                        chunk == 5,
                        &sealed(&key, binding, chunk, chunk == 5, text.as_bytes()),
                    )
                    .unwrap();
            }
        }
        spool.sync().unwrap();
        assert!(
            existing_segments(dir.path()).unwrap().len() > 1,
            "small segments rotate"
        );
        for binding in [a, b] {
            let object = spool.assemble(binding).unwrap();
            let mut reader = ChunkReader::new(&key, binding, &object).unwrap();
            let mut n = 0;
            while let Some(chunk) = reader.next_chunk().unwrap() {
                assert_eq!(
                    chunk.plaintext,
                    format!("{}-{n}", binding.stream_index).repeat(10).into_bytes()
                );
                n += 1;
            }
            assert_eq!(n, 6);
        }
        // What a restart would find.
        let found = scan_segments(dir.path()).unwrap();
        assert_eq!(found[&(a.recording_id, 0)].len(), 6);
        spool.release(a);
        spool.release(b);
        spool.sync().unwrap();
        assert!(
            existing_segments(dir.path()).unwrap().len() <= 1,
            "at most the open segment is left"
        );
    }

    #[test]
    fn a_torn_record_ends_the_scan_of_its_segment() {
        let dir = tempfile::tempdir().unwrap();
        let spool = SegmentSpool::start(dir.path(), SpoolSettings::default()).unwrap();
        let key = SecretKey::random();
        let a = StreamBinding {
            recording_id: Uuid::from_u128(2),
            stream_index: 0,
        };
        for chunk in 0..3 {
            spool
                .append(a, chunk, false, &sealed(&key, a, chunk, false, b"audio"))
                .unwrap();
        }
        spool.sync().unwrap();
        let (_, path) = existing_segments(dir.path()).unwrap().pop().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, bytes).unwrap();
        let found = scan_segments(dir.path()).unwrap();
        assert_eq!(
            found[&(a.recording_id, 0)].keys().copied().collect::<Vec<_>>(),
            vec![0, 1]
        );
    }
}
