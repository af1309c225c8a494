//! The registers of one data directory (`DATA/screening/`): import files into
//! them, load them, and replace one atomically while lookups go on.
//!
//! Readers take a [`Snapshot`] (an `Arc`, no IO, no lock held while they look
//! up); an import or a refresh builds the next snapshot and swaps it in, so every
//! answer comes wholly from the old registers or wholly from the new. Imports in
//! several processes are serialised by a lock file; a server picks up registers
//! written by another process on its next [`RegisterStore::refresh`].

use std::collections::BTreeMap;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Instant, SystemTime};

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::ScreeningError;
use crate::overrides::{self, OverrideRecord};
use crate::parse::{Format, Mode, ParseOptions, Parser};
use crate::persist;
use crate::register::{Register, RegisterKind, Source, SourceKind, check_register_name};
use crate::sort::sort_dedup;
use crate::wire::{BadLineReport, ImportReport, RegisterFile, RegisterSummary};

const EXTENSION: &str = "cvreg";
const OVERRIDES_FILE: &str = "overrides.json";
const LOCK_FILE: &str = ".lock";
/// Bytes read from an imported file at a time.
const CHUNK: usize = 1 << 20;

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// `tps`, `ctps`, or a list's name.
    pub register: String,
    pub path: PathBuf,
    /// Default: TPS/CTPS records for `tps` and `ctps`, a list otherwise.
    pub format: Option<Format>,
    pub mode: Mode,
    /// Country for national numbers in lists.
    pub country: String,
    /// A CSV list's number column.
    pub column: Option<String>,
    /// The file's date; default: its modification date.
    pub date: Option<NaiveDate>,
    pub now: DateTime<Utc>,
}

/// Identity of a file's contents as far as `stat` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

#[derive(Debug, Clone)]
struct Loaded {
    register: Arc<Register>,
    stamp: Stamp,
}

/// The registers and overrides as they were at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    registers: BTreeMap<String, Loaded>,
    overrides: Vec<OverrideRecord>,
    overrides_stamp: Option<Stamp>,
}

impl Snapshot {
    /// The register with this name, if imported.
    pub fn register(&self, name: &str) -> Option<&Register> {
        self.registers.get(name).map(|l| l.register.as_ref())
    }

    /// Every register, by name.
    pub fn registers(&self) -> impl Iterator<Item = &Register> {
        self.registers.values().map(|l| l.register.as_ref())
    }

    /// The registers listing the number with this key, each with the file that listed it.
    pub fn listings(&self, key: u64) -> impl Iterator<Item = (&str, &Source)> {
        self.registers
            .iter()
            .filter_map(move |(name, l)| l.register.source_of(key).map(|s| (name.as_str(), s)))
    }

    /// The latest override of this tenant for the number with this keyed hash.
    pub fn override_for(&self, tenant: &str, number_hash: &str) -> Option<&OverrideRecord> {
        self.overrides
            .iter()
            .rev()
            .find(|o| o.tenant == tenant && o.number_hash == number_hash)
    }

    /// The registers as `screening list` shows them.
    pub fn summaries(&self) -> Vec<RegisterSummary> {
        self.registers()
            .map(|r| RegisterSummary {
                register: r.info.name.clone(),
                numbers: r.info.numbers,
                files: r
                    .info
                    .sources
                    .iter()
                    .map(|s| RegisterFile {
                        file: s.file.clone(),
                        date: s.date,
                        kind: kind_word(s.kind).to_owned(),
                        imported_at: s.imported_at,
                        added: s.added,
                        removed: s.removed,
                        bad_lines: s.bad_lines,
                    })
                    .collect(),
                memory_bytes: r.heap_bytes() as u64,
            })
            .collect()
    }
}

fn kind_word(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Full => "full",
        SourceKind::Changes => "changes",
    }
}

struct Inner {
    dir: PathBuf,
    current: RwLock<Arc<Snapshot>>,
    /// One refresh or publication at a time in this process.
    reload: Mutex<()>,
}

