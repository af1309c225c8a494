//! `callvault recordings ...`.

use std::io::Write;

use anyhow::Context;
use governance::Actor;
use service::{ExportFormat, ExportRequest, RecordingQuery};

use crate::cli::{ExportFormatArg, RecordingsCommand};
use crate::config::Settings;

pub async fn run(settings: &Settings, as_user: Option<&str>, command: RecordingsCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let result = run_with(&service, as_user, command).await;
    service.close().await;
    result
}

async fn run_with(service: &service::Service, as_user: Option<&str>, command: RecordingsCommand) -> anyhow::Result<()> {
    let now = super::now();
    // Every recordings command reads or changes governed data: it acts for a person.
    let actor = Actor::from(super::authenticate::authenticate(service, as_user, "recordings", now).await?);
    match command {
        RecordingsCommand::List {
            tenant,
            customer_number,
            purpose,
            reason,
            from,
            to,
            agent,
            direction,
            limit,
            json,
        } => {
            let query = RecordingQuery {
                tenant,
                customer_number,
                purpose,
                reason,
                from: from.map(|t| super::parse_time("--from", &t)).transpose()?,
                to: to.map(|t| super::parse_time("--to", &t)).transpose()?,
                agent,
                direction,
                limit,
            };
            let recordings = service.list_recordings(&query, &actor, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&recordings)?);
            } else {
                println!(
                    "{:<36}  {:<16}  {:<8}  {:<20}  {:>8}  {:<16}  STATE",
                    "ID", "TENANT", "DIR", "STARTED", "SECONDS", "CUSTOMER"
                );
                for r in recordings {
                    println!(
                        "{:<36}  {:<16}  {:<8}  {:<20}  {:>8.1}  {:<16}  {}",
                        r.id,
                        r.tenant,
                        r.direction,
                        r.started_at.format("%Y-%m-%d %H:%M:%S"),
                        r.duration_ms.unwrap_or(0) as f64 / 1000.0,
                        r.customer_number.as_deref().unwrap_or("-"),
                        r.state
                    );
                }
            }
        }
        RecordingsCommand::Show {
            id,
            purpose,
            reason,
            json,
        } => {
            let detail = service
                .show_recording(
                    &id,
                    purpose.as_deref().unwrap_or_default(),
                    reason.as_deref().unwrap_or_default(),
                    &actor,
                    now,
                )
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&detail)?);
            } else {
                let r = &detail.summary;
                let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                println!("recording     {}", r.id);
                println!(
                    "tenant        {} (policy {} version {}, {})",
                    r.tenant, detail.policy_id, r.policy_version, detail.policy_document_version
                );
                println!("state         {}", r.state);
                println!("direction     {}", r.direction);
                println!("started       {}", r.started_at.to_rfc3339());
                println!(
                    "ended         {}",
                    r.ended_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into())
                );
                println!("duration      {:.1} s", r.duration_ms.unwrap_or(0) as f64 / 1000.0);
                println!("customer      {}", or_dash(&r.customer_number));
                println!("service       {}", or_dash(&r.service_number));
                println!("agent         {}", or_dash(&r.agent));
                println!("purposes      {}", r.purposes.join(", "));
                println!("legal basis   {}; consent {}", r.legal_basis, r.consent);
                println!("retain until  {}", r.retain_until.to_rfc3339());
                for note in &r.notes {
                    println!("note          {note}");
                }
                for p in &detail.participants {
                    println!("participant   {} {} {}", p.role, or_dash(&p.name), or_dash(&p.number));
                }
                for s in &r.streams {
                    println!(
                        "stream        {} ({}) {} {} Hz, {} lost, {}",
                        s.label,
                        or_dash(&s.participant),
                        s.codec,
                        s.sample_rate,
                        s.packets_lost,
                        s.seal
                    );
                }
            }
        }
        RecordingsCommand::Export {
            id,
            out,
            purpose,
            reason,
            format,
            stream,
        } => {
            let format = match format {
                ExportFormatArg::Wav => ExportFormat::Wav,
                ExportFormatArg::WavStereo => ExportFormat::WavStereo,
                ExportFormatArg::Ogg => ExportFormat::parse("ogg")?,
            };
            let request = ExportRequest {
                id: &id,
                purpose: &purpose,
                reason: &reason,
                format,
                stream: stream.as_deref(),
            };
            let exported = service.export_recording(&request, &actor, now).await?;
            // Written to a temporary file first so a failed export leaves nothing half-written.
            let tmp = out.with_extension("partial");
            {
                let mut file =
                    std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
                file.write_all(&exported.wav)?;
                file.sync_all()?;
            }
            std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
            println!("{}  sha256:{}", out.display(), exported.sha256);
        }
        RecordingsCommand::Erase { id, reason } => {
            let tombstone = service.erase_recording(&id, &reason, &actor, now).await?;
            println!(
                "recording {} erased; tombstone kept (tenant {}, policy version {})",
                tombstone.recording_id, tombstone.tenant, tombstone.policy_version
            );
        }
    }
    Ok(())
}
