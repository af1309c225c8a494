//! Parsing and validating a policy file; every error names file, line and field.

use std::collections::HashSet;
use std::fmt;

use crate::duration::Retention;
use crate::schema::{ConsentMechanism, Enablement, LegalBasis, NumberDisplay, Policy, RequestType};

/// Purposes the engine reserves for its own workflows (ALL-PURPOSE).
pub const RESERVED_PURPOSES: [&str; 2] = ["data-subject-request", "legal-claim"];

/// Roles the engine itself knows; a policy may name more.
pub const BUILT_IN_ROLES: [&str; 6] = [
    "agent",
    "team-manager",
    "security-officer",
    "compliance",
    "administrator",
    "auditor",
];

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyIssue {
    pub file: String,
    /// 1-based line; 0 when the problem is not tied to a line.
    pub line: usize,
    /// Dotted path of the field, e.g. `consent.mechanism`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.field, self.message)
    }
}

/// All problems found in one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub issues: Vec<PolicyIssue>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.issues.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// Parses and validates `text`, read from `file` (used only in messages).
pub fn parse_policy(file: &str, text: &str) -> Result<Policy, PolicyError> {
    let locator = Locator::new(text);
    let deserializer = toml::Deserializer::new(text);
    let policy: Policy = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = err.into_inner();
        let message = inner.message().trim().to_owned();
        let (field, line) = match missing_field(&message) {
            // serde reports a missing field at its parent table (the whole document for a
            // missing top-level table): name the field itself, and point at the table it
            // belongs in, or at no line (0) when that table is the document.
            Some(name) => {
                let field = if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                let line = locator.line_of_path(&field);
                (field, line)
            }
            None => {
                let line = inner
                    .span()
                    .map(|span| locator.line_of_offset(span.start))
                    .unwrap_or_else(|| locator.line_of_path(&path));
                (path, line)
            }
        };
        PolicyError {
            issues: vec![PolicyIssue {
                file: file.to_owned(),
                line,
                field,
                message,
            }],
        }
    })?;
    let problems = validate(&policy);
    if problems.is_empty() {
        return Ok(policy);
    }
    Err(PolicyError {
        issues: problems
            .into_iter()
            .map(|(field, message)| PolicyIssue {
                file: file.to_owned(),
                line: locator.line_of_path(&field),
                field,
                message,
            })
            .collect(),
    })
}

