//! What a policy change changes (ALL-VERSION, ARLO-PURPOSE-CHANGE): the purposes, the
//! retention and the access rules of the active version compared with a proposed one.
//!
//! Pure: two parsed policies in, a list of changes out. The list is what an approver
//! approves and what the catalog keeps with the approval.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::{AccessRule, Action, Policy, Purpose, Scope};

/// The part of a policy a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiffArea {
    Purposes,
    Retention,
    Access,
}

/// Whether something was added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One change between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub area: DiffArea,
    /// The policy field, e.g. `purposes[training].retention` or `access.rules`.
    pub field: String,
    pub kind: ChangeKind,
    /// The value before (absent for an addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The value after (absent for a removal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl fmt::Display for PolicyChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = "-";
        match self.kind {
            ChangeKind::Added => write!(f, "+ {}: {}", self.field, self.to.as_deref().unwrap_or(none)),
            ChangeKind::Removed => write!(f, "- {}: {}", self.field, self.from.as_deref().unwrap_or(none)),
            ChangeKind::Changed => write!(
                f,
                "~ {}: {} -> {}",
                self.field,
                self.from.as_deref().unwrap_or(none),
                self.to.as_deref().unwrap_or(none)
            ),
        }
    }
}

/// The changes from one version to the next, purposes first, then retention, then access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct PolicyDiff {
    pub changes: Vec<PolicyChange>,
}

impl PolicyDiff {
    /// No purpose, retention or access rule changed (other parts of the text may have).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether any change falls in `area`.
    pub fn touches(&self, area: DiffArea) -> bool {
        self.changes.iter().any(|c| c.area == area)
    }

    fn push(&mut self, area: DiffArea, field: String, kind: ChangeKind, from: Option<String>, to: Option<String>) {
        self.changes.push(PolicyChange {
            area,
            field,
            kind,
            from,
            to,
        });
    }

    /// Records a change of a scalar when the two values differ.
    fn compare<T: PartialEq>(&mut self, area: DiffArea, field: &str, old: &T, new: &T, show: impl Fn(&T) -> String) {
        if old != new {
            self.push(
                area,
                field.to_owned(),
                ChangeKind::Changed,
                Some(show(old)),
                Some(show(new)),
            );
        }
    }
}

/// Compares the purposes, retention and access of `old` (the active version) and `new`.
pub fn diff_policies(old: &Policy, new: &Policy) -> PolicyDiff {
    let mut diff = PolicyDiff::default();
    diff_purposes(&mut diff, old, new);
    diff_retention(&mut diff, old, new);
    diff_access(&mut diff, old, new);
    diff
}

fn find<'a>(purposes: &'a [Purpose], id: &str) -> Option<&'a Purpose> {
    purposes.iter().find(|p| p.id == id)
}

fn yes_no(value: &bool) -> String {
    if *value { "yes" } else { "no" }.to_owned()
}

fn diff_purposes(diff: &mut PolicyDiff, old: &Policy, new: &Policy) {
    let area = DiffArea::Purposes;
    for before in &old.purposes {
        let field = format!("purposes[{}]", before.id);
        let Some(after) = find(&new.purposes, &before.id) else {
            diff.push(area, field, ChangeKind::Removed, Some(before.description.clone()), None);
            continue;
        };
        diff.compare(
            area,
            &format!("{field}.description"),
            &before.description,
            &after.description,
            String::clone,
        );
        diff.compare(
            area,
            &format!("{field}.pseudonymised_only"),
            &before.pseudonymised_only,
            &after.pseudonymised_only,
            yes_no,
        );
        diff.compare(
            area,
            &format!("{field}.publication"),
            &before.publication,
            &after.publication,
            yes_no,
        );
    }
    for after in &new.purposes {
        if find(&old.purposes, &after.id).is_none() {
            let field = format!("purposes[{}]", after.id);
            diff.push(area, field, ChangeKind::Added, None, Some(after.description.clone()));
        }
    }
}

