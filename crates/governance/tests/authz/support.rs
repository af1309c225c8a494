//! Matrix files, the fixture world every cell is asked in, and policy loading.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use governance::authz::{
    AccessAction, AccessGrant, AccessRequest, Authorizer, Decision, GrantScope, Grantee, Principal, RecordingFacts,
    Target, TrainingAttestation, Workflow,
};
use serde::Deserialize;

pub const REASON: &str = "ticket 4711";
pub const HOME: &str = "tenant-a";
pub const OTHER_TENANT: &str = "tenant-b";
pub const PRINCIPAL: &str = "user-principal";

pub fn now() -> DateTime<Utc> {
    "2026-03-01T12:00:00Z".parse().expect("time")
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn policy_text(id: &str) -> String {
    let path = workspace().join("policies").join(format!("{id}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn parse(id: &str, text: &str) -> policy::Policy {
    policy::parse_policy(&format!("{id}.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn authorizer(id: &str) -> Authorizer {
    Authorizer::new(&parse(id, &policy_text(id))).unwrap_or_else(|e| panic!("{id}: {e}"))
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    pub roles: Vec<String>,
    pub actions: Vec<String>,
    pub relationships: Vec<String>,
    pub purposes: Vec<String>,
    pub states: Vec<String>,
}

/// A row: leaves out a dimension to match all of its values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub roles: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
    pub relationships: Option<Vec<String>>,
    pub purposes: Option<Vec<String>>,
    pub states: Option<Vec<String>>,
    pub expect: Expect,
    pub rule: String,
    pub quote: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixFile {
    pub policy: String,
    pub listed_purpose: String,
    #[serde(default)]
    pub other_purpose: Option<String>,
    pub reason_required: bool,
    pub reason_quote: String,
    #[serde(default)]
    pub reason_source: Option<String>,
    pub dimensions: Dimensions,
    pub rows: Vec<Row>,
    pub tenant_dimensions: Dimensions,
    pub tenant_rows: Vec<Row>,
}

/// One cell of a table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub role: String,
    pub action: String,
    pub relationship: String,
    pub purpose: String,
    pub state: String,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} purpose={} state={}",
            self.role, self.action, self.relationship, self.purpose, self.state
        )
    }
}

fn hit(filter: &Option<Vec<String>>, value: &str) -> bool {
    filter.as_ref().is_none_or(|list| list.iter().any(|v| v == value))
}

impl Row {
    pub fn matches(&self, cell: &Cell) -> bool {
        hit(&self.roles, &cell.role)
            && hit(&self.actions, &cell.action)
            && hit(&self.relationships, &cell.relationship)
            && hit(&self.purposes, &cell.purpose)
            && hit(&self.states, &cell.state)
    }
}

impl Dimensions {
    pub fn cells(&self) -> Vec<Cell> {
        let mut out = Vec::new();
        for role in &self.roles {
            for action in &self.actions {
                for relationship in &self.relationships {
                    for purpose in &self.purposes {
                        for state in &self.states {
                            out.push(Cell {
                                role: role.clone(),
                                action: action.clone(),
                                relationship: relationship.clone(),
                                purpose: purpose.clone(),
                                state: state.clone(),
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

pub fn matrix_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/matrix")
}

pub fn matrix(policy: &str) -> MatrixFile {
    let path = matrix_dir().join(format!("{policy}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Which table a cell belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Recording,
    Tenant,
}

/// The world of one cell: who asks, about what, holding which attestations and grants.
pub struct World {
    pub principal: Principal,
    pub recording: RecordingFacts,
    pub tenant: String,
    pub grants: Vec<AccessGrant>,
    pub purpose: String,
    pub workflow: Option<Workflow>,
    pub action: AccessAction,
}

impl World {
    pub fn new(file: &MatrixFile, table: Table, cell: &Cell) -> World {
        let now = now();
        let training = match cell.state.as_str() {
            "missing" => vec![],
            "expired" => vec![TrainingAttestation {
                completed_at: now - TimeDelta::days(400),
                expires_at: Some(now - TimeDelta::days(35)),
            }],
            _ => vec![TrainingAttestation {
                completed_at: now - TimeDelta::days(30),
                expires_at: Some(now + TimeDelta::days(335)),
            }],
        };
        let principal = Principal {
            id: PRINCIPAL.into(),
            tenant: HOME.into(),
            roles: vec![cell.role.clone()],
            teams: vec!["team-a".into()],
            managed_teams: if cell.role == "team-manager" {
                vec!["team-a".into()]
            } else {
                vec![]
            },
            training,
        };
        let grant = |grantee: Grantee, purpose: &str, issuer_role: &str, days: i64| AccessGrant {
            id: "grant-1".into(),
            tenant: HOME.into(),
            grantee,
            scope: GrantScope::Tenant,
            purpose: purpose.into(),
            issued_by: "user-officer".into(),
            issued_by_role: issuer_role.into(),
            expires_at: now + TimeDelta::days(days),
        };
        let me = || Grantee::User(PRINCIPAL.into());
        let listed = file.listed_purpose.as_str();
        let grants = match cell.state.as_str() {
            "valid" => vec![grant(me(), listed, "security-officer", 30)],
            "role-grant" => vec![grant(Grantee::Role(cell.role.clone()), listed, "security-officer", 30)],
            "expired" => vec![grant(me(), listed, "security-officer", -1)],
            "missing" => vec![],
            "other-purpose" => vec![grant(
                me(),
                file.other_purpose.as_deref().expect("other_purpose"),
                "security-officer",
                30,
            )],
            "wrong-issuer" => vec![grant(me(), listed, "administrator", 30)],
            other => panic!("unknown state {other:?}"),
        };
        let (purpose, workflow) = match cell.purpose.as_str() {
            "listed" => (listed.to_owned(), None),
            "unlisted" => ("marketing".to_owned(), None),
            "reserved" => ("data-subject-request".to_owned(), None),
            "workflow" => ("data-subject-request".to_owned(), Some(Workflow::DataSubjectRequest)),
            other => panic!("unknown purpose {other:?}"),
        };
        let (agent, team, tenant) = match (table, cell.relationship.as_str()) {
            (Table::Recording, "own") => (PRINCIPAL, "team-a", HOME),
            (Table::Recording, "same-team") => ("user-colleague", "team-a", HOME),
            (Table::Recording, "other-team") => ("user-elsewhere", "team-b", HOME),
            (Table::Recording, "other-tenant") => ("user-stranger", "team-c", OTHER_TENANT),
            (Table::Tenant, "same-tenant") => ("", "", HOME),
            (Table::Tenant, "other-tenant") => ("", "", OTHER_TENANT),
            (_, other) => panic!("unknown relationship {other:?}"),
        };
        let recording = RecordingFacts {
            id: format!("recording-{}", cell.relationship),
            tenant: tenant.into(),
            agent: Some(agent.into()),
            team: Some(team.into()),
            parent_teams: vec![],
            direction: Some(policy::Direction::Inbound),
        };
        let action = AccessAction::from_id(&cell.action).unwrap_or_else(|| panic!("unknown action {:?}", cell.action));
        World {
            principal,
            recording,
            tenant: tenant.into(),
            grants,
            purpose,
            workflow,
            action,
        }
    }

    pub fn request(&self, table: Table, reason: &'static str) -> AccessRequest<'_> {
        AccessRequest {
            principal: &self.principal,
            action: self.action,
            target: match table {
                Table::Recording => Target::Recording(&self.recording),
                Table::Tenant => Target::Tenant(&self.tenant),
            },
            purpose: &self.purpose,
            reason,
            workflow: self.workflow,
            grants: &self.grants,
            now: now(),
        }
    }
}

/// Every cell of both tables of `file`, with the decision `authorizer` makes.
pub fn evaluate(file: &MatrixFile, authorizer: &Authorizer) -> Vec<(Table, Cell, Decision)> {
    let mut out = Vec::new();
    for (table, dimensions) in [
        (Table::Recording, &file.dimensions),
        (Table::Tenant, &file.tenant_dimensions),
    ] {
        for cell in dimensions.cells() {
            let world = World::new(file, table, &cell);
            let request = world.request(table, REASON);
            let decision = authorizer.decide(&request);
            // The same answer with the entities and context checked against the Cedar schema.
            assert_eq!(decision, authorizer.decide_checked(&request), "{table:?} {cell}");
            out.push((table, cell, decision));
        }
    }
    out
}

/// The cells of `evaluate` that were allowed.
pub fn allowed(cells: &[(Table, Cell, Decision)]) -> BTreeSet<(Table, Cell)> {
    cells
        .iter()
        .filter(|(_, _, d)| d.is_allowed())
        .map(|(t, c, _)| (*t, c.clone()))
        .collect()
}
