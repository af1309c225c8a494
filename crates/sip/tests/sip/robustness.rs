//! No input makes the parser or the framer panic: every data file truncated at every
//! length, and deterministic random mutations of them.

use sip::{Transport, error_response, frame_stream, parse_message};

use crate::support::{data, sip_files};

fn all_files() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for dir in ["valid", "malformed"] {
        for name in sip_files(dir) {
            files.push(data(&format!("{dir}/{name}")));
        }
    }
    files
}

fn exercise(bytes: &[u8]) {
    for transport in [Transport::Udp, Transport::Tcp] {
        match parse_message(bytes, transport) {
            Ok(message) => {
                let _ = (
                    message.call_id(),
                    message.cseq(),
                    message.from(),
                    message.to(),
                    message.vias(),
                );
                let _ = (
                    message.contacts(),
                    message.content_type(),
                    message.require(),
                    message.session_expires(),
                );
                let _ = (
                    message.history_info(),
                    message.diversion(),
                    message.max_forwards(),
                    message.min_se(),
                );
                if message.is_request() {
                    let response = sip::ResponseBuilder::new(&message, 200, "OK").to_tag("t").build();
                    parse_message(&response, Transport::Tcp).expect("our response to an accepted request parses");
                }
            }
            Err(error) => {
                let _ = (
                    error.code(),
                    error.status(),
                    error.reason_phrase(),
                    error_response(bytes, &error),
                );
            }
        }
    }
    let _ = frame_stream(bytes);
}

#[test]
fn every_prefix_of_every_file_is_handled_without_panic() {
    for file in all_files() {
        for len in 0..=file.len().min(3000) {
            exercise(&file[..len]);
        }
    }
}

#[test]
fn random_mutations_are_handled_without_panic() {
    let files = all_files();
    let mut state: u64 = 0x1234_5678_9abc_def0;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let interesting = b"\r\n\t :;,<>\"\\/=@%\0\xff0123456789abcSIP";
    for round in 0..20_000 {
        let mut bytes = files[round % files.len()].clone();
        for _ in 0..(1 + next() % 8) {
            if bytes.is_empty() {
                break;
            }
            let at = (next() as usize) % bytes.len();
            match next() % 4 {
                0 => bytes[at] = interesting[(next() as usize) % interesting.len()],
                1 => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, interesting[(next() as usize) % interesting.len()]),
                _ => bytes.truncate(at),
            }
        }
        exercise(&bytes);
    }
}
