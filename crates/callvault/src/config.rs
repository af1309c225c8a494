//! Configuration: `callvault.toml` (raw, documented field by field in README.md),
//! validated once into [`Settings`], with command-line flags taking precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::cli::GlobalArgs;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub vault: RawVault,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub sip: RawSip,
    #[serde(default)]
    pub retention: RawRetention,
    #[serde(default)]
    pub audit: RawAudit,
    /// `[stt]`: the speech-to-text engine (read by `transcript transcribe`).
    #[serde(default)]
    pub stt: crate::commands::stt::RawStt,
}

/// `[retention]`: the retention worker inside `serve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    /// Seconds between sweeps (default 3600; 0 turns the worker off).
    pub interval_s: Option<u64>,
    /// Recordings per batch (default 1000).
    pub batch: Option<usize>,
}

/// The retention worker's settings.
#[derive(Debug, Clone, Copy)]
pub struct RetentionSettings {
    /// `None`: the worker is off (sweeps only by `callvault retention run`).
    pub interval: Option<std::time::Duration>,
    pub batch: usize,
}

fn retention_settings(raw: RawRetention) -> anyhow::Result<RetentionSettings> {
    let batch = raw.batch.unwrap_or(1000);
    if !(1..=10_000).contains(&batch) {
        bail!("retention.batch: must be between 1 and 10000");
    }
    let interval = match raw.interval_s.unwrap_or(3600) {
        0 => None,
        s if s > 7 * 24 * 3600 => bail!("retention.interval_s: at most one week (604800)"),
        s => Some(std::time::Duration::from_secs(s)),
    };
    Ok(RetentionSettings { interval, batch })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSip {
    pub listen: Option<String>,
    pub default_tenant: Option<String>,
    pub media_address: Option<String>,
    pub rtp_port_min: Option<u16>,
    pub rtp_port_max: Option<u16>,
    pub inactivity_timeout_s: Option<u64>,
    pub refused_calls: Option<String>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    /// Calls held at once; more new calls get 503 (0: no ceiling).
    pub max_calls: Option<usize>,
    /// New-call INVITEs per second per source address, sustained (0: no limit).
    pub invite_rate: Option<f64>,
    /// INVITEs a source may send at once above the rate.
    pub invite_burst: Option<u32>,
    #[serde(default)]
    pub transfers: Vec<RawTransfer>,
}

/// `[[sip.transfers]]`: a trunk or number calls are transferred in on (CSI-SCOPE).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransfer {
    /// The transfer source's name, kept on the recording.
    pub source: String,
    pub service_number: Option<String>,
    pub client: Option<String>,
    /// `"Name: value"`.
    pub header: Option<String>,
}

/// `[[sip.routes]]`: a rule that picks the tenant of a live call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub tenant: String,
    pub service_number: Option<String>,
    pub client: Option<String>,
    /// `"Name: value"`.
    pub header: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub data_dir: Option<PathBuf>,
    pub keys_dir: Option<PathBuf>,
    /// Region of the object store, checked against each policy's residency rule.
    pub region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<String>,
    pub max_upload_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVault {
    pub chunk_ms: Option<u32>,
}

/// `[audit]`: signed checkpoints and alerts on repeated denials (ARLO-SECURITY).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// Events between signed checkpoints (default 10000; 0: not by count).
    pub checkpoint_every: Option<u64>,
    /// Seconds of event time between signed checkpoints (default 3600; 0: not by time).
    pub checkpoint_interval_s: Option<u64>,
    /// An alert when one user's denied attempts exceed this many (default 5)...
    pub alert_denials: Option<u32>,
    /// ...within this many seconds (default 600).
    pub alert_window_s: Option<u64>,
}

