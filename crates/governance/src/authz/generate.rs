//! Turns a policy file's `[access]` section (and the engine's fixed rules) into Cedar text.
//!
//! Each generated Cedar policy carries an `@id` naming where it comes from: a policy file
//! field (`access.rules[1]`, `rights.handled_by`) or an engine rule (`tenant-isolation`).
//! Deny by default: only `permit` rules open anything; `forbid` rules win over them.

use std::fmt::Write as _;

use policy::{AccessRule, Fulfilment, Policy, Scope};

use super::schema::AccessAction;
use crate::identity::{IdentityAction, roles_for};

/// One generated Cedar policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedRule {
    pub id: String,
    pub text: String,
}

impl GeneratedRule {
    /// For a rule whose scope names several actions (`action in [...]`): the same rule for
    /// one of them (`action == ...`), which Cedar evaluates without building a set; None when
    /// the rule does not name `action` or names no list.
    pub fn for_action(&self, action: AccessAction) -> Option<String> {
        let start = self.text.find("action in [")?;
        let end = start + self.text[start..].find(']')?;
        let wanted = entity("Action", action.id());
        self.text[start..end]
            .contains(&wanted)
            .then(|| format!("{}action == {wanted}{}", &self.text[..start], &self.text[end + 1..]))
    }

    /// Whether the rule's scope is a list of actions.
    pub fn has_action_list(&self) -> bool {
        self.text.contains("action in [")
    }
}

/// Engine rule ids (forbid rules and fixed permits); the policy's own rules are named by field.
pub mod ids {
    pub const TENANT_ISOLATION: &str = "tenant-isolation";
    pub const TENANT_ISOLATION_TENANT: &str = "tenant-isolation.tenant";
    pub const PURPOSE_NOT_IN_POLICY: &str = "purpose-not-in-policy";
    pub const REASON_REQUIRED: &str = "reason-required";
    pub const TRAINING_REQUIRED: &str = "training-required";
    pub const DATA_SUBJECT_REQUEST: &str = "workflow.data-subject-request";
    pub const MANAGE_USERS: &str = "engine.manage-users";
    pub const LIST_USERS: &str = "engine.list-users";
    pub const LIST_GRANTS: &str = "engine.list-grants";
    pub const MANAGE_POLICY: &str = "engine.manage-policy";
    pub const APPROVE_POLICY: &str = "engine.approve-policy";
    pub const READ_AUDIT: &str = "engine.read-audit";
}

/// Roles that read the audit log in every policy (besides the grant issuer, if any).
pub const AUDIT_READERS: [&str; 2] = ["auditor", "compliance"];

/// The role that administers users and configuration in every policy.
pub const ADMINISTRATOR: &str = "administrator";

/// `Callvault::<kind>::"<id>"`.
pub fn entity(kind: &str, id: &str) -> String {
    format!("Callvault::{kind}::{}", quote(id))
}

/// A Cedar string literal (Rust's escapes are a subset of Cedar's).
fn quote(text: &str) -> String {
    format!("{text:?}")
}

fn actions(list: &[AccessAction]) -> String {
    let items: Vec<String> = list.iter().map(|a| entity("Action", a.id())).collect();
    format!("[{}]", items.join(", "))
}

/// `principal in Role::"a"`, or `(principal in Role::"a" || principal in Role::"b")`: cheaper
/// for Cedar than `in` a set literal, which it would build on every evaluation.
fn member_of(list: &[&str]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|r| format!("principal in {}", entity("Role", r)))
        .collect();
    match items.len() {
        1 => items.concat(),
        _ => format!("({})", items.join(" || ")),
    }
}

fn rule(id: &str, comment: &str, body: &str) -> GeneratedRule {
    GeneratedRule {
        id: id.to_owned(),
        text: format!("// {comment}\n@id({})\n{body}", quote(id)),
    }
}

