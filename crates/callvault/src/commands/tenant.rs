//! `callvault tenant ...`.

use anyhow::Context;
use governance::Actor;
use service::TenantChange;

use crate::cli::{OnOff, TenantCommand};
use crate::config::Settings;

fn tenant_json(t: &vault::TenantRecord) -> serde_json::Value {
    serde_json::json!({
        "name": t.name, "policy_id": t.policy_id, "recording_enabled": t.recording_enabled,
        "retention": t.retention, "service_numbers": t.service_numbers, "agent_patterns": t.agent_patterns,
        "country": t.country, "provider": t.provider, "created_at": t.created_at,
    })
}

pub async fn run(settings: &Settings, command: TenantCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let actor = Actor::LocalAdministrator;
    match command {
        TenantCommand::Create { name, policy } => {
            let text = std::fs::read_to_string(&policy).with_context(|| format!("cannot read {}", policy.display()))?;
            let tenant = service
                .create_tenant(&name, &policy.display().to_string(), &text, &actor, now)
                .await?;
            let (parsed, _) = service.active_policy(&name).await?;
            super::warn_review(&parsed, now);
            println!(
                "tenant {} created with policy {} (version 1); recording {}",
                tenant.name,
                tenant.policy_id,
                if tenant.recording_enabled {
                    "on"
                } else {
                    "off until enabled (tenant set --recording on)"
                }
            );
        }
        TenantCommand::Set {
            name,
            recording,
            retention,
            service_numbers,
            agent_pattern,
            country,
            provider,
        } => {
            let change = TenantChange {
                recording_enabled: recording.map(|r| matches!(r, OnOff::On)),
                retention,
                service_numbers,
                agent_patterns: agent_pattern,
                country,
                provider: provider.map(|p| matches!(p, OnOff::On)),
            };
            let tenant = service.set_tenant(&name, change, &actor, now).await?;
            println!("{}", serde_json::to_string_pretty(&tenant_json(&tenant))?);
        }
        TenantCommand::List { json } => {
            let tenants = service.tenants().await?;
            if json {
                let out: Vec<_> = tenants.iter().map(tenant_json).collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for t in tenants {
                    println!(
                        "{:<24} {:<20} recording {}",
                        t.name,
                        t.policy_id,
                        if t.recording_enabled { "on" } else { "off" }
                    );
                }
            }
        }
        TenantCommand::Show { name, json } => {
            let tenant = service.tenant(&name).await?;
            let (policy, record) = service.active_policy(&name).await?;
            let review = ::policy::review_status(&policy, now.date_naive());
            let mut out = tenant_json(&tenant);
            out["policy_version"] = serde_json::json!(record.version);
            out["review"] = serde_json::to_value(review)?;
            println!("{}", serde_json::to_string_pretty(&out)?);
            if !json {
                super::warn_review(&policy, now);
            }
        }
    }
    service.close().await;
    Ok(())
}
