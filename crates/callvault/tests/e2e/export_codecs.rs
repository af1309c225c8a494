//! Export of live-recorded G.722, Opus and G.711 calls in every form the issue lists: one WAV
//! per participant (`--stream LABEL`), stereo WAV (customer left, agent right), mixed
//! mono (`--format wav`) and Ogg/Opus. SIPp plays the customer's stream from a pcap the
//! test generates (`sipp/siprec_codec_call.xml`); the test sends the agent's stream.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use media::AudioCodec;
use media::codec::{G722Encoder, OpusEncoder};

use crate::live::*;
use crate::support::*;

const CUSTOMER_HZ: f64 = 1000.0;
const AGENT_HZ: f64 = 600.0;
const CUSTOMER_MS: usize = 3000;
const AGENT_MS: usize = 2000;

/// `ms` of a tone as RTP payloads of 20 ms in `codec` (payload type `pt`), with the
/// RTP timestamp step of one packet.
fn payloads(codec: AudioCodec, hz: f64, ms: usize) -> (Vec<Vec<u8>>, u32) {
    match codec {
        AudioCodec::G722 => {
            let mut bytes = Vec::new();
            G722Encoder::new().encode(&tone(16000, hz, ms), &mut bytes);
            (bytes.chunks(160).map(<[u8]>::to_vec).collect(), 160)
        }
        AudioCodec::Opus => {
            let mut encoder = OpusEncoder::new(48000, 32000).unwrap();
            let packets = tone(48000, hz, ms)
                .chunks(960)
                .map(|frame| encoder.encode(frame).unwrap())
                .collect();
            (packets, 960)
        }
        AudioCodec::Pcmu => {
            let bytes: Vec<u8> = tone(8000, hz, ms).into_iter().map(media::ulaw_encode).collect();
            (bytes.chunks(160).map(<[u8]>::to_vec).collect(), 160)
        }
        other => panic!("not a codec of this test: {other:?}"),
    }
}

fn rtp_packets(codec: AudioCodec, pt: u8, hz: f64, ms: usize, ssrc: u32) -> Vec<RtpCapture> {
    let (payloads, step) = payloads(codec, hz, ms);
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| RtpCapture {
            time_us: 1_700_000_000_000_000 + i as u64 * 20_000,
            marker: i == 0,
            payload_type: pt,
            seq: 100u16.wrapping_add(i as u16),
            timestamp: 5000u32.wrapping_add(i as u32 * step),
            ssrc,
            payload,
        })
        .collect()
}

/// Sends `packets` to `to` from a socket of its own, 20 ms apart.
fn send_paced(packets: Vec<RtpCapture>, to: SocketAddr) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        for (i, p) in packets.iter().enumerate() {
            let due = start + Duration::from_millis(20 * i as u64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let mut datagram = vec![0x80, (u8::from(p.marker) << 7) | p.payload_type];
            datagram.extend_from_slice(&p.seq.to_be_bytes());
            datagram.extend_from_slice(&p.timestamp.to_be_bytes());
            datagram.extend_from_slice(&p.ssrc.to_be_bytes());
            datagram.extend_from_slice(&p.payload);
            socket.send_to(&datagram, to).unwrap();
        }
    })
}

/// The packets of an Ogg stream (RFC 3533), and the last page's granule position.
fn ogg_packets(bytes: &[u8]) -> (Vec<Vec<u8>>, u64) {
    let (mut packets, mut current, mut granule, mut at) = (Vec::new(), Vec::new(), 0u64, 0usize);
    while at + 27 <= bytes.len() {
        assert_eq!(&bytes[at..at + 4], b"OggS", "an Ogg page at byte {at}");
        granule = u64::from_le_bytes(bytes[at + 6..at + 14].try_into().unwrap());
        let segments = usize::from(bytes[at + 26]);
        let table = &bytes[at + 27..at + 27 + segments];
        let mut data = at + 27 + segments;
        for &len in table {
            current.extend_from_slice(&bytes[data..data + usize::from(len)]);
            data += usize::from(len);
            if len < 255 {
                packets.push(std::mem::take(&mut current));
            }
        }
        at = data;
    }
    (packets, granule)
}

