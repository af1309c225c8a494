//! `callvault policy ...`.

use std::path::Path;

use anyhow::Context;
use governance::Actor;

use crate::cli::PolicyCommand;
use crate::config::Settings;

fn read_policy(file: &Path) -> anyhow::Result<(String, ::policy::Policy)> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.display().to_string();
    let policy = service::parse_policy_checked(&name, &text)?;
    Ok((text, policy))
}

/// `check` and `render` need no data directory.
pub fn run_offline(command: &PolicyCommand) -> Option<anyhow::Result<()>> {
    match command {
        PolicyCommand::Check { file, now } => Some((|| {
            let (_, policy) = read_policy(file)?;
            let at = match now {
                Some(text) => super::parse_time("--now", text)?,
                None => super::now(),
            };
            super::warn_review(&policy, at);
            println!(
                "{}: ok: policy {} version {} ({} purposes, retention {})",
                file.display(),
                policy.policy.id,
                policy.policy.version,
                policy.purposes.len(),
                policy.retention.default
            );
            Ok(())
        })()),
        PolicyCommand::Render { file } => Some((|| {
            let (_, policy) = read_policy(file)?;
            print!("{}", ::policy::render_notice(&policy));
            Ok(())
        })()),
        _ => None,
    }
}

pub async fn run(settings: &Settings, command: PolicyCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    match command {
        PolicyCommand::Update { tenant, file } => {
            let (text, policy) = read_policy(&file)?;
            let record = service
                .update_policy(
                    &tenant,
                    &file.display().to_string(),
                    &text,
                    &Actor::LocalAdministrator,
                    now,
                )
                .await?;
            super::warn_review(&policy, now);
            println!(
                "tenant {tenant}: policy {} version {} is active",
                record.policy_id, record.version
            );
        }
        PolicyCommand::Versions { tenant, json } => {
            let versions = service.policy_versions(&tenant).await?;
            if json {
                let out: Vec<_> = versions
                    .iter()
                    .map(|v| {
                        serde_json::json!({
                            "version": v.version, "policy_id": v.policy_id, "document_version": v.document_version,
                            "state": v.state.as_str(), "sha256": v.sha256, "created_at": v.created_at,
                            "created_by": v.created_by, "approved_at": v.approved_at, "approved_by": v.approved_by,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for v in versions {
                    println!(
                        "{:>3}  {:<10}  {}  {}  approved by {}",
                        v.version,
                        v.state.as_str(),
                        v.created_at.format("%Y-%m-%d %H:%M"),
                        v.document_version,
                        v.approved_by.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        PolicyCommand::Show { tenant, number } => {
            print!("{}", service.policy_version(&tenant, number).await?.source_text);
        }
        PolicyCommand::Check { .. } | PolicyCommand::Render { .. } => unreachable!("handled offline"),
    }
    service.close().await;
    Ok(())
}
