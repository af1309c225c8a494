//! RTCP on a call's shared port: what a compound packet says about the senders' streams
//! (sender reports and BYE), to be matched to the call's streams by SSRC.

use media::{RtcpCompound, RtcpError, RtcpPacket};

/// One fact about a sending source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpFact {
    /// The sender's cumulative packet and octet counts.
    SenderReport { ssrc: u32, packets: u32, octets: u32 },
    /// The source left.
    Bye { ssrc: u32 },
}

impl RtcpFact {
    pub fn ssrc(&self) -> u32 {
        match *self {
            RtcpFact::SenderReport { ssrc, .. } | RtcpFact::Bye { ssrc } => ssrc,
        }
    }
}

/// Appends the facts of one datagram to `facts`; receiver reports and source
/// descriptions say nothing about the streams recorded and are skipped.
pub fn facts_of(datagram: &[u8], facts: &mut Vec<RtcpFact>) -> Result<(), RtcpError> {
    let compound = RtcpCompound::parse(datagram)?;
    for packet in compound.packets() {
        match packet {
            RtcpPacket::SenderReport(sr) => facts.push(RtcpFact::SenderReport {
                ssrc: sr.ssrc,
                packets: sr.packet_count,
                octets: sr.octet_count,
            }),
            RtcpPacket::Goodbye(bye) => facts.extend(bye.ssrcs().map(|ssrc| RtcpFact::Bye { ssrc })),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A sender report without report blocks (RFC 3550 §6.4.1).
    pub(crate) fn sender_report(ssrc: u32, packets: u32, octets: u32) -> Vec<u8> {
        let mut p = vec![0x80, 200, 0, 6];
        for word in [ssrc, 0xE000_0000, 0, 160, packets, octets] {
            p.extend_from_slice(&word.to_be_bytes());
        }
        p
    }

    /// A BYE for `ssrcs` (RFC 3550 §6.6).
    pub(crate) fn bye(ssrcs: &[u32]) -> Vec<u8> {
        let mut p = vec![0x80 | ssrcs.len() as u8, 203, 0, ssrcs.len() as u8];
        for ssrc in ssrcs {
            p.extend_from_slice(&ssrc.to_be_bytes());
        }
        p
    }

    fn receiver_report(ssrc: u32) -> Vec<u8> {
        let mut p = vec![0x80, 201, 0, 1];
        p.extend_from_slice(&ssrc.to_be_bytes());
        p
    }

    #[test]
    fn compound_packets_give_sender_reports_and_byes() {
        // (datagram, its facts or None when refused)
        let cases: Vec<(Vec<u8>, Option<Vec<RtcpFact>>)> = vec![
            (
                [sender_report(7, 100, 16_000), bye(&[7, 9])].concat(),
                Some(vec![
                    RtcpFact::SenderReport {
                        ssrc: 7,
                        packets: 100,
                        octets: 16_000,
                    },
                    RtcpFact::Bye { ssrc: 7 },
                    RtcpFact::Bye { ssrc: 9 },
                ]),
            ),
            (receiver_report(3), Some(vec![])),
            (vec![0x80, 200, 0, 6, 1, 2], None),
            (vec![], None),
        ];
        for (datagram, expected) in cases {
            let mut facts = Vec::new();
            let got = facts_of(&datagram, &mut facts).ok().map(|()| facts);
            assert_eq!(got, expected, "datagram {datagram:02x?}");
        }
    }
}
