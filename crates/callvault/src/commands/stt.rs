//! The `[stt]` speech-to-text engine of callvault.toml: an external command (the stream's
//! WAV on its standard input or as a temporary file) or an HTTP endpoint (the WAV as the
//! request body or as a multipart field). callvault ships and downloads no model.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use redact::TranscriptFormat;
use serde::Deserialize;
use service::redaction::SpeechToText;

use crate::cli::GlobalArgs;

/// The most an engine may answer for one stream.
const MAX_OUTPUT: u64 = 64 * 1024 * 1024;

/// `[stt]` in callvault.toml. Exactly one of `command` and `url`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStt {
    /// The program and its arguments; `{wav}` is replaced by the path of a mono PCM16
    /// WAV of one stream (appended when no argument names it, unless `input = "stdin"`).
    /// It prints the transcript.
    #[serde(default)]
    pub command: Vec<String>,
    /// How a command gets the WAV: `file` (default, a 0600 temporary file removed
    /// afterwards) or `stdin` (nothing written to disk).
    pub input: Option<String>,
    /// An HTTP endpoint (`http://` only: this build has no TLS) that answers a POST
    /// carrying the WAV with the transcript.
    pub url: Option<String>,
    /// Send the WAV as this field of a `multipart/form-data` body (`file` for
    /// whisper.cpp's server and OpenAI-style endpoints); without it the body is the WAV
    /// (`audio/wav`).
    pub multipart_field: Option<String>,
    /// Extra text fields of the multipart body, e.g. `{ response_format = "verbose_json" }`.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// The name of an environment variable holding a bearer token for `url` (the token
    /// itself never goes in the file).
    pub token_env: Option<String>,
    /// What it answers: `whisper` (default), `vtt` or `aws`.
    pub format: Option<String>,
    /// Seconds it may take per stream (default 600).
    pub timeout_s: Option<u64>,
}

/// How the engine is reached.
enum Engine {
    Command { argv: Vec<String>, stdin: bool },
    Http(HttpEngine),
}

struct HttpEngine {
    url: String,
    multipart_field: Option<String>,
    form: BTreeMap<String, String>,
    token: Option<String>,
}

/// The configured speech-to-text engine.
pub struct Stt {
    engine: Engine,
    format: TranscriptFormat,
    timeout: Duration,
}

impl Stt {
    /// Reads `[stt]` from the configuration file (the same file `Settings` read).
    pub fn from_config(global: &GlobalArgs) -> anyhow::Result<Self> {
        let file = global
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_CONFIG_FILE));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let raw: crate::config::RawConfig = toml::from_str(&text).with_context(|| format!("{}", file.display()))?;
        Self::from_raw(raw.stt)
    }

    fn from_raw(raw: RawStt) -> anyhow::Result<Self> {
        let engine = match (raw.command.is_empty(), raw.url) {
            (true, None) => bail!(
                "no speech-to-text engine: set [stt] command = [\"program\", \"args\", \"{{wav}}\"] or [stt] url = \"http://host:port/path\" in callvault.toml"
            ),
            (false, Some(_)) => bail!("stt: set either command or url, not both"),
            (false, None) => {
                let stdin = match raw.input.as_deref() {
                    None | Some("file") => false,
                    Some("stdin") => true,
                    Some(other) => bail!("stt.input: {other:?} is not one of file, stdin"),
                };
                if raw.multipart_field.is_some() || !raw.form.is_empty() || raw.token_env.is_some() {
                    bail!("stt.multipart_field, stt.form and stt.token_env apply to url only");
                }
                Engine::Command {
                    argv: raw.command,
                    stdin,
                }
            }
            (true, Some(url)) => {
                let parsed = reqwest::Url::parse(&url).with_context(|| format!("stt.url: {url:?} is not a URL"))?;
                if parsed.scheme() != "http" {
                    bail!(
                        "stt.url: only http:// is supported (this build has no TLS); run the engine on this host or behind a local proxy"
                    );
                }
                if raw.input.is_some() {
                    bail!("stt.input applies to command only");
                }
                let token = match raw.token_env {
                    None => None,
                    Some(name) => Some(
                        std::env::var(&name)
                            .with_context(|| format!("stt.token_env: the environment variable {name} is not set"))?,
                    ),
                };
                Engine::Http(HttpEngine {
                    url,
                    multipart_field: raw.multipart_field,
                    form: raw.form,
                    token,
                })
            }
        };
        let format = match raw.format.as_deref() {
            None => TranscriptFormat::WhisperJson,
            Some(name) => TranscriptFormat::from_name(name)
                .with_context(|| format!("stt.format: {name:?} is not one of whisper, vtt, aws"))?,
        };
        Ok(Stt {
            engine,
            format,
            timeout: Duration::from_secs(raw.timeout_s.unwrap_or(600).clamp(1, 24 * 3600)),
        })
    }
}

impl SpeechToText for Stt {
    fn transcribe(&self, wav: &[u8]) -> Result<(TranscriptFormat, Vec<u8>), String> {
        let output = match &self.engine {
            Engine::Command { argv, stdin } => run_command(argv, *stdin, wav, self.timeout)?,
            Engine::Http(http) => http.post(wav, self.timeout)?,
        };
        Ok((self.format, output))
    }
}