/// Records a call in `codec` and checks each export form.
fn record_and_export(codec: AudioCodec, pt: u8, rtpmap: &str) {
    let name = codec.name();
    let rate = codec.sample_rate();
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let sipp = Sipp::prepare(&env, name);
    let customer = rtp_packets(codec, pt, CUSTOMER_HZ, CUSTOMER_MS, 0x0c05_7000);
    std::fs::write(sipp.dir.join("customer.pcap"), write_pcap_rtp(&customer)).unwrap();
    let pt_text = pt.to_string();
    let sipp = sipp.start(
        "siprec_codec_call.xml",
        &server,
        &["-key", "pt", &pt_text, "-key", "rtpmap", rtpmap],
    );
    let answer = wait_for(Duration::from_secs(15), || {
        responses_to(&sipp.messages(), "INVITE")
            .into_iter()
            .find(|a| a.starts_with("SIP/2.0 200"))
    })
    .unwrap_or_else(|| panic!("{name}: the call was not answered\n{}", context(&server, &sipp.logs())));
    let ports = answer_ports(&answer);
    assert_eq!(ports.len(), 2, "{name}: {answer}");
    assert!(answer.contains(rtpmap), "{name}: the answer keeps {rtpmap}: {answer}");
    // The agent speaks inside the customer's span, from its own socket.
    std::thread::sleep(Duration::from_millis(300));
    let agent = send_paced(
        rtp_packets(codec, pt, AGENT_HZ, AGENT_MS, 0x0a6e_7000),
        SocketAddr::from(([127, 0, 0, 1], ports[1])),
    );
    agent.join().unwrap();
    let outcome = sipp.wait();
    assert_sipp_ok(&outcome, &server);

    let list = wait_sealed(&env, &server, 1);
    let rec = &list[0];
    eprintln!("{name}: {rec}");
    assert_eq!(stream(rec, "1")["codec"], name, "{rec}");
    assert_eq!(stream(rec, "2")["codec"], name, "{rec}");
    let duration = duration_ms(rec);
    assert!(
        (duration - CUSTOMER_MS as i64).abs() <= 100,
        "{name}: duration {duration} ms, sent {CUSTOMER_MS} ms: {rec}"
    );
    let id = rec["id"].as_str().unwrap();
    let check = |samples: &[i16], hz: f64, ms: usize, what: &str| {
        let share = tone_share(samples, rate, hz);
        let sounding = sounding_ms(samples, rate);
        eprintln!("{name} {what}: {hz} Hz holds {share:.2} of the energy, sounding {sounding} ms");
        assert!(
            share > 0.5,
            "{name} {what}: {hz} Hz holds only {share:.2} of the energy"
        );
        assert!(
            (sounding - ms as i64).abs() <= 100,
            "{name} {what}: sounds {sounding} ms, sent {ms} ms"
        );
    };

    // One WAV per participant.
    let (got_rate, customer) = export_wav(&env, id, &["--stream", "1"], &format!("{name}-1.wav"));
    assert_eq!(
        (got_rate, customer.len()),
        (rate, 1),
        "{name}: mono at the codec's rate"
    );
    check(&customer[0], CUSTOMER_HZ, CUSTOMER_MS, "customer's stream");
    let (_, agent) = export_wav(&env, id, &["--stream", "2"], &format!("{name}-2.wav"));
    check(&agent[0], AGENT_HZ, AGENT_MS, "agent's stream");

    // Stereo: customer left, agent right.
    let (got_rate, stereo) = export_wav(&env, id, &["--format", "wav-stereo"], &format!("{name}-stereo.wav"));
    assert_eq!((got_rate, stereo.len()), (rate, 2), "{name}: stereo");
    check(&stereo[0], CUSTOMER_HZ, CUSTOMER_MS, "stereo left");
    check(&stereo[1], AGENT_HZ, AGENT_MS, "stereo right");

    // Mixed mono: both voices in one channel.
    let (_, mixed) = export_wav(&env, id, &["--format", "wav"], &format!("{name}-mixed.wav"));
    assert_eq!(mixed.len(), 1, "{name}: mixed mono");
    let (customer_share, agent_share) = (
        tone_share(&mixed[0], rate, CUSTOMER_HZ),
        tone_share(&mixed[0], rate, AGENT_HZ),
    );
    assert!(
        customer_share > 0.2 && agent_share > 0.2 && customer_share + agent_share > 0.8,
        "{name} mixed: {customer_share:.2} at {CUSTOMER_HZ} Hz, {agent_share:.2} at {AGENT_HZ} Hz"
    );

    // Ogg/Opus: two channels (customer left, agent right) of the call's length.
    let ogg = std::fs::read(export_file(&env, id, &["--format", "ogg"], &format!("{name}.ogg"))).unwrap();
    let (packets, granule) = ogg_packets(&ogg);
    assert!(packets[0].starts_with(b"OpusHead"), "{name}: OpusHead first");
    assert_eq!(packets[0][9], 2, "{name}: two channels in the Ogg/Opus export");
    let pre_skip = u64::from(u16::from_le_bytes([packets[0][10], packets[0][11]]));
    let ogg_ms = (granule - pre_skip) / 48;
    assert!(
        (ogg_ms as i64 - CUSTOMER_MS as i64).abs() <= 100,
        "{name}: the Ogg/Opus export lasts {ogg_ms} ms"
    );
    let mut decoder = media::codec::OpusDecoder::new().unwrap();
    let mut pcm = Vec::new();
    for packet in &packets[2..] {
        decoder.decode(packet, &mut pcm).unwrap();
    }
    let (customer_share, agent_share) = (tone_share(&pcm, 48000, CUSTOMER_HZ), tone_share(&pcm, 48000, AGENT_HZ));
    assert!(
        customer_share > 0.2 && agent_share > 0.2,
        "{name} ogg (down-mixed): {customer_share:.2} at {CUSTOMER_HZ} Hz, {agent_share:.2} at {AGENT_HZ} Hz"
    );
}

/// A live G.722 call (payload type 9): every export form decodes at 16 kHz to the tones sent.
#[test]
fn live_g722_call_exports_in_every_form() {
    if !sipp_available("live_g722_call_exports_in_every_form") {
        return;
    }
    record_and_export(AudioCodec::G722, 9, "G722/8000");
}

/// A live Opus call (payload type 111): every export form decodes at 48 kHz to the tones
/// sent (frame boundaries kept in storage).
#[test]
fn live_opus_call_exports_in_every_form() {
    if !sipp_available("live_opus_call_exports_in_every_form") {
        return;
    }
    record_and_export(AudioCodec::Opus, 111, "opus/48000/2");
}

/// A live G.711 µ-law call (payload type 0): every export form decodes at 8 kHz to the tones sent.
#[test]
fn live_g711_call_exports_in_every_form() {
    if !sipp_available("live_g711_call_exports_in_every_form") {
        return;
    }
    record_and_export(AudioCodec::Pcmu, 0, "PCMU/8000");
}
