//! Raw speed of the chunk AEAD and the digest on this machine (GB/s), to explain the
//! vault write figures in BENCHMARKS.md. `cargo bench -p vault --bench chunk_crypto`.

use std::time::Instant;

fn main() {
    let audio: Vec<u8> = (0..64 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let key = vault::SecretKey::random();
    let binding = vault::StreamBinding {
        recording_id: uuid::Uuid::from_u128(1),
        stream_index: 0,
    };
    let sealer = vault::ChunkSealer::new(&key, binding);
    let mut out = Vec::with_capacity(audio.len() + (1 << 20));
    for round in 0..3 {
        out.clear();
        let start = Instant::now();
        for (i, chunk) in audio.chunks(8000).enumerate() {
            sealer.seal(i as u64, false, chunk, &mut out);
        }
        let seal = start.elapsed();
        let start = Instant::now();
        let digest = blake3::hash(&audio);
        let hash = start.elapsed();
        let start = Instant::now();
        let copy = audio.clone();
        let copied = start.elapsed();
        let gbps = |d: std::time::Duration| audio.len() as f64 / d.as_secs_f64() / 1e9;
        println!(
            "round {round}: AES-256-GCM seal (8 kB chunks) {:.2} GB/s, BLAKE3 {:.2} GB/s, memcpy {:.2} GB/s ({} {})",
            gbps(seal),
            gbps(hash),
            gbps(copied),
            digest.as_bytes()[0],
            copy[7]
        );
    }
}
