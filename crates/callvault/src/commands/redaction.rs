//! `callvault transcript ...` and `callvault derivative ...` (redaction, issue 6); the
//! speech-to-text engine of `transcript transcribe` is in `stt.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use governance::Actor;
use redact::{Fill, TranscriptFormat};
use service::redaction::{DerivativeRequest, SpanReview};
use vault::DerivativeKind;

use crate::cli::GlobalArgs;
use crate::config::Settings;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TranscriptFormatArg {
    Vtt,
    Whisper,
    Aws,
}

impl TranscriptFormatArg {
    fn format(self) -> TranscriptFormat {
        match self {
            TranscriptFormatArg::Vtt => TranscriptFormat::WebVtt,
            TranscriptFormatArg::Whisper => TranscriptFormat::WhisperJson,
            TranscriptFormatArg::Aws => TranscriptFormat::AwsTranscribeJson,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TranscriptCommand {
    /// Import a speech-to-text output with word timings for a recording (or one stream).
    Import {
        id: String,
        file: PathBuf,
        #[arg(long, value_enum)]
        format: TranscriptFormatArg,
        /// The stream (label) the transcript is of; default: the whole recording.
        #[arg(long)]
        stream: Option<String>,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        reason: String,
    },
    /// Transcribe a recording with the `[stt]` engine of callvault.toml, stream by stream.
    Transcribe {
        id: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        reason: String,
    },
    /// Run PII detection over a recording's transcript and audio (DTMF); prints the
    /// findings (times, kinds, hashed evidence), stores nothing.
    Findings {
        id: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        reason: String,
        /// Words and phrases always PII, one a line.
        #[arg(long, value_name = "FILE")]
        word_list: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Show a recording's transcript (a read: purpose and reason, audited).
    Show {
        id: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Training,
    FaqClip,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FillArg {
    Silence,
    Tone,
}

#[derive(Debug, Subcommand)]
pub enum DerivativeCommand {
    /// Make a redacted copy: a training copy (whole call, pseudonymised) or an FAQ clip.
    Create {
        /// The source recording.
        id: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        reason: String,
        /// The clip's start, milliseconds from the start of the recording.
        #[arg(long, value_name = "MS")]
        from: Option<u64>,
        /// The clip's end, milliseconds.
        #[arg(long, value_name = "MS")]
        to: Option<u64>,
        /// Milliseconds added before and after every span.
        #[arg(long, value_name = "MS", default_value_t = 150)]
        padding_ms: u64,
        #[arg(long, value_enum, default_value = "tone")]
        fill: FillArg,
        /// Words and phrases always removed, one a line.
        #[arg(long, value_name = "FILE")]
        word_list: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List derivatives (of one source, or all of the tenant's).
    List {
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a derivative's lineage, removed spans and approval.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Add or remove spans of a draft (the approver role); it is rendered again.
    Review {
        id: String,
        /// A span to remove as well, `START-END` in milliseconds of the source.
        #[arg(long, value_name = "START-END")]
        add: Vec<String>,
        /// The index of a span (as `derivative show` lists them) to keep after all.
        #[arg(long, value_name = "N")]
        remove: Vec<usize>,
        #[arg(long)]
        reason: String,
    },
    /// Approve a draft for export (the role the purpose names in approved_by).
    Approve {
        id: String,
        /// Declare that it holds no personal data: it survives its source's erasure.
        #[arg(long)]
        anonymous: bool,
    },
    /// Export an approved derivative as WAV (and its redacted transcript with --transcript).
    Export {
        id: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        out: PathBuf,
        /// Also write the redacted transcript (JSON) here.
        #[arg(long, value_name = "FILE")]
        transcript: Option<PathBuf>,
    },
}

pub async fn transcript(settings: &Settings, global: &GlobalArgs, command: TranscriptCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let result = transcript_with(&service, global, command).await;
    service.close().await;
    result
}

async fn transcript_with(
    service: &service::Service,
    global: &GlobalArgs,
    command: TranscriptCommand,
) -> anyhow::Result<()> {
    let now = super::now();
    let actor =
        Actor::from(super::authenticate::authenticate(service, global.as_user.as_deref(), "transcript", now).await?);
    match command {
        TranscriptCommand::Import {
            id,
            file,
            format,
            stream,
            purpose,
            reason,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let words = service
                .import_transcript(
                    &id,
                    format.format(),
                    &bytes,
                    stream.as_deref(),
                    &purpose,
                    &reason,
                    &actor,
                    now,
                )
                .await?;
            println!("transcript of {id}: {words} words");
        }
        TranscriptCommand::Transcribe { id, purpose, reason } => {
            let engine = super::stt::Stt::from_config(global)?;
            let words = service
                .transcribe_recording(&id, &purpose, &reason, &engine, &actor, now)
                .await?;
            println!("transcript of {id}: {words} words");
        }
        TranscriptCommand::Findings {
            id,
            purpose,
            reason,
            word_list,
            json,
        } => {
            let words = read_word_list(word_list.as_deref())?;
            let findings = service.detect_pii(&id, &purpose, &reason, &words, &actor, now).await?;
            let views: Vec<service::wire::FindingView> = findings.iter().map(Into::into).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                for f in &views {
                    println!(
                        "{:>8} {:>8}  {:<13} {:<10} {}",
                        f.start_ms,
                        f.end_ms,
                        f.kind,
                        f.stream.as_deref().unwrap_or("-"),
                        f.evidence
                    );
                }
            }
        }
        TranscriptCommand::Show {
            id,
            purpose,
            reason,
            json,
        } => {
            let transcript = service.show_transcript(&id, &purpose, &reason, &actor, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&transcript)?);
            } else {
                for w in &transcript.words {
                    println!(
                        "{:>8} {:>8}  {:<10} {}",
                        w.start_ms,
                        w.end_ms,
                        w.stream.as_deref().unwrap_or("-"),
                        w.text
                    );
                }
            }
        }
    }
    Ok(())
}

/// The operator's words and phrases, one a line (`#` comments); none without a file.
fn read_word_list(file: Option<&Path>) -> anyhow::Result<Vec<String>> {
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    Ok(std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

pub async fn derivative(settings: &Settings, as_user: Option<&str>, command: DerivativeCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let result = derivative_with(&service, as_user, command).await;
    service.close().await;
    result
}

fn print_view(view: &service::redaction::DerivativeView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(view)?);
        return Ok(());
    }
    println!("derivative  {} ({}, {})", view.id, view.kind, view.state);
    println!(
        "source      {}{}",
        view.source,
        if view.source_erased_at.is_some() {
            " (erased)"
        } else {
            ""
        }
    );
    println!("purpose     {}", view.purpose);
    println!(
        "range       {}-{} ms, padding {} ms, {}",
        view.from_ms, view.to_ms, view.padding_ms, view.fill
    );
    println!("anonymous   {}", view.anonymous);
    println!("created     {} by {}", view.created_at.to_rfc3339(), view.created_by);
    if let (Some(at), Some(by)) = (&view.approved_at, &view.approved_by) {
        println!("approved    {} by {by}", at.to_rfc3339());
    }
    for (i, span) in view.spans.iter().enumerate() {
        println!(
            "span {i:<4}   {:>8}-{:<8} {:<13} {:<8} {}",
            span.start_ms,
            span.end_ms,
            span.kind.as_str(),
            span.origin,
            span.evidence
        );
    }
    Ok(())
}

async fn derivative_with(
    service: &service::Service,
    as_user: Option<&str>,
    command: DerivativeCommand,
) -> anyhow::Result<()> {
    let now = super::now();
    let actor = Actor::from(super::authenticate::authenticate(service, as_user, "derivative", now).await?);
    match command {
        DerivativeCommand::Create {
            id,
            kind,
            purpose,
            reason,
            from,
            to,
            padding_ms,
            fill,
            word_list,
            json,
        } => {
            let word_list = read_word_list(word_list.as_deref())?;
            let request = DerivativeRequest {
                source: &id,
                kind: match kind {
                    KindArg::Training => DerivativeKind::Training,
                    KindArg::FaqClip => DerivativeKind::FaqClip,
                },
                purpose: &purpose,
                reason: &reason,
                from_ms: from,
                to_ms: to,
                padding_ms,
                fill: match fill {
                    FillArg::Silence => Fill::Silence,
                    FillArg::Tone => Fill::TONE,
                },
                word_list,
            };
            let view = service.create_derivative(&request, &actor, now).await?;
            if json {
                print_view(&view, true)?;
            } else {
                println!("{}", view.id);
            }
        }
        DerivativeCommand::List { source, json } => {
            let views = service.list_derivatives(source.as_deref(), &actor, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                for v in views {
                    println!(
                        "{}  {:<9} {:<8} source {}  {} spans",
                        v.id,
                        v.kind,
                        v.state,
                        v.source,
                        v.spans.len()
                    );
                }
            }
        }
        DerivativeCommand::Show { id, json } => print_view(&service.show_derivative(&id, &actor, now).await?, json)?,
        DerivativeCommand::Review {
            id,
            add,
            remove,
            reason,
        } => {
            let add = add
                .iter()
                .map(|span| {
                    let (a, b) = span
                        .split_once('-')
                        .context("--add: expected START-END in milliseconds")?;
                    Ok((a.trim().parse()?, b.trim().parse()?))
                })
                .collect::<anyhow::Result<Vec<(u64, u64)>>>()
                .context("--add: expected START-END in milliseconds")?;
            let view = service
                .review_derivative(&id, &SpanReview { add, remove }, &reason, &actor, now)
                .await?;
            print_view(&view, false)?;
        }
        DerivativeCommand::Approve { id, anonymous } => {
            let view = service.approve_derivative(&id, anonymous, &actor, now).await?;
            println!(
                "derivative {} approved by {}",
                view.id,
                view.approved_by.unwrap_or_default()
            );
        }
        DerivativeCommand::Export {
            id,
            purpose,
            reason,
            out,
            transcript,
        } => {
            let exported = service.export_derivative(&id, &purpose, &reason, &actor, now).await?;
            write_atomically(&out, &exported.wav)?;
            if let (Some(path), Some(t)) = (transcript, &exported.transcript) {
                write_atomically(&path, serde_json::to_string_pretty(t)?.as_bytes())?;
            }
            println!("{}  sha256:{}", out.display(), exported.sha256);
        }
    }
    Ok(())
}

fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = out.with_extension("partial");
    {
        let mut file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))
}
