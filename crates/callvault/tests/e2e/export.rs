//! Export formats: `--format ogg` writes an Ogg Opus file (RFC 7845), stereo for a
//! two-party call, mono for one stream, checked here with a parser of its own.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// What the checks need from an Ogg Opus file.
struct OggOpus {
    channels: u8,
    pre_skip: u64,
    input_rate: u32,
    /// The granule position of the last page (48 kHz samples, pre-skip included).
    final_granule: u64,
    /// The audio packets, in order.
    packets: Vec<Vec<u8>>,
}

impl OggOpus {
    /// The playable duration in 48 kHz samples.
    fn samples_48k(&self) -> u64 {
        self.final_granule - self.pre_skip
    }
}

/// CRC-32 of Ogg pages: polynomial 0x04C11DB7, no reflection, initial value 0.
fn ogg_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in bytes {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Parses and checks a whole Ogg Opus file: page framing and CRCs, one logical
/// stream, BOS/EOS flags, the two headers on their own pages, growing granule positions.
fn parse_ogg_opus(file: &[u8]) -> OggOpus {
    let mut packets: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut partial = Vec::new();
    let mut at = 0;
    let mut pages = 0u32;
    let mut serial = None;
    let mut last_flags = 0;
    let mut last_granule = 0u64;
    while at < file.len() {
        let page = &file[at..];
        assert!(page.len() >= 27 && &page[..4] == b"OggS", "an Ogg page at byte {at}");
        assert_eq!(page[4], 0, "version");
        let flags = page[5];
        let granule = u64::from_le_bytes(page[6..14].try_into().unwrap());
        let this_serial = u32::from_le_bytes(page[14..18].try_into().unwrap());
        assert_eq!(*serial.get_or_insert(this_serial), this_serial, "one logical stream");
        assert_eq!(
            u32::from_le_bytes(page[18..22].try_into().unwrap()),
            pages,
            "page sequence"
        );
        let segments = usize::from(page[26]);
        let lacing = &page[27..27 + segments];
        let len = 27 + segments + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
        let mut copy = page[..len].to_vec();
        let crc = u32::from_le_bytes(copy[22..26].try_into().unwrap());
        copy[22..26].fill(0);
        assert_eq!(ogg_crc(&copy), crc, "CRC of page {pages}");
        assert_eq!(flags & 0x02 != 0, pages == 0, "BOS on the first page only");
        assert_eq!(
            flags & 0x01 != 0,
            !partial.is_empty(),
            "continuation flag of page {pages}"
        );
        if pages >= 2 {
            assert!(granule != u64::MAX && granule >= last_granule, "granule positions grow");
            last_granule = granule;
        }
        let mut body = &page[27 + segments..len];
        for &l in lacing {
            partial.extend_from_slice(&body[..usize::from(l)]);
            body = &body[usize::from(l)..];
            if l < 255 {
                packets.push((std::mem::take(&mut partial), granule));
            }
        }
        if pages < 2 {
            assert_eq!(packets.len(), pages as usize + 1, "each header alone on its page");
        }
        last_flags = flags;
        pages += 1;
        at += len;
    }
    assert!(partial.is_empty(), "no unfinished packet");
    assert!(last_flags & 0x04 != 0, "EOS on the last page");
    assert!(packets.len() >= 3, "head, tags and audio");
    let head = &packets[0].0;
    assert_eq!(head.len(), 19);
    assert_eq!(&head[..8], b"OpusHead");
    assert_eq!((head[8], head[18]), (1, 0), "version 1, mapping family 0");
    let tags = &packets[1].0;
    assert_eq!(&tags[..8], b"OpusTags");
    OggOpus {
        channels: head[9],
        pre_skip: u64::from(u16::from_le_bytes([head[10], head[11]])),
        input_rate: u32::from_le_bytes(head[12..16].try_into().unwrap()),
        final_granule: last_granule,
        packets: packets.into_iter().skip(2).map(|(p, _)| p).collect(),
    }
}

/// Decodes to mono 48 kHz PCM (libopus down-mixes stereo) without pre-skip, trimmed
/// to the final granule position.
fn decode_mono(ogg: &OggOpus) -> Vec<i16> {
    let mut decoder = media::AudioCodec::Opus.decoder().unwrap();
    let mut pcm = Vec::new();
    for packet in &ogg.packets {
        decoder.decode_into(packet, &mut pcm).unwrap();
    }
    assert!(
        pcm.len() as u64 >= ogg.final_granule,
        "the audio reaches the final granule"
    );
    pcm[ogg.pre_skip as usize..ogg.final_granule as usize].to_vec()
}

/// Normalised correlation of `a` and `b` at the best lag within ±`max_lag` samples.
fn best_correlation(a: &[i16], b: &[i16], max_lag: isize) -> (isize, f64) {
    let n = a.len().min(b.len());
    (-max_lag..=max_lag)
        .map(|lag| {
            let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
            for (i, &x) in a.iter().enumerate().take(n - n / 20).skip(n / 20) {
                let j = i as isize + lag;
                if j < 0 || j as usize >= n {
                    continue;
                }
                let (x, y) = (f64::from(x), f64::from(b[j as usize]));
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
            (lag, ab / (aa * bb).sqrt().max(1.0))
        })
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap()
}

fn posti_with_example_call(env: &Env) -> String {
    env.posti_tenant();
    let wav = std::fs::read(repo().join("examples/call.wav")).unwrap();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("examples/call.meta.json")).unwrap()).unwrap();
    env.ingest("posti", &wav, &meta).unwrap()
}

