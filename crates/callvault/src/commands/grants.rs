//! `callvault grant ...` (access grants, ARLO-GRANTS) and `callvault token ...` (API
//! bearer tokens), acting `--as` an authenticated user.

use anyhow::Context;
use chrono::{DateTime, Utc};
use governance::identity::{AccessGrant, GrantScope, Grantee};
use service::identities::GrantRequest;

use super::authenticate::authenticate;
use crate::cli::{GrantCommand, TokenCommand};
use crate::config::Settings;

/// `--expires`: an RFC 3339 time, or a duration from now such as "30 days".
fn parse_expiry(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let duration: policy::PolicyDuration = text
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--expires: not an RFC 3339 time, and {e}"))?;
    duration.after(now).context("--expires: too far in the future")
}

fn grant_json(g: &AccessGrant, now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "id": g.id, "tenant": g.tenant, "grantee": g.grantee, "scope": g.scope.to_string(), "purpose": g.purpose,
        "issued_by": g.issued_by, "issued_at": g.issued_at, "expires_at": g.expires_at,
        "revoked_at": g.revoked_at, "revoked_by": g.revoked_by, "state": g.state(now),
    })
}

pub async fn grant(settings: &Settings, as_user: Option<&str>, command: GrantCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = async {
        let principal = authenticate(&service, as_user, "grant", now).await?;
        match command {
            GrantCommand::Add {
                to,
                role,
                scope,
                purpose,
                expires,
                tenant,
                json,
            } => {
                let grantee = match (to, role) {
                    (Some(user), None) => Grantee::User(user),
                    (None, Some(role)) => Grantee::Role(role),
                    _ => anyhow::bail!("give exactly one of --to USER and --role ROLE"),
                };
                let scope: GrantScope = scope.parse().map_err(service::ServiceError::from)?;
                let tenant = tenant.unwrap_or_else(|| principal.tenant.clone());
                let request = GrantRequest {
                    tenant: &tenant,
                    grantee,
                    scope,
                    purpose: &purpose,
                    expires_at: parse_expiry(&expires, now)?,
                };
                let grant = service.add_grant(&principal, &request, now).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&grant_json(&grant, now))?);
                } else {
                    println!("{}", grant.id);
                }
            }
            GrantCommand::List { tenant, json } => {
                let tenant = tenant.unwrap_or_else(|| principal.tenant.clone());
                let grants = service.list_grants(&principal, &tenant, now).await?;
                if json {
                    let out: Vec<_> = grants.iter().map(|g| grant_json(g, now)).collect();
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else {
                    for g in grants {
                        let to = match &g.grantee {
                            Grantee::User(name) => format!("user:{name}"),
                            Grantee::Role(role) => format!("role:{role}"),
                        };
                        println!(
                            "{} {:<8} {:<24} {:<20} {:<16} until {}",
                            g.id,
                            g.state(now).as_str(),
                            to,
                            g.scope,
                            g.purpose,
                            g.expires_at.format("%Y-%m-%dT%H:%M:%SZ")
                        );
                    }
                }
            }
            GrantCommand::Revoke { id } => {
                service.revoke_grant(&principal, &id, now).await?;
                println!("grant {id} revoked");
            }
        }
        anyhow::Ok(())
    }
    .await;
    service.close().await;
    result
}

pub async fn token(settings: &Settings, as_user: Option<&str>, command: TokenCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = async {
        let principal = authenticate(&service, as_user, "token", now).await?;
        match command {
            TokenCommand::Create { expires, label, json } => {
                let expires_at = expires.map(|e| parse_expiry(&e, now)).transpose()?;
                let token = service
                    .create_api_token(&principal, expires_at, label.as_deref(), now)
                    .await?;
                if json {
                    let out = serde_json::json!({
                        "id": token.id, "token": token.value.expose(), "kind": token.kind,
                        "expires_at": token.expires_at,
                    });
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else {
                    println!("{}", token.value.expose());
                    eprintln!(
                        "token {} for {} until {}; it is shown only now",
                        token.id,
                        principal.actor(),
                        token.expires_at.format("%Y-%m-%dT%H:%M:%SZ")
                    );
                }
            }
            TokenCommand::Revoke { id } => {
                service.revoke_token(&principal, &id, now).await?;
                println!("token {id} revoked");
            }
        }
        anyhow::Ok(())
    }
    .await;
    service.close().await;
    result
}