/// Every Cedar policy for `policy`, engine rules first, then the policy's rules, in file order.
/// The extra Cedar text of `[access] cedar` is not included (it is parsed as written).
pub fn generate(policy: &Policy) -> Vec<GeneratedRule> {
    let reads: Vec<AccessAction> = AccessAction::ALL.into_iter().filter(|a| a.is_read()).collect();
    let governed: Vec<AccessAction> = AccessAction::ALL.into_iter().filter(|a| a.is_governed()).collect();
    let purposes: Vec<String> = policy
        .purposes
        .iter()
        .map(|p| format!("context.purpose == {}", quote(&p.id)))
        .collect();
    let mut out = vec![
        rule(
            ids::TENANT_ISOLATION,
            "TO-SELFSERVICE: nobody reaches another tenant's recordings.",
            "forbid (principal, action, resource is Callvault::Recording)\n\
             unless { resource.tenant == principal.tenant };",
        ),
        rule(
            ids::TENANT_ISOLATION_TENANT,
            "TO-SELFSERVICE: nobody searches or administers another tenant.",
            "forbid (principal, action, resource is Callvault::Tenant)\n\
             unless { resource == principal.tenant };",
        ),
        rule(
            ids::PURPOSE_NOT_IN_POLICY,
            "ALL-PURPOSE: a read names one of the policy's purposes; a reserved purpose only inside its workflow.",
            &format!(
                "forbid (principal, action in {}, resource)\n\
                 unless {{\n  {} ||\n  (context has workflow && context.workflow == context.purpose)\n}};",
                actions(&reads),
                purposes.join(" || ")
            ),
        ),
    ];
    if policy.access.search_requires_reason {
        out.push(rule(
            ids::REASON_REQUIRED,
            "ARLO-SECURITY (access.search_requires_reason): no search, read or deletion without a reason.",
            &format!(
                "forbid (principal, action in {}, resource)\nwhen {{ context.reason == \"\" }};",
                actions(&governed)
            ),
        ));
    }
    if policy.access.training_required {
        out.push(rule(
            ids::TRAINING_REQUIRED,
            "POSTI-TRAINING (access.training_required): no use of recordings without a training attestation in force.",
            &format!(
                "forbid (principal, action in {}, resource)\n\
                 unless {{\n  principal has trained_at && principal.trained_at <= context.now &&\n  \
                 (if principal has training_expires_at then context.now < principal.training_expires_at else true)\n}};",
                actions(&governed)
            ),
        ));
    }
    let grant_role = policy.access.grants_issued_by.as_deref();
    for (i, access_rule) in policy.access.rules.iter().enumerate() {
        out.extend(access_rule_permits(i, access_rule, grant_role));
    }
    out.extend(data_subject_request_permit(policy));
    out.extend(administrative_permits(policy));
    out
}

/// `access.rules[i]`: on recordings in its scope; plus, if it allows search, searching the tenant.
fn access_rule_permits(i: usize, access_rule: &AccessRule, grant_role: Option<&str>) -> Vec<GeneratedRule> {
    let role_ids: Vec<&str> = access_rule.roles.iter().map(String::as_str).collect();
    let list: Vec<AccessAction> = access_rule
        .actions
        .iter()
        .map(|a| AccessAction::from_policy(*a))
        .collect();
    let mut conditions = vec![member_of(&role_ids), "!(context has workflow)".to_owned()];
    match access_rule.scope {
        Scope::Own => conditions.push("resource has agent && resource.agent == principal".into()),
        Scope::Team => conditions.push("resource has team && resource.team in principal.managed_teams".into()),
        Scope::Tenant => {}
    }
    let mut tenant_conditions = conditions[..2].to_vec();
    if access_rule.requires_grant {
        let issuer = entity("Role", grant_role.unwrap_or(""));
        let grant = format!(
            "context has grant && principal in context.grant &&\n  \
             context.grant.purpose == context.purpose && context.now < context.grant.expires_at &&\n  \
             context.grant.issued_by_role == {issuer}"
        );
        conditions.push(format!(
            "{grant} &&\n  context.grant.tenant == resource.tenant &&\n  \
             (if context.grant has team then resource has team && resource.team in context.grant.team else true) &&\n  \
             (if context.grant has agent then resource has agent && resource.agent == context.grant.agent else true) &&\n  \
             (if context.grant has recording then context.grant.recording == resource else true)"
        ));
        tenant_conditions.push(format!("{grant} &&\n  context.grant.tenant == resource"));
    }
    let scope_word = match access_rule.scope {
        Scope::Own => "their own recordings",
        Scope::Team => "the recordings of the teams they manage",
        Scope::Tenant => "every recording of their tenant",
    };
    let grant_word = if access_rule.requires_grant {
        ", with a grant in force"
    } else {
        ""
    };
    let id = format!("access.rules[{i}]");
    let mut out = vec![rule(
        &id,
        &format!(
            "{}: {} on {scope_word}{grant_word}.",
            role_ids.join(", "),
            list.iter().map(|a| a.id()).collect::<Vec<_>>().join(", ")
        ),
        &format!(
            "permit (principal, action in {}, resource is Callvault::Recording)\nwhen {{\n  {}\n}};",
            actions(&list),
            conditions.join(" &&\n  ")
        ),
    )];
    if list.contains(&AccessAction::Search) {
        out.push(rule(
            &format!("{id}.search"),
            &format!("{}: search the tenant's register{grant_word}.", role_ids.join(", ")),
            &format!(
                "permit (principal, action == {}, resource is Callvault::Tenant)\nwhen {{\n  {}\n}};",
                entity("Action", AccessAction::Search.id()),
                tenant_conditions.join(" &&\n  ")
            ),
        ));
    }
    out
}

