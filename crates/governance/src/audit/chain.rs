//! Verifying the chain: fed the stored events in order, it names the first one that is
//! missing, moved, altered or unlinked, or that differs from a signed checkpoint.

use std::fmt;

use super::GENESIS_HASH;
use super::record::{RecordError, RecordView};

/// A point the log must still pass through: the hash of event `seq`, from a signed
/// checkpoint (stored with the log, or kept elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: [u8; 32],
    /// Where it comes from, for the message (e.g. "the kept checkpoint").
    pub source: String,
}

/// What is wrong with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not stored: the next stored event has a higher number (deleted).
    Missing { next_stored: i64 },
    /// Not stored: the log ends before it, but a checkpoint covers it (tail cut off).
    Truncated { last: i64, source: String, covered: i64 },
    /// The stored bytes are not a record.
    Undecodable(RecordError),
    /// Stored in this place but holds another event's record (moved or swapped).
    Misplaced { holds: i64 },
    /// Its `prev_hash` is not the hash of the event before it.
    BrokenLink,
    /// Its content does not match its hash.
    Altered,
    /// Its hash is not the one a signed checkpoint recorded.
    DiffersFromCheckpoint { source: String },
    /// A checkpoint of this event whose signature does not verify.
    BadSignature { source: String },
    /// A checkpoint of this event signed by a key that is not this log's.
    UnknownKey { source: String, key_id: String },
}

/// The first bad event and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFault {
    pub seq: i64,
    pub problem: Problem,
}

impl fmt::Display for AuditFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        write!(f, "event {seq}: ")?;
        match &self.problem {
            Problem::Missing { next_stored } => {
                write!(f, "is missing (deleted: the next stored event is {next_stored})")
            }
            Problem::Truncated { last, source, covered } => write!(
                f,
                "is missing (truncated: the log ends at event {last} but {source} covers event {covered})"
            ),
            Problem::Undecodable(err) => write!(f, "cannot be read ({err}): altered or corrupt"),
            Problem::Misplaced { holds } => {
                write!(f, "holds the record of event {holds} (events moved or swapped)")
            }
            Problem::BrokenLink => write!(
                f,
                "does not follow event {}: its prev_hash is not that event's hash",
                seq - 1
            ),
            Problem::Altered => write!(f, "its content does not match its hash (altered)"),
            Problem::DiffersFromCheckpoint { source } => {
                write!(f, "its hash differs from {source} (the log was rewritten up to here)")
            }
            Problem::BadSignature { source } => {
                write!(f, "the signature of {source} does not verify (forged or altered)")
            }
            Problem::UnknownKey { source, key_id } => {
                write!(f, "{source} is signed by key {key_id}, which is not this log's key")
            }
        }
    }
}

impl std::error::Error for AuditFault {}

/// The end of a verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The last event (0 for an empty log).
    pub seq: i64,
    /// Its hash, hex ([`GENESIS_HASH`] for an empty log).
    pub hash: String,
}

/// Checks stored events one at a time, in order. Cloning it saves its place.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next: i64,
    prev_hex: [u8; 64],
    /// Sorted by seq; `anchor_at` is the first not yet reached.
    anchors: Vec<Anchor>,
    anchor_at: usize,
}

impl ChainVerifier {
    pub fn new(mut anchors: Vec<Anchor>) -> Self {
        anchors.sort_by_key(|a| a.seq);
        let mut prev_hex = [0u8; 64];
        prev_hex.copy_from_slice(GENESIS_HASH.as_bytes());
        ChainVerifier {
            next: 1,
            prev_hex,
            anchors,
            anchor_at: 0,
        }
    }

    /// The next stored event: its place (`seq` as stored), record and hash.
    pub fn push(&mut self, seq: i64, record: &[u8], stored_hash: &[u8]) -> Result<(), AuditFault> {
        let fault = |seq, problem| AuditFault { seq, problem };
        if seq != self.next {
            return Err(fault(self.next, Problem::Missing { next_stored: seq }));
        }
        let view = RecordView::parse(record).map_err(|e| fault(seq, Problem::Undecodable(e)))?;
        if view.seq != seq {
            return Err(fault(seq, Problem::Misplaced { holds: view.seq }));
        }
        if view.prev_hash.as_bytes() != self.prev_hex {
            return Err(fault(seq, Problem::BrokenLink));
        }
        let hash = view.hash().map_err(|e| fault(seq, Problem::Undecodable(e)))?;
        if hash.as_slice() != stored_hash {
            return Err(fault(seq, Problem::Altered));
        }
        while let Some(anchor) = self.anchors.get(self.anchor_at).filter(|a| a.seq <= seq) {
            if anchor.seq == seq && anchor.hash != hash {
                return Err(fault(
                    seq,
                    Problem::DiffersFromCheckpoint {
                        source: anchor.source.clone(),
                    },
                ));
            }
            self.anchor_at += 1;
        }
        hex::encode_to_slice(hash, &mut self.prev_hex).expect("64 hex digits for 32 bytes");
        self.next += 1;
        Ok(())
    }

