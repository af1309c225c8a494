//! `callvault serve`: the HTTP API on embedded defaults, after start-up checks.

use std::sync::Arc;

use anyhow::{Context, bail};

use crate::cli::ServeArgs;
use crate::config::Settings;

pub async fn run(mut settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = args.http_listen {
        settings.http_listen = listen
            .parse()
            .with_context(|| format!("--http-listen: {listen:?} is not an address such as 127.0.0.1:8080"))?;
    }
    if let Some(listen) = args.sip_listen {
        settings.sip.listen = listen
            .parse()
            .with_context(|| format!("--sip-listen: {listen:?} is not an address such as 0.0.0.0:5060"))?;
    }
    if let Some(tenant) = args.sip_default_tenant {
        settings.sip.default_tenant = Some(tenant);
    }
    if !settings.http_listen.ip().is_loopback() {
        // Deny by default: until identities and authentication land, the API is local only.
        bail!(
            "--http-listen {}: the HTTP API has no authentication yet and only listens on a loopback address",
            settings.http_listen
        );
    }
    let service = super::open_service(&settings).await?;
    let lock_path = settings.data_dir.join("serve.lock");
    let lock = std::fs::File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        bail!(
            "another callvault serve is running on data directory {}",
            settings.data_dir.display()
        );
    }

    let now = super::now();
    // Residency is checked at start-up (WEBEO-UK, POSTI-EEA); review dates are reported (ARLO-REVIEW).
    for tenant in service.tenants().await? {
        let (policy, _) = service.active_policy(&tenant.name).await?;
        service
            .check_residency(&policy)
            .map_err(|e| anyhow::anyhow!("tenant {}: {}", tenant.name, e))?;
        super::warn_review(&policy, now);
    }
    // Imports older than a grace period that never completed are removed; captures sealed.
    let report = service.recover(now - chrono::TimeDelta::minutes(10), now).await?;
    if !report.recovered.is_empty() || !report.discarded.is_empty() {
        tracing::warn!(
            recovered = report.recovered.len(),
            discarded = report.discarded.len(),
            "recovered unfinished recordings"
        );
    }

    // Outbound screening registers (WEBEO-TPS) load now, so the first lookup is fast;
    // imports by `callvault screening import` are picked up on the next lookup.
    match service.screening_snapshot().await {
        Ok(snapshot) => tracing::info!(registers = snapshot.registers().count(), "screening registers loaded"),
        Err(err) => tracing::warn!(code = %err.code, "screening registers not loaded: {}", err.message),
    }

    let recorder_metrics = Arc::new(recorder::server::RecorderMetrics::default());
    let rendered = recorder_metrics.clone();
    let state = api::AppState {
        service: service.clone(),
        metrics: Arc::new(api::Metrics::default()),
        clock: Arc::new(super::now),
        extra_metrics: Some(Arc::new(move || rendered.render())),
    };
    let app = api::router(
        state,
        &api::ApiSettings {
            max_body_bytes: settings.max_upload_bytes,
        },
    );
    let listener = tokio::net::TcpListener::bind(settings.http_listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.http_listen))?;
    tracing::info!(address = %listener.local_addr()?, data = %settings.data_dir.display(), "callvault serving HTTP");
    println!("callvault serving on http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let recorder = tokio::spawn(recorder::server::run(
        service.clone(),
        settings.sip.clone(),
        recorder_metrics,
        bound_tx,
        async move {
            let mut stop_rx = stop_rx;
            let _ = stop_rx.wait_for(|stop| *stop).await;
        },
    ));
    let sip_address = bound_rx
        .await
        .context("the SIP recorder did not start")?
        .with_context(|| format!("cannot listen for SIP on {}", settings.sip.listen))?;
    println!("callvault recording SIPREC calls on sip:{sip_address} (UDP and TCP)");
    let retention = settings
        .retention
        .interval
        .map(|every| tokio::spawn(retention_worker(service.clone(), every, settings.retention.batch)));
    let deadlines = tokio::spawn(super::requests::deadline_worker(
        service.clone(),
        super::requests::DEADLINE_CHECK_EVERY,
    ));
    api::serve(listener, app, shutdown_signal()).await?;
    if let Some(worker) = retention {
        worker.abort();
    }
    deadlines.abort();
    let _ = stop_tx.send(true);
    if let Err(err) = recorder.await {
        tracing::error!("recorder task failed: {err}");
    }
    // Every shutdown leaves a signed checkpoint of the audit chain.
    if let Err(err) = service.vault().catalog().audit().checkpoint(super::now()).await {
        tracing::error!("audit checkpoint at shutdown: {err}");
    }
    service.close().await;
    drop(lock);
    Ok(())
}

/// Sweeps every `every` (the first one at start-up). A sweep interrupted by shutdown
/// is finished by the next one: every step of it can be repeated.
async fn retention_worker(service: service::Service, every: std::time::Duration, batch: usize) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let at = super::now();
        match service.retention_sweep(at, batch, at).await {
            Ok(report) if report.certificate.deleted > 0 => tracing::info!(
                sweep = %report.certificate.sweep_id,
                deleted = report.certificate.deleted,
                "retention sweep"
            ),
            Ok(_) => tracing::debug!("retention sweep: nothing due"),
            Err(err) => tracing::error!(code = %err.code, "retention sweep failed: {}", err.message),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
