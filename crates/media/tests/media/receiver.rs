//! StreamReceiver scenarios as data: packets in (sequence, timestamp, source,
//! arrival), frames out (position, length, which packet or a gap), and the counters.

use media::codec::AudioCodec;
use media::jitter::{FrameBatch, ReceiverConfig, ReceiverStats, StreamReceiver};
use media::rtp::RtpPacket;

const A: u32 = 0xA000_0001;
const B: u32 = 0xB000_0002;
const PCMU: u8 = 0;
const EVENT: u8 = 101;

/// One step of a scenario.
#[derive(Clone, Copy)]
enum Step {
    /// A 20 ms PCMU packet of source A: (seq, timestamp, arrival ms). Its payload is
    /// 160 copies of the low byte of `seq`, so frames can be traced to packets.
    P(u16, u32, u64),
    /// The same from another source.
    S(u32, u16, u32, u64),
    /// A packet of another payload type (telephone-event) of source A.
    E(u16, u32, u64),
    /// Release what is ready at this time.
    Drain(u64),
    /// End of stream.
    Flush,
}
use Step::*;

/// What a frame is: the seq byte of its packet, or a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Pkt(u8),
    Gap,
}
use Out::*;

/// (timeline position, duration in ticks, what).
type FrameSummary = (u64, u32, Out);

fn run(config: ReceiverConfig, steps: &[Step]) -> (Vec<FrameSummary>, ReceiverStats) {
    let mut receiver = StreamReceiver::new(config);
    let silence = match config.codec {
        AudioCodec::Pcma => 0xD5,
        _ => 0xFF,
    };
    let mut batch = FrameBatch::new();
    let mut frames = Vec::new();
    let collect = |batch: &FrameBatch, frames: &mut Vec<FrameSummary>| {
        for f in batch.iter() {
            assert_eq!(f.payload.len() as u32, f.duration, "G.711: one byte per tick");
            let what = if f.was_gap {
                assert!(f.payload.iter().all(|&b| b == silence), "gap filled with codec silence");
                Gap
            } else {
                assert!(f.payload.iter().all(|&b| b == f.payload[0]));
                Pkt(f.payload[0])
            };
            frames.push((f.timeline, f.duration, what));
        }
    };
    for &step in steps {
        let (ssrc, pt, seq, ts, arrival) = match step {
            P(seq, ts, at) => (A, PCMU, seq, ts, at),
            S(ssrc, seq, ts, at) => (ssrc, PCMU, seq, ts, at),
            E(seq, ts, at) => (A, EVENT, seq, ts, at),
            Drain(now) => {
                receiver.drain_ready_into(now, &mut batch);
                collect(&batch, &mut frames);
                continue;
            }
            Flush => {
                receiver.flush_into(&mut batch);
                collect(&batch, &mut frames);
                continue;
            }
        };
        let payload = [seq as u8; 160];
        let event = [1u8, 0x0A, 0, 160];
        let body: &[u8] = if pt == EVENT { &event } else { &payload };
        receiver.push(&RtpPacket::new(pt, seq, ts, ssrc, body), arrival);
    }
    receiver.flush_into(&mut batch);
    collect(&batch, &mut frames);
    // The timeline is contiguous.
    for pair in frames.windows(2) {
        assert_eq!(pair[0].0 + u64::from(pair[0].1), pair[1].0, "contiguous: {pair:?}");
    }
    (frames, receiver.stats())
}

fn pcmu() -> ReceiverConfig {
    ReceiverConfig::new(AudioCodec::Pcmu, PCMU)
}

/// Frames of consecutive 160-tick packets starting at `pos`, traced by seq byte.
fn packets(pos: u64, seqs: &[u8]) -> Vec<FrameSummary> {
    seqs.iter()
        .enumerate()
        .map(|(i, &s)| (pos + 160 * i as u64, 160, Pkt(s)))
        .collect()
}

fn gaps(pos: u64, count: usize) -> Vec<FrameSummary> {
    (0..count).map(|i| (pos + 160 * i as u64, 160, Gap)).collect()
}

fn stats(received: u64, lost: u64, duplicates: u64, reordered: u64, late: u64) -> ReceiverStats {
    ReceiverStats {
        received,
        lost,
        duplicates,
        reordered,
        late_dropped: late,
        ..ReceiverStats::default()
    }
}

