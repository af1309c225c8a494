//! Each policy's expected access matrix (tests/matrix/<policy>.toml), evaluated cell by cell
//! through the Authorizer built from the real policy file.

use std::collections::BTreeSet;

use governance::authz::{AccessAction, ids};

use crate::support::{Expect, MatrixFile, Row, Table, World, authorizer, evaluate, matrix, parse, policy_text};

/// The policies with a matrix: every file in `policies/`.
fn policies() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(crate::support::workspace().join("policies"))
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// The dimensions cover every role the policy knows and every action of the table.
fn check_dimensions(file: &MatrixFile) {
    let policy = parse(&file.policy, &policy_text(&file.policy));
    let mut roles: BTreeSet<String> = policy::BUILT_IN_ROLES.iter().map(|r| r.to_string()).collect();
    roles.extend(policy.access.roles.iter().map(|r| r.id.clone()));
    for dimensions in [&file.dimensions, &file.tenant_dimensions] {
        let listed: BTreeSet<String> = dimensions.roles.iter().cloned().collect();
        assert_eq!(
            listed, roles,
            "{}: the roles dimension must list every role",
            file.policy
        );
    }
    let recording: Vec<&str> = AccessAction::ALL
        .into_iter()
        .filter(|a| a.is_governed())
        .map(AccessAction::id)
        .collect();
    let tenant: Vec<&str> = AccessAction::ALL
        .into_iter()
        .filter(|a| !a.is_governed() || *a == AccessAction::Search)
        .map(AccessAction::id)
        .collect();
    let mut expected_tenant: Vec<&str> = tenant.clone();
    expected_tenant.sort();
    let mut got: Vec<&str> = file.tenant_dimensions.actions.iter().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, expected_tenant, "{}: tenant actions", file.policy);
    let got: Vec<&str> = file.dimensions.actions.iter().map(String::as_str).collect();
    assert_eq!(got, recording, "{}: recording actions", file.policy);
    assert!(
        policy.purpose(&file.listed_purpose).is_some(),
        "{}: listed_purpose is one of the policy's purposes",
        file.policy
    );
}

fn expected<'a>(rows: &'a [Row], cell: &crate::support::Cell) -> Option<(usize, &'a Row)> {
    rows.iter().enumerate().find(|(_, row)| row.matches(cell))
}

