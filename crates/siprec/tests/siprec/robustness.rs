//! No panic on any input: a deterministic loop of mutated interop offers through every parser
//! and the answer builder (the cargo-fuzz targets do the same, longer, with coverage).

use siprec::{build_answer, parse_metadata, parse_offer, parse_sdp, split_multipart};

use crate::support::{answer_params, offers_dir, read_offer, to_crlf};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).expect("fits")).expect("fits")
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"--",
    b"<",
    b">",
    b"/>",
    b"&",
    b"&#x0;",
    b"=",
    b":",
    b";",
    b" ",
    b"\0",
    b"\xff",
    b"m=audio ",
    b"a=rtpmap:",
    b"c=IN IP4 ",
    b"<participant>",
    b"</recording>",
    b"boundary",
    b"99999999999",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at.min(end)..end);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                data.splice(at..at, piece.iter().copied());
            }
            2 if at < data.len() => data[at] = u8::try_from(rng.below(256)).expect("byte"),
            3 => data.truncate(at),
            _ => {
                let from = rng.below(data.len() + 1);
                let end = (from + rng.below(128)).min(data.len());
                let copy: Vec<u8> = data[from..end].to_vec();
                data.splice(at..at, copy);
            }
        }
    }
    data
}

fn boundary_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().find(|l| l.starts_with("--")).unwrap_or("--x");
    format!(
        "multipart/mixed;boundary=\"{}\"",
        line.trim_end().trim_start_matches('-')
    )
}

#[test]
fn mutated_offers_never_panic() {
    let mut files: Vec<String> = std::fs::read_dir(offers_dir())
        .expect("offers")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut accepted = 0usize;
    for file in &files {
        let lf = read_offer(file);
        let content_type = boundary_of(&lf);
        for seed in [lf.clone(), to_crlf(&lf)] {
            for _ in 0..400 {
                let data = mutate(&mut rng, &seed);
                let _ = split_multipart(&content_type, &data);
                let _ = parse_sdp(&data);
                let _ = parse_metadata(&data);
                if let Ok(offer) = parse_offer(&content_type, &data) {
                    accepted += 1;
                    let (text, streams) = build_answer(&offer.sdp, &answer_params(offer.sdp.media.len()));
                    assert_eq!(streams.len(), offer.sdp.media.len());
                    let answer = parse_sdp(text.as_bytes()).expect("an answer always parses");
                    assert_eq!(answer.media.len(), offer.sdp.media.len());
                    if let Ok(metadata) = &offer.metadata {
                        let mut copy = metadata.clone();
                        let _ = copy.apply_partial(metadata);
                        let _ = metadata.calling_participant();
                    }
                }
            }
        }
    }
    assert!(
        accepted > 100,
        "the mutations should leave many offers usable ({accepted})"
    );
}
