//! Fuzz target: `parse_wav` must never panic, and accepted audio must be consistent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use media::wav::{decode_to_pcm16, parse_wav};

fuzz_target!(|data: &[u8]| {
    if let Ok(audio) = parse_wav(data) {
        assert!(!audio.data.is_empty());
        assert_eq!(audio.data.len() % audio.block_align(), 0);
        let _ = audio.duration_ms();
        let channels = audio.split_channels();
        assert_eq!(channels.len(), usize::from(audio.channels));
        for channel in &channels {
            let pcm = decode_to_pcm16(audio.encoding, channel);
            assert_eq!(pcm.len(), channel.len() / audio.bytes_per_sample());
        }
    }
});
