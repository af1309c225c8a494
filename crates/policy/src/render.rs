//! Renders a policy back into a readable notice (Markdown) for the people on the calls.

use std::fmt::Write;

use crate::decide::direction_word;
use crate::schema::*;

/// The policy as a Markdown notice: purposes, consent, retention, access, rights, contacts.
pub fn render_notice(p: &Policy) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_notice(&mut out, p);
    out
}

fn write_notice(o: &mut String, p: &Policy) -> std::fmt::Result {
    let h = &p.policy;
    writeln!(o, "# {}\n", h.title)?;
    writeln!(
        o,
        "Controller: **{}**. Policy version {}, effective {}.",
        p.controller.name, h.version, h.effective
    )?;
    if let Some(review) = h.next_review {
        writeln!(o, "Next review: {review}.")?;
    }
    if let Some(source) = &h.source {
        writeln!(o, "Original text: {source} (language: {}).", h.language)?;
    }

    writeln!(o, "\n## Which calls are recorded\n")?;
    let dirs: Vec<&str> = p.recording.directions.iter().map(|d| direction_word(*d)).collect();
    writeln!(o, "- Recorded calls: {} calls.", dirs.join(" and "))?;
    for source in &p.recording.transfer_sources {
        writeln!(o, "- Calls transferred in from {source} are recorded too.")?;
    }
    if p.recording.answered_span_only {
        writeln!(
            o,
            "- Recording starts when the call is answered and ends when the call ends."
        )?;
    }
    if p.recording.flag_withheld_caller_id {
        writeln!(
            o,
            "- We never hide our identity when we call; an outbound call with a withheld caller ID is flagged."
        )?;
    }
    if p.consent.enablement == Enablement::TenantOptIn {
        writeln!(
            o,
            "- Recording is an optional feature: it is off until a customer enables it on its plan."
        )?;
        if p.recording.provider_own_lines {
            writeln!(o, "- The provider itself may record calls to and from its own numbers.")?;
        }
    }

    writeln!(o, "\n## Purposes\n")?;
    writeln!(o, "Recordings are used only for these purposes:\n")?;
    for purpose in &p.purposes {
        write!(o, "- **{}** (`{}`)", purpose.description, purpose.id)?;
        if let Some(r) = purpose.retention {
            write!(o, "; kept {r}")?;
        }
        if purpose.pseudonymised_only {
            write!(
                o,
                "; only pseudonymised recordings are used: direct identifiers such as names are removed"
            )?;
        }
        if purpose.publication {
            write!(
                o,
                "; published only with all personally identifiable information removed"
            )?;
        }
        writeln!(o)?;
    }

    writeln!(o, "\n## Legal basis and consent\n")?;
    let basis = match p.consent.legal_basis {
        LegalBasis::Consent => "your consent",
        LegalBasis::LegitimateInterest => "our legitimate interest",
        LegalBasis::Contract => "the performance of a contract",
        LegalBasis::LegalObligation => "a legal obligation",
    };
    writeln!(o, "- Legal basis: {basis}.")?;
    match p.consent.mechanism {
        ConsentMechanism::None => writeln!(o, "- No announcement or prompt is used during the call.")?,
        ConsentMechanism::Notice => writeln!(
            o,
            "- A notification is played to all parties that the call is being recorded; continuing the call implies consent."
        )?,
        ConsentMechanism::DtmfOptIn => {
            let accept = p.consent.accept_digit.unwrap_or('1');
            write!(
                o,
                "- You are asked whether the call may be recorded: press {accept} to consent"
            )?;
            if let Some(decline) = p.consent.decline_digit {
                write!(o, ", press {decline} to refuse")?;
            }
            writeln!(
                o,
                ". Recording starts only after you press {accept}; otherwise nothing is recorded."
            )?;
        }
        ConsentMechanism::ClientSignalled => writeln!(
            o,
            "- Your consent is collected before the call is connected; without it nothing is recorded."
        )?,
    }
    // Under an opt-in mechanism the caller's choice is the prompt itself; "no opt-out"
    // would read as "you cannot refuse".
    let opt_in = matches!(
        p.consent.mechanism,
        ConsentMechanism::DtmfOptIn | ConsentMechanism::ClientSignalled
    );
    if !p.consent.in_call_opt_out && !opt_in {
        writeln!(o, "- There is no opt-out during the call.")?;
    }
    if let Some(alt) = &p.consent.opt_out_alternative {
        writeln!(o, "- If you do not want to be recorded: {alt}")?;
    }
    if p.consent.withdrawal_erases {
        writeln!(
            o,
            "- You may withdraw your consent at any time; the recording is then deleted at once."
        )?;
    }
    if let Some(text) = &p.consent.announcement {
        writeln!(o, "\nThe announcement:\n\n> {}", text.trim().replace('\n', "\n> "))?;
    }

    writeln!(o, "\n## What is kept\n")?;
    for field in &p.catalog.fields {
        writeln!(o, "- {}", field_words(*field, p))?;
    }

    writeln!(o, "\n## Retention\n")?;
    match p.retention.default {
        crate::Retention::TenantSet => writeln!(
            o,
            "- Recordings are kept for the period each customer sets, as required by applicable law, and then securely deleted."
        )?,
        crate::Retention::Fixed(d) => writeln!(o, "- Recordings are kept for {d} and then deleted.")?,
    }
    if p.retention.automatic_deletion {
        writeln!(o, "- Deletion is automatic and irreversible, also for backups.")?;
    }

    writeln!(o, "\n## Where recordings are stored\n")?;
    if p.residency.on_premises {
        writeln!(o, "- On {}'s own network.", p.controller.name)?;
    }
    if !p.residency.regions.is_empty() {
        let names: Vec<&str> = p.residency.regions.iter().map(|r| region_name(r)).collect();
        writeln!(
            o,
            "- Only in: {}. Recordings are not transferred elsewhere.",
            names.join(", ")
        )?;
    }
    if p.residency.regions.is_empty() && !p.residency.on_premises {
        writeln!(o, "- The policy does not restrict where recordings are stored.")?;
    }

    writeln!(o, "\n## Who can access recordings\n")?;
    for rule in &p.access.rules {
        let roles: Vec<String> = rule.roles.iter().map(|r| role_name(p, r)).collect();
        let actions: Vec<&str> = rule.actions.iter().map(|a| action_word(*a)).collect();
        let scope = match rule.scope {
            Scope::Own => "their own calls",
            Scope::Team => "the calls of the team they manage",
            Scope::Tenant => "all recordings",
        };
        write!(o, "- {}: {} — {scope}", roles.join(", "), actions.join(", "))?;
        if rule.requires_grant {
            write!(o, ", only with an access grant")?;
        }
        writeln!(o, ".")?;
    }
    writeln!(o, "- Nobody else has access.")?;
    if let Some(issuer) = &p.access.grants_issued_by {
        writeln!(
            o,
            "- Access is controlled by the {}, who grants it.",
            role_name(p, issuer)
        )?;
    }
    if p.access.training_required {
        writeln!(o, "- Everyone with access must have completed training first.")?;
    }
    if p.access.search_requires_reason {
        writeln!(
            o,
            "- Searching recordings without a valid reason is not allowed; every search records its reason."
        )?;
    }
    if p.access.alert_on_denied {
        writeln!(o, "- Unauthorised access attempts are reported and followed up.")?;
    }

    writeln!(o, "\n## Sharing\n")?;
    if !p.sharing.third_parties {
        writeln!(o, "- Recordings are never shared, rented or sold to third parties.")?;
    }
    if !p.sharing.direct_marketing {
        writeln!(o, "- Recordings are not used for direct marketing.")?;
    }
    if p.sharing.to_authority_when_required_by_law {
        writeln!(
            o,
            "- They are disclosed to an authority only where the law requires it."
        )?;
    }
    if !p.marketing.screening_registers.is_empty() {
        let regs: Vec<String> = p
            .marketing
            .screening_registers
            .iter()
            .map(|r| r.to_uppercase())
            .collect();
        writeln!(
            o,
            "- Every number we call is checked against the {} registers.",
            regs.join(" and ")
        )?;
        if p.marketing.no_unsolicited_calls_to_listed {
            writeln!(
                o,
                "- We make no unsolicited sales or marketing calls to registered numbers."
            )?;
        }
    }

    writeln!(o, "\n## Your rights\n")?;
    for req in &p.rights.requests {
        let how = match req.fulfilment {
            Fulfilment::Copy => "you receive a copy",
            Fulfilment::SupervisedPlayback => "you listen to the recording at our premises",
            Fulfilment::Statement => "we answer in writing",
            Fulfilment::Erase => "the recording is erased",
            Fulfilment::Freeze => "use of the recording is stopped; it is kept",
        };
        write!(o, "- {}: {how}", request_word(req.kind))?;
        if req.in_writing {
            write!(o, " (request in writing)")?;
        }
        writeln!(o, ".")?;
    }
    writeln!(
        o,
        "- Requests are handled by the {} and answered within {} days.",
        role_name(p, &p.rights.handled_by),
        p.rights.due_days
    )?;
    if p.rights.identity_proof {
        writeln!(o, "- Proof of identity is required before anything is shared.")?;
    }
    if !p.rights.request_must_include.is_empty() {
        writeln!(o, "- Please include: {}.", p.rights.request_must_include.join(", "))?;
    }
    if p.rights.copy_requires_all_parties_consent {
        writeln!(
            o,
            "- A copy is released only after every party on the call has consented."
        )?;
        if p.rights.own_voice_copy_allowed {
            writeln!(o, "- Otherwise you may receive a copy of your own voice only.")?;
        }
    }
    if p.rights.erasure_denial_notifies_authority {
        writeln!(
            o,
            "- If an erasure request is denied, the reasons are given and the supervisory authority is notified."
        )?;
    }
    let channels: Vec<&str> = p.rights.channels.iter().map(|c| channel_word(*c)).collect();
    writeln!(o, "- Requests can be made by {}.", channels.join(", "))?;
    if let Some(contact) = &p.rights.contact {
        writeln!(o, "- Send requests to: {contact}")?;
    }

    writeln!(o, "\n## Contact\n")?;
    writeln!(o, "- {}", p.controller.name)?;
    if let Some(address) = &p.controller.address {
        writeln!(o, "- Address: {address}")?;
    }
    for contact in &p.controller.contacts {
        writeln!(o, "- {contact}")?;
    }
    if let Some(dpo) = &p.controller.data_protection_officer {
        writeln!(o, "- Data protection officer: {dpo}")?;
    }
    if let Some(authority) = &p.controller.supervisory_authority {
        writeln!(o, "- You may complain to the supervisory authority: {authority}")?;
    }
    // A blank line first: without it Markdown would fold the paragraph into the contact list.
    if p.changes.approved_by.is_some() || p.changes.published_at.is_some() {
        writeln!(o)?;
    }
    if let Some(approver) = &p.changes.approved_by {
        writeln!(
            o,
            "Changes to this policy are approved by the {}.",
            role_name(p, approver)
        )?;
    }
    if let Some(place) = &p.changes.published_at {
        writeln!(o, "Changes are published {place}.")?;
    }
    Ok(())
}

