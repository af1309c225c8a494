//! Every shipped policy parses and validates, and says what its seed says in the fields
//! that the rest of the system keys on.

use std::collections::{BTreeSet, HashSet};

use policy::{
    CatalogField, ConsentMechanism, Direction, Enablement, Fulfilment, LegalBasis, NumberDisplay, PolicyDuration,
    RequestType, Retention,
};

use crate::support::{POLICIES, load, policies_dir};

#[test]
fn all_five_policies_parse_and_validate() {
    for (id, _) in POLICIES {
        let policy = load(id);
        assert_eq!(policy.policy.id, id, "policies/{id}.toml names itself");
        assert_eq!(policy.schema, 1);
    }
}

#[test]
fn policies_dir_holds_exactly_the_five() {
    let mut found: Vec<String> = std::fs::read_dir(policies_dir())
        .expect("policies/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    found.sort();
    let mut want: Vec<String> = POLICIES.iter().map(|(id, _)| format!("{id}.toml")).collect();
    want.sort();
    assert_eq!(found, want);
}
/// The rules an access rule set grants, as (role, action, scope) strings for easy comparison.
fn grants(p: &policy::Policy) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in &p.access.rules {
        for role in &rule.roles {
            for action in &rule.actions {
                let grant = if rule.requires_grant { " (grant)" } else { "" };
                out.insert(format!("{role} {action:?} {:?}{grant}", rule.scope));
            }
        }
    }
    out
}

fn request_types(p: &policy::Policy) -> Vec<(RequestType, Fulfilment, bool)> {
    p.rights
        .requests
        .iter()
        .map(|r| (r.kind, r.fulfilment, r.in_writing))
        .collect()
}

const ALL_FIELDS_BUT_NAME: [CatalogField; 7] = [
    CatalogField::StartedAt,
    CatalogField::EndedAt,
    CatalogField::Duration,
    CatalogField::ServiceNumber,
    CatalogField::CustomerNumber,
    CatalogField::AgentName,
    CatalogField::Audio,
];

#[test]
fn csi_works() {
    let p = load("csi-works");
    // CSI-PURPOSES
    assert_eq!(
        p.purpose_ids(),
        [
            "abuse-protection",
            "complaint-facts",
            "quality-control",
            "crm-verification",
            "training-performance",
            "faq-content"
        ]
    );
    // CSI-FAQ
    let published: Vec<&str> = p
        .purposes
        .iter()
        .filter(|x| x.publication)
        .map(|x| x.id.as_str())
        .collect();
    assert_eq!(published, ["faq-content"]);
    // CSI-SCOPE
    assert_eq!(p.recording.directions, [Direction::Inbound, Direction::Outbound]);
    assert_eq!(p.recording.transfer_sources, ["Clover Customer Support"]);
    // CSI-OPTOUT
    assert_eq!(p.consent.mechanism, ConsentMechanism::None);
    assert_eq!(p.consent.enablement, Enablement::Always);
    assert!(!p.consent.in_call_opt_out);
    assert!(
        p.consent
            .opt_out_alternative
            .as_deref()
            .is_some_and(|a| a.contains("email") && a.contains("mail"))
    );
    // No period in the seed: the operator sets it.
    assert_eq!(p.retention.default, Retention::TenantSet);
    // CSI-ONPREM
    assert!(p.residency.on_premises);
    // CSI-ACCESS: only the CEO and the FAQ content manager have rules.
    let roles: HashSet<&str> = p
        .access
        .rules
        .iter()
        .flat_map(|r| r.roles.iter().map(String::as_str))
        .collect();
    assert_eq!(roles, HashSet::from(["ceo", "faq-content-manager"]));
    // CSI-COPY
    assert_eq!(p.rights.handled_by, "ceo");
    assert!(p.rights.copy_requires_all_parties_consent);
    assert!(!p.rights.own_voice_copy_allowed);
    assert!(request_types(&p).contains(&(RequestType::Copy, Fulfilment::Copy, true)));
    assert!(p.rights.requests.iter().any(|r| r.kind == RequestType::Access));
    assert_eq!(p.controller.contacts, ["steves@csiworks.net"]);
    assert_eq!(p.catalog.customer_number, NumberDisplay::Full);
    assert_eq!(p.policy.effective.to_string(), "2020-01-31");
}

