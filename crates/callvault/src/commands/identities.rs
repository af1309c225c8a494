//! `callvault admin init`, `user ...`, `team ...` and `attest ...`: people, teams and
//! training. Every command but `admin init` acts `--as` an authenticated user.

use anyhow::Context;
use chrono::NaiveDate;
use governance::identity::{Principal, Secret};
use service::identities::UserRequest;

use super::authenticate::{acting_password, authenticate, read_secret_line};
use crate::cli::{AdminCommand, AttestCommand, TeamCommand, UserCommand};
use crate::config::Settings;

fn user_json(r: &vault::UserRecord) -> serde_json::Value {
    serde_json::json!({
        "tenant": r.user.tenant, "name": r.user.name, "roles": r.user.roles, "team": r.user.team,
        "status": r.user.status, "password": r.password_hash.is_some(), "created_at": r.created_at,
        "created_by": r.created_by,
    })
}

/// The new password of `admin init` / `user add`: stdin's first line with
/// `--password-stdin`, else (for `admin init`) `CALLVAULT_PASSWORD` or a prompt.
fn new_password(from_stdin: bool, who: &str) -> anyhow::Result<Secret> {
    if from_stdin {
        read_secret_line(&mut std::io::stdin().lock())
    } else {
        acting_password(who)
    }
}

/// The tenant a command acts on: `--tenant`, else the acting user's.
fn tenant_or_own(tenant: Option<String>, principal: &Principal) -> String {
    tenant.unwrap_or_else(|| principal.tenant.clone())
}

pub async fn admin(settings: &Settings, command: AdminCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = match command {
        AdminCommand::Init {
            name,
            tenant,
            password_stdin,
        } => {
            async {
                let password = new_password(password_stdin, &format!("{tenant}/{name}"))?;
                let record = service.init_administrator(&tenant, &name, &password, now).await?;
                println!(
                    "administrator {} of tenant {} created",
                    record.user.name, record.user.tenant
                );
                anyhow::Ok(())
            }
            .await
        }
    };
    service.close().await;
    result
}

pub async fn user(settings: &Settings, as_user: Option<&str>, command: UserCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = async {
        let principal = authenticate(&service, as_user, "user", now).await?;
        match command {
            UserCommand::Add {
                name,
                tenant,
                role,
                team,
                agent_id,
                password_stdin,
            } => {
                let password = if password_stdin {
                    Some(read_secret_line(&mut std::io::stdin().lock())?)
                } else {
                    None
                };
                let tenant = tenant_or_own(tenant, &principal);
                let request = UserRequest {
                    tenant: &tenant,
                    name: &name,
                    roles: &role,
                    team: team.as_deref(),
                    password: password.as_ref(),
                };
                let record = service.add_user(&principal, &request, now).await?;
                if !agent_id.is_empty() {
                    service
                        .set_agent_aliases(&principal, &tenant, &name, &agent_id, now)
                        .await?;
                }
                println!(
                    "user {} added to tenant {} with roles {}",
                    record.user.name,
                    record.user.tenant,
                    record.user.roles.join(", ")
                );
            }
            UserCommand::List { tenant, json } => {
                let tenant = tenant_or_own(tenant, &principal);
                let users = service.list_users(&principal, &tenant, now).await?;
                if json {
                    let out: Vec<_> = users.iter().map(user_json).collect();
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else {
                    for r in users {
                        println!(
                            "{:<24} {:<8} {:<16} {}",
                            r.user.name,
                            r.user.status.as_str(),
                            r.user.team.as_deref().unwrap_or("-"),
                            r.user.roles.join(",")
                        );
                    }
                }
            }
            UserCommand::AgentIds { name, tenant, aliases } => {
                let tenant = tenant_or_own(tenant, &principal);
                service
                    .set_agent_aliases(&principal, &tenant, &name, &aliases, now)
                    .await?;
                println!("user {name} is the agent named {}", aliases.join(", "));
            }
            UserCommand::Lock { name, tenant } => {
                let tenant = tenant_or_own(tenant, &principal);
                service.set_user_locked(&principal, &tenant, &name, true, now).await?;
                println!("user {name} locked; their tokens and sessions have ended");
            }
            UserCommand::Passwd {
                name,
                tenant,
                password_stdin,
            } => {
                let password = if password_stdin {
                    read_secret_line(&mut std::io::stdin().lock())?
                } else {
                    super::authenticate::prompt_secret(&format!("new password for {name}: "))?
                };
                let tenant = tenant_or_own(tenant, &principal);
                service.set_password(&principal, &tenant, &name, &password, now).await?;
                println!("password of {name} set; their tokens and sessions have ended");
            }
            UserCommand::Unlock { name, tenant } => {
                let tenant = tenant_or_own(tenant, &principal);
                service.set_user_locked(&principal, &tenant, &name, false, now).await?;
                println!("user {name} unlocked");
            }
        }
        anyhow::Ok(())
    }
    .await;
    service.close().await;
    result
}

pub async fn team(settings: &Settings, as_user: Option<&str>, command: TeamCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = async {
        let principal = authenticate(&service, as_user, "team", now).await?;
        match command {
            TeamCommand::Add { name, tenant } => {
                let tenant = tenant_or_own(tenant, &principal);
                service.add_team(&principal, &tenant, &name, now).await?;
                println!("team {name} added to tenant {tenant}");
            }
            TeamCommand::SetManager { team, user, tenant } => {
                let tenant = tenant_or_own(tenant, &principal);
                service.set_team_manager(&principal, &tenant, &team, &user, now).await?;
                println!("{user} manages team {team}");
            }
            TeamCommand::Move { user, to, at, tenant } => {
                let tenant = tenant_or_own(tenant, &principal);
                let at = at.map(|t| super::parse_time("--at", &t)).transpose()?;
                let from = service.move_to_team(&principal, &tenant, &user, &to, at, now).await?;
                println!(
                    "{user} moved from {} to team {to}",
                    from.as_deref().unwrap_or("no team")
                );
            }
            TeamCommand::List { tenant, json } => {
                let tenant = tenant_or_own(tenant, &principal);
                let teams = service.list_teams(&principal, &tenant, now).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&teams)?);
                } else {
                    for t in teams {
                        println!(
                            "{:<24} managers: {:<24} members: {}",
                            t.name,
                            t.managers.join(","),
                            t.members.join(",")
                        );
                    }
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    service.close().await;
    result
}

pub async fn attest(settings: &Settings, as_user: Option<&str>, command: AttestCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = async {
        let principal = authenticate(&service, as_user, "attest", now).await?;
        match command {
            AttestCommand::Add {
                user,
                training,
                date,
                tenant,
            } => {
                let day = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                    .with_context(|| format!("--date: {date:?} is not a date such as 2026-11-23"))?;
                let tenant = tenant_or_own(tenant, &principal);
                let a = service
                    .add_attestation(&principal, &tenant, &user, &training, day, now)
                    .await?;
                println!(
                    "training {:?} of {} on {} recorded ({})",
                    a.training, a.user, a.completed_on, a.id
                );
            }
            AttestCommand::List { tenant, json } => {
                let tenant = tenant_or_own(tenant, &principal);
                let list = service.list_attestations(&principal, &tenant, now).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&list)?);
                } else {
                    for a in list {
                        println!("{:<24} {} {}", a.user, a.completed_on, a.training);
                    }
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    service.close().await;
    result
}
