//! A register: the set of listed numbers, the files it was built from and which
//! file listed each number; full files and change files turn one state into the next.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ScreeningError;
use crate::parse::Action;
use crate::set::NumberSet;

/// The two statutory registers, or a custom do-not-call list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegisterKind {
    /// Telephone Preference Service (individuals).
    Tps,
    /// Corporate Telephone Preference Service.
    Ctps,
    /// A do-not-call list of the organisation's own.
    Custom,
}

impl RegisterKind {
    /// The kind a register name stands for: `tps`, `ctps`, or any other name.
    pub fn of_name(name: &str) -> RegisterKind {
        match name {
            "tps" => RegisterKind::Tps,
            "ctps" => RegisterKind::Ctps,
            _ => RegisterKind::Custom,
        }
    }
}

/// How a name is shown in sentences: `TPS`, `CTPS`, or the list's name.
pub fn register_label(name: &str) -> String {
    match RegisterKind::of_name(name) {
        RegisterKind::Tps | RegisterKind::Ctps => name.to_ascii_uppercase(),
        RegisterKind::Custom => name.to_owned(),
    }
}

/// Checks a register name: 1-64 lowercase letters, digits and `-`, starting with a letter.
pub fn check_register_name(name: &str) -> Result<(), ScreeningError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ScreeningError::RegisterName(name.to_owned()))
    }
}

/// A full file or a change file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Full,
    Changes,
}

/// A file a register was built from, with what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The file's name (no directories).
    pub file: String,
    /// The file's date: given at import, else its modification date.
    pub date: NaiveDate,
    pub kind: SourceKind,
    pub imported_at: DateTime<Utc>,
    /// Good records in the file.
    pub records: u64,
    /// Numbers newly listed by it.
    pub added: u64,
    /// Numbers it took off the register.
    pub removed: u64,
    /// Records that changed nothing (repeats; additions of listed numbers, removals of unlisted ones).
    pub unchanged: u64,
    pub bad_lines: u64,
}

/// A register's description, stored in its file's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterInfo {
    pub name: String,
    pub kind: RegisterKind,
    /// Numbers listed now.
    pub numbers: u64,
    /// The full file first, then every change file applied since, in order.
    pub sources: Vec<Source>,
}

/// A register in memory: immutable; a new import makes a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub info: RegisterInfo,
    pub(crate) set: NumberSet,
    /// Numbers listed by a change file rather than the full file.
    pub(crate) provenance: NumberSet,
    /// Index into `info.sources` for each of `provenance`, by rank.
    pub(crate) provenance_source: Vec<u16>,
}

impl Register {
    /// The register as a full file lists it. `keys` ascending without repeats.
    pub fn from_full(name: &str, mut source: Source, keys: &[u64], records: u64) -> Register {
        source.kind = SourceKind::Full;
        source.records = records;
        source.added = keys.len() as u64;
        source.removed = 0;
        source.unchanged = records - keys.len() as u64;
        Register {
            info: RegisterInfo {
                name: name.to_owned(),
                kind: RegisterKind::of_name(name),
                numbers: keys.len() as u64,
                sources: vec![source],
            },
            set: NumberSet::from_sorted(keys),
            provenance: NumberSet::default(),
            provenance_source: Vec::new(),
        }
    }

    /// This register with a change file applied. Within the file the last record
    /// for a number wins; a number listed before keeps the file that first listed it.
    pub fn with_changes(&self, changes: &[(u64, Action)], mut source: Source) -> Result<Register, ScreeningError> {
        let source_index = u16::try_from(self.info.sources.len())
            .map_err(|_| ScreeningError::TooManySources(self.info.name.clone()))?;
        source.kind = SourceKind::Changes;
        source.records = changes.len() as u64;
        let mut resolved: Vec<(u64, Action)> = changes.to_vec();
        resolved.sort_by_key(|&(key, _)| key); // stable: file order within a number
        let mut last_per_key: Vec<(u64, Action)> = Vec::with_capacity(resolved.len());
        for change in resolved {
            match last_per_key.last_mut() {
                Some(last) if last.0 == change.0 => *last = change,
                _ => last_per_key.push(change),
            }
        }

        let mut listed = Vec::with_capacity(self.set.len() + last_per_key.len());
        let mut newly_listed = Vec::new();
        let mut taken_off = Vec::new();
        let mut old = self.set.iter().peekable();
        for &(key, action) in &last_per_key {
            while let Some(k) = old.next_if(|&k| k < key) {
                listed.push(k);
            }
            let was_listed = old.next_if_eq(&key).is_some();
            match (action, was_listed) {
                (Action::Add, true) => listed.push(key),
                (Action::Add, false) => {
                    listed.push(key);
                    newly_listed.push(key);
                }
                (Action::Remove, true) => taken_off.push(key),
                (Action::Remove, false) => {}
            }
        }
        listed.extend(old);
        source.added = newly_listed.len() as u64;
        source.removed = taken_off.len() as u64;
        source.unchanged = source.records - source.added - source.removed;

        // Provenance: the old entries still listed, and the numbers this file listed.
        let mut kept = self
            .provenance
            .iter()
            .zip(self.provenance_source.iter().copied())
            .filter(|(key, _)| taken_off.binary_search(key).is_err())
            .peekable();
        let mut prov_keys = Vec::with_capacity(self.provenance.len() + newly_listed.len());
        let mut prov_source = Vec::with_capacity(prov_keys.capacity());
        for key in newly_listed {
            while let Some((k, s)) = kept.next_if(|&(k, _)| k < key) {
                prov_keys.push(k);
                prov_source.push(s);
            }
            prov_keys.push(key);
            prov_source.push(source_index);
        }
        for (k, s) in kept {
            prov_keys.push(k);
            prov_source.push(s);
        }

        let mut info = self.info.clone();
        info.numbers = listed.len() as u64;
        info.sources.push(source);
        Ok(Register {
            info,
            set: NumberSet::from_sorted(&listed),
            provenance: NumberSet::from_sorted(&prov_keys),
            provenance_source: prov_source,
        })
    }

    /// Whether the number with this key is listed.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        self.set.contains(key)
    }

    /// The file that listed this number, if it is listed.
    pub fn source_of(&self, key: u64) -> Option<&Source> {
        if !self.set.contains(key) {
            return None;
        }
        let index = match self.provenance.rank(key) {
            Some(rank) => usize::from(self.provenance_source[rank]),
            None => 0,
        };
        self.info.sources.get(index)
    }

    /// The numbers of the register, ascending.
    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.set.iter()
    }

    /// The membership structure (for benchmarks and figures).
    pub fn set(&self) -> &NumberSet {
        &self.set
    }

    /// Bytes of memory the register's structures hold.
    pub fn heap_bytes(&self) -> usize {
        self.set.heap_bytes() + self.provenance.heap_bytes() + self.provenance_source.len() * 2
    }
}
