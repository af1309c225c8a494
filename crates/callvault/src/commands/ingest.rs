//! `callvault ingest AUDIO --tenant NAME --meta META.json`.

use anyhow::Context;
use governance::Actor;
use service::wire::IngestMeta;

use crate::cli::IngestArgs;
use crate::config::Settings;

pub async fn run(settings: &Settings, args: IngestArgs) -> anyhow::Result<()> {
    let audio = std::fs::read(&args.audio).with_context(|| format!("cannot read {}", args.audio.display()))?;
    let meta_bytes = std::fs::read(&args.meta).with_context(|| format!("cannot read {}", args.meta.display()))?;
    let meta = IngestMeta::from_json(&meta_bytes)?;
    let service = super::open_service(settings).await?;
    let now = super::now();
    let result = service
        .ingest(&args.tenant, &audio, &meta, &Actor::LocalAdministrator, now)
        .await;
    service.close().await;
    let result = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        println!("{}", result.id);
    }
    Ok(())
}
