//! The diff between two policy versions (ALL-VERSION, ARLO-PURPOSE-CHANGE), as a table:
//! each case edits Arlo Europe's shipped policy and names the changes it expects.

use policy::{DiffArea, PolicyDiff, diff_policies, parse_policy};

use crate::support::{load, policies_dir};

struct Case {
    name: &'static str,
    /// Text replacements applied to `policies/arlo-europe.toml`, in order.
    edits: &'static [(&'static str, &'static str)],
    /// The changes, as `PolicyChange`'s one-line form, in the diff's order.
    expect: &'static [&'static str],
}

const TRAINING: &str = "id = \"training\"\ndescription = \"Training customer service staff\"";

const CASES: &[Case] = &[
    Case {
        name: "the same text changes nothing",
        edits: &[],
        expect: &[],
    },
    Case {
        name: "comments and the document label are not purposes, retention or access",
        edits: &[
            ("version = \"Februar 2023\"", "version = \"Mars 2024\""),
            ("# ARLO-SECURITY", "# reworded"),
        ],
        expect: &[],
    },
    Case {
        name: "a new purpose (ARLO-PURPOSE-CHANGE)",
        edits: &[(
            "[recording]\n",
            "[[purposes]]\nid = \"fraud\"\ndescription = \"Preventing fraud\"\n\n[recording]\n",
        )],
        expect: &["+ purposes[fraud]: Preventing fraud"],
    },
    Case {
        name: "a purpose removed, with its own retention",
        edits: &[(
            TRAINING,
            "id = \"coaching\"\ndescription = \"Coaching\"\nretention = \"30 days\"",
        )],
        expect: &[
            "- purposes[training]: Training customer service staff",
            "+ purposes[coaching]: Coaching",
            "+ purposes[coaching].retention: 30 days",
        ],
    },
    Case {
        name: "a purpose reworded and no longer pseudonymised",
        edits: &[
            (
                "description = \"Training customer service staff\"",
                "description = \"Training staff\"",
            ),
            ("pseudonymised_only = true", "pseudonymised_only = false"),
        ],
        expect: &[
            "~ purposes[training].description: Training customer service staff -> Training staff",
            "~ purposes[training].pseudonymised_only: yes -> no",
        ],
    },
    Case {
        name: "the default retention and a purpose's own",
        edits: &[
            ("default = \"90 days\"", "default = \"6 months\""),
            (
                "pseudonymised_only = true",
                "pseudonymised_only = true\nretention = \"30 days\"",
            ),
        ],
        expect: &[
            "~ retention.default: 90 days -> 6 months",
            "+ purposes[training].retention: 30 days",
        ],
    },
    Case {
        name: "deletion no longer automatic",
        edits: &[("automatic_deletion = true", "automatic_deletion = false")],
        expect: &["~ retention.automatic_deletion: yes -> no"],
    },
    Case {
        name: "an access rule widened: a new action and no grant",
        edits: &[
            (
                "actions = [\"metadata\", \"search\", \"listen\"]",
                "actions = [\"metadata\", \"search\", \"listen\", \"download\"]",
            ),
            ("requires_grant = true", "requires_grant = false"),
            ("grants_issued_by = \"security-officer\"\n", ""),
        ],
        expect: &[
            "- access.rules: roles line-manager may listen, metadata, search (scope tenant, grant required)",
            "+ access.rules: roles line-manager may download, listen, metadata, search (scope tenant)",
            "~ access.grants_issued_by: security-officer -> none",
        ],
    },
    Case {
        name: "reordering the actions of a rule is no change",
        edits: &[(
            "actions = [\"metadata\", \"search\", \"listen\"]",
            "actions = [\"listen\", \"metadata\", \"search\"]",
        )],
        expect: &[],
    },
    Case {
        name: "a new role with its own rule, and training now required",
        edits: &[
            (
                "[sharing]",
                "[[access.roles]]\nid = \"auditor\"\ndescription = \"external auditor\"\n\n\
                 [[access.rules]]\nroles = [\"auditor\"]\nactions = [\"metadata\"]\nscope = \"tenant\"\n\
                 requires_grant = true\n\n[sharing]",
            ),
            ("training_required = false", "training_required = true"),
        ],
        expect: &[
            "+ access.roles[auditor]: external auditor",
            "+ access.rules: roles auditor may metadata (scope tenant, grant required)",
            "~ access.training_required: no -> yes",
        ],
    },
    Case {
        name: "the approver changes: the default applies without the field",
        edits: &[("approved_by = \"security-officer\"\n", "")],
        expect: &["~ changes.approved_by: security-officer -> compliance"],
    },
];

fn arlo_text() -> String {
    std::fs::read_to_string(policies_dir().join("arlo-europe.toml")).expect("arlo-europe.toml")
}

#[test]
fn the_diff_names_every_change_to_purposes_retention_and_access() {
    let old = load("arlo-europe");
    let base = arlo_text();
    for case in CASES {
        let mut text = base.clone();
        for (from, to) in case.edits {
            assert!(text.contains(from), "{}: {from:?} not in the policy", case.name);
            text = text.replacen(from, to, 1);
        }
        let new = parse_policy("arlo-europe.toml", &text)
            .unwrap_or_else(|e| panic!("{}: edited policy does not validate:\n{e}", case.name));
        let diff = diff_policies(&old, &new);
        let lines: Vec<String> = diff.changes.iter().map(ToString::to_string).collect();
        assert_eq!(lines, case.expect, "{}", case.name);
        assert_eq!(diff.is_empty(), case.expect.is_empty(), "{}", case.name);
    }
}

#[test]
fn the_diff_is_stored_as_json_and_read_back() {
    let old = load("arlo-europe");
    let text = arlo_text().replacen(
        "[recording]\n",
        "[[purposes]]\nid = \"fraud\"\ndescription = \"Preventing fraud\"\n\n[recording]\n",
        1,
    );
    let new = parse_policy("arlo-europe.toml", &text).unwrap();
    let diff = diff_policies(&old, &new);
    assert!(diff.touches(DiffArea::Purposes));
    assert!(!diff.touches(DiffArea::Retention) && !diff.touches(DiffArea::Access));
    let json = serde_json::to_string(&diff).unwrap();
    assert_eq!(
        json,
        r#"[{"area":"purposes","field":"purposes[fraud]","kind":"added","to":"Preventing fraud"}]"#
    );
    let back: PolicyDiff = serde_json::from_str(&json).unwrap();
    assert_eq!(back, diff);
}

#[test]
fn every_shipped_policy_names_its_change_approver() {
    // Only Arlo's seed says who approves changes (the security officer, ARLO-PURPOSE-CHANGE);
    // the others fall back to the built-in compliance role.
    for (id, approver) in [
        ("arlo-europe", "security-officer"),
        ("csi-works", "compliance"),
        ("telephone-office", "compliance"),
        ("webeo", "compliance"),
        ("posti", "compliance"),
    ] {
        assert_eq!(load(id).changes.approver_role(), approver, "{id}");
    }
}