/// The field name in serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// Cross-field checks serde cannot make. Returns (field path, message) pairs.
fn validate(p: &Policy) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |field: String, message: String| out.push((field, message));

    if p.schema != 1 {
        bad(
            "schema".into(),
            format!("unsupported schema version {}; this engine reads 1", p.schema),
        );
    }
    let id_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if !id_ok(&p.policy.id) {
        bad("policy.id".into(), "must be lowercase letters, digits and '-'".into());
    }
    if let Some(review) = p.policy.next_review
        && review <= p.policy.effective
    {
        bad("policy.next_review".into(), "must be after policy.effective".into());
    }
    if p.controller.contacts.is_empty() {
        bad("controller.contacts".into(), "at least one contact is required".into());
    }

    if p.purposes.is_empty() {
        bad("purposes".into(), "at least one purpose is required".into());
    }
    let mut seen = HashSet::new();
    for (i, purpose) in p.purposes.iter().enumerate() {
        if !id_ok(&purpose.id) {
            bad(
                format!("purposes[{i}].id"),
                "must be lowercase letters, digits and '-'".into(),
            );
        }
        if RESERVED_PURPOSES.contains(&purpose.id.as_str()) {
            bad(
                format!("purposes[{i}].id"),
                format!("{:?} is reserved for the engine's own workflows", purpose.id),
            );
        }
        if !seen.insert(purpose.id.as_str()) {
            bad(
                format!("purposes[{i}].id"),
                format!("duplicate purpose {:?}", purpose.id),
            );
        }
        if purpose.retention == Some(Retention::TenantSet) && p.retention.default != Retention::TenantSet {
            bad(
                format!("purposes[{i}].retention"),
                "\"tenant-set\" per purpose needs retention.default = \"tenant-set\"".into(),
            );
        }
    }

    if p.recording.directions.is_empty() {
        bad(
            "recording.directions".into(),
            "at least one direction must be recorded".into(),
        );
    }
    if p.recording.provider_own_lines && p.consent.enablement != Enablement::TenantOptIn {
        bad(
            "recording.provider_own_lines".into(),
            "only meaningful with consent.enablement = \"tenant-opt-in\"".into(),
        );
    }

    let c = &p.consent;
    let dtmf = c.mechanism == ConsentMechanism::DtmfOptIn;
    for (name, digit) in [("accept_digit", c.accept_digit), ("decline_digit", c.decline_digit)] {
        match digit {
            Some(d) if !dtmf => bad(
                format!("consent.{name}"),
                format!("{d:?} is only used with mechanism = \"dtmf-opt-in\""),
            ),
            Some(d) if !"0123456789*#".contains(d) => {
                bad(format!("consent.{name}"), format!("{d:?} is not a DTMF digit"))
            }
            None if dtmf && name == "accept_digit" => bad(
                format!("consent.{name}"),
                "required with mechanism = \"dtmf-opt-in\"".into(),
            ),
            _ => {}
        }
    }
    if dtmf && c.accept_digit.is_some() && c.accept_digit == c.decline_digit {
        bad("consent.decline_digit".into(), "must differ from accept_digit".into());
    }
    if dtmf && c.timeout.is_none() {
        bad(
            "consent.timeout".into(),
            "required with mechanism = \"dtmf-opt-in\"".into(),
        );
    }
    if matches!(
        c.mechanism,
        ConsentMechanism::DtmfOptIn | ConsentMechanism::ClientSignalled
    ) && c.legal_basis != LegalBasis::Consent
    {
        bad(
            "consent.legal_basis".into(),
            "an opt-in mechanism collects consent: legal_basis must be \"consent\"".into(),
        );
    }
    if c.withdrawal_erases && c.legal_basis != LegalBasis::Consent {
        bad(
            "consent.withdrawal_erases".into(),
            "consent can only be withdrawn where legal_basis = \"consent\"".into(),
        );
    }

    let catalog = &p.catalog;
    if catalog.customer_number == NumberDisplay::Masked && catalog.mask_last_digits == 0 {
        bad(
            "catalog.mask_last_digits".into(),
            "must be at least 1 when customer_number = \"masked\"".into(),
        );
    }
    if catalog.customer_number == NumberDisplay::Full && catalog.mask_last_digits != 0 {
        bad(
            "catalog.mask_last_digits".into(),
            "only used when customer_number = \"masked\"".into(),
        );
    }
    if catalog.mask_last_digits > 8 {
        bad(
            "catalog.mask_last_digits".into(),
            "at most 8 digits can be masked".into(),
        );
    }

    let mut roles: HashSet<&str> = BUILT_IN_ROLES.into_iter().collect();
    for (i, role) in p.access.roles.iter().enumerate() {
        if !id_ok(&role.id) {
            bad(
                format!("access.roles[{i}].id"),
                "must be lowercase letters, digits and '-'".into(),
            );
        }
        roles.insert(role.id.as_str());
    }
    let mut role_refs: Vec<(String, &str)> = Vec::new();
    for (i, rule) in p.access.rules.iter().enumerate() {
        role_refs.extend(
            rule.roles
                .iter()
                .map(|r| (format!("access.rules[{i}].roles"), r.as_str())),
        );
    }
    if let Some(role) = &p.access.grants_issued_by {
        role_refs.push(("access.grants_issued_by".into(), role));
    }
    role_refs.push(("rights.handled_by".into(), &p.rights.handled_by));
    if let Some(role) = &p.changes.approved_by {
        role_refs.push(("changes.approved_by".into(), role));
    }
    for (i, purpose) in p.purposes.iter().enumerate() {
        match &purpose.approved_by {
            Some(role) => role_refs.push((format!("purposes[{i}].approved_by"), role)),
            None if purpose.publication => bad(
                format!("purposes[{i}].approved_by"),
                "a purpose whose material is published must name the role that approves it".into(),
            ),
            None => {}
        }
    }
    for (field, role) in role_refs {
        if !roles.contains(role) {
            bad(field, format!("unknown role {role:?}: declare it in [[access.roles]]"));
        }
    }
    let needs_grant = p.access.rules.iter().any(|r| r.requires_grant);
    if needs_grant && p.access.grants_issued_by.is_none() {
        bad(
            "access.grants_issued_by".into(),
            "rules require grants but no role issues them".into(),
        );
    }
    for (i, rule) in p.access.rules.iter().enumerate() {
        if rule.roles.is_empty() || rule.actions.is_empty() {
            bad(
                format!("access.rules[{i}]"),
                "a rule needs at least one role and one action".into(),
            );
        }
    }

    let mut types = HashSet::new();
    for (i, req) in p.rights.requests.iter().enumerate() {
        if !types.insert(req.kind) {
            bad(format!("rights.requests[{i}].type"), "listed twice".into());
        }
        if req.kind == RequestType::ConsentWithdrawal && p.consent.legal_basis != LegalBasis::Consent {
            bad(
                format!("rights.requests[{i}].type"),
                "consent withdrawal is offered only where legal_basis = \"consent\"".into(),
            );
        }
    }
    if p.rights.due_days == 0 || p.rights.due_days > 90 {
        bad("rights.due_days".into(), "must be between 1 and 90".into());
    }
    if p.rights.channels.is_empty() {
        bad("rights.channels".into(), "at least one channel is required".into());
    }
    if p.rights.own_voice_copy_allowed && !p.rights.copy_requires_all_parties_consent {
        bad(
            "rights.own_voice_copy_allowed".into(),
            "only meaningful with copy_requires_all_parties_consent = true".into(),
        );
    }
    if p.rights.erasure_denial_notifies_authority && p.controller.supervisory_authority.is_none() {
        bad(
            "controller.supervisory_authority".into(),
            "required when rights.erasure_denial_notifies_authority = true".into(),
        );
    }
    if p.sharing.third_parties && p.sharing.direct_marketing {
        bad("sharing.direct_marketing".into(), "not supported by this engine".into());
    }
    out
}

/// Finds the line of an offset or of a dotted field path in the TOML text.
struct Locator<'a> {
    text: &'a str,
    document: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Locator {
            text,
            document: toml_edit::ImDocument::parse(text).ok(),
        }
    }

    fn line_of_offset(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    /// Line of the deepest part of `path` (`a.b[2].c`) that exists in the file.
    fn line_of_path(&self, path: &str) -> usize {
        let Some(doc) = &self.document else { return 0 };
        let mut item: &toml_edit::Item = doc.as_item();
        let mut best = 0;
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            let (key, index) = match segment.find('[') {
                Some(open) => (
                    &segment[..open],
                    segment[open + 1..].trim_end_matches(']').parse::<usize>().ok(),
                ),
                None => (segment, None),
            };
            let next = match item.get(key) {
                Some(next) => next,
                None => break,
            };
            if let Some((k, _)) = item.as_table_like().and_then(|t| t.get_key_value(key))
                && let Some(span) = k.span()
            {
                best = self.line_of_offset(span.start);
            }
            item = next;
            if let Some(i) = index {
                match item.get(i) {
                    Some(element) => item = element,
                    None => break,
                }
                if let Some(span) = item.span() {
                    best = self.line_of_offset(span.start);
                }
            }
        }
        best
    }
}
