//! Fuzz target: the RTP, RTCP and telephone-event parsers and a `StreamReceiver`
//! fed with the parsed packets must never panic, and the receiver's output must
//! stay one contiguous timeline.
//!
//! Input: one configuration byte, then records of `[length][arrival step ms][datagram]`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use media::codec::{AudioCodec, G722Decoder, PayloadTiming};
use media::dtmf::{TelephoneEvent, TelephoneEventTracker};
use media::jitter::{FrameBatch, ReceiverConfig, StreamReceiver};
use media::rtcp::{RtcpCompound, looks_like_rtcp};
use media::rtp::RtpPacket;

fuzz_target!(|data: &[u8]| {
    let Some((&config_byte, mut rest)) = data.split_first() else {
        return;
    };
    let (codec, payload_type) = [
        (AudioCodec::Pcmu, 0),
        (AudioCodec::Pcma, 8),
        (AudioCodec::G722, 9),
        (AudioCodec::Opus, 111),
    ][usize::from(config_byte & 3)];
    let config = ReceiverConfig {
        reorder_window_packets: [1, 4, 64, 1024][usize::from((config_byte >> 2) & 3)],
        reorder_window_ms: [0, 20, 200, 5000][usize::from((config_byte >> 4) & 3)],
        max_lead_ms: [0, 100, 2000, 60_000][usize::from(config_byte >> 6)],
        ..ReceiverConfig::new(codec, payload_type)
    };
    let mut receiver = StreamReceiver::new(config);
    let mut tracker = TelephoneEventTracker::new(8000);
    let mut g722 = G722Decoder::new();
    let mut batch = FrameBatch::new();
    let mut frames: Vec<(u64, u32, usize)> = Vec::new();
    let mut now = 0u64;
    let mut pcm = Vec::new();

    while let [len, step, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(len);
        rest = next;
        now += u64::from(*step);

        if let Ok(compound) = RtcpCompound::parse(datagram) {
            for packet in compound.packets() {
                std::hint::black_box(packet);
            }
        }
        let _ = TelephoneEvent::parse(datagram);
        if looks_like_rtcp(datagram) {
            continue;
        }
        if let Ok(packet) = RtpPacket::parse(datagram) {
            assert_eq!(RtpPacket::parse(&packet.to_bytes()), Ok(packet));
            if packet.payload_type == 101 {
                let _ = tracker.push(&packet);
            }
            if codec == AudioCodec::G722 {
                pcm.clear();
                g722.decode(packet.payload, &mut pcm);
                assert_eq!(pcm.len(), packet.payload.len() * 2);
            }
            receiver.push(&packet, now);
        }
        receiver.drain_ready_into(now, &mut batch);
        frames.extend(batch.iter().map(|f| (f.timeline, f.duration, f.payload.len())));
    }
    receiver.flush_into(&mut batch);
    frames.extend(batch.iter().map(|f| (f.timeline, f.duration, f.payload.len())));
    let _ = tracker.flush();

    for pair in frames.windows(2) {
        assert_eq!(pair[0].0 + u64::from(pair[0].1), pair[1].0, "timeline not contiguous");
    }
    if let PayloadTiming::BytesPerTick { bytes, .. } = codec.payload_timing() {
        for &(_, duration, len) in &frames {
            assert_eq!(len, duration as usize * usize::from(bytes));
        }
    }
    let stats = receiver.stats();
    assert!(stats.received >= stats.reordered);
});
