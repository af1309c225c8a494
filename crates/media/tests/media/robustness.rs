//! No-panic loops: random datagrams through every parser, and random packet streams
//! through the receiver, whose output must stay contiguous.

use crate::support::*;
use media::codec::AudioCodec;
use media::dtmf::TelephoneEventTracker;
use media::jitter::{FrameBatch, ReceiverConfig, StreamReceiver};
use media::rtcp::RtcpCompound;
use media::rtp::RtpPacket;

#[test]
fn parsers_never_panic_on_random_bytes() {
    let mut rng = Rng(0x5EED);
    let mut tracker = TelephoneEventTracker::new(8000);
    for _ in 0..50_000 {
        let len = rng.below(80);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len > 0 && rng.below(2) == 0 {
            bytes[0] = 0x80 | (bytes[0] & 0x3F); // version 2 most of the time
        }
        if let Ok(p) = RtpPacket::parse(&bytes) {
            assert!(p.payload.len() + 12 <= bytes.len());
            assert_eq!(RtpPacket::parse(&p.to_bytes()), Ok(p));
            let _ = tracker.push(&p);
        }
        if let Ok(compound) = RtcpCompound::parse(&bytes) {
            for packet in compound.packets() {
                let _ = format!("{packet:?}");
            }
        }
    }
}

#[test]
fn receiver_output_stays_contiguous_on_random_streams() {
    let codecs = [
        (AudioCodec::Pcmu, 0u8),
        (AudioCodec::G722, 9),
        (AudioCodec::Opus, 111),
        (AudioCodec::L16 { clock_rate: 16000 }, 96),
    ];
    let mut rng = Rng(0xC0FFEE);
    for round in 0..200 {
        let (codec, pt) = codecs[round % codecs.len()];
        let config = ReceiverConfig {
            reorder_window_packets: [1, 4, 64, 1024][rng.below(4)],
            reorder_window_ms: [0, 60, 200][rng.below(3)],
            max_lead_ms: [0, 100, 2000][rng.below(3)],
            ..ReceiverConfig::new(codec, pt)
        };
        let mut receiver = StreamReceiver::new(config);
        let mut batch = FrameBatch::new();
        let mut frames = Vec::new();
        let (mut seq, mut ts, mut now) = (rng.next() as u16, rng.next() as u32, 0u64);
        let ssrcs = [1u32, 2, rng.next() as u32];
        for _ in 0..rng.below(400) {
            // Mostly a normal stream, with every kind of disturbance.
            match rng.below(20) {
                0 => seq = seq.wrapping_add(rng.below(5000) as u16),
                1 => seq = seq.wrapping_sub(rng.below(100) as u16),
                2 => ts = ts.wrapping_add(rng.next() as u32),
                3 => now += rng.below(5000) as u64,
                _ => {}
            }
            let payload: Vec<u8> = (0..rng.below(400)).map(|_| rng.next() as u8).collect();
            let packet_pt = if rng.below(10) == 0 { 101 } else { pt };
            let ssrc = ssrcs[if rng.below(30) == 0 { rng.below(3) } else { 0 }];
            receiver.push(&RtpPacket::new(packet_pt, seq, ts, ssrc, &payload), now);
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(160);
            now += rng.below(40) as u64;
            if rng.below(3) == 0 {
                receiver.drain_ready_into(now, &mut batch);
                frames.extend(batch.iter().map(|f| (f.timeline, f.duration)));
            }
        }
        receiver.flush_into(&mut batch);
        frames.extend(batch.iter().map(|f| (f.timeline, f.duration)));
        for pair in frames.windows(2) {
            assert_eq!(pair[0].0 + u64::from(pair[0].1), pair[1].0, "round {round}: {pair:?}");
        }
        let s = receiver.stats();
        assert!(s.received + s.duplicates + s.late_dropped > 0 || frames.is_empty());
    }
}

#[test]
fn opus_decoder_refuses_garbage_without_panicking() {
    let mut rng = Rng(77);
    let mut decoder = AudioCodec::Opus.decoder().unwrap();
    let mut out = Vec::new();
    for _ in 0..2000 {
        let bytes: Vec<u8> = (0..1 + rng.below(200)).map(|_| rng.next() as u8).collect();
        if let Err(e) = decoder.decode_into(&bytes, &mut out) {
            assert_eq!(e.code(), "codec-opus");
        }
    }
}