    /// After the last stored event: a checkpoint beyond it means the tail was cut off.
    pub fn finish(self) -> Result<ChainHead, AuditFault> {
        let last = self.next - 1;
        if let Some(anchor) = self.anchors.iter().skip(self.anchor_at).find(|a| a.seq > last) {
            return Err(AuditFault {
                seq: self.next,
                problem: Problem::Truncated {
                    last,
                    source: anchor.source.clone(),
                    covered: anchor.seq,
                },
            });
        }
        Ok(ChainHead {
            seq: last,
            hash: String::from_utf8_lossy(&self.prev_hex).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::audit::record::encode_record;
    use crate::audit::{AuditEvent, Outcome};

    /// A chain of `n` stored events: (seq, record, hash).
    fn chain(n: i64) -> Vec<(i64, Vec<u8>, Vec<u8>)> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let at = chrono::DateTime::from_timestamp(1_800_000_000 + seq, 0).unwrap();
                let event = AuditEvent::new(at, "alice", "recording.export", Outcome::Allowed);
                let record = encode_record(seq, &prev, &event);
                let hash = Sha256::digest(&record).to_vec();
                prev = hex::encode(&hash);
                (seq, record, hash)
            })
            .collect()
    }

    fn verify(rows: &[(i64, Vec<u8>, Vec<u8>)], anchors: Vec<Anchor>) -> Result<ChainHead, AuditFault> {
        let mut verifier = ChainVerifier::new(anchors);
        for (seq, record, hash) in rows {
            verifier.push(*seq, record, hash)?;
        }
        verifier.finish()
    }

    fn anchor(rows: &[(i64, Vec<u8>, Vec<u8>)], seq: i64) -> Anchor {
        Anchor {
            seq,
            hash: rows[(seq - 1) as usize].2.clone().try_into().unwrap(),
            source: "the kept checkpoint".into(),
        }
    }

    #[test]
    fn an_untouched_chain_verifies_to_its_head() {
        let rows = chain(5);
        let head = verify(&rows, vec![anchor(&rows, 3), anchor(&rows, 5)]).unwrap();
        assert_eq!((head.seq, head.hash), (5, hex::encode(&rows[4].2)));
        assert_eq!(verify(&[], vec![]).unwrap().seq, 0);
    }

    /// Each tampering, as data: what is done to a chain of 6, and the fault expected.
    #[test]
    fn tampering_names_the_first_bad_event() {
        type Tamper = fn(&mut Vec<(i64, Vec<u8>, Vec<u8>)>);
        let cases: Vec<(&str, Tamper, i64, &str)> = vec![
            (
                "flip a byte",
                |r| {
                    let at = r[2].1.windows(5).position(|w| w == b"alice").unwrap();
                    r[2].1[at] ^= 1;
                },
                3,
                "altered",
            ),
            ("flip a hash byte", |r| r[3].2[0] ^= 1, 4, "altered"),
            ("delete one", |r| drop(r.remove(3)), 4, "deleted"),
            (
                "swap two",
                |r| {
                    let (a, b) = (r[1].clone(), r[2].clone());
                    r[1] = (2, b.1, b.2);
                    r[2] = (3, a.1, a.2);
                },
                2,
                "holds the record of event 3",
            ),
            ("truncate the tail", |r| r.truncate(4), 5, "truncated"),
            ("cut a record short", |r| r[0].1.truncate(10), 1, "cannot be read"),
        ];
        for (name, tamper, seq, says) in cases {
            let mut rows = chain(6);
            let anchors = vec![anchor(&rows, 6)];
            tamper(&mut rows);
            let fault = verify(&rows, anchors).expect_err(name);
            assert_eq!(fault.seq, seq, "{name}: {fault}");
            assert!(fault.to_string().contains(says), "{name}: {fault}");
        }
    }

    #[test]
    fn a_rewritten_chain_differs_from_its_checkpoint() {
        let rows = chain(4);
        let kept = anchor(&rows, 3);
        // Whoever holds the database rewrites event 2 and recomputes every hash after it.
        let mut prev = hex::encode(&rows[0].2);
        let mut rewritten = vec![rows[0].clone()];
        for seq in 2..=4 {
            let at = chrono::DateTime::from_timestamp(1_800_000_000 + seq, 0).unwrap();
            let event = AuditEvent::new(at, "mallory", "recording.export", Outcome::Allowed);
            let record = encode_record(seq, &prev, &event);
            let hash = Sha256::digest(&record).to_vec();
            prev = hex::encode(&hash);
            rewritten.push((seq, record, hash));
        }
        let fault = verify(&rewritten, vec![kept]).unwrap_err();
        assert_eq!(fault.seq, 3);
        assert!(
            matches!(fault.problem, Problem::DiffersFromCheckpoint { .. }),
            "{fault}"
        );
    }

    #[test]
    fn a_broken_link_names_the_event_that_does_not_follow() {
        let mut rows = chain(3);
        let event = AuditEvent::new(
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            "x",
            "y",
            Outcome::Done,
        );
        let record = encode_record(2, GENESIS_HASH, &event);
        rows[1] = (2, record.clone(), Sha256::digest(&record).to_vec());
        let fault = verify(&rows, vec![]).unwrap_err();
        assert_eq!((fault.seq, fault.problem), (2, Problem::BrokenLink));
    }
}
