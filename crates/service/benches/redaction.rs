//! Redaction (issue 6) figure: redaction throughput in hours of audio per CPU-second,
//! against a plain decrypt-and-copy of the same audio in the same run (ratio).
//!
//! Redaction: `Service::create_derivative` (a training copy of the whole call) as a
//! person the CSI policy lets listen: Cedar decision, audit events, read permit, every
//! stream decrypted and verified, PCM decoded, the stored transcript decrypted, PII
//! detection over it (2.5 words a second, with a spoken phone and card number every
//! minute), in-band DTMF detection over every channel, the spans filled with silence on
//! every channel, transcript redacted, pseudonyms, a new data key, the derivative's
//! streams and transcript encrypted and written with fsync, its catalog row.
//! Plain: `Vault::read_stream` of every stream (decrypt and verify) and the plaintext
//! written to a file with fsync. CPU time is the process's user + system time
//! (`/proc/self/stat`), so the helper threads of SQLite and the object store count.
//!
//! `cargo bench -p service --bench redaction` (optional argument: minutes of stereo
//! 8 kHz PCM16 audio per recording, default 10; `REDACTION_RECORDINGS=6` how many).

mod common;

use std::time::Instant;

use governance::Actor;
use governance::identity::{AuthMethod, Principal};
use media::SampleEncoding;
use redact::{Fill, Transcript, TranscriptFormat, Word};
use service::redaction::DerivativeRequest;
use service::wire::{IngestMeta, ParticipantMeta};
use service::{ServiceSettings, TenantChange};
use vault::DerivativeKind;

const RATE: u32 = 8000;

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which is in parentheses): state is field 3; utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // CLK_TCK is 100 on Linux
}

/// Words every 400 ms; every minute a spoken phone number and a card number.
fn transcript(seconds: u32) -> Transcript {
    const FILLER: &[&str] = &[
        "well", "the", "order", "was", "late", "and", "I", "would", "like", "a", "refund",
    ];
    const PII: &[&str] = &[
        "my", "number", "is", "oh", "four", "oh", "one", "two", "three", "four", "five", "six", "seven", "card",
        "four", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one",
        "one",
    ];
    let mut words = Vec::new();
    let mut t = 0u64;
    let mut k = 0usize;
    while t + 400 < u64::from(seconds) * 1000 {
        let in_minute = (t / 1000) % 60;
        let text = if (20..32).contains(&in_minute) {
            PII[(k) % PII.len()]
        } else {
            FILLER[k % FILLER.len()]
        };
        words.push(Word {
            start_ms: t,
            end_ms: t + 350,
            text: text.into(),
            stream: Some(
                if (t / 5000).is_multiple_of(2) {
                    "customer"
                } else {
                    "agent"
                }
                .into(),
            ),
            speaker: None,
        });
        t += 400;
        k += 1;
    }
    Transcript { words }
}

fn whisper_json(t: &Transcript, stream: &str) -> Vec<u8> {
    let words: Vec<serde_json::Value> = t
        .words
        .iter()
        .filter(|w| w.stream.as_deref() == Some(stream))
        .map(|w| serde_json::json!({"word": w.text, "start": w.start_ms as f64 / 1000.0, "end": w.end_ms as f64 / 1000.0}))
        .collect();
    serde_json::to_vec(&serde_json::json!({"segments": [{"start": 0.0, "end": 0.0, "text": "", "words": words}]}))
        .unwrap()
}

