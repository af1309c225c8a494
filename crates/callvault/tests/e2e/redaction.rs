//! Redaction end to end (CSI-FAQ, ARLO-PSEUDO): speech made with espeak-ng (a name, a
//! phone number and a card number, word by word so every word's timing is known), a
//! two-channel call ingested, its transcript imported from those timings, then FAQ clips
//! and a training copy made, reviewed, approved and exported, and the source deleted by
//! retention. espeak-ng must be installed (`scripts/deps --test`): without it the test
//! fails, it is never skipped.

use std::collections::HashMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::*;

const ADMIN_PW: &str = "csi-admin-password-01";
const FAQ_PW: &str = "faq-manager-password-02";
const CEO_PW: &str = "ceo-password-000003";
const RATE: u32 = 8000;

fn faq(env: &Env, args: &[&str]) -> Result<String, String> {
    as_user(env, "faq", FAQ_PW, args)
}

/// One word of the call: its channel and its samples `[start, end)` at 8 kHz.
#[derive(Debug, Clone)]
struct Spoken {
    channel: usize,
    text: &'static str,
    start: usize,
    end: usize,
}

/// `text` spoken by espeak-ng, at 8 kHz.
fn speak(env: &Env, text: &str, cache: &mut HashMap<String, Vec<i16>>) -> Vec<i16> {
    if let Some(found) = cache.get(text) {
        return found.clone();
    }
    let file = env.path().join("word.wav");
    let out = Command::new("espeak-ng")
        .args(["-v", "en", "-s", "170", "-w"])
        .arg(&file)
        .arg(text)
        .output()
        .unwrap_or_else(|e| {
            panic!("espeak-ng is required by the redaction tests (Debian package espeak-ng; scripts/deps --test installs it): {e}")
        });
    assert!(
        out.status.success(),
        "espeak-ng failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wav = media::parse_wav(&std::fs::read(&file).unwrap()).expect("espeak-ng writes a WAV");
    let mono = wav.to_pcm16_channels().remove(0);
    let samples = media::ogg_opus::resample(&mono, wav.sample_rate, RATE);
    cache.insert(text.to_owned(), samples.clone());
    samples
}

const CUSTOMER: &[&str] = &[
    "hello", "is", "that", "Alex", "my", "number", "is", "oh", "seven", "seven", "zero", "zero", "nine", "zero",
    "zero", "one", "two", "three", "and", "my", "card", "is", "four", "one", "one", "one", "one", "one", "one", "one",
    "one", "one", "one", "one", "one", "one", "one", "one", "thanks",
];
const AGENT: &[&str] = &["yes", "this", "is", "Alex", "how", "can", "I", "help"];

/// Words that must not survive: the agent's name, the spoken phone and card numbers.
fn is_pii(word: &Spoken) -> bool {
    word.text == "Alex"
        || matches!(
            word.text,
            "oh" | "zero" | "one" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine"
        )
}

/// The call: the agent answers first, then the customer speaks; a quiet deterministic
/// noise under everything, so "unchanged" and "silenced" are both visible.
fn build_call(env: &Env) -> (Vec<Vec<i16>>, Vec<Spoken>) {
    let mut cache = HashMap::new();
    let mut words = Vec::new();
    let mut channels = vec![Vec::<i16>::new(), Vec::<i16>::new()];
    let gap = RATE as usize / 10;
    let mut at = RATE as usize / 2;
    for (channel, list) in [(1usize, AGENT), (0, CUSTOMER)] {
        for text in list.iter() {
            let samples = speak(env, text, &mut cache);
            let end = at + samples.len();
            for ch in channels.iter_mut() {
                ch.resize(end + gap, 0);
            }
            channels[channel][at..end].copy_from_slice(&samples);
            words.push(Spoken {
                channel,
                text,
                start: at,
                end,
            });
            at = end + gap;
        }
        at += RATE as usize / 2;
    }
    let len = at + RATE as usize / 2;
    for (seed, ch) in channels.iter_mut().enumerate() {
        ch.resize(len, 0);
        for (s, n) in ch.iter_mut().zip(samples(seed as u32 + 11, len)) {
            *s = s.saturating_add(n / 40);
        }
    }
    (channels, words)
}

/// Whisper JSON for one channel, from the known timings (milliseconds, rounded outwards).
fn whisper(words: &[Spoken], channel: usize) -> Value {
    let list: Vec<Value> = words
        .iter()
        .filter(|w| w.channel == channel)
        .map(|w| {
            json!({
                "word": format!(" {}", w.text),
                "start": (w.start / 8) as f64 / 1000.0,
                "end": w.end.div_ceil(8) as f64 / 1000.0,
            })
        })
        .collect();
    let start = list.first().map_or(0.0, |w| w["start"].as_f64().unwrap());
    let end = list.last().map_or(0.0, |w| w["end"].as_f64().unwrap());
    json!({"segments": [{"id": 0, "start": start, "end": end, "text": "", "words": list}]})
}

fn csi_people(env: &Env) {
    env.create_tenant("csi", "csi-works");
    env.ok(&["tenant", "set", "csi", "--retention", "30 days"]);
    admin_init(env, "csi", "admin", ADMIN_PW);
    for (name, role, password) in [("faq", "faq-content-manager", FAQ_PW), ("ceo", "ceo", CEO_PW)] {
        as_user_stdin(
            env,
            "admin",
            ADMIN_PW,
            &[
                "user",
                "add",
                name,
                "--tenant",
                "csi",
                "--role",
                role,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .unwrap();
    }
}

#[test]
fn csi_faq_redaction_of_a_spoken_name_phone_and_card_number() {
    let env = Env::new(None);
    csi_people(&env);
    let (channels, words) = build_call(&env);
    let wav = media::write_wav_pcm16(RATE, &channels);
    let mut meta = meta("inbound", &["faq-content", "training-performance"], json!({}));
    meta["agent"] = json!("Alex Agent");
    let id = env.ingest("csi", &wav, &meta).expect("ingest");

    // The transcript, one stream at a time, from the known timings.
    for (channel, label) in [(0, "customer"), (1, "agent")] {
        let file = env.write(
            &format!("{label}.json"),
            whisper(&words, channel).to_string().as_bytes(),
        );
        let out = faq(
            &env,
            &[
                "transcript",
                "import",
                &id,
                &file,
                "--format",
                "whisper",
                "--stream",
                label,
                "--purpose",
                "faq-content",
                "--reason",
                "FAQ-12 clip",
            ],
        )
        .unwrap();
        assert!(out.contains("words"), "{out}");
    }
    let shown: Value = serde_json::from_str(
        &faq(
            &env,
            &[
                "transcript",
                "show",
                &id,
                "--purpose",
                "faq-content",
                "--reason",
                "FAQ-12",
                "--json",
            ],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(shown["words"].as_array().unwrap().len(), words.len());
    // Detection on its own: kinds and times, never the values.
    let findings = faq(
        &env,
        &[
            "transcript",
            "findings",
            &id,
            "--purpose",
            "faq-content",
            "--reason",
            "FAQ-12",
            "--json",
        ],
    )
    .unwrap();
    for kind in ["\"name\"", "\"known-number\"", "\"card-number\""] {
        assert!(findings.contains(kind), "{kind} in {findings}");
    }
    let bare = without_hex_ids(&findings);
    assert!(!bare.contains("Alex") && !bare.contains("4111"), "{findings}");
    // A malformed transcript is refused with a code.
    let bad = env.write("bad.json", b"{\"segments\": 7}");
    assert_eq!(
        faq(
            &env,
            &[
                "transcript",
                "import",
                &id,
                &bad,
                "--format",
                "whisper",
                "--purpose",
                "faq-content",
                "--reason",
                "x"
            ]
        ),
        Err("transcript-invalid".into())
    );

    // An FAQ clip of the whole call with a tone over every span.
    let clip: Value = serde_json::from_str(
        &faq(
            &env,
            &[
                "derivative",
                "create",
                &id,
                "--kind",
                "faq-clip",
                "--purpose",
                "faq-content",
                "--reason",
                "FAQ-12 clip",
                "--fill",
                "tone",
                "--json",
            ],
        )
        .unwrap(),
    )
    .unwrap();
    let clip_id = clip["id"].as_str().unwrap().to_owned();
    assert_eq!(clip["state"], "draft");
    let kinds: Vec<&str> = clip["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    for kind in ["name", "known-number", "card-number"] {
        assert!(kinds.contains(&kind), "{kind} found: {kinds:?}");
    }

    // Not approved: no export. The wrong role cannot approve.
    let out = env.path().join("clip.wav");
    let out_s = out.to_str().unwrap();
    let export = [
        "derivative",
        "export",
        &clip_id,
        "--purpose",
        "faq-content",
        "--reason",
        "publish",
        "--out",
        out_s,
    ];
    assert_eq!(faq(&env, &export), Err("derivative-not-approved".into()));
    assert!(!out.exists());
    assert_eq!(
        as_user(&env, "ceo", CEO_PW, &["derivative", "approve", &clip_id]),
        Err("approver-role-required".into())
    );
    // Manual review: one more span, on the agent's "help".
    let help = words.iter().find(|w| w.text == "help").unwrap();
    let manual = format!("{}-{}", help.start / 8, help.end.div_ceil(8));
    faq(
        &env,
        &[
            "derivative",
            "review",
            &clip_id,
            "--add",
            &manual,
            "--reason",
            "FAQ-12 review",
        ],
    )
    .unwrap();
    faq(&env, &["derivative", "approve", &clip_id]).unwrap();
    let transcript_out = env.path().join("clip.json");
    let mut export_t = export.to_vec();
    export_t.extend(["--transcript", transcript_out.to_str().unwrap()]);
    faq(&env, &export_t).unwrap();

    // Every sample inside a redacted range is the tone; every other sample is unchanged.
    let view: Value = serde_json::from_str(&faq(&env, &["derivative", "show", &clip_id, "--json"]).unwrap()).unwrap();
    let exported = media::parse_wav(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((exported.channels, exported.sample_rate), (2, RATE));
    let got = exported.to_pcm16_channels();
    let stream_ranges = derivative_ranges(&env, &clip_id);
    for (channel, original) in channels.iter().enumerate() {
        let covered = &stream_ranges[&(channel as i64)];
        assert_eq!(got[channel].len(), original.len());
        for (i, (a, b)) in original.iter().zip(&got[channel]).enumerate() {
            match covered.iter().find(|(s, e)| (*s..*e).contains(&i)) {
                Some((s, _)) => assert_eq!(
                    *b,
                    redact::Fill::TONE.sample(i - s, RATE),
                    "channel {channel} sample {i}"
                ),
                None => assert_eq!(a, b, "channel {channel} sample {i} outside the spans changed"),
            }
        }
        // Every PII word (and the manual span) lies inside the ranges, on both channels.
        for w in words.iter().filter(|w| is_pii(w) || w.text == "help") {
            assert!(
                covered.iter().any(|(s, e)| *s <= w.start && w.end <= *e),
                "{:?} not covered on channel {channel}",
                w
            );
        }
    }
    // The redacted transcript and the metadata hold none of the PII.
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&transcript_out).unwrap()).unwrap();
    let texts: Vec<&str> = t["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"[redacted]") && texts.contains(&"hello") && texts.contains(&"card"),
        "{texts:?}"
    );
    for w in &texts {
        assert!(
            !matches!(
                *w,
                "Alex" | "oh" | "zero" | "one" | "two" | "three" | "four" | "seven" | "nine" | "help"
            ),
            "{w} left in {texts:?}"
        );
    }
    // Random ids, hashes and pseudonyms are hex: a run of them may hold "4111" by chance
    // (it did: an id ending in "3b41112d"); digits written as digits are kept.
    assert_eq!(
        without_hex_ids(r##"{"id":"01a20bb7-e491-73d8-ae5d-19be3b41112d","n":"4111 1111"}"##),
        r##"{"id":"#","n":"4111 1111"}"##
    );
    let shown = without_hex_ids(&view.to_string());
    for secret in ["Alex", "447700900123", "07700900123", "4111", "customer_number"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(view["approved_by"].as_str().unwrap().contains("faq"), "{view}");

    // A training copy: whole call, pseudonymous participants, no approver named (auto).
    let training = faq(
        &env,
        &[
            "derivative",
            "create",
            &id,
            "--kind",
            "training",
            "--purpose",
            "training-performance",
            "--reason",
            "coaching",
            "--fill",
            "silence",
        ],
    )
    .unwrap();
    let training = training.trim().to_owned();
    let tview: Value = serde_json::from_str(&faq(&env, &["derivative", "show", &training, "--json"]).unwrap()).unwrap();
    assert_eq!(tview["state"], "approved");
    let pseudonyms: Vec<&str> = tview["metadata"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pseudonym"].as_str().unwrap())
        .collect();
    assert!(
        pseudonyms.iter().all(|p| p.starts_with("participant-")),
        "{pseudonyms:?}"
    );
    let training_wav = env.path().join("training.wav");
    as_user(
        &env,
        "ceo",
        CEO_PW,
        &[
            "derivative",
            "export",
            &training,
            "--purpose",
            "training-performance",
            "--reason",
            "coaching",
            "--out",
            training_wav.to_str().unwrap(),
        ],
    )
    .unwrap();
    let silenced = media::parse_wav(&std::fs::read(&training_wav).unwrap())
        .unwrap()
        .to_pcm16_channels();
    for (channel, covered) in derivative_ranges(&env, &training) {
        for (s, e) in covered {
            assert!(
                silenced[channel as usize][s..e].iter().all(|x| *x == 0),
                "silence on {channel}"
            );
        }
    }

    // An anonymous clip (the greeting only, before any PII) survives its source.
    let first_pii = words.iter().filter(|w| is_pii(w)).map(|w| w.start).min().unwrap();
    let to = (first_pii / 8 - 400).to_string();
    let anonymous = faq(
        &env,
        &[
            "derivative",
            "create",
            &id,
            "--kind",
            "faq-clip",
            "--purpose",
            "faq-content",
            "--reason",
            "FAQ-13",
            "--from",
            "0",
            "--to",
            &to,
        ],
    )
    .unwrap()
    .trim()
    .to_owned();
    faq(&env, &["derivative", "approve", &anonymous, "--anonymous"]).unwrap();

    // Retention deletes the source: its non-anonymous derivatives go with it.
    env.ok(&["retention", "run", "--now", "2027-06-01T00:00:00Z"]);
    assert_eq!(faq(&env, &["derivative", "show", &clip_id]), Err("not-found".into()));
    assert_eq!(faq(&env, &["derivative", "show", &training]), Err("not-found".into()));
    let kept: Value = serde_json::from_str(&faq(&env, &["derivative", "show", &anonymous, "--json"]).unwrap()).unwrap();
    assert!(
        kept["anonymous"].as_bool().unwrap() && kept["source_erased_at"].is_string(),
        "{kept}"
    );
    let kept_wav = env.path().join("kept.wav");
    faq(
        &env,
        &[
            "derivative",
            "export",
            &anonymous,
            "--purpose",
            "faq-content",
            "--reason",
            "publish",
            "--out",
            kept_wav.to_str().unwrap(),
        ],
    )
    .unwrap();
    // No object of the erased derivatives is left on disk.
    let left: Vec<String> = Env::files_under(&env.data().join("objects"))
        .into_iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .filter(|p| p.contains(&clip_id) || p.contains(&training) || p.contains(&id))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The audit trail names every step, and its details hold no PII.
    let audit = env.audit();
    for action in [
        "transcript.import",
        "transcript.read",
        "derivative.create",
        "derivative.review",
        "derivative.approve",
    ] {
        assert!(audit.iter().any(|e| e["action"] == action), "{action} audited");
    }
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "derivative.export" && e["outcome"] == "denied"),
        "the refused export is audited"
    );
    for event in audit.iter().filter(|e| {
        let a = e["action"].as_str().unwrap_or_default();
        a.starts_with("derivative.") || a.starts_with("transcript.")
    }) {
        let text = without_hex_ids(&event.to_string());
        assert!(
            !text.contains("Alex") && !text.contains("4111") && !text.contains("07700"),
            "{text}"
        );
    }
}

/// `text` with every run of at least 8 hex digits and dashes that holds a letter (a UUID,
/// a digest, an HMAC, a pseudonym) replaced by `#`, so that a search for a number's
/// digits finds them only where they were written as digits.
fn without_hex_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 8 && run.chars().any(|c| c.is_ascii_lowercase()) {
            out.push('#');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `{stream idx: [(start, end)]}` of a derivative's redacted sample ranges.
fn derivative_ranges(env: &Env, id: &str) -> HashMap<i64, Vec<(usize, usize)>> {
    let view: Value = serde_json::from_str(&faq(env, &["derivative", "show", id, "--json"]).unwrap()).unwrap();
    view["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let ranges = s["redacted_samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r[0].as_u64().unwrap() as usize, r[1].as_u64().unwrap() as usize))
                .collect();
            (s["idx"].as_i64().unwrap(), ranges)
        })
        .collect()
}