fn check_policy(id: &str) {
    let file = matrix(id);
    assert_eq!(file.policy, id, "matrix file names its policy");
    check_dimensions(&file);
    let sources = [None, Some("issue 4"), Some("issue 5"), Some("REQUIREMENTS.md")];
    for row in file.rows.iter().chain(&file.tenant_rows) {
        assert!(
            !row.quote.trim().is_empty() && !row.rule.is_empty(),
            "{id}: every row quotes its source"
        );
        assert!(
            sources.contains(&row.source.as_deref()),
            "{id}: source {:?}",
            row.source
        );
        assert!(
            row.note.as_ref().is_none_or(|n| !n.trim().is_empty()),
            "{id}: empty note"
        );
    }
    assert!(sources.contains(&file.reason_source.as_deref()), "{id}: reason_source");
    let authorizer = authorizer(id);
    let cells = evaluate(&file, &authorizer);
    let mut used = [vec![false; file.rows.len()], vec![false; file.tenant_rows.len()]];
    let mut wrong = Vec::new();
    let mut allowed = 0;
    for (table, cell, decision) in &cells {
        let (rows, used) = match table {
            Table::Recording => (&file.rows, &mut used[0]),
            Table::Tenant => (&file.tenant_rows, &mut used[1]),
        };
        let Some((index, row)) = expected(rows, cell) else {
            panic!("{id}: no row matches {table:?} cell {cell}");
        };
        used[index] = true;
        let got = if decision.is_allowed() {
            allowed += 1;
            Expect::Allow
        } else {
            Expect::Deny
        };
        if got != row.expect {
            wrong.push(format!(
                "{table:?} {cell}: expected {:?} (row {index}, {}: {:?}), Cedar said {got:?} because {:?}",
                row.expect,
                row.rule,
                row.quote,
                decision.reasons()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{id}: {} of {} cells differ from the expected matrix:\n{}",
        wrong.len(),
        cells.len(),
        wrong.join("\n")
    );
    for (table, flags) in [("rows", &used[0]), ("tenant_rows", &used[1])] {
        for (index, used) in flags.iter().enumerate() {
            assert!(used, "{id}: {table}[{index}] matches no cell (shadowed or misspelled)");
        }
    }
    assert!(allowed > 0, "{id}: somebody may do something");

    // ARLO-SECURITY / access.search_requires_reason: nothing that is allowed is allowed without a reason.
    if file.reason_required {
        for (table, cell, decision) in &cells {
            if *table != Table::Recording || !decision.is_allowed() {
                continue;
            }
            let world = World::new(&file, *table, cell);
            let without = authorizer.decide(&world.request(*table, "   "));
            assert!(
                !without.is_allowed() && without.reasons().contains(&ids::REASON_REQUIRED.to_owned()),
                "{id}: {cell} without a reason: {:?} ({:?})",
                without.reasons(),
                file.reason_quote
            );
        }
    }
}

#[test]
fn every_policy_has_a_matrix() {
    for id in policies() {
        assert!(
            crate::support::matrix_dir().join(format!("{id}.toml")).exists(),
            "tests/matrix/{id}.toml is missing"
        );
    }
}

#[test]
fn posti_access_matrix() {
    check_policy("posti");
}

#[test]
fn arlo_europe_access_matrix() {
    check_policy("arlo-europe");
}

#[test]
fn csi_works_access_matrix() {
    check_policy("csi-works");
}

#[test]
fn telephone_office_access_matrix() {
    check_policy("telephone-office");
}

#[test]
fn webeo_access_matrix() {
    check_policy("webeo");
}

/// A search decides a page of recordings together over one entity store
/// (`Authorizer::decide_each`): for every policy and every cell, the recordings of all
/// relationships decided together get exactly the decisions each gets alone; so do
/// recordings that place one team under different parents (they cannot share a store).
#[test]
fn a_page_decided_together_answers_as_each_recording_alone() {
    for id in policies() {
        let file = matrix(&id);
        let authorizer = authorizer(&id);
        let dimensions = &file.dimensions;
        for cell in dimensions.cells() {
            if cell.relationship != dimensions.relationships[0] {
                continue;
            }
            let worlds: Vec<World> = dimensions
                .relationships
                .iter()
                .map(|relationship| {
                    let cell = crate::support::Cell {
                        relationship: relationship.clone(),
                        ..cell.clone()
                    };
                    World::new(&file, Table::Recording, &cell)
                })
                .collect();
            let mut recordings: Vec<_> = worlds.iter().map(|w| w.recording.clone()).collect();
            let mut moved = recordings[0].clone();
            moved.id.push_str("-moved");
            moved.parent_teams = vec!["division-1".into()];
            let mut moved_again = moved.clone();
            moved_again.id.push_str("-again");
            moved_again.parent_teams = vec!["division-2".into()];
            recordings.extend([moved, moved_again]);
            let request = worlds[0].request(Table::Recording, crate::support::REASON);
            for page in [&recordings[..worlds.len()], &recordings[..]] {
                let targets: Vec<_> = page.iter().map(governance::authz::Target::Recording).collect();
                let together = authorizer.decide_each(&request, &targets);
                let alone: Vec<_> = targets
                    .iter()
                    .map(|target| {
                        authorizer.decide(&governance::authz::AccessRequest {
                            target: *target,
                            ..request
                        })
                    })
                    .collect();
                assert_eq!(together, alone, "{id}: {cell} ({} recordings)", page.len());
            }
        }
    }
}
