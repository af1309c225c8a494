//! `callvault audit ...`: verify the chain and checkpoints, sign and export a checkpoint,
//! export events as JSON lines, report denials and alerts.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::json;
use service::{ErrorKind, ServiceError};
use vault::Checkpoint;

use crate::cli::AuditCommand;
use crate::config::Settings;

pub async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let result = match command {
        AuditCommand::Verify { checkpoint, json } => verify(&service, checkpoint.as_deref(), json).await,
        AuditCommand::Checkpoint { out } => checkpoint(&service, &out).await,
        AuditCommand::Export { from, to, json: _ } => export(&service, from, to).await,
        AuditCommand::Alerts { from, to, json } => alerts(&service, from, to, json).await,
    };
    service.close().await;
    result
}

async fn verify(service: &service::Service, kept: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let kept = kept
        .map(|file| {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            Checkpoint::from_file_text(&text).with_context(|| file.display().to_string())
        })
        .transpose()?;
    let report = service.vault().catalog().audit().verify(kept.as_ref()).await?;
    if json {
        let line = json!({
            "ok": report.fault.is_none(),
            "events": report.events,
            "head_hash": report.head_hash,
            "checkpoints": report.checkpoints,
            "kept_checkpoint": report.kept,
            "key_id": report.key_id,
            "fault": report.fault.as_ref().map(|f| json!({"seq": f.seq, "problem": f.to_string()})),
        });
        println!("{line}");
    }
    if let Some(fault) = report.fault {
        return Err(ServiceError::new(
            ErrorKind::Integrity,
            "audit-chain-broken",
            format!("audit chain broken at {fault}"),
        )
        .into());
    }
    if !json {
        println!("audit chain ok: {} events", report.events);
        let key = report.key_id.as_deref().unwrap_or("none yet");
        println!(
            "signed checkpoints: {} stored, all verify (key {key})",
            report.checkpoints
        );
        if let Some(seq) = report.kept {
            println!("the log extends the kept checkpoint of event {seq}");
        }
    }
    Ok(())
}

async fn checkpoint(service: &service::Service, out: &Path) -> anyhow::Result<()> {
    let signed = service
        .vault()
        .catalog()
        .audit()
        .checkpoint(super::now())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the audit log is empty: there is no head to sign"))?;
    let temporary = out.with_extension("partial");
    std::fs::write(&temporary, signed.to_file_text())
        .and_then(|()| std::fs::rename(&temporary, out))
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "checkpoint of event {} (hash {}) signed by key {} written to {}",
        signed.seq,
        signed.hash,
        signed.key_id,
        out.display()
    );
    Ok(())
}

async fn export(service: &service::Service, from: Option<String>, to: Option<String>) -> anyhow::Result<()> {
    let from = from.map(|t| super::parse_time("--from", &t)).transpose()?;
    let to = to.map(|t| super::parse_time("--to", &t)).transpose()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    service
        .vault()
        .catalog()
        .audit()
        .for_each_event(from, to, |stored| -> anyhow::Result<()> {
            let e = &stored.event;
            let line = json!({
                "seq": stored.seq, "at": e.at, "actor": e.actor, "action": e.action, "outcome": e.outcome,
                "tenant": e.tenant, "recording_id": e.recording_id, "purpose": e.purpose, "reason": e.reason,
                "detail": e.detail, "prev_hash": stored.prev_hash, "hash": stored.hash,
            });
            writeln!(out, "{line}")?;
            Ok(())
        })
        .await?;
    out.flush()?;
    Ok(())
}

async fn alerts(
    service: &service::Service,
    from: Option<String>,
    to: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let from = from.map(|t| super::parse_time("--from", &t)).transpose()?;
    let to = to.map(|t| super::parse_time("--to", &t)).transpose()?;
    let report = service.vault().catalog().audit().denial_report(from, to).await?;
    if json {
        let users: Vec<_> = report
            .users
            .iter()
            .map(|u| {
                json!({"user": u.user, "denials": u.denials, "first": u.first, "last": u.last,
                    "actions": u.actions, "alerts": u.alerts})
            })
            .collect();
        let alerts: Vec<_> = report
            .alerts
            .iter()
            .map(|(seq, e)| json!({"seq": seq, "at": e.at, "tenant": e.tenant, "detail": e.detail}))
            .collect();
        println!(
            "{}",
            json!({"from": report.from, "to": report.to, "users": users, "alerts": alerts})
        );
        return Ok(());
    }
    if report.users.is_empty() {
        println!("no denied attempts in the period");
    }
    for u in &report.users {
        let actions: Vec<String> = u.actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
        println!(
            "{}: {} denied ({} to {}; {}), {} alert(s)",
            u.user,
            u.denials,
            u.first.to_rfc3339(),
            u.last.to_rfc3339(),
            actions.join(", "),
            u.alerts
        );
    }
    for (seq, e) in &report.alerts {
        println!("alert (event {seq}) at {}: {}", e.at.to_rfc3339(), e.detail);
    }
    Ok(())
}