struct Case {
    name: &'static str,
    config: ReceiverConfig,
    steps: Vec<Step>,
    frames: Vec<FrameSummary>,
    stats: ReceiverStats,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "in order",
            config: pcmu(),
            steps: vec![P(10, 1000, 0), P(11, 1160, 20), P(12, 1320, 40)],
            frames: packets(0, &[10, 11, 12]),
            stats: stats(3, 0, 0, 0, 0),
        },
        Case {
            name: "sequence wraps 65535 -> 0",
            config: pcmu(),
            steps: vec![
                P(65534, 0, 0),
                P(65535, 160, 20),
                P(0, 320, 40),
                P(1, 480, 60),
                P(2, 640, 80),
            ],
            frames: packets(0, &[0xFE, 0xFF, 0, 1, 2]),
            stats: stats(5, 0, 0, 0, 0),
        },
        Case {
            name: "reordered across the wrap",
            config: pcmu(),
            steps: vec![P(65534, 0, 0), P(0, 320, 20), P(65535, 160, 25), P(1, 480, 40)],
            frames: packets(0, &[0xFE, 0xFF, 0, 1]),
            stats: stats(4, 0, 0, 1, 0),
        },
        Case {
            name: "timestamp wraps with the sequence",
            config: pcmu(),
            steps: vec![
                P(100, u32::MAX - 319, 0),
                P(101, u32::MAX - 159, 20),
                P(102, 0, 40),
                P(103, 160, 60),
            ],
            frames: packets(0, &[100, 101, 102, 103]),
            stats: stats(4, 0, 0, 0, 0),
        },
        Case {
            name: "reordering within the window",
            config: pcmu(),
            steps: vec![
                P(1, 0, 0),
                P(2, 160, 20),
                P(4, 480, 40),
                P(3, 320, 45),
                P(6, 800, 60),
                P(5, 640, 70),
            ],
            frames: packets(0, &[1, 2, 3, 4, 5, 6]),
            stats: stats(6, 0, 0, 2, 0),
        },
        Case {
            name: "burst loss: five packets, five silence frames",
            config: pcmu(),
            steps: vec![
                P(1, 0, 0),
                P(2, 160, 20),
                P(8, 1120, 140),
                P(9, 1280, 160),
                Drain(339),
                Drain(340),
            ],
            frames: [packets(0, &[1, 2]), gaps(320, 5), packets(1120, &[8, 9])].concat(),
            stats: ReceiverStats {
                gap_frames: 5,
                ..stats(4, 5, 0, 0, 0)
            },
        },
        Case {
            name: "burst loss in A-law gets A-law silence",
            config: ReceiverConfig::new(AudioCodec::Pcma, PCMU),
            steps: vec![P(1, 0, 0), P(4, 480, 60), Drain(260)],
            frames: [packets(0, &[1]), gaps(160, 2), packets(480, &[4])].concat(),
            stats: ReceiverStats {
                gap_frames: 2,
                ..stats(2, 2, 0, 0, 0)
            },
        },
        Case {
            name: "a hole is held until the window passes, then the rest follows",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(3, 320, 40), P(4, 480, 60), Drain(200), P(5, 640, 80)],
            frames: [packets(0, &[1]), gaps(160, 1), packets(320, &[3, 4, 5])].concat(),
            stats: ReceiverStats {
                gap_frames: 1,
                ..stats(4, 1, 0, 0, 0)
            },
        },
        Case {
            name: "the packet window forces a hole out without a drain",
            config: ReceiverConfig {
                reorder_window_packets: 4,
                ..pcmu()
            },
            steps: vec![P(1, 0, 0), P(3, 320, 40), P(4, 480, 60), P(5, 640, 80), P(6, 800, 100)],
            frames: [packets(0, &[1]), gaps(160, 1), packets(320, &[3, 4, 5, 6])].concat(),
            stats: ReceiverStats {
                gap_frames: 1,
                ..stats(5, 1, 0, 0, 0)
            },
        },
        Case {
            name: "a packet after its hole was given up is late",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(3, 320, 40), Drain(240), P(2, 160, 250), P(4, 480, 260)],
            frames: [packets(0, &[1]), gaps(160, 1), packets(320, &[3, 4])].concat(),
            stats: ReceiverStats {
                gap_frames: 1,
                ..stats(3, 1, 0, 0, 1)
            },
        },
        Case {
            name: "duplicates of released and of held packets",
            config: pcmu(),
            steps: vec![
                P(1, 0, 0),
                P(2, 160, 20),
                P(2, 160, 21),
                P(4, 480, 40),
                P(4, 480, 41),
                P(3, 320, 45),
                P(1, 0, 50),
            ],
            frames: packets(0, &[1, 2, 3, 4]),
            stats: stats(4, 0, 3, 1, 0),
        },
        Case {
            // Found by fuzzing: the copy was once counted as reordered too.
            name: "a duplicate of a held packet is only a duplicate",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(3, 320, 40), P(4, 480, 60), P(3, 320, 61), P(2, 160, 70)],
            frames: packets(0, &[1, 2, 3, 4]),
            stats: stats(4, 0, 1, 1, 0),
        },
        Case {
            name: "SSRC change mid-stream: new sequence space, timeline continues",
            config: pcmu(),
            steps: vec![
                P(1, 0, 0),
                P(2, 160, 20),
                S(B, 40_000, 987_654, 40),
                S(B, 40_001, 987_814, 60),
                P(3, 320, 65), // a straggler of the old source
                S(B, 40_002, 987_974, 80),
            ],
            frames: [packets(0, &[1, 2]), packets(320, &[0x40, 0x41, 0x42])].concat(),
            stats: ReceiverStats {
                ssrc_changes: 1,
                ..stats(5, 0, 0, 0, 1)
            },
        },
        Case {
            name: "a source that returns after the straggler window is a change back",
            config: pcmu(),
            steps: vec![
                P(1, 0, 0),
                S(B, 50, 9000, 20),
                S(B, 51, 9160, 40),
                P(2, 160, 300),
                P(3, 320, 320),
            ],
            // A returns at 300 ms: the wall clock puts it after B's audio, with the
            // silence of the 220 ms without packets.
            frames: [
                packets(0, &[1]),
                packets(160, &[50, 51]),
                gaps(480, 12),
                packets(2400, &[2, 3]),
            ]
            .concat(),
            stats: ReceiverStats {
                ssrc_changes: 2,
                gap_frames: 12,
                ..stats(5, 0, 0, 0, 0)
            },
        },
        Case {
            name: "SSRC change after a pause: the wall clock places the new source",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(2, 160, 20), S(B, 7, 5, 140), S(B, 8, 165, 160)],
            frames: [packets(0, &[1, 2]), gaps(320, 5), packets(1120, &[7, 8])].concat(),
            stats: ReceiverStats {
                ssrc_changes: 1,
                gap_frames: 5,
                ..stats(4, 0, 0, 0, 0)
            },
        },
        Case {
            name: "telephone-event packets take sequence numbers but no audio",
            config: pcmu(),
            steps: vec![P(1, 0, 0), E(2, 160, 20), E(3, 160, 40), E(4, 160, 60), P(5, 800, 80)],
            frames: [packets(0, &[1]), gaps(160, 4), packets(800, &[5])].concat(),
            stats: ReceiverStats {
                other_payload: 3,
                gap_frames: 4,
                ..stats(5, 0, 0, 0, 0)
            },
        },
        Case {
            name: "silence suppression: a timestamp jump is filled, nothing lost",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(2, 160, 20), P(3, 8160, 1020)],
            frames: [packets(0, &[1, 2]), gaps(320, 49), packets(8160, &[3])].concat(),
            stats: ReceiverStats {
                gap_frames: 49,
                ..stats(3, 0, 0, 0, 0)
            },
        },
        Case {
            name: "a bogus timestamp jump is bounded by the wall clock",
            config: ReceiverConfig {
                max_lead_ms: 100,
                ..pcmu()
            },
            steps: vec![P(1, 0, 0), P(2, 1_000_000, 20), P(3, 1_000_160, 40)],
            // Allowed end: wall 20 ms + 100 ms lead = 960 ticks; the packet starts at 960.
            frames: [packets(0, &[1]), gaps(160, 5), packets(960, &[2, 3])].concat(),
            stats: ReceiverStats {
                gap_frames: 5,
                timestamp_jumps: 1,
                ..stats(3, 0, 0, 0, 0)
            },
        },
        Case {
            name: "a sequence restart is confirmed by the next packet",
            config: pcmu(),
            steps: vec![
                P(1, 0, 0),
                P(2, 160, 20),
                P(30_000, 320, 40),
                P(30_001, 480, 60),
                P(30_002, 640, 80),
            ],
            // The restarted sequence is placed by the wall clock: the dropped first
            // packet of the jump leaves 20 ms of silence.
            frames: [packets(0, &[1, 2]), gaps(320, 1), packets(480, &[0x31, 0x32])].concat(),
            stats: ReceiverStats {
                sequence_resets: 1,
                gap_frames: 1,
                ..stats(4, 0, 0, 0, 1)
            },
        },
        Case {
            name: "a long outage within the dropout limit is counted lost and filled",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(1001, 160_000, 20_000), P(1002, 160_160, 20_020)],
            frames: [packets(0, &[1]), gaps(160, 999), packets(160_000, &[0xE9, 0xEA])].concat(),
            stats: ReceiverStats {
                gap_frames: 999,
                ..stats(3, 999, 0, 0, 0)
            },
        },
        Case {
            name: "flush counts trailing holes lost",
            config: pcmu(),
            steps: vec![P(1, 0, 0), P(4, 480, 60), Flush],
            frames: [packets(0, &[1]), gaps(160, 2), packets(480, &[4])].concat(),
            stats: ReceiverStats {
                gap_frames: 2,
                ..stats(2, 2, 0, 0, 0)
            },
        },
    ]
}

