//! The org hierarchy: agent → team → manager. A user is a member of at most one
//! team; a manager manages one or more teams (POSTI-ACCESS: "a group manager
//! listens to all of the group's calls").

use serde::{Deserialize, Serialize};

/// How a user belongs to a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MembershipKind {
    Member,
    Manager,
}

impl MembershipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipKind::Member => "member",
            MembershipKind::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "member" => Some(MembershipKind::Member),
            "manager" => Some(MembershipKind::Manager),
            _ => None,
        }
    }
}

/// One user's place in one team of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub team: String,
    pub user: String,
    pub kind: MembershipKind,
}

/// A team with its members and managers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub tenant: String,
    pub name: String,
    pub members: Vec<String>,
    pub managers: Vec<String>,
}

/// The hierarchy of one tenant, built from its memberships.
#[derive(Debug, Clone, Default)]
pub struct OrgChart {
    memberships: Vec<Membership>,
}

impl OrgChart {
    pub fn new(memberships: Vec<Membership>) -> Self {
        OrgChart { memberships }
    }

    /// The team `user` is a member of.
    pub fn team_of(&self, user: &str) -> Option<&str> {
        self.memberships
            .iter()
            .find(|m| m.user == user && m.kind == MembershipKind::Member)
            .map(|m| m.team.as_str())
    }

    /// The teams `user` manages, sorted.
    pub fn managed_teams(&self, user: &str) -> Vec<String> {
        let mut teams: Vec<String> = self
            .memberships
            .iter()
            .filter(|m| m.user == user && m.kind == MembershipKind::Manager)
            .map(|m| m.team.clone())
            .collect();
        teams.sort();
        teams.dedup();
        teams
    }

    /// The managers of `team`.
    pub fn managers_of(&self, team: &str) -> Vec<&str> {
        self.memberships
            .iter()
            .filter(|m| m.team == team && m.kind == MembershipKind::Manager)
            .map(|m| m.user.as_str())
            .collect()
    }

    /// Whether `manager` manages the team `agent` is a member of.
    pub fn manages(&self, manager: &str, agent: &str) -> bool {
        self.team_of(agent)
            .is_some_and(|team| self.managers_of(team).contains(&manager))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(team: &str, user: &str, kind: MembershipKind) -> Membership {
        Membership {
            team: team.into(),
            user: user.into(),
            kind,
        }
    }

    #[test]
    fn agent_team_manager_hierarchy() {
        use MembershipKind::*;
        let chart = OrgChart::new(vec![
            m("north", "anna", Member),
            m("north", "bo", Member),
            m("south", "cai", Member),
            m("north", "maria", Manager),
            m("south", "maria", Manager),
            m("south", "sven", Manager),
        ]);
        // (manager, agent, manages?)
        let table = [
            ("maria", "anna", true),
            ("maria", "cai", true),
            ("sven", "cai", true),
            ("sven", "anna", false),
            ("anna", "bo", false),
            ("maria", "nobody", false),
            ("maria", "maria", false),
        ];
        for (manager, agent, expected) in table {
            assert_eq!(chart.manages(manager, agent), expected, "{manager} manages {agent}");
        }
        assert_eq!(chart.managed_teams("maria"), ["north", "south"]);
        assert!(chart.managed_teams("anna").is_empty());
        assert_eq!(chart.team_of("bo"), Some("north"));
        assert_eq!(chart.team_of("maria"), None);
    }
}