#[test]
fn telephone_office() {
    let p = load("telephone-office");
    assert_eq!(p.purposes.len(), 7);
    // TO-OPTIONAL, TO-OWNLINES
    assert_eq!(p.consent.enablement, Enablement::TenantOptIn);
    assert!(p.recording.provider_own_lines);
    // TO-NOTICE
    assert_eq!(p.consent.legal_basis, LegalBasis::Consent);
    assert_eq!(p.consent.mechanism, ConsentMechanism::Notice);
    // TO-RETENTION
    assert_eq!(p.retention.default, Retention::TenantSet);
    // TO-COPY
    assert_eq!(request_types(&p), [(RequestType::Copy, Fulfilment::Copy, false)]);
    // TO-SELFSERVICE: tenant users manage their own tenant's recordings, nothing wider exists.
    let g = grants(&p);
    for action in ["Metadata", "Listen", "Download", "Delete"] {
        assert!(
            g.contains(&format!("account-user {action} Tenant")),
            "account-user {action}: {g:?}"
        );
    }
    assert_eq!(
        p.controller.contacts,
        ["dataprotection@telephoneoffice.co.uk", "0330 043 6996"]
    );
    assert_eq!(p.policy.effective.to_string(), "2023-10-01");
}

#[test]
fn arlo_europe() {
    let p = load("arlo-europe");
    assert_eq!(p.policy.language, "no");
    // ARLO-INBOUND
    assert_eq!(p.recording.directions, [Direction::Inbound]);
    assert_eq!(p.purpose_ids(), ["training", "quality"]);
    // ARLO-PSEUDO
    assert!(p.purpose("training").is_some_and(|x| x.pseudonymised_only));
    assert!(p.purpose("quality").is_some_and(|x| !x.pseudonymised_only));
    // ARLO-CONSENT-DTMF
    assert_eq!(p.consent.legal_basis, LegalBasis::Consent);
    assert_eq!(p.consent.mechanism, ConsentMechanism::DtmfOptIn);
    assert_eq!(
        (p.consent.accept_digit, p.consent.decline_digit),
        (Some('1'), Some('2'))
    );
    assert!(p.consent.timeout.is_some());
    let announcement = p.consent.announcement.as_deref().unwrap_or_default();
    assert!(
        announcement.contains("Trykk 1 hvis du samtykker") && announcement.contains("Trykk 2 hvis du ikke samtykker")
    );
    // ARLO-WITHDRAW
    assert!(p.consent.withdrawal_erases);
    assert!(request_types(&p).contains(&(RequestType::ConsentWithdrawal, Fulfilment::Erase, false)));
    // ARLO-RETENTION
    assert_eq!(p.retention.default, Retention::Fixed(PolicyDuration::Days(90)));
    // ARLO-GRANTS, ARLO-SECURITY
    assert_eq!(p.access.grants_issued_by.as_deref(), Some("security-officer"));
    assert!(
        p.access.rules.iter().all(|r| r.requires_grant),
        "every Arlo rule needs a grant"
    );
    assert!(grants(&p).contains("line-manager Listen Tenant (grant)"));
    assert!(p.access.search_requires_reason && p.access.alert_on_denied);
    // ARLO-PURPOSE-CHANGE, ARLO-REVIEW
    assert_eq!(p.changes.approved_by.as_deref(), Some("security-officer"));
    assert_eq!(p.policy.effective.to_string(), "2023-02-01");
    assert_eq!(
        p.policy.next_review.map(|d| d.to_string()).as_deref(),
        Some("2024-02-01")
    );
}