#[test]
fn receiver_scenarios() {
    for case in cases() {
        let (frames, stats) = run(case.config, &case.steps);
        assert_eq!(frames, case.frames, "{}: frames", case.name);
        assert_eq!(stats, case.stats, "{}: stats", case.name);
    }
}

#[test]
fn long_stream_with_loss_and_reordering_stays_aligned() {
    // 10,000 packets across two sequence wraps; every 97th lost, every 13th swapped
    // with its successor. The output must cover exactly the sent span.
    let mut receiver = StreamReceiver::new(pcmu());
    let mut batch = FrameBatch::new();
    let mut order: Vec<u32> = (0..10_000).collect();
    for i in (1..order.len() - 1).step_by(13) {
        order.swap(i, i + 1);
    }
    let lost: Vec<u32> = order.iter().copied().filter(|n| n % 97 == 50).collect();
    let mut total = 0u64;
    let mut gap_ticks = 0u64;
    for (k, &n) in order.iter().enumerate() {
        if n % 97 == 50 {
            continue;
        }
        let seq = (60_000 + n) as u16;
        let payload = [0x55u8; 160];
        receiver.push(&RtpPacket::new(0, seq, n * 160, A, &payload), k as u64 * 20);
        receiver.drain_ready_into(k as u64 * 20, &mut batch);
        total += batch.total_ticks();
        gap_ticks += batch
            .iter()
            .filter(|f| f.was_gap)
            .map(|f| u64::from(f.duration))
            .sum::<u64>();
    }
    receiver.flush_into(&mut batch);
    total += batch.total_ticks();
    let s = receiver.stats();
    assert_eq!(total, 10_000 * 160);
    assert_eq!(gap_ticks, lost.len() as u64 * 160);
    assert_eq!(s.lost, lost.len() as u64);
    assert_eq!(s.received, 10_000 - lost.len() as u64);
    assert_eq!((s.duplicates, s.late_dropped, s.ssrc_changes), (0, 0, 0));
    assert!(s.reordered > 700, "{s:?}");
}

