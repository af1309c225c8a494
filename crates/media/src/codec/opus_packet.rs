//! Opus packet duration from the table-of-contents byte (RFC 6716 §3.1), in pure
//! Rust: the jitter buffer needs it to place Opus packets on the timeline without
//! decoding them.

/// Samples at 48 kHz of one frame, by TOC configuration number (`toc >> 3`).
const FRAME_SAMPLES_48K: [u32; 32] = [
    480, 960, 1920, 2880, // SILK narrowband: 10, 20, 40, 60 ms
    480, 960, 1920, 2880, // SILK mediumband
    480, 960, 1920, 2880, // SILK wideband
    480, 960, // Hybrid super-wideband: 10, 20 ms
    480, 960, // Hybrid fullband
    120, 240, 480, 960, // CELT narrowband: 2.5, 5, 10, 20 ms
    120, 240, 480, 960, // CELT wideband
    120, 240, 480, 960, // CELT super-wideband
    120, 240, 480, 960, // CELT fullband
];

/// The most audio one Opus packet may hold: 120 ms at 48 kHz.
pub const OPUS_MAX_PACKET_SAMPLES: u32 = 5760;

/// The duration of an Opus packet in 48 kHz samples (= RTP ticks for Opus), or
/// `None` when the packet is empty or its TOC is inconsistent (code 3 with zero
/// frames or a missing count byte, or more than 120 ms).
pub fn opus_packet_samples(packet: &[u8]) -> Option<u32> {
    let &toc = packet.first()?;
    let frame = *FRAME_SAMPLES_48K.get(usize::from(toc >> 3))?;
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(packet.get(1)? & 0x3F),
    };
    let total = frame.checked_mul(frames)?;
    (frames > 0 && total <= OPUS_MAX_PACKET_SAMPLES).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_by_toc() {
        let cases: &[(&[u8], Option<u32>)] = &[
            (&[], None),
            (&[0x08], Some(960)),
            (&[0x0B, 0x03], Some(2880)), // SILK NB 20 ms, code 3, three frames             // SILK NB 20 ms, one frame
            (&[0x1B, 0x03], None),       // code 3 with 3 frames of 60 ms = 180 ms
            (&[0x1B, 0x02], Some(5760)), // code 3, 2 frames of 60 ms
            (&[0x1B, 0x00], None),       // code 3, zero frames
            (&[0x1B], None),             // code 3 without count byte
            (&[0xF8 | 0x01], Some(1920)), // CELT FB 20 ms, two frames
            (&[0x80], Some(120)),        // CELT NB 2.5 ms
            (&[0x78 | 0x02, 0, 0], Some(1920)), // Hybrid FB 20 ms, code 2
        ];
        for &(packet, expected) in cases {
            assert_eq!(opus_packet_samples(packet), expected, "{packet:02x?}");
        }
    }
}