/// The registers under one directory. Cheap to clone; clones share the registers.
#[derive(Clone)]
pub struct RegisterStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RegisterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterStore")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl RegisterStore {
    /// The store over `dir` (usually `DATA/screening`). Reads nothing yet.
    pub fn new(dir: impl Into<PathBuf>) -> RegisterStore {
        RegisterStore {
            inner: Arc::new(Inner {
                dir: dir.into(),
                current: RwLock::new(Arc::new(Snapshot::default())),
                reload: Mutex::new(()),
            }),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The registers as last loaded: no IO.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn publish(&self, next: Snapshot) -> Arc<Snapshot> {
        let next = Arc::new(next);
        *self.inner.current.write().unwrap_or_else(PoisonError::into_inner) = next.clone();
        next
    }

    fn register_path(&self, name: &str) -> PathBuf {
        self.inner.dir.join(format!("{name}.{EXTENSION}"))
    }

    /// Loads what changed on disk since the last look (registers imported by another
    /// process, new overrides) and returns the current snapshot. A register file
    /// that cannot be read is an error: a number is never answered "not listed"
    /// because its register was unreadable.
    pub fn refresh(&self) -> Result<Arc<Snapshot>, ScreeningError> {
        let _guard = self.inner.reload.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.snapshot();
        let dir = &self.inner.dir;
        let read_error = |source| ScreeningError::Read {
            path: dir.clone(),
            source,
        };
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if current.registers.is_empty() && current.overrides.is_empty() {
                    return Ok(current);
                }
                return Ok(self.publish(Snapshot::default()));
            }
            Err(err) => return Err(read_error(err)),
        };
        let mut next = Snapshot::default();
        let mut changed = false;
        for entry in entries {
            let entry = entry.map_err(read_error)?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file_name.strip_suffix(&format!(".{EXTENSION}")) else {
                continue;
            };
            if check_register_name(name).is_err() {
                continue;
            }
            let path = entry.path();
            let stamp = Stamp::of(&fs::metadata(&path).map_err(|source| ScreeningError::Read {
                path: path.clone(),
                source,
            })?);
            let loaded = match current.registers.get(name) {
                Some(loaded) if loaded.stamp == stamp => loaded.clone(),
                _ => {
                    changed = true;
                    let (register, stamp) = load_register(&path, name)?;
                    Loaded {
                        register: Arc::new(register),
                        stamp,
                    }
                }
            };
            next.registers.insert(name.to_owned(), loaded);
        }
        changed |= next.registers.len() != current.registers.len();

        let overrides_path = dir.join(OVERRIDES_FILE);
        match fs::metadata(&overrides_path) {
            Ok(meta) if current.overrides_stamp == Some(Stamp::of(&meta)) => {
                next.overrides = current.overrides.clone();
                next.overrides_stamp = current.overrides_stamp;
            }
            Ok(_) => {
                let (overrides, stamp) = load_overrides(&overrides_path)?;
                next.overrides = overrides;
                next.overrides_stamp = Some(stamp);
                changed = true;
            }
            Err(_) => changed |= current.overrides_stamp.is_some(),
        }
        Ok(if changed { self.publish(next) } else { current })
    }

    /// Holds the directory's lock file: one import or override at a time, across processes.
    fn lock_dir(&self) -> Result<File, ScreeningError> {
        let dir = &self.inner.dir;
        let write_error = |source| ScreeningError::Write {
            path: dir.clone(),
            source,
        };
        fs::create_dir_all(dir).map_err(write_error)?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(write_error)?;
        lock.lock().map_err(write_error)?;
        Ok(lock)
    }

    /// Imports a full file (replacing the register) or a change file (applied to
    /// it), stores the result atomically and swaps it in. `progress` is called
    /// with (bytes read, file size) as the file is read.
    pub fn import(
        &self,
        request: &ImportRequest,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportReport, ScreeningError> {
        check_register_name(&request.register)?;
        let started = Instant::now();
        let _lock = self.lock_dir()?;
        let read_error = |source| ScreeningError::Read {
            path: request.path.clone(),
            source,
        };
        let mut file = File::open(&request.path).map_err(read_error)?;
        let meta = file.metadata().map_err(read_error)?;
        let size = meta.len();
        let date = request.date.unwrap_or_else(|| match meta.modified() {
            Ok(t) => DateTime::<Utc>::from(t).date_naive(),
            Err(_) => request.now.date_naive(),
        });
        let kind = RegisterKind::of_name(&request.register);
        let format = request.format.unwrap_or(match kind {
            RegisterKind::Tps | RegisterKind::Ctps => Format::Register,
            RegisterKind::Custom => Format::List,
        });
        let mut parser = Parser::new(
            ParseOptions {
                format,
                mode: request.mode,
                country: request.country.clone(),
                column: request.column.clone(),
            },
            size,
        )?;
        let mut buf = vec![0u8; CHUNK];
        let mut done = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(read_error)?;
            if n == 0 {
                break;
            }
            parser.feed(&buf[..n])?;
            done += n as u64;
            progress(done, size);
        }
        let parsed = parser.finish()?;
        let file_name = request
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if parsed.records() == 0 && (request.mode == Mode::Full || parsed.bad_count > 0) {
            return Err(ScreeningError::NothingImported {
                file: file_name,
                lines: parsed.lines,
            });
        }
        let source = Source {
            file: file_name.clone(),
            date,
            kind: SourceKind::Full,
            imported_at: request.now,
            records: 0,
            added: 0,
            removed: 0,
            unchanged: 0,
            bad_lines: parsed.bad_count,
        };
        let path = self.register_path(&request.register);
        let register = match request.mode {
            Mode::Full => {
                let records = parsed.numbers.len() as u64;
                let mut keys = parsed.numbers;
                sort_dedup(&mut keys);
                Register::from_full(&request.register, source, &keys, records)
            }
            Mode::Changes { .. } => {
                if !path.exists() {
                    return Err(ScreeningError::NoBaseForChanges(request.register.clone()));
                }
                let (current, _) = load_register(&path, &request.register)?;
                current.with_changes(&parsed.changes, source)?
            }
        };
        let bytes = persist::encode(&register);
        persist::write_atomic(&path, &bytes)?;
        drop(bytes);
        let stamp = Stamp::of(&fs::metadata(&path).map_err(|source| ScreeningError::Read {
            path: path.clone(),
            source,
        })?);

        let applied = register.info.sources.last().expect("a register has a source").clone();
        let report = ImportReport {
            register: request.register.clone(),
            file: file_name,
            date,
            kind: kind_word(applied.kind).to_owned(),
            lines: parsed.lines,
            records: applied.records,
            added: applied.added,
            removed: applied.removed,
            unchanged: applied.unchanged,
            numbers: register.info.numbers,
            bad_lines: parsed.bad_count,
            bad: parsed
                .bad
                .iter()
                .map(|b| BadLineReport {
                    line: b.line,
                    code: b.reason.code().to_owned(),
                    reason: b.reason.to_string(),
                })
                .collect(),
            memory_bytes: register.heap_bytes() as u64,
            elapsed_ms: started.elapsed().as_millis() as u64,
        };

        let _guard = self.inner.reload.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = (*self.snapshot()).clone();
        next.registers.insert(
            request.register.clone(),
            Loaded {
                register: Arc::new(register),
                stamp,
            },
        );
        self.publish(next);
        Ok(report)
    }

    /// Records an override and makes it visible.
    pub fn add_override(&self, record: OverrideRecord) -> Result<(), ScreeningError> {
        let _lock = self.lock_dir()?;
        let path = self.inner.dir.join(OVERRIDES_FILE);
        let mut all = if path.exists() {
            load_overrides(&path)?.0
        } else {
            Vec::new()
        };
        all.push(record);
        overrides::store(&path, &all)?;
        self.refresh().map(|_| ())
    }
}

/// Reads and checks one register file; its header must name `name`.
fn load_register(path: &Path, name: &str) -> Result<(Register, Stamp), ScreeningError> {
    // The stamp first: a file replaced while it is read is simply read again next time.
    let stamp = Stamp::of(&fs::metadata(path).map_err(|source| ScreeningError::Read {
        path: path.to_owned(),
        source,
    })?);
    let register = persist::read(path)?;
    if register.info.name != name {
        return Err(ScreeningError::Corrupt {
            path: path.to_owned(),
            what: format!("the file holds register {:?}", register.info.name),
        });
    }
    Ok((register, stamp))
}

fn load_overrides(path: &Path) -> Result<(Vec<OverrideRecord>, Stamp), ScreeningError> {
    let read_error = |source| ScreeningError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let stamp = Stamp::of(&file.metadata().map_err(read_error)?);
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_error)?;
    Ok((overrides::decode(path, &bytes)?, stamp))
}
