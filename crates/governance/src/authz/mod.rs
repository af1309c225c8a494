//! Authorization from the policy file, evaluated with Cedar (ALL-ACCESS, issue 4).
//!
//! A policy's `[access]` section becomes Cedar policies (`generate`), validated against one
//! schema (`schema`) when the [`Authorizer`] is built; `Authorizer::decide` evaluates every
//! allow and deny with Cedar, deny by default, and names the rules it came from. Pure: the
//! facts and the time come in as parameters. See docs/authorization.md.

mod authorizer;
mod entities;
mod generate;
mod principals;
mod request;
mod schema;

pub use authorizer::{Authorizer, AuthzError};
pub use generate::{GeneratedRule, cedar_text, generate, ids};
pub use request::{
    AccessGrant, AccessRequest, DEFAULT_DENY, Decision, GrantScope, Grantee, Principal, RecordingFacts, Target,
    TrainingAttestation, Workflow,
};
pub use schema::{AccessAction, NAMESPACE, SCHEMA_TEXT};
