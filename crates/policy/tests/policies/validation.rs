//! Broken policy text is reported with the file, the exact line and the field path.
//!
//! Each case starts from one of two small valid policies and alters one thing.

use policy::parse_policy;

/// A consent-based policy with a DTMF prompt and an access grant (Arlo-like).
/// Line numbers in the cases below refer to this text.
const CONSENT_BASE: &str = r#"schema = 1

[policy]
id = "consent-base"
title = "Consent base policy"
version = "1"
language = "en"
effective = "2024-01-01"
next_review = "2025-01-01"

[controller]
name = "Base Ltd"
contacts = ["privacy@example.com"]

[[purposes]]
id = "training"
description = "Training"

[[purposes]]
id = "quality"
description = "Quality assurance"

[recording]
directions = ["inbound"]

[consent]
legal_basis = "consent"
mechanism = "dtmf-opt-in"
enablement = "always"
accept_digit = "1"
decline_digit = "2"
timeout = "30 seconds"
withdrawal_erases = true

[retention]
default = "90 days"

[catalog]
fields = ["started-at", "customer-number", "audio"]
customer_number = "full"

[rights]
handled_by = "compliance"
channels = ["email"]

[[rights.requests]]
type = "access"
fulfilment = "copy"

[[rights.requests]]
type = "consent-withdrawal"
fulfilment = "erase"

[access]
grants_issued_by = "security-officer"

[[access.roles]]
id = "line-manager"
description = "Line managers"

[[access.rules]]
roles = ["line-manager"]
actions = ["metadata", "listen"]
scope = "tenant"
requires_grant = true

[sharing]
third_parties = false

[changes]
approved_by = "security-officer"
"#;

/// A legitimate-interest policy with a masked register and an erasure route (Posti/Webeo-like).
/// Line numbers in the cases below refer to this text.
const INTEREST_BASE: &str = r#"schema = 1

[policy]
id = "interest-base"
title = "Interest base policy"
version = "1"
language = "sv"
effective = "2024-01-01"

[controller]
name = "Base Ab"
contacts = ["kundtjanst@example.com"]
supervisory_authority = "Dataombudsmannen"

[[purposes]]
id = "verify-agreement"
description = "Verify what was agreed"

[[purposes]]
id = "internal-training"
description = "Internal training"
retention = "3 months"

[recording]
directions = ["inbound", "outbound"]

[consent]
legal_basis = "legitimate-interest"
mechanism = "none"
enablement = "always"

[retention]
default = "6 months"

[residency]
regions = ["eu-eea"]

[catalog]
fields = ["started-at", "customer-number", "audio"]
customer_number = "masked"
mask_last_digits = 3

[rights]
handled_by = "compliance"
channels = ["email", "post"]
erasure_denial_notifies_authority = true

[[rights.requests]]
type = "access"
fulfilment = "supervised-playback"

[[rights.requests]]
type = "objection"
fulfilment = "freeze"

[access]
training_required = true

[[access.roles]]
id = "system-administrator"
description = "System administrators"

[[access.rules]]
roles = ["system-administrator"]
actions = ["metadata"]
scope = "tenant"

[[access.rules]]
roles = ["agent"]
actions = ["metadata", "listen"]
scope = "own"

[sharing]
third_parties = false
"#;