#[test]
fn webeo() {
    let p = load("webeo");
    // WEBEO-OUTBOUND
    assert_eq!(p.recording.directions, [Direction::Outbound]);
    assert!(p.recording.flag_withheld_caller_id);
    assert_eq!(
        p.purpose_ids(),
        ["training-development", "quality-assessment", "protection"]
    );
    assert_eq!(p.consent.legal_basis, LegalBasis::LegitimateInterest);
    assert_eq!(p.consent.mechanism, ConsentMechanism::None);
    // WEBEO-UK, WEBEO-NOSHARE
    assert_eq!(p.residency.regions, ["uk"]);
    assert!(!p.sharing.third_parties);
    let g = grants(&p);
    assert!(
        !g.iter().any(|x| x.contains("Export") || x.contains("Download")),
        "no bulk export: {g:?}"
    );
    // WEBEO-TPS
    assert_eq!(p.marketing.screening_registers, ["tps", "ctps"]);
    assert!(p.marketing.no_unsolicited_calls_to_listed);
    // WEBEO-RETENTION
    assert_eq!(p.retention.default, Retention::Fixed(PolicyDuration::Months(12)));
    // WEBEO-REQUEST, WEBEO-ERASURE, WEBEO-30DAYS
    assert!(p.rights.identity_proof);
    assert_eq!(p.rights.request_must_include.len(), 3);
    assert!(request_types(&p).contains(&(RequestType::Erasure, Fulfilment::Erase, true)));
    assert!(p.rights.erasure_denial_notifies_authority);
    assert!(
        p.controller
            .supervisory_authority
            .as_deref()
            .is_some_and(|a| a.contains("Information Commissioner"))
    );
    assert_eq!(p.rights.due_days, 30);
    assert_eq!(p.rights.handled_by, "data-compliance-team");
    assert!(p.access.roles.iter().any(|r| r.id == "data-compliance-team"));
    assert_eq!(p.policy.effective.to_string(), "2020-06-09");
}

#[test]
fn posti() {
    let p = load("posti");
    assert_eq!(p.policy.language, "sv");
    // POSTI-PURPOSES
    assert_eq!(
        p.purpose_ids(),
        [
            "verify-agreement",
            "legal-protection",
            "internal-training",
            "security-misuse-prevention"
        ]
    );
    assert_eq!(p.consent.legal_basis, LegalBasis::LegitimateInterest);
    assert_eq!(p.recording.directions, [Direction::Inbound, Direction::Outbound]);
    // POSTI-SPAN, POSTI-RETENTION, POSTI-EEA
    assert!(p.recording.answered_span_only);
    assert_eq!(p.retention.default, Retention::Fixed(PolicyDuration::Months(6)));
    assert_eq!(p.residency.regions, ["eu-eea"]);
    // POSTI-FIELDS: exactly these, with the last three digits masked.
    assert_eq!(p.catalog.fields, ALL_FIELDS_BUT_NAME);
    assert!(!p.keeps(CatalogField::CustomerName));
    assert_eq!(
        (p.catalog.customer_number, p.catalog.mask_last_digits),
        (NumberDisplay::Masked, 3)
    );
    // POSTI-ACCESS, POSTI-TRAINING
    let g = grants(&p);
    assert!(g.contains("agent Listen Own"), "{g:?}");
    assert!(g.contains("team-manager Listen Team"), "{g:?}");
    assert!(g.contains("system-administrator Metadata Tenant"), "{g:?}");
    assert!(
        !g.iter().any(|x| x.starts_with("system-administrator Listen")),
        "administrators do not listen"
    );
    assert!(p.access.training_required);
    // POSTI-RIGHTS, POSTI-SUPERVISED
    let kinds: Vec<RequestType> = p.rights.requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestType::Information,
            RequestType::Access,
            RequestType::Rectification,
            RequestType::Completion,
            RequestType::Erasure,
            RequestType::Portability,
            RequestType::Restriction,
            RequestType::Objection,
        ]
    );
    assert!(request_types(&p).contains(&(RequestType::Access, Fulfilment::SupervisedPlayback, false)));
    assert!(request_types(&p).contains(&(RequestType::Restriction, Fulfilment::Freeze, false)));
    // POSTI-NODISCLOSE
    assert!(!p.sharing.third_parties && !p.sharing.direct_marketing);
    assert_eq!(
        p.controller.supervisory_authority.as_deref(),
        Some("Dataombudsmannen (Finland)")
    );
    assert_eq!(
        p.controller.data_protection_officer.as_deref(),
        Some("tietosuoja@posti.com")
    );
    assert_eq!(p.policy.effective.to_string(), "2018-05-25");
}

#[test]
fn every_policy_round_trips_through_serde() {
    // What the engine stores as "the policy version a recording was made under" (ALL-VERSION)
    // reads back as the same policy.
    for (id, _) in POLICIES {
        let p = load(id);
        let text = toml::to_string(&p).unwrap_or_else(|e| panic!("{id}: {e}"));
        let again =
            policy::parse_policy(&format!("{id}.roundtrip.toml"), &text).unwrap_or_else(|e| panic!("{id}:\n{e}"));
        assert_eq!(again, p, "{id}");
    }
}
