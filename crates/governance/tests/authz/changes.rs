//! Changing a policy's rules changes its matrix: each file in tests/matrix/changes/ edits a
//! copy of a real policy file and lists exactly the cells whose answer must flip.

use std::collections::BTreeSet;

use governance::authz::Authorizer;
use serde::Deserialize;

use crate::support::{Cell, Expect, Table, allowed, evaluate, matrix, matrix_dir, parse, policy_text};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    policy: String,
    find: String,
    replace: String,
    flips: Vec<Flip>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Flip {
    table: String,
    roles: Vec<String>,
    actions: Vec<String>,
    relationships: Vec<String>,
    purposes: Vec<String>,
    states: Vec<String>,
    to: Expect,
}

impl Flip {
    fn cells(&self) -> Vec<(Table, Cell, Expect)> {
        let table = match self.table.as_str() {
            "recording" => Table::Recording,
            "tenant" => Table::Tenant,
            other => panic!("unknown table {other:?}"),
        };
        let dimensions = crate::support::Dimensions {
            roles: self.roles.clone(),
            actions: self.actions.clone(),
            relationships: self.relationships.clone(),
            purposes: self.purposes.clone(),
            states: self.states.clone(),
        };
        dimensions.cells().into_iter().map(|c| (table, c, self.to)).collect()
    }
}

fn check_change(name: &str) {
    let path = matrix_dir().join("changes").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let change: Change = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let original = policy_text(&change.policy);
    assert_eq!(
        original.matches(&change.find).count(),
        1,
        "{name}: `find` must occur exactly once in policies/{}.toml",
        change.policy
    );
    let edited = original.replacen(&change.find, &change.replace, 1);
    let file = matrix(&change.policy);
    let before = allowed(&evaluate(&file, &crate::support::authorizer(&change.policy)));
    let changed = Authorizer::new(&parse(&change.policy, &edited)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let after = allowed(&evaluate(&file, &changed));

    let flipped: BTreeSet<(Table, Cell)> = before.symmetric_difference(&after).cloned().collect();
    let mut expected = BTreeSet::new();
    for flip in &change.flips {
        for (table, cell, to) in flip.cells() {
            let now_allowed = after.contains(&(table, cell.clone()));
            assert_eq!(
                now_allowed,
                to == Expect::Allow,
                "{name}: {table:?} {cell} after the change"
            );
            expected.insert((table, cell));
        }
    }
    let show = |set: &BTreeSet<(Table, Cell)>| set.iter().map(|(t, c)| format!("{t:?} {c}")).collect::<Vec<_>>();
    assert_eq!(
        show(&flipped),
        show(&expected),
        "{name}: the cells that changed are exactly the listed flips"
    );
}

#[test]
fn posti_administrators_who_may_listen_change_the_matrix() {
    check_change("posti-administrators-listen.toml");
}

#[test]
fn posti_cedar_text_in_the_policy_file_changes_the_matrix() {
    check_change("posti-cedar-auditors-see-register.toml");
}

#[test]
fn arlo_rule_without_grants_changes_the_matrix() {
    check_change("arlo-line-managers-without-grants.toml");
}

#[test]
fn every_change_file_has_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(matrix_dir().join("changes"))
        .expect("changes/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "arlo-line-managers-without-grants.toml",
            "posti-administrators-listen.toml",
            "posti-cedar-auditors-see-register.toml"
        ]
    );
}
