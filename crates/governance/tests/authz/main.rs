//! Authorization from the policy files, evaluated with Cedar: the access matrices of
//! `tests/matrix/*.toml`, rule changes that change them, and the engine's own rules.

mod changes;
mod matrix;
mod rules;
mod support;
