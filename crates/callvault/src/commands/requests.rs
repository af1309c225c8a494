//! `callvault request ...`: data-subject requests, acting `--as` the person who holds the
//! role the tenant's policy names (`rights.handled_by`); and the deadline worker that
//! `serve` runs (WEBEO-30DAYS).

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime};
use service::bundle::Bundle;
use service::{DecisionInput, OpenRequest, RequestView, SubjectSearch};

use super::authenticate::authenticate;
use super::{now, open_service, parse_time};
use crate::cli::RequestCommand;
use crate::config::Settings;

/// How often the deadline worker looks for requests that became overdue.
pub const DEADLINE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub async fn run(settings: &Settings, as_user: Option<&str>, command: RequestCommand) -> anyhow::Result<()> {
    let service = open_service(settings).await?;
    let result = run_with(&service, as_user, command).await;
    service.close().await;
    result
}

fn print_view(view: &RequestView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(view)?);
        return Ok(());
    }
    let overdue = if view.overdue { "  OVERDUE" } else { "" };
    println!(
        "{}  {}  {}  received {}  due {}{overdue}",
        view.id,
        view.kind,
        view.state,
        view.received_at.to_rfc3339(),
        view.due_on
    );
    for r in &view.recordings {
        println!(
            "  recording {}  {}  {}{}{}",
            r.recording_id,
            r.started_at.to_rfc3339(),
            r.decision.unwrap_or("undecided"),
            r.deny_reason.map(|x| format!(" ({x})")).unwrap_or_default(),
            r.outcome.as_deref().map(|o| format!("  -> {o}")).unwrap_or_default()
        );
    }
    for p in &view.playback_sessions {
        println!(
            "  playback {}  recording {}  {}  opened by {} at {}",
            p.id,
            p.recording_id,
            p.state,
            p.opened_by,
            p.opened_at.to_rfc3339()
        );
    }
    if let Some(n) = &view.authority_notification {
        println!("  notified {}: erasure denied ({})", n.authority, n.reasons.join(", "));
    }
    Ok(())
}

fn print_list(views: &[RequestView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(views)?);
        return Ok(());
    }
    for v in views {
        let overdue = if v.overdue { "  OVERDUE" } else { "" };
        println!(
            "{}  {}  {}  {}  due {}{overdue}",
            v.id, v.tenant, v.kind, v.state, v.due_on
        );
    }
    Ok(())
}