fn main() {
    let minutes = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse::<u32>().ok())
        .unwrap_or(10);
    let count = common::count_arg("REDACTION_RECORDINGS", 6);
    let seconds = minutes * 60;
    let dir = common::bench_dir("redaction");
    let runtime = common::runtime();
    runtime.block_on(async {
        let settings = ServiceSettings {
            storage_region: None,
            chunk_ms: 1000,
        };
        let service = service::Service::open(&dir.path().join("data"), &dir.path().join("keys"), settings)
            .await
            .expect("open");
        let now = common::bench_now();
        let admin = Actor::LocalAdministrator;
        let text = std::fs::read_to_string(common::workspace_root().join("policies/csi-works.toml")).unwrap();
        service
            .create_tenant("csi", "policies/csi-works.toml", &text, &admin, now)
            .await
            .expect("tenant");
        service
            .set_tenant(
                "csi",
                TenantChange {
                    retention: Some("1 year".into()),
                    ..Default::default()
                },
                &admin,
                now,
            )
            .await
            .expect("retention");
        let person = Actor::from(Principal {
            tenant: "csi".into(),
            user: "bench".into(),
            roles: vec!["ceo".into()],
            team: None,
            managed_teams: vec![],
            attestations: vec![],
            grants: vec![],
            method: AuthMethod::Password,
            authenticated_at: now,
            token_id: None,
        });
        let words = transcript(seconds);
        let mut ids = Vec::new();
        for k in 0..count {
            let audio = common::synth_audio(SampleEncoding::Pcm16, RATE, 2, seconds, 7 + k as u64);
            let wav = common::wav_file(SampleEncoding::Pcm16, RATE, 2, audio);
            let meta = IngestMeta {
                direction: "inbound".into(),
                started_at: now - chrono::TimeDelta::hours(1),
                ended_at: None,
                customer_number: Some("+447700900123".into()),
                service_number: Some("+442080999077".into()),
                agent: Some("Alex Agent".into()),
                purposes: vec!["training-performance".into()],
                consent: None,
                participants: vec![
                    ParticipantMeta {
                        role: "customer".into(),
                        name: None,
                        number: Some("+447700900123".into()),
                        channel: Some(0),
                    },
                    ParticipantMeta {
                        role: "agent".into(),
                        name: Some("Alex Agent".into()),
                        number: None,
                        channel: Some(1),
                    },
                ],
                withheld_caller_id: false,
                transferred_from: None,
            };
            let id = service
                .ingest("csi", &wav, &meta, &admin, now)
                .await
                .expect("ingest")
                .id;
            for stream in ["customer", "agent"] {
                service
                    .import_transcript(
                        &id,
                        TranscriptFormat::WhisperJson,
                        &whisper_json(&words, stream),
                        Some(stream),
                        "training-performance",
                        "bench",
                        &person,
                        now,
                    )
                    .await
                    .expect("transcript");
            }
            ids.push(id);
        }
        let hours = f64::from(seconds) * count as f64 / 3600.0;
        println!(
            "redaction: {count} recordings of {minutes} min stereo PCM16 8 kHz ({hours:.2} h of calls, {} words each)",
            words.words.len()
        );
        for round in 0..3 {
            // Plain: decrypt and verify every stream, write the plaintext with fsync.
            let copy_dir = dir.path().join(format!("copy-{round}"));
            std::fs::create_dir_all(&copy_dir).unwrap();
            let (cpu0, wall0) = (cpu_seconds(), Instant::now());
            for id in &ids {
                let uuid: uuid::Uuid = id.parse().unwrap();
                let entry = service.vault().catalog().visible_entry(uuid).await.unwrap();
                let policy = policy::parse_policy("csi-works.toml", &text).unwrap();
                let permit = governance::authorize_read(
                    &policy,
                    &governance::ReadRequest {
                        actor: &admin,
                        recording_id: uuid,
                        purpose: "training-performance",
                        reason: "bench",
                    },
                )
                .unwrap();
                for stream in &entry.streams {
                    let audio = service.vault().read_stream(&permit, &entry, stream.idx).await.unwrap();
                    let path = copy_dir.join(format!("{id}-{}.pcm", stream.idx));
                    std::fs::write(&path, &audio.audio).unwrap();
                    std::fs::File::open(&path).unwrap().sync_all().unwrap();
                }
            }
            let (plain_cpu, plain_wall) = (cpu_seconds() - cpu0, wall0.elapsed());
            // Redaction: a training copy of each recording.
            let (cpu0, wall0) = (cpu_seconds(), Instant::now());
            let mut spans = 0;
            for id in &ids {
                let view = service
                    .create_derivative(
                        &DerivativeRequest {
                            source: id,
                            kind: DerivativeKind::Training,
                            purpose: "training-performance",
                            reason: "bench",
                            from_ms: None,
                            to_ms: None,
                            padding_ms: 150,
                            fill: Fill::Silence,
                            word_list: vec![],
                        },
                        &person,
                        now,
                    )
                    .await
                    .expect("derivative");
                spans += view.spans.len();
            }
            let (red_cpu, red_wall) = (cpu_seconds() - cpu0, wall0.elapsed());
            println!(
                "round {round}: plain decrypt-and-copy {:.0} h/CPU-s ({plain_cpu:.2} CPU-s, {:.2} s wall); \
                 redaction {:.1} h/CPU-s ({red_cpu:.2} CPU-s, {:.2} s wall, {spans} spans); ratio {:.3}",
                hours / plain_cpu.max(0.01),
                plain_wall.as_secs_f64(),
                hours / red_cpu.max(0.01),
                red_wall.as_secs_f64(),
                plain_cpu.max(0.01) / red_cpu.max(0.01),
            );
        }
        service.close().await;
    });
}
