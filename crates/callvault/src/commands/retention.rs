//! `callvault retention run` (one sweep now, or as of `--now` for operators and tests)
//! and `callvault hold place|lift|list` (legal holds).

use anyhow::Context;
use governance::Actor;
use service::HoldRequest;

use crate::cli::{HoldCommand, RetentionCommand};
use crate::config::Settings;

use super::{now, open_service, parse_time};

/// Recordings per batch of a sweep when `--batch` is not given.
pub const DEFAULT_BATCH: usize = 1000;

pub async fn run(settings: &Settings, command: RetentionCommand) -> anyhow::Result<()> {
    let RetentionCommand::Run {
        now: at,
        batch,
        certificate,
        json,
    } = command;
    let started_at = now();
    let at = match at {
        Some(text) => parse_time("--now", &text)?,
        None => started_at,
    };
    let service = open_service(settings).await?;
    let batch = batch.map_or(DEFAULT_BATCH, |b| b as usize);
    let result = service.retention_sweep(at, batch, started_at).await;
    service.close().await;
    let report = result?;
    if let Some(file) = &certificate {
        std::fs::write(file, format!("{}\n", report.certificate_json))
            .with_context(|| format!("--certificate: cannot write {}", file.display()))?;
    }
    if json {
        println!("{}", report.certificate_json);
    } else {
        let c = &report.certificate;
        println!(
            "retention sweep {}: {} recording(s) deleted in {} batch(es), {} retention day key(s) destroyed, {} hold(s) released",
            c.sweep_id,
            c.deleted,
            c.batches,
            c.kek_days_destroyed.len(),
            c.holds_released
        );
    }
    Ok(())
}

pub async fn hold(settings: &Settings, command: HoldCommand) -> anyhow::Result<()> {
    let actor = Actor::LocalAdministrator;
    let service = open_service(settings).await?;
    let result = hold_with(&service, &actor, command).await;
    service.close().await;
    result
}

async fn hold_with(service: &service::Service, actor: &Actor, command: HoldCommand) -> anyhow::Result<()> {
    let at = now();
    match command {
        HoldCommand::Place { id, reason, expires } => {
            let expires_at = expires.map(|t| parse_time("--expires", &t)).transpose()?;
            let request = HoldRequest {
                recording_id: &id,
                reason: &reason,
                expires_at,
            };
            let hold = service.place_hold(&request, actor, at).await?;
            println!("{}", hold.id);
        }
        HoldCommand::Lift { hold_id } => {
            let hold = service.lift_hold(&hold_id, actor, at).await?;
            println!("legal hold {} on recording {} lifted", hold.id, hold.recording_id);
        }
        HoldCommand::List { tenant, active, json } => {
            let holds = service.holds(tenant.as_deref(), active.then_some(at)).await?;
            if json {
                let rows: Vec<_> = holds
                    .iter()
                    .map(|h| {
                        serde_json::json!({
                            "id": h.id, "tenant": h.tenant, "recording_id": h.recording_id, "reason": h.reason,
                            "placed_by": h.placed_by, "placed_at": h.placed_at, "expires_at": h.expires_at,
                            "lifted_at": h.lifted_at, "lifted_by": h.lifted_by, "active": h.active_at(at),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for h in &holds {
                    let state = if h.active_at(at) { "active" } else { "ended" };
                    println!("{}  {}  {}  {}  {}", h.id, h.recording_id, state, h.placed_by, h.reason);
                }
            }
        }
    }
    Ok(())
}
