//! Screening benchmark (placeholder).
fn main() {}