/// One broken policy: `base` with the first `from` replaced by `to`.
struct Case {
    name: &'static str,
    base: &'static str,
    from: &'static str,
    to: &'static str,
    /// The single issue expected: line, field path, and a part of the message.
    line: usize,
    field: &'static str,
    message: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "missing required field",
        base: CONSENT_BASE,
        from: "title = \"Consent base policy\"\n",
        to: "",
        line: 3, // the [policy] table it belongs in
        field: "policy.title",
        message: "missing field `title`",
    },
    Case {
        name: "missing required table",
        base: INTEREST_BASE,
        from: "[sharing]\nthird_parties = false\n",
        to: "",
        line: 0, // belongs in the document itself: no line
        field: "sharing",
        message: "missing field `sharing`",
    },
    Case {
        name: "missing field in an array-of-tables element",
        base: INTEREST_BASE,
        from: "fulfilment = \"freeze\"",
        to: "",
        line: 52, // the second [[rights.requests]] header
        field: "rights.requests[1].fulfilment",
        message: "missing field `fulfilment`",
    },
    Case {
        name: "unknown consent mechanism",
        base: CONSENT_BASE,
        from: "mechanism = \"dtmf-opt-in\"",
        to: "mechanism = \"dtmf\"",
        line: 28,
        field: "consent.mechanism",
        message: "unknown variant `dtmf`",
    },
    Case {
        name: "unknown direction in a list",
        base: INTEREST_BASE,
        from: "directions = [\"inbound\", \"outbound\"]",
        to: "directions = [\"inbound\", \"sideways\"]",
        line: 25,
        field: "recording.directions[1]",
        message: "unknown variant `sideways`",
    },
    Case {
        name: "unknown fulfilment in a request",
        base: INTEREST_BASE,
        from: "fulfilment = \"freeze\"",
        to: "fulfilment = \"mail\"",
        line: 54,
        field: "rights.requests[1].fulfilment",
        message: "unknown variant `mail`",
    },
    Case {
        name: "bad retention duration",
        base: CONSENT_BASE,
        from: "default = \"90 days\"",
        to: "default = \"90 dayz\"",
        line: 36,
        field: "retention.default",
        message: "invalid duration \"90 dayz\"",
    },
    Case {
        name: "bad purpose retention",
        base: INTEREST_BASE,
        from: "retention = \"3 months\"",
        to: "retention = \"3 moons\"",
        line: 22,
        field: "purposes[1].retention",
        message: "invalid duration \"3 moons\"",
    },
    Case {
        name: "tenant-set purpose retention under a fixed default",
        base: INTEREST_BASE,
        from: "retention = \"3 months\"",
        to: "retention = \"tenant-set\"",
        line: 22,
        field: "purposes[1].retention",
        message: "needs retention.default = \"tenant-set\"",
    },
    Case {
        name: "dtmf-opt-in without accept_digit",
        base: CONSENT_BASE,
        from: "accept_digit = \"1\"\n",
        to: "",
        line: 26, // the [consent] table it belongs in
        field: "consent.accept_digit",
        message: "required with mechanism = \"dtmf-opt-in\"",
    },
    Case {
        name: "decline digit equal to accept digit",
        base: CONSENT_BASE,
        from: "decline_digit = \"2\"",
        to: "decline_digit = \"1\"",
        line: 31,
        field: "consent.decline_digit",
        message: "must differ from accept_digit",
    },
    Case {
        name: "digit that is not one character",
        base: CONSENT_BASE,
        from: "decline_digit = \"2\"",
        to: "decline_digit = \"22\"",
        line: 31,
        field: "consent.decline_digit",
        message: "expected a character",
    },
    Case {
        name: "dtmf-opt-in without timeout",
        base: CONSENT_BASE,
        from: "timeout = \"30 seconds\"\n",
        to: "",
        line: 26,
        field: "consent.timeout",
        message: "required with mechanism = \"dtmf-opt-in\"",
    },
    Case {
        name: "unknown role in an access rule",
        base: CONSENT_BASE,
        from: "roles = [\"line-manager\"]",
        to: "roles = [\"line-managr\"]",
        line: 62,
        field: "access.rules[0].roles",
        message: "unknown role \"line-managr\"",
    },
    Case {
        name: "unknown role handling requests",
        base: INTEREST_BASE,
        from: "handled_by = \"compliance\"",
        to: "handled_by = \"dpo\"",
        line: 44,
        field: "rights.handled_by",
        message: "unknown role \"dpo\"",
    },
    Case {
        name: "grants required but nobody issues them",
        base: CONSENT_BASE,
        from: "grants_issued_by = \"security-officer\"\n",
        to: "",
        line: 54, // the [access] table it belongs in
        field: "access.grants_issued_by",
        message: "rules require grants",
    },
    Case {
        name: "consent withdrawal offered under legitimate interest",
        base: INTEREST_BASE,
        from: "type = \"objection\"",
        to: "type = \"consent-withdrawal\"",
        line: 53,
        field: "rights.requests[1].type",
        message: "consent withdrawal is offered only where legal_basis = \"consent\"",
    },
    Case {
        name: "withdrawal erases under legitimate interest",
        base: INTEREST_BASE,
        from: "enablement = \"always\"",
        to: "enablement = \"always\"\nwithdrawal_erases = true",
        line: 31,
        field: "consent.withdrawal_erases",
        message: "legal_basis = \"consent\"",
    },
    Case {
        name: "request type listed twice",
        base: INTEREST_BASE,
        from: "type = \"objection\"",
        to: "type = \"access\"",
        line: 53,
        field: "rights.requests[1].type",
        message: "listed twice",
    },
    Case {
        name: "duplicate purpose id",
        base: INTEREST_BASE,
        from: "id = \"internal-training\"",
        to: "id = \"verify-agreement\"",
        line: 20,
        field: "purposes[1].id",
        message: "duplicate purpose \"verify-agreement\"",
    },
    Case {
        name: "reserved purpose id",
        base: INTEREST_BASE,
        from: "id = \"verify-agreement\"",
        to: "id = \"legal-claim\"",
        line: 16,
        field: "purposes[0].id",
        message: "reserved for the engine's own workflows",
    },
    Case {
        name: "purpose id with capitals",
        base: CONSENT_BASE,
        from: "id = \"quality\"",
        to: "id = \"Quality\"",
        line: 20,
        field: "purposes[1].id",
        message: "lowercase letters, digits and '-'",
    },
    Case {
        name: "masked number with mask_last_digits = 0",
        base: INTEREST_BASE,
        from: "mask_last_digits = 3",
        to: "mask_last_digits = 0",
        line: 41,
        field: "catalog.mask_last_digits",
        message: "must be at least 1",
    },
    Case {
        name: "mask_last_digits with a full number",
        base: CONSENT_BASE,
        from: "customer_number = \"full\"",
        to: "customer_number = \"full\"\nmask_last_digits = 3",
        line: 41,
        field: "catalog.mask_last_digits",
        message: "only used when customer_number = \"masked\"",
    },
    Case {
        name: "unknown top-level key",
        base: INTEREST_BASE,
        from: "schema = 1\n",
        to: "schema = 1\ncolour = \"blue\"\n",
        line: 2,
        field: "colour",
        message: "unknown field `colour`",
    },
    Case {
        name: "unknown key in a request",
        base: INTEREST_BASE,
        from: "fulfilment = \"freeze\"",
        to: "fulfilment = \"freeze\"\nhow = \"by pigeon\"",
        line: 55,
        field: "rights.requests[1].how",
        message: "unknown field `how`",
    },
    Case {
        name: "unsupported schema version",
        base: INTEREST_BASE,
        from: "schema = 1",
        to: "schema = 2",
        line: 1,
        field: "schema",
        message: "unsupported schema version 2",
    },
    Case {
        name: "a date with a time",
        base: CONSENT_BASE,
        from: "effective = \"2024-01-01\"",
        to: "effective = 2024-01-01T10:00:00Z",
        line: 8,
        field: "policy.effective",
        message: "expected a date such as 2024-02-01, without a time",
    },
    Case {
        name: "review date before the effective date",
        base: CONSENT_BASE,
        from: "next_review = \"2025-01-01\"",
        to: "next_review = \"2023-12-31\"",
        line: 9,
        field: "policy.next_review",
        message: "must be after policy.effective",
    },
    Case {
        name: "erasure denial reported but no authority named",
        base: INTEREST_BASE,
        from: "supervisory_authority = \"Dataombudsmannen\"\n",
        to: "",
        line: 10, // the [controller] table it belongs in
        field: "controller.supervisory_authority",
        message: "required when rights.erasure_denial_notifies_authority = true",
    },
    Case {
        name: "due_days of zero",
        base: INTEREST_BASE,
        from: "erasure_denial_notifies_authority = true",
        to: "erasure_denial_notifies_authority = true\ndue_days = 0",
        line: 47,
        field: "rights.due_days",
        message: "must be between 1 and 90",
    },
    Case {
        name: "no request channel",
        base: INTEREST_BASE,
        from: "channels = [\"email\", \"post\"]",
        to: "channels = []",
        line: 45,
        field: "rights.channels",
        message: "at least one channel",
    },
    Case {
        name: "no recorded direction",
        base: CONSENT_BASE,
        from: "directions = [\"inbound\"]",
        to: "directions = []",
        line: 24,
        field: "recording.directions",
        message: "at least one direction",
    },
    Case {
        name: "provider_own_lines without tenant opt-in",
        base: INTEREST_BASE,
        from: "directions = [\"inbound\", \"outbound\"]",
        to: "directions = [\"inbound\", \"outbound\"]\nprovider_own_lines = true",
        line: 26,
        field: "recording.provider_own_lines",
        message: "tenant-opt-in",
    },
];