impl HttpEngine {
    fn post(&self, wav: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let mut request = client.post(&self.url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request = match &self.multipart_field {
            Some(field) => {
                let mut form = reqwest::blocking::multipart::Form::new();
                for (name, value) in &self.form {
                    form = form.text(name.clone(), value.clone());
                }
                let part = reqwest::blocking::multipart::Part::bytes(wav.to_vec())
                    .file_name("stream.wav")
                    .mime_str("audio/wav")
                    .map_err(|e| e.to_string())?;
                request.multipart(form.part(field.clone(), part))
            }
            None => request
                .header(reqwest::header::CONTENT_TYPE, "audio/wav")
                .body(wav.to_vec()),
        };
        // Errors without the URL: it may carry a key in its query.
        let response = request
            .send()
            .map_err(|e| format!("the engine did not answer: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the engine answered {status}"));
        }
        read_limited(response)
    }
}

fn read_limited(reader: impl Read) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    reader
        .take(MAX_OUTPUT + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("reading the engine's answer: {e}"))?;
    if out.len() as u64 > MAX_OUTPUT {
        return Err(format!("the engine answered more than {MAX_OUTPUT} bytes"));
    }
    Ok(out)
}

fn run_command(argv: &[String], stdin: bool, wav: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let temp = if stdin {
        None
    } else {
        Some(TempWav::write(wav).map_err(|e| format!("cannot write the stream's WAV: {e}"))?)
    };
    let mut args: Vec<String> = argv[1..].to_vec();
    if let Some(temp) = &temp {
        let path_text = temp.0.to_string_lossy().into_owned();
        let named = args.iter().any(|a| a.contains("{wav}"));
        args = args.iter().map(|a| a.replace("{wav}", &path_text)).collect();
        if !named {
            args.push(path_text);
        }
    }
    let mut child = std::process::Command::new(&argv[0])
        .args(&args)
        .stdin(if stdin {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    // The WAV goes in on its own thread so a command that answers while reading cannot
    // dead-lock against a full pipe.
    let writer = child.stdin.take().map(|mut pipe| {
        let wav = wav.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&wav);
        })
    });
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || read_limited(stdout));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{} ran longer than {} s", argv[0], timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    let output = reader
        .join()
        .map_err(|_| "reading the engine's output failed".to_owned())??;
    if !status.success() {
        return Err(format!("{} exited with {status}", argv[0]));
    }
    Ok(output)
}

/// A stream's WAV for the engine, readable by its owner only, removed when dropped.
struct TempWav(PathBuf);

impl TempWav {
    fn write(wav: &[u8]) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("callvault-stt-{}-{n}.wav", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let temp = TempWav(path);
        file.write_all(wav)?;
        Ok(temp)
    }
}

impl Drop for TempWav {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> anyhow::Result<Stt> {
        Stt::from_raw(toml::from_str(text).unwrap())
    }

    fn error(text: &str) -> String {
        raw(text).err().map(|e| format!("{e:#}")).unwrap_or_default()
    }

    #[test]
    fn configuration_errors_name_the_field() {
        let cases = [
            ("", "no speech-to-text engine"),
            ("command = [\"x\"]\nurl = \"http://a\"", "either command or url"),
            ("url = \"https://a/x\"", "stt.url: only http://"),
            ("url = \"not a url\"", "stt.url"),
            ("command = [\"x\"]\ninput = \"pipe\"", "stt.input"),
            ("command = [\"x\"]\nmultipart_field = \"file\"", "apply to url only"),
            ("url = \"http://a\"\ninput = \"stdin\"", "stt.input applies"),
            (
                "url = \"http://a\"\ntoken_env = \"CALLVAULT_TEST_NO_SUCH_VARIABLE\"",
                "stt.token_env",
            ),
            ("command = [\"x\"]\nformat = \"srt\"", "stt.format"),
        ];
        for (text, expected) in cases {
            assert!(error(text).contains(expected), "{text:?}: {}", error(text));
        }
        assert!(raw("url = \"http://127.0.0.1:9/asr\"\nmultipart_field = \"file\"").is_ok());
    }

    #[test]
    fn a_command_reads_the_wav_from_stdin_or_a_file() {
        let wav = b"RIFF-test-audio".to_vec();
        let piped = raw("command = [\"cat\"]\ninput = \"stdin\"").unwrap();
        assert_eq!(piped.transcribe(&wav).unwrap().1, wav);
        let file = raw("command = [\"cat\", \"{wav}\"]").unwrap();
        assert_eq!(file.transcribe(&wav).unwrap().1, wav);
        let failing = raw("command = [\"false\"]").unwrap();
        assert!(failing.transcribe(&wav).unwrap_err().contains("exited"));
        let slow = raw("command = [\"sleep\", \"5\"]\ninput = \"stdin\"\ntimeout_s = 1").unwrap();
        assert!(slow.transcribe(&wav).unwrap_err().contains("longer than"));
    }
}
