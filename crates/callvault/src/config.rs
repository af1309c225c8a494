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
        Ok(Settings {
            sip,
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
        let header = match route.header {
            Some(text) => match text.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    Some((name.trim().to_owned(), value.trim().to_owned()))
                }
                _ => bail!("sip.routes[{i}].header: {text:?} must be \"Name: value\""),
            },
            None => None,
        };
        if let Some(client) = &route.client {
            let address = client.split('/').next().unwrap_or_default();
            if address.parse::<std::net::IpAddr>().is_err() {
                bail!("sip.routes[{i}].client: {client:?} must be an address or ADDR/PREFIX");
            }
        }
        if let Some(number) = &route.service_number
            && !number.starts_with('+')
        {
            bail!("sip.routes[{i}].service_number: {number:?} must be in E.164 form (+...)");
        }
        routes.push(recorder::routing::Route {
            tenant: route.tenant,
            service_number: route.service_number,
            client: route.client,
            header,
        });
    }
    Ok(RecorderSettings {
        routes,
        listen,
        media_address,
        rtp_ports: (low, high),
        default_tenant: raw.default_tenant,
        inactivity_timeout: std::time::Duration::from_secs(timeout),
        refused_calls,
    })
}
