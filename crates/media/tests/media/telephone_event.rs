//! RFC 4733 telephone-events: packet sequences as data, the digits they yield.

use media::dtmf::{DtmfDigit, TelephoneEvent, TelephoneEventTracker};
use media::rtp::RtpPacket;

const SSRC: u32 = 0x5151_0001;

/// A telephone-event packet: (timestamp, marker, event, end, duration); SSRC fixed.
type Pkt = (u32, bool, u8, bool, u16);

/// The packets a typical sender emits for one key: start with marker, updates every
/// 20 ms, and the end packet three times.
fn key(event: u8, ts: u32, duration: u16) -> Vec<Pkt> {
    let mut v = vec![(ts, true, event, false, 160)];
    let mut d = 320;
    while d < duration {
        v.push((ts, false, event, false, d));
        d += 160;
    }
    v.extend([(ts, false, event, true, duration); 3]);
    v
}

/// Digits as (char, start ms, end ms, ended).
type Digit = (char, i64, i64, bool);

fn track(packets: &[Pkt]) -> Vec<Digit> {
    let mut tracker = TelephoneEventTracker::new(8000);
    tracker.set_origin(0);
    let mut digits = Vec::new();
    for (i, &(ts, marker, event, end, duration)) in packets.iter().enumerate() {
        let payload = TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes();
        let mut packet = RtpPacket::new(101, i as u16, ts, SSRC, &payload);
        packet.marker = marker;
        if let Some(d) = tracker.push(&packet).unwrap() {
            digits.push((d.digit.as_char(), d.start_ms, d.end_ms, d.ended));
        }
    }
    if let Some(d) = tracker.flush() {
        digits.push((d.digit.as_char(), d.start_ms, d.end_ms, d.ended));
    }
    digits
}

#[test]
fn packet_sequences_give_each_digit_once() {
    let cases: Vec<(&str, Vec<Pkt>, Vec<Digit>)> = vec![
        (
            "one key, end sent three times",
            key(1, 8000, 960),
            vec![('1', 1000, 1120, true)],
        ),
        (
            "start packet repeated three times",
            [vec![(8000, true, 5, false, 0); 3], key(5, 8000, 800)].concat(),
            vec![('5', 1000, 1100, true)],
        ),
        (
            "the same key twice",
            [key(9, 0, 800), key(9, 2400, 800)].concat(),
            vec![('9', 0, 100, true), ('9', 300, 400, true)],
        ),
        (
            "all end packets lost: cut off by the next key",
            [key(2, 0, 800)[..3].to_vec(), key(3, 4000, 480)].concat(),
            vec![('2', 0, 60, false), ('3', 500, 560, true)],
        ),
        (
            "all end packets lost at the end of the stream",
            key(4, 800, 800)[..4].to_vec(),
            vec![('4', 100, 180, false)],
        ),
        (
            "a late update after the end is ignored",
            [key(7, 1600, 640), vec![(1600, false, 7, false, 480)]].concat(),
            vec![('7', 200, 280, true)],
        ),
        (
            "an end packet alone still counts",
            vec![(16000, false, 0, true, 400)],
            vec![('0', 2000, 2050, true)],
        ),
        (
            "a long key continues in a new segment",
            vec![
                (0, true, 11, false, 160),
                (0, false, 11, false, 65535),
                (65535, false, 11, false, 4000),
                (65535, false, 11, true, 8000),
                (65535, false, 11, true, 8000),
            ],
            vec![('#', 0, (65535 + 8000) * 1000 / 8000, true)],
        ),
        ("non-DTMF events are ignored", key(16, 0, 800), vec![]),
        (
            "an older event after a newer one is ignored",
            [key(1, 8000, 480), key(2, 4000, 480)].concat(),
            vec![('1', 1000, 1060, true)],
        ),
    ];
    for (name, packets, expected) in cases {
        assert_eq!(track(&packets), expected, "{name}");
    }
}

#[test]
fn every_key_of_the_keypad() {
    let keys = "0123456789*#ABCD";
    let mut packets = Vec::new();
    for (i, c) in keys.chars().enumerate() {
        let digit = DtmfDigit::from_char(c).unwrap();
        packets.extend(key(digit.event_code(), i as u32 * 2000, 800));
    }
    let got: String = track(&packets).iter().map(|d| d.0).collect();
    assert_eq!(got, keys);
}

#[test]
fn a_new_source_cuts_off_the_key_in_progress() {
    let mut tracker = TelephoneEventTracker::new(8000);
    let start = TelephoneEvent {
        event: 1,
        end: false,
        volume: 10,
        duration: 160,
    }
    .to_bytes();
    let end = TelephoneEvent {
        event: 1,
        end: true,
        volume: 10,
        duration: 320,
    }
    .to_bytes();
    assert_eq!(tracker.push(&RtpPacket::new(101, 1, 100, 1, &start)).unwrap(), None);
    assert_eq!(tracker.in_progress(), Some((DtmfDigit::D1, 100)));
    let cut = tracker.push(&RtpPacket::new(101, 9, 5000, 2, &start)).unwrap().unwrap();
    assert_eq!((cut.ssrc, cut.ended, cut.start_ms), (1, false, 0));
    let done = tracker.push(&RtpPacket::new(101, 10, 5000, 2, &end)).unwrap().unwrap();
    assert_eq!((done.ssrc, done.ended, done.duration), (2, true, 320));
}

#[test]
fn payload_parse_and_errors() {
    assert_eq!(
        TelephoneEvent::parse(&[11, 0x8A, 0x03, 0x20]),
        Ok(TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800
        })
    );
    assert_eq!(
        TelephoneEvent::parse(&[11, 0x8A, 0x03]).map_err(|e| e.code()),
        Err("dtmf-too-short")
    );
    let mut tracker = TelephoneEventTracker::new(8000);
    assert_eq!(
        tracker.push(&RtpPacket::new(101, 1, 0, 1, &[1])).map_err(|e| e.code()),
        Err("dtmf-too-short")
    );
    for code in 0..16 {
        let digit = DtmfDigit::from_event(code).unwrap();
        assert_eq!(digit.event_code(), code);
        assert_eq!(DtmfDigit::from_char(digit.as_char()), Some(digit));
    }
    assert_eq!(DtmfDigit::from_event(16), None);
}
