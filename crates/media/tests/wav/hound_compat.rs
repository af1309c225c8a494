//! Cross-checks against the independent `hound` WAV implementation.

use crate::support::*;
use media::wav::{parse_wav, write_wav_pcm16};

#[test]
fn hound_reads_what_write_wav_pcm16_writes() {
    for channels in [1usize, 2, 3] {
        let input: Vec<Vec<i16>> = (0..channels).map(|c| tone(300, c)).collect();
        let bytes = write_wav_pcm16(22050, &input);
        let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes)).unwrap();
        let spec = reader.spec();
        assert_eq!(spec.channels as usize, channels);
        assert_eq!(spec.sample_rate, 22050);
        assert_eq!(spec.bits_per_sample, 16);
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        for (i, s) in samples.iter().enumerate() {
            assert_eq!(*s, input[i % channels][i / channels]);
        }
        assert_eq!(samples.len(), 300 * channels);
    }
}

#[test]
fn parse_wav_reads_what_hound_writes() {
    // hound writes WAVE_FORMAT_EXTENSIBLE for more than two channels.
    for channels in [1u16, 2, 3] {
        let spec = hound::WavSpec {
            channels,
            sample_rate: 48000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        let input: Vec<Vec<i16>> = (0..usize::from(channels)).map(|c| tone(120, c)).collect();
        for i in 0..120 {
            for ch in &input {
                writer.write_sample(ch[i]).unwrap();
            }
        }
        writer.finalize().unwrap();
        let parsed = parse_wav(cursor.get_ref()).unwrap();
        assert_eq!((parsed.channels, parsed.sample_rate), (channels, 48000));
        assert_eq!(parsed.to_pcm16_channels(), input);
    }
}
