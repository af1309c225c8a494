//! The five shipped policies (`policies/*.toml`) against the engine:
//! they parse, their rendered notices say what their seeds say, broken
//! policy text is reported at the right file, line and field, and the
//! decisions they make about calls follow the requirements.

mod decisions;
mod diff;
mod parse;
mod render_facts;
mod support;
mod validation;
