//! `callvault policy ...`: check, render, and the versions of a tenant's policy: proposed
//! by `update`, put into effect by `approve` (ARLO-PURPOSE-CHANGE, ALL-VERSION).

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use governance::Actor;

use super::authenticate::authenticate;
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

pub async fn run(settings: &Settings, as_user: Option<&str>, command: PolicyCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = run_with(&service, as_user, command, now).await;
    service.close().await;
    result
}

async fn run_with(
    service: &service::Service,
    as_user: Option<&str>,
    command: PolicyCommand,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Update { tenant, file, json } => {
            let (text, policy) = read_policy(&file)?;
            // The author is recorded; `--as` names them, else the local administrator.
            let actor = match as_user {
                Some(_) => Actor::from(authenticate(service, as_user, "policy update", now).await?),
                None => Actor::LocalAdministrator,
            };
            let view = service
                .update_policy(&tenant, &file.display().to_string(), &text, &actor, now)
                .await?;
            super::warn_review(&policy, now);
            if json {
                println!("{}", serde_json::to_string_pretty(&version_json(&view))?);
            } else {
                let role = view.change.as_ref().map_or("-", |c| c.approver_role.as_str());
                println!(
                    "tenant {tenant}: policy {} version {} is pending: it takes effect once a user with role {role} approves it (callvault policy approve {tenant} {} --as USER)",
                    view.record.policy_id, view.record.version, view.record.version
                );
                print_diff(&view);
            }
        }
        PolicyCommand::Approve { tenant, number, json } => {
            let principal = authenticate(service, as_user, "policy approve", now).await?;
            let view = service.approve_policy(&tenant, number, &principal, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&version_json(&view))?);
            } else {
                println!(
                    "tenant {tenant}: policy {} version {} is active, approved by {}",
                    view.record.policy_id,
                    view.record.version,
                    view.record.approved_by.as_deref().unwrap_or("-")
                );
            }
            let policy = ::policy::parse_policy(&view.record.source_file, &view.record.source_text)?;
            super::warn_review(&policy, now);
        }
        PolicyCommand::Reject { tenant, number, reason } => {
            let principal = authenticate(service, as_user, "policy reject", now).await?;
            let view = service
                .reject_policy(&tenant, number, &principal, reason.as_deref(), now)
                .await?;
            println!(
                "tenant {tenant}: policy {} version {} is rejected and will not take effect",
                view.record.policy_id, view.record.version
            );
        }
        PolicyCommand::Versions { tenant, json } => {
            let versions = service.policy_versions(&tenant).await?;
            if json {
                let out: Vec<_> = versions.iter().map(version_json).collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for v in &versions {
                    let decided = match (
                        &v.record.approved_by,
                        v.change.as_ref().and_then(|c| c.decided_by.as_ref()),
                    ) {
                        (Some(by), _) => format!("approved by {by}"),
                        (None, Some(by)) => format!("rejected by {by}"),
                        (None, None) => format!(
                            "awaiting role {}",
                            v.change.as_ref().map_or("-", |c| c.approver_role.as_str())
                        ),
                    };
                    println!(
                        "{:>3}  {:<10}  {}  {}  {decided}",
                        v.record.version,
                        v.state(),
                        v.record.created_at.format("%Y-%m-%d %H:%M"),
                        v.record.document_version,
                    );
                    print_diff(v);
                }
            }
        }
        PolicyCommand::Show { tenant, number, json } => {
            let view = service.policy_version_view(&tenant, number).await?;
            if json {
                let mut out = version_json(&view);
                out["source_text"] = serde_json::json!(view.record.source_text);
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print!("{}", view.record.source_text);
            }
        }
        PolicyCommand::Check { .. } | PolicyCommand::Render { .. } => unreachable!("handled offline"),
    }
    Ok(())
}

/// A version as `policy versions --json` and `policy show --json` print it.
fn version_json(v: &service::PolicyVersionView) -> serde_json::Value {
    let r = &v.record;
    let change = v.change.as_ref().map(|c| {
        serde_json::json!({
            "from_version": c.from_version, "approver_role": c.approver_role, "diff": v.diff,
            "decision": c.decision.map(|d| d.as_str()), "decided_at": c.decided_at,
            "decided_by": c.decided_by, "reason": c.reason,
        })
    });
    serde_json::json!({
        "version": r.version, "policy_id": r.policy_id, "document_version": r.document_version,
        "state": v.state(), "sha256": r.sha256, "created_at": r.created_at,
        "created_by": r.created_by, "approved_at": r.approved_at, "approved_by": r.approved_by,
        "change": change,
    })
}

/// The change a version makes, one line each, indented under it.
fn print_diff(v: &service::PolicyVersionView) {
    if v.change.is_none() {
        return;
    }
    if v.diff.is_empty() {
        println!("       (no change to purposes, retention or access)");
    }
    for change in &v.diff.changes {
        println!("       {change}");
    }
}