fn export_ogg(env: &Env, id: &str, out: &Path, extra: &[&str]) -> OggOpus {
    let mut args = vec![
        "recordings",
        "export",
        id,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "ogg",
        "--purpose",
        "verify-agreement",
        "--reason",
        "customer asked for a copy of the call",
    ];
    args.extend_from_slice(extra);
    let stdout = env.ok(&args);
    let file = std::fs::read(out).unwrap();
    // The file's SHA-256 is printed.
    let digest = stdout.trim().rsplit("sha256:").next().unwrap();
    assert_eq!(digest.len(), 64, "{stdout}");
    parse_ogg_opus(&file)
}

#[test]
fn export_ogg_writes_a_stereo_ogg_opus_file_of_the_calls_length() {
    let env = Env::new(Some("eu-eea"));
    let id = posti_with_example_call(&env);
    let original = media::parse_wav(&std::fs::read(repo().join("examples/call.wav")).unwrap()).unwrap();
    assert_eq!((original.channels, original.sample_rate), (2, 8000));
    let frames = original.data.len() as u64 / 4;

    let ogg = export_ogg(&env, &id, &env.path().join("call.ogg"), &[]);
    assert_eq!(ogg.channels, 2, "customer left, agent right");
    assert_eq!(ogg.input_rate, 8000);
    assert!(ogg.pre_skip > 0);
    assert_eq!(ogg.samples_48k(), frames * 6, "the call's duration at 48 kHz");
    assert!(!env.path().join("call.partial").exists());

    // It is the call: the decoded down-mix follows the original's mix.
    let pcm: Vec<i16> = original
        .data
        .chunks_exact(4)
        .map(|f| {
            let (l, r) = (i16::from_le_bytes([f[0], f[1]]), i16::from_le_bytes([f[2], f[3]]));
            ((i32::from(l) + i32::from(r)) / 2) as i16
        })
        .collect();
    let reference = media::ogg_opus::resample(&pcm, 8000, 48_000);
    let decoded = decode_mono(&ogg);
    assert_eq!(decoded.len(), reference.len());
    let (lag, corr) = best_correlation(&reference, &decoded, 24);
    assert!(corr > 0.95 && lag.abs() <= 6, "correlation {corr:.3} at lag {lag}");

    // The read is audited like any other export.
    let audit = env.audit();
    assert!(
        audit
            .iter()
            .any(|e| e.to_string().contains("recording.download") && e.to_string().contains("Ogg")),
        "an audited export in Ogg format"
    );
}

#[test]
fn export_ogg_of_one_stream_is_mono() {
    let env = Env::new(Some("eu-eea"));
    let id = posti_with_example_call(&env);
    let ogg = export_ogg(&env, &id, &env.path().join("customer.ogg"), &["--stream", "customer"]);
    assert_eq!(ogg.channels, 1);
    assert_eq!(ogg.samples_48k(), 4 * 48_000, "the example call lasts 4 s");
    let original = media::parse_wav(&std::fs::read(repo().join("examples/call.wav")).unwrap()).unwrap();
    let customer: Vec<i16> = original
        .data
        .chunks_exact(4)
        .map(|f| i16::from_le_bytes([f[0], f[1]]))
        .collect();
    let (lag, corr) = best_correlation(
        &media::ogg_opus::resample(&customer, 8000, 48_000),
        &decode_mono(&ogg),
        24,
    );
    assert!(corr > 0.95 && lag.abs() <= 6, "correlation {corr:.3} at lag {lag}");
}

#[test]
fn export_ogg_of_a_generated_stereo_call_has_its_duration() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let id = env
        .ingest(
            "posti",
            &stereo_call(3),
            &meta("inbound", &["verify-agreement"], serde_json::json!({})),
        )
        .unwrap();
    let ogg = export_ogg(&env, &id, &env.path().join("out.ogg"), &[]);
    assert_eq!(ogg.channels, 2);
    assert_eq!(ogg.samples_48k(), 3 * 48_000);
}
