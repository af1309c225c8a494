//! `callvault audit ...`.

use crate::cli::AuditCommand;
use crate::config::Settings;

pub async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    match command {
        AuditCommand::Verify => {
            let count = service.verify_audit().await;
            service.close().await;
            println!("audit chain ok: {} events", count?);
        }
        AuditCommand::Export { from, to } => {
            let from = from.map(|t| super::parse_time("--from", &t)).transpose()?;
            let to = to.map(|t| super::parse_time("--to", &t)).transpose()?;
            for stored in service.vault().catalog().audit_events().await? {
                let e = &stored.event;
                if from.is_some_and(|f| e.at < f) || to.is_some_and(|t| e.at > t) {
                    continue;
                }
                let line = serde_json::json!({
                    "seq": stored.seq, "at": e.at, "actor": e.actor, "action": e.action, "outcome": e.outcome,
                    "tenant": e.tenant, "recording_id": e.recording_id, "purpose": e.purpose, "reason": e.reason,
                    "detail": e.detail, "prev_hash": stored.prev_hash, "hash": stored.hash,
                });
                println!("{line}");
            }
            service.close().await;
        }
    }
    Ok(())
}