/// ALL-DSAR inside its workflow: the request handler finds the subject's recordings and
/// fulfils the request types the policy offers (copy: export; supervised playback: listen;
/// erasure: delete).
fn data_subject_request_permit(policy: &Policy) -> Option<GeneratedRule> {
    if policy.rights.requests.is_empty() {
        return None;
    }
    let mut list = vec![AccessAction::Metadata, AccessAction::Search];
    for request in &policy.rights.requests {
        let action = match request.fulfilment {
            Fulfilment::Copy => AccessAction::Export,
            Fulfilment::SupervisedPlayback => AccessAction::Listen,
            Fulfilment::Erase => AccessAction::Delete,
            Fulfilment::Statement | Fulfilment::Freeze => continue,
        };
        if !list.contains(&action) {
            list.push(action);
        }
    }
    list.sort();
    let workflow = quote("data-subject-request");
    Some(rule(
        ids::DATA_SUBJECT_REQUEST,
        &format!(
            "rights.handled_by inside a data-subject request: {}.",
            list.iter().map(|a| a.id()).collect::<Vec<_>>().join(", ")
        ),
        &format!(
            "permit (principal, action in {}, resource)\nwhen {{\n  {} &&\n  \
             context has workflow && context.workflow == {workflow} && context.purpose == {workflow}\n}};",
            actions(&list),
            member_of(&[policy.rights.handled_by.as_str()])
        ),
    ))
}

/// Administrative actions on the tenant: who manages users, policies, grants, the audit log, requests.
fn administrative_permits(policy: &Policy) -> Vec<GeneratedRule> {
    let tenant_permit = |id: &str, comment: &str, action: AccessAction, role_ids: &[&str]| {
        rule(
            id,
            comment,
            &format!(
                "permit (principal, action == {}, resource is Callvault::Tenant)\nwhen {{ {} }};",
                entity("Action", action.id()),
                member_of(role_ids)
            ),
        )
    };
    // Identity administration: the roles `identity::roles_for` names (one table for the
    // rules and for the messages that explain a refusal).
    let people = |action: IdentityAction| roles_for(action, policy);
    let (manage_users, _) = people(IdentityAction::ManageUsers);
    let (list_users, _) = people(IdentityAction::ListUsers);
    let (list_grants, _) = people(IdentityAction::ListGrants);
    let (issue_grants, _) = people(IdentityAction::IssueGrants);
    let mut out = vec![
        tenant_permit(
            ids::MANAGE_USERS,
            "The administrator manages users, teams and training attestations.",
            AccessAction::ManageUsers,
            &manage_users,
        ),
        tenant_permit(
            ids::LIST_USERS,
            "The administrator, auditors, compliance and the grant issuer see who the users are.",
            AccessAction::ListUsers,
            &list_users,
        ),
        tenant_permit(
            ids::LIST_GRANTS,
            "The grant issuer and auditors see the access grants.",
            AccessAction::ListGrants,
            &list_grants,
        ),
        tenant_permit(
            "access.grants_issued_by",
            "ARLO-GRANTS: the role the policy names (the security officer by default) issues and revokes access grants.",
            AccessAction::IssueGrant,
            &issue_grants,
        ),
        tenant_permit(
            ids::MANAGE_POLICY,
            "The administrator proposes policy versions and changes tenant settings.",
            AccessAction::ManagePolicy,
            &[ADMINISTRATOR],
        ),
    ];
    // The same role the service's approval step asks for (`Changes::approver`: the named
    // role, or compliance when the policy names none).
    out.push(tenant_permit(
        match policy.changes.approved_by {
            Some(_) => "changes.approved_by",
            None => ids::APPROVE_POLICY,
        },
        "ARLO-PURPOSE-CHANGE: the role the policy names (compliance by default) approves new versions.",
        AccessAction::ApprovePolicy,
        &[policy.changes.approver_role()],
    ));
    let mut audit_readers: Vec<&str> = AUDIT_READERS.to_vec();
    if let Some(role) = policy.access.grants_issued_by.as_deref()
        && !audit_readers.contains(&role)
    {
        audit_readers.push(role);
    }
    out.push(tenant_permit(
        ids::READ_AUDIT,
        "ALL-AUDIT: auditors, compliance and the grant issuer verify and export the audit log.",
        AccessAction::ReadAudit,
        &audit_readers,
    ));
    out.push(tenant_permit(
        "rights.handled_by",
        "The role the policy names handles data-subject requests.",
        AccessAction::HandleRequest,
        &[policy.rights.handled_by.as_str()],
    ));
    out
}

/// All generated rules as one Cedar document (for `docs/authorization.md` and debugging).
pub fn cedar_text(policy: &Policy) -> String {
    let mut text = String::new();
    for generated in generate(policy) {
        let _ = writeln!(text, "{}\n", generated.text);
    }
    if let Some(extra) = &policy.access.cedar {
        let _ = writeln!(text, "// [access] cedar, as written in the policy file\n{extra}");
    }
    text
}