fn role_name(p: &Policy, id: &str) -> String {
    p.access
        .roles
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.description.clone())
        .unwrap_or_else(|| id.replace('-', " "))
}

fn region_name(region: &str) -> &str {
    match region {
        "uk" => "the United Kingdom",
        "eu-eea" => "the EU/EEA",
        other => other,
    }
}

fn field_words(field: CatalogField, p: &Policy) -> String {
    match field {
        CatalogField::StartedAt => "the call's start time".into(),
        CatalogField::EndedAt => "the call's end time".into(),
        CatalogField::Duration => "the call's duration".into(),
        CatalogField::ServiceNumber => "our service number".into(),
        CatalogField::CustomerNumber => match p.catalog.customer_number {
            NumberDisplay::Full => "the customer's phone number".into(),
            NumberDisplay::Masked => {
                format!(
                    "the customer's phone number with the last {} digits masked",
                    p.catalog.mask_last_digits
                )
            }
        },
        CatalogField::CustomerName => "the customer's name".into(),
        CatalogField::AgentName => "the name of the employee who answered or made the call".into(),
        CatalogField::Audio => "the conversation as a voice recording".into(),
    }
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Metadata => "see the register",
        Action::Search => "search",
        Action::Listen => "listen",
        Action::Download => "download",
        Action::Export => "export",
        Action::Delete => "delete",
    }
}

fn request_word(kind: RequestType) -> &'static str {
    match kind {
        RequestType::Information => "Information about the processing",
        RequestType::Access => "Access to your recording",
        RequestType::Copy => "A copy of a recording",
        RequestType::Rectification => "Rectification",
        RequestType::Completion => "Completion",
        RequestType::Erasure => "Erasure",
        RequestType::Portability => "Portability",
        RequestType::Restriction => "Restriction of processing",
        RequestType::Objection => "Objection (a ban on use)",
        RequestType::ConsentWithdrawal => "Withdrawal of consent",
    }
}

fn channel_word(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Phone => "phone",
        Channel::Post => "post",
        Channel::Web => "the web",
        Channel::InPerson => "visiting in person",
    }
}
