//! Integration tests of the screening crate: file formats and bad lines, change
//! files, lists, the stored register, and a 20-million-number register with an
//! atomic swap under concurrent lookups.

mod big_register;
mod formats;
mod synthetic;
