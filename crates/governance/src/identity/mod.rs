//! Identities: users, roles, teams and the org hierarchy, training attestations,
//! access grants, passwords (argon2id), lockout, bearer tokens and sessions, the
//! authenticated [`Principal`], and who may administer all of these.
//!
//! Pure: time and randomness are passed in; storage is the vault's.

mod admin;
mod attestation;
mod error;
mod grant;
mod lockout;
mod org;
mod password;
mod principal;
pub mod role;
mod secret;
mod token;
mod user;

pub use admin::{IdentityAction, identity_refusal, roles_for};
pub use attestation::{TrainingAttestation, check_attestation};
pub use error::IdentityError;
pub use grant::{AccessGrant, GrantScope, GrantState, Grantee, MAX_GRANT_DAYS, check_new_grant};
pub use lockout::{LockState, LockoutPolicy};
pub use org::{Membership, MembershipKind, OrgChart, Team};
pub use password::{
    ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_OUTPUT_LEN, ARGON2_PARALLELISM, MIN_PASSWORD_CHARS, PasswordHashText,
    check_new_password, decoy_hash, hash_password, verify_password,
};
pub use principal::{AuthMethod, Principal};
pub use role::{check_role, grant_issuer_role, known_roles};
pub use secret::Secret;
pub use token::{StoredToken, TokenKind, TokenPolicy, generate_token, token_hash, token_kind_of};
pub use user::{User, UserStatus, check_name};
