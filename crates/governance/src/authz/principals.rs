//! The Cedar entities of the people asked about recently, kept between requests.
//!
//! A person's own entities (the person, the roles holding grants, the grants) depend only
//! on their facts: roles, teams, managed teams, the training attestation in force and the
//! grants they hold. Those facts are the key, compared in full (a hash only finds the
//! slot), so a changed role, an expired attestation or a new grant never meets an old
//! store. Bounded: past `CAPACITY` people one entry is dropped for each new one.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use cedar_policy::Entities;

use super::request::{AccessGrant, Principal, TrainingAttestation};

/// How many people's stores one Authorizer keeps (a few KiB each).
const CAPACITY: usize = 1024;

/// The facts a person's entities are built from.
struct Key {
    id: String,
    tenant: String,
    roles: Vec<String>,
    teams: Vec<String>,
    managed_teams: Vec<String>,
    training: Option<TrainingAttestation>,
    grants: Vec<AccessGrant>,
}

impl Key {
    fn new(principal: &Principal, training: Option<&TrainingAttestation>, grants: &[&AccessGrant]) -> Key {
        Key {
            id: principal.id.clone(),
            tenant: principal.tenant.clone(),
            roles: principal.roles.clone(),
            teams: principal.teams.clone(),
            managed_teams: principal.managed_teams.clone(),
            training: training.copied(),
            grants: grants.iter().map(|g| (*g).clone()).collect(),
        }
    }

    fn matches(&self, principal: &Principal, training: Option<&TrainingAttestation>, grants: &[&AccessGrant]) -> bool {
        self.id == principal.id
            && self.tenant == principal.tenant
            && self.roles == principal.roles
            && self.teams == principal.teams
            && self.managed_teams == principal.managed_teams
            && self.training.as_ref() == training
            && self.grants.len() == grants.len()
            && self.grants.iter().zip(grants).all(|(kept, asked)| kept == *asked)
    }
}

/// Where in the map a person's facts are looked for.
fn slot(principal: &Principal, training: Option<&TrainingAttestation>, grants: &[&AccessGrant]) -> u64 {
    let mut hasher = DefaultHasher::new();
    principal.id.hash(&mut hasher);
    principal.tenant.hash(&mut hasher);
    principal.roles.hash(&mut hasher);
    principal.teams.hash(&mut hasher);
    principal.managed_teams.hash(&mut hasher);
    training.map(|t| (t.completed_at, t.expires_at)).hash(&mut hasher);
    for grant in grants {
        grant.id.hash(&mut hasher);
        grant.expires_at.hash(&mut hasher);
    }
    hasher.finish()
}

/// The kept stores of one Authorizer.
#[derive(Default)]
pub(crate) struct PrincipalStores {
    kept: Mutex<HashMap<u64, Vec<(Key, Entities)>>>,
}

/// Only how many are kept: the stores themselves are not for logs.
impl std::fmt::Debug for PrincipalStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalStores").field("kept", &self.len()).finish()
    }
}

impl PrincipalStores {
    /// The person's store: a copy of the kept one, or one made by `build` (and kept).
    pub(crate) fn get_or_build(
        &self,
        principal: &Principal,
        training: Option<&TrainingAttestation>,
        grants: &[&AccessGrant],
        build: impl FnOnce() -> Result<Entities, String>,
    ) -> Result<Entities, String> {
        let slot = slot(principal, training, grants);
        if let Some(found) = self.with_kept(|kept| {
            kept.get(&slot)?
                .iter()
                .find(|(key, _)| key.matches(principal, training, grants))
                .map(|(_, store)| store.clone())
        }) {
            return Ok(found);
        }
        let store = build()?;
        let key = Key::new(principal, training, grants);
        let kept_copy = store.clone();
        self.with_kept(|kept| {
            if kept.len() >= CAPACITY
                && !kept.contains_key(&slot)
                && let Some(dropped) = kept.keys().next().copied()
            {
                kept.remove(&dropped);
            }
            let entries = kept.entry(slot).or_default();
            if !entries
                .iter()
                .any(|(kept_key, _)| kept_key.matches(principal, training, grants))
            {
                entries.push((key, kept_copy));
            }
        });
        Ok(store)
    }

    /// How many people's stores are kept.
    pub(crate) fn len(&self) -> usize {
        self.with_kept(|kept| kept.values().map(Vec::len).sum())
    }

    fn with_kept<T>(&self, f: impl FnOnce(&mut HashMap<u64, Vec<(Key, Entities)>>) -> T) -> T {
        // A panic while the lock was held cannot leave a half-made entry: keep going.
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone(n: usize) -> Principal {
        Principal {
            id: format!("user-{n}"),
            tenant: "tenant-a".into(),
            roles: vec!["agent".into()],
            ..Principal::default()
        }
    }

    #[test]
    fn a_kept_store_is_found_again_and_the_number_kept_is_bounded() {
        let stores = PrincipalStores::default();
        let builds = std::cell::Cell::new(0);
        let get = |n: usize| {
            stores
                .get_or_build(&someone(n), None, &[], || {
                    builds.set(builds.get() + 1);
                    Ok(Entities::empty())
                })
                .expect("store")
        };
        get(1);
        get(1);
        assert_eq!(builds.get(), 1, "the second request finds the first one's store");
        for n in 0..CAPACITY + 10 {
            get(n);
        }
        assert_eq!(stores.len(), CAPACITY);
        let mut other_role = someone(1);
        other_role.roles = vec!["auditor".into()];
        let before = builds.get();
        stores
            .get_or_build(&other_role, None, &[], || {
                builds.set(builds.get() + 1);
                Ok(Entities::empty())
            })
            .expect("store");
        assert_eq!(builds.get(), before + 1, "other facts, another store");
    }
}