/// Writes a bundle into a new directory `out` (through a temporary sibling renamed
/// into place, so a failure leaves nothing half written).
fn write_bundle(bundle: &Bundle, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!("--out {}: already exists", out.display());
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out.file_name().context("--out: not a directory name")?;
    let partial = parent.join(format!(".{}.partial", name.to_string_lossy()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    for file in &bundle.files {
        let path = partial.join(&file.name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &file.bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    std::fs::rename(&partial, out).with_context(|| format!("cannot move the bundle to {}", out.display()))?;
    Ok(())
}

async fn run_with(service: &service::Service, as_user: Option<&str>, command: RequestCommand) -> anyhow::Result<()> {
    let at = now();
    let principal = authenticate(service, as_user, "request", at).await?;
    match command {
        RequestCommand::Open {
            tenant,
            kind,
            channel,
            requester,
            numbers,
            received_at,
            json,
        } => {
            let received_at = received_at.map(|t| parse_time("--received-at", &t)).transpose()?;
            let tenant = tenant.unwrap_or_else(|| principal.tenant.clone());
            let open = OpenRequest {
                tenant: &tenant,
                kind: &kind,
                channel: &channel,
                requester: &requester,
                numbers: &numbers,
                received_at,
            };
            let view = service.open_request(&principal, &open, at).await?;
            if json {
                print_view(&view, true)?;
            } else {
                println!("{}", view.id);
            }
        }
        RequestCommand::Verify { id, method, json } => {
            print_view(&service.verify_request(&principal, &id, &method, at).await?, json)?;
        }
        RequestCommand::Search {
            id,
            numbers,
            date,
            time,
            window_minutes,
            json,
        } => {
            let date = date
                .map(|d| {
                    NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                        .with_context(|| format!("--date {d:?}: expected YYYY-MM-DD"))
                })
                .transpose()?;
            let time = time
                .map(|t| {
                    NaiveTime::parse_from_str(&t, "%H:%M").with_context(|| format!("--time {t:?}: expected HH:MM"))
                })
                .transpose()?;
            let search = SubjectSearch {
                numbers: &numbers,
                date,
                time,
                window_minutes,
            };
            print_view(&service.search_request(&principal, &id, &search, at).await?, json)?;
        }
        RequestCommand::Decide {
            id,
            recording,
            fulfil,
            deny,
            json,
        } => {
            let decision = match (fulfil, deny.as_deref()) {
                (true, None) => DecisionInput::Fulfil,
                (false, Some(reason)) => DecisionInput::Deny(reason),
                _ => anyhow::bail!("give exactly one of --fulfil and --deny REASON"),
            };
            print_view(
                &service
                    .decide_request(&principal, &id, &recording, decision, at)
                    .await?,
                json,
            )?;
        }
        RequestCommand::Consent {
            id,
            recording,
            participant,
            evidence,
            json,
        } => {
            let view = service
                .record_copy_consent(&principal, &id, &recording, &participant, &evidence, at)
                .await?;
            print_view(&view, json)?;
        }
        RequestCommand::Fulfil { id, out, json } => {
            let out = out.unwrap_or_else(|| PathBuf::from(format!("request-{id}")));
            if out.exists() {
                anyhow::bail!("--out {}: already exists", out.display());
            }
            let done = service.fulfil_request(&principal, &id, at).await?;
            if let Some(bundle) = &done.bundle {
                write_bundle(bundle, &out)?;
                if !json {
                    println!("copy for the data subject written to {}", out.display());
                }
            }
            print_view(&done.request, json)?;
        }
        RequestCommand::LiftRestriction { id, json } => {
            print_view(&service.lift_request_restrictions(&principal, &id, at).await?, json)?;
        }
        RequestCommand::Close { id, reason, json } => {
            print_view(&service.close_request(&principal, &id, &reason, at).await?, json)?;
        }
        RequestCommand::Show { id, json } => {
            print_view(&service.show_request(&principal, &id, at).await?, json)?;
        }
        RequestCommand::List { tenant, json } => {
            print_list(
                &service.list_requests(&principal, tenant.as_deref(), false, at).await?,
                json,
            )?;
        }
        RequestCommand::Playback(command) => super::playback::run(service, &principal, command, at).await?,
        RequestCommand::Overdue {
            tenant,
            now: as_of,
            json,
        } => {
            let as_of = match as_of {
                Some(text) => parse_time("--now", &text)?,
                None => at,
            };
            print_list(
                &service
                    .list_requests(&principal, tenant.as_deref(), true, as_of)
                    .await?,
                json,
            )?;
        }
    }
    Ok(())
}

/// The deadline worker inside `serve`: every `every` (the first pass at start-up), each
/// open request that has become overdue is reported once, as a warning in the log and
/// a `request.overdue` audit event (WEBEO-30DAYS). Stopped by aborting its task.
pub async fn deadline_worker(service: service::Service, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match service.report_overdue_requests(now()).await {
            Ok(reported) => {
                for r in &reported {
                    tracing::warn!(
                        worker = "request-deadlines",
                        request = %r.id,
                        tenant = %r.tenant,
                        due_on = %r.due_on,
                        "data-subject request overdue"
                    );
                }
            }
            Err(err) => {
                tracing::error!(worker = "request-deadlines", code = %err.code, "deadline check failed: {}", err.message)
            }
        }
    }
}