#[test]
fn opus_gaps_are_empty_frames_measured_from_the_toc() {
    let config = ReceiverConfig::new(AudioCodec::Opus, 111);
    let mut receiver = StreamReceiver::new(config);
    let packet = [0x08u8, 1, 2, 3]; // SILK narrowband 20 ms: 960 ticks at 48 kHz
    for (seq, ts, at) in [(1u16, 0u32, 0u64), (2, 960, 20), (5, 3840, 80)] {
        receiver.push(&RtpPacket::new(111, seq, ts, A, &packet), at);
    }
    let batch = receiver.flush();
    let frames: Vec<(u64, u32, bool, usize)> = batch
        .iter()
        .map(|f| (f.timeline, f.duration, f.was_gap, f.payload.len()))
        .collect();
    assert_eq!(
        frames,
        vec![
            (0, 960, false, 4),
            (960, 960, false, 4),
            (1920, 960, true, 0),
            (2880, 960, true, 0),
            (3840, 960, false, 4)
        ]
    );
    assert_eq!(receiver.stats().lost, 2);
}

#[test]
fn dtmf_timestamps_map_onto_the_audio_timeline() {
    let mut receiver = StreamReceiver::new(pcmu());
    let payload = [0xFFu8; 160];
    assert_eq!(receiver.first_arrival_ms(), None);
    receiver.push(&RtpPacket::new(0, 1, 50_000, A, &payload), 0);
    assert_eq!(receiver.first_arrival_ms(), Some(0));
    receiver.push(&RtpPacket::new(0, 2, 50_160, A, &payload), 20);
    assert_eq!(receiver.timeline_position(50_320), Some(320));
    assert_eq!(receiver.ticks_to_ms(320), 40);
    assert_eq!(receiver.ssrc(), Some(A));
    assert_eq!(receiver.timeline_end(), 320);
}