fn audit_settings(raw: RawAudit) -> anyhow::Result<vault::AuditSettings> {
    let defaults = vault::AuditSettings::default();
    let checkpoint_every = raw.checkpoint_every.unwrap_or(defaults.checkpoint_every);
    if checkpoint_every > 100_000_000 {
        bail!("audit.checkpoint_every: at most 100000000");
    }
    let checkpoint_interval = match raw.checkpoint_interval_s {
        None => defaults.checkpoint_interval,
        Some(0) => None,
        Some(s) if s > 7 * 24 * 3600 => bail!("audit.checkpoint_interval_s: at most one week (604800)"),
        Some(s) => Some(chrono::TimeDelta::seconds(s as i64)),
    };
    let threshold = raw.alert_denials.unwrap_or(defaults.denials.threshold);
    if !(1..=10_000).contains(&threshold) {
        bail!("audit.alert_denials: must be between 1 and 10000");
    }
    let window = raw
        .alert_window_s
        .unwrap_or(defaults.denials.window.num_seconds() as u64);
    if !(1..=7 * 24 * 3600).contains(&window) {
        bail!("audit.alert_window_s: must be between 1 and 604800 (one week)");
    }
    Ok(vault::AuditSettings {
        checkpoint_every,
        checkpoint_interval,
        denials: governance::DenialRule {
            threshold,
            window: chrono::TimeDelta::seconds(window as i64),
        },
        ..defaults
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    pub region: Option<String>,
    pub http_listen: SocketAddr,
    pub max_upload_bytes: usize,
    pub chunk_ms: u32,
    pub log_level: Option<String>,
    pub sip: recorder::server::RecorderSettings,
    pub retention: RetentionSettings,
    pub audit: vault::AuditSettings,
}

pub const DEFAULT_CONFIG_FILE: &str = "callvault.toml";

impl Settings {
    /// Reads the config file (explicit, or `./callvault.toml` when present) and applies flags.
    pub fn load(global: &GlobalArgs) -> anyhow::Result<Self> {
        let raw = match &global.config {
            Some(file) => read_config(file)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => read_config(Path::new(DEFAULT_CONFIG_FILE))?,
            None => RawConfig::default(),
        };
        let data_dir = global
            .data
            .clone()
            .or(raw.storage.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let keys_dir = global
            .keys
            .clone()
            .or(raw.storage.keys_dir)
            .unwrap_or_else(|| PathBuf::from("./keys"));
        let listen = raw.http.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let http_listen = listen
            .parse()
            .with_context(|| format!("http.listen: {listen:?} is not an address such as 127.0.0.1:8080"))?;
        let max_upload_mb = raw.http.max_upload_mb.unwrap_or(512);
        if !(1..=8192).contains(&max_upload_mb) {
            bail!("http.max_upload_mb: must be between 1 and 8192");
        }
        let chunk_ms = raw.vault.chunk_ms.unwrap_or(1000);
        if !(20..=1000).contains(&chunk_ms) {
            bail!("vault.chunk_ms: must be between 20 and 1000");
        }
        if let Some(region) = &raw.storage.region
            && (region.is_empty()
                || !region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            bail!("storage.region: {region:?} must be lowercase letters, digits and '-' (e.g. uk, eu-eea)");
        }
        let sip = sip_settings(raw.sip)?;
        let retention = retention_settings(raw.retention)?;
        let audit = audit_settings(raw.audit)?;
        Ok(Settings {
            sip,
            retention,
            audit,
            data_dir,
            keys_dir,
            region: raw.storage.region,
            http_listen,
            max_upload_bytes: (max_upload_mb * 1024 * 1024) as usize,
            chunk_ms,
            log_level: raw.log.level,
        })
    }

    pub fn service_settings(&self) -> service::ServiceSettings {
        service::ServiceSettings {
            storage_region: self.region.clone(),
            chunk_ms: self.chunk_ms,
        }
    }
}

fn read_config(file: &Path) -> anyhow::Result<RawConfig> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read config file {}", file.display()))?;
    toml::from_str(&text).map_err(|err| {
        let line = err
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        anyhow::anyhow!("{}:{line}: {}", file.display(), err.message())
    })
}

fn sip_settings(raw: RawSip) -> anyhow::Result<recorder::server::RecorderSettings> {
    use recorder::server::{RecorderSettings, RefusedCalls};
    let listen = raw.listen.unwrap_or_else(|| "0.0.0.0:5060".to_owned());
    let listen = listen
        .parse()
        .with_context(|| format!("sip.listen: {listen:?} is not an address such as 0.0.0.0:5060"))?;
    let media = raw.media_address.unwrap_or_else(|| "127.0.0.1".to_owned());
    let media_address = media
        .parse()
        .with_context(|| format!("sip.media_address: {media:?} is not an IP address"))?;
    let low = raw.rtp_port_min.unwrap_or(30000);
    let high = raw.rtp_port_max.unwrap_or(39999);
    if low == 0 || high < low {
        bail!("sip.rtp_port_min/rtp_port_max: need 0 < min <= max (got {low}..{high})");
    }
    let refused_calls = match raw.refused_calls.as_deref().unwrap_or("answer-and-discard") {
        "answer-and-discard" => RefusedCalls::AnswerAndDiscard,
        "refuse" => RefusedCalls::Refuse,
        other => bail!("sip.refused_calls: {other:?} must be \"answer-and-discard\" or \"refuse\""),
    };
    let timeout = raw.inactivity_timeout_s.unwrap_or(30);
    if !(1..=3600).contains(&timeout) {
        bail!("sip.inactivity_timeout_s: must be between 1 and 3600");
    }
    let mut routes = Vec::new();
    for (i, route) in raw.routes.into_iter().enumerate() {
        let header = rule_conditions(
            &format!("sip.routes[{i}]"),
            route.header,
            route.client.as_deref(),
            route.service_number.as_deref(),
        )?;
        routes.push(recorder::routing::Route {
            tenant: route.tenant,
            service_number: route.service_number,
            client: route.client,
            header,
        });
    }
    let mut transfers = Vec::new();
    for (i, rule) in raw.transfers.into_iter().enumerate() {
        let field = format!("sip.transfers[{i}]");
        if rule.source.trim().is_empty() {
            bail!("{field}.source: must name the transfer source (e.g. \"clover\")");
        }
        if rule.service_number.is_none() && rule.client.is_none() && rule.header.is_none() {
            bail!("{field}: needs service_number, client or header (a rule without one matches every call)");
        }
        let header = rule_conditions(
            &field,
            rule.header,
            rule.client.as_deref(),
            rule.service_number.as_deref(),
        )?;
        transfers.push(recorder::transfer::TransferRule {
            source: rule.source,
            service_number: rule.service_number,
            client: rule.client,
            header,
        });
    }
    let defaults = recorder::admission::AdmissionLimits::default();
    let invite_rate = raw.invite_rate.unwrap_or(defaults.invite_rate);
    if !(0.0..=1_000_000.0).contains(&invite_rate) {
        bail!("sip.invite_rate: must be between 0 (no limit) and 1000000 INVITEs a second");
    }
    let invite_burst = raw.invite_burst.map_or(defaults.invite_burst, f64::from);
    if invite_rate > 0.0 && invite_burst < 1.0 {
        bail!("sip.invite_burst: must be at least 1 when sip.invite_rate is set");
    }
    let admission = recorder::admission::AdmissionLimits {
        max_calls: raw.max_calls.unwrap_or(defaults.max_calls),
        invite_rate,
        invite_burst,
    };
    Ok(RecorderSettings {
        routes,
        admission,
        transfers,
        listen,
        media_address,
        rtp_ports: (low, high),
        default_tenant: raw.default_tenant,
        inactivity_timeout: std::time::Duration::from_secs(timeout),
        refused_calls,
    })
}

/// Checks a rule's conditions (`[[sip.routes]]`, `[[sip.transfers]]`) and splits its
/// header into (name, value).
fn rule_conditions(
    field: &str,
    header: Option<String>,
    client: Option<&str>,
    service_number: Option<&str>,
) -> anyhow::Result<Option<(String, String)>> {
    let header = match header {
        Some(text) => match text.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => Some((name.trim().to_owned(), value.trim().to_owned())),
            _ => bail!("{field}.header: {text:?} must be \"Name: value\""),
        },
        None => None,
    };
    if let Some(client) = client {
        let address = client.split('/').next().unwrap_or_default();
        if address.parse::<std::net::IpAddr>().is_err() {
            bail!("{field}.client: {client:?} must be an address or ADDR/PREFIX");
        }
    }
    if let Some(number) = service_number
        && !number.starts_with('+')
    {
        bail!("{field}.service_number: {number:?} must be in E.164 form (+...)");
    }
    Ok(header)
}