#[test]
fn the_bases_are_valid() {
    for (name, base) in [("consent", CONSENT_BASE), ("interest", INTEREST_BASE)] {
        if let Err(e) = parse_policy(&format!("{name}-base.toml"), base) {
            panic!("{name} base does not validate:\n{e}");
        }
    }
}

#[test]
fn each_broken_policy_names_file_line_and_field() {
    let mut failures = Vec::new();
    for case in CASES {
        assert!(
            case.base.contains(case.from),
            "case {:?}: base lacks {:?}",
            case.name,
            case.from
        );
        let text = case.base.replacen(case.from, case.to, 1);
        let file = format!("policies/{}.toml", case.name.replace(' ', "-"));
        let issues = match parse_policy(&file, &text) {
            Ok(_) => {
                failures.push(format!("{}: accepted", case.name));
                continue;
            }
            Err(e) => e.issues,
        };
        let [issue] = issues.as_slice() else {
            failures.push(format!("{}: expected exactly one issue, got {issues:#?}", case.name));
            continue;
        };
        let got = (issue.file.as_str(), issue.line, issue.field.as_str());
        let want = (file.as_str(), case.line, case.field);
        if got != want || !issue.message.contains(case.message) {
            failures.push(format!(
                "{}: got {}:{}: {}: {}\n  want {}:{}: {}: …{}…",
                case.name, got.0, got.1, got.2, issue.message, want.0, want.1, want.2, case.message
            ));
        }
        // The one-line form a DPO sees names all three.
        assert_eq!(
            issue.to_string(),
            format!("{}:{}: {}: {}", issue.file, issue.line, issue.field, issue.message)
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn every_issue_is_reported_not_only_the_first() {
    // Validation (after parsing) collects all problems at once.
    let text = INTEREST_BASE
        .replacen("id = \"verify-agreement\"", "id = \"legal-claim\"", 1)
        .replacen("mask_last_digits = 3", "mask_last_digits = 0", 1);
    let err = parse_policy("policies/two.toml", &text).expect_err("two problems");
    let got: Vec<(usize, &str)> = err.issues.iter().map(|i| (i.line, i.field.as_str())).collect();
    assert_eq!(got, [(16, "purposes[0].id"), (41, "catalog.mask_last_digits")]);
}

#[test]
fn a_policy_with_only_built_in_roles_writes_roles_as_an_empty_list() {
    let without_roles = INTEREST_BASE
        .replacen(
            "[[access.roles]]\nid = \"system-administrator\"\ndescription = \"System administrators\"\n",
            "",
            1,
        )
        .replacen("roles = [\"system-administrator\"]", "roles = [\"administrator\"]", 1);
    // No [[access.roles]] block at all: the key is missing, reported at [access].
    let err = parse_policy("policies/no-roles.toml", &without_roles).expect_err("roles missing");
    let got: Vec<(usize, &str)> = err.issues.iter().map(|i| (i.line, i.field.as_str())).collect();
    assert_eq!(got, [(56, "access.roles")]);
    // `roles = []` says so explicitly.
    let explicit = without_roles.replacen("training_required = true", "training_required = true\nroles = []", 1);
    parse_policy("policies/empty-roles.toml", &explicit).expect("roles = [] is valid");
}