fn diff_retention(diff: &mut PolicyDiff, old: &Policy, new: &Policy) {
    let area = DiffArea::Retention;
    diff.compare(
        area,
        "retention.default",
        &old.retention.default,
        &new.retention.default,
        ToString::to_string,
    );
    diff.compare(
        area,
        "retention.automatic_deletion",
        &old.retention.automatic_deletion,
        &new.retention.automatic_deletion,
        yes_no,
    );
    // A purpose's own retention, including that of a purpose added or removed.
    let mut ids: Vec<&str> = old.purposes.iter().map(|p| p.id.as_str()).collect();
    ids.extend(
        new.purposes
            .iter()
            .map(|p| p.id.as_str())
            .filter(|id| find(&old.purposes, id).is_none()),
    );
    for id in ids {
        let before = find(&old.purposes, id).and_then(|p| p.retention.as_ref());
        let after = find(&new.purposes, id).and_then(|p| p.retention.as_ref());
        let field = format!("purposes[{id}].retention");
        match (before, after) {
            (None, None) => {}
            (None, Some(to)) => diff.push(area, field, ChangeKind::Added, None, Some(to.to_string())),
            (Some(from), None) => diff.push(area, field, ChangeKind::Removed, Some(from.to_string()), None),
            (Some(from), Some(to)) => diff.compare(area, &field, from, to, ToString::to_string),
        }
    }
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Metadata => "metadata",
        Action::Search => "search",
        Action::Listen => "listen",
        Action::Download => "download",
        Action::Export => "export",
        Action::Delete => "delete",
    }
}

fn scope_word(scope: Scope) -> &'static str {
    match scope {
        Scope::Own => "own",
        Scope::Team => "team",
        Scope::Tenant => "tenant",
    }
}

/// A rule in one canonical line, so that reordering roles or actions is no change.
fn rule_line(rule: &AccessRule) -> String {
    let mut roles: Vec<&str> = rule.roles.iter().map(String::as_str).collect();
    roles.sort_unstable();
    roles.dedup();
    let mut actions: Vec<&str> = rule.actions.iter().map(|a| action_word(*a)).collect();
    actions.sort_unstable();
    actions.dedup();
    format!(
        "roles {} may {} (scope {}{})",
        roles.join(", "),
        actions.join(", "),
        scope_word(rule.scope),
        if rule.requires_grant { ", grant required" } else { "" }
    )
}

fn optional_role(role: &Option<String>) -> String {
    role.clone().unwrap_or_else(|| "none".into())
}

fn cedar_summary(cedar: &Option<String>) -> String {
    match cedar {
        None => "none".into(),
        Some(text) => format!("{} lines of Cedar", text.lines().count()),
    }
}

fn diff_access(diff: &mut PolicyDiff, old: &Policy, new: &Policy) {
    let area = DiffArea::Access;
    for before in &old.access.roles {
        let field = format!("access.roles[{}]", before.id);
        match new.access.roles.iter().find(|r| r.id == before.id) {
            None => diff.push(area, field, ChangeKind::Removed, Some(before.description.clone()), None),
            Some(after) => diff.compare(
                area,
                &format!("{field}.description"),
                &before.description,
                &after.description,
                String::clone,
            ),
        }
    }
    for after in &new.access.roles {
        if !old.access.roles.iter().any(|r| r.id == after.id) {
            let field = format!("access.roles[{}]", after.id);
            diff.push(area, field, ChangeKind::Added, None, Some(after.description.clone()));
        }
    }
    // Rules have no ids: compared as multisets of canonical lines.
    let old_rules: Vec<String> = old.access.rules.iter().map(rule_line).collect();
    let mut unmatched: Vec<String> = new.access.rules.iter().map(rule_line).collect();
    let mut removed = Vec::new();
    for line in old_rules {
        match unmatched.iter().position(|l| *l == line) {
            Some(at) => {
                unmatched.remove(at);
            }
            None => removed.push(line),
        }
    }
    for line in removed {
        diff.push(area, "access.rules".into(), ChangeKind::Removed, Some(line), None);
    }
    for line in unmatched {
        diff.push(area, "access.rules".into(), ChangeKind::Added, None, Some(line));
    }
    let (a, b) = (&old.access, &new.access);
    diff.compare(
        area,
        "access.training_required",
        &a.training_required,
        &b.training_required,
        yes_no,
    );
    diff.compare(
        area,
        "access.grants_issued_by",
        &a.grants_issued_by,
        &b.grants_issued_by,
        optional_role,
    );
    diff.compare(
        area,
        "access.search_requires_reason",
        &a.search_requires_reason,
        &b.search_requires_reason,
        yes_no,
    );
    diff.compare(
        area,
        "access.alert_on_denied",
        &a.alert_on_denied,
        &b.alert_on_denied,
        yes_no,
    );
    if a.cedar != b.cedar {
        let (from, mut to) = (cedar_summary(&a.cedar), cedar_summary(&b.cedar));
        if from == to {
            to.push_str(" (edited)");
        }
        diff.push(area, "access.cedar".into(), ChangeKind::Changed, Some(from), Some(to));
    }
    // Who approves the next change is part of who may do what.
    diff.compare(
        area,
        "changes.approved_by",
        &old.changes.approver_role(),
        &new.changes.approver_role(),
        |role| (*role).to_owned(),
    );
}
